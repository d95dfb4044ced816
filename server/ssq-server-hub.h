/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-hub.h: who is connected where. Routes events to the sessions of
 * users and conversations, and keeps presence, typing and receipt state. */
#pragma once

#include "ssq-server-private.h"

G_BEGIN_DECLS

SsqServerHub *ssq_server_hub_new             (SsqServer        *server);
void          ssq_server_hub_free            (SsqServerHub     *hub);
gboolean      ssq_server_hub_attach          (SsqServerHub     *hub,
                                              SsqServerSession *session,
                                              GError          **error);
void          ssq_server_hub_detach          (SsqServerHub     *hub,
                                              SsqServerSession *session);
const char   *ssq_server_hub_presence        (SsqServerHub     *hub,
                                              const char       *user_id);
void          ssq_server_hub_set_presence    (SsqServerHub     *hub,
                                              const char       *user_id,
                                              const char       *status);
guint         ssq_server_hub_users_online    (SsqServerHub     *hub);
guint         ssq_server_hub_n_sessions      (SsqServerHub     *hub);
guint         ssq_server_hub_send_user       (SsqServerHub     *hub,
                                              const char       *user_id,
                                              GBytes           *frame);
gboolean      ssq_server_hub_wants_notifications (SsqServerHub *hub,
                                                  const char   *user_id);
void          ssq_server_hub_notify_user     (SsqServerHub     *hub,
                                              const char       *user_id,
                                              GBytes           *frame);
guint         ssq_server_hub_send_members    (SsqServerHub     *hub,
                                              GPtrArray        *members,
                                              const char       *except_user_id,
                                              GBytes           *frame);
void          ssq_server_hub_typing          (SsqServerHub     *hub,
                                              const char       *conversation_id,
                                              const char       *user_id,
                                              gboolean          active);
void          ssq_server_hub_receipt         (SsqServerHub     *hub,
                                              const char       *conversation_id,
                                              const char       *user_id,
                                              gboolean          include_self);
GPtrArray    *ssq_server_hub_sessions        (SsqServerHub     *hub);
guint         ssq_server_hub_end_sessions    (SsqServerHub     *hub,
                                              const char       *user_id,
                                              GBytes           *token_hash,
                                              GBytes           *except_hash,
                                              gushort           code,
                                              const char       *reason);

G_END_DECLS
