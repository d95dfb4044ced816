/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-cache-conversations.c: conversations, members and their markers, and
 * sync cursors in the client cache. */
#include <glib/gi18n.h>
#include "ssq-cache-private.h"
#include "ssq-conversation-private.h"
#include "ssq-json.h"
#include "ssq-wire.h"
#include "ssq-proto.h"

/* Whether the user's account is deleted: SsqUser does not hold it (it
 * shows as the display name), the wire object does. */
static gboolean
store_user_deleted (SsqCache    *self,
                    JsonObject  *user,
                    GError     **error)
{
  SsqWireUser u;
  sqlite3_stmt *stmt;

  if (!ssq_wire_user_decode (user, &u, error))
    return FALSE;
  stmt = ssq_db_stmt (&self->db, "UPDATE users SET deleted = ? WHERE id = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int (stmt, 1, u.deleted);
  ssq_db_bind_text (stmt, 2, u.id);
  return ssq_db_step_done (&self->db, stmt, error);
}

static gboolean
store_member (SsqCache    *self,
              const char  *conversation_id,
              JsonObject  *member,
              guint        position,
              GError     **error)
{
  g_autoptr(SsqUser) user = NULL;
  SsqWireMember m;
  sqlite3_stmt *stmt;

  if (!ssq_wire_member_decode (member, &m, error))
    return FALSE;
  user = ssq_user_new_from_json (m.user, error);
  if (user == NULL || !ssq_cache_store_user (self, user, error) ||
      !store_user_deleted (self, m.user, error))
    return FALSE;

  /* The position keeps the server's order of the list (by joining). */
  stmt = ssq_db_stmt (&self->db,
                      "INSERT INTO members (conversation_id, user_id, role, delivered_seq, read_seq, position) "
                      "VALUES (?1, ?2, ?3, MAX(?4, ?5), ?5, ?6) ON CONFLICT DO UPDATE SET "
                      "role = excluded.role, present = 1, position = excluded.position, "
                      "delivered_seq = MAX(delivered_seq, excluded.delivered_seq), "
                      "read_seq = MAX(read_seq, excluded.read_seq)", error);
  if (stmt == NULL)
    return FALSE;
  ssq_db_bind_text (stmt, 1, conversation_id);
  ssq_db_bind_text (stmt, 2, ssq_user_get_id (user));
  ssq_db_bind_text (stmt, 3, m.role ? m.role : "member");
  sqlite3_bind_int64 (stmt, 4, m.delivered_seq);
  sqlite3_bind_int64 (stmt, 5, m.read_seq);
  sqlite3_bind_int (stmt, 6, (int) position);
  return ssq_db_step_done (&self->db, stmt, error);
}

static gboolean
store_members (SsqCache    *self,
               const char  *conversation_id,
               JsonArray   *members,
               GError     **error)
{
  sqlite3_stmt *stmt = ssq_db_stmt (&self->db,
                                    "UPDATE members SET present = 0 WHERE conversation_id = ?", error);

  if (stmt == NULL)
    return FALSE;
  ssq_db_bind_text (stmt, 1, conversation_id);
  if (!ssq_db_step_done (&self->db, stmt, error))
    return FALSE;

  for (guint i = 0; i < json_array_get_length (members); i++)
    {
      JsonNode *node = json_array_get_element (members, i);

      if (!JSON_NODE_HOLDS_OBJECT (node))
        {
          g_set_error (error, SSQ_ERROR, SSQ_ERROR_PROTOCOL, _("A member must be an object"));
          return FALSE;
        }
      if (!store_member (self, conversation_id, json_node_get_object (node), i, error))
        return FALSE;
    }

  stmt = ssq_db_stmt (&self->db,
                      "DELETE FROM members WHERE conversation_id = ? AND present = 0", error);
  if (stmt == NULL)
    return FALSE;
  ssq_db_bind_text (stmt, 1, conversation_id);
  return ssq_db_step_done (&self->db, stmt, error);
}

static gboolean
store_row (SsqCache                   *self,
           const SsqWireConversation  *c,
           GError                    **error)
{
  sqlite3_stmt *stmt;

  /* A conversation new to the cache holds no message yet: every change up
   * to now is already in what it will fetch, so its change cursor starts
   * at the current rev. The unread count is the server's: it reflects the
   * messages up to last_seq, the changes up to rev and the read marker
   * (see update_conversation in ssq-cache-messages.c), so it is taken
   * only from a copy at least as new in all three: an older copy (a REST
   * answer that crossed a message, a change or this user's read) would
   * put back a count the cache has moved on from. The title and members
   * follow the copy that comes last: no cursor orders renames and
   * membership changes (rev counts message changes only). */
  stmt = ssq_db_stmt (&self->db,
                      "INSERT INTO conversations (id, kind, title, role, muted, last_seq, read_seq, "
                      "  delivered_seq, unread, created_at, last_activity, rev, sync_rev, updated_at) "
                      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?12, ?12, ?13) ON CONFLICT (id) DO UPDATE SET "
                      "kind = excluded.kind, title = excluded.title, role = excluded.role, "
                      "muted = excluded.muted, last_seq = MAX(last_seq, excluded.last_seq), "
                      "read_seq = MAX(read_seq, excluded.read_seq), "
                      "delivered_seq = MAX(delivered_seq, excluded.delivered_seq), "
                      "unread = CASE WHEN excluded.last_seq >= last_seq AND excluded.rev >= rev "
                      "  AND excluded.read_seq >= read_seq THEN excluded.unread ELSE unread END, "
                      "created_at = excluded.created_at, "
                      "last_activity = MAX(last_activity, excluded.last_activity), "
                      "rev = MAX(rev, excluded.rev), updated_at = MAX(updated_at, excluded.updated_at)",
                      error);
  if (stmt == NULL)
    return FALSE;
  ssq_db_bind_text (stmt, 1, c->id);
  ssq_db_bind_text (stmt, 2, c->kind);
  ssq_db_bind_text (stmt, 3, c->title);
  ssq_db_bind_text (stmt, 4, c->role);
  sqlite3_bind_int (stmt, 5, c->muted);
  sqlite3_bind_int64 (stmt, 6, c->last_seq);
  sqlite3_bind_int64 (stmt, 7, c->read_seq);
  sqlite3_bind_int64 (stmt, 8, c->delivered_seq);
  sqlite3_bind_int64 (stmt, 9, c->unread);
  sqlite3_bind_int64 (stmt, 10, c->created_at);
  sqlite3_bind_int64 (stmt, 11, MAX (c->created_at, c->updated_at));
  sqlite3_bind_int64 (stmt, 12, c->rev);
  sqlite3_bind_int64 (stmt, 13, c->updated_at);
  return ssq_db_step_done (&self->db, stmt, error);
}

