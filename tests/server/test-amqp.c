/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-amqp.c: the AMQP 0-9-1 listener of the real server, spoken to frame
 * by frame: the handshake and login, and every way a peer can get it wrong
 * (header, credentials, vhost, frame size, frame-end, unknown methods,
 * channels, silence), each answered with RabbitMQ's reply code while
 * others are still served. */
#include "ssq-test-amqp.h"

#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define ID SSQ_TEST_AMQP_ID

typedef SsqTestAmqpFixture Fixture;

/* A channel opens, and the connection closes cleanly both ways. */
static void
test_handshake (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(SsqTestRaw) conn = ssq_test_amqp_open (f->server, "alice", f->password);
  g_autoptr(GByteArray) out = g_byte_array_new ();
  g_auto(SsqTestAmqpFrame) frame = { 0 };

  ssq_test_amqp_open_channel (conn, 1);
  ssq_test_amqp_method_append (out, 1, ID (20, 40), "sSss", 200u, "bye", 0u, 0u);
  ssq_test_amqp_send (conn, out);
  ssq_test_amqp_expect (conn, ID (20, 41), &frame);
  ssq_test_amqp_method_append (out, 0, ID (10, 50), "sSss", 200u, "bye", 0u, 0u);
  ssq_test_amqp_send (conn, out);
  ssq_test_amqp_expect (conn, ID (10, 51), &frame);
  g_assert_true (ssq_test_raw_wait_closed (conn, SSQ_TEST_RAW_WAIT_MS));
}

/* The start carries the capabilities clients check. */
static void
test_start_capabilities (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(SsqTestRaw) conn = ssq_test_amqp_connect (f->server);
  g_autoptr(GByteArray) out = g_byte_array_new ();
  g_auto(SsqTestAmqpFrame) frame = { 0 };
  g_autofree char *text = NULL;

  g_byte_array_append (out, (const guint8 *) "AMQP\0\0\x09\x01", 8);
  ssq_test_amqp_send (conn, out);
  ssq_test_amqp_expect (conn, ID (10, 10), &frame);
  text = g_strndup ((const char *) frame.payload->data, frame.payload->len);
  /* Names inside the binary table: memmem through the payload. */
  for (const char *cap = "publisher_confirms\0basic.nack\0consumer_cancel_notify\0"
                         "authentication_failure_close\0per_consumer_qos\0PLAIN\0";
       *cap; cap += strlen (cap) + 1)
    g_assert_nonnull (memmem (frame.payload->data, frame.payload->len, cap, strlen (cap)));
}

/* Anything but "AMQP" 0 0 9 1 gets that header back and the door. */
static void
test_bad_header (Fixture       *f,
                 gconstpointer  data)
{
  const char *headers[] = { "AMQP\x01\x01\x00\x0a", "GET / HTTP/1.1\r\n\r\n", "AMQP\0\0\x09\x02" };

  for (guint i = 0; i < G_N_ELEMENTS (headers); i++)
    {
      g_autoptr(SsqTestRaw) conn = ssq_test_amqp_connect (f->server);

      ssq_test_raw_send (conn, headers[i], i == 1 ? strlen (headers[i]) : 8, SSQ_TEST_RAW_WAIT_MS);
      g_assert_true (ssq_test_raw_wait_closed (conn, SSQ_TEST_RAW_WAIT_MS));
      g_assert_cmpuint (conn->in->len, ==, 8);
      g_assert_cmpmem (conn->in->data, 8, "AMQP\0\0\x09\x01", 8);
    }
}

static void
test_wrong_password (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(SsqTestRaw) conn = ssq_test_amqp_connect (f->server);
  g_auto(SsqTestAmqpFrame) close = { 0 };

  g_assert_false (ssq_test_amqp_login (conn, "alice", "not-her-password", &close));
  g_assert_cmpuint (close.reply_code, ==, 403);
  g_assert_true (g_str_has_prefix (close.reply_text, "ACCESS_REFUSED - Login was refused"));
  g_assert_true (ssq_test_raw_wait_closed (conn, SSQ_TEST_RAW_WAIT_MS));

  /* An unknown account: the same answer. */
  {
    g_autoptr(SsqTestRaw) other = ssq_test_amqp_connect (f->server);
    g_auto(SsqTestAmqpFrame) close2 = { 0 };

    g_assert_false (ssq_test_amqp_login (other, "nobody", "password-nobody", &close2));
    g_assert_cmpuint (close2.reply_code, ==, 403);
    g_assert_cmpstr (close2.reply_text, ==, close.reply_text);
  }
}

