/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-frames.c: what each WebSocket frame of the protocol does, in
 * one table (type -> handler) beside the REST route table. Each handler
 * checks shape, then content, then acts; replies and errors go back to the
 * session, and requests that wait on storage count as in flight. */
#include "ssq-server-session-private.h"
#include "ssq-server-chat.h"
#include "ssq-server-hub.h"
#include "ssq-server-queues.h"

#include <string.h>

typedef void (*FrameFunc) (SsqServerSession *session,
                           JsonObject       *frame,
                           JsonNode         *request_id,
                           gint64            started_us);

typedef struct {
  gboolean    needs_id;
  FrameFunc   func;
} Frame;

/* ---- Replies ---------------------------------------------------------- */

static void
observe_latency (SsqServerSession *self,
                 gint64            started_us)
{
  ssq_histogram_observe (&self->server->metrics.ws_latency,
                         (g_get_monotonic_time () - started_us) / 1e6);
}

static void
send_ack (SsqServerSession *self,
          JsonNode         *request_id)
{
  g_autoptr(JsonObject) ack = NULL;

  if (request_id == NULL)
    return;
  ack = ssq_wire_ack_encode (&(SsqWireAck) { .id = request_id });
  ssq_server_session_send_object (self, ack);
}

/* A request that waits for storage; counted in flight until it is done. */
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
  ssq_server_session_request_begin (self);
  return p;
}

static void
pending_free (Pending *p)
{
  ssq_server_session_request_end (p->session);
  g_object_unref (p->session);
  g_clear_pointer (&p->request_id, json_node_unref);
  g_free (p);
}

/* ---- send, received, read --------------------------------------------- */

static void
send_done (SsqServer           *server,
           const SsqMessageRow *message,
           gboolean             duplicate,
           const GError        *error,
           gpointer             user_data)
{
  Pending *p = user_data;
  g_autoptr(GBytes) ack = NULL;

  if (!p->session->open)
    return;
  if (error != NULL)
    {
      ssq_server_session_send_error (p->session, p->request_id, error);
      return;
    }
  if (p->request_id == NULL)
    return;     /* a send without an id has no reply */
  ack = ssq_server_wire_ack_stored (p->request_id, message, duplicate);
  ssq_server_session_send (p->session, ack);
  observe_latency (p->session, p->started_us);
}

static void
frame_send (SsqServerSession *self,
            JsonObject       *frame,
            JsonNode         *request_id,
            gint64            started_us)
{
  g_autoptr(GError) error = NULL;
  SsqSendRequest request = { 0 };

  if (!ssq_server_chat_parse_send (frame, &request, &error))
    {
      ssq_server_session_send_error (self, request_id, error);
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

  if (!p->session->open)
    return;
  if (error != NULL)
    {
      /* "received" has no id and no reply; its errors only count. */
      if (p->request_id != NULL)
        ssq_server_session_send_error (p->session, p->request_id, error);
      else
        ssq_server_metrics_error (&server->metrics, error);
      return;
    }
  if (p->request_id != NULL)
    {
      send_ack (p->session, p->request_id);
      observe_latency (p->session, p->started_us);
    }
}

static void
mark (SsqServerSession *self,
      JsonObject       *frame,
      JsonNode         *request_id,
      gboolean          read,
      gint64            started_us)
{
  g_autoptr(GError) error = NULL;
  SsqWireMark m;

  if (!ssq_wire_mark_decode (frame, &m, &error))
    {
      ssq_server_session_send_error (self, request_id, error);
      return;
    }
  ssq_server_chat_mark (self->server, self->user_id, m.conversation_id, read ? 0 : m.seq,
                        read ? m.seq : 0, mark_done, pending_new (self, request_id, started_us),
                        (GDestroyNotify) pending_free);
}

static void
frame_received (SsqServerSession *self,
                JsonObject       *frame,
                JsonNode         *request_id,
                gint64            started_us)
{
  mark (self, frame, NULL, FALSE, started_us);
}

static void
frame_read (SsqServerSession *self,
            JsonObject       *frame,
            JsonNode         *request_id,
            gint64            started_us)
{
  mark (self, frame, request_id, TRUE, started_us);
}

/* ---- typing, presence, ping ------------------------------------------- */

static void
frame_typing (SsqServerSession *self,
              JsonObject       *frame,
              JsonNode         *request_id,
              gint64            started_us)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SsqMemberRow) member = NULL;
  SsqWireTyping t;

  if (!ssq_wire_typing_decode (frame, SSQ_WIRE_FROM_CLIENT, &t, &error) ||
      (member = ssq_server_chat_require_member (self->server, t.conversation_id, self->user_id,
                                                &error)) == NULL)
    {
      ssq_server_session_send_error (self, request_id, error);
      return;
    }
  ssq_server_hub_typing (self->server->hub, t.conversation_id, self->user_id, t.active);
  send_ack (self, request_id);
}

