/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-session.c: one WebSocket session: request frames in, events and
 * acks out, with a bound on what may wait unsent for a slow reader.
 *
 * libsoup's outgoing queue is unbounded and invisible, so the session counts
 * what it queued and asks the kernel (TCP_INFO) how much the peer has
 * acknowledged: the difference is what sits in memory, ours or the kernel's.
 * A peer more than send_queue_max behind is cut off; it will catch up with
 * sync after reconnecting. */
#include "ssq-server-session.h"
#include "ssq-server-chat.h"
#include "ssq-server-hub.h"

#include <netinet/in.h>
#include <linux/tcp.h>   /* struct tcp_info with tcpi_bytes_acked; glibc's lacks it */
#include <linux/sockios.h>  /* SIOCOUTQ */
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#define BACKLOG_CHECK_BYTES (64 * 1024)
#define FORCE_CLOSE_MS      3000

struct _SsqServerSession {
  GObject                  parent_instance;

  SsqServer               *server;       /* not owned: the server outlives sessions */
  SoupWebsocketConnection *connection;
  GSocket                 *socket;
  char                    *user_id;
  char                    *id;
  gboolean                 open;
  gboolean                 attached;
  guint64                  queued;       /* bytes handed to libsoup since the start */
  guint64                  unchecked;    /* bytes queued since the last backlog check */
  guint64                  acked_base;
  guint                    force_close_id;
  GQueue                   sync_jobs;    /* SyncJob */
  guint                    sync_source;
};

G_DEFINE_FINAL_TYPE (SsqServerSession, ssq_server_session, G_TYPE_OBJECT)

typedef struct {
  JsonNode   *request_id;
  GPtrArray  *conversation_ids;
  GHashTable *since;                     /* conversation id -> gint64 * */
  guint       next;
  JsonArray  *truncated;
  gint64      started_us;
} SyncJob;

static void
sync_job_free (SyncJob *job)
{
  json_node_unref (job->request_id);
  g_ptr_array_unref (job->conversation_ids);
  g_hash_table_unref (job->since);
  json_array_unref (job->truncated);
  g_free (job);
}

static gboolean
tcp_bytes_acked (GSocket *socket,
                 guint64 *out)
{
  struct tcp_info info;
  socklen_t len = sizeof info;

  if (socket == NULL ||
      getsockopt (g_socket_get_fd (socket), IPPROTO_TCP, TCP_INFO, &info, &len) != 0)
    return FALSE;
  *out = info.tcpi_bytes_acked;
  return TRUE;
}

/* Bytes we queued that libsoup has not yet handed to the kernel: what the
 * peer acknowledged plus what sits in the kernel's send queue was written;
 * the rest waits in libsoup. G_MAXUINT64 when unknown. */
static guint64
unwritten (SsqServerSession *self)
{
  guint64 acked;
  int outq = 0;

  if (!tcp_bytes_acked (self->socket, &acked) ||
      ioctl (g_socket_get_fd (self->socket), SIOCOUTQ, &outq) != 0)
    return G_MAXUINT64;
  acked -= MIN (acked, self->acked_base);
  acked += (guint64) MAX (outq, 0);
  return self->queued > acked ? self->queued - acked : 0;
}

static guint64
backlog (SsqServerSession *self)
{
  guint64 acked;

  if (!tcp_bytes_acked (self->socket, &acked))
    return 0;
  acked -= MIN (acked, self->acked_base);
  return self->queued > acked ? self->queued - acked : 0;
}

static void
ssq_server_session_dispose (GObject *object)
{
  SsqServerSession *self = SSQ_SERVER_SESSION (object);

  g_clear_handle_id (&self->force_close_id, g_source_remove);
  g_clear_handle_id (&self->sync_source, g_source_remove);
  g_queue_clear_full (&self->sync_jobs, (GDestroyNotify) sync_job_free);
  if (self->connection != NULL)
    g_signal_handlers_disconnect_by_data (self->connection, self);
  g_clear_object (&self->connection);
  g_clear_object (&self->socket);
  G_OBJECT_CLASS (ssq_server_session_parent_class)->dispose (object);
}

