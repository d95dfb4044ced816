/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-bench-net.c: transport load generator, whose scenarios (fanout,
 * latency, open, hold; see --help) each run on a fresh server started from
 * SSQ_SERVER_BIN (old or new transport alike) in a temporary directory,
 * drive it with the lean clients of ssq-bench-ws.c and print figures that the
 * summary gives as ranges over the runs; not part of the test run. */
#include "ssq-bench-history.h"
#include "ssq-bench-stats.h"
#include "ssq-bench-ws.h"
#include "ssq-test-raw.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#define RT_WARMUP       50
#define NS_PER_S        ((gint64) 1000000000)
#define PING_EVERY_NS   ((gint64) 10000000)   /* durable: the pinger's pace */
#define PING_CALIBRATE  3000

/* ---- Options ---------------------------------------------------------- */

static int opt_runs = 2;
static int opt_members = 100;
static int opt_messages = 3000;
static int opt_window = 32;
static int opt_round_trips = 2000;
static int opt_idle = 10000;
static int opt_sessions = 10000;
static int opt_outstanding = 500;
static int opt_hold = 100000;
static int opt_hold_timeout = 120;
static int opt_sources = 8;
static gboolean opt_query_token = FALSE;
static gboolean opt_tls = FALSE;
static gboolean opt_no_durable = FALSE;
static int opt_history = 1000000;
static int opt_pages = 5000;
static int opt_connections = 8;
static int opt_seconds = 5;
static char **opt_server_keys;

static GOptionEntry entries[] = {
  { "runs", 'r', 0, G_OPTION_ARG_INT, &opt_runs, "Runs of each scenario, each on a fresh server (2)", "N" },
  { "members", 0, 0, G_OPTION_ARG_INT, &opt_members, "fanout: group members, one session each (100)", "N" },
  { "messages", 'm', 0, G_OPTION_ARG_INT, &opt_messages, "fanout: messages sent (3000)", "N" },
  { "window", 'w', 0, G_OPTION_ARG_INT, &opt_window, "fanout: sends in flight (32)", "N" },
  { "round-trips", 't', 0, G_OPTION_ARG_INT, &opt_round_trips, "latency, hold: round trips (2000)", "N" },
  { "idle", 'i', 0, G_OPTION_ARG_INT, &opt_idle, "latency: idle sessions attached (10000)", "N" },
  { "sessions", 's', 0, G_OPTION_ARG_INT, &opt_sessions, "open: sessions opened (10000)", "N" },
  { "outstanding", 'o', 0, G_OPTION_ARG_INT, &opt_outstanding, "Handshakes outstanding at a time (500)", "N" },
  { "hold", 0, 0, G_OPTION_ARG_INT, &opt_hold, "hold: idle sessions (100000)", "N" },
  { "hold-timeout", 0, 0, G_OPTION_ARG_INT, &opt_hold_timeout, "hold: give up opening after S seconds (120)", "S" },
  { "sources", 0, 0, G_OPTION_ARG_INT, &opt_sources, "Idle sessions bind to 127.0.0.2 … 127.0.0.(N+1) (8)", "N" },
  { "no-durable", 0, 0, G_OPTION_ARG_NONE, &opt_no_durable, "Commit without fsync (durable_commits=false): the transport without the disk", NULL },
  { "history", 0, 0, G_OPTION_ARG_INT, &opt_history, "history: messages in the conversation (1000000)", "N" },
  { "pages", 0, 0, G_OPTION_ARG_INT, &opt_pages, "history: pages fetched one at a time (5000)", "N" },
  { "connections", 0, 0, G_OPTION_ARG_INT, &opt_connections, "history: connections at once (8)", "N" },
  { "seconds", 0, 0, G_OPTION_ARG_INT, &opt_seconds, "history: seconds of load on them (5)", "S" },
  { "query-token", 0, 0, G_OPTION_ARG_NONE, &opt_query_token, "Pass the token as ?access_token= instead of the header", NULL },
  { "tls", 0, 0, G_OPTION_ARG_NONE, &opt_tls, "Sessions over TLS (wss://; the handshake counts in open's figures)", NULL },
  { "server-key", 0, 0, G_OPTION_ARG_STRING_ARRAY, &opt_server_keys, "A [server] setting of the server under test, as KEY=VALUE (repeatable; for trying settings side by side)", "KEY=VALUE" },
  { NULL }
};

/* ---- The server under test ------------------------------------------ */

static SsqTestServer *server;
static gboolean new_transport;

/* The old server ignores keys it does not know, but only keys it knows are
 * passed: the new transport's keys only when the binary has them. */
static gboolean
server_has_key (const char *key)
{
  g_autofree char *contents = NULL;
  gsize len = 0;

  if (!g_file_get_contents (g_getenv ("SSQ_SERVER_BIN"), &contents, &len, NULL))
    return FALSE;
  return memmem (contents, len, key, strlen (key)) != NULL;
}

