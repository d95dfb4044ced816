/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-test-media.c: what the media tests share: uploads and downloads
 * through libsoup, the media store on disk and the rows in the database
 * of a test server. */
#include "ssq-test-media.h"
#include "ssq-test-raw.h"

#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>

static SoupSession *
session (void)
{
  static SoupSession *s = NULL;

  if (s == NULL)
    s = soup_session_new_with_options ("timeout", 60, NULL);
  return s;
}

/* The server runs under valgrind or the like, or AddressSanitizer: its
 * memory is the tool's. */
gboolean
ssq_test_under_wrapper (void)
{
  const char *wrapper = g_getenv ("SSQ_SERVER_WRAPPER");

#if defined(__SANITIZE_ADDRESS__)
  /* The server is built like this test: AddressSanitizer keeps freed
   * memory in quarantine (256 MB), so its RSS grows with what passed
   * through it, streamed or not. */
  return TRUE;
#endif
  return wrapper != NULL && wrapper[0] != '\0';
}

GBytes *
ssq_test_random_bytes (gsize    length,
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
JsonObject *
ssq_test_media_upload (SsqTestServer *s,
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
char *
ssq_test_media_upload_ok (SsqTestServer *s,
                          const char    *token,
                          const char    *name,
                          GBytes        *data)
{
  guint status = 0;
  g_autoptr(JsonObject) reply = ssq_test_media_upload (s, token, name, data, &status);
  JsonObject *media;

  g_assert_cmpuint (status, ==, 201);
  media = json_object_get_object_member (reply, "media");
  g_assert_nonnull (media);
  g_assert_cmpint (json_object_get_int_member (media, "size"), ==, g_bytes_get_size (data));
  return g_strdup (json_object_get_string_member (media, "id"));
}

void
ssq_test_download_clear (SsqTestDownload *d)
{
  g_clear_object (&d->msg);
  g_clear_pointer (&d->body, g_bytes_unref);
}

/* @method @path with @token and the header pairs in @headers (NULL-ended). */
void
ssq_test_fetch (SsqTestServer      *s,
                const char         *method,
                const char         *path,
                const char         *token,
                const char * const *headers,
                SsqTestDownload           *out)
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

void
ssq_test_media_get (SsqTestServer      *s,
                    const char         *token,
                    const char         *id,
                    const char * const *headers,
                    SsqTestDownload           *out)
{
  g_autofree char *path = g_strconcat ("/api/v1/media/", id, NULL);

  ssq_test_fetch (s, "GET", path, token, headers, out);
}

const char *
ssq_test_download_header (SsqTestDownload   *d,
                          const char *name)
{
  return soup_message_headers_get_one (soup_message_get_response_headers (d->msg), name);
}

guint
ssq_test_media_status (SsqTestServer *s,
                       const char    *token,
                       const char    *id)
{
  g_auto(SsqTestDownload) d = { 0 };

  ssq_test_media_get (s, token, id, NULL, &d);
  return d.status;
}

char *
ssq_test_sha256 (GBytes *bytes)
{
  return g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, bytes);
}

/* Files of the store (DATA_DIR/media/xx/<sha256>), or of its upload area. */
guint
ssq_test_media_files (SsqTestServer *s,
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

/* Waits until the store (or the upload area) holds @n files. */
gboolean
ssq_test_media_wait_files (SsqTestServer *s,
                           gboolean       tmp,
                           guint          n,
                           guint          timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  while (ssq_test_media_files (s, tmp) != n && g_get_monotonic_time () < deadline)
    g_usleep (20000);
  return ssq_test_media_files (s, tmp) == n;
}

gboolean
ssq_test_media_tmp_empty_cb (gpointer data)
{
  return ssq_test_media_files (data, TRUE) == 0;
}

gboolean
ssq_test_media_store_empty_cb (gpointer data)
{
  return ssq_test_media_files (data, FALSE) == 0;
}

/* The media rows in the server's database (read beside the server). */
gint64
ssq_test_db_count (SsqTestServer *s,
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

gint64
ssq_test_metric (SsqTestServer *s,
                 const char    *name)
{
  g_auto(SsqTestDownload) d = { 0 };
  g_autofree char *text = NULL;

  ssq_test_fetch (s, "GET", "/metrics", NULL, NULL, &d);
  text = g_strndup (g_bytes_get_data (d.body, NULL), g_bytes_get_size (d.body));
  return (gint64) ssq_test_metrics_value (text, name);
}

/* Posts a message carrying @media_json (an array of ids) in
 * @conversation_id through REST: the status, the reply in @out_reply. */
guint
ssq_test_post_with_media (SsqTestServer  *s,
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
char *
ssq_test_media_upload_head (const char *token,
                            const char *name,
                            const char *framing)
{
  return g_strdup_printf ("POST /api/v1/media?name=%s HTTP/1.1\r\nHost: x\r\n"
                          "Authorization: Bearer %s\r\n%s\r\n\r\n", name, token, framing);
}

gboolean
ssq_test_media_tmp_has_bytes_cb (gpointer data)
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

gboolean
ssq_test_bytes_contain (GBytes     *bytes,
                        const char *needle)
{
  return memmem (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), needle, strlen (needle)) != NULL;
}
