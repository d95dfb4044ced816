/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-client-media.c: SsqClient's media against the real server binary,
 * with real files: uploads with progress and cancellation, downloads into
 * the download cache (checked, resumed, capped), thumbnails, and messages
 * with attachments through the outbox, across restarts of either side. */
#include "ssq-display.h"
#include "ssq-proto.h"
#include "ssq-test-client.h"
#include "ssq-test-images.h"
#include "ssq-test-media.h"

#include <glib/gstdio.h>
#include <string.h>

#define MEDIA_CONFIG "[media]\nuploads_per_minute=0\n"
#define BIG (20 * 1024 * 1024)
/* Transfers of megabytes on a busy machine: more than a message's wait. */
#define TRANSFER_WAIT_MS 60000

/* A file of @size random bytes in @dir; its bytes in @out_bytes. */
static GFile *
random_file (const char  *dir,
             const char  *name,
             gsize        size,
             guint32      seed,
             GBytes     **out_bytes)
{
  g_autoptr(GBytes) bytes = ssq_test_random_bytes (size, seed);
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, g_bytes_get_data (bytes, NULL), size, &error);
  g_assert_no_error (error);
  if (out_bytes != NULL)
    *out_bytes = g_bytes_ref (bytes);
  return g_file_new_for_path (path);
}

static char *
file_sha256 (GFile *file)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = g_file_load_bytes (file, NULL, NULL, &error);

  g_assert_no_error (error);
  return ssq_test_sha256 (bytes);
}

/* Every value a transfer's "progress" signal gave. */
typedef struct {
  GArray  *done;        /* guint64 */
  guint64  total;
  guint64  cancel_at;   /* cancel the transfer once past this; 0 never */
  SsqTestServer *kill_at_server; /* or kill this server then */
  gboolean acted;
} Progress;

static void
progress_cb (SsqTransfer *transfer,
             guint64      done,
             guint64      total,
             Progress    *p)
{
  g_array_append_val (p->done, done);
  p->total = total;
  if (p->cancel_at == 0 || done < p->cancel_at || p->acted)
    return;
  p->acted = TRUE;
  if (p->kill_at_server != NULL)
    ssq_test_server_kill (p->kill_at_server);
  else
    ssq_transfer_cancel (transfer);
}

static gboolean
acted (gpointer data)
{
  return ((Progress *) data)->acted;
}

static void
progress_init (Progress *p)
{
  *p = (Progress) { g_array_new (FALSE, FALSE, sizeof (guint64)) };
}

static void
progress_clear (Progress *p)
{
  g_array_unref (p->done);
}

static void
assert_monotonic (Progress *p,
                  guint64   last)
{
  g_assert_cmpuint (p->done->len, >, 1);
  for (guint i = 1; i < p->done->len; i++)
    g_assert_cmpuint (g_array_index (p->done, guint64, i), >=, g_array_index (p->done, guint64, i - 1));
  g_assert_cmpuint (g_array_index (p->done, guint64, p->done->len - 1), ==, last);
}

static SsqMedia *
upload (SsqTestClient *tc,
        GFile         *file,
        Progress      *p,
        GError       **error)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(SsqTransfer) transfer = ssq_client_upload_async (tc->client, file, NULL, NULL,
                                                             ssq_test_store_result, &result);

  if (p != NULL)
    g_signal_connect (transfer, "progress", G_CALLBACK (progress_cb), p);
  ssq_test_wait_result (&result, TRANSFER_WAIT_MS);
  g_assert_true (ssq_transfer_get_finished (transfer));
  if (p != NULL)
    g_signal_handlers_disconnect_by_data (transfer, p);
  return ssq_client_upload_finish (tc->client, result, error);
}

static GFile *
download (SsqTestClient *tc,
          const char    *media_id,
          Progress      *p,
          SsqTransfer  **out_transfer,
          GError       **error)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(SsqTransfer) transfer = ssq_client_download_async (tc->client, media_id, NULL,
                                                               ssq_test_store_result, &result);

  if (p != NULL)
    g_signal_connect (transfer, "progress", G_CALLBACK (progress_cb), p);
  ssq_test_wait_result (&result, TRANSFER_WAIT_MS);
  if (p != NULL)
    g_signal_handlers_disconnect_by_data (transfer, p);
  if (out_transfer != NULL)
    *out_transfer = g_object_ref (transfer);
  return ssq_client_download_finish (tc->client, result, error);
}

/* Sends @files with @body from @tc, and waits until the outbox holds the
 * message: the pending message. */
static SsqMessage *
send_with_files (SsqTestClient *tc,
                 const char    *conversation_id,
                 const char    *body,
                 GFile        **files,
                 guint          n_files)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  SsqMessage *pending;

  ssq_client_send_message_with_media_async (tc->client, conversation_id, body, 0, files, n_files, NULL,
                                            ssq_test_store_result, &result);
  pending = ssq_client_send_message_with_media_finish (tc->client, ssq_test_client_wait_result (&result),
                                                       &error);
  g_assert_no_error (error);
  g_assert_true (ssq_message_is_pending (pending));
  return pending;
}

static gboolean
outbox_empty (gpointer data)
{
  return ssq_cache_outbox_count (ssq_client_get_cache (((SsqTestClient *) data)->client)) == 0;
}

static guint
files_in (const char *dir)
{
  g_autoptr(GDir) listing = g_dir_open (dir, 0, NULL);
  guint n = 0;

  while (listing != NULL && g_dir_read_name (listing) != NULL)
    n++;
  return n;
}

