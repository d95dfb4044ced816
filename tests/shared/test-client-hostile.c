/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-client-hostile.c: SsqClient against an in-process fake server that
 * answers with malformed HTTP replies and WebSocket frames; and against the
 * real server with a disk that fills up under its cache. */
#include "ssq-proto.h"
#include "ssq-test-client.h"
#include "ssq-cache.h"
#include "ssq-client-private.h"
#include "ssq-test-media.h"
#include "ssq-test-limits.h"

#include <glib/gstdio.h>

#include <stdio.h>
#include <string.h>

static void
hostile_ws_cb (SoupServer              *server,
               SoupServerMessage       *msg,
               const char              *path,
               SoupWebsocketConnection *connection,
               gpointer                 user_data)
{
  static const char *const frames[] = {
    "{\"type\":\"welcome\",\"user\":{\"id\":\"u1\",\"username\":\"eve\"},\"session_id\":\"s\",\"server_time\":1}",
    "this is not json",
    "[1, 2, 3]",
    "{\"type\": 42}",
    "{\"type\":\"from-the-future\",\"x\":1}",
    "{\"type\":\"message\",\"message\":{\"seq\":\"one\"}}",
    "{\"type\":\"message\",\"message\":{\"id\":\"m\",\"conversation_id\":\"c\",\"seq\":-5,\"sender\":\"u2\"}}",
    "{\"type\":\"conversation\",\"conversation\":{\"id\":5}}",
    "{\"type\":\"conversation\",\"conversation\":{\"id\":\"c\",\"kind\":\"group\",\"members\":[1,2]}}",
    "{\"type\":\"receipt\"}",
    "{\"type\":\"typing\",\"conversation_id\":\"c\",\"user\":\"u2\",\"active\":\"yes\"}",
    "{\"type\":\"presence\",\"user\":7}",
    "{\"type\":\"ack\",\"id\":999999}",
    "{\"type\":\"error\",\"code\":\"invalid\",\"message\":\"no id\"}",
    "{\"type\":\"notification\",\"conversation_id\":\"c\"}",
  };

  g_object_set_data_full (G_OBJECT (server), "ws", g_object_ref (connection), g_object_unref);
  /* What the client asked for when it opened the WebSocket. */
  g_object_set_data_full (G_OBJECT (server), "ws-query",
                          g_strdup (g_uri_get_query (soup_server_message_get_uri (msg))), g_free);
  for (guint i = 0; i < G_N_ELEMENTS (frames); i++)
    soup_websocket_connection_send_text (connection, frames[i]);
  soup_websocket_connection_send_binary (connection, "\x01\x02", 2);
}

static void
hostile_http_cb (SoupServer        *server,
                 SoupServerMessage *msg,
                 const char        *path,
                 GHashTable        *query,
                 gpointer           user_data)
{
  if (g_str_has_suffix (path, "/login"))
    soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_STATIC, "{}", 2);
  else if (g_str_has_suffix (path, "/users"))
    {
      soup_server_message_set_status (msg, 500, NULL);
      soup_server_message_set_response (msg, "text/html", SOUP_MEMORY_STATIC, "<h1>oops", 8);
    }
  else
    soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_STATIC, "{\"conv", 6);
  soup_server_message_set_status (msg, soup_server_message_get_status (msg) == 500 ? 500 : 200, NULL);
}

