/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-broker.h: the message broker's core, shared by every front end (AMQP
 * channels, REST queues, WebSocket subscriptions, the chat bridge). One
 * vhost "/": exchanges, queues, bindings, messages, consumers and
 * unacknowledged deliveries, durable state kept through the server's
 * group-commit writer. It knows nothing of frames, HTTP or chat.
 *
 * Threading: every function runs on the main loop's thread (the
 * GMainContext the broker was made in), and so does every callback.
 *
 * Re-entrancy: no callback (deliver, publish-done, consumer-cancelled,
 * forced-close) ever runs from inside a call into the broker. Deliveries,
 * publish outcomes and cancellations are queued and dispatched from the
 * main loop, so a front end may answer a method (consume-ok, declare-ok…)
 * before the first delivery it causes, and may call the broker freely from
 * any callback.
 *
 * Errors: domain SSQ_BROKER_ERROR; the code IS the AMQP reply code and the
 * message the reply text, in RabbitMQ's style ("NOT_FOUND - no queue 'q' in
 * vhost '/'"), ready for channel.close / connection.close. Whether a code
 * closes the channel or the connection: ssq_broker_error_is_hard(). */
#pragma once

#include <glib.h>

#include "ssq-server-store.h"
#include "ssq-server-writer.h"

G_BEGIN_DECLS

/* ---------------------------------------------------------------- errors */

#define SSQ_BROKER_ERROR (ssq_broker_error_quark ())

typedef enum {
  SSQ_BROKER_ERROR_CONTENT_TOO_LARGE   = 311,
  SSQ_BROKER_ERROR_NO_ROUTE            = 312,  /* basic.return of a mandatory message */
  SSQ_BROKER_ERROR_CONNECTION_FORCED   = 320,  /* account deleted or disabled, server stopping */
  SSQ_BROKER_ERROR_ACCESS_REFUSED      = 403,
  SSQ_BROKER_ERROR_NOT_FOUND           = 404,
  SSQ_BROKER_ERROR_RESOURCE_LOCKED     = 405,
  SSQ_BROKER_ERROR_PRECONDITION_FAILED = 406,
  SSQ_BROKER_ERROR_COMMAND_INVALID     = 503,  /* e.g. unknown exchange type (connection level) */
  SSQ_BROKER_ERROR_RESOURCE_ERROR      = 506,  /* a [broker] bound reached, max_memory full */
  SSQ_BROKER_ERROR_NOT_ALLOWED         = 530,
  SSQ_BROKER_ERROR_NOT_IMPLEMENTED     = 540,
  SSQ_BROKER_ERROR_INTERNAL_ERROR      = 541,  /* the store failed */
} SsqBrokerError;

GQuark   ssq_broker_error_quark   (void);
/* TRUE for codes the AMQP 0-9-1 spec makes connection exceptions (320,
 * 503, 506, 530, 540, 541); FALSE for channel exceptions (403, 404, 405,
 * 406) and for 311/312 (basic.return codes, not exceptions). */
gboolean ssq_broker_error_is_hard (int code);
/* A 506 because max_memory is full (REST: 507), not a count bound (REST:
 * 429): every bound reached is 506 RESOURCE_ERROR, this tells them apart. */
gboolean ssq_broker_error_is_memory_full (const GError *error);

/* ----------------------------------------------------------------- types */

typedef struct _SsqBroker           SsqBroker;
typedef struct _SsqBrokerConnection SsqBrokerConnection;
typedef struct _SsqBrokerChannel    SsqBrokerChannel;
typedef struct _SsqBrokerMessage    SsqBrokerMessage;
typedef struct _SsqBrokerPending    SsqBrokerPending;

/* The [broker] bounds (ssq-server-config.h holds the same keys). 0 in any
 * field means its default, listed in README. */
