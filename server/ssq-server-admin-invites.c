/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-admin-invites.c: the administration socket's invites and
 * account creation: what lets a server whose registration is by invite or
 * closed get its first account without anyone logged in to the chat. */
#include "ssq-server-admin.h"
#include "ssq-server-invites.h"
#include "ssq-client-invites.h"

#include <sodium.h>
#include <string.h>

/* The admin wire's members are all strings (ssq-server-admin-ops.c). */
static const char *
arg (SsqAdminCall *call,
     const char   *name)
{
  JsonObject *request = ssq_admin_call_request (call);

  return json_object_has_member (request, name)
         ? json_object_get_string_member (request, name) : NULL;
}

static void
fail_literal (SsqAdminCall *call,
              SsqError      code,
              const char   *message)
{
  g_autoptr(GError) error = g_error_new_literal (SSQ_ERROR, code, message);

  ssq_admin_call_fail (call, error);
}

static void
reply_object (SsqAdminCall *call,
              JsonObject   *object)
{
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);

  json_node_take_object (node, object);
  ssq_admin_call_reply (call, node);
}

/* ---- invites -------------------------------------------------------------- */

static void
invite_made_cb (SsqServer    *server,
                JsonObject   *invite,
                const GError *error,
                gpointer      user_data)
{
  if (invite == NULL)
    ssq_admin_call_fail (user_data, error);
  else
    reply_object (user_data, invite);
}

/* {"op": "invites.create", "uses"?: "N", "expires"?: "7d"} */
void
ssq_admin_op_invites_create (SsqAdminCall *call)
{
  g_autoptr(GError) error = NULL;
  gint64 uses = SSQ_INVITE_USES_DEFAULT;
  gint64 expires_in = SSQ_INVITE_EXPIRES_DEFAULT_S;

  if ((arg (call, "uses") != NULL &&
       !g_ascii_string_to_signed (arg (call, "uses"), 10, 1, SSQ_INVITE_USES_MAX, &uses, NULL)) ||
      (arg (call, "expires") != NULL && !ssq_parse_duration (arg (call, "expires"), &expires_in,
                                                             NULL)))
    {
      fail_literal (call, SSQ_ERROR_INVALID,
                    "--uses is 1 to 1000, --expires a duration such as 90s, 15m, 12h or 7d "
                    "(at most a year)");
      return;
    }
  if (!ssq_server_invite_check_args (uses, expires_in, &error))
    {
      ssq_admin_call_fail (call, error);
      return;
    }
  ssq_server_invite_create (ssq_admin_call_server (call), NULL, uses, expires_in, NULL,
                            invite_made_cb, call);
}

void
ssq_admin_op_invites_list (SsqAdminCall *call)
{
  g_autoptr(GError) error = NULL;
  JsonArray *invites = ssq_server_store_invites_list (ssq_admin_call_server (call)->store, &error);
  JsonNode *node;

  if (invites == NULL)
    {
      ssq_admin_call_fail (call, error);
      return;
    }
  node = json_node_new (JSON_NODE_ARRAY);
  json_node_take_array (node, invites);
  ssq_admin_call_reply (call, node);
}

typedef struct {
  SsqAdminCall *call;
  char         *id;
  char         *username;
  SsqUserRow   *user;
  char         *pw_hash;
  char         *code;
  guint8        code_hash[SSQ_TOKEN_HASH_BYTES];
  gint64        code_expires;
} Job;

static void
job_free (gpointer data)
{
  Job *job = data;

  g_free (job->id);
  g_free (job->username);
  g_clear_pointer (&job->user, ssq_user_row_free);
  g_free (job->pw_hash);
  if (job->code != NULL)
    sodium_memzero (job->code, strlen (job->code));
  g_free (job->code);
  g_free (job);
}

static gboolean
revoke_op (SsqServerStore  *store,
           gpointer         data,
           GError         **error)
{
  Job *job = data;

  return ssq_server_store_invite_delete (store, job->id, error);
}

static void
revoked (gpointer      data,
         const GError *error)
{
  Job *job = data;
  JsonObject *result;

  if (error != NULL)
    {
      ssq_admin_call_fail (job->call, error);
      return;
    }
  g_message ("admin: revoked invite %s", job->id);
  result = json_object_new ();
  json_object_set_string_member (result, "id", job->id);
  json_object_set_boolean_member (result, "revoked", TRUE);
  reply_object (job->call, result);
}

