/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-readers.c: a few threads, each with its own connection, that
 * run reads for the main loop.
 *
 * Why: a page of history read on the main loop held every other
 * connection for the whole read (and a page not in memory waits for the
 * disk), and left the second core to the writer alone. Under WAL, readers
 * wait neither for the writer nor for each other, so reads run here side
 * by side with the main loop, which meanwhile parses, delivers and
 * answers.
 *
 * Jobs queue up to ssq_server_readers_room: past it (an HTTP/2 client may
 * have 32 requests in flight on each of its connections) the caller reads
 * on the main loop itself, which bounds the pages being built at once and
 * slows the client down as before. */
#include "ssq-server-readers.h"

typedef struct {
  SsqServerReadFunc  read;
  SsqServerReadDone  done;
  gpointer           data;
  GDestroyNotify     data_free;
  GError            *error;
} ReadJob;

struct _SsqServerReaders {
  GThreadPool  *pool;
  GAsyncQueue  *stores;       /* SsqServerStore: the idle connections */
  guint         n_stores;
  GMainContext *context;      /* where completions run */

  GMutex        lock;         /* guards finished and dispatch */
  GCond         cond;         /* signalled as each job is read */
  GQueue        finished;     /* ReadJob, read, completion not yet run */
  GSource      *dispatch;

  guint         pending;      /* main thread: run, completion not yet run */
};

static void
job_free (ReadJob *job)
{
  if (job->data_free != NULL)
    job->data_free (job->data);
  g_clear_error (&job->error);
  g_free (job);
}

/* Main thread: the completions of every job read so far. */
static gboolean
dispatch_cb (gpointer user_data)
{
  SsqServerReaders *readers = user_data;
  GQueue done = G_QUEUE_INIT;
  ReadJob *job;

  g_mutex_lock (&readers->lock);
  done = readers->finished;
  g_queue_init (&readers->finished);
  g_clear_pointer (&readers->dispatch, g_source_unref);
  g_mutex_unlock (&readers->lock);
  /* Counted out before any completion runs: one that flushes (or queues
   * a read) then finds the count it expects. */
  readers->pending -= done.length;
  while ((job = g_queue_pop_head (&done)) != NULL)
    {
      job->done (job->data, job->error);
      job_free (job);
    }
  return G_SOURCE_REMOVE;
}

/* A reader thread. Every thread finds a connection: there are as many as
 * threads. */
static void
reader_thread (gpointer job_data,
               gpointer user_data)
{
  ReadJob *job = job_data;
  SsqServerReaders *readers = user_data;
  SsqServerStore *store = g_async_queue_pop (readers->stores);

  if (!job->read (store, job->data, &job->error) && job->error == NULL)
    g_set_error_literal (&job->error, SSQ_ERROR, SSQ_ERROR_INTERNAL, "The read failed");
  g_async_queue_push (readers->stores, store);

  g_mutex_lock (&readers->lock);
  g_queue_push_tail (&readers->finished, job);
  if (readers->dispatch == NULL)
    {
      readers->dispatch = g_idle_source_new ();
      g_source_set_priority (readers->dispatch, G_PRIORITY_DEFAULT);
      g_source_set_callback (readers->dispatch, dispatch_cb, readers, NULL);
      g_source_attach (readers->dispatch, readers->context);
    }
  g_cond_signal (&readers->cond);
  g_mutex_unlock (&readers->lock);
}

/**
 * ssq_server_readers_new:
 * Opens @n_threads further connections to the database at @db_path, which
 * this process has already opened and migrated, and starts a thread for
 * each. Completions run in the thread-default main context of the caller.
 */
SsqServerReaders *
ssq_server_readers_new (const char  *db_path,
                        gboolean     durable,
                        guint        n_threads,
                        GError     **error)
{
  g_autoptr(SsqServerReaders) readers = g_new0 (SsqServerReaders, 1);

  g_mutex_init (&readers->lock);
  g_cond_init (&readers->cond);
  g_queue_init (&readers->finished);
  readers->context = g_main_context_ref_thread_default ();
  readers->stores = g_async_queue_new ();
  for (guint i = 0; i < MAX (n_threads, 1); i++)
    {
      SsqServerStore *store = ssq_server_store_open_another (db_path, durable, error);

      if (store == NULL)
        return NULL;
      g_async_queue_push (readers->stores, store);
      readers->n_stores++;
    }
  readers->pool = g_thread_pool_new (reader_thread, readers, (int) readers->n_stores, TRUE, error);
  if (readers->pool == NULL)
    return NULL;
  return g_steal_pointer (&readers);
}

/**
 * ssq_server_readers_free:
 * Waits for the jobs queued, runs their completions, then closes the
 * connections.
 */
void
ssq_server_readers_free (SsqServerReaders *readers)
{
  if (readers == NULL)
    return;
  if (readers->pool != NULL)
    g_thread_pool_free (readers->pool, FALSE, TRUE);
  ssq_server_readers_flush (readers);
  for (guint i = 0; i < readers->n_stores; i++)
    ssq_server_store_close (g_async_queue_pop (readers->stores));
  g_async_queue_unref (readers->stores);
  g_main_context_unref (readers->context);
  g_mutex_clear (&readers->lock);
  g_cond_clear (&readers->cond);
  g_free (readers);
}

/**
 * ssq_server_readers_run:
 * Queues @read, which runs on a reader thread with a connection of its
 * own; then @done runs on the main loop, and @data_free after it.
 */
void
ssq_server_readers_run (SsqServerReaders  *readers,
                        SsqServerReadFunc  read,
                        SsqServerReadDone  done,
                        gpointer           data,
                        GDestroyNotify     data_free)
{
  ReadJob *job = g_new0 (ReadJob, 1);

  job->read = read;
  job->done = done;
  job->data = data;
  job->data_free = data_free;
  readers->pending++;
  /* Cannot fail: the threads are made up front (exclusive pool). */
  g_thread_pool_push (readers->pool, job, NULL);
}

/**
 * ssq_server_readers_flush:
 * Waits for every job queued to be read, and runs their completions.
 */
void
ssq_server_readers_flush (SsqServerReaders *readers)
{
  g_mutex_lock (&readers->lock);
  while (g_queue_get_length (&readers->finished) < readers->pending)
    g_cond_wait (&readers->cond, &readers->lock);
  if (readers->dispatch != NULL)
    g_source_destroy (readers->dispatch);
  g_mutex_unlock (&readers->lock);
  dispatch_cb (readers);
}

/* Whether another job may be queued: at most 8 a thread wait, read or
 * not, their completions not run yet. */
gboolean
ssq_server_readers_room (SsqServerReaders *readers)
{
  return readers->pending < 8 * readers->n_stores;
}

/* Jobs run whose completion has not run yet. */
guint
ssq_server_readers_pending (SsqServerReaders *readers)
{
  return readers->pending;
}
