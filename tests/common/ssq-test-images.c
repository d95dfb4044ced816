/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-test-images.c: real image files for tests, made with gdk-pixbuf and
 * gexiv2 or byte by byte: a marked picture whose turn shows, a phone photo
 * full of personal metadata, PNG and GIF headers declaring any size. */
#include "ssq-test-images.h"

#include <gexiv2/gexiv2.h>

/* A @width x @height image of grey with its top-left corner (a tenth of each
 * side) red, so that a thumbnail shows which way it was turned. */
GdkPixbuf *
ssq_test_image_marked (int      width,
                       int      height,
                       gboolean alpha)
{
  g_autoptr(GdkPixbuf) corner = NULL;
  GdkPixbuf *pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, alpha, 8, width, height);

  gdk_pixbuf_fill (pixbuf, SSQ_TEST_GREY);
  corner = gdk_pixbuf_new_subpixbuf (pixbuf, 0, 0, width / 10, height / 10);
  gdk_pixbuf_fill (corner, alpha ? SSQ_TEST_CLEAR : SSQ_TEST_RED);
  return pixbuf;
}

void
ssq_test_image_save (GdkPixbuf  *pixbuf,
                     const char *path,
                     const char *type)
{
  g_autoptr(GError) error = NULL;

  gdk_pixbuf_save (pixbuf, path, type, &error, NULL);
  g_assert_no_error (error);
}

void
ssq_test_write_file (const char *path,
                     const void *data,
                     gsize       len)
{
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, data, (gssize) len, &error);
  g_assert_no_error (error);
}

GdkPixbuf *
ssq_test_image_decode (GBytes *bytes)
{
  g_autoptr(GdkPixbufLoader) loader = gdk_pixbuf_loader_new ();
  g_autoptr(GError) error = NULL;

  gdk_pixbuf_loader_write_bytes (loader, bytes, &error);
  g_assert_no_error (error);
  gdk_pixbuf_loader_close (loader, &error);
  g_assert_no_error (error);
  return g_object_ref (gdk_pixbuf_loader_get_pixbuf (loader));
}

/* The pixel at (x, y) as 0xRRGGBBAA (alpha 0xff without alpha). */
guint32
ssq_test_image_pixel (GdkPixbuf *pixbuf,
                      int        x,
                      int        y)
{
  const guint8 *p = gdk_pixbuf_read_pixels (pixbuf)
                    + y * gdk_pixbuf_get_rowstride (pixbuf)
                    + x * gdk_pixbuf_get_n_channels (pixbuf);
  guint32 a = gdk_pixbuf_get_has_alpha (pixbuf) ? p[3] : 0xff;

  return ((guint32) p[0] << 24) | ((guint32) p[1] << 16) | ((guint32) p[2] << 8) | a;
}

/* Close to @expected in every channel (JPEG is lossy). */
gboolean
ssq_test_image_colour_near (guint32 got,
                            guint32 expected)
{
  for (int shift = 0; shift < 32; shift += 8)
    if (ABS ((int) ((got >> shift) & 0xff) - (int) ((expected >> shift) & 0xff)) > 40)
      return FALSE;
  return TRUE;
}

/* Every personal string ssq_test_image_phone_photo() puts in its file. */
const char *const ssq_test_image_phone_secrets[] = {
  "SECRET-APP3", "SECRET-TRAILER", "SECRET-PREVIEW", "SECRET-COMMENT", "SECRET-SERIAL",
  "SecretCity", "SecretTown", "Secret Artist", NULL,
};

/* A photo as phones make them: orientation 6 (turn 90° clockwise to view),
 * a GPS position, names, a serial number, XMP and IPTC locations, a comment,
 * an EXIF preview, a vendor APP3 segment and a trailer after the image. */
