/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-session.h: one authenticated WebSocket session: its state, and
 * the way frames go out to it. What each incoming frame does is in
 * ssq-server-frames.c; the bytes are the transport's (net/). */
#pragma once

#include "ssq-server-private.h"

G_BEGIN_DECLS

#define SSQ_TYPE_SERVER_SESSION (ssq_server_session_get_type ())
G_DECLARE_FINAL_TYPE (SsqServerSession, ssq_server_session, SSQ, SERVER_SESSION, GObject)

SsqServerSession *ssq_server_session_new          (SsqServer        *server,
                                                   SsqNetRequest    *upgrade,
                                                   const char       *user_id,
                                                   GBytes           *token_hash,
                                                   gboolean          derive_notifications);
const char       *ssq_server_session_get_user_id  (SsqServerSession *session);
GBytes           *ssq_server_session_get_token_hash (SsqServerSession *session);
const char       *ssq_server_session_get_id       (SsqServerSession *session);
gboolean          ssq_server_session_is_open      (SsqServerSession *session);
gboolean          ssq_server_session_derives_notifications (SsqServerSession *session);
void              ssq_server_session_send         (SsqServerSession *session,
                                                   GBytes           *frame);
void              ssq_server_session_send_object  (SsqServerSession *session,
                                                   JsonObject       *object);
void              ssq_server_session_send_error   (SsqServerSession *session,
                                                   JsonNode         *request_id,
                                                   const GError     *error);
void              ssq_server_session_close        (SsqServerSession *session,
                                                   gushort           code,
                                                   const char       *reason);
void              ssq_server_session_request_begin (SsqServerSession *session);
void              ssq_server_session_request_end  (SsqServerSession *session);

G_END_DECLS
