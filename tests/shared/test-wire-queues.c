/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-wire-queues.c: the queues' golden lines (names starting "queue")
 * both ways, and what their decoders refuse. */
#include "test-wire-private.h"

#include <string.h>

static JsonObject *
headers (void)
{
  JsonObject *h = json_object_new ();

  json_object_set_string_member (h, "source", "ci");
  json_object_set_int_member (h, "attempt", 3);
  json_object_set_boolean_member (h, "urgent", TRUE);
  json_object_set_double_member (h, "load", 0.5);
  return h;
}

static JsonArray *
tags (void)
{
  JsonArray *a = json_array_new ();

  json_array_add_int_element (a, 1);
  json_array_add_int_element (a, 2);
  return a;
}

static const SsqWireQueueArgs declare_args = {
  TRUE, 1000, "reject-publish", 60000, -1, 10, "", "dead", 5,
};

static const SsqWireQueueMessage queue_message = {
  7, 42, "jobs", "", "jobs", "build #12", NULL, "text/plain", NULL, NULL, 3, "c-9", "replies",
  NULL, "m-1", 1700000000, NULL, "alice", NULL, TRUE, TRUE, 2,
};

static const SsqWireQueueMessage queue_message_binary = {
  8, 43, "jobs", "amq.direct", "k", NULL, "AAH/", NULL, NULL, NULL, 0, NULL, NULL,
  "60000", NULL, 0, "build", NULL, "ci", FALSE, FALSE, 1,
};

static SsqWireQueue
queue_struct (void)
{
  SsqWireQueue q = {
    "jobs", "alice", TRUE, FALSE, FALSE,
    { TRUE, 1000, "drop-head", -1, -1, -1, NULL, NULL, -1 },
    4, 1, 2, 10, 7, 5, 1, 0, 0, 1, 0.5, 0.25, 0.0,
  };

  return q;
}

JsonObject *
queue_encode (const char *name)
{
  g_autoptr(JsonObject) h = headers ();
  g_autoptr(JsonArray) t = tags ();
  g_autoptr(JsonNode) id1 = json_node_init_int (json_node_alloc (), 1);
  g_autoptr(JsonNode) id2 = json_node_init_string (json_node_alloc (), "s1");
  g_autoptr(JsonObject) message = ssq_wire_queue_message_encode (&queue_message);
  SsqWireQueue q = queue_struct ();
  SsqWireQueuePublish publish = {
    id1, "jobs", "build #12", NULL, "text/plain", 3, 60000, h, TRUE, "c-9", "replies", "m-1",
  };
  SsqWireQueuePublish publish_binary = {
    NULL, NULL, NULL, "AAH/", NULL, -1, -1, NULL, FALSE, NULL, NULL, NULL,
  };

#define IS(n) (g_str_equal (name, n))
  if (IS ("queue_publish"))
    return ssq_wire_queue_publish_encode (SSQ_FRAME_TYPE_QUEUE_PUBLISH, &publish);
  if (IS ("queue-rest-publish"))
    return ssq_wire_queue_publish_encode (SSQ_FRAME_TYPE_N, &publish_binary);
  if (IS ("queue-rest-declare"))
    return ssq_wire_queue_args_encode (&declare_args, TRUE);
  if (IS ("queue-message"))
    return ssq_wire_queue_message_encode (&queue_message);
  if (IS ("queue-message-binary"))
    return ssq_wire_queue_message_encode (&queue_message_binary);
  if (IS ("queue-object"))
    return ssq_wire_queue_encode (&q);
  if (IS ("queue-rest-nack"))
    return ssq_wire_queue_tags_encode (SSQ_FRAME_TYPE_N, &(SsqWireQueueTags) { NULL, t, FALSE });
  if (IS ("queue_subscribe"))
    return ssq_wire_queue_subscribe_encode (&(SsqWireQueueSubscribe) { id2, "jobs", 5 });
  if (IS ("queue_unsubscribe"))
    return ssq_wire_queue_subscription_encode (SSQ_FRAME_TYPE_QUEUE_UNSUBSCRIBE,
                                               &(SsqWireQueueSubscription) { id1, "amq.ctag-1" });
  if (IS ("queue_ack"))
    return ssq_wire_queue_tags_encode (SSQ_FRAME_TYPE_QUEUE_ACK,
                                       &(SsqWireQueueTags) { NULL, t, TRUE });
  if (IS ("queue_nack"))
    return ssq_wire_queue_tags_encode (SSQ_FRAME_TYPE_QUEUE_NACK,
                                       &(SsqWireQueueTags) { id1, t, FALSE });
  if (IS ("queue_message"))
    return ssq_wire_queue_message_frame_encode ("amq.ctag-1", message);
  if (IS ("queue_cancelled"))
    return ssq_wire_queue_subscription_encode (SSQ_FRAME_TYPE_QUEUE_CANCELLED,
                                               &(SsqWireQueueSubscription) {
                                                 NULL, "amq.ctag-1", "jobs" });
  if (IS ("queue-ack-publish"))
    return ssq_wire_ack_encode (&(SsqWireAck) { .id = id1, .message_id = 42 });
  if (IS ("queue-ack-subscribe"))
    return ssq_wire_ack_encode (&(SsqWireAck) { .id = id2, .subscription = "amq.ctag-1" });
  if (IS ("queue-ack-settle"))
    return ssq_wire_ack_encode (&(SsqWireAck) { .id = id1, .unknown = t });
#undef IS
  g_assert_not_reached ();
}

