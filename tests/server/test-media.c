/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-media.c: media against the real server binary: uploads streamed to
 * disk and stored once per content, downloads with ETag and Range, who may
 * see what, limits refused before the body is read, quota, rate, crashes
 * and vanishing clients mid-upload, orphans that expire, media that go
 * with their last message, and media in messages (REST, WebSocket,
 * history). The files are checked on disk and the rows in the database.
 * Timings are printed, never asserted. */
#include "ssq-test-raw.h"
#include "ssq-wire.h"

#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>

#define KiB      1024
#define MiB      (1024 * 1024)
#define WAIT_MS  SSQ_TEST_RAW_WAIT_MS

/* Generous limits unless a test sets its own. */
#define MEDIA_CONFIG "[media]\nuploads_per_minute=0\n"

/* ---- Helpers ---------------------------------------------------------- */

static SoupSession *
session (void)
{
  static SoupSession *s = NULL;

  if (s == NULL)
    s = soup_session_new_with_options ("timeout", 60, NULL);
  return s;
}

/* The server runs under valgrind or the like: its memory is the tool's. */
static gboolean
under_wrapper (void)
{
  const char *wrapper = g_getenv ("SSQ_SERVER_WRAPPER");

  return wrapper != NULL && wrapper[0] != '\0';
}

static GBytes *
random_bytes (gsize    length,
              guint32  seed)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  guint32 *words = g_new (guint32, length / 4 + 1);

  for (gsize i = 0; i < length / 4 + 1; i++)
    words[i] = g_rand_int (rand);
  return g_bytes_new_take (words, length);
}

/* POST /api/v1/media?name=@name with @data: the reply (the status in
 * @out_status). */
static JsonObject *
upload (SsqTestServer *s,
        const char    *token,
        const char    *name,
        GBytes        *data,
        guint         *out_status)
{
  g_autofree char *escaped = g_uri_escape_string (name, NULL, FALSE);
  g_autofree char *path = g_strconcat ("/api/v1/media?name=", escaped, NULL);
  gsize len;
  const char *bytes = g_bytes_get_data (data, &len);

  return ssq_test_http_raw (s, "POST", path, token, bytes ? bytes : "", len, out_status);
}

/* An upload that must succeed: its media object's id. */
static char *
upload_ok (SsqTestServer *s,
           const char    *token,
           const char    *name,
           GBytes        *data)
{
  guint status = 0;
  g_autoptr(JsonObject) reply = upload (s, token, name, data, &status);
  JsonObject *media;

  g_assert_cmpuint (status, ==, 201);
  media = json_object_get_object_member (reply, "media");
  g_assert_nonnull (media);
  g_assert_cmpint (json_object_get_int_member (media, "size"), ==, g_bytes_get_size (data));
  return g_strdup (json_object_get_string_member (media, "id"));
}

typedef struct {
  guint        status;
  SoupMessage *msg;
  GBytes      *body;
} Download;

static void
download_clear (Download *d)
{
  g_clear_object (&d->msg);
  g_clear_pointer (&d->body, g_bytes_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Download, download_clear)

/* @method @path with @token and the header pairs in @headers (NULL-ended). */
static void
fetch (SsqTestServer      *s,
       const char         *method,
       const char         *path,
       const char         *token,
       const char * const *headers,
       Download           *out)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *uri = g_strconcat (s->url, path, NULL);
  g_autofree char *auth = token ? g_strconcat ("Bearer ", token, NULL) : NULL;
  SoupMessageHeaders *h;

  out->msg = soup_message_new (method, uri);
  h = soup_message_get_request_headers (out->msg);
  if (auth != NULL)
    soup_message_headers_replace (h, "Authorization", auth);
  for (guint i = 0; headers != NULL && headers[i] != NULL; i += 2)
    soup_message_headers_replace (h, headers[i], headers[i + 1]);
  out->body = soup_session_send_and_read (session (), out->msg, NULL, &error);
  g_assert_no_error (error);
  out->status = soup_message_get_status (out->msg);
}

static void
get_media (SsqTestServer      *s,
           const char         *token,
           const char         *id,
           const char * const *headers,
           Download           *out)
{
  g_autofree char *path = g_strconcat ("/api/v1/media/", id, NULL);

  fetch (s, "GET", path, token, headers, out);
}

static const char *
header (Download   *d,
        const char *name)
{
  return soup_message_headers_get_one (soup_message_get_response_headers (d->msg), name);
}

static guint
media_status (SsqTestServer *s,
              const char    *token,
              const char    *id)
{
  g_auto(Download) d = { 0 };

  get_media (s, token, id, NULL, &d);
  return d.status;
}