/* A server that breaks the protocol: the client reports errors and goes on. */
static void
test_hostile_server (void)
{
  g_autoptr(SoupServer) fake = soup_server_new (NULL, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(SsqTestClient) tc = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GPtrArray) users = NULL;
  g_autoptr(GPtrArray) conversations = NULL;
  g_autofree char *url = NULL;
  GSList *uris;

  soup_server_add_websocket_handler (fake, "/api/v1/ws", NULL, NULL, hostile_ws_cb, NULL, NULL);
  soup_server_add_handler (fake, "/api", hostile_http_cb, NULL, NULL);
  g_assert_true (soup_server_listen_local (fake, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error));
  uris = soup_server_get_uris (fake);
  url = g_strdup_printf ("http://127.0.0.1:%d", g_uri_get_port (uris->data));
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);

  tc = ssq_test_client_new (url, NULL);
  ssq_client_login_async (tc->client, "eve", "password123", NULL, ssq_test_store_result, &result);
  g_assert_false (ssq_client_login_finish (tc->client, ssq_test_client_wait_result (&result), &error));
  g_assert_error (error, SSQ_ERROR, SSQ_ERROR_PROTOCOL);
  g_clear_error (&error);

  g_assert_true (ssq_client_set_session (tc->client, "eve", "u1", "token", &error));
  ssq_client_connect (tc->client);
  ssq_test_client_wait_for_errors (tc, 13);
  g_assert_cmpint (ssq_client_get_state (tc->client), ==, SSQ_CLIENT_ONLINE);
  /* The client derives notifications, so asks the server for no frames. */
  g_assert_cmpstr (g_object_get_data (G_OBJECT (fake), "ws-query"), ==, "notifications=client");
  for (guint i = 0; i < tc->errors->len; i++)
    g_assert_true (((GError *) tc->errors->pdata[i])->domain == SSQ_ERROR);

  g_clear_object (&result);
  ssq_client_search_users_async (tc->client, "a", 10, NULL, ssq_test_store_result, &result);
  users = ssq_client_search_users_finish (tc->client, ssq_test_client_wait_result (&result), &error);
  g_assert_null (users);
  g_assert_error (error, SSQ_ERROR, SSQ_ERROR_INTERNAL);
  g_clear_error (&error);
  g_clear_object (&result);
  ssq_client_fetch_conversations_async (tc->client, NULL, ssq_test_store_result, &result);
  conversations = ssq_client_fetch_conversations_finish (tc->client, ssq_test_client_wait_result (&result), &error);
  g_assert_null (conversations);
  g_assert_error (error, SSQ_ERROR, SSQ_ERROR_PROTOCOL);

  /* Let both ends close their connections before the server goes. */
  g_clear_pointer (&tc, ssq_test_client_free);
  g_object_set_data (G_OBJECT (fake), "ws", NULL);
  ssq_test_wait_ms (100);
  soup_server_disconnect (fake);
}

/* ---- A server that always cuts the sync short ----------------------- */

static void
endless_sync_message_cb (SoupWebsocketConnection *connection,
                         gint                     type,
                         GBytes                  *message,
                         gpointer                 user_data)
{
  guint *syncs = user_data;
  g_autoptr(JsonObject) frame = ssq_test_frame_of_type (message, "sync");
  g_autofree char *ack = NULL;

  if (frame == NULL)
    return;
  (*syncs)++;
  ack = g_strdup_printf ("{\"type\":\"ack\",\"id\":%" G_GINT64_FORMAT ",\"truncated\":[\"c1\"]}",
                         json_object_get_int_member (frame, "id"));
  soup_websocket_connection_send_text (connection, ack);
}

static void
endless_sync_ws_cb (SoupServer              *server,
                    SoupServerMessage       *msg,
                    const char              *path,
                    SoupWebsocketConnection *connection,
                    gpointer                 user_data)
{
  g_object_set_data_full (G_OBJECT (server), "ws", g_object_ref (connection), g_object_unref);
  g_signal_connect (connection, "message", G_CALLBACK (endless_sync_message_cb), user_data);
  soup_websocket_connection_send_text (connection,
    "{\"type\":\"welcome\",\"user\":{\"id\":\"u1\",\"username\":\"eve\"},"
    "\"session_id\":\"s\",\"server_time\":1}");
}

/* Replies of a size no protocol reply has: one declared up front, one
 * chunked without a length. */
#define HUGE_BODY (17 * 1024 * 1024)

static void
huge_http_cb (SoupServer        *server,
              SoupServerMessage *msg,
              const char        *path,
              GHashTable        *query,
              gpointer           user_data)
{
  static const char head[] = "{\"conversations\":[],\"users\":[],\"pad\":\"";
  char *body = g_malloc (HUGE_BODY);

  /* A valid reply but for its size: only the limit refuses it. */
  memset (body, 'x', HUGE_BODY);
  memcpy (body, head, strlen (head));
  memcpy (body + HUGE_BODY - 2, "\"}", 2);
  soup_server_message_set_status (msg, 200, NULL);
  if (g_str_has_suffix (path, "/users"))
    {
      SoupMessageBody *out = soup_server_message_get_response_body (msg);

      soup_message_headers_set_encoding (soup_server_message_get_response_headers (msg),
                                         SOUP_ENCODING_CHUNKED);
      soup_message_headers_set_content_type (soup_server_message_get_response_headers (msg),
                                             "application/json", NULL);
      for (gsize at = 0; at < HUGE_BODY; at += 1024 * 1024)
        soup_message_body_append (out, SOUP_MEMORY_COPY, body + at, MIN (1024 * 1024, HUGE_BODY - at));
      soup_message_body_complete (out);
      g_free (body);
    }
  else
    soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_TAKE, body, HUGE_BODY);
}

static gboolean
stopped_syncing (gpointer data)
{
  return ((SsqTestClient *) data)->errors->len > 0;
}

/* A sync that the server always says it cut short stops with an error
 * after a bounded number of requests, and a reply body larger than any
 * the protocol has is refused, whether its length is declared or not. */
