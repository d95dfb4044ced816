/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-gtk.c: the desktop client in-process under Xvfb, against the real
 * server: widget tests for the rows and the composer, and an end-to-end
 * conversation with another client (the library). Screenshots of the main
 * states go to $SSQ_SCREENSHOT_DIR. */
#include <adwaita.h>
#include <glib/gstdio.h>
#include <string.h>

#include "ssq-gtk-application.h"
#include "ssq-gtk-attachment-strip.h"
#include "ssq-gtk-composer.h"
#include "ssq-gtk-rows.h"
#include "ssq-gtk-window.h"
#include "ssq-gtk-test-bus.h"
#include "ssq-gtk-test-util.h"
#include "ssq-test-server.h"

#define WAIT_MS 10000


/* Another person's client, its files in a directory of its own. */
static SsqClient *
other_client (SsqTestServer *server,
              const char    *username)
{
  g_autofree char *dir = ssq_test_temp_dir ("ssq-gtk-peer-XXXXXX");

  return ssq_gtk_test_client (server, dir, username, TRUE);
}

/* Every SsqGtkMessageRow under @widget. */
static void
collect_rows (GtkWidget *widget,
              GPtrArray *out)
{
  if (SSQ_IS_GTK_MESSAGE_ROW (widget))
    g_ptr_array_add (out, widget);
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child; child = gtk_widget_get_next_sibling (child))
    collect_rows (child, out);
}

typedef struct {
  GtkWidget  *root;
  const char *body;
} ShowsBody;

static gboolean
shows_body (gpointer data)
{
  ShowsBody *s = data;
  g_autoptr(GPtrArray) rows = g_ptr_array_new ();

  collect_rows (s->root, rows);
  for (guint i = 0; i < rows->len; i++)
    if (g_strcmp0 (ssq_gtk_message_row_get_body_text (rows->pdata[i]), s->body) == 0 &&
        gtk_widget_get_mapped (rows->pdata[i]))
      return TRUE;
  return FALSE;
}

static void
wait_shows (GtkWidget  *root,
            const char *body)
{
  ShowsBody s = { root, body };
  g_autoptr(GPtrArray) rows = g_ptr_array_new ();

  if (ssq_test_wait_until (shows_body, &s, 2 * WAIT_MS))
    return;
  collect_rows (root, rows);
  for (guint i = 0; i < rows->len; i++)
    g_test_message ("row %u (%s): %s", i, gtk_widget_get_mapped (rows->pdata[i]) ? "mapped" : "unmapped",
                    ssq_gtk_message_row_get_body_text (rows->pdata[i]));
  g_error ("no row shows \"%s\"", body);
}

static SsqGtkWindow *
the_window (GApplication *app)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (app));

  if (window == NULL)
    {
      GList *windows = gtk_application_get_windows (GTK_APPLICATION (app));

      window = windows ? windows->data : NULL;
    }
  return SSQ_GTK_WINDOW (window);
}

static gboolean
window_online (gpointer data)
{
  SsqClient *client = ssq_gtk_window_get_client (data);

  return client != NULL && ssq_client_is_synced (client);
}

typedef struct {
  SsqGtkWindow *window;
  const char   *username;
} NewSession;

/* The window runs @username's session, online. */
static gboolean
session_of (gpointer data)
{
  NewSession *s = data;
  SsqClient *client = ssq_gtk_window_get_client (s->window);

  return client != NULL && g_strcmp0 (ssq_client_get_username (client), s->username) == 0 &&
         ssq_client_is_synced (client);
}

typedef struct {
  SsqClient  *client;
  const char *conversation_id;
  const char *body;
} HasBody;

static gboolean
client_has_body (gpointer data)
{
  HasBody *h = data;
  g_autoptr(GPtrArray) all = ssq_cache_get_messages (ssq_client_get_cache (h->client), h->conversation_id,
                                                     0, 100, NULL);

  for (guint i = 0; i < all->len; i++)
    if (g_strcmp0 (ssq_message_get_body (all->pdata[i]), h->body) == 0)
      return TRUE;
  return FALSE;
}

typedef struct {
  SsqGtkWindow *window;
  const char   *id;
} Highlight;

