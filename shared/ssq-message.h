/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-message.h: a message as the client shows it (immutable snapshot),
 * including messages still waiting in the outbox. */
#pragma once

#include <json-glib/json-glib.h>

#include "ssq-media.h"
#include "ssq-user.h"

G_BEGIN_DECLS

/**
 * SsqMessageStatus:
 * Where a message stands. Only the user's own messages go past SENT:
 * DELIVERED once every other member's client holds it, READ once every other
 * member has read it.
 */
typedef enum {
  SSQ_MESSAGE_PENDING,
  SSQ_MESSAGE_FAILED,
  SSQ_MESSAGE_SENT,
  SSQ_MESSAGE_DELIVERED,
  SSQ_MESSAGE_READ,
} SsqMessageStatus;

#define SSQ_TYPE_MESSAGE (ssq_message_get_type ())
G_DECLARE_FINAL_TYPE (SsqMessage, ssq_message, SSQ, MESSAGE, GObject)

SsqMessage      *ssq_message_new_from_json     (JsonObject *object,
                                                GError    **error);
JsonObject      *ssq_message_to_json           (SsqMessage *self);
const char      *ssq_message_get_id            (SsqMessage *self);
const char      *ssq_message_get_conversation_id (SsqMessage *self);
gint64           ssq_message_get_seq           (SsqMessage *self);
const char      *ssq_message_get_sender        (SsqMessage *self);
const char      *ssq_message_get_client_id     (SsqMessage *self);
const char      *ssq_message_get_body          (SsqMessage *self);
gint64           ssq_message_get_created_at    (SsqMessage *self);
gint64           ssq_message_get_edited_at     (SsqMessage *self);
gboolean         ssq_message_get_deleted       (SsqMessage *self);
gint64           ssq_message_get_reply_to      (SsqMessage *self);
SsqMessageStatus ssq_message_get_status        (SsqMessage *self);
const char      *ssq_message_get_error         (SsqMessage *self);
gboolean         ssq_message_is_pending        (SsqMessage *self);
SsqUser         *ssq_message_get_sender_user   (SsqMessage *self);
SsqMessage      *ssq_message_get_quoted        (SsqMessage *self);
guint            ssq_message_get_n_media       (SsqMessage *self);
SsqMedia        *ssq_message_get_media         (SsqMessage *self,
                                                guint       position);

G_END_DECLS
