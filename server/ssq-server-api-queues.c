/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-api-queues.c: the REST routes of queues (shared/PROTOCOL.md,
 * Queues). Each user has one broker connection and channel for REST, made
 * on first use, so that delivery tags leased by one request are acked by
 * the next. A GET that finds the queue empty and may wait becomes a long
 * poll: a consumer on the user's channel with the poll's count as its
 * prefetch, answered as soon as something comes (what comes in the same
 * main-loop turn goes together), when the wait ends, or dropped with its
 * deliveries requeued when the client goes. Long polls are bounded per
 * user and overall. */
#include "ssq-server-http.h"
#include "ssq-server-queues.h"

typedef struct _Poll Poll;

typedef struct {
  SsqServerQueues     *queues;
  char                *user_id;
  SsqBrokerPrincipal   principal;
  SsqBrokerConnection *connection;
  SsqBrokerChannel    *channel;
  GHashTable          *polls;       /* consumer tag -> Poll (not owned) */
} QueueUser;

struct _SsqServerQueues {
  SsqServer  *server;               /* not owned: it owns us */
  GHashTable *users;                /* user id -> QueueUser */
  guint       n_polls;
};

struct _Poll {
  QueueUser  *user;
  SsqRequest *request;
  char       *consumer_tag;
  JsonArray  *messages;
  GArray     *tags;                 /* guint64: leased, to requeue if the client goes */
  guint       max;
  gboolean    acked;                /* lease=0: acknowledged as it is answered */
  guint       timer;
  guint       answer_idle;
};

static void poll_finish (Poll *poll, gboolean gone);

/* ---- Users ------------------------------------------------------------- */

static void
queue_user_free (QueueUser *user)
{
  GHashTableIter iter;
  Poll *poll;

  /* Answered with what they hold: the channel is going. */
  g_hash_table_iter_init (&iter, user->polls);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &poll))
    {
      g_hash_table_iter_steal (&iter);
      poll_finish (poll, FALSE);
    }
  g_hash_table_unref (user->polls);
  g_clear_pointer (&user->connection, ssq_broker_connection_free);   /* its channel too */
  ssq_server_queues_principal_clear (&user->principal);
  g_free (user->user_id);
  g_free (user);
}

static void
deliver_cb (SsqBrokerChannel        *channel,
            const SsqBrokerDelivery *delivery,
            gpointer                 user_data);

static void
consumer_cancelled_cb (SsqBrokerChannel *channel,
                       const char       *consumer_tag,
                       gpointer          user_data)
{
  QueueUser *user = user_data;
  Poll *poll = g_hash_table_lookup (user->polls, consumer_tag);

  /* The queue went: the poll answers with what it has. */
  if (poll != NULL)
    {
      g_hash_table_remove (user->polls, consumer_tag);
      g_clear_pointer (&poll->consumer_tag, g_free);
      poll_finish (poll, FALSE);
    }
}

static const SsqBrokerChannelCallbacks channel_callbacks = { deliver_cb, consumer_cancelled_cb };

/* The account was deleted or disabled: its REST channel goes. */
static void
forced_closed_cb (SsqBrokerConnection *connection,
                  const GError        *error,
                  gpointer             user_data)
{
  QueueUser *user = user_data;

  g_hash_table_remove (user->queues->users, user->user_id);
}

/* The user's REST channel, made on first use. */
static QueueUser *
queue_user (SsqServer   *server,
            const char  *user_id,
            GError     **error)
{
  SsqServerQueues *queues = server->queues;
  SsqBroker *broker = ssq_server_queues_broker (server, error);
  QueueUser *user;

  if (broker == NULL)
    return NULL;
  if ((user = g_hash_table_lookup (queues->users, user_id)) != NULL)
    return user;
  user = g_new0 (QueueUser, 1);
  if (!ssq_server_queues_principal (server, user_id, &user->principal, error))
    {
      g_free (user);
      return NULL;
    }
  user->queues = queues;
  user->user_id = g_strdup (user_id);
  user->polls = g_hash_table_new (g_str_hash, g_str_equal);
  user->connection = ssq_broker_connection_new (broker, &user->principal, forced_closed_cb, user);
  user->channel = ssq_broker_channel_new (user->connection, &channel_callbacks, user);
  g_hash_table_insert (queues->users, user->user_id, user);
  return user;
}