typedef struct {
  guint    max_queues;                 /* 10000 */
  guint    max_queues_per_user;        /* 1000: queues owned by one user */
  guint    max_exchanges;              /* 1000 (the predeclared ones not counted) */
  guint    max_bindings;               /* 100000 */
  guint    max_bindings_per_user;      /* 1000: bindings one user made */
  guint64  max_message_size;           /* body bytes, 16 MiB, at most 128 MiB */
  guint64  max_memory;                 /* bytes of messages held in memory (bodies, properties, bookkeeping), all queues, 256 MiB */
  guint    max_unacked_per_channel;    /* 10000 */
  guint    max_consumers_per_channel;  /* 1000 */
  guint    max_consumers_per_connection; /* 2000 */
  guint    max_consumers;              /* 50000, all connections together */
} SsqBrokerLimits;

/* Who acts: set when a connection opens; copied. */
typedef struct {
  const char *user_id;
  const char *username;      /* what the user-id property must equal */
  gboolean    server_admin;  /* may delete and purge anyone's queues and exchanges */
} SsqBrokerPrincipal;

/* ------------------------------------------------------------- the broker */

/* @store is the main thread's (reading) connection, used only while loading;
 * every write goes through @writer. Loads durable exchanges, queues,
 * bindings and messages (messages delivered but unacknowledged before a
 * stop come back with redelivered set) and declares the predeclared
 * exchanges: "" (default, direct), amq.direct, amq.fanout, amq.topic,
 * amq.headers, amq.match. Both @store and @writer must outlive the broker. */
SsqBroker  *ssq_broker_new   (SsqServerStore          *store,
                              SsqServerWriter         *writer,
                              const SsqBrokerLimits   *limits,
                              GError                 **error);
/* Front ends free their connections first; any left are told here (320,
 * forced_closed runs synchronously, the only exception to the re-entrancy
 * rule) and freed if the callback did not. Pending durable changes are
 * committed (the writer is flushed) before it returns. */
void        ssq_broker_free  (SsqBroker               *broker);

/* An account was deleted (or disabled): its connections are force-closed
 * (320 CONNECTION_FORCED; forced_closed runs from the main loop, after this
 * returns), its auto-delete queues deleted (exclusive ones go with the
 * connections).
 * Its other queues and exchanges stay (shared work queues); their owner is
 * still its id, so only server admins may delete them. */
void        ssq_broker_user_gone (SsqBroker           *broker,
                                  const char          *user_id);

/* Before any byte of a body is kept: 406 PRECONDITION_FAILED over
 * max_message_size ("message size N is larger than configured max size M"),
 * 506 RESOURCE_ERROR when max_memory cannot hold it now. Front ends call it
 * with the content header's body-size; publish checks again. */
gboolean    ssq_broker_check_body_size (SsqBroker     *broker,
                                        guint64        body_size,
                                        GError       **error);

/* Bytes a front end holds before they are a message (a body being
 * received), counted in max_memory like the bodies in queues, so that
 * partial bodies cannot grow past it: 506 RESOURCE_ERROR (memory full) if
 * they do not fit now. Every reservation is given back with _unreserve. */
gboolean    ssq_broker_memory_reserve   (SsqBroker     *broker,
                                         guint64        bytes,
                                         GError       **error);
void        ssq_broker_memory_unreserve (SsqBroker     *broker,
                                         guint64        bytes);

/* -------------------------------------------------------------- messages */

/* Immutable, refcounted. @properties are the basic properties exactly as in
 * the AMQP content header after body-size (property flags, then the values:
 * server/amqp/ssq-amqp-table.h encodes and decodes them); NULL or empty
 * means none. They go out to consumers byte for byte as they came in,
 * except after dead-lettering (x-death added to headers, expiration
 * removed). The broker parses what it needs from them. */
SsqBrokerMessage *ssq_broker_message_new   (const char        *exchange,
                                            const char        *routing_key,
                                            GBytes            *properties,
                                            GBytes            *body);
