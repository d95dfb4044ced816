/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-gtk-viewer.c: the picture viewer a click on a thumbnail opens. It
 * shows a picture file whole, scaled to the window with its aspect kept
 * and turned upright, decoded off the main thread with the limits of
 * ssq-gtk-image-load.c (what it refuses is said on the page, and Save and
 * Open With still work). Its title is the name the picture was sent as,
 * which the file in the download cache need not have.
 *
 * Save copies the file where a save chooser says (the portal's inside
 * Flatpak); Open With offers the programs for its type in
 * GtkAppChooserDialog (GtkFileLauncher is GTK 4.10). A sandbox sees none
 * of the host's programs, so there the file goes to the OpenURI portal,
 * which asks. Escape closes the window. */
#include "ssq-config.h"
#include "ssq-gtk-viewer.h"

#include <glib/gi18n.h>

#include "ssq-gtk-image-load.h"

struct _SsqGtkViewer
{
  AdwWindow             parent_instance;

  /* Template children. */
  AdwWindowTitle       *title;
  AdwToastOverlay      *toasts;
  GtkStack             *stack;
  GtkPicture           *picture;
  AdwStatusPage        *error_page;

  GFile                *file;
  char                 *name;
  GCancellable         *cancellable;   /* the load, the copy */
  GtkFileChooserNative *chooser;       /* while it is open */
  gboolean              loading;
};

G_DEFINE_FINAL_TYPE (SsqGtkViewer, ssq_gtk_viewer, ADW_TYPE_WINDOW)

/* A toast's title is markup in libadwaita 1.2: a file name is not. */
static void
toast (SsqGtkViewer *self,
       const char   *text)
{
  g_autofree char *markup = g_markup_escape_text (text, -1);

  adw_toast_overlay_add_toast (self->toasts, adw_toast_new (markup));
}

static void
loaded_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(SsqGtkViewer) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GdkTexture) texture = ssq_gtk_image_load_finish (result, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  self->loading = FALSE;
  if (texture == NULL)
    {
      adw_status_page_set_description (self->error_page, error->message);
      gtk_stack_set_visible_child_name (self->stack, "error");
      return;
    }
  gtk_picture_set_paintable (self->picture, GDK_PAINTABLE (texture));
  gtk_stack_set_visible_child_name (self->stack, "picture");
}

/* Save. */

typedef struct {
  SsqGtkViewer *self;
  GFile        *target;
} Saving;

static void
saved_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  Saving *saving = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *target_name = g_file_get_parse_name (saving->target);
  g_autofree char *text = NULL;

  if (g_file_copy_finish (G_FILE (source), result, &error))
    /* Translators: %s is where the picture was saved. */
    text = g_strdup_printf (_("Saved as %s"), target_name);
  else if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    text = g_strdup_printf (_("Could not save the picture: %s"), error->message);
  if (text != NULL)
    toast (saving->self, text);
  g_object_unref (saving->self);
  g_object_unref (saving->target);
  g_free (saving);
}

static void
save_response_cb (GtkNativeDialog *dialog,
                  int              response,
                  SsqGtkViewer    *self)
{
  g_autoptr(GFile) target = NULL;
  Saving *saving;

  if (response == GTK_RESPONSE_ACCEPT)
    target = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
  g_clear_object (&self->chooser);
  if (target == NULL)
    return;
  /* Onto itself, a copy would empty the file before reading it. */
  if (g_file_equal (target, self->file))
    return;
  saving = g_new0 (Saving, 1);
  saving->self = g_object_ref (self);
  saving->target = g_steal_pointer (&target);
  /* The cache's copy is private to the user; the saved one gets the
   * permissions any new file there would. */
  g_file_copy_async (self->file, saving->target, G_FILE_COPY_OVERWRITE | G_FILE_COPY_TARGET_DEFAULT_PERMS,
                     G_PRIORITY_DEFAULT, self->cancellable, NULL, NULL, saved_cb, saving);
}