SsqServerQueues *
ssq_server_queues_new (SsqServer *server)
{
  SsqServerQueues *queues = g_new0 (SsqServerQueues, 1);

  queues->server = server;
  queues->users = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                         (GDestroyNotify) queue_user_free);
  return queues;
}

void
ssq_server_queues_free (SsqServerQueues *queues)
{
  if (queues == NULL)
    return;
  g_hash_table_unref (queues->users);
  g_free (queues);
}

/* ---- Long polls -------------------------------------------------------- */

static void
poll_free (Poll *poll)
{
  g_clear_handle_id (&poll->timer, g_source_remove);
  g_clear_handle_id (&poll->answer_idle, g_source_remove);
  g_free (poll->consumer_tag);
  json_array_unref (poll->messages);
  g_array_unref (poll->tags);
  g_free (poll);
}

static void
reply_messages (SsqRequest *request,
                JsonArray  *messages)
{
  g_autoptr(JsonObject) body = json_object_new ();

  json_object_set_array_member (body, "messages", json_array_ref (messages));
  ssq_request_reply (request, SSQ_HTTP_OK, body);
}

/* Ends @poll (already out of its user's table): its consumer cancelled, the
 * request answered with what came, or, when the client is @gone, what came
 * requeued for others. */
static void
poll_finish (Poll     *poll,
             gboolean  gone)
{
  QueueUser *user = poll->user;

  if (poll->consumer_tag != NULL)
    ssq_broker_cancel (user->channel, poll->consumer_tag);
  for (guint i = 0; i < poll->tags->len; i++)
    {
      guint64 tag = g_array_index (poll->tags, guint64, i);

      if (gone)
        ssq_broker_nack (user->channel, tag, FALSE, TRUE, NULL);
      else if (poll->acked)
        ssq_broker_ack (user->channel, tag, FALSE, NULL);
    }
  reply_messages (poll->request, poll->messages);    /* to nowhere when gone */
  user->queues->n_polls--;
  ssq_request_free (poll->request);
  poll_free (poll);
}

static void
poll_end (Poll     *poll,
          gboolean  gone)
{
  g_hash_table_remove (poll->user->polls, poll->consumer_tag);
  poll_finish (poll, gone);
}

static gboolean
poll_timeout_cb (gpointer data)
{
  Poll *poll = data;

  poll->timer = 0;
  poll_end (poll, FALSE);
  return G_SOURCE_REMOVE;
}

static gboolean
poll_answer_cb (gpointer data)
{
  Poll *poll = data;

  poll->answer_idle = 0;
  poll_end (poll, FALSE);
  return G_SOURCE_REMOVE;
}

static void
poll_gone_cb (SsqNetRequest *net,
              gpointer       data)
{
  poll_end (data, TRUE);
}

static void
deliver_cb (SsqBrokerChannel        *channel,
            const SsqBrokerDelivery *delivery,
            gpointer                 user_data)
{
  QueueUser *user = user_data;
  Poll *poll = delivery->consumer_tag ? g_hash_table_lookup (user->polls, delivery->consumer_tag)
                                      : NULL;

  /* Dispatched after its poll ended: back to the queue for others. */
  if (poll == NULL)
    {
      ssq_broker_nack (channel, delivery->delivery_tag, FALSE, TRUE, NULL);
      return;
    }
  json_array_add_object_element (poll->messages, ssq_server_queues_delivery_json (delivery));
  g_array_append_val (poll->tags, delivery->delivery_tag);
  if (json_array_get_length (poll->messages) >= poll->max)
    poll_end (poll, FALSE);
  else if (poll->answer_idle == 0)
    poll->answer_idle = g_idle_add_full (G_PRIORITY_DEFAULT_IDLE, poll_answer_cb, poll, NULL);
}

