/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-cache.c: opening the client cache, its schema, users, conversations,
 * members' markers and sync cursors. Messages, the outbox and search are in
 * ssq-cache-messages.c. The cache lives on the thread that opened it. */
#include <glib/gi18n.h>
#include "ssq-cache-private.h"
#include "ssq-conversation-private.h"
#include "ssq-json.h"
#include "ssq-proto.h"

#include <glib/gstdio.h>
#include <string.h>

/* Each step raises user_version by one. Never edit a released step. */
static const SsqDbMigration migrations[] = {
  /* 0 -> 1. Down: everything is gone. */
  { "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE users ("
    "  id TEXT PRIMARY KEY,"
    "  username TEXT NOT NULL,"
    "  display_name TEXT NOT NULL,"
    "  presence TEXT NOT NULL DEFAULT 'offline',"
    "  last_seen INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;"
    "CREATE INDEX users_by_name ON users(username);"
    "CREATE TABLE conversations ("
    "  id TEXT PRIMARY KEY,"
    "  kind TEXT NOT NULL,"
    "  title TEXT,"
    "  role TEXT,"
    "  muted INTEGER NOT NULL DEFAULT 0,"
    "  last_seq INTEGER NOT NULL DEFAULT 0,"
    "  read_seq INTEGER NOT NULL DEFAULT 0,"
    "  delivered_seq INTEGER NOT NULL DEFAULT 0,"
    "  unread INTEGER NOT NULL DEFAULT 0,"
    "  created_at INTEGER NOT NULL DEFAULT 0,"
    "  last_activity INTEGER NOT NULL DEFAULT 0,"
  /* Sync cursor: held without a gap up to here (see ssq_cache_get_cursor). */
    "  sync_seq INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;"
    "CREATE TABLE members ("
    "  conversation_id TEXT NOT NULL,"
    "  user_id TEXT NOT NULL,"
    "  role TEXT NOT NULL,"
    "  delivered_seq INTEGER NOT NULL DEFAULT 0,"
    "  read_seq INTEGER NOT NULL DEFAULT 0,"
    "  present INTEGER NOT NULL DEFAULT 1,"
    "  PRIMARY KEY (conversation_id, user_id)) WITHOUT ROWID;"
  /* A rowid table, so that the full-text index can point into it. */
    "CREATE TABLE messages ("
    "  conversation_id TEXT NOT NULL,"
    "  seq INTEGER NOT NULL,"
    "  id TEXT NOT NULL,"
    "  sender TEXT NOT NULL,"
    "  client_id TEXT,"
    "  body TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  edited_at INTEGER,"
    "  deleted INTEGER NOT NULL DEFAULT 0,"
    "  reply_to INTEGER,"
    "  UNIQUE (conversation_id, seq));"
    "CREATE VIRTUAL TABLE messages_fts USING fts5("
    "  body, content='messages', content_rowid='rowid',"
    "  tokenize='unicode61 remove_diacritics 2');"
    "CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN"
    "  INSERT INTO messages_fts (rowid, body) VALUES (new.rowid, new.body);"
    "END;"
    "CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN"
    "  INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', old.rowid, old.body);"
    "END;"
    "CREATE TRIGGER messages_fts_update AFTER UPDATE OF body ON messages BEGIN"
    "  INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', old.rowid, old.body);"
    "  INSERT INTO messages_fts (rowid, body) VALUES (new.rowid, new.body);"
    "END;"
    "CREATE TABLE outbox ("
    "  position INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  client_id TEXT NOT NULL UNIQUE,"
    "  conversation_id TEXT NOT NULL,"
    "  body TEXT NOT NULL,"
    "  reply_to INTEGER,"
    "  created_at INTEGER NOT NULL,"
    "  error TEXT);",
    "DROP TABLE outbox;"
    "DROP TRIGGER messages_fts_update;"
    "DROP TRIGGER messages_fts_delete;"
    "DROP TRIGGER messages_fts_insert;"
    "DROP TABLE messages_fts;"
    "DROP TABLE messages;"
    "DROP TABLE members;"
    "DROP TABLE conversations;"
    "DROP TABLE users;"
    "DROP TABLE meta;" },
  /* 1 -> 2: change cursors (see ssq_cache_set_rev_cursor). `rev` is the
   * server's change the conversation's counters reflect; `sync_rev` the one
   * up to which every edit and deletion is held. A cache from before starts
   * at 0, so its first sync fetches every change it may have missed. Down:
   * the cursors go, and the next upgrade fetches every change again. */
  { "ALTER TABLE conversations ADD COLUMN rev INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE conversations ADD COLUMN sync_rev INTEGER NOT NULL DEFAULT 0;",
    "ALTER TABLE conversations DROP COLUMN sync_rev;"
    "ALTER TABLE conversations DROP COLUMN rev;" },
  /* 2 -> 3: new messages are indexed for search by the cache itself, once
   * per batch (ssq_cache_index_pending): a trigger indexes each row in its
   * own statement, and every such statement inside a transaction makes
   * FTS5 write out its pending terms. Edits and deletions keep their
   * triggers. Down: the trigger again (as step 1 made it); messages still
   * waiting for their batch's indexing are not found by search. */
  { "DROP TRIGGER messages_fts_insert;",
    "CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN"
    "  INSERT INTO messages_fts (rowid, body) VALUES (new.rowid, new.body);"
    "END;" },
  /* 3 -> 4: what it takes to give a conversation back as the server sent
   * it (ssq_cache_conversation_to_wire): its updated_at, each member's
   * place in the server's list, and whether a user's account is deleted.
   * A cache from before reads 0 for each until the next sync stores the
   * conversation again. Down: those three are lost until the next sync. */
  { "ALTER TABLE conversations ADD COLUMN updated_at INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE members ADD COLUMN position INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE users ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;",
    "ALTER TABLE users DROP COLUMN deleted;"
    "ALTER TABLE members DROP COLUMN position;"
    "ALTER TABLE conversations DROP COLUMN updated_at;" },
  /* 4 -> 5: media. A message's media as the server sent them (a JSON array
   * of media objects, NULL for none: most messages have none). The
   * attachments of outbox messages, whose copies wait in the outbox area
   * (ssq_cache_get_outbox_dir), each with the server's media object once
   * uploaded, so that an upload is never repeated. The files of the
   * download cache (ssq-client-download.c) with their size and when they
   * were last used (a counter), for its size cap, and the name the server
   * gave each. A cache from before holds
   * messages without their media until the server sends them again.
   * Down: the media of messages, the attachments of queued messages and
   * the list of downloaded files are forgotten (the files stay). */
  { "ALTER TABLE messages ADD COLUMN media TEXT;"
    "CREATE TABLE outbox_media ("
    "  client_id TEXT NOT NULL,"
    "  position INTEGER NOT NULL,"
    "  name TEXT NOT NULL,"
    "  mime TEXT NOT NULL,"
    "  size INTEGER NOT NULL,"
    "  media TEXT,"
    "  PRIMARY KEY (client_id, position)) WITHOUT ROWID;"
    "CREATE TABLE media_files ("
    "  media_id TEXT NOT NULL,"
    "  thumbnail INTEGER NOT NULL,"
    "  size INTEGER NOT NULL,"
    "  last_used INTEGER NOT NULL,"
    "  name TEXT,"
    "  PRIMARY KEY (media_id, thumbnail)) WITHOUT ROWID;"
    "CREATE INDEX media_files_by_use ON media_files(last_used);"
    "CREATE TRIGGER outbox_media_delete AFTER DELETE ON outbox BEGIN"
    "  DELETE FROM outbox_media WHERE client_id = old.client_id;"
    "END;",
    "DROP TRIGGER outbox_media_delete;"
    "DROP INDEX media_files_by_use;"
    "DROP TABLE media_files;"
    "DROP TABLE outbox_media;"
    "ALTER TABLE messages DROP COLUMN media;" },
  /* 5 -> 6: each message's `rev`, the conversation's change it last took
   * (0: never changed), so that an older copy of a message arriving after
   * a newer one (a history page or an acknowledgement that crossed an
   * edit, a deletion or a thumbnail update) does not overwrite it. A
   * cache from before reads 0 for each: any copy the server sends next
   * counts as at least as new. Down: the revs are forgotten (each message
   * takes the next copy the server sends, as before). */
  { "ALTER TABLE messages ADD COLUMN rev INTEGER NOT NULL DEFAULT 0;",
    "ALTER TABLE messages DROP COLUMN rev;" },
};

