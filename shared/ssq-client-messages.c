/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-client-messages.c: editing and deleting messages, paging back through
 * history (the cache first, the server for what the cache lacks) and
 * searching the cache. */
#include <glib/gi18n.h>
#include "ssq-client-private.h"
#include "ssq-json.h"
#include "ssq-message-private.h"
#include "ssq-proto.h"

static char *
message_path (const char *conversation_id,
              gint64      seq)
{
  g_autofree char *escaped = g_uri_escape_string (conversation_id, NULL, TRUE);

  return g_strdup_printf ("/api/v1/conversations/%s/messages/%" G_GINT64_FORMAT, escaped, seq);
}

static gpointer
message_from_reply (SsqClient   *self,
                    JsonObject  *reply,
                    GError     **error)
{
  JsonObject *object;
  SsqWireMessage m;

  if (!ssq_wire_reply_decode (reply, SSQ_WIRE_REPLY_MESSAGE, &object, error) ||
      !ssq_wire_message_decode (object, &m, error) ||
      !ssq_client_apply_message (self, object, error))
    return NULL;
  return ssq_cache_get_message (self->cache, m.conversation_id, m.seq);
}

/* Edits one of the user's own messages; the result is the edited message. */
void
ssq_client_edit_message_async (SsqClient          *self,
                               const char         *conversation_id,
                               gint64              seq,
                               const char         *body,
                               GCancellable       *cancellable,
                               GAsyncReadyCallback callback,
                               gpointer            user_data)
{
  g_autoptr(JsonObject) request = ssq_wire_message_edit_encode (body);
  g_autofree char *path = message_path (conversation_id, seq);

  g_return_if_fail (SSQ_IS_CLIENT (self));
  ssq_client_api_call (self, "PATCH", path, request, message_from_reply, g_object_unref,
                       ssq_client_edit_message_async, cancellable, callback, user_data);
}

SsqMessage *
ssq_client_edit_message_finish (SsqClient     *self,
                                GAsyncResult  *result,
                                GError       **error)
{
  return ssq_client_api_finish (self, result, ssq_client_edit_message_async, error);
}

static gpointer
deleted (SsqClient   *self,
         JsonObject  *reply,
         GError     **error)
{
  return self;
}

/* Deletes a message, leaving a tombstone; the change arrives as a message
 * event like everyone else's copy. */
void
ssq_client_delete_message_async (SsqClient          *self,
                                 const char         *conversation_id,
                                 gint64              seq,
                                 GCancellable       *cancellable,
                                 GAsyncReadyCallback callback,
                                 gpointer            user_data)
{
  g_autofree char *path = message_path (conversation_id, seq);

  g_return_if_fail (SSQ_IS_CLIENT (self));
  ssq_client_api_call (self, "DELETE", path, NULL, deleted, NULL,
                       ssq_client_delete_message_async, cancellable, callback, user_data);
}

gboolean
ssq_client_delete_message_finish (SsqClient     *self,
                                  GAsyncResult  *result,
                                  GError       **error)
{
  return ssq_client_api_finish (self, result, ssq_client_delete_message_async, error) != NULL;
}

/* Paging. */

typedef struct {
  char   *conversation_id;
  gint64  before_seq;
  guint   limit;
} Page;

static void
page_free (gpointer data)
{
  Page *page = data;

  g_free (page->conversation_id);
  g_free (page);
}

static gpointer
history_from_reply (SsqClient   *self,
                    JsonObject  *reply,
                    GError     **error)
{
  JsonArray *list;

  if (!ssq_wire_list_decode (reply, SSQ_WIRE_LIST_MESSAGES, &list, NULL, error))
    return NULL;
  for (guint i = 0; i < json_array_get_length (list); i++)
    {
      JsonNode *node = json_array_get_element (list, i);

      if (!JSON_NODE_HOLDS_OBJECT (node))
        {
          g_set_error (error, SSQ_ERROR, SSQ_ERROR_PROTOCOL, _("A message must be an object"));
          return NULL;
        }
      if (!ssq_client_apply_message (self, json_node_get_object (node), error))
        return NULL;
    }
  return self;
}

static void
history_done (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  SsqClient *self = SSQ_CLIENT (source);
  Page *page = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;

  if (ssq_client_api_finish (self, result, history_from_reply, &error) == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  g_task_return_pointer (task,
                         ssq_cache_get_messages (self->cache, page->conversation_id,
                                                 page->before_seq, page->limit, NULL),
                         (GDestroyNotify) g_ptr_array_unref);
}

/**
 * ssq_client_load_older_async:
 * @before_seq: the page ends right below this seq; 0 for the newest page
 *
 * Pages back through a conversation: from the cache when it holds the whole
 * page, else from the server's history, which fills the cache's gap. The
 * result is a #GPtrArray of #SsqMessage in seq order, empty at the start
 * of the conversation.
 */
void
ssq_client_load_older_async (SsqClient          *self,
                             const char         *conversation_id,
                             gint64              before_seq,
                             guint               limit,
                             GCancellable       *cancellable,
                             GAsyncReadyCallback callback,
                             gpointer            user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GPtrArray) cached = NULL;
  g_autofree char *escaped = NULL, *path = NULL;
  gboolean complete = FALSE;
  Page *page;

  g_return_if_fail (SSQ_IS_CLIENT (self) && self->cache != NULL);

  limit = CLAMP (limit, 1, SSQ_HISTORY_MAX);
  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, ssq_client_load_older_async);
  cached = ssq_cache_get_messages (self->cache, conversation_id, before_seq, limit, &complete);
  if (complete || before_seq == 1)
    {
      g_task_return_pointer (task, g_steal_pointer (&cached), (GDestroyNotify) g_ptr_array_unref);
      return;
    }

  page = g_new0 (Page, 1);
  page->conversation_id = g_strdup (conversation_id);
  page->before_seq = before_seq;
  page->limit = limit;
  g_task_set_task_data (task, page, page_free);
  escaped = g_uri_escape_string (conversation_id, NULL, TRUE);
  if (before_seq > 0)
    path = g_strdup_printf ("/api/v1/conversations/%s/messages?before=%" G_GINT64_FORMAT "&limit=%u",
                            escaped, before_seq, limit);
  else
    path = g_strdup_printf ("/api/v1/conversations/%s/messages?limit=%u", escaped, limit);
  ssq_client_api_call (self, "GET", path, NULL, history_from_reply, NULL, history_from_reply,
                       cancellable, history_done, g_steal_pointer (&task));
}

GPtrArray *
ssq_client_load_older_finish (SsqClient     *self,
                              GAsyncResult  *result,
                              GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * ssq_client_search:
 * Full-text search of the cached messages; see ssq_cache_search().
 * Returns: (transfer full) (element-type SsqMessage): newest first.
 */
GPtrArray *
ssq_client_search (SsqClient   *self,
                   const char  *text,
                   const char  *conversation_id,
                   guint        limit,
                   GError     **error)
{
  g_return_val_if_fail (SSQ_IS_CLIENT (self), NULL);

  if (self->cache == NULL)
    {
      g_set_error (error, SSQ_ERROR, SSQ_ERROR_UNAUTHORIZED, _("Not logged in"));
      return NULL;
    }
  return ssq_cache_search (self->cache, text, conversation_id, limit, error);
}
