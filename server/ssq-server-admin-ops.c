/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-admin-ops.c: what the administration socket can do. Reads
 * come from the main loop's connection as the REST routes' do; every
 * change goes through the writer, and the memory it touches (live logins,
 * sessions, memberships) is changed by the same code the REST routes use.
 * Every change is logged as "admin: ...", never with a code or a token. */
#include "ssq-config.h"
#include "ssq-server-admin.h"
#include "ssq-server-account.h"
#include "ssq-server-chat.h"
#include "ssq-server-hub.h"
#include "ssq-server-session.h"

#include <sodium.h>
#include <string.h>
#include <sys/stat.h>

typedef enum {
  ACT_DISABLE,
  ACT_ENABLE,
  ACT_PROMOTE,
  ACT_DEMOTE,
  ACT_RESET_CODE,
  ACT_REVOKE,
} Action;

/* A change on its way through the writer. */
typedef struct {
  SsqAdminCall *call;
  SsqServer    *server;
  Action        action;
  char         *user_id;
  char         *username;
  GBytes       *hash;        /* reset: the code's; revoke: the session's (NULL: all) */
  char         *code;        /* reset: shown once, to the admin only */
  gint64        expires_at;
} Job;

static void
job_free (gpointer data)
{
  Job *job = data;

  g_free (job->user_id);
  g_free (job->username);
  g_clear_pointer (&job->hash, g_bytes_unref);
  if (job->code != NULL)
    sodium_memzero (job->code, strlen (job->code));
  g_free (job->code);
  g_free (job);
}

static const char *
arg (SsqAdminCall *call,
     const char   *name)
{
  JsonNode *node = json_object_get_member (ssq_admin_call_request (call), name);

  return node != NULL && JSON_NODE_HOLDS_VALUE (node) &&
         json_node_get_value_type (node) == G_TYPE_STRING ? json_node_get_string (node) : NULL;
}

static void
fail (SsqAdminCall *call,
      SsqError      code,
      const char   *format,
      ...) G_GNUC_PRINTF (3, 4);

static void
fail (SsqAdminCall *call,
      SsqError      code,
      const char   *format,
      ...)
{
  g_autoptr(GError) error = NULL;
  va_list ap;

  va_start (ap, format);
  error = g_error_new_valist (SSQ_ERROR, code, format, ap);
  va_end (ap);
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

static void
reply_array (SsqAdminCall *call,
             JsonArray    *array)
{
  JsonNode *node = json_node_new (JSON_NODE_ARRAY);

  json_node_take_array (node, array);
  ssq_admin_call_reply (call, node);
}

/* The account named @username (deleted ones are no one's), or NULL with
 * the call answered. */
static SsqUserRow *
find_user (SsqAdminCall *call,
           const char   *username)
{
  SsqServer *server = ssq_admin_call_server (call);
  g_autoptr(GError) error = NULL;
  SsqUserRow *user = NULL;

  if (username != NULL && ssq_check_username (username, NULL))
    user = ssq_server_store_user_by_name (server->store, username, NULL, &error);
  if (user != NULL)
    return user;
  if (error != NULL && !g_error_matches (error, SSQ_ERROR, SSQ_ERROR_NOT_FOUND))
    ssq_admin_call_fail (call, error);
  else
    fail (call, SSQ_ERROR_NOT_FOUND, "No such user: %s", username ? username : "");
  return NULL;
}

/* Open WebSocket sessions, counted by user id, or by session id (the hex
 * of the first 8 bytes of their login's token hash) with @by_login. */
static GHashTable *
connected (SsqServer *server,
           gboolean   by_login)
{
  GHashTable *counts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GPtrArray) sessions = ssq_server_hub_sessions (server->hub);

  for (guint i = 0; i < sessions->len; i++)
    {
      SsqServerSession *session = sessions->pdata[i];
      GBytes *hash = ssq_server_session_get_token_hash (session);
      char *key = by_login ? g_malloc (17) : g_strdup (ssq_server_session_get_user_id (session));

      if (by_login)
        sodium_bin2hex (key, 17, g_bytes_get_data (hash, NULL), 8);
      g_hash_table_insert (counts, key,
                           GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (counts, key)) + 1));
    }
  return counts;
}