static gboolean
poll_allowed (SsqServer  *server,
              QueueUser  *user,
              GError    **error)
{
  const SsqServerConfig *config = server->config;

  if (server->queues->n_polls >= config->queue_polls ||
      g_hash_table_size (user->polls) >= config->queue_polls_per_user)
    {
      g_set_error (error, SSQ_ERROR, SSQ_ERROR_RATE_LIMITED,
                   "Too many long polls waiting (%u per user, %u in all): wait less or "
                   "poll less at once", config->queue_polls_per_user, config->queue_polls);
      ssq_error_set_retry_after (*error, 1000);
      return FALSE;
    }
  return TRUE;
}

/* Waits up to @wait_s for up to @max messages; takes @request. */
static void
poll_start (SsqRequest *request,
            QueueUser  *user,
            const char *queue,
            guint       max,
            guint       wait_s,
            guint32     lease_ms)
{
  g_autoptr(GError) error = NULL;
  /* Never a no-ack consumer, even for lease=0: the prefetch bounds only
   * acked ones, and what comes must be taken back if the client goes. The
   * lease then only covers the wait; the answer acknowledges. */
  SsqBrokerConsumeOptions options = {
    .lease_ms = lease_ms > 0 ? lease_ms : (wait_s + 60) * 1000,
  };
  Poll *poll;

  if (!poll_allowed (request->server, user, &error) ||
      !ssq_broker_channel_qos (user->channel, 0, max, FALSE, &error))
    {
      ssq_request_reply_error (request, error);
      ssq_request_free (request);
      return;
    }
  poll = g_new0 (Poll, 1);
  poll->user = user;
  poll->max = max;
  poll->acked = lease_ms == 0;
  poll->messages = json_array_new ();
  poll->tags = g_array_new (FALSE, FALSE, sizeof (guint64));
  if (!ssq_broker_consume (user->channel, queue, &options, &poll->consumer_tag, &error))
    {
      g_autoptr(GError) mapped = ssq_server_queues_error (error);

      ssq_request_reply_error (request, mapped);
      ssq_request_free (request);
      poll_free (poll);
      return;
    }
  poll->request = request;
  user->queues->n_polls++;
  g_hash_table_insert (user->polls, poll->consumer_tag, poll);
  poll->timer = g_timeout_add (wait_s * 1000, poll_timeout_cb, poll);
  if (!ssq_net_request_watch_gone (request->net, poll_gone_cb, poll))
    poll_end (poll, TRUE);
}

/* ---- Routes: messages -------------------------------------------------- */

static const char *
queue_name (SsqRequest *request)
{
  return request->segments[1];
}

static void
reply_broker_error (SsqRequest   *request,
                    const GError *error)
{
  g_autoptr(GError) mapped = ssq_server_queues_error (error);

  ssq_request_reply_error (request, mapped);
}

static void
published_cb (SsqBrokerChannel        *channel,
              SsqBrokerPublishOutcome  outcome,
              SsqBrokerMessage        *message,
              const GError            *error,
              gpointer                 user_data)
{
  SsqRequest *request = user_data;
  g_autoptr(GError) refused = ssq_server_queues_outcome_error (
    ssq_broker_message_get_routing_key (message), outcome, error);
  g_autoptr(JsonObject) body = NULL;

  if (refused != NULL)
    {
      ssq_request_reply_error (request, refused);
      return;
    }
  body = json_object_new ();
  json_object_set_int_member (body, "id", (gint64) ssq_broker_message_get_id (message));
  ssq_request_reply (request, SSQ_HTTP_CREATED, body);
}

/* POST /queues/{name}/messages: 201 {"id"} once the queue holds it (after
 * the commit for a persistent message in a durable queue). */
