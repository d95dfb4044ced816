/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-sessions.c: the life of a login: logout, password change and account
 * deletion end live sessions; the session limit; expired sessions purged;
 * strict request parsing (unknown fields and parameters, lone surrogates). */
#include "ssq-test-raw.h"

#include <signal.h>
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
  ret = g_test_run ();
  ssq_test_server_free (server);
  return ret;
}