G_STATIC_ASSERT (G_N_ELEMENTS (migrations) == SSQ_CACHE_SCHEMA_VERSION);

G_DEFINE_FINAL_TYPE (SsqCache, ssq_cache, G_TYPE_OBJECT)

static void
ssq_cache_finalize (GObject *object)
{
  SsqCache *self = SSQ_CACHE (object);

  ssq_db_close (&self->db);
  g_free (self->path);
  g_free (self->self_id);
  g_hash_table_unref (self->conversations);
  g_hash_table_unref (self->users);
  g_hash_table_unref (self->counters);
  g_ptr_array_unref (self->doomed_outbox);
  G_OBJECT_CLASS (ssq_cache_parent_class)->finalize (object);
}

static void
ssq_cache_class_init (SsqCacheClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = ssq_cache_finalize;
}

static void
ssq_cache_init (SsqCache *self)
{
  self->conversations = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  self->users = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  self->counters = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->doomed_outbox = g_ptr_array_new_with_free_func (g_free);
}

void
ssq_cache_forget_conversation (SsqCache   *self,
                               const char *conversation_id)
{
  if (conversation_id != NULL)
    g_hash_table_remove (self->conversations, conversation_id);
}

/* After a rollback, or a change that reaches every conversation. */
void
ssq_cache_forget_snapshots (SsqCache *self)
{
  g_hash_table_remove_all (self->conversations);
}

