/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-gtk-message-media.h: the attachments of one message in the list:
 * a media row each, fed by the client library (thumbnails, downloads),
 * and while the message waits in the outbox its upload's progress with a
 * button that gives the message up. */
#pragma once

#include <adwaita.h>

#include "ssq-client.h"

G_BEGIN_DECLS

#define SSQ_TYPE_GTK_MESSAGE_MEDIA (ssq_gtk_message_media_get_type ())
G_DECLARE_FINAL_TYPE (SsqGtkMessageMedia, ssq_gtk_message_media, SSQ, GTK_MESSAGE_MEDIA, GtkWidget)

GtkWidget   *ssq_gtk_message_media_new          (void);
void         ssq_gtk_message_media_bind         (SsqGtkMessageMedia *self,
                                                 SsqClient          *client,
                                                 SsqMessage         *message);
guint        ssq_gtk_message_media_get_n_rows   (SsqGtkMessageMedia *self);
GtkWidget   *ssq_gtk_message_media_get_row      (SsqGtkMessageMedia *self,
                                                 guint               position);
SsqTransfer *ssq_gtk_message_media_get_upload   (SsqGtkMessageMedia *self);

G_END_DECLS
