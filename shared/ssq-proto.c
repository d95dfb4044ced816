/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-proto.c: error domain and the value rules of protocol v1. */
#include <glib/gi18n.h>
#include "ssq-proto.h"
#include "ssq-display.h"

#include <string.h>

typedef struct {
  gint64 retry_after_ms;
  char  *fingerprint;     /* the key a server presented */
  char  *pinned;          /* the key pinned for it */
} SsqErrorPrivate;

static void
ssq_error_private_init (SsqErrorPrivate *priv)
{
  priv->retry_after_ms = 0;
  priv->fingerprint = NULL;
  priv->pinned = NULL;
}

static void
ssq_error_private_copy (const SsqErrorPrivate *src,
                        SsqErrorPrivate       *dest)
{
  dest->retry_after_ms = src->retry_after_ms;
  dest->fingerprint = g_strdup (src->fingerprint);
  dest->pinned = g_strdup (src->pinned);
}

static void
ssq_error_private_clear (SsqErrorPrivate *priv)
{
  g_clear_pointer (&priv->fingerprint, g_free);
  g_clear_pointer (&priv->pinned, g_free);
}

/* An extended error domain so that a rate-limit error carries its retry time
 * to whoever reports it (HTTP header, WebSocket error frame), and a key
 * error the fingerprints the user interface shows. */
G_DEFINE_EXTENDED_ERROR (SsqError, ssq_error)

void
ssq_error_set_retry_after (GError *error,
                           gint64  retry_after_ms)
{
  SsqErrorPrivate *priv;

  g_return_if_fail (error != NULL && error->domain == SSQ_ERROR);
  priv = ssq_error_get_private (error);
  priv->retry_after_ms = retry_after_ms;
}

gint64
ssq_error_get_retry_after (const GError *error)
{
  SsqErrorPrivate *priv;

  if (error == NULL || error->domain != SSQ_ERROR)
    return 0;
  priv = ssq_error_get_private (error);
  return priv ? priv->retry_after_ms : 0;
}

/**
 * ssq_error_set_fingerprints:
 * @presented: (nullable): the fingerprint of the key the server presented
 * @pinned: (nullable): the one pinned for that server
 *
 * For SSQ_ERROR_UNTRUSTED and SSQ_ERROR_KEY_CHANGED: what the user
 * interface shows (and what ssq_client_trust_server () takes).
 */
void
ssq_error_set_fingerprints (GError     *error,
                            const char *presented,
                            const char *pinned)
{
  SsqErrorPrivate *priv;

  g_return_if_fail (error != NULL && error->domain == SSQ_ERROR);
  priv = ssq_error_get_private (error);
  g_free (priv->fingerprint);
  priv->fingerprint = g_strdup (presented);
  g_free (priv->pinned);
  priv->pinned = g_strdup (pinned);
}

/* The fingerprint the server presented, "sha256:" and 64 hex digits, or
 * NULL. */
const char *
ssq_error_get_fingerprint (const GError *error)
{
  SsqErrorPrivate *priv;

  if (error == NULL || error->domain != SSQ_ERROR)
    return NULL;
  priv = ssq_error_get_private (error);
  return priv ? priv->fingerprint : NULL;
}

/* The fingerprint pinned for the server (SSQ_ERROR_KEY_CHANGED), or NULL. */
const char *
ssq_error_get_pinned_fingerprint (const GError *error)
{
  SsqErrorPrivate *priv;

  if (error == NULL || error->domain != SSQ_ERROR)
    return NULL;
  priv = ssq_error_get_private (error);
  return priv ? priv->pinned : NULL;
}

void
ssq_set_rate_limited (GError **error,
                      gint64   retry_after_ms)
{
  g_autofree char *wait = NULL;
  GError *e;

  if (error == NULL)
    return;
  wait = ssq_display_duration (retry_after_ms);
  e = g_error_new (SSQ_ERROR, SSQ_ERROR_RATE_LIMITED, _("Too many requests; retry in %s"), wait);
  ssq_error_set_retry_after (e, retry_after_ms);
  g_propagate_error (error, e);
}

