/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-amqp-hostile.c: AMQP peers that mean harm, against the real
 * server: requests pipelined by a peer that never reads their answers,
 * and odd shapes of frames and logins; each bounded or refused while
 * others are still served. */
#include "ssq-test-amqp.h"
#include "ssq-test-media.h"

#include <string.h>

#define ID SSQ_TEST_AMQP_ID

typedef SsqTestAmqpFixture Fixture;

/* A peer that pipelines basic.get (no-ack) and reads nothing: the answers
 * it does not read stay within its send queue's bound (4 MiB), the rest of
 * its requests wait unread (the messages stay ready in their queue, counted
 * in max_memory); once it reads, every answer comes. Without the bound,
 * one read of 64 KiB of requests took ~3,000 messages out of the queue into
 * the send queue, past max_memory's count. */
static void
test_pipelined_gets (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(SsqTestRaw) publisher = ssq_test_amqp_fixture_open (f);
  g_autoptr(SsqTestRaw) getter = NULL;
  g_autoptr(GByteArray) out = g_byte_array_new ();
  g_autofree guint8 *body = g_malloc0 (60000);
  g_auto(SsqTestAmqpFrame) frame = { 0 };
  guint n = 600, got = 0;
  guint32 ready;

  ssq_test_amqp_declare (publisher, "g", FALSE);
  for (guint i = 0; i < n; i++)
    {
      ssq_test_amqp_publish_append (out, 1, "g", body, 60000);
      ssq_test_amqp_send (publisher, out);
    }
  g_assert_cmpuint (ssq_test_amqp_declare (publisher, "g", TRUE), ==, n);

  getter = ssq_test_amqp_fixture_open (f);
  for (guint i = 0; i < n; i++)
    ssq_test_amqp_method_append (out, 1, ID (60, 70), "sSb", 0u, "g", TRUE);
  ssq_test_amqp_send (getter, out);
  /* Another channel of the publisher's connection is answered meanwhile;
   * by then the getter's requests it could read are done. */
  g_usleep (500 * 1000);
  ready = ssq_test_amqp_declare (publisher, "g", TRUE);
  g_test_message ("%u of %u messages still ready while the getter did not read", ready, n);
  g_assert_cmpuint (ready, >, n / 2);

  while (got < n && ssq_test_amqp_read (getter, SSQ_TEST_RAW_WAIT_MS, &frame))
    if (frame.type == 1 && frame.method == ID (60, 71))
      got++;
  g_assert_cmpuint (got, ==, n);
  g_assert_cmpuint (ssq_test_amqp_declare (publisher, "g", TRUE), ==, 0);
}

/* Properties of @fields tiny header fields (distinct 3-letter names, void
 * values): the flags (headers only), then the table. */
static GByteArray *
tiny_fields_properties (guint fields)
{
  static const char letters[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  GByteArray *props = g_byte_array_new ();
  guint32 len = fields * 5;
  guint8 head[6] = { 0x20, 0, len >> 24, len >> 16, len >> 8, len };

  g_byte_array_append (props, head, sizeof head);
  for (guint i = 0; i < fields; i++)
    {
      guint8 field[5] = { 3, letters[i % 64], letters[(i / 64) % 64], letters[(i / 4096) % 64], 'V' };

      g_byte_array_append (props, field, sizeof field);
    }
  return props;
}

/* Messages of empty bodies whose properties fill the frame (24,000 header
 * fields each): what they hold counts in max_memory (4 MiB here), so the
 * publisher is refused (506) long before the server's memory grows by
 * what it sent. */
static void
test_properties_memory (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(SsqTestRaw) conn = ssq_test_amqp_fixture_open (f);
  g_autoptr(GByteArray) out = g_byte_array_new ();
  g_autoptr(GByteArray) props = tiny_fields_properties (24000);
  g_autoptr(GByteArray) header = g_byte_array_new ();
  g_auto(SsqTestAmqpFrame) frame = { 0 };
  gsize baseline = ssq_test_rss_baseline (f->server);
  guint n = 100, sent = 0;
  gsize growth;

  g_byte_array_append (header, (const guint8 *) "\0\x3c\0\0\0\0\0\0\0\0\0\0", 12);
  g_byte_array_append (header, props->data, props->len);
  ssq_test_amqp_declare (conn, "p", FALSE);
  for (sent = 0; sent < n && !conn->closed; sent++)
    {
      ssq_test_amqp_method_append (out, 1, ID (60, 40), "sSSbb", 0u, "", "p", FALSE, FALSE);
      ssq_test_amqp_frame_append (out, 2, 1, header->data, header->len, 0xCE);
      if (ssq_test_raw_send (conn, out->data, out->len, SSQ_TEST_RAW_WAIT_MS) < out->len)
        break;
      g_byte_array_set_size (out, 0);
    }
  /* In order on the channel: a declare answered means every publish before
   * it was taken or refused. */
  ssq_test_amqp_method_append (out, 1, ID (50, 10), "sSbbbbbF", 0u, "p", TRUE, FALSE,
                               FALSE, FALSE, FALSE, NULL);
  ssq_test_raw_send (conn, out->data, out->len, SSQ_TEST_RAW_WAIT_MS);
  while (ssq_test_amqp_read (conn, SSQ_TEST_RAW_WAIT_MS, &frame))
    if (frame.type == 1 && (frame.method == ID (50, 11) || frame.method == ID (10, 50)))
      break;
  growth = ssq_test_rss_growth_kb (f->server, baseline);
  g_test_message ("%u messages of %u bytes of properties sent; server RSS grew %" G_GSIZE_FORMAT
                  " KiB; answer %s %u %s", sent, props->len, growth,
                  frame.method == ID (10, 50) ? "connection.close" : "declare-ok",
                  frame.reply_code, frame.reply_text ? frame.reply_text : "");
  g_assert_cmpuint (frame.method, ==, ID (10, 50));
  g_assert_cmpuint (frame.reply_code, ==, 506);
  if (!ssq_test_under_wrapper ())
    g_assert_cmpuint (growth, <, 64 * 1024);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, func, config) \
  g_test_add ("/server/amqp-hostile/" path, Fixture, config, ssq_test_amqp_fixture_setup, func, \
              ssq_test_amqp_fixture_teardown)
  ADD ("pipelined-gets", test_pipelined_gets, NULL);
  ADD ("properties-memory", test_properties_memory, "[broker]\nmax_memory=4194304\n");
  return g_test_run ();
}
