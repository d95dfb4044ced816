/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-gtk-login-page.c: server, name and password, and the buttons that
 * log in or register. A session that starts goes out as the
 * "session-started" signal; a failure stays on the page, in words. */
#include "ssq-config.h"
#include "ssq-gtk-login-page.h"

#include <glib/gi18n.h>

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

static void
start_session (SsqGtkLoginPage *self,
               gboolean         create)
{
  const char *server = gtk_editable_get_text (GTK_EDITABLE (self->server_row));
  const char *username = gtk_editable_get_text (GTK_EDITABLE (self->username_row));
  const char *password = gtk_editable_get_text (GTK_EDITABLE (self->password_row));
  SsqClient *client;

  if (*server == '\0' || *username == '\0' || *password == '\0')
    {
      show_error (self, _("Fill in the server, your name and your password"));
      return;
    }
  show_error (self, NULL);
  set_busy (self, TRUE);
  client = ssq_client_new (server, NULL);
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
  gtk_widget_class_bind_template_callback (widget_class, login_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, register_clicked_cb);
}

static void
ssq_gtk_login_page_init (SsqGtkLoginPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}
