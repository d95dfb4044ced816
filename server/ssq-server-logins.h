/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-logins.h: the live logins (sessions table rows) that requests
 * used lately, in memory: token hash -> user id and expiry. Every REST
 * request is authenticated; looking its token up in SQLite each time cost
 * more than serving a history page. An entry is added on a successful
 * lookup in the store, answers only until its expiry, and is dropped by
 * ssq_server_hub_end_sessions, which every path that ends a login (logout,
 * password change, account deletion, the purge of expired sessions) calls
 * once the row is gone. Bounded: when full it starts again empty. Main
 * thread only. */
#pragma once

#include <glib.h>

#include "ssq-server-auth.h"

G_BEGIN_DECLS

typedef struct _SsqServerLogins SsqServerLogins;

SsqServerLogins *ssq_server_logins_new    (guint            max_entries);
void             ssq_server_logins_free   (SsqServerLogins *self);
const char      *ssq_server_logins_lookup (SsqServerLogins *self,
                                           const guint8     hash[SSQ_TOKEN_HASH_BYTES],
                                           gint64           now);
void             ssq_server_logins_add    (SsqServerLogins *self,
                                           const guint8     hash[SSQ_TOKEN_HASH_BYTES],
                                           const char      *user_id,
                                           gint64           expires_at);
void             ssq_server_logins_forget (SsqServerLogins *self,
                                           const char      *user_id,
                                           GBytes          *token_hash,
                                           GBytes          *except_hash);
guint            ssq_server_logins_size   (SsqServerLogins *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsqServerLogins, ssq_server_logins_free)

G_END_DECLS
