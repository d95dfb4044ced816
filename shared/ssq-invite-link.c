/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-invite-link.c: invite links. A link arrives from a chat, a QR code or
 * a web page: anyone may have written it, so it is read strictly (printable
 * ASCII, one shape, bounded lengths) and every refusal says what is wrong. */
#include <glib/gi18n.h>
#include "ssq-invite-link.h"
#include "ssq-proto.h"

#include <string.h>

void
ssq_invite_link_free (SsqInviteLink *link)
{
  if (link == NULL)
    return;
  g_free (link->host);
  g_free (link->token);
  g_free (link->fingerprint);
  g_free (link);
}

static gboolean
fail (GError     **error,
      const char  *why)
{
  g_set_error (error, SSQ_ERROR, SSQ_ERROR_INVALID, _("Not an invite link: %s"), why);
  return FALSE;
}

/**
 * ssq_invite_link_check_token:
 * Whether @token has the shape of an invite token: base64url characters,
 * SSQ_INVITE_TOKEN_MIN to SSQ_INVITE_TOKEN_MAX of them.
 */
gboolean
ssq_invite_link_check_token (const char *token)
{
  gsize len = token ? strlen (token) : 0;

  if (len < SSQ_INVITE_TOKEN_MIN || len > SSQ_INVITE_TOKEN_MAX)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isalnum (token[i]) && token[i] != '-' && token[i] != '_')
      return FALSE;
  return TRUE;
}

/**
 * ssq_fingerprint_normalize:
 * The one form of a public key's fingerprint that links carry and pins
 * compare: "sha256:" and 64 lowercase hex digits. Takes that form, or the
 * one people read ("sha256:AB:CD:…", the server prints it so), in either
 * case.
 *
 * Returns: (transfer full) (nullable): the compact form, or NULL when
 * @fingerprint is neither
 */
char *
ssq_fingerprint_normalize (const char *fingerprint)
{
  g_autoptr(GString) out = NULL;
  const char *p;
  gboolean grouped;

  if (fingerprint == NULL ||
      g_ascii_strncasecmp (fingerprint, SSQ_FINGERPRINT_PREFIX, strlen (SSQ_FINGERPRINT_PREFIX)) != 0)
    return NULL;
  p = fingerprint + strlen (SSQ_FINGERPRINT_PREFIX);
  grouped = strlen (p) == SSQ_FINGERPRINT_HEX + SSQ_FINGERPRINT_HEX / 2 - 1;
  out = g_string_new (SSQ_FINGERPRINT_PREFIX);
  for (guint i = 0; *p != '\0'; i++, p++)
    {
      /* Grouped: a colon after every two digits, none at the end. */
      if (grouped && i % 3 == 2)
        {
          if (*p != ':')
            return NULL;
          continue;
        }
      if (!g_ascii_isxdigit (*p))
        return NULL;
      g_string_append_c (out, g_ascii_tolower (*p));
    }
  if (out->len != strlen (SSQ_FINGERPRINT_PREFIX) + SSQ_FINGERPRINT_HEX)
    return NULL;
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/**
 * ssq_invite_link_check_fingerprint:
 * Whether @fingerprint is a SHA-256 fingerprint in either form
 * ssq_fingerprint_normalize() takes.
 */
gboolean
ssq_invite_link_check_fingerprint (const char *fingerprint)
{
  g_autofree char *compact = ssq_fingerprint_normalize (fingerprint);

  return compact != NULL;
}

/**
 * ssq_invite_link_fingerprint_groups:
 * @fingerprint as people compare it with what the server printed at start
 * ("sha256:AB:CD:…"): the same upper-case pairs and colons, sixteen pairs
 * a line. Either form of ssq_fingerprint_normalize() is taken.
 * Returns: (transfer full) (nullable): NULL for no valid fingerprint
 */
char *
ssq_invite_link_fingerprint_groups (const char *fingerprint)
{
  g_autofree char *compact = ssq_fingerprint_normalize (fingerprint);
  const char *hex;
  GString *out;

  if (compact == NULL)
    return NULL;
  hex = compact + strlen (SSQ_FINGERPRINT_PREFIX);
  out = g_string_new (NULL);
  for (int i = 0; i < SSQ_FINGERPRINT_HEX; i += 2)
    {
      if (i > 0)
        g_string_append_c (out, i % 32 == 0 ? '\n' : ':');
      g_string_append_c (out, g_ascii_toupper (hex[i]));
      g_string_append_c (out, g_ascii_toupper (hex[i + 1]));
    }
  return g_string_free (out, FALSE);
}

/* A host name (letters, digits, dots, dashes; no empty label) or an IPv4
 * address; IPv6 comes in brackets and is checked by the caller. */
static gboolean
check_host_name (const char *host)
{
  gsize len = strlen (host);

  if (len == 0 || len > 253 || host[0] == '.' || host[0] == '-' || strstr (host, "..") != NULL)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isalnum (host[i]) && host[i] != '.' && host[i] != '-')
      return FALSE;
  return TRUE;
}

static gboolean
parse_port (const char  *text,
            guint16     *out,
            GError     **error)
{
  guint64 port = 0;
  gsize len = strlen (text);

  if (len == 0 || len > 5)
    return fail (error, _("the port is missing or too long"));
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isdigit (text[i]))
      return fail (error, _("the port is not a number"));
  port = g_ascii_strtoull (text, NULL, 10);
  if (port == 0 || port > 65535)
    return fail (error, _("the port is out of range"));
  *out = (guint16) port;
  return TRUE;
}