static void
start_server (void)
{
  g_autofree char *keys = opt_server_keys != NULL ? g_strjoinv ("\n", opt_server_keys) : g_strdup ("");
  g_autofree char *extra = g_strdup_printf (
    "max_sessions_per_user=100000\nmax_connections=200000\n%s"
    "[server]\ncommit_batch_max=512\n%s%s\n",
    new_transport ? "max_connections_per_address=200000\n" : "",
    opt_no_durable ? "durable_commits=false\n" : "", keys);

  server = ssq_test_server_start (NULL, extra);
  ssq_bench_ws_set_server (server->listen);
}

static void
stop_server (void)
{
  g_clear_pointer (&server, ssq_test_server_free);
}

/* ---- Scenario helpers ------------------------------------------------- */

static GPtrArray *
register_users (const char *prefix,
                guint       n)
{
  GPtrArray *users = g_ptr_array_new_with_free_func ((GDestroyNotify) ssq_test_user_free);

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *name = g_strdup_printf ("%s%03u", prefix, i);

      g_ptr_array_add (users, ssq_test_register (server, name));
    }
  return users;
}

static SsqTestUser *
user_at (GPtrArray *users,
         guint      i)
{
  return users->pdata[i];
}

/* A direct conversation of users 0 and 1, each with a session open.
 * Returns the conversation id. */
static char *
open_direct (GPtrArray   *users,
             SsqBenchWs **out_a,
             SsqBenchWs **out_b)
{
  g_autofree char *json = g_strdup_printf ("{\"kind\":\"direct\",\"members\":[\"%s\"]}",
                                           user_at (users, 1)->username);
  char *conversation = ssq_test_create_conversation (server, user_at (users, 0), json);

  *out_a = ssq_bench_ws_open_one (user_at (users, 0)->token);
  *out_b = ssq_bench_ws_open_one (user_at (users, 1)->token);
  return conversation;
}

/* Sequential send → the receiver's `message` with this send's marker.
 * Returns the sorted round trips (ns); the first RT_WARMUP are not kept. */
static GArray *
round_trips (SsqBenchWs *sender,
             SsqBenchWs *receiver,
             const char *conversation,
             const char *tag,
             guint       n)
{
  GArray *lat = g_array_sized_new (FALSE, FALSE, sizeof (gint64), n);

  for (guint i = 0; i < n + RT_WARMUP; i++)
    {
      char marker[64], frame[512];
      int len;
      gint64 t0, dt;

      g_snprintf (marker, sizeof marker, "<%s-%u>", tag, i);
      len = g_snprintf (frame, sizeof frame,
                        "{\"type\":\"send\",\"id\":\"%s%u\",\"conversation_id\":\"%s\","
                        "\"client_id\":\"%s-%u\",\"body\":\"ping %s\"}",
                        tag, i, conversation, tag, i, marker);
      receiver->marker = marker;
      receiver->marker_seen = FALSE;
      t0 = ssq_bench_stats_now_ns ();
      ssq_bench_ws_send_text (sender, frame, (gsize) len);
      while (!receiver->marker_seen)
        {
          ssq_bench_ws_pump (1000);
          if (ssq_bench_stats_now_ns () - t0 > 10 * NS_PER_S ||
              receiver->state == SSQ_BENCH_WS_CLOSED || sender->state == SSQ_BENCH_WS_CLOSED)
            g_error ("Round trip %s %u: no message after 10 s (receiver %s, sender %s)", tag, i,
                     receiver->state == SSQ_BENCH_WS_CLOSED ? "closed" : "open",
                     sender->state == SSQ_BENCH_WS_CLOSED ? "closed" : "open");
        }
      dt = ssq_bench_stats_now_ns () - t0;
      receiver->marker = NULL;
      if (i >= RT_WARMUP)
        g_array_append_val (lat, dt);
    }
  ssq_bench_ws_pump_for (50);
  ssq_bench_stats_sort (lat);
  return lat;
}

/* Prints the server's resident set before and after @opened idle sessions
 * were opened; returns KiB per session. */
static double
print_idle_rss (SsqBenchSample before,
                SsqBenchSample after,
                guint          opened)
{
  double per_session = (after.rss_kb - before.rss_kb) / (double) MAX (opened, 1);

  printf ("  server RSS %" G_GINT64_FORMAT " KiB before, %" G_GINT64_FORMAT
          " KiB after: %.2f KiB per idle session\n",
          before.rss_kb, after.rss_kb, per_session);
  return per_session;
}

/* ---- Scenarios -------------------------------------------------------- */

/* One sender keeps a window of durable sends in flight to a group whose
 * members each have one session; every member session counts `message`. */
