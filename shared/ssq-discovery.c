/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-discovery.c: servers found on the LAN. SsqDiscovery browses the
 * DNS-SD service type _supersoniq._tcp through the Avahi daemon (the GLib
 * adapter runs it on the thread-default main context), resolves each
 * service to an address, port and TXT records, and keeps them as a
 * GListModel of SsqDiscoveredServer, with found/removed signals.
 *
 * What comes from the LAN is anyone's words: TXT records of an unknown
 * version, a malformed fingerprint or a name that is not text are not
 * listed (a fingerprint dropped would let a client connect unpinned). The
 * daemon may come and go; while it is away the list is empty and
 * daemon-running is false. */
#include "ssq-config.h"
#include "ssq-discovery.h"
#include "ssq-invite-link.h"
#include "ssq-proto.h"

#include <glib/gi18n.h>
#include <string.h>

#if HAVE_AVAHI
#include <avahi-client/client.h>
#include <avahi-client/lookup.h>
#include <avahi-common/error.h>
#include <avahi-common/malloc.h>
#include <avahi-glib/glib-watch.h>
#include <net/if.h>
#endif

#define TXT_NAME_MAX  255   /* a TXT string's own bound */
#define RETRY_SECONDS 10    /* without a system bus, how often to look again */
/* Anyone on the LAN may announce services: past this many listed or being
 * resolved, new ones are ignored until some go away. */
#define MAX_SERVERS_DEFAULT 128

/* SsqDiscoveredServer: one service as resolved. */

struct _SsqDiscoveredServer {
  GObject  parent_instance;

  char    *key;            /* interface, protocol, service name, domain */
  char    *name;           /* name= or, without it, the service name */
  char    *service_name;
  char    *host;
  char    *address;
  char    *interface;      /* e.g. "eth0"; NULL if unknown */
  guint16  port;
  char    *fingerprint;    /* NULL: the server has no TLS */
};

G_DEFINE_FINAL_TYPE (SsqDiscoveredServer, ssq_discovered_server, G_TYPE_OBJECT)

static void
ssq_discovered_server_finalize (GObject *object)
{
  SsqDiscoveredServer *self = SSQ_DISCOVERED_SERVER (object);

  g_free (self->key);
  g_free (self->name);
  g_free (self->service_name);
  g_free (self->host);
  g_free (self->address);
  g_free (self->interface);
  g_free (self->fingerprint);
  G_OBJECT_CLASS (ssq_discovered_server_parent_class)->finalize (object);
}

static void
ssq_discovered_server_class_init (SsqDiscoveredServerClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = ssq_discovered_server_finalize;
}

static void
ssq_discovered_server_init (SsqDiscoveredServer *self)
{
}

/** The name to show: the server's name= record, or its service name. */
const char *
ssq_discovered_server_get_name (SsqDiscoveredServer *server)
{
  g_return_val_if_fail (SSQ_IS_DISCOVERED_SERVER (server), NULL);
  return server->name;
}

/** The DNS-SD instance name (name= unless it collided: "name #2"). */
const char *
ssq_discovered_server_get_service_name (SsqDiscoveredServer *server)
{
  g_return_val_if_fail (SSQ_IS_DISCOVERED_SERVER (server), NULL);
  return server->service_name;
}

/** The host's mDNS name, e.g. "chat.local". */
const char *
ssq_discovered_server_get_host (SsqDiscoveredServer *server)
{
  g_return_val_if_fail (SSQ_IS_DISCOVERED_SERVER (server), NULL);
  return server->host;
}

/** The address it resolved to, e.g. "192.168.1.20". */
const char *
ssq_discovered_server_get_address (SsqDiscoveredServer *server)
{
  g_return_val_if_fail (SSQ_IS_DISCOVERED_SERVER (server), NULL);
  return server->address;
}

guint16
ssq_discovered_server_get_port (SsqDiscoveredServer *server)
{
  g_return_val_if_fail (SSQ_IS_DISCOVERED_SERVER (server), 0);
  return server->port;
}

