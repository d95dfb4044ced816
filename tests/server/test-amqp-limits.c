/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-amqp-limits.c: the bounds on what costs the server memory without
 * a body to show for it, against the real server: consumers (per
 * connection and server-wide), AMQP channels (server-wide), messages
 * without a body (their bookkeeping counts in max_memory), and a
 * heartbeat frame that carries a payload. Each is refused past its bound
 * while others are still served. */
#include "ssq-test-amqp.h"

#include <string.h>

#define ID SSQ_TEST_AMQP_ID

typedef SsqTestAmqpFixture Fixture;

/* basic.consume (server-made tag) sent on @channel; nothing read. */
static void
send_consume (SsqTestRaw *conn,
              guint16     channel,
              const char *queue)
{
  g_autoptr(GByteArray) out = g_byte_array_new ();

  ssq_test_amqp_method_append (out, channel, ID (60, 20), "sSSbbbbF", 0u, queue, "", FALSE,
                               TRUE, FALSE, FALSE, NULL);
  ssq_test_amqp_send (conn, out);
}

static void
consume (SsqTestRaw *conn,
         guint16     channel,
         const char *queue)
{
  g_auto(SsqTestAmqpFrame) frame = { 0 };

  send_consume (conn, channel, queue);
  ssq_test_amqp_expect (conn, ID (60, 21), &frame);
}

/* @publisher publishes to @queue; @consumer (consuming it) gets it. */
static void
assert_delivered (SsqTestRaw *publisher,
                  SsqTestRaw *consumer,
                  const char *queue)
{
  g_autoptr(GByteArray) out = g_byte_array_new ();
  g_auto(SsqTestAmqpFrame) frame = { 0 };

  ssq_test_amqp_publish_append (out, 1, queue, "still served", strlen ("still served"));
  ssq_test_amqp_send (publisher, out);
  ssq_test_amqp_expect (consumer, ID (60, 60), &frame);
  g_assert_true (ssq_test_amqp_read (consumer, SSQ_TEST_RAW_WAIT_MS, &frame));   /* its header */
  g_assert_cmpuint (frame.type, ==, 2);
  g_assert_true (ssq_test_amqp_read (consumer, SSQ_TEST_RAW_WAIT_MS, &frame));
  g_assert_cmpuint (frame.type, ==, 3);
}

/* One connection holds at most max_consumers_per_connection (4 here)
 * consumers over all its channels: the fifth, on a channel that has room,
 * is refused with 506 before it is made. Another connection's consumer
 * still gets its messages, and it may still add consumers. */
static void
test_consumers_per_connection (Fixture       *f,
                               gconstpointer  data)
{
  g_autoptr(SsqTestRaw) other = ssq_test_amqp_fixture_open (f);
  g_autoptr(SsqTestRaw) conn = ssq_test_amqp_fixture_open (f);

  ssq_test_amqp_declare (other, "w", FALSE);
  consume (other, 1, "w");
  ssq_test_amqp_open_channel (conn, 2);
  consume (conn, 1, "w");
  consume (conn, 1, "w");
  consume (conn, 2, "w");
  consume (conn, 2, "w");
  send_consume (conn, 2, "w");
  ssq_test_amqp_expect_close (conn, 506);

  assert_delivered (other, other, "w");
  consume (other, 1, "w");
}

/* All connections together hold at most max_consumers (4 here): the
 * fifth consumer is refused, over AMQP (506) and over REST (429), while
 * the consumers made still get their messages. */
