/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-media-webp.c: WebP uploads through the real server binary are
 * stored without their metadata: the EXIF (a GPS position, an artist, an
 * orientation) and XMP (a city) that gexiv2 writes into a WebP, unknown
 * chunks (at the top and inside animation frames) and bytes after the
 * RIFF go; the image data and the colour profile stay, byte for byte. A
 * damaged WebP is refused and nothing is stored. The chunk walker itself
 * on damaged, cut and randomly broken files. */
#include <gexiv2/gexiv2.h>
#include <glib/gstdio.h>
#include "ssq-server-webp-strip.h"
#include "ssq-test-images.h"
#include "ssq-test-media.h"
#include "ssq-test-raw.h"
#include "ssq-proto.h"
#include "ssq-wire.h"

#include <string.h>

#define MEDIA_CONFIG "[media]\nuploads_per_minute=0\n"
#define RIFF_HEAD    12
#define CHUNK_HEAD   8
#define FLAG_ICC     0x20
#define FLAG_EXIF    0x08
#define FLAG_XMP     0x04
#define FLAG_ANIM    0x02

/* A 16x8 lossless picture, its left half yellow, its right half dark blue:
 * the payload of the VP8L chunk libwebp 1.2.4 wrote for it
 * (WebPEncodeLosslessRGB). 27 bytes: odd, so its chunk is padded. The
 * test cannot encode a WebP (gdk-pixbuf has no WebP writer), and only
 * wraps these bytes in containers. */
static const guint8 vp8l_halves[] = {
  0x2f, 0x0f, 0xc0, 0x01, 0x00, 0x0f, 0xf0, 0x90, 0xff, 0xfd, 0x1f, 0xc0,
  0xf9, 0x8f, 0x25, 0x88, 0x05, 0x93, 0xf9, 0x4b, 0x77, 0xa6, 0x10, 0xd1,
  0xff, 0xd0, 0x01,
};

/* What the upload carries and the stored copy must not. */
static const char *const webp_secrets[] = {
  "EXIF", "XMP ", "Secret Artist", "SecretCity", "prVt", "vendor-secret", "TRAILER-secret",
  "frame-secret", NULL,
};

/* A chunk: its name and payload. */
typedef struct {
  const char   *name;
  const guint8 *data;
  gsize         len;
} Part;

static void
put_le32 (GByteArray *out,
          guint32     v)
{
  guint8 b[4] = { v & 0xFF, (v >> 8) & 0xFF, (v >> 16) & 0xFF, (v >> 24) & 0xFF };

  g_byte_array_append (out, b, 4);
}

static guint32
get_le32 (const guint8 *p)
{
  return (guint32) p[0] | ((guint32) p[1] << 8) | ((guint32) p[2] << 16) | ((guint32) p[3] << 24);
}

static void
put_chunk (GByteArray   *out,
           const char   *name,
           const guint8 *data,
           gsize         len)
{
  static const guint8 pad = 0;

  g_byte_array_append (out, (const guint8 *) name, 4);
  put_le32 (out, (guint32) len);
  g_byte_array_append (out, data, (guint) len);
  if (len & 1)
    g_byte_array_append (out, &pad, 1);
}

/* A RIFF WebP of @parts, with @trailer (may be NULL) after its end. */
static GBytes *
build_webp (const Part *parts,
            guint       n_parts,
            const char *trailer)
{
  GByteArray *out = g_byte_array_new ();

  g_byte_array_append (out, (const guint8 *) "RIFF\0\0\0\0WEBP", RIFF_HEAD);
  for (guint i = 0; i < n_parts; i++)
    put_chunk (out, parts[i].name, parts[i].data, parts[i].len);
  out->data[4] = (out->len - 8) & 0xFF;
  out->data[5] = ((out->len - 8) >> 8) & 0xFF;
  out->data[6] = ((out->len - 8) >> 16) & 0xFF;
  out->data[7] = ((out->len - 8) >> 24) & 0xFF;
  if (trailer != NULL)
    g_byte_array_append (out, (const guint8 *) trailer, strlen (trailer));
  return g_byte_array_free_to_bytes (out);
}

/* A VP8X payload: @flags, a 16x8 canvas. */
static void
vp8x (guint8 out[10],
      guint8 flags)
{
  memset (out, 0, 10);
  out[0] = flags;
  out[4] = 16 - 1;
  out[7] = 8 - 1;
}

