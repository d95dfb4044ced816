/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-queues.c: what the REST and WebSocket queue front ends share:
 * messages between JSON and the broker's AMQP form (properties, field
 * tables), broker errors as protocol errors, queues as JSON and as
 * /metrics lines. */
#include "ssq-server-queues.h"
#include "ssq-json-names.h"
#include "ssq-json-reader.h"
#include "amqp/ssq-amqp-table.h"

#include <math.h>
#include <string.h>

/* ---- Errors ------------------------------------------------------------ */

GError *
ssq_server_queues_error (const GError *error)
{
  GError *out;
  SsqError code;

  if (error->domain != SSQ_BROKER_ERROR)
    return g_error_copy (error);
  switch (error->code)
    {
    case SSQ_BROKER_ERROR_NOT_FOUND:
    case SSQ_BROKER_ERROR_NO_ROUTE:
      code = SSQ_ERROR_NOT_FOUND;
      break;
    case SSQ_BROKER_ERROR_ACCESS_REFUSED:
    case SSQ_BROKER_ERROR_RESOURCE_LOCKED:
      code = SSQ_ERROR_FORBIDDEN;
      break;
    case SSQ_BROKER_ERROR_PRECONDITION_FAILED:
      code = SSQ_ERROR_CONFLICT;
      break;
    case SSQ_BROKER_ERROR_CONTENT_TOO_LARGE:
      code = SSQ_ERROR_TOO_LARGE;
      break;
    case SSQ_BROKER_ERROR_RESOURCE_ERROR:
      code = ssq_broker_error_is_memory_full (error) ? SSQ_ERROR_QUOTA_EXCEEDED
                                                     : SSQ_ERROR_RATE_LIMITED;
      break;
    case SSQ_BROKER_ERROR_COMMAND_INVALID:
    case SSQ_BROKER_ERROR_NOT_ALLOWED:
      code = SSQ_ERROR_INVALID;
      break;
    case SSQ_BROKER_ERROR_NOT_IMPLEMENTED:
      code = SSQ_ERROR_NOT_IMPLEMENTED;
      break;
    case SSQ_BROKER_ERROR_CONNECTION_FORCED:
      code = SSQ_ERROR_UNAVAILABLE;
      break;
    default:
      code = SSQ_ERROR_INTERNAL;
      break;
    }
  out = g_error_new_literal (SSQ_ERROR, code, error->message);
  /* A bound reached frees up as others ack or delete: try again soon. */
  if (code == SSQ_ERROR_RATE_LIMITED)
    ssq_error_set_retry_after (out, 1000);
  return out;
}

SsqBroker *
ssq_server_queues_broker (SsqServer  *server,
                          GError    **error)
{
  if (server->broker == NULL)
    g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_FEATURE_DISABLED,
                         "Queues are switched off on this server ([features] broker)");
  return server->broker;
}

/* [broker] max_unacked_per_channel. */
guint
ssq_server_queues_max_unacked (SsqServer *server)
{
  return server->config->broker_max_unacked_per_channel;
}

gboolean
ssq_server_queues_principal (SsqServer           *server,
                             const char          *user_id,
                             SsqBrokerPrincipal  *out,
                             GError             **error)
{
  g_autoptr(SsqUserRow) user = ssq_server_store_user_by_id (server->store, user_id, NULL);

  *out = (SsqBrokerPrincipal) { 0 };
  if (user == NULL || ssq_user_row_is_deleted (user))
    {
      g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_UNAUTHORIZED, "No such account");
      return FALSE;
    }
  out->user_id = g_strdup (user->id);
  out->username = g_strdup (user->username);
  out->server_admin = user->server_admin;
  return TRUE;
}

void
ssq_server_queues_principal_clear (SsqBrokerPrincipal *principal)
{
  g_free ((char *) principal->user_id);
  g_free ((char *) principal->username);
  *principal = (SsqBrokerPrincipal) { 0 };
}

/* ---- Publishing -------------------------------------------------------- */

/* JSON header values as AMQP field values: strings as long strings,
 * integers as 32-bit when they fit (what pika and RabbitMQ write) or 64,
 * other numbers as doubles, booleans, null as void. The codec has checked
 * the types. */
