/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-net-tls.c: TLS on the transport's own connections, with GnuTLS over
 * the connection's non-blocking socket. The handshake runs step by step in
 * the epoll loop; records are read into the server's shared read buffer and
 * written from the connection's queue, so TLS adds no per-connection buffer
 * of ours. Credentials are reference counted: a reload (SIGHUP) gives new
 * connections the new certificate while older ones keep theirs. */
#include "ssq-net-private.h"

#include <errno.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

/* TLS 1.2 and 1.3 only; everything else GnuTLS calls NORMAL (forward secret
 * key exchanges, AEAD ciphers first). The server's preference wins. */
#define PRIORITY "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:%SERVER_PRECEDENCE"
/* Handshake messages a client may send us: a ClientHello is a few hundred
 * bytes to 2 KiB (with post-quantum key shares); GnuTLS's default is 128 KiB. */
#define MAX_HANDSHAKE_PACKET (32 * 1024)
#define RECORD_SIZE SSQ_NET_TLS_RECORD

struct _SsqNetTlsCreds {
  gint                             ref_count;
  gnutls_certificate_credentials_t cred;
};

struct _SsqNetTls {
  gnutls_session_t  session;
  SsqNetTlsCreds   *creds;          /* those the session was made with */
  gsize             in_flight;      /* a record GnuTLS holds after EAGAIN: its plaintext size */
  guint             handshake_done : 1;
  guint             bye_sent : 1;
};

static SsqNetTlsCreds *
creds_ref (SsqNetTlsCreds *creds)
{
  creds->ref_count++;
  return creds;
}

static void
creds_unref (SsqNetTlsCreds *creds)
{
  if (creds == NULL || --creds->ref_count > 0)
    return;
  gnutls_certificate_free_credentials (creds->cred);
  g_free (creds);
}

static gboolean
tls_error (GError     **error,
           int          ret,
           const char  *what)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: %s", what, gnutls_strerror (ret));
  return FALSE;
}

/* What every connection shares: priorities and the session ticket key
 * (kept in memory only: a restart ends resumption, which costs one full
 * handshake per client). */
static gboolean
server_init (SsqNetServer  *server,
             GError       **error)
{
  int ret;

  if (server->tls_priority != NULL)
    return TRUE;
  ret = gnutls_priority_init (&server->tls_priority, PRIORITY, NULL);
  if (ret < 0)
    return tls_error (error, ret, "TLS priorities");
  ret = gnutls_session_ticket_key_generate (&server->tls_ticket_key);
  if (ret < 0)
    return tls_error (error, ret, "TLS session ticket key");
  server->tls_stage = g_malloc (RECORD_SIZE);
  return TRUE;
}

/**
 * ssq_net_server_set_tls:
 * Serves TLS with @cert_pem (the certificate, then its chain) and @key_pem,
 * both PEM. Called again (a reload), new connections get the new pair and
 * connections already open keep theirs; when the pair is bad the one in
 * use stays and @error says why.
 */
gboolean
ssq_net_server_set_tls (SsqNetServer  *server,
                        GBytes        *cert_pem,
                        GBytes        *key_pem,
                        GError       **error)
{
  g_autofree SsqNetTlsCreds *creds = g_new0 (SsqNetTlsCreds, 1);
  gnutls_datum_t cert = { (guchar *) g_bytes_get_data (cert_pem, NULL), g_bytes_get_size (cert_pem) };
  gnutls_datum_t key = { (guchar *) g_bytes_get_data (key_pem, NULL), g_bytes_get_size (key_pem) };
  int ret;

  if (!server_init (server, error))
    return FALSE;
  ret = gnutls_certificate_allocate_credentials (&creds->cred);
  if (ret < 0)
    return tls_error (error, ret, "TLS credentials");
  /* Checks that the key is the certificate's (GNUTLS_E_CERTIFICATE_KEY_MISMATCH). */
  ret = gnutls_certificate_set_x509_key_mem2 (creds->cred, &cert, &key, GNUTLS_X509_FMT_PEM,
                                              NULL, 0);
  if (ret < 0)
    {
      gnutls_certificate_free_credentials (creds->cred);
      return tls_error (error, ret, "Certificate and key");
    }
  creds->ref_count = 1;
  g_clear_pointer (&server->tls_creds, creds_unref);
  server->tls_creds = g_steal_pointer (&creds);
  return TRUE;
}

/**
 * ssq_net_server_set_plain:
 * Who may speak plain HTTP on the TLS port (the first byte tells a TLS
 * ClientHello from a request). Without TLS everyone does.
 */
void
ssq_net_server_set_plain (SsqNetServer *server,
                          SsqNetPlain   plain)
{
  server->plain = plain;
}

/**
 * ssq_net_server_set_http2:
 * Whether ALPN offers h2 on TLS connections (the REST API over HTTP/2);
 * off, and always without libnghttp2, it offers http/1.1 alone.
 */
