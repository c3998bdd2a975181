/* Client and server of known traffic over loopback, in one process and one
 * thread, so every byte is known exactly.
 *
 *   netpair tcp HOST CONNS REQS QBYTES ABYTES DELAY_MS [START]
 *     opens CONNS connections to its own listener on HOST (127.0.0.1 or
 *     ::1), then waits at the start gate (gate.h): with START "sig" the
 *     sockets exist before the profiler attaches.  Then on each
 *     connection REQS requests of QBYTES from the client, each answered
 *     after DELAY_MS with ABYTES by the server, then both ends close.
 *     Per client socket: sent REQS*QBYTES, received REQS*ABYTES; a server
 *     socket the reverse.
 *   netpair udp HOST COUNT QBYTES ABYTES [START]
 *     a connected client socket sends COUNT datagrams of QBYTES to an
 *     unconnected server socket, which answers each with ABYTES (sendto).
 *   netpair udpmany HOST SOCKETS
 *     SOCKETS UDP sockets one after the other, each sending one datagram
 *     of 1 byte (sendto) to a bound socket that never reads, then closed:
 *     SOCKETS sockets with exactly one send each.
 *
 * With NETPAIR_SERVER_NETNS=PATH (a network namespace, /run/netns/NAME)
 * the listener, and so the server sockets, are made in that namespace and
 * the clients stay in the process's own, and every socket closes with a
 * reset (SO_LINGER 0) so that nothing is retransmitted after the exit.
 *
 * With NET_TRUTH=FILE the workload writes what it measured itself:
 * "server_p50_ns client_p50_ns" (tcp: the server's time from a request
 * read to its answer sent, the client's from a request sent to the first
 * bytes of the answer; the sleeps last what the machine gives them), then
 * a line "client LOCAL_PORT p50_ns" for each client connection's own.
 *
 * With NETPAIR_LINGER_MS=N the process stays N ms after its last socket
 * closed, without traffic (so an -i snapshot comes after all of it). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <sched.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "gate.h"

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static int family_of(const char *host)
{
	return strchr(host, ':') ? AF_INET6 : AF_INET;
}

/* host:port (port 0: any) as a sockaddr; returns its length. */
static socklen_t addr_of(const char *host, int port, struct sockaddr_storage *ss)
{
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV }, *ai;
	char serv[8];
	socklen_t len;

	snprintf(serv, sizeof(serv), "%d", port);
	if (getaddrinfo(host, serv, &hints, &ai) || ai->ai_addrlen > sizeof(*ss)) {
		fprintf(stderr, "netpair: not a numeric address: %s\n", host);
		exit(1);
	}
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return len;
}

/* A socket bound to host on a free port; its address in ss. */
static int bound(const char *host, int type, struct sockaddr_storage *ss, socklen_t *len)
{
	int fd = socket(family_of(host), type, 0);

	*len = addr_of(host, 0, ss);
	if (fd < 0 || bind(fd, (struct sockaddr *)ss, *len) ||
	    getsockname(fd, (struct sockaddr *)ss, len))
		die("bind");
	return fd;
}

static void send_all(int fd, const char *buf, size_t n)
{
	while (n) {
		ssize_t w = send(fd, buf, n, 0);

		if (w <= 0)
			die("send");
		buf += w;
		n -= (size_t)w;
	}
}

/* Reads n bytes; returns when the first of them arrived. */
static uint64_t recv_all(int fd, char *buf, size_t n)
{
	uint64_t first = 0;

	while (n) {
		ssize_t r = recv(fd, buf, n, 0);

		if (r <= 0)
			die("recv");
		if (!first)
			first = now_ns();
		buf += r;
		n -= (size_t)r;
	}
	return first;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t median(uint64_t *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_u64);
	return n ? v[n / 2] : 0;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0)
		;
}

static uint16_t local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		die("getsockname");
	return ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port :
						((struct sockaddr_in *)&ss)->sin_port);
}

/* cli holds conns runs of reqs client times, port the client sockets'
 * local ports. */
static void truth(uint64_t *srv, uint64_t *cli, const uint16_t *port, int conns, int reqs)
{
	const char *path = getenv("NET_TRUTH");
	size_t k = (size_t)conns * (size_t)reqs;
	uint64_t *own = calloc(k ? k : 1, sizeof(*own));
	FILE *f;

	if (!path)
		return;
	f = fopen(path, "w");
	if (!f || !own)
		die(path);
	memcpy(own, cli, k * sizeof(*own)); /* median sorts */
	fprintf(f, "%llu %llu\n", (unsigned long long)median(srv, k),
		(unsigned long long)median(cli, k));
	for (int i = 0; i < conns; i++)
		fprintf(f, "client %u %llu\n", port[i],
			(unsigned long long)median(own + (size_t)i * (size_t)reqs, (size_t)reqs));
	fclose(f);
	free(own);
}

