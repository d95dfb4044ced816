/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-amqp-bounds.c: what AMQP peers can make the real server hold, past
 * its bounds: contents being received (per connection, and all of them in
 * the broker's max_memory), connections of one address over the chat and
 * AMQP ports together; and publisher confirms gathered into one basic.ack
 * with multiple=true, in exact order around nacks. */
#include "ssq-test-amqp.h"

#include <string.h>

#define ID SSQ_TEST_AMQP_ID

typedef SsqTestAmqpFixture Fixture;

static guint64
get_u64 (const guint8 *p)
{
  guint64 v = 0;

  for (int i = 0; i < 8; i++)
    v = v << 8 | p[i];
  return v;
}

/* On @channel, a publish of @body_size announced and @frames body frames
 * of 64 KiB of it sent; then a channel.open of @probe to learn whether the
 * server still took it all: TRUE when the probe's open-ok comes, FALSE
 * when a connection.close with 506 did (asserted). */
static gboolean
start_partial_body (SsqTestRaw *conn,
                    guint16     channel,
                    guint64     body_size,
                    guint       frames,
                    guint16     probe)
{
  g_autoptr(GByteArray) out = g_byte_array_new ();
  g_autofree guint8 *part = g_malloc0 (65536);
  g_auto(SsqTestAmqpFrame) frame = { 0 };

  ssq_test_amqp_publish_header_append (out, channel, "partial", body_size);
  for (guint i = 0; i < frames; i++)
    ssq_test_amqp_frame_append (out, 3, channel, part, 65536, 0xCE);
  ssq_test_amqp_method_append (out, probe, ID (20, 10), "S", "");
  ssq_test_amqp_send (conn, out);
  while (ssq_test_amqp_read (conn, SSQ_TEST_RAW_WAIT_MS, &frame))
    {
      if (frame.type == 1 && frame.method == ID (20, 11))
        return TRUE;
      if (frame.type == 1 && frame.method == ID (10, 50))
        {
          g_test_message ("connection.close %u %s", frame.reply_code, frame.reply_text);
          g_assert_cmpuint (frame.reply_code, ==, 506);
          return FALSE;
        }
    }
  g_assert_not_reached ();
}

/* A user who publishes (confirmed) and gets the message back. */
static void
assert_normal_client (Fixture *f)
{
  g_autoptr(SsqTestRaw) conn = ssq_test_amqp_fixture_open (f);
  g_autoptr(GByteArray) out = g_byte_array_new ();
  g_auto(SsqTestAmqpFrame) frame = { 0 };

  ssq_test_amqp_method_append (out, 1, ID (85, 10), "b", FALSE);
  ssq_test_amqp_method_append (out, 1, ID (50, 10), "sSbbbbbF", 0u, "normal", FALSE, FALSE,
                               FALSE, FALSE, FALSE, NULL);
  ssq_test_amqp_publish_append (out, 1, "normal", "hello", 5);
  ssq_test_amqp_send (conn, out);
  ssq_test_amqp_expect (conn, ID (85, 11), &frame);
  ssq_test_amqp_expect (conn, ID (50, 11), &frame);
  ssq_test_amqp_expect (conn, ID (60, 80), &frame);
  ssq_test_amqp_method_append (out, 1, ID (60, 70), "sSb", 0u, "normal", TRUE);
  ssq_test_amqp_send (conn, out);
  ssq_test_amqp_expect (conn, ID (60, 71), &frame);
  ssq_test_amqp_read (conn, SSQ_TEST_RAW_WAIT_MS, &frame);   /* the header */
  g_assert_cmpuint (frame.type, ==, 2);
  ssq_test_amqp_read (conn, SSQ_TEST_RAW_WAIT_MS, &frame);
  g_assert_cmpuint (frame.type, ==, 3);
  g_assert_cmpmem (frame.payload->data, frame.payload->len, "hello", 5);
}

/* One connection receives at most twice max_message_size (1 MiB here) of
 * contents at once over all its channels: the third partial body of 1 MiB
 * (960 KiB of it sent) is refused with 506 before it is kept. Others are
 * served meanwhile. */
static void
test_content_per_connection (Fixture       *f,
                             gconstpointer  data)
{
  g_autoptr(SsqTestRaw) conn = ssq_test_amqp_fixture_open (f);
  guint16 channel;

  for (channel = 1; channel <= 20; channel++)
    if (!start_partial_body (conn, channel, 1024 * 1024, 15, channel + 1))
      break;
  g_test_message ("refused at channel %u", channel);
  g_assert_cmpuint (channel, ==, 3);
  assert_normal_client (f);
}

/* Contents being received count in the broker's max_memory (4 MiB here),
 * as their bytes come: connections each holding two partial bodies of
 * 960 KiB (within their own bound) are refused with 506 once the server's
 * total would pass it, which frees what each refused one held; a normal
 * client still publishes and consumes. And a content announced but not
 * sent holds nothing: 40 connections announcing 1 MiB each, none refused
 * (each reserved what it announced, and the fifth was refused). */
static void
test_content_server_wide (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(GPtrArray) conns = g_ptr_array_new_with_free_func ((GDestroyNotify) ssq_test_raw_close);
  guint refused = 0;

  for (guint i = 0; i < 6; i++)
    {
      SsqTestRaw *conn = ssq_test_amqp_fixture_open (f);

      g_ptr_array_add (conns, conn);
      if (!start_partial_body (conn, 1, 1024 * 1024, 15, 2) ||
          !start_partial_body (conn, 2, 1024 * 1024, 15, 3))
        refused++;
    }
  g_test_message ("%u of 6 connections refused with 506 (max_memory 4 MiB)", refused);
  /* The first two hold 3.75 MiB; each other one passes 4 MiB at its first
   * body and is refused. */
  g_assert_cmpuint (refused, ==, 4);
  g_ptr_array_set_size (conns, 0);
  refused = 0;
  for (guint i = 0; i < 40; i++)
    {
      SsqTestRaw *conn = ssq_test_amqp_fixture_open (f);

      g_ptr_array_add (conns, conn);
      refused += !start_partial_body (conn, 1, 1024 * 1024, 0, 2);
    }
  g_assert_cmpuint (refused, ==, 0);
  assert_normal_client (f);
}

/* [limits] max_connections_per_address bounds one address over the chat
 * port and the AMQP port together. */
static void
test_per_address_shared (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(GPtrArray) chat = g_ptr_array_new_with_free_func ((GDestroyNotify) ssq_test_raw_close);
  g_autoptr(GPtrArray) amqp = g_ptr_array_new_with_free_func ((GDestroyNotify) ssq_test_raw_close);
  guint refused = 0;

  /* Idle connections to the chat port (the header timeout is 30 s). */
  for (guint i = 0; i < 4; i++)
    g_ptr_array_add (chat, ssq_test_raw_open (f->server));
  for (guint i = 0; i < 4; i++)
    g_ptr_array_add (amqp, ssq_test_amqp_connect (f->server));
  for (guint i = 0; i < amqp->len; i++)
    if (ssq_test_raw_wait_closed (amqp->pdata[i], 300))
      refused++;
  g_test_message ("%u of 4 AMQP connections refused beside 4 on the chat port "
                  "(max_connections_per_address=6)", refused);
  g_assert_cmpuint (refused, >=, 2);
  /* They go: the address has room again, on either port. */
  g_ptr_array_set_size (chat, 0);
  g_ptr_array_set_size (amqp, 0);
  {
    g_autoptr(SsqTestRaw) conn = NULL;

    for (guint tries = 0; tries < 50 && conn == NULL; tries++)
      {
        conn = ssq_test_amqp_connect (f->server);
        if (!ssq_test_raw_wait_closed (conn, 100))
          break;
        g_clear_pointer (&conn, ssq_test_raw_close);
      }
    g_assert_nonnull (conn);
  }
  ssq_test_assert_healthz (f->server);
}

/* Confirms of one read's publishes: acks gathered (multiple=true), a nack
 * between them splitting the run, every publish told exactly once and in
 * order. Queue "full" takes one message (x-max-length 1, reject-publish). */
static void
test_confirms_multiple (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(SsqTestRaw) conn = ssq_test_amqp_fixture_open (f);
  g_autoptr(GByteArray) out = g_byte_array_new ();
  g_autoptr(GByteArray) args = g_byte_array_new ();
  g_autoptr(GString) said = g_string_new (NULL);
  g_auto(SsqTestAmqpFrame) frame = { 0 };
  /* Where each publish goes: o = ordinary queue, f = the full one. */
  const char *plan = "f" "oooooooooooooooooooo" "f" "oooooooooooooooooooo" "f" "f" "ooooo";
  guint n = (guint) strlen (plan), frames = 0;
  guint64 told = 0;
  static const guint8 table[] = {
    12, 'x', '-', 'm', 'a', 'x', '-', 'l', 'e', 'n', 'g', 't', 'h', 'I', 0, 0, 0, 1,
    10, 'x', '-', 'o', 'v', 'e', 'r', 'f', 'l', 'o', 'w', 'S', 0, 0, 0, 14,
    'r', 'e', 'j', 'e', 'c', 't', '-', 'p', 'u', 'b', 'l', 'i', 's', 'h',
  };

  ssq_test_amqp_method_append (out, 1, ID (85, 10), "b", FALSE);
  ssq_test_amqp_method_append (out, 1, ID (50, 10), "sSbbbbbF", 0u, "ordinary", FALSE, FALSE,
                               FALSE, FALSE, FALSE, NULL);
  ssq_test_amqp_method_append (out, 1, ID (50, 10), "sSbbbbbT", 0u, "full", FALSE, FALSE,
                               FALSE, FALSE, FALSE, (const char *) table, sizeof table);
  ssq_test_amqp_send (conn, out);
  ssq_test_amqp_expect (conn, ID (85, 11), &frame);
  ssq_test_amqp_expect (conn, ID (50, 11), &frame);
  ssq_test_amqp_expect (conn, ID (50, 11), &frame);
  /* The first publish fills "full"; the others to it are refused. */
  for (guint i = 0; i < n; i++)
    {
      ssq_test_amqp_publish_header_append (out, 1, plan[i] == 'f' ? "full" : "ordinary", 1);
      ssq_test_amqp_frame_append (out, 3, 1, "x", 1, 0xCE);
    }
  ssq_test_amqp_send (conn, out);
  while (told < n && ssq_test_amqp_read (conn, SSQ_TEST_RAW_WAIT_MS, &frame))
    {
      guint64 tag;
      gboolean multiple, nack;

      if (frame.type != 1)
        continue;
      g_assert_true (frame.method == ID (60, 80) || frame.method == ID (60, 120));
      nack = frame.method == ID (60, 120);
      tag = get_u64 (frame.payload->data + 4);
      multiple = (frame.payload->data[12] & 1) != 0;
      frames++;
      g_assert_cmpuint (tag, >, told);
      g_assert_cmpuint (tag, <=, n);
      /* A single one is the next; a multiple one covers what is left up to it. */
      if (!multiple)
        g_assert_cmpuint (tag, ==, told + 1);
      for (guint64 t = told + 1; t <= tag; t++)
        g_string_append_c (said, nack ? 'f' : 'o');
      told = tag;
    }
  g_test_message ("%u publishes confirmed in %u frames: %s", n, frames, said->str);
  /* The first to "full" is taken, the others refused. */
  g_assert_cmpstr (said->str, ==, "o" "oooooooooooooooooooo" "f" "oooooooooooooooooooo" "f" "f" "ooooo");
  /* With every publish read at once: the runs between nacks are one ack each. */
  g_assert_cmpuint (frames, <, n / 2);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, func, config) \
  g_test_add ("/server/amqp-bounds/" path, Fixture, config, ssq_test_amqp_fixture_setup, func, \
              ssq_test_amqp_fixture_teardown)
  ADD ("content-per-connection", test_content_per_connection,
       "[broker]\nmax_message_size=1048576\n");
  ADD ("content-server-wide", test_content_server_wide,
       "[broker]\nmax_message_size=1048576\nmax_memory=4194304\n");
  ADD ("per-address-shared", test_per_address_shared,
       "max_connections_per_address=6\n");
  ADD ("confirms-multiple", test_confirms_multiple, NULL);
  return g_test_run ();
}
