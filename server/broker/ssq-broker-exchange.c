/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-broker-exchange.c: exchanges, bindings, and routing: direct, fanout,
 * topic (* one word, # zero or more, as RabbitMQ) and headers (x-match
 * all, any, all-with-x, any-with-x), the default exchange, and the special
 * exchanges whose publish handler or binding filter the server supplies. */
#include "ssq-broker-private.h"

#include <string.h>

static const char *const type_names[] = { "direct", "fanout", "topic", "headers" };

const char *
ssq_broker_exchange_type_name (SsqBrokerExchangeType type)
{
  return type_names[type];
}

gboolean
ssq_broker_exchange_type_parse (const char            *name,
                                SsqBrokerExchangeType *out)
{
  for (guint i = 0; i < G_N_ELEMENTS (type_names); i++)
    if (g_strcmp0 (name, type_names[i]) == 0)
      {
        *out = i;
        return TRUE;
      }
  return FALSE;
}

static void
binding_free (SsqBrokerBinding *b)
{
  g_free (b->routing_key);
  g_bytes_unref (b->arguments);
  g_clear_pointer (&b->args_table, ssq_amqp_table_unref);
  g_free (b->binder_id);
  g_strfreev (b->words);
  g_free (b);
}

void
ssq_broker_exchange_free (SsqBrokerExchange *exchange)
{
  if (exchange == NULL)
    return;
  g_hash_table_unref (exchange->by_owner);
  g_ptr_array_unref (exchange->bindings);
  if (exchange->hook_data_free != NULL)
    exchange->hook_data_free (exchange->hook_data);
  g_free (exchange->name);
  g_free (exchange->owner_id);
  g_clear_pointer (&exchange->arguments, g_bytes_unref);
  g_free (exchange);
}

SsqBrokerExchange *
ssq_broker_exchange_insert (SsqBroker             *broker,
                            const char            *name,
                            SsqBrokerExchangeType  type,
                            gboolean               durable,
                            gboolean               auto_delete,
                            gboolean               internal,
                            const char            *owner_id,
                            GBytes                *arguments)
{
  SsqBrokerExchange *x = g_new0 (SsqBrokerExchange, 1);

  x->name = g_strdup (name);
  x->type = type;
  x->durable = durable;
  x->auto_delete = auto_delete;
  x->internal = internal;
  x->owner_id = g_strdup (owner_id);
  x->arguments = arguments != NULL ? g_bytes_ref (arguments) : NULL;
  x->bindings = g_ptr_array_new_with_free_func ((GDestroyNotify) binding_free);
  x->by_owner = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                       (GDestroyNotify) g_ptr_array_unref);
  g_hash_table_replace (broker->exchanges, x->name, x);
  return x;
}

void
ssq_broker_exchanges_init (SsqBroker *broker)
{
  static const struct { const char *name; SsqBrokerExchangeType type; } predeclared[] = {
    { "", SSQ_BROKER_EXCHANGE_DIRECT },
    { "amq.direct", SSQ_BROKER_EXCHANGE_DIRECT },
    { "amq.fanout", SSQ_BROKER_EXCHANGE_FANOUT },
    { "amq.topic", SSQ_BROKER_EXCHANGE_TOPIC },
    { "amq.headers", SSQ_BROKER_EXCHANGE_HEADERS },
    { "amq.match", SSQ_BROKER_EXCHANGE_HEADERS },
  };

  for (guint i = 0; i < G_N_ELEMENTS (predeclared); i++)
    ssq_broker_exchange_insert (broker, predeclared[i].name, predeclared[i].type,
                                TRUE, FALSE, FALSE, NULL, NULL)->reserved = TRUE;
}

SsqBrokerExchange *
ssq_broker_exchange_lookup (SsqBroker  *broker,
                            const char *name)
{
  return g_hash_table_lookup (broker->exchanges, name);
}

gboolean
ssq_broker_exchange_has_bindings (SsqBroker  *broker,
                                  const char *exchange)
{
  SsqBrokerExchange *x = ssq_broker_exchange_lookup (broker, exchange);

  return x != NULL && x->bindings->len > 0;
}

