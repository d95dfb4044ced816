/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-gtk-media-row.c: an attachment in the message list, built once by
 * the list's factory and given another attachment when the row is reused
 * (a thumbnail still loading for the old one is cancelled).
 *
 * A picture the server could decode (an image type, with its width and
 * height known) shows as a thumbnail shrunk to fit 320x240, aspect kept;
 * until the thumbnail file is there, a grey box of the same shape stands
 * in, so that the list does not jump when it arrives. A click emits
 * "activate" (the viewer). Any other file, an image the server could not
 * read included, is a line: its type's icon, name, size and kind, and
 * Save and Open buttons ("save", "open"). Under either, a progress bar
 * for the download, hidden until a fraction is set; or, while the
 * attachment waits in the outbox, for its upload, with a button that
 * gives it up ("cancel"). The row only shows: uploading, downloading and
 * opening belong to whoever owns it. */
#include "ssq-config.h"
#include "ssq-gtk-media-row.h"

#include <glib/gi18n.h>

#include "ssq-gtk-image-load.h"
#include "ssq-gtk-media-text.h"

/* The placeholder's shape when the size is not known. */
#define UNKNOWN_WIDTH  240
#define UNKNOWN_HEIGHT 180

struct _SsqGtkMediaRow
{
  GtkWidget     parent_instance;
  GtkWidget    *box;

  /* A picture. */
  GtkWidget    *thumbnail_button;
  GtkWidget    *placeholder;
  GtkWidget    *placeholder_icon;
  GtkWidget    *picture;

  /* Another file. */
  GtkWidget    *file_line;
  GtkWidget    *icon;
  GtkWidget    *name_label;
  GtkWidget    *details_label;
  GtkWidget    *save_button;
  GtkWidget    *open_button;

  GtkWidget    *progress;
  GtkWidget    *cancel_button;  /* beside the progress, while uploading */

  char         *name;      /* cleaned, as shown */
  char         *mime;
  int           width;
  int           height;
  GCancellable *loading;   /* the thumbnail's load, while it runs */
};

G_DEFINE_FINAL_TYPE (SsqGtkMediaRow, ssq_gtk_media_row, GTK_TYPE_WIDGET)

enum {
  SIGNAL_ACTIVATE,
  SIGNAL_SAVE,
  SIGNAL_OPEN,
  SIGNAL_CANCEL,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
thumbnail_clicked_cb (SsqGtkMediaRow *self)
{
  g_signal_emit (self, signals[SIGNAL_ACTIVATE], 0);
}

static void
save_clicked_cb (SsqGtkMediaRow *self)
{
  g_signal_emit (self, signals[SIGNAL_SAVE], 0);
}

static void
open_clicked_cb (SsqGtkMediaRow *self)
{
  g_signal_emit (self, signals[SIGNAL_OPEN], 0);
}

static void
cancel_clicked_cb (SsqGtkMediaRow *self)
{
  g_signal_emit (self, signals[SIGNAL_CANCEL], 0);
}

/* The shown size of a picture of @width x @height. */
static void
shown_size (int  width,
            int  height,
            int *out_width,
            int *out_height)
{
  if (width <= 0 || height <= 0)
    {
      *out_width = UNKNOWN_WIDTH;
      *out_height = UNKNOWN_HEIGHT;
      return;
    }
  ssq_gtk_image_fit (width, height, SSQ_GTK_MEDIA_ROW_MAX_WIDTH, SSQ_GTK_MEDIA_ROW_MAX_HEIGHT,
                     out_width, out_height);
}

static void
show_placeholder (SsqGtkMediaRow *self,
                  const char     *icon_name)
{
  int width, height;

  shown_size (self->width, self->height, &width, &height);
  gtk_widget_set_size_request (self->placeholder, width, height);
  gtk_image_set_from_icon_name (GTK_IMAGE (self->placeholder_icon), icon_name);
  gtk_picture_set_paintable (GTK_PICTURE (self->picture), NULL);
  gtk_widget_set_visible (self->picture, FALSE);
  gtk_widget_set_visible (self->placeholder, TRUE);
}

static void
stop_loading (SsqGtkMediaRow *self)
{
  if (self->loading != NULL)
    g_cancellable_cancel (self->loading);
  g_clear_object (&self->loading);
}

static void
thumbnail_loaded_cb (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(SsqGtkMediaRow) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GdkTexture) texture = ssq_gtk_image_load_finish (result, &error);

