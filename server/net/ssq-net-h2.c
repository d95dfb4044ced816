/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-net-h2.c: HTTP/2 (RFC 9113) on a TLS connection whose ALPN chose h2,
 * with libnghttp2's server session driven from memory: what TLS decrypted
 * goes in with nghttp2_session_mem_recv (), what nghttp2 writes goes to the
 * connection's bounded output queue, and nothing blocks. Each stream
 * becomes the same SsqNetRequest an HTTP/1.1 request is, so the application
 * cannot tell them apart (but for the log line).
 *
 * What a peer can make us hold is bounded as for HTTP/1.1, per stream and
 * per connection:
 * - streams open at once: SETTINGS_MAX_CONCURRENT_STREAMS (max_streams);
 *   requests with the application: max_requests_in_flight (then the
 *   connection is not read until one is answered);
 * - a request's header list: max_header_size and max_headers, counted as
 *   RFC 9113 does (name + value + 32), and HEADER_STREAMS times
 *   max_header_size for all of a connection's streams still coming (not
 *   yet with the application); the HPACK table stays at 4 KiB; a header
 *   block may not go on in more than MAX_CONTINUATIONS frames;
 * - bodies: max_body_size per request, checked as DATA arrives (413); the
 *   bytes held in memory by all of a connection's requests are bounded by
 *   its flow-control window, which is given back only once a request is
 *   answered (the stream's own window is given back as DATA arrives, or as
 *   a streaming sink takes it);
 * - resets: a token bucket of RST_STREAMs (CVE-2023-44487, "rapid reset"),
 *   past which the connection ends with GOAWAY ENHANCE_YOUR_CALM; SETTINGS
 *   and PING floods by nghttp2's own bounds (set lower here);
 * - idleness: no stream activity for idle_timeout ends the connection
 *   with GOAWAY. */
#include "ssq-net-h2-private.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

SsqNetH2Stream *
ssq_net_h2_stream_of (SsqNetH2 *h2,
                      gint32    id)
{
  return nghttp2_session_get_stream_user_data (h2->session, id);
}

/* The bytes of @stream's request body go back to the connection window:
 * the request no longer holds them. */
void
ssq_net_h2_release_held (SsqNetH2Stream *stream)
{
  SsqNetH2 *h2 = stream->h2;

  if (stream->held == 0)
    return;
  if (h2->session != NULL)
    nghttp2_session_consume_connection (h2->session, stream->held);
  h2->held -= stream->held;
  stream->held = 0;
}

/* The application's request (@stream no longer has one). */
void
ssq_net_h2_detach_request (SsqNetH2Stream *stream)
{
  SsqNetRequest *request = g_steal_pointer (&stream->request);

  if (stream->with_app)
    {
      stream->with_app = FALSE;
      stream->h2->with_app--;
      /* Reading may go on (not when the connection is being freed). */
      if (stream->h2->session != NULL)
        ssq_net_loop_defer (stream->h2->conn->server->loop, &stream->h2->conn->resume);
    }
  if (request != NULL)
    request->stream = NULL;
  ssq_net_h2_release_held (stream);
}

static void
stream_free (SsqNetH2Stream *stream)
{
  SsqNetRequest *request = stream->request;
  gboolean with_app = stream->with_app;

  ssq_net_h2_detach_request (stream);
  /* One the application holds is its to free (its answer goes nowhere),
   * told if it asked; one still coming is ours, and tells its sink. */
  if (request != NULL && with_app)
    ssq_net_request_gone (request);
  else if (request != NULL)
    ssq_net_request_free (request);
  g_clear_pointer (&stream->body, g_bytes_unref);
  if (stream->fd >= 0)
    close (stream->fd);
  stream->h2->header_bytes -= stream->header_bytes;
  g_queue_unlink (&stream->h2->streams, &stream->link);
  g_free (stream);
}

/* ---- Requests --------------------------------------------------------- */