static const struct {
  const char *code;
  guint       status;
} error_table[] = {
  [SSQ_ERROR_INVALID]         = { "invalid", 400 },
  [SSQ_ERROR_UNAUTHORIZED]    = { "unauthorized", 401 },
  [SSQ_ERROR_FORBIDDEN]       = { "forbidden", 403 },
  [SSQ_ERROR_NOT_FOUND]       = { "not_found", 404 },
  [SSQ_ERROR_CONFLICT]        = { "conflict", 409 },
  [SSQ_ERROR_USERNAME_TAKEN]  = { "username_taken", 409 },
  [SSQ_ERROR_TOO_LARGE]       = { "too_large", 413 },
  [SSQ_ERROR_RATE_LIMITED]    = { "rate_limited", 429 },
  [SSQ_ERROR_INTERNAL]        = { "internal", 500 },
  [SSQ_ERROR_UNAVAILABLE]     = { "unavailable", 503 },
  [SSQ_ERROR_NOT_IMPLEMENTED] = { "not_implemented", 501 },
  [SSQ_ERROR_NETWORK]         = { "network", 0 },
  [SSQ_ERROR_PROTOCOL]        = { "protocol", 0 },
  [SSQ_ERROR_QUOTA_EXCEEDED]  = { "quota_exceeded", 507 },
  [SSQ_ERROR_ACCOUNT_DISABLED] = { "account_disabled", 403 },
  [SSQ_ERROR_FEATURE_DISABLED] = { "feature_disabled", 403 },
  [SSQ_ERROR_INVITE_REQUIRED] = { "invite_required", 403 },
  [SSQ_ERROR_INVITE_INVALID]  = { "invite_invalid", 403 },
  [SSQ_ERROR_INVITE_EXPIRED]  = { "invite_expired", 403 },
  [SSQ_ERROR_INVITE_USED_UP]  = { "invite_used_up", 403 },
  [SSQ_ERROR_UNTRUSTED]       = { "untrusted", 0 },
  [SSQ_ERROR_KEY_CHANGED]     = { "key_changed", 0 },
  [SSQ_ERROR_INSECURE]        = { "insecure", 0 },
  [SSQ_ERROR_STORAGE]         = { "storage", 0 },
};

G_STATIC_ASSERT (G_N_ELEMENTS (error_table) == SSQ_ERROR_LAST + 1);

const char *
ssq_error_code_to_string (SsqError code)
{
  if ((guint) code >= G_N_ELEMENTS (error_table))
    return "internal";
  return error_table[code].code;
}

/* A code read from the wire: the client's own codes (network, protocol,
 * storage, the key codes: no HTTP status) are never the server's to send,
 * and are not taken from it: a server saying "storage" would make the CLI
 * report the user's own disk as full. */
gboolean
ssq_error_code_from_string (const char *str,
                            SsqError   *out_code)
{
  g_return_val_if_fail (out_code != NULL, FALSE);

  for (guint i = 0; str != NULL && i < G_N_ELEMENTS (error_table); i++)
    {
      if (error_table[i].status != 0 && strcmp (error_table[i].code, str) == 0)
        {
          *out_code = (SsqError) i;
          return TRUE;
        }
    }
  return FALSE;
}

guint
ssq_error_code_http_status (SsqError code)
{
  if ((guint) code >= G_N_ELEMENTS (error_table))
    return 500;
  return error_table[code].status;
}

SsqError
ssq_error_code_for_status (guint http_status)
{
  for (guint i = 0; i < G_N_ELEMENTS (error_table); i++)
    if (error_table[i].status == http_status && http_status != 0)
      return (SsqError) i;
  return SSQ_ERROR_INTERNAL;
}

