/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-gtk-login-page.c: server, name and password, and the buttons that
 * log in or register. A session that starts goes out as the
 * "session-started" signal; a failure stays on the page, in words.
 *
 * Servers found on the LAN (SsqDiscovery) are listed under the fields;
 * choosing one fills in its URL and keeps its key's fingerprint, which is
 * pinned on the new client before its first request, as an invite link's
 * is: the connection then only reaches the server that announced itself. */
#include "ssq-config.h"
#include "ssq-gtk-login-page.h"

#include <glib/gi18n.h>
#include <string.h>

#include "ssq-discovery.h"
#include "ssq-gtk-application.h"
#include "ssq-gtk-trust.h"
#include "ssq-proto.h"

struct _SsqGtkLoginPage
{
  GtkBox               parent_instance;

  /* Template children. */
  AdwEntryRow         *server_row;
  AdwEntryRow         *username_row;
  AdwPasswordEntryRow *password_row;
  GtkLabel            *error_label;
  GtkWidget           *login_button;
  GtkWidget           *register_button;
  AdwPreferencesGroup *discovered_group;

  SsqDiscovery        *discovery;      /* NULL: not available in this build */
  GPtrArray           *discovered_rows; /* AdwActionRow, one per server */
  char                *chosen_url;     /* the server chosen from the list, */
  char                *chosen_fingerprint; /* and its key; NULL: none */

  gboolean             retry_create;   /* what to do again once the key is trusted */
};

G_DEFINE_FINAL_TYPE (SsqGtkLoginPage, ssq_gtk_login_page, GTK_TYPE_BOX)

enum {
  SIGNAL_SESSION_STARTED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
show_error (SsqGtkLoginPage *self,
            const char      *text)
{
  gtk_label_set_text (self->error_label, text ? text : "");
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), text != NULL);
}

/**
 * ssq_gtk_login_page_reset:
 * @self: the page
 * @server_url: (nullable): the server to offer, or %NULL to keep the one shown
 * @username: (nullable): the name to offer, or %NULL to keep the one shown
 * @error_text: (nullable): why the user is asked to log in, or %NULL
 *
 * Fills the page in for a new log-in and puts the focus where typing
 * starts: on the password if the name is known.
 */
void
ssq_gtk_login_page_reset (SsqGtkLoginPage *self,
                          const char      *server_url,
                          const char      *username,
                          const char      *error_text)
{
  g_return_if_fail (SSQ_IS_GTK_LOGIN_PAGE (self));

  if (server_url != NULL)
    gtk_editable_set_text (GTK_EDITABLE (self->server_row), server_url);
  if (username != NULL)
    gtk_editable_set_text (GTK_EDITABLE (self->username_row), username);
  show_error (self, error_text);
  gtk_widget_grab_focus (GTK_WIDGET (username && *username ? (gpointer) self->password_row
                                                           : (gpointer) self->username_row));
}

/* The row's data: what choosing it fills in. */
#define ROW_URL_KEY         "ssq-url"
#define ROW_FINGERPRINT_KEY "ssq-fingerprint"
#define ROW_SERVER_KEY      "ssq-server-key"
#define ROW_FOUND_KEY       "ssq-found"

static void
discovered_row_activated_cb (AdwActionRow    *row,
                             SsqGtkLoginPage *self)
{
  const char *url = g_object_get_data (G_OBJECT (row), ROW_URL_KEY);

  g_free (self->chosen_url);
  g_free (self->chosen_fingerprint);
  self->chosen_url = g_strdup (url);
  self->chosen_fingerprint = g_strdup (g_object_get_data (G_OBJECT (row), ROW_FINGERPRINT_KEY));
  gtk_editable_set_text (GTK_EDITABLE (self->server_row), url);
  show_error (self, NULL);
  gtk_widget_grab_focus (GTK_WIDGET (self->username_row));
}

/* The same server seen on several interfaces (or by IPv4 and IPv6) is
 * listed once: by its name, key and port. */
