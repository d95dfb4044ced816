/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-cli.c: the supersoniq-cli binary against the real server, as a
 * script would use it: output, --json and exit codes. */
#include <glib/gstdio.h>
#include <signal.h>

#include "ssq-test-server.h"

typedef struct {
  char *home;     /* XDG config and data of one user */
  char *password_file;
} CliUser;

static CliUser *
cli_user_new (void)
{
  CliUser *user = g_new0 (CliUser, 1);
  g_autoptr(GError) error = NULL;

  user->home = g_dir_make_tmp ("ssq-cli-XXXXXX", &error);
  g_assert_no_error (error);
  user->password_file = g_build_filename (user->home, "password", NULL);
  g_file_set_contents (user->password_file, "password123\n", -1, &error);
  g_assert_no_error (error);
  return user;
}

static void
cli_user_free (CliUser *user)
{
  ssq_test_remove_tree (user->home);
  g_free (user->home);
  g_free (user->password_file);
  g_free (user);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CliUser, cli_user_free)

static GSubprocessLauncher *
launcher_for (CliUser *user)
{
  GSubprocessLauncher *launcher =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autofree char *config = g_build_filename (user->home, "config", NULL);
  g_autofree char *data = g_build_filename (user->home, "data", NULL);

  g_subprocess_launcher_setenv (launcher, "XDG_CONFIG_HOME", config, TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_DATA_HOME", data, TRUE);
  g_subprocess_launcher_setenv (launcher, "LC_ALL", "C", TRUE);
  return launcher;
}

/* Runs supersoniq-cli with @args (NULL-terminated); returns its exit code
 * and, in @out_stdout, what it printed. */
static int
run_cli (CliUser     *user,
         char       **out_stdout,
         const char  *first,
         ...)
{
  g_autoptr(GSubprocessLauncher) launcher = launcher_for (user);
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL, *err = NULL;
  va_list ap;

  g_ptr_array_add (argv, (gpointer) g_getenv ("SSQ_CLI_BIN"));
  va_start (ap, first);
  for (const char *arg = first; arg != NULL; arg = va_arg (ap, const char *))
    g_ptr_array_add (argv, (gpointer) arg);
  va_end (ap);
  g_ptr_array_add (argv, NULL);
  process = g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, &out, &err, &error);
  g_assert_no_error (error);
  if (err != NULL && *err != '\0')
    g_test_message ("stderr: %s", err);
  if (out_stdout != NULL)
    *out_stdout = g_steal_pointer (&out);
  g_assert_true (g_subprocess_get_if_exited (process));
  return g_subprocess_get_exit_status (process);
}

static JsonNode *
parse_json (const char *text)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  json_parser_load_from_data (parser, text, -1, &error);
  g_assert_no_error (error);
  return json_node_copy (json_parser_get_root (parser));
}

static void
register_user (SsqTestServer *server,
               CliUser       *user,
               const char    *name)
{
  g_autofree char *out = NULL;
  g_autoptr(JsonNode) node = NULL;

  g_assert_cmpint (run_cli (user, &out, "--server", server->url, "--password-file",
                            user->password_file, "--json", "register", name, NULL), ==, 0);
  node = parse_json (out);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (node), "username"), ==, name);
}

static void
test_usage_and_auth (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, NULL);
  g_autoptr(CliUser) alice = cli_user_new ();
  g_autoptr(CliUser) wrong = cli_user_new ();
  g_autofree char *out = NULL;

  g_assert_cmpint (run_cli (alice, NULL, NULL), ==, 2);
  g_assert_cmpint (run_cli (alice, NULL, "fly", NULL), ==, 2);
  g_assert_cmpint (run_cli (alice, NULL, "send", "bob", NULL), ==, 2);
  g_assert_cmpint (run_cli (alice, NULL, "--limit", "0", "history", "x", NULL), ==, 2);
  g_assert_cmpint (run_cli (alice, NULL, "login", "alice", NULL), ==, 2);      /* no --server */
  g_assert_cmpint (run_cli (alice, NULL, "conversations", NULL), ==, 3);       /* not logged in */

  register_user (server, alice, "alice");
  /* Taken, and a wrong password: refused, and auth. */
  g_assert_cmpint (run_cli (wrong, NULL, "--server", server->url, "--password-file",
                            alice->password_file, "register", "alice", NULL), ==, 1);
  g_file_set_contents (wrong->password_file, "not-the-password", -1, NULL);
  g_assert_cmpint (run_cli (wrong, NULL, "--server", server->url, "--password-file",
                            wrong->password_file, "login", "alice", NULL), ==, 3);
  /* The right one from another machine works. */
  g_assert_cmpint (run_cli (wrong, NULL, "--server", server->url, "--password-file",
                            alice->password_file, "login", "alice", NULL), ==, 0);

  g_assert_cmpint (run_cli (alice, &out, "conversations", NULL), ==, 0);
  g_assert_cmpstr (out, ==, "");
  g_assert_cmpint (run_cli (alice, NULL, "history", "nobody", NULL), ==, 5);
  g_assert_cmpint (run_cli (alice, NULL, "dm", "nosuchuser", NULL), ==, 5);
  g_assert_cmpint (run_cli (alice, NULL, "logout", NULL), ==, 0);
  g_assert_cmpint (run_cli (alice, NULL, "conversations", NULL), ==, 3);
  /* The other machine's session is still good. */
  g_assert_cmpint (run_cli (wrong, NULL, "conversations", NULL), ==, 0);
}

