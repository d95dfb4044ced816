/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-admin.h: administration while the server runs, through a Unix
 * socket in the data directory. Its file mode (0600, in a 0700 directory)
 * is the access control: whoever can connect is the server's
 * administrator. The wire: one JSON request per connection, one line of at
 * most SSQ_ADMIN_LINE_MAX bytes; one JSON answer line, then the server
 * closes. {"op": "users.list", ...} → {"ok": true, "result": ...} or
 * {"ok": false, "error": {"code", "message"}}. */
#pragma once

#include "ssq-server-private.h"

G_BEGIN_DECLS

#define SSQ_ADMIN_SOCKET_NAME     "admin.sock"
#define SSQ_ADMIN_LINE_MAX        (64 * 1024)
#define SSQ_ADMIN_TIMEOUT_S       30     /* a connection's whole life */
#define SSQ_ADMIN_CONNECTIONS_MAX 4

typedef struct _SsqAdminCall   SsqAdminCall;

SsqServerAdmin *ssq_server_admin_new   (SsqServer       *server,
                                        GError         **error);
void            ssq_server_admin_free  (SsqServerAdmin  *admin);
gint64          ssq_server_admin_uptime_s (SsqServerAdmin *admin);
void            ssq_server_admin_tighten_dir (const char *dir);

/* One request on its way. Its answer, given once, consumes it. */
SsqServer      *ssq_admin_call_server  (SsqAdminCall    *call);
JsonObject     *ssq_admin_call_request (SsqAdminCall    *call);
void            ssq_admin_call_reply   (SsqAdminCall    *call,
                                        JsonNode        *result);
void            ssq_admin_call_fail    (SsqAdminCall    *call,
                                        const GError    *error);

/* The operations (ssq-server-admin-ops.c): answers @call, now or later. */
void            ssq_server_admin_dispatch (SsqAdminCall *call);

/* Invites and account creation (ssq-server-admin-invites.c). */
void            ssq_admin_op_invites_create (SsqAdminCall *call);
void            ssq_admin_op_invites_list   (SsqAdminCall *call);
void            ssq_admin_op_invites_revoke (SsqAdminCall *call);
void            ssq_admin_op_users_create   (SsqAdminCall *call);

G_END_DECLS
