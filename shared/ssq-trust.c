/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-trust.c: trust on first use. A server's certificate is not checked
 * against any certificate authority: the SHA-256 of its public key
 * (SubjectPublicKeyInfo, DER: the digest the server prints, computed the
 * same way, with GnuTLS) is compared with the one pinned for HOST:PORT.
 * Pins live in a key file, one group per server, written atomically and
 * readable by the user alone:
 *
 *   [chat.lan:8443]
 *   fingerprint=sha256:<64 lower-case hex digits>
 *   pinned=2026-11-29T18:00:00Z
 *
 * (An IPv6 host stands without brackets in the group name, which may not
 * hold them; the port is always last.) */
#include <glib/gi18n.h>
#include "ssq-trust.h"
#include "ssq-invite-link.h"
#include "ssq-proto.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>
#include <string.h>

#define FINGERPRINT_KEY "fingerprint"
#define PINNED_KEY      "pinned"

/**
 * ssq_trust_default_store:
 * Returns: (transfer full): `$XDG_CONFIG_HOME/supersoniq/known-servers.ini`
 */
char *
ssq_trust_default_store (void)
{
  return g_build_filename (g_get_user_config_dir (), "supersoniq", SSQ_TRUST_FILE_NAME, NULL);
}

static GUri *
parse_server_url (const char  *url,
                  GError     **error)
{
  g_autoptr(GUri) uri = url ? g_uri_parse (url, G_URI_FLAGS_NONE, NULL) : NULL;
  const char *scheme = uri ? g_uri_get_scheme (uri) : NULL;

  if (uri == NULL || g_uri_get_host (uri) == NULL || *g_uri_get_host (uri) == '\0' ||
      !(g_ascii_strcasecmp (scheme, "http") == 0 || g_ascii_strcasecmp (scheme, "https") == 0 ||
        g_ascii_strcasecmp (scheme, "ws") == 0 || g_ascii_strcasecmp (scheme, "wss") == 0))
    {
      g_set_error (error, SSQ_ERROR, SSQ_ERROR_INVALID, _("Not a server address: %s"),
                   url ? url : "");
      return NULL;
    }
  return g_steal_pointer (&uri);
}

static gboolean
uri_is_tls (GUri *uri)
{
  return g_ascii_strcasecmp (g_uri_get_scheme (uri), "https") == 0 ||
         g_ascii_strcasecmp (g_uri_get_scheme (uri), "wss") == 0;
}

/* The host in lower case (names are not case-sensitive) and the port, the
 * scheme's default when the URL has none. */
static char *
uri_host (GUri *uri)
{
  return g_ascii_strdown (g_uri_get_host (uri), -1);
}

static int
uri_port (GUri *uri)
{
  return g_uri_get_port (uri) > 0 ? g_uri_get_port (uri) : uri_is_tls (uri) ? 443 : 80;
}

/**
 * ssq_trust_server_key:
 * Returns: (transfer full) (nullable): what a pin is stored under for the
 *   server of @url (http, https, ws or wss): `host:port`, the host in lower
 *   case, an IPv6 address without brackets, the port always given
 */
char *
ssq_trust_server_key (const char  *url,
                      GError     **error)
{
  g_autoptr(GUri) uri = parse_server_url (url, error);
  g_autofree char *host = NULL;

  if (uri == NULL)
    return NULL;
  host = uri_host (uri);
  return g_strdup_printf ("%s:%d", host, uri_port (uri));
}

/**
 * ssq_trust_server_display:
 * Returns: (transfer full): HOST:PORT of @url as people write it ([IPV6]:PORT),
 *   or @url itself when it names no server
 */
char *
ssq_trust_server_display (const char *url)
{
  g_autoptr(GUri) uri = parse_server_url (url, NULL);
  g_autofree char *host = NULL;

  if (uri == NULL)
    return g_strdup (url ? url : "");
  host = uri_host (uri);
  if (strchr (host, ':') != NULL)
    return g_strdup_printf ("[%s]:%d", host, uri_port (uri));
  return g_strdup_printf ("%s:%d", host, uri_port (uri));
}