void
ssq_api_queue_publish (SsqRequest *request)
{
  g_autoptr(SsqRequest) owned = request;
  g_autoptr(GError) error = NULL;
  g_autoptr(SsqBrokerMessage) message = NULL;
  SsqWireQueuePublish publish;
  QueueUser *user;

  if (!ssq_wire_queue_publish_decode (request->body, SSQ_FRAME_TYPE_N, &publish, &error) ||
      (user = queue_user (request->server, request->user_id, &error)) == NULL ||
      (message = ssq_server_queues_message_new (request->server->broker, queue_name (request),
                                                &publish, &error)) == NULL)
    {
      ssq_request_reply_error (request, error);
      return;
    }
  /* Answered by the outcome; should the channel go first, this stands. */
  g_set_error_literal (&error, SSQ_ERROR, SSQ_ERROR_UNAVAILABLE, "The broker is closing");
  ssq_request_reply_error (request, error);
  g_clear_error (&error);
  if (!ssq_broker_publish (user->channel, message, TRUE, published_cb, request,
                           (GDestroyNotify) ssq_request_free, &error))
    {
      reply_broker_error (request, error);
      return;
    }
  g_steal_pointer (&owned);
}

static gboolean
read_get_query (SsqRequest  *request,
                gint64      *max,
                gint64      *wait,
                gint64      *lease,
                GError     **error)
{
  *max = 1;
  *wait = 0;
  *lease = SSQ_QUEUE_LEASE_DEFAULT;
  if (!ssq_request_query_int (request, "max", 1, SSQ_QUEUE_GET_MAX, max, error) ||
      !ssq_request_query_int (request, "wait", 0, 3600, wait, error) ||
      !ssq_request_query_int (request, "lease", 0, SSQ_QUEUE_LEASE_MAX, lease, error))
    return FALSE;
  /* A longer wait than this server allows waits as long as it allows. */
  *wait = MIN (*wait, (gint64) request->server->config->queue_wait_max);
  return TRUE;
}

/* GET /queues/{name}/messages?max=N&wait=S&lease=S: what is ready now,
 * else a long poll of up to S seconds. Each message is leased for S
 * seconds (lease=0: acknowledged as it is taken). */
void
ssq_api_queue_get_messages (SsqRequest *request)
{
  g_autoptr(SsqRequest) owned = request;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonArray) messages = json_array_new ();
  gint64 max, wait, lease;
  QueueUser *user;

  if (!read_get_query (request, &max, &wait, &lease, &error) ||
      (user = queue_user (request->server, request->user_id, &error)) == NULL)
    {
      ssq_request_reply_error (request, error);
      return;
    }
  while (json_array_get_length (messages) < max)
    {
      SsqBrokerDelivery delivery = { 0 };

      if (!ssq_broker_get (user->channel, queue_name (request), lease == 0,
                           (guint32) lease * 1000, &delivery, &error))
        {
          /* What was leased already goes out; the error only alone. */
          if (json_array_get_length (messages) > 0)
            break;
          reply_broker_error (request, error);
          return;
        }
      if (delivery.message == NULL)
        break;
      json_array_add_object_element (messages, ssq_server_queues_delivery_json (&delivery));
    }
  if (json_array_get_length (messages) > 0 || wait == 0)
    {
      reply_messages (request, messages);
      return;
    }
  poll_start (g_steal_pointer (&owned), user, queue_name (request), (guint) max, (guint) wait,
              (guint32) lease * 1000);
}

/* POST …/ack and …/nack {"tags","requeue"?}: 200 {"acknowledged" or
 * "rejected": n, "unknown": [tags no longer leased]}. Tags are the user's,
 * whichever queue they came from. */
