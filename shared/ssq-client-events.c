/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-client-events.c: server events applied to the cache, then announced
 * as signals; notifications derived from message events; sync from the
 * cache's cursors; delivered and read markers. */
#include "ssq-config.h"

#include <glib/gi18n.h>
#include "ssq-client-private.h"
#include "ssq-json.h"
#include "ssq-message-private.h"
#include "ssq-proto.h"

#include <string.h>

/**
 * ssq_client_storage_failed:
 * Whether @error is the cache's own (a full or failing disk: SQLite's
 * errors read UNAVAILABLE or INTERNAL), not the frame's (a frame that does
 * not decode is INVALID or PROTOCOL). When it is, @error becomes STORAGE,
 * so that nobody blames the server for the local disk, and a sync is
 * scheduled to fetch again what was not stored.
 */
gboolean
ssq_client_storage_failed (SsqClient *self,
                           GError    *error)
{
  if (error->domain != SSQ_ERROR ||
      (error->code != SSQ_ERROR_UNAVAILABLE && error->code != SSQ_ERROR_INTERNAL &&
       error->code != SSQ_ERROR_STORAGE))
    return FALSE;
  error->code = SSQ_ERROR_STORAGE;
  ssq_client_schedule_retry (self);
  /* The running sync's cursors would pass what was not stored. */
  if (self->syncing)
    self->sync_lost = TRUE;
  return TRUE;
}

static void
protocol_error (SsqClient  *self,
                const char *what,
                GError     *error)
{
  g_autoptr(GError) owned = error;

  if (ssq_client_storage_failed (self, owned))
    g_prefix_error (&owned, _("Cannot store the %s event: "), what);
  else
    {
      g_prefix_error (&owned, _("Unreadable %s event: "), what);
      owned->code = SSQ_ERROR_PROTOCOL;
    }
  ssq_client_emit_error (self, owned);
}

static gboolean
flush_markers_cb (gpointer user_data)
{
  SsqClient *self = user_data;

  self->received_source = 0;
  ssq_client_flush_markers (self);
  return G_SOURCE_REMOVE;
}

static void
queue_marker (SsqClient  *self,
              GHashTable *pending,
              const char *conversation_id,
              gint64      seq)
{
  gint64 *held = g_hash_table_lookup (pending, conversation_id);

  if (held != NULL)
    *held = MAX (*held, seq);
  else
    g_hash_table_insert (pending, g_strdup (conversation_id), g_memdup2 (&seq, sizeof seq));
  /* Markers from one burst of events (a sync page) go out as one frame. */
  if (self->received_source == 0)
    self->received_source = g_idle_add_full (G_PRIORITY_LOW, flush_markers_cb, self, NULL);
}

static void
send_markers (SsqClient    *self,
              GHashTable   *pending,
              SsqFrameType  type)
{
  GHashTableIter iter;
  const char *conversation_id;
  gint64 *seq;

  g_hash_table_iter_init (&iter, pending);
  while (g_hash_table_iter_next (&iter, (gpointer *) &conversation_id, (gpointer *) &seq))
    {
      SsqWireMark mark = { .conversation_id = conversation_id, .seq = *seq };
      g_autoptr(JsonObject) frame = ssq_wire_mark_encode (type, &mark);

      if (type == SSQ_FRAME_TYPE_READ)
        ssq_client_request (self, frame, NULL, NULL);
      else
        ssq_client_send_frame (self, frame);
    }
  g_hash_table_remove_all (pending);
}

/* Markers wait while offline and go out on the next connection. */
void
ssq_client_flush_markers (SsqClient *self)
{
  if (self->state != SSQ_CLIENT_ONLINE)
    return;
  send_markers (self, self->pending_received, SSQ_FRAME_TYPE_RECEIVED);
  send_markers (self, self->pending_read, SSQ_FRAME_TYPE_READ);
}

static void
emit_conversation (SsqClient  *self,
                   const char *conversation_id)
{
  g_autoptr(SsqConversation) conversation = ssq_cache_get_conversation (self->cache, conversation_id);

  if (conversation != NULL)
    ssq_client_emit (self, SIGNAL_CONVERSATION, conversation);
}

