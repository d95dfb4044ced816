/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-store-users.c: accounts and login sessions. */
#include "ssq-server-store-private.h"
#include "ssq-proto.h"

#include <string.h>

static SsqUserRow *
user_from_row (sqlite3_stmt *stmt)
{
  SsqUserRow *u = g_new0 (SsqUserRow, 1);

  u->id = ssq_server_store_column_dup (stmt, 0);
  u->username = ssq_server_store_column_dup (stmt, 1);
  u->display_name = ssq_server_store_column_dup (stmt, 2);
  u->created_at = sqlite3_column_int64 (stmt, 3);
  u->last_seen = sqlite3_column_int64 (stmt, 4);
  u->disabled = sqlite3_column_int (stmt, 5) != 0;
  u->server_admin = sqlite3_column_int (stmt, 6) != 0;
  return u;
}

#define USER_COLUMNS "id, username, display_name, created_at, last_seen, disabled, server_admin"
#define USER_PW_HASH_COLUMN 7

gboolean
ssq_server_store_user_insert (SsqServerStore    *store,
                              const SsqUserRow  *user,
                              const char        *pw_hash,
                              GError           **error)
{
  /* The first account is the server's admin: whoever set the server up. */
  sqlite3_stmt *stmt = ssq_server_store_stmt (store,
    "INSERT INTO users (id, username, display_name, pw_hash, created_at, last_seen, "
    "  server_admin) "
    "VALUES (?, ?, ?, ?, ?, 0, NOT EXISTS (SELECT 1 FROM users WHERE username NOT LIKE '~%'))",
    error);
  int rc;

  if (stmt == NULL)
    return FALSE;
  ssq_server_store_bind_text (stmt, 1, user->id);
  ssq_server_store_bind_text (stmt, 2, user->username);
  ssq_server_store_bind_text (stmt, 3, user->display_name);
  ssq_server_store_bind_text (stmt, 4, pw_hash);
  sqlite3_bind_int64 (stmt, 5, user->created_at);
  rc = sqlite3_step (stmt);
  sqlite3_reset (stmt);
  if (rc == SQLITE_CONSTRAINT_UNIQUE)
    {
      g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_USERNAME_TAKEN, "That username is taken");
      return FALSE;
    }
  if (rc != SQLITE_DONE)
    return ssq_server_store_fail (store, error);
  return TRUE;
}

static SsqUserRow *
user_query (SsqServerStore  *store,
            sqlite3_stmt    *stmt,
            char           **out_pw_hash,
            GError         **error)
{
  SsqUserRow *u = NULL;
  int rc = sqlite3_step (stmt);

  if (rc == SQLITE_ROW)
    {
      u = user_from_row (stmt);
      if (out_pw_hash != NULL)
        *out_pw_hash = ssq_server_store_column_dup (stmt, USER_PW_HASH_COLUMN);
    }
  else if (rc == SQLITE_DONE)
    g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_NOT_FOUND, "No such user");
  else
    ssq_server_store_fail (store, error);
  sqlite3_reset (stmt);
  return u;
}

SsqUserRow *
ssq_server_store_user_by_id (SsqServerStore  *store,
                             const char      *id,
                             GError         **error)
{
  sqlite3_stmt *stmt = ssq_server_store_stmt (store,
    "SELECT " USER_COLUMNS " FROM users WHERE id = ?", error);

  if (stmt == NULL)
    return NULL;
  ssq_server_store_bind_text (stmt, 1, id);
  return user_query (store, stmt, NULL, error);
}

/* The password hash of @id, for a password change or an account deletion. */
char *
ssq_server_store_user_pw_hash (SsqServerStore  *store,
                               const char      *id,
                               GError         **error)
{
  sqlite3_stmt *stmt = ssq_server_store_stmt (store,
    "SELECT " USER_COLUMNS ", pw_hash FROM users WHERE id = ?", error);
  g_autoptr(SsqUserRow) user = NULL;
  char *pw_hash = NULL;

  if (stmt == NULL)
    return NULL;
  ssq_server_store_bind_text (stmt, 1, id);
  user = user_query (store, stmt, &pw_hash, error);
  return pw_hash;
}

/* A deleted account keeps its row: messages and direct conversations point
 * at it. Its username becomes "~" and its id, outside the username alphabet,
 * so that the name is free again and no login or search finds the row; no
 * password hash matches the empty one; its display name is erased. */