static char *
outbox_dir (SsqTestClient *tc)
{
  return ssq_cache_get_outbox_dir (ssq_client_get_cache (tc->client));
}

/* ---- Uploads ---------------------------------------------------------- */

/* 20 MB go up with their progress counted to the byte, monotonically,
 * and come back equal. */
static void
test_upload_progress (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, MEDIA_CONFIG);
  g_autoptr(SsqTestClient) alice = ssq_test_client_new_registered (server, "alice");
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GFile) file = random_file (alice->dir, "big.bin", BIG, 1, &bytes);
  g_autoptr(SsqMedia) media = NULL;
  g_autoptr(GFile) back = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *sent = ssq_test_sha256 (bytes), *got = NULL;
  Progress p;
  gint64 start = g_get_monotonic_time ();

  progress_init (&p);
  media = upload (alice, file, &p, &error);
  g_assert_no_error (error);
  g_test_message ("20 MB up in %.0f ms, %u progress reports",
                  (g_get_monotonic_time () - start) / 1000.0, p.done->len);
  g_assert_cmpuint (p.total, ==, BIG);
  assert_monotonic (&p, BIG);
  g_assert_cmpstr (ssq_media_get_name (media), ==, "big.bin");
  g_assert_cmpint (ssq_media_get_size (media), ==, BIG);
  g_assert_cmpstr (ssq_media_get_mime (media), ==, "application/octet-stream");
  g_assert_cmpint (ssq_test_db_count (server, "SELECT COUNT(*) FROM media"), ==, 1);

  /* The uploader may download it before sending it anywhere. */
  start = g_get_monotonic_time ();
  back = download (alice, ssq_media_get_id (media), NULL, NULL, &error);
  g_assert_no_error (error);
  g_test_message ("20 MB down (hashed, into the cache) in %.0f ms", (g_get_monotonic_time () - start) / 1000.0);
  got = file_sha256 (back);
  g_assert_cmpstr (got, ==, sent);
  progress_clear (&p);
}

/* Cancelled halfway: the server keeps nothing of it and serves others. */
static void
test_upload_cancel (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, MEDIA_CONFIG);
  g_autoptr(SsqTestClient) alice = ssq_test_client_new_registered (server, "alice");
  g_autoptr(GFile) big = random_file (alice->dir, "big.bin", BIG, 2, NULL);
  g_autoptr(GFile) small = random_file (alice->dir, "small.bin", 1000, 3, NULL);
  g_autoptr(SsqMedia) media = NULL;
  g_autoptr(GError) error = NULL;
  Progress p;

  progress_init (&p);
  p.cancel_at = 2 * 1024 * 1024;
  media = upload (alice, big, &p, &error);
  g_assert_null (media);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  g_assert_true (p.acted);
  g_assert_cmpuint (g_array_index (p.done, guint64, p.done->len - 1), <, BIG);
  g_assert_true (ssq_test_wait_until (ssq_test_media_tmp_empty_cb, server, SSQ_TEST_CLIENT_WAIT_MS));
  g_assert_cmpint (ssq_test_db_count (server, "SELECT COUNT(*) FROM media"), ==, 0);
  g_assert_cmpuint (ssq_test_media_files (server, FALSE), ==, 0);

  /* The next upload goes through. */
  media = upload (alice, small, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (ssq_media_get_size (media), ==, 1000);
  g_assert_cmpint (ssq_test_db_count (server, "SELECT COUNT(*) FROM media"), ==, 1);
  g_assert_cmpuint (alice->errors->len, ==, 0);
  progress_clear (&p);
}

/* An empty file is a media like any other. */
static void
test_upload_empty (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, MEDIA_CONFIG);
  g_autoptr(SsqTestClient) alice = ssq_test_client_new_registered (server, "alice");
  g_autoptr(GFile) file = random_file (alice->dir, "empty.txt", 0, 1, NULL);
  g_autoptr(SsqMedia) media = NULL;
  g_autoptr(GFile) back = NULL;
  g_autoptr(GError) error = NULL;
  gint64 start = g_get_monotonic_time ();

  media = upload (alice, file, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (ssq_media_get_size (media), ==, 0);
  g_test_message ("empty file up in %.0f ms", (g_get_monotonic_time () - start) / 1000.0);
  back = download (alice, ssq_media_get_id (media), NULL, NULL, &error);
  g_assert_no_error (error);
  g_test_message ("empty file up and down in %.0f ms", (g_get_monotonic_time () - start) / 1000.0);
}

/* What the server refuses comes back as such, before the body goes: a
 * file over max_size, and no file at all. */
static void
test_upload_refused (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, "[media]\nmax_size=100000\n");
  g_autoptr(SsqTestClient) alice = ssq_test_client_new_registered (server, "alice");
  g_autoptr(GFile) big = random_file (alice->dir, "big.bin", BIG, 4, NULL);
  g_autoptr(GFile) nothing = g_file_new_build_filename (alice->dir, "no-such-file", NULL);
  g_autoptr(GFile) dir = g_file_new_for_path (alice->dir);
  g_autoptr(SsqMedia) media = NULL;
  g_autoptr(GError) error = NULL;
  Progress p;

  progress_init (&p);
  media = upload (alice, big, &p, &error);
  g_assert_null (media);
  g_assert_error (error, SSQ_ERROR, SSQ_ERROR_TOO_LARGE);
  g_test_message ("refused: %s", error->message);
  /* Not a byte of the body was written. */
  for (guint i = 0; i < p.done->len; i++)
    g_assert_cmpuint (g_array_index (p.done, guint64, i), ==, 0);
  g_clear_error (&error);

  media = upload (alice, nothing, NULL, &error);
  g_assert_error (error, SSQ_ERROR, SSQ_ERROR_INVALID);
  g_clear_error (&error);
  media = upload (alice, dir, NULL, &error);
  g_assert_error (error, SSQ_ERROR, SSQ_ERROR_INVALID);
  progress_clear (&p);
}