static int
begin_headers_cb (nghttp2_session     *session,
                  const nghttp2_frame *frame,
                  gpointer             user_data)
{
  SsqNetH2 *h2 = user_data;
  SsqNetH2Stream *stream;

  if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
    return 0;
  stream = g_new0 (SsqNetH2Stream, 1);
  stream->h2 = h2;
  stream->id = frame->hd.stream_id;
  stream->started_ms = ssq_net_now_ms ();
  stream->fd = -1;
  stream->link.data = stream;
  g_queue_push_tail_link (&h2->streams, &stream->link);
  stream->request = ssq_net_request_new (h2->conn);
  stream->request->http2 = TRUE;
  stream->request->keep_alive = TRUE;
  stream->request->stream = stream;
  if (nghttp2_session_set_stream_user_data (session, stream->id, stream) != 0)
    stream_free (stream);       /* no such stream for nghttp2: nothing will come */
  return 0;
}

static void
add_header (SsqNetRequest *request,
            const char    *name,
            gsize          name_len,
            const guint8  *value,
            gsize          value_len)
{
  g_ptr_array_add (request->headers, g_strndup (name, name_len));
  g_ptr_array_add (request->headers, g_strndup ((const char *) value, value_len));
}

static int
header_cb (nghttp2_session     *session,
           const nghttp2_frame *frame,
           const guint8        *name,
           size_t               name_len,
           const guint8        *value,
           size_t               value_len,
           guint8               flags,
           gpointer             user_data)
{
  SsqNetH2 *h2 = user_data;
  const SsqNetLimits *limits = &h2->conn->server->limits;
  SsqNetH2Stream *stream = ssq_net_h2_stream_of (h2, frame->hd.stream_id);
  SsqNetRequest *request;

  /* Trailers, and what follows a refusal, are dropped unkept. */
  if (stream == NULL || stream->request == NULL || stream->with_app || stream->error_status)
    return 0;
  request = stream->request;
  stream->header_bytes += name_len + value_len + 32;
  h2->header_bytes += name_len + value_len + 32;
  if (stream->header_bytes > limits->max_header_size)
    {
      stream->error_status = 431;
      stream->error_message = "Request headers too large";
      return 0;
    }
  if (h2->header_bytes > HEADER_STREAMS * limits->max_header_size)
    {
      stream->error_status = 431;
      stream->error_message = "Too many request headers held on this connection";
      return 0;
    }
  if (name_len > 0 && name[0] == ':')
    {
      if (name_len == 7 && memcmp (name, ":method", 7) == 0)
        request->method = g_strndup ((const char *) value, value_len);
      else if (name_len == 5 && memcmp (name, ":path", 5) == 0)
        g_string_append_len (request->url, (const char *) value, value_len);
      else if (name_len == 10 && memcmp (name, ":authority", 10) == 0)
        add_header (request, "host", 4, value, value_len);
      return 0;
    }
  if (++stream->n_headers > limits->max_headers)
    {
      stream->error_status = 431;
      stream->error_message = "Too many request headers";
      return 0;
    }
  add_header (request, (const char *) name, name_len, value, value_len);
  return 0;
}

/* The head is whole: checked, offered to the head function, and the
 * declared body size refused before a byte of it is read. */
static void
headers_done (SsqNetH2Stream *stream)
{
  SsqNetServer *server = stream->h2->conn->server;
  SsqNetRequest *request = stream->request;
  const char *length_text;
  guint64 length;

  if (stream->error_status != 0)
    {
      if (request->url->len > 0)
        ssq_net_request_parse_target (request);   /* for the log line */
      ssq_net_h2_refuse_stream (stream, stream->error_status, stream->error_message);
      return;
    }
  if (request->method == NULL || !ssq_net_request_parse_target (request))
    {
      ssq_net_h2_refuse_stream (stream, 400, "Malformed request target");
      return;
    }
  if (server->head_func != NULL)
    {
      stream->in_head = TRUE;
      server->head_func (request, server->user_data);
      stream->in_head = FALSE;
      if (stream->request == NULL)        /* refused unread */
        return;
    }
  length_text = ssq_net_request_get_header (request, "content-length");
  if (length_text != NULL &&
      (!g_ascii_string_to_unsigned (length_text, 10, 0, G_MAXUINT64, &length, NULL) ||
       length > ssq_net_request_body_limit (request, server)))
    ssq_net_h2_refuse_stream (stream, 413, "Request body too large");
}

/* The body is whole: the request goes to the application, or to the sink
 * of its body. */
