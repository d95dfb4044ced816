/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-test-raw.c: raw non-blocking TCP clients driven by poll () with a
 * deadline, for tests that must send what a hostile client sends, or see a
 * server that never answers (libsoup's client would read for us and hide
 * it behind its own timeouts); and probes of the server's memory and
 * sockets through /proc/<pid>. */
#include "ssq-test-raw.h"
#include "ssq-wire.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

#define KiB  1024
#define MiB  (1024 * 1024)

/* ---- Time ------------------------------------------------------------- */

gint64
ssq_test_deadline_after (guint ms)
{
  return g_get_monotonic_time () + (gint64) ms * 1000;
}

/* Milliseconds left, rounded up so that a poll () never spins at 0 before
 * the deadline. */
int
ssq_test_ms_until (gint64 deadline)
{
  gint64 left = deadline - g_get_monotonic_time ();

  return left <= 0 ? 0 : (int) MIN (left / 1000 + 1, G_MAXINT);
}

/* ---- Raw TCP clients -------------------------------------------------- */

static void
server_address (SsqTestServer      *server,
                struct sockaddr_in *sa)
{
  const char *colon = strrchr (server->listen, ':');
  g_autofree char *host = g_strndup (server->listen, colon - server->listen);

  memset (sa, 0, sizeof *sa);
  sa->sin_family = AF_INET;
  sa->sin_port = htons ((guint16) g_ascii_strtoull (colon + 1, NULL, 10));
  g_assert_cmpint (inet_pton (AF_INET, host, &sa->sin_addr), ==, 1);
}

/* A small @rcvbuf makes a peer that does not read show at once, instead of
 * after megabytes of autotuning. */
