/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-conversation.h: a conversation and its members as the client shows
 * them (immutable snapshots). */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "ssq-message.h"

G_BEGIN_DECLS

#define SSQ_TYPE_MEMBER (ssq_member_get_type ())
G_DECLARE_FINAL_TYPE (SsqMember, ssq_member, SSQ, MEMBER, GObject)

const char *ssq_member_get_user_id       (SsqMember *self);
const char *ssq_member_get_username      (SsqMember *self);
const char *ssq_member_get_display_name  (SsqMember *self);
const char *ssq_member_get_role          (SsqMember *self);

#define SSQ_TYPE_CONVERSATION (ssq_conversation_get_type ())
G_DECLARE_FINAL_TYPE (SsqConversation, ssq_conversation, SSQ, CONVERSATION, GObject)

const char *ssq_conversation_get_id            (SsqConversation *self);
gboolean    ssq_conversation_is_direct         (SsqConversation *self);
const char *ssq_conversation_get_title         (SsqConversation *self);
const char *ssq_conversation_get_display_title (SsqConversation *self);
GListModel *ssq_conversation_get_members       (SsqConversation *self);
SsqMember  *ssq_conversation_find_member       (SsqConversation *self,
                                                const char      *user_id);
const char *ssq_conversation_get_peer_id       (SsqConversation *self);
gint64      ssq_conversation_get_last_seq      (SsqConversation *self);
gint64      ssq_conversation_get_read_seq      (SsqConversation *self);
gint64      ssq_conversation_get_unread        (SsqConversation *self);
gboolean    ssq_conversation_get_muted         (SsqConversation *self);
const char *ssq_conversation_get_role          (SsqConversation *self);
gint64      ssq_conversation_get_created_at    (SsqConversation *self);
gint64      ssq_conversation_get_last_activity (SsqConversation *self);
SsqMessage *ssq_conversation_get_last_message  (SsqConversation *self);
/* A direct conversation's peer's presence, NULL when not known. */
const char *ssq_conversation_get_peer_presence (SsqConversation *self);

G_END_DECLS
