/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-json.c: the one place where bytes from the network become JSON.
 * json-glib trusts its input more than we can: it recurses once per nesting
 * level, turns "\u0000" into a truncated C string, and decodes a lone UTF-16
 * surrogate ("\ud800") into bytes that are not UTF-8, which then poison
 * every string built from them (error messages, echoed request ids). A cheap
 * pre-scan rejects all three before the parser sees the text. */
#include <glib/gi18n.h>
#include "ssq-json.h"
#include "ssq-proto.h"

#include <string.h>

/* The UTF-16 code unit of the escape "\uXXXX" whose 'u' is at @p, or -1
 * when there is none or it is malformed. */
static int
escape_unit (const char *p,
             const char *end)
{
  int unit = 0;

  if (end - p < 5 || p[0] != 'u')
    return -1;
  for (int i = 1; i <= 4; i++)
    {
      int digit = g_ascii_xdigit_value (p[i]);

      if (digit < 0)
        return -1;
      unit = unit * 16 + digit;
    }
  return unit;
}

#define IS_HIGH_SURROGATE(u) ((u) >= 0xD800 && (u) <= 0xDBFF)
#define IS_LOW_SURROGATE(u)  ((u) >= 0xDC00 && (u) <= 0xDFFF)

/* Checks the escape at @p (a backslash inside a string) and returns how many
 * bytes after @p it covers beyond the backslash's own. */
static gssize
check_escape (const char  *p,
              const char  *end,
              GError     **error)
{
  int unit = p + 1 < end ? escape_unit (p + 1, end) : -1;
  int low;

  /* json-glib does not refuse a short "\u" escape: it decodes "\uDa" and
   * the bytes after it into a code unit of its own making (a lone
   * surrogate: bytes that are not UTF-8). JSON wants four hex digits. */
  if (unit < 0 && p + 1 < end && p[1] == 'u')
    {
      g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_INVALID,
                           _("A \\u escape needs four hexadecimal digits"));
      return -1;
    }
  if (unit == 0)
    {
      g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_INVALID,
                           _("Strings may not contain NUL characters"));
      return -1;
    }
  if (!IS_HIGH_SURROGATE (unit) && !IS_LOW_SURROGATE (unit))
    return 1;                  /* the escaped character; hex digits are plain */
  low = IS_HIGH_SURROGATE (unit) && p + 6 < end && p[6] == '\\' ? escape_unit (p + 7, end) : -1;
  if (!IS_LOW_SURROGATE (low))
    {
      g_set_error (error, SSQ_ERROR, SSQ_ERROR_INVALID,
                   _("Strings may not contain a lone UTF-16 surrogate (\\u%04x)"), unit);
      return -1;
    }
  return 11;                   /* the pair: \uD8xx\uDCxx */
}

/* Walks the text once: nesting depth outside strings; NUL and lone
 * surrogate escapes inside them (member names included). */
static gboolean
prescan (const char  *data,
         gsize        length,
         GError     **error)
{
  const char *p = data;
  const char *end = data + length;
  gboolean in_string = FALSE;
  int depth = 0;

  for (; p < end; p++)
    {
      char c = *p;

      if (in_string)
        {
          if (c == '\\')
            {
              gssize skip = check_escape (p, end, error);

              if (skip < 0)
                return FALSE;
              p += skip;
            }
          else if (c == '"')
            in_string = FALSE;
          continue;
        }
      if (c == '"')
        in_string = TRUE;
      else if (c == '{' || c == '[')
        {
          if (++depth > SSQ_JSON_MAX_DEPTH)
            {
              g_set_error (error, SSQ_ERROR, SSQ_ERROR_INVALID,
                           _("JSON nested deeper than %d levels"), SSQ_JSON_MAX_DEPTH);
              return FALSE;
            }
        }
      else if (c == '}' || c == ']')
        depth--;
    }
  return TRUE;
}

