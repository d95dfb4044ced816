/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server.c: assembling the server: storage, hub, limits, the transport
 * (net/) and its listener, and a graceful shutdown. */
#include "ssq-config.h"
#include "ssq-server-private.h"
#include "ssq-server-admin.h"
#include "ssq-server-backup.h"
#include "ssq-server-broker-bridge.h"
#include "ssq-server-discovery.h"
#include "ssq-server-queues.h"
#include "ssq-server-hub.h"
#include "ssq-server-invites.h"
#include "ssq-server-session.h"
#include "ssq-server-thumbnailer.h"
#include "ssq-server-tls.h"

#include <glib/gi18n.h>
#include <sodium.h>

#define HOUSEKEEPING_SECONDS 10
#define SHUTDOWN_GRACE_MS    2000

G_DEFINE_FINAL_TYPE (SsqServer, ssq_server, G_TYPE_OBJECT)

static void
ssq_server_dispose (GObject *object)
{
  SsqServer *self = SSQ_SERVER (object);

  g_clear_pointer (&self->discovery, ssq_server_discovery_free);  /* withdrawn from the LAN */
  g_clear_pointer (&self->admin, ssq_server_admin_free);     /* its socket goes */
  g_clear_handle_id (&self->housekeeping_id, g_source_remove);
  g_clear_handle_id (&self->purge_id, g_source_remove);
  g_clear_handle_id (&self->media_expiry_id, g_source_remove);
  /* AMQP before the broker: its connections hand back their channels. */
  g_clear_pointer (&self->amqp, ssq_amqp_server_free);
  g_clear_pointer (&self->queues, ssq_server_queues_free); /* long polls answered, before the broker */
  g_clear_pointer (&self->net, ssq_net_server_free);      /* uploads under way abort */
  /* Decodes under way stop; thumbnails not committed are owed at the next start. */
  g_clear_pointer (&self->thumbnailer, ssq_server_thumbnailer_close);
  if (self->media != NULL)
    ssq_server_media_close (self->media);                  /* their files are removed */
  g_clear_pointer (&self->broker, ssq_broker_free);         /* its journal goes to the writer */
  g_clear_pointer (&self->writer, ssq_server_writer_free);   /* flushes */
  g_clear_pointer (&self->checkpointer, ssq_server_checkpointer_free); /* after the writer's last commit */
  g_clear_pointer (&self->readers, ssq_server_readers_free); /* none queued: each holds a ref */
  g_clear_pointer (&self->media, ssq_server_media_unref);
  g_clear_pointer (&self->hub, ssq_server_hub_free);
  G_OBJECT_CLASS (ssq_server_parent_class)->dispose (object);
}

static void
ssq_server_finalize (GObject *object)
{
  SsqServer *self = SSQ_SERVER (object);

  g_clear_pointer (&self->auth, ssq_server_auth_free);
  g_clear_pointer (&self->logins, ssq_server_logins_free);
  g_clear_pointer (&self->members, ssq_server_members_free);
  g_clear_pointer (&self->store, ssq_server_store_close);
  g_clear_pointer (&self->rl_messages, ssq_server_ratelimit_free);
  g_clear_pointer (&self->rl_groups, ssq_server_ratelimit_free);
  g_clear_pointer (&self->rl_joins, ssq_server_ratelimit_free);
  g_clear_pointer (&self->rl_registrations, ssq_server_ratelimit_free);
  g_clear_pointer (&self->rl_uploads, ssq_server_ratelimit_free);
  g_clear_pointer (&self->uploads_at_once, g_hash_table_unref);
  g_clear_pointer (&self->login_pairs, ssq_server_throttle_free);
  g_clear_pointer (&self->login_accounts, ssq_server_throttle_free);
  g_clear_pointer (&self->amqp_logins, g_hash_table_unref);
  g_clear_pointer (&self->config, ssq_server_config_free);
  g_free (self->url);
  g_free (self->amqp_url);
  g_free (self->amqps_url);
  g_free (self->local_url);
  g_free (self->reach_hint);
  g_free (self->tls_fingerprint);
  g_free (self->tls_pin);
  G_OBJECT_CLASS (ssq_server_parent_class)->finalize (object);
}

static void
ssq_server_class_init (SsqServerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = ssq_server_dispose;
  object_class->finalize = ssq_server_finalize;
}