static SsqAmqpValue *
header_value (JsonNode *node)
{
  gint64 v;

  if (JSON_NODE_HOLDS_NULL (node))
    return ssq_amqp_value_new_void ();
  switch (json_node_get_value_type (node))
    {
    case G_TYPE_STRING:
      return ssq_amqp_value_new_string (json_node_get_string (node));
    case G_TYPE_INT64:
      v = json_node_get_int (node);
      return ssq_amqp_value_new_integer (v >= G_MININT32 && v <= G_MAXINT32
                                         ? SSQ_AMQP_FIELD_I32 : SSQ_AMQP_FIELD_I64, v);
    case G_TYPE_BOOLEAN:
      return ssq_amqp_value_new_boolean (json_node_get_boolean (node));
    default:
      return ssq_amqp_value_new_double (json_node_get_double (node));
    }
}

static SsqAmqpTable *
headers_table (JsonObject *headers)
{
  SsqAmqpTable *table = ssq_amqp_table_new ();
  g_autoptr(GList) names = json_object_get_members (headers);

  /* In the order given (json-glib's iterator is a hash table's). */
  for (GList *l = names; l != NULL; l = l->next)
    ssq_amqp_table_take (table, l->data,
                         header_value (json_object_get_member (headers, l->data)));
  return table;
}

/* g_base64_decode () takes anything: the alphabet, then at most two '='
 * at the end, in groups of four. */
static gboolean
is_base64 (const char *text)
{
  gsize len = strlen (text);
  guint pad = 0;

  if (len % 4 != 0)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    {
      if (text[i] == '=')
        {
          if (i + 2 < len)
            return FALSE;
          pad++;
        }
      else if (pad > 0 || (!g_ascii_isalnum (text[i]) && text[i] != '+' && text[i] != '/'))
        return FALSE;
    }
  return TRUE;
}

static GBytes *
publish_body (const SsqWireQueuePublish  *publish,
              GError                    **error)
{
  guchar *data;
  gsize len;

  if (publish->body != NULL)
    return g_bytes_new (publish->body, strlen (publish->body));
  if (!is_base64 (publish->body_base64))
    {
      g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_INVALID,
                           "Field \"body_base64\" is not base64");
      return NULL;
    }
  if (publish->body_base64[0] == '\0')
    return g_bytes_new (NULL, 0);
  data = g_base64_decode (publish->body_base64, &len);
  return g_bytes_new_take (data, len);
}

static GBytes *
publish_properties (const SsqWireQueuePublish *publish)
{
  g_autoptr(SsqAmqpProperties) props = ssq_amqp_properties_new ();

  if (publish->content_type != NULL)
    ssq_amqp_properties_set_string (props, SSQ_AMQP_PROP_CONTENT_TYPE, publish->content_type);
  if (publish->headers != NULL)
    {
      props->headers = headers_table (publish->headers);
      props->flags |= SSQ_AMQP_PROP_HEADERS;
    }
  props->delivery_mode = publish->persistent ? 2 : 1;
  props->flags |= SSQ_AMQP_PROP_DELIVERY_MODE;
  if (publish->priority >= 0)
    {
      props->priority = (guint8) publish->priority;
      props->flags |= SSQ_AMQP_PROP_PRIORITY;
    }
  if (publish->correlation_id != NULL)
    ssq_amqp_properties_set_string (props, SSQ_AMQP_PROP_CORRELATION_ID, publish->correlation_id);
  if (publish->reply_to != NULL)
    ssq_amqp_properties_set_string (props, SSQ_AMQP_PROP_REPLY_TO, publish->reply_to);
  if (publish->ttl_ms >= 0)
    {
      g_autofree char *ttl = g_strdup_printf ("%" G_GINT64_FORMAT, publish->ttl_ms);

      ssq_amqp_properties_set_string (props, SSQ_AMQP_PROP_EXPIRATION, ttl);
    }
  if (publish->message_id != NULL)
    ssq_amqp_properties_set_string (props, SSQ_AMQP_PROP_MESSAGE_ID, publish->message_id);
  return ssq_amqp_properties_encode (props);
}

