/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-webp-strip.c: strips a WebP's metadata by walking its RIFF
 * chunks and copying only those on an allow-list (see the header for
 * which).
 *
 * An allow-list, as for JPEG and PNG: a chunk nobody thought of is dropped
 * by default, inside animation frames too. RIFF has no checksums, so what
 * is checked is the shape: chunk names of printable ASCII, the header
 * first, sizes that fit. The copy's sizes (the RIFF's, each frame's) are
 * computed by a first walk that writes nothing, then a second writes the
 * same bytes. A file cut short (a chunk running past its end) keeps its
 * whole chunks, as a cut PNG does: the cut chunk goes, so nothing of it
 * can leak; without a whole image chunk it is refused. */
#include "ssq-server-webp-strip.h"
#include "ssq-server-strip-file.h"
#include "ssq-proto.h"

#include <string.h>

#define RIFF_HEAD  12       /* "RIFF", the size of what follows, "WEBP" */
#define CHUNK_HEAD 8        /* the name, the payload's size */
#define VP8X_LEN   10
#define ANMF_HEAD  16       /* a frame's place, size, duration, flags */
#define FLAG_EXIF  0x08     /* in VP8X's first byte */
#define FLAG_XMP   0x04

typedef struct {
  GOutputStream *out;       /* NULL: count only */
  guint64        written;
  gboolean       image;     /* a whole image chunk was copied */
} Walk;

/* One chunk of a list, as found at @pos. */
typedef struct {
  const guint8 *name;
  const guint8 *payload;
  guint32       size;
  gsize         next;       /* where the next chunk starts */
} Chunk;

typedef enum {
  CHUNK_WHOLE,
  CHUNK_CUT,                /* runs past the end of what holds it */
  CHUNK_BAD,                /* not a chunk name */
} ChunkShape;

static guint32
read_le32 (const guint8 *p)
{
  return (guint32) p[0] | ((guint32) p[1] << 8) | ((guint32) p[2] << 16) | ((guint32) p[3] << 24);
}

static void
write_le32 (guint8  *p,
            guint32  v)
{
  p[0] = v & 0xFF;
  p[1] = (v >> 8) & 0xFF;
  p[2] = (v >> 16) & 0xFF;
  p[3] = (v >> 24) & 0xFF;
}

static gboolean
name_is (const Chunk *chunk,
         const char  *name)
{
  return memcmp (chunk->name, name, 4) == 0;
}

static gboolean
invalid (GError    **error,
         const char *what)
{
  g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_INVALID, what);
  return FALSE;
}

/* The chunk at @pos of @data[0..@end). Its padding byte (after an odd
 * payload) may be missing at the very end, as some writers leave it. */
static ChunkShape
read_chunk (const guint8 *data,
            gsize         end,
            gsize         pos,
            Chunk        *chunk)
{
  guint64 stop;

  if (end - pos < CHUNK_HEAD)
    return CHUNK_CUT;
  chunk->name = data + pos;
  for (guint i = 0; i < 4; i++)
    if (!g_ascii_isalnum (chunk->name[i]) && chunk->name[i] != ' ')
      return CHUNK_BAD;
  chunk->size = read_le32 (data + pos + 4);
  chunk->payload = data + pos + CHUNK_HEAD;
  stop = (guint64) pos + CHUNK_HEAD + chunk->size;
  if (stop > end)
    return CHUNK_CUT;
  chunk->next = (gsize) MIN (stop + (chunk->size & 1), (guint64) end);
  return CHUNK_WHOLE;
}

static gboolean
emit (Walk        *w,
      const void  *bytes,
      gsize        n,
      GError     **error)
{
  w->written += n;
  return w->out == NULL || g_output_stream_write_all (w->out, bytes, n, NULL, NULL, error);
}

static gboolean
emit_head (Walk          *w,
           const guint8  *name,
           guint32        size,
           GError       **error)
{
  guint8 header[CHUNK_HEAD];

  memcpy (header, name, 4);
  write_le32 (header + 4, size);
  return emit (w, header, CHUNK_HEAD, error);
}