static void
test_hostile_sizes (void)
{
  g_autoptr(SoupServer) fake = soup_server_new (NULL, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(SsqTestClient) tc = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GPtrArray) users = NULL;
  g_autoptr(GPtrArray) conversations = NULL;
  g_autofree char *url = NULL;
  guint syncs = 0;
  GError *stopped;

  soup_server_add_websocket_handler (fake, "/api/v1/ws", NULL, NULL, endless_sync_ws_cb, &syncs, NULL);
  soup_server_add_handler (fake, "/api", huge_http_cb, NULL, NULL);
  url = ssq_test_fake_server_url (fake);

  tc = ssq_test_client_new (url, NULL);
  g_assert_true (ssq_client_set_session (tc->client, "eve", "u1", "token", &error));

  ssq_client_fetch_conversations_async (tc->client, NULL, ssq_test_store_result, &result);
  conversations = ssq_client_fetch_conversations_finish (tc->client, ssq_test_client_wait_result (&result), &error);
  g_assert_null (conversations);
  g_assert_error (error, SSQ_ERROR, SSQ_ERROR_PROTOCOL);
  g_test_message ("declared: %s", error->message);
  g_clear_error (&error);
  g_clear_object (&result);
  ssq_client_search_users_async (tc->client, "a", 10, NULL, ssq_test_store_result, &result);
  users = ssq_client_search_users_finish (tc->client, ssq_test_client_wait_result (&result), &error);
  g_assert_null (users);
  g_assert_error (error, SSQ_ERROR, SSQ_ERROR_PROTOCOL);
  g_test_message ("chunked: %s", error->message);
  g_clear_error (&error);

  ssq_client_connect (tc->client);
  g_assert_true (ssq_test_wait_until (stopped_syncing, tc, SSQ_TEST_CLIENT_WAIT_MS));
  stopped = tc->errors->pdata[tc->errors->len - 1];
  g_assert_error (stopped, SSQ_ERROR, SSQ_ERROR_PROTOCOL);
  g_test_message ("sync: %s (%u requests)", stopped->message, syncs);
  g_assert_cmpuint (syncs, <=, 4);
  g_assert_false (ssq_client_is_synced (tc->client));

  g_clear_pointer (&tc, ssq_test_client_free);
  g_object_set_data (G_OBJECT (fake), "ws", NULL);
  ssq_test_wait_ms (100);
  soup_server_disconnect (fake);
}

/* ---- A server that never ends a message --------------------------------
 * A fake of its own on a GSocketService: after a correct handshake and a
 * welcome it sends one text message as 64 KiB continuation frames,
 * FLOOD_TOTAL bytes of them before the last one. */

#define FLOOD_FRAME   (64 * 1024)
#define FLOOD_HEADER  10
#define FLOOD_TOTAL   ((guint64) 128 * 1024 * 1024)

typedef struct {
  GCancellable *cancellable;
  guint         connections;   /* WebSocket ones */
  guint         open;          /* connections not yet done */
  guint64       sent;          /* payload bytes sent on the last connection */
  gboolean      cut;           /* the client closed it before the message ended */
} Flood;

typedef struct {
  Flood             *flood;
  GSocketConnection *conn;
  GByteArray        *request;
  guint8            *frame;    /* header and payload of one frame */
  guint64            sent;
} FloodConn;

static void
flood_conn_done (FloodConn *fc)
{
  fc->flood->open--;
  g_io_stream_close (G_IO_STREAM (fc->conn), NULL, NULL);
  g_object_unref (fc->conn);
  g_byte_array_unref (fc->request);
  g_free (fc->frame);
  g_free (fc);
}

static void flood_write_next (FloodConn *fc);

static void
flood_written_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  FloodConn *fc = user_data;
  g_autoptr(GError) error = NULL;

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, &error))
    {
      fc->flood->cut = !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      flood_conn_done (fc);
      return;
    }
  if (fc->sent >= FLOOD_TOTAL + 2)
    {
      flood_conn_done (fc);
      return;
    }
  flood_write_next (fc);
}

/* The first frame opens a text message, the next ones continue it, and the
 * last, with FIN, would end it. */
static void
flood_write_next (FloodConn *fc)
{
  gsize len = FLOOD_HEADER + FLOOD_FRAME;

  if (fc->sent >= FLOOD_TOTAL)
    {
      memcpy (fc->frame, "\x80\x02\"}", 4);
      len = 4;
      fc->sent += 2;
    }
  else
    {
      fc->frame[0] = fc->sent == 0 ? 0x01 : 0x00;
      fc->sent += FLOOD_FRAME;
    }
  fc->flood->sent = fc->sent;
  g_output_stream_write_all_async (g_io_stream_get_output_stream (G_IO_STREAM (fc->conn)),
                                   fc->frame, len, G_PRIORITY_DEFAULT, fc->flood->cancellable,
                                   flood_written_cb, fc);
}