static void
assert_queue_message (JsonObject                *object,
                      const SsqWireQueueMessage *e)
{
  g_autoptr(GError) error = NULL;
  SsqWireQueueMessage m;

  g_assert_true (ssq_wire_queue_message_decode (object, &m, &error));
  g_assert_no_error (error);
  g_assert_cmpint (m.tag, ==, e->tag);
  g_assert_cmpint (m.id, ==, e->id);
  g_assert_cmpstr (m.queue, ==, e->queue);
  g_assert_cmpstr (m.exchange, ==, e->exchange);
  g_assert_cmpstr (m.routing_key, ==, e->routing_key);
  g_assert_cmpstr (m.body, ==, e->body);
  g_assert_cmpstr (m.body_base64, ==, e->body_base64);
  g_assert_cmpstr (m.content_type, ==, e->content_type);
  g_assert_cmpint (m.priority, ==, e->priority);
  g_assert_cmpstr (m.correlation_id, ==, e->correlation_id);
  g_assert_cmpstr (m.reply_to, ==, e->reply_to);
  g_assert_cmpstr (m.expiration, ==, e->expiration);
  g_assert_cmpstr (m.message_id, ==, e->message_id);
  g_assert_cmpint (m.timestamp, ==, e->timestamp);
  g_assert_cmpstr (m.type, ==, e->type);
  g_assert_cmpstr (m.user_id, ==, e->user_id);
  g_assert_cmpstr (m.app_id, ==, e->app_id);
  g_assert_cmpint (m.persistent, ==, e->persistent);
  g_assert_cmpint (m.redelivered, ==, e->redelivered);
  g_assert_cmpint (m.deliveries, ==, e->deliveries);
}

static void
assert_tags (JsonArray *array)
{
  g_assert_cmpuint (json_array_get_length (array), ==, 2);
  g_assert_cmpint (json_array_get_int_element (array, 0), ==, 1);
  g_assert_cmpint (json_array_get_int_element (array, 1), ==, 2);
}