SsqBrokerMessage *
ssq_server_queues_message_new (SsqBroker                  *broker,
                               const char                 *queue,
                               const SsqWireQueuePublish  *publish,
                               GError                    **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GBytes) body = publish_body (publish, error);
  g_autoptr(GBytes) properties = NULL;

  if (body == NULL)
    return NULL;
  if (!ssq_broker_check_body_size (broker, g_bytes_get_size (body), &local_error))
    {
      /* 406 here is the size bound: too large, not a conflict. */
      if (g_error_matches (local_error, SSQ_BROKER_ERROR, SSQ_BROKER_ERROR_PRECONDITION_FAILED))
        g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_TOO_LARGE, local_error->message);
      else
        g_propagate_error (error, ssq_server_queues_error (local_error));
      return NULL;
    }
  properties = publish_properties (publish);
  return ssq_broker_message_new ("", queue, properties, body);
}

GError *
ssq_server_queues_outcome_error (const char              *queue,
                                 SsqBrokerPublishOutcome  outcome,
                                 const GError            *error)
{
  switch (outcome)
    {
    case SSQ_BROKER_PUBLISH_ACK:
      return NULL;
    case SSQ_BROKER_PUBLISH_RETURN:
      /* Published mandatory to the default exchange: no such queue. */
      return g_error_new (SSQ_ERROR, SSQ_ERROR_NOT_FOUND, "NOT_FOUND - no queue '%s' in vhost '/'",
                          queue);
    case SSQ_BROKER_PUBLISH_NACK:
      if (error != NULL && error->domain == SSQ_BROKER_ERROR &&
          error->code == SSQ_BROKER_ERROR_INTERNAL_ERROR)
        return ssq_server_queues_error (error);
      {
        /* A bound reached, as the other 429s: it frees as others take. */
        GError *full = g_error_new (SSQ_ERROR, SSQ_ERROR_RATE_LIMITED,
                                    "Queue '%s' is full (max_length with overflow reject-publish)",
                                    queue);

        ssq_error_set_retry_after (full, 1000);
        return full;
      }
    case SSQ_BROKER_PUBLISH_LATER:
    case SSQ_BROKER_PUBLISH_CHANNEL_ERROR:
    default:
      return error != NULL ? ssq_server_queues_error (error)
                           : g_error_new_literal (SSQ_ERROR, SSQ_ERROR_INTERNAL,
                                                  "The message was refused");
    }
}

/* ---- Messages taken ---------------------------------------------------- */

/* What one message's headers show over REST and WebSocket. A publisher
 * may fill a frame (128 KiB) with fields: 11 tables of 1,024 names, or
 * 100,000 one-byte void values, rendered for each of the 100 messages
 * one take may return (3.4 s of the main loop for names made to share
 * table slots). AMQP consumers get the headers whole. */
#define HEADER_TABLE_NAMES_MAX 256
#define HEADER_NAMES_MAX 512
#define HEADER_VALUES_MAX 2048

static JsonNode *value_json (const SsqAmqpValue *value, guint depth, SsqJsonBudget *left);

static JsonNode *
typed_json (const char *type,
            JsonNode   *value)
{
  g_autoptr(JsonObject) o = json_object_new ();

  json_object_set_string_member (o, "type", type);
  json_object_set_member (o, "value", value);
  return json_node_init_object (json_node_alloc (), o);
}

static JsonNode *
bytes_json (const char *type,
            GBytes     *bytes)
{
  gsize len;
  const char *data = g_bytes_get_data (bytes, &len);
  g_autofree char *b64 = g_base64_encode ((const guchar *) data, len);

  return typed_json (type, json_node_init_string (json_node_alloc (), b64));
}

/* A field table as a JSON object, its values at @depth, of its first names
 * while @left lasts. A publisher may make names share one hash
 * (ssq-json-names.h): json-glib would compare each with all the others,
 * 197 ms for a table of 4,096 (within one frame). Past the fourth name of
 * one hash, names are left out: no table of chance names has that many. */
