/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-amqp-connection.c: one AMQP 0-9-1 connection: the protocol header,
 * start / start-ok (the login) / tune / tune-ok / open, channel 0's close,
 * heartbeats both ways, frames to channels, and the error model: a
 * connection exception sends connection.close and then waits only for
 * close-ok, a channel exception closes that channel alone. Every deadline
 * (the handshake's 10 s, heartbeats, the wait for close-ok) is the one
 * timer of the transport connection. */
#include "ssq-amqp-private.h"
#include "ssq-config.h"

#include <string.h>

static const guint8 protocol_header[8] = { 'A', 'M', 'Q', 'P', 0, 0, 9, 1 };

static void update_deadline (SsqAmqpConnection *conn);

SsqAmqpConnection *
ssq_amqp_connection_new (SsqAmqpServer *server,
                         SsqNetConn    *net)
{
  SsqAmqpConnection *conn = g_new0 (SsqAmqpConnection, 1);

  conn->server = server;
  conn->net = ssq_net_conn_ref (net);
  conn->link.data = conn;
  g_queue_push_tail_link (&server->connections, &conn->link);
  conn->state = SSQ_AMQP_STATE_HEADER;
  /* Until tune-ok, frames are held to the minimum size every peer accepts. */
  conn->frame_max = SSQ_AMQP_FRAME_MIN_SIZE;
  conn->channel_max = server->channel_max;
  conn->reader = ssq_amqp_frame_reader_new (conn->frame_max);
  conn->accepted_ms = conn->read_ms = conn->write_ms = ssq_net_now_ms ();
  conn->channels = g_hash_table_new_full (NULL, NULL, NULL,
                                          (GDestroyNotify) ssq_amqp_channel_free);
  conn->out = g_byte_array_new ();
  update_deadline (conn);
  return conn;
}

/* Channels and the broker's connection (its exclusive queues go, its
 * unacknowledged deliveries are requeued). */
static void
drop_broker_state (SsqAmqpConnection *conn)
{
  g_hash_table_remove_all (conn->channels);
  g_clear_pointer (&conn->broker, ssq_broker_connection_free);
}

void
ssq_amqp_connection_free (SsqAmqpConnection *conn)
{
  g_clear_handle_id (&conn->confirm_idle, g_source_remove);
  if (conn->login != NULL)
    ssq_amqp_login_cancel (g_steal_pointer (&conn->login));
  drop_broker_state (conn);
  g_hash_table_unref (conn->channels);
  g_queue_unlink (&conn->server->connections, &conn->link);
  ssq_amqp_frame_reader_free (conn->reader);
  g_byte_array_unref (conn->out);
  g_clear_pointer (&conn->net, ssq_net_conn_unref);
  g_free (conn->user_id);
  g_free (conn->username);
  g_free (conn);
}

void
ssq_amqp_connection_flush (SsqAmqpConnection *conn)
{
  g_autoptr (GBytes) bytes = NULL;

  if (conn->out->len == 0)
    return;
  bytes = g_bytes_new (conn->out->data, conn->out->len);
  g_byte_array_set_size (conn->out, 0);
  if (conn->net != NULL && ssq_net_raw_send (conn->net, bytes))
    conn->write_ms = ssq_net_now_ms ();
}

static gboolean
confirms_cb (gpointer user_data)
{
  SsqAmqpConnection *conn = user_data;
  GHashTableIter iter;
  gpointer channel;

  conn->confirm_idle = 0;
  g_hash_table_iter_init (&iter, conn->channels);
  while (g_hash_table_iter_next (&iter, NULL, &channel))
    ssq_amqp_channel_send_confirms (channel);
  ssq_amqp_connection_flush (conn);
  return G_SOURCE_REMOVE;
}

/* The broker tells the outcomes of one turn one after the other from its
 * idle source; an idle added meanwhile runs once they are all told. */
void
ssq_amqp_connection_confirms_later (SsqAmqpConnection *conn)
{
  if (conn->confirm_idle == 0)
    conn->confirm_idle = g_idle_add_full (G_PRIORITY_DEFAULT, confirms_cb, conn, NULL);
}

gboolean
ssq_amqp_connection_is_backed_up (SsqAmqpConnection *conn)
{
  gsize bound = conn->server->server->config->send_queue_max / 2;

  return conn->net == NULL || ssq_net_conn_get_queued (conn->net) + conn->out->len >= bound;
}

/* Sends what is built, then closes once it has left. */
static void
finish (SsqAmqpConnection *conn)
{
  ssq_amqp_connection_flush (conn);
  conn->state = SSQ_AMQP_STATE_CLOSED;
  if (conn->net != NULL)
    ssq_net_raw_finish (conn->net);
}

void
ssq_amqp_connection_fail (SsqAmqpConnection *conn,
                          int                code,
                          const char        *text,
                          guint32            method_id)
{
  if (conn->state >= SSQ_AMQP_STATE_CLOSING)
    return;
  g_debug ("AMQP connection from %s closed: %s", ssq_net_conn_get_peer (conn->net), text);
  if (conn->login != NULL)
    ssq_amqp_login_cancel (g_steal_pointer (&conn->login));
  drop_broker_state (conn);
  if (conn->state == SSQ_AMQP_STATE_HEADER)
    {
      finish (conn);
      return;
    }
  ssq_amqp_frame_write_method (conn->out, 0, SSQ_AMQP_CONNECTION_CLOSE, code, text,
                               method_id >> 16, method_id & 0xffff);
  ssq_amqp_connection_flush (conn);
  conn->state = SSQ_AMQP_STATE_CLOSING;
  conn->closing_ms = ssq_net_now_ms ();
  /* A login refused left reading paused: close-ok must still come in. */
  ssq_net_conn_pause_reading (conn->net, FALSE);
  update_deadline (conn);
}

void
ssq_amqp_connection_error (SsqAmqpConnection *conn,
                           guint16            channel,
                           const GError      *error,
                           guint32            method_id)
{
  SsqAmqpChannel *ch = g_hash_table_lookup (conn->channels, GUINT_TO_POINTER (channel));

  if (ssq_amqp_reply_is_hard (error->code) || ch == NULL)
    ssq_amqp_connection_fail (conn, error->code, error->message, method_id);
  else
    ssq_amqp_channel_fail (ch, error, method_id);
}

/* A reply text in RabbitMQ's form: "NAME - what". */
static void
fail_printf (SsqAmqpConnection *conn,
             int                code,
             guint32            method_id,
             const char        *format,
             ...) G_GNUC_PRINTF (4, 5);

static void
fail_printf (SsqAmqpConnection *conn,
             int                code,
             guint32            method_id,
             const char        *format,
             ...)
{
  g_autofree char *what = NULL;
  g_autofree char *text = NULL;
  va_list args;

  va_start (args, format);
  what = g_strdup_vprintf (format, args);
  va_end (args);
  text = g_strdup_printf ("%s - %s", ssq_amqp_reply_name (code), what);
  ssq_amqp_connection_fail (conn, code, text, method_id);
}

/* ---- Deadlines -------------------------------------------------------- */

static void
update_deadline (SsqAmqpConnection *conn)
{
  gint64 deadline = 0;
  gint64 beat = (gint64) conn->heartbeat * 1000;

  if (conn->net == NULL || conn->state == SSQ_AMQP_STATE_CLOSED)
    return;
  if (conn->state < SSQ_AMQP_STATE_OPENED)
    deadline = conn->accepted_ms + SSQ_AMQP_HANDSHAKE_TIMEOUT_MS;
  else if (conn->state == SSQ_AMQP_STATE_CLOSING)
    deadline = conn->closing_ms + SSQ_AMQP_CLOSE_TIMEOUT_MS;
  else if (beat > 0)
    deadline = MIN (conn->write_ms + beat / 2, conn->read_ms + 2 * beat);
  ssq_net_raw_set_deadline (conn->net, deadline);
}

void
ssq_amqp_connection_timeout (SsqAmqpConnection *conn)
{
  gint64 now = ssq_net_now_ms ();
  gint64 beat = (gint64) conn->heartbeat * 1000;

  if (conn->state < SSQ_AMQP_STATE_OPENED &&
      now - conn->accepted_ms >= SSQ_AMQP_HANDSHAKE_TIMEOUT_MS)
    {
      /* As RabbitMQ: a handshake that does not finish in time is cut
       * without a word (the peer may not even speak AMQP). */
      g_debug ("AMQP handshake from %s timed out", ssq_net_conn_get_peer (conn->net));
      ssq_net_raw_abort (conn->net);
      return;
    }
  if (conn->state == SSQ_AMQP_STATE_CLOSING &&
      now - conn->closing_ms >= SSQ_AMQP_CLOSE_TIMEOUT_MS)
    {
      ssq_net_raw_abort (conn->net);
      return;
    }
  if (conn->state == SSQ_AMQP_STATE_OPENED && beat > 0)
    {
      if (now - conn->read_ms >= 2 * beat)
        {
          g_message ("AMQP connection of %s from %s: missed heartbeats, closed after %" G_GINT64_FORMAT " s of silence",
                     conn->username, ssq_net_conn_get_peer (conn->net), (now - conn->read_ms) / 1000);
          ssq_net_raw_abort (conn->net);
          return;
        }
      if (now - conn->write_ms >= beat / 2)
        {
          ssq_amqp_frame_write_heartbeat (conn->out);
          ssq_amqp_connection_flush (conn);
        }
    }
  update_deadline (conn);
}

void
ssq_amqp_connection_drained (SsqAmqpConnection *conn)
{
  GHashTableIter iter;
  gpointer channel;

  g_hash_table_iter_init (&iter, conn->channels);
  while (g_hash_table_iter_next (&iter, NULL, &channel))
    ssq_amqp_channel_writable (channel, TRUE);
  ssq_amqp_connection_flush (conn);
  if (conn->output_paused && conn->net != NULL)
    {
      conn->output_paused = FALSE;
      ssq_net_conn_pause_reading (conn->net, FALSE);
    }
}

/* ---- The handshake ---------------------------------------------------- */

static SsqAmqpTable *
server_properties (void)
{
  SsqAmqpTable *props = ssq_amqp_table_new ();
  g_autoptr (SsqAmqpTable) caps = ssq_amqp_table_new ();
  static const struct { const char *name; gboolean on; } capabilities[] = {
    { "publisher_confirms", TRUE },
    { "exchange_exchange_bindings", FALSE },
    { "basic.nack", TRUE },
    { "consumer_cancel_notify", TRUE },
    { "connection.blocked", FALSE },
    { "consumer_priorities", FALSE },
    { "authentication_failure_close", TRUE },
    { "per_consumer_qos", TRUE },
    { "direct_reply_to", FALSE },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (capabilities); i++)
    ssq_amqp_table_take (caps, capabilities[i].name,
                         ssq_amqp_value_new_boolean (capabilities[i].on));
  ssq_amqp_table_take (props, "capabilities", ssq_amqp_value_new_table (caps));
  ssq_amqp_table_take (props, "product", ssq_amqp_value_new_string ("SupersoniQ"));
  ssq_amqp_table_take (props, "version", ssq_amqp_value_new_string (SSQ_VERSION));
  ssq_amqp_table_take (props, "platform", ssq_amqp_value_new_string ("C/GLib"));
  ssq_amqp_table_take (props, "information",
                       ssq_amqp_value_new_string ("https://supersoniq.example/ (AMQP 0-9-1)"));
  return props;
}

static void
send_start (SsqAmqpConnection *conn)
{
  g_autoptr (SsqAmqpTable) props = server_properties ();
  g_autoptr (GBytes) mechanisms = g_bytes_new_static ("PLAIN AMQPLAIN", 14);
  g_autoptr (GBytes) locales = g_bytes_new_static ("en_US", 5);

  ssq_amqp_frame_write_method (conn->out, 0, SSQ_AMQP_CONNECTION_START, 0, 9, props,
                               mechanisms, locales);
  conn->state = SSQ_AMQP_STATE_START_OK;
}

/* The 8 bytes before any frame: "AMQP" 0 0 9 1. Anything else gets the
 * header we speak and the door, as the spec says (at the first wrong byte:
 * an HTTP client hears at once). */
static gsize
feed_header (SsqAmqpConnection *conn,
             const guint8      *data,
             gsize              len)
{
  gsize used = 0;

  while (used < len && conn->header_len < 8)
    {
      guint8 b = data[used++];

      conn->header[conn->header_len] = b;
      if (b != protocol_header[conn->header_len++])
        {
          g_debug ("AMQP connection from %s: not AMQP 0-9-1", ssq_net_conn_get_peer (conn->net));
          g_byte_array_append (conn->out, protocol_header, 8);
          finish (conn);
          return len;
        }
    }
  if (conn->header_len == 8)
    {
      send_start (conn);
      ssq_amqp_connection_flush (conn);
    }
  return used;
}

static void
start_ok (SsqAmqpConnection *conn,
          SsqAmqpMethod     *method)
{
  const char *mechanism = method->args[1].str;

  if (g_strcmp0 (mechanism, "PLAIN") != 0 && g_strcmp0 (mechanism, "AMQPLAIN") != 0)
    {
      fail_printf (conn, SSQ_AMQP_REPLY_ACCESS_REFUSED, SSQ_AMQP_CONNECTION_START_OK,
                   "unsupported authentication mechanism '%s'", mechanism);
      return;
    }
  conn->state = SSQ_AMQP_STATE_LOGIN;
  ssq_net_conn_pause_reading (conn->net, TRUE);
  ssq_amqp_login_start (conn, mechanism, method->args[2].bytes);
}

void
ssq_amqp_connection_logged_in (SsqAmqpConnection *conn,
                               const SsqUserRow  *user)
{
  SsqAmqpServer *server = conn->server;

  conn->login = NULL;
  conn->user_id = g_strdup (user->id);
  conn->username = g_strdup (user->username);
  conn->server_admin = user->server_admin;
  ssq_amqp_frame_write_method (conn->out, 0, SSQ_AMQP_CONNECTION_TUNE, (guint) server->channel_max,
                               (guint) server->frame_max, (guint) server->heartbeat);
  ssq_amqp_connection_flush (conn);
  conn->state = SSQ_AMQP_STATE_TUNE_OK;
  ssq_net_conn_pause_reading (conn->net, FALSE);
}

void
ssq_amqp_connection_login_refused (SsqAmqpConnection *conn,
                                   const char        *text)
{
  conn->login = NULL;
  ssq_amqp_connection_fail (conn, SSQ_AMQP_REPLY_ACCESS_REFUSED, text,
                            SSQ_AMQP_CONNECTION_START_OK);
}

static void
tune_ok (SsqAmqpConnection *conn,
         SsqAmqpMethod     *method)
{
  SsqAmqpServer *server = conn->server;
  guint32 channel_max = (guint32) method->args[0].u;
  guint32 frame_max = (guint32) method->args[1].u;

  /* 0 is "no limit of mine": ours then. */
  if (channel_max == 0)
    channel_max = server->channel_max;
  if (frame_max == 0)
    frame_max = server->frame_max;
  if (channel_max > server->channel_max)
    {
      fail_printf (conn, SSQ_AMQP_REPLY_NOT_ALLOWED, SSQ_AMQP_CONNECTION_TUNE_OK,
                   "channel_max=%u > %u max", channel_max, server->channel_max);
      return;
    }
  if (frame_max > server->frame_max || frame_max < SSQ_AMQP_FRAME_MIN_SIZE)
    {
      fail_printf (conn, SSQ_AMQP_REPLY_NOT_ALLOWED, SSQ_AMQP_CONNECTION_TUNE_OK,
                   frame_max > server->frame_max ? "frame_max=%u > %u max size"
                                                 : "frame_max=%u < %u min size",
                   frame_max, frame_max > server->frame_max ? server->frame_max
                                                            : SSQ_AMQP_FRAME_MIN_SIZE);
      return;
    }
  conn->channel_max = (guint16) channel_max;
  conn->frame_max = frame_max;
  conn->heartbeat = (guint16) method->args[2].u;
  ssq_amqp_frame_reader_set_frame_max (conn->reader, frame_max);
  conn->state = SSQ_AMQP_STATE_OPEN;
}

static void
forced_closed_cb (SsqBrokerConnection *broker,
                  const GError        *error,
                  gpointer             user_data)
{
  SsqAmqpConnection *conn = user_data;

  ssq_amqp_connection_fail (conn, error->code, error->message, 0);
}

static void
open (SsqAmqpConnection *conn,
      SsqAmqpMethod     *method)
{
  SsqBroker *broker = conn->server->server->broker;
  SsqBrokerPrincipal principal = {
    .user_id = conn->user_id,
    .username = conn->username,
    .server_admin = conn->server_admin,
  };

  /* One virtual host. */
  if (g_strcmp0 (method->args[0].str, "/") != 0)
    {
      fail_printf (conn, SSQ_AMQP_REPLY_NOT_ALLOWED, SSQ_AMQP_CONNECTION_OPEN,
                   "access to vhost '%s' refused for user '%s'", method->args[0].str,
                   conn->username);
      return;
    }
  if (broker == NULL)
    {
      fail_printf (conn, SSQ_AMQP_REPLY_INTERNAL_ERROR, SSQ_AMQP_CONNECTION_OPEN,
                   "the broker is not running");
      return;
    }
  conn->broker = ssq_broker_connection_new (broker, &principal, forced_closed_cb, conn);
  ssq_amqp_frame_write_method (conn->out, 0, SSQ_AMQP_CONNECTION_OPEN_OK, "");
  conn->state = SSQ_AMQP_STATE_OPENED;
  g_info ("AMQP connection of %s from %s open", conn->username,
          ssq_net_conn_get_peer (conn->net));
}

/* ---- Frames ----------------------------------------------------------- */

static const guint32 expected_in_handshake[] = {
  [SSQ_AMQP_STATE_START_OK] = SSQ_AMQP_CONNECTION_START_OK,
  [SSQ_AMQP_STATE_TUNE_OK] = SSQ_AMQP_CONNECTION_TUNE_OK,
  [SSQ_AMQP_STATE_OPEN] = SSQ_AMQP_CONNECTION_OPEN,
};

static void
handshake_method (SsqAmqpConnection *conn,
                  guint16            channel,
                  guint32            id,
                  SsqAmqpMethod     *method)
{
  guint32 expected = expected_in_handshake[conn->state];

  if (id == SSQ_AMQP_CONNECTION_CLOSE && channel == 0)
    {
      ssq_amqp_frame_write_method (conn->out, 0, SSQ_AMQP_CONNECTION_CLOSE_OK);
      finish (conn);
      return;
    }
  if (id != expected || channel != 0)
    {
      fail_printf (conn, SSQ_AMQP_REPLY_COMMAND_INVALID, id, "expected '%s', got '%s'",
                   ssq_amqp_method_name (expected), ssq_amqp_method_name (id));
      return;
    }
  switch (conn->state)
    {
    case SSQ_AMQP_STATE_START_OK: start_ok (conn, method); break;
    case SSQ_AMQP_STATE_TUNE_OK:  tune_ok (conn, method); break;
    case SSQ_AMQP_STATE_OPEN:     open (conn, method); break;
    default:                      g_assert_not_reached ();
    }
}

static void
connection_method (SsqAmqpConnection *conn,
                   guint32            id,
                   SsqAmqpMethod     *method)
{
  switch (id)
    {
    case SSQ_AMQP_CONNECTION_CLOSE:
      ssq_amqp_frame_write_method (conn->out, 0, SSQ_AMQP_CONNECTION_CLOSE_OK);
      drop_broker_state (conn);
      finish (conn);
      break;
    case SSQ_AMQP_CONNECTION_BLOCKED:
    case SSQ_AMQP_CONNECTION_UNBLOCKED:
      break;   /* the client's news; we do not act on it */
    case SSQ_AMQP_CONNECTION_UPDATE_SECRET:
      fail_printf (conn, SSQ_AMQP_REPLY_NOT_IMPLEMENTED, id, "connection.update-secret");
      break;
    default:
      fail_printf (conn, SSQ_AMQP_REPLY_COMMAND_INVALID, id, "'%s' is not a method a client sends",
                   ssq_amqp_method_name (id));
      break;
    }
}

static void
channel_open (SsqAmqpConnection *conn,
              guint16            number)
{
  if (g_hash_table_contains (conn->channels, GUINT_TO_POINTER (number)))
    {
      fail_printf (conn, SSQ_AMQP_REPLY_CHANNEL_ERROR, SSQ_AMQP_CHANNEL_OPEN,
                   "second 'channel.open' seen");
      return;
    }
  if (number > conn->channel_max)
    {
      fail_printf (conn, SSQ_AMQP_REPLY_NOT_ALLOWED, SSQ_AMQP_CHANNEL_OPEN,
                   "channel %u is above the negotiated channel_max (%u)", number,
                   conn->channel_max);
      return;
    }
  /* Each channel costs memory (~600 bytes): all of them are bounded, like
   * channel_max, by a connection error (a refused channel.open has no
   * channel to close). */
  if (conn->server->n_channels >= conn->server->max_channels)
    {
      fail_printf (conn, SSQ_AMQP_REPLY_NOT_ALLOWED, SSQ_AMQP_CHANNEL_OPEN,
                   "the server's channel limit ([amqp] max_channels %u) is reached",
                   conn->server->max_channels);
      return;
    }
  if (ssq_amqp_server_user_channels (conn->server, conn->user_id) >=
      ssq_amqp_server_user_channel_max (conn->server))
    {
      fail_printf (conn, SSQ_AMQP_REPLY_NOT_ALLOWED, SSQ_AMQP_CHANNEL_OPEN,
                   "this user holds %u channels, a quarter of the server's "
                   "([amqp] max_channels %u)", ssq_amqp_server_user_channel_max (conn->server),
                   conn->server->max_channels);
      return;
    }
  g_hash_table_insert (conn->channels, GUINT_TO_POINTER (number),
                       ssq_amqp_channel_new (conn, number));
  ssq_amqp_frame_write_method (conn->out, number, SSQ_AMQP_CHANNEL_OPEN_OK, NULL);
}

static void
channel_method (SsqAmqpConnection *conn,
                guint16            number,
                guint32            id,
                SsqAmqpMethod     *method)
{
  SsqAmqpChannel *ch = g_hash_table_lookup (conn->channels, GUINT_TO_POINTER (number));

  if (id == SSQ_AMQP_CHANNEL_OPEN)
    {
      channel_open (conn, number);
      return;
    }
  if (ch == NULL)
    {
      fail_printf (conn, SSQ_AMQP_REPLY_CHANNEL_ERROR, id, "expected 'channel.open' on channel %u, got '%s'",
                   number, ssq_amqp_method_name (id));
      return;
    }
  ssq_amqp_channel_tell_outcomes (ch);
  if (ssq_amqp_channel_is_closing (ch))
    {
      /* Our channel.close crossed whatever the client sent meanwhile. */
      if (id == SSQ_AMQP_CHANNEL_CLOSE)
        ssq_amqp_frame_write_method (conn->out, number, SSQ_AMQP_CHANNEL_CLOSE_OK);
      if (id == SSQ_AMQP_CHANNEL_CLOSE || id == SSQ_AMQP_CHANNEL_CLOSE_OK)
        g_hash_table_remove (conn->channels, GUINT_TO_POINTER (number));
      return;
    }
  switch (id >> 16)
    {
    case SSQ_AMQP_CLASS_CONNECTION:
      fail_printf (conn, SSQ_AMQP_REPLY_COMMAND_INVALID, id, "'%s' on channel %u, not 0",
                   ssq_amqp_method_name (id), number);
      return;
    case SSQ_AMQP_CLASS_CHANNEL:
      if (id == SSQ_AMQP_CHANNEL_CLOSE)
        {
          g_hash_table_remove (conn->channels, GUINT_TO_POINTER (number));
          ssq_amqp_frame_write_method (conn->out, number, SSQ_AMQP_CHANNEL_CLOSE_OK);
          return;
        }
      if (id == SSQ_AMQP_CHANNEL_CLOSE_OK)
        return;    /* no close of ours to answer: nothing to do */
      break;
    default:
      break;
    }
  ssq_amqp_channel_method (ch, id, method);
}

static void
method_frame (SsqAmqpConnection  *conn,
              const SsqAmqpFrame *frame)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SsqAmqpMethod) method = NULL;
  guint32 id = 0;

  method = ssq_amqp_method_decode (frame->payload, frame->size, &id, &error);
  if (conn->state == SSQ_AMQP_STATE_CLOSING)
    {
      /* Only the answer to our close counts now (and a close crossing it). */
      if (id == SSQ_AMQP_CONNECTION_CLOSE_OK || id == SSQ_AMQP_CONNECTION_CLOSE)
        {
          if (id == SSQ_AMQP_CONNECTION_CLOSE)
            ssq_amqp_frame_write_method (conn->out, 0, SSQ_AMQP_CONNECTION_CLOSE_OK);
          finish (conn);
        }
      return;
    }
  if (method == NULL)
    {
      g_autofree char *text = g_strdup_printf ("%s - %s", ssq_amqp_reply_name (error->code),
                                               error->message);

      ssq_amqp_connection_fail (conn, error->code, text, id);
      return;
    }
  if (conn->state < SSQ_AMQP_STATE_OPENED)
    handshake_method (conn, frame->channel, id, method);
  else if (frame->channel == 0)
    connection_method (conn, id, method);
  else
    channel_method (conn, frame->channel, id, method);
}

