/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-invites.c: making an invite (a random token of 128 bits, kept
 * as its hash, committed through the writer) and its link, whose address
 * is the one clients reach: [server] public_address, else the listening
 * address, else (listening on every interface) the address the admin
 * reached, else this machine's first LAN address. Never logs a token. */
#include "ssq-server-invites.h"
#include "ssq-invite-link.h"

#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sodium.h>
#include <string.h>

#define INVITE_TOKEN_BYTES 16

gboolean
ssq_server_invite_check_args (gint64   uses,
                              gint64   expires_in_s,
                              GError **error)
{
  if (uses < 1 || uses > SSQ_INVITE_USES_MAX)
    g_set_error (error, SSQ_ERROR, SSQ_ERROR_INVALID, "\"uses\" must be 1 to %d",
                 SSQ_INVITE_USES_MAX);
  else if (expires_in_s < 1 || expires_in_s > SSQ_INVITE_EXPIRES_MAX_S)
    g_set_error (error, SSQ_ERROR, SSQ_ERROR_INVALID,
                 "\"expires_in\" must be 1 to %d seconds", SSQ_INVITE_EXPIRES_MAX_S);
  else
    return TRUE;
  return FALSE;
}

/* HOST, HOST:PORT, [IPV6] or [IPV6]:PORT (a bare IPv6 address too);
 * *@port is 0 when none is given. The result is checked by making a link
 * of it and reading that back. */
static gboolean
split_address (const char  *text,
               char       **host,
               guint       *port)
{
  g_autofree char *h = NULL;
  const char *colon = NULL;
  g_autofree char *probe = NULL;
  g_autoptr(SsqInviteLink) link = NULL;

  *port = 0;
  if (text == NULL || *text == '\0')
    return FALSE;
  if (text[0] == '[')
    {
      const char *close = strchr (text, ']');

      if (close == NULL || (close[1] != '\0' && close[1] != ':'))
        return FALSE;
      h = g_strndup (text + 1, close - text - 1);
      colon = close[1] == ':' ? close + 1 : NULL;
    }
  else if ((colon = strchr (text, ':')) != NULL && strchr (colon + 1, ':') == NULL)
    h = g_strndup (text, colon - text);
  else
    {
      h = g_strdup (text);
      colon = NULL;
    }
  if (colon != NULL)
    {
      char *end = NULL;
      guint64 p = g_ascii_strtoull (colon + 1, &end, 10);

      if (colon[1] == '\0' || *end != '\0' || p == 0 || p > 65535)
        return FALSE;
      *port = (guint) p;
    }
  probe = ssq_invite_link_format (h, *port ? (guint16) *port : 1, "probeprobeprobeprobe00", NULL);
  if ((link = ssq_invite_link_parse (probe, NULL)) == NULL)
    return FALSE;
  *host = g_steal_pointer (&h);
  return TRUE;
}

gboolean
ssq_server_check_public_address (const char  *address,
                                 GError     **error)
{
  g_autofree char *host = NULL;
  guint port;

  if (address == NULL || split_address (address, &host, &port))
    return TRUE;
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
               "[server] public_address \"%s\" is not HOST, HOST:PORT or [IPV6]:PORT", address);
  return FALSE;
}

/* The first IPv4 address of an interface that is up and not loopback. */
static char *
lan_address (void)
{
  struct ifaddrs *all = NULL;
  char *found = NULL;

  if (getifaddrs (&all) != 0)
    return NULL;
  for (struct ifaddrs *i = all; i != NULL && found == NULL; i = i->ifa_next)
    if (i->ifa_addr != NULL && i->ifa_addr->sa_family == AF_INET &&
        (i->ifa_flags & IFF_UP) && !(i->ifa_flags & IFF_LOOPBACK))
      {
        g_autoptr(GInetAddress) a =
          g_inet_address_new_from_bytes ((const guint8 *) &((struct sockaddr_in *) i->ifa_addr)->sin_addr,
                                         G_SOCKET_FAMILY_IPV4);
        found = g_inet_address_to_string (a);
      }
  freeifaddrs (all);
  return found;
}

static gboolean
is_loopback_or_any (const char *host)
{
  g_autoptr(GInetAddress) a = g_inet_address_new_from_string (host);

  if (a == NULL)
    return g_ascii_strcasecmp (host, "localhost") == 0;
  return g_inet_address_get_is_loopback (a) || g_inet_address_get_is_any (a);
}

/**
 * ssq_server_invite_link:
 * The link of @token. @request_host: the Host header the admin's request
 * came with (NULL on the administration socket).
 */