static const char *
owner_key (SsqBrokerQueue *q)
{
  return q->owner_id != NULL ? q->owner_id : "";
}

gboolean
ssq_broker_exchange_has_bindings_of (SsqBroker  *broker,
                                     const char *exchange,
                                     const char *owner_id)
{
  SsqBrokerExchange *x = ssq_broker_exchange_lookup (broker, exchange);

  return x != NULL && owner_id != NULL && g_hash_table_contains (x->by_owner, owner_id);
}

static void
by_owner_add (SsqBrokerExchange *x,
              SsqBrokerBinding  *b)
{
  GPtrArray *mine = g_hash_table_lookup (x->by_owner, owner_key (b->queue));

  if (mine == NULL)
    {
      mine = g_ptr_array_new ();
      g_hash_table_insert (x->by_owner, g_strdup (owner_key (b->queue)), mine);
    }
  g_ptr_array_add (mine, b);
}

static void
by_owner_remove (SsqBrokerExchange *x,
                 SsqBrokerBinding  *b)
{
  GPtrArray *mine = g_hash_table_lookup (x->by_owner, owner_key (b->queue));

  g_assert (mine != NULL);
  g_ptr_array_remove_fast (mine, b);
  if (mine->len == 0)
    g_hash_table_remove (x->by_owner, owner_key (b->queue));
}

static gboolean
reserved_name (const char *name)
{
  return g_str_has_prefix (name, "amq.") || g_str_has_prefix (name, "supersoniq.");
}

static const char *
reserved_prefix (const char *name)
{
  return g_str_has_prefix (name, "amq.") ? "amq.*" : "supersoniq.*";
}

static gboolean
check_name (const char  *kind,
            const char  *name,
            GError     **error)
{
  if (strlen (name) > SSQ_BROKER_NAME_MAX || !g_utf8_validate (name, -1, NULL))
    {
      ssq_broker_set_error (error, SSQ_BROKER_ERROR_PRECONDITION_FAILED,
                            "PRECONDITION_FAILED - invalid %s name", kind);
      return FALSE;
    }
  return TRUE;
}

static gboolean
inequivalent (const char  *arg,
              const char  *name,
              const char  *received,
              const char  *current,
              GError     **error)
{
  ssq_broker_set_error (error, SSQ_BROKER_ERROR_PRECONDITION_FAILED,
                        "PRECONDITION_FAILED - inequivalent arg '%s' for exchange '%s' in vhost '/': "
                        "received '%s' but current is '%s'", arg, name, received, current);
  return FALSE;
}

#define BOOL_TEXT(b) ((b) ? "true" : "false")