/* A live session token of the user works as the password; someone else's
 * does not. */
static void
test_token_login (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(SsqTestRaw) conn = ssq_test_amqp_open (f->server, "alice", f->alice->token);
  g_autoptr(SsqTestUser) bob = ssq_test_register (f->server, "bob");
  g_autoptr(SsqTestRaw) wrong = ssq_test_amqp_connect (f->server);
  g_auto(SsqTestAmqpFrame) close = { 0 };

  g_assert_false (ssq_test_amqp_login (wrong, "alice", bob->token, &close));
  g_assert_cmpuint (close.reply_code, ==, 403);
}

static void
test_vhost (Fixture       *f,
            gconstpointer  data)
{
  g_autoptr(SsqTestRaw) conn = ssq_test_amqp_connect (f->server);

  g_assert_true (ssq_test_amqp_login (conn, "alice", f->password, NULL));
  ssq_test_amqp_tune_open (conn, 0, 0, 0, "/other");
  ssq_test_amqp_expect_close (conn, 530);
}

/* A frame past the negotiated frame_max is refused from its header. */
static void
test_frame_too_large (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(SsqTestRaw) conn = ssq_test_amqp_connect (f->server);
  g_autoptr(GByteArray) out = g_byte_array_new ();
  g_auto(SsqTestAmqpFrame) frame = { 0 };
  static const guint8 head[] = { 1, 0, 1, 0, 0, 0x13, 0x88 };   /* 5000 bytes on channel 1 */

  g_assert_true (ssq_test_amqp_login (conn, "alice", f->password, NULL));
  ssq_test_amqp_tune_open (conn, 0, 4096, 0, "/");
  ssq_test_amqp_expect (conn, ID (10, 41), &frame);
  /* Only the header: the server must not wait for the 5000 bytes. */
  g_byte_array_append (out, head, sizeof head);
  ssq_test_amqp_send (conn, out);
  ssq_test_amqp_expect_close (conn, 501);
}

static void
test_frame_end (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(SsqTestRaw) conn = ssq_test_amqp_open (f->server, "alice", f->password);
  g_autoptr(GByteArray) out = g_byte_array_new ();
  static const guint8 payload[] = { 0, 20, 0, 10, 0 };   /* channel.open */

  ssq_test_amqp_frame_append (out, 1, 1, payload, sizeof payload, 0xCD);
  ssq_test_amqp_send (conn, out);
  ssq_test_amqp_expect_close (conn, 501);
}

/* An unknown class or method: 540; a method only servers send: 503. */
static void
test_unknown_method (Fixture       *f,
                     gconstpointer  data)
{
  struct { guint32 method; const char *sig; guint16 code; } cases[] = {
    { ID (99, 10), "", 540 },
    { ID (60, 999), "", 540 },
    { ID (60, 60), "SLbSS", 503 },     /* basic.deliver */
    { ID (10, 10), "ooFTT", 503 },     /* connection.start, on channel 1 */
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(SsqTestRaw) conn = ssq_test_amqp_open (f->server, "alice", f->password);
      g_autoptr(GByteArray) out = g_byte_array_new ();
      g_auto(SsqTestAmqpFrame) frame = { 0 };

      ssq_test_amqp_method_append (out, 1, ID (20, 10), "S", "");
      ssq_test_amqp_send (conn, out);
      ssq_test_amqp_expect (conn, ID (20, 11), &frame);
      if (cases[i].method == ID (60, 60))
        ssq_test_amqp_method_append (out, 1, cases[i].method, cases[i].sig, "t", (guint64) 1,
                                     FALSE, "", "q");
      else if (cases[i].method == ID (10, 10))
        ssq_test_amqp_method_append (out, 1, cases[i].method, cases[i].sig, 0u, 9u, NULL,
                                     "PLAIN", (gsize) 5, "en_US", (gsize) 5);
      else
        ssq_test_amqp_method_append (out, 1, cases[i].method, cases[i].sig);
      ssq_test_amqp_send (conn, out);
      ssq_test_amqp_expect_close (conn, cases[i].code);
    }
}