/**
 * ssq_json_parse_object:
 * @data: bytes received from a peer, not necessarily NUL-terminated
 * @length: their length
 * @error: set to %SSQ_ERROR_INVALID with a human-readable reason
 *
 * Parses untrusted bytes that must hold exactly one JSON object.
 *
 * Returns: (transfer full): the object, or %NULL
 */
JsonObject *
ssq_json_parse_object (const char  *data,
                       gsize        length,
                       GError     **error)
{
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GError) local_error = NULL;
  JsonNode *root;

  if (data == NULL || length == 0)
    {
      g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_INVALID, _("Empty body; expected a JSON object"));
      return NULL;
    }
  if (memchr (data, '\0', length) != NULL)
    {
      g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_INVALID, _("Body contains a NUL byte"));
      return NULL;
    }
  if (!g_utf8_validate (data, length, NULL))
    {
      g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_INVALID, _("Body is not valid UTF-8"));
      return NULL;
    }
  if (!prescan (data, length, error))
    return NULL;

  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, data, (gssize) length, &local_error))
    {
      /* The parser quotes the input; keep the message UTF-8 whatever it held. */
      g_autofree char *reason = g_utf8_make_valid (local_error->message, -1);

      g_set_error (error, SSQ_ERROR, SSQ_ERROR_INVALID, _("Malformed JSON: %s"), reason);
      return NULL;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_INVALID, _("Expected a JSON object"));
      return NULL;
    }
  return json_object_ref (json_node_get_object (root));
}

/* Returns the member, NULL when absent or JSON null; sets an error only when a
 * required member is missing. */
static JsonNode *
lookup (JsonObject  *object,
        const char  *name,
        gboolean     required,
        gboolean    *ok,
        GError     **error)
{
  JsonNode *node = json_object_get_member (object, name);

  *ok = TRUE;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    {
      if (required)
        {
          g_set_error (error, SSQ_ERROR, SSQ_ERROR_INVALID, _("Missing field \"%s\""), name);
          *ok = FALSE;
        }
      return NULL;
    }
  return node;
}

static gboolean
wrong_type (const char  *name,
            const char  *expected,
            GError     **error)
{
  g_set_error (error, SSQ_ERROR, SSQ_ERROR_INVALID, _("Field \"%s\" must be %s"), name, expected);
  return FALSE;
}

/* Whether @name is one of the space-separated words of @list (NULL: none). */
static gboolean
listed (const char *list,
        const char *name)
{
  gsize n = strlen (name);

  for (const char *p = list; p != NULL && *p != '\0';)
    {
      const char *end = strchr (p, ' ');
      gsize len = end ? (gsize) (end - p) : strlen (p);

      if (len == n && strncmp (p, name, n) == 0)
        return TRUE;
      p = end ? end + 1 : p + len;
    }
  return FALSE;
}

/**
 * ssq_json_check_members:
 * @object: a request body
 * @allowed: (nullable): the member names it may hold, separated by spaces
 * @error: set to %SSQ_ERROR_INVALID naming the first unknown member
 *
 * Refuses members the request does not define: a misspelt field, or one
 * this version does not know, must not look like success.
 *
 * Returns: whether every member is allowed
 */
gboolean
ssq_json_check_members (JsonObject  *object,
                        const char  *allowed,
                        GError     **error)
{
  g_autoptr(GList) names = json_object_get_members (object);

  for (GList *l = names; l != NULL; l = l->next)
    if (!listed (allowed, l->data))
      {
        g_set_error (error, SSQ_ERROR, SSQ_ERROR_INVALID, _("Unknown field \"%s\""),
                     (const char *) l->data);
        return FALSE;
      }
  return TRUE;
}

/**
 * ssq_json_word_listed:
 * Whether @name is one of the space-separated words of @list (%NULL: none).
 */
gboolean
ssq_json_word_listed (const char *list,
                      const char *name)
{
  return listed (list, name);
}

