/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-gtk-image-load.c: an image file to a GdkTexture, in a worker thread.
 *
 * A picture from a chat is anybody's file, so this is careful in the same
 * ways as the server's thumbnailer: the type is sniffed from the first
 * bytes and only the four types the server thumbnails are decoded (each
 * gdk-pixbuf loader is attack surface; an SVG or a TIFF is offered as a
 * file, not drawn); the loader reports the size the header declares
 * before it allocates anything, and an image over SSQ_GTK_IMAGE_MAX_PIXELS
 * is stopped there (asked for 0x0, which makes every loader fail instead
 * of allocating). The result is upright (EXIF orientation applied: the
 * server keeps that tag in the stored copy) and, when asked, shrunk to fit
 * a box. */
#include "ssq-config.h"
#include "ssq-gtk-image-load.h"

#include <glib/gi18n.h>

#define READ_CHUNK (64 * 1024)

static const char *const image_types[] = {
  "image/jpeg", "image/png", "image/gif", "image/webp",
};

typedef struct {
  GFile *file;
  int    max_width;
  int    max_height;
  int    declared_width;
  int    declared_height;
  gboolean too_large;
} Load;

static void
load_free (Load *load)
{
  g_clear_object (&load->file);
  g_free (load);
}

/**
 * ssq_gtk_image_fit:
 * @width: the image's width
 * @height: the image's height
 * @max_width: the box's width, or 0 for no bound
 * @max_height: the box's height, or 0 for no bound
 * @out_width: (out): the width shown
 * @out_height: (out): the height shown
 *
 * The size of an image shrunk to fit a box, its aspect kept; an image
 * that fits already keeps its size. Never less than 1x1.
 */
void
ssq_gtk_image_fit (int  width,
                   int  height,
                   int  max_width,
                   int  max_height,
                   int *out_width,
                   int *out_height)
{
  double scale = 1.0;

  g_return_if_fail (out_width != NULL && out_height != NULL);

  width = MAX (width, 1);
  height = MAX (height, 1);
  if (max_width > 0)
    scale = MIN (scale, (double) max_width / width);
  if (max_height > 0)
    scale = MIN (scale, (double) max_height / height);
  *out_width = MAX (1, (int) (width * scale + 0.5));
  *out_height = MAX (1, (int) (height * scale + 0.5));
}

static void
size_prepared_cb (GdkPixbufLoader *loader,
                  int              width,
                  int              height,
                  Load            *load)
{
  load->declared_width = width;
  load->declared_height = height;
  if (width <= 0 || height <= 0 || (guint64) width * (guint64) height > SSQ_GTK_IMAGE_MAX_PIXELS)
    {
      load->too_large = TRUE;
      gdk_pixbuf_loader_set_size (loader, 0, 0);
    }
}

/* The PNG and JPEG loaders allocate the image without clearing it and fill
 * it as rows arrive: a file cut short would show whatever the heap held. */
static void
area_prepared_cb (GdkPixbufLoader *loader)
{
  GdkPixbuf *pixbuf = gdk_pixbuf_loader_get_pixbuf (loader);

  if (pixbuf != NULL)
    gdk_pixbuf_fill (pixbuf, 0);
}

/* The loader for what @head (the file's first bytes) is, if it is one of
 * ours. */
static GdkPixbufLoader *
loader_for (const guint8  *head,
            gsize          len,
            GError       **error)
{
  g_autofree char *type = g_content_type_guess (NULL, head, len, NULL);
  g_autofree char *mime = g_content_type_get_mime_type (type);
  g_autofree char *description = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (image_types); i++)
    if (g_strcmp0 (mime, image_types[i]) == 0)
      return gdk_pixbuf_loader_new_with_mime_type (mime, error);
  description = g_content_type_get_description (type);
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
               /* Translators: %s is a file type, as "PDF document". */
               _("This is not a picture that can be shown (%s)"), description);
  return NULL;
}

/* Feeds the stream to @loader from @buf, which holds its first @n bytes.
 * Returns FALSE with @error set on a read or decode error. */
static gboolean
feed (GdkPixbufLoader  *loader,
      GInputStream     *stream,
      guint8           *buf,
      gsize             n,
      Load             *load,
      GCancellable     *cancellable,
      GError          **error)
{
  while (n > 0)
    {
      gssize got;

      if (!gdk_pixbuf_loader_write (loader, buf, n, error))
        return FALSE;
      if (load->too_large)
        return TRUE;
      got = g_input_stream_read (stream, buf, READ_CHUNK, cancellable, error);
      if (got < 0)
        return FALSE;
      n = (gsize) got;
    }
  return TRUE;
}