void
queue_decode (const char *name,
              JsonObject *object)
{
  g_autoptr(GError) error = NULL;
  SsqWireHead head = { SSQ_FRAME_TYPE_N, NULL };
  gboolean is_frame = json_object_has_member (object, "type");
  gboolean from_client = is_frame && !g_str_equal (name, "queue_message") &&
                         !g_str_equal (name, "queue_cancelled") &&
                         !g_str_has_prefix (name, "queue-ack");

  if (is_frame)
    {
      g_assert_true (ssq_wire_head_decode (object, from_client ? SSQ_WIRE_FROM_CLIENT
                                                               : SSQ_WIRE_FROM_SERVER,
                                           &head, &error));
      g_assert_no_error (error);
    }
#define IS(n) (g_str_equal (name, n))
  if (IS ("queue_publish") || IS ("queue-rest-publish"))
    {
      SsqWireQueuePublish p;
      gboolean frame = IS ("queue_publish");

      g_assert_true (ssq_wire_queue_publish_decode (object, frame ? SSQ_FRAME_TYPE_QUEUE_PUBLISH
                                                                  : SSQ_FRAME_TYPE_N, &p, &error));
      g_assert_no_error (error);
      g_assert_cmpstr (p.queue, ==, frame ? "jobs" : NULL);
      g_assert_cmpstr (p.body, ==, frame ? "build #12" : NULL);
      g_assert_cmpstr (p.body_base64, ==, frame ? NULL : "AAH/");
      g_assert_cmpint (p.priority, ==, frame ? 3 : -1);
      g_assert_cmpint (p.ttl_ms, ==, frame ? 60000 : -1);
      g_assert_cmpint (p.persistent, ==, frame);
      g_assert_cmpint (p.headers != NULL, ==, frame);
      g_assert_cmpstr (p.message_id, ==, frame ? "m-1" : NULL);
    }
  else if (IS ("queue-rest-declare"))
    {
      SsqWireQueueArgs a;

      g_assert_true (ssq_wire_queue_args_decode (object, &a, &error));
      g_assert_no_error (error);
      g_assert_cmpint (a.max_length, ==, 1000);
      g_assert_cmpstr (a.overflow, ==, "reject-publish");
      g_assert_cmpint (a.message_ttl_ms, ==, 60000);
      g_assert_cmpint (a.expires_ms, ==, -1);
      g_assert_cmpint (a.max_priority, ==, 10);
      g_assert_cmpstr (a.dead_letter_exchange, ==, "");
      g_assert_cmpstr (a.dead_letter_routing_key, ==, "dead");
      g_assert_cmpint (a.max_deliveries, ==, 5);
    }
  else if (IS ("queue-message"))
    assert_queue_message (object, &queue_message);
  else if (IS ("queue-message-binary"))
    assert_queue_message (object, &queue_message_binary);
  else if (IS ("queue-object"))
    {
      SsqWireQueue q, e = queue_struct ();

      g_assert_true (ssq_wire_queue_decode (object, &q, &error));
      g_assert_no_error (error);
      g_assert_cmpstr (q.name, ==, e.name);
      g_assert_cmpstr (q.owner, ==, e.owner);
      g_assert_cmpint (q.arguments.max_length, ==, 1000);
      g_assert_cmpint (q.depth, ==, e.depth);
      g_assert_cmpint (q.unacked, ==, e.unacked);
      g_assert_cmpint (q.consumers, ==, e.consumers);
      g_assert_cmpint (q.dead_lettered, ==, e.dead_lettered);
      g_assert_cmpfloat (q.published_rate, ==, e.published_rate);
      g_assert_cmpfloat (q.acknowledged_rate, ==, 0.0);
    }
  else if (IS ("queue-rest-nack") || IS ("queue_ack") || IS ("queue_nack"))
    {
      SsqWireQueueTags t;

      g_assert_true (ssq_wire_queue_tags_decode (object, &t, &error));
      g_assert_no_error (error);
      assert_tags (t.tags);
      g_assert_cmpint (t.requeue, ==, IS ("queue_ack"));
    }
  else if (IS ("queue_subscribe"))
    {
      SsqWireQueueSubscribe s;

      g_assert_true (ssq_wire_queue_subscribe_decode (object, &s, &error));
      g_assert_no_error (error);
      g_assert_cmpstr (s.queue, ==, "jobs");
      g_assert_cmpint (s.prefetch, ==, 5);
      g_assert_cmpstr (json_node_get_string (s.id), ==, "s1");
    }
  else if (IS ("queue_unsubscribe") || IS ("queue_cancelled"))
    {
      SsqWireQueueSubscription s;

      g_assert_true (ssq_wire_queue_subscription_decode (object, head.type, &s, &error));
      g_assert_no_error (error);
      g_assert_cmpstr (s.subscription, ==, "amq.ctag-1");
      g_assert_cmpstr (s.queue, ==, IS ("queue_cancelled") ? "jobs" : NULL);
    }
  else if (IS ("queue_message"))
    {
      const char *subscription;
      JsonObject *message;

      g_assert_true (ssq_wire_queue_message_frame_decode (object, &subscription, &message,
                                                          &error));
      g_assert_no_error (error);
      g_assert_cmpstr (subscription, ==, "amq.ctag-1");
      assert_queue_message (message, &queue_message);
    }
  else if (g_str_has_prefix (name, "queue-ack"))
    {
      SsqWireAck ack;

      g_assert_true (ssq_wire_ack_decode (object, &ack, &error));
      g_assert_no_error (error);
      g_assert_cmpint (ack.message_id, ==, IS ("queue-ack-publish") ? 42 : 0);
      g_assert_cmpstr (ack.subscription, ==, IS ("queue-ack-subscribe") ? "amq.ctag-1" : NULL);
      if (IS ("queue-ack-settle"))
        assert_tags (ack.unknown);
      else
        g_assert_null (ack.unknown);
    }
  else
    g_assert_not_reached ();
#undef IS
}

