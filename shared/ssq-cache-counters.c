/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-cache-counters.c: a conversation's counters (last seq, markers,
 * unread count, sync cursors) held in memory while a batch applies
 * messages, and written once per conversation when it ends. An UPDATE per
 * message, and reading back what it wrote, cost more than storing the
 * message itself. */
#include "ssq-cache-private.h"
#include "ssq-message-private.h"

/* Written values must never be older than the row: whatever reads or
 * writes the conversations table settles first (see
 * ssq_cache_counters_settle), so that the row and the counters never
 * differ while anything else looks at it. */

static SsqCacheCounters *
load (SsqCache    *self,
      const char  *conversation_id,
      GError     **error)
{
  sqlite3_stmt *stmt = ssq_db_stmt (&self->db,
                                    "SELECT last_seq, read_seq, delivered_seq, unread, last_activity, "
                                    "rev, sync_rev, sync_seq FROM conversations WHERE id = ?", error);
  SsqCacheCounters *counters = NULL;
  int rc;

  if (stmt == NULL)
    return NULL;
  ssq_db_bind_text (stmt, 1, conversation_id);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    {
      counters = g_new (SsqCacheCounters, 1);
      *counters = (SsqCacheCounters) {
        sqlite3_column_int64 (stmt, 0), sqlite3_column_int64 (stmt, 1),
        sqlite3_column_int64 (stmt, 2), sqlite3_column_int64 (stmt, 3),
        sqlite3_column_int64 (stmt, 4), sqlite3_column_int64 (stmt, 5),
        sqlite3_column_int64 (stmt, 6), sqlite3_column_int64 (stmt, 7),
      };
      g_hash_table_insert (self->counters, g_strdup (conversation_id), counters);
    }
  else if (rc != SQLITE_DONE)
    ssq_db_fail (&self->db, error);
  sqlite3_reset (stmt);
  return counters;
}

/**
 * ssq_cache_counters_get:
 * The conversation's counters, read once per batch and then held until
 * ssq_cache_counters_settle () writes them. Change them only to apply a
 * message.
 *
 * Returns: (transfer none) (nullable): the counters, or NULL when the
 * cache holds no such conversation (*@error unset) or the read failed.
 */
SsqCacheCounters *
ssq_cache_counters_get (SsqCache    *self,
                        const char  *conversation_id,
                        GError     **error)
{
  SsqCacheCounters *counters = g_hash_table_lookup (self->counters, conversation_id);

  return counters != NULL ? counters : load (self, conversation_id, error);
}

static gboolean
write_row (SsqCache               *self,
           const char             *conversation_id,
           const SsqCacheCounters *c,
           GError                **error)
{
  sqlite3_stmt *stmt = ssq_db_stmt (&self->db,
                                    "UPDATE conversations SET last_seq = ?, read_seq = ?, "
                                    "delivered_seq = ?, unread = ?, last_activity = ?, rev = ?, "
                                    "sync_rev = ?, sync_seq = ? WHERE id = ?", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, c->last_seq);
  sqlite3_bind_int64 (stmt, 2, c->read_seq);
  sqlite3_bind_int64 (stmt, 3, c->delivered_seq);
  sqlite3_bind_int64 (stmt, 4, c->unread);
  sqlite3_bind_int64 (stmt, 5, c->last_activity);
  sqlite3_bind_int64 (stmt, 6, c->rev);
  sqlite3_bind_int64 (stmt, 7, c->sync_rev);
  sqlite3_bind_int64 (stmt, 8, c->sync_seq);
  ssq_db_bind_text (stmt, 9, conversation_id);
  return ssq_db_step_done (&self->db, stmt, error);
}

/**
 * ssq_cache_counters_settle:
 * Writes the counters held in memory to their rows, and lets them go.
 * Called before anything else reads or writes the conversations table,
 * and before a batch commits. A failure spoils the batch.
 */
gboolean
ssq_cache_counters_settle (SsqCache  *self,
                           GError   **error)
{
  GHashTableIter iter;
  const char *id;
  SsqCacheCounters *counters;

  if (g_hash_table_size (self->counters) == 0)
    return TRUE;
  g_hash_table_iter_init (&iter, self->counters);
  while (g_hash_table_iter_next (&iter, (gpointer *) &id, (gpointer *) &counters))
    if (!write_row (self, id, counters, error))
      {
        ssq_cache_counters_drop (self);
        if (self->batch_depth > 0)
          self->batch_failed = TRUE;
        return FALSE;
      }
  g_hash_table_remove_all (self->counters);
  return TRUE;
}

/* For readers that report no error: a failed write spoils the batch,
 * whose commit then tells. */
void
ssq_cache_counters_settle_quietly (SsqCache *self)
{
  ssq_cache_counters_settle (self, NULL);
}

/* After a rollback: what is held tells of writes that are gone. */
void
ssq_cache_counters_drop (SsqCache *self)
{
  g_hash_table_remove_all (self->counters);
}

/**
 * ssq_cache_counters_count_message:
 * @unread_delta: 1 for a new message from someone else, -1 for the
 *   deletion of one, else 0
 *
 * Moves the counters over a stored message: last seq, last activity, the
 * sync cursors, and the unread count.
 *
 * The count is the server's as of the conversation's last_seq and rev
 * (both come with every `conversation` object, and a sync sends that
 * before the conversation's messages): only a message above last_seq is
 * new to it, and only a deletion with a higher rev is news to it. Else a
 * sync that replays the messages the count already holds would count them
 * twice. A message without rev (an older server) keeps the old rule.
 */
void
ssq_cache_counters_count_message (SsqCacheCounters *c,
                                  SsqMessage       *message,
                                  gint64            unread_delta)
{
  gint64 seq = message->seq;
  gint64 rev = message->rev;

  if (seq > c->read_seq &&
      ((unread_delta > 0 && seq > c->last_seq) ||
       (unread_delta < 0 && (rev == 0 || rev > c->rev))))
    c->unread = MAX (0, c->unread + unread_delta);
  c->last_seq = MAX (c->last_seq, seq);
  c->last_activity = MAX (c->last_activity, message->created_at);
  c->rev = MAX (c->rev, rev);
  /* A change right after the cursor is the next one; likewise the message
   * right after the sync cursor. */
  if (rev == c->sync_rev + 1)
    c->sync_rev = rev;
  if (seq == c->sync_seq + 1)
    c->sync_seq = seq;
}
