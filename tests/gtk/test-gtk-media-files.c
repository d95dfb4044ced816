/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-gtk-media-files.c: the desktop client's file attachments under
 * Xvfb against the real server: each attachment of a message waiting in
 * the outbox has its own upload progress and cancel button (a cancelled
 * upload leaves nothing on the server, and its message goes without it,
 * or not at all); a file row's Save writes the very bytes sent, with the
 * download's progress on the row, and its Open hands the file to the
 * default application (a stand-in installed for the test's own home). To
 * catch an upload mid-way, the server is stopped (SIGSTOP) while it runs:
 * the upload cannot end then, whatever the machine's speed. Screenshots
 * go to $SSQ_SCREENSHOT_DIR. */
#include <adwaita.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>

#include "ssq-gtk-application.h"
#include "ssq-gtk-composer.h"
#include "ssq-gtk-media-row.h"
#include "ssq-gtk-window.h"
#include "ssq-gtk-test-util.h"
#include "ssq-test-media.h"
#include "ssq-test-server.h"

#define WAIT_MS 10000
/* Large enough that its upload lasts past a stop of the server. */
#define BIG_SIZE (80 * 1024 * 1024)

static char *root;   /* the test's home: XDG dirs */

/* A file of @size bytes of a pattern, written in pieces. */
static GFile *
make_file (const char *name,
           gsize       size)
{
  g_autofree char *dir = g_build_filename (root, "files", NULL);
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GFileOutputStream) out = NULL;
  g_autoptr(GBytes) piece = ssq_test_random_bytes (1024 * 1024, g_str_hash (name));
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  out = g_file_replace (file, NULL, FALSE, G_FILE_CREATE_NONE, NULL, &error);
  g_assert_no_error (error);
  for (gsize done = 0; done < size;)
    {
      gsize n = MIN (size - done, g_bytes_get_size (piece));

      g_assert_true (g_output_stream_write_all (G_OUTPUT_STREAM (out), g_bytes_get_data (piece, NULL), n, NULL,
                                                NULL, &error));
      done += n;
    }
  g_assert_true (g_output_stream_close (G_OUTPUT_STREAM (out), NULL, &error));
  return g_steal_pointer (&file);
}

/* The widget under @widget whose tooltip is @tooltip, of any kind. */
static GtkWidget *
find_tooltip (GtkWidget  *widget,
              const char *tooltip)
{
  if (g_strcmp0 (gtk_widget_get_tooltip_text (widget), tooltip) == 0)
    return widget;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child; child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_tooltip (child, tooltip);

      if (found != NULL)
        return found;
    }
  return NULL;
}

/* The shown media row of the attachment named @name (its name's label
 * carries the name as tooltip), or NULL. */
static GtkWidget *
find_media_row (GtkWidget  *widget,
                const char *name)
{
  if (SSQ_IS_GTK_MEDIA_ROW (widget))
    return gtk_widget_get_mapped (widget) && find_tooltip (widget, name) != NULL ? widget : NULL;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child; child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_media_row (child, name);

      if (found != NULL)
        return found;
    }
  return NULL;
}

typedef struct {
  GtkWidget  *window;
  const char *name;
} RowOf;

static gboolean
row_shown (gpointer data)
{
  RowOf *r = data;

  return find_media_row (r->window, r->name) != NULL;
}

static gboolean
row_gone (gpointer data)
{
  return !row_shown (data);
}

/* The row's upload has begun: some of its bytes are out. */
static gboolean
row_uploading (gpointer data)
{
  RowOf *r = data;
  GtkWidget *row = find_media_row (r->window, r->name);

  return row != NULL && ssq_gtk_media_row_get_progress (SSQ_GTK_MEDIA_ROW (row)) > 0;
}

static GtkWidget *
wait_row (GtkWidget  *window,
          const char *name)
{
  RowOf r = { window, name };

  if (!ssq_test_wait_until (row_shown, &r, 3 * WAIT_MS))
    g_error ("no row shows %s", name);
  return find_media_row (window, name);
}

typedef struct {
  SsqClient  *client;
  const char *conversation_id;
  guint       n;
} Conversation;

/* The conversation's messages the server has given a seq. */
static GPtrArray *
delivered (Conversation *c)
{
  g_autoptr(GPtrArray) all = ssq_cache_get_messages (ssq_client_get_cache (c->client), c->conversation_id,
                                                     0, 100, NULL);
  GPtrArray *out = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; i < all->len; i++)
    if (ssq_message_get_seq (all->pdata[i]) > 0)
      g_ptr_array_add (out, g_object_ref (all->pdata[i]));
  return out;
}

static gboolean
has_n_messages (gpointer data)
{
  g_autoptr(GPtrArray) messages = delivered (data);

  return messages->len == ((Conversation *) data)->n;
}

