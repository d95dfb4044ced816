/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-api-conversations.c: conversations, members and messages over
 * REST; the rules themselves live in ssq-server-chat*.c. */
#include "ssq-server-http.h"
#include "ssq-server-chat.h"

static void
reply_conversation (SsqRequest *r,
                    const char *conversation_id,
                    guint       status)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) conv = ssq_server_json_conversation_for (r->server, conversation_id,
                                                                 r->user_id, &error);
  g_autoptr(JsonObject) body = NULL;

  if (conv == NULL)
    {
      ssq_request_reply_error (r, error);
      return;
    }
  body = ssq_wire_reply_encode (SSQ_WIRE_REPLY_CONVERSATION, conv);
  ssq_request_reply (r, status, body);
}

void
ssq_api_conversations_list (SsqRequest *request)
{
  g_autoptr(SsqRequest) r = request;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) ids = NULL;
  g_autoptr(JsonArray) array = json_array_new ();
  g_autoptr(JsonObject) body = ssq_wire_list_encode (SSQ_WIRE_LIST_CONVERSATIONS, array, FALSE);

  ids = ssq_server_store_conversation_ids_for_user (r->server->store, r->user_id, &error);
  if (ids == NULL)
    {
      ssq_request_reply_error (r, error);
      return;
    }
  for (guint i = 0; i < ids->len; i++)
    {
      JsonObject *conv = ssq_server_json_conversation_for (r->server, ids->pdata[i], r->user_id,
                                                           NULL);
      if (conv != NULL)
        json_array_add_object_element (array, conv);
    }
  ssq_request_reply (r, SSQ_HTTP_OK, body);
}

/* The answer to a conversation change, once committed: the conversation
 * as the caller now sees it. */
static void
changed_cb (SsqServer    *server,
            const char   *conversation_id,
            gboolean      created,
            const GError *error,
            gpointer      user_data)
{
  SsqRequest *r = user_data;

  if (error != NULL)
    ssq_request_reply_error (r, error);
  else
    reply_conversation (r, conversation_id, created ? SSQ_HTTP_CREATED : SSQ_HTTP_OK);
}

static void
member_added_cb (SsqServer    *server,
                 const char   *conversation_id,
                 gboolean      created,
                 const GError *error,
                 gpointer      user_data)
{
  changed_cb (server, conversation_id, error == NULL, error, user_data);
}

static void
member_removed_cb (SsqServer    *server,
                   const char   *conversation_id,
                   gboolean      created,
                   const GError *error,
                   gpointer      user_data)
{
  SsqRequest *r = user_data;

  if (error != NULL)
    ssq_request_reply_error (r, error);
  else
    ssq_request_reply (r, SSQ_HTTP_NO_CONTENT, NULL);
}

void
ssq_api_conversations_create (SsqRequest *request)
{
  ssq_server_chat_create (request->server, request->user_id, request->body, changed_cb, request,
                          (GDestroyNotify) ssq_request_free);
}

void
ssq_api_conversation_get (SsqRequest *request)
{
  g_autoptr(SsqRequest) r = request;

  reply_conversation (r, r->segments[1], SSQ_HTTP_OK);
}

void
ssq_api_conversation_patch (SsqRequest *request)
{
  ssq_server_chat_update (request->server, request->user_id, request->segments[1], request->body,
                          changed_cb, request, (GDestroyNotify) ssq_request_free);
}

void
ssq_api_member_add (SsqRequest *request)
{
  ssq_server_chat_add_member (request->server, request->user_id, request->segments[1],
                              request->body, member_added_cb, request,
                              (GDestroyNotify) ssq_request_free);
}

void
ssq_api_member_remove (SsqRequest *request)
{
  ssq_server_chat_remove_member (request->server, request->user_id, request->segments[1],
                                 request->segments[3], member_removed_cb, request,
                                 (GDestroyNotify) ssq_request_free);
}

/* The page is the messages' stored wire form copied into the frame of the
 * reply, {"messages":[…],"has_more":…}, which the codec writes around it. */
static void
history_cb (SsqServer    *server,
            GString      *page,
            gboolean      has_more,
            const GError *error,
            gpointer      user_data)
{
  g_autoptr(SsqRequest) r = user_data;

  if (error != NULL)
    {
      ssq_request_reply_error (r, error);
      return;
    }
  ssq_wire_history_close (page, has_more);
  ssq_request_reply_text (r, SSQ_HTTP_OK, page);
}