static GdkPixbuf *
decode (Load          *load,
        GCancellable  *cancellable,
        GError       **error)
{
  g_autoptr(GFileInputStream) stream = g_file_read (load->file, cancellable, error);
  g_autofree guint8 *buf = g_malloc (READ_CHUNK);
  g_autoptr(GdkPixbufLoader) loader = NULL;
  g_autoptr(GError) local_error = NULL;
  gsize n = 0;
  gboolean fed, closed;

  if (stream == NULL ||
      !g_input_stream_read_all (G_INPUT_STREAM (stream), buf, READ_CHUNK, &n, cancellable, error))
    return NULL;
  loader = loader_for (buf, n, error);
  if (loader == NULL)
    return NULL;
  g_signal_connect (loader, "size-prepared", G_CALLBACK (size_prepared_cb), load);
  g_signal_connect (loader, "area-prepared", G_CALLBACK (area_prepared_cb), NULL);
  fed = feed (loader, G_INPUT_STREAM (stream), buf, n, load, cancellable, &local_error);
  /* Closed in every case: a loader finalized open warns. */
  closed = gdk_pixbuf_loader_close (loader, local_error == NULL ? &local_error : NULL);
  if (load->too_large)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE,
                   _("The picture is too large to show (%d × %d pixels)"),
                   load->declared_width, load->declared_height);
      return NULL;
    }
  if (!fed || !closed || gdk_pixbuf_loader_get_pixbuf (loader) == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, _("The picture could not be read: %s"),
                   local_error != NULL ? local_error->message : _("no image data"));
      return NULL;
    }
  return g_object_ref (gdk_pixbuf_loader_get_pixbuf (loader));
}

static void
load_thread (GTask        *task,
             gpointer      source,
             gpointer      task_data,
             GCancellable *cancellable)
{
  Load *load = task_data;
  GError *error = NULL;
  g_autoptr(GdkPixbuf) pixbuf = decode (load, cancellable, &error);
  g_autoptr(GdkPixbuf) upright = NULL;
  int width, height;

  if (pixbuf == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  upright = gdk_pixbuf_apply_embedded_orientation (pixbuf);
  ssq_gtk_image_fit (gdk_pixbuf_get_width (upright), gdk_pixbuf_get_height (upright),
                     load->max_width, load->max_height, &width, &height);
  if (width != gdk_pixbuf_get_width (upright) || height != gdk_pixbuf_get_height (upright))
    {
      GdkPixbuf *small = gdk_pixbuf_scale_simple (upright, width, height, GDK_INTERP_BILINEAR);

      g_object_unref (upright);
      upright = small;
    }
  if (upright == NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NO_SPACE, _("Out of memory for a picture"));
      return;
    }
  if (!g_task_return_error_if_cancelled (task))
    g_task_return_pointer (task, gdk_texture_new_for_pixbuf (upright), g_object_unref);
}

/**
 * ssq_gtk_image_load_async:
 * @file: an image file
 * @max_width: the width to shrink it to, or 0 for its own
 * @max_height: the height to shrink it to, or 0 for its own
 * @cancellable: (nullable): a cancellable
 * @callback: called on the calling thread's main context when done
 * @user_data: for @callback
 *
 * Decodes @file in a worker thread (see the top of this file for what is
 * refused), upright, shrunk to fit @max_width x @max_height.
 */
void
ssq_gtk_image_load_async (GFile               *file,
                          int                  max_width,
                          int                  max_height,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  Load *load;

  g_return_if_fail (G_IS_FILE (file));

  load = g_new0 (Load, 1);
  load->file = g_object_ref (file);
  load->max_width = max_width;
  load->max_height = max_height;
  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, ssq_gtk_image_load_async);
  g_task_set_task_data (task, load, (GDestroyNotify) load_free);
  g_task_run_in_thread (task, load_thread);
}

/**
 * ssq_gtk_image_load_finish:
 * @result: the result given to the callback
 * @error: return location for an error
 *
 * Returns: (transfer full): the picture, or %NULL with @error set
 */
GdkTexture *
ssq_gtk_image_load_finish (GAsyncResult  *result,
                           GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
