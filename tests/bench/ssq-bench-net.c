/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-bench-net.c: transport load generator. Starts the server binary named
 * by SSQ_SERVER_BIN (old or new transport alike) in a temporary directory
 * and drives it with lean WebSocket clients: raw non-blocking sockets on one
 * epoll instance in this process, a minimal client side of RFC 6455 (upgrade
 * with a bearer token, masked frames out, server frames only parsed far
 * enough to count them by type and find a marker). libsoup clients would be
 * slower than the server and measure themselves. Scenarios: fanout, latency,
 * open, hold (see --help). Each run starts a fresh server; figures are
 * summarised as ranges over the runs. Not part of the test run. */
#include "ssq-test-server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define READ_CHUNK      (256 * 1024)
#define WS_KEY          "dGhlIHNhbXBsZSBub25jZQ=="
#define TYPE_PREFIX     "\"type\":\""
#define RT_WARMUP       50

/* ---- Options ---------------------------------------------------------- */

static int opt_runs = 2;
static int opt_members = 100;
static int opt_messages = 3000;
static int opt_window = 32;
static int opt_round_trips = 2000;
static int opt_idle = 10000;
static int opt_sessions = 10000;
static int opt_outstanding = 500;
static int opt_hold = 100000;
static int opt_hold_timeout = 120;
static int opt_sources = 8;
static gboolean opt_query_token = FALSE;
static gboolean opt_no_durable = FALSE;

static GOptionEntry entries[] = {
  { "runs", 'r', 0, G_OPTION_ARG_INT, &opt_runs, "Runs of each scenario, each on a fresh server (2)", "N" },
  { "members", 0, 0, G_OPTION_ARG_INT, &opt_members, "fanout: group members, one session each (100)", "N" },
  { "messages", 'm', 0, G_OPTION_ARG_INT, &opt_messages, "fanout: messages sent (3000)", "N" },
  { "window", 'w', 0, G_OPTION_ARG_INT, &opt_window, "fanout: sends in flight (32)", "N" },
  { "round-trips", 't', 0, G_OPTION_ARG_INT, &opt_round_trips, "latency, hold: round trips (2000)", "N" },
  { "idle", 'i', 0, G_OPTION_ARG_INT, &opt_idle, "latency: idle sessions attached (10000)", "N" },
  { "sessions", 's', 0, G_OPTION_ARG_INT, &opt_sessions, "open: sessions opened (10000)", "N" },
  { "outstanding", 'o', 0, G_OPTION_ARG_INT, &opt_outstanding, "Handshakes outstanding at a time (500)", "N" },
  { "hold", 0, 0, G_OPTION_ARG_INT, &opt_hold, "hold: idle sessions (100000)", "N" },
  { "hold-timeout", 0, 0, G_OPTION_ARG_INT, &opt_hold_timeout, "hold: give up opening after S seconds (120)", "S" },
  { "sources", 0, 0, G_OPTION_ARG_INT, &opt_sources, "Idle sessions bind to 127.0.0.2 … 127.0.0.(N+1) (8)", "N" },
  { "no-durable", 0, 0, G_OPTION_ARG_NONE, &opt_no_durable, "Commit without fsync (durable_commits=false): the transport without the disk", NULL },
  { "query-token", 0, 0, G_OPTION_ARG_NONE, &opt_query_token, "Pass the token as ?access_token= instead of the header", NULL },
  { NULL }
};

/* ---- Figures: every run records, the summary gives ranges ------------- */

typedef struct {
  char   *name;
  GArray *values;     /* double */
} Figure;

static GPtrArray *figures;

static void
figure_free (Figure *f)
{
  g_free (f->name);
  g_array_unref (f->values);
  g_free (f);
}

static void
record (const char *name,
        double      value)
{
  Figure *f = NULL;

  for (guint i = 0; i < figures->len && f == NULL; i++)
    if (g_str_equal (((Figure *) figures->pdata[i])->name, name))
      f = figures->pdata[i];
  if (f == NULL)
    {
      f = g_new0 (Figure, 1);
      f->name = g_strdup (name);
      f->values = g_array_new (FALSE, FALSE, sizeof (double));
      g_ptr_array_add (figures, f);
    }
  g_array_append_val (f->values, value);
}

static void
print_summary (void)
{
  printf ("\n== Summary (%s) ==\n", g_getenv ("SSQ_SERVER_BIN"));
  for (guint i = 0; i < figures->len; i++)
    {
      Figure *f = figures->pdata[i];
      double lo = G_MAXDOUBLE, hi = -G_MAXDOUBLE;
      g_autoptr(GString) all = g_string_new (NULL);

      for (guint j = 0; j < f->values->len; j++)
        {
          double v = g_array_index (f->values, double, j);

          lo = MIN (lo, v);
          hi = MAX (hi, v);
          g_string_append_printf (all, "%s%.4g", j ? " " : "", v);
        }
      printf ("  %-44s %12.4g .. %-12.4g [%s]\n", f->name, lo, hi, all->str);
    }
}

