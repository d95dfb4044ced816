/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-gtk-invite.c: invites in the desktop client under Xvfb, against
 * the real server in invite mode. A link opened by a second process of
 * the real binary reaches the running app (GApplication's open over
 * D-Bus) and shows the join page; joining registers and opens the chat.
 * The first account, a server admin, finds "Invite People…" in the menu,
 * makes an invite, and the dialog's QR code, as drawn, decodes (zbarimg)
 * to the link shown; a newcomer joining with that link is no admin and
 * has no such menu item. Screenshots go to $SSQ_SCREENSHOT_DIR. */
#include <adwaita.h>
#include <glib/gstdio.h>
#include <string.h>

#include "ssq-client-invites.h"
#include "ssq-gtk-application.h"
#include "ssq-gtk-invite-dialog.h"
#include "ssq-gtk-join-page.h"
#include "ssq-gtk-window.h"
#include "ssq-gtk-test-util.h"
#include "ssq-invite-link.h"
#include "ssq-json.h"
#include "ssq-proto.h"
#include "ssq-qr.h"
#include "ssq-test-server.h"

#define WAIT_MS 10000

/* An invite made on the server's administration socket: its link. */
static char *
admin_socket_invite (SsqTestServer *server)
{
  const char *argv[] = { g_getenv ("SSQ_SERVER_BIN"), "admin", "--data-dir", server->data_dir, "--json",
                         "invites", "create", "--uses", "1", "--expires", "1h", NULL };
  g_autofree char *out = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) made = NULL;
  int status = 0;

  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, 0, NULL, NULL, &out, NULL, &status, &error));
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  made = ssq_json_parse_object (out, strlen (out), &error);
  g_assert_no_error (error);
  return g_strdup (json_object_get_string_member (made, "link"));
}

static SsqGtkWindow *
the_window (GApplication *app)
{
  GList *windows = gtk_application_get_windows (GTK_APPLICATION (app));

  for (GList *l = windows; l != NULL; l = l->next)
    if (SSQ_IS_GTK_WINDOW (l->data))
      return l->data;
  return NULL;
}

static GtkWidget *
find_type (GtkWidget *widget,
           GType      type)
{
  if (G_TYPE_CHECK_INSTANCE_TYPE (widget, type))
    return widget;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child; child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_type (child, type);

      if (found != NULL)
        return found;
    }
  return NULL;
}

static gboolean
join_page_shown (gpointer data)
{
  GtkWidget *page = find_type (data, SSQ_TYPE_GTK_JOIN_PAGE);

  return page != NULL && gtk_widget_get_mapped (page);
}

typedef struct {
  SsqGtkWindow *window;
  const char   *username;
} Session;

/* The window runs @username's session, online and in the chat. */
static gboolean
in_chat (gpointer data)
{
  Session *s = data;
  SsqClient *client = ssq_gtk_window_get_client (s->window);
  GtkWidget *leaflet = find_type (GTK_WIDGET (s->window), ADW_TYPE_LEAFLET);

  return client != NULL && g_strcmp0 (ssq_client_get_username (client), s->username) == 0 &&
         ssq_client_is_synced (client) && leaflet != NULL && gtk_widget_get_mapped (leaflet);
}

/* The entry rows of the join page: username, password. */
static void
fill_join_page (SsqGtkWindow *window,
                const char   *username)
{
  GtkWidget *page = find_type (GTK_WIDGET (window), SSQ_TYPE_GTK_JOIN_PAGE);
  GtkWidget *name = find_type (page, ADW_TYPE_ENTRY_ROW);
  GtkWidget *password = find_type (page, ADW_TYPE_PASSWORD_ENTRY_ROW);

  g_assert_nonnull (name);
  g_assert_nonnull (password);
  gtk_editable_set_text (GTK_EDITABLE (name), username);
  gtk_editable_set_text (GTK_EDITABLE (password), "password123");
}

