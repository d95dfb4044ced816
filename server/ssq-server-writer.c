/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-writer.c: the group-commit queue, on a thread of its own.
 *
 * The writer thread owns its own connection. It takes everything queued
 * (up to batch_max), runs it in one transaction and commits, while the main
 * loop goes on accepting and delivering: writes that arrive during a commit
 * queue up and form the next batch, so batches grow with load and no timer
 * adds latency when idle. Finished batches come back to the main context,
 * where their completions run in submission order: an ack, and the events
 * that follow it, always come after the fsync, and in commit order. */
#include "ssq-server-writer.h"
#include "ssq-proto.h"

typedef struct {
  SsqServerWriterOp   op;
  SsqServerWriterDone done;
  gpointer            data;
  GDestroyNotify      data_free;
  GError             *error;
} PendingOp;

/* Completions run on the main loop in slices of about this long, so that
 * other sources get their turn between slices. */
#define SSQ_WRITER_SLICE_US 500

typedef struct {
  guint  n_ops;
  gint64 commit_us;
} BatchStat;

struct _SsqServerWriter {
  SsqServerStore          *store;       /* the writer thread's own */
  guint                    batch_max;
  GThread                 *thread;
  GMainContext            *context;     /* where completions run */

  /* Under lock: shared by the two threads. */
  GMutex                   lock;
  GCond                    cond;
  GArray                  *queue;       /* PendingOp, not yet taken */
  GArray                  *finished;    /* PendingOp, committed or failed */
  GArray                  *stats;       /* BatchStat of finished batches */
  gboolean                 busy;        /* a batch is being committed */
  gboolean                 idle;        /* the thread waits for work */
  gboolean                 quit;
  GSource                 *dispatch;    /* scheduled completion run */

  /* Main thread only. */
  guint                    in_flight;   /* submitted, completion not yet run */
  GArray                  *ready;       /* PendingOp: taken from finished, to run */
  guint                    ready_pos;   /* the next of ready to run */
  SsqServerWriterBatchHook hook;
  gpointer                 hook_data;
};

static gboolean
run_op (SsqServerStore *store,
        PendingOp      *p)
{
  if (!ssq_server_store_run (store, "SAVEPOINT op", &p->error))
    return FALSE;
  if (!p->op (store, p->data, &p->error))
    {
      /* Undo this operation only; the rest of the batch stands. */
      ssq_server_store_run (store, "ROLLBACK TO op", NULL);
      ssq_server_store_run (store, "RELEASE op", NULL);
      return TRUE;
    }
  return ssq_server_store_run (store, "RELEASE op", &p->error);
}

/* Writer thread: the common case, where every operation succeeds, without
 * a savepoint each (two statements saved per write), and with the counters
 * of sends held back to one write per row (ssq_server_store_defer_begin).
 * At the first failure, a flush's included, the transaction is rolled back
 * and FALSE returned, nothing committed. */
static gboolean
commit_fast (SsqServerWriter  *writer,
             GArray           *batch,
             GError          **commit_error)
{
  gboolean ok = TRUE;

  if (!ssq_server_store_begin (writer->store, commit_error))
    return TRUE;
  ssq_server_store_defer_begin (writer->store);
  for (guint i = 0; i < batch->len && ok; i++)
    {
      PendingOp *p = &g_array_index (batch, PendingOp, i);

      ok = p->op (writer->store, p->data, NULL);
    }
  ok = ok && ssq_server_store_defer_flush (writer->store, NULL);
  ssq_server_store_defer_end (writer->store);
  if (!ok)
    {
      ssq_server_store_rollback (writer->store);
      return FALSE;
    }
  ssq_server_store_commit (writer->store, commit_error);
  return TRUE;
}

