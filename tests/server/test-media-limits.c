/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-media-limits.c: media limits and lifetime against the real server
 * binary: sizes, quota and rate refused before the body is read, chunked
 * bodies cut, a stalled body, SIGKILL and vanishing clients mid-upload,
 * orphans that expire, media that go with their last message. */
#include "ssq-test-media.h"
#include "ssq-test-raw.h"
#include "ssq-json.h"
#include "ssq-wire.h"

#include <glib/gstdio.h>
#include <string.h>

#define KiB      1024
#define MiB      (1024 * 1024)
#define WAIT_MS  SSQ_TEST_RAW_WAIT_MS

/* Generous limits unless a test sets its own. */
#define MEDIA_CONFIG "[media]\nuploads_per_minute=0\n"
#define GROUP "{\"kind\":\"group\",\"title\":\"t\",\"members\":[]}"

/* ---- Limits ------------------------------------------------------------ */

/* A declared size over max_size is refused before a byte of the body is
 * read: the answer comes with no body sent, the connection closes after,
 * and the server holds nothing of it. */
static void
test_oversize_unread (void)
{
  g_autoptr(SsqTestServer) s = ssq_test_server_start (NULL, MEDIA_CONFIG "max_size=1048576\n");
  g_autoptr(SsqTestUser) alice = ssq_test_register (s, "alice");
  g_autoptr(SsqTestRaw) c = ssq_test_raw_open (s);
  g_auto(SsqTestRawResponse) r = { 0 };
  g_autofree char *head = ssq_test_media_upload_head (alice->token, "big.bin",
                                                      "Content-Length: 2000000000");
  g_autofree char *filler = g_strnfill (64 * KiB, 'z');
  gsize baseline = ssq_test_rss_baseline (s);
  gsize sent = 0;

  g_assert_true (ssq_test_raw_send_str (c, head));
  g_assert_true (ssq_test_raw_read_response (c, WAIT_MS, &r));
  g_assert_cmpuint (r.status, ==, 413);
  g_assert_nonnull (strstr (r.body, "\"too_large\""));
  /* One who sends the body anyway: it is not kept. */
  while (sent < 24 * MiB && !c->send_failed)
    {
      gsize n = ssq_test_raw_send (c, filler, 64 * KiB, 2000);

      sent += n;
      if (n < 64 * KiB)
        break;
    }
  g_assert_true (ssq_test_raw_wait_closed (c, WAIT_MS));
  g_test_message ("body bytes sent after the 413: %" G_GSIZE_FORMAT "; server RSS growth %"
                  G_GSIZE_FORMAT " KiB", sent, ssq_test_rss_growth_kb (s, baseline));
  if (!ssq_test_under_wrapper ())
    g_assert_cmpuint (ssq_test_rss_growth_kb (s, baseline), <, 8 * 1024);
  g_assert_cmpuint (ssq_test_media_files (s, TRUE), ==, 0);
  g_assert_cmpint (ssq_test_db_count (s, "SELECT COUNT(*) FROM media"), ==, 0);
  ssq_test_assert_healthz (s);
}

/* A chunked body has no declared size: it is cut at the limit, with 413,
 * and what was written of it is removed. */
