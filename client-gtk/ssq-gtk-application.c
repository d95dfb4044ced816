/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-gtk-application.c: the desktop client's application: single
 * instance (GApplication, D-Bus activatable), settings, the saved
 * session (libsecret), notifications (ssq-gtk-notifier.c), and invite
 * links opened (supersoniq://, the desktop file's scheme handler). */
#include "ssq-config.h"
#include "ssq-gtk-application.h"

#include <glib/gi18n.h>
#include "ssq-display.h"
#include "ssq-gtk-dialogs.h"
#include "ssq-gtk-media-text.h"
#include "ssq-gtk-notifier.h"
#include "ssq-gtk-paste.h"
#include "ssq-gtk-secret.h"
#include "ssq-gtk-window.h"

struct _SsqGtkApplication
{
  AdwApplication  parent_instance;
  GSettings      *settings;
  SsqClient      *client;
  SsqGtkWindow   *window;
  SsqGtkNotifier *notifier;
  char           *opening;   /* a conversation to open once the session runs */
  gboolean        insecure;  /* --insecure: plain http:// to any host */
};

G_DEFINE_FINAL_TYPE (SsqGtkApplication, ssq_gtk_application, ADW_TYPE_APPLICATION)

GSettings *
ssq_gtk_application_get_settings (SsqGtkApplication *self)
{
  return self->settings;
}

static void
apply_color_scheme (SsqGtkApplication *self)
{
  g_autofree char *scheme = self->settings ? g_settings_get_string (self->settings, "color-scheme") : NULL;
  AdwColorScheme value = ADW_COLOR_SCHEME_DEFAULT;

  if (g_strcmp0 (scheme, "light") == 0)
    value = ADW_COLOR_SCHEME_FORCE_LIGHT;
  else if (g_strcmp0 (scheme, "dark") == 0)
    value = ADW_COLOR_SCHEME_FORCE_DARK;
  adw_style_manager_set_color_scheme (adw_style_manager_get_default (), value);
}

/**
 * ssq_gtk_application_new_client:
 * @self: (nullable): the application; NULL (a widget not in one of its
 *   windows) gives a client with the library's defaults
 * @server_url: the server
 *
 * A client for @server_url as the user started the app: every client the
 * app makes comes from here, so that a command-line choice such as
 * --insecure holds for all of them (the saved session, log-in, joining).
 *
 * Returns: (transfer full): the client, not logged in
 */
SsqClient *
ssq_gtk_application_new_client (SsqGtkApplication *self,
                                const char        *server_url)
{
  SsqClient *client;

  g_return_val_if_fail (self == NULL || SSQ_IS_GTK_APPLICATION (self), NULL);
  g_return_val_if_fail (server_url != NULL, NULL);

  client = ssq_client_new (server_url, NULL);
  if (self != NULL && self->insecure)
    g_object_set (client, "insecure", TRUE, NULL);
  return client;
}

/**
 * ssq_gtk_application_new_client_for:
 * @widget: a widget of one of the app's windows
 * @server_url: the server
 *
 * As ssq_gtk_application_new_client (), for the application of @widget's
 * window.
 *
 * Returns: (transfer full): the client, not logged in
 */
SsqClient *
ssq_gtk_application_new_client_for (GtkWidget  *widget,
                                    const char *server_url)
{
  GtkRoot *root = gtk_widget_get_root (widget);
  GtkApplication *app = GTK_IS_WINDOW (root) ? gtk_window_get_application (GTK_WINDOW (root)) : NULL;

  return ssq_gtk_application_new_client (SSQ_IS_GTK_APPLICATION (app) ? SSQ_GTK_APPLICATION (app) : NULL,
                                         server_url);
}

/* Notifications. */

/**
 * ssq_gtk_application_notification_text:
 * @message: a message received
 * @sender: who sent it, as shown
 *
 * The text of its notification, plain (escape it for the server): its
 * body, or for a message with attachments what they are ("bob sent a
 * photo", "bob sent report.pdf") with the body, if any, under it.
 *
 * Returns: (transfer full): the text
 */
char *
ssq_gtk_application_notification_text (SsqMessage *message,
                                        const char *sender)
{
  guint n = ssq_message_get_n_media (message);
  g_autofree SsqGtkMediaItem *items = NULL;
  g_autofree char *media = NULL;
  const char *body = ssq_message_get_body (message);

  g_return_val_if_fail (SSQ_IS_MESSAGE (message), NULL);
  g_return_val_if_fail (sender != NULL, NULL);

  if (n == 0)
    return g_strdup (body);
  items = g_new0 (SsqGtkMediaItem, n);
  for (guint i = 0; i < n; i++)
    {
      items[i].name = ssq_media_get_name (ssq_message_get_media (message, i));
      items[i].mime = ssq_media_get_mime (ssq_message_get_media (message, i));
    }
  media = ssq_gtk_media_text_notification (sender, items, n);
  if (body == NULL || *body == '\0')
    return g_steal_pointer (&media);
  return g_strdup_printf ("%s\n%s", media, body);
}

/* The client library flags what deserves a notification, by the server's
 * rule (it leaves out muted conversations); show it unless the
 * conversation is in front of the user. */
static void
notification_cb (SsqClient         *client,
                 const char        *conversation_id,
                 gint64             seq,
                 const char        *reason,
                 SsqGtkApplication *self)
{
  g_autoptr(SsqMessage) message = ssq_cache_get_message (ssq_client_get_cache (client), conversation_id, seq);
  g_autoptr(SsqConversation) conversation = ssq_cache_get_conversation (ssq_client_get_cache (client), conversation_id);
  g_autoptr(SsqUser) sender = NULL;
  g_autofree char *summary = NULL, *text = NULL;

  if (message == NULL || conversation == NULL || ssq_conversation_get_muted (conversation))
    return;
  if (self->settings != NULL && !g_settings_get_boolean (self->settings, "notifications"))
    return;
  if (self->window != NULL && gtk_window_is_active (GTK_WINDOW (self->window)) &&
      g_strcmp0 (ssq_gtk_window_get_selected (self->window), conversation_id) == 0)
    return;
  sender = ssq_cache_get_user (ssq_client_get_cache (client), ssq_message_get_sender (message));
  summary = ssq_conversation_is_direct (conversation)
            ? g_strdup (sender ? ssq_user_get_display_name (sender) : "?")
            : g_strdup_printf ("%s — %s", sender ? ssq_user_get_display_name (sender) : "?",
                               ssq_conversation_get_display_title (conversation));
  text = ssq_gtk_application_notification_text (message, sender ? ssq_user_get_display_name (sender) : "?");
  ssq_gtk_notifier_show (self->notifier, conversation_id, summary, text);
}

/* A conversation read, here or on another device, needs its notification
 * no more. */
static void
conversation_cb (SsqClient         *client,
                 SsqConversation   *conversation,
                 SsqGtkApplication *self)
{
  if (ssq_conversation_get_unread (conversation) == 0)
    ssq_gtk_notifier_withdraw (self->notifier, ssq_conversation_get_id (conversation));
}

/* Sessions. */

/* A conversation asked for (a notification's click) before the session
 * was back, as when the click started the app. */
static void
open_waiting (SsqGtkApplication *self)
{
  if (self->opening == NULL || self->window == NULL || ssq_gtk_window_get_client (self->window) == NULL)
    return;
  ssq_gtk_window_select (self->window, self->opening);
  g_clear_pointer (&self->opening, g_free);
}

static void
use_client (SsqGtkApplication *self,
            SsqClient         *client)
{
  if (self->client != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->client, self);
      ssq_client_disconnect (self->client);
    }
  /* What was notified belongs to the session before. */
  ssq_gtk_notifier_withdraw_all (self->notifier);
  g_set_object (&self->client, client);
  g_signal_connect (client, "notification", G_CALLBACK (notification_cb), self);
  g_signal_connect (client, "conversation", G_CALLBACK (conversation_cb), self);
  ssq_gtk_window_set_client (self->window, client);
  ssq_client_connect (client);
  open_waiting (self);
}

