/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-broker-private.h: what the broker's files share. The broker owns
 * exchanges and queues by name; a queue holds entries (a message's place
 * in that queue) in priority levels kept in seq order, so a requeued entry
 * goes back where it was; a channel holds the entries delivered to it and
 * not yet acknowledged. Durable changes are gathered in a journal that one
 * writer operation commits per main-loop turn. */
#pragma once

#include "ssq-broker.h"
#include "amqp/ssq-amqp-table.h"

G_BEGIN_DECLS

typedef struct _SsqBrokerExchange SsqBrokerExchange;
typedef struct _SsqBrokerQueue    SsqBrokerQueue;
typedef struct _SsqBrokerBinding  SsqBrokerBinding;
typedef struct _SsqBrokerConsumer SsqBrokerConsumer;
typedef struct _SsqBrokerEntry    SsqBrokerEntry;
typedef struct _SsqBrokerUnacked  SsqBrokerUnacked;
typedef struct _SsqBrokerJournal  SsqBrokerJournal;
typedef struct _SsqBrokerOutcome  SsqBrokerOutcome;

#define SSQ_BROKER_DEFAULT_MAX_DELIVERIES 5
#define SSQ_BROKER_NAME_MAX 255
/* What one queue entry costs max_memory: the entry, its GQueue link, and
 * glibc's overhead for the two allocations (~100 bytes). */
#define SSQ_BROKER_ENTRY_COST (sizeof (SsqBrokerEntry) + sizeof (GList) + 2 * 16)

struct _SsqBrokerMessage {
  gint              ref_count;
  guint64           id;
  char             *exchange;
  char             *routing_key;
  GBytes           *properties;
  GBytes           *body;
  /* Parsed from the properties: */
  SsqAmqpProperties *props;        /* NULL when they did not parse */
  gint64            expiration_ms; /* -1: none */
  guint             entries;       /* queue entries holding it (memory is counted while > 0) */
  guint64           cost;          /* in max_memory's measure; 0: not reckoned yet */
  guint             stored_refs;   /* rows of broker_queue_messages naming it */
  gboolean          stored;        /* its broker_messages row exists (or is journalled) */
};

/* A per-second counter over the last minute. */
typedef struct {
  gint64  second[60];
  guint64 count[60];
} SsqBrokerRate;

void   ssq_broker_rate_add (SsqBrokerRate *rate, gint64 now_s, guint64 n);
double ssq_broker_rate_get (const SsqBrokerRate *rate, gint64 now_s);

struct _SsqBrokerEntry {
  SsqBrokerMessage *message;
  guint64           seq;           /* place in the queue */
  gint64            expires_at;    /* real time, µs; 0 = never */
  guint32           deliveries;
  guint8            level;         /* priority level in the queue */
  gboolean          ttl_zero;      /* TTL 0: only if a consumer takes it at once */
  gboolean          stored;        /* has a row in broker_queue_messages */
};

struct _SsqBrokerQueue {
  gint                ref_count;
  SsqBroker          *broker;
  char               *name;
  char               *owner_id;
  gboolean            durable;
  gboolean            auto_delete;
  SsqBrokerConnection *exclusive_to;  /* NULL: not exclusive */
  SsqBrokerQueueArgs  args;
  gboolean            deleted;
  GQueue             *levels;         /* max_priority + 1 GQueues of SsqBrokerEntry, seq order */
  guint               n_levels;
  guint64             ready;
  guint64             ready_bytes;
  guint64             unacked;
  guint64             next_seq;
  GPtrArray          *consumers;      /* SsqBrokerConsumer * (not owned) */
  guint               rr;             /* round-robin cursor */
  gboolean            exclusive_consumer;
  gboolean            private_events;  /* bound to a filtered exchange: its owner alone reads it */
  GPtrArray          *bindings;       /* SsqBrokerBinding * (not owned: the exchange's) */
  guint               ttl_source;
  gint64              ttl_deadline;
  guint               expires_source;
  gboolean            dirty;          /* in broker->dirty: dispatch pending */
  /* Statistics */
  guint64             n_published, n_delivered, n_acked, n_redelivered;
  guint64             n_dead_lettered, n_expired, n_dropped;
  SsqBrokerRate       rate_published, rate_delivered, rate_acked;
};

