/* netbench: loopback TCP traffic of a known size that times itself, for the
 * net benchmark (scripts/bench.py --only net).
 *
 *   netbench bulk WRITE TOTAL   a sender thread writes TOTAL bytes in
 *                               send() calls of WRITE bytes, the main
 *                               thread reads them (recv of up to 64 KiB)
 *   netbench rr WRITE COUNT     request/response: the main thread sends
 *                               WRITE bytes and waits for WRITE bytes back,
 *                               COUNT times; an echo thread answers each
 *
 * Both ends are threads of this one process on 127.0.0.1, so a profiler
 * filtering by the target's pid sees every call of both.  The process
 * stays on the CPU it started on: the two ends take turns there, so the
 * time measured is their work and the switches between them, not how soon
 * another CPU of a loaded machine wakes up from idle.  The connection
 * is made first; only the transfer is timed, with CLOCK_MONOTONIC, and one
 * line goes to stdout:
 *
 *   netbench: work_ns=N cpu_ns=N calls=N
 *
 * work_ns is the transfer's wall time, cpu_ns this process's user+sys CPU
 * time at the end (getrusage), calls the number of send() calls made. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RECV_BUF 65536

struct peer {
	int fd;
	size_t write;
	long long count; /* bulk: bytes; rr: messages */
	long long sends;
};

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static void send_all(struct peer *p, const char *buf, size_t n)
{
	while (n) {
		ssize_t w = send(p->fd, buf, n, 0);

		if (w <= 0)
			die("send");
		p->sends++;
		buf += w;
		n -= (size_t)w;
	}
}

/* One message of n bytes: a single call that waits for all of them. */
static void recv_all(int fd, char *buf, size_t n)
{
	if (recv(fd, buf, n, MSG_WAITALL) != (ssize_t)n)
		die("recv");
}

/* A connected pair on 127.0.0.1: fds[0] the client, fds[1] the server. */
static void connect_pair(int fds[2])
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int lfd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, len) ||
	    getsockname(lfd, (struct sockaddr *)&a, &len) || listen(lfd, 1))
		die("listen");
	fds[0] = socket(AF_INET, SOCK_STREAM, 0);
	if (fds[0] < 0 || connect(fds[0], (struct sockaddr *)&a, len))
		die("connect");
	fds[1] = accept(lfd, NULL, NULL);
	if (fds[1] < 0)
		die("accept");
	for (int i = 0; i < 2; i++)
		setsockopt(fds[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	close(lfd);
}

static void *bulk_sender(void *arg)
{
	struct peer *p = arg;
	char *buf = calloc(1, p->write);

	if (!buf)
		die("calloc");
	for (long long left = p->count; left > 0; left -= (long long)p->write)
		send_all(p, buf, left < (long long)p->write ? (size_t)left : p->write);
	shutdown(p->fd, SHUT_WR);
	free(buf);
	return NULL;
}

static void *rr_echo(void *arg)
{
	struct peer *p = arg;
	char *buf = calloc(1, p->write);

	if (!buf)
		die("calloc");
	for (long long i = 0; i < p->count; i++) {
		recv_all(p->fd, buf, p->write);
		send_all(p, buf, p->write);
	}
	free(buf);
	return NULL;
}

/* The main thread's half: drain the bulk stream, or ask COUNT times. */
static void run_main(const char *mode, struct peer *p)
{
	char *buf = calloc(1, p->write > RECV_BUF ? p->write : RECV_BUF);
	long long got = 0;
	ssize_t r;

	if (!buf)
		die("calloc");
	if (!strcmp(mode, "bulk")) {
		while ((r = recv(p->fd, buf, RECV_BUF, 0)) > 0)
			got += r;
		if (r < 0 || got != p->count)
			die("bulk recv");
	} else {
		for (long long i = 0; i < p->count; i++) {
			send_all(p, buf, p->write);
			recv_all(p->fd, buf, p->write);
		}
	}
	free(buf);
}

int main(int argc, char **argv)
{
	struct peer mine = { 0 }, other = { 0 };
	struct rusage ru;
	cpu_set_t cpu;
	pthread_t th;
	long long t0, t1;
	int fds[2], bulk;

	if (argc != 4 || (strcmp(argv[1], "bulk") && strcmp(argv[1], "rr")) || atol(argv[2]) <= 0 ||
	    atoll(argv[3]) <= 0) {
		fprintf(stderr, "usage: netbench bulk WRITE TOTAL | netbench rr WRITE COUNT\n");
		return 2;
	}
	bulk = !strcmp(argv[1], "bulk");
	CPU_ZERO(&cpu);
	CPU_SET(sched_getcpu(), &cpu);
	if (sched_setaffinity(0, sizeof(cpu), &cpu))
		die("sched_setaffinity");
	connect_pair(fds);
	mine.write = other.write = (size_t)atol(argv[2]);
	mine.count = other.count = atoll(argv[3]);
	/* bulk: the thread sends on the client, main reads on the server */
	mine.fd = bulk ? fds[1] : fds[0];
	other.fd = bulk ? fds[0] : fds[1];
	t0 = now_ns();
	if (pthread_create(&th, NULL, bulk ? bulk_sender : rr_echo, &other))
		die("pthread_create");
	run_main(argv[1], &mine);
	pthread_join(th, NULL);
	t1 = now_ns();
	getrusage(RUSAGE_SELF, &ru);
	printf("netbench: work_ns=%lld cpu_ns=%lld calls=%lld\n", t1 - t0,
	       (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000LL +
		       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000LL,
	       mine.sends + other.sends);
	close(fds[0]);
	close(fds[1]);
	return 0;
}
