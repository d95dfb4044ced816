/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-queues.c: the REST routes of queues on the real server: declare,
 * publish, get with leases, ack and nack, long polls (answered by a
 * message, by the wait's end, dropped when the client goes, bounded),
 * lease expiry and max_deliveries to the dead-letter queue, ownership, the
 * errors of every route, the bounds, and the queues' /metrics lines. */
#include "ssq-test-raw.h"
#include "ssq-json.h"
#include "ssq-wire.h"

#include <string.h>

static SsqTestServer *server;

static JsonObject *
call (const char *method,
      const char *path,
      const char *token,
      const char *body,
      guint       expected)
{
  return ssq_test_http_expect (server, method, path, token, body, expected);
}

static void
call_error (const char *method,
            const char *path,
            const char *token,
            const char *body,
            guint       expected,
            const char *code)
{
  g_autoptr(JsonObject) reply = call (method, path, token, body, expected);

  g_assert_cmpstr (ssq_test_error_code (reply), ==, code);
}

static gint64
publish (const char *queue,
         const char *token,
         const char *body)
{
  g_autofree char *path = g_strdup_printf ("/api/v1/queues/%s/messages", queue);
  g_autoptr(JsonObject) reply = call ("POST", path, token, body, 201);

  return json_object_get_int_member (reply, "id");
}

/* GET …/messages: the messages array (a new reference). */
static JsonArray *
take (const char *queue,
      const char *token,
      const char *query)
{
  g_autofree char *path = g_strdup_printf ("/api/v1/queues/%s/messages%s%s", queue,
                                           query ? "?" : "", query ? query : "");
  g_autoptr(JsonObject) reply = call ("GET", path, token, NULL, 200);

  return json_array_ref (json_object_get_array_member (reply, "messages"));
}

static JsonArray *
finish_poll (SsqTestRaw *raw,
             guint       expected_status)
{
  g_auto(SsqTestRawResponse) response = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) reply = NULL;

  g_assert_true (ssq_test_raw_read_response (raw, 30000, &response));
  g_assert_cmpuint (response.status, ==, expected_status);
  reply = ssq_json_parse_object (response.body, strlen (response.body), &error);
  g_assert_no_error (error);
  if (expected_status != 200)
    return NULL;
  return json_array_ref (json_object_get_array_member (reply, "messages"));
}

/* ---- Declare, publish, get, ack ----------------------------------------- */