struct _SsqBrokerBinding {
  SsqBrokerExchange *exchange;
  SsqBrokerQueue    *queue;
  char              *routing_key;
  GBytes            *arguments;      /* encoded table, never NULL (empty: none) */
  SsqAmqpTable      *args_table;     /* parsed, NULL when none */
  char              *binder_id;
  char             **words;          /* topic: routing key split at '.' */
};

struct _SsqBrokerExchange {
  char                  *name;
  SsqBrokerExchangeType  type;
  gboolean               durable;
  gboolean               auto_delete;
  gboolean               internal;
  gboolean               reserved;   /* predeclared or special: nobody deletes it */
  char                  *owner_id;
  GBytes                *arguments;
  GPtrArray             *bindings;   /* SsqBrokerBinding *, owned */
  /* The same bindings by their queue's owner ("" for none): a message for a
   * known audience (supersoniq.events: a conversation's members) visits
   * only theirs. Values: GPtrArray of SsqBrokerBinding * (not owned). */
  GHashTable            *by_owner;
  SsqBrokerPublishHandler handler;
  SsqBrokerBindingFilter filter;
  gpointer               hook_data;
  GDestroyNotify         hook_data_free;
};

struct _SsqBrokerConsumer {
  char             *tag;
  SsqBrokerChannel *channel;
  SsqBrokerQueue   *queue;
  gboolean          no_ack;
  gboolean          exclusive;
  guint32           lease_ms;
  guint             prefetch;        /* 0 = unlimited */
  guint             unacked;
};

struct _SsqBrokerUnacked {
  guint64            tag;
  SsqBrokerChannel  *channel;
  SsqBrokerQueue    *queue;           /* a reference */
  SsqBrokerEntry    *entry;           /* owned */
  SsqBrokerConsumer *consumer;        /* NULL: a get, or cancelled since */
  guint              lease_source;
  gboolean           leased;
  GList             *link;            /* in channel->unacked */
};

struct _SsqBrokerConnection {
  SsqBroker            *broker;
  SsqBrokerPrincipal    principal;    /* strings owned */
  SsqBrokerForcedClosed forced_closed;
  gpointer              user_data;
  GPtrArray            *channels;     /* SsqBrokerChannel * (not owned) */
  GPtrArray            *exclusive;    /* SsqBrokerQueue * (not owned) */
  guint                 n_consumers;  /* of all its channels */
  gboolean              forced;       /* a forced close is on its way */
};

struct _SsqBrokerChannel {
  gint                  ref_count;
  gboolean              closed;
  SsqBroker            *broker;
  SsqBrokerConnection  *connection;
  SsqBrokerChannelCallbacks callbacks;
  gpointer              user_data;
  guint64               next_tag;
  GQueue                unacked;      /* SsqBrokerUnacked *, tag order */
  GHashTable           *by_tag;       /* guint64 * -> SsqBrokerUnacked * */
  GHashTable           *consumers;    /* tag -> SsqBrokerConsumer * (owned) */
  guint                 prefetch_consumer;  /* for consumers made from now on */
  guint                 prefetch_global;
  guint                 unacked_counted;    /* deliveries counted against the global prefetch */
  gboolean              writable;
  gboolean              flow;
  GQueue                outcomes;     /* SsqBrokerOutcome *, publish order */
  SsqBrokerMessage     *last_get;     /* keeps ssq_broker_get's answer alive */
};

