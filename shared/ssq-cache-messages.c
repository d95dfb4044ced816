/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-cache-messages.c: messages (with edits, tombstones and media), paging with
 * gap detection and full-text search in the client cache (the outbox is in
 * ssq-cache-outbox.c). */
#include "ssq-cache-private.h"
#include "ssq-conversation-private.h"
#include "ssq-media-private.h"
#include "ssq-message-private.h"
#include "ssq-proto.h"

#include <string.h>

SsqMessage *
ssq_cache_message_from_row (sqlite3_stmt *stmt,
                            const char   *self_id,
                            gint64        peer_delivered,
                            gint64        peer_read)
{
  SsqMessage *message = ssq_message_new ();

  message->conversation_id = ssq_db_column_dup (stmt, 0);
  message->seq = sqlite3_column_int64 (stmt, 1);
  message->id = ssq_db_column_dup (stmt, 2);
  message->sender = ssq_db_column_dup (stmt, 3);
  message->client_id = ssq_db_column_dup (stmt, 4);
  message->body = ssq_db_column_dup (stmt, 5);
  message->created_at = sqlite3_column_int64 (stmt, 6);
  message->edited_at = sqlite3_column_int64 (stmt, 7);
  message->deleted = sqlite3_column_int (stmt, 8);
  message->reply_to = sqlite3_column_int64 (stmt, 9);
  /* Written by this cache from what the codec read: unreadable only if
   * the file was damaged, and then the message shows without them. */
  message->media = ssq_media_list_from_text ((const char *) sqlite3_column_text (stmt, 10), NULL);
  message->rev = sqlite3_column_int64 (stmt, 11);
  message->status = SSQ_MESSAGE_SENT;
  if (g_strcmp0 (message->sender, self_id) == 0)
    {
      if (message->seq <= peer_read)
        message->status = SSQ_MESSAGE_READ;
      else if (message->seq <= peer_delivered)
        message->status = SSQ_MESSAGE_DELIVERED;
    }
  return message;
}

static GPtrArray *messages_page (SsqCache   *self,
                                 const char *conversation_id,
                                 gint64      before_seq,
                                 guint       limit,
                                 gboolean   *out_complete,
                                 gboolean    with_quotes);

SsqMessage *
ssq_cache_last_message (SsqCache   *self,
                        const char *conversation_id)
{
  g_autoptr(GPtrArray) last = ssq_cache_get_messages (self, conversation_id, 0, 1, NULL);

  return last->len > 0 ? g_object_ref (last->pdata[0]) : NULL;
}

static SsqMessage *
get_message (SsqCache   *self,
             const char *conversation_id,
             gint64      seq,
             gboolean    with_quote)
{
  g_autoptr(GPtrArray) one = messages_page (self, conversation_id, seq + 1, 1, NULL, with_quote);

  if (one->len == 0 || SSQ_MESSAGE (one->pdata[0])->seq != seq)
    return NULL;
  return g_object_ref (one->pdata[0]);
}

SsqMessage *
ssq_cache_get_message (SsqCache   *self,
                       const char *conversation_id,
                       gint64      seq)
{
  return get_message (self, conversation_id, seq, TRUE);
}

/**
 * ssq_cache_decorate_message:
 * Puts into a message snapshot what its row shows besides the message: the
 * sender's name (from the users the cache keeps in memory) and, with
 * @with_quote, the message it replies to.
 */
void
ssq_cache_decorate_message (SsqCache   *self,
                            SsqMessage *message,
                            gboolean    with_quote)
{
  g_clear_object (&message->sender_user);
  message->sender_user = ssq_cache_get_user (self, message->sender);
  g_clear_object (&message->quoted);
  if (with_quote && message->reply_to > 0)
    message->quoted = get_message (self, message->conversation_id, message->reply_to, FALSE);
}

/**
 * ssq_cache_get_messages:
 * @before_seq: return messages below this seq; 0 for the newest
 * @out_complete: (out) (optional): TRUE when the cache held the whole page:
 *   every seq from right below @before_seq down to @limit messages or to
 *   the first message. FALSE means a gap the server must fill.
 *
 * Returns: (transfer full) (element-type SsqMessage): up to @limit messages,
 * ascending by seq.
 */
