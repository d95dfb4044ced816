/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz-webp.c: fuzz target for the WebP metadata stripper
 * (ssq-server-webp-strip.c): any bytes through its chunk walk. What it
 * accepts must be a WebP as it writes them: the RIFF's size the copy's,
 * chunks that follow one another to the end, only the chunks it keeps
 * (no EXIF, no XMP), an image among them, and a VP8X that claims no
 * metadata. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ssq-proto.h"
#include "ssq-server-webp-strip.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static guint32
le32 (const guint8 *p)
{
  return (guint32) p[0] | ((guint32) p[1] << 8) | ((guint32) p[2] << 16) | ((guint32) p[3] << 24);
}

static gboolean
kept (const guint8 *name)
{
  static const char *const names[] = { "VP8X", "VP8 ", "VP8L", "ALPH", "ICCP", "ANIM", "ANMF" };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    if (memcmp (name, names[i], 4) == 0)
      return TRUE;
  return FALSE;
}

static void
check_copy (const guint8 *copy,
            gsize         len)
{
  gboolean image = FALSE;
  gsize pos = 12;

  if (len < 20 || memcmp (copy, "RIFF", 4) != 0 || memcmp (copy + 8, "WEBP", 4) != 0 ||
      le32 (copy + 4) != len - 8)
    abort ();
  while (pos < len)
    {
      guint32 n;

      if (len - pos < 8 || !kept (copy + pos))
        abort ();
      n = le32 (copy + pos + 4);
      if ((guint64) pos + 8 + n + (n & 1) > len)
        abort ();
      if (memcmp (copy + pos, "VP8X", 4) == 0 && (n != 10 || (copy[pos + 8] & 0x0C) != 0))
        abort ();
      image |= memcmp (copy + pos, "VP8 ", 4) == 0 || memcmp (copy + pos, "VP8L", 4) == 0 ||
               memcmp (copy + pos, "ANMF", 4) == 0;
      pos += 8 + (gsize) n + (n & 1);
    }
  if (!image)
    abort ();
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(GOutputStream) out = g_memory_output_stream_new_resizable ();
  g_autoptr(GError) error = NULL;

  if (ssq_server_webp_strip_bytes (data, size, out, &error))
    {
      g_autoptr(GBytes) copy = NULL;

      g_output_stream_close (out, NULL, NULL);
      copy = g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (out));
      check_copy (g_bytes_get_data (copy, NULL), g_bytes_get_size (copy));
    }
  else if (error == NULL || error->domain != SSQ_ERROR || error->code != SSQ_ERROR_INVALID)
    abort ();
  return 0;
}
