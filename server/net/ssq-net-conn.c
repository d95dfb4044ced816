/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-net-conn.c: one TCP connection: reads into the server's shared buffer
 * and hands the bytes to HTTP or WebSocket, queues what goes out as shared
 * buffers and writes them with one sendmsg per loop iteration, and ends
 * connections that stall. Nothing is held per connection that a client can
 * grow: input waits in the kernel while the connection is paused, and the
 * output queue is bounded by send_queue_max. */
#include "ssq-net-private.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAX_IOV 64
/* A file body goes out in pieces of at most this much per flush, so that
 * one download on a fast link does not hold the loop: the rest follows in
 * the next flush (or when the socket drains). */
#define FILE_SLICE (1024 * 1024)

static void conn_event    (SsqNetWatch    *watch,
                           guint32         events);
static void conn_timeout  (SsqNetTimer    *timer);
static void conn_flush    (SsqNetDeferred *deferred);
static void conn_resume   (SsqNetDeferred *deferred);
static void read_some     (SsqNetConn     *conn);
static gboolean write_queue_tls (SsqNetConn *conn);

SsqNetConn *
ssq_net_conn_new (SsqNetServer *server,
                  int           fd,
                  const char   *peer,
                  gboolean      loopback)
{
  SsqNetConn *conn = g_new0 (SsqNetConn, 1);

  conn->ref_count = 1;       /* the server's, dropped at close */
  conn->server = server;
  conn->watch.fd = fd;
  conn->watch.func = conn_event;
  conn->timer.func = conn_timeout;
  conn->flush.func = conn_flush;
  conn->resume.func = conn_resume;
  conn->peer = g_strdup (peer);
  /* With TLS, HTTP waits for the first byte and then the handshake. */
  conn->mode = server->tls_creds != NULL ? SSQ_NET_MODE_HANDSHAKE : SSQ_NET_MODE_HTTP;
  conn->plain_allowed = server->plain == SSQ_NET_PLAIN_ANY ||
                        (server->plain == SSQ_NET_PLAIN_LOOPBACK && loopback);
  if (!ssq_net_server_is_raw (server))
    conn->http = ssq_net_http_new ();
  conn->accepted_ms = conn->read_ms = conn->write_ms = ssq_net_now_ms ();
  g_queue_init (&conn->out);
  conn->link.data = conn;
  g_queue_push_tail_link (&server->conns, &conn->link);
  if (!ssq_net_loop_add (server->loop, &conn->watch, EPOLLIN, NULL))
    {
      ssq_net_conn_close (conn, SSQ_NET_CLOSE_ERROR);
      return NULL;
    }
  if (conn->mode == SSQ_NET_MODE_HTTP && ssq_net_server_is_raw (server))
    ssq_net_raw_opened (conn);
  if (conn->mode != SSQ_NET_MODE_CLOSED)
    ssq_net_conn_rearm (conn);
  return conn;
}

SsqNetConn *
ssq_net_conn_ref (SsqNetConn *conn)
{
  conn->ref_count++;
  return conn;
}

void
ssq_net_conn_unref (SsqNetConn *conn)
{
  if (conn == NULL || --conn->ref_count > 0)
    return;
  g_assert (conn->mode == SSQ_NET_MODE_CLOSED);
  g_free (conn->peer);
  g_free (conn);
}

gboolean
ssq_net_conn_is_open (SsqNetConn *conn)
{
  return conn->mode == SSQ_NET_MODE_HTTP || conn->mode == SSQ_NET_MODE_WEBSOCKET ||
         conn->mode == SSQ_NET_MODE_HTTP2 || conn->mode == SSQ_NET_MODE_RAW;
}

gsize
ssq_net_conn_get_queued (SsqNetConn *conn)
{
  return conn->out_bytes;
}

static void
file_body_free (SsqNetFileBody *file)
{
  close (file->fd);
  g_free (file);
}

static void
clear_queue (SsqNetConn *conn)
{
  g_queue_clear_full (&conn->out, (GDestroyNotify) g_bytes_unref);
  conn->out_offset = 0;
  conn->out_bytes = 0;
  g_clear_pointer (&conn->file, file_body_free);
}

