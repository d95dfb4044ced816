/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-amqp-server.h: the AMQP 0-9-1 listeners ([amqp] listen, and amqps on
 * [amqp] tls_listen), in the chat server's process and main loop, logging
 * in against its accounts and serving its broker. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _SsqAmqpServer SsqAmqpServer;
typedef struct _SsqServer     SsqServer;

SsqAmqpServer *ssq_amqp_server_new    (SsqServer      *server,
                                       GError        **error);
void           ssq_amqp_server_free   (SsqAmqpServer  *self);
/* Listens on @address (HOST:PORT); TLS with @cert_pem and @key_pem when
 * given. *out_url gets "amqp://HOST:PORT" (or amqps) with the bound port. */
gboolean       ssq_amqp_server_listen (SsqAmqpServer  *self,
                                       const char     *address,
                                       GBytes         *cert_pem,
                                       GBytes         *key_pem,
                                       char          **out_url,
                                       GError        **error);
/* New amqps connections get this pair (after a reload). */
gboolean       ssq_amqp_server_set_tls (SsqAmqpServer *self,
                                        GBytes        *cert_pem,
                                        GBytes        *key_pem,
                                        GError       **error);
/* Stops accepting and closes every connection (320 CONNECTION_FORCED). */
void           ssq_amqp_server_stop   (SsqAmqpServer  *self);
guint          ssq_amqp_server_n_connections (SsqAmqpServer *self);
/* Throttle pair -> the AMQP logins of that pair, one verifying at a time
 * (SsqServer holds it: logins outlive a stopped listener). */
GHashTable    *ssq_amqp_login_table_new (void);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsqAmqpServer, ssq_amqp_server_free)

G_END_DECLS