/* A publish waiting for its outcome to be told. */
struct _SsqBrokerOutcome {
  SsqBrokerChannel       *channel;    /* a reference; NULL once the channel closed */
  SsqBrokerMessage       *message;
  SsqBrokerPublishOutcome outcome;
  GError                 *error;
  gboolean                ready;
  guint                   waiting;    /* commits or handlers still to come */
  gboolean                mandatory;
  SsqBrokerPublishDone    done;
  gpointer                user_data;
  GDestroyNotify          user_data_free;
};

struct _SsqBrokerPending {
  SsqBroker        *broker;
  SsqBrokerOutcome *outcome;
  SsqBrokerPrincipal publisher;       /* strings owned */
};

struct _SsqBroker {
  SsqServerStore   *store;
  SsqServerWriter  *writer;
  SsqBrokerLimits   limits;
  GHashTable       *exchanges;        /* name -> SsqBrokerExchange * (owned) */
  GHashTable       *queues;           /* name -> SsqBrokerQueue * (a reference) */
  GHashTable       *queues_per_user;  /* owner id -> count */
  GHashTable       *bindings_per_user; /* binder id -> count (guint *) */
  GPtrArray        *connections;      /* SsqBrokerConnection * (not owned) */
  guint             n_exchanges;      /* declared by users */
  guint             n_bindings;
  guint             n_channels;
  guint             n_consumers;
  guint64           memory;
  guint64           next_message_id;
  guint64           writer_ops;
  guint64           bindings_examined;
  guint64           internal_dropped;
  /* Work for the main loop: */
  guint             idle_source;
  GPtrArray        *dirty;            /* SsqBrokerQueue * (references) to dispatch */
  GQueue            cancelled;        /* CancelNote * */
  GQueue            forced;           /* SsqBrokerConnection * to tell */
  GPtrArray         *outcome_channels; /* SsqBrokerChannel * (references) with outcomes ready */
  SsqBrokerJournal *journal;          /* being gathered; NULL: nothing */
  guint             in_flight;        /* journals handed to the writer, not done */
  /* After a failed commit the rows no longer match memory: a snapshot of
   * everything is written (ssq-broker-store.c), and until one commits, the
   * outcomes of journals that did commit are held, not told. */
  guint64           journal_seq;      /* journals submitted */
  guint64           resync_after;     /* 0, or the last failed journal: out of sync */
  guint64           snapshot_seq;     /* the last snapshot submitted */
  gboolean          need_snapshot;
  gboolean          snapshot_in_flight;
  guint             resync_source;    /* a failed snapshot is tried again a second later */
  GPtrArray        *held;             /* SsqBrokerOutcome * committed while out of sync */
  gboolean          closing;          /* freeing: memory goes, the store keeps everything */
};

/* ssq-broker.c */
void     ssq_broker_schedule       (SsqBroker *broker);
void     ssq_broker_queue_dirty    (SsqBroker *broker, SsqBrokerQueue *queue);
void     ssq_broker_set_error      (GError **error, int code, const char *format, ...) G_GNUC_PRINTF (3, 4);
gboolean ssq_broker_may_manage     (SsqBrokerConnection *connection, const char *owner_id);
void     ssq_broker_channel_ref    (SsqBrokerChannel *channel);
void     ssq_broker_channel_unref  (SsqBrokerChannel *channel);
void     ssq_broker_note_cancelled (SsqBroker *broker, SsqBrokerChannel *channel, const char *tag);
guint64  ssq_broker_message_cost   (SsqBrokerMessage *message);
gboolean ssq_broker_memory_check   (SsqBroker *broker, guint64 bytes, GError **error);
gboolean ssq_broker_memory_check_entries (SsqBroker *broker, SsqBrokerMessage *message, guint n_entries,
                                          guint64 freed, GError **error);
void     ssq_broker_memory_hold    (SsqBroker *broker, SsqBrokerMessage *message);
void     ssq_broker_memory_release (SsqBroker *broker, SsqBrokerMessage *message);
gint64   ssq_broker_now            (void);
/* @prefix and 22 random URL-safe base64 characters, as RabbitMQ makes the
 * names it chooses ("amq.gen-…" queues, "amq.ctag-…" consumer tags). */
