/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-api-account.c: register, login, logout, me and user search. */
#include "ssq-server-http.h"
#include "ssq-server-account.h"
#include "ssq-server-chat.h"
#include "ssq-server-hub.h"
#include "ssq-invite-link.h"

#include <sodium.h>
#include <string.h>

/* Registrations per client address (IPv6 by /64): each costs a hash and
 * makes an account. */
static gboolean
check_register_rate (SsqRequest  *request,
                     GError     **error)
{
  g_autofree char *key = ssq_server_throttle_address_key (ssq_request_peer (request));
  gint64 retry;

  if (!ssq_server_ratelimit_take (request->server->rl_registrations, key, 1, ssq_now_ms (),
                                  &retry))
    {
      ssq_set_rate_limited (error, retry);
      return FALSE;
    }
  return TRUE;
}

/* Logins are throttled per (account, address) pair, so that a guesser
 * locks out only itself, and per account over all addresses, more slowly,
 * for a guesser spread over many. The account's backoff does not apply to
 * an address that has not failed on that account since its last success:
 * the owner's right password from elsewhere always gets through. Every
 * attempt counts as a failure from the start (attempts in flight at once
 * cannot slip past) and is taken back when the password was right. */
typedef struct {
  char *pair;
  char *account;
} LoginKeys;

static void
login_keys_init (LoginKeys  *keys,
                 SsqRequest *request,
                 const char *username)
{
  g_autofree char *address = ssq_server_throttle_address_key (ssq_request_peer (request));

  /* Names that cannot exist share one record; real ones are case-folded. */
  keys->account = ssq_check_username (username, NULL) ? g_ascii_strdown (username, -1)
                                                      : g_strdup ("");
  keys->pair = g_strconcat (keys->account, "\n", address, NULL);
}

static void
login_keys_clear (LoginKeys *keys)
{
  g_clear_pointer (&keys->pair, g_free);
  g_clear_pointer (&keys->account, g_free);
}

static gboolean
login_throttle_begin (SsqServer        *server,
                      const LoginKeys  *keys,
                      GError          **error)
{
  gint64 now = ssq_now_ms ();
  gint64 retry;

  if (!ssq_server_throttle_check (server->login_pairs, keys->pair, now, &retry) ||
      (ssq_server_throttle_failures (server->login_pairs, keys->pair) > 0 &&
       !ssq_server_throttle_check (server->login_accounts, keys->account, now, &retry)))
    {
      ssq_set_rate_limited (error, retry);
      return FALSE;
    }
  ssq_server_throttle_fail (server->login_pairs, keys->pair, now);
  ssq_server_throttle_fail (server->login_accounts, keys->account, now);
  return TRUE;
}

static void
login_throttle_succeeded (SsqServer       *server,
                          const LoginKeys *keys)
{
  ssq_server_throttle_forget (server->login_pairs, keys->pair);
  ssq_server_throttle_unfail (server->login_accounts, keys->account);
}

typedef struct {
  SsqRequest *request;
  char       *username;
  char       *display_name;
  char       *device;
  char       *pw_hash;    /* login: the hash the password was checked against */
  char       *old_hash;   /* rehash: that hash, while pw_hash is the new one */
  char       *password;   /* login only: kept for a rehash after success */
  SsqUserRow *user;
  LoginKeys   keys;       /* login and password checks */
  char       *token;      /* of the session being made */
  guint8      token_hash[SSQ_TOKEN_HASH_BYTES];
  gint64      now;
  gboolean    registering;
  gboolean    resetting;  /* a reset code sets the password (pw_hash) */
  guint8      code_hash[SSQ_TOKEN_HASH_BYTES];
  gboolean    needs_rehash;
  SsqServer  *user_server; /* the server, also once the request is answered */
  gboolean    invited;    /* registering with an invite: one use is taken */
  guint8      invite_hash[SSQ_TOKEN_HASH_BYTES];
} AccountJob;