static void
test_round_trip (void)
{
  g_autoptr(SsqTestUser) alice = ssq_test_register (server, "rt.alice");
  g_autoptr(JsonObject) r = NULL;
  g_autoptr(JsonArray) got = NULL;
  g_autoptr(JsonArray) again = NULL;
  JsonObject *m, *q, *h;
  gint64 id;

  r = call ("PUT", "/api/v1/queues/rt.jobs", alice->token, NULL, 201);
  q = json_object_get_object_member (r, "queue");
  g_assert_cmpstr (json_object_get_string_member (q, "name"), ==, "rt.jobs");
  g_assert_cmpstr (json_object_get_string_member (q, "owner"), ==, "rt.alice");
  g_assert_true (json_object_get_boolean_member (q, "durable"));
  g_clear_pointer (&r, json_object_unref);
  /* Again with the same settings: there already. */
  r = call ("PUT", "/api/v1/queues/rt.jobs", alice->token, "{\"durable\":true}", 200);
  g_clear_pointer (&r, json_object_unref);

  id = publish ("rt.jobs", alice->token,
                "{\"body\":\"build #12\",\"content_type\":\"text/plain\",\"priority\":3,"
                "\"headers\":{\"source\":\"ci\",\"attempt\":3,\"big\":5000000000,\"urgent\":true,"
                "\"load\":0.5,\"none\":null},\"correlation_id\":\"c-9\",\"message_id\":\"m-1\"}");
  g_assert_cmpint (id, >, 0);
  publish ("rt.jobs", alice->token, "{\"body_base64\":\"AAH/\",\"persistent\":false}");
  publish ("rt.jobs", alice->token, "{\"body\":\"\"}");
  ssq_test_wait_queue_field (server, "rt.jobs", alice->token, "depth", 3, 15000);

  got = take ("rt.jobs", alice->token, "max=10");
  g_assert_cmpuint (json_array_get_length (got), ==, 3);
  /* An empty body is an empty string. */
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (got, 2), "body"),
                   ==, "");
  m = json_array_get_object_element (got, 0);
  g_assert_cmpint (json_object_get_int_member (m, "id"), ==, id);
  g_assert_cmpstr (json_object_get_string_member (m, "body"), ==, "build #12");
  g_assert_cmpstr (json_object_get_string_member (m, "content_type"), ==, "text/plain");
  g_assert_cmpstr (json_object_get_string_member (m, "correlation_id"), ==, "c-9");
  g_assert_cmpstr (json_object_get_string_member (m, "message_id"), ==, "m-1");
  g_assert_cmpint (json_object_get_int_member (m, "priority"), ==, 3);
  g_assert_true (json_object_get_boolean_member (m, "persistent"));
  g_assert_false (json_object_get_boolean_member (m, "redelivered"));
  g_assert_cmpint (json_object_get_int_member (m, "deliveries"), ==, 1);
  /* Headers as AMQP field values and back: types kept. */
  h = json_object_get_object_member (m, "headers");
  g_assert_cmpstr (json_object_get_string_member (h, "source"), ==, "ci");
  g_assert_cmpint (json_object_get_int_member (h, "attempt"), ==, 3);
  g_assert_cmpint (json_object_get_int_member (h, "big"), ==, G_GINT64_CONSTANT (5000000000));
  g_assert_true (json_object_get_boolean_member (h, "urgent"));
  g_assert_cmpfloat (json_object_get_double_member (h, "load"), ==, 0.5);
  g_assert_true (json_object_get_null_member (h, "none"));
  m = json_array_get_object_element (got, 1);
  g_assert_cmpstr (json_object_get_string_member (m, "body_base64"), ==, "AAH/");
  g_assert_false (json_object_has_member (m, "body"));
  g_assert_false (json_object_get_boolean_member (m, "persistent"));

  /* Leased: nothing ready, three unacked. */
  g_assert_cmpint (ssq_test_queue_field (server, "rt.jobs", alice->token, "depth"), ==, 0);
  g_assert_cmpint (ssq_test_queue_field (server, "rt.jobs", alice->token, "unacked"), ==, 3);
  {
    g_autofree char *body = g_strdup_printf ("{\"tags\":[%" G_GINT64_FORMAT "]}",
                                             json_object_get_int_member (
                                               json_array_get_object_element (got, 2), "tag"));

    r = call ("POST", "/api/v1/queues/rt.jobs/ack", alice->token, body, 200);
    g_clear_pointer (&r, json_object_unref);
  }
  {
    g_autofree char *body = g_strdup_printf ("{\"tags\":[%" G_GINT64_FORMAT ",999]}",
                                             json_object_get_int_member (
                                               json_array_get_object_element (got, 0), "tag"));

    r = call ("POST", "/api/v1/queues/rt.jobs/ack", alice->token, body, 200);
    g_assert_cmpint (json_object_get_int_member (r, "acknowledged"), ==, 1);
    g_assert_cmpuint (json_array_get_length (json_object_get_array_member (r, "unknown")), ==, 1);
    g_assert_cmpint (json_array_get_int_element (json_object_get_array_member (r, "unknown"), 0),
                     ==, 999);
    g_clear_pointer (&r, json_object_unref);
  }
  /* nack with requeue: back, redelivered. */
  {
    g_autofree char *body = g_strdup_printf ("{\"tags\":[%" G_GINT64_FORMAT "]}",
                                             json_object_get_int_member (
                                               json_array_get_object_element (got, 1), "tag"));

    r = call ("POST", "/api/v1/queues/rt.jobs/nack", alice->token, body, 200);
    g_assert_cmpint (json_object_get_int_member (r, "rejected"), ==, 1);
    g_clear_pointer (&r, json_object_unref);
  }
  again = take ("rt.jobs", alice->token, "lease=0");
  g_assert_cmpuint (json_array_get_length (again), ==, 1);
  m = json_array_get_object_element (again, 0);
  g_assert_true (json_object_get_boolean_member (m, "redelivered"));
  g_assert_cmpint (json_object_get_int_member (m, "deliveries"), ==, 2);
  /* lease=0: acknowledged as taken. */
  g_assert_cmpint (ssq_test_queue_field (server, "rt.jobs", alice->token, "unacked"), ==, 0);
  g_assert_cmpint (ssq_test_queue_field (server, "rt.jobs", alice->token, "depth"), ==, 0);

  /* Listed, with counters; purge and delete say how many went. */
  publish ("rt.jobs", alice->token, "{\"body\":\"x\"}");
  ssq_test_wait_queue_field (server, "rt.jobs", alice->token, "depth", 1, 15000);
  r = call ("GET", "/api/v1/queues", alice->token, NULL, 200);
  {
    JsonArray *list = json_object_get_array_member (r, "queues");
    gboolean seen = FALSE;

    for (guint i = 0; i < json_array_get_length (list); i++)
      {
        JsonObject *item = json_array_get_object_element (list, i);

        if (!g_str_equal (json_object_get_string_member (item, "name"), "rt.jobs"))
          continue;
        seen = TRUE;
        g_assert_cmpint (json_object_get_int_member (item, "depth"), ==, 1);
        g_assert_cmpint (json_object_get_int_member (
                           json_object_get_object_member (item, "counters"), "published"), ==, 4);
        g_assert_cmpint (json_object_get_int_member (
                           json_object_get_object_member (item, "counters"), "acknowledged"), >=, 1);
        g_assert_true (json_object_has_member (json_object_get_object_member (item, "rates"),
                                               "published"));
      }
    g_assert_true (seen);
  }
  g_clear_pointer (&r, json_object_unref);
  r = call ("POST", "/api/v1/queues/rt.jobs/purge", alice->token, NULL, 200);
  g_assert_cmpint (json_object_get_int_member (r, "messages"), ==, 1);
  g_clear_pointer (&r, json_object_unref);
  r = call ("DELETE", "/api/v1/queues/rt.jobs", alice->token, NULL, 200);
  g_clear_pointer (&r, json_object_unref);
  call_error ("GET", "/api/v1/queues/rt.jobs", alice->token, NULL, 404, "not_found");
}