/* Ends the connection now. The application hears of it through the HTTP or
 * WebSocket side; the memory stays while anyone holds a reference. */
void
ssq_net_conn_close (SsqNetConn        *conn,
                    SsqNetCloseReason  reason)
{
  SsqNetServer *server = conn->server;

  if (conn->mode == SSQ_NET_MODE_CLOSED)
    return;
  conn->mode = SSQ_NET_MODE_CLOSED;
  ssq_net_loop_remove (server->loop, &conn->watch);
  close (conn->watch.fd);
  conn->watch.fd = -1;
  ssq_net_loop_timer_clear (server->loop, &conn->timer);
  ssq_net_loop_cancel (server->loop, &conn->flush);
  ssq_net_loop_cancel (server->loop, &conn->resume);
  clear_queue (conn);
  g_clear_pointer (&conn->pending, g_byte_array_unref);
  g_clear_pointer (&conn->tls, ssq_net_tls_free);
  g_queue_unlink (&server->conns, &conn->link);
  if (conn->peer != NULL)
    {
      guint n = GPOINTER_TO_UINT (g_hash_table_lookup (server->per_address, conn->peer));

      if (n <= 1)
        g_hash_table_remove (server->per_address, conn->peer);
      else
        g_hash_table_insert (server->per_address, g_strdup (conn->peer), GUINT_TO_POINTER (n - 1));
    }
  if (conn->http != NULL)
    {
      ssq_net_http_closed (conn);
      g_clear_pointer (&conn->http, ssq_net_http_free);
    }
  if (conn->ws != NULL)
    {
      ssq_net_ws_closed (conn, reason);
      g_clear_pointer (&conn->ws, ssq_net_ws_free);
    }
  if (conn->h2 != NULL)
    ssq_net_h2_closed (conn);
  ssq_net_raw_closed (conn, reason);
  ssq_net_conn_unref (conn);
}

/* ---- Output ----------------------------------------------------------- */

void
ssq_net_conn_queue (SsqNetConn *conn,
                    GBytes     *bytes)
{
  gsize len = g_bytes_get_size (bytes);

  if (conn->mode == SSQ_NET_MODE_CLOSED || conn->mode == SSQ_NET_MODE_LINGER || len == 0)
    return;
  /* HTTP answers one request at a time: nothing comes behind a file. */
  g_return_if_fail (conn->file == NULL);
  if (!ssq_net_conn_has_output (conn))
    conn->write_ms = ssq_net_now_ms ();   /* stall clock starts now */
  g_queue_push_tail (&conn->out, g_bytes_ref (bytes));
  conn->out_bytes += len;
  /* Past half the budget, stop reading: requests of a peer that does not
   * read its answers wait in its own socket buffer, not in our memory. */
  if (conn->out_bytes > conn->server->limits.send_queue_max / 2 && !conn->queue_paused)
    {
      conn->queue_paused = TRUE;
      ssq_net_conn_update_reading (conn);
    }
  ssq_net_loop_defer (conn->server->loop, &conn->flush);
}

void
ssq_net_conn_queue_copy (SsqNetConn *conn,
                         const void *data,
                         gsize       length)
{
  g_autoptr(GBytes) bytes = g_bytes_new (data, length);

  ssq_net_conn_queue (conn, bytes);
}

/**
 * ssq_net_conn_queue_file:
 * Queues @length bytes of @fd from @offset behind what is queued; takes
 * @fd. They are sent straight from the file (sendfile) as the socket
 * drains, a slice at a time: the send queue's memory bound does not see
 * them, and none of them is ever in our memory.
 */
void
ssq_net_conn_queue_file (SsqNetConn *conn,
                         int         fd,
                         goffset     offset,
                         goffset     length)
{
  if (!ssq_net_conn_is_open (conn) || length <= 0 || conn->file != NULL)
    {
      close (fd);
      return;
    }
  if (!ssq_net_conn_has_output (conn))
    conn->write_ms = ssq_net_now_ms ();
  /* The kernel reads ahead further for a file read from start to end. */
  posix_fadvise (fd, offset, length, POSIX_FADV_SEQUENTIAL);
  conn->file = g_new0 (SsqNetFileBody, 1);
  conn->file->fd = fd;
  conn->file->offset = offset;
  conn->file->remaining = length;
  ssq_net_loop_defer (conn->server->loop, &conn->flush);
}

