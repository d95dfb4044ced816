/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-hostile.c: bad input over HTTP, WebSocket and raw TCP. Each case must
 * get a clear error (or a clean close) and leave the server serving. */
#include "ssq-test-raw.h"
#include "ssq-wire.h"

#include <string.h>
#include <sys/socket.h>

#define WAIT 5000

static SsqTestServer *server;
static SsqTestUser *user;
static char *conv;

static void
assert_alive (void)
{
  guint status = 0;
  g_autoptr(JsonObject) r = ssq_test_http (server, "GET", "/healthz", NULL, NULL, &status);

  g_assert_cmpuint (status, ==, 200);
}

static void
expect_http (const char *method,
             const char *path,
             const char *body,
             gssize      len,
             guint       want_status,
             const char *want_code)
{
  guint status = 0;
  g_autoptr(JsonObject) r = ssq_test_http_raw (server, method, path, user->token, body,
                                               len < 0 ? strlen (body) : (gsize) len, &status);

  g_assert_cmpuint (status, ==, want_status);
  if (want_code != NULL)
    g_assert_cmpstr (ssq_test_error_code (r), ==, want_code);
}

/* Sends the head of a POST to @path announcing @length bytes of body, and
 * none of them; the status of the answer, which must come unread. */
static guint
head_only_status (const char *path,
                  const char *token,
                  gsize       length)
{
  g_autoptr(SsqTestRaw) c = ssq_test_raw_open (server);
  g_autofree char *auth = token ? g_strdup_printf ("Authorization: Bearer %s\r\n", token) : g_strdup ("");
  g_autofree char *head = g_strdup_printf ("POST %s HTTP/1.1\r\nHost: test\r\n%s"
                                           "Content-Type: application/json\r\n"
                                           "Content-Length: %" G_GSIZE_FORMAT "\r\n\r\n",
                                           path, auth, length);
  g_auto(SsqTestRawResponse) r = { 0 };

  g_assert_true (ssq_test_raw_send_str (c, head));
  g_assert_true (ssq_test_raw_read_response (c, WAIT, &r));
  return r.status;
}

/* What a body may hold is decided at its headers, before a byte of it is
 * read: 16 KB without a valid token (a login, any unknown route), and a
 * wrong token on a route that needs one is refused at once. The body was
 * read and held first (up to 256 KB per connection, from anyone), and the
 * limits applied once it was whole. */
static void
test_http_body_before_login (void)
{
  g_autofree char *msgs = g_strdup_printf ("/api/v1/conversations/%s/messages", conv);

  g_assert_cmpuint (head_only_status ("/api/v1/login", NULL, 262144), ==, 413);
  g_assert_cmpuint (head_only_status ("/api/v1/register", NULL, 16385), ==, 413);
  g_assert_cmpuint (head_only_status ("/api/v1/nowhere", NULL, 100000), ==, 413);
  g_assert_cmpuint (head_only_status (msgs, NULL, 100000), ==, 401);
  g_assert_cmpuint (head_only_status (msgs, "bogus-token", 100000), ==, 401);
  /* A user's may hold more: see test_http_bad_bodies (16,385 bytes of
   * text are read, then judged). */
  assert_alive ();
}