static void
account_job_free (AccountJob *job)
{
  if (job->request != NULL)
    ssq_request_free (job->request);
  g_free (job->username);
  g_free (job->display_name);
  g_free (job->device);
  g_free (job->pw_hash);
  g_free (job->old_hash);
  if (job->password != NULL)
    sodium_memzero (job->password, strlen (job->password));
  g_free (job->password);
  if (job->token != NULL)
    sodium_memzero (job->token, strlen (job->token));
  g_free (job->token);
  g_clear_pointer (&job->user, ssq_user_row_free);
  login_keys_clear (&job->keys);
  g_free (job);
}

/* Writer thread: whether the account's password hash is still @checked.
 * A check reads the committed hash on the main loop; a password change or
 * an account deletion (which blanks the hash) may commit before the write
 * that relies on it. */
static gboolean
password_still (SsqServerStore *store,
                const char     *user_id,
                const char     *checked)
{
  g_autofree char *current = ssq_server_store_user_pw_hash (store, user_id, NULL);

  return current != NULL && checked != NULL && g_str_equal (current, checked);
}

static void
set_account_disabled (GError **error)
{
  g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_ACCOUNT_DISABLED,
                       "This account is disabled by the server's administrator");
}

/* Writer thread: a login, or a reset code's use, as the account is in
 * commit order: disabled (or the code used) since the main loop looked,
 * it makes no session. */
static gboolean
account_still_open (SsqServerStore  *store,
                    AccountJob      *job,
                    GError         **error)
{
  g_autoptr(SsqUserRow) user = ssq_server_store_user_by_id (store, job->user->id, NULL);
  g_autoptr(GBytes) code = NULL;

  if (user == NULL || ssq_user_row_is_deleted (user) ||
      (!job->resetting && !password_still (store, job->user->id, job->pw_hash)))
    {
      g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_UNAUTHORIZED,
                           "Wrong username or password");
      return FALSE;
    }
  if (user->disabled)
    {
      set_account_disabled (error);
      return FALSE;
    }
  if (!job->resetting)
    return TRUE;
  code = ssq_server_store_user_reset_code (store, job->user->id, job->now, error);
  if (code == NULL || g_bytes_get_size (code) != sizeof job->code_hash ||
      sodium_memcmp (g_bytes_get_data (code, NULL), job->code_hash, sizeof job->code_hash) != 0)
    {
      g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_FORBIDDEN, "Wrong or expired reset code");
      return FALSE;
    }
  /* Used once: the code goes, the new password replaces the old one and
   * every login of the account ends (the new session is made below). */
  return ssq_server_store_user_set_reset_code (store, job->user->id, NULL, 0, error) &&
         ssq_server_store_user_set_pw_hash (store, job->user->id, job->pw_hash, error) &&
         ssq_server_store_sessions_revoke_user (store, job->user->id, NULL, error);
}

/* Writer thread: the new account (when registering) and its session, in
 * one transaction. A login's session is made only if the password it was
 * checked against is still the account's: else a login that crossed a
 * password change or the account's deletion would outlive it. */
static gboolean
session_op (SsqServerStore  *store,
            gpointer         data,
            GError         **error)
{
  AccountJob *job = data;
  SsqServer *server = job->request->server;

  if (!job->registering && !account_still_open (store, job, error))
    return FALSE;
  /* The invite's use and the account commit together or not at all. */
  if (job->invited && !ssq_server_store_invite_use (store, job->invite_hash, job->now, error))
    return FALSE;
  return (!job->registering ||
          ssq_server_store_user_insert (store, job->user, job->pw_hash, error)) &&
         ssq_server_store_session_insert (store, job->token_hash, sizeof job->token_hash,
                                          job->user->id, job->device, job->now,
                                          job->now + (gint64) server->config->session_days *
                                                     86400000,
                                          error);
}

static void rehash (AccountJob *job);