/* HOST:PORT or [IPV6]:PORT. */
static gboolean
parse_authority (const char     *authority,
                 SsqInviteLink  *link,
                 GError        **error)
{
  g_autofree char *host = NULL;
  const char *port;

  if (strchr (authority, '@') != NULL)
    return fail (error, _("a user name in the address"));
  if (authority[0] == '[')
    {
      const char *close = strchr (authority, ']');

      if (close == NULL || close[1] != ':')
        return fail (error, _("an IPv6 address needs [ADDRESS]:PORT"));
      host = g_strndup (authority + 1, close - authority - 1);
      if (strchr (host, ':') == NULL || !g_hostname_is_ip_address (host))
        return fail (error, _("not an IPv6 address in brackets"));
      port = close + 2;
    }
  else
    {
      const char *colon = strchr (authority, ':');

      if (colon == NULL)
        return fail (error, _("no port after the host"));
      host = g_strndup (authority, colon - authority);
      if (!check_host_name (host))
        return fail (error, _("not a host name or address"));
      port = colon + 1;
    }
  if (!parse_port (port, &link->port, error))
    return FALSE;
  link->host = g_steal_pointer (&host);
  return TRUE;
}

/* fp=sha256:HEX, once; other parameters are for later versions and are
 * left alone. The colon may come percent-encoded. */
static gboolean
parse_query (const char     *query,
             SsqInviteLink  *link,
             GError        **error)
{
  g_auto(GStrv) pairs = g_strsplit (query, "&", -1);

  for (guint i = 0; pairs[i] != NULL; i++)
    {
      g_autofree char *value = NULL;

      if (!g_str_has_prefix (pairs[i], "fp="))
        continue;
      if (link->fingerprint != NULL)
        return fail (error, _("two fingerprints"));
      value = g_strdup (pairs[i] + 3);
      if (g_ascii_strncasecmp (value, "sha256%3A", 9) == 0)
        {
          char *plain = g_strconcat (SSQ_FINGERPRINT_PREFIX, value + 9, NULL);

          g_free (value);
          value = plain;
        }
      link->fingerprint = ssq_fingerprint_normalize (value);
      if (link->fingerprint == NULL)
        return fail (error, _("the fingerprint is not sha256: and 64 hex digits"));
    }
  return TRUE;
}

/**
 * ssq_invite_link_parse:
 * Reads `supersoniq://HOST:PORT/invite/TOKEN[?fp=sha256:HEX]`; spaces
 * around it (a paste) do not matter, anything else out of shape is
 * refused with SSQ_ERROR_INVALID saying what.
 */
SsqInviteLink *
ssq_invite_link_parse (const char  *text,
                       GError     **error)
{
  g_autoptr(SsqInviteLink) link = g_new0 (SsqInviteLink, 1);
  g_autofree char *copy = NULL;
  g_autofree char *authority = NULL;
  const char *rest, *slash, *query, *token;
  gsize scheme_len = strlen (SSQ_INVITE_SCHEME "://");

  g_return_val_if_fail (text != NULL, NULL);
  if (strlen (text) > SSQ_INVITE_LINK_MAX)
    return fail (error, _("too long")), NULL;
  copy = g_strstrip (g_strdup (text));
  for (const char *p = copy; *p != '\0'; p++)
    if ((guchar) *p <= ' ' || (guchar) *p >= 0x7f)
      return fail (error, _("a space, control or non-ASCII character in it")), NULL;
  if (g_ascii_strncasecmp (copy, SSQ_INVITE_SCHEME "://", scheme_len) != 0)
    return fail (error, _("it does not start with supersoniq://")), NULL;
  if (strchr (copy, '#') != NULL)
    return fail (error, _("a fragment (#) at the end")), NULL;
  rest = copy + scheme_len;
  slash = strchr (rest, '/');
  if (slash == NULL)
    return fail (error, _("no /invite/ path")), NULL;
  authority = g_strndup (rest, slash - rest);
  if (!parse_authority (authority, link, error))
    return NULL;
  if (!g_str_has_prefix (slash, "/invite/"))
    return fail (error, _("no /invite/ path")), NULL;
  token = slash + strlen ("/invite/");
  query = strchr (token, '?');
  link->token = query ? g_strndup (token, query - token) : g_strdup (token);
  if (!ssq_invite_link_check_token (link->token))
    return fail (error, _("the invite token is malformed")), NULL;
  if (query != NULL && !parse_query (query + 1, link, error))
    return NULL;
  return g_steal_pointer (&link);
}

/**
 * ssq_invite_link_format:
 * The link for @token on @host:@port; @fingerprint (NULL: a server without
 * TLS) becomes the fp parameter.
 */
char *
ssq_invite_link_format (const char *host,
                        guint16     port,
                        const char *token,
                        const char *fingerprint)
{
  gboolean v6 = strchr (host, ':') != NULL;
  /* Compact: the shortest link, the smallest QR code. */
  g_autofree char *fp = ssq_fingerprint_normalize (fingerprint);

  g_return_val_if_fail (host != NULL && token != NULL, NULL);
  return g_strdup_printf (SSQ_INVITE_SCHEME "://%s%s%s:%u/invite/%s%s%s", v6 ? "[" : "", host,
                          v6 ? "]" : "", port, token, fp ? "?fp=" : "", fp ? fp : "");
}

/**
 * ssq_invite_link_server_url:
 * The server a link names: https:// with a fingerprint, http:// without.
 */
char *
ssq_invite_link_server_url (const SsqInviteLink *link)
{
  gboolean v6 = strchr (link->host, ':') != NULL;

  return g_strdup_printf ("%s://%s%s%s:%u", link->fingerprint ? "https" : "http",
                          v6 ? "[" : "", link->host, v6 ? "]" : "", link->port);
}
