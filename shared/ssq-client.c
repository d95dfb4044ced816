/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-client.c: SsqClient's object, session and connection: one WebSocket,
 * requests matched to their replies by id, keepalive, and reconnection with
 * capped exponential backoff and jitter. Events are applied in
 * ssq-client-events.c, the outbox lives in ssq-client-outbox.c, REST calls
 * in ssq-client-api.c, typing and presence in ssq-client-activity.c. */
#include <glib/gi18n.h>
#include "ssq-config.h"
#include "ssq-client-private.h"
#include "ssq-json.h"
#include "ssq-proto.h"
#include "ssq-ws-connect.h"

#include <string.h>

/* Backoff: 250 ms doubling up to reconnect_max_ms, each delay drawn in its
 * upper half so that clients restarted together spread out. A connection
 * that stays up this long resets it. */
#define BACKOFF_BASE_MS        250
#define BACKOFF_MAX_MS         30000
#define STABLE_AFTER_S         10
/* Keepalive: a ping after this much silence; no frame at all for twice as
 * long means the server or the path to it is gone. */
#define KEEPALIVE_INTERVAL_S   15
/* Frames from the server are bounded by the protocol; a conversation with
 * many members is the largest. */
#define INCOMING_FRAME_MAX     (4 * 1024 * 1024)
/* A message may come in fragments: their sum is bounded by the figure of
 * the HTTP replies (ssq-client-api.c), which no message comes near. */
#define INCOMING_MESSAGE_MAX   (16 * 1024 * 1024)

typedef struct {
  SsqReplyFunc reply;
  gpointer     user_data;
} SsqRequest;

enum {
  PROP_0,
  PROP_SERVER_URL,
  PROP_DATA_DIR,
  PROP_STATE,
  PROP_USER_ID,
  PROP_USERNAME,
  PROP_PRESENCE,
  PROP_IDLE_TIMEOUT,
  PROP_RECONNECT_MAX,
  PROP_SYNC_WINDOW,
  PROP_MEDIA_CACHE_SIZE,
  PROP_KNOWN_SERVERS,
  PROP_INSECURE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];
guint ssq_client_signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (SsqClient, ssq_client, G_TYPE_OBJECT)

G_DEFINE_ENUM_TYPE (SsqClientState, ssq_client_state,
  G_DEFINE_ENUM_VALUE (SSQ_CLIENT_DISCONNECTED, "disconnected"),
  G_DEFINE_ENUM_VALUE (SSQ_CLIENT_CONNECTING, "connecting"),
  G_DEFINE_ENUM_VALUE (SSQ_CLIENT_ONLINE, "online"),
  G_DEFINE_ENUM_VALUE (SSQ_CLIENT_WAITING, "waiting"))

static void drop_connection (SsqClient *self);

static void
ssq_client_dispose (GObject *object)
{
  SsqClient *self = SSQ_CLIENT (object);

  self->want_online = FALSE;
  drop_connection (self);
  ssq_client_attachments_stop (self, NULL);
  ssq_client_media_cancel_all (self);
  ssq_client_activity_reset (self);
  g_clear_handle_id (&self->retry_source, g_source_remove);
  g_clear_handle_id (&self->received_source, g_source_remove);
  g_clear_handle_id (&self->outbox_retry_source, g_source_remove);
  g_clear_handle_id (&self->cache_retry_source, g_source_remove);
  ssq_client_drop_events (self);
  g_clear_object (&self->session);
  g_clear_object (&self->cache);
  G_OBJECT_CLASS (ssq_client_parent_class)->dispose (object);
}

static void
ssq_client_finalize (GObject *object)
{
  SsqClient *self = SSQ_CLIENT (object);

  /* A view going down with the client may still have told it the user is
   * typing after dispose cleared the timers: none may outlive it. */
  ssq_client_activity_reset (self);
  g_free (self->server_url);
  g_free (self->data_dir);
  g_free (self->known_servers);
  g_free (self->user_id);
  g_free (self->username);
  if (self->token != NULL)
    memset (self->token, 0, strlen (self->token));
  g_free (self->token);
  g_free (self->presence);
  g_free (self->sync_last_since);
  g_free (self->sync_from);
  g_free (self->sync_to);
  g_clear_pointer (&self->list_touched, g_hash_table_unref);
  g_free (self->media_dir);
  g_free (self->outbox_transfer_for);
  g_hash_table_unref (self->downloads);
  g_hash_table_unref (self->reuploads);
  g_hash_table_unref (self->requests);
  g_hash_table_unref (self->in_flight);
  g_hash_table_unref (self->pending_received);
  g_hash_table_unref (self->pending_read);
  g_hash_table_unref (self->typing);
  G_OBJECT_CLASS (ssq_client_parent_class)->finalize (object);
}

