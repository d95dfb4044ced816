/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-session.c: one WebSocket session: who it is, whether it is
 * open, and the way out. Frames for many sessions are built once by the
 * caller and queued here as they are; the transport bounds the queue and
 * cuts a peer that stops reading. Requests in flight are counted: past
 * max_requests_in_flight the session stops reading, so a client that floods
 * requests waits in its own socket buffer instead of our memory. */
#include "ssq-server-session-private.h"
#include "ssq-server-hub.h"
#include "ssq-server-queues.h"

G_DEFINE_FINAL_TYPE (SsqServerSession, ssq_server_session, G_TYPE_OBJECT)

static void
ssq_server_session_dispose (GObject *object)
{
  SsqServerSession *self = SSQ_SERVER_SESSION (object);

  ssq_server_frames_cancel (self);
  g_clear_pointer (&self->conn, ssq_net_conn_unref);
  G_OBJECT_CLASS (ssq_server_session_parent_class)->dispose (object);
}

static void
ssq_server_session_finalize (GObject *object)
{
  SsqServerSession *self = SSQ_SERVER_SESSION (object);

  g_free (self->user_id);
  g_clear_pointer (&self->token_hash, g_bytes_unref);
  g_free (self->id);
  G_OBJECT_CLASS (ssq_server_session_parent_class)->finalize (object);
}

static void
ssq_server_session_class_init (SsqServerSessionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = ssq_server_session_dispose;
  object_class->finalize = ssq_server_session_finalize;
}

static void
ssq_server_session_init (SsqServerSession *self)
{
  g_queue_init (&self->sync_jobs);
}

const char *
ssq_server_session_get_user_id (SsqServerSession *self)
{
  return self->user_id;
}

/* The hash of the token the session was opened with: it ends with it. */
GBytes *
ssq_server_session_get_token_hash (SsqServerSession *self)
{
  return self->token_hash;
}

const char *
ssq_server_session_get_id (SsqServerSession *self)
{
  return self->id;
}

gboolean
ssq_server_session_is_open (SsqServerSession *self)
{
  return self->open;
}

gboolean
ssq_server_session_derives_notifications (SsqServerSession *self)
{
  return self->derive_notifications;
}

void
ssq_server_session_send (SsqServerSession *self,
                         GBytes           *frame)
{
  if (!self->open || !ssq_net_ws_send (self->conn, frame))
    return;
  self->server->metrics.events_sent_total++;
}

void
ssq_server_session_send_object (SsqServerSession *self,
                                JsonObject       *object)
{
  g_autoptr(GBytes) frame = NULL;

  if (!self->open)
    return;
  frame = ssq_server_wire (object);
  ssq_server_session_send (self, frame);
}

void
ssq_server_session_send_error (SsqServerSession *self,
                               JsonNode         *request_id,
                               const GError     *error)
{
  g_autoptr(JsonObject) obj = ssq_wire_error_from_gerror (request_id, error);

  ssq_server_metrics_error (&self->server->metrics, error);
  ssq_server_session_send_object (self, obj);
}

void
ssq_server_session_request_begin (SsqServerSession *self)
{
  if (++self->in_flight >= self->server->config->max_requests_in_flight && self->open)
    ssq_net_conn_pause_reading (self->conn, TRUE);
}

void
ssq_server_session_request_end (SsqServerSession *self)
{
  g_assert (self->in_flight > 0);
  if (self->in_flight-- == self->server->config->max_requests_in_flight && self->open)
    ssq_net_conn_pause_reading (self->conn, FALSE);
}

static void
detach (SsqServerSession *self)
{
  self->open = FALSE;
  ssq_server_frames_cancel (self);
  g_clear_pointer (&self->queues, ssq_server_session_queues_free);
  if (self->attached)
    {
      self->attached = FALSE;
      ssq_server_hub_detach (self->server->hub, self);
    }
}

/* Closes with @code behind the frames already queued; a peer that does not
 * answer within 3 s is cut. */
void
ssq_server_session_close (SsqServerSession *self,
                          gushort           code,
                          const char       *reason)
{
  if (!self->open)
    return;
  detach (self);
  ssq_net_ws_close (self->conn, code, reason);
}

/* ---- Transport callbacks ---------------------------------------------- */

static void
message_cb (SsqNetConn *conn,
            const char *data,
            gsize       length,
            gboolean    binary,
            gpointer    user_data)
{
  SsqServerSession *self = user_data;

  if (!self->open)
    return;
  if (binary)
    {
      g_autoptr(GError) error = g_error_new_literal (SSQ_ERROR, SSQ_ERROR_INVALID,
                                                     "Binary frames are not part of the protocol");
      ssq_server_session_send_error (self, NULL, error);
      return;
    }
  ssq_server_frames_dispatch (self, data, length);
}

static void
closed_cb (SsqNetConn        *conn,
           gushort            code,
           SsqNetCloseReason  reason,
           gpointer           user_data)
{
  SsqServerSession *self = user_data;

  if (reason == SSQ_NET_CLOSE_SLOW)
    {
      g_message ("Session %s: the peer stopped reading; cut off", self->id);
      self->server->metrics.ws_cut_slow_total++;
    }
  detach (self);
  self->server->sessions_alive--;
  g_object_unref (self);     /* the reference taken in ssq_server_session_new */
}

static const SsqNetWsCallbacks ws_callbacks = { message_cb, closed_cb };

/**
 * ssq_server_session_new:
 * Answers the upgrade, registers the session with the hub and greets the
 * client. The session keeps itself alive until its connection closes.
 * Returns NULL (the request answered 400) when the handshake is not one.
 */
SsqServerSession *
ssq_server_session_new (SsqServer     *server,
                        SsqNetRequest *upgrade,
                        const char    *user_id,
                        GBytes        *token_hash,
                        gboolean       derive_notifications)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SsqUserRow) user = NULL;
  g_autoptr(JsonObject) welcome = NULL;
  g_autoptr(JsonObject) me = NULL;
  SsqServerSession *self = g_object_new (SSQ_TYPE_SERVER_SESSION, NULL);

  self->server = server;
  self->conn = ssq_net_request_accept_websocket (upgrade, &ws_callbacks, self);
  if (self->conn == NULL)
    {
      g_object_unref (self);
      return NULL;
    }
  self->user_id = g_strdup (user_id);
  self->token_hash = g_bytes_ref (token_hash);
  self->id = ssq_server_store_new_id ('s');
  self->derive_notifications = derive_notifications;
  self->open = TRUE;
  server->sessions_alive++;

  /* welcome goes first: attaching to the hub announces the user's presence,
   * to this session too. */
  user = ssq_server_store_user_by_id (server->store, user_id, NULL);
  if (user != NULL)
    {
      const char *presence = ssq_server_hub_presence (server->hub, user_id);

      me = ssq_server_json_user (server, user);
      /* As it will be once attached: online, or the status another
       * session of the user chose. */
      json_object_set_string_member (me, "presence",
                                     g_str_equal (presence, "offline") ? "online" : presence);
    }
  welcome = ssq_wire_welcome_encode (&(SsqWireWelcome) { me, self->id, ssq_now_ms (),
                                                         SSQ_PROTOCOL_VERSION, TRUE });
  ssq_server_session_send_object (self, welcome);

  if (!ssq_server_hub_attach (server->hub, self, &error))
    {
      ssq_server_session_close (self, SSQ_CLOSE_TRY_AGAIN, error->message);
      return self;
    }
  self->attached = TRUE;
  server->metrics.ws_accepted_total++;
  return self;
}
