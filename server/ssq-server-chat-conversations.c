/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-chat-conversations.c: creating conversations and changing their
 * members, title and mute. Rare operations: each is its own transaction. */
#include "ssq-server-chat.h"
#include "ssq-server-hub.h"

#include <string.h>

static gboolean
is_moderator (const SsqMemberRow *m)
{
  return g_str_equal (m->role, "owner") || g_str_equal (m->role, "admin");
}

static SsqUserRow *
user_by_name (SsqServer   *server,
              const char  *username,
              GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  SsqUserRow *user;

  if (!ssq_check_username (username, NULL))
    {
      g_set_error (error, SSQ_ERROR, SSQ_ERROR_NOT_FOUND, "No such user");
      return NULL;
    }
  user = ssq_server_store_user_by_name (server->store, username, NULL, &local_error);
  if (user == NULL)
    {
      if (g_error_matches (local_error, SSQ_ERROR, SSQ_ERROR_NOT_FOUND))
        g_set_error (error, SSQ_ERROR, SSQ_ERROR_NOT_FOUND, "No such user: %s", username);
      else
        g_propagate_error (error, g_steal_pointer (&local_error));
    }
  return user;
}

/* A conversation change goes through the writer like every other write,
 * after the writes submitted before it, and is durable when this returns.
 * The caller waits for that commit: such changes are rare. */
static gboolean
in_transaction (SsqServer         *server,
                const char        *conversation_id,
                SsqServerWriterOp  func,
                gpointer           data,
                GError           **error)
{
  gboolean ok = ssq_server_writer_run (server->writer, func, data, error);

  /* Whatever changed, the in-memory membership reads it afresh. */
  ssq_server_members_forget (server->members, conversation_id);
  return ok;
}

typedef struct {
  SsqConversationRow *conv;
  const char         *direct_key;
  GPtrArray          *member_ids;   /* first is the creator */
  const char         *creator_role;
} CreateTx;

static gboolean
create_tx (SsqServerStore *store,
           gpointer        data,
           GError        **error)
{
  CreateTx *tx = data;

  if (!ssq_server_store_conversation_insert (store, tx->conv, tx->direct_key, error))
    return FALSE;
  for (guint i = 0; i < tx->member_ids->len; i++)
    if (!ssq_server_store_member_insert (store, tx->conv->id, tx->member_ids->pdata[i],
                                         i == 0 ? tx->creator_role : "member",
                                         tx->conv->created_at + i, error))
      return FALSE;
  return TRUE;
}

static SsqConversationRow *
create_direct (SsqServer   *server,
               const char  *user_id,
               GPtrArray   *usernames,
               gboolean    *out_created,
               GError     **error)
{
  g_autoptr(SsqUserRow) other = NULL;
  g_autoptr(GPtrArray) ids = g_ptr_array_new ();
  g_autoptr(GError) local_error = NULL;
  g_autofree char *key = NULL;
  SsqConversationRow *existing;
  SsqConversationRow *conv;
  CreateTx tx;

  for (guint i = 0; i < usernames->len; i++)
    {
      g_autoptr(SsqUserRow) u = user_by_name (server, usernames->pdata[i], error);

      if (u == NULL)
        return NULL;
      if (g_str_equal (u->id, user_id) || (other != NULL && g_str_equal (u->id, other->id)))
        continue;
      if (other != NULL)
        {
          g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_INVALID,
                               "A direct conversation has exactly one other member");
          return NULL;
        }
      other = g_steal_pointer (&u);
    }
  if (other == NULL)
    {
      g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_INVALID,
                           "A direct conversation needs one other member");
      return NULL;
    }
  key = strcmp (user_id, other->id) < 0 ? g_strconcat (user_id, ":", other->id, NULL)
                                         : g_strconcat (other->id, ":", user_id, NULL);
  existing = ssq_server_store_direct_find (server->store, key, &local_error);
  if (existing != NULL)
    {
      *out_created = FALSE;
      return existing;
    }
  if (!g_error_matches (local_error, SSQ_ERROR, SSQ_ERROR_NOT_FOUND))
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  conv = g_new0 (SsqConversationRow, 1);
  conv->id = ssq_server_store_new_id ('c');
  conv->kind = g_strdup ("direct");
  conv->created_at = conv->updated_at = ssq_now_ms ();
  g_ptr_array_add (ids, (gpointer) user_id);
  g_ptr_array_add (ids, other->id);
  tx = (CreateTx) { conv, key, ids, "member" };
  if (!in_transaction (server, tx.conv->id, create_tx, &tx, error))
    {
      ssq_conversation_row_free (conv);
      return NULL;
    }
  *out_created = TRUE;
  return conv;
}

