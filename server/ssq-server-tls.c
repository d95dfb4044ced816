/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-tls.c: the server's certificate. At first start the server
 * makes an ECDSA P-256 key and a self-signed certificate in its data
 * directory; clients pin the SHA-256 of its public key (the pin curl's
 * --pinnedpubkey checks), so no certificate authority is involved and the
 * pin survives a renewed certificate on the same key. [tls] certificate=
 * and key= give a pair from elsewhere (a LAN CA, ACME), read again on
 * SIGHUP. */
#include "ssq-server-private.h"
#include "ssq-server-tls.h"
#include "ssq-server-discovery.h"

#include <errno.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/socket.h>

#define KEY_FILE   "tls-key.pem"
#define CERT_FILE  "tls-cert.pem"
#define VALIDITY_YEARS 20

static gboolean
tls_error (GError     **error,
           int          ret,
           const char  *what)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: %s", what, gnutls_strerror (ret));
  return FALSE;
}

static GBytes *
datum_to_bytes (gnutls_datum_t *datum)
{
  GBytes *bytes = g_bytes_new (datum->data, datum->size);

  gnutls_free (datum->data);
  datum->data = NULL;
  return bytes;
}

/* ---- Fingerprint ------------------------------------------------------- */

/**
 * ssq_server_tls_fingerprint:
 * The SHA-256 of the SubjectPublicKeyInfo (DER) of the first certificate of
 * @cert_pem, as "sha256:AB:CD:…" for people; @out_pin gets the same digest
 * in base64, as curl's --pinnedpubkey sha256//PIN takes it.
 */
char *
ssq_server_tls_fingerprint (GBytes  *cert_pem,
                            char   **out_pin,
                            GError **error)
{
  gnutls_datum_t pem = { (guchar *) g_bytes_get_data (cert_pem, NULL), g_bytes_get_size (cert_pem) };
  gnutls_datum_t spki = { NULL, 0 };
  gnutls_x509_crt_t crt = NULL;
  gnutls_pubkey_t key = NULL;
  guint8 digest[32];
  GString *hex = g_string_new ("sha256:");
  int ret;

  if ((ret = gnutls_x509_crt_init (&crt)) < 0 ||
      (ret = gnutls_x509_crt_import (crt, &pem, GNUTLS_X509_FMT_PEM)) < 0 ||
      (ret = gnutls_pubkey_init (&key)) < 0 ||
      (ret = gnutls_pubkey_import_x509 (key, crt, 0)) < 0 ||
      (ret = gnutls_pubkey_export2 (key, GNUTLS_X509_FMT_DER, &spki)) < 0 ||
      (ret = gnutls_hash_fast (GNUTLS_DIG_SHA256, spki.data, spki.size, digest)) < 0)
    {
      tls_error (error, ret, "Certificate");
      g_string_free (hex, TRUE);
      hex = NULL;
    }
  else
    {
      for (guint i = 0; i < sizeof digest; i++)
        g_string_append_printf (hex, "%s%02X", i ? ":" : "", digest[i]);
      if (out_pin != NULL)
        *out_pin = g_base64_encode (digest, sizeof digest);
    }
  gnutls_free (spki.data);
  if (key != NULL)
    gnutls_pubkey_deinit (key);
  if (crt != NULL)
    gnutls_x509_crt_deinit (crt);
  return hex ? g_string_free (hex, FALSE) : NULL;
}

/* ---- A certificate of our own ----------------------------------------- */

static void
add_ip (gnutls_x509_crt_t  crt,
        GHashTable        *seen,
        GInetAddress      *address)
{
  g_autofree char *text = g_inet_address_to_string (address);

  if (g_inet_address_get_is_any (address) || !g_hash_table_add (seen, g_steal_pointer (&text)))
    return;
  gnutls_x509_crt_set_subject_alt_name (crt, GNUTLS_SAN_IPADDRESS,
                                        g_inet_address_to_bytes (address),
                                        g_inet_address_get_native_size (address),
                                        GNUTLS_FSAN_APPEND);
}

/* The addresses clients may use: the listen address, or every interface's
 * when it is a wildcard, and loopback. A client that pins the key does not
 * need them; one that checks names (a browser told to trust it) does. */
