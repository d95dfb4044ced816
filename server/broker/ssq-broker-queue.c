/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-broker-queue.c: queues and their arguments. Ready entries sit in one
 * GQueue per priority level in seq order (the highest level is served
 * first, FIFO within it; a requeued entry goes back to its place). TTL
 * expires lazily at the head of each level, and a timer set for the
 * earliest head makes expired messages leave on time. */
#include "ssq-broker-private.h"

#include <string.h>

/* ------------------------------------------------------------ arguments */

void
ssq_broker_queue_args_init (SsqBrokerQueueArgs *args)
{
  g_return_if_fail (args != NULL);
  memset (args, 0, sizeof *args);
  args->message_ttl_ms = -1;
  args->expires_ms = -1;
  args->max_length = -1;
  args->overflow = SSQ_BROKER_OVERFLOW_DROP_HEAD;
}

void
ssq_broker_queue_args_clear (SsqBrokerQueueArgs *args)
{
  g_return_if_fail (args != NULL);
  g_clear_pointer (&args->dead_letter_exchange, g_free);
  g_clear_pointer (&args->dead_letter_routing_key, g_free);
}

void
ssq_broker_queue_args_copy (SsqBrokerQueueArgs       *dst,
                            const SsqBrokerQueueArgs *src)
{
  *dst = *src;
  dst->dead_letter_exchange = g_strdup (src->dead_letter_exchange);
  dst->dead_letter_routing_key = g_strdup (src->dead_letter_routing_key);
}

static gboolean
invalid_arg (const char  *queue,
             const char  *arg,
             const char  *why,
             GError     **error)
{
  ssq_broker_set_error (error, SSQ_BROKER_ERROR_PRECONDITION_FAILED,
                        "PRECONDITION_FAILED - invalid arg '%s' for queue '%s' in vhost '/': %s",
                        arg, queue, why);
  return FALSE;
}

static gboolean
arg_integer (const char         *queue,
             const char         *arg,
             const SsqAmqpValue *v,
             gint64              min,
             gint64              max,
             gint64             *out,
             GError            **error)
{
  g_autofree char *why = NULL;

  if (!ssq_amqp_value_get_integer (v, out))
    return invalid_arg (queue, arg, "{unacceptable_type,not an integer}", error);
  if (*out < min)
    why = *out < 0 ? g_strdup_printf ("{value_negative,%" G_GINT64_FORMAT "}", *out)
                   : g_strdup_printf ("{value_zero,%" G_GINT64_FORMAT "}", *out);
  else if (*out > max)
    why = g_strdup_printf ("{value_too_large,%" G_GINT64_FORMAT ",%" G_GINT64_FORMAT "}", *out, max);
  return why == NULL || invalid_arg (queue, arg, why, error);
}

static gboolean
arg_string (const char         *queue,
            const char         *arg,
            const SsqAmqpValue *v,
            char              **out,
            GError            **error)
{
  char *s = ssq_amqp_value_dup_string (v);

  if (s == NULL || strlen (s) > SSQ_BROKER_NAME_MAX)
    {
      g_free (s);
      return invalid_arg (queue, arg, "{unacceptable_type,not a string}", error);
    }
  g_free (*out);
  *out = s;
  return TRUE;
}

