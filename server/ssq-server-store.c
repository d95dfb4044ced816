/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-store.c: opening the database, migrations by user_version, and
 * the prepared-statement cache the other store files use. */
#include "ssq-server-store-private.h"
#include "ssq-server-walbuf.h"
#include "ssq-proto.h"

#include <sodium.h>
#include <string.h>

/* Each migration raises user_version by one and runs in its own transaction;
 * its down step takes the schema back exactly (the golden schema of the
 * version below, tests/server/golden) and drops what only the newer
 * version held. Never edit a released step: append a new one. */
static const SsqDbMigration migrations[] = {
  /* 0 -> 1: the first schema. Down: everything is gone. */
  { "CREATE TABLE users ("
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
    /* Children before parents: with foreign keys on, dropping a table
     * deletes its rows first, which must not orphan another's. */
    "DROP TABLE messages;"
    "DROP TABLE members;"
    "DROP TABLE sessions;"
    "DROP TABLE conversations;"
    "DROP TABLE users;" },
  /* 1 -> 2: change cursors. Every edit and deletion takes the next `rev` of
   * its conversation and stamps the message with it, so that sync can send
   * a device that was away the messages changed after its cursor. Most
   * messages never change: the index holds only those that did. Down:
   * every rev is lost. Clients keep their cursors: after the next upgrade
   * a device misses the edits and deletions of a conversation until its
   * rev passes the device's cursor again (clear the clients' caches). */
  { "ALTER TABLE conversations ADD COLUMN rev INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE messages ADD COLUMN rev INTEGER NOT NULL DEFAULT 0;"
    "CREATE INDEX messages_by_rev ON messages(conversation_id, rev) WHERE rev > 0;",
    "DROP INDEX messages_by_rev;"
    "ALTER TABLE messages DROP COLUMN rev;"
    "ALTER TABLE conversations DROP COLUMN rev;" },
  /* 2 -> 3: each message keeps its wire form (the `message` object as the
   * codec encodes it), rewritten with every change, so that a history page
   * is a copy of stored text rather than a JSON tree built per message.
   * ssq_message_json() is the codec, registered on every connection.
   * Down: nothing lost, the up step makes the column again from the row. */
  { "ALTER TABLE messages ADD COLUMN json TEXT NOT NULL DEFAULT '';"
    "UPDATE messages SET json = ssq_message_json(id, conversation_id, seq, sender, client_id, "
    "  body, created_at, edited_at, deleted, reply_to, rev);",
    "ALTER TABLE messages DROP COLUMN json;" },
  /* 3 -> 4: media. A row per upload (equal bytes share one file of the
   * media store, named by their SHA-256); message_media links messages to
   * them in order; a message keeps its media array's wire form beside its
   * own, rewritten with it. An upload no message ever linked is an orphan,
   * found by the partial index on its age; the thumbnail's file is named
   * by its hash too, set by the thumbnailer later. Down: every upload and
   * every message's attachments are forgotten (a message of media only
   * keeps its empty body); the files stay in DATA_DIR/media until a
   * server of schema 4 or later sweeps the ones no row names. */
  { "CREATE TABLE media ("
    "  id TEXT PRIMARY KEY,"
    "  uploader TEXT NOT NULL,"
    "  name TEXT NOT NULL,"
    "  mime TEXT NOT NULL,"
    "  size INTEGER NOT NULL,"
    "  sha256 TEXT NOT NULL,"
    "  width INTEGER,"
    "  height INTEGER,"
    "  thumbnail_hash TEXT,"
    "  thumbnail_mime TEXT,"
    "  created_at INTEGER NOT NULL,"
    "  attached INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX media_by_uploader ON media(uploader);"
    "CREATE INDEX media_by_hash ON media(sha256);"
    "CREATE INDEX media_by_thumbnail ON media(thumbnail_hash) WHERE thumbnail_hash IS NOT NULL;"
    "CREATE INDEX media_orphans ON media(created_at) WHERE attached = 0;"
    "CREATE TABLE message_media ("
    "  conversation_id TEXT NOT NULL,"
    "  seq INTEGER NOT NULL,"
    "  position INTEGER NOT NULL,"
    "  media_id TEXT NOT NULL REFERENCES media(id),"
    "  PRIMARY KEY (conversation_id, seq, position)) WITHOUT ROWID;"
    "CREATE INDEX message_media_by_media ON message_media(media_id);"
    "ALTER TABLE messages ADD COLUMN media TEXT;",
    "ALTER TABLE messages DROP COLUMN media;"
    "DROP TABLE message_media;"
    "DROP TABLE media;" },
  /* 4 -> 5: thumbnails owed. An image is marked at its upload until its
   * thumbnail is made or it proves undecodable; the server works through
   * the marked rows at start and whenever its thumbnail queue has room, so
   * that neither a restart nor a burst of uploads loses a thumbnail. Images
   * stored before thumbnails existed are owed theirs. Down: the marks go;
   * the up step owes a thumbnail again to every image without one. */
  { "ALTER TABLE media ADD COLUMN thumbnail_pending INTEGER NOT NULL DEFAULT 0;"
    "UPDATE media SET thumbnail_pending = 1 WHERE thumbnail_hash IS NULL "
    "  AND mime IN ('image/jpeg', 'image/png', 'image/gif', 'image/webp');"
    "CREATE INDEX media_thumbnails_pending ON media(created_at) WHERE thumbnail_pending = 1;",
    "DROP INDEX media_thumbnails_pending;"
    "ALTER TABLE media DROP COLUMN thumbnail_pending;" },
  /* 5 -> 6: administration. An account can be disabled (no login, its
   * sessions ended) and be a server admin; the first account registered
   * is one, and here the oldest account still there (the lowest rowid:
   * ids are random, rowids follow registration). A password reset code is
   * kept hashed, with its expiry, until it is used once. Down: the flags,
   * the server admins and any open reset codes are lost. */
  { "ALTER TABLE users ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE users ADD COLUMN server_admin INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE users ADD COLUMN reset_code_hash BLOB;"
    "ALTER TABLE users ADD COLUMN reset_code_expires INTEGER;"
    "UPDATE users SET server_admin = 1 WHERE rowid = "
    "  (SELECT min(rowid) FROM users WHERE username NOT LIKE '~%');",
    "ALTER TABLE users DROP COLUMN reset_code_expires;"
    "ALTER TABLE users DROP COLUMN reset_code_hash;"
    "ALTER TABLE users DROP COLUMN server_admin;"
    "ALTER TABLE users DROP COLUMN disabled;" },
  /* 6 -> 7: invites. A server admin's invite lets uses_left more accounts
   * register until expires_at; only its token's hash is kept. created_by
   * is the admin's user id, NULL when made on the administration socket.
   * A revoked invite is deleted. Down: every invite is lost (a server in
   * invite mode then takes no registration until new ones are made). */
  { "CREATE TABLE invites ("
    "  id TEXT PRIMARY KEY,"
    "  token_hash BLOB NOT NULL UNIQUE,"
    "  created_by TEXT,"
    "  created_at INTEGER NOT NULL,"
    "  expires_at INTEGER NOT NULL,"
    "  uses_left INTEGER NOT NULL CHECK (uses_left >= 0),"
    "  uses INTEGER NOT NULL DEFAULT 0);",
    "DROP TABLE invites;" },
  /* 7 -> 8: the message broker's durable state. Exchanges, queues (their
   * arguments as columns) and bindings by name; a persistent message's
   * body once in broker_messages, and a row per durable queue holding it
   * in broker_queue_messages, in the queue's order (seq), with how often
   * it was delivered (a message delivered before a crash comes back
   * redelivered). Down: every durable exchange, queue, binding and
   * message of the broker is lost. */
  { "CREATE TABLE broker_exchanges ("
    "  name TEXT PRIMARY KEY,"
    "  type TEXT NOT NULL,"
    "  owner TEXT,"
    "  auto_delete INTEGER NOT NULL DEFAULT 0,"
    "  internal INTEGER NOT NULL DEFAULT 0,"
    "  arguments BLOB NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE broker_queues ("
    "  name TEXT PRIMARY KEY,"
    "  owner TEXT,"
    "  auto_delete INTEGER NOT NULL DEFAULT 0,"
    "  message_ttl INTEGER,"
    "  expires INTEGER,"
    "  max_length INTEGER,"
    "  overflow TEXT NOT NULL DEFAULT 'drop-head',"
    "  dead_letter_exchange TEXT,"
    "  dead_letter_routing_key TEXT,"
    "  max_priority INTEGER NOT NULL DEFAULT 0,"
    "  max_deliveries INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;"
    "CREATE TABLE broker_bindings ("
    "  exchange TEXT NOT NULL,"
    "  queue TEXT NOT NULL,"
    "  routing_key TEXT NOT NULL,"
    "  arguments BLOB NOT NULL,"
    "  binder TEXT,"
    "  PRIMARY KEY (exchange, queue, routing_key, arguments)) WITHOUT ROWID;"
    "CREATE INDEX broker_bindings_by_queue ON broker_bindings(queue);"
    "CREATE TABLE broker_messages ("
    "  id INTEGER PRIMARY KEY,"
    "  exchange TEXT NOT NULL,"
    "  routing_key TEXT NOT NULL,"
    "  properties BLOB NOT NULL,"
    "  body BLOB NOT NULL);"
    "CREATE TABLE broker_queue_messages ("
    "  queue TEXT NOT NULL,"
    "  seq INTEGER NOT NULL,"
    "  message_id INTEGER NOT NULL,"
    "  priority INTEGER NOT NULL,"
    "  expires_at INTEGER NOT NULL,"
    "  deliveries INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY (queue, seq)) WITHOUT ROWID;",
    "DROP TABLE broker_queue_messages;"
    "DROP TABLE broker_messages;"
    "DROP TABLE broker_bindings;"
    "DROP TABLE broker_queues;"
    "DROP TABLE broker_exchanges;" },
  /* 8 -> 9: a queue ever bound to a user's events exchange holds that
   * user's events, and stays readable by its owner alone after the binding
   * goes, across restarts too. Down: after the next upgrade such a queue
   * is private again only once it is bound again. */
  { "ALTER TABLE broker_queues ADD COLUMN private_events INTEGER NOT NULL DEFAULT 0;",
    "ALTER TABLE broker_queues DROP COLUMN private_events;" },
  /* 9 -> 10: U+001F in stored wire forms. The writer left it raw in
   * strings, as json-glib 1.6's generator does; that is not JSON, and
   * strict readers (the client's own since this version, Python's json)
   * refused every frame carrying such a message, at every sync. The rows
   * holding one are written again, escaped. Down: nothing to undo; an
   * older server sends the escaped form as it is, and reads it. */
  { "UPDATE messages SET json = ssq_message_json(id, conversation_id, seq, sender, client_id, "
    "  body, created_at, edited_at, deleted, reply_to, rev, media) "
    "WHERE instr(json, char(31)) > 0;",
    "" },
};