/* Main loop, after the commit: the answer {"user", "token"}. */
static void
session_done (gpointer      data,
              const GError *error)
{
  AccountJob *job = data;
  SsqRequest *request = job->request;
  g_autoptr(JsonObject) user_object = NULL;
  g_autoptr(JsonObject) body = NULL;

  if (error != NULL)
    {
      ssq_request_reply_error (request, error);
      account_job_free (job);
      return;
    }
  if (job->registering)
    g_message ("Registered user %s%s", job->user->id, job->invited ? " with an invite" : "");
  if (job->resetting)
    {
      g_autoptr(GBytes) current = g_bytes_new (job->token_hash, sizeof job->token_hash);

      /* Whoever knew the old password is out, on WebSocket too. */
      ssq_server_hub_end_sessions (request->server->hub, job->user->id, NULL, current,
                                   SSQ_CLOSE_POLICY, "Password reset");
      g_message ("Password of user %s set with a reset code", job->user->id);
    }
  user_object = ssq_server_json_user (request->server, job->user);
  body = ssq_wire_session_encode (&(SsqWireSession) { user_object, job->token });
  ssq_request_reply (request, job->registering ? SSQ_HTTP_CREATED : SSQ_HTTP_OK, body);
  if (job->needs_rehash)
    {
      /* The cost settings went up since this hash was made: upgrade it now
       * that the password is at hand. The reply goes out now. */
      ssq_request_free (g_steal_pointer (&job->request));
      rehash (job);
      return;
    }
  account_job_free (job);
}

/* Creates a session for job->user (and the account itself when
 * registering) through the writer; the answer goes out after the commit.
 * Takes @job. */
static void
submit_session (AccountJob *job)
{
  job->user_server = job->request->server;
  job->token = ssq_server_auth_new_token ();
  ssq_server_auth_token_hash (job->token, job->token_hash);
  job->now = ssq_now_ms ();
  ssq_server_writer_submit (job->request->server->writer, session_op, session_done, job, NULL);
}

static void
register_hashed_cb (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  AccountJob *job = user_data;
  SsqRequest *request = job->request;
  SsqServer *server = request->server;
  g_autoptr(GError) error = NULL;
  g_autofree char *pw_hash = ssq_server_auth_hash_finish (server->auth, result, &error);
  SsqUserRow *user;

  if (pw_hash == NULL)
    {
      ssq_request_reply_error (request, error);
      account_job_free (job);
      return;
    }
  user = job->user = g_new0 (SsqUserRow, 1);
  user->id = ssq_server_store_new_id ('u');
  user->username = g_ascii_strdown (job->username, -1);
  user->display_name = g_strdup (job->display_name ? job->display_name : user->username);
  user->created_at = ssq_now_ms ();
  /* The account and its first session, in one commit: the unique index
   * decides a race for the name. */
  job->pw_hash = g_steal_pointer (&pw_hash);
  job->registering = TRUE;
  submit_session (job);
}

/* In invite mode: the invite's hash, once it is known to take a
 * registration now (the writer takes the use, and has the last word). In
 * open mode an invite is not looked at. */
static gboolean
check_invite (SsqRequest  *request,
              const char  *invite,
              guint8       out_hash[SSQ_TOKEN_HASH_BYTES],
              gboolean    *out_invited,
              GError     **error)
{
  *out_invited = FALSE;
  if (request->server->config->registration != SSQ_REGISTRATION_INVITE)
    return TRUE;
  if (invite == NULL)
    {
      g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_INVITE_REQUIRED,
                           "This server takes new accounts by invitation only: "
                           "ask its administrator for an invite link");
      return FALSE;
    }
  if (!ssq_invite_link_check_token (invite) || !ssq_server_auth_token_hash (invite, out_hash))
    {
      g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_INVITE_INVALID,
                           "This invite is not valid: it was revoked, or the link is mistyped");
      return FALSE;
    }
  *out_invited = TRUE;
  return ssq_server_store_invite_check (request->server->store, out_hash, ssq_now_ms (), error);
}

