/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-conversation-list.h: a GListModel of the account's conversations,
 * most recently active first, kept current from the client's signals. */
#pragma once

#include "ssq-client.h"

G_BEGIN_DECLS

#define SSQ_TYPE_CONVERSATION_LIST (ssq_conversation_list_get_type ())
G_DECLARE_FINAL_TYPE (SsqConversationList, ssq_conversation_list, SSQ, CONVERSATION_LIST, GObject)

SsqConversationList *ssq_conversation_list_new    (SsqClient           *client);
gint                 ssq_conversation_list_find   (SsqConversationList *self,
                                                   const char          *conversation_id);
gint64               ssq_conversation_list_get_unread_total (SsqConversationList *self);

G_END_DECLS