/* ---- Downloads -------------------------------------------------------- */

/* A media someone sent comes into the download cache equal to what was
 * sent; then from the cache, even with the server gone. */
static void
test_download_cache (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, MEDIA_CONFIG);
  g_autoptr(SsqTestClient) alice = ssq_test_client_new_registered (server, "alice");
  g_autoptr(SsqTestClient) bob = ssq_test_client_new_registered (server, "bob");
  g_autoptr(SsqConversation) dm = ssq_test_client_create_direct (alice, "bob");
  const char *dm_id = ssq_conversation_get_id (dm);
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GFile) file = random_file (alice->dir, "report.pdf", 3 * 1024 * 1024 + 17, 5, &bytes);
  g_autoptr(SsqMessage) pending = send_with_files (alice, dm_id, "the report", &file, 1);
  g_autoptr(SsqMessage) received = NULL;
  g_autoptr(GFile) got = NULL, again = NULL, held = NULL;
  g_autoptr(SsqTransfer) transfer = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *want = ssq_test_sha256 (bytes), *hash = NULL;
  g_autofree char *media_id = NULL;
  Progress p;

  ssq_test_client_wait_for_seq (bob, dm_id, 1);
  received = ssq_cache_get_message (ssq_client_get_cache (bob->client), dm_id, 1);
  g_assert_cmpuint (ssq_message_get_n_media (received), ==, 1);
  media_id = g_strdup (ssq_media_get_id (ssq_message_get_media (received, 0)));
  g_assert_null (ssq_client_lookup_media (bob->client, media_id, FALSE));

  progress_init (&p);
  got = download (bob, media_id, &p, &transfer, &error);
  g_assert_no_error (error);
  assert_monotonic (&p, 3 * 1024 * 1024 + 17);
  g_assert_cmpstr (ssq_transfer_get_name (transfer), ==, "report.pdf");
  g_assert_cmpuint (ssq_transfer_get_resumed_from (transfer), ==, 0);
  hash = file_sha256 (got);
  g_assert_cmpstr (hash, ==, want);
  g_assert_true (g_str_has_prefix (g_file_peek_path (got), ssq_client_get_media_dir (bob->client)));
  held = ssq_client_lookup_media (bob->client, media_id, FALSE);
  g_assert_true (g_file_equal (held, got));

  /* From the cache: no server needed. */
  ssq_test_server_kill (server);
  again = download (bob, media_id, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_file_equal (again, got));

  /* Not a media id: refused before any request, the file system kept out. */
  g_clear_object (&again);
  again = download (bob, "../../etc/passwd", NULL, NULL, &error);
  g_assert_null (again);
  g_assert_error (error, SSQ_ERROR, SSQ_ERROR_INVALID);
  progress_clear (&p);
}

/* Someone who may not see a media gets not_found; the cache stays empty. */
static void
test_download_not_found (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, MEDIA_CONFIG);
  g_autoptr(SsqTestClient) alice = ssq_test_client_new_registered (server, "alice");
  g_autoptr(SsqTestClient) eve = ssq_test_client_new_registered (server, "eve");
  g_autoptr(GFile) file = random_file (alice->dir, "secret.bin", 5000, 6, NULL);
  g_autoptr(SsqMedia) media = NULL;
  g_autoptr(GFile) got = NULL;
  g_autoptr(GError) error = NULL;

  media = upload (alice, file, NULL, &error);
  g_assert_no_error (error);
  got = download (eve, ssq_media_get_id (media), NULL, NULL, &error);
  g_assert_null (got);
  g_assert_error (error, SSQ_ERROR, SSQ_ERROR_NOT_FOUND);
  g_assert_cmpuint (files_in (ssq_client_get_media_dir (eve->client)), ==, 0);
}

/* The cache stays within its cap by evicting the least recently used
 * file: a file used again lives longer than one downloaded after it. */
