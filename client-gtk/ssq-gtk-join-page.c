/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-gtk-join-page.c: what opening an invite link shows. The link names
 * the server (and its fingerprint, shown in groups a person can compare);
 * the user picks a name and a password and joins: a registration with
 * the link's invite, handed on as "session-started" like a log-in. */
#include "ssq-config.h"
#include "ssq-gtk-join-page.h"

#include <glib/gi18n.h>
#include <string.h>

#include "ssq-gtk-application.h"
#include "ssq-invite-link.h"
#include "ssq-proto.h"

struct _SsqGtkJoinPage
{
  GtkBox               parent_instance;

  /* Template children. */
  AdwStatusPage       *status_page;
  AdwActionRow        *server_row;
  AdwActionRow        *fingerprint_row;
  AdwEntryRow         *username_row;
  AdwPasswordEntryRow *password_row;
  GtkLabel            *error_label;
  GtkWidget           *join_button;
  GtkWidget           *cancel_button;

  SsqInviteLink       *link;
  char                *server_url;
  GCancellable        *cancellable;
};

G_DEFINE_FINAL_TYPE (SsqGtkJoinPage, ssq_gtk_join_page, GTK_TYPE_BOX)

enum {
  SIGNAL_SESSION_STARTED,
  SIGNAL_CANCELLED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
show_error (SsqGtkJoinPage *self,
            const char     *text)
{
  gtk_label_set_text (self->error_label, text ? text : "");
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), text != NULL);
}

static void
set_busy (SsqGtkJoinPage *self,
          gboolean        busy)
{
  /* Only the button: an entry made insensitive while it has the focus
   * makes GTK 4.8 warn about a lost focus-out. */
  gtk_widget_set_sensitive (self->join_button, !busy);
}

/**
 * ssq_gtk_join_page_set_link:
 * @self: the page
 * @link: an invite link, as opened (supersoniq://HOST:PORT/invite/TOKEN?fp=…)
 * @error: why @link is no invite link
 *
 * Shows the page for @link, emptied of an earlier one. A link out of
 * shape is refused and the page left as it was.
 *
 * Returns: whether @link was read
 */
gboolean
ssq_gtk_join_page_set_link (SsqGtkJoinPage *self,
                            const char     *link,
                            GError        **error)
{
  g_autoptr(SsqInviteLink) parsed = NULL;
  g_autofree char *title = NULL;
  g_autofree char *groups = NULL;
  g_autofree char *address = NULL;

  g_return_val_if_fail (SSQ_IS_GTK_JOIN_PAGE (self), FALSE);
  g_return_val_if_fail (link != NULL, FALSE);

  if ((parsed = ssq_invite_link_parse (link, error)) == NULL)
    return FALSE;
  /* A registration of the link before, still on its way, is forgotten. */
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  set_busy (self, FALSE);
  g_clear_pointer (&self->link, ssq_invite_link_free);
  g_free (self->server_url);
  self->server_url = ssq_invite_link_server_url (parsed);
  self->link = g_steal_pointer (&parsed);

  address = strchr (self->link->host, ':') ? g_strdup_printf ("[%s]:%u", self->link->host, self->link->port)
                                           : g_strdup_printf ("%s:%u", self->link->host, self->link->port);
  /* Translators: the title of the page an invite link opens; %s is the
   * server's address, as HOST:PORT. */
  title = g_strdup_printf (_("Join %s"), address);
  adw_status_page_set_title (self->status_page, title);
  adw_action_row_set_subtitle (self->server_row, self->server_url);
  groups = ssq_invite_link_fingerprint_groups (self->link->fingerprint);
  adw_action_row_set_subtitle (self->fingerprint_row,
                               groups ? groups : _("None: this server does not encrypt the connection"));
  gtk_editable_set_text (GTK_EDITABLE (self->username_row), "");
  gtk_editable_set_text (GTK_EDITABLE (self->password_row), "");
  show_error (self, NULL);
  gtk_widget_grab_focus (GTK_WIDGET (self->username_row));
  return TRUE;
}

const char *
ssq_gtk_join_page_get_server_url (SsqGtkJoinPage *self)
{
  g_return_val_if_fail (SSQ_IS_GTK_JOIN_PAGE (self), NULL);
  return self->server_url;
}

/* The fingerprint the link carries is pinned for this server before the
 * first request goes out, so that the registration itself only ever
 * reaches the server the inviter meant; a different key already pinned
 * for it is refused (SSQ_ERROR_KEY_CHANGED), never replaced. */