  /* Cancelled: the row shows another attachment, or none, by now. */
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  g_clear_object (&self->loading);
  if (texture == NULL)
    {
      g_debug ("thumbnail of %s: %s", self->name, error->message);
      show_placeholder (self, "image-missing-symbolic");
      return;
    }
  /* Its own shape wins over the declared one (which may be the stored
   * image's, before its EXIF turn). It fits the box already. */
  gtk_widget_set_size_request (self->picture, gdk_texture_get_width (texture), gdk_texture_get_height (texture));
  gtk_picture_set_paintable (GTK_PICTURE (self->picture), GDK_PAINTABLE (texture));
  gtk_widget_set_visible (self->placeholder, FALSE);
  gtk_widget_set_visible (self->picture, TRUE);
}

/**
 * ssq_gtk_media_row_set_thumbnail:
 * @self: the row
 * @path: (nullable): the thumbnail's file, or %NULL while there is none
 *
 * Shows the thumbnail in @path (loaded off the main thread, shrunk to
 * fit), or the placeholder. Only a picture has one: for another file
 * this does nothing.
 */
void
ssq_gtk_media_row_set_thumbnail (SsqGtkMediaRow *self,
                                 const char     *path)
{
  g_autoptr(GFile) file = NULL;

  g_return_if_fail (SSQ_IS_GTK_MEDIA_ROW (self));

  stop_loading (self);
  if (!ssq_gtk_media_row_is_picture (self))
    return;
  show_placeholder (self, "image-x-generic-symbolic");
  if (path == NULL)
    return;
  file = g_file_new_for_path (path);
  self->loading = g_cancellable_new ();
  ssq_gtk_image_load_async (file, SSQ_GTK_MEDIA_ROW_MAX_WIDTH, SSQ_GTK_MEDIA_ROW_MAX_HEIGHT, self->loading,
                            thumbnail_loaded_cb, g_object_ref (self));
}

static void
describe_picture (SsqGtkMediaRow *self,
                  gint64          size)
{
  g_autofree char *details = ssq_gtk_media_text_details (size, self->mime);
  g_autofree char *description = self->width > 0
                                 /* Translators: a picture's width × height, then its size and kind. */
                                 ? g_strdup_printf (_("%d × %d, %s"), self->width, self->height, details)
                                 : g_strdup (details);
  /* Translators: the label of a picture's thumbnail, a button; %s is its
   * name. */
  g_autofree char *label = g_strdup_printf (_("Open picture %s"), self->name);

  gtk_widget_set_tooltip_text (self->thumbnail_button, self->name);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->thumbnail_button),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, label,
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, description, -1);
}

static void
describe_file (SsqGtkMediaRow *self,
               gint64          size)
{
  g_autofree char *details = ssq_gtk_media_text_details (size, self->mime);
  g_autofree char *type = g_content_type_from_mime_type (self->mime != NULL ? self->mime
                                                                           : "application/octet-stream");
  g_autoptr(GIcon) icon = g_content_type_get_symbolic_icon (type != NULL ? type : "application/octet-stream");
  /* Translators: the Save button of an attachment; %s is its name. */
  g_autofree char *save = g_strdup_printf (_("Save %s"), self->name);
  /* Translators: the Open button of an attachment; %s is its name. */
  g_autofree char *open = g_strdup_printf (_("Open %s"), self->name);

  gtk_image_set_from_gicon (GTK_IMAGE (self->icon), icon);
  gtk_label_set_text (GTK_LABEL (self->name_label), self->name);
  gtk_widget_set_tooltip_text (self->name_label, self->name);
  gtk_label_set_text (GTK_LABEL (self->details_label), details);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->save_button), GTK_ACCESSIBLE_PROPERTY_LABEL, save, -1);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->open_button), GTK_ACCESSIBLE_PROPERTY_LABEL, open, -1);
}

