/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-json-reader.c: the strict JSON reader (ssq-json-reader.c) against
 * the grammar of RFC 8259, and against json-glib's parser on JSON both
 * read: the same trees. */
#include "ssq-json.h"
#include "ssq-json-reader.h"
#include "ssq-json-names.h"
#include "ssq-proto.h"

#include <string.h>

static JsonNode *
read_text (const char  *text,
           GError     **error)
{
  return ssq_json_reader_read (text, strlen (text), NULL, error);
}

/* What json-glib 1.6 took (and misread, for the numbers), and JSON is not. */
static void
test_not_json (void)
{
  const char *bad[] = {
    "{'a':1}", "{\"a\":0x10}", "{\"a\":01}", "{\"a\":.5}", "{\"a\":1.}", "{\"a\":- 1}",
    "{\"a\":1} /*c*/", "{\"a\":1}//", "{\"a\":\"x\ty\"}", "{\"a\":\"x\ny\"}",
    "{\"a\":\"\\x41\"}", "{\"a\":\"\\'\"}", "{\"a\":1e}", "{\"a\":1e+}", "{\"a\":-}",
    "{\"a\":+1}", "{\"a\":NaN}", "{\"a\":tru}", "{\"a\":nul}", "{\"a\":1,}", "{\"a\":[1,]}",
    "{\"a\":[1,,2]}", "{a:1}", "{\"a\" 1}", "{\"a\":1 \"b\":2}", "{\"a\":1}{", "\v{}",
    "{}\f", "{\"a\":\"unterminated", "{\"a\":\"\\", "[", "", " ", "{\"a\":1}}",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(JsonNode) node = read_text (bad[i], &error);

      if (node != NULL)
        g_error ("read, and should not have: %s", bad[i]);
      g_assert_error (error, SSQ_ERROR, SSQ_ERROR_INVALID);
      g_assert_true (g_str_has_prefix (error->message, "Malformed JSON: "));
    }
}