/* Keeps a file name to letters, digits, '.', '-' and '_'. */
static char *
file_safe (const char *text)
{
  char *out = g_ascii_strdown (text, -1);

  for (char *p = out; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '.' && *p != '-' && *p != '_')
      *p = '_';
  return out;
}

/**
 * ssq_cache_path_for:
 * @data_dir: (nullable): where caches live; the user's data directory
 *   (`$XDG_DATA_HOME/supersoniq`) when NULL. The data directory rather than
 *   the cache directory, because the outbox holds what the user wrote.
 *
 * Returns: the cache file of @username on @server_url, one per account and
 * server, e.g. `alice@chat.lan_8080.db`.
 */
char *
ssq_cache_path_for (const char *data_dir,
                    const char *server_url,
                    const char *username)
{
  g_autoptr(GUri) uri = g_uri_parse (server_url, G_URI_FLAGS_NONE, NULL);
  g_autofree char *host = NULL, *user = NULL, *name = NULL;
  g_autofree char *dir = NULL;

  g_return_val_if_fail (server_url != NULL && username != NULL, NULL);

  if (uri != NULL && g_uri_get_host (uri) != NULL)
    {
      g_autofree char *raw = g_strdup_printf ("%s_%d", g_uri_get_host (uri), g_uri_get_port (uri));

      host = file_safe (raw);
    }
  else
    host = file_safe (server_url);
  user = file_safe (username);
  name = g_strdup_printf ("%s@%s.db", user, host);
  dir = data_dir ? g_strdup (data_dir) : g_build_filename (g_get_user_data_dir (), "supersoniq", NULL);
  return g_build_filename (dir, name, NULL);
}

/* Counts what reaches the disk, for tests and benchmarks of batching. */
static int
commit_hook (void *data)
{
  SsqCache *self = data;

  self->commits++;
  return 0;
}