/* Stores @message and announces it if it is new or changed; tells the
 * server it was received when it is someone else's. */
static gboolean
apply_parsed_message (SsqClient   *self,
                      SsqMessage  *message,
                      GError     **error)
{
  g_autoptr(SsqMessage) stored = NULL;
  gboolean pending = FALSE;
  gboolean own;

  own = g_strcmp0 (message->sender, self->user_id) == 0;
  if (own && message->client_id != NULL)
    pending = ssq_cache_outbox_has (self->cache, message->client_id);
  /* The cache hands back the snapshots of what it wrote: nothing is read
   * back. */
  if (!ssq_cache_apply_message (self->cache, message, &stored, error))
    return FALSE;

  if (stored != NULL)
    {
      ssq_client_emit (self, SIGNAL_MESSAGE, stored);
      emit_conversation (self, message->conversation_id);
    }
  if (pending)
    {
      g_hash_table_remove (self->in_flight, message->client_id);
      g_hash_table_remove (self->reuploads, message->client_id);
      ssq_client_attachments_stop (self, message->client_id);
      ssq_client_emit_outbox_changed (self, message->conversation_id, message->client_id);
    }
  if (!own)
    {
      ssq_client_apply_typing (self, message->conversation_id, message->sender, FALSE);
      queue_marker (self, self->pending_received, message->conversation_id, message->seq);
    }
  return TRUE;
}

/**
 * ssq_client_apply_message:
 * Stores a protocol `message` object and announces it if it is new or
 * changed; tells the server it was received when it is someone else's.
 */
gboolean
ssq_client_apply_message (SsqClient   *self,
                          JsonObject  *object,
                          GError     **error)
{
  g_autoptr(SsqMessage) message = ssq_message_new_from_json (object, error);

  return message != NULL && apply_parsed_message (self, message, error);
}

/* The username mentions are matched against: the one the server sent in
 * `welcome` (stored with the user), else the one the session was set with
 * (the same, since usernames are stored lower case and never change). */
static char *
own_username (SsqClient *self)
{
  g_autoptr(SsqUser) me = ssq_cache_get_user (self->cache, self->user_id);

  if (me != NULL && ssq_user_get_username (me) != NULL)
    return g_strdup (ssq_user_get_username (me));
  return g_strdup (self->username);
}

/*
 * The reason for a notification the `message` event of @message calls for,
 * or NULL: the rule by which the server sends `notification` frames to
 * clients that do not derive them.
 *
 * Only a new message that arrives live counts, not an edit or deletion and
 * not a replay by sync. @before is the conversation as the cache held it
 * before @message was stored: a new message is above its last seq, while
 * a sync always sends a conversation (and the client fetches the list at
 * the start of every sync) before replaying that conversation's messages, so
 * every replayed one is at or below it. The same test keeps a message that
 * arrives twice (live, then again in a sync) from notifying twice.
 *
 * A message in a conversation the cache does not know gives none: neither
 * the kind nor the muted flag is known. The server sends a conversation's
 * `conversation` event before its first message, so this happens only
 * through a race with the conversation list fetch of a fresh cache. Such
 * races over HTTP (a list or history page that already holds a message
 * whose event is still on its way) can hide a notification; they never
 * give a second one.
 */
static const char *
derived_reason (SsqClient       *self,
                SsqMessage      *message,
                SsqConversation *before)
{
  g_autofree char *username = NULL;

  if (before == NULL || self->user_id == NULL)
    return NULL;
  if (message->edited_at != 0 || message->deleted)
    return NULL;
  if (message->seq <= ssq_conversation_get_last_seq (before))
    return NULL;
  if (g_strcmp0 (message->sender, self->user_id) == 0 || ssq_conversation_get_muted (before))
    return NULL;
  if (ssq_conversation_is_direct (before))
    return "direct";
  if (message->body == NULL || strchr (message->body, '@') == NULL)
    return "group";
  username = own_username (self);
  return ssq_proto_mentions (message->body, username) ? "mention" : "group";
}

