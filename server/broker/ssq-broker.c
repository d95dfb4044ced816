/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-broker.c: the broker itself, connections and channels, and the one
 * idle source that runs everything a front end must not see from inside
 * its own call (deliveries, publish outcomes, cancellations, forced
 * closes) and hands the gathered journal to the writer. */
#include "ssq-broker-private.h"

#include <stdarg.h>
#include <string.h>

G_DEFINE_QUARK (ssq-broker-error-quark, ssq_broker_error)

#define MEMORY_FULL_TEXT "RESOURCE_ERROR - broker memory full"

typedef struct {
  SsqBrokerChannel *channel;   /* a reference */
  char             *tag;
} CancelNote;

gboolean
ssq_broker_error_is_hard (int code)
{
  switch (code)
    {
    case 320: case 402: case 501: case 502: case 503: case 504: case 505:
    case 506: case 530: case 540: case 541:
      return TRUE;
    default:
      return FALSE;
    }
}

gboolean
ssq_broker_error_is_memory_full (const GError *error)
{
  return error != NULL && error->domain == SSQ_BROKER_ERROR &&
         error->code == SSQ_BROKER_ERROR_RESOURCE_ERROR &&
         g_str_has_prefix (error->message, MEMORY_FULL_TEXT);
}

void
ssq_broker_set_error (GError    **error,
                      int         code,
                      const char *format,
                      ...)
{
  va_list args;
  g_autofree char *text = NULL;

  if (error == NULL)
    return;
  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error_literal (error, SSQ_BROKER_ERROR, code, text);
}

gint64
ssq_broker_now (void)
{
  return g_get_real_time ();
}

char *
ssq_broker_random_name (const char *prefix)
{
  guint8 raw[16];
  g_autofree char *b64 = NULL;

  for (guint i = 0; i < sizeof raw; i += 4)
    {
      guint32 r = g_random_int ();
      memcpy (raw + i, &r, 4);
    }
  b64 = g_base64_encode (raw, sizeof raw);
  b64[22] = '\0';                 /* the padding goes */
  g_strdelimit (b64, "+", '-');   /* URL-safe, as RabbitMQ's */
  g_strdelimit (b64, "/", '_');
  return g_strconcat (prefix, b64, NULL);
}

/* Owner or server admin: who may delete and purge. */
gboolean
ssq_broker_may_manage (SsqBrokerConnection *connection,
                       const char          *owner_id)
{
  return connection->principal.server_admin ||
         (owner_id != NULL && g_strcmp0 (owner_id, connection->principal.user_id) == 0);
}

static void
limits_fill (SsqBrokerLimits       *out,
             const SsqBrokerLimits *in)
{
  if (in != NULL)
    *out = *in;
  else
    memset (out, 0, sizeof *out);
#define DEFAULT(field, value) if (out->field == 0) out->field = (value)
  DEFAULT (max_queues, 10000);
  DEFAULT (max_queues_per_user, 1000);
  DEFAULT (max_exchanges, 1000);
  DEFAULT (max_bindings, 100000);
  DEFAULT (max_bindings_per_user, 1000);
  DEFAULT (max_message_size, 16 * 1024 * 1024);
  DEFAULT (max_memory, 256 * 1024 * 1024);
  DEFAULT (max_unacked_per_channel, 10000);
  DEFAULT (max_consumers_per_channel, 1000);
  DEFAULT (max_consumers_per_connection, 2000);
  DEFAULT (max_consumers, 50000);
#undef DEFAULT
  out->max_message_size = MIN (out->max_message_size, (guint64) 128 * 1024 * 1024);
}