/**
 * ssq_gtk_media_row_set_media:
 * @self: the row
 * @name: the attachment's name, as sent
 * @mime: (nullable): its type, as the server sniffed it
 * @size: its size in bytes
 * @width: a picture's width, or 0 when not known (not a picture the
 *   server could read)
 * @height: its height, or 0
 *
 * Shows another attachment: no thumbnail yet, no progress.
 */
void
ssq_gtk_media_row_set_media (SsqGtkMediaRow *self,
                             const char     *name,
                             const char     *mime,
                             gint64          size,
                             int             width,
                             int             height)
{
  gboolean picture;

  g_return_if_fail (SSQ_IS_GTK_MEDIA_ROW (self));

  stop_loading (self);
  g_free (self->name);
  self->name = ssq_gtk_media_text_clean_name (name);
  g_free (self->mime);
  self->mime = g_strdup (mime);
  self->width = width > 0 && height > 0 ? width : 0;
  self->height = width > 0 && height > 0 ? height : 0;
  picture = ssq_gtk_media_row_is_picture (self);
  gtk_widget_set_visible (self->thumbnail_button, picture);
  gtk_widget_set_visible (self->file_line, !picture);
  if (picture)
    {
      describe_picture (self, size);
      show_placeholder (self, "image-x-generic-symbolic");
    }
  else
    describe_file (self, size);
  {
    /* Translators: the button that stops an attachment's upload and
     * takes it out of the message; %s is its name. */
    g_autofree char *cancel = g_strdup_printf (_("Cancel the upload of %s"), self->name);

    gtk_widget_set_tooltip_text (self->cancel_button, cancel);
    gtk_accessible_update_property (GTK_ACCESSIBLE (self->cancel_button), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                    cancel, -1);
  }
  ssq_gtk_media_row_set_progress (self, -1);
}

static void
show_progress (SsqGtkMediaRow *self,
               double          fraction,
               gboolean        upload)
{
  gboolean shown = fraction >= 0;

  gtk_widget_set_visible (self->progress, shown);
  gtk_widget_set_visible (self->cancel_button, shown && upload);
  if (!shown)
    return;
  gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (self->progress), CLAMP (fraction, 0.0, 1.0));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->progress), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  upload ? _("Upload") : _("Download"), -1);
}

/**
 * ssq_gtk_media_row_set_progress:
 * @self: the row
 * @fraction: how much of the download is done, from 0 to 1; negative
 *   hides the bar
 */
void
ssq_gtk_media_row_set_progress (SsqGtkMediaRow *self,
                                double          fraction)
{
  g_return_if_fail (SSQ_IS_GTK_MEDIA_ROW (self));

  show_progress (self, fraction, FALSE);
}

/**
 * ssq_gtk_media_row_set_upload:
 * @self: the row
 * @fraction: how much of the attachment's upload is done, from 0 to 1;
 *   negative hides the bar and its cancel button
 *
 * Shows the progress of the attachment's upload, with a button that
 * emits "cancel".
 */
void
ssq_gtk_media_row_set_upload (SsqGtkMediaRow *self,
                              double          fraction)
{
  g_return_if_fail (SSQ_IS_GTK_MEDIA_ROW (self));

  show_progress (self, fraction, TRUE);
}

/**
 * ssq_gtk_media_row_get_progress:
 * @self: the row
 *
 * Returns: the fraction the progress bar shows, or -1 while it is hidden
 */
double
ssq_gtk_media_row_get_progress (SsqGtkMediaRow *self)
{
  g_return_val_if_fail (SSQ_IS_GTK_MEDIA_ROW (self), -1);

  if (!gtk_widget_get_visible (self->progress))
    return -1;
  return gtk_progress_bar_get_fraction (GTK_PROGRESS_BAR (self->progress));
}

/**
 * ssq_gtk_media_row_is_picture:
 * @self: the row
 *
 * Returns: whether the attachment shows as a thumbnail: an image the
 *   server could read (its size is known)
 */
gboolean
ssq_gtk_media_row_is_picture (SsqGtkMediaRow *self)
{
  g_return_val_if_fail (SSQ_IS_GTK_MEDIA_ROW (self), FALSE);

  return ssq_gtk_media_text_is_picture (self->mime) && self->width > 0;
}

/**
 * ssq_gtk_media_row_is_loading:
 * @self: the row
 *
 * Returns: whether a thumbnail is being loaded
 */