char    *ssq_broker_random_name    (const char *prefix);

/* ssq-broker-message.c */
SsqBrokerMessage *ssq_broker_message_new_loaded (guint64 id, const char *exchange, const char *routing_key,
                                                 GBytes *properties, GBytes *body);
gboolean          ssq_broker_message_parse      (SsqBrokerMessage *message, GError **error);
SsqBrokerMessage *ssq_broker_message_dead_letter (SsqBrokerMessage *message,
                                                  const char *queue,
                                                  const char *reason,
                                                  const char *dlx,
                                                  const char *dlrk);
/* Whether the message's x-death already names @queue (a dead-letter cycle). */
gboolean          ssq_broker_message_died_in    (SsqBrokerMessage *message, const char *queue);

/* ssq-broker-exchange.c */
void               ssq_broker_exchanges_init    (SsqBroker *broker);
SsqBrokerExchange *ssq_broker_exchange_lookup   (SsqBroker *broker, const char *name);
void               ssq_broker_exchange_free     (SsqBrokerExchange *exchange);
SsqBrokerExchange *ssq_broker_exchange_insert   (SsqBroker *broker, const char *name, SsqBrokerExchangeType type,
                                                 gboolean durable, gboolean auto_delete, gboolean internal,
                                                 const char *owner_id, GBytes *arguments);
SsqBrokerBinding  *ssq_broker_binding_add       (SsqBroker *broker, SsqBrokerExchange *exchange, SsqBrokerQueue *queue,
                                                 const char *routing_key, GBytes *arguments, const char *binder_id,
                                                 gboolean *out_new, GError **error);
void               ssq_broker_binding_remove    (SsqBroker *broker, SsqBrokerBinding *binding, gboolean journal);
/* Queues a message routed through @exchange reaches (no duplicates). */
GPtrArray         *ssq_broker_route             (SsqBroker *broker, SsqBrokerExchange *exchange, SsqBrokerMessage *message);
/* The same through the bindings of queues owned by @owner_ids only (each
 * owner's bindings visited once per owner given; the filter not asked). */
GPtrArray         *ssq_broker_route_owners      (SsqBroker *broker, SsqBrokerExchange *exchange, SsqBrokerMessage *message,
                                                 const char * const *owner_ids, guint n_owners);
gboolean           ssq_broker_topic_match       (char **pattern, const char *routing_key);
gboolean           ssq_broker_headers_match     (const SsqAmqpTable *binding_args, const SsqAmqpTable *headers);
const char        *ssq_broker_exchange_type_name (SsqBrokerExchangeType type);
gboolean           ssq_broker_exchange_type_parse (const char *name, SsqBrokerExchangeType *out);

/* ssq-broker-queue.c */
SsqBrokerQueue *ssq_broker_queue_new        (SsqBroker *broker, const char *name, const char *owner_id,
                                             gboolean durable, gboolean auto_delete,
                                             SsqBrokerConnection *exclusive_to, const SsqBrokerQueueArgs *args);
SsqBrokerQueue *ssq_broker_queue_ref        (SsqBrokerQueue *queue);
void            ssq_broker_queue_unref      (SsqBrokerQueue *queue);
SsqBrokerQueue *ssq_broker_queue_find       (SsqBrokerChannel *channel, const char *name, GError **error);
/* A queue to consume or get from: as ssq_broker_queue_find, and a queue
 * that ever held another user's events (supersoniq.events) is 403. */
