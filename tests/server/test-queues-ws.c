/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-queues-ws.c: queues over the WebSocket on the real server:
 * queue_publish acked with the message id, queue_subscribe pushing
 * queue_message within the prefetch, queue_ack and queue_nack, unsubscribe,
 * queue_cancelled, a closed session's deliveries requeued, the bounds, and
 * a reader too slow for its subscription, whose messages wait in the
 * broker instead of the server's send queue. */
#include "ssq-test-raw.h"
#include "ssq-json.h"

#include <string.h>

static SsqTestServer *server;

static JsonObject *
request (SsqTestWs  *ws,
         const char *json,
         const char *expected_type)
{
  JsonObject *f = ssq_test_ws_request (ws, json);

  g_assert_nonnull (f);
  if (!g_str_equal (json_object_get_string_member (f, "type"), expected_type))
    g_error ("%s: %s", json, json_object_get_string_member_with_default (f, "message", "?"));
  return f;
}

static void
request_error (SsqTestWs  *ws,
               const char *json,
               const char *code)
{
  g_autoptr(JsonObject) f = request (ws, json, "error");

  g_assert_cmpstr (json_object_get_string_member (f, "code"), ==, code);
}

static JsonObject *
next_message (SsqTestWs *ws)
{
  g_autoptr(JsonObject) f = ssq_test_ws_expect (ws, "queue_message", 10000);

  g_assert_nonnull (f);
  return json_object_ref (json_object_get_object_member (f, "message"));
}

static void
test_publish_subscribe (void)
{
  g_autoptr(SsqTestUser) alice = ssq_test_register (server, "ws.alice");
  g_autoptr(SsqTestWs) ws = ssq_test_ws_connect (server, alice->token, NULL);
  g_autoptr(JsonObject) ack = NULL;
  g_autoptr(JsonObject) m1 = NULL, m2 = NULL, m3 = NULL, again = NULL;
  g_autofree char *subscription = NULL;
  g_autofree char *text = NULL;
  gint64 id1;

  ssq_test_queue_declare (server, "ws.q", alice->token);
  ack = request (ws, "{\"type\":\"queue_publish\",\"queue\":\"ws.q\",\"body\":\"one\","
                     "\"headers\":{\"n\":1}}", "ack");
  id1 = json_object_get_int_member (ack, "message_id");
  g_assert_cmpint (id1, >, 0);
  g_clear_pointer (&ack, json_object_unref);
  for (guint i = 2; i <= 3; i++)
    {
      g_autofree char *frame = g_strdup_printf ("{\"type\":\"queue_publish\",\"queue\":\"ws.q\","
                                                "\"body\":\"%u\",\"persistent\":false}", i);

      ack = request (ws, frame, "ack");
      g_clear_pointer (&ack, json_object_unref);
    }

  /* Two at a time: the prefetch. */
  ack = request (ws, "{\"type\":\"queue_subscribe\",\"queue\":\"ws.q\",\"prefetch\":2}", "ack");
  subscription = g_strdup (json_object_get_string_member (ack, "subscription"));
  g_assert_nonnull (subscription);
  m1 = next_message (ws);
  m2 = next_message (ws);
  g_assert_cmpint (json_object_get_int_member (m1, "id"), ==, id1);
  g_assert_cmpstr (json_object_get_string_member (m1, "body"), ==, "one");
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (m1, "headers"), "n"),
                   ==, 1);
  g_assert_true (ssq_test_ws_nothing (ws, "queue_message", 300));
  g_assert_cmpint (ssq_test_queue_field (server, "ws.q", alice->token, "consumers"), ==, 1);

  /* An ack makes room for the third; an unknown tag is said. */
  text = g_strdup_printf ("{\"type\":\"queue_ack\",\"tags\":[%" G_GINT64_FORMAT ",77]}",
                          json_object_get_int_member (m1, "tag"));
  g_clear_pointer (&ack, json_object_unref);
  ack = request (ws, text, "ack");
  g_assert_cmpint (json_array_get_int_element (json_object_get_array_member (ack, "unknown"), 0),
                   ==, 77);
  m3 = next_message (ws);
  g_assert_cmpstr (json_object_get_string_member (m3, "body"), ==, "3");

  /* nack with requeue: it comes again, redelivered. */
  g_free (text);
  text = g_strdup_printf ("{\"type\":\"queue_nack\",\"tags\":[%" G_GINT64_FORMAT "]}",
                          json_object_get_int_member (m2, "tag"));
  g_clear_pointer (&ack, json_object_unref);
  ack = request (ws, text, "ack");
  g_assert_false (json_object_has_member (ack, "unknown"));
  again = next_message (ws);
  g_assert_cmpstr (json_object_get_string_member (again, "body"), ==, "2");
  g_assert_true (json_object_get_boolean_member (again, "redelivered"));
  g_assert_cmpint (json_object_get_int_member (again, "deliveries"), ==, 2);

  /* Unsubscribed: no consumer; its unacked may still be acked. */
  g_free (text);
  text = g_strdup_printf ("{\"type\":\"queue_unsubscribe\",\"subscription\":\"%s\"}",
                          subscription);
  g_clear_pointer (&ack, json_object_unref);
  ack = request (ws, text, "ack");
  g_assert_cmpint (ssq_test_queue_field (server, "ws.q", alice->token, "consumers"), ==, 0);
  request_error (ws, text, "not_found");
  g_free (text);
  text = g_strdup_printf ("{\"type\":\"queue_ack\",\"tags\":[%" G_GINT64_FORMAT ",%" G_GINT64_FORMAT
                          "]}", json_object_get_int_member (m3, "tag"),
                          json_object_get_int_member (again, "tag"));
  g_clear_pointer (&ack, json_object_unref);
  ack = request (ws, text, "ack");
  g_assert_false (json_object_has_member (ack, "unknown"));
  g_assert_cmpint (ssq_test_queue_field (server, "ws.q", alice->token, "unacked"), ==, 0);
  g_assert_cmpint (ssq_test_queue_field (server, "ws.q", alice->token, "depth"), ==, 0);
}

