/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-admin.c: `supersoniq-server admin` against the real server with
 * real clients connected: accounts disabled, deleted, promoted, their
 * passwords reset by one-time codes (redeemed over REST and by
 * supersoniq-cli), roles and ownership, sessions revoked one by one,
 * statistics. The socket itself and hostile admin clients: see
 * test-admin-socket.c. */
#include "ssq-test-admin.h"

#include <errno.h>
#include <signal.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- users ------------------------------------------------------------------ */

/* Listed with their flags; the first account is the server admin;
 * promote and demote change that; unknown names are named. */
static void
test_users_list_show (void)
{
  g_autoptr(SsqTestUser) a = ssq_test_register (server, "list.amy");
  g_autoptr(JsonNode) list = NULL;
  g_autoptr(JsonNode) shown = NULL;
  g_autofree char *out = NULL, *err = NULL;
  JsonObject *row;

  g_assert_cmpint (run_admin (NULL, NULL, "users", "promote", "list.amy"), ==, 0);
  list = admin_json ("users", "list", NULL);
  row = user_row (list, "list.amy");
  g_assert_nonnull (row);
  g_assert_cmpstr (json_object_get_string_member (row, "id"), ==, a->id);
  g_assert_true (json_object_get_boolean_member (row, "server_admin"));
  g_assert_false (json_object_get_boolean_member (row, "disabled"));
  g_assert_cmpint (json_object_get_int_member (row, "sessions"), ==, 1);
  g_assert_true (json_object_get_boolean_member (user_row (list, "first"), "server_admin"));
  g_assert_cmpint (run_admin (NULL, NULL, "users", "demote", "list.amy"), ==, 0);
  shown = admin_json ("users", "show", "list.amy", NULL);
  g_assert_false (json_object_get_boolean_member (json_node_get_object (shown), "server_admin"));
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (
                      json_node_get_object (shown), "session_list")), ==, 1);

  /* People read a table. */
  g_assert_cmpint (run_admin (&out, NULL, "users", "list"), ==, 0);
  g_assert_nonnull (strstr (out, "USERNAME"));
  g_assert_nonnull (strstr (out, "list.amy"));
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run_admin (&out, &err, "users", "disable", "no.such.one"), ==, 1);
  g_assert_nonnull (strstr (err, "No such user: no.such.one"));
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run_admin (NULL, &err, "users", "frobnicate", "x"), ==, 2);
  g_assert_nonnull (strstr (err, "Unknown command"));
}

/* Disabling ends the user's WebSockets at once (1008) and its tokens; the
 * next login is refused with account_disabled (a wrong password still
 * gets the usual 401); enabling lets it log in again. */
static void
test_disable (void)
{
  g_autoptr(SsqTestUser) u = ssq_test_register (server, "dis.bob");
  g_autoptr(SsqTestWs) ws = connect_ws (u->token);
  g_autoptr(JsonNode) list = NULL;
  g_autofree char *token = NULL;
  g_autofree char *out = NULL;

  /* The token is known in memory too. */
  g_assert_cmpuint (http_status ("GET", "/api/v1/me", u->token, NULL), ==, 200);
  g_assert_cmpint (run_admin (&out, NULL, "users", "disable", "dis.bob"), ==, 0);
  g_assert_nonnull (strstr (out, "1 connection closed"));
  g_assert_cmpint (ssq_test_ws_wait_closed (ws, WAIT), ==, 1008);
  g_assert_cmpuint (http_status ("GET", "/api/v1/me", u->token, NULL), ==, 401);
  g_free (login ("dis.bob", "password-dis.bob", 403, "account_disabled"));
  g_free (login ("dis.bob", "wrong-password", 401, "unauthorized"));
  list = admin_json ("users", "list", NULL);
  g_assert_true (json_object_get_boolean_member (user_row (list, "dis.bob"), "disabled"));
  g_assert_cmpint (json_object_get_int_member (user_row (list, "dis.bob"), "sessions"), ==, 0);

  g_assert_cmpint (run_admin (NULL, NULL, "users", "enable", "dis.bob"), ==, 0);
  token = login ("dis.bob", "password-dis.bob", 200, NULL);
  g_assert_cmpuint (http_status ("GET", "/api/v1/me", token, NULL), ==, 200);
}