void
ssq_net_server_set_http2 (SsqNetServer *server,
                          gboolean      http2)
{
  server->http2 = http2;
}

gboolean
ssq_net_server_has_tls (SsqNetServer *server)
{
  return server->tls_creds != NULL;
}

void
ssq_net_tls_server_clear (SsqNetServer *server)
{
  g_clear_pointer (&server->tls_creds, creds_unref);
  if (server->tls_priority != NULL)
    gnutls_priority_deinit (server->tls_priority);
  server->tls_priority = NULL;
  if (server->tls_ticket_key.data != NULL)
    {
      gnutls_memset (server->tls_ticket_key.data, 0, server->tls_ticket_key.size);
      gnutls_free (server->tls_ticket_key.data);
      server->tls_ticket_key.data = NULL;
    }
  g_clear_pointer (&server->tls_stage, g_free);
}

/* ---- The socket under a session ---------------------------------------- */

/* sendmsg rather than GnuTLS's own writev: MSG_NOSIGNAL, as for plain
 * connections (a reset peer costs an EPIPE, not the process). */
static ssize_t
push_vec (gnutls_transport_ptr_t ptr,
          const giovec_t        *iov,
          int                    iovcnt)
{
  SsqNetConn *conn = ptr;
  ssize_t n;

  do
    n = sendmsg (conn->watch.fd, &(struct msghdr) { .msg_iov = (struct iovec *) iov,
                                                    .msg_iovlen = iovcnt },
                 MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n > 0)
    conn->write_ms = ssq_net_now_ms ();
  return n;
}

static ssize_t
pull (gnutls_transport_ptr_t  ptr,
      void                   *data,
      size_t                  size)
{
  SsqNetConn *conn = ptr;
  ssize_t n;

  do
    n = recv (conn->watch.fd, data, size, 0);
  while (n < 0 && errno == EINTR);
  if (n > 0)
    conn->read_ms = ssq_net_now_ms ();
  return n;
}

/* ---- Per connection ---------------------------------------------------- */

/* ALPN: h2 (where built with libnghttp2 and not switched off) and
 * http/1.1, the client's order deciding (no GNUTLS_ALPN_SERVER_PRECEDENCE):
 * a client that wants a WebSocket offers http/1.1 alone, or first. A
 * client offering neither is refused by GnuTLS (no_application_protocol);
 * one without ALPN speaks HTTP/1.1. */
static gboolean
set_alpn (SsqNetServer     *server,
          gnutls_session_t  session)
{
  static const gnutls_datum_t protocols[] = {
    { (guchar *) "h2", 2 },
    { (guchar *) "http/1.1", 8 },
  };
  gboolean h2 = HAVE_NGHTTP2 && server->http2;

  return gnutls_alpn_set_protocols (session, h2 ? protocols : protocols + 1, h2 ? 2 : 1, 0) == 0;
}

/* Whether the handshake chose h2. */
gboolean
ssq_net_tls_alpn_is_h2 (SsqNetConn *conn)
{
  gnutls_datum_t chosen = { NULL, 0 };

  if (conn->tls == NULL ||
      gnutls_alpn_get_selected_protocol (conn->tls->session, &chosen) != 0)
    return FALSE;
  return chosen.size == 2 && memcmp (chosen.data, "h2", 2) == 0;
}

/* A server session on @conn with the credentials of the moment. */
gboolean
ssq_net_tls_start (SsqNetConn *conn)
{
  SsqNetServer *server = conn->server;
  g_autofree SsqNetTls *tls = g_new0 (SsqNetTls, 1);

  /* No GNUTLS_POST_HANDSHAKE_AUTH, no client certificates. */
  if (gnutls_init (&tls->session, GNUTLS_SERVER | GNUTLS_NONBLOCK) < 0)
    return FALSE;
  if (gnutls_priority_set (tls->session, server->tls_priority) < 0 ||
      gnutls_credentials_set (tls->session, GNUTLS_CRD_CERTIFICATE, server->tls_creds->cred) < 0 ||
      gnutls_session_ticket_enable_server (tls->session, &server->tls_ticket_key) < 0)
    {
      gnutls_deinit (tls->session);
      return FALSE;
    }
  if (!set_alpn (server, tls->session))
    {
      gnutls_deinit (tls->session);
      return FALSE;
    }
  tls->creds = creds_ref (server->tls_creds);
  gnutls_certificate_server_set_request (tls->session, GNUTLS_CERT_IGNORE);
  gnutls_handshake_set_max_packet_length (tls->session, MAX_HANDSHAKE_PACKET);
  gnutls_transport_set_ptr (tls->session, conn);
  gnutls_transport_set_vec_push_function (tls->session, push_vec);
  gnutls_transport_set_pull_function (tls->session, pull);
  conn->tls = g_steal_pointer (&tls);
  return TRUE;
}

void
ssq_net_tls_free (SsqNetTls *tls)
{
  gnutls_deinit (tls->session);
  creds_unref (tls->creds);
  g_free (tls);
}