static SsqConversationRow *
create_group (SsqServer   *server,
              const char  *user_id,
              const char  *title,
              GPtrArray   *usernames,
              GError     **error)
{
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  SsqConversationRow *conv;
  CreateTx tx;
  gint64 retry;

  if (!ssq_check_text ("title", title, 1, SSQ_TITLE_MAX, error))
    return NULL;
  g_ptr_array_add (ids, g_strdup (user_id));
  for (guint i = 0; i < usernames->len; i++)
    {
      g_autoptr(SsqUserRow) u = user_by_name (server, usernames->pdata[i], error);

      if (u == NULL)
        return NULL;
      if (!g_ptr_array_find_with_equal_func (ids, u->id, g_str_equal, NULL))
        g_ptr_array_add (ids, g_strdup (u->id));
    }
  if (ids->len > server->config->max_members)
    {
      g_set_error (error, SSQ_ERROR, SSQ_ERROR_INVALID,
                   "A group has at most %u members", server->config->max_members);
      return NULL;
    }
  if (!ssq_server_ratelimit_take (server->rl_groups, user_id, 1, ssq_now_ms (), &retry))
    {
      ssq_set_rate_limited (error, retry);
      return NULL;
    }
  conv = g_new0 (SsqConversationRow, 1);
  conv->id = ssq_server_store_new_id ('c');
  conv->kind = g_strdup ("group");
  conv->title = g_strdup (title);
  conv->created_at = conv->updated_at = ssq_now_ms ();
  tx = (CreateTx) { conv, NULL, ids, "owner" };
  if (!in_transaction (server, tx.conv->id, create_tx, &tx, error))
    {
      ssq_conversation_row_free (conv);
      return NULL;
    }
  return conv;
}

/**
 * ssq_server_chat_create:
 * Creates a conversation from a request body. For a direct conversation that
 * exists already, returns it with *@out_created FALSE.
 */
SsqConversationRow *
ssq_server_chat_create (SsqServer   *server,
                        const char  *user_id,
                        JsonObject  *request,
                        gboolean    *out_created,
                        GError     **error)
{
  SsqWireConversationNew new_conv;
  const char *kind, *title;
  JsonArray *members;
  g_autoptr(GPtrArray) usernames = NULL;
  SsqConversationRow *conv;

  if (!ssq_wire_conversation_new_decode (request, server->config->max_members, &new_conv, error))
    return NULL;
  kind = new_conv.kind, title = new_conv.title, members = new_conv.members;
  if (members != NULL && (usernames = ssq_json_array_to_strv (members, "members", error)) == NULL)
    return NULL;
  if (usernames == NULL)
    usernames = g_ptr_array_new_with_free_func (g_free);

  if (g_str_equal (kind, "direct"))
    {
      if (title != NULL)
        {
          g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_INVALID,
                               "Direct conversations have no title");
          return NULL;
        }
      conv = create_direct (server, user_id, usernames, out_created, error);
    }
  else if (g_str_equal (kind, "group"))
    {
      conv = create_group (server, user_id, title, usernames, error);
      *out_created = conv != NULL;
    }
  else
    {
      g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_INVALID,
                           "Field \"kind\" must be \"direct\" or \"group\"");
      return NULL;
    }
  if (conv != NULL && *out_created)
    ssq_server_chat_emit_conversation (server, conv->id);
  return conv;
}

typedef struct {
  const char *conversation_id;
  const char *user_id;
  const char *title;
  gboolean    set_muted;
  gboolean    muted;
} UpdateTx;

static gboolean
update_tx (SsqServerStore *store,
           gpointer        data,
           GError        **error)
{
  UpdateTx *tx = data;

  if (tx->title != NULL &&
      !ssq_server_store_conversation_touch (store, tx->conversation_id, tx->title,
                                           ssq_now_ms (), error))
    return FALSE;
  if (tx->set_muted &&
      !ssq_server_store_member_set_muted (store, tx->conversation_id, tx->user_id,
                                          tx->muted, error))
    return FALSE;
  return TRUE;
}