/** "sha256:HEX" of the server's TLS key, to pin; NULL: no TLS. */
const char *
ssq_discovered_server_get_fingerprint (SsqDiscoveredServer *server)
{
  g_return_val_if_fail (SSQ_IS_DISCOVERED_SERVER (server), NULL);
  return server->fingerprint;
}

/** The network interface it was seen on; NULL if unknown. */
const char *
ssq_discovered_server_get_interface (SsqDiscoveredServer *server)
{
  g_return_val_if_fail (SSQ_IS_DISCOVERED_SERVER (server), NULL);
  return server->interface;
}

/**
 * ssq_discovered_server_get_url:
 * The server's URL by address: https:// with a fingerprint (the server
 * has TLS), http:// without; an IPv6 link-local address carries its zone.
 */
char *
ssq_discovered_server_get_url (SsqDiscoveredServer *server)
{
  const char *scheme;

  g_return_val_if_fail (SSQ_IS_DISCOVERED_SERVER (server), NULL);
  scheme = server->fingerprint != NULL ? "https" : "http";
  if (strchr (server->address, ':') == NULL)
    return g_strdup_printf ("%s://%s:%u", scheme, server->address, server->port);
  if (g_str_has_prefix (server->address, "fe80:") && server->interface != NULL)
    return g_strdup_printf ("%s://[%s%%25%s]:%u", scheme, server->address, server->interface,
                            server->port);
  return g_strdup_printf ("%s://[%s]:%u", scheme, server->address, server->port);
}

/* SsqDiscovery */

struct _SsqDiscovery {
  GObject              parent_instance;

  GPtrArray           *servers;      /* SsqDiscoveredServer, in the order found */
  gboolean             daemon_running;
  guint                max_servers;  /* listed and being resolved, at most */
  guint64              n_ignored;    /* services not looked at: over max_servers */
#if HAVE_AVAHI
  AvahiGLibPoll       *poll;
  AvahiClient         *client;
  AvahiServiceBrowser *browser;
  GHashTable          *resolving;    /* key -> AvahiServiceResolver */
  guint                reconnect_id;
#endif
};

enum { PROP_0, PROP_DAEMON_RUNNING, PROP_MAX_SERVERS, N_PROPS };
enum { SERVER_FOUND, SERVER_REMOVED, N_SIGNALS };
static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static void list_model_iface_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (SsqDiscovery, ssq_discovery, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL, list_model_iface_init))

static GType
list_model_get_item_type (GListModel *model)
{
  return SSQ_TYPE_DISCOVERED_SERVER;
}

static guint
list_model_get_n_items (GListModel *model)
{
  return SSQ_DISCOVERY (model)->servers->len;
}

static gpointer
list_model_get_item (GListModel *model,
                     guint       position)
{
  SsqDiscovery *self = SSQ_DISCOVERY (model);

  return position < self->servers->len ? g_object_ref (self->servers->pdata[position]) : NULL;
}

static void
list_model_iface_init (GListModelInterface *iface)
{
  iface->get_item_type = list_model_get_item_type;
  iface->get_n_items = list_model_get_n_items;
  iface->get_item = list_model_get_item;
}

#if HAVE_AVAHI

static void
set_daemon_running (SsqDiscovery *self,
                    gboolean      running)
{
  if (self->daemon_running == running)
    return;
  self->daemon_running = running;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DAEMON_RUNNING]);
}

static gboolean
find_server (SsqDiscovery *self,
             const char   *key,
             guint        *position)
{
  for (guint i = 0; i < self->servers->len; i++)
    if (g_str_equal (((SsqDiscoveredServer *) self->servers->pdata[i])->key, key))
      {
        *position = i;
        return TRUE;
      }
  return FALSE;
}

static void
remove_at (SsqDiscovery *self,
           guint         position)
{
  g_autoptr(SsqDiscoveredServer) server = g_object_ref (self->servers->pdata[position]);

  g_ptr_array_remove_index (self->servers, position);
  g_list_model_items_changed (G_LIST_MODEL (self), position, 1, 0);
  g_signal_emit (self, signals[SERVER_REMOVED], 0, server);
}