static gboolean
parse_one (const char          *queue,
           const char          *name,
           const SsqAmqpValue  *v,
           SsqBrokerQueueArgs  *args,
           GError             **error)
{
  gint64 n;
  g_autofree char *s = NULL;

  if (strcmp (name, "x-message-ttl") == 0)
    return arg_integer (queue, name, v, 0, G_MAXUINT32, &args->message_ttl_ms, error);
  if (strcmp (name, "x-expires") == 0)
    return arg_integer (queue, name, v, 1, G_MAXUINT32, &args->expires_ms, error);
  if (strcmp (name, "x-max-length") == 0)
    return arg_integer (queue, name, v, 0, G_MAXINT64, &args->max_length, error);
  if (strcmp (name, "x-max-priority") == 0)
    {
      if (!arg_integer (queue, name, v, 0, 255, &n, error))
        return FALSE;
      args->max_priority = (guint8) n;
      return TRUE;
    }
  if (strcmp (name, "x-max-deliveries") == 0)
    {
      if (!arg_integer (queue, name, v, 1, G_MAXUINT32, &n, error))
        return FALSE;
      args->max_deliveries = (guint32) n;
      return TRUE;
    }
  if (strcmp (name, "x-dead-letter-exchange") == 0)
    return arg_string (queue, name, v, &args->dead_letter_exchange, error);
  if (strcmp (name, "x-dead-letter-routing-key") == 0)
    return arg_string (queue, name, v, &args->dead_letter_routing_key, error);
  if (strcmp (name, "x-overflow") == 0 || strcmp (name, "x-queue-type") == 0)
    {
      if (!arg_string (queue, name, v, &s, error))
        return FALSE;
      if (strcmp (name, "x-queue-type") == 0)
        return strcmp (s, "classic") == 0 ||
               invalid_arg (queue, name, "only 'classic' queues are supported", error);
      if (strcmp (s, "drop-head") == 0)
        args->overflow = SSQ_BROKER_OVERFLOW_DROP_HEAD;
      else if (strcmp (s, "reject-publish") == 0)
        args->overflow = SSQ_BROKER_OVERFLOW_REJECT_PUBLISH;
      else
        return invalid_arg (queue, name, "{unacceptable_value,expected drop-head or reject-publish}", error);
      return TRUE;
    }
  return TRUE;   /* unknown arguments are kept by RabbitMQ and mean nothing */
}

gboolean
ssq_broker_queue_args_parse (const char          *queue,
                             GBytes              *table,
                             SsqBrokerQueueArgs  *args,
                             GError             **error)
{
  g_autoptr(SsqAmqpTable) t = NULL;
  g_autoptr(GError) local = NULL;
  gsize len = 0;
  const guint8 *data;

  g_return_val_if_fail (args != NULL, FALSE);
  ssq_broker_queue_args_init (args);
  if (table == NULL || g_bytes_get_size (table) == 0)
    return TRUE;
  data = g_bytes_get_data (table, &len);
  t = ssq_amqp_table_decode (data, len, &local);
  if (t == NULL)
    {
      ssq_broker_set_error (error, SSQ_BROKER_ERROR_PRECONDITION_FAILED,
                            "PRECONDITION_FAILED - invalid arguments for queue '%s' in vhost '/': %s",
                            queue != NULL ? queue : "", local->message);
      return FALSE;
    }
  for (guint i = 0; i < ssq_amqp_table_size (t); i++)
    if (!parse_one (queue != NULL ? queue : "", ssq_amqp_table_name_at (t, i),
                    ssq_amqp_table_value_at (t, i), args, error))
      {
        ssq_broker_queue_args_clear (args);
        return FALSE;
      }
  if (args->dead_letter_routing_key != NULL && args->dead_letter_exchange == NULL)
    {
      ssq_broker_queue_args_clear (args);
      return invalid_arg (queue, "x-dead-letter-routing-key",
                          "{missing_dead_letter_exchange,x-dead-letter-exchange}", error);
    }
  return TRUE;
}

static char *
int_text (gint64 v)
{
  return v < 0 ? g_strdup ("none") : g_strdup_printf ("%" G_GINT64_FORMAT, v);
}

/* The first argument that differs, or NULL; its two values in *a and *b. */
static const char *
args_differ (const SsqBrokerQueueArgs *x,
             const SsqBrokerQueueArgs *y,
             char                    **a,
             char                    **b)
{
#define INT_ARG(field, name) \
  if (x->field != y->field) { *a = int_text (x->field); *b = int_text (y->field); return name; }
#define STR_ARG(field, name) \
  if (g_strcmp0 (x->field, y->field) != 0) \
    { *a = g_strdup (x->field ? x->field : "none"); *b = g_strdup (y->field ? y->field : "none"); return name; }
  INT_ARG (message_ttl_ms, "x-message-ttl");
  INT_ARG (expires_ms, "x-expires");
  INT_ARG (max_length, "x-max-length");
  if (x->overflow != y->overflow)
    {
      *a = g_strdup (x->overflow == SSQ_BROKER_OVERFLOW_DROP_HEAD ? "drop-head" : "reject-publish");
      *b = g_strdup (y->overflow == SSQ_BROKER_OVERFLOW_DROP_HEAD ? "drop-head" : "reject-publish");
      return "x-overflow";
    }
  STR_ARG (dead_letter_exchange, "x-dead-letter-exchange");
  STR_ARG (dead_letter_routing_key, "x-dead-letter-routing-key");
  INT_ARG (max_priority, "x-max-priority");
  INT_ARG (max_deliveries, "x-max-deliveries");
#undef INT_ARG
#undef STR_ARG
  return NULL;
}

