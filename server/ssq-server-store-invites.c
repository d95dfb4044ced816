/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-store-invites.c: invites, kept as the hash of their token.
 * A use is taken by one UPDATE on the writer's connection, in the same
 * transaction as the account it lets in: two registrations racing for the
 * last use are serialized there, and one of them finds none left. */
#include "ssq-server-store-private.h"
#include "ssq-server-auth.h"
#include "ssq-proto.h"

G_STATIC_ASSERT (sizeof ((SsqInviteRow *) NULL)->token_hash == SSQ_TOKEN_HASH_BYTES);

void
ssq_invite_row_free (SsqInviteRow *row)
{
  if (row == NULL)
    return;
  g_free (row->id);
  g_free (row->created_by);
  g_free (row);
}

gboolean
ssq_server_store_invite_insert (SsqServerStore     *store,
                                const SsqInviteRow *invite,
                                GError            **error)
{
  sqlite3_stmt *stmt = ssq_server_store_stmt (store,
    "INSERT INTO invites (id, token_hash, created_by, created_at, expires_at, uses_left) "
    "VALUES (?, ?, ?, ?, ?, ?)", error);

  if (stmt == NULL)
    return FALSE;
  ssq_server_store_bind_text (stmt, 1, invite->id);
  sqlite3_bind_blob (stmt, 2, invite->token_hash, sizeof invite->token_hash, SQLITE_TRANSIENT);
  ssq_server_store_bind_text (stmt, 3, invite->created_by);
  sqlite3_bind_int64 (stmt, 4, invite->created_at);
  sqlite3_bind_int64 (stmt, 5, invite->expires_at);
  sqlite3_bind_int64 (stmt, 6, invite->uses_left);
  return ssq_server_store_step_done (store, stmt, error);
}

/* Why the invite of @token_hash takes no registration at @now; FALSE with
 * the precise error, TRUE when it does. */
gboolean
ssq_server_store_invite_check (SsqServerStore  *store,
                               const guint8    *token_hash,
                               gint64           now,
                               GError         **error)
{
  sqlite3_stmt *stmt = ssq_server_store_stmt (store,
    "SELECT expires_at, uses_left FROM invites WHERE token_hash = ?", error);
  gint64 expires_at = 0, uses_left = 0;
  int rc;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_blob (stmt, 1, token_hash, SSQ_TOKEN_HASH_BYTES, SQLITE_TRANSIENT);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    {
      expires_at = sqlite3_column_int64 (stmt, 0);
      uses_left = sqlite3_column_int64 (stmt, 1);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return ssq_server_store_fail (store, error);
  if (rc == SQLITE_DONE)
    g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_INVITE_INVALID,
                         "This invite is not valid: it was revoked, or the link is mistyped");
  else if (expires_at <= now)
    g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_INVITE_EXPIRED, "This invite has expired");
  else if (uses_left <= 0)
    g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_INVITE_USED_UP,
                         "This invite has been used as often as it allowed");
  else
    return TRUE;
  return FALSE;
}

/* Writer thread: takes one use of the invite, or fails saying why. */
gboolean
ssq_server_store_invite_use (SsqServerStore  *store,
                             const guint8    *token_hash,
                             gint64           now,
                             GError         **error)
{
  sqlite3_stmt *stmt = ssq_server_store_stmt (store,
    "UPDATE invites SET uses_left = uses_left - 1, uses = uses + 1 "
    "WHERE token_hash = ? AND uses_left > 0 AND expires_at > ?", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_blob (stmt, 1, token_hash, SSQ_TOKEN_HASH_BYTES, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 2, now);
  if (!ssq_server_store_step_done (store, stmt, error))
    return FALSE;
  if (sqlite3_changes (store->base.db) == 1)
    return TRUE;
  /* None taken: the check says why, and cannot pass now. */
  if (ssq_server_store_invite_check (store, token_hash, now, error))
    g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_INTERNAL, "The invite could not be used");
  return FALSE;
}

gboolean
ssq_server_store_invite_delete (SsqServerStore  *store,
                                const char      *id,
                                GError         **error)
{
  sqlite3_stmt *stmt = ssq_server_store_stmt (store, "DELETE FROM invites WHERE id = ?", error);

  if (stmt == NULL)
    return FALSE;
  ssq_server_store_bind_text (stmt, 1, id);
  if (!ssq_server_store_step_done (store, stmt, error))
    return FALSE;
  if (sqlite3_changes (store->base.db) == 0)
    {
      g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_NOT_FOUND, "No such invite");
      return FALSE;
    }
  return TRUE;
}

/* The wire's invite object, without token and link (the server has only
 * the hash). A deleted account's name is no one's: null. */
#define INVITE_COLUMNS \
  "i.id, i.created_at, i.expires_at, i.uses_left, i.uses, " \
  "CASE WHEN u.username LIKE '~%' THEN NULL ELSE u.username END"
#define INVITE_FROM "FROM invites i LEFT JOIN users u ON u.id = i.created_by "

static JsonObject *
invite_from_row (sqlite3_stmt *stmt)
{
  JsonObject *o = json_object_new ();
  const char *by = (const char *) sqlite3_column_text (stmt, 5);

  json_object_set_string_member (o, "id", (const char *) sqlite3_column_text (stmt, 0));
  json_object_set_int_member (o, "created_at", sqlite3_column_int64 (stmt, 1));
  json_object_set_int_member (o, "expires_at", sqlite3_column_int64 (stmt, 2));
  json_object_set_int_member (o, "uses_left", sqlite3_column_int64 (stmt, 3));
  json_object_set_int_member (o, "uses", sqlite3_column_int64 (stmt, 4));
  if (by != NULL)
    json_object_set_string_member (o, "created_by", by);
  else
    json_object_set_null_member (o, "created_by");
  return o;
}

JsonObject *
ssq_server_store_invite_get (SsqServerStore  *store,
                             const char      *id,
                             GError         **error)
{
  sqlite3_stmt *stmt = ssq_server_store_stmt (store,
    "SELECT " INVITE_COLUMNS " " INVITE_FROM "WHERE i.id = ?", error);
  JsonObject *o = NULL;
  int rc;

  if (stmt == NULL)
    return NULL;
  ssq_server_store_bind_text (stmt, 1, id);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    o = invite_from_row (stmt);
  else if (rc == SQLITE_DONE)
    g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_NOT_FOUND, "No such invite");
  else
    ssq_server_store_fail (store, error);
  sqlite3_reset (stmt);
  return o;
}

/* Every invite, spent and expired ones too, newest first. */
JsonArray *
ssq_server_store_invites_list (SsqServerStore  *store,
                               GError         **error)
{
  sqlite3_stmt *stmt = ssq_server_store_stmt (store,
    "SELECT " INVITE_COLUMNS " " INVITE_FROM "ORDER BY i.created_at DESC, i.id", error);
  g_autoptr(JsonArray) array = json_array_new ();
  int rc;

  if (stmt == NULL)
    return NULL;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    json_array_add_object_element (array, invite_from_row (stmt));
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      ssq_server_store_fail (store, error);
      return NULL;
    }
  return g_steal_pointer (&array);
}