/**
 * ssq_cache_store_conversation:
 * Stores a protocol `conversation` object with its members (and their
 * users), keeping markers that only move forward.
 *
 * Returns: (transfer full): the stored conversation's snapshot.
 */
SsqConversation *
ssq_cache_store_conversation (SsqCache    *self,
                              JsonObject  *object,
                              GError     **error)
{
  SsqWireConversation c;

  g_return_val_if_fail (SSQ_IS_CACHE (self), NULL);

  if (!ssq_wire_conversation_decode (object, &c, error) ||
      !ssq_cache_counters_settle (self, error))
    return NULL;
  ssq_cache_forget_conversation (self, c.id);
  if (!ssq_db_run (&self->db, "SAVEPOINT conversation", error))
    return NULL;
  if (!store_row (self, &c, error) ||
      (c.members != NULL && !store_members (self, c.id, c.members, error)) ||
      !ssq_db_run (&self->db, "RELEASE conversation", error))
    {
      ssq_db_run (&self->db, "ROLLBACK TO conversation", NULL);
      ssq_db_run (&self->db, "RELEASE conversation", NULL);
      return NULL;
    }
  return ssq_cache_get_conversation (self, c.id);
}

gboolean
ssq_cache_remove_conversation (SsqCache    *self,
                               const char  *conversation_id,
                               GError     **error)
{
  static const char *const statements[] = {
    "DELETE FROM conversations WHERE id = ?",
    "DELETE FROM members WHERE conversation_id = ?",
    "DELETE FROM messages WHERE conversation_id = ?",
    "DELETE FROM outbox WHERE conversation_id = ?",
  };

  g_return_val_if_fail (SSQ_IS_CACHE (self), FALSE);

  ssq_cache_forget_conversation (self, conversation_id);
  /* The delete trigger takes the rows out of the index: they must be in. */
  if (!ssq_cache_counters_settle (self, error) ||
      !ssq_cache_index_pending (self, error) ||
      !ssq_db_run (&self->db, "SAVEPOINT remove", error))
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (statements); i++)
    {
      sqlite3_stmt *stmt = ssq_db_stmt (&self->db, statements[i], error);

      if (stmt != NULL)
        ssq_db_bind_text (stmt, 1, conversation_id);
      if (stmt == NULL || !ssq_db_step_done (&self->db, stmt, error))
        {
          ssq_db_run (&self->db, "ROLLBACK TO remove", NULL);
          ssq_db_run (&self->db, "RELEASE remove", NULL);
          return FALSE;
        }
    }
  return ssq_db_run (&self->db, "RELEASE remove", error);
}

