/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-backup.c: `supersoniq-server backup`, `restore` and `migrate` run as
 * the real binary against a real server: a backup taken while a real
 * client sends as fast as it can holds every message acknowledged before
 * it started, and restores into a server that serves them and their media;
 * restore refuses a non-empty target and a damaged backup; migrate moves a
 * database with data down and the server brings it back up, a backup
 * first each time. */
#include "ssq-test-client.h"
#include "ssq-test-media.h"

#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>

#define MEDIA_CONFIG "[media]\nuploads_per_minute=0\n"
/* Messages the sender keeps in flight. */
#define IN_FLIGHT 256

/* Runs `supersoniq-server ARGS…` to its end: its exit status, its
 * standard error in @out_stderr (if wanted). */
static int
run_server_command (char **out_stderr,
                    ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *err = NULL;
  const char *arg;
  va_list args;

  g_ptr_array_add (argv, (gpointer) g_getenv ("SSQ_SERVER_BIN"));
  va_start (args, out_stderr);
  while ((arg = va_arg (args, const char *)) != NULL)
    g_ptr_array_add (argv, (gpointer) arg);
  va_end (args);
  g_ptr_array_add (argv, NULL);
  process = g_subprocess_newv ((const char * const *) argv->pdata,
                               G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_PIPE,
                               &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, NULL, &err, &error);
  g_assert_no_error (error);
  g_test_message ("%s: %s", (char *) argv->pdata[1], err);
  if (out_stderr != NULL)
    *out_stderr = g_steal_pointer (&err);
  return g_subprocess_get_if_exited (process) ? g_subprocess_get_exit_status (process) : -1;
}

static char *
integrity (const char *db_path)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  char *result = NULL;

  g_assert_cmpint (sqlite3_open_v2 (db_path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, "PRAGMA integrity_check", -1, &stmt, NULL), ==, SQLITE_OK);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    result = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  return result;
}

static char *
temp_path (const char *name)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("ssq-backup-XXXXXX", &error);

  g_assert_no_error (error);
  return g_build_filename (dir, name, NULL);
}

static void
remove_temp (const char *path)
{
  g_autofree char *parent = g_path_get_dirname (path);

  ssq_test_remove_tree (parent);
}

/* The sender: keeps IN_FLIGHT messages queued, records every message of
 * its own the server acknowledged. */
typedef struct {
  SsqTestClient *tc;
  const char    *conversation_id;
  const char    *user_id;
  GHashTable    *acked;      /* message id */
  guint          queued;
  gboolean       sending;
} Sender;

static void
top_up (Sender *s)
{
  while (s->sending && s->queued < g_hash_table_size (s->acked) + IN_FLIGHT)
    {
      g_autofree char *body = g_strdup_printf ("message %u", s->queued++);

      ssq_test_client_send_text (s->tc, s->conversation_id, body);
    }
}

static void
message_cb (SsqClient  *client,
            SsqMessage *message,
            Sender     *s)
{
  if (g_strcmp0 (ssq_message_get_sender (message), s->user_id) == 0 &&
      ssq_message_get_status (message) >= SSQ_MESSAGE_SENT && ssq_message_get_id (message) != NULL)
    g_hash_table_add (s->acked, g_strdup (ssq_message_get_id (message)));
}

/* Topped up from a source of its own, not from the signal: sending from
 * inside the client's event handling kept one main-loop iteration busy
 * for seconds, and the waits below check between iterations. */
static gboolean
top_up_cb (gpointer data)
{
  top_up (data);
  return G_SOURCE_CONTINUE;
}

static gboolean
acked_enough_cb (gpointer data)
{
  Sender *s = data;

  return g_hash_table_size (s->acked) >= 1000;
}

static void
wait_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      data)
{
  gboolean *done = data;

  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  *done = TRUE;
}

static gboolean
flag_cb (gpointer data)
{
  return *(gboolean *) data;
}

/* Every message id of @conversation_id a new client of @server, logged in
 * as @username, syncs. */