/* Our side is done (the response said "close"): stop writing, and read and
 * drop what the peer still sends for a moment, so that closing with unread
 * input does not turn into a reset that destroys our last answer. */
void
ssq_net_conn_finish (SsqNetConn *conn)
{
  if (!ssq_net_conn_is_open (conn))
    return;
  if (ssq_net_conn_has_output (conn))
    {
      conn->close_after_flush = TRUE;
      return;
    }
  ssq_net_tls_bye (conn);
  shutdown (conn->watch.fd, SHUT_WR);
  conn->mode = SSQ_NET_MODE_LINGER;
  conn->linger_until = ssq_net_now_ms () + SSQ_NET_LINGER_MS;
  g_clear_pointer (&conn->pending, g_byte_array_unref);
  ssq_net_conn_update_reading (conn);
  ssq_net_conn_rearm (conn);
}

/* @n bytes of the queue's head have left. */
static void
dequeue (SsqNetConn *conn,
         gsize       n)
{
  conn->out_bytes -= n;
  while (n > 0)
    {
      gsize size = g_bytes_get_size (conn->out.head->data) - conn->out_offset;

      if (n < size)
        {
          conn->out_offset += n;
          break;
        }
      n -= size;
      conn->out_offset = 0;
      g_bytes_unref (g_queue_pop_head (&conn->out));
    }
}

/* Writes as much of the queue as the socket takes, in one sendmsg per call
 * when it all fits. */
static gboolean
write_queue (SsqNetConn *conn)
{
  if (conn->tls != NULL)
    return write_queue_tls (conn);
  conn->write_blocked = FALSE;
  while (conn->out_bytes > 0)
    {
      struct iovec iov[MAX_IOV];
      int n_iov = 0;
      gssize n;
      gsize offset = conn->out_offset;

      for (GList *l = conn->out.head; l != NULL && n_iov < MAX_IOV; l = l->next)
        {
          gsize size;
          const guint8 *data = g_bytes_get_data (l->data, &size);

          iov[n_iov].iov_base = (void *) (data + offset);
          iov[n_iov].iov_len = size - offset;
          n_iov++;
          offset = 0;
        }
      /* sendmsg rather than writev for MSG_NOSIGNAL: a peer that reset the
       * connection must cost an EPIPE, not the process (SIGPIPE). */
      n = sendmsg (conn->watch.fd, &(struct msghdr) { .msg_iov = iov, .msg_iovlen = n_iov },
                   MSG_NOSIGNAL);
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          if (errno == EAGAIN || errno == EWOULDBLOCK)
            {
              conn->write_blocked = TRUE;
              return TRUE;
            }
          return FALSE;
        }
      conn->write_ms = ssq_net_now_ms ();
      dequeue (conn, n);
    }
  return TRUE;
}

/* The queue over TLS: small pieces (a fan-out's frames) gathered into
 * records of up to 16 KiB, one send each; bytes leave the queue only once
 * GnuTLS reports them sent. */
static gboolean
write_queue_tls (SsqNetConn *conn)
{
  conn->write_blocked = FALSE;
  while (conn->out_bytes > 0)
    {
      gsize size, cap;
      const guint8 *data = g_bytes_get_data (conn->out.head->data, &size);
      gssize n;

      data += conn->out_offset;
      size -= conn->out_offset;
      if (!ssq_net_tls_in_flight (conn) && conn->out.length > 1 &&
          size < (cap = SSQ_NET_TLS_RECORD))
        {
          guint8 *stage = ssq_net_tls_stage (conn, &cap);
          gsize offset = conn->out_offset, len = 0;

          for (GList *l = conn->out.head; l != NULL && len < cap; l = l->next)
            {
              gsize piece;
              const guint8 *p = g_bytes_get_data (l->data, &piece);
              gsize take = MIN (piece - offset, cap - len);

              memcpy (stage + len, p + offset, take);
              len += take;
              offset = 0;
            }
          data = stage;
          size = len;
        }
      n = ssq_net_tls_send (conn, data, size);
      if (n == SSQ_NET_TLS_AGAIN)
        {
          conn->write_blocked = TRUE;
          return TRUE;
        }
      if (n < 0)
        return FALSE;
      dequeue (conn, n);
    }
  return TRUE;
}

