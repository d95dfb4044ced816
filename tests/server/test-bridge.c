/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-bridge.c: the broker's bridge to conversations on the real server,
 * over raw AMQP: publishes to supersoniq.chat become chat messages (by
 * conversation id and by username, in history with their seq, on the
 * members' WebSocket sessions, idempotent by client_id, confirmed after
 * the commit) or are refused (403, 404, 406; basic.return when mandatory);
 * supersoniq.events carries new, edited and deleted messages to the queues
 * of members only, stops at once for a removed member, and builds nothing
 * while no queue is bound to it. */
#include "ssq-test-amqp.h"
#include "ssq-test-media.h"

#include <string.h>

#define ID SSQ_TEST_AMQP_ID
#define WAIT SSQ_TEST_RAW_WAIT_MS
#define CHAT "supersoniq.chat"

typedef struct {
  SsqTestServer *server;
  SsqTestUser   *alice;
  SsqTestUser   *bob;
  SsqTestUser   *erin;      /* in none of alice and bob's conversations */
} Fixture;

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  f->server = ssq_test_server_start (NULL, data);
  f->alice = ssq_test_register (f->server, "alice");
  f->bob = ssq_test_register (f->server, "bob");
  f->erin = ssq_test_register (f->server, "erin");
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  ssq_test_user_free (f->alice);
  ssq_test_user_free (f->bob);
  ssq_test_user_free (f->erin);
  g_assert_cmpint (ssq_test_server_stop (f->server), ==, 0);
  ssq_test_server_free (f->server);
}

/* ---- AMQP by hand -------------------------------------------------------- */

static SsqTestRaw *
amqp_open (Fixture    *f,
           const char *username)
{
  g_autofree char *password = g_strconcat ("password-", username, NULL);

  return ssq_test_amqp_open (f->server, username, password);
}

/* channel.open on @ch, with confirm.select when @confirms. */
static void
channel_open (SsqTestRaw *conn,
              guint16     ch,
              gboolean    confirms)
{
  g_autoptr(GByteArray) out = g_byte_array_new ();
  g_auto(SsqTestAmqpFrame) frame = { 0 };

  ssq_test_amqp_method_append (out, ch, ID (20, 10), "S", "");
  if (confirms)
    ssq_test_amqp_method_append (out, ch, ID (85, 10), "b", FALSE);
  ssq_test_amqp_send (conn, out);
  ssq_test_amqp_expect (conn, ID (20, 11), &frame);
  if (confirms)
    ssq_test_amqp_expect (conn, ID (85, 11), &frame);
}

static void
put_shortstr (GByteArray *out,
              const char *s)
{
  guint8 len = strlen (s);

  g_byte_array_append (out, &len, 1);
  g_byte_array_append (out, (const guint8 *) s, len);
}

/* basic.publish, its content header (content-type, message-id when given)
 * and one body frame. */
static void
publish_append (GByteArray *out,
                guint16     ch,
                const char *exchange,
                const char *key,
                gboolean    mandatory,
                const char *content_type,
                const char *message_id,
                const char *body,
                gsize       len)
{
  g_autoptr(GByteArray) header = g_byte_array_new ();
  guint8 head[12] = { 0, 60, 0, 0 };
  guint16 flags = (content_type ? 0x8000 : 0) | (message_id ? 0x0080 : 0);
  guint8 flag_bytes[2] = { flags >> 8, flags & 0xff };

  for (int i = 0; i < 8; i++)
    head[4 + i] = ((guint64) len >> (8 * (7 - i))) & 0xff;
  g_byte_array_append (header, head, sizeof head);
  g_byte_array_append (header, flag_bytes, 2);
  if (content_type != NULL)
    put_shortstr (header, content_type);
  if (message_id != NULL)
    put_shortstr (header, message_id);
  ssq_test_amqp_method_append (out, ch, ID (60, 40), "sSSbb", 0u, exchange, key, mandatory, FALSE);
  ssq_test_amqp_frame_append (out, 2, ch, header->data, header->len, 0xCE);
  if (len > 0)
    ssq_test_amqp_frame_append (out, 3, ch, body, len, 0xCE);
}

static void
publish (SsqTestRaw *conn,
         guint16     ch,
         const char *exchange,
         const char *key,
         gboolean    mandatory,
         const char *content_type,
         const char *message_id,
         const char *body,
         gsize       len)
{
  g_autoptr(GByteArray) out = g_byte_array_new ();

  publish_append (out, ch, exchange, key, mandatory, content_type, message_id, body, len);
  ssq_test_amqp_send (conn, out);
}

static void
publish_text (SsqTestRaw *conn,
              guint16     ch,
              const char *key,
              gboolean    mandatory,
              const char *text)
{
  publish (conn, ch, "supersoniq.chat", key, mandatory, "text/plain", NULL, text, strlen (text));
}

