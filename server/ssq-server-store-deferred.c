/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-store-deferred.c: counters a batch of sends holds back.
 *
 * Each message sent moves two counters besides its own row: the
 * conversation's last_seq (and updated_at), and the sender's read and
 * delivered marks. Written per message, that is three statements beside
 * the INSERT, each finding and rewriting a row that the next message of
 * the same conversation rewrites again: a fifth of the writer thread's
 * time in batches of 500 sends (15.8 against 12.3 us per message held
 * back, ssq-bench-net durable). While the writer's fast path runs a
 * batch, the store keeps them in memory instead, each conversation's
 * last_seq read once, and writes each row once before the commit.
 *
 * Nothing else may see the held-back rows stale: any statement other than
 * a send's own, on this connection, writes them first (the barrier in
 * ssq_server_store_stmt). The membership check that the sender's mark
 * made per message is made by the flush: a mark that finds no member row
 * fails the flush, the writer rolls the batch back and runs it again
 * without deferring, one savepoint per operation, where that send fails
 * alone as it always did. A failed flush stays failed until the batch
 * ends: an operation that ignores its statement's error (a lookup taken
 * as "none") cannot let the batch commit with the rows half written. */
#include "ssq-server-store-private.h"
#include "ssq-proto.h"

typedef struct {
  gint64   last_seq;
  gint64   updated_at;
  gboolean moved;          /* a send of this batch took a seq */
} ConvCounters;

typedef struct {
  char   *conversation_id;
  char   *user_id;
  gint64  seq;
} SenderMark;

static void
sender_mark_free (gpointer data)
{
  SenderMark *mark = data;

  g_free (mark->conversation_id);
  g_free (mark->user_id);
  g_free (mark);
}

/* A mark is its own key: a send looks it up with one on the stack, and
 * allocates nothing when its sender has a mark in the batch already. */
static guint
sender_mark_hash (gconstpointer key)
{
  const SenderMark *mark = key;

  return g_str_hash (mark->conversation_id) * 31 + g_str_hash (mark->user_id);
}

static gboolean
sender_mark_equal (gconstpointer a,
                   gconstpointer b)
{
  const SenderMark *x = a, *y = b;

  return g_str_equal (x->conversation_id, y->conversation_id) &&
         g_str_equal (x->user_id, y->user_id);
}

static void
deferred_clear (SsqServerStore *store)
{
  if (store->convs != NULL)
    g_hash_table_remove_all (store->convs);
  if (store->marks != NULL)
    g_hash_table_remove_all (store->marks);
}

/**
 * ssq_server_store_defer_begin:
 * From now until ssq_server_store_defer_end(), inside the transaction just
 * begun, sends hold their counters back (writer thread).
 */
void
ssq_server_store_defer_begin (SsqServerStore *store)
{
  if (store->convs == NULL)
    {
      store->convs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
      store->marks = g_hash_table_new_full (sender_mark_hash, sender_mark_equal,
                                            sender_mark_free, NULL);
    }
  deferred_clear (store);
  store->deferring = TRUE;
  store->defer_failed = FALSE;
}

/* Whatever the transaction's outcome: what was held back is forgotten
 * (written by a flush, or rolled back with the rest). */
void
ssq_server_store_defer_end (SsqServerStore *store)
{
  deferred_clear (store);
  store->deferring = FALSE;
  store->defer_failed = FALSE;
}

gboolean
ssq_server_store_deferring (SsqServerStore *store)
{
  return store->deferring;
}

/**
 * ssq_server_store_defer_flush:
 * Writes what the sends held back, and forgets the conversations' counters
 * read so far (a statement to come may change them). Fails with
 * SSQ_ERROR_NOT_FOUND when a sender is no longer a member.
 */
gboolean
ssq_server_store_defer_flush (SsqServerStore  *store,
                              GError         **error)
{
  GHashTableIter iter;
  gpointer key, value;
  gboolean ok = TRUE;

  if (!store->deferring)
    return TRUE;
  if (store->defer_failed)
    {
      g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_NOT_FOUND,
                           "A write held back by this batch failed");
      return FALSE;
    }
  g_hash_table_iter_init (&iter, store->convs);
  while (ok && g_hash_table_iter_next (&iter, &key, &value))
    {
      ConvCounters *counters = value;

      if (counters->moved)
        ok = ssq_server_store_set_last_seq_raw (store, key, counters->last_seq,
                                                counters->updated_at, error);
    }
  g_hash_table_iter_init (&iter, store->marks);
  while (ok && g_hash_table_iter_next (&iter, &key, NULL))
    {
      SenderMark *mark = key;

      ok = ssq_server_store_member_mark (store, mark->conversation_id, mark->user_id,
                                         mark->seq, mark->seq, error);
    }
  deferred_clear (store);
  store->defer_failed = !ok;
  return ok;
}

