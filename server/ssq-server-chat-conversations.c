/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-chat-conversations.c: creating conversations and changing their
 * members, title and mute. Each is checked on the main loop against what is
 * committed, written by the writer thread, and told (events, then the
 * caller's answer) from its completion, after the commit. */
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

/* One conversation change on its way through the writer. */
typedef struct _Change Change;
struct _Change {
  SsqServer         *server;
  char              *conversation_id;
  gboolean           created;
  gboolean           free_of_charge;   /* not the user's doing: no budget */
  SsqServerWriterOp  op;
  gpointer           tx;
  GDestroyNotify     tx_free;
  void             (*emit) (Change *change);   /* after a successful commit */
  SsqChatChangeDone  done;
  gpointer           user_data;
  GDestroyNotify     user_data_free;
  /* The conversation as the change left it, read by the writer. */
  SsqConversationRow *fresh_conv;
  GPtrArray          *fresh_members;
};

static Change *
change_new (SsqServer         *server,
            const char        *conversation_id,
            SsqChatChangeDone  done,
            gpointer           user_data,
            GDestroyNotify     user_data_free)
{
  Change *change = g_new0 (Change, 1);

  change->server = server;
  change->conversation_id = g_strdup (conversation_id);
  change->done = done;
  change->user_data = user_data;
  change->user_data_free = user_data_free;
  return change;
}

static void
change_free (gpointer data)
{
  Change *change = data;

  if (change->tx_free != NULL && change->tx != NULL)
    change->tx_free (change->tx);
  if (change->user_data_free != NULL)
    change->user_data_free (change->user_data);
  g_clear_pointer (&change->fresh_conv, ssq_conversation_row_free);
  g_clear_pointer (&change->fresh_members, g_ptr_array_unref);
  g_free (change->conversation_id);
  g_free (change);
}

/* Refused before anything is written: the caller hears of it at once. */
static void
change_fail (Change       *change,
             const GError *error)
{
  change->done (change->server, change->conversation_id, FALSE, error, change->user_data);
  change_free (change);
}

static gboolean
change_run (SsqServerStore  *store,
            gpointer         data,
            GError         **error)
{
  Change *change = data;

  g_clear_pointer (&change->fresh_conv, ssq_conversation_row_free);
  g_clear_pointer (&change->fresh_members, g_ptr_array_unref);
  if (!change->op (store, change->tx, error))
    return FALSE;
  /* What the in-memory membership installs. Not finding the conversation
   * (deleted) is no failure: the entry is dropped. */
  change->fresh_conv = ssq_server_store_conversation_get (store, change->conversation_id, NULL);
  if (change->fresh_conv != NULL)
    change->fresh_members = ssq_server_store_members (store, change->conversation_id, NULL);
  return TRUE;
}

static void
change_done (gpointer      data,
             const GError *error)
{
  Change *change = data;

  if (error == NULL)
    ssq_server_members_install (change->server->members, change->conversation_id,
                                change->fresh_conv, g_steal_pointer (&change->fresh_members));
  else
    ssq_server_members_forget (change->server->members, change->conversation_id);
  if (error == NULL && change->emit != NULL)
    change->emit (change);
  change->done (change->server, change->conversation_id, change->created, error,
                change->user_data);
}

/* A conversation change goes through the writer like every other write,
 * after the writes submitted before it; @change learns its outcome after
 * the commit, and the main loop does not wait for it. */
static void
submit_change (Change            *change,
               SsqServerWriterOp  op,
               gpointer           tx,
               GDestroyNotify     tx_free,
               void             (*emit) (Change *change))
{
  change->op = op;
  change->tx = tx;
  change->tx_free = tx_free;
  change->emit = emit;
  ssq_server_writer_submit (change->server->writer, change_run, change_done, change,
                            change_free);
}

typedef struct {
  SsqConversationRow *conv;
  char               *direct_key;
  GPtrArray          *member_ids;   /* first is the creator */
  const char         *creator_role;
  Change             *change;       /* learns the id of a direct one found */
} CreateTx;

static void
create_tx_free (gpointer data)
{
  CreateTx *tx = data;

  ssq_conversation_row_free (tx->conv);
  g_free (tx->direct_key);
  g_ptr_array_unref (tx->member_ids);
  g_free (tx);
}

/* Writer thread. A direct conversation made since the main loop looked
 * (two first messages crossing) is found here, and returned as it is. */
static gboolean
create_tx (SsqServerStore *store,
           gpointer        data,
           GError        **error)
{
  CreateTx *tx = data;
  g_autoptr(SsqConversationRow) existing = NULL;

  tx->change->created = TRUE;
  if (tx->direct_key != NULL &&
      (existing = ssq_server_store_direct_find (store, tx->direct_key, NULL)) != NULL)
    {
      tx->change->created = FALSE;
      g_free (tx->change->conversation_id);
      tx->change->conversation_id = g_strdup (existing->id);
      return TRUE;
    }
  g_free (tx->change->conversation_id);
  tx->change->conversation_id = g_strdup (tx->conv->id);
  if (!ssq_server_store_conversation_insert (store, tx->conv, tx->direct_key, error))
    return FALSE;
  for (guint i = 0; i < tx->member_ids->len; i++)
    if (!ssq_server_store_member_insert (store, tx->conv->id, tx->member_ids->pdata[i],
                                         i == 0 ? tx->creator_role : "member",
                                         tx->conv->created_at + i, error))
      return FALSE;
  return TRUE;
}

static void
create_emit (Change *change)
{
  if (change->created)
    ssq_server_chat_emit_conversation (change->server, change->conversation_id);
}

static void
submit_create (Change             *change,
               SsqConversationRow *conv,
               char               *direct_key,
               GPtrArray          *member_ids,
               const char         *creator_role)
{
  CreateTx *tx = g_new0 (CreateTx, 1);

  *tx = (CreateTx) { conv, direct_key, member_ids, creator_role, change };
  g_free (change->conversation_id);
  change->conversation_id = g_strdup (conv->id);
  submit_change (change, create_tx, tx, create_tx_free, create_emit);
}

/* Returns FALSE with @error when refused; TRUE when @change is on its way
 * (or answered: a direct conversation that exists already). */
static gboolean
create_direct (SsqServer   *server,
               Change      *change,
               const char  *user_id,
               GPtrArray   *usernames,
               GError     **error)
{
  g_autoptr(SsqUserRow) other = NULL;
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) local_error = NULL;
  g_autofree char *key = NULL;
  g_autoptr(SsqConversationRow) existing = NULL;
  SsqConversationRow *conv;

  for (guint i = 0; i < usernames->len; i++)
    {
      g_autoptr(SsqUserRow) u = user_by_name (server, usernames->pdata[i], error);

      if (u == NULL)
        return FALSE;
      if (g_str_equal (u->id, user_id) || (other != NULL && g_str_equal (u->id, other->id)))
        continue;
      if (other != NULL)
        {
          g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_INVALID,
                               "A direct conversation has exactly one other member");
          return FALSE;
        }
      other = g_steal_pointer (&u);
    }
  if (other == NULL)
    {
      g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_INVALID,
                           "A direct conversation needs one other member");
      return FALSE;
    }
  key = strcmp (user_id, other->id) < 0 ? g_strconcat (user_id, ":", other->id, NULL)
                                         : g_strconcat (other->id, ":", user_id, NULL);
  existing = ssq_server_store_direct_find (server->store, key, &local_error);
  if (existing != NULL)
    {
      change->done (server, existing->id, FALSE, NULL, change->user_data);
      change_free (change);
      return TRUE;
    }
  if (!g_error_matches (local_error, SSQ_ERROR, SSQ_ERROR_NOT_FOUND))
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  conv = g_new0 (SsqConversationRow, 1);
  conv->id = ssq_server_store_new_id ('c');
  conv->kind = g_strdup ("direct");
  conv->created_at = conv->updated_at = ssq_now_ms ();
  g_ptr_array_add (ids, g_strdup (user_id));
  g_ptr_array_add (ids, g_strdup (other->id));
  submit_create (change, conv, g_steal_pointer (&key), g_steal_pointer (&ids), "member");
  return TRUE;
}