GPtrArray *
ssq_cache_get_messages (SsqCache   *self,
                        const char *conversation_id,
                        gint64      before_seq,
                        guint       limit,
                        gboolean   *out_complete)
{
  return messages_page (self, conversation_id, before_seq, limit, out_complete, TRUE);
}

static GPtrArray *
messages_page (SsqCache   *self,
               const char *conversation_id,
               gint64      before_seq,
               guint       limit,
               gboolean   *out_complete,
               gboolean    with_quotes)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (g_object_unref);
  gint64 peer_delivered, peer_read, expected;
  gboolean contiguous = TRUE;
  sqlite3_stmt *stmt;

  g_return_val_if_fail (SSQ_IS_CACHE (self), out);

  if (out_complete != NULL)
    *out_complete = FALSE;
  stmt = ssq_db_stmt (&self->db,
                      "SELECT " SSQ_CACHE_MESSAGE_COLUMNS " FROM messages m "
                      "WHERE m.conversation_id = ? AND m.seq < ? ORDER BY m.seq DESC LIMIT ?", NULL);
  if (stmt == NULL)
    return out;
  ssq_cache_get_peer_marks (self, conversation_id, &peer_delivered, &peer_read);
  ssq_db_bind_text (stmt, 1, conversation_id);
  sqlite3_bind_int64 (stmt, 2, before_seq > 0 ? before_seq : G_MAXINT64);
  sqlite3_bind_int64 (stmt, 3, limit);
  expected = before_seq > 0 ? before_seq - 1 : -1;
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      SsqMessage *message = ssq_cache_message_from_row (stmt, self->self_id, peer_delivered, peer_read);

      if (expected >= 0 && message->seq != expected)
        contiguous = FALSE;
      expected = message->seq - 1;
      g_ptr_array_add (out, message);
    }
  sqlite3_reset (stmt);
  /* After the reset: a quote runs the same statement. */
  for (guint i = 0; i < out->len; i++)
    ssq_cache_decorate_message (self, out->pdata[i], with_quotes);

  /* Rows came newest first; callers want seq order. */
  for (guint i = 0; i < out->len / 2; i++)
    {
      gpointer tmp = out->pdata[i];

      out->pdata[i] = out->pdata[out->len - 1 - i];
      out->pdata[out->len - 1 - i] = tmp;
    }
  if (out_complete != NULL)
    *out_complete = contiguous && (out->len == limit || expected == 0 || before_seq == 1);
  return out;
}

typedef struct {
  gboolean existed;
  gboolean was_deleted;
  gboolean same;    /* nothing to write: held as it is, or held newer */
} OldRow;

static OldRow
old_row (SsqCache   *self,
         SsqMessage *message,
         const char *media_text)
{
  sqlite3_stmt *stmt = ssq_db_stmt (&self->db,
                                    "SELECT deleted, body, edited_at, id, media, rev FROM messages "
                                    "WHERE conversation_id = ? AND seq = ?", NULL);
  OldRow old = { FALSE, FALSE, FALSE };

  if (stmt == NULL)
    return old;
  ssq_db_bind_text (stmt, 1, message->conversation_id);
  sqlite3_bind_int64 (stmt, 2, message->seq);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    {
      gint64 held_rev = sqlite3_column_int64 (stmt, 5);

      old.existed = TRUE;
      old.was_deleted = sqlite3_column_int (stmt, 0);
      /* An older copy than the one held (a history page or an
       * acknowledgement that crossed an edit, a deletion or a thumbnail
       * update) changes nothing: what is held is newer. */
      old.same = held_rev > message->rev ||
                 (held_rev == message->rev &&
                  old.was_deleted == message->deleted &&
                  g_strcmp0 ((const char *) sqlite3_column_text (stmt, 1), message->body) == 0 &&
                  sqlite3_column_int64 (stmt, 2) == message->edited_at &&
                  g_strcmp0 ((const char *) sqlite3_column_text (stmt, 3), message->id) == 0 &&
                  g_strcmp0 ((const char *) sqlite3_column_text (stmt, 4), media_text) == 0);
    }
  sqlite3_reset (stmt);
  return old;
}

