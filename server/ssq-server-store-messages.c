/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-store-messages.c: message rows, seq assignment and history. */
#include "ssq-server-store-private.h"
#include "ssq-proto.h"

#define MESSAGE_COLUMNS \
  "id, conversation_id, seq, sender, client_id, body, created_at, edited_at, deleted, reply_to, rev"

static SsqMessageRow *
message_from_row (sqlite3_stmt *stmt)
{
  SsqMessageRow *m = g_new0 (SsqMessageRow, 1);

  m->id = ssq_server_store_column_dup (stmt, 0);
  m->conversation_id = ssq_server_store_column_dup (stmt, 1);
  m->seq = sqlite3_column_int64 (stmt, 2);
  m->sender = ssq_server_store_column_dup (stmt, 3);
  m->client_id = ssq_server_store_column_dup (stmt, 4);
  m->body = ssq_server_store_column_dup (stmt, 5);
  m->created_at = sqlite3_column_int64 (stmt, 6);
  m->edited_at = sqlite3_column_int64 (stmt, 7);
  m->deleted = sqlite3_column_int (stmt, 8) != 0;
  m->reply_to = sqlite3_column_int64 (stmt, 9);
  m->rev = sqlite3_column_int64 (stmt, 10);
  return m;
}

/* NULL without an error when there is no such message. */
static SsqMessageRow *
message_query (SsqServerStore  *store,
               sqlite3_stmt    *stmt,
               GError         **error)
{
  SsqMessageRow *m = NULL;
  int rc = sqlite3_step (stmt);

  if (rc == SQLITE_ROW)
    m = message_from_row (stmt);
  else if (rc != SQLITE_DONE)
    ssq_server_store_fail (store, error);
  sqlite3_reset (stmt);
  return m;
}

SsqMessageRow *
ssq_server_store_message_by_client_id (SsqServerStore  *store,
                                       const char      *conversation_id,
                                       const char      *sender,
                                       const char      *client_id,
                                       GError         **error)
{
  sqlite3_stmt *stmt = ssq_server_store_stmt (store,
    "SELECT " MESSAGE_COLUMNS " FROM messages "
    "WHERE conversation_id = ? AND sender = ? AND client_id = ?", error);

  if (stmt == NULL)
    return NULL;
  ssq_server_store_bind_text (stmt, 1, conversation_id);
  ssq_server_store_bind_text (stmt, 2, sender);
  ssq_server_store_bind_text (stmt, 3, client_id);
  return message_query (store, stmt, error);
}

SsqMessageRow *
ssq_server_store_message_get (SsqServerStore  *store,
                              const char      *conversation_id,
                              gint64           seq,
                              GError         **error)
{
  sqlite3_stmt *stmt = ssq_server_store_stmt (store,
    "SELECT " MESSAGE_COLUMNS " FROM messages WHERE conversation_id = ? AND seq = ?", error);

  if (stmt == NULL)
    return NULL;
  ssq_server_store_bind_text (stmt, 1, conversation_id);
  sqlite3_bind_int64 (stmt, 2, seq);
  return message_query (store, stmt, error);
}

/* Runs @bump, an UPDATE of one conversation counter (?1 = conversation id)
 * ending in RETURNING, and stores the new value in @out. Inside a
 * transaction, so that the counter and the row that takes it move together. */
static gboolean
bump_counter (SsqServerStore  *store,
              sqlite3_stmt    *bump,
              const char      *conversation_id,
              gint64          *out,
              GError         **error)
{
  int rc;

  g_assert (!sqlite3_get_autocommit (store->base.db));
  ssq_server_store_bind_text (bump, 1, conversation_id);
  rc = sqlite3_step (bump);
  if (rc != SQLITE_ROW)
    {
      sqlite3_reset (bump);
      if (rc == SQLITE_DONE)
        {
          g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_NOT_FOUND, "No such conversation");
          return FALSE;
        }
      return ssq_server_store_fail (store, error);
    }
  *out = sqlite3_column_int64 (bump, 0);
  /* RETURNING only completes the update once stepped to the end. */
  return ssq_server_store_step_done (store, bump, error);
}

/* Assigns the next seq of the conversation to @message and stores it. Must run
 * inside a transaction so that the counter and the row move together. The
 * row goes in first, taking last_seq + 1: a resent client_id then fails
 * (CONFLICT) before the counter moved, and no seq is skipped. */
gboolean
ssq_server_store_message_append (SsqServerStore  *store,
                                 SsqMessageRow   *message,
                                 GError         **error)
{
  sqlite3_stmt *insert = ssq_server_store_stmt (store,
    "INSERT INTO messages (" MESSAGE_COLUMNS ") "
    "SELECT ?1, ?2, last_seq + 1, ?3, ?4, ?5, ?6, NULL, 0, ?7, 0 FROM conversations WHERE id = ?2 "
    "RETURNING seq", error);
  sqlite3_stmt *bump;
  int rc;

  if (insert == NULL)
    return FALSE;
  g_assert (!sqlite3_get_autocommit (store->base.db));
  ssq_server_store_bind_text (insert, 1, message->id);
  ssq_server_store_bind_text (insert, 2, message->conversation_id);
  ssq_server_store_bind_text (insert, 3, message->sender);
  ssq_server_store_bind_text (insert, 4, message->client_id);
  ssq_server_store_bind_text (insert, 5, message->body);
  sqlite3_bind_int64 (insert, 6, message->created_at);
  if (message->reply_to > 0)
    sqlite3_bind_int64 (insert, 7, message->reply_to);
  else
    sqlite3_bind_null (insert, 7);
  rc = sqlite3_step (insert);
  if (rc != SQLITE_ROW)
    {
      sqlite3_reset (insert);
      if (rc == SQLITE_DONE)
        {
          g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_NOT_FOUND, "No such conversation");
          return FALSE;
        }
      return ssq_server_store_fail (store, error);
    }
  message->seq = sqlite3_column_int64 (insert, 0);
  if (!ssq_server_store_step_done (store, insert, error))
    return FALSE;

  bump = ssq_server_store_stmt (store,
    "UPDATE conversations SET last_seq = ?2, updated_at = ?3 WHERE id = ?1", error);
  if (bump == NULL)
    return FALSE;
  ssq_server_store_bind_text (bump, 1, message->conversation_id);
  sqlite3_bind_int64 (bump, 2, message->seq);
  sqlite3_bind_int64 (bump, 3, message->created_at);
  return ssq_server_store_step_done (store, bump, error);
}

