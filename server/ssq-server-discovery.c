/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-discovery.c: the server announced on the LAN as a DNS-SD
 * service (_supersoniq._tcp) through the Avahi daemon, with the TXT records
 * of shared/PROTOCOL.md: v=1, name= and, with TLS, fp=sha256:HEX.
 *
 * The daemon may be missing at start, or come and go: the client is made
 * with AVAHI_CLIENT_NO_FAIL, which waits for it, and the service is
 * published whenever it is there. Its absence is logged once, not at every
 * retry. A name another service on the LAN already holds is replaced by
 * Avahi's alternative ("name #2"). */
#include "ssq-config.h"
#include "ssq-server-discovery.h"
#include "ssq-invite-link.h"
#include "ssq-proto.h"

#include <glib/gi18n.h>
#include <string.h>

#if HAVE_AVAHI
#include <avahi-client/client.h>
#include <avahi-client/publish.h>
#include <avahi-common/alternative.h>
#include <avahi-common/error.h>
#include <avahi-common/malloc.h>
#include <avahi-glib/glib-watch.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#endif

struct _SsqServerDiscovery {
  char            *name;         /* the service's name now */
  char            *txt_name;     /* name= as configured: a collision does not change it */
  char            *fingerprint;  /* compact "sha256:hex"; NULL: no TLS, no fp= */
  guint16          port;
  gboolean         announced;
#if HAVE_AVAHI
  AvahiIfIndex     interface;
  AvahiProtocol    protocol;
  AvahiGLibPoll   *poll;
  AvahiClient     *client;
  AvahiEntryGroup *group;
  gboolean         told_absent;  /* the daemon's absence is logged once */
  guint            reconnect_id;
#endif
};

gboolean
ssq_server_discovery_available (void)
{
  return HAVE_AVAHI;
}

/**
 * ssq_server_discovery_default_name:
 * The host name, cut to a DNS label's 63 bytes at a character boundary.
 */
char *
ssq_server_discovery_default_name (void)
{
  const char *host = g_get_host_name ();
  const char *end = host;

  while (*end != '\0' && (gsize) (g_utf8_next_char (end) - host) <= SSQ_DISCOVERY_NAME_MAX)
    end = g_utf8_next_char (end);
  return g_strndup (host, end - host);
}

/**
 * ssq_server_discovery_check_name:
 * A name people read in a list: UTF-8 text of 1 to 63 bytes, no control
 * characters.
 */
gboolean
ssq_server_discovery_check_name (const char  *name,
                                 GError     **error)
{
  gsize len = name != NULL ? strlen (name) : 0;

  if (len == 0 || len > SSQ_DISCOVERY_NAME_MAX || !g_utf8_validate (name, -1, NULL))
    {
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                   _("[server] name: 1 to %d bytes of UTF-8 text"), SSQ_DISCOVERY_NAME_MAX);
      return FALSE;
    }
  for (const char *p = name; *p != '\0'; p = g_utf8_next_char (p))
    if (g_unichar_iscntrl (g_utf8_get_char (p)))
      {
        g_set_error_literal (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                             _("[server] name: no control characters"));
        return FALSE;
      }
  return TRUE;
}

const char *
ssq_server_discovery_get_announced_name (SsqServerDiscovery *discovery)
{
  return discovery->announced ? discovery->name : NULL;
}

#if HAVE_AVAHI

/* Without a system bus, how often to look for the daemon again. */
#define RETRY_SECONDS 10

static void start_client (SsqServerDiscovery *self);

static void
group_cb (AvahiEntryGroup      *group,
          AvahiEntryGroupState  state,
          void                 *user_data);

/* Adds the service to the (empty) group and commits it; a local collision
 * moves to the alternative name at once. */
static void
publish (SsqServerDiscovery *self,
         AvahiClient        *client)
{
  AvahiStringList *txt = NULL;
  int ret;

  if (self->group == NULL &&
      (self->group = avahi_entry_group_new (client, group_cb, self)) == NULL)
    {
      g_warning ("Cannot announce the server on the LAN: %s",
                 avahi_strerror (avahi_client_errno (client)));
      return;
    }
  if (!avahi_entry_group_is_empty (self->group))
    return;
  txt = avahi_string_list_add_pair (txt, "v", SSQ_DISCOVERY_TXT_VERSION);
  txt = avahi_string_list_add_pair (txt, "name", self->txt_name);
  if (self->fingerprint != NULL)
    txt = avahi_string_list_add_pair (txt, "fp", self->fingerprint);
  for (;;)
    {
      ret = avahi_entry_group_add_service_strlst (self->group, self->interface, self->protocol, 0,
                                                  self->name, SSQ_DISCOVERY_SERVICE_TYPE, NULL,
                                                  NULL, self->port, txt);
      if (ret != AVAHI_ERR_COLLISION)
        break;
      char *other = avahi_alternative_service_name (self->name);
      g_message ("The name “%s” is taken on the LAN: announcing as “%s”", self->name, other);
      g_free (self->name);
      self->name = g_strdup (other);
      avahi_free (other);
    }
  avahi_string_list_free (txt);
  if (ret >= 0)
    ret = avahi_entry_group_commit (self->group);
  if (ret < 0)
    g_warning ("Cannot announce the server on the LAN: %s", avahi_strerror (ret));
}