/* --------------------------------------------------------------- queues */

SsqBrokerQueue *
ssq_broker_queue_new (SsqBroker                *broker,
                      const char               *name,
                      const char               *owner_id,
                      gboolean                  durable,
                      gboolean                  auto_delete,
                      SsqBrokerConnection      *exclusive_to,
                      const SsqBrokerQueueArgs *args)
{
  SsqBrokerQueue *q = g_new0 (SsqBrokerQueue, 1);
  guint *count;

  q->ref_count = 1;
  q->broker = broker;
  q->name = g_strdup (name);
  q->owner_id = g_strdup (owner_id);
  q->durable = durable;
  q->auto_delete = auto_delete;
  q->exclusive_to = exclusive_to;
  if (args != NULL)
    ssq_broker_queue_args_copy (&q->args, args);
  else
    ssq_broker_queue_args_init (&q->args);
  q->n_levels = q->args.max_priority + 1u;
  q->levels = g_new0 (GQueue, q->n_levels);
  q->next_seq = 1;
  q->consumers = g_ptr_array_new ();
  q->bindings = g_ptr_array_new ();
  g_hash_table_replace (broker->queues, q->name, q);
  if (owner_id != NULL)
    {
      count = g_hash_table_lookup (broker->queues_per_user, owner_id);
      if (count == NULL)
        {
          count = g_new0 (guint, 1);
          g_hash_table_insert (broker->queues_per_user, g_strdup (owner_id), count);
        }
      (*count)++;
    }
  if (exclusive_to != NULL)
    g_ptr_array_add (exclusive_to->exclusive, q);
  return q;
}

SsqBrokerQueue *
ssq_broker_queue_ref (SsqBrokerQueue *queue)
{
  queue->ref_count++;
  return queue;
}

void
ssq_broker_queue_unref (SsqBrokerQueue *queue)
{
  if (queue == NULL || --queue->ref_count > 0)
    return;
  g_assert (queue->ready == 0);
  g_free (queue->levels);
  g_ptr_array_unref (queue->consumers);
  g_ptr_array_unref (queue->bindings);
  ssq_broker_queue_args_clear (&queue->args);
  g_free (queue->name);
  g_free (queue->owner_id);
  g_free (queue);
}

/* Exclusive queues live and die with their connection: never stored. */
gboolean
ssq_broker_queue_persisted (SsqBrokerQueue *queue)
{
  return queue->durable && queue->exclusive_to == NULL && !queue->deleted;
}

/* @q was bound to a filtered exchange (a user's events): from now on its
 * owner alone reads it, what it holds being theirs, even once unbound;
 * a stored queue stores the mark. */
void
ssq_broker_queue_mark_private (SsqBrokerQueue *q)
{
  if (q->private_events)
    return;
  q->private_events = TRUE;
  if (ssq_broker_queue_persisted (q))
    ssq_broker_journal_queue (q->broker, q, TRUE);
}

static gboolean
locked (SsqBrokerQueue       *q,
        SsqBrokerConnection  *connection,
        GError              **error)
{
  if (q->exclusive_to == NULL || q->exclusive_to == connection)
    return FALSE;
  ssq_broker_set_error (error, SSQ_BROKER_ERROR_RESOURCE_LOCKED,
                        "RESOURCE_LOCKED - cannot obtain exclusive access to locked queue '%s' in vhost '/'. "
                        "It could be originally declared on another connection or the exclusive property "
                        "value does not match that of the original declaration.", q->name);
  return TRUE;
}

SsqBrokerQueue *
ssq_broker_queue_find (SsqBrokerChannel  *channel,
                       const char        *name,
                       GError           **error)
{
  SsqBrokerQueue *q = g_hash_table_lookup (channel->broker->queues, name);

  if (q == NULL)
    {
      ssq_broker_set_error (error, SSQ_BROKER_ERROR_NOT_FOUND,
                            "NOT_FOUND - no queue '%s' in vhost '/'", name);
      return NULL;
    }
  if (locked (q, channel->connection, error))
    return NULL;
  return q;
}