static gboolean
pin_fingerprint (SsqClient   *client,
                 const char  *fingerprint,
                 GError     **error)
{
  return fingerprint == NULL || ssq_client_trust_server (client, NULL, fingerprint, error);
}

static void
registered_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(SsqGtkJoinPage) self = user_data;
  g_autoptr(SsqClient) client = SSQ_CLIENT (source);
  g_autoptr(GError) error = NULL;

  if (!ssq_client_register_finish (client, result, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      set_busy (self, FALSE);
      show_error (self, error->message);
      return;
    }
  g_clear_object (&self->cancellable);
  set_busy (self, FALSE);
  gtk_editable_set_text (GTK_EDITABLE (self->password_row), "");
  g_signal_emit (self, signals[SIGNAL_SESSION_STARTED], 0, client);
}

static void
join_clicked_cb (SsqGtkJoinPage *self)
{
  const char *username = gtk_editable_get_text (GTK_EDITABLE (self->username_row));
  const char *password = gtk_editable_get_text (GTK_EDITABLE (self->password_row));
  g_autoptr(GError) error = NULL;
  SsqClient *client;

  if (self->link == NULL || !gtk_widget_get_sensitive (self->join_button))
    return;
  if (*username == '\0' || *password == '\0')
    {
      show_error (self, _("Choose a username and a password"));
      return;
    }
  if (!ssq_check_username (username, &error))
    {
      show_error (self, error->message);
      return;
    }
  client = ssq_gtk_application_new_client_for (GTK_WIDGET (self), self->server_url);
  if (!pin_fingerprint (client, self->link->fingerprint, &error))
    {
      show_error (self, error->message);
      g_object_unref (client);
      return;
    }
  show_error (self, NULL);
  set_busy (self, TRUE);
  self->cancellable = g_cancellable_new ();
  ssq_client_register_with_invite_async (client, username, password, NULL, self->link->token,
                                         self->cancellable, registered_cb, g_object_ref (self));
}

static void
cancel_clicked_cb (SsqGtkJoinPage *self)
{
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  set_busy (self, FALSE);
  gtk_editable_set_text (GTK_EDITABLE (self->password_row), "");
  g_signal_emit (self, signals[SIGNAL_CANCELLED], 0);
}

static void
ssq_gtk_join_page_dispose (GObject *object)
{
  SsqGtkJoinPage *self = SSQ_GTK_JOIN_PAGE (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->link, ssq_invite_link_free);
  g_clear_pointer (&self->server_url, g_free);
  gtk_widget_dispose_template (GTK_WIDGET (object), SSQ_TYPE_GTK_JOIN_PAGE);
  G_OBJECT_CLASS (ssq_gtk_join_page_parent_class)->dispose (object);
}

static void
ssq_gtk_join_page_class_init (SsqGtkJoinPageClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = ssq_gtk_join_page_dispose;

  /**
   * SsqGtkJoinPage::session-started:
   * @client: the client of the new account, logged in and not yet connected
   */
  signals[SIGNAL_SESSION_STARTED] = g_signal_new ("session-started", G_TYPE_FROM_CLASS (klass),
                                                  G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                                  G_TYPE_NONE, 1, SSQ_TYPE_CLIENT);
  /**
   * SsqGtkJoinPage::cancelled:
   * The user turned the invite down.
   */
  signals[SIGNAL_CANCELLED] = g_signal_new ("cancelled", G_TYPE_FROM_CLASS (klass),
                                            G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                            G_TYPE_NONE, 0);

  gtk_widget_class_set_template_from_resource (widget_class, "/org/supersoniq/Supersoniq/ssq-gtk-join-page.ui");
  gtk_widget_class_bind_template_child (widget_class, SsqGtkJoinPage, status_page);
  gtk_widget_class_bind_template_child (widget_class, SsqGtkJoinPage, server_row);
  gtk_widget_class_bind_template_child (widget_class, SsqGtkJoinPage, fingerprint_row);
  gtk_widget_class_bind_template_child (widget_class, SsqGtkJoinPage, username_row);
  gtk_widget_class_bind_template_child (widget_class, SsqGtkJoinPage, password_row);
  gtk_widget_class_bind_template_child (widget_class, SsqGtkJoinPage, error_label);
  gtk_widget_class_bind_template_child (widget_class, SsqGtkJoinPage, join_button);
  gtk_widget_class_bind_template_child (widget_class, SsqGtkJoinPage, cancel_button);
  gtk_widget_class_bind_template_callback (widget_class, join_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, cancel_clicked_cb);
}

static void
ssq_gtk_join_page_init (SsqGtkJoinPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}
