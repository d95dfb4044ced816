/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-sessions.c: the life of a login: logout, password change and account
 * deletion end live sessions; the session limit; expired sessions purged;
 * strict request parsing (unknown fields and parameters, lone surrogates). */
#include "ssq-test-raw.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <sqlite3.h>
#include <string.h>

#define WAIT 5000

static SsqTestServer *server;

static void
expect_frame (SsqTestWs  *ws,
              const char *type)
{
  g_autoptr(JsonObject) frame = ssq_test_ws_expect (ws, type, WAIT);

  g_assert_nonnull (frame);
}

/* A "send" frame on a raw WebSocket. */
static void
raw_send_text (SsqTestRaw *raw,
               const char *text)
{
  g_autoptr(GByteArray) frame = g_byte_array_new ();

  ssq_test_raw_ws_frame_append (frame, 0x81, text, strlen (text));
  g_assert_cmpuint (ssq_test_raw_send (raw, frame->data, frame->len, WAIT), ==, frame->len);
}

static void
raw_send_message (SsqTestRaw *raw,
                  const char *conversation_id,
                  const char *client_id)
{
  g_autofree char *text = g_strdup_printf (
    "{\"type\":\"send\",\"id\":\"%s\",\"conversation_id\":\"%s\",\"client_id\":\"%s\","
    "\"body\":\"sent by %s\"}", client_id, conversation_id, client_id, client_id);

  raw_send_text (raw, text);
}

/* The conversation's last seq, as @token sees it. */
static gint64
last_seq (SsqTestServer *srv,
          const char    *conversation_id,
          const char    *token)
{
  g_autofree char *path = g_strdup_printf ("/api/v1/conversations/%s", conversation_id);
  guint status = 0;
  g_autoptr(JsonObject) r = ssq_test_http (srv, "GET", path, token, NULL, &status);

  g_assert_cmpuint (status, ==, 200);
  return json_object_get_int_member (json_object_get_object_member (r, "conversation"), "last_seq");
}

static char *
login (SsqTestServer *srv,
       const char    *username,
       const char    *password)
{
  g_autofree char *body = g_strdup_printf ("{\"username\":\"%s\",\"password\":\"%s\"}",
                                           username, password);
  guint status = 0;
  g_autoptr(JsonObject) r = ssq_test_http (srv, "POST", "/api/v1/login", NULL, body, &status);

  g_assert_cmpuint (status, ==, 200);
  return g_strdup (json_object_get_string_member (r, "token"));
}

/* Waits for the close of @raw (answers or events before it are skipped,
 * but an ack is not: nothing sent after the end may be acknowledged).
 * Returns the close code; prints how long it took. */
static int
raw_wait_end (SsqTestRaw *raw,
              gint64      since_us,
              const char *what)
{
  int code = ssq_test_raw_ws_pump (raw, WAIT, "\"ack\"");

  g_test_message ("%s: WebSocket closed with %d after %.1f ms", what, code,
                  (g_get_monotonic_time () - since_us) / 1000.0);
  return code;
}

/* Logout closes the token's WebSockets with 1008; a message sent on one
 * after the logout is neither acked nor stored; other logins stay. */
static void
test_logout_ends_websockets (void)
{
  g_autoptr(SsqTestUser) a = ssq_test_register (server, "logout.alice");
  g_autoptr(SsqTestUser) b = ssq_test_register (server, "logout.bob");
  g_autofree char *conv = ssq_test_create_conversation (server, a,
    "{\"kind\":\"direct\",\"members\":[\"logout.bob\"]}");
  g_autofree char *token2 = login (server, "logout.alice", "password-logout.alice");
  g_autoptr(SsqTestRaw) raw = ssq_test_raw_ws_open (server, token2, 0, 0);
  g_autoptr(SsqTestRaw) raw_same = ssq_test_raw_ws_open (server, token2, 0, 0);
  g_autoptr(SsqTestWs) other = ssq_test_ws_connect (server, a->token, NULL);
  g_autoptr(JsonObject) r = NULL;
  guint status = 0;
  gint64 t0;

  expect_frame (other, "welcome");
  /* The token is in use on REST too (so the server knows it in memory). */
  r = ssq_test_http (server, "GET", "/api/v1/me", token2, NULL, &status);
  g_assert_cmpuint (status, ==, 200);
  g_clear_pointer (&r, json_object_unref);
  t0 = g_get_monotonic_time ();
  r = ssq_test_http (server, "POST", "/api/v1/logout", token2, NULL, &status);
  g_assert_cmpuint (status, ==, 204);
  g_clear_pointer (&r, json_object_unref);
  /* Refused at once, on REST and for a new WebSocket alike. */
  r = ssq_test_http (server, "GET", "/api/v1/me", token2, NULL, &status);
  g_assert_cmpuint (status, ==, 401);
  g_clear_pointer (&r, json_object_unref);
  r = ssq_test_http (server, "GET", "/api/v1/conversations", token2, NULL, &status);
  g_assert_cmpuint (status, ==, 401);
  g_clear_pointer (&r, json_object_unref);
  r = ssq_test_http (server, "GET", "/api/v1/me", a->token, NULL, &status);
  g_assert_cmpuint (status, ==, 200);
  raw_send_message (raw, conv, "after-logout");
  g_assert_cmpint (raw_wait_end (raw, t0, "logout"), ==, 1008);
  g_assert_cmpint (raw_wait_end (raw_same, t0, "logout, second socket"), ==, 1008);
  g_assert_cmpint (last_seq (server, conv, b->token), ==, 0);

  /* The other login of the same user is untouched. */
  g_assert_false (other->closed);
  ssq_test_ws_send (other, "{\"type\":\"ping\",\"id\":1}");
  expect_frame (other, "pong");
}

