/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-media.c: media against the real server binary: uploads streamed to
 * disk and stored once per content, downloads with ETag and Range, the
 * type read from the bytes, who may see what, and media in messages
 * (REST, WebSocket, history, sync). Files are checked on disk, rows in the
 * database (ssq-test-media.h). Timings are printed, never asserted. */
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

/* ---- Round trip ------------------------------------------------------- */

/* 20 MB of random bytes up and down, equal by SHA-256; the upload streams
 * to disk (the server's memory grows far less than the body). */
static void
test_round_trip (void)
{
  g_autoptr(SsqTestServer) s = ssq_test_server_start (NULL, MEDIA_CONFIG);
  g_autoptr(SsqTestUser) alice = ssq_test_register (s, "alice");
  g_autoptr(GBytes) data = ssq_test_random_bytes (20 * MiB, 1);
  g_autoptr(JsonObject) reply = NULL;
  g_auto(SsqTestDownload) d = { 0 };
  g_autofree char *sent_hash = ssq_test_sha256 (data);
  g_autofree char *got_hash = NULL;
  g_autofree char *store_path = NULL;
  JsonObject *media;
  guint status = 0;
  gsize baseline, growth;
  gint64 t0, t1, t2;

  baseline = ssq_test_rss_baseline (s);
  t0 = g_get_monotonic_time ();
  reply = ssq_test_media_upload (s, alice->token, "random.bin", data, &status);
  t1 = g_get_monotonic_time ();
  growth = ssq_test_rss_growth_kb (s, baseline);
  g_assert_cmpuint (status, ==, 201);
  media = json_object_get_object_member (reply, "media");
  g_assert_cmpstr (json_object_get_string_member (media, "name"), ==, "random.bin");
  g_assert_cmpstr (json_object_get_string_member (media, "mime"), ==, "application/octet-stream");
  g_assert_cmpint (json_object_get_int_member (media, "size"), ==, 20 * MiB);
  g_assert_true (json_object_get_null_member (media, "width"));
  g_assert_true (json_object_get_null_member (media, "height"));

  ssq_test_media_get (s, alice->token, json_object_get_string_member (media, "id"), NULL, &d);
  t2 = g_get_monotonic_time ();
  g_assert_cmpuint (d.status, ==, 200);
  got_hash = ssq_test_sha256 (d.body);
  g_assert_cmpstr (got_hash, ==, sent_hash);
  g_assert_cmpstr (ssq_test_download_header (&d, "Content-Type"), ==, "application/octet-stream");
  g_assert_cmpstr (ssq_test_download_header (&d, "X-Content-Type-Options"), ==, "nosniff");
  g_assert_true (g_str_has_prefix (ssq_test_download_header (&d, "Content-Disposition"),
                                   "attachment;"));
  /* On disk under its hash, and nothing left in the upload area. */
  store_path = g_build_filename (s->data_dir, "media", (char[]) { sent_hash[0], sent_hash[1], 0 },
                                 sent_hash, NULL);
  g_assert_true (g_file_test (store_path, G_FILE_TEST_IS_REGULAR));
  g_assert_cmpuint (ssq_test_media_files (s, TRUE), ==, 0);
  g_test_message ("20 MB: upload %.0f ms (%.0f MB/s), download %.0f ms, server RSS growth "
                  "%" G_GSIZE_FORMAT " KiB during the upload",
                  (t1 - t0) / 1e3, 20.0 * MiB / 1e6 / ((t1 - t0) / 1e6), (t2 - t1) / 1e3,
                  growth);
  /* A buffered body would take 20 MB: a streamed one takes its queue.
   * (Not under a wrapper such as valgrind, whose own memory grows.) */
  if (!ssq_test_under_wrapper ())
    g_assert_cmpuint (growth, <, 12 * 1024);
}

/* ---- Downloads: ETag, Range, headers ---------------------------------- */