static gboolean
create_group (SsqServer   *server,
              Change      *change,
              const char  *user_id,
              const char  *title,
              GPtrArray   *usernames,
              GError     **error)
{
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  SsqConversationRow *conv;
  gint64 retry;

  if (!ssq_check_text ("title", title, 1, SSQ_TITLE_MAX, error))
    return FALSE;
  g_ptr_array_add (ids, g_strdup (user_id));
  for (guint i = 0; i < usernames->len; i++)
    {
      g_autoptr(SsqUserRow) u = user_by_name (server, usernames->pdata[i], error);

      if (u == NULL)
        return FALSE;
      if (!g_ptr_array_find_with_equal_func (ids, u->id, g_str_equal, NULL))
        g_ptr_array_add (ids, g_strdup (u->id));
    }
  if (ids->len > server->config->max_members)
    {
      g_set_error (error, SSQ_ERROR, SSQ_ERROR_INVALID,
                   "A group has at most %u members", server->config->max_members);
      return FALSE;
    }
  if (!ssq_server_ratelimit_take (server->rl_groups, user_id, 1, ssq_now_ms (), &retry))
    {
      ssq_set_rate_limited (error, retry);
      return FALSE;
    }
  conv = g_new0 (SsqConversationRow, 1);
  conv->id = ssq_server_store_new_id ('c');
  conv->kind = g_strdup ("group");
  conv->title = g_strdup (title);
  conv->created_at = conv->updated_at = ssq_now_ms ();
  submit_create (change, conv, NULL, g_steal_pointer (&ids), "owner");
  return TRUE;
}

