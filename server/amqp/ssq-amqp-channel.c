/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-amqp-channel.c: one AMQP channel, its methods mapped onto the broker
 * core (exchange, queue, basic, confirm), content assembled (header, then
 * body frames, the body size checked against the broker's bounds before a
 * byte is kept), deliveries written out, and delivery stopped while the
 * connection's send queue is past its bound. */
#include "ssq-amqp-private.h"

#include <string.h>

struct _SsqAmqpChannel {
  SsqAmqpConnection *conn;
  guint16            number;
  gboolean           closing;       /* channel.close sent, close-ok awaited */
  SsqBrokerChannel  *broker;
  gboolean           confirm;       /* confirm.select seen */
  guint64            published;     /* publish sequence numbers given, for confirms */
  guint64            ack_last;      /* confirms gathered: publishes up to this one taken, */
  guint              ack_run;       /* the last this many of them not yet acknowledged */
  char              *last_queue;    /* "" in a queue method means this one */

  /* A basic.publish whose content is being assembled. */
  gboolean           publishing;
  gboolean           have_header;
  char              *exchange;
  char              *routing_key;
  gboolean           mandatory;
  GBytes            *properties;
  guint64            body_size;
  GByteArray        *body;
  guint64            reserved;      /* of the broker's max_memory and the connection's bound */
};

typedef struct {
  SsqAmqpChannel *channel;
  guint64         seq;             /* 0: not in confirm mode */
  gboolean        mandatory;
} Publish;

static void deliver_cb   (SsqBrokerChannel        *broker,
                          const SsqBrokerDelivery *delivery,
                          gpointer                 user_data);
static void cancelled_cb (SsqBrokerChannel        *broker,
                          const char              *consumer_tag,
                          gpointer                 user_data);

static const SsqBrokerChannelCallbacks callbacks = {
  .deliver = deliver_cb,
  .consumer_cancelled = cancelled_cb,
};

SsqAmqpChannel *
ssq_amqp_channel_new (SsqAmqpConnection *conn,
                      guint16            number)
{
  SsqAmqpChannel *channel = g_new0 (SsqAmqpChannel, 1);

  channel->conn = conn;
  channel->number = number;
  channel->broker = ssq_broker_channel_new (conn->broker, &callbacks, channel);
  conn->server->n_channels++;
  return channel;
}

/* The bytes reserved for the content being received are given back (it
 * is published, or dropped). */
static void
release_content (SsqAmqpChannel *channel)
{
  if (channel->reserved == 0)
    return;
  ssq_broker_memory_unreserve (channel->conn->server->server->broker, channel->reserved);
  channel->conn->assembling -= channel->reserved;
  channel->reserved = 0;
}

static void
clear_content (SsqAmqpChannel *channel)
{
  release_content (channel);
  channel->publishing = FALSE;
  channel->have_header = FALSE;
  g_clear_pointer (&channel->exchange, g_free);
  g_clear_pointer (&channel->routing_key, g_free);
  g_clear_pointer (&channel->properties, g_bytes_unref);
  g_clear_pointer (&channel->body, g_byte_array_unref);
}

void
ssq_amqp_channel_free (SsqAmqpChannel *channel)
{
  clear_content (channel);
  g_clear_pointer (&channel->broker, ssq_broker_channel_free);
  g_free (channel->last_queue);
  channel->conn->server->n_channels--;
  g_free (channel);
}

gboolean
ssq_amqp_channel_is_closing (SsqAmqpChannel *channel)
{
  return channel->closing;
}

/* Before a method of the client: the outcomes of its earlier publishes
 * that are known go out first, as AMQP orders a channel's methods. A
 * publish supersoniq.chat refused closes the channel here, and the next
 * method is not answered: a queue.declare sent right after it was, and
 * its declare-ok went out before the channel.close. */
void
ssq_amqp_channel_tell_outcomes (SsqAmqpChannel *channel)
{
  if (!channel->closing)
    ssq_broker_channel_tell_outcomes (channel->broker);
}

void
ssq_amqp_channel_fail (SsqAmqpChannel *channel,
                       const GError   *error,
                       guint32         method_id)
{
  if (channel->closing)
    return;
  /* Publishes taken before the error are confirmed still. */
  ssq_amqp_channel_send_confirms (channel);
  channel->closing = TRUE;
  clear_content (channel);
  /* Unacknowledged deliveries go back to their queues now, as RabbitMQ. */
  g_clear_pointer (&channel->broker, ssq_broker_channel_free);
  ssq_amqp_frame_write_method (channel->conn->out, channel->number, SSQ_AMQP_CHANNEL_CLOSE,
                               error->code, error->message, method_id >> 16, method_id & 0xffff);
}

