/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-thumbnail-pool.h: thumbnails made on worker threads, delivered
 * on the main loop. A bounded queue: when it is full, a submission is
 * refused (and counted as a failure) rather than held in memory.
 *
 * Use (the media code, on the main loop):
 *
 *   pool = ssq_server_thumbnail_pool_new (2, 64, 0);           // at start
 *   if (!ssq_server_thumbnail_pool_submit (pool, path, mime, thumb_path,
 *                                          done_cb, ctx, ctx_free, &error))
 *     ...no thumbnail; ctx is still the caller's...
 *   // later, on the main loop: done_cb (thumbnail or NULL, error, ctx),
 *   // then ctx_free (ctx)
 *   ssq_server_thumbnail_pool_get_stats (pool, &stats);         // /metrics
 *   ssq_server_thumbnail_pool_free (pool);                      // at stop
 *
 * Suggested settings and metric names: [media] thumbnail_workers (2),
 * thumbnail_queue (64), max_image_pixels (50000000);
 * ssq_thumbnails_made_total, ssq_thumbnails_failed_total (counters),
 * ssq_thumbnail_queue_length (gauge). */
#pragma once

#include "ssq-server-thumbnail.h"

G_BEGIN_DECLS

#define SSQ_THUMBNAIL_POOL_WORKERS_DEFAULT 2
#define SSQ_THUMBNAIL_POOL_QUEUE_DEFAULT   64

typedef struct _SsqServerThumbnailPool SsqServerThumbnailPool;

typedef struct {
  guint64 made_total;     /* thumbnails made */
  guint64 failed_total;   /* jobs that made none: bad or too large images, write
                           * errors, and submissions refused on a full queue */
  guint64 refused_total;  /* of failed_total: refused on a full queue */
  guint   queue_length;   /* accepted jobs not finished yet (running included) */
} SsqServerThumbnailStats;

/* On the main context, once per accepted job. @thumbnail (borrowed: keep
 * what you need, e.g. g_bytes_ref (thumbnail->data)) is NULL when @error is
 * set. */
typedef void (*SsqServerThumbnailDone) (const SsqServerThumbnail *thumbnail,
                                        const GError             *error,
                                        gpointer                  user_data);

SsqServerThumbnailPool *ssq_server_thumbnail_pool_new       (guint                     n_workers,
                                                             guint                     queue_max,
                                                             guint64                   max_pixels);
gboolean                ssq_server_thumbnail_pool_submit    (SsqServerThumbnailPool   *pool,
                                                             const char               *path,
                                                             const char               *mime,
                                                             const char               *dest_path,
                                                             SsqServerThumbnailDone    done,
                                                             gpointer                  user_data,
                                                             GDestroyNotify            user_data_free,
                                                             GError                  **error);
void                    ssq_server_thumbnail_pool_get_stats (SsqServerThumbnailPool   *pool,
                                                             SsqServerThumbnailStats  *stats);
void                    ssq_server_thumbnail_pool_free      (SsqServerThumbnailPool   *pool);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsqServerThumbnailPool, ssq_server_thumbnail_pool_free)

G_END_DECLS