/* Whether the primary menu, opened, offers "Invite People…". */
static gboolean
menu_offers_invite (SsqGtkWindow *window)
{
  GtkWidget *button = NULL;
  GtkPopover *popover;
  g_autoptr(GString) labels = g_string_new (NULL);
  gboolean offered = FALSE;

  /* The sidebar has two menu buttons; the primary menu's has the
   * open-menu icon. */
  {
    g_autoptr(GPtrArray) stack = g_ptr_array_new ();

    g_ptr_array_add (stack, window);
    while (stack->len > 0)
      {
        GtkWidget *w = g_ptr_array_steal_index (stack, stack->len - 1);

        if (GTK_IS_MENU_BUTTON (w) &&
            g_strcmp0 (gtk_menu_button_get_icon_name (GTK_MENU_BUTTON (w)), "open-menu-symbolic") == 0)
          button = w;
        for (GtkWidget *c = gtk_widget_get_first_child (w); c; c = gtk_widget_get_next_sibling (c))
          g_ptr_array_add (stack, c);
      }
  }
  g_assert_nonnull (button);
  gtk_menu_button_popup (GTK_MENU_BUTTON (button));
  ssq_test_wait_ms (300);
  popover = gtk_menu_button_get_popover (GTK_MENU_BUTTON (button));
  g_assert_nonnull (popover);
  {
    g_autoptr(GPtrArray) stack = g_ptr_array_new ();

    g_ptr_array_add (stack, popover);
    while (stack->len > 0)
      {
        GtkWidget *w = g_ptr_array_steal_index (stack, stack->len - 1);

        if (GTK_IS_LABEL (w) && gtk_widget_is_visible (w) && gtk_widget_get_mapped (w))
          {
            g_string_append_printf (labels, "%s|", gtk_label_get_text (GTK_LABEL (w)));
            offered |= g_str_equal (gtk_label_get_text (GTK_LABEL (w)), "Invite People…");
          }
        for (GtkWidget *c = gtk_widget_get_first_child (w); c; c = gtk_widget_get_next_sibling (c))
          g_ptr_array_add (stack, c);
      }
  }
  g_test_message ("menu: %s", labels->str);
  gtk_menu_button_popdown (GTK_MENU_BUTTON (button));
  return offered;
}

static gboolean
offers_invite (gpointer data)
{
  return menu_offers_invite (data);
}

static gboolean
dialog_open (gpointer data)
{
  SsqGtkInviteDialog **out = data;
  GListModel *toplevels = gtk_window_get_toplevels ();   /* transfer none */

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr(GObject) w = g_list_model_get_item (toplevels, i);

      if (SSQ_IS_GTK_INVITE_DIALOG (w) && gtk_widget_get_mapped (GTK_WIDGET (w)))
        *out = SSQ_GTK_INVITE_DIALOG (w);
    }
  return *out != NULL;
}

static gboolean
has_link (gpointer data)
{
  return ssq_gtk_invite_dialog_get_link (data) != NULL;
}

/* zbarimg's reading of the PNG at @path, or NULL. */
static char *
zbar_decode (const char *path)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status = 0;
  const char *argv[] = { "zbarimg", "--quiet", "--raw", path, NULL };

  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err,
                     &status, NULL))
    return NULL;
  if (!g_spawn_check_wait_status (status, NULL))
    {
      g_test_message ("zbarimg: %s", err);
      return NULL;
    }
  return g_strdup (g_strchomp (out));
}

/* The real binary, started with @link while the app runs: GApplication
 * sends the link to the running instance and the process ends. */
static void
open_in_running_app (const char *link)
{
  const char *argv[] = { g_getenv ("SSQ_GTK_BIN"), link, NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) process = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_NONE, &error);

  g_autoptr(GAsyncResult) result = NULL;

  g_assert_no_error (error);
  /* The app answers the process's D-Bus call from this main loop: wait
   * for the process with the loop running. */
  g_subprocess_wait_async (process, NULL, ssq_test_store_result, &result);
  g_assert_true (ssq_test_wait_result (&result, 2 * WAIT_MS) != NULL);
  g_assert_true (g_subprocess_wait_finish (process, result, &error));
  g_assert_true (g_subprocess_get_successful (process));
}

