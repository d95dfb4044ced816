/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-store-conversations.c: conversations and their members. */
#include "ssq-server-store-private.h"
#include "ssq-proto.h"

#define CONVERSATION_COLUMNS "id, kind, title, created_at, updated_at, last_seq, rev"

static SsqConversationRow *
conversation_query (SsqServerStore  *store,
                    sqlite3_stmt    *stmt,
                    GError         **error)
{
  SsqConversationRow *c = NULL;
  int rc = sqlite3_step (stmt);

  if (rc == SQLITE_ROW)
    {
      c = g_new0 (SsqConversationRow, 1);
      c->id = ssq_server_store_column_dup (stmt, 0);
      c->kind = ssq_server_store_column_dup (stmt, 1);
      c->title = ssq_server_store_column_dup (stmt, 2);
      c->created_at = sqlite3_column_int64 (stmt, 3);
      c->updated_at = sqlite3_column_int64 (stmt, 4);
      c->last_seq = sqlite3_column_int64 (stmt, 5);
      c->rev = sqlite3_column_int64 (stmt, 6);
    }
  else if (rc == SQLITE_DONE)
    g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_NOT_FOUND, "No such conversation");
  else
    ssq_server_store_fail (store, error);
  sqlite3_reset (stmt);
  return c;
}

gboolean
ssq_server_store_conversation_insert (SsqServerStore            *store,
                                      const SsqConversationRow  *conv,
                                      const char                *direct_key,
                                      GError                   **error)
{
  sqlite3_stmt *stmt = ssq_server_store_stmt (store,
    "INSERT INTO conversations (id, kind, title, direct_key, created_at, updated_at, last_seq) "
    "VALUES (?, ?, ?, ?, ?, ?, 0)", error);

  if (stmt == NULL)
    return FALSE;
  ssq_server_store_bind_text (stmt, 1, conv->id);
  ssq_server_store_bind_text (stmt, 2, conv->kind);
  ssq_server_store_bind_text (stmt, 3, conv->title);
  ssq_server_store_bind_text (stmt, 4, direct_key);
  sqlite3_bind_int64 (stmt, 5, conv->created_at);
  sqlite3_bind_int64 (stmt, 6, conv->updated_at);
  return ssq_server_store_step_done (store, stmt, error);
}

SsqConversationRow *
ssq_server_store_conversation_get (SsqServerStore  *store,
                                   const char      *id,
                                   GError         **error)
{
  sqlite3_stmt *stmt = ssq_server_store_stmt (store,
    "SELECT " CONVERSATION_COLUMNS " FROM conversations WHERE id = ?", error);

  if (stmt == NULL)
    return NULL;
  ssq_server_store_bind_text (stmt, 1, id);
  return conversation_query (store, stmt, error);
}

SsqConversationRow *
ssq_server_store_direct_find (SsqServerStore  *store,
                              const char      *direct_key,
                              GError         **error)
{
  sqlite3_stmt *stmt = ssq_server_store_stmt (store,
    "SELECT " CONVERSATION_COLUMNS " FROM conversations WHERE direct_key = ?", error);

  if (stmt == NULL)
    return NULL;
  ssq_server_store_bind_text (stmt, 1, direct_key);
  return conversation_query (store, stmt, error);
}

/* Sets updated_at, and the title when @title is not NULL. */
gboolean
ssq_server_store_conversation_touch (SsqServerStore  *store,
                                     const char      *id,
                                     const char      *title,
                                     gint64           now,
                                     GError         **error)
{
  sqlite3_stmt *stmt = ssq_server_store_stmt (store,
    "UPDATE conversations SET title = coalesce(?, title), updated_at = ? WHERE id = ?", error);

  if (stmt == NULL)
    return FALSE;
  ssq_server_store_bind_text (stmt, 1, title);
  sqlite3_bind_int64 (stmt, 2, now);
  ssq_server_store_bind_text (stmt, 3, id);
  return ssq_server_store_step_done (store, stmt, error);
}

static GPtrArray *
collect_strings (SsqServerStore  *store,
                 sqlite3_stmt    *stmt,
                 GError         **error)
{
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func (g_free);
  int rc;

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (out, ssq_server_store_column_dup (stmt, 0));
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      ssq_server_store_fail (store, error);
      return NULL;
    }
  return g_steal_pointer (&out);
}