void
ssq_api_register (SsqRequest *request)
{
  guint8 invite_hash[SSQ_TOKEN_HASH_BYTES];
  gboolean invited = FALSE;
  g_autoptr(GError) error = NULL;
  SsqWireCredentials c;
  const char *username, *password, *display_name, *device;
  g_autoptr(SsqUserRow) taken = NULL;
  AccountJob *job;

  if (!ssq_wire_credentials_decode (request->body, &c, &error))
    goto fail;
  username = c.username, password = c.password, display_name = c.display_name, device = c.device;
  if (!ssq_check_username (username, &error) ||
      !ssq_check_password (password, &error) ||
      (display_name != NULL &&
       !ssq_check_text ("display_name", display_name, 1, SSQ_DISPLAY_NAME_MAX, &error)) ||
      (device != NULL && !ssq_check_text ("device", device, 0, SSQ_DEVICE_MAX, &error)) ||
      !check_register_rate (request, &error) ||
      !check_invite (request, c.invite, invite_hash, &invited, &error))
    goto fail;
  /* Fail fast on a taken name; the unique index still decides races. */
  taken = ssq_server_store_user_by_name (request->server->store, username, NULL, NULL);
  if (taken != NULL)
    {
      g_set_error_literal (&error, SSQ_ERROR, SSQ_ERROR_USERNAME_TAKEN, "That username is taken");
      goto fail;
    }
  job = g_new0 (AccountJob, 1);
  job->request = request;
  job->username = g_strdup (username);
  job->display_name = g_strdup (display_name);
  job->device = g_strdup (device);
  job->invited = invited;
  memcpy (job->invite_hash, invite_hash, sizeof invite_hash);
  /* Hashes count per client address (the address itself, not its IPv6
   * /64: on a LAN every host shares the /64). */
  ssq_server_auth_hash_async (request->server->auth, ssq_request_peer (request), password,
                              register_hashed_cb, job);
  return;

fail:
  ssq_request_reply_error (request, error);
  ssq_request_free (request);
}

/* Writer thread. A password changed (or an account deleted) since the
 * login is left alone: the rehash would bring the old password back. */
static gboolean
set_pw_hash_op (SsqServerStore  *store,
                gpointer         data,
                GError         **error)
{
  AccountJob *job = data;

  if (!password_still (store, job->user->id, job->old_hash))
    return TRUE;
  return ssq_server_store_user_set_pw_hash (store, job->user->id, job->pw_hash, error);
}

static void
rehashed_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  AccountJob *job = user_data;
  SsqServer *server = job->user_server;

  g_free (job->old_hash);
  job->old_hash = g_steal_pointer (&job->pw_hash);
  job->pw_hash = ssq_server_auth_hash_finish (server->auth, result, NULL);
  if (job->pw_hash == NULL)
    {
      account_job_free (job);
      return;
    }
  ssq_server_writer_submit (server->writer, set_pw_hash_op, NULL, job,
                            (GDestroyNotify) account_job_free);
}

static void
rehash (AccountJob *job)
{
  /* After a login that proved the password: not counted. */
  ssq_server_auth_hash_async (job->user_server->auth, NULL, job->password, rehashed_cb, job);
}

static void
login_verified_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  AccountJob *job = user_data;
  SsqRequest *request = job->request;
  SsqServer *server = request->server;
  g_autoptr(GError) error = NULL;
  gboolean needs_rehash = FALSE;

  if (!ssq_server_auth_verify_finish (server->auth, result, &needs_rehash, &error) ||
      job->user == NULL)
    {
      /* A name that is no account is not repeated: it may be a password
       * typed in the wrong field. */
      g_message ("Failed log-in to %s%s from %s", job->user ? "account " : "an unknown account",
                 job->user ? job->user->username : "", ssq_request_peer (request));
      g_clear_error (&error);
      g_set_error_literal (&error, SSQ_ERROR, SSQ_ERROR_UNAUTHORIZED,
                           "Wrong username or password");
      ssq_request_reply_error (request, error);
      account_job_free (job);
      return;
    }
  login_throttle_succeeded (server, &job->keys);
  /* Only once the password was right: a guesser learns nothing. */
  if (job->user->disabled)
    {
      set_account_disabled (&error);
      ssq_request_reply_error (request, error);
      account_job_free (job);
      return;
    }
  job->needs_rehash = needs_rehash;
  submit_session (job);
}