/* Deleted as DELETE /me deletes: sessions end, the group is left, the
 * name is free. */
static void
test_delete (void)
{
  g_autoptr(SsqTestUser) owner = ssq_test_register (server, "del.owner");
  g_autoptr(SsqTestUser) u = ssq_test_register (server, "del.eve");
  g_autofree char *conv = ssq_test_create_conversation (server, owner,
    "{\"kind\":\"group\",\"title\":\"Del\",\"members\":[\"del.eve\"]}");
  g_autoptr(SsqTestWs) ws = connect_ws (u->token);
  g_autoptr(JsonNode) shown = NULL;
  g_autoptr(JsonObject) users = NULL;
  g_autoptr(SsqTestUser) again = NULL;
  guint status = 0;

  g_assert_cmpint (run_admin (NULL, NULL, "users", "delete", "del.eve"), ==, 0);
  g_assert_cmpint (ssq_test_ws_wait_closed (ws, WAIT), ==, 1008);
  g_assert_cmpuint (http_status ("GET", "/api/v1/me", u->token, NULL), ==, 401);
  shown = admin_json ("conversations", "show", conv, NULL);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (
                      json_node_get_object (shown), "member_list")), ==, 1);
  users = ssq_test_http (server, "GET", "/api/v1/users?q=del.eve", owner->token, NULL, &status);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (users, "users")), ==, 0);
  g_assert_cmpint (run_admin (NULL, NULL, "users", "show", "del.eve"), ==, 1);
  again = ssq_test_register (server, "del.eve");
  g_assert_cmpstr (again->id, !=, u->id);
}

/* Deleting an account leaves every group it is in, however many: leaving
 * on the way out is not a change the user makes, so it is not charged to a
 * messages_per_minute budget that the user may have spent already (it was:
 * the third leave below got 429 and the account stayed, half gone). */
static void
test_delete_many_groups (void)
{
  g_autoptr(SsqTestServer) strict = ssq_test_server_start (NULL, "[limits]\nmessages_per_minute=2\n");
  g_autoptr(SsqTestUser) owner = ssq_test_register (strict, "many.owner");
  g_autoptr(SsqTestUser) u = ssq_test_register (strict, "many.eve");
  g_autoptr(GPtrArray) convs = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *me = NULL;
  guint status = 0;

  for (guint i = 0; i < 5; i++)
    g_ptr_array_add (convs, ssq_test_create_conversation (strict, owner,
      "{\"kind\":\"group\",\"title\":\"Many\",\"members\":[\"many.eve\"]}"));
  /* Her budget is spent before she goes. */
  for (guint i = 0; i < 2; i++)
    {
      g_autofree char *path = g_strdup_printf ("/api/v1/conversations/%s/messages",
                                               (char *) convs->pdata[0]);
      g_autofree char *body = g_strdup_printf ("{\"client_id\":\"bye%u\",\"body\":\"bye\"}", i);
      g_autoptr(JsonObject) r = ssq_test_http (strict, "POST", path, u->token, body, &status);
      g_assert_cmpuint (status, ==, 201);
    }
  g_assert_cmpint (run_admin_in (strict->data_dir, NULL, NULL, "users", "delete", "many.eve", NULL),
                   ==, 0);
  for (guint i = 0; i < convs->len; i++)
    {
      g_autofree char *path = g_strdup_printf ("/api/v1/conversations/%s",
                                               (char *) convs->pdata[i]);
      g_autoptr(JsonObject) r = ssq_test_http (strict, "GET", path, owner->token, NULL, &status);
      JsonObject *conv;

      g_assert_cmpuint (status, ==, 200);
      conv = json_object_has_member (r, "conversation")
               ? json_object_get_object_member (r, "conversation") : r;
      g_assert_cmpuint (json_array_get_length (json_object_get_array_member (conv, "members")),
                        ==, 1);
    }
  g_assert_cmpint (ssq_test_server_stop (strict), ==, 0);
}

