/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-gtk-media.c: the desktop client's media parts under Xvfb, with real
 * files and real widgets: files dropped on the conversation, a picture
 * pasted into the composer, the viewer (Save, Open With, Escape), the
 * media rows, the notification texts. XDG_CACHE_HOME, XDG_DATA_HOME and
 * XDG_CONFIG_HOME point into a directory of the test's own, where a fake
 * program is the default for PNG files: "Open With" really launches it.
 * Screenshots go to $SSQ_SCREENSHOT_DIR. */
#include <adwaita.h>
#include <glib/gstdio.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "ssq-gtk-application.h"
#include "ssq-gtk-composer.h"
#include "ssq-gtk-conversation-view.h"
#include "ssq-gtk-media-row.h"
#include "ssq-gtk-media-text.h"
#include "ssq-gtk-paste.h"
#include "ssq-gtk-test-util.h"
#include "ssq-gtk-viewer.h"
#include "ssq-gtk-window.h"
#include "ssq-test-images.h"
#include "ssq-test-server.h"

#define WAIT_MS 10000

static char *root;   /* the test's home: XDG dirs, the fake program */

/* Helpers. */

/* A window holding @child, with a "win.toast" action that records each
 * toast's text in @toasts, as the main window's would show it. */
static void
toast_cb (GSimpleAction *action,
          GVariant      *parameter,
          gpointer       user_data)
{
  g_ptr_array_add (user_data, g_variant_dup_string (parameter, NULL));
}

static GtkWidget *
window_with (GtkWidget *child,
             GPtrArray *toasts)
{
  GtkWidget *window = gtk_window_new ();
  g_autoptr(GSimpleActionGroup) group = g_simple_action_group_new ();
  g_autoptr(GSimpleAction) toast = g_simple_action_new ("toast", G_VARIANT_TYPE_STRING);

  g_signal_connect (toast, "activate", G_CALLBACK (toast_cb), toasts);
  g_action_map_add_action (G_ACTION_MAP (group), G_ACTION (toast));
  gtk_widget_insert_action_group (window, "win", G_ACTION_GROUP (group));
  gtk_window_set_child (GTK_WINDOW (window), child);
  gtk_window_set_default_size (GTK_WINDOW (window), 640, 420);
  gtk_window_present (GTK_WINDOW (window));
  return window;
}

static gboolean
has_n_items (gpointer data)
{
  GListModel *model = ((gpointer *) data)[0];
  guint n = GPOINTER_TO_UINT (((gpointer *) data)[1]);

  return g_list_model_get_n_items (model) == n;
}

static void
wait_n_items (GListModel *model,
              guint       n)
{
  gpointer data[2] = { model, GUINT_TO_POINTER (n) };

  if (!ssq_test_wait_until (has_n_items, data, WAIT_MS))
    g_error ("%u items, not %u", g_list_model_get_n_items (model), n);
}

static gboolean
array_not_empty (gpointer data)
{
  return ((GPtrArray *) data)->len > 0;
}

static gboolean
file_gone (gpointer data)
{
  return !g_file_query_exists (data, NULL);
}

static gboolean
path_exists (gpointer data)
{
  return g_file_test (data, G_FILE_TEST_EXISTS);
}

static char *
item_path (GListModel *model,
           guint       position)
{
  g_autoptr(GFile) file = g_list_model_get_item (model, position);

  return g_file_get_path (file);
}

static char *
write_png (const char *dir,
           const char *name,
           int         width,
           int         height)
{
  g_autoptr(GdkPixbuf) pixbuf = ssq_test_image_marked (width, height, FALSE);
  char *path = g_build_filename (dir, name, NULL);

  ssq_test_image_save (pixbuf, path, "png");
  return path;
}

/* The notification texts, and names as they may be shown. */
static void
test_notification_text (void)
{
  const SsqGtkMediaItem photo = { "IMG_2041.jpg", "image/jpeg" };
  const SsqGtkMediaItem report = { "report.pdf", "application/pdf" };
  const SsqGtkMediaItem clip = { "clip.mp4", "video/mp4" };
  const SsqGtkMediaItem photos[] = { photo, { "b.png", "image/png" }, { "c.webp", "image/webp" } };
  const SsqGtkMediaItem mixed[] = { photo, report, { "notes.zip", "application/zip" } };
  const SsqGtkMediaItem hostile[] = {
    { "evil\xe2\x80\xae" "fdp.exe", "application/x-msdownload" },
    { "two\nlines\t.txt", "text/plain" },
    { "", "application/octet-stream" },
    { "caf\xe9.txt", "text/plain" },
  };
  const char *const cleaned[] = { "bob sent evilfdp.exe", "bob sent two lines .txt", "bob sent file",
                                  "bob sent caf\xef\xbf\xbd.txt" };
  g_autofree char *one_photo = ssq_gtk_media_text_notification ("bob", &photo, 1);
  g_autofree char *one_file = ssq_gtk_media_text_notification ("bob", &report, 1);
  g_autofree char *one_video = ssq_gtk_media_text_notification ("bob", &clip, 1);
  g_autofree char *three_photos = ssq_gtk_media_text_notification ("bob", photos, 3);
  g_autofree char *three_files = ssq_gtk_media_text_notification ("bob", mixed, 3);
  g_autofree char *none = ssq_gtk_media_text_notification ("bob", NULL, 0);
  g_autofree char *details = ssq_gtk_media_text_details (1234567, "application/pdf");
  g_autofree char *bare = ssq_gtk_media_text_details (999, NULL);
  g_autofree char *unnamed = ssq_gtk_media_text_details (999, "application/octet-stream");

  g_assert_cmpstr (one_photo, ==, "bob sent a photo");
  g_assert_cmpstr (one_file, ==, "bob sent report.pdf");
  g_assert_cmpstr (one_video, ==, "bob sent a video");
  g_assert_cmpstr (three_photos, ==, "bob sent 3 photos");
  g_assert_cmpstr (three_files, ==, "bob sent 3 files");
  g_assert_null (none);
  for (guint i = 0; i < G_N_ELEMENTS (hostile); i++)
    {
      g_autofree char *text = ssq_gtk_media_text_notification ("bob", &hostile[i], 1);

      g_assert_cmpstr (text, ==, cleaned[i]);
    }
  /* g_format_size() puts a no-break space before the unit. */
  g_test_message ("details: %s", details);
  g_assert_true (g_str_has_prefix (details, "1.2\xc2\xa0MB · "));
  g_assert_nonnull (strstr (details, "PDF"));
  g_assert_cmpstr (bare, ==, "999 bytes");
  /* Not "999 bytes · unknown". */
  g_assert_cmpstr (unnamed, ==, "999 bytes");
}

