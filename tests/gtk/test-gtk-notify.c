/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-gtk-notify.c: the desktop client's notifications under Xvfb, on
 * the test's own session bus (dbus-run-session), against the real server.
 * A stand-in for GNOME Shell's notification daemon owns
 * org.gtk.Notifications on its own connection: GLib's GNotification
 * sends there when someone owns it. It records what the app sends and
 * withdraws, and clicks as the shell does, by calling the notification's
 * default action on the application's bus name
 * (org.freedesktop.Application.ActivateAction): on an app that is running
 * and on one just started for the click, with no window yet. */
#include <adwaita.h>
#include <glib/gstdio.h>
#include <string.h>

#include "ssq-gtk-application.h"
#include "ssq-gtk-secret.h"
#include "ssq-gtk-window.h"
#include "ssq-gtk-test-bus.h"
#include "ssq-gtk-test-util.h"
#include "ssq-test-images.h"
#include "ssq-test-server.h"

#define WAIT_MS 10000

static char *root;   /* the test's home: XDG dirs */

/* ---- The stand-in daemon --------------------------------------------- */

typedef struct {
  char *op;        /* "add" or "remove" */
  char *app_id;
  char *id;
  char *title;
  char *body;
  char *action;    /* the default action */
  char *target;    /* its target, as GVariant text */
} Note;

typedef struct {
  SsqGtkTestService *service;
  GMutex             lock;
  GPtrArray         *notes;    /* Note, in the order they came */
} FakeShell;

static void
note_free (Note *n)
{
  g_free (n->op);
  g_free (n->app_id);
  g_free (n->id);
  g_free (n->title);
  g_free (n->body);
  g_free (n->action);
  g_free (n->target);
  g_free (n);
}

static const char shell_xml[] =
  "<node><interface name='org.gtk.Notifications'>"
  "<method name='AddNotification'><arg type='s' direction='in'/><arg type='s' direction='in'/>"
  "<arg type='a{sv}' direction='in'/></method>"
  "<method name='RemoveNotification'><arg type='s' direction='in'/><arg type='s' direction='in'/></method>"
  "</interface></node>";

static char *
lookup_string (GVariant   *dict,
               const char *key)
{
  const char *value = NULL;

  return g_variant_lookup (dict, key, "&s", &value) ? g_strdup (value) : NULL;
}

static void
shell_call (GDBusConnection       *connection,
            const char            *sender,
            const char            *path,
            const char            *interface,
            const char            *method,
            GVariant              *parameters,
            GDBusMethodInvocation *invocation,
            gpointer               data)
{
  FakeShell *s = data;
  Note *n = g_new0 (Note, 1);

  if (g_str_equal (method, "AddNotification"))
    {
      g_autoptr(GVariant) dict = g_variant_get_child_value (parameters, 2);
      g_autoptr(GVariant) target = g_variant_lookup_value (dict, "default-action-target", NULL);

      n->op = g_strdup ("add");
      n->title = lookup_string (dict, "title");
      n->body = lookup_string (dict, "body");
      n->action = lookup_string (dict, "default-action");
      n->target = target ? g_variant_print (target, FALSE) : NULL;
    }
  else
    n->op = g_strdup ("remove");
  g_variant_get_child (parameters, 0, "s", &n->app_id);
  g_variant_get_child (parameters, 1, "s", &n->id);
  g_mutex_lock (&s->lock);
  g_ptr_array_add (s->notes, n);
  g_mutex_unlock (&s->lock);
  g_dbus_method_invocation_return_value (invocation, NULL);
}

static FakeShell *
fake_shell_start (void)
{
  FakeShell *s = g_new0 (FakeShell, 1);

  g_mutex_init (&s->lock);
  s->notes = g_ptr_array_new_with_free_func ((GDestroyNotify) note_free);
  s->service = ssq_gtk_test_service_start (shell_xml, "/org/gtk/Notifications", "org.gtk.Notifications",
                                           shell_call, s);
  return s;
}

