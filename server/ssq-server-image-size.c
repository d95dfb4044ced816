/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-image-size.c: an image's size from its header.
 *
 * The file is fed to a GdkPixbufLoader chosen by its sniffed type (the
 * thumbnailer's loaders, no others) until the loader reports the size it
 * is about to decode ("size-prepared"); there the load is stopped, asked
 * for 0x0 pixels, which makes every gdk-pixbuf loader fail instead of
 * allocating the image. A header that does not come within HEAD_MAX bytes
 * leaves the size unknown: the thumbnailer finds it later. */
#include "ssq-server-image-size.h"
#include "ssq-server-exif.h"
#include "ssq-server-thumbnail.h"

#include <gdk-pixbuf/gdk-pixbuf.h>

#define READ_CHUNK (16 * 1024)
/* libpng reports the size at the first image data, after the ancillary
 * chunks (a colour profile, text, EXIF): far enough for all but odd files. */
#define HEAD_MAX   (1024 * 1024)

typedef struct {
  int width;
  int height;
} Header;

static void
size_prepared_cb (GdkPixbufLoader *loader,
                  int              width,
                  int              height,
                  gpointer         user_data)
{
  Header *header = user_data;

  header->width = width;
  header->height = height;
  gdk_pixbuf_loader_set_size (loader, 0, 0);
}

/* The size the header of @path declares, as stored; FALSE when none came. */
static gboolean
read_header (const char *path,
             const char *mime,
             Header     *header)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GFileInputStream) stream = g_file_read (file, NULL, NULL);
  g_autoptr(GdkPixbufLoader) loader = NULL;
  g_autofree guint8 *buf = NULL;
  gsize fed = 0;

  loader = stream != NULL ? gdk_pixbuf_loader_new_with_mime_type (mime, NULL) : NULL;
  if (loader == NULL)
    return FALSE;
  g_signal_connect (loader, "size-prepared", G_CALLBACK (size_prepared_cb), header);
  buf = g_malloc (READ_CHUNK);
  while (header->width == 0 && fed < HEAD_MAX)
    {
      gssize n = g_input_stream_read (G_INPUT_STREAM (stream), buf, READ_CHUNK, NULL, NULL);

      if (n <= 0 || !gdk_pixbuf_loader_write (loader, buf, (gsize) n, NULL))
        break;
      fed += (gsize) n;
    }
  /* Closed in every case: a loader finalized open warns. Its error (the
   * 0x0 size, or a file cut short) says nothing the header did not. */
  gdk_pixbuf_loader_close (loader, NULL);
  return header->width > 0 && header->height > 0;
}

/**
 * ssq_server_image_size:
 * @path: a stored file
 * @mime: its sniffed type
 * @out_width: (out): its width as shown (a JPEG's EXIF orientation applied)
 * @out_height: (out): its height as shown
 *
 * Reads the size the header of @path declares, for the types that get a
 * thumbnail (ssq_server_thumbnail_supported ()). Nothing is decoded or
 * allocated for the pixels, whatever size is declared. Blocks: call it on
 * a worker. Thread-safe.
 *
 * Returns: whether the size was found (the outs are 0 otherwise)
 */
gboolean
ssq_server_image_size (const char *path,
                       const char *mime,
                       gint64     *out_width,
                       gint64     *out_height)
{
  Header header = { 0, 0 };
  guint orientation;

  g_return_val_if_fail (path != NULL && mime != NULL, FALSE);

  *out_width = 0;
  *out_height = 0;
  if (!ssq_server_thumbnail_supported (mime) || !read_header (path, mime, &header))
    return FALSE;
  /* Orientations 5 to 8 turn the image a quarter. */
  orientation = g_str_equal (mime, "image/jpeg") ? ssq_server_exif_orientation (path) : 1;
  *out_width = orientation >= 5 ? header.height : header.width;
  *out_height = orientation >= 5 ? header.width : header.height;
  return TRUE;
}
