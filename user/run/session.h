/* One profiling run: the target (attached or launched), the collectors
 * the command line asks for, and the collection loop.  main() drives it:
 *
 *   session_open()     target, then every collector's open and attach;
 *                      a launched command is released last
 *   session_collect()  ticks every collector until Ctrl-C, SIGTERM, -d
 *                      expiry or the target's exit; every -i interval
 *                      a callback may take snapshots (session_snapshot)
 *   session_report()   stops every collector, one profile per report
 *   session_close()    removes every probe; a launched command's status
 *
 * Signals: SIGINT, SIGTERM and SIGHUP stop the collection; a second Ctrl-C
 * quits at once (the kernel drops every probe with the process); SIGTERM
 * is passed on to a launched command. */
#ifndef EBPROF_SESSION_H
#define EBPROF_SESSION_H

#include <stddef.h>

#include "cli/options.h"
#include "model/profile.h"

struct session;

/* 0 or negative errno with one line printed; *out is set either way and
 * must go to session_close(). */
int session_open(const struct options *o, struct session **out);
/* Called every -i interval while collecting: n counts from 1, elapsed is
 * seconds since collection began. */
typedef void (*session_interval_fn)(struct session *s, int n, double elapsed, void *arg);
void session_collect(struct session *s, session_interval_fn on_interval, void *arg);
/* Every report as it stands now, collectors still collecting; 0 or
 * negative errno.  The caller frees the profiles. */
int session_snapshot(struct session *s, struct profile **profiles, size_t *n);
/* Stops collecting and reads every report into profiles (room for
 * session_nreports()); 0 or negative errno.  The caller frees them. */
int session_report(struct session *s, struct profile **profiles, size_t *n);
size_t session_nreports(const struct session *s);
/* Removes every probe and frees s.  Returns a launched command's exit
 * status after waiting for it (0 for -p); abort: the run failed, a
 * command not yet released is killed. */
int session_close(struct session *s, int abort);

#endif