SsqBrokerMessage *ssq_broker_message_ref   (SsqBrokerMessage  *message);
void              ssq_broker_message_unref (SsqBrokerMessage  *message);
/* A broker-wide id, unique across restarts (REST's "id"); 0 until published. */
guint64       ssq_broker_message_get_id          (SsqBrokerMessage *message);
const char   *ssq_broker_message_get_exchange    (SsqBrokerMessage *message);
const char   *ssq_broker_message_get_routing_key (SsqBrokerMessage *message);
GBytes       *ssq_broker_message_get_properties  (SsqBrokerMessage *message);  /* never NULL */
GBytes       *ssq_broker_message_get_body        (SsqBrokerMessage *message);  /* never NULL */
/* Parsed from the properties: */
guint8        ssq_broker_message_get_priority    (SsqBrokerMessage *message);  /* 0 if unset */
gboolean      ssq_broker_message_is_persistent   (SsqBrokerMessage *message);  /* delivery-mode 2 */
const char   *ssq_broker_message_get_content_type (SsqBrokerMessage *message); /* NULL if unset */
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsqBrokerMessage, ssq_broker_message_unref)

/* ----------------------------------------------------------- connections */

/* A connection is what owns exclusive queues: one AMQP connection, one
 * WebSocket session, or (for REST) one per user kept by the REST code.
 * @forced_closed runs when the broker ends it (ssq_broker_user_gone, or
 * ssq_broker_free): the front end must then close its transport and call
 * ssq_broker_connection_free, as for a close of its own. */
typedef void (*SsqBrokerForcedClosed) (SsqBrokerConnection *connection,
                                       const GError        *error,
                                       gpointer             user_data);

SsqBrokerConnection *ssq_broker_connection_new  (SsqBroker                *broker,
                                                 const SsqBrokerPrincipal *principal,
                                                 SsqBrokerForcedClosed     forced_closed,
                                                 gpointer                  user_data);
/* Frees every channel still open on it (as ssq_broker_channel_free) and
 * deletes its exclusive queues. */
void ssq_broker_connection_free (SsqBrokerConnection *connection);
const SsqBrokerPrincipal *ssq_broker_connection_get_principal (SsqBrokerConnection *connection);

/* --------------------------------------------------------------- channels */

/* One delivery: to a consumer (consumer_tag set) or answering a get
 * (consumer_tag NULL). Valid during the callback only. */
typedef struct {
  const char       *consumer_tag;    /* NULL for ssq_broker_get */
  guint64           delivery_tag;    /* per channel, from 1; also set for no-ack */
  gboolean          redelivered;     /* delivered before (to anyone) */
  guint32           delivery_count;  /* deliveries of this message from this queue, this one included */
  guint32           message_count;   /* get only: messages left ready in the queue */
  const char       *queue;
  SsqBrokerMessage *message;         /* borrowed: ref it to keep it */
} SsqBrokerDelivery;

typedef struct {
  /* A message for one of this channel's consumers. The front end sends it
   * at once (or queues it within its own bound and says so through
   * ssq_broker_channel_set_writable). */
  void (*deliver)            (SsqBrokerChannel        *channel,
                              const SsqBrokerDelivery *delivery,
                              gpointer                 user_data);
  /* The broker ended a consumer: its queue was deleted (by anyone) or
   * expired. AMQP sends basic.cancel (consumer_cancel_notify); not called
   * for cancels the front end asked for. */
  void (*consumer_cancelled) (SsqBrokerChannel        *channel,
                              const char              *consumer_tag,
                              gpointer                 user_data);
} SsqBrokerChannelCallbacks;

/* @callbacks is copied; callbacks may be NULL for channels that never
 * consume (e.g. a REST request that only publishes). */
SsqBrokerChannel *ssq_broker_channel_new  (SsqBrokerConnection             *connection,
                                           const SsqBrokerChannelCallbacks *callbacks,
                                           gpointer                         user_data);
/* Closing: consumers cancelled (no consumer_cancelled call), every unacked
 * delivery requeued with redelivered set, pending publish outcomes dropped
 * (their done callbacks never run; their user_data_free does). */
void              ssq_broker_channel_free (SsqBrokerChannel *channel);
SsqBrokerConnection *ssq_broker_channel_get_connection (SsqBrokerChannel *channel);