static guint64
get64 (const guint8 *p)
{
  guint64 v = 0;

  for (int i = 0; i < 8; i++)
    v = (v << 8) | p[i];
  return v;
}

/* The next basic.ack on @conn (skipping nothing else): its delivery tag. */
static guint64
expect_ack (SsqTestRaw *conn)
{
  g_auto(SsqTestAmqpFrame) frame = { 0 };

  ssq_test_amqp_expect (conn, ID (60, 80), &frame);
  return get64 (frame.payload->data + 4);
}

/* The next confirm on @conn: its delivery tag, *out_ack TRUE for
 * basic.ack, FALSE for basic.nack, *out_multiple its multiple bit. */
static guint64
expect_confirm (SsqTestRaw *conn,
                gboolean   *out_ack,
                gboolean   *out_multiple)
{
  g_auto(SsqTestAmqpFrame) frame = { 0 };

  g_assert_true (ssq_test_amqp_read (conn, SSQ_TEST_RAW_WAIT_MS, &frame));
  g_assert_cmpuint (frame.type, ==, 1);
  g_assert_true (frame.method == ID (60, 80) || frame.method == ID (60, 120));
  *out_ack = frame.method == ID (60, 80);
  *out_multiple = (frame.payload->data[12] & 1) != 0;
  return get64 (frame.payload->data + 4);
}

/* A basic.return: its reply code and text (freed by the caller). */
static guint16
expect_return (SsqTestRaw  *conn,
               char       **out_text)
{
  g_auto(SsqTestAmqpFrame) frame = { 0 };
  g_auto(SsqTestAmqpFrame) header = { 0 };
  const guint8 *p;
  guint16 code;

  ssq_test_amqp_expect (conn, ID (60, 50), &frame);
  p = frame.payload->data + 4;
  code = (p[0] << 8) | p[1];
  *out_text = g_strndup ((const char *) p + 3, p[2]);
  /* Its content follows: header, then the body (one frame here). */
  g_assert_true (ssq_test_amqp_read (conn, WAIT, &header));
  g_assert_cmpuint (header.type, ==, 2);
  if (get64 (header.payload->data + 4) > 0)
    {
      g_auto(SsqTestAmqpFrame) body = { 0 };

      g_assert_true (ssq_test_amqp_read (conn, WAIT, &body));
      g_assert_cmpuint (body.type, ==, 3);
    }
  return code;
}

/* ---- deliveries ---------------------------------------------------------- */

typedef struct {
  char     *routing_key;
  char     *content_type;
  guint8    delivery_mode;
  char     *sender;         /* the x-supersoniq-sender header */
  char     *body;
} Delivery;

static void
delivery_clear (Delivery *d)
{
  g_free (d->routing_key);
  g_free (d->content_type);
  g_free (d->sender);
  g_free (d->body);
  memset (d, 0, sizeof *d);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Delivery, delivery_clear)

static char *
take_shortstr (const guint8 **p)
{
  guint8 len = **p;
  char *s = g_strndup ((const char *) *p + 1, len);

  *p += 1 + len;
  return s;
}

/* The properties this test reads: content-type, headers (the sender),
 * delivery-mode. Others before delivery-mode are not set by the bridge. */
static void
parse_properties (const guint8 *p,
                  Delivery     *d)
{
  guint16 flags = (p[0] << 8) | p[1];

  p += 2;
  g_assert_cmpuint (flags & 0x4000, ==, 0);  /* no content-encoding */
  if (flags & 0x8000)
    d->content_type = take_shortstr (&p);
  if (flags & 0x2000)
    {
      guint32 len = (p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3];
      const guint8 *end = p + 4 + len;

      p += 4;
      while (p < end)
        {
          g_autofree char *name = take_shortstr (&p);
          guint32 vlen;

          g_assert_cmpint (*p, ==, 'S');   /* the bridge writes strings only */
          vlen = (p[1] << 24) | (p[2] << 16) | (p[3] << 8) | p[4];
          if (g_str_equal (name, "x-supersoniq-sender"))
            d->sender = g_strndup ((const char *) p + 5, vlen);
          p += 5 + vlen;
        }
    }
  if (flags & 0x1000)
    d->delivery_mode = *p;
}

/* The next basic.deliver within @timeout_ms, with its content; FALSE if
 * none came. */