/* ---- Errors ------------------------------------------------------------- */

static void
test_errors (void)
{
  g_autoptr(SsqTestUser) alice = ssq_test_register (server, "err.alice");
  g_autoptr(SsqTestUser) bob = ssq_test_register (server, "err.bob");
  g_autoptr(JsonObject) r = NULL;
  g_autoptr(JsonArray) got = NULL;
  static const char *const unknown[][3] = {
    { "GET", "/api/v1/queues/err.none", NULL },
    { "DELETE", "/api/v1/queues/err.none", NULL },
    { "POST", "/api/v1/queues/err.none/purge", NULL },
    { "POST", "/api/v1/queues/err.none/messages", "{\"body\":\"x\"}" },
    { "GET", "/api/v1/queues/err.none/messages", NULL },
    { "GET", "/api/v1/queues/err.none/messages?wait=1", NULL },
  };
  static const char *const bad[][3] = {
    { "POST", "/api/v1/queues/err.q/messages", "{\"body\":" },
    { "POST", "/api/v1/queues/err.q/messages", "[]" },
    { "POST", "/api/v1/queues/err.q/messages", "{\"body\":1}" },
    { "POST", "/api/v1/queues/err.q/messages", "{}" },
    { "POST", "/api/v1/queues/err.q/messages", "{\"body\":\"a\",\"body_base64\":\"YQ==\"}" },
    { "POST", "/api/v1/queues/err.q/messages", "{\"body_base64\":\"not base64!\"}" },
    { "POST", "/api/v1/queues/err.q/messages", "{\"body_base64\":\"YQ=\"}" },
    { "POST", "/api/v1/queues/err.q/messages", "{\"body\":\"a\",\"priority\":300}" },
    { "POST", "/api/v1/queues/err.q/messages", "{\"body\":\"a\",\"ttl_ms\":\"1\"}" },
    { "POST", "/api/v1/queues/err.q/messages", "{\"body\":\"a\",\"headers\":{\"x\":[1]}}" },
    { "POST", "/api/v1/queues/err.q/messages", "{\"body\":\"a\",\"headers\":\"x\"}" },
    { "POST", "/api/v1/queues/err.q/messages", "{\"body\":\"a\",\"colour\":\"red\"}" },
    { "GET", "/api/v1/queues/err.q/messages?max=0", NULL },
    { "GET", "/api/v1/queues/err.q/messages?max=101", NULL },
    { "GET", "/api/v1/queues/err.q/messages?lease=-1", NULL },
    { "GET", "/api/v1/queues/err.q/messages?wait=x", NULL },
    { "GET", "/api/v1/queues/err.q/messages?colour=red", NULL },
    { "POST", "/api/v1/queues/err.q/ack", "{\"tags\":[\"1\"]}" },
    { "POST", "/api/v1/queues/err.q/ack", "{\"tags\":[]}" },
    { "POST", "/api/v1/queues/err.q/ack", "{\"tags\":[1],\"requeue\":true}" },
    { "POST", "/api/v1/queues/err.q/nack", "{\"tags\":[1],\"requeue\":\"yes\"}" },
    { "PUT", "/api/v1/queues/err.q2", "{\"overflow\":\"drop-tail\"}" },
    { "PUT", "/api/v1/queues/err.q2", "{\"max_length\":\"5\"}" },
    { "PUT", "/api/v1/queues/err.q2", "{\"colour\":\"red\"}" },
    { "PUT", "/api/v1/queues/err.q2", "{\"durable\":" },
    { "DELETE", "/api/v1/queues/err.q?if_empty=maybe", NULL },
  };

  r = call ("PUT", "/api/v1/queues/err.q", alice->token, "{\"max_length\":10}", 201);
  g_clear_pointer (&r, json_object_unref);
  for (guint i = 0; i < G_N_ELEMENTS (unknown); i++)
    {
      g_test_message ("%s %s", unknown[i][0], unknown[i][1]);
      call_error (unknown[i][0], unknown[i][1], alice->token, unknown[i][2], 404, "not_found");
    }
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_test_message ("%s %s %s", bad[i][0], bad[i][1], bad[i][2] ? bad[i][2] : "");
      call_error (bad[i][0], bad[i][1], alice->token, bad[i][2], 400, "invalid");
    }
  /* Names made to share a hash in json-glib's member table, in a declare
   * (read on its own) and in a publish's headers: refused before json-glib
   * compares them all. */
  {
    const char *colliding = "\"ababab\":1,\"ababbA\":1,\"abbAab\":1,\"abbAbA\":1,\"bAabab\":1";
    g_autofree char *declare = g_strdup_printf ("{\"durable\":true,%s}", colliding);
    g_autofree char *headers = g_strdup_printf ("{\"body\":\"a\",\"headers\":{\"x\":1,%s}}",
                                                colliding);
    g_autofree char *shorter = g_strdup_printf ("{\"body\":\"a\",\"headers\":{%.*s}}",
                                                (int) (strrchr (colliding, ',') - colliding),
                                                colliding);
    SsqWireError refused;

    g_assert_cmpuint (g_str_hash ("ababab"), ==, g_str_hash ("bAabab"));
    r = call ("PUT", "/api/v1/queues/err.q3", alice->token, declare, 400);
    g_assert_true (ssq_wire_error_reply_decode (r, &refused));
    g_assert_nonnull (strstr (refused.message, "member names made to collide"));
    g_clear_pointer (&r, json_object_unref);
    r = call ("POST", "/api/v1/queues/err.q/messages", alice->token, headers, 400);
    g_assert_true (ssq_wire_error_reply_decode (r, &refused));
    g_assert_nonnull (strstr (refused.message, "member names made to collide"));
    g_clear_pointer (&r, json_object_unref);
    /* Four of them are names like any others. */
    publish ("err.q", alice->token, shorter);
    got = take ("err.q", alice->token, "lease=0");
    g_assert_cmpuint (json_object_get_size (json_object_get_object_member (
                        json_array_get_object_element (got, 0), "headers")), ==, 4);
    g_clear_pointer (&got, json_array_unref);
  }
  /* No token; a wrong method. */
  call_error ("GET", "/api/v1/queues", NULL, NULL, 401, "unauthorized");
  call_error ("POST", "/api/v1/queues/err.q/messages", "nope", "{\"body\":\"a\"}", 401,
              "unauthorized");
  r = call ("PATCH", "/api/v1/queues/err.q", alice->token, "{}", 405);
  g_clear_pointer (&r, json_object_unref);
  /* Other settings: 409; reserved names: 403. */
  call_error ("PUT", "/api/v1/queues/err.q", alice->token, "{\"max_length\":11}", 409, "conflict");
  call_error ("PUT", "/api/v1/queues/err.q", alice->token, "{\"durable\":false}", 409, "conflict");
  call_error ("PUT", "/api/v1/queues/amq.mine", alice->token, NULL, 403, "forbidden");
  /* A full queue that rejects: 429, nothing stored. */
  r = call ("PUT", "/api/v1/queues/err.full", alice->token,
            "{\"max_length\":1,\"overflow\":\"reject-publish\"}", 201);
  g_clear_pointer (&r, json_object_unref);
  publish ("err.full", alice->token, "{\"body\":\"first\"}");
  call_error ("POST", "/api/v1/queues/err.full/messages", alice->token, "{\"body\":\"second\"}",
              429, "rate_limited");
  g_assert_cmpint (ssq_test_queue_field (server, "err.full", alice->token, "depth"), ==, 1);

  /* bob may publish to alice's queue and take from it; not purge nor
   * delete it. */
  publish ("err.q", bob->token, "{\"body\":\"from bob\"}");
  got = take ("err.q", bob->token, "lease=0");
  g_assert_cmpuint (json_array_get_length (got), ==, 1);
  call_error ("POST", "/api/v1/queues/err.q/purge", bob->token, NULL, 403, "forbidden");
  call_error ("DELETE", "/api/v1/queues/err.q", bob->token, NULL, 403, "forbidden");
  /* Tags are each user's own: alice's tag is unknown to bob. */
  publish ("err.q", alice->token, "{\"body\":\"for alice\"}");
  g_clear_pointer (&got, json_array_unref);
  got = take ("err.q", alice->token, NULL);
  {
    g_autofree char *body = g_strdup_printf ("{\"tags\":[%" G_GINT64_FORMAT "]}",
                                             json_object_get_int_member (
                                               json_array_get_object_element (got, 0), "tag"));

    r = call ("POST", "/api/v1/queues/err.q/ack", bob->token, body, 200);
    g_assert_cmpint (json_object_get_int_member (r, "acknowledged"), ==, 0);
    g_clear_pointer (&r, json_object_unref);
    r = call ("POST", "/api/v1/queues/err.q/ack", alice->token, body, 200);
    g_assert_cmpint (json_object_get_int_member (r, "acknowledged"), ==, 1);
  }
  /* if_empty and if_unused refuse, then the owner deletes. */
  publish ("err.q", alice->token, "{\"body\":\"left\"}");
  ssq_test_wait_queue_field (server, "err.q", alice->token, "depth", 1, 15000);
  call_error ("DELETE", "/api/v1/queues/err.q?if_empty=true", alice->token, NULL, 409, "conflict");
  g_clear_pointer (&r, json_object_unref);
  r = call ("DELETE", "/api/v1/queues/err.q?if_unused=true", alice->token, NULL, 200);
  g_assert_cmpint (json_object_get_int_member (r, "messages"), ==, 1);
}