static void
test_http_bad_bodies (void)
{
  g_autofree char *msgs = g_strdup_printf ("/api/v1/conversations/%s/messages", conv);
  g_autofree char *huge = NULL;
  g_autofree char *deep = NULL;
  g_autofree char *long_body = NULL;
  g_autofree char *json_long = NULL;

  expect_http ("POST", msgs, "{not json", -1, 400, "invalid");
  expect_http ("POST", msgs, "[1,2,3]", -1, 400, "invalid");
  expect_http ("POST", msgs, "", 0, 400, "invalid");
  expect_http ("POST", msgs, "{\"client_id\":\"a\",\"body\":\"\xff\xfe\"}", -1, 400, "invalid");
  expect_http ("POST", msgs, "{\"client_id\":\"a\",\"body\":\"x\0y\"}", 28, 400, "invalid");
  expect_http ("POST", msgs, "{\"client_id\":\"a\",\"body\":\"x\\u0000y\"}", -1, 400, "invalid");
  expect_http ("POST", msgs, "{\"client_id\":\"a\",\"body\":42}", -1, 400, "invalid");
  expect_http ("POST", msgs, "{\"client_id\":[],\"body\":\"x\"}", -1, 400, "invalid");
  expect_http ("POST", msgs, "{\"client_id\":\"a\",\"body\":\"\"}", -1, 400, "invalid");
  expect_http ("POST", msgs, "{\"client_id\":\"a\",\"body\":\"x\",\"reply_to\":1e400}", -1, 400,
               "invalid");
  expect_http ("POST", msgs,
               "{\"client_id\":\"a\",\"body\":\"x\",\"reply_to\":99999999999999999999999}", -1,
               400, "invalid");
  expect_http ("POST", msgs, "{\"client_id\":\"a\",\"body\":\"x\",\"reply_to\":-5}", -1, 400,
               "invalid");
  expect_http ("POST", msgs, "{\"client_id\":\"a\",\"body\":\"x\",\"reply_to\":1.5}", -1, 400,
               "invalid");
  expect_http ("POST", msgs, "{\"client_id\":\"a\",\"body\":\"x\",\"media\":[\"nope\"]}", -1, 404,
               "not_found");

  /* 16384 bytes is the most a body may hold. */
  long_body = g_strnfill (16385, 'a');
  json_long = g_strdup_printf ("{\"client_id\":\"long\",\"body\":\"%s\"}", long_body);
  expect_http ("POST", msgs, json_long, -1, 400, "invalid");
  long_body[16384] = '\0';
  g_free (json_long);
  json_long = g_strdup_printf ("{\"client_id\":\"long\",\"body\":\"%s\"}", long_body);
  expect_http ("POST", msgs, json_long, -1, 201, NULL);

  huge = g_strnfill (300 * 1024, ' ');
  huge[0] = '{';
  huge[300 * 1024 - 1] = '}';
  expect_http ("POST", msgs, huge, -1, 413, "too_large");
  deep = g_strnfill (100000, '[');
  expect_http ("POST", msgs, deep, -1, 400, "invalid");

  expect_http ("GET", "/api/v1/nowhere", "", 0, 404, "not_found");
  expect_http ("PUT", "/api/v1/me", "", 0, 405, NULL);
  expect_http ("GET", "/api/v1/conversations/a%2Fb/messages", "", 0, 404, NULL);
  {
    g_autofree char *p = g_strdup_printf ("%s?before=99999999999999999999999", msgs);
    expect_http ("GET", p, "", 0, 400, "invalid");
  }
  {
    g_autofree char *p = g_strdup_printf ("%s/abc", msgs);
    expect_http ("PATCH", p, "{\"body\":\"x\"}", -1, 404, "not_found");
  }
  expect_http ("POST", "/api/v1/register", "{\"username\":\"ab\",\"password\":\"password1\"}", -1,
               400, "invalid");
  expect_http ("POST", "/api/v1/register", "{\"username\":\"Bad Name\",\"password\":\"password1\"}",
               -1, 400, "invalid");
  expect_http ("POST", "/api/v1/register", "{\"username\":\"okname\",\"password\":\"short\"}", -1,
               400, "invalid");
  expect_http ("POST", "/api/v1/conversations", "{\"kind\":\"party\"}", -1, 400, "invalid");
  expect_http ("POST", "/api/v1/conversations", "{\"kind\":\"group\",\"title\":\"t\",\"members\":[1]}",
               -1, 400, "invalid");
  assert_alive ();
}

