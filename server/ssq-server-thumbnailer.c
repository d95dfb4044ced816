/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-thumbnailer.c: from a media owed a thumbnail to the message
 * events that show it.
 *
 * A job goes through four hands, each on the thread its work belongs to:
 * the pool decodes (worker thread), the media store's threads write the
 * thumbnail into the store (an fsync), the writer commits the media row
 * and the messages carrying it, and the main loop sends those messages.
 * At most [media] thumbnail_queue jobs are under way, so the pool never
 * refuses one; the others wait in the store, marked, and are picked up
 * whenever a job ends, and at start: neither a burst of uploads nor a
 * restart loses a thumbnail. A job ends the mark, made or failed, except
 * when the server stops: then the next start takes it up again.
 *
 * Each hand passes the job on in a fresh Job (job_pass ()), so that
 * whatever drops a Job (the pool at its end, a source never dispatched)
 * only frees it. The server pointer is cleared at close: jobs that come
 * back after it only let go of what they hold. */
#include "ssq-server-thumbnailer.h"
#include "ssq-server-chat.h"
#include "ssq-server-thumbnail-pool.h"

struct _SsqServerThumbnailer {
  gint                    ref_count;
  SsqServer              *server;      /* NULL once closed */
  SsqServerThumbnailPool *pool;        /* NULL: no workers, no thumbnails */
  GHashTable             *in_flight;   /* media ids, from the pool to the commit */
  guint                   queue_max;
  guint64                 made;
  guint64                 failed;
};

typedef struct {
  SsqServerThumbnailer *thumbnailer;
  SsqServerMedia       *media;         /* for the store's threads */
  char                 *media_id;
  GBytes               *data;          /* the encoded thumbnail */
  char                 *mime;
  gint64                width;         /* the source image's, upright */
  gint64                height;
  char                 *hash;          /* the thumbnail in the store (pinned) */
  GError               *error;
  GPtrArray            *messages;      /* SsqMessageRow rewritten by the commit */
  GPtrArray            *freed;         /* hashes the commit let go */
} Job;

/* Atomic: a job dropped by a source that never ran may be freed wherever
 * its context goes. */
static SsqServerThumbnailer *
thumbnailer_ref (SsqServerThumbnailer *t)
{
  g_atomic_int_inc (&t->ref_count);
  return t;
}

static void
thumbnailer_unref (SsqServerThumbnailer *t)
{
  if (!g_atomic_int_dec_and_test (&t->ref_count))
    return;
  g_assert (t->pool == NULL);
  g_hash_table_unref (t->in_flight);
  g_free (t);
}

static void
job_free (gpointer data)
{
  Job *job = data;

  if (job->hash != NULL)
    ssq_server_media_unpin (job->media, job->hash, NULL);  /* the start-up sweep decides */
  g_clear_pointer (&job->data, g_bytes_unref);
  g_clear_pointer (&job->messages, g_ptr_array_unref);
  g_clear_pointer (&job->freed, g_ptr_array_unref);
  g_clear_error (&job->error);
  g_free (job->media_id);
  g_free (job->mime);
  g_free (job->hash);
  ssq_server_media_unref (job->media);
  thumbnailer_unref (job->thumbnailer);
  g_free (job);
}

/* The job, taken out of @job (which is left empty, to be freed by whoever
 * holds it). */
static Job *
job_pass (Job *job)
{
  Job *next = g_new (Job, 1);

  *next = *job;
  *job = (Job) { 0 };
  job->thumbnailer = thumbnailer_ref (next->thumbnailer);
  job->media = ssq_server_media_ref (next->media);
  return next;
}

/* The job is over: its media may be taken up again, and there is room. */
static void
job_end (Job *job)
{
  SsqServerThumbnailer *t = job->thumbnailer;

  g_hash_table_remove (t->in_flight, job->media_id);
  ssq_server_thumbnailer_kick (t);
  job_free (job);
}

/* ---- A thumbnail that cannot be made ------------------------------------ */