/* The message names the byte where reading stopped. */
static void
test_offsets (void)
{
  const struct { const char *text; const char *message; } cases[] = {
    { "{\"a\" 1}", "Malformed JSON: expected ':' at byte 5" },
    { "{\"a\":1,}", "Malformed JSON: expected a member name at byte 7" },
    { "[1 2]", "Malformed JSON: expected ',' or ']' at byte 3" },
    { "{\"a\":01}", "Malformed JSON: expected ',' or '}' at byte 6" },
    { "{\"a\":\"x\ny\"}", "Malformed JSON: control characters must be escaped in strings at byte 7" },
    { "{\"a\":\"\\ud800x\"}", "Malformed JSON: a lone UTF-16 surrogate at byte 6" },
    { "{\"a\":\"x\\ud800\\ud800\"}", "Malformed JSON: a lone UTF-16 surrogate at byte 7" },
    { "{\"a\":\"\\u00G0\"}", "Malformed JSON: a \\u escape needs four hexadecimal digits at byte 6" },
    { "{\"a\":1,\"b\":2,\"a\":3}", "Malformed JSON: a member named twice at byte 13" },
    { "[\"ab\\x\"]", "Malformed JSON: unknown escape in a string at byte 4" },
    { "[[1],[[2]]", "Malformed JSON: expected ',' or ']' at byte 10" },
    { "{\"a\":99999999999999999999}", "Malformed JSON: number out of range at byte 5" },
    { "{} x", "Malformed JSON: unexpected text after the value at byte 3" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(JsonNode) node = read_text (cases[i].text, &error);

      g_assert_null (node);
      g_assert_cmpstr (error->message, ==, cases[i].message);
    }
}

static void
assert_int (const char *text,
            gint64      expected)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = read_text (text, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (json_node_get_value_type (node), ==, G_TYPE_INT64);
  g_assert_cmpint (json_node_get_int (node), ==, expected);
}

static void
assert_double (const char *text,
               double      expected)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = read_text (text, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (json_node_get_value_type (node), ==, G_TYPE_DOUBLE);
  g_assert_cmpfloat (json_node_get_double (node), ==, expected);
}

/* Integers are gint64 or refused: json-glib wrapped 2^63 to -2^63 and read
 * 99999999999999999999 as -1. Doubles are finite or refused. */
static void
test_numbers (void)
{
  const char *out_of_range[] = {
    "9223372036854775808", "-9223372036854775809", "99999999999999999999",
    "1e999", "-1e999", "1e400",
  };
  g_autoptr(GString) long_number = g_string_new ("1");

  assert_int ("9223372036854775807", G_MAXINT64);
  assert_int ("-9223372036854775808", G_MININT64);
  assert_int ("-0", 0);
  assert_int (" 0 ", 0);
  assert_double ("1E2", 100.0);
  assert_double ("1.5e-3", 0.0015);
  assert_double ("-1.5E+2", -150.0);
  assert_double ("0.1", 0.1);
  assert_double ("1.0", 1.0);
  assert_double ("1e-400", 0.0);
  for (guint i = 0; i < G_N_ELEMENTS (out_of_range); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(JsonNode) node = read_text (out_of_range[i], &error);

      g_assert_null (node);
      g_assert_nonnull (strstr (error->message, "number out of range"));
    }
  /* Long numbers are numbers too: 1 and 500 zeros times 10^-500, then 0.1
   * and 500 zeros. */
  for (int i = 0; i < 500; i++)
    g_string_append_c (long_number, '0');
  g_string_append (long_number, "e-500");
  assert_double (long_number->str, 1.0);
  g_string_truncate (long_number, long_number->len - strlen ("e-500"));
  g_string_prepend (long_number, "0.");
  assert_double (long_number->str, 0.1);
}

static void
test_strings (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = read_text ("[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\", \"\\u00e9\\u20AC\\ud83d\\ude00\","
                                        " \"\x7f\xc3\xa9\", \"\", \"a\\u0041\"]", &error);
  JsonArray *array;

  g_assert_no_error (error);
  array = json_node_get_array (node);
  g_assert_cmpstr (json_array_get_string_element (array, 0), ==, "\"\\/\b\f\n\r\t");
  g_assert_cmpstr (json_array_get_string_element (array, 1), ==, "\u00e9\u20ac\U0001F600");
  g_assert_cmpstr (json_array_get_string_element (array, 2), ==, "\x7f\u00e9");
  g_assert_cmpstr (json_array_get_string_element (array, 3), ==, "");
  g_assert_cmpstr (json_array_get_string_element (array, 4), ==, "aA");
}

/* White space around the value is JSON's four characters only; a member
 * named twice is refused (RFC 8259 leaves it to the reader, and json-glib
 * replaced a member by walking the list of all of them). */
static void
test_members (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = read_text (" \t\r\n{ \"a\" : 1 , \"b\" : [ ] , \"\" : { } }\n", &error);
  g_autoptr(JsonNode) twice = NULL;
  JsonObject *object;

  g_assert_no_error (error);
  object = json_node_get_object (node);
  g_assert_cmpuint (json_object_get_size (object), ==, 3);
  g_assert_true (JSON_NODE_HOLDS_ARRAY (json_object_get_member (object, "b")));
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_object_get_member (object, "")));
  /* The same name written with an escape is the same name. */
  twice = read_text ("{\"ab\":1,\"a\\u0062\":2}", &error);
  g_assert_null (twice);
  g_assert_nonnull (strstr (error->message, "a member named twice"));
}

/* Appends a name that spells @i in binary with "ab" for 0 and "bA" for 1:
 * all such names share one g_str_hash. */
static void
append_colliding_name (GString *text,
                       guint    i)
{
  g_string_append_c (text, '"');
  for (guint bit = 0; bit < 10; bit++)
    g_string_append (text, (i >> bit) & 1 ? "bA" : "ab");
  g_string_append_c (text, '"');
}

/* Reads @text, which must be refused with "Malformed JSON: @reason at byte
 * @at". */
static void
assert_refused_at (const char *text,
                   const char *reason,
                   gsize       at)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *message = g_strdup_printf ("Malformed JSON: %s at byte %u", reason, (guint) at);

  g_assert_null (read_text (text, &error));
  g_assert_cmpstr (error->message, ==, message);
}

/* An object of @plain other names with names of one hash at the positions
 * @at (ascending, -1 ended): the fifth of them is refused at its name. */
static void
refused_fifth (guint      plain,
               const int *at)
{
  g_autoptr(GString) text = g_string_new ("{");
  guint colliding = 0;
  gsize fifth = 0;

  for (guint i = 0, next = 0; i < plain + 5; i++)
    {
      if (i > 0)
        g_string_append_c (text, ',');
      if (at[next] == (int) i)
        {
          if (++colliding == SSQ_JSON_NAMES_SAME_HASH_MAX + 1)
            fifth = text->len;
          append_colliding_name (text, colliding);
          next++;
        }
      else
        g_string_append_printf (text, "\"plain%u\"", i);
      g_string_append (text, ":0");
    }
  g_string_append (text, "}");
  g_assert_cmpuint (colliding, ==, SSQ_JSON_NAMES_SAME_HASH_MAX + 1);
  assert_refused_at (text->str, "member names made to collide", fifth);
  /* Without the fifth, the same object is read. */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) node = NULL;
    g_autofree char *four = g_strdup (text->str);
    char *end = strchr (four + fifth, ',');

    if (end != NULL)
      memmove (four + fifth, end + 1, strlen (end + 1) + 1);
    else
      strcpy (four + fifth - 1, "}");
    node = read_text (four, &error);
    g_assert_no_error (error);
  }
}