/**
 * ssq_cache_index_pending:
 * Adds the messages stored since the last call to the full-text index, in
 * one statement. Runs before anything that could fire the index's edit or
 * delete triggers on such a message (an entry they would take out must be
 * there), and before a batch commits.
 */
gboolean
ssq_cache_index_pending (SsqCache  *self,
                         GError   **error)
{
  sqlite3_stmt *stmt;

  if (self->unindexed_from == 0)
    return TRUE;
  stmt = ssq_db_stmt (&self->db,
                      "INSERT INTO messages_fts (rowid, body) "
                      "SELECT rowid, body FROM messages WHERE rowid >= ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, self->unindexed_from);
  if (!ssq_db_step_done (&self->db, stmt, error))
    return FALSE;
  self->unindexed_from = 0;
  return TRUE;
}

static void
bind_message (sqlite3_stmt *stmt,
              SsqMessage   *message,
              const char   *media_text)
{
  ssq_db_bind_text (stmt, 1, message->conversation_id);
  sqlite3_bind_int64 (stmt, 2, message->seq);
  ssq_db_bind_text (stmt, 3, message->id);
  ssq_db_bind_text (stmt, 4, message->sender);
  ssq_db_bind_text (stmt, 5, message->client_id);
  /* A deleted message's text leaves the cache (and its search index) even
   * if a server sent it along. */
  ssq_db_bind_text (stmt, 6, message->deleted ? "" : message->body);
  sqlite3_bind_int64 (stmt, 7, message->created_at);
  if (message->edited_at > 0)
    sqlite3_bind_int64 (stmt, 8, message->edited_at);
  else
    sqlite3_bind_null (stmt, 8);
  sqlite3_bind_int (stmt, 9, message->deleted);
  if (message->reply_to > 0)
    sqlite3_bind_int64 (stmt, 10, message->reply_to);
  else
    sqlite3_bind_null (stmt, 10);
  ssq_db_bind_text (stmt, 11, message->deleted ? NULL : media_text);
  sqlite3_bind_int64 (stmt, 12, message->rev);
}

/* The common case, a message the cache does not hold, in one statement;
 * *@out_inserted is FALSE when a row was there (or the insert was refused,
 * which the upsert that follows then reports). */
static gboolean
insert_new (SsqCache    *self,
            SsqMessage  *message,
            const char  *media_text,
            gboolean    *out_inserted,
            GError     **error)
{
  sqlite3_stmt *stmt = ssq_db_stmt (&self->db,
                                    "INSERT OR IGNORE INTO messages (conversation_id, seq, id, sender, "
                                    "  client_id, body, created_at, edited_at, deleted, reply_to, media, rev) "
                                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", error);

  *out_inserted = FALSE;
  if (stmt == NULL)
    return FALSE;
  bind_message (stmt, message, media_text);
  if (!ssq_db_step_done (&self->db, stmt, error))
    return FALSE;
  *out_inserted = sqlite3_changes (self->db.db) == 1;
  return TRUE;
}

static gboolean
upsert_message (SsqCache    *self,
                SsqMessage  *message,
                const char  *media_text,
                GError     **error)
{
  sqlite3_stmt *stmt = ssq_db_stmt (&self->db,
                                    "INSERT INTO messages (conversation_id, seq, id, sender, client_id, "
                                    "  body, created_at, edited_at, deleted, reply_to, media, rev) "
                                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                                    "ON CONFLICT (conversation_id, seq) DO UPDATE SET "
                                    "id = excluded.id, body = excluded.body, "
                                    "edited_at = excluded.edited_at, deleted = excluded.deleted, "
                                    "media = excluded.media, rev = excluded.rev "
                                    /* Never back to an older copy (see old_row). */
                                    "WHERE excluded.rev >= messages.rev",
                                    error);

  if (stmt == NULL)
    return FALSE;
  bind_message (stmt, message, media_text);
  return ssq_db_step_done (&self->db, stmt, error);
}

/* Stores the row, and tells what was there before. A new row waits for
 * the search index (see ssq_cache_index_pending), which outside a batch
 * comes at once. Rows only ever get higher rowids while some wait:
 * whatever removes or changes one indexes the waiting ones first. */
static gboolean
write_message (SsqCache    *self,
               SsqMessage  *message,
               OldRow      *old,
               GError     **error)
{
  /* A media list changes without an edit: the server fills in an image's
   * size once its thumbnail is made, and sends the message again. */
  g_autofree char *media_text = message->deleted ? NULL : ssq_media_list_to_text (message->media);
  gboolean inserted;

  *old = (OldRow) { FALSE, FALSE, FALSE };
  if (!insert_new (self, message, media_text, &inserted, error))
    return FALSE;
  if (inserted)
    {
      if (self->unindexed_from == 0)
        self->unindexed_from = sqlite3_last_insert_rowid (self->db.db);
    }
  else
    {
      *old = old_row (self, message, media_text);
      if (old->same)
        return TRUE;
      if (!ssq_cache_index_pending (self, error) || !upsert_message (self, message, media_text, error))
        return FALSE;
    }
  return self->batch_depth > 0 || ssq_cache_index_pending (self, error);
}

/* The conversation's counters after a message; found is FALSE when the
 * cache holds no such conversation. */
typedef struct {
  gboolean         found;
  SsqCacheCounters values;
} Counters;

/* Whether the cache may hold messages of the conversation above @seq: the
 * snapshot's last message is the highest held, when there is a snapshot. */
static gboolean
may_hold_above (SsqConversation *held,
                gint64           seq)
{
  SsqMessage *last = held ? ssq_conversation_get_last_message (held) : NULL;

  return held == NULL || (last != NULL && ssq_message_get_seq (last) > seq);
}

/* The server moves a sender's own markers to the message they send, and
 * recounts the unread ones. When the message is above every one held (the
 * common case: what this client has just sent), none is above the new read
 * marker and the count is 0, with no read; else the cache recounts. */
static SsqCacheCounters *
move_own_markers (SsqCache          *self,
                  SsqMessage        *message,
                  SsqCacheCounters  *counters,
                  GError           **error)
{
  if (counters->last_seq <= message->seq)
    {
      counters->delivered_seq = MAX (counters->delivered_seq, message->seq);
      counters->read_seq = MAX (counters->read_seq, message->seq);
      counters->unread = 0;
      return counters;
    }
  if (!ssq_cache_set_markers (self, message->conversation_id, self->self_id,
                              message->seq, message->seq, error))
    return NULL;
  return ssq_cache_counters_get (self, message->conversation_id, error);
}

/* *@out_same: the cache held the message unchanged, and nothing was done.
 * The conversation's row is not written here: its counters move in memory
 * (see ssq-cache-counters.c), and reach the row once per batch. */
static gboolean
store_message_steps (SsqCache        *self,
                     SsqMessage      *message,
                     SsqConversation *held,
                     gboolean        *out_same,
                     Counters        *out,
                     GError         **error)
{
  gboolean own = g_strcmp0 (message->sender, self->self_id) == 0;
  SsqCacheCounters *counters;
  gint64 delta = 0;
  GError *local_error = NULL;
  OldRow old;

  *out = (Counters) { FALSE };
  if (!write_message (self, message, &old, error))
    return FALSE;
  *out_same = old.same;
  if (old.same)
    return TRUE;
  if (!own && !old.existed && !message->deleted)
    delta = 1;
  else if (!own && old.existed && !old.was_deleted && message->deleted)
    delta = -1;

  counters = ssq_cache_counters_get (self, message->conversation_id, &local_error);
  if (counters != NULL && own && !old.existed)
    counters = move_own_markers (self, message, counters, &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, local_error);
      return FALSE;
    }
  if (counters == NULL)
    return TRUE;
  ssq_cache_counters_count_message (counters, message, delta);
  /* The cursor moved onto this message: messages held above it (paged in
   * earlier) may let it go further. */
  if (counters->sync_seq == message->seq && may_hold_above (held, message->seq))
    {
      gint64 next = ssq_cache_next_cursor (self, message->conversation_id, message->seq, error);

      if (next < 0)
        return FALSE;
      counters->sync_seq = next;
    }
  *out = (Counters) { TRUE, *counters };
  return TRUE;
}

/* The snapshot of @message as stored: what a read would give, made from
 * what was written. */
static SsqMessage *
stored_snapshot (SsqCache   *self,
                 SsqMessage *message)
{
  SsqMessage *stored = ssq_message_copy (message);

  if (stored->deleted)
    {
      g_free (stored->body), stored->body = g_strdup ("");
      g_clear_pointer (&stored->media, g_ptr_array_unref);
    }
  g_clear_pointer (&stored->error, g_free);
  stored->outbox_position = 0;
  stored->status = SSQ_MESSAGE_SENT;
  if (g_strcmp0 (stored->sender, self->self_id) == 0)
    {
      gint64 peer_delivered, peer_read;

      ssq_cache_get_peer_marks (self, stored->conversation_id, &peer_delivered, &peer_read);
      if (stored->seq <= peer_read)
        stored->status = SSQ_MESSAGE_READ;
      else if (stored->seq <= peer_delivered)
        stored->status = SSQ_MESSAGE_DELIVERED;
    }
  ssq_cache_decorate_message (self, stored, TRUE);
  return stored;
}

/* Moves the conversation's snapshot, when one is held, to the counters
 * the write returned and to @stored as its last message if it is one. */
static void
update_snapshot (SsqCache        *self,
                 SsqConversation *held,
                 SsqMessage      *stored,
                 const Counters  *counters)
{
  SsqConversation *next;
  SsqMessage *last;

  if (held == NULL || !counters->found)
    {
      ssq_cache_forget_conversation (self, stored->conversation_id);
      return;
    }
  next = ssq_conversation_copy (held);
  next->last_seq = counters->values.last_seq;
  next->read_seq = counters->values.read_seq;
  next->unread = counters->values.unread;
  next->last_activity = counters->values.last_activity;
  last = ssq_conversation_get_last_message (held);
  if (last == NULL || ssq_message_get_seq (last) <= stored->seq)
    g_set_object (&next->last_message, stored);
  g_hash_table_replace (self->conversations, g_strdup (stored->conversation_id), next);
}

/**
 * ssq_cache_apply_message:
 * @out_stored: (out) (optional) (transfer full): the message's snapshot as
 *   stored, or NULL when the cache held it unchanged.
 *
 * Stores a message from the server, removing it from the outbox when it is
 * the acknowledgement of one of ours, and keeps the conversation's counters,
 * cursor and snapshot in step, all without reading back what it wrote.
 */
gboolean
ssq_cache_apply_message (SsqCache    *self,
                         SsqMessage  *message,
                         SsqMessage **out_stored,
                         GError     **error)
{
  g_autoptr(SsqConversation) held = NULL;
  g_autoptr(SsqMessage) stored = NULL;
  gboolean same = FALSE;
  Counters counters;

  g_return_val_if_fail (SSQ_IS_CACHE (self), FALSE);
  g_return_val_if_fail (SSQ_IS_MESSAGE (message) && message->seq > 0, FALSE);

  if (out_stored != NULL)
    *out_stored = NULL;
  if (g_strcmp0 (message->sender, self->self_id) == 0 && message->client_id != NULL &&
      !ssq_cache_outbox_remove (self, message->client_id, error))
    return FALSE;

  held = g_hash_table_lookup (self->conversations, message->conversation_id);
  if (held != NULL)
    g_object_ref (held);
  if (self->batch_depth > 0)
    {
      /* No savepoint inside a batch: each one makes the full-text index
       * write out what it holds in memory, which costs more than the
       * message. A step that fails spoils the whole batch instead, which
       * then rolls back (and the next sync brings it again). */
      if (!store_message_steps (self, message, held, &same, &counters, error))
        {
          self->batch_failed = TRUE;
          ssq_cache_forget_snapshots (self);
          ssq_cache_counters_drop (self);
          return FALSE;
        }
    }
  else if (!ssq_db_run (&self->db, "SAVEPOINT message", error))
    return FALSE;
  else if (!store_message_steps (self, message, held, &same, &counters, error) ||
           !ssq_cache_counters_settle (self, error) ||
           !ssq_db_run (&self->db, "RELEASE message", error))
    {
      ssq_cache_counters_drop (self);
      ssq_db_run (&self->db, "ROLLBACK TO message", NULL);
      ssq_db_run (&self->db, "RELEASE message", NULL);
      ssq_cache_forget_conversation (self, message->conversation_id);
      return FALSE;
    }
  if (same)
    return TRUE;
  stored = stored_snapshot (self, message);
  update_snapshot (self, held, stored, &counters);
  if (out_stored != NULL)
    *out_stored = g_steal_pointer (&stored);
  return TRUE;
}

/**
 * ssq_cache_store_message:
 * @out_changed: (out) (optional): TRUE when the message is new or differs
 *   from what the cache held (an edit or a deletion).
 *
 * Like ssq_cache_apply_message (), for callers that need no snapshot.
 */
gboolean
ssq_cache_store_message (SsqCache    *self,
                         SsqMessage  *message,
                         gboolean    *out_changed,
                         GError     **error)
{
  g_autoptr(SsqMessage) stored = NULL;

  if (!ssq_cache_apply_message (self, message, &stored, error))
    return FALSE;
  if (out_changed != NULL)
    *out_changed = stored != NULL;
  return TRUE;
}

/* Builds an FTS5 query that matches every word of @text as a prefix, with
 * the user's text quoted so that FTS5 operators in it are plain words. */
static char *
fts_query (const char *text)
{
  g_auto(GStrv) words = g_strsplit_set (text, " \t\r\n", -1);
  g_autoptr(GString) query = g_string_new (NULL);

  for (guint i = 0; words[i] != NULL; i++)
    {
      g_auto(GStrv) quotes = NULL;
      g_autofree char *escaped = NULL;

      if (words[i][0] == '\0')
        continue;
      quotes = g_strsplit (words[i], "\"", -1);
      escaped = g_strjoinv ("\"\"", quotes);
      g_string_append_printf (query, "%s\"%s\"*", query->len ? " " : "", escaped);
    }
  return g_string_free (g_steal_pointer (&query), FALSE);
}

/**
 * ssq_cache_search:
 * @conversation_id: (nullable): search one conversation only
 *
 * Full-text search over the cached messages (not deleted ones): every word
 * of @text must appear, as a word or the start of one, ignoring case and
 * diacritics.
 *
 * Returns: (transfer full) (element-type SsqMessage): matches, newest first.
 */
GPtrArray *
ssq_cache_search (SsqCache    *self,
                  const char  *text,
                  const char  *conversation_id,
                  guint        limit,
                  GError     **error)
{
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func (g_object_unref);
  g_autofree char *query = NULL;
  sqlite3_stmt *stmt;
  int rc;

  g_return_val_if_fail (SSQ_IS_CACHE (self) && text != NULL, NULL);

  query = fts_query (text);
  if (*query == '\0')
    return g_steal_pointer (&out);
  stmt = ssq_db_stmt (&self->db,
                      "SELECT " SSQ_CACHE_MESSAGE_COLUMNS " FROM messages_fts f "
                      "JOIN messages m ON m.rowid = f.rowid "
                      "WHERE messages_fts MATCH ?1 AND m.deleted = 0 "
                      "AND (?2 IS NULL OR m.conversation_id = ?2) "
                      "ORDER BY m.created_at DESC, m.seq DESC LIMIT ?3", error);
  if (stmt == NULL)
    return NULL;
  ssq_db_bind_text (stmt, 1, query);
  ssq_db_bind_text (stmt, 2, conversation_id);
  sqlite3_bind_int64 (stmt, 3, limit);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (out, ssq_cache_message_from_row (stmt, self->self_id, 0, 0));
  if (rc != SQLITE_DONE)
    {
      ssq_db_fail (&self->db, error);
      sqlite3_reset (stmt);
      return NULL;
    }
  sqlite3_reset (stmt);
  return g_steal_pointer (&out);
}