/* Takes the conversation's next rev for @message (an edit or a deletion)
 * and stores its new state. Must run inside a transaction so that the
 * counter and the row move together. */
gboolean
ssq_server_store_message_update (SsqServerStore  *store,
                                 SsqMessageRow   *message,
                                 GError         **error)
{
  sqlite3_stmt *bump = ssq_server_store_stmt (store,
    "UPDATE conversations SET rev = rev + 1 WHERE id = ?1 RETURNING rev", error);
  sqlite3_stmt *stmt;

  if (bump == NULL || !bump_counter (store, bump, message->conversation_id, &message->rev, error))
    return FALSE;

  stmt = ssq_server_store_stmt (store,
    "UPDATE messages SET body = ?, edited_at = ?, deleted = ?, rev = ? "
    "WHERE conversation_id = ? AND seq = ?", error);
  if (stmt == NULL)
    return FALSE;
  ssq_server_store_bind_text (stmt, 1, message->body);
  if (message->edited_at > 0)
    sqlite3_bind_int64 (stmt, 2, message->edited_at);
  else
    sqlite3_bind_null (stmt, 2);
  sqlite3_bind_int (stmt, 3, message->deleted ? 1 : 0);
  sqlite3_bind_int64 (stmt, 4, message->rev);
  ssq_server_store_bind_text (stmt, 5, message->conversation_id);
  sqlite3_bind_int64 (stmt, 6, message->seq);
  return ssq_server_store_step_done (store, stmt, error);
}

/**
 * ssq_server_store_messages_changed:
 * Messages up to @max_seq changed (edited or deleted) after @after_rev, at
 * most @limit + 1 of them so that callers can tell whether there is more,
 * in ascending rev order: a prefix of them covers every change up to the
 * rev of its last one.
 */
GPtrArray *
ssq_server_store_messages_changed (SsqServerStore  *store,
                                   const char      *conversation_id,
                                   gint64           after_rev,
                                   gint64           max_seq,
                                   guint            limit,
                                   GError         **error)
{
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify) ssq_message_row_free);
  /* "rev > 0" lets SQLite use the partial index messages_by_rev. */
  sqlite3_stmt *stmt = ssq_server_store_stmt (store,
    "SELECT " MESSAGE_COLUMNS " FROM messages WHERE conversation_id = ? AND rev > 0 "
    "AND rev > ? AND seq <= ? ORDER BY rev ASC LIMIT ?", error);
  int rc;

  if (stmt == NULL)
    return NULL;
  ssq_server_store_bind_text (stmt, 1, conversation_id);
  sqlite3_bind_int64 (stmt, 2, after_rev);
  sqlite3_bind_int64 (stmt, 3, max_seq);
  sqlite3_bind_int64 (stmt, 4, (gint64) limit + 1);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (out, message_from_row (stmt));
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      ssq_server_store_fail (store, error);
      return NULL;
    }
  return g_steal_pointer (&out);
}

/**
 * ssq_server_store_messages_range:
 * Messages with after_seq < seq < before_seq (before_seq 0 = no upper bound),
 * at most @limit + 1 of them so that callers can tell whether there is more:
 * the newest ones when @newest, else the oldest ones. Always returned in
 * ascending seq order.
 */
GPtrArray *
ssq_server_store_messages_range (SsqServerStore  *store,
                                 const char      *conversation_id,
                                 gint64           after_seq,
                                 gint64           before_seq,
                                 guint            limit,
                                 gboolean         newest,
                                 GError         **error)
{
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify) ssq_message_row_free);
  sqlite3_stmt *stmt = ssq_server_store_stmt (store, newest
    ? "SELECT " MESSAGE_COLUMNS " FROM messages WHERE conversation_id = ? AND seq > ? "
      "AND seq < ? ORDER BY seq DESC LIMIT ?"
    : "SELECT " MESSAGE_COLUMNS " FROM messages WHERE conversation_id = ? AND seq > ? "
      "AND seq < ? ORDER BY seq ASC LIMIT ?", error);
  int rc;

  if (stmt == NULL)
    return NULL;
  ssq_server_store_bind_text (stmt, 1, conversation_id);
  sqlite3_bind_int64 (stmt, 2, after_seq);
  sqlite3_bind_int64 (stmt, 3, before_seq > 0 ? before_seq : G_MAXINT64);
  sqlite3_bind_int64 (stmt, 4, (gint64) limit + 1);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (out, message_from_row (stmt));
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      ssq_server_store_fail (store, error);
      return NULL;
    }
  if (newest)
    {
      /* Reverse into ascending order. */
      for (guint i = 0, j = out->len ? out->len - 1 : 0; i < j; i++, j--)
        {
          gpointer tmp = out->pdata[i];
          out->pdata[i] = out->pdata[j];
          out->pdata[j] = tmp;
        }
    }
  return g_steal_pointer (&out);
}