/* A password change needs the current password; it ends the account's other
 * logins (their WebSockets closed with 1008, nothing sent on them after is
 * stored) and keeps the one that made it. */
static void
test_password_change (void)
{
  g_autoptr(SsqTestUser) a = ssq_test_register (server, "pw.alice");
  g_autoptr(SsqTestUser) b = ssq_test_register (server, "pw.bob");
  g_autofree char *conv = ssq_test_create_conversation (server, a,
    "{\"kind\":\"direct\",\"members\":[\"pw.bob\"]}");
  g_autofree char *other = login (server, "pw.alice", "password-pw.alice");
  g_autoptr(SsqTestRaw) raw_other = ssq_test_raw_ws_open (server, other, 0, 0);
  g_autoptr(SsqTestWs) mine = ssq_test_ws_connect (server, a->token, NULL);
  g_autoptr(JsonObject) r = NULL;
  g_autofree char *token3 = NULL;
  guint status = 0;
  gint64 t0;

  expect_frame (mine, "welcome");
  /* Without the current password, or with a wrong one: nothing changes. */
  r = ssq_test_http (server, "PATCH", "/api/v1/me", a->token,
                     "{\"password\":\"new-password-1\"}", &status);
  g_assert_cmpuint (status, ==, 400);
  g_assert_cmpstr (ssq_test_error_code (r), ==, "invalid");
  g_clear_pointer (&r, json_object_unref);
  r = ssq_test_http (server, "PATCH", "/api/v1/me", a->token,
                     "{\"password\":\"new-password-1\",\"current_password\":\"nope-nope\","
                     "\"display_name\":\"Renamed\"}", &status);
  g_assert_cmpuint (status, ==, 403);
  g_assert_cmpstr (ssq_test_error_code (r), ==, "forbidden");
  g_clear_pointer (&r, json_object_unref);
  r = ssq_test_http (server, "PATCH", "/api/v1/me", a->token,
                     "{\"password\":\"short\",\"current_password\":\"password-pw.alice\"}",
                     &status);
  g_assert_cmpuint (status, ==, 400);
  g_clear_pointer (&r, json_object_unref);
  r = ssq_test_http (server, "GET", "/api/v1/me", other, NULL, &status);
  g_assert_cmpuint (status, ==, 200);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (r, "user"),
                                                  "display_name"), ==, "pw.alice");
  g_clear_pointer (&r, json_object_unref);

  t0 = g_get_monotonic_time ();
  r = ssq_test_http (server, "PATCH", "/api/v1/me", a->token,
                     "{\"password\":\"new-password-1\",\"current_password\":\"password-pw.alice\","
                     "\"display_name\":\"Alice N.\"}", &status);
  g_assert_cmpuint (status, ==, 200);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (r, "user"),
                                                  "display_name"), ==, "Alice N.");
  g_clear_pointer (&r, json_object_unref);
  raw_send_message (raw_other, conv, "after-password-change");
  g_assert_cmpint (raw_wait_end (raw_other, t0, "password change"), ==, 1008);
  g_assert_cmpint (last_seq (server, conv, b->token), ==, 0);
  r = ssq_test_http (server, "GET", "/api/v1/me", other, NULL, &status);
  g_assert_cmpuint (status, ==, 401);
  g_clear_pointer (&r, json_object_unref);

  /* The login that changed it stays, WebSocket included. */
  r = ssq_test_http (server, "GET", "/api/v1/me", a->token, NULL, &status);
  g_assert_cmpuint (status, ==, 200);
  g_clear_pointer (&r, json_object_unref);
  g_assert_false (mine->closed);
  ssq_test_ws_send (mine, "{\"type\":\"ping\",\"id\":1}");
  expect_frame (mine, "pong");

  /* Old password refused, new one accepted. */
  r = ssq_test_http (server, "POST", "/api/v1/login", NULL,
                     "{\"username\":\"pw.alice\",\"password\":\"password-pw.alice\"}", &status);
  g_assert_cmpuint (status, ==, 401);
  token3 = login (server, "pw.alice", "new-password-1");
}