/* A method on a channel never opened, or closed already: 504. */
static void
test_closed_channel (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(SsqTestRaw) conn = ssq_test_amqp_open (f->server, "alice", f->password);
  g_autoptr(SsqTestRaw) conn2 = ssq_test_amqp_open (f->server, "alice", f->password);
  g_autoptr(GByteArray) out = g_byte_array_new ();
  g_auto(SsqTestAmqpFrame) frame = { 0 };

  ssq_test_amqp_method_append (out, 3, ID (60, 10), "lsb", 0u, 10u, FALSE);   /* basic.qos */
  ssq_test_amqp_send (conn, out);
  ssq_test_amqp_expect_close (conn, 504);

  ssq_test_amqp_method_append (out, 1, ID (20, 10), "S", "");
  ssq_test_amqp_method_append (out, 1, ID (20, 40), "sSss", 200u, "", 0u, 0u);
  ssq_test_amqp_send (conn2, out);
  ssq_test_amqp_expect (conn2, ID (20, 11), &frame);
  ssq_test_amqp_expect (conn2, ID (20, 41), &frame);
  ssq_test_amqp_method_append (out, 1, ID (60, 10), "lsb", 0u, 10u, FALSE);
  ssq_test_amqp_send (conn2, out);
  ssq_test_amqp_expect_close (conn2, 504);
}

/* Channels past the negotiated channel_max: 530; and channel_max over the
 * server's in tune-ok: 530 too. */
static void
test_channel_max (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(SsqTestRaw) conn = ssq_test_amqp_connect (f->server);
  g_autoptr(SsqTestRaw) greedy = ssq_test_amqp_connect (f->server);
  g_autoptr(GByteArray) out = g_byte_array_new ();
  g_auto(SsqTestAmqpFrame) frame = { 0 };

  g_assert_true (ssq_test_amqp_login (conn, "alice", f->password, NULL));
  ssq_test_amqp_tune_open (conn, 5, 0, 0, "/");
  ssq_test_amqp_expect (conn, ID (10, 41), &frame);
  ssq_test_amqp_open_channel (conn, 5);
  ssq_test_amqp_method_append (out, 6, ID (20, 10), "S", "");
  ssq_test_amqp_send (conn, out);
  ssq_test_amqp_expect_close (conn, 530);

  g_assert_true (ssq_test_amqp_login (greedy, "alice", f->password, NULL));
  ssq_test_amqp_tune_open (greedy, 65535, 0, 0, "/");
  ssq_test_amqp_expect_close (greedy, 530);
}

/* A body announced over max_message_size closes the channel (406) before
 * a byte of it is sent; the connection goes on. */
static void
test_body_too_large (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(SsqTestRaw) conn = ssq_test_amqp_open (f->server, "alice", f->password);
  g_autoptr(GByteArray) out = g_byte_array_new ();
  g_auto(SsqTestAmqpFrame) frame = { 0 };
  static const guint8 header[] = { 0, 60, 0, 0, 0, 0, 0, 0, 0x01, 0, 0, 0x01, 0, 0 };  /* 16 MiB + 1 */
  guint8 chunk[1000] = { 0 };

  ssq_test_amqp_method_append (out, 1, ID (20, 10), "S", "");
  ssq_test_amqp_method_append (out, 1, ID (60, 40), "sSSbb", 0u, "", "q", FALSE, FALSE);
  ssq_test_amqp_frame_append (out, 2, 1, header, sizeof header, 0xCE);
  ssq_test_amqp_frame_append (out, 3, 1, chunk, sizeof chunk, 0xCE);   /* dropped */
  ssq_test_amqp_send (conn, out);
  ssq_test_amqp_expect (conn, ID (20, 11), &frame);
  ssq_test_amqp_expect (conn, ID (20, 40), &frame);
  g_test_message ("channel.close %u %s", frame.reply_code, frame.reply_text);
  g_assert_cmpuint (frame.reply_code, ==, 406);
  ssq_test_amqp_method_append (out, 1, ID (20, 41), "");
  ssq_test_amqp_method_append (out, 2, ID (20, 10), "S", "");
  ssq_test_amqp_send (conn, out);
  ssq_test_amqp_expect (conn, ID (20, 11), &frame);
  g_assert_cmpuint (frame.channel, ==, 2);
}