SsqBrokerQueue *
ssq_broker_queue_find_read (SsqBrokerChannel  *channel,
                            const char        *name,
                            GError           **error)
{
  SsqBrokerQueue *q = ssq_broker_queue_find (channel, name, error);

  /* Any user may read a shared work queue, but not someone's private
   * events: not even an admin (who may still purge or delete it). */
  if (q != NULL && q->private_events &&
      g_strcmp0 (q->owner_id, channel->connection->principal.user_id) != 0)
    {
      ssq_broker_set_error (error, SSQ_BROKER_ERROR_ACCESS_REFUSED,
                            "ACCESS_REFUSED - queue '%s' in vhost '/' holds the events of its owner only",
                            q->name);
      return NULL;
    }
  return q;
}

static gboolean
expires_cb (gpointer data)
{
  SsqBrokerQueue *q = data;

  q->expires_source = 0;
  if (q->consumers->len == 0 && !q->deleted)
    ssq_broker_queue_destroy (q->broker, q, TRUE);
  return G_SOURCE_REMOVE;
}

/* A use, for x-expires: the countdown starts again while unused. */
void
ssq_broker_queue_touch (SsqBrokerQueue *queue)
{
  g_clear_handle_id (&queue->expires_source, g_source_remove);
  if (queue->args.expires_ms > 0 && queue->consumers->len == 0 && !queue->deleted)
    queue->expires_source = g_timeout_add_full (G_PRIORITY_DEFAULT, (guint) queue->args.expires_ms,
                                                expires_cb, queue, NULL);
}

static gboolean
queue_limits (SsqBrokerChannel  *channel,
              const char        *name,
              GError           **error)
{
  SsqBroker *broker = channel->broker;
  guint *mine = g_hash_table_lookup (broker->queues_per_user, channel->connection->principal.user_id);

  if (g_hash_table_size (broker->queues) >= broker->limits.max_queues)
    {
      ssq_broker_set_error (error, SSQ_BROKER_ERROR_RESOURCE_ERROR,
                            "RESOURCE_ERROR - cannot declare queue '%s': queue limit in vhost '/' (%u) is reached",
                            name, broker->limits.max_queues);
      return FALSE;
    }
  if (mine != NULL && *mine >= broker->limits.max_queues_per_user)
    {
      ssq_broker_set_error (error, SSQ_BROKER_ERROR_RESOURCE_ERROR,
                            "RESOURCE_ERROR - cannot declare queue '%s': queue limit of user '%s' (%u) is reached",
                            name, channel->connection->principal.username, broker->limits.max_queues_per_user);
      return FALSE;
    }
  return TRUE;
}

static gboolean
check_equivalent (SsqBrokerQueue            *q,
                  SsqBrokerQueueFlags        flags,
                  const SsqBrokerQueueArgs  *args,
                  GError                   **error)
{
  g_autofree char *received = NULL, *current = NULL;
  SsqBrokerQueueArgs none;
  const char *arg;

  if (q->durable != !!(flags & SSQ_BROKER_QUEUE_DURABLE))
    {
      arg = "durable";
      received = g_strdup ((flags & SSQ_BROKER_QUEUE_DURABLE) ? "true" : "false");
      current = g_strdup (q->durable ? "true" : "false");
    }
  else if (q->auto_delete != !!(flags & SSQ_BROKER_QUEUE_AUTO_DELETE))
    {
      arg = "auto_delete";
      received = g_strdup ((flags & SSQ_BROKER_QUEUE_AUTO_DELETE) ? "true" : "false");
      current = g_strdup (q->auto_delete ? "true" : "false");
    }
  else
    {
      ssq_broker_queue_args_init (&none);
      arg = args_differ (args != NULL ? args : &none, &q->args, &received, &current);
      if (arg == NULL)
        return TRUE;
    }
  ssq_broker_set_error (error, SSQ_BROKER_ERROR_PRECONDITION_FAILED,
                        "PRECONDITION_FAILED - inequivalent arg '%s' for queue '%s' in vhost '/': "
                        "received '%s' but current is '%s'", arg, q->name, received, current);
  return FALSE;
}