/* Account deletion needs the password; it ends every login of the account,
 * leaves its groups (ownership passes on), keeps its messages and direct
 * conversations, where others see a deleted user, and frees the name. */
static void
test_account_deletion (void)
{
  g_autoptr(SsqTestUser) a = ssq_test_register (server, "del.alice");
  g_autoptr(SsqTestUser) b = ssq_test_register (server, "del.bob");
  g_autoptr(SsqTestUser) again = NULL;
  g_autofree char *direct = ssq_test_create_conversation (server, a,
    "{\"kind\":\"direct\",\"members\":[\"del.bob\"]}");
  g_autofree char *group = ssq_test_create_conversation (server, a,
    "{\"kind\":\"group\",\"title\":\"G\",\"members\":[\"del.bob\"]}");
  g_autofree char *direct_path = g_strdup_printf ("/api/v1/conversations/%s", direct);
  g_autofree char *group_path = g_strdup_printf ("/api/v1/conversations/%s", group);
  g_autofree char *msgs_path = g_strdup_printf ("/api/v1/conversations/%s/messages", direct);
  g_autoptr(SsqTestRaw) raw = ssq_test_raw_ws_open (server, a->token, 0, 0);
  g_autoptr(JsonObject) r = NULL;
  JsonArray *members;
  JsonObject *sender = NULL;
  guint status = 0;
  gint64 t0;

  r = ssq_test_http (server, "POST", msgs_path, a->token,
                     "{\"client_id\":\"before\",\"body\":\"last words\"}", &status);
  g_assert_cmpuint (status, ==, 201);
  g_clear_pointer (&r, json_object_unref);

  r = ssq_test_http (server, "DELETE", "/api/v1/me", a->token, "{}", &status);
  g_assert_cmpuint (status, ==, 400);
  g_clear_pointer (&r, json_object_unref);
  r = ssq_test_http (server, "DELETE", "/api/v1/me", a->token, "{\"password\":\"wrong-one\"}",
                     &status);
  g_assert_cmpuint (status, ==, 403);
  g_clear_pointer (&r, json_object_unref);

  t0 = g_get_monotonic_time ();
  r = ssq_test_http (server, "DELETE", "/api/v1/me", a->token,
                     "{\"password\":\"password-del.alice\"}", &status);
  g_assert_cmpuint (status, ==, 204);
  raw_send_message (raw, direct, "after-deletion");
  g_assert_cmpint (raw_wait_end (raw, t0, "account deletion"), ==, 1008);
  r = ssq_test_http (server, "GET", "/api/v1/me", a->token, NULL, &status);
  g_assert_cmpuint (status, ==, 401);
  g_clear_pointer (&r, json_object_unref);
  r = ssq_test_http (server, "POST", "/api/v1/login", NULL,
                     "{\"username\":\"del.alice\",\"password\":\"password-del.alice\"}", &status);
  g_assert_cmpuint (status, ==, 401);
  g_clear_pointer (&r, json_object_unref);

  /* Bob keeps the direct conversation and its message, from a deleted user. */
  g_assert_cmpint (last_seq (server, direct, b->token), ==, 1);
  r = ssq_test_http (server, "GET", direct_path, b->token, NULL, &status);
  g_assert_cmpuint (status, ==, 200);
  members = json_object_get_array_member (json_object_get_object_member (r, "conversation"),
                                          "members");
  for (guint i = 0; i < json_array_get_length (members); i++)
    {
      JsonObject *user = json_object_get_object_member (json_array_get_object_element (members, i),
                                                        "user");

      if (g_str_equal (json_object_get_string_member (user, "id"), a->id))
        sender = user;
    }
  g_assert_nonnull (sender);
  g_assert_true (json_object_get_boolean_member_with_default (sender, "deleted", FALSE));
  g_assert_cmpstr (json_object_get_string_member (sender, "username"), ==, "");
  g_assert_cmpstr (json_object_get_string_member (sender, "presence"), ==, "offline");
  g_clear_pointer (&r, json_object_unref);

  /* The group passed to Bob, its only other member. */
  r = ssq_test_http (server, "GET", group_path, b->token, NULL, &status);
  g_assert_cmpuint (status, ==, 200);
  members = json_object_get_array_member (json_object_get_object_member (r, "conversation"),
                                          "members");
  g_assert_cmpuint (json_array_get_length (members), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (r, "conversation"),
                                                  "role"), ==, "owner");
  g_clear_pointer (&r, json_object_unref);

  /* Nobody finds the account; its name is free again. */
  r = ssq_test_http (server, "GET", "/api/v1/users?q=", b->token, NULL, &status);
  g_assert_cmpuint (status, ==, 200);
  members = json_object_get_array_member (r, "users");
  for (guint i = 0; i < json_array_get_length (members); i++)
    g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (members, i), "id"),
                     !=, a->id);
  g_clear_pointer (&r, json_object_unref);
  again = ssq_test_register (server, "del.alice");
  g_assert_cmpstr (again->id, !=, a->id);
}

