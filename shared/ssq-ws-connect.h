/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-ws-connect.h: opens the client's WebSocket by a handshake of our own,
 * so that the client owns the stream under it and can bound what it reads. */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

gboolean                 ssq_ws_connect_check  (const char          *url,
                                                const char          *token,
                                                GError             **error);
void                     ssq_ws_connect_async  (const char          *url,
                                                const char          *token,
                                                const char          *user_agent,
                                                guint64              message_max,
                                                const char          *known_servers,
                                                GCancellable        *cancellable,
                                                GAsyncReadyCallback  callback,
                                                gpointer             user_data);
SoupWebsocketConnection *ssq_ws_connect_finish (GAsyncResult        *result,
                                                GError             **error);

G_END_DECLS