static void
ws_expect_error (SsqTestWs  *ws,
                 const char *text,
                 gsize       len,
                 const char *code)
{
  g_autoptr(JsonObject) err = NULL;

  ssq_test_ws_send_bytes (ws, SOUP_WEBSOCKET_DATA_TEXT, text, len);
  err = ssq_test_ws_expect (ws, "error", WAIT);
  g_assert_nonnull (err);
  g_assert_cmpstr (json_object_get_string_member (err, "code"), ==, code);
  g_assert_false (ws->closed);
}

static void
test_ws_bad_frames (void)
{
  g_autoptr(SsqTestWs) ws = ssq_test_ws_connect (server, user->token, NULL);
  g_autofree char *send_nul = g_strdup_printf (
    "{\"type\":\"send\",\"id\":\"1\",\"conversation_id\":\"%s\",\"client_id\":\"n\",\"body\":\"a\\u0000b\"}", conv);
  g_autoptr(JsonObject) err = NULL;

  g_assert_nonnull (ssq_test_ws_expect (ws, "welcome", WAIT));
#define S(x) x, sizeof (x) - 1
  ws_expect_error (ws, S ("not json at all"), "invalid");
  ws_expect_error (ws, S ("[\"send\"]"), "invalid");
  ws_expect_error (ws, S ("{\"id\":\"1\"}"), "invalid");
  ws_expect_error (ws, S ("{\"type\":\"explode\",\"id\":\"1\"}"), "invalid");
  ws_expect_error (ws, S ("{\"type\":42,\"id\":\"1\"}"), "invalid");
  ws_expect_error (ws, S ("{\"type\":\"send\"}"), "invalid");
  ws_expect_error (ws, S ("{\"type\":\"send\",\"id\":{}}"), "invalid");
  ws_expect_error (ws, S ("{\"type\":\"send\",\"id\":\"1\",\"conversation_id\":\"nope\",\"client_id\":\"x\",\"body\":\"x\"}"),
                   "not_found");
  ws_expect_error (ws, S ("{\"type\":\"read\",\"id\":\"1\",\"conversation_id\":\"nope\",\"seq\":1}"),
                   "not_found");
  ws_expect_error (ws, S ("{\"type\":\"read\",\"id\":\"1\",\"conversation_id\":\"nope\",\"seq\":1e999}"),
                   "invalid");
  ws_expect_error (ws, S ("{\"type\":\"read\",\"id\":\"1\",\"conversation_id\":\"nope\",\"seq\":123456789012345678901234567890}"),
                   "invalid");
  ws_expect_error (ws, S ("{\"type\":\"typing\",\"conversation_id\":\"nope\",\"active\":true}"),
                   "not_found");
  ws_expect_error (ws, S ("{\"type\":\"typing\",\"conversation_id\":\"x\",\"active\":\"yes\"}"),
                   "invalid");
  ws_expect_error (ws, S ("{\"type\":\"sync\",\"id\":\"1\",\"since\":[]}"), "invalid");
  ws_expect_error (ws, send_nul, strlen (send_nul), "invalid");
  {
    g_autofree char *deep = g_strnfill (5000, '{');
    ws_expect_error (ws, deep, strlen (deep), "invalid");
  }
  /* Binary frames are refused, the connection stays. */
  ssq_test_ws_send_bytes (ws, SOUP_WEBSOCKET_DATA_BINARY, S ("\x01\x02"));
  err = ssq_test_ws_expect (ws, "error", WAIT);
  g_assert_nonnull (err);
  g_assert_false (ws->closed);
#undef S

  /* Still fully working after all that. */
  {
    g_autoptr(JsonObject) ack = ssq_test_ws_post (ws, conv, "after", "ok");
    g_assert_cmpstr (json_object_get_string_member (ack, "type"), ==, "ack");
  }
}

static void
test_ws_oversize_frame (void)
{
  g_autoptr(SsqTestWs) ws = ssq_test_ws_connect (server, user->token, NULL);
  g_autofree char *big = g_strnfill (65537, 'x');

  ssq_test_ws_send (ws, big);
  g_assert_cmpuint (ssq_test_ws_wait_closed (ws, WAIT), ==, 1009);
  assert_alive ();
}