/* Unknown query parameters and body fields are refused on every route,
 * before the handler runs. */
/* Sends @method @path (with @token and @json when not NULL) on @c without
 * waiting for the answer. */
static void
raw_request (SsqTestRaw *c,
             const char *method,
             const char *path,
             const char *token,
             const char *json)
{
  g_autofree char *auth = token ? g_strdup_printf ("Authorization: Bearer %s\r\n", token)
                                : g_strdup ("");
  g_autofree char *request = g_strdup_printf ("%s %s HTTP/1.1\r\nHost: test\r\n%s"
                                              "Content-Type: application/json\r\n"
                                              "Content-Length: %zu\r\n\r\n%s",
                                              method, path, auth, json ? strlen (json) : 0,
                                              json ? json : "");

  g_assert_true (ssq_test_raw_send_str (c, request));
}

/* A login whose password check started before its account was deleted (or
 * its password changed) must not leave a live session: the check reads the
 * committed password, the session is written later through the writer. The
 * login is sent right behind the deletion, so that its session reaches the
 * writer after the deletion's: whatever the order, its token must not work
 * once both are answered. */
static void
test_login_racing_account_end (void)
{
  for (guint i = 0; i < 6; i++)
    {
      g_autofree char *name = g_strdup_printf ("race.end%u", i);
      g_autoptr(SsqTestUser) u = ssq_test_register (server, name);
      g_autofree char *password = g_strdup_printf ("password-%s", name);
      g_autofree char *login_body = g_strdup_printf ("{\"username\":\"%s\",\"password\":\"%s\"}",
                                                     name, password);
      g_autofree char *end_body = i % 2 == 0
        ? g_strdup_printf ("{\"password\":\"%s\"}", password)
        : g_strdup_printf ("{\"current_password\":\"%s\",\"password\":\"new-%s\"}",
                           password, password);
      g_autoptr(SsqTestRaw) ender = ssq_test_raw_open (server);
      g_autoptr(SsqTestRaw) racer = ssq_test_raw_open (server);
      g_auto(SsqTestRawResponse) ended = { 0 };
      g_auto(SsqTestRawResponse) logged_in = { 0 };
      g_autoptr(JsonParser) parser = json_parser_new ();
      g_autoptr(JsonObject) r = NULL;
      const char *token;
      guint status = 0;

      raw_request (ender, i % 2 == 0 ? "DELETE" : "PATCH", "/api/v1/me", u->token, end_body);
      raw_request (racer, "POST", "/api/v1/login", NULL, login_body);
      g_assert_true (ssq_test_raw_read_response (ender, WAIT, &ended));
      g_assert_true (ssq_test_raw_read_response (racer, WAIT, &logged_in));
      g_assert_cmpuint (ended.status, ==, i % 2 == 0 ? 204 : 200);
      g_test_message ("%s: login racing the %s answered %u", name,
                      i % 2 == 0 ? "deletion" : "password change", logged_in.status);
      if (logged_in.status != 200)
        {
          g_assert_cmpuint (logged_in.status, ==, 401);
          continue;
        }
      g_assert_true (json_parser_load_from_data (parser, logged_in.body, -1, NULL));
      token = json_object_get_string_member (json_node_get_object (json_parser_get_root (parser)),
                                             "token");
      r = ssq_test_http (server, "GET", "/api/v1/me", token, NULL, &status);
      g_assert_cmpuint (status, ==, 401);
    }
}

/* A route without a login reads at most 16 KiB of body: a client with no
 * account cannot make the main loop read large JSON. Routes behind a login
 * keep the transport's bound. */