/* The payload of chunk @name at the top of @webp, or NULL. */
static GBytes *
find_chunk (GBytes     *webp,
            const char *name)
{
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (webp, &len);

  for (gsize pos = RIFF_HEAD; pos + CHUNK_HEAD <= len;)
    {
      guint32 size = get_le32 (data + pos + 4);

      if (pos + CHUNK_HEAD + size > len)
        break;
      if (memcmp (data + pos, name, 4) == 0)
        return g_bytes_new (data + pos + CHUNK_HEAD, size);
      pos += CHUNK_HEAD + size + (size & 1);
    }
  return NULL;
}

/* The EXIF and XMP payloads gexiv2 (Exiv2) writes into a WebP for a phone
 * photo's metadata: a GPS position, an artist, orientation 6, a city. */
static void
exiv2_metadata (GBytes **out_exif,
                GBytes **out_xmp)
{
  const Part simple = { "VP8L", vp8l_halves, sizeof vp8l_halves };
  g_autoptr(GBytes) plain = build_webp (&simple, 1, NULL);
  g_autoptr(GExiv2Metadata) meta = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) written = NULL;
  g_autofree char *dir = g_dir_make_tmp ("ssq-webp-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "photo.webp", NULL);
  g_autofree char *bytes = NULL;
  gsize len = 0;

  g_assert_no_error (error);
  ssq_test_write_file (path, g_bytes_get_data (plain, NULL), g_bytes_get_size (plain));
  gexiv2_initialize ();
  meta = gexiv2_metadata_new ();
  g_assert_true (gexiv2_metadata_open_path (meta, path, &error));
  g_assert_no_error (error);
  gexiv2_metadata_try_set_gps_info (meta, -21.9426, 64.1466, 35.0, &error);
  g_assert_no_error (error);
  gexiv2_metadata_try_set_tag_string (meta, "Exif.Image.Artist", "Secret Artist", &error);
  g_assert_no_error (error);
  gexiv2_metadata_try_set_tag_long (meta, "Exif.Image.Orientation", 6, &error);
  g_assert_no_error (error);
  gexiv2_metadata_try_set_tag_string (meta, "Xmp.photoshop.City", "SecretCity", &error);
  g_assert_no_error (error);
  g_assert_true (gexiv2_metadata_save_file (meta, path, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (path, &bytes, &len, NULL));
  written = g_bytes_new (bytes, len);
  *out_exif = find_chunk (written, "EXIF");
  *out_xmp = find_chunk (written, "XMP ");
  g_assert_nonnull (*out_exif);
  g_assert_nonnull (*out_xmp);
  g_unlink (path);
  g_rmdir (dir);
}

static const guint8 vendor[] = "vendor-secret";

/* An ICC profile header Exiv2 takes for one (size, device class, colour
 * space, connection space, "acsp", the D50 illuminant; no tags): it
 * refuses to open a WebP whose ICCP chunk is not. */
static void
icc_profile (guint8 out[132])
{
  static const guint8 d50[12] = { 0, 0, 0xF6, 0xD6, 0, 1, 0, 0, 0, 0, 0xD3, 0x2D };

  memset (out, 0, 132);
  out[3] = 132;
  memcpy (out + 12, "mntr", 4);
  memcpy (out + 16, "RGB ", 4);
  memcpy (out + 20, "XYZ ", 4);
  memcpy (out + 36, "acsp", 4);
  memcpy (out + 68, d50, sizeof d50);
}

/* An extended WebP as a phone or an editor might write it: header, colour
 * profile, image, EXIF and XMP from Exiv2, a private chunk, and a trailer
 * after the RIFF. */
static GBytes *
private_webp (void)
{
  g_autoptr(GBytes) exif = NULL, xmp = NULL;
  guint8 header[10], profile[132];
  GBytes *webp;

  exiv2_metadata (&exif, &xmp);
  vp8x (header, FLAG_ICC | FLAG_EXIF | FLAG_XMP);
  icc_profile (profile);
  {
    const Part parts[] = {
      { "VP8X", header, sizeof header },
      { "ICCP", profile, sizeof profile },
      { "VP8L", vp8l_halves, sizeof vp8l_halves },
      { "EXIF", g_bytes_get_data (exif, NULL), g_bytes_get_size (exif) },
      { "XMP ", g_bytes_get_data (xmp, NULL), g_bytes_get_size (xmp) },
      { "prVt", vendor, sizeof vendor - 1 },
    };

    webp = build_webp (parts, G_N_ELEMENTS (parts), "TRAILER-secret");
  }
  return webp;
}

/* Checks @copy is a WebP the way the stripper writes them: the RIFF's size
 * is the file's, its chunks follow one another to the end, none is
 * metadata or unknown, an image is among them, and VP8X claims no EXIF or
 * XMP; with @secrets, none of the personal strings is left either. (Not
 * for files changed at random: a size made larger folds what follows into
 * the image chunk, whose payload is the sender's and not parsed.) */
static void
assert_clean (GBytes   *copy,
              gboolean  secrets)
{
  static const char *const allowed[] = { "VP8X", "VP8 ", "VP8L", "ALPH", "ICCP", "ANIM", "ANMF" };
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (copy, &len);
  gboolean image = FALSE;
  gsize pos;

  g_assert_cmpuint (len, >=, RIFF_HEAD + CHUNK_HEAD);
  g_assert_cmpmem (data, 4, "RIFF", 4);
  g_assert_cmpmem (data + 8, 4, "WEBP", 4);
  g_assert_cmpuint (get_le32 (data + 4), ==, len - 8);
  for (pos = RIFF_HEAD; pos < len;)
    {
      guint32 size;
      gboolean known = FALSE;

      g_assert_cmpuint (pos + CHUNK_HEAD, <=, len);
      size = get_le32 (data + pos + 4);
      g_assert_cmpuint (pos + CHUNK_HEAD + size + (size & 1), <=, len);
      for (guint i = 0; i < G_N_ELEMENTS (allowed); i++)
        known |= memcmp (data + pos, allowed[i], 4) == 0;
      if (!known)
        g_error ("chunk %.4s in a stripped copy", data + pos);
      if (memcmp (data + pos, "VP8X", 4) == 0)
        g_assert_cmpuint (data[pos + CHUNK_HEAD] & (FLAG_EXIF | FLAG_XMP), ==, 0);
      image |= memcmp (data + pos, "VP8 ", 4) == 0 || memcmp (data + pos, "VP8L", 4) == 0 ||
               memcmp (data + pos, "ANMF", 4) == 0;
      pos += CHUNK_HEAD + size + (size & 1);
    }
  g_assert_cmpuint (pos, ==, len);
  g_assert_true (image);
  for (guint i = 0; secrets && webp_secrets[i] != NULL; i++)
    if (ssq_test_bytes_contain (copy, webp_secrets[i]))
      g_error ("%s is in the stripped copy", webp_secrets[i]);
}

/* Whether @bytes holds EXIF GPS tags, as Exiv2 reads them. */
static gboolean
exiv2_sees_gps (GBytes *bytes)
{
  g_autoptr(GExiv2Metadata) meta = gexiv2_metadata_new ();
  g_autoptr(GError) error = NULL;
  gdouble latitude = 0;

  if (!gexiv2_metadata_open_buf (meta, g_bytes_get_data (bytes, NULL), (glong) g_bytes_get_size (bytes),
                                 &error))
    return FALSE;
  return gexiv2_metadata_has_exif (meta) &&
         gexiv2_metadata_try_get_gps_latitude (meta, &latitude, NULL);
}

/* Uploaded through the server, the WebP is stored without its metadata:
 * the image chunk and the profile byte for byte, the size the stored
 * copy's; Exiv2 finds no GPS in it, as it did in the upload. */
static void
test_webp_stripped (void)
{
  g_autoptr(SsqTestServer) s = ssq_test_server_start (NULL, MEDIA_CONFIG);
  g_autoptr(SsqTestUser) alice = ssq_test_register (s, "alice");
  g_autoptr(GBytes) webp = private_webp ();
  g_autoptr(GBytes) image = NULL, profile = NULL;
  g_autoptr(JsonObject) reply = NULL;
  g_auto(SsqTestDownload) d = { 0 };
  JsonObject *media;
  guint8 sent_profile[132];
  guint status = 0;

  icc_profile (sent_profile);
  for (guint i = 0; webp_secrets[i] != NULL; i++)
    if (!g_str_equal (webp_secrets[i], "frame-secret"))
      g_assert_true (ssq_test_bytes_contain (webp, webp_secrets[i]));
  g_assert_true (exiv2_sees_gps (webp));

  reply = ssq_test_media_upload (s, alice->token, "photo.webp", webp, &status);
  g_assert_cmpuint (status, ==, 201);
  media = json_object_get_object_member (reply, "media");
  g_assert_cmpstr (json_object_get_string_member (media, "mime"), ==, "image/webp");
  ssq_test_media_get (s, alice->token, json_object_get_string_member (media, "id"), NULL, &d);
  g_assert_cmpuint (d.status, ==, 200);
  g_assert_cmpint (json_object_get_int_member (media, "size"), ==, g_bytes_get_size (d.body));
  g_test_message ("uploaded %" G_GSIZE_FORMAT " bytes, stored %" G_GSIZE_FORMAT,
                  g_bytes_get_size (webp), g_bytes_get_size (d.body));

  assert_clean (d.body, TRUE);
  g_assert_false (exiv2_sees_gps (d.body));
  image = find_chunk (d.body, "VP8L");
  profile = find_chunk (d.body, "ICCP");
  g_assert_nonnull (image);
  g_assert_nonnull (profile);
  g_assert_cmpmem (g_bytes_get_data (image, NULL), g_bytes_get_size (image), vp8l_halves, sizeof vp8l_halves);
  g_assert_cmpmem (g_bytes_get_data (profile, NULL), g_bytes_get_size (profile),
                   sent_profile, sizeof sent_profile);
  /* The header keeps its profile flag and its canvas. */
  {
    const guint8 *data = g_bytes_get_data (d.body, NULL);

    g_assert_cmpmem (data + RIFF_HEAD, 4, "VP8X", 4);
    g_assert_cmpuint (data[RIFF_HEAD + CHUNK_HEAD], ==, FLAG_ICC);
    g_assert_cmpuint (data[RIFF_HEAD + CHUNK_HEAD + 4], ==, 15);
  }
  g_assert_cmpint (ssq_test_db_count (s, "SELECT COUNT(*) FROM media"), ==, 1);
  g_assert_cmpint (ssq_test_server_stop (s), ==, 0);
}

/* A simple WebP (one VP8L chunk) is stored byte for byte; a damaged one
 * is refused (400 "invalid") and leaves nothing behind. */
static void
test_webp_damaged_refused (void)
{
  g_autoptr(SsqTestServer) s = ssq_test_server_start (NULL, MEDIA_CONFIG);
  g_autoptr(SsqTestUser) alice = ssq_test_register (s, "alice");
  const Part simple = { "VP8L", vp8l_halves, sizeof vp8l_halves };
  g_autoptr(GBytes) plain = build_webp (&simple, 1, NULL);
  g_autoptr(GBytes) bad = NULL;
  g_autoptr(JsonObject) ok = NULL, reply = NULL;
  g_auto(SsqTestDownload) d = { 0 };
  g_autofree char *sent_hash = ssq_test_sha256 (plain);
  g_autofree char *got_hash = NULL;
  g_autofree guint8 *data = NULL;
  gsize len = 0;
  SsqWireError error;
  guint status = 0;

  ok = ssq_test_media_upload (s, alice->token, "clean.webp", plain, &status);
  g_assert_cmpuint (status, ==, 201);
  ssq_test_media_get (s, alice->token,
                      json_object_get_string_member (json_object_get_object_member (ok, "media"), "id"),
                      NULL, &d);
  got_hash = ssq_test_sha256 (d.body);
  g_assert_cmpstr (got_hash, ==, sent_hash);

  /* The image chunk's name broken: no image any more. */
  data = g_bytes_unref_to_data (g_bytes_ref (plain), &len);
  data[RIFF_HEAD + 3] = 0x01;
  bad = g_bytes_new_take (g_steal_pointer (&data), len);
  reply = ssq_test_media_upload (s, alice->token, "bad.webp", bad, &status);
  g_assert_cmpuint (status, ==, 400);
  g_assert_true (ssq_wire_error_reply_decode (reply, &error));
  g_assert_cmpstr (error.code, ==, "invalid");
  g_test_message ("%s", error.message);
  g_assert_nonnull (strstr (error.message, "WebP"));
  g_assert_cmpint (ssq_test_db_count (s, "SELECT COUNT(*) FROM media"), ==, 1);
  g_assert_true (ssq_test_wait_until (ssq_test_media_tmp_empty_cb, s, SSQ_TEST_RAW_WAIT_MS));
  ssq_test_assert_healthz (s);
  g_assert_cmpint (ssq_test_server_stop (s), ==, 0);
}

/* Strips @webp in memory: the copy, or NULL with @error. */
static GBytes *
strip (GBytes  *webp,
       GError **error)
{
  g_autoptr(GOutputStream) out = g_memory_output_stream_new_resizable ();
  gsize len = g_bytes_get_size (webp);
  /* An exact copy, so that a read past the end is one for the sanitizers. */
  g_autofree guint8 *data = g_memdup2 (g_bytes_get_data (webp, NULL), len);

  if (!ssq_server_webp_strip_bytes (data, len, out, error))
    return NULL;
  g_assert_true (g_output_stream_close (out, NULL, NULL));
  return g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (out));
}