/* ---- Clocks and the server process ------------------------------------ */

static gint64
now_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (gint64) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

typedef struct {
  double cpu_us;      /* server utime + stime, all threads */
  gint64 rss_kb;
  double self_us;     /* this process, for comparison */
} Stat;

static SsqTestServer *server;

static Stat
stat_now (void)
{
  Stat st = { 0, 0, 0 };
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", (int) ssq_test_server_pid (server));
  g_autofree char *status_path = g_strdup_printf ("/proc/%d/status",
                                                  (int) ssq_test_server_pid (server));
  g_autofree char *text = NULL;
  g_autofree char *status = NULL;
  struct rusage ru;
  const char *p;

  if (g_file_get_contents (path, &text, NULL, NULL) && (p = strrchr (text, ')')) != NULL)
    {
      g_auto(GStrv) f = g_strsplit (p + 2, " ", -1);

      /* After ')': state is [0]; utime [11], stime [12], in clock ticks. */
      st.cpu_us = (g_ascii_strtod (f[11], NULL) + g_ascii_strtod (f[12], NULL)) * 1e6 /
                  sysconf (_SC_CLK_TCK);
    }
  if (g_file_get_contents (status_path, &status, NULL, NULL) &&
      (p = strstr (status, "VmRSS:")) != NULL)
    st.rss_kb = g_ascii_strtoll (p + 6, NULL, 10);
  getrusage (RUSAGE_SELF, &ru);
  st.self_us = ru.ru_utime.tv_sec * 1e6 + ru.ru_utime.tv_usec +
               ru.ru_stime.tv_sec * 1e6 + ru.ru_stime.tv_usec;
  return st;
}

/* The old server ignores keys it does not know, but only keys it knows are
 * passed: the new transport's keys only when the binary has them. */
static gboolean
server_has_key (const char *key)
{
  g_autofree char *contents = NULL;
  gsize len = 0;

  if (!g_file_get_contents (g_getenv ("SSQ_SERVER_BIN"), &contents, &len, NULL))
    return FALSE;
  return memmem (contents, len, key, strlen (key)) != NULL;
}

/* ---- Lean WebSocket clients ------------------------------------------- */

typedef enum {
  WS_CONNECTING,
  WS_HANDSHAKE,
  WS_OPEN,
  WS_CLOSED
} WsState;

typedef struct {
  int          fd;
  WsState      state;
  guint32      events;
  gboolean     pending;       /* counted in outstanding until welcome */
  gboolean     welcomed;
  GByteArray  *in;            /* partial data kept between reads */
  GByteArray  *out;           /* unsent bytes */
  const char  *token;
  guint        http_status;
  guint        close_code;
  guint64      n_message;
  guint64      n_ack;
  const char  *marker;
  gboolean     marker_seen;
} WsClient;

static struct {
  int                 epfd;
  struct sockaddr_in  addr;
  char                host[64];
  guint               next_source;
  guint               outstanding;
  guint               opened;
  guint               failed;
  guint               closed_after_open;
  guint               last_http_status;
  guint               last_close_code;
  int                 last_errno;
  guint64             frames;
  guint64             messages;
  guint64             notifications;
  guint64             errors;
  guint32             mask_seed;
} net;

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
ws_set_events (WsClient *c,
               guint32   events)
{
  struct epoll_event ev = { .events = events, .data.ptr = c };

  if (c->fd < 0 || c->events == events)
    return;
  epoll_ctl (net.epfd, c->events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd, &ev);
  c->events = events;
}

static void
ws_fail (WsClient *c,
         int       err)
{
  if (c->state == WS_CLOSED)
    return;
  if (c->pending)
    {
      c->pending = FALSE;
      net.outstanding--;
      net.failed++;
    }
  else
    net.closed_after_open++;
  if (err != 0)
    net.last_errno = err;
  if (c->http_status != 0 && c->http_status != 101)
    net.last_http_status = c->http_status;
  if (c->close_code != 0)
    net.last_close_code = c->close_code;
  c->state = WS_CLOSED;
  if (c->fd >= 0)
    close (c->fd);
  c->fd = -1;
  g_clear_pointer (&c->in, g_byte_array_unref);
  g_clear_pointer (&c->out, g_byte_array_unref);
}

