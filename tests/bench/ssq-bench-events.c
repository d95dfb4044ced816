/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-bench-events.c: what supersoniq.events costs the chat. A bot binds
 * many queues to supersoniq.events (every pattern matching every event) and
 * is in none of the conversations where others talk; alice then posts N
 * messages over WebSocket, one after the other, and this prints messages/s
 * and the server's CPU per message, beside the same run with nothing bound
 * and with the bot's bindings only matching other conversations' events.
 * Figures, not assertions: `meson test --benchmark ssq-bench-events`. */
#include "ssq-test-amqp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ID SSQ_TEST_AMQP_ID

static SsqTestServer *server;

/* utime + stime of the server, in clock ticks. */
static gint64
server_cpu_ticks (void)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", (int) ssq_test_server_pid (server));
  g_autofree char *text = NULL;
  const char *p;

  if (!g_file_get_contents (path, &text, NULL, NULL) || (p = strrchr (text, ')')) == NULL)
    return 0;
  {
    g_auto(GStrv) f = g_strsplit (p + 2, " ", -1);

    return g_ascii_strtoll (f[11], NULL, 10) + g_ascii_strtoll (f[12], NULL, 10);
  }
}

static char *
take_shortstr (const guint8 *p)
{
  return g_strndup ((const char *) p + 1, p[0]);
}

/* @n_queues server-named exclusive queues of @username, each bound to
 * supersoniq.events with every pattern of @patterns. */
static SsqTestRaw *
bind_events (const char         *username,
             guint               n_queues,
             const char * const *patterns)
{
  g_autofree char *password = g_strconcat ("password-", username, NULL);
  SsqTestRaw *conn = ssq_test_amqp_open (server, username, password);
  g_autoptr(GByteArray) out = g_byte_array_new ();
  g_auto(SsqTestAmqpFrame) frame = { 0 };

  ssq_test_amqp_method_append (out, 1, ID (20, 10), "S", "");
  ssq_test_amqp_send (conn, out);
  ssq_test_amqp_expect (conn, ID (20, 11), &frame);
  for (guint i = 0; i < n_queues; i++)
    {
      g_autofree char *queue = NULL;
      guint n = 0;

      g_byte_array_set_size (out, 0);
      ssq_test_amqp_method_append (out, 1, ID (50, 10), "sSbbbbbF", 0u, "", FALSE, FALSE, TRUE,
                                   FALSE, FALSE, NULL);
      ssq_test_amqp_send (conn, out);
      ssq_test_amqp_frame_clear (&frame);
      ssq_test_amqp_expect (conn, ID (50, 11), &frame);
      queue = take_shortstr (frame.payload->data + 4);
      g_byte_array_set_size (out, 0);
      for (; patterns[n] != NULL; n++)
        ssq_test_amqp_method_append (out, 1, ID (50, 20), "sSSSbF", 0u, queue, "supersoniq.events",
                                     patterns[n], FALSE, NULL);
      ssq_test_amqp_send (conn, out);
      for (guint j = 0; j < n; j++)
        {
          ssq_test_amqp_frame_clear (&frame);
          ssq_test_amqp_expect (conn, ID (50, 21), &frame);
        }
    }
  return conn;
}

/* alice posts @n messages in @conv, each waiting for its ack. */
static void
post_messages (const char *label,
               SsqTestWs  *ws,
               const char *conv,
               guint       n)
{
  static guint run;
  long ticks_per_s = sysconf (_SC_CLK_TCK);
  gint64 cpu0, cpu1, t0, t1;

  run++;
  cpu0 = server_cpu_ticks ();
  t0 = g_get_monotonic_time ();
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *client_id = g_strdup_printf ("r%u-%u", run, i);
      g_autoptr(JsonObject) ack = ssq_test_ws_post (ws, conv, client_id, "a message of some length");

      g_assert_nonnull (ack);
      g_queue_clear_full (&ws->frames, (GDestroyNotify) json_object_unref);
    }
  t1 = g_get_monotonic_time ();
  cpu1 = server_cpu_ticks ();
  printf ("  %-52s %8.0f messages/s, server CPU %7.1f us/message\n", label,
          n / ((t1 - t0) / 1e6), (cpu1 - cpu0) * 1e6 / ticks_per_s / n);
  fflush (stdout);
}

int
main (int    argc,
      char **argv)
{
  static const char * const matching[] = {
    "#", "conversation.#", "conversation.*.*", "*.*.message", "#.message", NULL
  };
  guint n = argc > 1 ? (guint) atoi (argv[1]) : 2000;
  guint n_queues = argc > 2 ? (guint) atoi (argv[2]) : 200;
  g_autoptr(SsqTestUser) alice = NULL;
  g_autoptr(SsqTestUser) bob = NULL;
  g_autoptr(SsqTestUser) bot = NULL;
  g_autoptr(SsqTestUser) carol = NULL;
  g_autoptr(SsqTestWs) ws = NULL;
  g_autoptr(SsqTestRaw) bot_conn = NULL;
  g_autoptr(SsqTestRaw) bob_conn = NULL;
  g_autofree char *conv = NULL;
  g_autofree char *other = NULL;
  g_autofree char *label = NULL;

  server = ssq_test_server_start (NULL, "[broker]\nmax_bindings_per_user=100000\n");
  alice = ssq_test_register (server, "alice");
  bob = ssq_test_register (server, "bob");
  bot = ssq_test_register (server, "bot");
  carol = ssq_test_register (server, "carol");
  conv = ssq_test_create_conversation (server, alice, "{\"kind\":\"direct\",\"members\":[\"bob\"]}");
  other = ssq_test_create_conversation (server, bot, "{\"kind\":\"direct\",\"members\":[\"carol\"]}");
  ws = ssq_test_ws_connect (server, alice->token, NULL);
  g_assert_nonnull (ssq_test_ws_expect (ws, "welcome", 5000));

  printf ("supersoniq.events: %u messages posted by alice to bob, one at a time\n", n);
  post_messages ("nothing bound", ws, conv, n);
  bob_conn = bind_events ("bob", 1, (const char *[]) { "conversation.#", NULL });
  post_messages ("bob (a member) bound once", ws, conv, n);
  bot_conn = bind_events ("bot", n_queues, matching);
  label = g_strdup_printf ("+ bot (not a member) bound %u times, all matching", n_queues * 5);
  post_messages (label, ws, conv, n);

  g_clear_pointer (&bob_conn, ssq_test_raw_close);
  g_clear_pointer (&bot_conn, ssq_test_raw_close);
  g_clear_pointer (&ws, ssq_test_ws_free);
  g_assert_cmpint (ssq_test_server_stop (server), ==, 0);
  ssq_test_server_free (server);
  return 0;
}