void
ssq_amqp_channel_writable (SsqAmqpChannel *channel,
                           gboolean        writable)
{
  if (channel->broker != NULL)
    ssq_broker_channel_set_writable (channel->broker, writable);
}

/* An error of ours, in RabbitMQ's words ("NOT_FOUND - ..."). */
static void
fail (SsqAmqpChannel *channel,
      guint32         method_id,
      int             code,
      const char     *format,
      ...) G_GNUC_PRINTF (4, 5);

static void
fail (SsqAmqpChannel *channel,
      guint32         method_id,
      int             code,
      const char     *format,
      ...)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *what = NULL;
  va_list args;

  va_start (args, format);
  what = g_strdup_vprintf (format, args);
  va_end (args);
  error = g_error_new (SSQ_AMQP_ERROR, code, "%s - %s", ssq_amqp_reply_name (code), what);
  ssq_amqp_connection_error (channel->conn, channel->number, error, method_id);
}

/* ---- Output ----------------------------------------------------------- */

/* Bodies past this are queued as slices of the message's own bytes. */
#define COPY_BODY_MAX (64 * 1024)

static void
write_content (SsqAmqpChannel   *channel,
               SsqBrokerMessage *message)
{
  SsqAmqpConnection *conn = channel->conn;
  GBytes *body = ssq_broker_message_get_body (message);
  gsize size;
  const guint8 *data = g_bytes_get_data (body, &size);
  gsize max = conn->frame_max - SSQ_AMQP_FRAME_OVERHEAD;
  static const guint8 end = SSQ_AMQP_FRAME_END;

  ssq_amqp_frame_write_header (conn->out, channel->number, size,
                               ssq_broker_message_get_properties (message));
  for (gsize off = 0; off < size; off += max)
    {
      gsize n = MIN (max, size - off);

      if (size <= COPY_BODY_MAX)
        {
          ssq_amqp_frame_write_body (conn->out, channel->number, data + off, n);
          continue;
        }
      ssq_amqp_frame_write_head (conn->out, SSQ_AMQP_FRAME_BODY, channel->number, (guint32) n);
      ssq_amqp_connection_flush (conn);
      {
        g_autoptr (GBytes) slice = g_bytes_new_from_bytes (body, off, n);

        if (conn->net != NULL)
          ssq_net_raw_send (conn->net, slice);
      }
      g_byte_array_append (conn->out, &end, 1);
    }
}

static void
deliver_cb (SsqBrokerChannel        *broker,
            const SsqBrokerDelivery *delivery,
            gpointer                 user_data)
{
  SsqAmqpChannel *channel = user_data;
  SsqAmqpConnection *conn = channel->conn;
  SsqBrokerMessage *message = delivery->message;

  if (channel->closing || conn->state != SSQ_AMQP_STATE_OPENED)
    return;
  ssq_amqp_frame_write_method (conn->out, channel->number, SSQ_AMQP_BASIC_DELIVER,
                               delivery->consumer_tag, delivery->delivery_tag,
                               delivery->redelivered,
                               ssq_broker_message_get_exchange (message),
                               ssq_broker_message_get_routing_key (message));
  write_content (channel, message);
  ssq_amqp_connection_flush (conn);
  /* A consumer that does not read gets no more than the send queue holds:
   * the rest waits in its queue, not in our memory. */
  if (ssq_amqp_connection_is_backed_up (conn))
    {
      ssq_broker_channel_set_writable (broker, FALSE);
      ssq_net_raw_notify_drained (conn->net);
    }
}

static void
cancelled_cb (SsqBrokerChannel *broker,
              const char       *consumer_tag,
              gpointer          user_data)
{
  SsqAmqpChannel *channel = user_data;

  if (channel->closing || channel->conn->state != SSQ_AMQP_STATE_OPENED)
    return;
  ssq_amqp_frame_write_method (channel->conn->out, channel->number, SSQ_AMQP_BASIC_CANCEL,
                               consumer_tag, FALSE);
  ssq_amqp_connection_flush (channel->conn);
}

/* ---- Publishing ------------------------------------------------------- */

