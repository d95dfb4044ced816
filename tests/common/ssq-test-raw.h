/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-test-raw.h: raw non-blocking TCP clients for black-box transport tests
 * (HTTP and WebSocket bytes by hand, every wait bounded by a deadline), and
 * the probes of the server process those tests measure with. */
#pragma once

#include "ssq-test-server.h"

G_BEGIN_DECLS

/* The default wait of these helpers: generous, so that a loaded machine
 * makes a test slower, not red. */
#define SSQ_TEST_RAW_WAIT_MS 5000

/* A raw client connection. The fields are for tests to read. */
typedef struct {
  int         fd;
  GByteArray *in;            /* bytes read and not taken yet */
  gboolean    closed;        /* EOF or reset seen while reading */
  gboolean    send_failed;   /* EPIPE, ECONNRESET... while sending */
} SsqTestRaw;

/* One HTTP response taken off a connection. */
typedef struct {
  guint  status;
  char  *head;   /* status line and headers */
  char  *body;
} SsqTestRawResponse;

/* Deadlines. */

/* The monotonic time (µs) @ms milliseconds from now. */
gint64         ssq_test_deadline_after      (guint               ms);
/* Milliseconds left until @deadline, rounded up; 0 once it has passed. */
int            ssq_test_ms_until            (gint64              deadline);

/* Connections. */

/* Starts a non-blocking connect to @server from @source (NULL: the kernel's
 * choice), with fixed buffer sizes when @rcvbuf, @sndbuf > 0; the socket. */
int            ssq_test_raw_start_connect   (SsqTestServer      *server,
                                             const char         *source,
                                             int                 rcvbuf,
                                             int                 sndbuf);
/* Waits up to @timeout_ms for a started connect on @fd; FALSE if it failed
 * or took too long. */
gboolean       ssq_test_raw_wait_connected  (int                 fd,
                                             guint               timeout_ms);
/* A connection around @fd, which it then owns. */
SsqTestRaw    *ssq_test_raw_wrap            (int                 fd);
/* A connection to @server as ssq_test_raw_start_connect () starts it,
 * asserted connected within SSQ_TEST_RAW_WAIT_MS. */
SsqTestRaw    *ssq_test_raw_open_full       (SsqTestServer      *server,
                                             const char         *source,
                                             int                 rcvbuf,
                                             int                 sndbuf);
/* A connection to @server with the kernel's defaults. */
SsqTestRaw    *ssq_test_raw_open            (SsqTestServer      *server);
/* Closes the socket and frees @conn; NULL is allowed. */
void           ssq_test_raw_close           (SsqTestRaw         *conn);

/* Sends as much of @data as the peer takes, giving up after @stall_ms
 * without progress or on an error; returns the bytes sent. Never reads. */
gsize          ssq_test_raw_send            (SsqTestRaw         *conn,
                                             const void         *data,
                                             gsize               len,
                                             guint               stall_ms);
/* Sends all of @text within SSQ_TEST_RAW_WAIT_MS of stall; FALSE if not. */
gboolean       ssq_test_raw_send_str        (SsqTestRaw         *conn,
                                             const char         *text);
/* A GET of @queue's messages with @query (max=, wait=…) as @token sent on a
 * new connection, its answer not read yet: a long poll in flight. */
SsqTestRaw    *ssq_test_raw_queue_poll      (SsqTestServer      *server,
                                             const char         *queue,
                                             const char         *token,
                                             const char         *query);
/* Appends to conn->in what has arrived, waiting up to @timeout_ms for the
 * first byte; TRUE if anything was read or the end was seen. */
gboolean       ssq_test_raw_pump            (SsqTestRaw         *conn,
                                             guint               timeout_ms);
/* Reads until the peer closes (EOF or reset) or @timeout_ms pass; TRUE if
 * it closed. Keeps at most 64 KiB of what was read. */
gboolean       ssq_test_raw_wait_closed     (SsqTestRaw         *conn,
                                             guint               timeout_ms);
