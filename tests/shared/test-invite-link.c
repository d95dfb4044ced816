/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-invite-link.c: invite links read strictly (hostile input refused
 * with a reason, never a crash), and their QR codes, printed as pixels or
 * as terminal half blocks, decoded by zbarimg back to the same link. */
#include "ssq-invite-link.h"
#include "ssq-qr.h"
#include "ssq-proto.h"

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <glib/gstdio.h>
#include <string.h>

#define TOKEN "xjwrZDpmmoz5e1CZG0Ic4g"
#define FP    "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void
test_parse_good (void)
{
  g_autoptr(SsqInviteLink) plain = ssq_invite_link_parse ("supersoniq://chat.lan:8080/invite/" TOKEN, NULL);
  g_autoptr(SsqInviteLink) fp = NULL;
  g_autoptr(SsqInviteLink) v6 = NULL;
  g_autoptr(SsqInviteLink) loose = NULL;
  g_autofree char *url = NULL;
  g_autofree char *url6 = NULL;
  g_autofree char *again = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_nonnull (plain);
  g_assert_cmpstr (plain->host, ==, "chat.lan");
  g_assert_cmpuint (plain->port, ==, 8080);
  g_assert_cmpstr (plain->token, ==, TOKEN);
  g_assert_null (plain->fingerprint);
  url = ssq_invite_link_server_url (plain);
  g_assert_cmpstr (url, ==, "http://chat.lan:8080");

  fp = ssq_invite_link_parse ("supersoniq://192.168.1.5:443/invite/" TOKEN "?fp=" FP, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (fp->fingerprint, ==, FP);

  v6 = ssq_invite_link_parse ("supersoniq://[fe80::1]:9/invite/" TOKEN "?x=1&fp=" FP, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (v6->host, ==, "fe80::1");
  url6 = ssq_invite_link_server_url (v6);
  g_assert_cmpstr (url6, ==, "https://[fe80::1]:9");

  /* Pasted with spaces, the scheme and digits in capitals, the colon
   * percent-encoded: the same link. */
  loose = ssq_invite_link_parse ("  SuperSoniQ://h:1/invite/" TOKEN
                                 "?fp=sha256%3A0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef\n",
                                 &error);
  g_assert_no_error (error);
  g_assert_cmpstr (loose->fingerprint, ==, FP);

  again = ssq_invite_link_format (v6->host, v6->port, v6->token, v6->fingerprint);
  g_assert_cmpstr (again, ==, "supersoniq://[fe80::1]:9/invite/" TOKEN "?fp=" FP);
}

/* The server prints its fingerprint grouped ("sha256:AB:CD:…"); links and
 * pins carry it compact and lowercase: both forms read as one. */
static void
test_fingerprint_forms (void)
{
  const char *compact = "sha256:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
  GString *grouped = g_string_new ("SHA256:");
  g_autofree char *from_grouped = NULL, *from_compact = NULL, *link = NULL;
  g_autoptr(SsqInviteLink) parsed = NULL;
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < 32; i++)
    g_string_append_printf (grouped, "%s%c%c", i ? ":" : "", g_ascii_toupper (compact[7 + 2 * i]),
                            g_ascii_toupper (compact[8 + 2 * i]));
  from_grouped = ssq_fingerprint_normalize (grouped->str);
  from_compact = ssq_fingerprint_normalize (compact);
  g_assert_cmpstr (from_grouped, ==, compact);
  g_assert_cmpstr (from_compact, ==, compact);
  /* A colon out of place, one digit short, a stray character: none. */
  g_string_insert_c (grouped, 9, ':');
  g_assert_null (ssq_fingerprint_normalize (grouped->str));
  g_assert_null (ssq_fingerprint_normalize ("sha256:0011"));
  g_assert_null (ssq_fingerprint_normalize ("sha256:00112233445566778899aabbccddeeff00112233445566778899aabbccddeefg"));
  g_assert_null (ssq_fingerprint_normalize ("md5:00112233445566778899aabbccddeeff"));
  g_string_free (grouped, TRUE);

  /* A link made from the grouped form carries the compact one. */
  link = ssq_invite_link_format ("192.168.1.5", 8080, "AAAAAAAAAAAAAAAAAAAAAA", "SHA256:00:11:22:33:44:55:66:77:88:99:"
                                 "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF");
  g_assert_cmpstr (link, ==, "supersoniq://192.168.1.5:8080/invite/AAAAAAAAAAAAAAAAAAAAAA?fp=" "sha256:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
  parsed = ssq_invite_link_parse (link, &error);
  g_assert_no_error (error);
}

static void
test_parse_hostile (void)
{
  g_autofree char *huge = NULL;
  g_autofree char *long_token = g_strnfill (SSQ_INVITE_TOKEN_MAX + 1, 'a');
  g_autofree char *too_long_token = g_strconcat ("supersoniq://h:1/invite/", long_token, NULL);
  const char *bad[] = {
    "",
    "   ",
    "supersoniq:",
    "supersoniq://",
    "http://h:1/invite/" TOKEN,
    "supersoniq:/h:1/invite/" TOKEN,
    "supersoniq://h/invite/" TOKEN,                 /* no port */
    "supersoniq://h:/invite/" TOKEN,
    "supersoniq://h:0/invite/" TOKEN,
    "supersoniq://h:65536/invite/" TOKEN,
    "supersoniq://h:123456/invite/" TOKEN,
    "supersoniq://h:8a/invite/" TOKEN,
    "supersoniq://h:-1/invite/" TOKEN,
    "supersoniq://user@h:1/invite/" TOKEN,
    "supersoniq://user:pw@h:1/invite/" TOKEN,
    "supersoniq://:1/invite/" TOKEN,
    "supersoniq://h..x:1/invite/" TOKEN,
    "supersoniq://-h:1/invite/" TOKEN,
    "supersoniq://h_x:1/invite/" TOKEN,
    "supersoniq://fe80::1:1/invite/" TOKEN,         /* IPv6 without brackets */
    "supersoniq://[fe80::1:1/invite/" TOKEN,
    "supersoniq://[fe80::1]/invite/" TOKEN,
    "supersoniq://[1.2.3.4]:1/invite/" TOKEN,
    "supersoniq://[zz::1]:1/invite/" TOKEN,
    "supersoniq://h:1",
    "supersoniq://h:1/",
    "supersoniq://h:1/invite/",
    "supersoniq://h:1/invites/" TOKEN,
    "supersoniq://h:1/Invite/" TOKEN,
    "supersoniq://h:1/invite/short",
    "supersoniq://h:1/invite/" TOKEN "/",
    "supersoniq://h:1/invite/" TOKEN "/x",
    "supersoniq://h:1/invite/xjwrZDpmmoz5e1CZG0Ic4%67",
    "supersoniq://h:1/invite/xjwrZDpmmoz5e1CZG0Ic4+",
    "supersoniq://h:1/invite/" TOKEN "#frag",
    "supersoniq://h:1/invite/" TOKEN "?fp=",
    "supersoniq://h:1/invite/" TOKEN "?fp=sha1:0123",
    "supersoniq://h:1/invite/" TOKEN "?fp=sha256:0123456789abcdef",
    "supersoniq://h:1/invite/" TOKEN "?fp=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg",
    "supersoniq://h:1/invite/" TOKEN "?fp=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0",
    "supersoniq://h:1/invite/" TOKEN "?fp=" FP "&fp=" FP,
    "supersoniq://h:1/invite/" TOKEN " x",
    "supersoniq://h:1/invite/" TOKEN "\x01",
    "supersoniq://h:1/invite/" TOKEN "\xc3\xa9",
    "supersoniq://h\x7f:1/invite/" TOKEN,
    "supersoniq://h:1/invite/" TOKEN "?fp=" FP "\r\nX: y",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(SsqInviteLink) link = ssq_invite_link_parse (bad[i], &error);

      if (link != NULL)
        g_error ("accepted: %s", bad[i]);
      g_assert_error (error, SSQ_ERROR, SSQ_ERROR_INVALID);
      g_assert_true (g_str_has_prefix (error->message, "Not an invite link: "));
    }
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(SsqInviteLink) link = ssq_invite_link_parse (too_long_token, &error);

    g_assert_null (link);
    g_assert_error (error, SSQ_ERROR, SSQ_ERROR_INVALID);
  }
  /* Past the length limit nothing is read at all. */
  huge = g_strnfill (1 << 20, 'a');
  memcpy (huge, "supersoniq://h:1/invite/", strlen ("supersoniq://h:1/invite/"));
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(SsqInviteLink) link = ssq_invite_link_parse (huge, &error);

    g_assert_null (link);
    g_assert_nonnull (strstr (error->message, "too long"));
  }
}