/* "[{...},...]": @n objects of 256 members whose names all have one
 * g_str_hash ("ab" and "bA" hash alike), so that json-glib's table walks
 * all the others on each insert. */
static char *
colliding_objects (guint n)
{
  GString *text = g_string_new ("[");

  for (guint o = 0; o < n; o++)
    {
      g_string_append (text, o > 0 ? ",{" : "{");
      for (guint m = 0; m < 256; m++)
        {
          g_string_append (text, m > 0 ? ",\"" : "\"");
          for (guint bit = 0; bit < 8; bit++)
            g_string_append (text, (m >> bit) & 1 ? "bA" : "ab");
          g_string_append (text, "\":0");
        }
      g_string_append (text, "}");
    }
  g_string_append (text, "]");
  return g_string_free (text, FALSE);
}

/* "{...},...": @n objects of @members distinct names. */
static char *
wide_objects (guint n,
              guint members)
{
  GString *text = g_string_new (NULL);

  for (guint o = 0; o < n; o++)
    {
      g_string_append (text, o > 0 ? ",{" : "{");
      for (guint m = 0; m < members; m++)
        g_string_append_printf (text, "%s\"m%u\":0", m > 0 ? "," : "", m);
      g_string_append (text, "}");
    }
  return g_string_free (text, FALSE);
}

/* Sends a message holding "x": @extra as a frame on @ws and as a body to
 * @msgs: each is refused as invalid, naming @reason. */
static void
refused_both_ways (SsqTestWs  *ws,
                   const char *msgs,
                   const char *extra,
                   const char *reason)
{
  g_autofree char *frame = g_strdup_printf (
    "{\"type\":\"send\",\"id\":\"c\",\"conversation_id\":\"%s\",\"client_id\":\"c\","
    "\"body\":\"x\",\"x\":%s}", conv, extra);
  g_autofree char *body = g_strdup_printf ("{\"client_id\":\"c\",\"body\":\"x\",\"x\":%s}", extra);
  g_autoptr(JsonObject) err = NULL;
  g_autoptr(JsonObject) r = NULL;
  SsqWireError refused;
  guint status = 0;

  g_assert_cmpuint (strlen (frame), <, 65536);
  ssq_test_ws_send (ws, frame);
  err = ssq_test_ws_expect (ws, "error", WAIT);
  g_assert_nonnull (err);
  g_assert_cmpstr (json_object_get_string_member (err, "code"), ==, "invalid");
  g_assert_nonnull (strstr (json_object_get_string_member (err, "message"), reason));

  r = ssq_test_http (server, "POST", msgs, user->token, body, &status);
  g_assert_cmpuint (status, ==, 400);
  g_assert_true (ssq_wire_error_reply_decode (r, &refused));
  g_assert_cmpstr (refused.code, ==, "invalid");
  g_assert_nonnull (strstr (refused.message, reason));
}

/* What costs the main loop most to read is refused before it does, over
 * WebSocket and REST alike, and the connection goes on: names made to
 * collide in json-glib's member table (a 215 KB body of them cost 24-26
 * ms), more than 2,048 members or 8,192 values in all. */