static void
test_consumers_server_wide (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(SsqTestRaw) a = ssq_test_amqp_fixture_open (f);
  g_autoptr(SsqTestRaw) b = ssq_test_amqp_fixture_open (f);
  g_autoptr(SsqTestRaw) c = ssq_test_amqp_fixture_open (f);
  g_autoptr(JsonObject) reply = NULL;
  guint status = 0;

  ssq_test_amqp_declare (a, "v", FALSE);
  ssq_test_amqp_declare (b, "w", FALSE);
  consume (a, 1, "v");
  consume (a, 1, "v");
  consume (b, 1, "w");
  consume (b, 1, "w");
  send_consume (c, 1, "w");
  ssq_test_amqp_expect_close (c, 506);

  reply = ssq_test_http (f->server, "GET", "/api/v1/queues/w/messages?max=1&wait=1",
                         f->alice->token, NULL, &status);
  g_test_message ("REST consumer past max_consumers: %u %s", status,
                  reply ? ssq_test_error_code (reply) : "");
  g_assert_cmpuint (status, ==, 429);

  assert_delivered (b, a, "v");
}

/* An AMQP connection of @username's (registered here), with channel 1
 * open. */
static SsqTestRaw *
user_with_channel (Fixture    *f,
                   const char *username)
{
  g_autoptr(SsqTestUser) user = ssq_test_register (f->server, username);
  g_autofree char *password = g_strconcat ("password-", username, NULL);
  SsqTestRaw *conn = ssq_test_amqp_open (f->server, username, password);

  ssq_test_amqp_open_channel (conn, 1);
  return conn;
}

/* A channel.open of @channel on @conn closes the connection with 530. */
static void
expect_channel_refused (SsqTestRaw *conn,
                        guint16     channel)
{
  g_autoptr(GByteArray) out = g_byte_array_new ();

  ssq_test_amqp_method_append (out, channel, ID (20, 10), "S", "");
  ssq_test_amqp_send (conn, out);
  ssq_test_amqp_expect_close (conn, 530);
}

/* All connections together hold at most max_channels (3 here) AMQP
 * channels, one user at most a quarter (here 1): a fourth user's
 * channel.open closes its connection with 530; the others' channels
 * still work. */
static void
test_channels_server_wide (Fixture       *f,
                           gconstpointer  data)
{
  g_autoptr(SsqTestRaw) a = ssq_test_amqp_fixture_open (f);
  g_autoptr(SsqTestRaw) b = user_with_channel (f, "chan.bob");
  g_autoptr(SsqTestRaw) c = user_with_channel (f, "chan.carol");
  g_autoptr(SsqTestUser) dave = ssq_test_register (f->server, "chan.dave");
  g_autoptr(SsqTestRaw) d = ssq_test_amqp_open (f->server, "chan.dave", "password-chan.dave");

  expect_channel_refused (d, 1);

  ssq_test_amqp_declare (a, "q", FALSE);
  consume (a, 1, "q");
  assert_delivered (b, a, "q");
}

/* One user holds at most a quarter of max_channels (8 here: 2), however
 * many connections it opens: its third channel.open closes that
 * connection with 530, and another user still opens channels. One user's
 * nine connections of 2,047 channels took all 16,384, and everyone else's
 * channel.open got 530. */
static void
test_channels_per_user (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(SsqTestRaw) a = ssq_test_amqp_fixture_open (f);
  g_autoptr(SsqTestRaw) a2 = ssq_test_amqp_fixture_open (f);
  g_autoptr(SsqTestRaw) a3 = ssq_test_amqp_open (f->server, f->alice->username, f->password);
  g_autoptr(SsqTestRaw) b = NULL;

  expect_channel_refused (a3, 1);
  b = user_with_channel (f, "share.bob");
  ssq_test_amqp_open_channel (b, 2);
  ssq_test_amqp_declare (b, "q", FALSE);
  consume (b, 2, "q");
  assert_delivered (a, b, "q");
}

/* Messages without a body still cost their bookkeeping (~500 bytes), and
 * it counts in max_memory (1 MiB here): a publisher of empty messages is
 * refused (506; REST 507) after a few thousand, not never. Others are
 * still served: a get takes messages out, and then publishing works again. */
