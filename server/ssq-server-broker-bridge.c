/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-broker-bridge.c: the exchanges supersoniq.chat and
 * supersoniq.events. A publish to supersoniq.chat is handed to the chat
 * code exactly as a WebSocket `send` is (ssq_server_chat_send: membership,
 * rate limit, body limit, client_id idempotency, commit, fan-out, receipts,
 * notifications) and its publisher confirm waits for that commit. Every
 * message event the hub fans out is offered to supersoniq.events through
 * the bindings of the conversation's members' queues only (from the
 * members' cache, so a removed member stops at once): its cost is theirs,
 * not that of every binding to the exchange. */
#include "ssq-server-broker-bridge.h"
#include "ssq-server-chat.h"
#include "amqp/ssq-amqp-table.h"

#include <string.h>

/* A JSON body may escape every byte of the longest text (\u00XX, six
 * bytes) and carry a client_id and reply_to: anything longer cannot hold a
 * valid message, and is refused before it is parsed. */
#define BRIDGE_JSON_MAX (SSQ_BODY_MAX * 6 + 1024)

/* ---------------------------------------------------------------- errors */

static void G_GNUC_PRINTF (3, 4)
set_amqp_error (GError     **error,
                int          code,
                const char  *format,
                ...)
{
  g_autofree char *text = NULL;
  va_list args;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, SSQ_BROKER_ERROR, code, "%s - %s", ssq_amqp_reply_name (code), text);
}

/* A routing key as reply texts may quote it: anything a client could make
 * of it (255 bytes of anything) is shown as "..." instead (reply texts are
 * short strings, kept ASCII). */
static const char *
quotable (const char *key)
{
  gsize len = strlen (key);

  if (len == 0 || len > 64)
    return "...";
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isgraph (key[i]) || key[i] == '\'')
      return "...";
  return key;
}

/* The chat's refusal as an AMQP reply. A mandatory publish gets it back
 * through basic.return: 312 NO_ROUTE for a conversation it may not reach,
 * 406 for a body no message can be made of. */
static GError *
amqp_error_from_chat (const GError *chat_error,
                      gboolean      mandatory)
{
  GError *error = NULL;
  int code;

  if (chat_error->domain == SSQ_BROKER_ERROR)
    code = chat_error->code;
  else if (chat_error->domain != SSQ_ERROR)
    code = SSQ_BROKER_ERROR_INTERNAL_ERROR;
  else
    switch (chat_error->code)
      {
      case SSQ_ERROR_NOT_FOUND:
        code = SSQ_BROKER_ERROR_NOT_FOUND;
        break;
      case SSQ_ERROR_FORBIDDEN:
      case SSQ_ERROR_FEATURE_DISABLED:
      case SSQ_ERROR_ACCOUNT_DISABLED:
        code = SSQ_BROKER_ERROR_ACCESS_REFUSED;
        break;
      case SSQ_ERROR_INVALID:
      case SSQ_ERROR_CONFLICT:
      case SSQ_ERROR_TOO_LARGE:
      case SSQ_ERROR_RATE_LIMITED:
        code = SSQ_BROKER_ERROR_PRECONDITION_FAILED;
        break;
      default:
        code = SSQ_BROKER_ERROR_INTERNAL_ERROR;
        break;
      }
  if (chat_error->domain == SSQ_BROKER_ERROR)
    error = g_error_copy (chat_error);
  else
    set_amqp_error (&error, code, "%s", chat_error->message);
  if (mandatory && (code == SSQ_BROKER_ERROR_ACCESS_REFUSED || code == SSQ_BROKER_ERROR_NOT_FOUND))
    {
      /* Keeps the reason: "NO_ROUTE - ACCESS_REFUSED - not a member…" reads
       * oddly, so the first name is replaced. */
      const char *reason = strstr (error->message, " - ");
      g_autofree char *text = g_strdup (reason != NULL ? reason + 3 : error->message);

      g_clear_error (&error);
      set_amqp_error (&error, SSQ_BROKER_ERROR_NO_ROUTE, "%s", text);
    }
  return error;
}

