/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server.c: assembling the server: storage, hub, limits, the listener
 * (our own accept loop, so that every connection gets a backlog of 4096,
 * TCP keepalive, an idle timeout and a place in the connection count) and a
 * graceful shutdown. */
#include "ssq-config.h"
#include "ssq-server-private.h"
#include "ssq-server-hub.h"
#include "ssq-server-session.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sodium.h>
#include <sys/socket.h>

#define HOUSEKEEPING_SECONDS 10
#define SHUTDOWN_GRACE_MS    2000

G_DEFINE_FINAL_TYPE (SsqServer, ssq_server, G_TYPE_OBJECT)

static void
ssq_server_dispose (GObject *object)
{
  SsqServer *self = SSQ_SERVER (object);

  g_clear_handle_id (&self->housekeeping_id, g_source_remove);
  g_clear_handle_id (&self->idle_sweep_id, g_source_remove);
  if (self->soup != NULL)
    soup_server_disconnect (self->soup);
  g_clear_object (&self->soup);
  g_clear_pointer (&self->writer, ssq_server_writer_free);   /* flushes */
  g_clear_pointer (&self->hub, ssq_server_hub_free);
  g_clear_pointer (&self->connections, g_hash_table_destroy);
  g_clear_object (&self->listen_socket);
  G_OBJECT_CLASS (ssq_server_parent_class)->dispose (object);
}

static void
ssq_server_finalize (GObject *object)
{
  SsqServer *self = SSQ_SERVER (object);

  g_clear_pointer (&self->auth, ssq_server_auth_free);
  g_clear_pointer (&self->store, ssq_server_store_close);
  g_clear_pointer (&self->rl_messages, ssq_server_ratelimit_free);
  g_clear_pointer (&self->rl_groups, ssq_server_ratelimit_free);
  g_clear_pointer (&self->rl_joins, ssq_server_ratelimit_free);
  g_clear_pointer (&self->rl_logins, ssq_server_ratelimit_free);
  g_clear_pointer (&self->config, ssq_server_config_free);
  g_free (self->url);
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
  g_autoptr(GPtrArray) sessions = ssq_server_hub_sessions (self->hub);
  gint64 now = ssq_now_ms ();

  ssq_server_ratelimit_prune (self->rl_messages, now);
  ssq_server_ratelimit_prune (self->rl_groups, now);
  ssq_server_ratelimit_prune (self->rl_joins, now);
  ssq_server_ratelimit_prune (self->rl_logins, now);
  /* A peer that stopped reading while nothing new was sent to it. */
  for (guint i = 0; i < sessions->len; i++)
    ssq_server_session_check_backlog (sessions->pdata[i]);
  return G_SOURCE_CONTINUE;
}

static gboolean idle_sweep_cb (gpointer data);
static void     set_keepalive (GSocket *socket);

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
  db_path = g_build_filename (config->data_dir, "supersoniq.db", NULL);
  self->store = ssq_server_store_open (db_path, config->durable_commits, error);
  if (self->store == NULL)
    return NULL;
  self->writer = ssq_server_writer_new (self->store, config->commit_batch_max);
  ssq_server_writer_set_batch_hook (self->writer, batch_hook, self);
  self->auth = ssq_server_auth_new (config->pwhash_opslimit, config->pwhash_memlimit,
                                    config->hash_threads);
  self->hub = ssq_server_hub_new (self);
  self->rl_messages = ssq_server_ratelimit_new (config->messages_per_minute, 60 * 1000);
  self->rl_groups = ssq_server_ratelimit_new (config->groups_per_hour, 3600 * 1000);
  self->rl_joins = ssq_server_ratelimit_new (config->joins_per_hour, 3600 * 1000);
  self->rl_logins = ssq_server_ratelimit_new (config->logins_per_minute, 60 * 1000);
  self->soup = soup_server_new ("server-header", "supersoniq/" SSQ_VERSION, NULL);
  ssq_server_http_setup (self);
  self->housekeeping_id = g_timeout_add_seconds (HOUSEKEEPING_SECONDS, housekeeping_cb, self);
  self->connections = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, g_free);
  self->idle_sweep_id = g_timeout_add_seconds (MAX (1, config->idle_timeout / 2), idle_sweep_cb,
                                               self);
  return g_steal_pointer (&self);
}

