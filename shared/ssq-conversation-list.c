/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-conversation-list.c: conversations by last activity. Items are
 * immutable snapshots: a change replaces the item in place
 * (items-changed pos,1,1), or moves it (a removal, then an insertion) when
 * its activity changes its place. */
#include "ssq-conversation-list.h"

struct _SsqConversationList
{
  GObject    parent_instance;
  SsqClient *client;
  GPtrArray *items;   /* SsqConversation, sorted */
};

static void list_model_iface_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (SsqConversationList, ssq_conversation_list, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL, list_model_iface_init))

static GType
get_item_type (GListModel *model)
{
  return SSQ_TYPE_CONVERSATION;
}

static guint
get_n_items (GListModel *model)
{
  return SSQ_CONVERSATION_LIST (model)->items->len;
}

static gpointer
get_item (GListModel *model,
          guint       position)
{
  SsqConversationList *self = SSQ_CONVERSATION_LIST (model);

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

/* Most recent first; ties by id so the order is stable. */
static int
compare (SsqConversation *a,
         SsqConversation *b)
{
  gint64 ta = ssq_conversation_get_last_activity (a);
  gint64 tb = ssq_conversation_get_last_activity (b);

  if (ta != tb)
    return ta > tb ? -1 : 1;
  return g_strcmp0 (ssq_conversation_get_id (a), ssq_conversation_get_id (b));
}

gint
ssq_conversation_list_find (SsqConversationList *self,
                            const char          *conversation_id)
{
  g_return_val_if_fail (SSQ_IS_CONVERSATION_LIST (self), -1);

  for (guint i = 0; i < self->items->len; i++)
    if (g_strcmp0 (ssq_conversation_get_id (self->items->pdata[i]), conversation_id) == 0)
      return (gint) i;
  return -1;
}

static guint
insertion_point (SsqConversationList *self,
                 SsqConversation     *conversation)
{
  guint lo = 0, hi = self->items->len;

  while (lo < hi)
    {
      guint mid = (lo + hi) / 2;

      if (compare (self->items->pdata[mid], conversation) < 0)
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo;
}

static void
update (SsqConversationList *self,
        SsqConversation     *conversation)
{
  gint old = ssq_conversation_list_find (self, ssq_conversation_get_id (conversation));
  guint position;

  if (old >= 0)
    {
      g_autoptr(SsqConversation) previous = g_ptr_array_steal_index (self->items, old);

      position = insertion_point (self, conversation);
      if ((guint) old == position)
        {
          g_ptr_array_insert (self->items, position, g_object_ref (conversation));
          g_list_model_items_changed (G_LIST_MODEL (self), position, 1, 1);
          return;
        }
      g_list_model_items_changed (G_LIST_MODEL (self), old, 1, 0);
    }
  position = insertion_point (self, conversation);
  g_ptr_array_insert (self->items, position, g_object_ref (conversation));
  g_list_model_items_changed (G_LIST_MODEL (self), position, 0, 1);
}

static void
conversation_cb (SsqClient           *client,
                 SsqConversation     *conversation,
                 SsqConversationList *self)
{
  update (self, conversation);
}

static void
removed_cb (SsqClient           *client,
            const char          *conversation_id,
            SsqConversationList *self)
{
  gint position = ssq_conversation_list_find (self, conversation_id);

  if (position < 0)
    return;
  g_ptr_array_remove_index (self->items, position);
  g_list_model_items_changed (G_LIST_MODEL (self), position, 1, 0);
}

/* A presence change shows in a direct conversation's row. */
static void
presence_cb (SsqClient           *client,
             SsqUser             *user,
             SsqConversationList *self)
{
  SsqCache *cache = ssq_client_get_cache (client);

  for (guint i = 0; i < self->items->len; i++)
    {
      SsqConversation *conversation = self->items->pdata[i];

      if (g_strcmp0 (ssq_conversation_get_peer_id (conversation), ssq_user_get_id (user)) == 0)
        {
          g_autoptr(SsqConversation) fresh =
            ssq_cache_get_conversation (cache, ssq_conversation_get_id (conversation));

          if (fresh != NULL)
            update (self, fresh);
        }
    }
}

static void
reload (SsqConversationList *self)
{
  guint removed = self->items->len;
  SsqCache *cache = ssq_client_get_cache (self->client);

  g_ptr_array_set_size (self->items, 0);
  if (cache != NULL)
    {
      g_autoptr(GPtrArray) all = ssq_cache_list_conversations (cache);

      for (guint i = 0; i < all->len; i++)
        g_ptr_array_add (self->items, g_object_ref (all->pdata[i]));
    }
  if (removed > 0 || self->items->len > 0)
    g_list_model_items_changed (G_LIST_MODEL (self), 0, removed, self->items->len);
}

static void
session_cb (SsqClient           *client,
            GParamSpec          *pspec,
            SsqConversationList *self)
{
  reload (self);
}

static void
ssq_conversation_list_dispose (GObject *object)
{
  SsqConversationList *self = SSQ_CONVERSATION_LIST (object);

  if (self->client != NULL)
    g_signal_handlers_disconnect_by_data (self->client, self);
  g_clear_object (&self->client);
  G_OBJECT_CLASS (ssq_conversation_list_parent_class)->dispose (object);
}

static void
ssq_conversation_list_finalize (GObject *object)
{
  g_ptr_array_unref (SSQ_CONVERSATION_LIST (object)->items);
  G_OBJECT_CLASS (ssq_conversation_list_parent_class)->finalize (object);
}

static void
ssq_conversation_list_class_init (SsqConversationListClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = ssq_conversation_list_dispose;
  G_OBJECT_CLASS (klass)->finalize = ssq_conversation_list_finalize;
}

static void
ssq_conversation_list_init (SsqConversationList *self)
{
  self->items = g_ptr_array_new_with_free_func (g_object_unref);
}

/**
 * ssq_conversation_list_new:
 * A live list of @client's conversations, filled from the cache at once.
 */
SsqConversationList *
ssq_conversation_list_new (SsqClient *client)
{
  SsqConversationList *self;

  g_return_val_if_fail (SSQ_IS_CLIENT (client), NULL);

  self = g_object_new (SSQ_TYPE_CONVERSATION_LIST, NULL);
  self->client = g_object_ref (client);
  g_signal_connect (client, "conversation", G_CALLBACK (conversation_cb), self);
  g_signal_connect (client, "conversation-removed", G_CALLBACK (removed_cb), self);
  g_signal_connect (client, "presence", G_CALLBACK (presence_cb), self);
  g_signal_connect (client, "notify::user-id", G_CALLBACK (session_cb), self);
  reload (self);
  return self;
}

/* The unread messages of every conversation that is not muted. */
gint64
ssq_conversation_list_get_unread_total (SsqConversationList *self)
{
  gint64 total = 0;

  g_return_val_if_fail (SSQ_IS_CONVERSATION_LIST (self), 0);
  for (guint i = 0; i < self->items->len; i++)
    if (!ssq_conversation_get_muted (self->items->pdata[i]))
      total += ssq_conversation_get_unread (self->items->pdata[i]);
  return total;
}