static void
test_ranges_and_etag (void)
{
  g_autoptr(SsqTestServer) s = ssq_test_server_start (NULL, MEDIA_CONFIG);
  g_autoptr(SsqTestUser) alice = ssq_test_register (s, "alice");
  g_autoptr(GBytes) data = ssq_test_random_bytes (1000, 2);
  const guint8 *bytes = g_bytes_get_data (data, NULL);
  g_autofree char *id = ssq_test_media_upload_ok (s, alice->token,
                                                  "d\xc3\xa9j\xc3\xa0 \"vu\".dat", data);
  g_autofree char *etag = NULL;

  {
    g_auto(SsqTestDownload) d = { 0 };

    ssq_test_media_get (s, alice->token, id, NULL, &d);
    g_assert_cmpuint (d.status, ==, 200);
    etag = g_strdup (ssq_test_download_header (&d, "ETag"));
    g_assert_nonnull (etag);
    g_assert_cmpstr (ssq_test_download_header (&d, "Accept-Ranges"), ==, "bytes");
    /* The name for old clients in ASCII, and as it is (RFC 5987). */
    g_assert_cmpstr (ssq_test_download_header (&d, "Content-Disposition"), ==,
                     "attachment; filename=\"d_j_ _vu_.dat\"; "
                     "filename*=UTF-8''d%C3%A9j%C3%A0%20%22vu%22.dat");
  }
  {
    const char *h[] = { "Range", "bytes=10-19", NULL };
    g_auto(SsqTestDownload) d = { 0 };

    ssq_test_media_get (s, alice->token, id, h, &d);
    g_assert_cmpuint (d.status, ==, 206);
    g_assert_cmpstr (ssq_test_download_header (&d, "Content-Range"), ==, "bytes 10-19/1000");
    g_assert_cmpuint (g_bytes_get_size (d.body), ==, 10);
    g_assert_cmpmem (g_bytes_get_data (d.body, NULL), 10, bytes + 10, 10);
  }
  {
    const char *h[] = { "Range", "bytes=-100", NULL };
    g_auto(SsqTestDownload) d = { 0 };

    ssq_test_media_get (s, alice->token, id, h, &d);
    g_assert_cmpuint (d.status, ==, 206);
    g_assert_cmpstr (ssq_test_download_header (&d, "Content-Range"), ==, "bytes 900-999/1000");
    g_assert_cmpmem (g_bytes_get_data (d.body, NULL), 100, bytes + 900, 100);
  }
  {
    /* Open-ended, and an end past the file: both to its last byte. */
    const char *h1[] = { "Range", "bytes=990-", NULL };
    const char *h2[] = { "Range", "bytes=995-5000", NULL };
    g_auto(SsqTestDownload) d1 = { 0 };
    g_auto(SsqTestDownload) d2 = { 0 };

    ssq_test_media_get (s, alice->token, id, h1, &d1);
    ssq_test_media_get (s, alice->token, id, h2, &d2);
    g_assert_cmpuint (d1.status, ==, 206);
    g_assert_cmpuint (g_bytes_get_size (d1.body), ==, 10);
    g_assert_cmpstr (ssq_test_download_header (&d2, "Content-Range"), ==, "bytes 995-999/1000");
  }
  {
    const char *h[] = { "Range", "bytes=1000-1010", NULL };
    g_auto(SsqTestDownload) d = { 0 };

    ssq_test_media_get (s, alice->token, id, h, &d);
    g_assert_cmpuint (d.status, ==, 416);
    g_assert_cmpstr (ssq_test_download_header (&d, "Content-Range"), ==, "bytes */1000");
  }
  {
    /* Several ranges, or a Range after a changed If-Range: the whole. */
    const char *h1[] = { "Range", "bytes=0-1,5-6", NULL };
    const char *h2[] = { "Range", "bytes=0-1", "If-Range", "\"other\"", NULL };
    g_auto(SsqTestDownload) d1 = { 0 };
    g_auto(SsqTestDownload) d2 = { 0 };

    ssq_test_media_get (s, alice->token, id, h1, &d1);
    ssq_test_media_get (s, alice->token, id, h2, &d2);
    g_assert_cmpuint (d1.status, ==, 200);
    g_assert_cmpuint (g_bytes_get_size (d1.body), ==, 1000);
    g_assert_cmpuint (d2.status, ==, 200);
  }
  {
    const char *h1[] = { "If-None-Match", etag, NULL };
    const char *h2[] = { "If-None-Match", "\"x\", W/\"y\"", NULL };
    g_auto(SsqTestDownload) d1 = { 0 };
    g_auto(SsqTestDownload) d2 = { 0 };

    ssq_test_media_get (s, alice->token, id, h1, &d1);
    g_assert_cmpuint (d1.status, ==, 304);
    g_assert_cmpuint (g_bytes_get_size (d1.body), ==, 0);
    g_assert_cmpstr (ssq_test_download_header (&d1, "ETag"), ==, etag);
    ssq_test_media_get (s, alice->token, id, h2, &d2);
    g_assert_cmpuint (d2.status, ==, 200);
  }
  {
    g_autofree char *path = g_strconcat ("/api/v1/media/", id, NULL);
    g_auto(SsqTestDownload) d = { 0 };

    ssq_test_fetch (s, "HEAD", path, alice->token, NULL, &d);
    g_assert_cmpuint (d.status, ==, 200);
    g_assert_cmpstr (ssq_test_download_header (&d, "Content-Length"), ==, "1000");
    g_assert_cmpuint (g_bytes_get_size (d.body), ==, 0);
  }
  /* The connection stays usable after all of these (keep-alive). */
  g_assert_cmpuint (ssq_test_media_status (s, alice->token, id), ==, 200);
}