static gboolean
create (SsqServer   *server,
        Change      *change,
        const char  *user_id,
        JsonObject  *request,
        GError     **error)
{
  SsqWireConversationNew new_conv;
  const char *kind, *title;
  JsonArray *members;
  g_autoptr(GPtrArray) usernames = NULL;

  if (!ssq_wire_conversation_new_decode (request, server->config->max_members, &new_conv, error))
    return FALSE;
  kind = new_conv.kind, title = new_conv.title, members = new_conv.members;
  if (members != NULL && (usernames = ssq_json_array_to_strv (members, "members", error)) == NULL)
    return FALSE;
  if (usernames == NULL)
    usernames = g_ptr_array_new_with_free_func (g_free);

  if (g_str_equal (kind, "direct"))
    {
      if (title != NULL)
        {
          g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_INVALID,
                               "Direct conversations have no title");
          return FALSE;
        }
      return create_direct (server, change, user_id, usernames, error);
    }
  if (g_str_equal (kind, "group"))
    return create_group (server, change, user_id, title, usernames, error);
  g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_INVALID,
                       "Field \"kind\" must be \"direct\" or \"group\"");
  return FALSE;
}

/**
 * ssq_server_chat_create:
 * Creates a conversation from a request body. @done learns its id, and
 * whether it was made (FALSE: a direct conversation that existed already).
 */
void
ssq_server_chat_create (SsqServer         *server,
                        const char        *user_id,
                        JsonObject        *request,
                        SsqChatChangeDone  done,
                        gpointer           user_data,
                        GDestroyNotify     user_data_free)
{
  g_autoptr(GError) error = NULL;
  Change *change = change_new (server, NULL, done, user_data, user_data_free);

  if (!create (server, change, user_id, request, &error))
    change_fail (change, error);
}

typedef struct {
  char     *conversation_id;
  char     *user_id;
  char     *title;
  gboolean  set_muted;
  gboolean  muted;
} UpdateTx;

static void
update_tx_free (gpointer data)
{
  UpdateTx *tx = data;

  g_free (tx->conversation_id);
  g_free (tx->user_id);
  g_free (tx->title);
  g_free (tx);
}

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