static void
handle_message (SsqClient  *self,
                JsonObject *frame)
{
  g_autoptr(SsqMessage) message = NULL;
  g_autoptr(SsqConversation) before = NULL;
  const char *reason = NULL;
  JsonObject *object;
  GError *error = NULL;

  if (!ssq_wire_event_decode (frame, SSQ_FRAME_TYPE_MESSAGE, &object, &error) ||
      (message = ssq_message_new_from_json (object, &error)) == NULL)
    return protocol_error (self, SSQ_FRAME_MESSAGE, error);
  before = ssq_cache_get_conversation (self->cache, message->conversation_id);
  if (!apply_parsed_message (self, message, &error))
    return protocol_error (self, SSQ_FRAME_MESSAGE, error);
  /* After storing, as a `notification` frame comes after its message: a
   * handler finds the message in the cache. */
  reason = derived_reason (self, message, before);
  if (reason != NULL)
    ssq_client_emit (self, SIGNAL_NOTIFICATION, message->conversation_id,
                   message->seq, reason);
}

/**
 * ssq_client_apply_conversation:
 * Stores a conversation. One the cache has not seen starts being followed
 * @sync_window messages from its end; older history comes by paging. With
 * @live (not part of a sync) and messages the cache lacks, syncs.
 */
void
ssq_client_apply_conversation (SsqClient  *self,
                               JsonObject *object,
                               gboolean    live)
{
  g_autoptr(SsqConversation) conversation = NULL;
  g_autoptr(GError) error = NULL;
  const char *id = json_object_get_string_member_with_default (object, "id", NULL);
  gint64 cursor = id ? ssq_cache_get_cursor (self->cache, id) : -1;

  conversation = ssq_cache_store_conversation (self->cache, object, &error);
  if (conversation == NULL)
    {
      protocol_error (self, "conversation", g_steal_pointer (&error));
      return;
    }
  if (self->list_touched != NULL)
    g_hash_table_add (self->list_touched, g_strdup (id));
  if (cursor < 0 && ssq_conversation_get_last_seq (conversation) > self->sync_window)
    ssq_cache_set_sync_floor (self->cache, id,
                              ssq_conversation_get_last_seq (conversation) - self->sync_window, NULL);
  ssq_client_emit (self, SIGNAL_CONVERSATION, conversation);
  if (live && ssq_conversation_get_last_seq (conversation) > ssq_cache_get_cursor (self->cache, id))
    ssq_client_start_sync (self);
}

/* The user left the conversation, or was removed from it: its messages
 * still in the outbox can never be sent, and go with it. The user is told,
 * not left to find them gone. */
void
ssq_client_apply_removed (SsqClient  *self,
                          const char *conversation_id)
{
  g_autoptr(GPtrArray) outbox = ssq_cache_outbox_list (self->cache, conversation_id);

  if (!ssq_cache_remove_conversation (self->cache, conversation_id, NULL))
    return;
  g_hash_table_remove (self->typing, conversation_id);
  ssq_client_emit (self, SIGNAL_CONVERSATION_REMOVED, conversation_id);
  for (guint i = 0; i < outbox->len; i++)
    ssq_client_emit_outbox_changed (self, conversation_id,
                                    ssq_message_get_client_id (outbox->pdata[i]));
  if (outbox->len > 0)
    {
      g_autoptr(GError) dropped = NULL;

      dropped = g_error_new (SSQ_ERROR, SSQ_ERROR_FORBIDDEN,
                             g_dngettext (GETTEXT_PACKAGE,
                                          "%u unsent message was discarded: you are no longer "
                                          "in its conversation",
                                          "%u unsent messages were discarded: you are no longer "
                                          "in their conversation", outbox->len),
                             outbox->len);
      ssq_client_emit_error (self, dropped);
    }
}

static void
handle_receipt (SsqClient  *self,
                JsonObject *frame)
{
  SsqWireReceipt r;
  const char *conversation_id, *user_id;
  gint64 delivered, read;
  GError *error = NULL;

  if (!ssq_wire_receipt_decode (frame, &r, &error))
    return protocol_error (self, SSQ_FRAME_RECEIPT, error);
  conversation_id = r.conversation_id;
  user_id = r.user;
  delivered = r.delivered_seq;
  read = r.read_seq;
  if (!ssq_cache_set_markers (self->cache, conversation_id, user_id, delivered, read, NULL))
    return;
  ssq_client_emit (self, SIGNAL_RECEIPT, conversation_id, user_id,
                 delivered, read);
  if (g_strcmp0 (user_id, self->user_id) == 0)
    emit_conversation (self, conversation_id);
}