/* The type comes from the bytes, never from the client; only raster
 * images are shown in place. */
static void
test_sniffing (void)
{
  static const guint8 png[] = {
    0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R',
    0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0x1f, 0x15, 0xc4, 0x89,
  };
  static const char html[] = "<!DOCTYPE html><html><script>alert(1)</script></html>\n";
  static const char svg[] = "<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\">"
                            "<rect width=\"1\" height=\"1\"/></svg>\n";
  static const struct {
    const void *data;
    gsize       len;
    const char *name;
    const char *mime;
    const char *disposition;
  } cases[] = {
    { png, sizeof png, "not-a-text.txt", "image/png", "inline" },
    { html, sizeof html - 1, "page.png", "text/html", "attachment" },
    { svg, sizeof svg - 1, "drawing.svg", "image/svg+xml", "attachment" },
    { "", 0, "empty", "application/octet-stream", "attachment" },
  };
  g_autoptr(SsqTestServer) s = ssq_test_server_start (NULL, MEDIA_CONFIG);
  g_autoptr(SsqTestUser) alice = ssq_test_register (s, "alice");

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GBytes) data = g_bytes_new_static (cases[i].data, cases[i].len);
      g_autoptr(JsonObject) reply = NULL;
      g_auto(SsqTestDownload) d = { 0 };
      guint status = 0;
      JsonObject *media;

      /* libsoup sends the body as application/json: a lie, unheard. */
      reply = ssq_test_media_upload (s, alice->token, cases[i].name, data, &status);
      g_test_message ("%s", cases[i].name);
      g_assert_cmpuint (status, ==, 201);
      media = json_object_get_object_member (reply, "media");
      g_assert_cmpstr (json_object_get_string_member (media, "mime"), ==, cases[i].mime);
      ssq_test_media_get (s, alice->token, json_object_get_string_member (media, "id"), NULL, &d);
      g_assert_cmpstr (ssq_test_download_header (&d, "Content-Type"), ==, cases[i].mime);
      g_assert_true (g_str_has_prefix (ssq_test_download_header (&d, "Content-Disposition"),
                                       cases[i].disposition));
      g_assert_nonnull (strstr (ssq_test_download_header (&d, "Content-Security-Policy"), "sandbox"));
    }
  /* Names: the last path component; none, or nothing left, is refused. */
  {
    g_autoptr(GBytes) data = g_bytes_new_static ("x", 1);
    g_autoptr(JsonObject) r1 = NULL, r2 = NULL, r3 = NULL, r4 = NULL;
    guint status = 0;

    r1 = ssq_test_media_upload (s, alice->token, "../../etc/passwd", data, &status);
    g_assert_cmpuint (status, ==, 201);
    g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (r1, "media"),
                                                    "name"), ==, "passwd");
    r2 = ssq_test_media_upload (s, alice->token, "dir/", data, &status);
    g_assert_cmpuint (status, ==, 400);
    r3 = ssq_test_http_raw (s, "POST", "/api/v1/media", alice->token, "x", 1, &status);
    g_assert_cmpuint (status, ==, 400);
    r4 = ssq_test_media_upload (s, alice->token, "tab\there", data, &status);
    g_assert_cmpuint (status, ==, 400);
    g_assert_cmpstr (ssq_test_error_code (r4), ==, "invalid");
  }
}