/* Drag and drop. */

static GtkDropTarget *
drop_target_of (GtkWidget *widget)
{
  g_autoptr(GListModel) controllers = gtk_widget_observe_controllers (widget);

  for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
    {
      g_autoptr(GtkEventController) controller = g_list_model_get_item (controllers, i);

      if (GTK_IS_DROP_TARGET (controller))
        return GTK_DROP_TARGET (controller);
    }
  return NULL;
}

/* What GTK does with a drop the target accepted: "drop" with the files. */
static gboolean
drop_files (GtkDropTarget *target,
            GFile        **files,
            gsize          n_files)
{
  g_auto(GValue) value = G_VALUE_INIT;
  gboolean accepted = FALSE;

  g_value_init (&value, GDK_TYPE_FILE_LIST);
  g_value_take_boxed (&value, gdk_file_list_new_from_array (files, n_files));
  g_signal_emit_by_name (target, "drop", &value, 20.0, 20.0, &accepted);
  return accepted;
}

/* Files dropped on the conversation (its composer's text included: the
 * target listens before the text view's) join the attachments in their
 * order; a folder or a missing file is left out and said in one toast.
 * With no conversation open, the target is off and refuses. */
static void
test_drop (void)
{
  g_autofree char *dir = g_dir_make_tmp ("ssq-gtk-drop-XXXXXX", NULL);
  g_autofree char *folder_path = g_build_filename (dir, "Holiday", NULL);
  g_autofree char *missing_path = g_build_filename (dir, "missing.txt", NULL);
  g_autoptr(GFile) photo = ssq_gtk_test_make_file (dir, "photo.jpg");
  g_autoptr(GFile) report = ssq_gtk_test_make_file (dir, "report.pdf");
  g_autoptr(GFile) folder = g_file_new_for_path (folder_path);
  g_autoptr(GFile) missing = g_file_new_for_path (missing_path);
  g_autoptr(GPtrArray) toasts = g_ptr_array_new_with_free_func (g_free);
  GtkWidget *view = g_object_new (SSQ_TYPE_GTK_CONVERSATION_VIEW, NULL);
  GtkWidget *window = window_with (view, toasts);
  GListModel *attachments = ssq_gtk_composer_get_attachments (
    ssq_gtk_conversation_view_get_composer (SSQ_GTK_CONVERSATION_VIEW (view)));
  GtkDropTarget *target = drop_target_of (view);
  GFile *batch[] = { photo, folder, report, missing, photo };
  g_autoptr(GFile) first = NULL, second = NULL;

  g_assert_cmpint (g_mkdir (folder_path, 0700), ==, 0);
  g_assert_nonnull (target);
  g_assert_true (gdk_content_formats_contain_gtype (gtk_drop_target_get_formats (target), GDK_TYPE_FILE_LIST));

  /* No conversation: nowhere to attach. */
  g_assert_cmpint (gtk_event_controller_get_propagation_phase (GTK_EVENT_CONTROLLER (target)), ==, GTK_PHASE_NONE);
  g_assert_false (drop_files (target, &photo, 1));
  ssq_test_wait_ms (100);
  g_assert_cmpuint (g_list_model_get_n_items (attachments), ==, 0);

  ssq_gtk_conversation_view_set_conversation (SSQ_GTK_CONVERSATION_VIEW (view), "c-1");
  g_assert_cmpint (gtk_event_controller_get_propagation_phase (GTK_EVENT_CONTROLLER (target)), ==,
                   GTK_PHASE_CAPTURE);
  g_assert_true (drop_files (target, batch, G_N_ELEMENTS (batch)));
  g_assert_true (ssq_test_wait_until (array_not_empty, toasts, WAIT_MS));
  g_assert_cmpuint (g_list_model_get_n_items (attachments), ==, 2);
  first = g_list_model_get_item (attachments, 0);
  second = g_list_model_get_item (attachments, 1);
  g_assert_true (g_file_equal (first, photo));
  g_assert_true (g_file_equal (second, report));
  g_test_message ("toast: %s", (char *) toasts->pdata[0]);
  g_assert_true (g_str_has_prefix (toasts->pdata[0], "2 items were not attached: "));
  g_assert_nonnull (strstr (toasts->pdata[0], "Holiday is a folder: only files can be attached"));
  g_assert_nonnull (strstr (toasts->pdata[0], "missing.txt is not there any more"));
  ssq_gtk_test_screenshot (window, "media-drop.png");

  /* A folder alone: its own message. */
  g_ptr_array_set_size (toasts, 0);
  g_assert_true (drop_files (target, &folder, 1));
  g_assert_true (ssq_test_wait_until (array_not_empty, toasts, WAIT_MS));
  g_assert_cmpstr (toasts->pdata[0], ==, "Holiday is a folder: only files can be attached");
  g_assert_cmpuint (g_list_model_get_n_items (attachments), ==, 2);

  /* Closing the conversation turns the target off again. */
  ssq_gtk_conversation_view_set_conversation (SSQ_GTK_CONVERSATION_VIEW (view), NULL);
  g_assert_cmpint (gtk_event_controller_get_propagation_phase (GTK_EVENT_CONTROLLER (target)), ==, GTK_PHASE_NONE);
  g_assert_false (drop_files (target, &report, 1));

  gtk_window_destroy (GTK_WINDOW (window));
  ssq_test_remove_tree (dir);
}