static char *
accept_key (const char *key)
{
  g_autoptr(GChecksum) sha1 = g_checksum_new (G_CHECKSUM_SHA1);
  guint8 digest[20];
  gsize len = sizeof digest;

  g_checksum_update (sha1, (const guchar *) key, -1);
  g_checksum_update (sha1, (const guchar *) "258EAFA5-E914-47DA-95CA-C5AB0DC85B11", -1);
  g_checksum_get_digest (sha1, digest, &len);
  return g_base64_encode (digest, len);
}

static void flood_read_request (FloodConn *fc);

static void
flood_read_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  FloodConn *fc = user_data;
  g_autoptr(SoupMessageHeaders) headers = soup_message_headers_new (SOUP_MESSAGE_HEADERS_REQUEST);
  g_autofree char *accept = NULL;
  g_autofree char *response = NULL;
  g_autoptr(GString) out = NULL;
  const char *welcome = "{\"type\":\"welcome\",\"user\":{\"id\":\"u1\",\"username\":\"eve\"},"
                        "\"session_id\":\"s\",\"server_time\":1}";
  const char *end;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, NULL);

  if (n <= 0)
    {
      flood_conn_done (fc);
      return;
    }
  g_byte_array_set_size (fc->request, fc->request->len - 1024 + (gsize) n);
  end = g_strstr_len ((const char *) fc->request->data, fc->request->len, "\r\n\r\n");
  if (end == NULL)
    {
      flood_read_request (fc);
      return;
    }
  g_assert_cmpuint (soup_headers_parse_request ((const char *) fc->request->data,
                                                (int) ((const guint8 *) end + 2 - fc->request->data),
                                                headers, NULL, NULL, NULL), ==, SOUP_STATUS_OK);
  /* Once welcomed the client asks for its conversations over HTTP: none. */
  if (soup_message_headers_get_one (headers, "Sec-WebSocket-Key") == NULL)
    {
      static const char none[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                 "Content-Length: 20\r\nConnection: close\r\n\r\n"
                                 "{\"conversations\":[]}";

      g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (fc->conn)), none,
                                 strlen (none), NULL, NULL, NULL);
      flood_conn_done (fc);
      return;
    }
  fc->flood->connections++;
  accept = accept_key (soup_message_headers_get_one (headers, "Sec-WebSocket-Key"));
  response = g_strdup_printf ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                              "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n", accept);
  /* A whole welcome right behind the head, in the same write: the client
   * reads both at once and must keep the frame for its WebSocket. */
  out = g_string_new (response);
  g_string_append_c (out, (char) 0x81);
  g_string_append_c (out, (char) strlen (welcome));
  g_string_append (out, welcome);
  g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (fc->conn)), out->str,
                             out->len, NULL, NULL, NULL);
  flood_write_next (fc);
}

static void
flood_read_request (FloodConn *fc)
{
  gsize len = fc->request->len;

  g_byte_array_set_size (fc->request, len + 1024);
  g_input_stream_read_async (g_io_stream_get_input_stream (G_IO_STREAM (fc->conn)),
                             fc->request->data + len, 1024, G_PRIORITY_DEFAULT,
                             fc->flood->cancellable, flood_read_cb, fc);
}

static gboolean
flood_incoming_cb (GSocketService    *service,
                   GSocketConnection *conn,
                   GObject           *source,
                   gpointer           user_data)
{
  FloodConn *fc = g_new0 (FloodConn, 1);

  fc->flood = user_data;
  fc->flood->open++;
  fc->conn = g_object_ref (conn);
  fc->request = g_byte_array_new ();
  /* A 64-bit length (127): 65536 is one more than a 16-bit one holds. */
  fc->frame = g_malloc (FLOOD_HEADER + FLOOD_FRAME);
  memcpy (fc->frame, "\x01\x7f\x00\x00\x00\x00\x00\x01\x00\x00", FLOOD_HEADER);
  memset (fc->frame + FLOOD_HEADER, 'x', FLOOD_FRAME);
  memcpy (fc->frame + FLOOD_HEADER, "{\"type\":\"welcome\",\"pad\":\"", 25);
  flood_read_request (fc);
  return TRUE;
}

