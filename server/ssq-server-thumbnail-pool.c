/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-thumbnail-pool.c: a GThreadPool making thumbnails, finished
 * jobs handed back to the main context through one idle source.
 *
 * The bound counts jobs accepted and not yet finished, the running ones
 * included: memory held by the pool is at most that many small jobs plus
 * one decode per worker, whatever the rate of uploads. */
#include "ssq-server-thumbnail-pool.h"
#include "ssq-proto.h"

#include <glib/gstdio.h>

typedef struct {
  char                  *path;
  char                  *mime;
  char                  *dest_path;
  SsqServerThumbnailDone done;
  gpointer               user_data;
  GDestroyNotify         user_data_free;
  SsqServerThumbnail    *thumbnail;   /* the worker's result, or NULL */
  GError                *error;       /* why not */
} Job;

struct _SsqServerThumbnailPool {
  GThreadPool  *threads;
  guint64       max_pixels;
  guint         queue_max;
  GCancellable *cancellable;   /* cancelled when the pool is freed */
  GMainContext *context;       /* where completions run */

  /* Under lock: shared with the workers. */
  GMutex        lock;
  GQueue        finished;      /* Job, waiting for delivery */
  GSource      *dispatch;      /* the scheduled delivery, if any */
  guint         pending;       /* accepted, not finished */
  guint64       made;
  guint64       failed;
  guint64       refused;
};

static void
job_free (Job *job)
{
  if (job->user_data_free != NULL)
    job->user_data_free (job->user_data);
  ssq_server_thumbnail_free (job->thumbnail);
  g_clear_error (&job->error);
  g_free (job->path);
  g_free (job->mime);
  g_free (job->dest_path);
  g_free (job);
}

/* Worker: writes the thumbnail where the caller wants it, atomically (a
 * temporary file, fsynced, renamed), so that a crash never leaves half a
 * thumbnail for the server to send. */
static gboolean
write_thumbnail (const char                *dest_path,
                 const SsqServerThumbnail  *thumbnail,
                 GError                   **error)
{
  gsize len = 0;
  const char *data = g_bytes_get_data (thumbnail->data, &len);

  return g_file_set_contents_full (dest_path, data, (gssize) len,
                                   G_FILE_SET_CONTENTS_CONSISTENT, 0600, error);
}

static gboolean dispatch_cb (gpointer user_data);

/* Under lock. */
static void
schedule_dispatch (SsqServerThumbnailPool *pool)
{
  if (pool->dispatch != NULL)
    return;
  pool->dispatch = g_idle_source_new ();
  g_source_set_priority (pool->dispatch, G_PRIORITY_DEFAULT);
  g_source_set_callback (pool->dispatch, dispatch_cb, pool, NULL);
  g_source_set_static_name (pool->dispatch, "ssq-thumbnail-pool");
  g_source_attach (pool->dispatch, pool->context);
}

/* Worker thread. */
static void
run_job (gpointer data,
         gpointer user_data)
{
  Job *job = data;
  SsqServerThumbnailPool *pool = user_data;
  gboolean cancelled;

  job->thumbnail = ssq_server_thumbnail_make (job->path, job->mime, pool->max_pixels,
                                              pool->cancellable, &job->error);
  if (job->thumbnail != NULL && job->dest_path != NULL
      && !write_thumbnail (job->dest_path, job->thumbnail, &job->error))
    g_clear_pointer (&job->thumbnail, ssq_server_thumbnail_free);
  cancelled = g_error_matches (job->error, G_IO_ERROR, G_IO_ERROR_CANCELLED);

  g_mutex_lock (&pool->lock);
  pool->pending--;
  if (job->thumbnail != NULL)
    pool->made++;
  else if (!cancelled)
    pool->failed++;
  g_queue_push_tail (&pool->finished, job);
  schedule_dispatch (pool);
  g_mutex_unlock (&pool->lock);
}

/* Main context: delivers every finished job, in the order they finished. */
static gboolean
dispatch_cb (gpointer user_data)
{
  SsqServerThumbnailPool *pool = user_data;
  GQueue ready = G_QUEUE_INIT;
  Job *job;

  g_mutex_lock (&pool->lock);
  ready = pool->finished;
  g_queue_init (&pool->finished);
  g_clear_pointer (&pool->dispatch, g_source_unref);
  g_mutex_unlock (&pool->lock);

  while ((job = g_queue_pop_head (&ready)) != NULL)
    {
      if (job->done != NULL)
        job->done (job->thumbnail, job->error, job->user_data);
      job_free (job);
    }
  return G_SOURCE_REMOVE;
}

/**
 * ssq_server_thumbnail_pool_new:
 * @n_workers: threads decoding at once; 0 for
 *   SSQ_THUMBNAIL_POOL_WORKERS_DEFAULT
 * @queue_max: jobs accepted and not finished at most; 0 for
 *   SSQ_THUMBNAIL_POOL_QUEUE_DEFAULT
 * @max_pixels: see ssq_server_thumbnail_make(); 0 for the default
 *
 * Completions run in the thread-default main context of the caller.
 *
 * Returns: (transfer full): a pool; free it with
 *   ssq_server_thumbnail_pool_free()
 */
