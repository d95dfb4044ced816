/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-ratelimit.c: the generic cell rate algorithm (GCRA). Each key
 * keeps one number, its "theoretical arrival time": a full burst of @count is
 * allowed from rest, then one event every period/count. That is the behaviour
 * of a token bucket, with O(1) memory per key and an exact retry time. */
#include "ssq-server-ratelimit.h"

struct _SsqServerRatelimit {
  guint       count;        /* 0 = unlimited */
  gint64      period_ms;
  gint64      interval_us;  /* period / count, in microseconds for precision */
  GHashTable *tat;          /* char *key -> gint64 * (µs) */
};

SsqServerRatelimit *
ssq_server_ratelimit_new (guint  count,
                          gint64 period_ms)
{
  SsqServerRatelimit *l = g_new0 (SsqServerRatelimit, 1);

  l->count = count;
  l->period_ms = period_ms;
  l->interval_us = count ? (period_ms * 1000) / count : 0;
  l->tat = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  return l;
}

void
ssq_server_ratelimit_free (SsqServerRatelimit *limit)
{
  if (limit == NULL)
    return;
  g_hash_table_destroy (limit->tat);
  g_free (limit);
}

static gboolean
take (SsqServerRatelimit *limit,
      const char         *key,
      guint               n,
      gint64              now_ms,
      gboolean            commit,
      gint64             *out_retry_after_ms)
{
  gint64 now = now_ms * 1000;
  gint64 burst = limit->period_ms * 1000;   /* count * interval */
  gint64 *tat;
  gint64 start, new_tat;

  if (out_retry_after_ms != NULL)
    *out_retry_after_ms = 0;
  if (limit->count == 0)
    return TRUE;

  tat = g_hash_table_lookup (limit->tat, key);
  start = tat ? MAX (*tat, now) : now;
  new_tat = start + limit->interval_us * (gint64) n;
  if (new_tat - now > burst)
    {
      if (out_retry_after_ms != NULL)
        *out_retry_after_ms = MAX (1, (new_tat - burst - now + 999) / 1000);
      return FALSE;
    }
  if (commit)
    {
      if (tat == NULL)
        {
          tat = g_new (gint64, 1);
          g_hash_table_insert (limit->tat, g_strdup (key), tat);
        }
      *tat = new_tat;
    }
  return TRUE;
}

/* Would one event pass? Takes nothing. */
gboolean
ssq_server_ratelimit_check (SsqServerRatelimit *limit,
                            const char         *key,
                            gint64              now_ms,
                            gint64             *out_retry_after_ms)
{
  return take (limit, key, 1, now_ms, FALSE, out_retry_after_ms);
}

/* Takes @n events at once, or none of them. */
gboolean
ssq_server_ratelimit_take (SsqServerRatelimit *limit,
                           const char         *key,
                           guint               n,
                           gint64              now_ms,
                           gint64             *out_retry_after_ms)
{
  return take (limit, key, n, now_ms, TRUE, out_retry_after_ms);
}

static gboolean
expired (gpointer key,
         gpointer value,
         gpointer user_data)
{
  return *(gint64 *) value <= *(gint64 *) user_data;
}

/* Keys at rest carry no information: drop them so the table stays small. */
void
ssq_server_ratelimit_prune (SsqServerRatelimit *limit,
                            gint64              now_ms)
{
  gint64 now = now_ms * 1000;

  g_hash_table_foreach_remove (limit->tat, expired, &now);
}

guint
ssq_server_ratelimit_size (SsqServerRatelimit *limit)
{
  return g_hash_table_size (limit->tat);
}