SsqBroker *
ssq_broker_new (SsqServerStore         *store,
                SsqServerWriter        *writer,
                const SsqBrokerLimits  *limits,
                GError                **error)
{
  SsqBroker *broker = g_new0 (SsqBroker, 1);

  broker->store = store;
  broker->writer = writer;
  limits_fill (&broker->limits, limits);
  broker->exchanges = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                             (GDestroyNotify) ssq_broker_exchange_free);
  broker->queues = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                          (GDestroyNotify) ssq_broker_queue_unref);
  broker->queues_per_user = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  broker->bindings_per_user = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  broker->connections = g_ptr_array_new ();
  broker->dirty = g_ptr_array_new ();
  broker->outcome_channels = g_ptr_array_new ();
  broker->next_message_id = (guint64) g_get_real_time ();
  ssq_broker_exchanges_init (broker);
  if (store != NULL && !ssq_broker_load (broker, error))
    {
      ssq_broker_free (broker);
      return NULL;
    }
  return broker;
}

static gboolean run_idle (gpointer data);

void
ssq_broker_free (SsqBroker *broker)
{
  if (broker == NULL)
    return;
  /* Front ends close their connections first; what is left is told. */
  while (broker->connections->len > 0)
    {
      SsqBrokerConnection *c = g_ptr_array_index (broker->connections, 0);
      g_autoptr(GError) error = NULL;

      ssq_broker_set_error (&error, SSQ_BROKER_ERROR_CONNECTION_FORCED,
                            "CONNECTION_FORCED - broker shutting down");
      if (c->forced_closed != NULL)
        c->forced_closed (c, error, c->user_data);
      if (broker->connections->len > 0 && g_ptr_array_index (broker->connections, 0) == c)
        ssq_broker_connection_free (c);
    }
  /* What is pending runs now, the source with it. */
  g_clear_handle_id (&broker->idle_source, g_source_remove);
  run_idle (broker);
  if (broker->writer != NULL)
    {
      ssq_broker_journal_submit (broker);
      ssq_server_writer_flush (broker->writer);
    }
  g_clear_handle_id (&broker->idle_source, g_source_remove);
  g_clear_handle_id (&broker->resync_source, g_source_remove);
  ssq_broker_journal_drop_held (broker);
  broker->closing = TRUE;
  /* Queues before exchanges: a queue's destruction unbinds it. */
  while (g_hash_table_size (broker->queues) > 0)
    {
      GHashTableIter iter;
      gpointer value;

      g_hash_table_iter_init (&iter, broker->queues);
      g_hash_table_iter_next (&iter, NULL, &value);
      ssq_broker_queue_destroy (broker, value, FALSE);
    }
  g_hash_table_unref (broker->queues);
  g_hash_table_unref (broker->exchanges);
  g_hash_table_unref (broker->queues_per_user);
  g_hash_table_unref (broker->bindings_per_user);
  g_ptr_array_unref (broker->connections);
  g_ptr_array_unref (broker->dirty);
  g_ptr_array_unref (broker->outcome_channels);
  g_clear_pointer (&broker->journal, ssq_broker_journal_free);
  g_free (broker);
}

gboolean
ssq_broker_check_body_size (SsqBroker  *broker,
                            guint64     body_size,
                            GError    **error)
{
  g_return_val_if_fail (broker != NULL, FALSE);

  if (body_size > broker->limits.max_message_size)
    {
      ssq_broker_set_error (error, SSQ_BROKER_ERROR_PRECONDITION_FAILED,
                            "PRECONDITION_FAILED - message size %" G_GUINT64_FORMAT
                            " is larger than configured max size %" G_GUINT64_FORMAT,
                            body_size, broker->limits.max_message_size);
      return FALSE;
    }
  if (broker->memory + body_size > broker->limits.max_memory)
    {
      ssq_broker_set_error (error, SSQ_BROKER_ERROR_RESOURCE_ERROR,
                            MEMORY_FULL_TEXT " (%" G_GUINT64_FORMAT " bytes held, max_memory %"
                            G_GUINT64_FORMAT ")", broker->memory, broker->limits.max_memory);
      return FALSE;
    }
  return TRUE;
}