static void
load_members (SsqCache        *self,
              SsqConversation *conversation)
{
  sqlite3_stmt *stmt = ssq_db_stmt (&self->db,
                                    "SELECT m.user_id, u.username, u.display_name, m.role "
                                    "FROM members m JOIN users u ON u.id = m.user_id "
                                    "WHERE m.conversation_id = ? "
                                    "ORDER BY CASE m.role WHEN 'owner' THEN 0 WHEN 'admin' THEN 1 ELSE 2 END, "
                                    "u.username", NULL);

  if (stmt == NULL)
    return;
  ssq_db_bind_text (stmt, 1, conversation->id);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      g_autoptr(SsqMember) member =
        ssq_member_new ((const char *) sqlite3_column_text (stmt, 0),
                        (const char *) sqlite3_column_text (stmt, 1),
                        (const char *) sqlite3_column_text (stmt, 2),
                        (const char *) sqlite3_column_text (stmt, 3));

      if (conversation->peer_id == NULL && g_strcmp0 (member->user_id, self->self_id) != 0)
        conversation->peer_id = g_strdup (member->user_id);
      g_list_store_append (conversation->members, member);
    }
  sqlite3_reset (stmt);
}

/**
 * ssq_cache_get_conversation:
 * Returns: (transfer full) (nullable): a snapshot of the conversation, with
 * members and last message, or NULL when the cache does not hold it.
 */