static gboolean
next_delivery (SsqTestRaw *conn,
               guint       timeout_ms,
               Delivery   *d)
{
  g_auto(SsqTestAmqpFrame) frame = { 0 };
  g_auto(SsqTestAmqpFrame) header = { 0 };
  g_autoptr(GString) body = g_string_new (NULL);
  const guint8 *p;
  guint64 size;
  g_autofree char *tag = NULL;
  g_autofree char *exchange = NULL;

  do
    {
      ssq_test_amqp_frame_clear (&frame);
      if (!ssq_test_amqp_read (conn, timeout_ms, &frame))
        return FALSE;
    }
  while (frame.type == 8);
  g_assert_cmphex (frame.method, ==, ID (60, 60));
  p = frame.payload->data + 4;
  tag = take_shortstr (&p);
  p += 8 + 1;                                  /* delivery-tag, redelivered */
  exchange = take_shortstr (&p);
  g_assert_cmpstr (exchange, ==, "supersoniq.events");
  d->routing_key = take_shortstr (&p);
  g_assert_true (ssq_test_amqp_read (conn, WAIT, &header));
  g_assert_cmpuint (header.type, ==, 2);
  size = get64 (header.payload->data + 4);
  parse_properties (header.payload->data + 12, d);
  while (body->len < size)
    {
      g_auto(SsqTestAmqpFrame) part = { 0 };

      g_assert_true (ssq_test_amqp_read (conn, WAIT, &part));
      g_assert_cmpuint (part.type, ==, 3);
      g_string_append_len (body, (const char *) part.payload->data, part.payload->len);
    }
  d->body = g_string_free (g_steal_pointer (&body), FALSE);
  return TRUE;
}

/* A server-named exclusive queue bound to supersoniq.events with @pattern,
 * consumed without acks on channel 1 of a new connection of @username. */
static SsqTestRaw *
events_consumer (Fixture    *f,
                 const char *username,
                 const char *pattern)
{
  SsqTestRaw *conn = amqp_open (f, username);
  g_autoptr(GByteArray) out = g_byte_array_new ();
  g_auto(SsqTestAmqpFrame) frame = { 0 };
  g_autofree char *queue = NULL;
  const guint8 *p;

  channel_open (conn, 1, FALSE);
  /* queue.declare: reserved, name, passive durable exclusive auto-delete nowait, args */
  ssq_test_amqp_method_append (out, 1, ID (50, 10), "sSbbbbbF", 0u, "", FALSE, FALSE, TRUE, TRUE,
                               FALSE, NULL);
  ssq_test_amqp_send (conn, out);
  ssq_test_amqp_expect (conn, ID (50, 11), &frame);
  p = frame.payload->data + 4;
  queue = take_shortstr (&p);
  g_byte_array_set_size (out, 0);
  ssq_test_amqp_method_append (out, 1, ID (50, 20), "sSSSbF", 0u, queue, "supersoniq.events",
                               pattern, FALSE, NULL);
  /* basic.consume: reserved, queue, tag, no-local no-ack exclusive nowait, args */
  ssq_test_amqp_method_append (out, 1, ID (60, 20), "sSSbbbbF", 0u, queue, "", FALSE, TRUE, FALSE,
                               FALSE, NULL);
  ssq_test_amqp_send (conn, out);
  ssq_test_amqp_expect (conn, ID (50, 21), &frame);
  ssq_test_amqp_expect (conn, ID (60, 21), &frame);
  return conn;
}

/* ---- REST helpers -------------------------------------------------------- */

static JsonArray *
history (Fixture     *f,
         SsqTestUser *user,
         const char  *conversation_id,
         JsonObject **out_reply)
{
  g_autofree char *path = g_strdup_printf ("/api/v1/conversations/%s/messages?limit=100",
                                           conversation_id);
  guint status = 0;

  *out_reply = ssq_test_http (f->server, "GET", path, user->token, NULL, &status);
  g_assert_cmpuint (status, ==, 200);
  return json_object_get_array_member (*out_reply, "messages");
}

/* The newest message of the conversation, as @user reads it. */
static JsonObject *
last_message (Fixture     *f,
              SsqTestUser *user,
              const char  *conversation_id,
              JsonObject **out_reply)
{
  JsonArray *messages = history (f, user, conversation_id, out_reply);
  guint n = json_array_get_length (messages);

  g_assert_cmpuint (n, >, 0);
  return json_array_get_object_element (messages, n - 1);
}

static gint64
metric (Fixture    *f,
        const char *name)
{
  return ssq_test_metric (f->server, name);
}

/* ---- tests --------------------------------------------------------------- */

/* By conversation id and by username: stored with the next seq (in history
 * once confirmed), from the publisher, on the members' sessions. A
 * username without a conversation gets one made. */