static void
ssq_server_session_finalize (GObject *object)
{
  SsqServerSession *self = SSQ_SERVER_SESSION (object);

  g_free (self->user_id);
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

void
ssq_server_session_check_backlog (SsqServerSession *self)
{
  guint64 pending;

  self->unchecked = 0;
  if (!self->open)
    return;
  pending = backlog (self);
  if (pending > self->server->config->send_queue_max)
    {
      g_message ("Session %s: peer is %" G_GUINT64_FORMAT " bytes behind; closing it",
                 self->id, pending);
      self->server->metrics.ws_cut_slow_total++;
      ssq_server_session_close (self, SSQ_CLOSE_TRY_AGAIN, "Too slow; reconnect and sync");
    }
}

void
ssq_server_session_send (SsqServerSession *self,
                         const char       *frame,
                         gsize             length)
{
  gsize overhead = length < 126 ? 2 : length < 65536 ? 4 : 10;

  /* Between the peer's close frame and our "closed" signal the connection
   * is CLOSING: nothing more may be sent. */
  if (!self->open ||
      soup_websocket_connection_get_state (self->connection) != SOUP_WEBSOCKET_STATE_OPEN)
    return;
  soup_websocket_connection_send_text (self->connection, frame);
  self->queued += length + overhead;
  self->unchecked += length + overhead;
  self->server->metrics.events_sent_total++;
  if (self->unchecked >= BACKLOG_CHECK_BYTES)
    ssq_server_session_check_backlog (self);
}

static gboolean
force_close_cb (gpointer data)
{
  SsqServerSession *self = data;

  self->force_close_id = 0;
  /* The peer did not answer the close handshake (it may not read at all):
   * cut the connection. Shutting the socket down, rather than closing the
   * stream under libsoup, lets libsoup see the end through its own sources
   * and close the stream itself. */
  if (self->connection != NULL && self->socket != NULL &&
      soup_websocket_connection_get_state (self->connection) != SOUP_WEBSOCKET_STATE_CLOSED)
    g_socket_shutdown (self->socket, TRUE, TRUE, NULL);
  return G_SOURCE_REMOVE;
}

static void
detach (SsqServerSession *self)
{
  self->open = FALSE;
  g_queue_clear_full (&self->sync_jobs, (GDestroyNotify) sync_job_free);
  g_clear_handle_id (&self->sync_source, g_source_remove);
  if (self->attached)
    {
      self->attached = FALSE;
      ssq_server_hub_detach (self->server->hub, self);
    }
}

void
ssq_server_session_close (SsqServerSession *self,
                          gushort           code,
                          const char       *reason)
{
  if (!self->open)
    return;
  detach (self);
  /* libsoup 3.2 puts the close frame ahead of the frames still waiting in
   * its queue; once it is written it closes the stream yet polls again for
   * the frames behind it, on a closed socket, and later asserts when the
   * connection is freed. So the handshake only when nothing waits in
   * libsoup; otherwise the peer (far behind anyway) is cut off, and its
   * client reconnects and syncs. */
  if (self->socket != NULL && unwritten (self) > 0)
    {
      g_socket_shutdown (self->socket, TRUE, TRUE, NULL);
      return;
    }
  if (soup_websocket_connection_get_state (self->connection) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close (self->connection, code, reason);
  if (self->force_close_id == 0)
    self->force_close_id = g_timeout_add_full (G_PRIORITY_DEFAULT, FORCE_CLOSE_MS, force_close_cb,
                                               g_object_ref (self), g_object_unref);
}

/* ---- Replies ---------------------------------------------------------- */

static void
send_object (SsqServerSession *self,
             JsonObject       *obj)
{
  gsize len;
  g_autofree char *text = ssq_json_object_to_string (obj, &len);

  ssq_server_session_send (self, text, len);
}

static void
observe_latency (SsqServerSession *self,
                 gint64            started_us)
{
  ssq_histogram_observe (&self->server->metrics.ws_latency,
                         (g_get_monotonic_time () - started_us) / 1e6);
}

static void
send_error (SsqServerSession *self,
            JsonNode         *request_id,
            const GError     *error)
{
  g_autoptr(JsonObject) obj = ssq_json_error_object (error);

  ssq_server_metrics_error (&self->server->metrics, error);
  json_object_set_string_member (obj, "type", SSQ_FRAME_ERROR);
  if (request_id != NULL)
    json_object_set_member (obj, "id", json_node_copy (request_id));
  send_object (self, obj);
}

static JsonObject *
new_ack (JsonNode *request_id)
{
  JsonObject *obj = json_object_new ();

  json_object_set_string_member (obj, "type", SSQ_FRAME_ACK);
  json_object_set_member (obj, "id", json_node_copy (request_id));
  return obj;
}

/* ---- Requests --------------------------------------------------------- */

typedef struct {
  SsqServerSession *session;
  JsonNode         *request_id;
  gint64            started_us;
} Pending;

static Pending *
pending_new (SsqServerSession *self,
             JsonNode         *request_id,
             gint64            started_us)
{
  Pending *p = g_new0 (Pending, 1);

  p->session = g_object_ref (self);
  p->request_id = request_id ? json_node_copy (request_id) : NULL;
  p->started_us = started_us;
  return p;
}

static void
pending_free (Pending *p)
{
  g_object_unref (p->session);
  g_clear_pointer (&p->request_id, json_node_unref);
  g_free (p);
}

static void
send_done (SsqServer           *server,
           const SsqMessageRow *message,
           gboolean             duplicate,
           const GError        *error,
           gpointer             user_data)
{
  Pending *p = user_data;
  g_autoptr(JsonObject) ack = NULL;

  if (!p->session->open)
    return;
  if (error != NULL)
    {
      send_error (p->session, p->request_id, error);
      return;
    }
  ack = new_ack (p->request_id);
  json_object_set_object_member (ack, "message", ssq_server_json_message (message));
  if (duplicate)
    json_object_set_boolean_member (ack, "duplicate", TRUE);
  send_object (p->session, ack);
  observe_latency (p->session, p->started_us);
}

static void
handle_send (SsqServerSession *self,
             JsonObject       *frame,
             JsonNode         *request_id,
             gint64            started_us)
{
  g_autoptr(GError) error = NULL;
  SsqSendRequest request = { 0 };

  if (!ssq_server_chat_parse_send (frame, &request, &error))
    {
      send_error (self, request_id, error);
      return;
    }
  ssq_server_chat_send (self->server, self->user_id, &request, send_done,
                        pending_new (self, request_id, started_us), (GDestroyNotify) pending_free);
  ssq_send_request_clear (&request);
}

static void
mark_done (SsqServer    *server,
           const GError *error,
           gpointer      user_data)
{
  Pending *p = user_data;
  g_autoptr(JsonObject) ack = NULL;

  if (!p->session->open)
    return;
  if (error != NULL)
    {
      /* "received" has no id and no reply; its errors only count. */
      if (p->request_id != NULL)
        send_error (p->session, p->request_id, error);
      else
        ssq_server_metrics_error (&server->metrics, error);
      return;
    }
  if (p->request_id != NULL)
    {
      ack = new_ack (p->request_id);
      send_object (p->session, ack);
      observe_latency (p->session, p->started_us);
    }
}

static void
handle_mark (SsqServerSession *self,
             JsonObject       *frame,
             JsonNode         *request_id,
             gboolean          read,
             gint64            started_us)
{
  g_autoptr(GError) error = NULL;
  const char *conversation_id = NULL;
  gint64 seq = 0;

  if (!ssq_json_get_string (frame, "conversation_id", TRUE, &conversation_id, &error) ||
      !ssq_json_get_int (frame, "seq", TRUE, 0, G_MAXINT64, &seq, &error))
    {
      send_error (self, request_id, error);
      return;
    }
  ssq_server_chat_mark (self->server, self->user_id, conversation_id, read ? 0 : seq,
                        read ? seq : 0, mark_done, pending_new (self, read ? request_id : NULL,
                                                                started_us),
                        (GDestroyNotify) pending_free);
}

static void
handle_typing (SsqServerSession *self,
               JsonObject       *frame,
               JsonNode         *request_id)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SsqMemberRow) member = NULL;
  const char *conversation_id = NULL;
  gboolean active = FALSE;

  if (!ssq_json_get_string (frame, "conversation_id", TRUE, &conversation_id, &error) ||
      !ssq_json_get_bool (frame, "active", TRUE, &active, &error) ||
      (member = ssq_server_chat_require_member (self->server, conversation_id, self->user_id,
                                                &error)) == NULL)
    {
      send_error (self, request_id, error);
      return;
    }
  ssq_server_hub_typing (self->server->hub, conversation_id, self->user_id, active);
  if (request_id != NULL)
    {
      g_autoptr(JsonObject) ack = new_ack (request_id);
      send_object (self, ack);
    }
}

