/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-bench.c: load generator. Starts the real server in a temporary
 * directory (or uses --url), drives it over WebSocket and prints figures:
 * acks and deliveries per second, round-trip latency, server CPU per
 * delivery and server memory. Not part of the test run. */
#include "ssq-test-server.h"
#include "ssq-bench-stats.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>
#include <sys/resource.h>

static SsqTestServer *server;

typedef struct {
  gint64 utime_ticks;
  gint64 rss_kb;
} ProcStat;

static ProcStat
server_stat (void)
{
  ProcStat st = { 0, 0 };
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", (int) ssq_test_server_pid (server));
  g_autofree char *status_path = g_strdup_printf ("/proc/%d/status", (int) ssq_test_server_pid (server));
  g_autofree char *text = NULL;
  g_autofree char *status = NULL;
  const char *p;

  if (g_file_get_contents (path, &text, NULL, NULL) && (p = strrchr (text, ')')) != NULL)
    {
      g_auto(GStrv) f = g_strsplit (p + 2, " ", -1);
      /* fields after ')' : state is [0]; utime [11], stime [12] */
      st.utime_ticks = g_ascii_strtoll (f[11], NULL, 10) + g_ascii_strtoll (f[12], NULL, 10);
    }
  if (g_file_get_contents (status_path, &status, NULL, NULL) && (p = strstr (status, "VmRSS:")))
    st.rss_kb = g_ascii_strtoll (p + 6, NULL, 10);
  return st;
}

static void
print_latency (GArray *lat)
{
  ssq_bench_stats_sort (lat);
  printf ("  round trip: p50 %.3f ms, p99 %.3f ms, max %.3f ms (n=%u)\n",
          g_array_index (lat, gint64, lat->len / 2) / 1000.0,
          g_array_index (lat, gint64, (guint) (lat->len * 0.99)) / 1000.0,
          g_array_index (lat, gint64, lat->len - 1) / 1000.0, lat->len);
}

/* 1:1, sequential: send, wait for the receiver's event, repeat. */
static void
bench_round_trip (guint n)
{
  g_autoptr(SsqTestUser) a = ssq_test_register (server, "rt.a");
  g_autoptr(SsqTestUser) b = ssq_test_register (server, "rt.b");
  g_autofree char *conv = ssq_test_create_conversation (server, a,
    "{\"kind\":\"direct\",\"members\":[\"rt.b\"]}");
  g_autoptr(SsqTestWs) wa = ssq_test_ws_connect (server, a->token, NULL);
  g_autoptr(SsqTestWs) wb = ssq_test_ws_connect (server, b->token, NULL);
  g_autoptr(GArray) lat = g_array_new (FALSE, FALSE, sizeof (gint64));
  ProcStat before, after;
  gint64 start;

  ssq_test_wait_ms (200);
  g_queue_clear_full (&wa->frames, (GDestroyNotify) json_object_unref);
  g_queue_clear_full (&wb->frames, (GDestroyNotify) json_object_unref);
  before = server_stat ();
  start = g_get_monotonic_time ();
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *frame = g_strdup_printf (
        "{\"type\":\"send\",\"id\":\"%u\",\"conversation_id\":\"%s\",\"client_id\":\"rt%u\","
        "\"body\":\"ping %u\"}", i, conv, i, i);
      gint64 t0 = g_get_monotonic_time ();
      JsonObject *ev;

      ssq_test_ws_send (wa, frame);
      ev = ssq_test_ws_expect (wb, "message", 5000);
      g_assert_nonnull (ev);
      json_object_unref (ev);
      g_array_append_val (lat, (gint64) { g_get_monotonic_time () - t0 });
      /* Drop what the sender gets back (ack and its own copy). */
      g_queue_clear_full (&wa->frames, (GDestroyNotify) json_object_unref);
      g_queue_clear_full (&wb->frames, (GDestroyNotify) json_object_unref);
    }
  after = server_stat ();
  printf ("1:1 round trip, sequential, %u messages (each committed before delivery):\n", n);
  print_latency (lat);
  printf ("  %.0f messages/s; server CPU %.1f µs per message\n",
          n / ((g_get_monotonic_time () - start) / 1e6),
          (after.utime_ticks - before.utime_ticks) * 1e6 / sysconf (_SC_CLK_TCK) / n);
}

typedef struct {
  guint64 messages;
  guint64 acks;
} Counts;

/* Receivers only count: parsing every frame with json-glib would make the
 * load generator, not the server, the bottleneck. Frames start with their
 * type, as the server writes them. */
static void
count_cb (SoupWebsocketConnection *conn,
          gint                     type,
          GBytes                  *message,
          Counts                  *counts)
{
  gsize len;
  const char *data = g_bytes_get_data (message, &len);

  if (len > 16 && memcmp (data, "{\"type\":\"message\"", 17) == 0)
    counts->messages++;
  else if (len > 12 && memcmp (data, "{\"type\":\"ack\"", 13) == 0)
    counts->acks++;
}

