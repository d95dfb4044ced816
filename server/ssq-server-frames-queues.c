/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-frames-queues.c: the queue frames of a WebSocket session
 * (shared/PROTOCOL.md, Queues). A session that uses queues gets one broker
 * connection and channel, made on its first queue frame; each
 * queue_subscribe is a consumer on it with its own prefetch, and its
 * deliveries go out as queue_message frames. When the session's send queue
 * passes a quarter of its bound the channel stops taking deliveries until
 * the peer has read (polled, as sync does), so a slow reader holds its
 * messages in the broker, not in our memory. Closing the session closes
 * the connection: unacked deliveries go back to their queues. */
#include "ssq-server-session-private.h"
#include "ssq-server-queues.h"

#define DRAIN_POLL_MS 20

struct _SsqServerSessionQueues {
  SsqServerSession    *session;      /* not owned: it owns us */
  SsqBrokerPrincipal   principal;
  SsqBrokerConnection *connection;
  SsqBrokerChannel    *channel;
  GHashTable          *subscriptions; /* consumer tag -> queue name */
  guint                drain_source;
};

/* ---- The session's channel --------------------------------------------- */

static gboolean
drain_cb (gpointer data)
{
  SsqServerSessionQueues *self = data;
  SsqServerSession *session = self->session;

  if (session->open &&
      ssq_net_conn_get_queued (session->conn) > session->server->config->send_queue_max / 8)
    return G_SOURCE_CONTINUE;
  self->drain_source = 0;
  ssq_broker_channel_set_writable (self->channel, TRUE);
  return G_SOURCE_REMOVE;
}

static void
deliver_cb (SsqBrokerChannel        *channel,
            const SsqBrokerDelivery *delivery,
            gpointer                 user_data)
{
  SsqServerSessionQueues *self = user_data;
  SsqServerSession *session = self->session;
  g_autoptr(JsonObject) message = NULL;
  g_autoptr(JsonObject) frame = NULL;

  if (!session->open)
    return;     /* the channel requeues it when the session's queues go */
  message = ssq_server_queues_delivery_json (delivery);
  frame = ssq_wire_queue_message_frame_encode (delivery->consumer_tag, message);
  ssq_server_session_send_object (session, frame);
  if (self->drain_source == 0 &&
      ssq_net_conn_get_queued (session->conn) > session->server->config->send_queue_max / 4)
    {
      ssq_broker_channel_set_writable (channel, FALSE);
      self->drain_source = g_timeout_add (DRAIN_POLL_MS, drain_cb, self);
    }
}

static void
consumer_cancelled_cb (SsqBrokerChannel *channel,
                       const char       *consumer_tag,
                       gpointer          user_data)
{
  SsqServerSessionQueues *self = user_data;
  g_autofree char *tag = NULL;
  g_autofree char *queue = NULL;
  g_autoptr(JsonObject) frame = NULL;

  if (!g_hash_table_steal_extended (self->subscriptions, consumer_tag, (gpointer *) &tag,
                                    (gpointer *) &queue))
    return;
  frame = ssq_wire_queue_subscription_encode (SSQ_FRAME_TYPE_QUEUE_CANCELLED,
                                              &(SsqWireQueueSubscription) {
                                                .subscription = tag, .queue = queue });
  ssq_server_session_send_object (self->session, frame);
}

static const SsqBrokerChannelCallbacks channel_callbacks = { deliver_cb, consumer_cancelled_cb };

/* The account went: the session ends (its other parts end it too). */
static void
forced_closed_cb (SsqBrokerConnection *connection,
                  const GError        *error,
                  gpointer             user_data)
{
  SsqServerSessionQueues *self = user_data;

  ssq_server_session_close (self->session, SSQ_CLOSE_POLICY, "The account is gone");
}

void
ssq_server_session_queues_free (SsqServerSessionQueues *self)
{
  if (self == NULL)
    return;
  g_clear_handle_id (&self->drain_source, g_source_remove);
  g_hash_table_unref (self->subscriptions);
  /* Its channel with it: unacked deliveries requeued, consumers gone. */
  g_clear_pointer (&self->connection, ssq_broker_connection_free);
  ssq_server_queues_principal_clear (&self->principal);
  g_free (self);
}

