/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-limits.c: what one client can make the server do: login guessing
 * (throttled per account and address, per account, registrations per
 * address) and relayed events. Clients bind to 127.0.0.2, 127.0.0.3, … to
 * come from different addresses. */
#include "ssq-test-raw.h"
#include "ssq-bench-ws.h"

#include <string.h>

#define WAIT_MS SSQ_TEST_RAW_WAIT_MS

/* POSTs @json to @path from @source over a fresh connection; the status,
 * with retry_after_ms of a 429 in @out_retry (may be NULL). */
static guint
post_from (SsqTestServer *server,
           const char    *source,
           const char    *path,
           const char    *json,
           gint64        *out_retry)
{
  g_autoptr(SsqTestRaw) c = ssq_test_raw_open_full (server, source, 0, 0);
  g_autofree char *request = g_strdup_printf ("POST %s HTTP/1.1\r\nHost: test\r\n"
                                              "Content-Type: application/json\r\n"
                                              "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                                              path, strlen (json), json);
  g_auto(SsqTestRawResponse) r = { 0 };

  g_assert_true (ssq_test_raw_send_str (c, request));
  g_assert_true (ssq_test_raw_read_response (c, WAIT_MS, &r));
  if (out_retry != NULL)
    {
      g_autoptr(JsonParser) parser = json_parser_new ();
      JsonObject *error;

      *out_retry = 0;
      if (r.status == 429 && json_parser_load_from_data (parser, r.body, -1, NULL) &&
          (error = json_object_get_object_member (json_node_get_object (json_parser_get_root (parser)),
                                                  "error")) != NULL)
        *out_retry = json_object_get_int_member (error, "retry_after_ms");
    }
  return r.status;
}

static guint
login_from (SsqTestServer *server,
            const char    *source,
            const char    *username,
            const char    *password,
            gint64        *out_retry)
{
  g_autofree char *json = g_strdup_printf ("{\"username\":\"%s\",\"password\":\"%s\"}",
                                           username, password);

  return post_from (server, source, "/api/v1/login", json, out_retry);
}

static guint
login_right_from (SsqTestServer *server,
                  const char    *source,
                  const char    *username)
{
  g_autofree char *password = g_strconcat ("password-", username, NULL);

  return login_from (server, source, username, password, NULL);
}

/* An attacker behind one address guesses one account's password 40 times
 * (a per-address limit of 30 a minute then refused everyone there, the
 * owner everywhere). Now the guesser backs off on that account alone: the
 * owner logs in from elsewhere, another user from the same address. */
static void
test_login_pair_backoff (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, NULL);
  g_autoptr(SsqTestUser) alice = ssq_test_register (server, "pair.alice");
  g_autoptr(SsqTestUser) bob = ssq_test_register (server, "pair.bob");
  guint refused = 0, wrong = 0;
  gint64 retry = 0;

  for (int i = 0; i < 40; i++)
    {
      guint status = login_from (server, "127.0.0.2", "pair.alice", "not-the-password", &retry);

      g_assert_true (status == 401 || status == 429);
      wrong += status == 401;
      refused += status == 429;
    }
  g_test_message ("40 guesses: %u answered 401, %u refused 429 (last retry_after_ms %"
                  G_GINT64_FORMAT ")", wrong, refused, retry);
  g_assert_cmpuint (wrong, >=, 5);     /* the free failures (default 5) */
  g_assert_cmpuint (refused, >, 0);
  /* Everyone else is not. */
  g_assert_cmpuint (login_right_from (server, "127.0.0.3", "pair.alice"), ==, 200);
  g_assert_cmpuint (login_right_from (server, "127.0.0.2", "pair.bob"), ==, 200);
  g_assert_cmpuint (login_right_from (server, "127.0.0.1", "pair.bob"), ==, 200);
}

/* A guesser spread over many addresses meets the account's own backoff once
 * an address has failed there; an address that has not failed (the owner's)
 * still gets in with the right password. */