void
ssq_test_image_phone_photo (const char *path)
{
  static const char *const tags[][2] = {
    { "Exif.Image.Artist", "Secret Artist" },
    { "Exif.Photo.BodySerialNumber", "SECRET-SERIAL" },
    { "Exif.Photo.DateTimeOriginal", "2026:01:02 03:04:05" },
    { "Xmp.photoshop.City", "SecretCity" },
    { "Iptc.Application2.City", "SecretTown" },
  };
  static const guint8 preview[] = "\xff\xd8SECRET-PREVIEW\xff\xd9";
  static const char app3[] = "\xff\xe3\x00\x0dSECRET-APP3";
  static const char trailer[] = "SECRET-TRAILER";
  g_autoptr(GdkPixbuf) pixbuf = ssq_test_image_marked (1200, 800, FALSE);
  g_autoptr(GExiv2Metadata) meta = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *bytes = NULL;
  g_autoptr(GString) out = NULL;
  gsize len = 0;

  /* Exiv2's global set-up, before any use (idempotent; tests run on one
   * thread). */
  gexiv2_initialize ();
  meta = gexiv2_metadata_new ();

  ssq_test_image_save (pixbuf, path, "jpeg");
  g_assert_true (gexiv2_metadata_open_path (meta, path, &error));
  g_assert_no_error (error);
  gexiv2_metadata_try_set_tag_long (meta, "Exif.Image.Orientation", 6, &error);
  g_assert_no_error (error);
  gexiv2_metadata_try_set_gps_info (meta, 2.2945, 48.8584, 35.0, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (tags); i++)
    {
      gexiv2_metadata_try_set_tag_string (meta, tags[i][0], tags[i][1], &error);
      g_assert_no_error (error);
    }
  gexiv2_metadata_try_set_comment (meta, "SECRET-COMMENT", &error);
  g_assert_no_error (error);
  gexiv2_metadata_try_set_exif_thumbnail_from_buffer (meta, preview, sizeof preview - 1, &error);
  g_assert_no_error (error);
  gexiv2_metadata_save_file (meta, path, &error);
  g_assert_no_error (error);

  /* Exiv2 keeps what it does not know: the APP3 after SOI, the trailer. */
  g_assert_true (g_file_get_contents (path, &bytes, &len, NULL));
  out = g_string_new_len (bytes, 2);
  g_string_append_len (out, app3, sizeof app3 - 1);
  g_string_append_len (out, bytes + 2, (gssize) len - 2);
  g_string_append (out, trailer);
  ssq_test_write_file (path, out->str, out->len);
}

static guint32
crc32_of (const guint8 *data,
          gsize         len,
          guint32       crc)
{
  crc = ~crc;
  for (gsize i = 0; i < len; i++)
    {
      crc ^= data[i];
      for (int k = 0; k < 8; k++)
        crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1)));
    }
  return ~crc;
}

/* Appends a PNG chunk of @type with @len bytes of @data and its CRC. */
void
ssq_test_png_chunk (GByteArray   *png,
                    const char   *type,
                    const guint8 *data,
                    guint32       len)
{
  guint8 be[4] = { len >> 24, len >> 16, len >> 8, len };
  guint32 crc;

  g_byte_array_append (png, be, 4);
  g_byte_array_append (png, (const guint8 *) type, 4);
  if (len > 0)
    g_byte_array_append (png, data, len);
  crc = crc32_of ((const guint8 *) type, 4, 0);
  crc = crc32_of (data, len, crc);
  be[0] = crc >> 24, be[1] = crc >> 16, be[2] = crc >> 8, be[3] = crc;
  g_byte_array_append (png, be, 4);
}

/* A PNG (RGBA) of @width x @height with @n_rows rows of zeros, compressed
 * with zlib: small on disk however large it declares itself. (libpng
 * reports the header only once it sees image data.) */