/* basic.qos. prefetch_size must be 0 (else 540 NOT_IMPLEMENTED, as
 * RabbitMQ). global FALSE: the count applies to each consumer created on
 * this channel afterwards (RabbitMQ's per-consumer QoS); global TRUE: to
 * all consumers of the channel together. 0 = unlimited. Both may be set. */
gboolean ssq_broker_channel_qos (SsqBrokerChannel *channel,
                                 guint32           prefetch_size,
                                 guint16           prefetch_count,
                                 gboolean          global,
                                 GError          **error);

/* Flow towards the client. set_writable (FALSE): the front end's send queue
 * is full; nothing more is delivered to this channel until set_writable
 * (TRUE). set_flow: channel.flow from the client, same effect, kept
 * apart so the two do not undo each other. Both start TRUE. */
void ssq_broker_channel_set_writable (SsqBrokerChannel *channel,
                                      gboolean          writable);
void ssq_broker_channel_set_flow     (SsqBrokerChannel *channel,
                                      gboolean          active);

/* Tells the outcomes of @channel's publishes that are known now, in
 * order, instead of at the broker's next turn: a front end whose client
 * sends methods in order calls it before each, so that a publish's
 * refusal (a channel error) comes before the answer to a later method. */
void ssq_broker_channel_tell_outcomes (SsqBrokerChannel *channel);

/* ------------------------------------------------------------- exchanges */

typedef enum {
  SSQ_BROKER_EXCHANGE_DIRECT,
  SSQ_BROKER_EXCHANGE_FANOUT,
  SSQ_BROKER_EXCHANGE_TOPIC,
  SSQ_BROKER_EXCHANGE_HEADERS,
} SsqBrokerExchangeType;

/* "direct", "fanout", "topic", "headers"; other types: 503 COMMAND_INVALID
 * "COMMAND_INVALID - unknown exchange type 'x'". @arguments: an encoded
 * field table (as on the wire, 4-byte length first) or NULL; kept, unused
 * (alternate-exchange not supported). Passive: 404 if absent, else OK
 * whatever the other settings. Redeclared with other type/durable/
 * auto_delete/internal: 406 "inequivalent arg 'type' for exchange ...".
 * Names "amq.*" and "supersoniq.*": 403 unless passive or equivalent to the
 * existing one. Owner: the channel's user. */
gboolean ssq_broker_exchange_declare (SsqBrokerChannel *channel,
                                      const char       *name,
                                      const char       *type,
                                      gboolean          passive,
                                      gboolean          durable,
                                      gboolean          auto_delete,
                                      gboolean          internal,
                                      GBytes           *arguments,
                                      GError          **error);
/* Absent: no error (RabbitMQ 3.10 deletes idempotently). 403 reserved
 * or not the owner (nor admin), 406 if_unused and bound as a source. Its
 * bindings go with it. */
gboolean ssq_broker_exchange_delete  (SsqBrokerChannel *channel,
                                      const char       *name,
                                      gboolean          if_unused,
                                      GError          **error);

/* ---------------------------------------------------------------- queues */

typedef enum {
  SSQ_BROKER_OVERFLOW_DROP_HEAD,       /* "drop-head" (default): oldest dropped, dead-lettered "maxlen" */
  SSQ_BROKER_OVERFLOW_REJECT_PUBLISH,  /* "reject-publish": the new one refused (nack) */
} SsqBrokerOverflow;

/* Queue arguments, parsed. A front end with a field table uses
 * ssq_broker_queue_args_parse; REST fills the struct. */
typedef struct {
  gint64             message_ttl_ms;    /* x-message-ttl; -1 = none; 0 allowed (expire unless delivered at once) */
  gint64             expires_ms;        /* x-expires: deleted after so long unused; -1 = none; else > 0 */
  gint64             max_length;        /* x-max-length: ready messages; -1 = none */
  SsqBrokerOverflow  overflow;          /* x-overflow */
  char              *dead_letter_exchange;     /* x-dead-letter-exchange; NULL = none ("" = default exchange) */
  char              *dead_letter_routing_key;  /* x-dead-letter-routing-key; NULL = the message's own */
  guint8             max_priority;      /* x-max-priority: 0 = none, 1..255; priorities above it count as it */
  guint32            max_deliveries;    /* x-max-deliveries: a message that comes back after so many
                                         * deliveries is dead-lettered ("delivery_limit") instead of
                                         * requeued. 0 = unset: 5 for leased (REST) deliveries,
                                         * unlimited for AMQP consumers, as RabbitMQ's classic queues */
} SsqBrokerQueueArgs;

