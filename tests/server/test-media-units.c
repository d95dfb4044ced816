/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-media-units.c: the server's media parts on their own: the schema
 * migration and the media rows (links, quota, expiry, what the thumbnailer
 * sets), the media store on disk (pins, release, start-up sweep), and the
 * download headers read from clients (Range, If-None-Match) and written
 * to them (Content-Disposition). */
#include "ssq-server-download.h"
#include "ssq-server-media.h"
#include "ssq-server-store.h"
#include "ssq-proto.h"
#include "ssq-test-store.h"

#include <glib/gstdio.h>
#include <string.h>

static SsqMediaRow *
media_row (const char *id,
           const char *uploader,
           const char *name,
           const char *mime,
           gint64      size,
           const char *sha256)
{
  SsqMediaRow *m = g_new0 (SsqMediaRow, 1);

  m->id = g_strdup (id);
  m->uploader = g_strdup (uploader);
  m->name = g_strdup (name);
  m->mime = g_strdup (mime);
  m->size = size;
  m->sha256 = g_strdup (sha256);
  m->created_at = 5;
  return m;
}

/* A database of schema 3 gets media through the migration to 4: its
 * messages keep their wire form (no media), and a media row links to a new
 * message in its transaction, shows in its wire form and in history, and
 * goes with the message's deletion, freeing its file's hash once no other
 * row names it; an upload no message carried expires. */
