/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-bench-thumbnail.c: how long the server's media work takes on a
 * 12-megapixel photo made here (4000x3000 JPEG, noisy gradients like a
 * camera's): a thumbnail, EXIF stripping, a PNG of the same size, and the
 * worker pool's throughput. Prints figures; asserts nothing about time. */
#include "ssq-server-exif.h"
#include "ssq-server-thumbnail.h"
#include "ssq-server-thumbnail-pool.h"

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <gexiv2/gexiv2.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>

#define WIDTH   4000
#define HEIGHT  3000
#define RUNS    10
#define POOL_JOBS 20

/* Gradients with noise: compresses like a photo, not like a flat fill. */
static GdkPixbuf *
make_photo (void)
{
  GdkPixbuf *pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, WIDTH, HEIGHT);
  guint8 *pixels = gdk_pixbuf_get_pixels (pixbuf);
  int stride = gdk_pixbuf_get_rowstride (pixbuf);
  g_autoptr(GRand) rand = g_rand_new_with_seed (12);

  for (int y = 0; y < HEIGHT; y++)
    for (int x = 0; x < WIDTH; x++)
      {
        guint8 *p = pixels + y * stride + x * 3;
        int noise = g_rand_int_range (rand, -12, 13);

        p[0] = (guint8) CLAMP (x * 255 / WIDTH + noise, 0, 255);
        p[1] = (guint8) CLAMP (y * 255 / HEIGHT + noise, 0, 255);
        p[2] = (guint8) CLAMP (128 + ((x / 200 + y / 200) % 2) * 60 + noise, 0, 255);
      }
  return pixbuf;
}

static void
check (GError *error)
{
  if (error != NULL)
    {
      fprintf (stderr, "ssq-bench-thumbnail: %s\n", error->message);
      exit (1);
    }
}

static int
compare_doubles (gconstpointer a,
                 gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

static void
print_ms (const char *label,
          double     *ms,
          guint       n)
{
  qsort (ms, n, sizeof *ms, compare_doubles);
  printf ("  %s: median %.1f ms (min %.1f, max %.1f, n=%u)\n", label, ms[n / 2], ms[0], ms[n - 1], n);
}

static double
thumbnail_ms (const char *path,
              const char *mime)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SsqServerThumbnail) thumb = NULL;
  gint64 start = g_get_monotonic_time ();

  thumb = ssq_server_thumbnail_make (path, mime, 0, NULL, &error);
  check (error);
  return (g_get_monotonic_time () - start) / 1000.0;
}

static void
pool_done_cb (const SsqServerThumbnail *thumbnail,
              const GError             *error,
              gpointer                  user_data)
{
  check ((GError *) error);
  (*(guint *) user_data)++;
}

static double
pool_ms_per_thumbnail (const char *path)
{
  g_autoptr(SsqServerThumbnailPool) pool = ssq_server_thumbnail_pool_new (2, POOL_JOBS, 0);
  gint64 start = g_get_monotonic_time ();
  guint done = 0;

  for (guint i = 0; i < POOL_JOBS; i++)
    {
      g_autoptr(GError) error = NULL;

      ssq_server_thumbnail_pool_submit (pool, path, "image/jpeg", NULL, pool_done_cb, &done, NULL, &error);
      check (error);
    }
  while (done < POOL_JOBS)
    g_main_context_iteration (NULL, TRUE);
  return (g_get_monotonic_time () - start) / 1000.0 / POOL_JOBS;
}

static gsize
file_size (const char *path)
{
  GStatBuf st;

  return g_stat (path, &st) == 0 ? (gsize) st.st_size : 0;
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("ssq-bench-thumb-XXXXXX", &error);
  g_autofree char *jpeg = NULL;
  g_autofree char *png = NULL;
  g_autofree char *stripped = NULL;
  g_autoptr(GdkPixbuf) photo = NULL;
  g_autoptr(GExiv2Metadata) meta = NULL;
  double ms[RUNS];

  check (error);
  jpeg = g_build_filename (dir, "photo.jpg", NULL);
  png = g_build_filename (dir, "photo.png", NULL);
  stripped = g_build_filename (dir, "stripped.jpg", NULL);

  photo = make_photo ();
  gdk_pixbuf_save (photo, jpeg, "jpeg", &error, "quality", "90", NULL);
  check (error);
  gdk_pixbuf_save (photo, png, "png", &error, "compression", "1", NULL);
  check (error);
  /* As a phone writes it: turned, with a position. */
  gexiv2_initialize ();
  meta = gexiv2_metadata_new ();
  gexiv2_metadata_open_path (meta, jpeg, &error);
  check (error);
  gexiv2_metadata_try_set_tag_long (meta, "Exif.Image.Orientation", 6, &error);
  gexiv2_metadata_try_set_gps_info (meta, 2.2945, 48.8584, 35.0, &error);
  gexiv2_metadata_save_file (meta, jpeg, &error);
  check (error);

  printf ("Media on a %dx%d photo (JPEG %.1f MB, PNG %.1f MB), %u runs each:\n", WIDTH, HEIGHT,
          file_size (jpeg) / 1e6, file_size (png) / 1e6, RUNS);

  for (guint i = 0; i < RUNS; i++)
    ms[i] = thumbnail_ms (jpeg, "image/jpeg");
  print_ms ("thumbnail of the 12-megapixel JPEG", ms, RUNS);

  for (guint i = 0; i < RUNS; i++)
    {
      gint64 start = g_get_monotonic_time ();

      ssq_server_exif_strip (jpeg, stripped, &error);
      check (error);
      ms[i] = (g_get_monotonic_time () - start) / 1000.0;
    }
  print_ms ("EXIF strip of the JPEG (copy written)", ms, RUNS);

  for (guint i = 0; i < RUNS; i++)
    ms[i] = thumbnail_ms (png, "image/png");
  print_ms ("thumbnail of the 12-megapixel PNG (full decode)", ms, RUNS);

  printf ("  pool of 2 workers, %u JPEG thumbnails: %.1f ms each (wall)\n", POOL_JOBS,
          pool_ms_per_thumbnail (jpeg));

  g_unlink (jpeg);
  g_unlink (png);
  g_unlink (stripped);
  g_rmdir (dir);
  return 0;
}