SsqConversation *
ssq_cache_get_conversation (SsqCache   *self,
                            const char *conversation_id)
{
  g_autoptr(SsqConversation) conversation = NULL;
  g_autoptr(SsqUser) peer_user = NULL;
  sqlite3_stmt *stmt;
  SsqMember *peer;

  g_return_val_if_fail (SSQ_IS_CACHE (self), NULL);

  conversation = conversation_id ? g_hash_table_lookup (self->conversations, conversation_id) : NULL;
  if (conversation != NULL)
    return g_object_ref (g_steal_pointer (&conversation));
  ssq_cache_counters_settle_quietly (self);
  stmt = ssq_db_stmt (&self->db,
                      "SELECT kind, title, role, muted, last_seq, read_seq, unread, created_at, "
                      "last_activity FROM conversations WHERE id = ?", NULL);
  if (stmt == NULL || conversation_id == NULL)
    return NULL;
  ssq_db_bind_text (stmt, 1, conversation_id);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    {
      conversation = ssq_conversation_new ();
      conversation->id = g_strdup (conversation_id);
      conversation->kind = ssq_db_column_dup (stmt, 0);
      conversation->title = ssq_db_column_dup (stmt, 1);
      conversation->role = ssq_db_column_dup (stmt, 2);
      conversation->muted = sqlite3_column_int (stmt, 3);
      conversation->last_seq = sqlite3_column_int64 (stmt, 4);
      conversation->read_seq = sqlite3_column_int64 (stmt, 5);
      conversation->unread = sqlite3_column_int64 (stmt, 6);
      conversation->created_at = sqlite3_column_int64 (stmt, 7);
      conversation->last_activity = sqlite3_column_int64 (stmt, 8);
    }
  sqlite3_reset (stmt);
  if (conversation == NULL)
    return NULL;

  load_members (self, conversation);
  peer = conversation->peer_id ? ssq_conversation_find_member (conversation, conversation->peer_id) : NULL;
  if (conversation->title != NULL)
    conversation->display_title = g_strdup (conversation->title);
  else if (peer != NULL)
    conversation->display_title = g_strdup (ssq_member_get_display_name (peer));
  else
    conversation->display_title = g_strdup ("—");
  conversation->last_message = ssq_cache_last_message (self, conversation_id);
  if (ssq_conversation_is_direct (conversation) && conversation->peer_id != NULL &&
      (peer_user = ssq_cache_get_user (self, conversation->peer_id)) != NULL)
    conversation->peer_presence = g_strdup (ssq_user_get_presence (peer_user));
  g_hash_table_insert (self->conversations, g_strdup (conversation_id), g_object_ref (conversation));
  return g_steal_pointer (&conversation);
}

/* The members as `member` objects, in the server's order. The account's
 * own markers move in the conversation's row (ssq_cache_set_markers), so
 * its entry takes the further of the two. */
static JsonArray *
wire_members (SsqCache     *self,
              const char   *conversation_id,
              gint64        own_delivered,
              gint64        own_read,
              GError      **error)
{
  g_autoptr(JsonArray) members = json_array_new ();
  sqlite3_stmt *stmt = ssq_db_stmt (&self->db,
                                    "SELECT u.id, u.username, u.display_name, u.presence, u.last_seen, "
                                    "  u.deleted, m.role, m.delivered_seq, m.read_seq "
                                    "FROM members m JOIN users u ON u.id = m.user_id "
                                    "WHERE m.conversation_id = ? ORDER BY m.position, m.user_id", error);
  int rc;

  if (stmt == NULL)
    return NULL;
  ssq_db_bind_text (stmt, 1, conversation_id);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      SsqWireUser u = {
        .id = (const char *) sqlite3_column_text (stmt, 0),
        .username = (const char *) sqlite3_column_text (stmt, 1),
        .display_name = (const char *) sqlite3_column_text (stmt, 2),
        .presence = (const char *) sqlite3_column_text (stmt, 3),
        .last_seen = sqlite3_column_int64 (stmt, 4),
        .deleted = sqlite3_column_int (stmt, 5),
      };
      gboolean own = g_strcmp0 (u.id, self->self_id) == 0;
      g_autoptr(JsonObject) user = ssq_wire_user_encode (&u);
      SsqWireMember m = {
        .user = user,
        .role = (const char *) sqlite3_column_text (stmt, 6),
        .delivered_seq = MAX (sqlite3_column_int64 (stmt, 7), own ? own_delivered : 0),
        .read_seq = MAX (sqlite3_column_int64 (stmt, 8), own ? own_read : 0),
      };

      json_array_add_object_element (members, ssq_wire_member_encode (&m));
    }
  if (rc != SQLITE_DONE)
    ssq_db_fail (&self->db, error);
  sqlite3_reset (stmt);
  return rc == SQLITE_DONE ? g_steal_pointer (&members) : NULL;
}