static void
handle_presence (SsqClient  *self,
                 JsonObject *frame)
{
  SsqWirePresence p;
  g_autoptr(SsqUser) user = NULL;
  GError *error = NULL;

  if (!ssq_wire_presence_decode (frame, SSQ_WIRE_FROM_SERVER, &p, &error))
    return protocol_error (self, SSQ_FRAME_PRESENCE, error);
  ssq_cache_set_presence (self->cache, p.user, p.status, p.last_seen, NULL);
  user = ssq_cache_get_user (self->cache, p.user);
  if (user != NULL)
    ssq_client_emit (self, SIGNAL_PRESENCE, user);
}

static void
handle_typing (SsqClient  *self,
               JsonObject *frame)
{
  SsqWireTyping t;
  GError *error = NULL;

  if (!ssq_wire_typing_decode (frame, SSQ_WIRE_FROM_SERVER, &t, &error))
    return protocol_error (self, SSQ_FRAME_TYPING, error);
  if (g_strcmp0 (t.user, self->user_id) != 0)
    ssq_client_apply_typing (self, t.conversation_id, t.user, t.active);
}

/* A server that does not know notifications=client still sends these.
 * They are checked, then dropped: the notifications derived from `message`
 * events stand in for them, and taking both would notify twice. */
static void
handle_notification (SsqClient  *self,
                     JsonObject *frame)
{
  SsqWireNotification n;
  GError *error = NULL;

  if (!ssq_wire_notification_decode (frame, &n, &error))
    protocol_error (self, SSQ_FRAME_NOTIFICATION, error);
}

/* A conversation new to the cache during a sync was joined after the
 * sync's list of conversations: unless a page still to come covers it, a
 * page already asked for may not have had it, and its history would be
 * missing. One more pass then, once it is stored and its batch committed
 * (ssq_client_batch_end): one that could not be stored would ask for a
 * pass after every pass. */
static void
apply_during_sync (SsqClient  *self,
                   JsonObject *conversation)
{
  const char *id = json_object_get_string_member_with_default (conversation, "id", NULL);
  gboolean new = id != NULL && ssq_cache_get_cursor (self->cache, id) < 0;

  ssq_client_apply_conversation (self, conversation, FALSE);
  /* While the list is read no page is asked yet: the pages, ranges of
   * ids, will cover it. */
  if (new && ssq_cache_get_cursor (self->cache, id) >= 0 && self->sync_rounds > 0 &&
      (self->sync_to == NULL || strcmp (id, self->sync_to) < 0))
    self->resync_pending = TRUE;
}

void
ssq_client_handle_event (SsqClient  *self,
                         JsonObject *frame)
{
  const char *type = json_object_get_string_member (frame, "type");
  GError *error = NULL;
  SsqFrameType kind;
  JsonObject *object;
  const char *id;

  if (!ssq_wire_frame_from_name (type, SSQ_WIRE_FROM_SERVER, &kind))
    kind = SSQ_FRAME_TYPE_N;
  switch (kind)
    {
    case SSQ_FRAME_TYPE_MESSAGE:
      handle_message (self, frame);
      break;
    case SSQ_FRAME_TYPE_CONVERSATION:
      if (!ssq_wire_event_decode (frame, kind, &object, &error))
        return protocol_error (self, type, error);
      if (self->syncing)
        apply_during_sync (self, object);
      else
        ssq_client_apply_conversation (self, object, TRUE);
      break;
    case SSQ_FRAME_TYPE_CONVERSATION_REMOVED:
      if (!ssq_wire_removed_decode (frame, &id, &error))
        return protocol_error (self, type, error);
      ssq_client_apply_removed (self, id);
      break;
    case SSQ_FRAME_TYPE_RECEIPT:
      handle_receipt (self, frame);
      break;
    case SSQ_FRAME_TYPE_TYPING:
      handle_typing (self, frame);
      break;
    case SSQ_FRAME_TYPE_PRESENCE:
      handle_presence (self, frame);
      break;
    case SSQ_FRAME_TYPE_NOTIFICATION:
      handle_notification (self, frame);
      break;
    default:
      /* Replies are not events; other types are a newer server's. */
      g_debug ("client: ignoring an event of unknown type \"%s\"", type);
      break;
    }
}