gboolean
ssq_broker_exchange_declare (SsqBrokerChannel  *channel,
                             const char        *name,
                             const char        *type,
                             gboolean           passive,
                             gboolean           durable,
                             gboolean           auto_delete,
                             gboolean           internal,
                             GBytes            *arguments,
                             GError           **error)
{
  SsqBroker *broker;
  SsqBrokerExchange *x;
  SsqBrokerExchangeType t;

  g_return_val_if_fail (channel != NULL && !channel->closed && name != NULL, FALSE);
  broker = channel->broker;

  if (!check_name ("exchange", name, error))
    return FALSE;
  if (name[0] == '\0' && !passive)
    {
      ssq_broker_set_error (error, SSQ_BROKER_ERROR_ACCESS_REFUSED,
                            "ACCESS_REFUSED - operation not permitted on the default exchange");
      return FALSE;
    }
  x = ssq_broker_exchange_lookup (broker, name);
  if (passive)
    {
      if (x == NULL)
        ssq_broker_set_error (error, SSQ_BROKER_ERROR_NOT_FOUND,
                              "NOT_FOUND - no exchange '%s' in vhost '/'", name);
      return x != NULL;
    }
  if (!ssq_broker_exchange_type_parse (type, &t))
    {
      ssq_broker_set_error (error, SSQ_BROKER_ERROR_COMMAND_INVALID,
                            "COMMAND_INVALID - unknown exchange type '%s'", type != NULL ? type : "");
      return FALSE;
    }
  if (x != NULL)
    {
      if (x->type != t)
        return inequivalent ("type", name, type, ssq_broker_exchange_type_name (x->type), error);
      if (x->durable != !!durable)
        return inequivalent ("durable", name, BOOL_TEXT (durable), BOOL_TEXT (x->durable), error);
      if (x->auto_delete != !!auto_delete)
        return inequivalent ("auto_delete", name, BOOL_TEXT (auto_delete), BOOL_TEXT (x->auto_delete), error);
      if (x->internal != !!internal)
        return inequivalent ("internal", name, BOOL_TEXT (internal), BOOL_TEXT (x->internal), error);
      return TRUE;
    }
  if (reserved_name (name))
    {
      ssq_broker_set_error (error, SSQ_BROKER_ERROR_ACCESS_REFUSED,
                            "ACCESS_REFUSED - exchange name '%s' contains reserved prefix '%s'",
                            name, reserved_prefix (name));
      return FALSE;
    }
  if (broker->n_exchanges >= broker->limits.max_exchanges)
    {
      ssq_broker_set_error (error, SSQ_BROKER_ERROR_RESOURCE_ERROR,
                            "RESOURCE_ERROR - cannot declare exchange '%s': exchange limit (%u) is reached",
                            name, broker->limits.max_exchanges);
      return FALSE;
    }
  x = ssq_broker_exchange_insert (broker, name, t, durable, auto_delete, internal,
                                  channel->connection->principal.user_id,
                                  arguments != NULL && g_bytes_get_size (arguments) > 0 ? arguments : NULL);
  broker->n_exchanges++;
  if (durable)
    ssq_broker_journal_exchange (broker, x, TRUE);
  return TRUE;
}

static void
exchange_remove (SsqBroker         *broker,
                 SsqBrokerExchange *x)
{
  while (x->bindings->len > 0)
    ssq_broker_binding_remove (broker, g_ptr_array_index (x->bindings, x->bindings->len - 1), TRUE);
  if (x->durable)
    ssq_broker_journal_exchange (broker, x, FALSE);
  broker->n_exchanges--;
  g_hash_table_remove (broker->exchanges, x->name);
}

gboolean
ssq_broker_exchange_delete (SsqBrokerChannel  *channel,
                            const char        *name,
                            gboolean           if_unused,
                            GError           **error)
{
  SsqBroker *broker;
  SsqBrokerExchange *x;

  g_return_val_if_fail (channel != NULL && !channel->closed && name != NULL, FALSE);
  broker = channel->broker;

  if (name[0] == '\0')
    {
      ssq_broker_set_error (error, SSQ_BROKER_ERROR_ACCESS_REFUSED,
                            "ACCESS_REFUSED - operation not permitted on the default exchange");
      return FALSE;
    }
  x = ssq_broker_exchange_lookup (broker, name);
  /* RabbitMQ 3.10 deletes idempotently: an absent exchange is no error. */
  if (x == NULL)
    return TRUE;
  if (x->reserved)
    {
      ssq_broker_set_error (error, SSQ_BROKER_ERROR_ACCESS_REFUSED,
                            "ACCESS_REFUSED - operation not permitted on exchange '%s' in vhost '/'", name);
      return FALSE;
    }
  if (!ssq_broker_may_manage (channel->connection, x->owner_id))
    {
      ssq_broker_set_error (error, SSQ_BROKER_ERROR_ACCESS_REFUSED,
                            "ACCESS_REFUSED - access to exchange '%s' in vhost '/' refused for user '%s'",
                            name, channel->connection->principal.username);
      return FALSE;
    }
  if (if_unused && x->bindings->len > 0)
    {
      ssq_broker_set_error (error, SSQ_BROKER_ERROR_PRECONDITION_FAILED,
                            "PRECONDITION_FAILED - exchange '%s' in vhost '/' in use", name);
      return FALSE;
    }
  exchange_remove (broker, x);
  return TRUE;
}

/* ------------------------------------------------------------- bindings */

static gboolean
args_equal (GBytes *a,
            GBytes *b)
{
  return g_bytes_equal (a, b);
}