static void
scenario_fanout (void)
{
  const SsqBenchWsCounters *net = ssq_bench_ws_counters ();
  g_autoptr(GPtrArray) users = NULL;
  g_autoptr(GPtrArray) clients = g_ptr_array_new ();
  g_autoptr(GString) body = g_string_new ("{\"kind\":\"group\",\"title\":\"t\",\"members\":[");
  g_autofree char *conv = NULL;
  guint members = (guint) opt_members, n = (guint) opt_messages, window = (guint) opt_window;
  guint64 expected = (guint64) n * members;
  guint sent = 0;
  SsqBenchWs *sender;
  SsqBenchSample before, after;
  gint64 start, elapsed, last_ack = 0;
  double secs, server_us, bench_us;

  start_server ();
  users = register_users ("fan", members);
  for (guint i = 1; i < members; i++)
    g_string_append_printf (body, "%s\"%s\"", i > 1 ? "," : "", user_at (users, i)->username);
  g_string_append (body, "]}");
  conv = ssq_test_create_conversation (server, user_at (users, 0), body->str);
  for (guint i = 0; i < members; i++)
    g_ptr_array_add (clients, ssq_bench_ws_open_one (user_at (users, i)->token));
  sender = clients->pdata[0];
  ssq_bench_ws_pump_for (500);         /* presence of everyone coming online */
  ssq_bench_ws_reset_counters ();

  before = ssq_bench_stats_sample (server);
  start = ssq_bench_stats_now_ns ();
  while (net->messages < expected || sender->n_ack < n)
    {
      guint64 acks = sender->n_ack;

      while (sent < n && sent - sender->n_ack < window)
        {
          char frame[512];
          int len = g_snprintf (frame, sizeof frame,
                                "{\"type\":\"send\",\"id\":\"%u\",\"conversation_id\":\"%s\","
                                "\"client_id\":\"f%u\",\"body\":\"group message number %u\"}",
                                sent, conv, sent, sent);

          ssq_bench_ws_send_text (sender, frame, (gsize) len);
          sent++;
        }
      ssq_bench_ws_pump (100);
      if (sender->n_ack == n && acks < n)
        last_ack = ssq_bench_stats_now_ns ();
      if (ssq_bench_stats_now_ns () - start > 120 * NS_PER_S)
        {
          printf ("  gave up after 120 s\n");
          break;
        }
    }
  elapsed = ssq_bench_stats_now_ns () - start;
  after = ssq_bench_stats_sample (server);
  ssq_bench_ws_check_open ("member", clients);
  secs = elapsed / 1e9;
  server_us = after.cpu_us - before.cpu_us;
  bench_us = after.self_us - before.self_us;
  printf ("fanout: %u-member group, one sender, %u in flight, %u messages\n", members, window, n);
  printf ("  %" G_GUINT64_FORMAT " acked (all acked after %.2f s), %" G_GUINT64_FORMAT
          " message deliveries in %.2f s; %" G_GUINT64_FORMAT " frames in all (%" G_GUINT64_FORMAT
          " notification, %" G_GUINT64_FORMAT " error)\n",
          sender->n_ack, last_ack ? (last_ack - start) / 1e9 : 0.0, net->messages, secs,
          net->frames, net->notifications, net->errors);
  printf ("  %.0f acked msgs/s, %.0f deliveries/s, %.0f frames/s\n",
          sender->n_ack / secs, net->messages / secs, net->frames / secs);
  printf ("  server CPU %.2f µs per delivery (%.2f per frame, %.0f%% of a core); RSS %"
          G_GINT64_FORMAT " KiB; bench CPU %.2f µs per delivery\n",
          server_us / MAX (net->messages, 1), server_us / MAX (net->frames, 1),
          100.0 * server_us / (elapsed / 1e3), after.rss_kb, bench_us / MAX (net->messages, 1));
  ssq_bench_stats_record ("fanout acked msgs/s", sender->n_ack / secs);
  ssq_bench_stats_record ("fanout deliveries/s", net->messages / secs);
  ssq_bench_stats_record ("fanout frames/s received", net->frames / secs);
  ssq_bench_stats_record ("fanout server CPU us/delivery", server_us / MAX (net->messages, 1));
  ssq_bench_stats_record ("fanout server RSS KiB", after.rss_kb);
  ssq_bench_stats_record ("fanout bench CPU us/delivery", bench_us / MAX (net->messages, 1));
  stop_server ();
  ssq_bench_ws_free_all (clients);
}

/* The server's /metrics text (NULL if no answer). */
static char *
scrape_metrics (void)
{
  SsqTestRaw *raw = ssq_test_raw_open (server);
  SsqTestRawResponse r = { 0 };
  char *body = NULL;

  if (ssq_test_raw_send_str (raw, "GET /metrics HTTP/1.1\r\nHost: bench\r\n\r\n") &&
      ssq_test_raw_read_response (raw, 5000, &r) && r.body != NULL)
    body = g_strdup (r.body);
  ssq_test_raw_response_clear (&r);
  ssq_test_raw_close (raw);
  return body;
}

/* A value of @text, a /metrics answer (-1 if it has no such line, or
 * @text is NULL). @name starts with a newline. */
static double
metric_value (const char *text,
              const char *name)
{
  const char *at = text != NULL ? strstr (text, name) : NULL;

  return at != NULL ? g_ascii_strtod (at + strlen (name), NULL) : -1;
}

static double
scrape_metric (const char *name)
{
  g_autofree char *text = scrape_metrics ();

  return metric_value (text, name);
}