/* This process's memory, from /proc/self/status (KiB). */
static gsize
status_kb (const char *field)
{
  g_autofree char *status = NULL;
  const char *line;

  g_assert_true (g_file_get_contents ("/proc/self/status", &status, NULL, NULL));
  line = strstr (status, field);
  g_assert_nonnull (line);
  return (gsize) g_ascii_strtoull (line + strlen (field), NULL, 10);
}

/* Resets the peak (VmHWM) to the current RSS. */
static gboolean
reset_peak_rss (void)
{
  FILE *f = fopen ("/proc/self/clear_refs", "w");
  gboolean ok;

  if (f == NULL)
    return FALSE;
  ok = fputs ("5", f) >= 0;
  return fclose (f) == 0 && ok;
}

static void
note_online_cb (SsqClient  *client,
                GParamSpec *pspec,
                gboolean   *was_online)
{
  if (ssq_client_get_state (client) == SSQ_CLIENT_ONLINE)
    *was_online = TRUE;
}

static gboolean
client_waiting (gpointer data)
{
  return ssq_client_get_state (((SsqTestClient *) data)->client) == SSQ_CLIENT_WAITING;
}

/* A server that sends one message without end: the client's connection
 * closes with a clear error once it is past the client's limit, the memory
 * it held stays bounded, and the reconnect waits its backoff. */
static void
test_hostile_endless_message (void)
{
  g_autoptr(GSocketService) service = g_socket_service_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(SsqTestClient) tc = NULL;
  g_autofree char *url = NULL;
  Flood flood = { .cancellable = g_cancellable_new () };
  gsize baseline_kb, growth_kb;
  gboolean was_online = FALSE;
  guint16 port;
  GError *reported;

  port = g_socket_listener_add_any_inet_port (G_SOCKET_LISTENER (service), NULL, &error);
  g_assert_no_error (error);
  g_signal_connect (service, "incoming", G_CALLBACK (flood_incoming_cb), &flood);
  g_socket_service_start (service);
  url = g_strdup_printf ("http://127.0.0.1:%u", port);

  tc = ssq_test_client_new (url, NULL);
  g_assert_true (ssq_client_set_session (tc->client, "eve", "u1", "token", &error));
  if (!reset_peak_rss ())
    g_test_message ("clear_refs refused: the peak RSS includes the start-up");
  baseline_kb = status_kb ("VmRSS:");
  g_signal_connect (tc->client, "notify::state", G_CALLBACK (note_online_cb), &was_online);
  ssq_client_connect (tc->client);
  ssq_test_client_wait_for_errors (tc, 1);
  growth_kb = status_kb ("VmHWM:") > baseline_kb ? status_kb ("VmHWM:") - baseline_kb : 0;
  reported = tc->errors->pdata[0];
  g_test_message ("error: %s; %" G_GUINT64_FORMAT " MiB of the message sent; RSS growth %"
                  G_GSIZE_FORMAT " KiB", reported->message, flood.sent / (1024 * 1024), growth_kb);
  g_assert_error (reported, SSQ_ERROR, SSQ_ERROR_PROTOCOL);
  /* The welcome that came with the handshake's head was read. */
  g_assert_true (was_online);
  g_assert_cmpuint (flood.sent, <, FLOOD_TOTAL);
  g_assert_cmpuint (growth_kb, <, 64 * 1024);

  /* Closed, and waiting before the next try rather than trying again at
   * once against the same server. */
  g_assert_true (ssq_test_wait_until (client_waiting, tc, SSQ_TEST_CLIENT_WAIT_MS));
  g_assert_cmpuint (flood.connections, ==, 1);
  g_assert_cmpuint (tc->errors->len, ==, 1);
  ssq_client_disconnect (tc->client);
  g_test_message ("the fake saw the client close: %s", flood.cut ? "yes" : "not yet");

  g_clear_pointer (&tc, ssq_test_client_free);
  g_cancellable_cancel (flood.cancellable);
  while (flood.open > 0)
    g_main_context_iteration (NULL, TRUE);
  g_socket_service_stop (service);
  g_socket_listener_close (G_SOCKET_LISTENER (service));
  g_object_unref (flood.cancellable);
}

/* ---- An ack the client cannot apply ------------------------------------ */

typedef struct {
  GPtrArray *sends;   /* client_id of each send frame, in order */
} UnappliedAck;

static void
unapplied_message_cb (SoupWebsocketConnection *connection,
                      gint                     type,
                      GBytes                  *message,
                      gpointer                 user_data)
{
  UnappliedAck *r = user_data;
  g_autoptr(JsonObject) frame = ssq_test_frame_of_type (message, "send");
  g_autofree char *ack = NULL;

  if (frame == NULL)
    return;
  g_ptr_array_add (r->sends, g_strdup (json_object_get_string_member (frame, "client_id")));
  if (r->sends->len != 1)
    return;   /* only the first gets an answer: an ack without its message */
  ack = g_strdup_printf ("{\"type\":\"ack\",\"id\":%" G_GINT64_FORMAT "}",
                         json_object_get_int_member (frame, "id"));
  soup_websocket_connection_send_text (connection, ack);
}