static void
ws_flush (WsClient *c)
{
  while (c->out != NULL && c->out->len > 0)
    {
      ssize_t n = send (c->fd, c->out->data, c->out->len, MSG_NOSIGNAL);

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
  ws_set_events (c, c->state == WS_CONNECTING ? EPOLLOUT : EPOLLIN | (c->out ? EPOLLOUT : 0));
}

/* A masked frame; payloads here are small but any length is framed. */
static void
ws_queue_frame (WsClient   *c,
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

  if (c->state == WS_CLOSED)
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
}

static void
ws_send_text (WsClient   *c,
              const char *text,
              gsize       len)
{
  ws_queue_frame (c, 0x1, text, len);
  ws_flush (c);
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
ws_text (WsClient     *c,
         const guint8 *p,
         gsize         len)
{
  const guint8 *t = memmem (p, MIN (len, 64), TYPE_PREFIX, strlen (TYPE_PREFIX));
  gsize rest;

  net.frames++;
  if (t == NULL)
    return;
  t += strlen (TYPE_PREFIX);
  rest = len - (gsize) (t - p);
  if (has_prefix (t, rest, "message\""))
    {
      c->n_message++;
      net.messages++;
      if (c->marker != NULL && memmem (p, len, c->marker, strlen (c->marker)) != NULL)
        c->marker_seen = TRUE;
    }
  else if (has_prefix (t, rest, "ack\""))
    c->n_ack++;
  else if (has_prefix (t, rest, "notification\""))
    net.notifications++;
  else if (has_prefix (t, rest, "welcome\""))
    {
      c->welcomed = TRUE;
      if (c->pending)
        {
          c->pending = FALSE;
          net.outstanding--;
          net.opened++;
        }
    }
  else if (has_prefix (t, rest, "error\""))
    {
      net.errors++;
      if (net.errors <= 3)
        g_printerr ("server error frame: %.*s\n", (int) MIN (len, 300), p);
    }
}

/* Consumes what it can of @data; returns the bytes used. */
static gsize
ws_parse (WsClient     *c,
          const guint8 *data,
          gsize         len)
{
  gsize used = 0;

  if (c->state == WS_HANDSHAKE)
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
      c->state = WS_OPEN;
      used = (gsize) (end + 4 - data);
    }
  while (c->state == WS_OPEN && len - used >= 2)
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
          ws_queue_frame (c, 0xA, payload, plen);
          ws_flush (c);
          break;
        default:
          net.frames++;
          break;
        }
    }
  return used;
}