static void
dispatch (SsqNetH2Stream *stream)
{
  SsqNetServer *server = stream->h2->conn->server;
  SsqNetRequest *request = stream->request;
  const SsqNetBodySink *sink;

  if (request == NULL || stream->with_app || stream->refused)
    return;
  stream->with_app = TRUE;
  stream->h2->with_app++;
  /* Its headers are the application's now, bounded by max_requests_in_flight:
   * only streams still coming count against HEADER_STREAMS. */
  stream->h2->header_bytes -= stream->header_bytes;
  stream->header_bytes = 0;
  sink = g_steal_pointer (&request->sink);
  if (sink != NULL)
    sink->done (request->sink_data, request);
  else
    server->request_func (request, server->user_data);
}

static int
data_chunk_cb (nghttp2_session *session,
               guint8           flags,
               gint32           stream_id,
               const guint8    *data,
               size_t           length,
               gpointer         user_data)
{
  SsqNetH2 *h2 = user_data;
  SsqNetH2Stream *stream = ssq_net_h2_stream_of (h2, stream_id);
  SsqNetRequest *request = stream != NULL ? stream->request : NULL;

  h2->active_ms = ssq_net_now_ms ();
  if (request == NULL || stream->with_app || stream->refused)
    {
      nghttp2_session_consume (session, stream_id, length);   /* dropped */
      if (stream != NULL && (stream->dropped += length) > DRAIN_MAX && stream->answer_sent)
        nghttp2_submit_rst_stream (session, NGHTTP2_FLAG_NONE, stream_id, NGHTTP2_NO_ERROR);
      return 0;
    }
  if (request->sink != NULL)
    {
      request->body_received += length;
      if (request->body_received > request->body_limit)
        {
          nghttp2_session_consume (session, stream_id, length);
          ssq_net_h2_refuse_stream (stream, 413, "Request body too large");
          return 0;
        }
      /* What a paused sink still takes is bounded by the stream window:
       * none of it is given back until the sink has room. */
      if (!request->sink->data (request->sink_data, request, data, length) &&
          stream->request == request)
        request->body_paused = TRUE;
      /* The sink refused the request (ssq_net_request_refuse ()), which
       * freed it: these bytes are dropped as what follows will be. */
      if (stream->request != request)
        {
          nghttp2_session_consume (session, stream_id, length);
          stream->dropped += length;
          return 0;
        }
      if (request->body_paused)
        stream->owed += length;
      else
        nghttp2_session_consume (session, stream_id, length);
      return 0;
    }
  if ((request->body != NULL ? request->body->len : 0) + length >
      ssq_net_request_body_limit (request, h2->conn->server))
    {
      nghttp2_session_consume (session, stream_id, length);
      ssq_net_h2_refuse_stream (stream, 413, "Request body too large");
      return 0;
    }
  if (request->body == NULL)
    request->body = g_byte_array_new ();
  g_byte_array_append (request->body, data, length);
  /* The stream may go on; the connection's window comes back only when
   * the request is answered. */
  nghttp2_session_consume_stream (session, stream_id, length);
  stream->held += length;
  h2->held += length;
  return 0;
}

/* A token bucket: RST_BURST resets at once, RST_PER_SECOND after. */
static gboolean
reset_allowed (SsqNetH2 *h2)
{
  gint64 now = ssq_net_now_ms ();

  h2->rst_tokens = MIN ((double) RST_BURST,
                        h2->rst_tokens + (now - h2->rst_ms) * RST_PER_SECOND / 1000.0);
  h2->rst_ms = now;
  if (h2->rst_tokens < 1)
    return FALSE;
  h2->rst_tokens -= 1;
  return TRUE;
}