static void
secret_stored_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(SsqGtkApplication) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!ssq_gtk_secret_store_finish (result, &error) && self->window != NULL)
    ssq_gtk_window_toast (self->window, _("The session could not be saved in the keyring; "
                                          "you will have to log in again next time"));
}

/* A successful log-in or registration from the window. */
void
ssq_gtk_application_session_started (SsqGtkApplication *self,
                                     SsqClient         *client)
{
  ssq_gtk_secret_store_async (ssq_client_get_server_url (client), ssq_client_get_username (client),
                              ssq_client_get_user_id (client), ssq_client_get_token (client), NULL,
                              secret_stored_cb, g_object_ref (self));
  if (self->settings != NULL)
    {
      g_settings_set_string (self->settings, "last-server", ssq_client_get_server_url (client));
      g_settings_set_string (self->settings, "last-username", ssq_client_get_username (client));
    }
  use_client (self, client);
}

static void
secret_found_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(SsqGtkApplication) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *user_id = NULL, *token = NULL;
  g_autofree char *server = g_settings_get_string (self->settings, "last-server");
  g_autofree char *username = g_settings_get_string (self->settings, "last-username");
  g_autoptr(SsqClient) client = NULL;

  if (!ssq_gtk_secret_lookup_finish (result, &user_id, &token, &error))
    {
      ssq_gtk_window_show_login (self->window, server, username, NULL);
      return;
    }
  client = ssq_gtk_application_new_client (self, server);
  if (!ssq_client_set_session (client, username, user_id, token, &error))
    {
      ssq_gtk_window_show_login (self->window, server, username, error->message);
      return;
    }
  use_client (self, client);
}