static gboolean
failed_op (SsqServerStore  *store,
           gpointer         data,
           GError         **error)
{
  Job *job = data;

  return ssq_server_store_media_thumbnail_failed (store, job->media_id, error);
}

static void
failed_done (gpointer      data,
             const GError *error)
{
  Job *job = data;

  if (job->thumbnailer->server == NULL)
    return;
  /* Counted once it is no longer owed, as a thumbnail once committed. */
  job->thumbnailer->failed++;
  if (error != NULL)
    g_warning ("Cannot mark media %s as without thumbnail: %s", job->media_id, error->message);
  job_end (job_pass (job));
}

/* No thumbnail for this image: counted, and no longer owed. */
static void
job_failed (Job          *job,
            const GError *error)
{
  SsqServer *server = job->thumbnailer->server;

  g_debug ("No thumbnail for media %s: %s", job->media_id, error->message);
  ssq_server_writer_submit (server->writer, failed_op, failed_done, job, job_free);
}

/* ---- The commit, and the events ----------------------------------------- */

static gboolean
set_image_op (SsqServerStore  *store,
              gpointer         data,
              GError         **error)
{
  Job *job = data;

  /* Afresh when run again (see ssq-server-writer.h). */
  g_clear_pointer (&job->messages, g_ptr_array_unref);
  g_clear_pointer (&job->freed, g_ptr_array_unref);
  job->messages = g_ptr_array_new_with_free_func ((GDestroyNotify) ssq_message_row_free);
  job->freed = g_ptr_array_new_with_free_func (g_free);
  return ssq_server_store_media_set_image (store, job->media_id, job->width, job->height,
                                           job->hash, job->mime, job->messages, job->freed,
                                           error);
}

static void
set_image_done (gpointer      data,
                const GError *error)
{
  Job *job = data;
  SsqServer *server = job->thumbnailer->server;
  g_autofree char *hash = g_steal_pointer (&job->hash);

  if (server == NULL)
    {
      ssq_server_media_unpin (job->media, hash, NULL);
      return;
    }
  /* Committed or not, the pin goes: an unused thumbnail with it. */
  ssq_server_media_unpin (server->media, hash, server->store);
  if (g_error_matches (error, SSQ_ERROR, SSQ_ERROR_NOT_FOUND))
    ;   /* the media went meanwhile */
  else if (error != NULL)
    {
      job_failed (job_pass (job), error);
      return;
    }
  else
    {
      job->thumbnailer->made++;
      ssq_server_media_release (server->media, job->freed, server->store);
      for (guint i = 0; i < job->messages->len; i++)
        ssq_server_chat_emit_message (server, job->messages->pdata[i], FALSE);
    }
  job_end (job_pass (job));
}

/* ---- Into the media store ------------------------------------------------ */

/* Main loop: the thumbnail is in the store (pinned), or @job->error. */
static gboolean
stored_cb (gpointer data)
{
  Job *job = job_pass (data);
  SsqServer *server = job->thumbnailer->server;

  if (server == NULL)
    job_free (job);
  else if (job->error != NULL)
    {
      g_autoptr(GError) error = g_steal_pointer (&job->error);

      job_failed (job, error);
    }
  else
    ssq_server_writer_submit (server->writer, set_image_op, set_image_done, job, job_free);
  return G_SOURCE_REMOVE;
}

/* The store's thread. */
static void
store_job (gpointer data,
           gpointer user_data)
{
  Job *job = data;

  job->hash = ssq_server_media_store_bytes (job->media, job->data, &job->error);
  g_clear_pointer (&job->data, g_bytes_unref);
  ssq_server_media_invoke (job->media, stored_cb, job, job_free);
}

/* Main loop, from the pool. */
static void
thumbnail_done_cb (const SsqServerThumbnail *thumbnail,
                   const GError             *error,
                   gpointer                  user_data)
{
  Job *job;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;     /* stopping: still owed, for the next start */
  job = job_pass (user_data);
  if (error != NULL)
    {
      job_failed (job, error);
      return;
    }
  job->data = g_bytes_ref (thumbnail->data);
  job->mime = g_strdup (thumbnail->mime);
  job->width = thumbnail->source_width;
  job->height = thumbnail->source_height;
  ssq_server_media_run (job->media, store_job, job);
}