/* The selection model of the sidebar (the list view with single
 * selection; the message view has none). */
static GtkSingleSelection *
sidebar_selection (GtkWidget *widget)
{
  if (GTK_IS_LIST_VIEW (widget) && GTK_IS_SINGLE_SELECTION (gtk_list_view_get_model (GTK_LIST_VIEW (widget))))
    return GTK_SINGLE_SELECTION (gtk_list_view_get_model (GTK_LIST_VIEW (widget)));
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child; child = gtk_widget_get_next_sibling (child))
    {
      GtkSingleSelection *found = sidebar_selection (child);

      if (found != NULL)
        return found;
    }
  return NULL;
}

/* The sidebar's highlighted row is conversation @id, and it is first. */
static gboolean
highlighted_first (gpointer data)
{
  Highlight *h = data;
  GtkSingleSelection *selection = sidebar_selection (GTK_WIDGET (h->window));
  SsqConversation *selected = gtk_single_selection_get_selected_item (selection);
  g_autoptr(SsqConversation) first = g_list_model_get_item (G_LIST_MODEL (selection), 0);

  return selected != NULL && first != NULL && gtk_single_selection_get_selected (selection) == 0 &&
         g_strcmp0 (ssq_conversation_get_id (selected), h->id) == 0 &&
         g_strcmp0 (ssq_conversation_get_id (first), h->id) == 0;
}

typedef struct {
  SsqGtkWindow *window;
  const char   *title;
  guint         n;
} Listed;

/* The sidebar lists @n conversations, one of them titled @title. */
static gboolean
sidebar_lists (gpointer data)
{
  Listed *l = data;
  GListModel *shown = G_LIST_MODEL (sidebar_selection (GTK_WIDGET (l->window)));
  gboolean found = FALSE;

  for (guint i = 0; i < g_list_model_get_n_items (shown); i++)
    {
      g_autoptr(SsqConversation) c = g_list_model_get_item (shown, i);

      found = found || g_strcmp0 (ssq_conversation_get_display_title (c), l->title) == 0;
    }
  return found && g_list_model_get_n_items (shown) == l->n;
}

/* A notification server on the test's own session bus, so that the app's
 * real libnotify calls have someone to talk to: it records each body. */
typedef struct {
  SsqGtkTestService *service;
  GMutex             lock;
  GString           *bodies;     /* one per line */
} FakeNotifyd;

static const char notifyd_xml[] =
  "<node><interface name='org.freedesktop.Notifications'>"
  "<method name='Notify'><arg type='s' direction='in'/><arg type='u' direction='in'/>"
  "<arg type='s' direction='in'/><arg type='s' direction='in'/><arg type='s' direction='in'/>"
  "<arg type='as' direction='in'/><arg type='a{sv}' direction='in'/><arg type='i' direction='in'/>"
  "<arg type='u' direction='out'/></method>"
  "<method name='GetServerInformation'><arg type='s' direction='out'/><arg type='s' direction='out'/>"
  "<arg type='s' direction='out'/><arg type='s' direction='out'/></method>"
  "<method name='GetCapabilities'><arg type='as' direction='out'/></method>"
  "<method name='CloseNotification'><arg type='u' direction='in'/></method>"
  "</interface></node>";

static void
notifyd_call (GDBusConnection       *connection,
              const char            *sender,
              const char            *path,
              const char            *interface,
              const char            *method,
              GVariant              *parameters,
              GDBusMethodInvocation *invocation,
              gpointer               data)
{
  FakeNotifyd *d = data;
  const char *caps[] = { "body", "body-markup", "actions", NULL };

  if (g_str_equal (method, "Notify"))
    {
      const char *body = NULL;

      g_variant_get_child (parameters, 4, "&s", &body);
      g_mutex_lock (&d->lock);
      g_string_append_printf (d->bodies, "%s\n", body);
      g_mutex_unlock (&d->lock);
      g_dbus_method_invocation_return_value (invocation, g_variant_new ("(u)", 1));
    }
  else if (g_str_equal (method, "GetServerInformation"))
    g_dbus_method_invocation_return_value (invocation,
                                           g_variant_new ("(ssss)", "fake", "ssq", "1", "1.2"));
  else if (g_str_equal (method, "GetCapabilities"))
    g_dbus_method_invocation_return_value (invocation, g_variant_new ("(^as)", caps));
  else
    g_dbus_method_invocation_return_value (invocation, NULL);
}

