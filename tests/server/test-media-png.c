/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-media-png.c: PNG uploads through the real server binary are stored
 * without their metadata: EXIF (eXIf, with a position), text chunks (an
 * author, XMP with a city), the modification time, unknown chunks and
 * bytes after the end go; the pixels, the colour profile and transparency
 * stay. A PNG with a bad CRC is refused and nothing is stored. The chunk
 * walker itself on damaged and cut files. */
#include <glib/gstdio.h>
#include "ssq-server-png-strip.h"
#include "ssq-test-images.h"
#include "ssq-test-media.h"
#include "ssq-test-raw.h"
#include "ssq-json.h"
#include "ssq-wire.h"

#include <string.h>

#define MEDIA_CONFIG "[media]\nuploads_per_minute=0\n"
#define SIGNATURE_LEN 8
#define IHDR_END      (SIGNATURE_LEN + 8 + 13 + 4)
#define IEND_LEN      12

/* What the upload carries and the stored copy must not: the chunks' types
 * and the personal strings in them. */
static const char *const png_secrets[] = {
  "eXIf", "GPS 64.1N", "tEXt", "Jane Secret", "iTXt", "Reykjavik", "tIME",
  "prVt", "vendor-secret", "TRAILER-secret", NULL,
};

/* An iCCP chunk: a profile header libpng accepts (size, device class,
 * colour space, connection space, "acsp", the D50 illuminant; no tags),
 * zlib-compressed after its name. */
static void
add_iccp (GByteArray *png)
{
  static const guint8 d50[12] = { 0, 0, 0xF6, 0xD6, 0, 1, 0, 0, 0, 0, 0xD3, 0x2D };
  g_autoptr(GZlibCompressor) zlib = g_zlib_compressor_new (G_ZLIB_COMPRESSOR_FORMAT_ZLIB, 9);
  g_autoptr(GError) error = NULL;
  guint8 icc[132] = { 0 };
  guint8 chunk[512] = "test profile";
  gsize name_len = strlen ((const char *) chunk) + 2;   /* its NUL, method 0 */
  gsize read = 0, written = 0;

  icc[3] = sizeof icc;
  memcpy (icc + 12, "mntr", 4);
  memcpy (icc + 16, "RGB ", 4);
  memcpy (icc + 20, "XYZ ", 4);
  memcpy (icc + 36, "acsp", 4);
  memcpy (icc + 68, d50, sizeof d50);
  g_assert_cmpint (g_converter_convert (G_CONVERTER (zlib), icc, sizeof icc,
                                        chunk + name_len, sizeof chunk - name_len,
                                        G_CONVERTER_INPUT_AT_END, &read, &written, &error),
                   ==, G_CONVERTER_FINISHED);
  g_assert_no_error (error);
  ssq_test_png_chunk (png, "iCCP", chunk, (guint32) (name_len + written));
}

/* A 120x80 PNG made by gdk-pixbuf (grey, a red mark), with a colour
 * profile. */
static GBytes *
plain_png (void)
{
  g_autoptr(GdkPixbuf) pixbuf = ssq_test_image_marked (120, 80, FALSE);
  g_autoptr(GError) error = NULL;
  g_autofree char *buf = NULL;
  gsize len = 0;
  GByteArray *png = g_byte_array_new ();

  gdk_pixbuf_save_to_buffer (pixbuf, &buf, &len, "png", &error, NULL);
  g_assert_no_error (error);
  g_assert_cmpmem (buf + IHDR_END - 13 - 4 - 4, 4, "IHDR", 4);
  g_byte_array_append (png, (const guint8 *) buf, IHDR_END);
  add_iccp (png);
  g_byte_array_append (png, (const guint8 *) buf + IHDR_END, len - IHDR_END);
  return g_byte_array_free_to_bytes (png);
}

static void
add_text_chunk (GByteArray *png,
                const char *type,
                const char *text,
                gsize       len)
{
  ssq_test_png_chunk (png, type, (const guint8 *) text, (guint32) len);
}

/* plain_png() with grey made transparent (tRNS), and metadata: eXIf with
 * "GPS" bytes, tEXt Author, iTXt XMP with a city, a private chunk after
 * the header; tIME before IEND; a trailer after it. */