/* Names made to share a hash in json-glib's member table ("ab" and "bA"
 * hash alike) made every insert compare all the others: four of one hash
 * are read, the fifth is refused at its name, in every object and wherever
 * they are among the others (the first 16 names are counted apart from
 * those after); other names go on beside them. */
static void
test_colliding_names (void)
{
  const int first[] = { 0, 1, 2, 3, 4, -1 };
  const int spread[] = { 1, 5, 9, 15, 18, -1 };
  const int across[] = { 12, 13, 14, 15, 16, -1 };
  const int late[] = { 17, 20, 30, 31, 40, -1 };
  g_autoptr(GString) object = g_string_new ("{\"x\":[{");
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(GError) error = NULL;

  refused_fifth (0, first);
  refused_fifth (20, spread);
  refused_fifth (20, across);
  refused_fifth (40, late);

  /* Four in each of two objects: each object counts afresh. */
  for (guint o = 0; o < 2; o++)
    {
      if (o > 0)
        g_string_append (object, "},{");
      for (guint i = 0; i < SSQ_JSON_NAMES_SAME_HASH_MAX; i++)
        {
          append_colliding_name (object, i);
          g_string_append_printf (object, ":0,\"plain%u\":0,", i);
        }
      g_string_append (object, "\"y\":1");
    }
  g_string_append (object, "}]}");
  node = read_text (object->str, &error);
  g_assert_no_error (error);
}

/* An object holds at most SSQ_JSON_MAX_MEMBERS members, more than a sync
 * frame's "since" of a user in a thousand conversations, in a request and
 * in what a client reads alike. */
static void
test_many_members (void)
{
  g_autoptr(GString) object = g_string_new ("{");
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) request = NULL;
  g_autofree char *message = NULL;
  gsize at;

  for (guint i = 0; i < SSQ_JSON_MAX_MEMBERS; i++)
    g_string_append_printf (object, "%s\"c%u\":%u", i > 0 ? "," : "", i, i);
  g_string_append (object, "}");
  request = ssq_json_parse_request (object->str, object->len, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (json_object_get_size (request), ==, SSQ_JSON_MAX_MEMBERS);

  g_string_truncate (object, object->len - 1);
  at = object->len + 1;
  g_string_append (object, ",\"one more\":0}");
  g_assert_null (ssq_json_parse_request (object->str, object->len, &error));
  message = g_strdup_printf ("Malformed JSON: more than %d members in an object at byte %u",
                             SSQ_JSON_MAX_MEMBERS, (guint) at);
  g_assert_cmpstr (error->message, ==, message);
  g_clear_error (&error);
  g_assert_null (ssq_json_parse_object (object->str, object->len, &error));
  g_assert_cmpstr (error->message, ==, message);
}

/* A request counts the members of all its objects, nested ones included,
 * and all its values: what the budget allows is read, one more is refused
 * at its name or value; what a client reads from its server has no such
 * limits. */
