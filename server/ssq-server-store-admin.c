/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-store-admin.c: what the administration reads and writes beyond
 * the chat's own statements: account flags, password reset codes, and the
 * admin's views (lists, details, counts) as JSON straight from SQL. */
#include "ssq-server-store-private.h"
#include "ssq-json.h"
#include "ssq-proto.h"

#include <string.h>

/* Columns read as true/false; every other integer stays a number. */
#define BOOL_COLUMNS "disabled server_admin reset_pending"

static JsonObject *
row_to_json (sqlite3_stmt *stmt)
{
  JsonObject *row = json_object_new ();

  for (int i = 0; i < sqlite3_column_count (stmt); i++)
    {
      const char *name = sqlite3_column_name (stmt, i);

      switch (sqlite3_column_type (stmt, i))
        {
        case SQLITE_NULL:
          json_object_set_null_member (row, name);
          break;
        case SQLITE_INTEGER:
          if (ssq_json_word_listed (BOOL_COLUMNS, name))
            json_object_set_boolean_member (row, name, sqlite3_column_int64 (stmt, i) != 0);
          else
            json_object_set_int_member (row, name, sqlite3_column_int64 (stmt, i));
          break;
        default:
          json_object_set_string_member (row, name, (const char *) sqlite3_column_text (stmt, i));
          break;
        }
    }
  return row;
}

/* Every row of @stmt (bound), one object each, named by its columns. */
static JsonArray *
rows_to_json (SsqServerStore  *store,
              sqlite3_stmt    *stmt,
              GError         **error)
{
  g_autoptr(JsonArray) rows = json_array_new ();
  int rc;

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    json_array_add_object_element (rows, row_to_json (stmt));
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      ssq_server_store_fail (store, error);
      return NULL;
    }
  return g_steal_pointer (&rows);
}

/* The one row of @stmt, or NULL with SSQ_ERROR_NOT_FOUND and @missing. */
static JsonObject *
row_or_missing (SsqServerStore  *store,
                sqlite3_stmt    *stmt,
                const char      *missing,
                GError         **error)
{
  g_autoptr(JsonArray) rows = rows_to_json (store, stmt, error);

  if (rows == NULL)
    return NULL;
  if (json_array_get_length (rows) == 0)
    {
      g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_NOT_FOUND, missing);
      return NULL;
    }
  return json_object_ref (json_array_get_object_element (rows, 0));
}

/* ---- account flags and reset codes (writer thread) --------------------- */

/* Sets or clears @user_id's disabled flag; a deleted account is no one's
 * to change. */
