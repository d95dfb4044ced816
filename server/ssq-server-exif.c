/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-exif.c: strips a JPEG's metadata by copying only the segments
 * a decoder needs, then writes the orientation back with gexiv2.
 *
 * An allow-list of segments rather than a list of tags to delete: a tag or
 * segment nobody thought of (a vendor's maker data, an MPF secondary image
 * carrying its own GPS) is dropped by default. gexiv2 (Exiv2) parses the
 * source's EXIF for the orientation and writes it into the copy; Exiv2 alone
 * would keep unknown APPn segments and trailing data. */
#include "ssq-server-exif.h"
#include "ssq-proto.h"

#include <gexiv2/gexiv2.h>
#include <glib/gstdio.h>
#include <string.h>

#define MARKER_SOI  0xD8
#define MARKER_EOI  0xD9
#define MARKER_SOS  0xDA
#define MARKER_APP0 0xE0
#define MARKER_APP2 0xE2
#define MARKER_APP14 0xEE
#define MARKER_COM  0xFE

/* JFIF's APP0 payload up to its thumbnail size bytes. */
#define JFIF_HEADER_LEN 12

typedef enum {
  SEGMENT_KEEP,
  SEGMENT_DROP,
  SEGMENT_JFIF,  /* kept without its thumbnail */
} SegmentVerdict;

typedef struct {
  const guint8  *data;
  gsize          len;
  gsize          pos;
  GOutputStream *out;
  gboolean       seen_scan;
} Walk;

/* Exiv2 keeps global state (the XMP toolkit) that is not thread-safe:
 * every use goes through this lock. Stripping is rare; it costs nothing. */
static GMutex exiv2_lock;

static gboolean
has_prefix (const guint8 *payload,
            gsize         n,
            const char   *prefix,
            gsize         prefix_len)
{
  return n >= prefix_len && memcmp (payload, prefix, prefix_len) == 0;
}

static SegmentVerdict
judge_segment (guint8        marker,
               const guint8 *payload,
               gsize         n)
{
  if (marker == MARKER_APP0)
    return has_prefix (payload, n, "JFIF\0", 5) && n >= JFIF_HEADER_LEN + 2
           ? SEGMENT_JFIF : SEGMENT_DROP;
  if (marker == MARKER_APP2)
    return has_prefix (payload, n, "ICC_PROFILE\0", 12) ? SEGMENT_KEEP : SEGMENT_DROP;
  if (marker == MARKER_APP14)
    return has_prefix (payload, n, "Adobe", 5) ? SEGMENT_KEEP : SEGMENT_DROP;
  /* Exif and XMP (APP1), MPF and FlashPix (APP2), IPTC (APP13), vendors'. */
  if (marker >= MARKER_APP0 && marker <= 0xEF)
    return SEGMENT_DROP;
  if (marker == MARKER_COM)
    return SEGMENT_DROP;
  /* Tables, frame and scan headers, restart interval: the image itself. */
  return SEGMENT_KEEP;
}

static gboolean
put (Walk          *w,
     const void    *bytes,
     gsize          n,
     GError       **error)
{
  return g_output_stream_write_all (w->out, bytes, n, NULL, NULL, error);
}

static gboolean
put_marker (Walk    *w,
            guint8   marker,
            GError **error)
{
  const guint8 bytes[2] = { 0xFF, marker };

  return put (w, bytes, 2, error);
}

/* The JFIF segment with "no thumbnail" (0x0) as its thumbnail size. */
static gboolean
put_jfif (Walk         *w,
          const guint8 *payload,
          GError      **error)
{
  guint8 seg[4 + JFIF_HEADER_LEN + 2] = { 0xFF, MARKER_APP0, 0, 2 + JFIF_HEADER_LEN + 2 };

  memcpy (seg + 4, payload, JFIF_HEADER_LEN);
  return put (w, seg, sizeof seg, error);
}

/* The end of the entropy-coded data starting at @pos: the next marker
 * that is neither a stuffed 0xFF00 nor a restart marker, or the end of the
 * file for a truncated one. */
static gsize
scan_end (const guint8 *data,
          gsize         len,
          gsize         pos)
{
  while (pos + 1 < len)
    {
      const guint8 *ff = memchr (data + pos, 0xFF, len - pos - 1);
      guint8 next;

      if (ff == NULL)
        return len;
      pos = (gsize) (ff - data);
      next = data[pos + 1];
      if (next == 0x00 || (next >= 0xD0 && next <= 0xD7))
        pos += 2;
      else if (next == 0xFF)
        pos += 1;   /* a fill byte before a marker */
      else
        return pos;
    }
  return len;
}