void
ssq_test_image_declared_png (const char *path,
                             guint32     width,
                             guint32     height,
                             guint32     n_rows)
{
  g_autoptr(GByteArray) png = g_byte_array_new ();
  guint8 ihdr[13] = { width >> 24, width >> 16, width >> 8, width,
                      height >> 24, height >> 16, height >> 8, height,
                      8, 6, 0, 0, 0 };

  g_byte_array_append (png, (const guint8 *) "\x89PNG\r\n\x1a\n", 8);
  ssq_test_png_chunk (png, "IHDR", ihdr, sizeof ihdr);
    {
      g_autoptr(GZlibCompressor) zlib = g_zlib_compressor_new (G_ZLIB_COMPRESSOR_FORMAT_ZLIB, 1);
      gsize row_len = 1 + (gsize) width * 4;
      g_autofree guint8 *zeros = g_malloc0 (row_len);
      g_autofree guint8 *buf = g_malloc (1 << 20);
      g_autoptr(GByteArray) idat = g_byte_array_new ();
      g_autoptr(GError) error = NULL;

      for (guint32 row = 0; row <= n_rows; row++)
        {
          gboolean last = row == n_rows;
          gsize off = 0;

          /* The pass after the last row finishes the stream. */
          for (;;)
            {
              gsize read = 0, written = 0;
              GConverterResult r;

              r = g_converter_convert (G_CONVERTER (zlib), zeros + off, last ? 0 : row_len - off,
                                       buf, 1 << 20,
                                       last ? G_CONVERTER_INPUT_AT_END : G_CONVERTER_NO_FLAGS,
                                       &read, &written, &error);
              g_assert_no_error (error);
              g_byte_array_append (idat, buf, (guint) written);
              off += read;
              if (r == G_CONVERTER_FINISHED || (!last && off == row_len))
                break;
            }
        }
      ssq_test_png_chunk (png, "IDAT", idat->data, idat->len);
    }
  ssq_test_png_chunk (png, "IEND", NULL, 0);
  ssq_test_write_file (path, png->data, png->len);
}

/* LZW codes of 3 bits, packed from the low bit up. */
typedef struct {
  GByteArray *out;
  guint32     acc;
  guint       bits;
} CodeWriter;

static void
put_code (CodeWriter *w,
          guint       code)
{
  w->acc |= (guint32) code << w->bits;
  w->bits += 3;
  while (w->bits >= 8)
    {
      guint8 byte = w->acc & 0xff;

      g_byte_array_append (w->out, &byte, 1);
      w->acc >>= 8;
      w->bits -= 8;
    }
}

/* A GIF of @width x @height, 4 colours, with one frame per entry of
 * @frames (each a colour index filling it). The LZW data stays in 3-bit
 * codes: a clear code (4) before every two pixels keeps the table from
 * growing, and 5 ends it. */
void
ssq_test_image_gif (const char   *path,
                    guint16       width,
                    guint16       height,
                    const guint8 *frames,
                    guint         n_frames)
{
  static const guint8 palette[12] = { 0xff, 0, 0,  0, 0, 0xff,  0, 0xff, 0,  0xff, 0xff, 0xff };
  g_autoptr(GByteArray) gif = g_byte_array_new ();
  guint8 screen[7] = { width, width >> 8, height, height >> 8, 0x81, 0, 0 };

  g_byte_array_append (gif, (const guint8 *) "GIF89a", 6);
  g_byte_array_append (gif, screen, 7);
  g_byte_array_append (gif, palette, 12);
  for (guint f = 0; f < n_frames; f++)
    {
      guint8 control[8] = { 0x21, 0xf9, 4, 0x04, 10, 0, 0, 0 };
      guint8 image[10] = { 0x2c, 0, 0, 0, 0, width, width >> 8, height, height >> 8, 0 };
      g_autoptr(GByteArray) lzw = g_byte_array_new ();
      CodeWriter w = { lzw, 0, 0 };
      gsize n_pixels = (gsize) width * height;

      for (gsize i = 0; i < n_pixels; i++)
        {
          if (i % 2 == 0)
            put_code (&w, 4);
          put_code (&w, frames[f]);
        }
      put_code (&w, 5);
      if (w.bits > 0)
        {
          guint8 last = w.acc & 0xff;

          g_byte_array_append (lzw, &last, 1);
        }
      g_byte_array_append (gif, control, 8);
      g_byte_array_append (gif, image, 10);
      g_byte_array_append (gif, (const guint8 *) "\x02", 1);
      for (guint off = 0; off < lzw->len; off += 255)
        {
          guint8 n = (guint8) MIN (255u, lzw->len - off);

          g_byte_array_append (gif, &n, 1);
          g_byte_array_append (gif, lzw->data + off, n);
        }
      g_byte_array_append (gif, (const guint8 *) "\x00", 1);
    }
  g_byte_array_append (gif, (const guint8 *) "\x3b", 1);
  ssq_test_write_file (path, gif->data, gif->len);
}
