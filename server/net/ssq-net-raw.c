/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-net-raw.c: connections that carry a protocol of the application's
 * own (AMQP) instead of HTTP: the transport accepts, bounds, encrypts and
 * queues; the bytes go to the application's callbacks as they come. */
#include "ssq-net-private.h"

/**
 * ssq_net_server_new_raw:
 * A server whose connections are raw byte streams (see
 * SsqNetRawCallbacks). Of @limits, max_connections,
 * max_connections_per_address, header_timeout (TLS's handshake),
 * idle_timeout (a send queue without progress) and send_queue_max apply.
 */
SsqNetServer *
ssq_net_server_new_raw (const SsqNetLimits       *limits,
                        const SsqNetRawCallbacks *callbacks,
                        gpointer                  server_data,
                        GError                  **error)
{
  SsqNetServer *server;

  g_return_val_if_fail (callbacks->opened != NULL && callbacks->data != NULL &&
                        callbacks->closed != NULL, NULL);
  server = ssq_net_server_new (limits, NULL, NULL, NULL, NULL, error);
  if (server == NULL)
    return NULL;
  server->raw = *callbacks;
  server->raw_data = server_data;
  /* A raw protocol has no plain fallback on its TLS port: its first bytes
   * are no ClientHello, and there is no HTTP to say so in. */
  server->plain = SSQ_NET_PLAIN_NONE;
  return server;
}

void
ssq_net_raw_opened (SsqNetConn *conn)
{
  SsqNetServer *server = conn->server;

  conn->mode = SSQ_NET_MODE_RAW;
  conn->read_ms = ssq_net_now_ms ();
  conn->raw_open = TRUE;
  conn->raw_data = server->raw.opened (conn, server->raw_data);
}

gsize
ssq_net_raw_feed (SsqNetConn   *conn,
                  const guint8 *data,
                  gsize         length)
{
  gsize n = conn->server->raw.data (conn, data, length, conn->raw_data);

  /* Taking nothing without a pause would spin: the rest waits as if
   * paused, and a resume offers it again. */
  g_warn_if_fail (n > 0 || conn->app_paused || !ssq_net_conn_is_open (conn));
  return n;
}

void
ssq_net_raw_closed (SsqNetConn        *conn,
                    SsqNetCloseReason  reason)
{
  if (!conn->raw_open)
    return;
  conn->raw_open = FALSE;
  conn->server->raw.closed (conn, reason, conn->raw_data);
  conn->raw_data = NULL;
}

/* After each flush: the application asked to hear when the queue has room. */
void
ssq_net_raw_flushed (SsqNetConn *conn)
{
  SsqNetServer *server = conn->server;

  if (!conn->raw_drained || conn->mode != SSQ_NET_MODE_RAW ||
      conn->out_bytes > server->limits.send_queue_max / 4)
    return;
  conn->raw_drained = FALSE;
  if (server->raw.drained != NULL)
    server->raw.drained (conn, conn->raw_data);
}

void
ssq_net_raw_timeout (SsqNetConn *conn)
{
  if (conn->raw_deadline == 0 || ssq_net_now_ms () < conn->raw_deadline)
    return;
  conn->raw_deadline = 0;
  if (conn->server->raw.timeout != NULL)
    conn->server->raw.timeout (conn, conn->raw_data);
}

gboolean
ssq_net_raw_send (SsqNetConn *conn,
                  GBytes     *bytes)
{
  if (conn->mode != SSQ_NET_MODE_RAW || conn->close_after_flush)
    return FALSE;
  ssq_net_conn_queue (conn, bytes);
  return TRUE;
}

void
ssq_net_raw_finish (SsqNetConn *conn)
{
  ssq_net_conn_finish (conn);
}

void
ssq_net_raw_abort (SsqNetConn *conn)
{
  ssq_net_conn_close (conn, SSQ_NET_CLOSE_ERROR);
}

void
ssq_net_raw_set_deadline (SsqNetConn *conn,
                          gint64      deadline_ms)
{
  if (conn->mode == SSQ_NET_MODE_CLOSED)
    return;
  conn->raw_deadline = deadline_ms;
  ssq_net_conn_rearm (conn);
}

void
ssq_net_raw_notify_drained (SsqNetConn *conn)
{
  conn->raw_drained = TRUE;
  /* Perhaps it has room already; the flush says so either way. */
  ssq_net_loop_defer (conn->server->loop, &conn->flush);
}

const char *
ssq_net_conn_get_peer (SsqNetConn *conn)
{
  return conn->peer;
}

gboolean
ssq_net_conn_is_tls (SsqNetConn *conn)
{
  return conn->was_tls;
}