static void
handle_presence (SsqServerSession *self,
                 JsonObject       *frame,
                 JsonNode         *request_id)
{
  g_autoptr(GError) error = NULL;
  const char *status = NULL;

  if (!ssq_json_get_string (frame, "status", TRUE, &status, &error))
    {
      send_error (self, request_id, error);
      return;
    }
  if (!g_str_equal (status, "online") && !g_str_equal (status, "away") &&
      !g_str_equal (status, "dnd"))
    {
      g_set_error_literal (&error, SSQ_ERROR, SSQ_ERROR_INVALID,
                           "Field \"status\" must be online, away or dnd");
      send_error (self, request_id, error);
      return;
    }
  ssq_server_hub_set_presence (self->server->hub, self->user_id, status);
  if (request_id != NULL)
    {
      g_autoptr(JsonObject) ack = new_ack (request_id);
      send_object (self, ack);
    }
}

/* ---- Sync ------------------------------------------------------------- */

static gboolean sync_step_cb (gpointer data);

static void
schedule_sync (SsqServerSession *self,
               guint             delay_ms)
{
  if (self->sync_source != 0 || g_queue_is_empty (&self->sync_jobs))
    return;
  if (delay_ms == 0)
    self->sync_source = g_idle_add_full (G_PRIORITY_DEFAULT_IDLE, sync_step_cb, self, NULL);
  else
    self->sync_source = g_timeout_add (delay_ms, sync_step_cb, self);
}