void
ssq_api_login (SsqRequest *request)
{
  g_autoptr(GError) error = NULL;
  SsqWireCredentials c;
  const char *username, *password, *device;
  LoginKeys keys = { NULL, NULL };
  AccountJob *job;

  if (!ssq_wire_credentials_decode (request->body, &c, &error))
    goto fail;
  username = c.username, password = c.password, device = c.device;
  if ((device != NULL && !ssq_check_text ("device", device, 0, SSQ_DEVICE_MAX, &error)))
    goto fail;
  login_keys_init (&keys, request, username);
  /* No room for its hash: refused before it counts as an attempt (and
   * then its hash, submitted in this same turn, is never refused). */
  if (!ssq_server_auth_check_room (request->server->auth, ssq_request_peer (request), &error) ||
      !login_throttle_begin (request->server, &keys, &error))
    goto fail;
  job = g_new0 (AccountJob, 1);
  job->keys = keys;
  job->request = request;
  job->device = g_strdup (device);
  job->password = g_strdup (password);
  if (ssq_check_username (username, NULL) && ssq_check_password (password, NULL))
    job->user = ssq_server_store_user_by_name (request->server->store, username, &job->pw_hash,
                                               NULL);
  /* An unknown name still costs one hash verification: same time, same
   * answer as a wrong password. */
  ssq_server_auth_verify_async (request->server->auth, ssq_request_peer (request),
                                job->user ? job->pw_hash : NULL, password, login_verified_cb, job);
  return;

fail:
  login_keys_clear (&keys);
  ssq_request_reply_error (request, error);
  ssq_request_free (request);
}

static void
reset_hashed_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  AccountJob *job = user_data;
  SsqRequest *request = job->request;
  g_autoptr(GError) error = NULL;

  job->pw_hash = ssq_server_auth_hash_finish (request->server->auth, result, &error);
  if (job->pw_hash == NULL)
    {
      ssq_request_reply_error (request, error);
      account_job_free (job);
      return;
    }
  submit_session (job);
}

/* Whether @code is @user's reset code, valid now; the code's hash goes to
 * @job. An unknown user and a wrong code fail alike. */
static gboolean
reset_code_matches (SsqServer  *server,
                    AccountJob *job,
                    const char *code)
{
  g_autoptr(GBytes) stored = NULL;

  if (job->user == NULL || !ssq_server_auth_reset_code_hash (code, job->code_hash))
    return FALSE;
  stored = ssq_server_store_user_reset_code (server->store, job->user->id, ssq_now_ms (), NULL);
  return stored != NULL && g_bytes_get_size (stored) == sizeof job->code_hash &&
         sodium_memcmp (g_bytes_get_data (stored, NULL), job->code_hash,
                        sizeof job->code_hash) == 0;
}

/* POST /password-reset: a one-time code from the server's administrator
 * sets a new password and logs in, like a login: {"user","token"}. Every
 * other login of the account ends. Attempts go through the login
 * throttle: a code is guessed no faster than a password. */