static void
test_login_account_backoff (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL,
    "login_free_failures=5\nlogin_account_free_failures=1\n");
  g_autoptr(SsqTestUser) alice = ssq_test_register (server, "acct.alice");
  gint64 retry = 0;

  /* 20 addresses fail once each: the account's lockout doubles every 4
   * failures past the first, to 16 s, long enough for a slow machine. */
  for (int i = 0; i < 20; i++)
    {
      g_autofree char *source = g_strdup_printf ("127.0.0.%d", 10 + i);

      g_assert_cmpuint (login_from (server, source, "acct.alice", "wrong-guess", NULL), ==, 401);
    }
  /* Each of these addresses has one failure, far from its own five. */
  g_assert_cmpuint (login_from (server, "127.0.0.10", "acct.alice", "wrong-guess", &retry), ==, 429);
  g_test_message ("account locked: retry_after_ms %" G_GINT64_FORMAT, retry);
  g_assert_cmpint (retry, >, 0);
  g_assert_cmpuint (login_from (server, "127.0.0.11", "acct.alice", "password-acct.alice", NULL),
                    ==, 429);
  /* The owner, from addresses without failures. */
  g_assert_cmpuint (login_right_from (server, "127.0.0.200", "acct.alice"), ==, 200);
  g_assert_cmpuint (login_right_from (server, "127.0.0.1", "acct.alice"), ==, 200);
}

/* Registrations are counted per address. */
static void
test_registration_per_address (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, "registrations_per_hour=2\n");
  gint64 retry = 0;

  for (int i = 0; i < 2; i++)
    {
      g_autofree char *json = g_strdup_printf ("{\"username\":\"reg.a%d\",\"password\":\"password-x\"}", i);

      g_assert_cmpuint (post_from (server, "127.0.0.2", "/api/v1/register", json, NULL), ==, 201);
    }
  g_assert_cmpuint (post_from (server, "127.0.0.2", "/api/v1/register",
                               "{\"username\":\"reg.a9\",\"password\":\"password-x\"}", &retry),
                    ==, 429);
  g_test_message ("third registration: retry_after_ms %" G_GINT64_FORMAT, retry);
  g_assert_cmpint (retry, >, 0);
  g_assert_cmpuint (post_from (server, "127.0.0.3", "/api/v1/register",
                               "{\"username\":\"reg.b0\",\"password\":\"password-x\"}", NULL),
                    ==, 201);
  /* Logins are not registrations: the address still logs in. */
  g_assert_cmpuint (login_from (server, "127.0.0.2", "reg.a0", "password-x", NULL), ==, 200);
}

/* ---- One member floods a 200-member group ----------------------------- */

#define FLOOD_MEMBERS      200
#define FLOOD_BUDGET       10        /* messages_per_minute of this test */
#define FLOOD_MS           5000
#define FLOOD_SETTLE_MS    4000      /* windows end: deferred relays go out */
#define TYPING_WINDOW_MS   3000
#define PRESENCE_WINDOW_MS 2000
/* Generous caps on one frame of each kind as the server writes them. */
#define EDIT_FRAME_MAX     (16384 + 1024)
#define MEMBER_JSON_MAX    400
#define SMALL_FRAME_MAX    256

/* The receivers' side, in a thread of its own so that the flooder's
 * blocking requests do not delay it: every session is read, and the
 * pinger (another member) pings whenever its last ping was answered, at
 * most every 20 ms. */
typedef struct {
  SsqBenchWs *pinger;
  int         stop;
  GArray     *rtt_us;
  guint       pings_sent;
} Receivers;

