/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-media-images.c: images through the real server binary: a phone
 * photo's personal metadata stripped from the stored copy (read back with
 * gexiv2 and in the bytes), its upright size in the media object, its
 * thumbnail made in the background, served like a download and announced
 * to the members by a message update, thumbnails still owed across a
 * restart and past a full queue, broken and oversized images that get
 * none while the server serves on, and the /metrics series. Images are
 * real files (ssq-test-images.c). Timings are printed, never asserted. */
#include "ssq-test-images.h"
#include "ssq-test-media.h"
#include "ssq-test-raw.h"
#include "ssq-json.h"
#include "ssq-wire.h"

#include <gexiv2/gexiv2.h>
#include <glib/gstdio.h>
#include <string.h>

#define WAIT_MS  SSQ_TEST_RAW_WAIT_MS
/* Thumbnails are made in the background: room for a loaded machine. */
#define THUMB_WAIT_MS 20000

#define MEDIA_CONFIG "[media]\nuploads_per_minute=0\n"
#define GROUP_WITH_BOB "{\"kind\":\"group\",\"title\":\"t\",\"members\":[\"bob\"]}"

/* ---- Helpers ------------------------------------------------------------ */

/* The bytes of an image made by @make in a temporary directory. */
static GBytes *
image_bytes (void (*make) (const char *path))
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("ssq-img-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "image", NULL);
  char *data = NULL;
  gsize len = 0;

  g_assert_no_error (error);
  make (path);
  g_assert_true (g_file_get_contents (path, &data, &len, NULL));
  g_unlink (path);
  g_rmdir (dir);
  return g_bytes_new_take (data, len);
}

static void
make_phone_photo (const char *path)
{
  ssq_test_image_phone_photo (path);
}

/* 600x400, no alpha: a JPEG thumbnail of 320x213. */
static void
make_png (const char *path)
{
  g_autoptr(GdkPixbuf) pixbuf = ssq_test_image_marked (600, 400, FALSE);

  ssq_test_image_save (pixbuf, path, "png");
}

/* A PNG cut in the middle of its image data. */
static void
make_cut_png (const char *path)
{
  g_autofree char *data = NULL;
  gsize len = 0;

  make_png (path);
  g_assert_true (g_file_get_contents (path, &data, &len, NULL));
  ssq_test_write_file (path, data, len / 2);
}

/* A PNG whose header declares 100,000 x 100,000 pixels (a few KB on disk):
 * decoding it would take 40 GB. */
static void
make_huge_png (const char *path)
{
  ssq_test_image_declared_png (path, 100000, 100000, 1);
}

/* Uploads @data as @name: the media object (the status must be 201). */
static JsonObject *
upload (SsqTestServer *s,
        const char    *token,
        const char    *name,
        GBytes        *data)
{
  guint status = 0;
  g_autoptr(JsonObject) reply = ssq_test_media_upload (s, token, name, data, &status);

  g_assert_cmpuint (status, ==, 201);
  return json_object_ref (json_object_get_object_member (reply, "media"));
}

typedef struct {
  SsqTestServer *s;
  const char    *token;
  const char    *id;
} ThumbWait;

static gboolean
thumbnail_there_cb (gpointer data)
{
  ThumbWait *w = data;
  g_autofree char *path = g_strdup_printf ("/api/v1/media/%s/thumbnail", w->id);
  g_auto(SsqTestDownload) d = { 0 };

  ssq_test_fetch (w->s, "GET", path, w->token, NULL, &d);
  return d.status == 200;
}

/* Polls GET .../thumbnail until it answers 200. */
static gboolean
wait_thumbnail (SsqTestServer *s,
                const char    *token,
                const char    *id)
{
  ThumbWait w = { s, token, id };

  return ssq_test_wait_until (thumbnail_there_cb, &w, THUMB_WAIT_MS);
}

typedef struct {
  SsqTestServer *s;
  const char    *name;
  gint64         value;
} MetricWait;

static gboolean
metric_reached_cb (gpointer data)
{
  MetricWait *w = data;

  return ssq_test_metric (w->s, w->name) >= w->value;
}

static gboolean
wait_metric (SsqTestServer *s,
             const char    *name,
             gint64         value)
{
  MetricWait w = { s, name, value };

  return ssq_test_wait_until (metric_reached_cb, &w, THUMB_WAIT_MS);
}

