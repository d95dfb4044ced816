/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-store-messages.c: message rows, seq assignment and history. */
#include "ssq-server-store-private.h"
#include "ssq-proto.h"
#include "ssq-wire.h"

#include <string.h>

#define MESSAGE_FIELDS \
  "id, conversation_id, seq, sender, client_id, body, created_at, edited_at, deleted, reply_to, rev"
#define MESSAGE_COLUMNS MESSAGE_FIELDS ", json, media"

/**
 * ssq_message_row_to_wire:
 * The one mapping of a message row to the codec's struct (borrowing the
 * row's strings). A deleted message's body is empty whatever the row
 * still holds.
 */
void
ssq_message_row_to_wire (const SsqMessageRow *m,
                         SsqWireMessage      *out)
{
  *out = (SsqWireMessage) {
    .id = m->id,
    .conversation_id = m->conversation_id,
    .seq = m->seq,
    .sender = m->sender,
    .client_id = m->client_id,
    .body = m->deleted || m->body == NULL ? "" : m->body,
    .created_at = m->created_at,
    .edited_at = m->edited_at,
    .deleted = m->deleted,
    .reply_to = m->reply_to,
    .rev = m->rev,
    .media = m->deleted ? NULL : m->media,
  };
}

/**
 * ssq_server_store_message_encode:
 * The `message` object of @m as the wire codec writes it: what the `json`
 * column holds and history pages copy.
 *
 * Returns: (transfer full): the JSON text
 */
char *
ssq_server_store_message_encode (const SsqMessageRow *m,
                                 gsize               *out_length)
{
  SsqWireMessage wire;
  GString *text;

  ssq_message_row_to_wire (m, &wire);
  /* The fixed part of a message object is under 256 bytes. */
  text = g_string_sized_new (256 + strlen (wire.body));
  ssq_wire_message_write (text, &wire);
  if (out_length != NULL)
    *out_length = text->len;
  return g_string_free (text, FALSE);
}

static const char *
value_text (sqlite3_value *value)
{
  const unsigned char *text = sqlite3_value_text (value);

  return text != NULL ? (const char *) text : "";
}

/* A message's media array from its stored wire form (NULL: none). */
static JsonArray *
media_parse (const char *text)
{
  g_autoptr(JsonNode) node = NULL;

  if (text == NULL || text[0] == '\0')
    return NULL;
  node = json_from_string (text, NULL);
  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    return NULL;
  return json_array_ref (json_node_get_array (node));
}

/* ssq_message_json(MESSAGE_FIELDS[, media]): the stored wire form of a row,
 * for the migration that fills the column and for every statement that
 * writes a message (on the writer thread); media is the wire form of its
 * media array, or NULL. */
static void
message_json_fn (sqlite3_context  *context,
                 int               argc,
                 sqlite3_value   **argv)
{
  g_autoptr(JsonArray) media = NULL;
  SsqMessageRow m = {
    .id = (char *) value_text (argv[0]),
    .conversation_id = (char *) value_text (argv[1]),
    .seq = sqlite3_value_int64 (argv[2]),
    .sender = (char *) value_text (argv[3]),
    .client_id = (char *) value_text (argv[4]),
    .body = (char *) value_text (argv[5]),
    .created_at = sqlite3_value_int64 (argv[6]),
    .edited_at = sqlite3_value_int64 (argv[7]),
    .deleted = sqlite3_value_int (argv[8]) != 0,
    .reply_to = sqlite3_value_int64 (argv[9]),
    .rev = sqlite3_value_int64 (argv[10]),
  };
  gsize len;
  char *json;

  g_assert (argc == 11 || argc == 12);
  if (argc == 12)
    m.media = media = media_parse ((const char *) sqlite3_value_text (argv[11]));
  json = ssq_server_store_message_encode (&m, &len);
  sqlite3_result_text64 (context, json, len, g_free, SQLITE_UTF8);
}

gboolean
ssq_server_store_register_functions (SsqServerStore  *store,
                                     GError         **error)
{
  for (int n_args = 11; n_args <= 12; n_args++)
    if (sqlite3_create_function_v2 (store->base.db, "ssq_message_json", n_args,
                                    SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, message_json_fn,
                                    NULL, NULL, NULL) != SQLITE_OK)
      return ssq_server_store_fail (store, error);
  return TRUE;
}

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
  m->json = ssq_server_store_column_dup (stmt, 11);
  m->media = media_parse ((const char *) sqlite3_column_text (stmt, 12));
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

/* The conversation's last seq, inside the writer's transaction. Raw: a
 * send's own statement (ssq-server-store-deferred.c). */