static void
test_download_lru (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, MEDIA_CONFIG);
  g_autoptr(SsqTestClient) alice = ssq_test_client_new_registered (server, "alice");
  const gsize mb = 1024 * 1024;
  char *ids[4] = { NULL };
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < 4; i++)
    {
      g_autofree char *name = g_strdup_printf ("f%u", i);
      g_autoptr(GFile) file = random_file (alice->dir, name, mb, 10 + i, NULL);
      g_autoptr(SsqMedia) media = upload (alice, file, NULL, &error);

      g_assert_no_error (error);
      ids[i] = g_strdup (ssq_media_get_id (media));
    }
  /* Room for two and a half. */
  g_object_set (alice->client, "media-cache-size", (guint64) (5 * mb / 2), NULL);
  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(GFile) got = download (alice, ids[i], NULL, NULL, &error);

      g_assert_no_error (error);
    }
  /* f0 is used again: f1 is now the least recently used. */
  {
    g_autoptr(GFile) used = ssq_client_lookup_media (alice->client, ids[0], FALSE);

    g_assert_nonnull (used);
  }
  {
    g_autoptr(GFile) got = download (alice, ids[2], NULL, NULL, &error);

    g_assert_no_error (error);
  }
  {
    g_autoptr(GFile) f0 = ssq_client_lookup_media (alice->client, ids[0], FALSE);
    g_autoptr(GFile) f1 = ssq_client_lookup_media (alice->client, ids[1], FALSE);
    g_autoptr(GFile) f2 = ssq_client_lookup_media (alice->client, ids[2], FALSE);

    g_assert_nonnull (f0);
    g_assert_null (f1);
    g_assert_nonnull (f2);
  }
  g_assert_cmpuint (files_in (ssq_client_get_media_dir (alice->client)), ==, 2);

  /* A lower cap evicts at once, least recently used first (f0, then f2:
   * f2 was looked up last). */
  ssq_client_set_media_cache_size (alice->client, 3 * mb / 2);
  {
    g_autoptr(GFile) f0 = ssq_client_lookup_media (alice->client, ids[0], FALSE);
    g_autoptr(GFile) f2 = ssq_client_lookup_media (alice->client, ids[2], FALSE);

    g_assert_null (f0);
    g_assert_nonnull (f2);
  }
  /* A file larger than the whole cap still comes, and stays until the
   * next. */
  ssq_client_set_media_cache_size (alice->client, mb / 2);
  {
    g_autoptr(GFile) got = download (alice, ids[3], NULL, NULL, &error);

    g_assert_no_error (error);
    g_assert_nonnull (got);
    g_assert_true (g_file_query_exists (got, NULL));
  }
  g_assert_cmpuint (files_in (ssq_client_get_media_dir (alice->client)), ==, 1);
  for (guint i = 0; i < 4; i++)
    g_free (ids[i]);
}

/* A download cancelled halfway leaves a partial file; the next download
 * asks only for the rest (Range) and the whole is checked. */
static void
test_download_resume (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, MEDIA_CONFIG);
  g_autoptr(SsqTestClient) alice = ssq_test_client_new_registered (server, "alice");
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GFile) file = random_file (alice->dir, "big.bin", BIG, 20, &bytes);
  g_autoptr(SsqMedia) media = NULL;
  g_autoptr(GFile) got = NULL;
  g_autoptr(SsqTransfer) transfer = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *part = NULL, *want = ssq_test_sha256 (bytes), *hash = NULL;
  GStatBuf st;
  Progress p;

  media = upload (alice, file, NULL, &error);
  g_assert_no_error (error);
  progress_init (&p);
  p.cancel_at = 3 * 1024 * 1024;
  got = download (alice, ssq_media_get_id (media), &p, NULL, &error);
  g_assert_null (got);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  part = g_strconcat (ssq_client_get_media_dir (alice->client), "/", ssq_media_get_id (media), ".part", NULL);
  g_assert_cmpint (g_stat (part, &st), ==, 0);
  g_test_message ("partial file: %" G_GINT64_FORMAT " bytes", (gint64) st.st_size);
  g_assert_cmpint (st.st_size, >=, 3 * 1024 * 1024);
  g_assert_cmpint (st.st_size, <, BIG);

  got = download (alice, ssq_media_get_id (media), NULL, &transfer, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ssq_transfer_get_resumed_from (transfer), ==, (guint64) st.st_size);
  hash = file_sha256 (got);
  g_assert_cmpstr (hash, ==, want);
  g_assert_false (g_file_test (part, G_FILE_TEST_EXISTS));
  progress_clear (&p);
}

/* A partial file whose bytes are not the media's (damaged, or from
 * elsewhere) fails the checksum: the download starts over and is right. */
static void
test_download_bad_partial (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, MEDIA_CONFIG);
  g_autoptr(SsqTestClient) alice = ssq_test_client_new_registered (server, "alice");
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GFile) file = random_file (alice->dir, "data.bin", 200000, 21, &bytes);
  g_autoptr(SsqMedia) media = NULL;
  g_autoptr(GFile) got = NULL;
  g_autoptr(SsqTransfer) transfer = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *part = NULL, *want = ssq_test_sha256 (bytes), *hash = NULL;

  media = upload (alice, file, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_mkdir_with_parents (ssq_client_get_media_dir (alice->client), 0700), ==, 0);
  part = g_strconcat (ssq_client_get_media_dir (alice->client), "/", ssq_media_get_id (media), ".part", NULL);
  g_assert_true (g_file_set_contents (part, "not the right bytes", -1, NULL));
  got = download (alice, ssq_media_get_id (media), NULL, &transfer, &error);
  g_assert_no_error (error);
  hash = file_sha256 (got);
  g_assert_cmpstr (hash, ==, want);
}

/* Two requests for one download share it. */
static void
test_download_shared (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, MEDIA_CONFIG);
  g_autoptr(SsqTestClient) alice = ssq_test_client_new_registered (server, "alice");
  g_autoptr(GFile) file = random_file (alice->dir, "data.bin", 2000000, 22, NULL);
  g_autoptr(SsqMedia) media = NULL;
  g_autoptr(GAsyncResult) r1 = NULL, r2 = NULL;
  g_autoptr(SsqTransfer) t1 = NULL, t2 = NULL;
  g_autoptr(GFile) f1 = NULL, f2 = NULL;
  g_autoptr(GError) error = NULL;

  media = upload (alice, file, NULL, &error);
  g_assert_no_error (error);
  t1 = ssq_client_download_async (alice->client, ssq_media_get_id (media), NULL, ssq_test_store_result, &r1);
  t2 = ssq_client_download_async (alice->client, ssq_media_get_id (media), NULL, ssq_test_store_result, &r2);
  g_assert_true (t1 == t2);
  f1 = ssq_client_download_finish (alice->client, ssq_test_wait_result (&r1, TRANSFER_WAIT_MS), &error);
  g_assert_no_error (error);
  f2 = ssq_client_download_finish (alice->client, ssq_test_wait_result (&r2, TRANSFER_WAIT_MS), &error);
  g_assert_no_error (error);
  g_assert_true (g_file_equal (f1, f2));
}