gboolean
ssq_server_store_user_set_disabled (SsqServerStore  *store,
                                    const char      *user_id,
                                    gboolean         disabled,
                                    GError         **error)
{
  sqlite3_stmt *stmt = ssq_server_store_stmt (store,
    "UPDATE users SET disabled = ? WHERE id = ? AND username NOT LIKE '~%'", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int (stmt, 1, disabled);
  ssq_server_store_bind_text (stmt, 2, user_id);
  return ssq_server_store_step_done (store, stmt, error);
}

gboolean
ssq_server_store_user_set_server_admin (SsqServerStore  *store,
                                        const char      *user_id,
                                        gboolean         server_admin,
                                        GError         **error)
{
  sqlite3_stmt *stmt = ssq_server_store_stmt (store,
    "UPDATE users SET server_admin = ? WHERE id = ? AND username NOT LIKE '~%'", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int (stmt, 1, server_admin);
  ssq_server_store_bind_text (stmt, 2, user_id);
  return ssq_server_store_step_done (store, stmt, error);
}

/* Keeps the hash of a new reset code (replacing any earlier one), or
 * clears it (@code_hash NULL: the code was used). */
gboolean
ssq_server_store_user_set_reset_code (SsqServerStore  *store,
                                      const char      *user_id,
                                      GBytes          *code_hash,
                                      gint64           expires_at,
                                      GError         **error)
{
  sqlite3_stmt *stmt = ssq_server_store_stmt (store,
    "UPDATE users SET reset_code_hash = ?, reset_code_expires = ? WHERE id = ?", error);
  gsize len = 0;
  const void *hash = code_hash ? g_bytes_get_data (code_hash, &len) : NULL;

  if (stmt == NULL)
    return FALSE;
  if (hash != NULL)
    {
      sqlite3_bind_blob (stmt, 1, hash, (int) len, SQLITE_TRANSIENT);
      sqlite3_bind_int64 (stmt, 2, expires_at);
    }
  else
    {
      sqlite3_bind_null (stmt, 1);
      sqlite3_bind_null (stmt, 2);
    }
  ssq_server_store_bind_text (stmt, 3, user_id);
  return ssq_server_store_step_done (store, stmt, error);
}

/**
 * ssq_server_store_user_reset_code:
 * The hash of @user_id's reset code while it is valid at @now, else NULL
 * (no error): none was issued, it expired, or it was used.
 */
GBytes *
ssq_server_store_user_reset_code (SsqServerStore  *store,
                                  const char      *user_id,
                                  gint64           now,
                                  GError         **error)
{
  sqlite3_stmt *stmt = ssq_server_store_stmt (store,
    "SELECT reset_code_hash FROM users "
    "WHERE id = ? AND reset_code_hash IS NOT NULL AND reset_code_expires > ?", error);
  GBytes *hash = NULL;
  int rc;

  if (stmt == NULL)
    return NULL;
  ssq_server_store_bind_text (stmt, 1, user_id);
  sqlite3_bind_int64 (stmt, 2, now);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    hash = g_bytes_new (sqlite3_column_blob (stmt, 0), sqlite3_column_bytes (stmt, 0));
  else if (rc != SQLITE_DONE)
    ssq_server_store_fail (store, error);
  sqlite3_reset (stmt);
  return hash;
}

/* ---- the admin's views (main loop) ------------------------------------ */

#define ADMIN_USER_COLUMNS \
  "u.id, u.username, u.display_name, u.created_at, nullif(u.last_seen, 0) AS last_seen, " \
  "u.disabled, u.server_admin, " \
  "(SELECT count(*) FROM sessions s WHERE s.user_id = u.id AND s.expires_at > ?1) AS sessions"

/* Every account but the deleted ones, by username. */
JsonArray *
ssq_server_store_admin_users (SsqServerStore  *store,
                              gint64           now,
                              GError         **error)
{
  sqlite3_stmt *stmt = ssq_server_store_stmt (store,
    "SELECT " ADMIN_USER_COLUMNS " FROM users u WHERE u.username NOT LIKE '~%' "
    "ORDER BY u.username", error);

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, now);
  return rows_to_json (store, stmt, error);
}

/* One account by name, with its conversations, the bytes of its uploads
 * and whether a reset code waits. */
JsonObject *
ssq_server_store_admin_user (SsqServerStore  *store,
                             const char      *username,
                             gint64           now,
                             GError         **error)
{
  sqlite3_stmt *stmt = ssq_server_store_stmt (store,
    "SELECT " ADMIN_USER_COLUMNS ", "
    "  (SELECT count(*) FROM members m WHERE m.user_id = u.id) AS conversations, "
    "  (SELECT coalesce(sum(size), 0) FROM media WHERE uploader = u.id) AS media_bytes, "
    "  (u.reset_code_hash IS NOT NULL AND u.reset_code_expires > ?1) AS reset_pending "
    "FROM users u WHERE u.username = lower(?2) AND u.username NOT LIKE '~%'", error);
  g_autofree char *missing = g_strdup_printf ("No such user: %s", username);

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, now);
  ssq_server_store_bind_text (stmt, 2, username);
  return row_or_missing (store, stmt, missing, error);
}

/* Columns of a conversation as the admin lists it: a direct one is named
 * by its members' usernames (a deleted account's shows as "~..."). */
#define ADMIN_CONVERSATION_COLUMNS \
  "c.id, c.kind, c.title, " \
  "(SELECT group_concat(username, ', ') FROM (SELECT u.username FROM members m " \
  "   JOIN users u ON u.id = m.user_id WHERE m.conversation_id = c.id " \
  "   ORDER BY m.joined_at LIMIT 3)) AS names, " \
  "(SELECT count(*) FROM members m WHERE m.conversation_id = c.id) AS members, " \
  "c.last_seq AS messages, c.created_at, c.updated_at AS last_activity"

JsonArray *
ssq_server_store_admin_conversations (SsqServerStore  *store,
                                      GError         **error)
{
  sqlite3_stmt *stmt = ssq_server_store_stmt (store,
    "SELECT " ADMIN_CONVERSATION_COLUMNS " FROM conversations c "
    "ORDER BY c.updated_at DESC, c.id", error);

  if (stmt == NULL)
    return NULL;
  return rows_to_json (store, stmt, error);
}