/* Stops @s, turns its thumbnail workers on (the test's config had
 * "thumbnail_workers=0") and starts it again. */
static void
restart_with_workers (SsqTestServer *s)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *config = NULL;
  char *off;

  g_assert_cmpint (ssq_test_server_stop (s), ==, 0);
  g_assert_true (g_file_get_contents (s->config_path, &config, NULL, NULL));
  off = strstr (config, "thumbnail_workers=0");
  g_assert_nonnull (off);
  off[0] = '#';
  g_file_set_contents (s->config_path, config, -1, &error);
  g_assert_no_error (error);
  ssq_test_server_restart (s);
}

/* The first media object of a `message` object. */
static JsonObject *
first_media (JsonObject *message)
{
  return json_array_get_object_element (json_object_get_array_member (message, "media"), 0);
}

/* ---- EXIF stripped, upright size -------------------------------------- */

/* A phone photo (1200x800 stored, EXIF orientation 6, GPS, serial number,
 * names, XMP and IPTC places, a comment, an EXIF preview, a vendor segment
 * and a trailer) uploaded over HTTP: the stored copy has none of it but the
 * orientation; its size is the upright 800x1200, known at the 201; the
 * same bytes uploaded again are still one file. */
static void
test_photo_stripped (void)
{
  g_autoptr(SsqTestServer) s = ssq_test_server_start (NULL, MEDIA_CONFIG);
  g_autoptr(SsqTestUser) alice = ssq_test_register (s, "alice");
  g_autoptr(SsqTestUser) bob = ssq_test_register (s, "bob");
  g_autoptr(GBytes) photo = image_bytes (make_phone_photo);
  g_autoptr(JsonObject) media = NULL;
  g_autoptr(JsonObject) media2 = NULL;
  g_autoptr(GExiv2Metadata) meta = gexiv2_metadata_new ();
  g_autoptr(GError) error = NULL;
  g_auto(SsqTestDownload) d = { 0 };
  g_auto(GStrv) tags = NULL;
  g_autofree char *got_hash = NULL;
  g_autofree char *sent_hash = ssq_test_sha256 (photo);
  g_autofree char *etag = NULL;
  const char *const *secrets = ssq_test_image_phone_secrets;
  double lon, lat, alt;

  /* The upload has them all, or the test proves nothing. */
  for (guint i = 0; secrets[i] != NULL; i++)
    g_assert_true (ssq_test_bytes_contain (photo, secrets[i]));

  media = upload (s, alice->token, "IMG_0001.jpg", photo);
  g_assert_cmpstr (json_object_get_string_member (media, "mime"), ==, "image/jpeg");
  g_assert_cmpint (json_object_get_int_member (media, "width"), ==, 800);
  g_assert_cmpint (json_object_get_int_member (media, "height"), ==, 1200);

  ssq_test_media_get (s, alice->token, json_object_get_string_member (media, "id"), NULL, &d);
  g_assert_cmpuint (d.status, ==, 200);
  /* The size is the stored copy's. */
  g_assert_cmpint (json_object_get_int_member (media, "size"), ==, g_bytes_get_size (d.body));
  g_assert_cmpuint (g_bytes_get_size (d.body), <, g_bytes_get_size (photo));
  for (guint i = 0; secrets[i] != NULL; i++)
    if (ssq_test_bytes_contain (d.body, secrets[i]))
      g_error ("%s is in the stored copy", secrets[i]);
  g_assert_true (gexiv2_metadata_open_buf (meta, g_bytes_get_data (d.body, NULL),
                                           (glong) g_bytes_get_size (d.body), &error));
  g_assert_no_error (error);
  g_assert_false (gexiv2_metadata_try_get_gps_info (meta, &lon, &lat, &alt, NULL));
  tags = gexiv2_metadata_get_exif_tags (meta);
  for (guint i = 0; tags[i] != NULL; i++)
    g_assert_false (g_str_has_prefix (tags[i], "Exif.GPSInfo."));
  g_assert_cmpint (gexiv2_metadata_try_get_orientation (meta, &error), ==,
                   GEXIV2_ORIENTATION_ROT_90);
  g_assert_no_error (error);

  /* Named by the copy's hash; the upload's bytes are nowhere. */
  got_hash = ssq_test_sha256 (d.body);
  etag = g_strdup_printf ("\"%s\"", got_hash);
  g_assert_cmpstr (ssq_test_download_header (&d, "ETag"), ==, etag);
  g_assert_cmpstr (got_hash, !=, sent_hash);
  g_assert_cmpint (ssq_test_db_count (s, "SELECT COUNT(DISTINCT sha256) FROM media"), ==, 1);

  /* The same photo from someone else: another media, the same file (and
   * thumbnail, once made). */
  g_assert_true (wait_thumbnail (s, alice->token, json_object_get_string_member (media, "id")));
  media2 = upload (s, bob->token, "same.jpg", photo);
  g_assert_cmpstr (json_object_get_string_member (media2, "id"), !=,
                   json_object_get_string_member (media, "id"));
  g_assert_cmpint (json_object_get_int_member (media2, "size"), ==,
                   json_object_get_int_member (media, "size"));
  /* Equal bytes take the thumbnail made already, at once. */
  g_assert_true (json_object_get_boolean_member (media2, "thumbnail"));
  g_assert_cmpint (ssq_test_db_count (s, "SELECT COUNT(DISTINCT sha256) FROM media"), ==, 1);
  g_assert_cmpuint (ssq_test_media_files (s, FALSE), ==, 2);   /* the photo, its thumbnail */
  g_assert_cmpint (ssq_test_metric (s, "ssq_thumbnails_made_total"), ==, 1);
}