static void
ssq_client_get_property (GObject    *object,
                         guint       prop_id,
                         GValue     *value,
                         GParamSpec *pspec)
{
  SsqClient *self = SSQ_CLIENT (object);

  switch (prop_id)
    {
    case PROP_SERVER_URL: g_value_set_string (value, self->server_url); break;
    case PROP_DATA_DIR: g_value_set_string (value, self->data_dir); break;
    case PROP_STATE: g_value_set_enum (value, self->state); break;
    case PROP_USER_ID: g_value_set_string (value, self->user_id); break;
    case PROP_USERNAME: g_value_set_string (value, self->username); break;
    case PROP_PRESENCE: g_value_set_string (value, self->presence); break;
    case PROP_IDLE_TIMEOUT: g_value_set_uint (value, self->idle_timeout_s); break;
    case PROP_RECONNECT_MAX: g_value_set_uint (value, self->reconnect_max_ms); break;
    case PROP_SYNC_WINDOW: g_value_set_uint (value, self->sync_window); break;
    case PROP_MEDIA_CACHE_SIZE: g_value_set_uint64 (value, self->media_cache_size); break;
    case PROP_KNOWN_SERVERS: g_value_set_string (value, self->known_servers); break;
    case PROP_INSECURE: g_value_set_boolean (value, self->insecure); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ssq_client_set_property (GObject      *object,
                         guint         prop_id,
                         const GValue *value,
                         GParamSpec   *pspec)
{
  SsqClient *self = SSQ_CLIENT (object);

  switch (prop_id)
    {
    case PROP_SERVER_URL:
      g_free (self->server_url);
      self->server_url = g_value_dup_string (value);
      /* One form without a trailing slash, so paths join cleanly. */
      while (self->server_url && g_str_has_suffix (self->server_url, "/"))
        self->server_url[strlen (self->server_url) - 1] = '\0';
      break;
    case PROP_DATA_DIR:
      self->data_dir = g_value_dup_string (value);
      break;
    case PROP_PRESENCE:
      ssq_client_set_presence (self, g_value_get_string (value));
      break;
    case PROP_IDLE_TIMEOUT:
      self->idle_timeout_s = g_value_get_uint (value);
      ssq_client_activity_rearm (self);
      break;
    case PROP_RECONNECT_MAX:
      self->reconnect_max_ms = MAX (BACKOFF_BASE_MS, g_value_get_uint (value));
      break;
    case PROP_SYNC_WINDOW:
      self->sync_window = g_value_get_uint (value);
      break;
    case PROP_MEDIA_CACHE_SIZE:
      ssq_client_set_media_cache_size (self, g_value_get_uint64 (value));
      break;
    case PROP_KNOWN_SERVERS:
      self->known_servers = g_value_dup_string (value);
      break;
    case PROP_INSECURE:
      if (self->insecure != g_value_get_boolean (value))
        {
          self->insecure = g_value_get_boolean (value);
          g_object_notify_by_pspec (object, pspec);
        }
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ssq_client_class_init (SsqClientClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;
  GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;

  object_class->dispose = ssq_client_dispose;
  object_class->finalize = ssq_client_finalize;
  object_class->get_property = ssq_client_get_property;
  object_class->set_property = ssq_client_set_property;

  properties[PROP_SERVER_URL] =
    g_param_spec_string ("server-url", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_DATA_DIR] =
    g_param_spec_string ("data-dir", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL, SSQ_TYPE_CLIENT_STATE, SSQ_CLIENT_DISCONNECTED, ro);
  properties[PROP_USER_ID] = g_param_spec_string ("user-id", NULL, NULL, NULL, ro);
  properties[PROP_USERNAME] = g_param_spec_string ("username", NULL, NULL, NULL, ro);
  properties[PROP_PRESENCE] = g_param_spec_string ("presence", NULL, NULL, "online", rw);
  /* Seconds without reported activity before presence turns to away; 0
   * never. */
  properties[PROP_IDLE_TIMEOUT] =
    g_param_spec_uint ("idle-timeout", NULL, NULL, 0, G_MAXUINT, 300, rw);
  properties[PROP_RECONNECT_MAX] =
    g_param_spec_uint ("reconnect-max-delay", NULL, NULL, BACKOFF_BASE_MS, G_MAXUINT,
                       BACKOFF_MAX_MS, rw);
  /* How many recent messages to fetch of a conversation first seen; older
   * ones come by paging. */
  properties[PROP_SYNC_WINDOW] =
    g_param_spec_uint ("sync-window", NULL, NULL, 1, G_MAXUINT, 200, rw);
  /* The download cache's cap in bytes: past it, the least recently used
   * media and thumbnails are evicted. */
  properties[PROP_MEDIA_CACHE_SIZE] =
    g_param_spec_uint64 ("media-cache-size", NULL, NULL, 0, G_MAXUINT64,
                         SSQ_CLIENT_MEDIA_CACHE_SIZE_DEFAULT, rw);
  /* The file of pinned server keys (ssq-trust.h); NULL: the user's,
   * $XDG_CONFIG_HOME/supersoniq/known-servers.ini. */
  properties[PROP_KNOWN_SERVERS] =
    g_param_spec_string ("known-servers", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  /* Plain http:// (ws://) to hosts that are not loopback: off unless the
   * user asks (--insecure). */
  properties[PROP_INSECURE] = g_param_spec_boolean ("insecure", NULL, NULL, FALSE, rw);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  ssq_client_signals[SIGNAL_MESSAGE] =
    g_signal_new ("message", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, SSQ_TYPE_MESSAGE);
  ssq_client_signals[SIGNAL_CONVERSATION] =
    g_signal_new ("conversation", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 1, SSQ_TYPE_CONVERSATION);
  ssq_client_signals[SIGNAL_CONVERSATION_REMOVED] =
    g_signal_new ("conversation-removed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                  NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
  /* conversation id, user id, delivered seq, read seq */
  ssq_client_signals[SIGNAL_RECEIPT] =
    g_signal_new ("receipt", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 4, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_INT64, G_TYPE_INT64);
  /* conversation id, user id, active */
  ssq_client_signals[SIGNAL_TYPING] =
    g_signal_new ("typing", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 3, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_BOOLEAN);
  /* the user, with the new presence */
  ssq_client_signals[SIGNAL_PRESENCE] =
    g_signal_new ("presence", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, SSQ_TYPE_USER);
  /* conversation id, seq, reason ("direct", "mention", "group") */
  ssq_client_signals[SIGNAL_NOTIFICATION] =
    g_signal_new ("notification", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 3, G_TYPE_STRING, G_TYPE_INT64, G_TYPE_STRING);
  /* conversation id, client id: an outbox entry was added, failed, or left */
  ssq_client_signals[SIGNAL_OUTBOX_CHANGED] =
    g_signal_new ("outbox-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);
  /* the cache has caught up with the server */
  ssq_client_signals[SIGNAL_SYNCED] =
    g_signal_new ("synced", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);
  /* something went wrong outside of any call: the session was refused, the
   * server sent something unreadable, a queued message failed */
  ssq_client_signals[SIGNAL_ERROR] =
    g_signal_new ("error", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_ERROR);
}

static void
ssq_client_init (SsqClient *self)
{
  self->session = soup_session_new_with_options ("timeout", 30, "idle-timeout", 60,
                                                 "user-agent", "supersoniq/" SSQ_VERSION,
                                                 NULL);
  ssq_client_trust_init (self);
  self->requests = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);
  self->in_flight = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->pending_received = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->pending_read = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->typing = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                        (GDestroyNotify) g_hash_table_unref);
  self->presence = g_strdup ("online");
  self->idle_timeout_s = 300;
  self->reconnect_max_ms = BACKOFF_MAX_MS;
  self->sync_window = 200;
  self->next_request_id = 1;
  self->events = g_queue_new ();
  self->media_cache_size = SSQ_CLIENT_MEDIA_CACHE_SIZE_DEFAULT;
  /* Keys are the downloads' own. */
  self->downloads = g_hash_table_new (g_str_hash, g_str_equal);
  self->reuploads = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

/**
 * ssq_client_new:
 * @server_url: e.g. `http://chat.lan:8080`
 * @data_dir: (nullable): where the account caches live; the user's data
 *   directory when NULL.
 */
SsqClient *
ssq_client_new (const char *server_url,
                const char *data_dir)
{
  g_return_val_if_fail (server_url != NULL, NULL);
  return g_object_new (SSQ_TYPE_CLIENT, "server-url", server_url, "data-dir", data_dir, NULL);
}

const char *
ssq_client_get_server_url (SsqClient *self)
{
  g_return_val_if_fail (SSQ_IS_CLIENT (self), NULL);
  return self->server_url;
}

SsqClientState
ssq_client_get_state (SsqClient *self)
{
  g_return_val_if_fail (SSQ_IS_CLIENT (self), SSQ_CLIENT_DISCONNECTED);
  return self->state;
}

const char *
ssq_client_get_user_id (SsqClient *self)
{
  g_return_val_if_fail (SSQ_IS_CLIENT (self), NULL);
  return self->user_id;
}

const char *
ssq_client_get_username (SsqClient *self)
{
  g_return_val_if_fail (SSQ_IS_CLIENT (self), NULL);
  return self->username;
}

const char *
ssq_client_get_token (SsqClient *self)
{
  g_return_val_if_fail (SSQ_IS_CLIENT (self), NULL);
  return self->token;
}

/**
 * ssq_client_get_cache:
 * Returns: (transfer none) (nullable): the account's cache, once a session is set.
 */
SsqCache *
ssq_client_get_cache (SsqClient *self)
{
  g_return_val_if_fail (SSQ_IS_CLIENT (self), NULL);
  return self->cache;
}

/* Whether the cache has caught up with the server on this connection. */
gboolean
ssq_client_is_synced (SsqClient *self)
{
  g_return_val_if_fail (SSQ_IS_CLIENT (self), FALSE);
  return self->state == SSQ_CLIENT_ONLINE && self->synced;
}

void
ssq_client_set_state (SsqClient      *self,
                      SsqClientState  state)
{
  if (self->state == state)
    return;
  self->state = state;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
}

void
ssq_client_emit_error (SsqClient    *self,
                       const GError *error)
{
  ssq_client_emit (self, SIGNAL_ERROR, error);
}

/* The account's download cache: beside its cache file when the caller
 * chose the data directory (tests, portable setups), else in the user's
 * cache directory, where files that can be fetched again belong. */
static char *
media_dir_for (const char *data_dir,
               const char *cache_path)
{
  g_autofree char *base = g_path_get_basename (cache_path);
  g_autofree char *name = NULL;

  if (g_str_has_suffix (base, ".db"))
    base[strlen (base) - 3] = '\0';
  name = g_strconcat (base, ".media", NULL);
  if (data_dir != NULL)
    return g_build_filename (data_dir, name, NULL);
  return g_build_filename (g_get_user_cache_dir (), "supersoniq", name, NULL);
}

/**
 * ssq_client_set_media_cache_size:
 * @size: bytes; the default is %SSQ_CLIENT_MEDIA_CACHE_SIZE_DEFAULT (500 MiB)
 *
 * Caps the download cache: the least recently used files go until it is
 * within @size, now and after every download.
 */
void
ssq_client_set_media_cache_size (SsqClient *self,
                                 guint64    size)
{
  g_return_if_fail (SSQ_IS_CLIENT (self));
  if (self->media_cache_size == size)
    return;
  self->media_cache_size = size;
  ssq_client_media_evict (self, NULL, FALSE);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MEDIA_CACHE_SIZE]);
}

/**
 * ssq_client_set_session:
 * Takes a session (from register, login, or where the application kept it)
 * and opens the account's cache, so that conversations and history are
 * there before any connection.
 */
gboolean
ssq_client_set_session (SsqClient   *self,
                        const char  *username,
                        const char  *user_id,
                        const char  *token,
                        GError     **error)
{
  g_autofree char *path = NULL;
  g_autoptr(SsqCache) cache = NULL;

  g_return_val_if_fail (SSQ_IS_CLIENT (self), FALSE);
  g_return_val_if_fail (username != NULL && token != NULL, FALSE);

  /* Events of the old session go into the old cache; its transfers end. */
  ssq_client_flush_events (self);
  ssq_client_attachments_stop (self, NULL);
  ssq_client_media_cancel_all (self);
  path = ssq_cache_path_for (self->data_dir, self->server_url, username);
  cache = ssq_cache_open (path, error);
  if (cache == NULL)
    return FALSE;
  if (user_id == NULL)
    user_id = ssq_cache_get_self_id (cache);
  if (user_id != NULL)
    ssq_cache_set_self_id (cache, user_id);

  g_set_object (&self->cache, cache);
  /* Outbox positions are the old cache's, and so was its disk's trouble. */
  ssq_client_rewind_outbox (self);
  g_clear_handle_id (&self->cache_retry_source, g_source_remove);
  self->cache_retry_ms = 0;
  g_free (self->media_dir);
  self->media_dir = media_dir_for (self->data_dir, path);
  ssq_cache_outbox_sweep (cache);
  g_free (self->username), self->username = g_ascii_strdown (username, -1);
  g_free (self->user_id), self->user_id = g_strdup (user_id);
  g_free (self->token), self->token = g_strdup (token);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_USERNAME]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_USER_ID]);
  return TRUE;
}

/* Requests. */

static void
fail_requests (SsqClient *self)
{
  g_autoptr(GHashTable) requests = g_steal_pointer (&self->requests);
  g_autoptr(GError) error = g_error_new (SSQ_ERROR, SSQ_ERROR_NETWORK,
                                         _("The connection to the server was lost"));
  GHashTableIter iter;
  SsqRequest *request;

  self->requests = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);
  g_hash_table_iter_init (&iter, requests);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &request))
    if (request->reply != NULL)
      request->reply (self, NULL, error, request->user_data);
}