SsqServerThumbnailPool *
ssq_server_thumbnail_pool_new (guint   n_workers,
                               guint   queue_max,
                               guint64 max_pixels)
{
  SsqServerThumbnailPool *pool = g_new0 (SsqServerThumbnailPool, 1);

  pool->max_pixels = max_pixels;
  pool->queue_max = queue_max != 0 ? queue_max : SSQ_THUMBNAIL_POOL_QUEUE_DEFAULT;
  pool->cancellable = g_cancellable_new ();
  pool->context = g_main_context_ref_thread_default ();
  g_mutex_init (&pool->lock);
  g_queue_init (&pool->finished);
  /* Not exclusive: threads start on demand and idle ones are shared with
   * GLib's other pools, so a quiet server holds no decoder threads. Never
   * fails when not exclusive. */
  pool->threads = g_thread_pool_new (run_job, pool,
                                     (int) (n_workers != 0 ? n_workers : SSQ_THUMBNAIL_POOL_WORKERS_DEFAULT),
                                     FALSE, NULL);
  return pool;
}

/**
 * ssq_server_thumbnail_pool_submit:
 * @pool: a pool
 * @path: the stored image
 * @mime: its sniffed type
 * @dest_path: (nullable): where to write the thumbnail (atomically, mode
 *   0600), or %NULL to have it only in memory
 * @done: (nullable): called on the main context when the job is finished
 * @user_data: for @done
 * @user_data_free: (nullable): frees @user_data after @done, or at
 *   ssq_server_thumbnail_pool_free() if the job was not delivered by then
 * @error: SSQ_ERROR_UNAVAILABLE when the queue is full
 *
 * Queues a thumbnail of @path. Never blocks.
 *
 * Returns: %TRUE if queued; %FALSE when the queue is full: the job is
 *   dropped, counted as failed, and @user_data stays the caller's
 */
gboolean
ssq_server_thumbnail_pool_submit (SsqServerThumbnailPool  *pool,
                                  const char              *path,
                                  const char              *mime,
                                  const char              *dest_path,
                                  SsqServerThumbnailDone   done,
                                  gpointer                 user_data,
                                  GDestroyNotify           user_data_free,
                                  GError                 **error)
{
  g_autoptr(GError) push_error = NULL;
  Job *job;

  g_return_val_if_fail (pool != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (mime != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  g_mutex_lock (&pool->lock);
  if (pool->pending >= pool->queue_max)
    {
      pool->failed++;
      pool->refused++;
      g_mutex_unlock (&pool->lock);
      g_set_error (error, SSQ_ERROR, SSQ_ERROR_UNAVAILABLE,
                   "Thumbnail queue full (%u jobs)", pool->queue_max);
      return FALSE;
    }
  pool->pending++;
  g_mutex_unlock (&pool->lock);

  job = g_new0 (Job, 1);
  job->path = g_strdup (path);
  job->mime = g_strdup (mime);
  job->dest_path = g_strdup (dest_path);
  job->done = done;
  job->user_data = user_data;
  job->user_data_free = user_data_free;
  /* The job is queued even when no new thread could start: a running
   * worker takes it. */
  if (!g_thread_pool_push (pool->threads, job, &push_error))
    g_warning ("Thumbnail worker not started: %s", push_error->message);
  return TRUE;
}

/**
 * ssq_server_thumbnail_pool_get_stats:
 * Fills @stats with the counters, for /metrics. Main thread or any.
 */
void
ssq_server_thumbnail_pool_get_stats (SsqServerThumbnailPool  *pool,
                                     SsqServerThumbnailStats *stats)
{
  g_return_if_fail (pool != NULL);
  g_return_if_fail (stats != NULL);

  g_mutex_lock (&pool->lock);
  stats->made_total = pool->made;
  stats->failed_total = pool->failed;
  stats->refused_total = pool->refused;
  stats->queue_length = pool->pending;
  g_mutex_unlock (&pool->lock);
}

/**
 * ssq_server_thumbnail_pool_free:
 * Stops the pool, on the thread of its main context (not from inside a
 * @done callback). Jobs not started are cancelled, running ones stop at
 * their next chunk of input, and the call waits for them. No @done runs
 * after this: each job not delivered yet only has its user data freed.
 */
void
ssq_server_thumbnail_pool_free (SsqServerThumbnailPool *pool)
{
  Job *job;

  if (pool == NULL)
    return;
  g_cancellable_cancel (pool->cancellable);
  /* Runs the queued jobs, which fail at once (cancelled), and waits for
   * them all: GThreadPool would otherwise drop them unfreed. */
  g_thread_pool_free (pool->threads, FALSE, TRUE);

  if (pool->dispatch != NULL)
    {
      g_source_destroy (pool->dispatch);
      g_clear_pointer (&pool->dispatch, g_source_unref);
    }
  while ((job = g_queue_pop_head (&pool->finished)) != NULL)
    job_free (job);
  g_mutex_clear (&pool->lock);
  g_object_unref (pool->cancellable);
  g_main_context_unref (pool->context);
  g_free (pool);
}
