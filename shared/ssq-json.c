/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-json.c: the one place where bytes from the network become JSON, and
 * typed access to its members with errors that name the field. The text is
 * read by ssq-json-reader.c (strict JSON; json-glib's own parser takes more
 * than JSON and misreads some of it, see there). */
#include <glib/gi18n.h>
#include "ssq-json.h"
#include "ssq-json-reader.h"
#include "ssq-proto.h"

#include <string.h>

/* Untrusted bytes that must hold exactly one JSON object, within @budget. */
static JsonObject *
parse_object (const char          *data,
              gsize                length,
              const SsqJsonBudget *budget,
              GError             **error)
{
  g_autoptr(JsonNode) root = NULL;

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
  root = ssq_json_reader_read (data, length, budget, error);
  if (root == NULL)
    return NULL;
  if (!JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_INVALID, _("Expected a JSON object"));
      return NULL;
    }
  return json_object_ref (json_node_get_object (root));
}

/**
 * ssq_json_parse_object:
 * @data: bytes received from a peer, not necessarily NUL-terminated
 * @length: their length
 * @error: set to %SSQ_ERROR_INVALID with a human-readable reason
 *
 * Parses untrusted bytes that must hold exactly one JSON object: what a
 * client reads from its server, where a sync page holds thousands of
 * objects (no total), each of at most %SSQ_JSON_MAX_MEMBERS members.
 *
 * Returns: (transfer full): the object, or %NULL
 */
JsonObject *
ssq_json_parse_object (const char  *data,
                       gsize        length,
                       GError     **error)
{
  static const SsqJsonBudget reply = { SSQ_JSON_MAX_MEMBERS, G_MAXUINT, G_MAXUINT };

  return parse_object (data, length, &reply, error);
}

/**
 * ssq_json_parse_request:
 * @data: bytes received from a client, not necessarily NUL-terminated
 * @length: their length
 * @error: set to %SSQ_ERROR_INVALID with a human-readable reason
 *
 * Like ssq_json_parse_object(), for what a server reads from its clients:
 * at most %SSQ_JSON_MAX_MEMBERS members in an object,
 * %SSQ_JSON_MAX_REQUEST_MEMBERS members and %SSQ_JSON_MAX_REQUEST_VALUES
 * values in all, which bounds the main loop's time on one request.
 *
 * Returns: (transfer full): the object, or %NULL
 */
JsonObject *
ssq_json_parse_request (const char  *data,
                        gsize        length,
                        GError     **error)
{
  static const SsqJsonBudget request = {
    SSQ_JSON_MAX_MEMBERS, SSQ_JSON_MAX_REQUEST_MEMBERS, SSQ_JSON_MAX_REQUEST_VALUES
  };

  return parse_object (data, length, &request, error);
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

/**
 * ssq_json_node_to_string:
 * @node: a value
 * @out_length: (out) (optional): the text's length
 *
 * @node as compact JSON text, as json_to_string () writes it, but JSON:
 * json-glib 1.6 leaves U+001F raw in strings (its range check stops at
 * 0x1e), and a strict reader (ours, Python's) then refuses the whole text.
 * The generator writes no control byte outside strings but '\n', so every
 * 0x1f byte is one inside a string, and is escaped here.
 *
 * Returns: (transfer full): the text
 */
char *
ssq_json_node_to_string (JsonNode *node,
                         gsize    *out_length)
{
  g_autofree char *text = json_to_string (node, FALSE);
  GString *out;

  if (strchr (text, 0x1f) == NULL)
    {
      if (out_length != NULL)
        *out_length = strlen (text);
      return g_steal_pointer (&text);
    }
  out = g_string_new (text);
  g_string_replace (out, "\x1f", "\\u001f", 0);
  if (out_length != NULL)
    *out_length = out->len;
  return g_string_free (out, FALSE);
}

char *
ssq_json_object_to_string (JsonObject *object,
                           gsize      *out_length)
{
  g_autoptr(JsonNode) node = json_node_init_object (json_node_alloc (), object);

  return ssq_json_node_to_string (node, out_length);
}