gboolean
ssq_broker_memory_reserve (SsqBroker  *broker,
                           guint64     bytes,
                           GError    **error)
{
  if (!ssq_broker_memory_check (broker, bytes, error))
    return FALSE;
  broker->memory += bytes;
  return TRUE;
}

void
ssq_broker_memory_unreserve (SsqBroker *broker,
                             guint64    bytes)
{
  g_assert (broker->memory >= bytes);
  broker->memory -= bytes;
}

/* What a message in memory costs max_memory: its body; its bookkeeping
 * (the structures below, measured with sizeof: ~390 bytes on 64-bit with
 * glibc's per-allocation overhead), so that messages without a body are
 * bounded too; its properties as they came and decoded (a header value
 * takes ~100 bytes decoded for as few as 3 on the wire): headers of up to
 * a frame each do not escape the bound. Messages do not change: reckoned
 * once. Each queue entry holding it costs SSQ_BROKER_ENTRY_COST more. */
#define ALLOC_OVERHEAD 16   /* glibc: a chunk's header and rounding */
#define GBYTES_SIZE    (4 * sizeof (gpointer) + sizeof (gsize))   /* GBytes' private struct */
#define MESSAGE_FIXED_COST \
  (sizeof (SsqBrokerMessage) + 2 * GBYTES_SIZE + sizeof (SsqAmqpProperties) + 7 * ALLOC_OVERHEAD)

guint64
ssq_broker_message_cost (SsqBrokerMessage *message)
{
  if (message->cost == 0)
    {
      message->cost = MESSAGE_FIXED_COST + g_bytes_get_size (message->body) +
                      strlen (message->exchange) + strlen (message->routing_key) + 2 +
                      2 * (guint64) g_bytes_get_size (message->properties);
      if ((message->props != NULL || ssq_broker_message_parse (message, NULL)) &&
          message->props->headers != NULL)
        message->cost += 128 * (guint64) ssq_amqp_table_count_values (message->props->headers);
    }
  return message->cost;
}

gboolean
ssq_broker_memory_check (SsqBroker  *broker,
                         guint64     bytes,
                         GError    **error)
{
  if (broker->memory + bytes > broker->limits.max_memory)
    {
      ssq_broker_set_error (error, SSQ_BROKER_ERROR_RESOURCE_ERROR,
                            MEMORY_FULL_TEXT " (%" G_GUINT64_FORMAT " bytes held, max_memory %"
                            G_GUINT64_FORMAT ")", broker->memory, broker->limits.max_memory);
      return FALSE;
    }
  return TRUE;
}

/* Whether @n_entries more queue entries of @message fit in max_memory: the
 * message itself counts unless queues hold it already, and @freed bytes
 * about to be given back (an entry leaving as these are made) do not. All
 * of a fan-out is counted before any of it is made. */
gboolean
ssq_broker_memory_check_entries (SsqBroker         *broker,
                                 SsqBrokerMessage  *message,
                                 guint              n_entries,
                                 guint64            freed,
                                 GError           **error)
{
  guint64 bytes = n_entries * (guint64) SSQ_BROKER_ENTRY_COST +
                  (message->entries == 0 ? ssq_broker_message_cost (message) : 0);

  if (n_entries == 0 || broker->memory - MIN (freed, broker->memory) + bytes <= broker->limits.max_memory)
    return TRUE;
  return ssq_broker_memory_check (broker, bytes, error);
}

void
ssq_broker_memory_hold (SsqBroker        *broker,
                        SsqBrokerMessage *message)
{
  broker->memory += SSQ_BROKER_ENTRY_COST;
  if (message->entries++ == 0)
    broker->memory += ssq_broker_message_cost (message);
}

void
ssq_broker_memory_release (SsqBroker        *broker,
                           SsqBrokerMessage *message)
{
  g_assert (message->entries > 0);
  broker->memory -= SSQ_BROKER_ENTRY_COST;
  if (--message->entries == 0)
    broker->memory -= ssq_broker_message_cost (message);
}