static FakeNotifyd *
fake_notifyd_start (void)
{
  FakeNotifyd *d = g_new0 (FakeNotifyd, 1);

  g_mutex_init (&d->lock);
  d->bodies = g_string_new (NULL);
  d->service = ssq_gtk_test_service_start (notifyd_xml, "/org/freedesktop/Notifications",
                                           "org.freedesktop.Notifications", notifyd_call, d);
  return d;
}

static void
fake_notifyd_free (FakeNotifyd *d)
{
  ssq_gtk_test_service_free (d->service);
  g_string_free (d->bodies, TRUE);
  g_mutex_clear (&d->lock);
  g_free (d);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FakeNotifyd, fake_notifyd_free)

typedef struct {
  FakeNotifyd *notifyd;
  const char  *body;
} NotifiedBody;

static gboolean
notified_body (gpointer data)
{
  NotifiedBody *w = data;
  g_autofree char *line = g_strconcat (w->body, "\n", NULL);
  gboolean found;

  g_mutex_lock (&w->notifyd->lock);
  found = strstr (w->notifyd->bodies->str, line) != NULL;
  g_mutex_unlock (&w->notifyd->lock);
  return found;
}

/* The app registers, gets a conversation from bob, answers, and shows his
 * reply; the main states are photographed on the way. */