/* Every prefix of a good link and every single-byte change of it: refused
 * or read, never a crash, and what is read is a well-formed link. */
static void
test_parse_mutations (void)
{
  const char *good = "supersoniq://[fe80::1]:9/invite/" TOKEN "?fp=" FP;
  gsize len = strlen (good);

  for (gsize cut = 0; cut <= len; cut++)
    {
      g_autofree char *prefix = g_strndup (good, cut);
      g_autoptr(SsqInviteLink) link = ssq_invite_link_parse (prefix, NULL);

      if (link != NULL)
        g_assert_true (ssq_invite_link_check_token (link->token));
    }
  for (gsize at = 0; at < len; at++)
    for (guint byte = 1; byte < 256; byte += 7)
      {
        g_autofree char *changed = g_strdup (good);
        g_autoptr(SsqInviteLink) link = NULL;

        changed[at] = (char) byte;
        link = ssq_invite_link_parse (changed, NULL);
        if (link != NULL)
          {
            g_autofree char *again = ssq_invite_link_format (link->host, link->port, link->token,
                                                             link->fingerprint);
            g_autoptr(SsqInviteLink) reread = ssq_invite_link_parse (again, NULL);

            g_assert_nonnull (reread);
            g_assert_cmpstr (reread->token, ==, link->token);
          }
      }
}