/* ---- Access ------------------------------------------------------------ */

/* Only the uploader and members of a conversation where it was sent see a
 * media; everyone else gets the answer an unknown id gets. */
static void
test_access (void)
{
  g_autoptr(SsqTestServer) s = ssq_test_server_start (NULL, MEDIA_CONFIG);
  g_autoptr(SsqTestUser) alice = ssq_test_register (s, "alice");
  g_autoptr(SsqTestUser) bob = ssq_test_register (s, "bob");
  g_autoptr(SsqTestUser) carol = ssq_test_register (s, "carol");
  g_autoptr(GBytes) data = ssq_test_random_bytes (5000, 3);
  g_autofree char *id = ssq_test_media_upload_ok (s, alice->token, "secret.bin", data);
  g_autofree char *ids = g_strdup_printf ("[\"%s\"]", id);
  g_autofree char *ab = ssq_test_create_conversation (s, alice,
                                                      "{\"kind\":\"direct\",\"members\":[\"bob\"]}");
  g_autofree char *bc = ssq_test_create_conversation (s, bob,
                                                      "{\"kind\":\"direct\",\"members\":[\"carol\"]}");
  g_autofree char *hidden_path = g_strconcat ("/api/v1/media/", id, NULL);
  g_auto(SsqTestDownload) hidden = { 0 };
  g_auto(SsqTestDownload) unknown = { 0 };

  g_assert_cmpuint (ssq_test_media_status (s, alice->token, id), ==, 200);
  ssq_test_fetch (s, "GET", hidden_path, bob->token, NULL, &hidden);
  ssq_test_fetch (s, "GET", "/api/v1/media/f000000000000000000000000", bob->token, NULL, &unknown);
  g_assert_cmpuint (hidden.status, ==, 404);
  g_assert_cmpuint (unknown.status, ==, 404);
  g_assert_true (g_bytes_equal (hidden.body, unknown.body));
  /* Without a token: 401, as every authenticated route. */
  g_assert_cmpuint (ssq_test_media_status (s, NULL, id), ==, 401);
  /* Bob may not attach what he cannot see. */
  g_assert_cmpuint (ssq_test_post_with_media (s, bob->token, bc, "b1", ids, NULL), ==, 404);

  /* Sent to bob: bob sees it, carol still does not. */
  g_assert_cmpuint (ssq_test_post_with_media (s, alice->token, ab, "a1", ids, NULL), ==, 201);
  g_assert_cmpuint (ssq_test_media_status (s, bob->token, id), ==, 200);
  g_assert_cmpuint (ssq_test_media_status (s, carol->token, id), ==, 404);
  /* Bob passes it on to carol: now she does. */
  g_assert_cmpuint (ssq_test_post_with_media (s, bob->token, bc, "b2", ids, NULL), ==, 201);
  g_assert_cmpuint (ssq_test_media_status (s, carol->token, id), ==, 200);
  /* No thumbnail yet, for anyone who sees it; 404 too for who does not. */
  {
    g_autofree char *path = g_strconcat ("/api/v1/media/", id, "/thumbnail", NULL);
    g_auto(SsqTestDownload) t1 = { 0 };
    g_auto(SsqTestDownload) t2 = { 0 };

    ssq_test_fetch (s, "GET", path, alice->token, NULL, &t1);
    g_assert_cmpuint (t1.status, ==, 404);
    g_assert_cmpuint (ssq_test_db_count (s, "SELECT COUNT(*) FROM media WHERE thumbnail_hash IS NULL"),
                      ==, 1);
    ssq_test_user_free (g_steal_pointer (&carol));
    carol = ssq_test_register (s, "carol2");
    ssq_test_fetch (s, "GET", path, carol->token, NULL, &t2);
    g_assert_cmpuint (t2.status, ==, 404);
  }
}

/* ---- Media in messages ------------------------------------------------ */