/**
 * ssq_cache_conversation_to_wire:
 * The conversation as a protocol `conversation` object, encoded by the
 * codec from what the cache holds: what the server last sent, with the
 * counters (last_seq, unread, markers, rev) as the messages and markers
 * since have moved them.
 *
 * Returns: (transfer full) (nullable): the object, or NULL with @error
 *   (not found when the cache does not hold the conversation).
 */
JsonObject *
ssq_cache_conversation_to_wire (SsqCache    *self,
                                const char  *conversation_id,
                                GError     **error)
{
  g_autoptr(JsonArray) members = NULL;
  sqlite3_stmt *stmt;
  SsqWireConversation c = { 0 };
  JsonObject *object = NULL;

  g_return_val_if_fail (SSQ_IS_CACHE (self), NULL);
  g_return_val_if_fail (conversation_id != NULL, NULL);

  if (!ssq_cache_counters_settle (self, error))
    return NULL;
  stmt = ssq_db_stmt (&self->db,
                      "SELECT kind, title, last_seq, rev, read_seq, delivered_seq, unread, muted, "
                      "  role, created_at, updated_at FROM conversations WHERE id = ?", error);
  if (stmt == NULL)
    return NULL;
  ssq_db_bind_text (stmt, 1, conversation_id);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      sqlite3_reset (stmt);
      g_set_error (error, SSQ_ERROR, SSQ_ERROR_NOT_FOUND, _("No such conversation"));
      return NULL;
    }
  c.id = conversation_id;
  c.kind = (const char *) sqlite3_column_text (stmt, 0);
  c.title = (const char *) sqlite3_column_text (stmt, 1);
  c.last_seq = sqlite3_column_int64 (stmt, 2);
  c.rev = sqlite3_column_int64 (stmt, 3);
  c.read_seq = sqlite3_column_int64 (stmt, 4);
  c.delivered_seq = sqlite3_column_int64 (stmt, 5);
  c.unread = sqlite3_column_int64 (stmt, 6);
  c.muted = sqlite3_column_int (stmt, 7);
  c.role = sqlite3_column_text (stmt, 8) ? (const char *) sqlite3_column_text (stmt, 8) : "member";
  c.created_at = sqlite3_column_int64 (stmt, 9);
  c.updated_at = sqlite3_column_int64 (stmt, 10);
  /* The row's strings live until the statement is reset: encode first. */
  members = wire_members (self, conversation_id, c.delivered_seq, c.read_seq, error);
  if (members != NULL)
    {
      c.members = members;
      object = ssq_wire_conversation_encode (&c);
    }
  sqlite3_reset (stmt);
  return object;
}

/**
 * ssq_cache_list_conversations:
 * Returns: (transfer full) (element-type SsqConversation): every conversation,
 * most recently active first.
 */
GPtrArray *
ssq_cache_list_conversations (SsqCache *self)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  sqlite3_stmt *stmt;

  g_return_val_if_fail (SSQ_IS_CACHE (self), out);

  ssq_cache_counters_settle_quietly (self);
  stmt = ssq_db_stmt (&self->db,
                      "SELECT id FROM conversations ORDER BY last_activity DESC, id", NULL);
  if (stmt == NULL)
    return out;
  while (sqlite3_step (stmt) == SQLITE_ROW)
    g_ptr_array_add (ids, ssq_db_column_dup (stmt, 0));
  sqlite3_reset (stmt);

  for (guint i = 0; i < ids->len; i++)
    {
      SsqConversation *conversation = ssq_cache_get_conversation (self, ids->pdata[i]);

      if (conversation != NULL)
        g_ptr_array_add (out, conversation);
    }
  return out;
}

/**
 * ssq_cache_find_conversation:
 * @name: a conversation id, a group title (case-insensitive), or the
 *   username of the other member of a direct conversation.
 *
 * Returns: (transfer full) (nullable): the conversation @name names.
 */