static SsqCache *
open_migrated (const char  *path,
               int          version,
               GError     **error)
{
  g_autoptr(SsqCache) self = g_object_new (SSQ_TYPE_CACHE, NULL);
  g_autofree char *dir = g_path_get_dirname (path);

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved = errno;

      g_set_error (error, SSQ_ERROR, SSQ_ERROR_UNAVAILABLE, _("Cannot create %s: %s"),
                   dir, g_strerror (saved));
      return NULL;
    }
  self->path = g_strdup (path);
  /* NORMAL: a commit survives the program crashing; only the outbox, which
   * holds what the user wrote, is written with a full fsync. */
  if (!ssq_db_open (&self->db, path, FALSE, error) ||
      !ssq_db_migrate (&self->db, migrations, G_N_ELEMENTS (migrations), version, error))
    return NULL;
  self->self_id = ssq_cache_get_meta (self, "self_id");
  sqlite3_commit_hook (self->db.db, commit_hook, self);
  /* A first sync writes megabytes in one batch: with SQLite's default
   * 2 MB page cache it reads back pages it has just written. */
  ssq_db_exec (&self->db, "PRAGMA cache_size = -16384", NULL);
  return g_steal_pointer (&self);
}

/**
 * ssq_cache_open:
 * Opens (creating it and its directory if needed) the cache at @path and
 * brings its schema up to date. A cache written by a newer version is
 * refused.
 */
SsqCache *
ssq_cache_open (const char  *path,
                GError     **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  return open_migrated (path, SSQ_CACHE_SCHEMA_VERSION, error);
}

/* For migration tests: stop at an older schema. */
SsqCache *
ssq_cache_open_at_version (const char  *path,
                           int          version,
                           GError     **error)
{
  g_return_val_if_fail (version >= 0 && version <= SSQ_CACHE_SCHEMA_VERSION, NULL);
  return open_migrated (path, version, error);
}

/**
 * ssq_cache_begin:
 * Opens a batch: what is written until the matching ssq_cache_commit ()
 * is one transaction. A burst of events costs one commit instead of one
 * per event. Batches nest; only the outermost one commits.
 */
gboolean
ssq_cache_begin (SsqCache  *self,
                 GError   **error)
{
  g_return_val_if_fail (SSQ_IS_CACHE (self), FALSE);

  if (self->batch_depth == 0 && !ssq_db_begin (&self->db, error))
    return FALSE;
  self->batch_depth++;
  return TRUE;
}

/**
 * ssq_cache_commit:
 * Closes a batch opened by ssq_cache_begin (). When the outermost commit
 * fails, everything the batch wrote is rolled back.
 */
gboolean
ssq_cache_commit (SsqCache  *self,
                  GError   **error)
{
  g_return_val_if_fail (SSQ_IS_CACHE (self) && self->batch_depth > 0, FALSE);

  if (--self->batch_depth > 0)
    return TRUE;
  /* The conversations' counters are written once; new messages go into
   * the search index in one statement. */
  if (!self->batch_failed && !ssq_cache_counters_settle (self, NULL))
    self->batch_failed = TRUE;
  if (!self->batch_failed && !ssq_cache_index_pending (self, NULL))
    self->batch_failed = TRUE;
  if (self->batch_failed)
    {
      self->batch_failed = FALSE;
      ssq_db_rollback (&self->db);
      g_set_error (error, SSQ_ERROR, SSQ_ERROR_UNAVAILABLE,
                   _("A write failed; nothing of the batch was stored"));
    }
  else if (ssq_db_commit (&self->db, error))
    {
      ssq_cache_outbox_drop_files (self, TRUE);
      return TRUE;
    }
  /* Rolled back: the snapshots may tell of writes that are gone, and the
   * outbox holds again what the batch took out of it. */
  ssq_cache_outbox_drop_files (self, FALSE);
  self->unindexed_from = 0;
  ssq_cache_counters_drop (self);
  ssq_cache_forget_snapshots (self);
  g_hash_table_remove_all (self->users);
  return FALSE;
}