static void
ssq_server_init (SsqServer *self)
{
  ssq_server_metrics_init (&self->metrics);
}

static void
batch_hook (guint    n_ops,
            gint64   commit_us,
            gpointer user_data)
{
  SsqServer *self = user_data;

  self->metrics.commits_total++;
  ssq_histogram_observe (&self->metrics.commit_latency, commit_us / 1e6);
  ssq_histogram_observe (&self->metrics.commit_batch, n_ops);
}

static gboolean
housekeeping_cb (gpointer data)
{
  SsqServer *self = data;
  gint64 now = ssq_now_ms ();

  ssq_server_ratelimit_prune (self->rl_messages, now);
  ssq_server_ratelimit_prune (self->rl_groups, now);
  ssq_server_ratelimit_prune (self->rl_joins, now);
  ssq_server_ratelimit_prune (self->rl_registrations, now);
  ssq_server_ratelimit_prune (self->rl_uploads, now);
  ssq_server_throttle_prune (self->login_pairs, now);
  ssq_server_throttle_prune (self->login_accounts, now);
  return G_SOURCE_CONTINUE;
}

/* Expired sessions are deleted, and the WebSockets still open with their
 * tokens closed: a login ends at its expiry, whether or not it is in use.
 * The deletion goes through the writer; the sockets close after it. */
typedef struct {
  SsqServer *server;
  gint64     now;
  GPtrArray *ended;     /* SsqSessionRow, set by the writer thread */
} Purge;

static void
purge_free (gpointer data)
{
  Purge *purge = data;

  g_clear_pointer (&purge->ended, g_ptr_array_unref);
  g_free (purge);
}

static gboolean
purge_op (SsqServerStore  *store,
          gpointer         data,
          GError         **error)
{
  Purge *purge = data;

  g_clear_pointer (&purge->ended, g_ptr_array_unref);   /* when run again */
  purge->ended = ssq_server_store_sessions_purge (store, purge->now, error);
  return purge->ended != NULL;
}

static void
purge_done (gpointer      data,
            const GError *error)
{
  Purge *purge = data;

  if (error != NULL)
    {
      g_warning ("Cannot purge expired sessions: %s", error->message);
      return;
    }
  for (guint i = 0; i < purge->ended->len; i++)
    {
      SsqSessionRow *row = purge->ended->pdata[i];

      ssq_server_hub_end_sessions (purge->server->hub, row->user_id, row->token_hash, NULL,
                                   SSQ_CLOSE_POLICY, "Session expired");
    }
  if (purge->ended->len > 0)
    g_debug ("Purged %u expired sessions", purge->ended->len);
}

static void
purge_sessions (SsqServer *self)
{
  Purge *purge = g_new0 (Purge, 1);

  purge->server = self;
  purge->now = ssq_now_ms ();
  ssq_server_writer_submit (self->writer, purge_op, purge_done, purge, purge_free);
}

static gboolean
purge_cb (gpointer data)
{
  purge_sessions (data);
  return G_SOURCE_CONTINUE;
}

/* The broker loads its durable exchanges, queues and messages before
 * anything is served. */
static gboolean
start_broker (SsqServer  *self,
              GError    **error)
{
  const SsqServerConfig *c = self->config;
  SsqBrokerLimits limits = {
    .max_queues = c->broker_max_queues,
    .max_queues_per_user = c->broker_max_queues_per_user,
    .max_exchanges = c->broker_max_exchanges,
    .max_bindings = c->broker_max_bindings,
    .max_bindings_per_user = c->broker_max_bindings_per_user,
    .max_message_size = c->broker_max_message_size,
    .max_memory = c->broker_max_memory,
    .max_unacked_per_channel = c->broker_max_unacked_per_channel,
    .max_consumers_per_channel = c->broker_max_consumers_per_channel,
    .max_consumers_per_connection = c->broker_max_consumers_per_connection,
    .max_consumers = c->broker_max_consumers,
  };
  g_autoptr(GError) local = NULL;

  self->broker = ssq_broker_new (self->store, self->writer, &limits, &local);
  if (self->broker == NULL)
    {
      g_set_error (error, SSQ_ERROR, SSQ_ERROR_INTERNAL, _("The broker's stored state cannot be read: %s"),
                   local->message);
      return FALSE;
    }
  ssq_server_broker_bridge_start (self);
  return TRUE;
}