void
ssq_amqp_channel_send_confirms (SsqAmqpChannel *channel)
{
  SsqAmqpConnection *conn = channel->conn;

  if (channel->ack_run == 0)
    return;
  /* Every publish before the run was confirmed already (outcomes come in
   * publish order, a nack sends the run before it): multiple=true says
   * exactly the run. */
  if (!channel->closing && conn->state == SSQ_AMQP_STATE_OPENED)
    ssq_amqp_frame_write_method (conn->out, channel->number, SSQ_AMQP_BASIC_ACK,
                                 channel->ack_last, channel->ack_run > 1);
  channel->ack_run = 0;
}

/* Publishes taken in the same main-loop turn get one basic.ack with
 * multiple=true, as RabbitMQ sends them: fewer frames to build and parse. */
static void
confirm_taken (SsqAmqpChannel *channel,
               guint64         seq)
{
  channel->ack_last = seq;
  if (channel->ack_run++ == 0)
    ssq_amqp_connection_confirms_later (channel->conn);
}

static void
publish_done_cb (SsqBrokerChannel        *broker,
                 SsqBrokerPublishOutcome  outcome,
                 SsqBrokerMessage        *message,
                 const GError            *error,
                 gpointer                 user_data)
{
  Publish *publish = user_data;
  SsqAmqpChannel *channel = publish->channel;
  SsqAmqpConnection *conn = channel->conn;

  if (channel->closing || conn->state != SSQ_AMQP_STATE_OPENED)
    return;
  /* Refused for now: a publisher under confirms is told by basic.nack and
   * tries again; without confirms only a return or a channel error can
   * tell it. */
  if (outcome == SSQ_BROKER_PUBLISH_LATER)
    outcome = publish->seq > 0 ? SSQ_BROKER_PUBLISH_NACK
              : publish->mandatory ? SSQ_BROKER_PUBLISH_RETURN : SSQ_BROKER_PUBLISH_CHANNEL_ERROR;
  switch (outcome)
    {
    case SSQ_BROKER_PUBLISH_RETURN:
      ssq_amqp_frame_write_method (conn->out, channel->number, SSQ_AMQP_BASIC_RETURN,
                                   error->code, error->message,
                                   ssq_broker_message_get_exchange (message),
                                   ssq_broker_message_get_routing_key (message));
      write_content (channel, message);
      /* Its ack, gathered, goes after the return (as the spec wants). */
      G_GNUC_FALLTHROUGH;
    case SSQ_BROKER_PUBLISH_ACK:
      if (publish->seq > 0)
        confirm_taken (channel, publish->seq);
      break;
    case SSQ_BROKER_PUBLISH_NACK:
      ssq_amqp_channel_send_confirms (channel);
      if (publish->seq > 0)
        ssq_amqp_frame_write_method (conn->out, channel->number, SSQ_AMQP_BASIC_NACK,
                                     publish->seq, FALSE, FALSE);
      break;
    case SSQ_BROKER_PUBLISH_CHANNEL_ERROR:
    default:
      ssq_amqp_channel_send_confirms (channel);
      ssq_amqp_connection_error (conn, channel->number, error, SSQ_AMQP_BASIC_PUBLISH);
      break;
    }
  ssq_amqp_connection_flush (conn);
}

static void
publish (SsqAmqpChannel *channel)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SsqBrokerMessage) message = NULL;
  g_autoptr (GBytes) body = NULL;
  Publish *p;

  /* The broker counts the body from here on. */
  release_content (channel);
  body = channel->body != NULL ? g_byte_array_free_to_bytes (g_steal_pointer (&channel->body))
                               : g_bytes_new (NULL, 0);
  message = ssq_broker_message_new (channel->exchange, channel->routing_key, channel->properties,
                                    body);
  p = g_new0 (Publish, 1);
  p->channel = channel;
  p->seq = channel->confirm ? ++channel->published : 0;
  p->mandatory = channel->mandatory;
  if (!ssq_broker_publish (channel->broker, message, channel->mandatory, publish_done_cb, p,
                           g_free, &error))
    {
      g_free (p);
      clear_content (channel);
      ssq_amqp_connection_error (channel->conn, channel->number, error, SSQ_AMQP_BASIC_PUBLISH);
      return;
    }
  clear_content (channel);
}