static char *
sha256_of (GBytes *bytes)
{
  return g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, bytes);
}

/* Files of the store (DATA_DIR/media/xx/<sha256>), or of its upload area. */
static guint
count_files (SsqTestServer *s,
             gboolean       tmp)
{
  g_autofree char *root = g_build_filename (s->data_dir, "media", NULL);
  g_autoptr(GDir) dir = g_dir_open (root, 0, NULL);
  const char *name;
  guint n = 0;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (root, name, NULL);
      g_autoptr(GDir) sub = NULL;

      if (g_str_equal (name, "tmp") != tmp || (sub = g_dir_open (path, 0, NULL)) == NULL)
        continue;
      while (g_dir_read_name (sub) != NULL)
        n++;
    }
  return n;
}

static gboolean
tmp_empty_cb (gpointer data)
{
  return count_files (data, TRUE) == 0;
}

static gboolean
store_empty_cb (gpointer data)
{
  return count_files (data, FALSE) == 0;
}

/* The media rows in the server's database (read beside the server). */
static gint64
count_rows (SsqTestServer *s,
            const char    *sql)
{
  g_autofree char *path = g_build_filename (s->data_dir, "supersoniq.db", NULL);
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  gint64 n = -1;

  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  sqlite3_busy_timeout (db, 5000);
  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    n = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  return n;
}

static gint64
metric (SsqTestServer *s,
        const char    *name)
{
  g_auto(Download) d = { 0 };
  g_autofree char *text = NULL;
  g_autofree char *key = g_strconcat ("\n", name, " ", NULL);
  const char *at;

  fetch (s, "GET", "/metrics", NULL, NULL, &d);
  text = g_strndup (g_bytes_get_data (d.body, NULL), g_bytes_get_size (d.body));
  at = strstr (text, key);
  g_assert_nonnull (at);
  return g_ascii_strtoll (at + strlen (key), NULL, 10);
}

/* Posts a message carrying @media_json (an array of ids) in
 * @conversation_id through REST: the status, the reply in @out_reply. */
static guint
post_with_media (SsqTestServer  *s,
                 const char     *token,
                 const char     *conversation_id,
                 const char     *client_id,
                 const char     *media_json,
                 JsonObject    **out_reply)
{
  g_autofree char *path = g_strdup_printf ("/api/v1/conversations/%s/messages", conversation_id);
  g_autofree char *body = g_strdup_printf ("{\"client_id\":\"%s\",\"body\":\"see\",\"media\":%s}",
                                           client_id, media_json);
  guint status = 0;
  JsonObject *reply = ssq_test_http (s, "POST", path, token, body, &status);

  if (out_reply != NULL)
    *out_reply = reply;
  else if (reply != NULL)
    json_object_unref (reply);
  return status;
}

/* The head of an upload sent by hand: the body is the caller's to send. */
static char *
upload_head (const char *token,
             const char *name,
             const char *framing)
{
  return g_strdup_printf ("POST /api/v1/media?name=%s HTTP/1.1\r\nHost: x\r\n"
                          "Authorization: Bearer %s\r\n%s\r\n\r\n", name, token, framing);
}

/* ---- Round trip ------------------------------------------------------- */

/* 20 MB of random bytes up and down, equal by SHA-256; the upload streams
 * to disk (the server's memory grows far less than the body). */