static void
test_post (Fixture       *f,
           gconstpointer  data)
{
  g_autofree char *conv = ssq_test_create_conversation (f->server, f->alice,
                                                        "{\"kind\":\"direct\",\"members\":[\"bob\"]}");
  g_autoptr(SsqTestWs) bob_ws = ssq_test_ws_connect (f->server, f->bob->token, NULL);
  g_autoptr(SsqTestRaw) conn = amqp_open (f, "alice");
  g_autoptr(JsonObject) reply = NULL;
  g_autoptr(JsonObject) reply2 = NULL;
  g_autoptr(JsonObject) event = NULL;
  g_autoptr(JsonObject) carols = NULL;
  g_autoptr(SsqTestUser) carol = ssq_test_register (f->server, "carol");
  JsonObject *m;
  gint64 seq;
  guint status = 0;

  g_assert_nonnull (ssq_test_ws_expect (bob_ws, "welcome", WAIT));
  channel_open (conn, 1, TRUE);
  publish_text (conn, 1, conv, FALSE, "by id ✓");
  g_assert_cmpuint (expect_ack (conn), ==, 1);
  /* Confirmed means committed: in history now, with alice as its sender. */
  m = last_message (f, f->bob, conv, &reply);
  g_assert_cmpstr (json_object_get_string_member (m, "body"), ==, "by id ✓");
  g_assert_cmpstr (json_object_get_string_member (m, "sender"), ==, f->alice->id);
  seq = json_object_get_int_member (m, "seq");
  g_assert_cmpint (seq, ==, 1);
  event = ssq_test_ws_expect (bob_ws, "message", WAIT);
  g_assert_nonnull (event);
  m = json_object_get_object_member (event, "message");
  g_assert_cmpstr (json_object_get_string_member (m, "body"), ==, "by id ✓");
  g_assert_cmpint (json_object_get_int_member (m, "seq"), ==, seq);

  /* By username: the direct conversation that exists. */
  publish_text (conn, 1, "bob", FALSE, "by username");
  g_assert_cmpuint (expect_ack (conn), ==, 2);
  m = last_message (f, f->alice, conv, &reply2);
  g_assert_cmpstr (json_object_get_string_member (m, "body"), ==, "by username");
  g_assert_cmpint (json_object_get_int_member (m, "seq"), ==, seq + 1);

  /* A username with no conversation yet: made, as the REST API makes it. */
  publish_text (conn, 1, "carol", FALSE, "hello carol");
  g_assert_cmpuint (expect_ack (conn), ==, 3);
  carols = ssq_test_http (f->server, "GET", "/api/v1/conversations", carol->token, NULL, &status);
  g_assert_cmpuint (status, ==, 200);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (carols, "conversations")),
                    ==, 1);
}

/* application/json with a client_id, published twice: stored once, both
 * confirmed. The message-id property does the same for text/plain. */
static void
test_idempotent (Fixture       *f,
                 gconstpointer  data)
{
  g_autofree char *conv = ssq_test_create_conversation (f->server, f->alice,
                                                        "{\"kind\":\"direct\",\"members\":[\"bob\"]}");
  g_autoptr(SsqTestRaw) conn = amqp_open (f, "alice");
  g_autoptr(JsonObject) reply = NULL;
  const char *json = "{\"body\":\"as json\",\"client_id\":\"amqp-1\"}";
  JsonArray *messages;
  JsonObject *m;

  channel_open (conn, 1, TRUE);
  publish (conn, 1, "supersoniq.chat", conv, FALSE, "application/json", NULL, json, strlen (json));
  publish (conn, 1, "supersoniq.chat", conv, FALSE, "application/json", NULL, json, strlen (json));
  publish (conn, 1, "supersoniq.chat", conv, FALSE, "text/plain", "mid-7", "plain", 5);
  publish (conn, 1, "supersoniq.chat", conv, FALSE, "text/plain", "mid-7", "plain", 5);
  {
    guint64 told = 0;

    /* Confirms of one turn come as one basic.ack with multiple=true. */
    while (told < 4)
      told = expect_ack (conn);
    g_assert_cmpuint (told, ==, 4);
  }
  messages = history (f, f->bob, conv, &reply);
  g_assert_cmpuint (json_array_get_length (messages), ==, 2);
  m = json_array_get_object_element (messages, 0);
  g_assert_cmpstr (json_object_get_string_member (m, "body"), ==, "as json");
  g_assert_cmpstr (json_object_get_string_member (m, "client_id"), ==, "amqp-1");
  m = json_array_get_object_element (messages, 1);
  g_assert_cmpstr (json_object_get_string_member (m, "client_id"), ==, "mid-7");
}

/* Each refusal on a channel of its own: the channel closes with @code. */
static void
assert_channel_error (SsqTestRaw *conn,
                      guint16     ch,
                      const char *exchange,
                      const char *key,
                      const char *content_type,
                      const char *body,
                      gsize       len,
                      guint16     code)
{
  g_autoptr(GByteArray) out = g_byte_array_new ();
  g_auto(SsqTestAmqpFrame) frame = { 0 };

  channel_open (conn, ch, FALSE);
  publish (conn, ch, exchange, key, FALSE, content_type, NULL, body, len);
  ssq_test_amqp_expect (conn, ID (20, 40), &frame);
  g_test_message ("channel.close %u %s", frame.reply_code, frame.reply_text);
  g_assert_cmpuint (frame.channel, ==, ch);
  g_assert_cmpuint (frame.reply_code, ==, code);
  ssq_test_amqp_method_append (out, ch, ID (20, 41), "");
  ssq_test_amqp_send (conn, out);
}