static void
test_costly_requests (void)
{
  g_autoptr(SsqTestWs) ws = ssq_test_ws_connect (server, user->token, NULL);
  g_autofree char *colliding = colliding_objects (1);
  g_autofree char *wide = wide_objects (5, 1000);
  g_autofree char *members = g_strdup_printf ("[%s]", wide);
  g_autoptr(GString) values = g_string_new ("[0");
  g_autofree char *msgs = g_strdup_printf ("/api/v1/conversations/%s/messages", conv);
  gint64 seq_before;

  g_assert_nonnull (ssq_test_ws_expect (ws, "welcome", WAIT));
  {
    g_autoptr(JsonObject) ack = ssq_test_ws_post (ws, conv, "before-costly", "ok");

    seq_before = json_object_get_int_member (json_object_get_object_member (ack, "message"),
                                             "seq");
  }
  for (guint i = 0; i < 20000; i++)
    g_string_append (values, ",0");
  g_string_append (values, "]");
  refused_both_ways (ws, msgs, colliding, "member names made to collide");
  refused_both_ways (ws, msgs, members, "more than 2048 members in all");
  refused_both_ways (ws, msgs, values->str, "more than 8192 values in all");
  /* Nothing was posted; the connection still works. */
  {
    g_autoptr(JsonObject) ack = ssq_test_ws_post (ws, conv, "after-costly", "ok");

    g_assert_cmpstr (json_object_get_string_member (ack, "type"), ==, "ack");
    g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (ack, "message"),
                                                 "seq"), ==, seq_before + 1);
  }
}

static GSocketConnection *
raw_connect (void)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GError) error = NULL;
  const char *hostport = server->url + strlen ("http://");
  GSocketConnection *c = g_socket_client_connect_to_host (client, hostport, 80, NULL, &error);

  g_assert_no_error (error);
  return c;
}

static void
raw_write (GSocketConnection *c,
           const char        *text)
{
  g_autoptr(GError) error = NULL;

  g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (c)), text, strlen (text),
                             NULL, NULL, &error);
  g_assert_no_error (error);
}

/* A hand-made WebSocket client (ssq-test-raw.h), for bytes libsoup's client
 * will not send. */
static void
test_ws_invalid_utf8 (void)
{
  g_autoptr(SsqTestRaw) c = ssq_test_raw_open (server);
  g_autoptr(GByteArray) frame = g_byte_array_new ();
  const guint8 bad[] = "{\"type\":\"\xc3\x28\"}";

  ssq_test_raw_ws_upgrade (c, user->token);
  /* RFC 6455: invalid UTF-8 in a text frame fails the connection (1007). */
  ssq_test_raw_ws_frame_append (frame, 0x81, bad, sizeof bad - 1);
  ssq_test_raw_send (c, frame->data, frame->len, WAIT);
  g_assert_cmpint (ssq_test_raw_ws_pump (c, WAIT, NULL), ==, 1007);
  assert_alive ();
}

static void
test_vanishing_clients (void)
{
  /* Half a request line, half the headers, half a body, then gone. */
  const char *partials[] = {
    "GET /api/v1/m",
    "POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Le",
    "POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"username\":",
    /* A complete login whose client leaves while the hash is computed. */
    "POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Length: 47\r\n\r\n"
    "{\"username\":\"hostile\",\"password\":\"password1\"}",
    "POST /api/v1/register HTTP/1.1\r\nHost: x\r\nContent-Length: 49\r\n\r\n"
    "{\"username\":\"vanisher\",\"password\":\"password1\"}",
  };

  for (guint i = 0; i < G_N_ELEMENTS (partials); i++)
    {
      g_autoptr(GSocketConnection) c = raw_connect ();

      raw_write (c, partials[i]);
      g_io_stream_close (G_IO_STREAM (c), NULL, NULL);
    }
  /* A message send whose client leaves before the commit. */
  {
    g_autoptr(GSocketConnection) c = raw_connect ();
    g_autofree char *body = g_strdup_printf ("{\"client_id\":\"gone\",\"body\":\"bye\"}");
    g_autofree char *req = g_strdup_printf (
      "POST /api/v1/conversations/%s/messages HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
      "Content-Length: %zu\r\n\r\n%s", conv, user->token, strlen (body), body);

    raw_write (c, req);
    g_io_stream_close (G_IO_STREAM (c), NULL, NULL);
  }
  ssq_test_wait_ms (500);
  assert_alive ();
  /* The message was stored all the same, exactly once. */
  {
    g_autofree char *path = g_strdup_printf ("/api/v1/conversations/%s/messages", conv);
    g_autoptr(JsonObject) r = ssq_test_http (server, "POST", path, user->token,
                                             "{\"client_id\":\"gone\",\"body\":\"bye\"}", NULL);
    g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (r, "message"), "body"), ==, "bye");
  }
}