/* ------------------------------------------------------------ main loop */

void
ssq_broker_schedule (SsqBroker *broker)
{
  if (broker->idle_source == 0 && !broker->closing)
    broker->idle_source = g_idle_add_full (G_PRIORITY_DEFAULT, run_idle, broker, NULL);
}

void
ssq_broker_queue_dirty (SsqBroker      *broker,
                        SsqBrokerQueue *queue)
{
  if (queue->dirty || queue->deleted)
    return;
  queue->dirty = TRUE;
  g_ptr_array_add (broker->dirty, ssq_broker_queue_ref (queue));
  ssq_broker_schedule (broker);
}

void
ssq_broker_note_cancelled (SsqBroker        *broker,
                           SsqBrokerChannel *channel,
                           const char       *tag)
{
  CancelNote *note = g_new0 (CancelNote, 1);

  ssq_broker_channel_ref (channel);
  note->channel = channel;
  note->tag = g_strdup (tag);
  g_queue_push_tail (&broker->cancelled, note);
  ssq_broker_schedule (broker);
}

static void
run_cancelled (SsqBroker *broker)
{
  CancelNote *note;

  while ((note = g_queue_pop_head (&broker->cancelled)) != NULL)
    {
      SsqBrokerChannel *ch = note->channel;

      if (!ch->closed && ch->callbacks.consumer_cancelled != NULL)
        ch->callbacks.consumer_cancelled (ch, note->tag, ch->user_data);
      ssq_broker_channel_unref (ch);
      g_free (note->tag);
      g_free (note);
    }
}

static void
run_forced (SsqBroker *broker)
{
  SsqBrokerConnection *c;

  while ((c = g_queue_pop_head (&broker->forced)) != NULL)
    {
      g_autoptr(GError) error = NULL;

      ssq_broker_set_error (&error, SSQ_BROKER_ERROR_CONNECTION_FORCED,
                            "CONNECTION_FORCED - user '%s' no longer exists", c->principal.username);
      if (c->forced_closed != NULL)
        c->forced_closed (c, error, c->user_data);
    }
}

static void
run_outcomes (SsqBroker *broker)
{
  while (broker->outcome_channels->len > 0)
    {
      SsqBrokerChannel *ch = g_ptr_array_steal_index (broker->outcome_channels, 0);

      ssq_broker_outcomes_flush (ch);
      ssq_broker_channel_unref (ch);
    }
}

static void
run_dispatch (SsqBroker *broker)
{
  while (broker->dirty->len > 0)
    {
      SsqBrokerQueue *q = g_ptr_array_steal_index (broker->dirty, 0);

      q->dirty = FALSE;
      if (!q->deleted)
        ssq_broker_dispatch (broker, q);
      ssq_broker_queue_unref (q);
    }
}

static gboolean
run_idle (gpointer data)
{
  SsqBroker *broker = data;

  broker->idle_source = 0;
  /* Callbacks may queue more of everything: go round until all is quiet. */
  do
    {
      run_forced (broker);
      run_cancelled (broker);
      run_outcomes (broker);
      run_dispatch (broker);
    }
  while (broker->forced.length > 0 || broker->cancelled.length > 0 ||
         broker->outcome_channels->len > 0 || broker->dirty->len > 0);
  ssq_broker_journal_submit (broker);
  return G_SOURCE_REMOVE;
}

/* ---------------------------------------------------------- connections */

SsqBrokerConnection *
ssq_broker_connection_new (SsqBroker                *broker,
                           const SsqBrokerPrincipal *principal,
                           SsqBrokerForcedClosed     forced_closed,
                           gpointer                  user_data)
{
  SsqBrokerConnection *c;

  g_return_val_if_fail (broker != NULL && principal != NULL, NULL);
  g_return_val_if_fail (principal->user_id != NULL, NULL);

  c = g_new0 (SsqBrokerConnection, 1);
  c->broker = broker;
  c->principal.user_id = g_strdup (principal->user_id);
  c->principal.username = g_strdup (principal->username != NULL ? principal->username : "");
  c->principal.server_admin = principal->server_admin;
  c->forced_closed = forced_closed;
  c->user_data = user_data;
  c->channels = g_ptr_array_new ();
  c->exclusive = g_ptr_array_new ();
  g_ptr_array_add (broker->connections, c);
  return c;
}