static GBytes *
args_or_empty (GBytes *arguments)
{
  return arguments != NULL ? g_bytes_ref (arguments) : g_bytes_new_static ("", 0);
}

static SsqBrokerBinding *
binding_find (SsqBrokerExchange *x,
              SsqBrokerQueue    *q,
              const char        *routing_key,
              GBytes            *arguments)
{
  for (guint i = 0; i < q->bindings->len; i++)
    {
      SsqBrokerBinding *b = g_ptr_array_index (q->bindings, i);

      if (b->exchange == x && strcmp (b->routing_key, routing_key) == 0 &&
          args_equal (b->arguments, arguments))
        return b;
    }
  return NULL;
}

static void
binder_count (SsqBroker  *broker,
              const char *binder_id,
              int         delta)
{
  guint *count;

  if (binder_id == NULL)
    return;
  count = g_hash_table_lookup (broker->bindings_per_user, binder_id);
  if (count == NULL)
    {
      g_assert (delta > 0);
      count = g_new0 (guint, 1);
      g_hash_table_insert (broker->bindings_per_user, g_strdup (binder_id), count);
    }
  *count += delta;
  if (*count == 0)
    g_hash_table_remove (broker->bindings_per_user, binder_id);
}

SsqBrokerBinding *
ssq_broker_binding_add (SsqBroker          *broker,
                        SsqBrokerExchange  *x,
                        SsqBrokerQueue     *q,
                        const char         *routing_key,
                        GBytes             *arguments,
                        const char         *binder_id,
                        gboolean           *out_new,
                        GError            **error)
{
  g_autoptr(GBytes) args = args_or_empty (arguments);
  g_autoptr(SsqAmqpTable) table = NULL;
  SsqBrokerBinding *b = binding_find (x, q, routing_key, args);

  *out_new = FALSE;
  if (b != NULL)
    return b;
  if (broker->n_bindings >= broker->limits.max_bindings)
    {
      ssq_broker_set_error (error, SSQ_BROKER_ERROR_RESOURCE_ERROR,
                            "RESOURCE_ERROR - cannot bind queue '%s': binding limit (%u) is reached",
                            q->name, broker->limits.max_bindings);
      return NULL;
    }
  if (g_bytes_get_size (args) > 0)
    {
      g_autoptr(GError) local = NULL;
      gsize len;
      const guint8 *data = g_bytes_get_data (args, &len);

      table = ssq_amqp_table_decode (data, len, &local);
      if (table == NULL)
        {
          ssq_broker_set_error (error, SSQ_BROKER_ERROR_PRECONDITION_FAILED,
                                "PRECONDITION_FAILED - invalid binding arguments: %s", local->message);
          return NULL;
        }
    }
  b = g_new0 (SsqBrokerBinding, 1);
  b->exchange = x;
  b->queue = q;
  b->routing_key = g_strdup (routing_key);
  b->arguments = g_steal_pointer (&args);
  b->args_table = g_steal_pointer (&table);
  b->binder_id = g_strdup (binder_id);
  if (x->filter != NULL)
    ssq_broker_queue_mark_private (q);
  if (x->type == SSQ_BROKER_EXCHANGE_TOPIC)
    b->words = routing_key[0] == '\0' ? g_new0 (char *, 1) : g_strsplit (routing_key, ".", -1);
  g_ptr_array_add (x->bindings, b);
  g_ptr_array_add (q->bindings, b);
  by_owner_add (x, b);
  broker->n_bindings++;
  binder_count (broker, binder_id, +1);
  *out_new = TRUE;
  return b;
}

/* Removes @binding everywhere; an auto-delete exchange left without
 * bindings goes too. */
void
ssq_broker_binding_remove (SsqBroker        *broker,
                           SsqBrokerBinding *binding,
                           gboolean          journal)
{
  SsqBrokerExchange *x = binding->exchange;

  if (journal && x->durable && ssq_broker_queue_persisted (binding->queue))
    ssq_broker_journal_binding (broker, binding, FALSE);
  g_ptr_array_remove (binding->queue->bindings, binding);
  broker->n_bindings--;
  binder_count (broker, binding->binder_id, -1);
  by_owner_remove (x, binding);
  g_ptr_array_remove (x->bindings, binding);   /* frees it */
  if (x->auto_delete && x->bindings->len == 0 && !x->reserved)
    exchange_remove (broker, x);
}