gboolean
ssq_server_chat_update (SsqServer   *server,
                        const char  *user_id,
                        const char  *conversation_id,
                        JsonObject  *request,
                        GError     **error)
{
  g_autoptr(SsqMemberRow) member = NULL;
  g_autoptr(SsqConversationRow) conv = NULL;
  UpdateTx tx = { conversation_id, user_id, NULL, FALSE, FALSE };
  SsqWireConversationChange change;

  member = ssq_server_chat_require_member (server, conversation_id, user_id, error);
  if (member == NULL)
    return FALSE;
  conv = ssq_server_store_conversation_get (server->store, conversation_id, error);
  if (conv == NULL)
    return FALSE;
  if (!ssq_wire_conversation_change_decode (request, &change, error))
    return FALSE;
  tx.title = change.title, tx.set_muted = change.set_muted, tx.muted = change.muted;
  if (tx.title == NULL && !tx.set_muted)
    {
      g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_INVALID, "Nothing to change: give "
                           "\"title\" or \"muted\"");
      return FALSE;
    }
  if (tx.title != NULL)
    {
      if (g_str_equal (conv->kind, "direct"))
        {
          g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_INVALID,
                               "Direct conversations have no title");
          return FALSE;
        }
      if (!is_moderator (member))
        {
          g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_FORBIDDEN,
                               "Only an admin or the owner may rename the conversation");
          return FALSE;
        }
      if (!ssq_check_text ("title", tx.title, 1, SSQ_TITLE_MAX, error) ||
          !ssq_server_chat_charge (server, user_id, error))
        return FALSE;
    }
  if (!in_transaction (server, tx.conversation_id, update_tx, &tx, error))
    return FALSE;
  if (tx.title != NULL)
    ssq_server_chat_emit_conversation (server, conversation_id);
  else
    {
      /* Mute is the caller's own view: only its sessions hear of it. */
      g_autoptr(JsonObject) obj = ssq_server_json_conversation_for (server, conversation_id,
                                                                    user_id, NULL);
      if (obj != NULL)
        {
          g_autoptr(GBytes) frame = ssq_server_wire_event (SSQ_FRAME_TYPE_CONVERSATION, obj);
          ssq_server_hub_send_user (server->hub, user_id, frame);
        }
    }
  return TRUE;
}

typedef struct {
  const char *conversation_id;
  const char *user_id;
  const char *role;
  const char *new_owner;
} MemberTx;

static gboolean
add_member_tx (SsqServerStore *store,
               gpointer        data,
               GError        **error)
{
  MemberTx *tx = data;

  return ssq_server_store_member_insert (store, tx->conversation_id, tx->user_id,
                                         tx->role, ssq_now_ms (), error) &&
         ssq_server_store_conversation_touch (store, tx->conversation_id, NULL,
                                              ssq_now_ms (), error);
}

static SsqConversationRow *
require_group (SsqServer   *server,
               const char  *conversation_id,
               GError     **error)
{
  SsqConversationRow *conv = ssq_server_store_conversation_get (server->store, conversation_id,
                                                                error);

  if (conv != NULL && g_str_equal (conv->kind, "direct"))
    {
      g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_INVALID,
                           "The members of a direct conversation cannot change");
      g_clear_pointer (&conv, ssq_conversation_row_free);
    }
  return conv;
}

gboolean
ssq_server_chat_add_member (SsqServer   *server,
                            const char  *user_id,
                            const char  *conversation_id,
                            JsonObject  *request,
                            GError     **error)
{
  g_autoptr(SsqMemberRow) actor = NULL;
  g_autoptr(SsqMemberRow) existing = NULL;
  g_autoptr(SsqConversationRow) conv = NULL;
  g_autoptr(SsqUserRow) target = NULL;
  SsqWireMemberNew new_member;
  const char *username = NULL, *role = "member";
  MemberTx tx;
  gint64 retry;

  actor = ssq_server_chat_require_member (server, conversation_id, user_id, error);
  if (actor == NULL || (conv = require_group (server, conversation_id, error)) == NULL)
    return FALSE;
  if (!ssq_wire_member_new_decode (request, &new_member, error))
    return FALSE;
  username = new_member.username;
  role = new_member.role != NULL ? new_member.role : "member";
  if (!g_str_equal (role, "member") && !g_str_equal (role, "admin"))
    {
      g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_INVALID,
                           "Field \"role\" must be \"member\" or \"admin\"");
      return FALSE;
    }
  if (!is_moderator (actor) || (g_str_equal (role, "admin") && !g_str_equal (actor->role, "owner")))
    {
      g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_FORBIDDEN,
                           g_str_equal (role, "admin") ? "Only the owner may add admins"
                                                       : "Only an admin or the owner may add members");
      return FALSE;
    }
  target = user_by_name (server, username, error);
  if (target == NULL)
    return FALSE;
  existing = ssq_server_store_member_get (server->store, conversation_id, target->id, NULL);
  if (existing != NULL)
    {
      g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_CONFLICT, "Already a member");
      return FALSE;
    }
  if (ssq_server_store_member_count (server->store, conversation_id, NULL) >=
      server->config->max_members)
    {
      g_set_error (error, SSQ_ERROR, SSQ_ERROR_CONFLICT,
                   "The group is full (%u members)", server->config->max_members);
      return FALSE;
    }
  if (!ssq_server_ratelimit_check (server->rl_joins, user_id, ssq_now_ms (), &retry))
    {
      ssq_set_rate_limited (error, retry);
      return FALSE;
    }
  if (!ssq_server_chat_charge (server, user_id, error))
    return FALSE;
  ssq_server_ratelimit_take (server->rl_joins, user_id, 1, ssq_now_ms (), NULL);
  tx = (MemberTx) { conversation_id, target->id, role, NULL };
  if (!in_transaction (server, tx.conversation_id, add_member_tx, &tx, error))
    return FALSE;
  ssq_server_chat_emit_conversation (server, conversation_id);
  return TRUE;
}

