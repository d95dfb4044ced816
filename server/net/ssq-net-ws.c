/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-net-ws.c: WebSocket connections with wslay (libwslay 1.1, Debian 12):
 * it parses and unmasks frames, reassembles fragmented messages up to a
 * total we set (max_recv_msg_length: the 1009 comes as soon as the total
 * passes it), answers pings and runs the close handshake. Frames we send
 * are built once by wslay's frame encoder and shared by every recipient;
 * wslay's own queue carries only its control frames.
 *
 * A wslay event context holds about 8.8 KB (its receive buffer and
 * queues). An idle session needs none of it, so the context exists only
 * while a frame is partly received or a close is under way, and is freed at
 * every message boundary: an idle session costs a few hundred bytes. */
#include "ssq-net-private.h"

#include <string.h>

struct _SsqNetWs {
  wslay_event_context_ptr  ctx;         /* NULL between messages */
  const SsqNetWsCallbacks *callbacks;
  gpointer                 user_data;
  SsqNetConn              *conn;        /* not owned: the connection owns us */
  const guint8            *in;          /* what feed() offers wslay */
  gsize                    in_len;
  gsize                    in_used;
  guint64                  fed;         /* bytes given to this context */
  guint64                  framed;      /* bytes of whole frames parsed */
  guint64                  frame_size;  /* header and payload of the current frame */
  gushort                  peer_code;
  gboolean                 fragmented;  /* a data message awaits its last frame */
  gboolean                 closing;     /* our close frame is queued */
  gboolean                 feeding;
  gboolean                 dead;        /* freed while feeding: free on return */
};

/* ---- wslay callbacks -------------------------------------------------- */

static ssize_t
recv_cb (wslay_event_context_ptr  ctx,
         uint8_t                 *buf,
         size_t                   len,
         int                      flags,
         void                    *user_data)
{
  SsqNetWs *ws = user_data;
  gsize n = MIN (len, ws->in_len - ws->in_used);

  /* Stop between chunks when the application asked for a pause (too many
   * requests in flight) or the connection is closing. */
  if (n == 0 || ws->dead || ws->conn->app_paused || ws->conn->queue_paused)
    {
      wslay_event_set_error (ctx, WSLAY_ERR_WOULDBLOCK);
      return -1;
    }
  memcpy (buf, ws->in + ws->in_used, n);
  ws->in_used += n;
  ws->fed += n;
  return n;
}

static ssize_t
send_cb (wslay_event_context_ptr  ctx,
         const uint8_t           *data,
         size_t                   len,
         int                      flags,
         void                    *user_data)
{
  SsqNetWs *ws = user_data;

  ssq_net_conn_queue_copy (ws->conn, data, len);
  return len;
}

static void
frame_start_cb (wslay_event_context_ptr                          ctx,
                const struct wslay_event_on_frame_recv_start_arg *arg,
                void                                             *user_data)
{
  SsqNetWs *ws = user_data;
  guint64 len = arg->payload_length;

  /* Client frames are always masked (wslay refuses others): 4 mask bytes. */
  ws->frame_size = 2 + 4 + (len < 126 ? 0 : len < 65536 ? 2 : 8) + len;
  if (arg->opcode <= WSLAY_BINARY_FRAME)
    ws->fragmented = !arg->fin;
  /* RFC 6455 5.5.1: a close body is empty or starts with a 2-byte code.
   * wslay would echo a 1-byte one as an empty close; answer 1002 first,
   * which also stops wslay's echo (a close is already queued). */
  if (arg->opcode == WSLAY_CONNECTION_CLOSE && len == 1)
    wslay_event_queue_close (ctx, 1002, NULL, 0);
}

static void
frame_end_cb (wslay_event_context_ptr  ctx,
              void                    *user_data)
{
  SsqNetWs *ws = user_data;

  ws->framed += ws->frame_size;
}