/* Not a member, no such conversation or user, a body no message can be
 * made of: a channel error, or basic.return when mandatory; nothing is
 * stored, and the connection goes on. */
static void
test_refusals (Fixture       *f,
               gconstpointer  data)
{
  g_autofree char *conv = ssq_test_create_conversation (f->server, f->alice,
                                                        "{\"kind\":\"direct\",\"members\":[\"bob\"]}");
  g_autoptr(SsqTestRaw) conn = amqp_open (f, "erin");
  g_autoptr(SsqTestRaw) alice = amqp_open (f, "alice");
  g_autoptr(JsonObject) reply = NULL;
  static const char bad_utf8[] = "\xff\xfe not utf-8";
  static const char with_nul[] = "a\0b";
  g_autofree char *big = g_strnfill (16385, 'x');
  char *text = NULL;

  /* Mandatory: returned (then acked, confirms being on), the channel stays. */
  channel_open (conn, 1, TRUE);
  publish_text (conn, 1, conv, TRUE, "not a member");
  g_assert_cmpuint (expect_return (conn, &text), ==, 312);
  g_test_message ("return 312 %s", text);
  g_assert_nonnull (strstr (text, "not a member"));
  g_clear_pointer (&text, g_free);
  g_assert_cmpuint (expect_ack (conn), ==, 1);
  publish_text (conn, 1, "nosuchuser", TRUE, "nobody");
  g_assert_cmpuint (expect_return (conn, &text), ==, 312);
  g_test_message ("return 312 %s", text);
  g_assert_nonnull (strstr (text, "no conversation or user 'nosuchuser'"));
  g_clear_pointer (&text, g_free);
  g_assert_cmpuint (expect_ack (conn), ==, 2);
  publish (conn, 1, "supersoniq.chat", "alice", TRUE, NULL, NULL, bad_utf8, sizeof bad_utf8 - 1);
  g_assert_cmpuint (expect_return (conn, &text), ==, 406);
  g_test_message ("return 406 %s", text);
  g_clear_pointer (&text, g_free);
  g_assert_cmpuint (expect_ack (conn), ==, 3);

  /* Without: the channel closes with the reason's code. */
  assert_channel_error (conn, 2, CHAT, conv, "text/plain", "x", 1, 403);
  assert_channel_error (conn, 3, CHAT, "nosuchuser", "text/plain", "x", 1, 404);
  assert_channel_error (conn, 4, CHAT, "c000000000000000000000000", NULL, "x", 1, 404);
  assert_channel_error (conn, 5, CHAT, "alice", NULL, bad_utf8, sizeof bad_utf8 - 1, 406);
  assert_channel_error (conn, 6, CHAT, "alice", NULL, with_nul, 3, 406);
  assert_channel_error (conn, 7, CHAT, "alice", NULL, big, 16385, 406);
  assert_channel_error (conn, 8, CHAT, "alice", "application/json", "[1]", 3, 406);
  assert_channel_error (conn, 9, CHAT, "alice", "application/json", "{\"body\":", 8, 406);
  assert_channel_error (conn, 10, CHAT, "alice", "application/json", "{\"text\":\"x\"}", 12, 406);
  assert_channel_error (conn, 11, CHAT, "alice", "image/png", "x", 1, 406);
  assert_channel_error (conn, 12, CHAT, "alice", "text/plain; charset=latin1", "x", 1, 406);
  assert_channel_error (conn, 13, CHAT, "alice", NULL, "", 0, 406);
  assert_channel_error (conn, 14, CHAT, "erin", NULL, "to myself", 9, 406);
  /* JSON bodies are read by the frames' reader: json-glib's own read this
   * body as "a" (a C string cut at the escaped NUL), and took single
   * quotes. */
  assert_channel_error (conn, 17, CHAT, "alice", "application/json",
                        "{\"body\":\"a\\u0000b\"}", 19, 406);
  assert_channel_error (conn, 18, CHAT, "alice", "application/json", "{'body':'x'}", 12, 406);
  /* Nobody may feed supersoniq.events. */
  assert_channel_error (alice, 1, "supersoniq.events", "x", NULL, "x", 1, 403);

  /* A method right behind a refused publish, in the same write, is not
   * answered: the channel.close comes first (the declare-ok went out
   * before it, the broker telling outcomes only at its next turn). */
  {
    g_autoptr(GByteArray) out = g_byte_array_new ();
    g_auto(SsqTestAmqpFrame) frame = { 0 };

    channel_open (conn, 16, FALSE);
    publish_append (out, 16, CHAT, conv, FALSE, "text/plain", NULL, "x", 1);
    ssq_test_amqp_method_append (out, 16, ID (50, 10), "sSbbbbbF", 0u, "", FALSE, FALSE, TRUE,
                                 TRUE, FALSE, NULL);
    ssq_test_amqp_send (conn, out);
    ssq_test_amqp_expect (conn, ID (20, 40), &frame);
    g_assert_cmpuint (frame.channel, ==, 16);
    g_assert_cmpuint (frame.reply_code, ==, 403);
    g_byte_array_set_size (out, 0);
    ssq_test_amqp_method_append (out, 16, ID (20, 41), "");
    ssq_test_amqp_send (conn, out);
  }

  /* None of it was stored; erin has no conversation made for her either. */
  g_assert_cmpuint (json_array_get_length (history (f, f->alice, conv, &reply)), ==, 0);
  channel_open (conn, 15, TRUE);
  publish_text (conn, 15, "alice", FALSE, "still served");
  g_assert_cmpuint (expect_ack (conn), ==, 1);
}