SsqConversation *
ssq_cache_find_conversation (SsqCache   *self,
                             const char *name)
{
  sqlite3_stmt *stmt;
  g_autofree char *id = NULL;

  g_return_val_if_fail (SSQ_IS_CACHE (self), NULL);

  stmt = ssq_db_stmt (&self->db,
                      "SELECT id FROM conversations WHERE id = ?1 "
                      "UNION ALL SELECT id FROM conversations WHERE title = ?1 COLLATE NOCASE "
                      "UNION ALL SELECT c.id FROM conversations c "
                      "  JOIN members m ON m.conversation_id = c.id "
                      "  JOIN users u ON u.id = m.user_id "
                      "  WHERE c.kind = 'direct' AND u.username = lower(?1) AND m.user_id != ?2 "
                      "LIMIT 1", NULL);
  if (stmt == NULL || name == NULL)
    return NULL;
  ssq_db_bind_text (stmt, 1, name);
  ssq_db_bind_text (stmt, 2, self->self_id ? self->self_id : "");
  if (sqlite3_step (stmt) == SQLITE_ROW)
    id = ssq_db_column_dup (stmt, 0);
  sqlite3_reset (stmt);
  return id ? ssq_cache_get_conversation (self, id) : NULL;
}

/**
 * ssq_cache_set_markers:
 * Moves @user_id's delivered and read markers forward (never back). For the
 * account's own user this also recounts the conversation's unread messages.
 */
gboolean
ssq_cache_set_markers (SsqCache    *self,
                       const char  *conversation_id,
                       const char  *user_id,
                       gint64       delivered_seq,
                       gint64       read_seq,
                       GError     **error)
{
  sqlite3_stmt *stmt;

  g_return_val_if_fail (SSQ_IS_CACHE (self), FALSE);

  /* Own markers change the unread count; others' only message states,
   * which conversation snapshots do not hold but their last message does. */
  ssq_cache_forget_conversation (self, conversation_id);
  if (g_strcmp0 (user_id, self->self_id) == 0 && !ssq_cache_counters_settle (self, error))
    return FALSE;
  if (g_strcmp0 (user_id, self->self_id) == 0)
    stmt = ssq_db_stmt (&self->db,
                        "UPDATE conversations SET delivered_seq = MAX(delivered_seq, ?1, ?2), "
                        "read_seq = MAX(read_seq, ?2), "
                        "unread = (SELECT COUNT(*) FROM messages WHERE conversation_id = ?3 "
                        "  AND seq > MAX(conversations.read_seq, ?2) AND sender != ?4 AND deleted = 0) "
                        "WHERE id = ?3", error);
  else
    stmt = ssq_db_stmt (&self->db,
                        "UPDATE members SET delivered_seq = MAX(delivered_seq, ?1, ?2), "
                        "read_seq = MAX(read_seq, ?2) WHERE conversation_id = ?3 AND user_id = ?4",
                        error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, delivered_seq);
  sqlite3_bind_int64 (stmt, 2, read_seq);
  ssq_db_bind_text (stmt, 3, conversation_id);
  ssq_db_bind_text (stmt, 4, user_id);
  return ssq_db_step_done (&self->db, stmt, error);
}

/**
 * ssq_cache_get_peer_marks:
 * The lowest delivered and read markers among the other members: a message
 * of mine up to @out_delivered has reached every other member's client.
 */
void
ssq_cache_get_peer_marks (SsqCache   *self,
                          const char *conversation_id,
                          gint64     *out_delivered,
                          gint64     *out_read)
{
  sqlite3_stmt *stmt = ssq_db_stmt (&self->db,
                                    "SELECT MIN(delivered_seq), MIN(read_seq) FROM members "
                                    "WHERE conversation_id = ? AND user_id != ?", NULL);

  *out_delivered = *out_read = 0;
  if (stmt == NULL)
    return;
  ssq_db_bind_text (stmt, 1, conversation_id);
  ssq_db_bind_text (stmt, 2, self->self_id ? self->self_id : "");
  if (sqlite3_step (stmt) == SQLITE_ROW)
    {
      *out_delivered = sqlite3_column_int64 (stmt, 0);
      *out_read = sqlite3_column_int64 (stmt, 1);
    }
  sqlite3_reset (stmt);
}