/* Writer thread. Leaves each operation's outcome in its error. */
static void
commit_batch (SsqServerWriter *writer,
              GArray          *batch)
{
  g_autoptr(GError) commit_error = NULL;

  /* Something failed: run the batch again, each operation under its own
   * savepoint so that a failure undoes it alone (operations start afresh
   * when run again). */
  if (!commit_fast (writer, batch, &commit_error) &&
      ssq_server_store_begin (writer->store, &commit_error))
    {
      for (guint i = 0; i < batch->len && commit_error == NULL; i++)
        {
          PendingOp *p = &g_array_index (batch, PendingOp, i);

          if (!run_op (writer->store, p))
            g_propagate_error (&commit_error, g_steal_pointer (&p->error));
          /* Its failure took the whole transaction with it: the operations
           * before it are undone, and those after it would each commit on
           * their own outside it. */
          else if (!ssq_server_store_in_transaction (writer->store))
            commit_error = p->error != NULL ? g_error_copy (p->error)
                                            : g_error_new_literal (SSQ_ERROR, SSQ_ERROR_UNAVAILABLE,
                                                                   "The transaction was rolled back");
        }
      if (commit_error == NULL)
        ssq_server_store_commit (writer->store, &commit_error);
      else
        ssq_server_store_rollback (writer->store);
    }
  if (commit_error == NULL)
    return;
  g_warning ("Commit of %u writes failed: %s", batch->len, commit_error->message);
  /* Nothing of the batch is stored: every operation fails with the commit. */
  for (guint i = 0; i < batch->len; i++)
    {
      PendingOp *p = &g_array_index (batch, PendingOp, i);

      g_clear_error (&p->error);
      p->error = g_error_copy (commit_error);
    }
}

static gboolean dispatch_cb (gpointer user_data);

/* Under lock. */
static void
schedule_dispatch (SsqServerWriter *writer)
{
  if (writer->dispatch != NULL)
    return;
  writer->dispatch = g_idle_source_new ();
  g_source_set_priority (writer->dispatch, G_PRIORITY_DEFAULT);
  g_source_set_callback (writer->dispatch, dispatch_cb, writer, NULL);
  g_source_attach (writer->dispatch, writer->context);
}

static gpointer
writer_thread (gpointer user_data)
{
  SsqServerWriter *writer = user_data;

  g_mutex_lock (&writer->lock);
  for (;;)
    {
      g_autoptr(GArray) batch = NULL;
      guint n;
      gint64 start;
      BatchStat stat;

      while (writer->queue->len == 0 && !writer->quit)
        {
          writer->idle = TRUE;
          g_cond_wait (&writer->cond, &writer->lock);
          writer->idle = FALSE;
        }
      if (writer->queue->len == 0)
        break;
      n = MIN (writer->queue->len, writer->batch_max);
      batch = g_array_sized_new (FALSE, TRUE, sizeof (PendingOp), n);
      g_array_append_vals (batch, writer->queue->data, n);
      g_array_remove_range (writer->queue, 0, n);
      writer->busy = TRUE;
      g_mutex_unlock (&writer->lock);

      start = g_get_monotonic_time ();
      commit_batch (writer, batch);
      stat.n_ops = n;
      stat.commit_us = g_get_monotonic_time () - start;

      g_mutex_lock (&writer->lock);
      g_array_append_vals (writer->finished, batch->data, batch->len);
      g_array_append_val (writer->stats, stat);
      writer->busy = FALSE;
      schedule_dispatch (writer);
      g_cond_broadcast (&writer->cond);
    }
  g_mutex_unlock (&writer->lock);
  return NULL;
}

/**
 * ssq_server_writer_new:
 * Starts the writer thread on @store, which it takes: no one else may use
 * that connection any more. Completions run in the thread-default main
 * context of the caller.
 */
SsqServerWriter *
ssq_server_writer_new (SsqServerStore *store,
                       guint           batch_max)
{
  SsqServerWriter *w = g_new0 (SsqServerWriter, 1);

  w->store = store;
  w->batch_max = MAX (batch_max, 1);
  w->context = g_main_context_ref_thread_default ();
  g_mutex_init (&w->lock);
  g_cond_init (&w->cond);
  w->queue = g_array_new (FALSE, TRUE, sizeof (PendingOp));
  w->finished = g_array_new (FALSE, TRUE, sizeof (PendingOp));
  w->stats = g_array_new (FALSE, TRUE, sizeof (BatchStat));
  w->ready = g_array_new (FALSE, TRUE, sizeof (PendingOp));
  w->thread = g_thread_new ("ssq-writer", writer_thread, w);
  return w;
}

void
ssq_server_writer_free (SsqServerWriter *writer)
{
  if (writer == NULL)
    return;
  ssq_server_writer_flush (writer);
  g_mutex_lock (&writer->lock);
  writer->quit = TRUE;
  g_cond_broadcast (&writer->cond);
  g_mutex_unlock (&writer->lock);
  g_thread_join (writer->thread);
  if (writer->dispatch != NULL)
    {
      g_source_destroy (writer->dispatch);
      g_source_unref (writer->dispatch);
    }
  ssq_server_store_close (writer->store);
  g_array_unref (writer->queue);
  g_array_unref (writer->finished);
  g_array_unref (writer->stats);
  g_array_unref (writer->ready);
  g_mutex_clear (&writer->lock);
  g_cond_clear (&writer->cond);
  g_main_context_unref (writer->context);
  g_free (writer);
}