static void
msg_cb (wslay_event_context_ptr                   ctx,
        const struct wslay_event_on_msg_recv_arg *arg,
        void                                     *user_data)
{
  SsqNetWs *ws = user_data;

  if (ws->dead || ws->closing)
    return;
  switch (arg->opcode)
    {
    case WSLAY_TEXT_FRAME:
      /* RFC 6455: a text message that is not UTF-8 fails the connection. */
      if (!g_utf8_validate_len ((const char *) arg->msg, arg->msg_length, NULL))
        {
          ssq_net_ws_close (ws->conn, 1007, "Invalid UTF-8");
          return;
        }
      G_GNUC_FALLTHROUGH;
    case WSLAY_BINARY_FRAME:
      ws->callbacks->message (ws->conn, (const char *) arg->msg, arg->msg_length,
                              arg->opcode == WSLAY_BINARY_FRAME, ws->user_data);
      break;
    case WSLAY_CONNECTION_CLOSE:
      ws->peer_code = arg->status_code ? arg->status_code : 1005;
      break;
    default:
      break;     /* pings are answered by wslay */
    }
}

static const struct wslay_event_callbacks callbacks = {
  .recv_callback = recv_cb,
  .send_callback = send_cb,
  .on_frame_recv_start_callback = frame_start_cb,
  .on_frame_recv_end_callback = frame_end_cb,
  .on_msg_recv_callback = msg_cb,
};

/* ---- Context lifetime ------------------------------------------------- */

static gboolean
ensure_context (SsqNetWs *ws)
{
  if (ws->ctx != NULL)
    return TRUE;
  if (wslay_event_context_server_init (&ws->ctx, &callbacks, ws) != 0)
    return FALSE;
  wslay_event_config_set_max_recv_msg_length (ws->ctx,
                                              ws->conn->server->limits.max_message_size);
  ws->fed = ws->framed = 0;
  return TRUE;
}

static void
release_if_idle (SsqNetWs *ws)
{
  if (ws->ctx == NULL || ws->closing || ws->fragmented || ws->fed != ws->framed ||
      wslay_event_get_queued_msg_count (ws->ctx) > 0 ||
      wslay_event_get_close_received (ws->ctx) || wslay_event_get_close_sent (ws->ctx))
    return;
  wslay_event_context_free (ws->ctx);
  ws->ctx = NULL;
}

SsqNetWs *
ssq_net_ws_new (const SsqNetWsCallbacks *cbs,
                gpointer                 user_data)
{
  SsqNetWs *ws = g_new0 (SsqNetWs, 1);

  ws->callbacks = cbs;
  ws->user_data = user_data;
  return ws;
}

static void
really_free (SsqNetWs *ws)
{
  if (ws->ctx != NULL)
    wslay_event_context_free (ws->ctx);
  g_free (ws);
}

void
ssq_net_ws_free (SsqNetWs *ws)
{
  if (ws == NULL)
    return;
  if (ws->feeding)
    ws->dead = TRUE;
  else
    really_free (ws);
}

/* ---- Input ------------------------------------------------------------ */

static void
pump_out (SsqNetWs *ws)
{
  if (ws->ctx != NULL && wslay_event_want_write (ws->ctx))
    wslay_event_send (ws->ctx);
}

gsize
ssq_net_ws_feed (SsqNetConn   *conn,
                 const guint8 *data,
                 gsize         length)
{
  SsqNetWs *ws = conn->ws;
  int r;

  ws->conn = conn;
  if (!ensure_context (ws))
    {
      ssq_net_conn_close (conn, SSQ_NET_CLOSE_ERROR);
      return length;
    }
  if (!wslay_event_want_read (ws->ctx))
    return length;     /* after a close: drop what follows */
  ws->in = data;
  ws->in_len = length;
  ws->in_used = 0;
  ws->feeding = TRUE;
  r = wslay_event_recv (ws->ctx);
  ws->feeding = FALSE;
  if (ws->dead)
    {
      really_free (ws);
      return length;
    }
  if (r != 0)
    {
      ssq_net_conn_close (conn, SSQ_NET_CLOSE_ERROR);
      return length;
    }
  pump_out (ws);
  if (wslay_event_get_close_received (ws->ctx))
    {
      /* wslay queued its answer; the connection ends once it is written. */
      ssq_net_conn_finish (conn);
      return length;
    }
  if (wslay_event_get_close_sent (ws->ctx) && !ws->closing)
    {
      /* wslay failed the connection itself (1009, 1002): wait for the
       * peer's answer a moment, reading. */
      ws->closing = TRUE;
      conn->linger_until = ssq_net_now_ms () + SSQ_NET_CLOSE_WAIT_MS;
    }
  release_if_idle (ws);
  return ws->in_used > 0 ? ws->in_used : (ws->closing ? length : 0);
}