static void
ws_readable (WsClient *c)
{
  static guint8 *chunk;
  ssize_t n;
  gsize used;

  if (chunk == NULL)
    chunk = g_malloc (READ_CHUNK);
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
      if (c->state != WS_CLOSED && used < (gsize) n)
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

static void
ws_connected (WsClient *c)
{
  g_autofree char *request = NULL;
  int err = 0;
  socklen_t len = sizeof err;

  if (getsockopt (c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0)
    {
      ws_fail (c, err ? err : errno);
      return;
    }
  if (opt_query_token)
    request = g_strdup_printf ("GET /api/v1/ws?notifications=client&access_token=%s HTTP/1.1\r\n"
                               "Host: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                               "Sec-WebSocket-Key: " WS_KEY "\r\nSec-WebSocket-Version: 13\r\n\r\n",
                               c->token, net.host);
  else
    request = g_strdup_printf ("GET /api/v1/ws?notifications=client HTTP/1.1\r\n"
                               "Host: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                               "Sec-WebSocket-Key: " WS_KEY "\r\nSec-WebSocket-Version: 13\r\n"
                               "Authorization: Bearer %s\r\n\r\n",
                               net.host, c->token);
  c->state = WS_HANDSHAKE;
  c->out = g_byte_array_new ();
  g_byte_array_append (c->out, (const guint8 *) request, (guint) strlen (request));
  ws_flush (c);
}

static void
ws_event (WsClient *c,
          guint32   events)
{
  if (c->state == WS_CLOSED)
    return;
  if (c->state == WS_CONNECTING)
    {
      if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
        ws_connected (c);
      return;
    }
  if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
    ws_readable (c);
  if (c->state != WS_CLOSED && (events & EPOLLOUT))
    ws_flush (c);
}

/* Starts a connection; @source > 0 binds it to 127.0.0.(source + 1). NULL
 * (and errno) when no socket could be made. */
static WsClient *
ws_client_connect (const char *token,
                   guint       source)
{
  WsClient *c;
  int one = 1;
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
        {
          int err = errno;

          close (fd);
          errno = err;
          return NULL;
        }
    }
  if (connect (fd, (struct sockaddr *) &net.addr, sizeof net.addr) != 0 && errno != EINPROGRESS)
    {
      int err = errno;

      close (fd);
      errno = err;
      return NULL;
    }
  c = g_new0 (WsClient, 1);
  c->fd = fd;
  c->token = token;
  c->state = WS_CONNECTING;
  c->pending = TRUE;
  net.outstanding++;
  ws_set_events (c, EPOLLOUT);
  return c;
}

static void
ws_client_free (WsClient *c)
{
  if (c == NULL)
    return;
  if (c->pending)
    net.outstanding--;
  if (c->fd >= 0)
    close (c->fd);
  if (c->in != NULL)
    g_byte_array_unref (c->in);
  if (c->out != NULL)
    g_byte_array_unref (c->out);
  g_free (c);
}

/* One epoll_wait and its events. */
static void
pump (int timeout_ms)
{
  struct epoll_event ev[1024];
  int n = epoll_wait (net.epfd, ev, G_N_ELEMENTS (ev), timeout_ms);

  for (int i = 0; i < n; i++)
    ws_event (ev[i].data.ptr, ev[i].events);
}

static void
pump_for (int ms)
{
  gint64 until = now_ns () + (gint64) ms * 1000000;
  gint64 left;

  while ((left = until - now_ns ()) > 0)
    pump ((int) MAX (1, left / 1000000));
}

static void
net_reset_counters (void)
{
  net.frames = net.messages = net.notifications = net.errors = 0;
}

/* Opens @n sessions, client i with tokens[i % n_tokens], at most
 * @outstanding handshakes at a time; bound to the source addresses when
 * @spread. Stops after @timeout_s. Opened clients are added to @out. */
static guint
open_sessions (char      **tokens,
               guint       n_tokens,
               guint       n,
               gboolean    spread,
               guint       outstanding,
               guint       timeout_s,
               GPtrArray  *out)
{
  gint64 deadline = now_ns () + (gint64) timeout_s * 1000000000;
  guint opened0 = net.opened, failed0 = net.failed;
  guint started = 0;
  gint64 last_report = now_ns ();

  while (net.opened - opened0 < n)
    {
      while (started < n && net.outstanding < outstanding &&
             net.failed - failed0 < 1000)
        {
          guint source = spread ? 1 + (net.next_source++ % (guint) opt_sources) : 0;
          WsClient *c = ws_client_connect (tokens[started % n_tokens], source);

          if (c == NULL)
            {
              net.last_errno = errno;
              net.failed++;
              started++;
              continue;
            }
          g_ptr_array_add (out, c);
          started++;
        }
      if (net.outstanding == 0 && started >= n)
        break;
      if (net.failed - failed0 >= 1000 && net.outstanding == 0)
        break;
      if (now_ns () > deadline)
        {
          guint abandoned = 0;

          /* Handshakes still under way would load the server during the
           * measurements that follow: drop them. */
          for (guint i = out->len; i-- > 0;)
            if (((WsClient *) out->pdata[i])->pending)
              {
                ws_client_free (g_ptr_array_steal_index_fast (out, i));
                abandoned++;
              }
          printf ("  stopped opening after %u s: %u open, %u handshakes under way dropped\n",
                  timeout_s, net.opened - opened0, abandoned);
          break;
        }
      pump (100);
      if (n >= 20000 && now_ns () - last_report > 10 * (gint64) 1000000000)
        {
          last_report = now_ns ();
          printf ("    … %u open\n", net.opened - opened0);
          fflush (stdout);
        }
    }
  if (net.failed != failed0)
    printf ("  %u sessions failed (last errno %s, HTTP status %u, close code %u)\n",
            net.failed - failed0, g_strerror (net.last_errno), net.last_http_status,
            net.last_close_code);
  return net.opened - opened0;
}

static WsClient *
open_one (char *token)
{
  g_autoptr(GPtrArray) one = g_ptr_array_new ();

  if (open_sessions (&token, 1, 1, FALSE, 1, 10, one) != 1)
    g_error ("Cannot open a session");
  return one->pdata[0];
}

static void
free_clients (GPtrArray *clients)
{
  for (guint i = 0; i < clients->len; i++)
    ws_client_free (clients->pdata[i]);
  g_ptr_array_set_size (clients, 0);
}

static void
check_open (const char *what,
            GPtrArray  *clients)
{
  guint closed = 0, welcomed = 0;

  for (guint i = 0; i < clients->len; i++)
    {
      WsClient *c = clients->pdata[i];

      welcomed += c->welcomed;
      if (c->welcomed && c->state != WS_OPEN)
        closed++;
    }
  if (closed > 0)
    printf ("  WARNING: %u of %u %s sessions closed after their welcome (last close code %u)\n",
            closed, welcomed, what, net.last_close_code);
}

/* ---- The server under test ------------------------------------------ */

static gboolean new_transport;

static void
start_server (void)
{
  const char *colon;
  g_autofree char *extra = g_strdup_printf (
    "max_sessions_per_user=100000\nmax_connections=200000\n%s"
    "[server]\ncommit_batch_max=512\n%s",
    new_transport ? "max_connections_per_address=200000\n" : "",
    opt_no_durable ? "durable_commits=false\n" : "");

  server = ssq_test_server_start (NULL, extra);
  colon = strrchr (server->listen, ':');
  g_assert_nonnull (colon);
  memset (&net.addr, 0, sizeof net.addr);
  net.addr.sin_family = AF_INET;
  net.addr.sin_port = htons ((guint16) atoi (colon + 1));
  g_assert_true (inet_pton (AF_INET, "127.0.0.1", &net.addr.sin_addr) == 1);
  g_strlcpy (net.host, server->listen, sizeof net.host);
}

static void
stop_server (void)
{
  g_clear_pointer (&server, ssq_test_server_free);
}

/* ---- Scenario helpers ------------------------------------------------- */

static GPtrArray *
register_users (const char *prefix,
                guint       n)
{
  GPtrArray *users = g_ptr_array_new_with_free_func ((GDestroyNotify) ssq_test_user_free);

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *name = g_strdup_printf ("%s%03u", prefix, i);

      g_ptr_array_add (users, ssq_test_register (server, name));
    }
  return users;
}