static void
add_addresses (gnutls_x509_crt_t  crt,
               GInetAddress      *listen)
{
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GInetAddress) lo4 = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GInetAddress) lo6 = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV6);
  struct ifaddrs *ifs = NULL;

  add_ip (crt, seen, listen);
  if (g_inet_address_get_is_any (listen) && getifaddrs (&ifs) == 0)
    {
      for (struct ifaddrs *i = ifs; i != NULL; i = i->ifa_next)
        {
          g_autoptr(GSocketAddress) sa = NULL;

          if (i->ifa_addr == NULL ||
              (i->ifa_addr->sa_family != AF_INET && i->ifa_addr->sa_family != AF_INET6))
            continue;
          sa = g_socket_address_new_from_native (i->ifa_addr, i->ifa_addr->sa_family == AF_INET
                                                                ? sizeof (struct sockaddr_in)
                                                                : sizeof (struct sockaddr_in6));
          if (G_IS_INET_SOCKET_ADDRESS (sa) &&
              !g_inet_address_get_is_link_local (g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (sa))))
            add_ip (crt, seen, g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (sa)));
        }
      freeifaddrs (ifs);
    }
  add_ip (crt, seen, lo4);
  add_ip (crt, seen, lo6);
}

static void
add_names (gnutls_x509_crt_t  crt,
           const char        *name)
{
  g_autofree char *local = g_strconcat (name, ".local", NULL);
  const char *names[] = { name, local, "localhost" };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    if (i == 0 || !g_str_equal (names[i], name))
      gnutls_x509_crt_set_subject_alt_name (crt, GNUTLS_SAN_DNSNAME, names[i],
                                            strlen (names[i]), GNUTLS_FSAN_APPEND);
}

static gboolean
fill_certificate (gnutls_x509_crt_t      crt,
                  gnutls_x509_privkey_t  key,
                  GInetAddress          *listen,
                  const char            *name,
                  GError               **error)
{
  guint8 serial[16];
  time_t now = time (NULL);
  int ret;

  gnutls_rnd (GNUTLS_RND_NONCE, serial, sizeof serial);
  serial[0] &= 0x7f;      /* positive */
  if ((ret = gnutls_x509_crt_set_version (crt, 3)) < 0 ||
      (ret = gnutls_x509_crt_set_serial (crt, serial, sizeof serial)) < 0 ||
      /* A day back: a client whose clock lags is not refused. */
      (ret = gnutls_x509_crt_set_activation_time (crt, now - 86400)) < 0 ||
      (ret = gnutls_x509_crt_set_expiration_time (crt, now + (time_t) VALIDITY_YEARS * 365 * 86400)) < 0 ||
      (ret = gnutls_x509_crt_set_dn_by_oid (crt, GNUTLS_OID_X520_COMMON_NAME, 0, name,
                                            strlen (name))) < 0 ||
      (ret = gnutls_x509_crt_set_key (crt, key)) < 0 ||
      (ret = gnutls_x509_crt_set_basic_constraints (crt, 0, -1)) < 0 ||
      (ret = gnutls_x509_crt_set_key_usage (crt, GNUTLS_KEY_DIGITAL_SIGNATURE)) < 0 ||
      (ret = gnutls_x509_crt_set_key_purpose_oid (crt, GNUTLS_KP_TLS_WWW_SERVER, 0)) < 0)
    return tls_error (error, ret, "Certificate");
  add_names (crt, name);
  add_addresses (crt, listen);
  if ((ret = gnutls_x509_crt_sign2 (crt, crt, key, GNUTLS_DIG_SHA256, 0)) < 0)
    return tls_error (error, ret, "Signing the certificate");
  return TRUE;
}

/**
 * ssq_server_tls_make_self_signed:
 * A new self-signed certificate for @name and the addresses of @listen; with
 * *@out_key_pem set on entry, on that key (the fingerprint stays), else on a
 * new ECDSA P-256 key returned there.
 */
