/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-gtk-invite-dialog.c: a server admin makes an invite (how many
 * registrations, how long) and gets its link, with a copy button, and its
 * QR code for a phone or a colleague's camera. The server shows a link
 * once only, so the dialog keeps it until closed. */
#include "ssq-config.h"
#include "ssq-gtk-invite-dialog.h"

#include <glib/gi18n.h>

#include "ssq-client-invites.h"
#include "ssq-gtk-qr.h"

#define QR_SIZE 264   /* pixels, about: big enough for a phone across a desk */

struct _SsqGtkInviteDialog
{
  AdwWindow       parent_instance;

  /* Template children. */
  GtkSpinButton  *uses_spin;
  AdwComboRow    *expiry_row;
  GtkWidget      *create_button;
  GtkLabel       *error_label;
  GtkWidget      *result_box;
  GtkPicture     *qr_picture;
  GtkLabel       *link_label;
  GtkButton      *copy_button;

  SsqClient      *client;
  GCancellable   *cancellable;
  char           *link;
};

G_DEFINE_FINAL_TYPE (SsqGtkInviteDialog, ssq_gtk_invite_dialog, ADW_TYPE_WINDOW)

/* The choices of "Valid for", in the .ui's order. */
static const gint64 expiry_seconds[] = { 86400, 7 * 86400, 30 * 86400 };

static void
show_error (SsqGtkInviteDialog *self,
            const char         *text)
{
  gtk_label_set_text (self->error_label, text ? text : "");
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), text != NULL);
}

static void
show_link (SsqGtkInviteDialog *self,
           const char         *link)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GdkTexture) qr = ssq_gtk_qr_texture_new (link, QR_SIZE, &error);

  g_free (self->link);
  self->link = g_strdup (link);
  gtk_label_set_text (self->link_label, link);
  gtk_button_set_label (self->copy_button, _("C_opy Link"));
  /* Without a code (a build without libqrencode) the link is enough. */
  gtk_picture_set_paintable (self->qr_picture, GDK_PAINTABLE (qr));
  gtk_widget_set_visible (GTK_WIDGET (self->qr_picture), qr != NULL);
  show_error (self, qr == NULL ? error->message : NULL);
  gtk_widget_set_visible (self->result_box, TRUE);
}

static void
created_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(SsqGtkInviteDialog) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(SsqInvite) invite = ssq_client_create_invite_finish (SSQ_CLIENT (source), result, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  g_clear_object (&self->cancellable);
  gtk_widget_set_sensitive (self->create_button, TRUE);
  if (invite == NULL)
    {
      show_error (self, error->message);
      return;
    }
  if (invite->link == NULL)
    {
      show_error (self, _("The server sent no link for the invite"));
      return;
    }
  show_link (self, invite->link);
}

static void
create_clicked_cb (SsqGtkInviteDialog *self)
{
  guint choice = adw_combo_row_get_selected (self->expiry_row);
  gint64 expires = expiry_seconds[MIN (choice, G_N_ELEMENTS (expiry_seconds) - 1)];

  if (self->cancellable != NULL)
    return;
  show_error (self, NULL);
  gtk_widget_set_sensitive (self->create_button, FALSE);
  self->cancellable = g_cancellable_new ();
  ssq_client_create_invite_async (self->client, (guint) gtk_spin_button_get_value_as_int (self->uses_spin),
                                  expires, self->cancellable, created_cb, g_object_ref (self));
}

static void
copy_clicked_cb (SsqGtkInviteDialog *self)
{
  if (self->link == NULL)
    return;
  gdk_clipboard_set_text (gtk_widget_get_clipboard (GTK_WIDGET (self)), self->link);
  gtk_button_set_label (self->copy_button, _("Copied"));
}

/**
 * ssq_gtk_invite_dialog_get_link:
 * Returns: (nullable): the link of the invite made, or %NULL before one is
 */
const char *
ssq_gtk_invite_dialog_get_link (SsqGtkInviteDialog *self)
{
  g_return_val_if_fail (SSQ_IS_GTK_INVITE_DIALOG (self), NULL);
  return self->link;
}

static void
ssq_gtk_invite_dialog_dispose (GObject *object)
{
  SsqGtkInviteDialog *self = SSQ_GTK_INVITE_DIALOG (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->client);
  g_clear_pointer (&self->link, g_free);
  gtk_widget_dispose_template (GTK_WIDGET (object), SSQ_TYPE_GTK_INVITE_DIALOG);
  G_OBJECT_CLASS (ssq_gtk_invite_dialog_parent_class)->dispose (object);
}

static void
ssq_gtk_invite_dialog_class_init (SsqGtkInviteDialogClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = ssq_gtk_invite_dialog_dispose;
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/supersoniq/Supersoniq/ssq-gtk-invite-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, SsqGtkInviteDialog, uses_spin);
  gtk_widget_class_bind_template_child (widget_class, SsqGtkInviteDialog, expiry_row);
  gtk_widget_class_bind_template_child (widget_class, SsqGtkInviteDialog, create_button);
  gtk_widget_class_bind_template_child (widget_class, SsqGtkInviteDialog, error_label);
  gtk_widget_class_bind_template_child (widget_class, SsqGtkInviteDialog, result_box);
  gtk_widget_class_bind_template_child (widget_class, SsqGtkInviteDialog, qr_picture);
  gtk_widget_class_bind_template_child (widget_class, SsqGtkInviteDialog, link_label);
  gtk_widget_class_bind_template_child (widget_class, SsqGtkInviteDialog, copy_button);
  gtk_widget_class_bind_template_callback (widget_class, create_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, copy_clicked_cb);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
ssq_gtk_invite_dialog_init (SsqGtkInviteDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

/**
 * ssq_gtk_invite_dialog_new:
 * @parent: the window it is modal for
 * @client: the session of a server admin
 *
 * Returns: (transfer none): the dialog, not yet shown
 */
SsqGtkInviteDialog *
ssq_gtk_invite_dialog_new (GtkWindow *parent,
                           SsqClient *client)
{
  SsqGtkInviteDialog *self;

  g_return_val_if_fail (SSQ_IS_CLIENT (client), NULL);
  self = g_object_new (SSQ_TYPE_GTK_INVITE_DIALOG, "transient-for", parent, NULL);
  self->client = g_object_ref (client);
  return self;
}
