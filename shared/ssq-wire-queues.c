/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-wire-queues.c: the queues' part of the wire (shared/PROTOCOL.md,
 * Queues): the REST bodies of /api/v1/queues and the queue_* WebSocket
 * frames, encoded and decoded in one place for the server and the CLI. */
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

static void
set_string (JsonObject *object,
            const char *name,
            const char *value)
{
  if (value != NULL)
    json_object_set_string_member (object, name, value);
}

static void
set_int (JsonObject *object,
         const char *name,
         gint64      value)
{
  if (value >= 0)
    json_object_set_int_member (object, name, value);
}

/* An integer that may be absent: -1 then. */
static gboolean
get_optional_int (JsonObject  *object,
                  const char  *name,
                  gint64       min,
                  gint64       max,
                  gint64      *out,
                  GError     **error)
{
  *out = -1;
  return ssq_json_get_int (object, name, FALSE, min, max, out, error);
}

static gboolean
check_queue_name (const char  *name,
                  GError     **error)
{
  return ssq_check_text ("queue", name, 1, SSQ_QUEUE_NAME_MAX, error);
}

/* Header values a publisher may give: a string, a number, a boolean or
 * null, under names of 1 to 255 bytes (an AMQP short string). */
static gboolean
check_headers (JsonObject  *headers,
               GError     **error)
{
  JsonObjectIter iter;
  const char *name;
  JsonNode *value;

  if (json_object_get_size (headers) > SSQ_QUEUE_HEADERS_MAX)
    {
      g_set_error (error, SSQ_ERROR, SSQ_ERROR_INVALID, _("At most %d headers"),
                   SSQ_QUEUE_HEADERS_MAX);
      return FALSE;
    }
  json_object_iter_init (&iter, headers);
  while (json_object_iter_next (&iter, &name, &value))
    {
      GType type = JSON_NODE_HOLDS_VALUE (value) ? json_node_get_value_type (value)
                                                 : G_TYPE_INVALID;

      if (name[0] == '\0' || strlen (name) > 255)
        {
          g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_INVALID,
                               _("A header name has 1 to 255 bytes"));
          return FALSE;
        }
      if (!JSON_NODE_HOLDS_NULL (value) && type != G_TYPE_STRING && type != G_TYPE_INT64 &&
          type != G_TYPE_DOUBLE && type != G_TYPE_BOOLEAN)
        {
          g_autofree char *shown = g_utf8_make_valid (name, MIN (strlen (name), 64));

          g_set_error (error, SSQ_ERROR, SSQ_ERROR_INVALID,
                       _("Header \"%s\" must be a string, a number, a boolean or null"), shown);
          return FALSE;
        }
    }
  return TRUE;
}

/* ---- Publishing ---------------------------------------------------------- */

/**
 * ssq_wire_queue_publish_encode:
 * @type: SSQ_FRAME_TYPE_QUEUE_PUBLISH for the frame, SSQ_FRAME_TYPE_N for
 *   the REST body (no "type", "queue" nor "id")
 */
JsonObject *
ssq_wire_queue_publish_encode (SsqFrameType               type,
                               const SsqWireQueuePublish *p)
{
  gboolean frame = type == SSQ_FRAME_TYPE_QUEUE_PUBLISH;
  JsonObject *o = frame ? frame_new (type) : json_object_new ();

  if (frame)
    set_string (o, "queue", p->queue);
  set_string (o, "body", p->body);
  set_string (o, "body_base64", p->body_base64);
  set_string (o, "content_type", p->content_type);
  set_int (o, "priority", p->priority);
  set_int (o, "ttl_ms", p->ttl_ms);
  if (p->headers != NULL)
    json_object_set_object_member (o, "headers", json_object_ref (p->headers));
  if (!p->persistent)
    json_object_set_boolean_member (o, "persistent", FALSE);
  set_string (o, "correlation_id", p->correlation_id);
  set_string (o, "reply_to", p->reply_to);
  set_string (o, "message_id", p->message_id);
  if (frame && p->id != NULL)
    json_object_set_member (o, "id", json_node_copy (p->id));
  return o;
}

