/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-auth.c: Argon2id through libsodium, run on a small thread pool
 * because one hash takes tens of milliseconds and tens of MiB. */
#include "ssq-server-auth.h"
#include "ssq-proto.h"

#include <sodium.h>
#include <string.h>

/* Password hashes are bounded before they are spent, and shared fairly.
 * Unbounded and first come first served, a flood of logins under random
 * names (each costs a hash, and none is throttled: no account is hit
 * twice) queued without end, and a real user's login waited 15 s behind
 * it. Now:
 * - one client address has at most SSQ_AUTH_PER_OWNER_MAX hashes under way
 *   (running or waiting), enough for a script's or a NAT's burst of
 *   registrations; all addresses together SSQ_AUTH_UNDER_WAY_MAX. Past
 *   either a hash is refused at once (RATE_LIMITED), never queued;
 * - the queue serves addresses in turn: each hash waits behind the hashes
 *   of lower rank (the number its address had under way when it came),
 *   then in order of arrival. A user's login waits for at most one hash of
 *   each other address, however many a flooding one sent.
 * The address itself, not its IPv6 /64: on a LAN every host shares the
 * /64. Counted on the main thread when submitted and given back when the
 * callback runs, so that what a burst gets does not depend on how far the
 * threads came meanwhile. */
#define SSQ_AUTH_PER_OWNER_MAX 8
#define SSQ_AUTH_UNDER_WAY_MAX 256
#define SSQ_AUTH_RETRY_MS      1000

struct _SsqServerAuth {
  guint64      opslimit;
  gsize        memlimit;
  guint        max_threads;
  GThreadPool *pool;
  /* Main thread only. */
  GHashTable  *owners;      /* owner -> its hashes under way */
  guint        under_way;
  guint64      next_seq;
  GHashTable  *jobs;        /* HashJob under way: told when the auth goes first */
  char         dummy_hash[crypto_pwhash_STRBYTES];
};

typedef struct {
  SsqServerAuth      *auth;     /* NULL once the auth is freed before the callback */
  char               *owner;    /* NULL: not counted per owner (the administration's) */
  GAsyncReadyCallback callback;
  gpointer            user_data;
  gboolean            counted;  /* taken from the bounds: given back when done */
  guint               rank;     /* hashes its owner had under way when it came */
  guint64             seq;      /* order of arrival */
  char               *password;
  char               *pw_hash;  /* verify: the stored hash; hash: the result */
  gboolean            verify;
  gboolean            matched;
  gboolean            needs_rehash;
} HashJob;

static void
hash_job_free (HashJob *job)
{
  if (job->password != NULL)
    sodium_memzero (job->password, strlen (job->password));
  g_free (job->password);
  g_free (job->pw_hash);
  g_free (job->owner);
  g_free (job);
}

/* Whether @owner may have one more hash under way, else the error. */
static gboolean
owner_room (SsqServerAuth  *auth,
            const char     *owner,
            guint          *out_n,
            GError        **error)
{
  guint n = owner ? GPOINTER_TO_UINT (g_hash_table_lookup (auth->owners, owner)) : 0;

  if (out_n != NULL)
    *out_n = n;
  if (n >= SSQ_AUTH_PER_OWNER_MAX || auth->under_way >= SSQ_AUTH_UNDER_WAY_MAX)
    {
      ssq_set_rate_limited (error, SSQ_AUTH_RETRY_MS);
      return FALSE;
    }
  return TRUE;
}

/* Main thread: counts @job against its owner, or refuses it. */
static gboolean
owner_take (SsqServerAuth  *auth,
            HashJob        *job,
            const char     *owner,
            GError        **error)
{
  guint n;

  if (!owner_room (auth, owner, &n, error))
    return FALSE;
  auth->under_way++;
  if (owner != NULL)
    g_hash_table_insert (auth->owners, g_strdup (owner), GUINT_TO_POINTER (n + 1));
  job->owner = g_strdup (owner);
  job->rank = n;
  job->seq = auth->next_seq++;
  job->counted = TRUE;
  g_hash_table_add (auth->jobs, job);
  return TRUE;
}

/* Main thread, as the hash's callback runs: its owner may have another. */
static void
owner_release (SsqServerAuth *auth,
               HashJob       *job)
{
  guint n;

  g_hash_table_remove (auth->jobs, job);
  auth->under_way--;
  if (job->owner == NULL)
    return;
  n = GPOINTER_TO_UINT (g_hash_table_lookup (auth->owners, job->owner));
  if (n <= 1)
    g_hash_table_remove (auth->owners, job->owner);
  else
    g_hash_table_insert (auth->owners, g_strdup (job->owner), GUINT_TO_POINTER (n - 1));
}