/* --------------------------------------------------- publishes: the body */

/* "text/plain; charset=utf-8" → TRUE for text/plain with no charset or a
 * UTF-8 one; *out_json for application/json. */
static gboolean
parse_content_type (const char  *content_type,
                    gboolean    *out_json,
                    GError     **error)
{
  g_auto(GStrv) parts = NULL;
  g_autofree char *media = NULL;

  *out_json = FALSE;
  if (content_type == NULL || content_type[0] == '\0')
    return TRUE;
  parts = g_strsplit (content_type, ";", -1);
  media = g_ascii_strdown (g_strstrip (parts[0]), -1);
  for (guint i = 1; parts[i] != NULL; i++)
    {
      char *param = g_strstrip (parts[i]);

      if (g_ascii_strncasecmp (param, "charset=", 8) == 0 &&
          g_ascii_strcasecmp (param + 8, "utf-8") != 0 &&
          g_ascii_strcasecmp (param + 8, "\"utf-8\"") != 0 &&
          g_ascii_strcasecmp (param + 8, "us-ascii") != 0)
        {
          set_amqp_error (error, SSQ_BROKER_ERROR_PRECONDITION_FAILED,
                          "the body must be UTF-8, not charset '%s'", quotable (param + 8));
          return FALSE;
        }
    }
  *out_json = g_str_equal (media, "application/json");
  if (*out_json || g_str_equal (media, "text/plain"))
    return TRUE;
  set_amqp_error (error, SSQ_BROKER_ERROR_PRECONDITION_FAILED,
                  "content-type must be text/plain or application/json, not '%s'",
                  quotable (media));
  return FALSE;
}

/* The message-id property, when a publisher set one: the client_id of a
 * text/plain publish, so a republished message is stored once. */
static char *
dup_message_id (SsqBrokerMessage *message)
{
  GBytes *encoded = ssq_broker_message_get_properties (message);
  g_autoptr(SsqAmqpProperties) props = NULL;
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (encoded, &len);

  if (len == 0 || (props = ssq_amqp_properties_decode (data, len, NULL)) == NULL)
    return NULL;
  return g_strdup (props->message_id);
}

/* The body as the JSON object of a WebSocket `send` (without its
 * conversation_id): {"body": text} for text/plain, the object itself for
 * application/json. Checked for UTF-8 and size before anything is parsed. */
static JsonObject *
request_from_body (SsqBrokerMessage  *message,
                   GError           **error)
{
  GBytes *body = ssq_broker_message_get_body (message);
  gsize len = 0;
  const char *data = g_bytes_get_data (body, &len);
  g_autoptr(GError) parse_error = NULL;
  g_autofree char *text = NULL;
  JsonObject *request;
  gboolean json;

  if (!parse_content_type (ssq_broker_message_get_content_type (message), &json, error))
    return NULL;
  if (len > (json ? BRIDGE_JSON_MAX : SSQ_BODY_MAX))
    {
      set_amqp_error (error, SSQ_BROKER_ERROR_PRECONDITION_FAILED,
                      "the body has %" G_GSIZE_FORMAT " bytes; a message has at most %d",
                      len, SSQ_BODY_MAX);
      return NULL;
    }
  /* A NUL byte fails this too: a message's text is a C string. */
  if (len > 0 && !g_utf8_validate (data, len, NULL))
    {
      set_amqp_error (error, SSQ_BROKER_ERROR_PRECONDITION_FAILED, "the body is not valid UTF-8");
      return NULL;
    }
  if (!json)
    {
      if (len == 0)
        {
          set_amqp_error (error, SSQ_BROKER_ERROR_PRECONDITION_FAILED, "the body is empty");
          return NULL;
        }
      request = json_object_new ();
      json_object_set_string_member (request, "body", (text = g_strndup (data, len)));
      return request;
    }
  /* The reader every frame and body goes through: strict JSON, its depth
   * bounded, no NUL or lone surrogate escapes. */
  request = ssq_json_parse_request (data, len, &parse_error);
  if (request == NULL)
    set_amqp_error (error, SSQ_BROKER_ERROR_PRECONDITION_FAILED,
                    "an application/json body must be an object {\"body\": ...}: %s",
                    parse_error->message);
  return request;
}