/* One record of the file over TLS (no sendfile: the bytes must be
 * encrypted), read into the shared stage. Returns as sendfile () does. */
static gssize
send_file_tls (SsqNetConn     *conn,
               SsqNetFileBody *file)
{
  gsize cap;
  guint8 *stage = ssq_net_tls_stage (conn, &cap);
  gssize len = 0, n;

  if (!ssq_net_tls_in_flight (conn))
    {
      len = pread (file->fd, stage, (gsize) MIN ((goffset) cap, file->remaining), file->offset);
      if (len <= 0)
        return -1;
    }
  n = ssq_net_tls_send (conn, stage, len);
  if (n == SSQ_NET_TLS_AGAIN)
    {
      errno = EAGAIN;
      return -1;
    }
  if (n < 0)
    errno = EPIPE;
  return n < 0 ? -1 : n;
}

/* Sends the file body once the queue before it is out, up to FILE_SLICE
 * bytes; FALSE when the connection is broken (or the file came up short:
 * the length promised can no longer be kept). */
static gboolean
write_file (SsqNetConn *conn)
{
  SsqNetFileBody *file = conn->file;
  gsize budget = FILE_SLICE;

  if (file == NULL || conn->out_bytes > 0 || conn->write_blocked)
    return TRUE;
  while (file->remaining > 0 && budget > 0)
    {
      off_t offset = file->offset;
      gssize n = conn->tls != NULL
                 ? send_file_tls (conn, file)
                 : sendfile (conn->watch.fd, file->fd, &offset,
                             (gsize) MIN ((goffset) budget, file->remaining));

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        {
          conn->write_blocked = TRUE;
          return TRUE;
        }
      if (n <= 0)
        return FALSE;
      conn->write_ms = ssq_net_now_ms ();
      file->offset += n;
      file->remaining -= n;
      budget -= n;
    }
  if (file->remaining == 0)
    g_clear_pointer (&conn->file, file_body_free);
  else
    ssq_net_loop_defer (conn->server->loop, &conn->flush);    /* the next slice */
  return TRUE;
}

static void
conn_flush (SsqNetDeferred *deferred)
{
  SsqNetConn *conn = G_STRUCT_MEMBER_P (deferred, -G_STRUCT_OFFSET (SsqNetConn, flush));

  if (conn->mode == SSQ_NET_MODE_CLOSED)
    return;
  if (conn->out_bytes > conn->server->limits.send_queue_max &&
      conn->mode == SSQ_NET_MODE_WEBSOCKET)
    {
      /* Checked here rather than at queueing: a cut in the middle of a
       * fan-out would change the list being walked. */
      ssq_net_conn_close (conn, SSQ_NET_CLOSE_SLOW);
      return;
    }
  /* HTTP/2: nghttp2's frames into the queue, as much as it may hold. */
  ssq_net_h2_send (conn);
  if (conn->mode == SSQ_NET_MODE_CLOSED)
    return;
  if (!write_queue (conn) || !write_file (conn))
    {
      ssq_net_conn_close (conn, SSQ_NET_CLOSE_ERROR);
      return;
    }
  /* Written without blocking, and nghttp2 has more: another round. */
  if (!conn->write_blocked && ssq_net_h2_wants_write (conn))
    ssq_net_loop_defer (conn->server->loop, &conn->flush);
  if (!ssq_net_conn_has_output (conn) && conn->close_after_flush)
    {
      conn->close_after_flush = FALSE;
      ssq_net_conn_finish (conn);
      return;
    }
  if (conn->queue_paused && conn->out_bytes <= conn->server->limits.send_queue_max / 4)
    {
      conn->queue_paused = FALSE;
      ssq_net_loop_defer (conn->server->loop, &conn->resume);
    }
  ssq_net_raw_flushed (conn);
  if (conn->mode == SSQ_NET_MODE_CLOSED)
    return;
  if ((conn->mode == SSQ_NET_MODE_HTTP || conn->mode == SSQ_NET_MODE_HTTP2) &&
      !ssq_net_conn_has_output (conn) &&
      (conn->pending != NULL || ssq_net_tls_buffered (conn)))
    ssq_net_loop_defer (conn->server->loop, &conn->resume);
  ssq_net_conn_update_reading (conn);
  ssq_net_conn_rearm (conn);
}

