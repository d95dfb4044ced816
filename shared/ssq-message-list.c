/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-message-list.c: one conversation's messages, a window that starts at
 * the newest cached ones and grows backwards on demand. Stored messages
 * come first in seq order, then pending ones in outbox order. Items are
 * immutable snapshots, so an edit, a deletion, an ack or a receipt is a
 * replacement (items-changed pos,1,1). */
#include "ssq-message-list.h"
#include "ssq-message-private.h"

struct _SsqMessageList
{
  GObject    parent_instance;
  SsqClient *client;
  char      *conversation_id;
  GPtrArray *items;      /* SsqMessage: stored ones, then pending ones */
  guint      n_stored;   /* how many of items are stored messages */
  gboolean   at_start;   /* the window reaches the first message */
  gboolean   loading;
};

static void list_model_iface_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (SsqMessageList, ssq_message_list, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL, list_model_iface_init))

static GType
get_item_type (GListModel *model)
{
  return SSQ_TYPE_MESSAGE;
}

static guint
get_n_items (GListModel *model)
{
  return SSQ_MESSAGE_LIST (model)->items->len;
}

static gpointer
get_item (GListModel *model,
          guint       position)
{
  SsqMessageList *self = SSQ_MESSAGE_LIST (model);

  if (position >= self->items->len)
    return NULL;
  return g_object_ref (self->items->pdata[position]);
}

static void
list_model_iface_init (GListModelInterface *iface)
{
  iface->get_item_type = get_item_type;
  iface->get_n_items = get_n_items;
  iface->get_item = get_item;
}

static void
replace (SsqMessageList *self,
         guint           position,
         SsqMessage     *message)
{
  g_object_unref (self->items->pdata[position]);
  self->items->pdata[position] = g_object_ref (message);
  g_list_model_items_changed (G_LIST_MODEL (self), position, 1, 1);
}

static void
remove_at (SsqMessageList *self,
           guint           position)
{
  g_ptr_array_remove_index (self->items, position);
  if (position < self->n_stored)
    self->n_stored--;
  g_list_model_items_changed (G_LIST_MODEL (self), position, 1, 0);
}

/* The position of @seq among the stored messages, or where it would go. */
static guint
seq_position (SsqMessageList *self,
              gint64          seq,
              gboolean       *out_found)
{
  guint lo = 0, hi = self->n_stored;

  while (lo < hi)
    {
      guint mid = (lo + hi) / 2;
      gint64 at = SSQ_MESSAGE (self->items->pdata[mid])->seq;

      if (at == seq)
        {
          *out_found = TRUE;
          return mid;
        }
      if (at < seq)
        lo = mid + 1;
      else
        hi = mid;
    }
  *out_found = FALSE;
  return lo;
}

gint
ssq_message_list_find_seq (SsqMessageList *self,
                           gint64          seq)
{
  gboolean found;
  guint position;

  g_return_val_if_fail (SSQ_IS_MESSAGE_LIST (self), -1);
  position = seq_position (self, seq, &found);
  return found ? (gint) position : -1;
}

static gint
find_pending (SsqMessageList *self,
              const char     *client_id)
{
  for (guint i = self->n_stored; i < self->items->len; i++)
    if (g_strcmp0 (SSQ_MESSAGE (self->items->pdata[i])->client_id, client_id) == 0)
      return (gint) i;
  return -1;
}

/* An edit or a deletion shows in the replies that quote the message too:
 * their snapshots take the new one. */
static void
requote (SsqMessageList *self,
         SsqMessage     *message)
{
  for (guint i = 0; i < self->n_stored; i++)
    {
      SsqMessage *reply = self->items->pdata[i];
      g_autoptr(SsqMessage) fresh = NULL;

      if (reply->reply_to != message->seq || reply->quoted == message)
        continue;
      fresh = ssq_message_copy (reply);
      g_set_object (&fresh->quoted, message);
      replace (self, i, fresh);
    }
}

static void
message_cb (SsqClient      *client,
            SsqMessage     *message,
            SsqMessageList *self)
{
  gboolean found;
  guint position;
  gint pending;

  if (g_strcmp0 (message->conversation_id, self->conversation_id) != 0)
    return;
  position = seq_position (self, message->seq, &found);
  if (found)
    {
      replace (self, position, message);
      requote (self, message);
      return;
    }
  /* Older than the window (paging brings those in), unless the window
   * already reaches back to it. */
  if (position == 0 && self->n_stored > 0 && !self->at_start)
    return;

  /* The acknowledgement of a pending message takes its place when that is
   * where it belongs: one replacement instead of a removal and an insertion. */
  pending = message->client_id ? find_pending (self, message->client_id) : -1;
  if (pending >= 0 && (guint) pending == position && position == self->n_stored)
    {
      self->n_stored++;
      replace (self, position, message);
      return;
    }
  if (pending >= 0)
    remove_at (self, pending);
  g_ptr_array_insert (self->items, position, g_object_ref (message));
  self->n_stored++;
  g_list_model_items_changed (G_LIST_MODEL (self), position, 0, 1);
}