void     ssq_broker_queue_args_init  (SsqBrokerQueueArgs *args);   /* all "none" */
void     ssq_broker_queue_args_clear (SsqBrokerQueueArgs *args);   /* frees the strings */
/* From queue.declare's arguments (an encoded field table, 4-byte length
 * first; NULL = none). Wrong types or values: 406 PRECONDITION_FAILED
 * "invalid arg 'x-max-length' for queue 'q' in vhost '/': ...". Unknown
 * arguments are ignored, as RabbitMQ does. */
gboolean ssq_broker_queue_args_parse (const char          *queue,
                                      GBytes              *table,
                                      SsqBrokerQueueArgs  *args,
                                      GError             **error);

typedef enum {
  SSQ_BROKER_QUEUE_PASSIVE     = 1 << 0,
  SSQ_BROKER_QUEUE_DURABLE     = 1 << 1,
  SSQ_BROKER_QUEUE_EXCLUSIVE   = 1 << 2,  /* belongs to the channel's connection; deleted with it */
  SSQ_BROKER_QUEUE_AUTO_DELETE = 1 << 3,  /* deleted when its last consumer is cancelled */
} SsqBrokerQueueFlags;

/* queue.declare. @name "" = server-named ("amq.gen-" + 22 random
 * characters); *out_name gets the name (free it). Passive: 404 if absent,
 * 405 if another connection's exclusive queue. Redeclared with other
 * durable/exclusive/auto_delete/arguments: 406 "inequivalent arg ...".
 * "amq.*" names: 403. Bounds: 506 past max_queues or max_queues_per_user.
 * @args NULL = none. Declaring counts as use for x-expires. */
gboolean ssq_broker_queue_declare (SsqBrokerChannel          *channel,
                                   const char                *name,
                                   SsqBrokerQueueFlags        flags,
                                   const SsqBrokerQueueArgs  *args,
                                   char                     **out_name,
                                   guint32                   *out_message_count,
                                   guint32                   *out_consumer_count,
                                   GError                   **error);
/* Absent: no error, count 0 (as RabbitMQ 3.10). 403 not the owner nor
 * admin, 405 another's exclusive queue,
 * 406 "PRECONDITION_FAILED - queue 'q' in vhost '/' in use" / "not empty".
 * Its consumers get consumer_cancelled; unacked deliveries are dropped. */
gboolean ssq_broker_queue_delete  (SsqBrokerChannel *channel,
                                   const char       *name,
                                   gboolean          if_unused,
                                   gboolean          if_empty,
                                   guint32          *out_message_count,
                                   GError          **error);
/* Ready messages removed (not unacked ones); 404 absent, 403/405 as
 * delete. */
gboolean ssq_broker_queue_purge   (SsqBrokerChannel *channel,
                                   const char       *name,
                                   guint32          *out_message_count,
                                   GError          **error);

/* queue.bind/unbind. @arguments: encoded field table or NULL (headers
 * exchanges read x-match all|any|all-with-x|any-with-x and the keys to
 * match). 404 no queue / no exchange, 403 the default exchange ("operation
 * not permitted on the default exchange"), 405 another's exclusive queue,
 * 506 past max_bindings, or past max_bindings_per_user made by the
 * channel's user (counted per binder). Binding twice is no error. Unbinding what is not
 * bound is no error (RabbitMQ 3.10). The binding records the channel's user
 * (the "binder", seen by special exchanges' filters). */
gboolean ssq_broker_queue_bind    (SsqBrokerChannel *channel,
                                   const char       *queue,
                                   const char       *exchange,
                                   const char       *routing_key,
                                   GBytes           *arguments,
                                   GError          **error);
