/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-thumbnailer.h: the thumbnails of stored images, made in the
 * background. The store marks the media owed one (at upload); the
 * thumbnailer hands them to the worker pool (ssq-server-thumbnail-pool.h)
 * as it has room, puts each thumbnail into the media store, has the writer
 * set it on the media row and rewrite every message carrying the media
 * (same seq, a new rev), and sends those messages again to the members of
 * their conversations. A media whose thumbnail is made before it is sent
 * simply carries it. Main loop only. */
#pragma once

#include "ssq-server-private.h"

G_BEGIN_DECLS

SsqServerThumbnailer *ssq_server_thumbnailer_new   (SsqServer            *server);
void                  ssq_server_thumbnailer_kick  (SsqServerThumbnailer *thumbnailer);
void                  ssq_server_thumbnailer_close (SsqServerThumbnailer *thumbnailer);
void                  ssq_server_thumbnailer_stats (SsqServerThumbnailer *thumbnailer,
                                                    guint64              *out_made,
                                                    guint64              *out_failed);

G_END_DECLS
