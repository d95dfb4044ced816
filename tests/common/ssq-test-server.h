/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-test-server.h: runs the real supersoniq-server binary for tests, and
 * speaks HTTP and WebSocket to it with libsoup. */
#pragma once

#include <libsoup/soup.h>
#include <json-glib/json-glib.h>
#include "ssq-test-tmp.h"

G_BEGIN_DECLS

typedef struct {
  GSubprocess *process;
  char        *data_dir;
  char        *config_path;
  char        *url;
  char        *ws_url;
  char        *https_url;    /* NULL: [tls] enabled=false */
  char        *listen;       /* HOST:PORT once started */
  char        *amqp_listen;  /* AMQP's HOST:PORT once started; NULL: off */
  char        *amqps_listen; /* amqps's, when a test's [amqp] tls_listen asked for it */
  char        *extra_config;
  gboolean     own_dir;
  char        *log_path;     /* where its stderr goes, if not inherited */
  gboolean     log_debug;    /* G_MESSAGES_DEBUG=all */
} SsqTestServer;

typedef struct {
  SoupWebsocketConnection *conn;
  GQueue                   frames;     /* JsonObject */
  gboolean                 closed;
  gushort                  close_code;
  guint                    next_id;
  char                    *first_type; /* type of the first frame received */
} SsqTestWs;

typedef struct {
  char *id;
  char *username;
  char *token;
} SsqTestUser;

/* Server process. @extra_config is appended to the test key file (which
 * already makes password hashing cheap). */
SsqTestServer *ssq_test_server_start    (const char    *data_dir,
                                         const char    *extra_config);
/* As ssq_test_server_start (), its stderr written to @log_path (each
 * start truncates it), with G_MESSAGES_DEBUG=all when @debug. */
SsqTestServer *ssq_test_server_start_logged (const char    *data_dir,
                                             const char    *extra_config,
                                             const char    *log_path,
                                             gboolean       debug);
SsqTestServer *ssq_test_server_start_on (const char    *listen,
                                         const char    *extra_config,
                                         const char    *log_path);
void           ssq_test_server_restart  (SsqTestServer *server);
void           ssq_test_server_kill     (SsqTestServer *server);
int            ssq_test_server_stop     (SsqTestServer *server);
void           ssq_test_server_free     (SsqTestServer *server);
GPid           ssq_test_server_pid      (SsqTestServer *server);

/* HTTP. @body may be NULL; returns the parsed reply (NULL when empty). */
JsonObject    *ssq_test_http            (SsqTestServer *server,
                                         const char    *method,
                                         const char    *path,
                                         const char    *token,
                                         const char    *body,
                                         guint         *out_status);
/* The same, the status asserted to be @expected (g_error naming the call). */
JsonObject    *ssq_test_http_expect     (SsqTestServer *server,
                                         const char    *method,
                                         const char    *path,
                                         const char    *token,
                                         const char    *body,
                                         guint          expected);
/* PUT /api/v1/queues/@queue as @token (no arguments), asserted 201. */
void           ssq_test_queue_declare   (SsqTestServer *server,
                                         const char    *queue,
                                         const char    *token);
/* GET /api/v1/queues/@queue's @field (depth, unacked, consumers…) as @token
 * sees it; -1 when the queue is not there (404). */
gint64         ssq_test_queue_field     (SsqTestServer *server,
                                         const char    *queue,
                                         const char    *token,
                                         const char    *field);
/* Waits until that field is @value; g_error with the last value if it is
 * not within @timeout_ms. */
void           ssq_test_wait_queue_field (SsqTestServer *server,
                                          const char    *queue,
                                          const char    *token,
                                          const char    *field,
                                          gint64         value,
                                          guint          timeout_ms);
JsonObject    *ssq_test_http_raw        (SsqTestServer *server,
                                         const char    *method,
                                         const char    *path,
                                         const char    *token,
                                         const char    *body,
                                         gsize          body_len,
                                         guint         *out_status);
