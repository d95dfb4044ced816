/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-png-strip.h: a copy of a PNG without its metadata (EXIF with
 * a GPS position, text chunks with an author, comments or XMP with a place,
 * the time it was last changed), for the media store to keep instead of the
 * upload: the PNG counterpart of ssq-server-exif.h.
 *
 * What the copy keeps: the critical chunks (IHDR, PLTE, IDAT, IEND) and the
 * ancillary chunks that change how the image looks: transparency (tRNS),
 * colour (gAMA, cHRM, sRGB, iCCP, cICP, sBIT), background (bKGD), pixel
 * aspect (pHYs: a ratio and a resolution, nothing about the person) and
 * APNG animation (acTL, fcTL, fdAT). They describe the pixels, not the
 * sender. Everything else goes: eXIf, tEXt, zTXt, iTXt (and so XMP), tIME,
 * sPLT (it carries a name), every other or unknown ancillary chunk, and
 * anything after IEND. An eXIf orientation is dropped with the rest: few
 * viewers honour it in a PNG, and the server reads no orientation from one.
 * The image data is copied byte for byte (no re-encoding). */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

gboolean ssq_server_png_strip (const char  *src_path,
                               const char  *dest_path,
                               GError     **error);

G_END_DECLS
