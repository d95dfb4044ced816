/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-client-trust.c: how SsqClient trusts a server (ssq-trust.h). The
 * session has no certificate database, so every TLS connection it opens
 * fails the authority check and asks "accept-certificate"; every message
 * queued on the session gets the one handler that answers by the pin. The
 * WebSocket's own connection asks the same question (ssq-ws-connect.c).
 * Plain http:// is refused before anything is sent, unless to loopback or
 * with "insecure". */
#include <glib/gi18n.h>
#include "ssq-client-private.h"
#include "ssq-proto.h"
#include "ssq-trust.h"

#define TRUST_ERROR_KEY "ssq-trust-error"

static gboolean
accept_certificate_cb (SoupMessage          *msg,
                       GTlsCertificate      *certificate,
                       GTlsCertificateFlags  errors,
                       SsqClient            *self)
{
  g_autofree char *url = g_uri_to_string (soup_message_get_uri (msg));
  GError *error = NULL;

  if (ssq_trust_check_certificate (self->known_servers, url, certificate, &error))
    return TRUE;
  g_debug ("client: %s", error->message);
  /* For whoever reads the failure of the send (ssq_client_transport_error). */
  g_object_set_data_full (G_OBJECT (msg), TRUST_ERROR_KEY, error, (GDestroyNotify) g_error_free);
  return FALSE;
}

/* Every message of the session, whoever made it, is checked here. */
static void
request_queued_cb (SoupSession *session,
                   SoupMessage *msg,
                   SsqClient   *self)
{
  g_signal_connect_object (msg, "accept-certificate", G_CALLBACK (accept_certificate_cb), self, 0);
}

/* Called once, from ssq_client_init (). */
void
ssq_client_trust_init (SsqClient *self)
{
  /* No authority vouches for a server: the pin does, and nothing else. */
  soup_session_set_tls_database (self->session, NULL);
  g_signal_connect_object (self->session, "request-queued", G_CALLBACK (request_queued_cb), self, 0);
}

/**
 * ssq_client_check_transport:
 * Whether the client may talk to its server the way its URL says: plain
 * http:// only to loopback, or with "insecure" (SSQ_ERROR_INSECURE).
 */
gboolean
ssq_client_check_transport (SsqClient  *self,
                            GError    **error)
{
  return ssq_trust_check_transport (self->server_url, self->insecure, error);
}

/**
 * ssq_client_transport_error:
 * The error to report for @msg's send failing with @error: the key's
 * (SSQ_ERROR_UNTRUSTED, SSQ_ERROR_KEY_CHANGED) when the pin refused the
 * server, else SSQ_ERROR_NETWORK.
 */
GError *
ssq_client_transport_error (SoupMessage  *msg,
                            const GError *error)
{
  const GError *trust = msg ? g_object_get_data (G_OBJECT (msg), TRUST_ERROR_KEY) : NULL;

  if (trust != NULL)
    return g_error_copy (trust);
  return g_error_new (SSQ_ERROR, SSQ_ERROR_NETWORK, _("Cannot reach the server: %s"),
                      error->message);
}

/**
 * ssq_client_trust_server:
 * @url: (nullable): the server; NULL: the client's
 * @fingerprint: its key's fingerprint, grouped (`sha256:AB:CD:…`, as the
 *   server prints it) or compact (as invite links carry it)
 *
 * Pins @fingerprint for the server: after the person confirmed it (from
 * ssq_error_get_fingerprint () of an SSQ_ERROR_UNTRUSTED error), or before
 * connecting when it came from a trusted place (an invite link, discovery,
 * `--trust`). A different pin already there is not replaced
 * (SSQ_ERROR_KEY_CHANGED): see ssq_client_forget_server ().
 */
gboolean
ssq_client_trust_server (SsqClient   *self,
                         const char  *url,
                         const char  *fingerprint,
                         GError     **error)
{
  g_return_val_if_fail (SSQ_IS_CLIENT (self), FALSE);
  g_return_val_if_fail (fingerprint != NULL, FALSE);

  return ssq_trust_pin (self->known_servers, url ? url : self->server_url, fingerprint, error);
}

/**
 * ssq_client_forget_server:
 * @url: (nullable): the server; NULL: the client's
 * @out_found: (out) (optional): whether a key was trusted for it
 *
 * Forgets the key trusted for the server: the next connection asks again.
 * For a server whose key changed on purpose, once its administrator
 * confirmed it.
 */
gboolean
ssq_client_forget_server (SsqClient   *self,
                          const char  *url,
                          gboolean    *out_found,
                          GError     **error)
{
  g_return_val_if_fail (SSQ_IS_CLIENT (self), FALSE);

  return ssq_trust_forget (self->known_servers, url ? url : self->server_url, out_found, error);
}

/* The server information (GET /api/v1/server) asked only for the
 * connection's sake: its content is not needed. */
static gpointer
ignore_reply (SsqClient   *self,
              JsonObject  *reply,
              GError     **error)
{
  return GINT_TO_POINTER (1);
}

/**
 * ssq_client_check_server_async:
 * Connects to the server without logging in, so that a key not trusted yet
 * (SSQ_ERROR_UNTRUSTED, with the fingerprint to show) or a changed one
 * (SSQ_ERROR_KEY_CHANGED) is known before a password is typed or a command
 * runs. Plain http:// to a host that is not loopback fails
 * (SSQ_ERROR_INSECURE) without a connection.
 */
void
ssq_client_check_server_async (SsqClient           *self,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_return_if_fail (SSQ_IS_CLIENT (self));

  ssq_client_api_call (self, "GET", "/api/v1/server", NULL, ignore_reply, NULL,
                       ssq_client_check_server_async, cancellable, callback, user_data);
}

gboolean
ssq_client_check_server_finish (SsqClient     *self,
                                GAsyncResult  *result,
                                GError       **error)
{
  return ssq_client_api_finish (self, result, ssq_client_check_server_async, error) != NULL;
}

/* The pins' file this client reads ("known-servers"; NULL: the default). */
const char *
ssq_client_get_known_servers (SsqClient *self)
{
  g_return_val_if_fail (SSQ_IS_CLIENT (self), NULL);
  return self->known_servers;
}