/* A server seen again (its address or records changed) replaces the old
 * entry: removed, then found. */
static void
add_server (SsqDiscovery        *self,
            SsqDiscoveredServer *server)
{
  guint position;

  if (find_server (self, server->key, &position))
    remove_at (self, position);
  g_ptr_array_add (self->servers, g_object_ref (server));
  g_list_model_items_changed (G_LIST_MODEL (self), self->servers->len - 1, 0, 1);
  g_signal_emit (self, signals[SERVER_FOUND], 0, server);
}

static void
clear_servers (SsqDiscovery *self)
{
  while (self->servers->len > 0)
    remove_at (self, self->servers->len - 1);
}

static char *
key_of (AvahiIfIndex   interface,
        AvahiProtocol  protocol,
        const char    *name,
        const char    *domain)
{
  return g_strdup_printf ("%d\n%d\n%s\n%s", interface, protocol, name, domain);
}

/* The value of TXT key @key as text: NULL when absent; FALSE when present
 * but not UTF-8 text without NUL bytes. */
static gboolean
txt_value (AvahiStringList  *txt,
           const char       *key,
           char            **out_value)
{
  AvahiStringList *item = avahi_string_list_find (txt, key);
  char *k = NULL, *v = NULL;
  size_t size = 0;
  gboolean ok;

  *out_value = NULL;
  if (item == NULL)
    return TRUE;
  if (avahi_string_list_get_pair (item, &k, &v, &size) < 0)
    return FALSE;
  ok = v != NULL && strlen (v) == size && size <= TXT_NAME_MAX && g_utf8_validate (v, -1, NULL);
  if (ok)
    *out_value = g_strdup (v);
  avahi_free (k);
  avahi_free (v);
  return ok;
}

/* A server from a resolved service, or NULL (with the reason in @why)
 * when its records are not ones this version lists. */
static SsqDiscoveredServer *
server_from_txt (const char       *service_name,
                 AvahiStringList  *txt,
                 const char      **why)
{
  g_autoptr(SsqDiscoveredServer) server = g_object_new (SSQ_TYPE_DISCOVERED_SERVER, NULL);
  g_autofree char *version = NULL;
  g_autofree char *fp = NULL;

  if (!txt_value (txt, "v", &version) || g_strcmp0 (version, SSQ_DISCOVERY_TXT_VERSION) != 0)
    return *why = "no v=" SSQ_DISCOVERY_TXT_VERSION, NULL;
  if (!txt_value (txt, "fp", &fp) || (fp != NULL && !ssq_invite_link_check_fingerprint (fp)))
    return *why = "fp= is not sha256: and 64 hex digits", NULL;
  if (!txt_value (txt, "name", &server->name) || (server->name != NULL && server->name[0] == '\0'))
    return *why = "name= is not text", NULL;
  if (!g_utf8_validate (service_name, -1, NULL))
    return *why = "the service name is not UTF-8", NULL;
  server->fingerprint = fp ? g_ascii_strdown (fp, -1) : NULL;
  server->service_name = g_strdup (service_name);
  if (server->name == NULL)
    server->name = g_strdup (service_name);
  return g_steal_pointer (&server);
}