static void
test_chunked_over_limit (void)
{
  g_autoptr(SsqTestServer) s = ssq_test_server_start (NULL, MEDIA_CONFIG "max_size=1048576\n");
  g_autoptr(SsqTestUser) alice = ssq_test_register (s, "alice");
  g_autoptr(SsqTestRaw) c = ssq_test_raw_open (s);
  g_auto(SsqTestRawResponse) r = { 0 };
  g_autofree char *head = ssq_test_media_upload_head (alice->token, "c.bin",
                                                      "Transfer-Encoding: chunked");
  g_autofree char *data = g_strnfill (16 * KiB, 'c');
  g_autofree char *chunk = g_strdup_printf ("4000\r\n%s\r\n", data);
  gsize body = 0;

  g_assert_true (ssq_test_raw_send_str (c, head));
  while (body < 4 * MiB && !c->send_failed && !c->closed && c->in->len == 0)
    {
      if (ssq_test_raw_send (c, chunk, strlen (chunk), 2000) < strlen (chunk))
        break;
      body += 16 * KiB;
      ssq_test_raw_pump (c, 0);
    }
  g_test_message ("chunked body bytes sent: %" G_GSIZE_FORMAT, body);
  g_assert_true (ssq_test_raw_read_response (c, WAIT_MS, &r));
  g_assert_cmpuint (r.status, ==, 413);
  g_assert_true (ssq_test_raw_wait_closed (c, WAIT_MS));
  g_assert_true (ssq_test_wait_until (ssq_test_media_tmp_empty_cb, s, WAIT_MS));
  g_assert_cmpuint (ssq_test_media_files (s, FALSE), ==, 0);
  g_assert_cmpint (ssq_test_db_count (s, "SELECT COUNT(*) FROM media"), ==, 0);

  /* Under the limit, chunked is fine. */
  {
    g_autoptr(SsqTestRaw) c2 = ssq_test_raw_open (s);
    g_auto(SsqTestRawResponse) r2 = { 0 };

    g_assert_true (ssq_test_raw_send_str (c2, head));
    for (guint i = 0; i < 4; i++)
      g_assert_true (ssq_test_raw_send_str (c2, chunk));
    g_assert_true (ssq_test_raw_send_str (c2, "0\r\n\r\n"));
    g_assert_true (ssq_test_raw_read_response (c2, WAIT_MS, &r2));
    g_assert_cmpuint (r2.status, ==, 201);
    g_assert_nonnull (strstr (r2.body, "\"size\":65536"));
  }
}

/* quota_per_user: a declared size past it is refused unread (507), a
 * chunked one once whole; other users are not affected. (The declared
 * size is not one alice holds: that could be the same bytes again, which
 * cost nothing; see quota-equal-bytes.) */
static void
test_quota (void)
{
  g_autoptr(SsqTestServer) s = ssq_test_server_start (NULL, MEDIA_CONFIG
                                                      "quota_per_user=3145728\n");
  g_autoptr(SsqTestUser) alice = ssq_test_register (s, "alice");
  g_autoptr(SsqTestUser) bob = ssq_test_register (s, "bob");
  g_autoptr(GBytes) two = ssq_test_random_bytes (2 * MiB, 7);
  g_autoptr(GBytes) other = ssq_test_random_bytes (2 * MiB, 8);
  g_autoptr(GBytes) small = g_bytes_new_static ("x", 1);
  g_autofree char *id = ssq_test_media_upload_ok (s, alice->token, "two.bin", two);
  g_autofree char *head = ssq_test_media_upload_head (alice->token, "more.bin",
                                                      "Content-Length: 2097153");
  g_autoptr(JsonObject) reply = NULL;
  guint status = 0;

  {
    g_autoptr(SsqTestRaw) c = ssq_test_raw_open (s);
    g_auto(SsqTestRawResponse) r = { 0 };

    g_assert_true (ssq_test_raw_send_str (c, head));
    g_assert_true (ssq_test_raw_read_response (c, WAIT_MS, &r));
    g_assert_cmpuint (r.status, ==, 507);
    g_assert_nonnull (strstr (r.body, "\"quota_exceeded\""));
    g_test_message ("%s", r.body);
    g_assert_true (ssq_test_raw_wait_closed (c, WAIT_MS));
  }
  {
    /* Chunked: all of it comes, then the quota refuses it. */
    g_autoptr(SsqTestRaw) c = ssq_test_raw_open (s);
    g_auto(SsqTestRawResponse) r = { 0 };
    g_autofree char *chunked = ssq_test_media_upload_head (alice->token, "more.bin",
                                                           "Transfer-Encoding: chunked");
    g_autofree char *size = g_strdup_printf ("%x\r\n", 2 * MiB);

    g_assert_true (ssq_test_raw_send_str (c, chunked));
    g_assert_true (ssq_test_raw_send_str (c, size));
    g_assert_cmpuint (ssq_test_raw_send (c, g_bytes_get_data (other, NULL), 2 * MiB, WAIT_MS), ==,
                      2 * MiB);
    g_assert_true (ssq_test_raw_send_str (c, "\r\n0\r\n\r\n"));
    g_assert_true (ssq_test_raw_read_response (c, WAIT_MS, &r));
    g_assert_cmpuint (r.status, ==, 507);
  }
  /* Its file went with the refusal; bob's own quota is whole. */
  g_assert_true (ssq_test_wait_until (ssq_test_media_tmp_empty_cb, s, WAIT_MS));
  g_assert_cmpuint (ssq_test_media_files (s, FALSE), ==, 1);
  g_free (ssq_test_media_upload_ok (s, bob->token, "other.bin", other));
  g_assert_cmpuint (ssq_test_media_files (s, FALSE), ==, 2);
  /* A small one still fits alice's. */
  reply = ssq_test_media_upload (s, alice->token, "small.bin", small, &status);
  g_assert_cmpuint (status, ==, 201);
}