static void
set_keepalive (GSocket *socket)
{
  int fd = g_socket_get_fd (socket);
  int idle = 60, interval = 10, count = 3;

  /* Dead peers (a laptop closed mid-conversation) are found by the kernel:
   * no timer of ours per connection. */
  g_socket_set_keepalive (socket, TRUE);
  setsockopt (fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
  setsockopt (fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof interval);
  setsockopt (fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof count);
}

typedef struct {
  SsqServer *server;
  GSocket   *socket;
} GoneData;

static void
connection_gone (gpointer  data,
                 GObject  *where_the_object_was)
{
  GoneData *gone = data;

  if (gone->server->connections != NULL)
    g_hash_table_remove (gone->server->connections, gone->socket);
  g_object_unref (gone->server);
  g_free (gone);
}

/* The record of the connection a message came on, made on its first request
 * (libsoup announces a connection's first request as soon as it is accepted,
 * before any byte is read). */
SsqConnection *
ssq_server_connection_for (SsqServer         *self,
                           SoupServerMessage *msg)
{
  GSocket *socket = soup_server_message_get_socket (msg);
  SsqConnection *c;
  GoneData *gone;

  if (socket == NULL || self->connections == NULL)
    return NULL;
  c = g_hash_table_lookup (self->connections, socket);
  if (c != NULL)
    return c;

  c = g_new0 (SsqConnection, 1);
  c->socket = socket;
  c->last_activity = g_get_monotonic_time ();
  g_hash_table_insert (self->connections, socket, c);
  gone = g_new0 (GoneData, 1);
  gone->server = g_object_ref (self);
  gone->socket = socket;
  g_object_weak_ref (G_OBJECT (socket), connection_gone, gone);
  set_keepalive (socket);
  if (g_socket_get_family (socket) != G_SOCKET_FAMILY_UNIX)
    g_socket_set_option (socket, IPPROTO_TCP, TCP_NODELAY, 1, NULL);
  if (g_hash_table_size (self->connections) > self->config->max_connections ||
      self->shutting_down)
    g_socket_shutdown (socket, TRUE, TRUE, NULL);
  return c;
}

/* Shuts down connections that sat idle, or half-sent a request, for longer
 * than idle_timeout. Shutting the socket down (rather than closing it) lets
 * libsoup see an ordinary EOF and clean up by itself. */
static gboolean
idle_sweep_cb (gpointer data)
{
  SsqServer *self = data;
  gint64 limit = g_get_monotonic_time () - (gint64) self->config->idle_timeout * G_USEC_PER_SEC;
  GHashTableIter iter;
  SsqConnection *c;

  g_hash_table_iter_init (&iter, self->connections);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &c))
    if (!c->upgraded && !c->busy && c->last_activity < limit)
      {
        g_socket_shutdown (c->socket, TRUE, TRUE, NULL);
        c->last_activity = G_MAXINT64;   /* once is enough */
      }
  return G_SOURCE_CONTINUE;
}

gboolean
ssq_server_listen (SsqServer  *self,
                   GError    **error)
{
  g_autofree char *host = NULL;
  g_autoptr(GInetAddress) inet = NULL;
  g_autoptr(GSocketAddress) address = NULL;
  g_autoptr(GSocketAddress) effective = NULL;
  g_autoptr(GSocket) socket = NULL;
  g_autofree char *shown_host = NULL;
  guint16 port;

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
  address = g_inet_socket_address_new (inet, port);
  socket = g_socket_new (g_inet_address_get_family (inet), G_SOCKET_TYPE_STREAM,
                         G_SOCKET_PROTOCOL_TCP, error);
  if (socket == NULL || !g_socket_bind (socket, address, TRUE, error))
    return FALSE;
  /* GLib's default backlog of 10 drops connections in a reconnect storm. */
  g_socket_set_listen_backlog (socket, 4096);
  if (!g_socket_listen (socket, error) ||
      !soup_server_listen_socket (self->soup, socket, 0, error))
    return FALSE;
  effective = g_socket_get_local_address (socket, error);
  if (effective == NULL)
    return FALSE;
  self->listen_socket = g_steal_pointer (&socket);

  shown_host = g_inet_address_to_string (inet);
  self->url = g_strdup_printf (g_inet_address_get_family (inet) == G_SOCKET_FAMILY_IPV6
                                 ? "http://[%s]:%u" : "http://%s:%u",
                               shown_host,
                               g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective)));
  return TRUE;
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
  ssq_server_writer_flush (s->server->writer);
  soup_server_disconnect (s->server->soup);
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
  /* From here on new connections are shut at their first request and
   * upgrades are refused; the listener itself goes with soup_server_disconnect
   * once the sessions have said goodbye. */
  self->shutting_down = TRUE;
  ssq_server_writer_flush (self->writer);
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