static JsonNode *
table_json (const SsqAmqpTable *table,
            guint               depth,
            SsqJsonBudget      *left)
{
  g_autoptr(JsonObject) o = json_object_new ();
  g_auto(SsqJsonNames) names = { 0 };

  for (guint i = 0; i < ssq_amqp_table_size (table) && left->members > 0 && left->values > 0 &&
                  json_object_get_size (o) < left->object_members; i++)
    {
      const char *name = ssq_amqp_table_name_at (table, i);
      g_autofree char *valid = g_utf8_make_valid (name, -1);

      /* Lookups find the first of a name, as RabbitMQ: so does JSON. */
      if (ssq_json_names_add (&names, valid) && !json_object_has_member (o, valid))
        {
          left->members--;
          json_object_set_member (o, valid, value_json (ssq_amqp_table_value_at (table, i),
                                                        depth, left));
        }
    }
  return json_node_init_object (json_node_alloc (), o);
}

/* A float or double as a JSON number where JSON has one: not for NaN and
 * the infinities, nor for the values json-glib 1.6 would write with an
 * exponent and no point ("1e+20.0", "1e-10.0": not JSON). Those come as
 * {"type": @type, "value": "nan" | "inf" | "-inf" | "1e+20" | …}; a NaN
 * is "nan" whatever its sign bit. */
static JsonNode *
float_json (const char *type,
            double      x)
{
  char text[G_ASCII_DTOSTR_BUF_SIZE];

  /* What json-glib writes, before it appends ".0" to a text without '.'. */
  g_ascii_dtostr (text, sizeof text, x);
  if (isfinite (x) && (strchr (text, '.') != NULL || strchr (text, 'e') == NULL))
    return json_node_init_double (json_node_alloc (), x);
  return typed_json (type, json_node_init_string (json_node_alloc (), isnan (x) ? "nan" : text));
}

/* AMQP field values as JSON: what JSON has as itself (booleans, numbers,
 * UTF-8 strings, arrays, tables as objects, void as null), the rest as
 * {"type","value"}: "bytes" and "longstr" (not UTF-8) in base64,
 * "timestamp" in seconds, "decimal" as {"scale","value"}. @depth counts as
 * the codec does (the headers' own values at 0), which refuses containers
 * at SSQ_AMQP_TABLE_MAX_DEPTH; so does this (it started two levels deeper,
 * and showed the last two levels the codec takes as null). Each value
 * takes one of @left's; past them, arrays and tables end early. */
static JsonNode *
value_json (const SsqAmqpValue *v,
            guint               depth,
            SsqJsonBudget      *left)
{
  JsonNode *node = json_node_alloc ();
  gint64 i;

  if (left->values > 0)
    left->values--;
  if (depth > SSQ_AMQP_TABLE_MAX_DEPTH)
    return json_node_init_null (node);
  if (ssq_amqp_value_get_integer (v, &i))
    return json_node_init_int (node, i);
  switch (v->type)
    {
    case SSQ_AMQP_FIELD_BOOLEAN:
      return json_node_init_boolean (node, v->u.boolean);
    case SSQ_AMQP_FIELD_FLOAT:
      json_node_free (node);
      return float_json ("float", v->u.f32);
    case SSQ_AMQP_FIELD_DOUBLE:
      json_node_free (node);
      return float_json ("double", v->u.f64);
    case SSQ_AMQP_FIELD_LONGSTR:
      {
        gsize len;
        const char *data = g_bytes_get_data (v->u.bytes, &len);

        if (len == 0 || (g_utf8_validate (data, len, NULL) && memchr (data, '\0', len) == NULL))
          {
            g_autofree char *s = g_strndup (len > 0 ? data : "", len);   /* empty: data may be NULL */

            return json_node_init_string (node, s);
          }
        json_node_free (node);
        return bytes_json ("longstr", v->u.bytes);
      }
    case SSQ_AMQP_FIELD_BYTES:
      json_node_free (node);
      return bytes_json ("bytes", v->u.bytes);
    case SSQ_AMQP_FIELD_TIMESTAMP:
      json_node_free (node);
      return typed_json ("timestamp", json_node_init_int (json_node_alloc (),
                                                          (gint64) v->u.timestamp));
    case SSQ_AMQP_FIELD_DECIMAL:
      {
        g_autoptr(JsonObject) d = json_object_new ();

        json_object_set_int_member (d, "scale", v->u.decimal.scale);
        json_object_set_int_member (d, "value", v->u.decimal.value);
        json_node_free (node);
        return typed_json ("decimal", json_node_init_object (json_node_alloc (), d));
      }
    case SSQ_AMQP_FIELD_ARRAY:
      {
        g_autoptr(JsonArray) a = json_array_new ();

        for (guint k = 0; k < v->u.array->len && left->values > 0; k++)
          json_array_add_element (a, value_json (v->u.array->pdata[k], depth + 1, left));
        return json_node_init_array (node, a);
      }
    case SSQ_AMQP_FIELD_TABLE:
      json_node_free (node);
      return table_json (v->u.table, depth + 1, left);
    case SSQ_AMQP_FIELD_VOID:
    default:
      return json_node_init_null (node);
    }
}