gboolean
ssq_gtk_media_row_is_loading (SsqGtkMediaRow *self)
{
  g_return_val_if_fail (SSQ_IS_GTK_MEDIA_ROW (self), FALSE);

  return self->loading != NULL;
}

/**
 * ssq_gtk_media_row_get_thumbnail:
 * @self: the row
 *
 * Returns: (transfer none) (nullable): the thumbnail shown, or %NULL
 *   while the placeholder is
 */
GdkPaintable *
ssq_gtk_media_row_get_thumbnail (SsqGtkMediaRow *self)
{
  g_return_val_if_fail (SSQ_IS_GTK_MEDIA_ROW (self), NULL);

  return gtk_picture_get_paintable (GTK_PICTURE (self->picture));
}

GtkWidget *
ssq_gtk_media_row_new (void)
{
  return g_object_new (SSQ_TYPE_GTK_MEDIA_ROW, NULL);
}

static void
ssq_gtk_media_row_dispose (GObject *object)
{
  SsqGtkMediaRow *self = SSQ_GTK_MEDIA_ROW (object);

  stop_loading (self);
  g_clear_pointer (&self->box, gtk_widget_unparent);
  G_OBJECT_CLASS (ssq_gtk_media_row_parent_class)->dispose (object);
}

static void
ssq_gtk_media_row_finalize (GObject *object)
{
  SsqGtkMediaRow *self = SSQ_GTK_MEDIA_ROW (object);

  g_free (self->name);
  g_free (self->mime);
  G_OBJECT_CLASS (ssq_gtk_media_row_parent_class)->finalize (object);
}

static void
ssq_gtk_media_row_class_init (SsqGtkMediaRowClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = ssq_gtk_media_row_dispose;
  G_OBJECT_CLASS (klass)->finalize = ssq_gtk_media_row_finalize;
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GROUP);

  /**
   * SsqGtkMediaRow::activate:
   *
   * The picture's thumbnail was clicked: show it whole.
   */
  signals[SIGNAL_ACTIVATE] = g_signal_new ("activate", G_TYPE_FROM_CLASS (klass),
                                           G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION, 0, NULL, NULL, NULL,
                                           G_TYPE_NONE, 0);
  gtk_widget_class_set_activate_signal (widget_class, signals[SIGNAL_ACTIVATE]);
  /**
   * SsqGtkMediaRow::save:
   *
   * The file's Save button was clicked.
   */
  signals[SIGNAL_SAVE] = g_signal_new ("save", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                                       NULL, G_TYPE_NONE, 0);
  /**
   * SsqGtkMediaRow::open:
   *
   * The file's Open button was clicked.
   */
  signals[SIGNAL_OPEN] = g_signal_new ("open", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                                       NULL, G_TYPE_NONE, 0);
  /**
   * SsqGtkMediaRow::cancel:
   *
   * The upload's cancel button was clicked.
   */
  signals[SIGNAL_CANCEL] = g_signal_new ("cancel", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                                         NULL, G_TYPE_NONE, 0);
}

static GtkWidget *
icon_button (const char     *icon_name,
             const char     *tooltip,
             GCallback       clicked,
             SsqGtkMediaRow *self)
{
  GtkWidget *button = gtk_button_new_from_icon_name (icon_name);

  gtk_widget_set_tooltip_text (button, tooltip);
  gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL, tooltip, -1);
  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (button, "flat");
  gtk_widget_add_css_class (button, "circular");
  g_signal_connect_swapped (button, "clicked", clicked, self);
  return button;
}

