/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-png-strip.c: strips a PNG's metadata by walking its chunks
 * and copying only those on an allow-list (see the header for which).
 *
 * An allow-list, as for JPEG: a chunk nobody thought of (a vendor's, a
 * future standard's) is dropped by default. Every whole chunk's length and
 * CRC are checked, copied or not: a damaged PNG is refused rather than
 * guessed at. A file cut short (a chunk running past its end) keeps its
 * whole chunks and gets its IEND, as a cut JPEG gets its end marker: the
 * cut chunk is dropped, so nothing of it can leak. */
#include "ssq-server-png-strip.h"
#include "ssq-server-strip-file.h"
#include "ssq-proto.h"

#include <string.h>

#define SIGNATURE_LEN 8
/* Length, type; CRC after the data. */
#define CHUNK_HEAD    8
#define CHUNK_CRC     4
#define IHDR_LEN      13
/* The spec's largest chunk length. */
#define CHUNK_MAX     0x7FFFFFFFu

static const guint8 signature[SIGNATURE_LEN] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n' };
static const guint8 iend[] = { 0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xAE, 0x42, 0x60, 0x82 };

/* Ancillary chunks that change how the image looks; the critical ones are
 * judged apart. */
static const char *const kept_ancillary[] = {
  "tRNS", "gAMA", "cHRM", "sRGB", "iCCP", "cICP", "sBIT", "bKGD", "pHYs",
  "acTL", "fcTL", "fdAT",
};

typedef struct {
  const guint8  *data;
  gsize          len;
  gsize          pos;
  GOutputStream *out;
} Walk;

/* The CRC-32 of PNG (ISO 3309), table-driven; the table is built once. */
static guint32
crc32_update (guint32       crc,
              const guint8 *bytes,
              gsize         n)
{
  static guint32 table[256];
  static gsize table_ready = 0;

  if (g_once_init_enter (&table_ready))
    {
      for (guint32 i = 0; i < 256; i++)
        {
          guint32 c = i;

          for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
          table[i] = c;
        }
      g_once_init_leave (&table_ready, 1);
    }
  crc = ~crc;
  for (gsize i = 0; i < n; i++)
    crc = table[(crc ^ bytes[i]) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

static guint32
read_be32 (const guint8 *p)
{
  return ((guint32) p[0] << 24) | ((guint32) p[1] << 16) | ((guint32) p[2] << 8) | p[3];
}

static gboolean
is_critical (const guint8 *type)
{
  return (type[0] & 0x20) == 0;   /* an upper-case first letter */
}

static gboolean
type_is (const guint8 *type,
         const char   *name)
{
  return memcmp (type, name, 4) == 0;
}

static gboolean
keep_ancillary (const guint8 *type)
{
  for (guint i = 0; i < G_N_ELEMENTS (kept_ancillary); i++)
    if (type_is (type, kept_ancillary[i]))
      return TRUE;
  return FALSE;
}

static gboolean
invalid (GError    **error,
         const Walk *w,
         const char *what)
{
  g_set_error (error, SSQ_ERROR, SSQ_ERROR_INVALID, "%s at byte %" G_GSIZE_FORMAT, what, w->pos);
  return FALSE;
}

static gboolean
put (Walk          *w,
     const void    *bytes,
     gsize          n,
     GError       **error)
{
  return g_output_stream_write_all (w->out, bytes, n, NULL, NULL, error);
}

/* Checks the whole chunk at w->pos (@n bytes of data) and says whether to
 * copy it. */
static gboolean
judge_chunk (Walk         *w,
             guint32       n,
             gboolean     *keep,
             GError      **error)
{
  const guint8 *type = w->data + w->pos + 4;
  gboolean first = w->pos == SIGNATURE_LEN;

  for (guint i = 0; i < 4; i++)
    if (!g_ascii_isalpha (type[i]))
      return invalid (error, w, "PNG chunk with a bad type");
  if (crc32_update (0, type, 4 + (gsize) n) != read_be32 (type + 4 + n))
    return invalid (error, w, "PNG chunk with a bad CRC");
  if (first != type_is (type, "IHDR") || (first && n != IHDR_LEN))
    return invalid (error, w, "PNG file without its header first");
  if (is_critical (type) && !type_is (type, "IHDR") && !type_is (type, "PLTE")
      && !type_is (type, "IDAT") && !type_is (type, "IEND"))
    return invalid (error, w, "PNG chunk of an unknown critical type");
  *keep = is_critical (type) || keep_ancillary (type);
  return TRUE;
}

static gboolean
walk_png (Walk    *w,
          GError **error)
{
  if (w->len < SIGNATURE_LEN || memcmp (w->data, signature, SIGNATURE_LEN) != 0)
    return invalid (error, w, "Not a PNG file");
  if (!put (w, signature, SIGNATURE_LEN, error))
    return FALSE;
  w->pos = SIGNATURE_LEN;

  for (;;)
    {
      guint32 n;
      gsize whole;
      gboolean keep = FALSE;

      if (w->len - w->pos < CHUNK_HEAD)
        break;                          /* cut short (or no IEND) */
      n = read_be32 (w->data + w->pos);
      if (n > CHUNK_MAX)
        return invalid (error, w, "PNG chunk with a bad length");
      whole = CHUNK_HEAD + (gsize) n + CHUNK_CRC;
      if (w->len - w->pos < whole)
        break;                          /* cut short: the cut chunk goes */
      if (!judge_chunk (w, n, &keep, error))
        return FALSE;
      if (type_is (w->data + w->pos + 4, "IEND"))
        break;                          /* what follows goes */
      if (keep && !put (w, w->data + w->pos, whole, error))
        return FALSE;
      w->pos += whole;
    }
  if (w->pos == SIGNATURE_LEN)
    return invalid (error, w, "PNG file without its header");
  return put (w, iend, sizeof iend, error);
}

static gboolean
strip_bytes (const guint8   *data,
             gsize           len,
             GOutputStream  *out,
             GError        **error)
{
  Walk w = { data, len, 0, out };

  return walk_png (&w, error);
}

/**
 * ssq_server_png_strip:
 * @src_path: a PNG file (sniffed as image/png)
 * @dest_path: where to write the copy; replaced if it exists, removed on
 *   failure. Not fsynced: the caller hashes it, syncs it and moves it into
 *   the store.
 * @error: SSQ_ERROR_INVALID for a file that is not a readable PNG (a bad
 *   CRC, length or chunk type, no header): do not store the original
 *   instead, it may carry a position; or a GIO error
 *
 * Copies @src_path to @dest_path with only the chunks the header lists.
 * Blocks for a full read and write of the file: call it on a worker
 * thread. Thread-safe.
 *
 * Returns: whether @dest_path now holds the stripped copy
 */
gboolean
ssq_server_png_strip (const char  *src_path,
                      const char  *dest_path,
                      GError     **error)
{
  g_return_val_if_fail (src_path != NULL, FALSE);
  g_return_val_if_fail (dest_path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return ssq_server_strip_file (src_path, dest_path, strip_bytes, error);
}