/* Copies one marker segment at w->pos (just after its marker byte), or
 * drops it; after a scan header, the scan's data too. */
static gboolean
walk_segment (Walk    *w,
              guint8   marker,
              GError **error)
{
  const guint8 *payload;
  gsize seg_len;
  gsize end;

  if (w->pos + 2 > w->len)
    goto truncated;
  seg_len = ((gsize) w->data[w->pos] << 8) | w->data[w->pos + 1];
  if (seg_len < 2 || w->pos + seg_len > w->len)
    goto truncated;
  payload = w->data + w->pos + 2;

  switch (judge_segment (marker, payload, seg_len - 2))
    {
    case SEGMENT_KEEP:
      if (!put_marker (w, marker, error) || !put (w, w->data + w->pos, seg_len, error))
        return FALSE;
      break;
    case SEGMENT_JFIF:
      if (!put_jfif (w, payload, error))
        return FALSE;
      break;
    case SEGMENT_DROP:
    default:
      break;
    }
  w->pos += seg_len;
  if (marker != MARKER_SOS)
    return TRUE;

  w->seen_scan = TRUE;
  end = scan_end (w->data, w->len, w->pos);
  if (!put (w, w->data + w->pos, end - w->pos, error))
    return FALSE;
  w->pos = end;
  return TRUE;

truncated:
  g_set_error (error, SSQ_ERROR, SSQ_ERROR_INVALID,
               "JPEG segment 0x%02X at byte %" G_GSIZE_FORMAT " runs past the end of the file",
               marker, w->pos);
  return FALSE;
}

/* The end of the image: stop here, and leave out whatever follows. A file
 * cut short in its image data still gets its end marker, as decoders do. */
static gboolean
walk_finish (Walk    *w,
             GError **error)
{
  if (!w->seen_scan)
    {
      g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_INVALID, "JPEG file without image data");
      return FALSE;
    }
  return put_marker (w, MARKER_EOI, error);
}

static gboolean
walk_jpeg (Walk    *w,
           GError **error)
{
  if (w->len < 4 || w->data[0] != 0xFF || w->data[1] != MARKER_SOI)
    {
      g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_INVALID, "Not a JPEG file");
      return FALSE;
    }
  if (!put_marker (w, MARKER_SOI, error))
    return FALSE;
  w->pos = 2;

  for (;;)
    {
      guint8 marker;

      /* Stray bytes between segments are skipped, as libjpeg does. */
      while (w->pos < w->len && w->data[w->pos] != 0xFF)
        w->pos++;
      while (w->pos < w->len && w->data[w->pos] == 0xFF)
        w->pos++;
      if (w->pos >= w->len)
        return walk_finish (w, error);
      marker = w->data[w->pos++];

      if (marker == MARKER_EOI)
        return walk_finish (w, error);
      if (marker == 0x00)
        continue;
      if (marker == MARKER_SOI)
        {
          g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_INVALID, "JPEG file with two starts");
          return FALSE;
        }
      /* Markers without a length: restarts, TEM. */
      if ((marker >= 0xD0 && marker <= 0xD7) || marker == 0x01)
        {
          if (!put_marker (w, marker, error))
            return FALSE;
          continue;
        }
      if (!walk_segment (w, marker, error))
        return FALSE;
    }
}

/* Writes the stripped copy of @src_path's bytes to @dest_path. */
static gboolean
copy_image_segments (const char  *src_path,
                     const char  *dest_path,
                     GError     **error)
{
  g_autoptr(GMappedFile) mapped = NULL;
  g_autoptr(GFile) dest = g_file_new_for_path (dest_path);
  g_autoptr(GFileOutputStream) file_out = NULL;
  g_autoptr(GOutputStream) out = NULL;
  Walk w = { 0 };

  /* Mapped, not read: a 100 MB upload costs page cache, not heap. */
  mapped = g_mapped_file_new (src_path, FALSE, error);
  if (mapped == NULL)
    return FALSE;
  file_out = g_file_replace (dest, NULL, FALSE, G_FILE_CREATE_PRIVATE, NULL, error);
  if (file_out == NULL)
    return FALSE;
  out = g_buffered_output_stream_new_sized (G_OUTPUT_STREAM (file_out), 64 * 1024);
  w.data = (const guint8 *) g_mapped_file_get_contents (mapped);
  w.len = g_mapped_file_get_length (mapped);
  w.out = out;

  if (!walk_jpeg (&w, error))
    {
      g_output_stream_close (out, NULL, NULL);
      g_file_delete (dest, NULL, NULL);
      return FALSE;
    }
  /* Closing writes what is buffered: it can fail too (a full disk). */
  if (!g_output_stream_close (out, NULL, error))
    {
      g_file_delete (dest, NULL, NULL);
      return FALSE;
    }
  return TRUE;
}