/* The server's longest main-loop iteration since the previous scrape, in
 * ms of wall time and of the loop thread's CPU time (-1 if the server has
 * no such gauge). Both come from one scrape: each scrape resets them. */
static void
scrape_loop_max_ms (double *wall_ms,
                    double *cpu_ms)
{
  g_autofree char *text = scrape_metrics ();
  double wall = metric_value (text, "\nssq_loop_iteration_max_microseconds ");
  double cpu = metric_value (text, "\nssq_loop_iteration_max_cpu_microseconds ");

  *wall_ms = wall < 0 ? wall : wall / 1000.0;
  *cpu_ms = cpu < 0 ? cpu : cpu / 1000.0;
}

/* Server CPU per ping (µs), from @n pings back to back on an idle server:
 * what the pinger's share of the load's CPU is taken out with. */
static double
ping_cost_us (SsqBenchWs *pinger,
              guint       n)
{
  SsqBenchSample s0 = ssq_bench_stats_sample (server), s1;
  guint64 first = pinger->n_pong;

  for (guint i = 0; i < n; i++)
    {
      ssq_bench_ws_send_text (pinger, "{\"type\":\"ping\",\"id\":\"c\"}", 24);
      while (pinger->n_pong == first + i)
        ssq_bench_ws_pump (100);
    }
  s1 = ssq_bench_stats_sample (server);
  return (s1.cpu_us - s0.cpu_us) / MAX (n, 1);
}

/* Issue 11: 50 direct conversations, each sender keeping --window durable
 * sends in flight (32, or 1); every receiver has a session. A pinger
 * session pings every 10 ms all along (paced, so that a faster server does
 * not answer more pings and runs compare): its worst round trip bounds the
 * longest stall of the server's loop (during commits, with this load). The
 * CPU per message is also given with the pings' share taken out. */