/* zbarimg's reading of the PNG at @path, or NULL. */
static char *
zbar_decode (const char *path)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status = 0;
  const char *argv[] = { "zbarimg", "--quiet", "--raw", path, NULL };

  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err,
                     &status, NULL))
    return NULL;
  if (!g_spawn_check_wait_status (status, NULL))
    {
      g_test_message ("zbarimg: %s", err);
      return NULL;
    }
  return g_strdup (g_strchomp (out));
}

/* Grey pixels (0 or 255) to a PNG file. */
static void
save_grey_png (const guint8 *grey,
               guint         width,
               guint         height,
               const char   *path)
{
  g_autoptr(GdkPixbuf) pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, (int) width,
                                                (int) height);
  guint8 *pixels = gdk_pixbuf_get_pixels (pixbuf);
  int stride = gdk_pixbuf_get_rowstride (pixbuf);
  g_autoptr(GError) error = NULL;

  for (guint y = 0; y < height; y++)
    for (guint x = 0; x < width; x++)
      memset (pixels + (gsize) y * stride + x * 3, grey[(gsize) y * width + x], 3);
  gdk_pixbuf_save (pixbuf, path, "png", &error, NULL);
  g_assert_no_error (error);
}

static gboolean
skip_without_tools (void)
{
  g_autofree char *zbarimg = g_find_program_in_path ("zbarimg");

  if (!ssq_qr_available ())
    g_test_skip ("built without libqrencode (apt install libqrencode-dev)");
  else if (zbarimg == NULL)
    g_test_skip ("no zbarimg to decode the code (apt install zbar-tools)");
  else
    return FALSE;
  return TRUE;
}

static void
test_qr_pixels (void)
{
  const char *link = "supersoniq://192.168.1.5:8080/invite/" TOKEN "?fp=" FP;
  g_autoptr(GError) error = NULL;
  g_autoptr(SsqQrBitmap) qr = NULL;
  g_autofree guint8 *grey = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *path = NULL;
  g_autofree char *decoded = NULL;
  guint width = 0;

  if (skip_without_tools ())
    return;
  qr = ssq_qr_encode (link, &error);
  g_assert_no_error (error);
  grey = ssq_qr_to_grey (qr, 4, &width);
  g_assert_cmpuint (width, ==, (qr->size + 2 * SSQ_QR_QUIET_ZONE) * 4);
  dir = g_dir_make_tmp ("ssq-qr-XXXXXX", &error);
  g_assert_no_error (error);
  path = g_build_filename (dir, "qr.png", NULL);
  save_grey_png (grey, width, width, path);
  decoded = zbar_decode (path);
  g_assert_cmpstr (decoded, ==, link);
  g_unlink (path);
  g_rmdir (dir);
}

