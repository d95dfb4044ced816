/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-cli-invites.c: registration modes and invites on the real server,
 * through supersoniq-cli (join, invite), `supersoniq-server admin` and
 * plain HTTP: invite mode refuses registrations without a valid invite,
 * an invite's uses run out (exactly one of many racing registrations gets
 * the last use), invites expire and are revoked, closed mode refuses all
 * and accounts are then made on the administration socket. */
#include <glib/gstdio.h>
#include <string.h>

#include "ssq-invite-link.h"
#include "ssq-json.h"
#include "ssq-test-cli-user.h"
#include "ssq-test-media.h"
#include "ssq-test-server.h"

/* Starts supersoniq-cli (or, with @admin_dir, `supersoniq-server admin
 * --data-dir`) with @argv as @user. */
static GSubprocess *
spawn (CliUser     *user,
       const char  *admin_dir,
       const char  *stdin_text,
       const char **args)
{
  g_autoptr(GSubprocessLauncher) launcher =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE |
                               (stdin_text ? G_SUBPROCESS_FLAGS_STDIN_PIPE : 0));
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  GSubprocess *process;

  if (user != NULL)
    {
      g_autofree char *config = g_build_filename (user->home, "config", NULL);
      g_autofree char *data = g_build_filename (user->home, "data", NULL);
      g_autofree char *cache = g_build_filename (user->home, "cache", NULL);

      g_subprocess_launcher_setenv (launcher, "XDG_CONFIG_HOME", config, TRUE);
      g_subprocess_launcher_setenv (launcher, "XDG_DATA_HOME", data, TRUE);
      g_subprocess_launcher_setenv (launcher, "XDG_CACHE_HOME", cache, TRUE);
    }
  /* UTF-8, for the QR code's half blocks. */
  g_subprocess_launcher_setenv (launcher, "LC_ALL", "C.UTF-8", TRUE);
  if (admin_dir != NULL)
    {
      g_ptr_array_add (argv, g_strdup (g_getenv ("SSQ_SERVER_BIN")));
      g_ptr_array_add (argv, g_strdup ("admin"));
      g_ptr_array_add (argv, g_strdup ("--data-dir"));
      g_ptr_array_add (argv, g_strdup (admin_dir));
    }
  else
    {
      g_ptr_array_add (argv, g_strdup (g_getenv ("SSQ_CLI_BIN")));
      g_ptr_array_add (argv, g_strdup ("--password-file"));
      g_ptr_array_add (argv, g_strdup (user->password_file));
    }
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, g_strdup (args[i]));
  g_ptr_array_add (argv, NULL);
  process = g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata, &error);
  g_assert_no_error (error);
  return process;
}

static int
finish (GSubprocess  *process,
        const char   *stdin_text,
        char        **out_stdout,
        char        **out_stderr)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL, *err = NULL;

  g_subprocess_communicate_utf8 (process, stdin_text, NULL, &out, &err, &error);
  g_assert_no_error (error);
  if (err != NULL && *err != '\0')
    g_test_message ("stderr: %s", err);
  if (out_stdout != NULL)
    *out_stdout = g_steal_pointer (&out);
  if (out_stderr != NULL)
    *out_stderr = g_steal_pointer (&err);
  g_assert_true (g_subprocess_get_if_exited (process));
  return g_subprocess_get_exit_status (process);
}

#define ARGS(...) ((const char *[]) { __VA_ARGS__, NULL })

static int
cli (CliUser     *user,
     char       **out,
     char       **err,
     const char **args)
{
  g_autoptr(GSubprocess) process = spawn (user, NULL, NULL, args);

  return finish (process, NULL, out, err);
}

static int
admin (SsqTestServer *server,
       const char    *stdin_text,
       char         **out,
       const char   **args)
{
  g_autoptr(GSubprocess) process = spawn (NULL, server->data_dir, stdin_text, args);

  return finish (process, stdin_text, out, NULL);
}

static JsonObject *
parse (const char *json)
{
  g_autoptr(GError) error = NULL;
  JsonObject *object = ssq_json_parse_object (json, strlen (json), &error);

  g_assert_no_error (error);
  return object;
}

