/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-log.h: where the server's log lines go, and which are shown. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

void ssq_server_log_init (void);

G_END_DECLS
