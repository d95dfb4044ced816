/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-gtk-invite-dialog.h: "Invite People", where a server admin makes an
 * invite and gets its link and QR code. */
#pragma once

#include <adwaita.h>

#include "ssq-client.h"

G_BEGIN_DECLS

#define SSQ_TYPE_GTK_INVITE_DIALOG (ssq_gtk_invite_dialog_get_type ())
G_DECLARE_FINAL_TYPE (SsqGtkInviteDialog, ssq_gtk_invite_dialog, SSQ, GTK_INVITE_DIALOG, AdwWindow)

SsqGtkInviteDialog *ssq_gtk_invite_dialog_new      (GtkWindow          *parent,
                                                    SsqClient          *client);
const char         *ssq_gtk_invite_dialog_get_link (SsqGtkInviteDialog *self);

G_END_DECLS