static void
test_end_to_end (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, NULL);
  g_autoptr(SsqClient) bob = other_client (server, "bob");
  g_autoptr(FakeNotifyd) notifyd = fake_notifyd_start ();
  g_autoptr(SsqGtkApplication) app = ssq_gtk_application_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(SsqConversation) dm = NULL;
  g_autoptr(SsqConversation) lab = NULL;
  SsqGtkWindow *window;
  GtkWidget *register_button, *composer;
  AdwEntryRow *rows[3] = { NULL };
  const char *const members[] = { "alice", NULL };
  HasBody sent;
  guint n = 0;

  g_assert_true (g_application_register (G_APPLICATION (app), NULL, &error));
  g_application_activate (G_APPLICATION (app));
  window = the_window (G_APPLICATION (app));
  g_assert_nonnull (window);
  gtk_window_set_default_size (GTK_WINDOW (window), 1000, 640);
  ssq_test_wait_ms (300);

  /* The log-in page: fill it in as a person would, and register. */
  for (GtkWidget *w = ssq_gtk_test_find_by_type (GTK_WIDGET (window), ADW_TYPE_ENTRY_ROW, NULL); w != NULL && n < 3;)
    {
      rows[n++] = ADW_ENTRY_ROW (w);
      w = gtk_widget_get_next_sibling (w);
      while (w != NULL && !ADW_IS_ENTRY_ROW (w))
        w = gtk_widget_get_next_sibling (w);
    }
  g_assert_cmpuint (n, ==, 3);
  gtk_editable_set_text (GTK_EDITABLE (rows[0]), server->url);
  gtk_editable_set_text (GTK_EDITABLE (rows[1]), "alice");
  gtk_editable_set_text (GTK_EDITABLE (rows[2]), "password123");
  ssq_gtk_test_screenshot (GTK_WIDGET (window), "login.png");
  register_button = ssq_gtk_test_find_by_type (GTK_WIDGET (window), GTK_TYPE_BUTTON, "_Register");
  g_assert_nonnull (register_button);
  gtk_widget_activate (register_button);
  g_assert_true (ssq_test_wait_until (window_online, window, WAIT_MS));
  g_assert_cmpuint (ssq_gtk_test_count_unnamed (GTK_WIDGET (window)), ==, 0);

  /* Two conversations arrive from bob. */
  dm = ssq_gtk_test_direct (bob, "alice");
  ssq_client_create_group_async (bob, "Lab crew", members, NULL, ssq_test_store_result, &result);
  g_assert_true (ssq_test_wait_result (&result, WAIT_MS) != NULL);
  lab = ssq_client_conversation_finish (bob, result, &error);
  ssq_gtk_test_send_text (bob, ssq_conversation_get_id (lab), "Lunch at noon? https://lunch.lan/menu");
  ssq_gtk_test_send_text (bob, ssq_conversation_get_id (dm), "Hi Alice! Are you there?");
  sent = (HasBody) { ssq_gtk_window_get_client (window), ssq_conversation_get_id (dm), "Hi Alice! Are you there?" };
  g_assert_true (ssq_test_wait_until (client_has_body, &sent, WAIT_MS));
  ssq_gtk_test_screenshot (GTK_WIDGET (window), "conversations.png");

  /* Open the conversation, answer with the composer, see bob's reply. */
  ssq_gtk_window_select (window, ssq_conversation_get_id (dm));
  wait_shows (GTK_WIDGET (window), "Hi Alice! Are you there?");
  composer = ssq_gtk_window_get_composer (window);
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (GTK_TEXT_VIEW (composer)), "Yes, here. Grüße!", -1);
  g_assert_true (ssq_gtk_window_send_composer (window));
  sent = (HasBody) { bob, ssq_conversation_get_id (dm), "Yes, here. Grüße!" };
  g_assert_true (ssq_test_wait_until (client_has_body, &sent, WAIT_MS));
  ssq_gtk_test_send_text (bob, ssq_conversation_get_id (dm), "Great, see you at noon.");
  wait_shows (GTK_WIDGET (window), "Great, see you at noon.");
  wait_shows (GTK_WIDGET (window), "Yes, here. Grüße!");
  ssq_gtk_test_screenshot (GTK_WIDGET (window), "conversation.png");

  /* Files attached wait above the composer; each goes with its button. */
  {
    SsqGtkComposer *box = SSQ_GTK_COMPOSER (gtk_widget_get_ancestor (composer, SSQ_TYPE_GTK_COMPOSER));
    g_autofree char *dir = g_dir_make_tmp ("ssq-gtk-attach-XXXXXX", NULL);
    g_autoptr(GFile) photo = ssq_gtk_test_make_file (dir, "holiday-photo.jpg");
    g_autoptr(GFile) report = ssq_gtk_test_make_file (dir, "quarterly report.pdf");

    ssq_gtk_composer_add_file (box, photo);
    ssq_gtk_composer_add_file (box, report);
    g_assert_cmpuint (ssq_gtk_test_count_unnamed (GTK_WIDGET (window)), ==, 0);
    ssq_gtk_test_screenshot (GTK_WIDGET (window), "attachments.png");
    g_signal_emit_by_name (ssq_gtk_test_find_by_tooltip (GTK_WIDGET (window), "Remove holiday-photo.jpg"), "clicked");
    g_signal_emit_by_name (ssq_gtk_test_find_by_tooltip (GTK_WIDGET (window), "Remove quarterly report.pdf"), "clicked");
    g_assert_cmpuint (g_list_model_get_n_items (ssq_gtk_composer_get_attachments (box)), ==, 0);
    g_file_delete (photo, NULL, NULL);
    g_file_delete (report, NULL, NULL);
    g_rmdir (dir);
  }

  /* The open conversation stays highlighted while the list changes under
   * it: another conversation moves to the top, then this one comes back
   * to the top with a new message. */
  {
    Highlight h = { window, ssq_conversation_get_id (dm) };

    ssq_gtk_test_send_text (bob, ssq_conversation_get_id (lab), "Anyone for coffee?");
    sent = (HasBody) { ssq_gtk_window_get_client (window), ssq_conversation_get_id (lab), "Anyone for coffee?" };
    g_assert_true (ssq_test_wait_until (client_has_body, &sent, WAIT_MS));
    ssq_gtk_test_send_text (bob, ssq_conversation_get_id (dm), "Still there?");
    wait_shows (GTK_WIDGET (window), "Still there?");
    g_assert_true (ssq_test_wait_until (highlighted_first, &h, WAIT_MS));
    ssq_gtk_test_screenshot (GTK_WIDGET (window), "highlight.png");
  }

  /* A message elsewhere is notified, its body escaped: notification
   * servers read it as markup, and it must show as written. */
  {
    NotifiedBody saw = { notifyd, "&lt;b&gt;Fish&lt;/b&gt; &amp; chips?" };

    ssq_gtk_test_send_text (bob, ssq_conversation_get_id (lab), "<b>Fish</b> & chips?");
    if (!ssq_test_wait_until (notified_body, &saw, WAIT_MS))
      g_error ("no escaped body among the notifications:\n%s", notifyd->bodies->str);
  }

  /* The composer's keys: Enter sends, Shift+Enter does not, Up in an empty
   * composer takes the last message of mine for editing, Enter saves it. */
  {
    GtkTextBuffer *buffer = gtk_text_view_get_buffer (GTK_TEXT_VIEW (composer));
    g_autofree char *taken = NULL;
    GtkTextIter start, end;

    gtk_text_buffer_set_text (buffer, "line one", -1);
    g_assert_false (ssq_gtk_test_press (composer, GDK_KEY_Return, GDK_SHIFT_MASK));
    g_assert_true (ssq_gtk_test_press (composer, GDK_KEY_Return, 0));
    sent = (HasBody) { bob, ssq_conversation_get_id (dm), "line one" };
    g_assert_true (ssq_test_wait_until (client_has_body, &sent, WAIT_MS));
    g_assert_cmpint (gtk_text_buffer_get_char_count (buffer), ==, 0);
    /* Only an acknowledged message can be edited: wait for the app's ack. */
    sent.client = ssq_gtk_window_get_client (window);
    g_assert_true (ssq_test_wait_until (client_has_body, &sent, WAIT_MS));

    g_assert_true (ssq_gtk_test_press (composer, GDK_KEY_Up, 0));
    gtk_text_buffer_get_bounds (buffer, &start, &end);
    taken = gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
    g_assert_cmpstr (taken, ==, "line one");
    gtk_text_buffer_set_text (buffer, "line one, edited", -1);
    g_assert_true (ssq_gtk_test_press (composer, GDK_KEY_Return, 0));
    sent = (HasBody) { bob, ssq_conversation_get_id (dm), "line one, edited" };
    g_assert_true (ssq_test_wait_until (client_has_body, &sent, WAIT_MS));
    wait_shows (GTK_WIDGET (window), "line one, edited");
  }

  /* Narrow: the leaflet folds to the conversation alone. */
  gtk_window_set_default_size (GTK_WINDOW (window), 400, 640);
  ssq_test_wait_ms (500);
  ssq_gtk_test_screenshot (GTK_WIDGET (window), "narrow.png");
  gtk_window_set_default_size (GTK_WINDOW (window), 1000, 640);

  /* Dark style, and the conversation a notification's click opens (the
   * application action the notification calls). */
  adw_style_manager_set_color_scheme (adw_style_manager_get_default (), ADW_COLOR_SCHEME_FORCE_DARK);
  g_action_group_activate_action (G_ACTION_GROUP (app), "open-conversation",
                                  g_variant_new_string (ssq_conversation_get_id (lab)));
  g_assert_cmpstr (ssq_gtk_window_get_selected (window), ==, ssq_conversation_get_id (lab));
  wait_shows (GTK_WIDGET (window), "Lunch at noon? https://lunch.lan/menu");
  ssq_gtk_test_screenshot (GTK_WIDGET (window), "dark.png");
  adw_style_manager_set_color_scheme (adw_style_manager_get_default (), ADW_COLOR_SCHEME_DEFAULT);

  /* The search narrows the sidebar to the titles that match, and leaves
   * the titles whole. */
  {
    GtkWidget *search = ssq_gtk_test_find_by_type (GTK_WIDGET (window), GTK_TYPE_SEARCH_ENTRY, NULL);
    Listed lab_only = { window, "Lab crew", 1 }, both = { window, "Lab crew", 2 };

    gtk_editable_set_text (GTK_EDITABLE (search), "lab");
    g_assert_true (ssq_test_wait_until (sidebar_lists, &lab_only, WAIT_MS));
    gtk_editable_set_text (GTK_EDITABLE (search), "");
    g_assert_true (ssq_test_wait_until (sidebar_lists, &both, WAIT_MS));
  }

  /* Log out and in as someone else: nothing of alice's session is left
   * on screen, neither her open conversation nor her draft (text and
   * attachments) nor her search. */
  {
    GtkWidget *search = ssq_gtk_test_find_by_type (GTK_WIDGET (window), GTK_TYPE_SEARCH_ENTRY, NULL);
    GtkTextBuffer *buffer = gtk_text_view_get_buffer (GTK_TEXT_VIEW (composer));
    NewSession carol = { window, "carol" };

    SsqGtkComposer *box = SSQ_GTK_COMPOSER (gtk_widget_get_ancestor (composer, SSQ_TYPE_GTK_COMPOSER));
    g_autoptr(GFile) attached = g_file_new_for_path ("/nonexistent/alice.pdf");

    gtk_text_buffer_set_text (buffer, "a draft of alice's", -1);
    ssq_gtk_composer_add_file (box, attached);
    gtk_editable_set_text (GTK_EDITABLE (search), "Lab");
    g_action_group_activate_action (G_ACTION_GROUP (app), "logout", NULL);
    gtk_editable_set_text (GTK_EDITABLE (rows[1]), "carol");
    gtk_editable_set_text (GTK_EDITABLE (rows[2]), "password123");
    gtk_widget_activate (register_button);
    g_assert_true (ssq_test_wait_until (session_of, &carol, WAIT_MS));
    g_assert_null (ssq_gtk_window_get_selected (window));
    g_assert_cmpint (gtk_text_buffer_get_char_count (buffer), ==, 0);
    g_assert_cmpuint (g_list_model_get_n_items (ssq_gtk_composer_get_attachments (box)), ==, 0);
    g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (search)), ==, "");
    ssq_gtk_test_screenshot (GTK_WIDGET (window), "new-session.png");
  }

  gtk_window_destroy (GTK_WINDOW (window));
  ssq_test_wait_ms (100);
}

