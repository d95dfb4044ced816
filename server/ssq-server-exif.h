/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-exif.h: a copy of a JPEG without its personal metadata (GPS
 * position, serial numbers, names, maker notes, embedded previews), for the
 * media store to keep instead of the upload.
 *
 * What the copy keeps, and why:
 *  - the image data itself, untouched (no re-encoding, no quality loss);
 *  - the EXIF orientation, rewritten as the only EXIF tag: without it phone
 *    photos show on their side;
 *  - the ICC colour profile (APP2 "ICC_PROFILE") and the JFIF and Adobe
 *    segments (APP0, APP14): colours and decoding depend on them, and they
 *    describe the encoding, not the person. The JFIF thumbnail is dropped.
 * Everything else goes: all other EXIF tags (GPS, date taken, camera make,
 * model and serial numbers, owner, artist, copyright, maker notes, the
 * EXIF preview image), XMP and IPTC (their location, creator and keyword
 * fields), comments, the other APPn segments (MPF, FlashPix, vendor data)
 * and anything after the end-of-image marker (secondary images, motion-photo
 * videos, vendor trailers). The date taken goes too: the message already
 * carries when it was sent, and when a photo was taken is the sender's to
 * say. The pixel size is in the JPEG frame header, not in EXIF. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

gboolean ssq_server_exif_strip       (const char  *src_path,
                                      const char  *dest_path,
                                      GError     **error);
guint    ssq_server_exif_orientation (const char  *path);

G_END_DECLS
