/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-queues.h: the broker's queues as REST and WebSocket see them
 * (shared/PROTOCOL.md, Queues): what both front ends share, messages to and
 * from JSON, broker errors as the protocol's, queues as JSON and as
 * /metrics lines. The REST routes are in ssq-server-api-queues.c, the
 * WebSocket frames in ssq-server-frames-queues.c. */
#pragma once

#include "ssq-server-private.h"

G_BEGIN_DECLS

/* A broker error (AMQP reply code) as the protocol's: 404 not_found, 403
 * and 405 forbidden, 406 conflict, 506 rate_limited for a count bound or
 * quota_exceeded (507) when max_memory is full, 540 not_implemented; other
 * domains are copied. The text stays the broker's. */
GError           *ssq_server_queues_error          (const GError              *error);

/* The principal of @user_id for a broker connection; FALSE with
 * SSQ_ERROR_UNAUTHORIZED when the account is gone. Free the strings with
 * ssq_server_queues_principal_clear. */
gboolean          ssq_server_queues_principal      (SsqServer                 *server,
                                                    const char                *user_id,
                                                    SsqBrokerPrincipal        *out,
                                                    GError                   **error);
void              ssq_server_queues_principal_clear (SsqBrokerPrincipal       *principal);

/* The broker, or NULL with SSQ_ERROR_FEATURE_DISABLED. */
SsqBroker        *ssq_server_queues_broker         (SsqServer                 *server,
                                                    GError                   **error);

/* A message to publish to @queue through the default exchange, from a
 * decoded REST body or queue_publish frame: body_base64 decoded, headers as
 * an AMQP field table, delivery-mode 2 unless persistent is false,
 * expiration from ttl_ms. Checks the body against max_message_size and
 * max_memory first (413, 507). */
SsqBrokerMessage *ssq_server_queues_message_new    (SsqBroker                 *broker,
                                                    const char                *queue,
                                                    const SsqWireQueuePublish *publish,
                                                    GError                   **error);
/* What a publish's outcome means for REST and WebSocket: NULL for ACK,
 * else the error to answer (404 no such queue, 429 queue full...). */
GError           *ssq_server_queues_outcome_error  (const char                *queue,
                                                    SsqBrokerPublishOutcome    outcome,
                                                    const GError              *error);

/* A delivery as the protocol's queue message object. */
JsonObject       *ssq_server_queues_delivery_json  (const SsqBrokerDelivery   *delivery);

/* Queue arguments from the wire (strings copied: clear them). */
void              ssq_server_queues_args_from_wire (const SsqWireQueueArgs    *wire,
                                                    SsqBrokerQueueArgs        *out);
/* A queue as the protocol's queue object; the owner's username is read
 * (and kept in @usernames, user id -> username, when not NULL: a listing
 * reads each owner once). */
JsonObject       *ssq_server_queues_info_json      (SsqServer                 *server,
                                                    const SsqBrokerQueueInfo  *info,
                                                    GHashTable                *usernames);
/* Who may see a queue in GET /queues: all but other users' exclusive ones. */
gboolean          ssq_server_queues_visible        (const SsqBrokerQueueInfo  *info,
                                                    const SsqBrokerPrincipal  *viewer);

/* Appends the per-queue gauges and counters to a /metrics page. */
void              ssq_server_queues_render_metrics (SsqServer                 *server,
                                                    GString                   *out);

/* The REST side's state: a broker connection and channel per user, the
 * long polls waiting (ssq-server-api-queues.c). Freed before the broker:
 * every long poll is answered with what it holds. */
SsqServerQueues  *ssq_server_queues_new            (SsqServer                 *server);
void              ssq_server_queues_free           (SsqServerQueues           *queues);

/* The bound of unacked deliveries of one channel ([broker]
 * max_unacked_per_channel): a subscription's prefetch is at most this. */
guint             ssq_server_queues_max_unacked    (SsqServer                 *server);

/* The WebSocket side (ssq-server-frames-queues.c): a session's queue
 * frames, in ssq-server-frames.c's table, and the session's queues ended
 * when it closes (unacked deliveries requeued). */
void ssq_server_frame_queue_publish     (SsqServerSession *session,
                                         JsonObject       *frame,
                                         JsonNode         *request_id,
                                         gint64            started_us);
void ssq_server_frame_queue_subscribe   (SsqServerSession *session,
                                         JsonObject       *frame,
                                         JsonNode         *request_id,
                                         gint64            started_us);
void ssq_server_frame_queue_unsubscribe (SsqServerSession *session,
                                         JsonObject       *frame,
                                         JsonNode         *request_id,
                                         gint64            started_us);
void ssq_server_frame_queue_ack         (SsqServerSession *session,
                                         JsonObject       *frame,
                                         JsonNode         *request_id,
                                         gint64            started_us);
void ssq_server_frame_queue_nack        (SsqServerSession *session,
                                         JsonObject       *frame,
                                         JsonNode         *request_id,
                                         gint64            started_us);
void ssq_server_session_queues_free     (SsqServerSessionQueues *queues);

G_END_DECLS
