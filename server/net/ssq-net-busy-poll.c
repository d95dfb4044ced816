/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-net-busy-poll.c: the main loop polls for a short while before it
 * sleeps, when its last wait was short.
 *
 * Why: a thread that sleeps in poll(2) and is woken by a packet costs its
 * waker an interrupt to the sleeping core, and itself the core's way back
 * from idle. On a virtual machine both go through the hypervisor. On the
 * 2-core VM the project is measured on, with its cores otherwise idle, a
 * request and its answer between two processes over loopback take 81-84 µs
 * at p50 when the answering one sleeps, and 22-24 µs when it polls for
 * 50 µs first; for a small history page, waking the client was 31% of the
 * server's CPU. A client that asks again at once (paging through history,
 * a sync, a burst of sends) meets a sleeping server on every request.
 *
 * When: a wait (for a packet, the writer's completion, a signal: every
 * descriptor of the main context) that ended within busy_poll_us makes the
 * loop poll for up to that long before its next sleep. A longer wait, a
 * wait that a timer ended, or another thread wanting the loop's core stops
 * polling until a short wait comes again. So an idle server, or one whose
 * clients come back less often than that, sleeps at once, and only work
 * that comes back to back is polled for. The poll is poll(2) with timeout
 * 0 in a loop that gives the core to any thread waiting for it
 * (sched_yield): on a small machine polling would take it from the
 * server's own readers and writer.
 *
 * Bound: polling takes at most a quarter of the wall time of each 100 ms,
 * so a client that comes back just within busy_poll_us, over and over,
 * makes the server poll for at most a quarter of a core. (One keep-alive
 * client paging through history gains as much with a quarter as with
 * half.) The time spent polling is in the metrics; busy_poll_us = 0 turns
 * polling off. */
#include "ssq-net-busy-poll.h"

#include <poll.h>
#include <sched.h>
#include <sys/resource.h>

#define PERIOD_US        100000
#define PERIOD_BUDGET_US (PERIOD_US / 4)

typedef struct {
  guint    max_us;        /* the longest poll; 0: off */
  gboolean polling;       /* the last wait was short: poll before sleeping */
  gint64   period_start;  /* the budget's period, and what it spent */
  gint64   period_polled_us;
  guint64  found;
  guint64  slept;
  guint64  yielded;
  gint64   polled_us;
} BusyPoll;

/* The default main context is iterated by one thread, the main one, and
 * GPollFunc has no user data. */
static BusyPoll state;

/* The time left to poll in this period, from @now. */
static gint64
budget_left (BusyPoll *bp,
             gint64    now)
{
  if (now - bp->period_start >= PERIOD_US)
    {
      bp->period_start = now;
      bp->period_polled_us = 0;
    }
  return PERIOD_BUDGET_US - bp->period_polled_us;
}

/* The times another thread had this thread's core: sched_yield counts
 * there when one was waiting for it. */
static long
cores_given (void)
{
  struct rusage usage;

  return getrusage (RUSAGE_THREAD, &usage) == 0 ? usage.ru_nivcsw : 0;
}

/* Polls @fds without waiting until one is ready or @until_us has come.
 * Returns poll's result (0: none ready in time). */
static int
poll_until (BusyPoll *bp,
            GPollFD  *fds,
            guint     n_fds,
            gint64    until_us)
{
  long given = cores_given ();
  gboolean first = TRUE;
  int ready;

  while ((ready = poll ((struct pollfd *) fds, n_fds, 0)) == 0 &&
         g_get_monotonic_time () < until_us)
    {
      first = FALSE;
      sched_yield ();
    }
  if (cores_given () != given)
    {
      bp->polling = FALSE;
      bp->yielded++;
    }
  /* Ready at the first look, it was there before the poll: no sleep was
   * saved. */
  bp->found += ready > 0 && !first;
  return ready;
}

/* GLib's poll, as g_poll, with a poll first when the last wait was short. */
static gint
busy_poll (GPollFD *fds,
           guint    n_fds,
           gint     timeout_ms)
{
  BusyPoll *bp = &state;
  gint64 start, until, now;
  int ready;

  if (timeout_ms == 0)
    return poll ((struct pollfd *) fds, n_fds, 0);
  start = g_get_monotonic_time ();
  if (bp->polling && budget_left (bp, start) > 0)
    {
      until = start + MIN (bp->max_us, budget_left (bp, start));
      if (timeout_ms > 0)
        until = MIN (until, start + (gint64) timeout_ms * 1000);
      ready = poll_until (bp, fds, n_fds, until);
      now = g_get_monotonic_time ();
      bp->polled_us += now - start;
      bp->period_polled_us += now - start;
      if (ready != 0)
        return ready;
      bp->slept++;
      if (timeout_ms > 0)
        {
          /* Rounded down: a timer may come a little early (GLib then
           * polls again), never late. */
          timeout_ms -= (gint) ((now - start + 999) / 1000);
          if (timeout_ms <= 0)
            {
              bp->polling = FALSE;
              return 0;
            }
        }
    }
  ready = poll ((struct pollfd *) fds, n_fds, timeout_ms);
  /* A timer's end is no sign of work to come: only a descriptor is. */
  if (ready >= 0)
    bp->polling = ready > 0 && g_get_monotonic_time () - start <= bp->max_us;
  return ready;
}

/**
 * ssq_net_busy_poll_install:
 * @context: the server's main context (one per process)
 * @max_us: the longest poll before sleeping; 0 turns polling off
 */
void
ssq_net_busy_poll_install (GMainContext *context,
                           guint         max_us)
{
  state.max_us = max_us;
  state.polling = FALSE;
  g_main_context_set_poll_func (context, max_us > 0 ? busy_poll : g_poll);
}

/**
 * ssq_net_busy_poll_stats:
 * What polling found, and the time it took, since the start.
 */
void
ssq_net_busy_poll_stats (SsqNetBusyPollStats *out)
{
  out->found = state.found;
  out->slept = state.slept;
  out->yielded = state.yielded;
  out->seconds = (double) state.polled_us / G_USEC_PER_SEC;
}
