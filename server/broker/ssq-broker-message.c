/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-broker-message.c: messages (immutable, refcounted, their properties
 * kept as the encoded bytes they came in and parsed beside), and the copy
 * a dead-lettering makes, with x-death as RabbitMQ 3.10 writes it. */
#include "ssq-broker-private.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static GBytes *
empty_properties (void)
{
  static const guint8 none[2] = { 0, 0 };

  return g_bytes_new_static (none, sizeof none);
}

SsqBrokerMessage *
ssq_broker_message_new (const char *exchange,
                        const char *routing_key,
                        GBytes     *properties,
                        GBytes     *body)
{
  SsqBrokerMessage *m = g_new0 (SsqBrokerMessage, 1);

  m->ref_count = 1;
  m->exchange = g_strdup (exchange != NULL ? exchange : "");
  m->routing_key = g_strdup (routing_key != NULL ? routing_key : "");
  m->properties = properties != NULL && g_bytes_get_size (properties) > 0
                  ? g_bytes_ref (properties) : empty_properties ();
  m->body = body != NULL ? g_bytes_ref (body) : g_bytes_new_static ("", 0);
  m->expiration_ms = -1;
  return m;
}

SsqBrokerMessage *
ssq_broker_message_new_loaded (guint64     id,
                               const char *exchange,
                               const char *routing_key,
                               GBytes     *properties,
                               GBytes     *body)
{
  SsqBrokerMessage *m = ssq_broker_message_new (exchange, routing_key, properties, body);

  m->id = id;
  /* Stored properties parsed when they were published; a row that no
   * longer parses still goes out as it is. */
  ssq_broker_message_parse (m, NULL);
  m->stored = TRUE;
  return m;
}

SsqBrokerMessage *
ssq_broker_message_ref (SsqBrokerMessage *message)
{
  g_return_val_if_fail (message != NULL, NULL);
  g_atomic_int_inc (&message->ref_count);
  return message;
}

void
ssq_broker_message_unref (SsqBrokerMessage *message)
{
  if (message == NULL || !g_atomic_int_dec_and_test (&message->ref_count))
    return;
  g_free (message->exchange);
  g_free (message->routing_key);
  g_bytes_unref (message->properties);
  g_bytes_unref (message->body);
  g_clear_pointer (&message->props, ssq_amqp_properties_free);
  g_free (message);
}

guint64
ssq_broker_message_get_id (SsqBrokerMessage *message)
{
  g_return_val_if_fail (message != NULL, 0);
  return message->id;
}

const char *
ssq_broker_message_get_exchange (SsqBrokerMessage *message)
{
  g_return_val_if_fail (message != NULL, NULL);
  return message->exchange;
}

const char *
ssq_broker_message_get_routing_key (SsqBrokerMessage *message)
{
  g_return_val_if_fail (message != NULL, NULL);
  return message->routing_key;
}

GBytes *
ssq_broker_message_get_properties (SsqBrokerMessage *message)
{
  g_return_val_if_fail (message != NULL, NULL);
  return message->properties;
}

GBytes *
ssq_broker_message_get_body (SsqBrokerMessage *message)
{
  g_return_val_if_fail (message != NULL, NULL);
  return message->body;
}

guint8
ssq_broker_message_get_priority (SsqBrokerMessage *message)
{
  g_return_val_if_fail (message != NULL, 0);
  if (message->props == NULL && !ssq_broker_message_parse (message, NULL))
    return 0;
  return (message->props->flags & SSQ_AMQP_PROP_PRIORITY) ? message->props->priority : 0;
}

gboolean
ssq_broker_message_is_persistent (SsqBrokerMessage *message)
{
  g_return_val_if_fail (message != NULL, FALSE);
  if (message->props == NULL && !ssq_broker_message_parse (message, NULL))
    return FALSE;
  return (message->props->flags & SSQ_AMQP_PROP_DELIVERY_MODE) && message->props->delivery_mode == 2;
}

const char *
ssq_broker_message_get_content_type (SsqBrokerMessage *message)
{
  g_return_val_if_fail (message != NULL, NULL);
  if (message->props == NULL && !ssq_broker_message_parse (message, NULL))
    return NULL;
  return message->props->content_type;
}