/* New, edited and deleted messages reach the queue bound by a member, with
 * the WebSocket event's JSON and the sender; erin, who bound the same,
 * gets none of them. */
static void
test_events (Fixture       *f,
             gconstpointer  data)
{
  g_autofree char *conv = ssq_test_create_conversation (f->server, f->alice,
                                                        "{\"kind\":\"direct\",\"members\":[\"bob\"]}");
  g_autoptr(SsqTestWs) alice_ws = ssq_test_ws_connect (f->server, f->alice->token, NULL);
  g_autoptr(SsqTestRaw) bob = NULL;
  g_autoptr(SsqTestRaw) erin = NULL;
  g_autoptr(SsqTestRaw) publisher = amqp_open (f, "alice");
  g_autoptr(JsonObject) ack = NULL;
  g_autoptr(JsonObject) r = NULL;
  g_autoptr(JsonObject) r2 = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_auto(Delivery) d = { 0 };
  g_autofree char *prefix = g_strdup_printf ("conversation.%s.", conv);
  g_autofree char *path = NULL;
  JsonObject *m;
  guint status = 0;

  g_assert_nonnull (ssq_test_ws_expect (alice_ws, "welcome", WAIT));
  /* Nothing bound yet: nothing is built for the exchange. */
  ack = ssq_test_ws_post (alice_ws, conv, "before", "before any binding");
  g_assert_cmpint (metric (f, "ssq_bridge_events_total"), ==, 0);
  g_clear_pointer (&ack, json_object_unref);

  bob = events_consumer (f, "bob", "conversation.#");
  erin = events_consumer (f, "erin", "conversation.#");
  ack = ssq_test_ws_post (alice_ws, conv, "ws-1", "over WebSocket");
  g_assert_true (next_delivery (bob, WAIT, &d));
  g_assert_cmpstr (d.routing_key + strlen (prefix), ==, "message");
  g_assert_true (g_str_has_prefix (d.routing_key, prefix));
  g_assert_cmpstr (d.content_type, ==, "application/json");
  g_assert_cmpuint (d.delivery_mode, ==, 2);
  g_assert_cmpstr (d.sender, ==, "alice");
  g_assert_true (json_parser_load_from_data (parser, d.body, -1, NULL));
  m = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpstr (json_object_get_string_member (m, "type"), ==, "message");
  m = json_object_get_object_member (m, "message");
  g_assert_cmpstr (json_object_get_string_member (m, "body"), ==, "over WebSocket");
  g_assert_cmpint (json_object_get_int_member (m, "seq"), ==, 2);
  delivery_clear (&d);

  path = g_strdup_printf ("/api/v1/conversations/%s/messages/2", conv);
  r = ssq_test_http (f->server, "PATCH", path, f->alice->token, "{\"body\":\"edited\"}", &status);
  g_assert_cmpuint (status, ==, 200);
  g_assert_true (next_delivery (bob, WAIT, &d));
  g_assert_cmpstr (d.routing_key + strlen (prefix), ==, "edited");
  g_assert_nonnull (strstr (d.body, "\"edited\""));
  delivery_clear (&d);
  r2 = ssq_test_http (f->server, "DELETE", path, f->alice->token, NULL, &status);
  g_assert_cmpuint (status / 100, ==, 2);
  g_assert_true (next_delivery (bob, WAIT, &d));
  g_assert_cmpstr (d.routing_key + strlen (prefix), ==, "deleted");
  g_assert_nonnull (strstr (d.body, "\"deleted\":true"));
  delivery_clear (&d);

  /* A message posted through the bridge comes back as an event too. */
  channel_open (publisher, 1, TRUE);
  publish_text (publisher, 1, conv, FALSE, "through the bridge");
  g_assert_cmpuint (expect_ack (publisher), ==, 1);
  g_assert_true (next_delivery (bob, WAIT, &d));
  g_assert_nonnull (strstr (d.body, "through the bridge"));
  delivery_clear (&d);
  g_assert_cmpint (metric (f, "ssq_bridge_events_total"), ==, 4);

  /* erin bound the same pattern, and is in none of it. */
  g_assert_false (next_delivery (erin, 300, &d));
  g_assert_false (erin->closed);
}

