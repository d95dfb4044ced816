/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-net-request.c: a request as the application sees it, whichever HTTP
 * brought it (ssq-net-http.c parses HTTP/1.1, ssq-net-h2.c HTTP/2): its
 * parts, and the one answer it gets (a response, a file, a refusal, a
 * streamed body, or the WebSocket upgrade). */
#include "ssq-config.h"
#include "ssq-net-private.h"

#include <string.h>
#include <unistd.h>

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

const char *
ssq_net_request_get_method (SsqNetRequest *request)
{
  return request->method;
}

const char *
ssq_net_request_get_path (SsqNetRequest *request)
{
  return request->path;
}

GHashTable *
ssq_net_request_get_query (SsqNetRequest *request)
{
  return request->query;
}

const char *
ssq_net_request_get_header (SsqNetRequest *request,
                            const char    *name)
{
  for (guint i = 0; i + 1 < request->headers->len; i += 2)
    if (g_ascii_strcasecmp (request->headers->pdata[i], name) == 0)
      return request->headers->pdata[i + 1];
  return NULL;
}

const char *
ssq_net_request_get_body (SsqNetRequest *request,
                          gsize         *out_length)
{
  *out_length = request->body ? request->body->len : 0;
  return request->body ? (const char *) request->body->data : "";
}

const char *
ssq_net_request_get_peer (SsqNetRequest *request)
{
  return request->conn->peer;
}

gboolean
ssq_net_request_is_upgrade (SsqNetRequest *request)
{
  return request->upgrade;
}

/* Whether the request came over TLS (https, wss). */
gboolean
ssq_net_request_is_tls (SsqNetRequest *request)
{
  return request->conn != NULL && request->conn->was_tls;
}

gboolean
ssq_net_request_is_http2 (SsqNetRequest *request)
{
  return request->http2;
}

/**
 * ssq_net_request_require_http1:
 * Answers an HTTP/2 request for what only HTTP/1.1 serves (a WebSocket:
 * no RFC 8441 here) by resetting its stream with HTTP_1_1_REQUIRED, the
 * code RFC 9113 has for it, on which curl and browsers ask again over
 * HTTP/1.1 by themselves. Frees @request.
 */
void
ssq_net_request_require_http1 (SsqNetRequest *request)
{
  g_return_if_fail (request->http2);
  ssq_net_h2_require_http1 (request);
}

gint64
ssq_net_request_get_start_us (SsqNetRequest *request)
{
  return request->start_us;
}

static gboolean
answerable (SsqNetRequest *request)
{
  SsqNetConn *conn = request->conn;

  if (request->http2)
    return ssq_net_h2_answerable (request);
  return conn->mode == SSQ_NET_MODE_HTTP && conn->http != NULL &&
         conn->http->in_flight == request;
}

/**
 * ssq_net_request_watch_gone:
 * For a request the application holds for a while (a long poll): @func
 * runs once if the peer goes before the answer: its connection closed (an
 * HTTP/1.1 peer that half-closes counts as gone) or its HTTP/2 stream
 * reset. The request must be answered all the same, which frees it.
 *
 * Returns: FALSE when the peer is gone already (@func will not run)
 */
gboolean
ssq_net_request_watch_gone (SsqNetRequest  *request,
                            SsqNetGoneFunc  func,
                            gpointer        user_data)
{
  if (!answerable (request))
    return FALSE;
  request->gone_func = func;
  request->gone_data = user_data;
  if (!request->http2)
    ssq_net_conn_update_reading (request->conn);
  return TRUE;
}

/**
 * ssq_net_request_respond:
 * Queues the answer (taking @body) and frees @request. @extra_headers are
 * whole "Name: value\r\n" lines, or NULL.
 */
void
ssq_net_request_respond (SsqNetRequest *request,
                         guint          status,
                         const char    *content_type,
                         char          *body,
                         gsize          length,
                         const char    *extra_headers)
{
  SsqNetConn *conn = request->conn;

  if (!answerable (request))
    {
      g_free (body);
      ssq_net_request_free (request);
      return;
    }
  if (request->http2)
    {
      ssq_net_h2_respond (request, status, content_type, body, length, -1, 0, 0, extra_headers);
      return;
    }
  conn->http->in_flight = NULL;
  conn->read_ms = ssq_net_now_ms ();    /* the idle time starts after the answer */
  ssq_net_http_log_request (conn->server, request, status);
  ssq_net_http_queue_response (conn, status, content_type, body, length, extra_headers,
                  request->keep_alive && !request->upgrade,
                  g_strcmp0 (request->method, "HEAD") == 0);
  if (!request->keep_alive || request->upgrade)
    ssq_net_conn_finish (conn);
  else
    {
      /* The next pipelined request, if any, after this iteration. */
      ssq_net_loop_defer (conn->server->loop, &conn->resume);
      ssq_net_conn_update_reading (conn);
      ssq_net_conn_rearm (conn);
    }
  ssq_net_request_free (request);
}