/* ---- Leases, redelivery, dead-lettering ---------------------------------- */

static void
test_lease_expiry (void)
{
  g_autoptr(SsqTestUser) alice = ssq_test_register (server, "lease.alice");
  g_autoptr(JsonObject) r = NULL;
  g_autoptr(JsonArray) first = NULL;
  g_autoptr(JsonArray) second = NULL;
  g_autoptr(JsonArray) late = NULL;
  gint64 id, tag;

  r = call ("PUT", "/api/v1/queues/lease.q", alice->token, NULL, 201);
  id = publish ("lease.q", alice->token, "{\"body\":\"work\"}");
  first = take ("lease.q", alice->token, "lease=1");
  g_assert_cmpuint (json_array_get_length (first), ==, 1);
  tag = json_object_get_int_member (json_array_get_object_element (first, 0), "tag");
  /* Not acked within its lease: ready again, redelivered. */
  ssq_test_wait_queue_field (server, "lease.q", alice->token, "depth", 1, 15000);
  second = take ("lease.q", alice->token, "lease=60");
  g_assert_cmpuint (json_array_get_length (second), ==, 1);
  g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (second, 0), "id"),
                   ==, id);
  g_assert_true (json_object_get_boolean_member (json_array_get_object_element (second, 0),
                                                 "redelivered"));
  g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (second, 0),
                                               "deliveries"), ==, 2);
  /* The expired lease's tag is no longer good. */
  {
    g_autofree char *body = g_strdup_printf ("{\"tags\":[%" G_GINT64_FORMAT "]}", tag);

    g_clear_pointer (&r, json_object_unref);
    r = call ("POST", "/api/v1/queues/lease.q/ack", alice->token, body, 200);
    g_assert_cmpint (json_object_get_int_member (r, "acknowledged"), ==, 0);
  }
  late = take ("lease.q", alice->token, NULL);
  g_assert_cmpuint (json_array_get_length (late), ==, 0);
}

