/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-client-api.c: the REST side of SsqClient: register, login, logout,
 * conversations and members, edits and deletions, user search and history
 * paging. Every reply is applied to the cache before the caller hears of
 * it; errors come back in SSQ_ERROR. */
#include <glib/gi18n.h>
#include "ssq-client-private.h"
#include "ssq-json.h"
#include "ssq-message-private.h"
#include "ssq-proto.h"

#include <string.h>

/* No reply of the protocol comes near this (a history page of 200
 * messages of 16 KiB is 3.2 MiB, escaped at most twice that); a server that
 * sends more is refused before it fills the memory. */
#define REPLY_BODY_MAX   (16 * 1024 * 1024)
#define REPLY_READ_CHUNK (64 * 1024)

typedef struct {
  SsqReplyTransform transform;
  GDestroyNotify    result_free;
  SoupMessage      *msg;
  GInputStream     *stream;
  GByteArray       *body;
} ApiCall;

static void
api_call_free (ApiCall *call)
{
  g_clear_object (&call->msg);
  g_clear_object (&call->stream);
  g_clear_pointer (&call->body, g_byte_array_unref);
  g_free (call);
}

/* Reads the server's error object, or makes one from the status. */
GError *
ssq_client_api_error (guint   status,
                      GBytes *body)
{
  g_autoptr(JsonObject) reply = NULL;
  SsqWireError wire = { 0 };
  SsqError error_code = ssq_error_code_for_status (status);
  GError *error = NULL;
  gsize len = 0;
  const char *data = body ? g_bytes_get_data (body, &len) : NULL;

  if (data != NULL && len > 0 && (reply = ssq_json_parse_object (data, len, NULL)) != NULL &&
      ssq_wire_error_reply_decode (reply, &wire) && wire.code != NULL)
    ssq_error_code_from_string (wire.code, &error_code);
  /* A wait is worded here, in the user's language and units, whatever
   * the server's text says. */
  if (error_code == SSQ_ERROR_RATE_LIMITED && wire.retry_after_ms > 0)
    {
      ssq_set_rate_limited (&error, wire.retry_after_ms);
      return error;
    }
  /* Without the server's words (a proxy, another program on the port):
   * the status with its real reason phrase, "429 Too Many Requests". */
  if (ssq_client_invite_error_text (error_code) != NULL)
    error = g_error_new_literal (SSQ_ERROR, error_code, ssq_client_invite_error_text (error_code));
  else if (wire.message != NULL)
    error = g_error_new (SSQ_ERROR, error_code, "%s", wire.message);
  else
    error = g_error_new (SSQ_ERROR, error_code, _("The server answered %u %s"), status,
                         soup_status_get_phrase (status) ? soup_status_get_phrase (status) : _("(unknown status)"));
  return error;
}