/**
 * ssq_net_request_respond_file:
 * As ssq_net_request_respond (), with @length bytes of @fd from @offset as
 * the body, sent from the file as the socket drains (never read into
 * memory). Takes @fd.
 */
void
ssq_net_request_respond_file (SsqNetRequest *request,
                              guint          status,
                              const char    *content_type,
                              int            fd,
                              goffset        offset,
                              goffset        length,
                              const char    *extra_headers)
{
  SsqNetConn *conn = request->conn;
  gboolean keep_alive = request->keep_alive && !request->upgrade;

  if (!answerable (request))
    {
      close (fd);
      ssq_net_request_free (request);
      return;
    }
  if (request->http2)
    {
      ssq_net_h2_respond (request, status, content_type, NULL, 0, fd, offset, length,
                          extra_headers);
      return;
    }
  conn->http->in_flight = NULL;
  conn->read_ms = ssq_net_now_ms ();
  ssq_net_http_log_request (conn->server, request, status);
  ssq_net_http_queue_head (conn, status, content_type, length, extra_headers, keep_alive);
  if (g_strcmp0 (request->method, "HEAD") != 0 && status != 204 && status != 304)
    ssq_net_conn_queue_file (conn, fd, offset, length);
  else
    close (fd);
  if (!keep_alive)
    ssq_net_conn_finish (conn);
  else
    {
      ssq_net_loop_defer (conn->server->loop, &conn->resume);
      ssq_net_conn_update_reading (conn);
      ssq_net_conn_rearm (conn);
    }
  ssq_net_request_free (request);
}

/**
 * ssq_net_request_stream_body:
 * From the head function only: the body of @request goes to @sink as it
 * arrives, up to @limit bytes. A Content-Length above @limit is refused
 * with 413 before a byte of the body is read (@sink is then aborted), and
 * so is a chunked body as soon as it passes @limit.
 */
void
ssq_net_request_stream_body (SsqNetRequest        *request,
                             const SsqNetBodySink *sink,
                             gpointer              sink_data,
                             guint64               limit)
{
  if (request->http2)
    {
      g_return_if_fail (ssq_net_h2_in_head (request));
      request->sink = sink;
      request->sink_data = sink_data;
      request->body_limit = limit;
      return;
    }
  g_return_if_fail (request->conn->http != NULL && request->conn->http->in_head);
  g_return_if_fail (request->conn->http->building == request);

  request->sink = sink;
  request->sink_data = sink_data;
  request->body_limit = limit;
}

/**
 * ssq_net_request_limit_body:
 * From the head function: @request's body (read whole before the request
 * goes on) may have at most @limit bytes, less than max_body_size: a
 * Content-Length above it is refused with 413 before a byte is read, and
 * a chunked body or HTTP/2 DATA as soon as it passes.
 */
void
ssq_net_request_limit_body (SsqNetRequest *request,
                            guint64        limit)
{
  g_return_if_fail (request->sink == NULL);

  request->body_limit = limit;
}

/* The most @request's body may hold: its sink's limit, the one the head
 * function set, or the server's. */
guint64
ssq_net_request_body_limit (SsqNetRequest *request,
                            SsqNetServer  *server)
{
  return request->body_limit > 0 ? request->body_limit : server->limits.max_body_size;
}

/**
 * ssq_net_request_resume_body:
 * The sink of @request's body has room again (it returned FALSE from its
 * data function): reading goes on.
 */
void
ssq_net_request_resume_body (SsqNetRequest *request)
{
  SsqNetConn *conn = request->conn;

  if (request->http2)
    {
      ssq_net_h2_resume_body (request);
      return;
    }
  if (!request->body_paused)
    return;
  request->body_paused = FALSE;
  if (!ssq_net_conn_is_open (conn))
    return;
  /* Time spent waiting for the sink is not the peer's idleness. */
  conn->read_ms = ssq_net_now_ms ();
  ssq_net_loop_defer (conn->server->loop, &conn->resume);
  ssq_net_conn_update_reading (conn);
  ssq_net_conn_rearm (conn);
}

/**
 * ssq_net_request_refuse:
 * Answers @request at once and closes the connection after the answer,
 * without reading the rest of its body: from the head function, or by the
 * sink of a streaming body before done (its abort () is then not called).
 * On a request handed to the application it is ssq_net_request_respond ()
 * with the connection closed after. Takes @body.
 */
