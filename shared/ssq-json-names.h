/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-json-names.h: names made to collide in json-glib's member tables. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* How many names of one object may share a hash. json-glib keeps members
 * in a GHashTable with the unseeded g_str_hash, which compares the names
 * whose hashes are equal: names made to share one ("ab" and "bA" hash
 * alike) made each insert compare all the others. Two names of a document
 * share a 32-bit hash by chance about once in 2^32 pairs; five, never. */
#define SSQ_JSON_NAMES_SAME_HASH_MAX 4

/* All zeros is empty: g_auto(SsqJsonNames) names = { 0 }. */
typedef struct {
  guint       n;
  guint       hashes[16];  /* the first names' */
  GHashTable *counts;      /* hash -> names, past the first 16 */
} SsqJsonNames;

gboolean ssq_json_names_add   (SsqJsonNames *names,
                               const char   *name);
void     ssq_json_names_clear (SsqJsonNames *names);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (SsqJsonNames, ssq_json_names_clear)

G_END_DECLS