static char *
issue_code (const char *username)
{
  g_autoptr(JsonNode) reset = admin_json ("users", "reset-password", username, NULL);
  JsonObject *r = json_node_get_object (reset);

  g_assert_cmpint (json_object_get_int_member (r, "expires_at"), >, g_get_real_time () / 1000);
  return g_strdup (json_object_get_string_member (r, "code"));
}

static guint
redeem (const char  *username,
        const char  *code,
        const char  *password,
        char       **out_token)
{
  g_autofree char *body = g_strdup_printf ("{\"username\":\"%s\",\"code\":\"%s\","
                                           "\"password\":\"%s\"}", username, code, password);
  guint status = 0;
  g_autoptr(JsonObject) r = ssq_test_http (server, "POST", "/api/v1/password-reset", NULL, body,
                                           &status);

  if (out_token != NULL && status == 200)
    *out_token = g_strdup (json_object_get_string_member (r, "token"));
  return status;
}

/* A code works once, within its time, for its account: it sets the
 * password, logs in and ends every other login; never logged. */
static void
test_reset_password (void)
{
  g_autoptr(SsqTestUser) u = ssq_test_register (server, "reset.cat");
  g_autoptr(SsqTestUser) other = ssq_test_register (server, "reset.dan");
  g_autoptr(SsqTestWs) ws = connect_ws (u->token);
  g_autofree char *code = issue_code ("reset.cat");
  g_autofree char *lower = g_ascii_strdown (code, -1);
  g_autofree char *token = NULL;
  g_autofree char *again = NULL;

  /* Until it is used, the old password and logins still work. */
  g_assert_cmpuint (http_status ("GET", "/api/v1/me", u->token, NULL), ==, 200);
  g_assert_cmpuint (redeem ("reset.cat", "0000-0000-0000-0000", "new-password-1", NULL), ==, 403);
  g_assert_cmpuint (redeem ("reset.dan", code, "new-password-1", NULL), ==, 403);
  g_assert_cmpuint (redeem ("reset.cat", code, "short", NULL), ==, 400);
  g_assert_cmpuint (redeem ("reset.cat", lower, "new-password-1", &token), ==, 200);
  g_assert_cmpuint (ssq_test_ws_wait_closed (ws, WAIT), ==, 1008);
  g_assert_cmpuint (http_status ("GET", "/api/v1/me", u->token, NULL), ==, 401);
  g_assert_cmpuint (http_status ("GET", "/api/v1/me", token, NULL), ==, 200);
  g_assert_cmpuint (http_status ("GET", "/api/v1/me", other->token, NULL), ==, 200);
  g_free (login ("reset.cat", "password-reset.cat", 401, NULL));
  again = login ("reset.cat", "new-password-1", 200, NULL);
  /* Once. */
  g_assert_cmpuint (redeem ("reset.cat", code, "new-password-2", NULL), ==, 403);
  g_free (login ("reset.cat", "new-password-1", 200, NULL));
}

/* A code waiting when the user changes the password (who remembered it,
 * or got in another way) goes with the old password: whoever else got
 * hold of it must not set a password of their own afterwards. */
static void
test_reset_code_ends_with_password_change (void)
{
  g_autoptr(SsqTestUser) u = ssq_test_register (server, "reset.fox");
  g_autofree char *code = issue_code ("reset.fox");
  g_autoptr(JsonNode) shown = NULL;
  guint status = 0;
  g_autoptr(JsonObject) r = ssq_test_http (server, "PATCH", "/api/v1/me", u->token,
                                           "{\"password\":\"fox-changed-1\","
                                           "\"current_password\":\"password-reset.fox\"}",
                                           &status);

  g_assert_cmpuint (status, ==, 200);
  shown = admin_json ("users", "show", "reset.fox", NULL);
  g_assert_false (json_object_get_boolean_member (json_node_get_object (shown), "reset_pending"));
  g_assert_cmpuint (redeem ("reset.fox", code, "taken-over-1", NULL), ==, 403);
  g_free (login ("reset.fox", "taken-over-1", 401, NULL));
  g_free (login ("reset.fox", "fox-changed-1", 200, NULL));
}