static void
add_connected (JsonObject *row,
               GHashTable *counts,
               const char *key_member)
{
  const char *key = json_object_get_string_member_with_default (row, key_member, "");

  json_object_set_int_member (row, "connected",
                              GPOINTER_TO_UINT (g_hash_table_lookup (counts, key)));
}

static void
add_connected_all (JsonArray  *rows,
                   GHashTable *counts,
                   const char *key_member)
{
  for (guint i = 0; i < json_array_get_length (rows); i++)
    add_connected (json_array_get_object_element (rows, i), counts, key_member);
}

/* ---- changes through the writer ---------------------------------------- */

static gboolean
job_op (SsqServerStore  *store,
        gpointer         data,
        GError         **error)
{
  Job *job = data;
  gsize len = 0;
  const guint8 *hash = job->hash ? g_bytes_get_data (job->hash, &len) : NULL;

  switch (job->action)
    {
    case ACT_DISABLE:
      /* Its logins end with it: no token of it works any more. */
      return ssq_server_store_user_set_disabled (store, job->user_id, TRUE, error) &&
             ssq_server_store_sessions_revoke_user (store, job->user_id, NULL, error);
    case ACT_ENABLE:
      return ssq_server_store_user_set_disabled (store, job->user_id, FALSE, error);
    case ACT_PROMOTE:
    case ACT_DEMOTE:
      return ssq_server_store_user_set_server_admin (store, job->user_id,
                                                     job->action == ACT_PROMOTE, error);
    case ACT_RESET_CODE:
      return ssq_server_store_user_set_reset_code (store, job->user_id, job->hash,
                                                   job->expires_at, error);
    case ACT_REVOKE:
      return hash != NULL ? ssq_server_store_session_revoke (store, hash, len, error)
                          : ssq_server_store_sessions_revoke_user (store, job->user_id, NULL,
                                                                   error);
    }
  g_assert_not_reached ();
}

/* Main loop, after the commit: sessions end as the REST routes end them
 * (ssq_server_hub_end_sessions drops the live logins too). */
static void
job_done (gpointer      data,
          const GError *error)
{
  Job *job = data;
  JsonObject *result;
  guint closed = 0;

  if (error != NULL)
    {
      ssq_admin_call_fail (job->call, error);
      return;
    }
  result = json_object_new ();
  json_object_set_string_member (result, "username", job->username);
  switch (job->action)
    {
    case ACT_DISABLE:
      closed = ssq_server_hub_end_sessions (job->server->hub, job->user_id, NULL, NULL,
                                            SSQ_CLOSE_POLICY, "Account disabled");
      if (job->server->broker != NULL)
        ssq_broker_user_gone (job->server->broker, job->user_id);   /* its AMQP connections */
      g_message ("admin: disabled user %s (%s); %u connections closed", job->username,
                 job->user_id, closed);
      break;
    case ACT_ENABLE:
      g_message ("admin: enabled user %s (%s)", job->username, job->user_id);
      break;
    case ACT_PROMOTE:
    case ACT_DEMOTE:
      g_message ("admin: %s user %s (%s)", job->action == ACT_PROMOTE ? "promoted" : "demoted",
                 job->username, job->user_id);
      break;
    case ACT_RESET_CODE:
      json_object_set_string_member (result, "code", job->code);
      json_object_set_int_member (result, "expires_at", job->expires_at);
      g_message ("admin: issued a password reset code for user %s (%s)", job->username,
                 job->user_id);
      break;
    case ACT_REVOKE:
      closed = ssq_server_hub_end_sessions (job->server->hub, job->user_id, job->hash, NULL,
                                            SSQ_CLOSE_POLICY, "Session revoked");
      g_message ("admin: revoked %s of user %s (%s); %u connections closed",
                 job->hash ? "a session" : "every session", job->username, job->user_id,
                 closed);
      break;
    }
  json_object_set_int_member (result, "connections_closed", closed);
  reply_object (job->call, result);
}

static void
submit (SsqAdminCall     *call,
        Action            action,
        const SsqUserRow *user,
        Job              *job)
{
  job->call = call;
  job->server = ssq_admin_call_server (call);
  job->action = action;
  job->user_id = g_strdup (user->id);
  job->username = g_strdup (user->username);
  ssq_server_writer_submit (job->server->writer, job_op, job_done, job, job_free);
}

static void
user_action (SsqAdminCall *call,
             Action        action)
{
  g_autoptr(SsqUserRow) user = find_user (call, arg (call, "user"));

  if (user != NULL)
    submit (call, action, user, g_new0 (Job, 1));
}