static void
test_migrate_media (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = ssq_test_store_temp_db ();
  g_autoptr(SsqMessageRow) old = NULL;
  g_autoptr(SsqMessageRow) m = ssq_test_store_message ("c1", "u1", "k2");
  g_autoptr(SsqMessageRow) again = NULL;
  g_autoptr(GPtrArray) freed = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GString) page = g_string_new (NULL);
  const char *const ids[] = { "f1", "f2", NULL };
  const char *const hidden[] = { "f3", NULL };
  g_autoptr(SsqMediaRow) f1 = media_row ("f1", "u1", "a.png", "image/png", 10, "aa");
  g_autoptr(SsqMediaRow) f2 = media_row ("f2", "u1", "b.bin", "application/octet-stream", 20, "bb");
  g_autoptr(SsqMediaRow) f3 = media_row ("f3", "u2", "c.bin", "application/octet-stream", 30, "aa");
  g_autoptr(SsqMediaRow) f4 = media_row ("f4", "u1", "d.bin", "application/octet-stream", 10, "dd");
  gboolean more = FALSE, used = TRUE;
  guint64 usage = 0;
  SsqServerStore *store = ssq_server_store_open_at_version (path, 3, &error);

  g_assert_no_error (error);
  g_assert_true (ssq_server_store_exec (store,
    "INSERT INTO conversations (id, kind, created_at, updated_at, last_seq) "
    "VALUES ('c1', 'group', 1, 1, 1);"
    "INSERT INTO users (id, username, display_name, pw_hash, created_at) "
    "VALUES ('u1', 'alice', 'Alice', 'x', 1);"
    "INSERT INTO members (conversation_id, user_id, role, joined_at) "
    "VALUES ('c1', 'u1', 'owner', 1);"
    "INSERT INTO messages (conversation_id, seq, id, sender, client_id, body, created_at, json) "
    "VALUES ('c1', 1, 'm1', 'u1', 'k1', 'hello', 1, "
    "  ssq_message_json('m1', 'c1', 1, 'u1', 'k1', 'hello', 1, NULL, 0, NULL, 0));", &error));
  g_assert_no_error (error);
  ssq_server_store_close (store);

  store = ssq_server_store_open (path, TRUE, &error);
  g_assert_no_error (error);
  old = ssq_server_store_message_get (store, "c1", 1, &error);
  g_assert_null (old->media);
  g_assert_nonnull (strstr (old->json, "\"media\":[],"));

  g_assert_true (ssq_server_store_begin (store, &error));
  g_assert_true (ssq_server_store_media_insert (store, f1, 0, &error));
  g_assert_true (ssq_server_store_media_insert (store, f2, 0, &error));
  g_assert_true (ssq_server_store_media_insert (store, f3, 0, &error));
  /* Past the quota (30 of 39 used, 10 more): refused, nothing stored. */
  g_assert_false (ssq_server_store_media_insert (store, f4, 39, &error));
  g_assert_error (error, SSQ_ERROR, SSQ_ERROR_QUOTA_EXCEEDED);
  g_clear_error (&error);
  g_assert_true (ssq_server_store_media_insert (store, f4, 40, &error));
  g_assert_true (ssq_server_store_media_usage (store, "u1", &usage, &error));
  g_assert_cmpuint (usage, ==, 40);
  /* u2's upload is not u1's to send. */
  g_assert_false (ssq_server_store_media_check_attachable (store, hidden, "u1", &error));
  g_assert_error (error, SSQ_ERROR, SSQ_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_true (ssq_server_store_message_append (store, m, &error));
  g_assert_true (ssq_server_store_message_attach_media (store, m, ids, &error));
  g_assert_true (ssq_server_store_commit (store, &error));
  g_assert_cmpuint (json_array_get_length (m->media), ==, 2);
  g_assert_nonnull (strstr (m->json, "\"media\":[{\"id\":\"f1\",\"name\":\"a.png\","
                                     "\"mime\":\"image/png\",\"size\":10,\"width\":null,"
                                     "\"height\":null,\"thumbnail\":false},{\"id\":\"f2\""));
  /* History copies it; a read of the row gives the same media. */
  g_assert_true (ssq_server_store_messages_page (store, "c1", 0, 0, 10, FALSE, page, &more, &error));
  g_assert_nonnull (strstr (page->str, m->json));
  again = ssq_server_store_message_get (store, "c1", 2, &error);
  g_assert_cmpuint (json_array_get_length (again->media), ==, 2);
  g_assert_null (ssq_server_store_media_get_for (store, "f1", "u9", &error));
  g_assert_no_error (error);

  /* The deletion: tombstone without media, both rows gone, both hashes
   * freed; "aa" is still f3's. */
  g_assert_true (ssq_server_store_begin (store, &error));
  again->deleted = TRUE;
  again->edited_at = 9;
  g_assert_true (ssq_server_store_message_update (store, again, &error));
  g_assert_true (ssq_server_store_message_detach_media (store, again, freed, &error));
  g_assert_true (ssq_server_store_commit (store, &error));
  g_assert_nonnull (strstr (again->json, "\"media\":[],"));
  g_assert_cmpuint (freed->len, ==, 2);
  g_assert_null (ssq_server_store_media_get (store, "f1", &error));
  g_assert_true (ssq_server_store_media_hash_used (store, "aa", &used, &error));
  g_assert_true (used);
  g_assert_true (ssq_server_store_media_hash_used (store, "bb", &used, &error));
  g_assert_false (used);

  /* Uploads never sent expire, not before their time. */
  g_ptr_array_set_size (freed, 0);
  g_assert_true (ssq_server_store_begin (store, &error));
  g_assert_true (ssq_server_store_media_expire (store, 5, 100, freed, &error));
  g_assert_cmpuint (freed->len, ==, 0);
  g_assert_true (ssq_server_store_media_expire (store, 6, 100, freed, &error));
  g_assert_true (ssq_server_store_commit (store, &error));
  /* f3 and f4: neither was sent. */
  g_assert_cmpuint (freed->len, ==, 2);
  g_assert_true (g_ptr_array_find_with_equal_func (freed, "aa", g_str_equal, NULL));
  g_assert_true (g_ptr_array_find_with_equal_func (freed, "dd", g_str_equal, NULL));
  g_assert_null (ssq_server_store_media_get (store, "f3", &error));
  g_assert_no_error (error);
  ssq_server_store_close (store);
}

/* What the thumbnailer learns of an image reaches every message carrying
 * it, as a change (a new rev), and a thumbnail replaced is freed. */