/* A session that closes gives its unacked deliveries back. */
static void
test_requeue_on_close (void)
{
  g_autoptr(SsqTestUser) alice = ssq_test_register (server, "close.alice");
  g_autoptr(SsqTestWs) ws = ssq_test_ws_connect (server, alice->token, NULL);
  g_autoptr(JsonObject) ack = NULL;
  g_autoptr(JsonObject) m = NULL;
  g_autoptr(JsonObject) r = NULL;
  JsonObject *back;

  ssq_test_queue_declare (server, "close.q", alice->token);
  ack = request (ws, "{\"type\":\"queue_publish\",\"queue\":\"close.q\",\"body\":\"held\"}", "ack");
  g_clear_pointer (&ack, json_object_unref);
  ack = request (ws, "{\"type\":\"queue_subscribe\",\"queue\":\"close.q\"}", "ack");
  m = next_message (ws);
  g_assert_cmpint (ssq_test_queue_field (server, "close.q", alice->token, "unacked"), ==, 1);
  g_clear_pointer (&ws, ssq_test_ws_free);
  ssq_test_wait_queue_field (server, "close.q", alice->token, "depth", 1, 15000);
  g_assert_cmpint (ssq_test_queue_field (server, "close.q", alice->token, "depth"), ==, 1);
  g_assert_cmpint (ssq_test_queue_field (server, "close.q", alice->token, "unacked"), ==, 0);
  g_assert_cmpint (ssq_test_queue_field (server, "close.q", alice->token, "consumers"), ==, 0);
  r = ssq_test_http_expect (server, "GET", "/api/v1/queues/close.q/messages?lease=0", alice->token,
                            NULL, 200);
  back = json_array_get_object_element (json_object_get_array_member (r, "messages"), 0);
  g_assert_cmpstr (json_object_get_string_member (back, "body"), ==, "held");
  g_assert_true (json_object_get_boolean_member (back, "redelivered"));
}