/* A registration over plain HTTP; returns the status and the error code. */
static guint
register_raw (SsqTestServer  *server,
              const char     *username,
              const char     *invite,
              char          **out_code)
{
  g_autofree char *body = invite
    ? g_strdup_printf ("{\"username\":\"%s\",\"password\":\"password123\",\"invite\":\"%s\"}",
                       username, invite)
    : g_strdup_printf ("{\"username\":\"%s\",\"password\":\"password123\"}", username);
  guint status = 0;
  g_autoptr(JsonObject) reply = ssq_test_http (server, "POST", "/api/v1/register", NULL, body,
                                               &status);

  if (out_code != NULL)
    *out_code = g_strdup (status >= 400 ? ssq_test_error_code (reply) : NULL);
  return status;
}

static void
assert_refused (SsqTestServer *server,
                const char    *username,
                const char    *invite,
                const char    *code)
{
  g_autofree char *got = NULL;

  g_assert_cmpuint (register_raw (server, username, invite, &got), ==, 403);
  g_assert_cmpstr (got, ==, code);
}

/* An invite from the administration socket: its JSON answer. */
static JsonObject *
admin_invite (SsqTestServer *server,
              const char    *uses,
              const char    *expires)
{
  g_autofree char *out = NULL;

  g_assert_cmpint (admin (server, NULL, &out, ARGS ("--json", "invites", "create", "--uses", uses,
                                                    "--expires", expires)), ==, 0);
  return parse (out);
}

/* Invite mode end to end: refusals without a valid invite, join through
 * the CLI, the first account as server admin making invites, uses running
 * out, expiry and revocation. */
static void
test_invite_mode (void)
{
  /* With TLS: join pins the link's fingerprint and checks it. */
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, "[server]\nregistration=invite\n");
  g_autoptr(CliUser) alice = cli_user_new ();
  g_autoptr(CliUser) bob = cli_user_new ();
  g_autoptr(CliUser) carol = cli_user_new ();
  g_autoptr(JsonObject) info = NULL;
  g_autoptr(JsonObject) first = NULL;
  g_autoptr(JsonObject) made = NULL;
  g_autoptr(JsonObject) brief = NULL;
  g_autoptr(SsqInviteLink) link = NULL;
  g_autofree char *out = NULL, *err = NULL, *expected_url = NULL, *revoked_token = NULL;
  g_autofree char *brief_token = NULL;
  guint status = 0;

  info = ssq_test_http (server, "GET", "/api/v1/server", NULL, NULL, &status);
  g_assert_cmpstr (json_object_get_string_member (info, "registration"), ==, "invite");
  assert_refused (server, "mallory", NULL, "invite_required");
  assert_refused (server, "mallory", "AAAAAAAAAAAAAAAAAAAAAA", "invite_invalid");
  assert_refused (server, "mallory", "not a token", "invite_invalid");
  g_assert_cmpint (cli (carol, NULL, &err, ARGS ("--server", server->url, "register", "carol")),
                   ==, 1);
  g_assert_nonnull (strstr (err, "invitation only"));
  g_clear_pointer (&err, g_free);

  /* Nobody has an account: the first invite comes from the socket. */
  first = admin_invite (server, "2", "1h");
  link = ssq_invite_link_parse (json_object_get_string_member (first, "link"), NULL);
  g_assert_nonnull (link);
  g_assert_nonnull (link->fingerprint);   /* TLS: the joining client pins it */
  expected_url = ssq_invite_link_server_url (link);
  g_assert_cmpstr (expected_url, ==, server->https_url);
  g_assert_cmpint (cli (alice, &out, NULL, ARGS ("join", json_object_get_string_member (first, "link"),
                                                 "alice")), ==, 0);
  g_assert_nonnull (strstr (out, "Logged in as alice"));
  g_clear_pointer (&out, g_free);
  /* The session was saved: alice goes on without --server. */
  g_assert_cmpint (cli (alice, NULL, NULL, ARGS ("conversations")), ==, 0);

  /* alice, the first account, is the server admin and makes invites. */
  g_assert_cmpint (cli (alice, &out, NULL, ARGS ("--json", "invite", "create", "--uses", "1",
                                                 "--expires", "2h")), ==, 0);
  made = parse (out);
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (json_object_get_int_member (made, "uses_left"), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (made, "created_by"), ==, "alice");
  g_assert_cmpint (cli (alice, &out, NULL, ARGS ("invite", "create")), ==, 0);
  g_assert_nonnull (strstr (out, "supersoniq://"));
  g_assert_nonnull (strstr (out, "\u2588"));      /* the QR code */
  g_clear_pointer (&out, g_free);

  /* The first invite's second use, then none left. */
  g_assert_cmpint (cli (bob, NULL, NULL, ARGS ("join", json_object_get_string_member (first, "link"),
                                               "bob")), ==, 0);
  g_assert_cmpint (cli (carol, NULL, &err, ARGS ("join", json_object_get_string_member (first, "link"),
                                                 "carol")), ==, 1);
  g_assert_nonnull (strstr (err, "used as often as it allowed"));
  g_clear_pointer (&err, g_free);
  assert_refused (server, "carol", json_object_get_string_member (first, "token"), "invite_used_up");

  /* bob is no server admin. */
  g_assert_cmpint (cli (bob, NULL, &err, ARGS ("invite", "list")), ==, 1);
  g_assert_nonnull (strstr (err, "server admin"));
  g_clear_pointer (&err, g_free);

  /* Revoked: the token is unknown from then on; a second revoke finds
   * nothing. */
  revoked_token = g_strdup (json_object_get_string_member (made, "token"));
  g_assert_cmpint (cli (alice, &out, NULL, ARGS ("invite", "revoke",
                                                 json_object_get_string_member (made, "id"))), ==, 0);
  g_clear_pointer (&out, g_free);
  assert_refused (server, "carol", revoked_token, "invite_invalid");
  g_assert_cmpint (cli (alice, NULL, NULL, ARGS ("invite", "revoke",
                                                 json_object_get_string_member (made, "id"))), ==, 5);

  /* Expired: a one-second invite, after that second. */
  brief = admin_invite (server, "5", "1s");
  brief_token = g_strdup (json_object_get_string_member (brief, "token"));
  g_usleep (1500 * 1000);
  assert_refused (server, "carol", brief_token, "invite_expired");

  /* The list shows them all, the admin socket's without a creator. */
  g_assert_cmpint (cli (alice, &out, NULL, ARGS ("invite", "list")), ==, 0);
  g_assert_nonnull (strstr (out, "used up"));
  g_assert_nonnull (strstr (out, "expired"));
  g_assert_null (strstr (out, revoked_token));
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (admin (server, NULL, &out, ARGS ("invites", "list")), ==, 0);
  g_assert_nonnull (strstr (out, json_object_get_string_member (first, "id")));
  g_assert_null (strstr (out, json_object_get_string_member (made, "id")));
  /* A clean stop (under valgrind: no error, no leak). */
  g_assert_cmpint (ssq_test_server_stop (server), ==, 0);
}

