/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-client-outbox.c: the outbox. A message goes into the cache first, is
 * shown as pending, and is sent (again after every reconnect, in order)
 * until the server acknowledges it; the server's idempotency on client_id
 * makes every resend safe. A message with attachments is sent once they
 * are uploaded (ssq-client-attachments.c); those after it wait. */
#include <glib/gi18n.h>
#include "ssq-client-private.h"
#include "ssq-json.h"
#include "ssq-media.h"
#include "ssq-message-private.h"
#include "ssq-proto.h"

void
ssq_client_emit_outbox_changed (SsqClient  *self,
                                const char *conversation_id,
                                const char *client_id)
{
  ssq_client_emit (self, SIGNAL_OUTBOX_CHANGED, conversation_id, client_id);
}

static gboolean
outbox_retry_cb (gpointer user_data)
{
  SsqClient *self = user_data;

  self->outbox_retry_source = 0;
  ssq_client_flush_outbox (self);
  return G_SOURCE_REMOVE;
}

static void
send_reply (SsqClient    *self,
            JsonObject   *reply,
            const GError *error,
            gpointer      user_data)
{
  g_autofree char *client_id = user_data;
  g_autoptr(SsqMessage) pending = ssq_cache_outbox_get (self->cache, client_id);
  g_autoptr(GError) apply_error = NULL;
  JsonObject *message;

  g_hash_table_remove (self->in_flight, client_id);
  if (self->cache == NULL)
    return;
  if (error == NULL)
    {
      if (!ssq_wire_event_decode (reply, SSQ_FRAME_TYPE_MESSAGE, &message, &apply_error) ||
          !ssq_client_apply_message (self, message, &apply_error))
        {
          /* Still in the outbox: sent again (the server answers a used
           * client_id with the original). */
          ssq_client_rewind_outbox (self);
          if (ssq_client_storage_failed (self, apply_error))
            g_prefix_error (&apply_error, _("Cannot store the acknowledgement: "));
          else
            {
              g_prefix_error (&apply_error, _("Unreadable acknowledgement: "));
              apply_error->code = SSQ_ERROR_PROTOCOL;
            }
          ssq_client_emit_error (self, apply_error);
        }
      return;
    }
  /* Whatever follows, it is sent again or marked failed: the next flush
   * reads the outbox from its start. */
  ssq_client_rewind_outbox (self);
  if (pending == NULL || g_error_matches (error, SSQ_ERROR, SSQ_ERROR_NETWORK))
    return; /* resent after the reconnect */
  /* Uploads the server does not know (any more: one no message carried
   * in time expires) are made again, once. */
  if (g_error_matches (error, SSQ_ERROR, SSQ_ERROR_NOT_FOUND) && pending->media != NULL &&
      g_hash_table_add (self->reuploads, g_strdup (client_id)))
    {
      g_debug ("client: the server lost a message's uploads; uploading them again");
      ssq_cache_outbox_forget_media (self->cache, client_id, NULL);
      ssq_client_flush_outbox (self);
      return;
    }
  if (g_error_matches (error, SSQ_ERROR, SSQ_ERROR_RATE_LIMITED) ||
      g_error_matches (error, SSQ_ERROR, SSQ_ERROR_UNAVAILABLE))
    {
      gint64 retry = MAX (ssq_error_get_retry_after (error), 250);

      if (self->outbox_retry_source == 0)
        self->outbox_retry_source = g_timeout_add (retry, outbox_retry_cb, self);
      return;
    }
  /* Refused for good (too long, not a member any more...): keep it, marked,
   * for the user to retry or discard. */
  ssq_client_attachments_stop (self, client_id);
  ssq_cache_outbox_set_error (self->cache, client_id, error->message, NULL);
  ssq_client_emit_outbox_changed (self, ssq_message_get_conversation_id (pending), client_id);
  ssq_client_emit_error (self, error);
}

/* FALSE when the connection cannot take it. */
static gboolean
send_one (SsqClient  *self,
          SsqMessage *message)
{
  g_autoptr(JsonObject) frame = NULL;
  g_autoptr(JsonArray) media = NULL;
  char *client_id;

  if (message->error != NULL || g_hash_table_contains (self->in_flight, message->client_id))
    return TRUE;
  if (message->media != NULL)
    {
      media = json_array_new ();
      for (guint i = 0; i < message->media->len; i++)
        json_array_add_string_element (media, ssq_media_get_id (message->media->pdata[i]));
    }
  frame = ssq_wire_send_encode (&(SsqWireSend) {
    .conversation_id = message->conversation_id,
    .client_id = message->client_id,
    .body = message->body,
    .reply_to = message->reply_to,
    .media = media,
  });
  client_id = g_strdup (message->client_id);
  if (!ssq_client_request (self, frame, send_reply, client_id))
    {
      g_free (client_id);  /* offline: it waits for the next connection */
      return FALSE;
    }
  g_hash_table_add (self->in_flight, g_strdup (message->client_id));
  return TRUE;
}

