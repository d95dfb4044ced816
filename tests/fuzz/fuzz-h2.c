/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz-h2.c: fuzz target for the server's HTTP/2 (ssq-net-h2.c,
 * ssq-net-h2-answer.c): arbitrary bytes through one real connection (a
 * socketpair into the epoll loop) as they reach nghttp2 after a TLS
 * handshake whose ALPN chose h2: the client preface, then frames. nghttp2
 * is a library; what is fuzzed is our use of it: the header callbacks and
 * their limits, bodies in memory and streaming to sinks (full, refusing),
 * flow-control windows given back, refusals, resets (ours and the peer's,
 * rapid ones), CONTINUATION floods, requests held by the application and
 * answered after their stream or connection is gone, answers from files,
 * GOAWAY. The application is fuzz-net-app.c's, chosen by :path. The
 * limits are small so that inputs reach them. */
#include "fuzz-net-app.h"

#include <unistd.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static SsqNetServer *
server (void)
{
  static SsqNetServer *the_server;

  if (the_server == NULL)
    {
      SsqNetLimits limits = {
        .max_connections = 16, .max_connections_per_address = 16,
        .max_header_size = 2048, .max_headers = 16, .header_timeout = 5, .idle_timeout = 5,
        .max_body_size = 4096, .max_message_size = 4096, .send_queue_max = 65536,
        .max_streams = 4, .max_requests_in_flight = 2,
      };

      the_server = fuzz_net_app_server (&limits);
    }
  return the_server;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  SsqNetServer *s = server ();
  SsqNetConn *conn;
  int sv[2];

  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0)
    return 0;
  /* As the handshake leaves it when ALPN chose h2 (ssq-net-conn.c), with
   * the bytes read plain: TLS's records are not what is fuzzed here. */
  conn = ssq_net_conn_new (s, sv[0], "fuzz", TRUE);
  if (conn == NULL || !ssq_net_h2_start (conn))
    {
      close (sv[1]);
      ssq_net_server_close_all (s);
      return 0;
    }
  conn->mode = SSQ_NET_MODE_HTTP2;
  g_clear_pointer (&conn->http, ssq_net_http_free);
  fuzz_net_app_feed (s, sv[1], data, size);
  return 0;
}