/* Many registrations race for an invite's last use: exactly one gets it,
 * the others are told it is used up, and no account is made for them. */
static void
test_last_use_race (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, "[server]\nregistration=invite\n");
  g_autoptr(JsonObject) invite = admin_invite (server, "1", "1h");
  const char *link = json_object_get_string_member (invite, "link");
  enum { N = 6 };
  CliUser *users[N];
  GSubprocess *processes[N];
  guint won = 0;
  g_autofree char *out = NULL;

  for (guint i = 0; i < N; i++)
    {
      g_autofree char *name = g_strdup_printf ("racer%u", i);

      users[i] = cli_user_new ();
      processes[i] = spawn (users[i], NULL, NULL, ARGS ("join", link, name));
    }
  for (guint i = 0; i < N; i++)
    {
      g_autofree char *err = NULL;
      int code = finish (processes[i], NULL, NULL, &err);

      if (code == 0)
        won++;
      else
        g_assert_nonnull (strstr (err, "used as often as it allowed"));
      g_object_unref (processes[i]);
      cli_user_free (users[i]);
    }
  g_assert_cmpuint (won, ==, 1);
  g_assert_cmpint (admin (server, NULL, &out, ARGS ("--json", "users", "list")), ==, 0);
  g_assert_nonnull (strstr (out, "racer"));
  {
    g_auto(GStrv) parts = g_strsplit (out, "\"racer", -1);

    g_assert_cmpuint (g_strv_length (parts) - 1, ==, 2);   /* username and display name */
  }
}

/* Closed: every registration is refused, with an invite too; accounts are
 * made on the administration socket, with a password from standard input
 * or with a one-time code the user sets a password with. The first is the
 * server admin. This is the way in that `[features] registration=false`
 * lacked. */