/* A string property as JSON: valid UTF-8 only (a short string may hold
 * any bytes). */
static const char *
text_or_null (const char *s)
{
  return s != NULL && g_utf8_validate (s, -1, NULL) ? s : NULL;
}

JsonObject *
ssq_server_queues_delivery_json (const SsqBrokerDelivery *d)
{
  SsqBrokerMessage *message = d->message;
  GBytes *props_bytes = ssq_broker_message_get_properties (message);
  GBytes *body = ssq_broker_message_get_body (message);
  gsize len, body_len;
  const guint8 *data = g_bytes_get_data (props_bytes, &len);
  const char *body_data = g_bytes_get_data (body, &body_len);
  g_autoptr(SsqAmqpProperties) props = len > 0 ? ssq_amqp_properties_decode (data, len, NULL)
                                               : NULL;
  g_autoptr(JsonObject) headers = NULL;
  g_autofree char *text = NULL;
  g_autofree char *b64 = NULL;
  SsqWireQueueMessage m = {
    .tag = (gint64) d->delivery_tag,
    .id = (gint64) ssq_broker_message_get_id (message),
    .queue = d->queue,
    .exchange = ssq_broker_message_get_exchange (message),
    .routing_key = ssq_broker_message_get_routing_key (message),
    .priority = ssq_broker_message_get_priority (message),
    .persistent = ssq_broker_message_is_persistent (message),
    .redelivered = d->redelivered,
    .deliveries = d->delivery_count,
  };

  if (body_len == 0 ||
      (g_utf8_validate (body_data, body_len, NULL) && memchr (body_data, '\0', body_len) == NULL))
    m.body = text = g_strndup (body_len > 0 ? body_data : "", body_len);  /* empty: NULL data */
  else
    m.body_base64 = b64 = g_base64_encode ((const guchar *) body_data, body_len);
  if (props != NULL)
    {
      if (props->headers != NULL)
        {
          SsqJsonBudget left = { HEADER_TABLE_NAMES_MAX, HEADER_NAMES_MAX, HEADER_VALUES_MAX };
          g_autoptr(JsonNode) node = table_json (props->headers, 0, &left);

          headers = json_object_ref (json_node_get_object (node));
          m.headers = headers;
        }
      m.content_type = text_or_null (props->content_type);
      m.content_encoding = text_or_null (props->content_encoding);
      m.correlation_id = text_or_null (props->correlation_id);
      m.reply_to = text_or_null (props->reply_to);
      m.expiration = text_or_null (props->expiration);
      m.message_id = text_or_null (props->message_id);
      m.timestamp = (props->flags & SSQ_AMQP_PROP_TIMESTAMP) ? (gint64) props->timestamp : 0;
      m.type = text_or_null (props->type);
      m.user_id = text_or_null (props->user_id);
      m.app_id = text_or_null (props->app_id);
    }
  /* Names from AMQP may be any bytes; JSON strings must be UTF-8. */
  if (!g_utf8_validate (m.exchange, -1, NULL))
    m.exchange = "";
  if (!g_utf8_validate (m.routing_key, -1, NULL))
    m.routing_key = "";
  if (!g_utf8_validate (m.queue, -1, NULL))
    m.queue = "";
  return ssq_wire_queue_message_encode (&m);
}