static void
api_call_reply (GTask  *task,
                GBytes *body)
{
  SsqClient *self = g_task_get_source_object (task);
  ApiCall *call = g_task_get_task_data (task);
  g_autoptr(JsonObject) reply = NULL;
  g_autoptr(GError) error = NULL;
  gpointer value;
  guint status = soup_message_get_status (call->msg);
  gsize len;
  const char *data;

  if (!SOUP_STATUS_IS_SUCCESSFUL (status))
    {
      g_task_return_error (task, ssq_client_api_error (status, body));
      return;
    }
  data = g_bytes_get_data (body, &len);
  if (len > 0 && (reply = ssq_json_parse_object (data, len, &error)) == NULL)
    {
      g_task_return_new_error (task, SSQ_ERROR, SSQ_ERROR_PROTOCOL,
                               _("Unreadable reply from the server: %s"), error->message);
      return;
    }
  if (reply == NULL && status != SOUP_STATUS_NO_CONTENT)
    {
      g_task_return_new_error (task, SSQ_ERROR, SSQ_ERROR_PROTOCOL, _("Empty reply from the server"));
      return;
    }
  value = call->transform (self, reply, &error);
  if (value == NULL)
    {
      if (error->domain == SSQ_ERROR && error->code == SSQ_ERROR_INVALID)
        error->code = SSQ_ERROR_PROTOCOL;
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  g_task_return_pointer (task, value, call->result_free);
}

static void
return_too_large (GTask *task)
{
  g_task_return_new_error (task, SSQ_ERROR, SSQ_ERROR_PROTOCOL,
                           _("The server's reply is larger than %u MiB"),
                           (guint) (REPLY_BODY_MAX / (1024 * 1024)));
}

static void api_call_read (GObject *source, GAsyncResult *result, gpointer user_data);

static void
read_next (ApiCall *call,
           GTask   *task)
{
  g_input_stream_read_bytes_async (call->stream, REPLY_READ_CHUNK, G_PRIORITY_DEFAULT,
                                   g_task_get_cancellable (task), api_call_read, task);
}

/* The body comes in chunks, counted as they come: a server cannot make the
 * client hold more than REPLY_BODY_MAX (plus one chunk) of it. */
static void
api_call_read (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  ApiCall *call = g_task_get_task_data (task);
  g_autoptr(GBytes) chunk = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GError) error = NULL;

  chunk = g_input_stream_read_bytes_finish (G_INPUT_STREAM (source), result, &error);
  if (chunk == NULL)
    {
      g_task_return_new_error (task, SSQ_ERROR, SSQ_ERROR_NETWORK,
                               _("Cannot reach the server: %s"), error->message);
      return;
    }
  if (g_bytes_get_size (chunk) == 0)
    {
      body = g_byte_array_free_to_bytes (g_steal_pointer (&call->body));
      api_call_reply (task, body);
      return;
    }
  if (call->body->len + g_bytes_get_size (chunk) > REPLY_BODY_MAX)
    {
      return_too_large (task);
      return;
    }
  g_byte_array_append (call->body, g_bytes_get_data (chunk, NULL), g_bytes_get_size (chunk));
  read_next (call, g_steal_pointer (&task));
}

static void
api_call_sent (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  ApiCall *call = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  SoupMessageHeaders *headers;

  call->stream = soup_session_send_finish (SOUP_SESSION (source), result, &error);
  if (call->stream == NULL)
    {
      g_task_return_error (task, ssq_client_transport_error (call->msg, error));
      return;
    }
  /* A declared length over the limit is refused before a byte is read. */
  headers = soup_message_get_response_headers (call->msg);
  if (soup_message_headers_get_encoding (headers) == SOUP_ENCODING_CONTENT_LENGTH &&
      soup_message_headers_get_content_length (headers) > REPLY_BODY_MAX)
    {
      return_too_large (task);
      return;
    }
  call->body = g_byte_array_new ();
  read_next (call, g_steal_pointer (&task));
}

/**
 * ssq_client_api_message:
 * A request to the server's @path with the session's token, for callers
 * that set its body themselves (an upload streams a file).
 *
 * Returns: (transfer full) (nullable): the message, or NULL with @error
 *   when the server's address makes no URL, or is plain http:// where
 *   that is refused (SSQ_ERROR_INSECURE)
 */
SoupMessage *
ssq_client_api_message (SsqClient   *self,
                        const char  *method,
                        const char  *path,
                        GError     **error)
{
  g_autofree char *url = g_strconcat (self->server_url, path, NULL);
  SoupMessage *msg;

  /* Nothing goes out in clear text to a host that is not this machine
   * unless the user insisted; https:// is checked by the pin on connecting
   * (ssq-client-trust.c). */
  if (!ssq_client_check_transport (self, error))
    return NULL;
  msg = soup_message_new (method, url);
  if (msg == NULL)
    {
      g_set_error (error, SSQ_ERROR, SSQ_ERROR_INVALID, _("Not a server address: %s"),
                   self->server_url);
      return NULL;
    }
  if (self->token != NULL)
    {
      g_autofree char *auth = g_strconcat ("Bearer ", self->token, NULL);

      soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization", auth);
    }
  return msg;
}