/* Pictures go to Pictures, when there is one. */
static void
start_in_pictures (GtkFileChooser *chooser)
{
  const char *pictures = g_get_user_special_dir (G_USER_DIRECTORY_PICTURES);
  g_autoptr(GFile) folder = NULL;

  if (pictures == NULL || !g_file_test (pictures, G_FILE_TEST_IS_DIR))
    return;
  folder = g_file_new_for_path (pictures);
  gtk_file_chooser_set_current_folder (chooser, folder, NULL);
}

static void
save_clicked_cb (SsqGtkViewer *self)
{
  if (self->chooser != NULL)
    return;
  self->chooser = gtk_file_chooser_native_new (_("Save Picture"), GTK_WINDOW (self), GTK_FILE_CHOOSER_ACTION_SAVE,
                                               _("_Save"), NULL);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (self->chooser), TRUE);
  start_in_pictures (GTK_FILE_CHOOSER (self->chooser));
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (self->chooser), self->name);
  g_signal_connect (self->chooser, "response", G_CALLBACK (save_response_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

/* Open With. */

static gboolean
sandboxed (void)
{
  return g_file_test ("/.flatpak-info", G_FILE_TEST_EXISTS);
}

static void
launch_failed (SsqGtkViewer *self,
               const GError *error)
{
  g_autofree char *text = g_strdup_printf (_("Could not open the picture: %s"), error->message);

  toast (self, text);
}

static void
portal_launched_cb (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(SsqGtkViewer) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!g_app_info_launch_default_for_uri_finish (result, &error) &&
      !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    launch_failed (self, error);
}

static void
app_chosen_cb (GtkDialog    *dialog,
               int           response,
               SsqGtkViewer *self)
{
  g_autoptr(GAppInfo) app = NULL;
  g_autoptr(GdkAppLaunchContext) context = NULL;
  g_autoptr(GError) error = NULL;
  GList files = { self->file, NULL, NULL };

  if (response == GTK_RESPONSE_OK)
    app = gtk_app_chooser_get_app_info (GTK_APP_CHOOSER (dialog));
  gtk_window_destroy (GTK_WINDOW (dialog));
  if (app == NULL)
    return;
  context = gdk_display_get_app_launch_context (gtk_widget_get_display (GTK_WIDGET (self)));
  if (!g_app_info_launch (app, &files, G_APP_LAUNCH_CONTEXT (context), &error))
    launch_failed (self, error);
}

static void
open_with_clicked_cb (SsqGtkViewer *self)
{
  g_autofree char *uri = NULL;
  g_autofree char *escaped = NULL;
  g_autofree char *heading = NULL;
  GtkWidget *dialog;

  if (sandboxed ())
    {
      g_autoptr(GdkAppLaunchContext) context =
        gdk_display_get_app_launch_context (gtk_widget_get_display (GTK_WIDGET (self)));

      uri = g_file_get_uri (self->file);
      g_app_info_launch_default_for_uri_async (uri, G_APP_LAUNCH_CONTEXT (context), self->cancellable,
                                               portal_launched_cb, g_object_ref (self));
      return;
    }
  dialog = gtk_app_chooser_dialog_new (GTK_WINDOW (self), GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT,
                                       self->file);
  escaped = g_markup_escape_text (self->name, -1);
  /* Translators: %s is the picture's name; the text is markup (already
   * escaped). */
  heading = g_strdup_printf (_("Choose a program to open “%s”"), escaped);
  gtk_app_chooser_dialog_set_heading (GTK_APP_CHOOSER_DIALOG (dialog), heading);
  g_signal_connect_object (dialog, "response", G_CALLBACK (app_chosen_cb), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

/**
 * ssq_gtk_viewer_new:
 * @parent: (nullable): the window it belongs to
 * @file: the picture, a local file
 * @name: (nullable): the name to show and to save it as; %NULL for the
 *   file's own
 *
 * Opens a viewer of @file. It starts decoding at once; the window shows a
 * spinner meanwhile.
 *
 * Returns: (transfer floating): the viewer, not yet shown
 */
GtkWidget *
ssq_gtk_viewer_new (GtkWindow  *parent,
                    GFile      *file,
                    const char *name)
{
  SsqGtkViewer *self;

  g_return_val_if_fail (parent == NULL || GTK_IS_WINDOW (parent), NULL);
  g_return_val_if_fail (G_IS_FILE (file), NULL);

  self = g_object_new (SSQ_TYPE_GTK_VIEWER, "transient-for", parent, "destroy-with-parent", TRUE, NULL);
  self->file = g_object_ref (file);
  if (name != NULL)
    self->name = g_utf8_make_valid (name, -1);
  else
    {
      g_autofree char *base = g_file_get_basename (file);

      self->name = base != NULL ? g_filename_display_name (base) : g_file_get_parse_name (file);
    }
  gtk_window_set_title (GTK_WINDOW (self), self->name);
  adw_window_title_set_title (self->title, self->name);
  gtk_picture_set_alternative_text (self->picture, self->name);
  self->loading = TRUE;
  ssq_gtk_image_load_async (file, 0, 0, self->cancellable, loaded_cb, g_object_ref (self));
  return GTK_WIDGET (self);
}

/**
 * ssq_gtk_viewer_get_file:
 * @self: the viewer
 *
 * Returns: (transfer none): the picture file shown
 */
GFile *
ssq_gtk_viewer_get_file (SsqGtkViewer *self)
{
  g_return_val_if_fail (SSQ_IS_GTK_VIEWER (self), NULL);

  return self->file;
}

/**
 * ssq_gtk_viewer_is_loading:
 * @self: the viewer
 *
 * Returns: whether the picture is still being decoded (afterwards the
 *   window shows it, or why it cannot)
 */
gboolean
ssq_gtk_viewer_is_loading (SsqGtkViewer *self)
{
  g_return_val_if_fail (SSQ_IS_GTK_VIEWER (self), FALSE);

  return self->loading;
}

static void
ssq_gtk_viewer_dispose (GObject *object)
{
  SsqGtkViewer *self = SSQ_GTK_VIEWER (object);

  g_cancellable_cancel (self->cancellable);
  if (self->chooser != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->chooser, self);
      gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->chooser));
      g_clear_object (&self->chooser);
    }
  gtk_widget_dispose_template (GTK_WIDGET (self), SSQ_TYPE_GTK_VIEWER);
  G_OBJECT_CLASS (ssq_gtk_viewer_parent_class)->dispose (object);
}

static void
ssq_gtk_viewer_finalize (GObject *object)
{
  SsqGtkViewer *self = SSQ_GTK_VIEWER (object);

  g_clear_object (&self->cancellable);
  g_clear_object (&self->file);
  g_free (self->name);
  G_OBJECT_CLASS (ssq_gtk_viewer_parent_class)->finalize (object);
}

static void
ssq_gtk_viewer_class_init (SsqGtkViewerClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = ssq_gtk_viewer_dispose;
  G_OBJECT_CLASS (klass)->finalize = ssq_gtk_viewer_finalize;

  gtk_widget_class_set_template_from_resource (widget_class, "/org/supersoniq/Supersoniq/ssq-gtk-viewer.ui");
  gtk_widget_class_bind_template_child (widget_class, SsqGtkViewer, title);
  gtk_widget_class_bind_template_child (widget_class, SsqGtkViewer, toasts);
  gtk_widget_class_bind_template_child (widget_class, SsqGtkViewer, stack);
  gtk_widget_class_bind_template_child (widget_class, SsqGtkViewer, picture);
  gtk_widget_class_bind_template_child (widget_class, SsqGtkViewer, error_page);
  gtk_widget_class_bind_template_callback (widget_class, save_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, open_with_clicked_cb);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
ssq_gtk_viewer_init (SsqGtkViewer *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->cancellable = g_cancellable_new ();
}