/* A file that is sniffed as a JPEG but cannot be read as one is refused
 * (400): stored as it came, it could still carry a position. */
static void
test_broken_jpeg_refused (void)
{
  static const char broken[] = "\xff\xd8\xff\xe1\x40\x00" "Exif\0\0" "GPS somewhere";
  g_autoptr(SsqTestServer) s = ssq_test_server_start (NULL, MEDIA_CONFIG);
  g_autoptr(SsqTestUser) alice = ssq_test_register (s, "alice");
  g_autoptr(GBytes) data = g_bytes_new_static (broken, sizeof broken - 1);
  g_autoptr(JsonObject) reply = NULL;
  SsqWireError error;
  guint status = 0;

  reply = ssq_test_media_upload (s, alice->token, "broken.jpg", data, &status);
  g_assert_cmpuint (status, ==, 400);
  g_assert_true (ssq_wire_error_reply_decode (reply, &error));
  g_assert_cmpstr (error.code, ==, "invalid");
  g_test_message ("%s", error.message);
  g_assert_nonnull (strstr (error.message, "JPEG"));
  g_assert_cmpint (ssq_test_db_count (s, "SELECT COUNT(*) FROM media"), ==, 0);
  g_assert_cmpuint (ssq_test_media_files (s, FALSE), ==, 0);
  g_assert_true (ssq_test_wait_until (ssq_test_media_tmp_empty_cb, s, WAIT_MS));
  ssq_test_assert_healthz (s);
}

/* ---- The thumbnail ------------------------------------------------------- */

/* The photo's thumbnail: 213x320, upright (the stored top-left corner,
 * red, at the top right), served with the download's headers and access
 * rules. */