gboolean
ssq_server_tls_make_self_signed (GInetAddress  *listen,
                                 const char    *name,
                                 GBytes       **out_cert_pem,
                                 GBytes       **out_key_pem,
                                 GError       **error)
{
  gnutls_x509_privkey_t key = NULL;
  gnutls_x509_crt_t crt = NULL;
  gnutls_datum_t out = { NULL, 0 };
  gboolean ok = FALSE;
  int ret;

  if ((ret = gnutls_x509_privkey_init (&key)) < 0 || (ret = gnutls_x509_crt_init (&crt)) < 0)
    {
      tls_error (error, ret, "Key");
      goto out;
    }
  if (*out_key_pem != NULL)
    {
      gnutls_datum_t pem = { (guchar *) g_bytes_get_data (*out_key_pem, NULL),
                             g_bytes_get_size (*out_key_pem) };

      ret = gnutls_x509_privkey_import (key, &pem, GNUTLS_X509_FMT_PEM);
    }
  else
    ret = gnutls_x509_privkey_generate2 (key, GNUTLS_PK_ECDSA,
                                         GNUTLS_CURVE_TO_BITS (GNUTLS_ECC_CURVE_SECP256R1),
                                         0, NULL, 0);
  if (ret < 0)
    {
      tls_error (error, ret, "Key");
      goto out;
    }
  if (!fill_certificate (crt, key, listen, name, error))
    goto out;
  if ((ret = gnutls_x509_crt_export2 (crt, GNUTLS_X509_FMT_PEM, &out)) < 0)
    {
      tls_error (error, ret, "Certificate");
      goto out;
    }
  *out_cert_pem = datum_to_bytes (&out);
  if (*out_key_pem == NULL)
    {
      if ((ret = gnutls_x509_privkey_export2 (key, GNUTLS_X509_FMT_PEM, &out)) < 0)
        {
          g_clear_pointer (out_cert_pem, g_bytes_unref);
          tls_error (error, ret, "Key");
          goto out;
        }
      *out_key_pem = datum_to_bytes (&out);
    }
  ok = TRUE;

out:
  if (crt != NULL)
    gnutls_x509_crt_deinit (crt);
  if (key != NULL)
    gnutls_x509_privkey_deinit (key);
  return ok;
}

/* 0600, whole or not at all (a temporary file renamed over it). */
static gboolean
write_private (const char  *path,
               GBytes      *bytes,
               GError     **error)
{
  return g_file_set_contents_full (path, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes),
                                   G_FILE_SET_CONTENTS_CONSISTENT, 0600, error);
}

static GBytes *
read_file (const char  *path,
           GError     **error)
{
  char *data;
  gsize len;

  if (!g_file_get_contents (path, &data, &len, error))
    return NULL;
  return g_bytes_new_take (data, len);
}

/* The data directory's pair, made when missing: the key first (a
 * certificate without its key is useless; a key alone gets a new
 * certificate, and the fingerprint stays). */
static gboolean
ensure_own_pair (SsqServer     *self,
                 GInetAddress  *listen,
                 GError       **error)
{
  g_autofree char *key_path = g_build_filename (self->config->data_dir, KEY_FILE, NULL);
  g_autofree char *cert_path = g_build_filename (self->config->data_dir, CERT_FILE, NULL);
  g_autoptr(GBytes) key = NULL;
  g_autoptr(GBytes) cert = NULL;
  gboolean new_key;

  if (g_file_test (key_path, G_FILE_TEST_EXISTS) && g_file_test (cert_path, G_FILE_TEST_EXISTS))
    return TRUE;
  new_key = !g_file_test (key_path, G_FILE_TEST_EXISTS);
  if (!new_key && (key = read_file (key_path, error)) == NULL)
    return FALSE;
  if (!ssq_server_tls_make_self_signed (listen, g_get_host_name (), &cert, &key, error))
    {
      g_prefix_error (error, "%s: ", key_path);
      return FALSE;
    }
  if ((new_key && !write_private (key_path, key, error)) || !write_private (cert_path, cert, error))
    return FALSE;
  g_message (new_key ? "Made a TLS key and a self-signed certificate in %s"
                     : "Made a self-signed certificate for the TLS key in %s",
             self->config->data_dir);
  return TRUE;
}