static int
cmp_i64 (gconstpointer a,
         gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return x < y ? -1 : x > y;
}

static double
percentile_us (GArray *sorted,
               double  q)
{
  guint i = MIN ((guint) (sorted->len * q), sorted->len - 1);

  return g_array_index (sorted, gint64, i) / 1000.0;
}

/* Sequential send → the receiver's `message` with this send's marker.
 * Returns the sorted round trips (ns); the first RT_WARMUP are not kept. */
static GArray *
round_trips (WsClient   *sender,
             WsClient   *receiver,
             const char *conversation,
             const char *tag,
             guint       n)
{
  GArray *lat = g_array_sized_new (FALSE, FALSE, sizeof (gint64), n);

  for (guint i = 0; i < n + RT_WARMUP; i++)
    {
      char marker[64], frame[512];
      int len;
      gint64 t0, dt;

      g_snprintf (marker, sizeof marker, "<%s-%u>", tag, i);
      len = g_snprintf (frame, sizeof frame,
                        "{\"type\":\"send\",\"id\":\"%s%u\",\"conversation_id\":\"%s\","
                        "\"client_id\":\"%s-%u\",\"body\":\"ping %s\"}",
                        tag, i, conversation, tag, i, marker);
      receiver->marker = marker;
      receiver->marker_seen = FALSE;
      t0 = now_ns ();
      ws_send_text (sender, frame, (gsize) len);
      while (!receiver->marker_seen)
        {
          pump (1000);
          if (now_ns () - t0 > 10 * (gint64) 1000000000 || receiver->state == WS_CLOSED ||
              sender->state == WS_CLOSED)
            g_error ("Round trip %s %u: no message after 10 s (receiver %s, sender %s)", tag, i,
                     receiver->state == WS_CLOSED ? "closed" : "open",
                     sender->state == WS_CLOSED ? "closed" : "open");
        }
      dt = now_ns () - t0;
      receiver->marker = NULL;
      if (i >= RT_WARMUP)
        g_array_append_val (lat, dt);
    }
  pump_for (50);
  g_array_sort (lat, cmp_i64);
  return lat;
}

static char *
create_conversation (SsqTestUser *owner,
                     const char  *json)
{
  return ssq_test_create_conversation (server, owner, json);
}

/* ---- Scenarios -------------------------------------------------------- */

/* One sender keeps a window of durable sends in flight to a group whose
 * members each have one session; every member session counts `message`. */
