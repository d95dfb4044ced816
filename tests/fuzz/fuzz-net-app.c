/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz-net-app.c: the application the transport fuzz targets run behind
 * (fuzz-net.c: HTTP/1.1 and WebSocket; fuzz-h2.c: HTTP/2), chosen by the
 * path: WebSocket upgrades echo frames (a message starting 'c' closes,
 * 'p' pauses reading); bodies that stream (/s: a sink that is full every
 * other piece, /x: a sink that refuses at its first piece), requests
 * refused at their head (/r), answers from a file (/f, /f2 a range of it),
 * answered on a later iteration (/l), the WebSocket's path (/w: an HTTP/2
 * stream reset with HTTP_1_1_REQUIRED, 426 over HTTP/1.1); anything else
 * echoes the start of its body. And the loop that feeds a connection. */
#include "fuzz-net-app.h"

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static void
ws_message (SsqNetConn *conn,
            const char *data,
            gsize       length,
            gboolean    binary,
            gpointer    user_data)
{
  g_autoptr(GBytes) frame = ssq_net_ws_frame_text (data, binary ? 0 : length);

  if (length > 0 && data[0] == 'c')
    ssq_net_ws_close (conn, 1000, "bye");
  else if (length > 0 && data[0] == 'p')
    ssq_net_conn_pause_reading (conn, TRUE);
  else
    ssq_net_ws_send (conn, frame);
}

static void
ws_closed (SsqNetConn        *conn,
           gushort            code,
           SsqNetCloseReason  reason,
           gpointer           user_data)
{
  ssq_net_conn_unref (conn);
}

static const SsqNetWsCallbacks ws_callbacks = { ws_message, ws_closed };

static int file_fd (void);

/* /l: answered on a later loop iteration, when its connection (or its
 * stream) may be gone. */
static gboolean
later_cb (gpointer data)
{
  ssq_net_request_respond (data, 200, "text/plain", g_strdup ("later"), 5, NULL);
  return G_SOURCE_REMOVE;
}

static void
request_cb (SsqNetRequest *request,
            gpointer       user_data)
{
  gsize len;
  const char *body = ssq_net_request_get_body (request, &len);

  if (ssq_net_request_is_upgrade (request))
    {
      ssq_net_request_accept_websocket (request, &ws_callbacks, NULL);
      return;
    }
  ssq_net_request_get_header (request, "Authorization");
  if (g_str_has_prefix (ssq_net_request_get_path (request), "/w"))
    {
      if (ssq_net_request_is_http2 (request))
        ssq_net_request_require_http1 (request);
      else
        ssq_net_request_respond (request, 426, "text/plain", g_strdup ("ws"), 2, "Upgrade: websocket\r\n");
      return;
    }
  if (g_str_has_prefix (ssq_net_request_get_path (request), "/l"))
    {
      g_idle_add (later_cb, request);
      return;
    }
  if (g_str_has_prefix (ssq_net_request_get_path (request), "/f"))
    {
      gboolean part = ssq_net_request_get_path (request)[2] == '2';

      ssq_net_request_respond_file (request, part ? 206 : 200, "application/octet-stream",
                                    file_fd (), part ? 4 : 0, part ? 8 : 16, NULL);
      return;
    }
  ssq_net_request_respond (request, 200, "text/plain", g_strndup (body, MIN (len, 64)),
                           MIN (len, 64), NULL);
}

/* A sink whose request it resumes on the next loop iteration, if the
 * request is still there then. */
typedef struct {
  SsqNetRequest *request;    /* while the body streams */
  gsize          received;
  guint          pieces;
  guint          resume_id;
  gboolean       refuse;
} Sink;

static void
sink_free (Sink *sink)
{
  g_clear_handle_id (&sink->resume_id, g_source_remove);
  g_free (sink);
}