static void
scenario_durable (void)
{
  const guint n_convs = 50;
  guint window = (guint) opt_window, per_conv = MAX ((guint) opt_messages / n_convs, 1);
  g_autoptr(GPtrArray) users = NULL;
  g_autoptr(GPtrArray) clients = g_ptr_array_new ();
  g_autoptr(GPtrArray) convs = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GArray) lat = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GArray) pings = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autofree gint64 *sent_at = g_new0 (gint64, (gsize) n_convs * per_conv);
  g_autofree guint *sent = g_new0 (guint, n_convs);
  g_autofree guint64 *seen = g_new0 (guint64, n_convs);
  SsqBenchWs *pinger;
  SsqBenchSample before, after;
  gint64 start, elapsed, ping_t0 = 0, next_ping = 0;
  guint64 acked = 0, total = (guint64) n_convs * per_conv, pongs_before;
  double secs, server_us, loop_max_ms, loop_cpu_ms, per_ping_us, message_us, commits;

  start_server ();
  users = register_users ("dur", 2 * n_convs + 1);
  for (guint c = 0; c < n_convs; c++)
    {
      g_autofree char *json = g_strdup_printf ("{\"kind\":\"direct\",\"members\":[\"%s\"]}",
                                               user_at (users, 2 * c + 1)->username);

      g_ptr_array_add (convs, ssq_test_create_conversation (server, user_at (users, 2 * c), json));
    }
  for (guint i = 0; i < 2 * n_convs + 1; i++)
    g_ptr_array_add (clients, ssq_bench_ws_open_one (user_at (users, i)->token));
  pinger = clients->pdata[2 * n_convs];
  ssq_bench_ws_pump_for (500);
  per_ping_us = ping_cost_us (pinger, PING_CALIBRATE);
  pongs_before = pinger->n_pong;
  ssq_bench_ws_reset_counters ();

  scrape_loop_max_ms (&loop_max_ms, &loop_cpu_ms);   /* the set-up is not measured */
  commits = scrape_metric ("\nssq_commits_total ");
  before = ssq_bench_stats_sample (server);
  start = ssq_bench_stats_now_ns ();
  while (acked < total)
    {
      gint64 now;

      for (guint c = 0; c < n_convs; c++)
        {
          SsqBenchWs *ws = clients->pdata[2 * c];

          while (sent[c] < per_conv && sent[c] - ws->n_ack < window)
            {
              char frame[512];
              int len = g_snprintf (frame, sizeof frame,
                                    "{\"type\":\"send\",\"id\":\"%u\",\"conversation_id\":\"%s\","
                                    "\"client_id\":\"d%u\",\"body\":\"durable message %u\"}",
                                    sent[c], (char *) convs->pdata[c], sent[c], sent[c]);

              sent_at[c * per_conv + sent[c]] = ssq_bench_stats_now_ns ();
              ssq_bench_ws_send_text (ws, frame, (gsize) len);
              sent[c]++;
            }
        }
      if (ping_t0 == 0 && ssq_bench_stats_now_ns () >= next_ping)
        {
          ssq_bench_ws_send_text (pinger, "{\"type\":\"ping\",\"id\":\"p\"}", 24);
          ping_t0 = ssq_bench_stats_now_ns ();
          next_ping = ping_t0 + PING_EVERY_NS;
        }
      ssq_bench_ws_pump (100);
      now = ssq_bench_stats_now_ns ();
      /* Acks of one session come in the order of its sends. */
      for (guint c = 0; c < n_convs; c++)
        {
          SsqBenchWs *ws = clients->pdata[2 * c];

          for (; seen[c] < ws->n_ack; seen[c]++)
            {
              gint64 dt = now - sent_at[c * per_conv + seen[c]];

              g_array_append_val (lat, dt);
              acked++;
            }
        }
      if (ping_t0 != 0 && pinger->n_pong > pongs_before + pings->len)
        {
          gint64 dt = now - ping_t0;

          g_array_append_val (pings, dt);
          ping_t0 = 0;
        }
      if (now - start > 120 * NS_PER_S)
        {
          printf ("  gave up after 120 s\n");
          break;
        }
    }
  elapsed = ssq_bench_stats_now_ns () - start;
  after = ssq_bench_stats_sample (server);
  scrape_loop_max_ms (&loop_max_ms, &loop_cpu_ms);
  commits = scrape_metric ("\nssq_commits_total ") - commits;
  ssq_bench_ws_check_open ("session", clients);
  secs = elapsed / 1e9;
  server_us = after.cpu_us - before.cpu_us;
  message_us = MAX (server_us - per_ping_us * pings->len, 0) / MAX (acked, 1);
  ssq_bench_stats_sort (lat);
  ssq_bench_stats_sort (pings);
  printf ("durable: %u direct conversations x %u in flight, %" G_GUINT64_FORMAT " messages\n",
          n_convs, window, total);
  printf ("  %.0f acked msgs/s; ack p50 %.2f ms, p99 %.2f ms, max %.2f ms; server CPU %.2f µs"
          " per message\n", acked / secs,
          lat->len ? g_array_index (lat, gint64, lat->len / 2) / 1e6 : 0.0,
          lat->len ? g_array_index (lat, gint64, (guint) (lat->len * 0.99)) / 1e6 : 0.0,
          lat->len ? g_array_index (lat, gint64, lat->len - 1) / 1e6 : 0.0,
          server_us / MAX (acked, 1));
  printf ("  without the pings (%.1f µs each): %.2f µs per message, of which the writer"
          " thread %.2f; %.2f write system calls per message\n", per_ping_us, message_us,
          (after.writer_us - before.writer_us) / MAX (acked, 1),
          (after.syscw - before.syscw) / (double) MAX (acked, 1));
  printf ("  %.0f commits, %.1f messages per commit\n", commits, acked / MAX (commits, 1));
  printf ("  pings meanwhile (every %.0f ms): %u, p50 %.2f ms, worst %.2f ms\n",
          PING_EVERY_NS / 1e6, pings->len,
          pings->len ? g_array_index (pings, gint64, pings->len / 2) / 1e6 : 0.0,
          pings->len ? g_array_index (pings, gint64, pings->len - 1) / 1e6 : 0.0);
  if (loop_max_ms >= 0)
    printf ("  longest server loop iteration (metrics): %.2f ms, most CPU time in one: %.2f ms\n",
            loop_max_ms, loop_cpu_ms);
  ssq_bench_stats_record ("durable acked msgs/s", acked / secs);
  ssq_bench_stats_record ("durable server CPU us/msg, pings out", message_us);
  ssq_bench_stats_record ("durable writer thread CPU us/msg",
                          (after.writer_us - before.writer_us) / MAX (acked, 1));
  ssq_bench_stats_record ("durable write syscalls/msg",
                          (after.syscw - before.syscw) / (double) MAX (acked, 1));
  ssq_bench_stats_record ("durable ack p99 ms",
                          lat->len ? g_array_index (lat, gint64, (guint) (lat->len * 0.99)) / 1e6 : 0);
  ssq_bench_stats_record ("durable worst ping ms",
                          pings->len ? g_array_index (pings, gint64, pings->len - 1) / 1e6 : 0);
  if (loop_max_ms >= 0)
    ssq_bench_stats_record ("durable longest loop iteration ms", loop_max_ms);
  if (loop_cpu_ms >= 0)
    ssq_bench_stats_record ("durable most loop CPU in one iteration ms", loop_cpu_ms);
  stop_server ();
  ssq_bench_ws_free_all (clients);
}

/* A direct conversation, sequential round trips, then the same with idle
 * sessions of a third user attached. */
