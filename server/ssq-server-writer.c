/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-writer.c: the group-commit queue.
 *
 * The first write of a batch schedules a flush at default priority. Sources
 * of equal priority that are already ready (other sockets with frames waiting)
 * are dispatched in the same iteration first, so under load a batch collects
 * everything that arrived together, and when idle a lone write is committed
 * at once: no timer adds latency. A full batch is flushed immediately. */
#include "ssq-server-writer.h"
#include "ssq-proto.h"

typedef struct {
  SsqServerWriterOp   op;
  SsqServerWriterDone done;
  gpointer            data;
  GDestroyNotify      data_free;
  GError             *error;
} PendingOp;

struct _SsqServerWriter {
  SsqServerStore          *store;
  guint                    batch_max;
  GArray                  *pending;     /* PendingOp */
  guint                    flush_source;
  SsqServerWriterBatchHook hook;
  gpointer                 hook_data;
};

SsqServerWriter *
ssq_server_writer_new (SsqServerStore *store,
                       guint           batch_max)
{
  SsqServerWriter *w = g_new0 (SsqServerWriter, 1);

  w->store = store;
  w->batch_max = MAX (batch_max, 1);
  w->pending = g_array_new (FALSE, TRUE, sizeof (PendingOp));
  return w;
}

void
ssq_server_writer_free (SsqServerWriter *writer)
{
  if (writer == NULL)
    return;
  ssq_server_writer_flush (writer);
  g_array_unref (writer->pending);
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

guint
ssq_server_writer_pending (SsqServerWriter *writer)
{
  return writer->pending->len;
}

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

static void
commit_batch (SsqServerWriter *writer,
              GArray          *batch)
{
  g_autoptr(GError) commit_error = NULL;
  gint64 start = g_get_monotonic_time ();

  if (ssq_server_store_begin (writer->store, &commit_error))
    {
      for (guint i = 0; i < batch->len && commit_error == NULL; i++)
        {
          PendingOp *p = &g_array_index (batch, PendingOp, i);

          if (!run_op (writer->store, p))
            g_propagate_error (&commit_error, g_steal_pointer (&p->error));
        }
      if (commit_error == NULL)
        ssq_server_store_commit (writer->store, &commit_error);
      else
        ssq_server_store_rollback (writer->store);
    }
  if (commit_error != NULL)
    g_warning ("Commit of %u writes failed: %s", batch->len, commit_error->message);
  if (writer->hook != NULL)
    writer->hook (batch->len, g_get_monotonic_time () - start, writer->hook_data);

  for (guint i = 0; i < batch->len; i++)
    {
      PendingOp *p = &g_array_index (batch, PendingOp, i);

      if (p->done != NULL)
        p->done (p->data, commit_error ? commit_error : p->error);
      g_clear_error (&p->error);
      if (p->data_free != NULL)
        p->data_free (p->data);
    }
}

/**
 * ssq_server_writer_flush:
 * Commits everything queued now, and runs the completion callbacks. Callbacks
 * may submit new writes; those go into the next batch.
 */
void
ssq_server_writer_flush (SsqServerWriter *writer)
{
  g_autoptr(GArray) batch = NULL;

  g_clear_handle_id (&writer->flush_source, g_source_remove);
  if (writer->pending->len == 0)
    return;
  batch = g_steal_pointer (&writer->pending);
  writer->pending = g_array_new (FALSE, TRUE, sizeof (PendingOp));
  commit_batch (writer, batch);
}

static gboolean
flush_cb (gpointer user_data)
{
  SsqServerWriter *writer = user_data;

  writer->flush_source = 0;
  ssq_server_writer_flush (writer);
  return G_SOURCE_REMOVE;
}

void
ssq_server_writer_submit (SsqServerWriter     *writer,
                          SsqServerWriterOp    op,
                          SsqServerWriterDone  done,
                          gpointer             data,
                          GDestroyNotify       data_free)
{
  PendingOp p = { op, done, data, data_free, NULL };

  g_array_append_val (writer->pending, p);
  if (writer->pending->len >= writer->batch_max)
    {
      ssq_server_writer_flush (writer);
      return;
    }
  if (writer->flush_source == 0)
    writer->flush_source = g_idle_add_full (G_PRIORITY_DEFAULT, flush_cb, writer, NULL);
}