/* ---- Input ------------------------------------------------------------ */

static gboolean
paused (SsqNetConn *conn)
{
  if (conn->mode == SSQ_NET_MODE_LINGER || conn->mode == SSQ_NET_MODE_HANDSHAKE)
    return FALSE;
  /* HTTP: the next request waits until the last answer has left, so a
   * client that pipelines without reading holds one answer, not many. */
  if (conn->mode == SSQ_NET_MODE_HTTP2)
    return conn->app_paused || conn->queue_paused || ssq_net_h2_paused (conn);
  return conn->app_paused || conn->queue_paused ||
         (conn->mode == SSQ_NET_MODE_HTTP &&
          (ssq_net_http_busy (conn) || ssq_net_conn_has_output (conn)));
}

/* Keeps the epoll interest in step with the connection, with as few
 * epoll_ctl calls as possible (they were two to four per message):
 * - EPOLLOUT only once a write met EAGAIN: queued output is written by the
 *   deferred flush of this iteration anyway, and mostly fits;
 * - a pause leaves EPOLLIN armed until an event finds the connection still
 *   paused (read_stalled): a session at its in-flight limit is mostly
 *   resumed by an ack in the same iteration, before any input comes. */
void
ssq_net_conn_update_reading (SsqNetConn *conn)
{
  guint32 events = 0;

  if (conn->mode == SSQ_NET_MODE_CLOSED)
    return;
  if (conn->mode == SSQ_NET_MODE_HANDSHAKE)
    {
      events = EPOLLIN;
      if (conn->tls != NULL && ssq_net_tls_wants_write (conn))
        events |= EPOLLOUT;
      ssq_net_loop_modify (conn->server->loop, &conn->watch, events);
      return;
    }
  if (!paused (conn))
    {
      conn->read_stalled = FALSE;
      events |= EPOLLIN;
    }
  else if (!conn->read_stalled)
    events |= conn->watch.events & EPOLLIN;
  if (ssq_net_conn_has_output (conn) && conn->write_blocked)
    events |= EPOLLOUT;
  if (conn->mode == SSQ_NET_MODE_HTTP && ssq_net_http_watching_gone (conn))
    events |= EPOLLRDHUP;
  ssq_net_loop_modify (conn->server->loop, &conn->watch, events);
}

void
ssq_net_conn_pause_reading (SsqNetConn *conn,
                            gboolean    pause)
{
  if (conn->app_paused == !!pause)
    return;
  conn->app_paused = !!pause;
  if (!pause)
    ssq_net_loop_defer (conn->server->loop, &conn->resume);
  ssq_net_conn_update_reading (conn);
}

/* Feeds @data to the protocol of the moment; returns what was consumed. */
static gsize
process (SsqNetConn   *conn,
         const guint8 *data,
         gsize         length)
{
  gsize done = 0;

  while (done < length && !paused (conn))
    {
      gsize n;

      switch (conn->mode)
        {
        case SSQ_NET_MODE_HTTP:
          n = ssq_net_http_feed (conn, data + done, length - done);
          break;
        case SSQ_NET_MODE_WEBSOCKET:
          n = ssq_net_ws_feed (conn, data + done, length - done);
          break;
        case SSQ_NET_MODE_HTTP2:
          n = ssq_net_h2_feed (conn, data + done, length - done);
          break;
        case SSQ_NET_MODE_RAW:
          n = ssq_net_raw_feed (conn, data + done, length - done);
          break;
        case SSQ_NET_MODE_LINGER:
        case SSQ_NET_MODE_HANDSHAKE:
          return length;
        case SSQ_NET_MODE_CLOSED:
        default:
          return length;
        }
      if (n == 0)
        break;
      done += n;
    }
  return done;
}