SsqBrokerQueue *ssq_broker_queue_find_read  (SsqBrokerChannel *channel, const char *name, GError **error);
gboolean        ssq_broker_queue_persisted  (SsqBrokerQueue *queue);
void            ssq_broker_queue_mark_private (SsqBrokerQueue *queue);
void            ssq_broker_queue_destroy    (SsqBroker *broker, SsqBrokerQueue *queue, gboolean notify);
void            ssq_broker_queue_args_copy  (SsqBrokerQueueArgs *dst, const SsqBrokerQueueArgs *src);
/* Enqueues a new message: FALSE when reject-publish refused it. */
gboolean        ssq_broker_queue_push       (SsqBrokerQueue *queue, SsqBrokerMessage *message, gint64 now);
void            ssq_broker_queue_requeue    (SsqBrokerQueue *queue, SsqBrokerEntry *entry, gboolean leased);
SsqBrokerEntry *ssq_broker_queue_pop        (SsqBrokerQueue *queue, gint64 now);
gboolean        ssq_broker_queue_has_ready  (SsqBrokerQueue *queue, gint64 now);
void            ssq_broker_queue_expire     (SsqBrokerQueue *queue, gint64 now, gboolean ttl_zero_too);
/* The entry leaves the broker (acked, dropped): its row and memory go. */
void            ssq_broker_entry_finish     (SsqBroker *broker, SsqBrokerQueue *queue, SsqBrokerEntry *entry);
void            ssq_broker_entry_dead_letter (SsqBroker *broker, SsqBrokerQueue *queue, SsqBrokerEntry *entry,
                                              const char *reason);
void            ssq_broker_queue_touch      (SsqBrokerQueue *queue);
void            ssq_broker_queue_arm_ttl    (SsqBrokerQueue *queue);
void            ssq_broker_queue_load_entry (SsqBrokerQueue *queue, SsqBrokerEntry *entry);

/* ssq-broker-deliver.c */
void     ssq_broker_dispatch          (SsqBroker *broker, SsqBrokerQueue *queue);
void     ssq_broker_consumer_remove   (SsqBroker *broker, SsqBrokerConsumer *consumer, gboolean notify,
                                       gboolean may_auto_delete);
void     ssq_broker_channel_requeue_all (SsqBrokerChannel *channel);

/* ssq-broker-publish.c */
void     ssq_broker_outcomes_flush    (SsqBrokerChannel *channel);
void     ssq_broker_outcome_settle    (SsqBroker *broker, SsqBrokerOutcome *outcome);
void     ssq_broker_outcome_free      (SsqBrokerOutcome *outcome);
/* Puts a message into @targets (SsqBrokerQueue *, as ssq_broker_route ()
 * made them): returns how many took it; *out_rejected when reject-publish
 * refused. Memory is the caller's to check. */
guint    ssq_broker_deliver_to_targets (SsqBroker *broker, GPtrArray *targets, SsqBrokerMessage *message,
                                        SsqBrokerOutcome *outcome, gboolean *out_rejected);

/* ssq-broker-store.c: the journal */
void     ssq_broker_journal_exchange  (SsqBroker *broker, SsqBrokerExchange *exchange, gboolean present);
void     ssq_broker_journal_queue     (SsqBroker *broker, SsqBrokerQueue *queue, gboolean present);
void     ssq_broker_journal_binding   (SsqBroker *broker, SsqBrokerBinding *binding, gboolean present);
void     ssq_broker_journal_entry     (SsqBroker *broker, SsqBrokerQueue *queue, SsqBrokerEntry *entry);
void     ssq_broker_journal_entry_gone (SsqBroker *broker, SsqBrokerQueue *queue, SsqBrokerEntry *entry);
void     ssq_broker_journal_delivered (SsqBroker *broker, SsqBrokerQueue *queue, SsqBrokerEntry *entry);
/* The outcome waits for the current journal's commit. */
void     ssq_broker_journal_wait      (SsqBroker *broker, SsqBrokerOutcome *outcome);
void     ssq_broker_journal_submit    (SsqBroker *broker);
gboolean ssq_broker_load              (SsqBroker *broker, GError **error);
void     ssq_broker_journal_free      (SsqBrokerJournal *journal);
/* Freeing: outcomes held for a snapshot that will not come are nacked. */
void     ssq_broker_journal_drop_held (SsqBroker *broker);

G_END_DECLS