/**
 * ssq_server_new:
 * Opens the data directory and the database; does not listen yet.
 */
SsqServer *
ssq_server_new (SsqServerConfig  *config,
                GError          **error)
{
  g_autoptr(SsqServer) self = g_object_new (SSQ_TYPE_SERVER, NULL);
  g_autofree char *db_path = NULL;
  g_autoptr(SsqServerStore) writer_store = NULL;

  if (sodium_init () < 0)
    {
      g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_INTERNAL, "libsodium failed to initialise");
      return NULL;
    }
  self->config = config;
  if (g_mkdir_with_parents (config->data_dir, 0700) != 0)
    {
      int errsv = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                   "Cannot create data directory %s: %s", config->data_dir, g_strerror (errsv));
      return NULL;
    }
  /* Private before any file in it is opened (one made by an earlier
   * version or by hand may be 0755). */
  ssq_server_admin_tighten_dir (config->data_dir);
  db_path = g_build_filename (config->data_dir, "supersoniq.db", NULL);
  /* A database of an older schema is backed up before it is migrated up,
   * while no connection of this process has it open. */
  if (!ssq_server_backup_before_migrate (config->data_dir, SSQ_STORE_SCHEMA_VERSION, error))
    return NULL;
  /* The writer's connection opens first: it runs the migrations. The main
   * loop's own connection then only reads (WAL: never waiting for a commit). */
  writer_store = ssq_server_store_open (db_path, config->durable_commits, error);
  if (writer_store == NULL || !ssq_server_store_tune_writer (writer_store, error))
    return NULL;
  self->store = ssq_server_store_open_another (db_path, config->durable_commits, error);
  if (self->store == NULL)
    return NULL;
  self->readers = ssq_server_readers_new (db_path, config->durable_commits,
                                         CLAMP (g_get_num_processors (), 2, 4), error);
  if (self->readers == NULL)
    return NULL;
  self->checkpointer = ssq_server_checkpointer_new (db_path, config->durable_commits, writer_store,
                                                    config->checkpoint_pages, error);
  if (self->checkpointer == NULL)
    return NULL;
  self->writer = ssq_server_writer_new (g_steal_pointer (&writer_store), config->commit_batch_max);
  ssq_server_writer_set_batch_hook (self->writer, batch_hook, self);
  self->members = ssq_server_members_new (self->store);
  self->auth = ssq_server_auth_new (config->pwhash_opslimit, config->pwhash_memlimit,
                                    config->hash_threads);
  /* Room for the logins of a large LAN many times over (about 100 bytes
   * each); past it the cache starts again empty, which is only slower. */
  self->logins = ssq_server_logins_new (16384);
  self->hub = ssq_server_hub_new (self);
  self->queues = ssq_server_queues_new (self);
  self->rl_messages = ssq_server_ratelimit_new (config->messages_per_minute, 60 * 1000);
  self->rl_groups = ssq_server_ratelimit_new (config->groups_per_hour, 3600 * 1000);
  self->rl_joins = ssq_server_ratelimit_new (config->joins_per_hour, 3600 * 1000);
  self->rl_registrations = ssq_server_ratelimit_new (config->registrations_per_hour, 3600 * 1000);
  self->rl_uploads = ssq_server_ratelimit_new (config->media_uploads_per_minute, 60 * 1000);
  self->uploads_at_once = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  /* Before anything is served: the media store sweeps what a crash left. */
  self->media = ssq_server_media_new (config->data_dir, self->store, config->durable_commits,
                                      error);
  if (self->media == NULL)
    return NULL;
  self->thumbnailer = ssq_server_thumbnailer_new (self);
  /* Logins: each (account, address) pair backs off on its own, doubling
   * from 1 s at every failure past the free ones; the account as a whole
   * (a guesser spread over many addresses) ramps four times slower. */
  self->login_pairs = ssq_server_throttle_new (config->login_free_failures, 1, 1000,
                                               config->login_backoff_max * 1000LL,
                                               config->login_throttle_entries);
  self->login_accounts = ssq_server_throttle_new (config->login_account_free_failures, 4, 1000,
                                                  config->login_backoff_max * 1000LL,
                                                  config->login_throttle_entries);
  self->amqp_logins = ssq_amqp_login_table_new ();
  if (!ssq_server_http_setup (self, error))
    return NULL;
  self->housekeeping_id = g_timeout_add_seconds (HOUSEKEEPING_SECONDS, housekeeping_cb, self);
  purge_sessions (self);
  /* At start nothing is served yet: the expired logins are gone before the
   * first request, as they would be after a blocking delete. */
  ssq_server_writer_flush (self->writer);
  self->purge_id = g_timeout_add_seconds (config->session_purge_interval, purge_cb, self);
  /* Media switched off: the store stays (a message deleted still lets its
   * files go), but no upload expires and no thumbnail is made. */
  if (config->features_media)
    {
      self->media_expiry_id = ssq_server_api_media_start_expiry (self);
      /* Thumbnails a previous run still owed. */
      ssq_server_thumbnailer_kick (self->thumbnailer);
    }
  if (config->features_broker && !start_broker (self, error))
    return NULL;
  return g_steal_pointer (&self);
}