/* Sends one conversation of a sync; false when the job has ended. */
static gboolean
sync_one (SsqServerSession *self,
          SyncJob          *job)
{
  const char *conversation_id = job->conversation_ids->pdata[job->next++];
  gint64 *since = g_hash_table_lookup (job->since, conversation_id);
  guint batch = self->server->config->sync_batch;
  g_autoptr(JsonObject) conv = NULL;
  g_autoptr(GPtrArray) messages = NULL;
  g_autofree char *frame = NULL;
  gsize len;

  conv = ssq_server_json_conversation_for (self->server, conversation_id, self->user_id, NULL);
  if (conv == NULL)
    return TRUE;    /* left since the sync began */
  frame = ssq_server_json_frame (SSQ_FRAME_CONVERSATION, "conversation", conv, &len);
  ssq_server_session_send (self, frame, len);
  messages = ssq_server_store_messages_range (self->server->store, conversation_id,
                                              since ? *since : 0, 0, batch, FALSE, NULL);
  if (messages == NULL)
    return TRUE;
  if (messages->len > batch)
    {
      json_array_add_string_element (job->truncated, conversation_id);
      g_ptr_array_set_size (messages, batch);
    }
  for (guint i = 0; i < messages->len && self->open; i++)
    {
      g_autoptr(JsonObject) obj = ssq_server_json_message (messages->pdata[i]);
      g_autofree char *mframe = ssq_server_json_frame (SSQ_FRAME_MESSAGE, "message", obj, &len);

      ssq_server_session_send (self, mframe, len);
    }
  return TRUE;
}

static void
sync_finish (SsqServerSession *self,
             SyncJob          *job)
{
  g_autoptr(JsonObject) ack = new_ack (job->request_id);

  json_object_set_array_member (ack, "truncated", json_array_ref (job->truncated));
  send_object (self, ack);
  observe_latency (self, job->started_us);
}

/* Sync sends conversation by conversation and waits while the peer is more
 * than half the send budget behind, so a large catch-up flows at the pace
 * the client reads instead of piling up in memory. */
static gboolean
sync_step_cb (gpointer data)
{
  SsqServerSession *self = data;
  SyncJob *job = g_queue_peek_head (&self->sync_jobs);

  self->sync_source = 0;
  if (job == NULL || !self->open)
    return G_SOURCE_REMOVE;
  if (backlog (self) > self->server->config->send_queue_max / 2)
    {
      schedule_sync (self, 10);
      return G_SOURCE_REMOVE;
    }
  if (job->next < job->conversation_ids->len)
    sync_one (self, job);
  if (job->next >= job->conversation_ids->len && self->open)
    {
      sync_finish (self, job);
      sync_job_free (g_queue_pop_head (&self->sync_jobs));
    }
  schedule_sync (self, 0);
  return G_SOURCE_REMOVE;
}

