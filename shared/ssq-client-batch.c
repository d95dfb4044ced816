/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-client-batch.c: incoming events are applied in batches. Frames wait
 * in a queue until the main loop comes back to an idle source of the
 * socket's priority, once per iteration; the whole queue is then applied
 * in one cache transaction, and the signals it calls for are held and
 * emitted after the commit, so that a handler sees what they announce. */
#include <glib/gi18n.h>
#include <gobject/gvaluecollector.h>
#include "ssq-client-private.h"

typedef struct {
  guint   signal_id;
  guint   n_values;
  GValue *values;   /* the instance, then the parameters */
} SsqEmission;

static void
emission_free (gpointer data)
{
  SsqEmission *emission = data;

  for (guint i = 0; i < emission->n_values; i++)
    g_value_unset (&emission->values[i]);
  g_free (emission->values);
  g_free (emission);
}

/* Copies the arguments of a signal emission, as g_signal_emit () takes them. */
static SsqEmission *
emission_new (SsqClient *self,
              guint      signal_id,
              va_list    args)
{
  SsqEmission *emission = g_new0 (SsqEmission, 1);
  GSignalQuery query;

  g_signal_query (signal_id, &query);
  emission->signal_id = signal_id;
  emission->n_values = query.n_params + 1;
  emission->values = g_new0 (GValue, emission->n_values);
  g_value_init (&emission->values[0], SSQ_TYPE_CLIENT);
  g_value_set_object (&emission->values[0], self);
  for (guint i = 0; i < query.n_params; i++)
    {
      GType type = query.param_types[i] & ~G_SIGNAL_TYPE_STATIC_SCOPE;
      g_autofree char *error = NULL;

      G_VALUE_COLLECT_INIT (&emission->values[i + 1], type, args, 0, &error);
      g_assert (error == NULL);
    }
  return emission;
}

/* A batch announces each conversation once, with its last snapshot, after
 * the messages that made it: a burst of a thousand messages in one
 * conversation moves its row once, not a thousand times. */
static void
hold (SsqClient   *self,
      guint        which,
      SsqEmission *emission)
{
  g_ptr_array_add (self->held, emission);
  if (which == SIGNAL_CONVERSATION)
    {
      SsqConversation *conversation = g_value_get_object (&emission->values[1]);
      const char *id = ssq_conversation_get_id (conversation);
      SsqEmission *earlier = g_hash_table_lookup (self->held_conversations, id);

      if (earlier != NULL)
        earlier->signal_id = 0;   /* superseded: not emitted */
      g_hash_table_replace (self->held_conversations, g_strdup (id), emission);
    }
}

/**
 * ssq_client_emit:
 * Emits one of the client's signals (@which is a SIGNAL_ index), or holds
 * it until the running batch has committed.
 */
void
ssq_client_emit (SsqClient *self,
                 guint      which,
                 ...)
{
  va_list args;

  va_start (args, which);
  if (self->held != NULL)
    hold (self, which, emission_new (self, ssq_client_signals[which], args));
  else
    g_signal_emit_valist (self, ssq_client_signals[which], 0, args);
  va_end (args);
}

/**
 * ssq_client_batch_begin:
 * Starts applying a batch: one cache transaction, signals held. Returns
 * FALSE (and holds nothing) when a batch is already running, which then
 * takes in what follows.
 */
gboolean
ssq_client_batch_begin (SsqClient *self)
{
  g_autoptr(GError) error = NULL;

  if (self->held != NULL)
    return FALSE;
  self->held = g_ptr_array_new_with_free_func (emission_free);
  self->held_conversations = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->batch_open = self->cache != NULL && ssq_cache_begin (self->cache, &error);
  if (self->batch_open)
    self->batch_changes = ssq_cache_get_changes (self->cache);
  if (error != NULL)
    {
      ssq_client_storage_failed (self, error);
      ssq_client_emit_error (self, error);
    }
  return TRUE;
}

/* A handler of an earlier signal of the batch may have changed the
 * conversation (the open one is marked read when its message shows): the
 * cache's snapshot is the one to hand out, and costs no read unless it
 * changed. FALSE when the conversation is gone. */
static gboolean
refresh_conversation (SsqClient   *self,
                      SsqEmission *emission)
{
  SsqConversation *held = g_value_get_object (&emission->values[1]);
  g_autoptr(SsqConversation) now = NULL;

  if (self->cache == NULL)
    return TRUE;
  now = ssq_cache_get_conversation (self->cache, ssq_conversation_get_id (held));
  if (now == NULL)
    return FALSE;
  g_value_set_object (&emission->values[1], now);
  return TRUE;
}

#define CACHE_RETRY_FIRST_MS 1000
#define CACHE_RETRY_MAX_MS   30000

static gboolean
cache_retry_cb (gpointer user_data)
{
  SsqClient *self = user_data;

  self->cache_retry_source = 0;
  ssq_client_flush_outbox (self);
  ssq_client_start_sync (self);
  return G_SOURCE_REMOVE;
}