static gboolean
chooser_open (gpointer data)
{
  GtkFileChooser **chooser = data;
  GListModel *toplevels = gtk_window_get_toplevels ();

  for (guint i = 0; i < g_list_model_get_n_items (toplevels) && *chooser == NULL; i++)
    {
      g_autoptr(GtkWidget) w = g_list_model_get_item (toplevels, i);

      if (GTK_IS_FILE_CHOOSER_DIALOG (w) && gtk_widget_get_visible (w))
        *chooser = GTK_FILE_CHOOSER (w);
    }
  return *chooser != NULL;
}

static gboolean
chooser_has_selection (gpointer data)
{
  g_autoptr(GListModel) files = gtk_file_chooser_get_files (data);

  return g_list_model_get_n_items (files) > 0;
}

static gboolean
has_attachments (gpointer data)
{
  return g_list_model_get_n_items (data) > 0;
}

/* The composer's pending attachments: each file once, in the order
 * added, a chip each with its name (readable even when the name on disk
 * is not UTF-8) and a remove button that takes it out; the strip hides
 * when none is left. */
static void
test_attachments (void)
{
  g_autofree char *dir = g_dir_make_tmp ("ssq-gtk-attach-XXXXXX", NULL);
  g_autoptr(GFile) photo = ssq_gtk_test_make_file (dir, "photo.jpg");
  g_autoptr(GFile) report = ssq_gtk_test_make_file (dir, "report.pdf");
  g_autoptr(GFile) latin1 = ssq_gtk_test_make_file (dir, "caf\xe9.txt");
  g_autoptr(GFile) photo_again = g_file_dup (photo);
  GtkWidget *composer = g_object_ref_sink (g_object_new (SSQ_TYPE_GTK_COMPOSER, NULL));
  GListModel *attachments = ssq_gtk_composer_get_attachments (SSQ_GTK_COMPOSER (composer));
  GtkWidget *strip = ssq_gtk_test_find_by_type (composer, SSQ_TYPE_GTK_ATTACHMENT_STRIP, NULL);
  g_autoptr(GString) labels = g_string_new (NULL);
  g_autoptr(GFile) first = NULL, second = NULL;
  GtkWidget *remove;

  g_assert_nonnull (strip);
  g_assert_cmpuint (g_list_model_get_n_items (attachments), ==, 0);
  g_assert_false (gtk_widget_get_visible (strip));

  ssq_gtk_composer_add_file (SSQ_GTK_COMPOSER (composer), photo);
  ssq_gtk_composer_add_file (SSQ_GTK_COMPOSER (composer), report);
  ssq_gtk_composer_add_file (SSQ_GTK_COMPOSER (composer), latin1);
  ssq_gtk_composer_add_file (SSQ_GTK_COMPOSER (composer), photo_again);
  g_assert_cmpuint (g_list_model_get_n_items (attachments), ==, 3);
  g_assert_true (gtk_widget_get_visible (strip));
  ssq_gtk_test_collect_labels (strip, labels);
  g_assert_cmpstr (labels->str, ==, "photo.jpg\nreport.pdf\ncaf\xef\xbf\xbd.txt\n");
  g_assert_cmpuint (ssq_gtk_test_count_unnamed (composer), ==, 0);

  remove = ssq_gtk_test_find_by_tooltip (strip, "Remove report.pdf");
  g_assert_nonnull (remove);
  g_signal_emit_by_name (remove, "clicked");
  g_assert_cmpuint (g_list_model_get_n_items (attachments), ==, 2);
  first = g_list_model_get_item (attachments, 0);
  second = g_list_model_get_item (attachments, 1);
  g_assert_true (g_file_equal (first, photo));
  g_assert_true (g_file_equal (second, latin1));
  g_clear_object (&first);
  g_signal_emit_by_name (ssq_gtk_test_find_by_tooltip (strip, "Remove photo.jpg"), "clicked");
  g_signal_emit_by_name (ssq_gtk_test_find_by_tooltip (strip, "Remove caf\xef\xbf\xbd.txt"), "clicked");
  g_assert_cmpuint (g_list_model_get_n_items (attachments), ==, 0);
  g_assert_false (gtk_widget_get_visible (strip));

  /* The attach button's chooser (GTK's own dialog here: no portal under
   * the test's bus) adds what is picked. */
  {
    GtkWidget *window = gtk_window_new ();
    GtkWidget *attach = ssq_gtk_test_find_by_tooltip (composer, "Attach Files");
    GtkFileChooser *chooser = NULL;

    gtk_window_set_child (GTK_WINDOW (window), composer);
    gtk_window_present (GTK_WINDOW (window));
    g_assert_nonnull (attach);
    g_signal_emit_by_name (attach, "clicked");
    g_assert_true (ssq_test_wait_until (chooser_open, &chooser, WAIT_MS));
    g_assert_true (gtk_file_chooser_get_select_multiple (chooser));
    g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (chooser)), ==, "Attach Files");
    g_assert_true (gtk_file_chooser_set_file (chooser, report, NULL));
    g_assert_true (ssq_test_wait_until (chooser_has_selection, chooser, WAIT_MS));
    gtk_dialog_response (GTK_DIALOG (chooser), GTK_RESPONSE_ACCEPT);
    g_assert_true (ssq_test_wait_until (has_attachments, attachments, WAIT_MS));
    first = g_list_model_get_item (attachments, 0);
    g_assert_true (g_file_equal (first, report));
    gtk_window_destroy (GTK_WINDOW (window));
  }

  g_object_unref (composer);
  g_file_delete (photo, NULL, NULL);
  g_file_delete (report, NULL, NULL);
  g_file_delete (latin1, NULL, NULL);
  g_rmdir (dir);
}