/* ---- Queues ------------------------------------------------------------ */

void
ssq_server_queues_args_from_wire (const SsqWireQueueArgs *wire,
                                  SsqBrokerQueueArgs     *out)
{
  ssq_broker_queue_args_init (out);
  out->max_length = wire->max_length;
  if (g_strcmp0 (wire->overflow, "reject-publish") == 0)
    out->overflow = SSQ_BROKER_OVERFLOW_REJECT_PUBLISH;
  out->message_ttl_ms = wire->message_ttl_ms;
  out->expires_ms = wire->expires_ms;
  out->max_priority = wire->max_priority > 0 ? (guint8) wire->max_priority : 0;
  out->dead_letter_exchange = g_strdup (wire->dead_letter_exchange);
  out->dead_letter_routing_key = g_strdup (wire->dead_letter_routing_key);
  out->max_deliveries = wire->max_deliveries > 0 ? (guint32) wire->max_deliveries : 0;
}

static const char *
owner_name (SsqServer  *server,
            const char *owner_id,
            GHashTable *usernames)
{
  g_autoptr(SsqUserRow) user = NULL;
  const char *known;

  if (owner_id == NULL)
    return NULL;
  if (usernames != NULL && (known = g_hash_table_lookup (usernames, owner_id)) != NULL)
    return known;
  user = ssq_server_store_user_by_id (server->store, owner_id, NULL);
  if (usernames == NULL)
    return NULL;
  g_hash_table_insert (usernames, g_strdup (owner_id),
                       g_strdup (user != NULL ? user->username : ""));
  return g_hash_table_lookup (usernames, owner_id);
}

JsonObject *
ssq_server_queues_info_json (SsqServer                *server,
                             const SsqBrokerQueueInfo *info,
                             GHashTable               *usernames)
{
  g_autoptr(GHashTable) own = usernames ? NULL
                                        : g_hash_table_new_full (g_str_hash, g_str_equal,
                                                                 g_free, g_free);
  const SsqBrokerQueueArgs *a = &info->args;
  SsqWireQueue q = {
    .name = g_utf8_validate (info->name, -1, NULL) ? info->name : "",
    .durable = info->durable,
    .exclusive = info->exclusive,
    .auto_delete = info->auto_delete,
    .arguments = {
      .max_length = a->max_length,
      .overflow = a->max_length >= 0 ? (a->overflow == SSQ_BROKER_OVERFLOW_REJECT_PUBLISH
                                        ? "reject-publish" : "drop-head") : NULL,
      .message_ttl_ms = a->message_ttl_ms,
      .expires_ms = a->expires_ms,
      .max_priority = a->max_priority > 0 ? a->max_priority : -1,
      .dead_letter_exchange = text_or_null (a->dead_letter_exchange),
      .dead_letter_routing_key = text_or_null (a->dead_letter_routing_key),
      .max_deliveries = a->max_deliveries > 0 ? (gint64) a->max_deliveries : -1,
    },
    .depth = (gint64) info->ready,
    .unacked = (gint64) info->unacked,
    .consumers = info->consumers,
    .published = (gint64) info->published,
    .delivered = (gint64) info->delivered,
    .acknowledged = (gint64) info->acknowledged,
    .redelivered = (gint64) info->redelivered,
    .dead_lettered = (gint64) info->dead_lettered,
    .expired = (gint64) info->expired,
    .dropped = (gint64) info->dropped,
    .published_rate = info->published_rate,
    .delivered_rate = info->delivered_rate,
    .acknowledged_rate = info->acknowledged_rate,
  };

  q.owner = owner_name (server, info->owner_id, usernames ? usernames : own);
  return ssq_wire_queue_encode (&q);
}

gboolean
ssq_server_queues_visible (const SsqBrokerQueueInfo *info,
                           const SsqBrokerPrincipal *viewer)
{
  return !info->exclusive || viewer->server_admin ||
         g_strcmp0 (info->owner_id, viewer->user_id) == 0;
}