static char *
server_key (const char *name,
            guint16     port,
            const char *fingerprint)
{
  return g_strdup_printf ("%s\n%u\n%s", name, port, fingerprint ? fingerprint : "");
}

static char *
server_url (const char *address,
            guint16     port,
            const char *fingerprint)
{
  const char *scheme = fingerprint != NULL ? "https" : "http";

  if (strchr (address, ':') != NULL)
    return g_strdup_printf ("%s://[%s]:%u", scheme, address, port);
  return g_strdup_printf ("%s://%s:%u", scheme, address, port);
}

static void
add_row (SsqGtkLoginPage *self,
         const char      *name,
         const char      *address,
         guint16          port,
         const char      *fingerprint,
         const char      *url,
         gboolean         found)
{
  g_autofree char *key = server_key (name, port, fingerprint);
  g_autofree char *where = NULL;
  GtkWidget *row;

  for (guint i = 0; i < self->discovered_rows->len; i++)
    if (g_strcmp0 (g_object_get_data (self->discovered_rows->pdata[i], ROW_SERVER_KEY), key) == 0)
      return;
  where = strchr (address, ':') ? g_strdup_printf ("[%s]:%u", address, port)
                                : g_strdup_printf ("%s:%u", address, port);
  row = adw_action_row_new ();
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), name);
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), where);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), gtk_image_new_from_icon_name (
                               fingerprint ? "channel-secure-symbolic" : "channel-insecure-symbolic"));
  gtk_widget_set_tooltip_text (row, fingerprint ? fingerprint
                                                : _("This server does not encrypt the connection"));
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), TRUE);
  g_object_set_data_full (G_OBJECT (row), ROW_URL_KEY, g_strdup (url), g_free);
  g_object_set_data_full (G_OBJECT (row), ROW_FINGERPRINT_KEY, g_strdup (fingerprint), g_free);
  g_object_set_data_full (G_OBJECT (row), ROW_SERVER_KEY, g_steal_pointer (&key), g_free);
  g_object_set_data (G_OBJECT (row), ROW_FOUND_KEY, GINT_TO_POINTER (found));
  g_signal_connect (row, "activated", G_CALLBACK (discovered_row_activated_cb), self);
  adw_preferences_group_add (self->discovered_group, row);
  g_ptr_array_add (self->discovered_rows, row);
  gtk_widget_set_visible (GTK_WIDGET (self->discovered_group), TRUE);
}

/* The list again from the discovery's model: servers come and go. */
static void
discovery_changed_cb (GListModel      *model,
                      guint            position,
                      guint            removed,
                      guint            added,
                      SsqGtkLoginPage *self)
{
  for (guint i = self->discovered_rows->len; i > 0; i--)
    {
      GtkWidget *row = self->discovered_rows->pdata[i - 1];

      if (!g_object_get_data (G_OBJECT (row), ROW_FOUND_KEY))
        continue;
      adw_preferences_group_remove (self->discovered_group, row);
      g_ptr_array_remove_index (self->discovered_rows, i - 1);
    }
  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr(SsqDiscoveredServer) server = g_list_model_get_item (model, i);
      g_autofree char *url = ssq_discovered_server_get_url (server);

      add_row (self, ssq_discovered_server_get_name (server), ssq_discovered_server_get_address (server),
               ssq_discovered_server_get_port (server), ssq_discovered_server_get_fingerprint (server),
               url, TRUE);
    }
  gtk_widget_set_visible (GTK_WIDGET (self->discovered_group), self->discovered_rows->len > 0);
}

/**
 * ssq_gtk_login_page_add_discovered:
 * @name: the server's name, as announced
 * @address: its IPv4 or IPv6 address
 * @fingerprint: (nullable): its key's fingerprint; %NULL: no TLS
 *
 * Lists a server as if discovery had found it: for tests, which have no
 * Avahi daemon to announce one.
 */
