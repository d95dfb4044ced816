/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-broker-bridge.h: where the broker meets conversations. Two
 * exchanges the server owns: supersoniq.chat, whose publishes become chat
 * messages of the publisher, and supersoniq.events, which carries every
 * new, edited and deleted message to the queues its members bound. The
 * wire format is shared/PROTOCOL.md's "Bridge to conversations". */
#pragma once

#include "ssq-server-private.h"

G_BEGIN_DECLS

#define SSQ_BRIDGE_CHAT_EXCHANGE   "supersoniq.chat"
#define SSQ_BRIDGE_EVENTS_EXCHANGE "supersoniq.events"

/* Declares both exchanges on server->broker (reserved: nobody deletes or
 * redeclares them). Call once, after the broker is made. */
void ssq_server_broker_bridge_start   (SsqServer           *server);

/* A message event (new, edited or deleted) was told to the members'
 * sessions as @frame (the WebSocket frame, built once): the same JSON goes
 * to the queues bound to supersoniq.events by members. Costs one lookup
 * when nothing is bound there. */
void ssq_server_broker_bridge_message (SsqServer           *server,
                                       const SsqMessageRow *message,
                                       gboolean             is_new,
                                       GBytes              *frame);

G_END_DECLS
