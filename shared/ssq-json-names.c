/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-json-names.c: counting the names of one object by the hash json-glib
 * gives them, to refuse (or leave out) those made to collide before
 * json-glib compares them all. Most objects have a few names: those are
 * compared in a small array; a table takes over past 16. Its keys are the
 * hashes themselves, placed by a mix with a secret of the process: placed
 * as they are (g_direct_hash), hashes chosen to land in one slot of
 * json-glib's table landed in one of this one too, and doubled its cost
 * (1.9 ms for an object of 1,024 such names). */
#include "ssq-json-names.h"

/* murmur3's finaliser over the hash and the secret: where a hash lands
 * cannot be chosen without the secret. */
static guint
mixed (gconstpointer key)
{
  static gsize secret;
  guint h;

  if (g_once_init_enter (&secret))
    g_once_init_leave (&secret, (gsize) g_random_int () | 1);   /* not 0: "not yet" */
  h = GPOINTER_TO_UINT (key) ^ (guint) secret;
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return h;
}

/* Counts @hash once more; FALSE, counting nothing, when it has its most. */
static gboolean
count (GHashTable *counts,
       guint       hash)
{
  guint held = GPOINTER_TO_UINT (g_hash_table_lookup (counts, GUINT_TO_POINTER (hash)));

  if (held >= SSQ_JSON_NAMES_SAME_HASH_MAX)
    return FALSE;
  g_hash_table_insert (counts, GUINT_TO_POINTER (hash), GUINT_TO_POINTER (held + 1));
  return TRUE;
}

/**
 * ssq_json_names_add:
 * Counts @name among its object's names (a name the object already has
 * counts again: the caller refuses or skips it itself).
 *
 * Returns: %FALSE when SSQ_JSON_NAMES_SAME_HASH_MAX names of the object
 * already share the hash json-glib gives @name
 */
gboolean
ssq_json_names_add (SsqJsonNames *names,
                    const char   *name)
{
  guint hash = g_str_hash (name);

  if (names->counts == NULL)
    {
      guint same = 0;

      for (guint i = 0; i < names->n; i++)
        same += names->hashes[i] == hash;
      if (same >= SSQ_JSON_NAMES_SAME_HASH_MAX)
        return FALSE;
      if (names->n < G_N_ELEMENTS (names->hashes))
        {
          names->hashes[names->n++] = hash;
          return TRUE;
        }
      names->counts = g_hash_table_new (mixed, NULL);
      for (guint i = 0; i < names->n; i++)
        count (names->counts, names->hashes[i]);
    }
  if (!count (names->counts, hash))
    return FALSE;
  names->n++;
  return TRUE;
}

void
ssq_json_names_clear (SsqJsonNames *names)
{
  g_clear_pointer (&names->counts, g_hash_table_unref);
  names->n = 0;
}