/* A chunk named @name with @payload, and its padding. */
static gboolean
emit_chunk (Walk          *w,
            const guint8  *name,
            const guint8  *payload,
            guint32        size,
            GError       **error)
{
  static const guint8 pad = 0;

  return emit_head (w, name, size, error) &&
         emit (w, payload, size, error) &&
         ((size & 1) == 0 || emit (w, &pad, 1, error));
}

static gboolean
emit_whole (Walk         *w,
            const Chunk  *chunk,
            GError      **error)
{
  return emit_chunk (w, chunk->name, chunk->payload, chunk->size, error);
}

static gboolean
is_image (const Chunk *chunk)
{
  return name_is (chunk, "VP8 ") || name_is (chunk, "VP8L");
}

/* The chunks of a frame (after its header) worth keeping: its alpha and
 * its image; written to @w, or counted. A frame is whole by its own size,
 * so a chunk inside that does not fit means damage. */
static gboolean
walk_frame (Walk         *w,
            const guint8 *data,
            gsize         len,
            gboolean     *out_image,
            GError      **error)
{
  Chunk chunk;

  for (gsize pos = 0; pos < len; pos = chunk.next)
    {
      ChunkShape shape = read_chunk (data, len, pos, &chunk);

      if (shape != CHUNK_WHOLE)
        return invalid (error, "WebP animation frame with a damaged chunk");
      if (is_image (&chunk))
        *out_image = TRUE;
      if ((is_image (&chunk) || name_is (&chunk, "ALPH")) && !emit_whole (w, &chunk, error))
        return FALSE;
    }
  return TRUE;
}

/* An animation frame: its header, then only its alpha and image chunks,
 * under the size they make (even: every chunk is padded). */
static gboolean
emit_frame (Walk         *w,
            const Chunk  *frame,
            GError      **error)
{
  Walk count = { NULL, 0, FALSE };
  gboolean image = FALSE;
  const guint8 *chunks;
  gsize len;

  if (frame->size < ANMF_HEAD)
    return invalid (error, "WebP animation frame too short");
  chunks = frame->payload + ANMF_HEAD;
  len = frame->size - ANMF_HEAD;
  if (!walk_frame (&count, chunks, len, &image, error))
    return FALSE;
  if (!image)
    return invalid (error, "WebP animation frame without image data");
  if (count.written > G_MAXUINT32 - ANMF_HEAD)
    return invalid (error, "WebP animation frame too large");
  w->image = TRUE;
  return emit_head (w, frame->name, (guint32) (ANMF_HEAD + count.written), error) &&
         emit (w, frame->payload, ANMF_HEAD, error) &&
         walk_frame (w, chunks, len, &image, error);
}

/* VP8X with the EXIF and XMP flags cleared: the copy has neither. */
static gboolean
emit_header (Walk         *w,
             const Chunk  *chunk,
             GError      **error)
{
  guint8 header[VP8X_LEN];

  if (chunk->size != VP8X_LEN)
    return invalid (error, "WebP extended header of a wrong size");
  memcpy (header, chunk->payload, VP8X_LEN);
  header[0] &= ~(FLAG_EXIF | FLAG_XMP);
  return emit_chunk (w, chunk->name, header, VP8X_LEN, error);
}

/* An extended file's chunks after its header: each kept, framed or
 * dropped. */
static gboolean
walk_extended (Walk         *w,
               const guint8 *data,
               gsize         end,
               gsize         pos,
               GError      **error)
{
  Chunk chunk;

  for (; pos < end; pos = chunk.next)
    {
      ChunkShape shape = read_chunk (data, end, pos, &chunk);

      if (shape == CHUNK_CUT)
        break;                          /* the cut chunk goes */
      if (shape == CHUNK_BAD)
        return invalid (error, "WebP chunk with a bad name");
      if (name_is (&chunk, "VP8X"))
        return invalid (error, "WebP file with a second extended header");
      if (name_is (&chunk, "ANMF"))
        {
          if (!emit_frame (w, &chunk, error))
            return FALSE;
          continue;
        }
      if (is_image (&chunk))
        w->image = TRUE;
      if ((is_image (&chunk) || name_is (&chunk, "ALPH") || name_is (&chunk, "ICCP") ||
           name_is (&chunk, "ANIM")) && !emit_whole (w, &chunk, error))
        return FALSE;
    }
  return TRUE;
}