/* The barrier: any other statement sees the rows written. */
static gboolean
barrier (SsqServerStore  *store,
         GError         **error)
{
  if (!store->deferring ||
      (!store->defer_failed &&
       g_hash_table_size (store->convs) == 0 && g_hash_table_size (store->marks) == 0))
    return TRUE;
  return ssq_server_store_defer_flush (store, error);
}

sqlite3_stmt *
ssq_server_store_stmt (SsqServerStore  *store,
                       const char      *static_sql,
                       GError         **error)
{
  if (!barrier (store, error))
    return NULL;
  return ssq_db_stmt (&store->base, static_sql, error);
}

gboolean
ssq_server_store_exec (SsqServerStore  *store,
                       const char      *sql,
                       GError         **error)
{
  return barrier (store, error) && ssq_db_exec (&store->base, sql, error);
}

gboolean
ssq_server_store_run (SsqServerStore  *store,
                      const char      *static_sql,
                      GError         **error)
{
  return barrier (store, error) && ssq_db_run (&store->base, static_sql, error);
}

/**
 * ssq_server_store_deferred_last_seq:
 * The last seq of @conversation_id in this transaction: held in memory
 * after the first send of the batch to it. Fails with SSQ_ERROR_NOT_FOUND
 * when there is no such conversation. Deferring only.
 */
gboolean
ssq_server_store_deferred_last_seq (SsqServerStore  *store,
                                    const char      *conversation_id,
                                    gint64          *out,
                                    GError         **error)
{
  ConvCounters *counters = g_hash_table_lookup (store->convs, conversation_id);

  g_assert (store->deferring);
  if (counters == NULL)
    {
      gint64 last_seq;

      if (!ssq_server_store_last_seq_raw (store, conversation_id, &last_seq, error))
        return FALSE;
      counters = g_new0 (ConvCounters, 1);
      counters->last_seq = last_seq;
      g_hash_table_insert (store->convs, g_strdup (conversation_id), counters);
    }
  *out = counters->last_seq;
  return TRUE;
}

/* A send stored its row with @seq at @created_at: the conversation's
 * counters move, written at the flush. */
void
ssq_server_store_deferred_seq_taken (SsqServerStore *store,
                                     const char     *conversation_id,
                                     gint64          seq,
                                     gint64          created_at)
{
  ConvCounters *counters = g_hash_table_lookup (store->convs, conversation_id);

  g_assert (counters != NULL && seq == counters->last_seq + 1);
  counters->last_seq = seq;
  counters->updated_at = created_at;
  counters->moved = TRUE;
}

/**
 * ssq_server_store_member_mark_sent:
 * A member wrote message @seq: it has read everything up to it. Checked
 * (a sender who is no member fails) and written at once, or held back to
 * the flush while deferring.
 */
gboolean
ssq_server_store_member_mark_sent (SsqServerStore  *store,
                                   const char      *conversation_id,
                                   const char      *user_id,
                                   gint64           seq,
                                   GError         **error)
{
  SenderMark wanted = { (char *) conversation_id, (char *) user_id, 0 };
  SenderMark *mark;

  if (!store->deferring)
    return ssq_server_store_member_mark (store, conversation_id, user_id, seq, seq, error);
  mark = g_hash_table_lookup (store->marks, &wanted);
  if (mark == NULL)
    {
      mark = g_new0 (SenderMark, 1);
      mark->conversation_id = g_strdup (conversation_id);
      mark->user_id = g_strdup (user_id);
      g_hash_table_add (store->marks, mark);
    }
  mark->seq = MAX (mark->seq, seq);
  return TRUE;
}

void
ssq_server_store_deferred_free (SsqServerStore *store)
{
  g_clear_pointer (&store->convs, g_hash_table_unref);
  g_clear_pointer (&store->marks, g_hash_table_unref);
}