static void
content_frame (SsqAmqpConnection  *conn,
               const SsqAmqpFrame *frame)
{
  SsqAmqpChannel *ch = g_hash_table_lookup (conn->channels, GUINT_TO_POINTER (frame->channel));

  if (conn->state == SSQ_AMQP_STATE_CLOSING)
    return;
  if (conn->state < SSQ_AMQP_STATE_OPENED || frame->channel == 0)
    {
      fail_printf (conn, SSQ_AMQP_REPLY_UNEXPECTED_FRAME, 0, "content frame on channel %u",
                   frame->channel);
      return;
    }
  if (ch == NULL)
    {
      fail_printf (conn, SSQ_AMQP_REPLY_CHANNEL_ERROR, 0, "expected 'channel.open' on channel %u",
                   frame->channel);
      return;
    }
  if (!ssq_amqp_channel_is_closing (ch))
    ssq_amqp_channel_content (ch, frame);
}

static void
handle_frame (SsqAmqpConnection  *conn,
              const SsqAmqpFrame *frame)
{
  switch (frame->type)
    {
    case SSQ_AMQP_FRAME_HEARTBEAT:
      if (frame->channel != 0)
        fail_printf (conn, SSQ_AMQP_REPLY_FRAME_ERROR, 0, "heartbeat on channel %u",
                     frame->channel);
      else if (frame->size != 0)   /* as RabbitMQ: a heartbeat is empty */
        fail_printf (conn, SSQ_AMQP_REPLY_FRAME_ERROR, 0, "heartbeat frame with a payload of %u bytes",
                     frame->size);
      break;
    case SSQ_AMQP_FRAME_METHOD:
      method_frame (conn, frame);
      break;
    default:
      content_frame (conn, frame);
      break;
    }
}