static gpointer
receivers_thread (gpointer data)
{
  Receivers *r = data;
  guint64 pongs = r->pinger->n_pong;
  gint64 sent_at = 0;
  gboolean waiting = FALSE;

  while (!g_atomic_int_get (&r->stop) || waiting)
    {
      gint64 now;

      ssq_bench_ws_pump (2);
      now = g_get_monotonic_time ();
      if (waiting && r->pinger->n_pong > pongs)
        {
          gint64 rtt = now - sent_at;

          pongs = r->pinger->n_pong;
          waiting = FALSE;
          g_array_append_val (r->rtt_us, rtt);
        }
      if (waiting && g_atomic_int_get (&r->stop) && now - sent_at > 30 * G_USEC_PER_SEC)
        break;    /* never answered: the test says so */
      if (!waiting && !g_atomic_int_get (&r->stop) && now - sent_at >= 20000)
        {
          g_autofree char *ping = g_strdup_printf ("{\"type\":\"ping\",\"id\":%u}", ++r->pings_sent);

          ssq_bench_ws_send_text (r->pinger, ping, strlen (ping));
          sent_at = now;
          waiting = TRUE;
        }
    }
  return NULL;
}

static gint
compare_gint64 (gconstpointer a,
                gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return (x > y) - (x < y);
}

static double
percentile_ms (GArray *samples,
               double  p)
{
  guint i;

  if (samples->len == 0)
    return 0;
  g_array_sort (samples, compare_gint64);
  i = (guint) MIN (samples->len - 1, (guint) (p * samples->len));
  return g_array_index (samples, gint64, i) / 1000.0;
}

/* The flooder's WebSocket: frames out, whatever comes in read and dropped. */
static gsize
flood_ws_send (SsqTestRaw *ws,
               const char *text)
{
  g_autoptr(GByteArray) frame = g_byte_array_new ();

  ssq_test_raw_ws_frame_append (frame, 0x81, text, strlen (text));
  g_assert_cmpuint (ssq_test_raw_send (ws, frame->data, frame->len, WAIT_MS), ==, frame->len);
  ssq_test_raw_ws_pump (ws, 0, NULL);
  return frame->len;
}

/* One chat operation over REST: its status, which must be a success, 429,
 * or (adding a member already in, removing one not in: nothing relayed)
 * 409 or 404. */
static guint
flood_http (SsqTestServer *server,
            const char    *method,
            const char    *path,
            const char    *token,
            const char    *body,
            gsize         *sent)
{
  guint status = 0;
  g_autoptr(JsonObject) r = ssq_test_http (server, method, path, token, body, &status);

  *sent += strlen (path) + (body ? strlen (body) : 0) + 100;
  if (status != 200 && status != 201 && status != 204 && status != 429 && status != 404 &&
      status != 409)
    g_error ("%s %s: %u %s", method, path, status, r ? ssq_test_error_code (r) : "");
  return status;
}

/* One member toggles presence and typing, renames, edits 16 KB, deletes
 * and adds and removes a member, as fast as it can for 5 s. What the other
 * 199 members receive stays within what the limits allow, and another
 * member's pings keep being answered. (Before: presence x440, typing x259,
 * a rename 6.8 MB, 100 edits of 16 KB 1.97 GB, a ping 44.9 s.) */
