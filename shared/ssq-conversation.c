/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-conversation.c: immutable conversation and member snapshots, built by
 * the cache from what it holds. */
#include "ssq-conversation-private.h"

#include <string.h>

G_DEFINE_FINAL_TYPE (SsqMember, ssq_member, G_TYPE_OBJECT)
G_DEFINE_FINAL_TYPE (SsqConversation, ssq_conversation, G_TYPE_OBJECT)

static void
ssq_member_finalize (GObject *object)
{
  SsqMember *self = SSQ_MEMBER (object);

  g_free (self->user_id);
  g_free (self->username);
  g_free (self->display_name);
  g_free (self->role);
  G_OBJECT_CLASS (ssq_member_parent_class)->finalize (object);
}

static void
ssq_member_class_init (SsqMemberClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = ssq_member_finalize;
}

static void
ssq_member_init (SsqMember *self)
{
}

SsqMember *
ssq_member_new (const char *user_id,
                const char *username,
                const char *display_name,
                const char *role)
{
  SsqMember *self = g_object_new (SSQ_TYPE_MEMBER, NULL);

  self->user_id = g_strdup (user_id);
  self->username = g_strdup (username);
  self->display_name = g_strdup (display_name ? display_name : username);
  self->role = g_strdup (role ? role : "member");
  return self;
}

const char *
ssq_member_get_user_id (SsqMember *self)
{
  g_return_val_if_fail (SSQ_IS_MEMBER (self), NULL);
  return self->user_id;
}

const char *
ssq_member_get_username (SsqMember *self)
{
  g_return_val_if_fail (SSQ_IS_MEMBER (self), NULL);
  return self->username;
}

const char *
ssq_member_get_display_name (SsqMember *self)
{
  g_return_val_if_fail (SSQ_IS_MEMBER (self), NULL);
  return self->display_name;
}

const char *
ssq_member_get_role (SsqMember *self)
{
  g_return_val_if_fail (SSQ_IS_MEMBER (self), NULL);
  return self->role;
}

static void
ssq_conversation_finalize (GObject *object)
{
  SsqConversation *self = SSQ_CONVERSATION (object);

  g_free (self->id);
  g_free (self->kind);
  g_free (self->title);
  g_free (self->display_title);
  g_free (self->peer_id);
  g_free (self->role);
  g_clear_object (&self->members);
  g_clear_object (&self->last_message);
  g_free (self->peer_presence);
  G_OBJECT_CLASS (ssq_conversation_parent_class)->finalize (object);
}

static void
ssq_conversation_class_init (SsqConversationClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = ssq_conversation_finalize;
}

static void
ssq_conversation_init (SsqConversation *self)
{
}

SsqConversation *
ssq_conversation_new (void)
{
  SsqConversation *self = g_object_new (SSQ_TYPE_CONVERSATION, NULL);

  self->members = g_list_store_new (SSQ_TYPE_MEMBER);
  return self;
}

/* A copy to change before it is handed out: snapshots never change once
 * shown. The members are shared, as nothing changes them after loading. */
SsqConversation *
ssq_conversation_copy (SsqConversation *self)
{
  /* Not ssq_conversation_new (): a copy, made per message, shares the
   * members instead of making a store of its own. */
  SsqConversation *copy = g_object_new (SSQ_TYPE_CONVERSATION, NULL);

  copy->members = g_object_ref (self->members);
  copy->id = g_strdup (self->id);
  copy->kind = g_strdup (self->kind);
  copy->title = g_strdup (self->title);
  copy->display_title = g_strdup (self->display_title);
  copy->peer_id = g_strdup (self->peer_id);
  copy->last_seq = self->last_seq;
  copy->read_seq = self->read_seq;
  copy->unread = self->unread;
  copy->muted = self->muted;
  copy->role = g_strdup (self->role);
  copy->created_at = self->created_at;
  copy->last_activity = self->last_activity;
  copy->last_message = self->last_message ? g_object_ref (self->last_message) : NULL;
  copy->peer_presence = g_strdup (self->peer_presence);
  return copy;
}

#define GETTER(type, name, field, fallback)                         \
  type ssq_conversation_get_##name (SsqConversation *self)          \
  {                                                                 \
    g_return_val_if_fail (SSQ_IS_CONVERSATION (self), fallback);    \
    return self->field;                                             \
  }

GETTER (const char *, id, id, NULL)
GETTER (const char *, title, title, NULL)
GETTER (const char *, display_title, display_title, NULL)
GETTER (const char *, peer_id, peer_id, NULL)
GETTER (gint64, last_seq, last_seq, 0)
GETTER (gint64, read_seq, read_seq, 0)
GETTER (gint64, unread, unread, 0)
GETTER (gboolean, muted, muted, FALSE)
GETTER (const char *, role, role, NULL)
GETTER (gint64, created_at, created_at, 0)
GETTER (gint64, last_activity, last_activity, 0)
GETTER (SsqMessage *, last_message, last_message, NULL)
GETTER (const char *, peer_presence, peer_presence, NULL)

gboolean
ssq_conversation_is_direct (SsqConversation *self)
{
  g_return_val_if_fail (SSQ_IS_CONVERSATION (self), FALSE);
  return g_strcmp0 (self->kind, "direct") == 0;
}

/**
 * ssq_conversation_get_members:
 * Returns: (transfer none): the members, as a list of #SsqMember.
 */
GListModel *
ssq_conversation_get_members (SsqConversation *self)
{
  g_return_val_if_fail (SSQ_IS_CONVERSATION (self), NULL);
  return G_LIST_MODEL (self->members);
}

/**
 * ssq_conversation_find_member:
 * Returns: (transfer none) (nullable): the member with that user id.
 */
SsqMember *
ssq_conversation_find_member (SsqConversation *self,
                              const char      *user_id)
{
  guint n;

  g_return_val_if_fail (SSQ_IS_CONVERSATION (self), NULL);
  n = g_list_model_get_n_items (G_LIST_MODEL (self->members));
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(SsqMember) member = g_list_model_get_item (G_LIST_MODEL (self->members), i);

      if (g_strcmp0 (member->user_id, user_id) == 0)
        return member; /* the store keeps its own reference */
    }
  return NULL;
}