static void
begin_publish (SsqAmqpChannel *channel,
               SsqAmqpMethod  *method)
{
  if (method->args[4].u)
    {
      /* RabbitMQ refuses it the same way, for the whole connection. */
      fail (channel, SSQ_AMQP_BASIC_PUBLISH, SSQ_AMQP_REPLY_NOT_IMPLEMENTED, "immediate=true");
      return;
    }
  channel->publishing = TRUE;
  channel->exchange = g_strdup (method->args[1].str);
  channel->routing_key = g_strdup (method->args[2].str);
  channel->mandatory = method->args[3].u != 0;
}

/* Before a byte of a content that does not end with its header is kept
 * (its properties, then each body frame as it comes): the contents a
 * connection is receiving, over all its channels, hold at most two of the
 * largest (max_message_size and a header of frame_max: a client may
 * publish large messages on two channels at once), and every connection's
 * count in the broker's max_memory, with the messages in queues. Past
 * either, 506 closes the connection: what it was receiving is freed at
 * once, where stopping to read it would keep that memory held for as long
 * as the peer likes. Reserved as the bytes come, not for the size the
 * header announces: announcing 16 MiB and sending nothing, 31 connections
 * of one user took all of max_memory from everyone. */
static gboolean
reserve_content (SsqAmqpChannel *channel,
                 guint64         bytes)
{
  SsqAmqpConnection *conn = channel->conn;
  guint64 bound = 2 * (conn->server->server->config->broker_max_message_size + conn->frame_max);
  g_autoptr (GError) error = NULL;

  if (conn->assembling + bytes > bound)
    {
      fail (channel, SSQ_AMQP_BASIC_PUBLISH, SSQ_AMQP_REPLY_RESOURCE_ERROR,
            "contents being received on this connection would exceed %" G_GUINT64_FORMAT
            " bytes (two messages of max_message_size)", bound);
      return FALSE;
    }
  if (!ssq_broker_memory_reserve (conn->server->server->broker, bytes, &error))
    {
      ssq_amqp_connection_error (conn, channel->number, error, SSQ_AMQP_BASIC_PUBLISH);
      return FALSE;
    }
  channel->reserved += bytes;
  conn->assembling += bytes;
  return TRUE;
}

static gboolean
content_header (SsqAmqpChannel     *channel,
                const SsqAmqpFrame *frame)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SsqAmqpProperties) props = NULL;
  SsqAmqpReader reader;
  guint16 class_id, weight;

  ssq_amqp_reader_init (&reader, frame->payload, frame->size);
  if (!ssq_amqp_reader_u16 (&reader, &class_id, &error) ||
      !ssq_amqp_reader_u16 (&reader, &weight, &error) ||
      !ssq_amqp_reader_u64 (&reader, &channel->body_size, &error))
    {
      fail (channel, SSQ_AMQP_BASIC_PUBLISH, SSQ_AMQP_REPLY_FRAME_ERROR,
            "content header too short: %s", error->message);
      return FALSE;
    }
  if (class_id != SSQ_AMQP_CLASS_BASIC)
    {
      fail (channel, SSQ_AMQP_BASIC_PUBLISH, SSQ_AMQP_REPLY_FRAME_ERROR,
            "content header of class %u, not basic", class_id);
      return FALSE;
    }
  props = ssq_amqp_properties_decode (frame->payload + reader.pos, frame->size - reader.pos,
                                      &error);
  if (props == NULL)
    {
      fail (channel, SSQ_AMQP_BASIC_PUBLISH, SSQ_AMQP_REPLY_SYNTAX_ERROR,
            "content header: %s", error->message);
      return FALSE;
    }
  /* Before a byte of the body is kept. */
  if (!ssq_broker_check_body_size (channel->conn->server->server->broker, channel->body_size,
                                   &error))
    {
      ssq_amqp_connection_error (channel->conn, channel->number, error, SSQ_AMQP_BASIC_PUBLISH);
      return FALSE;
    }
  if (channel->body_size > 0 && !reserve_content (channel, frame->size - reader.pos))
    return FALSE;
  channel->properties = g_bytes_new (frame->payload + reader.pos, frame->size - reader.pos);
  channel->have_header = TRUE;
  return TRUE;
}