static void
outbox_changed_cb (SsqClient      *client,
                   const char     *conversation_id,
                   const char     *client_id,
                   SsqMessageList *self)
{
  g_autoptr(SsqMessage) entry = NULL;
  gint position;

  if (g_strcmp0 (conversation_id, self->conversation_id) != 0)
    return;
  entry = ssq_cache_outbox_get (ssq_client_get_cache (client), client_id);
  position = find_pending (self, client_id);
  if (entry != NULL && position >= 0)
    replace (self, position, entry);
  else if (entry != NULL)
    {
      g_ptr_array_add (self->items, g_object_ref (entry));
      g_list_model_items_changed (G_LIST_MODEL (self), self->items->len - 1, 0, 1);
    }
  else if (position >= 0)
    remove_at (self, position);
}

/* Receipts change the delivered/read state of my own messages. */
static void
receipt_cb (SsqClient      *client,
            const char     *conversation_id,
            const char     *user_id,
            gint64          delivered,
            gint64          read,
            SsqMessageList *self)
{
  SsqCache *cache = ssq_client_get_cache (client);
  gint64 peer_delivered, peer_read;

  if (g_strcmp0 (conversation_id, self->conversation_id) != 0 ||
      g_strcmp0 (user_id, ssq_client_get_user_id (client)) == 0)
    return;
  ssq_cache_get_peer_marks (cache, conversation_id, &peer_delivered, &peer_read);
  for (guint i = 0; i < self->n_stored; i++)
    {
      SsqMessage *message = self->items->pdata[i];
      SsqMessageStatus status = SSQ_MESSAGE_SENT;
      g_autoptr(SsqMessage) fresh = NULL;

      if (g_strcmp0 (message->sender, ssq_client_get_user_id (client)) != 0)
        continue;
      if (message->seq <= peer_read)
        status = SSQ_MESSAGE_READ;
      else if (message->seq <= peer_delivered)
        status = SSQ_MESSAGE_DELIVERED;
      if (status == message->status)
        continue;
      fresh = ssq_message_copy (message);
      fresh->status = status;
      replace (self, i, fresh);
    }
}

static void
removed_cb (SsqClient      *client,
            const char     *conversation_id,
            SsqMessageList *self)
{
  guint n = self->items->len;

  if (g_strcmp0 (conversation_id, self->conversation_id) != 0 || n == 0)
    return;
  g_ptr_array_set_size (self->items, 0);
  self->n_stored = 0;
  g_list_model_items_changed (G_LIST_MODEL (self), 0, n, 0);
}

static void
ssq_message_list_dispose (GObject *object)
{
  SsqMessageList *self = SSQ_MESSAGE_LIST (object);

  if (self->client != NULL)
    g_signal_handlers_disconnect_by_data (self->client, self);
  g_clear_object (&self->client);
  G_OBJECT_CLASS (ssq_message_list_parent_class)->dispose (object);
}

static void
ssq_message_list_finalize (GObject *object)
{
  SsqMessageList *self = SSQ_MESSAGE_LIST (object);

  g_ptr_array_unref (self->items);
  g_free (self->conversation_id);
  G_OBJECT_CLASS (ssq_message_list_parent_class)->finalize (object);
}

static void
ssq_message_list_class_init (SsqMessageListClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = ssq_message_list_dispose;
  G_OBJECT_CLASS (klass)->finalize = ssq_message_list_finalize;
}

static void
ssq_message_list_init (SsqMessageList *self)
{
  self->items = g_ptr_array_new_with_free_func (g_object_unref);
}

/**
 * ssq_message_list_new:
 * @initial: how many of the newest cached messages to start with
 *
 * A live list of one conversation's messages, filled from the cache at
 * once (no network), followed by its pending outbox messages.
 */