static void
test_max_deliveries (void)
{
  g_autoptr(SsqTestUser) alice = ssq_test_register (server, "dlq.alice");
  g_autoptr(JsonObject) r = NULL;
  g_autoptr(JsonArray) dead = NULL;
  gint64 id;

  r = call ("PUT", "/api/v1/queues/dlq.dead", alice->token, NULL, 201);
  g_clear_pointer (&r, json_object_unref);
  r = call ("PUT", "/api/v1/queues/dlq.work", alice->token,
            "{\"dead_letter_exchange\":\"\",\"dead_letter_routing_key\":\"dlq.dead\","
            "\"max_deliveries\":2}", 201);
  g_assert_cmpint (json_object_get_int_member (
                     json_object_get_object_member (
                       json_object_get_object_member (r, "queue"), "arguments"),
                     "max_deliveries"), ==, 2);
  id = publish ("dlq.work", alice->token, "{\"body\":\"poison\"}");
  /* Two leases run out: the second time it comes back, it is dead. */
  for (guint attempt = 1; attempt <= 2; attempt++)
    {
      g_autoptr(JsonArray) got = take ("dlq.work", alice->token, "lease=1");

      g_assert_cmpuint (json_array_get_length (got), ==, 1);
      g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (got, 0),
                                                   "deliveries"), ==, attempt);
      if (attempt == 1)
        ssq_test_wait_queue_field (server, "dlq.work", alice->token, "depth", 1, 15000);
    }
  ssq_test_wait_queue_field (server, "dlq.dead", alice->token, "depth", 1, 15000);
  g_assert_cmpint (ssq_test_queue_field (server, "dlq.work", alice->token, "depth"), ==, 0);
  dead = take ("dlq.dead", alice->token, "lease=0");
  g_assert_cmpuint (json_array_get_length (dead), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (dead, 0), "body"),
                   ==, "poison");
  /* Dead-lettered, it is a message of its own (a new id). */
  g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (dead, 0), "id"), !=,
                   0);
  g_test_message ("published as %" G_GINT64_FORMAT ", dead-lettered as %" G_GINT64_FORMAT, id,
                  json_object_get_int_member (json_array_get_object_element (dead, 0), "id"));
  /* x-death as RabbitMQ writes it, shown as JSON. */
  g_assert_true (json_object_has_member (
                   json_object_get_object_member (json_array_get_object_element (dead, 0),
                                                  "headers"), "x-death"));
  {
    g_autoptr(JsonObject) q = call ("GET", "/api/v1/queues/dlq.work", alice->token, NULL, 200);

    g_assert_cmpint (json_object_get_int_member (
                       json_object_get_object_member (
                         json_object_get_object_member (q, "queue"), "counters"),
                       "dead_lettered"), ==, 1);
  }
}

