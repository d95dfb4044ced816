/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-bench-ws.c: lean WebSocket clients for the load generator: raw
 * non-blocking sockets on one epoll instance in this process and a minimal
 * client side of RFC 6455 (upgrade with a bearer token, masked frames out,
 * server frames only parsed far enough to count them by type and find a
 * marker), because libsoup clients would be slower than the server and
 * measure themselves. */
#include "ssq-bench-ws.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/gnutls.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define READ_CHUNK      (256 * 1024)
#define WS_KEY          "dGhlIHNhbXBsZSBub25jZQ=="
#define TYPE_PREFIX     "\"type\":\""
#define FD_LIMIT_WANTED 400000

static struct {
  int                 epfd;
  struct sockaddr_in  addr;
  char                host[64];
  gboolean            query_token;
  guint               next_source;
  guint32             mask_seed;
  SsqBenchWsCounters  count;
  gnutls_certificate_credentials_t tls;   /* set: wss, no certificate check */
} net = { .epfd = -1 };

/* ---- Descriptors ------------------------------------------------------ */

/**
 * ssq_bench_ws_raise_fd_limit:
 *
 * Raises the soft descriptor limit to the hard one; as root with
 * CAP_SYS_RESOURCE the hard limit goes up too. The server inherits both.
 *
 * Returns: the soft limit in force
 */
guint
ssq_bench_ws_raise_fd_limit (void)
{
  struct rlimit rl;

  getrlimit (RLIMIT_NOFILE, &rl);
  if (rl.rlim_max < FD_LIMIT_WANTED)
    {
      struct rlimit want = { FD_LIMIT_WANTED, FD_LIMIT_WANTED };

      if (setrlimit (RLIMIT_NOFILE, &want) == 0)
        return FD_LIMIT_WANTED;
      printf ("note: cannot raise the hard descriptor limit %lu (%s): the server and this "
              "bench each hold at most that many connections\n",
              (unsigned long) rl.rlim_max, g_strerror (errno));
    }
  rl.rlim_cur = rl.rlim_max;
  setrlimit (RLIMIT_NOFILE, &rl);
  getrlimit (RLIMIT_NOFILE, &rl);
  return (guint) MIN (rl.rlim_cur, G_MAXUINT);
}

/**
 * ssq_bench_ws_init:
 * @query_token: pass the token as ?access_token= instead of the header
 *
 * Makes the epoll instance all clients share.
 */
void
ssq_bench_ws_init (gboolean query_token)
{
  g_return_if_fail (net.epfd < 0);

  net.epfd = epoll_create1 (EPOLL_CLOEXEC);
  net.mask_seed = 0x9e3779b9u ^ (guint32) getpid ();
  net.query_token = query_token;
}

/**
 * ssq_bench_ws_shutdown:
 *
 * Closes the epoll instance; free the clients first.
 */
void
ssq_bench_ws_shutdown (void)
{
  if (net.epfd >= 0)
    close (net.epfd);
  net.epfd = -1;
}

/**
 * ssq_bench_ws_set_server:
 * @listen: the server's HOST:PORT; the clients connect to 127.0.0.1:PORT
 *
 * Points new connections at a server.
 */
void
ssq_bench_ws_set_server (const char *listen)
{
  const char *colon = strrchr (listen, ':');

  g_assert_nonnull (colon);
  memset (&net.addr, 0, sizeof net.addr);
  net.addr.sin_family = AF_INET;
  net.addr.sin_port = htons ((guint16) atoi (colon + 1));
  g_assert_true (inet_pton (AF_INET, "127.0.0.1", &net.addr.sin_addr) == 1);
  g_strlcpy (net.host, listen, sizeof net.host);
}

/**
 * ssq_bench_ws_set_tls:
 * New connections speak TLS (wss://) before the upgrade: the handshake is
 * part of each session's opening. The certificate is not checked (the
 * server is ours, on loopback).
 */
void
ssq_bench_ws_set_tls (gboolean tls)
{
  if (tls && net.tls == NULL)
    gnutls_certificate_allocate_credentials (&net.tls);
  else if (!tls && net.tls != NULL)
    {
      gnutls_certificate_free_credentials (net.tls);
      net.tls = NULL;
    }
}