static void
test_in_messages (void)
{
  g_autoptr(SsqTestServer) s = ssq_test_server_start (NULL, MEDIA_CONFIG);
  g_autoptr(SsqTestUser) alice = ssq_test_register (s, "alice");
  g_autoptr(SsqTestUser) bob = ssq_test_register (s, "bob");
  g_autoptr(GBytes) one = ssq_test_random_bytes (100, 4);
  g_autoptr(GBytes) two = ssq_test_random_bytes (200, 5);
  g_autofree char *id1 = ssq_test_media_upload_ok (s, alice->token, "one.bin", one);
  g_autofree char *id2 = ssq_test_media_upload_ok (s, alice->token, "two.bin", two);
  g_autofree char *conv = ssq_test_create_conversation (s, alice,
                                                        "{\"kind\":\"direct\",\"members\":[\"bob\"]}");
  g_autoptr(SsqTestWs) wa = ssq_test_ws_connect (s, alice->token, NULL);
  g_autoptr(SsqTestWs) wb = ssq_test_ws_connect (s, bob->token, NULL);
  g_autoptr(JsonObject) ack = NULL;
  g_autoptr(JsonObject) event = NULL;
  g_autoptr(JsonObject) history = NULL;
  g_autofree char *frame = g_strdup_printf ("{\"type\":\"send\",\"conversation_id\":\"%s\","
                                            "\"client_id\":\"w1\",\"body\":\"two files\","
                                            "\"media\":[\"%s\",\"%s\"]}", conv, id2, id1);
  g_autofree char *path = g_strdup_printf ("/api/v1/conversations/%s/messages", conv);
  JsonArray *media;
  SsqWireMedia m;
  guint status = 0;

  ack = ssq_test_ws_request (wa, frame);
  g_assert_cmpstr (json_object_get_string_member (ack, "type"), ==, "ack");
  media = json_object_get_array_member (json_object_get_object_member (ack, "message"), "media");
  g_assert_cmpuint (json_array_get_length (media), ==, 2);
  /* In the order sent, as media objects. */
  g_assert_true (ssq_wire_media_decode (json_array_get_object_element (media, 0), &m, NULL));
  g_assert_cmpstr (m.id, ==, id2);
  g_assert_cmpstr (m.name, ==, "two.bin");
  g_assert_cmpint (m.size, ==, 200);
  g_assert_true (ssq_wire_media_decode (json_array_get_object_element (media, 1), &m, NULL));
  g_assert_cmpstr (m.id, ==, id1);

  event = ssq_test_ws_expect (wb, "message", WAIT_MS);
  media = json_object_get_array_member (json_object_get_object_member (event, "message"), "media");
  g_assert_cmpuint (json_array_get_length (media), ==, 2);

  history = ssq_test_http (s, "GET", path, bob->token, NULL, &status);
  g_assert_cmpuint (status, ==, 200);
  media = json_object_get_array_member (
    json_array_get_object_element (json_object_get_array_member (history, "messages"), 0), "media");
  g_assert_cmpuint (json_array_get_length (media), ==, 2);

  /* A sync replays it with its media. */
  {
    g_autoptr(JsonObject) sync_ack = ssq_test_ws_request (wb, "{\"type\":\"sync\",\"since\":{}}");
    g_autoptr(JsonObject) replay = NULL;

    g_assert_nonnull (sync_ack);
    ssq_test_ws_free (g_steal_pointer (&wb));
    wb = ssq_test_ws_connect (s, bob->token, NULL);
    {
      g_autoptr(JsonObject) ack2 = NULL;

      ack2 = ssq_test_ws_request (wb, "{\"type\":\"sync\",\"since\":{}}");
      g_assert_nonnull (ack2);
    }
    replay = ssq_test_ws_expect (wb, "message", WAIT_MS);
    g_assert_nonnull (replay);
    media = json_object_get_array_member (json_object_get_object_member (replay, "message"),
                                          "media");
    g_assert_cmpuint (json_array_get_length (media), ==, 2);
  }
  /* A resend of the client_id gets the original, media and all. */
  {
    g_autoptr(JsonObject) again = ssq_test_ws_request (wa, frame);

    g_assert_true (json_object_get_boolean_member_with_default (again, "duplicate", FALSE));
    media = json_object_get_array_member (json_object_get_object_member (again, "message"),
                                          "media");
    g_assert_cmpuint (json_array_get_length (media), ==, 2);
  }
  /* An edit keeps them. */
  {
    g_autofree char *edit_path = g_strdup_printf ("%s/1", path);
    g_autoptr(JsonObject) edited = ssq_test_http (s, "PATCH", edit_path, alice->token,
                                                  "{\"body\":\"two files, edited\"}", &status);

    g_assert_cmpuint (status, ==, 200);
    media = json_object_get_array_member (json_object_get_object_member (edited, "message"),
                                          "media");
    g_assert_cmpuint (json_array_get_length (media), ==, 2);
  }
}

