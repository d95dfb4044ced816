/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-transport-ws.c: the bounds of the server's WebSocket transport,
 * black-box, against the real binary: a message fragmented past
 * max_frame_size, and a client flooding sync requests without reading.
 * Memory is read from /proc/<pid> of the server.
 *
 * The hostile clients are the raw sockets of ssq-test-raw.h: they send
 * frames libsoup's client will not, and read only when told to. Every wait
 * has a deadline; deadlines are generous, so that a loaded machine makes
 * these tests slower, not red. */
#include "ssq-test-raw.h"

#include <string.h>

#define KiB      1024
#define MiB      (1024 * 1024)
#define WAIT_MS  SSQ_TEST_RAW_WAIT_MS

/* ---- 1. A fragmented WebSocket message -------------------------------- */

#define FRAGMENT (16 * KiB)

/* libsoup 3.2 checks each frame, not the message they add up to: 16 KiB
 * continuation frames without a final one pile up without end. The
 * transport must fail the connection (1009) as soon as the message passes
 * max_frame_size. */
static void
test_ws_fragmented_limit (void)
{
  g_autoptr(SsqTestServer) s = ssq_test_server_start (NULL, "max_frame_size=65536\n");
  g_autoptr(SsqTestUser) u = ssq_test_register (s, "frag.sender");
  g_autoptr(SsqTestRaw) c = ssq_test_raw_ws_open (s, u->token, 0, 0);
  g_autoptr(GByteArray) frame = g_byte_array_new ();
  g_autofree char *text = g_strnfill (FRAGMENT, 'x');
  gsize baseline, sent = 0, sent_at_close = 0;
  gboolean waited = FALSE;
  int close_code = -1;

  baseline = ssq_test_rss_baseline (s);
  while (sent < 8 * MiB && close_code < 0 && !c->closed && !c->send_failed)
    {
      g_byte_array_set_size (frame, 0);
      /* FIN clear: opcode 1 first, continuation (0) after. */
      ssq_test_raw_ws_frame_append (frame, sent == 0 ? 0x01 : 0x00, text, FRAGMENT);
      if (ssq_test_raw_send (c, frame->data, frame->len, 3000) < frame->len)
        break;
      sent += FRAGMENT;
      /* Once past the limit, the server has had all it needs to decide:
       * give it time (a loaded machine) before sending more. */
      close_code = ssq_test_raw_ws_pump (c, !waited && sent > 65536 + FRAGMENT ? WAIT_MS : 0, NULL);
      waited = waited || sent > 65536 + FRAGMENT;
      if (close_code >= 0 || c->closed)
        sent_at_close = sent;
    }
  if (close_code < 0)
    close_code = ssq_test_raw_ws_pump (c, 1000, NULL);
  g_test_message ("sent %" G_GSIZE_FORMAT " bytes of one message; close code %d after %" G_GSIZE_FORMAT
                  " bytes; RSS growth %" G_GSIZE_FORMAT " KiB",
                  sent, close_code, sent_at_close, ssq_test_rss_growth_kb (s, baseline));
  g_assert_cmpint (close_code, ==, 1009);
  g_assert_cmpuint (sent_at_close, <=, 256 * KiB);
  g_assert_cmpuint (ssq_test_rss_growth_kb (s, baseline), <, 8 * 1024);

  /* Others are still served. */
  ssq_test_assert_healthz (s);
  {
    g_autoptr(SsqTestWs) ws = ssq_test_ws_connect (s, u->token, NULL);

    g_assert_nonnull (ws);
    g_assert_nonnull (ssq_test_ws_expect (ws, "welcome", WAIT_MS));
  }
}

/* ---- 2. A WebSocket client flooding sync ------------------------------ */

#define SYNC_FLOOD 100000

/* Every sync is a job and a stream of replies; a client that sends them
 * without reading must hit max_requests_in_flight (the server stops
 * reading it) or send_queue_max (it is cut), never the server's memory. */
