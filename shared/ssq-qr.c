/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-qr.c: QR codes through libqrencode when the build has it
 * (HAVE_QRENCODE); without it ssq_qr_encode () says so and callers print
 * the link alone. */
#include "ssq-config.h"
#include <glib/gi18n.h>
#include "ssq-qr.h"
#include "ssq-proto.h"

#include <string.h>
#if HAVE_QRENCODE
#include <qrencode.h>
#include <errno.h>
#endif

gboolean
ssq_qr_available (void)
{
  return HAVE_QRENCODE;
}

void
ssq_qr_bitmap_free (SsqQrBitmap *bitmap)
{
  if (bitmap == NULL)
    return;
  g_free (bitmap->modules);
  g_free (bitmap);
}

/**
 * ssq_qr_encode:
 * The QR code of @text (byte mode, error correction M: a phone reads it
 * off a screen at an angle), or NULL with SSQ_ERROR_NOT_IMPLEMENTED when
 * the build has no libqrencode, SSQ_ERROR_TOO_LARGE when @text does not
 * fit a QR code.
 */
SsqQrBitmap *
ssq_qr_encode (const char  *text,
               GError     **error)
{
#if HAVE_QRENCODE
  QRcode *code;
  SsqQrBitmap *bitmap;

  g_return_val_if_fail (text != NULL, NULL);
  code = QRcode_encodeString8bit (text, 0, QR_ECLEVEL_M);
  if (code == NULL)
    {
      g_set_error (error, SSQ_ERROR, errno == ERANGE ? SSQ_ERROR_TOO_LARGE : SSQ_ERROR_INTERNAL,
                   _("Cannot make a QR code: %s"), g_strerror (errno));
      return NULL;
    }
  bitmap = g_new0 (SsqQrBitmap, 1);
  bitmap->size = (guint) code->width;
  bitmap->modules = g_malloc ((gsize) bitmap->size * bitmap->size);
  /* libqrencode's low bit is the module's colour; the others are its own. */
  for (gsize i = 0; i < (gsize) bitmap->size * bitmap->size; i++)
    bitmap->modules[i] = code->data[i] & 1;
  QRcode_free (code);
  return bitmap;
#else
  g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_NOT_IMPLEMENTED,
                       _("This build has no QR codes (built without libqrencode)"));
  return NULL;
#endif
}

/* Dark or light at (x, y) of the code with its quiet zone around it. */
static gboolean
dark_at (const SsqQrBitmap *bitmap,
         int                x,
         int                y)
{
  x -= SSQ_QR_QUIET_ZONE;
  y -= SSQ_QR_QUIET_ZONE;
  if (x < 0 || y < 0 || x >= (int) bitmap->size || y >= (int) bitmap->size)
    return FALSE;
  return bitmap->modules[(gsize) y * bitmap->size + (gsize) x] != 0;
}

/**
 * ssq_qr_to_half_blocks:
 * The code, quiet zone included, as lines of Unicode half blocks, two
 * module rows per line. A character's ink is a light module: on a dark
 * terminal, the usual one, the code reads right. With @ansi_colors every
 * line is drawn white on black explicitly, which reads right on any
 * terminal's colours.
 */
char *
ssq_qr_to_half_blocks (const SsqQrBitmap *bitmap,
                       gboolean           ansi_colors)
{
  static const char *const glyphs[4] = { " ", "\u2584", "\u2580", "\u2588" };
  int side = (int) bitmap->size + 2 * SSQ_QR_QUIET_ZONE;
  GString *out = g_string_new (NULL);

  for (int y = 0; y < side; y += 2)
    {
      if (ansi_colors)
        g_string_append (out, "\033[97;40m");
      for (int x = 0; x < side; x++)
        {
          /* Past the last row is light, like the quiet zone. */
          guint top = !dark_at (bitmap, x, y);
          guint bottom = y + 1 < side ? !dark_at (bitmap, x, y + 1) : 1;

          g_string_append (out, glyphs[top << 1 | bottom]);
        }
      if (ansi_colors)
        g_string_append (out, "\033[0m");
      g_string_append_c (out, '\n');
    }
  return g_string_free (out, FALSE);
}

/**
 * ssq_qr_to_grey:
 * The code, quiet zone included, as @scale × @scale pixels per module of
 * 8-bit grey (0 black, 255 white), rows of *@out_width bytes.
 */
guint8 *
ssq_qr_to_grey (const SsqQrBitmap *bitmap,
                guint              scale,
                guint             *out_width)
{
  guint side = bitmap->size + 2 * SSQ_QR_QUIET_ZONE;
  guint width = side * scale;
  guint8 *pixels = g_malloc ((gsize) width * width);

  g_return_val_if_fail (scale > 0, NULL);
  for (guint y = 0; y < width; y++)
    for (guint x = 0; x < width; x++)
      pixels[(gsize) y * width + x] = dark_at (bitmap, (int) (x / scale), (int) (y / scale)) ? 0 : 255;
  *out_width = width;
  return pixels;
}
