/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-cli-export.c: supersoniq-cli export against the real server: all
 * of a user's own data as one JSON document, older history paged from the
 * server, media files with --media, the file the user's alone; written as
 * it is paged (peak memory measured), and an interrupted export leaves the
 * earlier file untouched. */
#include <glib/gstdio.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ssq-test-cli-user.h"
#include "ssq-test-media.h"
#include "ssq-test-server.h"

/* export: the account, the conversations the user is in (not others'),
 * every message of them in order, older ones paged from the server beyond
 * what the cache synced (its window is 200), and with --media the files,
 * byte for byte; the file is the user's alone. */
static void
test_export (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, "[media]\nuploads_per_minute=0\n");
  g_autoptr(CliUser) alice = cli_user_new ();
  g_autoptr(SsqTestUser) bob = NULL;
  g_autoptr(SsqTestUser) carol = NULL;
  g_autoptr(SsqTestWs) ws = NULL;
  g_autoptr(GBytes) bytes = ssq_test_random_bytes (30000, 3);
  g_autoptr(JsonNode) node = NULL;
  g_autofree char *sum = ssq_test_sha256 (bytes);
  g_autofree char *media_id = NULL, *ids = NULL, *direct = NULL, *text = NULL;
  g_autofree char *file = g_build_filename (alice->home, "export.json", NULL);
  g_autofree char *media_dir = g_build_filename (alice->home, "media", NULL);
  g_autofree char *saved = NULL;
  g_autoptr(GError) error = NULL;
  JsonObject *root, *conversation, *files;
  JsonArray *conversations, *messages;
  GStatBuf st;
  gsize length;

  cli_register_user (server, alice, "alice");
  bob = ssq_test_register (server, "bob");
  carol = ssq_test_register (server, "carol");
  direct = ssq_test_create_conversation (server, bob, "{\"kind\":\"direct\",\"members\":[\"alice\"]}");
  g_free (ssq_test_create_conversation (server, bob, "{\"kind\":\"direct\",\"members\":[\"carol\"]}"));
  ws = ssq_test_ws_connect (server, bob->token, NULL);
  for (int i = 1; i <= 450; i++)
    {
      g_autofree char *client_id = g_strdup_printf ("c%d", i);
      g_autofree char *body = g_strdup_printf ("message %d", i);
      g_autoptr(JsonObject) ack = ssq_test_ws_post (ws, direct, client_id, body);

      g_assert_nonnull (ack);
    }
  media_id = ssq_test_media_upload_ok (server, bob->token, "photo.bin", bytes);
  ids = g_strdup_printf ("[\"%s\"]", media_id);
  g_assert_cmpuint (ssq_test_post_with_media (server, bob->token, direct, "m", ids, NULL), ==, 201);

  g_assert_cmpint (run_cli (alice, NULL, "export", "-o", file, "--media", media_dir, NULL), ==, 0);
  g_assert_cmpint (g_stat (file, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0077, ==, 0);
  g_assert_true (g_file_get_contents (file, &text, NULL, &error));
  node = cli_parse_json (text);
  root = json_node_get_object (node);
  g_assert_cmpstr (json_object_get_string_member (root, "format"), ==, "supersoniq-export");
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (root, "account"),
                                                  "username"), ==, "alice");
  conversations = json_object_get_array_member (root, "conversations");
  g_assert_cmpuint (json_array_get_length (conversations), ==, 1);
  conversation = json_array_get_object_element (conversations, 0);
  g_assert_cmpstr (json_object_get_string_member (conversation, "id"), ==, direct);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (conversation, "members")), ==, 2);
  messages = json_object_get_array_member (conversation, "messages");
  g_assert_cmpuint (json_array_get_length (messages), ==, 451);
  for (guint i = 0; i < 451; i++)
    g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (messages, i), "seq"), ==,
                     i + 1);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (messages, 0), "body"), ==,
                   "message 1");
  g_assert_cmpstr (json_object_get_string_member (json_object_get_array_member (
                     json_array_get_object_element (messages, 450), "media") ?
                     json_array_get_object_element (json_object_get_array_member (
                       json_array_get_object_element (messages, 450), "media"), 0) : NULL, "id"),
                   ==, media_id);
  files = json_object_get_object_member (root, "media_files");
  /* Saved under the name the sender gave it, after its id. */
  {
    g_autofree char *expect = g_strdup_printf ("%s-photo.bin", media_id);
    g_autofree char *base = g_path_get_basename (json_object_get_string_member (files, media_id));

    g_assert_cmpstr (base, ==, expect);
  }
  g_assert_true (g_file_get_contents (json_object_get_string_member (files, media_id), &saved, &length,
                                      &error));
  g_assert_no_error (error);
  {
    g_autoptr(GBytes) got = g_bytes_new (saved, length);
    g_autofree char *got_sum = ssq_test_sha256 (got);

    g_assert_cmpstr (got_sum, ==, sum);
  }
  /* --media belongs to export alone. */
  g_assert_cmpint (run_cli (alice, NULL, "conversations", "--media", media_dir, NULL), ==, 2);
}