/* Membership is read as each event is routed: a removed member's queue
 * gets nothing more, while the event was still built (the others hear). */
static void
test_removed_member (Fixture       *f,
                     gconstpointer  data)
{
  g_autofree char *conv = ssq_test_create_conversation (f->server, f->alice,
                                                        "{\"kind\":\"group\",\"title\":\"g\","
                                                        "\"members\":[\"bob\",\"erin\"]}");
  g_autoptr(SsqTestRaw) bob = events_consumer (f, "bob", "conversation.*.message");
  g_autoptr(SsqTestRaw) erin = events_consumer (f, "erin", "conversation.#");
  g_autoptr(SsqTestRaw) alice = amqp_open (f, "alice");
  g_autoptr(JsonObject) r = NULL;
  g_autofree char *path = g_strdup_printf ("/api/v1/conversations/%s/members/bob", conv);
  g_auto(Delivery) d = { 0 };
  guint status = 0;
  gint64 built;

  channel_open (alice, 1, TRUE);
  publish_text (alice, 1, conv, FALSE, "all three");
  g_assert_cmpuint (expect_ack (alice), ==, 1);
  g_assert_true (next_delivery (bob, WAIT, &d));
  delivery_clear (&d);
  g_assert_true (next_delivery (erin, WAIT, &d));
  delivery_clear (&d);

  r = ssq_test_http (f->server, "DELETE", path, f->alice->token, NULL, &status);
  g_assert_cmpuint (status / 100, ==, 2);
  built = metric (f, "ssq_bridge_events_total");
  publish_text (alice, 1, conv, FALSE, "without bob");
  g_assert_cmpuint (expect_ack (alice), ==, 2);
  g_assert_true (next_delivery (erin, WAIT, &d));
  g_assert_nonnull (strstr (d.body, "without bob"));
  g_assert_cmpint (metric (f, "ssq_bridge_events_total"), ==, built + 1);
  g_assert_false (next_delivery (bob, 300, &d));
}

/* What an event costs is what the conversation's members bound, not every
 * binding to supersoniq.events: erin, in none of alice and bob's
 * conversations, binds 200 patterns ("#" among them), and a message of
 * alice's looks at bob's one binding only (ssq_broker_bindings_examined_total),
 * while bob still gets it and erin does not. */
static void
test_events_cost (Fixture       *f,
                  gconstpointer  data)
{
  g_autofree char *conv = ssq_test_create_conversation (f->server, f->alice,
                                                        "{\"kind\":\"direct\",\"members\":[\"bob\"]}");
  g_autoptr(SsqTestWs) alice_ws = ssq_test_ws_connect (f->server, f->alice->token, NULL);
  g_autoptr(SsqTestRaw) bob = events_consumer (f, "bob", "conversation.#");
  g_autoptr(SsqTestRaw) erin = events_consumer (f, "erin", "#");
  g_autoptr(GByteArray) out = g_byte_array_new ();
  g_auto(SsqTestAmqpFrame) frame = { 0 };
  g_autoptr(JsonObject) ack = NULL;
  g_auto(Delivery) d = { 0 };
  g_autofree char *queue = NULL;
  const guint8 *p;
  gint64 before, examined;

  g_assert_nonnull (ssq_test_ws_expect (alice_ws, "welcome", WAIT));
  /* erin's second queue, bound 199 more times. */
  ssq_test_amqp_method_append (out, 2, ID (20, 10), "S", "");
  ssq_test_amqp_method_append (out, 2, ID (50, 10), "sSbbbbbF", 0u, "", FALSE, FALSE, TRUE, FALSE,
                               FALSE, NULL);
  ssq_test_amqp_send (erin, out);
  ssq_test_amqp_expect (erin, ID (20, 11), &frame);
  ssq_test_amqp_frame_clear (&frame);
  ssq_test_amqp_expect (erin, ID (50, 11), &frame);
  p = frame.payload->data + 4;
  queue = take_shortstr (&p);
  g_byte_array_set_size (out, 0);
  for (guint i = 0; i < 199; i++)
    {
      g_autofree char *pattern = g_strdup_printf ("conversation.#.k%u", i);

      ssq_test_amqp_method_append (out, 2, ID (50, 20), "sSSSbF", 0u, queue, "supersoniq.events",
                                   pattern, FALSE, NULL);
    }
  ssq_test_amqp_send (erin, out);
  for (guint i = 0; i < 199; i++)
    {
      ssq_test_amqp_frame_clear (&frame);
      ssq_test_amqp_expect (erin, ID (50, 21), &frame);
    }

  before = metric (f, "ssq_broker_bindings_examined_total");
  ack = ssq_test_ws_post (alice_ws, conv, "cost-1", "one message");
  g_assert_true (next_delivery (bob, WAIT, &d));
  g_assert_nonnull (strstr (d.body, "one message"));
  examined = metric (f, "ssq_broker_bindings_examined_total") - before;
  g_test_message ("bindings examined for one message: %" G_GINT64_FORMAT, examined);
  g_assert_cmpint (examined, ==, 1);
  g_assert_false (next_delivery (erin, 300, &d));
}

