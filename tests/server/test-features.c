/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-features.c: [features] switches on a real server: what
 * GET /api/v1/server reports, the routes of a feature switched off
 * answering feature_disabled, and nothing of it running meanwhile. */
#include "ssq-test-media.h"
#include "ssq-test-images.h"
#include "ssq-json.h"

#include <string.h>

#define WAIT_MS 10000

/* The test launcher's own lines, then @extra: a restart reads it. */
static void
set_config (SsqTestServer *s,
            const char    *extra)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *config = g_strdup_printf ("[security]\npwhash_opslimit=1\npwhash_memlimit=8192\n"
                                             "[limits]\nregistrations_per_hour=0\n%s", extra);

  g_file_set_contents (s->config_path, config, -1, &error);
  g_assert_no_error (error);
}

static JsonObject *
server_info (SsqTestServer *s)
{
  guint status = 0;
  JsonObject *info = ssq_test_http (s, "GET", "/api/v1/server", NULL, NULL, &status);

  g_assert_cmpuint (status, ==, 200);
  g_assert_nonnull (info);
  return info;
}

static gboolean
feature (JsonObject *info,
         const char *name)
{
  return json_object_get_boolean_member (json_object_get_object_member (info, "features"), name);
}

static void
assert_disabled (JsonObject *reply,
                 guint       status)
{
  g_assert_cmpuint (status, ==, 403);
  g_assert_cmpstr (ssq_test_error_code (reply), ==, "feature_disabled");
}

/* Defaults: everything built is on; the reserved ones are off. */
static void
test_info_defaults (void)
{
  g_autoptr(SsqTestServer) s = ssq_test_server_start (NULL, "[media]\nmax_size=5000000\n");
  g_autoptr(JsonObject) info = server_info (s);
  JsonObject *limits = json_object_get_object_member (info, "limits");
  guint status = 0;
  g_autoptr(JsonObject) refused = ssq_test_http (s, "GET", "/api/v1/server?x=1", NULL, NULL,
                                                 &status);

  g_assert_cmpuint (status, ==, 400);
  g_assert_cmpstr (json_object_get_string_member (info, "version"), !=, "");
  g_assert_cmpint (json_object_get_int_member (info, "protocol"), ==, 1);
  g_assert_true (feature (info, "media"));
  g_assert_true (feature (info, "registration"));
  g_assert_true (feature (info, "broker"));
  /* On by default, but never for a server listening on loopback only. */
  g_assert_false (feature (info, "discovery"));
  g_assert_cmpint (json_object_get_int_member (limits, "media_max_size"), ==, 5000000);
  g_assert_cmpint (json_object_get_int_member (limits, "max_frame_size"), ==, 65536);
  g_assert_cmpint (json_object_get_int_member (limits, "body_max"), ==, 16384);
}

/* registration=false: no account is made, not even the first; accounts
 * made before still log in. broker=true (the default) keeps the broker
 * on; discovery=false turns the announcement off. */
static void
test_registration_off (void)
{
  g_autoptr(SsqTestServer) s = ssq_test_server_start (NULL, NULL);
  g_autoptr(SsqTestUser) alice = ssq_test_register (s, "alice");
  g_autoptr(JsonObject) info = NULL;
  g_autoptr(JsonObject) reply = NULL;
  guint status = 0;

  g_assert_cmpint (ssq_test_server_stop (s), ==, 0);
  set_config (s, "[features]\nregistration=false\nbroker=true\ndiscovery=false\n");
  ssq_test_server_restart (s);

  info = server_info (s);
  g_assert_false (feature (info, "registration"));
  g_assert_true (feature (info, "media"));
  g_assert_true (feature (info, "broker"));
  reply = ssq_test_http (s, "POST", "/api/v1/register", NULL,
                         "{\"username\":\"bob\",\"password\":\"password-bob\"}", &status);
  assert_disabled (reply, status);
  g_test_message ("%s", json_object_get_string_member (json_object_get_object_member (reply, "error"),
                                                       "message"));
  g_clear_pointer (&reply, json_object_unref);
  reply = ssq_test_http (s, "POST", "/api/v1/login", NULL,
                         "{\"username\":\"bob\",\"password\":\"password-bob\"}", &status);
  g_assert_cmpuint (status, ==, 401);
  g_clear_pointer (&reply, json_object_unref);
  reply = ssq_test_http (s, "POST", "/api/v1/login", NULL,
                         "{\"username\":\"alice\",\"password\":\"password-alice\"}", &status);
  g_assert_cmpuint (status, ==, 200);
}

