/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-loop-poll.c: the main loop's poll before sleeping
 * (server/net/ssq-net-busy-poll.c) in a GLib main context of its own: with
 * nothing but a timer, the loop never polls (a timer's end is no sign of
 * work to come, however close the timer); with a pipe written every
 * 100 µs or so, it does. (test-busy-poll.c checks the rest against the
 * real server.) */
#include "net/ssq-net-busy-poll.h"

#include <glib-unix.h>
#include <unistd.h>

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

typedef struct {
  int           fds[2];
  volatile gint stop;
} Pipe;

static gpointer
writer (gpointer data)
{
  Pipe *p = data;

  while (!g_atomic_int_get (&p->stop))
    {
      g_assert_cmpint (write (p->fds[1], "x", 1), ==, 1);
      g_usleep (100);
    }
  return NULL;
}

static gboolean
drain (int          fd,
       GIOCondition condition,
       gpointer     data)
{
  char buf[256];

  (void) condition;
  (void) data;
  g_assert_cmpint (read (fd, buf, sizeof buf), >, 0);
  return G_SOURCE_CONTINUE;
}

/* A pipe written every 100 µs or so, polling allowed up to 10 ms: the
 * writes come during polls (or, on a machine so loaded that another thread
 * took the core, polling rests: yielded). */
static void
test_pipe (void)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(GSource) watch = NULL;
  g_autoptr(GSource) end = g_timeout_source_new (300);
  SsqNetBusyPollStats before, after;
  gboolean done = FALSE;
  GThread *thread;
  Pipe p = { { -1, -1 }, 0 };

  g_assert_true (g_unix_open_pipe (p.fds, FD_CLOEXEC, NULL));
  watch = g_unix_fd_source_new (p.fds[0], G_IO_IN);
  g_source_set_callback (watch, G_SOURCE_FUNC (drain), NULL, NULL);
  g_source_attach (watch, context);
  g_source_set_callback (end, stop, &done, NULL);
  g_source_attach (end, context);
  ssq_net_busy_poll_stats (&before);
  ssq_net_busy_poll_install (context, 10000);
  thread = g_thread_new ("writer", writer, &p);
  while (!done)
    g_main_context_iteration (context, TRUE);
  g_atomic_int_set (&p.stop, 1);
  g_thread_join (thread);
  ssq_net_busy_poll_stats (&after);
  g_source_destroy (watch);
  close (p.fds[0]);
  close (p.fds[1]);
  g_test_message ("%" G_GUINT64_FORMAT " polls found, %" G_GUINT64_FORMAT " yielded, %.6f s polling",
                  after.found - before.found, after.yielded - before.yielded,
                  after.seconds - before.seconds);
  g_assert_true (after.found > before.found || after.yielded > before.yielded);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/server/loop-poll/timer-alone", test_timer_alone);
  g_test_add_func ("/server/loop-poll/pipe", test_pipe);
  return g_test_run ();
}
