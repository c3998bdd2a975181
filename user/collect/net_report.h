/* net collector: its tables (per socket, per remote endpoint) built from
 * the kernel maps, and the names shared with its stream (protocols,
 * roles, addresses).  Reads the maps only, so it can run any number of
 * times, while collecting and after. */
#ifndef EBPROF_NET_REPORT_H
#define EBPROF_NET_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "model/profile.h"
#include "net.h"

extern const struct ptable_def net_socket_table, net_endpoint_table;

/* "tcp" / "udp"; "ipv4" / "ipv6"; "client" / "server" / "-". */
const char *net_proto_name(unsigned proto);
const char *net_family_name(unsigned family);
const char *net_role_name(unsigned role);
/* "10.0.0.1:80", "[::1]:80"; "*" for no address (unconnected UDP). */
void net_endpoint_str(char *buf, size_t len, unsigned family, const uint8_t *addr, unsigned port);

struct func_hist;

/* The maps that net_report() reads (bpf/net.bpf.c): the socket records
 * and histograms mapped (sockv, hists: slots, id 0 a free one), the
 * errors map's fd. */
struct net_maps {
	const struct net_sock *slots;
	size_t nslots;
	const struct func_hist *hists;
	size_t nhists;
	int errs;
	const uint64_t *stats; /* NET_STAT_MAX counters */
};

/* The counters of every socket at the last -i snapshot, for the
 * interval columns of the next one. */
struct net_prev_sock {
	uint64_t id, tx, rx, calls, retrans;
};
struct net_prev {
	uint64_t t;		 /* the snapshot's time (CLOCK_MONOTONIC ns); 0: none yet */
	struct net_prev_sock *v; /* sorted by id */
	size_t n;
};
void net_prev_free(struct net_prev *prev);

/* Adds the sockets and endpoints tables and the info facts to p; now is
 * the report's time (CLOCK_MONOTONIC: the stop once stopped).  With prev
 * (a -i snapshot), the tables also have each socket's and endpoint's
 * traffic since the previous snapshot (t_start for the first) and its
 * rates, and prev becomes this snapshot.  0 or negative errno. */
int net_report_build(struct profile *p, const struct net_maps *m, uint64_t t_start, uint64_t now,
		     struct net_prev *prev);

#endif