static void
fake_shell_free (FakeShell *s)
{
  ssq_gtk_test_service_free (s->service);
  g_ptr_array_unref (s->notes);
  g_mutex_clear (&s->lock);
  g_free (s);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FakeShell, fake_shell_free)

typedef struct {
  FakeShell  *shell;
  const char *op;
  const char *body;   /* for "add"; NULL: any */
  const char *id;
  Note        found;  /* a copy of the first match, strings borrowed */
} Wanted;

static gboolean
shell_has (gpointer data)
{
  Wanted *w = data;
  gboolean found = FALSE;

  g_mutex_lock (&w->shell->lock);
  for (guint i = 0; i < w->shell->notes->len && !found; i++)
    {
      Note *n = w->shell->notes->pdata[i];

      found = g_str_equal (n->op, w->op) && g_strcmp0 (n->id, w->id) == 0 &&
              (w->body == NULL || g_strcmp0 (n->body, w->body) == 0);
      if (found)
        w->found = *n;
    }
  g_mutex_unlock (&w->shell->lock);
  return found;
}

static void
shell_dump (FakeShell *s)
{
  g_mutex_lock (&s->lock);
  for (guint i = 0; i < s->notes->len; i++)
    {
      Note *n = s->notes->pdata[i];

      g_test_message ("%s %s %s: %s / %s (%s %s)", n->op, n->app_id, n->id, n->title, n->body, n->action,
                      n->target);
    }
  g_mutex_unlock (&s->lock);
}

/* The shell's click: the notification's default action, called on the
 * application by its bus name, which D-Bus would start if it were not
 * running. */
static void
shell_click (FakeShell  *s,
             const char *app_id,
             const char *action,
             const char *target)
{
  g_autofree char *path = g_strconcat ("/", app_id, NULL);
  g_autoptr(GVariantBuilder) parameters = g_variant_builder_new (G_VARIANT_TYPE ("av"));
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;

  g_strdelimit (path, ".", '/');
  g_assert_true (g_str_has_prefix (action, "app."));
  g_variant_builder_add (parameters, "v", g_variant_new_string (target));
  g_dbus_connection_call (ssq_gtk_test_service_get_bus (s->service), app_id, path, "org.freedesktop.Application", "ActivateAction",
                          g_variant_new ("(sava{sv})", action + 4, parameters, NULL), NULL,
                          G_DBUS_CALL_FLAGS_NONE, WAIT_MS, NULL, ssq_test_store_result, &result);
  g_assert_nonnull (ssq_test_wait_result (&result, WAIT_MS));
  reply = g_dbus_connection_call_finish (ssq_gtk_test_service_get_bus (s->service), result, &error);
  g_assert_no_error (error);
}

/* ---- The app and the people ------------------------------------------ */

static gboolean
synced (gpointer data)
{
  return ssq_client_is_synced (data);
}

static void
send_files (SsqClient  *from,
            const char *conversation_id,
            const char *body,
            const char *path)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(SsqMessage) pending = NULL;
  GFile *files[] = { file };

  ssq_client_send_message_with_media_async (from, conversation_id, body, 0, files, path ? 1 : 0, NULL,
                                            ssq_test_store_result, &result);
  g_assert_true (ssq_test_wait_result (&result, WAIT_MS) != NULL);
  pending = ssq_client_send_message_with_media_finish (from, result, &error);
  g_assert_no_error (error);
}

static SsqGtkWindow *
app_window (GApplication *app)
{
  GList *windows = gtk_application_get_windows (GTK_APPLICATION (app));

  return windows != NULL ? SSQ_GTK_WINDOW (windows->data) : NULL;
}

typedef struct {
  GApplication *app;
  const char   *conversation_id;
} Opened;