/* A bot over its rate limit (messages_per_minute 3 here): under confirms
 * each publish past it is nacked (mandatory or not) and the channel stays
 * open, so the bot may try again later; without confirms it is returned
 * when mandatory, else the channel closes (406), as it must to tell it at
 * all. Nothing past the limit is stored. */
static void
test_rate_limited (Fixture       *f,
                   gconstpointer  data)
{
  g_autofree char *conv = ssq_test_create_conversation (f->server, f->alice,
                                                        "{\"kind\":\"direct\",\"members\":[\"bob\"]}");
  g_autoptr(SsqTestRaw) conn = amqp_open (f, "alice");
  g_autoptr(GByteArray) out = g_byte_array_new ();
  g_auto(SsqTestAmqpFrame) frame = { 0 };
  g_autoptr(JsonObject) page = NULL;
  guint acks = 0, nacks = 0;

  channel_open (conn, 1, TRUE);
  for (guint i = 0; i < 5; i++)
    {
      g_autofree char *text = g_strdup_printf ("bot message %u", i);

      publish_append (out, 1, "supersoniq.chat", conv, FALSE, "text/plain", NULL, text, strlen (text));
    }
  ssq_test_amqp_send (conn, out);
  /* In order, acks gathered (multiple): the first three taken, the rest
   * refused. */
  for (guint64 next = 1; next <= 5;)
    {
      gboolean ack, multiple;
      guint64 tag = expect_confirm (conn, &ack, &multiple);

      g_assert_true (tag == next || (multiple && tag > next));
      for (; next <= tag; next++)
        {
          g_assert_true (ack == (next <= 3));
          if (ack)
            acks++;
          else
            nacks++;
        }
    }
  g_assert_cmpuint (acks, ==, 3);
  g_assert_cmpuint (nacks, ==, 2);
  g_test_message ("%u acked, %u nacked", acks, nacks);
  /* The channel is still open. */
  g_byte_array_set_size (out, 0);
  ssq_test_amqp_method_append (out, 1, ID (50, 10), "sSbbbbbF", 0u, "after-nacks", FALSE, FALSE,
                               FALSE, TRUE, FALSE, NULL);
  ssq_test_amqp_send (conn, out);
  ssq_test_amqp_expect (conn, ID (50, 11), &frame);
  g_assert_cmpuint (frame.channel, ==, 1);
  /* Mandatory under confirms: the nack alone, no return. */
  {
    gboolean ack, multiple;

    publish_text (conn, 1, conv, TRUE, "mandatory, confirmed");
    g_assert_cmpuint (expect_confirm (conn, &ack, &multiple), ==, 6);
    g_assert_false (ack);
  }

  /* Without confirms: mandatory, returned (406) and the channel stays;
   * not mandatory, the channel closes (406). */
  {
    g_autofree char *text = NULL;

    channel_open (conn, 3, FALSE);
    publish_text (conn, 3, conv, TRUE, "mandatory, unconfirmed");
    g_assert_cmpuint (expect_return (conn, &text), ==, 406);
    g_test_message ("return 406 %s", text);
  }
  assert_channel_error (conn, 2, "supersoniq.chat", conv, "text/plain", "no confirms", 11, 406);

  g_assert_cmpuint (json_array_get_length (history (f, f->alice, conv, &page)), ==, 3);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, func) \
  g_test_add ("/server/bridge/" path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("post", test_post);
  ADD ("idempotent", test_idempotent);
  ADD ("refusals", test_refusals);
  ADD ("events", test_events);
  ADD ("events-cost", test_events_cost);
  ADD ("removed-member", test_removed_member);
  g_test_add ("/server/bridge/rate-limited", Fixture, "messages_per_minute=3\n", fixture_setup,
              test_rate_limited, fixture_teardown);
  return g_test_run ();
}