gboolean ssq_broker_queue_unbind  (SsqBrokerChannel *channel,
                                   const char       *queue,
                                   const char       *exchange,
                                   const char       *routing_key,
                                   GBytes           *arguments,
                                   GError          **error);

/* -------------------------------------------------------------- publish */

typedef enum {
  SSQ_BROKER_PUBLISH_ACK,            /* taken (routed or, non-mandatory, dropped): basic.ack */
  SSQ_BROKER_PUBLISH_RETURN,         /* mandatory and not taken: basic.return with @error's code
                                      * and text (312 NO_ROUTE, or the special exchange's), then basic.ack */
  SSQ_BROKER_PUBLISH_NACK,           /* refused (x-overflow reject-publish, the store failed): basic.nack */
  SSQ_BROKER_PUBLISH_CHANNEL_ERROR,  /* a special exchange refused a non-mandatory publish:
                                      * close the channel with @error (403/404/406) */
  SSQ_BROKER_PUBLISH_LATER,          /* a special exchange refused it for now (a rate limit):
                                      * basic.nack under confirms, the channel left open for
                                      * a retry; without, as RETURN when mandatory, else as
                                      * CHANNEL_ERROR, with @error */
} SsqBrokerPublishOutcome;

/* Runs once per publish, on the main loop, in publish order per channel
 * (so confirms may use multiple=true), after the commit when the message is
 * persistent and went to a durable queue, otherwise as soon as routed.
 * @message is the published one (for basic.return); @error is set for
 * RETURN, NACK and CHANNEL_ERROR. */
typedef void (*SsqBrokerPublishDone) (SsqBrokerChannel        *channel,
                                      SsqBrokerPublishOutcome  outcome,
                                      SsqBrokerMessage        *message,
                                      const GError            *error,
                                      gpointer                 user_data);

/* basic.publish. @message's exchange and routing key are where it goes.
 * Synchronous refusals return FALSE (and @done never runs): 404 no
 * exchange, 403 internal exchange, 406 user-id not the login's username
 * ("user_id property set to 'x' but authenticated user was 'y'") or body
 * over max_message_size, 506 max_memory full. Otherwise TRUE and @done
 * (may be NULL) runs later. @user_data_free (may be NULL) runs after @done,
 * or when the channel closes before it. */
gboolean ssq_broker_publish (SsqBrokerChannel      *channel,
                             SsqBrokerMessage      *message,
                             gboolean               mandatory,
                             SsqBrokerPublishDone   done,
                             gpointer               user_data,
                             GDestroyNotify         user_data_free,
                             GError               **error);

/* For the server itself (the supersoniq.events feed): routes @message
 * through the exchange's bindings and filter, bypassing its publish
 * handler; fire and forget. Unknown exchange: nothing happens. */
void     ssq_broker_publish_internal (SsqBroker        *broker,
                                      SsqBrokerMessage *message);
/* The same for a message whose audience the server knows (supersoniq.events:
 * the members of the conversation): routed only through the bindings of
 * queues owned by @owner_ids (the exchange's filter is not asked), so its
 * cost grows with their bindings, not with everyone's. */
void     ssq_broker_publish_internal_to (SsqBroker          *broker,
                                         SsqBrokerMessage   *message,
                                         const char * const *owner_ids,
                                         guint               n_owners);

/* ------------------------------------------------------------- consumers */

typedef struct {
  const char *consumer_tag;  /* NULL or "" = server-made ("amq.ctag-…") */
  gboolean    no_ack;        /* deliveries count as acknowledged when sent */
  gboolean    exclusive;     /* no other consumer on the queue (403 either way) */
  guint32     lease_ms;      /* 0 = none; else an unacked delivery older than this is
                              * requeued (redelivered), its tag becomes unknown */
} SsqBrokerConsumeOptions;

/* REST long polling (GET …/messages?max=N&wait=S&lease=S) on the user's
 * channel: ssq_broker_get up to N times; if nothing came, qos(N, FALSE) and
 * consume with lease_ms, gather deliveries until N or the wait ends, then
 * cancel: what was delivered stays leased on the channel. WebSocket
 * subscribe with a prefetch: qos(prefetch, FALSE), then consume. */