/**
 * ssq_bench_ws_counters:
 *
 * Returns: (transfer none): the counts, live for as long as the program
 */
const SsqBenchWsCounters *
ssq_bench_ws_counters (void)
{
  return &net.count;
}

/**
 * ssq_bench_ws_reset_counters:
 *
 * Zeroes the frame counts (not the session counts).
 */
void
ssq_bench_ws_reset_counters (void)
{
  net.count.frames = net.count.messages = net.count.notifications = net.count.errors = 0;
  net.count.text_bytes = net.count.typing = net.count.presence = net.count.conversations = 0;
}

/* ---- One client -------------------------------------------------------- */

static guint32
next_mask (void)
{
  guint32 x = net.mask_seed;

  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return net.mask_seed = x;
}

static void
ws_set_events (SsqBenchWs *c,
               guint32     events)
{
  struct epoll_event ev = { .events = events, .data.ptr = c };

  if (c->fd < 0 || c->events == events)
    return;
  epoll_ctl (net.epfd, c->events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd, &ev);
  c->events = events;
}

/* A handshake ends: counted in @counter, no longer outstanding. */
static void
ws_settle (SsqBenchWs *c,
           guint      *counter)
{
  c->pending = FALSE;
  net.count.outstanding--;
  (*counter)++;
}

/* Closes the socket (which takes it off epoll) and drops the buffers. */
static void
ws_release (SsqBenchWs *c)
{
  if (c->tls != NULL)
    gnutls_deinit (c->tls);
  c->tls = NULL;
  if (c->fd >= 0)
    close (c->fd);
  c->fd = -1;
  g_clear_pointer (&c->in, g_byte_array_unref);
  g_clear_pointer (&c->out, g_byte_array_unref);
}

static void
ws_fail (SsqBenchWs *c,
         int         err)
{
  if (c->state == SSQ_BENCH_WS_CLOSED)
    return;
  if (c->pending)
    ws_settle (c, &net.count.failed);
  else
    net.count.closed_after_open++;
  if (err != 0)
    net.count.last_errno = err;
  if (c->http_status != 0 && c->http_status != 101)
    net.count.last_http_status = c->http_status;
  if (c->close_code != 0)
    net.count.last_close_code = c->close_code;
  c->state = SSQ_BENCH_WS_CLOSED;
  ws_release (c);
}

static void
ws_flush (SsqBenchWs *c)
{
  while (c->out != NULL && c->out->len > 0)
    {
      ssize_t n;

      if (c->tls != NULL)
        {
          /* After EAGAIN GnuTLS holds the record: the same size again. */
          gsize size = c->tls_in_flight ? c->tls_in_flight : MIN (c->out->len, 16384);

          n = gnutls_record_send (c->tls, c->out->data, size);
          if (n == GNUTLS_E_AGAIN)
            {
              c->tls_in_flight = size;
              break;
            }
          c->tls_in_flight = 0;
          if (n < 0)
            {
              ws_fail (c, EPROTO);
              return;
            }
          g_byte_array_remove_range (c->out, 0, (guint) n);
          continue;
        }
      n = send (c->fd, c->out->data, c->out->len, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno == EAGAIN)
        break;
      if (n < 0)
        {
          ws_fail (c, errno);
          return;
        }
      g_byte_array_remove_range (c->out, 0, (guint) n);
    }
  if (c->out != NULL && c->out->len == 0)
    g_clear_pointer (&c->out, g_byte_array_unref);
  ws_set_events (c, c->state == SSQ_BENCH_WS_CONNECTING ? EPOLLOUT
                                                          : EPOLLIN | (c->out ? EPOLLOUT : 0));
}

/* A masked frame, queued and flushed; payloads here are small but any
 * length is framed. */