/**
 * ssq_wire_queue_publish_decode:
 * Reads a message to publish: exactly one of body and body_base64 (whose
 * base64 the server decodes), headers of simple values, short strings of
 * at most 255 bytes. @type as for the encoder.
 */
gboolean
ssq_wire_queue_publish_decode (JsonObject           *object,
                               SsqFrameType          type,
                               SsqWireQueuePublish  *out,
                               GError              **error)
{
  *out = (SsqWireQueuePublish) { .priority = -1, .ttl_ms = -1, .persistent = TRUE };
  if (type == SSQ_FRAME_TYPE_QUEUE_PUBLISH)
    {
      out->id = json_object_get_member (object, "id");
      if (!ssq_json_get_string (object, "queue", TRUE, &out->queue, error) ||
          !check_queue_name (out->queue, error))
        return FALSE;
    }
  if (!ssq_json_get_string (object, "body", FALSE, &out->body, error) ||
      !ssq_json_get_string (object, "body_base64", FALSE, &out->body_base64, error) ||
      !ssq_json_get_string (object, "content_type", FALSE, &out->content_type, error) ||
      !get_optional_int (object, "priority", 0, 255, &out->priority, error) ||
      !get_optional_int (object, "ttl_ms", 0, G_MAXUINT32, &out->ttl_ms, error) ||
      !ssq_json_get_object (object, "headers", FALSE, &out->headers, error) ||
      !ssq_json_get_bool (object, "persistent", FALSE, &out->persistent, error) ||
      !ssq_json_get_string (object, "correlation_id", FALSE, &out->correlation_id, error) ||
      !ssq_json_get_string (object, "reply_to", FALSE, &out->reply_to, error) ||
      !ssq_json_get_string (object, "message_id", FALSE, &out->message_id, error))
    return FALSE;
  if ((out->body == NULL) == (out->body_base64 == NULL))
    {
      g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_INVALID,
                           _("Give the message as \"body\" (text) or \"body_base64\", one of them"));
      return FALSE;
    }
  if ((out->content_type && strlen (out->content_type) > 255) ||
      (out->correlation_id && strlen (out->correlation_id) > 255) ||
      (out->reply_to && strlen (out->reply_to) > 255) ||
      (out->message_id && strlen (out->message_id) > 255))
    {
      g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_INVALID,
                           _("content_type, correlation_id, reply_to and message_id have at most "
                             "255 bytes"));
      return FALSE;
    }
  return out->headers == NULL || check_headers (out->headers, error);
}

/* ---- Messages taken ------------------------------------------------------ */

JsonObject *
ssq_wire_queue_message_encode (const SsqWireQueueMessage *m)
{
  JsonObject *o = json_object_new ();

  json_object_set_int_member (o, "tag", m->tag);
  json_object_set_int_member (o, "id", m->id);
  json_object_set_string_member (o, "queue", m->queue);
  json_object_set_string_member (o, "exchange", m->exchange);
  json_object_set_string_member (o, "routing_key", m->routing_key);
  set_string (o, "body", m->body);
  set_string (o, "body_base64", m->body_base64);
  set_string (o, "content_type", m->content_type);
  set_string (o, "content_encoding", m->content_encoding);
  if (m->headers != NULL)
    json_object_set_object_member (o, "headers", json_object_ref (m->headers));
  json_object_set_int_member (o, "priority", m->priority);
  set_string (o, "correlation_id", m->correlation_id);
  set_string (o, "reply_to", m->reply_to);
  set_string (o, "expiration", m->expiration);
  set_string (o, "message_id", m->message_id);
  if (m->timestamp > 0)
    json_object_set_int_member (o, "timestamp", m->timestamp);
  set_string (o, "message_type", m->type);
  set_string (o, "user_id", m->user_id);
  set_string (o, "app_id", m->app_id);
  json_object_set_boolean_member (o, "persistent", m->persistent);
  json_object_set_boolean_member (o, "redelivered", m->redelivered);
  json_object_set_int_member (o, "deliveries", m->deliveries);
  return o;
}

