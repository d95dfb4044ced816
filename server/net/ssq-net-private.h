/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-net-private.h: the transport's structures, seen by its own files only.
 * A connection does byte I/O and queues; ssq-net-http.c and ssq-net-ws.c
 * read from it and write to it; ssq-net-server.c accepts and counts. */
#pragma once

#include "ssq-config.h"
#include "ssq-net.h"
#include "ssq-net-loop.h"

#include <gnutls/gnutls.h>
#include <http_parser.h>
#include <wslay/wslay.h>

G_BEGIN_DECLS

#define SSQ_NET_READ_SIZE   (64 * 1024)
#define SSQ_NET_LINGER_MS   2000   /* reading and dropping after our last byte */
#define SSQ_NET_CLOSE_WAIT_MS 3000 /* for the peer's answer to our close frame */

typedef enum {
  SSQ_NET_MODE_HANDSHAKE,    /* before HTTP: the first byte, then TLS's handshake */
  SSQ_NET_MODE_HTTP,
  SSQ_NET_MODE_WEBSOCKET,
  SSQ_NET_MODE_HTTP2,        /* ALPN h2: streams of requests (ssq-net-h2.c) */
  SSQ_NET_MODE_RAW,          /* bytes to the application's callbacks (ssq-net-raw.c) */
  SSQ_NET_MODE_LINGER,       /* our side is done; dropping what still comes */
  SSQ_NET_MODE_CLOSED,
} SsqNetMode;

typedef struct _SsqNetHttp SsqNetHttp;
typedef struct _SsqNetWs   SsqNetWs;
typedef struct _SsqNetTls  SsqNetTls;
typedef struct _SsqNetTlsCreds SsqNetTlsCreds;
typedef struct _SsqNetH2   SsqNetH2;
typedef struct _SsqNetH2Stream SsqNetH2Stream;

/* A request, whichever HTTP it came in: HTTP/1.1 (ssq-net-http.c) or a
 * stream of HTTP/2 (ssq-net-h2.c). */
struct _SsqNetRequest {
  SsqNetConn *conn;         /* a reference, from the request's first byte */
  char       *method;
  GString    *url;
  char       *path;
  GHashTable *query;
  GPtrArray  *headers;      /* name, value, name, value, ... */
  GByteArray *body;
  gint64      start_us;
  gboolean    keep_alive;
  gboolean    upgrade;
  gboolean    in_value;     /* the last header callback was a value */
  gboolean    http2;        /* came on an HTTP/2 stream */
  SsqNetH2Stream *stream;   /* HTTP/2: its stream, NULL once the stream is gone */

  /* A body that streams to a sink instead of into body. */
  const SsqNetBodySink *sink;
  gpointer    sink_data;
  guint64     body_limit;
  guint64     body_received;
  gboolean    body_paused;  /* the sink is full: the connection (HTTP/1.1) or stream waits */

  /* Told when the peer goes before the answer (long polling). */
  SsqNetGoneFunc gone_func;
  gpointer    gone_data;
};

/* A response body read from a file as the socket drains (sendfile), after
 * everything queued before it: never in our memory. */
typedef struct {
  int     fd;
  goffset offset;
  goffset remaining;
} SsqNetFileBody;

struct _SsqNetConn {
  SsqNetWatch     watch;          /* first: the loop hands it back */
  SsqNetTimer     timer;
  SsqNetDeferred  flush;
  SsqNetDeferred  resume;
  gint            ref_count;
  SsqNetServer   *server;
  GList           link;           /* in server->conns */
  char           *peer;           /* address, for the per-address count */
  SsqNetMode      mode;