static void
ws_send_frame (SsqBenchWs *c,
               guint8      opcode,
               const void *payload,
               gsize       len)
{
  guint8 head[14];
  gsize n = 0;
  guint32 key = next_mask ();
  const guint8 *k = (const guint8 *) &key;
  const guint8 *p = payload;
  guint start;

  if (c->state == SSQ_BENCH_WS_CLOSED)
    return;
  head[n++] = 0x80 | opcode;
  if (len < 126)
    head[n++] = 0x80 | (guint8) len;
  else if (len < 65536)
    {
      head[n++] = 0x80 | 126;
      head[n++] = (guint8) (len >> 8);
      head[n++] = (guint8) len;
    }
  else
    {
      head[n++] = 0x80 | 127;
      for (int i = 7; i >= 0; i--)
        head[n++] = (guint8) ((guint64) len >> (8 * i));
    }
  memcpy (head + n, k, 4);
  n += 4;
  if (c->out == NULL)
    c->out = g_byte_array_sized_new ((guint) (n + len));
  g_byte_array_append (c->out, head, (guint) n);
  start = c->out->len;
  g_byte_array_set_size (c->out, start + (guint) len);
  for (gsize i = 0; i < len; i++)
    c->out->data[start + i] = p[i] ^ k[i & 3];
  ws_flush (c);
}

/**
 * ssq_bench_ws_send_text:
 * @ws: an open client
 * @text: (array length=len): the frame's payload
 * @len: its length
 *
 * Sends one masked text frame (as much as the socket takes now; the rest
 * when it is writable).
 */
void
ssq_bench_ws_send_text (SsqBenchWs *ws,
                        const char *text,
                        gsize       len)
{
  ws_send_frame (ws, 0x1, text, len);
}

static gboolean
has_prefix (const guint8 *p,
            gsize         len,
            const char   *prefix)
{
  gsize n = strlen (prefix);

  return len >= n && memcmp (p, prefix, n) == 0;
}

/* Counts a server text frame by its "type", which both servers write first. */
static void
ws_text (SsqBenchWs   *c,
         const guint8 *p,
         gsize         len)
{
  const guint8 *t = memmem (p, MIN (len, 64), TYPE_PREFIX, strlen (TYPE_PREFIX));
  gsize rest;

  net.count.frames++;
  net.count.text_bytes += len;
  if (t == NULL)
    return;
  t += strlen (TYPE_PREFIX);
  rest = len - (gsize) (t - p);
  if (has_prefix (t, rest, "message\""))
    {
      c->n_message++;
      net.count.messages++;
      if (c->marker != NULL && memmem (p, len, c->marker, strlen (c->marker)) != NULL)
        c->marker_seen = TRUE;
    }
  else if (has_prefix (t, rest, "ack\""))
    c->n_ack++;
  else if (has_prefix (t, rest, "pong\""))
    c->n_pong++;
  else if (has_prefix (t, rest, "typing\""))
    net.count.typing++;
  else if (has_prefix (t, rest, "presence\""))
    net.count.presence++;
  else if (has_prefix (t, rest, "conversation\""))
    net.count.conversations++;
  else if (has_prefix (t, rest, "notification\""))
    net.count.notifications++;
  else if (has_prefix (t, rest, "welcome\""))
    {
      c->welcomed = TRUE;
      if (c->pending)
        ws_settle (c, &net.count.opened);
    }
  else if (has_prefix (t, rest, "error\""))
    {
      net.count.errors++;
      if (net.count.errors <= 3)
        g_printerr ("server error frame: %.*s\n", (int) MIN (len, 300), p);
    }
}

/* Consumes what it can of @data; returns the bytes used. */
static gsize
ws_parse (SsqBenchWs   *c,
          const guint8 *data,
          gsize         len)
{
  gsize used = 0;

  if (c->state == SSQ_BENCH_WS_HANDSHAKE)
    {
      const guint8 *end = memmem (data, len, "\r\n\r\n", 4);

      if (end == NULL && len > 16384)
        {
          ws_fail (c, EPROTO);
          return len;
        }
      if (end == NULL)
        return 0;
      if (sscanf ((const char *) data, "HTTP/1.1 %u", &c->http_status) != 1 ||
          c->http_status != 101)
        {
          ws_fail (c, EPROTO);
          return len;
        }
      c->state = SSQ_BENCH_WS_OPEN;
      used = (gsize) (end + 4 - data);
    }
  while (c->state == SSQ_BENCH_WS_OPEN && len - used >= 2)
    {
      const guint8 *f = data + used;
      gsize avail = len - used, head = 2;
      guint8 opcode = f[0] & 0x0f;
      guint64 plen = f[1] & 0x7f;
      gboolean masked = (f[1] & 0x80) != 0;
      const guint8 *payload;

      if (plen == 126)
        {
          if (avail < 4)
            break;
          plen = ((guint64) f[2] << 8) | f[3];
          head = 4;
        }
      else if (plen == 127)
        {
          if (avail < 10)
            break;
          plen = 0;
          for (int i = 0; i < 8; i++)
            plen = (plen << 8) | f[2 + i];
          head = 10;
        }
      if (masked)
        head += 4;     /* servers do not mask; skipped, not unmasked */
      if (avail < head || avail - head < plen)
        break;
      payload = f + head;
      used += head + plen;
      switch (opcode)
        {
        case 0x1:
          ws_text (c, payload, plen);
          break;
        case 0x8:
          c->close_code = plen >= 2 ? (guint) (payload[0] << 8 | payload[1]) : 1005;
          ws_fail (c, 0);
          return len;
        case 0x9:
          ws_send_frame (c, 0xA, payload, plen);
          break;
        default:
          net.count.frames++;
          break;
        }
    }
  return used;
}