static void
restore_session (SsqGtkApplication *self)
{
  g_autofree char *server = NULL, *username = NULL;

  if (self->settings != NULL)
    {
      server = g_settings_get_string (self->settings, "last-server");
      username = g_settings_get_string (self->settings, "last-username");
    }
  if (server == NULL || *server == '\0' || username == NULL || *username == '\0')
    {
      ssq_gtk_window_show_login (self->window, server && *server ? server : NULL, NULL, NULL);
      return;
    }
  ssq_gtk_secret_lookup_async (server, username, NULL, secret_found_cb, g_object_ref (self));
}

/* Actions. */

static void
quit_action (GSimpleAction *action,
             GVariant      *param,
             gpointer       user_data)
{
  g_application_quit (G_APPLICATION (user_data));
}

static void
about_action (GSimpleAction *action,
              GVariant      *param,
              gpointer       user_data)
{
  SsqGtkApplication *self = user_data;
  const char *developers[] = { "The SupersoniQ developers", NULL };

  adw_show_about_window (GTK_WINDOW (self->window),
                         "application-name", "SupersoniQ",
                         "application-icon", SSQ_GTK_APP_ID,
                         "version", SSQ_VERSION,
                         "developer-name", _("The SupersoniQ developers"),
                         "developers", developers,
                         "comments", _("Chat on your own server, on your own network"),
                         "license-type", GTK_LICENSE_GPL_3_0,
                         "translator-credits", _("translator-credits"),
                         NULL);
}

static void
preferences_action (GSimpleAction *action,
                    GVariant      *param,
                    gpointer       user_data)
{
  SsqGtkApplication *self = user_data;

  ssq_gtk_dialog_preferences (GTK_WINDOW (self->window), self->settings);
}

static void
logged_out_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(SsqGtkApplication) self = user_data;

  ssq_client_logout_finish (SSQ_CLIENT (source), result, NULL);
}

static void
logout_action (GSimpleAction *action,
               GVariant      *param,
               gpointer       user_data)
{
  SsqGtkApplication *self = user_data;

  if (self->client == NULL)
    return;
  ssq_gtk_notifier_withdraw_all (self->notifier);
  g_clear_pointer (&self->opening, g_free);
  ssq_gtk_secret_clear (ssq_client_get_server_url (self->client), ssq_client_get_username (self->client));
  ssq_client_logout_async (self->client, NULL, logged_out_cb, g_object_ref (self));
  ssq_gtk_window_show_login (self->window, ssq_client_get_server_url (self->client),
                             ssq_client_get_username (self->client), NULL);
}

static void
open_conversation_action (GSimpleAction *action,
                          GVariant      *param,
                          gpointer       user_data)
{
  SsqGtkApplication *self = user_data;

  /* Called by D-Bus from a notification, perhaps in an app just started
   * for it (--gapplication-service): then there is no window yet, and the
   * session comes back asynchronously; the conversation opens once it has. */
  g_free (self->opening);
  self->opening = g_variant_dup_string (param, NULL);
  g_application_activate (G_APPLICATION (self));
  open_waiting (self);
}

static const GActionEntry actions[] = {
  { "quit", quit_action },
  { "about", about_action },
  { "preferences", preferences_action },
  { "logout", logout_action },
  { "open-conversation", open_conversation_action, "s" },
};

static void
ssq_gtk_application_startup (GApplication *app)
{
  SsqGtkApplication *self = SSQ_GTK_APPLICATION (app);
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr(GSettingsSchema) schema = source ? g_settings_schema_source_lookup (source, SSQ_GTK_APP_ID, TRUE) : NULL;
  const char *quit_accels[] = { "<Control>q", NULL };
  const char *preferences_accels[] = { "<Control>comma", NULL };

  G_APPLICATION_CLASS (ssq_gtk_application_parent_class)->startup (app);
  /* Without its installed schema (run from the build tree) the app still
   * works, with defaults that are not remembered. */
  if (schema != NULL)
    {
      self->settings = g_settings_new (SSQ_GTK_APP_ID);
      g_signal_connect_swapped (self->settings, "changed::color-scheme", G_CALLBACK (apply_color_scheme), self);
    }
  apply_color_scheme (self);
  self->notifier = ssq_gtk_notifier_new (app);
  g_action_map_add_action_entries (G_ACTION_MAP (app), actions, G_N_ELEMENTS (actions), app);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "app.quit", quit_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "app.preferences", preferences_accels);
  /* Pictures pasted in an earlier run: drafts do not outlive the app, and
   * the outbox holds its own copy of what was sent. A day's grace for the
   * draft of another instance (one runs per session bus, and the same user
   * may have two sessions sharing this cache). */
  ssq_gtk_paste_prune_async (G_TIME_SPAN_DAY);
}