/* The app has a window, on a session, with the conversation open. */
static gboolean
conversation_open (gpointer data)
{
  Opened *o = data;
  SsqGtkWindow *window = app_window (o->app);

  return window != NULL && ssq_gtk_window_get_client (window) != NULL &&
         g_strcmp0 (ssq_gtk_window_get_selected (window), o->conversation_id) == 0;
}

static void
wait_shell (Wanted *w)
{
  if (ssq_test_wait_until (shell_has, w, 3 * WAIT_MS))
    return;
  shell_dump (w->shell);
  g_error ("no %s of %s with body %s", w->op, w->id, w->body);
}

/* ---- Tests ------------------------------------------------------------ */

/* The app, running with its window on another conversation, notifies what
 * bob sends (a photo, a file, text with markup characters) under one id
 * per conversation, with the conversation's action; the click opens it,
 * which reads it, and the notification is withdrawn. */
static void
test_sent_and_opened (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, NULL);
  g_autoptr(SsqClient) bob = ssq_gtk_test_client (server, root, "bob", TRUE);
  g_autoptr(SsqClient) carol = ssq_gtk_test_client (server, root, "carol", TRUE);
  g_autoptr(SsqClient) alice = ssq_gtk_test_client (server, NULL, "alice", FALSE);
  g_autoptr(FakeShell) shell = fake_shell_start ();
  g_autoptr(SsqGtkApplication) app = ssq_gtk_application_new ();
  g_autoptr(SsqConversation) dm = NULL, other = NULL;
  g_autoptr(GSettings) settings = g_settings_new (SSQ_GTK_APP_ID);
  g_autoptr(GError) error = NULL;
  g_autofree char *photo = g_build_filename (root, "lake.png", NULL);
  g_autofree char *report = g_build_filename (root, "report.pdf", NULL);
  g_autofree char *id = NULL, *target = NULL;
  const char *app_id = "org.supersoniq.Supersoniq.Running";
  Wanted w = { shell, "add", NULL, NULL };
  Opened opened = { G_APPLICATION (app), NULL };

  {
    g_autoptr(GdkPixbuf) picture = ssq_test_image_marked (64, 48, FALSE);

    ssq_test_image_save (picture, photo, "png");
    g_assert_true (g_file_set_contents (report, "%PDF-1.4\n%%EOF\n", -1, NULL));
  }
  /* No session to restore: the log-in below is the session. */
  g_settings_reset (settings, "last-server");
  g_settings_reset (settings, "last-username");
  g_application_set_application_id (G_APPLICATION (app), app_id);
  g_application_register (G_APPLICATION (app), NULL, &error);
  g_assert_no_error (error);
  g_application_activate (G_APPLICATION (app));
  ssq_gtk_application_session_started (app, alice);
  g_assert_true (ssq_test_wait_until (synced, alice, WAIT_MS));
  dm = ssq_gtk_test_direct (bob, "alice");
  other = ssq_gtk_test_direct (carol, "alice");
  opened.conversation_id = ssq_conversation_get_id (dm);
  /* The window shows carol's conversation, not bob's. */
  ssq_gtk_window_select (app_window (G_APPLICATION (app)), ssq_conversation_get_id (other));

  id = g_strconcat ("conversation-", ssq_conversation_get_id (dm), NULL);
  target = g_strdup_printf ("'%s'", ssq_conversation_get_id (dm));
  w.id = id;
  send_files (bob, ssq_conversation_get_id (dm), "", photo);
  w.body = "bob sent a photo";
  wait_shell (&w);
  g_assert_cmpstr (w.found.app_id, ==, app_id);
  g_assert_cmpstr (w.found.title, ==, "bob");
  g_assert_cmpstr (w.found.action, ==, "app.open-conversation");
  g_assert_cmpstr (w.found.target, ==, target);

  send_files (bob, ssq_conversation_get_id (dm), "for Monday", report);
  w.body = "bob sent report.pdf\nfor Monday";
  wait_shell (&w);

  /* Plain text to this daemon: shown as written, not as markup. */
  ssq_gtk_test_send_text (bob, ssq_conversation_get_id (dm), "<b>Fish</b> & chips?");
  w.body = "<b>Fish</b> & chips?";
  wait_shell (&w);

  /* The click opens the conversation; read, its notification goes. */
  shell_click (shell, w.found.app_id, w.found.action, ssq_conversation_get_id (dm));
  g_assert_true (ssq_test_wait_until (conversation_open, &opened, WAIT_MS));
  w.op = "remove";
  w.body = NULL;
  wait_shell (&w);
  g_assert_cmpstr (w.found.app_id, ==, app_id);
  shell_dump (shell);

  gtk_window_destroy (GTK_WINDOW (app_window (G_APPLICATION (app))));
  ssq_test_wait_ms (100);
  ssq_client_disconnect (bob);
  ssq_client_disconnect (carol);
}