static void
test_empty_messages (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(SsqTestRaw) publisher = ssq_test_amqp_fixture_open (f);
  g_autoptr(SsqTestRaw) getter = ssq_test_amqp_fixture_open (f);
  g_autoptr(GByteArray) out = g_byte_array_new ();
  g_auto(SsqTestAmqpFrame) frame = { 0 };
  g_autoptr(JsonObject) refused = NULL;
  g_autoptr(JsonObject) taken = NULL;
  guint batches = 0, status = 0;
  gboolean closed = FALSE;

  ssq_test_amqp_declare (publisher, "e", FALSE);
  /* 100 batches of 100: 10,000 messages, ~5 MB of bookkeeping. */
  for (batches = 0; batches < 100 && !closed; batches++)
    {
      for (guint i = 0; i < 100; i++)
        ssq_test_amqp_publish_append (out, 1, "e", "", 0);
      ssq_test_amqp_method_append (out, 1, ID (50, 10), "sSbbbbbF", 0u, "e", TRUE, FALSE,
                                   FALSE, FALSE, FALSE, NULL);
      ssq_test_amqp_send (publisher, out);
      while (ssq_test_amqp_read (publisher, SSQ_TEST_RAW_WAIT_MS, &frame))
        {
          if (frame.type == 1 && frame.method == ID (50, 11))
            break;
          if (frame.type == 1 && frame.method == ID (10, 50))
            {
              g_test_message ("after %u empty messages: connection.close %u %s", batches * 100 + 100,
                              frame.reply_code, frame.reply_text);
              g_assert_cmpuint (frame.reply_code, ==, 506);
              closed = TRUE;
              break;
            }
        }
    }
  g_assert_true (closed);

  refused = ssq_test_http (f->server, "POST", "/api/v1/queues/e/messages", f->alice->token,
                           "{\"body\":\"\",\"persistent\":false}", &status);
  g_assert_cmpuint (status, ==, 507);

  for (guint i = 0; i < 200; i++)
    {
      ssq_test_amqp_method_append (out, 1, ID (60, 70), "sSb", 0u, "e", TRUE);
      ssq_test_amqp_send (getter, out);
      ssq_test_amqp_expect (getter, ID (60, 71), &frame);
      g_assert_true (ssq_test_amqp_read (getter, SSQ_TEST_RAW_WAIT_MS, &frame));   /* no body */
      g_assert_cmpuint (frame.type, ==, 2);
    }
  taken = ssq_test_http (f->server, "POST", "/api/v1/queues/e/messages", f->alice->token,
                         "{\"body\":\"\",\"persistent\":false}", &status);
  g_assert_cmpuint (status, ==, 201);
}

/* A heartbeat frame is empty: one with a payload closes the connection
 * with 501 FRAME_ERROR, as RabbitMQ does. Another connection is served. */
static void
test_heartbeat_payload (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(SsqTestRaw) conn = ssq_test_amqp_open (f->server, "alice", f->password);
  g_autoptr(SsqTestRaw) other = NULL;
  g_autoptr(GByteArray) out = g_byte_array_new ();

  ssq_test_amqp_frame_append (out, 8, 0, "abc", 3, 0xCE);
  ssq_test_amqp_send (conn, out);
  ssq_test_amqp_expect_close (conn, 501);

  other = ssq_test_amqp_fixture_open (f);
  ssq_test_amqp_declare (other, "h", FALSE);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, func, config) \
  g_test_add ("/server/amqp-limits/" path, Fixture, config, ssq_test_amqp_fixture_setup, func, \
              ssq_test_amqp_fixture_teardown)
  ADD ("consumers-per-connection", test_consumers_per_connection,
       "[broker]\nmax_consumers_per_connection=4\n");
  ADD ("consumers-server-wide", test_consumers_server_wide, "[broker]\nmax_consumers=4\n");
  ADD ("channels-server-wide", test_channels_server_wide, "[amqp]\nmax_channels=3\n");
  ADD ("channels-per-user", test_channels_per_user, "[amqp]\nmax_channels=8\n");
  ADD ("empty-messages", test_empty_messages, "[broker]\nmax_memory=1048576\n");
  ADD ("heartbeat-payload", test_heartbeat_payload, NULL);
  return g_test_run ();
}