static void
test_request_budget (void)
{
  const guint per = SSQ_JSON_MAX_MEMBERS - 1;
  const guint objects = SSQ_JSON_MAX_REQUEST_MEMBERS / per;
  g_autoptr(GString) text = g_string_new ("{\"list\":[");
  g_autoptr(GString) values = g_string_new ("{\"list\":[0");
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) request = NULL;
  g_autoptr(JsonObject) object = NULL;
  g_autofree char *message = NULL;
  guint top = 1;
  gsize at;

  /* "list", objects of SSQ_JSON_MAX_MEMBERS - 1, and more beside "list" up
   * to the limit. */
  for (guint i = 0; i < objects; i++)
    {
      g_string_append (text, i > 0 ? ",{" : "{");
      for (guint m = 0; m < per; m++)
        g_string_append_printf (text, "%s\"m%u\":%u", m > 0 ? "," : "", m, i);
      g_string_append (text, "}");
    }
  g_string_append (text, "]");
  for (; top + objects * per < SSQ_JSON_MAX_REQUEST_MEMBERS; top++)
    g_string_append_printf (text, ",\"x%u\":0", top);
  g_string_append (text, "}");
  request = ssq_json_parse_request (text->str, text->len, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (json_object_get_size (request), ==, top);
  g_clear_pointer (&request, json_object_unref);

  g_string_truncate (text, text->len - 1);
  at = text->len + 1;
  g_string_append (text, ",\"one too many\":0}");
  g_assert_null (ssq_json_parse_request (text->str, text->len, &error));
  message = g_strdup_printf ("Malformed JSON: more than %d members in all at byte %u",
                             SSQ_JSON_MAX_REQUEST_MEMBERS, (guint) at);
  g_assert_cmpstr (error->message, ==, message);
  g_clear_error (&error);
  g_clear_pointer (&message, g_free);
  object = ssq_json_parse_object (text->str, text->len, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (json_object_get_size (object), ==, top + 1);
  g_clear_pointer (&object, json_object_unref);

  /* The object, its array and the array's elements. */
  for (guint i = 3; i < SSQ_JSON_MAX_REQUEST_VALUES; i++)
    g_string_append (values, ",0");
  g_string_append (values, "]}");
  request = ssq_json_parse_request (values->str, values->len, &error);
  g_assert_no_error (error);
  g_string_truncate (values, values->len - 2);
  at = values->len + 1;
  g_string_append (values, ",{}]}");
  g_assert_null (ssq_json_parse_request (values->str, values->len, &error));
  message = g_strdup_printf ("Malformed JSON: more than %d values in all at byte %u",
                             SSQ_JSON_MAX_REQUEST_VALUES, (guint) at);
  g_assert_cmpstr (error->message, ==, message);
  g_clear_error (&error);
  object = ssq_json_parse_object (values->str, values->len, &error);
  g_assert_no_error (error);
}

/* 32 levels are read, 33 refused at the bracket that goes too deep, without
 * recursing further; levels closed again do not count. */
static void
test_depth (void)
{
  g_autoptr(GString) deep = g_string_new (NULL);
  g_autoptr(GString) wide = g_string_new ("[");
  g_autoptr(GString) abyss = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = NULL;
  g_autofree char *message = NULL;

  for (int i = 0; i < SSQ_JSON_MAX_DEPTH; i++)
    g_string_append (deep, i % 2 ? "[" : "{\"k\":");
  g_string_append (deep, "1");
  for (int i = SSQ_JSON_MAX_DEPTH - 1; i >= 0; i--)
    g_string_append (deep, i % 2 ? "]" : "}");
  node = read_text (deep->str, &error);
  g_assert_no_error (error);
  g_clear_pointer (&node, json_node_unref);

  g_string_insert (deep, 0, "[");
  g_string_append (deep, "]");
  /* The 33rd bracket: after the outer '[', 16 times '{"k":' and 15 '['. */
  g_assert_null (read_text (deep->str, &error));
  message = g_strdup_printf ("Malformed JSON: nested deeper than %d levels at byte %d",
                             SSQ_JSON_MAX_DEPTH, 3 * SSQ_JSON_MAX_DEPTH);
  g_assert_cmpstr (error->message, ==, message);
  g_clear_error (&error);

  for (int i = 0; i < 4 * SSQ_JSON_MAX_DEPTH; i++)
    g_string_append (wide, i > 0 ? ",[{}]" : "[{}]");
  g_string_append (wide, "]");
  node = read_text (wide->str, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (node)), ==, 4 * SSQ_JSON_MAX_DEPTH);

  for (int i = 0; i < 1000000; i++)
    g_string_append_c (abyss, '[');
  g_assert_null (read_text (abyss->str, &error));
  g_assert_nonnull (strstr (error->message, "nested deeper"));
}