static void
test_flood_fan_out (void)
{
  g_autofree char *config = g_strdup_printf ("messages_per_minute=%d\njoins_per_hour=0\n"
                                             "max_connections_per_address=1000\n"
                                             "[server]\ndurable_commits=false\n", FLOOD_BUDGET);
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, config);
  g_autoptr(GPtrArray) users = g_ptr_array_new_with_free_func ((GDestroyNotify) ssq_test_user_free);
  g_autoptr(GPtrArray) tokens = g_ptr_array_new ();
  g_autoptr(GPtrArray) clients = g_ptr_array_new ();
  g_autoptr(GString) create = g_string_new ("{\"kind\":\"group\",\"title\":\"flood\",\"members\":[");
  g_autoptr(SsqTestUser) extra = NULL;
  g_autoptr(SsqTestRaw) ws = NULL;
  g_autofree char *conv = NULL, *conv_path = NULL, *messages = NULL, *members = NULL;
  g_autofree char *edit_body = NULL;
  g_autoptr(GString) big = g_string_new (NULL);
  const SsqBenchWsCounters *count;
  Receivers rx = { 0 };
  GThread *thread;
  guint receivers, charged = 0, refused = 0, frames_out = 0, next_delete = 2;
  guint64 typing_bound, presence_bound, bytes_bound, ops_frames;
  gsize sent = 0;
  gint64 start, span_ms;
  SsqTestUser *flooder;

  /* Users 0 (the flooder, owner) to 199, and one more to add and remove. */
  for (guint i = 0; i < FLOOD_MEMBERS; i++)
    {
      g_autofree char *name = g_strdup_printf ("flood.%03u", i);

      g_ptr_array_add (users, ssq_test_register (server, name));
      if (i > 0)
        g_string_append_printf (create, "%s\"%s\"", i > 1 ? "," : "", name);
    }
  extra = ssq_test_register (server, "flood.extra");
  flooder = users->pdata[0];
  g_string_append (create, "]}");
  conv = ssq_test_create_conversation (server, flooder, create->str);
  conv_path = g_strdup_printf ("/api/v1/conversations/%s", conv);
  messages = g_strdup_printf ("/api/v1/conversations/%s/messages", conv);
  members = g_strdup_printf ("/api/v1/conversations/%s/members", conv);
  /* Something to edit (the flooder's: one of its budget) and to delete
   * (others', which the owner may delete). */
  for (guint i = 0; i < 12; i++)
    {
      SsqTestUser *u = users->pdata[i];
      g_autofree char *body = g_strdup_printf ("{\"client_id\":\"seed\",\"body\":\"seed %u\"}", i);

      g_assert_cmpuint (flood_http (server, "POST", messages, u->token, body, &sent), ==, 201);
    }

  /* Everyone but the flooder connects; then wait for the presence of all
   * those arrivals to settle before counting. */
  for (guint i = 1; i < FLOOD_MEMBERS; i++)
    g_ptr_array_add (tokens, ((SsqTestUser *) users->pdata[i])->token);
  ssq_bench_ws_init (FALSE);
  ssq_bench_ws_set_server (server->listen);
  receivers = ssq_bench_ws_open_sessions ((char **) tokens->pdata, tokens->len, tokens->len, 0,
                                          50, 60, clients);
  g_assert_cmpuint (receivers, ==, FLOOD_MEMBERS - 1);
  ws = ssq_test_raw_ws_open (server, flooder->token, 0, 0);
  count = ssq_bench_ws_counters ();
  for (guint64 before = G_MAXUINT64; before != count->frames;)
    {
      before = count->frames;
      ssq_bench_ws_pump_for (PRESENCE_WINDOW_MS + 500);
    }
  ssq_bench_ws_reset_counters ();

  rx.pinger = clients->pdata[0];     /* flood.001 */
  rx.rtt_us = g_array_new (FALSE, FALSE, sizeof (gint64));
  thread = g_thread_new ("receivers", receivers_thread, &rx);

  g_string_set_size (big, 0);
  g_string_append (big, "{\"body\":\"");
  for (guint i = 0; i < 16384; i++)
    g_string_append_c (big, 'a' + i % 26);
  g_string_append (big, "\"}");
  edit_body = g_string_free (g_steal_pointer (&big), FALSE);
  start = g_get_monotonic_time ();
  for (guint i = 0; g_get_monotonic_time () - start < FLOOD_MS * 1000; i++)
    {
      g_autofree char *typing = g_strdup_printf ("{\"type\":\"typing\",\"conversation_id\":\"%s\","
                                                 "\"active\":%s}", conv, i % 2 ? "false" : "true");
      g_autofree char *path = NULL;
      gboolean done;
      guint status;

      sent += flood_ws_send (ws, i % 2 ? "{\"type\":\"presence\",\"status\":\"online\"}"
                                       : "{\"type\":\"presence\",\"status\":\"away\"}");
      sent += flood_ws_send (ws, typing);
      frames_out += 2;
      switch (i % 5)
        {
        case 0:
          path = g_strdup_printf ("{\"title\":\"flood %u\"}", i);
          status = flood_http (server, "PATCH", conv_path, flooder->token, path, &sent);
          break;
        case 1:
          path = g_strdup_printf ("%s/1", messages);
          status = flood_http (server, "PATCH", path, flooder->token, edit_body, &sent);
          break;
        case 2:
          path = g_strdup_printf ("%s/%u", messages, next_delete);
          status = flood_http (server, "DELETE", path, flooder->token, NULL, &sent);
          next_delete += status == 204 && next_delete < 12;
          break;
        case 3:
          status = flood_http (server, "POST", members, flooder->token,
                               "{\"username\":\"flood.extra\"}", &sent);
          break;
        default:
          path = g_strdup_printf ("%s/flood.extra", members);
          status = flood_http (server, "DELETE", path, flooder->token, NULL, &sent);
          break;
        }
      if (status == 404 || status == 409)
        continue;
      done = status != 429;
      charged += done;
      refused += !done;
    }
  /* Deferred relays leave at the end of their windows. */
  while (g_get_monotonic_time () - start < (FLOOD_MS + FLOOD_SETTLE_MS) * 1000)
    {
      ssq_test_raw_ws_pump (ws, 50, NULL);
    }
  span_ms = (g_get_monotonic_time () - start) / 1000;
  g_atomic_int_set (&rx.stop, 1);
  g_thread_join (thread);

  /* At most one relay per window, and one at its very start. */
  typing_bound = span_ms / TYPING_WINDOW_MS + 1;
  presence_bound = span_ms / PRESENCE_WINDOW_MS + 1;
  ops_frames = count->messages + count->conversations;
  bytes_bound = (guint64) receivers *
                ((guint64) FLOOD_BUDGET * MAX (EDIT_FRAME_MAX, 1024 + (FLOOD_MEMBERS + 1) * MEMBER_JSON_MAX) +
                 (typing_bound + presence_bound) * SMALL_FRAME_MAX) +
                (guint64) rx.pings_sent * SMALL_FRAME_MAX;
  g_test_message ("flood of %" G_GINT64_FORMAT " ms: %u frames and %u operations carried out, %u "
                  "refused (429); %" G_GSIZE_FORMAT " bytes sent",
                  span_ms, frames_out, charged, refused, sent);
  g_test_message ("%u receivers got %" G_GUINT64_FORMAT " bytes (x%.1f the bytes the flooder sent, refused requests included; bound %"
                  G_GUINT64_FORMAT "): %" G_GUINT64_FORMAT " typing (bound %" G_GUINT64_FORMAT
                  " each), %" G_GUINT64_FORMAT " presence (bound %" G_GUINT64_FORMAT " each), %"
                  G_GUINT64_FORMAT " message and conversation events",
                  receivers, count->text_bytes, (double) count->text_bytes / MAX (sent, 1),
                  bytes_bound, count->typing, typing_bound, count->presence, presence_bound,
                  ops_frames);
  g_test_message ("pinger: %u pings, %u answered, p50 %.2f ms, p99 %.2f ms, max %.2f ms",
                  rx.pings_sent, rx.rtt_us->len, percentile_ms (rx.rtt_us, 0.5),
                  percentile_ms (rx.rtt_us, 0.99), percentile_ms (rx.rtt_us, 1.0));

  g_assert_cmpuint (charged, <=, FLOOD_BUDGET);
  g_assert_cmpuint (count->typing, <=, receivers * typing_bound);
  g_assert_cmpuint (count->presence, <=, receivers * presence_bound);
  g_assert_cmpuint (ops_frames, <=, (guint64) receivers * FLOOD_BUDGET);
  g_assert_cmpuint (count->text_bytes, <=, bytes_bound);
  /* The flooder's last state was relayed, not lost (presence "online"
   * after "away", typing ended): each receiver heard at least once. */
  g_assert_cmpuint (count->presence, >=, receivers);
  g_assert_cmpuint (count->typing, >=, receivers);
  /* Every ping was answered; every session is still open. */
  g_assert_cmpuint (rx.rtt_us->len, ==, rx.pings_sent);
  g_assert_cmpuint (rx.pings_sent, >, 0);
  for (guint i = 0; i < clients->len; i++)
    g_assert_cmpint (((SsqBenchWs *) clients->pdata[i])->state, ==, SSQ_BENCH_WS_OPEN);

  g_array_unref (rx.rtt_us);
  ssq_bench_ws_free_all (clients);
  ssq_bench_ws_shutdown ();
}

