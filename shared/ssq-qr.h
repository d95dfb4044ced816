/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-qr.h: QR codes of invite links (libqrencode), as a plain bitmap for
 * any toolkit, as Unicode half blocks for terminals, and as 8-bit grey
 * pixels a GdkPixbuf or a PNG writer takes. No toolkit here. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define SSQ_QR_QUIET_ZONE 4      /* modules of light border the standard asks for */

typedef struct {
  guint   size;       /* modules per side, without the quiet zone */
  guint8 *modules;    /* size * size, row by row: 1 dark, 0 light */
} SsqQrBitmap;

gboolean     ssq_qr_available        (void);
SsqQrBitmap *ssq_qr_encode           (const char        *text,
                                      GError           **error);
void         ssq_qr_bitmap_free      (SsqQrBitmap       *bitmap);
char        *ssq_qr_to_half_blocks   (const SsqQrBitmap *bitmap,
                                      gboolean           ansi_colors);
guint8      *ssq_qr_to_grey          (const SsqQrBitmap *bitmap,
                                      guint              scale,
                                      guint             *out_width);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsqQrBitmap, ssq_qr_bitmap_free)

G_END_DECLS