static void
update_emit (Change *change)
{
  UpdateTx *tx = change->tx;
  g_autoptr(JsonObject) obj = NULL;
  g_autoptr(GBytes) frame = NULL;

  if (tx->title != NULL)
    {
      ssq_server_chat_emit_conversation (change->server, tx->conversation_id);
      return;
    }
  /* Mute is the caller's own view: only its sessions hear of it. */
  obj = ssq_server_json_conversation_for (change->server, tx->conversation_id, tx->user_id, NULL);
  if (obj == NULL)
    return;
  frame = ssq_server_wire_event (SSQ_FRAME_TYPE_CONVERSATION, obj);
  ssq_server_hub_send_user (change->server->hub, tx->user_id, frame);
}

static gboolean
update (SsqServer   *server,
        Change      *change,
        const char  *user_id,
        JsonObject  *request,
        GError     **error)
{
  const char *conversation_id = change->conversation_id;
  g_autoptr(SsqMemberRow) member = NULL;
  g_autoptr(SsqConversationRow) conv = NULL;
  SsqWireConversationChange c;
  UpdateTx *tx;

  member = ssq_server_chat_require_member (server, conversation_id, user_id, error);
  if (member == NULL)
    return FALSE;
  conv = ssq_server_store_conversation_get (server->store, conversation_id, error);
  if (conv == NULL)
    return FALSE;
  if (!ssq_wire_conversation_change_decode (request, &c, error))
    return FALSE;
  if (c.title == NULL && !c.set_muted)
    {
      g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_INVALID, "Nothing to change: give "
                           "\"title\" or \"muted\"");
      return FALSE;
    }
  if (c.title != NULL)
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
      if (!ssq_check_text ("title", c.title, 1, SSQ_TITLE_MAX, error) ||
          !ssq_server_chat_charge (server, user_id, error))
        return FALSE;
    }
  tx = g_new0 (UpdateTx, 1);
  *tx = (UpdateTx) { g_strdup (conversation_id), g_strdup (user_id), g_strdup (c.title),
                     c.set_muted, c.muted };
  submit_change (change, update_tx, tx, update_tx_free, update_emit);
  return TRUE;
}

/**
 * ssq_server_chat_update:
 * Renames a conversation or mutes it for @user_id; @done runs after the
 * commit, or at once when the change is refused.
 */
void
ssq_server_chat_update (SsqServer         *server,
                        const char        *user_id,
                        const char        *conversation_id,
                        JsonObject        *request,
                        SsqChatChangeDone  done,
                        gpointer           user_data,
                        GDestroyNotify     user_data_free)
{
  g_autoptr(GError) error = NULL;
  Change *change = change_new (server, conversation_id, done, user_data, user_data_free);

  if (!update (server, change, user_id, request, &error))
    change_fail (change, error);
}

typedef struct {
  char       *conversation_id;
  char       *user_id;
  const char *role;
  char       *actor_id;      /* adds: checked again on the writer */
  guint       max_members;   /* adds: 0 = no check */
} MemberTx;

static MemberTx *
member_tx_new (const char *conversation_id,
               const char *user_id,
               const char *role)
{
  MemberTx *tx = g_new0 (MemberTx, 1);

  /* Interned: the writer thread reads it after the request is gone. */
  *tx = (MemberTx) { g_strdup (conversation_id), g_strdup (user_id), g_intern_string (role) };
  return tx;
}

static void
member_tx_free (gpointer data)
{
  MemberTx *tx = data;

  g_free (tx->conversation_id);
  g_free (tx->user_id);
  g_free (tx->actor_id);
  g_free (tx);
}

static void
member_added_emit (Change *change)
{
  ssq_server_chat_emit_conversation (change->server, change->conversation_id);
}