/**
 * ssq_trust_server_url:
 * Returns: (transfer full): the server of @url (an API or WebSocket
 *   address) as the user gives it: `https://HOST:PORT` (http for plain),
 *   or @url itself when it names no server
 */
char *
ssq_trust_server_url (const char *url)
{
  g_autoptr(GUri) uri = parse_server_url (url, NULL);
  g_autofree char *where = ssq_trust_server_display (url);

  if (uri == NULL)
    return g_strdup (url ? url : "");
  return g_strconcat (uri_is_tls (uri) ? "https://" : "http://", where, NULL);
}

/* Whether @url is https:// or wss://. */
gboolean
ssq_trust_url_is_tls (const char *url)
{
  g_autoptr(GUri) uri = parse_server_url (url, NULL);

  return uri != NULL && uri_is_tls (uri);
}

/* Whether @url's host is this machine by its name alone: 127.0.0.0/8, ::1,
 * `localhost` and names under `.localhost` (RFC 6761). No name is looked
 * up: a resolver could be made to say anything. */
gboolean
ssq_trust_url_is_loopback (const char *url)
{
  g_autoptr(GUri) uri = parse_server_url (url, NULL);
  g_autoptr(GInetAddress) address = NULL;
  g_autofree char *host = NULL;

  if (uri == NULL)
    return FALSE;
  host = uri_host (uri);
  if (g_str_has_suffix (host, "."))
    host[strlen (host) - 1] = '\0';
  if (strcmp (host, "localhost") == 0 || g_str_has_suffix (host, ".localhost"))
    return TRUE;
  address = g_inet_address_new_from_string (host);
  return address != NULL && g_inet_address_get_is_loopback (address);
}

/**
 * ssq_trust_check_transport:
 * @insecure: the user asked for plain HTTP anywhere (--insecure)
 *
 * Plain http:// (ws://) carries passwords, tokens and messages in clear
 * text: it is refused (SSQ_ERROR_INSECURE) unless the host is loopback or
 * @insecure is set. https:// always passes (its key is checked on
 * connecting).
 */
gboolean
ssq_trust_check_transport (const char  *url,
                           gboolean     insecure,
                           GError     **error)
{
  g_autoptr(GUri) uri = parse_server_url (url, error);
  g_autofree char *where = NULL;

  if (uri == NULL)
    return FALSE;
  if (uri_is_tls (uri) || insecure || ssq_trust_url_is_loopback (url))
    return TRUE;
  where = ssq_trust_server_display (url);
  g_set_error (error, SSQ_ERROR, SSQ_ERROR_INSECURE,
               _("Refusing plain http:// to %s: the password and every message would cross the "
                 "network unencrypted. Use https://%s, or --insecure if you really mean it"),
               where, where);
  return FALSE;
}

/* The store, read; a missing file is an empty store. One that cannot be
 * read is an error: read as empty, it would turn a changed key into a
 * question the user may answer yes to. */
static GKeyFile *
load_store (const char  *store,
            GError     **error)
{
  g_autoptr(GKeyFile) file = g_key_file_new ();
  g_autoptr(GError) local = NULL;

  if (!g_key_file_load_from_file (file, store, G_KEY_FILE_NONE, &local) &&
      !g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
    {
      g_set_error (error, SSQ_ERROR, SSQ_ERROR_INTERNAL,
                   _("Cannot read the list of trusted servers %s: %s"), store, local->message);
      return NULL;
    }
  return g_steal_pointer (&file);
}

static gboolean
save_store (const char  *store,
            GKeyFile    *file,
            GError     **error)
{
  g_autofree char *dir = g_path_get_dirname (store);
  g_autofree char *data = NULL;
  g_autoptr(GError) local = NULL;
  gsize len;

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int errsv = errno;

      g_set_error (error, SSQ_ERROR, SSQ_ERROR_INTERNAL,
                   _("Cannot save the list of trusted servers in %s: %s"), dir, g_strerror (errsv));
      return FALSE;
    }
  data = g_key_file_to_data (file, &len, NULL);
  /* Atomic (a new file renamed over the old), 0600. */
  if (!g_file_set_contents_full (store, data, (gssize) len, G_FILE_SET_CONTENTS_CONSISTENT, 0600,
                                 &local))
    {
      g_set_error (error, SSQ_ERROR, SSQ_ERROR_INTERNAL,
                   _("Cannot save the list of trusted servers %s: %s"), store, local->message);
      return FALSE;
    }
  return TRUE;
}

