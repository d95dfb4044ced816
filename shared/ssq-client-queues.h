/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-client-queues.h: the REST routes of queues (/api/v1/queues, see
 * shared/PROTOCOL.md, Queues) through SsqClient's session, for
 * supersoniq-cli. Replies are the protocol's JSON objects, to read with the
 * codec (ssq_wire_queue_decode, ssq_wire_queue_message_decode). */
#pragma once

#include <json-glib/json-glib.h>

#include "ssq-client.h"

G_BEGIN_DECLS

/* One call: @method on /api/v1/queues, or /api/v1/queues/@queue when
 * @queue is set, then /@action when set ("messages", "purge", "ack",
 * "nack"), then ?@query when set (already encoded). @body may be NULL. The
 * result is the reply's object. */
void        ssq_client_queue_call_async  (SsqClient          *self,
                                          const char         *method,
                                          const char         *queue,
                                          const char         *action,
                                          const char         *query,
                                          JsonObject         *body,
                                          GCancellable       *cancellable,
                                          GAsyncReadyCallback callback,
                                          gpointer            user_data);
JsonObject *ssq_client_queue_call_finish (SsqClient          *self,
                                          GAsyncResult       *result,
                                          GError            **error);

G_END_DECLS