/* A random JSON value of at most @depth levels. */
static JsonNode *
random_node (GRand *rand,
             int    depth)
{
  static const char *pieces[] = {
    "a", "é", "\"", "\\", "/", "\n", "\t", "\x01", "\x1e", "\x7f", "\b", "\f", "\r", "€", "\U0001F600", " ", "0",
  };
  int kind = g_rand_int_range (rand, 0, depth > 0 ? 8 : 6);

  switch (kind)
    {
    case 0:
      return json_node_init_null (json_node_alloc ());
    case 1:
      return json_node_init_boolean (json_node_alloc (), g_rand_boolean (rand));
    case 2:
      return json_node_init_int (json_node_alloc (),
                                 (gint64) g_rand_int (rand) << g_rand_int_range (rand, 0, 32));
    case 3:
      return json_node_init_double (json_node_alloc (),
                                    g_rand_double_range (rand, -1e6, 1e6) / g_rand_int_range (rand, 1, 1000));
    case 4:
    case 5:
      {
        g_autoptr(GString) s = g_string_new (NULL);
        int n = g_rand_int_range (rand, 0, 8);

        for (int i = 0; i < n; i++)
          g_string_append (s, pieces[g_rand_int_range (rand, 0, G_N_ELEMENTS (pieces))]);
        return json_node_init_string (json_node_alloc (), s->str);
      }
    case 6:
      {
        g_autoptr(JsonArray) array = json_array_new ();
        int n = g_rand_int_range (rand, 0, 5);

        for (int i = 0; i < n; i++)
          json_array_add_element (array, random_node (rand, depth - 1));
        return json_node_init_array (json_node_alloc (), array);
      }
    default:
      {
        g_autoptr(JsonObject) object = json_object_new ();
        int n = g_rand_int_range (rand, 0, 5);

        for (int i = 0; i < n; i++)
          {
            g_autofree char *name = g_strdup_printf ("k%d%s", g_rand_int_range (rand, 0, 4),
                                                     i % 2 ? "\\\"é" : "");

            json_object_set_member (object, name, random_node (rand, depth - 1));
          }
        return json_node_init_object (json_node_alloc (), object);
      }
    }
}

/* On JSON that json-glib writes and reads, the reader builds the same tree:
 * types, values and member order. */
static void
test_same_as_json_glib (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (20261130);

  for (int i = 0; i < 3000; i++)
    {
      g_autoptr(JsonNode) original = random_node (rand, 5);
      g_autoptr(JsonGenerator) generator = json_generator_new ();
      g_autoptr(JsonParser) parser = json_parser_new_immutable ();
      g_autoptr(GError) error = NULL;
      g_autoptr(JsonNode) ours = NULL;
      g_autofree char *text = NULL;
      g_autofree char *theirs_text = NULL;
      g_autofree char *ours_text = NULL;

      json_generator_set_root (generator, original);
      json_generator_set_pretty (generator, i % 2 == 0);
      text = json_generator_to_data (generator, NULL);
      g_assert_true (json_parser_load_from_data (parser, text, -1, NULL));
      ours = read_text (text, &error);
      g_assert_no_error (error);
      g_assert_true (json_node_equal (ours, json_parser_get_root (parser)));
      /* json_node_equal () takes 1 and 1.0 for equal; the text does not. */
      theirs_text = json_to_string (json_parser_get_root (parser), FALSE);
      ours_text = json_to_string (ours, FALSE);
      g_assert_cmpstr (ours_text, ==, theirs_text);
    }
}

/* json-glib 1.6 writes U+001F raw; ssq_json_node_to_string () escapes it,
 * and the reader, which refuses it raw, reads the string back. */
static void
test_unit_separator (void)
{
  g_autoptr(JsonNode) node = json_node_init_string (json_node_alloc (), "a\x1f\x1e\x1f" "b");
  g_autofree char *raw = json_to_string (node, FALSE);
  g_autofree char *text = NULL;
  g_autoptr(JsonNode) back = NULL;
  g_autoptr(GError) error = NULL;
  gsize length = 0;

  g_assert_nonnull (strchr (raw, 0x1f));
  g_assert_null (ssq_json_reader_read (raw, strlen (raw), NULL, &error));
  g_assert_error (error, SSQ_ERROR, SSQ_ERROR_INVALID);
  g_clear_error (&error);
  text = ssq_json_node_to_string (node, &length);
  g_assert_cmpstr (text, ==, "\"a\\u001f\\u001e\\u001fb\"");
  g_assert_cmpuint (length, ==, strlen (text));
  back = ssq_json_reader_read (text, length, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (json_node_get_string (back), ==, "a\x1f\x1e\x1f" "b");
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/shared/json-reader/not-json", test_not_json);
  g_test_add_func ("/shared/json-reader/offsets", test_offsets);
  g_test_add_func ("/shared/json-reader/numbers", test_numbers);
  g_test_add_func ("/shared/json-reader/strings", test_strings);
  g_test_add_func ("/shared/json-reader/members", test_members);
  g_test_add_func ("/shared/json-reader/depth", test_depth);
  g_test_add_func ("/shared/json-reader/colliding-names", test_colliding_names);
  g_test_add_func ("/shared/json-reader/many-members", test_many_members);
  g_test_add_func ("/shared/json-reader/request-budget", test_request_budget);
  g_test_add_func ("/shared/json-reader/same-as-json-glib", test_same_as_json_glib);
  g_test_add_func ("/shared/json-reader/unit-separator", test_unit_separator);
  return g_test_run ();
}