static void
frame_presence (SsqServerSession *self,
                JsonObject       *frame,
                JsonNode         *request_id,
                gint64            started_us)
{
  g_autoptr(GError) error = NULL;
  SsqWirePresence p;
  const char *status;

  if (!ssq_wire_presence_decode (frame, SSQ_WIRE_FROM_CLIENT, &p, &error))
    {
      ssq_server_session_send_error (self, request_id, error);
      return;
    }
  status = p.status;
  if (!g_str_equal (status, "online") && !g_str_equal (status, "away") &&
      !g_str_equal (status, "dnd"))
    {
      g_set_error_literal (&error, SSQ_ERROR, SSQ_ERROR_INVALID,
                           "Field \"status\" must be online, away or dnd");
      ssq_server_session_send_error (self, request_id, error);
      return;
    }
  ssq_server_hub_set_presence (self->server->hub, self->user_id, status);
  send_ack (self, request_id);
}

static void
frame_ping (SsqServerSession *self,
            JsonObject       *frame,
            JsonNode         *request_id,
            gint64            started_us)
{
  g_autoptr(JsonObject) pong = ssq_wire_pong_encode (request_id);

  ssq_server_session_send_object (self, pong);
}

/* ---- sync ------------------------------------------------------------- */

typedef struct {
  JsonNode   *request_id;
  GPtrArray  *conversation_ids;
  GHashTable *since;                     /* conversation id -> gint64 * */
  GHashTable *since_rev;                 /* the same for revs; NULL: not asked */
  guint       next;
  JsonArray  *truncated;
  JsonObject *revs;                      /* the ack's change cursors */
  gint64      started_us;
} SyncJob;

static void
sync_job_free (SyncJob *job)
{
  json_node_unref (job->request_id);
  g_ptr_array_unref (job->conversation_ids);
  g_hash_table_unref (job->since);
  g_clear_pointer (&job->since_rev, g_hash_table_unref);
  json_array_unref (job->truncated);
  json_object_unref (job->revs);
  g_free (job);
}

/* Drops the session's sync jobs (it closed). */
void
ssq_server_frames_cancel (SsqServerSession *self)
{
  SyncJob *job;

  g_clear_handle_id (&self->sync_source, g_source_remove);
  while ((job = g_queue_pop_head (&self->sync_jobs)) != NULL)
    {
      sync_job_free (job);
      ssq_server_session_request_end (self);
    }
}

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

/* Whether a sync step has queued its share: it starts with at most a
 * quarter of send_queue_max queued (sync_step_cb) and stops past half.
 * Counted in messages alone, one step of 1,000 messages of 16 KB queued
 * 16 MB at once, and the session was cut as a slow reader before a byte
 * was written: a member that far behind could never catch up. */
static gboolean
sync_step_full (SsqServerSession *self)
{
  return !self->open ||
         ssq_net_conn_get_queued (self->conn) > self->server->config->send_queue_max / 2;
}

/* Sends @messages (rows) in order, at least the first, until the step is
 * full. Returns how many were sent. */
static guint
send_messages (SsqServerSession *self,
               GPtrArray        *messages)
{
  guint i;

  for (i = 0; i < messages->len && self->open && (i == 0 || !sync_step_full (self)); i++)
    {
      g_autoptr(GBytes) mframe = ssq_server_wire_message_stored (messages->pdata[i]);

      ssq_server_session_send (self, mframe);
    }
  return i;
}

/* The messages up to @since changed after the client's change cursor, in
 * rev order; returns the rev up to which the client now holds every change
 * (the conversation's rev, or the last one sent when cut short). */
static gint64
sync_changes (SsqServerSession *self,
              SyncJob          *job,
              const char       *conversation_id,
              gint64            since,
              gint64            conversation_rev)
{
  gint64 *cursor = g_hash_table_lookup (job->since_rev, conversation_id);
  gint64 since_rev = cursor ? *cursor : 0;
  guint batch = self->server->config->sync_batch;
  g_autoptr(GPtrArray) changed = NULL;
  gint64 held = conversation_rev;
  guint sent;

  if (since == 0)
    return held;    /* holds nothing: what comes next is in its current state */
  changed = ssq_server_store_messages_changed (self->server->store, conversation_id,
                                               since_rev, since, batch, NULL);
  if (changed == NULL)
    return MIN (since_rev, conversation_rev);    /* not moved: the next sync retries */
  if (changed->len > batch)
    {
      g_ptr_array_set_size (changed, batch);
      held = ((SsqMessageRow *) changed->pdata[batch - 1])->rev;
    }
  sent = send_messages (self, changed);
  if (sent < changed->len && sent > 0)
    held = ((SsqMessageRow *) changed->pdata[sent - 1])->rev;
  return held;
}

