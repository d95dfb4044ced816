/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-thumbnail.h: a small preview of a stored image (JPEG, PNG, GIF's
 * first frame, WebP where gdk-pixbuf has a loader), decoded at reduced size
 * and turned upright, with the original's dimensions. Blocking: call it off
 * the main loop (ssq-server-thumbnail-pool.h does). */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* The longest side of a thumbnail, in pixels. */
#define SSQ_THUMBNAIL_MAX_SIDE           320
/* Images whose header declares more pixels than this are not decoded:
 * decoding costs 4 bytes a pixel (a 50-megapixel PNG needs 200 MB). */
#define SSQ_THUMBNAIL_MAX_PIXELS_DEFAULT G_GUINT64_CONSTANT (50000000)

typedef struct {
  GBytes     *data;           /* the encoded thumbnail */
  const char *mime;           /* "image/jpeg", or "image/png" when the source has alpha */
  int         width;          /* the thumbnail's, upright */
  int         height;
  int         source_width;   /* the original image's, upright (EXIF orientation applied) */
  int         source_height;
} SsqServerThumbnail;

gboolean            ssq_server_thumbnail_supported (const char          *mime);
SsqServerThumbnail *ssq_server_thumbnail_make      (const char          *path,
                                                    const char          *mime,
                                                    guint64              max_pixels,
                                                    GCancellable        *cancellable,
                                                    GError             **error);
void                ssq_server_thumbnail_free      (SsqServerThumbnail  *thumbnail);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsqServerThumbnail, ssq_server_thumbnail_free)

G_END_DECLS