static void
group_cb (AvahiEntryGroup      *group,
          AvahiEntryGroupState  state,
          void                 *user_data)
{
  SsqServerDiscovery *self = user_data;
  char *other;

  switch (state)
    {
    case AVAHI_ENTRY_GROUP_ESTABLISHED:
      self->announced = TRUE;
      g_message ("Announced on the LAN as “%s” (%s, port %u)", self->name,
                 SSQ_DISCOVERY_SERVICE_TYPE, self->port);
      break;
    case AVAHI_ENTRY_GROUP_COLLISION:
      /* Another machine has the name: take the next alternative. */
      other = avahi_alternative_service_name (self->name);
      g_message ("The name “%s” is taken on the LAN: announcing as “%s”", self->name, other);
      g_free (self->name);
      self->name = g_strdup (other);
      avahi_free (other);
      self->announced = FALSE;
      avahi_entry_group_reset (group);
      publish (self, avahi_entry_group_get_client (group));
      break;
    case AVAHI_ENTRY_GROUP_FAILURE:
      self->announced = FALSE;
      g_warning ("Announcing the server on the LAN failed: %s",
                 avahi_strerror (avahi_client_errno (avahi_entry_group_get_client (group))));
      break;
    case AVAHI_ENTRY_GROUP_UNCOMMITED:
    case AVAHI_ENTRY_GROUP_REGISTERING:
    default:
      break;
    }
}

static gboolean
reconnect_cb (gpointer data)
{
  SsqServerDiscovery *self = data;

  self->reconnect_id = 0;
  start_client (self);
  return G_SOURCE_REMOVE;
}

static void
client_cb (AvahiClient      *client,
           AvahiClientState  state,
           void             *user_data)
{
  SsqServerDiscovery *self = user_data;

  switch (state)
    {
    case AVAHI_CLIENT_S_RUNNING:
      self->told_absent = FALSE;
      publish (self, client);
      break;
    case AVAHI_CLIENT_S_COLLISION:
    case AVAHI_CLIENT_S_REGISTERING:
      /* The host's own name changes: publish again once it is settled. */
      self->announced = FALSE;
      if (self->group != NULL)
        avahi_entry_group_reset (self->group);
      break;
    case AVAHI_CLIENT_CONNECTING:
      if (!self->told_absent)
        g_message ("Avahi cannot be reached (%s): the server is not announced on the LAN "
                   "(it will be as soon as avahi-daemon runs)",
                   avahi_strerror (AVAHI_ERR_NO_DAEMON));
      self->told_absent = TRUE;
      break;
    case AVAHI_CLIENT_FAILURE:
      self->announced = FALSE;
      /* The daemon went away: a new client waits for it to come back.
       * Not from inside the client's own callback. */
      if (avahi_client_errno (client) == AVAHI_ERR_DISCONNECTED && self->reconnect_id == 0)
        self->reconnect_id = g_idle_add (reconnect_cb, self);
      else
        g_warning ("Avahi failed: %s; the server is not announced on the LAN",
                   avahi_strerror (avahi_client_errno (client)));
      break;
    default:
      break;
    }
}

static void
start_client (SsqServerDiscovery *self)
{
  int error = 0;

  /* The entry group belongs to the old client and goes with it. */
  self->group = NULL;
  g_clear_pointer (&self->client, avahi_client_free);
  self->client = avahi_client_new (avahi_glib_poll_get (self->poll), AVAHI_CLIENT_NO_FAIL,
                                   client_cb, self, &error);
  if (self->client != NULL)
    return;
  /* NO_FAIL waits for the daemon on the system bus, but without a system
   * bus at all the client fails: try again now and then. */
  if (!self->told_absent)
    g_message ("Avahi cannot be reached (%s): the server is not announced on the LAN "
               "(it will be as soon as avahi-daemon runs)", avahi_strerror (error));
  self->told_absent = TRUE;
  self->reconnect_id = g_timeout_add_seconds (RETRY_SECONDS, reconnect_cb, self);
}