static void
handle_sync (SsqServerSession *self,
             JsonObject       *frame,
             JsonNode         *request_id,
             gint64            started_us)
{
  g_autoptr(GError) error = NULL;
  JsonObject *since = NULL;
  g_autoptr(GPtrArray) ids = NULL;
  SyncJob *job;

  if (!ssq_json_get_object (frame, "since", FALSE, &since, &error))
    {
      send_error (self, request_id, error);
      return;
    }
  ids = ssq_server_store_conversation_ids_for_user (self->server->store, self->user_id, &error);
  if (ids == NULL)
    {
      send_error (self, request_id, error);
      return;
    }
  job = g_new0 (SyncJob, 1);
  job->request_id = json_node_copy (request_id);
  job->conversation_ids = g_steal_pointer (&ids);
  job->since = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  job->truncated = json_array_new ();
  job->started_us = started_us;
  if (since != NULL)
    {
      JsonObjectIter iter;
      const char *key;
      JsonNode *value;

      json_object_iter_init (&iter, since);
      while (json_object_iter_next (&iter, &key, &value))
        {
          if (json_node_get_value_type (value) != G_TYPE_INT64 || json_node_get_int (value) < 0)
            {
              g_set_error (&error, SSQ_ERROR, SSQ_ERROR_INVALID,
                           "since[\"%s\"] must be a non-negative integer", key);
              send_error (self, request_id, error);
              sync_job_free (job);
              return;
            }
          g_hash_table_insert (job->since, g_strdup (key), g_memdup2 (&(gint64) { json_node_get_int (value) }, sizeof (gint64)));
        }
    }
  g_queue_push_tail (&self->sync_jobs, job);
  schedule_sync (self, 0);
}

/* ---- Frames ----------------------------------------------------------- */

static gboolean
is_request (const char *type)
{
  return g_str_equal (type, SSQ_FRAME_SEND) || g_str_equal (type, SSQ_FRAME_SYNC) ||
         g_str_equal (type, SSQ_FRAME_READ) || g_str_equal (type, SSQ_FRAME_PING);
}

static void
handle_frame (SsqServerSession *self,
              const char       *data,
              gsize             length)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) frame = NULL;
  JsonNode *request_id;
  const char *type = NULL;
  gint64 started_us = g_get_monotonic_time ();

  frame = ssq_json_parse_object (data, length, &error);
  if (frame == NULL)
    {
      send_error (self, NULL, error);
      return;
    }
  request_id = json_object_get_member (frame, "id");
  if (request_id != NULL && json_node_get_value_type (request_id) != G_TYPE_STRING &&
      json_node_get_value_type (request_id) != G_TYPE_INT64)
    {
      g_set_error_literal (&error, SSQ_ERROR, SSQ_ERROR_INVALID,
                           "Field \"id\" must be a string or an integer");
      send_error (self, NULL, error);
      return;
    }
  if (!ssq_json_get_string (frame, "type", TRUE, &type, &error))
    {
      send_error (self, request_id, error);
      return;
    }
  if (is_request (type) && request_id == NULL)
    {
      g_set_error (&error, SSQ_ERROR, SSQ_ERROR_INVALID, "A \"%s\" request needs an \"id\"", type);
      send_error (self, NULL, error);
      return;
    }

  if (g_str_equal (type, SSQ_FRAME_SEND))
    handle_send (self, frame, request_id, started_us);
  else if (g_str_equal (type, SSQ_FRAME_SYNC))
    handle_sync (self, frame, request_id, started_us);
  else if (g_str_equal (type, SSQ_FRAME_RECEIVED))
    handle_mark (self, frame, NULL, FALSE, started_us);
  else if (g_str_equal (type, SSQ_FRAME_READ))
    handle_mark (self, frame, request_id, TRUE, started_us);
  else if (g_str_equal (type, SSQ_FRAME_TYPING))
    handle_typing (self, frame, request_id);
  else if (g_str_equal (type, SSQ_FRAME_PRESENCE))
    handle_presence (self, frame, request_id);
  else if (g_str_equal (type, SSQ_FRAME_PING))
    {
      g_autoptr(JsonObject) pong = json_object_new ();

      json_object_set_string_member (pong, "type", SSQ_FRAME_PONG);
      json_object_set_member (pong, "id", json_node_copy (request_id));
      send_object (self, pong);
    }
  else
    {
      g_set_error (&error, SSQ_ERROR, SSQ_ERROR_INVALID, "Unknown frame type \"%s\"", type);
      send_error (self, request_id, error);
    }
}