/* The whole copy, to @w (or counted): the RIFF header with @riff_size,
 * then the chunks kept. @end: where the RIFF's chunks end in @data. */
static gboolean
walk_webp (Walk         *w,
           const guint8 *data,
           gsize         end,
           guint32       riff_size,
           GError      **error)
{
  guint8 head[RIFF_HEAD];
  Chunk first;
  ChunkShape shape = read_chunk (data, end, RIFF_HEAD, &first);

  memcpy (head, "RIFF", 4);
  write_le32 (head + 4, riff_size);
  memcpy (head + 8, "WEBP", 4);
  if (shape == CHUNK_BAD)
    return invalid (error, "WebP chunk with a bad name");
  if (shape == CHUNK_CUT)
    return invalid (error, "WebP file without image data");
  if (!name_is (&first, "VP8X") && !is_image (&first))
    return invalid (error, "WebP file without its header first");
  if (!emit (w, head, RIFF_HEAD, error))
    return FALSE;
  /* A simple file is its image chunk; whatever follows it goes. */
  if (is_image (&first))
    {
      w->image = TRUE;
      return emit_whole (w, &first, error);
    }
  return emit_header (w, &first, error) && walk_extended (w, data, end, first.next, error);
}

/* Where the RIFF's chunks end in a file of @len bytes (a cut file ends
 * early, and bytes after the RIFF are not the image's). */
static gboolean
riff_end (const guint8  *data,
          gsize          len,
          gsize         *out_end,
          GError       **error)
{
  guint32 size;

  if (len < RIFF_HEAD || memcmp (data, "RIFF", 4) != 0 || memcmp (data + 8, "WEBP", 4) != 0)
    return invalid (error, "Not a WebP file");
  size = read_le32 (data + 4);
  if (size < 4)
    return invalid (error, "WebP file with a bad size");
  *out_end = (gsize) MIN ((guint64) len, (guint64) size + 8);
  return TRUE;
}

/**
 * ssq_server_webp_strip_bytes:
 * @data: (array length=len): a whole WebP file in memory
 * @out: where the copy goes
 *
 * The walk of ssq_server_webp_strip() on bytes in memory (for it, and for
 * fuzzing). On failure @out may hold part of a copy.
 *
 * Returns: whether @out got the whole stripped copy
 */
gboolean
ssq_server_webp_strip_bytes (const guint8   *data,
                             gsize           len,
                             GOutputStream  *out,
                             GError        **error)
{
  Walk count = { NULL, 0, FALSE };
  Walk write = { out, 0, FALSE };
  gsize end = 0;

  g_return_val_if_fail (data != NULL || len == 0, FALSE);
  g_return_val_if_fail (G_IS_OUTPUT_STREAM (out), FALSE);

  if (!riff_end (data, len, &end, error) ||
      !walk_webp (&count, data, end, 0, error))
    return FALSE;
  if (!count.image)
    return invalid (error, "WebP file without image data");
  if (count.written - 8 > G_MAXUINT32)
    return invalid (error, "WebP file too large");
  if (!walk_webp (&write, data, end, (guint32) (count.written - 8), error))
    return FALSE;
  g_assert (write.written == count.written);
  return TRUE;
}

/**
 * ssq_server_webp_strip:
 * @src_path: a WebP file (sniffed as image/webp)
 * @dest_path: where to write the copy; replaced if it exists, removed on
 *   failure. Not fsynced: the caller hashes it, syncs it and moves it into
 *   the store.
 * @error: SSQ_ERROR_INVALID for a file that is not a readable WebP (a bad
 *   chunk name or size, no image data): do not store the original instead,
 *   it may carry a position; or a GIO error
 *
 * Copies @src_path to @dest_path with only the chunks the header lists.
 * Blocks for a full read and write of the file: call it on a worker
 * thread. Thread-safe.
 *
 * Returns: whether @dest_path now holds the stripped copy
 */
gboolean
ssq_server_webp_strip (const char  *src_path,
                       const char  *dest_path,
                       GError     **error)
{
  g_return_val_if_fail (src_path != NULL, FALSE);
  g_return_val_if_fail (dest_path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return ssq_server_strip_file (src_path, dest_path, ssq_server_webp_strip_bytes, error);
}