/* What the queue decoders refuse, each with an error saying so. */
static void
test_wire_queues_rejects (void)
{
  static const struct {
    const char *kind;
    const char *json;
  } bad[] = {
    { "publish", "{\"type\":\"queue_publish\",\"queue\":\"q\"}" },
    { "publish", "{\"type\":\"queue_publish\",\"queue\":\"q\",\"body\":\"a\",\"body_base64\":\"\"}" },
    { "publish", "{\"type\":\"queue_publish\",\"body\":\"a\"}" },
    { "publish", "{\"type\":\"queue_publish\",\"queue\":\"\",\"body\":\"a\"}" },
    { "publish", "{\"type\":\"queue_publish\",\"queue\":\"q\",\"body\":1}" },
    { "publish", "{\"type\":\"queue_publish\",\"queue\":\"q\",\"body\":\"a\",\"priority\":256}" },
    { "publish", "{\"type\":\"queue_publish\",\"queue\":\"q\",\"body\":\"a\",\"ttl_ms\":-1}" },
    { "publish", "{\"type\":\"queue_publish\",\"queue\":\"q\",\"body\":\"a\",\"headers\":[]}" },
    { "publish", "{\"type\":\"queue_publish\",\"queue\":\"q\",\"body\":\"a\",\"headers\":{\"x\":{}}}" },
    { "publish", "{\"type\":\"queue_publish\",\"queue\":\"q\",\"body\":\"a\",\"headers\":{\"x\":[1]}}" },
    { "publish", "{\"type\":\"queue_publish\",\"queue\":\"q\",\"body\":\"a\",\"headers\":{\"\":1}}" },
    { "publish", "{\"type\":\"queue_publish\",\"queue\":\"q\",\"body\":\"a\",\"persistent\":\"yes\"}" },
    { "tags", "{\"tags\":[]}" },
    { "tags", "{\"tags\":[0]}" },
    { "tags", "{\"tags\":[-3]}" },
    { "tags", "{\"tags\":[\"1\"]}" },
    { "tags", "{\"tags\":[1.5]}" },
    { "tags", "{\"tags\":1}" },
    { "tags", "{\"tags\":[1],\"requeue\":1}" },
    { "args", "{\"overflow\":\"drop-tail\"}" },
    { "args", "{\"max_priority\":0}" },
    { "args", "{\"max_priority\":256}" },
    { "args", "{\"expires_ms\":0}" },
    { "args", "{\"max_length\":-1}" },
    { "args", "{\"durable\":1}" },
    { "subscribe", "{\"type\":\"queue_subscribe\",\"queue\":\"q\",\"prefetch\":0}" },
    { "subscribe", "{\"type\":\"queue_subscribe\",\"queue\":\"q\",\"prefetch\":65536}" },
    { "subscribe", "{\"type\":\"queue_subscribe\"}" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(JsonObject) o = ssq_json_parse_object (bad[i].json, strlen (bad[i].json), &error);
      gboolean ok = TRUE;

      g_assert_no_error (error);
      g_test_message ("refused: %s", bad[i].json);
      if (g_str_equal (bad[i].kind, "publish"))
        {
          SsqWireQueuePublish p;

          ok = ssq_wire_queue_publish_decode (o, SSQ_FRAME_TYPE_QUEUE_PUBLISH, &p, &error);
        }
      else if (g_str_equal (bad[i].kind, "tags"))
        {
          SsqWireQueueTags t;

          ok = ssq_wire_queue_tags_decode (o, &t, &error);
        }
      else if (g_str_equal (bad[i].kind, "args"))
        {
          SsqWireQueueArgs a;

          ok = ssq_wire_queue_args_decode (o, &a, &error);
        }
      else
        {
          SsqWireQueueSubscribe s;

          ok = ssq_wire_queue_subscribe_decode (o, &s, &error);
        }
      g_assert_false (ok);
      g_assert_error (error, SSQ_ERROR, SSQ_ERROR_INVALID);
    }
}

/* The bounds: SSQ_QUEUE_TAGS_MAX tags and SSQ_QUEUE_HEADERS_MAX headers
 * pass, one more does not. */
static void
test_wire_queues_bounds (void)
{
  for (guint extra = 0; extra < 2; extra++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(JsonObject) body = json_object_new ();
      g_autoptr(JsonObject) publish = json_object_new ();
      JsonArray *list = json_array_new ();
      JsonObject *h = json_object_new ();
      SsqWireQueueTags t;
      SsqWireQueuePublish p;

      for (guint i = 1; i <= SSQ_QUEUE_TAGS_MAX + extra; i++)
        json_array_add_int_element (list, i);
      json_object_set_array_member (body, "tags", list);
      g_assert_cmpint (ssq_wire_queue_tags_decode (body, &t, &error), ==, extra == 0);
      g_clear_error (&error);
      for (guint i = 0; i < SSQ_QUEUE_HEADERS_MAX + extra; i++)
        {
          g_autofree char *name = g_strdup_printf ("h%u", i);

          json_object_set_int_member (h, name, i);
        }
      json_object_set_string_member (publish, "body", "x");
      json_object_set_object_member (publish, "headers", h);
      g_assert_cmpint (ssq_wire_queue_publish_decode (publish, SSQ_FRAME_TYPE_N, &p, &error), ==,
                       extra == 0);
    }
}

void
queue_add_tests (void)
{
  g_test_add_func ("/shared/wire/queues/rejects", test_wire_queues_rejects);
  g_test_add_func ("/shared/wire/queues/bounds", test_wire_queues_bounds);
}