/* Uploads the same bytes are stored once and counted once per user: the
 * same file again costs nothing of the quota, also when the quota has no
 * room for its declared size (a file of a size the user holds may be the
 * same bytes: its hash decides). Other files still get 507; another user
 * uploading the same bytes is charged for them. */
static void
test_quota_equal_bytes (void)
{
  g_autoptr(SsqTestServer) s = ssq_test_server_start (NULL, MEDIA_CONFIG
                                                      "quota_per_user=5242880\n");
  g_autoptr(SsqTestUser) alice = ssq_test_register (s, "alice");
  g_autoptr(SsqTestUser) bob = ssq_test_register (s, "bob");
  g_autoptr(GBytes) a = ssq_test_random_bytes (2 * MiB, 21);
  g_autoptr(GBytes) b = ssq_test_random_bytes (2 * MiB, 22);
  g_autoptr(GBytes) c = ssq_test_random_bytes (2 * MiB, 23);
  g_autoptr(GBytes) bob_own = ssq_test_random_bytes (4 * MiB, 24);
  g_autoptr(JsonObject) refused = NULL, bob_refused = NULL;
  guint status = 0;

  g_free (ssq_test_media_upload_ok (s, alice->token, "a.bin", a));
  g_free (ssq_test_media_upload_ok (s, alice->token, "a again.bin", a));
  /* 2 MiB held, not 4: another 2 MiB fits in 5. */
  g_free (ssq_test_media_upload_ok (s, alice->token, "b.bin", b));
  /* 4 of 5 MiB used: a third copy of a still goes in, and costs nothing. */
  g_free (ssq_test_media_upload_ok (s, alice->token, "a third.bin", a));
  refused = ssq_test_media_upload (s, alice->token, "c.bin", c, &status);
  g_assert_cmpuint (status, ==, 507);
  g_assert_nonnull (strstr (json_object_get_string_member (json_object_get_object_member (refused, "error"),
                                                           "message"), " 4194304 of 5242880 "));
  g_assert_cmpint (ssq_test_db_count (s, "SELECT COUNT(*) FROM media WHERE uploader = "
                                         "(SELECT id FROM users WHERE username = 'alice')"), ==, 4);
  g_assert_cmpuint (ssq_test_media_files (s, FALSE), ==, 2);

  /* Bob's 4 MiB and then alice's a: 6 MiB for him, past his quota. */
  g_free (ssq_test_media_upload_ok (s, bob->token, "own.bin", bob_own));
  bob_refused = ssq_test_media_upload (s, bob->token, "a.bin", a, &status);
  g_assert_cmpuint (status, ==, 507);
}