static void
ws_readable (SsqBenchWs *c)
{
  static guint8 *chunk;
  ssize_t n;
  gsize used;

  if (chunk == NULL)
    chunk = g_malloc (READ_CHUNK);
  if (c->tls != NULL)
    {
      n = gnutls_record_recv (c->tls, chunk, READ_CHUNK);
      if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
        return;
      if (n <= 0)
        {
          ws_fail (c, n == 0 ? ECONNRESET : EPROTO);
          return;
        }
    }
  else
    n = recv (c->fd, chunk, READ_CHUNK, 0);
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return;
  if (n <= 0)
    {
      ws_fail (c, n == 0 ? ECONNRESET : errno);
      return;
    }
  if (c->in == NULL)
    {
      used = ws_parse (c, chunk, (gsize) n);
      if (c->state != SSQ_BENCH_WS_CLOSED && used < (gsize) n)
        {
          c->in = g_byte_array_new ();
          g_byte_array_append (c->in, chunk + used, (guint) (n - used));
        }
      return;
    }
  g_byte_array_append (c->in, chunk, (guint) n);
  used = ws_parse (c, c->in->data, c->in->len);
  if (c->in == NULL)
    return;
  g_byte_array_remove_range (c->in, 0, (guint) used);
  if (c->in->len == 0)
    g_clear_pointer (&c->in, g_byte_array_unref);
}

/* TLS: one step of the client's handshake; TRUE once it is done. */
static gboolean
ws_tls_step (SsqBenchWs *c)
{
  int ret;

  if (c->tls == NULL)
    {
      gnutls_session_t session;

      gnutls_init (&session, GNUTLS_CLIENT | GNUTLS_NONBLOCK);
      gnutls_set_default_priority (session);
      gnutls_credentials_set (session, GNUTLS_CRD_CERTIFICATE, net.tls);
      gnutls_transport_set_int (session, c->fd);
      c->tls = session;
    }
  ret = gnutls_handshake (c->tls);
  if (ret == GNUTLS_E_AGAIN || (ret < 0 && !gnutls_error_is_fatal (ret)))
    {
      ws_set_events (c, gnutls_record_get_direction (c->tls) ? EPOLLOUT : EPOLLIN);
      return FALSE;
    }
  if (ret < 0)
    {
      ws_fail (c, EPROTO);
      return FALSE;
    }
  return TRUE;
}

/* The TCP connection is up (or failed): send the upgrade request (over TLS
 * once its handshake is done). */