static GHashTable *
ids_seen_by_client (SsqTestServer *server,
                    const char    *username,
                    const char    *conversation_id)
{
  g_autoptr(SsqTestClient) tc = ssq_test_client_new (server->url, NULL);
  g_autoptr(GPtrArray) messages = NULL;
  GHashTable *ids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  /* The whole history at the first sync, not only the newest 200. */
  g_object_set (tc->client, "sync-window", G_MAXUINT, NULL);
  ssq_test_client_log_in (tc, username);
  ssq_test_client_go_online (tc);
  messages = ssq_cache_get_messages (ssq_client_get_cache (tc->client), conversation_id,
                                     G_MAXINT64, G_MAXINT, NULL);
  for (guint i = 0; i < messages->len; i++)
    g_hash_table_add (ids, g_strdup (ssq_message_get_id (messages->pdata[i])));
  return ids;
}

/* A backup taken while alice sends as fast as her client can holds every
 * message acknowledged before it started; restored into a new directory
 * it passes integrity_check and a server on it serves those messages to a
 * real client, and the media files with their bytes. */
static void
test_under_load (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, MEDIA_CONFIG);
  g_autoptr(SsqTestClient) alice = ssq_test_client_new_registered (server, "alice");
  g_autoptr(SsqTestClient) bob = ssq_test_client_new_registered (server, "bob");
  g_autoptr(SsqConversation) direct = ssq_test_client_create_direct (alice, "bob");
  g_autoptr(SsqTestUser) carol = ssq_test_register (server, "carol");
  g_autoptr(GHashTable) before = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GHashTable) seen = NULL;
  g_autoptr(GSubprocess) backup = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *dest = temp_path ("backup");
  g_autofree char *restored = temp_path ("data");
  g_autofree char *restored_db = g_build_filename (restored, "supersoniq.db", NULL);
  g_autofree char *check = NULL;
  g_autofree char *group = NULL;
  g_autofree char *body = NULL;
  char *media_ids[3], *media_sums[3];
  Sender s = { alice, ssq_conversation_get_id (direct), ssq_client_get_user_id (alice->client) };
  gboolean done = FALSE;
  GHashTableIter iter;
  gpointer key;
  guint missing = 0, during, top_up_source;

  /* Media: three files carol sends to a group with alice. */
  body = g_strdup_printf ("{\"kind\": \"group\", \"title\": \"files\", \"members\": [\"alice\"]}");
  group = ssq_test_create_conversation (server, carol, body);
  for (guint i = 0; i < G_N_ELEMENTS (media_ids); i++)
    {
      g_autoptr(GBytes) bytes = ssq_test_random_bytes (100000 + i * 7919, 40 + i);
      g_autofree char *name = g_strdup_printf ("file-%u.bin", i);
      g_autofree char *client_id = g_strdup_printf ("with-media-%u", i);
      g_autofree char *ids = NULL;

      media_ids[i] = ssq_test_media_upload_ok (server, carol->token, name, bytes);
      media_sums[i] = ssq_test_sha256 (bytes);
      ids = g_strdup_printf ("[\"%s\"]", media_ids[i]);
      g_assert_cmpuint (ssq_test_post_with_media (server, carol->token, group, client_id, ids, NULL),
                        ==, 201);
    }

  s.acked = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  s.sending = TRUE;
  g_signal_connect (alice->client, "message", G_CALLBACK (message_cb), &s);
  top_up_source = g_timeout_add (1, top_up_cb, &s);
  g_assert_true (ssq_test_wait_until (acked_enough_cb, &s, 60000));

  /* The backup starts: what was acknowledged until now must be in it. */
  g_hash_table_iter_init (&iter, s.acked);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_hash_table_add (before, g_strdup (key));
  backup = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE, &error, g_getenv ("SSQ_SERVER_BIN"),
                             "backup", dest, "--data-dir", server->data_dir, NULL);
  g_assert_no_error (error);
  g_subprocess_wait_async (backup, NULL, wait_cb, &done);
  g_assert_true (ssq_test_wait_until (flag_cb, &done, 120000));
  during = g_hash_table_size (s.acked) - g_hash_table_size (before);
  s.sending = FALSE;
  g_source_remove (top_up_source);
  g_assert_true (g_subprocess_get_if_exited (backup));
  g_assert_cmpint (g_subprocess_get_exit_status (backup), ==, 0);
  g_test_message ("%u messages acknowledged before the backup, %u while it ran",
                  g_hash_table_size (before), during);

  g_assert_cmpint (run_server_command (NULL, "restore", dest, "--data-dir", restored, NULL), ==, 0);
  check = integrity (restored_db);
  g_assert_cmpstr (check, ==, "ok");

  {
    g_autoptr(SsqTestServer) copy = ssq_test_server_start (restored, MEDIA_CONFIG);

    seen = ids_seen_by_client (copy, "alice", s.conversation_id);
    g_hash_table_iter_init (&iter, before);
    while (g_hash_table_iter_next (&iter, &key, NULL))
      if (!g_hash_table_contains (seen, key))
        missing++;
    g_assert_cmpuint (missing, ==, 0);
    g_test_message ("the restored server has %u messages of alice", g_hash_table_size (seen));
    /* carol's token was restored with her session. */
    for (guint i = 0; i < G_N_ELEMENTS (media_ids); i++)
      {
        g_auto(SsqTestDownload) d = { 0 };
        g_autofree char *sum = NULL;

        ssq_test_media_get (copy, carol->token, media_ids[i], NULL, &d);
        g_assert_cmpuint (d.status, ==, 200);
        sum = ssq_test_sha256 (d.body);
        g_assert_cmpstr (sum, ==, media_sums[i]);
      }
  }
  for (guint i = 0; i < G_N_ELEMENTS (media_ids); i++)
    {
      g_free (media_ids[i]);
      g_free (media_sums[i]);
    }
  g_signal_handlers_disconnect_by_data (alice->client, &s);
  g_hash_table_unref (s.acked);
  remove_temp (dest);
  remove_temp (restored);
}