static void op_disable (SsqAdminCall *call) { user_action (call, ACT_DISABLE); }
static void op_enable (SsqAdminCall *call) { user_action (call, ACT_ENABLE); }
static void op_promote (SsqAdminCall *call) { user_action (call, ACT_PROMOTE); }
static void op_demote (SsqAdminCall *call) { user_action (call, ACT_DEMOTE); }

/* The code is shown once, in the answer; only its hash is kept. */
static void
op_reset_password (SsqAdminCall *call)
{
  g_autoptr(SsqUserRow) user = find_user (call, arg (call, "user"));
  guint8 hash[SSQ_TOKEN_HASH_BYTES];
  Job *job;

  if (user == NULL)
    return;
  job = g_new0 (Job, 1);
  job->code = ssq_server_auth_new_reset_code ();
  ssq_server_auth_reset_code_hash (job->code, hash);
  job->hash = g_bytes_new (hash, sizeof hash);
  job->expires_at = ssq_now_ms () + SSQ_RESET_CODE_VALID_MS;
  submit (call, ACT_RESET_CODE, user, job);
}

static void
deleted_cb (SsqServer    *server,
            const GError *error,
            gpointer      user_data)
{
  SsqAdminCall *call = user_data;
  JsonObject *result;

  if (error != NULL)
    {
      ssq_admin_call_fail (call, error);
      return;
    }
  result = json_object_new ();
  json_object_set_string_member (result, "username", arg (call, "user"));
  json_object_set_boolean_member (result, "deleted", TRUE);
  g_message ("admin: deleted user %s", arg (call, "user"));
  reply_object (call, result);
}

/* As DELETE /me does it: groups left, logins ended, the name freed. */
static void
op_delete (SsqAdminCall *call)
{
  g_autoptr(SsqUserRow) user = find_user (call, arg (call, "user"));

  if (user != NULL)
    ssq_server_account_delete (ssq_admin_call_server (call), user->id, deleted_cb, call, NULL);
}

/* ---- reads -------------------------------------------------------------- */

static gboolean
read_or_fail (SsqAdminCall *call,
              gpointer      value,
              GError       *error)
{
  if (value == NULL)
    ssq_admin_call_fail (call, error);
  return value != NULL;
}

static void
op_users_list (SsqAdminCall *call)
{
  SsqServer *server = ssq_admin_call_server (call);
  g_autoptr(GError) error = NULL;
  JsonArray *users = ssq_server_store_admin_users (server->store, ssq_now_ms (), &error);
  g_autoptr(GHashTable) counts = NULL;

  if (!read_or_fail (call, users, error))
    return;
  counts = connected (server, FALSE);
  add_connected_all (users, counts, "id");
  reply_array (call, users);
}

static void
op_users_show (SsqAdminCall *call)
{
  SsqServer *server = ssq_admin_call_server (call);
  g_autoptr(GError) error = NULL;
  g_autoptr(SsqUserRow) found = find_user (call, arg (call, "user"));
  JsonObject *user;
  JsonArray *sessions;
  g_autoptr(GHashTable) counts = NULL;
  g_autoptr(GHashTable) by_login = NULL;

  if (found == NULL)
    return;
  user = ssq_server_store_admin_user (server->store, found->username, ssq_now_ms (), &error);
  if (!read_or_fail (call, user, error))
    return;
  sessions = ssq_server_store_admin_sessions (server->store, found->id, ssq_now_ms (), &error);
  if (sessions == NULL)
    {
      json_object_unref (user);
      ssq_admin_call_fail (call, error);
      return;
    }
  counts = connected (server, FALSE);
  by_login = connected (server, TRUE);
  add_connected (user, counts, "id");
  add_connected_all (sessions, by_login, "id");
  json_object_set_string_member (user, "presence", ssq_server_hub_presence (server->hub, found->id));
  json_object_set_array_member (user, "session_list", sessions);
  reply_object (call, user);
}

static void
op_conversations_list (SsqAdminCall *call)
{
  SsqServer *server = ssq_admin_call_server (call);
  g_autoptr(GError) error = NULL;
  JsonArray *conversations = ssq_server_store_admin_conversations (server->store, &error);

  if (read_or_fail (call, conversations, error))
    reply_array (call, conversations);
}

