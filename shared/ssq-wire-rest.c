/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-wire-rest.c: the bodies of REST requests and replies, each mapped to
 * JSON in one place. Member order is the wire's (the golden lines pin it);
 * the values' own rules (lengths, names) are the caller's. */
#include "ssq-wire.h"
#include "ssq-json.h"

static void
set_string_if (JsonObject *object,
               const char *name,
               const char *value)
{
  if (value != NULL)
    json_object_set_string_member (object, name, value);
}

/* ---- requests ---------------------------------------------------------- */

JsonObject *
ssq_wire_credentials_encode (const SsqWireCredentials *credentials)
{
  JsonObject *body = json_object_new ();

  json_object_set_string_member (body, "username", credentials->username);
  json_object_set_string_member (body, "password", credentials->password);
  set_string_if (body, "display_name", credentials->display_name);
  set_string_if (body, "device", credentials->device);
  set_string_if (body, "invite", credentials->invite);
  return body;
}

/**
 * ssq_wire_credentials_decode:
 * Reads the body of register or login; the route's member list keeps
 * `display_name` out of a login.
 */
gboolean
ssq_wire_credentials_decode (JsonObject          *body,
                             SsqWireCredentials  *out,
                             GError             **error)
{
  *out = (SsqWireCredentials) { 0 };
  return ssq_json_get_string (body, "username", TRUE, &out->username, error) &&
         ssq_json_get_string (body, "password", TRUE, &out->password, error) &&
         ssq_json_get_string (body, "display_name", FALSE, &out->display_name, error) &&
         ssq_json_get_string (body, "device", FALSE, &out->device, error) &&
         ssq_json_get_string (body, "invite", FALSE, &out->invite, error);
}

JsonObject *
ssq_wire_password_reset_encode (const SsqWirePasswordReset *reset)
{
  JsonObject *body = json_object_new ();

  json_object_set_string_member (body, "username", reset->username);
  json_object_set_string_member (body, "code", reset->code);
  json_object_set_string_member (body, "password", reset->password);
  set_string_if (body, "device", reset->device);
  return body;
}

gboolean
ssq_wire_password_reset_decode (JsonObject            *body,
                                SsqWirePasswordReset  *out,
                                GError               **error)
{
  *out = (SsqWirePasswordReset) { 0 };
  return ssq_json_get_string (body, "username", TRUE, &out->username, error) &&
         ssq_json_get_string (body, "code", TRUE, &out->code, error) &&
         ssq_json_get_string (body, "password", TRUE, &out->password, error) &&
         ssq_json_get_string (body, "device", FALSE, &out->device, error);
}

JsonObject *
ssq_wire_account_change_encode (const SsqWireAccountChange *change)
{
  JsonObject *body = json_object_new ();

  set_string_if (body, "display_name", change->display_name);
  set_string_if (body, "password", change->password);
  set_string_if (body, "current_password", change->current_password);
  return body;
}

/**
 * ssq_wire_account_change_decode:
 * @password_required: TRUE for `DELETE /me`, whose body is {"password"}
 */
gboolean
ssq_wire_account_change_decode (JsonObject            *body,
                                gboolean               password_required,
                                SsqWireAccountChange  *out,
                                GError               **error)
{
  *out = (SsqWireAccountChange) { 0 };
  return ssq_json_get_string (body, "display_name", FALSE, &out->display_name, error) &&
         ssq_json_get_string (body, "password", password_required, &out->password, error) &&
         ssq_json_get_string (body, "current_password", FALSE, &out->current_password, error);
}

JsonObject *
ssq_wire_conversation_new_encode (const SsqWireConversationNew *request)
{
  JsonObject *body = json_object_new ();

  json_object_set_string_member (body, "kind", request->kind);
  set_string_if (body, "title", request->title);
  if (request->members != NULL)
    json_object_set_array_member (body, "members", json_array_ref (request->members));
  return body;
}

/**
 * ssq_wire_conversation_new_decode:
 * @max_members: how many usernames `members` may hold
 * The usernames are checked to be strings by ssq_json_array_to_strv().
 */