char *
ssq_server_invite_link (SsqServer  *server,
                        const char *token,
                        const char *request_host)
{
  g_autoptr(GUri) uri = g_uri_parse (server->url, G_URI_FLAGS_NONE, NULL);
  g_autofree char *host = NULL;
  guint port = 0;
  guint bound = uri ? (guint) g_uri_get_port (uri) : 0;
  const char *listen_host = uri ? g_uri_get_host (uri) : NULL;

  if (server->config->public_address != NULL &&
      split_address (server->config->public_address, &host, &port))
    ;
  else if (listen_host != NULL && !is_loopback_or_any (listen_host))
    host = g_strdup (listen_host);
  else if (request_host != NULL && split_address (request_host, &host, &port) &&
           !is_loopback_or_any (host))
    port = 0;   /* the Host header's port may be a proxy's: the bound one is ours */
  else
    {
      g_clear_pointer (&host, g_free);
      port = 0;
      if (listen_host != NULL && !g_str_equal (listen_host, "0.0.0.0") &&
          !g_str_equal (listen_host, "::"))
        host = g_strdup (listen_host);     /* a loopback server: this machine only */
      else if ((host = lan_address ()) == NULL)
        host = g_strdup (g_get_host_name ());
    }
  return ssq_invite_link_format (host, (guint16) (port ? port : bound), token,
                                 ssq_server_get_tls_fingerprint (server, NULL));
}

/* ---- making one ---------------------------------------------------------- */

typedef struct {
  SsqServer        *server;
  SsqInviteRow     *row;
  char             *token;
  char             *link;
  SsqInviteMadeFunc done;
  gpointer          user_data;
} CreateJob;

static void
create_job_free (gpointer data)
{
  CreateJob *job = data;

  ssq_invite_row_free (job->row);
  if (job->token != NULL)
    sodium_memzero (job->token, strlen (job->token));
  g_free (job->token);
  g_free (job->link);
  g_free (job);
}

static gboolean
create_op (SsqServerStore  *store,
           gpointer         data,
           GError         **error)
{
  CreateJob *job = data;

  return ssq_server_store_invite_insert (store, job->row, error);
}

static void
created (gpointer      data,
         const GError *error)
{
  CreateJob *job = data;
  g_autoptr(GError) local = NULL;
  JsonObject *invite = NULL;

  if (error == NULL)
    {
      invite = ssq_server_store_invite_get (job->server->store, job->row->id, &local);
      error = local;
    }
  if (invite != NULL)
    {
      json_object_set_string_member (invite, "token", job->token);
      json_object_set_string_member (invite, "link", job->link);
      g_message ("Invite %s made by %s: %" G_GINT64_FORMAT " uses", job->row->id,
                 job->row->created_by ? job->row->created_by : "the administration socket",
                 job->row->uses_left);
    }
  job->done (job->server, invite, error, job->user_data);
}

/**
 * ssq_server_invite_create:
 * Makes an invite good for @uses registrations in the next @expires_in_s
 * seconds (checked with ssq_server_invite_check_args first); @done gets it
 * after the commit. @created_by: a user id, NULL for the administration
 * socket.
 */
void
ssq_server_invite_create (SsqServer         *server,
                          const char        *created_by,
                          gint64             uses,
                          gint64             expires_in_s,
                          const char        *request_host,
                          SsqInviteMadeFunc  done,
                          gpointer           user_data)
{
  CreateJob *job = g_new0 (CreateJob, 1);
  guint8 bytes[INVITE_TOKEN_BYTES];
  char text[sodium_base64_ENCODED_LEN (INVITE_TOKEN_BYTES, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];

  randombytes_buf (bytes, sizeof bytes);
  sodium_bin2base64 (text, sizeof text, bytes, sizeof bytes,
                     sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  sodium_memzero (bytes, sizeof bytes);
  job->server = server;
  job->done = done;
  job->user_data = user_data;
  job->token = g_strdup (text);
  sodium_memzero (text, sizeof text);
  job->link = ssq_server_invite_link (server, job->token, request_host);
  job->row = g_new0 (SsqInviteRow, 1);
  job->row->id = ssq_server_store_new_id ('i');
  job->row->created_by = g_strdup (created_by);
  job->row->created_at = ssq_now_ms ();
  job->row->expires_at = job->row->created_at + expires_in_s * 1000;
  job->row->uses_left = uses;
  ssq_server_auth_token_hash (job->token, job->row->token_hash);
  ssq_server_writer_submit (server->writer, create_op, created, job, create_job_free);
}
