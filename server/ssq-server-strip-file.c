/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-strip-file.c: a stripped copy of a file (see the header). */
#include "ssq-server-strip-file.h"

/* @dest_path is replaced if it exists and removed on failure; it is not
 * fsynced: the caller hashes it, syncs it and moves it into the store. */
gboolean
ssq_server_strip_file (const char               *src_path,
                       const char               *dest_path,
                       SsqServerStripBytesFunc   strip,
                       GError                  **error)
{
  g_autoptr(GMappedFile) mapped = NULL;
  g_autoptr(GFile) dest = NULL;
  g_autoptr(GFileOutputStream) file_out = NULL;
  g_autoptr(GOutputStream) out = NULL;

  /* Mapped, not read: a large upload costs page cache, not heap. */
  mapped = g_mapped_file_new (src_path, FALSE, error);
  if (mapped == NULL)
    return FALSE;
  dest = g_file_new_for_path (dest_path);
  file_out = g_file_replace (dest, NULL, FALSE, G_FILE_CREATE_PRIVATE, NULL, error);
  if (file_out == NULL)
    return FALSE;
  out = g_buffered_output_stream_new_sized (G_OUTPUT_STREAM (file_out), 64 * 1024);

  /* Closing writes what is buffered: it can fail too (a full disk). */
  if (!strip ((const guint8 *) g_mapped_file_get_contents (mapped), g_mapped_file_get_length (mapped), out,
              error) ||
      !g_output_stream_close (out, NULL, error))
    {
      g_output_stream_close (out, NULL, NULL);
      g_file_delete (dest, NULL, NULL);
      return FALSE;
    }
  return TRUE;
}