gboolean
ssq_user_row_is_deleted (const SsqUserRow *user)
{
  return user->username != NULL && user->username[0] == SSQ_DELETED_USERNAME_MARK;
}

gboolean
ssq_server_store_user_delete (SsqServerStore  *store,
                              const char      *user_id,
                              GError         **error)
{
  sqlite3_stmt *stmt = ssq_server_store_stmt (store,
    "UPDATE users SET username = '~' || id, display_name = '', pw_hash = '', server_admin = 0, "
    "  reset_code_hash = NULL, reset_code_expires = NULL WHERE id = ?", error);

  if (stmt == NULL)
    return FALSE;
  ssq_server_store_bind_text (stmt, 1, user_id);
  return ssq_server_store_step_done (store, stmt, error) &&
         ssq_server_store_sessions_revoke_user (store, user_id, NULL, error);
}

SsqUserRow *
ssq_server_store_user_by_name (SsqServerStore  *store,
                               const char      *username,
                               char           **out_pw_hash,
                               GError         **error)
{
  sqlite3_stmt *stmt = ssq_server_store_stmt (store,
    "SELECT " USER_COLUMNS ", pw_hash FROM users WHERE username = lower(?)", error);

  if (stmt == NULL)
    return NULL;
  ssq_server_store_bind_text (stmt, 1, username);
  return user_query (store, stmt, out_pw_hash, error);
}

gboolean
ssq_server_store_user_update (SsqServerStore    *store,
                              const SsqUserRow  *user,
                              GError           **error)
{
  sqlite3_stmt *stmt = ssq_server_store_stmt (store,
    "UPDATE users SET display_name = ?, last_seen = ? WHERE id = ?", error);

  if (stmt == NULL)
    return FALSE;
  ssq_server_store_bind_text (stmt, 1, user->display_name);
  sqlite3_bind_int64 (stmt, 2, user->last_seen);
  ssq_server_store_bind_text (stmt, 3, user->id);
  return ssq_server_store_step_done (store, stmt, error);
}

gboolean
ssq_server_store_user_set_pw_hash (SsqServerStore  *store,
                                   const char      *user_id,
                                   const char      *pw_hash,
                                   GError         **error)
{
  sqlite3_stmt *stmt = ssq_server_store_stmt (store,
    "UPDATE users SET pw_hash = ? WHERE id = ?", error);

  if (stmt == NULL)
    return FALSE;
  ssq_server_store_bind_text (stmt, 1, pw_hash);
  ssq_server_store_bind_text (stmt, 2, user_id);
  return ssq_server_store_step_done (store, stmt, error);
}

/* Usernames starting with @prefix, through a range on the unique index (so
 * no LIKE wildcards). Usernames are [a-z0-9_.-]: '{' sorts after them all,
 * and before the '~' of deleted accounts. */
GPtrArray *
ssq_server_store_users_search (SsqServerStore  *store,
                               const char      *prefix,
                               guint            limit,
                               GError         **error)
{
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify) ssq_user_row_free);
  g_autofree char *low = g_ascii_strdown (prefix ? prefix : "", -1);
  g_autofree char *high = g_strconcat (low, "{", NULL);
  sqlite3_stmt *stmt = ssq_server_store_stmt (store,
    "SELECT " USER_COLUMNS " FROM users WHERE username >= ? AND username < ? "
    "ORDER BY username LIMIT ?", error);
  int rc;

  if (stmt == NULL)
    return NULL;
  ssq_server_store_bind_text (stmt, 1, low);
  ssq_server_store_bind_text (stmt, 2, high);
  sqlite3_bind_int (stmt, 3, (int) limit);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (out, user_from_row (stmt));
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      ssq_server_store_fail (store, error);
      return NULL;
    }
  return g_steal_pointer (&out);
}