/* A target that holds anything is refused, and so is a backup whose
 * database lost a bit: nothing is written into the target. */
static void
test_restore_refuses (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, NULL);
  g_autoptr(SsqTestUser) alice = ssq_test_register (server, "alice");
  g_autofree char *dest = temp_path ("backup");
  g_autofree char *target = temp_path ("data");
  g_autofree char *stray = g_build_filename (target, "notes.txt", NULL);
  g_autofree char *db = g_build_filename (dest, "supersoniq.db", NULL);
  g_autofree char *err = NULL;
  g_autofree char *err2 = NULL;
  g_autofree char *bytes = NULL;
  gsize length;
  GError *error = NULL;

  g_assert_cmpint (run_server_command (NULL, "backup", dest, "--data-dir", server->data_dir, NULL), ==, 0);
  /* DEST again: not empty. */
  g_assert_cmpint (run_server_command (NULL, "backup", dest, "--data-dir", server->data_dir, NULL), ==, 1);

  g_assert_cmpint (g_mkdir (target, 0700), ==, 0);
  g_assert_true (g_file_set_contents (stray, "mine", -1, NULL));
  g_assert_cmpint (run_server_command (&err, "restore", dest, "--data-dir", target, NULL), ==, 2);
  g_assert_nonnull (strstr (err, "is not empty"));
  g_assert_nonnull (strstr (err, "notes.txt"));
  g_unlink (stray);

  /* One bit of the copy flipped. */
  g_assert_true (g_file_get_contents (db, &bytes, &length, &error));
  g_assert_no_error (error);
  bytes[length / 2] ^= 0x10;
  g_assert_true (g_file_set_contents (db, bytes, length, &error));
  g_assert_no_error (error);
  g_assert_cmpint (run_server_command (&err2, "restore", dest, "--data-dir", target, NULL), ==, 1);
  g_assert_nonnull (strstr (err2, "is damaged"));
  g_assert_nonnull (strstr (err2, "SHA-256"));
  /* Nothing was written. */
  g_assert_cmpint (g_rmdir (target), ==, 0);
  remove_temp (dest);
  remove_temp (target);
}