static GBytes *
private_png (void)
{
  static const char exif[] = "MM\0*\0\0\0\x08" "GPS 64.1N 21.9W";
  static const char author[] = "Author\0Jane Secret";
  static const char xmp[] = "XML:com.adobe.xmp\0\0\0\0\0<x:xmpmeta><rdf:Description "
                            "photoshop:City=\"Reykjavik\"/></x:xmpmeta>";
  static const char vendor[] = "vendor-secret";
  static const guint8 trns[6] = { 0, 0x80, 0, 0x80, 0, 0x80 };
  static const guint8 time[7] = { 0x07, 0xEA, 11, 29, 16, 4, 12 };
  g_autoptr(GBytes) plain = plain_png ();
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (plain, &len);
  GByteArray *png = g_byte_array_new ();

  g_byte_array_append (png, data, IHDR_END);
  add_text_chunk (png, "eXIf", exif, sizeof exif - 1);
  add_text_chunk (png, "tEXt", author, sizeof author - 1);
  add_text_chunk (png, "iTXt", xmp, sizeof xmp - 1);
  add_text_chunk (png, "prVt", vendor, sizeof vendor - 1);
  ssq_test_png_chunk (png, "tRNS", trns, sizeof trns);
  g_byte_array_append (png, data + IHDR_END, len - IHDR_END - IEND_LEN);
  ssq_test_png_chunk (png, "tIME", time, sizeof time);
  g_byte_array_append (png, data + len - IEND_LEN, IEND_LEN);
  g_byte_array_append (png, (const guint8 *) "TRAILER-secret", 14);
  return g_byte_array_free_to_bytes (png);
}

/* Whether @a and @b decode to the same pixels. */
static gboolean
same_pixels (GdkPixbuf *a,
             GdkPixbuf *b)
{
  gsize len = gdk_pixbuf_get_byte_length (a);

  return gdk_pixbuf_get_width (a) == gdk_pixbuf_get_width (b)
         && gdk_pixbuf_get_height (a) == gdk_pixbuf_get_height (b)
         && gdk_pixbuf_get_n_channels (a) == gdk_pixbuf_get_n_channels (b)
         && gdk_pixbuf_get_rowstride (a) == gdk_pixbuf_get_rowstride (b)
         && len == gdk_pixbuf_get_byte_length (b)
         && memcmp (gdk_pixbuf_read_pixels (a), gdk_pixbuf_read_pixels (b), len) == 0;
}

/* Uploads @data and downloads the stored copy into @d: the media object. */
static JsonObject *
upload_and_get (SsqTestServer   *s,
                const char      *token,
                const char      *name,
                GBytes          *data,
                SsqTestDownload *d)
{
  guint status = 0;
  g_autoptr(JsonObject) reply = ssq_test_media_upload (s, token, name, data, &status);
  JsonObject *media;

  g_assert_cmpuint (status, ==, 201);
  media = json_object_get_object_member (reply, "media");
  g_assert_cmpstr (json_object_get_string_member (media, "mime"), ==, "image/png");
  ssq_test_media_get (s, token, json_object_get_string_member (media, "id"), NULL, d);
  g_assert_cmpuint (d->status, ==, 200);
  g_assert_cmpint (json_object_get_int_member (media, "size"), ==, g_bytes_get_size (d->body));
  return json_object_ref (media);
}

/* The stored copy has none of the metadata, the same pixels (grey still
 * transparent: tRNS kept), the colour profile, and ends with IEND. */
