/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-broker-deliver.c: consumers, gets, and what a channel holds until it
 * acknowledges: delivery tags per channel, prefetch per consumer and per
 * channel, leases (REST), acks, nacks, rejects and recover. Deliveries go
 * out round-robin among the consumers that have room, from the main loop
 * only (ssq_broker_dispatch, run by the broker's idle source). */
#include "ssq-broker-private.h"

#include <string.h>

static gboolean
has_room (SsqBrokerConsumer *c)
{
  SsqBrokerChannel *ch = c->channel;

  if (ch->closed || !ch->writable || !ch->flow)
    return FALSE;
  if (c->no_ack)
    return TRUE;
  if (c->prefetch != 0 && c->unacked >= c->prefetch)
    return FALSE;
  if (ch->prefetch_global != 0 && ch->unacked_counted >= ch->prefetch_global)
    return FALSE;
  return ch->unacked.length < ch->broker->limits.max_unacked_per_channel;
}

static SsqBrokerConsumer *
pick (SsqBrokerQueue *q)
{
  guint n = q->consumers->len;

  for (guint i = 0; i < n; i++)
    {
      guint at = (q->rr + i) % n;
      SsqBrokerConsumer *c = g_ptr_array_index (q->consumers, at);

      if (has_room (c))
        {
          q->rr = at + 1;
          return c;
        }
    }
  return NULL;
}

static gboolean lease_cb (gpointer data);

/* The entry leaves the queue for @ch: unacked on it, or gone at once
 * (no-ack). Fills @d; the message stays referenced by the caller. */
static void
hand_over (SsqBrokerChannel  *ch,
           SsqBrokerQueue    *q,
           SsqBrokerEntry    *e,
           SsqBrokerConsumer *c,
           gboolean           no_ack,
           guint32            lease_ms,
           SsqBrokerDelivery *d)
{
  SsqBroker *broker = ch->broker;
  gint64 now_s = g_get_real_time () / G_USEC_PER_SEC;

  *d = (SsqBrokerDelivery) {
    .consumer_tag = c != NULL ? c->tag : NULL,
    .delivery_tag = ch->next_tag++,
    .redelivered = e->deliveries > 0,
    .delivery_count = ++e->deliveries,
    .message_count = (guint32) MIN (q->ready, G_MAXUINT32),
    .queue = q->name,
    .message = e->message,
  };
  q->n_delivered++;
  ssq_broker_rate_add (&q->rate_delivered, now_s, 1);
  if (d->redelivered)
    q->n_redelivered++;
  if (no_ack)
    {
      ssq_broker_message_ref (e->message);
      ssq_broker_entry_finish (broker, q, e);
      return;
    }
  {
    SsqBrokerUnacked *u = g_new0 (SsqBrokerUnacked, 1);

    u->tag = d->delivery_tag;
    u->channel = ch;
    u->queue = ssq_broker_queue_ref (q);
    u->entry = e;
    u->consumer = c;
    g_queue_push_tail (&ch->unacked, u);
    u->link = ch->unacked.tail;
    g_hash_table_insert (ch->by_tag, &u->tag, u);
    ch->unacked_counted++;
    q->unacked++;
    if (c != NULL)
      c->unacked++;
    if (lease_ms > 0)
      {
        u->leased = TRUE;
        u->lease_source = g_timeout_add_full (G_PRIORITY_DEFAULT, lease_ms, lease_cb, u, NULL);
      }
    /* So that a crash brings it back with redelivered set. */
    if (e->stored)
      ssq_broker_journal_delivered (broker, q, e);
    ssq_broker_message_ref (e->message);
  }
}

void
ssq_broker_dispatch (SsqBroker      *broker,
                     SsqBrokerQueue *q)
{
  gint64 now = ssq_broker_now ();

  ssq_broker_queue_ref (q);
  while (!q->deleted && q->consumers->len > 0 && ssq_broker_queue_has_ready (q, now))
    {
      SsqBrokerConsumer *c = pick (q);
      SsqBrokerChannel *ch;
      SsqBrokerDelivery d;

      if (c == NULL)
        break;
      ch = c->channel;
      hand_over (ch, q, ssq_broker_queue_pop (q, now), c, c->no_ack, c->lease_ms, &d);
      ssq_broker_channel_ref (ch);
      if (ch->callbacks.deliver != NULL)
        ch->callbacks.deliver (ch, &d, ch->user_data);
      ssq_broker_message_unref (d.message);
      ssq_broker_channel_unref (ch);
    }
  /* TTL 0: what no consumer took at once expires now. */
  if (!q->deleted && q->ready > 0)
    ssq_broker_queue_expire (q, now, TRUE);
  ssq_broker_queue_unref (q);
}

/* ------------------------------------------------------------ consumers */

gboolean
ssq_broker_consume (SsqBrokerChannel               *channel,
                    const char                     *queue,
                    const SsqBrokerConsumeOptions  *options,
                    char                          **out_consumer_tag,
                    GError                        **error)
{
  static const SsqBrokerConsumeOptions defaults = { 0 };
  SsqBroker *broker;
  SsqBrokerQueue *q;
  SsqBrokerConsumer *c;
  g_autofree char *tag = NULL;

  g_return_val_if_fail (channel != NULL && !channel->closed && queue != NULL, FALSE);
  broker = channel->broker;
  if (options == NULL)
    options = &defaults;

  q = ssq_broker_queue_find_read (channel, queue, error);
  if (q == NULL)
    return FALSE;
  if (q->exclusive_consumer || (options->exclusive && q->consumers->len > 0))
    {
      ssq_broker_set_error (error, SSQ_BROKER_ERROR_ACCESS_REFUSED,
                            "ACCESS_REFUSED - queue '%s' in vhost '/' in exclusive use", q->name);
      return FALSE;
    }
  if (options->consumer_tag != NULL && options->consumer_tag[0] != '\0')
    tag = g_strdup (options->consumer_tag);
  else
    tag = ssq_broker_random_name ("amq.ctag-");
  if (g_hash_table_contains (channel->consumers, tag))
    {
      ssq_broker_set_error (error, SSQ_BROKER_ERROR_NOT_ALLOWED,
                            "NOT_ALLOWED - attempt to reuse consumer tag '%s'", tag);
      return FALSE;
    }
  if (g_hash_table_size (channel->consumers) >= broker->limits.max_consumers_per_channel)
    {
      ssq_broker_set_error (error, SSQ_BROKER_ERROR_RESOURCE_ERROR,
                            "RESOURCE_ERROR - consumer limit per channel (%u) is reached",
                            broker->limits.max_consumers_per_channel);
      return FALSE;
    }
  if (channel->connection->n_consumers >= broker->limits.max_consumers_per_connection)
    {
      ssq_broker_set_error (error, SSQ_BROKER_ERROR_RESOURCE_ERROR,
                            "RESOURCE_ERROR - consumer limit per connection (%u) is reached",
                            broker->limits.max_consumers_per_connection);
      return FALSE;
    }
  /* Each consumer costs memory (~340 bytes): all of them are bounded too. */
  if (broker->n_consumers >= broker->limits.max_consumers)
    {
      ssq_broker_set_error (error, SSQ_BROKER_ERROR_RESOURCE_ERROR,
                            "RESOURCE_ERROR - server-wide consumer limit (%u) is reached",
                            broker->limits.max_consumers);
      return FALSE;
    }
  c = g_new0 (SsqBrokerConsumer, 1);
  c->tag = g_strdup (tag);
  c->channel = channel;
  c->queue = q;
  c->no_ack = options->no_ack;
  c->exclusive = options->exclusive;
  c->lease_ms = options->lease_ms;
  c->prefetch = channel->prefetch_consumer;
  g_ptr_array_add (q->consumers, c);
  g_hash_table_insert (channel->consumers, c->tag, c);
  broker->n_consumers++;
  channel->connection->n_consumers++;
  if (c->exclusive)
    q->exclusive_consumer = TRUE;
  ssq_broker_queue_touch (q);
  ssq_broker_queue_dirty (broker, q);
  if (out_consumer_tag != NULL)
    *out_consumer_tag = g_steal_pointer (&tag);
  return TRUE;
}

void
ssq_broker_consumer_remove (SsqBroker         *broker,
                            SsqBrokerConsumer *c,
                            gboolean           notify,
                            gboolean           may_auto_delete)
{
  SsqBrokerQueue *q = c->queue;
  SsqBrokerChannel *ch = c->channel;

  g_ptr_array_remove (q->consumers, c);
  g_hash_table_remove (ch->consumers, c->tag);
  broker->n_consumers--;
  ch->connection->n_consumers--;
  if (c->exclusive)
    q->exclusive_consumer = FALSE;
  for (GList *l = ch->unacked.head; l != NULL; l = l->next)
    {
      SsqBrokerUnacked *u = l->data;

      if (u->consumer == c)
        u->consumer = NULL;
    }
  if (notify)
    ssq_broker_note_cancelled (broker, ch, c->tag);
  g_free (c->tag);
  g_free (c);
  if (may_auto_delete && q->auto_delete && q->consumers->len == 0)
    ssq_broker_queue_destroy (broker, q, FALSE);
  else
    ssq_broker_queue_touch (q);
}

void
ssq_broker_cancel (SsqBrokerChannel *channel,
                   const char       *consumer_tag)
{
  SsqBrokerConsumer *c;

  g_return_if_fail (channel != NULL && !channel->closed && consumer_tag != NULL);

  c = g_hash_table_lookup (channel->consumers, consumer_tag);
  if (c != NULL)
    ssq_broker_consumer_remove (channel->broker, c, FALSE, TRUE);
}

gboolean
ssq_broker_get (SsqBrokerChannel   *channel,
                const char         *queue,
                gboolean            no_ack,
                guint32             lease_ms,
                SsqBrokerDelivery  *out,
                GError            **error)
{
  SsqBrokerQueue *q;
  SsqBrokerEntry *e;

  g_return_val_if_fail (channel != NULL && !channel->closed && queue != NULL && out != NULL, FALSE);

  memset (out, 0, sizeof *out);
  g_clear_pointer (&channel->last_get, ssq_broker_message_unref);
  q = ssq_broker_queue_find_read (channel, queue, error);
  if (q == NULL)
    return FALSE;
  ssq_broker_queue_touch (q);
  if (!no_ack && channel->unacked.length >= channel->broker->limits.max_unacked_per_channel)
    {
      ssq_broker_set_error (error, SSQ_BROKER_ERROR_RESOURCE_ERROR,
                            "RESOURCE_ERROR - unacknowledged message limit per channel (%u) is reached",
                            channel->broker->limits.max_unacked_per_channel);
      return FALSE;
    }
  e = ssq_broker_queue_pop (q, ssq_broker_now ());
  if (e == NULL)
    {
      out->queue = q->name;
      return TRUE;
    }
  hand_over (channel, q, e, NULL, no_ack, lease_ms, out);
  channel->last_get = out->message;   /* the reference hand_over took */
  return TRUE;
}

/* ------------------------------------------------------------- settling */

/* Takes @u off its channel; the entry is the caller's. */
static SsqBrokerEntry *
unacked_take (SsqBrokerUnacked *u,
              SsqBrokerQueue  **out_queue,
              gboolean         *out_leased)
{
  SsqBrokerChannel *ch = u->channel;
  SsqBrokerEntry *e = u->entry;

  g_queue_delete_link (&ch->unacked, u->link);
  g_hash_table_remove (ch->by_tag, &u->tag);
  g_clear_handle_id (&u->lease_source, g_source_remove);
  ch->unacked_counted--;
  u->queue->unacked--;
  if (u->consumer != NULL)
    {
      u->consumer->unacked--;
      ssq_broker_queue_dirty (ch->broker, u->consumer->queue);
    }
  if (ch->prefetch_global != 0 || ch->unacked.length + 1 >= ch->broker->limits.max_unacked_per_channel)
    {
      /* The channel's shared bounds just gained room: every queue it reads may go on. */
      GHashTableIter iter;
      gpointer value;

      g_hash_table_iter_init (&iter, ch->consumers);
      while (g_hash_table_iter_next (&iter, NULL, &value))
        ssq_broker_queue_dirty (ch->broker, ((SsqBrokerConsumer *) value)->queue);
    }
  *out_queue = u->queue;   /* the reference goes to the caller */
  *out_leased = u->leased;
  g_free (u);
  return e;
}

typedef enum { SETTLE_ACK, SETTLE_REQUEUE, SETTLE_REJECT } Settle;

static void
settle (SsqBrokerUnacked *u,
        Settle            how)
{
  SsqBroker *broker = u->channel->broker;
  SsqBrokerQueue *q;
  gboolean leased;
  SsqBrokerEntry *e = unacked_take (u, &q, &leased);

  switch (how)
    {
    case SETTLE_ACK:
      q->n_acked++;
      ssq_broker_rate_add (&q->rate_acked, g_get_real_time () / G_USEC_PER_SEC, 1);
      ssq_broker_entry_finish (broker, q, e);
      break;
    case SETTLE_REQUEUE:
      ssq_broker_queue_requeue (q, e, leased);
      break;
    case SETTLE_REJECT:
      if (q->deleted)
        ssq_broker_entry_finish (broker, q, e);
      else
        ssq_broker_entry_dead_letter (broker, q, e, "rejected");
      break;
    }
  ssq_broker_queue_unref (q);
}

static gboolean
lease_cb (gpointer data)
{
  SsqBrokerUnacked *u = data;

  u->lease_source = 0;
  settle (u, SETTLE_REQUEUE);
  return G_SOURCE_REMOVE;
}

static gboolean
settle_tags (SsqBrokerChannel  *channel,
             guint64            tag,
             gboolean           multiple,
             Settle             how,
             GError           **error)
{
  SsqBrokerUnacked *u = g_hash_table_lookup (channel->by_tag, &tag);

  if (u == NULL && !(multiple && tag == 0))
    {
      ssq_broker_set_error (error, SSQ_BROKER_ERROR_PRECONDITION_FAILED,
                            "PRECONDITION_FAILED - unknown delivery tag %" G_GUINT64_FORMAT, tag);
      return FALSE;
    }
  if (!multiple)
    {
      settle (u, how);
      return TRUE;
    }
  while (channel->unacked.head != NULL)
    {
      SsqBrokerUnacked *first = channel->unacked.head->data;

      if (tag != 0 && first->tag > tag)
        break;
      settle (first, how);
    }
  return TRUE;
}

gboolean
ssq_broker_ack (SsqBrokerChannel  *channel,
                guint64            delivery_tag,
                gboolean           multiple,
                GError           **error)
{
  g_return_val_if_fail (channel != NULL && !channel->closed, FALSE);
  return settle_tags (channel, delivery_tag, multiple, SETTLE_ACK, error);
}

gboolean
ssq_broker_nack (SsqBrokerChannel  *channel,
                 guint64            delivery_tag,
                 gboolean           multiple,
                 gboolean           requeue,
                 GError           **error)
{
  g_return_val_if_fail (channel != NULL && !channel->closed, FALSE);
  return settle_tags (channel, delivery_tag, multiple, requeue ? SETTLE_REQUEUE : SETTLE_REJECT, error);
}

void
ssq_broker_channel_requeue_all (SsqBrokerChannel *channel)
{
  while (channel->unacked.head != NULL)
    settle (channel->unacked.head->data, SETTLE_REQUEUE);
}

gboolean
ssq_broker_recover (SsqBrokerChannel  *channel,
                    gboolean           requeue,
                    GError           **error)
{
  g_return_val_if_fail (channel != NULL && !channel->closed, FALSE);

  if (!requeue)
    {
      ssq_broker_set_error (error, SSQ_BROKER_ERROR_NOT_IMPLEMENTED,
                            "NOT_IMPLEMENTED - requeue=false");
      return FALSE;
    }
  ssq_broker_channel_requeue_all (channel);
  return TRUE;
}