static void
op_conversations_show (SsqAdminCall *call)
{
  SsqServer *server = ssq_admin_call_server (call);
  g_autoptr(GError) error = NULL;
  const char *id = arg (call, "id");
  JsonObject *conv = ssq_server_store_admin_conversation (server->store, id ? id : "", &error);

  if (read_or_fail (call, conv, error))
    reply_object (call, conv);
}

/* ---- roles -------------------------------------------------------------- */

static void
role_set_cb (SsqServer    *server,
             const char   *conversation_id,
             gboolean      created,
             const GError *error,
             gpointer      user_data)
{
  SsqAdminCall *call = user_data;
  g_autoptr(GError) local = NULL;
  JsonObject *conv;

  if (error != NULL)
    {
      ssq_admin_call_fail (call, error);
      return;
    }
  g_message ("admin: made user %s %s of conversation %s", arg (call, "user"),
             arg (call, "role") ? arg (call, "role") : "owner", conversation_id);
  conv = ssq_server_store_admin_conversation (server->store, conversation_id, &local);
  if (read_or_fail (call, conv, local))
    reply_object (call, conv);
}

static void
set_role (SsqAdminCall *call,
          const char   *role)
{
  /* Read before find_user (), whose refusal answers and frees the call. */
  const char *id = arg (call, "id");
  g_autoptr(SsqUserRow) user = find_user (call, arg (call, "user"));

  if (user == NULL)
    return;
  ssq_server_chat_set_role (ssq_admin_call_server (call), id ? id : "", user->id, role,
                            role_set_cb, call, NULL);
}

static void
op_set_role (SsqAdminCall *call)
{
  const char *role = arg (call, "role");

  if (g_strcmp0 (role, "admin") != 0 && g_strcmp0 (role, "member") != 0)
    {
      fail (call, SSQ_ERROR_INVALID, "The role is admin or member (a new owner: transfer)");
      return;
    }
  set_role (call, role);
}

static void
op_transfer (SsqAdminCall *call)
{
  set_role (call, "owner");
}

/* ---- sessions ------------------------------------------------------------ */

static void
op_sessions_list (SsqAdminCall *call)
{
  SsqServer *server = ssq_admin_call_server (call);
  g_autoptr(GError) error = NULL;
  g_autoptr(SsqUserRow) user = NULL;
  g_autoptr(GHashTable) by_login = NULL;
  JsonArray *sessions;

  if (arg (call, "user") != NULL && (user = find_user (call, arg (call, "user"))) == NULL)
    return;
  sessions = ssq_server_store_admin_sessions (server->store, user ? user->id : NULL,
                                              ssq_now_ms (), &error);
  if (!read_or_fail (call, sessions, error))
    return;
  by_login = connected (server, TRUE);
  add_connected_all (sessions, by_login, "id");
  reply_array (call, sessions);
}

/* One session by its id, or every session of "user". */
static void
op_sessions_revoke (SsqAdminCall *call)
{
  SsqServer *server = ssq_admin_call_server (call);
  const char *id = arg (call, "session");
  g_autoptr(GError) error = NULL;
  g_autoptr(SsqSessionRow) session = NULL;
  g_autoptr(SsqUserRow) user = NULL;
  Job *job;

  if ((id == NULL) == (arg (call, "user") == NULL))
    {
      fail (call, SSQ_ERROR_INVALID, "Give a session id or a user, not both");
      return;
    }
  if (id == NULL)
    {
      user_action (call, ACT_REVOKE);
      return;
    }
  session = ssq_server_store_admin_session_find (server->store, id, ssq_now_ms (), &error);
  if (!read_or_fail (call, session, error) ||
      (user = ssq_server_store_user_by_id (server->store, session->user_id, &error)) == NULL)
    {
      if (session != NULL)
        ssq_admin_call_fail (call, error);
      return;
    }
  job = g_new0 (Job, 1);
  job->hash = g_bytes_ref (session->token_hash);
  submit (call, ACT_REVOKE, user, job);
}

/* ---- statistics ---------------------------------------------------------- */

static gint64
file_size (const char *dir,
           const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  struct stat st;

  return stat (path, &st) == 0 ? (gint64) st.st_size : 0;
}