static void
test_png_stripped (void)
{
  g_autoptr(SsqTestServer) s = ssq_test_server_start (NULL, MEDIA_CONFIG);
  g_autoptr(SsqTestUser) alice = ssq_test_register (s, "alice");
  g_autoptr(GBytes) png = private_png ();
  g_autoptr(GdkPixbuf) sent = ssq_test_image_decode (png);
  g_autoptr(GdkPixbuf) got = NULL;
  g_autoptr(JsonObject) media = NULL;
  g_auto(SsqTestDownload) d = { 0 };
  gsize len = 0;
  const guint8 *body;

  for (guint i = 0; png_secrets[i] != NULL; i++)
    g_assert_true (ssq_test_bytes_contain (png, png_secrets[i]));
  g_assert_true (gdk_pixbuf_get_has_alpha (sent));

  media = upload_and_get (s, alice->token, "screenshot.png", png, &d);
  g_assert_cmpint (json_object_get_int_member (media, "width"), ==, 120);
  g_assert_cmpint (json_object_get_int_member (media, "height"), ==, 80);
  for (guint i = 0; png_secrets[i] != NULL; i++)
    if (ssq_test_bytes_contain (d.body, png_secrets[i]))
      g_error ("%s is in the stored copy", png_secrets[i]);
  g_assert_true (ssq_test_bytes_contain (d.body, "iCCP"));
  g_assert_true (ssq_test_bytes_contain (d.body, "tRNS"));
  body = g_bytes_get_data (d.body, &len);
  g_assert_cmpmem (body + len - IEND_LEN + 4, 4, "IEND", 4);
  g_test_message ("uploaded %" G_GSIZE_FORMAT " bytes, stored %" G_GSIZE_FORMAT,
                  g_bytes_get_size (png), len);

  got = ssq_test_image_decode (d.body);
  g_assert_true (gdk_pixbuf_get_has_alpha (got));
  g_assert_true (same_pixels (sent, got));
  g_assert_cmpint (ssq_test_db_count (s, "SELECT COUNT(*) FROM media"), ==, 1);
  g_assert_cmpint (ssq_test_server_stop (s), ==, 0);   /* valgrind's word, under it */
}

/* A clean PNG is stored byte for byte; one with a bad CRC is refused (400
 * "invalid") and leaves nothing behind. */
static void
test_png_bad_crc_refused (void)
{
  g_autoptr(SsqTestServer) s = ssq_test_server_start (NULL, MEDIA_CONFIG);
  g_autoptr(SsqTestUser) alice = ssq_test_register (s, "alice");
  g_autoptr(GBytes) plain = plain_png ();
  g_autoptr(GBytes) bad = NULL;
  g_autoptr(JsonObject) media = NULL;
  g_autoptr(JsonObject) reply = NULL;
  g_auto(SsqTestDownload) d = { 0 };
  g_autofree char *sent_hash = ssq_test_sha256 (plain);
  g_autofree char *got_hash = NULL;
  g_autofree guint8 *data = NULL;
  gsize len = 0;
  SsqWireError error;
  guint status = 0;

  media = upload_and_get (s, alice->token, "clean.png", plain, &d);
  got_hash = ssq_test_sha256 (d.body);
  g_assert_cmpstr (got_hash, ==, sent_hash);

  /* One bit flipped in the image data, the CRC left as it was. */
  data = g_bytes_unref_to_data (g_bytes_ref (plain), &len);
  data[len - IEND_LEN - 4 - 2] ^= 0x01;
  bad = g_bytes_new_take (g_steal_pointer (&data), len);
  reply = ssq_test_media_upload (s, alice->token, "bad.png", bad, &status);
  g_assert_cmpuint (status, ==, 400);
  g_assert_true (ssq_wire_error_reply_decode (reply, &error));
  g_assert_cmpstr (error.code, ==, "invalid");
  g_test_message ("%s", error.message);
  g_assert_nonnull (strstr (error.message, "PNG"));
  g_assert_cmpint (ssq_test_db_count (s, "SELECT COUNT(*) FROM media"), ==, 1);
  g_assert_true (ssq_test_wait_until (ssq_test_media_tmp_empty_cb, s, SSQ_TEST_RAW_WAIT_MS));
  ssq_test_assert_healthz (s);
  g_assert_cmpint (ssq_test_server_stop (s), ==, 0);
}

/* Strips @data (written to a file in @dir): the copy, or NULL and the
 * error, with no copy left behind. */
static GBytes *
strip_bytes (const char  *dir,
             const guint8 *data,
             gsize        len,
             GError     **error)
{
  g_autofree char *src = g_build_filename (dir, "src.png", NULL);
  g_autofree char *dest = g_build_filename (dir, "dest.png", NULL);
  char *out = NULL;
  gsize out_len = 0;

  ssq_test_write_file (src, data, len);
  if (!ssq_server_png_strip (src, dest, error))
    {
      g_assert_false (g_file_test (dest, G_FILE_TEST_EXISTS));
      g_unlink (src);
      return NULL;
    }
  g_assert_true (g_file_get_contents (dest, &out, &out_len, NULL));
  g_unlink (src);
  g_unlink (dest);
  return g_bytes_new_take (out, out_len);
}