static gboolean
path_exists (gpointer data)
{
  return g_file_test (data, G_FILE_TEST_EXISTS);
}

static gboolean
outbox_empty (gpointer data)
{
  return ssq_cache_outbox_count (ssq_client_get_cache (data)) == 0;
}

static gboolean
file_complete (gpointer data)
{
  g_autoptr(GFile) file = g_file_new_for_path (((gpointer *) data)[0]);
  g_autoptr(GFileInfo) info = g_file_query_info (file, G_FILE_ATTRIBUTE_STANDARD_SIZE, G_FILE_QUERY_INFO_NONE,
                                                 NULL, NULL);

  return info != NULL && (gsize) g_file_info_get_size (info) == GPOINTER_TO_SIZE (((gpointer *) data)[1]);
}

/* The app, a window on @client's session with @conversation_id open. The
 * app is registered under a name of the test's: GLib's D-Bus export of
 * its actions holds it until the process ends, so the next test's could
 * not take the same. */
static SsqGtkWindow *
open_window (SsqGtkApplication *app,
             const char        *name,
             SsqClient         *client,
             const char        *conversation_id)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *id = g_strconcat ("org.supersoniq.Supersoniq.", name, NULL);

  g_application_set_application_id (G_APPLICATION (app), id);
  g_application_register (G_APPLICATION (app), NULL, &error);
  g_assert_no_error (error);
  return ssq_gtk_test_open_window (app, client, conversation_id);
}

/* Stops the server while @name's upload runs, checks it is mid-way, and
 * clicks the row's cancel button before the server goes on. */
static void
cancel_mid_way (SsqTestServer *server,
                GtkWidget     *window,
                const char    *name,
                const char    *screenshot)
{
  RowOf r = { window, name };
  g_autofree char *tooltip = g_strdup_printf ("Cancel the upload of %s", name);
  GtkWidget *row, *cancel;
  double fraction;

  if (!ssq_test_wait_until (row_uploading, &r, 6 * WAIT_MS))
    g_error ("the upload of %s never started", name);
  g_assert_cmpint (kill (ssq_test_server_pid (server), SIGSTOP), ==, 0);
  row = find_media_row (window, name);
  g_assert_nonnull (row);
  fraction = ssq_gtk_media_row_get_progress (SSQ_GTK_MEDIA_ROW (row));
  g_test_message ("%s: cancelled at %.2f %%", name, fraction * 100);
  g_assert_cmpfloat (fraction, >, 0);
  g_assert_cmpfloat (fraction, <, 1);
  if (screenshot != NULL)
    ssq_gtk_test_screenshot (window, screenshot);
  cancel = ssq_gtk_test_find_by_tooltip (row, tooltip);
  g_assert_nonnull (cancel);
  g_assert_true (gtk_widget_get_visible (cancel));
  g_signal_emit_by_name (cancel, "clicked");
  g_assert_cmpint (kill (ssq_test_server_pid (server), SIGCONT), ==, 0);
}

/* A message of a big file, a small one and text: each row has its own
 * progress; cancelling the big one mid-way sends the rest without it.
 * Then a message of the big file alone, cancelled mid-way, is not sent
 * at all. The server keeps nothing of either big upload. */
