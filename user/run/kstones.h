/* --calibrate: machine units for time limits, after pystones.  One kstone
 * is the CPU time this machine takes for 1000 rounds of a fixed reference
 * loop (integer mixing and a dependent table walk: no I/O, no system
 * calls, no floating point), so 'heavy.cumtime < 900 kstones' states a
 * limit relative to the machine's speed.  The figure is measured on the
 * thread's CPU clock (time the thread ran, not time it waited), best of
 * several batches. */
#ifndef EBPROF_KSTONES_H
#define EBPROF_KSTONES_H

/* The info key every report gets with --calibrate (ns per kstone). */
#define KSTONE_INFO "kstone_ns"

/* Nanoseconds per kstone on this machine now; 0 when the clock fails. */
double kstones_calibrate(void);

#endif