static gboolean
three_sends (gpointer data)
{
  UnappliedAck *r = data;

  return r->sends->len >= 3;
}

static void
unapplied_ws_cb (SoupServer              *server,
              SoupServerMessage       *msg,
              const char              *path,
              SoupWebsocketConnection *connection,
              gpointer                 user_data)
{
  g_object_set_data_full (G_OBJECT (server), "ws", g_object_ref (connection), g_object_unref);
  g_signal_connect (connection, "message", G_CALLBACK (unapplied_message_cb), user_data);
  soup_websocket_connection_send_text (connection,
    "{\"type\":\"welcome\",\"user\":{\"id\":\"u1\",\"username\":\"eve\"},"
    "\"session_id\":\"s\",\"server_time\":1}");
}

/* The server acknowledges the first send without its message (the client
 * cannot apply it, as when its cache cannot be written): the message stays
 * in the outbox, out of the requests in flight, and the next flush sends
 * it again (the server answers a used client_id with the original). It
 * was left unsent until the next connection when the outbox remembered
 * how far it had sent without forgetting it here. */
static void
test_hostile_unapplied_ack (void)
{
  g_autoptr(SoupServer) fake = soup_server_new (NULL, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(SsqTestClient) tc = NULL;
  g_autoptr(SsqMessage) first = NULL;
  g_autoptr(SsqMessage) second = NULL;
  g_autofree char *url = NULL;
  UnappliedAck r = { g_ptr_array_new_with_free_func (g_free) };
  guint resent = 0;

  soup_server_add_websocket_handler (fake, "/api/v1/ws", NULL, NULL, unapplied_ws_cb, &r, NULL);
  soup_server_add_handler (fake, "/api", hostile_http_cb, NULL, NULL);
  url = ssq_test_fake_server_url (fake);
  tc = ssq_test_client_new (url, NULL);
  g_assert_true (ssq_client_set_session (tc->client, "eve", "u1", "token", &error));
  ssq_client_connect (tc->client);
  while (ssq_client_get_state (tc->client) != SSQ_CLIENT_ONLINE)
    g_main_context_iteration (NULL, TRUE);
  first = ssq_client_send_message (tc->client, "c1", "first", 0, &error);
  g_assert_nonnull (first);
  ssq_test_client_wait_for_errors (tc, 1);
  g_test_message ("error: %s", ((GError *) tc->errors->pdata[0])->message);
  second = ssq_client_send_message (tc->client, "c1", "second", 0, &error);
  g_assert_nonnull (second);
  /* The first again, then the second. */
  g_assert_true (ssq_test_wait_until (three_sends, &r, SSQ_TEST_CLIENT_WAIT_MS));
  for (guint i = 0; i < r.sends->len; i++)
    if (g_strcmp0 (r.sends->pdata[i], ssq_message_get_client_id (first)) == 0)
      resent++;
  g_test_message ("%u send frames; the first message sent %u times", r.sends->len, resent);
  g_assert_true (ssq_cache_outbox_has (ssq_client_get_cache (tc->client), ssq_message_get_client_id (first)));
  g_assert_cmpuint (resent, ==, 2);
  g_clear_pointer (&tc, ssq_test_client_free);
  g_object_set_data (G_OBJECT (fake), "ws", NULL);
  ssq_test_wait_ms (100);
  soup_server_disconnect (fake);
  g_ptr_array_unref (r.sends);
}

/* ---- A cache that cannot be written ---------------------------------- */

/* How many of @tc's errors start with @prefix. */
static guint
errors_with (SsqTestClient *tc,
             const char    *prefix)
{
  guint n = 0;

  for (guint i = 0; i < tc->errors->len; i++)
    if (g_str_has_prefix (((GError *) tc->errors->pdata[i])->message, prefix))
      n++;
  return n;
}

#define BATCH_FAILED "Cannot store what the server sent"
#define ACK_FAILED   "Cannot store the acknowledgement"

typedef struct {
  SsqTestClient *tc;
  const char    *conversation_id;
} Held;

static gboolean
conversation_held (gpointer data)
{
  Held *h = data;
  g_autoptr(SsqConversation) conv = ssq_cache_get_conversation (ssq_client_get_cache (h->tc->client),
                                                                h->conversation_id);

  return conv != NULL;
}

/* A group of @tc's (with @members), once its cache holds it. */
static SsqConversation *
held_group (SsqTestClient     *tc,
            const char        *title,
            const char *const *members)
{
  SsqConversation *conv = ssq_test_client_create_group (tc, title, members);
  Held h = { tc, ssq_conversation_get_id (conv) };

  g_assert_true (ssq_test_wait_until (conversation_held, &h, SSQ_TEST_CLIENT_WAIT_MS));
  return conv;
}

static gboolean
outbox_empty (gpointer data)
{
  return ssq_cache_outbox_count (ssq_client_get_cache (data)) == 0;
}

/* The disk fills up just after a message went into the outbox: its
 * acknowledgement cannot be applied, nor the batch of events that brings
 * the message back, so the message stays in the outbox, unacknowledged,
 * and is not in the cache. Once there is room again, the client sends it
 * again and syncs by itself, without another message or connection to
 * prompt it: the server answers the used client_id with the original, and
 * the message is stored once on both sides. It waited for the next
 * message or connection before. */
static void
test_cache_full_retry (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, NULL);
  g_autoptr(SsqTestClient) tc = ssq_test_client_new_registered (server, "full.disk");
  g_autoptr(SsqConversation) conv = held_group (tc, "Full", NULL);
  const char *conv_id = ssq_conversation_get_id (conv);
  g_autoptr(GError) error = NULL;
  g_autoptr(SsqMessage) sent = NULL;
  g_autoptr(GPtrArray) held = NULL;
  g_autofree char *count = NULL;

  sent = ssq_client_send_message (tc->client, conv_id, "kept", 0, &error);
  g_assert_no_error (error);
  ssq_test_client_fill_disk (tc);
  while (errors_with (tc, ACK_FAILED) == 0 || errors_with (tc, BATCH_FAILED) == 0)
    {
      guint n = tc->errors->len;

      ssq_test_client_wait_for_errors (tc, n + 1);
      g_test_message ("error: %s", ((GError *) tc->errors->pdata[n])->message);
    }
  g_assert_true (ssq_cache_outbox_has (ssq_client_get_cache (tc->client),
                                       ssq_message_get_client_id (sent)));
  held = ssq_cache_get_messages (ssq_client_get_cache (tc->client), conv_id, 0, 100, NULL);
  g_assert_cmpuint (held->len, ==, 0);
  g_clear_pointer (&held, g_ptr_array_unref);
  ssq_test_set_file_limit (G_MAXUINT64);

  g_assert_true (ssq_test_wait_until (outbox_empty, tc->client, SSQ_TEST_CLIENT_WAIT_MS));
  held = ssq_cache_get_messages (ssq_client_get_cache (tc->client), conv_id, 0, 100, NULL);
  g_assert_cmpuint (held->len, ==, 1);
  g_assert_cmpstr (ssq_message_get_body (held->pdata[0]), ==, "kept");
  count = g_strdup_printf ("SELECT count(*) FROM messages WHERE client_id = '%s'",
                           ssq_message_get_client_id (sent));
  g_assert_cmpint (ssq_test_db_count (server, count), ==, 1);
}