/* Paste. */

static GdkTexture *
marked_texture (int width,
                int height)
{
  g_autoptr(GdkPixbuf) pixbuf = ssq_test_image_marked (width, height, FALSE);

  return gdk_texture_new_for_pixbuf (pixbuf);
}

typedef struct {
  GtkTextView *view;
  const char  *text;
} HasText;

static gboolean
has_text (gpointer data)
{
  HasText *h = data;
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (h->view);
  g_autofree char *text = NULL;
  GtkTextIter start, end;

  gtk_text_buffer_get_bounds (buffer, &start, &end);
  text = gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
  return g_strcmp0 (text, h->text) == 0;
}

/* The pasted file: where and how it was named, private, the picture. */
static void
assert_pasted (const char *path)
{
  g_autofree char *dir = ssq_gtk_paste_get_dir ();
  g_autofree char *parent = g_path_get_dirname (path);
  g_autofree char *name = g_path_get_basename (path);
  g_autoptr(GdkPixbuf) decoded = NULL;
  g_autoptr(GError) error = NULL;
  GStatBuf st;

  g_test_message ("pasted as %s", path);
  g_assert_cmpstr (parent, ==, dir);
  g_assert_true (g_str_has_prefix (dir, root));
  g_assert_true (g_regex_match_simple ("^Pasted image [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}-[0-9]{2}-[0-9]{2}"
                                       "( \\([0-9]+\\))?\\.png$", name, 0, 0));
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  decoded = gdk_pixbuf_new_from_file (path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (gdk_pixbuf_get_width (decoded), ==, 64);
  g_assert_cmpint (gdk_pixbuf_get_height (decoded), ==, 48);
  g_assert_true (ssq_test_image_colour_near (ssq_test_image_pixel (decoded, 1, 1), SSQ_TEST_RED));
  g_assert_true (ssq_test_image_colour_near (ssq_test_image_pixel (decoded, 40, 40), SSQ_TEST_GREY));
}

/* Ctrl+V (GtkTextView's "paste-clipboard") of a picture attaches it as a
 * PNG file in the cache; text, or text with a picture, is pasted as text.
 * A pasted file taken out of the strip, or left in a draft a new session
 * discards, is deleted. */
static void
test_paste (void)
{
  g_autoptr(GPtrArray) toasts = g_ptr_array_new_with_free_func (g_free);
  GtkWidget *composer = g_object_new (SSQ_TYPE_GTK_COMPOSER, NULL);
  GtkWidget *window = window_with (composer, toasts);
  GtkTextView *text_view = ssq_gtk_composer_get_text_view (SSQ_GTK_COMPOSER (composer));
  GdkClipboard *clipboard = gtk_widget_get_clipboard (GTK_WIDGET (text_view));
  GListModel *attachments = ssq_gtk_composer_get_attachments (SSQ_GTK_COMPOSER (composer));
  g_autoptr(GdkTexture) texture = marked_texture (64, 48);
  g_autofree char *first = NULL, *second = NULL, *first_name = NULL, *tooltip = NULL;
  g_autoptr(GFile) first_file = NULL;
  g_autoptr(GFile) second_file = NULL;
  HasText text = { text_view, NULL };

  gdk_clipboard_set_texture (clipboard, texture);
  g_assert_true (ssq_gtk_paste_has_image (clipboard));
  g_signal_emit_by_name (text_view, "paste-clipboard");
  wait_n_items (attachments, 1);
  first = item_path (attachments, 0);
  assert_pasted (first);
  text.text = "";
  g_assert_true (has_text (&text));   /* nothing pasted as text */

  /* The same picture again: a file of its own. */
  g_signal_emit_by_name (text_view, "paste-clipboard");
  wait_n_items (attachments, 2);
  second = item_path (attachments, 1);
  assert_pasted (second);
  g_assert_cmpstr (first, !=, second);
  g_assert_cmpuint (toasts->len, ==, 0);
  ssq_gtk_test_screenshot (window, "media-paste.png");

  /* Text is pasted as text. */
  gdk_clipboard_set_text (clipboard, "just words");
  g_assert_false (ssq_gtk_paste_has_image (clipboard));
  g_signal_emit_by_name (text_view, "paste-clipboard");
  text.text = "just words";
  g_assert_true (ssq_test_wait_until (has_text, &text, WAIT_MS));

  /* Text and a picture of it (an office program's copy): the text. */
  {
    g_auto(GValue) words = G_VALUE_INIT;
    GdkContentProvider *providers[2];
    g_autoptr(GdkContentProvider) both = NULL;

    g_value_init (&words, G_TYPE_STRING);
    g_value_set_string (&words, " and more");
    providers[0] = gdk_content_provider_new_typed (GDK_TYPE_TEXTURE, texture);
    providers[1] = gdk_content_provider_new_for_value (&words);
    both = gdk_content_provider_new_union (providers, 2);
    g_assert_true (gdk_clipboard_set_content (clipboard, both));
    g_assert_false (ssq_gtk_paste_has_image (clipboard));
    g_signal_emit_by_name (text_view, "paste-clipboard");
    text.text = "just words and more";
    g_assert_true (ssq_test_wait_until (has_text, &text, WAIT_MS));
    ssq_test_wait_ms (200);
    g_assert_cmpuint (g_list_model_get_n_items (attachments), ==, 2);
  }

  /* Taken out of the strip: deleted. */
  first_file = g_file_new_for_path (first);
  second_file = g_file_new_for_path (second);
  first_name = g_path_get_basename (first);
  tooltip = g_strdup_printf ("Remove %s", first_name);
  g_signal_emit_by_name (ssq_gtk_test_find_by_tooltip (composer, tooltip), "clicked");
  g_assert_cmpuint (g_list_model_get_n_items (attachments), ==, 1);
  g_assert_true (ssq_test_wait_until (file_gone, first_file, WAIT_MS));
  g_assert_true (g_file_query_exists (second_file, NULL));

  /* A draft given up for another session: its pasted file too. */
  {
    g_autofree char *data_dir = g_dir_make_tmp ("ssq-gtk-paste-client-XXXXXX", NULL);
    g_autoptr(SsqClient) client = ssq_client_new ("http://127.0.0.1:9", data_dir);

    ssq_gtk_composer_set_conversation (SSQ_GTK_COMPOSER (composer), client, NULL, NULL);
    g_assert_cmpuint (g_list_model_get_n_items (attachments), ==, 0);
    g_assert_true (ssq_test_wait_until (file_gone, second_file, WAIT_MS));
    ssq_gtk_composer_set_conversation (SSQ_GTK_COMPOSER (composer), NULL, NULL, NULL);
    g_clear_object (&client);
    ssq_test_remove_tree (data_dir);
  }

  gtk_window_destroy (GTK_WINDOW (window));
}

/* The application: at start it prunes pictures pasted more than a day
 * ago; its toasts show text as written (libadwaita 1.2 reads a toast's
 * title as markup). */
static GtkWidget *
find_label_with (GtkWidget  *widget,
                 const char *text)
{
  if (GTK_IS_LABEL (widget) && g_strcmp0 (gtk_label_get_text (GTK_LABEL (widget)), text) == 0)
    return widget;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child; child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_label_with (child, text);

      if (found != NULL)
        return found;
    }
  return NULL;
}

