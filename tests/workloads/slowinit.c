/* A command that reaches its entry point late: its DT_NEEDED library
 * libslowinit.so sleeps SLOWINIT_MS (default 6000) in its constructor,
 * before the executable's entry, then main exits with status 0.
 * Usage: slowinit */
int slowinit_ready(void);

int main(void)
{
	return slowinit_ready() ? 0 : 1;
}