static int
frame_recv_cb (nghttp2_session     *session,
               const nghttp2_frame *frame,
               gpointer             user_data)
{
  SsqNetH2 *h2 = user_data;
  SsqNetH2Stream *stream = ssq_net_h2_stream_of (h2, frame->hd.stream_id);

  switch (frame->hd.type)
    {
    case NGHTTP2_HEADERS:
      h2->active_ms = ssq_net_now_ms ();
      if (stream != NULL && frame->headers.cat == NGHTTP2_HCAT_REQUEST &&
          stream->request != NULL)
        headers_done (stream);
      if (stream != NULL && (frame->hd.flags & NGHTTP2_FLAG_END_STREAM))
        dispatch (stream);
      break;
    case NGHTTP2_DATA:
      if (stream != NULL && (frame->hd.flags & NGHTTP2_FLAG_END_STREAM))
        dispatch (stream);
      break;
    case NGHTTP2_RST_STREAM:
      if (!reset_allowed (h2) && !h2->calmed)
        {
          h2->calmed = TRUE;
          g_message ("HTTP/2 peer %s resets streams too fast: closing its connection",
                     h2->conn->peer);
          nghttp2_session_terminate_session (session, NGHTTP2_ENHANCE_YOUR_CALM);
        }
      break;
    default:
      break;
    }
  return 0;
}

/* A header block in more than MAX_CONTINUATIONS frames is an attack on
 * the HPACK decoder's time (CVE-2024-27316 and kin), not a request. */
static int
begin_frame_cb (nghttp2_session         *session,
                const nghttp2_frame_hd  *hd,
                gpointer                 user_data)
{
  SsqNetH2 *h2 = user_data;

  if (hd->type == NGHTTP2_HEADERS)
    h2->continuations = 0;
  else if (hd->type == NGHTTP2_CONTINUATION && ++h2->continuations > MAX_CONTINUATIONS)
    return NGHTTP2_ERR_CALLBACK_FAILURE;
  return 0;
}

static int
frame_send_cb (nghttp2_session     *session,
               const nghttp2_frame *frame,
               gpointer             user_data)
{
  SsqNetH2 *h2 = user_data;
  SsqNetH2Stream *stream;

  if ((frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA) ||
      !(frame->hd.flags & NGHTTP2_FLAG_END_STREAM) ||
      (stream = ssq_net_h2_stream_of (h2, frame->hd.stream_id)) == NULL)
    return 0;
  stream->answer_sent = TRUE;
  /* A peer still sending a body we will not read (a refusal) is told to
   * stop once it has the whole answer (RFC 9113 8.1), after DRAIN_MAX. */
  if (stream->dropped > DRAIN_MAX &&
      nghttp2_session_get_stream_remote_close (session, frame->hd.stream_id) == 0)
    nghttp2_submit_rst_stream (session, NGHTTP2_FLAG_NONE, frame->hd.stream_id,
                               NGHTTP2_NO_ERROR);
  return 0;
}

static int
stream_close_cb (nghttp2_session *session,
                 gint32           stream_id,
                 guint32          error_code,
                 gpointer         user_data)
{
  SsqNetH2 *h2 = user_data;
  SsqNetH2Stream *stream = ssq_net_h2_stream_of (h2, stream_id);

  if (stream == NULL)
    return 0;
  nghttp2_session_set_stream_user_data (session, stream_id, NULL);
  stream_free (stream);
  return 0;
}

static ssize_t
send_cb (nghttp2_session *session,
         const guint8    *data,
         size_t           length,
         int              flags,
         gpointer         user_data)
{
  SsqNetH2 *h2 = user_data;

  if (h2->conn->out_bytes >= OUT_HIGH)
    return NGHTTP2_ERR_WOULDBLOCK;
  ssq_net_conn_queue_copy (h2->conn, data, length);
  return length;
}

/* ---- The connection --------------------------------------------------- */

static nghttp2_session_callbacks *
make_callbacks (void)
{
  nghttp2_session_callbacks *cb;

  if (nghttp2_session_callbacks_new (&cb) != 0)
    return NULL;
  nghttp2_session_callbacks_set_send_callback (cb, send_cb);
  nghttp2_session_callbacks_set_send_data_callback (cb, ssq_net_h2_send_data_cb);
  nghttp2_session_callbacks_set_on_begin_headers_callback (cb, begin_headers_cb);
  nghttp2_session_callbacks_set_on_header_callback (cb, header_cb);
  nghttp2_session_callbacks_set_on_frame_recv_callback (cb, frame_recv_cb);
  nghttp2_session_callbacks_set_on_begin_frame_callback (cb, begin_frame_cb);
  nghttp2_session_callbacks_set_on_frame_send_callback (cb, frame_send_cb);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback (cb, data_chunk_cb);
  nghttp2_session_callbacks_set_on_stream_close_callback (cb, stream_close_cb);
  return cb;
}