static void
scenario_fanout (void)
{
  g_autoptr(GPtrArray) users = NULL;
  g_autoptr(GPtrArray) clients = g_ptr_array_new ();
  g_autoptr(GString) body = g_string_new ("{\"kind\":\"group\",\"title\":\"t\",\"members\":[");
  g_autofree char *conv = NULL;
  guint members = (guint) opt_members, n = (guint) opt_messages, window = (guint) opt_window;
  guint64 expected = (guint64) n * members;
  guint sent = 0;
  WsClient *sender;
  Stat before, after;
  gint64 start, elapsed, last_ack = 0;
  double secs;

  start_server ();
  users = register_users ("fan", members);
  for (guint i = 1; i < members; i++)
    g_string_append_printf (body, "%s\"%s\"", i > 1 ? "," : "",
                            ((SsqTestUser *) users->pdata[i])->username);
  g_string_append (body, "]}");
  conv = create_conversation (users->pdata[0], body->str);
  for (guint i = 0; i < members; i++)
    g_ptr_array_add (clients, open_one (((SsqTestUser *) users->pdata[i])->token));
  sender = clients->pdata[0];
  pump_for (500);         /* presence of everyone coming online */
  net_reset_counters ();

  before = stat_now ();
  start = now_ns ();
  while (net.messages < expected || sender->n_ack < n)
    {
      guint64 acks = sender->n_ack;

      while (sent < n && sent - sender->n_ack < window)
        {
          char frame[512];
          int len = g_snprintf (frame, sizeof frame,
                                "{\"type\":\"send\",\"id\":\"%u\",\"conversation_id\":\"%s\","
                                "\"client_id\":\"f%u\",\"body\":\"group message number %u\"}",
                                sent, conv, sent, sent);

          ws_send_text (sender, frame, (gsize) len);
          sent++;
        }
      pump (100);
      if (sender->n_ack == n && acks < n)
        last_ack = now_ns ();
      if (now_ns () - start > 120 * (gint64) 1000000000)
        {
          printf ("  gave up after 120 s\n");
          break;
        }
    }
  elapsed = now_ns () - start;
  after = stat_now ();
  check_open ("member", clients);
  secs = elapsed / 1e9;
  printf ("fanout: %u-member group, one sender, %u in flight, %u messages\n", members, window, n);
  printf ("  %" G_GUINT64_FORMAT " acked (all acked after %.2f s), %" G_GUINT64_FORMAT
          " message deliveries in %.2f s; %" G_GUINT64_FORMAT " frames in all (%" G_GUINT64_FORMAT
          " notification, %" G_GUINT64_FORMAT " error)\n",
          sender->n_ack, last_ack ? (last_ack - start) / 1e9 : 0.0, net.messages, secs,
          net.frames, net.notifications, net.errors);
  printf ("  %.0f acked msgs/s, %.0f deliveries/s, %.0f frames/s\n",
          sender->n_ack / secs, net.messages / secs, net.frames / secs);
  printf ("  server CPU %.2f µs per delivery (%.2f per frame, %.0f%% of a core); RSS %"
          G_GINT64_FORMAT " KiB; bench CPU %.2f µs per delivery\n",
          (after.cpu_us - before.cpu_us) / MAX (net.messages, 1),
          (after.cpu_us - before.cpu_us) / MAX (net.frames, 1),
          100.0 * (after.cpu_us - before.cpu_us) / (elapsed / 1e3), after.rss_kb,
          (after.self_us - before.self_us) / MAX (net.messages, 1));
  record ("fanout acked msgs/s", sender->n_ack / secs);
  record ("fanout deliveries/s", net.messages / secs);
  record ("fanout frames/s received", net.frames / secs);
  record ("fanout server CPU us/delivery", (after.cpu_us - before.cpu_us) / MAX (net.messages, 1));
  record ("fanout server RSS KiB", after.rss_kb);
  record ("fanout bench CPU us/delivery", (after.self_us - before.self_us) / MAX (net.messages, 1));
  stop_server ();
  free_clients (clients);
}

static void
report_latency (const char *label,
                GArray     *lat,
                double      cpu_us)
{
  printf ("  %s: p50 %.1f µs, p99 %.1f µs, max %.1f µs (n=%u); server CPU %.1f µs per round trip\n",
          label, percentile_us (lat, 0.5), percentile_us (lat, 0.99),
          percentile_us (lat, 1.0), lat->len, cpu_us / lat->len);
}

/* A direct conversation, sequential round trips, then the same with idle
 * sessions of a third user attached. */
static void
scenario_latency (void)
{
  g_autoptr(GPtrArray) users = NULL;
  g_autoptr(GPtrArray) idle = g_ptr_array_new ();
  g_autoptr(GArray) quiet = NULL;
  g_autoptr(GArray) loaded = NULL;
  g_autofree char *conv = NULL;
  g_autofree char *label = NULL;
  WsClient *a, *b;
  Stat s0, s1;
  guint opened;
  char *idle_token;

  start_server ();
  users = register_users ("lat", 3);
  conv = create_conversation (users->pdata[0], "{\"kind\":\"direct\",\"members\":[\"lat001\"]}");
  a = open_one (((SsqTestUser *) users->pdata[0])->token);
  b = open_one (((SsqTestUser *) users->pdata[1])->token);
  pump_for (300);

  printf ("latency: direct conversation, sequential send → message, %d round trips\n",
          opt_round_trips);
  s0 = stat_now ();
  quiet = round_trips (a, b, conv, "q", (guint) opt_round_trips);
  s1 = stat_now ();
  report_latency ("no idle sessions", quiet, s1.cpu_us - s0.cpu_us);

  idle_token = ((SsqTestUser *) users->pdata[2])->token;
  opened = open_sessions (&idle_token, 1, (guint) opt_idle, TRUE, (guint) opt_outstanding, 300,
                          idle);
  pump_for (1000);
  s0 = stat_now ();
  loaded = round_trips (a, b, conv, "l", (guint) opt_round_trips);
  s1 = stat_now ();
  label = g_strdup_printf ("%u idle sessions", opened);
  report_latency (label, loaded, s1.cpu_us - s0.cpu_us);
  check_open ("idle", idle);
  printf ("  ratio loaded/quiet: p50 %.2f, p99 %.2f\n",
          percentile_us (loaded, 0.5) / percentile_us (quiet, 0.5),
          percentile_us (loaded, 0.99) / percentile_us (quiet, 0.99));
  record ("latency p50 us", percentile_us (quiet, 0.5));
  record ("latency p99 us", percentile_us (quiet, 0.99));
  record ("latency+idle p50 us", percentile_us (loaded, 0.5));
  record ("latency+idle p99 us", percentile_us (loaded, 0.99));
  record ("latency+idle/quiet p50 ratio", percentile_us (loaded, 0.5) / percentile_us (quiet, 0.5));
  record ("latency+idle/quiet p99 ratio",
          percentile_us (loaded, 0.99) / percentile_us (quiet, 0.99));
  stop_server ();
  free_clients (idle);
  ws_client_free (a);
  ws_client_free (b);
}

