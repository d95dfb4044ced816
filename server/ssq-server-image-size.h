/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-image-size.h: the upright size of a stored image, read from
 * its header (and its EXIF orientation) without decoding it, so that an
 * upload's answer carries it. Blocking: call it off the main loop. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

gboolean ssq_server_image_size (const char *path,
                                const char *mime,
                                gint64     *out_width,
                                gint64     *out_height);

G_END_DECLS