/* Content where a method was due, and a method where content was. */
static void
test_unexpected_frame (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(SsqTestRaw) conn = ssq_test_amqp_open (f->server, "alice", f->password);
  g_autoptr(GByteArray) out = g_byte_array_new ();
  g_auto(SsqTestAmqpFrame) frame = { 0 };
  guint8 body[4] = { 0 };

  ssq_test_amqp_method_append (out, 1, ID (20, 10), "S", "");
  ssq_test_amqp_frame_append (out, 3, 1, body, sizeof body, 0xCE);
  ssq_test_amqp_send (conn, out);
  ssq_test_amqp_expect (conn, ID (20, 11), &frame);
  ssq_test_amqp_expect_close (conn, 505);
}

/* Heartbeats: the server beats, and cuts a peer silent for two intervals. */
static void
test_heartbeat (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(SsqTestRaw) conn = ssq_test_amqp_connect (f->server);
  g_auto(SsqTestAmqpFrame) frame = { 0 };
  gint64 start;
  guint beats = 0;

  g_assert_true (ssq_test_amqp_login (conn, "alice", f->password, NULL));
  ssq_test_amqp_tune_open (conn, 0, 0, 1, "/");
  ssq_test_amqp_expect (conn, ID (10, 41), &frame);
  start = g_get_monotonic_time ();
  /* Bounded: a server that never cuts fails here, it does not hang. */
  while (g_get_monotonic_time () - start < 20 * G_USEC_PER_SEC &&
         ssq_test_amqp_read (conn, 10000, &frame))
    if (frame.type == 8)
      beats++;
  g_assert_true (conn->closed);
  g_assert_cmpuint (beats, >=, 1);
  g_test_message ("cut after %.1f s of silence (heartbeat 1 s), %u beats heard",
                  (g_get_monotonic_time () - start) / 1e6, beats);
}

/* A peer that connects and says nothing is closed by the handshake
 * deadline (10 s). */
static void
test_handshake_deadline (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(SsqTestRaw) conn = ssq_test_amqp_connect (f->server);
  gint64 start = g_get_monotonic_time ();

  g_assert_true (ssq_test_raw_wait_closed (conn, 30000));
  g_test_message ("closed after %.1f s", (g_get_monotonic_time () - start) / 1e6);
}

/* Past [amqp] max_connections new connections are refused at accept,
 * while an open one and the chat port are still served. */
static void
test_many_connections (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(SsqTestRaw) first = ssq_test_amqp_open (f->server, "alice", f->password);
  g_autoptr(GPtrArray) idle = g_ptr_array_new_with_free_func ((GDestroyNotify) ssq_test_raw_close);
  g_autoptr(GByteArray) out = g_byte_array_new ();
  g_auto(SsqTestAmqpFrame) frame = { 0 };
  guint refused = 0;

  for (guint i = 0; i < 20; i++)
    g_ptr_array_add (idle, ssq_test_amqp_connect (f->server));
  for (guint i = 0; i < idle->len; i++)
    {
      SsqTestRaw *conn = idle->pdata[i];

      if (ssq_test_raw_wait_closed (conn, 300))
        refused++;
    }
  g_test_message ("%u of 20 refused past max_connections=5", refused);
  g_assert_cmpuint (refused, ==, 16);
  ssq_test_amqp_open_channel (first, 1);
  ssq_test_assert_healthz (f->server);
}

/* A consumer that stops reading gets no more than its connection's send
 * queue holds: the rest stays ready in the queue (not in our memory), and
 * comes once it reads again. */
