/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-net-h2-private.h: what ssq-net-h2.c (the session, requests coming
 * in) and ssq-net-h2-answer.c (answers going out) share. */
#pragma once

#include "ssq-net-private.h"

#include <nghttp2/nghttp2.h>

G_BEGIN_DECLS

#define STREAM_WINDOW     (256 * 1024)   /* advertised per stream */
#define MIN_CONN_WINDOW   (1024 * 1024)
#define HPACK_TABLE       4096           /* the default: no larger table for peers */
#define OUT_HIGH          (128 * 1024)   /* queued before nghttp2 is told to wait */
#define MAX_CONTINUATIONS 8
#define MAX_OUTBOUND_ACKS 100            /* SETTINGS and PING acks not yet written */
#define MAX_SETTINGS      16             /* entries in one SETTINGS frame */
#define RST_BURST         100
#define RST_PER_SECOND    10
/* Of a refused request's body, read and dropped before RST_STREAM: a
 * client that sent it whole before reading our answer (curl 7.88 calls a
 * reset before its upload ends an error) then has its 413. */
#define DRAIN_MAX         STREAM_WINDOW
/* Header bytes all of a connection's streams still coming (their request
 * not yet whole) may hold, in multiples of max_header_size: each stream is
 * bounded by it, and without a bound in all 100 streams of 16 KB held
 * 1.6 MB per connection without logging in, each kept open by a byte of
 * body now and then. Whole requests are bounded by max_requests_in_flight. */
#define HEADER_STREAMS    4

struct _SsqNetH2 {
  nghttp2_session *session;
  SsqNetConn      *conn;         /* not a reference: the connection owns us */
  GQueue           streams;
  guint            with_app;     /* requests the application holds */
  gsize            held;         /* body bytes in memory, their connection window owed */
  gsize            header_bytes; /* of the streams still coming, as counted per stream */
  double           rst_tokens;
  gint64           rst_ms;
  gint64           active_ms;    /* a request frame in, or a response frame out */
  guint            continuations;
  gboolean         in_recv;      /* inside nghttp2_session_mem_recv () */
  gboolean         calmed;       /* ended for resets: said once */
};

struct _SsqNetH2Stream {
  SsqNetH2      *h2;
  gint32         id;
  GList          link;           /* in h2->streams */
  SsqNetRequest *request;        /* until answered */
  gboolean       with_app;       /* handed over whole (or its sink's done ()) */
  gboolean       in_head;        /* inside the head function */
  gboolean       refused;        /* answered before its body: what comes is dropped */
  gboolean       answer_sent;    /* our END_STREAM is out */
  gsize          dropped;        /* body bytes dropped after a refusal */
  gsize          header_bytes;
  guint          n_headers;
  gint64         started_ms;     /* its HEADERS came */
  guint          error_status;
  const char    *error_message;
  gsize          held;           /* body bytes in memory */
  gsize          owed;           /* taken by a paused sink, window not given back */
  /* The answer's body: bytes in memory or a piece of a file. */
  GBytes        *body;
  int            fd;
  goffset        body_offset;    /* of the next byte sent */
  goffset        body_planned;   /* bytes given to DATA frames so far */
  goffset        body_length;
};

SsqNetH2Stream *ssq_net_h2_stream_of      (SsqNetH2       *h2,
                                          gint32          id);
void            ssq_net_h2_release_held  (SsqNetH2Stream *stream);
void            ssq_net_h2_detach_request (SsqNetH2Stream *stream);
void            ssq_net_h2_refuse_stream (SsqNetH2Stream *stream,
                                          guint           status,
                                          const char     *message);
int             ssq_net_h2_send_data_cb  (nghttp2_session     *session,
                                          nghttp2_frame       *frame,
                                          const guint8        *framehd,
                                          size_t               length,
                                          nghttp2_data_source *source,
                                          gpointer             user_data);

G_END_DECLS