/* After ALPN chose h2: the session, and our SETTINGS first on the wire. */
gboolean
ssq_net_h2_start (SsqNetConn *conn)
{
  const SsqNetLimits *limits = &conn->server->limits;
  g_autofree SsqNetH2 *h2 = g_new0 (SsqNetH2, 1);
  nghttp2_session_callbacks *cb = make_callbacks ();
  nghttp2_option *option = NULL;
  gint32 conn_window = (gint32) MIN ((gsize) G_MAXINT32,
                                     MAX ((gsize) MIN_CONN_WINDOW, 2 * limits->max_body_size));
  nghttp2_settings_entry settings[] = {
    { NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, MAX (limits->max_streams, 1) },
    { NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, STREAM_WINDOW },
    { NGHTTP2_SETTINGS_HEADER_TABLE_SIZE, HPACK_TABLE },
    { NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, limits->max_header_size },
    { NGHTTP2_SETTINGS_ENABLE_PUSH, 0 },
  };
  int rv;

  if (cb == NULL || nghttp2_option_new (&option) != 0)
    {
      nghttp2_session_callbacks_del (cb);
      return FALSE;
    }
  /* Windows are given back by us: as a request's bytes are taken. */
  nghttp2_option_set_no_auto_window_update (option, 1);
  nghttp2_option_set_max_outbound_ack (option, MAX_OUTBOUND_ACKS);
  nghttp2_option_set_max_settings (option, MAX_SETTINGS);
  nghttp2_option_set_max_deflate_dynamic_table_size (option, HPACK_TABLE);
  h2->conn = conn;
  h2->rst_tokens = RST_BURST;
  h2->rst_ms = h2->active_ms = ssq_net_now_ms ();
  g_queue_init (&h2->streams);
  rv = nghttp2_session_server_new2 (&h2->session, cb, h2, option);
  nghttp2_session_callbacks_del (cb);
  nghttp2_option_del (option);
  if (rv != 0)
    return FALSE;
  if (nghttp2_submit_settings (h2->session, NGHTTP2_FLAG_NONE, settings,
                               G_N_ELEMENTS (settings)) != 0 ||
      nghttp2_session_set_local_window_size (h2->session, NGHTTP2_FLAG_NONE, 0,
                                             conn_window) != 0)
    {
      nghttp2_session_del (h2->session);
      return FALSE;
    }
  conn->h2 = g_steal_pointer (&h2);
  ssq_net_loop_defer (conn->server->loop, &conn->flush);
  return TRUE;
}

void
ssq_net_h2_free (SsqNetH2 *h2)
{
  GList *link;

  if (h2 == NULL)
    return;
  g_clear_pointer (&h2->session, nghttp2_session_del);
  while ((link = h2->streams.head) != NULL)
    stream_free (link->data);
  g_free (h2);
}

/* The connection is gone: requests the application holds are answered
 * into nothing, those still coming are dropped. */
void
ssq_net_h2_closed (SsqNetConn *conn)
{
  g_clear_pointer (&conn->h2, ssq_net_h2_free);
}

/* nghttp2 is done with the connection (GOAWAY sent and the last stream
 * over, or a fatal error): end it once the queue is out. */
static void
maybe_finish (SsqNetConn *conn)
{
  SsqNetH2 *h2 = conn->h2;

  if (conn->mode == SSQ_NET_MODE_HTTP2 &&
      !nghttp2_session_want_read (h2->session) && !nghttp2_session_want_write (h2->session))
    ssq_net_conn_finish (conn);
}

gsize
ssq_net_h2_feed (SsqNetConn   *conn,
                 const guint8 *data,
                 gsize         length)
{
  SsqNetH2 *h2 = conn->h2;
  gssize rv;

  h2->in_recv = TRUE;
  rv = nghttp2_session_mem_recv (h2->session, data, length);
  h2->in_recv = FALSE;
  if (rv < 0)
    {
      g_debug ("HTTP/2 from %s: %s", conn->peer, nghttp2_strerror ((int) rv));
      /* nghttp2 queued its GOAWAY where it could (not after one of our
       * callbacks failed): send it, then end. */
      if (rv == NGHTTP2_ERR_CALLBACK_FAILURE)
        nghttp2_session_terminate_session (h2->session, NGHTTP2_ENHANCE_YOUR_CALM);
      ssq_net_h2_send (conn);
      ssq_net_conn_finish (conn);
      return length;
    }
  ssq_net_loop_defer (conn->server->loop, &conn->flush);
  return length;
}