void
ssq_client_send_frame (SsqClient  *self,
                       JsonObject *frame)
{
  g_autofree char *text = NULL;

  if (self->ws == NULL ||
      soup_websocket_connection_get_state (self->ws) != SOUP_WEBSOCKET_STATE_OPEN)
    return;
  text = ssq_json_object_to_string (frame, NULL);
  soup_websocket_connection_send_text (self->ws, text);
}

/**
 * ssq_client_request:
 * Sends @frame with a fresh id; @reply gets the ack, or an error (from the
 * server, or because the connection went away before the answer).
 * Returns: FALSE when not connected (and @reply is not called).
 */
gboolean
ssq_client_request (SsqClient    *self,
                    JsonObject   *frame,
                    SsqReplyFunc  reply,
                    gpointer      user_data)
{
  SsqRequest *request;
  gint64 *key;

  if (self->ws == NULL || self->state != SSQ_CLIENT_ONLINE)
    return FALSE;
  key = g_new (gint64, 1);
  *key = self->next_request_id++;
  request = g_new0 (SsqRequest, 1);
  request->reply = reply;
  request->user_data = user_data;
  g_hash_table_insert (self->requests, key, request);
  json_object_set_int_member (frame, "id", *key);
  ssq_client_send_frame (self, frame);
  return TRUE;
}