gboolean
ssq_wire_queue_message_decode (JsonObject           *o,
                               SsqWireQueueMessage  *out,
                               GError              **error)
{
  *out = (SsqWireQueueMessage) { 0 };
  if (!ssq_json_get_int (o, "tag", TRUE, 0, G_MAXINT64, &out->tag, error) ||
      !ssq_json_get_int (o, "id", TRUE, 0, G_MAXINT64, &out->id, error) ||
      !ssq_json_get_string (o, "queue", TRUE, &out->queue, error) ||
      !ssq_json_get_string (o, "exchange", TRUE, &out->exchange, error) ||
      !ssq_json_get_string (o, "routing_key", TRUE, &out->routing_key, error) ||
      !ssq_json_get_string (o, "body", FALSE, &out->body, error) ||
      !ssq_json_get_string (o, "body_base64", FALSE, &out->body_base64, error) ||
      !ssq_json_get_string (o, "content_type", FALSE, &out->content_type, error) ||
      !ssq_json_get_string (o, "content_encoding", FALSE, &out->content_encoding, error) ||
      !ssq_json_get_object (o, "headers", FALSE, &out->headers, error) ||
      !ssq_json_get_int (o, "priority", TRUE, 0, 255, &out->priority, error) ||
      !ssq_json_get_string (o, "correlation_id", FALSE, &out->correlation_id, error) ||
      !ssq_json_get_string (o, "reply_to", FALSE, &out->reply_to, error) ||
      !ssq_json_get_string (o, "expiration", FALSE, &out->expiration, error) ||
      !ssq_json_get_string (o, "message_id", FALSE, &out->message_id, error) ||
      !ssq_json_get_int (o, "timestamp", FALSE, 0, G_MAXINT64, &out->timestamp, error) ||
      !ssq_json_get_string (o, "message_type", FALSE, &out->type, error) ||
      !ssq_json_get_string (o, "user_id", FALSE, &out->user_id, error) ||
      !ssq_json_get_string (o, "app_id", FALSE, &out->app_id, error) ||
      !ssq_json_get_bool (o, "persistent", TRUE, &out->persistent, error) ||
      !ssq_json_get_bool (o, "redelivered", TRUE, &out->redelivered, error) ||
      !ssq_json_get_int (o, "deliveries", TRUE, 0, G_MAXINT64, &out->deliveries, error))
    return FALSE;
  if ((out->body == NULL) == (out->body_base64 == NULL))
    {
      g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_PROTOCOL,
                           _("A queue message has either \"body\" or \"body_base64\""));
      return FALSE;
    }
  return TRUE;
}

/* ---- Queues -------------------------------------------------------------- */

/**
 * ssq_wire_queue_args_encode:
 * The set arguments only; "durable" first when @with_durable (PUT's body).
 */
JsonObject *
ssq_wire_queue_args_encode (const SsqWireQueueArgs *a,
                            gboolean                with_durable)
{
  JsonObject *o = json_object_new ();

  if (with_durable)
    json_object_set_boolean_member (o, "durable", a->durable);
  set_int (o, "max_length", a->max_length);
  set_string (o, "overflow", a->overflow);
  set_int (o, "message_ttl_ms", a->message_ttl_ms);
  set_int (o, "expires_ms", a->expires_ms);
  set_int (o, "max_priority", a->max_priority);
  set_string (o, "dead_letter_exchange", a->dead_letter_exchange);
  set_string (o, "dead_letter_routing_key", a->dead_letter_routing_key);
  set_int (o, "max_deliveries", a->max_deliveries);
  return o;
}

/**
 * ssq_wire_queue_args_decode:
 * Reads queue arguments (and "durable", TRUE when absent) within the
 * bounds of their AMQP counterparts: overflow drop-head or reject-publish,
 * max_priority 1 to 255, expires_ms at least 1.
 */