void
ssq_broker_connection_free (SsqBrokerConnection *connection)
{
  SsqBroker *broker;

  if (connection == NULL)
    return;
  broker = connection->broker;
  while (connection->channels->len > 0)
    ssq_broker_channel_free (g_ptr_array_index (connection->channels, 0));
  while (connection->exclusive->len > 0)
    ssq_broker_queue_destroy (broker, g_ptr_array_index (connection->exclusive, 0), TRUE);
  g_queue_remove (&broker->forced, connection);
  g_ptr_array_remove (broker->connections, connection);
  g_ptr_array_unref (connection->channels);
  g_ptr_array_unref (connection->exclusive);
  g_free ((char *) connection->principal.user_id);
  g_free ((char *) connection->principal.username);
  g_free (connection);
}

const SsqBrokerPrincipal *
ssq_broker_connection_get_principal (SsqBrokerConnection *connection)
{
  g_return_val_if_fail (connection != NULL, NULL);
  return &connection->principal;
}

void
ssq_broker_user_gone (SsqBroker  *broker,
                      const char *user_id)
{
  g_autoptr(GPtrArray) doomed = g_ptr_array_new_with_free_func ((GDestroyNotify) ssq_broker_queue_unref);
  GHashTableIter iter;
  gpointer value;

  g_return_if_fail (broker != NULL && user_id != NULL);

  for (guint i = 0; i < broker->connections->len; i++)
    {
      SsqBrokerConnection *c = g_ptr_array_index (broker->connections, i);

      if (g_strcmp0 (c->principal.user_id, user_id) == 0 && !c->forced)
        {
          c->forced = TRUE;
          g_queue_push_tail (&broker->forced, c);
        }
    }
  g_hash_table_iter_init (&iter, broker->queues);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      SsqBrokerQueue *q = value;

      if (g_strcmp0 (q->owner_id, user_id) == 0 && (q->auto_delete || q->exclusive_to != NULL))
        g_ptr_array_add (doomed, ssq_broker_queue_ref (q));
    }
  for (guint i = 0; i < doomed->len; i++)
    ssq_broker_queue_destroy (broker, g_ptr_array_index (doomed, i), TRUE);
  ssq_broker_schedule (broker);
}

/* ------------------------------------------------------------- channels */

SsqBrokerChannel *
ssq_broker_channel_new (SsqBrokerConnection             *connection,
                        const SsqBrokerChannelCallbacks *callbacks,
                        gpointer                         user_data)
{
  SsqBrokerChannel *ch;

  g_return_val_if_fail (connection != NULL, NULL);

  ch = g_new0 (SsqBrokerChannel, 1);
  ch->ref_count = 1;
  ch->broker = connection->broker;
  ch->connection = connection;
  if (callbacks != NULL)
    ch->callbacks = *callbacks;
  ch->user_data = user_data;
  ch->next_tag = 1;
  g_queue_init (&ch->unacked);
  ch->by_tag = g_hash_table_new (g_int64_hash, g_int64_equal);
  ch->consumers = g_hash_table_new (g_str_hash, g_str_equal);
  ch->writable = TRUE;
  ch->flow = TRUE;
  g_queue_init (&ch->outcomes);
  g_ptr_array_add (connection->channels, ch);
  ch->broker->n_channels++;
  return ch;
}

void
ssq_broker_channel_ref (SsqBrokerChannel *channel)
{
  channel->ref_count++;
}