static void
scenario_latency (void)
{
  g_autoptr(GPtrArray) users = NULL;
  g_autoptr(GPtrArray) idle = g_ptr_array_new ();
  g_autoptr(GArray) quiet = NULL;
  g_autoptr(GArray) loaded = NULL;
  g_autofree char *conv = NULL;
  g_autofree char *label = NULL;
  SsqBenchWs *a, *b;
  SsqBenchSample s0, s1;
  guint opened;
  char *idle_token;
  double p50_ratio, p99_ratio;

  start_server ();
  users = register_users ("lat", 3);
  conv = open_direct (users, &a, &b);
  ssq_bench_ws_pump_for (300);

  printf ("latency: direct conversation, sequential send → message, %d round trips\n",
          opt_round_trips);
  s0 = ssq_bench_stats_sample (server);
  quiet = round_trips (a, b, conv, "q", (guint) opt_round_trips);
  s1 = ssq_bench_stats_sample (server);
  ssq_bench_stats_print_latency ("no idle sessions", quiet, s1.cpu_us - s0.cpu_us);

  idle_token = user_at (users, 2)->token;
  opened = ssq_bench_ws_open_sessions (&idle_token, 1, (guint) opt_idle, (guint) opt_sources,
                                       (guint) opt_outstanding, 300, idle);
  ssq_bench_ws_pump_for (1000);
  s0 = ssq_bench_stats_sample (server);
  loaded = round_trips (a, b, conv, "l", (guint) opt_round_trips);
  s1 = ssq_bench_stats_sample (server);
  label = g_strdup_printf ("%u idle sessions", opened);
  ssq_bench_stats_print_latency (label, loaded, s1.cpu_us - s0.cpu_us);
  ssq_bench_ws_check_open ("idle", idle);
  p50_ratio = ssq_bench_stats_percentile_us (loaded, 0.5) /
              ssq_bench_stats_percentile_us (quiet, 0.5);
  p99_ratio = ssq_bench_stats_percentile_us (loaded, 0.99) /
              ssq_bench_stats_percentile_us (quiet, 0.99);
  printf ("  ratio loaded/quiet: p50 %.2f, p99 %.2f\n", p50_ratio, p99_ratio);
  ssq_bench_stats_record ("latency p50 us", ssq_bench_stats_percentile_us (quiet, 0.5));
  ssq_bench_stats_record ("latency p99 us", ssq_bench_stats_percentile_us (quiet, 0.99));
  ssq_bench_stats_record ("latency+idle p50 us", ssq_bench_stats_percentile_us (loaded, 0.5));
  ssq_bench_stats_record ("latency+idle p99 us", ssq_bench_stats_percentile_us (loaded, 0.99));
  ssq_bench_stats_record ("latency+idle/quiet p50 ratio", p50_ratio);
  ssq_bench_stats_record ("latency+idle/quiet p99 ratio", p99_ratio);
  stop_server ();
  ssq_bench_ws_free_all (idle);
  ssq_bench_ws_free (a);
  ssq_bench_ws_free (b);
}

/* Opening sessions (TCP, upgrade, token check, welcome), then memory. */
static void
scenario_open (void)
{
  g_autoptr(GPtrArray) users = NULL;
  g_autoptr(GPtrArray) clients = g_ptr_array_new ();
  char *token;
  SsqBenchSample s0, s1, s2;
  gint64 t0, t1;
  guint opened;
  double secs, cpu_per_session, rss_per_session;

  start_server ();
  users = register_users ("open", 1);
  token = user_at (users, 0)->token;
  ssq_test_wait_ms (500);
  s0 = ssq_bench_stats_sample (server);
  t0 = ssq_bench_stats_now_ns ();
  opened = ssq_bench_ws_open_sessions (&token, 1, (guint) opt_sessions, (guint) opt_sources,
                                       (guint) opt_outstanding, 300, clients);
  t1 = ssq_bench_stats_now_ns ();
  s1 = ssq_bench_stats_sample (server);
  ssq_bench_ws_pump_for (1000);
  s2 = ssq_bench_stats_sample (server);
  ssq_bench_ws_check_open ("new", clients);
  secs = (t1 - t0) / 1e9;
  cpu_per_session = (s1.cpu_us - s0.cpu_us) / MAX (opened, 1);
  printf ("open: %u sessions (of %d), up to %d handshakes outstanding\n", opened, opt_sessions,
          opt_outstanding);
  printf ("  %.2f s: %.0f sessions/s; server CPU %.1f µs per session (bench %.1f)\n", secs,
          opened / secs, cpu_per_session, (s1.self_us - s0.self_us) / MAX (opened, 1));
  rss_per_session = print_idle_rss (s0, s2, opened);
  ssq_bench_stats_record ("open sessions/s", opened / secs);
  ssq_bench_stats_record ("open server CPU us/session", cpu_per_session);
  ssq_bench_stats_record ("open RSS KiB/idle session", rss_per_session);
  stop_server ();
  ssq_bench_ws_free_all (clients);
}

/* Many idle sessions (spread over users and source addresses), then the
 * round trip beside them. */