/* One user may not take every binding the server has room for: a new
 * binding counts against its binder (what the store loads is kept whatever
 * the bound, as a lowered bound must not drop durable bindings). */
static gboolean
check_binder_room (SsqBrokerChannel  *channel,
                   SsqBrokerExchange *x,
                   SsqBrokerQueue    *q,
                   const char        *routing_key,
                   GBytes            *arguments,
                   GError           **error)
{
  SsqBroker *broker = channel->broker;
  g_autoptr(GBytes) args = args_or_empty (arguments);
  const guint *mine = g_hash_table_lookup (broker->bindings_per_user,
                                           channel->connection->principal.user_id);

  if (mine == NULL || *mine < broker->limits.max_bindings_per_user ||
      binding_find (x, q, routing_key, args) != NULL)
    return TRUE;
  ssq_broker_set_error (error, SSQ_BROKER_ERROR_RESOURCE_ERROR,
                        "RESOURCE_ERROR - cannot bind queue '%s': user '%s' has reached the binding "
                        "limit (%u)", q->name, channel->connection->principal.username,
                        broker->limits.max_bindings_per_user);
  return FALSE;
}

static gboolean
check_bind (SsqBrokerChannel   *channel,
            const char         *exchange,
            SsqBrokerQueue    **out_queue,
            SsqBrokerExchange **out_exchange,
            const char         *queue,
            GError            **error)
{
  if (exchange[0] == '\0')
    {
      ssq_broker_set_error (error, SSQ_BROKER_ERROR_ACCESS_REFUSED,
                            "ACCESS_REFUSED - operation not permitted on the default exchange");
      return FALSE;
    }
  *out_queue = ssq_broker_queue_find (channel, queue, error);
  if (*out_queue == NULL)
    return FALSE;
  *out_exchange = ssq_broker_exchange_lookup (channel->broker, exchange);
  if (*out_exchange == NULL)
    {
      ssq_broker_set_error (error, SSQ_BROKER_ERROR_NOT_FOUND,
                            "NOT_FOUND - no exchange '%s' in vhost '/'", exchange);
      return FALSE;
    }
  return TRUE;
}

gboolean
ssq_broker_queue_bind (SsqBrokerChannel  *channel,
                       const char        *queue,
                       const char        *exchange,
                       const char        *routing_key,
                       GBytes            *arguments,
                       GError           **error)
{
  SsqBrokerQueue *q;
  SsqBrokerExchange *x;
  SsqBrokerBinding *b;
  gboolean is_new;

  g_return_val_if_fail (channel != NULL && !channel->closed, FALSE);
  g_return_val_if_fail (queue != NULL && exchange != NULL, FALSE);

  if (!check_bind (channel, exchange, &q, &x, queue, error))
    return FALSE;
  /* A filtered exchange (supersoniq.events) passes a binding the events of
   * one user: into that user's own queue only, which only they read. */
  if (x->filter != NULL && g_strcmp0 (q->owner_id, channel->connection->principal.user_id) != 0)
    {
      ssq_broker_set_error (error, SSQ_BROKER_ERROR_ACCESS_REFUSED,
                            "ACCESS_REFUSED - only the owner of queue '%s' in vhost '/' may bind it to "
                            "exchange '%s'", q->name, x->name);
      return FALSE;
    }
  if (!check_binder_room (channel, x, q, routing_key != NULL ? routing_key : "", arguments, error))
    return FALSE;
  b = ssq_broker_binding_add (channel->broker, x, q, routing_key != NULL ? routing_key : "",
                              arguments, channel->connection->principal.user_id, &is_new, error);
  if (b == NULL)
    return FALSE;
  if (is_new && x->durable && ssq_broker_queue_persisted (q))
    ssq_broker_journal_binding (channel->broker, b, TRUE);
  return TRUE;
}

