/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-gtk-media-send.c: the desktop client's attachments end to end,
 * under Xvfb against the real server: a picture attached in the composer
 * and sent, its thumbnail in the message list, the viewer opened from it
 * and the picture saved from there, byte for byte; what the notification
 * of it says. Screenshots go to $SSQ_SCREENSHOT_DIR. */
#include <adwaita.h>
#include <glib/gstdio.h>
#include <string.h>

#include "ssq-gtk-application.h"
#include "ssq-gtk-composer.h"
#include "ssq-gtk-media-row.h"
#include "ssq-gtk-message-media.h"
#include "ssq-gtk-paste.h"
#include "ssq-gtk-rows.h"
#include "ssq-gtk-viewer.h"
#include "ssq-gtk-window.h"
#include "ssq-gtk-test-util.h"
#include "ssq-test-images.h"
#include "ssq-test-server.h"

#define WAIT_MS 10000

static char *root;   /* the test's home: XDG dirs */

/* Every SsqGtkMediaRow under @widget that is shown. */
static void
collect_media_rows (GtkWidget *widget,
                    GPtrArray *out)
{
  if (SSQ_IS_GTK_MEDIA_ROW (widget) && gtk_widget_get_mapped (widget))
    g_ptr_array_add (out, widget);
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child; child = gtk_widget_get_next_sibling (child))
    collect_media_rows (child, out);
}

/* Two picture rows in data[0] with their thumbnails shown; data[1] gets
 * the first. */
static gboolean
thumbnails_shown (gpointer data)
{
  GtkWidget *window = ((gpointer *) data)[0];
  GtkWidget **first = ((gpointer *) data)[1];
  g_autoptr(GPtrArray) rows = g_ptr_array_new ();

  collect_media_rows (window, rows);
  if (rows->len != 2)
    return FALSE;
  for (guint i = 0; i < rows->len; i++)
    if (!ssq_gtk_media_row_is_picture (rows->pdata[i]) || ssq_gtk_media_row_get_thumbnail (rows->pdata[i]) == NULL)
      return FALSE;
  *first = rows->pdata[0];
  return TRUE;
}

static gboolean
list_empty (gpointer data)
{
  return g_list_model_get_n_items (data) == 0;
}

static gboolean
path_gone (gpointer data)
{
  return !g_file_test (data, G_FILE_TEST_EXISTS);
}

static gboolean
path_exists (gpointer data)
{
  return g_file_test (data, G_FILE_TEST_EXISTS);
}

static gboolean
viewer_loaded (gpointer data)
{
  return !ssq_gtk_viewer_is_loading (data);
}

typedef struct {
  SsqClient  *client;
  const char *conversation_id;
} Conversation;

/* The last message of the conversation, once it is on the server with
 * its media (a new reference), or NULL. */
static SsqMessage *
last_with_media (Conversation *c)
{
  g_autoptr(GPtrArray) all = ssq_cache_get_messages (ssq_client_get_cache (c->client), c->conversation_id,
                                                     0, 100, NULL);
  SsqMessage *last = all->len ? all->pdata[all->len - 1] : NULL;

  if (last == NULL || ssq_message_get_seq (last) == 0 || ssq_message_get_n_media (last) == 0)
    return NULL;
  return g_object_ref (last);
}

static gboolean
has_media_message (gpointer data)
{
  g_autoptr(SsqMessage) m = last_with_media (data);

  return m != NULL;
}

/* Alice attaches a picture of hers and a pasted one, sends; the strip
 * empties, her file stays, the pasted copy of ours goes; the list shows
 * the thumbnails; a click opens the viewer, whose Save gives the bytes
 * sent. Bob's notification says what came. */