/* Exiv2's complaints about odd files go to the debug log: a user's odd
 * photo is not the server's problem. gexiv2's own GLib handler would turn
 * Exiv2's errors into criticals, which abort under G_DEBUG=fatal-criticals,
 * and its default one prints to stderr. */
static void
exiv2_log_cb (GExiv2LogLevel  level,
              const char     *message)
{
  g_debug ("Exiv2 (%d): %s", (int) level, message);
}

/* Under exiv2_lock. */
static void
exiv2_init (void)
{
  static gboolean done = FALSE;

  if (done)
    return;
  gexiv2_initialize ();
  gexiv2_log_set_handler (exiv2_log_cb);
  gexiv2_log_set_level (GEXIV2_LOG_LEVEL_WARN);
  done = TRUE;
}

/* Under exiv2_lock. The source's orientation (1 to 8); 1, upright, when it
 * has none or its EXIF is unreadable: the copy then simply has no EXIF. */
static glong
read_orientation (const char *src_path)
{
  g_autoptr(GExiv2Metadata) meta = gexiv2_metadata_new ();
  g_autoptr(GError) error = NULL;
  GExiv2Orientation orientation;

  if (!gexiv2_metadata_open_path (meta, src_path, &error))
    {
      g_debug ("No EXIF read from an upload: %s", error->message);
      return 1;
    }
  orientation = gexiv2_metadata_try_get_orientation (meta, &error);
  if (error != NULL || orientation < GEXIV2_ORIENTATION_NORMAL
      || orientation > GEXIV2_ORIENTATION_ROT_270)
    return 1;
  return (glong) orientation;
}

/* Under exiv2_lock. */
static gboolean
write_orientation (const char  *dest_path,
                   glong        orientation,
                   GError     **error)
{
  g_autoptr(GExiv2Metadata) meta = gexiv2_metadata_new ();

  if (!gexiv2_metadata_open_path (meta, dest_path, error)
      || !gexiv2_metadata_try_set_tag_long (meta, "Exif.Image.Orientation", orientation, error)
      || !gexiv2_metadata_save_file (meta, dest_path, error))
    {
      g_prefix_error (error, "Writing the orientation: ");
      return FALSE;
    }
  return TRUE;
}

/**
 * ssq_server_exif_strip:
 * @src_path: a JPEG file (sniffed as image/jpeg)
 * @dest_path: where to write the copy; replaced if it exists, removed on
 *   failure. Not fsynced: the caller hashes it, syncs it and moves it into
 *   the store.
 * @error: SSQ_ERROR_INVALID for a file that is not a readable JPEG (do not
 *   store the original instead: it may carry a position), or a GIO error
 *
 * Copies @src_path to @dest_path without its metadata but its orientation
 * (see the header for what is kept and why). Blocks for a full read and
 * write of the file: call it on a worker thread. Thread-safe.
 *
 * Returns: whether @dest_path now holds the stripped copy
 */
gboolean
ssq_server_exif_strip (const char  *src_path,
                       const char  *dest_path,
                       GError     **error)
{
  g_autoptr(GMutexLocker) locker = NULL;
  glong orientation;

  g_return_val_if_fail (src_path != NULL, FALSE);
  g_return_val_if_fail (dest_path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!copy_image_segments (src_path, dest_path, error))
    return FALSE;

  locker = g_mutex_locker_new (&exiv2_lock);
  exiv2_init ();
  orientation = read_orientation (src_path);
  if (orientation == 1)
    return TRUE;
  if (!write_orientation (dest_path, orientation, error))
    {
      g_unlink (dest_path);
      return FALSE;
    }
  return TRUE;
}

/**
 * ssq_server_exif_orientation:
 * @path: a JPEG file
 *
 * Reads the EXIF orientation of @path (Exiv2 parses its metadata only).
 * Blocks: call it on a worker thread. Thread-safe.
 *
 * Returns: 1 to 8 (as EXIF numbers them); 1, upright, when @path has none
 *   or it cannot be read
 */
guint
ssq_server_exif_orientation (const char *path)
{
  g_autoptr(GMutexLocker) locker = NULL;

  g_return_val_if_fail (path != NULL, 1);

  locker = g_mutex_locker_new (&exiv2_lock);
  exiv2_init ();
  return (guint) read_orientation (path);
}
