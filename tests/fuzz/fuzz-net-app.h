/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz-net-app.h: what the transport fuzz targets share (see
 * fuzz-net-app.c): a server with a test application behind it, and the
 * loop that feeds one connection. */
#pragma once

#include <stdint.h>
#include <sys/socket.h>

#include "net/ssq-net-private.h"

G_BEGIN_DECLS

SsqNetServer *fuzz_net_app_server (const SsqNetLimits *limits);
void          fuzz_net_app_feed   (SsqNetServer       *server,
                                   int                 peer_fd,
                                   const uint8_t      *data,
                                   size_t              size);

G_END_DECLS