/* What a failed batch held is fetched again, and what it acknowledged
 * sent again, a while later, without waiting for the next message or
 * connection: the disk may have room by then. So is a sync that could
 * not start (its list of conversations failed). */
void
ssq_client_schedule_retry (SsqClient *self)
{
  if (self->cache_retry_source != 0)
    return;
  self->cache_retry_ms = CLAMP (self->cache_retry_ms * 2, CACHE_RETRY_FIRST_MS, CACHE_RETRY_MAX_MS);
  self->cache_retry_source = g_timeout_add (self->cache_retry_ms, cache_retry_cb, self);
}

/**
 * ssq_client_batch_end:
 * Commits the batch, then emits what it held. When the commit fails,
 * nothing was stored: only the errors are told, and a sync a while later
 * fetches the events again (the cursors did not move).
 */
void
ssq_client_batch_end (SsqClient *self)
{
  g_autoptr(GPtrArray) held = g_steal_pointer (&self->held);
  g_autoptr(GError) error = NULL;
  gboolean committed = TRUE, wrote = FALSE;

  g_assert (held != NULL);
  g_clear_pointer (&self->held_conversations, g_hash_table_unref);
  if (self->batch_open)
    {
      /* Only a commit that wrote rows tells that the disk has room again:
       * an empty one (a typing notice) succeeds on a full disk too. */
      wrote = ssq_cache_get_changes (self->cache) != self->batch_changes;
      committed = ssq_cache_commit (self->cache, &error);
    }
  self->batch_open = FALSE;
  g_object_ref (self);
  for (guint i = 0; i < held->len; i++)
    {
      SsqEmission *emission = held->pdata[i];

      if (emission->signal_id == 0)
        continue;
      if (committed && emission->signal_id == ssq_client_signals[SIGNAL_CONVERSATION] &&
          !refresh_conversation (self, emission))
        continue;
      if (committed || emission->signal_id == ssq_client_signals[SIGNAL_ERROR])
        g_signal_emitv (emission->values, emission->signal_id, 0, NULL);
    }
  /* A conversation joined under the running sync asks for one more pass
   * only once it is stored: rolled back, the sync brings it again. */
  self->resync = self->resync || (committed && self->resync_pending);
  self->resync_pending = FALSE;
  if (!committed)
    {
      /* Acks applied in the batch took their entries out of in_flight, and
       * the rollback put them back in the outbox: send them again. */
      ssq_client_rewind_outbox (self);
      /* Schedules the retry, and stops a running sync at its next reply. */
      error->code = SSQ_ERROR_STORAGE;
      ssq_client_storage_failed (self, error);
      g_prefix_error (&error, _("Cannot store what the server sent: "));
      ssq_client_emit_error (self, error);
    }
  else if (wrote)
    self->cache_retry_ms = 0;    /* the disk takes writes again */
  g_object_unref (self);
}

/**
 * ssq_client_flush_events:
 * Applies every queued event now, in one batch. Called once per main-loop
 * iteration, and before anything that must see them applied: a reply (the
 * ack of a sync reads the cursors they move), a lost connection, another
 * session.
 */
void
ssq_client_flush_events (SsqClient *self)
{
  g_autoptr(GQueue) events = NULL;
  gboolean mine;
  JsonObject *frame;

  g_clear_handle_id (&self->events_source, g_source_remove);
  if (g_queue_is_empty (self->events))
    return;
  /* Steal the queue: a handler may run the main loop, and events that
   * arrive then go into a batch of their own. */
  events = g_steal_pointer (&self->events);
  self->events = g_queue_new ();
  g_object_ref (self);
  mine = ssq_client_batch_begin (self);
  while ((frame = g_queue_pop_head (events)) != NULL)
    {
      ssq_client_handle_event (self, frame);
      json_object_unref (frame);
    }
  if (mine)
    ssq_client_batch_end (self);
  g_object_unref (self);
}

static gboolean
flush_events_cb (gpointer user_data)
{
  SsqClient *self = user_data;

  self->events_source = 0;
  ssq_client_flush_events (self);
  return G_SOURCE_REMOVE;
}

/**
 * ssq_client_queue_event:
 * Keeps an event frame for the next flush. The idle source has the
 * socket's priority: it runs in the same iteration as the read that
 * queued the frame or the next, so a burst waits at most one iteration,
 * and the loop never starves it.
 */
void
ssq_client_queue_event (SsqClient  *self,
                        JsonObject *frame)
{
  g_queue_push_tail (self->events, json_object_ref (frame));
  if (self->events_source == 0)
    self->events_source = g_idle_add_full (G_PRIORITY_DEFAULT, flush_events_cb, self, NULL);
}

/* Drops what is queued without applying it (the client is going away);
 * the next sync brings it again. */
void
ssq_client_drop_events (SsqClient *self)
{
  g_clear_handle_id (&self->events_source, g_source_remove);
  if (self->events != NULL)
    g_queue_free_full (g_steal_pointer (&self->events), (GDestroyNotify) json_object_unref);
}
