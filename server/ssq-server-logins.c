/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-logins.c: live logins in memory (see the header). */
#include "ssq-server-logins.h"

#include <string.h>

typedef struct {
  guint8  hash[SSQ_TOKEN_HASH_BYTES];   /* the key */
  char   *user_id;
  gint64  expires_at;                   /* ms; the entry answers until then */
} Login;

struct _SsqServerLogins {
  GHashTable *by_hash;    /* Login.hash -> Login */
  guint       max_entries;
};

static void
login_free (Login *login)
{
  g_free (login->user_id);
  g_free (login);
}

/* The key is a cryptographic hash already: its first bytes are as good a
 * hash as any. */
static guint
hash_hash (gconstpointer key)
{
  guint h;

  memcpy (&h, key, sizeof h);
  return h;
}

static gboolean
hash_equal (gconstpointer a,
            gconstpointer b)
{
  return memcmp (a, b, SSQ_TOKEN_HASH_BYTES) == 0;
}

SsqServerLogins *
ssq_server_logins_new (guint max_entries)
{
  SsqServerLogins *self = g_new0 (SsqServerLogins, 1);

  self->by_hash = g_hash_table_new_full (hash_hash, hash_equal, NULL, (GDestroyNotify) login_free);
  self->max_entries = MAX (max_entries, 1);
  return self;
}

void
ssq_server_logins_free (SsqServerLogins *self)
{
  if (self == NULL)
    return;
  g_hash_table_destroy (self->by_hash);
  g_free (self);
}

/* The user id of the login of @hash if it is known and not expired at @now
 * (owned by @self, valid until the next call), else NULL: then ask the
 * store, which alone can say that a token is not valid. */
const char *
ssq_server_logins_lookup (SsqServerLogins *self,
                          const guint8     hash[SSQ_TOKEN_HASH_BYTES],
                          gint64           now)
{
  Login *login = g_hash_table_lookup (self->by_hash, hash);

  if (login == NULL)
    return NULL;
  if (now >= login->expires_at)
    {
      g_hash_table_remove (self->by_hash, hash);
      return NULL;
    }
  return login->user_id;
}

/* Remembers a login the store just confirmed. A full table starts again
 * empty: cheaper than tracking use, and the busy logins come back with
 * their next request. */
void
ssq_server_logins_add (SsqServerLogins *self,
                       const guint8     hash[SSQ_TOKEN_HASH_BYTES],
                       const char      *user_id,
                       gint64           expires_at)
{
  Login *login = g_new0 (Login, 1);

  if (g_hash_table_size (self->by_hash) >= self->max_entries)
    g_hash_table_remove_all (self->by_hash);
  memcpy (login->hash, hash, SSQ_TOKEN_HASH_BYTES);
  login->user_id = g_strdup (user_id);
  login->expires_at = expires_at;
  g_hash_table_replace (self->by_hash, login->hash, login);
}

static gboolean
bytes_is_hash (GBytes       *bytes,
               const guint8 *hash)
{
  gsize len;
  const void *data = g_bytes_get_data (bytes, &len);

  return len == SSQ_TOKEN_HASH_BYTES && memcmp (data, hash, len) == 0;
}

/* Drops the logins of @user_id with the token of @token_hash (NULL: any
 * token) except that of @except_hash (may be NULL): the same selection as
 * ssq_server_hub_end_sessions. */
void
ssq_server_logins_forget (SsqServerLogins *self,
                          const char      *user_id,
                          GBytes          *token_hash,
                          GBytes          *except_hash)
{
  GHashTableIter iter;
  Login *login;

  if (token_hash != NULL)
    {
      gsize len;
      const guint8 *hash = g_bytes_get_data (token_hash, &len);

      /* The token alone decides: dropping too much only costs a lookup. */
      login = len == SSQ_TOKEN_HASH_BYTES ? g_hash_table_lookup (self->by_hash, hash) : NULL;
      if (login != NULL && (except_hash == NULL || !bytes_is_hash (except_hash, login->hash)))
        g_hash_table_remove (self->by_hash, hash);
      return;
    }
  /* Password changes and deletions are rare: a walk is fine. */
  g_hash_table_iter_init (&iter, self->by_hash);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &login))
    if (g_str_equal (login->user_id, user_id) &&
        (except_hash == NULL || !bytes_is_hash (except_hash, login->hash)))
      g_hash_table_iter_remove (&iter);
}

guint
ssq_server_logins_size (SsqServerLogins *self)
{
  return g_hash_table_size (self->by_hash);
}