static void
settle (SsqRequest *request,
        gboolean    ack)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonArray) unknown = json_array_new ();
  g_autoptr(JsonObject) body = json_object_new ();
  SsqWireQueueTags tags;
  QueueUser *user;
  gint64 done = 0;

  if (!ssq_wire_queue_tags_decode (request->body, &tags, &error) ||
      (user = queue_user (request->server, request->user_id, &error)) == NULL)
    {
      ssq_request_reply_error (request, error);
      return;
    }
  for (guint i = 0; i < json_array_get_length (tags.tags); i++)
    {
      guint64 tag = (guint64) json_array_get_int_element (tags.tags, i);
      gboolean ok = ack ? ssq_broker_ack (user->channel, tag, FALSE, NULL)
                        : ssq_broker_nack (user->channel, tag, FALSE, tags.requeue, NULL);

      if (ok)
        done++;
      else
        json_array_add_int_element (unknown, (gint64) tag);
    }
  json_object_set_int_member (body, ack ? "acknowledged" : "rejected", done);
  json_object_set_array_member (body, "unknown", g_steal_pointer (&unknown));
  ssq_request_reply (request, SSQ_HTTP_OK, body);
}

void
ssq_api_queue_ack (SsqRequest *request)
{
  g_autoptr(SsqRequest) owned = request;

  settle (request, TRUE);
}

void
ssq_api_queue_nack (SsqRequest *request)
{
  g_autoptr(SsqRequest) owned = request;

  settle (request, FALSE);
}

/* ---- Routes: queues ---------------------------------------------------- */

static void
reply_queue (SsqRequest *request,
             guint       status,
             const char *name)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SsqBrokerQueueInfo) info = ssq_broker_queue_info (request->server->broker, name,
                                                              &error);
  g_autoptr(JsonObject) body = NULL;

  if (info == NULL)
    {
      reply_broker_error (request, error);
      return;
    }
  body = json_object_new ();
  json_object_set_object_member (body, "queue",
                                 ssq_server_queues_info_json (request->server, info, NULL));
  ssq_request_reply (request, status, body);
}

#define DECLARE_FIELDS "durable max_length overflow message_ttl_ms expires_ms max_priority " \
                       "dead_letter_exchange dead_letter_routing_key max_deliveries"

/* PUT's body is optional: no body declares a durable queue. */
static JsonObject *
declare_body (SsqRequest  *request,
              GError     **error)
{
  gsize len;
  const char *data = ssq_net_request_get_body (request->net, &len);
  g_autoptr(JsonObject) body = NULL;

  if (len == 0)
    return json_object_new ();
  body = ssq_json_parse_request (data, len, error);
  if (body == NULL || !ssq_json_check_members (body, DECLARE_FIELDS, error))
    return NULL;
  return g_steal_pointer (&body);
}

/* PUT /queues/{name}: 201 with the queue when made, 200 when it was there
 * with these settings, 409 with others. */
void
ssq_api_queue_declare (SsqRequest *request)
{
  g_autoptr(SsqRequest) owned = request;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) body = NULL;
  g_autoptr(SsqBrokerQueueInfo) before = NULL;
  g_autofree char *name = NULL;
  SsqBrokerQueueArgs args;
  SsqWireQueueArgs wire;
  QueueUser *user;
  gboolean ok;

  if ((body = declare_body (request, &error)) == NULL ||
      !ssq_wire_queue_args_decode (body, &wire, &error) ||
      !ssq_check_text ("queue name", queue_name (request), 1, SSQ_QUEUE_NAME_MAX, &error) ||
      (user = queue_user (request->server, request->user_id, &error)) == NULL)
    {
      ssq_request_reply_error (request, error);
      return;
    }
  before = ssq_broker_queue_info (request->server->broker, queue_name (request), NULL);
  ssq_server_queues_args_from_wire (&wire, &args);
  ok = ssq_broker_queue_declare (user->channel, queue_name (request),
                                 wire.durable ? SSQ_BROKER_QUEUE_DURABLE : 0, &args, &name,
                                 NULL, NULL, &error);
  ssq_broker_queue_args_clear (&args);
  if (!ok)
    {
      reply_broker_error (request, error);
      return;
    }
  reply_queue (request, before != NULL ? SSQ_HTTP_OK : SSQ_HTTP_CREATED, name);
}

void
ssq_api_queue_get (SsqRequest *request)
{
  g_autoptr(SsqRequest) owned = request;
  g_autoptr(GError) error = NULL;

  if (ssq_server_queues_broker (request->server, &error) == NULL)
    {
      ssq_request_reply_error (request, error);
      return;
    }
  reply_queue (request, SSQ_HTTP_OK, queue_name (request));
}