static char *
url_of (GInetAddress *address,
        guint16       port,
        gboolean      tls)
{
  g_autofree char *host = g_inet_address_to_string (address);

  return g_strdup_printf (g_inet_address_get_family (address) == G_SOCKET_FAMILY_IPV6
                            ? "%s://[%s]:%u" : "%s://%s:%u", tls ? "https" : "http", host, port);
}

/* On the LAN, under [server] name or the host name, once the port is
 * known. */
static void
announce (SsqServer    *self,
          GInetAddress *address,
          guint16       port)
{
  g_autofree char *name = NULL;

  if (!self->config->features_discovery)
    return;
  name = self->config->name ? g_strdup (self->config->name) : ssq_server_discovery_default_name ();
  self->discovery = ssq_server_discovery_new (name, address, port,
                                              ssq_server_get_tls_fingerprint (self, NULL));
}

/**
 * ssq_server_get_discovery_on:
 * Whether the server is announced on the LAN (or will be when an Avahi
 * daemon runs): on, built with Avahi, and listening beyond loopback.
 */
gboolean
ssq_server_get_discovery_on (SsqServer *self)
{
  return self->discovery != NULL;
}

gboolean
ssq_server_listen (SsqServer  *self,
                   GError    **error)
{
  g_autofree char *host = NULL;
  g_autoptr(GInetAddress) inet = NULL;
  g_autoptr(GSocketAddress) address = NULL;
  guint16 port, bound_port;

  if (!ssq_server_config_parse_listen (self->config->listen, &host, &port, error))
    return FALSE;
  inet = g_inet_address_new_from_string (host);
  if (inet == NULL)
    {
      if (g_str_equal (host, "localhost"))
        inet = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
      else
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       "Listen host \"%s\" is not an IP address", host);
          return FALSE;
        }
    }
  /* The certificate before the port: no connection ever meets a server
   * without one. */
  if (!ssq_server_tls_setup (self, inet, error))
    return FALSE;
  address = g_inet_socket_address_new (inet, port);
  if (!ssq_net_server_listen (self->net, address, &bound_port, error))
    return FALSE;

  if (!ssq_server_amqp_setup (self, error))
    return FALSE;
  /* Administration opens with the chat: the data directory is locked. */
  self->admin = ssq_server_admin_new (self, error);
  if (self->admin == NULL)
    return FALSE;
  self->url = url_of (inet, bound_port, self->tls_fingerprint != NULL);
  self->reach_hint = ssq_server_reach_hint (inet, bound_port, self->tls_fingerprint != NULL,
                                            &self->local_url);
  announce (self, inet, bound_port);
  return TRUE;
}

/**
 * ssq_server_reach_hint:
 * Says who can connect to a server listening on @address and @port, for the
 * start-up text: a wildcard address (0.0.0.0, ::) serves every interface but
 * is no address to connect to; a loopback address serves this machine only;
 * any other is the address to use.
 * @out_local_url: (out): the URL to use from this machine
 */