SsqMessageList *
ssq_message_list_new (SsqClient  *client,
                      const char *conversation_id,
                      guint       initial)
{
  SsqMessageList *self;
  SsqCache *cache;
  g_autoptr(GPtrArray) stored = NULL;
  g_autoptr(GPtrArray) pending = NULL;

  g_return_val_if_fail (SSQ_IS_CLIENT (client) && conversation_id != NULL, NULL);
  cache = ssq_client_get_cache (client);
  g_return_val_if_fail (cache != NULL, NULL);

  self = g_object_new (SSQ_TYPE_MESSAGE_LIST, NULL);
  self->client = g_object_ref (client);
  self->conversation_id = g_strdup (conversation_id);
  stored = ssq_cache_get_messages (cache, conversation_id, 0, MAX (initial, 1), NULL);
  pending = ssq_cache_outbox_list (cache, conversation_id);
  for (guint i = 0; i < stored->len; i++)
    g_ptr_array_add (self->items, g_object_ref (stored->pdata[i]));
  self->n_stored = stored->len;
  if (stored->len > 0)
    self->at_start = SSQ_MESSAGE (stored->pdata[0])->seq == 1;
  else
    {
      g_autoptr(SsqConversation) conversation = ssq_cache_get_conversation (cache, conversation_id);

      self->at_start = conversation == NULL || ssq_conversation_get_last_seq (conversation) == 0;
    }
  for (guint i = 0; i < pending->len; i++)
    g_ptr_array_add (self->items, g_object_ref (pending->pdata[i]));

  g_signal_connect (client, "message", G_CALLBACK (message_cb), self);
  g_signal_connect (client, "outbox-changed", G_CALLBACK (outbox_changed_cb), self);
  g_signal_connect (client, "receipt", G_CALLBACK (receipt_cb), self);
  g_signal_connect (client, "conversation-removed", G_CALLBACK (removed_cb), self);
  return self;
}

const char *
ssq_message_list_get_conversation_id (SsqMessageList *self)
{
  g_return_val_if_fail (SSQ_IS_MESSAGE_LIST (self), NULL);
  return self->conversation_id;
}

/* Whether the list holds the conversation's first message. */
gboolean
ssq_message_list_get_at_start (SsqMessageList *self)
{
  g_return_val_if_fail (SSQ_IS_MESSAGE_LIST (self), TRUE);
  return self->at_start;
}

static void
older_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  SsqMessageList *self = g_task_get_source_object (task);
  g_autoptr(GPtrArray) older = NULL;
  g_autoptr(GError) error = NULL;
  guint added = 0;
  gint64 first;

  self->loading = FALSE;
  older = ssq_client_load_older_finish (SSQ_CLIENT (source), result, &error);
  if (older == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  /* Messages that arrived meanwhile may already be in the window. */
  first = self->n_stored > 0 ? SSQ_MESSAGE (self->items->pdata[0])->seq : G_MAXINT64;
  for (guint i = 0; i < older->len; i++)
    if (SSQ_MESSAGE (older->pdata[i])->seq < first)
      g_ptr_array_insert (self->items, added++, g_object_ref (older->pdata[i]));
  self->n_stored += added;
  if (older->len == 0 || SSQ_MESSAGE (older->pdata[0])->seq <= 1)
    self->at_start = TRUE;
  if (added > 0)
    g_list_model_items_changed (G_LIST_MODEL (self), 0, 0, added);
  g_task_return_int (task, added);
}

/**
 * ssq_message_list_load_older_async:
 * Grows the window backwards by up to @limit messages, from the cache or
 * the server (see ssq_client_load_older_async()). Finishes with the number
 * of messages added at the front; 0 at the start of the conversation.
 */
void
ssq_message_list_load_older_async (SsqMessageList     *self,
                                   guint               limit,
                                   GCancellable       *cancellable,
                                   GAsyncReadyCallback callback,
                                   gpointer            user_data)
{
  g_autoptr(GTask) task = NULL;
  gint64 before;

  g_return_if_fail (SSQ_IS_MESSAGE_LIST (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, ssq_message_list_load_older_async);
  if (self->at_start || self->loading)
    {
      g_task_return_int (task, 0);
      return;
    }
  self->loading = TRUE;
  before = self->n_stored > 0 ? SSQ_MESSAGE (self->items->pdata[0])->seq : 0;
  ssq_client_load_older_async (self->client, self->conversation_id, before, limit, cancellable,
                               older_cb, g_steal_pointer (&task));
}

guint
ssq_message_list_load_older_finish (SsqMessageList *self,
                                    GAsyncResult   *result,
                                    GError        **error)
{
  gssize added;

  g_return_val_if_fail (g_task_is_valid (result, self), 0);
  added = g_task_propagate_int (G_TASK (result), error);
  return added < 0 ? 0 : (guint) added;
}
