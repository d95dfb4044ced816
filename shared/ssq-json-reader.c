/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-json-reader.c: JSON text (RFC 8259, nothing more) into json-glib nodes.
 *
 * Why not JsonParser. json-glib 1.6 reads more than JSON and gets some of
 * it wrong: 9223372036854775808 wraps to the most negative integer,
 * 99999999999999999999 becomes -1 and 1e999 infinity; it takes comments,
 * single quotes, hexadecimal, "01", ".5", "\x41" and raw control characters
 * in strings; it turns "\u0000" into a cut string, decodes a lone surrogate
 * into bytes that are not UTF-8, and recurses once per nesting level. And
 * it makes a GScanner for every document: of the 2.9 µs it took to parse a
 * 150-byte `send` frame, 2.2 went to scanning, the largest cost of a
 * message on the server's main loop.
 *
 * This reader takes JSON only, refuses what the protocol cannot carry (NUL,
 * lone surrogates, numbers past a 64-bit integer or a double, nesting past
 * SSQ_JSON_MAX_DEPTH, objects with names made to collide
 * (ssq-json-names.h), documents past the caller's budget) with the offset
 * of the offending byte, and builds the
 * nodes JsonParser would: integers without fraction or exponent as gint64,
 * other numbers as doubles; it refuses a member named twice.
 * The tree is not sealed: sealing hashed every member of every frame (3.4%
 * of the main loop's time at 32 sends in flight), for json_node_hash (),
 * which nothing here uses; and the AMQP bridge adds members to its
 * request. Nesting is bounded before recursion goes deeper, so the stack
 * is too. */
#include <glib/gi18n.h>
#include "ssq-json-reader.h"
#include "ssq-json.h"
#include "ssq-json-names.h"
#include "ssq-proto.h"

#include <errno.h>
#include <math.h>
#include <string.h>

typedef struct {
  const char *start;
  const char *p;
  const char *end;
  GString    *scratch;  /* the string being decoded; reused */
  int         depth;
  const SsqJsonBudget *budget;  /* NULL: none */
  SsqJsonBudget        left;
  GError    **error;
} Reader;

static JsonNode *read_value (Reader *r);

/* Fails at the current byte; @reason is translated. */
static gboolean
fail (Reader     *r,
      const char *reason)
{
  /* TRANSLATORS: %s is one of this file's reasons, such as "expected a
   * value", written in lower case to go here; %u counts bytes from 0. */
  g_set_error (r->error, SSQ_ERROR, SSQ_ERROR_INVALID, _("Malformed JSON: %s at byte %u"),
               reason, (guint) (r->p - r->start));
  return FALSE;
}

static JsonNode *
fail_node (Reader     *r,
           const char *reason)
{
  fail (r, reason);
  return NULL;
}

static void
skip_space (Reader *r)
{
  while (r->p < r->end && (*r->p == ' ' || *r->p == '\n' || *r->p == '\r' || *r->p == '\t'))
    r->p++;
}

/* Skips @word (true, false, null) or fails. */
static gboolean
literal (Reader     *r,
         const char *word)
{
  gsize n = strlen (word);

  if ((gsize) (r->end - r->p) < n || memcmp (r->p, word, n) != 0)
    return fail (r, _("expected a value"));
  r->p += n;
  return TRUE;
}

/* The code unit of the four hex digits at r->p, or -1. */
static int
hex4 (Reader *r)
{
  int unit = 0;

  if (r->end - r->p < 4)
    return -1;
  for (int i = 0; i < 4; i++)
    {
      int digit = g_ascii_xdigit_value (r->p[i]);

      if (digit < 0)
        return -1;
      unit = unit * 16 + digit;
    }
  r->p += 4;
  return unit;
}

#define IS_HIGH_SURROGATE(u) ((u) >= 0xD800 && (u) <= 0xDBFF)
#define IS_LOW_SURROGATE(u)  ((u) >= 0xDC00 && (u) <= 0xDFFF)

/* A \u escape, r->p just past the 'u': one character, or a surrogate pair.
 * Errors name the escape's backslash. */
static gboolean
unicode_escape (Reader *r)
{
  const char *escape = r->p - 2;
  int unit = hex4 (r);
  int low = -1;
  const char *reason = NULL;

  if (unit < 0)
    reason = _("a \\u escape needs four hexadecimal digits");
  else if (unit == 0)
    reason = _("strings may not contain NUL characters");
  else if (IS_HIGH_SURROGATE (unit))
    {
      if (r->end - r->p >= 2 && r->p[0] == '\\' && r->p[1] == 'u')
        {
          r->p += 2;
          low = hex4 (r);
        }
      if (!IS_LOW_SURROGATE (low))
        reason = _("a lone UTF-16 surrogate");
      else
        unit = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
    }
  else if (IS_LOW_SURROGATE (unit))
    reason = _("a lone UTF-16 surrogate");
  if (reason != NULL)
    {
      r->p = escape;
      return fail (r, reason);
    }
  g_string_append_unichar (r->scratch, (gunichar) unit);
  return TRUE;
}

/* A string, r->p on its opening quote, decoded into r->scratch. The text
 * was checked to be UTF-8 as a whole: only the escapes are decoded here. */
static gboolean
read_string (Reader *r)
{
  static const char simple[] = "\"\\/bfnrt";
  static const char decoded[] = "\"\\/\b\f\n\r\t";

  g_string_truncate (r->scratch, 0);
  r->p++;
  for (;;)
    {
      const char *run = r->p;
      const char *escape;

      while (r->p < r->end && *r->p != '"' && *r->p != '\\' && (guchar) *r->p >= 0x20)
        r->p++;
      g_string_append_len (r->scratch, run, r->p - run);
      if (r->p == r->end)
        return fail (r, _("unterminated string"));
      if (*r->p == '"')
        {
          r->p++;
          return TRUE;
        }
      if (*r->p != '\\')
        return fail (r, _("control characters must be escaped in strings"));
      if (++r->p == r->end)
        return fail (r, _("unterminated string"));
      if (*r->p == 'u')
        {
          r->p++;
          if (!unicode_escape (r))
            return FALSE;
          continue;
        }
      escape = memchr (simple, *r->p, sizeof simple - 1);
      if (escape == NULL)
        {
          r->p--;
          return fail (r, _("unknown escape in a string"));
        }
      g_string_append_c (r->scratch, decoded[escape - simple]);
      r->p++;
    }
}

static gboolean
digits (Reader *r)
{
  const char *from = r->p;

  while (r->p < r->end && g_ascii_isdigit (*r->p))
    r->p++;
  return r->p > from;
}

/* A number, by the grammar of RFC 8259 section 6. */
static JsonNode *
read_number (Reader *r)
{
  const char *from = r->p;
  gboolean integer = TRUE;
  char buffer[64];
  g_autofree char *heap = NULL;
  char *text = buffer;
  gsize length;

  if (*r->p == '-')
    r->p++;
  if (r->p < r->end && *r->p == '0')
    r->p++;
  else if (!digits (r))
    return fail_node (r, _("a number needs digits"));
  if (r->p < r->end && *r->p == '.')
    {
      r->p++;
      integer = FALSE;
      if (!digits (r))
        return fail_node (r, _("a number needs digits"));
    }
  if (r->p < r->end && (*r->p == 'e' || *r->p == 'E'))
    {
      r->p++;
      integer = FALSE;
      if (r->p < r->end && (*r->p == '+' || *r->p == '-'))
        r->p++;
      if (!digits (r))
        return fail_node (r, _("a number needs digits"));
    }
  /* The text is not NUL-terminated: copied, on the heap only when long. */
  length = r->p - from;
  if (length >= sizeof buffer)
    text = heap = g_malloc (length + 1);
  memcpy (text, from, length);
  text[length] = '\0';
  errno = 0;
  if (integer)
    {
      gint64 value = g_ascii_strtoll (text, NULL, 10);

      if (errno == 0)
        return json_node_init_int (json_node_alloc (), value);
    }
  else
    {
      double value = g_ascii_strtod (text, NULL);

      if (isfinite (value))
        return json_node_init_double (json_node_alloc (), value);
    }
  r->p = from;
  return fail_node (r, _("number out of range"));
}

/* Going one level deeper, or failing past SSQ_JSON_MAX_DEPTH. */
static gboolean
descend (Reader *r)
{
  g_autofree char *reason = NULL;

  if (++r->depth <= SSQ_JSON_MAX_DEPTH)
    return TRUE;
  r->p--;
  reason = g_strdup_printf (_("nested deeper than %d levels"), SSQ_JSON_MAX_DEPTH);
  return fail (r, reason);
}

/* Skips white space, then @c if it comes next. */
static gboolean
next_is (Reader *r,
         char    c)
{
  skip_space (r);
  if (r->p < r->end && *r->p == c)
    {
      r->p++;
      return TRUE;
    }
  return FALSE;
}

/* A member "name": value of the object being read. */
static gboolean
read_member (Reader       *r,
             JsonObject   *object,
             SsqJsonNames *names)
{
  g_autofree char *name = NULL;
  const char *name_at;
  JsonNode *value;
  guint size;

  skip_space (r);
  name_at = r->p;
  if (r->p == r->end || *r->p != '"')
    return fail (r, _("expected a member name"));
  if (!read_string (r))
    return FALSE;
  /* Before json-glib compares it with every name that shares its hash. */
  if (!ssq_json_names_add (names, r->scratch->str))
    {
      r->p = name_at;
      return fail (r, _("member names made to collide"));
    }
  /* Copied: reading the value reuses the scratch string. */
  name = g_strndup (r->scratch->str, r->scratch->len);
  if (!next_is (r, ':'))
    return fail (r, _("expected ':'"));
  if ((value = read_value (r)) == NULL)
    return FALSE;
  size = json_object_get_size (object);
  json_object_set_member (object, name, value);
  /* RFC 8259 leaves a repeated name to the reader. Replacing a member
   * costs json-glib a walk of the member list: a body of repeats took time
   * quadratic in its length (1.7 s for 239 KB). A replacement leaves the
   * size as it was; the first one ends the reading. (Asking first cost a
   * second hash and lookup of every name: 1.7% of the main loop.) */
  if (json_object_get_size (object) == size)
    {
      r->p = name_at;
      return fail (r, _("a member named twice"));
    }
  return TRUE;
}

/* Fails at the next value or name, for @reason (taken). */
static JsonNode *
over_limit (Reader *r,
            char   *reason)
{
  g_autofree char *owned = reason;

  skip_space (r);
  return fail_node (r, owned);
}

static JsonNode *
read_object (Reader *r)
{
  g_autoptr(JsonObject) object = json_object_new ();
  g_auto(SsqJsonNames) names = { 0 };

  r->p++;
  if (!descend (r))
    return NULL;
  if (!next_is (r, '}'))
    {
      do
        {
          if (r->budget != NULL && json_object_get_size (object) == r->budget->object_members)
            return over_limit (r, g_strdup_printf (_("more than %u members in an object"),
                                                   r->budget->object_members));
          if (r->budget != NULL && r->left.members-- == 0)
            return over_limit (r, g_strdup_printf (_("more than %u members in all"),
                                                   r->budget->members));
          if (!read_member (r, object, &names))
            return NULL;
        }
      while (next_is (r, ','));
      if (!next_is (r, '}'))
        return fail_node (r, _("expected ',' or '}'"));
    }
  r->depth--;
  return json_node_init_object (json_node_alloc (), object);
}

static JsonNode *
read_array (Reader *r)
{
  g_autoptr(JsonArray) array = json_array_new ();

  r->p++;
  if (!descend (r))
    return NULL;
  if (!next_is (r, ']'))
    {
      do
        {
          JsonNode *element = read_value (r);

          if (element == NULL)
            return NULL;
          json_array_add_element (array, element);
        }
      while (next_is (r, ','));
      if (!next_is (r, ']'))
        return fail_node (r, _("expected ',' or ']'"));
    }
  r->depth--;
  return json_node_init_array (json_node_alloc (), array);
}

static JsonNode *
read_value (Reader *r)
{
  skip_space (r);
  if (r->p == r->end)
    return fail_node (r, _("expected a value"));
  if (r->budget != NULL && r->left.values-- == 0)
    return over_limit (r, g_strdup_printf (_("more than %u values in all"), r->budget->values));
  switch (*r->p)
    {
    case '{':
      return read_object (r);
    case '[':
      return read_array (r);
    case '"':
      return read_string (r) ? json_node_init_string (json_node_alloc (), r->scratch->str) : NULL;
    case 't':
    case 'f':
      {
        gboolean value = *r->p == 't';

        return literal (r, value ? "true" : "false")
               ? json_node_init_boolean (json_node_alloc (), value) : NULL;
      }
    case 'n':
      return literal (r, "null") ? json_node_init_null (json_node_alloc ()) : NULL;
    default:
      if (*r->p == '-' || g_ascii_isdigit (*r->p))
        return read_number (r);
      return fail_node (r, _("expected a value"));
    }
}

/**
 * ssq_json_reader_read:
 * @data: the text, not necessarily NUL-terminated
 * @length: its length in bytes
 * @budget: (nullable): what the document may hold in all
 * @error: set to %SSQ_ERROR_INVALID with the reason and the byte
 *
 * Reads one JSON value that takes the whole of @data (white space around
 * it aside). The caller checks that @data is UTF-8.
 *
 * Returns: (transfer full): the value, or %NULL
 */
JsonNode *
ssq_json_reader_read (const char          *data,
                      gsize                length,
                      const SsqJsonBudget *budget,
                      GError             **error)
{
  g_autoptr(GString) scratch = g_string_sized_new (64);
  Reader r = { data, data, data + length, scratch, 0, budget, { 0 }, error };
  g_autoptr(JsonNode) root = NULL;

  if (budget != NULL)
    r.left = *budget;
  root = read_value (&r);
  if (root == NULL)
    return NULL;
  skip_space (&r);
  if (r.p != r.end)
    return fail_node (&r, _("unexpected text after the value"));
  return g_steal_pointer (&root);
}