void
ssq_amqp_channel_content (SsqAmqpChannel     *channel,
                          const SsqAmqpFrame *frame)
{
  gsize have = channel->body != NULL ? channel->body->len : 0;

  if (!channel->publishing ||
      (frame->type == SSQ_AMQP_FRAME_HEADER) == channel->have_header)
    {
      fail (channel, 0, SSQ_AMQP_REPLY_UNEXPECTED_FRAME,
            "expected %s, got a content %s frame on channel %u",
            !channel->publishing ? "a method" : channel->have_header ? "a body frame" : "a content header",
            frame->type == SSQ_AMQP_FRAME_HEADER ? "header" : "body", channel->number);
      return;
    }
  if (frame->type == SSQ_AMQP_FRAME_HEADER)
    {
      if (content_header (channel, frame) && channel->body_size == 0)
        publish (channel);
      return;
    }
  if (frame->size > channel->body_size - have)
    {
      fail (channel, SSQ_AMQP_BASIC_PUBLISH, SSQ_AMQP_REPLY_FRAME_ERROR,
            "body frames carry more than the body size %" G_GUINT64_FORMAT, channel->body_size);
      return;
    }
  if (!reserve_content (channel, frame->size))
    return;
  if (channel->body == NULL)
    channel->body = g_byte_array_new ();
  g_byte_array_append (channel->body, frame->payload, frame->size);
  if (channel->body->len == channel->body_size)
    publish (channel);
}

/* ---- Methods ---------------------------------------------------------- */

/* "" names the queue last declared on the channel (RabbitMQ's rule). */
static const char *
queue_name (SsqAmqpChannel *channel,
            const char     *name,
            guint32         id)
{
  if (name[0] != '\0')
    return name;
  if (channel->last_queue == NULL)
    {
      fail (channel, id, SSQ_AMQP_REPLY_NOT_FOUND, "no previously declared queue");
      return NULL;
    }
  return channel->last_queue;
}

static void
reply (SsqAmqpChannel *channel,
       gboolean        no_wait,
       guint32         id,
       ...)
{
  GByteArray *out = channel->conn->out;
  gsize at;
  va_list args;

  if (no_wait)
    return;
  ssq_amqp_write_u8 (out, SSQ_AMQP_FRAME_METHOD);
  ssq_amqp_write_u16 (out, channel->number);
  at = out->len;
  ssq_amqp_write_u32 (out, 0);
  va_start (args, id);
  ssq_amqp_method_write_valist (out, id, args);
  va_end (args);
  ssq_amqp_patch_u32 (out, at, (guint32) (out->len - at - 4));
  ssq_amqp_write_u8 (out, SSQ_AMQP_FRAME_END);
}

static gboolean
exchange_method (SsqAmqpChannel *ch,
                 guint32         id,
                 SsqAmqpArg     *a,
                 GError        **error)
{
  switch (id)
    {
    case SSQ_AMQP_EXCHANGE_DECLARE:
      if (!ssq_broker_exchange_declare (ch->broker, a[1].str, a[2].str, a[3].u, a[4].u, a[5].u,
                                        a[6].u, a[8].bytes, error))
        return FALSE;
      reply (ch, a[7].u, SSQ_AMQP_EXCHANGE_DECLARE_OK);
      return TRUE;
    case SSQ_AMQP_EXCHANGE_DELETE:
      if (!ssq_broker_exchange_delete (ch->broker, a[1].str, a[2].u, error))
        return FALSE;
      reply (ch, a[3].u, SSQ_AMQP_EXCHANGE_DELETE_OK);
      return TRUE;
    default:
      g_set_error (error, SSQ_AMQP_ERROR, SSQ_AMQP_REPLY_NOT_IMPLEMENTED,
                   "NOT_IMPLEMENTED - exchange to exchange bindings are not supported");
      return FALSE;
    }
}

static gboolean
queue_declare (SsqAmqpChannel *ch,
               SsqAmqpArg     *a,
               GError        **error)
{
  SsqBrokerQueueArgs args;
  g_autofree char *name = NULL;
  gboolean ok;
  guint32 messages = 0, consumers = 0;
  SsqBrokerQueueFlags flags = (a[2].u ? SSQ_BROKER_QUEUE_PASSIVE : 0) |
                              (a[3].u ? SSQ_BROKER_QUEUE_DURABLE : 0) |
                              (a[4].u ? SSQ_BROKER_QUEUE_EXCLUSIVE : 0) |
                              (a[5].u ? SSQ_BROKER_QUEUE_AUTO_DELETE : 0);

  ssq_broker_queue_args_init (&args);
  ok = ssq_broker_queue_args_parse (a[1].str, a[7].bytes, &args, error) &&
       ssq_broker_queue_declare (ch->broker, a[1].str, flags, &args, &name, &messages,
                                 &consumers, error);
  ssq_broker_queue_args_clear (&args);
  if (!ok)
    return FALSE;
  reply (ch, a[6].u, SSQ_AMQP_QUEUE_DECLARE_OK, name, messages, consumers);
  g_free (ch->last_queue);
  ch->last_queue = g_steal_pointer (&name);
  return TRUE;
}