static void
test_send_history_and_queue (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, NULL);
  g_autoptr(CliUser) alice = cli_user_new ();
  g_autoptr(CliUser) bob = cli_user_new ();
  g_autofree char *out = NULL;
  g_autoptr(JsonNode) node = NULL;
  JsonArray *array;

  register_user (server, alice, "alice");
  register_user (server, bob, "bob");

  /* A username names the direct conversation, made on first use. */
  g_assert_cmpint (run_cli (alice, &out, "--json", "send", "bob", "hello bob", NULL), ==, 0);
  node = parse_json (out);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (node), "seq"), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (node), "status"), ==, "sent");
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&node, json_node_unref);
  g_assert_cmpint (run_cli (bob, &out, "history", "alice", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "#1 alice: hello bob"));
  g_clear_pointer (&out, g_free);

  /* A group by title. */
  g_assert_cmpint (run_cli (alice, NULL, "group", "Lab Crew", "bob", NULL), ==, 0);
  g_assert_cmpint (run_cli (bob, NULL, "send", "lab crew", "in the group", NULL), ==, 0);

  /* Server down: the message waits in the outbox, and the CLI says so. */
  ssq_test_server_kill (server);
  g_assert_cmpint (run_cli (alice, &out, "send", "bob", "while you were out", NULL), ==, 6);
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run_cli (alice, &out, "--json", "outbox", NULL), ==, 4);
  node = parse_json (out);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (node)), ==, 1);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&node, json_node_unref);
  g_assert_cmpint (run_cli (alice, &out, "conversations", NULL), ==, 4);    /* cached, marked stale */
  g_assert_nonnull (strstr (out, "Lab Crew"));
  g_clear_pointer (&out, g_free);

  /* The next command that connects delivers it. */
  ssq_test_server_restart (server);
  g_assert_cmpint (run_cli (alice, NULL, "conversations", NULL), ==, 0);
  g_assert_cmpint (run_cli (alice, &out, "--json", "outbox", NULL), ==, 0);
  g_assert_cmpstr (out, ==, "[]\n");
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run_cli (bob, &out, "--json", "history", "alice", "--limit", "10", NULL), ==, 0);
  node = parse_json (out);
  array = json_node_get_array (node);
  g_assert_cmpuint (json_array_get_length (array), ==, 2);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (array, 1), "body"),
                   ==, "while you were out");
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run_cli (bob, &out, "search", "WERE", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "while you were out"));
}

static void
test_tail (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, NULL);
  g_autoptr(CliUser) alice = cli_user_new ();
  g_autoptr(CliUser) bob = cli_user_new ();
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) tail = NULL;
  g_autoptr(GDataInputStream) lines = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *line = NULL;
  g_autoptr(JsonNode) node = NULL;

  register_user (server, alice, "alice");
  register_user (server, bob, "bob");
  g_assert_cmpint (run_cli (alice, NULL, "send", "bob", "before", NULL), ==, 0);

  launcher = launcher_for (bob);
  tail = g_subprocess_launcher_spawn (launcher, &error, g_getenv ("SSQ_CLI_BIN"), "--json",
                                      "tail", "alice", NULL);
  g_assert_no_error (error);
  lines = g_data_input_stream_new (g_subprocess_get_stdout_pipe (tail));
  /* Only what arrives from now on; give tail its connection first. */
  ssq_test_wait_ms (500);
  g_assert_cmpint (run_cli (alice, NULL, "send", "bob", "live one", NULL), ==, 0);
  line = g_data_input_stream_read_line (lines, NULL, NULL, &error);
  g_assert_no_error (error);
  node = parse_json (line);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (node), "body"), ==, "live one");
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (node), "seq"), ==, 2);

  g_subprocess_send_signal (tail, SIGINT);
  g_subprocess_wait (tail, NULL, &error);
  g_assert_true (g_subprocess_get_if_exited (tail));
  g_assert_cmpint (g_subprocess_get_exit_status (tail), ==, 0);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/cli/usage-and-auth", test_usage_and_auth);
  g_test_add_func ("/cli/send-history-and-queue", test_send_history_and_queue);
  g_test_add_func ("/cli/tail", test_tail);
  return g_test_run ();
}
