/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-wire-frames.c: every WebSocket frame of the protocol, encoded and
 * decoded in one place. Encoders keep the member order that is on the wire
 * today (tests/shared/golden/frames.txt holds it byte for byte). */
#include <glib/gi18n.h>
#include "ssq-wire.h"
#include "ssq-json.h"

#include <string.h>

static JsonObject *
frame_new (SsqFrameType type)
{
  JsonObject *frame = json_object_new ();

  json_object_set_string_member (frame, "type", ssq_wire_frame_name (type));
  return frame;
}

/* Client frames carry their request id last: the client's request layer
 * adds it when it sends. */
static JsonObject *
with_id (JsonObject *frame,
         JsonNode   *id)
{
  if (id != NULL)
    json_object_set_member (frame, "id", json_node_copy (id));
  return frame;
}

/* Change and seq cursors: conversation id -> a non-negative integer. */
static gboolean
check_cursors (JsonObject  *cursors,
               const char  *name,
               GError     **error)
{
  JsonObjectIter iter;
  const char *key;
  JsonNode *value;

  json_object_iter_init (&iter, cursors);
  while (json_object_iter_next (&iter, &key, &value))
    if (json_node_get_value_type (value) != G_TYPE_INT64 || json_node_get_int (value) < 0)
      {
        g_set_error (error, SSQ_ERROR, SSQ_ERROR_INVALID,
                     _("%s[\"%s\"] must be a non-negative integer"), name, key);
        return FALSE;
      }
  return TRUE;
}

/**
 * ssq_wire_head_decode:
 * Reads what every frame has: a `type` that @from may send, and an optional
 * `id` (a string or an integer). On failure `out->id` is still the id when
 * it was readable, for the error reply.
 */
gboolean
ssq_wire_head_decode (JsonObject        *frame,
                      SsqWireDirection   from,
                      SsqWireHead       *out,
                      GError           **error)
{
  JsonNode *id = json_object_get_member (frame, "id");
  const char *type = NULL;

  *out = (SsqWireHead) { 0 };
  if (id != NULL && json_node_get_value_type (id) != G_TYPE_STRING &&
      json_node_get_value_type (id) != G_TYPE_INT64)
    {
      g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_INVALID,
                           "Field \"id\" must be a string or an integer");
      return FALSE;
    }
  out->id = id;
  if (!ssq_json_get_string (frame, "type", TRUE, &type, error))
    return FALSE;
  if (!ssq_wire_frame_from_name (type, from, &out->type))
    {
      g_set_error (error, SSQ_ERROR, SSQ_ERROR_INVALID, "Unknown frame type \"%s\"", type);
      return FALSE;
    }
  return TRUE;
}

/* ---- welcome, ack, error, pong ---------------------------------------- */

JsonObject *
ssq_wire_welcome_encode (const SsqWireWelcome *welcome)
{
  JsonObject *frame = frame_new (SSQ_FRAME_TYPE_WELCOME);

  if (welcome->user != NULL)
    json_object_set_object_member (frame, "user", json_object_ref (welcome->user));
  json_object_set_string_member (frame, "session_id", welcome->session_id);
  json_object_set_int_member (frame, "server_time", welcome->server_time);
  json_object_set_int_member (frame, "protocol", welcome->protocol);
  if (welcome->sync_pages)
    json_object_set_boolean_member (frame, "sync_pages", TRUE);
  return frame;
}

gboolean
ssq_wire_welcome_decode (JsonObject      *frame,
                         SsqWireWelcome  *out,
                         GError         **error)
{
  *out = (SsqWireWelcome) { 0 };
  return ssq_json_get_object (frame, "user", TRUE, &out->user, error) &&
         ssq_json_get_string (frame, "session_id", FALSE, &out->session_id, error) &&
         ssq_json_get_int (frame, "server_time", FALSE, 0, G_MAXINT64, &out->server_time, error) &&
         ssq_json_get_int (frame, "protocol", FALSE, 0, G_MAXINT64, &out->protocol, error) &&
         ssq_json_get_bool (frame, "sync_pages", FALSE, &out->sync_pages, error);
}