/* Sync. */

static void send_sync (SsqClient *self);
static void send_sync_again (SsqClient *self);
static void send_page (SsqClient *self,
                       char      *from_id);

static void
sync_failed (SsqClient *self,
             GError    *error)
{
  self->syncing = FALSE;
  ssq_client_emit_error (self, error);
}

/* A sync asks again while the server says it cut the answer short. Each
 * round moves the cursors; one that moves none is a stall. A server that
 * keeps saying "truncated" without moving them, or for more rounds than
 * any real catch-up takes (each brings up to sync_batch messages per
 * conversation), would keep the client syncing for ever: it stops with an
 * error instead, and the next connection tries again. */
#define SYNC_ROUNDS_MAX 1000
#define SYNC_STALLS_MAX 3
/* Passes over every page: the first, and those asked for by conversations
 * changed or joined under the running sync. Past them the sync stops with
 * an error, so that a server that keeps answering so cannot keep the
 * client syncing for ever either. */
#define SYNC_PASSES_MAX 4

/* Conversations named by one sync request: a user in more syncs page by
 * page (see sync_fits). */
#define SYNC_PAGE 500

/* The ack's `revs`: per conversation, the rev up to which this sync brought
 * every edit and deletion. A server without change cursors sends none. */
static void
apply_revs (SsqClient  *self,
            JsonObject *revs)
{
  JsonObjectIter iter;
  const char *conversation_id;
  JsonNode *value;

  if (revs == NULL)
    return;
  /* Checked by the codec: every value is a non-negative integer. */
  json_object_iter_init (&iter, revs);
  while (json_object_iter_next (&iter, &conversation_id, &value))
    ssq_cache_set_rev_cursor (self->cache, conversation_id, json_node_get_int (value), NULL);
}

static void
sync_reply (SsqClient    *self,
            JsonObject   *reply,
            const GError *error,
            gpointer      user_data)
{
  SsqWireAck ack;
  GError *ack_error = NULL;

  if (error != NULL)
    {
      self->syncing = FALSE;
      if (!g_error_matches (error, SSQ_ERROR, SSQ_ERROR_NETWORK))
        ssq_client_emit_error (self, error);
      return;
    }
  /* Something this sync brought was not stored (the events before this
   * ack are applied by now): its change cursors must not move, nor may
   * it count as done. The cache retry syncs again. */
  if (self->sync_lost)
    {
      self->syncing = self->sync_lost = FALSE;
      /* A retry that fired under this sync only asked for another pass:
       * one must come, or nothing syncs until the next connection. */
      ssq_client_schedule_retry (self);
      return;
    }
  if (!ssq_wire_ack_decode (reply, &ack, &ack_error))
    {
      /* As before: cursors that do not read are not taken; the sync goes on. */
      protocol_error (self, SSQ_FRAME_ACK, ack_error);
      ack = (SsqWireAck) { 0 };
      ssq_json_get_array (reply, "truncated", FALSE, G_MAXUINT, &ack.truncated, NULL);
    }
  apply_revs (self, ack.revs);
  /* A truncated conversation: ask for the page again, from the advanced
   * cursors. */
  if (ack.truncated != NULL && json_array_get_length (ack.truncated) > 0)
    {
      send_sync_again (self);
      return;
    }
  /* The next page. */
  if (self->sync_to != NULL)
    return send_page (self, g_steal_pointer (&self->sync_to));
  /* A conversation changed or was joined under the running sync: one
   * more pass. */
  if (self->resync)
    {
      g_autoptr(GError) stopped = NULL;

      self->resync = FALSE;
      if (++self->sync_passes < SYNC_PASSES_MAX)
        return send_page (self, NULL);
      stopped = g_error_new (SSQ_ERROR, SSQ_ERROR_PROTOCOL,
                             _("Conversations kept changing during the sync; "
                               "stopped after %u passes"), self->sync_passes);
      return sync_failed (self, stopped);
    }
  self->syncing = FALSE;
  self->synced = TRUE;
  ssq_client_emit (self, SIGNAL_SYNCED);
}