static void
test_idle_connection_closed (void)
{
  g_autoptr(SsqTestServer) s = ssq_test_server_start (NULL, "idle_timeout=1\n");
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketConnection) c = NULL;
  char buf[256];
  gssize n;
  gint64 start = g_get_monotonic_time ();

  c = g_socket_client_connect_to_host (client, s->url + strlen ("http://"), 80, NULL, &error);
  g_assert_no_error (error);
  /* A slow-loris client: a few bytes, then nothing. */
  g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (c)), "GET /", 5, NULL,
                             NULL, &error);
  g_socket_set_timeout (g_socket_connection_get_socket (c), 10);
  /* The server answers 408 and hangs up (EOF or reset), well before our
   * own 10 s timeout. */
  n = g_input_stream_read (g_io_stream_get_input_stream (G_IO_STREAM (c)), buf, sizeof buf - 1,
                           NULL, &error);
  if (n > 0)
    {
      buf[n] = '\0';
      g_assert_true (g_str_has_prefix (buf, "HTTP/1.1 408 "));
      n = g_input_stream_read (g_io_stream_get_input_stream (G_IO_STREAM (c)), buf, sizeof buf,
                               NULL, &error);
    }
  g_assert_true (n == 0 || (n < 0 && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT)));
  g_assert_cmpint (g_get_monotonic_time () - start, <, 8 * G_USEC_PER_SEC);
}

static void
test_slow_reader_cut (void)
{
  g_autoptr(SsqTestServer) s = ssq_test_server_start (NULL, "send_queue_max=65536\n");
  g_autoptr(SsqTestUser) writer = ssq_test_register (s, "slow.writer");
  g_autoptr(SsqTestUser) reader = ssq_test_register (s, "slow.reader");
  g_autofree char *c = ssq_test_create_conversation (s, writer,
    "{\"kind\":\"direct\",\"members\":[\"slow.reader\"]}");
  g_autofree char *path = g_strdup_printf ("/api/v1/conversations/%s/messages", c);
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) raw = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *upgrade = NULL;
  g_autofree char *filler = g_strnfill (8000, 'z');
  guint status = 0;
  gboolean cut = FALSE;

  /* A WebSocket client that never reads, with a tiny receive window. */
  raw = g_socket_client_connect_to_host (client, s->url + strlen ("http://"), 80, NULL, &error);
  g_assert_no_error (error);
  g_socket_set_option (g_socket_connection_get_socket (raw), SOL_SOCKET, SO_RCVBUF, 4096, NULL);
  upgrade = g_strdup_printf ("GET /api/v1/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                             "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                             "Sec-WebSocket-Version: 13\r\nAuthorization: Bearer %s\r\n\r\n",
                             reader->token);
  g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (raw)), upgrade,
                             strlen (upgrade), NULL, NULL, &error);
  g_assert_no_error (error);
  ssq_test_wait_ms (200);

  for (int i = 0; i < 2000 && !cut; i++)
    {
      g_autofree char *body = g_strdup_printf ("{\"client_id\":\"f%d\",\"body\":\"%s\"}", i, filler);
      g_autoptr(JsonObject) r = ssq_test_http (s, "POST", path, writer->token, body, &status);

      g_assert_cmpuint (status, ==, 201);
      if (i % 50 == 49)
        {
          g_autoptr(SoupSession) ss = soup_session_new ();
          g_autofree char *uri = g_strconcat (s->url, "/metrics", NULL);
          g_autoptr(SoupMessage) msg = soup_message_new ("GET", uri);
          g_autoptr(GBytes) text = soup_session_send_and_read (ss, msg, NULL, NULL);

          cut = g_strstr_len (g_bytes_get_data (text, NULL), g_bytes_get_size (text),
                              "ssq_connections_cut_slow_total 1") != NULL;
        }
    }
  g_assert_true (cut);

  /* The reader still never reads, so the close handshake cannot finish:
   * the server drops the connection after its grace time, and lives on. */
  ssq_test_wait_ms (4500);
  {
    g_autoptr(JsonObject) health = ssq_test_http (s, "GET", "/healthz", NULL, NULL, &status);

    g_assert_cmpuint (status, ==, 200);
  }
  g_assert_nonnull (g_subprocess_get_identifier (s->process));
}

