/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-broker-store.c: durable state. Changes are gathered in a journal
 * during a main-loop turn and committed as ONE writer operation (so a
 * burst of publishes and acks costs one operation, and shares the group
 * commit with the chat's writes); outcomes waiting on it are told after
 * that commit. A message body is stored once (broker_messages) whatever
 * the number of durable queues holding it, each of which has a row in
 * broker_queue_messages; the body's row goes with the last of them.
 * Loading at start brings everything back; a message delivered before a
 * stop (deliveries > 0) comes back with redelivered set. */
#include "ssq-broker-private.h"
#include "ssq-server-store-private.h"

#include <string.h>

typedef enum {
  J_EXCHANGE_PUT,
  J_EXCHANGE_DEL,
  J_QUEUE_PUT,
  J_QUEUE_DEL,
  J_BINDING_PUT,
  J_BINDING_DEL,
  J_MESSAGE_PUT,
  J_MESSAGE_DEL,
  J_REF_PUT,
  J_REF_DEL,
  J_REF_DELIVERED,
  J_SWEEP,
  J_WIPE,
} JournalKind;

typedef struct {
  JournalKind kind;
  char       *a, *b, *c, *d;
  GBytes     *x, *y;
  gint64      n[6];
  SsqBrokerQueueArgs args;
} JournalOp;

struct _SsqBrokerJournal {
  SsqBroker *broker;
  GArray    *ops;          /* JournalOp */
  GPtrArray *outcomes;     /* SsqBrokerOutcome * waiting for the commit */
  guint64    seq;
  gboolean   snapshot;     /* starts with a wipe and everything put back */
};

static void
op_clear (gpointer data)
{
  JournalOp *op = data;

  g_free (op->a);
  g_free (op->b);
  g_free (op->c);
  g_free (op->d);
  g_clear_pointer (&op->x, g_bytes_unref);
  g_clear_pointer (&op->y, g_bytes_unref);
  ssq_broker_queue_args_clear (&op->args);
}

void
ssq_broker_journal_free (SsqBrokerJournal *journal)
{
  if (journal == NULL)
    return;
  g_array_unref (journal->ops);
  g_ptr_array_unref (journal->outcomes);
  g_free (journal);
}

static JournalOp *
journal_add (SsqBroker   *broker,
             JournalKind  kind)
{
  JournalOp op = { .kind = kind };

  /* Without a store nothing is kept; while the broker is freed, the
   * queues emptied from memory keep their rows. */
  if (broker->writer == NULL || broker->closing)
    return NULL;
  if (broker->journal == NULL)
    {
      broker->journal = g_new0 (SsqBrokerJournal, 1);
      broker->journal->broker = broker;
      broker->journal->ops = g_array_new (FALSE, TRUE, sizeof (JournalOp));
      g_array_set_clear_func (broker->journal->ops, op_clear);
      broker->journal->outcomes = g_ptr_array_new ();
      ssq_broker_schedule (broker);
    }
  ssq_broker_queue_args_init (&op.args);
  g_array_append_val (broker->journal->ops, op);
  return &g_array_index (broker->journal->ops, JournalOp, broker->journal->ops->len - 1);
}

void
ssq_broker_journal_exchange (SsqBroker         *broker,
                             SsqBrokerExchange *x,
                             gboolean           present)
{
  JournalOp *op = journal_add (broker, present ? J_EXCHANGE_PUT : J_EXCHANGE_DEL);

  if (op == NULL)
    return;
  op->a = g_strdup (x->name);
  if (!present)
    return;
  op->b = g_strdup (ssq_broker_exchange_type_name (x->type));
  op->c = g_strdup (x->owner_id);
  op->n[0] = x->auto_delete;
  op->n[1] = x->internal;
  op->x = x->arguments != NULL ? g_bytes_ref (x->arguments) : NULL;
}

void
ssq_broker_journal_queue (SsqBroker      *broker,
                          SsqBrokerQueue *q,
                          gboolean        present)
{
  JournalOp *op = journal_add (broker, present ? J_QUEUE_PUT : J_QUEUE_DEL);

  if (op == NULL)
    return;
  op->a = g_strdup (q->name);
  if (!present)
    return;
  op->c = g_strdup (q->owner_id);
  op->n[0] = q->auto_delete;
  op->n[1] = q->private_events;
  ssq_broker_queue_args_copy (&op->args, &q->args);
}

void
ssq_broker_journal_binding (SsqBroker        *broker,
                            SsqBrokerBinding *b,
                            gboolean          present)
{
  JournalOp *op = journal_add (broker, present ? J_BINDING_PUT : J_BINDING_DEL);

  if (op == NULL)
    return;
  op->a = g_strdup (b->exchange->name);
  op->b = g_strdup (b->queue->name);
  op->c = g_strdup (b->routing_key);
  op->d = g_strdup (b->binder_id);
  op->x = g_bytes_ref (b->arguments);
}

/* The row of @m's body; FALSE when nothing is journalled. */
static gboolean
journal_message_put (SsqBroker        *broker,
                     SsqBrokerMessage *m)
{
  JournalOp *op = journal_add (broker, J_MESSAGE_PUT);

  if (op == NULL)
    return FALSE;
  op->n[0] = (gint64) m->id;
  op->a = g_strdup (m->exchange);
  op->b = g_strdup (m->routing_key);
  op->x = g_bytes_ref (m->properties);
  op->y = g_bytes_ref (m->body);
  return TRUE;
}

/* The row of @e's place in @q; FALSE when nothing is journalled. */
static gboolean
journal_ref_put (SsqBroker      *broker,
                 SsqBrokerQueue *q,
                 SsqBrokerEntry *e)
{
  JournalOp *op = journal_add (broker, J_REF_PUT);

  if (op == NULL)
    return FALSE;
  op->a = g_strdup (q->name);
  op->n[0] = (gint64) e->message->id;
  op->n[1] = (gint64) e->seq;
  op->n[2] = e->level;
  op->n[3] = e->expires_at;
  op->n[4] = e->deliveries;
  return TRUE;
}

void
ssq_broker_journal_entry (SsqBroker      *broker,
                          SsqBrokerQueue *q,
                          SsqBrokerEntry *e)
{
  SsqBrokerMessage *m = e->message;

  if (!m->stored)
    {
      if (!journal_message_put (broker, m))
        return;
      m->stored = TRUE;
    }
  if (journal_ref_put (broker, q, e))
    m->stored_refs++;
}

void
ssq_broker_journal_entry_gone (SsqBroker      *broker,
                               SsqBrokerQueue *q,
                               SsqBrokerEntry *e)
{
  SsqBrokerMessage *m = e->message;
  JournalOp *op;

  /* A deleted queue's rows went with it (J_QUEUE_DEL's cascade). Deleting
   * by (name, seq) now could hit the row of a queue declared since under
   * the same name (its seqs start at 1 again): only the body's row may go. */
  if (!q->deleted)
    {
      op = journal_add (broker, J_REF_DEL);
      if (op == NULL)
        return;
      op->a = g_strdup (q->name);
      op->n[1] = (gint64) e->seq;
    }
  else if (broker->writer == NULL || broker->closing)
    return;
  e->stored = FALSE;
  g_assert (m->stored_refs > 0);
  if (--m->stored_refs == 0)
    {
      op = journal_add (broker, J_MESSAGE_DEL);
      op->n[0] = (gint64) m->id;
      m->stored = FALSE;
    }
}

void
ssq_broker_journal_delivered (SsqBroker      *broker,
                              SsqBrokerQueue *q,
                              SsqBrokerEntry *e)
{
  JournalOp *op = journal_add (broker, J_REF_DELIVERED);

  if (op == NULL)
    return;
  op->a = g_strdup (q->name);
  op->n[1] = (gint64) e->seq;
  op->n[4] = e->deliveries;
}

void
ssq_broker_journal_wait (SsqBroker        *broker,
                         SsqBrokerOutcome *outcome)
{
  if (broker->journal == NULL)
    return;
  outcome->waiting++;
  g_ptr_array_add (broker->journal->outcomes, outcome);
}

/* ------------------------------------------------------ the writer side */

static void
bind_blob (sqlite3_stmt *stmt,
           int           i,
           GBytes       *bytes)
{
  gsize len = 0;
  const void *data = bytes != NULL ? g_bytes_get_data (bytes, &len) : NULL;

  /* An empty blob, not NULL: the columns are NOT NULL. */
  sqlite3_bind_blob (stmt, i, data != NULL ? data : "", (int) len, SQLITE_STATIC);
}

static void
bind_opt_int (sqlite3_stmt *stmt,
              int           i,
              gint64        v)
{
  if (v < 0)
    sqlite3_bind_null (stmt, i);
  else
    sqlite3_bind_int64 (stmt, i, v);
}

static sqlite3_stmt *
op_statement (SsqServerStore  *store,
              const JournalOp *op,
              GError         **error)
{
  sqlite3_stmt *s = NULL;

  switch (op->kind)
    {
    case J_EXCHANGE_PUT:
      s = ssq_server_store_stmt (store,
        "INSERT OR REPLACE INTO broker_exchanges (name, type, owner, auto_delete, internal, arguments) "
        "VALUES (?, ?, ?, ?, ?, ?)", error);
      if (s == NULL)
        return NULL;
      ssq_server_store_bind_text (s, 1, op->a);
      ssq_server_store_bind_text (s, 2, op->b);
      ssq_server_store_bind_text (s, 3, op->c);
      sqlite3_bind_int64 (s, 4, op->n[0]);
      sqlite3_bind_int64 (s, 5, op->n[1]);
      bind_blob (s, 6, op->x);
      return s;
    case J_EXCHANGE_DEL:
      s = ssq_server_store_stmt (store, "DELETE FROM broker_exchanges WHERE name = ?", error);
      break;
    case J_QUEUE_PUT:
      s = ssq_server_store_stmt (store,
        "INSERT OR REPLACE INTO broker_queues (name, owner, auto_delete, message_ttl, expires, max_length, "
        "overflow, dead_letter_exchange, dead_letter_routing_key, max_priority, max_deliveries, "
        "private_events) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", error);
      if (s == NULL)
        return NULL;
      ssq_server_store_bind_text (s, 1, op->a);
      ssq_server_store_bind_text (s, 2, op->c);
      sqlite3_bind_int64 (s, 3, op->n[0]);
      bind_opt_int (s, 4, op->args.message_ttl_ms);
      bind_opt_int (s, 5, op->args.expires_ms);
      bind_opt_int (s, 6, op->args.max_length);
      ssq_server_store_bind_text (s, 7, op->args.overflow == SSQ_BROKER_OVERFLOW_REJECT_PUBLISH
                                        ? "reject-publish" : "drop-head");
      ssq_server_store_bind_text (s, 8, op->args.dead_letter_exchange);
      ssq_server_store_bind_text (s, 9, op->args.dead_letter_routing_key);
      sqlite3_bind_int64 (s, 10, op->args.max_priority);
      sqlite3_bind_int64 (s, 11, op->args.max_deliveries);
      sqlite3_bind_int64 (s, 12, op->n[1]);
      return s;
    case J_QUEUE_DEL:
      s = ssq_server_store_stmt (store, "DELETE FROM broker_queues WHERE name = ?", error);
      break;
    case J_BINDING_PUT:
    case J_BINDING_DEL:
      s = op->kind == J_BINDING_PUT
        ? ssq_server_store_stmt (store,
            "INSERT OR REPLACE INTO broker_bindings (exchange, queue, routing_key, arguments, binder) "
            "VALUES (?, ?, ?, ?, ?)", error)
        : ssq_server_store_stmt (store,
            "DELETE FROM broker_bindings WHERE exchange = ? AND queue = ? AND routing_key = ? "
            "AND arguments = ?", error);
      if (s == NULL)
        return NULL;
      ssq_server_store_bind_text (s, 1, op->a);
      ssq_server_store_bind_text (s, 2, op->b);
      ssq_server_store_bind_text (s, 3, op->c);
      bind_blob (s, 4, op->x);
      if (op->kind == J_BINDING_PUT)
        ssq_server_store_bind_text (s, 5, op->d);
      return s;
    case J_MESSAGE_PUT:
      s = ssq_server_store_stmt (store,
        "INSERT OR REPLACE INTO broker_messages (id, exchange, routing_key, properties, body) "
        "VALUES (?, ?, ?, ?, ?)", error);
      if (s == NULL)
        return NULL;
      sqlite3_bind_int64 (s, 1, op->n[0]);
      ssq_server_store_bind_text (s, 2, op->a);
      ssq_server_store_bind_text (s, 3, op->b);
      bind_blob (s, 4, op->x);
      bind_blob (s, 5, op->y);
      return s;
    case J_MESSAGE_DEL:
      s = ssq_server_store_stmt (store, "DELETE FROM broker_messages WHERE id = ?", error);
      if (s != NULL)
        sqlite3_bind_int64 (s, 1, op->n[0]);
      return s;
    case J_REF_PUT:
      s = ssq_server_store_stmt (store,
        "INSERT OR REPLACE INTO broker_queue_messages (queue, seq, message_id, priority, expires_at, deliveries) "
        "VALUES (?, ?, ?, ?, ?, ?)", error);
      if (s == NULL)
        return NULL;
      ssq_server_store_bind_text (s, 1, op->a);
      sqlite3_bind_int64 (s, 2, op->n[1]);
      sqlite3_bind_int64 (s, 3, op->n[0]);
      sqlite3_bind_int64 (s, 4, op->n[2]);
      sqlite3_bind_int64 (s, 5, op->n[3]);
      sqlite3_bind_int64 (s, 6, op->n[4]);
      return s;
    case J_REF_DEL:
      s = ssq_server_store_stmt (store, "DELETE FROM broker_queue_messages WHERE queue = ? AND seq = ?", error);
      if (s == NULL)
        return NULL;
      ssq_server_store_bind_text (s, 1, op->a);
      sqlite3_bind_int64 (s, 2, op->n[1]);
      return s;
    case J_REF_DELIVERED:
      s = ssq_server_store_stmt (store,
        "UPDATE broker_queue_messages SET deliveries = ? WHERE queue = ? AND seq = ?", error);
      if (s == NULL)
        return NULL;
      sqlite3_bind_int64 (s, 1, op->n[4]);
      ssq_server_store_bind_text (s, 2, op->a);
      sqlite3_bind_int64 (s, 3, op->n[1]);
      return s;
    case J_SWEEP:
      return ssq_server_store_stmt (store,
        "DELETE FROM broker_messages WHERE id NOT IN (SELECT message_id FROM broker_queue_messages)", error);
    case J_WIPE:
      /* The first of a snapshot: the statements after it put back all. */
      if (!ssq_server_store_run (store, "DELETE FROM broker_queue_messages", error) ||
          !ssq_server_store_run (store, "DELETE FROM broker_messages", error) ||
          !ssq_server_store_run (store, "DELETE FROM broker_bindings", error) ||
          !ssq_server_store_run (store, "DELETE FROM broker_queues", error))
        return NULL;
      return ssq_server_store_stmt (store, "DELETE FROM broker_exchanges", error);
    default:
      g_assert_not_reached ();
    }
  /* The deletions keyed by name alone. */
  if (s != NULL)
    ssq_server_store_bind_text (s, 1, op->a);
  return s;
}

/* A deleted queue or exchange takes its bindings and rows along. */
static gboolean
op_cascade (SsqServerStore  *store,
            const JournalOp *op,
            GError         **error)
{
  sqlite3_stmt *s;

  if (op->kind == J_QUEUE_DEL)
    {
      s = ssq_server_store_stmt (store, "DELETE FROM broker_bindings WHERE queue = ?", error);
      if (s == NULL)
        return FALSE;
      ssq_server_store_bind_text (s, 1, op->a);
      if (!ssq_server_store_step_done (store, s, error))
        return FALSE;
      s = ssq_server_store_stmt (store, "DELETE FROM broker_queue_messages WHERE queue = ?", error);
    }
  else if (op->kind == J_EXCHANGE_DEL)
    s = ssq_server_store_stmt (store, "DELETE FROM broker_bindings WHERE exchange = ?", error);
  else
    return TRUE;
  if (s == NULL)
    return FALSE;
  ssq_server_store_bind_text (s, 1, op->a);
  return ssq_server_store_step_done (store, s, error);
}

/* Runs on the writer thread: touches only the journal, which the main
 * thread no longer holds. Every statement is idempotent (the writer may
 * run an operation twice). */
static gboolean
journal_op (SsqServerStore  *store,
            gpointer         data,
            GError         **error)
{
  SsqBrokerJournal *j = data;

  for (guint i = 0; i < j->ops->len; i++)
    {
      const JournalOp *op = &g_array_index (j->ops, JournalOp, i);
      sqlite3_stmt *s = op_statement (store, op, error);

      if (s == NULL || !ssq_server_store_step_done (store, s, error) || !op_cascade (store, op, error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
resync_cb (gpointer data)
{
  SsqBroker *broker = data;

  broker->resync_source = 0;
  journal_add (broker, J_SWEEP);   /* a journal to carry the snapshot, even when idle */
  return G_SOURCE_REMOVE;
}

static void
nack_store_failed (SsqBrokerOutcome *o,
                   const GError     *error)
{
  o->outcome = SSQ_BROKER_PUBLISH_NACK;
  g_clear_error (&o->error);
  ssq_broker_set_error (&o->error, SSQ_BROKER_ERROR_INTERNAL_ERROR,
                        "INTERNAL_ERROR - the store failed: %s", error->message);
}

static void
release_held (SsqBroker *broker)
{
  g_autoptr(GPtrArray) held = g_steal_pointer (&broker->held);

  broker->held = g_ptr_array_new ();
  for (guint i = 0; held != NULL && i < held->len; i++)
    ssq_broker_outcome_settle (broker, g_ptr_array_index (held, i));
}

void
ssq_broker_journal_drop_held (SsqBroker *broker)
{
  g_autoptr(GError) error = g_error_new_literal (SSQ_BROKER_ERROR, SSQ_BROKER_ERROR_INTERNAL_ERROR,
                                                 "closing before the store was written again");

  for (guint i = 0; broker->held != NULL && i < broker->held->len; i++)
    nack_store_failed (g_ptr_array_index (broker->held, i), error);
  release_held (broker);
  g_clear_pointer (&broker->held, g_ptr_array_unref);
}

/* A commit failed: what memory holds no longer matches the rows (a queue
 * declared, an ack, a message lost with it, and later commits may lean on
 * them). Everything is written again in one snapshot; outcomes of commits
 * before it commits are held, so that nothing is confirmed whose queue
 * (say) is not stored. A failed snapshot is tried again a second later. */
static void
journal_failed (SsqBroker        *broker,
                SsqBrokerJournal *j,
                const GError     *error)
{
  g_warning ("broker: storing failed: %s", error->message);
  broker->resync_after = MAX (broker->resync_after, j->seq);
  if (broker->snapshot_seq <= j->seq)
    broker->need_snapshot = TRUE;
  if (j->snapshot)
    {
      if (broker->resync_source == 0 && !broker->closing)
        broker->resync_source = g_timeout_add_seconds (1, resync_cb, broker);
    }
  else if (broker->need_snapshot)
    journal_add (broker, J_SWEEP);
  for (guint i = 0; i < j->outcomes->len; i++)
    {
      SsqBrokerOutcome *o = g_ptr_array_index (j->outcomes, i);

      nack_store_failed (o, error);
      ssq_broker_outcome_settle (broker, o);
    }
}

static void
journal_done (gpointer      data,
              const GError *error)
{
  SsqBrokerJournal *j = data;
  SsqBroker *broker = j->broker;

  broker->in_flight--;
  if (j->snapshot)
    broker->snapshot_in_flight = FALSE;
  if (broker->held == NULL)
    broker->held = g_ptr_array_new ();
  if (error != NULL)
    {
      journal_failed (broker, j, error);
      return;
    }
  for (guint i = 0; i < j->outcomes->len; i++)
    g_ptr_array_add (broker->held, g_ptr_array_index (j->outcomes, i));
  if (j->snapshot && j->seq > broker->resync_after)
    broker->resync_after = 0;   /* in sync again */
  if (broker->resync_after == 0)
    release_held (broker);
  else if (j->snapshot && broker->need_snapshot)
    journal_add (broker, J_SWEEP);   /* failed since it was taken: another */
}

/* ------------------------------------------------------------ snapshot */

static void
snapshot_exchange (SsqBroker         *broker,
                   SsqBrokerExchange *x)
{
  /* The predeclared ones (default, amq.*) are made at every start. */
  if (!x->durable || (x->reserved && x->handler == NULL && x->filter == NULL))
    return;
  ssq_broker_journal_exchange (broker, x, TRUE);
  for (guint i = 0; i < x->bindings->len; i++)
    {
      SsqBrokerBinding *b = g_ptr_array_index (x->bindings, i);

      if (ssq_broker_queue_persisted (b->queue))
        ssq_broker_journal_binding (broker, b, TRUE);
    }
}

/* An entry's rows as they are: its body's once (@bodies), its place. */
static void
snapshot_entry (SsqBroker      *broker,
                SsqBrokerQueue *q,
                SsqBrokerEntry *e,
                GHashTable     *bodies)
{
  if (!e->stored || !ssq_broker_queue_persisted (q))
    return;
  if (g_hash_table_add (bodies, e->message))
    journal_message_put (broker, e->message);
  journal_ref_put (broker, q, e);
}

/* Every durable thing in memory, as rows, after a wipe: a journal of its
 * own in broker->journal. The in-memory counts (stored, stored_refs) stay
 * as they are: they say what the rows are meant to be, which this writes. */
static void
snapshot (SsqBroker *broker)
{
  g_autoptr(GHashTable) bodies = g_hash_table_new (NULL, NULL);
  GHashTableIter iter;
  gpointer value;

  journal_add (broker, J_WIPE);
  g_hash_table_iter_init (&iter, broker->exchanges);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    snapshot_exchange (broker, value);
  g_hash_table_iter_init (&iter, broker->queues);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      SsqBrokerQueue *q = value;

      if (!ssq_broker_queue_persisted (q))
        continue;
      ssq_broker_journal_queue (broker, q, TRUE);
      for (guint l = 0; l < q->n_levels; l++)
        for (GList *e = q->levels[l].head; e != NULL; e = e->next)
          snapshot_entry (broker, q, e->data, bodies);
    }
  /* Delivered and not acknowledged: on their channels. */
  for (guint i = 0; i < broker->connections->len; i++)
    {
      SsqBrokerConnection *c = g_ptr_array_index (broker->connections, i);

      for (guint k = 0; k < c->channels->len; k++)
        {
          SsqBrokerChannel *ch = g_ptr_array_index (c->channels, k);

          for (GList *l = ch->unacked.head; l != NULL; l = l->next)
            {
              SsqBrokerUnacked *u = l->data;

              snapshot_entry (broker, u->queue, u->entry, bodies);
            }
        }
    }
}

/* @j goes after a snapshot of everything: one writer operation, so that
 * the wipe and what it puts back are committed together or not at all. */
static SsqBrokerJournal *
with_snapshot (SsqBroker        *broker,
               SsqBrokerJournal *j)
{
  SsqBrokerJournal *snap;

  broker->need_snapshot = FALSE;
  snapshot (broker);
  snap = g_steal_pointer (&broker->journal);
  snap->snapshot = TRUE;
  if (j == NULL)
    return snap;
  g_array_append_vals (snap->ops, j->ops->data, j->ops->len);
  g_array_set_clear_func (j->ops, NULL);   /* moved, not copied */
  for (guint i = 0; i < j->outcomes->len; i++)
    g_ptr_array_add (snap->outcomes, g_ptr_array_index (j->outcomes, i));
  ssq_broker_journal_free (j);
  return snap;
}

void
ssq_broker_journal_submit (SsqBroker *broker)
{
  SsqBrokerJournal *j = g_steal_pointer (&broker->journal);

  if (broker->need_snapshot && !broker->snapshot_in_flight && broker->resync_source == 0 &&
      broker->writer != NULL && !broker->closing)
    j = with_snapshot (broker, j);
  if (j == NULL)
    return;
  j->seq = ++broker->journal_seq;
  if (j->snapshot)
    {
      broker->snapshot_seq = j->seq;
      broker->snapshot_in_flight = TRUE;
    }
  broker->in_flight++;
  broker->writer_ops++;
  ssq_server_writer_submit (broker->writer, journal_op, journal_done, j,
                            (GDestroyNotify) ssq_broker_journal_free);
}

/* -------------------------------------------------------------- loading */

static gboolean
load_exchanges (SsqBroker  *broker,
                GError    **error)
{
  sqlite3_stmt *s = ssq_server_store_stmt (broker->store,
    "SELECT name, type, owner, auto_delete, internal, arguments FROM broker_exchanges", error);
  int rc;

  if (s == NULL)
    return FALSE;
  while ((rc = sqlite3_step (s)) == SQLITE_ROW)
    {
      const char *name = (const char *) sqlite3_column_text (s, 0);
      SsqBrokerExchangeType type;
      g_autoptr(GBytes) args = NULL;

      if (name == NULL || ssq_broker_exchange_lookup (broker, name) != NULL ||
          !ssq_broker_exchange_type_parse ((const char *) sqlite3_column_text (s, 1), &type))
        continue;
      if (sqlite3_column_bytes (s, 5) > 0)
        args = g_bytes_new (sqlite3_column_blob (s, 5), sqlite3_column_bytes (s, 5));
      ssq_broker_exchange_insert (broker, name, type, TRUE, sqlite3_column_int (s, 3),
                                  sqlite3_column_int (s, 4), (const char *) sqlite3_column_text (s, 2), args);
      broker->n_exchanges++;
    }
  sqlite3_reset (s);
  return rc == SQLITE_DONE || ssq_server_store_fail (broker->store, error);
}

static gint64
column_opt_int (sqlite3_stmt *s,
                int           i)
{
  return sqlite3_column_type (s, i) == SQLITE_NULL ? -1 : sqlite3_column_int64 (s, i);
}

static gboolean
load_queues (SsqBroker  *broker,
             GError    **error)
{
  sqlite3_stmt *s = ssq_server_store_stmt (broker->store,
    "SELECT name, owner, auto_delete, message_ttl, expires, max_length, overflow, dead_letter_exchange, "
    "dead_letter_routing_key, max_priority, max_deliveries, private_events FROM broker_queues", error);
  int rc;

  if (s == NULL)
    return FALSE;
  while ((rc = sqlite3_step (s)) == SQLITE_ROW)
    {
      SsqBrokerQueueArgs args;
      SsqBrokerQueue *q;
      const char *overflow = (const char *) sqlite3_column_text (s, 6);

      ssq_broker_queue_args_init (&args);
      args.message_ttl_ms = column_opt_int (s, 3);
      args.expires_ms = column_opt_int (s, 4);
      args.max_length = column_opt_int (s, 5);
      args.overflow = g_strcmp0 (overflow, "reject-publish") == 0
                      ? SSQ_BROKER_OVERFLOW_REJECT_PUBLISH : SSQ_BROKER_OVERFLOW_DROP_HEAD;
      args.dead_letter_exchange = ssq_server_store_column_dup (s, 7);
      args.dead_letter_routing_key = ssq_server_store_column_dup (s, 8);
      args.max_priority = (guint8) CLAMP (sqlite3_column_int (s, 9), 0, 255);
      args.max_deliveries = (guint32) MAX (sqlite3_column_int64 (s, 10), 0);
      q = ssq_broker_queue_new (broker, (const char *) sqlite3_column_text (s, 0),
                                (const char *) sqlite3_column_text (s, 1), TRUE,
                                sqlite3_column_int (s, 2), NULL, &args);
      q->private_events = sqlite3_column_int (s, 11) != 0;
      ssq_broker_queue_args_clear (&args);
    }
  sqlite3_reset (s);
  return rc == SQLITE_DONE || ssq_server_store_fail (broker->store, error);
}

static gboolean
load_bindings (SsqBroker  *broker,
               GError    **error)
{
  sqlite3_stmt *s = ssq_server_store_stmt (broker->store,
    "SELECT exchange, queue, routing_key, arguments, binder FROM broker_bindings", error);
  int rc;

  if (s == NULL)
    return FALSE;
  while ((rc = sqlite3_step (s)) == SQLITE_ROW)
    {
      SsqBrokerExchange *x = ssq_broker_exchange_lookup (broker, (const char *) sqlite3_column_text (s, 0));
      SsqBrokerQueue *q = g_hash_table_lookup (broker->queues, (const char *) sqlite3_column_text (s, 1));
      g_autoptr(GBytes) args = g_bytes_new (sqlite3_column_blob (s, 3), sqlite3_column_bytes (s, 3));
      gboolean is_new;

      if (x != NULL && q != NULL)
        ssq_broker_binding_add (broker, x, q, (const char *) sqlite3_column_text (s, 2), args,
                                (const char *) sqlite3_column_text (s, 4), &is_new, NULL);
    }
  sqlite3_reset (s);
  return rc == SQLITE_DONE || ssq_server_store_fail (broker->store, error);
}

static GBytes *
column_bytes (sqlite3_stmt *s,
              int           i)
{
  return g_bytes_new (sqlite3_column_blob (s, i), sqlite3_column_bytes (s, i));
}

static gboolean
load_messages (SsqBroker  *broker,
               GError    **error)
{
  sqlite3_stmt *s = ssq_server_store_stmt (broker->store,
    "SELECT r.queue, r.seq, r.priority, r.expires_at, r.deliveries, m.id, m.exchange, m.routing_key, "
    "m.properties, m.body FROM broker_queue_messages r JOIN broker_messages m ON m.id = r.message_id "
    "ORDER BY r.queue, r.seq", error);
  g_autoptr(GHashTable) messages = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL,
                                                          (GDestroyNotify) ssq_broker_message_unref);
  guint64 max_id = 0;
  int rc;

  if (s == NULL)
    return FALSE;
  while ((rc = sqlite3_step (s)) == SQLITE_ROW)
    {
      SsqBrokerQueue *q = g_hash_table_lookup (broker->queues, (const char *) sqlite3_column_text (s, 0));
      gint64 id = sqlite3_column_int64 (s, 5);
      SsqBrokerMessage *m;
      SsqBrokerEntry *e;

      if (q == NULL)
        continue;
      m = g_hash_table_lookup (messages, &id);
      if (m == NULL)
        {
          g_autoptr(GBytes) props = column_bytes (s, 8);
          g_autoptr(GBytes) body = column_bytes (s, 9);

          m = ssq_broker_message_new_loaded ((guint64) id, (const char *) sqlite3_column_text (s, 6),
                                             (const char *) sqlite3_column_text (s, 7), props, body);
          g_hash_table_insert (messages, &m->id, m);
          max_id = MAX (max_id, (guint64) id);
        }
      e = g_new0 (SsqBrokerEntry, 1);
      e->message = ssq_broker_message_ref (m);
      e->seq = (guint64) sqlite3_column_int64 (s, 1);
      e->level = (guint8) CLAMP (sqlite3_column_int (s, 2), 0, 255);
      e->expires_at = sqlite3_column_int64 (s, 3);
      e->deliveries = (guint32) MAX (sqlite3_column_int64 (s, 4), 0);
      e->stored = TRUE;
      m->stored_refs++;
      ssq_broker_queue_load_entry (q, e);
    }
  sqlite3_reset (s);
  if (rc != SQLITE_DONE)
    return ssq_server_store_fail (broker->store, error);
  broker->next_message_id = MAX (broker->next_message_id, max_id + 1);
  return TRUE;
}

gboolean
ssq_broker_load (SsqBroker  *broker,
                 GError    **error)
{
  GHashTableIter iter;
  gpointer value;

  if (!load_exchanges (broker, error) || !load_queues (broker, error) ||
      !load_bindings (broker, error) || !load_messages (broker, error))
    return FALSE;
  /* Bodies whose last queue row went in a crash between the two. */
  journal_add (broker, J_SWEEP);
  g_hash_table_iter_init (&iter, broker->queues);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      ssq_broker_queue_touch (value);
      ssq_broker_queue_arm_ttl (value);
    }
  return TRUE;
}