static GBytes *
png_bytes (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("ssq-png-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "a.png", NULL);
  g_autoptr(GdkPixbuf) image = ssq_test_image_marked (640, 480, FALSE);
  char *data = NULL;
  gsize len = 0;

  ssq_test_image_save (image, path, "png");
  g_file_get_contents (path, &data, &len, &error);
  g_assert_no_error (error);
  ssq_test_remove_tree (dir);
  return g_bytes_new_take (data, len);
}

/* media=false: every media route and a send carrying media answer
 * feature_disabled; the thumbnail an image is owed is not made and an
 * orphan upload does not expire while it is off; both happen again once
 * media are back. */
static void
test_media_off (void)
{
  g_autoptr(SsqTestServer) s = ssq_test_server_start (NULL, "[media]\nthumbnail_workers=0\n");
  g_autoptr(SsqTestUser) alice = ssq_test_register (s, "alice");
  g_autoptr(GBytes) png = png_bytes ();
  g_autofree char *image = ssq_test_media_upload_ok (s, alice->token, "a.png", png);
  g_autofree char *conversation = NULL;
  g_autofree char *thumbnail = g_strdup_printf ("/api/v1/media/%s/thumbnail", image);
  g_autofree char *media_json = g_strdup_printf ("[\"%s\"]", image);
  g_autoptr(SsqTestUser) bob = ssq_test_register (s, "bob");
  g_autoptr(JsonObject) info = NULL;
  g_autoptr(JsonObject) reply = NULL;
  g_autoptr(GBytes) small = g_bytes_new_static ("hello", 5);
  guint status = 0;

  conversation = ssq_test_create_conversation (s, alice, "{\"kind\":\"direct\",\"members\":[\"bob\"]}");
  g_assert_cmpint (ssq_test_metric (s, "ssq_thumbnail_queue_length"), ==, 1);
  g_assert_cmpint (ssq_test_server_stop (s), ==, 0);
  set_config (s, "[media]\nthumbnail_workers=2\norphan_expiry=1\n[features]\nmedia=false\n");
  ssq_test_server_restart (s);

  info = server_info (s);
  g_assert_false (feature (info, "media"));
  g_assert_false (json_object_has_member (json_object_get_object_member (info, "limits"),
                                          "media_max_size"));
  reply = ssq_test_media_upload (s, alice->token, "b.txt", small, &status);
  assert_disabled (reply, status);
  g_assert_cmpuint (ssq_test_media_status (s, alice->token, image), ==, 403);
  g_clear_pointer (&reply, json_object_unref);
  reply = ssq_test_http (s, "GET", thumbnail, alice->token, NULL, &status);
  assert_disabled (reply, status);
  g_clear_pointer (&reply, json_object_unref);
  status = ssq_test_post_with_media (s, alice->token, conversation, "m1", media_json, &reply);
  assert_disabled (reply, status);
  /* Off before the token is looked at: the same answer without one. */
  g_clear_pointer (&reply, json_object_unref);
  reply = ssq_test_http (s, "GET", thumbnail, NULL, NULL, &status);
  assert_disabled (reply, status);
  /* Twice the expiry, and time for a thumbnail. */
  ssq_test_wait_ms (2500);
  g_assert_cmpint (ssq_test_metric (s, "ssq_thumbnails_made_total"), ==, 0);
  g_assert_cmpint (ssq_test_metric (s, "ssq_thumbnail_queue_length"), ==, 1);
  g_assert_cmpuint (ssq_test_media_files (s, FALSE), ==, 1);

  g_assert_cmpint (ssq_test_server_stop (s), ==, 0);
  set_config (s, "[media]\nthumbnail_workers=2\n");
  ssq_test_server_restart (s);
  g_assert_cmpuint (ssq_test_media_status (s, alice->token, image), ==, 200);
  for (gint64 deadline = g_get_monotonic_time () + WAIT_MS * 1000;
       ssq_test_metric (s, "ssq_thumbnails_made_total") == 0 && g_get_monotonic_time () < deadline;)
    ssq_test_wait_ms (50);
  g_assert_cmpint (ssq_test_metric (s, "ssq_thumbnails_made_total"), ==, 1);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/server/features/info-defaults", test_info_defaults);
  g_test_add_func ("/server/features/registration-off", test_registration_off);
  g_test_add_func ("/server/features/media-off", test_media_off);
  return g_test_run ();
}