/* supersoniq-cli redeems a code and keeps the session it opens. */
static void
test_reset_password_cli (void)
{
  g_autoptr(SsqTestUser) u = ssq_test_register (server, "reset.eli");
  g_autofree char *code = issue_code ("reset.eli");
  g_autofree char *home = g_dir_make_tmp ("ssq-admin-cli-XXXXXX", NULL);
  g_autofree char *password_file = g_build_filename (home, "password", NULL);
  g_autofree char *config = g_build_filename (home, "config", NULL);
  g_autofree char *data = g_build_filename (home, "data", NULL);
  g_auto(GStrv) env = g_get_environ ();
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  int status = -1;
  const char *reset_argv[] = { g_getenv ("SSQ_CLI_BIN"), "--server", server->url,
                               "--password-file", password_file, "reset-password", "reset.eli",
                               code, NULL };
  const char *conv_argv[] = { g_getenv ("SSQ_CLI_BIN"), "--json", "conversations", NULL };

  g_file_set_contents (password_file, "cli-new-password\n", -1, &error);
  g_assert_no_error (error);
  env = g_environ_setenv (env, "XDG_CONFIG_HOME", config, TRUE);
  env = g_environ_setenv (env, "XDG_DATA_HOME", data, TRUE);
  env = g_environ_setenv (env, "LC_ALL", "C", TRUE);
  g_spawn_sync (NULL, (char **) reset_argv, env, G_SPAWN_DEFAULT, NULL, NULL, &out, NULL,
                &status, &error);
  g_assert_no_error (error);
  g_assert_cmpint (WEXITSTATUS (status), ==, 0);
  g_assert_nonnull (strstr (out, "New password set; logged in as reset.eli"));
  /* The saved session works. */
  g_clear_pointer (&out, g_free);
  g_spawn_sync (NULL, (char **) conv_argv, env, G_SPAWN_DEFAULT, NULL, NULL, &out, NULL,
                &status, &error);
  g_assert_no_error (error);
  g_assert_cmpint (WEXITSTATUS (status), ==, 0);
  g_free (login ("reset.eli", "cli-new-password", 200, NULL));
  /* Used: the CLI says so, exit 1. */
  g_spawn_sync (NULL, (char **) reset_argv, env, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, NULL,
                NULL, &status, &error);
  g_assert_cmpint (WEXITSTATUS (status), ==, 1);
  ssq_test_remove_tree (home);
}

typedef struct {
  GPid        pid;
  const char *code;
} Cmdline;

/* Whether the process's arguments, as every local user reads them, no
 * longer hold the code. */
static gboolean
code_hidden (gpointer data)
{
  Cmdline *c = data;
  g_autofree char *path = g_strdup_printf ("/proc/%d/cmdline", (int) c->pid);
  g_autofree char *text = NULL;
  gsize len = 0;

  if (!g_file_get_contents (path, &text, &len, NULL))
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (text[i] == '\0')
      text[i] = ' ';
  return len > 0 && strstr (text, c->code) == NULL;
}

/* A code given on supersoniq-cli's command line is gone from its
 * /proc/PID/cmdline while it works (here: while the server does not
 * answer; interactively, while it asks for the new password), where any
 * local user could read it and redeem it first. */