static void
resolve_cb (AvahiServiceResolver   *resolver,
            AvahiIfIndex            interface,
            AvahiProtocol           protocol,
            AvahiResolverEvent      event,
            const char             *name,
            const char             *type,
            const char             *domain,
            const char             *host_name,
            const AvahiAddress     *address,
            uint16_t                port,
            AvahiStringList        *txt,
            AvahiLookupResultFlags  flags,
            void                   *user_data)
{
  SsqDiscovery *self = user_data;
  g_autofree char *key = key_of (interface, protocol, name, domain);
  g_autoptr(SsqDiscoveredServer) server = NULL;
  char text[AVAHI_ADDRESS_STR_MAX];
  char ifname[IF_NAMESIZE] = "";
  const char *why = NULL;

  if (event != AVAHI_RESOLVER_FOUND)
    g_debug ("Discovery: cannot resolve “%s”", name);
  else if ((server = server_from_txt (name, txt, &why)) == NULL)
    g_debug ("Discovery: “%s” is not listed: %s", name, why);
  else
    {
      avahi_address_snprint (text, sizeof text, address);
      server->key = g_strdup (key);
      server->host = g_strdup (host_name);
      server->address = g_strdup (text);
      server->port = port;
      if (interface >= 0 && if_indextoname ((unsigned) interface, ifname) != NULL)
        server->interface = g_strdup (ifname);
      add_server (self, server);
    }
  /* The resolver is done either way: the table frees it, last, since its
   * arguments are its own. */
  g_hash_table_remove (self->resolving, key);
}

static void
browse_cb (AvahiServiceBrowser    *browser,
           AvahiIfIndex            interface,
           AvahiProtocol           protocol,
           AvahiBrowserEvent       event,
           const char             *name,
           const char             *type,
           const char             *domain,
           AvahiLookupResultFlags  flags,
           void                   *user_data)
{
  SsqDiscovery *self = user_data;
  g_autofree char *key = NULL;
  AvahiServiceResolver *resolver;
  guint position;

  switch (event)
    {
    case AVAHI_BROWSER_NEW:
      key = key_of (interface, protocol, name, domain);
      if (!find_server (self, key, &position) && !g_hash_table_contains (self->resolving, key) &&
          self->servers->len + g_hash_table_size (self->resolving) >= self->max_servers)
        {
          /* Said once: a flood would otherwise flood the log too. */
          if (self->n_ignored++ == 0)
            g_message ("Discovery: more than %u services announced; ignoring the rest",
                       self->max_servers);
          break;
        }
      /* The address in the protocol the service was announced on: a
       * server listening on IPv4 only is not offered by an IPv6 address. */
      resolver = avahi_service_resolver_new (avahi_service_browser_get_client (browser),
                                             interface, protocol, name, type, domain, protocol,
                                             0, resolve_cb, self);
      if (resolver != NULL)
        g_hash_table_replace (self->resolving, g_steal_pointer (&key), resolver);
      break;
    case AVAHI_BROWSER_REMOVE:
      key = key_of (interface, protocol, name, domain);
      g_hash_table_remove (self->resolving, key);
      if (find_server (self, key, &position))
        remove_at (self, position);
      break;
    case AVAHI_BROWSER_FAILURE:
      g_warning ("Discovery failed: %s",
                 avahi_strerror (avahi_client_errno (avahi_service_browser_get_client (browser))));
      break;
    case AVAHI_BROWSER_CACHE_EXHAUSTED:
    case AVAHI_BROWSER_ALL_FOR_NOW:
    default:
      break;
    }
}

static void start_client (SsqDiscovery *self);

static void
free_resolver (gpointer resolver)
{
  avahi_service_resolver_free (resolver);
}

static gboolean
reconnect_cb (gpointer data)
{
  SsqDiscovery *self = data;

  self->reconnect_id = 0;
  start_client (self);
  return G_SOURCE_REMOVE;
}

static void
client_cb (AvahiClient      *client,
           AvahiClientState  state,
           void             *user_data)
{
  SsqDiscovery *self = user_data;

  switch (state)
    {
    case AVAHI_CLIENT_S_RUNNING:
    case AVAHI_CLIENT_S_REGISTERING:
    case AVAHI_CLIENT_S_COLLISION:
      if (self->browser == NULL)
        self->browser = avahi_service_browser_new (client, AVAHI_IF_UNSPEC, AVAHI_PROTO_UNSPEC,
                                                   SSQ_DISCOVERY_SERVICE_TYPE, NULL, 0,
                                                   browse_cb, self);
      set_daemon_running (self, TRUE);
      break;
    case AVAHI_CLIENT_FAILURE:
      /* The daemon went away: a new client waits for it to come back
       * (not from inside this client's own callback). */
      if (avahi_client_errno (client) == AVAHI_ERR_DISCONNECTED && self->reconnect_id == 0)
        self->reconnect_id = g_idle_add (reconnect_cb, self);
      G_GNUC_FALLTHROUGH;
    case AVAHI_CLIENT_CONNECTING:
    default:
      set_daemon_running (self, FALSE);
      break;
    }
}

