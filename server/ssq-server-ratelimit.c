/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-ratelimit.c: "at most @count events in any @period" per key, as
 * a sliding window. A token bucket (or GCRA) lets a full burst through and
 * then refills during the same period, so "60 per minute" let 119 pass in
 * the first minute; here the burst is part of the window.
 *
 * Each key keeps a ring of slots, oldest first. A slot holds up to `group`
 * events and the time of its newest one; while that time is inside the
 * window the whole slot counts. With count <= MAX_SLOTS a slot is one event
 * and the window is exact; above, events are grouped so that a key never
 * holds more than MAX_SLOTS + 1 slots, and the window errs on the strict
 * side by less than one group. */
#include "ssq-server-ratelimit.h"

#define MAX_SLOTS 64

typedef struct {
  gint64  last_ms;   /* time of the newest event in the slot */
  guint32 n;         /* events in the slot, 1..group */
} Slot;

typedef struct {
  guint head;        /* index of the oldest slot */
  guint len;         /* slots in use */
  Slot  slots[];     /* capacity: limit->n_slots */
} Window;

struct _SsqServerRatelimit {
  guint       count;        /* 0 = unlimited */
  gint64      period_ms;
  guint       group;        /* events per slot */
  guint       n_slots;      /* ring capacity */
  GHashTable *windows;      /* char *key -> Window */
};

SsqServerRatelimit *
ssq_server_ratelimit_new (guint  count,
                          gint64 period_ms)
{
  SsqServerRatelimit *l = g_new0 (SsqServerRatelimit, 1);

  l->count = count;
  l->period_ms = MAX (period_ms, 1);
  l->group = count > MAX_SLOTS ? (count + MAX_SLOTS - 1) / MAX_SLOTS : 1;
  /* All slots but the newest are full, so the events of one window fill at
   * most ceil(count / group) slots; one more is always free for a new one. */
  l->n_slots = count ? (count + l->group - 1) / l->group + 1 : 0;
  l->windows = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  return l;
}

void
ssq_server_ratelimit_free (SsqServerRatelimit *limit)
{
  if (limit == NULL)
    return;
  g_hash_table_destroy (limit->windows);
  g_free (limit);
}

static Slot *
slot_at (SsqServerRatelimit *limit,
         Window             *w,
         guint               i)
{
  return &w->slots[(w->head + i) % limit->n_slots];
}

/* Forgets the slots whose newest event left the window (at or before
 * now - period: windows are half-open). */
static void
expire (SsqServerRatelimit *limit,
        Window             *w,
        gint64              now_ms)
{
  while (w->len > 0 && slot_at (limit, w, 0)->last_ms <= now_ms - limit->period_ms)
    {
      w->head = (w->head + 1) % limit->n_slots;
      w->len--;
    }
}

static guint64
in_window (SsqServerRatelimit *limit,
           Window             *w)
{
  guint64 total = 0;

  for (guint i = 0; i < w->len; i++)
    total += slot_at (limit, w, i)->n;
  return total;
}

/* When enough old slots will have left the window for @n more events. */
static gint64
retry_after (SsqServerRatelimit *limit,
             Window             *w,
             guint64             total,
             guint               n,
             gint64              now_ms)
{
  for (guint i = 0; i < w->len; i++)
    {
      Slot *s = slot_at (limit, w, i);

      total -= s->n;
      if (total + n <= limit->count)
        return MAX (1, s->last_ms + limit->period_ms - now_ms);
    }
  return limit->period_ms;
}

static void
add_events (SsqServerRatelimit *limit,
            Window             *w,
            guint               n,
            gint64              now_ms)
{
  while (n > 0)
    {
      Slot *s = w->len > 0 ? slot_at (limit, w, w->len - 1) : NULL;
      guint put;

      if (s == NULL || s->n >= limit->group)
        {
          g_assert (w->len < limit->n_slots);
          s = slot_at (limit, w, w->len++);
          s->n = 0;
        }
      put = MIN (n, limit->group - s->n);
      s->n += put;
      s->last_ms = now_ms;
      n -= put;
    }
}

static gboolean
take (SsqServerRatelimit *limit,
      const char         *key,
      guint               n,
      gint64              now_ms,
      gboolean            commit,
      gint64             *out_retry_after_ms)
{
  Window *w;
  guint64 total;

  if (out_retry_after_ms != NULL)
    *out_retry_after_ms = 0;
  if (limit->count == 0)
    return TRUE;
  if (n > limit->count)
    {
      if (out_retry_after_ms != NULL)
        *out_retry_after_ms = limit->period_ms;
      return FALSE;
    }
  w = g_hash_table_lookup (limit->windows, key);
  if (w != NULL)
    expire (limit, w, now_ms);
  total = w ? in_window (limit, w) : 0;
  if (total + n > limit->count)
    {
      if (out_retry_after_ms != NULL)
        *out_retry_after_ms = retry_after (limit, w, total, n, now_ms);
      return FALSE;
    }
  if (!commit)
    return TRUE;
  if (w == NULL)
    {
      w = g_malloc0 (sizeof (Window) + sizeof (Slot) * limit->n_slots);
      g_hash_table_insert (limit->windows, g_strdup (key), w);
    }
  add_events (limit, w, n, now_ms);
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

/* Gives back one event taken for @key, one that turned out not to count (a
 * resend found stored only once it reached the writer). The newest slot
 * gives it back and keeps its time: the window errs on the strict side. */
void
ssq_server_ratelimit_give_back (SsqServerRatelimit *limit,
                                const char         *key)
{
  Window *w;
  Slot *s;

  if (limit->count == 0 || (w = g_hash_table_lookup (limit->windows, key)) == NULL ||
      w->len == 0)
    return;
  s = slot_at (limit, w, w->len - 1);
  if (--s->n == 0)
    w->len--;
}

static gboolean
expired (gpointer key,
         gpointer value,
         gpointer user_data)
{
  SsqServerRatelimit *limit = ((gpointer *) user_data)[0];
  gint64 now_ms = *(gint64 *) ((gpointer *) user_data)[1];
  Window *w = value;

  expire (limit, w, now_ms);
  return w->len == 0;
}

/* Keys with nothing left in their window carry no information: drop them
 * so the table stays small. */
void
ssq_server_ratelimit_prune (SsqServerRatelimit *limit,
                            gint64              now_ms)
{
  gpointer data[2] = { limit, &now_ms };

  g_hash_table_foreach_remove (limit->windows, expired, data);
}

guint
ssq_server_ratelimit_size (SsqServerRatelimit *limit)
{
  return g_hash_table_size (limit->windows);
}