static void
handle_reply (SsqClient  *self,
              const char *type,
              JsonObject *frame)
{
  JsonNode *id_node = json_object_get_member (frame, "id");
  gint64 id;
  SsqRequest *request;
  SsqReplyFunc reply;
  gpointer user_data;

  if (id_node == NULL || json_node_get_value_type (id_node) != G_TYPE_INT64)
    {
      /* An error about a frame the server could not tie to a request. */
      if (strcmp (type, SSQ_FRAME_ERROR) == 0)
        {
          const char *message = json_object_get_string_member_with_default (frame, "message", "");
          g_autoptr(GError) error = g_error_new (SSQ_ERROR, SSQ_ERROR_INVALID,
                                                 _("The server refused a frame: %s"), message);
          ssq_client_emit_error (self, error);
        }
      return;
    }
  id = json_node_get_int (id_node);
  request = g_hash_table_lookup (self->requests, &id);
  if (request == NULL)
    return;
  reply = request->reply;
  user_data = request->user_data;
  g_hash_table_remove (self->requests, &id);
  if (reply == NULL)
    return;

  if (strcmp (type, SSQ_FRAME_ACK) == 0)
    reply (self, frame, NULL, user_data);
  else
    {
      SsqWireError wire;
      SsqError error_code = SSQ_ERROR_INTERNAL;
      g_autoptr(GError) error = NULL;

      ssq_wire_error_decode (frame, &wire);
      ssq_error_code_from_string (wire.code, &error_code);
      error = g_error_new_literal (SSQ_ERROR, error_code, wire.message);
      if (wire.retry_after_ms > 0)
        ssq_error_set_retry_after (error, wire.retry_after_ms);
      reply (self, NULL, error, user_data);
    }
}

