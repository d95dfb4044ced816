/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-webp-strip.h: a copy of a WebP without its metadata (EXIF with
 * a GPS position, XMP with a place or an author), for the media store to
 * keep instead of the upload: the WebP counterpart of ssq-server-exif.h and
 * ssq-server-png-strip.h.
 *
 * A WebP is a RIFF file of chunks. What the copy keeps: in a simple file
 * (its first chunk `VP8 ` or `VP8L`), that one image chunk; in an extended
 * one (first chunk `VP8X`), the `VP8X` header with its EXIF and XMP flags
 * cleared, the colour profile (`ICCP`), the alpha (`ALPH`) and image
 * (`VP8 `, `VP8L`) chunks, and the animation (`ANIM`, and each frame
 * `ANMF` with only its alpha and image chunks inside). They describe the
 * pixels, not the sender. Everything else goes: `EXIF`, `XMP `, every
 * other or unknown chunk (at the top or inside a frame), and anything
 * after the RIFF's end. An EXIF orientation goes with the rest: its chunk
 * comes after the image data, where browsers ignore it, and the server
 * reads none from a WebP. The image data is copied byte for byte (no
 * re-encoding); a damaged file (a bad chunk name, a header out of place,
 * no image data) is refused.
 *
 * Exiv2 (gexiv2 0.14, Exiv2 0.27) can write a WebP's EXIF and XMP, but not
 * strip them safely: cleared and saved, a file keeps its `XMP ` chunk with
 * the place in it, and unknown chunks and trailers stay. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

gboolean ssq_server_webp_strip       (const char     *src_path,
                                      const char     *dest_path,
                                      GError        **error);
gboolean ssq_server_webp_strip_bytes (const guint8   *data,
                                      gsize           len,
                                      GOutputStream  *out,
                                      GError        **error);

G_END_DECLS