/* A reader that falls behind, is cut off, and then reads again: its close
 * frame goes out while older events still wait behind it in libsoup's queue
 * (libsoup 3.2 then polls a closed socket and trips its own assertion when
 * the connection is freed; the server must not go that way). */
static void
test_slow_reader_resumes (void)
{
  g_autoptr(SsqTestServer) s = ssq_test_server_start (NULL, "send_queue_max=65536\n");
  g_autoptr(SsqTestUser) writer = ssq_test_register (s, "lag.writer");
  g_autoptr(SsqTestUser) reader = ssq_test_register (s, "lag.reader");
  g_autofree char *c = ssq_test_create_conversation (s, writer,
    "{\"kind\":\"direct\",\"members\":[\"lag.reader\"]}");
  g_autofree char *path = g_strdup_printf ("/api/v1/conversations/%s/messages", c);
  g_autofree char *filler = g_strnfill (8000, 'q');
  g_autoptr(SsqTestWs) ws = ssq_test_ws_connect (s, reader->token, NULL);
  guint status = 0;

  g_assert_nonnull (ssq_test_ws_expect (ws, "welcome", 5000));
  /* The reader itself sends a burst without reading the acks and events
   * that pile up, as a client busy with its own writes does. */
  for (int i = 0; i < 3000; i++)
    {
      g_autofree char *frame = g_strdup_printf ("{\"type\":\"send\",\"id\":%d,\"conversation_id\":\"%s\","
                                                "\"client_id\":\"l%d\",\"body\":\"%s\"}", i, c, i, filler);

      if (soup_websocket_connection_get_state (ws->conn) != SOUP_WEBSOCKET_STATE_OPEN)
        break;
      ssq_test_ws_send (ws, frame);
    }
  (void) path;
  /* Now it reads everything there is, up to the close. */
  ssq_test_ws_wait_closed (ws, 10000);
  ssq_test_wait_ms (500);
  {
    g_autoptr(JsonObject) health = ssq_test_http (s, "GET", "/healthz", NULL, NULL, &status);

    g_assert_cmpuint (status, ==, 200);
  }
}

int
main (int    argc,
      char **argv)
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  server = ssq_test_server_start (NULL, "max_body_size=262144\n");
  user = ssq_test_register (server, "hostile");
  conv = ssq_test_create_conversation (server, user, "{\"kind\":\"group\",\"title\":\"H\"}");
  g_test_add_func ("/server/hostile/http-bodies", test_http_bad_bodies);
  g_test_add_func ("/server/hostile/http-body-before-login", test_http_body_before_login);
  g_test_add_func ("/server/hostile/ws-frames", test_ws_bad_frames);
  g_test_add_func ("/server/hostile/ws-oversize-frame", test_ws_oversize_frame);
  g_test_add_func ("/server/hostile/ws-invalid-utf8", test_ws_invalid_utf8);
  g_test_add_func ("/server/hostile/costly-requests", test_costly_requests);
  g_test_add_func ("/server/hostile/vanishing-clients", test_vanishing_clients);
  g_test_add_func ("/server/hostile/idle-connection-closed", test_idle_connection_closed);
  g_test_add_func ("/server/hostile/slow-reader-cut", test_slow_reader_cut);
  g_test_add_func ("/server/hostile/slow-reader-resumes", test_slow_reader_resumes);
  ret = g_test_run ();
  ssq_test_user_free (user);
  g_free (conv);
  ssq_test_server_free (server);
  return ret;
}
