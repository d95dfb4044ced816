/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-broker-publish.c: publishing. A publish is checked (exchange, user-id,
 * size, memory), routed into queues or handed to its exchange's handler,
 * and its outcome told in publish order per channel: after the commit of
 * the journal that stored it, or of the handler's own work. */
#include "ssq-broker-private.h"

#include <string.h>

void
ssq_broker_outcome_free (SsqBrokerOutcome *o)
{
  if (o->user_data_free != NULL)
    o->user_data_free (o->user_data);
  g_clear_error (&o->error);
  ssq_broker_message_unref (o->message);
  g_free (o);
}

/* Tells every outcome at the head of @channel's list that is known. */
void
ssq_broker_outcomes_flush (SsqBrokerChannel *channel)
{
  while (!channel->closed && channel->outcomes.head != NULL)
    {
      SsqBrokerOutcome *o = channel->outcomes.head->data;

      if (!o->ready)
        break;
      g_queue_pop_head (&channel->outcomes);
      if (o->done != NULL)
        o->done (channel, o->outcome, o->message, o->error, o->user_data);
      o->channel = NULL;
      ssq_broker_outcome_free (o);
      ssq_broker_channel_unref (channel);
    }
}

/* One thing @o waited for is over; when nothing is left it is told (from
 * the main loop), or freed when its channel has closed meanwhile. */
void
ssq_broker_outcome_settle (SsqBroker        *broker,
                           SsqBrokerOutcome *o)
{
  g_assert (o->waiting > 0);
  if (--o->waiting > 0)
    return;
  o->ready = TRUE;
  if (o->channel == NULL)
    {
      ssq_broker_outcome_free (o);
      return;
    }
  ssq_broker_channel_ref (o->channel);
  g_ptr_array_add (broker->outcome_channels, o->channel);
  ssq_broker_schedule (broker);
}

guint
ssq_broker_deliver_to_targets (SsqBroker         *broker,
                               GPtrArray         *targets,
                               SsqBrokerMessage  *m,
                               SsqBrokerOutcome  *outcome,
                               gboolean          *out_rejected)
{
  gint64 now = ssq_broker_now ();
  guint taken = 0;

  for (guint i = 0; i < targets->len; i++)
    {
      SsqBrokerQueue *q = g_ptr_array_index (targets, i);

      if (ssq_broker_queue_push (q, m, now))
        taken++;
      else if (outcome != NULL && outcome->error == NULL)
        {
          ssq_broker_set_error (&outcome->error, SSQ_BROKER_ERROR_RESOURCE_ERROR,
                                "RESOURCE_ERROR - queue '%s' in vhost '/' is full (x-max-length %"
                                G_GINT64_FORMAT ", x-overflow reject-publish)", q->name, q->args.max_length);
          if (out_rejected != NULL)
            *out_rejected = TRUE;
        }
    }
  /* Confirmed only once the rows are committed. */
  if (outcome != NULL && m->stored)
    ssq_broker_journal_wait (broker, outcome);
  return taken;
}

static gboolean
check_publish (SsqBrokerChannel   *channel,
               SsqBrokerMessage   *m,
               SsqBrokerExchange **out_exchange,
               GError            **error)
{
  SsqBroker *broker = channel->broker;
  const char *login = channel->connection->principal.username;
  SsqBrokerExchange *x = ssq_broker_exchange_lookup (broker, m->exchange);

  if (x == NULL)
    {
      ssq_broker_set_error (error, SSQ_BROKER_ERROR_NOT_FOUND,
                            "NOT_FOUND - no exchange '%s' in vhost '/'", m->exchange);
      return FALSE;
    }
  if (x->internal)
    {
      ssq_broker_set_error (error, SSQ_BROKER_ERROR_ACCESS_REFUSED,
                            "ACCESS_REFUSED - cannot publish to internal exchange '%s' in vhost '/'",
                            m->exchange);
      return FALSE;
    }
  if (!ssq_broker_message_parse (m, error))
    return FALSE;
  if ((m->props->flags & SSQ_AMQP_PROP_USER_ID) && g_strcmp0 (m->props->user_id, login) != 0)
    {
      ssq_broker_set_error (error, SSQ_BROKER_ERROR_PRECONDITION_FAILED,
                            "PRECONDITION_FAILED - user_id property set to '%s' but authenticated user was '%s'",
                            m->props->user_id, login);
      return FALSE;
    }
  if (!ssq_broker_check_body_size (broker, g_bytes_get_size (m->body), error) ||
      !ssq_broker_memory_check_entries (broker, m, 1, 0, error))
    return FALSE;
  *out_exchange = x;
  return TRUE;
}