/* The terminal's rendering, read back glyph by glyph (ink is a light
 * module) into pixels, decodes to the link too. */
static void
test_qr_half_blocks (void)
{
  const char *link = "supersoniq://[fe80::1]:8080/invite/" TOKEN;
  g_autoptr(GError) error = NULL;
  g_autoptr(SsqQrBitmap) qr = NULL;
  g_autofree char *text = NULL;
  g_autofree char *colored = NULL;
  g_auto(GStrv) lines = NULL;
  g_autofree guint8 *grey = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *path = NULL;
  g_autofree char *decoded = NULL;
  guint side, rows, scale = 4;

  if (skip_without_tools ())
    return;
  qr = ssq_qr_encode (link, &error);
  g_assert_no_error (error);
  text = ssq_qr_to_half_blocks (qr, FALSE);
  colored = ssq_qr_to_half_blocks (qr, TRUE);
  g_assert_nonnull (strstr (colored, "\033[0m"));
  g_assert_null (strchr (text, '\033'));
  lines = g_strsplit (text, "\n", -1);
  side = qr->size + 2 * SSQ_QR_QUIET_ZONE;
  rows = g_strv_length (lines) - 1;          /* the text ends with a newline */
  g_assert_cmpuint (rows, ==, (side + 1) / 2);
  grey = g_malloc0 ((gsize) side * scale * 2 * rows * scale);
  for (guint r = 0; r < rows; r++)
    {
      const char *p = lines[r];

      g_assert_cmpuint (g_utf8_strlen (p, -1), ==, side);
      for (guint x = 0; x < side; x++, p = g_utf8_next_char (p))
        {
          gunichar c = g_utf8_get_char (p);
          gboolean top = c == 0x2580 || c == 0x2588, bottom = c == 0x2584 || c == 0x2588;

          for (guint dy = 0; dy < 2 * scale; dy++)
            for (guint dx = 0; dx < scale; dx++)
              grey[((gsize) r * 2 * scale + dy) * side * scale + x * scale + dx] =
                (dy < scale ? top : bottom) ? 255 : 0;
        }
    }
  dir = g_dir_make_tmp ("ssq-qr-XXXXXX", &error);
  g_assert_no_error (error);
  path = g_build_filename (dir, "blocks.png", NULL);
  save_grey_png (grey, side * scale, rows * 2 * scale, path);
  decoded = zbar_decode (path);
  g_assert_cmpstr (decoded, ==, link);
  g_unlink (path);
  g_rmdir (dir);
}

/* A fingerprint as people compare it by eye with what the server printed
 * ("sha256:01:23:…"): the same pairs, two lines; from either form. */
static void
test_fingerprint_groups (void)
{
  g_autofree char *groups = ssq_invite_link_fingerprint_groups (FP);
  g_autofree char *from_grouped = ssq_invite_link_fingerprint_groups (
    "sha256:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:"
    "01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF");

  g_assert_cmpstr (groups, ==, "01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF\n"
                               "01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF");
  g_assert_cmpstr (from_grouped, ==, groups);
  g_assert_null (ssq_invite_link_fingerprint_groups (NULL));
  g_assert_null (ssq_invite_link_fingerprint_groups ("sha256:0123"));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/shared/invite-link/parse", test_parse_good);
  g_test_add_func ("/shared/invite-link/hostile", test_parse_hostile);
  g_test_add_func ("/shared/invite-link/fingerprint-forms", test_fingerprint_forms);
  g_test_add_func ("/shared/invite-link/mutations", test_parse_mutations);
  g_test_add_func ("/shared/invite-link/fingerprint-groups", test_fingerprint_groups);
  g_test_add_func ("/shared/qr/pixels-decode", test_qr_pixels);
  g_test_add_func ("/shared/qr/half-blocks-decode", test_qr_half_blocks);
  return g_test_run ();
}