JsonObject *
ssq_wire_ack_encode (const SsqWireAck *ack)
{
  JsonObject *frame = frame_new (SSQ_FRAME_TYPE_ACK);

  json_object_set_member (frame, "id", json_node_copy (ack->id));
  if (ack->message != NULL)
    json_object_set_object_member (frame, "message", json_object_ref (ack->message));
  if (ack->duplicate)
    json_object_set_boolean_member (frame, "duplicate", TRUE);
  if (ack->truncated != NULL)
    json_object_set_array_member (frame, "truncated", json_array_ref (ack->truncated));
  if (ack->revs != NULL)
    json_object_set_object_member (frame, "revs", json_object_ref (ack->revs));
  if (ack->message_id > 0)
    json_object_set_int_member (frame, "message_id", ack->message_id);
  if (ack->subscription != NULL)
    json_object_set_string_member (frame, "subscription", ack->subscription);
  if (ack->unknown != NULL)
    json_object_set_array_member (frame, "unknown", json_array_ref (ack->unknown));
  return frame;
}

/**
 * ssq_wire_ack_decode:
 * Reads an ack's optional parts; `revs` must map to non-negative integers.
 */
gboolean
ssq_wire_ack_decode (JsonObject  *frame,
                     SsqWireAck  *out,
                     GError     **error)
{
  *out = (SsqWireAck) { 0 };
  out->id = json_object_get_member (frame, "id");
  if (!ssq_json_get_object (frame, "message", FALSE, &out->message, error) ||
      !ssq_json_get_bool (frame, "duplicate", FALSE, &out->duplicate, error) ||
      !ssq_json_get_array (frame, "truncated", FALSE, G_MAXUINT, &out->truncated, error) ||
      !ssq_json_get_object (frame, "revs", FALSE, &out->revs, error) ||
      !ssq_json_get_int (frame, "message_id", FALSE, 1, G_MAXINT64, &out->message_id, error) ||
      !ssq_json_get_string (frame, "subscription", FALSE, &out->subscription, error) ||
      !ssq_json_get_array (frame, "unknown", FALSE, SSQ_QUEUE_TAGS_MAX, &out->unknown, error))
    return FALSE;
  return out->revs == NULL || check_cursors (out->revs, "revs", error);
}

/* {"code","message","retry_after_ms"?}: the REST error object, and the
 * start of the error frame. */
static JsonObject *
error_object (const SsqWireError *e)
{
  JsonObject *obj = json_object_new ();

  json_object_set_string_member (obj, "code", e->code);
  json_object_set_string_member (obj, "message", e->message);
  if (g_strcmp0 (e->code, ssq_error_code_to_string (SSQ_ERROR_RATE_LIMITED)) == 0)
    json_object_set_int_member (obj, "retry_after_ms", e->retry_after_ms);
  return obj;
}

JsonObject *
ssq_wire_error_encode (const SsqWireError *error_frame)
{
  JsonObject *frame = error_object (error_frame);

  json_object_set_string_member (frame, "type", SSQ_FRAME_ERROR);
  return with_id (frame, error_frame->id);
}

static SsqWireError
error_from_gerror (JsonNode     *id,
                   const GError *error)
{
  SsqError code = error->domain == SSQ_ERROR ? (SsqError) error->code : SSQ_ERROR_INTERNAL;

  /* Errors of other domains are internal, and their text stays here. */
  return (SsqWireError) {
    .id = id,
    .code = ssq_error_code_to_string (code),
    .message = error->domain == SSQ_ERROR ? error->message : "Internal error",
    .retry_after_ms = ssq_error_get_retry_after (error),
  };
}

/**
 * ssq_wire_error_object:
 * The REST form of @error, the `error` member of an error reply:
 * {"code","message","retry_after_ms"?}.
 */
JsonObject *
ssq_wire_error_object (const GError *error)
{
  SsqWireError e = error_from_gerror (NULL, error);

  return error_object (&e);
}

/**
 * ssq_wire_error_from_gerror:
 * The `error` frame for @error, answering the request @id (may be NULL).
 */