static void
test_closed_mode (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, "[server]\nregistration=closed\n");
  g_autoptr(CliUser) carol = cli_user_new ();
  g_autoptr(CliUser) dave = cli_user_new ();
  g_autoptr(JsonObject) invite = admin_invite (server, "1", "1h");
  g_autoptr(JsonObject) created = NULL;
  g_autofree char *out = NULL;
  const char *code;

  assert_refused (server, "mallory", NULL, "feature_disabled");
  assert_refused (server, "mallory", json_object_get_string_member (invite, "token"),
                  "feature_disabled");

  g_assert_cmpint (admin (server, NULL, &out, ARGS ("--json", "users", "create", "carol")), ==, 0);
  created = parse (out);
  g_clear_pointer (&out, g_free);
  code = json_object_get_string_member (created, "code");
  g_assert_nonnull (code);
  /* No password yet: no login until the code sets one. */
  g_assert_cmpint (cli (carol, NULL, NULL, ARGS ("--server", server->url, "login", "carol")), ==, 3);
  g_assert_cmpint (cli (carol, &out, NULL, ARGS ("--server", server->url, "reset-password",
                                                 "carol", code)), ==, 0);
  g_assert_nonnull (strstr (out, "logged in as carol"));
  g_clear_pointer (&out, g_free);
  /* carol, the first account, is the server admin. */
  g_assert_cmpint (cli (carol, NULL, NULL, ARGS ("invite", "list")), ==, 0);

  g_assert_cmpint (admin (server, "password123\n", &out, ARGS ("users", "create", "dave",
                                                                "--password-stdin")), ==, 0);
  g_assert_nonnull (strstr (out, "Created dave."));
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (cli (dave, NULL, NULL, ARGS ("--server", server->url, "login", "dave")), ==, 0);
  g_assert_cmpint (cli (dave, NULL, NULL, ARGS ("invite", "list")), ==, 1);
  /* A name taken, a name that is no name. */
  g_assert_cmpint (admin (server, NULL, NULL, ARGS ("users", "create", "dave")), ==, 1);
  g_assert_cmpint (admin (server, NULL, NULL, ARGS ("users", "create", "x")), ==, 2);
  g_assert_cmpint (ssq_test_server_stop (server), ==, 0);
}

/* The older switch alone still works: registration=false is closed. */
static void
test_legacy_switch (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, "[features]\nregistration=false\n");
  guint status = 0;
  g_autoptr(JsonObject) info = ssq_test_http (server, "GET", "/api/v1/server", NULL, NULL, &status);

  g_assert_cmpstr (json_object_get_string_member (info, "registration"), ==, "closed");
  assert_refused (server, "mallory", NULL, "feature_disabled");
}

/* Open, the default: no invite needed, and one given is not looked at. */
static void
test_open_mode (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, NULL);

  g_assert_cmpuint (register_raw (server, "alice", NULL, NULL), ==, 201);
  g_assert_cmpuint (register_raw (server, "bob", "AAAAAAAAAAAAAAAAAAAAAA", NULL), ==, 201);
}

/* With TLS (the default), a link carries the fingerprint the server
 * reports, compact: what the joining client pins. */
static void
test_link_fingerprint (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, "[server]\nregistration=invite\n");
  g_autoptr(JsonObject) invite = admin_invite (server, "1", "1h");
  g_autoptr(SsqInviteLink) link = ssq_invite_link_parse (json_object_get_string_member (invite, "link"),
                                                         NULL);
  g_autoptr(JsonObject) info = NULL;
  g_autofree char *reported = NULL;
  guint status = 0;

  info = ssq_test_http (server, "GET", "/api/v1/server", NULL, NULL, &status);
  g_assert_cmpuint (status, ==, 200);
  reported = ssq_fingerprint_normalize (json_object_get_string_member (
                                          json_object_get_object_member (info, "tls"), "fingerprint"));
  g_assert_nonnull (link);
  g_assert_nonnull (reported);
  g_assert_cmpstr (link->fingerprint, ==, reported);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/cli/invites/invite-mode", test_invite_mode);
  g_test_add_func ("/cli/invites/last-use-race", test_last_use_race);
  g_test_add_func ("/cli/invites/closed-mode", test_closed_mode);
  g_test_add_func ("/cli/invites/legacy-switch", test_legacy_switch);
  g_test_add_func ("/cli/invites/open-mode", test_open_mode);
  g_test_add_func ("/cli/invites/link-fingerprint", test_link_fingerprint);
  return g_test_run ();
}