void
ssq_gtk_login_page_add_discovered (SsqGtkLoginPage *self,
                                   const char      *name,
                                   const char      *address,
                                   guint16          port,
                                   const char      *fingerprint)
{
  g_autofree char *url = NULL;

  g_return_if_fail (SSQ_IS_GTK_LOGIN_PAGE (self));
  g_return_if_fail (name != NULL && address != NULL);
  url = server_url (address, port, fingerprint);
  add_row (self, name, address, port, fingerprint, url, FALSE);
}

/* Looks for servers on the LAN, if this build can: without Avahi, or
 * without its daemon, the list just stays empty and hidden. */
static void
start_discovery (SsqGtkLoginPage *self)
{
  g_autoptr(GError) error = NULL;

  if (!ssq_discovery_is_available ())
    return;
  self->discovery = ssq_discovery_new ();
  g_signal_connect_object (self->discovery, "items-changed", G_CALLBACK (discovery_changed_cb), self, 0);
  if (!ssq_discovery_start (self->discovery, &error))
    {
      g_debug ("login page: %s", error->message);
      g_clear_object (&self->discovery);
    }
}

static void
set_busy (SsqGtkLoginPage *self,
          gboolean         busy)
{
  gtk_widget_set_sensitive (self->login_button, !busy);
  gtk_widget_set_sensitive (self->register_button, !busy);
}

static void start_session (SsqGtkLoginPage *self, gboolean create);

static void
trust_answered_cb (gboolean  trusted,
                   gpointer  user_data)
{
  g_autoptr(SsqGtkLoginPage) self = user_data;

  if (trusted)
    start_session (self, self->retry_create);
  else
    show_error (self, _("Not connected: the server's key was not trusted"));
}

/* The server's key: not trusted yet (asked), or changed (refused, with no
 * way around). TRUE when @error was one of those. */
static gboolean
handle_key_error (SsqGtkLoginPage *self,
                  SsqClient       *client,
                  const GError    *error,
                  gboolean         create)
{
  GtkWindow *parent = GTK_WINDOW (gtk_widget_get_root (GTK_WIDGET (self)));

  if (g_error_matches (error, SSQ_ERROR, SSQ_ERROR_UNTRUSTED))
    {
      self->retry_create = create;
      show_error (self, _("Compare the server's key before connecting"));
      ssq_gtk_trust_ask (parent, ssq_client_get_server_url (client), error, trust_answered_cb,
                         g_object_ref (self));
      return TRUE;
    }
  if (g_error_matches (error, SSQ_ERROR, SSQ_ERROR_KEY_CHANGED))
    {
      show_error (self, _("The server's key has changed: not connected"));
      ssq_gtk_trust_show_changed (parent, ssq_client_get_server_url (client), error);
      return TRUE;
    }
  return FALSE;
}

static void
session_done (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(SsqGtkLoginPage) self = user_data;
  g_autoptr(SsqClient) client = SSQ_CLIENT (source);
  g_autoptr(GError) error = NULL;
  gboolean ok = g_task_get_source_tag (G_TASK (result)) == ssq_client_register_async
                ? ssq_client_register_finish (client, result, &error)
                : ssq_client_login_finish (client, result, &error);

  set_busy (self, FALSE);
  if (!ok && handle_key_error (self, client, error,
                               g_task_get_source_tag (G_TASK (result)) == ssq_client_register_async))
    return;
  if (!ok)
    {
      show_error (self, error->message);
      return;
    }
  gtk_editable_set_text (GTK_EDITABLE (self->password_row), "");
  g_signal_emit (self, signals[SIGNAL_SESSION_STARTED], 0, client);
}

/* The key of the server chosen from the list is pinned before the first
 * request, as long as the URL is still the one chosen; a different key
 * already pinned for it is refused (SSQ_ERROR_KEY_CHANGED), never
 * replaced. */