static void
test_media_set_image (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = ssq_test_store_temp_db ();
  g_autoptr(SsqServerStore) store = ssq_server_store_open (path, FALSE, &error);
  g_autoptr(SsqMediaRow) photo = media_row ("f1", "u1", "p.jpg", "image/jpeg", 10, "aa");
  g_autoptr(SsqMessageRow) m = ssq_test_store_message ("c1", "u1", "k1");
  g_autoptr(SsqMessageRow) plain = ssq_test_store_message ("c1", "u1", "k2");
  g_autoptr(GPtrArray) changed = g_ptr_array_new_with_free_func ((GDestroyNotify) ssq_message_row_free);
  g_autoptr(GPtrArray) freed = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(SsqMediaRow) after = NULL;
  const char *const ids[] = { "f1", NULL };
  SsqMessageRow *c;

  g_assert_no_error (error);
  g_assert_true (ssq_server_store_exec (store,
    "INSERT INTO conversations (id, kind, created_at, updated_at) VALUES ('c1', 'group', 1, 1);",
    &error));
  g_assert_true (ssq_server_store_begin (store, &error));
  g_assert_true (ssq_server_store_media_insert (store, photo, 0, &error));
  g_assert_true (ssq_server_store_message_append (store, m, &error));
  g_assert_true (ssq_server_store_message_attach_media (store, m, ids, &error));
  g_assert_true (ssq_server_store_message_append (store, plain, &error));
  g_assert_true (ssq_server_store_media_set_image (store, "f1", 4000, 3000, "bb", "image/jpeg",
                                                   changed, freed, &error));
  g_assert_true (ssq_server_store_commit (store, &error));
  g_assert_cmpuint (changed->len, ==, 1);
  c = changed->pdata[0];
  g_assert_cmpint (c->seq, ==, 1);
  g_assert_cmpint (c->rev, ==, 1);
  g_assert_nonnull (strstr (c->json, "\"width\":4000,\"height\":3000,\"thumbnail\":true}],\"rev\":1}"));
  g_assert_cmpuint (freed->len, ==, 0);
  after = ssq_server_store_media_get (store, "f1", &error);
  g_assert_cmpstr (after->thumbnail_hash, ==, "bb");

  /* Another thumbnail: the first is freed. An unknown id is refused. */
  g_ptr_array_set_size (changed, 0);
  g_assert_true (ssq_server_store_begin (store, &error));
  g_assert_true (ssq_server_store_media_set_image (store, "f1", 4000, 3000, "cc", "image/png",
                                                   changed, freed, &error));
  g_assert_false (ssq_server_store_media_set_image (store, "f9", 1, 1, NULL, NULL, changed,
                                                    freed, &error));
  g_assert_error (error, SSQ_ERROR, SSQ_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_true (ssq_server_store_commit (store, &error));
  g_assert_cmpuint (freed->len, ==, 1);
  g_assert_cmpstr (freed->pdata[0], ==, "bb");
  g_assert_cmpint (((SsqMessageRow *) changed->pdata[0])->rev, ==, 2);
}

static guint64
owed (SsqServerStore *store)
{
  g_autoptr(GError) error = NULL;
  guint64 n = 0;

  g_assert_true (ssq_server_store_media_thumbnails_owed (store, &n, &error));
  g_assert_no_error (error);
  return n;
}

/* Thumbnails owed: images stored before schema 5 without one are owed
 * theirs; an upload of an image is owed one until it is made or fails; an
 * upload of bytes whose thumbnail exists takes it at once. */
static void
test_thumbnails_owed (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = ssq_test_store_temp_db ();
  g_autoptr(GPtrArray) pending = NULL;
  g_autoptr(GPtrArray) changed = g_ptr_array_new_with_free_func ((GDestroyNotify) ssq_message_row_free);
  g_autoptr(GPtrArray) freed = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(SsqMediaRow) photo = media_row ("f5", "u1", "p.jpg", "image/jpeg", 10, "ee");
  g_autoptr(SsqMediaRow) again = media_row ("f6", "u2", "q.jpg", "image/jpeg", 10, "ee");
  g_autoptr(SsqMediaRow) broken = media_row ("f7", "u1", "b.png", "image/png", 10, "ff");
  g_autoptr(SsqMediaRow) f6 = NULL;
  SsqServerStore *store = ssq_server_store_open_at_version (path, 4, &error);

  g_assert_no_error (error);
  g_assert_true (ssq_server_store_exec (store,
    "INSERT INTO media (id, uploader, name, mime, size, sha256, created_at) VALUES "
    "  ('f1', 'u1', 'a.png', 'image/png', 1, 'aa', 1), "
    "  ('f3', 'u1', 'c.pdf', 'application/pdf', 1, 'cc', 3);"
    "INSERT INTO media (id, uploader, name, mime, size, sha256, created_at, thumbnail_hash, "
    "  thumbnail_mime) VALUES ('f2', 'u1', 'b.jpg', 'image/jpeg', 1, 'bb', 2, 'tb', 'image/jpeg');",
    &error));
  g_assert_no_error (error);
  ssq_server_store_close (store);
  store = ssq_server_store_open (path, TRUE, &error);
  g_assert_no_error (error);
  /* Only the image without a thumbnail. */
  g_assert_cmpuint (owed (store), ==, 1);
  pending = ssq_server_store_media_thumbnails_pending (store, 10, &error);
  g_assert_cmpuint (pending->len, ==, 1);
  g_assert_cmpstr (((SsqMediaRow *) pending->pdata[0])->id, ==, "f1");
  g_clear_pointer (&pending, g_ptr_array_unref);

  /* New images: owed, none of the same bytes has a thumbnail yet. */
  photo->thumbnail_pending = again->thumbnail_pending = broken->thumbnail_pending = TRUE;
  photo->created_at = 10;
  broken->created_at = 11;
  g_assert_true (ssq_server_store_begin (store, &error));
  g_assert_true (ssq_server_store_media_share_image (store, photo, &error));
  g_assert_true (photo->thumbnail_pending);
  g_assert_true (ssq_server_store_media_insert (store, photo, 0, &error));
  g_assert_true (ssq_server_store_media_insert (store, broken, 0, &error));
  g_assert_true (ssq_server_store_commit (store, &error));
  g_assert_cmpuint (owed (store), ==, 3);
  /* The oldest first, as many as asked for. */
  pending = ssq_server_store_media_thumbnails_pending (store, 2, &error);
  g_assert_cmpuint (pending->len, ==, 2);
  g_assert_cmpstr (((SsqMediaRow *) pending->pdata[0])->id, ==, "f1");
  g_assert_cmpstr (((SsqMediaRow *) pending->pdata[1])->id, ==, "f5");

  /* Made, failed: no longer owed. */
  g_assert_true (ssq_server_store_begin (store, &error));
  g_assert_true (ssq_server_store_media_set_image (store, "f5", 300, 200, "te", "image/jpeg",
                                                   changed, freed, &error));
  g_assert_true (ssq_server_store_media_thumbnail_failed (store, "f7", &error));
  g_assert_true (ssq_server_store_media_thumbnail_failed (store, "gone", &error));
  g_assert_true (ssq_server_store_commit (store, &error));
  g_assert_cmpuint (owed (store), ==, 1);

  /* The same bytes again: the thumbnail and size are there already. */
  g_assert_true (ssq_server_store_begin (store, &error));
  g_assert_true (ssq_server_store_media_share_image (store, again, &error));
  g_assert_false (again->thumbnail_pending);
  g_assert_cmpstr (again->thumbnail_hash, ==, "te");
  g_assert_cmpint (again->width, ==, 300);
  g_assert_true (ssq_server_store_media_insert (store, again, 0, &error));
  g_assert_true (ssq_server_store_commit (store, &error));
  g_assert_no_error (error);
  f6 = ssq_server_store_media_get (store, "f6", &error);
  g_assert_cmpstr (f6->thumbnail_mime, ==, "image/jpeg");
  g_assert_cmpint (f6->height, ==, 200);
  g_assert_false (f6->thumbnail_pending);
  g_assert_cmpuint (owed (store), ==, 1);
  ssq_server_store_close (store);
}

/* Waits up to 5 s for the store's threads to remove @path. */
static gboolean
file_goes (const char *path)
{
  gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

  while (g_file_test (path, G_FILE_TEST_EXISTS) && g_get_monotonic_time () < deadline)
    g_usleep (10000);
  return !g_file_test (path, G_FILE_TEST_EXISTS);
}

/* The media store on disk: equal bytes stored once, held by their pins,
 * kept while a row names them, and gone (on its threads) once neither
 * holds them; leftovers and files no row names are swept at start. */
static void
test_media_store (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = ssq_test_store_temp_db ();
  g_autofree char *dir = g_path_get_dirname (path);
  g_autoptr(SsqServerStore) store = ssq_server_store_open (path, FALSE, &error);
  g_autoptr(SsqServerMedia) media = NULL;
  g_autoptr(GBytes) bytes = g_bytes_new_static ("thumbnail bytes", 15);
  g_autoptr(GBytes) other = g_bytes_new_static ("other bytes", 11);
  g_autoptr(SsqMediaRow) row = NULL;
  g_autoptr(GPtrArray) hashes = g_ptr_array_new ();
  g_autofree char *sha = NULL, *sha2 = NULL, *sha3 = NULL, *file = NULL, *file3 = NULL;
  g_autofree char *leftover = NULL;

  g_assert_no_error (error);
  media = ssq_server_media_new (dir, store, TRUE, &error);
  g_assert_no_error (error);
  sha = ssq_server_media_store_bytes (media, bytes, &error);
  sha2 = ssq_server_media_store_bytes (media, bytes, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (sha, ==, sha2);
  g_assert_cmpuint (ssq_server_media_bytes_stored (media), ==, 15);
  file = ssq_server_media_path (media, sha);
  g_assert_true (g_file_test (file, G_FILE_TEST_IS_REGULAR));

  /* Two pins: the first unpin keeps the file; a row naming it keeps it
   * after the second. */
  ssq_server_media_unpin (media, sha, store);
  g_assert_true (g_file_test (file, G_FILE_TEST_EXISTS));
  row = media_row ("f1", "u1", "t", "image/jpeg", 15, sha);
  g_assert_true (ssq_server_store_media_insert (store, row, 0, &error));
  ssq_server_media_unpin (media, sha, store);
  g_assert_true (g_file_test (file, G_FILE_TEST_EXISTS));
  /* The row goes: a release takes the file. */
  g_assert_true (ssq_server_store_exec (store, "DELETE FROM media", &error));
  g_ptr_array_add (hashes, sha);
  ssq_server_media_release (media, hashes, store);
  g_assert_true (file_goes (file));
  g_assert_cmpuint (ssq_server_media_bytes_stored (media), ==, 0);

  /* A file no row names, and a leftover upload: swept at the next start. */
  sha3 = ssq_server_media_store_bytes (media, other, &error);
  file3 = ssq_server_media_path (media, sha3);
  leftover = g_build_filename (ssq_server_media_tmp_dir (media), "upload-cut", NULL);
  g_assert_true (g_file_set_contents (leftover, "half", -1, NULL));
  ssq_server_media_close (media);
  g_clear_pointer (&media, ssq_server_media_unref);
  media = ssq_server_media_new (dir, store, TRUE, &error);
  g_assert_no_error (error);
  g_assert_false (g_file_test (file3, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (leftover, G_FILE_TEST_EXISTS));
  g_assert_cmpuint (ssq_server_media_bytes_stored (media), ==, 0);
  ssq_server_media_close (media);
}

/* Range headers as clients, proxies and attackers write them (a file of
 * 1000 bytes, and an empty one). */
static void
test_download_range (void)
{
  static const struct {
    const char *header;
    goffset     size;
    SsqRange    kind;
    goffset     start, end;
  } cases[] = {
    { NULL, 1000, SSQ_RANGE_WHOLE, 0, 0 },
    { "bytes=0-0", 1000, SSQ_RANGE_PART, 0, 0 },
    { "bytes=10-19", 1000, SSQ_RANGE_PART, 10, 19 },
    { "BYTES=10-19", 1000, SSQ_RANGE_PART, 10, 19 },
    { "bytes= 10-19", 1000, SSQ_RANGE_PART, 10, 19 },
    { "bytes=990-", 1000, SSQ_RANGE_PART, 990, 999 },
    { "bytes=995-99999999999", 1000, SSQ_RANGE_PART, 995, 999 },
    { "bytes=-100", 1000, SSQ_RANGE_PART, 900, 999 },
    { "bytes=-5000", 1000, SSQ_RANGE_PART, 0, 999 },
    { "bytes=1000-", 1000, SSQ_RANGE_UNSATISFIABLE, 0, 0 },
    { "bytes=-0", 1000, SSQ_RANGE_UNSATISFIABLE, 0, 0 },
    { "bytes=0-", 0, SSQ_RANGE_UNSATISFIABLE, 0, 0 },
    { "bytes=-1", 0, SSQ_RANGE_UNSATISFIABLE, 0, 0 },
    { "bytes=9223372036854775807-", 1000, SSQ_RANGE_UNSATISFIABLE, 0, 0 },
    /* Ignored: the whole file. */
    { "bytes=0-1,5-6", 1000, SSQ_RANGE_WHOLE, 0, 0 },
    { "bytes=5-3", 1000, SSQ_RANGE_WHOLE, 0, 0 },
    { "bytes=-", 1000, SSQ_RANGE_WHOLE, 0, 0 },
    { "bytes=", 1000, SSQ_RANGE_WHOLE, 0, 0 },
    { "bytes=abc-", 1000, SSQ_RANGE_WHOLE, 0, 0 },
    { "bytes=1-2-3", 1000, SSQ_RANGE_WHOLE, 0, 0 },
    { "bytes=--1", 1000, SSQ_RANGE_WHOLE, 0, 0 },
    { "bytes=+1-2", 1000, SSQ_RANGE_WHOLE, 0, 0 },
    { "bytes=0x10-20", 1000, SSQ_RANGE_WHOLE, 0, 0 },
    { "bytes=18446744073709551616-", 1000, SSQ_RANGE_WHOLE, 0, 0 },
    { "bytes=1 -2", 1000, SSQ_RANGE_WHOLE, 0, 0 },
    { "items=0-1", 1000, SSQ_RANGE_WHOLE, 0, 0 },
    { "bytes 0-1", 1000, SSQ_RANGE_WHOLE, 0, 0 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      goffset start = -1, end = -1;
      SsqRange kind = ssq_server_download_range (cases[i].header, cases[i].size, &start, &end);

      g_test_message ("%s of %" G_GINT64_FORMAT, cases[i].header, cases[i].size);
      g_assert_cmpint (kind, ==, cases[i].kind);
      if (kind == SSQ_RANGE_PART)
        {
          g_assert_cmpint (start, ==, cases[i].start);
          g_assert_cmpint (end, ==, cases[i].end);
        }
    }
  g_assert_true (ssq_server_download_etag_matches ("\"a\"", "\"a\""));
  g_assert_true (ssq_server_download_etag_matches ("\"x\", W/\"a\"", "\"a\""));
  g_assert_true (ssq_server_download_etag_matches (" * ", "\"a\""));
  g_assert_false (ssq_server_download_etag_matches ("\"ab\"", "\"a\""));
  g_assert_false (ssq_server_download_etag_matches ("a", "\"a\""));
  g_assert_false (ssq_server_download_etag_matches (",,,", "\"a\""));
  g_assert_false (ssq_server_download_etag_matches (NULL, "\"a\""));
}

/* Content-Disposition: the real name encoded, an ASCII stand-in that no
 * byte of the name can break out of. */
static void
test_download_disposition (void)
{
  static const struct {
    const char *name;
    gboolean    show_inline;
    const char *header;
  } cases[] = {
    { "photo.jpg", TRUE, "Content-Disposition: inline; filename=\"photo.jpg\"; "
                         "filename*=UTF-8''photo.jpg\r\n" },
    { "d\xc3\xa9j\xc3\xa0 \"vu\".pdf", FALSE,
      "Content-Disposition: attachment; filename=\"d_j_ _vu_.pdf\"; "
      "filename*=UTF-8''d%C3%A9j%C3%A0%20%22vu%22.pdf\r\n" },
    { "a\\b;c=d%.txt", FALSE, "Content-Disposition: attachment; filename=\"a_b;c=d%.txt\"; "
                                "filename*=UTF-8''a%5Cb%3Bc%3Dd%25.txt\r\n" },
    /* Not from an upload (those are checked), but still kept in: */
    { "x\r\nSet-Cookie: y\xff\xc3", FALSE,
      "Content-Disposition: attachment; filename=\"x__Set-Cookie: y__\"; "
      "filename*=UTF-8''x%0D%0ASet-Cookie%3A%20y%FF%C3\r\n" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GString) h = g_string_new (NULL);

      ssq_server_download_disposition (h, cases[i].show_inline, cases[i].name);
      g_assert_cmpstr (h->str, ==, cases[i].header);
    }
  g_assert_true (ssq_server_download_inline ("image/jpeg"));
  g_assert_false (ssq_server_download_inline ("image/svg+xml"));
  g_assert_false (ssq_server_download_inline ("text/html"));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/server/store/migrate-media", test_migrate_media);
  g_test_add_func ("/server/store/media-set-image", test_media_set_image);
  g_test_add_func ("/server/store/thumbnails-owed", test_thumbnails_owed);
  g_test_add_func ("/server/media/store", test_media_store);
  g_test_add_func ("/server/media/download-range", test_download_range);
  g_test_add_func ("/server/media/download-disposition", test_download_disposition);
  return g_test_run ();
}