/* ---- Long polls ----------------------------------------------------------- */

static void
test_long_poll (void)
{
  g_autoptr(SsqTestUser) alice = ssq_test_register (server, "poll.alice");
  g_autoptr(JsonObject) r = NULL;
  g_autoptr(SsqTestRaw) waiting = NULL;
  g_autoptr(SsqTestRaw) idle = NULL;
  g_autoptr(JsonArray) got = NULL;
  g_autoptr(JsonArray) none = NULL;
  gint64 started, id;

  r = call ("PUT", "/api/v1/queues/poll.q", alice->token, NULL, 201);
  /* A message that comes while a poll waits answers it. */
  waiting = ssq_test_raw_queue_poll (server, "poll.q", alice->token, "max=5&wait=20");
  ssq_test_wait_queue_field (server, "poll.q", alice->token, "consumers", 1, 15000);
  started = g_get_monotonic_time ();
  id = publish ("poll.q", alice->token, "{\"body\":\"wake up\"}");
  got = finish_poll (waiting, 200);
  g_test_message ("answered %.3f s after the publish", (g_get_monotonic_time () - started) / 1e6);
  g_assert_cmpuint (json_array_get_length (got), ==, 1);
  g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (got, 0), "id"), ==,
                   id);
  /* The poll's consumer went with its answer; its message stays leased. */
  g_assert_cmpint (ssq_test_queue_field (server, "poll.q", alice->token, "consumers"), ==, 0);
  g_assert_cmpint (ssq_test_queue_field (server, "poll.q", alice->token, "unacked"), ==, 1);

  /* Nothing comes: the wait's end answers, empty. */
  started = g_get_monotonic_time ();
  idle = ssq_test_raw_queue_poll (server, "poll.q", alice->token, "wait=1");
  none = finish_poll (idle, 200);
  g_test_message ("empty answer after %.3f s", (g_get_monotonic_time () - started) / 1e6);
  g_assert_cmpuint (json_array_get_length (none), ==, 0);
  g_assert_cmpint (ssq_test_queue_field (server, "poll.q", alice->token, "consumers"), ==, 0);

  /* lease=0: what the poll answers is acknowledged, no more than max. */
  {
    g_autoptr(SsqTestRaw) acked = ssq_test_raw_queue_poll (server, "poll.q", alice->token, "max=1&wait=20&lease=0");
    g_autoptr(JsonArray) one = NULL;

    ssq_test_wait_queue_field (server, "poll.q", alice->token, "consumers", 1, 15000);
    publish ("poll.q", alice->token, "{\"body\":\"taken\"}");
    one = finish_poll (acked, 200);
    g_assert_cmpuint (json_array_get_length (one), ==, 1);
    /* the first's */
    g_assert_cmpint (ssq_test_queue_field (server, "poll.q", alice->token, "unacked"), ==, 1);
    g_assert_cmpint (ssq_test_queue_field (server, "poll.q", alice->token, "depth"), ==, 0);
  }
}

/* A client that goes while its poll waits takes nothing with it: the
 * consumer goes at once, and the next message is the next client's. */
static void
test_vanished_poll (void)
{
  g_autoptr(SsqTestUser) alice = ssq_test_register (server, "gone.alice");
  g_autoptr(JsonObject) r = NULL;
  g_autoptr(JsonArray) got = NULL;
  SsqTestRaw *gone;

  r = call ("PUT", "/api/v1/queues/gone.q", alice->token, NULL, 201);
  for (guint i = 0; i < 3; i++)
    {
      gone = ssq_test_raw_queue_poll (server, "gone.q", alice->token, "max=3&wait=20&lease=600");
      ssq_test_wait_queue_field (server, "gone.q", alice->token, "consumers", 1, 15000);
      ssq_test_raw_close (gone);
      ssq_test_wait_queue_field (server, "gone.q", alice->token, "consumers", 0, 15000);
    }
  publish ("gone.q", alice->token, "{\"body\":\"for the living\"}");
  got = take ("gone.q", alice->token, NULL);
  g_assert_cmpuint (json_array_get_length (got), ==, 1);
  g_assert_false (json_object_get_boolean_member (json_array_get_object_element (got, 0),
                                                  "redelivered"));
}

/* ---- Bounds --------------------------------------------------------------- */