static void
test_errors (void)
{
  g_autoptr(SsqTestUser) alice = ssq_test_register (server, "wserr.alice");
  g_autoptr(SsqTestUser) bob = ssq_test_register (server, "wserr.bob");
  g_autoptr(SsqTestWs) ws = ssq_test_ws_connect (server, alice->token, NULL);
  g_autoptr(JsonObject) ack = NULL;
  g_autoptr(JsonObject) cancelled = NULL;
  g_autoptr(JsonObject) r = NULL;

  ssq_test_queue_declare (server, "wserr.q", bob->token);
  request_error (ws, "{\"type\":\"queue_publish\",\"queue\":\"wserr.none\",\"body\":\"x\"}",
                 "not_found");
  request_error (ws, "{\"type\":\"queue_publish\",\"queue\":\"wserr.q\"}", "invalid");
  request_error (ws, "{\"type\":\"queue_publish\",\"queue\":\"wserr.q\",\"body_base64\":\"%%\"}",
                 "invalid");
  request_error (ws, "{\"type\":\"queue_subscribe\",\"queue\":\"wserr.none\"}", "not_found");
  request_error (ws, "{\"type\":\"queue_subscribe\",\"queue\":\"wserr.q\",\"prefetch\":0}",
                 "invalid");
  /* Over max_unacked_per_channel (1000 here). */
  request_error (ws, "{\"type\":\"queue_subscribe\",\"queue\":\"wserr.q\",\"prefetch\":1001}",
                 "invalid");
  request_error (ws, "{\"type\":\"queue_ack\",\"tags\":[0]}", "invalid");
  request_error (ws, "{\"type\":\"queue_nack\",\"tags\":[1],\"requeue\":3}", "invalid");
  request_error (ws, "{\"type\":\"queue_unsubscribe\",\"subscription\":\"nope\"}", "not_found");
  /* A subscription needs an id: its ack carries the subscription. */
  ssq_test_ws_send (ws, "{\"type\":\"queue_subscribe\",\"queue\":\"wserr.q\"}");
  {
    g_autoptr(JsonObject) e = ssq_test_ws_expect (ws, "error", 5000);

    g_assert_nonnull (e);
    g_assert_cmpstr (json_object_get_string_member (e, "code"), ==, "invalid");
  }
  /* Subscriptions per session: 2 here. */
  for (guint i = 0; i < 2; i++)
    {
      ack = request (ws, "{\"type\":\"queue_subscribe\",\"queue\":\"wserr.q\",\"prefetch\":5}",
                     "ack");
      g_clear_pointer (&ack, json_object_unref);
    }
  request_error (ws, "{\"type\":\"queue_subscribe\",\"queue\":\"wserr.q\"}", "rate_limited");
  /* The owner deletes the queue: each subscription hears of it. */
  r = ssq_test_http_expect (server, "DELETE", "/api/v1/queues/wserr.q", bob->token, NULL, 200);
  cancelled = ssq_test_ws_expect (ws, "queue_cancelled", 5000);
  g_assert_nonnull (cancelled);
  g_assert_cmpstr (json_object_get_string_member (cancelled, "queue"), ==, "wserr.q");
  g_clear_pointer (&cancelled, json_object_unref);
  cancelled = ssq_test_ws_expect (ws, "queue_cancelled", 5000);
  g_assert_nonnull (cancelled);
  /* Room again for subscriptions. */
  ssq_test_queue_declare (server, "wserr.q2", alice->token);
  ack = request (ws, "{\"type\":\"queue_subscribe\",\"queue\":\"wserr.q2\"}", "ack");
}