static gboolean
resume_cb (gpointer data)
{
  Sink *sink = data;

  sink->resume_id = 0;
  if (sink->request != NULL)
    ssq_net_request_resume_body (sink->request);
  return G_SOURCE_REMOVE;
}

static gboolean
sink_data (gpointer       data,
           SsqNetRequest *request,
           const guint8  *bytes,
           gsize          length)
{
  Sink *sink = data;

  sink->request = request;
  sink->received += length;
  if (sink->refuse)
    {
      sink->request = NULL;
      ssq_net_request_refuse (request, 507, "text/plain", g_strdup ("full"), 4, NULL);
      sink_free (sink);
      return TRUE;
    }
  if (++sink->pieces % 2 == 0)
    return TRUE;
  if (sink->resume_id == 0)
    sink->resume_id = g_idle_add (resume_cb, sink);
  return FALSE;
}

static void
sink_done (gpointer       data,
           SsqNetRequest *request)
{
  Sink *sink = data;
  char *text = g_strdup_printf ("%" G_GSIZE_FORMAT, sink->received);

  ssq_net_request_respond (request, 201, "text/plain", text, strlen (text), NULL);
  sink_free (sink);
}

static void
sink_abort (gpointer data)
{
  sink_free (data);
}

static const SsqNetBodySink sink_funcs = { sink_data, sink_done, sink_abort };

static void
head_cb (SsqNetRequest *request,
         gpointer       user_data)
{
  const char *path = ssq_net_request_get_path (request);

  if (g_str_has_prefix (path, "/r"))
    ssq_net_request_refuse (request, 403, "text/plain", g_strdup ("no"), 2, NULL);
  else if (g_str_has_prefix (path, "/s") || g_str_has_prefix (path, "/x"))
    {
      Sink *sink = g_new0 (Sink, 1);

      sink->refuse = path[1] == 'x';
      ssq_net_request_stream_body (request, &sink_funcs, sink, 1048576);
    }
}

/* A small file for the answers of /f (and a range of it for /f2). */
static int
file_fd (void)
{
  static int fd = -1;

  if (fd < 0)
    {
      fd = memfd_create ("fuzz-net", MFD_CLOEXEC);
      g_assert_cmpint (fd, >=, 0);
      g_assert_cmpint (write (fd, "0123456789abcdef", 16), ==, 16);
    }
  return dup (fd);
}

static char *
error_body (guint       status,
            const char *message,
            gsize      *out_length)
{
  *out_length = strlen (message);
  return g_strdup (message);
}

SsqNetServer *
fuzz_net_app_server (const SsqNetLimits *limits)
{
  SsqNetServer *server = ssq_net_server_new (limits, "fuzz", request_cb, error_body, NULL, NULL);

  g_assert_nonnull (server);
  ssq_net_server_set_head_func (server, head_cb);
  return server;
}

/* Feeds @data to the connection whose other end is @peer_fd, drains what
 * it answers, and runs the loop until the connection is gone or a bound
 * number of iterations has passed (a paused connection never ends); then
 * closes @peer_fd and every connection, and runs what that left to run. */
void
fuzz_net_app_feed (SsqNetServer  *server,
                   int            peer_fd,
                   const uint8_t *data,
                   size_t         size)
{
  gsize written = 0;
  char sink[4096];

  for (guint i = 0; i < 400 && ssq_net_server_n_connections (server) > 0; i++)
    {
      if (written < size)
        {
          gssize n = write (peer_fd, data + written, size - written);

          if (n > 0)
            written += n;
          if (written == size)
            shutdown (peer_fd, SHUT_WR);
        }
      else if (size == 0 && i == 0)
        shutdown (peer_fd, SHUT_WR);
      while (read (peer_fd, sink, sizeof sink) > 0)
        ;
      g_main_context_iteration (NULL, FALSE);
    }
  close (peer_fd);
  ssq_net_server_close_all (server);
  while (g_main_context_iteration (NULL, FALSE))
    ;
}