static void
test_limits (void)
{
  g_autofree char *dir = g_dir_make_tmp ("ssq-queues-XXXXXX", NULL);
  SsqTestServer *saved = server;
  g_autoptr(SsqTestUser) alice = NULL;
  g_autoptr(SsqTestUser) bob = NULL;
  g_autoptr(SsqTestUser) carol = NULL;
  g_autoptr(JsonObject) r = NULL;
  g_autoptr(GPtrArray) polls = g_ptr_array_new_with_free_func ((GDestroyNotify) ssq_test_raw_close);
  g_autofree char *big = NULL;
  g_autoptr(JsonArray) got = NULL;

  server = ssq_test_server_start (dir, "[limits]\nqueue_polls=3\nqueue_polls_per_user=2\n"
                                       "queue_wait_max=30\n"
                                       "[broker]\nmax_queues_per_user=2\nmax_message_size=2048\n"
                                       "max_memory=9000\nmax_unacked_per_channel=3\n");
  alice = ssq_test_register (server, "alice");
  bob = ssq_test_register (server, "bob");
  carol = ssq_test_register (server, "carol");
  r = call ("PUT", "/api/v1/queues/a1", alice->token, NULL, 201);
  g_clear_pointer (&r, json_object_unref);
  r = call ("PUT", "/api/v1/queues/a2", alice->token, NULL, 201);
  g_clear_pointer (&r, json_object_unref);
  /* Queues per user: 429, and others still served. */
  call_error ("PUT", "/api/v1/queues/a3", alice->token, NULL, 429, "rate_limited");
  r = call ("PUT", "/api/v1/queues/b1", bob->token, NULL, 201);
  g_clear_pointer (&r, json_object_unref);

  /* Body over max_message_size: 413. */
  big = g_strdup_printf ("{\"body\":\"%0*d\"}", 2049, 0);
  call_error ("POST", "/api/v1/queues/a1/messages", alice->token, big, 413, "too_large");
  /* max_memory: 507 once the messages held would pass it (each 2,000
   * bytes of body and ~600 of properties and bookkeeping). */
  g_free (big);
  big = g_strdup_printf ("{\"body\":\"%0*d\"}", 2000, 0);
  publish ("a1", alice->token, big);
  publish ("a1", alice->token, big);
  publish ("a1", alice->token, big);
  call_error ("POST", "/api/v1/queues/a1/messages", alice->token, big, 507, "quota_exceeded");
  r = call ("POST", "/api/v1/queues/a1/purge", alice->token, NULL, 200);
  g_clear_pointer (&r, json_object_unref);
  publish ("a1", alice->token, big);

  /* Leases per user: max_unacked_per_channel. */
  for (guint i = 0; i < 3; i++)
    publish ("a2", alice->token, "{\"body\":\"x\"}");
  publish ("a2", alice->token, "{\"body\":\"y\"}");
  ssq_test_wait_queue_field (server, "a2", alice->token, "depth", 4, 15000);
  got = take ("a2", alice->token, "max=3&lease=600");
  g_assert_cmpuint (json_array_get_length (got), ==, 3);
  call_error ("GET", "/api/v1/queues/a2/messages", alice->token, NULL, 429, "rate_limited");
  {
    g_autoptr(GString) tags = g_string_new ("{\"tags\":[");

    for (guint i = 0; i < json_array_get_length (got); i++)
      g_string_append_printf (tags, "%s%" G_GINT64_FORMAT, i ? "," : "",
                              json_object_get_int_member (json_array_get_object_element (got, i),
                                                          "tag"));
    g_string_append (tags, "]}");
    r = call ("POST", "/api/v1/queues/a2/ack", alice->token, tags->str, 200);
    g_assert_cmpint (json_object_get_int_member (r, "acknowledged"), ==, 3);
    g_clear_pointer (&r, json_object_unref);
  }

  /* Long polls: two per user, three in all, then 429 at once. */
  g_ptr_array_add (polls, ssq_test_raw_queue_poll (server, "b1", alice->token, "wait=30"));
  g_ptr_array_add (polls, ssq_test_raw_queue_poll (server, "b1", alice->token, "wait=30"));
  ssq_test_wait_queue_field (server, "b1", bob->token, "consumers", 2, 15000);
  call_error ("GET", "/api/v1/queues/b1/messages?wait=30", alice->token, NULL, 429,
              "rate_limited");
  g_ptr_array_add (polls, ssq_test_raw_queue_poll (server, "b1", bob->token, "wait=30"));
  ssq_test_wait_queue_field (server, "b1", bob->token, "consumers", 3, 15000);
  call_error ("GET", "/api/v1/queues/b1/messages?wait=30", carol->token, NULL, 429,
              "rate_limited");
  /* A poll that ends frees its place. */
  ssq_test_raw_close (g_ptr_array_steal_index (polls, 0));
  ssq_test_wait_queue_field (server, "b1", bob->token, "consumers", 2, 15000);
  g_ptr_array_add (polls, ssq_test_raw_queue_poll (server, "b1", carol->token, "wait=30"));
  ssq_test_wait_queue_field (server, "b1", bob->token, "consumers", 3, 15000);
  /* A GET that finds a message is no poll: never refused for polls. */
  publish ("b1", bob->token, "{\"body\":\"z\"}");
  ssq_test_assert_healthz (server);

  g_ptr_array_set_size (polls, 0);
  g_assert_cmpint (ssq_test_server_stop (server), ==, 0);
  ssq_test_server_free (server);
  server = saved;
  ssq_test_remove_tree (dir);
}