static const char *
store_or_default (const char *store,
                  char      **own)
{
  if (store != NULL)
    return store;
  *own = ssq_trust_default_store ();
  return *own;
}

/**
 * ssq_trust_lookup:
 * @store: (nullable): the pins' file; NULL: ssq_trust_default_store ()
 *
 * Returns: (transfer full) (nullable): the fingerprint pinned for @url's
 *   server, "sha256:" and 64 hex digits; NULL with @error unset when none
 */
char *
ssq_trust_lookup (const char  *store,
                  const char  *url,
                  GError     **error)
{
  g_autofree char *own = NULL;
  g_autofree char *key = ssq_trust_server_key (url, error);
  g_autoptr(GKeyFile) file = NULL;
  g_autofree char *value = NULL;
  char *fingerprint;

  if (key == NULL || (file = load_store (store_or_default (store, &own), error)) == NULL)
    return NULL;
  value = g_key_file_get_string (file, key, FINGERPRINT_KEY, NULL);
  if (value == NULL)
    return NULL;
  fingerprint = ssq_fingerprint_normalize (value);
  if (fingerprint == NULL)
    g_set_error (error, SSQ_ERROR, SSQ_ERROR_INTERNAL,
                 _("The key trusted for %s in %s is not a fingerprint: %s"), key,
                 store_or_default (store, &own), value);
  return fingerprint;
}

/**
 * ssq_trust_pin:
 * @store: (nullable): the pins' file; NULL: ssq_trust_default_store ()
 * @fingerprint: grouped (`sha256:AB:CD:…`) or compact
 *
 * Trusts @fingerprint for @url's server from now on. The same pin again is
 * no change; a different one is refused with SSQ_ERROR_KEY_CHANGED: a pin
 * is replaced only on purpose, by ssq_trust_forget () first.
 */
gboolean
ssq_trust_pin (const char  *store,
               const char  *url,
               const char  *fingerprint,
               GError     **error)
{
  g_autofree char *own = NULL;
  g_autofree char *key = ssq_trust_server_key (url, error);
  g_autofree char *wanted = ssq_fingerprint_normalize (fingerprint);
  g_autofree char *pinned = NULL;
  g_autofree char *server = ssq_trust_server_url (url);
  g_autoptr(GKeyFile) file = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *when = g_date_time_format_iso8601 (now);
  GError *local = NULL;

  if (key == NULL)
    return FALSE;
  if (wanted == NULL)
    {
      g_set_error (error, SSQ_ERROR, SSQ_ERROR_INVALID,
                   _("Not a key fingerprint: %s (expected sha256: and 64 hex digits)"),
                   fingerprint ? fingerprint : "");
      return FALSE;
    }
  store = store_or_default (store, &own);
  if ((file = load_store (store, error)) == NULL)
    return FALSE;
  pinned = ssq_trust_lookup (store, url, &local);
  if (local != NULL)
    {
      g_propagate_error (error, local);
      return FALSE;
    }
  if (pinned != NULL && strcmp (pinned, wanted) == 0)
    return TRUE;
  if (pinned != NULL)
    {
      g_autofree char *where = ssq_trust_server_display (url);
      g_autofree char *old = ssq_trust_fingerprint_display (pinned);
      g_autofree char *new = ssq_trust_fingerprint_display (wanted);

      local = g_error_new (SSQ_ERROR, SSQ_ERROR_KEY_CHANGED,
                           _("A different key is already trusted for %s (%s, not %s). To replace "
                             "it on purpose, run “supersoniq-cli forget-server %s” first"),
                           where, old, new, server);
      ssq_error_set_fingerprints (local, wanted, pinned);
      g_propagate_error (error, local);
      return FALSE;
    }
  g_key_file_set_string (file, key, FINGERPRINT_KEY, wanted);
  g_key_file_set_string (file, key, PINNED_KEY, when);
  return save_store (store, file, error);
}