static void
test_public_body_bound (void)
{
  g_autoptr(SsqTestUser) u = ssq_test_register (server, "bound.user");
  g_autofree char *conv = ssq_test_create_conversation (server, u,
    "{\"kind\":\"group\",\"title\":\"B\",\"members\":[]}");
  g_autofree char *msgs = g_strdup_printf ("/api/v1/conversations/%s/messages", conv);
  g_autofree char *big_password = g_strnfill (20000, 'p');
  g_autofree char *long_password = g_strnfill (10000, 'p');
  g_autofree char *big_login = g_strdup_printf ("{\"username\":\"bound.user\",\"password\":\"%s\"}",
                                                big_password);
  g_autofree char *long_login = g_strdup_printf ("{\"username\":\"bound.user\",\"password\":\"%s\"}",
                                                 long_password);
  g_autofree char *body = g_strnfill (16000, 'b');
  g_autofree char *big_message = g_strdup_printf ("{\"client_id\":\"big\",\"body\":\"%s\"}", body);
  g_autoptr(JsonObject) r = NULL;
  guint status = 0;

  r = ssq_test_http (server, "POST", "/api/v1/login", NULL, big_login, &status);
  g_assert_cmpuint (status, ==, 413);
  g_assert_cmpstr (ssq_test_error_code (r), ==, "too_large");
  g_clear_pointer (&r, json_object_unref);
  /* Under the bound, the request is read and answered as any other. */
  r = ssq_test_http (server, "POST", "/api/v1/login", NULL, long_login, &status);
  g_assert_cmpuint (status, ==, 401);
  g_clear_pointer (&r, json_object_unref);
  r = ssq_test_http (server, "POST", msgs, u->token, big_message, &status);
  g_assert_cmpuint (status, ==, 201);
}

static void
test_unknown_fields (void)
{
  g_autoptr(SsqTestUser) u = ssq_test_register (server, "strict.user");
  g_autofree char *conv = ssq_test_create_conversation (server, u,
    "{\"kind\":\"group\",\"title\":\"S\",\"members\":[]}");
  g_autofree char *msgs = g_strdup_printf ("/api/v1/conversations/%s/messages", conv);
  g_autofree char *msgs_offset = g_strdup_printf ("%s?offset=10", msgs);
  g_autofree char *msgs_limit = g_strdup_printf ("%s?limit=10&after=0", msgs);
  g_autoptr(SsqTestWs) ws = NULL;
  const struct { const char *method; const char *path; const char *body; } bad[] = {
    { "GET", msgs_offset, NULL },
    { "GET", "/api/v1/me?verbose=1", NULL },
    { "GET", "/api/v1/users?q=s&page=2", NULL },
    { "GET", "/api/v1/conversations?x", NULL },
    { "PATCH", "/api/v1/me", "{\"display_name\":\"X\",\"avatar\":\"y\"}" },
    { "POST", msgs, "{\"client_id\":\"c1\",\"body\":\"hi\",\"silent\":true}" },
    { "POST", "/api/v1/login", "{\"username\":\"strict.user\",\"password\":\"password-strict.user\",\"remember\":true}" },
    { "GET", "/healthz?probe=1", NULL },
  };
  guint status = 0;

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(JsonObject) r = ssq_test_http (server, bad[i].method, bad[i].path, u->token,
                                               bad[i].body, &status);

      g_test_message ("%s %s -> %u", bad[i].method, bad[i].path, status);
      g_assert_cmpuint (status, ==, 400);
      g_assert_cmpstr (ssq_test_error_code (r), ==, "invalid");
    }
  /* Nothing of the refused requests happened. */
  g_assert_cmpint (last_seq (server, conv, u->token), ==, 0);
  {
    g_autoptr(JsonObject) r = ssq_test_http (server, "GET", msgs_limit, u->token, NULL, &status);
    g_assert_cmpuint (status, ==, 200);
  }
  {
    g_autofree char *url = g_strdup (server->ws_url);
    g_autofree char *bad_ws = g_strconcat (url, "?compress=1", NULL);

    g_free (server->ws_url);
    server->ws_url = g_steal_pointer (&bad_ws);
    ws = ssq_test_ws_connect (server, u->token, &status);
    g_free (server->ws_url);
    server->ws_url = g_steal_pointer (&url);
    g_assert_null (ws);
    g_assert_cmpuint (status, ==, 400);
  }
}

static sqlite3 *
open_db (SsqTestServer *srv)
{
  g_autofree char *path = g_build_filename (srv->data_dir, "supersoniq.db", NULL);
  sqlite3 *db = NULL;

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  sqlite3_busy_timeout (db, WAIT);
  return db;
}

static void
db_exec (SsqTestServer *srv,
         const char    *sql)
{
  sqlite3 *db = open_db (srv);

  g_assert_cmpint (sqlite3_exec (db, sql, NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);
}

static int
count_sessions (SsqTestServer *srv,
                const char    *user_id)
{
  sqlite3 *db = open_db (srv);
  sqlite3_stmt *stmt = NULL;
  int n;

  g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT count(*) FROM sessions WHERE user_id = ?", -1,
                                       &stmt, NULL), ==, SQLITE_OK);
  sqlite3_bind_text (stmt, 1, user_id, -1, SQLITE_TRANSIENT);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  n = sqlite3_column_int (stmt, 0);
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  return n;
}

static gboolean
no_sessions_cb (gpointer data)
{
  gpointer *args = data;

  return count_sessions (args[0], args[1]) == 0;
}