/* A media file gone from the server's store cannot be in the backup: the
 * backup says so (exit 1, its manifest names the file) rather than keep
 * quiet, at once rather than after a snapshot of the whole database per
 * retry, and is restorable all the same. */
static void
test_missing_media (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, MEDIA_CONFIG);
  g_autoptr(SsqTestUser) alice = ssq_test_register (server, "alice");
  g_autoptr(GBytes) bytes = ssq_test_random_bytes (5000, 7);
  g_autofree char *sum = ssq_test_sha256 (bytes);
  g_autofree char *id = ssq_test_media_upload_ok (server, alice->token, "a.bin", bytes);
  g_autofree char *prefix = g_strndup (sum, 2);
  g_autofree char *file = g_build_filename (server->data_dir, "media", prefix, sum, NULL);
  g_autofree char *dest = temp_path ("backup");
  g_autofree char *manifest_path = g_build_filename (dest, "manifest.json", NULL);
  g_autofree char *target = temp_path ("data");
  g_autofree char *manifest = NULL;
  g_autofree char *err = NULL;

  g_assert_cmpint (g_unlink (file), ==, 0);
  g_assert_cmpint (run_server_command (&err, "backup", dest, "--data-dir", server->data_dir, NULL), ==, 1);
  g_assert_nonnull (strstr (err, "missing"));
  g_assert_nonnull (strstr (err, sum));
  /* The database still names it and it is still not there: lost, not
   * deleted meanwhile, so no new snapshot (each copies the whole
   * database) can find it. */
  g_assert_null (strstr (err, "taking a new snapshot"));
  g_assert_true (g_file_get_contents (manifest_path, &manifest, NULL, NULL));
  g_assert_nonnull (strstr (manifest, sum));
  g_assert_cmpint (run_server_command (NULL, "restore", dest, "--data-dir", target, NULL), ==, 0);
  remove_temp (dest);
  remove_temp (target);
}

/* A media file of a backup that rotted (one bit): restore refuses the
 * backup, writing nothing, and says how to go on; with
 * --skip-damaged-media every message and the other file come back, and
 * the rotten file is left out (its download fails, it is not served with
 * wrong bytes). */
static void
test_restore_damaged_media (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, MEDIA_CONFIG);
  g_autoptr(SsqTestUser) alice = ssq_test_register (server, "alice");
  g_autoptr(GBytes) good = ssq_test_random_bytes (6000, 11);
  g_autoptr(GBytes) rotten = ssq_test_random_bytes (7000, 12);
  g_autofree char *good_sum = ssq_test_sha256 (good);
  g_autofree char *rotten_sum = ssq_test_sha256 (rotten);
  g_autofree char *good_id = ssq_test_media_upload_ok (server, alice->token, "good.bin", good);
  g_autofree char *rotten_id = ssq_test_media_upload_ok (server, alice->token, "rotten.bin", rotten);
  g_autofree char *dest = temp_path ("backup");
  g_autofree char *target = temp_path ("data");
  g_autofree char *prefix = g_strndup (rotten_sum, 2);
  g_autofree char *file = g_build_filename (dest, "media", prefix, rotten_sum, NULL);
  g_autofree char *err = NULL;
  g_autofree char *bytes = NULL;
  gsize length;

  g_assert_cmpint (run_server_command (NULL, "backup", dest, "--data-dir", server->data_dir, NULL), ==, 0);
  g_assert_true (g_file_get_contents (file, &bytes, &length, NULL));
  bytes[length / 3] ^= 0x04;
  g_assert_true (g_file_set_contents (file, bytes, length, NULL));

  g_assert_cmpint (run_server_command (&err, "restore", dest, "--data-dir", target, NULL), ==, 1);
  g_assert_nonnull (strstr (err, rotten_sum));
  g_assert_nonnull (strstr (err, "--skip-damaged-media"));
  g_assert_false (g_file_test (target, G_FILE_TEST_EXISTS));

  g_assert_cmpint (run_server_command (NULL, "restore", dest, "--data-dir", target, "--skip-damaged-media",
                                       NULL), ==, 0);
  {
    g_autoptr(SsqTestServer) copy = ssq_test_server_start (target, MEDIA_CONFIG);
    g_auto(SsqTestDownload) d = { 0 };
    g_auto(SsqTestDownload) r = { 0 };
    g_autofree char *sum = NULL;

    ssq_test_media_get (copy, alice->token, good_id, NULL, &d);
    g_assert_cmpuint (d.status, ==, 200);
    sum = ssq_test_sha256 (d.body);
    g_assert_cmpstr (sum, ==, good_sum);
    ssq_test_media_get (copy, alice->token, rotten_id, NULL, &r);
    g_assert_cmpuint (r.status, !=, 200);
  }
  remove_temp (dest);
  remove_temp (target);
}