/* A media the server has no thumbnail of: none, and no error. */
static void
test_thumbnail_none (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, MEDIA_CONFIG);
  g_autoptr(SsqTestClient) alice = ssq_test_client_new_registered (server, "alice");
  g_autoptr(GFile) file = random_file (alice->dir, "notes.bin", 3000, 23, NULL);
  g_autoptr(SsqMedia) media = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(SsqTransfer) transfer = NULL;
  g_autoptr(GFile) thumbnail = NULL;
  g_autoptr(GError) error = NULL;

  media = upload (alice, file, NULL, &error);
  g_assert_no_error (error);
  transfer = ssq_client_fetch_thumbnail_async (alice->client, ssq_media_get_id (media), NULL,
                                               ssq_test_store_result, &result);
  thumbnail = ssq_client_fetch_thumbnail_finish (alice->client, ssq_test_client_wait_result (&result), &error);
  g_assert_no_error (error);
  g_assert_null (thumbnail);
  g_assert_true (ssq_transfer_get_finished (transfer));
  g_assert_null (ssq_client_lookup_media (alice->client, ssq_media_get_id (media), TRUE));
}

typedef struct {
  SsqTestClient *tc;
  const char    *conversation_id;
  gint64         seq;
} Wanted;

static gboolean
has_thumbnail (gpointer data)
{
  Wanted *want = data;
  g_autoptr(SsqMessage) message = ssq_cache_get_message (ssq_client_get_cache (want->tc->client),
                                                         want->conversation_id, want->seq);

  return message != NULL && ssq_message_get_n_media (message) == 1 &&
         ssq_media_has_thumbnail (ssq_message_get_media (message, 0));
}

/* A picture sent: once the server has made its thumbnail, the message
 * comes again with it (and the picture's size); the thumbnail comes into
 * the download cache, and from there when the server is gone. */
static void
test_thumbnail (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, MEDIA_CONFIG);
  g_autoptr(SsqTestClient) alice = ssq_test_client_new_registered (server, "alice");
  g_autoptr(SsqTestClient) bob = ssq_test_client_new_registered (server, "bob");
  g_autoptr(SsqConversation) dm = ssq_test_client_create_direct (alice, "bob");
  const char *dm_id = ssq_conversation_get_id (dm);
  g_autofree char *path = g_build_filename (alice->dir, "photo.png", NULL);
  g_autoptr(GdkPixbuf) picture = ssq_test_image_marked (640, 480, FALSE);
  g_autoptr(GFile) file = NULL, thumbnail = NULL, again = NULL;
  g_autoptr(SsqMessage) pending = NULL, received = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(SsqTransfer) transfer = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GdkPixbuf) small = NULL;
  g_autofree char *line = NULL;
  Wanted want = { bob, dm_id, 1 };
  SsqMedia *media;

  ssq_test_image_save (picture, path, "png");
  file = g_file_new_for_path (path);
  pending = send_with_files (alice, dm_id, "a picture", &file, 1);
  g_assert_true (ssq_test_wait_until (has_thumbnail, &want, SSQ_TEST_CLIENT_WAIT_MS));
  received = ssq_cache_get_message (ssq_client_get_cache (bob->client), dm_id, 1);
  media = ssq_message_get_media (received, 0);
  g_assert_true (ssq_media_is_image (media));
  g_assert_cmpint (ssq_media_get_width (media), ==, 640);
  g_assert_cmpint (ssq_media_get_height (media), ==, 480);
  line = ssq_display_media (media);
  g_assert_true (g_str_has_prefix (line, "[image 640×480 photo.png "));

  transfer = ssq_client_fetch_thumbnail_async (bob->client, ssq_media_get_id (media), NULL,
                                               ssq_test_store_result, &result);
  thumbnail = ssq_client_fetch_thumbnail_finish (bob->client, ssq_test_client_wait_result (&result), &error);
  g_assert_no_error (error);
  g_assert_nonnull (thumbnail);
  bytes = g_file_load_bytes (thumbnail, NULL, NULL, &error);
  g_assert_no_error (error);
  small = ssq_test_image_decode (bytes);
  g_assert_cmpint (gdk_pixbuf_get_width (small), ==, 320);
  g_assert_cmpint (gdk_pixbuf_get_height (small), ==, 240);

  /* From the cache now; the picture itself is not there. */
  ssq_test_server_kill (server);
  g_clear_object (&result);
  g_clear_object (&transfer);
  transfer = ssq_client_fetch_thumbnail_async (bob->client, ssq_media_get_id (media), NULL,
                                               ssq_test_store_result, &result);
  again = ssq_client_fetch_thumbnail_finish (bob->client, ssq_test_client_wait_result (&result), &error);
  g_assert_no_error (error);
  g_assert_true (g_file_equal (again, thumbnail));
  g_assert_null (ssq_client_lookup_media (bob->client, ssq_media_get_id (media), FALSE));
}

/* ---- Messages with attachments ---------------------------------------- */

static SsqMessage *
wait_for_message (SsqTestClient *tc,
                  const char    *conversation_id,
                  gint64         seq)
{
  ssq_test_client_wait_for_seq (tc, conversation_id, seq);
  return ssq_cache_get_message (ssq_client_get_cache (tc->client), conversation_id, seq);
}

