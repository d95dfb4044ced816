/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-net.h: the server's transport: HTTP/1.1, HTTP/2 (where TLS's ALPN
 * chose h2) and WebSocket connections on one epoll loop, each bounded
 * before it can spend anything. It knows nothing of chat: requests go up to one callback, WebSocket messages to the
 * callbacks given when a request is upgraded. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _SsqNetServer  SsqNetServer;
typedef struct _SsqNetConn    SsqNetConn;
typedef struct _SsqNetRequest SsqNetRequest;

/* Every resource a client can make the server hold, with its bound. */
typedef struct {
  guint  max_connections;             /* open TCP connections, all addresses */
  guint  max_connections_per_address;
  guint  max_header_size;             /* request line and headers, bytes */
  guint  max_headers;                 /* header fields per request */
  guint  header_timeout;              /* s from a request's first byte to its last header */
  guint  idle_timeout;                /* s idle between requests, or without progress */
  gsize  max_body_size;               /* request body bytes */
  gsize  max_message_size;            /* one WebSocket message, fragments included */
  gsize  send_queue_max;              /* bytes queued to one WebSocket peer */
  guint  max_streams;                 /* HTTP/2 streams open at once on a connection */
  guint  max_requests_in_flight;      /* HTTP/2 requests of a connection the application holds */
} SsqNetLimits;

typedef enum {
  SSQ_NET_CLOSE_NORMAL,       /* the peer closed, or we did */
  SSQ_NET_CLOSE_SLOW,         /* cut: the peer stopped reading */
  SSQ_NET_CLOSE_ERROR,        /* protocol or socket error */
} SsqNetCloseReason;

/* Who may speak plain HTTP on a port that serves TLS. */
typedef enum {
  SSQ_NET_PLAIN_LOOPBACK,     /* peers on a loopback address */
  SSQ_NET_PLAIN_NONE,
  SSQ_NET_PLAIN_ANY,
} SsqNetPlain;

typedef void   (*SsqNetRequestFunc)   (SsqNetRequest *request,
                                       gpointer       user_data);
/* Formats the body of an error the transport answers by itself (413, 431,
 * 408, 400): the application decides what its errors look like. */
typedef char  *(*SsqNetErrorFunc)     (guint          status,
                                       const char    *message,
                                       gsize         *out_length);

/* A request body that streams (ssq_net_request_stream_body ()): its bytes
 * go to the sink as they arrive and none is kept by the transport. */
typedef struct {
  /* A piece of the body, to copy: the transport reuses the buffer. Returns
   * FALSE when the sink holds enough for now: the connection is then not
   * read until ssq_net_request_resume_body (). */
  gboolean (*data)  (gpointer        sink,
                     SsqNetRequest  *request,
                     const guint8   *data,
                     gsize           length);
  /* The whole body has come. The request is the sink's now, to answer
   * (respond () or respond_file ()) now or later. */
  void     (*done)  (gpointer        sink,
                     SsqNetRequest  *request);
  /* The body will never be whole: over the limit, the peer gone or too
   * slow, the server closing. Called at most once, and never after done ();
   * the request is gone. Not called after the sink refused the request. */
  void     (*abort) (gpointer        sink);
} SsqNetBodySink;

/* Called when a request's headers are complete, before its body is read:
 * the place to stream the body (ssq_net_request_stream_body ()) or to
 * refuse the request unread (ssq_net_request_refuse ()). A request that
 * does neither has its body read into memory, up to max_body_size, and
 * goes to the request function whole. */
typedef void   (*SsqNetHeadFunc)      (SsqNetRequest *request,
                                       gpointer       user_data);

/* The peer of a request the application holds went away before the
 * answer (ssq_net_request_watch_gone ()). Runs from inside the transport:
 * it may answer @request (the answer goes nowhere and frees it) and do its
 * own bookkeeping, nothing more with the transport. */
typedef void   (*SsqNetGoneFunc)      (SsqNetRequest *request,
                                       gpointer       user_data);

typedef struct {
  void (*message) (SsqNetConn        *conn,
                   const char        *data,
                   gsize              length,
                   gboolean           binary,
                   gpointer           user_data);
  /* Called once, when the connection is gone; @code is the peer's close
   * code, or 1006 when there was none. */
  void (*closed)  (SsqNetConn        *conn,
                   gushort            code,
                   SsqNetCloseReason  reason,
                   gpointer           user_data);
} SsqNetWsCallbacks;