/* The interface that holds @address, so that a server listening on one
 * address is announced there only; every interface for a wildcard. */
static AvahiIfIndex
interface_of (GInetAddress *address)
{
  struct ifaddrs *list = NULL;
  AvahiIfIndex index = AVAHI_IF_UNSPEC;

  if (g_inet_address_get_is_any (address) || getifaddrs (&list) != 0)
    return AVAHI_IF_UNSPEC;
  for (struct ifaddrs *i = list; i != NULL && index == AVAHI_IF_UNSPEC; i = i->ifa_next)
    {
      g_autoptr(GSocketAddress) sa = NULL;

      if (i->ifa_addr == NULL ||
          (i->ifa_addr->sa_family != AF_INET && i->ifa_addr->sa_family != AF_INET6))
        continue;
      sa = g_socket_address_new_from_native (i->ifa_addr, i->ifa_addr->sa_family == AF_INET
                                               ? sizeof (struct sockaddr_in)
                                               : sizeof (struct sockaddr_in6));
      if (sa != NULL &&
          g_inet_address_equal (g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (sa)),
                                address))
        index = (AvahiIfIndex) if_nametoindex (i->ifa_name);
    }
  freeifaddrs (list);
  return index != 0 ? index : AVAHI_IF_UNSPEC;
}

static AvahiProtocol
protocol_of (GInetAddress *address)
{
  if (g_inet_address_get_family (address) == G_SOCKET_FAMILY_IPV4)
    return AVAHI_PROTO_INET;
  /* :: takes IPv4 too (dual stack); one IPv6 address only IPv6. */
  return g_inet_address_get_is_any (address) ? AVAHI_PROTO_UNSPEC : AVAHI_PROTO_INET6;
}

#endif

/**
 * ssq_server_discovery_new:
 * Starts announcing the server listening on @address and @port as @name,
 * whenever an Avahi daemon is there. NULL when this build has no Avahi,
 * or @address is a loopback address (no one on the LAN could connect).
 * @fingerprint: (nullable): "sha256:HEX" of the TLS key, for fp=
 */
SsqServerDiscovery *
ssq_server_discovery_new (const char   *name,
                          GInetAddress *address,
                          guint16       port,
                          const char   *fingerprint)
{
#if HAVE_AVAHI
  SsqServerDiscovery *self;

  g_return_val_if_fail (name != NULL, NULL);
  if (g_inet_address_get_is_loopback (address))
    {
      g_message ("Not announced on the LAN: the server listens on a loopback address");
      return NULL;
    }
  self = g_new0 (SsqServerDiscovery, 1);
  self->name = g_strdup (name);
  self->txt_name = g_strdup (name);
  /* The compact form of invite links, whatever form the server shows. */
  self->fingerprint = fingerprint ? ssq_fingerprint_normalize (fingerprint) : NULL;
  self->port = port;
  self->interface = interface_of (address);
  self->protocol = protocol_of (address);
  self->poll = avahi_glib_poll_new (NULL, G_PRIORITY_DEFAULT);
  start_client (self);
  return self;
#else
  g_message ("Not announced on the LAN: this server was built without Avahi");
  return NULL;
#endif
}

/**
 * ssq_server_discovery_set_fingerprint:
 * The TLS key changed (a certificate reloaded): announced again with the
 * new fp=, at once if the service is published.
 */
void
ssq_server_discovery_set_fingerprint (SsqServerDiscovery *self,
                                      const char         *fingerprint)
{
  g_autofree char *compact = fingerprint ? ssq_fingerprint_normalize (fingerprint) : NULL;

  if (self == NULL || g_strcmp0 (compact, self->fingerprint) == 0)
    return;
  g_free (self->fingerprint);
  self->fingerprint = g_steal_pointer (&compact);
#if HAVE_AVAHI
  if (self->group != NULL && self->client != NULL &&
      avahi_client_get_state (self->client) == AVAHI_CLIENT_S_RUNNING)
    {
      self->announced = FALSE;
      avahi_entry_group_reset (self->group);
      publish (self, self->client);
    }
#endif
}

void
ssq_server_discovery_free (SsqServerDiscovery *self)
{
  if (self == NULL)
    return;
#if HAVE_AVAHI
  g_clear_handle_id (&self->reconnect_id, g_source_remove);
  /* Freeing the client withdraws the service (the group goes with it). */
  g_clear_pointer (&self->client, avahi_client_free);
  g_clear_pointer (&self->poll, avahi_glib_poll_free);
#endif
  g_free (self->name);
  g_free (self->txt_name);
  g_free (self->fingerprint);
  g_free (self);
}
