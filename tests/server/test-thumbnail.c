/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-thumbnail.c: thumbnails (size, orientation, GIF's first frame,
 * transparency), images refused before decoding, corrupt images, EXIF
 * stripping read back with gexiv2, and the worker pool (delivery on the main
 * context, counters, the queue bound, shutdown with jobs pending), on real
 * files made with gdk-pixbuf and gexiv2 (ssq-test-images.c). */
#include "ssq-server-exif.h"
#include "ssq-server-thumbnail.h"
#include "ssq-server-thumbnail-pool.h"
#include "ssq-proto.h"
#include "ssq-test-images.h"

#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <gdk-pixbuf/gdk-pixbuf.h>
#include <gexiv2/gexiv2.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A temporary directory per test, removed with what it holds. */
typedef struct {
  char *dir;
} Fixture;

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->dir = g_dir_make_tmp ("ssq-thumb-XXXXXX", &error);
  g_assert_no_error (error);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GDir) dir = g_dir_open (f->dir, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (f->dir, name, NULL);

      g_assert_cmpint (g_unlink (path), ==, 0);
    }
  g_assert_cmpint (g_rmdir (f->dir), ==, 0);
  g_free (f->dir);
}

static char *
fixture_path (Fixture    *f,
              const char *name)
{
  return g_build_filename (f->dir, name, NULL);
}

/* ---- Thumbnails ---- */

static void
test_types (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SsqServerThumbnail) thumb = NULL;
  gboolean webp_loader = FALSE;
  g_autoptr(GSList) formats = gdk_pixbuf_get_formats ();

  for (GSList *l = formats; l != NULL; l = l->next)
    {
      g_autofree char *name = gdk_pixbuf_format_get_name (l->data);

      webp_loader |= g_str_equal (name, "webp");
    }
  g_test_message ("WebP loader installed: %s", webp_loader ? "yes" : "no");

  g_assert_true (ssq_server_thumbnail_supported ("image/jpeg"));
  g_assert_true (ssq_server_thumbnail_supported ("image/png"));
  g_assert_true (ssq_server_thumbnail_supported ("image/gif"));
  g_assert_cmpint (ssq_server_thumbnail_supported ("image/webp"), ==, webp_loader);
  /* gdk-pixbuf loads these here, but they are not ours to decode. */
  g_assert_false (ssq_server_thumbnail_supported ("image/svg+xml"));
  g_assert_false (ssq_server_thumbnail_supported ("image/tiff"));
  g_assert_false (ssq_server_thumbnail_supported ("application/pdf"));
  g_assert_false (ssq_server_thumbnail_supported (""));

  thumb = ssq_server_thumbnail_make ("/nonexistent", "image/svg+xml", 0, NULL, &error);
  g_assert_error (error, SSQ_ERROR, SSQ_ERROR_INVALID);
  g_assert_null (thumb);
}

/* Orientation 6: the stored 1200x800 image is shown 800x1200, so its
 * thumbnail is 213x320, with the stored top-left corner at the top right. */