static void
test_thumbnail_served (void)
{
  g_autoptr(SsqTestServer) s = ssq_test_server_start (NULL, MEDIA_CONFIG);
  g_autoptr(SsqTestUser) alice = ssq_test_register (s, "alice");
  g_autoptr(SsqTestUser) bob = ssq_test_register (s, "bob");
  g_autoptr(SsqTestUser) eve = ssq_test_register (s, "eve");
  g_autoptr(GBytes) photo = image_bytes (make_phone_photo);
  g_autoptr(JsonObject) media = upload (s, alice->token, "photo.jpg", photo);
  const char *id = json_object_get_string_member (media, "id");
  g_autofree char *path = g_strdup_printf ("/api/v1/media/%s/thumbnail", id);
  g_autofree char *conv = ssq_test_create_conversation (s, alice, GROUP_WITH_BOB);
  g_autofree char *media_json = g_strdup_printf ("[\"%s\"]", id);
  g_autoptr(GdkPixbuf) decoded = NULL;
  g_auto(SsqTestDownload) d = { 0 };
  g_auto(SsqTestDownload) again = { 0 };
  g_auto(SsqTestDownload) hidden = { 0 };
  g_autofree char *hash = NULL;
  g_autofree char *etag = NULL;
  gint64 t0 = g_get_monotonic_time ();
  int w, h;

  g_assert_true (wait_thumbnail (s, alice->token, id));
  g_test_message ("thumbnail there %.0f ms after the 201", (g_get_monotonic_time () - t0) / 1e3);
  g_assert_cmpuint (ssq_test_post_with_media (s, alice->token, conv, "k1", media_json, NULL), ==,
                    201);

  ssq_test_fetch (s, "GET", path, bob->token, NULL, &d);
  g_assert_cmpuint (d.status, ==, 200);
  g_assert_cmpstr (ssq_test_download_header (&d, "Content-Type"), ==, "image/jpeg");
  g_assert_cmpstr (ssq_test_download_header (&d, "X-Content-Type-Options"), ==, "nosniff");
  hash = ssq_test_sha256 (d.body);
  etag = g_strdup_printf ("\"%s\"", hash);
  g_assert_cmpstr (ssq_test_download_header (&d, "ETag"), ==, etag);
  decoded = ssq_test_image_decode (d.body);
  w = gdk_pixbuf_get_width (decoded);
  h = gdk_pixbuf_get_height (decoded);
  g_assert_cmpint (w, ==, 213);
  g_assert_cmpint (h, ==, 320);
  g_assert_true (ssq_test_image_colour_near (ssq_test_image_pixel (decoded, w - 4, 4), SSQ_TEST_RED));
  g_assert_true (ssq_test_image_colour_near (ssq_test_image_pixel (decoded, 4, 4), SSQ_TEST_GREY));

  {
    const char *headers[] = { "If-None-Match", etag, NULL };

    ssq_test_fetch (s, "GET", path, bob->token, headers, &again);
    g_assert_cmpuint (again.status, ==, 304);
  }
  /* Not a member: the same 404 as for an unknown id. */
  ssq_test_fetch (s, "GET", path, eve->token, NULL, &hidden);
  g_assert_cmpuint (hidden.status, ==, 404);
  g_assert_cmpint (ssq_test_metric (s, "ssq_thumbnails_made_total"), ==, 1);
  g_assert_cmpint (ssq_test_metric (s, "ssq_thumbnail_queue_length"), ==, 0);
}

/* A message carrying the photo goes out at once; when the thumbnail is
 * made, every member gets the message again (same seq, a new rev, not
 * edited) with "thumbnail": true. History and sync then have it too. */