gboolean
ssq_wire_queue_args_decode (JsonObject        *o,
                            SsqWireQueueArgs  *out,
                            GError           **error)
{
  *out = (SsqWireQueueArgs) { .durable = TRUE };
  if (!ssq_json_get_bool (o, "durable", FALSE, &out->durable, error) ||
      !get_optional_int (o, "max_length", 0, G_MAXINT32, &out->max_length, error) ||
      !ssq_json_get_string (o, "overflow", FALSE, &out->overflow, error) ||
      !get_optional_int (o, "message_ttl_ms", 0, G_MAXINT32, &out->message_ttl_ms, error) ||
      !get_optional_int (o, "expires_ms", 1, G_MAXINT32, &out->expires_ms, error) ||
      !get_optional_int (o, "max_priority", 1, 255, &out->max_priority, error) ||
      !ssq_json_get_string (o, "dead_letter_exchange", FALSE, &out->dead_letter_exchange, error) ||
      !ssq_json_get_string (o, "dead_letter_routing_key", FALSE, &out->dead_letter_routing_key,
                            error) ||
      !get_optional_int (o, "max_deliveries", 1, G_MAXINT32, &out->max_deliveries, error))
    return FALSE;
  if (out->overflow != NULL && !g_str_equal (out->overflow, "drop-head") &&
      !g_str_equal (out->overflow, "reject-publish"))
    {
      g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_INVALID,
                           _("Field \"overflow\" must be drop-head or reject-publish"));
      return FALSE;
    }
  if ((out->dead_letter_exchange && strlen (out->dead_letter_exchange) > 255) ||
      (out->dead_letter_routing_key && strlen (out->dead_letter_routing_key) > 255))
    {
      g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_INVALID,
                           _("Exchange names and routing keys have at most 255 bytes"));
      return FALSE;
    }
  return TRUE;
}

static JsonObject *
counters_encode (const SsqWireQueue *q)
{
  JsonObject *o = json_object_new ();

  json_object_set_int_member (o, "published", q->published);
  json_object_set_int_member (o, "delivered", q->delivered);
  json_object_set_int_member (o, "acknowledged", q->acknowledged);
  json_object_set_int_member (o, "redelivered", q->redelivered);
  json_object_set_int_member (o, "dead_lettered", q->dead_lettered);
  json_object_set_int_member (o, "expired", q->expired);
  json_object_set_int_member (o, "dropped", q->dropped);
  return o;
}

static JsonObject *
rates_encode (const SsqWireQueue *q)
{
  JsonObject *o = json_object_new ();

  json_object_set_double_member (o, "published", q->published_rate);
  json_object_set_double_member (o, "delivered", q->delivered_rate);
  json_object_set_double_member (o, "acknowledged", q->acknowledged_rate);
  return o;
}

JsonObject *
ssq_wire_queue_encode (const SsqWireQueue *q)
{
  JsonObject *o = json_object_new ();

  json_object_set_string_member (o, "name", q->name);
  if (q->owner != NULL)
    json_object_set_string_member (o, "owner", q->owner);
  else
    json_object_set_null_member (o, "owner");
  json_object_set_boolean_member (o, "durable", q->durable);
  json_object_set_boolean_member (o, "exclusive", q->exclusive);
  json_object_set_boolean_member (o, "auto_delete", q->auto_delete);
  json_object_set_object_member (o, "arguments", ssq_wire_queue_args_encode (&q->arguments, FALSE));
  json_object_set_int_member (o, "depth", q->depth);
  json_object_set_int_member (o, "unacked", q->unacked);
  json_object_set_int_member (o, "consumers", q->consumers);
  json_object_set_object_member (o, "counters", counters_encode (q));
  json_object_set_object_member (o, "rates", rates_encode (q));
  return o;
}

static gboolean
get_number (JsonObject  *o,
            const char  *name,
            double      *out,
            GError     **error)
{
  JsonNode *node = json_object_get_member (o, name);
  GType type = node && JSON_NODE_HOLDS_VALUE (node) ? json_node_get_value_type (node)
                                                    : G_TYPE_INVALID;

  if (type != G_TYPE_DOUBLE && type != G_TYPE_INT64)
    {
      g_set_error (error, SSQ_ERROR, SSQ_ERROR_PROTOCOL, _("Field \"%s\" must be a number"), name);
      return FALSE;
    }
  *out = json_node_get_double (node);
  return TRUE;
}

