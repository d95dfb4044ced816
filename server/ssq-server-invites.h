/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-invites.h: making invites and their links, for the REST
 * routes (ssq-server-api-invites.c) and the administration socket alike. */
#pragma once

#include "ssq-server-private.h"

G_BEGIN_DECLS

#define SSQ_INVITE_USES_DEFAULT      1
#define SSQ_INVITE_USES_MAX          1000
#define SSQ_INVITE_EXPIRES_DEFAULT_S (7 * 86400)
#define SSQ_INVITE_EXPIRES_MAX_S     (366 * 86400)

/* @invite: the wire's invite object with token and link (transfer full),
 * or NULL with @error. */
typedef void (*SsqInviteMadeFunc) (SsqServer    *server,
                                   JsonObject   *invite,
                                   const GError *error,
                                   gpointer      user_data);

gboolean    ssq_server_invite_check_args (gint64             uses,
                                          gint64             expires_in_s,
                                          GError           **error);
void        ssq_server_invite_create     (SsqServer         *server,
                                          const char        *created_by,
                                          gint64             uses,
                                          gint64             expires_in_s,
                                          const char        *request_host,
                                          SsqInviteMadeFunc  done,
                                          gpointer           user_data);
char       *ssq_server_invite_link       (SsqServer         *server,
                                          const char        *token,
                                          const char        *request_host);
gboolean    ssq_server_check_public_address (const char     *address,
                                             GError        **error);

G_END_DECLS