static void
test_round_trip (void)
{
  g_autoptr(SsqTestServer) s = ssq_test_server_start (NULL, MEDIA_CONFIG);
  g_autoptr(SsqTestUser) alice = ssq_test_register (s, "alice");
  g_autoptr(GBytes) data = random_bytes (20 * MiB, 1);
  g_autoptr(JsonObject) reply = NULL;
  g_auto(Download) d = { 0 };
  g_autofree char *sent_hash = sha256_of (data);
  g_autofree char *got_hash = NULL;
  g_autofree char *store_path = NULL;
  JsonObject *media;
  guint status = 0;
  gsize baseline, growth;
  gint64 t0, t1, t2;

  baseline = ssq_test_rss_baseline (s);
  t0 = g_get_monotonic_time ();
  reply = upload (s, alice->token, "random.bin", data, &status);
  t1 = g_get_monotonic_time ();
  growth = ssq_test_rss_growth_kb (s, baseline);
  g_assert_cmpuint (status, ==, 201);
  media = json_object_get_object_member (reply, "media");
  g_assert_cmpstr (json_object_get_string_member (media, "name"), ==, "random.bin");
  g_assert_cmpstr (json_object_get_string_member (media, "mime"), ==, "application/octet-stream");
  g_assert_cmpint (json_object_get_int_member (media, "size"), ==, 20 * MiB);
  g_assert_true (json_object_get_null_member (media, "width"));
  g_assert_true (json_object_get_null_member (media, "height"));

  get_media (s, alice->token, json_object_get_string_member (media, "id"), NULL, &d);
  t2 = g_get_monotonic_time ();
  g_assert_cmpuint (d.status, ==, 200);
  got_hash = sha256_of (d.body);
  g_assert_cmpstr (got_hash, ==, sent_hash);
  g_assert_cmpstr (header (&d, "Content-Type"), ==, "application/octet-stream");
  g_assert_cmpstr (header (&d, "X-Content-Type-Options"), ==, "nosniff");
  g_assert_true (g_str_has_prefix (header (&d, "Content-Disposition"), "attachment;"));
  /* On disk under its hash, and nothing left in the upload area. */
  store_path = g_build_filename (s->data_dir, "media", (char[]) { sent_hash[0], sent_hash[1], 0 },
                                 sent_hash, NULL);
  g_assert_true (g_file_test (store_path, G_FILE_TEST_IS_REGULAR));
  g_assert_cmpuint (count_files (s, TRUE), ==, 0);
  g_test_message ("20 MB: upload %.0f ms (%.0f MB/s), download %.0f ms, server RSS growth "
                  "%" G_GSIZE_FORMAT " KiB during the upload",
                  (t1 - t0) / 1e3, 20.0 * MiB / 1e6 / ((t1 - t0) / 1e6), (t2 - t1) / 1e3,
                  growth);
  /* A buffered body would take 20 MB: a streamed one takes its queue.
   * (Not under a wrapper such as valgrind, whose own memory grows.) */
  if (!under_wrapper ())
    g_assert_cmpuint (growth, <, 12 * 1024);
}

/* ---- Downloads: ETag, Range, headers ---------------------------------- */