static void
test_application (void)
{
  g_autofree char *dir = ssq_gtk_paste_get_dir ();
  g_autofree char *old_path = g_build_filename (dir, "Pasted image old.png", NULL);
  g_autofree char *new_path = g_build_filename (dir, "Pasted image new.png", NULL);
  g_autoptr(GFile) old_file = g_file_new_for_path (old_path);
  g_autoptr(SsqGtkApplication) app = ssq_gtk_application_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) labels = g_string_new (NULL);
  GtkWidget *window;
  const char *hostile = "Cannot attach R&D <draft>.pdf";

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  ssq_test_write_file (old_path, "old", 3);
  ssq_test_write_file (new_path, "new", 3);
  g_assert_true (g_file_set_attribute_uint64 (old_file, G_FILE_ATTRIBUTE_TIME_MODIFIED,
                                              (guint64) (g_get_real_time () / G_USEC_PER_SEC - 2 * 86400),
                                              G_FILE_QUERY_INFO_NONE, NULL, &error));
  g_assert_no_error (error);

  g_assert_true (g_application_register (G_APPLICATION (app), NULL, &error));
  g_assert_no_error (error);
  g_assert_true (ssq_test_wait_until (file_gone, old_file, WAIT_MS));
  g_assert_true (g_file_test (new_path, G_FILE_TEST_EXISTS));

  window = GTK_WIDGET (ssq_gtk_window_new (ADW_APPLICATION (app)));
  gtk_window_present (GTK_WINDOW (window));
  ssq_gtk_window_toast (SSQ_GTK_WINDOW (window), hostile);
  ssq_test_wait_ms (300);
  if (find_label_with (window, hostile) == NULL)
    {
      ssq_gtk_test_collect_labels (window, labels);
      g_error ("no label shows \"%s\"; the labels:\n%s", hostile, labels->str);
    }
  gtk_window_destroy (GTK_WINDOW (window));
  g_unlink (new_path);
}

/* The viewer. */

static gboolean
viewer_loaded (gpointer data)
{
  return !ssq_gtk_viewer_is_loading (data);
}

static SsqGtkViewer *
open_viewer (const char *path,
             const char *name)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  SsqGtkViewer *viewer = SSQ_GTK_VIEWER (ssq_gtk_viewer_new (NULL, file, name));

  gtk_window_present (GTK_WINDOW (viewer));
  g_assert_true (ssq_test_wait_until (viewer_loaded, viewer, WAIT_MS));
  return viewer;
}

static void
assert_picture (SsqGtkViewer *viewer,
                int           width,
                int           height)
{
  GtkWidget *picture = ssq_gtk_test_find_by_type (GTK_WIDGET (viewer), GTK_TYPE_PICTURE, NULL);
  GdkPaintable *paintable = gtk_picture_get_paintable (GTK_PICTURE (picture));

  g_assert_nonnull (paintable);
  g_assert_cmpint (gdk_paintable_get_intrinsic_width (paintable), ==, width);
  g_assert_cmpint (gdk_paintable_get_intrinsic_height (paintable), ==, height);
  g_assert_true (gtk_widget_get_mapped (picture));
}