gboolean
ssq_server_store_session_insert (SsqServerStore  *store,
                                 const guint8    *token_hash,
                                 gsize            hash_len,
                                 const char      *user_id,
                                 const char      *device,
                                 gint64           now,
                                 gint64           expires_at,
                                 GError         **error)
{
  sqlite3_stmt *stmt = ssq_server_store_stmt (store,
    "INSERT INTO sessions (token_hash, user_id, device, created_at, expires_at) "
    "VALUES (?, ?, ?, ?, ?)", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_blob (stmt, 1, token_hash, (int) hash_len, SQLITE_TRANSIENT);
  ssq_server_store_bind_text (stmt, 2, user_id);
  ssq_server_store_bind_text (stmt, 3, device);
  sqlite3_bind_int64 (stmt, 4, now);
  sqlite3_bind_int64 (stmt, 5, expires_at);
  return ssq_server_store_step_done (store, stmt, error);
}

/* Returns the user id of a live session, or NULL (no error) when the token is
 * unknown, revoked or expired; @out_expires_at (may be NULL) gets its
 * expiry. */
char *
ssq_server_store_session_user (SsqServerStore  *store,
                               const guint8    *token_hash,
                               gsize            hash_len,
                               gint64           now,
                               gint64          *out_expires_at,
                               GError         **error)
{
  sqlite3_stmt *stmt = ssq_server_store_stmt (store,
    "SELECT user_id, expires_at FROM sessions "
    "WHERE token_hash = ? AND revoked = 0 AND expires_at > ?",
    error);
  char *user_id = NULL;
  int rc;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_blob (stmt, 1, token_hash, (int) hash_len, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 2, now);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    {
      user_id = ssq_server_store_column_dup (stmt, 0);
      if (out_expires_at != NULL)
        *out_expires_at = sqlite3_column_int64 (stmt, 1);
    }
  else if (rc != SQLITE_DONE)
    ssq_server_store_fail (store, error);
  sqlite3_reset (stmt);
  return user_id;
}

/* Ends one session (logout). The row goes at once: a revoked row would only
 * wait for the purge. */
gboolean
ssq_server_store_session_revoke (SsqServerStore  *store,
                                 const guint8    *token_hash,
                                 gsize            hash_len,
                                 GError         **error)
{
  sqlite3_stmt *stmt = ssq_server_store_stmt (store,
    "DELETE FROM sessions WHERE token_hash = ?", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_blob (stmt, 1, token_hash, (int) hash_len, SQLITE_TRANSIENT);
  return ssq_server_store_step_done (store, stmt, error);
}

/* Ends every session of @user_id except the one of @except_hash (NULL: all
 * of them): a password change or an account deletion. */
gboolean
ssq_server_store_sessions_revoke_user (SsqServerStore  *store,
                                       const char      *user_id,
                                       GBytes          *except_hash,
                                       GError         **error)
{
  sqlite3_stmt *stmt = ssq_server_store_stmt (store,
    "DELETE FROM sessions WHERE user_id = ? AND token_hash IS NOT ?", error);
  gsize len = 0;
  const void *hash = except_hash ? g_bytes_get_data (except_hash, &len) : NULL;

  if (stmt == NULL)
    return FALSE;
  ssq_server_store_bind_text (stmt, 1, user_id);
  if (hash != NULL)
    sqlite3_bind_blob (stmt, 2, hash, (int) len, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null (stmt, 2);
  return ssq_server_store_step_done (store, stmt, error);
}

void
ssq_session_row_free (SsqSessionRow *row)
{
  if (row == NULL)
    return;
  g_free (row->user_id);
  g_clear_pointer (&row->token_hash, g_bytes_unref);
  g_free (row);
}

/**
 * ssq_server_store_sessions_purge:
 * Deletes the sessions expired at @now, and the revoked rows that older
 * versions kept.
 * Returns: (transfer full): the sessions deleted (#SsqSessionRow), or %NULL
 */
GPtrArray *
ssq_server_store_sessions_purge (SsqServerStore  *store,
                                 gint64           now,
                                 GError         **error)
{
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify) ssq_session_row_free);
  sqlite3_stmt *stmt = ssq_server_store_stmt (store,
    "DELETE FROM sessions WHERE expires_at <= ? OR revoked = 1 RETURNING user_id, token_hash",
    error);
  int rc;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, now);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      SsqSessionRow *row = g_new0 (SsqSessionRow, 1);

      row->user_id = ssq_server_store_column_dup (stmt, 0);
      row->token_hash = g_bytes_new (sqlite3_column_blob (stmt, 1), sqlite3_column_bytes (stmt, 1));
      g_ptr_array_add (out, row);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      ssq_server_store_fail (store, error);
      return NULL;
    }
  return g_steal_pointer (&out);
}