static void
message_cb (SoupWebsocketConnection *connection,
            gint                     type,
            GBytes                  *message,
            SsqServerSession        *self)
{
  gsize length;
  const char *data = g_bytes_get_data (message, &length);

  if (!self->open)
    return;
  if (length > self->server->config->max_frame_size)
    {
      ssq_server_session_close (self, SSQ_CLOSE_TOO_BIG, "Frame too large");
      return;
    }
  if (type != SOUP_WEBSOCKET_DATA_TEXT)
    {
      g_autoptr(GError) error = g_error_new_literal (SSQ_ERROR, SSQ_ERROR_INVALID,
                                                     "Binary frames are not part of the protocol");
      send_error (self, NULL, error);
      return;
    }
  handle_frame (self, data, length);
}

static void
closed_cb (SoupWebsocketConnection *connection,
           SsqServerSession        *self)
{
  g_object_ref (self);
  detach (self);
  self->server->sessions_alive--;
  g_clear_handle_id (&self->force_close_id, g_source_remove);
  g_signal_handlers_disconnect_by_data (connection, self);
  g_object_unref (self);     /* the reference taken in ssq_server_session_new */
  g_object_unref (self);
}

static void
error_cb (SoupWebsocketConnection *connection,
          GError                  *error,
          SsqServerSession        *self)
{
  g_debug ("Session %s: %s", self->id, error->message);
}

/**
 * ssq_server_session_new:
 * Takes over an upgraded connection, registers it with the hub and greets
 * the client. The session keeps itself alive until the connection closes.
 */
SsqServerSession *
ssq_server_session_new (SsqServer               *server,
                        SoupWebsocketConnection *connection,
                        GSocket                 *socket,
                        const char              *user_id)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SsqUserRow) user = NULL;
  g_autoptr(JsonObject) welcome = NULL;
  SsqServerSession *self = g_object_new (SSQ_TYPE_SERVER_SESSION, NULL);

  self->server = server;
  self->connection = g_object_ref (connection);
  self->socket = socket ? g_object_ref (socket) : NULL;
  self->user_id = g_strdup (user_id);
  self->id = ssq_server_store_new_id ('s');
  self->open = TRUE;
  server->sessions_alive++;
  tcp_bytes_acked (self->socket, &self->acked_base);

  /* libsoup's own limit fails the connection while the frame is still
   * arriving, and the unread rest turns our close frame into a TCP reset.
   * So libsoup gets a looser bound (never 0: see PLATFORM-NOTES) and frames
   * between the two are refused here with a clean 1009. */
  soup_websocket_connection_set_max_incoming_payload_size (connection,
                                                           4 * (guint64) server->config->max_frame_size);
  g_signal_connect (connection, "message", G_CALLBACK (message_cb), self);
  g_signal_connect (connection, "closed", G_CALLBACK (closed_cb), self);
  g_signal_connect (connection, "error", G_CALLBACK (error_cb), self);

  if (!ssq_server_hub_attach (server->hub, self, &error))
    {
      self->open = FALSE;
      soup_websocket_connection_close (connection, SSQ_CLOSE_TRY_AGAIN, error->message);
      return self;
    }
  self->attached = TRUE;
  server->metrics.ws_accepted_total++;

  user = ssq_server_store_user_by_id (server->store, user_id, NULL);
  welcome = json_object_new ();
  json_object_set_string_member (welcome, "type", SSQ_FRAME_WELCOME);
  if (user != NULL)
    json_object_set_object_member (welcome, "user", ssq_server_json_user (server, user));
  json_object_set_string_member (welcome, "session_id", self->id);
  json_object_set_int_member (welcome, "server_time", ssq_now_ms ());
  json_object_set_int_member (welcome, "protocol", SSQ_PROTOCOL_VERSION);
  send_object (self, welcome);
  return self;
}