  GQueue          out;            /* GBytes, written in order */
  gsize           out_offset;     /* into the head */
  gsize           out_bytes;
  SsqNetFileBody *file;           /* written once out is empty; nothing is queued behind it */
  gint64          read_ms;        /* last byte read */
  gint64          write_ms;       /* last progress writing, or the time the queue filled */
  gint64          linger_until;
  GByteArray     *pending;        /* read but not consumed while paused */
  guint           app_paused : 1;
  guint           queue_paused : 1;
  guint           close_after_flush : 1;
  guint           write_blocked : 1;  /* the last write met EAGAIN: wait for EPOLLOUT */
  guint           read_stalled : 1;   /* an EPOLLIN came while paused: stop listening */
  guint           plain_allowed : 1;  /* may skip TLS (loopback, or [tls] plain_http) */
  guint           was_tls : 1;
  guint           raw_open : 1;       /* opened () was called: closed () is owed */
  guint           raw_drained : 1;    /* drained () was asked for */
  gint64          raw_deadline;       /* the application's timer, 0 = none */
  gpointer        raw_data;           /* the application's state */
  gint64          accepted_ms;    /* the handshake's clock */

  SsqNetTls      *tls;            /* NULL: plain */

  SsqNetHttp     *http;           /* HTTP mode */
  SsqNetWs       *ws;             /* WebSocket mode */
  SsqNetH2       *h2;             /* HTTP/2 mode */
};

struct _SsqNetServer {
  SsqNetLimits       limits;
  char              *server_name;
  SsqNetRequestFunc  request_func;
  SsqNetHeadFunc     head_func;
  SsqNetErrorFunc    error_func;
  gpointer           user_data;
  SsqNetLoop        *loop;
  SsqNetWatch        listener;
  int                spare_fd;     /* given up to accept-and-close on EMFILE */
  GQueue             conns;
  GHashTable        *per_address;  /* peer -> count */
  guint8            *rbuf;         /* one read buffer for all connections */
  guint64            refused_total;
  gint64             emfile_logged;
  gboolean           log_requests;  /* a line per answered request (info) */
  SsqNetTlsCreds    *tls_creds;     /* NULL: no TLS */
  gnutls_priority_t  tls_priority;
  gnutls_datum_t     tls_ticket_key;
  guint8            *tls_stage;     /* small pieces gathered into one record */
  SsqNetPlain        plain;         /* who may skip TLS */
  gboolean           http2;         /* ALPN offers h2 */
  SsqNetRawCallbacks raw;           /* a raw listener: raw.data != NULL */
  gpointer           raw_data;
};

static inline gboolean
ssq_net_server_is_raw (const SsqNetServer *server)
{
  return server->raw.data != NULL;
}

/* ssq-net-conn.c */
guint64     ssq_net_request_body_limit (SsqNetRequest *request,
                                        SsqNetServer  *server);
SsqNetConn *ssq_net_conn_new          (SsqNetServer *server,
                                       int           fd,
                                       const char   *peer,
                                       gboolean      loopback);
void        ssq_net_conn_queue        (SsqNetConn   *conn,
                                       GBytes       *bytes);
void        ssq_net_conn_queue_copy   (SsqNetConn   *conn,
                                       const void   *data,
                                       gsize         length);
void        ssq_net_conn_queue_file   (SsqNetConn   *conn,
                                       int           fd,
                                       goffset       offset,
                                       goffset       length);
void        ssq_net_conn_finish       (SsqNetConn   *conn);
gboolean    ssq_net_conn_is_open      (SsqNetConn   *conn);
void        ssq_net_conn_close        (SsqNetConn   *conn,
                                       SsqNetCloseReason reason);
void        ssq_net_conn_update_reading (SsqNetConn *conn);
void        ssq_net_conn_rearm        (SsqNetConn   *conn);

/* Something is still to be written: queued bytes or a file body. */
static inline gboolean
ssq_net_conn_has_output (const SsqNetConn *conn)
{
  return conn->out_bytes > 0 || conn->file != NULL;
}

/* ssq-net-http.c: HTTP/1.1 on a connection; ssq-net-request.c answers
 * its requests through the same state. */
struct _SsqNetHttp {
  http_parser    parser;
  SsqNetRequest *building;   /* being parsed */
  SsqNetRequest *in_flight;  /* with the application */
  gint64         started_ms; /* first byte of the request being parsed */
  gsize          header_bytes;
  guint          n_headers;
  guint          error_status;
  const char    *error_message;
  gboolean       answered;   /* the error's answer is queued already (a refusal) */
  gboolean       in_head;    /* inside the application's head function */
  gboolean       in_parser;  /* inside http_parser_execute () */
  gboolean       headers_done;
  gboolean       complete;
};

