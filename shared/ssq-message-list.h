/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-message-list.h: a GListModel of one conversation's messages in seq
 * order, with the outbox's pending messages at the end. */
#pragma once

#include "ssq-client.h"

G_BEGIN_DECLS

#define SSQ_TYPE_MESSAGE_LIST (ssq_message_list_get_type ())
G_DECLARE_FINAL_TYPE (SsqMessageList, ssq_message_list, SSQ, MESSAGE_LIST, GObject)

SsqMessageList *ssq_message_list_new              (SsqClient      *client,
                                                   const char     *conversation_id,
                                                   guint           initial);
const char     *ssq_message_list_get_conversation_id (SsqMessageList *self);
gboolean        ssq_message_list_get_at_start     (SsqMessageList *self);
void            ssq_message_list_load_older_async (SsqMessageList *self,
                                                   guint           limit,
                                                   GCancellable   *cancellable,
                                                   GAsyncReadyCallback callback,
                                                   gpointer        user_data);
guint           ssq_message_list_load_older_finish (SsqMessageList *self,
                                                    GAsyncResult   *result,
                                                    GError        **error);
gint            ssq_message_list_find_seq         (SsqMessageList *self,
                                                   gint64          seq);

G_END_DECLS