/* Text and two files, and a file without text: the receiver gets each
 * message once with its media in order, and their bytes; the sender's
 * outbox and its copies empty. The human line shows them. */
static void
test_send_attachments (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, MEDIA_CONFIG);
  g_autoptr(SsqTestClient) alice = ssq_test_client_new_registered (server, "alice");
  g_autoptr(SsqTestClient) bob = ssq_test_client_new_registered (server, "bob");
  g_autoptr(SsqConversation) dm = ssq_test_client_create_direct (alice, "bob");
  const char *dm_id = ssq_conversation_get_id (dm);
  g_autoptr(GBytes) b0 = NULL, b1 = NULL;
  GFile *files[2];
  g_autoptr(SsqMessage) pending = NULL, first = NULL, second = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *copies = outbox_dir (alice);

  files[0] = random_file (alice->dir, "one.bin", 70000, 30, &b0);
  files[1] = random_file (alice->dir, "two.txt", 0, 31, &b1);
  pending = send_with_files (alice, dm_id, "two files", files, 2);
  g_assert_cmpuint (ssq_message_get_n_media (pending), ==, 2);
  g_assert_cmpstr (ssq_media_get_name (ssq_message_get_media (pending, 1)), ==, "two.txt");
  g_assert_nonnull (ssq_media_get_local_file (ssq_message_get_media (pending, 0)));
  g_clear_object (&pending);
  pending = send_with_files (alice, dm_id, "", files, 1);

  first = wait_for_message (bob, dm_id, 1);
  second = wait_for_message (bob, dm_id, 2);
  g_assert_cmpstr (ssq_message_get_body (first), ==, "two files");
  g_assert_cmpuint (ssq_message_get_n_media (first), ==, 2);
  g_assert_cmpstr (ssq_message_get_body (second), ==, "");
  g_assert_cmpuint (ssq_message_get_n_media (second), ==, 1);
  for (guint i = 0; i < 2; i++)
    {
      SsqMedia *media = ssq_message_get_media (first, i);
      g_autoptr(GFile) got = download (bob, ssq_media_get_id (media), NULL, NULL, &error);
      g_autofree char *hash = NULL, *want = ssq_test_sha256 (i == 0 ? b0 : b1);

      g_assert_no_error (error);
      g_assert_cmpstr (ssq_media_get_name (media), ==, i == 0 ? "one.bin" : "two.txt");
      g_assert_cmpint (ssq_media_get_size (media), ==, i == 0 ? 70000 : 0);
      hash = file_sha256 (got);
      g_assert_cmpstr (hash, ==, want);
    }
  /* The same bytes twice are one upload's worth on the server. */
  g_assert_cmpstr (ssq_media_get_id (ssq_message_get_media (second, 0)), !=,
                   ssq_media_get_id (ssq_message_get_media (first, 0)));
  g_assert_cmpuint (ssq_test_media_files (server, FALSE), ==, 2);

  g_assert_true (ssq_test_wait_until (outbox_empty, alice, SSQ_TEST_CLIENT_WAIT_MS));
  g_assert_cmpuint (files_in (copies), ==, 0);
  {
    g_autofree char *line = ssq_display_media (ssq_message_get_media (first, 0));

    g_assert_cmpstr (line, ==, "[file one.bin 70.0 kB]");
  }
  g_assert_cmpuint (alice->errors->len + bob->errors->len, ==, 0);
  for (guint i = 0; i < 2; i++)
    g_object_unref (files[i]);
}

/* Composed while the server is down, the files deleted by the user, the
 * client restarted: when the server is back the message goes out once,
 * with its media. */
static void
test_offline_restart (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, MEDIA_CONFIG);
  SsqTestClient *alice = ssq_test_client_new_registered (server, "alice");
  g_autoptr(SsqTestClient) bob = ssq_test_client_new_registered (server, "bob");
  g_autoptr(SsqConversation) dm = ssq_test_client_create_direct (alice, "bob");
  g_autofree char *dm_id = g_strdup (ssq_conversation_get_id (dm));
  g_autofree char *dir = g_strdup (alice->dir);
  g_autofree char *user_id = g_strdup (ssq_client_get_user_id (alice->client));
  g_autofree char *token = g_strdup (ssq_client_get_token (alice->client));
  g_autoptr(SsqTestClient) again = NULL;
  g_autoptr(SsqMessage) pending = NULL, received = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GFile) file = NULL, got = NULL;
  g_autoptr(GPtrArray) outbox = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *want = NULL, *hash = NULL, *path = NULL;

  ssq_test_server_kill (server);
  file = random_file (dir, "photo.bin", 500000, 40, &bytes);
  want = ssq_test_sha256 (bytes);
  pending = send_with_files (alice, dm_id, "while you were out", &file, 1);
  g_assert_true (g_file_delete (file, NULL, &error));
  ssq_test_client_free_full (alice, FALSE);

  again = ssq_test_client_new (server->url, dir);
  g_assert_true (ssq_client_set_session (again->client, "alice", user_id, token, &error));
  g_assert_no_error (error);
  outbox = ssq_cache_outbox_list (ssq_client_get_cache (again->client), NULL);
  g_assert_cmpuint (outbox->len, ==, 1);
  g_assert_cmpuint (ssq_message_get_n_media (outbox->pdata[0]), ==, 1);
  g_assert_null (ssq_media_get_id (ssq_message_get_media (outbox->pdata[0], 0)));

  ssq_test_server_restart (server);
  ssq_test_client_go_online (again);
  g_assert_true (ssq_test_wait_until (outbox_empty, again, TRANSFER_WAIT_MS));
  received = wait_for_message (bob, dm_id, 1);
  g_assert_cmpstr (ssq_message_get_body (received), ==, "while you were out");
  g_assert_cmpuint (ssq_message_get_n_media (received), ==, 1);
  got = download (bob, ssq_media_get_id (ssq_message_get_media (received, 0)), NULL, NULL, &error);
  g_assert_no_error (error);
  hash = file_sha256 (got);
  g_assert_cmpstr (hash, ==, want);
  g_assert_cmpint (ssq_test_db_count (server, "SELECT COUNT(*) FROM messages"), ==, 1);
  g_assert_cmpint (ssq_test_db_count (server, "SELECT COUNT(*) FROM media"), ==, 1);
  path = outbox_dir (again);
  g_assert_cmpuint (files_in (path), ==, 0);
}

