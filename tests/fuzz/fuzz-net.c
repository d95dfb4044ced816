/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz-net.c: fuzz target for the server's transport glue: arbitrary bytes
 * through one real connection (a socketpair into the epoll loop), as HTTP
 * requests and, after an upgrade, as WebSocket frames echoed back. The
 * parsers are libraries; what is fuzzed is our use of them: limits,
 * pausing, pipelining, the switch to WebSocket, closing; and what the
 * application behind does by path (fuzz-net-app.c): bodies that stream,
 * refusals at the head, answers from a file or on a later iteration. */
#include "fuzz-net-app.h"

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
  int sv[2];

  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0)
    return 0;
  ssq_net_conn_new (s, sv[0], "fuzz", TRUE);
  fuzz_net_app_feed (s, sv[1], data, size);
  return 0;
}
