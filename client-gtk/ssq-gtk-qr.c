/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-gtk-qr.c: a QR code as a texture. Each module is a whole number of
 * pixels, black on white with the quiet zone the standard asks for, so a
 * picture shown at its natural size has sharp edges a phone reads at a
 * glance: a scaled texture would be blurred by the renderer's filter. */
#include "ssq-config.h"
#include "ssq-gtk-qr.h"

#include "ssq-qr.h"

/**
 * ssq_gtk_qr_texture_new:
 * @text: what the code says (an invite link)
 * @target_size: about how many pixels wide it should be; the code is made
 *   of whole pixels per module, at least 3, so it may come out larger
 * @error: why there is no code (a build without libqrencode, a @text too
 *   long for a QR code)
 *
 * Returns: (transfer full) (nullable): the code, quiet zone included
 */
GdkTexture *
ssq_gtk_qr_texture_new (const char *text,
                        guint       target_size,
                        GError    **error)
{
  g_autoptr(SsqQrBitmap) qr = NULL;
  g_autofree guint8 *grey = NULL;
  g_autoptr(GBytes) bytes = NULL;
  guint8 *rgb;
  guint side, scale, width = 0;

  g_return_val_if_fail (text != NULL, NULL);
  if ((qr = ssq_qr_encode (text, error)) == NULL)
    return NULL;
  side = qr->size + 2 * SSQ_QR_QUIET_ZONE;
  scale = MAX (3, target_size / side);
  grey = ssq_qr_to_grey (qr, scale, &width);
  /* GTK 4.8 has no grey memory format (G8 came in 4.12): three bytes a pixel. */
  rgb = g_malloc ((gsize) width * width * 3);
  for (gsize i = 0; i < (gsize) width * width; i++)
    rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = grey[i];
  bytes = g_bytes_new_take (rgb, (gsize) width * width * 3);
  return gdk_memory_texture_new ((int) width, (int) width, GDK_MEMORY_R8G8B8, bytes, (gsize) width * 3);
}