static gboolean
add_member_tx (SsqServerStore *store,
               gpointer        data,
               GError        **error)
{
  MemberTx *tx = data;
  g_autoptr(SsqMemberRow) actor = NULL;

  /* The main loop checked the committed state; changes queued before this
   * one (the actor removed or demoted, the group filled by another add)
   * commit first, so the checks that matter are made again here, in
   * commit order. */
  if (tx->actor_id != NULL)
    {
      actor = ssq_server_store_member_get (store, tx->conversation_id, tx->actor_id, NULL);
      if (actor == NULL || !is_moderator (actor) ||
          (g_str_equal (tx->role, "admin") && !g_str_equal (actor->role, "owner")))
        {
          g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_FORBIDDEN,
                               "Only an admin or the owner may add members");
          return FALSE;
        }
    }
  if (tx->max_members > 0 &&
      ssq_server_store_member_count (store, tx->conversation_id, NULL) >= tx->max_members)
    {
      g_set_error (error, SSQ_ERROR, SSQ_ERROR_CONFLICT, "The group is full (%u members)",
                   tx->max_members);
      return FALSE;
    }
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

static gboolean
add_member (SsqServer   *server,
            Change      *change,
            const char  *user_id,
            JsonObject  *request,
            GError     **error)
{
  const char *conversation_id = change->conversation_id;
  g_autoptr(SsqMemberRow) actor = NULL;
  g_autoptr(SsqMemberRow) existing = NULL;
  g_autoptr(SsqConversationRow) conv = NULL;
  g_autoptr(SsqUserRow) target = NULL;
  SsqWireMemberNew new_member;
  const char *username = NULL, *role = "member";
  MemberTx *tx;
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
  tx = member_tx_new (conversation_id, target->id, role);
  tx->actor_id = g_strdup (user_id);
  tx->max_members = server->config->max_members;
  submit_change (change, add_member_tx, tx, member_tx_free, member_added_emit);
  return TRUE;
}

/**
 * ssq_server_chat_add_member:
 * Adds a member from a request body; @done runs after the commit, or at
 * once when the change is refused.
 */
void
ssq_server_chat_add_member (SsqServer         *server,
                            const char        *user_id,
                            const char        *conversation_id,
                            JsonObject        *request,
                            SsqChatChangeDone  done,
                            gpointer           user_data,
                            GDestroyNotify     user_data_free)
{
  g_autoptr(GError) error = NULL;
  Change *change = change_new (server, conversation_id, done, user_data, user_data_free);

  if (!add_member (server, change, user_id, request, &error))
    change_fail (change, error);
}

/* When the owner leaves, the longest-standing admin inherits the group, or
 * else the longest-standing member. NULL: there is an owner, or no one. */
static const char *
successor (GPtrArray *members)
{
  SsqMemberRow *admin = NULL;

  for (guint i = 0; i < members->len; i++)
    {
      SsqMemberRow *m = members->pdata[i];

      if (g_str_equal (m->role, "owner"))
        return NULL;
      if (admin == NULL && g_str_equal (m->role, "admin"))
        admin = m;
    }
  if (admin != NULL)
    return admin->user_id;
  return members->len > 0 ? ((SsqMemberRow *) members->pdata[0])->user_id : NULL;
}

/* Writer thread. The heir is chosen here, from the members as they are
 * once this one is gone, not from what the main loop saw: the heir it saw
 * may be leaving in the same batch (owner and admin leaving together left
 * a group without owner). */
