/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-gtk-window.c: the main window, an assembly of its parts: the log-in
 * page (or the join page of an invite link), and once a session runs, the
 * sidebar and the conversation view side by side in a leaflet. It passes
 * the open conversation between them and holds the window's actions and
 * toasts. */
#include "ssq-config.h"
#include "ssq-gtk-window.h"

#include <glib/gi18n.h>

#include "ssq-gtk-application.h"
#include "ssq-gtk-conversation-view.h"
#include "ssq-client-invites.h"
#include "ssq-gtk-dialogs.h"
#include "ssq-gtk-invite-dialog.h"
#include "ssq-gtk-join-page.h"
#include "ssq-gtk-login-page.h"
#include "ssq-gtk-sidebar.h"
#include "ssq-gtk-trust.h"
#include "ssq-proto.h"

struct _SsqGtkWindow
{
  AdwApplicationWindow    parent_instance;

  /* Template children. */
  AdwToastOverlay        *toasts;
  GtkStack               *stack;
  SsqGtkLoginPage        *login_page;
  SsqGtkJoinPage         *join_page;
  AdwLeaflet             *leaflet;
  SsqGtkSidebar          *sidebar;
  SsqGtkConversationView *conversation_view;

  SsqClient              *client;
  gboolean                joining;     /* the join page stays in front */
  gboolean                admin_known; /* whether the server said if we are admin */
  GCancellable           *admin_check;
};

G_DEFINE_FINAL_TYPE (SsqGtkWindow, ssq_gtk_window, ADW_TYPE_APPLICATION_WINDOW)

void
ssq_gtk_window_toast (SsqGtkWindow *self,
                      const char   *text)
{
  /* libadwaita 1.2 reads a toast's title as markup: plain text with an
   * "&" or a "<" (a file name, a server's error) would show as nothing. */
  g_autofree char *markup = g_markup_escape_text (text, -1);

  adw_toast_overlay_add_toast (self->toasts, adw_toast_new (markup));
}

void
ssq_gtk_window_show_login (SsqGtkWindow *self,
                           const char   *server_url,
                           const char   *username,
                           const char   *error_text)
{
  /* A session restored in the background does not push an invite aside. */
  if (!self->joining)
    gtk_stack_set_visible_child_name (self->stack, "login");
  ssq_gtk_login_page_reset (self->login_page, server_url, username, error_text);
}

/**
 * ssq_gtk_window_show_join:
 * @self: the window
 * @link: an invite link, as opened
 * @error: why @link is no invite link
 *
 * Shows the join page for @link in front of whatever the window showed,
 * a running session included, until the user joins or cancels.
 *
 * Returns: whether @link was an invite link
 */
gboolean
ssq_gtk_window_show_join (SsqGtkWindow *self,
                          const char   *link,
                          GError      **error)
{
  g_return_val_if_fail (SSQ_IS_GTK_WINDOW (self), FALSE);

  if (!ssq_gtk_join_page_set_link (self->join_page, link, error))
    return FALSE;
  self->joining = TRUE;
  gtk_stack_set_visible_child_name (self->stack, "join");
  return TRUE;
}

static void
join_cancelled_cb (SsqGtkWindow *self)
{
  self->joining = FALSE;
  gtk_stack_set_visible_child_name (self->stack, self->client != NULL ? "main" : "login");
}

static void
session_started_cb (SsqGtkWindow *self,
                    SsqClient    *client)
{
  self->joining = FALSE;
  ssq_gtk_application_session_started (SSQ_GTK_APPLICATION (gtk_window_get_application (GTK_WINDOW (self))),
                                       client);
}

/* The open conversation. */

const char *
ssq_gtk_window_get_selected (SsqGtkWindow *self)
{
  return ssq_gtk_conversation_view_get_conversation (self->conversation_view);
}

void
ssq_gtk_window_select (SsqGtkWindow *self,
                       const char   *conversation_id)
{
  if (self->client == NULL)
    return;
  ssq_gtk_conversation_view_set_conversation (self->conversation_view, conversation_id);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.details", conversation_id != NULL);
  if (conversation_id != NULL)
    {
      adw_leaflet_set_visible_child (self->leaflet, GTK_WIDGET (self->conversation_view));
      gtk_widget_grab_focus (GTK_WIDGET (self->conversation_view));
    }
  ssq_gtk_sidebar_set_selected (self->sidebar, conversation_id);
}

static void
conversation_activated_cb (SsqGtkWindow *self,
                           const char   *conversation_id)
{
  ssq_gtk_window_select (self, conversation_id);
}

static void
selected_removed_cb (SsqGtkWindow *self)
{
  ssq_gtk_window_select (self, NULL);
}

static void
go_back_cb (SsqGtkWindow *self)
{
  adw_leaflet_navigate (self->leaflet, ADW_NAVIGATION_DIRECTION_BACK);
}

static SsqGtkComposer *
composer (SsqGtkWindow *self)
{
  return ssq_gtk_conversation_view_get_composer (self->conversation_view);
}

