/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-store.c: opening the database, migrations by user_version, and
 * the prepared-statement cache the other store files use. */
#include "ssq-server-store-private.h"
#include "ssq-proto.h"

#include <sodium.h>
#include <string.h>

/* Each migration raises user_version by one and runs in its own transaction.
 * Never edit a released step: append a new one. */
static const char *const migrations[] = {
  /* 0 -> 1: the first schema. */
  "CREATE TABLE users ("
  "  id TEXT PRIMARY KEY,"
  "  username TEXT NOT NULL UNIQUE,"
  "  display_name TEXT NOT NULL,"
  "  pw_hash TEXT NOT NULL,"
  "  created_at INTEGER NOT NULL,"
  "  last_seen INTEGER NOT NULL DEFAULT 0);"
  "CREATE TABLE sessions ("
  "  token_hash BLOB PRIMARY KEY,"
  "  user_id TEXT NOT NULL REFERENCES users(id),"
  "  device TEXT,"
  "  created_at INTEGER NOT NULL,"
  "  expires_at INTEGER NOT NULL,"
  "  revoked INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;"
  "CREATE INDEX sessions_by_user ON sessions(user_id);"
  "CREATE TABLE conversations ("
  "  id TEXT PRIMARY KEY,"
  "  kind TEXT NOT NULL CHECK (kind IN ('direct', 'group')),"
  "  title TEXT,"
  "  direct_key TEXT UNIQUE,"
  "  created_at INTEGER NOT NULL,"
  "  updated_at INTEGER NOT NULL,"
  "  last_seq INTEGER NOT NULL DEFAULT 0);"
  "CREATE TABLE members ("
  "  conversation_id TEXT NOT NULL REFERENCES conversations(id),"
  "  user_id TEXT NOT NULL REFERENCES users(id),"
  "  role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),"
  "  muted INTEGER NOT NULL DEFAULT 0,"
  "  read_seq INTEGER NOT NULL DEFAULT 0,"
  "  delivered_seq INTEGER NOT NULL DEFAULT 0,"
  "  joined_at INTEGER NOT NULL,"
  "  PRIMARY KEY (conversation_id, user_id)) WITHOUT ROWID;"
  "CREATE INDEX members_by_user ON members(user_id);"
  /* History is read by (conversation_id, seq): cluster the table on it. */
  "CREATE TABLE messages ("
  "  conversation_id TEXT NOT NULL,"
  "  seq INTEGER NOT NULL,"
  "  id TEXT NOT NULL UNIQUE,"
  "  sender TEXT NOT NULL,"
  "  client_id TEXT NOT NULL,"
  "  body TEXT NOT NULL,"
  "  created_at INTEGER NOT NULL,"
  "  edited_at INTEGER,"
  "  deleted INTEGER NOT NULL DEFAULT 0,"
  "  reply_to INTEGER,"
  "  PRIMARY KEY (conversation_id, seq)) WITHOUT ROWID;"
  "CREATE UNIQUE INDEX messages_by_client_id ON messages(conversation_id, sender, client_id);",
};

G_STATIC_ASSERT (G_N_ELEMENTS (migrations) == SSQ_STORE_SCHEMA_VERSION);

gboolean
ssq_server_store_fail (SsqServerStore  *store,
                       GError         **error)
{
  int code = sqlite3_extended_errcode (store->db);
  int primary = code & 0xff;

  if (primary == SQLITE_CONSTRAINT)
    g_set_error (error, SSQ_ERROR, SSQ_ERROR_CONFLICT, "Conflict: %s", sqlite3_errmsg (store->db));
  else if (primary == SQLITE_FULL || primary == SQLITE_IOERR || primary == SQLITE_BUSY)
    g_set_error (error, SSQ_ERROR, SSQ_ERROR_UNAVAILABLE, "Storage unavailable: %s",
                 sqlite3_errmsg (store->db));
  else
    g_set_error (error, SSQ_ERROR, SSQ_ERROR_INTERNAL, "Storage error: %s",
                 sqlite3_errmsg (store->db));
  return FALSE;
}

/* Statements are cached by the address of their (static) SQL text and come
 * back reset, with no bindings. */
sqlite3_stmt *
ssq_server_store_stmt (SsqServerStore  *store,
                       const char      *sql,
                       GError         **error)
{
  sqlite3_stmt *stmt = g_hash_table_lookup (store->statements, sql);

  if (stmt != NULL)
    {
      sqlite3_reset (stmt);
      sqlite3_clear_bindings (stmt);
      return stmt;
    }
  if (sqlite3_prepare_v3 (store->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL) != SQLITE_OK)
    {
      ssq_server_store_fail (store, error);
      return NULL;
    }
  g_hash_table_insert (store->statements, (gpointer) sql, stmt);
  return stmt;
}