/* Expired sessions are deleted at start, and while running every
 * session_purge_interval seconds; a WebSocket open with an expired token is
 * closed with 1008 then. */
static void
test_expired_sessions_purged (void)
{
  g_autoptr(SsqTestServer) srv = ssq_test_server_start (NULL, "[server]\nsession_purge_interval=86400\n");
  g_autoptr(SsqTestUser) x = ssq_test_register (srv, "purge.x");
  g_autoptr(SsqTestUser) y = ssq_test_register (srv, "purge.y");
  g_autoptr(SsqTestRaw) raw = NULL;
  g_autofree char *sql = NULL;
  g_autofree char *config = NULL;
  gpointer args[2];
  gint64 t0;
  guint status = 0;

  /* At start. */
  g_assert_cmpint (ssq_test_server_stop (srv), ==, 0);
  sql = g_strdup_printf ("UPDATE sessions SET expires_at = 1 WHERE user_id = '%s'", x->id);
  db_exec (srv, sql);
  ssq_test_server_restart (srv);
  g_assert_cmpint (count_sessions (srv, x->id), ==, 0);
  g_assert_cmpint (count_sessions (srv, y->id), ==, 1);

  /* While running: a short interval. */
  g_assert_cmpint (ssq_test_server_stop (srv), ==, 0);
  config = g_build_filename (srv->data_dir, "test.conf", NULL);
  {
    g_autofree char *text = NULL;
    g_autofree char *shorter = NULL;

    g_assert_true (g_file_get_contents (config, &text, NULL, NULL));
    shorter = g_strconcat (text, "[server]\nsession_purge_interval=1\n", NULL);
    g_assert_true (g_file_set_contents (config, shorter, -1, NULL));
  }
  ssq_test_server_restart (srv);
  raw = ssq_test_raw_ws_open (srv, y->token, 0, 0);
  g_free (sql);
  sql = g_strdup_printf ("UPDATE sessions SET expires_at = 1 WHERE user_id = '%s'", y->id);
  t0 = g_get_monotonic_time ();
  db_exec (srv, sql);
  g_assert_cmpint (raw_wait_end (raw, t0, "expiry"), ==, 1008);
  args[0] = srv;
  args[1] = y->id;
  g_assert_true (ssq_test_wait_until (no_sessions_cb, args, WAIT));
  {
    g_autoptr(JsonObject) r = ssq_test_http (srv, "GET", "/api/v1/me", y->token, NULL, &status);
    g_assert_cmpuint (status, ==, 401);
  }
}

/* A token in use stops working at its expiry, even with no purge between
 * (the server remembers live logins in memory; the memory must not outlive
 * the login). The session's expiry is set just ahead by SQL before its
 * first use, and the test waits past it. */
static void
test_expiry_ends_token_in_use (void)
{
  g_autoptr(SsqTestServer) srv = ssq_test_server_start (NULL, "[server]\nsession_purge_interval=86400\n");
  g_autoptr(SsqTestUser) x = ssq_test_register (srv, "expiry.x");
  g_autoptr(SsqTestUser) y = ssq_test_register (srv, "expiry.y");
  g_autofree char *sql = NULL;
  gint64 expires_at = g_get_real_time () / 1000 + 1500;
  guint status = 0;

  sql = g_strdup_printf ("UPDATE sessions SET expires_at = %" G_GINT64_FORMAT
                         " WHERE user_id = '%s'", expires_at, x->id);
  db_exec (srv, sql);
  for (guint i = 0; i < 3; i++)
    {
      g_autoptr(JsonObject) r = ssq_test_http (srv, "GET", "/api/v1/me", x->token, NULL, &status);
      g_assert_cmpuint (status, ==, 200);
    }
  while (g_get_real_time () / 1000 <= expires_at + 50)
    g_usleep (50 * 1000);
  {
    g_autoptr(JsonObject) r = ssq_test_http (srv, "GET", "/api/v1/me", x->token, NULL, &status);
    g_assert_cmpuint (status, ==, 401);
  }
  {
    g_autoptr(JsonObject) r = ssq_test_http (srv, "GET", "/api/v1/me", y->token, NULL, &status);
    g_assert_cmpuint (status, ==, 200);
  }
}

static guint
file_mode (const char *dir,
           const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  GStatBuf st;

  g_assert_cmpint (g_stat (path, &st), ==, 0);
  return st.st_mode & 0777;
}

/* The server's database, WAL and shared-memory files are 0600, and files
 * left 0644 by an older version are tightened at start. */
