/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-notify.h: readiness, status and watchdog pings for the service
 * manager (systemd's sd_notify protocol). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

void     ssq_server_notify_ready          (const char *url);
void     ssq_server_notify_stopping       (void);
guint    ssq_server_notify_watchdog_start (void);

G_END_DECLS