static void
consume (SsqNetConn   *conn,
         const guint8 *data,
         gsize         length)
{
  gsize done = process (conn, data, length);

  if (conn->mode == SSQ_NET_MODE_CLOSED || done >= length)
    return;
  /* Paused mid-buffer: keep the rest (at most one read) for later. */
  if (conn->pending == NULL)
    conn->pending = g_byte_array_sized_new (length - done);
  g_byte_array_append (conn->pending, data + done, length - done);
}

static void
process_pending (SsqNetConn *conn)
{
  g_autoptr(GByteArray) pending = g_steal_pointer (&conn->pending);

  if (pending != NULL)
    consume (conn, pending->data, pending->len);
}

static void
conn_resume (SsqNetDeferred *deferred)
{
  SsqNetConn *conn = G_STRUCT_MEMBER_P (deferred, -G_STRUCT_OFFSET (SsqNetConn, resume));

  if (conn->mode == SSQ_NET_MODE_CLOSED || paused (conn))
    return;
  ssq_net_conn_ref (conn);
  process_pending (conn);
  /* Records GnuTLS already holds: epoll will not tell of them. */
  if (conn->mode != SSQ_NET_MODE_CLOSED && !paused (conn) && ssq_net_tls_buffered (conn))
    read_some (conn);
  ssq_net_conn_update_reading (conn);
  ssq_net_conn_rearm (conn);
  ssq_net_conn_unref (conn);
}

/* Records until the kernel has no more, the connection pauses, or one
 * read's worth went through: the same bound as a plain read. */
static void
read_tls (SsqNetConn *conn)
{
  guint8 *buf = conn->server->rbuf;
  gsize total = 0;

  while (total < SSQ_NET_READ_SIZE && ssq_net_conn_is_open (conn) && !paused (conn))
    {
      gssize n = ssq_net_tls_recv (conn, buf, SSQ_NET_READ_SIZE);

      if (n == SSQ_NET_TLS_AGAIN)
        return;
      if (n == SSQ_NET_TLS_EOF || n == SSQ_NET_TLS_FAILED)
        {
          ssq_net_conn_close (conn, n == SSQ_NET_TLS_EOF ? SSQ_NET_CLOSE_NORMAL
                                                         : SSQ_NET_CLOSE_ERROR);
          return;
        }
      total += n;
      consume (conn, buf, n);
    }
  if (ssq_net_conn_is_open (conn) && !paused (conn) && ssq_net_tls_buffered (conn))
    ssq_net_loop_defer (conn->server->loop, &conn->resume);
}

static void
read_some (SsqNetConn *conn)
{
  guint8 *buf = conn->server->rbuf;
  gssize n;

  if (conn->pending != NULL && !paused (conn))
    process_pending (conn);
  if (conn->mode == SSQ_NET_MODE_CLOSED || paused (conn))
    return;
  /* Lingering, what comes is dropped unread: no need to decrypt it. */
  if (conn->tls != NULL && conn->mode != SSQ_NET_MODE_LINGER)
    {
      read_tls (conn);
      return;
    }
  n = read (conn->watch.fd, buf, SSQ_NET_READ_SIZE);
  if (n < 0)
    {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
        ssq_net_conn_close (conn, SSQ_NET_CLOSE_ERROR);
      return;
    }
  if (n == 0)
    {
      ssq_net_conn_close (conn, SSQ_NET_CLOSE_NORMAL);
      return;
    }
  conn->read_ms = ssq_net_now_ms ();
  consume (conn, buf, n);
}

/* The first byte tells TLS from plain HTTP (where plain is allowed); then
 * the handshake goes a step per socket event. */