gboolean
ssq_broker_publish (SsqBrokerChannel      *channel,
                    SsqBrokerMessage      *message,
                    gboolean               mandatory,
                    SsqBrokerPublishDone   done,
                    gpointer               user_data,
                    GDestroyNotify         user_data_free,
                    GError               **error)
{
  SsqBroker *broker;
  SsqBrokerExchange *x = NULL;
  SsqBrokerOutcome *o;
  g_autoptr(GPtrArray) targets = NULL;
  gboolean rejected = FALSE;
  guint taken;

  g_return_val_if_fail (channel != NULL && !channel->closed && message != NULL, FALSE);
  broker = channel->broker;

  if (!check_publish (channel, message, &x, error))
    return FALSE;
  /* check_publish counted one queue entry; a fan-out holds one in each
   * queue it reaches. */
  if (x->handler == NULL)
    {
      targets = ssq_broker_route (broker, x, message);
      if (!ssq_broker_memory_check_entries (broker, message, targets->len, 0, error))
        return FALSE;
    }
  if (message->id == 0)
    message->id = broker->next_message_id++;
  o = g_new0 (SsqBrokerOutcome, 1);
  o->channel = channel;
  ssq_broker_channel_ref (channel);
  o->message = ssq_broker_message_ref (message);
  o->mandatory = mandatory;
  o->done = done;
  o->user_data = user_data;
  o->user_data_free = user_data_free;
  o->waiting = 1;   /* this function's own share */
  g_queue_push_tail (&channel->outcomes, o);

  if (x->handler != NULL)
    {
      SsqBrokerPending *p = g_new0 (SsqBrokerPending, 1);

      p->broker = broker;
      p->outcome = o;
      p->publisher.user_id = g_strdup (channel->connection->principal.user_id);
      p->publisher.username = g_strdup (channel->connection->principal.username);
      p->publisher.server_admin = channel->connection->principal.server_admin;
      o->waiting++;
      x->handler (broker, &p->publisher, message, p, x->hook_data);
      ssq_broker_outcome_settle (broker, o);
      return TRUE;
    }
  taken = ssq_broker_deliver_to_targets (broker, targets, message, o, &rejected);
  if (rejected)
    o->outcome = SSQ_BROKER_PUBLISH_NACK;
  else if (taken == 0 && mandatory)
    {
      o->outcome = SSQ_BROKER_PUBLISH_RETURN;
      ssq_broker_set_error (&o->error, SSQ_BROKER_ERROR_NO_ROUTE, "NO_ROUTE");
    }
  else
    o->outcome = SSQ_BROKER_PUBLISH_ACK;
  ssq_broker_outcome_settle (broker, o);
  return TRUE;
}

static void
pending_finish (SsqBrokerPending        *pending,
                SsqBrokerPublishOutcome  outcome,
                const GError            *error)
{
  SsqBrokerOutcome *o = pending->outcome;

  o->outcome = outcome;
  if (error != NULL)
    {
      g_clear_error (&o->error);
      o->error = g_error_copy (error);
    }
  ssq_broker_outcome_settle (pending->broker, o);
  g_free ((char *) pending->publisher.user_id);
  g_free ((char *) pending->publisher.username);
  g_free (pending);
}

void
ssq_broker_pending_complete (SsqBrokerPending *pending,
                             const GError     *error)
{
  g_return_if_fail (pending != NULL);
  if (error == NULL)
    pending_finish (pending, SSQ_BROKER_PUBLISH_ACK, NULL);
  else
    pending_finish (pending, pending->outcome->mandatory ? SSQ_BROKER_PUBLISH_RETURN
                                                         : SSQ_BROKER_PUBLISH_CHANNEL_ERROR, error);
}

void
ssq_broker_pending_refuse_for_now (SsqBrokerPending *pending,
                                   const GError     *error)
{
  g_return_if_fail (pending != NULL && error != NULL);
  pending_finish (pending, SSQ_BROKER_PUBLISH_LATER, error);
}

gboolean
ssq_broker_pending_is_mandatory (SsqBrokerPending *pending)
{
  g_return_val_if_fail (pending != NULL, FALSE);
  return pending->outcome->mandatory;
}

static SsqBrokerExchange *
internal_exchange (SsqBroker        *broker,
                   SsqBrokerMessage *message)
{
  SsqBrokerExchange *x = ssq_broker_exchange_lookup (broker, message->exchange);

  if (x == NULL || !ssq_broker_message_parse (message, NULL) ||
      !ssq_broker_check_body_size (broker, g_bytes_get_size (message->body), NULL))
    return NULL;
  if (message->id == 0)
    message->id = broker->next_message_id++;
  return x;
}

/* The server's own messages (events) count in max_memory as users'
 * publishes do: a bot that never reads its events queue must not make the
 * broker hold them past its bound. Past it, they are not queued, and
 * counted (ssq_broker_internal_dropped_total). */
static void
deliver_internal (SsqBroker        *broker,
                  GPtrArray        *targets,
                  SsqBrokerMessage *message)
{
  if (!ssq_broker_memory_check_entries (broker, message, targets->len, 0, NULL))
    {
      broker->internal_dropped++;
      g_debug ("broker: %s %s not queued: max_memory reached", message->exchange, message->routing_key);
      return;
    }
  ssq_broker_deliver_to_targets (broker, targets, message, NULL, NULL);
  ssq_broker_schedule (broker);   /* the journal goes out with the next turn */
}

void
ssq_broker_publish_internal (SsqBroker        *broker,
                             SsqBrokerMessage *message)
{
  g_autoptr(GPtrArray) targets = NULL;
  SsqBrokerExchange *x;

  g_return_if_fail (broker != NULL && message != NULL);

  if ((x = internal_exchange (broker, message)) == NULL)
    return;
  targets = ssq_broker_route (broker, x, message);
  deliver_internal (broker, targets, message);
}

void
ssq_broker_publish_internal_to (SsqBroker          *broker,
                                SsqBrokerMessage   *message,
                                const char * const *owner_ids,
                                guint               n_owners)
{
  g_autoptr(GPtrArray) targets = NULL;
  SsqBrokerExchange *x;

  g_return_if_fail (broker != NULL && message != NULL);
  g_return_if_fail (owner_ids != NULL || n_owners == 0);

  if ((x = internal_exchange (broker, message)) == NULL)
    return;
  targets = ssq_broker_route_owners (broker, x, message, owner_ids, n_owners);
  deliver_internal (broker, targets, message);
}