/* ------------------------------------------------ publishes: the message */

typedef struct {
  SsqServer        *server;
  SsqBrokerPending *pending;
  gboolean          mandatory;
  char             *user_id;
  char             *target;     /* the routing key */
  JsonObject       *request;    /* a `send`, its conversation_id set once known */
} Post;

static void
post_free (gpointer data)
{
  Post *post = data;

  g_assert (post->pending == NULL);
  g_clear_pointer (&post->request, json_object_unref);
  g_free (post->target);
  g_free (post->user_id);
  g_object_unref (post->server);
  g_free (post);
}

/* Ends the publish: its confirm (or return, or channel error) goes out.
 * A rate limit refuses it for now: under confirms a nack, and the bot's
 * channel stays open for the retry. */
static void
post_complete (Post         *post,
               const GError *error)
{
  g_autoptr(GError) amqp = error ? amqp_error_from_chat (error, post->mandatory) : NULL;

  if (g_error_matches (error, SSQ_ERROR, SSQ_ERROR_RATE_LIMITED))
    ssq_broker_pending_refuse_for_now (g_steal_pointer (&post->pending), amqp);
  else
    ssq_broker_pending_complete (g_steal_pointer (&post->pending), amqp);
}

static void
post_sent (SsqServer           *server,
           const SsqMessageRow *message,
           gboolean             duplicate,
           const GError        *error,
           gpointer             user_data)
{
  /* Runs after the commit (or the refusal): a resend of a stored
   * client_id is a success too, the message is stored once. */
  post_complete (user_data, error);
}

/* The one path every message takes, with the publisher as its sender. */
static void
post_send (Post       *post,
           const char *conversation_id)
{
  g_autoptr(GError) error = NULL;
  SsqSendRequest request = { 0 };

  json_object_set_string_member (post->request, "conversation_id", conversation_id);
  if (!ssq_server_chat_parse_send (post->request, &request, &error))
    {
      post_complete (post, error);
      post_free (post);
      return;
    }
  ssq_server_chat_send (post->server, post->user_id, &request, post_sent, post, post_free);
  ssq_send_request_clear (&request);
}

static void
post_direct_ready (SsqServer    *server,
                   const char   *conversation_id,
                   gboolean      created,
                   const GError *error,
                   gpointer      user_data)
{
  Post *post = user_data;

  if (error != NULL)
    {
      post_complete (post, error);
      post_free (post);
      return;
    }
  post_send (post, conversation_id);
}

/* The routing key is a conversation id, or a username (the direct
 * conversation with that user, made as POST /api/v1/conversations makes
 * it). A conversation the publisher is not in: 403. */
static void
post_route (Post *post)
{
  SsqServer *server = post->server;
  g_autoptr(GError) error = NULL;
  g_autoptr(SsqMemberRow) member = NULL;
  g_autoptr(SsqUserRow) user = NULL;
  g_autoptr(JsonObject) direct = NULL;
  g_autoptr(JsonArray) members = NULL;

  if (ssq_server_members_conversation (server->members, post->target, NULL, NULL, &error))
    {
      member = ssq_server_members_get (server->members, post->target, post->user_id, &error);
      if (member != NULL)
        {
          post_send (post, post->target);
          return;
        }
      if (error == NULL)
        set_amqp_error (&error, SSQ_BROKER_ERROR_ACCESS_REFUSED,
                        "not a member of conversation '%s'", quotable (post->target));
      goto fail;
    }
  if (error != NULL && !g_error_matches (error, SSQ_ERROR, SSQ_ERROR_NOT_FOUND))
    goto fail;
  g_clear_error (&error);
  if (ssq_check_username (post->target, NULL))
    user = ssq_server_store_user_by_name (server->store, post->target, NULL, &error);
  if (user == NULL)
    {
      if (error == NULL || g_error_matches (error, SSQ_ERROR, SSQ_ERROR_NOT_FOUND))
        {
          g_clear_error (&error);
          set_amqp_error (&error, SSQ_BROKER_ERROR_NOT_FOUND,
                          "no conversation or user '%s'", quotable (post->target));
        }
      goto fail;
    }
  direct = json_object_new ();
  members = json_array_new ();
  json_array_add_string_element (members, user->username);
  json_object_set_string_member (direct, "kind", "direct");
  json_object_set_array_member (direct, "members", g_steal_pointer (&members));
  ssq_server_chat_create (server, post->user_id, direct, post_direct_ready, post, NULL);
  return;

fail:
  post_complete (post, error);
  post_free (post);
}

