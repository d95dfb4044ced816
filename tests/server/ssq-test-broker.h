/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-test-broker.h: the broker core on a real store and writer in a
 * temporary directory, for the broker's unit tests: a fixture that can be
 * closed and opened again on the same files, and a channel that records
 * what it is given. */
#pragma once

#include "broker/ssq-broker.h"
#include "amqp/ssq-amqp-table.h"
#include "ssq-server-store.h"
#include "ssq-server-writer.h"

G_BEGIN_DECLS

typedef struct {
  char            *dir;
  char            *path;
  SsqServerStore  *reader;
  SsqServerWriter *writer;
  SsqBroker       *broker;
  SsqBrokerLimits  limits;
} TBroker;

/* One delivery as the channel saw it. */
typedef struct {
  char             *consumer_tag;
  guint64           tag;
  gboolean          redelivered;
  guint32           count;
  char             *queue;
  SsqBrokerMessage *message;
} TDelivery;

typedef struct {
  SsqBrokerConnection *connection;
  SsqBrokerChannel    *channel;
  GPtrArray           *deliveries;   /* TDelivery */
  GPtrArray           *cancelled;    /* char * */
  GArray              *outcomes;     /* SsqBrokerPublishOutcome, in the order told */
  GPtrArray           *outcome_errors; /* char * or NULL */
  gboolean             forced;
  gboolean             stop_after_one;  /* set_writable (FALSE) in deliver */
} TChannel;

TBroker  *tbroker_new         (const SsqBrokerLimits *limits);
void      tbroker_reopen      (TBroker *t);
void      tbroker_free        (TBroker *t);
/* Runs the main loop until nothing is pending (idle work and commits). */
void      tbroker_settle      (TBroker *t);
/* Runs the main loop until @cond (or 10 s: then the test fails). */
void      tbroker_wait        (TBroker *t, gboolean (*cond) (gpointer), gpointer data);

TChannel *tchannel_new        (TBroker *t, const char *user_id, const char *username, gboolean admin);
/* Another channel on the same connection. */
TChannel *tchannel_sibling    (TChannel *c);
void      tchannel_free       (TChannel *c);

/* Properties: delivery_mode 0 = unset, priority < 0 = unset, expiration NULL = unset. */
GBytes   *tprops              (int delivery_mode, int priority, const char *expiration,
                               SsqAmqpTable *headers, const char *user_id);
/* Publishes a text body; returns FALSE with @error on a synchronous refusal. */
gboolean  tpublish            (TChannel *c, const char *exchange, const char *routing_key,
                               const char *body, GBytes *props, gboolean mandatory, GError **error);
void      tpublish_ok         (TChannel *c, const char *exchange, const char *routing_key,
                               const char *body, GBytes *props);
char     *tbody               (SsqBrokerMessage *message);
/* basic.get; the body, or NULL when empty. */
char     *tget                (TChannel *c, const char *queue, gboolean no_ack, SsqBrokerDelivery *out);
void      tdeclare            (TChannel *c, const char *name, SsqBrokerQueueFlags flags,
                               const SsqBrokerQueueArgs *args);
GBytes   *ttable_encode       (SsqAmqpTable *table);
/* Asserts that a call failed (@ok FALSE) with SSQ_BROKER_ERROR @code, says
 * its message and clears @error. */
void      texpect_error       (gboolean ok, GError **error, int code);
SsqAmqpProperties *tdecode_props (SsqBrokerMessage *message);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TBroker, tbroker_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TChannel, tchannel_free)

G_END_DECLS
