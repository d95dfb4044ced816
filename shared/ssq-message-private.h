/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-message-private.h: the fields of SsqMessage, filled by the cache and
 * the client within the library. */
#pragma once

#include "ssq-message.h"
#include "ssq-user.h"

G_BEGIN_DECLS

struct _SsqMessage
{
  GObject          parent_instance;
  char            *id;              /* NULL while pending */
  char            *conversation_id;
  gint64           seq;             /* 0 while pending */
  char            *sender;
  char            *client_id;
  char            *body;
  gint64           created_at;
  gint64           edited_at;
  gboolean         deleted;
  gint64           reply_to;
  gint64           rev;             /* the conversation's change it last took; 0 = none */
  SsqMessageStatus status;
  char            *error;           /* why a FAILED message failed */
  gint64           outbox_position; /* order in the outbox while pending */
  GPtrArray       *media;           /* SsqMedia, in the order sent; NULL: none */
  /* What rows show besides the message itself, taken when the snapshot is
   * made, so that binding a row reads nothing. */
  SsqUser         *sender_user;     /* the sender as the cache knew them, NULL if unknown */
  SsqMessage      *quoted;          /* the message replied to, if the cache held it */
};

SsqMessage *ssq_message_new          (void);
SsqMessage *ssq_message_copy         (SsqMessage *self);

G_END_DECLS