/**
 * ssq_client_flush_outbox:
 * Sends, in the order they were written, every outbox message not already
 * on its way on this connection. Frames on one connection are handled in
 * order, so the messages get their seqs in that order. A message whose
 * attachments are not all uploaded uploads the next one, and the messages
 * after it wait for it.
 */
void
ssq_client_flush_outbox (SsqClient *self)
{
  g_autoptr(GPtrArray) outbox = NULL;

  if (self->state != SSQ_CLIENT_ONLINE || self->cache == NULL || self->outbox_retry_source != 0)
    return;
  outbox = ssq_cache_outbox_list_after (self->cache, self->outbox_sent);
  for (guint i = 0; i < outbox->len; i++)
    {
      SsqMessage *message = outbox->pdata[i];

      if (message->error == NULL && !ssq_client_attachments_uploaded (message))
        {
          ssq_client_attachments_upload (self, message);
          return;
        }
      if (!send_one (self, message))
        return;
      self->outbox_sent = message->outbox_position;
    }
}

/**
 * ssq_client_rewind_outbox:
 * The next flush reads the outbox from its start: an entry already handed
 * to the connection is to be sent again (the connection is gone, the server
 * asked to wait, its uploads are made again) or was retried by the user.
 */
void
ssq_client_rewind_outbox (SsqClient *self)
{
  self->outbox_sent = 0;
}

/**
 * ssq_client_send_message:
 * @reply_to: the seq of the message this one answers, or 0
 *
 * Writes a message: it is in the outbox (on disk) when this returns, and is
 * sent now if online, else on the next connection.
 *
 * Returns: (transfer full): the pending message, or NULL with @error when it
 *   cannot be written (an empty or oversize body, a full disk).
 */
SsqMessage *
ssq_client_send_message (SsqClient   *self,
                         const char  *conversation_id,
                         const char  *body,
                         gint64       reply_to,
                         GError     **error)
{
  g_autoptr(SsqMessage) message = NULL;

  g_return_val_if_fail (SSQ_IS_CLIENT (self), NULL);
  g_return_val_if_fail (conversation_id != NULL, NULL);

  if (self->cache == NULL)
    {
      g_set_error (error, SSQ_ERROR, SSQ_ERROR_UNAUTHORIZED, _("Not logged in"));
      return NULL;
    }
  message = ssq_cache_outbox_add (self->cache, conversation_id, body, reply_to, error);
  if (message == NULL)
    return NULL;
  ssq_client_emit_outbox_changed (self, conversation_id, message->client_id);
  /* The server ends our typing notice with the message. */
  if (g_strcmp0 (self->typing_conversation, conversation_id) == 0)
    g_clear_pointer (&self->typing_conversation, g_free);
  /* After any message before it that still waits for its uploads. */
  ssq_client_flush_outbox (self);
  return g_steal_pointer (&message);
}

/* The outbox entry @client_id, or NOT_FOUND. */
static SsqMessage *
outbox_entry (SsqClient   *self,
              const char  *client_id,
              GError     **error)
{
  SsqMessage *message = ssq_cache_outbox_get (self->cache, client_id);

  if (message == NULL)
    g_set_error (error, SSQ_ERROR, SSQ_ERROR_NOT_FOUND, _("No such message in the outbox"));
  return message;
}

/* A failed message goes back into the queue. */
gboolean
ssq_client_retry_message (SsqClient   *self,
                          const char  *client_id,
                          GError     **error)
{
  g_autoptr(SsqMessage) message = NULL;

  g_return_val_if_fail (SSQ_IS_CLIENT (self) && self->cache != NULL, FALSE);

  if ((message = outbox_entry (self, client_id, error)) == NULL ||
      !ssq_cache_outbox_set_error (self->cache, client_id, NULL, error))
    return FALSE;
  g_hash_table_remove (self->reuploads, client_id);
  ssq_client_emit_outbox_changed (self, message->conversation_id, client_id);
  ssq_client_rewind_outbox (self);
  ssq_client_flush_outbox (self);
  return TRUE;
}

/* Gives up on a message that has not been acknowledged. */
gboolean
ssq_client_discard_message (SsqClient   *self,
                            const char  *client_id,
                            GError     **error)
{
  g_autoptr(SsqMessage) message = NULL;

  g_return_val_if_fail (SSQ_IS_CLIENT (self) && self->cache != NULL, FALSE);

  if ((message = outbox_entry (self, client_id, error)) == NULL ||
      !ssq_cache_outbox_remove (self->cache, client_id, error))
    return FALSE;
  /* An upload of its attachments stops; the queue goes on without it. */
  ssq_client_attachments_stop (self, client_id);
  g_hash_table_remove (self->reuploads, client_id);
  ssq_client_flush_outbox (self);
  ssq_client_emit_outbox_changed (self, message->conversation_id, client_id);
  return TRUE;
}