static gboolean
query_bool (SsqRequest  *request,
            const char  *name,
            gboolean    *out,
            GError     **error)
{
  const char *text = request->query ? g_hash_table_lookup (request->query, name) : NULL;

  *out = FALSE;
  if (text == NULL || g_str_equal (text, "false"))
    return TRUE;
  if (g_str_equal (text, "true"))
    return (*out = TRUE);
  g_set_error (error, SSQ_ERROR, SSQ_ERROR_INVALID,
               "Query parameter \"%s\" must be true or false", name);
  return FALSE;
}

static gboolean
queue_exists (SsqRequest  *request,
              GError     **error)
{
  g_autoptr(SsqBrokerQueueInfo) info = ssq_broker_queue_info (request->server->broker,
                                                              queue_name (request), error);

  return info != NULL;
}

/* The answer of a delete or a purge: how many messages went. */
static void
reply_count (SsqRequest *request,
             guint32     count)
{
  g_autoptr(JsonObject) body = json_object_new ();

  json_object_set_int_member (body, "messages", count);
  ssq_request_reply (request, SSQ_HTTP_OK, body);
}

/* DELETE /queues/{name}?if_unused=&if_empty=: 200 {"messages": dropped}. */
void
ssq_api_queue_delete (SsqRequest *request)
{
  g_autoptr(SsqRequest) owned = request;
  g_autoptr(GError) error = NULL;
  gboolean if_unused, if_empty;
  guint32 count = 0;
  QueueUser *user;

  if (!query_bool (request, "if_unused", &if_unused, &error) ||
      !query_bool (request, "if_empty", &if_empty, &error) ||
      (user = queue_user (request->server, request->user_id, &error)) == NULL)
    {
      ssq_request_reply_error (request, error);
      return;
    }
  /* The broker deletes an absent queue without error, as RabbitMQ does;
   * REST says 404, as for every other route of a queue. */
  if (!queue_exists (request, &error) ||
      !ssq_broker_queue_delete (user->channel, queue_name (request), if_unused, if_empty, &count,
                                &error))
    {
      reply_broker_error (request, error);
      return;
    }
  reply_count (request, count);
}

/* POST /queues/{name}/purge: 200 {"messages": purged}. */
void
ssq_api_queue_purge (SsqRequest *request)
{
  g_autoptr(SsqRequest) owned = request;
  g_autoptr(GError) error = NULL;
  guint32 count = 0;
  QueueUser *user;

  if ((user = queue_user (request->server, request->user_id, &error)) == NULL)
    {
      ssq_request_reply_error (request, error);
      return;
    }
  if (!ssq_broker_queue_purge (user->channel, queue_name (request), &count, &error))
    {
      reply_broker_error (request, error);
      return;
    }
  reply_count (request, count);
}

/* GET /queues: every queue but other users' exclusive ones, by name. */
void
ssq_api_queues_list (SsqRequest *request)
{
  g_autoptr(SsqRequest) owned = request;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) queues = NULL;
  g_autoptr(GHashTable) usernames = NULL;
  g_autoptr(JsonArray) items = NULL;
  g_autoptr(JsonObject) body = NULL;
  QueueUser *user;

  if ((user = queue_user (request->server, request->user_id, &error)) == NULL)
    {
      ssq_request_reply_error (request, error);
      return;
    }
  queues = ssq_broker_list_queues (request->server->broker);
  usernames = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  items = json_array_new ();
  for (guint i = 0; i < queues->len; i++)
    if (ssq_server_queues_visible (queues->pdata[i], &user->principal))
      json_array_add_object_element (items, ssq_server_queues_info_json (request->server,
                                                                         queues->pdata[i],
                                                                         usernames));
  body = json_object_new ();
  json_object_set_array_member (body, "queues", g_steal_pointer (&items));
  ssq_request_reply (request, SSQ_HTTP_OK, body);
}
