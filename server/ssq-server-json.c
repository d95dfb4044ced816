/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-json.c: protocol objects (user, member, conversation, message)
 * built from store rows and hub state. */
#include "ssq-server-private.h"
#include "ssq-server-hub.h"

#include <string.h>

/* What others see of a deleted account: its id (its messages and direct
 * conversations stay), no name, a flag for clients to show their own words,
 * and an English name for those that do not know the flag. */
static const SsqWireUser deleted_user = {
  .username = "", .display_name = "Deleted user", .presence = "offline", .deleted = TRUE,
};

JsonObject *
ssq_server_json_user (SsqServer        *server,
                      const SsqUserRow *user)
{
  SsqWireUser wire = deleted_user;

  if (!ssq_user_row_is_deleted (user))
    wire = (SsqWireUser) {
      .username = user->username,
      .display_name = user->display_name,
      .presence = ssq_server_hub_presence (server->hub, user->id),
      .last_seen = user->last_seen,
    };
  wire.id = user->id;
  return ssq_wire_user_encode (&wire);
}

/* The account's own user object (GET and PATCH /me): with server_admin,
 * which tells a client whether to offer the admins' features (invites). */
JsonObject *
ssq_server_json_me (SsqServer        *server,
                    const SsqUserRow *user)
{
  SsqWireUser wire = {
    .id = user->id,
    .username = user->username,
    .display_name = user->display_name,
    .presence = ssq_server_hub_presence (server->hub, user->id),
    .last_seen = user->last_seen,
    .server_admin = user->server_admin,
  };

  return ssq_wire_user_encode (&wire);
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
  SsqWireMessage wire;

  ssq_message_row_to_wire (m, &wire);
  return ssq_wire_message_encode (&wire);
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
      g_autoptr(JsonObject) user = ssq_server_json_user_by_id (server, m->user_id);
      /* Everyone's markers: a client that was away learns what was read
       * meanwhile, which receipts only tell those online. */
      SsqWireMember wire = { user, m->role, m->delivered_seq, m->read_seq };
      JsonObject *member = ssq_wire_member_encode (&wire);

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
  g_autoptr(GError) local_error = NULL;
  SsqWireConversation wire;
  gint64 unread = ssq_server_store_unread_count (server->store, conv->id, viewer->user_id,
                                                 viewer->read_seq, &local_error);

  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  wire = (SsqWireConversation) {
    .id = conv->id,
    .kind = conv->kind,
    .title = conv->title,
    .members = members_json,
    .last_seq = conv->last_seq,
    .rev = conv->rev,
    .read_seq = viewer->read_seq,
    .delivered_seq = viewer->delivered_seq,
    .unread = unread,
    .muted = viewer->muted,
    .role = viewer->role,
    .created_at = conv->created_at,
    .updated_at = conv->updated_at,
  };
  return ssq_wire_conversation_encode (&wire);
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

/* A `message` or `conversation` event on the wire. */
GBytes *
ssq_server_wire_event (SsqFrameType  type,
                       JsonObject   *value)
{
  g_autoptr(JsonObject) frame = ssq_wire_event_encode (type, value);

  return ssq_server_wire (frame);
}

/* The `message` object of a row: its stored wire form, or written by the
 * codec for a row read without it. */
static void
append_message (GString             *out,
                const SsqMessageRow *message)
{
  SsqWireMessage wire;

  if (message->json != NULL && message->json[0] != '\0')
    {
      g_string_append (out, message->json);
      return;
    }
  ssq_message_row_to_wire (message, &wire);
  ssq_wire_message_write (out, &wire);
}

/* A `message` event of a message's wire form (@json, @length bytes) as
 * stored, copied into the frame: {"type":"message","message":…} as the
 * codec writes the frame. */
GBytes *
ssq_server_wire_message_json (const char *json,
                              gsize       length)
{
  static const char head[] = "{\"type\":\"" SSQ_FRAME_MESSAGE "\",\"message\":";
  g_autoptr(GString) text = g_string_sized_new (sizeof head + length + 1);

  g_string_append_len (text, head, sizeof head - 1);
  g_string_append_len (text, json, (gssize) length);
  g_string_append_c (text, '}');
  return ssq_net_ws_frame_text (text->str, text->len);
}

/* The same of a stored row (written by the codec for a row read without
 * its stored wire form). */
GBytes *
ssq_server_wire_message_stored (const SsqMessageRow *message)
{
  g_autoptr(GString) text = NULL;

  if (message->json != NULL && message->json[0] != '\0')
    return ssq_server_wire_message_json (message->json, strlen (message->json));
  text = g_string_sized_new (512);
  append_message (text, message);
  return ssq_server_wire_message_json (text->str, text->len);
}

/* @id as JSON text when it needs no escaping (the ids clients use: numbers,
 * short words), else NULL: the caller falls back to the codec. */
static gboolean
append_plain_id (GString  *out,
                 JsonNode *id)
{
  const char *text;

  if (JSON_NODE_HOLDS_VALUE (id) && json_node_get_value_type (id) == G_TYPE_INT64)
    {
      g_string_append_printf (out, "%" G_GINT64_FORMAT, json_node_get_int (id));
      return TRUE;
    }
  if (!JSON_NODE_HOLDS_VALUE (id) || json_node_get_value_type (id) != G_TYPE_STRING)
    return FALSE;
  text = json_node_get_string (id);
  for (const char *c = text; *c != '\0'; c++)
    if (!g_ascii_isalnum (*c) && strchr ("-_.:", *c) == NULL)
      return FALSE;
  g_string_append_c (out, '"');
  g_string_append (out, text);
  g_string_append_c (out, '"');
  return TRUE;
}

/* The ack of a send, {"type":"ack","id":…,"message":…,"duplicate":true?} as
 * the codec writes it, with the message's stored wire form copied in (or
 * written directly): no JSON tree built per message. Ids that need escaping
 * go through the codec's tree. */
GBytes *
ssq_server_wire_ack_stored (JsonNode            *request_id,
                            const SsqMessageRow *message,
                            gboolean             duplicate)
{
  g_autoptr(GString) text = NULL;

  if (request_id != NULL)
    {
      text = g_string_sized_new (512);
      g_string_append (text, "{\"type\":\"" SSQ_FRAME_ACK "\",\"id\":");
      if (append_plain_id (text, request_id))
        {
          g_string_append (text, ",\"message\":");
          append_message (text, message);
          if (duplicate)
            g_string_append (text, ",\"duplicate\":true");
          g_string_append_c (text, '}');
          return ssq_net_ws_frame_text (text->str, text->len);
        }
    }
  {
    g_autoptr(JsonObject) wire_message = ssq_server_json_message (message);
    g_autoptr(JsonObject) ack = ssq_wire_ack_encode (&(SsqWireAck) {
      .id = request_id, .message = wire_message, .duplicate = duplicate });

    return ssq_server_wire (ack);
  }
}
