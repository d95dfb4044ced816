/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-chat-events.c: turning a change into the frames members see.
 * A message event is encoded once and the same bytes go to every session. */
#include "ssq-server-chat.h"
#include "ssq-server-broker-bridge.h"
#include "ssq-server-hub.h"

#include <string.h>

/* Sends each member its own view of the conversation (read_seq, unread and
 * muted differ per member); the members array is built once. */
void
ssq_server_chat_emit_conversation (SsqServer  *server,
                                   const char *conversation_id)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SsqConversationRow) conv = NULL;
  g_autoptr(GPtrArray) members = NULL;
  g_autoptr(JsonArray) members_json = NULL;

  conv = ssq_server_store_conversation_get (server->store, conversation_id, &error);
  if (conv == NULL || (members = ssq_server_store_members (server->store, conversation_id,
                                                            &error)) == NULL)
    {
      g_warning ("Conversation event not sent: %s", error->message);
      return;
    }
  members_json = ssq_server_json_members (server, members);
  for (guint i = 0; i < members->len; i++)
    {
      SsqMemberRow *m = members->pdata[i];
      g_autoptr(JsonObject) obj = NULL;
      g_autoptr(GBytes) frame = NULL;

      obj = ssq_server_json_conversation (server, conv, members_json, m, NULL);
      if (obj == NULL)
        continue;
      frame = ssq_server_wire_event (SSQ_FRAME_TYPE_CONVERSATION, obj);
      ssq_server_hub_send_user (server->hub, m->user_id, frame);
    }
}

void
ssq_server_chat_emit_removed (SsqServer  *server,
                              const char *conversation_id,
                              const char *user_id)
{
  g_autoptr(JsonObject) frame = ssq_wire_removed_encode (conversation_id);
  g_autoptr(GBytes) wire = ssq_server_wire (frame);

  ssq_server_hub_send_user (server->hub, user_id, wire);
}

static void
emit_notifications (SsqServer           *server,
                    const SsqMessageRow *message,
                    GPtrArray           *members)
{
  gboolean direct = FALSE, may_mention;
  GBytes *frames[3] = { NULL, NULL, NULL };
  static const char *const reasons[3] = { "direct", "mention", "group" };

  if (!ssq_server_members_conversation (server->members, message->conversation_id, &direct,
                                        NULL, NULL))
    return;
  may_mention = strchr (message->body, '@') != NULL;

  for (guint i = 0; i < members->len; i++)
    {
      SsqMemberRow *m = members->pdata[i];
      guint reason = direct ? 0 : 2;

      /* Most sessions derive notifications from the message event itself
       * (notifications=client): no second frame, no lookups, for them. */
      if (m->muted || g_str_equal (m->user_id, message->sender) ||
          !ssq_server_hub_wants_notifications (server->hub, m->user_id))
        continue;
      if (!direct && may_mention)
        {
          g_autoptr(SsqUserRow) u = ssq_server_store_user_by_id (server->store, m->user_id, NULL);

          if (u != NULL && ssq_proto_mentions (message->body, u->username))
            reason = 1;
        }
      if (frames[reason] == NULL)
        {
          SsqWireNotification n = { message->conversation_id, message->seq, reasons[reason],
                                     message->sender };
          g_autoptr(JsonObject) frame = ssq_wire_notification_encode (&n);

          frames[reason] = ssq_server_wire (frame);
        }
      ssq_server_hub_notify_user (server->hub, m->user_id, frames[reason]);
    }
  for (guint i = 0; i < G_N_ELEMENTS (frames); i++)
    g_clear_pointer (&frames[i], g_bytes_unref);
}

void
ssq_server_chat_emit_message (SsqServer           *server,
                              const SsqMessageRow *message,
                              gboolean             is_new)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) members = NULL;
  g_autoptr(GBytes) frame = NULL;

  members = ssq_server_members_list (server->members, message->conversation_id, &error);
  if (members == NULL)
    {
      g_warning ("Message event not sent: %s", error->message);
      return;
    }
  /* The stored wire form, copied: nothing encoded per message. */
  frame = ssq_server_wire_message_stored (message);
  server->metrics.messages_delivered_total +=
    ssq_server_hub_send_members (server->hub, members, NULL, frame);
  ssq_server_broker_bridge_message (server, message, is_new, frame);
  if (is_new)
    emit_notifications (server, message, members);
}