static void
test_send_picture (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, NULL);
  g_autoptr(SsqClient) bob = ssq_gtk_test_client (server, root, "bob", TRUE);
  g_autoptr(SsqClient) alice = ssq_gtk_test_client (server, root, "alice", TRUE);
  g_autoptr(SsqGtkApplication) app = ssq_gtk_application_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(SsqConversation) dm = NULL;
  g_autoptr(SsqMessage) received = NULL;
  g_autofree char *dir = g_build_filename (root, "files", NULL);
  g_autofree char *photo = g_build_filename (dir, "lake.png", NULL);
  g_autofree char *paste_dir = ssq_gtk_paste_get_dir ();
  g_autofree char *pasted = g_build_filename (paste_dir, "pasted-test.png", NULL);
  g_autofree char *saved = g_build_filename (root, "Pictures", "lake.png", NULL);
  g_autofree char *text = NULL;
  g_autoptr(GFile) photo_file = g_file_new_for_path (photo);
  g_autoptr(GFile) pasted_file = g_file_new_for_path (pasted);
  g_autoptr(GFile) saved_file = g_file_new_for_path (saved);
  SsqGtkWindow *window;
  SsqGtkComposer *composer;
  GtkWidget *row = NULL;
  GtkWindow *viewer, *chooser;
  Conversation on_bob, on_alice;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (paste_dir, 0700), ==, 0);
  {
    g_autoptr(GdkPixbuf) big = ssq_test_image_marked (800, 600, FALSE);
    g_autoptr(GdkPixbuf) small = ssq_test_image_marked (300, 200, FALSE);

    ssq_test_image_save (big, photo, "png");
    ssq_test_image_save (small, pasted, "png");
  }

  dm = ssq_gtk_test_direct (bob, "alice");
  on_bob = (Conversation) { bob, ssq_conversation_get_id (dm) };
  on_alice = (Conversation) { alice, ssq_conversation_get_id (dm) };

  g_assert_true (g_application_register (G_APPLICATION (app), NULL, &error));
  window = ssq_gtk_test_open_window (app, alice, ssq_conversation_get_id (dm));

  /* Attach, write, send: the strip empties at once. */
  composer = SSQ_GTK_COMPOSER (gtk_widget_get_ancestor (ssq_gtk_window_get_composer (window),
                                                        SSQ_TYPE_GTK_COMPOSER));
  ssq_gtk_composer_add_file (composer, photo_file);
  ssq_gtk_composer_add_file (composer, pasted_file);
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (ssq_gtk_composer_get_text_view (composer)),
                            "The lake this morning", -1);
  g_assert_true (ssq_gtk_window_send_composer (window));
  g_assert_true (list_empty (ssq_gtk_composer_get_attachments (composer)));

  /* The pasted picture, ours, goes once the outbox has its copy; the
   * user's stays. */
  g_assert_true (ssq_test_wait_until (path_gone, pasted, WAIT_MS));
  g_assert_true (g_file_test (photo, G_FILE_TEST_EXISTS));

  /* Both arrive; the thumbnails show in the list once made. */
  g_assert_true (ssq_test_wait_until (has_media_message, &on_bob, WAIT_MS));
  g_assert_true (ssq_test_wait_until (has_media_message, &on_alice, WAIT_MS));
  g_assert_true (ssq_test_wait_until (thumbnails_shown, (gpointer[]) { window, &row }, 3 * WAIT_MS));
  g_assert_cmpuint (ssq_gtk_test_count_unnamed (GTK_WIDGET (window)), ==, 0);
  ssq_gtk_test_screenshot (GTK_WIDGET (window), "media-sent.png");

  /* Bob's notification would say so, the text under it. */
  received = last_with_media (&on_bob);
  g_assert_cmpuint (ssq_message_get_n_media (received), ==, 2);
  text = ssq_gtk_application_notification_text (received, "alice");
  g_assert_cmpstr (text, ==, "alice sent 2 photos\nThe lake this morning");

  /* A click on the first picture opens the viewer with it whole. */
  /* (The list may have rebuilt its rows since: find it again.) */
  g_assert_true (ssq_test_wait_until (thumbnails_shown, (gpointer[]) { window, &row }, WAIT_MS));
  g_signal_emit_by_name (row, "activate");
  viewer = ssq_gtk_test_wait_toplevel (SSQ_TYPE_GTK_VIEWER);
  g_assert_true (ssq_test_wait_until (viewer_loaded, viewer, WAIT_MS));
  g_assert_cmpstr (gtk_window_get_title (viewer), ==, "lake.png");
  ssq_gtk_test_screenshot (GTK_WIDGET (viewer), "media-sent-viewer.png");

  /* Its Save writes the very bytes sent. */
  g_signal_emit_by_name (ssq_gtk_test_find_by_tooltip (GTK_WIDGET (viewer), "Save As…"), "clicked");
  chooser = ssq_gtk_test_wait_toplevel (GTK_TYPE_FILE_CHOOSER_DIALOG);
  /* In Pictures, under the name it was sent as. */
  ssq_gtk_test_wait_chooser_file (chooser, saved_file);
  gtk_dialog_response (GTK_DIALOG (chooser), GTK_RESPONSE_ACCEPT);
  g_assert_true (ssq_test_wait_until (path_exists, saved, WAIT_MS));
  ssq_test_wait_ms (200);   /* the copy's last bytes */
  ssq_gtk_test_assert_same_bytes (photo, saved);

  gtk_window_destroy (viewer);
  gtk_window_destroy (GTK_WINDOW (window));
  ssq_test_wait_ms (100);
  ssq_client_disconnect (alice);
  ssq_client_disconnect (bob);
}

/* Files alone (no text) make a message too; its notification names the
 * file; the row is a file line. */
static void
test_notification_names_file (void)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(SsqMessage) message = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  const char *json = "{\"id\":\"x\",\"conversation_id\":\"c\",\"seq\":3,\"sender\":\"u\",\"client_id\":\"k\","
                     "\"body\":\"\",\"created_at\":1,\"media\":[{\"id\":\"m1\",\"name\":\"report.pdf\","
                     "\"mime\":\"application/pdf\",\"size\":1000,\"width\":null,\"height\":null}]}";

  g_assert_true (json_parser_load_from_data (parser, json, -1, &error));
  message = ssq_message_new_from_json (json_node_get_object (json_parser_get_root (parser)), &error);
  g_assert_no_error (error);
  text = ssq_gtk_application_notification_text (message, "bob");
  g_assert_cmpstr (text, ==, "bob sent report.pdf");
}

int
main (int    argc,
      char **argv)
{
  int status;

  root = ssq_gtk_test_make_home ("ssq-gtk-media-send-XXXXXX");
  ssq_gtk_test_set_user_dir (root, "XDG_PICTURES_DIR", "Pictures");
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();
  g_test_add_func ("/gtk/media-send/notification-names-file", test_notification_names_file);
  g_test_add_func ("/gtk/media-send/picture", test_send_picture);
  status = g_test_run ();
  ssq_test_remove_tree (root);
  g_free (root);
  return status;
}