gboolean
ssq_wire_queue_decode (JsonObject    *o,
                       SsqWireQueue  *out,
                       GError       **error)
{
  JsonObject *arguments = NULL, *counters = NULL, *rates = NULL;

  *out = (SsqWireQueue) { 0 };
  if (!ssq_json_get_string (o, "name", TRUE, &out->name, error) ||
      !ssq_json_get_string (o, "owner", FALSE, &out->owner, error) ||
      !ssq_json_get_bool (o, "durable", TRUE, &out->durable, error) ||
      !ssq_json_get_bool (o, "exclusive", TRUE, &out->exclusive, error) ||
      !ssq_json_get_bool (o, "auto_delete", TRUE, &out->auto_delete, error) ||
      !ssq_json_get_object (o, "arguments", TRUE, &arguments, error) ||
      !ssq_wire_queue_args_decode (arguments, &out->arguments, error) ||
      !ssq_json_get_int (o, "depth", TRUE, 0, G_MAXINT64, &out->depth, error) ||
      !ssq_json_get_int (o, "unacked", TRUE, 0, G_MAXINT64, &out->unacked, error) ||
      !ssq_json_get_int (o, "consumers", TRUE, 0, G_MAXINT64, &out->consumers, error) ||
      !ssq_json_get_object (o, "counters", TRUE, &counters, error) ||
      !ssq_json_get_object (o, "rates", TRUE, &rates, error))
    return FALSE;
  return ssq_json_get_int (counters, "published", TRUE, 0, G_MAXINT64, &out->published, error) &&
         ssq_json_get_int (counters, "delivered", TRUE, 0, G_MAXINT64, &out->delivered, error) &&
         ssq_json_get_int (counters, "acknowledged", TRUE, 0, G_MAXINT64, &out->acknowledged,
                           error) &&
         ssq_json_get_int (counters, "redelivered", TRUE, 0, G_MAXINT64, &out->redelivered,
                           error) &&
         ssq_json_get_int (counters, "dead_lettered", TRUE, 0, G_MAXINT64, &out->dead_lettered,
                           error) &&
         ssq_json_get_int (counters, "expired", TRUE, 0, G_MAXINT64, &out->expired, error) &&
         ssq_json_get_int (counters, "dropped", TRUE, 0, G_MAXINT64, &out->dropped, error) &&
         get_number (rates, "published", &out->published_rate, error) &&
         get_number (rates, "delivered", &out->delivered_rate, error) &&
         get_number (rates, "acknowledged", &out->acknowledged_rate, error);
}

/* ---- Frames -------------------------------------------------------------- */

JsonObject *
ssq_wire_queue_subscribe_encode (const SsqWireQueueSubscribe *s)
{
  JsonObject *frame = frame_new (SSQ_FRAME_TYPE_QUEUE_SUBSCRIBE);

  json_object_set_string_member (frame, "queue", s->queue);
  if (s->prefetch > 0)
    json_object_set_int_member (frame, "prefetch", s->prefetch);
  if (s->id != NULL)
    json_object_set_member (frame, "id", json_node_copy (s->id));
  return frame;
}

/**
 * ssq_wire_queue_subscribe_decode:
 * The prefetch's upper bound is the server's (max_unacked_per_channel),
 * checked there; here it is at least 1 and fits AMQP's 16 bits.
 */
gboolean
ssq_wire_queue_subscribe_decode (JsonObject             *frame,
                                 SsqWireQueueSubscribe  *out,
                                 GError                **error)
{
  *out = (SsqWireQueueSubscribe) { 0 };
  out->id = json_object_get_member (frame, "id");
  return ssq_json_get_string (frame, "queue", TRUE, &out->queue, error) &&
         check_queue_name (out->queue, error) &&
         ssq_json_get_int (frame, "prefetch", FALSE, 1, G_MAXUINT16, &out->prefetch, error);
}

/**
 * ssq_wire_queue_subscription_encode:
 * @type: SSQ_FRAME_TYPE_QUEUE_UNSUBSCRIBE or SSQ_FRAME_TYPE_QUEUE_CANCELLED
 */