/* Transactions committed on this cache so far, the implicit one of each
 * statement outside a batch included. */
guint64
ssq_cache_get_commits (SsqCache *self)
{
  g_return_val_if_fail (SSQ_IS_CACHE (self), 0);
  return self->commits;
}

/* Rows written since the cache was opened: whether a batch wrote any. */
gint64
ssq_cache_get_changes (SsqCache *self)
{
  g_return_val_if_fail (SSQ_IS_CACHE (self), 0);
  return (gint64) sqlite3_total_changes64 (self->db.db);
}

char *
ssq_cache_dump_schema (SsqCache *self)
{
  g_return_val_if_fail (SSQ_IS_CACHE (self), NULL);
  return ssq_db_dump_schema (&self->db);
}

const char *
ssq_cache_get_path (SsqCache *self)
{
  g_return_val_if_fail (SSQ_IS_CACHE (self), NULL);
  return self->path;
}

char *
ssq_cache_get_meta (SsqCache   *self,
                    const char *key)
{
  sqlite3_stmt *stmt = ssq_db_stmt (&self->db, "SELECT value FROM meta WHERE key = ?", NULL);
  char *value = NULL;

  if (stmt == NULL)
    return NULL;
  ssq_db_bind_text (stmt, 1, key);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    value = ssq_db_column_dup (stmt, 0);
  sqlite3_reset (stmt);
  return value;
}

gboolean
ssq_cache_set_meta (SsqCache    *self,
                    const char  *key,
                    const char  *value,
                    GError     **error)
{
  sqlite3_stmt *stmt = ssq_db_stmt (&self->db,
                                    "INSERT INTO meta (key, value) VALUES (?, ?) "
                                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                                    error);

  if (stmt == NULL)
    return FALSE;
  ssq_db_bind_text (stmt, 1, key);
  ssq_db_bind_text (stmt, 2, value);
  return ssq_db_step_done (&self->db, stmt, error);
}

void
ssq_cache_set_self_id (SsqCache   *self,
                       const char *user_id)
{
  g_return_if_fail (SSQ_IS_CACHE (self) && user_id != NULL);
  if (g_strcmp0 (self->self_id, user_id) == 0)
    return;
  g_free (self->self_id);
  self->self_id = g_strdup (user_id);
  /* Peers and own-message states depend on who "I" am. */
  ssq_cache_forget_snapshots (self);
  if (!ssq_cache_set_meta (self, "self_id", user_id, NULL))
    g_debug ("cache: cannot record the account's user id");
}

const char *
ssq_cache_get_self_id (SsqCache *self)
{
  g_return_val_if_fail (SSQ_IS_CACHE (self), NULL);
  return self->self_id;
}

/* Users. */

gboolean
ssq_cache_store_user (SsqCache  *self,
                      SsqUser   *user,
                      GError   **error)
{
  sqlite3_stmt *stmt = ssq_db_stmt (&self->db,
                                    "INSERT INTO users (id, username, display_name, presence, last_seen) "
                                    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
                                    "username = excluded.username, display_name = excluded.display_name, "
                                    "presence = excluded.presence, last_seen = excluded.last_seen",
                                    error);

  if (stmt == NULL)
    return FALSE;
  ssq_db_bind_text (stmt, 1, ssq_user_get_id (user));
  ssq_db_bind_text (stmt, 2, ssq_user_get_username (user));
  ssq_db_bind_text (stmt, 3, ssq_user_get_display_name (user));
  ssq_db_bind_text (stmt, 4, ssq_user_get_presence (user));
  sqlite3_bind_int64 (stmt, 5, ssq_user_get_last_seen (user));
  if (!ssq_db_step_done (&self->db, stmt, error))
    return FALSE;
  /* Names show in conversations (titles, members): those snapshots go. A
   * user stored again unchanged (every welcome) keeps them. */
  {
    SsqUser *held = g_hash_table_lookup (self->users, ssq_user_get_id (user));

    if (held == NULL ||
        g_strcmp0 (ssq_user_get_display_name (held), ssq_user_get_display_name (user)) != 0 ||
        g_strcmp0 (ssq_user_get_username (held), ssq_user_get_username (user)) != 0 ||
        g_strcmp0 (ssq_user_get_presence (held), ssq_user_get_presence (user)) != 0)
      ssq_cache_forget_snapshots (self);
  }
  g_hash_table_replace (self->users, g_strdup (ssq_user_get_id (user)), g_object_ref (user));
  return TRUE;
}

