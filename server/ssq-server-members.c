/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-members.c: the in-memory membership index. */
#include "ssq-server-members.h"
#include "ssq-proto.h"

typedef struct {
  gboolean    direct;
  gint64      last_seq;     /* committed; raised by every stored message */
  GPtrArray  *members;      /* SsqMemberRow, in join order */
  GHashTable *by_user;      /* user_id -> SsqMemberRow in members */
} Entry;

struct _SsqServerMembers {
  SsqServerStore *store;    /* the main thread's (reading) connection */
  GHashTable     *entries;  /* conversation_id -> Entry */
  guint64         n_reads;  /* entries read from SQLite by the main loop */
};

static void
entry_free (Entry *e)
{
  g_hash_table_unref (e->by_user);
  g_ptr_array_unref (e->members);
  g_free (e);
}

SsqServerMembers *
ssq_server_members_new (SsqServerStore *store)
{
  SsqServerMembers *self = g_new0 (SsqServerMembers, 1);

  self->store = store;
  self->entries = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                         (GDestroyNotify) entry_free);
  return self;
}

void
ssq_server_members_free (SsqServerMembers *self)
{
  if (self == NULL)
    return;
  g_hash_table_unref (self->entries);
  g_free (self);
}

/* Takes @members. */
static Entry *
entry_new (const SsqConversationRow *conv,
           GPtrArray                *members)
{
  Entry *e = g_new0 (Entry, 1);

  e->members = members;
  e->direct = g_str_equal (conv->kind, "direct");
  e->last_seq = conv->last_seq;
  e->by_user = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; i < e->members->len; i++)
    {
      SsqMemberRow *m = e->members->pdata[i];

      /* Markers go stale at once here: make that plain. */
      m->read_seq = m->delivered_seq = -1;
      g_hash_table_insert (e->by_user, m->user_id, m);
    }
  return e;
}

/* NULL without an error when there is no such conversation. */
static Entry *
lookup (SsqServerMembers  *self,
        const char        *conversation_id,
        GError           **error)
{
  Entry *e = g_hash_table_lookup (self->entries, conversation_id);
  g_autoptr(SsqConversationRow) conv = NULL;
  GPtrArray *members;
  GError *local_error = NULL;

  if (e != NULL)
    return e;
  conv = ssq_server_store_conversation_get (self->store, conversation_id, &local_error);
  if (conv == NULL)
    {
      if (local_error != NULL)
        g_propagate_error (error, local_error);
      return NULL;
    }
  members = ssq_server_store_members (self->store, conversation_id, error);
  if (members == NULL)
    return NULL;
  self->n_reads++;
  e = entry_new (conv, members);
  g_hash_table_insert (self->entries, g_strdup (conversation_id), e);
  return e;
}

/**
 * ssq_server_members_list:
 * Returns: (transfer full): the members (#SsqMemberRow, markers not set), or
 * %NULL, with NOT_FOUND when there is no such conversation.
 */
GPtrArray *
ssq_server_members_list (SsqServerMembers  *self,
                         const char        *conversation_id,
                         GError           **error)
{
  GError *local_error = NULL;
  Entry *e = lookup (self, conversation_id, &local_error);

  if (e == NULL)
    {
      if (local_error == NULL)
        g_set_error_literal (&local_error, SSQ_ERROR, SSQ_ERROR_NOT_FOUND, "No such conversation");
      g_propagate_error (error, local_error);
      return NULL;
    }
  return g_ptr_array_ref (e->members);
}

/**
 * ssq_server_members_get:
 * Returns: (transfer full): a copy of the user's membership (markers not
 * set), or %NULL without an error when the user is not a member.
 */
SsqMemberRow *
ssq_server_members_get (SsqServerMembers  *self,
                        const char        *conversation_id,
                        const char        *user_id,
                        GError           **error)
{
  Entry *e = lookup (self, conversation_id, error);
  SsqMemberRow *m = e ? g_hash_table_lookup (e->by_user, user_id) : NULL;
  SsqMemberRow *copy;

  if (m == NULL)
    return NULL;
  copy = g_new0 (SsqMemberRow, 1);
  copy->user_id = g_strdup (m->user_id);
  copy->role = g_strdup (m->role);
  copy->muted = m->muted;
  copy->read_seq = copy->delivered_seq = -1;
  copy->joined_at = m->joined_at;
  return copy;
}

/* FALSE (without an error) when there is no such conversation. */
gboolean
ssq_server_members_conversation (SsqServerMembers  *self,
                                 const char        *conversation_id,
                                 gboolean          *out_direct,
                                 gint64            *out_last_seq,
                                 GError           **error)
{
  Entry *e = lookup (self, conversation_id, error);

  if (e == NULL)
    return FALSE;
  if (out_direct != NULL)
    *out_direct = e->direct;
  if (out_last_seq != NULL)
    *out_last_seq = e->last_seq;
  return TRUE;
}

/* A message took @seq, and is committed. */
void
ssq_server_members_note_seq (SsqServerMembers *self,
                             const char       *conversation_id,
                             gint64            seq)
{
  Entry *e = g_hash_table_lookup (self->entries, conversation_id);

  if (e != NULL)
    e->last_seq = MAX (e->last_seq, seq);
}

/**
 * ssq_server_members_install:
 * The conversation's state as the commit that changed it left it, read by
 * the writer inside that commit's transaction (@conv %NULL: it is gone).
 * Takes @members. The next message then reads nothing: reading it afresh
 * here, on the main loop, could wait on the writer's commit (a read
 * transaction begun while the writer updates the WAL index) for ms.
 */
void
ssq_server_members_install (SsqServerMembers         *self,
                            const char               *conversation_id,
                            const SsqConversationRow *conv,
                            GPtrArray                *members)
{
  Entry *old = g_hash_table_lookup (self->entries, conversation_id);
  Entry *e;

  if (conv == NULL || members == NULL)
    {
      g_clear_pointer (&members, g_ptr_array_unref);
      ssq_server_members_forget (self, conversation_id);
      return;
    }
  e = entry_new (conv, members);
  /* Messages committed after the read may have noted a later seq. */
  if (old != NULL)
    e->last_seq = MAX (e->last_seq, old->last_seq);
  g_hash_table_insert (self->entries, g_strdup (conversation_id), e);
}

/* How many conversations' members the main loop has read from SQLite: once
 * each after start, and again only after a failed change. */
guint64
ssq_server_members_n_reads (SsqServerMembers *self)
{
  return self->n_reads;
}

/* The conversation's members, roles or mute flags changed (committed). */
void
ssq_server_members_forget (SsqServerMembers *self,
                           const char       *conversation_id)
{
  g_hash_table_remove (self->entries, conversation_id);
}

void
ssq_server_members_forget_all (SsqServerMembers *self)
{
  g_hash_table_remove_all (self->entries);
}