void
ssq_server_writer_set_batch_hook (SsqServerWriter          *writer,
                                  SsqServerWriterBatchHook  hook,
                                  gpointer                  user_data)
{
  writer->hook = hook;
  writer->hook_data = user_data;
}

/* Writes submitted whose completion has not run yet. */
guint
ssq_server_writer_pending (SsqServerWriter *writer)
{
  return writer->in_flight;
}

/* Main thread: moves the finished batches behind the completions still
 * waiting to run, and reports their figures. */
static void
take_finished (SsqServerWriter *writer)
{
  g_autoptr(GArray) stats = NULL;

  g_mutex_lock (&writer->lock);
  if (writer->dispatch != NULL)
    {
      g_source_destroy (writer->dispatch);
      g_clear_pointer (&writer->dispatch, g_source_unref);
    }
  g_array_append_vals (writer->ready, writer->finished->data, writer->finished->len);
  g_array_set_size (writer->finished, 0);
  stats = g_steal_pointer (&writer->stats);
  writer->stats = g_array_new (FALSE, TRUE, sizeof (BatchStat));
  g_mutex_unlock (&writer->lock);

  if (writer->hook != NULL)
    for (guint i = 0; i < stats->len; i++)
      {
        BatchStat *s = &g_array_index (stats, BatchStat, i);

        writer->hook (s->n_ops, s->commit_us, writer->hook_data);
      }
}

/* Main thread: runs completions of finished batches, in order, until
 * @deadline_us (monotonic; G_MAXINT64 = all of them), and schedules the
 * rest. A batch of 512 completions (acks, events to every member) takes
 * tens of milliseconds: run at once, it would stall every other session
 * that long. Completions may flush, and so run this again from inside:
 * each one is taken off the queue before it runs. Returns whether any ran. */
static gboolean
dispatch_until (SsqServerWriter *writer,
                gint64           deadline_us)
{
  gboolean ran = FALSE;

  take_finished (writer);
  while (writer->ready_pos < writer->ready->len)
    {
      PendingOp p = g_array_index (writer->ready, PendingOp, writer->ready_pos);

      writer->ready_pos++;
      writer->in_flight--;
      ran = TRUE;
      if (p.done != NULL)
        p.done (p.data, p.error);
      g_clear_error (&p.error);
      if (p.data_free != NULL)
        p.data_free (p.data);
      if (deadline_us != G_MAXINT64 && g_get_monotonic_time () >= deadline_us)
        break;
    }
  if (writer->ready_pos < writer->ready->len)
    {
      g_mutex_lock (&writer->lock);
      schedule_dispatch (writer);
      g_mutex_unlock (&writer->lock);
    }
  else
    {
      g_array_set_size (writer->ready, 0);
      writer->ready_pos = 0;
    }
  return ran;
}

static gboolean
dispatch_cb (gpointer user_data)
{
  dispatch_until (user_data, g_get_monotonic_time () + SSQ_WRITER_SLICE_US);
  return G_SOURCE_REMOVE;
}

/**
 * ssq_server_writer_flush:
 * Waits until everything submitted is committed, and runs the completion
 * callbacks. Callbacks may submit new writes; those are waited for too.
 * Blocks the caller for the commits: for shutdown only (every write of
 * the chat logic finishes in its completion).
 */
void
ssq_server_writer_flush (SsqServerWriter *writer)
{
  do
    {
      g_mutex_lock (&writer->lock);
      while (writer->queue->len > 0 || writer->busy)
        g_cond_wait (&writer->cond, &writer->lock);
      g_mutex_unlock (&writer->lock);
    }
  while (dispatch_until (writer, G_MAXINT64));
}

void
ssq_server_writer_submit (SsqServerWriter     *writer,
                          SsqServerWriterOp    op,
                          SsqServerWriterDone  done,
                          gpointer             data,
                          GDestroyNotify       data_free)
{
  PendingOp p = { op, done, data, data_free, NULL };

  writer->in_flight++;
  g_mutex_lock (&writer->lock);
  g_array_append_val (writer->queue, p);
  /* g_cond_signal is a futex call even when no one waits: while a batch
   * commits, the thread finds this write in the queue when it is done. */
  if (writer->idle)
    g_cond_signal (&writer->cond);
  g_mutex_unlock (&writer->lock);
}