static SsqServerSessionQueues *
session_queues (SsqServerSession  *session,
                GError           **error)
{
  SsqBroker *broker = ssq_server_queues_broker (session->server, error);
  SsqServerSessionQueues *self;

  if (broker == NULL)
    return NULL;
  if (session->queues != NULL)
    return session->queues;
  self = g_new0 (SsqServerSessionQueues, 1);
  if (!ssq_server_queues_principal (session->server, session->user_id, &self->principal, error))
    {
      g_free (self);
      return NULL;
    }
  self->session = session;
  self->subscriptions = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->connection = ssq_broker_connection_new (broker, &self->principal, forced_closed_cb, self);
  self->channel = ssq_broker_channel_new (self->connection, &channel_callbacks, self);
  session->queues = self;
  return self;
}

/* ---- Frames ------------------------------------------------------------ */

typedef struct {
  SsqServerSession *session;
  JsonNode         *request_id;
  char             *queue;
} Publish;

static void
publish_free (Publish *p)
{
  ssq_server_session_request_end (p->session);
  g_object_unref (p->session);
  g_clear_pointer (&p->request_id, json_node_unref);
  g_free (p->queue);
  g_free (p);
}

static void
published_cb (SsqBrokerChannel        *channel,
              SsqBrokerPublishOutcome  outcome,
              SsqBrokerMessage        *message,
              const GError            *error,
              gpointer                 user_data)
{
  Publish *p = user_data;
  g_autoptr(GError) refused = ssq_server_queues_outcome_error (p->queue, outcome, error);
  g_autoptr(JsonObject) ack = NULL;

  if (!p->session->open)
    return;
  if (refused != NULL)
    {
      ssq_server_session_send_error (p->session, p->request_id, refused);
      return;
    }
  if (p->request_id == NULL)
    return;
  ack = ssq_wire_ack_encode (&(SsqWireAck) {
    .id = p->request_id, .message_id = (gint64) ssq_broker_message_get_id (message) });
  ssq_server_session_send_object (p->session, ack);
}

static void
queue_publish (SsqServerSession *session,
               JsonObject       *frame,
               JsonNode         *request_id)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SsqBrokerMessage) message = NULL;
  SsqServerSessionQueues *self;
  SsqWireQueuePublish publish;
  Publish *p;

  if (!ssq_wire_queue_publish_decode (frame, SSQ_FRAME_TYPE_QUEUE_PUBLISH, &publish, &error) ||
      (self = session_queues (session, &error)) == NULL ||
      (message = ssq_server_queues_message_new (session->server->broker, publish.queue, &publish,
                                                &error)) == NULL)
    {
      ssq_server_session_send_error (session, request_id, error);
      return;
    }
  /* In flight until its outcome: past max_requests_in_flight the session
   * stops reading, which bounds the publishes waiting for a commit. */
  p = g_new0 (Publish, 1);
  p->session = g_object_ref (session);
  p->request_id = request_id ? json_node_copy (request_id) : NULL;
  p->queue = g_strdup (publish.queue);
  ssq_server_session_request_begin (session);
  if (!ssq_broker_publish (self->channel, message, TRUE, published_cb, p,
                           (GDestroyNotify) publish_free, &error))
    {
      g_autoptr(GError) mapped = ssq_server_queues_error (error);

      ssq_server_session_send_error (session, request_id, mapped);
      publish_free (p);
    }
}

static guint
max_prefetch (SsqServer *server)
{
  return MIN (G_MAXUINT16, ssq_server_queues_max_unacked (server));
}

static void
queue_subscribe (SsqServerSession *session,
                 JsonObject       *frame,
                 JsonNode         *request_id)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *tag = NULL;
  g_autoptr(JsonObject) ack = NULL;
  SsqServerSessionQueues *self;
  SsqWireQueueSubscribe s;
  SsqBrokerConsumeOptions options = { 0 };
  guint prefetch;

  if (!ssq_wire_queue_subscribe_decode (frame, &s, &error) ||
      (self = session_queues (session, &error)) == NULL)
    {
      ssq_server_session_send_error (session, request_id, error);
      return;
    }
  prefetch = s.prefetch > 0 ? (guint) s.prefetch : SSQ_QUEUE_PREFETCH_DEFAULT;
  if (prefetch > max_prefetch (session->server))
    {
      g_set_error (&error, SSQ_ERROR, SSQ_ERROR_INVALID,
                   "Field \"prefetch\" must be at most %u (max_unacked_per_channel)",
                   max_prefetch (session->server));
      ssq_server_session_send_error (session, request_id, error);
      return;
    }
  if (g_hash_table_size (self->subscriptions) >=
      session->server->config->queue_subscriptions_per_session)
    {
      g_set_error (&error, SSQ_ERROR, SSQ_ERROR_RATE_LIMITED,
                   "At most %u subscriptions per session ([limits] "
                   "queue_subscriptions_per_session)",
                   session->server->config->queue_subscriptions_per_session);
      ssq_error_set_retry_after (error, 1000);
      ssq_server_session_send_error (session, request_id, error);
      return;
    }
  if (!ssq_broker_channel_qos (self->channel, 0, (guint16) prefetch, FALSE, &error) ||
      !ssq_broker_consume (self->channel, s.queue, &options, &tag, &error))
    {
      g_autoptr(GError) mapped = ssq_server_queues_error (error);

      ssq_server_session_send_error (session, request_id, mapped);
      return;
    }
  g_hash_table_insert (self->subscriptions, g_strdup (tag), g_strdup (s.queue));
  /* Deliveries start from the main loop: the ack goes first. */
  ack = ssq_wire_ack_encode (&(SsqWireAck) { .id = request_id, .subscription = tag });
  ssq_server_session_send_object (session, ack);
}