gboolean
ssq_server_store_last_seq_raw (SsqServerStore  *store,
                               const char      *conversation_id,
                               gint64          *out,
                               GError         **error)
{
  sqlite3_stmt *stmt = ssq_server_store_stmt_raw (store,
    "SELECT last_seq FROM conversations WHERE id = ?1", error);
  int rc;

  if (stmt == NULL)
    return FALSE;
  ssq_server_store_bind_text (stmt, 1, conversation_id);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    *out = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  if (rc == SQLITE_ROW)
    return TRUE;
  if (rc == SQLITE_DONE)
    {
      g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_NOT_FOUND, "No such conversation");
      return FALSE;
    }
  return ssq_server_store_fail (store, error);
}

/* A conversation's counters after a send. Raw, as last_seq_raw. */
gboolean
ssq_server_store_set_last_seq_raw (SsqServerStore  *store,
                                   const char      *conversation_id,
                                   gint64           last_seq,
                                   gint64           updated_at,
                                   GError         **error)
{
  sqlite3_stmt *bump = ssq_server_store_stmt_raw (store,
    "UPDATE conversations SET last_seq = ?2, updated_at = ?3 WHERE id = ?1", error);

  if (bump == NULL)
    return FALSE;
  ssq_server_store_bind_text (bump, 1, conversation_id);
  sqlite3_bind_int64 (bump, 2, last_seq);
  sqlite3_bind_int64 (bump, 3, updated_at);
  return ssq_server_store_step_done (store, bump, error);
}

/* Assigns the next seq of the conversation to @message and stores it. Must run
 * inside a transaction so that the counter and the row move together. The
 * row goes in first: a resent client_id then fails (CONFLICT) before the
 * counter moved, and no seq is skipped.
 *
 * Single-row statements, on purpose: SQLite gives a statement that may
 * write several rows (INSERT … SELECT, RETURNING) a statement journal, a
 * copy of every page it touches, which cost the writer thread more than
 * the insert itself. While the writer defers, the conversation's counters
 * are held in memory and written once per batch. The wire form is encoded
 * here, on the writer thread: the ack and the event copy it, and the main
 * loop encodes nothing. */