static void
op_stats (SsqAdminCall *call)
{
  SsqServer *server = ssq_admin_call_server (call);
  const char *dir = server->config->data_dir;
  g_autoptr(GError) error = NULL;
  JsonObject *stats = ssq_server_store_admin_counts (server->store, ssq_now_ms (), &error);

  if (!read_or_fail (call, stats, error))
    return;
  json_object_set_int_member (stats, "media_bytes", ssq_server_media_bytes_stored (server->media));
  json_object_set_int_member (stats, "connected_sessions", ssq_server_hub_n_sessions (server->hub));
  json_object_set_int_member (stats, "users_online", ssq_server_hub_users_online (server->hub));
  json_object_set_int_member (stats, "db_bytes", file_size (dir, "supersoniq.db") +
                                                 file_size (dir, "supersoniq.db-wal"));
  json_object_set_int_member (stats, "uptime_s", ssq_server_admin_uptime_s (server->admin));
  json_object_set_string_member (stats, "version", SSQ_VERSION);
  reply_object (call, stats);
}

/* ---- the table ------------------------------------------------------------ */

typedef struct {
  const char *name;
  const char *fields;    /* the request's members besides "op" */
  const char *required;
  void      (*run) (SsqAdminCall *call);
} Op;

static const Op ops[] = {
  { "users.list",             "",              "",              op_users_list },
  { "users.create",           "user password", "user",          ssq_admin_op_users_create },
  { "invites.create",         "uses expires",  "",              ssq_admin_op_invites_create },
  { "invites.list",           "",              "",              ssq_admin_op_invites_list },
  { "invites.revoke",         "id",            "id",            ssq_admin_op_invites_revoke },
  { "users.show",             "user",          "user",          op_users_show },
  { "users.disable",          "user",          "user",          op_disable },
  { "users.enable",           "user",          "user",          op_enable },
  { "users.delete",           "user",          "user",          op_delete },
  { "users.reset-password",   "user",          "user",          op_reset_password },
  { "users.promote",          "user",          "user",          op_promote },
  { "users.demote",           "user",          "user",          op_demote },
  { "conversations.list",     "",              "",              op_conversations_list },
  { "conversations.show",     "id",            "id",            op_conversations_show },
  { "conversations.set-role", "id user role",  "id user role",  op_set_role },
  { "conversations.transfer", "id user",       "id user",       op_transfer },
  { "sessions.list",          "user",          "",              op_sessions_list },
  { "sessions.revoke",        "session user",  "",              op_sessions_revoke },
  { "stats",                  "",              "",              op_stats },
};

/* Shape first: the op is known, its members are the op's and strings, the
 * required ones are there. */
static const Op *
check_request (SsqAdminCall  *call,
               GError       **error)
{
  JsonObject *request = ssq_admin_call_request (call);
  const char *name = arg (call, "op");
  g_autofree char *allowed = NULL;
  g_auto(GStrv) required = NULL;
  const Op *op = NULL;

  for (guint i = 0; name != NULL && i < G_N_ELEMENTS (ops) && op == NULL; i++)
    if (g_str_equal (ops[i].name, name))
      op = &ops[i];
  if (op == NULL)
    {
      g_set_error (error, SSQ_ERROR, SSQ_ERROR_INVALID, "Unknown or missing \"op\"");
      return NULL;
    }
  allowed = g_strconcat ("op ", op->fields, NULL);
  if (!ssq_json_check_members (request, allowed, error))
    return NULL;
  required = g_strsplit (op->required, " ", -1);
  for (guint i = 0; required[i] != NULL; i++)
    if (*required[i] != '\0' && arg (call, required[i]) == NULL)
      {
        g_set_error (error, SSQ_ERROR, SSQ_ERROR_INVALID, "\"%s\" needs the string \"%s\"",
                     op->name, required[i]);
        return NULL;
      }
  {
    g_autoptr(GList) members = json_object_get_members (request);

    for (GList *l = members; l != NULL; l = l->next)
      if (arg (call, l->data) == NULL)
        {
          g_set_error (error, SSQ_ERROR, SSQ_ERROR_INVALID, "\"%s\" must be a string",
                       (const char *) l->data);
          return NULL;
        }
  }
  return op;
}

void
ssq_server_admin_dispatch (SsqAdminCall *call)
{
  g_autoptr(GError) error = NULL;
  const Op *op = check_request (call, &error);

  if (op == NULL)
    {
      ssq_admin_call_fail (call, error);
      return;
    }
  op->run (call);
}