SsqNetHttp *ssq_net_http_new          (void);
void        ssq_net_http_free         (SsqNetHttp   *http);
gsize       ssq_net_http_feed         (SsqNetConn   *conn,
                                       const guint8 *data,
                                       gsize         length);
gboolean    ssq_net_http_busy         (SsqNetConn   *conn);
gboolean    ssq_net_http_in_headers   (SsqNetConn   *conn,
                                       gint64       *out_started_ms);
gboolean    ssq_net_http_in_body      (SsqNetConn   *conn,
                                       gint64       *out_started_ms);
void        ssq_net_http_timeout      (SsqNetConn   *conn,
                                       gboolean      in_headers);
void        ssq_net_http_closed       (SsqNetConn   *conn);
gboolean    ssq_net_http_watching_gone (SsqNetConn  *conn);
void        ssq_net_request_gone      (SsqNetRequest *request);
void        ssq_net_http_error        (SsqNetConn   *conn,
                                       guint         status,
                                       const char   *message);

SsqNetRequest *ssq_net_request_new    (SsqNetConn   *conn);
void        ssq_net_request_free      (SsqNetRequest *request);
gboolean    ssq_net_request_parse_target (SsqNetRequest *request);
void        ssq_net_http_log_request  (SsqNetServer  *server,
                                       SsqNetRequest *request,
                                       guint          status);
const char *ssq_net_http_date         (void);
void        ssq_net_http_queue_head   (SsqNetConn    *conn,
                                       guint          status,
                                       const char    *content_type,
                                       goffset        length,
                                       const char    *extra_headers,
                                       gboolean       keep_alive);
void        ssq_net_http_queue_response (SsqNetConn  *conn,
                                         guint        status,
                                         const char  *content_type,
                                         char        *body,
                                         gsize        length,
                                         const char  *extra_headers,
                                         gboolean     keep_alive,
                                         gboolean     head_only);

/* ssq-net-h2.c: HTTP/2 on a connection whose ALPN chose h2. Without
 * libnghttp2 ALPN never offers h2 and these are never called. */
#if HAVE_NGHTTP2
gboolean    ssq_net_h2_start          (SsqNetConn   *conn);
void        ssq_net_h2_free           (SsqNetH2     *h2);
gsize       ssq_net_h2_feed           (SsqNetConn   *conn,
                                       const guint8 *data,
                                       gsize         length);
void        ssq_net_h2_send           (SsqNetConn   *conn);
gboolean    ssq_net_h2_wants_write    (SsqNetConn   *conn);
gboolean    ssq_net_h2_paused         (SsqNetConn   *conn);
gint64      ssq_net_h2_deadline       (SsqNetConn   *conn);
void        ssq_net_h2_timeout        (SsqNetConn   *conn);
void        ssq_net_h2_closed         (SsqNetConn   *conn);
void        ssq_net_h2_goaway         (SsqNetConn   *conn);
void        ssq_net_h2_respond        (SsqNetRequest *request,
                                       guint          status,
                                       const char    *content_type,
                                       char          *body,
                                       gsize          length,
                                       int            fd,
                                       goffset        offset,
                                       goffset        file_length,
                                       const char    *extra_headers);
gboolean    ssq_net_h2_answerable     (SsqNetRequest *request);
gboolean    ssq_net_h2_in_head        (SsqNetRequest *request);
void        ssq_net_h2_resume_body    (SsqNetRequest *request);
void        ssq_net_h2_require_http1  (SsqNetRequest *request);
void        ssq_net_h2_refuse         (SsqNetRequest *request,
                                       guint          status,
                                       const char    *content_type,
                                       char          *body,
                                       gsize          length,
                                       const char    *extra_headers);