/* ---- Output ----------------------------------------------------------- */

static ssize_t
frame_send_cb (const uint8_t *data,
               size_t         len,
               int            flags,
               void          *user_data)
{
  g_byte_array_append (*(GByteArray **) user_data, data, len);
  return len;
}

/**
 * ssq_net_ws_frame_text:
 * Builds one unmasked text frame, header and payload in one buffer, to be
 * queued as it is to any number of connections. Main thread only.
 */
GBytes *
ssq_net_ws_frame_text (const char *data,
                       gsize       length)
{
  static wslay_frame_context_ptr encoder;
  static GByteArray *target;
  struct wslay_frame_iocb iocb = {
    .fin = 1, .opcode = WSLAY_TEXT_FRAME, .payload_length = length,
    .data = (const uint8_t *) data, .data_length = length,
  };
  ssize_t r;

  if (encoder == NULL)
    {
      static const struct wslay_frame_callbacks cbs = { frame_send_cb, NULL, NULL };

      if (wslay_frame_context_init (&encoder, &cbs, &target) != 0)
        g_error ("Out of memory");
    }
  target = g_byte_array_sized_new (length + 10);
  r = wslay_frame_send (encoder, &iocb);
  g_assert (r == (ssize_t) length);
  return g_byte_array_free_to_bytes (g_steal_pointer (&target));
}

/**
 * ssq_net_ws_send:
 * Queues a frame from ssq_net_ws_frame_text(). Returns FALSE when the
 * connection no longer takes frames.
 */
gboolean
ssq_net_ws_send (SsqNetConn *conn,
                 GBytes     *frame)
{
  if (conn->mode != SSQ_NET_MODE_WEBSOCKET || conn->ws->closing)
    return FALSE;
  ssq_net_conn_queue (conn, frame);
  return TRUE;
}

/**
 * ssq_net_ws_close:
 * Starts the close handshake behind the frames already queued; the
 * connection is cut if the peer does not answer within 3 s.
 */
void
ssq_net_ws_close (SsqNetConn *conn,
                  gushort     code,
                  const char *reason)
{
  SsqNetWs *ws = conn->ws;

  if (conn->mode != SSQ_NET_MODE_WEBSOCKET || ws->closing)
    return;
  ws->conn = conn;
  if (!ensure_context (ws) ||
      wslay_event_queue_close (ws->ctx, code, (const uint8_t *) reason,
                               reason ? strlen (reason) : 0) != 0)
    {
      ssq_net_conn_close (conn, SSQ_NET_CLOSE_NORMAL);
      return;
    }
  pump_out (ws);
  ws->closing = TRUE;
  conn->linger_until = ssq_net_now_ms () + SSQ_NET_CLOSE_WAIT_MS;
  ssq_net_conn_rearm (conn);
}

gboolean
ssq_net_ws_closing (SsqNetConn *conn)
{
  return conn->ws != NULL && conn->ws->closing;
}

typedef struct {
  SsqNetConn              *conn;
  const SsqNetWsCallbacks *callbacks;
  gpointer                 user_data;
  gushort                  code;
  SsqNetCloseReason        reason;
} ClosedCall;

static gboolean
closed_idle_cb (gpointer data)
{
  ClosedCall *call = data;

  call->callbacks->closed (call->conn, call->code, call->reason, call->user_data);
  ssq_net_conn_unref (call->conn);
  g_free (call);
  return G_SOURCE_REMOVE;
}

/* The application hears of the end from the main loop, never from inside
 * one of its own calls (a send that cut a slow peer, say). */
void
ssq_net_ws_closed (SsqNetConn        *conn,
                   SsqNetCloseReason  reason)
{
  SsqNetWs *ws = conn->ws;
  ClosedCall *call = g_new0 (ClosedCall, 1);

  call->conn = ssq_net_conn_ref (conn);
  call->callbacks = ws->callbacks;
  call->user_data = ws->user_data;
  call->code = ws->peer_code ? ws->peer_code : 1006;
  call->reason = reason;
  g_idle_add_full (G_PRIORITY_DEFAULT, closed_idle_cb, call, NULL);
}