/* @n messages of @sender in @conversation_id (new, empty), written straight
 * into the database with the server stopped: through the server they
 * would take minutes. The schema goes down to 2 first and the server
 * brings it back up, making their stored wire form as its migration does
 * (ssq-bench-history.c seeds the same way). */
static void
seed_messages (SsqTestServer *server,
               const char    *conversation_id,
               const char    *sender,
               guint          n)
{
  g_autofree char *db_path = g_build_filename (server->data_dir, "supersoniq.db", NULL);
  g_autofree char *insert = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) migrate = NULL;
  sqlite3 *db = NULL;

  g_assert_cmpint (ssq_test_server_stop (server), ==, 0);
  migrate = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error,
                              g_getenv ("SSQ_SERVER_BIN"), "migrate", "--to", "2",
                              "--data-dir", server->data_dir, NULL);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_wait_check (migrate, NULL, &error));
  g_assert_no_error (error);
  insert = g_strdup_printf (
    "BEGIN;"
    "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < %u) "
    "INSERT INTO messages (conversation_id, seq, id, sender, client_id, body, created_at) "
    "SELECT '%s', n, printf('mseed%%019d', n), '%s', printf('seed-%%d', n), "
    "  printf('message number %%d, with a few words more as a chat line has', n), "
    "  1700000000000 + n * 1000 FROM s;"
    "UPDATE conversations SET last_seq = %u WHERE id = '%s';"
    "COMMIT;", n, conversation_id, sender, n, conversation_id);
  g_assert_cmpint (sqlite3_open (db_path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, insert, NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);
  ssq_test_server_restart (server);
}

/* The first entry of @dir whose name starts with @prefix, or NULL. */
static char *
entry_with_prefix (const char *dir,
                   const char *prefix)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    if (g_str_has_prefix (name, prefix))
      return g_strdup (name);
  return NULL;
}

/* Runs `supersoniq-cli ARGS…` as @user to its end, without GSubprocess so
 * that wait4 reports its own peak resident set (KiB), not that of another
 * child of the test. */
static int
run_cli_measured (CliUser            *user,
                  const char * const *args,
                  glong              *out_max_rss_kb)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autofree char *config = g_build_filename (user->home, "config", NULL);
  g_autofree char *data = g_build_filename (user->home, "data", NULL);
  g_autofree char *cache = g_build_filename (user->home, "cache", NULL);
  g_auto(GStrv) env = g_get_environ ();
  g_autoptr(GError) error = NULL;
  struct rusage usage;
  GPid pid;
  int status;

  env = g_environ_setenv (env, "XDG_CONFIG_HOME", config, TRUE);
  env = g_environ_setenv (env, "XDG_DATA_HOME", data, TRUE);
  env = g_environ_setenv (env, "XDG_CACHE_HOME", cache, TRUE);
  env = g_environ_setenv (env, "LC_ALL", "C", TRUE);
  g_ptr_array_add (argv, (gpointer) g_getenv ("SSQ_CLI_BIN"));
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  g_spawn_async (user->home, (char **) argv->pdata, env,
                 G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, &pid, &error);
  g_assert_no_error (error);
  g_assert_cmpint (wait4 (pid, &status, 0, &usage), ==, pid);
  g_spawn_close_pid (pid);
  *out_max_rss_kb = usage.ru_maxrss;
  g_assert_true (WIFEXITED (status));
  return WEXITSTATUS (status);
}

