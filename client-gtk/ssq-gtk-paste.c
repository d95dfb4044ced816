/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-gtk-paste.c: Ctrl+V of a picture in the composer. The clipboard's
 * texture is encoded as PNG in a worker thread (a 4K screenshot takes a
 * good part of a second) and written under a name of its own in
 * $XDG_CACHE_HOME/supersoniq/pasted/, readable by the user only, where
 * the composer attaches it like any file. Nobody else knows those files:
 * the composer deletes one taken out of its strip, and what is left from
 * earlier runs (sent ones were copied into the outbox by then) is pruned
 * at start. */
#include "ssq-config.h"
#include "ssq-gtk-paste.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "ssq-gtk-image-load.h"

/* Names tried in one second before giving up. */
#define MAX_SAME_NAME 100

typedef struct {
  char       *dir;
  char       *stamp;     /* when it was pasted, local time */
  GdkTexture *texture;
} Paste;

static void
paste_free (Paste *paste)
{
  g_free (paste->dir);
  g_free (paste->stamp);
  g_clear_object (&paste->texture);
  g_free (paste);
}

/**
 * ssq_gtk_paste_get_dir:
 *
 * Returns: (transfer full): the directory pasted pictures are saved in
 */
char *
ssq_gtk_paste_get_dir (void)
{
  return g_build_filename (g_get_user_cache_dir (), "supersoniq", "pasted", NULL);
}

/**
 * ssq_gtk_paste_owns:
 * @file: a file
 *
 * Returns: whether @file is a pasted picture, saved here (and so ours to
 *   delete)
 */
gboolean
ssq_gtk_paste_owns (GFile *file)
{
  g_autofree char *dir = ssq_gtk_paste_get_dir ();
  g_autoptr(GFile) parent = NULL;
  g_autoptr(GFile) ours = g_file_new_for_path (dir);

  g_return_val_if_fail (G_IS_FILE (file), FALSE);

  parent = g_file_get_parent (file);
  return parent != NULL && g_file_equal (parent, ours);
}

/**
 * ssq_gtk_paste_has_image:
 * @clipboard: a clipboard
 *
 * Whether a paste from @clipboard is a picture to attach: it holds an
 * image and no text. Text wins when it holds both (an office program
 * copies a table as text and as a picture of it: pasting the text is
 * what people expect in a chat).
 *
 * Returns: %TRUE for a picture
 */
gboolean
ssq_gtk_paste_has_image (GdkClipboard *clipboard)
{
  g_autoptr(GdkContentFormats) formats = NULL;

  g_return_val_if_fail (GDK_IS_CLIPBOARD (clipboard), FALSE);

  /* Another program's clipboard lists MIME types: what they can become. */
  formats = gdk_content_formats_union_deserialize_gtypes (gdk_content_formats_ref (gdk_clipboard_get_formats (clipboard)));
  return gdk_content_formats_contain_gtype (formats, GDK_TYPE_TEXTURE) &&
         !gdk_content_formats_contain_gtype (formats, G_TYPE_STRING);
}

/* Creates a file that did not exist, named for the time of the paste. */
static GFile *
create_unique (const Paste       *paste,
               GFileOutputStream **out,
               GCancellable       *cancellable,
               GError            **error)
{
  /* Translators: the name (without ".png") of the file a picture pasted
   * from the clipboard is sent as; %s is the date and time, as
   * "2026-11-29 15-04-05" (no colons, no slashes: it is a file name). */
  g_autofree char *base = g_strdup_printf (_("Pasted image %s"), paste->stamp);

  g_strdelimit (base, G_DIR_SEPARATOR_S, '-');
  for (guint n = 1; n <= MAX_SAME_NAME; n++)
    {
      g_autofree char *name = n == 1 ? g_strconcat (base, ".png", NULL)
                                     : g_strdup_printf ("%s (%u).png", base, n);
      g_autoptr(GFile) file = g_file_new_build_filename (paste->dir, name, NULL);
      g_autoptr(GError) local_error = NULL;

      *out = g_file_create (file, G_FILE_CREATE_PRIVATE, cancellable, &local_error);
      if (*out != NULL)
        return g_steal_pointer (&file);
      if (!g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_EXISTS))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return NULL;
        }
    }
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS, _("Too many pictures pasted at once"));
  return NULL;
}