static void
test_jpeg_orientation (Fixture       *f,
                       gconstpointer  data)
{
  g_autofree char *path = fixture_path (f, "photo.jpg");
  g_autoptr(GError) error = NULL;
  g_autoptr(SsqServerThumbnail) thumb = NULL;
  g_autoptr(GdkPixbuf) decoded = NULL;
  int w, h;

  ssq_test_image_phone_photo (path);
  thumb = ssq_server_thumbnail_make (path, "image/jpeg", 0, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (thumb->mime, ==, "image/jpeg");
  g_assert_cmpint (thumb->source_width, ==, 800);
  g_assert_cmpint (thumb->source_height, ==, 1200);
  g_assert_cmpint (thumb->width, ==, 213);
  g_assert_cmpint (thumb->height, ==, 320);

  decoded = ssq_test_image_decode (thumb->data);
  w = gdk_pixbuf_get_width (decoded);
  h = gdk_pixbuf_get_height (decoded);
  g_assert_cmpint (w, ==, 213);
  g_assert_cmpint (h, ==, 320);
  g_assert_true (ssq_test_image_colour_near (ssq_test_image_pixel (decoded, w - 4, 4), SSQ_TEST_RED));
  g_assert_true (ssq_test_image_colour_near (ssq_test_image_pixel (decoded, 4, 4), SSQ_TEST_GREY));
  g_assert_true (ssq_test_image_colour_near (ssq_test_image_pixel (decoded, w - 4, h - 4), SSQ_TEST_GREY));
}

/* Small images keep their size; a transparent PNG gives a PNG thumbnail
 * with its transparency. */
static void
test_png_alpha (Fixture       *f,
                gconstpointer  data)
{
  g_autofree char *path = fixture_path (f, "clear.png");
  g_autofree char *small = fixture_path (f, "small.png");
  g_autoptr(GdkPixbuf) pixbuf = ssq_test_image_marked (500, 1000, TRUE);
  g_autoptr(GdkPixbuf) tiny = ssq_test_image_marked (100, 40, FALSE);
  g_autoptr(GError) error = NULL;
  g_autoptr(SsqServerThumbnail) thumb = NULL;
  g_autoptr(SsqServerThumbnail) thumb_small = NULL;
  g_autoptr(GdkPixbuf) decoded = NULL;

  ssq_test_image_save (pixbuf, path, "png");
  thumb = ssq_server_thumbnail_make (path, "image/png", 0, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (thumb->mime, ==, "image/png");
  g_assert_cmpint (thumb->width, ==, 160);
  g_assert_cmpint (thumb->height, ==, 320);
  g_assert_cmpint (thumb->source_width, ==, 500);
  g_assert_cmpint (thumb->source_height, ==, 1000);
  decoded = ssq_test_image_decode (thumb->data);
  g_assert_true (gdk_pixbuf_get_has_alpha (decoded));
  g_assert_cmpuint (ssq_test_image_pixel (decoded, 2, 2) & 0xff, ==, 0);
  g_assert_cmpuint (ssq_test_image_pixel (decoded, 100, 200), ==, SSQ_TEST_GREY);

  ssq_test_image_save (tiny, small, "png");
  thumb_small = ssq_server_thumbnail_make (small, "image/png", 0, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (thumb_small->mime, ==, "image/jpeg");
  g_assert_cmpint (thumb_small->width, ==, 100);
  g_assert_cmpint (thumb_small->height, ==, 40);
}

/* An animated GIF: the thumbnail is its first frame (red), not the second
 * (blue). */
static void
test_gif_first_frame (Fixture       *f,
                      gconstpointer  data)
{
  g_autofree char *path = fixture_path (f, "anim.gif");
  static const guint8 frames[] = { 0, 1 };
  g_autoptr(GError) error = NULL;
  g_autoptr(SsqServerThumbnail) thumb = NULL;
  g_autoptr(GdkPixbuf) decoded = NULL;

  ssq_test_image_gif (path, 400, 200, frames, G_N_ELEMENTS (frames));
  thumb = ssq_server_thumbnail_make (path, "image/gif", 0, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (thumb->source_width, ==, 400);
  g_assert_cmpint (thumb->source_height, ==, 200);
  g_assert_cmpint (thumb->width, ==, 320);
  g_assert_cmpint (thumb->height, ==, 160);
  decoded = ssq_test_image_decode (thumb->data);
  g_assert_true (ssq_test_image_colour_near (ssq_test_image_pixel (decoded, 160, 80), SSQ_TEST_RED));
}

/* Broken files get an error, never a crash or a half thumbnail. */
static void
test_corrupt (Fixture       *f,
              gconstpointer  data)
{
  g_autofree char *good = fixture_path (f, "good.png");
  g_autofree char *cut = fixture_path (f, "cut.png");
  g_autofree char *garbage = fixture_path (f, "garbage");
  g_autofree char *empty = fixture_path (f, "empty");
  g_autofree char *missing = fixture_path (f, "missing");
  g_autoptr(GdkPixbuf) pixbuf = ssq_test_image_marked (600, 400, FALSE);
  g_autofree char *bytes = NULL;
  g_autofree guint8 *noise = g_malloc (20000);
  const char *types[] = { "image/png", "image/jpeg", "image/gif" };
  gsize len = 0;

  ssq_test_image_save (pixbuf, good, "png");
  g_assert_true (g_file_get_contents (good, &bytes, &len, NULL));
  ssq_test_write_file (cut, bytes, len / 2);
  for (guint i = 0; i < 20000; i++)
    noise[i] = (guint8) g_test_rand_int ();
  ssq_test_write_file (garbage, noise, 20000);
  ssq_test_write_file (empty, "", 0);

  for (guint t = 0; t < G_N_ELEMENTS (types); t++)
    {
      const char *paths[] = { cut, garbage, empty };

      for (guint p = 0; p < G_N_ELEMENTS (paths); p++)
        {
          g_autoptr(GError) error = NULL;
          g_autoptr(SsqServerThumbnail) thumb = NULL;

          thumb = ssq_server_thumbnail_make (paths[p], types[t], 0, NULL, &error);
          g_test_message ("%s as %s: %s", paths[p], types[t], error ? error->message : "made");
          g_assert_null (thumb);
          g_assert_error (error, SSQ_ERROR, SSQ_ERROR_INVALID);
        }
    }
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(SsqServerThumbnail) thumb = ssq_server_thumbnail_make (missing, "image/png", 0, NULL, &error);

    g_assert_null (thumb);
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  }
}

/* A JPEG cut short: libjpeg would fill the rest with grey, as viewers show
 * it; no thumbnail. One without its end marker only is whole, and has one. */
static void
test_jpeg_cut (Fixture       *f,
               gconstpointer  data)
{
  g_autofree char *photo = fixture_path (f, "photo.jpg");
  g_autofree char *cut = fixture_path (f, "cut.jpg");
  g_autoptr(GdkPixbuf) pixbuf = ssq_test_image_marked (1200, 800, FALSE);
  g_autofree char *bytes = NULL;
  gsize len = 0;

  /* Noise, so that the image data is most of the file. */
  for (int y = 0; y < 800; y++)
    for (int x = 0; x < 1200; x++)
      gdk_pixbuf_get_pixels (pixbuf)[y * gdk_pixbuf_get_rowstride (pixbuf) + x * 3 + 2] = (guint8) g_test_rand_int ();
  ssq_test_image_save (pixbuf, photo, "jpeg");
  g_assert_true (g_file_get_contents (photo, &bytes, &len, NULL));
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(SsqServerThumbnail) thumb = NULL;

    ssq_test_write_file (cut, bytes, len / 2);
    thumb = ssq_server_thumbnail_make (cut, "image/jpeg", 0, NULL, &error);
    g_test_message ("half a JPEG: %s", error ? error->message : "made");
    g_assert_null (thumb);
    g_assert_error (error, SSQ_ERROR, SSQ_ERROR_INVALID);
  }
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(SsqServerThumbnail) thumb = NULL;

    ssq_test_write_file (cut, bytes, len - 2);
    thumb = ssq_server_thumbnail_make (cut, "image/jpeg", 0, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpint (thumb->width, ==, 320);
  }
}

/* This process's memory, from /proc/self/status (KiB). */
static gsize
status_kb (const char *field)
{
  g_autofree char *status = NULL;
  const char *line;

  g_assert_true (g_file_get_contents ("/proc/self/status", &status, NULL, NULL));
  line = strstr (status, field);
  g_assert_nonnull (line);
  return (gsize) g_ascii_strtoull (line + strlen (field), NULL, 10);
}

/* Resets the peak (VmHWM) to the current RSS. */
static gboolean
reset_peak_rss (void)
{
  FILE *f = fopen ("/proc/self/clear_refs", "w");
  gboolean ok;

  if (f == NULL)
    return FALSE;
  ok = fputs ("5", f) >= 0;
  return fclose (f) == 0 && ok;
}

/* Makes a thumbnail of @path that must be refused as too large, and
 * returns how much the peak RSS grew meanwhile (KiB). */
static gsize
refused_growth_kb (const char *path,
                   const char *mime,
                   guint64     max_pixels)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SsqServerThumbnail) thumb = NULL;
  gsize baseline_kb;
  gsize peak_kb;

  if (!reset_peak_rss ())
    g_test_message ("clear_refs refused: the peak RSS includes earlier tests");
  baseline_kb = status_kb ("VmRSS:");
  thumb = ssq_server_thumbnail_make (path, mime, max_pixels, NULL, &error);
  peak_kb = status_kb ("VmHWM:");
  g_test_message ("%s: %s; peak RSS growth %" G_GSIZE_FORMAT " KiB", mime,
                  error ? error->message : "made", peak_kb > baseline_kb ? peak_kb - baseline_kb : 0);
  g_assert_null (thumb);
  g_assert_error (error, SSQ_ERROR, SSQ_ERROR_TOO_LARGE);
  return peak_kb > baseline_kb ? peak_kb - baseline_kb : 0;
}