static void
test_slow_consumer (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(SsqTestRaw) consumer = NULL;
  g_autoptr(SsqTestRaw) publisher = ssq_test_amqp_open (f->server, "alice", f->password);
  g_autoptr(GByteArray) out = g_byte_array_new ();
  g_autofree guint8 *body = g_malloc0 (65536);
  g_auto(SsqTestAmqpFrame) frame = { 0 };
  guint8 header[14] = { 0, 60, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0 };   /* 65536 bytes */
  guint n = 500, got = 0;
  guint32 ready;

  ssq_test_amqp_method_append (out, 1, ID (20, 10), "S", "");
  ssq_test_amqp_method_append (out, 1, ID (50, 10), "sSbbbbbF", 0u, "slow", FALSE, FALSE, FALSE,
                               FALSE, FALSE, NULL);
  ssq_test_amqp_send (publisher, out);
  ssq_test_amqp_expect (publisher, ID (20, 11), &frame);
  ssq_test_amqp_expect (publisher, ID (50, 11), &frame);

  /* Nothing read after consume-ok. */
  consumer = ssq_test_amqp_open (f->server, "alice", f->password);
  ssq_test_amqp_method_append (out, 1, ID (20, 10), "S", "");
  ssq_test_amqp_method_append (out, 1, ID (60, 20), "sSSbbbbF", 0u, "slow", "c", FALSE, TRUE,
                               FALSE, FALSE, NULL);
  ssq_test_amqp_send (consumer, out);
  ssq_test_amqp_expect (consumer, ID (20, 11), &frame);
  ssq_test_amqp_expect (consumer, ID (60, 21), &frame);

  for (guint i = 0; i < n; i++)
    {
      ssq_test_amqp_method_append (out, 1, ID (60, 40), "sSSbb", 0u, "", "slow", FALSE, FALSE);
      ssq_test_amqp_frame_append (out, 2, 1, header, sizeof header, 0xCE);
      ssq_test_amqp_frame_append (out, 3, 1, body, 65536, 0xCE);
      ssq_test_amqp_send (publisher, out);
    }
  /* The publisher's own channel is in order: once a passive declare is
   * answered, every publish before it was routed. */
  ssq_test_amqp_method_append (out, 1, ID (50, 10), "sSbbbbbF", 0u, "slow", TRUE, FALSE, FALSE,
                               FALSE, FALSE, NULL);
  ssq_test_amqp_send (publisher, out);
  ssq_test_amqp_expect (publisher, ID (50, 11), &frame);
  {
    /* declare-ok: class, method, the queue's name, then message-count. */
    const guint8 *count = frame.payload->data + 5 + frame.payload->data[4];

    ready = (guint32) count[0] << 24 | (guint32) count[1] << 16 | (guint32) count[2] << 8 | count[3];
  }
  g_test_message ("%u of %u messages of 64 KiB still ready while the consumer did not read",
                  ready, n);
  /* 4 MiB of send queue (its half, and the kernel's buffers) hold far
   * fewer than 500. */
  g_assert_cmpuint (ready, >, n / 2);

  /* It reads again: everything comes. */
  while (got < n && ssq_test_amqp_read (consumer, SSQ_TEST_RAW_WAIT_MS, &frame))
    if (frame.type == 1 && frame.method == ID (60, 60))
      got++;
  g_assert_cmpuint (got, ==, n);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, func, config) \
  g_test_add ("/server/amqp/" path, Fixture, config, ssq_test_amqp_fixture_setup, func, \
              ssq_test_amqp_fixture_teardown)
  ADD ("handshake", test_handshake, NULL);
  ADD ("start-capabilities", test_start_capabilities, NULL);
  ADD ("bad-header", test_bad_header, NULL);
  ADD ("wrong-password", test_wrong_password, NULL);
  ADD ("token-login", test_token_login, NULL);
  ADD ("vhost", test_vhost, NULL);
  ADD ("frame-too-large", test_frame_too_large, NULL);
  ADD ("frame-end", test_frame_end, NULL);
  ADD ("unknown-method", test_unknown_method, NULL);
  ADD ("closed-channel", test_closed_channel, NULL);
  ADD ("channel-max", test_channel_max, "[amqp]\nchannel_max=100\n");
  ADD ("body-too-large", test_body_too_large, NULL);
  ADD ("unexpected-frame", test_unexpected_frame, NULL);
  ADD ("heartbeat", test_heartbeat, NULL);
  ADD ("handshake-deadline", test_handshake_deadline, NULL);
  ADD ("many-connections", test_many_connections, "[amqp]\nmax_connections=5\n");
  ADD ("slow-consumer", test_slow_consumer, NULL);
  return g_test_run ();
}
