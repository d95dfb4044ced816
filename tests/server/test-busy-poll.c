/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-busy-poll.c: the main loop polls before it sleeps only for work
 * that comes back to back ([server] busy_poll_us), gives its core to
 * threads that wait for it, and polls not at all when idle or turned off.
 * What it did is read from the server's own /metrics, on one keep-alive
 * connection, so that no new connection wakes the loop in between. */
#define _GNU_SOURCE
#include "ssq-test-raw.h"

#include <sched.h>
#include <string.h>
#include <unistd.h>

#define WAIT_MS SSQ_TEST_RAW_WAIT_MS

typedef struct {
  double found;
  double slept;
  double yielded;
  double seconds;
} Polls;

static double
series (const char *text,
        const char *name)
{
  g_autofree char *key = g_strconcat ("\n", name, " ", NULL);
  const char *at = strstr (text, key);

  if (at == NULL)
    g_error ("/metrics has no %s", name);
  return g_ascii_strtod (at + strlen (key), NULL);
}

/* One scrape on @c, which stays open. */
static Polls
scrape (SsqTestRaw *c)
{
  g_auto(SsqTestRawResponse) r = { 0 };

  g_assert_true (ssq_test_raw_send_str (c, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"));
  g_assert_true (ssq_test_raw_read_response (c, WAIT_MS, &r));
  g_assert_cmpuint (r.status, ==, 200);
  return (Polls) {
    series (r.body, "ssq_loop_polls_found_total"),
    series (r.body, "ssq_loop_polls_slept_total"),
    series (r.body, "ssq_loop_polls_yielded_total"),
    series (r.body, "ssq_loop_poll_seconds_total"),
  };
}

/* @n requests on @c, each sent as soon as the last is answered. */
static Polls
back_to_back (SsqTestRaw *c,
              guint       n)
{
  Polls p = { 0 };

  for (guint i = 0; i < n; i++)
    p = scrape (c);
  return p;
}

/* A client that asks again at once finds the loop polling. 10 ms of poll
 * allowed: a loaded machine still answers and asks again within it. */
static void
test_back_to_back (void)
{
  g_autoptr(SsqTestServer) s = ssq_test_server_start (NULL, "[server]\nbusy_poll_us=10000\n");
  g_autoptr(SsqTestRaw) c = ssq_test_raw_open (s);
  Polls p = back_to_back (c, 300);

  g_test_message ("300 requests: %g polls found work, %g slept, %g yielded, %g s polling",
                  p.found, p.slept, p.yielded, p.seconds);
  g_assert_cmpfloat (p.found, >, 0);
  g_assert_cmpfloat (p.seconds, >, 0);
}

/* Idle, the loop sleeps at once: after the burst, at most the first wait
 * polls (and the few waits two timers end close together). Halving the
 * poll on each long wait instead, or keeping it, polled on every tick of
 * the connections' timer wheel (4 a second). */
static void
test_idle (void)
{
  g_autoptr(SsqTestServer) s = ssq_test_server_start (NULL, NULL);
  g_autoptr(SsqTestRaw) c = ssq_test_raw_open (s);
  Polls before, after;

  back_to_back (c, 100);
  before = scrape (c);
  g_usleep (2 * G_USEC_PER_SEC);
  after = scrape (c);
  g_test_message ("idle 2 s: %g polls slept, %g found", after.slept - before.slept,
                  after.found - before.found);
  g_assert_cmpfloat (after.slept - before.slept, <=, 3);
}

/* busy_poll_us = 0: never a poll. */
static void
test_off (void)
{
  g_autoptr(SsqTestServer) s = ssq_test_server_start (NULL, "[server]\nbusy_poll_us=0\n");
  g_autoptr(SsqTestRaw) c = ssq_test_raw_open (s);
  Polls p = back_to_back (c, 100);

  g_assert_cmpfloat (p.found, ==, 0);
  g_assert_cmpfloat (p.slept, ==, 0);
  g_assert_cmpfloat (p.seconds, ==, 0);
}

static volatile gboolean hog_stop;

static gpointer
hog (gpointer data)
{
  cpu_set_t *cpu = data;

  g_assert_cmpint (pthread_setaffinity_np (pthread_self (), sizeof *cpu, cpu), ==, 0);
  while (!hog_stop)
    ;
  return NULL;
}

/* A thread that wants the loop's core gets it: with one spinning on that
 * core, the loop yields and stops polling. */
static void
test_yields (void)
{
  g_autoptr(SsqTestServer) s = ssq_test_server_start (NULL, "[server]\nbusy_poll_us=10000\n");
  g_autoptr(SsqTestRaw) c = ssq_test_raw_open (s);
  cpu_set_t cpu;
  GThread *thread;
  Polls p;

  if (sysconf (_SC_NPROCESSORS_ONLN) < 2)
    {
      g_test_skip ("needs two cores: one for the loop and the spinning thread, one for the client");
      return;
    }
  CPU_ZERO (&cpu);
  CPU_SET (0, &cpu);
  /* The main thread's id is the process's: only the loop moves. */
  if (sched_setaffinity (ssq_test_server_pid (s), sizeof cpu, &cpu) != 0)
    {
      g_test_skip ("cannot pin the server to core 0");
      return;
    }
  hog_stop = FALSE;
  thread = g_thread_new ("hog", hog, &cpu);
  p = back_to_back (c, 300);
  hog_stop = TRUE;
  g_thread_join (thread);
  g_test_message ("300 requests beside a spinning thread: %g found, %g slept, %g yielded",
                  p.found, p.slept, p.yielded);
  g_assert_cmpfloat (p.yielded, >, 0);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/server/busy-poll/back-to-back", test_back_to_back);
  g_test_add_func ("/server/busy-poll/idle", test_idle);
  g_test_add_func ("/server/busy-poll/off", test_off);
  g_test_add_func ("/server/busy-poll/yields", test_yields);
  return g_test_run ();
}
