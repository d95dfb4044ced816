/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-net-busy-poll.c: the main loop polls for a short while before it
 * sleeps, when its last wait was short.
 *
 * Why: a thread that sleeps in poll(2) and is woken by a packet costs its
 * waker an interrupt to the sleeping core, and itself the core's way back
 * from idle. On a virtual machine both go through the hypervisor. On the
 * 2-core VM the project is measured on, a request and its answer between
 * two processes over loopback take 81-84 µs at p50 when the answering one
 * sleeps, and 22-24 µs when it polls for 50 µs first; for a small history
 * page, waking the client was 31% of the server's CPU. A client that asks
 * again at once (paging through history, a sync, a burst of sends) meets
 * a sleeping server on every request.
 *
 * How long to poll adapts, much as the kernel's cpuidle-haltpoll governor
 * does: a wait that ended within the longest poll allowed (busy_poll_us)
 * makes the next poll twice as long (from a quarter of it); a longer wait
 * stops polling until a short one comes again. An idle server, or one whose
 * clients come back less often than that, sleeps at once; only work that
 * comes back to back is polled for. The poll covers every descriptor of the
 * main context (connections, the writer's completions, signals), with
 * poll(2)'s timeout 0, and gives the core to any thread waiting for it
 * (sched_yield): when one did wait, polling stops too, since it takes a
 * core from the server's own readers and writer on a small machine.
 *
 * The time spent polling is counted, for the metrics: it is CPU time spent
 * for latency. busy_poll_us = 0 turns polling off. */
#include "ssq-net-busy-poll.h"

#include <poll.h>
#include <sched.h>
#include <sys/resource.h>

typedef struct {
  guint   max_us;      /* the longest poll; 0: off */
  guint   window_us;   /* the next poll's length; 0: sleep at once */
  guint64 found;
  guint64 slept;
  guint64 yielded;
  gint64  polled_us;
} BusyPoll;

/* The default main context is iterated by one thread, the main one, and
 * GPollFunc has no user data. */
static BusyPoll state;

/* After a wait of @idle_us (polling and sleeping). */
static void
adapt (BusyPoll *bp,
       gint64    idle_us)
{
  if (idle_us > bp->max_us)
    bp->window_us = 0;
  else if (bp->window_us == 0)
    bp->window_us = MAX (bp->max_us / 4, 1);
  else
    bp->window_us = MIN (bp->window_us * 2, bp->max_us);
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
  int ready;

  while ((ready = poll ((struct pollfd *) fds, n_fds, 0)) == 0 &&
         g_get_monotonic_time () < until_us)
    sched_yield ();
  if (cores_given () != given)
    {
      bp->window_us = 0;
      bp->yielded++;
    }
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
  int ready = 0;

  if (timeout_ms == 0)
    return poll ((struct pollfd *) fds, n_fds, 0);
  start = g_get_monotonic_time ();
  if (bp->window_us > 0)
    {
      until = start + bp->window_us;
      if (timeout_ms > 0)
        until = MIN (until, start + (gint64) timeout_ms * 1000);
      ready = poll_until (bp, fds, n_fds, until);
      now = g_get_monotonic_time ();
      bp->polled_us += now - start;
      if (ready != 0)
        {
          bp->found += ready > 0;
          return ready;
        }
      bp->slept++;
      if (timeout_ms > 0 && (timeout_ms -= (gint) ((now - start) / 1000)) <= 0)
        return 0;
    }
  ready = poll ((struct pollfd *) fds, n_fds, timeout_ms);
  if (ready >= 0)
    adapt (bp, g_get_monotonic_time () - start);
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
  state.window_us = 0;
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