/* uploads_per_minute, refused before the body. */
static void
test_rate_limit (void)
{
  g_autoptr(SsqTestServer) s = ssq_test_server_start (NULL, "[media]\nuploads_per_minute=2\n");
  g_autoptr(SsqTestUser) alice = ssq_test_register (s, "alice");
  g_autoptr(GBytes) data = g_bytes_new_static ("abc", 3);
  g_autofree char *id1 = ssq_test_media_upload_ok (s, alice->token, "1", data);
  g_autofree char *id2 = ssq_test_media_upload_ok (s, alice->token, "2", data);
  g_autoptr(SsqTestRaw) c = ssq_test_raw_open (s);
  g_auto(SsqTestRawResponse) r = { 0 };
  g_autofree char *head = ssq_test_media_upload_head (alice->token, "3", "Content-Length: 1000000");
  g_autofree char *retry = NULL;

  g_assert_true (ssq_test_raw_send_str (c, head));
  g_assert_true (ssq_test_raw_read_response (c, WAIT_MS, &r));
  g_assert_cmpuint (r.status, ==, 429);
  g_assert_nonnull (strstr (r.body, "\"retry_after_ms\""));
  retry = ssq_test_raw_head_header (r.head, "Retry-After");
  g_assert_nonnull (retry);
}

/* A body that stops coming: after idle_timeout the upload is cut (408)
 * and its file removed. */
static void
test_stalled_upload (void)
{
  g_autoptr(SsqTestServer) s = ssq_test_server_start (NULL, "idle_timeout=1\n" MEDIA_CONFIG);
  g_autoptr(SsqTestUser) alice = ssq_test_register (s, "alice");
  g_autoptr(SsqTestRaw) c = ssq_test_raw_open (s);
  g_autoptr(GBytes) part = ssq_test_random_bytes (512 * KiB, 17);
  g_auto(SsqTestRawResponse) r = { 0 };
  g_autofree char *head = ssq_test_media_upload_head (alice->token, "slow.bin",
                                                      "Content-Length: 1048576");

  g_assert_true (ssq_test_raw_send_str (c, head));
  g_assert_cmpuint (ssq_test_raw_send (c, g_bytes_get_data (part, NULL), 512 * KiB, WAIT_MS), ==,
                    512 * KiB);
  g_assert_true (ssq_test_raw_read_response (c, WAIT_MS, &r));
  g_assert_cmpuint (r.status, ==, 408);
  g_assert_true (ssq_test_raw_wait_closed (c, WAIT_MS));
  g_assert_true (ssq_test_wait_until (ssq_test_media_tmp_empty_cb, s, WAIT_MS));
  g_assert_cmpint (ssq_test_db_count (s, "SELECT COUNT(*) FROM media"), ==, 0);
}

/* ---- Crashes and vanishing clients ------------------------------------ */

/* SIGKILL with half a body written: the temporary file stays behind the
 * dead server, and the next start removes it; no media row exists. */
static void
test_sigkill_mid_upload (void)
{
  g_autofree char *dir = g_dir_make_tmp ("ssq-media-XXXXXX", NULL);
  g_autoptr(SsqTestServer) s = ssq_test_server_start (dir, MEDIA_CONFIG);
  g_autoptr(SsqTestUser) alice = ssq_test_register (s, "alice");
  g_autoptr(SsqTestRaw) c = ssq_test_raw_open (s);
  g_autoptr(GBytes) half = ssq_test_random_bytes (4 * MiB, 10);
  g_autofree char *head = ssq_test_media_upload_head (alice->token, "half.bin",
                                                      "Content-Length: 8388608");

  g_assert_true (ssq_test_raw_send_str (c, head));
  g_assert_cmpuint (ssq_test_raw_send (c, g_bytes_get_data (half, NULL), 4 * MiB, WAIT_MS), ==,
                    4 * MiB);
  g_assert_true (ssq_test_wait_until (ssq_test_media_tmp_has_bytes_cb, s, WAIT_MS));
  ssq_test_server_kill (s);
  g_assert_cmpuint (ssq_test_media_files (s, TRUE), ==, 1);

  ssq_test_server_restart (s);
  g_assert_cmpuint (ssq_test_media_files (s, TRUE), ==, 0);
  g_assert_cmpuint (ssq_test_media_files (s, FALSE), ==, 0);
  g_assert_cmpint (ssq_test_db_count (s, "SELECT COUNT(*) FROM media"), ==, 0);
  /* And uploads work again. */
  {
    g_autoptr(GBytes) data = ssq_test_random_bytes (1000, 11);

    g_free (ssq_test_media_upload_ok (s, alice->token, "after.bin", data));
  }
  ssq_test_server_free (g_steal_pointer (&s));
  ssq_test_remove_tree (dir);
}