SsqTestUser   *ssq_test_register        (SsqTestServer *server,
                                         const char    *username);
void           ssq_test_user_free       (SsqTestUser   *user);
char          *ssq_test_create_conversation (SsqTestServer *server,
                                             SsqTestUser   *owner,
                                             const char    *json);
const char    *ssq_test_error_code      (JsonObject    *reply);

/* WebSocket. */
SsqTestWs     *ssq_test_ws_connect      (SsqTestServer *server,
                                         const char    *token,
                                         guint         *out_status);
void           ssq_test_ws_send         (SsqTestWs     *ws,
                                         const char    *text);
void           ssq_test_ws_send_bytes   (SsqTestWs     *ws,
                                         SoupWebsocketDataType type,
                                         const char    *data,
                                         gsize          len);
JsonObject    *ssq_test_ws_expect       (SsqTestWs     *ws,
                                         const char    *type,
                                         guint          timeout_ms);
JsonObject    *ssq_test_ws_expect_where (SsqTestWs     *ws,
                                         const char    *type,
                                         const char    *member,
                                         const char    *value,
                                         guint          timeout_ms);
gboolean       ssq_test_ws_nothing      (SsqTestWs     *ws,
                                         const char    *type,
                                         guint          wait_ms);
gushort        ssq_test_ws_wait_closed  (SsqTestWs     *ws,
                                         guint          timeout_ms);
JsonObject    *ssq_test_ws_request      (SsqTestWs     *ws,
                                         const char    *json_without_id);
JsonObject    *ssq_test_ws_post         (SsqTestWs     *ws,
                                         const char    *conversation_id,
                                         const char    *client_id,
                                         const char    *body);
void           ssq_test_ws_free         (SsqTestWs     *ws);

void           ssq_test_wait_ms         (guint          ms);
typedef gboolean (*SsqTestCondition) (gpointer data);
char          *ssq_test_server_printed_fingerprint (const char *log_path,
                                                    gboolean    compact);
gboolean       ssq_test_wait_until      (SsqTestCondition condition,
                                         gpointer       data,
                                         guint          timeout_ms);

/* Async calls in tests: pass ssq_test_store_result with a pointer to a NULL
 * GAsyncResult*, then wait for it. */
void           ssq_test_store_result    (GObject       *source,
                                         GAsyncResult  *result,
                                         gpointer       slot);
GAsyncResult  *ssq_test_wait_result     (GAsyncResult **slot,
                                         guint          timeout_ms);

/* The server run under @wrapper (an argv such as { "prlimit",
 * "--nofile=256:256", "--", NULL }) placed before the binary (and before
 * SSQ_SERVER_WRAPPER's words, if set). The wrapper must exec the server in
 * the same process, so that ssq_test_server_pid () is the server's pid.
 * ssq_test_server_restart () later runs the server without the wrapper. */
SsqTestServer *ssq_test_server_start_wrapped  (const char         *data_dir,
                                               const char         *extra_config,
                                               const char * const *wrapper);

/* The server process as the kernel sees it, from /proc/<pid>: resident set
 * (VmRSS) and its peak (VmHWM) in KiB, the peak reset to the current
 * resident set (FALSE if the kernel refused), open descriptors. */
gsize          ssq_test_server_rss_kb         (SsqTestServer *server);
gsize          ssq_test_server_peak_rss_kb    (SsqTestServer *server);
gboolean       ssq_test_server_reset_peak_rss (SsqTestServer *server);
guint          ssq_test_server_fd_count       (SsqTestServer *server);
/* TRUE while the process exists and is not a zombie. */
gboolean       ssq_test_server_alive          (SsqTestServer *server);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsqTestServer, ssq_test_server_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsqTestWs, ssq_test_ws_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsqTestUser, ssq_test_user_free)

G_END_DECLS