static void
assert_refused (GBytes     *webp,
                const char *why)
{
  g_autoptr(GError) error = NULL;

  g_assert_null (strip (webp, &error));
  g_assert_error (error, SSQ_ERROR, SSQ_ERROR_INVALID);
  g_test_message ("%s: %s", why, error->message);
}

static GBytes *
assert_stripped (GBytes *webp)
{
  g_autoptr(GError) error = NULL;
  GBytes *copy = strip (webp, &error);

  g_assert_no_error (error);
  assert_clean (copy, TRUE);
  return copy;
}

/* Damaged files are refused; odd ones that hold an image are copied
 * clean. */
static void
test_webp_walker (void)
{
  static const guint8 frame_secret[] = "frame-secret";
  const Part image = { "VP8L", vp8l_halves, sizeof vp8l_halves };
  guint8 header[10], animated[10], frame[16];
  g_autoptr(GByteArray) frame_data = g_byte_array_new ();

  vp8x (header, FLAG_EXIF);
  vp8x (animated, FLAG_ANIM);
  {
    g_autoptr(GBytes) text = g_bytes_new_static ("GIF89a, really", 14);
    g_autoptr(GBytes) short_riff = g_bytes_new_static ("RIFF\x02\0\0\0WEBP", 12);
    const Part exif_first[] = { { "EXIF", vendor, 4 }, image };
    const Part bad_name[] = { { "VP8X", header, 10 }, { "EX\001F", vendor, 4 }, image };
    const Part wrong_header[] = { { "VP8X", header, 9 }, image };
    const Part two_headers[] = { { "VP8X", header, 10 }, { "VP8X", header, 10 }, image };
    const Part no_image[] = { { "VP8X", header, 10 }, { "EXIF", vendor, 4 } };
    const Part short_frame[] = { { "VP8X", animated, 10 }, { "ANMF", vendor, 8 } };
    g_autoptr(GBytes) a = build_webp (exif_first, 2, NULL);
    g_autoptr(GBytes) b = build_webp (bad_name, 3, NULL);
    g_autoptr(GBytes) c = build_webp (wrong_header, 2, NULL);
    g_autoptr(GBytes) e = build_webp (two_headers, 3, NULL);
    g_autoptr(GBytes) f = build_webp (no_image, 2, NULL);
    g_autoptr(GBytes) g = build_webp (short_frame, 2, NULL);

    assert_refused (text, "not RIFF");
    assert_refused (short_riff, "RIFF size below 4");
    assert_refused (a, "EXIF first");
    assert_refused (b, "bad chunk name");
    assert_refused (c, "VP8X of 9 bytes");
    assert_refused (e, "two VP8X");
    assert_refused (f, "no image");
    assert_refused (g, "frame of 8 bytes");
  }

  /* A frame holding its image and a private chunk: the private chunk
   * goes, the frame's size shrinks with it. */
  memset (frame, 0, 16);
  g_byte_array_append (frame_data, frame, 16);
  put_chunk (frame_data, "VP8L", vp8l_halves, sizeof vp8l_halves);
  put_chunk (frame_data, "prVt", frame_secret, sizeof frame_secret - 1);
  {
    const Part parts[] = {
      { "VP8X", animated, 10 }, { "ANIM", vendor, 6 }, { "ANMF", frame_data->data, frame_data->len },
      { "ANMF", frame_data->data, frame_data->len },
    };
    g_autoptr(GBytes) webp = build_webp (parts, G_N_ELEMENTS (parts), NULL);
    g_autoptr(GBytes) copy = assert_stripped (webp);
    g_autoptr(GBytes) first = find_chunk (copy, "ANMF");

    g_assert_cmpuint (g_bytes_get_size (first), ==, 16 + 8 + sizeof vp8l_halves + 1);
  }
  /* A frame whose inner chunk runs past it is damaged; one without an
   * image too. */
  {
    g_autoptr(GByteArray) broken = g_byte_array_new ();
    g_autoptr(GByteArray) empty = g_byte_array_new ();

    g_byte_array_append (broken, frame_data->data, frame_data->len);
    broken->data[16 + 4] = 0xFF;
    g_byte_array_append (empty, frame, 16);
    put_chunk (empty, "prVt", frame_secret, sizeof frame_secret - 1);
    {
      const Part past[] = { { "VP8X", animated, 10 }, { "ANMF", broken->data, broken->len } };
      const Part imageless[] = { { "VP8X", animated, 10 }, { "ANMF", empty->data, empty->len } };
      g_autoptr(GBytes) p = build_webp (past, 2, NULL);
      g_autoptr(GBytes) q = build_webp (imageless, 2, NULL);

      assert_refused (p, "frame chunk past the frame");
      assert_refused (q, "frame without an image");
    }
  }

  /* A simple file with a chunk after its image (not in the format): only
   * the image stays. Its trailer goes. */
  {
    const Part parts[] = { image, { "EXIF", vendor, 4 } };
    g_autoptr(GBytes) webp = build_webp (parts, 2, "TRAILER-secret");
    g_autoptr(GBytes) copy = assert_stripped (webp);

    g_assert_cmpuint (g_bytes_get_size (copy), ==, RIFF_HEAD + CHUNK_HEAD + sizeof vp8l_halves + 1);
  }
  /* The last chunk's padding byte missing: taken as whole, padded. */
  {
    g_autoptr(GBytes) webp = build_webp (&image, 1, NULL);
    g_autoptr(GBytes) unpadded = g_bytes_new_from_bytes (webp, 0, g_bytes_get_size (webp) - 1);
    g_autoptr(GBytes) copy = assert_stripped (unpadded);

    g_assert_cmpuint (g_bytes_get_size (copy), ==, g_bytes_get_size (webp));
  }
}