/* The user's conversations, most recently active first. */
GPtrArray *
ssq_server_store_conversation_ids_for_user (SsqServerStore  *store,
                                            const char      *user_id,
                                            GError         **error)
{
  sqlite3_stmt *stmt = ssq_server_store_stmt (store,
    "SELECT c.id FROM members m JOIN conversations c ON c.id = m.conversation_id "
    "WHERE m.user_id = ? ORDER BY c.updated_at DESC, c.id", error);

  if (stmt == NULL)
    return NULL;
  ssq_server_store_bind_text (stmt, 1, user_id);
  return collect_strings (store, stmt, error);
}

/* Every user who shares at least one conversation with @user_id (not itself). */
GPtrArray *
ssq_server_store_contacts (SsqServerStore  *store,
                           const char      *user_id,
                           GError         **error)
{
  sqlite3_stmt *stmt = ssq_server_store_stmt (store,
    "SELECT DISTINCT o.user_id FROM members m JOIN members o "
    "ON o.conversation_id = m.conversation_id WHERE m.user_id = ?1 AND o.user_id <> ?1", error);

  if (stmt == NULL)
    return NULL;
  ssq_server_store_bind_text (stmt, 1, user_id);
  return collect_strings (store, stmt, error);
}

#define MEMBER_COLUMNS "user_id, role, muted, read_seq, delivered_seq, joined_at"

static SsqMemberRow *
member_from_row (sqlite3_stmt *stmt)
{
  SsqMemberRow *m = g_new0 (SsqMemberRow, 1);

  m->user_id = ssq_server_store_column_dup (stmt, 0);
  m->role = ssq_server_store_column_dup (stmt, 1);
  m->muted = sqlite3_column_int (stmt, 2) != 0;
  m->read_seq = sqlite3_column_int64 (stmt, 3);
  m->delivered_seq = sqlite3_column_int64 (stmt, 4);
  m->joined_at = sqlite3_column_int64 (stmt, 5);
  return m;
}

/* Members in the order they joined. */
GPtrArray *
ssq_server_store_members (SsqServerStore  *store,
                          const char      *conversation_id,
                          GError         **error)
{
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify) ssq_member_row_free);
  sqlite3_stmt *stmt = ssq_server_store_stmt (store,
    "SELECT " MEMBER_COLUMNS " FROM members WHERE conversation_id = ? ORDER BY joined_at, user_id",
    error);
  int rc;

  if (stmt == NULL)
    return NULL;
  ssq_server_store_bind_text (stmt, 1, conversation_id);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (out, member_from_row (stmt));
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      ssq_server_store_fail (store, error);
      return NULL;
    }
  return g_steal_pointer (&out);
}

guint
ssq_server_store_member_count (SsqServerStore  *store,
                               const char      *conversation_id,
                               GError         **error)
{
  sqlite3_stmt *stmt = ssq_server_store_stmt (store,
    "SELECT count(*) FROM members WHERE conversation_id = ?", error);
  guint n = 0;

  if (stmt == NULL)
    return 0;
  ssq_server_store_bind_text (stmt, 1, conversation_id);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    n = (guint) sqlite3_column_int (stmt, 0);
  else
    ssq_server_store_fail (store, error);
  sqlite3_reset (stmt);
  return n;
}

/* NULL without an error when the user is not a member. */
SsqMemberRow *
ssq_server_store_member_get (SsqServerStore  *store,
                             const char      *conversation_id,
                             const char      *user_id,
                             GError         **error)
{
  sqlite3_stmt *stmt = ssq_server_store_stmt (store,
    "SELECT " MEMBER_COLUMNS " FROM members WHERE conversation_id = ? AND user_id = ?", error);
  SsqMemberRow *m = NULL;
  int rc;

  if (stmt == NULL)
    return NULL;
  ssq_server_store_bind_text (stmt, 1, conversation_id);
  ssq_server_store_bind_text (stmt, 2, user_id);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    m = member_from_row (stmt);
  else if (rc != SQLITE_DONE)
    ssq_server_store_fail (store, error);
  sqlite3_reset (stmt);
  return m;
}

gboolean
ssq_server_store_member_insert (SsqServerStore  *store,
                                const char      *conversation_id,
                                const char      *user_id,
                                const char      *role,
                                gint64           joined_at,
                                GError         **error)
{
  sqlite3_stmt *stmt = ssq_server_store_stmt (store,
    "INSERT INTO members (conversation_id, user_id, role, joined_at) VALUES (?, ?, ?, ?)", error);

  if (stmt == NULL)
    return FALSE;
  ssq_server_store_bind_text (stmt, 1, conversation_id);
  ssq_server_store_bind_text (stmt, 2, user_id);
  ssq_server_store_bind_text (stmt, 3, role);
  sqlite3_bind_int64 (stmt, 4, joined_at);
  return ssq_server_store_step_done (store, stmt, error);
}

