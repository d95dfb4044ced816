/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-bench-ws.h: lean WebSocket clients for the load generator, all on one
 * epoll instance in this process. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  SSQ_BENCH_WS_CONNECTING,
  SSQ_BENCH_WS_HANDSHAKE,
  SSQ_BENCH_WS_OPEN,
  SSQ_BENCH_WS_CLOSED
} SsqBenchWsState;

/* One session. The scenarios read the state and the counts and set the
 * marker; the rest belongs to ssq-bench-ws.c. */
typedef struct {
  int              fd;
  SsqBenchWsState  state;
  guint32          events;        /* EPOLL* currently asked for */
  gboolean         pending;       /* counted in outstanding until welcome */
  gboolean         welcomed;
  GByteArray      *in;            /* partial data kept between reads */
  GByteArray      *out;           /* unsent bytes */
  const char      *token;
  guint            http_status;
  guint            close_code;
  guint64          n_message;
  guint64          n_ack;
  guint64          n_pong;
  const char      *marker;        /* set: marker_seen once a `message` holds it */
  gboolean         marker_seen;
  gpointer         tls;           /* gnutls_session_t, with ssq_bench_ws_set_tls () */
  gsize            tls_in_flight; /* a record GnuTLS holds after EAGAIN */
} SsqBenchWs;

/* What all clients together have seen since ssq_bench_ws_init (). */
typedef struct {
  guint   outstanding;            /* handshakes under way */
  guint   opened;
  guint   failed;
  guint   closed_after_open;
  guint   last_http_status;
  guint   last_close_code;
  int     last_errno;
  /* From here on, zeroed by ssq_bench_ws_reset_counters (). */
  guint64 frames;
  guint64 messages;
  guint64 notifications;
  guint64 errors;
  guint64 text_bytes;             /* payload bytes of text frames */
  guint64 typing;
  guint64 presence;
  guint64 conversations;
} SsqBenchWsCounters;

guint                     ssq_bench_ws_raise_fd_limit  (void);
void                      ssq_bench_ws_init            (gboolean     query_token);
void                      ssq_bench_ws_shutdown        (void);
void                      ssq_bench_ws_set_server      (const char  *listen);
void                      ssq_bench_ws_set_tls         (gboolean     tls);

const SsqBenchWsCounters *ssq_bench_ws_counters        (void);
void                      ssq_bench_ws_reset_counters  (void);

void                      ssq_bench_ws_pump            (int          timeout_ms);
void                      ssq_bench_ws_pump_for        (int          ms);

guint                     ssq_bench_ws_open_sessions   (char       **tokens,
                                                        guint        n_tokens,
                                                        guint        n,
                                                        guint        sources,
                                                        guint        outstanding,
                                                        guint        timeout_s,
                                                        GPtrArray   *out);
SsqBenchWs               *ssq_bench_ws_open_one        (char        *token);
void                      ssq_bench_ws_send_text       (SsqBenchWs  *ws,
                                                        const char  *text,
                                                        gsize        len);
void                      ssq_bench_ws_free            (SsqBenchWs  *ws);
void                      ssq_bench_ws_free_all        (GPtrArray   *clients);
void                      ssq_bench_ws_check_open      (const char  *what,
                                                        GPtrArray   *clients);

G_END_DECLS