/* Opening sessions (TCP, upgrade, token check, welcome), then memory. */
static void
scenario_open (void)
{
  g_autoptr(GPtrArray) users = NULL;
  g_autoptr(GPtrArray) clients = g_ptr_array_new ();
  char *token;
  Stat s0, s1, s2;
  gint64 t0, t1;
  guint opened;
  double secs;

  start_server ();
  users = register_users ("open", 1);
  token = ((SsqTestUser *) users->pdata[0])->token;
  ssq_test_wait_ms (500);
  s0 = stat_now ();
  t0 = now_ns ();
  opened = open_sessions (&token, 1, (guint) opt_sessions, TRUE, (guint) opt_outstanding, 300,
                          clients);
  t1 = now_ns ();
  s1 = stat_now ();
  pump_for (1000);
  s2 = stat_now ();
  check_open ("new", clients);
  secs = (t1 - t0) / 1e9;
  printf ("open: %u sessions (of %d), up to %d handshakes outstanding\n", opened, opt_sessions,
          opt_outstanding);
  printf ("  %.2f s: %.0f sessions/s; server CPU %.1f µs per session (bench %.1f)\n", secs,
          opened / secs, (s1.cpu_us - s0.cpu_us) / MAX (opened, 1),
          (s1.self_us - s0.self_us) / MAX (opened, 1));
  printf ("  server RSS %" G_GINT64_FORMAT " KiB before, %" G_GINT64_FORMAT
          " KiB after: %.2f KiB per idle session\n",
          s0.rss_kb, s2.rss_kb, (s2.rss_kb - s0.rss_kb) / (double) MAX (opened, 1));
  record ("open sessions/s", opened / secs);
  record ("open server CPU us/session", (s1.cpu_us - s0.cpu_us) / MAX (opened, 1));
  record ("open RSS KiB/idle session", (s2.rss_kb - s0.rss_kb) / (double) MAX (opened, 1));
  stop_server ();
  free_clients (clients);
}

/* Many idle sessions (spread over users and source addresses), then the
 * round trip beside them. */
static void
scenario_hold (void)
{
  g_autoptr(GPtrArray) users = NULL;
  g_autoptr(GPtrArray) idle_users = NULL;
  g_autoptr(GPtrArray) clients = g_ptr_array_new ();
  g_autoptr(GArray) lat = NULL;
  g_autofree char **tokens = NULL;
  g_autofree char *conv = NULL;
  guint n_idle_users = CLAMP ((guint) opt_hold / 1000, 1, 100);
  WsClient *a, *b;
  Stat s0, s1, s2, s3;
  gint64 t0, t1;
  guint opened;
  double secs;

  start_server ();
  users = register_users ("hold", 2);
  idle_users = register_users ("idle", n_idle_users);
  tokens = g_new0 (char *, n_idle_users);
  for (guint i = 0; i < n_idle_users; i++)
    tokens[i] = ((SsqTestUser *) idle_users->pdata[i])->token;
  conv = create_conversation (users->pdata[0], "{\"kind\":\"direct\",\"members\":[\"hold001\"]}");
  a = open_one (((SsqTestUser *) users->pdata[0])->token);
  b = open_one (((SsqTestUser *) users->pdata[1])->token);
  ssq_test_wait_ms (500);
  s0 = stat_now ();
  t0 = now_ns ();
  opened = open_sessions (tokens, n_idle_users, (guint) opt_hold, TRUE, (guint) opt_outstanding,
                          (guint) opt_hold_timeout, clients);
  t1 = now_ns ();
  s1 = stat_now ();
  pump_for (2000);
  s2 = stat_now ();
  secs = (t1 - t0) / 1e9;
  printf ("hold: %u idle sessions of %u users (asked %d) from %d source addresses\n", opened,
          n_idle_users, opt_hold, opt_sources);
  printf ("  opened in %.1f s: %.0f sessions/s; server CPU %.1f µs per session\n", secs,
          opened / secs, (s1.cpu_us - s0.cpu_us) / MAX (opened, 1));
  printf ("  server RSS %" G_GINT64_FORMAT " KiB before, %" G_GINT64_FORMAT
          " KiB after: %.2f KiB per idle session\n",
          s0.rss_kb, s2.rss_kb, (s2.rss_kb - s0.rss_kb) / (double) MAX (opened, 1));
  lat = round_trips (a, b, conv, "h", (guint) opt_round_trips);
  s3 = stat_now ();
  report_latency ("round trip beside them", lat, s3.cpu_us - s2.cpu_us);
  check_open ("idle", clients);
  record ("hold sessions open", opened);
  record ("hold open seconds", secs);
  record ("hold RSS KiB/idle session", (s2.rss_kb - s0.rss_kb) / (double) MAX (opened, 1));
  record ("hold server RSS MiB", s2.rss_kb / 1024.0);
  record ("hold latency p50 us", percentile_us (lat, 0.5));
  record ("hold latency p99 us", percentile_us (lat, 0.99));
  stop_server ();
  free_clients (clients);
  ws_client_free (a);
  ws_client_free (b);
}