static void
test_ranges_and_etag (void)
{
  g_autoptr(SsqTestServer) s = ssq_test_server_start (NULL, MEDIA_CONFIG);
  g_autoptr(SsqTestUser) alice = ssq_test_register (s, "alice");
  g_autoptr(GBytes) data = random_bytes (1000, 2);
  const guint8 *bytes = g_bytes_get_data (data, NULL);
  g_autofree char *id = upload_ok (s, alice->token, "d\xc3\xa9j\xc3\xa0 \"vu\".dat", data);
  g_autofree char *etag = NULL;

  {
    g_auto(Download) d = { 0 };

    get_media (s, alice->token, id, NULL, &d);
    g_assert_cmpuint (d.status, ==, 200);
    etag = g_strdup (header (&d, "ETag"));
    g_assert_nonnull (etag);
    g_assert_cmpstr (header (&d, "Accept-Ranges"), ==, "bytes");
    /* The name for old clients in ASCII, and as it is (RFC 5987). */
    g_assert_cmpstr (header (&d, "Content-Disposition"), ==,
                     "attachment; filename=\"d_j_ _vu_.dat\"; "
                     "filename*=UTF-8''d%C3%A9j%C3%A0%20%22vu%22.dat");
  }
  {
    const char *h[] = { "Range", "bytes=10-19", NULL };
    g_auto(Download) d = { 0 };

    get_media (s, alice->token, id, h, &d);
    g_assert_cmpuint (d.status, ==, 206);
    g_assert_cmpstr (header (&d, "Content-Range"), ==, "bytes 10-19/1000");
    g_assert_cmpuint (g_bytes_get_size (d.body), ==, 10);
    g_assert_cmpmem (g_bytes_get_data (d.body, NULL), 10, bytes + 10, 10);
  }
  {
    const char *h[] = { "Range", "bytes=-100", NULL };
    g_auto(Download) d = { 0 };

    get_media (s, alice->token, id, h, &d);
    g_assert_cmpuint (d.status, ==, 206);
    g_assert_cmpstr (header (&d, "Content-Range"), ==, "bytes 900-999/1000");
    g_assert_cmpmem (g_bytes_get_data (d.body, NULL), 100, bytes + 900, 100);
  }
  {
    /* Open-ended, and an end past the file: both to its last byte. */
    const char *h1[] = { "Range", "bytes=990-", NULL };
    const char *h2[] = { "Range", "bytes=995-5000", NULL };
    g_auto(Download) d1 = { 0 };
    g_auto(Download) d2 = { 0 };

    get_media (s, alice->token, id, h1, &d1);
    get_media (s, alice->token, id, h2, &d2);
    g_assert_cmpuint (d1.status, ==, 206);
    g_assert_cmpuint (g_bytes_get_size (d1.body), ==, 10);
    g_assert_cmpstr (header (&d2, "Content-Range"), ==, "bytes 995-999/1000");
  }
  {
    const char *h[] = { "Range", "bytes=1000-1010", NULL };
    g_auto(Download) d = { 0 };

    get_media (s, alice->token, id, h, &d);
    g_assert_cmpuint (d.status, ==, 416);
    g_assert_cmpstr (header (&d, "Content-Range"), ==, "bytes */1000");
  }
  {
    /* Several ranges, or a Range after a changed If-Range: the whole. */
    const char *h1[] = { "Range", "bytes=0-1,5-6", NULL };
    const char *h2[] = { "Range", "bytes=0-1", "If-Range", "\"other\"", NULL };
    g_auto(Download) d1 = { 0 };
    g_auto(Download) d2 = { 0 };

    get_media (s, alice->token, id, h1, &d1);
    get_media (s, alice->token, id, h2, &d2);
    g_assert_cmpuint (d1.status, ==, 200);
    g_assert_cmpuint (g_bytes_get_size (d1.body), ==, 1000);
    g_assert_cmpuint (d2.status, ==, 200);
  }
  {
    const char *h1[] = { "If-None-Match", etag, NULL };
    const char *h2[] = { "If-None-Match", "\"x\", W/\"y\"", NULL };
    g_auto(Download) d1 = { 0 };
    g_auto(Download) d2 = { 0 };

    get_media (s, alice->token, id, h1, &d1);
    g_assert_cmpuint (d1.status, ==, 304);
    g_assert_cmpuint (g_bytes_get_size (d1.body), ==, 0);
    g_assert_cmpstr (header (&d1, "ETag"), ==, etag);
    get_media (s, alice->token, id, h2, &d2);
    g_assert_cmpuint (d2.status, ==, 200);
  }
  {
    g_autofree char *path = g_strconcat ("/api/v1/media/", id, NULL);
    g_auto(Download) d = { 0 };

    fetch (s, "HEAD", path, alice->token, NULL, &d);
    g_assert_cmpuint (d.status, ==, 200);
    g_assert_cmpstr (header (&d, "Content-Length"), ==, "1000");
    g_assert_cmpuint (g_bytes_get_size (d.body), ==, 0);
  }
  /* The connection stays usable after all of these (keep-alive). */
  g_assert_cmpuint (media_status (s, alice->token, id), ==, 200);
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
      g_auto(Download) d = { 0 };
      guint status = 0;
      JsonObject *media;

      /* libsoup sends the body as application/json: a lie, unheard. */
      reply = upload (s, alice->token, cases[i].name, data, &status);
      g_test_message ("%s", cases[i].name);
      g_assert_cmpuint (status, ==, 201);
      media = json_object_get_object_member (reply, "media");
      g_assert_cmpstr (json_object_get_string_member (media, "mime"), ==, cases[i].mime);
      get_media (s, alice->token, json_object_get_string_member (media, "id"), NULL, &d);
      g_assert_cmpstr (header (&d, "Content-Type"), ==, cases[i].mime);
      g_assert_true (g_str_has_prefix (header (&d, "Content-Disposition"), cases[i].disposition));
      g_assert_nonnull (strstr (header (&d, "Content-Security-Policy"), "sandbox"));
    }
  /* Names: the last path component; none, or nothing left, is refused. */
  {
    g_autoptr(GBytes) data = g_bytes_new_static ("x", 1);
    g_autoptr(JsonObject) r1 = NULL, r2 = NULL, r3 = NULL, r4 = NULL;
    guint status = 0;

    r1 = upload (s, alice->token, "../../etc/passwd", data, &status);
    g_assert_cmpuint (status, ==, 201);
    g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (r1, "media"),
                                                    "name"), ==, "passwd");
    r2 = upload (s, alice->token, "dir/", data, &status);
    g_assert_cmpuint (status, ==, 400);
    r3 = ssq_test_http_raw (s, "POST", "/api/v1/media", alice->token, "x", 1, &status);
    g_assert_cmpuint (status, ==, 400);
    r4 = upload (s, alice->token, "tab\there", data, &status);
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
  g_autoptr(GBytes) data = random_bytes (5000, 3);
  g_autofree char *id = upload_ok (s, alice->token, "secret.bin", data);
  g_autofree char *ids = g_strdup_printf ("[\"%s\"]", id);
  g_autofree char *ab = ssq_test_create_conversation (s, alice,
                                                      "{\"kind\":\"direct\",\"members\":[\"bob\"]}");
  g_autofree char *bc = ssq_test_create_conversation (s, bob,
                                                      "{\"kind\":\"direct\",\"members\":[\"carol\"]}");
  g_autofree char *hidden_path = g_strconcat ("/api/v1/media/", id, NULL);
  g_auto(Download) hidden = { 0 };
  g_auto(Download) unknown = { 0 };

  g_assert_cmpuint (media_status (s, alice->token, id), ==, 200);
  fetch (s, "GET", hidden_path, bob->token, NULL, &hidden);
  fetch (s, "GET", "/api/v1/media/f000000000000000000000000", bob->token, NULL, &unknown);
  g_assert_cmpuint (hidden.status, ==, 404);
  g_assert_cmpuint (unknown.status, ==, 404);
  g_assert_true (g_bytes_equal (hidden.body, unknown.body));
  /* Without a token: 401, as every authenticated route. */
  g_assert_cmpuint (media_status (s, NULL, id), ==, 401);
  /* Bob may not attach what he cannot see. */
  g_assert_cmpuint (post_with_media (s, bob->token, bc, "b1", ids, NULL), ==, 404);

  /* Sent to bob: bob sees it, carol still does not. */
  g_assert_cmpuint (post_with_media (s, alice->token, ab, "a1", ids, NULL), ==, 201);
  g_assert_cmpuint (media_status (s, bob->token, id), ==, 200);
  g_assert_cmpuint (media_status (s, carol->token, id), ==, 404);
  /* Bob passes it on to carol: now she does. */
  g_assert_cmpuint (post_with_media (s, bob->token, bc, "b2", ids, NULL), ==, 201);
  g_assert_cmpuint (media_status (s, carol->token, id), ==, 200);
  /* No thumbnail yet, for anyone who sees it; 404 too for who does not. */
  {
    g_autofree char *path = g_strconcat ("/api/v1/media/", id, "/thumbnail", NULL);
    g_auto(Download) t1 = { 0 };
    g_auto(Download) t2 = { 0 };

    fetch (s, "GET", path, alice->token, NULL, &t1);
    g_assert_cmpuint (t1.status, ==, 404);
    g_assert_cmpuint (count_rows (s, "SELECT COUNT(*) FROM media WHERE thumbnail_hash IS NULL"),
                      ==, 1);
    ssq_test_user_free (g_steal_pointer (&carol));
    carol = ssq_test_register (s, "carol2");
    fetch (s, "GET", path, carol->token, NULL, &t2);
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
  g_autoptr(GBytes) one = random_bytes (100, 4);
  g_autoptr(GBytes) two = random_bytes (200, 5);
  g_autofree char *id1 = upload_ok (s, alice->token, "one.bin", one);
  g_autofree char *id2 = upload_ok (s, alice->token, "two.bin", two);
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
  g_autoptr(GBytes) data = random_bytes (10, 6);
  g_autofree char *id = upload_ok (s, alice->token, "a.bin", data);
  g_autofree char *conv = ssq_test_create_conversation (s, alice,
                                                        "{\"kind\":\"group\",\"title\":\"t\",\"members\":[]}");
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

  g_assert_cmpuint (post_with_media (s, alice->token, conv, "r1", "[\"nope\"]", &reply), ==, 404);
  g_assert_cmpstr (ssq_test_error_code (reply), ==, "not_found");
  g_clear_pointer (&reply, json_object_unref);
  g_assert_cmpuint (post_with_media (s, alice->token, conv, "r2", "[42]", NULL), ==, 400);
  g_assert_cmpuint (post_with_media (s, alice->token, conv, "r3", dup, NULL), ==, 400);
  g_assert_cmpuint (post_with_media (s, alice->token, conv, "r4", many->str, NULL), ==, 400);
  g_assert_cmpuint (post_with_media (s, alice->token, conv, "r5", "\"x\"", NULL), ==, 400);
  error = ssq_test_ws_request (ws, frame);
  g_assert_cmpstr (json_object_get_string_member (error, "type"), ==, "error");
  g_assert_cmpstr (json_object_get_string_member (error, "code"), ==, "not_found");
  g_assert_cmpint (count_rows (s, "SELECT COUNT(*) FROM messages"), ==, 0);
  g_assert_cmpint (count_rows (s, "SELECT COUNT(*) FROM message_media"), ==, 0);
}

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
  g_autofree char *head = upload_head (alice->token, "big.bin", "Content-Length: 2000000000");
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
  if (!under_wrapper ())
    g_assert_cmpuint (ssq_test_rss_growth_kb (s, baseline), <, 8 * 1024);
  g_assert_cmpuint (count_files (s, TRUE), ==, 0);
  g_assert_cmpint (count_rows (s, "SELECT COUNT(*) FROM media"), ==, 0);
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
  g_autofree char *head = upload_head (alice->token, "c.bin", "Transfer-Encoding: chunked");
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
  g_assert_true (ssq_test_wait_until (tmp_empty_cb, s, WAIT_MS));
  g_assert_cmpuint (count_files (s, FALSE), ==, 0);
  g_assert_cmpint (count_rows (s, "SELECT COUNT(*) FROM media"), ==, 0);

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
 * chunked one once whole; other users are not affected. */
