/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-net-server.c: the listening socket and the accept loop. Connections
 * over the total or per-address limit are refused at accept (accepted and
 * closed at once, before they cost anything). A spare descriptor is kept so
 * that when the process runs out of descriptors (EMFILE) the pending
 * connection can still be accepted and closed: otherwise it would stay in
 * the backlog, the listener would stay readable, and the loop would spin. */
#include "ssq-net-private.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define ACCEPTS_PER_WAKEUP 256

static void listener_event (SsqNetWatch *watch,
                            guint32      events);

/**
 * ssq_net_raise_fd_limit:
 * Raises the soft RLIMIT_NOFILE to the hard one: 1024 (systemd's and many
 * shells' default) is far below what a LAN server may need.
 */
void
ssq_net_raise_fd_limit (void)
{
  struct rlimit rl;

  if (getrlimit (RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max)
    {
      rl.rlim_cur = rl.rlim_max;
      if (setrlimit (RLIMIT_NOFILE, &rl) != 0)
        g_warning ("Cannot raise the descriptor limit: %s", g_strerror (errno));
    }
}

SsqNetServer *
ssq_net_server_new (const SsqNetLimits  *limits,
                    const char          *server_name,
                    SsqNetRequestFunc    request_func,
                    SsqNetErrorFunc      error_func,
                    gpointer             user_data,
                    GError             **error)
{
  g_autoptr(SsqNetServer) server = g_new0 (SsqNetServer, 1);

  server->limits = *limits;
  server->server_name = g_strdup (server_name);
  server->request_func = request_func;
  server->error_func = error_func;
  server->user_data = user_data;
  server->listener.fd = -1;
  server->spare_fd = -1;
  g_queue_init (&server->conns);
  server->per_address = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  server->rbuf = g_malloc (SSQ_NET_READ_SIZE);
  /* The parser's own bound, beside ours (ours counts the whole head). */
  http_parser_set_max_header_size (MAX (limits->max_header_size, 1024));
  server->loop = ssq_net_loop_new (error);
  if (server->loop == NULL)
    return NULL;
  server->spare_fd = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  return g_steal_pointer (&server);
}

void
ssq_net_server_free (SsqNetServer *server)
{
  if (server == NULL)
    return;
  ssq_net_server_stop_listening (server);
  ssq_net_server_close_all (server);
  ssq_net_tls_server_clear (server);     /* every session is gone */
  if (server->spare_fd >= 0)
    close (server->spare_fd);
  g_clear_pointer (&server->loop, ssq_net_loop_free);
  g_hash_table_unref (server->per_address);
  g_free (server->rbuf);
  g_free (server->server_name);
  g_free (server);
}

gboolean
ssq_net_server_listen (SsqNetServer    *server,
                       GSocketAddress  *address,
                       guint16         *out_port,
                       GError         **error)
{
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  int one = 1;
  int fd;

  if (!g_socket_address_to_native (address, &ss, sizeof ss, error))
    return FALSE;
  fd = socket (ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    goto fail;
  setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  /* A backlog of 4096: a reconnect storm after a restart must not be
   * dropped by the kernel before we get to accept it. */
  if (bind (fd, (struct sockaddr *) &ss, g_socket_address_get_native_size (address)) != 0 ||
      listen (fd, 4096) != 0 || getsockname (fd, (struct sockaddr *) &ss, &len) != 0)
    goto fail;
  server->listener.fd = fd;
  server->listener.func = listener_event;
  if (!ssq_net_loop_add (server->loop, &server->listener, EPOLLIN, error))
    {
      close (fd);
      server->listener.fd = -1;
      return FALSE;
    }
  *out_port = ntohs (ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *) &ss)->sin6_port
                                              : ((struct sockaddr_in *) &ss)->sin_port);
  return TRUE;

fail:
  {
    int errsv = errno;
    if (fd >= 0)
      close (fd);
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv), "Cannot listen: %s",
                 g_strerror (errsv));
    return FALSE;
  }
}

/* Requests are offered to @head_func once their headers are complete,
 * before their body (see SsqNetHeadFunc). */
void
ssq_net_server_set_head_func (SsqNetServer   *server,
                              SsqNetHeadFunc  head_func)
{
  server->head_func = head_func;
}

void
ssq_net_server_stop_listening (SsqNetServer *server)
{
  if (server->listener.fd < 0)
    return;
  ssq_net_loop_remove (server->loop, &server->listener);
  close (server->listener.fd);
  server->listener.fd = -1;
}

void
ssq_net_server_close_all (SsqNetServer *server)
{
  GList *link;

  while ((link = server->conns.head) != NULL)
    ssq_net_conn_close (link->data, SSQ_NET_CLOSE_NORMAL);
}

/**
 * ssq_net_server_goaway:
 * The server is stopping: each HTTP/2 connection hears GOAWAY (its streams
 * under way are still answered, no new one starts).
 */
void
ssq_net_server_goaway (SsqNetServer *server)
{
  for (GList *l = server->conns.head; l != NULL; l = l->next)
    {
      SsqNetConn *conn = l->data;

      if (conn->mode == SSQ_NET_MODE_HTTP2)
        ssq_net_h2_goaway (conn);
    }
}

guint
ssq_net_server_n_connections (SsqNetServer *server)
{
  return server->conns.length;
}

