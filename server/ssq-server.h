/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server.h: the chat server: one object owning storage, sessions and the
 * HTTP/WebSocket listener. */
#pragma once

#include <gio/gio.h>
#include "ssq-server-config.h"

G_BEGIN_DECLS

#define SSQ_TYPE_SERVER (ssq_server_get_type ())
G_DECLARE_FINAL_TYPE (SsqServer, ssq_server, SSQ, SERVER, GObject)

SsqServer  *ssq_server_new        (SsqServerConfig  *config,
                                   GError          **error);
gboolean    ssq_server_listen     (SsqServer        *server,
                                   GError          **error);
const char *ssq_server_get_url    (SsqServer        *server);
const char *ssq_server_get_amqp_url (SsqServer      *server,
                                     gboolean        tls);
const char *ssq_server_get_local_url  (SsqServer    *server);
gboolean    ssq_server_get_discovery_on (SsqServer      *server);
const char *ssq_server_get_reach_hint (SsqServer    *server);
char       *ssq_server_reach_hint (GInetAddress     *address,
                                   guint16           port,
                                   gboolean          tls,
                                   char            **out_local_url);
const char *ssq_server_get_tls_fingerprint (SsqServer   *server,
                                            const char **out_pin);
const SsqServerConfig *ssq_server_get_config (SsqServer *server);
void        ssq_server_shutdown   (SsqServer        *server,
                                   GCallback         done,
                                   gpointer          user_data);

G_END_DECLS
