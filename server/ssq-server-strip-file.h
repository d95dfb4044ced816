/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-strip-file.h: the file side of the metadata strippers that
 * work on bytes (ssq-server-png-strip.h, ssq-server-webp-strip.h): the
 * upload mapped, the copy written through a buffer and removed on
 * failure. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Writes the stripped copy of @data to @out, or fails with @error. */
typedef gboolean (*SsqServerStripBytesFunc) (const guint8   *data,
                                             gsize           len,
                                             GOutputStream  *out,
                                             GError        **error);

gboolean ssq_server_strip_file (const char               *src_path,
                                const char               *dest_path,
                                SsqServerStripBytesFunc   strip,
                                GError                  **error);

G_END_DECLS