static void
picture_init (SsqGtkMediaRow *self)
{
  GtkWidget *frame = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);

  self->placeholder = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  gtk_widget_add_css_class (self->placeholder, "media-placeholder");
  self->placeholder_icon = gtk_image_new_from_icon_name ("image-x-generic-symbolic");
  gtk_image_set_pixel_size (GTK_IMAGE (self->placeholder_icon), 32);
  gtk_widget_set_vexpand (self->placeholder_icon, TRUE);
  gtk_widget_add_css_class (self->placeholder_icon, "dim-label");
  gtk_box_append (GTK_BOX (self->placeholder), self->placeholder_icon);
  self->picture = gtk_picture_new ();
  gtk_picture_set_can_shrink (GTK_PICTURE (self->picture), TRUE);
  gtk_picture_set_content_fit (GTK_PICTURE (self->picture), GTK_CONTENT_FIT_CONTAIN);
  gtk_widget_set_visible (self->picture, FALSE);
  gtk_box_append (GTK_BOX (frame), self->placeholder);
  gtk_box_append (GTK_BOX (frame), self->picture);

  self->thumbnail_button = gtk_button_new ();
  gtk_button_set_child (GTK_BUTTON (self->thumbnail_button), frame);
  gtk_widget_add_css_class (self->thumbnail_button, "flat");
  gtk_widget_add_css_class (self->thumbnail_button, "media-thumbnail");
  g_signal_connect_swapped (self->thumbnail_button, "clicked", G_CALLBACK (thumbnail_clicked_cb), self);
  gtk_box_append (GTK_BOX (self->box), self->thumbnail_button);
}

static void
file_init (SsqGtkMediaRow *self)
{
  GtkWidget *text = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);

  self->file_line = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 10);
  gtk_widget_set_size_request (self->file_line, 240, -1);
  gtk_widget_add_css_class (self->file_line, "media-file");
  self->icon = gtk_image_new ();
  gtk_image_set_pixel_size (GTK_IMAGE (self->icon), 32);
  self->name_label = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (self->name_label), 0);
  gtk_label_set_ellipsize (GTK_LABEL (self->name_label), PANGO_ELLIPSIZE_MIDDLE);
  gtk_label_set_max_width_chars (GTK_LABEL (self->name_label), 32);
  gtk_label_set_single_line_mode (GTK_LABEL (self->name_label), TRUE);
  gtk_widget_add_css_class (self->name_label, "heading");
  self->details_label = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (self->details_label), 0);
  gtk_label_set_ellipsize (GTK_LABEL (self->details_label), PANGO_ELLIPSIZE_END);
  gtk_widget_add_css_class (self->details_label, "dim-label");
  gtk_widget_add_css_class (self->details_label, "caption");
  gtk_box_append (GTK_BOX (text), self->name_label);
  gtk_box_append (GTK_BOX (text), self->details_label);
  gtk_widget_set_valign (text, GTK_ALIGN_CENTER);
  gtk_widget_set_hexpand (text, TRUE);
  self->save_button = icon_button ("document-save-symbolic", _("Save"), G_CALLBACK (save_clicked_cb), self);
  self->open_button = icon_button ("document-open-symbolic", _("Open"), G_CALLBACK (open_clicked_cb), self);
  gtk_box_append (GTK_BOX (self->file_line), self->icon);
  gtk_box_append (GTK_BOX (self->file_line), text);
  gtk_box_append (GTK_BOX (self->file_line), self->save_button);
  gtk_box_append (GTK_BOX (self->file_line), self->open_button);
  gtk_box_append (GTK_BOX (self->box), self->file_line);
}

static void
ssq_gtk_media_row_init (SsqGtkMediaRow *self)
{
  GtkWidget *progress_line;

  self->box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
  /* As wide as the thumbnail or the file's line, the progress bar too. */
  gtk_widget_set_halign (self->box, GTK_ALIGN_START);
  gtk_widget_set_parent (self->box, GTK_WIDGET (self));
  picture_init (self);
  file_init (self);
  progress_line = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  self->progress = gtk_progress_bar_new ();
  gtk_widget_set_hexpand (self->progress, TRUE);
  gtk_widget_set_valign (self->progress, GTK_ALIGN_CENTER);
  gtk_widget_set_visible (self->progress, FALSE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->progress), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Download"), -1);
  self->cancel_button = icon_button ("process-stop-symbolic", _("Cancel the upload"),
                                     G_CALLBACK (cancel_clicked_cb), self);
  gtk_widget_set_visible (self->cancel_button, FALSE);
  gtk_box_append (GTK_BOX (progress_line), self->progress);
  gtk_box_append (GTK_BOX (progress_line), self->cancel_button);
  gtk_box_append (GTK_BOX (self->box), progress_line);
  gtk_widget_set_visible (self->thumbnail_button, FALSE);
  gtk_widget_set_visible (self->file_line, FALSE);
}