static void
add_frame (const char *json,
           gsize       length,
           gpointer    user_data)
{
  g_ptr_array_add (user_data, ssq_server_wire_message_json (json, length));
}

/* Sends one conversation of a sync: the conversation, the changes to what
 * the client holds (when it gave change cursors), then the messages above
 * its seq cursor. */
static void
sync_one (SsqServerSession *self,
          SyncJob          *job)
{
  const char *conversation_id = job->conversation_ids->pdata[job->next++];
  gint64 *since = g_hash_table_lookup (job->since, conversation_id);
  guint batch = self->server->config->sync_batch;
  g_autoptr(JsonObject) conv = NULL;
  g_autoptr(GPtrArray) frames = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr(GBytes) frame = NULL;
  gint64 held_rev;
  gboolean cut = FALSE, more = FALSE;

  conv = ssq_server_json_conversation_for (self->server, conversation_id, self->user_id, NULL);
  if (conv == NULL)
    return;    /* left since the sync began */
  frame = ssq_server_wire_event (SSQ_FRAME_TYPE_CONVERSATION, conv);
  ssq_server_session_send (self, frame);
  if (job->since_rev != NULL)
    {
      held_rev = sync_changes (self, job, conversation_id, since ? *since : 0,
                               json_object_get_int_member (conv, "rev"));
      cut = held_rev < json_object_get_int_member (conv, "rev");
      json_object_set_int_member (job->revs, conversation_id, held_rev);
    }
  /* Cut short also when the read failed: the client asks again. */
  if (!ssq_server_store_messages_json_foreach (self->server->store, conversation_id,
                                               since ? *since : 0, batch, add_frame, frames,
                                               &more, NULL))
    more = TRUE;
  for (guint i = 0; i < frames->len && self->open; i++)
    {
      /* The client's seq cursor moves over what came: it asks again. */
      if (i > 0 && sync_step_full (self))
        {
          more = TRUE;
          break;
        }
      ssq_server_session_send (self, frames->pdata[i]);
    }
  if (cut || more)
    json_array_add_string_element (job->truncated, conversation_id);
}

static void
sync_finish (SsqServerSession *self,
             SyncJob          *job)
{
  g_autoptr(JsonObject) ack = NULL;

  ack = ssq_wire_ack_encode (&(SsqWireAck) { .id = job->request_id, .truncated = job->truncated,
                                             .revs = job->since_rev ? job->revs : NULL });
  ssq_server_session_send_object (self, ack);
  observe_latency (self, job->started_us);
}

/* Sync sends conversation by conversation and waits while the peer is more
 * than a quarter of the send budget behind, so a large catch-up flows at
 * the pace the client reads instead of piling up in memory. */
static gboolean
sync_step_cb (gpointer data)
{
  SsqServerSession *self = data;
  SyncJob *job = g_queue_peek_head (&self->sync_jobs);

  self->sync_source = 0;
  if (job == NULL || !self->open)
    return G_SOURCE_REMOVE;
  if (ssq_net_conn_get_queued (self->conn) > self->server->config->send_queue_max / 4)
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
      ssq_server_session_request_end (self);
    }
  schedule_sync (self, 0);
  return G_SOURCE_REMOVE;
}

/* The cursors of a decoded sync (checked by the codec) as a table. */
static GHashTable *
read_since (JsonObject *since)
{
  GHashTable *out = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  JsonObjectIter iter;
  const char *key;
  JsonNode *value;

  if (since == NULL)
    return out;
  json_object_iter_init (&iter, since);
  while (json_object_iter_next (&iter, &key, &value))
    {
      gint64 seq = json_node_get_int (value);

      g_hash_table_insert (out, g_strdup (key), g_memdup2 (&seq, sizeof seq));
    }
  return out;
}

/* A sync may be about a page of the user's conversations, a range of ids,
 * so that a user in more conversations than one frame can name syncs in
 * several: only those in the range are sent, in the order they had. */
