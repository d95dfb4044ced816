/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-json.c: protocol objects (user, member, conversation, message)
 * built from store rows and hub state. */
#include "ssq-server-private.h"
#include "ssq-server-hub.h"

JsonObject *
ssq_server_json_user (SsqServer        *server,
                      const SsqUserRow *user)
{
  JsonObject *obj = json_object_new ();

  if (ssq_user_row_is_deleted (user))
    {
      /* What others see of a deleted account: its id (its messages and
       * direct conversations stay), no name, a flag for clients to show
       * their own words, and an English name for those that do not know
       * the flag. */
      json_object_set_string_member (obj, "id", user->id);
      json_object_set_string_member (obj, "username", "");
      json_object_set_string_member (obj, "display_name", "Deleted user");
      json_object_set_string_member (obj, "presence", "offline");
      json_object_set_null_member (obj, "last_seen");
      json_object_set_boolean_member (obj, "deleted", TRUE);
      return obj;
    }
  json_object_set_string_member (obj, "id", user->id);
  json_object_set_string_member (obj, "username", user->username);
  json_object_set_string_member (obj, "display_name", user->display_name);
  json_object_set_string_member (obj, "presence", ssq_server_hub_presence (server->hub, user->id));
  if (user->last_seen > 0)
    json_object_set_int_member (obj, "last_seen", user->last_seen);
  else
    json_object_set_null_member (obj, "last_seen");
  return obj;
}

JsonObject *
ssq_server_json_user_by_id (SsqServer  *server,
                            const char *user_id)
{
  g_autoptr(SsqUserRow) user = ssq_server_store_user_by_id (server->store, user_id, NULL);

  if (user == NULL)
    {
      /* Cannot happen with foreign keys on; keep the object well-formed. */
      SsqUserRow ghost = { (char *) user_id, (char *) "", (char *) "", 0, 0 };
      return ssq_server_json_user (server, &ghost);
    }
  return ssq_server_json_user (server, user);
}

JsonObject *
ssq_server_json_message (const SsqMessageRow *m)
{
  JsonObject *obj = json_object_new ();

  json_object_set_string_member (obj, "id", m->id);
  json_object_set_string_member (obj, "conversation_id", m->conversation_id);
  json_object_set_int_member (obj, "seq", m->seq);
  json_object_set_string_member (obj, "sender", m->sender);
  json_object_set_string_member (obj, "client_id", m->client_id);
  json_object_set_string_member (obj, "body", m->deleted ? "" : m->body);
  json_object_set_int_member (obj, "created_at", m->created_at);
  if (m->edited_at > 0)
    json_object_set_int_member (obj, "edited_at", m->edited_at);
  else
    json_object_set_null_member (obj, "edited_at");
  json_object_set_boolean_member (obj, "deleted", m->deleted);
  if (m->reply_to > 0)
    json_object_set_int_member (obj, "reply_to", m->reply_to);
  else
    json_object_set_null_member (obj, "reply_to");
  json_object_set_array_member (obj, "media", json_array_new ());
  json_object_set_int_member (obj, "rev", m->rev);
  return obj;
}

/* The members array is the same for every viewer: build it once per event. */
JsonArray *
ssq_server_json_members (SsqServer *server,
                         GPtrArray *members)
{
  JsonArray *array = json_array_sized_new (members->len);

  for (guint i = 0; i < members->len; i++)
    {
      SsqMemberRow *m = members->pdata[i];
      JsonObject *member = json_object_new ();

      json_object_set_object_member (member, "user", ssq_server_json_user_by_id (server, m->user_id));
      json_object_set_string_member (member, "role", m->role);
      /* Everyone's markers: a client that was away learns what was read
       * meanwhile, which receipts only tell those online. */
      json_object_set_int_member (member, "delivered_seq", m->delivered_seq);
      json_object_set_int_member (member, "read_seq", m->read_seq);
      json_array_add_object_element (array, member);
    }
  return array;
}

JsonObject *
ssq_server_json_conversation (SsqServer                 *server,
                              const SsqConversationRow  *conv,
                              JsonArray                 *members_json,
                              const SsqMemberRow        *viewer,
                              GError                   **error)
{
  g_autoptr(JsonObject) obj = json_object_new ();
  g_autoptr(GError) local_error = NULL;
  gint64 unread = ssq_server_store_unread_count (server->store, conv->id, viewer->user_id,
                                                 viewer->read_seq, &local_error);

  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  json_object_set_string_member (obj, "id", conv->id);
  json_object_set_string_member (obj, "kind", conv->kind);
  if (conv->title != NULL)
    json_object_set_string_member (obj, "title", conv->title);
  else
    json_object_set_null_member (obj, "title");
  json_object_set_array_member (obj, "members", json_array_ref (members_json));
  json_object_set_int_member (obj, "last_seq", conv->last_seq);
  json_object_set_int_member (obj, "rev", conv->rev);
  json_object_set_int_member (obj, "read_seq", viewer->read_seq);
  json_object_set_int_member (obj, "delivered_seq", viewer->delivered_seq);
  json_object_set_int_member (obj, "unread", unread);
  json_object_set_boolean_member (obj, "muted", viewer->muted);
  json_object_set_string_member (obj, "role", viewer->role);
  json_object_set_int_member (obj, "created_at", conv->created_at);
  json_object_set_int_member (obj, "updated_at", conv->updated_at);
  return g_steal_pointer (&obj);
}

/* The conversation as @viewer_id sees it; NOT_FOUND for non-members, so that
 * a conversation's existence does not leak. */
JsonObject *
ssq_server_json_conversation_for (SsqServer   *server,
                                  const char  *conversation_id,
                                  const char  *viewer_id,
                                  GError     **error)
{
  g_autoptr(SsqConversationRow) conv = NULL;
  g_autoptr(GPtrArray) members = NULL;
  g_autoptr(JsonArray) members_json = NULL;
  SsqMemberRow *viewer = NULL;

  conv = ssq_server_store_conversation_get (server->store, conversation_id, error);
  if (conv == NULL)
    return NULL;
  members = ssq_server_store_members (server->store, conversation_id, error);
  if (members == NULL)
    return NULL;
  for (guint i = 0; i < members->len && viewer == NULL; i++)
    if (g_str_equal (((SsqMemberRow *) members->pdata[i])->user_id, viewer_id))
      viewer = members->pdata[i];
  if (viewer == NULL)
    {
      g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_NOT_FOUND, "No such conversation");
      return NULL;
    }
  members_json = ssq_server_json_members (server, members);
  return ssq_server_json_conversation (server, conv, members_json, viewer, error);
}

/* @object as a WebSocket frame on the wire, ready to queue to any number
 * of sessions: encoded once, framed once. */
GBytes *
ssq_server_wire (JsonObject *object)
{
  gsize len;
  g_autofree char *text = ssq_json_object_to_string (object, &len);

  return ssq_net_ws_frame_text (text, len);
}

/* {"type": type, key: value} on the wire. @value may be NULL for a bare
 * frame. */
GBytes *
ssq_server_json_frame (const char *type,
                       const char *key,
                       JsonObject *value)
{
  g_autoptr(JsonObject) frame = json_object_new ();

  json_object_set_string_member (frame, "type", type);
  if (key != NULL && value != NULL)
    json_object_set_object_member (frame, key, json_object_ref (value));
  return ssq_server_wire (frame);
}