gboolean
ssq_server_store_step_done (SsqServerStore  *store,
                            sqlite3_stmt    *stmt,
                            GError         **error)
{
  int rc = sqlite3_step (stmt);

  if (rc != SQLITE_DONE && rc != SQLITE_ROW)
    {
      ssq_server_store_fail (store, error);
      sqlite3_reset (stmt);
      return FALSE;
    }
  sqlite3_reset (stmt);
  return TRUE;
}

char *
ssq_server_store_column_dup (sqlite3_stmt *stmt,
                             int           column)
{
  const unsigned char *text = sqlite3_column_text (stmt, column);

  return text ? g_strdup ((const char *) text) : NULL;
}

void
ssq_server_store_bind_text (sqlite3_stmt *stmt,
                            int           index,
                            const char   *text)
{
  if (text == NULL)
    sqlite3_bind_null (stmt, index);
  else
    sqlite3_bind_text (stmt, index, text, -1, SQLITE_TRANSIENT);
}

gboolean
ssq_server_store_exec (SsqServerStore  *store,
                       const char      *sql,
                       GError         **error)
{
  if (sqlite3_exec (store->db, sql, NULL, NULL, NULL) != SQLITE_OK)
    return ssq_server_store_fail (store, error);
  return TRUE;
}

/* Like ssq_server_store_exec for one statement with static text, prepared
 * once: for statements run per write, such as savepoints. */
gboolean
ssq_server_store_run (SsqServerStore  *store,
                      const char      *static_sql,
                      GError         **error)
{
  sqlite3_stmt *stmt = ssq_server_store_stmt (store, static_sql, error);

  return stmt != NULL && ssq_server_store_step_done (store, stmt, error);
}

gboolean
ssq_server_store_begin (SsqServerStore  *store,
                        GError         **error)
{
  return ssq_server_store_exec (store, "BEGIN IMMEDIATE", error);
}

gboolean
ssq_server_store_commit (SsqServerStore  *store,
                         GError         **error)
{
  if (!ssq_server_store_exec (store, "COMMIT", error))
    {
      ssq_server_store_rollback (store);
      return FALSE;
    }
  return TRUE;
}

void
ssq_server_store_rollback (SsqServerStore *store)
{
  if (!sqlite3_get_autocommit (store->db))
    sqlite3_exec (store->db, "ROLLBACK", NULL, NULL, NULL);
}

int
ssq_server_store_get_version (SsqServerStore *store)
{
  sqlite3_stmt *stmt = NULL;
  int version = -1;

  if (sqlite3_prepare_v2 (store->db, "PRAGMA user_version", -1, &stmt, NULL) == SQLITE_OK &&
      sqlite3_step (stmt) == SQLITE_ROW)
    version = sqlite3_column_int (stmt, 0);
  sqlite3_finalize (stmt);
  return version;
}

static gboolean
migrate (SsqServerStore  *store,
         int              target,
         GError         **error)
{
  int version = ssq_server_store_get_version (store);

  if (version < 0)
    return ssq_server_store_fail (store, error);
  if (version > SSQ_STORE_SCHEMA_VERSION)
    {
      g_set_error (error, SSQ_ERROR, SSQ_ERROR_INTERNAL,
                   "The database has schema version %d; this server knows up to %d. "
                   "Refusing to touch data written by a newer server.",
                   version, SSQ_STORE_SCHEMA_VERSION);
      return FALSE;
    }
  for (; version < target; version++)
    {
      g_autofree char *bump = g_strdup_printf ("PRAGMA user_version = %d", version + 1);

      if (!ssq_server_store_begin (store, error))
        return FALSE;
      if (!ssq_server_store_exec (store, migrations[version], error) ||
          !ssq_server_store_exec (store, bump, error))
        {
          g_prefix_error (error, "Migration to schema %d failed: ", version + 1);
          ssq_server_store_rollback (store);
          return FALSE;
        }
      if (!ssq_server_store_commit (store, error))
        return FALSE;
    }
  return TRUE;
}

static void
finalize_stmt (gpointer stmt)
{
  sqlite3_finalize (stmt);
}