static gboolean
remove_member_tx (SsqServerStore *store,
                  gpointer        data,
                  GError        **error)
{
  MemberTx *tx = data;
  g_autoptr(GPtrArray) members = NULL;
  g_autoptr(SsqMemberRow) target = NULL;
  g_autoptr(SsqMemberRow) actor = NULL;
  const char *heir;

  /* As for adds: a removal queued before this one may have taken the
   * member already, or the actor's rights. */
  target = ssq_server_store_member_get (store, tx->conversation_id, tx->user_id, NULL);
  if (target == NULL)
    {
      g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_NOT_FOUND, "Not a member");
      return FALSE;
    }
  if (tx->actor_id != NULL)
    {
      actor = ssq_server_store_member_get (store, tx->conversation_id, tx->actor_id, NULL);
      if (actor == NULL || !(g_str_equal (actor->role, "owner") ||
                             (g_str_equal (actor->role, "admin") &&
                              g_str_equal (target->role, "member"))))
        {
          g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_FORBIDDEN,
                               "Only the owner, or an admin for plain members, may remove members");
          return FALSE;
        }
    }
  if (!ssq_server_store_member_delete (store, tx->conversation_id, tx->user_id, error) ||
      (members = ssq_server_store_members (store, tx->conversation_id, error)) == NULL)
    return FALSE;
  heir = successor (members);
  if (heir != NULL &&
      !ssq_server_store_member_set_role (store, tx->conversation_id, heir, "owner", error))
    return FALSE;
  return ssq_server_store_conversation_touch (store, tx->conversation_id, NULL,
                                              ssq_now_ms (), error);
}

static void
member_removed_emit (Change *change)
{
  MemberTx *tx = change->tx;

  ssq_server_hub_typing (change->server->hub, tx->conversation_id, tx->user_id, FALSE);
  ssq_server_chat_emit_removed (change->server, tx->conversation_id, tx->user_id);
  ssq_server_chat_emit_conversation (change->server, tx->conversation_id);
}

static gboolean
remove_member (SsqServer   *server,
               Change      *change,
               const char  *user_id,
               const char  *username,
               GError     **error)
{
  const char *conversation_id = change->conversation_id;
  g_autoptr(SsqMemberRow) actor = NULL;
  g_autoptr(SsqMemberRow) target_member = NULL;
  g_autoptr(SsqConversationRow) conv = NULL;
  g_autoptr(SsqUserRow) target = NULL;
  MemberTx *tx;
  gboolean self;

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
  if (!change->free_of_charge && !ssq_server_chat_charge (server, user_id, error))
    return FALSE;
  tx = member_tx_new (conversation_id, target->id, NULL);
  tx->actor_id = self ? NULL : g_strdup (user_id);
  submit_change (change, remove_member_tx, tx, member_tx_free, member_removed_emit);
  return TRUE;
}

/**
 * ssq_server_chat_remove_member:
 * Removes @username (the caller itself: leaving); @done runs after the
 * commit, or at once when the change is refused.
 */
static void
remove_member_start (SsqServer         *server,
                     const char        *user_id,
                     const char        *conversation_id,
                     const char        *username,
                     gboolean           free_of_charge,
                     SsqChatChangeDone  done,
                     gpointer           user_data,
                     GDestroyNotify     user_data_free)
{
  g_autoptr(GError) error = NULL;
  Change *change = change_new (server, conversation_id, done, user_data, user_data_free);

  change->free_of_charge = free_of_charge;
  if (!remove_member (server, change, user_id, username, &error))
    change_fail (change, error);
}

void
ssq_server_chat_remove_member (SsqServer         *server,
                               const char        *user_id,
                               const char        *conversation_id,
                               const char        *username,
                               SsqChatChangeDone  done,
                               gpointer           user_data,
                               GDestroyNotify     user_data_free)
{
  remove_member_start (server, user_id, conversation_id, username, FALSE, done, user_data,
                       user_data_free);
}

/**
 * ssq_server_chat_leave_uncharged:
 * Leaves the group as ssq_server_chat_remove_member() does for the user
 * itself, without charging messages_per_minute: for an account being
 * deleted, which must leave every group however many there are.
 */
void
ssq_server_chat_leave_uncharged (SsqServer         *server,
                                 const char        *user_id,
                                 const char        *conversation_id,
                                 const char        *username,
                                 SsqChatChangeDone  done,
                                 gpointer           user_data,
                                 GDestroyNotify     user_data_free)
{
  remove_member_start (server, user_id, conversation_id, username, TRUE, done, user_data,
                       user_data_free);
}

/* ---- roles, as the server's administrator changes them ---------------- */

/* Writer thread: checked again in commit order (a removal or a transfer
 * queued before may have changed the member). The owner's role changes
 * only by a transfer: a group always has one owner. */