/* The expiration property: a decimal count of milliseconds, as RabbitMQ. */
static gboolean
parse_expiration (const char  *text,
                  gint64      *out,
                  GError     **error)
{
  char *end = NULL;
  gint64 v;

  errno = 0;
  v = g_ascii_strtoll (text, &end, 10);
  if (text[0] == '\0' || *end != '\0' || errno != 0 || g_ascii_isspace (text[0]))
    {
      ssq_broker_set_error (error, SSQ_BROKER_ERROR_PRECONDITION_FAILED,
                            "PRECONDITION_FAILED - invalid expiration '%s': no_integer", text);
      return FALSE;
    }
  if (v < 0)
    {
      ssq_broker_set_error (error, SSQ_BROKER_ERROR_PRECONDITION_FAILED,
                            "PRECONDITION_FAILED - invalid expiration '%s': {value_negative,%" G_GINT64_FORMAT "}",
                            text, v);
      return FALSE;
    }
  *out = v;
  return TRUE;
}

/* Parses the properties once: priority, delivery mode, expiration and
 * headers are what routing and queueing read. */
gboolean
ssq_broker_message_parse (SsqBrokerMessage  *message,
                          GError           **error)
{
  g_autoptr(GError) local = NULL;
  gsize len;
  const guint8 *data = g_bytes_get_data (message->properties, &len);
  SsqAmqpProperties *props;

  if (message->props != NULL)
    return TRUE;
  props = ssq_amqp_properties_decode (data, len, &local);
  if (props == NULL)
    {
      ssq_broker_set_error (error, SSQ_BROKER_ERROR_PRECONDITION_FAILED,
                            "PRECONDITION_FAILED - invalid message properties: %s", local->message);
      return FALSE;
    }
  message->expiration_ms = -1;
  if ((props->flags & SSQ_AMQP_PROP_EXPIRATION) && props->expiration != NULL &&
      !parse_expiration (props->expiration, &message->expiration_ms, error))
    {
      ssq_amqp_properties_free (props);
      return FALSE;
    }
  message->props = props;
  return TRUE;
}

/* --------------------------------------------------------- dead letters */

static SsqAmqpValue *
longstr (const char *s)
{
  return ssq_amqp_value_new_string (s);
}

static gboolean
table_has_string (const SsqAmqpTable *table,
                  const char         *name,
                  const char         *value)
{
  g_autofree char *s = ssq_amqp_table_dup_string (table, name);

  return s != NULL && strcmp (s, value) == 0;
}

/* A new x-death entry, its fields sorted by name as RabbitMQ sorts them. */
static SsqAmqpTable *
death_entry (const char *queue,
             const char *reason,
             const char *exchange,
             const char *routing_key,
             const char *original_expiration)
{
  SsqAmqpTable *t = ssq_amqp_table_new ();
  GPtrArray *keys = ssq_amqp_value_array_new ();

  g_ptr_array_add (keys, longstr (routing_key));
  ssq_amqp_table_take (t, "count", ssq_amqp_value_new_integer (SSQ_AMQP_FIELD_I64, 1));
  ssq_amqp_table_take (t, "exchange", longstr (exchange));
  if (original_expiration != NULL)
    ssq_amqp_table_take (t, "original-expiration", longstr (original_expiration));
  ssq_amqp_table_take (t, "queue", longstr (queue));
  ssq_amqp_table_take (t, "reason", longstr (reason));
  ssq_amqp_table_take (t, "routing-keys", ssq_amqp_value_new_array (keys));
  ssq_amqp_table_take (t, "time", ssq_amqp_value_new_timestamp ((guint64) (g_get_real_time () / G_USEC_PER_SEC)));
  return t;
}

/* x-death: the entry of (queue, reason) has its count raised and moves to
 * the front; otherwise a new entry goes in front. */
