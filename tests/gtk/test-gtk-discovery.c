/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-gtk-discovery.c: servers found on the LAN on the log-in page,
 * under Xvfb, against the real server with TLS. There is no Avahi daemon
 * to announce one here, so the server is listed the way discovery would
 * list it (ssq_gtk_login_page_add_discovered): once, though seen twice;
 * choosing it fills in its URL; registering there pins its key before
 * the first request, so no trust dialog comes; a row with another key for
 * the same server is refused and the pin stays. */
#include <adwaita.h>
#include <string.h>

#include "ssq-client.h"
#include "ssq-gtk-login-page.h"
#include "ssq-gtk-test-util.h"
#include "ssq-invite-link.h"
#include "ssq-test-server.h"

#define WAIT_MS 15000
#define OTHER_KEY "sha256:0000000000000000000000000000000000000000000000000000000000000000"

/* The visible action rows below @widget titled @title. */
static void
collect_rows (GtkWidget  *widget,
              const char *title,
              GPtrArray  *out)
{
  if (ADW_IS_ACTION_ROW (widget) && gtk_widget_is_visible (widget) &&
      g_strcmp0 (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (widget)), title) == 0)
    g_ptr_array_add (out, widget);
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child; child = gtk_widget_get_next_sibling (child))
    collect_rows (child, title, out);
}

static AdwActionRow *
the_row (GtkWidget  *page,
         const char *title)
{
  g_autoptr(GPtrArray) rows = g_ptr_array_new ();

  collect_rows (page, title, rows);
  g_assert_cmpuint (rows->len, ==, 1);
  return rows->pdata[0];
}

/* The server, name and password rows, in that order. */
static void
entry_rows (GtkWidget    *page,
            AdwEntryRow **rows)
{
  GtkWidget *w = ssq_gtk_test_find_by_type (page, ADW_TYPE_ENTRY_ROW, NULL);
  guint n = 0;

  while (w != NULL && n < 3)
    {
      if (ADW_IS_ENTRY_ROW (w))
        rows[n++] = ADW_ENTRY_ROW (w);
      w = gtk_widget_get_next_sibling (w);
    }
  g_assert_cmpuint (n, ==, 3);
}

/* The page's visible error line, or NULL. */
static GtkLabel *
error_label (GtkWidget *widget)
{
  if (GTK_IS_LABEL (widget) && gtk_widget_has_css_class (widget, "error") && gtk_widget_is_visible (widget))
    return GTK_LABEL (widget);
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child; child = gtk_widget_get_next_sibling (child))
    {
      GtkLabel *found = error_label (child);

      if (found != NULL)
        return found;
    }
  return NULL;
}

static gboolean
is_set (gpointer data)
{
  return *(gpointer *) data != NULL;
}

static void
session_started_cb (SsqGtkLoginPage *page,
                    SsqClient       *client,
                    SsqClient      **out)
{
  g_set_object (out, client);
}

static char *
known_servers (void)
{
  g_autofree char *path = g_build_filename (g_get_user_config_dir (), "supersoniq", "known-servers.ini", NULL);
  char *text = NULL;

  g_file_get_contents (path, &text, NULL, NULL);
  return text ? text : g_strdup ("");
}

static void
test_discovered_server (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("ssq-gtk-discovery-XXXXXX", &error);
  g_autofree char *log = g_build_filename (dir, "server.log", NULL);
  g_autoptr(SsqTestServer) server = ssq_test_server_start_logged (NULL, NULL, log, FALSE);
  g_autofree char *fp = ssq_test_server_printed_fingerprint (log, TRUE);
  g_autofree char *compact = NULL;
  g_autofree char *url = NULL;
  g_autofree char *pins = NULL;
  g_autofree char *pins_after = NULL;
  g_autoptr(GUri) uri = NULL;
  g_autoptr(SsqClient) client = NULL;
  g_autoptr(GPtrArray) rows = g_ptr_array_new ();
  GtkWidget *window = gtk_window_new ();
  GtkWidget *page = g_object_new (SSQ_TYPE_GTK_LOGIN_PAGE, NULL);
  GtkLabel *label;
  AdwEntryRow *entries[3] = { NULL };
  guint16 port;

  g_assert_nonnull (server->https_url);
  uri = g_uri_parse (server->https_url, G_URI_FLAGS_NONE, &error);
  g_assert_no_error (error);
  port = g_uri_get_port (uri);
  url = g_strdup_printf ("https://127.0.0.1:%u", port);
  g_signal_connect (page, "session-started", G_CALLBACK (session_started_cb), &client);
  gtk_window_set_child (GTK_WINDOW (window), page);
  gtk_window_set_default_size (GTK_WINDOW (window), 800, 760);
  gtk_window_present (GTK_WINDOW (window));
  entry_rows (page, entries);

  /* Nothing found: no list. */
  collect_rows (page, "Office chat", rows);
  g_assert_cmpuint (rows->len, ==, 0);

  /* Seen on two interfaces, and by IPv6: listed once. */
  ssq_gtk_login_page_add_discovered (SSQ_GTK_LOGIN_PAGE (page), "Office chat", "127.0.0.1", port, fp);
  ssq_gtk_login_page_add_discovered (SSQ_GTK_LOGIN_PAGE (page), "Office chat", "127.0.0.1", port, fp);
  ssq_gtk_login_page_add_discovered (SSQ_GTK_LOGIN_PAGE (page), "Office chat", "fd00::5", port, fp);
  ssq_gtk_login_page_add_discovered (SSQ_GTK_LOGIN_PAGE (page), "Impostor", "127.0.0.1", port, OTHER_KEY);
  ssq_test_wait_ms (300);
  ssq_gtk_test_screenshot (window, "login-discovered.png");

  /* Choosing it fills in the server. */
  adw_action_row_activate (the_row (page, "Office chat"));
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (entries[0])), ==, url);
  gtk_editable_set_text (GTK_EDITABLE (entries[1]), "alice");
  gtk_editable_set_text (GTK_EDITABLE (entries[2]), "password123");
  gtk_widget_activate (ssq_gtk_test_find_by_type (page, GTK_TYPE_BUTTON, "_Register"));

  /* Its key was pinned first: the session starts without a question. */
  g_assert_true (ssq_test_wait_until (is_set, &client, WAIT_MS));
  pins = known_servers ();
  g_test_message ("known servers: %s", pins);
  compact = ssq_fingerprint_normalize (fp);
  g_assert_nonnull (strstr (pins, compact + strlen ("sha256:")));

  /* Another key for the same server: refused, the pin stays. */
  g_clear_object (&client);
  adw_action_row_activate (the_row (page, "Impostor"));
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (entries[0])), ==, url);
  gtk_editable_set_text (GTK_EDITABLE (entries[2]), "password123");
  gtk_widget_activate (ssq_gtk_test_find_by_type (page, GTK_TYPE_BUTTON, "_Log In"));
  ssq_test_wait_ms (500);
  g_assert_null (client);
  label = error_label (page);
  g_assert_nonnull (label);
  g_test_message ("error: %s", gtk_label_get_text (label));
  g_assert_nonnull (strstr (gtk_label_get_text (label), "key"));
  pins_after = known_servers ();
  g_assert_cmpstr (pins_after, ==, pins);

  gtk_window_destroy (GTK_WINDOW (window));
  ssq_test_remove_tree (dir);
}

int
main (int    argc,
      char **argv)
{
  return ssq_gtk_test_main (&argc, &argv, "ssq-gtk-discovery-XXXXXX", "/gtk/discovery/login-page", test_discovered_server);
}
