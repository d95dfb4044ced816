/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-cli-queue.c: `supersoniq-cli queue …` against the real server:
 * declare, publish (text, standard input, binary), list, get (printed,
 * then acknowledged; exit 5 on an empty queue), consume until --count
 * while messages come, purge, delete, and what it refuses. */
#include <string.h>

#include "ssq-json.h"
#include "ssq-test-cli-user.h"
#include "ssq-test-server.h"

static SsqTestServer *server;

static int
run_with_stdin (CliUser     *user,
                const char  *stdin_text,
                char       **out,
                const char  *first,
                ...)
{
  va_list ap;
  int code;

  va_start (ap, first);
  code = run_cli_va (user, stdin_text, out, NULL, first, ap);
  va_end (ap);
  return code;
}

static char *
login_token (const char *name)
{
  g_autofree char *body = g_strdup_printf ("{\"username\":\"%s\",\"password\":\"password123\"}",
                                           name);
  guint status;
  g_autoptr(JsonObject) reply = ssq_test_http (server, "POST", "/api/v1/login", NULL, body,
                                               &status);

  g_assert_cmpuint (status, ==, 200);
  return g_strdup (json_object_get_string_member (reply, "token"));
}

static void
test_queue_commands (void)
{
  g_autoptr(CliUser) alice = cli_user_new ();
  g_autoptr(CliUser) bob = cli_user_new ();
  g_autofree char *out = NULL;
  g_autofree char *token = NULL;
  g_autoptr(JsonNode) node = NULL;

  cli_register_user (server, alice, "qalice");
  cli_register_user (server, bob, "qbob");
  token = login_token ("qalice");

  g_assert_cmpint (run_cli (alice, &out, "queue", "declare", "jobs", "--arg", "max_length=5",
                            "--arg", "overflow=reject-publish", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "jobs"));
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run_cli (alice, &out, "--json", "queue", "declare", "jobs", "--arg",
                            "max_length=5", "--arg", "overflow=reject-publish", NULL), ==, 0);
  node = cli_parse_json (out);
  g_assert_cmpint (json_object_get_int_member (
                     json_object_get_object_member (
                       json_object_get_object_member (json_node_get_object (node), "queue"),
                       "arguments"), "max_length"), ==, 5);
  g_clear_pointer (&node, json_node_unref);
  g_clear_pointer (&out, g_free);
  /* Other settings: refused by the server (1). */
  g_assert_cmpint (run_cli (alice, &out, "queue", "declare", "jobs", NULL), ==, 1);
  g_clear_pointer (&out, g_free);

  /* Text, standard input, binary standard input. */
  g_assert_cmpint (run_cli (alice, &out, "queue", "publish", "jobs", "hello", "--header",
                            "source=cli", "--content-type", "text/plain", "--priority", "2", NULL),
                   ==, 0);
  g_assert_true (g_str_has_prefix (out, "Published message "));
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run_with_stdin (alice, "from stdin\nline two", &out, "queue", "publish", "jobs",
                                   NULL), ==, 0);
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run_with_stdin (alice, "\x01\x02\xff", &out, "--json", "queue", "publish",
                                   "jobs", "--transient", NULL), ==, 0);
  node = cli_parse_json (out);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (node), "id"), >, 0);
  g_clear_pointer (&node, json_node_unref);
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (ssq_test_queue_field (server, "jobs", token, "depth"), ==, 3);

  g_assert_cmpint (run_cli (alice, &out, "queue", "list", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "jobs  3 ready, 0 unacked, 0 consumers, owner qalice"));
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run_cli (bob, &out, "--json", "queue", "list", NULL), ==, 0);
  node = cli_parse_json (out);
  g_assert_true (JSON_NODE_HOLDS_ARRAY (node));
  g_clear_pointer (&node, json_node_unref);
  g_clear_pointer (&out, g_free);

  /* get: printed, then acknowledged. */
  g_assert_cmpint (run_cli (bob, &out, "queue", "get", "jobs", NULL), ==, 0);
  g_assert_cmpstr (out, ==, "hello\n");
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run_cli (bob, &out, "--json", "queue", "get", "jobs", "--count", "2", NULL), ==,
                   0);
  {
    g_auto(GStrv) lines = g_strsplit (out, "\n", -1);
    g_autoptr(JsonNode) first = cli_parse_json (lines[0]);
    g_autoptr(JsonNode) second = cli_parse_json (lines[1]);

    g_assert_cmpstr (json_object_get_string_member (json_node_get_object (first), "body"), ==,
                     "from stdin\nline two");
    g_assert_cmpstr (json_object_get_string_member (json_node_get_object (second), "body_base64"),
                     ==, "AQL/");
  }
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (ssq_test_queue_field (server, "jobs", token, "depth"), ==, 0);
  g_assert_cmpint (ssq_test_queue_field (server, "jobs", token, "unacked"), ==, 0);
  /* Empty: exit 5. */
  g_assert_cmpint (run_cli (bob, &out, "queue", "get", "jobs", "--wait", "1", NULL), ==, 5);
  g_clear_pointer (&out, g_free);

  /* Only the owner purges and deletes. */
  g_assert_cmpint (run_cli (alice, &out, "queue", "publish", "jobs", "left", NULL), ==, 0);
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run_cli (bob, &out, "queue", "purge", "jobs", NULL), ==, 1);
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run_cli (bob, &out, "queue", "delete", "jobs", NULL), ==, 1);
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run_cli (alice, &out, "queue", "purge", "jobs", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "purged of 1 message"));
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run_cli (alice, &out, "queue", "delete", "jobs", NULL), ==, 0);
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run_cli (alice, &out, "queue", "delete", "jobs", NULL), ==, 5);
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run_cli (alice, &out, "queue", "publish", "jobs", "x", NULL), ==, 5);
}