static void
ws_connected (SsqBenchWs *c)
{
  g_autoptr(GString) request = g_string_new ("GET /api/v1/ws?notifications=client");
  int err = 0;
  socklen_t len = sizeof err;

  if (c->tls == NULL && (getsockopt (c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0))
    {
      ws_fail (c, err ? err : errno);
      return;
    }
  if (net.tls != NULL && !ws_tls_step (c))
    return;
  if (net.query_token)
    g_string_append_printf (request, "&access_token=%s", c->token);
  g_string_append_printf (request,
                          " HTTP/1.1\r\n"
                          "Host: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          "Sec-WebSocket-Key: " WS_KEY "\r\nSec-WebSocket-Version: 13\r\n",
                          net.host);
  if (!net.query_token)
    g_string_append_printf (request, "Authorization: Bearer %s\r\n", c->token);
  g_string_append (request, "\r\n");
  c->state = SSQ_BENCH_WS_HANDSHAKE;
  c->out = g_byte_array_new ();
  g_byte_array_append (c->out, (const guint8 *) request->str, (guint) request->len);
  ws_flush (c);
}

static void
ws_event (SsqBenchWs *c,
          guint32     events)
{
  if (c->state == SSQ_BENCH_WS_CLOSED)
    return;
  if (c->state == SSQ_BENCH_WS_CONNECTING)
    {
      if (events & (EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP))
        ws_connected (c);
      return;
    }
  if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
    {
      ws_readable (c);
      /* Records GnuTLS decrypted and holds: epoll will not report them. */
      while (c->state != SSQ_BENCH_WS_CLOSED && c->tls != NULL &&
             gnutls_record_check_pending (c->tls) > 0)
        ws_readable (c);
    }
  if (c->state != SSQ_BENCH_WS_CLOSED && (events & EPOLLOUT))
    ws_flush (c);
}

/* Starts a connection; @source > 0 binds it to 127.0.0.(source + 1). NULL
 * (and errno) when no socket could be made. */
static SsqBenchWs *
ws_connect (const char *token,
            guint       source)
{
  SsqBenchWs *c;
  int one = 1;
  int err;
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

  if (fd < 0)
    return NULL;
  setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (source > 0)
    {
      struct sockaddr_in local = { .sin_family = AF_INET };

      /* The port is chosen at connect(), knowing the destination, so each
       * source address has the whole ephemeral range. */
      setsockopt (fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
      local.sin_addr.s_addr = htonl (0x7f000001 + source);
      if (bind (fd, (struct sockaddr *) &local, sizeof local) != 0)
        goto fail;
    }
  if (connect (fd, (struct sockaddr *) &net.addr, sizeof net.addr) != 0 && errno != EINPROGRESS)
    goto fail;
  c = g_new0 (SsqBenchWs, 1);
  c->fd = fd;
  c->token = token;
  c->state = SSQ_BENCH_WS_CONNECTING;
  c->pending = TRUE;
  net.count.outstanding++;
  ws_set_events (c, EPOLLOUT);
  return c;

fail:
  err = errno;
  close (fd);
  errno = err;
  return NULL;
}

/**
 * ssq_bench_ws_free:
 * @ws: (nullable): a client
 *
 * Closes the connection (without a close frame) and frees the client.
 */
void
ssq_bench_ws_free (SsqBenchWs *ws)
{
  if (ws == NULL)
    return;
  if (ws->pending)
    net.count.outstanding--;
  ws_release (ws);
  g_free (ws);
}

/* ---- All clients ------------------------------------------------------ */

/**
 * ssq_bench_ws_pump:
 * @timeout_ms: how long to wait for the first event
 *
 * One epoll_wait and its events.
 */
void
ssq_bench_ws_pump (int timeout_ms)
{
  struct epoll_event ev[1024];
  int n = epoll_wait (net.epfd, ev, G_N_ELEMENTS (ev), timeout_ms);

  for (int i = 0; i < n; i++)
    ws_event (ev[i].data.ptr, ev[i].events);
}

/**
 * ssq_bench_ws_pump_for:
 * @ms: how long
 *
 * Handles events for @ms milliseconds.
 */
void
ssq_bench_ws_pump_for (int ms)
{
  gint64 until = g_get_monotonic_time () + (gint64) ms * 1000;
  gint64 left;

  while ((left = until - g_get_monotonic_time ()) > 0)
    ssq_bench_ws_pump ((int) MAX (1, left / 1000));
}

/**
 * ssq_bench_ws_open_sessions:
 * @tokens: (array length=n_tokens): bearer tokens
 * @n_tokens: how many
 * @n: sessions to open; client i uses tokens[i % n_tokens]
 * @sources: 0 to connect from 127.0.0.1; else the clients take turns
 *   binding to 127.0.0.2 … 127.0.0.(sources + 1)
 * @outstanding: handshakes under way at a time, at most
 * @timeout_s: stop after this long, dropping the handshakes still under way
 * @out: (element-type SsqBenchWs): where the clients go
 *
 * Opens sessions and waits for their welcome. Gives up after 1,000
 * failures. Reports failures and, for big batches, progress on stdout.
 *
 * Returns: how many sessions were opened
 */
guint
ssq_bench_ws_open_sessions (char      **tokens,
                            guint       n_tokens,
                            guint       n,
                            guint       sources,
                            guint       outstanding,
                            guint       timeout_s,
                            GPtrArray  *out)
{
  SsqBenchWsCounters *count = &net.count;
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_s * G_USEC_PER_SEC;
  guint opened0 = count->opened, failed0 = count->failed;
  guint started = 0;
  gint64 last_report = g_get_monotonic_time ();

  while (count->opened - opened0 < n)
    {
      while (started < n && count->outstanding < outstanding && count->failed - failed0 < 1000)
        {
          guint source = sources > 0 ? 1 + (net.next_source++ % sources) : 0;
          SsqBenchWs *c = ws_connect (tokens[started % n_tokens], source);

          if (c == NULL)
            {
              count->last_errno = errno;
              count->failed++;
              started++;
              continue;
            }
          g_ptr_array_add (out, c);
          started++;
        }
      if (count->outstanding == 0 && started >= n)
        break;
      if (count->failed - failed0 >= 1000 && count->outstanding == 0)
        break;
      if (g_get_monotonic_time () > deadline)
        {
          guint abandoned = 0;

          /* Handshakes still under way would load the server during the
           * measurements that follow: drop them. */
          for (guint i = out->len; i-- > 0;)
            if (((SsqBenchWs *) out->pdata[i])->pending)
              {
                ssq_bench_ws_free (g_ptr_array_steal_index_fast (out, i));
                abandoned++;
              }
          printf ("  stopped opening after %u s: %u open, %u handshakes under way dropped\n",
                  timeout_s, count->opened - opened0, abandoned);
          break;
        }
      ssq_bench_ws_pump (100);
      if (n >= 20000 && g_get_monotonic_time () - last_report > 10 * G_USEC_PER_SEC)
        {
          last_report = g_get_monotonic_time ();
          printf ("    … %u open\n", count->opened - opened0);
          fflush (stdout);
        }
    }
  if (count->failed != failed0)
    printf ("  %u sessions failed (last errno %s, HTTP status %u, close code %u)\n",
            count->failed - failed0, g_strerror (count->last_errno), count->last_http_status,
            count->last_close_code);
  return count->opened - opened0;
}

/**
 * ssq_bench_ws_open_one:
 * @token: a bearer token
 *
 * Opens one session from 127.0.0.1; aborts if it cannot within 10 s.
 *
 * Returns: (transfer full): the client, welcomed
 */
SsqBenchWs *
ssq_bench_ws_open_one (char *token)
{
  g_autoptr(GPtrArray) one = g_ptr_array_new ();

  if (ssq_bench_ws_open_sessions (&token, 1, 1, 0, 1, 10, one) != 1)
    g_error ("Cannot open a session");
  return one->pdata[0];
}

/**
 * ssq_bench_ws_free_all:
 * @clients: (element-type SsqBenchWs): clients
 *
 * Frees the clients and empties the array.
 */
void
ssq_bench_ws_free_all (GPtrArray *clients)
{
  for (guint i = 0; i < clients->len; i++)
    ssq_bench_ws_free (clients->pdata[i]);
  g_ptr_array_set_size (clients, 0);
}

/**
 * ssq_bench_ws_check_open:
 * @what: what the sessions are, for the warning
 * @clients: (element-type SsqBenchWs): clients
 *
 * Warns on stdout if any of the sessions that were welcomed has closed.
 */
void
ssq_bench_ws_check_open (const char *what,
                         GPtrArray  *clients)
{
  guint closed = 0, welcomed = 0;

  for (guint i = 0; i < clients->len; i++)
    {
      SsqBenchWs *c = clients->pdata[i];

      welcomed += c->welcomed;
      if (c->welcomed && c->state != SSQ_BENCH_WS_OPEN)
        closed++;
    }
  if (closed > 0)
    printf ("  WARNING: %u of %u %s sessions closed after their welcome (last close code %u)\n",
            closed, welcomed, what, net.count.last_close_code);
}