/* basic.consume. 404 no queue, 405 another's exclusive queue, 403
 * "ACCESS_REFUSED - queue 'q' in vhost '/' in exclusive use", 530
 * NOT_ALLOWED "attempt to reuse consumer tag 'x'", 506 past
 * max_consumers_per_channel, max_consumers_per_connection or max_consumers
 * (checked before anything is made). *out_consumer_tag gets the tag (free it).
 * Prefetch: the channel's qos at this moment. Deliveries start only from
 * the main loop (after the front end has sent consume-ok). Round-robin
 * between the queue's consumers that have room. */
gboolean ssq_broker_consume (SsqBrokerChannel              *channel,
                             const char                    *queue,
                             const SsqBrokerConsumeOptions *options,
                             char                         **out_consumer_tag,
                             GError                       **error);
/* basic.cancel: unknown tags are no error (as RabbitMQ). Its unacked
 * deliveries stay on the channel. An auto-delete queue whose last consumer
 * goes is deleted. */
void     ssq_broker_cancel  (SsqBrokerChannel *channel,
                             const char       *consumer_tag);

/* Unacked deliveries of a channel never pass max_unacked_per_channel:
 * consumers simply get nothing more until acks come (like a prefetch). */

/* basic.get: TRUE and *out filled (out->message borrowed until the next
 * call into the broker on this channel: ref it to keep it), or TRUE with
 * out->message NULL when the queue is empty (get-empty). Errors as consume,
 * 506 past max_unacked_per_channel. @lease_ms as in SsqBrokerConsumeOptions. */
gboolean ssq_broker_get     (SsqBrokerChannel  *channel,
                             const char        *queue,
                             gboolean           no_ack,
                             guint32            lease_ms,
                             SsqBrokerDelivery *out,
                             GError           **error);

/* basic.ack. @multiple: every unacked delivery up to @delivery_tag
 * (@delivery_tag 0 with @multiple: all). Unknown tag: 406
 * "PRECONDITION_FAILED - unknown delivery tag N" (AMQP closes the channel;
 * REST reports it). */
gboolean ssq_broker_ack     (SsqBrokerChannel *channel,
                             guint64           delivery_tag,
                             gboolean          multiple,
                             GError          **error);
/* basic.nack / basic.reject (= nack without multiple). requeue: back to
 * the queue in its original place, redelivered set (or dead-lettered
 * "delivery_limit" past x-max-deliveries); not: dead-lettered ("rejected")
 * when the queue has x-dead-letter-exchange, else dropped. */
gboolean ssq_broker_nack    (SsqBrokerChannel *channel,
                             guint64           delivery_tag,
                             gboolean          multiple,
                             gboolean          requeue,
                             GError          **error);
/* basic.recover: requeue TRUE puts every unacked delivery of the channel
 * back (redelivered); FALSE: 540 NOT_IMPLEMENTED, as RabbitMQ. */
gboolean ssq_broker_recover (SsqBrokerChannel *channel,
                             gboolean          requeue,
                             GError          **error);

/* ------------------------------------------------------ special exchanges */

/* Takes over publishes to its exchange (supersoniq.chat): queue routing is
 * skipped. Must end each with ssq_broker_pending_complete, at once or
 * later (it then holds @pending). @publisher is valid until then. */
typedef void     (*SsqBrokerPublishHandler) (SsqBroker                *broker,
                                             const SsqBrokerPrincipal *publisher,
                                             SsqBrokerMessage         *message,
                                             SsqBrokerPending         *pending,
                                             gpointer                  user_data);
/* Decides per binding whether a message routed through its exchange
 * (supersoniq.events) reaches the queue, given the user who bound it. */
typedef gboolean (*SsqBrokerBindingFilter)  (const char               *binder_user_id,
                                             SsqBrokerMessage         *message,
                                             gpointer                  user_data);