/* A listener of raw byte streams (AMQP): accepted with the same bounds as
 * HTTP (connections in all and per address, optional TLS with its
 * handshake deadline), then bytes in to data () and out through the
 * connection's send queue. Reading stops while the application pauses it
 * or while the send queue is past half of send_queue_max; a peer that
 * stops reading is cut after idle_timeout without progress. */
typedef struct {
  /* A connection is ready for bytes (after TLS's handshake on a TLS
   * listener): returns the application's state for it. */
  gpointer (*opened)  (SsqNetConn        *conn,
                       gpointer           server_data);
  /* Bytes came; returns how many were taken. Fewer than @length only when
   * the application paused reading (ssq_net_conn_pause_reading ()): the
   * rest is offered again on resume. */
  gsize    (*data)    (SsqNetConn        *conn,
                       const guint8      *data,
                       gsize              length,
                       gpointer           conn_data);
  /* The send queue went below a quarter of send_queue_max after
   * ssq_net_raw_notify_drained () asked to hear of it. */
  void     (*drained) (SsqNetConn        *conn,
                       gpointer           conn_data);
  /* The deadline set with ssq_net_raw_set_deadline () has come. */
  void     (*timeout) (SsqNetConn        *conn,
                       gpointer           conn_data);
  /* Called once, when the connection is gone (only after opened ()). */
  void     (*closed)  (SsqNetConn        *conn,
                       SsqNetCloseReason  reason,
                       gpointer           conn_data);
} SsqNetRawCallbacks;

/* Server */
SsqNetServer *ssq_net_server_new_raw       (const SsqNetLimits       *limits,
                                            const SsqNetRawCallbacks *callbacks,
                                            gpointer                  server_data,
                                            GError                  **error);
SsqNetServer *ssq_net_server_new           (const SsqNetLimits  *limits,
                                            const char          *server_name,
                                            SsqNetRequestFunc    request_func,
                                            SsqNetErrorFunc      error_func,
                                            gpointer             user_data,
                                            GError             **error);
void          ssq_net_server_free          (SsqNetServer        *server);
gboolean      ssq_net_server_listen        (SsqNetServer        *server,
                                            GSocketAddress      *address,
                                            guint16             *out_port,
                                            GError             **error);
void          ssq_net_server_set_head_func (SsqNetServer       *server,
                                            SsqNetHeadFunc      head_func);
void          ssq_net_server_stop_listening (SsqNetServer       *server);
void          ssq_net_server_set_log_requests (SsqNetServer     *server,
                                               gboolean          log_requests);
void          ssq_net_server_close_all     (SsqNetServer        *server);
guint         ssq_net_server_n_connections (SsqNetServer        *server);
guint64       ssq_net_server_refused_total (SsqNetServer        *server);
/* @server counts its connections per address together with @other's from
 * now on (one table, shared): max_connections_per_address bounds an
 * address over both, e.g. the chat port and the AMQP ports. Call it before
 * @server accepts anything. */
void          ssq_net_server_share_address_counts (SsqNetServer *server,
                                                   SsqNetServer *other);
gboolean      ssq_net_server_others_ready  (SsqNetServer        *server);
void          ssq_net_server_take_max_busy (SsqNetServer        *server,
                                            gint64              *wall_us,
                                            gint64              *cpu_us);
void          ssq_net_raise_fd_limit       (void);
gboolean      ssq_net_server_set_tls       (SsqNetServer        *server,
                                            GBytes              *cert_pem,
                                            GBytes              *key_pem,
                                            GError             **error);
void          ssq_net_server_set_plain     (SsqNetServer        *server,
                                            SsqNetPlain          plain);
gboolean      ssq_net_server_has_tls       (SsqNetServer        *server);
void          ssq_net_server_set_http2     (SsqNetServer        *server,
                                            gboolean             http2);
void          ssq_net_server_goaway        (SsqNetServer        *server);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsqNetServer, ssq_net_server_free)