/* ---- /metrics ---------------------------------------------------------- */

/* A label value as the text format wants it: UTF-8, with backslash,
 * double quote and line feed escaped. */
static void
append_label (GString    *out,
              const char *value)
{
  g_autofree char *valid = g_utf8_make_valid (value, -1);

  for (const char *p = valid; *p != '\0'; p++)
    {
      if (*p == '\\')
        g_string_append (out, "\\\\");
      else if (*p == '"')
        g_string_append (out, "\\\"");
      else if (*p == '\n')
        g_string_append (out, "\\n");
      else
        g_string_append_c (out, *p);
    }
}

typedef struct {
  const char *name;
  const char *type;
  const char *help;
  gsize       offset;    /* of a guint64 in SsqBrokerQueueInfo; consumers is a guint */
} QueueMetric;

static const QueueMetric queue_metrics[] = {
  { "ssq_queue_depth", "gauge", "Messages ready in the queue.",
    G_STRUCT_OFFSET (SsqBrokerQueueInfo, ready) },
  { "ssq_queue_unacked", "gauge", "Messages delivered and not acknowledged yet.",
    G_STRUCT_OFFSET (SsqBrokerQueueInfo, unacked) },
  { "ssq_queue_consumers", "gauge", "Consumers of the queue.",
    G_STRUCT_OFFSET (SsqBrokerQueueInfo, consumers) },
  { "ssq_queue_published_total", "counter", "Messages that entered the queue.",
    G_STRUCT_OFFSET (SsqBrokerQueueInfo, published) },
  { "ssq_queue_delivered_total", "counter", "Deliveries from the queue, redeliveries included.",
    G_STRUCT_OFFSET (SsqBrokerQueueInfo, delivered) },
  { "ssq_queue_acknowledged_total", "counter", "Deliveries acknowledged.",
    G_STRUCT_OFFSET (SsqBrokerQueueInfo, acknowledged) },
  { "ssq_queue_dead_lettered_total", "counter", "Messages that left the queue dead-lettered.",
    G_STRUCT_OFFSET (SsqBrokerQueueInfo, dead_lettered) },
};

void
ssq_server_queues_render_metrics (SsqServer *server,
                                  GString   *out)
{
  g_autoptr(GPtrArray) queues = NULL;
  SsqBrokerStats stats;

  if (server->broker == NULL)
    return;
  ssq_broker_get_stats (server->broker, &stats);
  g_string_append_printf (out, "# HELP ssq_broker_bindings_examined_total Bindings looked at while "
                          "routing messages (what routing costs).\n"
                          "# TYPE ssq_broker_bindings_examined_total counter\n"
                          "ssq_broker_bindings_examined_total %" G_GUINT64_FORMAT "\n",
                          stats.bindings_examined);
  g_string_append_printf (out, "# HELP ssq_broker_internal_dropped_total Messages of the server's own "
                          "(events) not queued: max_memory reached.\n"
                          "# TYPE ssq_broker_internal_dropped_total counter\n"
                          "ssq_broker_internal_dropped_total %" G_GUINT64_FORMAT "\n",
                          stats.internal_dropped);
  queues = ssq_broker_list_queues (server->broker);
  for (guint m = 0; m < G_N_ELEMENTS (queue_metrics); m++)
    {
      const QueueMetric *metric = &queue_metrics[m];

      g_string_append_printf (out, "# HELP %s %s\n# TYPE %s %s\n", metric->name, metric->help,
                              metric->name, metric->type);
      for (guint i = 0; i < queues->len; i++)
        {
          const SsqBrokerQueueInfo *info = queues->pdata[i];
          const guint8 *base = (const guint8 *) info;
          guint64 value = metric->offset == G_STRUCT_OFFSET (SsqBrokerQueueInfo, consumers)
                          ? info->consumers : *(const guint64 *) (base + metric->offset);

          g_string_append_printf (out, "%s{queue=\"", metric->name);
          append_label (out, info->name);
          g_string_append_printf (out, "\"} %" G_GUINT64_FORMAT "\n", value);
        }
    }
}