/**
 * ssq_client_api_send:
 * Sends @msg (from ssq_client_api_message()) and reads its JSON reply like
 * ssq_client_api_call().
 */
void
ssq_client_api_send (SsqClient          *self,
                     SoupMessage        *msg,
                     SsqReplyTransform   transform,
                     GDestroyNotify      result_free,
                     gpointer            source_tag,
                     GCancellable       *cancellable,
                     GAsyncReadyCallback callback,
                     gpointer            user_data)
{
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);
  ApiCall *call = g_new0 (ApiCall, 1);

  call->transform = transform;
  call->result_free = result_free;
  call->msg = g_object_ref (msg);
  g_task_set_source_tag (task, source_tag);
  g_task_set_task_data (task, call, (GDestroyNotify) api_call_free);
  soup_session_send_async (self->session, msg, G_PRIORITY_DEFAULT, cancellable,
                           api_call_sent, g_steal_pointer (&task));
}

/**
 * ssq_client_api_call:
 * Sends one authenticated request; @transform turns the parsed reply (NULL
 * for 204) into the task's result, applying it to the cache on the way, and
 * must return non-NULL on success.
 */
void
ssq_client_api_call (SsqClient          *self,
                     const char         *method,
                     const char         *path,
                     JsonObject         *body,
                     SsqReplyTransform   transform,
                     GDestroyNotify      result_free,
                     gpointer            source_tag,
                     GCancellable       *cancellable,
                     GAsyncReadyCallback callback,
                     gpointer            user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SoupMessage) msg = ssq_client_api_message (self, method, path, &error);

  if (msg == NULL)
    {
      g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);

      g_task_set_source_tag (task, source_tag);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  if (body != NULL)
    {
      gsize len;
      char *text = ssq_json_object_to_string (body, &len);
      g_autoptr(GBytes) bytes = g_bytes_new_take (text, len);

      soup_message_set_request_body_from_bytes (msg, "application/json", bytes);
    }
  ssq_client_api_send (self, msg, transform, result_free, source_tag, cancellable, callback,
                       user_data);
}