static void
stop_client (SsqDiscovery *self)
{
  g_hash_table_remove_all (self->resolving);
  g_clear_pointer (&self->browser, avahi_service_browser_free);
  g_clear_pointer (&self->client, avahi_client_free);
  clear_servers (self);
}

static void
start_client (SsqDiscovery *self)
{
  int error = 0;

  stop_client (self);
  self->client = avahi_client_new (avahi_glib_poll_get (self->poll), AVAHI_CLIENT_NO_FAIL,
                                   client_cb, self, &error);
  /* NO_FAIL waits for the daemon on the system bus, but without a system
   * bus at all the client fails: try again now and then. */
  if (self->client == NULL)
    {
      g_debug ("Discovery: cannot use Avahi: %s", avahi_strerror (error));
      self->reconnect_id = g_timeout_add_seconds (RETRY_SECONDS, reconnect_cb, self);
    }
}

#endif

static void
ssq_discovery_dispose (GObject *object)
{
#if HAVE_AVAHI
  SsqDiscovery *self = SSQ_DISCOVERY (object);

  g_clear_handle_id (&self->reconnect_id, g_source_remove);
  if (self->resolving != NULL)
    stop_client (self);
  g_clear_pointer (&self->resolving, g_hash_table_unref);
  g_clear_pointer (&self->poll, avahi_glib_poll_free);
#endif
  G_OBJECT_CLASS (ssq_discovery_parent_class)->dispose (object);
}

static void
ssq_discovery_finalize (GObject *object)
{
  SsqDiscovery *self = SSQ_DISCOVERY (object);

  g_ptr_array_unref (self->servers);
  G_OBJECT_CLASS (ssq_discovery_parent_class)->finalize (object);
}