static void
test_quota (void)
{
  g_autoptr(SsqTestServer) s = ssq_test_server_start (NULL, MEDIA_CONFIG
                                                      "quota_per_user=3145728\n");
  g_autoptr(SsqTestUser) alice = ssq_test_register (s, "alice");
  g_autoptr(SsqTestUser) bob = ssq_test_register (s, "bob");
  g_autoptr(GBytes) two = random_bytes (2 * MiB, 7);
  g_autoptr(GBytes) other = random_bytes (2 * MiB, 8);
  g_autoptr(GBytes) small = g_bytes_new_static ("x", 1);
  g_autofree char *id = upload_ok (s, alice->token, "two.bin", two);
  g_autofree char *head = upload_head (alice->token, "more.bin", "Content-Length: 2097152");
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
    g_autofree char *chunked = upload_head (alice->token, "more.bin", "Transfer-Encoding: chunked");
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
  g_assert_true (ssq_test_wait_until (tmp_empty_cb, s, WAIT_MS));
  g_assert_cmpuint (count_files (s, FALSE), ==, 1);
  g_free (upload_ok (s, bob->token, "other.bin", other));
  g_assert_cmpuint (count_files (s, FALSE), ==, 2);
  /* A small one still fits alice's. */
  reply = upload (s, alice->token, "small.bin", small, &status);
  g_assert_cmpuint (status, ==, 201);
}