static void
test_database_file_modes (void)
{
  g_autoptr(SsqTestServer) srv = ssq_test_server_start (NULL, NULL);
  g_autoptr(SsqTestUser) u = ssq_test_register (srv, "modes.user");
  g_autofree char *db = g_build_filename (srv->data_dir, "supersoniq.db", NULL);
  g_autofree char *wal = g_strconcat (db, "-wal", NULL);

  g_assert_cmpuint (file_mode (srv->data_dir, "supersoniq.db"), ==, 0600);
  g_assert_cmpuint (file_mode (srv->data_dir, "supersoniq.db-wal"), ==, 0600);
  g_assert_cmpuint (file_mode (srv->data_dir, "supersoniq.db-shm"), ==, 0600);
  g_assert_cmpint (ssq_test_server_stop (srv), ==, 0);
  g_assert_cmpint (g_chmod (db, 0644), ==, 0);
  g_chmod (wal, 0644);     /* gone after a clean stop, usually */
  ssq_test_server_restart (srv);
  g_clear_pointer (&u, ssq_test_user_free);
  u = ssq_test_register (srv, "modes.user2");
  g_assert_cmpuint (file_mode (srv->data_dir, "supersoniq.db"), ==, 0600);
  g_assert_cmpuint (file_mode (srv->data_dir, "supersoniq.db-wal"), ==, 0600);
  g_assert_cmpuint (file_mode (srv->data_dir, "supersoniq.db-shm"), ==, 0600);
}

/* More sessions than max_sessions_per_user: the extra one is welcomed, then
 * closed with 1013 (try again later), not a protocol error. */
static void
test_too_many_sessions (void)
{
  g_autoptr(SsqTestServer) small = ssq_test_server_start (NULL, "[limits]\nmax_sessions_per_user=2\n");
  g_autoptr(SsqTestUser) u = ssq_test_register (small, "many.sessions");
  g_autoptr(SsqTestWs) w1 = ssq_test_ws_connect (small, u->token, NULL);
  g_autoptr(SsqTestWs) w2 = ssq_test_ws_connect (small, u->token, NULL);
  g_autoptr(SsqTestWs) w3 = NULL;

  expect_frame (w1, "welcome");
  expect_frame (w2, "welcome");
  w3 = ssq_test_ws_connect (small, u->token, NULL);
  g_assert_nonnull (w3);
  g_assert_cmpuint (ssq_test_ws_wait_closed (w3, WAIT), ==, 1013);
  /* The others are unharmed. */
  g_assert_false (w1->closed);
  ssq_test_ws_send (w1, "{\"type\":\"ping\",\"id\":1}");
  expect_frame (w1, "pong");
  {
    g_autoptr(SsqTestRaw) raw = ssq_test_raw_open (small);
    ssq_test_raw_ws_upgrade (raw, u->token);
    g_assert_cmpint (ssq_test_raw_ws_pump (raw, WAIT, NULL), ==, 1013);
  }
}

/* A lone UTF-16 surrogate in any string, the request id included, is an
 * `invalid` error; the reply is well-formed and the connection stays. */
static void
test_lone_surrogates (void)
{
  g_autoptr(SsqTestUser) u = ssq_test_register (server, "surrogate.user");
  g_autoptr(SsqTestWs) ws = ssq_test_ws_connect (server, u->token, NULL);
  g_autoptr(JsonObject) r = NULL;
  g_autoptr(JsonObject) err = NULL;
  g_autoptr(JsonObject) pong = NULL;
  guint status = 0;

  r = ssq_test_http (server, "PATCH", "/api/v1/me", u->token,
                     "{\"display_name\":\"a\\ud800x\"}", &status);
  g_assert_cmpuint (status, ==, 400);
  g_assert_cmpstr (ssq_test_error_code (r), ==, "invalid");
  g_clear_pointer (&r, json_object_unref);
  r = ssq_test_http (server, "POST", "/api/v1/register", NULL,
                     "{\"username\":\"\\udc00abc\",\"password\":\"password1\"}", &status);
  g_assert_cmpuint (status, ==, 400);
  g_assert_cmpstr (ssq_test_error_code (r), ==, "invalid");
  g_clear_pointer (&r, json_object_unref);
  r = ssq_test_http (server, "GET", "/api/v1/me", u->token, NULL, &status);
  g_assert_cmpuint (status, ==, 200);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (r, "user"),
                                                  "display_name"), ==, "surrogate.user");

  expect_frame (ws, "welcome");
  ssq_test_ws_send (ws, "{\"type\":\"ping\",\"id\":\"\\ud800x\"}");
  err = ssq_test_ws_expect (ws, "error", WAIT);
  g_assert_nonnull (err);
  g_assert_cmpstr (json_object_get_string_member (err, "code"), ==, "invalid");
  g_assert_false (json_object_has_member (err, "id"));
  g_clear_pointer (&err, json_object_unref);
  ssq_test_ws_send (ws, "{\"type\":\"ping\",\"id\":\"x\",\"k\\udfff\":1}");
  err = ssq_test_ws_expect (ws, "error", WAIT);
  g_assert_nonnull (err);
  g_assert_cmpstr (json_object_get_string_member (err, "code"), ==, "invalid");
  ssq_test_ws_send (ws, "{\"type\":\"ping\",\"id\":\"\\ud83d\\ude00\"}");
  pong = ssq_test_ws_expect (ws, "pong", WAIT);
  g_assert_nonnull (pong);
  g_assert_cmpstr (json_object_get_string_member (pong, "id"), ==, "\U0001F600");
  g_assert_false (ws->closed);
}