/* Sends (or, after Up, saves the edit of) what the composer holds. */
gboolean
ssq_gtk_window_send_composer (SsqGtkWindow *self)
{
  return ssq_gtk_composer_send (composer (self));
}

GtkWidget *
ssq_gtk_window_get_composer (SsqGtkWindow *self)
{
  return GTK_WIDGET (ssq_gtk_composer_get_text_view (composer (self)));
}

/* The client. */

static void
reconnect_trusted_cb (gboolean  trusted,
                      gpointer  user_data)
{
  g_autoptr(SsqClient) client = user_data;

  if (trusted)
    ssq_client_connect (client);
}

static void
client_error_cb (SsqClient    *client,
                 const GError *error,
                 SsqGtkWindow *self)
{
  if (g_error_matches (error, SSQ_ERROR, SSQ_ERROR_UNAUTHORIZED))
    {
      ssq_gtk_window_show_login (self, ssq_client_get_server_url (client), ssq_client_get_username (client),
                                 _("The server ended this session; log in again."));
      return;
    }
  /* The server's key: asked for again (the trusted one was forgotten), or
   * changed: then nothing goes on. */
  if (g_error_matches (error, SSQ_ERROR, SSQ_ERROR_UNTRUSTED))
    {
      ssq_gtk_trust_ask (GTK_WINDOW (self), ssq_client_get_server_url (client), error,
                         reconnect_trusted_cb, g_object_ref (client));
      return;
    }
  if (g_error_matches (error, SSQ_ERROR, SSQ_ERROR_KEY_CHANGED))
    {
      ssq_gtk_window_show_login (self, ssq_client_get_server_url (client), ssq_client_get_username (client),
                                 _("The server's key has changed: not connected"));
      ssq_gtk_trust_show_changed (GTK_WINDOW (self), ssq_client_get_server_url (client), error);
      return;
    }
  ssq_gtk_window_toast (self, error->message);
}

/* Whether the account is a server admin decides whether "Invite People…"
 * is offered (the menu hides the item while its action is disabled). */