/* The page that says why, and that message. */
static const char *
viewer_error (SsqGtkViewer *viewer)
{
  GtkWidget *page = ssq_gtk_test_find_by_type (GTK_WIDGET (viewer), ADW_TYPE_STATUS_PAGE, NULL);

  g_assert_true (gtk_widget_get_mapped (page));
  return adw_status_page_get_description (ADW_STATUS_PAGE (page));
}

static glong
max_rss_kb (void)
{
  struct rusage usage;

  g_assert_cmpint (getrusage (RUSAGE_SELF, &usage), ==, 0);
  return usage.ru_maxrss;
}

static void
close_viewer (SsqGtkViewer *viewer)
{
  SsqGtkViewer *alive = viewer;

  g_object_add_weak_pointer (G_OBJECT (viewer), (gpointer *) &alive);
  gtk_window_destroy (GTK_WINDOW (viewer));
  ssq_test_wait_ms (50);
  g_assert_null (alive);
}

/* A picture whole, scaled to the window; Save copies it where the chooser
 * says; Open With launches the program picked for it; Escape closes. */
static void
test_viewer (void)
{
  g_autofree char *dir = g_dir_make_tmp ("ssq-gtk-viewer-XXXXXX", NULL);
  g_autofree char *path = write_png (dir, "IMG_0001.png", 900, 600);
  g_autofree char *pictures = g_build_filename (root, "Pictures", NULL);
  g_autofree char *suggested = g_build_filename (pictures, "Sunset at the lake.png", NULL);
  g_autofree char *saved = g_build_filename (pictures, "saved copy.png", NULL);
  g_autofree char *opened = g_build_filename (root, "opened", NULL);
  g_autoptr(GFile) suggested_file = g_file_new_for_path (suggested);
  g_autoptr(GFile) saved_file = g_file_new_for_path (saved);
  SsqGtkViewer *viewer = open_viewer (path, "Sunset at the lake.png");
  SsqGtkViewer *alive = viewer;
  GtkWindow *dialog;

  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (viewer)), ==, "Sunset at the lake.png");
  assert_picture (viewer, 900, 600);
  g_assert_cmpuint (ssq_gtk_test_count_unnamed (GTK_WIDGET (viewer)), ==, 0);
  ssq_gtk_test_screenshot (GTK_WIDGET (viewer), "media-viewer.png");

  /* Save: GTK's own chooser here (no portal on the test's bus), in
   * Pictures, suggesting the picture's name. */
  g_signal_emit_by_name (ssq_gtk_test_find_by_tooltip (GTK_WIDGET (viewer), "Save As…"), "clicked");
  dialog = ssq_gtk_test_wait_toplevel (GTK_TYPE_FILE_CHOOSER_DIALOG);
  g_assert_cmpstr (gtk_window_get_title (dialog), ==, "Save Picture");
  g_assert_cmpint (gtk_file_chooser_get_action (GTK_FILE_CHOOSER (dialog)), ==, GTK_FILE_CHOOSER_ACTION_SAVE);
  ssq_gtk_test_wait_chooser_file (dialog, suggested_file);
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (dialog), "saved copy.png");
  ssq_gtk_test_wait_chooser_file (dialog, saved_file);
  gtk_dialog_response (GTK_DIALOG (dialog), GTK_RESPONSE_ACCEPT);
  g_assert_true (ssq_test_wait_until (path_exists, saved, WAIT_MS));
  ssq_test_wait_ms (200);   /* the copy's last bytes */
  ssq_gtk_test_assert_same_bytes (path, saved);

  /* Open With: the app chooser offers the default program for PNG (the
   * fake one), which gets the file. */
  g_signal_emit_by_name (ssq_gtk_test_find_by_tooltip (GTK_WIDGET (viewer), "Open With…"), "clicked");
  dialog = ssq_gtk_test_wait_toplevel (GTK_TYPE_APP_CHOOSER_DIALOG);
  {
    g_autoptr(GAppInfo) chosen = NULL;

    for (int i = 0; i < 100 && chosen == NULL; i++)
      {
        chosen = gtk_app_chooser_get_app_info (GTK_APP_CHOOSER (dialog));
        if (chosen == NULL)
          ssq_test_wait_ms (50);
      }
    g_assert_nonnull (chosen);
    g_assert_cmpstr (g_app_info_get_id (chosen), ==, "ssq-test-open.desktop");
  }
  ssq_gtk_test_screenshot (GTK_WIDGET (dialog), "media-open-with.png");
  gtk_dialog_response (GTK_DIALOG (dialog), GTK_RESPONSE_OK);
  g_assert_true (ssq_test_wait_until (path_exists, opened, WAIT_MS));
  ssq_test_wait_ms (200);
  ssq_gtk_test_assert_same_bytes (path, opened);

  /* Escape closes it. */
  g_object_add_weak_pointer (G_OBJECT (viewer), (gpointer *) &alive);
  g_assert_true (ssq_gtk_test_shortcut (GTK_WIDGET (viewer), GDK_KEY_Escape, 0));
  ssq_test_wait_ms (100);
  g_assert_null (alive);

  ssq_test_remove_tree (dir);
}

/* What the viewer shows of files that are not plain pictures: a phone
 * photo upright, and, without a crash or a big allocation, why a corrupt
 * file, a header declaring 400 megapixels or a PDF is not shown. */