/* One conversation, with its members (username, role, markers). */
JsonObject *
ssq_server_store_admin_conversation (SsqServerStore  *store,
                                     const char      *id,
                                     GError         **error)
{
  sqlite3_stmt *stmt = ssq_server_store_stmt (store,
    "SELECT " ADMIN_CONVERSATION_COLUMNS " FROM conversations c WHERE c.id = ?", error);
  g_autofree char *missing = g_strdup_printf ("No such conversation: %s", id);
  g_autoptr(JsonObject) conv = NULL;
  JsonArray *members;

  if (stmt == NULL)
    return NULL;
  ssq_server_store_bind_text (stmt, 1, id);
  conv = row_or_missing (store, stmt, missing, error);
  if (conv == NULL)
    return NULL;
  stmt = ssq_server_store_stmt (store,
    "SELECT u.id, u.username, m.role, m.read_seq, m.joined_at FROM members m "
    "JOIN users u ON u.id = m.user_id WHERE m.conversation_id = ? ORDER BY m.joined_at", error);
  if (stmt == NULL)
    return NULL;
  ssq_server_store_bind_text (stmt, 1, id);
  members = rows_to_json (store, stmt, error);
  if (members == NULL)
    return NULL;
  json_object_set_array_member (conv, "member_list", members);
  return g_steal_pointer (&conv);
}

/* Login sessions, of one account (@user_id) or all, newest first. Each is
 * named by the first 8 bytes of its token's hash, in hex: enough to tell
 * them apart, and nothing a login can be made with. */
JsonArray *
ssq_server_store_admin_sessions (SsqServerStore  *store,
                                 const char      *user_id,
                                 gint64           now,
                                 GError         **error)
{
  sqlite3_stmt *stmt = ssq_server_store_stmt (store,
    "SELECT lower(hex(substr(s.token_hash, 1, 8))) AS id, u.id AS user_id, u.username, "
    "  s.device, s.created_at, s.expires_at FROM sessions s JOIN users u ON u.id = s.user_id "
    "WHERE s.expires_at > ?1 AND s.revoked = 0 AND (?2 IS NULL OR s.user_id = ?2) "
    "ORDER BY s.created_at DESC", error);

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, now);
  ssq_server_store_bind_text (stmt, 2, user_id);
  return rows_to_json (store, stmt, error);
}

/**
 * ssq_server_store_admin_session_find:
 * The live session whose id (see ssq_server_store_admin_sessions) is @id:
 * its user and its whole token hash. NULL with SSQ_ERROR_NOT_FOUND.
 */
SsqSessionRow *
ssq_server_store_admin_session_find (SsqServerStore  *store,
                                     const char      *id,
                                     gint64           now,
                                     GError         **error)
{
  sqlite3_stmt *stmt = ssq_server_store_stmt (store,
    "SELECT user_id, token_hash FROM sessions "
    "WHERE lower(hex(substr(token_hash, 1, 8))) = lower(?) AND expires_at > ? AND revoked = 0",
    error);
  SsqSessionRow *row = NULL;
  int rc;

  if (stmt == NULL)
    return NULL;
  ssq_server_store_bind_text (stmt, 1, id);
  sqlite3_bind_int64 (stmt, 2, now);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    {
      row = g_new0 (SsqSessionRow, 1);
      row->user_id = ssq_server_store_column_dup (stmt, 0);
      row->token_hash = g_bytes_new (sqlite3_column_blob (stmt, 1), sqlite3_column_bytes (stmt, 1));
    }
  else if (rc == SQLITE_DONE)
    g_set_error (error, SSQ_ERROR, SSQ_ERROR_NOT_FOUND, "No such session: %s", id);
  else
    ssq_server_store_fail (store, error);
  sqlite3_reset (stmt);
  return row;
}

/* Counts for the statistics: accounts, conversations, messages (their
 * seqs have no gaps: the sum of the last ones) and live logins. */
JsonObject *
ssq_server_store_admin_counts (SsqServerStore  *store,
                               gint64           now,
                               GError         **error)
{
  sqlite3_stmt *stmt = ssq_server_store_stmt (store,
    "SELECT (SELECT count(*) FROM users WHERE username NOT LIKE '~%') AS users, "
    "  (SELECT count(*) FROM users WHERE disabled = 1 AND username NOT LIKE '~%') AS users_disabled, "
    "  (SELECT count(*) FROM conversations) AS conversations, "
    "  (SELECT coalesce(sum(last_seq), 0) FROM conversations) AS messages, "
    "  (SELECT count(*) FROM sessions WHERE expires_at > ?1 AND revoked = 0) AS logins", error);

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, now);
  return row_or_missing (store, stmt, "No counts", error);
}