gboolean
ssq_check_username (const char  *username,
                    GError     **error)
{
  gsize len = username ? strlen (username) : 0;

  if (len < SSQ_USERNAME_MIN || len > SSQ_USERNAME_MAX)
    {
      g_set_error (error, SSQ_ERROR, SSQ_ERROR_INVALID,
                   _("A username has %d to %d characters"), SSQ_USERNAME_MIN, SSQ_USERNAME_MAX);
      return FALSE;
    }
  for (gsize i = 0; i < len; i++)
    {
      char c = g_ascii_tolower (username[i]);

      if (!(g_ascii_isdigit (c) || (c >= 'a' && c <= 'z') || c == '_' || c == '.' || c == '-'))
        {
          g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_INVALID,
                               _("A username may only hold letters a-z, digits and _ . -"));
          return FALSE;
        }
    }
  return TRUE;
}

gboolean
ssq_check_password (const char  *password,
                    GError     **error)
{
  gsize len = password ? strlen (password) : 0;

  if (len < SSQ_PASSWORD_MIN || len > SSQ_PASSWORD_MAX)
    {
      g_set_error (error, SSQ_ERROR, SSQ_ERROR_INVALID,
                   _("A password has %d to %d bytes"), SSQ_PASSWORD_MIN, SSQ_PASSWORD_MAX);
      return FALSE;
    }
  return TRUE;
}

/* Checks a text value from the wire: valid UTF-8 (which the JSON layer already
 * guarantees for strings, but not for what callers build) and within bounds.
 * NUL bytes are caught earlier, by the JSON reader. */
gboolean
ssq_check_text (const char  *what,
                const char  *text,
                gsize        min_bytes,
                gsize        max_bytes,
                GError     **error)
{
  gsize len;

  if (text == NULL)
    {
      g_set_error (error, SSQ_ERROR, SSQ_ERROR_INVALID, _("Missing %s"), what);
      return FALSE;
    }
  len = strlen (text);
  if (len < min_bytes || len > max_bytes)
    {
      g_set_error (error, SSQ_ERROR, SSQ_ERROR_INVALID,
                   _("The %s must have %llu to %llu bytes"),
                   what, (unsigned long long) min_bytes, (unsigned long long) max_bytes);
      return FALSE;
    }
  if (!g_utf8_validate (text, len, NULL))
    {
      g_set_error (error, SSQ_ERROR, SSQ_ERROR_INVALID, _("The %s is not valid UTF-8"), what);
      return FALSE;
    }
  return TRUE;
}

/* Could @c continue a username? Usernames are [a-z0-9_.-]; a '.' right
 * after a name counts only when more name follows, so that "@alice." at the
 * end of a sentence still mentions alice. */
static gboolean
continues_username (const char *c)
{
  return g_ascii_isalnum (c[0]) || c[0] == '_' || c[0] == '-' ||
         (c[0] == '.' && g_ascii_isalnum (c[1]));
}

/**
 * ssq_proto_mentions:
 * Whether @body mentions @username as "@username" standing alone: any case,
 * not preceded by a letter, digit or '_' (so "x@alice", an address, does
 * not count) and not followed by more of a username ("@alicex",
 * "@alice-bob"). The server decides a `mention` notification with this rule
 * and clients that derive notifications themselves must decide alike, hence
 * one function for both.
 */
gboolean
ssq_proto_mentions (const char *body,
                    const char *username)
{
  gsize ulen;

  if (body == NULL || username == NULL || username[0] == '\0')
    return FALSE;
  ulen = strlen (username);
  for (const char *p = strchr (body, '@'); p != NULL; p = strchr (p + 1, '@'))
    {
      gboolean start_ok = p == body || !(g_ascii_isalnum (p[-1]) || p[-1] == '_');

      /* strncasecmp stops at the body's end, so p + 1 + ulen is only read
       * when the body holds that many characters after the '@'. */
      if (start_ok && g_ascii_strncasecmp (p + 1, username, ulen) == 0 &&
          !continues_username (p + 1 + ulen))
        return TRUE;
    }
  return FALSE;
}

gint64
ssq_now_ms (void)
{
  return g_get_real_time () / 1000;
}