static void
ssq_discovery_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  SsqDiscovery *self = SSQ_DISCOVERY (object);

  switch (prop_id)
    {
    case PROP_DAEMON_RUNNING:
      g_value_set_boolean (value, self->daemon_running);
      break;
    case PROP_MAX_SERVERS:
      g_value_set_uint (value, self->max_servers);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ssq_discovery_set_property (GObject      *object,
                            guint         prop_id,
                            const GValue *value,
                            GParamSpec   *pspec)
{
  SsqDiscovery *self = SSQ_DISCOVERY (object);

  switch (prop_id)
    {
    case PROP_MAX_SERVERS:
      self->max_servers = g_value_get_uint (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ssq_discovery_class_init (SsqDiscoveryClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = ssq_discovery_dispose;
  object_class->finalize = ssq_discovery_finalize;
  object_class->get_property = ssq_discovery_get_property;
  object_class->set_property = ssq_discovery_set_property;

  /**
   * SsqDiscovery:daemon-running:
   * Whether the Avahi daemon answers; while it does not, nothing is found.
   */
  properties[PROP_DAEMON_RUNNING] =
    g_param_spec_boolean ("daemon-running", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  /**
   * SsqDiscovery:max-servers:
   * How many services are listed or being resolved at most: what a LAN
   * peer announcing thousands can make this process hold. Past it, new
   * services are ignored until listed ones go away.
   */
  properties[PROP_MAX_SERVERS] =
    g_param_spec_uint ("max-servers", NULL, NULL, 1, G_MAXUINT, MAX_SERVERS_DEFAULT,
                       G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * SsqDiscovery::server-found:
   * A server was resolved (again, if its address or records changed: the
   * old entry is removed first).
   */
  signals[SERVER_FOUND] = g_signal_new ("server-found", G_TYPE_FROM_CLASS (klass),
                                        G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 1,
                                        SSQ_TYPE_DISCOVERED_SERVER);
  /**
   * SsqDiscovery::server-removed:
   * A server withdrew its service, or the daemon went away.
   */
  signals[SERVER_REMOVED] = g_signal_new ("server-removed", G_TYPE_FROM_CLASS (klass),
                                          G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 1,
                                          SSQ_TYPE_DISCOVERED_SERVER);
}

static void
ssq_discovery_init (SsqDiscovery *self)
{
  self->servers = g_ptr_array_new_with_free_func (g_object_unref);
}

/** Whether this build can discover servers at all (built with Avahi). */
gboolean
ssq_discovery_is_available (void)
{
  return HAVE_AVAHI;
}

SsqDiscovery *
ssq_discovery_new (void)
{
  return g_object_new (SSQ_TYPE_DISCOVERY, NULL);
}

/**
 * ssq_discovery_start:
 * Starts looking for servers on the LAN, on the thread-default main
 * context. Fails with SSQ_ERROR_NOT_IMPLEMENTED in a build without Avahi.
 * Without an Avahi daemon it succeeds and waits for one:
 * SsqDiscovery:daemon-running says so (already right when this returns).
 */
gboolean
ssq_discovery_start (SsqDiscovery  *self,
                     GError       **error)
{
  g_return_val_if_fail (SSQ_IS_DISCOVERY (self), FALSE);
#if HAVE_AVAHI
  if (self->poll != NULL)
    return TRUE;
  self->resolving = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, free_resolver);
  self->poll = avahi_glib_poll_new (g_main_context_get_thread_default (), G_PRIORITY_DEFAULT);
  start_client (self);
  return TRUE;
#else
  g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_NOT_IMPLEMENTED,
                       _("Discovery is not available: this program was built without Avahi"));
  return FALSE;
#endif
}

gboolean
ssq_discovery_get_daemon_running (SsqDiscovery *self)
{
  g_return_val_if_fail (SSQ_IS_DISCOVERY (self), FALSE);
  return self->daemon_running;
}

/** How many announced services were ignored, the list being full. */
guint64
ssq_discovery_get_n_ignored (SsqDiscovery *self)
{
  g_return_val_if_fail (SSQ_IS_DISCOVERY (self), 0);
  return self->n_ignored;
}

/**
 * ssq_discovery_group_servers:
 * @servers: a list of #SsqDiscoveredServer, e.g. an #SsqDiscovery
 *
 * The same server is seen once per interface and protocol it announces
 * itself on: these are folded into one group per server, by its name,
 * port and key (two servers of one name on one port still differ by
 * their keys, and an impostor with another key is not folded into the
 * real one).
 *
 * Returns: (transfer full) (element-type GPtrArray): one #GPtrArray of
 * #SsqDiscoveredServer (holding references) per server, in the order each
 * was first found; in each, its entries in the order found, the first
 * one to show and connect to.
 */
GPtrArray *
ssq_discovery_group_servers (GListModel *servers)
{
  GPtrArray *groups = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);
  g_autoptr(GHashTable) by_key = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  g_return_val_if_fail (G_IS_LIST_MODEL (servers), groups);
  for (guint i = 0; i < g_list_model_get_n_items (servers); i++)
    {
      g_autoptr(SsqDiscoveredServer) server = g_list_model_get_item (servers, i);
      char *key = g_strdup_printf ("%s\n%u\n%s", server->name, server->port,
                                   server->fingerprint ? server->fingerprint : "");
      GPtrArray *group = g_hash_table_lookup (by_key, key);

      if (group == NULL)
        {
          group = g_ptr_array_new_with_free_func (g_object_unref);
          g_ptr_array_add (groups, group);
          g_hash_table_insert (by_key, key, group);
        }
      else
        g_free (key);
      g_ptr_array_add (group, g_steal_pointer (&server));
    }
  return groups;
}