gboolean
ssq_server_store_member_delete (SsqServerStore  *store,
                                const char      *conversation_id,
                                const char      *user_id,
                                GError         **error)
{
  sqlite3_stmt *stmt = ssq_server_store_stmt (store,
    "DELETE FROM members WHERE conversation_id = ? AND user_id = ?", error);

  if (stmt == NULL)
    return FALSE;
  ssq_server_store_bind_text (stmt, 1, conversation_id);
  ssq_server_store_bind_text (stmt, 2, user_id);
  return ssq_server_store_step_done (store, stmt, error);
}

gboolean
ssq_server_store_member_set_role (SsqServerStore  *store,
                                  const char      *conversation_id,
                                  const char      *user_id,
                                  const char      *role,
                                  GError         **error)
{
  sqlite3_stmt *stmt = ssq_server_store_stmt (store,
    "UPDATE members SET role = ? WHERE conversation_id = ? AND user_id = ?", error);

  if (stmt == NULL)
    return FALSE;
  ssq_server_store_bind_text (stmt, 1, role);
  ssq_server_store_bind_text (stmt, 2, conversation_id);
  ssq_server_store_bind_text (stmt, 3, user_id);
  return ssq_server_store_step_done (store, stmt, error);
}

gboolean
ssq_server_store_member_set_muted (SsqServerStore  *store,
                                   const char      *conversation_id,
                                   const char      *user_id,
                                   gboolean         muted,
                                   GError         **error)
{
  sqlite3_stmt *stmt = ssq_server_store_stmt (store,
    "UPDATE members SET muted = ? WHERE conversation_id = ? AND user_id = ?", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int (stmt, 1, muted ? 1 : 0);
  ssq_server_store_bind_text (stmt, 2, conversation_id);
  ssq_server_store_bind_text (stmt, 3, user_id);
  return ssq_server_store_step_done (store, stmt, error);
}

/* Markers only move forward; 0 leaves one unchanged. */
gboolean
ssq_server_store_member_mark (SsqServerStore  *store,
                              const char      *conversation_id,
                              const char      *user_id,
                              gint64           delivered_seq,
                              gint64           read_seq,
                              GError         **error)
{
  /* Without the barrier (the flush of held-back marks runs this): marks
   * only move forward, so a held-back one may be written before or after. */
  sqlite3_stmt *stmt = ssq_server_store_stmt_raw (store,
    "UPDATE members SET delivered_seq = max(delivered_seq, ?1, ?2), read_seq = max(read_seq, ?2) "
    "WHERE conversation_id = ?3 AND user_id = ?4", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, delivered_seq);
  sqlite3_bind_int64 (stmt, 2, read_seq);
  ssq_server_store_bind_text (stmt, 3, conversation_id);
  ssq_server_store_bind_text (stmt, 4, user_id);
  if (!ssq_server_store_step_done (store, stmt, error))
    return FALSE;
  /* No row: not a member (any more). Writers rely on this check. */
  if (sqlite3_changes (store->base.db) == 0)
    {
      g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_NOT_FOUND, "No such conversation");
      return FALSE;
    }
  return TRUE;
}

/* Messages from others above the read marker that still have content. */
gint64
ssq_server_store_unread_count (SsqServerStore  *store,
                               const char      *conversation_id,
                               const char      *user_id,
                               gint64           read_seq,
                               GError         **error)
{
  sqlite3_stmt *stmt = ssq_server_store_stmt (store,
    "SELECT count(*) FROM messages WHERE conversation_id = ? AND seq > ? "
    "AND sender <> ? AND deleted = 0", error);
  gint64 n = 0;

  if (stmt == NULL)
    return 0;
  ssq_server_store_bind_text (stmt, 1, conversation_id);
  sqlite3_bind_int64 (stmt, 2, read_seq);
  ssq_server_store_bind_text (stmt, 3, user_id);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    n = sqlite3_column_int64 (stmt, 0);
  else
    ssq_server_store_fail (store, error);
  sqlite3_reset (stmt);
  return n;
}