G_STATIC_ASSERT (G_N_ELEMENTS (migrations) == SSQ_STORE_SCHEMA_VERSION);

gboolean
ssq_server_store_begin (SsqServerStore  *store,
                        GError         **error)
{
  return ssq_db_begin (&store->base, error);
}

/* FALSE also when SQLite rolled back the transaction by itself (an I/O
 * error, a full disk without a statement journal): what ran in it is
 * gone, and a savepoint or statement after it would run on its own. */
gboolean
ssq_server_store_in_transaction (SsqServerStore *store)
{
  return !sqlite3_get_autocommit (store->base.db);
}

gboolean
ssq_server_store_commit (SsqServerStore  *store,
                         GError         **error)
{
  return ssq_db_commit (&store->base, error);
}

void
ssq_server_store_rollback (SsqServerStore *store)
{
  ssq_db_rollback (&store->base);
}

int
ssq_server_store_get_version (SsqServerStore *store)
{
  return ssq_db_get_version (&store->base);
}

static SsqServerStore *
open_migrated (const char  *path,
               gboolean     durable,
               int          version,
               GError     **error)
{
  g_autoptr(SsqServerStore) store = g_new0 (SsqServerStore, 1);

  /* WAL lets a commit be one append and one fsync; durable (FULL) makes
   * that fsync happen on every commit, which "acked means durable" needs.
   * The commit's frames are then written at once (ssq-server-walbuf.c),
   * which is safe only with that fsync. */
  store->base.vfs = durable ? ssq_server_walbuf_vfs () : NULL;
  if (!ssq_db_open (&store->base, path, durable, error) ||
      !ssq_server_store_register_functions (store, error) ||
      !ssq_db_migrate (&store->base, migrations, G_N_ELEMENTS (migrations), version, error))
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

static SsqServerStore *
open_another (const char  *path,
              gboolean     durable,
              const char  *vfs,
              GError     **error)
{
  g_autoptr(SsqServerStore) store = g_new0 (SsqServerStore, 1);

  /* This connection serves the reads (history pages above all): mapped,
   * a page of the database is read in place instead of copied out of the
   * kernel's cache by pread, which was a quarter of a history request.
   * The server is the file's only user (the data-directory lock), so
   * nothing truncates it under the mapping. */
  store->base.vfs = vfs;
  if (!ssq_db_open_another (&store->base, path, durable, error) ||
      !ssq_db_exec (&store->base, "PRAGMA mmap_size = 1073741824", error) ||
      !ssq_server_store_register_functions (store, error))
    return NULL;
  return g_steal_pointer (&store);
}

/**
 * ssq_server_store_open_another:
 * A further connection to the database at @path, which this process has
 * already opened (and migrated) with ssq_server_store_open.
 */
SsqServerStore *
ssq_server_store_open_another (const char  *path,
                               gboolean     durable,
                               GError     **error)
{
  return open_another (path, durable, NULL, error);
}

/**
 * ssq_server_store_open_checkpointer:
 * As ssq_server_store_open_another, for the checkpointer thread: with
 * @durable, its copies into the database are written back as they are
 * made rather than all at the pass's fsync (ssq-server-walbuf.c).
 */
SsqServerStore *
ssq_server_store_open_checkpointer (const char  *path,
                                    gboolean     durable,
                                    GError     **error)
{
  return open_another (path, durable, durable ? ssq_server_walbuf_vfs () : NULL, error);
}

/**
 * ssq_server_store_tune_writer:
 * Settings of the writer thread's connection.
 *
 * Its page cache is small (4 MiB), and few clean pages stay in it between
 * commits. Few matters: when a page split reorders pages, SQLite parks one
 * at the lock-byte page number (262145), and the end of that transaction
 * walks the cache's whole hash table; with a 64 MiB cache that walk was
 * 11% of the writer's time at 25 messages a commit.
 *
 * Dirty pages still spill to the log only past 64 MiB, so a batch of 512
 * messages keeps all its pages until the commit (spilled, they were
 * written twice). 16,383 and not 16,384: SQLite also reads the number as
 * a boolean, of its low byte, and a multiple of 256 turns spilling off,
 * leaving a large transaction's dirty pages all in memory.
 *
 * Its checkpoints are the checkpointer's (ssq-server-checkpointer.c),
 * whose commit hook replaces SQLite's automatic one.
 */
gboolean
ssq_server_store_tune_writer (SsqServerStore  *store,
                              GError         **error)
{
  return ssq_db_exec (&store->base, "PRAGMA cache_size = -4096", error) &&
         ssq_db_exec (&store->base, "PRAGMA cache_spill = 16383", error) &&
         ssq_db_exec (&store->base, "PRAGMA temp_store = MEMORY", error);
}

static int
wal_hook (void       *data,
          sqlite3    *db,
          const char *name,
          int         wal_frames)
{
  SsqServerStore *store = data;

  store->commit_hook (store, (guint) MAX (wal_frames, 0), store->commit_hook_data);
  return SQLITE_OK;
}

/**
 * ssq_server_store_set_commit_hook:
 * Calls @hook after each commit of @store's connection, on the thread that
 * committed. SQLite then checkpoints no more by itself (its automatic
 * checkpoint is such a hook): @hook is in charge of it.
 */
void
ssq_server_store_set_commit_hook (SsqServerStore          *store,
                                  SsqServerStoreCommitHook hook,
                                  gpointer                 user_data)
{
  store->commit_hook = hook;
  store->commit_hook_data = user_data;
  sqlite3_wal_hook (store->base.db, hook != NULL ? wal_hook : NULL, store);
}

/**
 * ssq_server_store_checkpoint:
 * Copies into the database what the log holds that every reader has seen.
 * With @restart_wait_ms 0, PASSIVE: without waiting for the writer or the
 * readers. Else (only the writer's own connection may ask) RESTART: waits
 * up to that long for the readers that still read the log, so that the
 * log starts again from its beginning at the next commit; a reader that
 * stays longer only makes @complete FALSE.
 *
 * @wal_frames is the log's length as the checkpoint saw it, and @copied
 * how many of its frames are in the database, those of earlier checkpoints
 * included; both are 0 when another checkpoint was running.
 */
gboolean
ssq_server_store_checkpoint (SsqServerStore  *store,
                             guint            restart_wait_ms,
                             guint           *wal_frames,
                             guint           *copied,
                             gboolean        *complete,
                             GError         **error)
{
  int log = -1, done = -1, rc;

  if (restart_wait_ms > 0)
    sqlite3_busy_timeout (store->base.db, (int) restart_wait_ms);
  rc = sqlite3_wal_checkpoint_v2 (store->base.db, NULL,
                                  restart_wait_ms > 0 ? SQLITE_CHECKPOINT_RESTART
                                                      : SQLITE_CHECKPOINT_PASSIVE,
                                  &log, &done);
  if (restart_wait_ms > 0)
    sqlite3_busy_timeout (store->base.db, SSQ_DB_BUSY_TIMEOUT_MS);
  *wal_frames = (guint) MAX (log, 0);
  *copied = (guint) MAX (done, 0);
  *complete = rc == SQLITE_OK;
  if (rc == SQLITE_OK || rc == SQLITE_BUSY)
    return TRUE;
  return ssq_server_store_fail (store, error);
}

/**
 * ssq_server_store_wal_generation:
 * Which log this is: the checkpoint sequence number in the log file's
 * header, which SQLite counts up each time the log starts again (the
 * log's length cannot tell a restart from a commit longer than the log
 * was). G_MAXUINT64 when it cannot be read.
 */
guint64
ssq_server_store_wal_generation (SsqServerStore *store)
{
  sqlite3_file *wal = NULL;
  unsigned char header[16];

  if (sqlite3_file_control (store->base.db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &wal) != SQLITE_OK ||
      wal == NULL || wal->pMethods == NULL ||
      wal->pMethods->xRead (wal, header, sizeof header, 0) != SQLITE_OK)
    return G_MAXUINT64;
  return ((guint64) header[12] << 24) | ((guint64) header[13] << 16) |
         ((guint64) header[14] << 8) | header[15];
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
  ssq_db_close (&store->base);
  ssq_server_store_deferred_free (store);
  g_free (store);
}

char *
ssq_server_store_dump_schema (SsqServerStore *store)
{
  return ssq_db_dump_schema (&store->base);
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

/* Message ids, same shape as the others but ordered by time: 6 bytes of
 * milliseconds, 2 of a counter within the millisecond, 4 random bytes drawn
 * once per process. Random ids put each new message in a random leaf of the
 * unique index on messages.id, so a commit of N messages wrote about N index
 * pages; ordered ones all land in the last leaf or two. The time never goes
 * back within a process (a clock stepped back keeps the last time), and
 * the process's random bytes keep two processes apart. */
char *
ssq_server_store_new_message_id (void)
{
  static GMutex lock;
  static gint64 last_ms = 0;
  static guint counter = 0;
  static guint8 process[4];
  static gsize process_set = 0;
  guint8 bytes[12];
  char *id;
  gint64 now = g_get_real_time () / 1000, ms;
  guint n;

  if (g_once_init_enter (&process_set))
    {
      randombytes_buf (process, sizeof process);
      g_once_init_leave (&process_set, 1);
    }
  g_mutex_lock (&lock);
  if (now > last_ms)
    {
      last_ms = now;
      counter = 0;
    }
  else if (++counter > 0xffff)
    {
      last_ms++;
      counter = 0;
    }
  ms = last_ms;
  n = counter;
  g_mutex_unlock (&lock);
  for (int i = 0; i < 6; i++)
    bytes[i] = (guint8) (ms >> (8 * (5 - i)));
  bytes[6] = (guint8) (n >> 8);
  bytes[7] = (guint8) n;
  memcpy (bytes + 8, process, sizeof process);
  /* Written in place: once per message, and g_strdup_printf () was most
   * of this function's time. */
  id = g_malloc (2 * sizeof bytes + 2);
  id[0] = 'm';
  sodium_bin2hex (id + 1, 2 * sizeof bytes + 1, bytes, sizeof bytes);
  return id;
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
ssq_media_row_free (SsqMediaRow *row)
{
  if (row == NULL)
    return;
  g_free (row->id);
  g_free (row->uploader);
  g_free (row->name);
  g_free (row->mime);
  g_free (row->sha256);
  g_free (row->thumbnail_hash);
  g_free (row->thumbnail_mime);
  g_free (row);
}

void
ssq_message_row_free (SsqMessageRow *row)
{
  if (row == NULL)
    return;
  g_clear_pointer (&row->media, json_array_unref);
  g_free (row->id);
  g_free (row->conversation_id);
  g_free (row->sender);
  g_free (row->client_id);
  g_free (row->body);
  g_free (row->json);
  g_free (row);
}