int
ssq_test_raw_start_connect (SsqTestServer *server,
                            const char    *source,
                            int            rcvbuf,
                            int            sndbuf)
{
  struct sockaddr_in to;
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

  g_assert_cmpint (fd, >=, 0);
  if (rcvbuf > 0)
    {
      /* The server's kernel sizes its send buffer from the segment size:
       * loopback's 64 KiB segments let it take megabytes for a peer that
       * reads nothing, a LAN's 1460 bytes far less. Look like a LAN. */
      int mss = 1460;

      setsockopt (fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
      setsockopt (fd, IPPROTO_TCP, TCP_MAXSEG, &mss, sizeof mss);
    }
  if (sndbuf > 0)
    setsockopt (fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
  if (source != NULL)
    {
      struct sockaddr_in from = { .sin_family = AF_INET };
      int one = 1;

      /* The port is chosen at connect () for the 4-tuple, so thousands of
       * TIME_WAIT entries left by earlier runs do not run us out of ports. */
      setsockopt (fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
      g_assert_cmpint (inet_pton (AF_INET, source, &from.sin_addr), ==, 1);
      if (bind (fd, (struct sockaddr *) &from, sizeof from) != 0)
        g_error ("bind %s: %s", source, g_strerror (errno));
    }
  server_address (server, &to);
  if (connect (fd, (struct sockaddr *) &to, sizeof to) != 0 && errno != EINPROGRESS)
    g_error ("connect: %s", g_strerror (errno));
  return fd;
}

SsqTestRaw *
ssq_test_raw_wrap (int fd)
{
  SsqTestRaw *conn = g_new0 (SsqTestRaw, 1);

  conn->fd = fd;
  conn->in = g_byte_array_new ();
  return conn;
}

gboolean
ssq_test_raw_wait_connected (int   fd,
                             guint timeout_ms)
{
  struct pollfd p = { fd, POLLOUT, 0 };
  int err = 0;
  socklen_t len = sizeof err;

  if (poll (&p, 1, (int) timeout_ms) != 1)
    return FALSE;
  getsockopt (fd, SOL_SOCKET, SO_ERROR, &err, &len);
  return err == 0;
}

SsqTestRaw *
ssq_test_raw_open_full (SsqTestServer *server,
                        const char    *source,
                        int            rcvbuf,
                        int            sndbuf)
{
  int fd = ssq_test_raw_start_connect (server, source, rcvbuf, sndbuf);

  /* The kernel completes a loopback connect from the listen backlog, even
   * when the server does not call accept (). */
  g_assert_true (ssq_test_raw_wait_connected (fd, SSQ_TEST_RAW_WAIT_MS));
  return ssq_test_raw_wrap (fd);
}

SsqTestRaw *
ssq_test_raw_open (SsqTestServer *server)
{
  return ssq_test_raw_open_full (server, NULL, 0, 0);
}

void
ssq_test_raw_close (SsqTestRaw *conn)
{
  if (conn == NULL)
    return;
  close (conn->fd);
  g_byte_array_unref (conn->in);
  g_free (conn);
}

gsize
ssq_test_raw_send (SsqTestRaw *conn,
                   const void *data,
                   gsize       len,
                   guint       stall_ms)
{
  gint64 deadline = ssq_test_deadline_after (stall_ms);
  gsize done = 0;

  while (done < len && !conn->send_failed)
    {
      gssize n = send (conn->fd, (const char *) data + done, len - done,
                       MSG_NOSIGNAL | MSG_DONTWAIT);

      if (n > 0)
        {
          done += (gsize) n;
          deadline = ssq_test_deadline_after (stall_ms);
        }
      else if (n < 0 && errno == EINTR)
        continue;
      else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        {
          struct pollfd p = { conn->fd, POLLOUT, 0 };

          if (ssq_test_ms_until (deadline) == 0 || poll (&p, 1, ssq_test_ms_until (deadline)) == 0)
            break;
        }
      else
        conn->send_failed = TRUE;
    }
  return done;
}

gboolean
ssq_test_raw_send_str (SsqTestRaw *conn,
                       const char *text)
{
  return ssq_test_raw_send (conn, text, strlen (text), SSQ_TEST_RAW_WAIT_MS) == strlen (text);
}

SsqTestRaw *
ssq_test_raw_queue_poll (SsqTestServer *server,
                         const char    *queue,
                         const char    *token,
                         const char    *query)
{
  SsqTestRaw *raw = ssq_test_raw_open (server);
  g_autofree char *request = g_strdup_printf ("GET /api/v1/queues/%s/messages?%s HTTP/1.1\r\n"
                                              "Host: x\r\nAuthorization: Bearer %s\r\n\r\n",
                                              queue, query, token);

  g_assert_true (ssq_test_raw_send_str (raw, request));
  return raw;
}

gboolean
ssq_test_raw_pump (SsqTestRaw *conn,
                   guint       timeout_ms)
{
  struct pollfd p = { conn->fd, POLLIN, 0 };
  gboolean any = FALSE;

  if (conn->closed)
    return FALSE;
  if (poll (&p, 1, (int) timeout_ms) <= 0)
    return FALSE;
  for (;;)
    {
      guint8 buf[64 * KiB];
      gssize n = recv (conn->fd, buf, sizeof buf, MSG_DONTWAIT);

      if (n > 0)
        {
          g_byte_array_append (conn->in, buf, (guint) n);
          any = TRUE;
        }
      else if (n < 0 && errno == EINTR)
        continue;
      else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return any;
      else
        {
          /* 0 is the peer's FIN; ECONNRESET (the peer closed with our
           * bytes unread) counts as closed too. */
          conn->closed = TRUE;
          return TRUE;
        }
    }
}

/* What was read is kept up to 64 KiB, enough to look at a status line. */
gboolean
ssq_test_raw_wait_closed (SsqTestRaw *conn,
                          guint       timeout_ms)
{
  gint64 deadline = ssq_test_deadline_after (timeout_ms);

  while (!conn->closed && ssq_test_ms_until (deadline) > 0)
    {
      ssq_test_raw_pump (conn, (guint) ssq_test_ms_until (deadline));
      if (conn->in->len > 64 * KiB)
        g_byte_array_set_size (conn->in, 64 * KiB);
    }
  return conn->closed;
}

/* Without reading: a client that does not read must stay one, or the
 * server would make progress thanks to the test. */
gboolean
ssq_test_raw_peer_gone (SsqTestRaw *conn)
{
  struct pollfd p = { conn->fd, POLLRDHUP, 0 };

  if (conn->closed || conn->send_failed)
    return TRUE;
  return poll (&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

/* ---- HTTP responses --------------------------------------------------- */

void
ssq_test_raw_response_clear (SsqTestRawResponse *r)
{
  g_clear_pointer (&r->head, g_free);
  g_clear_pointer (&r->body, g_free);
  r->status = 0;
}

char *
ssq_test_raw_head_header (const char *head,
                          const char *name)
{
  g_auto(GStrv) lines = g_strsplit (head, "\r\n", -1);

  for (guint i = 1; lines[i] != NULL; i++)
    {
      char *colon = strchr (lines[i], ':');

      if (colon != NULL && (gsize) (colon - lines[i]) == strlen (name) &&
          g_ascii_strncasecmp (lines[i], name, strlen (name)) == 0)
        return g_strstrip (g_strdup (colon + 1));
    }
  return NULL;
}

static gssize
find_bytes (GByteArray *a,
            const char *needle,
            gsize       from)
{
  gsize n = strlen (needle);

  for (gsize i = from; i + n <= a->len; i++)
    if (memcmp (a->data + i, needle, n) == 0)
      return (gssize) i;
  return -1;
}

gboolean
ssq_test_raw_take_response (SsqTestRaw         *conn,
                            SsqTestRawResponse *out)
{
  gssize end = find_bytes (conn->in, "\r\n\r\n", 0);
  g_autofree char *head = NULL;
  g_autofree char *length = NULL;
  g_autofree char *encoding = NULL;
  gsize body_start, body_len;
  guint status;

  if (end < 0)
    return FALSE;
  head = g_strndup ((const char *) conn->in->data, (gsize) end);
  if (!g_str_has_prefix (head, "HTTP/1.") || strlen (head) < 12)
    g_error ("Not an HTTP response: %.80s", head);
  status = (guint) g_ascii_strtoull (head + 9, NULL, 10);
  body_start = (gsize) end + 4;
  length = ssq_test_raw_head_header (head, "Content-Length");
  encoding = ssq_test_raw_head_header (head, "Transfer-Encoding");
  if (status == 101 || status == 204 || status == 304 || (status >= 100 && status < 200))
    body_len = 0;
  else if (length != NULL)
    {
      body_len = (gsize) g_ascii_strtoull (length, NULL, 10);
      if (conn->in->len < body_start + body_len)
        return FALSE;
    }
  else if (encoding != NULL && g_ascii_strcasecmp (encoding, "chunked") == 0)
    {
      gssize last = find_bytes (conn->in, "\r\n0\r\n\r\n", body_start - 2);

      if (last < 0)
        return FALSE;
      body_len = (gsize) last + 7 - body_start;
    }
  else
    {
      if (!conn->closed)
        return FALSE;
      body_len = conn->in->len - body_start;
    }
  out->status = status;
  out->head = g_steal_pointer (&head);
  out->body = g_strndup ((const char *) conn->in->data + body_start, body_len);
  g_byte_array_remove_range (conn->in, 0, (guint) (body_start + body_len));
  return TRUE;
}

gboolean
ssq_test_raw_read_response (SsqTestRaw         *conn,
                            guint               timeout_ms,
                            SsqTestRawResponse *out)
{
  gint64 deadline = ssq_test_deadline_after (timeout_ms);

  for (;;)
    {
      if (ssq_test_raw_take_response (conn, out))
        return TRUE;
      if (conn->closed || ssq_test_ms_until (deadline) == 0)
        return FALSE;
      ssq_test_raw_pump (conn, (guint) ssq_test_ms_until (deadline));
    }
}

guint
ssq_test_raw_healthz (SsqTestServer *server,
                      const char    *source,
                      guint          timeout_ms)
{
  int fd = ssq_test_raw_start_connect (server, source, 0, 0);
  g_autoptr(SsqTestRaw) conn = ssq_test_raw_wrap (fd);
  g_auto(SsqTestRawResponse) r = { 0 };

  if (!ssq_test_raw_wait_connected (fd, timeout_ms) ||
      !ssq_test_raw_send_str (conn, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n") ||
      !ssq_test_raw_read_response (conn, timeout_ms, &r))
    return 0;
  return r.status;
}

/* ---- Raw WebSocket (RFC 6455) ----------------------------------------- */

void
ssq_test_raw_ws_frame_append (GByteArray *out,
                              guint8      first_byte,
                              const void *payload,
                              gsize       len)
{
  const guint8 mask[4] = { 0x37, 0xfa, 0x21, 0x3d };
  const guint8 *p = payload;
  guint8 hdr[10];
  gsize hlen;
  guint start;

  hdr[0] = first_byte;
  if (len < 126)
    {
      hdr[1] = 0x80 | (guint8) len;
      hlen = 2;
    }
  else if (len < 65536)
    {
      hdr[1] = 0x80 | 126;
      hdr[2] = (guint8) (len >> 8);
      hdr[3] = (guint8) len;
      hlen = 4;
    }
  else
    {
      hdr[1] = 0x80 | 127;
      for (int i = 0; i < 8; i++)
        hdr[2 + i] = (guint8) ((guint64) len >> (56 - 8 * i));
      hlen = 10;
    }
  g_byte_array_append (out, hdr, (guint) hlen);
  g_byte_array_append (out, mask, 4);
  start = out->len;
  g_byte_array_set_size (out, out->len + (guint) len);
  for (gsize i = 0; i < len; i++)
    out->data[start + i] = p[i] ^ mask[i % 4];
}

/* Takes one whole server frame off conn->in. */
static gboolean
ws_take_frame (SsqTestRaw  *conn,
               guint8      *opcode,
               GByteArray **payload)
{
  const guint8 *d = conn->in->data;
  guint64 len;
  gsize hlen = 2;
  gboolean masked;

  if (conn->in->len < 2)
    return FALSE;
  len = d[1] & 0x7f;
  masked = (d[1] & 0x80) != 0;
  if (len == 126)
    {
      if (conn->in->len < 4)
        return FALSE;
      len = (guint64) d[2] << 8 | d[3];
      hlen = 4;
    }
  else if (len == 127)
    {
      if (conn->in->len < 10)
        return FALSE;
      len = 0;
      for (int i = 0; i < 8; i++)
        len = len << 8 | d[2 + i];
      hlen = 10;
    }
  if (masked)
    hlen += 4;
  g_assert_cmpuint (len, <, 64 * MiB);
  if (conn->in->len < hlen + len)
    return FALSE;
  *opcode = d[0] & 0x0f;
  *payload = g_byte_array_new ();
  g_byte_array_append (*payload, d + hlen, (guint) len);
  if (masked)
    for (guint64 i = 0; i < len; i++)
      (*payload)->data[i] ^= d[hlen - 4 + i % 4];
  g_byte_array_remove_range (conn->in, 0, (guint) (hlen + len));
  return TRUE;
}

int
ssq_test_raw_ws_pump (SsqTestRaw *conn,
                      guint       timeout_ms,
                      const char *want_text)
{
  gint64 deadline = ssq_test_deadline_after (timeout_ms);

  for (;;)
    {
      guint8 opcode;
      GByteArray *payload = NULL;

      while (ws_take_frame (conn, &opcode, &payload))
        {
          g_autoptr(GByteArray) p = payload;

          if (opcode == 0x8)
            return p->len >= 2 ? (p->data[0] << 8 | p->data[1]) : 1005;
          if (opcode == 0x1 && want_text != NULL &&
              g_strstr_len ((const char *) p->data, p->len, want_text) != NULL)
            return 0;
        }
      if (conn->closed || ssq_test_ms_until (deadline) == 0)
        return -1;
      ssq_test_raw_pump (conn, (guint) ssq_test_ms_until (deadline));
    }
}

void
ssq_test_raw_ws_upgrade (SsqTestRaw *conn,
                         const char *token)
{
  g_autofree char *upgrade = g_strdup_printf (
    "GET /api/v1/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
    "Authorization: Bearer %s\r\n\r\n", token);
  g_auto(SsqTestRawResponse) r = { 0 };

  g_assert_true (ssq_test_raw_send_str (conn, upgrade));
  g_assert_true (ssq_test_raw_read_response (conn, SSQ_TEST_RAW_WAIT_MS, &r));
  g_assert_cmpuint (r.status, ==, 101);
}

SsqTestRaw *
ssq_test_raw_ws_open (SsqTestServer *server,
                      const char    *token,
                      int            rcvbuf,
                      int            sndbuf)
{
  SsqTestRaw *conn = ssq_test_raw_open_full (server, NULL, rcvbuf, sndbuf);

  ssq_test_raw_ws_upgrade (conn, token);
  g_assert_cmpint (ssq_test_raw_ws_pump (conn, SSQ_TEST_RAW_WAIT_MS, "\"welcome\""), ==, 0);
  return conn;
}

/* ---- Others still served ---------------------------------------------- */

void
ssq_test_assert_healthz (SsqTestServer *server)
{
  guint status = 0;
  g_autoptr(JsonObject) r = ssq_test_http (server, "GET", "/healthz", NULL, NULL, &status);

  g_assert_cmpuint (status, ==, 200);
}

/* The proof that the server serves others while a hostile peer is busy.
 * Client ids are numbered across the process, so that no two collide. */
void
ssq_test_assert_send_acked (SsqTestWs  *ws,
                            const char *conversation_id)
{
  static guint n;
  g_autofree char *client_id = g_strdup_printf ("calm-%u", ++n);
  g_autoptr(JsonObject) ack = ssq_test_ws_post (ws, conversation_id, client_id, "still here");

  g_assert_nonnull (ack);
  g_assert_cmpstr (json_object_get_string_member (ack, "type"), ==,
                   ssq_wire_frame_name (SSQ_FRAME_TYPE_ACK));
}

/* ---- The server process ----------------------------------------------- */

/* Without clear_refs, the caller's samples of VmRSS are all there is. */
gsize
ssq_test_rss_baseline (SsqTestServer *server)
{
  if (!ssq_test_server_reset_peak_rss (server))
    g_test_message ("clear_refs refused: peak RSS includes the start-up");
  return ssq_test_server_rss_kb (server);
}

gsize
ssq_test_rss_growth_kb (SsqTestServer *server,
                        gsize          baseline_kb)
{
  gsize peak = MAX (ssq_test_server_peak_rss_kb (server), ssq_test_server_rss_kb (server));

  return peak > baseline_kb ? peak - baseline_kb : 0;
}

/* Matched by our local port through /proc/<pid>/fd (socket inodes) and
 * /proc/<pid>/net/tcp. A close () by the server shows here at once, even
 * when its FIN waits behind replies that we have not read. @out_queued gets
 * the bytes the server wrote into those sockets and the kernel has not
 * delivered yet: while it changes, the server still makes progress writing. */
guint
ssq_test_raw_server_sockets (SsqTestServer *server,
                             SsqTestRaw   **conns,
                             guint          n,
                             guint64       *out_queued)
{
  int pid = (int) ssq_test_server_pid (server);
  g_autofree char *fd_dir = g_strdup_printf ("/proc/%d/fd", pid);
  g_autofree char *tcp_path = g_strdup_printf ("/proc/%d/net/tcp", pid);
  g_autoptr(GDir) dir = g_dir_open (fd_dir, 0, NULL);
  g_autoptr(GHashTable) inodes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GHashTable) ports = g_hash_table_new (g_direct_hash, g_direct_equal);
  g_autofree char *table = NULL;
  g_auto(GStrv) lines = NULL;
  const char *name;
  guint64 queued = 0;
  guint found = 0;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *link_path = g_build_filename (fd_dir, name, NULL);
      g_autofree char *target = g_file_read_link (link_path, NULL);

      if (target != NULL && g_str_has_prefix (target, "socket:["))
        g_hash_table_add (inodes, g_strndup (target + 8, strlen (target) - 9));
    }
  for (guint i = 0; i < n; i++)
    {
      struct sockaddr_in local;
      socklen_t len = sizeof local;

      g_assert_cmpint (getsockname (conns[i]->fd, (struct sockaddr *) &local, &len), ==, 0);
      g_hash_table_add (ports, GUINT_TO_POINTER (ntohs (local.sin_port)));
    }
  g_assert_true (g_file_get_contents (tcp_path, &table, NULL, NULL));
  lines = g_strsplit (table, "\n", -1);
  for (guint i = 1; lines[i] != NULL; i++)
    {
      /* sl local_address rem_address st tx_queue:rx_queue tr:tm retrnsmt uid timeout inode */
      g_auto(GStrv) f = g_strsplit_set (g_strstrip (lines[i]), " ", -1);
      g_autoptr(GPtrArray) cols = g_ptr_array_new ();
      const char *colon;

      for (guint j = 0; f[j] != NULL; j++)
        if (f[j][0] != '\0')
          g_ptr_array_add (cols, f[j]);
      if (cols->len < 10 || (colon = strchr (cols->pdata[2], ':')) == NULL)
        continue;
      if (g_hash_table_contains (inodes, cols->pdata[9]) &&
          g_hash_table_contains (ports, GUINT_TO_POINTER (g_ascii_strtoull (colon + 1, NULL, 16))))
        {
          found++;
          queued += g_ascii_strtoull (cols->pdata[4], NULL, 16);   /* tx_queue:rx_queue */
        }
    }
  if (out_queued != NULL)
    *out_queued = queued;
  return found;
}

double
ssq_test_metrics_value (const char *text,
                        const char *name)
{
  g_autofree char *key = g_strconcat ("\n", name, " ", NULL);
  const char *at = strstr (text, key);

  if (at == NULL)
    g_error ("/metrics has no %s", name);
  return g_ascii_strtod (at + strlen (key), NULL);
}