gboolean
ssq_broker_queue_declare (SsqBrokerChannel          *channel,
                          const char                *name,
                          SsqBrokerQueueFlags        flags,
                          const SsqBrokerQueueArgs  *args,
                          char                     **out_name,
                          guint32                   *out_message_count,
                          guint32                   *out_consumer_count,
                          GError                   **error)
{
  SsqBroker *broker;
  SsqBrokerQueue *q;
  g_autofree char *made = NULL;
  gboolean passive = (flags & SSQ_BROKER_QUEUE_PASSIVE) != 0;

  g_return_val_if_fail (channel != NULL && !channel->closed && name != NULL, FALSE);
  broker = channel->broker;

  if (strlen (name) > SSQ_BROKER_NAME_MAX || !g_utf8_validate (name, -1, NULL))
    {
      ssq_broker_set_error (error, SSQ_BROKER_ERROR_PRECONDITION_FAILED,
                            "PRECONDITION_FAILED - invalid queue name");
      return FALSE;
    }
  if (name[0] == '\0' && !passive)
    {
      do
        {
          g_free (made);
          made = ssq_broker_random_name ("amq.gen-");
        }
      while (g_hash_table_contains (broker->queues, made));
      name = made;
    }
  q = g_hash_table_lookup (broker->queues, name);
  if (q != NULL)
    {
      if (locked (q, channel->connection, error))
        return FALSE;
      if (!passive && (!check_equivalent (q, flags, args, error)))
        return FALSE;
      if (!passive && (q->exclusive_to != NULL) != !!(flags & SSQ_BROKER_QUEUE_EXCLUSIVE))
        {
          locked (q, NULL, error);
          return FALSE;
        }
    }
  else if (passive)
    {
      ssq_broker_set_error (error, SSQ_BROKER_ERROR_NOT_FOUND,
                            "NOT_FOUND - no queue '%s' in vhost '/'", name);
      return FALSE;
    }
  else if (made == NULL && (g_str_has_prefix (name, "amq.") || g_str_has_prefix (name, "supersoniq.")))
    {
      ssq_broker_set_error (error, SSQ_BROKER_ERROR_ACCESS_REFUSED,
                            "ACCESS_REFUSED - queue name '%s' contains reserved prefix '%s'", name,
                            g_str_has_prefix (name, "amq.") ? "amq.*" : "supersoniq.*");
      return FALSE;
    }
  else
    {
      if (!queue_limits (channel, name, error))
        return FALSE;
      q = ssq_broker_queue_new (broker, name, channel->connection->principal.user_id,
                                (flags & SSQ_BROKER_QUEUE_DURABLE) != 0,
                                (flags & SSQ_BROKER_QUEUE_AUTO_DELETE) != 0,
                                (flags & SSQ_BROKER_QUEUE_EXCLUSIVE) ? channel->connection : NULL, args);
      if (ssq_broker_queue_persisted (q))
        ssq_broker_journal_queue (broker, q, TRUE);
    }
  ssq_broker_queue_touch (q);
  if (out_name != NULL)
    *out_name = g_strdup (q->name);
  if (out_message_count != NULL)
    *out_message_count = (guint32) MIN (q->ready, G_MAXUINT32);
  if (out_consumer_count != NULL)
    *out_consumer_count = q->consumers->len;
  return TRUE;
}

static gboolean
check_manage (SsqBrokerChannel  *channel,
              SsqBrokerQueue    *q,
              GError           **error)
{
  if (ssq_broker_may_manage (channel->connection, q->owner_id))
    return TRUE;
  ssq_broker_set_error (error, SSQ_BROKER_ERROR_ACCESS_REFUSED,
                        "ACCESS_REFUSED - access to queue '%s' in vhost '/' refused for user '%s'",
                        q->name, channel->connection->principal.username);
  return FALSE;
}

/* Every ready entry leaves (deleted or purged, not dead-lettered). */
static guint64
drop_ready (SsqBroker      *broker,
            SsqBrokerQueue *q)
{
  guint64 n = q->ready;

  for (guint l = 0; l < q->n_levels; l++)
    {
      SsqBrokerEntry *e;

      while ((e = g_queue_pop_head (&q->levels[l])) != NULL)
        {
          q->ready--;
          q->ready_bytes -= g_bytes_get_size (e->message->body);
          ssq_broker_entry_finish (broker, q, e);
        }
    }
  return n;
}