/* Every cut of the private WebP, and thousands of random changes to it
 * (bits flipped, bytes made 0, 1, 0x7F, 0x80 or 0xFF: sizes huge, odd or
 * zero, names broken), through the walker: each is refused as damaged or
 * copied clean (a cut one without any of the metadata). Each walks an
 * exact copy on the heap: under ASan no read strays outside it. */
static void
test_webp_broken_at_random (void)
{
  g_autoptr(GBytes) webp = private_webp ();
  gsize len = g_bytes_get_size (webp);
  const guint8 *data = g_bytes_get_data (webp, NULL);
  g_autoptr(GRand) rand = g_rand_new_with_seed (20261129);
  guint refused = 0, copied = 0;

  for (gsize cut = 0; cut <= len; cut++)
    {
      g_autoptr(GBytes) part = g_bytes_new (data, cut);
      g_autoptr(GError) error = NULL;
      g_autoptr(GBytes) copy = strip (part, &error);

      if (copy != NULL)
        {
          assert_clean (copy, TRUE);
          copied++;
        }
      else
        {
          g_assert_error (error, SSQ_ERROR, SSQ_ERROR_INVALID);
          refused++;
        }
    }
  for (guint round = 0; round < 5000; round++)
    {
      g_autofree guint8 *changed = g_memdup2 (data, len);
      g_autoptr(GBytes) bytes = NULL;
      g_autoptr(GError) error = NULL;
      g_autoptr(GBytes) copy = NULL;
      guint n = g_rand_int_range (rand, 1, 5);

      for (guint i = 0; i < n; i++)
        {
          gsize at = g_rand_int_range (rand, 0, (gint32) len);
          static const guint8 sizes[] = { 0x00, 0xFF, 0x7F, 0x01, 0x80 };

          if (g_rand_boolean (rand))
            changed[at] ^= 1u << g_rand_int_range (rand, 0, 8);
          else
            changed[at] = sizes[g_rand_int_range (rand, 0, G_N_ELEMENTS (sizes))];
        }
      bytes = g_bytes_new_take (g_steal_pointer (&changed), len);
      copy = strip (bytes, &error);
      if (copy != NULL)
        {
          assert_clean (copy, FALSE);
          copied++;
        }
      else
        {
          g_assert_error (error, SSQ_ERROR, SSQ_ERROR_INVALID);
          refused++;
        }
    }
  g_test_message ("%u copied clean, %u refused", copied, refused);
  g_assert_cmpuint (copied, >, 0);
  g_assert_cmpuint (refused, >, 0);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/server/media-webp/stripped", test_webp_stripped);
  g_test_add_func ("/server/media-webp/damaged-refused", test_webp_damaged_refused);
  g_test_add_func ("/server/media-webp/walker", test_webp_walker);
  g_test_add_func ("/server/media-webp/broken-at-random", test_webp_broken_at_random);
  return g_test_run ();
}