/* A sync names the conversations it is about in "since" and "since_rev",
 * and a server reads at most SSQ_JSON_MAX_MEMBERS members an object and
 * SSQ_JSON_MAX_REQUEST_MEMBERS in all (up to 6 of them the frame's own),
 * in a frame of at most SSQ_FRAME_MAX bytes (less the request id). Past
 * that no server takes it: refused, or the connection closed, after which
 * the client would connect and send it again. Pages of SYNC_PAGE
 * conversations stay well inside both with the server's ids (25 bytes);
 * only a server without pages, or ids over 60 bytes long, could pass. */
static gboolean
sync_fits (JsonObject  *since,
           JsonObject  *since_rev,
           const char  *text)
{
  guint named = json_object_get_size (since);
  guint named_rev = json_object_get_size (since_rev);

  return named <= SSQ_JSON_MAX_MEMBERS && named_rev <= SSQ_JSON_MAX_MEMBERS &&
         named + named_rev + 6 <= SSQ_JSON_MAX_REQUEST_MEMBERS &&
         strlen (text) + 64 <= SSQ_FRAME_MAX;
}

/* Sends the sync of the page that starts at sync_from (NULL: the first),
 * which names at most SYNC_PAGE conversations held; the ack moves on to
 * the next page, if any. A server whose welcome did not offer pages gets
 * one sync naming every conversation, as before pages. */
static void
send_sync (SsqClient *self)
{
  g_autoptr(JsonObject) since = NULL;
  /* With change cursors the server also sends what was edited or deleted
   * among the messages already held. */
  g_autoptr(JsonObject) since_rev = NULL;
  g_autoptr(JsonObject) frame = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *cursors = NULL;

  g_clear_pointer (&self->sync_to, g_free);
  if (!ssq_cache_get_sync_page (self->cache, self->sync_from,
                                self->sync_pages ? SYNC_PAGE : G_MAXUINT,
                                &since, &since_rev, &self->sync_to, &error))
    return sync_failed (self, error);
  frame = ssq_wire_sync_encode (&(SsqWireSync) { NULL, since, since_rev,
                                                 self->sync_from, self->sync_to });
  cursors = ssq_json_object_to_string (frame, NULL);
  if (!sync_fits (since, since_rev, cursors))
    {
      error = g_error_new (SSQ_ERROR, SSQ_ERROR_TOO_LARGE,
                           _("A sync of %u conversations does not fit in one request"),
                           json_object_get_size (since));
      return sync_failed (self, error);
    }
  if (self->sync_rounds > 0 && g_strcmp0 (cursors, self->sync_last_since) == 0)
    self->sync_stalls++;
  else
    self->sync_stalls = 0;
  g_free (self->sync_last_since);
  self->sync_last_since = g_steal_pointer (&cursors);
  self->sync_rounds++;
  if (!ssq_client_request (self, frame, sync_reply, NULL))
    self->syncing = FALSE;
}

/* The next round of a running sync's page, unless it has run too long. */
static void
send_sync_again (SsqClient *self)
{
  if (self->sync_rounds >= SYNC_ROUNDS_MAX || self->sync_stalls >= SYNC_STALLS_MAX)
    {
      g_autoptr(GError) stopped = g_error_new (SSQ_ERROR, SSQ_ERROR_PROTOCOL,
                                               _("The server keeps cutting the sync short; "
                                                 "stopped after %u requests"),
                                               self->sync_rounds);

      return sync_failed (self, stopped);
    }
  send_sync (self);
}

/* Starts the page at @from_id (taken; NULL: the first): SYNC_ROUNDS_MAX
 * and SYNC_STALLS_MAX count the rounds of one page. */
static void
send_page (SsqClient *self,
           char      *from_id)
{
  g_free (self->sync_from);
  self->sync_from = from_id;
  self->sync_rounds = self->sync_stalls = 0;
  send_sync (self);
}

typedef struct {
  SsqClient *self;
  guint      generation;
} SyncStart;

/* Conversations gone from the server's list were left or lost while this
 * client was away: sync does not tell about those. One stored since the
 * list was asked for (created or joined meanwhile: the server built the
 * list before) is not gone: removing it took its outbox with it. */