/* A client that goes away mid-body: its temporary file goes, and the
 * server goes on serving (uploads included). */
static void
test_vanish_mid_upload (void)
{
  g_autoptr(SsqTestServer) s = ssq_test_server_start (NULL, MEDIA_CONFIG);
  g_autoptr(SsqTestUser) alice = ssq_test_register (s, "alice");
  g_autoptr(SsqTestUser) bob = ssq_test_register (s, "bob");
  g_autoptr(GBytes) part = ssq_test_random_bytes (3 * MiB, 12);
  g_autofree char *head = ssq_test_media_upload_head (alice->token, "gone.bin",
                                                      "Content-Length: 8388608");

  for (guint i = 0; i < 3; i++)
    {
      SsqTestRaw *c = ssq_test_raw_open (s);

      g_assert_true (ssq_test_raw_send_str (c, head));
      g_assert_cmpuint (ssq_test_raw_send (c, g_bytes_get_data (part, NULL), 3 * MiB, WAIT_MS),
                        ==, 3 * MiB);
      if (i == 0)
        g_assert_true (ssq_test_wait_until (ssq_test_media_tmp_has_bytes_cb, s, WAIT_MS));
      ssq_test_raw_close (c);
    }
  g_assert_true (ssq_test_wait_until (ssq_test_media_tmp_empty_cb, s, WAIT_MS));
  g_assert_cmpint (ssq_test_db_count (s, "SELECT COUNT(*) FROM media"), ==, 0);
  ssq_test_assert_healthz (s);
  g_free (ssq_test_media_upload_ok (s, bob->token, "still.bin", part));
  g_assert_cmpuint (ssq_test_media_files (s, FALSE), ==, 1);
}

/* ---- Lifetime ---------------------------------------------------------- */

static gboolean
gone_cb (gpointer data)
{
  const char *const *args = data;
  SsqTestServer *s = (SsqTestServer *) args[0];

  return ssq_test_media_status (s, args[1], args[2]) == 404;
}

/* An upload no message carries goes after orphan_expiry; one sent stays. */
static void
test_orphan_expiry (void)
{
  g_autoptr(SsqTestServer) s = ssq_test_server_start (NULL, MEDIA_CONFIG "orphan_expiry=1\n");
  g_autoptr(SsqTestUser) alice = ssq_test_register (s, "alice");
  g_autoptr(GBytes) a = ssq_test_random_bytes (3000, 13);
  g_autoptr(GBytes) b = ssq_test_random_bytes (4000, 14);
  g_autofree char *orphan = ssq_test_media_upload_ok (s, alice->token, "orphan.bin", a);
  g_autofree char *kept = ssq_test_media_upload_ok (s, alice->token, "kept.bin", b);
  g_autofree char *ids = g_strdup_printf ("[\"%s\"]", kept);
  g_autofree char *conv = ssq_test_create_conversation (s, alice, GROUP);
  const char *args[] = { (const char *) s, alice->token, orphan };
  gint64 t0 = g_get_monotonic_time ();

  g_assert_cmpuint (ssq_test_post_with_media (s, alice->token, conv, "k", ids, NULL), ==, 201);
  g_assert_cmpuint (ssq_test_media_files (s, FALSE), ==, 2);
  g_assert_true (ssq_test_wait_until (gone_cb, args, 15000));
  g_test_message ("the orphan went after %.1f s", (g_get_monotonic_time () - t0) / 1e6);
  /* Its file leaves the store once the expiry's commit is back. */
  g_assert_true (ssq_test_media_wait_files (s, FALSE, 1, WAIT_MS));
  g_assert_true (ssq_test_wait_until (ssq_test_media_tmp_empty_cb, s, WAIT_MS));
  g_assert_cmpuint (ssq_test_media_status (s, alice->token, kept), ==, 200);
  g_assert_cmpint (ssq_test_db_count (s, "SELECT COUNT(*) FROM media"), ==, 1);
}