static void
test_cancel_upload (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, NULL);
  g_autoptr(SsqClient) bob = ssq_gtk_test_client (server, root, "bob", TRUE);
  g_autoptr(SsqClient) alice = ssq_gtk_test_client (server, root, "alice", TRUE);
  g_autoptr(SsqGtkApplication) app = ssq_gtk_application_new ();
  g_autoptr(SsqConversation) dm = ssq_gtk_test_direct (bob, "alice");
  g_autoptr(GFile) notes = make_file ("notes.txt", 2000);
  g_autoptr(GFile) big = make_file ("big.bin", BIG_SIZE);
  g_autoptr(GPtrArray) got = NULL;
  g_autoptr(GError) error = NULL;
  Conversation on_bob = { bob, ssq_conversation_get_id (dm), 1 };
  RowOf big_row = { NULL, "big.bin" };
  SsqGtkWindow *window = open_window (app, "CancelUpload", alice, ssq_conversation_get_id (dm));
  SsqGtkComposer *composer = SSQ_GTK_COMPOSER (gtk_widget_get_ancestor (ssq_gtk_window_get_composer (window),
                                                                        SSQ_TYPE_GTK_COMPOSER));
  SsqMessage *sent;

  big_row.window = GTK_WIDGET (window);
  /* The big one first: the small one, after it, keeps its place in the
   * outbox when the big one goes. */
  ssq_gtk_composer_add_file (composer, big);
  ssq_gtk_composer_add_file (composer, notes);
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (ssq_gtk_composer_get_text_view (composer)), "Two files", -1);
  g_assert_true (ssq_gtk_window_send_composer (window));
  g_assert_cmpuint (g_list_model_get_n_items (ssq_gtk_composer_get_attachments (composer)), ==, 0);

  cancel_mid_way (server, GTK_WIDGET (window), "big.bin", "media-files-upload.png");
  g_assert_true (ssq_test_wait_until (row_gone, &big_row, WAIT_MS));
  g_assert_true (ssq_test_wait_until (has_n_messages, &on_bob, 3 * WAIT_MS));
  got = delivered (&on_bob);
  sent = got->pdata[0];
  g_assert_cmpstr (ssq_message_get_body (sent), ==, "Two files");
  g_assert_cmpuint (ssq_message_get_n_media (sent), ==, 1);
  g_assert_cmpstr (ssq_media_get_name (ssq_message_get_media (sent, 0)), ==, "notes.txt");
  g_assert_true (ssq_test_wait_until (outbox_empty, alice, WAIT_MS));
  g_clear_pointer (&got, g_ptr_array_unref);

  /* The big file alone: cancelled, the message is given up. */
  ssq_gtk_composer_add_file (composer, big);
  g_assert_true (ssq_gtk_window_send_composer (window));
  g_assert_cmpuint (g_list_model_get_n_items (ssq_gtk_composer_get_attachments (composer)), ==, 0);
  cancel_mid_way (server, GTK_WIDGET (window), "big.bin", NULL);
  g_assert_true (ssq_test_wait_until (row_gone, &big_row, WAIT_MS));
  g_assert_true (ssq_test_wait_until (outbox_empty, alice, WAIT_MS));
  /* A message after it arrives alone: the one before was never sent. */
  ssq_gtk_test_send_text (alice, ssq_conversation_get_id (dm), "after");
  on_bob.n = 2;
  g_assert_true (ssq_test_wait_until (has_n_messages, &on_bob, WAIT_MS));
  got = delivered (&on_bob);
  g_assert_cmpstr (ssq_message_get_body (got->pdata[1]), ==, "after");
  g_assert_cmpuint (ssq_message_get_n_media (got->pdata[1]), ==, 0);

  /* Nothing of the big uploads on the server: only notes.txt was taken,
   * and the partial files are gone. */
  g_assert_true (ssq_test_wait_until (ssq_test_media_tmp_empty_cb, server, WAIT_MS));
  g_assert_cmpint (ssq_test_metric (server, "ssq_media_uploads_total"), ==, 1);
  g_assert_cmpint (ssq_test_metric (server, "ssq_media_bytes_stored"), ==, 2000);
  g_assert_cmpuint (ssq_test_media_files (server, FALSE), ==, 1);
  g_assert_cmpint (ssq_test_db_count (server, "SELECT count(*) FROM media"), ==, 1);

  gtk_window_destroy (GTK_WINDOW (window));
  ssq_test_wait_ms (100);
  ssq_client_disconnect (alice);
  ssq_client_disconnect (bob);
}

/* Bob sends a file; alice's list shows it as a row with its name and
 * size; Save downloads it (the row shows the progress) and writes the
 * bytes sent where the chooser says (Downloads, under its name); Open
 * hands the downloaded file to the default application. */
