/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-tls.h: the server's certificate: made at first start (or given
 * in [tls]), its public key's fingerprint, and its reload on SIGHUP. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#include "ssq-server.h"

gboolean  ssq_server_tls_setup        (SsqServer     *server,
                                       GInetAddress  *listen,
                                       GError       **error);
gboolean  ssq_server_tls_reload       (SsqServer     *server,
                                       GError       **error);
char     *ssq_server_tls_fingerprint  (GBytes        *cert_pem,
                                       char         **out_pin,
                                       GError       **error);
gboolean  ssq_server_tls_make_self_signed (GInetAddress  *listen,
                                           const char    *name,
                                           GBytes       **out_cert_pem,
                                           GBytes       **out_key_pem,
                                           GError       **error);

G_END_DECLS