/* A media goes with the last message carrying it: its row, and its file
 * when no other media has the same bytes. */
static void
test_deleted_with_message (void)
{
  g_autoptr(SsqTestServer) s = ssq_test_server_start (NULL, MEDIA_CONFIG);
  g_autoptr(SsqTestUser) alice = ssq_test_register (s, "alice");
  g_autoptr(GBytes) data = ssq_test_random_bytes (5000, 15);
  g_autofree char *id = ssq_test_media_upload_ok (s, alice->token, "x.bin", data);
  g_autofree char *twin = ssq_test_media_upload_ok (s, alice->token, "twin.bin", data);
  g_autofree char *ids = g_strdup_printf ("[\"%s\"]", id);
  g_autofree char *twin_ids = g_strdup_printf ("[\"%s\"]", twin);
  g_autofree char *conv = ssq_test_create_conversation (s, alice, GROUP);
  g_autofree char *m1 = g_strdup_printf ("/api/v1/conversations/%s/messages/1", conv);
  g_autofree char *m2 = g_strdup_printf ("/api/v1/conversations/%s/messages/2", conv);
  g_autofree char *m3 = g_strdup_printf ("/api/v1/conversations/%s/messages/3", conv);
  g_autoptr(JsonObject) r1 = NULL, r2 = NULL, r3 = NULL;
  guint status = 0;

  g_assert_cmpuint (ssq_test_post_with_media (s, alice->token, conv, "1", ids, NULL), ==, 201);
  g_assert_cmpuint (ssq_test_post_with_media (s, alice->token, conv, "2", ids, NULL), ==, 201);
  g_assert_cmpuint (ssq_test_post_with_media (s, alice->token, conv, "3", twin_ids, NULL), ==, 201);
  r1 = ssq_test_http (s, "DELETE", m1, alice->token, NULL, &status);
  g_assert_cmpuint (status, ==, 204);
  /* Message 2 carries it still. */
  g_assert_cmpuint (ssq_test_media_status (s, alice->token, id), ==, 200);
  r2 = ssq_test_http (s, "DELETE", m2, alice->token, NULL, &status);
  g_assert_cmpuint (status, ==, 204);
  g_assert_cmpuint (ssq_test_media_status (s, alice->token, id), ==, 404);
  g_assert_cmpint (ssq_test_db_count (s, "SELECT COUNT(*) FROM media"), ==, 1);
  /* Its twin (same bytes) keeps the file. */
  g_assert_cmpuint (ssq_test_media_files (s, FALSE), ==, 1);
  g_assert_cmpuint (ssq_test_media_status (s, alice->token, twin), ==, 200);
  /* The tombstones carry no media. */
  {
    g_autofree char *path = g_strdup_printf ("/api/v1/conversations/%s/messages", conv);
    g_autoptr(JsonObject) page = ssq_test_http (s, "GET", path, alice->token, NULL, &status);
    JsonArray *messages = json_object_get_array_member (page, "messages");

    g_assert_cmpuint (json_array_get_length (json_object_get_array_member (
      json_array_get_object_element (messages, 0), "media")), ==, 0);
    g_assert_cmpuint (json_array_get_length (json_object_get_array_member (
      json_array_get_object_element (messages, 2), "media")), ==, 1);
  }
  r3 = ssq_test_http (s, "DELETE", m3, alice->token, NULL, &status);
  g_assert_cmpuint (status, ==, 204);
  g_assert_cmpuint (ssq_test_media_status (s, alice->token, twin), ==, 404);
  g_assert_true (ssq_test_wait_until (ssq_test_media_store_empty_cb, s, WAIT_MS));
  g_assert_true (ssq_test_wait_until (ssq_test_media_tmp_empty_cb, s, WAIT_MS));
  g_assert_cmpint (ssq_test_db_count (s, "SELECT COUNT(*) FROM media"), ==, 0);
  g_assert_cmpint (ssq_test_metric (s, "ssq_media_bytes_stored"), ==, 0);
}