static gboolean
queue_method (SsqAmqpChannel *ch,
              guint32         id,
              SsqAmqpArg     *a,
              GError        **error)
{
  const char *queue;
  guint32 count = 0;

  if (id == SSQ_AMQP_QUEUE_DECLARE)
    return queue_declare (ch, a, error);
  if ((queue = queue_name (ch, a[1].str, id)) == NULL)
    return TRUE;   /* failed already */
  switch (id)
    {
    case SSQ_AMQP_QUEUE_BIND:
      if (!ssq_broker_queue_bind (ch->broker, queue, a[2].str, a[3].str, a[5].bytes, error))
        return FALSE;
      reply (ch, a[4].u, SSQ_AMQP_QUEUE_BIND_OK);
      return TRUE;
    case SSQ_AMQP_QUEUE_UNBIND:
      if (!ssq_broker_queue_unbind (ch->broker, queue, a[2].str, a[3].str, a[4].bytes, error))
        return FALSE;
      reply (ch, FALSE, SSQ_AMQP_QUEUE_UNBIND_OK);
      return TRUE;
    case SSQ_AMQP_QUEUE_PURGE:
      if (!ssq_broker_queue_purge (ch->broker, queue, &count, error))
        return FALSE;
      reply (ch, a[2].u, SSQ_AMQP_QUEUE_PURGE_OK, count);
      return TRUE;
    case SSQ_AMQP_QUEUE_DELETE:
      if (!ssq_broker_queue_delete (ch->broker, queue, a[2].u, a[3].u, &count, error))
        return FALSE;
      reply (ch, a[4].u, SSQ_AMQP_QUEUE_DELETE_OK, count);
      return TRUE;
    default:
      g_assert_not_reached ();
    }
}

static gboolean
basic_get (SsqAmqpChannel *ch,
           SsqAmqpArg     *a,
           GError        **error)
{
  SsqBrokerDelivery d = { 0 };
  const char *queue = queue_name (ch, a[1].str, SSQ_AMQP_BASIC_GET);

  if (queue == NULL)
    return TRUE;
  if (!ssq_broker_get (ch->broker, queue, a[2].u, 0, &d, error))
    return FALSE;
  if (d.message == NULL)
    {
      reply (ch, FALSE, SSQ_AMQP_BASIC_GET_EMPTY, "");
      return TRUE;
    }
  reply (ch, FALSE, SSQ_AMQP_BASIC_GET_OK, d.delivery_tag, d.redelivered,
         ssq_broker_message_get_exchange (d.message),
         ssq_broker_message_get_routing_key (d.message), (guint) d.message_count);
  write_content (ch, d.message);
  return TRUE;
}

static gboolean
basic_consume (SsqAmqpChannel *ch,
               SsqAmqpArg     *a,
               GError        **error)
{
  g_autofree char *tag = NULL;
  const char *queue = queue_name (ch, a[1].str, SSQ_AMQP_BASIC_CONSUME);
  SsqBrokerConsumeOptions options = {
    .consumer_tag = a[2].str,
    .no_ack = a[4].u != 0,
    .exclusive = a[5].u != 0,
  };

  if (queue == NULL)
    return TRUE;
  if (!ssq_broker_consume (ch->broker, queue, &options, &tag, error))
    return FALSE;
  reply (ch, a[6].u, SSQ_AMQP_BASIC_CONSUME_OK, tag);
  return TRUE;
}