/* Whether the server closed or reset the connection, found WITHOUT
 * reading (a client that does not read must stay one). */
gboolean       ssq_test_raw_peer_gone       (SsqTestRaw         *conn);

/* HTTP. */

/* Frees the strings of @response and zeroes it. */
void           ssq_test_raw_response_clear  (SsqTestRawResponse *response);
/* The value of the series @name in @text, a /metrics page; dies when
 * there is none. */
double         ssq_test_metrics_value       (const char         *text,
                                             const char         *name);
/* The value of header @name in @head (status line and headers), or NULL. */
char          *ssq_test_raw_head_header     (const char         *head,
                                             const char         *name);
/* Takes one whole response off the front of conn->in if it is there, the
 * body framed by Content-Length, by chunks (kept raw) or by the close. */
gboolean       ssq_test_raw_take_response   (SsqTestRaw         *conn,
                                             SsqTestRawResponse *out);
/* Reads one response within @timeout_ms; FALSE if none came whole. */
gboolean       ssq_test_raw_read_response   (SsqTestRaw         *conn,
                                             guint               timeout_ms,
                                             SsqTestRawResponse *out);
/* GET /healthz on a fresh connection (from @source, if given): the status,
 * or 0 if no answer came within @timeout_ms. */
guint          ssq_test_raw_healthz         (SsqTestServer      *server,
                                             const char         *source,
                                             guint               timeout_ms);

/* WebSocket (RFC 6455). */

/* Appends a client frame to @out: @first_byte is FIN | opcode, the
 * payload is masked, as a client's must be. */
void           ssq_test_raw_ws_frame_append (GByteArray         *out,
                                             guint8              first_byte,
                                             const void         *payload,
                                             gsize               len);
/* Reads frames for up to @timeout_ms: the close code once a close frame
 * comes (1005 if it has none), else -1. Text frames are dropped, unless
 * one contains @want_text, which ends the wait (returns 0). */
int            ssq_test_raw_ws_pump         (SsqTestRaw         *conn,
                                             guint               timeout_ms,
                                             const char         *want_text);
/* Sends the upgrade to /api/v1/ws with @token on @conn and asserts a 101;
 * what follows the response stays in conn->in. */
void           ssq_test_raw_ws_upgrade      (SsqTestRaw         *conn,
                                             const char         *token);
/* A WebSocket session of @token on a connection opened as by
 * ssq_test_raw_open_full (), asserted upgraded and welcomed. */
SsqTestRaw    *ssq_test_raw_ws_open         (SsqTestServer      *server,
                                             const char         *token,
                                             int                 rcvbuf,
                                             int                 sndbuf);

/* Others still served, through the libsoup clients of ssq-test-server.h. */

/* Asserts that GET /healthz answers 200. */
void           ssq_test_assert_healthz      (SsqTestServer      *server);
/* Asserts that a message posted on @ws (another user's libsoup client) in
 * @conversation_id gets its ack. */
void           ssq_test_assert_send_acked   (SsqTestWs          *ws,
                                             const char         *conversation_id);

/* The server process, from /proc/<pid>. */

/* Resets the server's peak RSS and returns its current RSS (KiB), the
 * baseline for ssq_test_rss_growth_kb (). */
gsize          ssq_test_rss_baseline        (SsqTestServer      *server);
/* How far the server's RSS peak (KiB) has risen above @baseline_kb. */
gsize          ssq_test_rss_growth_kb       (SsqTestServer      *server,
                                             gsize               baseline_kb);
/* How many of the server's descriptors are TCP connections to one of the
 * @n @conns; @out_queued (may be NULL) gets their unsent bytes. */
guint          ssq_test_raw_server_sockets  (SsqTestServer      *server,
                                             SsqTestRaw        **conns,
                                             guint               n,
                                             guint64            *out_queued);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsqTestRaw, ssq_test_raw_close)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (SsqTestRawResponse, ssq_test_raw_response_clear)

G_END_DECLS
