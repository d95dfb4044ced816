/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-message.c: immutable message snapshots. A change (edit, deletion, ack,
 * receipt) makes a new snapshot, so models announce it as a replacement. */
#include "ssq-message-private.h"
#include "ssq-json.h"
#include "ssq-wire.h"
#include "ssq-proto.h"

G_DEFINE_FINAL_TYPE (SsqMessage, ssq_message, G_TYPE_OBJECT)

static void
ssq_message_finalize (GObject *object)
{
  SsqMessage *self = SSQ_MESSAGE (object);

  g_free (self->id);
  g_free (self->conversation_id);
  g_free (self->sender);
  g_free (self->client_id);
  g_free (self->body);
  g_free (self->error);
  g_clear_object (&self->sender_user);
  g_clear_object (&self->quoted);
  g_clear_pointer (&self->media, g_ptr_array_unref);
  G_OBJECT_CLASS (ssq_message_parent_class)->finalize (object);
}

static void
ssq_message_class_init (SsqMessageClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = ssq_message_finalize;
}

static void
ssq_message_init (SsqMessage *self)
{
  self->status = SSQ_MESSAGE_SENT;
}

SsqMessage *
ssq_message_new (void)
{
  return g_object_new (SSQ_TYPE_MESSAGE, NULL);
}

SsqMessage *
ssq_message_copy (SsqMessage *self)
{
  SsqMessage *copy = ssq_message_new ();

  copy->id = g_strdup (self->id);
  copy->conversation_id = g_strdup (self->conversation_id);
  copy->seq = self->seq;
  copy->sender = g_strdup (self->sender);
  copy->client_id = g_strdup (self->client_id);
  copy->body = g_strdup (self->body);
  copy->created_at = self->created_at;
  copy->edited_at = self->edited_at;
  copy->deleted = self->deleted;
  copy->reply_to = self->reply_to;
  copy->rev = self->rev;
  copy->status = self->status;
  copy->error = g_strdup (self->error);
  copy->outbox_position = self->outbox_position;
  copy->sender_user = self->sender_user ? g_object_ref (self->sender_user) : NULL;
  copy->quoted = self->quoted ? g_object_ref (self->quoted) : NULL;
  /* Media snapshots are immutable: the copy shares them. */
  copy->media = self->media ? g_ptr_array_ref (self->media) : NULL;
  return copy;
}

/**
 * ssq_message_new_from_json:
 * Reads a protocol `message` object, checking every field's type.
 */
SsqMessage *
ssq_message_new_from_json (JsonObject *object,
                           GError    **error)
{
  g_autoptr(SsqMessage) self = NULL;
  SsqWireMessage m;

  if (!ssq_wire_message_decode (object, &m, error))
    return NULL;

  self = ssq_message_new ();
  if (m.media != NULL && json_array_get_length (m.media) > 0 &&
      (self->media = ssq_media_list_from_json (m.media, error)) == NULL)
    return NULL;
  self->id = g_strdup (m.id);
  self->conversation_id = g_strdup (m.conversation_id);
  self->seq = m.seq;
  self->sender = g_strdup (m.sender);
  self->client_id = g_strdup (m.client_id);
  self->body = g_strdup (m.body ? m.body : "");
  self->created_at = m.created_at;
  self->edited_at = m.edited_at;
  self->deleted = m.deleted;
  self->reply_to = m.reply_to;
  self->rev = m.rev;
  return g_steal_pointer (&self);
}

/**
 * ssq_message_to_json:
 * The message as a protocol `message` object, as the server sent it.
 *
 * Returns: (transfer full): the object
 */
JsonObject *
ssq_message_to_json (SsqMessage *self)
{
  g_autoptr(JsonArray) media = json_array_new ();
  SsqWireMessage m = {
    .id = self->id,
    .conversation_id = self->conversation_id,
    .seq = self->seq,
    .sender = self->sender,
    .client_id = self->client_id,
    .body = self->body,
    .created_at = self->created_at,
    .edited_at = self->edited_at,
    .deleted = self->deleted,
    .reply_to = self->reply_to,
    .rev = self->rev,
    .media = media,
  };

  g_return_val_if_fail (SSQ_IS_MESSAGE (self), NULL);
  for (guint i = 0; self->media != NULL && i < self->media->len; i++)
    json_array_add_object_element (media, ssq_media_to_json (self->media->pdata[i]));
  return ssq_wire_message_encode (&m);
}

#define GETTER(type, name, field, fallback)                      \
  type ssq_message_get_##name (SsqMessage *self)                 \
  {                                                              \
    g_return_val_if_fail (SSQ_IS_MESSAGE (self), fallback);      \
    return self->field;                                          \
  }

GETTER (const char *, id, id, NULL)
GETTER (const char *, conversation_id, conversation_id, NULL)
GETTER (gint64, seq, seq, 0)
GETTER (const char *, sender, sender, NULL)
GETTER (const char *, client_id, client_id, NULL)
GETTER (const char *, body, body, NULL)
GETTER (gint64, created_at, created_at, 0)
GETTER (gint64, edited_at, edited_at, 0)
GETTER (gboolean, deleted, deleted, FALSE)
GETTER (gint64, reply_to, reply_to, 0)
GETTER (SsqMessageStatus, status, status, SSQ_MESSAGE_PENDING)
GETTER (const char *, error, error, NULL)

gboolean
ssq_message_is_pending (SsqMessage *self)
{
  g_return_val_if_fail (SSQ_IS_MESSAGE (self), FALSE);
  return self->status == SSQ_MESSAGE_PENDING || self->status == SSQ_MESSAGE_FAILED;
}

/**
 * ssq_message_get_sender_user:
 * Returns: (transfer none) (nullable): the sender (names, presence) as the
 * cache knew them when this snapshot was made.
 */
SsqUser *
ssq_message_get_sender_user (SsqMessage *self)
{
  g_return_val_if_fail (SSQ_IS_MESSAGE (self), NULL);
  return self->sender_user;
}

/**
 * ssq_message_get_quoted:
 * Returns: (transfer none) (nullable): the message this one replies to, as
 * the cache held it when this snapshot was made.
 */
SsqMessage *
ssq_message_get_quoted (SsqMessage *self)
{
  g_return_val_if_fail (SSQ_IS_MESSAGE (self), NULL);
  return self->quoted;
}

/* The number of files attached to the message (none once it is deleted). */
guint
ssq_message_get_n_media (SsqMessage *self)
{
  g_return_val_if_fail (SSQ_IS_MESSAGE (self), 0);
  return self->media != NULL ? self->media->len : 0;
}

/**
 * ssq_message_get_media:
 * @position: from 0 to ssq_message_get_n_media() - 1, in the order sent
 *
 * Returns: (transfer none): the attachment at @position. A message still in
 *   the outbox has its attachments with their local copy and no id until
 *   uploaded (see ssq_media_get_local_file()).
 */
SsqMedia *
ssq_message_get_media (SsqMessage *self,
                       guint       position)
{
  g_return_val_if_fail (SSQ_IS_MESSAGE (self), NULL);
  g_return_val_if_fail (self->media != NULL && position < self->media->len, NULL);
  return self->media->pdata[position];
}