static void
handle_welcome (SsqClient  *self,
                JsonObject *frame)
{
  SsqWireWelcome welcome;
  g_autoptr(SsqUser) user = NULL;
  g_autoptr(GError) error = NULL;

  if (!ssq_wire_welcome_decode (frame, &welcome, &error) ||
      (user = ssq_user_new_from_json (welcome.user, &error)) == NULL)
    {
      g_prefix_error (&error, _("Unreadable welcome: "));
      error->code = SSQ_ERROR_PROTOCOL;
      ssq_client_emit_error (self, error);
      return;
    }
  if (self->user_id == NULL)
    {
      self->user_id = g_strdup (ssq_user_get_id (user));
      ssq_cache_set_self_id (self->cache, self->user_id);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_USER_ID]);
    }
  ssq_cache_store_user (self->cache, user, NULL);
  self->sync_pages = welcome.sync_pages;
  ssq_client_set_state (self, SSQ_CLIENT_ONLINE);
  ssq_client_activity_online (self);
  ssq_client_start_sync (self);
  ssq_client_flush_outbox (self);
  ssq_client_flush_markers (self);
}

static void
ws_message_cb (SoupWebsocketConnection *ws,
               int                      data_type,
               GBytes                  *bytes,
               SsqClient               *self)
{
  g_autoptr(JsonObject) frame = NULL;
  g_autoptr(GError) error = NULL;
  const char *type = NULL;
  SsqFrameType kind;
  gsize len;
  const char *data = g_bytes_get_data (bytes, &len);

  self->last_rx_us = g_get_monotonic_time ();
  if (data_type != SOUP_WEBSOCKET_DATA_TEXT)
    error = g_error_new (SSQ_ERROR, SSQ_ERROR_PROTOCOL, _("The server sent a binary frame"));
  else if ((frame = ssq_json_parse_object (data, len, &error)) == NULL ||
           !ssq_json_get_string (frame, "type", TRUE, &type, &error))
    error->code = SSQ_ERROR_PROTOCOL;
  if (error != NULL)
    {
      g_prefix_error (&error, _("Unreadable frame from the server: "));
      ssq_client_emit_error (self, error);
      return;
    }

  /* Types this client does not know go on to the event handler, which
   * ignores them: a newer server may send more. */
  if (!ssq_wire_frame_from_name (type, SSQ_WIRE_FROM_SERVER, &kind))
    kind = SSQ_FRAME_TYPE_N;
  g_object_ref (self);
  /* Events queue for the next batch; anything else comes after the events
   * before it, in the order the server sent them. */
  if (kind == SSQ_FRAME_TYPE_ACK || kind == SSQ_FRAME_TYPE_ERROR || kind == SSQ_FRAME_TYPE_WELCOME)
    ssq_client_flush_events (self);
  if (kind == SSQ_FRAME_TYPE_ACK || kind == SSQ_FRAME_TYPE_ERROR)
    handle_reply (self, type, frame);
  else if (kind == SSQ_FRAME_TYPE_WELCOME)
    handle_welcome (self, frame);
  else if (kind == SSQ_FRAME_TYPE_PONG)
    self->ping_sent_us = 0;
  else if (self->state == SSQ_CLIENT_ONLINE)
    ssq_client_queue_event (self, frame);
  g_object_unref (self);
}