/* ---- Main ------------------------------------------------------------- */

/* Soft to hard; as root with CAP_SYS_RESOURCE the hard limit goes up too.
 * The server inherits both. Returns the soft limit in force. */
static guint
raise_fd_limit (void)
{
  struct rlimit rl;

  getrlimit (RLIMIT_NOFILE, &rl);
  if (rl.rlim_max < 400000)
    {
      struct rlimit want = { 400000, 400000 };

      if (setrlimit (RLIMIT_NOFILE, &want) == 0)
        return 400000;
      printf ("note: cannot raise the hard descriptor limit %lu (%s): the server and this "
              "bench each hold at most that many connections\n",
              (unsigned long) rl.rlim_max, g_strerror (errno));
    }
  rl.rlim_cur = rl.rlim_max;
  setrlimit (RLIMIT_NOFILE, &rl);
  getrlimit (RLIMIT_NOFILE, &rl);
  return (guint) MIN (rl.rlim_cur, G_MAXUINT);
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new ("SCENARIO… — fanout latency open hold");
  g_autoptr(GError) error = NULL;
  guint fd_limit;

  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_summary (context,
    "Runs each scenario --runs times against $SSQ_SERVER_BIN, each run on a fresh server.");
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }
  if (argc < 2)
    {
      g_printerr ("Name one or more scenarios: fanout latency open hold\n");
      return 2;
    }
  if (g_getenv ("SSQ_SERVER_BIN") == NULL)
    {
      g_autofree char *dir = g_path_get_dirname (argv[0]);
      g_autofree char *bin = g_build_filename (dir, "..", "..", "server", "supersoniq-server",
                                               NULL);

      g_setenv ("SSQ_SERVER_BIN", bin, TRUE);
    }
  signal (SIGPIPE, SIG_IGN);
  fd_limit = raise_fd_limit ();
  if ((guint) opt_hold + 200 > fd_limit)
    {
      printf ("note: hold lowered from %d to %u sessions to fit the descriptor limit\n",
              opt_hold, fd_limit - 200);
      opt_hold = (int) (fd_limit - 200);
    }
  new_transport = server_has_key ("max_connections_per_address");
  net.epfd = epoll_create1 (EPOLL_CLOEXEC);
  net.mask_seed = 0x9e3779b9u ^ (guint32) getpid ();
  figures = g_ptr_array_new_with_free_func ((GDestroyNotify) figure_free);
  printf ("server %s (%s config keys%s); descriptors %u\n", g_getenv ("SSQ_SERVER_BIN"),
          new_transport ? "new transport's" : "old",
          opt_no_durable ? ", durable_commits=false" : "", fd_limit);

  for (int run = 1; run <= opt_runs; run++)
    for (int i = 1; i < argc; i++)
      {
        printf ("\n-- run %d: %s --\n", run, argv[i]);
        fflush (stdout);
        if (g_str_equal (argv[i], "fanout"))
          scenario_fanout ();
        else if (g_str_equal (argv[i], "latency"))
          scenario_latency ();
        else if (g_str_equal (argv[i], "open"))
          scenario_open ();
        else if (g_str_equal (argv[i], "hold"))
          scenario_hold ();
        else
          {
            g_printerr ("Unknown scenario %s\n", argv[i]);
            return 2;
          }
        fflush (stdout);
      }
  print_summary ();
  g_ptr_array_unref (figures);
  close (net.epfd);
  return 0;
}