static void
keep_page (GPtrArray  *ids,
           const char *from_id,
           const char *to_id)
{
  guint kept = 0;

  for (guint i = 0; i < ids->len; i++)
    {
      const char *id = ids->pdata[i];

      if ((from_id == NULL || strcmp (id, from_id) >= 0) &&
          (to_id == NULL || strcmp (id, to_id) < 0))
        {
          ids->pdata[i] = ids->pdata[kept];
          ids->pdata[kept++] = (gpointer) id;
        }
    }
  g_ptr_array_set_size (ids, kept);
}

static void
frame_sync (SsqServerSession *self,
            JsonObject       *frame,
            JsonNode         *request_id,
            gint64            started_us)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) ids = NULL;
  g_autoptr(GHashTable) since_table = NULL;
  g_autoptr(GHashTable) rev_table = NULL;
  SsqWireSync sync;
  SyncJob *job;

  if (!ssq_wire_sync_decode (frame, &sync, &error))
    {
      ssq_server_session_send_error (self, request_id, error);
      return;
    }
  since_table = read_since (sync.since);
  /* Without since_rev the sync is the contract's: new messages only. */
  if (sync.since_rev != NULL)
    rev_table = read_since (sync.since_rev);
  ids = ssq_server_store_conversation_ids_for_user (self->server->store, self->user_id, &error);
  if (ids == NULL)
    {
      ssq_server_session_send_error (self, request_id, error);
      return;
    }
  keep_page (ids, sync.from_id, sync.to_id);
  job = g_new0 (SyncJob, 1);
  job->request_id = json_node_copy (request_id);
  job->conversation_ids = g_steal_pointer (&ids);
  job->since = g_steal_pointer (&since_table);
  job->since_rev = g_steal_pointer (&rev_table);
  job->truncated = json_array_new ();
  job->revs = json_object_new ();
  job->started_us = started_us;
  g_queue_push_tail (&self->sync_jobs, job);
  ssq_server_session_request_begin (self);
  schedule_sync (self, 0);
}

/* ---- Dispatch --------------------------------------------------------- */

/* Indexed by the codec's frame type; server-only types have no handler
 * (the codec refuses them from a client). */
static const Frame handlers[SSQ_FRAME_TYPE_N] = {
  [SSQ_FRAME_TYPE_SEND]     = { TRUE,  frame_send },
  [SSQ_FRAME_TYPE_SYNC]     = { TRUE,  frame_sync },
  [SSQ_FRAME_TYPE_RECEIVED] = { FALSE, frame_received },
  [SSQ_FRAME_TYPE_READ]     = { TRUE,  frame_read },
  [SSQ_FRAME_TYPE_TYPING]   = { FALSE, frame_typing },
  [SSQ_FRAME_TYPE_PRESENCE] = { FALSE, frame_presence },
  [SSQ_FRAME_TYPE_PING]     = { TRUE,  frame_ping },
  [SSQ_FRAME_TYPE_QUEUE_PUBLISH]     = { FALSE, ssq_server_frame_queue_publish },
  [SSQ_FRAME_TYPE_QUEUE_SUBSCRIBE]   = { TRUE,  ssq_server_frame_queue_subscribe },
  [SSQ_FRAME_TYPE_QUEUE_UNSUBSCRIBE] = { FALSE, ssq_server_frame_queue_unsubscribe },
  [SSQ_FRAME_TYPE_QUEUE_ACK]         = { FALSE, ssq_server_frame_queue_ack },
  [SSQ_FRAME_TYPE_QUEUE_NACK]        = { FALSE, ssq_server_frame_queue_nack },
};

void
ssq_server_frames_dispatch (SsqServerSession *self,
                            const char       *data,
                            gsize             length)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) frame = NULL;
  SsqWireHead head;
  gint64 started_us = g_get_monotonic_time ();

  frame = ssq_json_parse_request (data, length, &error);
  if (frame == NULL)
    {
      ssq_server_session_send_error (self, NULL, error);
      return;
    }
  if (!ssq_wire_head_decode (frame, SSQ_WIRE_FROM_CLIENT, &head, &error))
    {
      ssq_server_session_send_error (self, head.id, error);
      return;
    }
  if (handlers[head.type].needs_id && head.id == NULL)
    {
      g_set_error (&error, SSQ_ERROR, SSQ_ERROR_INVALID, "A \"%s\" request needs an \"id\"",
                   ssq_wire_frame_name (head.type));
      ssq_server_session_send_error (self, NULL, error);
      return;
    }
  handlers[head.type].func (self, frame, head.id, started_us);
}