static void
test_invite (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, "[server]\nregistration=invite\n");
  g_autoptr(SsqGtkApplication) app = ssq_gtk_application_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *first_link = admin_socket_invite (server);
  g_autofree char *dir = g_dir_make_tmp ("ssq-gtk-invite-XXXXXX", NULL);
  g_autofree char *png = g_build_filename (dir, "invite-dialog.png", NULL);
  g_autofree char *decoded = NULL;
  g_autofree char *link = NULL;
  g_autofree char *title = NULL;
  g_autoptr(GFile) file = NULL;
  SsqInviteLink *parsed;
  SsqGtkInviteDialog *dialog = NULL;
  SsqGtkWindow *window;
  AdwStatusPage *status;
  GtkWidget *button;
  Session alice, bob;

  if (!ssq_qr_available () || g_find_program_in_path ("zbarimg") == NULL)
    {
      g_test_skip ("needs libqrencode and zbarimg (apt install libqrencode-dev zbar-tools)");
      return;
    }
  g_assert_true (g_application_register (G_APPLICATION (app), NULL, &error));
  g_application_activate (G_APPLICATION (app));
  window = the_window (G_APPLICATION (app));
  g_assert_nonnull (window);
  gtk_window_set_default_size (GTK_WINDOW (window), 900, 700);

  /* A link out of shape is refused, saying why, and shows nothing. */
  g_assert_false (ssq_gtk_window_show_join (window, "supersoniq://host:80/invite/short", &error));
  g_assert_error (error, SSQ_ERROR, SSQ_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (join_page_shown (window));

  /* A link opened while the app runs: the join page, titled with the server. */
  open_in_running_app (first_link);
  g_assert_true (ssq_test_wait_until (join_page_shown, window, WAIT_MS));
  status = ADW_STATUS_PAGE (find_type (find_type (GTK_WIDGET (window), SSQ_TYPE_GTK_JOIN_PAGE),
                                       ADW_TYPE_STATUS_PAGE));
  parsed = ssq_invite_link_parse (first_link, &error);
  g_assert_no_error (error);
  title = g_strdup_printf ("Join %s:%u", parsed->host, parsed->port);
  ssq_invite_link_free (parsed);
  g_assert_cmpstr (adw_status_page_get_title (status), ==, title);
  fill_join_page (window, "alice");
  ssq_gtk_test_screenshot (GTK_WIDGET (window), "join-page.png");

  /* Join: registered with the invite, in the chat. */
  button = ssq_gtk_test_find_by_type (GTK_WIDGET (window), GTK_TYPE_BUTTON, "_Join");
  g_assert_nonnull (button);
  gtk_widget_activate (button);
  alice = (Session) { window, "alice" };
  g_assert_true (ssq_test_wait_until (in_chat, &alice, WAIT_MS));

  /* alice, the first account, is the server admin: the menu offers invites. */
  g_assert_true (ssq_test_wait_until (offers_invite, window, WAIT_MS));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.invite", NULL));
  g_assert_true (ssq_test_wait_until (dialog_open, &dialog, WAIT_MS));
  gtk_widget_activate (ssq_gtk_test_find_by_type (GTK_WIDGET (dialog), GTK_TYPE_BUTTON, "_Create Invite Link"));
  g_assert_true (ssq_test_wait_until (has_link, dialog, WAIT_MS));
  link = g_strdup (ssq_gtk_invite_dialog_get_link (dialog));
  g_assert_true (g_str_has_prefix (link, "supersoniq://"));
  {
    g_autoptr(GString) labels = g_string_new (NULL);

    ssq_gtk_test_collect_labels (GTK_WIDGET (dialog), labels);
    g_assert_nonnull (strstr (labels->str, link));
  }
  /* The code as drawn on screen reads back to the link shown. */
  g_assert_true (ssq_gtk_test_render_png (GTK_WIDGET (dialog), png));
  decoded = zbar_decode (png);
  g_assert_cmpstr (decoded, ==, link);
  ssq_gtk_test_screenshot (GTK_WIDGET (dialog), "invite-dialog.png");
  gtk_window_destroy (GTK_WINDOW (dialog));

  /* The link made there, opened in the app (as the desktop's handler
   * does): bob joins and is no admin, so no invites for him. */
  file = g_file_new_for_uri (link);
  g_application_open (G_APPLICATION (app), &file, 1, "");
  g_assert_true (ssq_test_wait_until (join_page_shown, window, WAIT_MS));
  fill_join_page (window, "bob");
  gtk_widget_activate (ssq_gtk_test_find_by_type (GTK_WIDGET (window), GTK_TYPE_BUTTON, "_Join"));
  bob = (Session) { window, "bob" };
  g_assert_true (ssq_test_wait_until (in_chat, &bob, WAIT_MS));
  ssq_test_wait_ms (500);   /* the admin check's answer */
  g_assert_false (menu_offers_invite (window));

  g_unlink (png);
  g_rmdir (dir);
  g_application_quit (G_APPLICATION (app));
}

/* A home of its own (data, configuration, keyring), as every GTK test: in
 * the real one, a server's key pinned by an earlier run for the same port
 * made the join page refuse this run's server (1 run in the suite). */
int
main (int    argc,
      char **argv)
{
  return ssq_gtk_test_main (&argc, &argv, "ssq-gtk-invite-XXXXXX", "/gtk/invite/join-and-create",
                            test_invite);
}