gboolean
ssq_wire_conversation_new_decode (JsonObject              *body,
                                  guint                    max_members,
                                  SsqWireConversationNew  *out,
                                  GError                 **error)
{
  *out = (SsqWireConversationNew) { 0 };
  return ssq_json_get_string (body, "kind", TRUE, &out->kind, error) &&
         ssq_json_get_string (body, "title", FALSE, &out->title, error) &&
         ssq_json_get_array (body, "members", FALSE, max_members, &out->members, error);
}

JsonObject *
ssq_wire_conversation_change_encode (const SsqWireConversationChange *change)
{
  JsonObject *body = json_object_new ();

  set_string_if (body, "title", change->title);
  if (change->set_muted)
    json_object_set_boolean_member (body, "muted", change->muted);
  return body;
}

/* `muted` present, even as null, is a change of it (null is refused). */
gboolean
ssq_wire_conversation_change_decode (JsonObject                 *body,
                                     SsqWireConversationChange  *out,
                                     GError                    **error)
{
  *out = (SsqWireConversationChange) { 0 };
  if (!ssq_json_get_string (body, "title", FALSE, &out->title, error))
    return FALSE;
  out->set_muted = json_object_has_member (body, "muted");
  return !out->set_muted || ssq_json_get_bool (body, "muted", TRUE, &out->muted, error);
}

JsonObject *
ssq_wire_member_new_encode (const SsqWireMemberNew *request)
{
  JsonObject *body = json_object_new ();

  json_object_set_string_member (body, "username", request->username);
  set_string_if (body, "role", request->role);
  return body;
}

gboolean
ssq_wire_member_new_decode (JsonObject        *body,
                            SsqWireMemberNew  *out,
                            GError           **error)
{
  *out = (SsqWireMemberNew) { 0 };
  return ssq_json_get_string (body, "username", TRUE, &out->username, error) &&
         ssq_json_get_string (body, "role", FALSE, &out->role, error);
}

/**
 * ssq_wire_message_post_encode:
 * The body of `POST …/messages`: a `send` frame without `type`, `id` and
 * `conversation_id` (the path names it). ssq_wire_send_decode() reads it.
 */
JsonObject *
ssq_wire_message_post_encode (const SsqWireSend *send)
{
  JsonObject *body = json_object_new ();

  json_object_set_string_member (body, "client_id", send->client_id);
  json_object_set_string_member (body, "body", send->body);
  if (send->reply_to > 0)
    json_object_set_int_member (body, "reply_to", send->reply_to);
  if (send->media != NULL)
    json_object_set_array_member (body, "media", json_array_ref (send->media));
  return body;
}

JsonObject *
ssq_wire_message_edit_encode (const char *text)
{
  JsonObject *body = json_object_new ();

  json_object_set_string_member (body, "body", text);
  return body;
}

gboolean
ssq_wire_message_edit_decode (JsonObject   *request,
                              const char  **out_body,
                              GError      **error)
{
  *out_body = NULL;
  return ssq_json_get_string (request, "body", TRUE, out_body, error);
}

/* ---- replies ----------------------------------------------------------- */

JsonObject *
ssq_wire_session_encode (const SsqWireSession *session)
{
  JsonObject *reply = json_object_new ();

  json_object_set_object_member (reply, "user", json_object_ref (session->user));
  json_object_set_string_member (reply, "token", session->token);
  return reply;
}

gboolean
ssq_wire_session_decode (JsonObject      *reply,
                         SsqWireSession  *out,
                         GError         **error)
{
  *out = (SsqWireSession) { 0 };
  return ssq_json_get_object (reply, "user", TRUE, &out->user, error) &&
         ssq_json_get_string (reply, "token", TRUE, &out->token, error);
}

static const char *const reply_keys[] = {
  [SSQ_WIRE_REPLY_USER] = "user",
  [SSQ_WIRE_REPLY_CONVERSATION] = "conversation",
  [SSQ_WIRE_REPLY_MESSAGE] = "message",
  [SSQ_WIRE_REPLY_MEDIA] = "media",
};

static const char *const list_keys[] = {
  [SSQ_WIRE_LIST_USERS] = "users",
  [SSQ_WIRE_LIST_CONVERSATIONS] = "conversations",
  [SSQ_WIRE_LIST_MESSAGES] = "messages",
};

/**
 * ssq_wire_reply_encode:
 * Returns: (transfer full): {key: @object} (a reference is taken)
 */