/* --into DIR --keep 2, three times: the two newest remain. */
static void
test_keep (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, NULL);
  g_autofree char *parent = temp_path ("backups");
  g_autoptr(GDir) dir = NULL;
  guint n = 0;

  for (int i = 0; i < 3; i++)
    g_assert_cmpint (run_server_command (NULL, "backup", "--into", parent, "--keep", "2",
                                         "--data-dir", server->data_dir, NULL), ==, 0);
  dir = g_dir_open (parent, 0, NULL);
  g_assert_nonnull (dir);
  while (g_dir_read_name (dir) != NULL)
    n++;
  /* Two backups and the lock file. */
  g_assert_cmpuint (n, ==, 3);
  g_assert_cmpint (run_server_command (NULL, "backup", "--keep", "2", "x",
                                       "--data-dir", server->data_dir, NULL), ==, 2);
  remove_temp (parent);
}

static void
write_file (const char *dir,
            const char *name,
            const char *contents)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_assert_true (g_file_set_contents (path, contents, -1, &error));
  g_assert_no_error (error);
}

static gboolean
exists_in (const char *dir,
           const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);

  return g_file_test (path, G_FILE_TEST_EXISTS);
}

/* --keep removes backups and nothing else: a directory of the
 * administrator's beside them survives, whatever its name or its
 * manifest.json; and the backup just made stays even when the others'
 * names sort after it (a clock set back, a copy from another machine). */
static void
test_keep_only_backups (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, NULL);
  g_autofree char *parent = temp_path ("backups");
  g_autofree char *mine = g_build_filename (parent, "2019.partial", NULL);
  g_autofree char *other = g_build_filename (parent, "1999-12-31T235959Z-mine", NULL);
  g_autofree char *future = g_build_filename (parent, "2999-01-01T000000Z", NULL);
  g_autofree char *err = NULL;
  g_autoptr(GDir) dir = NULL;
  const char *name;
  guint backups = 0;

  write_file (mine, "thesis.tex", "three years of work");
  write_file (other, "manifest.json", "{\"name\": \"my web app\"}");
  g_assert_cmpint (run_server_command (NULL, "backup", future, "--data-dir", server->data_dir, NULL), ==, 0);

  g_assert_cmpint (run_server_command (&err, "backup", "--into", parent, "--keep", "1",
                                       "--data-dir", server->data_dir, NULL), ==, 0);
  g_assert_true (exists_in (mine, "thesis.tex"));
  g_assert_true (exists_in (other, "manifest.json"));
  /* The one made now, not the one whose name says 2999. */
  g_assert_false (g_file_test (future, G_FILE_TEST_EXISTS));
  dir = g_dir_open (parent, 0, NULL);
  while ((name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_prefix (name, "20") && !g_str_equal (name, "2019.partial"))
      {
        g_autofree char *path = g_build_filename (parent, name, NULL);

        g_assert_true (exists_in (path, "manifest.json"));
        backups++;
      }
  g_assert_cmpuint (backups, ==, 1);
  remove_temp (parent);
}

static gboolean
has_entry_with_prefix (const char *path,
                       const char *prefix)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_prefix (name, prefix))
      return TRUE;
  return FALSE;
}

/* migrate --to 3 on a database with messages and media (the current schema): refused
 * while the server runs; with it stopped, a backup first, the messages
 * kept, the media tables gone. The server started again migrates back up,
 * after a backup of its own, and serves the messages. */