gpointer
ssq_client_api_finish (SsqClient     *self,
                       GAsyncResult  *result,
                       gpointer       source_tag,
                       GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == source_tag, NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* Register and log in. */

static gpointer
session_from_reply (SsqClient   *self,
                    JsonObject  *reply,
                    GError     **error)
{
  SsqWireSession session;
  g_autoptr(SsqUser) user = NULL;

  if (reply == NULL ||
      !ssq_wire_session_decode (reply, &session, error) ||
      (user = ssq_user_new_from_json (session.user, error)) == NULL)
    {
      if (error != NULL && *error == NULL)
        g_set_error (error, SSQ_ERROR, SSQ_ERROR_PROTOCOL, _("No session in the reply"));
      return NULL;
    }
  if (!ssq_client_set_session (self, ssq_user_get_username (user), ssq_user_get_id (user),
                               session.token, error))
    return NULL;
  ssq_cache_store_user (self->cache, user, NULL);
  return self;
}

static void
credentials_call (SsqClient          *self,
                  const char         *path,
                  JsonObject         *body,
                  gpointer            source_tag,
                  GCancellable       *cancellable,
                  GAsyncReadyCallback callback,
                  gpointer            user_data)
{
  ssq_client_api_call (self, "POST", path, body, session_from_reply, NULL, source_tag,
                       cancellable, callback, user_data);
}

/**
 * ssq_client_register_async:
 * Creates an account and takes its session (see ssq_client_set_session).
 * Errors: SSQ_ERROR_USERNAME_TAKEN, SSQ_ERROR_INVALID, SSQ_ERROR_NETWORK...
 */
void
ssq_client_register_async (SsqClient          *self,
                           const char         *username,
                           const char         *password,
                           const char         *display_name,
                           GCancellable       *cancellable,
                           GAsyncReadyCallback callback,
                           gpointer            user_data)
{
  g_return_if_fail (SSQ_IS_CLIENT (self));
  ssq_client_register_with_invite_async (self, username, password, display_name, NULL,
                                         cancellable, callback, user_data);
}

/**
 * ssq_client_register_with_invite_async:
 * ssq_client_register_async() with an @invite token (NULL: none), which a
 * server in invite mode needs and consumes one use of.
 * Errors, besides register's: SSQ_ERROR_INVITE_REQUIRED,
 * SSQ_ERROR_INVITE_INVALID, SSQ_ERROR_INVITE_EXPIRED,
 * SSQ_ERROR_INVITE_USED_UP, SSQ_ERROR_FEATURE_DISABLED (registration closed).
 * Finish with ssq_client_register_finish().
 */
void
ssq_client_register_with_invite_async (SsqClient          *self,
                                       const char         *username,
                                       const char         *password,
                                       const char         *display_name,
                                       const char         *invite,
                                       GCancellable       *cancellable,
                                       GAsyncReadyCallback callback,
                                       gpointer            user_data)
{
  SsqWireCredentials c = {
    username, password, display_name != NULL && *display_name != '\0' ? display_name : NULL, NULL,
    invite,
  };
  g_autoptr(JsonObject) body = NULL;

  g_return_if_fail (SSQ_IS_CLIENT (self));
  body = ssq_wire_credentials_encode (&c);
  credentials_call (self, "/api/v1/register", body, ssq_client_register_async,
                    cancellable, callback, user_data);
}

gboolean
ssq_client_register_finish (SsqClient     *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  return ssq_client_api_finish (self, result, ssq_client_register_async, error) != NULL;
}

void
ssq_client_login_async (SsqClient          *self,
                        const char         *username,
                        const char         *password,
                        GCancellable       *cancellable,
                        GAsyncReadyCallback callback,
                        gpointer            user_data)
{
  g_autofree char *device = g_strdup_printf ("supersoniq on %s", g_get_host_name ());
  g_autoptr(JsonObject) body = NULL;

  g_return_if_fail (SSQ_IS_CLIENT (self));
  body = ssq_wire_credentials_encode (&(SsqWireCredentials) { username, password, NULL, device });
  credentials_call (self, "/api/v1/login", body, ssq_client_login_async,
                    cancellable, callback, user_data);
}

gboolean
ssq_client_login_finish (SsqClient     *self,
                         GAsyncResult  *result,
                         GError       **error)
{
  return ssq_client_api_finish (self, result, ssq_client_login_async, error) != NULL;
}

/**
 * ssq_client_reset_password_async:
 * Sets a new password for @username with a one-time @code from the
 * server's administrator, and takes the session it opens, like a login.
 * Every other login of the account ends.
 * Errors: SSQ_ERROR_FORBIDDEN (a wrong, used or expired code),
 * SSQ_ERROR_ACCOUNT_DISABLED, SSQ_ERROR_RATE_LIMITED, SSQ_ERROR_INVALID...
 */
void
ssq_client_reset_password_async (SsqClient          *self,
                                 const char         *username,
                                 const char         *code,
                                 const char         *new_password,
                                 GCancellable       *cancellable,
                                 GAsyncReadyCallback callback,
                                 gpointer            user_data)
{
  g_autofree char *device = g_strdup_printf ("supersoniq on %s", g_get_host_name ());
  g_autoptr(JsonObject) body = NULL;

  g_return_if_fail (SSQ_IS_CLIENT (self));
  body = ssq_wire_password_reset_encode (&(SsqWirePasswordReset) { username, code, new_password,
                                                                   device });
  credentials_call (self, "/api/v1/password-reset", body, ssq_client_reset_password_async,
                    cancellable, callback, user_data);
}

gboolean
ssq_client_reset_password_finish (SsqClient     *self,
                                  GAsyncResult  *result,
                                  GError       **error)
{
  return ssq_client_api_finish (self, result, ssq_client_reset_password_async, error) != NULL;
}

static gpointer
accept_empty (SsqClient   *self,
              JsonObject  *reply,
              GError     **error)
{
  return self;
}

/**
 * ssq_client_logout_async:
 * Revokes the session at the server and forgets it here, even when the
 * server cannot be reached (the finish function then reports why). The
 * cache stays on disk for the next login.
 */
void
ssq_client_logout_async (SsqClient          *self,
                         GCancellable       *cancellable,
                         GAsyncReadyCallback callback,
                         gpointer            user_data)
{
  g_return_if_fail (SSQ_IS_CLIENT (self));
  ssq_client_disconnect (self);
  ssq_client_api_call (self, "POST", "/api/v1/logout", NULL, accept_empty, NULL,
                       ssq_client_logout_async, cancellable, callback, user_data);
}

gboolean
ssq_client_logout_finish (SsqClient     *self,
                          GAsyncResult  *result,
                          GError       **error)
{
  gboolean ok = ssq_client_api_finish (self, result, ssq_client_logout_async, error) != NULL;

  if (self->token != NULL)
    memset (self->token, 0, strlen (self->token));
  g_clear_pointer (&self->token, g_free);
  return ok;
}

/* Conversations. */

static gpointer
conversation_from_reply (SsqClient   *self,
                         JsonObject  *reply,
                         GError     **error)
{
  JsonObject *object;
  const char *id;

  if (!ssq_wire_reply_decode (reply, SSQ_WIRE_REPLY_CONVERSATION, &object, error) ||
      !ssq_json_get_string (object, "id", TRUE, &id, error))
    return NULL;
  ssq_client_apply_conversation (self, object, TRUE);
  return ssq_cache_get_conversation (self->cache, id);
}

static gpointer
conversations_from_reply (SsqClient   *self,
                          JsonObject  *reply,
                          GError     **error)
{
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func (g_object_unref);
  JsonArray *list;

  if (!ssq_wire_list_decode (reply, SSQ_WIRE_LIST_CONVERSATIONS, &list, NULL, error))
    return NULL;
  for (guint i = 0; i < json_array_get_length (list); i++)
    {
      JsonNode *node = json_array_get_element (list, i);
      SsqConversation *conversation;
      const char *id;

      if (!JSON_NODE_HOLDS_OBJECT (node) ||
          !ssq_json_get_string (json_node_get_object (node), "id", TRUE, &id, NULL))
        continue;
      ssq_client_apply_conversation (self, json_node_get_object (node), FALSE);
      /* Not stored (a full disk: the error is told): left out. */
      conversation = ssq_cache_get_conversation (self->cache, id);
      if (conversation != NULL)
        g_ptr_array_add (out, conversation);
    }
  return g_steal_pointer (&out);
}

/**
 * ssq_client_fetch_conversations_async:
 * Fetches the account's conversations into the cache.
 * The result is a #GPtrArray of #SsqConversation.
 */
void
ssq_client_fetch_conversations_async (SsqClient          *self,
                                      GCancellable       *cancellable,
                                      GAsyncReadyCallback callback,
                                      gpointer            user_data)
{
  g_return_if_fail (SSQ_IS_CLIENT (self));
  ssq_client_api_call (self, "GET", "/api/v1/conversations", NULL, conversations_from_reply,
                       (GDestroyNotify) g_ptr_array_unref,
                       ssq_client_fetch_conversations_async, cancellable, callback, user_data);
}

GPtrArray *
ssq_client_fetch_conversations_finish (SsqClient     *self,
                                       GAsyncResult  *result,
                                       GError       **error)
{
  return ssq_client_api_finish (self, result, ssq_client_fetch_conversations_async, error);
}

/* The functions that answer with one conversation share a finish function,
 * so they share a source tag. */
static void
conversation_call (SsqClient          *self,
                   const char         *method,
                   const char         *path,
                   JsonObject         *body,
                   GCancellable       *cancellable,
                   GAsyncReadyCallback callback,
                   gpointer            user_data)
{
  ssq_client_api_call (self, method, path, body, conversation_from_reply, g_object_unref,
                       ssq_client_conversation_finish, cancellable, callback, user_data);
}

/**
 * ssq_client_conversation_finish:
 * Finishes create-direct, create-group, update-conversation and add-member.
 * Returns: (transfer full): the conversation as it is now.
 */
SsqConversation *
ssq_client_conversation_finish (SsqClient     *self,
                                GAsyncResult  *result,
                                GError       **error)
{
  return ssq_client_api_finish (self, result, ssq_client_conversation_finish, error);
}

/* Opens (or finds: direct conversations are unique) the conversation with
 * @username. */
void
ssq_client_create_direct_async (SsqClient          *self,
                                const char         *username,
                                GCancellable       *cancellable,
                                GAsyncReadyCallback callback,
                                gpointer            user_data)
{
  g_autoptr(JsonArray) members = json_array_new ();
  g_autoptr(JsonObject) body = NULL;

  g_return_if_fail (SSQ_IS_CLIENT (self) && username != NULL);
  json_array_add_string_element (members, username);
  body = ssq_wire_conversation_new_encode (&(SsqWireConversationNew) { "direct", NULL, members });
  conversation_call (self, "POST", "/api/v1/conversations", body, cancellable, callback, user_data);
}

void
ssq_client_create_group_async (SsqClient          *self,
                               const char         *title,
                               const char *const  *usernames,
                               GCancellable       *cancellable,
                               GAsyncReadyCallback callback,
                               gpointer            user_data)
{
  g_autoptr(JsonArray) members = json_array_new ();
  g_autoptr(JsonObject) body = NULL;

  g_return_if_fail (SSQ_IS_CLIENT (self) && title != NULL);
  for (guint i = 0; usernames != NULL && usernames[i] != NULL; i++)
    json_array_add_string_element (members, usernames[i]);
  body = ssq_wire_conversation_new_encode (&(SsqWireConversationNew) { "group", title, members });
  conversation_call (self, "POST", "/api/v1/conversations", body, cancellable, callback, user_data);
}

/**
 * ssq_client_update_conversation_async:
 * @title: (nullable): a new title, or NULL to keep it
 * @muted: 1 to mute, 0 to unmute, -1 to leave as it is
 */
void
ssq_client_update_conversation_async (SsqClient          *self,
                                      const char         *conversation_id,
                                      const char         *title,
                                      int                 muted,
                                      GCancellable       *cancellable,
                                      GAsyncReadyCallback callback,
                                      gpointer            user_data)
{
  SsqWireConversationChange change = { title, muted >= 0, muted > 0 };
  g_autoptr(JsonObject) body = ssq_wire_conversation_change_encode (&change);
  g_autofree char *escaped = g_uri_escape_string (conversation_id, NULL, TRUE);
  g_autofree char *path = g_strconcat ("/api/v1/conversations/", escaped, NULL);

  g_return_if_fail (SSQ_IS_CLIENT (self));
  conversation_call (self, "PATCH", path, body, cancellable, callback, user_data);
}

void
ssq_client_add_member_async (SsqClient          *self,
                             const char         *conversation_id,
                             const char         *username,
                             const char         *role,
                             GCancellable       *cancellable,
                             GAsyncReadyCallback callback,
                             gpointer            user_data)
{
  g_autoptr(JsonObject) body = NULL;
  g_autofree char *escaped = g_uri_escape_string (conversation_id, NULL, TRUE);
  g_autofree char *path = g_strconcat ("/api/v1/conversations/", escaped, "/members", NULL);

  g_return_if_fail (SSQ_IS_CLIENT (self) && username != NULL);
  body = ssq_wire_member_new_encode (&(SsqWireMemberNew) { username, role });
  conversation_call (self, "POST", path, body, cancellable, callback, user_data);
}

typedef struct {
  char    *conversation_id;
  gboolean self_removed;
} RemoveMember;

static gpointer
member_removed (SsqClient   *self,
                JsonObject  *reply,
                GError     **error)
{
  return self;
}

static void
remove_member_done (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  SsqClient *self = SSQ_CLIENT (source);
  RemoveMember *remove = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;

  if (ssq_client_api_finish (self, result, member_removed, &error) == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  /* Leaving: the server tells our other sessions, and us if connected, but
   * the cache must not wait for that. */
  if (remove->self_removed)
    ssq_client_apply_removed (self, remove->conversation_id);
  g_task_return_boolean (task, TRUE);
}

static void
remove_member_free (gpointer data)
{
  RemoveMember *remove = data;

  g_free (remove->conversation_id);
  g_free (remove);
}

/* Removes @username from a group; naming yourself leaves it. */
void
ssq_client_remove_member_async (SsqClient          *self,
                                const char         *conversation_id,
                                const char         *username,
                                GCancellable       *cancellable,
                                GAsyncReadyCallback callback,
                                gpointer            user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  RemoveMember *remove = g_new0 (RemoveMember, 1);
  g_autofree char *escaped_id = g_uri_escape_string (conversation_id, NULL, TRUE);
  g_autofree char *escaped_name = g_uri_escape_string (username, NULL, TRUE);
  g_autofree char *path = g_strconcat ("/api/v1/conversations/", escaped_id, "/members/",
                                       escaped_name, NULL);

  g_task_set_source_tag (task, ssq_client_remove_member_async);
  remove->conversation_id = g_strdup (conversation_id);
  remove->self_removed = g_ascii_strcasecmp (username, self->username ? self->username : "") == 0;
  g_task_set_task_data (task, remove, remove_member_free);
  ssq_client_api_call (self, "DELETE", path, NULL, member_removed, NULL, member_removed,
                       cancellable, remove_member_done, task);
}

gboolean
ssq_client_remove_member_finish (SsqClient     *self,
                                 GAsyncResult  *result,
                                 GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* Users. */

static gpointer
users_from_reply (SsqClient   *self,
                  JsonObject  *reply,
                  GError     **error)
{
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func (g_object_unref);
  JsonArray *list;

  if (!ssq_wire_list_decode (reply, SSQ_WIRE_LIST_USERS, &list, NULL, error))
    return NULL;
  for (guint i = 0; i < json_array_get_length (list); i++)
    {
      JsonNode *node = json_array_get_element (list, i);
      SsqUser *user = JSON_NODE_HOLDS_OBJECT (node)
                      ? ssq_user_new_from_json (json_node_get_object (node), NULL) : NULL;

      if (user == NULL)
        continue;
      if (self->cache != NULL)
        ssq_cache_store_user (self->cache, user, NULL);
      g_ptr_array_add (out, user);
    }
  return g_steal_pointer (&out);
}

/* Users whose name starts with @prefix; a #GPtrArray of #SsqUser. */
void
ssq_client_search_users_async (SsqClient          *self,
                               const char         *prefix,
                               guint               limit,
                               GCancellable       *cancellable,
                               GAsyncReadyCallback callback,
                               gpointer            user_data)
{
  g_autofree char *escaped = g_uri_escape_string (prefix ? prefix : "", NULL, TRUE);
  g_autofree char *path = g_strdup_printf ("/api/v1/users?q=%s&limit=%u", escaped,
                                           CLAMP (limit, 1, SSQ_USERS_SEARCH_MAX));

  g_return_if_fail (SSQ_IS_CLIENT (self));
  ssq_client_api_call (self, "GET", path, NULL, users_from_reply,
                       (GDestroyNotify) g_ptr_array_unref, ssq_client_search_users_async,
                       cancellable, callback, user_data);
}

GPtrArray *
ssq_client_search_users_finish (SsqClient     *self,
                                GAsyncResult  *result,
                                GError       **error)
{
  return ssq_client_api_finish (self, result, ssq_client_search_users_async, error);
}