/* One sender keeps @window messages in flight to a group of @members. */
static void
bench_group (guint members,
             guint n,
             guint window)
{
  g_autoptr(GPtrArray) users = g_ptr_array_new_with_free_func ((GDestroyNotify) ssq_test_user_free);
  g_autoptr(GPtrArray) sockets = g_ptr_array_new_with_free_func ((GDestroyNotify) ssq_test_ws_free);
  g_autoptr(GString) body = g_string_new ("{\"kind\":\"group\",\"title\":\"bench\",\"members\":[");
  g_autofree char *conv = NULL;
  guint64 expected = (guint64) n * members;
  guint sent = 0;
  Counts counts = { 0, 0 };
  ProcStat before, after;
  gint64 start, elapsed;

  for (guint i = 0; i < members; i++)
    {
      g_autofree char *name = g_strdup_printf ("grp%03u", i);
      g_ptr_array_add (users, ssq_test_register (server, name));
      if (i > 0)
        g_string_append_printf (body, "%s\"%s\"", i > 1 ? "," : "", name);
    }
  g_string_append (body, "]}");
  conv = ssq_test_create_conversation (server, users->pdata[0], body->str);
  for (guint i = 0; i < members; i++)
    {
      SsqTestWs *ws = ssq_test_ws_connect (server, ((SsqTestUser *) users->pdata[i])->token, NULL);
      g_assert_nonnull (ws);
      g_ptr_array_add (sockets, ws);
    }
  ssq_test_wait_ms (300);
  for (guint i = 0; i < members; i++)
    {
      SsqTestWs *ws = sockets->pdata[i];

      g_queue_clear_full (&ws->frames, (GDestroyNotify) json_object_unref);
      g_signal_handlers_disconnect_by_data (ws->conn, ws);
      g_signal_connect (ws->conn, "message", G_CALLBACK (count_cb), &counts);
    }

  before = server_stat ();
  start = g_get_monotonic_time ();
  while (counts.messages < expected)
    {
      SsqTestWs *sender = sockets->pdata[0];

      while (sent < n && sent - counts.acks < window)
        {
          g_autofree char *frame = g_strdup_printf (
            "{\"type\":\"send\",\"id\":\"%u\",\"conversation_id\":\"%s\",\"client_id\":\"g%u\","
            "\"body\":\"group message number %u\"}", sent, conv, sent, sent);
          ssq_test_ws_send (sender, frame);
          sent++;
        }
      g_main_context_iteration (NULL, TRUE);
      if (g_get_monotonic_time () - start > 120 * G_USEC_PER_SEC)
        {
          printf ("  gave up after 120 s\n");
          break;
        }
    }
  elapsed = g_get_monotonic_time () - start;
  after = server_stat ();
  printf ("%u-member group, one sender, %u in flight, %u messages:\n", members, window, n);
  printf ("  %.0f messages acked/s, %.0f deliveries/s (%" G_GUINT64_FORMAT " deliveries in %.2f s)\n",
          counts.acks / (elapsed / 1e6), counts.messages / (elapsed / 1e6), counts.messages,
          elapsed / 1e6);
  printf ("  server CPU %.2f µs per delivery; server RSS %" G_GINT64_FORMAT " KiB\n",
          (after.utime_ticks - before.utime_ticks) * 1e6 / sysconf (_SC_CLK_TCK) / MAX (counts.messages, 1),
          after.rss_kb);
}

/* Many connected, idle sessions: server memory per connection. */
static void
bench_idle (guint n)
{
  g_autoptr(SsqTestUser) u = ssq_test_register (server, "idle.user");
  g_autoptr(GPtrArray) sockets = g_ptr_array_new_with_free_func ((GDestroyNotify) ssq_test_ws_free);
  ProcStat before, after;

  ssq_test_wait_ms (500);
  before = server_stat ();
  for (guint i = 0; i < n; i++)
    {
      SsqTestWs *ws = ssq_test_ws_connect (server, u->token, NULL);
      if (ws == NULL)
        {
          printf ("  connection %u refused\n", i);
          break;
        }
      g_ptr_array_add (sockets, ws);
    }
  ssq_test_wait_ms (1000);
  after = server_stat ();
  printf ("%u idle WebSocket sessions:\n", sockets->len);
  printf ("  server RSS %" G_GINT64_FORMAT " KiB before, %" G_GINT64_FORMAT
          " KiB after: %.1f KiB per connection\n", before.rss_kb, after.rss_kb,
          (after.rss_kb - before.rss_kb) / (double) MAX (sockets->len, 1));
}

int
main (int    argc,
      char **argv)
{
  struct rlimit rl;
  g_autofree char *bin = NULL;

  /* 1,000 sessions need more than the default 1,024 descriptors on both ends. */
  getrlimit (RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit (RLIMIT_NOFILE, &rl);
  if (g_getenv ("SSQ_SERVER_BIN") == NULL)
    {
      g_autofree char *dir = g_path_get_dirname (argv[0]);
      bin = g_build_filename (dir, "..", "..", "server", "supersoniq-server", NULL);
      g_setenv ("SSQ_SERVER_BIN", bin, TRUE);
    }
  server = ssq_test_server_start (NULL,
    "max_sessions_per_user=2000\n[server]\ncommit_batch_max=512\n");
  bench_round_trip (argc > 1 ? (guint) atoi (argv[1]) : 2000);
  bench_group (100, argc > 2 ? (guint) atoi (argv[2]) : 2000, 32);
  bench_idle (1000);
  ssq_test_server_free (server);
  return 0;
}