static gboolean
set_role_tx (SsqServerStore *store,
             gpointer        data,
             GError        **error)
{
  MemberTx *tx = data;
  g_autoptr(SsqMemberRow) target = ssq_server_store_member_get (store, tx->conversation_id,
                                                                tx->user_id, NULL);

  if (target == NULL)
    {
      g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_NOT_FOUND, "Not a member");
      return FALSE;
    }
  if (g_str_equal (target->role, "owner"))
    {
      g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_CONFLICT,
                           "The owner's role changes only by a transfer of ownership");
      return FALSE;
    }
  return ssq_server_store_member_set_role (store, tx->conversation_id, tx->user_id, tx->role,
                                           error) &&
         ssq_server_store_conversation_touch (store, tx->conversation_id, NULL,
                                              ssq_now_ms (), error);
}

/* Writer thread: the new owner takes the group; the old one stays as an
 * admin. */
static gboolean
transfer_tx (SsqServerStore *store,
             gpointer        data,
             GError        **error)
{
  MemberTx *tx = data;
  g_autoptr(GPtrArray) members = ssq_server_store_members (store, tx->conversation_id, error);
  gboolean found = FALSE;

  if (members == NULL)
    return FALSE;
  for (guint i = 0; i < members->len; i++)
    found |= g_str_equal (((SsqMemberRow *) members->pdata[i])->user_id, tx->user_id);
  if (!found)
    {
      g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_NOT_FOUND, "Not a member");
      return FALSE;
    }
  for (guint i = 0; i < members->len; i++)
    {
      SsqMemberRow *m = members->pdata[i];

      if (g_str_equal (m->role, "owner") && !g_str_equal (m->user_id, tx->user_id) &&
          !ssq_server_store_member_set_role (store, tx->conversation_id, m->user_id, "admin",
                                             error))
        return FALSE;
    }
  return ssq_server_store_member_set_role (store, tx->conversation_id, tx->user_id, "owner",
                                           error) &&
         ssq_server_store_conversation_touch (store, tx->conversation_id, NULL,
                                              ssq_now_ms (), error);
}

static gboolean
change_role (SsqServer   *server,
             Change      *change,
             const char  *user_id,
             const char  *role,
             GError     **error)
{
  g_autoptr(SsqConversationRow) conv = require_group (server, change->conversation_id, error);
  g_autoptr(SsqMemberRow) member = NULL;
  gboolean transfer = g_str_equal (role, "owner");

  if (conv == NULL)
    return FALSE;
  if (!transfer && !g_str_equal (role, "admin") && !g_str_equal (role, "member"))
    {
      g_set_error (error, SSQ_ERROR, SSQ_ERROR_INVALID,
                   "Role \"%s\" is none of admin, member (owner: transfer)", role);
      return FALSE;
    }
  member = ssq_server_store_member_get (server->store, change->conversation_id, user_id, NULL);
  if (member == NULL)
    {
      g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_NOT_FOUND, "Not a member");
      return FALSE;
    }
  submit_change (change, transfer ? transfer_tx : set_role_tx,
                 member_tx_new (change->conversation_id, user_id, role), member_tx_free,
                 member_added_emit);
  return TRUE;
}

/**
 * ssq_server_chat_set_role:
 * The server's administrator gives the member @user_id of a group the role
 * @role: "admin" or "member", or "owner", which transfers the ownership
 * (the owner before becomes an admin). Every member hears of it as of any
 * change of members; @done runs after the commit, or at once when refused.
 */
void
ssq_server_chat_set_role (SsqServer         *server,
                          const char        *conversation_id,
                          const char        *user_id,
                          const char        *role,
                          SsqChatChangeDone  done,
                          gpointer           user_data,
                          GDestroyNotify     user_data_free)
{
  g_autoptr(GError) error = NULL;
  Change *change = change_new (server, conversation_id, done, user_data, user_data_free);

  if (!change_role (server, change, user_id, role, &error))
    change_fail (change, error);
}