/* [features] broker=false: every queue route says so. */
static void
test_switched_off (void)
{
  g_autofree char *dir = g_dir_make_tmp ("ssq-queues-XXXXXX", NULL);
  SsqTestServer *saved = server;
  g_autoptr(SsqTestUser) alice = NULL;

  server = ssq_test_server_start (dir, "[features]\nbroker=false\n");
  alice = ssq_test_register (server, "alice");
  call_error ("GET", "/api/v1/queues", alice->token, NULL, 403, "feature_disabled");
  call_error ("PUT", "/api/v1/queues/q", alice->token, NULL, 403, "feature_disabled");
  call_error ("POST", "/api/v1/queues/q/messages", alice->token, "{\"body\":\"x\"}", 403,
              "feature_disabled");
  g_assert_cmpint (ssq_test_server_stop (server), ==, 0);
  ssq_test_server_free (server);
  server = saved;
  ssq_test_remove_tree (dir);
}

/* ---- /metrics --------------------------------------------------------------- */

static char *
metrics_page (void)
{
  g_autoptr(SoupSession) s = soup_session_new ();
  g_autofree char *uri = g_strconcat (server->url, "/metrics", NULL);
  g_autoptr(SoupMessage) msg = soup_message_new ("GET", uri);
  g_autoptr(GBytes) body = soup_session_send_and_read (s, msg, NULL, NULL);

  g_assert_cmpuint (soup_message_get_status (msg), ==, 200);
  return g_strndup (g_bytes_get_data (body, NULL), g_bytes_get_size (body));
}

static void
test_metrics (void)
{
  g_autoptr(SsqTestUser) alice = ssq_test_register (server, "metrics.alice");
  g_autoptr(JsonObject) r = NULL;
  g_autoptr(JsonArray) got = NULL;
  g_autofree char *page = NULL;
  /* A name with what a label value must escape: '"', '\' and a line feed. */
  static const char escaped_path[] = "m%22q%5Cx%0Ay";
  static const char *const lines[] = {
    "# TYPE ssq_queue_depth gauge\n",
    "# TYPE ssq_queue_published_total counter\n",
    "\nssq_queue_depth{queue=\"metrics.q\"} 1\n",
    "\nssq_queue_unacked{queue=\"metrics.q\"} 1\n",
    "\nssq_queue_consumers{queue=\"metrics.q\"} 0\n",
    "\nssq_queue_published_total{queue=\"metrics.q\"} 2\n",
    "\nssq_queue_delivered_total{queue=\"metrics.q\"} 1\n",
    "\nssq_queue_acknowledged_total{queue=\"metrics.q\"} 0\n",
    "\nssq_queue_dead_lettered_total{queue=\"metrics.q\"} 0\n",
    "\nssq_queue_depth{queue=\"m\\\"q\\\\x\\ny\"} 0\n",
  };

  r = call ("PUT", "/api/v1/queues/metrics.q", alice->token, NULL, 201);
  g_clear_pointer (&r, json_object_unref);
  {
    g_autofree char *path = g_strconcat ("/api/v1/queues/", escaped_path, NULL);

    r = call ("PUT", path, alice->token, NULL, 201);
    g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (r, "queue"),
                                                    "name"), ==, "m\"q\\x\ny");
  }
  publish ("metrics.q", alice->token, "{\"body\":\"1\"}");
  publish ("metrics.q", alice->token, "{\"body\":\"2\"}");
  ssq_test_wait_queue_field (server, "metrics.q", alice->token, "depth", 2, 15000);
  got = take ("metrics.q", alice->token, NULL);
  page = metrics_page ();
  for (guint i = 0; i < G_N_ELEMENTS (lines); i++)
    {
      g_test_message ("%s", lines[i]);
      g_assert_nonnull (strstr (page, lines[i]));
    }
}

int
main (int    argc,
      char **argv)
{
  g_autofree char *dir = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);
  dir = g_dir_make_tmp ("ssq-queues-XXXXXX", NULL);
  server = ssq_test_server_start (dir, NULL);
  g_test_add_func ("/server/queues/round-trip", test_round_trip);
  g_test_add_func ("/server/queues/errors", test_errors);
  g_test_add_func ("/server/queues/lease-expiry", test_lease_expiry);
  g_test_add_func ("/server/queues/max-deliveries", test_max_deliveries);
  g_test_add_func ("/server/queues/long-poll", test_long_poll);
  g_test_add_func ("/server/queues/vanished-poll", test_vanished_poll);
  g_test_add_func ("/server/queues/limits", test_limits);
  g_test_add_func ("/server/queues/switched-off", test_switched_off);
  g_test_add_func ("/server/queues/metrics", test_metrics);
  status = g_test_run ();
  g_assert_cmpint (ssq_test_server_stop (server), ==, 0);
  ssq_test_server_free (server);
  ssq_test_remove_tree (dir);
  return status;
}