gboolean
ssq_broker_queue_unbind (SsqBrokerChannel  *channel,
                         const char        *queue,
                         const char        *exchange,
                         const char        *routing_key,
                         GBytes            *arguments,
                         GError           **error)
{
  g_autoptr(GBytes) args = args_or_empty (arguments);
  SsqBrokerQueue *q;
  SsqBrokerExchange *x;
  SsqBrokerBinding *b;

  g_return_val_if_fail (channel != NULL && !channel->closed, FALSE);
  g_return_val_if_fail (queue != NULL && exchange != NULL, FALSE);

  if (!check_bind (channel, exchange, &q, &x, queue, error))
    return FALSE;
  b = binding_find (x, q, routing_key != NULL ? routing_key : "", args);
  if (b != NULL)
    ssq_broker_binding_remove (channel->broker, b, TRUE);
  return TRUE;
}

/* -------------------------------------------------------------- routing */

static gboolean
topic_match_words (char       **pattern,
                   char       **words)
{
  if (*pattern == NULL)
    return *words == NULL;
  if (strcmp (*pattern, "#") == 0)
    {
      /* # takes zero words, or one and stays. */
      if (topic_match_words (pattern + 1, words))
        return TRUE;
      return *words != NULL && topic_match_words (pattern, words + 1);
    }
  if (*words == NULL)
    return FALSE;
  if (strcmp (*pattern, "*") != 0 && strcmp (*pattern, *words) != 0)
    return FALSE;
  return topic_match_words (pattern + 1, words + 1);
}

/* An empty routing key has no words (so "#" matches it and "*" does not),
 * and "a." has two, the second empty: RabbitMQ's split. */
gboolean
ssq_broker_topic_match (char       **pattern,
                        const char  *routing_key)
{
  g_auto(GStrv) words = routing_key[0] == '\0' ? g_new0 (char *, 1) : g_strsplit (routing_key, ".", -1);

  return topic_match_words (pattern, words);
}

/* Values compare as RabbitMQ's Erlang terms do: integers of any width by
 * value, strings and byte arrays by their bytes. */
static gboolean
value_match (const SsqAmqpValue *want,
             const SsqAmqpValue *have)
{
  gint64 a, b;

  if (ssq_amqp_value_get_integer (want, &a) && ssq_amqp_value_get_integer (have, &b))
    return a == b;
  if ((want->type == SSQ_AMQP_FIELD_LONGSTR || want->type == SSQ_AMQP_FIELD_BYTES) &&
      (have->type == SSQ_AMQP_FIELD_LONGSTR || have->type == SSQ_AMQP_FIELD_BYTES))
    return g_bytes_equal (want->u.bytes, have->u.bytes);
  return ssq_amqp_value_equal (want, have);
}

gboolean
ssq_broker_headers_match (const SsqAmqpTable *binding_args,
                          const SsqAmqpTable *headers)
{
  g_autofree char *mode = binding_args != NULL ? ssq_amqp_table_dup_string (binding_args, "x-match") : NULL;
  gboolean any = mode != NULL && g_str_has_prefix (mode, "any");
  gboolean with_x = mode != NULL && g_str_has_suffix (mode, "-with-x");
  guint n = binding_args != NULL ? ssq_amqp_table_size (binding_args) : 0;

  for (guint i = 0; i < n; i++)
    {
      const char *key = ssq_amqp_table_name_at (binding_args, i);
      const SsqAmqpValue *want = ssq_amqp_table_value_at (binding_args, i);
      const SsqAmqpValue *have;
      gboolean ok;

      if (strcmp (key, "x-match") == 0 || (!with_x && g_str_has_prefix (key, "x-")))
        continue;
      have = headers != NULL ? ssq_amqp_table_lookup (headers, key) : NULL;
      ok = have != NULL && (want->type == SSQ_AMQP_FIELD_VOID || value_match (want, have));
      if (any && ok)
        return TRUE;
      if (!any && !ok)
        return FALSE;
    }
  /* all: every key matched (an empty binding matches everything); any:
   * none did (an empty binding matches nothing, as RabbitMQ). */
  return !any;
}

