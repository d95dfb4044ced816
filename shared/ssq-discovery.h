/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-discovery.h: servers found on the LAN (DNS-SD, _supersoniq._tcp,
 * through the Avahi daemon), as a list model and found/removed signals. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define SSQ_TYPE_DISCOVERED_SERVER (ssq_discovered_server_get_type ())
G_DECLARE_FINAL_TYPE (SsqDiscoveredServer, ssq_discovered_server, SSQ, DISCOVERED_SERVER, GObject)

const char *ssq_discovered_server_get_name         (SsqDiscoveredServer *server);
const char *ssq_discovered_server_get_service_name (SsqDiscoveredServer *server);
const char *ssq_discovered_server_get_host         (SsqDiscoveredServer *server);
const char *ssq_discovered_server_get_address      (SsqDiscoveredServer *server);
guint16     ssq_discovered_server_get_port         (SsqDiscoveredServer *server);
const char *ssq_discovered_server_get_fingerprint  (SsqDiscoveredServer *server);
const char *ssq_discovered_server_get_interface    (SsqDiscoveredServer *server);
char       *ssq_discovered_server_get_url          (SsqDiscoveredServer *server);

#define SSQ_TYPE_DISCOVERY (ssq_discovery_get_type ())
G_DECLARE_FINAL_TYPE (SsqDiscovery, ssq_discovery, SSQ, DISCOVERY, GObject)

gboolean      ssq_discovery_is_available       (void);
SsqDiscovery *ssq_discovery_new                (void);
gboolean      ssq_discovery_start              (SsqDiscovery  *discovery,
                                                GError       **error);
gboolean      ssq_discovery_get_daemon_running (SsqDiscovery  *discovery);
guint64       ssq_discovery_get_n_ignored      (SsqDiscovery  *discovery);
GPtrArray    *ssq_discovery_group_servers      (GListModel    *servers);

G_END_DECLS