static SsqUser *
user_from_stmt (sqlite3_stmt *stmt)
{
  SsqUser *user = NULL;

  if (sqlite3_step (stmt) == SQLITE_ROW)
    user = ssq_user_new ((const char *) sqlite3_column_text (stmt, 0),
                         (const char *) sqlite3_column_text (stmt, 1),
                         (const char *) sqlite3_column_text (stmt, 2),
                         (const char *) sqlite3_column_text (stmt, 3),
                         sqlite3_column_int64 (stmt, 4));
  sqlite3_reset (stmt);
  return user;
}

SsqUser *
ssq_cache_get_user (SsqCache   *self,
                    const char *user_id)
{
  SsqUser *user = user_id ? g_hash_table_lookup (self->users, user_id) : NULL;
  sqlite3_stmt *stmt;

  if (user != NULL)
    return g_object_ref (user);
  stmt = ssq_db_stmt (&self->db,
                      "SELECT id, username, display_name, presence, last_seen "
                      "FROM users WHERE id = ?", NULL);
  if (stmt == NULL || user_id == NULL)
    return NULL;
  ssq_db_bind_text (stmt, 1, user_id);
  user = user_from_stmt (stmt);
  if (user != NULL)
    g_hash_table_insert (self->users, g_strdup (user_id), g_object_ref (user));
  return user;
}

SsqUser *
ssq_cache_find_user (SsqCache   *self,
                     const char *username)
{
  sqlite3_stmt *stmt = ssq_db_stmt (&self->db,
                                    "SELECT id, username, display_name, presence, last_seen "
                                    "FROM users WHERE username = lower(?)", NULL);

  if (stmt == NULL)
    return NULL;
  ssq_db_bind_text (stmt, 1, username);
  return user_from_stmt (stmt);
}

/* A presence shows in the user's snapshot and in the direct conversations
 * with them. */
static void
forget_presence (SsqCache   *self,
                 const char *user_id,
                 const char *presence,
                 gint64      last_seen)
{
  SsqUser *held = g_hash_table_lookup (self->users, user_id);
  GHashTableIter iter;
  SsqConversation *conversation;

  if (held != NULL)
    g_hash_table_replace (self->users, g_strdup (user_id),
                          ssq_user_new (user_id, ssq_user_get_username (held),
                                        ssq_user_get_display_name (held), presence,
                                        MAX (last_seen, ssq_user_get_last_seen (held))));
  g_hash_table_iter_init (&iter, self->conversations);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &conversation))
    if (g_strcmp0 (ssq_conversation_get_peer_id (conversation), user_id) == 0)
      g_hash_table_iter_remove (&iter);
}

gboolean
ssq_cache_set_presence (SsqCache    *self,
                        const char  *user_id,
                        const char  *presence,
                        gint64       last_seen,
                        GError     **error)
{
  sqlite3_stmt *stmt = ssq_db_stmt (&self->db,
                                    "UPDATE users SET presence = ?, last_seen = MAX(last_seen, ?) "
                                    "WHERE id = ?", error);

  if (stmt == NULL)
    return FALSE;
  ssq_db_bind_text (stmt, 1, presence);
  sqlite3_bind_int64 (stmt, 2, last_seen);
  ssq_db_bind_text (stmt, 3, user_id);
  if (!ssq_db_step_done (&self->db, stmt, error))
    return FALSE;
  forget_presence (self, user_id, presence, last_seen);
  return TRUE;
}