/* The rows, bound to snapshots from a real cache. */
static void
test_rows (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, NULL);
  g_autoptr(SsqClient) alice = other_client (server, "alice");
  g_autoptr(SsqClient) bob = other_client (server, "bob");
  g_autoptr(SsqConversation) dm = NULL;
  g_autoptr(SsqConversation) seen = NULL;
  g_autoptr(SsqMessage) first = NULL, second = NULL;
  GtkWidget *conversation_row = g_object_ref_sink (ssq_gtk_conversation_row_new ());
  GtkWidget *message_row = g_object_ref_sink (ssq_gtk_message_row_new ());
  g_autofree char *links = ssq_gtk_linkify ("see https://a.lan/x?y=1&z=2. <b>now</b>");
  HasBody got;

  g_assert_cmpstr (links, ==, "see <a href=\"https://a.lan/x?y=1&amp;z=2\">https://a.lan/x?y=1&amp;z=2</a>. "
                              "&lt;b&gt;now&lt;/b&gt;");
  dm = ssq_gtk_test_direct (alice, "bob");
  ssq_gtk_test_send_text (alice, ssq_conversation_get_id (dm), "one");
  ssq_gtk_test_send_text (alice, ssq_conversation_get_id (dm), "two <i>not markup</i>");
  got = (HasBody) { bob, ssq_conversation_get_id (dm), "two <i>not markup</i>" };
  g_assert_true (ssq_test_wait_until (client_has_body, &got, WAIT_MS));
  got.client = alice;   /* and alice has the acknowledgement */
  g_assert_true (ssq_test_wait_until (client_has_body, &got, WAIT_MS));

  /* bob's view: unread badge and preview. */
  seen = ssq_cache_get_conversation (ssq_client_get_cache (bob), ssq_conversation_get_id (dm));
  ssq_gtk_conversation_row_bind (SSQ_GTK_CONVERSATION_ROW (conversation_row), bob, seen);
  /* Presence, shown as a coloured dot, is in the row's name too. */
  {
    g_autoptr(SsqUser) peer = ssq_cache_get_user (ssq_client_get_cache (bob), ssq_conversation_get_peer_id (seen));
    const char *presence = peer ? ssq_user_get_presence (peer) : NULL;
    g_autofree char *expected = NULL;

    g_assert_nonnull (presence);
    expected = g_strdup_printf ("alice, 2 unread messages, %s", presence);
    g_test_message ("conversation row: %s", expected);
    gtk_test_accessible_assert_property (conversation_row, GTK_ACCESSIBLE_PROPERTY_LABEL, expected);
  }
  /* alice's own message: its status; the second groups under the first. */
  first = ssq_cache_get_message (ssq_client_get_cache (alice), ssq_conversation_get_id (dm), 1);
  second = ssq_cache_get_message (ssq_client_get_cache (alice), ssq_conversation_get_id (dm), 2);
  g_assert_nonnull (second);
  ssq_gtk_message_row_bind (SSQ_GTK_MESSAGE_ROW (message_row), alice, second, first);
  g_assert_cmpstr (ssq_gtk_message_row_get_body_text (SSQ_GTK_MESSAGE_ROW (message_row)), ==,
                   "two <i>not markup</i>");
  g_assert_true (g_str_has_suffix (ssq_gtk_message_row_get_status_text (SSQ_GTK_MESSAGE_ROW (message_row)),
                                   "Sent") ||
                 g_str_has_suffix (ssq_gtk_message_row_get_status_text (SSQ_GTK_MESSAGE_ROW (message_row)),
                                   "Delivered"));
  ssq_client_mark_read (bob, ssq_conversation_get_id (dm), 2);
  for (int i = 0; i < 100; i++)
    {
      g_clear_object (&second);
      second = ssq_cache_get_message (ssq_client_get_cache (alice), ssq_conversation_get_id (dm), 2);
      if (ssq_message_get_status (second) == SSQ_MESSAGE_READ)
        break;
      ssq_test_wait_ms (50);
    }
  ssq_gtk_message_row_bind (SSQ_GTK_MESSAGE_ROW (message_row), alice, second, first);
  g_assert_cmpstr (ssq_gtk_message_row_get_status_text (SSQ_GTK_MESSAGE_ROW (message_row)), ==, "Read");
  g_object_unref (conversation_row);
  g_object_unref (message_row);
}

int
main (int    argc,
      char **argv)
{
  g_autofree char *root = ssq_gtk_test_make_home ("ssq-gtk-XXXXXX");
  int status;

  gtk_test_init (&argc, &argv, NULL);
  adw_init ();
  g_test_add_func ("/gtk/rows", test_rows);
  g_test_add_func ("/gtk/attachments", test_attachments);
  g_test_add_func ("/gtk/end-to-end", test_end_to_end);
  status = g_test_run ();
  ssq_test_remove_tree (root);
  return status;
}