/* A reader that does not read: deliveries stop while the session's send
 * queue is over a quarter of its bound, and resume as it reads. */
static void
test_slow_reader (void)
{
  g_autoptr(SsqTestUser) alice = ssq_test_register (server, "slow.alice");
  g_autoptr(SsqTestRaw) raw = NULL;
  g_autoptr(GByteArray) frame = g_byte_array_new ();
  g_autofree char *body = NULL;
  g_autofree char *payload = g_strnfill (20000, 'x');
  const guint n = 400;
  gint64 delivered, deadline;

  ssq_test_queue_declare (server, "slow.q", alice->token);
  body = g_strdup_printf ("{\"body\":\"%s\",\"persistent\":false}", payload);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(JsonObject) r = ssq_test_http_expect (server, "POST", "/api/v1/queues/slow.q/messages",
                                                      alice->token, body, 201);
    }
  raw = ssq_test_raw_ws_open (server, alice->token, 4096, 0);
  ssq_test_raw_ws_frame_append (frame, 0x81,
                                "{\"type\":\"queue_subscribe\",\"queue\":\"slow.q\","
                                "\"prefetch\":1000,\"id\":1}",
                                strlen ("{\"type\":\"queue_subscribe\",\"queue\":\"slow.q\","
                                        "\"prefetch\":1000,\"id\":1}"));
  g_assert_cmpuint (ssq_test_raw_send (raw, frame->data, frame->len, 5000), ==, frame->len);
  /* Settle: whatever fits in the sockets' buffers and a quarter of the
   * send queue, then nothing more. */
  g_usleep (1000000);
  delivered = ssq_test_queue_field (server, "slow.q", alice->token, "unacked");
  g_usleep (500000);
  g_test_message ("%" G_GINT64_FORMAT " of %u delivered to a reader that does not read",
                  ssq_test_queue_field (server, "slow.q", alice->token, "unacked"), n);
  g_assert_cmpint (ssq_test_queue_field (server, "slow.q", alice->token, "unacked"), ==, delivered);
  g_assert_cmpint (delivered, <, n / 2);
  g_assert_cmpint (ssq_test_queue_field (server, "slow.q", alice->token, "depth"), ==,
                   n - delivered);
  /* Not cut off as a peer that stopped reading: it was not sent more than
   * its send queue's bound. */
  g_assert_cmpint (ssq_test_raw_ws_pump (raw, 1, "queue_cancelled"), ==, -1);
  g_assert_false (raw->closed);
  /* It reads: the rest comes. */
  deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  while (ssq_test_queue_field (server, "slow.q", alice->token, "unacked") < n &&
         g_get_monotonic_time () < deadline)
    g_assert_cmpint (ssq_test_raw_ws_pump (raw, 100, NULL), ==, -1);
  g_assert_cmpint (ssq_test_queue_field (server, "slow.q", alice->token, "unacked"), ==, n);
  ssq_test_assert_healthz (server);
}

int
main (int    argc,
      char **argv)
{
  g_autofree char *dir = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);
  dir = g_dir_make_tmp ("ssq-queues-ws-XXXXXX", NULL);
  server = ssq_test_server_start (dir, "[limits]\nqueue_subscriptions_per_session=2\n"
                                       "send_queue_max=65536\n"
                                       "[broker]\nmax_unacked_per_channel=1000\n");
  g_test_add_func ("/server/queues-ws/publish-subscribe", test_publish_subscribe);
  g_test_add_func ("/server/queues-ws/requeue-on-close", test_requeue_on_close);
  g_test_add_func ("/server/queues-ws/errors", test_errors);
  g_test_add_func ("/server/queues-ws/slow-reader", test_slow_reader);
  status = g_test_run ();
  g_assert_cmpint (ssq_test_server_stop (server), ==, 0);
  ssq_test_server_free (server);
  ssq_test_remove_tree (dir);
  return status;
}