/* Frames from nghttp2 into the output queue, up to OUT_HIGH bytes. */
void
ssq_net_h2_send (SsqNetConn *conn)
{
  SsqNetH2 *h2 = conn->h2;

  if (h2 == NULL || h2->in_recv || conn->mode != SSQ_NET_MODE_HTTP2)
    return;
  if (nghttp2_session_send (h2->session) != 0)
    {
      ssq_net_conn_finish (conn);
      return;
    }
  maybe_finish (conn);
}

gboolean
ssq_net_h2_wants_write (SsqNetConn *conn)
{
  return conn->h2 != NULL && conn->mode == SSQ_NET_MODE_HTTP2 &&
         nghttp2_session_want_write (conn->h2->session);
}

/* Reading waits while the application holds max_requests_in_flight
 * requests, or while our answers are not read. */
gboolean
ssq_net_h2_paused (SsqNetConn *conn)
{
  return conn->h2->with_app >= conn->server->limits.max_requests_in_flight ||
         conn->out_bytes >= OUT_HIGH;
}

/* A request body waiting for its sink to have room (the disk): the
 * silence is ours, not the peer's. */
static gboolean
any_body_paused (SsqNetH2 *h2)
{
  for (GList *l = h2->streams.head; l != NULL; l = l->next)
    {
      SsqNetH2Stream *stream = l->data;

      if (stream->request != NULL && stream->request->body_paused)
        return TRUE;
    }
  return FALSE;
}

/* When the oldest request still coming whose body is read into memory (not
 * streamed to a sink: an upload may take long on a slow link) came; 0:
 * none. It must be whole within idle_timeout of that, as over HTTP/1.1:
 * else a byte now and then keeps the stream, and the connection, for
 * ever. */
static gint64
oldest_coming (SsqNetH2 *h2)
{
  gint64 oldest = 0;

  for (GList *l = h2->streams.head; l != NULL; l = l->next)
    {
      SsqNetH2Stream *stream = l->data;

      if (stream->request != NULL && !stream->with_app && !stream->refused &&
          stream->request->sink == NULL && (oldest == 0 || stream->started_ms < oldest))
        oldest = stream->started_ms;
    }
  return oldest;
}

/* Idle: no request frame in and no answer frame out for idle_timeout, or a
 * request still coming for idle_timeout (see oldest_coming ()), while the
 * application holds no request (reading may wait for it to answer:
 * max_requests_in_flight) and no body waits for its sink. */
gint64
ssq_net_h2_deadline (SsqNetConn *conn)
{
  gint64 idle = (gint64) conn->server->limits.idle_timeout * 1000;
  gint64 coming;

  if (conn->h2->with_app > 0 || any_body_paused (conn->h2))
    return 0;
  coming = oldest_coming (conn->h2);
  return MIN (conn->h2->active_ms + idle, coming > 0 ? coming + idle : G_MAXINT64);
}

void
ssq_net_h2_timeout (SsqNetConn *conn)
{
  gint64 deadline = ssq_net_h2_deadline (conn);

  if (deadline == 0 || ssq_net_now_ms () < deadline)
    return;
  nghttp2_session_terminate_session (conn->h2->session, NGHTTP2_NO_ERROR);
  ssq_net_h2_send (conn);
  ssq_net_conn_finish (conn);
}

/* The server is stopping: streams under way finish, no new one starts. */
void
ssq_net_h2_goaway (SsqNetConn *conn)
{
  SsqNetH2 *h2 = conn->h2;

  nghttp2_submit_goaway (h2->session, NGHTTP2_FLAG_NONE,
                         nghttp2_session_get_last_proc_stream_id (h2->session),
                         NGHTTP2_NO_ERROR, NULL, 0);
  ssq_net_loop_defer (conn->server->loop, &conn->flush);
}