static void
test_reset_code_hidden_from_ps (void)
{
  g_autoptr(SsqTestUser) u = ssq_test_register (server, "reset.gil");
  g_autofree char *code = issue_code ("reset.gil");
  g_autofree char *home = g_dir_make_tmp ("ssq-admin-ps-XXXXXX", NULL);
  g_autofree char *password_file = g_build_filename (home, "password", NULL);
  g_autofree char *data = g_build_filename (home, "data", NULL);
  g_autoptr(GError) error = NULL;
  const char *argv[] = { g_getenv ("SSQ_CLI_BIN"), "--server", server->url, "--data-dir", data,
                         "--password-file", password_file, "reset-password", "reset.gil",
                         code, NULL };
  GPid server_pid = ssq_test_server_pid (server);
  Cmdline c = { 0, code };
  gboolean hidden;
  int status = -1;

  g_file_set_contents (password_file, "gil-new-password\n", -1, &error);
  g_assert_no_error (error);
  /* The server stops answering: the client waits, its arguments there to
   * read. */
  g_assert_cmpint (kill (server_pid, SIGSTOP), ==, 0);
  g_spawn_async (NULL, (char **) argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD |
                 G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, &c.pid, &error);
  g_assert_no_error (error);
  hidden = ssq_test_wait_until (code_hidden, &c, 5000);
  g_assert_cmpint (kill (server_pid, SIGCONT), ==, 0);
  g_assert_cmpint (waitpid (c.pid, &status, 0), ==, c.pid);
  g_spawn_close_pid (c.pid);
  g_assert_true (hidden);
  /* And the code did its work. */
  g_assert_cmpint (WEXITSTATUS (status), ==, 0);
  g_free (login ("reset.gil", "gil-new-password", 200, NULL));
  ssq_test_remove_tree (home);
}

/* ---- conversations ----------------------------------------------------------- */

static const char *
role_of (SsqTestUser *viewer,
         const char  *conversation_id,
         const char  *user_id,
         JsonObject **holder)
{
  g_autofree char *path = g_strdup_printf ("/api/v1/conversations/%s", conversation_id);
  guint status = 0;
  JsonArray *members;

  g_clear_pointer (holder, json_object_unref);
  *holder = ssq_test_http (server, "GET", path, viewer->token, NULL, &status);
  g_assert_cmpuint (status, ==, 200);
  members = json_object_get_array_member (json_object_get_object_member (*holder, "conversation"),
                                          "members");
  for (guint i = 0; i < json_array_get_length (members); i++)
    {
      JsonObject *m = json_array_get_object_element (members, i);

      if (g_str_equal (json_object_get_string_member (json_object_get_object_member (m, "user"),
                                                      "id"), user_id))
        return json_object_get_string_member (m, "role");
    }
  return NULL;
}

/* set-role and transfer show through the REST API and reach connected
 * members as conversation events; the rules hold. */