gboolean
ssq_server_store_message_append (SsqServerStore  *store,
                                 SsqMessageRow   *message,
                                 GError         **error)
{
  gboolean deferring = ssq_server_store_deferring (store);
  sqlite3_stmt *insert;
  gint64 last_seq = 0;
  gsize json_len;

  g_assert (!sqlite3_get_autocommit (store->base.db));
  if (deferring ? !ssq_server_store_deferred_last_seq (store, message->conversation_id,
                                                       &last_seq, error)
                : !ssq_server_store_last_seq_raw (store, message->conversation_id,
                                                  &last_seq, error))
    return FALSE;
  insert = ssq_server_store_stmt_raw (store,
    "INSERT INTO messages (" MESSAGE_FIELDS ", json) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, NULL, 0, ?8, 0, ?9)", error);
  if (insert == NULL)
    return FALSE;
  message->seq = last_seq + 1;
  g_free (message->json);
  message->json = ssq_server_store_message_encode (message, &json_len);
  ssq_server_store_bind_text (insert, 1, message->id);
  ssq_server_store_bind_text (insert, 2, message->conversation_id);
  sqlite3_bind_int64 (insert, 3, message->seq);
  ssq_server_store_bind_text (insert, 4, message->sender);
  ssq_server_store_bind_text (insert, 5, message->client_id);
  ssq_server_store_bind_text (insert, 6, message->body);
  sqlite3_bind_int64 (insert, 7, message->created_at);
  if (message->reply_to > 0)
    sqlite3_bind_int64 (insert, 8, message->reply_to);
  else
    sqlite3_bind_null (insert, 8);
  sqlite3_bind_text64 (insert, 9, message->json, json_len, SQLITE_STATIC, SQLITE_UTF8);
  if (!ssq_server_store_step_done (store, insert, error))
    return FALSE;
  if (deferring)
    {
      ssq_server_store_deferred_seq_taken (store, message->conversation_id,
                                           message->seq, message->created_at);
      return TRUE;
    }
  return ssq_server_store_set_last_seq_raw (store, message->conversation_id, message->seq,
                                            message->created_at, error);
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

  /* The stored wire form is rewritten with the change; a deleted message
   * has no media any more (ssq_server_store_message_detach_media ()). */
  stmt = ssq_server_store_stmt (store,
    "UPDATE messages SET body = ?1, edited_at = ?2, deleted = ?3, rev = ?4, "
    "  media = CASE WHEN ?3 THEN NULL ELSE media END, "
    "  json = ssq_message_json(id, conversation_id, seq, sender, client_id, ?1, created_at, "
    "                          ?2, ?3, reply_to, ?4, CASE WHEN ?3 THEN NULL ELSE media END) "
    "WHERE conversation_id = ?5 AND seq = ?6 RETURNING json", error);
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
  if (sqlite3_step (stmt) == SQLITE_ROW)
    {
      g_free (message->json);
      message->json = ssq_server_store_column_dup (stmt, 0);
    }
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

/* A row without its stored wire form (none is written so since schema 3):
 * the codec writes it from the row. */
static void
each_encoded (SsqServerStore    *store,
              const char        *conversation_id,
              gint64             seq,
              SsqStoredJsonFunc  each,
              gpointer           user_data)
{
  g_autoptr(SsqMessageRow) row = ssq_server_store_message_get (store, conversation_id, seq, NULL);
  g_autofree char *json = NULL;
  gsize length = 0;

  if (row == NULL)
    return;
  json = ssq_server_store_message_encode (row, &length);
  each (json, length, user_data);
}

/**
 * ssq_server_store_messages_json_foreach:
 * Hands @each the stored wire form of each message of @conversation_id
 * above @after_seq, oldest first, at most @limit of them; *@out_more tells
 * whether more follow. Only the stored JSON is read, no row is built: a
 * sync's thousand messages cost the main loop a third of what rows did.
 */
gboolean
ssq_server_store_messages_json_foreach (SsqServerStore     *store,
                                        const char         *conversation_id,
                                        gint64              after_seq,
                                        guint               limit,
                                        SsqStoredJsonFunc   each,
                                        gpointer            user_data,
                                        gboolean           *out_more,
                                        GError            **error)
{
  sqlite3_stmt *stmt = ssq_server_store_stmt (store,
    "SELECT seq, json FROM messages WHERE conversation_id = ? AND seq > ? ORDER BY seq ASC LIMIT ?",
    error);
  guint n = 0;
  int rc;

  *out_more = FALSE;
  if (stmt == NULL)
    return FALSE;
  ssq_server_store_bind_text (stmt, 1, conversation_id);
  sqlite3_bind_int64 (stmt, 2, after_seq);
  sqlite3_bind_int64 (stmt, 3, (gint64) limit + 1);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      /* The extra row, read only to tell that there is more. */
      if (n++ == limit)
        {
          *out_more = TRUE;
          continue;
        }
      if (sqlite3_column_bytes (stmt, 1) > 0)
        each ((const char *) sqlite3_column_text (stmt, 1), (gsize) sqlite3_column_bytes (stmt, 1),
              user_data);
      else
        each_encoded (store, conversation_id, sqlite3_column_int64 (stmt, 0), each, user_data);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    return ssq_server_store_fail (store, error);
  return TRUE;
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

/**
 * ssq_server_store_messages_page:
 * The stored wire form of the messages ssq_server_store_messages_range()
 * returns (the extra one left out), appended to @out joined by commas, in
 * ascending seq order; @out_has_more says whether there was an extra one.
 * No row is decoded: the page is a copy of stored text.
 */
gboolean
ssq_server_store_messages_page (SsqServerStore  *store,
                                const char      *conversation_id,
                                gint64           after_seq,
                                gint64           before_seq,
                                guint            limit,
                                gboolean         newest,
                                GString         *out,
                                gboolean        *out_has_more,
                                GError         **error)
{
  sqlite3_stmt *stmt = ssq_server_store_stmt (store, newest
    ? "SELECT json FROM messages WHERE conversation_id = ? AND seq > ? AND seq < ? "
      "ORDER BY seq DESC LIMIT ?"
    : "SELECT json FROM messages WHERE conversation_id = ? AND seq > ? AND seq < ? "
      "ORDER BY seq ASC LIMIT ?", error);
  g_autoptr(GString) backwards = newest ? g_string_sized_new (16384) : NULL;
  GString *buf = newest ? backwards : out;
  gsize bounds[2 * (SSQ_HISTORY_MAX + 1)];    /* start and end of each row in buf */
  gsize start = out->len;
  guint n = 0;
  int rc;

  g_return_val_if_fail (limit <= SSQ_HISTORY_MAX, FALSE);
  if (stmt == NULL)
    return FALSE;
  ssq_server_store_bind_text (stmt, 1, conversation_id);
  sqlite3_bind_int64 (stmt, 2, after_seq);
  sqlite3_bind_int64 (stmt, 3, before_seq > 0 ? before_seq : G_MAXINT64);
  sqlite3_bind_int64 (stmt, 4, (gint64) limit + 1);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      if (n > 0 && !newest)
        g_string_append_c (buf, ',');
      bounds[2 * n] = buf->len;
      g_string_append_len (buf, (const char *) sqlite3_column_text (stmt, 0),
                           sqlite3_column_bytes (stmt, 0));
      bounds[2 * n + 1] = buf->len;
      n++;
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      g_string_truncate (out, start);
      return ssq_server_store_fail (store, error);
    }
  /* The extra row, there only to tell that there is more, is the last read:
   * the oldest of a newest page, read backwards, which goes in order now. */
  *out_has_more = n > limit;
  if (*out_has_more)
    n = limit;
  if (!newest)
    g_string_truncate (out, n > 0 ? bounds[2 * n - 1] : start);
  else
    for (guint i = n; i-- > 0;)
      {
        if (i < n - 1)
          g_string_append_c (out, ',');
        g_string_append_len (out, backwards->str + bounds[2 * i], bounds[2 * i + 1] - bounds[2 * i]);
      }
  return TRUE;
}