static void
test_ws_sync_flood (void)
{
  g_autoptr(SsqTestServer) s = ssq_test_server_start (NULL, "send_queue_max=262144\n");
  g_autoptr(SsqTestUser) flood = ssq_test_register (s, "sync.flood");
  g_autoptr(SsqTestUser) calm = ssq_test_register (s, "sync.calm");
  g_autofree char *calm_conv = ssq_test_create_conversation (s, calm,
                                                             "{\"kind\":\"group\",\"title\":\"calm\"}");
  g_autofree char *filler = g_strnfill (400, 'm');
  g_autoptr(SsqTestWs) calm_ws = NULL;
  g_autoptr(SsqTestRaw) c = NULL;
  g_autoptr(GByteArray) batch = g_byte_array_new ();
  gsize baseline;
  guint sent = 0;
  gboolean blocked = FALSE, cut = FALSE;

  /* Something for each sync to send: 3 conversations of 20 messages. */
  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *conv = ssq_test_create_conversation (s, flood,
                                                            "{\"kind\":\"group\",\"title\":\"flood\"}");
      g_autofree char *path = g_strdup_printf ("/api/v1/conversations/%s/messages", conv);

      for (guint j = 0; j < 20; j++)
        {
          g_autofree char *body = g_strdup_printf ("{\"client_id\":\"f%u-%u\",\"body\":\"%s\"}", i, j,
                                                   filler);
          guint status = 0;
          g_autoptr(JsonObject) r = ssq_test_http (s, "POST", path, flood->token, body, &status);

          g_assert_cmpuint (status, ==, 201);
        }
    }
  calm_ws = ssq_test_ws_connect (s, calm->token, NULL);
  g_assert_nonnull (calm_ws);
  g_assert_nonnull (ssq_test_ws_expect (calm_ws, "welcome", WAIT_MS));

  /* Fixed, small buffers on our side: when the server stops reading, our
   * sends block after some 100 KB instead of after megabytes of kernel
   * autotuning. */
  c = ssq_test_raw_ws_open (s, flood->token, 4096, 65536);
  baseline = ssq_test_rss_baseline (s);
  while (sent < SYNC_FLOOD)
    {
      gsize done;

      g_byte_array_set_size (batch, 0);
      for (guint i = 0; i < 1000; i++)
        {
          g_autofree char *frame = g_strdup_printf ("{\"type\":\"sync\",\"id\":%u}", sent + i);

          ssq_test_raw_ws_frame_append (batch, 0x81, frame, strlen (frame));
        }
      done = ssq_test_raw_send (c, batch->data, batch->len, 3000);
      if (done < batch->len)
        {
          cut = c->send_failed;
          blocked = !cut;
          break;
        }
      sent += 1000;
      if (ssq_test_raw_peer_gone (c))
        {
          cut = TRUE;
          break;
        }
      if (sent == SYNC_FLOOD / 2)
        ssq_test_assert_send_acked (calm_ws, calm_conv);
    }
  /* Everything taken: then the slow reader must be cut in the end. */
  if (!blocked && !cut)
    {
      gint64 deadline = ssq_test_deadline_after (10000);

      while (!(cut = ssq_test_raw_peer_gone (c)) && ssq_test_ms_until (deadline) > 0)
        ssq_test_wait_ms (100);
    }
  /* Others are served while the flooder is still connected. */
  ssq_test_assert_send_acked (calm_ws, calm_conv);
  ssq_test_wait_ms (1000);
  g_test_message ("sync frames sent: %u of %u; blocked %d, cut %d; RSS growth %" G_GSIZE_FORMAT " KiB",
                  sent, SYNC_FLOOD, blocked, cut, ssq_test_rss_growth_kb (s, baseline));
  g_assert_cmpuint (ssq_test_rss_growth_kb (s, baseline), <, 32 * 1024);
  g_assert_true (blocked || cut);
  ssq_test_assert_healthz (s);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/server/transport/ws-fragmented-limit", test_ws_fragmented_limit);
  g_test_add_func ("/server/transport/ws-sync-flood", test_ws_sync_flood);
  return g_test_run ();
}