static void
job_done (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  HashJob *job = g_task_get_task_data (G_TASK (result));

  if (job->counted && job->auth != NULL)
    owner_release (job->auth, job);
  job->callback (source, result, job->user_data);
}

/* The pool's queue order: lower rank first, then arrival. */
static gint
compare_jobs (gconstpointer a,
              gconstpointer b,
              gpointer      user_data)
{
  HashJob *ja = g_task_get_task_data ((GTask *) a);
  HashJob *jb = g_task_get_task_data ((GTask *) b);

  if (ja->rank != jb->rank)
    return ja->rank < jb->rank ? -1 : 1;
  return ja->seq < jb->seq ? -1 : ja->seq > jb->seq;
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
  auth->max_threads = MAX (max_threads, 1);
  auth->pool = g_thread_pool_new (run_job, auth, (int) auth->max_threads, FALSE, NULL);
  g_thread_pool_set_sort_function (auth->pool, compare_jobs, NULL);
  auth->owners = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  auth->jobs = g_hash_table_new (NULL, NULL);
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

static void
orphan_job (gpointer key,
            gpointer value,
            gpointer user_data)
{
  ((HashJob *) key)->auth = NULL;
}

/**
 * ssq_server_auth_check_room:
 * Whether a hash for @owner would be taken now (the next one submitted in
 * this main-loop turn is), else the RATE_LIMITED error it would get: for
 * callers that must not count an attempt the server never checked.
 */
gboolean
ssq_server_auth_check_room (SsqServerAuth  *auth,
                            const char     *owner,
                            GError        **error)
{
  return owner_room (auth, owner, NULL, error);
}

/* Tests: with @hold, no hash starts until released, so that the order of
 * the queue can be seen. */
void
ssq_server_auth_hold (SsqServerAuth *auth,
                      gboolean       hold)
{
  g_thread_pool_set_max_threads (auth->pool, hold ? 0 : (int) auth->max_threads, NULL);
}

void
ssq_server_auth_free (SsqServerAuth *auth)
{
  if (auth == NULL)
    return;
  /* Wait for running hashes: their tasks hold references to callers. */
  g_thread_pool_free (auth->pool, FALSE, TRUE);
  /* Their callbacks may still be on their way: they must not count. */
  g_hash_table_foreach (auth->jobs, orphan_job, NULL);
  g_hash_table_unref (auth->jobs);
  g_hash_table_unref (auth->owners);
  g_free (auth);
}

static void
submit (SsqServerAuth       *auth,
        const char          *owner,
        HashJob             *job,
        gpointer             source_tag,
        GAsyncReadyCallback  callback,
        gpointer             user_data)
{
  GTask *task = g_task_new (NULL, NULL, job_done, NULL);
  GError *error = NULL;

  job->auth = auth;
  job->callback = callback;
  job->user_data = user_data;
  g_task_set_source_tag (task, source_tag);
  g_task_set_task_data (task, job, (GDestroyNotify) hash_job_free);
  if (!owner_take (auth, job, owner, &error))
    {
      g_task_return_error (task, error);    /* to the callback, from an idle */
      g_object_unref (task);
      return;
    }
  g_thread_pool_push (auth->pool, task, NULL);
}

/* @owner: the client's address; NULL for the administration, which is not
 * counted per address. Refused at once with RATE_LIMITED when that
 * address has SSQ_AUTH_PER_OWNER_MAX hashes under way, or all addresses
 * SSQ_AUTH_UNDER_WAY_MAX. */
void
ssq_server_auth_hash_async (SsqServerAuth       *auth,
                            const char          *owner,
                            const char          *password,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  HashJob *job = g_new0 (HashJob, 1);

  job->password = g_strdup (password);
  submit (auth, owner, job, ssq_server_auth_hash_async, callback, user_data);
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
                              const char          *owner,
                              const char          *pw_hash,
                              const char          *password,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  HashJob *job = g_new0 (HashJob, 1);

  job->verify = TRUE;
  job->pw_hash = g_strdup (pw_hash);
  job->password = g_strdup (password);
  submit (auth, owner, job, ssq_server_auth_verify_async, callback, user_data);
}

gboolean
ssq_server_auth_verify_finish (SsqServerAuth  *auth,
                               GAsyncResult   *result,
                               gboolean       *out_needs_rehash,
                               GError        **error)
{
  HashJob *job = g_task_get_task_data (G_TASK (result));

  if (out_needs_rehash != NULL)
    *out_needs_rehash = job->needs_rehash && !g_task_had_error (G_TASK (result));
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