/* ---- Taking up the media owed a thumbnail -------------------------------- */

static gboolean
submit (SsqServerThumbnailer *t,
        const SsqMediaRow    *row)
{
  SsqServer *server = t->server;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = ssq_server_media_path (server->media, row->sha256);
  Job *job;

  if (path == NULL)
    return FALSE;
  job = g_new0 (Job, 1);
  job->thumbnailer = thumbnailer_ref (t);
  job->media = ssq_server_media_ref (server->media);
  job->media_id = g_strdup (row->id);
  if (!ssq_server_thumbnail_pool_submit (t->pool, path, row->mime, NULL, thumbnail_done_cb,
                                         job, job_free, &error))
    {
      /* Not expected (the queue is kept below its bound): still owed. */
      g_warning ("Thumbnail of media %s not queued: %s", row->id, error->message);
      job_free (job);
      return FALSE;
    }
  g_hash_table_add (t->in_flight, g_strdup (row->id));
  return TRUE;
}

/**
 * ssq_server_thumbnailer_kick:
 * Hands media owed a thumbnail to the pool, the oldest first, as far as
 * there is room: after an upload is committed, and whenever a job ends.
 */
void
ssq_server_thumbnailer_kick (SsqServerThumbnailer *t)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) rows = NULL;
  guint busy = g_hash_table_size (t->in_flight);

  if (t->server == NULL || t->pool == NULL || busy >= t->queue_max)
    return;
  /* The ones under way are among the oldest owed: past them, the room. */
  rows = ssq_server_store_media_thumbnails_pending (t->server->store, t->queue_max, &error);
  if (rows == NULL)
    {
      g_warning ("Cannot read the media owed a thumbnail: %s", error->message);
      return;
    }
  for (guint i = 0; i < rows->len && busy < t->queue_max; i++)
    {
      SsqMediaRow *row = rows->pdata[i];

      if (!g_hash_table_contains (t->in_flight, row->id) && submit (t, row))
        busy++;
    }
}

/**
 * ssq_server_thumbnailer_new:
 * A thumbnailer for @server, with [media] thumbnail_workers threads (none:
 * no thumbnails are made, the media stay owed them) and thumbnail_queue
 * jobs under way at most. Call ssq_server_thumbnailer_kick () once the
 * server is ready to take up what a previous run left.
 */
SsqServerThumbnailer *
ssq_server_thumbnailer_new (SsqServer *server)
{
  const SsqServerConfig *config = server->config;
  SsqServerThumbnailer *t = g_new0 (SsqServerThumbnailer, 1);

  t->ref_count = 1;
  t->server = server;
  t->queue_max = config->thumbnail_queue;
  t->in_flight = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  /* [features] media=false: nothing is decoded, no thread is started. */
  if (config->thumbnail_workers > 0 && config->features_media)
    t->pool = ssq_server_thumbnail_pool_new (config->thumbnail_workers, config->thumbnail_queue,
                                             config->max_image_pixels);
  return t;
}

/**
 * ssq_server_thumbnailer_close:
 * Stops (decodes under way are cancelled and waited for) and drops the
 * server's reference. Jobs past the pool end without touching the server.
 */
void
ssq_server_thumbnailer_close (SsqServerThumbnailer *t)
{
  if (t == NULL)
    return;
  t->server = NULL;
  g_clear_pointer (&t->pool, ssq_server_thumbnail_pool_free);
  thumbnailer_unref (t);
}

/**
 * ssq_server_thumbnailer_stats:
 * For /metrics: thumbnails made (committed) and images that got none
 * (they do not decode, declare too many pixels, or storing failed).
 */
void
ssq_server_thumbnailer_stats (SsqServerThumbnailer *t,
                              guint64              *out_made,
                              guint64              *out_failed)
{
  *out_made = t->made;
  *out_failed = t->failed;
}
