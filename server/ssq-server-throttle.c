/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-throttle.c: a key may fail @free_failures times; after that each
 * failure locks it out for base * 2^((failures - free) / ramp), up to
 * @max_ms. A record is forgotten after a day without failures, or when the
 * table is full and it is the one that failed least recently: an attacker
 * who invents keys can only push out the records that went quiet longest,
 * and memory stays bounded. */
#include "ssq-server-throttle.h"

#include <gio/gio.h>
#include <string.h>

#define FORGET_MS (24 * 3600 * 1000)

typedef struct {
  char   *key;
  GList   link;            /* in throttle->lru, least recently failed first */
  guint   failures;
  gint64  last_failure_ms;
} Entry;

struct _SsqServerThrottle {
  guint       free_failures;
  guint       ramp;
  gint64      base_ms;
  gint64      max_ms;
  guint       max_entries;
  GHashTable *entries;     /* key -> Entry (the entry owns the key) */
  GQueue      lru;
};

static void
entry_free (Entry *e)
{
  g_free (e->key);
  g_free (e);
}

SsqServerThrottle *
ssq_server_throttle_new (guint  free_failures,
                         guint  ramp,
                         gint64 base_ms,
                         gint64 max_ms,
                         guint  max_entries)
{
  SsqServerThrottle *t = g_new0 (SsqServerThrottle, 1);

  t->free_failures = free_failures;
  t->ramp = MAX (ramp, 1);
  t->base_ms = MAX (base_ms, 1);
  t->max_ms = MAX (max_ms, t->base_ms);
  t->max_entries = MAX (max_entries, 1);
  t->entries = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) entry_free);
  g_queue_init (&t->lru);
  return t;
}

void
ssq_server_throttle_free (SsqServerThrottle *throttle)
{
  if (throttle == NULL)
    return;
  /* The queue's links live in the entries: freeing those frees it. */
  g_hash_table_destroy (throttle->entries);
  g_free (throttle);
}

static gint64
lock_ms (SsqServerThrottle *t,
         const Entry       *e)
{
  guint doublings;

  if (e->failures < t->free_failures)
    return 0;
  doublings = (e->failures - t->free_failures) / t->ramp;
  if (doublings >= 40 || (t->base_ms << doublings) > t->max_ms)
    return t->max_ms;
  return t->base_ms << doublings;
}

/* Whether @key may try now; if not, when it may. */
gboolean
ssq_server_throttle_check (SsqServerThrottle *throttle,
                           const char        *key,
                           gint64             now_ms,
                           gint64            *out_retry_after_ms)
{
  Entry *e = g_hash_table_lookup (throttle->entries, key);
  gint64 until = e ? e->last_failure_ms + lock_ms (throttle, e) : 0;

  if (out_retry_after_ms != NULL)
    *out_retry_after_ms = 0;
  if (e == NULL || until <= now_ms)
    return TRUE;
  if (out_retry_after_ms != NULL)
    *out_retry_after_ms = until - now_ms;
  return FALSE;
}

guint
ssq_server_throttle_failures (SsqServerThrottle *throttle,
                              const char        *key)
{
  Entry *e = g_hash_table_lookup (throttle->entries, key);

  return e ? e->failures : 0;
}

static void
remove_entry (SsqServerThrottle *t,
              Entry             *e)
{
  g_queue_unlink (&t->lru, &e->link);
  g_hash_table_remove (t->entries, e->key);
}

void
ssq_server_throttle_fail (SsqServerThrottle *throttle,
                          const char        *key,
                          gint64             now_ms)
{
  Entry *e = g_hash_table_lookup (throttle->entries, key);

  if (e == NULL)
    {
      if (g_hash_table_size (throttle->entries) >= throttle->max_entries)
        remove_entry (throttle, throttle->lru.head->data);
      e = g_new0 (Entry, 1);
      e->key = g_strdup (key);
      e->link.data = e;
      g_hash_table_insert (throttle->entries, e->key, e);
    }
  else
    g_queue_unlink (&throttle->lru, &e->link);
  g_queue_push_tail_link (&throttle->lru, &e->link);
  if (e->failures < G_MAXUINT)
    e->failures++;
  e->last_failure_ms = now_ms;
}

/* Takes back one failure (one counted in advance that turned out not to be). */
void
ssq_server_throttle_unfail (SsqServerThrottle *throttle,
                            const char        *key)
{
  Entry *e = g_hash_table_lookup (throttle->entries, key);

  if (e == NULL)
    return;
  if (e->failures <= 1)
    remove_entry (throttle, e);
  else
    e->failures--;
}

void
ssq_server_throttle_forget (SsqServerThrottle *throttle,
                            const char        *key)
{
  Entry *e = g_hash_table_lookup (throttle->entries, key);

  if (e != NULL)
    remove_entry (throttle, e);
}

/* Drops the records quiet for a day; they sit at the front of the queue. */
void
ssq_server_throttle_prune (SsqServerThrottle *throttle,
                           gint64             now_ms)
{
  while (throttle->lru.head != NULL)
    {
      Entry *e = throttle->lru.head->data;

      if (e->last_failure_ms > now_ms - FORGET_MS)
        break;
      remove_entry (throttle, e);
    }
}

guint
ssq_server_throttle_size (SsqServerThrottle *throttle)
{
  return g_hash_table_size (throttle->entries);
}

/**
 * ssq_server_throttle_address_key:
 * @peer: a client address as text
 *
 * The key under which a client address is throttled: IPv4 addresses as they
 * are (IPv4-mapped IPv6 too), IPv6 by /64, the smallest block a host is
 * given, so that one host cannot spread its attempts over its 2^64
 * addresses.
 *
 * Returns: (transfer full): the key
 */
char *
ssq_server_throttle_address_key (const char *peer)
{
  g_autoptr(GInetAddress) addr = peer ? g_inet_address_new_from_string (peer) : NULL;
  const guint8 *b;

  if (addr == NULL || g_inet_address_get_family (addr) != G_SOCKET_FAMILY_IPV6)
    return g_strdup (peer ? peer : "");
  b = g_inet_address_to_bytes (addr);
  if (memcmp (b, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0)
    return g_strdup_printf ("%u.%u.%u.%u", b[12], b[13], b[14], b[15]);
  return g_strdup_printf ("%02x%02x:%02x%02x:%02x%02x:%02x%02x::/64",
                          b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]);
}