void
ssq_net_request_refuse (SsqNetRequest *request,
                        guint          status,
                        const char    *content_type,
                        char          *body,
                        gsize          length,
                        const char    *extra_headers)
{
  SsqNetConn *conn = request->conn;
  SsqNetHttp *http = conn->http;

  if (request->http2)
    {
      ssq_net_h2_refuse (request, status, content_type, body, length, extra_headers);
      return;
    }
  if (answerable (request))
    {
      request->keep_alive = FALSE;
      ssq_net_request_respond (request, status, content_type, body, length, extra_headers);
      return;
    }
  g_return_if_fail (http != NULL && http->building == request);
  request->sink = NULL;
  http->error_status = status;
  http->answered = TRUE;
  ssq_net_http_log_request (conn->server, request, status);
  ssq_net_http_queue_response (conn, status, content_type, body, length, extra_headers, FALSE, FALSE);
  if (http->in_parser)
    http_parser_pause (&http->parser, 1);   /* ssq_net_http_feed () ends it */
  else
    {
      g_clear_pointer (&http->building, ssq_net_request_free);
      ssq_net_conn_finish (conn);
    }
}

static gboolean
header_has_token (const char *value,
                  const char *token)
{
  g_auto(GStrv) parts = NULL;

  if (value == NULL)
    return FALSE;
  parts = g_strsplit (value, ",", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    if (g_ascii_strcasecmp (g_strstrip (parts[i]), token) == 0)
      return TRUE;
  return FALSE;
}

/**
 * ssq_net_request_accept_websocket:
 * Answers an upgrade request with 101 and turns the connection into a
 * WebSocket, or answers 400 when the handshake is not one. Frees @request;
 * returns a reference to the connection, or NULL.
 */
SsqNetConn *
ssq_net_request_accept_websocket (SsqNetRequest           *request,
                                  const SsqNetWsCallbacks *callbacks,
                                  gpointer                 user_data)
{
  SsqNetConn *conn = request->conn;
  const char *key = ssq_net_request_get_header (request, "sec-websocket-key");
  const char *version = ssq_net_request_get_header (request, "sec-websocket-version");
  g_autoptr(GChecksum) sha1 = NULL;
  g_autofree char *accept = NULL;
  g_autofree char *head = NULL;
  guint8 digest[20];
  gsize digest_len = sizeof digest;
  gsize key_len = 0;
  g_autofree guchar *key_raw = NULL;

  if (!answerable (request))
    {
      ssq_net_request_free (request);
      return NULL;
    }
  if (key != NULL)
    key_raw = g_base64_decode (key, &key_len);
  if (!request->upgrade || g_strcmp0 (request->method, "GET") != 0 ||
      !header_has_token (ssq_net_request_get_header (request, "upgrade"), "websocket") ||
      !header_has_token (ssq_net_request_get_header (request, "connection"), "upgrade") ||
      g_strcmp0 (version, "13") != 0 || key_len != 16)
    {
      gsize len = 0;
      char *body = conn->server->error_func (400, "Not a WebSocket handshake", &len);

      ssq_net_request_respond (request, 400, "application/json", body, len,
                               "Sec-WebSocket-Version: 13\r\n");
      return NULL;
    }
  sha1 = g_checksum_new (G_CHECKSUM_SHA1);
  g_checksum_update (sha1, (const guchar *) key, -1);
  g_checksum_update (sha1, (const guchar *) WS_GUID, -1);
  g_checksum_get_digest (sha1, digest, &digest_len);
  accept = g_base64_encode (digest, digest_len);
  head = g_strdup_printf ("HTTP/1.1 101 Switching Protocols\r\nServer: %s\r\n"
                          "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                          "Sec-WebSocket-Accept: %s\r\n\r\n",
                          conn->server->server_name, accept);
  ssq_net_conn_queue_copy (conn, head, strlen (head));
  ssq_net_http_log_request (conn->server, request, 101);

  conn->http->in_flight = NULL;
  g_clear_pointer (&conn->http, ssq_net_http_free);
  conn->mode = SSQ_NET_MODE_WEBSOCKET;
  conn->ws = ssq_net_ws_new (callbacks, user_data);
  /* Frames that came behind the handshake wait in pending. */
  ssq_net_loop_defer (conn->server->loop, &conn->resume);
  ssq_net_conn_update_reading (conn);
  ssq_net_conn_rearm (conn);
  ssq_net_conn_ref (conn);
  ssq_net_request_free (request);
  return conn;
}