void
ssq_net_server_share_address_counts (SsqNetServer *server,
                                     SsqNetServer *other)
{
  g_return_if_fail (server->conns.length == 0);
  g_hash_table_unref (server->per_address);
  server->per_address = g_hash_table_ref (other->per_address);
}

guint64
ssq_net_server_refused_total (SsqNetServer *server)
{
  return server->refused_total;
}

/* The longest main-loop iteration since the last call, wall and CPU
 * time (µs). */
void
ssq_net_server_take_max_busy (SsqNetServer *server,
                              gint64       *wall_us,
                              gint64       *cpu_us)
{
  ssq_net_loop_take_max_busy (server->loop, wall_us, cpu_us);
}

/* Whether other connections have something to be served, polled already,
 * while one is being handled. */
gboolean
ssq_net_server_others_ready (SsqNetServer *server)
{
  return ssq_net_loop_others_ready (server->loop);
}

/* ---- Accepting -------------------------------------------------------- */

static void
tune_socket (int fd)
{
  int one = 1, idle = 60, interval = 10, count = 3;

  /* Dead peers (a laptop closed mid-conversation) are found by the kernel,
   * with no timer of ours. */
  setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  setsockopt (fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
  setsockopt (fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
  setsockopt (fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof interval);
  setsockopt (fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof count);
}

static void
peer_name (const struct sockaddr_storage *ss,
           char                          *out,
           gsize                          size)
{
  if (ss->ss_family == AF_INET6)
    inet_ntop (AF_INET6, &((const struct sockaddr_in6 *) ss)->sin6_addr, out, size);
  else if (ss->ss_family == AF_INET)
    inet_ntop (AF_INET, &((const struct sockaddr_in *) ss)->sin_addr, out, size);
  else
    g_strlcpy (out, "local", size);
}

/* Out of descriptors: give up the spare one for a moment to take the
 * waiting connection off the backlog and close it. */
static void
refuse_without_descriptors (SsqNetServer *server)
{
  gint64 now = ssq_net_now_ms ();
  int fd;

  if (now - server->emfile_logged > 10000)
    {
      g_warning ("Out of file descriptors; refusing connections");
      server->emfile_logged = now;
    }
  if (server->spare_fd >= 0)
    {
      close (server->spare_fd);
      server->spare_fd = -1;
    }
  fd = accept4 (server->listener.fd, NULL, NULL, SOCK_CLOEXEC);
  if (fd >= 0)
    {
      close (fd);
      server->refused_total++;
    }
  server->spare_fd = open ("/dev/null", O_RDONLY | O_CLOEXEC);
}

static gboolean
is_loopback (const struct sockaddr_storage *ss)
{
  if (ss->ss_family == AF_INET)
    return (ntohl (((const struct sockaddr_in *) ss)->sin_addr.s_addr) >> 24) == 127;
  if (ss->ss_family == AF_INET6)
    {
      const struct in6_addr *a = &((const struct sockaddr_in6 *) ss)->sin6_addr;

      return IN6_IS_ADDR_LOOPBACK (a) || (IN6_IS_ADDR_V4MAPPED (a) && a->s6_addr[12] == 127);
    }
  return FALSE;
}

static gboolean
accept_one (SsqNetServer *server)
{
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  char peer[INET6_ADDRSTRLEN + 1];
  guint n_peer;
  int fd = accept4 (server->listener.fd, (struct sockaddr *) &ss, &len,
                    SOCK_NONBLOCK | SOCK_CLOEXEC);

  if (fd < 0)
    {
      switch (errno)
        {
        case EINTR:
        case ECONNABORTED:
          return TRUE;
        case EMFILE:
        case ENFILE:
          refuse_without_descriptors (server);
          return server->spare_fd >= 0;
        case EAGAIN:
        default:
          return FALSE;
        }
    }
  peer_name (&ss, peer, sizeof peer);
  n_peer = GPOINTER_TO_UINT (g_hash_table_lookup (server->per_address, peer));
  if (server->conns.length >= server->limits.max_connections ||
      n_peer >= server->limits.max_connections_per_address || server->spare_fd < 0)
    {
      close (fd);
      server->refused_total++;
      return TRUE;
    }
  tune_socket (fd);
  g_hash_table_insert (server->per_address, g_strdup (peer), GUINT_TO_POINTER (n_peer + 1));
  ssq_net_conn_new (server, fd, peer, is_loopback (&ss));
  return TRUE;
}

static void
listener_event (SsqNetWatch *watch,
                guint32      events)
{
  SsqNetServer *server = G_STRUCT_MEMBER_P (watch, -G_STRUCT_OFFSET (SsqNetServer, listener));

  for (guint i = 0; i < ACCEPTS_PER_WAKEUP && server->listener.fd >= 0; i++)
    if (!accept_one (server))
      break;
  if (server->spare_fd < 0)
    server->spare_fd = open ("/dev/null", O_RDONLY | O_CLOEXEC);
}

/**
 * ssq_net_server_set_log_requests:
 * Whether each answered request gets a line at info level: method, path
 * (never the query: it may hold a name or an access token), status and
 * time in ms. Off by default.
 */
void
ssq_net_server_set_log_requests (SsqNetServer *server,
                                 gboolean      log_requests)
{
  server->log_requests = log_requests;
}