char *
ssq_server_reach_hint (GInetAddress  *address,
                       guint16        port,
                       gboolean       tls,
                       char         **out_local_url)
{
  g_autofree char *shown = g_inet_address_to_string (address);
  g_autofree char *url = url_of (address, port, tls);

  if (g_inet_address_get_is_any (address))
    {
      g_autoptr(GInetAddress) loopback =
        g_inet_address_new_loopback (g_inet_address_get_family (address));

      *out_local_url = url_of (loopback, port, tls);
      return g_strdup_printf (_("Listening on every interface (%s). On this machine, clients "
                                "connect to %s; on the LAN, to this machine's address in place "
                                "of %s, port %u."), shown, *out_local_url, shown, port);
    }
  *out_local_url = g_strdup (url);
  if (g_inet_address_get_is_loopback (address))
    return g_strdup_printf (_("Clients connect to %s, from this machine only: %s is a loopback "
                              "address. To serve the LAN, listen on 0.0.0.0 (--listen "
                              "0.0.0.0:%u) or on this machine's LAN address."), url, shown, port);
  return g_strdup_printf (_("Clients connect to %s (on this machine and the LAN)."), url);
}

const char *
ssq_server_get_local_url (SsqServer *self)
{
  return self->local_url;
}

const char *
ssq_server_get_reach_hint (SsqServer *self)
{
  return self->reach_hint;
}

const SsqServerConfig *
ssq_server_get_config (SsqServer *self)
{
  return self->config;
}

const char *
ssq_server_get_url (SsqServer *self)
{
  return self->url;
}

/* amqp://HOST:PORT (or amqps://), NULL when not listening. */
const char *
ssq_server_get_amqp_url (SsqServer *self,
                         gboolean   tls)
{
  return tls ? self->amqps_url : self->amqp_url;
}

/* The SHA-256 of the TLS public key, "sha256:AB:…", and the same in base64
 * (@out_pin, curl's form); NULL without TLS. */
const char *
ssq_server_get_tls_fingerprint (SsqServer   *self,
                                const char **out_pin)
{
  if (out_pin != NULL)
    *out_pin = self->tls_pin;
  return self->tls_fingerprint;
}

typedef struct {
  SsqServer *server;
  GCallback  done;
  gpointer   user_data;
  guint      poll_id;
  gint64     deadline;
} Shutdown;

static gboolean
shutdown_poll_cb (gpointer data)
{
  Shutdown *s = data;

  if (s->server->sessions_alive > 0 && g_get_monotonic_time () < s->deadline)
    return G_SOURCE_CONTINUE;
  /* Writes and reads under way are answered; an answer may let a
   * connection's next request in, so once every connection is closed they
   * are waited for again: each holds a request, and a request the server,
   * which would otherwise never be disposed (nor its journal handed over). */
  ssq_server_writer_flush (s->server->writer);
  ssq_server_readers_flush (s->server->readers);
  ssq_net_server_close_all (s->server->net);
  ssq_server_writer_flush (s->server->writer);
  ssq_server_readers_flush (s->server->readers);
  ((void (*) (gpointer)) s->done) (s->user_data);
  g_object_unref (s->server);
  g_free (s);
  return G_SOURCE_REMOVE;
}

/**
 * ssq_server_shutdown:
 * Stops accepting, commits pending writes, closes every session with 1001 and
 * calls @done (a `void (*)(gpointer)`) once they are closed or after 2 s.
 */
void
ssq_server_shutdown (SsqServer *self,
                     GCallback  done,
                     gpointer   user_data)
{
  g_autoptr(GPtrArray) sessions = NULL;
  Shutdown *s;

  if (self->shutting_down)
    return;
  /* No new connections; requests already under way are still answered
   * (upgrades with 503) until the sessions have said goodbye. */
  self->shutting_down = TRUE;
  ssq_net_server_stop_listening (self->net);
  /* AMQP clients hear 320 CONNECTION_FORCED, as from RabbitMQ stopping. */
  if (self->amqp != NULL)
    ssq_amqp_server_stop (self->amqp);
  /* Not offered on the LAN any more while the last sessions close. */
  g_clear_pointer (&self->discovery, ssq_server_discovery_free);
  ssq_net_server_goaway (self->net);
  ssq_server_writer_flush (self->writer);
  ssq_server_readers_flush (self->readers);
  sessions = ssq_server_hub_sessions (self->hub);
  for (guint i = 0; i < sessions->len; i++)
    ssq_server_session_close (sessions->pdata[i], SSQ_CLOSE_GOING_AWAY, "Server shutting down");

  s = g_new0 (Shutdown, 1);
  s->server = g_object_ref (self);
  s->done = done;
  s->user_data = user_data;
  s->deadline = g_get_monotonic_time () + SHUTDOWN_GRACE_MS * 1000;
  g_timeout_add (20, shutdown_poll_cb, s);
}