/* A send naming media that do not exist, or that the sender cannot see,
 * or not naming them properly, stores nothing. */
static void
test_send_refused (void)
{
  g_autoptr(SsqTestServer) s = ssq_test_server_start (NULL, MEDIA_CONFIG);
  g_autoptr(SsqTestUser) alice = ssq_test_register (s, "alice");
  g_autoptr(GBytes) data = ssq_test_random_bytes (10, 6);
  g_autofree char *id = ssq_test_media_upload_ok (s, alice->token, "a.bin", data);
  g_autofree char *conv = ssq_test_create_conversation (s, alice, GROUP);
  g_autoptr(SsqTestWs) ws = ssq_test_ws_connect (s, alice->token, NULL);
  g_autofree char *dup = g_strdup_printf ("[\"%s\",\"%s\"]", id, id);
  g_autofree char *frame = g_strdup_printf ("{\"type\":\"send\",\"conversation_id\":\"%s\","
                                            "\"client_id\":\"w1\",\"body\":\"x\","
                                            "\"media\":[\"f123\"]}", conv);
  g_autoptr(JsonObject) error = NULL;
  g_autoptr(GString) many = g_string_new ("[");
  JsonObject *reply = NULL;

  for (guint i = 0; i < 33; i++)
    g_string_append_printf (many, "%s\"f%u\"", i ? "," : "", i);
  g_string_append_c (many, ']');

  g_assert_cmpuint (ssq_test_post_with_media (s, alice->token, conv, "r1", "[\"nope\"]", &reply),
                    ==, 404);
  g_assert_cmpstr (ssq_test_error_code (reply), ==, "not_found");
  g_clear_pointer (&reply, json_object_unref);
  g_assert_cmpuint (ssq_test_post_with_media (s, alice->token, conv, "r2", "[42]", NULL), ==, 400);
  g_assert_cmpuint (ssq_test_post_with_media (s, alice->token, conv, "r3", dup, NULL), ==, 400);
  g_assert_cmpuint (ssq_test_post_with_media (s, alice->token, conv, "r4", many->str, NULL), ==, 400);
  g_assert_cmpuint (ssq_test_post_with_media (s, alice->token, conv, "r5", "\"x\"", NULL), ==, 400);
  error = ssq_test_ws_request (ws, frame);
  g_assert_cmpstr (json_object_get_string_member (error, "type"), ==, "error");
  g_assert_cmpstr (json_object_get_string_member (error, "code"), ==, "not_found");
  g_assert_cmpint (ssq_test_db_count (s, "SELECT COUNT(*) FROM messages"), ==, 0);
  g_assert_cmpint (ssq_test_db_count (s, "SELECT COUNT(*) FROM message_media"), ==, 0);
}

/* ---- One file per content ---------------------------------------------- */