void
ssq_broker_channel_unref (SsqBrokerChannel *channel)
{
  if (--channel->ref_count > 0)
    return;
  g_assert (channel->closed);
  g_clear_pointer (&channel->last_get, ssq_broker_message_unref);
  g_hash_table_unref (channel->by_tag);
  g_hash_table_unref (channel->consumers);
  g_free (channel);
}

void
ssq_broker_channel_free (SsqBrokerChannel *channel)
{
  SsqBroker *broker;
  SsqBrokerOutcome *o;

  if (channel == NULL)
    return;
  g_return_if_fail (!channel->closed);
  broker = channel->broker;
  /* Consumers first, so requeued messages are not handed back to them. */
  while (g_hash_table_size (channel->consumers) > 0)
    {
      GHashTableIter iter;
      gpointer value;

      g_hash_table_iter_init (&iter, channel->consumers);
      g_hash_table_iter_next (&iter, NULL, &value);
      ssq_broker_consumer_remove (broker, value, FALSE, TRUE);
    }
  ssq_broker_channel_requeue_all (channel);
  channel->closed = TRUE;
  /* Outcomes still waiting for a commit or a handler stay alive until
   * then, told to nobody. */
  while ((o = g_queue_pop_head (&channel->outcomes)) != NULL)
    {
      ssq_broker_channel_unref (channel);
      o->channel = NULL;
      if (o->ready)
        ssq_broker_outcome_free (o);
    }
  g_ptr_array_remove (channel->connection->channels, channel);
  broker->n_channels--;
  ssq_broker_channel_unref (channel);
}

SsqBrokerConnection *
ssq_broker_channel_get_connection (SsqBrokerChannel *channel)
{
  g_return_val_if_fail (channel != NULL, NULL);
  return channel->connection;
}

/* Every queue a consumer of @channel reads: room may have appeared. */
static void
channel_queues_dirty (SsqBrokerChannel *channel)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, channel->consumers);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    ssq_broker_queue_dirty (channel->broker, ((SsqBrokerConsumer *) value)->queue);
}

gboolean
ssq_broker_channel_qos (SsqBrokerChannel  *channel,
                        guint32            prefetch_size,
                        guint16            prefetch_count,
                        gboolean           global,
                        GError           **error)
{
  g_return_val_if_fail (channel != NULL && !channel->closed, FALSE);

  if (prefetch_size != 0)
    {
      ssq_broker_set_error (error, SSQ_BROKER_ERROR_NOT_IMPLEMENTED,
                            "NOT_IMPLEMENTED - prefetch_size!=0 (%u)", prefetch_size);
      return FALSE;
    }
  if (global)
    channel->prefetch_global = prefetch_count;
  else
    channel->prefetch_consumer = prefetch_count;
  channel_queues_dirty (channel);
  return TRUE;
}

void
ssq_broker_channel_set_writable (SsqBrokerChannel *channel,
                                 gboolean          writable)
{
  g_return_if_fail (channel != NULL && !channel->closed);
  if (channel->writable == !!writable)
    return;
  channel->writable = !!writable;
  if (writable)
    channel_queues_dirty (channel);
}

void
ssq_broker_channel_set_flow (SsqBrokerChannel *channel,
                             gboolean          active)
{
  g_return_if_fail (channel != NULL && !channel->closed);
  if (channel->flow == !!active)
    return;
  channel->flow = !!active;
  if (active)
    channel_queues_dirty (channel);
}

void
ssq_broker_channel_tell_outcomes (SsqBrokerChannel *channel)
{
  g_return_if_fail (channel != NULL);
  ssq_broker_outcomes_flush (channel);
}

/* ----------------------------------------------------------- statistics */

void
ssq_broker_rate_add (SsqBrokerRate *rate,
                     gint64         now_s,
                     guint64        n)
{
  guint i = (guint) (now_s % 60);

  if (rate->second[i] != now_s)
    {
      rate->second[i] = now_s;
      rate->count[i] = 0;
    }
  rate->count[i] += n;
}