/* uploads_per_minute, refused before the body. */
static void
test_rate_limit (void)
{
  g_autoptr(SsqTestServer) s = ssq_test_server_start (NULL, "[media]\nuploads_per_minute=2\n");
  g_autoptr(SsqTestUser) alice = ssq_test_register (s, "alice");
  g_autoptr(GBytes) data = g_bytes_new_static ("abc", 3);
  g_autofree char *id1 = upload_ok (s, alice->token, "1", data);
  g_autofree char *id2 = upload_ok (s, alice->token, "2", data);
  g_autoptr(SsqTestRaw) c = ssq_test_raw_open (s);
  g_auto(SsqTestRawResponse) r = { 0 };
  g_autofree char *head = upload_head (alice->token, "3", "Content-Length: 1000000");
  g_autofree char *retry = NULL;

  g_assert_true (ssq_test_raw_send_str (c, head));
  g_assert_true (ssq_test_raw_read_response (c, WAIT_MS, &r));
  g_assert_cmpuint (r.status, ==, 429);
  g_assert_nonnull (strstr (r.body, "\"retry_after_ms\""));
  retry = ssq_test_raw_head_header (r.head, "Retry-After");
  g_assert_nonnull (retry);
}

/* ---- One file per content ---------------------------------------------- */

static void
test_dedup (void)
{
  g_autoptr(SsqTestServer) s = ssq_test_server_start (NULL, MEDIA_CONFIG);
  g_autoptr(SsqTestUser) alice = ssq_test_register (s, "alice");
  g_autoptr(SsqTestUser) bob = ssq_test_register (s, "bob");
  g_autoptr(GBytes) data = random_bytes (1 * MiB, 9);
  g_autofree char *id1 = upload_ok (s, alice->token, "a.bin", data);
  g_autofree char *id2 = upload_ok (s, bob->token, "b.bin", data);
  g_autofree char *id3 = upload_ok (s, alice->token, "again.bin", data);

  g_assert_cmpstr (id1, !=, id2);
  g_assert_cmpstr (id1, !=, id3);
  g_assert_cmpuint (count_files (s, FALSE), ==, 1);
  g_assert_cmpint (count_rows (s, "SELECT COUNT(DISTINCT sha256) FROM media"), ==, 1);
  g_assert_cmpint (count_rows (s, "SELECT COUNT(*) FROM media"), ==, 3);
  g_assert_cmpint (metric (s, "ssq_media_bytes_stored"), ==, 1 * MiB);
  g_assert_cmpint (metric (s, "ssq_media_uploads_total"), ==, 3);
  /* Each is its own media, with its own name. */
  {
    g_auto(Download) d = { 0 };

    get_media (s, bob->token, id2, NULL, &d);
    g_assert_nonnull (strstr (header (&d, "Content-Disposition"), "b.bin"));
    g_assert_cmpuint (media_status (s, bob->token, id1), ==, 404);
  }
}