/**
 * ssq_trust_forget:
 * @store: (nullable): the pins' file; NULL: ssq_trust_default_store ()
 * @out_found: (out) (optional): whether a pin was there
 *
 * Removes the pin of @url's server: the next connection asks again.
 */
gboolean
ssq_trust_forget (const char  *store,
                  const char  *url,
                  gboolean    *out_found,
                  GError     **error)
{
  g_autofree char *own = NULL;
  g_autofree char *key = ssq_trust_server_key (url, error);
  g_autoptr(GKeyFile) file = NULL;
  gboolean found;

  if (key == NULL)
    return FALSE;
  store = store_or_default (store, &own);
  if ((file = load_store (store, error)) == NULL)
    return FALSE;
  found = g_key_file_has_group (file, key);
  if (out_found != NULL)
    *out_found = found;
  if (!found)
    return TRUE;
  g_key_file_remove_group (file, key, NULL);
  return save_store (store, file, error);
}

/**
 * ssq_trust_certificate_fingerprint:
 * Returns: (transfer full) (nullable): the SHA-256 of @certificate's
 *   public key (SubjectPublicKeyInfo, DER), "sha256:" and 64 lower-case
 *   hex digits: what the server prints, in compact form
 */
char *
ssq_trust_certificate_fingerprint (GTlsCertificate  *certificate,
                                   GError          **error)
{
  g_autoptr(GByteArray) der = NULL;
  gnutls_x509_crt_t crt = NULL;
  gnutls_pubkey_t key = NULL;
  gnutls_datum_t spki = { NULL, 0 };
  gnutls_datum_t in;
  guint8 digest[32];
  GString *out = NULL;
  int ret;

  g_return_val_if_fail (G_IS_TLS_CERTIFICATE (certificate), NULL);

  g_object_get (certificate, "certificate", &der, NULL);
  if (der == NULL)
    {
      g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_PROTOCOL,
                           _("The server's certificate cannot be read"));
      return NULL;
    }
  in.data = der->data;
  in.size = der->len;
  if ((ret = gnutls_x509_crt_init (&crt)) >= 0 &&
      (ret = gnutls_x509_crt_import (crt, &in, GNUTLS_X509_FMT_DER)) >= 0 &&
      (ret = gnutls_pubkey_init (&key)) >= 0 &&
      (ret = gnutls_pubkey_import_x509 (key, crt, 0)) >= 0 &&
      (ret = gnutls_pubkey_export2 (key, GNUTLS_X509_FMT_DER, &spki)) >= 0 &&
      (ret = gnutls_hash_fast (GNUTLS_DIG_SHA256, spki.data, spki.size, digest)) >= 0)
    {
      out = g_string_new (SSQ_FINGERPRINT_PREFIX);
      for (guint i = 0; i < sizeof digest; i++)
        g_string_append_printf (out, "%02x", digest[i]);
    }
  else
    g_set_error (error, SSQ_ERROR, SSQ_ERROR_PROTOCOL,
                 _("The server's certificate cannot be read: %s"), gnutls_strerror (ret));
  gnutls_free (spki.data);
  if (key != NULL)
    gnutls_pubkey_deinit (key);
  if (crt != NULL)
    gnutls_x509_crt_deinit (crt);
  return out ? g_string_free (out, FALSE) : NULL;
}

