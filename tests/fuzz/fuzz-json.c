/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz-json.c: fuzz target for everything that reads untrusted JSON: the
 * hostile-input reader, the typed getters, and the client's readers of
 * server objects (user, message, conversation into a real cache). */
#include <glib/gstdio.h>
#include <stdint.h>

#include "ssq-cache.h"
#include "ssq-json.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static SsqCache *
cache (void)
{
  static SsqCache *the_cache;

  if (the_cache == NULL)
    {
      g_autofree char *dir = g_dir_make_tmp ("ssq-fuzz-XXXXXX", NULL);
      g_autofree char *path = g_build_filename (dir, "fuzz.db", NULL);

      the_cache = ssq_cache_open (path, NULL);
      g_assert_nonnull (the_cache);
      ssq_cache_set_self_id (the_cache, "u1");
    }
  return the_cache;
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