JsonObject *
ssq_wire_error_from_gerror (JsonNode     *id,
                            const GError *error)
{
  SsqWireError e = error_from_gerror (id, error);

  return ssq_wire_error_encode (&e);
}

/**
 * ssq_wire_error_decode:
 * Reads an error frame leniently (a reply that is an error stays one):
 * a missing code reads `internal`, a missing message the code.
 */
gboolean
ssq_wire_error_decode (JsonObject   *frame,
                       SsqWireError *out)
{
  out->id = json_object_get_member (frame, "id");
  out->code = json_object_get_string_member_with_default (frame, "code", "internal");
  out->message = json_object_get_string_member_with_default (frame, "message", out->code);
  out->retry_after_ms = json_object_get_int_member_with_default (frame, "retry_after_ms", 0);
  return TRUE;
}

JsonObject *
ssq_wire_pong_encode (JsonNode *id)
{
  JsonObject *frame = frame_new (SSQ_FRAME_TYPE_PONG);

  json_object_set_member (frame, "id", json_node_copy (id));
  return frame;
}

JsonObject *
ssq_wire_ping_encode (JsonNode *id)
{
  return with_id (frame_new (SSQ_FRAME_TYPE_PING), id);
}

/* ---- events ----------------------------------------------------------- */

static const char *
event_key (SsqFrameType type)
{
  g_return_val_if_fail (type == SSQ_FRAME_TYPE_MESSAGE || type == SSQ_FRAME_TYPE_CONVERSATION,
                        NULL);
  return type == SSQ_FRAME_TYPE_MESSAGE ? "message" : "conversation";
}

/**
 * ssq_wire_event_encode:
 * A `message` or `conversation` event: {"type", type: @object}, @object
 * shared, not copied.
 */
JsonObject *
ssq_wire_event_encode (SsqFrameType  type,
                       JsonObject   *object)
{
  JsonObject *frame = frame_new (type);

  json_object_set_object_member (frame, event_key (type), json_object_ref (object));
  return frame;
}

gboolean
ssq_wire_event_decode (JsonObject    *frame,
                       SsqFrameType   type,
                       JsonObject   **out_object,
                       GError       **error)
{
  return ssq_json_get_object (frame, event_key (type), TRUE, out_object, error);
}

JsonObject *
ssq_wire_removed_encode (const char *conversation_id)
{
  JsonObject *frame = frame_new (SSQ_FRAME_TYPE_CONVERSATION_REMOVED);

  json_object_set_string_member (frame, "conversation_id", conversation_id);
  return frame;
}

gboolean
ssq_wire_removed_decode (JsonObject  *frame,
                         const char **out_conversation_id,
                         GError     **error)
{
  return ssq_json_get_string (frame, "conversation_id", TRUE, out_conversation_id, error);
}

JsonObject *
ssq_wire_receipt_encode (const SsqWireReceipt *receipt)
{
  JsonObject *frame = frame_new (SSQ_FRAME_TYPE_RECEIPT);

  json_object_set_string_member (frame, "conversation_id", receipt->conversation_id);
  json_object_set_string_member (frame, "user", receipt->user);
  json_object_set_int_member (frame, "delivered_seq", receipt->delivered_seq);
  json_object_set_int_member (frame, "read_seq", receipt->read_seq);
  return frame;
}

gboolean
ssq_wire_receipt_decode (JsonObject      *frame,
                         SsqWireReceipt  *out,
                         GError         **error)
{
  *out = (SsqWireReceipt) { 0 };
  return ssq_json_get_string (frame, "conversation_id", TRUE, &out->conversation_id, error) &&
         ssq_json_get_string (frame, "user", TRUE, &out->user, error) &&
         ssq_json_get_int (frame, "delivered_seq", FALSE, 0, G_MAXINT64, &out->delivered_seq,
                           error) &&
         ssq_json_get_int (frame, "read_seq", FALSE, 0, G_MAXINT64, &out->read_seq, error);
}

/**
 * ssq_wire_typing_encode:
 * The server's form when @typing names a `user`, else the client's.
 */