void
ssq_api_messages_list (SsqRequest *request)
{
  g_autoptr(GError) error = NULL;
  GString *body;
  gint64 before = 0, after = -1, limit = SSQ_HISTORY_DEFAULT;

  if (!ssq_request_query_int (request, "before", 1, G_MAXINT64, &before, &error) ||
      !ssq_request_query_int (request, "after", 0, G_MAXINT64, &after, &error) ||
      !ssq_request_query_int (request, "limit", 1, G_MAXINT32, &limit, &error))
    {
      ssq_request_reply_error (request, error);
      ssq_request_free (request);
      return;
    }
  body = g_string_sized_new (16384);
  ssq_wire_history_open (body);
  if (!ssq_server_chat_history (request->server, request->user_id, request->segments[1], before,
                                after, (guint) MIN (limit, SSQ_HISTORY_MAX), body, history_cb,
                                request, &error))
    {
      ssq_request_reply_error (request, error);
      ssq_request_free (request);
    }
}

static void
posted_cb (SsqServer           *server,
           const SsqMessageRow *message,
           gboolean             duplicate,
           const GError        *error,
           gpointer             user_data)
{
  SsqRequest *r = user_data;
  g_autoptr(JsonObject) object = NULL;
  g_autoptr(JsonObject) body = NULL;

  if (error != NULL)
    {
      ssq_request_reply_error (r, error);
      return;
    }
  object = ssq_server_json_message (message);
  body = ssq_wire_reply_encode (SSQ_WIRE_REPLY_MESSAGE, object);
  ssq_request_reply (r, duplicate ? SSQ_HTTP_OK : SSQ_HTTP_CREATED, body);
}

void
ssq_api_messages_post (SsqRequest *request)
{
  g_autoptr(GError) error = NULL;
  SsqSendRequest send = { 0 };

  if (!ssq_server_chat_parse_send (request->body, &send, &error))
    {
      ssq_request_reply_error (request, error);
      ssq_request_free (request);
      return;
    }
  g_free (send.conversation_id);
  send.conversation_id = g_strdup (request->segments[1]);
  /* Answered when the message is durable (the request is freed then). */
  ssq_server_chat_send (request->server, request->user_id, &send, posted_cb, request,
                        (GDestroyNotify) ssq_request_free);
}

static gboolean
parse_seq (SsqRequest  *r,
           gint64      *out_seq,
           GError     **error)
{
  if (!g_ascii_string_to_signed (r->segments[3], 10, 1, G_MAXINT64, out_seq, NULL))
    {
      g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_NOT_FOUND, "No such message");
      return FALSE;
    }
  return TRUE;
}

/* The answer of an edit (the message) or a deletion (no content: only a
 * deletion leaves a message deleted without an error), once the change is
 * committed. */
static void
edited_cb (SsqServer           *server,
           const SsqMessageRow *message,
           gboolean             duplicate,
           const GError        *error,
           gpointer             user_data)
{
  SsqRequest *r = user_data;
  g_autoptr(JsonObject) object = NULL;
  g_autoptr(JsonObject) body = NULL;

  if (error != NULL)
    {
      ssq_request_reply_error (r, error);
      return;
    }
  if (message->deleted)
    {
      ssq_request_reply (r, SSQ_HTTP_NO_CONTENT, NULL);
      return;
    }
  object = ssq_server_json_message (message);
  body = ssq_wire_reply_encode (SSQ_WIRE_REPLY_MESSAGE, object);
  ssq_request_reply (r, SSQ_HTTP_OK, body);
}

static void
edit_message (SsqRequest *r,
              const char *text,
              gboolean    delete)
{
  g_autoptr(GError) error = NULL;
  gint64 seq;

  if (!parse_seq (r, &seq, &error) ||
      (!delete && !ssq_wire_message_edit_decode (r->body, &text, &error)))
    {
      ssq_request_reply_error (r, error);
      ssq_request_free (r);
      return;
    }
  ssq_server_chat_edit (r->server, r->user_id, r->segments[1], seq, text, delete, edited_cb, r,
                        (GDestroyNotify) ssq_request_free);
}

void
ssq_api_message_patch (SsqRequest *request)
{
  edit_message (request, NULL, FALSE);
}

void
ssq_api_message_delete (SsqRequest *request)
{
  edit_message (request, NULL, TRUE);
}