static void
handshake_step (SsqNetConn *conn)
{
  if (conn->tls == NULL)
    {
      guint8 first;
      gssize n = recv (conn->watch.fd, &first, 1, MSG_PEEK);

      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
      if (n <= 0)
        {
          ssq_net_conn_close (conn, n == 0 ? SSQ_NET_CLOSE_NORMAL : SSQ_NET_CLOSE_ERROR);
          return;
        }
      if (!ssq_net_tls_is_client_hello (first) && ssq_net_server_is_raw (conn->server))
        {
          ssq_net_conn_close (conn, SSQ_NET_CLOSE_ERROR);    /* no TLS, and no HTTP to say so */
          return;
        }
      if (!ssq_net_tls_is_client_hello (first))
        {
          conn->mode = SSQ_NET_MODE_HTTP;
          if (conn->plain_allowed)
            read_some (conn);
          else
            /* Say why, in the HTTP it spoke: a client pointed at http:// */
            ssq_net_http_error (conn, 400, "This server speaks TLS only: use https:// (wss://)");
          return;
        }
      if (!ssq_net_tls_start (conn))
        {
          ssq_net_conn_close (conn, SSQ_NET_CLOSE_ERROR);
          return;
        }
      conn->was_tls = TRUE;
    }
  switch (ssq_net_tls_handshake (conn))
    {
    case 0:
      return;
    case 1:
      conn->mode = SSQ_NET_MODE_HTTP;
      conn->read_ms = ssq_net_now_ms ();
      if (ssq_net_server_is_raw (conn->server))
        {
          ssq_net_raw_opened (conn);
          if (ssq_net_conn_is_open (conn) && ssq_net_tls_buffered (conn))
            read_some (conn);
          return;
        }
      /* ALPN chose the codec: HTTP/2, or HTTP/1.1 (and WebSocket). */
      if (ssq_net_tls_alpn_is_h2 (conn))
        {
          if (!ssq_net_h2_start (conn))
            {
              ssq_net_conn_close (conn, SSQ_NET_CLOSE_ERROR);
              return;
            }
          conn->mode = SSQ_NET_MODE_HTTP2;
          g_clear_pointer (&conn->http, ssq_net_http_free);
        }
      if (ssq_net_tls_buffered (conn))
        read_some (conn);
      return;
    default:
      ssq_net_conn_close (conn, SSQ_NET_CLOSE_ERROR);
      return;
    }
}

static void
conn_event (SsqNetWatch *watch,
            guint32      events)
{
  SsqNetConn *conn = (SsqNetConn *) watch;

  ssq_net_conn_ref (conn);
  if (conn->mode == SSQ_NET_MODE_HANDSHAKE)
    {
      if (events & (EPOLLIN | EPOLLOUT | EPOLLHUP | EPOLLERR))
        handshake_step (conn);
    }
  else if (events & EPOLLOUT)
    conn_flush (&conn->flush);
  /* EPOLLRDHUP only for a held request whose application asked (a long
   * poll): otherwise, while a connection is paused we do not want to hear
   * of its input; a peer that vanished shows up as HUP, ERR or a failed
   * write. */
  if ((events & EPOLLRDHUP) && conn->mode == SSQ_NET_MODE_HTTP &&
      ssq_net_http_watching_gone (conn))
    ssq_net_conn_close (conn, SSQ_NET_CLOSE_NORMAL);
  if (conn->mode != SSQ_NET_MODE_CLOSED && conn->mode != SSQ_NET_MODE_HANDSHAKE)
    {
      if ((events & EPOLLIN) && paused (conn))
        conn->read_stalled = TRUE;      /* level-triggered: it would come back */
      else if (events & EPOLLIN)
        read_some (conn);
      else if (events & (EPOLLHUP | EPOLLERR))
        ssq_net_conn_close (conn, SSQ_NET_CLOSE_ERROR);
    }
  if (conn->mode != SSQ_NET_MODE_CLOSED)
    {
      ssq_net_conn_update_reading (conn);
      ssq_net_conn_rearm (conn);
    }
  ssq_net_conn_unref (conn);
}

/* ---- Timeouts --------------------------------------------------------- */