/* Declares the exchange (durable in effect, reserved name, owned by the
 * server: nobody may delete it) with hooks; either may be NULL. A NULL
 * @handler means ordinary publishes route through bindings (then filtered);
 * to forbid client publishes, give a handler that completes with 403. */
void ssq_broker_add_special_exchange (SsqBroker               *broker,
                                      const char              *name,
                                      SsqBrokerExchangeType    type,
                                      SsqBrokerPublishHandler  handler,
                                      SsqBrokerBindingFilter   filter,
                                      gpointer                 user_data,
                                      GDestroyNotify           user_data_free);
/* @error NULL: taken (ACK outcome, after the handler's own commit, which it
 * waits for before completing); else the outcome is RETURN with @error if
 * the publish was mandatory, CHANNEL_ERROR otherwise. Consumes @pending.
 * Safe after the publishing channel closed. */
void ssq_broker_pending_complete (SsqBrokerPending *pending,
                                  const GError     *error);
/* Refused for now, @error saying why and when to try again: the outcome is
 * LATER. Consumes @pending. */
void ssq_broker_pending_refuse_for_now (SsqBrokerPending *pending,
                                        const GError     *error);
/* Whether the publish was mandatory: a handler then words its refusal for
 * basic.return (312 NO_ROUTE) rather than for a channel error. */
gboolean ssq_broker_pending_is_mandatory (SsqBrokerPending *pending);
/* Whether any queue is bound to @exchange (FALSE for an unknown one): lets
 * the server skip building what ssq_broker_publish_internal would drop. */
gboolean ssq_broker_exchange_has_bindings (SsqBroker  *broker,
                                           const char *exchange);
/* Whether a queue owned by @owner_id is bound to @exchange. */
gboolean ssq_broker_exchange_has_bindings_of (SsqBroker  *broker,
                                              const char *exchange,
                                              const char *owner_id);

/* ------------------------------------------------------------ statistics */

typedef struct {
  char              *name;
  char              *owner_id;        /* NULL for server-owned */
  gboolean           durable;
  gboolean           exclusive;
  gboolean           auto_delete;
  SsqBrokerQueueArgs args;
  guint64            ready;           /* depth: messages waiting */
  guint64            unacked;         /* delivered, not acknowledged */
  guint64            ready_bytes;     /* body bytes of the ready messages */
  guint              consumers;
  /* Counters since the broker started (not persisted): */
  guint64            published;       /* messages that entered the queue */
  guint64            delivered;       /* deliveries and gets, redeliveries included */
  guint64            acknowledged;
  guint64            redelivered;
  guint64            dead_lettered;   /* left it dead-lettered (any reason) */
  guint64            expired;         /* TTL, dead-lettered or dropped */
  guint64            dropped;         /* drop-head or reject-publish */
  /* Per second, averaged over the last minute: */
  double             published_rate;
  double             delivered_rate;
  double             acknowledged_rate;
} SsqBrokerQueueInfo;

void                ssq_broker_queue_info_free (SsqBrokerQueueInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsqBrokerQueueInfo, ssq_broker_queue_info_free)
/* One queue, whoever asks (no ownership check): 404 if absent. */
SsqBrokerQueueInfo *ssq_broker_queue_info  (SsqBroker  *broker,
                                            const char *name,
                                            GError    **error);
/* Every queue, by name; free with g_ptr_array_unref. */
GPtrArray          *ssq_broker_list_queues (SsqBroker  *broker);

typedef struct {
  guint   queues;
  guint   exchanges;       /* declared ones, predeclared not counted */
  guint   bindings;
  guint   connections;
  guint   channels;
  guint   consumers;
  guint64 memory_bytes;    /* bytes of messages held, all queues (max_memory's measure) */
  guint64 writer_ops;      /* operations handed to the writer since start */
  guint64 bindings_examined; /* bindings routing looked at since start: what routing costs */
  guint64 internal_dropped;  /* messages of the server's own (events) not queued since start:
                              * max_memory reached */
} SsqBrokerStats;

void ssq_broker_get_stats (SsqBroker      *broker,
                           SsqBrokerStats *stats);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsqBroker, ssq_broker_free)

G_END_DECLS