static void
test_migrate (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, MEDIA_CONFIG);
  g_autoptr(SsqTestUser) alice = ssq_test_register (server, "alice");
  g_autoptr(SsqTestUser) bob = ssq_test_register (server, "bob");
  g_autoptr(GBytes) bytes = ssq_test_random_bytes (5000, 9);
  g_autofree char *media_id = ssq_test_media_upload_ok (server, alice->token, "a.bin", bytes);
  g_autofree char *backups = g_build_filename (server->data_dir, "backups", NULL);
  g_autofree char *conversation = ssq_test_create_conversation (server, alice,
                                                                "{\"kind\": \"direct\", \"members\": [\"bob\"]}");
  g_autofree char *ids = g_strdup_printf ("[\"%s\"]", media_id);
  g_autofree char *err = NULL;
  g_autofree char *path = g_strdup_printf ("/api/v1/conversations/%s/messages?limit=100", conversation);
  g_autoptr(JsonObject) page = NULL;
  g_autoptr(SsqTestWs) ws = ssq_test_ws_connect (server, alice->token, NULL);
  guint status = 0;

  for (int i = 0; i < 20; i++)
    {
      g_autofree char *client_id = g_strdup_printf ("c%d", i);
      g_autofree char *text = g_strdup_printf ("text %d", i);
      g_autoptr(JsonObject) ack = ssq_test_ws_post (ws, conversation, client_id, text);

      g_assert_nonnull (ack);
    }
  g_assert_cmpuint (ssq_test_post_with_media (server, alice->token, conversation, "m", ids, NULL), ==, 201);
  g_clear_pointer (&ws, ssq_test_ws_free);

  /* The schema the server made, whatever its version now. */
  gint64 current = ssq_test_db_count (server, "PRAGMA user_version");
  g_autofree char *pre_current = g_strdup_printf ("pre-migrate-v%" G_GINT64_FORMAT "-", current);
  g_autofree char *beyond = g_strdup_printf ("%" G_GINT64_FORMAT, current + 1);

  g_assert_cmpint (current, >, 3);
  g_assert_cmpint (run_server_command (&err, "migrate", "--to", "3", "--data-dir", server->data_dir, NULL),
                   ==, 1);
  g_assert_nonnull (strstr (err, "server.lock"));
  g_assert_cmpint (ssq_test_server_stop (server), ==, 0);

  g_assert_cmpint (run_server_command (NULL, "migrate", "--to", "3", "--data-dir", server->data_dir, NULL),
                   ==, 0);
  g_assert_true (has_entry_with_prefix (backups, pre_current));
  g_assert_cmpint (ssq_test_db_count (server, "PRAGMA user_version"), ==, 3);
  g_assert_cmpint (ssq_test_db_count (server, "SELECT count(*) FROM messages"), ==, 21);
  g_assert_cmpint (ssq_test_db_count (server, "SELECT count(*) FROM sqlite_schema WHERE name = 'media'"),
                   ==, 0);
  g_assert_cmpint (run_server_command (NULL, "migrate", "--to", beyond, "--data-dir", server->data_dir, NULL),
                   ==, 2);

  ssq_test_server_restart (server);
  g_assert_true (has_entry_with_prefix (backups, "pre-migrate-v3-"));
  g_assert_cmpint (ssq_test_db_count (server, "PRAGMA user_version"), ==, current);
  page = ssq_test_http (server, "GET", path, alice->token, NULL, &status);
  g_assert_cmpuint (status, ==, 200);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (page, "messages")), ==, 21);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/server/backup/under-load", test_under_load);
  g_test_add_func ("/server/backup/restore-refuses", test_restore_refuses);
  g_test_add_func ("/server/backup/missing-media", test_missing_media);
  g_test_add_func ("/server/backup/restore-damaged-media", test_restore_damaged_media);
  g_test_add_func ("/server/backup/keep", test_keep);
  g_test_add_func ("/server/backup/keep-only-backups", test_keep_only_backups);
  g_test_add_func ("/server/backup/migrate", test_migrate);
  return g_test_run ();
}