gsize
ssq_amqp_connection_feed (SsqAmqpConnection *conn,
                          const guint8      *data,
                          gsize              len)
{
  gsize used = 0;

  conn->read_ms = ssq_net_now_ms ();
  if (conn->state == SSQ_AMQP_STATE_HEADER)
    used = feed_header (conn, data, len);
  while (used < len && conn->state != SSQ_AMQP_STATE_CLOSED &&
         conn->state != SSQ_AMQP_STATE_LOGIN)
    {
      g_autoptr (GError) error = NULL;
      SsqAmqpFrame frame;

      used += ssq_amqp_frame_reader_feed (conn->reader, data + used, len - used, &frame, &error);
      if (error != NULL)
        {
          ssq_amqp_connection_fail (conn, error->code, error->message, 0);
          /* The framing is lost: nothing after can be read. */
          if (conn->state == SSQ_AMQP_STATE_CLOSING)
            {
              conn->state = SSQ_AMQP_STATE_CLOSED;
              ssq_net_raw_finish (conn->net);
            }
          used = len;
          break;
        }
      if (frame.type != 0)
        handle_frame (conn, &frame);
      /* Answers a peer does not read (basic.get-ok with its content,
       * returns, confirms) stay within the send queue's bound: what it
       * sent after waits unread in its socket until they drain. */
      if (conn->state == SSQ_AMQP_STATE_OPENED && ssq_amqp_connection_is_backed_up (conn))
        {
          conn->output_paused = TRUE;
          ssq_net_conn_pause_reading (conn->net, TRUE);
          ssq_net_raw_notify_drained (conn->net);
          break;
        }
    }
  if (conn->state == SSQ_AMQP_STATE_CLOSED)
    used = len;
  ssq_amqp_connection_flush (conn);
  update_deadline (conn);
  return used;
}