/* The listener in NETPAIR_SERVER_NETNS when set, else here. */
static int listener(const char *host, struct sockaddr_storage *ss, socklen_t *len)
{
	const char *ns = getenv("NETPAIR_SERVER_NETNS");
	int self, other, fd;

	if (!ns)
		return bound(host, SOCK_STREAM, ss, len);
	self = open("/proc/self/ns/net", O_RDONLY);
	other = open(ns, O_RDONLY);
	if (self < 0 || other < 0 || setns(other, CLONE_NEWNET))
		die(ns);
	fd = bound(host, SOCK_STREAM, ss, len);
	if (setns(self, CLONE_NEWNET))
		die("setns back");
	close(self);
	close(other);
	return fd;
}

static void close_tcp(int fd)
{
	struct linger reset = { 1, 0 };

	if (getenv("NETPAIR_SERVER_NETNS"))
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
	close(fd);
}

static int run_tcp(const char *host, int conns, int reqs, size_t q, size_t a, long delay,
		   const char *start)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int lfd = listener(host, &ss, &len), one = 1;
	int *c = calloc((size_t)conns, sizeof(int)), *s = calloc((size_t)conns, sizeof(int));
	uint64_t *srv = calloc((size_t)(conns * reqs), 8), *cli = calloc((size_t)(conns * reqs), 8);
	char *qbuf = calloc(1, q), *abuf = calloc(1, a);
	uint16_t *port = calloc((size_t)conns, sizeof(*port));
	size_t k = 0;

	if (!c || !s || !srv || !cli || !qbuf || !abuf || !port || listen(lfd, conns))
		die("listen");
	for (int i = 0; i < conns; i++) {
		c[i] = socket(family_of(host), SOCK_STREAM, 0);
		if (c[i] < 0 || connect(c[i], (struct sockaddr *)&ss, len))
			die("connect");
		setsockopt(c[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		port[i] = local_port(c[i]);
		s[i] = accept(lfd, NULL, NULL);
		if (s[i] < 0)
			die("accept");
		setsockopt(s[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	if (gate_wait(start))
		return 2;
	for (int i = 0; i < conns; i++) {
		for (int r = 0; r < reqs; r++, k++) {
			uint64_t sent, got, answered;

			send_all(c[i], qbuf, q);
			sent = now_ns();
			recv_all(s[i], qbuf, q);
			got = now_ns();
			sleep_ms(delay);
			send_all(s[i], abuf, a);
			answered = now_ns();
			srv[k] = answered - got;
			cli[k] = recv_all(c[i], abuf, a) - sent;
		}
		close_tcp(c[i]);
		close_tcp(s[i]);
	}
	close(lfd);
	truth(srv, cli, port, conns, reqs);
	return 0;
}

static int run_udp(const char *host, int count, size_t q, size_t a, const char *start)
{
	struct sockaddr_storage ss, from;
	socklen_t len, flen;
	int sfd = bound(host, SOCK_DGRAM, &ss, &len);
	int cfd = socket(family_of(host), SOCK_DGRAM, 0);
	char *qbuf = calloc(1, q), *abuf = calloc(1, a);

	if (cfd < 0 || !qbuf || !abuf || connect(cfd, (struct sockaddr *)&ss, len))
		die("connect");
	if (gate_wait(start))
		return 2;
	for (int i = 0; i < count; i++) {
		flen = sizeof(from);
		if (send(cfd, qbuf, q, 0) != (ssize_t)q ||
		    recvfrom(sfd, qbuf, q, 0, (struct sockaddr *)&from, &flen) != (ssize_t)q ||
		    sendto(sfd, abuf, a, 0, (struct sockaddr *)&from, flen) != (ssize_t)a ||
		    recv(cfd, abuf, a, 0) != (ssize_t)a)
			die("udp");
	}
	close(cfd);
	close(sfd);
	return 0;
}

static int run_udpmany(const char *host, int sockets)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int sfd = bound(host, SOCK_DGRAM, &ss, &len);

	for (int i = 0; i < sockets; i++) {
		int fd = socket(family_of(host), SOCK_DGRAM, 0);

		if (fd < 0 || sendto(fd, "x", 1, 0, (struct sockaddr *)&ss, len) != 1)
			die("udpmany");
		close(fd);
	}
	close(sfd);
	return 0;
}

static int linger(int status)
{
	const char *ms = getenv("NETPAIR_LINGER_MS");

	if (ms)
		usleep((useconds_t)atol(ms) * 1000);
	return status;
}

int main(int argc, char **argv)
{
	gate_init();
	if (argc >= 8 && !strcmp(argv[1], "tcp"))
		return linger(run_tcp(argv[2], atoi(argv[3]), atoi(argv[4]), (size_t)atol(argv[5]),
				      (size_t)atol(argv[6]), atol(argv[7]),
				      argc > 8 ? argv[8] : NULL));
	if (argc >= 6 && !strcmp(argv[1], "udp"))
		return run_udp(argv[2], atoi(argv[3]), (size_t)atol(argv[4]), (size_t)atol(argv[5]),
			       argc > 6 ? argv[6] : NULL);
	if (argc == 4 && !strcmp(argv[1], "udpmany"))
		return run_udpmany(argv[2], atoi(argv[3]));
	fprintf(stderr, "usage: netpair tcp HOST CONNS REQS QBYTES ABYTES DELAY_MS [START]\n"
			"       netpair udp HOST COUNT QBYTES ABYTES [START]\n"
			"       netpair udpmany HOST SOCKETS\n");
	return 2;
}