static void
test_dedup (void)
{
  g_autoptr(SsqTestServer) s = ssq_test_server_start (NULL, MEDIA_CONFIG);
  g_autoptr(SsqTestUser) alice = ssq_test_register (s, "alice");
  g_autoptr(SsqTestUser) bob = ssq_test_register (s, "bob");
  g_autoptr(GBytes) data = ssq_test_random_bytes (1 * MiB, 9);
  g_autofree char *id1 = ssq_test_media_upload_ok (s, alice->token, "a.bin", data);
  g_autofree char *id2 = ssq_test_media_upload_ok (s, bob->token, "b.bin", data);
  g_autofree char *id3 = ssq_test_media_upload_ok (s, alice->token, "again.bin", data);

  g_assert_cmpstr (id1, !=, id2);
  g_assert_cmpstr (id1, !=, id3);
  g_assert_cmpuint (ssq_test_media_files (s, FALSE), ==, 1);
  g_assert_cmpint (ssq_test_db_count (s, "SELECT COUNT(DISTINCT sha256) FROM media"), ==, 1);
  g_assert_cmpint (ssq_test_db_count (s, "SELECT COUNT(*) FROM media"), ==, 3);
  g_assert_cmpint (ssq_test_metric (s, "ssq_media_bytes_stored"), ==, 1 * MiB);
  g_assert_cmpint (ssq_test_metric (s, "ssq_media_uploads_total"), ==, 3);
  /* Each is its own media, with its own name. */
  {
    g_auto(SsqTestDownload) d = { 0 };

    ssq_test_media_get (s, bob->token, id2, NULL, &d);
    g_assert_nonnull (strstr (ssq_test_download_header (&d, "Content-Disposition"), "b.bin"));
    g_assert_cmpuint (ssq_test_media_status (s, bob->token, id1), ==, 404);
  }
}

/* The same bytes uploaded on several connections at once, interleaved:
 * each gets its media, the store one file, and each downloads whole. */
static void
test_dedup_concurrent (void)
{
  g_autoptr(SsqTestServer) s = ssq_test_server_start (NULL, MEDIA_CONFIG);
  g_autoptr(SsqTestUser) alice = ssq_test_register (s, "alice");
  g_autoptr(GBytes) data = ssq_test_random_bytes (2 * MiB, 16);
  g_autofree char *expected = ssq_test_sha256 (data);
  g_autofree char *head = ssq_test_media_upload_head (alice->token, "same.bin",
                                                      "Content-Length: 2097152");
  const guint8 *bytes = g_bytes_get_data (data, NULL);
  SsqTestRaw *c[4];

  for (guint i = 0; i < G_N_ELEMENTS (c); i++)
    {
      c[i] = ssq_test_raw_open (s);
      g_assert_true (ssq_test_raw_send_str (c[i], head));
    }
  for (gsize off = 0; off < 2 * MiB; off += 256 * KiB)
    for (guint i = 0; i < G_N_ELEMENTS (c); i++)
      g_assert_cmpuint (ssq_test_raw_send (c[i], bytes + off, 256 * KiB, WAIT_MS), ==, 256 * KiB);
  for (guint i = 0; i < G_N_ELEMENTS (c); i++)
    {
      g_auto(SsqTestRawResponse) r = { 0 };
      g_autoptr(JsonObject) reply = NULL;
      g_auto(SsqTestDownload) d = { 0 };
      g_autofree char *got = NULL;

      g_assert_true (ssq_test_raw_read_response (c[i], WAIT_MS, &r));
      g_assert_cmpuint (r.status, ==, 201);
      reply = ssq_json_parse_object (r.body, strlen (r.body), NULL);
      ssq_test_media_get (s, alice->token,
                          json_object_get_string_member (json_object_get_object_member (reply, "media"),
                          "id"), NULL, &d);
      got = ssq_test_sha256 (d.body);
      g_assert_cmpstr (got, ==, expected);
      ssq_test_raw_close (c[i]);
    }
  g_assert_cmpuint (ssq_test_media_files (s, FALSE), ==, 1);
  g_assert_cmpuint (ssq_test_media_files (s, TRUE), ==, 0);
  g_assert_cmpint (ssq_test_metric (s, "ssq_media_bytes_stored"), ==, 2 * MiB);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/server/media/round-trip", test_round_trip);
  g_test_add_func ("/server/media/ranges-and-etag", test_ranges_and_etag);
  g_test_add_func ("/server/media/sniffing-and-names", test_sniffing);
  g_test_add_func ("/server/media/access", test_access);
  g_test_add_func ("/server/media/in-messages", test_in_messages);
  g_test_add_func ("/server/media/send-refused", test_send_refused);
  g_test_add_func ("/server/media/dedup", test_dedup);
  g_test_add_func ("/server/media/dedup-concurrent", test_dedup_concurrent);
  return g_test_run ();
}