static void
test_update_event (void)
{
  g_autoptr(SsqTestServer) s = ssq_test_server_start (NULL, MEDIA_CONFIG);
  g_autoptr(SsqTestUser) alice = ssq_test_register (s, "alice");
  g_autoptr(SsqTestUser) bob = ssq_test_register (s, "bob");
  g_autofree char *conv = ssq_test_create_conversation (s, alice, GROUP_WITH_BOB);
  g_autoptr(SsqTestWs) wa = ssq_test_ws_connect (s, alice->token, NULL);
  g_autoptr(SsqTestWs) wb = ssq_test_ws_connect (s, bob->token, NULL);
  g_autoptr(GBytes) photo = image_bytes (make_phone_photo);
  g_autoptr(JsonObject) media = upload (s, alice->token, "photo.jpg", photo);
  const char *id = json_object_get_string_member (media, "id");
  g_autofree char *frame = g_strdup_printf ("{\"type\":\"send\",\"conversation_id\":\"%s\","
                                            "\"client_id\":\"w1\",\"body\":\"look\","
                                            "\"media\":[\"%s\"]}", conv, id);
  g_autoptr(JsonObject) ack = ssq_test_ws_request (wa, frame);
  JsonObject *sent = json_object_get_object_member (ack, "message");
  gint64 seq = json_object_get_int_member (sent, "seq");
  gboolean at_once = json_object_get_boolean_member (first_media (sent), "thumbnail");
  SsqTestWs *sessions[] = { wa, wb };

  /* Known at once: the size. */
  g_assert_cmpint (json_object_get_int_member (first_media (sent), "width"), ==, 800);
  g_test_message ("thumbnail %s the send", at_once ? "made before" : "made after");
  for (guint i = 0; i < G_N_ELEMENTS (sessions); i++)
    {
      g_autoptr(JsonObject) event = ssq_test_ws_expect (sessions[i], "message", WAIT_MS);
      JsonObject *message = json_object_get_object_member (event, "message");

      g_assert_cmpint (json_object_get_int_member (message, "seq"), ==, seq);
      if (!json_object_get_boolean_member (first_media (message), "thumbnail"))
        {
          /* The update: the same message, a change. */
          g_autoptr(JsonObject) update = ssq_test_ws_expect (sessions[i], "message", THUMB_WAIT_MS);
          JsonObject *updated;

          g_assert_nonnull (update);
          updated = json_object_get_object_member (update, "message");
          g_assert_cmpint (json_object_get_int_member (updated, "seq"), ==, seq);
          g_assert_cmpint (json_object_get_int_member (updated, "rev"), >, 0);
          g_assert_true (json_object_get_null_member (updated, "edited_at"));
          g_assert_cmpstr (json_object_get_string_member (updated, "body"), ==, "look");
          g_assert_true (json_object_get_boolean_member (first_media (updated), "thumbnail"));
          g_assert_cmpint (json_object_get_int_member (first_media (updated), "width"), ==, 800);
          g_assert_cmpint (json_object_get_int_member (first_media (updated), "height"), ==, 1200);
        }
      /* Nothing more: one update, not one per member. */
      g_assert_true (ssq_test_ws_nothing (sessions[i], "message", 300));
    }
  /* Sent on after the thumbnail was made: it carries it, no update follows. */
  {
    g_autofree char *again = g_strdup_printf ("{\"type\":\"send\",\"conversation_id\":\"%s\","
                                              "\"client_id\":\"w2\",\"body\":\"again\","
                                              "\"media\":[\"%s\"]}", conv, id);
    g_autoptr(JsonObject) ack2 = ssq_test_ws_request (wa, again);
    g_autoptr(JsonObject) event = ssq_test_ws_expect (wb, "message", WAIT_MS);
    JsonObject *message = json_object_get_object_member (ack2, "message");

    g_assert_true (json_object_get_boolean_member (first_media (message), "thumbnail"));
    g_assert_cmpint (json_object_get_int_member (message, "rev"), ==, 0);
    g_assert_true (json_object_get_boolean_member (
      first_media (json_object_get_object_member (event, "message")), "thumbnail"));
    g_assert_true (ssq_test_ws_nothing (wb, "message", 300));
  }
  /* History has the message with its thumbnail. */
  {
    g_autofree char *path = g_strdup_printf ("/api/v1/conversations/%s/messages", conv);
    g_autoptr(JsonObject) history = ssq_test_http (s, "GET", path, bob->token, NULL, NULL);
    JsonObject *m = json_array_get_object_element (json_object_get_array_member (history,
                                                                                 "messages"), 0);

    g_assert_true (json_object_get_boolean_member (first_media (m), "thumbnail"));
  }
  /* A clean stop after it all (under valgrind: no error, no leak). */
  g_assert_cmpint (ssq_test_server_stop (s), ==, 0);
}

/* With no thumbnail workers, images stay owed their thumbnails; a restart
 * with workers makes them, and a device that syncs from its change cursor
 * gets the message again, with it. */