/* supersoniq.chat's publish handler. */
static void
chat_publish (SsqBroker                *broker,
              const SsqBrokerPrincipal *publisher,
              SsqBrokerMessage         *message,
              SsqBrokerPending         *pending,
              gpointer                  user_data)
{
  SsqServer *server = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) request = request_from_body (message, &error);
  Post *post;

  if (request == NULL)
    {
      g_autoptr(GError) amqp = amqp_error_from_chat (error, FALSE);

      ssq_broker_pending_complete (pending, amqp);
      return;
    }
  if (!json_object_has_member (request, "client_id"))
    {
      g_autofree char *id = dup_message_id (message);

      if (id == NULL)
        id = g_uuid_string_random ();
      json_object_set_string_member (request, "client_id", id);
    }
  post = g_new0 (Post, 1);
  post->server = g_object_ref (server);
  post->pending = pending;
  post->mandatory = ssq_broker_pending_is_mandatory (pending);
  post->user_id = g_strdup (publisher->user_id);
  post->target = g_strdup (ssq_broker_message_get_routing_key (message));
  post->request = g_steal_pointer (&request);
  post_route (post);
}

/* supersoniq.events is the server's to feed. */
static void
events_publish (SsqBroker                *broker,
                const SsqBrokerPrincipal *publisher,
                SsqBrokerMessage         *message,
                SsqBrokerPending         *pending,
                gpointer                  user_data)
{
  g_autoptr(GError) error = NULL;

  set_amqp_error (&error, SSQ_BROKER_ERROR_ACCESS_REFUSED,
                  "exchange '" SSQ_BRIDGE_EVENTS_EXCHANGE "' in vhost '/' is fed by the server "
                  "only; publish to '" SSQ_BRIDGE_CHAT_EXCHANGE "'");
  ssq_broker_pending_complete (pending, error);
}

/* ----------------------------------------------------------------- events */

/* "conversation.<id>.<kind>" → whether @binder_user_id is a member of <id>
 * now: membership is read as each event is routed, from memory. */
static gboolean
events_filter (const char       *binder_user_id,
               SsqBrokerMessage *message,
               gpointer          user_data)
{
  SsqServer *server = user_data;
  const char *key = ssq_broker_message_get_routing_key (message);
  const char *id, *end;
  g_autofree char *conversation_id = NULL;
  g_autoptr(SsqMemberRow) member = NULL;

  if (binder_user_id == NULL || !g_str_has_prefix (key, "conversation."))
    return FALSE;
  id = key + strlen ("conversation.");
  end = strchr (id, '.');
  if (end == NULL || end == id)
    return FALSE;
  conversation_id = g_strndup (id, end - id);
  member = ssq_server_members_get (server->members, conversation_id, binder_user_id, NULL);
  return member != NULL;
}

/* The JSON text of a server WebSocket frame (unmasked: a 2-, 4- or
 * 10-byte header before it), shared, not copied. */
static GBytes *
frame_payload (GBytes *frame)
{
  gsize size = 0;
  const guint8 *data = g_bytes_get_data (frame, &size);
  gsize header;

  g_assert (size >= 2);
  header = (data[1] & 0x7f) == 127 ? 10 : (data[1] & 0x7f) == 126 ? 4 : 2;
  g_assert (size >= header && (data[1] & 0x80) == 0);
  return g_bytes_new_from_bytes (frame, header, size - header);
}