static void
test_viewer_hostile (void)
{
  g_autofree char *dir = g_dir_make_tmp ("ssq-gtk-viewer-XXXXXX", NULL);
  g_autofree char *photo = g_build_filename (dir, "phone.jpg", NULL);
  g_autofree char *corrupt = g_build_filename (dir, "corrupt.png", NULL);
  g_autofree char *huge = g_build_filename (dir, "huge.png", NULL);
  g_autofree char *pdf = g_build_filename (dir, "report.pdf", NULL);
  g_autofree char *good = write_png (dir, "good.png", 40, 30);
  static const char pdf_bytes[] = "%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< >>\nendobj\n";
  g_autofree char *bytes = NULL;
  SsqGtkViewer *viewer;
  gsize len = 0;
  glong rss_before;

  /* A small picture is shown at its size, not blown up. */
  viewer = open_viewer (good, NULL);
  assert_picture (viewer, 40, 30);
  ssq_test_wait_ms (200);
  g_assert_cmpint (gtk_widget_get_width (ssq_gtk_test_find_by_type (GTK_WIDGET (viewer), GTK_TYPE_PICTURE, NULL)),
                   ==, 40);
  close_viewer (viewer);

  /* Orientation 6: stored 1200x800, shown 800x1200. */
  ssq_test_image_phone_photo (photo);
  viewer = open_viewer (photo, NULL);
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (viewer)), ==, "phone.jpg");
  assert_picture (viewer, 800, 1200);
  close_viewer (viewer);

  g_assert_true (g_file_get_contents (good, &bytes, &len, NULL));
  memset (bytes + 40, 0x5a, len - 40);
  ssq_test_write_file (corrupt, bytes, len);
  viewer = open_viewer (corrupt, NULL);
  g_test_message ("corrupt: %s", viewer_error (viewer));
  g_assert_true (g_str_has_prefix (viewer_error (viewer), "The picture could not be read: "));
  g_assert_true (gtk_widget_get_sensitive (ssq_gtk_test_find_by_tooltip (GTK_WIDGET (viewer), "Save As…")));
  ssq_gtk_test_screenshot (GTK_WIDGET (viewer), "media-viewer-error.png");
  close_viewer (viewer);

  rss_before = max_rss_kb ();
  ssq_test_image_declared_png (huge, 20000, 20000, 1);
  viewer = open_viewer (huge, NULL);
  g_assert_cmpstr (viewer_error (viewer), ==, "The picture is too large to show (20000 × 20000 pixels)");
  g_test_message ("peak RSS grew by %ld kB (a decoded image would need 1,600,000)", max_rss_kb () - rss_before);
  g_assert_cmpint (max_rss_kb () - rss_before, <, 200 * 1024);
  close_viewer (viewer);

  ssq_test_write_file (pdf, pdf_bytes, sizeof pdf_bytes - 1);
  viewer = open_viewer (pdf, NULL);
  g_test_message ("pdf: %s", viewer_error (viewer));
  g_assert_true (g_str_has_prefix (viewer_error (viewer), "This is not a picture that can be shown ("));
  close_viewer (viewer);

  ssq_test_remove_tree (dir);
}

/* Media rows. */

static void
count_cb (GtkWidget *row,
          guint     *count)
{
  (*count)++;
}

static gboolean
row_loaded (gpointer data)
{
  return !ssq_gtk_media_row_is_loading (data);
}

static GtkWidget *
picture_row (const char *name,
             int         width,
             int         height,
             const char *thumbnail)
{
  GtkWidget *row = ssq_gtk_media_row_new ();

  ssq_gtk_media_row_set_media (SSQ_GTK_MEDIA_ROW (row), name, "image/jpeg", 240000, width, height);
  ssq_gtk_media_row_set_thumbnail (SSQ_GTK_MEDIA_ROW (row), thumbnail);
  return row;
}

/* The row's picture part shows a @type (the placeholder box or the
 * picture) of @width x @height. */
static void
assert_shown (GtkWidget *row,
              GType      type,
              int        width,
              int        height)
{
  GtkWidget *button = ssq_gtk_test_find_by_type (row, GTK_TYPE_BUTTON, NULL);
  GtkWidget *shown = NULL;
  int w = 0, h = 0;

  for (GtkWidget *c = gtk_widget_get_first_child (gtk_button_get_child (GTK_BUTTON (button))); c;
       c = gtk_widget_get_next_sibling (c))
    if (gtk_widget_get_visible (c))
      shown = c;
  g_assert_nonnull (shown);
  g_assert_true (G_TYPE_CHECK_INSTANCE_TYPE (shown, type));
  gtk_widget_get_size_request (shown, &w, &h);
  g_assert_cmpint (w, ==, width);
  g_assert_cmpint (h, ==, height);
}

/* A picture's row: a placeholder of its shape until the thumbnail is
 * there, the thumbnail within 320x240 with its aspect, a broken one
 * leaves the placeholder; a click (or activation) emits "activate". An
 * image the server could not read (no size) is a file. */