void
ssq_broker_queue_destroy (SsqBroker      *broker,
                          SsqBrokerQueue *q,
                          gboolean        notify)
{
  guint *count;

  if (q->deleted)
    return;
  ssq_broker_queue_ref (q);
  if (ssq_broker_queue_persisted (q))
    ssq_broker_journal_queue (broker, q, FALSE);   /* its bindings and rows too */
  while (q->consumers->len > 0)
    ssq_broker_consumer_remove (broker, g_ptr_array_index (q->consumers, 0), notify, FALSE);
  q->deleted = TRUE;
  drop_ready (broker, q);
  while (q->bindings->len > 0)
    ssq_broker_binding_remove (broker, g_ptr_array_index (q->bindings, 0), FALSE);
  g_clear_handle_id (&q->ttl_source, g_source_remove);
  g_clear_handle_id (&q->expires_source, g_source_remove);
  if (q->exclusive_to != NULL)
    g_ptr_array_remove (q->exclusive_to->exclusive, q);
  if (q->owner_id != NULL &&
      (count = g_hash_table_lookup (broker->queues_per_user, q->owner_id)) != NULL &&
      --(*count) == 0)
    g_hash_table_remove (broker->queues_per_user, q->owner_id);
  g_hash_table_remove (broker->queues, q->name);
  ssq_broker_queue_unref (q);
}

gboolean
ssq_broker_queue_delete (SsqBrokerChannel  *channel,
                         const char        *name,
                         gboolean           if_unused,
                         gboolean           if_empty,
                         guint32           *out_message_count,
                         GError           **error)
{
  SsqBrokerQueue *q;

  g_return_val_if_fail (channel != NULL && !channel->closed && name != NULL, FALSE);

  if (out_message_count != NULL)
    *out_message_count = 0;
  q = g_hash_table_lookup (channel->broker->queues, name);
  /* RabbitMQ 3.10 deletes idempotently: an absent queue is no error. */
  if (q == NULL)
    return TRUE;
  if (locked (q, channel->connection, error) || !check_manage (channel, q, error))
    return FALSE;
  if (if_unused && q->consumers->len > 0)
    {
      ssq_broker_set_error (error, SSQ_BROKER_ERROR_PRECONDITION_FAILED,
                            "PRECONDITION_FAILED - queue '%s' in vhost '/' in use", name);
      return FALSE;
    }
  if (if_empty && q->ready > 0)
    {
      ssq_broker_set_error (error, SSQ_BROKER_ERROR_PRECONDITION_FAILED,
                            "PRECONDITION_FAILED - queue '%s' in vhost '/' is not empty", name);
      return FALSE;
    }
  if (out_message_count != NULL)
    *out_message_count = (guint32) MIN (q->ready, G_MAXUINT32);
  ssq_broker_queue_destroy (channel->broker, q, TRUE);
  return TRUE;
}

gboolean
ssq_broker_queue_purge (SsqBrokerChannel  *channel,
                        const char        *name,
                        guint32           *out_message_count,
                        GError           **error)
{
  SsqBrokerQueue *q;
  guint64 n;

  g_return_val_if_fail (channel != NULL && !channel->closed && name != NULL, FALSE);

  q = ssq_broker_queue_find (channel, name, error);
  if (q == NULL || !check_manage (channel, q, error))
    return FALSE;
  n = drop_ready (channel->broker, q);
  g_clear_handle_id (&q->ttl_source, g_source_remove);
  if (out_message_count != NULL)
    *out_message_count = (guint32) MIN (n, G_MAXUINT32);
  return TRUE;
}

/* -------------------------------------------------------------- entries */

static void
entry_insert (SsqBrokerQueue *q,
              SsqBrokerEntry *e)
{
  GQueue *level = &q->levels[e->level];
  GList *l;

  /* New entries have the highest seq; requeued ones belong near the head. */
  if (level->tail == NULL || ((SsqBrokerEntry *) level->tail->data)->seq < e->seq)
    g_queue_push_tail (level, e);
  else
    {
      for (l = level->head; l != NULL && ((SsqBrokerEntry *) l->data)->seq < e->seq; l = l->next)
        ;
      g_queue_insert_before (level, l, e);
    }
  q->ready++;
  q->ready_bytes += g_bytes_get_size (e->message->body);
}

void
ssq_broker_queue_load_entry (SsqBrokerQueue *q,
                             SsqBrokerEntry *e)
{
  e->level = MIN (e->level, q->n_levels - 1);
  if (e->seq >= q->next_seq)
    q->next_seq = e->seq + 1;
  ssq_broker_memory_hold (q->broker, e->message);
  entry_insert (q, e);
}