static void
admin_checked_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(SsqGtkWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  gboolean admin = FALSE;

  if (!ssq_client_check_server_admin_finish (SSQ_CLIENT (source), result, &admin, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_debug ("server admin check: %s", error->message);
      return;
    }
  g_clear_object (&self->admin_check);
  if (SSQ_CLIENT (source) != self->client)
    return;
  self->admin_known = TRUE;
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.invite", admin);
}

static void
check_admin (SsqGtkWindow *self)
{
  if (self->client == NULL || self->admin_known || self->admin_check != NULL)
    return;
  self->admin_check = g_cancellable_new ();
  ssq_client_check_server_admin_async (self->client, self->admin_check, admin_checked_cb, g_object_ref (self));
}

/* Asked again when the client comes online, if the first asking failed
 * (the app started offline). */
static void
client_state_cb (SsqClient    *client,
                 GParamSpec   *pspec,
                 SsqGtkWindow *self)
{
  if (ssq_client_get_state (client) == SSQ_CLIENT_ONLINE)
    {
      g_clear_object (&self->admin_check);
      check_admin (self);
    }
}

SsqClient *
ssq_gtk_window_get_client (SsqGtkWindow *self)
{
  return self->client;
}

void
ssq_gtk_window_set_client (SsqGtkWindow *self,
                           SsqClient    *client)
{
  /* Nothing of the session before stays on screen; closing its
   * conversation needs its client, so this comes first. */
  ssq_gtk_window_select (self, NULL);
  if (self->client != NULL)
    g_signal_handlers_disconnect_by_data (self->client, self);
  g_clear_object (&self->client);
  self->client = g_object_ref (client);
  ssq_gtk_sidebar_set_client (self->sidebar, client);
  ssq_gtk_conversation_view_set_client (self->conversation_view, client);
  g_signal_connect (client, "error", G_CALLBACK (client_error_cb), self);
  g_signal_connect (client, "notify::state", G_CALLBACK (client_state_cb), self);
  /* The account before may have been an admin; this one is not, until
   * its server says so. */
  g_cancellable_cancel (self->admin_check);
  g_clear_object (&self->admin_check);
  self->admin_known = FALSE;
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.invite", FALSE);
  check_admin (self);
  if (!self->joining)
    gtk_stack_set_visible_child_name (self->stack, "main");
}

/* Actions. */

static void
new_direct_action (GtkWidget  *widget,
                   const char *name,
                   GVariant   *param)
{
  ssq_gtk_dialog_new_direct (SSQ_GTK_WINDOW (widget));
}

static void
new_group_action (GtkWidget  *widget,
                  const char *name,
                  GVariant   *param)
{
  ssq_gtk_dialog_new_group (SSQ_GTK_WINDOW (widget));
}

static void
invite_action (GtkWidget  *widget,
               const char *name,
               GVariant   *param)
{
  SsqGtkWindow *self = SSQ_GTK_WINDOW (widget);

  if (self->client != NULL)
    gtk_window_present (GTK_WINDOW (ssq_gtk_invite_dialog_new (GTK_WINDOW (self), self->client)));
}

static void
details_action (GtkWidget  *widget,
                const char *name,
                GVariant   *param)
{
  SsqGtkWindow *self = SSQ_GTK_WINDOW (widget);

  if (ssq_gtk_window_get_selected (self) != NULL)
    ssq_gtk_dialog_details (self, ssq_gtk_window_get_selected (self));
}

static void
find_action (GtkWidget  *widget,
             const char *name,
             GVariant   *param)
{
  SsqGtkWindow *self = SSQ_GTK_WINDOW (widget);

  adw_leaflet_set_visible_child (self->leaflet, GTK_WIDGET (self->sidebar));
  ssq_gtk_sidebar_focus_search (self->sidebar);
}

static void
step_action (GtkWidget  *widget,
             const char *name,
             GVariant   *param)
{
  SsqGtkWindow *self = SSQ_GTK_WINDOW (widget);
  g_autofree char *next = ssq_gtk_sidebar_get_neighbour (self->sidebar, g_variant_get_int32 (param));

  if (next != NULL)
    ssq_gtk_window_select (self, next);
}

/* The parts of the window report errors this way: they do not know it. */
static void
toast_action (GtkWidget  *widget,
              const char *name,
              GVariant   *param)
{
  ssq_gtk_window_toast (SSQ_GTK_WINDOW (widget), g_variant_get_string (param, NULL));
}

static void
active_changed_cb (SsqGtkWindow *self)
{
  if (gtk_window_is_active (GTK_WINDOW (self)))
    {
      ssq_gtk_conversation_view_mark_read (self->conversation_view);
      if (self->client != NULL)
        ssq_client_report_activity (self->client);
    }
}

static void
ssq_gtk_window_dispose (GObject *object)
{
  SsqGtkWindow *self = SSQ_GTK_WINDOW (object);

  if (self->client != NULL)
    g_signal_handlers_disconnect_by_data (self->client, self);
  g_clear_object (&self->client);
  g_cancellable_cancel (self->admin_check);
  g_clear_object (&self->admin_check);
  gtk_widget_dispose_template (GTK_WIDGET (self), SSQ_TYPE_GTK_WINDOW);
  G_OBJECT_CLASS (ssq_gtk_window_parent_class)->dispose (object);
}

static void
ssq_gtk_window_class_init (SsqGtkWindowClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = ssq_gtk_window_dispose;
  g_type_ensure (SSQ_TYPE_GTK_LOGIN_PAGE);
  g_type_ensure (SSQ_TYPE_GTK_JOIN_PAGE);
  g_type_ensure (SSQ_TYPE_GTK_SIDEBAR);
  g_type_ensure (SSQ_TYPE_GTK_CONVERSATION_VIEW);
  gtk_widget_class_set_template_from_resource (widget_class, "/org/supersoniq/Supersoniq/ssq-gtk-window.ui");
  gtk_widget_class_bind_template_child (widget_class, SsqGtkWindow, toasts);
  gtk_widget_class_bind_template_child (widget_class, SsqGtkWindow, stack);
  gtk_widget_class_bind_template_child (widget_class, SsqGtkWindow, login_page);
  gtk_widget_class_bind_template_child (widget_class, SsqGtkWindow, join_page);
  gtk_widget_class_bind_template_child (widget_class, SsqGtkWindow, leaflet);
  gtk_widget_class_bind_template_child (widget_class, SsqGtkWindow, sidebar);
  gtk_widget_class_bind_template_child (widget_class, SsqGtkWindow, conversation_view);
  gtk_widget_class_bind_template_callback (widget_class, session_started_cb);
  gtk_widget_class_bind_template_callback (widget_class, join_cancelled_cb);
  gtk_widget_class_bind_template_callback (widget_class, conversation_activated_cb);
  gtk_widget_class_bind_template_callback (widget_class, selected_removed_cb);
  gtk_widget_class_bind_template_callback (widget_class, go_back_cb);

  gtk_widget_class_install_action (widget_class, "win.new-direct", NULL, new_direct_action);
  gtk_widget_class_install_action (widget_class, "win.new-group", NULL, new_group_action);
  gtk_widget_class_install_action (widget_class, "win.details", NULL, details_action);
  gtk_widget_class_install_action (widget_class, "win.invite", NULL, invite_action);
  gtk_widget_class_install_action (widget_class, "win.find", NULL, find_action);
  gtk_widget_class_install_action (widget_class, "win.step", "i", step_action);
  gtk_widget_class_install_action (widget_class, "win.toast", "s", toast_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_k, GDK_CONTROL_MASK, "win.find", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_n, GDK_CONTROL_MASK, "win.new-direct", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Up, GDK_ALT_MASK, "win.step", "i", -1);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Down, GDK_ALT_MASK, "win.step", "i", 1);
}

static void
ssq_gtk_window_init (SsqGtkWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  g_signal_connect_swapped (self, "notify::is-active", G_CALLBACK (active_changed_cb), self);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.details", FALSE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.invite", FALSE);
}

SsqGtkWindow *
ssq_gtk_window_new (AdwApplication *application)
{
  return g_object_new (SSQ_TYPE_GTK_WINDOW, "application", application, NULL);
}