static void
add_death (SsqAmqpTable *headers,
           const char   *queue,
           const char   *reason,
           const char   *exchange,
           const char   *routing_key,
           const char   *original_expiration)
{
  const SsqAmqpValue *old = ssq_amqp_table_lookup (headers, "x-death");
  GPtrArray *deaths = ssq_amqp_value_array_new ();
  SsqAmqpValue *found = NULL;

  if (old != NULL && old->type == SSQ_AMQP_FIELD_ARRAY)
    for (guint i = 0; i < old->u.array->len; i++)
      {
        const SsqAmqpValue *v = g_ptr_array_index (old->u.array, i);

        if (found == NULL && v->type == SSQ_AMQP_FIELD_TABLE &&
            table_has_string (v->u.table, "queue", queue) &&
            table_has_string (v->u.table, "reason", reason))
          {
            g_autoptr(SsqAmqpTable) entry = ssq_amqp_table_copy (v->u.table);
            gint64 count = 0;

            ssq_amqp_table_lookup_integer (entry, "count", &count);
            ssq_amqp_table_set (entry, "count", ssq_amqp_value_new_integer (SSQ_AMQP_FIELD_I64, count + 1));
            found = ssq_amqp_value_new_table (entry);
          }
        else
          g_ptr_array_add (deaths, ssq_amqp_value_copy (v));
      }
  if (found == NULL)
    {
      g_autoptr(SsqAmqpTable) entry = death_entry (queue, reason, exchange, routing_key,
                                                   original_expiration);
      found = ssq_amqp_value_new_table (entry);
    }
  g_ptr_array_insert (deaths, 0, found);
  ssq_amqp_table_set (headers, "x-death", ssq_amqp_value_new_array (deaths));
  if (ssq_amqp_table_lookup (headers, "x-first-death-exchange") == NULL)
    {
      ssq_amqp_table_take (headers, "x-first-death-exchange", longstr (exchange));
      ssq_amqp_table_take (headers, "x-first-death-queue", longstr (queue));
      ssq_amqp_table_take (headers, "x-first-death-reason", longstr (reason));
    }
}

/**
 * ssq_broker_message_dead_letter:
 * The copy of @message that dead-lettering from @queue for @reason
 * ("rejected", "expired", "maxlen", "delivery_limit") publishes to @dlx:
 * routing key @dlrk or its own, x-death recorded, expiration dropped.
 */
SsqBrokerMessage *
ssq_broker_message_dead_letter (SsqBrokerMessage *message,
                                const char       *queue,
                                const char       *reason,
                                const char       *dlx,
                                const char       *dlrk)
{
  g_autoptr(SsqAmqpProperties) props = NULL;
  g_autoptr(GBytes) encoded = NULL;
  g_autofree char *original_expiration = NULL;
  SsqBrokerMessage *copy;

  if (message->props == NULL && !ssq_broker_message_parse (message, NULL))
    props = ssq_amqp_properties_new ();
  else
    props = ssq_amqp_properties_copy (message->props);
  if (props->flags & SSQ_AMQP_PROP_EXPIRATION)
    {
      original_expiration = g_strdup (props->expiration);
      ssq_amqp_properties_set_string (props, SSQ_AMQP_PROP_EXPIRATION, NULL);
      props->flags &= ~SSQ_AMQP_PROP_EXPIRATION;
    }
  if (props->headers == NULL)
    {
      props->headers = ssq_amqp_table_new ();
      props->flags |= SSQ_AMQP_PROP_HEADERS;
    }
  add_death (props->headers, queue, reason, message->exchange, message->routing_key,
             original_expiration);
  encoded = ssq_amqp_properties_encode (props);
  copy = ssq_broker_message_new (dlx, dlrk != NULL ? dlrk : message->routing_key,
                                 encoded, message->body);
  copy->props = g_steal_pointer (&props);
  return copy;
}

gboolean
ssq_broker_message_died_in (SsqBrokerMessage *message,
                            const char       *queue)
{
  const SsqAmqpValue *deaths;

  if (message->props == NULL || message->props->headers == NULL)
    return FALSE;
  deaths = ssq_amqp_table_lookup (message->props->headers, "x-death");
  if (deaths == NULL || deaths->type != SSQ_AMQP_FIELD_ARRAY)
    return FALSE;
  for (guint i = 0; i < deaths->u.array->len; i++)
    {
      const SsqAmqpValue *v = g_ptr_array_index (deaths->u.array, i);

      /* RabbitMQ breaks a cycle only when no death in it was a rejection:
       * a consumer's decision may change, time never does. */
      if (v->type == SSQ_AMQP_FIELD_TABLE && table_has_string (v->u.table, "queue", queue) &&
          !table_has_string (v->u.table, "reason", "rejected"))
        return TRUE;
    }
  return FALSE;
}