void
ssq_admin_op_invites_revoke (SsqAdminCall *call)
{
  Job *job = g_new0 (Job, 1);

  job->call = call;
  job->id = g_strdup (arg (call, "id"));
  ssq_server_writer_submit (ssq_admin_call_server (call)->writer, revoke_op, revoked, job,
                            job_free);
}

/* ---- accounts --------------------------------------------------------------- */

/* Writer thread: the account, and its reset code when it has no password
 * yet. The first account of the server becomes its admin, as on
 * registration. */
static gboolean
create_op (SsqServerStore  *store,
           gpointer         data,
           GError         **error)
{
  Job *job = data;
  g_autoptr(GBytes) code = job->code ? g_bytes_new (job->code_hash, sizeof job->code_hash) : NULL;

  return ssq_server_store_user_insert (store, job->user, job->pw_hash, error) &&
         (code == NULL || ssq_server_store_user_set_reset_code (store, job->user->id, code,
                                                                job->code_expires, error));
}

static void
created (gpointer      data,
         const GError *error)
{
  Job *job = data;
  JsonObject *result;

  if (error != NULL)
    {
      ssq_admin_call_fail (job->call, error);
      return;
    }
  g_message ("admin: created user %s (%s)%s", job->user->username, job->user->id,
             job->code ? " with a reset code for its first password" : "");
  result = json_object_new ();
  json_object_set_string_member (result, "username", job->user->username);
  json_object_set_string_member (result, "id", job->user->id);
  if (job->code != NULL)
    {
      json_object_set_string_member (result, "code", job->code);
      json_object_set_int_member (result, "expires_at", job->code_expires);
    }
  reply_object (job->call, result);
}

static void
submit_create (Job *job)
{
  ssq_server_writer_submit (ssq_admin_call_server (job->call)->writer, create_op, created, job,
                            job_free);
}

static void
hashed_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  Job *job = user_data;
  g_autoptr(GError) error = NULL;

  job->pw_hash = ssq_server_auth_hash_finish (ssq_admin_call_server (job->call)->auth, result,
                                              &error);
  if (job->pw_hash == NULL)
    {
      ssq_admin_call_fail (job->call, error);
      job_free (job);
      return;
    }
  submit_create (job);
}

/* {"op": "users.create", "user", "password"?}: with a password, the
 * account is ready; without, it has none (no login works) and the answer
 * holds a one-time reset code with which the user sets the first one
 * (POST /api/v1/password-reset, supersoniq-cli reset-password). */
void
ssq_admin_op_users_create (SsqAdminCall *call)
{
  SsqServer *server = ssq_admin_call_server (call);
  g_autoptr(GError) error = NULL;
  g_autoptr(SsqUserRow) taken = NULL;
  const char *username = arg (call, "user");
  const char *password = arg (call, "password");
  Job *job;

  if (!ssq_check_username (username, &error) ||
      (password != NULL && !ssq_check_password (password, &error)))
    {
      ssq_admin_call_fail (call, error);
      return;
    }
  taken = ssq_server_store_user_by_name (server->store, username, NULL, NULL);
  if (taken != NULL)
    {
      fail_literal (call, SSQ_ERROR_USERNAME_TAKEN, "That username is taken");
      return;
    }
  job = g_new0 (Job, 1);
  job->call = call;
  job->user = g_new0 (SsqUserRow, 1);
  job->user->id = ssq_server_store_new_id ('u');
  job->user->username = g_ascii_strdown (username, -1);
  job->user->display_name = g_strdup (job->user->username);
  job->user->created_at = ssq_now_ms ();
  if (password != NULL)
    {
      ssq_server_auth_hash_async (server->auth, NULL, password, hashed_cb, job);
      return;
    }
  /* No hash matches the empty one: until the code is used, no login. */
  job->pw_hash = g_strdup ("");
  job->code = ssq_server_auth_new_reset_code ();
  ssq_server_auth_reset_code_hash (job->code, job->code_hash);
  job->code_expires = ssq_now_ms () + SSQ_RESET_CODE_VALID_MS;
  submit_create (job);
}