static GBytes *
event_properties (SsqServer           *server,
                  const SsqMessageRow *message)
{
  g_autoptr(SsqAmqpProperties) props = ssq_amqp_properties_new ();
  g_autoptr(SsqUserRow) sender = ssq_server_store_user_by_id (server->store, message->sender, NULL);
  gint64 at = message->edited_at > 0 ? message->edited_at : message->created_at;

  ssq_amqp_properties_set_string (props, SSQ_AMQP_PROP_CONTENT_TYPE, "application/json");
  props->headers = ssq_amqp_table_new ();
  ssq_amqp_table_take (props->headers, "x-supersoniq-sender",
                       ssq_amqp_value_new_string (sender != NULL ? sender->username
                                                                 : message->sender));
  props->delivery_mode = 2;
  props->timestamp = (guint64) MAX (at, 0) / 1000;
  props->flags |= SSQ_AMQP_PROP_HEADERS | SSQ_AMQP_PROP_DELIVERY_MODE | SSQ_AMQP_PROP_TIMESTAMP;
  return ssq_amqp_properties_encode (props);
}

/* The members of @conversation_id who have a queue bound to
 * supersoniq.events (user ids, borrowed from the members' cache): only
 * their bindings are visited, so one user's many bindings cost nothing to
 * the conversations they are not in. Membership is the cache's, changed
 * with each commit: a removed member hears nothing more at once. */
static GPtrArray *
events_audience (SsqServer  *server,
                 const char *conversation_id,
                 GPtrArray **out_members)
{
  GPtrArray *audience = g_ptr_array_new ();

  *out_members = ssq_server_members_list (server->members, conversation_id, NULL);
  for (guint i = 0; *out_members != NULL && i < (*out_members)->len; i++)
    {
      const SsqMemberRow *m = g_ptr_array_index (*out_members, i);

      if (ssq_broker_exchange_has_bindings_of (server->broker, SSQ_BRIDGE_EVENTS_EXCHANGE,
                                               m->user_id))
        g_ptr_array_add (audience, m->user_id);
    }
  return audience;
}

void
ssq_server_broker_bridge_message (SsqServer           *server,
                                  const SsqMessageRow *message,
                                  gboolean             is_new,
                                  GBytes              *frame)
{
  g_autofree char *key = NULL;
  g_autoptr(GBytes) properties = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(SsqBrokerMessage) event = NULL;
  g_autoptr(GPtrArray) members = NULL;
  g_autoptr(GPtrArray) audience = NULL;

  /* The common case, no bot listening: nothing is built. */
  if (server->broker == NULL ||
      !ssq_broker_exchange_has_bindings (server->broker, SSQ_BRIDGE_EVENTS_EXCHANGE))
    return;
  audience = events_audience (server, message->conversation_id, &members);
  if (audience->len == 0)
    return;
  key = g_strdup_printf ("conversation.%s.%s", message->conversation_id,
                         message->deleted ? "deleted" : is_new ? "message" : "edited");
  properties = event_properties (server, message);
  body = frame_payload (frame);
  event = ssq_broker_message_new (SSQ_BRIDGE_EVENTS_EXCHANGE, key, properties, body);
  ssq_broker_publish_internal_to (server->broker, event, (const char * const *) audience->pdata,
                                  audience->len);
  server->metrics.bridge_events_total++;
}

void
ssq_server_broker_bridge_start (SsqServer *server)
{
  g_return_if_fail (server->broker != NULL);

  ssq_broker_add_special_exchange (server->broker, SSQ_BRIDGE_CHAT_EXCHANGE,
                                   SSQ_BROKER_EXCHANGE_TOPIC, chat_publish, NULL, server, NULL);
  ssq_broker_add_special_exchange (server->broker, SSQ_BRIDGE_EVENTS_EXCHANGE,
                                   SSQ_BROKER_EXCHANGE_TOPIC, events_publish, events_filter,
                                   server, NULL);
}