void
ssq_api_password_reset (SsqRequest *request)
{
  g_autoptr(GError) error = NULL;
  SsqWirePasswordReset r;
  LoginKeys keys = { NULL, NULL };
  AccountJob *job;

  if (!ssq_wire_password_reset_decode (request->body, &r, &error) ||
      !ssq_check_password (r.password, &error) ||
      (r.device != NULL && !ssq_check_text ("device", r.device, 0, SSQ_DEVICE_MAX, &error)))
    goto fail;
  login_keys_init (&keys, request, r.username);
  if (!login_throttle_begin (request->server, &keys, &error))
    goto fail;
  job = g_new0 (AccountJob, 1);
  job->keys = keys;
  job->request = request;
  job->device = g_strdup (r.device);
  job->resetting = TRUE;
  if (ssq_check_username (r.username, NULL))
    job->user = ssq_server_store_user_by_name (request->server->store, r.username, NULL, NULL);
  if (!reset_code_matches (request->server, job, r.code))
    g_set_error_literal (&error, SSQ_ERROR, SSQ_ERROR_FORBIDDEN, "Wrong or expired reset code");
  else
    {
      login_throttle_succeeded (request->server, &job->keys);
      if (job->user->disabled)
        set_account_disabled (&error);
    }
  if (error != NULL)
    {
      ssq_request_reply_error (request, error);
      account_job_free (job);
      return;
    }
  ssq_server_auth_hash_async (request->server->auth, ssq_request_peer (request), r.password,
                              reset_hashed_cb, job);
  return;

fail:
  login_keys_clear (&keys);
  ssq_request_reply_error (request, error);
  ssq_request_free (request);
}

/* Writer thread: @data is the request. */
static gboolean
logout_op (SsqServerStore  *store,
           gpointer         data,
           GError         **error)
{
  SsqRequest *r = data;
  guint8 hash[SSQ_TOKEN_HASH_BYTES];

  ssq_server_auth_token_hash (r->token, hash);
  return ssq_server_store_session_revoke (store, hash, sizeof hash, error);
}

static void
logged_out (gpointer      data,
            const GError *error)
{
  SsqRequest *r = data;
  guint8 hash[SSQ_TOKEN_HASH_BYTES];
  g_autoptr(GBytes) token_hash = NULL;

  if (error != NULL)
    {
      ssq_request_reply_error (r, error);
      return;
    }
  /* The token's WebSockets end with it, before the answer goes out:
   * nothing they send from now on is read. */
  ssq_server_auth_token_hash (r->token, hash);
  token_hash = g_bytes_new (hash, sizeof hash);
  ssq_server_hub_end_sessions (r->server->hub, r->user_id, token_hash, NULL, SSQ_CLOSE_POLICY,
                               "Logged out");
  ssq_request_reply (r, SSQ_HTTP_NO_CONTENT, NULL);
}

void
ssq_api_logout (SsqRequest *request)
{
  ssq_server_writer_submit (request->server->writer, logout_op, logged_out, request,
                            (GDestroyNotify) ssq_request_free);
}

static void
reply_me (SsqRequest *r)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SsqUserRow) user = ssq_server_store_user_by_id (r->server->store, r->user_id, &error);
  g_autoptr(JsonObject) user_object = NULL;
  g_autoptr(JsonObject) body = NULL;

  if (user == NULL)
    {
      ssq_request_reply_error (r, error);
      return;
    }
  user_object = ssq_server_json_me (r->server, user);
  body = ssq_wire_reply_encode (SSQ_WIRE_REPLY_USER, user_object);
  ssq_request_reply (r, SSQ_HTTP_OK, body);
}

void
ssq_api_me_get (SsqRequest *request)
{
  g_autoptr(SsqRequest) r = request;

  reply_me (r);
}

/* Writer thread: the display name of job->request's account, read and
 * written on the writer's connection so that no other change of the row
 * (last_seen) is lost. */
static gboolean
set_display_name (SsqServerStore  *store,
                  AccountJob      *job,
                  GError         **error)
{
  g_autoptr(SsqUserRow) user = NULL;

  if (job->display_name == NULL)
    return TRUE;
  user = ssq_server_store_user_by_id (store, job->request->user_id, error);
  if (user == NULL)
    return FALSE;
  g_free (user->display_name);
  user->display_name = g_strdup (job->display_name);
  return ssq_server_store_user_update (store, user, error);
}

static gboolean
display_name_op (SsqServerStore  *store,
                 gpointer         data,
                 GError         **error)
{
  return set_display_name (store, data, error);
}