static void
test_owed_across_restart (void)
{
  g_autoptr(SsqTestServer) s = ssq_test_server_start (NULL, MEDIA_CONFIG "thumbnail_workers=0\n");
  g_autoptr(SsqTestUser) alice = ssq_test_register (s, "alice");
  g_autoptr(SsqTestUser) bob = ssq_test_register (s, "bob");
  g_autofree char *conv = ssq_test_create_conversation (s, alice, GROUP_WITH_BOB);
  g_autoptr(GBytes) photo = image_bytes (make_phone_photo);
  g_autoptr(JsonObject) media = upload (s, alice->token, "photo.jpg", photo);
  const char *id = json_object_get_string_member (media, "id");
  g_autofree char *media_json = g_strdup_printf ("[\"%s\"]", id);
  g_autofree char *path = g_strdup_printf ("/api/v1/media/%s/thumbnail", id);
  g_autofree char *sync = NULL;
  g_autoptr(JsonObject) reply = NULL;
  g_autoptr(JsonObject) sync_ack = NULL;
  g_autoptr(JsonObject) replay = NULL;
  g_autoptr(SsqTestWs) wb = NULL;
  JsonObject *message;
  gint64 rev;

  g_assert_false (json_object_get_boolean_member (media, "thumbnail"));
  g_assert_cmpuint (ssq_test_post_with_media (s, alice->token, conv, "k1", media_json, &reply), ==,
                    201);
  message = json_object_get_object_member (reply, "message");
  g_assert_false (json_object_get_boolean_member (first_media (message), "thumbnail"));
  rev = json_object_get_int_member (message, "rev");
  {
    g_auto(SsqTestDownload) d = { 0 };

    ssq_test_fetch (s, "GET", path, alice->token, NULL, &d);
    g_assert_cmpuint (d.status, ==, 404);
  }
  g_assert_cmpint (ssq_test_metric (s, "ssq_thumbnail_queue_length"), ==, 1);

  restart_with_workers (s);

  g_assert_true (wait_thumbnail (s, bob->token, id));
  g_assert_true (wait_metric (s, "ssq_thumbnails_made_total", 1));
  g_assert_cmpint (ssq_test_metric (s, "ssq_thumbnail_queue_length"), ==, 0);
  /* Bob held everything up to seq 1 and rev @rev: the sync sends the
   * message again, as changed after that. */
  wb = ssq_test_ws_connect (s, bob->token, NULL);
  sync = g_strdup_printf ("{\"type\":\"sync\",\"since\":{\"%s\":1},\"since_rev\":{\"%s\":%"
                          G_GINT64_FORMAT "}}", conv, conv, rev);
  sync_ack = ssq_test_ws_request (wb, sync);
  g_assert_cmpstr (json_object_get_string_member (sync_ack, "type"), ==, "ack");
  replay = ssq_test_ws_expect (wb, "message", WAIT_MS);
  g_assert_nonnull (replay);
  message = json_object_get_object_member (replay, "message");
  g_assert_cmpint (json_object_get_int_member (message, "seq"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (message, "rev"), >, rev);
  g_assert_true (json_object_get_boolean_member (first_media (message), "thumbnail"));
}

/* A queue of one and six images owed (uploaded while no worker ran): all
 * get their thumbnails, in turn, none refused. */
static void
test_queue_bound (void)
{
  g_autoptr(SsqTestServer) s = ssq_test_server_start (NULL, MEDIA_CONFIG "thumbnail_workers=0\n"
                                                      "thumbnail_queue=1\n");
  g_autoptr(SsqTestUser) alice = ssq_test_register (s, "alice");
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < 6; i++)
    {
      g_autoptr(GdkPixbuf) pixbuf = ssq_test_image_marked (300 + i, 200, FALSE);
      g_autoptr(JsonObject) media = NULL;
      g_autoptr(GBytes) png = NULL;
      char *buf = NULL;
      gsize len = 0;

      /* Each different, so that none takes another's thumbnail. */
      g_assert_true (gdk_pixbuf_save_to_buffer (pixbuf, &buf, &len, "png", NULL, NULL));
      png = g_bytes_new_take (buf, len);
      media = upload (s, alice->token, "shot.png", png);
      g_assert_cmpint (json_object_get_int_member (media, "width"), ==, 300 + i);
      g_ptr_array_add (ids, g_strdup (json_object_get_string_member (media, "id")));
    }
  g_assert_cmpint (ssq_test_metric (s, "ssq_thumbnail_queue_length"), ==, 6);
  restart_with_workers (s);
  for (guint i = 0; i < ids->len; i++)
    g_assert_true (wait_thumbnail (s, alice->token, ids->pdata[i]));
  g_assert_true (wait_metric (s, "ssq_thumbnails_made_total", 6));
  g_assert_cmpint (ssq_test_metric (s, "ssq_thumbnails_failed_total"), ==, 0);
  g_assert_cmpint (ssq_test_metric (s, "ssq_thumbnail_queue_length"), ==, 0);
}

/* ---- Images that get no thumbnail --------------------------------------- */

