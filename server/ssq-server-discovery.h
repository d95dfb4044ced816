/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-discovery.h: the server announced on the LAN as a DNS-SD
 * service, _supersoniq._tcp, through the Avahi daemon. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _SsqServerDiscovery SsqServerDiscovery;

SsqServerDiscovery *ssq_server_discovery_new   (const char          *name,
                                                GInetAddress        *address,
                                                guint16              port,
                                                const char          *fingerprint);
void                ssq_server_discovery_free  (SsqServerDiscovery  *discovery);
void                ssq_server_discovery_set_fingerprint (SsqServerDiscovery *discovery,
                                                          const char         *fingerprint);
/* The name the service has now: @name, or an alternative after a
 * collision with another service on the LAN. NULL until announced. */
const char         *ssq_server_discovery_get_announced_name (SsqServerDiscovery *discovery);
/* Whether this build can announce at all (built with Avahi). */
gboolean            ssq_server_discovery_available (void);

char               *ssq_server_discovery_default_name (void);
gboolean            ssq_server_discovery_check_name   (const char  *name,
                                                       GError     **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsqServerDiscovery, ssq_server_discovery_free)

G_END_DECLS