/* consume: what comes while it waits, each printed then acked, until
 * --count. */
static void
test_consume (void)
{
  g_autoptr(CliUser) carol = cli_user_new ();
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *token = NULL;
  g_autoptr(JsonObject) r = NULL;
  guint status;

  cli_register_user (server, carol, "qcarol");
  token = login_token ("qcarol");
  r = ssq_test_http (server, "PUT", "/api/v1/queues/stream", token, NULL, &status);
  g_assert_cmpuint (status, ==, 201);
  g_clear_pointer (&r, json_object_unref);
  launcher = cli_user_launcher (carol);
  g_subprocess_launcher_set_flags (launcher, G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                             G_SUBPROCESS_FLAGS_STDERR_PIPE);
  process = g_subprocess_launcher_spawn (launcher, &error, g_getenv ("SSQ_CLI_BIN"), "queue",
                                         "consume", "stream", "--count", "3", NULL);
  g_assert_no_error (error);
  /* Waiting: its long poll is the queue's consumer. */
  while (TRUE)
    {
      g_autoptr(JsonObject) q = ssq_test_http (server, "GET", "/api/v1/queues/stream", token, NULL,
                                               &status);

      if (json_object_get_int_member (json_object_get_object_member (q, "queue"), "consumers") > 0)
        break;
      g_usleep (20000);
    }
  for (guint i = 1; i <= 3; i++)
    {
      g_autofree char *body = g_strdup_printf ("{\"body\":\"event %u\"}", i);

      r = ssq_test_http (server, "POST", "/api/v1/queues/stream/messages", token, body, &status);
      g_assert_cmpuint (status, ==, 201);
      g_clear_pointer (&r, json_object_unref);
    }
  g_subprocess_communicate_utf8 (process, NULL, NULL, &out, &err, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (process));
  g_assert_cmpint (g_subprocess_get_exit_status (process), ==, 0);
  g_assert_cmpstr (out, ==, "event 1\nevent 2\nevent 3\n");
  g_assert_cmpint (ssq_test_queue_field (server, "stream", token, "unacked"), ==, 0);
  g_assert_cmpint (ssq_test_queue_field (server, "stream", token, "depth"), ==, 0);
}

/* What the CLI refuses before asking the server: 2. */
static void
test_usage (void)
{
  g_autoptr(CliUser) dave = cli_user_new ();
  static const char *const bad[][8] = {
    { "queue", NULL },
    { "queue", "frobnicate", "x", NULL },
    { "queue", "list", "extra", NULL },
    { "queue", "get", NULL },
    { "queue", "get", "jobs", "--header", "a=b", NULL },
    { "queue", "declare", "jobs", "--arg", "nonsense=1", NULL },
    { "queue", "declare", "jobs", "--arg", "max_length=lots", NULL },
    { "queue", "declare", "jobs", "--arg", "max_length", NULL },
    { "queue", "publish", "jobs", "x", "--priority", "300", NULL },
    { "queue", "publish", "jobs", "x", "--header", "novalue", NULL },
    { "queue", "consume", "jobs", "--wait", "3", NULL },
    { "queue", "delete", "jobs", "--count", "2", NULL },
    { "send", "bob", "x", "--transient", NULL },
  };

  cli_register_user (server, dave, "qdave");
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GSubprocessLauncher) launcher = cli_user_launcher (dave);
      g_autoptr(GSubprocess) process = NULL;
      g_autoptr(GPtrArray) argv = g_ptr_array_new ();
      g_autoptr(GError) error = NULL;

      g_ptr_array_add (argv, (gpointer) g_getenv ("SSQ_CLI_BIN"));
      for (guint k = 0; bad[i][k] != NULL; k++)
        g_ptr_array_add (argv, (gpointer) bad[i][k]);
      g_ptr_array_add (argv, NULL);
      g_subprocess_launcher_set_flags (launcher, G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                                                 G_SUBPROCESS_FLAGS_STDERR_SILENCE);
      process = g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata, &error);
      g_assert_no_error (error);
      g_assert_true (g_subprocess_wait (process, NULL, &error));
      g_test_message ("case %u", i);
      g_assert_cmpint (g_subprocess_get_exit_status (process), ==, 2);
    }
}

int
main (int    argc,
      char **argv)
{
  g_autofree char *dir = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);
  dir = g_dir_make_tmp ("ssq-cli-queue-XXXXXX", NULL);
  server = ssq_test_server_start (dir, NULL);
  g_test_add_func ("/cli/queue/commands", test_queue_commands);
  g_test_add_func ("/cli/queue/consume", test_consume);
  g_test_add_func ("/cli/queue/usage", test_usage);
  status = g_test_run ();
  g_assert_cmpint (ssq_test_server_stop (server), ==, 0);
  ssq_test_server_free (server);
  ssq_test_remove_tree (dir);
  return status;
}