static gboolean
typing_seen (gpointer data)
{
  return ((SsqTestClient *) data)->typing->len > 0;
}

static gboolean
retry_fired (gpointer data)
{
  return ((SsqClient *) data)->cache_retry_source == 0;
}

static gboolean
retry_scheduled (gpointer data)
{
  return ((SsqClient *) data)->cache_retry_source != 0;
}

/* A disk that stays full: the retries back off, 1 s then 2 s and so on,
 * and a batch that writes nothing in between (a typing notice, which
 * commits on a full disk too) does not start them over at 1 s every
 * time, as it did. */
static void
test_cache_full_backoff (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, NULL);
  g_autoptr(SsqTestClient) tc = ssq_test_client_new_registered (server, "full.backoff");
  g_autoptr(SsqTestUser) peer = ssq_test_register (server, "full.peer");
  g_autoptr(SsqTestWs) pws = ssq_test_ws_connect (server, peer->token, NULL);
  const char *members[] = { "full.peer", NULL };
  g_autoptr(SsqConversation) conv = held_group (tc, "Backoff", members);
  const char *conv_id = ssq_conversation_get_id (conv);
  g_autofree char *typing = g_strdup_printf ("{\"type\":\"typing\",\"conversation_id\":\"%s\","
                                             "\"active\":true}", conv_id);
  g_autoptr(JsonObject) posted = NULL;

  ssq_test_client_fill_disk (tc);
  /* The peer's message cannot be stored: the first retry is 1 s away. */
  posted = ssq_test_ws_post (pws, conv_id, "fills", "fills the disk");
  while (errors_with (tc, BATCH_FAILED) == 0)
    ssq_test_client_wait_for_errors (tc, tc->errors->len + 1);
  g_assert_cmpuint (tc->client->cache_retry_ms, ==, 1000);
  /* A typing notice commits, writing nothing: the retry stays as it was. */
  ssq_test_ws_send (pws, typing);
  g_assert_true (ssq_test_wait_until (typing_seen, tc, SSQ_TEST_CLIENT_WAIT_MS));
  g_assert_cmpuint (tc->client->cache_retry_ms, ==, 1000);
  /* The retry fails as well: the next one waits twice as long. */
  g_assert_true (ssq_test_wait_until (retry_fired, tc->client, SSQ_TEST_CLIENT_WAIT_MS));
  g_assert_true (ssq_test_wait_until (retry_scheduled, tc->client, SSQ_TEST_CLIENT_WAIT_MS));
  g_assert_cmpuint (tc->client->cache_retry_ms, ==, 2000);
  ssq_test_set_file_limit (G_MAXUINT64);
}