/* Connection life. */

static void schedule_reconnect (SsqClient *self);

static void
drop_connection (SsqClient *self)
{
  /* What arrived before the loss is applied, as it would have been. */
  if (self->events != NULL)
    ssq_client_flush_events (self);
  g_cancellable_cancel (self->connect_cancellable);
  g_clear_object (&self->connect_cancellable);
  g_clear_handle_id (&self->stable_source, g_source_remove);
  g_clear_handle_id (&self->keepalive_source, g_source_remove);
  if (self->ws != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->ws, self);
      if (soup_websocket_connection_get_state (self->ws) == SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_close (self->ws, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
      g_clear_object (&self->ws);
    }
  self->syncing = self->resync = self->synced = FALSE;
  /* The next connection syncs and sends the outbox anyway: a retry timer
   * left from this one would only start an extra sync under it. */
  g_clear_handle_id (&self->cache_retry_source, g_source_remove);
  self->generation++;
  g_hash_table_remove_all (self->in_flight);
  ssq_client_rewind_outbox (self);
  fail_requests (self);
}

static void
connection_lost (SsqClient *self)
{
  drop_connection (self);
  if (self->want_online)
    schedule_reconnect (self);
  else
    ssq_client_set_state (self, SSQ_CLIENT_DISCONNECTED);
}

static void
ws_closed_cb (SoupWebsocketConnection *ws,
              SsqClient               *self)
{
  g_debug ("client: connection closed (%u)", soup_websocket_connection_get_close_code (ws));
  connection_lost (self);
}

static gboolean
stable_cb (gpointer user_data)
{
  SsqClient *self = user_data;

  self->stable_source = 0;
  self->attempt = 0;
  return G_SOURCE_REMOVE;
}

static gboolean
keepalive_cb (gpointer user_data)
{
  SsqClient *self = user_data;
  gint64 now = g_get_monotonic_time ();
  g_autoptr(JsonObject) ping = NULL;

  if (now - self->last_rx_us >= 2 * KEEPALIVE_INTERVAL_S * G_USEC_PER_SEC)
    {
      g_debug ("client: no sign of life from the server; reconnecting");
      self->keepalive_source = 0;
      connection_lost (self);
      return G_SOURCE_REMOVE;
    }
  if (now - self->last_rx_us >= KEEPALIVE_INTERVAL_S * G_USEC_PER_SEC && self->ping_sent_us == 0)
    {
      g_autoptr(JsonNode) id = json_node_init_int (json_node_alloc (), 0);

      ping = ssq_wire_ping_encode (id);
      ssq_client_send_frame (self, ping);
      self->ping_sent_us = now;
    }
  return G_SOURCE_CONTINUE;
}

/* libsoup reports what ended a connection before "closed". What the
 * server did wrong is worth telling; a lost network is not, the reconnect
 * deals with it. */
static void
ws_error_cb (SoupWebsocketConnection *ws,
             GError                  *error,
             SsqClient               *self)
{
  g_autoptr(GError) reported = NULL;

  g_debug ("client: connection error: %s", error->message);
  if (error->domain == SSQ_ERROR)
    reported = g_error_copy (error);
  else if (error->domain == SOUP_WEBSOCKET_ERROR)
    reported = g_error_new (SSQ_ERROR, SSQ_ERROR_PROTOCOL,
                            _("The server broke the WebSocket protocol: %s"), error->message);
  if (reported != NULL)
    ssq_client_emit_error (self, reported);
}

static void
ws_connected_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  SsqClient *self = user_data;
  g_autoptr(GError) error = NULL;
  SoupWebsocketConnection *ws;

  ws = ssq_ws_connect_finish (result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  g_clear_object (&self->connect_cancellable);
  if (ws == NULL)
    {
      g_debug ("client: cannot connect: %s", error->message);
      /* A key not trusted yet, or changed: no retry mends it; the person
       * decides (ssq_client_trust_server (), then connect again). */
      if (g_error_matches (error, SSQ_ERROR, SSQ_ERROR_UNTRUSTED) ||
          g_error_matches (error, SSQ_ERROR, SSQ_ERROR_KEY_CHANGED))
        {
          self->want_online = FALSE;
          ssq_client_set_state (self, SSQ_CLIENT_DISCONNECTED);
          ssq_client_emit_error (self, error);
          return;
        }
      if (g_error_matches (error, SSQ_ERROR, SSQ_ERROR_UNAUTHORIZED))
        {
          g_autoptr(GError) refused = g_error_new (SSQ_ERROR, SSQ_ERROR_UNAUTHORIZED,
                                                   _("The server no longer accepts this session; log in again"));
          self->want_online = FALSE;
          ssq_client_set_state (self, SSQ_CLIENT_DISCONNECTED);
          ssq_client_emit_error (self, refused);
          return;
        }
      schedule_reconnect (self);
      return;
    }

  self->ws = ws;
  soup_websocket_connection_set_max_incoming_payload_size (ws, INCOMING_FRAME_MAX);
  g_signal_connect (ws, "message", G_CALLBACK (ws_message_cb), self);
  g_signal_connect (ws, "error", G_CALLBACK (ws_error_cb), self);
  g_signal_connect (ws, "closed", G_CALLBACK (ws_closed_cb), self);
  self->last_rx_us = g_get_monotonic_time ();
  self->ping_sent_us = 0;
  self->keepalive_source = g_timeout_add_seconds (KEEPALIVE_INTERVAL_S / 3, keepalive_cb, self);
  self->stable_source = g_timeout_add_seconds (STABLE_AFTER_S, stable_cb, self);
  /* Online once the welcome arrives. */
}

static void
start_connect (SsqClient *self)
{
  g_autofree char *url = NULL;
  g_autoptr(GError) error = NULL;

  g_assert (self->ws == NULL);

  /* Mistakes that no retry mends stop the client here. */
  if (!ssq_ws_connect_check (self->server_url, self->token, &error) ||
      !ssq_client_check_transport (self, &error))
    {
      self->want_online = FALSE;
      ssq_client_set_state (self, SSQ_CLIENT_DISCONNECTED);
      ssq_client_emit_error (self, error);
      return;
    }

  /* With notifications=client the server leaves out `notification` frames
   * (one frame per message and member instead of two); the client derives
   * them from `message` events. A server that does not know the parameter
   * ignores it and sends them anyway; see ssq-client-events.c. */
  url = g_strconcat (self->server_url, "/api/v1/ws?notifications=client", NULL);
  ssq_client_set_state (self, SSQ_CLIENT_CONNECTING);
  self->connect_cancellable = g_cancellable_new ();
  ssq_ws_connect_async (url, self->token, soup_session_get_user_agent (self->session),
                        INCOMING_MESSAGE_MAX, self->known_servers, self->connect_cancellable,
                        ws_connected_cb, self);
}

static gboolean
retry_cb (gpointer user_data)
{
  SsqClient *self = user_data;

  self->retry_source = 0;
  if (self->want_online && self->ws == NULL && self->connect_cancellable == NULL)
    start_connect (self);
  return G_SOURCE_REMOVE;
}

static void
schedule_reconnect (SsqClient *self)
{
  guint64 delay = BACKOFF_BASE_MS;
  guint64 wait;

  for (guint i = 0; i < self->attempt && delay < self->reconnect_max_ms; i++)
    delay *= 2;
  delay = MIN (delay, self->reconnect_max_ms);
  wait = delay / 2 + (guint64) g_random_int_range (0, (gint32) MAX (1, delay / 2));
  self->attempt++;
  g_debug ("client: reconnecting in %" G_GUINT64_FORMAT " ms", wait);
  ssq_client_set_state (self, SSQ_CLIENT_WAITING);
  g_clear_handle_id (&self->retry_source, g_source_remove);
  self->retry_source = g_timeout_add (wait, retry_cb, self);
}

/**
 * ssq_client_connect:
 * Goes online and stays online: after a lost connection the client
 * reconnects by itself, then syncs and sends its outbox.
 */
void
ssq_client_connect (SsqClient *self)
{
  g_return_if_fail (SSQ_IS_CLIENT (self));
  g_return_if_fail (self->token != NULL && self->cache != NULL);

  self->want_online = TRUE;
  self->attempt = 0;
  g_clear_handle_id (&self->retry_source, g_source_remove);
  if (self->ws == NULL && self->connect_cancellable == NULL)
    start_connect (self);
}

void
ssq_client_disconnect (SsqClient *self)
{
  g_return_if_fail (SSQ_IS_CLIENT (self));

  self->want_online = FALSE;
  g_clear_handle_id (&self->retry_source, g_source_remove);
  drop_connection (self);
  /* An upload of the outbox goes on at the next connection. */
  ssq_client_attachments_stop (self, NULL);
  ssq_client_set_state (self, SSQ_CLIENT_DISCONNECTED);
}