static void
test_conversations (void)
{
  g_autoptr(SsqTestUser) ann = ssq_test_register (server, "conv.ann");
  g_autoptr(SsqTestUser) ben = ssq_test_register (server, "conv.ben");
  g_autoptr(SsqTestUser) cid = ssq_test_register (server, "conv.cid");
  g_autofree char *conv = ssq_test_create_conversation (server, ann,
    "{\"kind\":\"group\",\"title\":\"Roles\",\"members\":[\"conv.ben\",\"conv.cid\"]}");
  g_autoptr(SsqTestWs) ws = connect_ws (cid->token);
  g_autoptr(JsonObject) holder = NULL;
  g_autoptr(JsonObject) event = NULL;
  g_autoptr(JsonNode) list = NULL;
  g_autoptr(JsonNode) shown = NULL;
  g_autoptr(JsonObject) ack = NULL;
  g_autofree char *out = NULL, *err = NULL;
  g_autofree char *remove_path = NULL;
  JsonArray *rows;
  gboolean listed = FALSE;

  list = admin_json ("conversations", "list", NULL);
  rows = json_node_get_array (list);
  for (guint i = 0; i < json_array_get_length (rows); i++)
    if (g_str_equal (json_object_get_string_member (json_array_get_object_element (rows, i), "id"),
                     conv))
      {
        listed = TRUE;
        g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (rows, i),
                                                     "members"), ==, 3);
      }
  g_assert_true (listed);
  ack = ssq_test_ws_post (ws, conv, "k1", "hello");
  g_assert_cmpstr (json_object_get_string_member (ack, "type"), ==, "ack");
  shown = admin_json ("conversations", "show", conv, NULL);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (shown), "messages"), ==, 1);

  g_assert_cmpint (run_admin (NULL, NULL, "conversations", "set-role", conv, "conv.ben", "admin"),
                   ==, 0);
  g_assert_cmpstr (role_of (cid, conv, ben->id, &holder), ==, "admin");
  /* The connected member hears of it. */
  event = ssq_test_ws_expect (ws, "conversation", WAIT);
  g_assert_nonnull (event);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (event,
                                                                                 "conversation"),
                                                  "id"), ==, conv);
  g_assert_cmpint (run_admin (NULL, NULL, "conversations", "transfer", conv, "conv.cid"), ==, 0);
  g_assert_cmpstr (role_of (cid, conv, cid->id, &holder), ==, "owner");
  g_assert_cmpstr (role_of (cid, conv, ann->id, &holder), ==, "admin");
  g_assert_cmpstr (role_of (cid, conv, ben->id, &holder), ==, "admin");
  /* The new owner acts as one: removes an admin, which only an owner may. */
  remove_path = g_strdup_printf ("/api/v1/conversations/%s/members/conv.ann", conv);
  g_assert_cmpuint (http_status ("DELETE", remove_path, cid->token, NULL), ==, 204);
  /* Refusals: the owner's role by set-role, an unknown role, conversation
   * or member. */
  g_assert_cmpint (run_admin (NULL, &err, "conversations", "set-role", conv, "conv.cid", "member"),
                   ==, 1);
  g_assert_nonnull (strstr (err, "transfer"));
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run_admin (NULL, NULL, "conversations", "set-role", conv, "conv.ben", "owner"),
                   ==, 2);
  g_assert_cmpint (run_admin (NULL, &err, "conversations", "show", "cnothing"), ==, 1);
  g_assert_nonnull (strstr (err, "No such conversation: cnothing"));
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run_admin (NULL, &err, "conversations", "transfer", conv, "conv.ann"), ==, 1);
  g_assert_nonnull (strstr (err, "Not a member"));
  /* An unknown user is refused, and the server is still there to answer
   * the next request (it read the freed request after refusing). */
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run_admin (NULL, &err, "conversations", "set-role", conv, "conv.nobody", "admin"),
                   ==, 1);
  g_assert_nonnull (strstr (err, "No such user: conv.nobody"));
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run_admin (NULL, &err, "conversations", "transfer", conv, "conv.nobody"), ==, 1);
  g_assert_nonnull (strstr (err, "No such user: conv.nobody"));
  g_assert_cmpint (run_admin (&out, NULL, "conversations", "show", conv), ==, 0);
  g_assert_nonnull (strstr (out, "conv.cid"));
  g_assert_nonnull (strstr (out, "owner"));
}

/* ---- sessions ------------------------------------------------------------------ */

static const char *
session_with_connection (JsonNode *list)
{
  JsonArray *rows = json_node_get_array (list);

  for (guint i = 0; i < json_array_get_length (rows); i++)
    if (json_object_get_int_member (json_array_get_object_element (rows, i), "connected") == 1)
      return json_object_get_string_member (json_array_get_object_element (rows, i), "id");
  return NULL;
}