static void
scenario_hold (void)
{
  g_autoptr(GPtrArray) users = NULL;
  g_autoptr(GPtrArray) idle_users = NULL;
  g_autoptr(GPtrArray) clients = g_ptr_array_new ();
  g_autoptr(GArray) lat = NULL;
  g_autofree char **tokens = NULL;
  g_autofree char *conv = NULL;
  guint n_idle_users = CLAMP ((guint) opt_hold / 1000, 1, 100);
  SsqBenchWs *a, *b;
  SsqBenchSample s0, s1, s2, s3;
  gint64 t0, t1;
  guint opened;
  double secs, rss_per_session;

  start_server ();
  users = register_users ("hold", 2);
  idle_users = register_users ("idle", n_idle_users);
  tokens = g_new0 (char *, n_idle_users);
  for (guint i = 0; i < n_idle_users; i++)
    tokens[i] = user_at (idle_users, i)->token;
  conv = open_direct (users, &a, &b);
  ssq_test_wait_ms (500);
  s0 = ssq_bench_stats_sample (server);
  t0 = ssq_bench_stats_now_ns ();
  opened = ssq_bench_ws_open_sessions (tokens, n_idle_users, (guint) opt_hold,
                                       (guint) opt_sources, (guint) opt_outstanding,
                                       (guint) opt_hold_timeout, clients);
  t1 = ssq_bench_stats_now_ns ();
  s1 = ssq_bench_stats_sample (server);
  ssq_bench_ws_pump_for (2000);
  s2 = ssq_bench_stats_sample (server);
  secs = (t1 - t0) / 1e9;
  printf ("hold: %u idle sessions of %u users (asked %d) from %d source addresses\n", opened,
          n_idle_users, opt_hold, opt_sources);
  printf ("  opened in %.1f s: %.0f sessions/s; server CPU %.1f µs per session\n", secs,
          opened / secs, (s1.cpu_us - s0.cpu_us) / MAX (opened, 1));
  rss_per_session = print_idle_rss (s0, s2, opened);
  lat = round_trips (a, b, conv, "h", (guint) opt_round_trips);
  s3 = ssq_bench_stats_sample (server);
  ssq_bench_stats_print_latency ("round trip beside them", lat, s3.cpu_us - s2.cpu_us);
  ssq_bench_ws_check_open ("idle", clients);
  ssq_bench_stats_record ("hold sessions open", opened);
  ssq_bench_stats_record ("hold open seconds", secs);
  ssq_bench_stats_record ("hold RSS KiB/idle session", rss_per_session);
  ssq_bench_stats_record ("hold server RSS MiB", s2.rss_kb / 1024.0);
  ssq_bench_stats_record ("hold latency p50 us", ssq_bench_stats_percentile_us (lat, 0.5));
  ssq_bench_stats_record ("hold latency p99 us", ssq_bench_stats_percentile_us (lat, 0.99));
  stop_server ();
  ssq_bench_ws_free_all (clients);
  ssq_bench_ws_free (a);
  ssq_bench_ws_free (b);
}

/* Sends @n messages to @conv on @ws, @window in flight, and waits for
 * every ack. */
static void
fill_conversation (SsqBenchWs *ws,
                   const char *conv,
                   guint       n,
                   guint       window)
{
  guint64 acked = ws->n_ack + n;

  for (guint sent = 0; sent < n || ws->n_ack < acked;)
    {
      while (sent < n && sent + acked - n - ws->n_ack < window)
        {
          char frame[512];
          int len = g_snprintf (frame, sizeof frame,
                                "{\"type\":\"send\",\"id\":\"f%u\",\"conversation_id\":\"%s\","
                                "\"client_id\":\"%s-%u\",\"body\":\"a message of about the length "
                                "people write, number %u\"}", sent, conv, conv, sent, sent);

          ssq_bench_ws_send_text (ws, frame, (gsize) len);
          sent++;
        }
      ssq_bench_ws_pump (100);
    }
}

static void
sync_from_nothing (SsqBenchWs *ws)
{
  static const char frame[] = "{\"type\":\"sync\",\"id\":\"s\",\"since\":{}}";
  guint64 acked = ws->n_ack + 1;

  ssq_bench_ws_send_text (ws, frame, sizeof frame - 1);
  while (ws->n_ack < acked && ws->state == SSQ_BENCH_WS_OPEN)
    ssq_bench_ws_pump (100);
}

/* Issue 11: a device catching up from nothing, again and again on one
 * session: 3 conversations of 1,000 messages each, every sync sending all
 * of them (1,000 a conversation is a sync's most, sent in one step of the
 * main loop). Prints the server CPU per sync and the longest main-loop
 * iteration meanwhile, after a first sync that is not measured (it reads
 * the pages into memory). --round-trips sets how many syncs (default
 * 2000: use 300). */