static gboolean
one_upload_file_cb (gpointer data)
{
  return ssq_test_media_files (data, TRUE) == 1;
}

/* uploads_at_once: a user's uploads under way are bounded (each holds a
 * temporary file the quota does not count yet): past it, refused unread
 * (429) while the others go on; other users are not affected, and once
 * one ends the user may upload again. */
static void
test_uploads_at_once (void)
{
  g_autoptr(SsqTestServer) s = ssq_test_server_start (NULL, MEDIA_CONFIG "uploads_at_once=2\n");
  g_autoptr(SsqTestUser) alice = ssq_test_register (s, "alice");
  g_autoptr(SsqTestUser) bob = ssq_test_register (s, "bob");
  g_autoptr(GBytes) part = ssq_test_random_bytes (MiB, 21);
  g_autoptr(GBytes) small = ssq_test_random_bytes (1000, 22);
  g_autofree char *head = ssq_test_media_upload_head (alice->token, "held.bin",
                                                      "Content-Length: 2097152");
  SsqTestRaw *held[2];

  for (guint i = 0; i < G_N_ELEMENTS (held); i++)
    {
      held[i] = ssq_test_raw_open (s);
      g_assert_true (ssq_test_raw_send_str (held[i], head));
      g_assert_cmpuint (ssq_test_raw_send (held[i], g_bytes_get_data (part, NULL), MiB, WAIT_MS),
                        ==, MiB);
    }
  g_assert_true (ssq_test_wait_until (ssq_test_media_tmp_has_bytes_cb, s, WAIT_MS));
  {
    g_autoptr(SsqTestRaw) c = ssq_test_raw_open (s);
    g_auto(SsqTestRawResponse) r = { 0 };

    g_assert_true (ssq_test_raw_send_str (c, head));
    g_assert_true (ssq_test_raw_read_response (c, WAIT_MS, &r));
    g_assert_cmpuint (r.status, ==, 429);
    g_assert_true (ssq_test_raw_wait_closed (c, WAIT_MS));
  }
  g_free (ssq_test_media_upload_ok (s, bob->token, "bob.bin", small));
  /* One held upload vanishes: alice may upload again. */
  ssq_test_raw_close (held[0]);
  g_assert_true (ssq_test_wait_until (one_upload_file_cb, s, WAIT_MS));
  g_free (ssq_test_media_upload_ok (s, alice->token, "again.bin", small));
  ssq_test_raw_close (held[1]);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/server/media/oversize-unread", test_oversize_unread);
  g_test_add_func ("/server/media/chunked-over-limit", test_chunked_over_limit);
  g_test_add_func ("/server/media/quota", test_quota);
  g_test_add_func ("/server/media/quota-equal-bytes", test_quota_equal_bytes);
  g_test_add_func ("/server/media/rate-limit", test_rate_limit);
  g_test_add_func ("/server/media/uploads-at-once", test_uploads_at_once);
  g_test_add_func ("/server/media/stalled-upload", test_stalled_upload);
  g_test_add_func ("/server/media/sigkill-mid-upload", test_sigkill_mid_upload);
  g_test_add_func ("/server/media/vanish-mid-upload", test_vanish_mid_upload);
  g_test_add_func ("/server/media/orphan-expiry", test_orphan_expiry);
  g_test_add_func ("/server/media/deleted-with-message", test_deleted_with_message);
  return g_test_run ();
}
