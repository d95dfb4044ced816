/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-codec.c: the JSON reader, the protocol's value rules and the
 * display helpers. The wire codec has test-wire.c. */
#include "ssq-json.h"
#include "ssq-display.h"
#include "ssq-proto.h"
#include "ssq-wire.h"

#include <string.h>

static JsonObject *
parse (const char *text,
       gsize       len,
       GError    **error)
{
  return ssq_json_parse_object (text, len, error);
}

static void
test_parse_rejects (void)
{
  const struct { const char *text; gsize len; } bad[] = {
    { "", 0 }, { "[]", 2 }, { "42", 2 }, { "{", 1 }, { "{\"a\":}", 6 },
    { "{\"a\":\"\\u0000\"}", 14 }, { "{\"a\":1}\0", 8 },
    { "{\"a\":\"\xff\"}", 8 }, { "nul\0l", 5 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(JsonObject) obj = parse (bad[i].text, bad[i].len, &error);

      g_assert_null (obj);
      g_assert_error (error, SSQ_ERROR, SSQ_ERROR_INVALID);
    }
}

static void
test_parse_depth (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *ok = g_strdup_printf ("{\"a\":%s1%s}", "[[[[[[[[[[", "]]]]]]]]]]");
  g_autoptr(GString) deep = g_string_new ("{\"a\":");
  g_autoptr(JsonObject) obj = NULL;

  obj = parse (ok, strlen (ok), &error);
  g_assert_no_error (error);
  g_assert_nonnull (obj);
  for (int i = 0; i < SSQ_JSON_MAX_DEPTH; i++)
    g_string_append_c (deep, '[');
  g_assert_null (parse (deep->str, deep->len, &error));
  g_assert_error (error, SSQ_ERROR, SSQ_ERROR_INVALID);
  g_clear_error (&error);
  /* Brackets inside strings do not count, nor do escaped quotes end them. */
  {
    g_autoptr(JsonObject) o2 = NULL;
    g_autofree char *s = g_strdup_printf ("{\"a\":\"\\\"%s\\\\\"}", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[");
    o2 = parse (s, strlen (s), &error);
    g_assert_no_error (error);
    g_assert_nonnull (o2);
  }
  /* An escaped backslash before u0000 is not a NUL escape. */
  {
    g_autoptr(JsonObject) o3 = parse ("{\"a\":\"\\\\u0000\"}", 15, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (json_object_get_string_member (o3, "a"), ==, "\\u0000");
  }
}

/* json-glib decodes a lone UTF-16 surrogate into bytes that are not UTF-8;
 * the reader refuses them in values and member names, and accepts pairs. */
static void
test_parse_surrogates (void)
{
  const char *bad[] = {
    "{\"id\":\"\\ud800x\"}", "{\"id\":\"\\uDC00\"}", "{\"a\":\"x\\ud83d\"}",
    "{\"a\":\"\\ud83d\\u0041\"}", "{\"a\":\"\\ud83d\\ud83d\"}", "{\"k\\udc00\":1}",
    "{\"a\":[\"ok\",{\"b\":\"\\udbff\"}]}", "{\"a\":\"\\ud800",
    /* Short escapes, which json-glib decodes into a surrogate of its own
     * (found by fuzz-frames): the bytes after "\uDa" are not hex. */
    "{\"client_id\":\"\\uDa\x18\x18k\"}", "{\"a\":\"\\uD8\"}", "{\"a\":\"x\\u12zz\"}",
  };
  const char *good = "{\"a\":\"\\ud83d\\ude00\\u00e9\",\"b\":\"\\\\ud800\"}";
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) obj = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(JsonObject) o = parse (bad[i], strlen (bad[i]), &error);

      g_assert_null (o);
      g_assert_error (error, SSQ_ERROR, SSQ_ERROR_INVALID);
      g_assert_true (g_utf8_validate (error->message, -1, NULL));
      g_clear_error (&error);
    }
  obj = parse (good, strlen (good), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (json_object_get_string_member (obj, "a"), ==, "\U0001F600\u00e9");
  g_assert_cmpstr (json_object_get_string_member (obj, "b"), ==, "\\ud800");
}

static void
test_getters (void)
{
  const char *text = "{\"s\":\"x\",\"i\":5,\"f\":1.5,\"b\":true,\"n\":null,\"a\":[\"p\",\"q\"],"
                     "\"mixed\":[\"p\",1],\"o\":{}}";
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) obj = parse (text, strlen (text), &error);
  const char *s = NULL;
  gint64 i = 0;
  gboolean b = FALSE;
  JsonArray *a = NULL;
  JsonObject *o = NULL;
  g_autoptr(GPtrArray) strv = NULL;

  g_assert_no_error (error);
  g_assert_true (ssq_json_get_string (obj, "s", TRUE, &s, &error));
  g_assert_cmpstr (s, ==, "x");
  g_assert_true (ssq_json_get_string (obj, "n", FALSE, &s, &error));
  g_assert_null (s);
  g_assert_false (ssq_json_get_string (obj, "n", TRUE, &s, &error));
  g_assert_error (error, SSQ_ERROR, SSQ_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (ssq_json_get_string (obj, "i", TRUE, &s, &error));
  g_clear_error (&error);
  g_assert_true (ssq_json_get_int (obj, "i", TRUE, 0, 10, &i, &error));
  g_assert_cmpint (i, ==, 5);
  g_assert_false (ssq_json_get_int (obj, "i", TRUE, 6, 10, &i, &error));
  g_clear_error (&error);
  g_assert_false (ssq_json_get_int (obj, "f", TRUE, 0, 10, &i, &error));
  g_clear_error (&error);
  g_assert_false (ssq_json_get_int (obj, "missing", TRUE, 0, 1, &i, &error));
  g_clear_error (&error);
  g_assert_true (ssq_json_get_bool (obj, "b", TRUE, &b, &error));
  g_assert_true (b);
  g_assert_false (ssq_json_get_bool (obj, "s", TRUE, &b, &error));
  g_clear_error (&error);
  g_assert_true (ssq_json_get_array (obj, "a", TRUE, 5, &a, &error));
  strv = ssq_json_array_to_strv (a, "a", &error);
  g_assert_cmpuint (strv->len, ==, 2);
  g_assert_false (ssq_json_get_array (obj, "a", TRUE, 1, &a, &error));
  g_clear_error (&error);
  g_assert_true (ssq_json_get_array (obj, "mixed", TRUE, 5, &a, &error));
  g_assert_null (ssq_json_array_to_strv (a, "mixed", &error));
  g_clear_error (&error);
  g_assert_true (ssq_json_get_object (obj, "o", TRUE, &o, &error));
  g_assert_false (ssq_json_get_object (obj, "a", TRUE, &o, &error));
  g_clear_error (&error);
}

static void
test_errors (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) copy = NULL;
  g_autoptr(JsonObject) obj = NULL;
  SsqError code;

  g_assert_cmpstr (ssq_error_code_to_string (SSQ_ERROR_NOT_FOUND), ==, "not_found");
  g_assert_cmpuint (ssq_error_code_http_status (SSQ_ERROR_RATE_LIMITED), ==, 429);
  g_assert_cmpuint (ssq_error_code_http_status (SSQ_ERROR_USERNAME_TAKEN), ==, 409);
  g_assert_true (ssq_error_code_from_string ("too_large", &code));
  g_assert_cmpint (code, ==, SSQ_ERROR_TOO_LARGE);
  g_assert_false (ssq_error_code_from_string ("bogus", &code));
  /* The client's own codes are not read from the wire. */
  g_assert_false (ssq_error_code_from_string ("storage", &code));
  g_assert_false (ssq_error_code_from_string ("network", &code));
  g_assert_false (ssq_error_code_from_string ("untrusted", &code));
  for (guint i = 0; i <= SSQ_ERROR_NOT_IMPLEMENTED; i++)
    {
      g_assert_true (ssq_error_code_from_string (ssq_error_code_to_string (i), &code));
      g_assert_cmpint (code, ==, i);
    }
  ssq_set_rate_limited (&error, 1234);
  g_assert_error (error, SSQ_ERROR, SSQ_ERROR_RATE_LIMITED);
  g_assert_cmpint (ssq_error_get_retry_after (error), ==, 1234);
  /* The retry time survives copies (it rides in the error's private data). */
  copy = g_error_copy (error);
  g_assert_cmpint (ssq_error_get_retry_after (copy), ==, 1234);
  obj = ssq_wire_error_object (error);
  g_assert_cmpstr (json_object_get_string_member (obj, "code"), ==, "rate_limited");
  g_assert_cmpint (json_object_get_int_member (obj, "retry_after_ms"), ==, 1234);
}

static void
test_value_rules (void)
{
  g_assert_true (ssq_check_username ("a.b-c_9", NULL));
  g_assert_true (ssq_check_username ("ABC", NULL));
  g_assert_false (ssq_check_username ("ab", NULL));
  g_assert_false (ssq_check_username ("has space", NULL));
  g_assert_false (ssq_check_username ("émile", NULL));
  g_assert_false (ssq_check_username ("0123456789012345678901234567890123", NULL));
  g_assert_false (ssq_check_username (NULL, NULL));
  g_assert_true (ssq_check_password ("12345678", NULL));
  g_assert_false (ssq_check_password ("1234567", NULL));
  g_assert_true (ssq_check_text ("body", "héllo", 1, 10, NULL));
  g_assert_false (ssq_check_text ("body", "", 1, 10, NULL));
  g_assert_false (ssq_check_text ("body", "\xc3\x28", 1, 10, NULL));
  g_assert_false (ssq_check_text ("body", "12345678901", 1, 10, NULL));
}

/* The mention rule shared by the server and clients that derive their own
 * notifications: "@name" standing alone, in any case. */
static void
test_mentions (void)
{
  const struct { const char *body; gboolean expected; } cases[] = {
    { "@alice hello", TRUE },           /* start of text */
    { "hello @alice", TRUE },           /* after a space, at the end */
    { "thanks @alice.", TRUE },         /* sentence end: the dot is not part of the name */
    { "(@alice), see", TRUE },          /* punctuation around it */
    { "@ALICE look", TRUE },            /* any case */
    { "hi @Alice!", TRUE },
    { "@bob and @alice", TRUE },        /* not the first '@' */
    { "@alicex", FALSE },               /* a longer name */
    { "@alice_2", FALSE },
    { "@alice.b", FALSE },              /* a dot followed by more name */
    { "x@alice", FALSE },               /* preceded by a letter: an address */
    { "9@alice", FALSE },
    { "_@alice", FALSE },
    { "@alice-bob", FALSE },            /* another user's name */
    { "alice", FALSE },
    { "@alic", FALSE },                 /* text ends inside the name */
    { "@", FALSE },
    { "", FALSE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_test_message ("body \"%s\"", cases[i].body);
      g_assert_cmpint (ssq_proto_mentions (cases[i].body, "alice"), ==, cases[i].expected);
    }
  g_assert_true (ssq_proto_mentions ("hi @alice-bob", "alice-bob"));
  g_assert_true (ssq_proto_mentions ("hi @a.b.", "a.b"));
  g_assert_false (ssq_proto_mentions ("hi @", ""));
  g_assert_false (ssq_proto_mentions (NULL, "alice"));
}

/* Notification servers parse the body as markup: what a member wrote
 * shows as written, never as markup or a broken notification. */
static void
test_notification_body (void)
{
  g_autofree char *tags = ssq_display_notification_body ("<b>bold</b> & <a href=\"x\">link</a>");
  g_autofree char *controls = ssq_display_notification_body ("bell\a and \033[2J");
  g_autofree char *broken = ssq_display_notification_body ("ok\xff");

  g_assert_cmpstr (tags, ==, "&lt;b&gt;bold&lt;/b&gt; &amp; &lt;a href=&quot;x&quot;&gt;link&lt;/a&gt;");
  g_assert_null (strchr (controls, '\a'));
  g_assert_null (strchr (controls, '\033'));
  g_assert_true (g_utf8_validate (broken, -1, NULL));
}

static void
test_duration (void)
{
  static const struct { gint64 ms; const char *text; } cases[] = {
    { 1, "1 s" }, { 999, "1 s" }, { 45000, "45 s" }, { 59001, "1 min" }, { 676989, "11 min" },
    { 3599000, "1 h" }, { 5400000, "2 h" }, { 5399000, "1 h" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *text = ssq_display_duration (cases[i].ms);

      g_assert_cmpstr (text, ==, cases[i].text);
    }
}

/* Attachments on one line: a picture with its size in pixels, or
 * without until it is known, a file; names from others sanitized. */
static void
test_media_line (void)
{
  g_autoptr(SsqMedia) photo = ssq_media_new ("f1", "photo.jpg", "image/jpeg", 240000, 1920, 1080);
  g_autoptr(SsqMedia) fresh = ssq_media_new ("f2", "photo.jpg", "image/jpeg", 240000, 0, 0);
  g_autoptr(SsqMedia) report = ssq_media_new ("f3", "report.pdf", "application/pdf", 1200000, 0, 0);
  g_autoptr(SsqMedia) svg = ssq_media_new ("f4", "a.svg", "image/svg+xml", 10, 0, 0);
  g_autoptr(SsqMedia) evil = ssq_media_new ("f5", "x\033]0;pwned\a.txt", "text/plain", 1, 0, 0);
  g_autofree char *a = ssq_display_media (photo), *b = ssq_display_media (fresh);
  g_autofree char *c = ssq_display_media (report), *d = ssq_display_media (svg);
  g_autofree char *e = ssq_display_media (evil);

  g_assert_cmpstr (a, ==, "[image 1920×1080 photo.jpg 240.0 kB]");
  g_assert_cmpstr (b, ==, "[image photo.jpg 240.0 kB]");
  g_assert_cmpstr (c, ==, "[file report.pdf 1.2 MB]");
  g_assert_cmpstr (d, ==, "[file a.svg 10 bytes]");
  g_assert_null (strchr (e, '\033'));
  g_assert_null (strchr (e, '\a'));
}

/* Media objects: from and to the wire, lists as the cache keeps them, and
 * the names an upload gives. */
static void
test_media_object (void)
{
  const char *json = "[{\"id\":\"f1\",\"name\":\"a.png\",\"mime\":\"image/png\",\"size\":5,"
                     "\"width\":2,\"height\":3,\"thumbnail\":true},{\"id\":\"f2\",\"name\":\"b\","
                     "\"mime\":\"text/plain\",\"size\":0,\"width\":null,\"height\":null,\"thumbnail\":false}]";
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) list = ssq_media_list_from_text (json, &error);
  g_autofree char *again = NULL, *long_name = NULL, *cut = NULL;
  g_autofree char *slash = ssq_media_name_for_upload ("a/b\\c\n.txt");
  g_autofree char *dots = ssq_media_name_for_upload ("..");
  g_autofree char *empty = ssq_media_name_for_upload ("");
  g_autofree char *latin1 = ssq_media_name_for_upload ("caf\xe9.txt");

  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 2);
  g_assert_true (ssq_media_is_image (list->pdata[0]));
  g_assert_true (ssq_media_has_thumbnail (list->pdata[0]));
  g_assert_false (ssq_media_has_thumbnail (list->pdata[1]));
  g_assert_cmpint (ssq_media_get_height (list->pdata[0]), ==, 3);
  g_assert_false (ssq_media_is_image (list->pdata[1]));
  g_assert_cmpint (ssq_media_get_width (list->pdata[1]), ==, 0);
  again = ssq_media_list_to_text (list);
  g_assert_cmpstr (again, ==, json);
  g_assert_null (ssq_media_list_to_text (NULL));
  g_assert_null (ssq_media_list_from_text (NULL, NULL));
  g_assert_null (ssq_media_list_from_text ("{}", &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  g_assert_null (ssq_media_list_from_text ("[{\"name\":\"no id\"}]", &error));
  g_assert_nonnull (error);
  g_clear_error (&error);

  g_assert_cmpstr (slash, ==, "a_b_c_.txt");
  g_assert_cmpstr (dots, ==, "file");
  g_assert_cmpstr (empty, ==, "file");
  g_assert_true (g_utf8_validate (latin1, -1, NULL));
  g_assert_true (g_str_has_suffix (latin1, ".txt"));
  /* Too long: cut in the stem, at a character boundary, extension kept. */
  {
    g_autoptr(GString) name = g_string_new (NULL);

    for (guint i = 0; i < 200; i++)
      g_string_append (name, "é");
    g_string_append (name, ".jpeg");
    long_name = g_string_free (g_steal_pointer (&name), FALSE);
  }
  cut = ssq_media_name_for_upload (long_name);
  g_assert_cmpuint (strlen (cut), <=, SSQ_MEDIA_NAME_MAX);
  g_assert_true (g_utf8_validate (cut, -1, NULL));
  g_assert_true (g_str_has_suffix (cut, "é.jpeg"));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/shared/codec/parse-rejects", test_parse_rejects);
  g_test_add_func ("/shared/codec/parse-depth", test_parse_depth);
  g_test_add_func ("/shared/codec/parse-surrogates", test_parse_surrogates);
  g_test_add_func ("/shared/codec/getters", test_getters);
  g_test_add_func ("/shared/proto/errors", test_errors);
  g_test_add_func ("/shared/proto/value-rules", test_value_rules);
  g_test_add_func ("/shared/proto/mentions", test_mentions);
  g_test_add_func ("/shared/display/notification-body", test_notification_body);
  g_test_add_func ("/shared/display/duration", test_duration);
  g_test_add_func ("/shared/display/media-line", test_media_line);
  g_test_add_func ("/shared/media/object", test_media_object);
  return g_test_run ();
}
