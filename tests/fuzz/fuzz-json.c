/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz-json.c: fuzz target for everything that reads untrusted JSON: the
 * hostile-input reader, the typed getters, and the client's readers of
 * server objects (user, message, conversation into a real cache). The
 * reader is also checked against json-glib's parser: what it reads, that
 * one reads too, into the same tree (json-glib takes more than JSON, so
 * not the other way round); and its counts of members and values against
 * a budget are exact. */
#include <glib/gstdio.h>
#include <stdint.h>
#include <string.h>

#include "../common/ssq-test-tmp.h"
#include "ssq-cache.h"
#include "ssq-json.h"
#include "ssq-json-reader.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static SsqCache *
cache (void)
{
  static SsqCache *the_cache;

  if (the_cache == NULL)
    {
      g_autofree char *dir = ssq_test_temp_dir ("ssq-fuzz-XXXXXX");
      g_autofree char *path = g_build_filename (dir, "fuzz.db", NULL);

      the_cache = ssq_cache_open (path, NULL);
      g_assert_nonnull (the_cache);
      ssq_cache_set_self_id (the_cache, "u1");
    }
  return the_cache;
}

/* Where the reader reads JSON, json-glib reads the same tree. */
static void
same_as_json_glib (const char *text,
                   gsize       length)
{
  g_autoptr(JsonNode) ours = NULL;
  g_autoptr(JsonParser) parser = NULL;
  g_autofree char *ours_text = NULL;
  g_autofree char *theirs_text = NULL;

  if (!g_utf8_validate (text, length, NULL) || memchr (text, '\0', length) != NULL)
    return;
  ours = ssq_json_reader_read (text, length, NULL, NULL);
  if (ours == NULL)
    return;
  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, text, (gssize) length, NULL))
    g_error ("json-glib refused what the reader read: %.*s", (int) length, text);
  ours_text = json_to_string (ours, FALSE);
  theirs_text = json_to_string (json_parser_get_root (parser), FALSE);
  if (!json_node_equal (ours, json_parser_get_root (parser)) || g_strcmp0 (ours_text, theirs_text) != 0)
    g_error ("different trees: %s against json-glib's %s", ours_text, theirs_text);
}

/* Adds up @node's members and values, itself included. */
static void
count (JsonNode      *node,
       SsqJsonBudget *n)
{
  n->values++;
  if (JSON_NODE_HOLDS_OBJECT (node))
    {
      JsonObjectIter iter;
      JsonNode *member;

      n->object_members = MAX (n->object_members, json_object_get_size (json_node_get_object (node)));
      json_object_iter_init (&iter, json_node_get_object (node));
      while (json_object_iter_next (&iter, NULL, &member))
        {
          n->members++;
          count (member, n);
        }
    }
  else if (JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *array = json_node_get_array (node);

      for (guint i = 0; i < json_array_get_length (array); i++)
        count (json_array_get_element (array, i), n);
    }
}

/* What the reader reads within its exact counts it reads; one short of
 * either, it refuses. */
static void
budget_is_exact (const char *text,
                 gsize       length)
{
  g_autoptr(JsonNode) whole = NULL;
  g_autoptr(JsonNode) within = NULL;
  g_autoptr(JsonNode) short_of = NULL;
  SsqJsonBudget n = { 0, 0, 0 };

  if (!g_utf8_validate (text, length, NULL) || memchr (text, '\0', length) != NULL)
    return;
  whole = ssq_json_reader_read (text, length, NULL, NULL);
  if (whole == NULL)
    return;
  count (whole, &n);
  within = ssq_json_reader_read (text, length, &n, NULL);
  if (within == NULL)
    g_error ("refused within its %u, %u members and %u values: %.*s", n.object_members,
             n.members, n.values, (int) length, text);
  if (n.object_members > 0 &&
      (short_of = ssq_json_reader_read (text, length,
                                        &(SsqJsonBudget) { n.object_members - 1, n.members,
                                                           n.values },
                                        NULL)) != NULL)
    g_error ("read with %u members an object for its object of %u: %.*s",
             n.object_members - 1, n.object_members, (int) length, text);
  if (n.members > 0 &&
      (short_of = ssq_json_reader_read (text, length,
                                        &(SsqJsonBudget) { n.object_members, n.members - 1,
                                                           n.values },
                                        NULL)) != NULL)
    g_error ("read with a budget of %u for its %u members: %.*s", n.members - 1, n.members,
             (int) length, text);
  if ((short_of = ssq_json_reader_read (text, length,
                                        &(SsqJsonBudget) { n.object_members, n.members,
                                                           n.values - 1 },
                                        NULL)) != NULL)
    g_error ("read with a budget of %u for its %u values: %.*s", n.values - 1, n.values,
             (int) length, text);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(JsonObject) object = ssq_json_parse_object ((const char *) data, size, NULL);
  JsonObject *inner = NULL;
  JsonArray *array = NULL;
  const char *text;
  gint64 number;
  gboolean flag;

  same_as_json_glib ((const char *) data, size);
  budget_is_exact ((const char *) data, size);
  if (object == NULL)
    return 0;
  ssq_json_get_string (object, "type", FALSE, &text, NULL);
  ssq_json_get_int (object, "seq", FALSE, 0, G_MAXINT64, &number, NULL);
  ssq_json_get_bool (object, "active", FALSE, &flag, NULL);
  if (ssq_json_get_array (object, "members", FALSE, 1000, &array, NULL) && array != NULL)
    {
      g_autoptr(GPtrArray) names = ssq_json_array_to_strv (array, "members", NULL);
    }
  {
    g_autoptr(SsqUser) user = ssq_user_new_from_json (object, NULL);
    g_autoptr(SsqMessage) message = ssq_message_new_from_json (object, NULL);

    if (message != NULL)
      ssq_cache_store_message (cache (), message, NULL, NULL);
  }
  if (ssq_json_get_object (object, "conversation", FALSE, &inner, NULL) && inner != NULL)
    {
      g_autoptr(SsqConversation) conversation = ssq_cache_store_conversation (cache (), inner, NULL);
    }
  {
    g_autofree char *again = ssq_json_object_to_string (object, NULL);
  }
  return 0;
}