static gboolean
pin_chosen (SsqGtkLoginPage  *self,
            SsqClient        *client,
            const char       *server,
            GError          **error)
{
  if (self->chosen_fingerprint == NULL || g_strcmp0 (server, self->chosen_url) != 0)
    return TRUE;
  return ssq_client_trust_server (client, NULL, self->chosen_fingerprint, error);
}

static void
start_session (SsqGtkLoginPage *self,
               gboolean         create)
{
  const char *server = gtk_editable_get_text (GTK_EDITABLE (self->server_row));
  const char *username = gtk_editable_get_text (GTK_EDITABLE (self->username_row));
  const char *password = gtk_editable_get_text (GTK_EDITABLE (self->password_row));
  g_autoptr(GError) error = NULL;
  SsqClient *client;

  if (*server == '\0' || *username == '\0' || *password == '\0')
    {
      show_error (self, _("Fill in the server, your name and your password"));
      return;
    }
  show_error (self, NULL);
  client = ssq_gtk_application_new_client_for (GTK_WIDGET (self), server);
  if (!pin_chosen (self, client, server, &error))
    {
      show_error (self, error->message);
      g_object_unref (client);
      return;
    }
  set_busy (self, TRUE);
  if (create)
    ssq_client_register_async (client, username, password, NULL, NULL, session_done, g_object_ref (self));
  else
    ssq_client_login_async (client, username, password, NULL, session_done, g_object_ref (self));
}

static void
login_clicked_cb (SsqGtkLoginPage *self)
{
  start_session (self, FALSE);
}

static void
register_clicked_cb (SsqGtkLoginPage *self)
{
  start_session (self, TRUE);
}

static void
ssq_gtk_login_page_dispose (GObject *object)
{
  SsqGtkLoginPage *self = SSQ_GTK_LOGIN_PAGE (object);

  if (self->discovery != NULL)
    g_signal_handlers_disconnect_by_data (self->discovery, self);
  g_clear_object (&self->discovery);
  g_clear_pointer (&self->discovered_rows, g_ptr_array_unref);
  g_clear_pointer (&self->chosen_url, g_free);
  g_clear_pointer (&self->chosen_fingerprint, g_free);
  gtk_widget_dispose_template (GTK_WIDGET (object), SSQ_TYPE_GTK_LOGIN_PAGE);
  G_OBJECT_CLASS (ssq_gtk_login_page_parent_class)->dispose (object);
}

static void
ssq_gtk_login_page_class_init (SsqGtkLoginPageClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = ssq_gtk_login_page_dispose;

  /**
   * SsqGtkLoginPage::session-started:
   * @client: the client of the new session, logged in and not yet connected
   */
  signals[SIGNAL_SESSION_STARTED] = g_signal_new ("session-started", G_TYPE_FROM_CLASS (klass),
                                                  G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                                  G_TYPE_NONE, 1, SSQ_TYPE_CLIENT);

  gtk_widget_class_set_template_from_resource (widget_class, "/org/supersoniq/Supersoniq/ssq-gtk-login-page.ui");
  gtk_widget_class_bind_template_child (widget_class, SsqGtkLoginPage, server_row);
  gtk_widget_class_bind_template_child (widget_class, SsqGtkLoginPage, username_row);
  gtk_widget_class_bind_template_child (widget_class, SsqGtkLoginPage, password_row);
  gtk_widget_class_bind_template_child (widget_class, SsqGtkLoginPage, error_label);
  gtk_widget_class_bind_template_child (widget_class, SsqGtkLoginPage, login_button);
  gtk_widget_class_bind_template_child (widget_class, SsqGtkLoginPage, register_button);
  gtk_widget_class_bind_template_child (widget_class, SsqGtkLoginPage, discovered_group);
  gtk_widget_class_bind_template_callback (widget_class, login_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, register_clicked_cb);
}

static void
ssq_gtk_login_page_init (SsqGtkLoginPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->discovered_rows = g_ptr_array_new ();
  start_discovery (self);
}