static void
lift_on_batch_failed (SsqClient    *client,
                      const GError *error,
                      gpointer      data)
{
  if (g_str_has_prefix (error->message, BATCH_FAILED))
    {
      g_assert_error (error, SSQ_ERROR, SSQ_ERROR_STORAGE);
      ssq_test_set_file_limit (G_MAXUINT64);
      *(gboolean *) data = TRUE;
    }
}

typedef struct {
  SsqTestClient *tc;
  const char    *conversation_id;
  const char    *body;
} BodyWait;

static gboolean
body_is (gpointer data)
{
  BodyWait *w = data;
  g_autoptr(SsqMessage) m = ssq_cache_get_message (ssq_client_get_cache (w->tc->client),
                                                   w->conversation_id, 1);

  return m != NULL && g_strcmp0 (ssq_message_get_body (m), w->body) == 0;
}

/* An edit made while the client was away comes with its sync, in a batch
 * the full disk rolls back; room comes back before the sync's reply. The
 * reply's change cursors must not move past the edit that was not stored
 * (they did, and the edit never came), and the sync is not done: the
 * cache retry syncs again and brings it. The error is the cache's
 * (storage), not the server's. */
static void
test_cache_full_sync_edit (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, NULL);
  g_autoptr(SsqTestClient) tc = ssq_test_client_new_registered (server, "full.edit");
  g_autoptr(SsqTestUser) peer = ssq_test_register (server, "full.editor");
  g_autoptr(SsqTestWs) pws = ssq_test_ws_connect (server, peer->token, NULL);
  const char *members[] = { "full.editor", NULL };
  g_autoptr(SsqConversation) conv = held_group (tc, "Edits", members);
  const char *conv_id = ssq_conversation_get_id (conv);
  g_autofree char *path = g_strdup_printf ("/api/v1/conversations/%s/messages/1", conv_id);
  g_autoptr(JsonObject) posted = NULL;
  g_autoptr(JsonObject) edited = NULL;
  BodyWait edit = { tc, conv_id, "edited while away" };
  gboolean lifted = FALSE;
  guint status = 0;

  posted = ssq_test_ws_post (pws, conv_id, "e1", "original");
  ssq_test_client_wait_for_seq (tc, conv_id, 1);
  ssq_client_disconnect (tc->client);
  edited = ssq_test_http (server, "PATCH", path, peer->token, "{\"body\":\"edited while away\"}", &status);
  g_assert_cmpuint (status, ==, 200);

  ssq_test_client_fill_disk (tc);
  g_signal_connect (tc->client, "error", G_CALLBACK (lift_on_batch_failed), &lifted);
  ssq_client_connect (tc->client);
  g_assert_true (ssq_test_wait_until (body_is, &edit, SSQ_TEST_CLIENT_WAIT_MS));
  g_assert_true (lifted);
  g_assert_cmpuint (errors_with (tc, BATCH_FAILED), >=, 1);
  g_signal_handlers_disconnect_by_func (tc->client, lift_on_batch_failed, &lifted);
  ssq_test_set_file_limit (G_MAXUINT64);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/client/hostile-server", test_hostile_server);
  g_test_add_func ("/client/hostile-sizes", test_hostile_sizes);
  g_test_add_func ("/client/hostile-endless-message", test_hostile_endless_message);
  g_test_add_func ("/client/hostile-unapplied-ack", test_hostile_unapplied_ack);
  g_test_add_func ("/client/cache-full/retry", test_cache_full_retry);
  g_test_add_func ("/client/cache-full/backoff", test_cache_full_backoff);
  g_test_add_func ("/client/cache-full/sync-edit", test_cache_full_sync_edit);
  return g_test_run ();
}