/* One step of the handshake: 1 done, 0 to be continued when the socket is
 * ready (ssq_net_tls_wants_write () says which way), -1 failed (garbage,
 * no common cipher, a peer gone). */
int
ssq_net_tls_handshake (SsqNetConn *conn)
{
  int ret;

  do
    ret = gnutls_handshake (conn->tls->session);
  while (ret == GNUTLS_E_INTERRUPTED ||
         (ret < 0 && ret != GNUTLS_E_AGAIN && !gnutls_error_is_fatal (ret)));
  if (ret == GNUTLS_E_AGAIN)
    return 0;
  if (ret < 0)
    {
      g_debug ("TLS handshake with %s failed: %s", conn->peer, gnutls_strerror (ret));
      return -1;
    }
  conn->tls->handshake_done = TRUE;
  return 1;
}

gboolean
ssq_net_tls_wants_write (SsqNetConn *conn)
{
  return gnutls_record_get_direction (conn->tls->session) == 1;
}

/* Decrypted bytes GnuTLS holds, that epoll cannot know of. (Raw bytes it
 * never holds beyond the record it is reading: on a stream it pulls a
 * record's header, then exactly the rest of that record.) */
gboolean
ssq_net_tls_buffered (SsqNetConn *conn)
{
  return conn->tls != NULL && conn->tls->handshake_done &&
         gnutls_record_check_pending (conn->tls->session) > 0;
}

/* Plaintext into @buf: > 0 bytes, SSQ_NET_TLS_EOF when the peer closed,
 * SSQ_NET_TLS_AGAIN, or SSQ_NET_TLS_FAILED (a bad record, a renegotiation
 * attempt: renegotiation is refused by closing). */
gssize
ssq_net_tls_recv (SsqNetConn *conn,
                  guint8     *buf,
                  gsize       size)
{
  gssize n;

  do
    n = gnutls_record_recv (conn->tls->session, buf, size);
  while (n == GNUTLS_E_INTERRUPTED);
  if (n > 0)
    return n;
  if (n == 0 || n == GNUTLS_E_PREMATURE_TERMINATION)
    return SSQ_NET_TLS_EOF;
  if (n == GNUTLS_E_AGAIN)
    return SSQ_NET_TLS_AGAIN;
  if (n != GNUTLS_E_REHANDSHAKE && !gnutls_error_is_fatal (n))
    return SSQ_NET_TLS_AGAIN;     /* a warning alert: nothing to read yet */
  g_debug ("TLS from %s: %s", conn->peer, gnutls_strerror (n));
  return SSQ_NET_TLS_FAILED;
}

/* Sends up to one record of @data; returns the bytes of @data sent (> 0),
 * SSQ_NET_TLS_AGAIN or SSQ_NET_TLS_FAILED. After AGAIN the record is
 * GnuTLS's (encrypted, waiting for the socket): the next call finishes it,
 * whatever @data is, and returns its size, so the caller keeps its bytes
 * until they are reported sent. */
gssize
ssq_net_tls_send (SsqNetConn   *conn,
                  const guint8 *data,
                  gsize         length)
{
  SsqNetTls *tls = conn->tls;
  gssize n;

  do
    n = tls->in_flight > 0 ? gnutls_record_send (tls->session, NULL, 0)
                           : gnutls_record_send (tls->session, data, MIN (length, RECORD_SIZE));
  while (n == GNUTLS_E_INTERRUPTED);
  if (n == GNUTLS_E_AGAIN)
    {
      if (tls->in_flight == 0)
        tls->in_flight = MIN (length, RECORD_SIZE);
      return SSQ_NET_TLS_AGAIN;
    }
  tls->in_flight = 0;
  if (n < 0)
    {
      g_debug ("TLS to %s: %s", conn->peer, gnutls_strerror (n));
      return SSQ_NET_TLS_FAILED;
    }
  return n;
}

/* Whether a record is half written: nothing else may go out before it. */
gboolean
ssq_net_tls_in_flight (SsqNetConn *conn)
{
  return conn->tls != NULL && conn->tls->in_flight > 0;
}

/* The shared buffer where small queued pieces are gathered into one
 * record; its bytes are encrypted before ssq_net_tls_send () returns. */
guint8 *
ssq_net_tls_stage (SsqNetConn *conn,
                   gsize      *out_size)
{
  *out_size = RECORD_SIZE;
  return conn->server->tls_stage;
}

/* Our side is done: a close_notify, if the socket takes it now. */
void
ssq_net_tls_bye (SsqNetConn *conn)
{
  if (conn->tls == NULL || !conn->tls->handshake_done || conn->tls->bye_sent)
    return;
  conn->tls->bye_sent = TRUE;
  gnutls_bye (conn->tls->session, GNUTLS_SHUT_WR);
}

/* TLS as the connection's first byte shows it: a handshake record. */
gboolean
ssq_net_tls_is_client_hello (guint8 first_byte)
{
  return first_byte == 0x16;
}