/* Requests: the application answers each one exactly once, now or later,
 * with respond(), respond_file() or accept_websocket(), which consume the
 * request; a request whose body streams may instead be refused, during its
 * head or its body. */
const char   *ssq_net_request_get_method   (SsqNetRequest *request);
const char   *ssq_net_request_get_path     (SsqNetRequest *request);
GHashTable   *ssq_net_request_get_query    (SsqNetRequest *request);
const char   *ssq_net_request_get_header   (SsqNetRequest *request,
                                            const char    *name);
void          ssq_net_request_limit_body   (SsqNetRequest *request,
                                            guint64        limit);
const char   *ssq_net_request_get_body     (SsqNetRequest *request,
                                            gsize         *out_length);
const char   *ssq_net_request_get_peer     (SsqNetRequest *request);
gboolean      ssq_net_request_is_upgrade   (SsqNetRequest *request);
gboolean      ssq_net_request_is_tls       (SsqNetRequest *request);
gboolean      ssq_net_request_is_http2     (SsqNetRequest *request);
gint64        ssq_net_request_get_start_us (SsqNetRequest *request);
void          ssq_net_request_respond      (SsqNetRequest *request,
                                            guint          status,
                                            const char    *content_type,
                                            char          *body,
                                            gsize          length,
                                            const char    *extra_headers);
void          ssq_net_request_respond_file (SsqNetRequest *request,
                                            guint          status,
                                            const char    *content_type,
                                            int            fd,
                                            goffset        offset,
                                            goffset        length,
                                            const char    *extra_headers);
void          ssq_net_request_stream_body  (SsqNetRequest        *request,
                                            const SsqNetBodySink *sink,
                                            gpointer              sink_data,
                                            guint64               limit);
void          ssq_net_request_resume_body  (SsqNetRequest *request);
gboolean      ssq_net_request_watch_gone   (SsqNetRequest  *request,
                                            SsqNetGoneFunc  func,
                                            gpointer        user_data);
void          ssq_net_request_refuse       (SsqNetRequest *request,
                                            guint          status,
                                            const char    *content_type,
                                            char          *body,
                                            gsize          length,
                                            const char    *extra_headers);
SsqNetConn   *ssq_net_request_accept_websocket (SsqNetRequest           *request,
                                                const SsqNetWsCallbacks *callbacks,
                                                gpointer                 user_data);
void          ssq_net_request_require_http1 (SsqNetRequest *request);

/* WebSocket connections. A frame is built once (header and payload in one
 * buffer) and the same bytes are queued to every recipient. */
GBytes       *ssq_net_ws_frame_text        (const char    *data,
                                            gsize          length);
gboolean      ssq_net_ws_send              (SsqNetConn    *conn,
                                            GBytes        *frame);
void          ssq_net_ws_close             (SsqNetConn    *conn,
                                            gushort        code,
                                            const char    *reason);
/* Raw connections. send () queues the bytes (a reference) and returns
 * FALSE once the connection is closing; finish () closes after what is
 * queued has left; abort () closes now. */
gboolean      ssq_net_raw_send             (SsqNetConn    *conn,
                                            GBytes        *bytes);
void          ssq_net_raw_finish           (SsqNetConn    *conn);
void          ssq_net_raw_abort            (SsqNetConn    *conn);
/* One deadline per connection (monotonic ms, ssq_net_now_ms (); 0 = none),
 * at the resolution of the loop's wheel (a quarter second). */
void          ssq_net_raw_set_deadline     (SsqNetConn    *conn,
                                            gint64         deadline_ms);
void          ssq_net_raw_notify_drained   (SsqNetConn    *conn);
const char   *ssq_net_conn_get_peer        (SsqNetConn    *conn);
gboolean      ssq_net_conn_is_tls          (SsqNetConn    *conn);
gint64        ssq_net_now_ms               (void);
void          ssq_net_conn_pause_reading   (SsqNetConn    *conn,
                                            gboolean       paused);
gsize         ssq_net_conn_get_queued      (SsqNetConn    *conn);
SsqNetConn   *ssq_net_conn_ref             (SsqNetConn    *conn);
void          ssq_net_conn_unref           (SsqNetConn    *conn);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsqNetConn, ssq_net_conn_unref)

G_END_DECLS