JsonObject *
ssq_wire_typing_encode (const SsqWireTyping *typing)
{
  JsonObject *frame = frame_new (SSQ_FRAME_TYPE_TYPING);

  json_object_set_string_member (frame, "conversation_id", typing->conversation_id);
  if (typing->user != NULL)
    json_object_set_string_member (frame, "user", typing->user);
  json_object_set_boolean_member (frame, "active", typing->active);
  return with_id (frame, typing->id);
}

gboolean
ssq_wire_typing_decode (JsonObject        *frame,
                        SsqWireDirection   from,
                        SsqWireTyping     *out,
                        GError           **error)
{
  *out = (SsqWireTyping) { 0 };
  out->id = json_object_get_member (frame, "id");
  return ssq_json_get_string (frame, "conversation_id", TRUE, &out->conversation_id, error) &&
         (from != SSQ_WIRE_FROM_SERVER ||
          ssq_json_get_string (frame, "user", TRUE, &out->user, error)) &&
         ssq_json_get_bool (frame, "active", TRUE, &out->active, error);
}

/**
 * ssq_wire_presence_encode:
 * The server's form when @presence names a `user`, else the client's.
 */
JsonObject *
ssq_wire_presence_encode (const SsqWirePresence *presence)
{
  JsonObject *frame = frame_new (SSQ_FRAME_TYPE_PRESENCE);

  if (presence->user != NULL)
    json_object_set_string_member (frame, "user", presence->user);
  json_object_set_string_member (frame, "status", presence->status);
  if (presence->user != NULL)
    json_object_set_int_member (frame, "last_seen", presence->last_seen);
  return with_id (frame, presence->id);
}

gboolean
ssq_wire_presence_decode (JsonObject        *frame,
                          SsqWireDirection   from,
                          SsqWirePresence   *out,
                          GError           **error)
{
  *out = (SsqWirePresence) { 0 };
  out->id = json_object_get_member (frame, "id");
  if (from == SSQ_WIRE_FROM_SERVER &&
      (!ssq_json_get_string (frame, "user", TRUE, &out->user, error) ||
       !ssq_json_get_int (frame, "last_seen", FALSE, 0, G_MAXINT64, &out->last_seen, error)))
    return FALSE;
  return ssq_json_get_string (frame, "status", TRUE, &out->status, error);
}

JsonObject *
ssq_wire_notification_encode (const SsqWireNotification *notification)
{
  JsonObject *frame = frame_new (SSQ_FRAME_TYPE_NOTIFICATION);

  json_object_set_string_member (frame, "conversation_id", notification->conversation_id);
  json_object_set_int_member (frame, "seq", notification->seq);
  json_object_set_string_member (frame, "reason", notification->reason);
  json_object_set_string_member (frame, "sender", notification->sender);
  return frame;
}

gboolean
ssq_wire_notification_decode (JsonObject           *frame,
                              SsqWireNotification  *out,
                              GError              **error)
{
  *out = (SsqWireNotification) { 0 };
  return ssq_json_get_string (frame, "conversation_id", TRUE, &out->conversation_id, error) &&
         ssq_json_get_int (frame, "seq", TRUE, 1, G_MAXINT64, &out->seq, error) &&
         ssq_json_get_string (frame, "reason", FALSE, &out->reason, error) &&
         ssq_json_get_string (frame, "sender", FALSE, &out->sender, error);
}

/* ---- send, received, read, sync --------------------------------------- */

JsonObject *
ssq_wire_send_encode (const SsqWireSend *send)
{
  JsonObject *frame = frame_new (SSQ_FRAME_TYPE_SEND);

  json_object_set_string_member (frame, "conversation_id", send->conversation_id);
  json_object_set_string_member (frame, "client_id", send->client_id);
  json_object_set_string_member (frame, "body", send->body);
  if (send->reply_to > 0)
    json_object_set_int_member (frame, "reply_to", send->reply_to);
  if (send->media != NULL)
    json_object_set_array_member (frame, "media", json_array_ref (send->media));
  return with_id (frame, send->id);
}

