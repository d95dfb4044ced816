/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-gtk-rows.h: the rows of the two lists: a conversation in the sidebar
 * and a message in the conversation view. */
#pragma once

#include <adwaita.h>

#include "ssq-client.h"

G_BEGIN_DECLS

#define SSQ_TYPE_GTK_CONVERSATION_ROW (ssq_gtk_conversation_row_get_type ())
G_DECLARE_FINAL_TYPE (SsqGtkConversationRow, ssq_gtk_conversation_row, SSQ, GTK_CONVERSATION_ROW, GtkWidget)

GtkWidget *ssq_gtk_conversation_row_new  (void);
void       ssq_gtk_conversation_row_bind (SsqGtkConversationRow *self,
                                          SsqClient             *client,
                                          SsqConversation       *conversation);

#define SSQ_TYPE_GTK_MESSAGE_ROW (ssq_gtk_message_row_get_type ())
G_DECLARE_FINAL_TYPE (SsqGtkMessageRow, ssq_gtk_message_row, SSQ, GTK_MESSAGE_ROW, GtkWidget)

GtkWidget *ssq_gtk_message_row_new  (void);
void       ssq_gtk_message_row_bind (SsqGtkMessageRow *self,
                                     SsqClient        *client,
                                     SsqMessage       *message,
                                     SsqMessage       *previous);
const char *ssq_gtk_message_row_get_body_text (SsqGtkMessageRow *self);
const char *ssq_gtk_message_row_get_status_text (SsqGtkMessageRow *self);
GtkWidget  *ssq_gtk_message_row_get_media (SsqGtkMessageRow *self);

char      *ssq_gtk_linkify (const char *text);

G_END_DECLS
