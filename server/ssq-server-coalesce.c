/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-coalesce.c: what one user does that every member or contact
 * hears about (presence, typing, receipts) would let that user make the
 * server relay without bound. Each such state is kept here under a key:
 * a change is relayed at once when the key's window is open, otherwise
 * when the window ends, so at most one relay per window goes out, the last
 * state wins and none is lost. A key is forgotten once its window is over
 * with nothing left to relay, so memory follows activity. */
#include "ssq-server-coalesce.h"

struct _SsqCoalesce {
  const SsqCoalesceFuncs *funcs;
  guint                   window_ms;
  GHashTable             *entries;   /* key -> Entry */
};

typedef struct {
  SsqCoalesce *owner;
  char        *key;
  gpointer     state;
  gint64       relayed_ms;   /* monotonic */
  guint        flush_id;     /* end of the window */
} Entry;

static gint64
mono_ms (void)
{
  return g_get_monotonic_time () / 1000;
}

static void
entry_free (Entry *e)
{
  g_clear_handle_id (&e->flush_id, g_source_remove);
  e->owner->funcs->free (e->state);
  g_free (e->key);
  g_free (e);
}

SsqCoalesce *
ssq_coalesce_new (const SsqCoalesceFuncs *funcs,
                  guint                   window_ms)
{
  SsqCoalesce *self = g_new0 (SsqCoalesce, 1);

  self->funcs = funcs;
  self->window_ms = window_ms;
  self->entries = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                         (GDestroyNotify) entry_free);
  return self;
}

void
ssq_coalesce_free (SsqCoalesce *self)
{
  if (self == NULL)
    return;
  g_hash_table_destroy (self->entries);
  g_free (self);
}

gpointer
ssq_coalesce_lookup (SsqCoalesce *self,
                     const char  *key)
{
  Entry *e = g_hash_table_lookup (self->entries, key);

  return e != NULL ? e->state : NULL;
}

/* Takes @state for @key (none may be there yet); call
 * ssq_coalesce_changed() next. */
void
ssq_coalesce_insert (SsqCoalesce *self,
                     const char  *key,
                     gpointer     state)
{
  Entry *e = g_new0 (Entry, 1);

  g_return_if_fail (!g_hash_table_contains (self->entries, key));
  e->owner = self;
  e->key = g_strdup (key);
  e->state = state;
  e->relayed_ms = G_MININT64 / 2;
  g_hash_table_insert (self->entries, e->key, e);
}

static gboolean flush_cb (gpointer data);

/* Relays when the window allows, else looks again at its end; frees @e
 * once the window is over with nothing to relay and nothing pending. */
static void
update (Entry *e)
{
  SsqCoalesce *self = e->owner;
  gint64 since = mono_ms () - e->relayed_ms;

  if (e->flush_id != 0)
    return;                            /* the end of the window will look */
  if (since >= self->window_ms && self->funcs->relay (e->state))
    {
      e->relayed_ms = mono_ms ();
      since = 0;
    }
  if (since < self->window_ms)
    e->flush_id = g_timeout_add ((guint) (self->window_ms - since), flush_cb, e);
  else if (self->funcs->busy == NULL || !self->funcs->busy (e->state))
    g_hash_table_remove (self->entries, e->key);
}

static gboolean
flush_cb (gpointer data)
{
  Entry *e = data;

  e->flush_id = 0;
  update (e);
  return G_SOURCE_REMOVE;
}

/**
 * ssq_coalesce_changed:
 * The state of @key changed: it is relayed now if its window is open, else
 * when the window ends. May free the state (nothing to relay).
 */
void
ssq_coalesce_changed (SsqCoalesce *self,
                      const char  *key)
{
  Entry *e = g_hash_table_lookup (self->entries, key);

  if (e != NULL)
    update (e);
}

guint
ssq_coalesce_size (SsqCoalesce *self)
{
  return g_hash_table_size (self->entries);
}

/* Calls @func (state, @user_data) for every state; @func must not change
 * the set of keys. */
void
ssq_coalesce_foreach (SsqCoalesce *self,
                      GFunc        func,
                      gpointer     user_data)
{
  GHashTableIter iter;
  Entry *e;

  g_hash_table_iter_init (&iter, self->entries);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &e))
    func (e->state, user_data);
}