static void
test_picture_rows (void)
{
  g_autofree char *dir = g_dir_make_tmp ("ssq-gtk-rows-XXXXXX", NULL);
  g_autofree char *thumb = write_png (dir, "thumb.png", 320, 180);
  g_autofree char *big = write_png (dir, "big.png", 1280, 720);
  g_autofree char *broken = g_build_filename (dir, "broken.png", NULL);
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 16);
  GtkWidget *left = gtk_box_new (GTK_ORIENTATION_VERTICAL, 8);
  GtkWidget *right = gtk_box_new (GTK_ORIENTATION_VERTICAL, 8);
  g_autoptr(GPtrArray) toasts = g_ptr_array_new_with_free_func (g_free);
  GtkWidget *window = window_with (box, toasts);
  GtkWidget *waiting = picture_row ("beach.jpg", 1920, 1080, NULL);
  GtkWidget *portrait = picture_row ("tower.jpg", 1080, 1920, NULL);
  GtkWidget *shown = picture_row ("sunset.jpg", 4000, 2250, thumb);
  GtkWidget *shrunk = picture_row ("city.jpg", 1280, 720, big);
  GtkWidget *damaged = picture_row ("damaged.jpg", 800, 600, broken);
  GtkWidget *svg = ssq_gtk_media_row_new ();
  guint activated = 0;

  ssq_test_write_file (broken, "\x89PNG\r\n\x1a\nnot really", 18);
  ssq_gtk_media_row_set_media (SSQ_GTK_MEDIA_ROW (svg), "logo.svg", "image/svg+xml", 5000, 0, 0);
  gtk_window_set_default_size (GTK_WINDOW (window), 700, 720);
  for (GtkWidget **r = (GtkWidget *[]) { waiting, portrait, svg, NULL }; *r; r++)
    gtk_box_append (GTK_BOX (left), *r);
  for (GtkWidget **r = (GtkWidget *[]) { shown, shrunk, damaged, NULL }; *r; r++)
    gtk_box_append (GTK_BOX (right), *r);
  gtk_box_append (GTK_BOX (box), left);
  gtk_box_append (GTK_BOX (box), right);

  g_assert_true (ssq_gtk_media_row_is_picture (SSQ_GTK_MEDIA_ROW (waiting)));
  assert_shown (waiting, GTK_TYPE_BOX, 320, 180);
  assert_shown (portrait, GTK_TYPE_BOX, 135, 240);
  for (GtkWidget **r = (GtkWidget *[]) { shown, shrunk, damaged, NULL }; *r; r++)
    g_assert_true (ssq_test_wait_until (row_loaded, *r, WAIT_MS));
  assert_shown (shown, GTK_TYPE_PICTURE, 320, 180);
  assert_shown (shrunk, GTK_TYPE_PICTURE, 320, 180);
  g_assert_cmpint (gdk_paintable_get_intrinsic_width (ssq_gtk_media_row_get_thumbnail (SSQ_GTK_MEDIA_ROW (shrunk))),
                   ==, 320);
  assert_shown (damaged, GTK_TYPE_BOX, 320, 240);
  g_assert_null (ssq_gtk_media_row_get_thumbnail (SSQ_GTK_MEDIA_ROW (damaged)));
  g_assert_false (ssq_gtk_media_row_is_picture (SSQ_GTK_MEDIA_ROW (svg)));
  g_assert_cmpuint (ssq_gtk_test_count_unnamed (box), ==, 0);
  gtk_test_accessible_assert_property (ssq_gtk_test_find_by_type (shown, GTK_TYPE_BUTTON, NULL),
                                       GTK_ACCESSIBLE_PROPERTY_LABEL, "Open picture sunset.jpg");
  ssq_gtk_test_screenshot (window, "media-rows-pictures.png");

  g_signal_connect (shown, "activate", G_CALLBACK (count_cb), &activated);
  g_signal_emit_by_name (ssq_gtk_test_find_by_type (shown, GTK_TYPE_BUTTON, NULL), "clicked");
  g_assert_cmpuint (activated, ==, 1);
  g_assert_true (gtk_widget_activate (shown));
  g_assert_cmpuint (activated, ==, 2);

  /* Reused for another attachment while its thumbnail loads: the old
   * thumbnail never lands. */
  ssq_gtk_media_row_set_thumbnail (SSQ_GTK_MEDIA_ROW (shrunk), big);
  ssq_gtk_media_row_set_media (SSQ_GTK_MEDIA_ROW (shrunk), "notes.txt", "text/plain", 12, 0, 0);
  ssq_test_wait_ms (300);
  g_assert_false (ssq_gtk_media_row_is_picture (SSQ_GTK_MEDIA_ROW (shrunk)));
  g_assert_null (ssq_gtk_media_row_get_thumbnail (SSQ_GTK_MEDIA_ROW (shrunk)));

  gtk_window_destroy (GTK_WINDOW (window));
  ssq_test_remove_tree (dir);
}

/* A file's row: icon, name, size and kind, Save and Open, a progress bar
 * shown with a fraction. */