static void
save_thread (GTask        *task,
             gpointer      source,
             gpointer      task_data,
             GCancellable *cancellable)
{
  Paste *paste = task_data;
  g_autoptr(GBytes) png = NULL;
  g_autoptr(GFile) file = NULL;
  g_autoptr(GFileOutputStream) out = NULL;
  GError *error = NULL;

  if (g_mkdir_with_parents (paste->dir, 0700) != 0)
    {
      int saved = errno;

      g_task_return_new_error (task, G_IO_ERROR, g_io_error_from_errno (saved), "%s: %s",
                               paste->dir, g_strerror (saved));
      return;
    }
  png = gdk_texture_save_to_png_bytes (paste->texture);
  file = create_unique (paste, &out, cancellable, &error);
  if (file == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  if (!g_output_stream_write_all (G_OUTPUT_STREAM (out), g_bytes_get_data (png, NULL), g_bytes_get_size (png),
                                  NULL, cancellable, &error) ||
      !g_output_stream_close (G_OUTPUT_STREAM (out), cancellable, &error))
    {
      /* A disk full or a cancel: no half picture left behind. */
      g_file_delete (file, NULL, NULL);
      g_task_return_error (task, error);
      return;
    }
  g_task_return_pointer (task, g_steal_pointer (&file), g_object_unref);
}

/* A texture the worker thread may read: memory textures are plain bytes;
 * any other (a GL texture from a program of ours) is copied out here, on
 * the thread that owns it. */
static GdkTexture *
texture_for_thread (GdkTexture *texture)
{
  int width = gdk_texture_get_width (texture);
  int height = gdk_texture_get_height (texture);
  gsize stride = (gsize) width * 4;
  g_autoptr(GBytes) bytes = NULL;
  guint8 *data;

  if (GDK_IS_MEMORY_TEXTURE (texture))
    return g_object_ref (texture);
  data = g_malloc (stride * (gsize) height);
  gdk_texture_download (texture, data, stride);
  bytes = g_bytes_new_take (data, stride * (gsize) height);
  return gdk_memory_texture_new (width, height, GDK_MEMORY_DEFAULT, bytes, stride);
}

static void
read_texture_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Paste *paste = g_task_get_task_data (task);
  GError *error = NULL;
  g_autoptr(GdkTexture) texture = gdk_clipboard_read_texture_finish (GDK_CLIPBOARD (source), result, &error);
  int width, height;

  if (texture == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  width = gdk_texture_get_width (texture);
  height = gdk_texture_get_height (texture);
  if ((guint64) width * (guint64) height > SSQ_GTK_IMAGE_MAX_PIXELS)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE,
                               _("The picture is too large to send (%d × %d pixels)"), width, height);
      return;
    }
  paste->texture = texture_for_thread (texture);
  g_task_run_in_thread (task, save_thread);
}

/**
 * ssq_gtk_paste_save_image_async:
 * @clipboard: a clipboard holding a picture
 * @cancellable: (nullable): a cancellable
 * @callback: called when the file is written
 * @user_data: for @callback
 *
 * Reads the picture on @clipboard and saves it as a PNG file of its own
 * in ssq_gtk_paste_get_dir(), named "Pasted image DATE TIME.png" ("(2)"
 * and so on added when that name is taken).
 */
void
ssq_gtk_paste_save_image_async (GdkClipboard        *clipboard,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  GTask *task;
  Paste *paste;

  g_return_if_fail (GDK_IS_CLIPBOARD (clipboard));

  paste = g_new0 (Paste, 1);
  paste->dir = ssq_gtk_paste_get_dir ();
  paste->stamp = g_date_time_format (now, "%Y-%m-%d %H-%M-%S");
  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, ssq_gtk_paste_save_image_async);
  g_task_set_task_data (task, paste, (GDestroyNotify) paste_free);
  gdk_clipboard_read_texture_async (clipboard, cancellable, read_texture_cb, task);
}

/**
 * ssq_gtk_paste_save_image_finish:
 * @result: the result given to the callback
 * @error: return location for an error
 *
 * Returns: (transfer full): the file written, or %NULL with @error set
 */
GFile *
ssq_gtk_paste_save_image_finish (GAsyncResult  *result,
                                 GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * ssq_gtk_paste_prune:
 * @max_age: how old a pasted picture may be
 * @cancellable: (nullable): a cancellable
 *
 * Deletes the pasted pictures last changed more than @max_age ago. It
 * blocks: see ssq_gtk_paste_prune_async().
 *
 * Returns: how many were deleted
 */
guint
ssq_gtk_paste_prune (GTimeSpan     max_age,
                     GCancellable *cancellable)
{
  g_autofree char *path = ssq_gtk_paste_get_dir ();
  g_autoptr(GFile) dir = g_file_new_for_path (path);
  g_autoptr(GFileEnumerator) children = NULL;
  gint64 now = g_get_real_time ();
  guint deleted = 0;

  children = g_file_enumerate_children (dir, G_FILE_ATTRIBUTE_STANDARD_NAME "," G_FILE_ATTRIBUTE_STANDARD_TYPE ","
                                        G_FILE_ATTRIBUTE_TIME_MODIFIED, G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS,
                                        cancellable, NULL);
  for (;;)
    {
      GFileInfo *info = NULL;
      GFile *child = NULL;
      gint64 modified;

      if (children == NULL || !g_file_enumerator_iterate (children, &info, &child, cancellable, NULL) ||
          info == NULL)
        break;
      modified = (gint64) g_file_info_get_attribute_uint64 (info, G_FILE_ATTRIBUTE_TIME_MODIFIED) * G_USEC_PER_SEC;
      if (g_file_info_get_file_type (info) == G_FILE_TYPE_REGULAR && now - modified > max_age &&
          g_file_delete (child, cancellable, NULL))
        deleted++;
    }
  return deleted;
}

static void
prune_thread (GTask        *task,
              gpointer      source,
              gpointer      task_data,
              GCancellable *cancellable)
{
  ssq_gtk_paste_prune (*(GTimeSpan *) task_data, cancellable);
  g_task_return_boolean (task, TRUE);
}

/**
 * ssq_gtk_paste_prune_async:
 * @max_age: how old a pasted picture may be
 *
 * ssq_gtk_paste_prune() in a worker thread, without waiting for it.
 */
void
ssq_gtk_paste_prune_async (GTimeSpan max_age)
{
  g_autoptr(GTask) task = g_task_new (NULL, NULL, NULL, NULL);

  g_task_set_source_tag (task, ssq_gtk_paste_prune_async);
  g_task_set_task_data (task, g_memdup2 (&max_age, sizeof max_age), g_free);
  g_task_run_in_thread (task, prune_thread);
}