/* The server is killed in the middle of an attachment's upload and
 * restarted: the message goes out once, with its media. */
static void
test_sigkill_mid_upload (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, MEDIA_CONFIG);
  g_autoptr(SsqTestClient) alice = ssq_test_client_new_registered (server, "alice");
  g_autoptr(SsqTestClient) bob = ssq_test_client_new_registered (server, "bob");
  g_autoptr(SsqConversation) dm = ssq_test_client_create_direct (alice, "bob");
  const char *dm_id = ssq_conversation_get_id (dm);
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GFile) file = random_file (alice->dir, "big.bin", BIG, 50, &bytes);
  g_autoptr(SsqMessage) pending = NULL, received = NULL;
  g_autoptr(GFile) got = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *want = ssq_test_sha256 (bytes), *hash = NULL;
  SsqTransfer *transfer;
  Progress p;

  progress_init (&p);
  p.cancel_at = 4 * 1024 * 1024;
  p.kill_at_server = server;
  pending = send_with_files (alice, dm_id, "big one", &file, 1);
  transfer = ssq_client_get_outbox_transfer (alice->client, ssq_message_get_client_id (pending));
  g_assert_nonnull (transfer);
  g_assert_cmpuint (ssq_transfer_get_total (transfer), ==, BIG);
  g_signal_connect (transfer, "progress", G_CALLBACK (progress_cb), &p);
  g_assert_true (ssq_test_wait_until (acted, &p, TRANSFER_WAIT_MS));
  g_signal_handlers_disconnect_by_data (transfer, &p);
  g_assert_false (outbox_empty (alice));

  ssq_test_server_restart (server);
  g_assert_true (ssq_test_wait_until (outbox_empty, alice, TRANSFER_WAIT_MS));
  received = wait_for_message (bob, dm_id, 1);
  g_assert_cmpuint (ssq_message_get_n_media (received), ==, 1);
  got = download (bob, ssq_media_get_id (ssq_message_get_media (received, 0)), NULL, NULL, &error);
  g_assert_no_error (error);
  hash = file_sha256 (got);
  g_assert_cmpstr (hash, ==, want);
  g_assert_cmpint (ssq_test_db_count (server, "SELECT COUNT(*) FROM messages"), ==, 1);
  g_assert_cmpint (ssq_test_db_count (server, "SELECT COUNT(*) FROM media"), ==, 1);
  progress_clear (&p);
}

/* An attachment already uploaded (its id recorded) is not uploaded again:
 * the message goes out with that id. */
static void
test_upload_recorded (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, MEDIA_CONFIG);
  g_autoptr(SsqTestClient) alice = ssq_test_client_new_registered (server, "alice");
  g_autoptr(SsqTestClient) bob = ssq_test_client_new_registered (server, "bob");
  g_autoptr(SsqConversation) dm = ssq_test_client_create_direct (alice, "bob");
  const char *dm_id = ssq_conversation_get_id (dm);
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GFile) file = random_file (alice->dir, "once.bin", 100000, 60, &bytes);
  g_autoptr(SsqMedia) media = NULL;
  g_autoptr(SsqMessage) pending = NULL, received = NULL;
  g_autoptr(GError) error = NULL;
  gint64 uploads;

  media = upload (alice, file, NULL, &error);
  g_assert_no_error (error);
  uploads = ssq_test_metric (server, "ssq_media_uploads_total");
  ssq_client_disconnect (alice->client);
  pending = send_with_files (alice, dm_id, "recorded", &file, 1);
  g_assert_true (ssq_cache_outbox_set_media (ssq_client_get_cache (alice->client),
                                             ssq_message_get_client_id (pending), 0, media, &error));
  g_assert_no_error (error);
  ssq_test_client_go_online (alice);
  g_assert_true (ssq_test_wait_until (outbox_empty, alice, SSQ_TEST_CLIENT_WAIT_MS));
  received = wait_for_message (bob, dm_id, 1);
  g_assert_cmpstr (ssq_media_get_id (ssq_message_get_media (received, 0)), ==, ssq_media_get_id (media));
  g_assert_cmpint (ssq_test_metric (server, "ssq_media_uploads_total"), ==, uploads);
}

/* A recorded upload the server no longer knows (it expired before the
 * message went): the send is refused with not_found, and the client
 * uploads the file again from its copy and sends the message with it. */