static void
test_file_rows (void)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 8);
  g_autoptr(GPtrArray) toasts = g_ptr_array_new_with_free_func (g_free);
  GtkWidget *window = window_with (box, toasts);
  GtkWidget *report = ssq_gtk_media_row_new ();
  GtkWidget *archive = ssq_gtk_media_row_new ();
  GtkWidget *spoofed = ssq_gtk_media_row_new ();
  GtkWidget *progress;
  g_autoptr(GString) labels = g_string_new (NULL);
  guint saved = 0, opened = 0;

  ssq_gtk_media_row_set_media (SSQ_GTK_MEDIA_ROW (report), "quarterly report.pdf", "application/pdf", 1234567, 0,
                               0);
  ssq_gtk_media_row_set_media (SSQ_GTK_MEDIA_ROW (archive), "photos from the trip.zip", "application/zip",
                               52428800, 0, 0);
  ssq_gtk_media_row_set_media (SSQ_GTK_MEDIA_ROW (spoofed), "invoice\xe2\x80\xae" "fdp.exe", NULL, 99, 0, 0);
  gtk_box_append (GTK_BOX (box), report);
  gtk_box_append (GTK_BOX (box), archive);
  gtk_box_append (GTK_BOX (box), spoofed);

  ssq_gtk_test_collect_labels (report, labels);
  g_test_message ("report row: %s", labels->str);
  g_assert_true (g_str_has_prefix (labels->str, "quarterly report.pdf\n1.2\xc2\xa0MB · "));
  g_string_truncate (labels, 0);
  ssq_gtk_test_collect_labels (spoofed, labels);
  g_assert_cmpstr (labels->str, ==, "invoicefdp.exe\n99 bytes\n");
  g_assert_cmpuint (ssq_gtk_test_count_unnamed (box), ==, 0);

  g_signal_connect (report, "save", G_CALLBACK (count_cb), &saved);
  g_signal_connect (report, "open", G_CALLBACK (count_cb), &opened);
  g_signal_emit_by_name (ssq_gtk_test_find_by_tooltip (report, "Save"), "clicked");
  g_signal_emit_by_name (ssq_gtk_test_find_by_tooltip (report, "Open"), "clicked");
  g_signal_emit_by_name (ssq_gtk_test_find_by_tooltip (report, "Open"), "clicked");
  g_assert_cmpuint (saved, ==, 1);
  g_assert_cmpuint (opened, ==, 2);
  gtk_test_accessible_assert_property (ssq_gtk_test_find_by_tooltip (report, "Save"),
                                       GTK_ACCESSIBLE_PROPERTY_LABEL, "Save quarterly report.pdf");

  progress = ssq_gtk_test_find_by_type (archive, GTK_TYPE_PROGRESS_BAR, NULL);
  g_assert_false (gtk_widget_get_visible (progress));
  ssq_gtk_media_row_set_progress (SSQ_GTK_MEDIA_ROW (archive), 0.4);
  g_assert_true (gtk_widget_get_visible (progress));
  g_assert_cmpfloat (gtk_progress_bar_get_fraction (GTK_PROGRESS_BAR (progress)), ==, 0.4);
  ssq_gtk_test_screenshot (window, "media-rows-files.png");
  ssq_gtk_media_row_set_progress (SSQ_GTK_MEDIA_ROW (archive), 7.0);
  g_assert_cmpfloat (gtk_progress_bar_get_fraction (GTK_PROGRESS_BAR (progress)), ==, 1.0);
  ssq_gtk_media_row_set_progress (SSQ_GTK_MEDIA_ROW (archive), -1);
  g_assert_false (gtk_widget_get_visible (progress));
  /* A new attachment starts without progress. */
  ssq_gtk_media_row_set_progress (SSQ_GTK_MEDIA_ROW (archive), 0.5);
  ssq_gtk_media_row_set_media (SSQ_GTK_MEDIA_ROW (archive), "b.zip", "application/zip", 1, 0, 0);
  g_assert_false (gtk_widget_get_visible (progress));

  gtk_window_destroy (GTK_WINDOW (window));
}

/* A fake program, the default for PNG files: it copies the file it is
 * given to $root/opened. */
static void
install_fake_program (void)
{
  g_autofree char *apps = g_build_filename (root, "data", "applications", NULL);
  g_autofree char *config = g_build_filename (root, "config", NULL);
  g_autofree char *script = g_build_filename (root, "open-program", NULL);
  g_autofree char *desktop = g_build_filename (apps, "ssq-test-open.desktop", NULL);
  g_autofree char *mimeapps = g_build_filename (config, "mimeapps.list", NULL);
  g_autofree char *script_text = g_strdup_printf ("#!/bin/sh\ncp \"$1\" '%s/opened.part' && mv '%s/opened.part' '%s/opened'\n",
                                                  root, root, root);
  g_autofree char *desktop_text = g_strdup_printf ("[Desktop Entry]\nType=Application\nName=SupersoniQ Test Viewer\n"
                                                   "Exec='%s' %%f\nMimeType=image/png;\nNoDisplay=false\n",
                                                   script);
  const char *mimeapps_text = "[Default Applications]\nimage/png=ssq-test-open.desktop\n"
                              "[Added Associations]\nimage/png=ssq-test-open.desktop;\n";

  g_assert_cmpint (g_mkdir_with_parents (apps, 0700), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (config, 0700), ==, 0);
  ssq_test_write_file (script, script_text, strlen (script_text));
  g_assert_cmpint (g_chmod (script, 0700), ==, 0);
  ssq_test_write_file (desktop, desktop_text, strlen (desktop_text));
  ssq_test_write_file (mimeapps, mimeapps_text, strlen (mimeapps_text));
}

int
main (int    argc,
      char **argv)
{
  int status;

  /* Before GLib reads them (it keeps the first answer). */
  root = ssq_gtk_test_make_home ("ssq-gtk-media-XXXXXX");
  install_fake_program ();
  ssq_gtk_test_set_user_dir (root, "XDG_PICTURES_DIR", "Pictures");
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();
  /* The app's style sheet, which the application object would load. */
  {
    g_autoptr(GtkCssProvider) css = gtk_css_provider_new ();

    gtk_css_provider_load_from_resource (css, "/org/supersoniq/Supersoniq/style.css");
    gtk_style_context_add_provider_for_display (gdk_display_get_default (), GTK_STYLE_PROVIDER (css),
                                                GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
  }
  g_test_add_func ("/gtk/media/notification-text", test_notification_text);
  g_test_add_func ("/gtk/media/drop", test_drop);
  g_test_add_func ("/gtk/media/paste", test_paste);
  g_test_add_func ("/gtk/media/application", test_application);
  g_test_add_func ("/gtk/media/viewer", test_viewer);
  g_test_add_func ("/gtk/media/viewer-hostile", test_viewer_hostile);
  g_test_add_func ("/gtk/media/picture-rows", test_picture_rows);
  g_test_add_func ("/gtk/media/file-rows", test_file_rows);
  status = g_test_run ();
  ssq_test_remove_tree (root);
  g_free (root);
  return status;
}