gboolean
ssq_cache_set_muted (SsqCache    *self,
                     const char  *conversation_id,
                     gboolean     muted,
                     GError     **error)
{
  sqlite3_stmt *stmt = ssq_db_stmt (&self->db,
                                    "UPDATE conversations SET muted = ? WHERE id = ?", error);

  if (stmt == NULL)
    return FALSE;
  ssq_cache_forget_conversation (self, conversation_id);
  sqlite3_bind_int (stmt, 1, muted);
  ssq_db_bind_text (stmt, 2, conversation_id);
  return ssq_db_step_done (&self->db, stmt, error);
}

/* The value @sql selects for @conversation_id, or -1 when it is not cached. */
static gint64
cursor_of (SsqCache   *self,
           const char *sql,
           const char *conversation_id)
{
  sqlite3_stmt *stmt;
  gint64 value = -1;

  ssq_cache_counters_settle_quietly (self);
  stmt = ssq_db_stmt (&self->db, sql, NULL);
  if (stmt == NULL)
    return -1;
  ssq_db_bind_text (stmt, 1, conversation_id);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    value = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  return value;
}

/**
 * ssq_cache_get_sync_page:
 * @from_id: (nullable): the page's first conversation id, %NULL for the first
 * @max: how many conversations the page holds at most
 * @since: (out) (transfer full): `{conversation_id: cursor}` of the page
 * @since_rev: (out) (transfer full): `{conversation_id: rev}` of the page
 * @next_id: (out) (transfer full) (nullable): the id the next page starts
 *   at (the page's `to_id`), %NULL when this page runs to the last one
 *
 * One page of the cached conversations, by id in byte order (the order of
 * a sync's `from_id` and `to_id`), with both cursors of each.
 */
gboolean
ssq_cache_get_sync_page (SsqCache     *self,
                         const char   *from_id,
                         guint         max,
                         JsonObject  **since,
                         JsonObject  **since_rev,
                         char        **next_id,
                         GError      **error)
{
  g_autoptr(JsonObject) seqs = json_object_new ();
  g_autoptr(JsonObject) revs = json_object_new ();
  sqlite3_stmt *stmt;
  guint n = 0;
  int rc;

  g_return_val_if_fail (SSQ_IS_CACHE (self) && max > 0, FALSE);

  *next_id = NULL;
  ssq_cache_counters_settle_quietly (self);
  stmt = ssq_db_stmt (&self->db, "SELECT id, sync_seq, sync_rev FROM conversations "
                                 "WHERE ?1 IS NULL OR id >= ?1 ORDER BY id LIMIT ?2", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, from_id, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 2, (gint64) max + 1);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      const char *id = (const char *) sqlite3_column_text (stmt, 0);

      if (n++ == max)
        {
          *next_id = g_strdup (id);
          rc = SQLITE_DONE;
          break;
        }
      json_object_set_int_member (seqs, id, sqlite3_column_int64 (stmt, 1));
      json_object_set_int_member (revs, id, sqlite3_column_int64 (stmt, 2));
    }
  if (rc != SQLITE_DONE)
    {
      ssq_db_fail (&self->db, error);
      sqlite3_reset (stmt);
      g_clear_pointer (next_id, g_free);
      return FALSE;
    }
  sqlite3_reset (stmt);
  *since = g_steal_pointer (&seqs);
  *since_rev = g_steal_pointer (&revs);
  return TRUE;
}

gint64
ssq_cache_get_cursor (SsqCache   *self,
                      const char *conversation_id)
{
  return cursor_of (self, "SELECT sync_seq FROM conversations WHERE id = ?", conversation_id);
}

/**
 * ssq_cache_advance_cursor:
 * Moves the conversation's cursor over every message held right above it.
 */
