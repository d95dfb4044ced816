/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-session.h: one authenticated WebSocket connection. */
#pragma once

#include "ssq-server-private.h"

G_BEGIN_DECLS

#define SSQ_TYPE_SERVER_SESSION (ssq_server_session_get_type ())
G_DECLARE_FINAL_TYPE (SsqServerSession, ssq_server_session, SSQ, SERVER_SESSION, GObject)

SsqServerSession *ssq_server_session_new          (SsqServer               *server,
                                                   SoupWebsocketConnection *connection,
                                                   GSocket                 *socket,
                                                   const char              *user_id);
const char       *ssq_server_session_get_user_id  (SsqServerSession        *session);
const char       *ssq_server_session_get_id       (SsqServerSession        *session);
gboolean          ssq_server_session_is_open      (SsqServerSession        *session);
void              ssq_server_session_send         (SsqServerSession        *session,
                                                   const char              *frame,
                                                   gsize                    length);
void              ssq_server_session_close        (SsqServerSession        *session,
                                                   gushort                  code,
                                                   const char              *reason);
void              ssq_server_session_check_backlog (SsqServerSession       *session);

G_END_DECLS
