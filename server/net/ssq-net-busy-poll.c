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
 * When: a wait that a descriptor ended (a client's traffic, or the
 * writer's or a reader's completion, whose answer brings the client back)
 * within busy_poll_us makes the loop poll for up to that long before its
 * next sleep. A longer wait, or one that a timer ended, stops polling
 * until a short one comes again. So an idle server, or one whose clients
 * come back less often than that, sleeps at once, and only work that comes
 * back to back is polled for. (Counting only clients' traffic needs the
 * network loops' descriptors told apart; side by side on the durable
 * bench the two were within this machine's noise, and the budget bounds
 * what a completion's poll can cost.)
 *
 * How: poll(2) with timeout 0 over every descriptor of the main context,
 * in a loop that gives the core to any thread waiting for it
 * (sched_yield). When one then held the core for 100 µs or more,
 * polling stops at once and for the next 100 ms: that thread needs the
 * core (the server's own readers and writer on a small machine, or other
 * programs), and each yield would leave the loop waiting for the end of
 * its time slice, where a sleeping loop is woken at once.
 *
 * Bound: polling earns a quarter of the wall time as it passes, and keeps
 * at most 25 ms of it (a token bucket), so a client that comes back just
 * within busy_poll_us, over and over, makes the server poll for at most a
 * quarter of a core. (One keep-alive client paging through history gains
 * as much with a quarter as with half.) The time spent polling is in the
 * metrics; busy_poll_us = 0 turns polling off. */
#include "ssq-net-busy-poll.h"

#include <poll.h>
#include <sched.h>
#include <sys/resource.h>
#include <time.h>

#define LONG_YIELD_US  100      /* another thread that held the core this long needs it */
#define HOLD_US        100000   /* then no polling for this long */
#define BUDGET_MAX_US  25000    /* the bucket's size */
#define BUDGET_SHARE   4        /* it fills at a quarter of the wall time */

typedef struct {
  guint    max_us;        /* the longest poll; 0: off */
  gboolean polling;       /* the last wait was short: poll before sleeping */
  gint64   hold_until;    /* no polling before this */
  gint64   budget_us;     /* polling time earned, not spent (negative: owed) */
  gint64   budget_at;     /* when it was last earned */
  guint64  found;
  guint64  slept;
  guint64  yielded;
  gint64   polled_us;
} BusyPoll;

/* The default main context is iterated by one thread, the main one, and
 * GPollFunc has no user data. */
static BusyPoll state;

/* The polling time there is to spend at @now. */
static gint64
budget (BusyPoll *bp,
        gint64    now)
{
  gint64 earned = (now - bp->budget_at) / BUDGET_SHARE;

  /* What the division leaves is earned at the next call. */
  bp->budget_us += earned;
  bp->budget_at += earned * BUDGET_SHARE;
  if (bp->budget_us >= BUDGET_MAX_US)
    {
      bp->budget_us = BUDGET_MAX_US;
      bp->budget_at = now;
    }
  return bp->budget_us;
}

/* The times another thread had this thread's core: sched_yield counts
 * there when one was waiting for it, as does preemption. */
static long
cores_given (void)
{
  struct rusage usage;

  return getrusage (RUSAGE_THREAD, &usage) == 0 ? usage.ru_nivcsw : 0;
}

/* Polls @fds without waiting until one is ready, @until_us has come, or
 * another thread held the core for LONG_YIELD_US or more: a thread that
 * needs the core, not one, like the client we wait for, that runs for a
 * moment and sleeps again. The core is counted as given up between two
 * looks at the clock, so a preemption inside poll counts as a yield does.
 * Returns poll's result (0: none ready in time); sets *@polled_until to
 * when the polling ended (before the core was given up, if it was) and
 * *@yielded. */
static int
poll_until (BusyPoll *bp,
            GPollFD  *fds,
            guint     n_fds,
            gint64    until_us,
            gint64   *polled_until,
            gboolean *yielded)
{
  long given = cores_given (), now_given;
  gint64 mark = g_get_monotonic_time (), now;
  gboolean first = TRUE;
  int ready;

  for (;;)
    {
      ready = poll ((struct pollfd *) fds, n_fds, 0);
      now = g_get_monotonic_time ();
      if ((now_given = cores_given ()) != given)
        {
          if (now - mark >= LONG_YIELD_US)
            {
              *yielded = TRUE;
              now = mark;
              break;
            }
          given = now_given;
        }
      if (ready != 0 || now >= until_us)
        break;
      first = FALSE;
      mark = now;
      sched_yield ();
    }
  *polled_until = now;
  /* Ready at the first look, it was there before the poll: no sleep was
   * saved. */
  bp->found += ready > 0 && !first;
  return ready;
}

/* poll(2) until @deadline_us (-1: none), to the microsecond: GLib's
 * milliseconds, less the time polled, would end the sleep before a
 * timer is due (an iteration for nothing) or after it (late). */
static int
sleep_until (GPollFD *fds,
             guint    n_fds,
             gint64   deadline_us)
{
  struct timespec ts;
  gint64 left;

  if (deadline_us < 0)
    return ppoll ((struct pollfd *) fds, n_fds, NULL, NULL);
  left = MAX (deadline_us - g_get_monotonic_time (), 0);
  ts.tv_sec = left / G_USEC_PER_SEC;
  ts.tv_nsec = (left % G_USEC_PER_SEC) * 1000;
  return ppoll ((struct pollfd *) fds, n_fds, &ts, NULL);
}

/* GLib's poll, as g_poll, with a poll first when the last wait was short. */
static gint
busy_poll (GPollFD *fds,
           guint    n_fds,
           gint     timeout_ms)
{
  BusyPoll *bp = &state;
  gint64 start, deadline, until, polled_until;
  gboolean yielded = FALSE;
  int ready;

  if (timeout_ms == 0)
    return poll ((struct pollfd *) fds, n_fds, 0);
  start = g_get_monotonic_time ();
  deadline = timeout_ms < 0 ? -1 : start + (gint64) timeout_ms * 1000;
  if (bp->polling && start >= bp->hold_until && budget (bp, start) > 0)
    {
      until = start + MIN (bp->max_us, bp->budget_us);
      if (deadline >= 0)
        until = MIN (until, deadline);
      ready = poll_until (bp, fds, n_fds, until, &polled_until, &yielded);
      /* The time another thread had the core is not polling. */
      bp->polled_us += polled_until - start;
      bp->budget_us -= polled_until - start;
      if (yielded)
        {
          bp->yielded++;
          bp->polling = FALSE;
          bp->hold_until = g_get_monotonic_time () + HOLD_US;
        }
      if (ready != 0)
        return ready;
      bp->slept++;
    }
  ready = sleep_until (fds, n_fds, deadline);
  /* A timer's end is no sign of work to come: only a descriptor is. */
  if (ready >= 0 && !yielded)
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