/* Main loop, after the commit of a change of /me: the account as it is. */
static void
me_changed (gpointer      data,
            const GError *error)
{
  AccountJob *job = data;

  if (error != NULL)
    ssq_request_reply_error (job->request, error);
  else
    reply_me (job->request);
}

/* Checks @password against the account of @request before @then runs: a
 * wrong one is 403 (the token itself is fine, so not 401), and like a login
 * attempt it goes through the login throttle, so that a stolen token does
 * not open a faster way to guess the password. */
static void
verify_password (SsqRequest          *request,
                 AccountJob          *job,
                 const char          *password,
                 GAsyncReadyCallback  then)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SsqUserRow) user = NULL;
  SsqServer *server = request->server;

  job->request = request;
  user = ssq_server_store_user_by_id (server->store, request->user_id, &error);
  if (user != NULL)
    login_keys_init (&job->keys, request, user->username);
  if (user == NULL || !ssq_server_auth_check_room (server->auth, ssq_request_peer (request), &error) ||
      !login_throttle_begin (server, &job->keys, &error) ||
      (job->pw_hash = ssq_server_store_user_pw_hash (server->store, request->user_id,
                                                     &error)) == NULL)
    {
      ssq_request_reply_error (request, error);
      account_job_free (job);
      return;
    }
  ssq_server_auth_verify_async (server->auth, ssq_request_peer (request), job->pw_hash, password,
                                then, job);
}

static gboolean
verified (AccountJob   *job,
          GAsyncResult *result)
{
  SsqRequest *request = job->request;
  g_autoptr(GError) error = NULL;

  if (ssq_server_auth_verify_finish (request->server->auth, result, NULL, &error))
    {
      login_throttle_succeeded (request->server, &job->keys);
      return TRUE;
    }
  g_clear_error (&error);
  g_set_error_literal (&error, SSQ_ERROR, SSQ_ERROR_FORBIDDEN, "Wrong password");
  ssq_request_reply_error (request, error);
  account_job_free (job);
  return FALSE;
}

/* Writer thread: the new password replaces the old one, and every other
 * login of the account ends: whoever knew the old password is out. This
 * one stays. A reset code waiting goes too: the user who sets a password
 * has no use for it, and whoever else got hold of it would take the
 * account back. */
static gboolean
password_op (SsqServerStore  *store,
             gpointer         data,
             GError         **error)
{
  AccountJob *job = data;
  g_autoptr(GBytes) current = g_bytes_new (job->token_hash, sizeof job->token_hash);

  return ssq_server_store_user_set_pw_hash (store, job->request->user_id, job->pw_hash, error) &&
         ssq_server_store_user_set_reset_code (store, job->request->user_id, NULL, 0, error) &&
         ssq_server_store_sessions_revoke_user (store, job->request->user_id, current, error) &&
         set_display_name (store, job, error);
}

static void
password_changed (gpointer      data,
                  const GError *error)
{
  AccountJob *job = data;
  SsqRequest *r = job->request;
  g_autoptr(GBytes) current = NULL;

  if (error == NULL)
    {
      current = g_bytes_new (job->token_hash, sizeof job->token_hash);
      ssq_server_hub_end_sessions (r->server->hub, r->user_id, NULL, current, SSQ_CLOSE_POLICY,
                                   "Password changed");
    }
  me_changed (job, error);
}

static void
new_password_hashed_cb (GObject      *source,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  AccountJob *job = user_data;
  SsqRequest *r = job->request;
  g_autoptr(GError) error = NULL;

  g_free (job->pw_hash);
  job->pw_hash = ssq_server_auth_hash_finish (r->server->auth, result, &error);
  if (job->pw_hash == NULL)
    {
      ssq_request_reply_error (r, error);
      account_job_free (job);
      return;
    }
  ssq_server_auth_token_hash (r->token, job->token_hash);
  ssq_server_writer_submit (r->server->writer, password_op, password_changed, job,
                            (GDestroyNotify) account_job_free);
}