gboolean
ssq_json_get_string (JsonObject  *object,
                     const char  *name,
                     gboolean     required,
                     const char **out_value,
                     GError     **error)
{
  gboolean ok;
  JsonNode *node = lookup (object, name, required, &ok, error);

  *out_value = NULL;
  if (node == NULL)
    return ok;
  if (json_node_get_value_type (node) != G_TYPE_STRING)
    return wrong_type (name, "a string", error);
  *out_value = json_node_get_string (node);
  return TRUE;
}

gboolean
ssq_json_get_int (JsonObject *object,
                  const char *name,
                  gboolean    required,
                  gint64      min,
                  gint64      max,
                  gint64     *out_value,
                  GError    **error)
{
  gboolean ok;
  JsonNode *node = lookup (object, name, required, &ok, error);
  gint64 v;

  if (node == NULL)
    return ok;
  if (json_node_get_value_type (node) != G_TYPE_INT64)
    return wrong_type (name, "an integer", error);
  v = json_node_get_int (node);
  if (v < min || v > max)
    {
      g_set_error (error, SSQ_ERROR, SSQ_ERROR_INVALID,
                   _("Field \"%s\" must be between %lld and %lld"),
                   name, (long long) min, (long long) max);
      return FALSE;
    }
  *out_value = v;
  return TRUE;
}

gboolean
ssq_json_get_bool (JsonObject *object,
                   const char *name,
                   gboolean    required,
                   gboolean   *out_value,
                   GError    **error)
{
  gboolean ok;
  JsonNode *node = lookup (object, name, required, &ok, error);

  if (node == NULL)
    return ok;
  if (json_node_get_value_type (node) != G_TYPE_BOOLEAN)
    return wrong_type (name, "true or false", error);
  *out_value = json_node_get_boolean (node);
  return TRUE;
}

gboolean
ssq_json_get_array (JsonObject  *object,
                    const char  *name,
                    gboolean     required,
                    guint        max_length,
                    JsonArray  **out_value,
                    GError     **error)
{
  gboolean ok;
  JsonNode *node = lookup (object, name, required, &ok, error);

  *out_value = NULL;
  if (node == NULL)
    return ok;
  if (!JSON_NODE_HOLDS_ARRAY (node))
    return wrong_type (name, "an array", error);
  if (json_array_get_length (json_node_get_array (node)) > max_length)
    {
      g_set_error (error, SSQ_ERROR, SSQ_ERROR_INVALID,
                   _("Field \"%s\" holds more than %u items"), name, max_length);
      return FALSE;
    }
  *out_value = json_node_get_array (node);
  return TRUE;
}

gboolean
ssq_json_get_object (JsonObject  *object,
                     const char  *name,
                     gboolean     required,
                     JsonObject **out_value,
                     GError     **error)
{
  gboolean ok;
  JsonNode *node = lookup (object, name, required, &ok, error);

  *out_value = NULL;
  if (node == NULL)
    return ok;
  if (!JSON_NODE_HOLDS_OBJECT (node))
    return wrong_type (name, "an object", error);
  *out_value = json_node_get_object (node);
  return TRUE;
}

/**
 * ssq_json_array_to_strv:
 * Copies an array that must hold only strings.
 * Returns: (transfer full): a #GPtrArray of strings, or %NULL with @error set
 */
GPtrArray *
ssq_json_array_to_strv (JsonArray   *array,
                        const char  *what,
                        GError     **error)
{
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func (g_free);
  guint n = json_array_get_length (array);

  for (guint i = 0; i < n; i++)
    {
      JsonNode *node = json_array_get_element (array, i);

      if (json_node_get_value_type (node) != G_TYPE_STRING)
        {
          wrong_type (what, "an array of strings", error);
          return NULL;
        }
      g_ptr_array_add (out, g_strdup (json_node_get_string (node)));
    }
  return g_steal_pointer (&out);
}

char *
ssq_json_object_to_string (JsonObject *object,
                           gsize      *out_length)
{
  g_autoptr(JsonNode) node = json_node_init_object (json_node_alloc (), object);

  char *text = json_to_string (node, FALSE);

  if (out_length != NULL)
    *out_length = strlen (text);
  return text;
}
