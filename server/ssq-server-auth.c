/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-auth.c: Argon2id through libsodium, run on a small thread pool
 * because one hash takes tens of milliseconds and tens of MiB. */
#include "ssq-server-auth.h"
#include "ssq-proto.h"

#include <sodium.h>
#include <string.h>

struct _SsqServerAuth {
  guint64      opslimit;
  gsize        memlimit;
  GThreadPool *pool;
  char         dummy_hash[crypto_pwhash_STRBYTES];
};

typedef struct {
  SsqServerAuth *auth;
  char          *password;
  char          *pw_hash;       /* verify: the stored hash; hash: the result */
  gboolean       verify;
  gboolean       matched;
  gboolean       needs_rehash;
} HashJob;

static void
hash_job_free (HashJob *job)
{
  if (job->password != NULL)
    sodium_memzero (job->password, strlen (job->password));
  g_free (job->password);
  g_free (job->pw_hash);
  g_free (job);
}

static void
run_job (gpointer data,
         gpointer user_data)
{
  GTask *task = data;
  HashJob *job = g_task_get_task_data (task);
  SsqServerAuth *auth = job->auth;

  if (job->verify)
    {
      const char *hash = job->pw_hash ? job->pw_hash : auth->dummy_hash;

      job->matched = crypto_pwhash_str_verify (hash, job->password, strlen (job->password)) == 0 &&
                     job->pw_hash != NULL;
      job->needs_rehash = job->matched &&
        crypto_pwhash_str_needs_rehash (hash, auth->opslimit, auth->memlimit) != 0;
      g_task_return_boolean (task, job->matched);
    }
  else
    {
      char out[crypto_pwhash_STRBYTES];

      if (crypto_pwhash_str (out, job->password, strlen (job->password),
                             auth->opslimit, auth->memlimit) != 0)
        g_task_return_new_error (task, SSQ_ERROR, SSQ_ERROR_UNAVAILABLE,
                                 "Out of memory while hashing the password");
      else
        g_task_return_pointer (task, g_strdup (out), g_free);
    }
  g_object_unref (task);
}

SsqServerAuth *
ssq_server_auth_new (guint64 opslimit,
                     gsize   memlimit,
                     guint   max_threads)
{
  SsqServerAuth *auth = g_new0 (SsqServerAuth, 1);
  char random_password[33];

  auth->opslimit = opslimit;
  auth->memlimit = memlimit;
  auth->pool = g_thread_pool_new (run_job, auth, (int) MAX (max_threads, 1), FALSE, NULL);
  randombytes_buf (random_password, sizeof random_password - 1);
  for (gsize i = 0; i < sizeof random_password - 1; i++)
    random_password[i] = 'a' + ((guint8) random_password[i] % 26);
  random_password[sizeof random_password - 1] = '\0';
  if (crypto_pwhash_str (auth->dummy_hash, random_password, strlen (random_password),
                         opslimit, memlimit) != 0)
    g_error ("Cannot compute a password hash: not enough memory for memlimit %" G_GSIZE_FORMAT,
             memlimit);
  return auth;
}

void
ssq_server_auth_free (SsqServerAuth *auth)
{
  if (auth == NULL)
    return;
  /* Wait for running hashes: their tasks hold references to callers. */
  g_thread_pool_free (auth->pool, FALSE, TRUE);
  g_free (auth);
}

static void
submit (SsqServerAuth       *auth,
        HashJob             *job,
        gpointer             source_tag,
        GAsyncReadyCallback  callback,
        gpointer             user_data)
{
  GTask *task = g_task_new (NULL, NULL, callback, user_data);

  job->auth = auth;
  g_task_set_source_tag (task, source_tag);
  g_task_set_task_data (task, job, (GDestroyNotify) hash_job_free);
  g_thread_pool_push (auth->pool, task, NULL);
}

void
ssq_server_auth_hash_async (SsqServerAuth       *auth,
                            const char          *password,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  HashJob *job = g_new0 (HashJob, 1);

  job->password = g_strdup (password);
  submit (auth, job, ssq_server_auth_hash_async, callback, user_data);
}