static void
ssq_gtk_application_activate (GApplication *app)
{
  SsqGtkApplication *self = SSQ_GTK_APPLICATION (app);

  if (self->window == NULL)
    {
      self->window = ssq_gtk_window_new (ADW_APPLICATION (app));
      g_object_add_weak_pointer (G_OBJECT (self->window), (gpointer *) &self->window);
      restore_session (self);
    }
  gtk_window_present (GTK_WINDOW (self->window));
}

/* supersoniq://HOST:PORT/invite/TOKEN opened: from the command line, a
 * browser or a chat, through the desktop file's x-scheme-handler; in a
 * running app GApplication hands it over from the new process. Only the
 * first link counts: one join page at a time. */
static void
ssq_gtk_application_open (GApplication  *app,
                          GFile        **files,
                          int            n_files,
                          const char    *hint)
{
  SsqGtkApplication *self = SSQ_GTK_APPLICATION (app);
  g_autoptr(GError) error = NULL;
  g_autofree char *uri = NULL;

  g_application_activate (app);
  if (n_files < 1 || self->window == NULL)
    return;
  /* A URI of a scheme GIO does not know comes back as given. */
  uri = g_file_get_uri (files[0]);
  if (!ssq_gtk_window_show_join (self->window, uri, &error))
    ssq_gtk_window_toast (self->window, error->message);
}

static void
ssq_gtk_application_shutdown (GApplication *app)
{
  SsqGtkApplication *self = SSQ_GTK_APPLICATION (app);

  if (self->client != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->client, self);
      ssq_client_disconnect (self->client);
    }
  G_APPLICATION_CLASS (ssq_gtk_application_parent_class)->shutdown (app);
}

static void
ssq_gtk_application_dispose (GObject *object)
{
  SsqGtkApplication *self = SSQ_GTK_APPLICATION (object);

  g_clear_object (&self->client);
  g_clear_object (&self->settings);
  g_clear_object (&self->notifier);
  g_clear_pointer (&self->opening, g_free);
  G_OBJECT_CLASS (ssq_gtk_application_parent_class)->dispose (object);
}

/* --version answers before any window or display is needed. --insecure
 * holds for the instance it starts: an app already running (one per
 * session) keeps its own setting, and the user is told so. */
static int
ssq_gtk_application_handle_local_options (GApplication *app,
                                          GVariantDict *options)
{
  SsqGtkApplication *self = SSQ_GTK_APPLICATION (app);

  if (g_variant_dict_contains (options, "version"))
    {
      g_print ("supersoniq %s\n", SSQ_VERSION);
      return 0;
    }
  if (g_variant_dict_contains (options, "insecure"))
    {
      self->insecure = TRUE;
      if (g_application_register (app, NULL, NULL) && g_application_get_is_remote (app))
        g_printerr ("%s\n", _("SupersoniQ is already running: --insecure applies only to the instance "
                              "it starts. Quit SupersoniQ and start it again with --insecure"));
    }
  return -1;
}

static void
ssq_gtk_application_class_init (SsqGtkApplicationClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = ssq_gtk_application_dispose;
  G_APPLICATION_CLASS (klass)->startup = ssq_gtk_application_startup;
  G_APPLICATION_CLASS (klass)->activate = ssq_gtk_application_activate;
  G_APPLICATION_CLASS (klass)->open = ssq_gtk_application_open;
  G_APPLICATION_CLASS (klass)->shutdown = ssq_gtk_application_shutdown;
  G_APPLICATION_CLASS (klass)->handle_local_options = ssq_gtk_application_handle_local_options;
}

static void
ssq_gtk_application_init (SsqGtkApplication *self)
{
  g_application_add_main_option (G_APPLICATION (self), "version", 'V', G_OPTION_FLAG_NONE,
                                 G_OPTION_ARG_NONE, _("Print the version and exit"), NULL);
  g_application_add_main_option (G_APPLICATION (self), "insecure", 0, G_OPTION_FLAG_NONE, G_OPTION_ARG_NONE,
                                 _("Allow plain http:// to a host that is not this machine (unencrypted)"),
                                 NULL);
}

SsqGtkApplication *
ssq_gtk_application_new (void)
{
  return g_object_new (SSQ_TYPE_GTK_APPLICATION,
                       "application-id", SSQ_GTK_APP_ID,
                       "resource-base-path", "/org/supersoniq/Supersoniq",
                       "flags", G_APPLICATION_HANDLES_OPEN,
                       NULL);
}