static gboolean
basic_method (SsqAmqpChannel *ch,
              guint32         id,
              SsqAmqpMethod  *method,
              GError        **error)
{
  SsqAmqpArg *a = method->args;

  switch (id)
    {
    case SSQ_AMQP_BASIC_QOS:
      if (!ssq_broker_channel_qos (ch->broker, (guint32) a[0].u, (guint16) a[1].u, a[2].u, error))
        return FALSE;
      reply (ch, FALSE, SSQ_AMQP_BASIC_QOS_OK);
      return TRUE;
    case SSQ_AMQP_BASIC_CONSUME:
      return basic_consume (ch, a, error);
    case SSQ_AMQP_BASIC_CANCEL:
      ssq_broker_cancel (ch->broker, a[0].str);
      reply (ch, a[1].u, SSQ_AMQP_BASIC_CANCEL_OK, a[0].str);
      return TRUE;
    case SSQ_AMQP_BASIC_PUBLISH:
      begin_publish (ch, method);
      return TRUE;
    case SSQ_AMQP_BASIC_GET:
      return basic_get (ch, a, error);
    case SSQ_AMQP_BASIC_ACK:
      return ssq_broker_ack (ch->broker, a[0].u, a[1].u, error);
    case SSQ_AMQP_BASIC_REJECT:
      return ssq_broker_nack (ch->broker, a[0].u, FALSE, a[1].u, error);
    case SSQ_AMQP_BASIC_NACK:
      return ssq_broker_nack (ch->broker, a[0].u, a[1].u, a[2].u, error);
    case SSQ_AMQP_BASIC_RECOVER:
    case SSQ_AMQP_BASIC_RECOVER_ASYNC:
      if (!ssq_broker_recover (ch->broker, a[0].u, error))
        return FALSE;
      if (id == SSQ_AMQP_BASIC_RECOVER)
        reply (ch, FALSE, SSQ_AMQP_BASIC_RECOVER_OK);
      return TRUE;
    default:
      g_set_error (error, SSQ_AMQP_ERROR, SSQ_AMQP_REPLY_COMMAND_INVALID,
                   "COMMAND_INVALID - '%s' is not a method a client sends",
                   ssq_amqp_method_name (id));
      return FALSE;
    }
}

static gboolean
dispatch (SsqAmqpChannel *ch,
          guint32         id,
          SsqAmqpMethod  *method,
          GError        **error)
{
  switch (id)
    {
    case SSQ_AMQP_CHANNEL_FLOW:
      ssq_broker_channel_set_flow (ch->broker, method->args[0].u);
      reply (ch, FALSE, SSQ_AMQP_CHANNEL_FLOW_OK, (gboolean) method->args[0].u);
      return TRUE;
    case SSQ_AMQP_EXCHANGE_DECLARE:
    case SSQ_AMQP_EXCHANGE_DELETE:
    case SSQ_AMQP_EXCHANGE_BIND:
    case SSQ_AMQP_EXCHANGE_UNBIND:
      return exchange_method (ch, id, method->args, error);
    case SSQ_AMQP_QUEUE_DECLARE:
    case SSQ_AMQP_QUEUE_BIND:
    case SSQ_AMQP_QUEUE_UNBIND:
    case SSQ_AMQP_QUEUE_PURGE:
    case SSQ_AMQP_QUEUE_DELETE:
      return queue_method (ch, id, method->args, error);
    case SSQ_AMQP_CONFIRM_SELECT:
      ch->confirm = TRUE;
      reply (ch, method->args[0].u, SSQ_AMQP_CONFIRM_SELECT_OK);
      return TRUE;
    case SSQ_AMQP_TX_SELECT:
    case SSQ_AMQP_TX_COMMIT:
    case SSQ_AMQP_TX_ROLLBACK:
      g_set_error (error, SSQ_AMQP_ERROR, SSQ_AMQP_REPLY_NOT_IMPLEMENTED,
                   "NOT_IMPLEMENTED - transactions (tx.*) are not supported; use publisher confirms");
      return FALSE;
    default:
      if ((id >> 16) == SSQ_AMQP_CLASS_BASIC)
        return basic_method (ch, id, method, error);
      g_set_error (error, SSQ_AMQP_ERROR, SSQ_AMQP_REPLY_COMMAND_INVALID,
                   "COMMAND_INVALID - '%s' is not a method a client sends",
                   ssq_amqp_method_name (id));
      return FALSE;
    }
}

void
ssq_amqp_channel_method (SsqAmqpChannel *channel,
                         guint32         id,
                         SsqAmqpMethod  *method)
{
  g_autoptr (GError) error = NULL;

  /* A method where content was due. */
  if (channel->publishing)
    {
      fail (channel, id, SSQ_AMQP_REPLY_UNEXPECTED_FRAME,
            "expected content for 'basic.publish', got '%s'", ssq_amqp_method_name (id));
      return;
    }
  if (!dispatch (channel, id, method, &error))
    ssq_amqp_connection_error (channel->conn, channel->number, error, id);
}