static void
scenario_sync (void)
{
  const guint n_convs = 3, per_conv = 1000;
  guint syncs = MIN ((guint) opt_round_trips, 100000);
  g_autoptr(GPtrArray) users = NULL;
  g_autoptr(GPtrArray) convs = g_ptr_array_new_with_free_func (g_free);
  SsqBenchWs *ws;
  SsqBenchSample before, after;
  gint64 start, elapsed;
  double loop_max_ms, loop_cpu_ms, cpu_ms;

  start_server ();
  users = register_users ("sync", 1);
  ws = ssq_bench_ws_open_one (user_at (users, 0)->token);
  for (guint c = 0; c < n_convs; c++)
    {
      g_autofree char *json = g_strdup_printf ("{\"kind\":\"group\",\"title\":\"S%u\"}", c);

      g_ptr_array_add (convs, ssq_test_create_conversation (server, user_at (users, 0), json));
      fill_conversation (ws, convs->pdata[c], per_conv, 64);
    }
  ssq_bench_ws_pump_for (200);
  /* A first sync reads the pages into memory: not measured. */
  sync_from_nothing (ws);
  scrape_loop_max_ms (&loop_max_ms, &loop_cpu_ms);   /* the set-up is not measured */
  before = ssq_bench_stats_sample (server);
  start = ssq_bench_stats_now_ns ();
  for (guint i = 0; i < syncs; i++)
    sync_from_nothing (ws);
  elapsed = ssq_bench_stats_now_ns () - start;
  after = ssq_bench_stats_sample (server);
  scrape_loop_max_ms (&loop_max_ms, &loop_cpu_ms);
  if (ws->state != SSQ_BENCH_WS_OPEN)
    printf ("  the session was closed (code %u)\n", ws->close_code);
  cpu_ms = (after.cpu_us - before.cpu_us) / 1000.0 / MAX (syncs, 1);
  printf ("sync: %u conversations x %u messages, %u syncs from nothing on one session\n",
          n_convs, per_conv, syncs);
  printf ("  %.1f syncs/s; server CPU %.2f ms per sync (%.2f µs per message)\n",
          syncs / (elapsed / 1e9), cpu_ms, cpu_ms * 1000.0 / (n_convs * per_conv));
  printf ("  longest server loop iteration (metrics): %.2f ms, most CPU time in one: %.2f ms\n",
          loop_max_ms, loop_cpu_ms);
  ssq_bench_stats_record ("sync server CPU ms/sync", cpu_ms);
  ssq_bench_stats_record ("sync longest loop iteration ms", loop_max_ms);
  ssq_bench_stats_record ("sync most loop CPU in one iteration ms", loop_cpu_ms);
  stop_server ();
  ssq_bench_ws_free (ws);
}

/* Issue 11: pages of 50 from a conversation of a million messages (see
 * ssq-bench-history.c). */
static void
scenario_history (void)
{
  ssq_bench_history_run ((guint64) opt_history, (guint) opt_pages, (guint) opt_connections,
                         (guint) opt_seconds);
}

/* ---- Main ------------------------------------------------------------- */

static const struct {
  const char *name;
  void      (*run) (void);
} scenarios[] = {
  { "fanout", scenario_fanout },
  { "durable", scenario_durable },
  { "latency", scenario_latency },
  { "open", scenario_open },
  { "hold", scenario_hold },
  { "history", scenario_history },
  { "sync", scenario_sync },
};

static gboolean
run_scenario (const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (scenarios); i++)
    if (g_str_equal (name, scenarios[i].name))
      {
        scenarios[i].run ();
        return TRUE;
      }
  return FALSE;
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new ("SCENARIO… — fanout durable latency open hold history sync");
  g_autoptr(GError) error = NULL;
  guint fd_limit;

  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_summary (context,
    "Runs each scenario --runs times against $SSQ_SERVER_BIN, each run on a fresh server.");
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }
  if (argc < 2)
    {
      g_printerr ("Name one or more scenarios: fanout durable latency open hold history sync\n");
      return 2;
    }
  if (g_getenv ("SSQ_SERVER_BIN") == NULL)
    {
      g_autofree char *dir = g_path_get_dirname (argv[0]);
      g_autofree char *bin = g_build_filename (dir, "..", "..", "server", "supersoniq-server",
                                               NULL);

      g_setenv ("SSQ_SERVER_BIN", bin, TRUE);
    }
  signal (SIGPIPE, SIG_IGN);
  fd_limit = ssq_bench_ws_raise_fd_limit ();
  if ((guint) opt_hold + 200 > fd_limit)
    {
      printf ("note: hold lowered from %d to %u sessions to fit the descriptor limit\n",
              opt_hold, fd_limit - 200);
      opt_hold = (int) (fd_limit - 200);
    }
  new_transport = server_has_key ("max_connections_per_address");
  ssq_bench_ws_init (opt_query_token);
  ssq_bench_ws_set_tls (opt_tls);
  printf ("sessions over %s\n", opt_tls ? "TLS (wss://)" : "plain TCP (ws://, loopback)");
  printf ("server %s (%s config keys%s); descriptors %u\n", g_getenv ("SSQ_SERVER_BIN"),
          new_transport ? "new transport's" : "old",
          opt_no_durable ? ", durable_commits=false" : "", fd_limit);

  for (int run = 1; run <= opt_runs; run++)
    for (int i = 1; i < argc; i++)
      {
        printf ("\n-- run %d: %s --\n", run, argv[i]);
        fflush (stdout);
        if (!run_scenario (argv[i]))
          {
            g_printerr ("Unknown scenario %s\n", argv[i]);
            return 2;
          }
        fflush (stdout);
      }
  ssq_bench_stats_print_summary (g_getenv ("SSQ_SERVER_BIN"));
  ssq_bench_stats_clear ();
  ssq_bench_history_cleanup ();
  ssq_bench_ws_shutdown ();
  return 0;
}