JsonObject *
ssq_wire_queue_subscription_encode (SsqFrameType                    type,
                                    const SsqWireQueueSubscription *s)
{
  JsonObject *frame = frame_new (type);

  json_object_set_string_member (frame, "subscription", s->subscription);
  if (type == SSQ_FRAME_TYPE_QUEUE_CANCELLED)
    json_object_set_string_member (frame, "queue", s->queue);
  if (s->id != NULL)
    json_object_set_member (frame, "id", json_node_copy (s->id));
  return frame;
}

gboolean
ssq_wire_queue_subscription_decode (JsonObject                *frame,
                                    SsqFrameType               type,
                                    SsqWireQueueSubscription  *out,
                                    GError                   **error)
{
  *out = (SsqWireQueueSubscription) { 0 };
  out->id = json_object_get_member (frame, "id");
  return ssq_json_get_string (frame, "subscription", TRUE, &out->subscription, error) &&
         (type != SSQ_FRAME_TYPE_QUEUE_CANCELLED ||
          ssq_json_get_string (frame, "queue", TRUE, &out->queue, error));
}

/**
 * ssq_wire_queue_tags_encode:
 * @type: SSQ_FRAME_TYPE_QUEUE_ACK or _NACK for the frames, SSQ_FRAME_TYPE_N
 *   for the REST bodies of …/ack and …/nack
 */
JsonObject *
ssq_wire_queue_tags_encode (SsqFrameType            type,
                            const SsqWireQueueTags *t)
{
  JsonObject *o = type != SSQ_FRAME_TYPE_N ? frame_new (type) : json_object_new ();

  json_object_set_array_member (o, "tags", json_array_ref (t->tags));
  if (type != SSQ_FRAME_TYPE_QUEUE_ACK && !t->requeue)
    json_object_set_boolean_member (o, "requeue", FALSE);
  if (type != SSQ_FRAME_TYPE_N && t->id != NULL)
    json_object_set_member (o, "id", json_node_copy (t->id));
  return o;
}

/**
 * ssq_wire_queue_tags_decode:
 * Reads 1 to SSQ_QUEUE_TAGS_MAX delivery tags (positive integers) and
 * requeue (TRUE when absent).
 */
gboolean
ssq_wire_queue_tags_decode (JsonObject        *o,
                            SsqWireQueueTags  *out,
                            GError           **error)
{
  *out = (SsqWireQueueTags) { .requeue = TRUE };
  out->id = json_object_get_member (o, "id");
  if (!ssq_json_get_array (o, "tags", TRUE, SSQ_QUEUE_TAGS_MAX, &out->tags, error) ||
      !ssq_json_get_bool (o, "requeue", FALSE, &out->requeue, error))
    return FALSE;
  if (json_array_get_length (out->tags) == 0)
    {
      g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_INVALID, _("Field \"tags\" is empty"));
      return FALSE;
    }
  for (guint i = 0; i < json_array_get_length (out->tags); i++)
    {
      JsonNode *node = json_array_get_element (out->tags, i);

      if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64 ||
          json_node_get_int (node) <= 0)
        {
          g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_INVALID,
                               _("Field \"tags\" must hold positive integers"));
          return FALSE;
        }
    }
  return TRUE;
}

JsonObject *
ssq_wire_queue_message_frame_encode (const char *subscription,
                                     JsonObject *message)
{
  JsonObject *frame = frame_new (SSQ_FRAME_TYPE_QUEUE_MESSAGE);

  json_object_set_string_member (frame, "subscription", subscription);
  json_object_set_object_member (frame, "message", json_object_ref (message));
  return frame;
}

gboolean
ssq_wire_queue_message_frame_decode (JsonObject   *frame,
                                     const char  **out_subscription,
                                     JsonObject  **out_message,
                                     GError      **error)
{
  return ssq_json_get_string (frame, "subscription", TRUE, out_subscription, error) &&
         ssq_json_get_object (frame, "message", TRUE, out_message, error);
}