/* Revoking one session ends that login and its WebSocket only. */
static void
test_sessions_revoke (void)
{
  g_autoptr(SsqTestUser) u = ssq_test_register (server, "ses.fay");
  g_autofree char *conv = ssq_test_create_conversation (server, u,
    "{\"kind\":\"group\",\"title\":\"Ses\"}");
  g_autofree char *token2 = login ("ses.fay", "password-ses.fay", 200, NULL);
  g_autoptr(SsqTestWs) ws1 = connect_ws (u->token);
  g_autoptr(SsqTestWs) ws2 = NULL;
  g_autoptr(JsonNode) list = admin_json ("sessions", "list", "ses.fay", NULL);
  g_autoptr(JsonNode) after = NULL;
  g_autofree char *id = NULL;

  g_assert_cmpuint (json_array_get_length (json_node_get_array (list)), ==, 2);
  id = g_strdup (session_with_connection (list));
  g_assert_nonnull (id);
  ws2 = connect_ws (token2);
  g_assert_cmpint (run_admin (NULL, NULL, "sessions", "revoke", id), ==, 0);
  g_assert_cmpint (ssq_test_ws_wait_closed (ws1, WAIT), ==, 1008);
  g_assert_cmpuint (http_status ("GET", "/api/v1/me", u->token, NULL), ==, 401);
  /* The other login and its WebSocket are untouched. */
  g_assert_cmpuint (http_status ("GET", "/api/v1/me", token2, NULL), ==, 200);
  g_assert_false (ws2->closed);
  assert_chat_served (ws2, conv);
  g_assert_false (ws2->closed);
  after = admin_json ("sessions", "list", "ses.fay", NULL);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (after)), ==, 1);
  g_assert_cmpint (run_admin (NULL, NULL, "sessions", "revoke", id), ==, 1);

  /* Every session of a user. */
  g_assert_cmpint (run_admin (NULL, NULL, "sessions", "revoke", "--user", "ses.fay"), ==, 0);
  g_assert_cmpint (ssq_test_ws_wait_closed (ws2, WAIT), ==, 1008);
  g_assert_cmpuint (http_status ("GET", "/api/v1/me", token2, NULL), ==, 401);
  g_assert_cmpint (run_admin (NULL, NULL, "sessions", "revoke"), ==, 2);
}

static void
test_stats (void)
{
  g_autoptr(SsqTestUser) u = ssq_test_register (server, "stats.gus");
  g_autoptr(SsqTestWs) ws = connect_ws (u->token);
  g_autoptr(JsonNode) stats = admin_json ("stats", NULL);
  JsonObject *s = json_node_get_object (stats);
  g_autofree char *out = NULL;

  g_assert_cmpint (json_object_get_int_member (s, "users"), >=, 2);
  g_assert_cmpint (json_object_get_int_member (s, "connected_sessions"), >=, 1);
  g_assert_cmpint (json_object_get_int_member (s, "db_bytes"), >, 0);
  g_assert_cmpint (json_object_get_int_member (s, "uptime_s"), >=, 0);
  g_assert_true (json_object_has_member (s, "messages"));
  g_assert_true (json_object_has_member (s, "media_bytes"));
  g_assert_cmpint (run_admin (&out, NULL, "stats"), ==, 0);
  g_assert_nonnull (strstr (out, "Uptime:"));
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(SsqTestUser) first = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);
  server = ssq_test_server_start (NULL, NULL);
  first = ssq_test_register (server, "first");
  g_test_add_func ("/server/admin/users", test_users_list_show);
  g_test_add_func ("/server/admin/disable", test_disable);
  g_test_add_func ("/server/admin/delete", test_delete);
  g_test_add_func ("/server/admin/delete-many-groups", test_delete_many_groups);
  g_test_add_func ("/server/admin/reset-password", test_reset_password);
  g_test_add_func ("/server/admin/reset-password-cli", test_reset_password_cli);
  g_test_add_func ("/server/admin/reset-code-hidden-from-ps", test_reset_code_hidden_from_ps);
  g_test_add_func ("/server/admin/reset-code-ends-with-password-change",
                   test_reset_code_ends_with_password_change);
  g_test_add_func ("/server/admin/conversations", test_conversations);
  g_test_add_func ("/server/admin/sessions-revoke", test_sessions_revoke);
  g_test_add_func ("/server/admin/stats", test_stats);
  status = g_test_run ();
  g_assert_cmpint (ssq_test_server_stop (server), ==, 0);
  ssq_test_server_free (server);
  return status;
}