/* A flood of logins under random names from one address (each costs a
 * password hash, and none is throttled: no account is tried twice) while
 * a user logs in, from another address and from the flood's own. The
 * flood's hashes beyond eight under way are refused at once (429), not
 * queued, and the user's login is not stuck behind them (it waited 15 s):
 * from elsewhere it is served in turn; from the flood's address it may be
 * refused, but a refusal does not count as a failed attempt, so the user
 * is not locked out once the flood is over (each counted, and five locked
 * the account for that address). Hashes cost about 50 ms here, so that
 * the flood is under way when the later requests come. */
static void
test_login_flood (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, "[security]\npwhash_opslimit=3\n"
                                                                "pwhash_memlimit=33554432\n");
  g_autoptr(SsqTestUser) alice = ssq_test_register (server, "flood.alice");
  g_autoptr(GPtrArray) flood = g_ptr_array_new_with_free_func ((GDestroyNotify) ssq_test_raw_close);
  guint refused = 0, wrong = 0, alice_refused = 0;

  for (guint i = 0; i < 20; i++)
    {
      SsqTestRaw *c = ssq_test_raw_open_full (server, "127.0.0.2", 0, 0);
      g_autofree char *json = g_strdup_printf ("{\"username\":\"nobody%u\",\"password\":\"guess-%u\"}", i, i);
      g_autofree char *request = g_strdup_printf ("POST /api/v1/login HTTP/1.1\r\nHost: test\r\n"
                                                  "Content-Type: application/json\r\n"
                                                  "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                                                  strlen (json), json);

      g_assert_true (ssq_test_raw_send_str (c, request));
      g_ptr_array_add (flood, c);
    }
  for (guint i = 0; i < 8; i++)
    {
      guint status = login_right_from (server, "127.0.0.2", "flood.alice");

      g_assert_true (status == 200 || status == 429);
      alice_refused += status == 429;
    }
  g_assert_cmpuint (login_right_from (server, "127.0.0.1", "flood.alice"), ==, 200);
  for (guint i = 0; i < flood->len; i++)
    {
      g_auto(SsqTestRawResponse) r = { 0 };

      g_assert_true (ssq_test_raw_read_response (flood->pdata[i], WAIT_MS, &r));
      refused += r.status == 429;
      wrong += r.status == 401;
    }
  g_test_message ("flood: %u refused at once, %u checked; the user refused %u of 8 times "
                  "from the flood's address", refused, wrong, alice_refused);
  g_assert_cmpuint (refused + wrong, ==, 20);
  g_assert_cmpuint (refused, >=, 1);
  g_assert_cmpuint (login_right_from (server, "127.0.0.2", "flood.alice"), ==, 200);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/server/limits/login-pair-backoff", test_login_pair_backoff);
  g_test_add_func ("/server/limits/login-account-backoff", test_login_account_backoff);
  g_test_add_func ("/server/limits/registration-per-address", test_registration_per_address);
  g_test_add_func ("/server/limits/flood-fan-out", test_flood_fan_out);
  g_test_add_func ("/server/limits/login-flood", test_login_flood);
  return g_test_run ();
}