void
ssq_broker_entry_finish (SsqBroker      *broker,
                         SsqBrokerQueue *q,
                         SsqBrokerEntry *e)
{
  if (e->stored)
    ssq_broker_journal_entry_gone (broker, q, e);
  ssq_broker_memory_release (broker, e->message);
  ssq_broker_message_unref (e->message);
  g_free (e);
}

static SsqBrokerEntry *
pop_level (SsqBrokerQueue *q,
           guint           level)
{
  SsqBrokerEntry *e = g_queue_pop_head (&q->levels[level]);

  if (e != NULL)
    {
      q->ready--;
      q->ready_bytes -= g_bytes_get_size (e->message->body);
    }
  return e;
}

static SsqBrokerEntry *
pop_head (SsqBrokerQueue *q)
{
  for (guint l = q->n_levels; l-- > 0;)
    if (q->levels[l].length > 0)
      return pop_level (q, l);
  return NULL;
}

static gboolean
expired (SsqBrokerEntry *e,
         gint64          now,
         gboolean        ttl_zero_too)
{
  if (e->expires_at == 0)
    return FALSE;
  if (e->ttl_zero)
    return ttl_zero_too;
  return now >= e->expires_at;
}

void
ssq_broker_queue_expire (SsqBrokerQueue *q,
                         gint64          now,
                         gboolean        ttl_zero_too)
{
  SsqBroker *broker = q->broker;

  ssq_broker_queue_ref (q);
  for (guint l = 0; l < q->n_levels && !q->deleted; l++)
    while (!q->deleted && q->levels[l].length > 0 &&
           expired (q->levels[l].head->data, now, ttl_zero_too))
      {
        SsqBrokerEntry *e = pop_level (q, l);

        q->n_expired++;
        ssq_broker_entry_dead_letter (broker, q, e, "expired");
      }
  if (!q->deleted)
    ssq_broker_queue_arm_ttl (q);
  ssq_broker_queue_unref (q);
}

static gboolean
ttl_cb (gpointer data)
{
  SsqBrokerQueue *q = data;

  q->ttl_source = 0;
  q->ttl_deadline = 0;
  ssq_broker_queue_expire (q, ssq_broker_now (), FALSE);
  return G_SOURCE_REMOVE;
}

void
ssq_broker_queue_arm_ttl (SsqBrokerQueue *q)
{
  gint64 next = 0, now;

  for (guint l = 0; l < q->n_levels; l++)
    {
      SsqBrokerEntry *e = q->levels[l].head != NULL ? q->levels[l].head->data : NULL;

      if (e != NULL && e->expires_at != 0 && !e->ttl_zero && (next == 0 || e->expires_at < next))
        next = e->expires_at;
    }
  if (next == 0 || (q->ttl_source != 0 && q->ttl_deadline <= next))
    return;
  g_clear_handle_id (&q->ttl_source, g_source_remove);
  now = ssq_broker_now ();
  q->ttl_deadline = next;
  /* Rounded up: a timer a millisecond early would find nothing expired. */
  q->ttl_source = g_timeout_add_full (G_PRIORITY_DEFAULT,
                                      next > now ? (guint) MIN ((next - now + 999) / 1000, G_MAXUINT) : 0,
                                      ttl_cb, q, NULL);
}

gboolean
ssq_broker_queue_has_ready (SsqBrokerQueue *q,
                            gint64          now)
{
  if (q->ready == 0)
    return FALSE;
  ssq_broker_queue_expire (q, now, FALSE);
  return q->ready > 0;
}

SsqBrokerEntry *
ssq_broker_queue_pop (SsqBrokerQueue *q,
                      gint64          now)
{
  if (!ssq_broker_queue_has_ready (q, now))
    return NULL;
  return pop_head (q);
}

