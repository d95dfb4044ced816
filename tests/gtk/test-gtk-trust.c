/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-gtk-trust.c: the desktop client against the real server with TLS,
 * under Xvfb: registering on a server not trusted yet shows its key, in
 * groups, as the server printed it; "Trust and Connect" pins it and the
 * session starts; the server back with a new key gets the changed-key
 * dialog, which only closes, and the log-in page. Screenshots of both
 * dialogs go to $SSQ_SCREENSHOT_DIR. */
#include <adwaita.h>
#include <glib/gstdio.h>
#include <string.h>

#include "ssq-gtk-application.h"
#include "ssq-gtk-window.h"
#include "ssq-gtk-test-util.h"
#include "ssq-invite-link.h"
#include "ssq-test-server.h"
#include "ssq-trust.h"

#define WAIT_MS 15000

static SsqGtkWindow *
the_window (GApplication *app)
{
  GList *windows = gtk_application_get_windows (GTK_APPLICATION (app));

  for (GList *l = windows; l != NULL; l = l->next)
    if (SSQ_IS_GTK_WINDOW (l->data))
      return l->data;
  return NULL;
}

typedef struct {
  const char       *heading;
  AdwMessageDialog *found;
} FindDialog;

/* A message dialog with @heading among the toplevels. */
static gboolean
find_dialog (gpointer data)
{
  FindDialog *find = data;
  g_autoptr(GListModel) toplevels = g_object_ref (gtk_window_get_toplevels ());

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr(GObject) window = g_list_model_get_item (toplevels, i);

      if (ADW_IS_MESSAGE_DIALOG (window) && gtk_widget_get_visible (GTK_WIDGET (window)) &&
          g_strcmp0 (adw_message_dialog_get_heading (ADW_MESSAGE_DIALOG (window)), find->heading) == 0)
        {
          find->found = ADW_MESSAGE_DIALOG (window);
          return TRUE;
        }
    }
  return FALSE;
}

static gboolean
window_online (gpointer data)
{
  SsqClient *client = ssq_gtk_window_get_client (data);

  return client != NULL && ssq_client_is_synced (client);
}

static gboolean
client_offline (gpointer data)
{
  SsqClient *client = ssq_gtk_window_get_client (data);

  return client != NULL && ssq_client_get_state (client) == SSQ_CLIENT_DISCONNECTED;
}

static void
test_trust_dialogs (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("ssq-gtk-trust-XXXXXX", &error);
  g_autofree char *log = g_build_filename (dir, "server.log", NULL);
  g_autoptr(SsqTestServer) server = ssq_test_server_start_logged (NULL, NULL, log, FALSE);
  g_autofree char *fp = ssq_test_server_printed_fingerprint (log, TRUE);
  g_autofree char *new_fp = NULL;
  g_autofree char *lines = ssq_trust_fingerprint_lines (fp, 8);
  g_autofree char *cert = g_build_filename (server->data_dir, "tls-cert.pem", NULL);
  g_autofree char *key = g_build_filename (server->data_dir, "tls-key.pem", NULL);
  g_autoptr(SsqGtkApplication) app = ssq_gtk_application_new ();
  g_autoptr(GString) labels = g_string_new (NULL);
  FindDialog ask = { "Trust This Server?", NULL };
  FindDialog changed = { "The Server's Key Has Changed", NULL };
  SsqGtkWindow *window;
  GtkWidget *register_button;
  AdwEntryRow *rows[3] = { NULL };
  guint n = 0;

  g_assert_nonnull (server->https_url);
  g_assert_true (g_application_register (G_APPLICATION (app), NULL, &error));
  g_application_activate (G_APPLICATION (app));
  window = the_window (G_APPLICATION (app));
  g_assert_nonnull (window);
  gtk_window_set_default_size (GTK_WINDOW (window), 1000, 640);
  ssq_test_wait_ms (300);

  for (GtkWidget *w = ssq_gtk_test_find_by_type (GTK_WIDGET (window), ADW_TYPE_ENTRY_ROW, NULL); w != NULL && n < 3;)
    {
      rows[n++] = ADW_ENTRY_ROW (w);
      w = gtk_widget_get_next_sibling (w);
      while (w != NULL && !ADW_IS_ENTRY_ROW (w))
        w = gtk_widget_get_next_sibling (w);
    }
  g_assert_cmpuint (n, ==, 3);
  gtk_editable_set_text (GTK_EDITABLE (rows[0]), server->https_url);
  gtk_editable_set_text (GTK_EDITABLE (rows[1]), "alice");
  gtk_editable_set_text (GTK_EDITABLE (rows[2]), "password123");
  register_button = ssq_gtk_test_find_by_type (GTK_WIDGET (window), GTK_TYPE_BUTTON, "_Register");
  g_assert_nonnull (register_button);
  gtk_widget_activate (register_button);

  /* The key, in groups, as printed; Cancel is the default. */
  g_assert_true (ssq_test_wait_until (find_dialog, &ask, WAIT_MS));
  ssq_gtk_test_collect_labels (GTK_WIDGET (ask.found), labels);
  g_test_message ("dialog: %s", labels->str);
  g_assert_nonnull (strstr (labels->str, lines));
  g_assert_cmpstr (adw_message_dialog_get_default_response (ask.found), ==, "cancel");
  g_assert_true (adw_message_dialog_has_response (ask.found, "trust"));
  g_assert_null (ssq_gtk_window_get_client (window));
  ssq_gtk_test_screenshot (GTK_WIDGET (ask.found), "trust-dialog.png");
  adw_message_dialog_response (ask.found, "trust");
  g_assert_true (ssq_test_wait_until (window_online, window, WAIT_MS));

  /* A new key: refused, with no way to go on. */
  g_assert_cmpint (ssq_test_server_stop (server), ==, 0);
  g_assert_cmpint (g_unlink (cert), ==, 0);
  g_assert_cmpint (g_unlink (key), ==, 0);
  g_unlink (log);
  ssq_test_server_restart (server);
  new_fp = ssq_test_server_printed_fingerprint (log, TRUE);
  g_assert_true (ssq_test_wait_until (find_dialog, &changed, 3 * WAIT_MS));
  g_string_truncate (labels, 0);
  ssq_gtk_test_collect_labels (GTK_WIDGET (changed.found), labels);
  g_test_message ("dialog: %s", labels->str);
  {
    g_autofree char *old_lines = ssq_trust_fingerprint_lines (fp, 8);
    g_autofree char *new_lines = ssq_trust_fingerprint_lines (new_fp, 8);

    g_assert_nonnull (strstr (labels->str, old_lines));
    g_assert_nonnull (strstr (labels->str, new_lines));
  }
  g_assert_nonnull (strstr (labels->str, "forget-server"));
  g_assert_false (adw_message_dialog_has_response (changed.found, "trust"));
  g_assert_true (adw_message_dialog_has_response (changed.found, "close"));
  g_assert_true (ssq_test_wait_until (client_offline, window, WAIT_MS));
  ssq_gtk_test_screenshot (GTK_WIDGET (changed.found), "key-changed-dialog.png");
  adw_message_dialog_response (changed.found, "close");
  gtk_window_destroy (GTK_WINDOW (window));
  ssq_test_remove_tree (dir);
}

int
main (int    argc,
      char **argv)
{
  return ssq_gtk_test_main (&argc, &argv, "ssq-gtk-trust-XXXXXX", "/gtk/trust/dialogs", test_trust_dialogs);
}