static SsqServerStore *
open_db (const char  *path,
         gboolean     durable,
         GError     **error)
{
  g_autoptr(SsqServerStore) store = g_new0 (SsqServerStore, 1);
  int rc;

  store->statements = g_hash_table_new_full (NULL, NULL, NULL, finalize_stmt);
  rc = sqlite3_open_v2 (path, &store->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
  if (rc != SQLITE_OK)
    {
      g_set_error (error, SSQ_ERROR, SSQ_ERROR_INTERNAL, "Cannot open %s: %s", path,
                   store->db ? sqlite3_errmsg (store->db) : sqlite3_errstr (rc));
      return NULL;
    }
  sqlite3_extended_result_codes (store->db, 1);
  /* WAL lets a commit be one append and one fsync; FULL makes that fsync
   * happen on every commit, which is what "acked means durable" needs. */
  if (!ssq_server_store_exec (store, "PRAGMA journal_mode = WAL", error) ||
      !ssq_server_store_exec (store, durable ? "PRAGMA synchronous = FULL"
                                             : "PRAGMA synchronous = NORMAL", error) ||
      !ssq_server_store_exec (store, "PRAGMA foreign_keys = ON", error) ||
      !ssq_server_store_exec (store, "PRAGMA busy_timeout = 5000", error))
    return NULL;
  return g_steal_pointer (&store);
}

static SsqServerStore *
open_migrated (const char  *path,
               gboolean     durable,
               int          version,
               GError     **error)
{
  g_autoptr(SsqServerStore) store = open_db (path, durable, error);

  if (store == NULL || !migrate (store, version, error))
    return NULL;
  return g_steal_pointer (&store);
}

/**
 * ssq_server_store_open:
 * Opens (creating if needed) the database at @path and brings its schema to
 * the current version. With @durable, every commit is fsynced.
 */
SsqServerStore *
ssq_server_store_open (const char  *path,
                       gboolean     durable,
                       GError     **error)
{
  return open_migrated (path, durable, SSQ_STORE_SCHEMA_VERSION, error);
}

/* For the migration tests: stop at an older schema version. */
SsqServerStore *
ssq_server_store_open_at_version (const char  *path,
                                  int          version,
                                  GError     **error)
{
  g_return_val_if_fail (version >= 0 && version <= SSQ_STORE_SCHEMA_VERSION, NULL);
  return open_migrated (path, TRUE, version, error);
}

void
ssq_server_store_close (SsqServerStore *store)
{
  if (store == NULL)
    return;
  g_clear_pointer (&store->statements, g_hash_table_destroy);
  if (store->db != NULL)
    {
      ssq_server_store_rollback (store);
      sqlite3_close (store->db);
    }
  g_free (store);
}

/* The schema as SQLite reports it, one statement a line, sorted by name: the
 * golden migration test compares this text. */
char *
ssq_server_store_dump_schema (SsqServerStore *store)
{
  g_autoptr(GString) out = g_string_new (NULL);
  sqlite3_stmt *stmt = NULL;

  g_string_append_printf (out, "-- user_version %d\n", ssq_server_store_get_version (store));
  if (sqlite3_prepare_v2 (store->db,
                          "SELECT sql FROM sqlite_schema WHERE sql IS NOT NULL "
                          "ORDER BY type, name", -1, &stmt, NULL) != SQLITE_OK)
    return NULL;
  while (sqlite3_step (stmt) == SQLITE_ROW)
    g_string_append_printf (out, "%s;\n", sqlite3_column_text (stmt, 0));
  sqlite3_finalize (stmt);
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* Opaque ids: a kind letter and 12 random bytes in hex. */
char *
ssq_server_store_new_id (char prefix)
{
  guint8 bytes[12];
  char hex[2 * sizeof bytes + 1];

  randombytes_buf (bytes, sizeof bytes);
  sodium_bin2hex (hex, sizeof hex, bytes, sizeof bytes);
  return g_strdup_printf ("%c%s", prefix, hex);
}

void
ssq_user_row_free (SsqUserRow *row)
{
  if (row == NULL)
    return;
  g_free (row->id);
  g_free (row->username);
  g_free (row->display_name);
  g_free (row);
}

void
ssq_conversation_row_free (SsqConversationRow *row)
{
  if (row == NULL)
    return;
  g_free (row->id);
  g_free (row->kind);
  g_free (row->title);
  g_free (row);
}

void
ssq_member_row_free (SsqMemberRow *row)
{
  if (row == NULL)
    return;
  g_free (row->user_id);
  g_free (row->role);
  g_free (row);
}

void
ssq_message_row_free (SsqMessageRow *row)
{
  if (row == NULL)
    return;
  g_free (row->id);
  g_free (row->conversation_id);
  g_free (row->sender);
  g_free (row->client_id);
  g_free (row->body);
  g_free (row);
}