/* A PNG cut short and one declaring 100,000 x 100,000 pixels are stored as
 * files and get no thumbnail, counted as failed, without a crash or a big
 * allocation; the server serves on, and the next image gets its thumbnail. */
static void
test_bad_images (void)
{
  g_autoptr(SsqTestServer) s = ssq_test_server_start (NULL, MEDIA_CONFIG);
  g_autoptr(SsqTestUser) alice = ssq_test_register (s, "alice");
  g_autoptr(GBytes) cut = image_bytes (make_cut_png);
  g_autoptr(GBytes) huge = image_bytes (make_huge_png);
  g_autoptr(GBytes) good = image_bytes (make_png);
  g_autoptr(JsonObject) m_cut = NULL;
  g_autoptr(JsonObject) m_huge = NULL;
  g_autoptr(JsonObject) m_good = NULL;
  gsize baseline = ssq_test_rss_baseline (s);
  gsize growth;

  g_assert_cmpint (ssq_test_metric (s, "ssq_thumbnails_failed_total"), ==, 0);
  m_cut = upload (s, alice->token, "cut.png", cut);
  m_huge = upload (s, alice->token, "huge.png", huge);
  g_assert_cmpstr (json_object_get_string_member (m_huge, "mime"), ==, "image/png");
  g_test_message ("huge.png: %" G_GINT64_FORMAT "x%" G_GINT64_FORMAT " declared",
                  json_object_get_int_member_with_default (m_huge, "width", 0),
                  json_object_get_int_member_with_default (m_huge, "height", 0));
  g_assert_true (wait_metric (s, "ssq_thumbnails_failed_total", 2));
  growth = ssq_test_rss_growth_kb (s, baseline);
  g_test_message ("server RSS growth %" G_GSIZE_FORMAT " KiB", growth);
  if (!ssq_test_under_wrapper ())
    g_assert_cmpuint (growth, <, 50 * 1024);
  g_assert_cmpint (ssq_test_metric (s, "ssq_thumbnail_queue_length"), ==, 0);
  ssq_test_assert_healthz (s);

  for (guint i = 0; i < 2; i++)
    {
      JsonObject *m = i == 0 ? m_cut : m_huge;
      g_autofree char *path = g_strdup_printf ("/api/v1/media/%s/thumbnail",
                                               json_object_get_string_member (m, "id"));
      g_auto(SsqTestDownload) thumb = { 0 };

      ssq_test_fetch (s, "GET", path, alice->token, NULL, &thumb);
      g_assert_cmpuint (thumb.status, ==, 404);
      /* The file itself is still there, as uploaded. */
      g_assert_cmpuint (ssq_test_media_status (s, alice->token,
                                               json_object_get_string_member (m, "id")), ==, 200);
    }
  /* No longer owed: a restart does not try them again. */
  g_assert_cmpint (ssq_test_db_count (s, "SELECT COUNT(*) FROM media WHERE thumbnail_pending"), ==, 0);

  m_good = upload (s, alice->token, "good.png", good);
  g_assert_cmpint (json_object_get_int_member (m_good, "width"), ==, 600);
  g_assert_cmpint (json_object_get_int_member (m_good, "height"), ==, 400);
  g_assert_true (wait_thumbnail (s, alice->token, json_object_get_string_member (m_good, "id")));
  g_assert_true (wait_metric (s, "ssq_thumbnails_made_total", 1));
  g_assert_cmpint (ssq_test_metric (s, "ssq_thumbnails_failed_total"), ==, 2);
  g_assert_cmpint (ssq_test_server_stop (s), ==, 0);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  gexiv2_initialize ();

  g_test_add_func ("/server/media-images/photo-stripped", test_photo_stripped);
  g_test_add_func ("/server/media-images/broken-jpeg-refused", test_broken_jpeg_refused);
  g_test_add_func ("/server/media-images/thumbnail-served", test_thumbnail_served);
  g_test_add_func ("/server/media-images/update-event", test_update_event);
  g_test_add_func ("/server/media-images/owed-across-restart", test_owed_across_restart);
  g_test_add_func ("/server/media-images/queue-bound", test_queue_bound);
  g_test_add_func ("/server/media-images/bad-images", test_bad_images);
  return g_test_run ();
}