char *
ssq_server_auth_hash_finish (SsqServerAuth  *auth,
                             GAsyncResult   *result,
                             GError        **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

void
ssq_server_auth_verify_async (SsqServerAuth       *auth,
                              const char          *pw_hash,
                              const char          *password,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  HashJob *job = g_new0 (HashJob, 1);

  job->verify = TRUE;
  job->pw_hash = g_strdup (pw_hash);
  job->password = g_strdup (password);
  submit (auth, job, ssq_server_auth_verify_async, callback, user_data);
}

gboolean
ssq_server_auth_verify_finish (SsqServerAuth  *auth,
                               GAsyncResult   *result,
                               gboolean       *out_needs_rehash,
                               GError        **error)
{
  HashJob *job = g_task_get_task_data (G_TASK (result));

  if (out_needs_rehash != NULL)
    *out_needs_rehash = job->needs_rehash;
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* 32 bytes from libsodium's CSPRNG, base64url without padding (43 chars). */
char *
ssq_server_auth_new_token (void)
{
  guint8 bytes[SSQ_TOKEN_BYTES];
  char out[sodium_base64_ENCODED_LEN (SSQ_TOKEN_BYTES, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];

  randombytes_buf (bytes, sizeof bytes);
  sodium_bin2base64 (out, sizeof out, bytes, sizeof bytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  sodium_memzero (bytes, sizeof bytes);
  return g_strdup (out);
}

/* Tokens are stored only as their BLAKE2b hash: a stolen database holds no
 * usable credentials. Returns FALSE for something that cannot be a token. */
gboolean
ssq_server_auth_token_hash (const char *token,
                            guint8      out_hash[SSQ_TOKEN_HASH_BYTES])
{
  gsize len = token ? strlen (token) : 0;

  if (len == 0 || len > 256)
    return FALSE;
  crypto_generichash (out_hash, SSQ_TOKEN_HASH_BYTES, (const guint8 *) token, len, NULL, 0);
  return TRUE;
}

/* Reset codes: 16 characters of Crockford's base32 (80 bits), shown in
 * groups of four. Read back leniently: case, dashes and spaces do not
 * matter, and O, I and L are read as the digits they look like. */
static const char reset_alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

#define RESET_CODE_CHARS 16

char *
ssq_server_auth_new_reset_code (void)
{
  guint8 bytes[RESET_CODE_CHARS];
  GString *code = g_string_new (NULL);

  /* 256 is a multiple of 32: the low five bits of a byte are uniform. */
  randombytes_buf (bytes, sizeof bytes);
  for (guint i = 0; i < RESET_CODE_CHARS; i++)
    {
      if (i > 0 && i % 4 == 0)
        g_string_append_c (code, '-');
      g_string_append_c (code, reset_alphabet[bytes[i] & 31]);
    }
  sodium_memzero (bytes, sizeof bytes);
  return g_string_free (code, FALSE);
}

/**
 * ssq_server_auth_reset_code_hash:
 * The hash a reset code is stored as, from the code as issued or as a user
 * typed it; FALSE for something that cannot be a code.
 */
gboolean
ssq_server_auth_reset_code_hash (const char *code,
                                 guint8      out_hash[SSQ_TOKEN_HASH_BYTES])
{
  char normal[RESET_CODE_CHARS];
  guint n = 0;

  if (code == NULL || strlen (code) > 64)
    return FALSE;
  for (const char *p = code; *p != '\0'; p++)
    {
      char c = g_ascii_toupper (*p);

      if (c == '-' || c == ' ')
        continue;
      c = c == 'O' ? '0' : (c == 'I' || c == 'L') ? '1' : c;
      if (c == '\0' || strchr (reset_alphabet, c) == NULL || n == RESET_CODE_CHARS)
        return FALSE;
      normal[n++] = c;
    }
  if (n != RESET_CODE_CHARS)
    return FALSE;
  /* Keyed apart from the tokens' hashes (a key has 16 to 64 bytes). */
  crypto_generichash (out_hash, SSQ_TOKEN_HASH_BYTES, (const guint8 *) normal, n,
                      (const guint8 *) "supersoniq reset code", 21);
  return TRUE;
}