/* export of a conversation of 20,000 messages: interrupted halfway (the
 * server stopped under it, then SIGTERM), it exits 1 and leaves FILE as
 * it was, with no temporary file beside it; run to its end, the document
 * holds every message in order, written as it was paged: the client's
 * peak resident set stays far below what a JSON tree of them takes
 * (about 3 KiB a message). */
static void
test_export_streamed (void)
{
  const guint n = 20000;
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, NULL);
  g_autoptr(CliUser) alice = cli_user_new ();
  g_autoptr(SsqTestUser) bob = NULL;
  g_autoptr(GSubprocessLauncher) launcher = cli_user_launcher (alice);
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = NULL;
  g_autofree char *direct = NULL, *text = NULL, *stale = NULL, *left = NULL;
  g_autofree char *dir = g_build_filename (alice->home, "out", NULL);
  g_autofree char *file = g_build_filename (dir, "export.json", NULL);
  const char *args[] = { "export", "-o", file, NULL };
  JsonArray *messages;
  glong max_rss_kb = 0;

  cli_register_user (server, alice, "alice");
  bob = ssq_test_register (server, "bob");
  direct = ssq_test_create_conversation (server, bob, "{\"kind\":\"direct\",\"members\":[\"alice\"]}");
  seed_messages (server, direct, bob->id, n);
  g_assert_cmpint (g_mkdir (dir, 0700), ==, 0);
  g_assert_true (g_file_set_contents (file, "an earlier export", -1, NULL));

  process = g_subprocess_launcher_spawn (launcher, &error, g_getenv ("SSQ_CLI_BIN"), "export", "-o", file,
                                         NULL);
  g_assert_no_error (error);
  /* Once its temporary file is there it pages; the server then stops
   * answering, so that the export cannot end before the signal. */
  for (guint i = 0; i < 5000 && left == NULL; i++)
    {
      left = entry_with_prefix (dir, "export.json.");
      g_usleep (1000);
    }
  g_test_message ("interrupted %s its temporary file was made", left ? "after" : "before");
  g_clear_pointer (&left, g_free);
  kill (ssq_test_server_pid (server), SIGSTOP);
  g_subprocess_send_signal (process, SIGTERM);
  g_assert_true (g_subprocess_wait (process, NULL, &error));
  kill (ssq_test_server_pid (server), SIGCONT);
  g_assert_true (g_subprocess_get_if_exited (process));
  g_assert_cmpint (g_subprocess_get_exit_status (process), ==, 1);
  g_assert_true (g_file_get_contents (file, &stale, NULL, NULL));
  g_assert_cmpstr (stale, ==, "an earlier export");
  left = entry_with_prefix (dir, "export.json.");
  g_assert_null (left);

  g_assert_cmpint (run_cli_measured (alice, args, &max_rss_kb), ==, 0);
  g_test_message ("export of %u messages: peak resident set %ld KiB", n, max_rss_kb);
#ifndef __SANITIZE_ADDRESS__
  /* A tree of them alone would be over 60 MiB. */
  g_assert_cmpint (max_rss_kb, <, 56 * 1024);
#endif
  g_assert_true (g_file_get_contents (file, &text, NULL, &error));
  node = cli_parse_json (text);
  messages = json_object_get_array_member (
    json_array_get_object_element (json_object_get_array_member (json_node_get_object (node),
                                                                 "conversations"), 0),
    "messages");
  g_assert_cmpuint (json_array_get_length (messages), ==, n);
  for (guint i = 0; i < n; i++)
    g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (messages, i), "seq"), ==,
                     i + 1);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/cli/export", test_export);
  g_test_add_func ("/cli/export-streamed", test_export_streamed);
  return g_test_run ();
}
