/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-loop-poll.c: the main loop's poll before sleeping
 * (server/net/ssq-net-busy-poll.c) in a GLib main context of its own, with
 * nothing but a timer: a timer's end is no sign of work to come, so the
 * loop never polls for it, however close the timer. (test-busy-poll.c
 * checks the rest against the real server.) */
#include "net/ssq-net-busy-poll.h"

static gboolean
tick (gpointer data)
{
  guint *ticks = data;

  (*ticks)++;
  return G_SOURCE_CONTINUE;
}

static gboolean
stop (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

/* A 2 ms timer, polling allowed up to 10 ms: 300 ms without a poll. */
static void
test_timer_alone (void)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(GSource) timer = g_timeout_source_new (2);
  g_autoptr(GSource) end = g_timeout_source_new (300);
  SsqNetBusyPollStats before, after;
  gboolean done = FALSE;
  guint ticks = 0;

  ssq_net_busy_poll_stats (&before);
  ssq_net_busy_poll_install (context, 10000);
  g_source_set_callback (timer, tick, &ticks, NULL);
  g_source_attach (timer, context);
  g_source_set_callback (end, stop, &done, NULL);
  g_source_attach (end, context);
  while (!done)
    g_main_context_iteration (context, TRUE);
  ssq_net_busy_poll_stats (&after);
  g_source_destroy (timer);
  g_test_message ("%u ticks; %" G_GUINT64_FORMAT " polls found, %" G_GUINT64_FORMAT
                  " slept, %.6f s polling", ticks, after.found - before.found,
                  after.slept - before.slept, after.seconds - before.seconds);
  g_assert_cmpuint (ticks, >, 0);
  g_assert_cmpuint (after.found - before.found, ==, 0);
  g_assert_cmpuint (after.slept - before.slept, ==, 0);
  g_assert_cmpfloat (after.seconds - before.seconds, ==, 0);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/server/loop-poll/timer-alone", test_timer_alone);
  return g_test_run ();
}