/**
 * ssq_trust_check_certificate:
 * @store: (nullable): the pins' file; NULL: ssq_trust_default_store ()
 *
 * Whether @certificate, presented by @url's server, carries the pinned
 * key. If not: SSQ_ERROR_UNTRUSTED when nothing is pinned yet (the person
 * is to compare the fingerprint and trust it), SSQ_ERROR_KEY_CHANGED when
 * another key is; both carry the fingerprints (ssq_error_get_fingerprint ()).
 */
gboolean
ssq_trust_check_certificate (const char       *store,
                             const char       *url,
                             GTlsCertificate  *certificate,
                             GError          **error)
{
  g_autofree char *presented = ssq_trust_certificate_fingerprint (certificate, error);
  g_autofree char *pinned = NULL;
  g_autofree char *where = NULL;
  g_autofree char *shown = NULL;
  g_autofree char *old = NULL;
  g_autofree char *server = ssq_trust_server_url (url);
  GError *local = NULL;

  if (presented == NULL)
    return FALSE;
  pinned = ssq_trust_lookup (store, url, &local);
  if (local != NULL)
    {
      g_propagate_error (error, local);
      return FALSE;
    }
  if (pinned != NULL && strcmp (pinned, presented) == 0)
    return TRUE;
  where = ssq_trust_server_display (url);
  shown = ssq_trust_fingerprint_display (presented);
  if (pinned == NULL)
    local = g_error_new (SSQ_ERROR, SSQ_ERROR_UNTRUSTED,
                         _("The server at %s presents the key %s, which is not trusted yet. "
                           "Compare it with the one the server printed, then trust it"),
                         where, shown);
  else
    {
      old = ssq_trust_fingerprint_display (pinned);
      local = g_error_new (SSQ_ERROR, SSQ_ERROR_KEY_CHANGED,
                           _("DANGER: the server at %s presents a DIFFERENT key than the one "
                             "trusted here. Trusted: %s. Presented: %s. Someone may be "
                             "intercepting the connection: do not log in. Only if the server's "
                             "administrator confirms that the server has a new key, run "
                             "“supersoniq-cli forget-server %s” and connect again"),
                           where, old, shown, server);
    }
  ssq_error_set_fingerprints (local, presented, pinned);
  g_propagate_error (error, local);
  return FALSE;
}

/**
 * ssq_trust_fingerprint_display:
 * Returns: (transfer full): @fingerprint as the server prints it,
 *   `sha256:AB:CD:…` (or as it is, if it is not one)
 */
char *
ssq_trust_fingerprint_display (const char *fingerprint)
{
  return ssq_trust_fingerprint_lines (fingerprint, 0);
}

/**
 * ssq_trust_fingerprint_lines:
 * @pairs_per_line: hex pairs per line; 0: one line
 *
 * Returns: (transfer full): @fingerprint grouped for reading aloud and
 *   comparing: `sha256:` then upper-case pairs joined by colons, a newline
 *   after every @pairs_per_line of them
 */
char *
ssq_trust_fingerprint_lines (const char *fingerprint,
                             guint       pairs_per_line)
{
  g_autofree char *compact = ssq_fingerprint_normalize (fingerprint);
  const char *hex;
  GString *out;

  if (compact == NULL)
    return g_strdup (fingerprint ? fingerprint : "");
  hex = compact + strlen (SSQ_FINGERPRINT_PREFIX);
  out = g_string_new (SSQ_FINGERPRINT_PREFIX);
  for (guint i = 0; i < SSQ_FINGERPRINT_HEX / 2; i++)
    {
      if (i > 0)
        g_string_append_c (out, pairs_per_line > 0 && i % pairs_per_line == 0 ? '\n' : ':');
      g_string_append_c (out, g_ascii_toupper (hex[2 * i]));
      g_string_append_c (out, g_ascii_toupper (hex[2 * i + 1]));
    }
  return g_string_free (out, FALSE);
}