/* Headers declaring too many pixels are refused before anything is
 * allocated for the image: a 100,000x100,000 PNG, a 60,000x60,000 JPEG and
 * GIF (their headers patched), and a real 6,000x6,000 PNG under a
 * 10-megapixel limit, which would take 144 MB to decode. */
static void
test_too_large (Fixture       *f,
                gconstpointer  data)
{
  g_autofree char *huge_png = fixture_path (f, "huge.png");
  g_autofree char *big_png = fixture_path (f, "big.png");
  g_autofree char *jpeg = fixture_path (f, "huge.jpg");
  g_autofree char *gif = fixture_path (f, "huge.gif");
  g_autoptr(GdkPixbuf) pixbuf = ssq_test_image_marked (64, 48, FALSE);
  static const guint8 frames[] = { 2 };
  g_autofree char *bytes = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(SsqServerThumbnail) at_limit = NULL;
  gsize len = 0;
  char *sof;

  ssq_test_image_declared_png (huge_png, 100000, 100000, 1);
  g_assert_cmpuint (refused_growth_kb (huge_png, "image/png", 0), <, 50 * 1024);

  ssq_test_image_declared_png (big_png, 6000, 6000, 6000);
  g_assert_cmpuint (refused_growth_kb (big_png, "image/png", 10000000), <, 50 * 1024);
  /* At the limit exactly, it is decoded. */
  at_limit = ssq_server_thumbnail_make (big_png, "image/png", 36000000, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (at_limit->source_width, ==, 6000);
  g_assert_cmpint (at_limit->width, ==, 320);

  /* JPEG: the frame header (SOF0) holds height then width after its
   * length and precision. */
  ssq_test_image_save (pixbuf, jpeg, "jpeg");
  g_assert_true (g_file_get_contents (jpeg, &bytes, &len, NULL));
  sof = memmem (bytes, len, "\xff\xc0", 2);
  g_assert_nonnull (sof);
  memcpy (sof + 5, "\xea\x60\xea\x60", 4);
  ssq_test_write_file (jpeg, bytes, len);
  g_assert_cmpuint (refused_growth_kb (jpeg, "image/jpeg", 0), <, 50 * 1024);

  /* GIF: the logical screen size. */
  ssq_test_image_gif (gif, 64, 48, frames, 1);
  g_clear_pointer (&bytes, g_free);
  g_assert_true (g_file_get_contents (gif, &bytes, &len, NULL));
  memcpy (bytes + 6, "\x60\xea\x60\xea", 4);
  ssq_test_write_file (gif, bytes, len);
  g_assert_cmpuint (refused_growth_kb (gif, "image/gif", 0), <, 50 * 1024);
}

/* ---- EXIF ---- */

static gboolean
strv_has_prefix (char       **tags,
                 const char  *prefix)
{
  for (guint i = 0; tags != NULL && tags[i] != NULL; i++)
    if (g_str_has_prefix (tags[i], prefix))
      return TRUE;
  return FALSE;
}

static void
test_exif_strip (Fixture       *f,
                 gconstpointer  data)
{
  g_autofree char *src = fixture_path (f, "photo.jpg");
  g_autofree char *dest = fixture_path (f, "stripped.jpg");
  g_autoptr(GExiv2Metadata) before = gexiv2_metadata_new ();
  g_autoptr(GExiv2Metadata) after = gexiv2_metadata_new ();
  g_autoptr(GError) error = NULL;
  const char *const *secrets = ssq_test_image_phone_secrets;
  g_auto(GStrv) before_exif = NULL;
  g_auto(GStrv) exif = NULL;
  g_auto(GStrv) xmp = NULL;
  g_auto(GStrv) iptc = NULL;
  g_autofree char *bytes = NULL;
  g_autofree char *comment = NULL;
  g_autoptr(SsqServerThumbnail) thumb = NULL;
  guint8 *preview = NULL;
  gint preview_len = 0;
  double lon, lat, alt;
  gsize len = 0;

  ssq_test_image_phone_photo (src);
  /* The source has it all: the test would prove nothing otherwise. */
  g_assert_true (gexiv2_metadata_open_path (before, src, &error));
  before_exif = gexiv2_metadata_get_exif_tags (before);
  g_assert_true (strv_has_prefix (before_exif, "Exif.GPSInfo."));
  g_assert_true (strv_has_prefix (before_exif, "Exif.Photo.BodySerialNumber"));
  g_assert_cmpint (gexiv2_metadata_try_get_orientation (before, &error), ==, GEXIV2_ORIENTATION_ROT_90);
  g_assert_true (g_file_get_contents (src, &bytes, &len, NULL));
  for (guint i = 0; secrets[i] != NULL; i++)
    g_assert_nonnull (memmem (bytes, len, secrets[i], strlen (secrets[i])));
  g_clear_pointer (&bytes, g_free);

  g_assert_true (ssq_server_exif_strip (src, dest, &error));
  g_assert_no_error (error);

  g_assert_true (gexiv2_metadata_open_path (after, dest, &error));
  g_assert_no_error (error);
  exif = gexiv2_metadata_get_exif_tags (after);
  for (guint i = 0; exif[i] != NULL; i++)
    g_test_message ("kept: %s", exif[i]);
  g_assert_false (strv_has_prefix (exif, "Exif.GPSInfo."));
  g_assert_false (gexiv2_metadata_try_get_gps_info (after, &lon, &lat, &alt, NULL));
  g_assert_false (strv_has_prefix (exif, "Exif.Photo."));
  g_assert_false (strv_has_prefix (exif, "Exif.Image.Artist"));
  g_assert_false (strv_has_prefix (exif, "Exif.Thumbnail."));
  g_assert_false (gexiv2_metadata_get_exif_thumbnail (after, &preview, &preview_len));
  g_free (preview);
  xmp = gexiv2_metadata_get_xmp_tags (after);
  g_assert_cmpuint (g_strv_length (xmp), ==, 0);
  iptc = gexiv2_metadata_get_iptc_tags (after);
  g_assert_cmpuint (g_strv_length (iptc), ==, 0);
  comment = gexiv2_metadata_try_get_comment (after, NULL);
  g_assert_true (comment == NULL || *comment == '\0');
  g_assert_cmpint (gexiv2_metadata_try_get_orientation (after, &error), ==, GEXIV2_ORIENTATION_ROT_90);

  /* Nothing personal anywhere in the bytes: not in a segment Exiv2 does not
   * know, not after the image. */
  g_assert_true (g_file_get_contents (dest, &bytes, &len, NULL));
  for (guint i = 0; secrets[i] != NULL; i++)
    if (memmem (bytes, len, secrets[i], strlen (secrets[i])) != NULL)
      g_error ("%s is still in the stripped copy", secrets[i]);
  g_assert_null (memmem (bytes, len, "SECRET", 6));
  g_assert_null (memmem (bytes, len, "Secret", 6));
  g_assert_cmpuint ((guint8) bytes[len - 2], ==, 0xff);
  g_assert_cmpuint ((guint8) bytes[len - 1], ==, 0xd9);

  /* Still the same picture, still shown upright. */
  thumb = ssq_server_thumbnail_make (dest, "image/jpeg", 0, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (thumb->source_width, ==, 800);
  g_assert_cmpint (thumb->source_height, ==, 1200);
}

/* A photo without orientation comes out without EXIF at all; the colour
 * profile stays. */
static void
test_exif_keeps_profile (Fixture       *f,
                         gconstpointer  data)
{
  g_autofree char *src = fixture_path (f, "plain.jpg");
  g_autofree char *dest = fixture_path (f, "plain-stripped.jpg");
  g_autoptr(GdkPixbuf) pixbuf = ssq_test_image_marked (300, 200, FALSE);
  g_autoptr(GExiv2Metadata) after = gexiv2_metadata_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *profile = NULL;
  g_autofree char *bytes = NULL;
  g_auto(GStrv) exif = NULL;
  guint8 icc[132] = { 0 };
  gsize len = 0;

  /* A profile header: size, then "acsp" at 36. */
  icc[3] = sizeof icc;
  memcpy (icc + 36, "acsp", 4);
  profile = g_base64_encode (icc, sizeof icc);
  gdk_pixbuf_save (pixbuf, src, "jpeg", &error, "icc-profile", profile, NULL);
  g_assert_no_error (error);

  g_assert_true (ssq_server_exif_strip (src, dest, &error));
  g_assert_no_error (error);
  g_assert_true (gexiv2_metadata_open_path (after, dest, &error));
  exif = gexiv2_metadata_get_exif_tags (after);
  g_assert_cmpuint (g_strv_length (exif), ==, 0);
  g_assert_true (g_file_get_contents (dest, &bytes, &len, NULL));
  g_assert_nonnull (memmem (bytes, len, "ICC_PROFILE", 11));
  g_assert_nonnull (memmem (bytes, len, "JFIF", 4));
}

/* Not a JPEG, or cut before its image data: an error, and no file left. A
 * JPEG cut inside its image data is still stripped, and ends properly. */
static void
test_exif_bad_input (Fixture       *f,
                     gconstpointer  data)
{
  g_autofree char *png = fixture_path (f, "image.png");
  g_autofree char *jpeg = fixture_path (f, "photo.jpg");
  g_autofree char *cut = fixture_path (f, "cut.jpg");
  g_autofree char *dest = fixture_path (f, "out.jpg");
  g_autoptr(GdkPixbuf) pixbuf = ssq_test_image_marked (300, 200, FALSE);
  g_autofree char *bytes = NULL;
  g_autofree char *out = NULL;
  gsize len = 0;
  gsize out_len = 0;
  const gsize cuts[] = { 1, 3, 10, 100 };

  ssq_test_image_save (pixbuf, png, "png");
  {
    g_autoptr(GError) error = NULL;

    g_assert_false (ssq_server_exif_strip (png, dest, &error));
    g_assert_error (error, SSQ_ERROR, SSQ_ERROR_INVALID);
    g_assert_false (g_file_test (dest, G_FILE_TEST_EXISTS));
  }

  ssq_test_image_phone_photo (jpeg);
  g_assert_true (g_file_get_contents (jpeg, &bytes, &len, NULL));
  for (guint i = 0; i < G_N_ELEMENTS (cuts); i++)
    {
      g_autoptr(GError) error = NULL;

      ssq_test_write_file (cut, bytes, cuts[i]);
      g_assert_false (ssq_server_exif_strip (cut, dest, &error));
      g_test_message ("cut at %" G_GSIZE_FORMAT ": %s", cuts[i], error->message);
      g_assert_error (error, SSQ_ERROR, SSQ_ERROR_INVALID);
      g_assert_false (g_file_test (dest, G_FILE_TEST_EXISTS));
    }
  {
    g_autoptr(GError) error = NULL;

    /* Before the trailer and a little of the image data. */
    ssq_test_write_file (cut, bytes, len - 14 - 200);
    g_assert_true (ssq_server_exif_strip (cut, dest, &error));
    g_assert_no_error (error);
    g_assert_true (g_file_get_contents (dest, &out, &out_len, NULL));
    g_assert_cmpuint ((guint8) out[out_len - 1], ==, 0xd9);
    g_assert_null (memmem (out, out_len, "SECRET", 6));
  }
  {
    g_autoptr(GError) error = NULL;
    g_autofree char *missing = fixture_path (f, "missing.jpg");

    g_assert_false (ssq_server_exif_strip (missing, dest, &error));
    g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  }
}

/* ---- The pool ---- */

typedef struct {
  GThread *main_thread;
  guint    delivered;
  guint    made;
  guint    failed;
  guint    freed;
} Counts;

typedef struct {
  Counts  *counts;
  gboolean good;
  char    *dest;
} JobData;

static JobData *
job_data_new (Counts     *counts,
              gboolean    good,
              const char *dest)
{
  JobData *d = g_new0 (JobData, 1);

  d->counts = counts;
  d->good = good;
  d->dest = g_strdup (dest);
  return d;
}

static void
job_data_free (gpointer data)
{
  JobData *d = data;

  /* On the main thread too: at delivery or when the pool is freed. */
  g_assert_true (g_thread_self () == d->counts->main_thread);
  d->counts->freed++;
  g_free (d->dest);
  g_free (d);
}

static void
job_done_cb (const SsqServerThumbnail *thumbnail,
             const GError             *error,
             gpointer                  user_data)
{
  JobData *d = user_data;

  g_assert_true (g_thread_self () == d->counts->main_thread);
  d->counts->delivered++;
  if (!d->good)
    {
      g_assert_null (thumbnail);
      g_assert_error ((GError *) error, SSQ_ERROR, SSQ_ERROR_INVALID);
      d->counts->failed++;
      return;
    }
  g_assert_no_error ((GError *) error);
  g_assert_cmpint (thumbnail->width, ==, 320);
  g_assert_cmpint (thumbnail->height, ==, 240);
  d->counts->made++;
  if (d->dest != NULL)
    {
      g_autofree char *bytes = NULL;
      gsize len = 0;

      g_assert_true (g_file_get_contents (d->dest, &bytes, &len, NULL));
      g_assert_cmpmem (bytes, len, g_bytes_get_data (thumbnail->data, NULL),
                       g_bytes_get_size (thumbnail->data));
    }
}

static void
wait_delivered (Counts *counts,
                guint   n)
{
  while (counts->delivered < n)
    g_main_context_iteration (NULL, TRUE);
}

static void
assert_stats (SsqServerThumbnailPool *pool,
              guint64                 made,
              guint64                 failed,
              guint64                 refused,
              guint                   queue_length)
{
  SsqServerThumbnailStats stats;

  ssq_server_thumbnail_pool_get_stats (pool, &stats);
  g_assert_cmpuint (stats.made_total, ==, made);
  g_assert_cmpuint (stats.failed_total, ==, failed);
  g_assert_cmpuint (stats.refused_total, ==, refused);
  g_assert_cmpuint (stats.queue_length, ==, queue_length);
}

/* 50 jobs, one in five a broken file, some written to disk: each delivered
 * once on the main thread, the counters right. */
static void
test_pool_delivers (Fixture       *f,
                    gconstpointer  data)
{
  g_autofree char *good = fixture_path (f, "good.jpg");
  g_autofree char *bad = fixture_path (f, "bad.jpg");
  g_autoptr(GdkPixbuf) pixbuf = ssq_test_image_marked (640, 480, FALSE);
  g_autoptr(SsqServerThumbnailPool) pool = ssq_server_thumbnail_pool_new (2, 64, 0);
  Counts counts = { .main_thread = g_thread_self () };
  gint64 start = g_get_monotonic_time ();

  ssq_test_image_save (pixbuf, good, "jpeg");
  ssq_test_write_file (bad, "\xff\xd8\xff\xe0 not really", 16);
  for (guint i = 0; i < 50; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *dest = i % 10 == 0 ? g_strdup_printf ("%s/thumb-%u.jpg", f->dir, i) : NULL;
      gboolean is_good = i % 5 != 4;

      g_assert_true (ssq_server_thumbnail_pool_submit (pool, is_good ? good : bad, "image/jpeg", dest,
                                                       job_done_cb, job_data_new (&counts, is_good, dest),
                                                       job_data_free, &error));
      g_assert_no_error (error);
    }
  wait_delivered (&counts, 50);
  g_test_message ("50 thumbnails of 640x480 with 2 workers: %.1f ms",
                  (g_get_monotonic_time () - start) / 1000.0);
  g_assert_cmpuint (counts.made, ==, 40);
  g_assert_cmpuint (counts.failed, ==, 10);
  g_assert_cmpuint (counts.freed, ==, 50);
  assert_stats (pool, 40, 10, 0, 0);
}

/* Writes a little garbage to a FIFO each time a reader opens it, until
 * stopped: the jobs reading it finish (with an error) only once this runs. */
typedef struct {
  const char *fifo;
  gint        stop;
} Feeder;

static gpointer
feeder_thread (gpointer data)
{
  Feeder *feeder = data;

  while (!g_atomic_int_get (&feeder->stop))
    {
      int fd = open (feeder->fifo, O_WRONLY | O_NONBLOCK);

      if (fd < 0)
        {
          g_assert_cmpint (errno, ==, ENXIO);   /* no reader yet */
          g_usleep (1000);
          continue;
        }
      /* The reader may be gone again already (it read an earlier
       * writer's bytes and its end): EPIPE, with SIGPIPE ignored. Or it
       * has not read yet what earlier rounds wrote, and the pipe is full
       * (a loaded machine): EAGAIN, and it has bytes enough. */
      if (write (fd, "not an image", 12) < 0)
        {
          g_assert_true (errno == EPIPE || errno == EAGAIN);
          if (errno == EAGAIN)
            g_usleep (1000);
        }
      close (fd);
    }
  return NULL;
}

/* The queue bound: with 5 jobs held up (blocked reading a FIFO), every
 * further job is refused and counted; once they finish, jobs are accepted
 * again. */
static void
test_pool_bound (Fixture       *f,
                 gconstpointer  data)
{
  g_autofree char *fifo = fixture_path (f, "fifo");
  g_autofree char *good = fixture_path (f, "good.jpg");
  g_autoptr(GdkPixbuf) pixbuf = ssq_test_image_marked (640, 480, FALSE);
  g_autoptr(SsqServerThumbnailPool) pool = ssq_server_thumbnail_pool_new (2, 5, 0);
  Counts counts = { .main_thread = g_thread_self () };
  Feeder feeder = { fifo, FALSE };
  GThread *thread;

  g_assert_cmpint (mkfifo (fifo, 0600), ==, 0);
  ssq_test_image_save (pixbuf, good, "jpeg");
  for (guint i = 0; i < 5; i++)
    g_assert_true (ssq_server_thumbnail_pool_submit (pool, fifo, "image/png", NULL, job_done_cb,
                                                     job_data_new (&counts, FALSE, NULL),
                                                     job_data_free, NULL));
  for (guint i = 0; i < 20; i++)
    {
      g_autoptr(GError) error = NULL;
      JobData *d = job_data_new (&counts, TRUE, NULL);

      g_assert_false (ssq_server_thumbnail_pool_submit (pool, good, "image/jpeg", NULL, job_done_cb,
                                                        d, job_data_free, &error));
      g_assert_error (error, SSQ_ERROR, SSQ_ERROR_UNAVAILABLE);
      /* Refused: the data is still ours. */
      job_data_free (d);
    }
  assert_stats (pool, 0, 20, 20, 5);

  thread = g_thread_new ("feeder", feeder_thread, &feeder);
  wait_delivered (&counts, 5);
  g_atomic_int_set (&feeder.stop, TRUE);
  g_thread_join (thread);
  g_assert_cmpuint (counts.failed, ==, 5);
  assert_stats (pool, 0, 25, 20, 0);

  g_assert_true (ssq_server_thumbnail_pool_submit (pool, good, "image/jpeg", NULL, job_done_cb,
                                                   job_data_new (&counts, TRUE, NULL),
                                                   job_data_free, NULL));
  wait_delivered (&counts, 6);
  g_assert_cmpuint (counts.made, ==, 1);
  g_assert_cmpuint (counts.freed, ==, 26);
  assert_stats (pool, 1, 25, 20, 0);
}

/* Freed with jobs queued, running and finished but not delivered: no
 * callback runs after, every job's data is freed, nothing leaks (the
 * valgrind run checks that). */
static void
test_pool_shutdown (Fixture       *f,
                    gconstpointer  data)
{
  g_autofree char *photo = fixture_path (f, "photo.jpg");
  g_autoptr(GdkPixbuf) pixbuf = ssq_test_image_marked (2000, 1500, FALSE);
  SsqServerThumbnailPool *pool = ssq_server_thumbnail_pool_new (2, 64, 0);
  Counts counts = { .main_thread = g_thread_self () };
  guint delivered;

  ssq_test_image_save (pixbuf, photo, "jpeg");
  for (guint i = 0; i < 50; i++)
    g_assert_true (ssq_server_thumbnail_pool_submit (pool, photo, "image/jpeg", NULL, job_done_cb,
                                                     job_data_new (&counts, TRUE, NULL),
                                                     job_data_free, NULL));
  wait_delivered (&counts, 2);
  delivered = counts.delivered;
  ssq_server_thumbnail_pool_free (pool);
  g_test_message ("%u of 50 delivered before the pool was freed", delivered);
  g_assert_cmpuint (counts.delivered, ==, delivered);
  g_assert_cmpuint (counts.freed, ==, 50);
  /* Nothing left on the main context for the pool. */
  while (g_main_context_iteration (NULL, FALSE));
  g_assert_cmpuint (counts.delivered, ==, delivered);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  gexiv2_initialize ();
  /* The pool-bound feeder writes to a FIFO whose reader (a job) may close
   * it first: that write fails with EPIPE, which it expects, instead of
   * killing the test. */
  signal (SIGPIPE, SIG_IGN);

  g_test_add_func ("/server/thumbnail/types", test_types);
#define ADD(path, fn) g_test_add (path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  ADD ("/server/thumbnail/jpeg-orientation", test_jpeg_orientation);
  ADD ("/server/thumbnail/png-alpha", test_png_alpha);
  ADD ("/server/thumbnail/gif-first-frame", test_gif_first_frame);
  ADD ("/server/thumbnail/corrupt", test_corrupt);
  ADD ("/server/thumbnail/jpeg-cut", test_jpeg_cut);
  ADD ("/server/thumbnail/too-large", test_too_large);
  ADD ("/server/exif/strip", test_exif_strip);
  ADD ("/server/exif/keeps-profile", test_exif_keeps_profile);
  ADD ("/server/exif/bad-input", test_exif_bad_input);
  ADD ("/server/thumbnail/pool-delivers", test_pool_delivers);
  ADD ("/server/thumbnail/pool-bound", test_pool_bound);
  ADD ("/server/thumbnail/pool-shutdown", test_pool_shutdown);
#undef ADD
  return g_test_run ();
}