JsonObject *
ssq_wire_reply_encode (SsqWireReply  kind,
                       JsonObject   *object)
{
  JsonObject *reply = json_object_new ();

  g_return_val_if_fail ((guint) kind < G_N_ELEMENTS (reply_keys), reply);
  json_object_set_object_member (reply, reply_keys[kind], json_object_ref (object));
  return reply;
}

gboolean
ssq_wire_reply_decode (JsonObject    *reply,
                       SsqWireReply   kind,
                       JsonObject   **out_object,
                       GError       **error)
{
  g_return_val_if_fail ((guint) kind < G_N_ELEMENTS (reply_keys), FALSE);
  *out_object = NULL;
  return ssq_json_get_object (reply, reply_keys[kind], TRUE, out_object, error);
}

/**
 * ssq_wire_list_encode:
 * @has_more: written for %SSQ_WIRE_LIST_MESSAGES only
 * Returns: (transfer full): {key: @items} (a reference is taken)
 */
JsonObject *
ssq_wire_list_encode (SsqWireList  kind,
                      JsonArray   *items,
                      gboolean     has_more)
{
  JsonObject *reply = json_object_new ();

  g_return_val_if_fail ((guint) kind < G_N_ELEMENTS (list_keys), reply);
  json_object_set_array_member (reply, list_keys[kind], json_array_ref (items));
  if (kind == SSQ_WIRE_LIST_MESSAGES)
    json_object_set_boolean_member (reply, "has_more", has_more);
  return reply;
}

/**
 * ssq_wire_list_decode:
 * @out_has_more: (nullable): `has_more` of a history page (FALSE when
 *   absent); the elements are the caller's to check.
 */
gboolean
ssq_wire_list_decode (JsonObject   *reply,
                      SsqWireList   kind,
                      JsonArray   **out_items,
                      gboolean     *out_has_more,
                      GError      **error)
{
  gboolean has_more = FALSE;

  g_return_val_if_fail ((guint) kind < G_N_ELEMENTS (list_keys), FALSE);
  *out_items = NULL;
  if (!ssq_json_get_array (reply, list_keys[kind], TRUE, G_MAXUINT, out_items, error))
    return FALSE;
  if (kind == SSQ_WIRE_LIST_MESSAGES &&
      !ssq_json_get_bool (reply, "has_more", FALSE, &has_more, error))
    return FALSE;
  if (out_has_more != NULL)
    *out_has_more = has_more;
  return TRUE;
}

/**
 * ssq_wire_history_open:
 * The history page's fast path: the reply is written around messages
 * already encoded (stored JSON, comma separated) between
 * ssq_wire_history_open() and ssq_wire_history_close(), giving the bytes
 * ssq_wire_list_encode (%SSQ_WIRE_LIST_MESSAGES) would.
 */
void
ssq_wire_history_open (GString *out)
{
  g_string_append (out, "{\"messages\":[");
}

void
ssq_wire_history_close (GString  *out,
                        gboolean  has_more)
{
  g_string_append (out, has_more ? "],\"has_more\":true}" : "],\"has_more\":false}");
}

/**
 * ssq_wire_error_reply_encode:
 * Returns: (transfer full): {"error": {"code","message","retry_after_ms"?}}
 */
JsonObject *
ssq_wire_error_reply_encode (const GError *error)
{
  JsonObject *reply = json_object_new ();

  json_object_set_object_member (reply, "error", ssq_wire_error_object (error));
  return reply;
}

/**
 * ssq_wire_error_reply_decode:
 * Reads an error reply leniently (members of the wrong type read as
 * absent: NULL code and message, 0 retry).
 *
 * Returns: whether @reply holds an `error` object
 */
gboolean
ssq_wire_error_reply_decode (JsonObject   *reply,
                             SsqWireError *out)
{
  JsonObject *error_object = NULL;

  *out = (SsqWireError) { 0 };
  if (!ssq_json_get_object (reply, "error", TRUE, &error_object, NULL))
    return FALSE;
  ssq_json_get_string (error_object, "code", FALSE, &out->code, NULL);
  ssq_json_get_string (error_object, "message", FALSE, &out->message, NULL);
  ssq_json_get_int (error_object, "retry_after_ms", FALSE, 0, G_MAXINT64, &out->retry_after_ms,
                    NULL);
  return TRUE;
}