static void
current_password_verified_cb (GObject      *source,
                              GAsyncResult *result,
                              gpointer      user_data)
{
  AccountJob *job = user_data;

  if (verified (job, result))
    ssq_server_auth_hash_async (job->request->server->auth, ssq_request_peer (job->request),
                                job->password, new_password_hashed_cb, job);
}

/* PATCH /me: `display_name`, and `password` with `current_password`. */
void
ssq_api_me_patch (SsqRequest *request)
{
  g_autoptr(GError) error = NULL;
  SsqWireAccountChange change;
  const char *display_name, *password, *current;
  AccountJob *job;

  if (!ssq_wire_account_change_decode (request->body, FALSE, &change, &error))
    goto fail;
  display_name = change.display_name, password = change.password;
  current = change.current_password;
  if ((display_name != NULL &&
       !ssq_check_text ("display_name", display_name, 1, SSQ_DISPLAY_NAME_MAX, &error)) ||
      (password != NULL && !ssq_check_password (password, &error)))
    goto fail;
  if (password == NULL)
    {
      job = g_new0 (AccountJob, 1);
      job->request = request;
      job->display_name = g_strdup (display_name);
      ssq_server_writer_submit (request->server->writer, display_name_op, me_changed, job,
                                (GDestroyNotify) account_job_free);
      return;
    }
  if (current == NULL)
    {
      g_set_error_literal (&error, SSQ_ERROR, SSQ_ERROR_INVALID,
                           "Changing the password needs \"current_password\"");
      goto fail;
    }
  job = g_new0 (AccountJob, 1);
  job->display_name = g_strdup (display_name);
  job->password = g_strdup (password);
  verify_password (request, job, current, current_password_verified_cb);
  return;

fail:
  ssq_request_reply_error (request, error);
  ssq_request_free (request);
}

static void
account_deleted_cb (SsqServer    *server,
                    const GError *error,
                    gpointer      user_data)
{
  AccountJob *job = user_data;

  if (error != NULL)
    ssq_request_reply_error (job->request, error);
  else
    ssq_request_reply (job->request, SSQ_HTTP_NO_CONTENT, NULL);
}

static void
delete_verified_cb (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  AccountJob *job = user_data;

  if (!verified (job, result))
    return;
  ssq_server_account_delete (job->request->server, job->request->user_id, account_deleted_cb,
                             job, (GDestroyNotify) account_job_free);
}

/* DELETE /me with {"password"}. */
void
ssq_api_me_delete (SsqRequest *request)
{
  g_autoptr(GError) error = NULL;
  SsqWireAccountChange change;

  if (!ssq_wire_account_change_decode (request->body, TRUE, &change, &error))
    {
      ssq_request_reply_error (request, error);
      ssq_request_free (request);
      return;
    }
  verify_password (request, g_new0 (AccountJob, 1), change.password, delete_verified_cb);
}

void
ssq_api_users (SsqRequest *request)
{
  g_autoptr(SsqRequest) r = request;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) users = NULL;
  g_autoptr(JsonArray) array = json_array_new ();
  g_autoptr(JsonObject) body = ssq_wire_list_encode (SSQ_WIRE_LIST_USERS, array, FALSE);
  const char *q = r->query ? g_hash_table_lookup (r->query, "q") : NULL;
  gint64 limit = 20;

  if (!ssq_request_query_int (r, "limit", 1, SSQ_USERS_SEARCH_MAX, &limit, &error))
    {
      ssq_request_reply_error (r, error);
      return;
    }
  if (q != NULL && strlen (q) > SSQ_USERNAME_MAX)
    {
      ssq_request_reply (r, SSQ_HTTP_OK, body);   /* no username is that long */
      return;
    }
  users = ssq_server_store_users_search (r->server->store, q, (guint) limit, &error);
  if (users == NULL)
    {
      ssq_request_reply_error (r, error);
      return;
    }
  for (guint i = 0; i < users->len; i++)
    json_array_add_object_element (array, ssq_server_json_user (r->server, users->pdata[i]));
  ssq_request_reply (r, SSQ_HTTP_OK, body);
}