/* The real binary on 127.0.0.1 does not tell people to replace 0.0.0.0:
 * its stderr says that only this machine can connect. */
static void
test_startup_hint_loopback (void)
{
  g_autofree char *dir = g_dir_make_tmp ("ssq-hint-XXXXXX", NULL);
  const char *argv[] = { g_getenv ("SSQ_SERVER_BIN"), "--listen", "127.0.0.1:0",
                         "--data-dir", dir, NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GDataInputStream) err = NULL;
  g_autoptr(GString) text = g_string_new (NULL);
  char *line;

  g_assert_nonnull (argv[0]);
  proc = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_PIPE,
                            &error);
  g_assert_no_error (error);
  err = g_data_input_stream_new (g_subprocess_get_stderr_pipe (proc));
  while ((line = g_data_input_stream_read_line_utf8 (err, NULL, NULL, &error)) != NULL)
    {
      g_string_append_printf (text, "%s\n", line);
      if (g_str_has_prefix (line, "Stop with"))
        {
          g_free (line);
          break;
        }
      g_free (line);
    }
  g_subprocess_send_signal (proc, SIGTERM);
  g_subprocess_wait (proc, NULL, NULL);
  g_test_message ("%s", text->str);
  g_assert_nonnull (strstr (text->str, "from this machine only"));
  g_assert_null (strstr (text->str, "0.0.0.0)"));
  g_assert_null (strstr (text->str, "in place of"));
  ssq_test_remove_tree (dir);
}

/* A stolen token is no faster way to guess the password than a login: the
 * password checks of PATCH and DELETE /me go through the login throttle,
 * and the right password still works from another address. */
static void
test_password_guessing_throttled (void)
{
  g_autoptr(SsqTestServer) s = ssq_test_server_start (NULL, "login_free_failures=3\n");
  g_autoptr(SsqTestUser) a = ssq_test_register (s, "guess.alice");
  guint status = 0;

  for (guint i = 0; i < 3; i++)
    {
      g_autoptr(JsonObject) r = ssq_test_http (s, "PATCH", "/api/v1/me", a->token,
        "{\"password\":\"new-password-1\",\"current_password\":\"wrong-guess\"}", &status);

      g_assert_cmpuint (status, ==, 403);
    }
  {
    g_autoptr(JsonObject) r = ssq_test_http (s, "DELETE", "/api/v1/me", a->token,
                                             "{\"password\":\"wrong-guess\"}", &status);

    g_assert_cmpuint (status, ==, 429);
    g_assert_cmpstr (ssq_test_error_code (r), ==, "rate_limited");
  }
  {
    /* The right one too, from this address, until the backoff ends. */
    g_autoptr(JsonObject) r = ssq_test_http (s, "PATCH", "/api/v1/me", a->token,
      "{\"password\":\"new-password-1\",\"current_password\":\"password-guess.alice\"}",
      &status);

    g_assert_cmpuint (status, ==, 429);
  }
}

int
main (int    argc,
      char **argv)
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  server = ssq_test_server_start (NULL, NULL);
  g_test_add_func ("/server/sessions/too-many", test_too_many_sessions);
  g_test_add_func ("/server/sessions/lone-surrogates", test_lone_surrogates);
  g_test_add_func ("/server/startup/hint-loopback", test_startup_hint_loopback);
  g_test_add_func ("/server/sessions/logout-ends-websockets", test_logout_ends_websockets);
  g_test_add_func ("/server/sessions/expired-purged", test_expired_sessions_purged);
  g_test_add_func ("/server/sessions/expiry-in-use", test_expiry_ends_token_in_use);
  g_test_add_func ("/server/sessions/password-change", test_password_change);
  g_test_add_func ("/server/sessions/password-guessing", test_password_guessing_throttled);
  g_test_add_func ("/server/sessions/account-deletion", test_account_deletion);
  g_test_add_func ("/server/sessions/login-racing-account-end", test_login_racing_account_end);
  g_test_add_func ("/server/api/unknown-fields", test_unknown_fields);
  g_test_add_func ("/server/api/public-body-bound", test_public_body_bound);
  g_test_add_func ("/server/store/file-modes", test_database_file_modes);
  ret = g_test_run ();
  ssq_test_server_free (server);
  return ret;
}