/* Started for a click (as D-Bus starts it with --gapplication-service):
 * registered, no window, the session saved by an earlier run. The action
 * makes the window, the session comes back, and the conversation opens. */
static void
test_click_starts_app (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, NULL);
  g_autoptr(SsqClient) bob = ssq_gtk_test_client (server, root, "bob", TRUE);
  g_autoptr(SsqClient) alice = ssq_gtk_test_client (server, NULL, "alice", FALSE);
  g_autoptr(FakeShell) shell = fake_shell_start ();
  g_autoptr(SsqGtkApplication) app = ssq_gtk_application_new ();
  g_autoptr(SsqConversation) dm = ssq_gtk_test_direct (bob, "alice");
  g_autoptr(GSettings) settings = g_settings_new (SSQ_GTK_APP_ID);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  Opened opened = { G_APPLICATION (app), ssq_conversation_get_id (dm) };

  /* What the last run left: the account in the settings, its token in
   * the keyring. */
  g_settings_set_string (settings, "last-server", server->url);
  g_settings_set_string (settings, "last-username", "alice");
  ssq_gtk_secret_store_async (server->url, "alice", ssq_client_get_user_id (alice), ssq_client_get_token (alice),
                              NULL, ssq_test_store_result, &result);
  g_assert_nonnull (ssq_test_wait_result (&result, WAIT_MS));
  g_assert_true (ssq_gtk_secret_store_finish (result, &error));
  g_assert_no_error (error);
  ssq_gtk_test_send_text (bob, ssq_conversation_get_id (dm), "Are you there?");

  g_application_register (G_APPLICATION (app), NULL, &error);
  g_assert_no_error (error);
  g_assert_null (app_window (G_APPLICATION (app)));
  shell_click (shell, SSQ_GTK_APP_ID, "app.open-conversation", ssq_conversation_get_id (dm));
  if (!ssq_test_wait_until (conversation_open, &opened, 3 * WAIT_MS))
    g_error ("the click did not open the conversation (window %p, selected %s)",
             (gpointer) app_window (G_APPLICATION (app)),
             app_window (G_APPLICATION (app)) ? ssq_gtk_window_get_selected (app_window (G_APPLICATION (app)))
                                              : "-");
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (app_window (G_APPLICATION (app)))));

  gtk_window_destroy (GTK_WINDOW (app_window (G_APPLICATION (app))));
  ssq_test_wait_ms (100);
  ssq_client_disconnect (bob);
}

int
main (int    argc,
      char **argv)
{
  int status;

  root = ssq_gtk_test_make_home ("ssq-gtk-notify-XXXXXX");
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();
  /* The app with the real id first: it stays registered to the end. */
  g_test_add_func ("/gtk/notify/click-starts-app", test_click_starts_app);
  g_test_add_func ("/gtk/notify/sent-and-opened", test_sent_and_opened);
  status = g_test_run ();
  ssq_test_remove_tree (root);
  g_free (root);
  return status;
}