static void
test_upload_lost (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, MEDIA_CONFIG);
  g_autoptr(SsqTestClient) alice = ssq_test_client_new_registered (server, "alice");
  g_autoptr(SsqTestClient) bob = ssq_test_client_new_registered (server, "bob");
  g_autoptr(SsqConversation) dm = ssq_test_client_create_direct (alice, "bob");
  const char *dm_id = ssq_conversation_get_id (dm);
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GFile) file = random_file (alice->dir, "lost.bin", 30000, 61, &bytes);
  g_autoptr(SsqMedia) gone = ssq_media_new ("f000000000000000000000000", "lost.bin", "application/octet-stream",
                                            30000, 0, 0);
  g_autoptr(SsqMessage) pending = NULL, received = NULL;
  g_autoptr(GFile) got = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *want = ssq_test_sha256 (bytes), *hash = NULL;

  ssq_client_disconnect (alice->client);
  pending = send_with_files (alice, dm_id, "again", &file, 1);
  g_assert_true (ssq_cache_outbox_set_media (ssq_client_get_cache (alice->client),
                                             ssq_message_get_client_id (pending), 0, gone, NULL));
  ssq_test_client_go_online (alice);
  g_assert_true (ssq_test_wait_until (outbox_empty, alice, SSQ_TEST_CLIENT_WAIT_MS));
  received = wait_for_message (bob, dm_id, 1);
  g_assert_cmpstr (ssq_media_get_id (ssq_message_get_media (received, 0)), !=, ssq_media_get_id (gone));
  got = download (bob, ssq_media_get_id (ssq_message_get_media (received, 0)), NULL, NULL, &error);
  g_assert_no_error (error);
  hash = file_sha256 (got);
  g_assert_cmpstr (hash, ==, want);
  g_assert_cmpuint (alice->errors->len, ==, 0);
}

/* An attachment the server refuses (over max_size) fails its message,
 * kept for the user; the messages after it still go. */
static void
test_attachment_refused (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, "[media]\nmax_size=10000\n");
  g_autoptr(SsqTestClient) alice = ssq_test_client_new_registered (server, "alice");
  g_autoptr(SsqTestClient) bob = ssq_test_client_new_registered (server, "bob");
  g_autoptr(SsqConversation) dm = ssq_test_client_create_direct (alice, "bob");
  const char *dm_id = ssq_conversation_get_id (dm);
  g_autoptr(GFile) file = random_file (alice->dir, "huge.bin", 20000, 70, NULL);
  g_autoptr(SsqMessage) pending = NULL, failed = NULL, received = NULL;

  pending = send_with_files (alice, dm_id, "too big", &file, 1);
  ssq_test_client_send_text (alice, dm_id, "after it");
  received = wait_for_message (bob, dm_id, 1);
  g_assert_cmpstr (ssq_message_get_body (received), ==, "after it");
  ssq_test_client_wait_for_errors (alice, 1);
  g_assert_error ((GError *) alice->errors->pdata[0], SSQ_ERROR, SSQ_ERROR_TOO_LARGE);
  failed = ssq_cache_outbox_get (ssq_client_get_cache (alice->client), ssq_message_get_client_id (pending));
  g_assert_nonnull (failed);
  g_assert_cmpint (ssq_message_get_status (failed), ==, SSQ_MESSAGE_FAILED);
}

/* Files that cannot be attached are refused before anything is queued. */
static void
test_attach_unreadable (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, MEDIA_CONFIG);
  g_autoptr(SsqTestClient) alice = ssq_test_client_new_registered (server, "alice");
  g_autoptr(SsqConversation) dm = ssq_test_client_create_group (alice, "g", NULL);
  g_autoptr(GFile) missing = g_file_new_build_filename (alice->dir, "gone", NULL);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(SsqMessage) message = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *copies = outbox_dir (alice);

  ssq_client_send_message_with_media_async (alice->client, ssq_conversation_get_id (dm), "x", 0, &missing, 1,
                                            NULL, ssq_test_store_result, &result);
  message = ssq_client_send_message_with_media_finish (alice->client, ssq_test_client_wait_result (&result),
                                                       &error);
  g_assert_null (message);
  g_assert_error (error, SSQ_ERROR, SSQ_ERROR_INVALID);
  g_assert_cmpuint (ssq_cache_outbox_count (ssq_client_get_cache (alice->client)), ==, 0);
  g_assert_cmpuint (files_in (copies), ==, 0);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/client-media/upload-progress", test_upload_progress);
  g_test_add_func ("/client-media/upload-cancel", test_upload_cancel);
  g_test_add_func ("/client-media/upload-empty", test_upload_empty);
  g_test_add_func ("/client-media/upload-refused", test_upload_refused);
  g_test_add_func ("/client-media/download-cache", test_download_cache);
  g_test_add_func ("/client-media/download-not-found", test_download_not_found);
  g_test_add_func ("/client-media/download-lru", test_download_lru);
  g_test_add_func ("/client-media/download-resume", test_download_resume);
  g_test_add_func ("/client-media/download-bad-partial", test_download_bad_partial);
  g_test_add_func ("/client-media/download-shared", test_download_shared);
  g_test_add_func ("/client-media/thumbnail-none", test_thumbnail_none);
  g_test_add_func ("/client-media/thumbnail", test_thumbnail);
  g_test_add_func ("/client-media/send-attachments", test_send_attachments);
  g_test_add_func ("/client-media/offline-restart", test_offline_restart);
  g_test_add_func ("/client-media/sigkill-mid-upload", test_sigkill_mid_upload);
  g_test_add_func ("/client-media/upload-recorded", test_upload_recorded);
  g_test_add_func ("/client-media/upload-lost", test_upload_lost);
  g_test_add_func ("/client-media/attachment-refused", test_attachment_refused);
  g_test_add_func ("/client-media/attach-unreadable", test_attach_unreadable);
  return g_test_run ();
}