/* @plain with @chunk (type and data) put after its header. */
static GBytes *
with_chunk (GBytes       *plain,
            const char   *type,
            const guint8 *data,
            guint32       len)
{
  gsize plain_len = 0;
  const guint8 *bytes = g_bytes_get_data (plain, &plain_len);
  GByteArray *png = g_byte_array_new ();

  g_byte_array_append (png, bytes, IHDR_END);
  ssq_test_png_chunk (png, type, data, len);
  g_byte_array_append (png, bytes + IHDR_END, plain_len - IHDR_END);
  return g_byte_array_free_to_bytes (png);
}

static void
assert_refused (const char *dir,
                GBytes     *png,
                const char *why)
{
  g_autoptr(GError) error = NULL;
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (png, &len);

  g_assert_null (strip_bytes (dir, data, len, &error));
  g_assert_error (error, SSQ_ERROR, SSQ_ERROR_INVALID);
  g_test_message ("%s: %s", why, error->message);
}

/* Damaged PNGs are refused; a cut one keeps its whole chunks (but the
 * metadata among them) and gets its IEND. */
static void
test_png_walker (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("ssq-png-XXXXXX", &error);
  g_autoptr(GBytes) plain = plain_png ();
  g_autoptr(GBytes) texted = with_chunk (plain, "tEXt", (const guint8 *) "Author\0Jane", 11);
  g_autoptr(GBytes) critical = with_chunk (plain, "ABCD", (const guint8 *) "x", 1);
  g_autoptr(GBytes) bad_type = with_chunk (plain, "tE1t", (const guint8 *) "x", 1);
  g_autoptr(GBytes) cut_copy = NULL;
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (texted, &len);
  g_autofree guint8 *bytes = g_memdup2 (data, len);
  const guint8 *cut;
  gsize cut_len = 0;

  g_assert_no_error (error);
  assert_refused (dir, critical, "unknown critical chunk");
  assert_refused (dir, bad_type, "bad chunk type");
  {
    g_autoptr(GBytes) sig = g_bytes_new_static (data, SIGNATURE_LEN + 4);
    g_autoptr(GBytes) text = g_bytes_new_static ("GIF89a, really", 14);

    assert_refused (dir, sig, "signature only");
    assert_refused (dir, text, "no signature");
  }
  {
    /* The tEXt chunk first, the header after it. */
    GByteArray *png = g_byte_array_new ();
    g_autoptr(GBytes) swapped = NULL;

    g_byte_array_append (png, data, SIGNATURE_LEN);
    g_byte_array_append (png, data + IHDR_END, 8 + 11 + 4);
    g_byte_array_append (png, data + SIGNATURE_LEN, IHDR_END - SIGNATURE_LEN);
    g_byte_array_append (png, data + IHDR_END + 8 + 11 + 4, len - IHDR_END - 8 - 11 - 4);
    swapped = g_byte_array_free_to_bytes (png);
    assert_refused (dir, swapped, "header not first");
  }
  {
    g_autoptr(GBytes) huge = NULL;

    bytes[IHDR_END] = 0x80;      /* the tEXt chunk's length: 2 GiB */
    huge = g_bytes_new_static (bytes, len);
    assert_refused (dir, huge, "bad length");
    bytes[IHDR_END] = 0;
  }

  /* Cut inside the image data: the header and the profile stay, the
   * tEXt goes, and so does the cut chunk; an IEND ends it. */
  cut_copy = strip_bytes (dir, bytes, len - IEND_LEN - 10, &error);
  g_assert_no_error (error);
  cut = g_bytes_get_data (cut_copy, &cut_len);
  g_assert_cmpmem (cut, IHDR_END, data, IHDR_END);
  g_assert_false (ssq_test_bytes_contain (cut_copy, "Jane"));
  g_assert_false (ssq_test_bytes_contain (cut_copy, "IDAT"));  /* gdk-pixbuf wrote one */
  g_assert_true (ssq_test_bytes_contain (cut_copy, "iCCP"));
  g_assert_cmpmem (cut + cut_len - IEND_LEN + 4, 4, "IEND", 4);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/server/media-png/stripped", test_png_stripped);
  g_test_add_func ("/server/media-png/bad-crc-refused", test_png_bad_crc_refused);
  g_test_add_func ("/server/media-png/walker", test_png_walker);
  return g_test_run ();
}