double
ssq_broker_rate_get (const SsqBrokerRate *rate,
                     gint64               now_s)
{
  guint64 sum = 0;

  for (guint i = 0; i < 60; i++)
    if (rate->second[i] > now_s - 60 && rate->second[i] <= now_s)
      sum += rate->count[i];
  return sum / 60.0;
}

void
ssq_broker_queue_info_free (SsqBrokerQueueInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->name);
  g_free (info->owner_id);
  ssq_broker_queue_args_clear (&info->args);
  g_free (info);
}

static SsqBrokerQueueInfo *
queue_info (SsqBrokerQueue *q)
{
  SsqBrokerQueueInfo *info = g_new0 (SsqBrokerQueueInfo, 1);
  gint64 now_s = g_get_real_time () / G_USEC_PER_SEC;

  info->name = g_strdup (q->name);
  info->owner_id = g_strdup (q->owner_id);
  info->durable = q->durable;
  info->exclusive = q->exclusive_to != NULL;
  info->auto_delete = q->auto_delete;
  ssq_broker_queue_args_copy (&info->args, &q->args);
  info->ready = q->ready;
  info->unacked = q->unacked;
  info->ready_bytes = q->ready_bytes;
  info->consumers = q->consumers->len;
  info->published = q->n_published;
  info->delivered = q->n_delivered;
  info->acknowledged = q->n_acked;
  info->redelivered = q->n_redelivered;
  info->dead_lettered = q->n_dead_lettered;
  info->expired = q->n_expired;
  info->dropped = q->n_dropped;
  info->published_rate = ssq_broker_rate_get (&q->rate_published, now_s);
  info->delivered_rate = ssq_broker_rate_get (&q->rate_delivered, now_s);
  info->acknowledged_rate = ssq_broker_rate_get (&q->rate_acked, now_s);
  return info;
}

SsqBrokerQueueInfo *
ssq_broker_queue_info (SsqBroker   *broker,
                       const char  *name,
                       GError     **error)
{
  SsqBrokerQueue *q;

  g_return_val_if_fail (broker != NULL && name != NULL, NULL);

  q = g_hash_table_lookup (broker->queues, name);
  if (q == NULL)
    {
      ssq_broker_set_error (error, SSQ_BROKER_ERROR_NOT_FOUND,
                            "NOT_FOUND - no queue '%s' in vhost '/'", name);
      return NULL;
    }
  return queue_info (q);
}

static int
info_cmp (gconstpointer a,
          gconstpointer b)
{
  const SsqBrokerQueueInfo *x = *(SsqBrokerQueueInfo * const *) a;
  const SsqBrokerQueueInfo *y = *(SsqBrokerQueueInfo * const *) b;

  return strcmp (x->name, y->name);
}

GPtrArray *
ssq_broker_list_queues (SsqBroker *broker)
{
  GPtrArray *list = g_ptr_array_new_with_free_func ((GDestroyNotify) ssq_broker_queue_info_free);
  GHashTableIter iter;
  gpointer value;

  g_return_val_if_fail (broker != NULL, list);
  g_hash_table_iter_init (&iter, broker->queues);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_ptr_array_add (list, queue_info (value));
  g_ptr_array_sort (list, info_cmp);
  return list;
}

void
ssq_broker_get_stats (SsqBroker      *broker,
                      SsqBrokerStats *stats)
{
  g_return_if_fail (broker != NULL && stats != NULL);

  *stats = (SsqBrokerStats) {
    .queues = g_hash_table_size (broker->queues),
    .exchanges = broker->n_exchanges,
    .bindings = broker->n_bindings,
    .connections = broker->connections->len,
    .channels = broker->n_channels,
    .consumers = broker->n_consumers,
    .memory_bytes = broker->memory,
    .writer_ops = broker->writer_ops,
    .bindings_examined = broker->bindings_examined,
    .internal_dropped = broker->internal_dropped,
  };
}