gboolean
ssq_broker_queue_push (SsqBrokerQueue   *q,
                       SsqBrokerMessage *m,
                       gint64            now)
{
  SsqBroker *broker = q->broker;
  SsqBrokerEntry *e;
  gint64 ttl = q->args.message_ttl_ms;
  gint64 now_s = now / G_USEC_PER_SEC;
  gboolean expires;

  if (q->args.max_length >= 0 && q->args.overflow == SSQ_BROKER_OVERFLOW_REJECT_PUBLISH &&
      q->ready >= (guint64) q->args.max_length)
    {
      q->n_dropped++;
      return FALSE;
    }
  if (m->expiration_ms >= 0 && (ttl < 0 || m->expiration_ms < ttl))
    ttl = m->expiration_ms;
  e = g_new0 (SsqBrokerEntry, 1);
  e->message = ssq_broker_message_ref (m);
  e->seq = q->next_seq++;
  e->level = MIN (ssq_broker_message_get_priority (m), q->n_levels - 1);
  if (ttl >= 0)
    {
      e->expires_at = now + ttl * 1000;
      e->ttl_zero = ttl == 0;
    }
  ssq_broker_memory_hold (broker, m);
  entry_insert (q, e);
  q->n_published++;
  ssq_broker_rate_add (&q->rate_published, now_s, 1);
  expires = e->expires_at != 0;
  if (ssq_broker_queue_persisted (q) && ssq_broker_message_is_persistent (m))
    {
      e->stored = TRUE;
      ssq_broker_journal_entry (broker, q, e);
    }
  /* drop-head: the oldest make room, dead-lettered "maxlen". The head may
   * be @e itself (x-max-length 0, or a higher priority than the rest): it
   * is freed here, so nothing reads it after this loop. */
  while (q->args.max_length >= 0 && q->ready > (guint64) q->args.max_length)
    {
      SsqBrokerEntry *head = pop_head (q);

      q->n_dropped++;
      ssq_broker_entry_dead_letter (broker, q, head, "maxlen");
    }
  if (expires)
    ssq_broker_queue_arm_ttl (q);
  ssq_broker_queue_dirty (broker, q);
  return TRUE;
}

void
ssq_broker_queue_requeue (SsqBrokerQueue *q,
                          SsqBrokerEntry *e,
                          gboolean        leased)
{
  guint32 limit = q->args.max_deliveries;

  if (q->deleted)
    {
      ssq_broker_entry_finish (q->broker, q, e);
      return;
    }
  if (limit == 0 && leased)
    limit = SSQ_BROKER_DEFAULT_MAX_DELIVERIES;
  if (limit != 0 && e->deliveries >= limit)
    {
      ssq_broker_entry_dead_letter (q->broker, q, e, "delivery_limit");
      return;
    }
  entry_insert (q, e);
  if (e->expires_at != 0)
    ssq_broker_queue_arm_ttl (q);
  ssq_broker_queue_dirty (q->broker, q);
}

/* ------------------------------------------------------- dead-lettering */

void
ssq_broker_entry_dead_letter (SsqBroker      *broker,
                              SsqBrokerQueue *q,
                              SsqBrokerEntry *e,
                              const char     *reason)
{
  const char *dlx_name = q->args.dead_letter_exchange;
  SsqBrokerExchange *dlx = dlx_name != NULL ? ssq_broker_exchange_lookup (broker, dlx_name) : NULL;

  if (dlx != NULL && dlx->handler == NULL)
    {
      g_autoptr(SsqBrokerMessage) dead = ssq_broker_message_dead_letter (e->message, q->name, reason, dlx_name,
                                                                         q->args.dead_letter_routing_key);
      g_autoptr(GPtrArray) targets = ssq_broker_route (broker, dlx, dead);
      gint64 now = ssq_broker_now ();
      guint64 freed = SSQ_BROKER_ENTRY_COST + (e->message->entries == 1 ? ssq_broker_message_cost (e->message) : 0);

      /* A message that expires round a cycle would go round forever. */
      for (guint i = targets->len; i-- > 0;)
        {
          SsqBrokerQueue *t = g_ptr_array_index (targets, i);

          if (strcmp (reason, "rejected") != 0 &&
              (t == q || ssq_broker_message_died_in (e->message, t->name)))
            g_ptr_array_remove_index (targets, i);
        }
      /* The copies count in max_memory as a publish's do, this entry's
       * memory given back: a message dead-lettered to a fan-out must not
       * take the broker past its bound. Past it, the message is dropped. */
      if (!ssq_broker_memory_check_entries (broker, dead, targets->len, freed, NULL))
        {
          g_debug ("broker: a message of queue %s not dead-lettered: max_memory reached", q->name);
          q->n_dropped++;
        }
      else
        {
          dead->id = broker->next_message_id++;
          q->n_dead_lettered++;
          /* In routing order. */
          for (guint i = 0; i < targets->len; i++)
            ssq_broker_queue_push (g_ptr_array_index (targets, i), dead, now);
        }
    }
  ssq_broker_entry_finish (broker, q, e);
}