static gint64
next_deadline (SsqNetConn *conn)
{
  const SsqNetLimits *limits = &conn->server->limits;
  gint64 idle = (gint64) limits->idle_timeout * 1000;
  gint64 deadline = G_MAXINT64;
  gint64 started;

  if (conn->mode == SSQ_NET_MODE_LINGER)
    return conn->linger_until;
  /* The first byte and the whole handshake within header_timeout of the
   * connect: a slow-loris handshake holds its slot no longer than that. */
  if (conn->mode == SSQ_NET_MODE_HANDSHAKE)
    return conn->accepted_ms + (gint64) limits->header_timeout * 1000;
  if (ssq_net_conn_has_output (conn))
    deadline = conn->write_ms + idle;
  if (conn->mode == SSQ_NET_MODE_HTTP)
    {
      if (ssq_net_http_in_headers (conn, &started))
        deadline = MIN (deadline, started + (gint64) limits->header_timeout * 1000);
      if (ssq_net_http_in_body (conn, &started))
        deadline = MIN (deadline, started + idle);
      if (!ssq_net_http_busy (conn) && !ssq_net_conn_has_output (conn))
        deadline = MIN (deadline, conn->read_ms + idle);
    }
  if (conn->mode == SSQ_NET_MODE_WEBSOCKET && ssq_net_ws_closing (conn))
    deadline = MIN (deadline, conn->linger_until);
  if (conn->mode == SSQ_NET_MODE_HTTP2 && ssq_net_h2_deadline (conn) > 0)
    deadline = MIN (deadline, ssq_net_h2_deadline (conn));
  if (conn->mode == SSQ_NET_MODE_RAW && conn->raw_deadline > 0)
    deadline = MIN (deadline, conn->raw_deadline);
  return deadline == G_MAXINT64 ? 0 : deadline;
}

void
ssq_net_conn_rearm (SsqNetConn *conn)
{
  gint64 deadline = next_deadline (conn);

  if (deadline != conn->timer.deadline)
    ssq_net_loop_timer_set (conn->server->loop, &conn->timer, deadline);
}

static void
conn_timeout (SsqNetTimer *timer)
{
  SsqNetConn *conn = G_STRUCT_MEMBER_P (timer, -G_STRUCT_OFFSET (SsqNetConn, timer));
  const SsqNetLimits *limits = &conn->server->limits;
  gint64 now = ssq_net_now_ms ();
  gint64 idle = (gint64) limits->idle_timeout * 1000;
  gint64 started;

  ssq_net_conn_ref (conn);
  if (conn->mode == SSQ_NET_MODE_LINGER)
    {
      if (now >= conn->linger_until)
        ssq_net_conn_close (conn, SSQ_NET_CLOSE_NORMAL);
    }
  else if (conn->mode == SSQ_NET_MODE_HANDSHAKE)
    {
      if (now - conn->accepted_ms >= (gint64) limits->header_timeout * 1000)
        {
          g_debug ("TLS handshake with %s timed out", conn->peer);
          ssq_net_conn_close (conn, SSQ_NET_CLOSE_SLOW);
        }
    }
  else if (ssq_net_conn_has_output (conn) && now - conn->write_ms >= idle)
    ssq_net_conn_close (conn, SSQ_NET_CLOSE_SLOW);    /* it stopped reading */
  else if (conn->mode == SSQ_NET_MODE_HTTP)
    {
      gboolean in_headers = ssq_net_http_in_headers (conn, &started);

      if (in_headers && now - started >= (gint64) limits->header_timeout * 1000)
        ssq_net_http_timeout (conn, TRUE);
      else if (ssq_net_http_in_body (conn, &started) && now - started >= idle)
        ssq_net_http_timeout (conn, FALSE);     /* 408: a request under way */
      else if (!ssq_net_http_busy (conn) && !ssq_net_conn_has_output (conn) &&
               now - conn->read_ms >= idle)
        ssq_net_http_timeout (conn, in_headers);
    }
  else if (conn->mode == SSQ_NET_MODE_HTTP2)
    ssq_net_h2_timeout (conn);
  else if (conn->mode == SSQ_NET_MODE_RAW)
    ssq_net_raw_timeout (conn);
  else if (conn->mode == SSQ_NET_MODE_WEBSOCKET && ssq_net_ws_closing (conn) &&
           now >= conn->linger_until)
    ssq_net_conn_close (conn, SSQ_NET_CLOSE_NORMAL);     /* no answer to our close */
  if (conn->mode != SSQ_NET_MODE_CLOSED)
    ssq_net_conn_rearm (conn);
  ssq_net_conn_unref (conn);
}