/**
 * ssq_wire_send_decode:
 * Reads a `send` frame or the body of `POST …/messages` (whose
 * conversation is in the path, hence `conversation_id` optional here).
 * The values' own rules are the caller's.
 */
gboolean
ssq_wire_send_decode (JsonObject   *frame,
                      SsqWireSend  *out,
                      GError      **error)
{
  *out = (SsqWireSend) { 0 };
  out->id = json_object_get_member (frame, "id");
  return ssq_json_get_string (frame, "conversation_id", FALSE, &out->conversation_id, error) &&
         ssq_json_get_string (frame, "client_id", TRUE, &out->client_id, error) &&
         ssq_json_get_string (frame, "body", TRUE, &out->body, error) &&
         ssq_json_get_int (frame, "reply_to", FALSE, 1, G_MAXINT64, &out->reply_to, error) &&
         ssq_json_get_array (frame, "media", FALSE, SSQ_MESSAGE_MEDIA_MAX, &out->media, error);
}

/**
 * ssq_wire_mark_encode:
 * @type: %SSQ_FRAME_TYPE_RECEIVED or %SSQ_FRAME_TYPE_READ
 */
JsonObject *
ssq_wire_mark_encode (SsqFrameType       type,
                      const SsqWireMark *mark)
{
  JsonObject *frame = frame_new (type);

  json_object_set_string_member (frame, "conversation_id", mark->conversation_id);
  json_object_set_int_member (frame, "seq", mark->seq);
  return with_id (frame, mark->id);
}

gboolean
ssq_wire_mark_decode (JsonObject   *frame,
                      SsqWireMark  *out,
                      GError      **error)
{
  *out = (SsqWireMark) { 0 };
  out->id = json_object_get_member (frame, "id");
  return ssq_json_get_string (frame, "conversation_id", TRUE, &out->conversation_id, error) &&
         ssq_json_get_int (frame, "seq", TRUE, 0, G_MAXINT64, &out->seq, error);
}

JsonObject *
ssq_wire_sync_encode (const SsqWireSync *sync)
{
  JsonObject *frame = frame_new (SSQ_FRAME_TYPE_SYNC);

  json_object_set_object_member (frame, "since", json_object_ref (sync->since));
  if (sync->since_rev != NULL)
    json_object_set_object_member (frame, "since_rev", json_object_ref (sync->since_rev));
  if (sync->from_id != NULL)
    json_object_set_string_member (frame, "from_id", sync->from_id);
  if (sync->to_id != NULL)
    json_object_set_string_member (frame, "to_id", sync->to_id);
  return with_id (frame, sync->id);
}

/* A page whose end is not after its start (an empty to_id alone ends
 * before every id) names no conversation: surely a client's mistake, so it
 * is refused rather than answered empty. */
static gboolean
check_page (const SsqWireSync  *sync,
            GError            **error)
{
  if (sync->to_id == NULL || strcmp (sync->from_id != NULL ? sync->from_id : "", sync->to_id) < 0)
    return TRUE;
  g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_INVALID, _("to_id must come after from_id"));
  return FALSE;
}

/**
 * ssq_wire_sync_decode:
 * Reads a `sync` frame; every cursor must be a non-negative integer, and
 * the page's bounds strings, @to_id after @from_id.
 */
gboolean
ssq_wire_sync_decode (JsonObject   *frame,
                      SsqWireSync  *out,
                      GError      **error)
{
  *out = (SsqWireSync) { 0 };
  out->id = json_object_get_member (frame, "id");
  return ssq_json_get_object (frame, "since", FALSE, &out->since, error) &&
         (out->since == NULL || check_cursors (out->since, "since", error)) &&
         ssq_json_get_object (frame, "since_rev", FALSE, &out->since_rev, error) &&
         (out->since_rev == NULL || check_cursors (out->since_rev, "since_rev", error)) &&
         ssq_json_get_string (frame, "from_id", FALSE, &out->from_id, error) &&
         ssq_json_get_string (frame, "to_id", FALSE, &out->to_id, error) &&
         check_page (out, error);
}