/* ---- Crashes and vanishing clients ------------------------------------ */

static gboolean
tmp_has_bytes_cb (gpointer data)
{
  SsqTestServer *s = data;
  g_autofree char *tmp = g_build_filename (s->data_dir, "media", "tmp", NULL);
  g_autoptr(GDir) dir = g_dir_open (tmp, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (tmp, name, NULL);
      GStatBuf st;

      if (g_stat (path, &st) == 0 && st.st_size > 0)
        return TRUE;
    }
  return FALSE;
}

/* SIGKILL with half a body written: the temporary file stays behind the
 * dead server, and the next start removes it; no media row exists. */
static void
test_sigkill_mid_upload (void)
{
  g_autofree char *dir = g_dir_make_tmp ("ssq-media-XXXXXX", NULL);
  g_autoptr(SsqTestServer) s = ssq_test_server_start (dir, MEDIA_CONFIG);
  g_autoptr(SsqTestUser) alice = ssq_test_register (s, "alice");
  g_autoptr(SsqTestRaw) c = ssq_test_raw_open (s);
  g_autoptr(GBytes) half = random_bytes (4 * MiB, 10);
  g_autofree char *head = upload_head (alice->token, "half.bin", "Content-Length: 8388608");

  g_assert_true (ssq_test_raw_send_str (c, head));
  g_assert_cmpuint (ssq_test_raw_send (c, g_bytes_get_data (half, NULL), 4 * MiB, WAIT_MS), ==,
                    4 * MiB);
  g_assert_true (ssq_test_wait_until (tmp_has_bytes_cb, s, WAIT_MS));
  ssq_test_server_kill (s);
  g_assert_cmpuint (count_files (s, TRUE), ==, 1);

  ssq_test_server_restart (s);
  g_assert_cmpuint (count_files (s, TRUE), ==, 0);
  g_assert_cmpuint (count_files (s, FALSE), ==, 0);
  g_assert_cmpint (count_rows (s, "SELECT COUNT(*) FROM media"), ==, 0);
  /* And uploads work again. */
  {
    g_autoptr(GBytes) data = random_bytes (1000, 11);

    g_free (upload_ok (s, alice->token, "after.bin", data));
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
  g_autoptr(GBytes) part = random_bytes (3 * MiB, 12);
  g_autofree char *head = upload_head (alice->token, "gone.bin", "Content-Length: 8388608");

  for (guint i = 0; i < 3; i++)
    {
      SsqTestRaw *c = ssq_test_raw_open (s);

      g_assert_true (ssq_test_raw_send_str (c, head));
      g_assert_cmpuint (ssq_test_raw_send (c, g_bytes_get_data (part, NULL), 3 * MiB, WAIT_MS),
                        ==, 3 * MiB);
      if (i == 0)
        g_assert_true (ssq_test_wait_until (tmp_has_bytes_cb, s, WAIT_MS));
      ssq_test_raw_close (c);
    }
  g_assert_true (ssq_test_wait_until (tmp_empty_cb, s, WAIT_MS));
  g_assert_cmpint (count_rows (s, "SELECT COUNT(*) FROM media"), ==, 0);
  ssq_test_assert_healthz (s);
  g_free (upload_ok (s, bob->token, "still.bin", part));
  g_assert_cmpuint (count_files (s, FALSE), ==, 1);
}

/* ---- Lifetime ---------------------------------------------------------- */

static gboolean
gone_cb (gpointer data)
{
  const char *const *args = data;
  SsqTestServer *s = (SsqTestServer *) args[0];

  return media_status (s, args[1], args[2]) == 404;
}

/* An upload no message carries goes after orphan_expiry; one sent stays. */
static void
test_orphan_expiry (void)
{
  g_autoptr(SsqTestServer) s = ssq_test_server_start (NULL, MEDIA_CONFIG "orphan_expiry=1\n");
  g_autoptr(SsqTestUser) alice = ssq_test_register (s, "alice");
  g_autoptr(GBytes) a = random_bytes (3000, 13);
  g_autoptr(GBytes) b = random_bytes (4000, 14);
  g_autofree char *orphan = upload_ok (s, alice->token, "orphan.bin", a);
  g_autofree char *kept = upload_ok (s, alice->token, "kept.bin", b);
  g_autofree char *ids = g_strdup_printf ("[\"%s\"]", kept);
  g_autofree char *conv = ssq_test_create_conversation (s, alice,
                                                        "{\"kind\":\"group\",\"title\":\"t\",\"members\":[]}");
  const char *args[] = { (const char *) s, alice->token, orphan };
  gint64 t0 = g_get_monotonic_time ();

  g_assert_cmpuint (post_with_media (s, alice->token, conv, "k", ids, NULL), ==, 201);
  g_assert_cmpuint (count_files (s, FALSE), ==, 2);
  g_assert_true (ssq_test_wait_until (gone_cb, args, 15000));
  g_test_message ("the orphan went after %.1f s", (g_get_monotonic_time () - t0) / 1e6);
  g_assert_true (ssq_test_wait_until (tmp_empty_cb, s, WAIT_MS));
  g_assert_cmpuint (count_files (s, FALSE), ==, 1);
  g_assert_cmpuint (media_status (s, alice->token, kept), ==, 200);
  g_assert_cmpint (count_rows (s, "SELECT COUNT(*) FROM media"), ==, 1);
}

/* A media goes with the last message carrying it: its row, and its file
 * when no other media has the same bytes. */
static void
test_deleted_with_message (void)
{
  g_autoptr(SsqTestServer) s = ssq_test_server_start (NULL, MEDIA_CONFIG);
  g_autoptr(SsqTestUser) alice = ssq_test_register (s, "alice");
  g_autoptr(GBytes) data = random_bytes (5000, 15);
  g_autofree char *id = upload_ok (s, alice->token, "x.bin", data);
  g_autofree char *twin = upload_ok (s, alice->token, "twin.bin", data);
  g_autofree char *ids = g_strdup_printf ("[\"%s\"]", id);
  g_autofree char *twin_ids = g_strdup_printf ("[\"%s\"]", twin);
  g_autofree char *conv = ssq_test_create_conversation (s, alice,
                                                        "{\"kind\":\"group\",\"title\":\"t\",\"members\":[]}");
  g_autofree char *m1 = g_strdup_printf ("/api/v1/conversations/%s/messages/1", conv);
  g_autofree char *m2 = g_strdup_printf ("/api/v1/conversations/%s/messages/2", conv);
  g_autofree char *m3 = g_strdup_printf ("/api/v1/conversations/%s/messages/3", conv);
  g_autoptr(JsonObject) r1 = NULL, r2 = NULL, r3 = NULL;
  guint status = 0;

  g_assert_cmpuint (post_with_media (s, alice->token, conv, "1", ids, NULL), ==, 201);
  g_assert_cmpuint (post_with_media (s, alice->token, conv, "2", ids, NULL), ==, 201);
  g_assert_cmpuint (post_with_media (s, alice->token, conv, "3", twin_ids, NULL), ==, 201);
  r1 = ssq_test_http (s, "DELETE", m1, alice->token, NULL, &status);
  g_assert_cmpuint (status, ==, 204);
  g_assert_cmpuint (media_status (s, alice->token, id), ==, 200);     /* message 2 carries it */
  r2 = ssq_test_http (s, "DELETE", m2, alice->token, NULL, &status);
  g_assert_cmpuint (status, ==, 204);
  g_assert_cmpuint (media_status (s, alice->token, id), ==, 404);
  g_assert_cmpint (count_rows (s, "SELECT COUNT(*) FROM media"), ==, 1);
  /* Its twin (same bytes) keeps the file. */
  g_assert_cmpuint (count_files (s, FALSE), ==, 1);
  g_assert_cmpuint (media_status (s, alice->token, twin), ==, 200);
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
  g_assert_cmpuint (media_status (s, alice->token, twin), ==, 404);
  g_assert_true (ssq_test_wait_until (store_empty_cb, s, WAIT_MS));
  g_assert_true (ssq_test_wait_until (tmp_empty_cb, s, WAIT_MS));
  g_assert_cmpint (count_rows (s, "SELECT COUNT(*) FROM media"), ==, 0);
  g_assert_cmpint (metric (s, "ssq_media_bytes_stored"), ==, 0);
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
  g_test_add_func ("/server/media/oversize-unread", test_oversize_unread);
  g_test_add_func ("/server/media/chunked-over-limit", test_chunked_over_limit);
  g_test_add_func ("/server/media/quota", test_quota);
  g_test_add_func ("/server/media/rate-limit", test_rate_limit);
  g_test_add_func ("/server/media/dedup", test_dedup);
  g_test_add_func ("/server/media/sigkill-mid-upload", test_sigkill_mid_upload);
  g_test_add_func ("/server/media/vanish-mid-upload", test_vanish_mid_upload);
  g_test_add_func ("/server/media/orphan-expiry", test_orphan_expiry);
  g_test_add_func ("/server/media/deleted-with-message", test_deleted_with_message);
  return g_test_run ();
}