static void
queue_unsubscribe (SsqServerSession *session,
                   JsonObject       *frame,
                   JsonNode         *request_id)
{
  g_autoptr(GError) error = NULL;
  SsqServerSessionQueues *self = session->queues;
  SsqWireQueueSubscription s;

  if (!ssq_wire_queue_subscription_decode (frame, SSQ_FRAME_TYPE_QUEUE_UNSUBSCRIBE, &s, &error))
    {
      ssq_server_session_send_error (session, request_id, error);
      return;
    }
  if (self == NULL || !g_hash_table_remove (self->subscriptions, s.subscription))
    {
      g_set_error_literal (&error, SSQ_ERROR, SSQ_ERROR_NOT_FOUND, "No such subscription");
      ssq_server_session_send_error (session, request_id, error);
      return;
    }
  /* Its unacked deliveries stay: they may still be acked. */
  ssq_broker_cancel (self->channel, s.subscription);
  if (request_id != NULL)
    {
      g_autoptr(JsonObject) ack = ssq_wire_ack_encode (&(SsqWireAck) { .id = request_id });

      ssq_server_session_send_object (session, ack);
    }
}

/* queue_ack, queue_nack: the ack lists the tags that were not unacked. */
static void
queue_settle (SsqServerSession *session,
              JsonObject       *frame,
              JsonNode         *request_id,
              gboolean          ack)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonArray) unknown = json_array_new ();
  SsqServerSessionQueues *self = session->queues;
  SsqWireQueueTags tags;

  if (!ssq_wire_queue_tags_decode (frame, &tags, &error))
    {
      ssq_server_session_send_error (session, request_id, error);
      return;
    }
  for (guint i = 0; i < json_array_get_length (tags.tags); i++)
    {
      guint64 tag = (guint64) json_array_get_int_element (tags.tags, i);
      gboolean ok = self != NULL &&
                    (ack ? ssq_broker_ack (self->channel, tag, FALSE, NULL)
                         : ssq_broker_nack (self->channel, tag, FALSE, tags.requeue, NULL));

      if (!ok)
        json_array_add_int_element (unknown, (gint64) tag);
    }
  if (request_id != NULL)
    {
      g_autoptr(JsonObject) reply = ssq_wire_ack_encode (&(SsqWireAck) {
        .id = request_id, .unknown = json_array_get_length (unknown) > 0 ? unknown : NULL });

      ssq_server_session_send_object (session, reply);
    }
}

/* The frame handlers (ssq-server-frames.c's table names them). */
void
ssq_server_frame_queue_publish (SsqServerSession *session,
                                JsonObject       *frame,
                                JsonNode         *request_id,
                                gint64            started_us)
{
  queue_publish (session, frame, request_id);
}

void
ssq_server_frame_queue_subscribe (SsqServerSession *session,
                                  JsonObject       *frame,
                                  JsonNode         *request_id,
                                  gint64            started_us)
{
  queue_subscribe (session, frame, request_id);
}

void
ssq_server_frame_queue_unsubscribe (SsqServerSession *session,
                                    JsonObject       *frame,
                                    JsonNode         *request_id,
                                    gint64            started_us)
{
  queue_unsubscribe (session, frame, request_id);
}

void
ssq_server_frame_queue_ack (SsqServerSession *session,
                            JsonObject       *frame,
                            JsonNode         *request_id,
                            gint64            started_us)
{
  queue_settle (session, frame, request_id, TRUE);
}

void
ssq_server_frame_queue_nack (SsqServerSession *session,
                             JsonObject       *frame,
                             JsonNode         *request_id,
                             gint64            started_us)
{
  queue_settle (session, frame, request_id, FALSE);
}