#else
static inline gboolean ssq_net_h2_start (SsqNetConn *conn) { return FALSE; }
static inline void     ssq_net_h2_free (SsqNetH2 *h2) { }
static inline gsize    ssq_net_h2_feed (SsqNetConn *conn, const guint8 *data, gsize length) { return length; }
static inline void     ssq_net_h2_send (SsqNetConn *conn) { }
static inline gboolean ssq_net_h2_wants_write (SsqNetConn *conn) { return FALSE; }
static inline gboolean ssq_net_h2_paused (SsqNetConn *conn) { return FALSE; }
static inline gint64   ssq_net_h2_deadline (SsqNetConn *conn) { return 0; }
static inline void     ssq_net_h2_timeout (SsqNetConn *conn) { }
static inline void     ssq_net_h2_closed (SsqNetConn *conn) { }
static inline void     ssq_net_h2_goaway (SsqNetConn *conn) { }
static inline gboolean ssq_net_h2_answerable (SsqNetRequest *request) { return FALSE; }
static inline gboolean ssq_net_h2_in_head (SsqNetRequest *request) { return FALSE; }
static inline void     ssq_net_h2_resume_body (SsqNetRequest *request) { }
static inline void     ssq_net_h2_require_http1 (SsqNetRequest *request) { }
static inline void     ssq_net_h2_respond (SsqNetRequest *request, guint status,
                                           const char *content_type, char *body, gsize length,
                                           int fd, goffset offset, goffset file_length,
                                           const char *extra_headers) { }
static inline void     ssq_net_h2_refuse (SsqNetRequest *request, guint status,
                                          const char *content_type, char *body, gsize length,
                                          const char *extra_headers) { }
#endif

/* ssq-net-tls.c */
#define SSQ_NET_TLS_RECORD (16 * 1024)   /* plaintext of one TLS record */
#define SSQ_NET_TLS_EOF     0
#define SSQ_NET_TLS_AGAIN  (-1)
#define SSQ_NET_TLS_FAILED (-2)
void        ssq_net_tls_server_clear  (SsqNetServer *server);
gboolean    ssq_net_tls_start         (SsqNetConn   *conn);
void        ssq_net_tls_free          (SsqNetTls    *tls);
int         ssq_net_tls_handshake     (SsqNetConn   *conn);
gboolean    ssq_net_tls_wants_write   (SsqNetConn   *conn);
gboolean    ssq_net_tls_buffered      (SsqNetConn   *conn);
gssize      ssq_net_tls_recv          (SsqNetConn   *conn,
                                       guint8       *buf,
                                       gsize         size);
gssize      ssq_net_tls_send          (SsqNetConn   *conn,
                                       const guint8 *data,
                                       gsize         length);
gboolean    ssq_net_tls_in_flight     (SsqNetConn   *conn);
guint8     *ssq_net_tls_stage         (SsqNetConn   *conn,
                                       gsize        *out_size);
void        ssq_net_tls_bye           (SsqNetConn   *conn);
gboolean    ssq_net_tls_is_client_hello (guint8      first_byte);
gboolean    ssq_net_tls_alpn_is_h2    (SsqNetConn   *conn);

/* ssq-net-raw.c */
void        ssq_net_raw_opened        (SsqNetConn   *conn);
gsize       ssq_net_raw_feed          (SsqNetConn   *conn,
                                       const guint8 *data,
                                       gsize         length);
void        ssq_net_raw_closed        (SsqNetConn   *conn,
                                       SsqNetCloseReason reason);
void        ssq_net_raw_flushed       (SsqNetConn   *conn);
void        ssq_net_raw_timeout       (SsqNetConn   *conn);

/* ssq-net-ws.c */
SsqNetWs   *ssq_net_ws_new            (const SsqNetWsCallbacks *callbacks,
                                       gpointer      user_data);
void        ssq_net_ws_free           (SsqNetWs     *ws);
gsize       ssq_net_ws_feed           (SsqNetConn   *conn,
                                       const guint8 *data,
                                       gsize         length);
void        ssq_net_ws_closed         (SsqNetConn   *conn,
                                       SsqNetCloseReason reason);
gboolean    ssq_net_ws_closing        (SsqNetConn   *conn);

G_END_DECLS