gboolean
ssq_cache_advance_cursor (SsqCache    *self,
                          const char  *conversation_id,
                          GError     **error)
{
  return ssq_cache_advance_cursor_from (self, conversation_id,
                                        ssq_cache_get_cursor (self, conversation_id), error);
}

/**
 * ssq_cache_next_cursor:
 * Where @cursor goes over the messages held right above it (reads only
 * the messages table). -1 when the read fails.
 */
gint64
ssq_cache_next_cursor (SsqCache    *self,
                       const char  *conversation_id,
                       gint64       cursor,
                       GError     **error)
{
  sqlite3_stmt *stmt = ssq_db_stmt (&self->db,
                                    "SELECT seq FROM messages WHERE conversation_id = ? AND seq > ? "
                                    "ORDER BY seq", error);

  if (stmt == NULL)
    return -1;
  ssq_db_bind_text (stmt, 1, conversation_id);
  sqlite3_bind_int64 (stmt, 2, cursor);
  while (sqlite3_step (stmt) == SQLITE_ROW && sqlite3_column_int64 (stmt, 0) == cursor + 1)
    cursor++;
  sqlite3_reset (stmt);
  return cursor;
}

/* The same, from a @cursor the caller knows (-1: the conversation is not
 * cached). */
gboolean
ssq_cache_advance_cursor_from (SsqCache    *self,
                               const char  *conversation_id,
                               gint64       cursor,
                               GError     **error)
{
  sqlite3_stmt *stmt;
  gint64 next;

  if (cursor < 0)
    return TRUE;
  if (!ssq_cache_counters_settle (self, error))
    return FALSE;
  next = ssq_cache_next_cursor (self, conversation_id, cursor, error);
  if (next < 0)
    return FALSE;
  if (next == cursor)
    return TRUE;
  stmt = ssq_db_stmt (&self->db, "UPDATE conversations SET sync_seq = ? WHERE id = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, next);
  ssq_db_bind_text (stmt, 2, conversation_id);
  return ssq_db_step_done (&self->db, stmt, error);
}

/**
 * ssq_cache_set_sync_floor:
 * Starts following a conversation at @floor_seq: sync will not ask for what
 * lies below, which paging fetches on demand. Used so that joining a long
 * conversation does not download all of its history.
 */
gboolean
ssq_cache_set_sync_floor (SsqCache    *self,
                          const char  *conversation_id,
                          gint64       floor_seq,
                          GError     **error)
{
  sqlite3_stmt *stmt = ssq_db_stmt (&self->db,
                                    "UPDATE conversations SET sync_seq = MAX(sync_seq, ?) WHERE id = ?",
                                    error);

  if (stmt == NULL || !ssq_cache_counters_settle (self, error))
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, floor_seq);
  ssq_db_bind_text (stmt, 2, conversation_id);
  return ssq_db_step_done (&self->db, stmt, error) &&
         ssq_cache_advance_cursor (self, conversation_id, error);
}

gint64
ssq_cache_get_rev_cursor (SsqCache   *self,
                          const char *conversation_id)
{
  return cursor_of (self, "SELECT sync_rev FROM conversations WHERE id = ?", conversation_id);
}

/**
 * ssq_cache_set_rev_cursor:
 * Moves the change cursor forward (never back) to @rev, which a sync's ack
 * says every edit and deletion up to is held.
 */
gboolean
ssq_cache_set_rev_cursor (SsqCache    *self,
                          const char  *conversation_id,
                          gint64       rev,
                          GError     **error)
{
  sqlite3_stmt *stmt = ssq_db_stmt (&self->db,
                                    "UPDATE conversations SET sync_rev = MAX(sync_rev, ?) "
                                    "WHERE id = ?", error);

  g_return_val_if_fail (SSQ_IS_CACHE (self), FALSE);

  if (stmt == NULL || !ssq_cache_counters_settle (self, error))
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, rev);
  ssq_db_bind_text (stmt, 2, conversation_id);
  return ssq_db_step_done (&self->db, stmt, error);
}