static void
remove_missing (SsqClient *self,
                GPtrArray *conversations)
{
  g_autoptr(GHashTable) present = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GPtrArray) cached = ssq_cache_list_conversations (self->cache);
  g_autoptr(GHashTable) touched = g_steal_pointer (&self->list_touched);

  for (guint i = 0; i < conversations->len; i++)
    g_hash_table_add (present, (gpointer) ssq_conversation_get_id (conversations->pdata[i]));
  for (guint i = 0; i < cached->len; i++)
    {
      const char *id = ssq_conversation_get_id (cached->pdata[i]);

      if (!g_hash_table_contains (present, id) &&
          (touched == NULL || !g_hash_table_contains (touched, id)))
        ssq_client_apply_removed (self, id);
    }
}

/* The sync starts once the list of conversations is read. Pages are made
 * of the conversations held: without the list, those the cache lacks
 * could all fall in one page, more than a reply may name. The sync then
 * waits for the next try (a lost connection, or a cache retry). A server
 * without pages gets the one sync it always got. */
static void
list_read (SsqClient    *self,
           GPtrArray    *conversations,
           const GError *error)
{
  if (conversations != NULL)
    {
      /* A conversation of the list that could not be stored would look
       * gone: nothing is removed then, and the sync stops at its first
       * reply (sync_lost) to start again later. */
      if (!self->sync_lost)
        remove_missing (self, conversations);
      g_clear_pointer (&self->list_touched, g_hash_table_unref);
      send_sync (self);
    }
  else if (!self->sync_pages)
    send_sync (self);
  else
    {
      self->syncing = FALSE;
      if (!g_error_matches (error, SSQ_ERROR, SSQ_ERROR_NETWORK))
        ssq_client_emit_error (self, error);
      ssq_client_schedule_retry (self);
    }
}

static void
prefetched_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  SyncStart *start = user_data;
  SsqClient *self = start->self;
  g_autoptr(GPtrArray) conversations = NULL;
  g_autoptr(GError) error = NULL;

  conversations = ssq_client_fetch_conversations_finish (self, result, &error);
  if (start->generation == self->generation && self->syncing)
    list_read (self, conversations, error);
  g_object_unref (self);
  g_free (start);
}

/**
 * ssq_client_start_sync:
 * Catches the cache up with the server: the list of conversations first
 * (which sets where new ones start and drops those left while away), then a
 * sync from the cache's cursors, repeated while the server truncates.
 */
void
ssq_client_start_sync (SsqClient *self)
{
  SyncStart *start;

  if (self->state != SSQ_CLIENT_ONLINE)
    return;
  if (self->syncing)
    {
      self->resync = TRUE;
      return;
    }
  self->syncing = TRUE;
  self->synced = self->resync = self->sync_lost = FALSE;
  self->sync_rounds = self->sync_stalls = self->sync_passes = 0;
  g_clear_pointer (&self->sync_from, g_free);
  g_clear_pointer (&self->sync_to, g_free);
  start = g_new0 (SyncStart, 1);
  start->self = g_object_ref (self);
  start->generation = self->generation;
  g_clear_pointer (&self->list_touched, g_hash_table_unref);
  self->list_touched = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  ssq_client_fetch_conversations_async (self, NULL, prefetched_cb, start);
}

/**
 * ssq_client_mark_read:
 * The user has seen @conversation_id up to @seq: updates the unread count at
 * once and tells the server (now, or on the next connection).
 */
void
ssq_client_mark_read (SsqClient  *self,
                      const char *conversation_id,
                      gint64      seq)
{
  g_autoptr(SsqConversation) before = NULL;

  g_return_if_fail (SSQ_IS_CLIENT (self) && self->cache != NULL);

  before = ssq_cache_get_conversation (self->cache, conversation_id);
  if (before == NULL || seq <= ssq_conversation_get_read_seq (before))
    return;
  seq = MIN (seq, ssq_conversation_get_last_seq (before));
  ssq_cache_set_markers (self->cache, conversation_id, self->user_id, 0, seq, NULL);
  emit_conversation (self, conversation_id);
  queue_marker (self, self->pending_read, conversation_id, seq);
}
