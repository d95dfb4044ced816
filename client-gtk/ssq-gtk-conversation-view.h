/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-gtk-conversation-view.h: the open conversation: its header, the
 * offline banner, the message list and the composer. */
#pragma once

#include <adwaita.h>

#include "ssq-client.h"
#include "ssq-gtk-composer.h"

G_BEGIN_DECLS

#define SSQ_TYPE_GTK_CONVERSATION_VIEW (ssq_gtk_conversation_view_get_type ())
G_DECLARE_FINAL_TYPE (SsqGtkConversationView, ssq_gtk_conversation_view, SSQ, GTK_CONVERSATION_VIEW, GtkBox)

void            ssq_gtk_conversation_view_set_client       (SsqGtkConversationView *self,
                                                            SsqClient              *client);
void            ssq_gtk_conversation_view_set_conversation (SsqGtkConversationView *self,
                                                            const char             *conversation_id);
const char     *ssq_gtk_conversation_view_get_conversation (SsqGtkConversationView *self);
SsqGtkComposer *ssq_gtk_conversation_view_get_composer     (SsqGtkConversationView *self);
void            ssq_gtk_conversation_view_mark_read        (SsqGtkConversationView *self);

G_END_DECLS