static void
test_file_row (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, NULL);
  g_autoptr(SsqClient) bob = ssq_gtk_test_client (server, root, "bob", TRUE);
  g_autoptr(SsqClient) alice = ssq_gtk_test_client (server, root, "alice", TRUE);
  g_autoptr(SsqGtkApplication) app = ssq_gtk_application_new ();
  g_autoptr(SsqConversation) dm = ssq_gtk_test_direct (bob, "alice");
  g_autoptr(GFile) report = make_file ("report.pdf", 6 * 1024 * 1024);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(SsqMessage) pending = NULL;
  g_autoptr(GString) labels = g_string_new (NULL);
  g_autofree char *size_text = g_format_size (6 * 1024 * 1024);
  g_autofree char *report_path = g_file_get_path (report);
  g_autofree char *saved = g_build_filename (root, "Downloads", "report.pdf", NULL);
  g_autofree char *opened_log = g_build_filename (root, "opened.txt", NULL);
  g_autofree char *opened = NULL;
  g_autoptr(GFile) saved_file = g_file_new_for_path (saved);
  GFile *files[] = { report };
  SsqGtkWindow *window;
  GtkWidget *row;
  GtkWindow *chooser;

  ssq_client_send_message_with_media_async (bob, ssq_conversation_get_id (dm), "The report", 0, files, 1, NULL,
                                            ssq_test_store_result, &result);
  g_assert_true (ssq_test_wait_result (&result, WAIT_MS) != NULL);
  pending = ssq_client_send_message_with_media_finish (bob, result, &error);
  g_assert_no_error (error);

  window = open_window (app, "FileRow", alice, ssq_conversation_get_id (dm));
  row = wait_row (GTK_WIDGET (window), "report.pdf");
  g_assert_false (ssq_gtk_media_row_is_picture (SSQ_GTK_MEDIA_ROW (row)));
  ssq_gtk_test_collect_labels (row, labels);
  g_assert_nonnull (strstr (labels->str, "report.pdf\n"));
  g_assert_nonnull (strstr (labels->str, size_text));
  g_assert_cmpuint (ssq_gtk_test_count_unnamed (row), ==, 0);
  g_assert_cmpfloat (ssq_gtk_media_row_get_progress (SSQ_GTK_MEDIA_ROW (row)), <, 0);
  ssq_gtk_test_screenshot (GTK_WIDGET (window), "media-files-row.png");

  /* Save: the download shows on the row at once, then the chooser. */
  g_signal_emit_by_name (ssq_gtk_test_find_by_tooltip (row, "Save"), "clicked");
  g_assert_cmpfloat (ssq_gtk_media_row_get_progress (SSQ_GTK_MEDIA_ROW (row)), >=, 0);
  chooser = ssq_gtk_test_wait_toplevel (GTK_TYPE_FILE_CHOOSER_DIALOG);
  g_assert_cmpfloat (ssq_gtk_media_row_get_progress (SSQ_GTK_MEDIA_ROW (row)), <, 0);
  ssq_gtk_test_wait_chooser_file (chooser, saved_file);
  gtk_dialog_response (GTK_DIALOG (chooser), GTK_RESPONSE_ACCEPT);
  g_assert_true (ssq_test_wait_until (file_complete, (gpointer[]) { saved, GSIZE_TO_POINTER (6 * 1024 * 1024) },
                                      WAIT_MS));
  ssq_gtk_test_assert_same_bytes (report_path, saved);

  /* Open: the default application gets the downloaded file. */
  g_signal_emit_by_name (ssq_gtk_test_find_by_tooltip (row, "Open"), "clicked");
  g_assert_true (ssq_test_wait_until (path_exists, opened_log, 3 * WAIT_MS));
  g_assert_true (g_file_get_contents (opened_log, &opened, NULL, NULL));
  g_strchomp (opened);
  g_test_message ("opened: %s", opened);
  g_assert_true (g_str_has_prefix (opened, ssq_client_get_media_dir (alice)));
  ssq_gtk_test_assert_same_bytes (report_path, opened);

  gtk_window_destroy (GTK_WINDOW (window));
  ssq_test_wait_ms (100);
  ssq_client_disconnect (alice);
  ssq_client_disconnect (bob);
}

/* The test's home: a Downloads folder, and a stand-in default application
 * for every file type the test opens, which writes down what it was given. */
static void
make_home (void)
{
  g_autofree char *config = g_build_filename (root, "config", NULL);
  g_autofree char *apps = g_build_filename (root, "data", "applications", NULL);
  g_autofree char *opener = g_build_filename (root, "opener.sh", NULL);
  g_autofree char *opener_text = g_strdup_printf ("#!/bin/sh\nprintf '%%s\\n' \"$1\" > '%s/opened.txt.part' && "
                                                  "mv '%s/opened.txt.part' '%s/opened.txt'\n", root, root, root);
  g_autofree char *desktop = g_build_filename (apps, "ssq-test-opener.desktop", NULL);
  g_autofree char *desktop_text = g_strdup_printf ("[Desktop Entry]\nType=Application\nName=Opener\n"
                                                   "Exec=%s %%f\nMimeType=application/pdf;"
                                                   "application/octet-stream;text/plain;\n", opener);
  g_autofree char *mimeapps = g_build_filename (config, "mimeapps.list", NULL);
  const char *mimeapps_text = "[Default Applications]\napplication/pdf=ssq-test-opener.desktop\n"
                              "application/octet-stream=ssq-test-opener.desktop\n"
                              "text/plain=ssq-test-opener.desktop\n";

  ssq_gtk_test_set_user_dir (root, "XDG_DOWNLOAD_DIR", "Downloads");
  g_assert_cmpint (g_mkdir_with_parents (apps, 0700), ==, 0);
  g_assert_true (g_file_set_contents (opener, opener_text, -1, NULL));
  g_assert_cmpint (g_chmod (opener, 0700), ==, 0);
  g_assert_true (g_file_set_contents (desktop, desktop_text, -1, NULL));
  g_assert_true (g_file_set_contents (mimeapps, mimeapps_text, -1, NULL));
}

int
main (int    argc,
      char **argv)
{
  int status;

  root = ssq_gtk_test_make_home ("ssq-gtk-media-files-XXXXXX");
  make_home ();
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();
  g_test_add_func ("/gtk/media-files/cancel-upload", test_cancel_upload);
  g_test_add_func ("/gtk/media-files/file-row", test_file_row);
  status = g_test_run ();
  ssq_test_remove_tree (root);
  g_free (root);
  return status;
}