static gboolean
remove_member_tx (SsqServerStore *store,
                  gpointer        data,
                  GError        **error)
{
  MemberTx *tx = data;

  if (!ssq_server_store_member_delete (store, tx->conversation_id, tx->user_id, error))
    return FALSE;
  if (tx->new_owner != NULL &&
      !ssq_server_store_member_set_role (store, tx->conversation_id, tx->new_owner,
                                         "owner", error))
    return FALSE;
  return ssq_server_store_conversation_touch (store, tx->conversation_id, NULL,
                                              ssq_now_ms (), error);
}

/* When the owner leaves, the longest-standing admin inherits the group, or
 * else the longest-standing member. */
static const char *
successor (GPtrArray  *members,
           const char *leaving)
{
  const char *pick = NULL;

  for (guint i = 0; i < members->len; i++)
    {
      SsqMemberRow *m = members->pdata[i];

      if (g_str_equal (m->user_id, leaving))
        continue;
      if (g_str_equal (m->role, "admin"))
        return m->user_id;
      if (pick == NULL)
        pick = m->user_id;
    }
  return pick;
}

gboolean
ssq_server_chat_remove_member (SsqServer   *server,
                               const char  *user_id,
                               const char  *conversation_id,
                               const char  *username,
                               GError     **error)
{
  g_autoptr(SsqMemberRow) actor = NULL;
  g_autoptr(SsqMemberRow) target_member = NULL;
  g_autoptr(SsqConversationRow) conv = NULL;
  g_autoptr(SsqUserRow) target = NULL;
  g_autoptr(GPtrArray) members = NULL;
  gboolean self;
  MemberTx tx;

  actor = ssq_server_chat_require_member (server, conversation_id, user_id, error);
  if (actor == NULL || (conv = require_group (server, conversation_id, error)) == NULL)
    return FALSE;
  target = user_by_name (server, username, error);
  if (target == NULL)
    return FALSE;
  target_member = ssq_server_store_member_get (server->store, conversation_id, target->id, NULL);
  if (target_member == NULL)
    {
      g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_NOT_FOUND, "Not a member");
      return FALSE;
    }
  self = g_str_equal (target->id, user_id);
  if (!self && !(g_str_equal (actor->role, "owner") ||
                 (g_str_equal (actor->role, "admin") && g_str_equal (target_member->role, "member"))))
    {
      g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_FORBIDDEN,
                           "Only the owner, or an admin for plain members, may remove members");
      return FALSE;
    }
  members = ssq_server_store_members (server->store, conversation_id, error);
  if (members == NULL || !ssq_server_chat_charge (server, user_id, error))
    return FALSE;
  tx = (MemberTx) { conversation_id, target->id, NULL, NULL };
  if (g_str_equal (target_member->role, "owner"))
    tx.new_owner = successor (members, target->id);
  if (!in_transaction (server, tx.conversation_id, remove_member_tx, &tx, error))
    return FALSE;
  ssq_server_hub_typing (server->hub, conversation_id, target->id, FALSE);
  ssq_server_chat_emit_removed (server, conversation_id, target->id);
  ssq_server_chat_emit_conversation (server, conversation_id);
  return TRUE;
}