static void
pair_paths (SsqServer  *self,
            char      **out_cert,
            char      **out_key)
{
  const SsqServerConfig *config = self->config;

  if (config->tls_certificate != NULL && config->tls_certificate[0] != '\0')
    {
      *out_cert = g_strdup (config->tls_certificate);
      *out_key = g_strdup (config->tls_key);
      return;
    }
  *out_cert = g_build_filename (config->data_dir, CERT_FILE, NULL);
  *out_key = g_build_filename (config->data_dir, KEY_FILE, NULL);
}

/* Reads the pair and gives it to the transport; the fingerprint follows. */
static gboolean
load_pair (SsqServer  *self,
           GError    **error)
{
  g_autofree char *cert_path = NULL;
  g_autofree char *key_path = NULL;
  g_autoptr(GBytes) cert = NULL;
  g_autoptr(GBytes) key = NULL;
  g_autofree char *pin = NULL;
  g_autofree char *fingerprint = NULL;

  pair_paths (self, &cert_path, &key_path);
  if ((cert = read_file (cert_path, error)) == NULL || (key = read_file (key_path, error)) == NULL)
    return FALSE;
  fingerprint = ssq_server_tls_fingerprint (cert, &pin, error);
  if (fingerprint == NULL)
    {
      g_prefix_error (error, "%s: ", cert_path);
      return FALSE;
    }
  if (!ssq_net_server_set_tls (self->net, cert, key, error) ||
      (self->amqp != NULL && !ssq_amqp_server_set_tls (self->amqp, cert, key, error)))
    {
      g_prefix_error (error, "%s and %s: ", cert_path, key_path);
      return FALSE;
    }
  if (g_strcmp0 (fingerprint, self->tls_fingerprint) != 0)
    g_message ("TLS public key fingerprint: %s (curl --pinnedpubkey sha256//%s)", fingerprint, pin);
  g_free (self->tls_fingerprint);
  self->tls_fingerprint = g_steal_pointer (&fingerprint);
  /* A reloaded pair: the LAN hears the new fingerprint. */
  ssq_server_discovery_set_fingerprint (self->discovery, self->tls_fingerprint);
  g_free (self->tls_pin);
  self->tls_pin = g_steal_pointer (&pin);
  return TRUE;
}

gboolean
ssq_server_tls_read_pair (SsqServer  *self,
                          GBytes    **out_cert_pem,
                          GBytes    **out_key_pem,
                          GError    **error)
{
  g_autofree char *cert_path = NULL;
  g_autofree char *key_path = NULL;

  pair_paths (self, &cert_path, &key_path);
  *out_cert_pem = read_file (cert_path, error);
  if (*out_cert_pem == NULL)
    return FALSE;
  *out_key_pem = read_file (key_path, error);
  if (*out_key_pem == NULL)
    {
      g_clear_pointer (out_cert_pem, g_bytes_unref);
      return FALSE;
    }
  return TRUE;
}

/**
 * ssq_server_tls_setup:
 * TLS on the chat port, unless [tls] enabled=false: our own pair, made at
 * first start, or the one [tls] names. Plain HTTP then stays for the peers
 * [tls] plain_http allows (by default, this machine's).
 */
gboolean
ssq_server_tls_setup (SsqServer     *self,
                      GInetAddress  *listen,
                      GError       **error)
{
  const SsqServerConfig *config = self->config;

  if (!config->tls_enabled)
    return TRUE;
  if ((config->tls_certificate == NULL || config->tls_certificate[0] == '\0') &&
      !ensure_own_pair (self, listen, error))
    return FALSE;
  if (!load_pair (self, error))
    return FALSE;
  /* SsqTlsPlain and SsqNetPlain list the same words in the same order. */
  ssq_net_server_set_plain (self->net, (SsqNetPlain) config->tls_plain_http);
  return TRUE;
}

/**
 * ssq_server_tls_reload:
 * Reads the certificate and key again (SIGHUP): new connections get them,
 * open ones keep theirs. A pair that does not load leaves the one in use
 * and says why.
 */
gboolean
ssq_server_tls_reload (SsqServer  *self,
                       GError    **error)
{
  if (!self->config->tls_enabled)
    return TRUE;
  return load_pair (self, error);
}
