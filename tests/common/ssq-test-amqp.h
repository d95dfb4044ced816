/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-test-amqp.h: AMQP 0-9-1 by hand for black-box tests: frames written
 * byte by byte (hostile ones too), frames read with deadlines, and the
 * handshake as a client does it. Independent of the server's own codec. */
#pragma once

#include "ssq-test-raw.h"

G_BEGIN_DECLS

#define SSQ_TEST_AMQP_ID(c, m) (((guint32) (c) << 16) | (m))

typedef struct {
  guint8      type;
  guint16     channel;
  guint32     method;       /* class << 16 | method, for method frames */
  GByteArray *payload;      /* the whole payload */
  guint16     reply_code;   /* connection.close / channel.close */
  char       *reply_text;
} SsqTestAmqpFrame;

void        ssq_test_amqp_frame_clear   (SsqTestAmqpFrame *frame);

/* A connection to the server's AMQP port, nothing sent. */
SsqTestRaw *ssq_test_amqp_connect       (SsqTestServer    *server);
/* A whole frame appended to @out: @payload as given, @end the frame-end
 * octet (0xCE unless a test lies). */
void        ssq_test_amqp_frame_append  (GByteArray       *out,
                                         guint8            type,
                                         guint16           channel,
                                         const void       *payload,
                                         gsize             len,
                                         guint8            end);
/* A method frame: arguments by signature as the server's codec names them
 * (o s l L b S T F), varargs: o s l as guint, L guint64, b gboolean, S
 * const char *, T (const char *, gsize), F NULL (an empty table) only. */
void        ssq_test_amqp_method_append (GByteArray       *out,
                                         guint16           channel,
                                         guint32           method,
                                         const char       *signature,
                                         ...);
void        ssq_test_amqp_send          (SsqTestRaw       *conn,
                                         GByteArray       *bytes);
/* The next frame within @timeout_ms; FALSE if none came whole (conn->closed
 * then says whether the server closed). */
gboolean    ssq_test_amqp_read          (SsqTestRaw       *conn,
                                         guint             timeout_ms,
                                         SsqTestAmqpFrame *out);
/* Reads frames (skipping heartbeats) until one is method @method; asserted. */
void        ssq_test_amqp_expect        (SsqTestRaw       *conn,
                                         guint32           method,
                                         SsqTestAmqpFrame *out);
/* Header, start-ok (PLAIN @username @password), then waits for tune; FALSE
 * (and *out_close filled when given) if a connection.close came instead. */
gboolean    ssq_test_amqp_login         (SsqTestRaw       *conn,
                                         const char       *username,
                                         const char       *password,
                                         SsqTestAmqpFrame *out_close);
/* tune-ok with these values, then connection.open of @vhost. */
void        ssq_test_amqp_tune_open     (SsqTestRaw       *conn,
                                         guint16           channel_max,
                                         guint32           frame_max,
                                         guint16           heartbeat,
                                         const char       *vhost);
/* The whole handshake (channel_max 0, frame_max 0, heartbeat 0, vhost /),
 * asserted to end in open-ok. */
SsqTestRaw *ssq_test_amqp_open          (SsqTestServer    *server,
                                         const char       *username,
                                         const char       *password);
/* Asserts that a connection.close with @code comes (then answers close-ok). */
void        ssq_test_amqp_expect_close  (SsqTestRaw       *conn,
                                         guint16           code);
/* Channel @channel opened, and its open-ok read. */
void        ssq_test_amqp_open_channel  (SsqTestRaw       *conn,
                                         guint16           channel);
/* queue.declare of @queue on channel 1 (passive when @passive), its
 * declare-ok read: the queue's ready message count. */
guint32     ssq_test_amqp_declare       (SsqTestRaw       *conn,
                                         const char       *queue,
                                         gboolean          passive);
/* @v big-endian into p[0..7]. */
void        ssq_test_amqp_put_u64       (guint8           *p,
                                         guint64           v);
/* basic.publish to the default exchange's @queue on @channel and a content
 * header announcing @body_size bytes (no properties); no body. */
void        ssq_test_amqp_publish_header_append (GByteArray *out,
                                                 guint16     channel,
                                                 const char *queue,
                                                 guint64     body_size);
/* The same with its body, @size bytes of @body in one frame. */
void        ssq_test_amqp_publish_append (GByteArray      *out,
                                          guint16          channel,
                                          const char      *queue,
                                          const void      *body,
                                          gsize            size);

/* The AMQP tests' fixture: a real server started with the test's data as
 * its config (one with an [amqp] section), alice registered, her password. */
typedef struct {
  SsqTestServer *server;
  SsqTestUser   *alice;
  char          *password;
} SsqTestAmqpFixture;

void        ssq_test_amqp_fixture_setup    (SsqTestAmqpFixture *f,
                                            gconstpointer       config);
void        ssq_test_amqp_fixture_teardown (SsqTestAmqpFixture *f,
                                            gconstpointer       config);
/* An AMQP connection of alice's with channel 1 open. */
SsqTestRaw *ssq_test_amqp_fixture_open     (SsqTestAmqpFixture *f);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (SsqTestAmqpFrame, ssq_test_amqp_frame_clear)

G_END_DECLS