static gboolean
binding_matches (SsqBrokerBinding *b,
                 SsqBrokerMessage *m)
{
  switch (b->exchange->type)
    {
    case SSQ_BROKER_EXCHANGE_DIRECT:
      return strcmp (b->routing_key, m->routing_key) == 0;
    case SSQ_BROKER_EXCHANGE_FANOUT:
      return TRUE;
    case SSQ_BROKER_EXCHANGE_TOPIC:
      return ssq_broker_topic_match (b->words, m->routing_key);
    case SSQ_BROKER_EXCHANGE_HEADERS:
      return ssq_broker_headers_match (b->args_table, m->props != NULL ? m->props->headers : NULL);
    default:
      g_assert_not_reached ();
    }
}

GPtrArray *
ssq_broker_route (SsqBroker         *broker,
                  SsqBrokerExchange *x,
                  SsqBrokerMessage  *m)
{
  GPtrArray *out = g_ptr_array_new ();

  if (x->name[0] == '\0')
    {
      SsqBrokerQueue *q = g_hash_table_lookup (broker->queues, m->routing_key);

      if (q != NULL)
        g_ptr_array_add (out, q);
      return out;
    }
  for (guint i = 0; i < x->bindings->len; i++)
    {
      SsqBrokerBinding *b = g_ptr_array_index (x->bindings, i);

      broker->bindings_examined++;
      if (!binding_matches (b, m))
        continue;
      /* Whose events a queue gets: its owner's, who alone reads it (a
       * binding another user made before that rule passes nothing of theirs). */
      if (x->filter != NULL && !x->filter (b->queue->owner_id, m, x->hook_data))
        continue;
      /* A queue bound twice gets the message once. */
      if (!g_ptr_array_find (out, b->queue, NULL))
        g_ptr_array_add (out, b->queue);
    }
  return out;
}

GPtrArray *
ssq_broker_route_owners (SsqBroker          *broker,
                         SsqBrokerExchange  *x,
                         SsqBrokerMessage   *m,
                         const char * const *owner_ids,
                         guint               n_owners)
{
  GPtrArray *out = g_ptr_array_new ();

  for (guint i = 0; i < n_owners; i++)
    {
      GPtrArray *mine = g_hash_table_lookup (x->by_owner, owner_ids[i]);

      for (guint j = 0; mine != NULL && j < mine->len; j++)
        {
          SsqBrokerBinding *b = g_ptr_array_index (mine, j);

          broker->bindings_examined++;
          if (binding_matches (b, m) && !g_ptr_array_find (out, b->queue, NULL))
            g_ptr_array_add (out, b->queue);
        }
    }
  return out;
}

void
ssq_broker_add_special_exchange (SsqBroker               *broker,
                                 const char              *name,
                                 SsqBrokerExchangeType    type,
                                 SsqBrokerPublishHandler  handler,
                                 SsqBrokerBindingFilter   filter,
                                 gpointer                 user_data,
                                 GDestroyNotify           user_data_free)
{
  SsqBrokerExchange *x;

  g_return_if_fail (broker != NULL && name != NULL);

  /* A durable one of that name from the store keeps its bindings. */
  x = ssq_broker_exchange_lookup (broker, name);
  if (x == NULL)
    x = ssq_broker_exchange_insert (broker, name, type, TRUE, FALSE, FALSE, NULL, NULL);
  else if (!x->reserved)
    broker->n_exchanges--;
  x->type = type;
  x->reserved = TRUE;
  if (x->hook_data_free != NULL)
    x->hook_data_free (x->hook_data);
  x->handler = handler;
  x->filter = filter;
  /* Its bindings came from the store before it had its filter. */
  for (guint i = 0; filter != NULL && i < x->bindings->len; i++)
    ssq_broker_queue_mark_private (((SsqBrokerBinding *) g_ptr_array_index (x->bindings, i))->queue);
  x->hook_data = user_data;
  x->hook_data_free = user_data_free;
  /* Its bindings must survive a restart: the row says so. */
  ssq_broker_journal_exchange (broker, x, TRUE);
}
