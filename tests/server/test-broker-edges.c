/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-broker-edges.c: what a hostile review of the broker core found, on a
 * real store and writer: the events of supersoniq.events read only by the
 * one who bound them, an old delivery's ack after its queue was deleted and
 * declared again (it must not take the new queue's row along), drop-head
 * dropping the message just published, the store failing to commit
 * (a file size limit standing for a full disk), and one user's bindings
 * bounded apart from everyone's. */
#include "ssq-test-broker.h"
#include "ssq-test-store.h"

#include <glib/gstdio.h>
#include <string.h>

#define ALICE "u-alice", "alice", FALSE
#define BOB   "u-bob", "bob", FALSE
#define ROOT  "u-root", "root", TRUE

static gboolean
events_filter (const char       *binder_user_id,
               SsqBrokerMessage *message,
               gpointer          user_data)
{
  /* "conversation.<user id>": the events of that user's own conversation. */
  const char *key = ssq_broker_message_get_routing_key (message);

  return binder_user_id != NULL && g_str_has_prefix (key, "conversation.") &&
         strcmp (key + strlen ("conversation."), binder_user_id) == 0;
}

/* Alice binds her own, ordinary (not exclusive) queue to supersoniq.events:
 * her private events go there. Any user may consume an ordinary queue, but
 * not that one: only its owner reads it (not even an admin), after an
 * unbind and a restart too. Nor may Bob bind Alice's queue there, or his
 * own with Alice's events in it. */
static void
test_events_private (void)
{
  g_autoptr(TBroker) t = tbroker_new (NULL);
  g_autoptr(TChannel) a = tchannel_new (t, ALICE);
  g_autoptr(TChannel) b = tchannel_new (t, BOB);
  g_autoptr(TChannel) root = tchannel_new (t, ROOT);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = g_bytes_new_static ("{\"secret\":1}", 12);
  g_autoptr(SsqBrokerMessage) m = ssq_broker_message_new ("supersoniq.events", "conversation.u-alice",
                                                          NULL, body);
  g_autoptr(GBytes) persistent = tprops (2, -1, NULL, NULL, NULL);
  SsqBrokerConsumeOptions options = { 0 };
  SsqBrokerDelivery d;
  g_autofree char *tag = NULL;
  g_autofree char *got = NULL;

  ssq_broker_add_special_exchange (t->broker, "supersoniq.events", SSQ_BROKER_EXCHANGE_TOPIC, NULL,
                                   events_filter, NULL, NULL);
  tdeclare (a, "alice-events", SSQ_BROKER_QUEUE_DURABLE, NULL);
  tdeclare (a, "alice-other", 0, NULL);
  g_assert_true (ssq_broker_queue_bind (a->channel, "alice-events", "supersoniq.events", "conversation.#",
                                        NULL, &error));
  g_assert_no_error (error);
  ssq_broker_publish_internal (t->broker, m);
  tbroker_settle (t);

  /* Bob: neither get nor consume, nor bind Alice's other queue there. */
  texpect_error (ssq_broker_get (b->channel, "alice-events", FALSE, 0, &d, &error), &error,
                 SSQ_BROKER_ERROR_ACCESS_REFUSED);
  texpect_error (ssq_broker_consume (b->channel, "alice-events", &options, &tag, &error), &error,
                 SSQ_BROKER_ERROR_ACCESS_REFUSED);
  texpect_error (ssq_broker_get (root->channel, "alice-events", FALSE, 0, &d, &error), &error,
                 SSQ_BROKER_ERROR_ACCESS_REFUSED);
  texpect_error (ssq_broker_queue_bind (b->channel, "alice-other", "supersoniq.events", "conversation.#", NULL,
                                        &error), &error, SSQ_BROKER_ERROR_ACCESS_REFUSED);
  g_assert_null (tag);

  /* Alice reads it. */
  got = tget (a, "alice-events", TRUE, &d);
  g_assert_cmpstr (got, ==, "{\"secret\":1}");
  /* Ordinary queues stay open to everyone. */
  tpublish_ok (a, "", "alice-other", "shared", NULL);
  tbroker_settle (t);
  g_clear_pointer (&got, g_free);
  got = tget (b, "alice-other", TRUE, &d);
  g_assert_cmpstr (got, ==, "shared");

  /* Unbound, what came through the events stays Alice's: still hers alone
   * (the queue may still hold events). */
  g_assert_true (ssq_broker_queue_unbind (a->channel, "alice-events", "supersoniq.events", "conversation.#",
                                          NULL, &error));
  texpect_error (ssq_broker_get (b->channel, "alice-events", FALSE, 0, &d, &error), &error,
                 SSQ_BROKER_ERROR_ACCESS_REFUSED);

  /* And so after a restart. */
  g_assert_true (ssq_broker_queue_bind (a->channel, "alice-events", "supersoniq.events", "conversation.#",
                                        NULL, &error));
  g_clear_pointer (&a, tchannel_free);
  g_clear_pointer (&b, tchannel_free);
  g_clear_pointer (&root, tchannel_free);
  tbroker_settle (t);
  tbroker_reopen (t);
  ssq_broker_add_special_exchange (t->broker, "supersoniq.events", SSQ_BROKER_EXCHANGE_TOPIC, NULL,
                                   events_filter, NULL, NULL);
  b = tchannel_new (t, BOB);
  texpect_error (ssq_broker_get (b->channel, "alice-events", FALSE, 0, &d, &error), &error,
                 SSQ_BROKER_ERROR_ACCESS_REFUSED);

  /* Unbound, then restarted: the queue's row keeps the mark, read before
   * the events exchange is even there. */
  a = tchannel_new (t, ALICE);
  g_assert_true (ssq_broker_queue_unbind (a->channel, "alice-events", "supersoniq.events", "conversation.#",
                                          NULL, &error));
  tpublish_ok (a, "", "alice-events", "after the unbind", persistent);
  g_clear_pointer (&a, tchannel_free);
  g_clear_pointer (&b, tchannel_free);
  tbroker_settle (t);
  tbroker_reopen (t);
  b = tchannel_new (t, BOB);
  texpect_error (ssq_broker_get (b->channel, "alice-events", FALSE, 0, &d, &error), &error,
                 SSQ_BROKER_ERROR_ACCESS_REFUSED);
  texpect_error (ssq_broker_consume (b->channel, "alice-events", &options, &tag, &error), &error,
                 SSQ_BROKER_ERROR_ACCESS_REFUSED);
  a = tchannel_new (t, ALICE);
  g_clear_pointer (&got, g_free);
  got = tget (a, "alice-events", TRUE, &d);
  g_assert_cmpstr (got, ==, "after the unbind");
}

/* A delivery of a durable queue is still unacked when its queue is deleted
 * and declared again; then a message is published to the new queue, and the
 * old delivery acked. The ack must not delete the new queue's message row
 * (both have seq 1): after a restart the new message is there. */
static void
test_redeclared_queue (void)
{
  g_autoptr(TBroker) t = tbroker_new (NULL);
  g_autoptr(TChannel) c = tchannel_new (t, ALICE);
  g_autoptr(GBytes) persistent = tprops (2, -1, NULL, NULL, NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *old = NULL, *after = NULL;
  SsqBrokerDelivery d;
  guint64 tag;

  tdeclare (c, "dq", SSQ_BROKER_QUEUE_DURABLE, NULL);
  tpublish_ok (c, "", "dq", "old", persistent);
  tbroker_settle (t);
  old = tget (c, "dq", FALSE, &d);
  g_assert_cmpstr (old, ==, "old");
  tag = d.delivery_tag;
  g_assert_true (ssq_broker_queue_delete (c->channel, "dq", FALSE, FALSE, NULL, &error));
  tdeclare (c, "dq", SSQ_BROKER_QUEUE_DURABLE, NULL);
  tpublish_ok (c, "", "dq", "new", persistent);
  tbroker_settle (t);
  g_assert_true (ssq_broker_ack (c->channel, tag, FALSE, &error));
  g_assert_no_error (error);
  tbroker_settle (t);

  g_clear_pointer (&c, tchannel_free);
  tbroker_reopen (t);
  c = tchannel_new (t, ALICE);
  after = tget (c, "dq", TRUE, &d);
  g_assert_cmpstr (after, ==, "new");
}

/* drop-head when the message just published is the head itself (x-max-length
 * 0, or a higher priority than the rest): it is dropped at once, and nothing
 * reads it afterwards (valgrind's variant of this test says so). */
static void
test_drop_head_self (void)
{
  g_autoptr(TBroker) t = tbroker_new (NULL);
  g_autoptr(TChannel) c = tchannel_new (t, ALICE);
  g_autoptr(GBytes) expiring = tprops (1, -1, "60000", NULL, NULL);
  g_autoptr(GBytes) high = tprops (1, 9, "60000", NULL, NULL);
  g_autofree char *got = NULL;
  SsqBrokerQueueArgs args;

  ssq_broker_queue_args_init (&args);
  args.max_length = 0;
  tdeclare (c, "zero", 0, &args);
  args.max_length = 1;
  args.max_priority = 9;
  tdeclare (c, "prio", 0, &args);
  tpublish_ok (c, "", "zero", "gone", expiring);
  tpublish_ok (c, "", "prio", "low", NULL);
  tpublish_ok (c, "", "prio", "high", high);
  tbroker_settle (t);
  {
    g_autoptr(SsqBrokerQueueInfo) zero = ssq_broker_queue_info (t->broker, "zero", NULL);
    g_autoptr(SsqBrokerQueueInfo) prio = ssq_broker_queue_info (t->broker, "prio", NULL);

    g_assert_cmpuint (zero->ready, ==, 0);
    g_assert_cmpuint (prio->ready, ==, 1);
  }
  got = tget (c, "prio", TRUE, NULL);
  g_test_message ("the priority queue kept '%s'", got);
}

static void
count_outcomes (TChannel *c,
                guint     from,
                guint    *acks,
                guint    *nacks)
{
  *acks = *nacks = 0;
  for (guint i = from; i < c->outcomes->len; i++)
    {
      SsqBrokerPublishOutcome o = g_array_index (c->outcomes, SsqBrokerPublishOutcome, i);

      if (o == SSQ_BROKER_PUBLISH_ACK)
        (*acks)++;
      else if (o == SSQ_BROKER_PUBLISH_NACK)
        (*nacks)++;
    }
}

static gboolean
two_outcomes_after_41 (gpointer data)
{
  TChannel *c = data;

  return c->outcomes->len >= 43;
}

/* The store cannot commit (a file size limit: writes past it fail as on a
 * full disk). Publishes waiting for that commit are nacked, never acked;
 * the broker goes on, and once writes work again what was confirmed is
 * there after a restart, and memory is accounted right. */
static void
test_store_full (void)
{
  g_autoptr(TBroker) t = tbroker_new (NULL);
  g_autoptr(TChannel) c = tchannel_new (t, ALICE);
  g_autoptr(GBytes) persistent = tprops (2, -1, NULL, NULL, NULL);
  g_autofree char *big = g_strnfill (64 * 1024, 'x');
  g_autoptr(GError) error = NULL;
  guint acks, nacks, confirmed_before, n_after;
  SsqBrokerStats stats;
  GStatBuf st;
  g_autofree char *wal = g_strconcat (t->path, "-wal", NULL);
  guint64 limit;

  tdeclare (c, "dq", SSQ_BROKER_QUEUE_DURABLE, NULL);
  tpublish_ok (c, "", "dq", "before", persistent);
  tbroker_settle (t);
  count_outcomes (c, 0, &confirmed_before, &nacks);
  g_assert_cmpuint (confirmed_before, ==, 1);

  /* The writer and the broker say so with warnings: expected here. */
  g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
  limit = 0;
  if (g_stat (t->path, &st) == 0)
    limit = MAX (limit, (guint64) st.st_size);
  if (g_stat (wal, &st) == 0)
    limit = MAX (limit, (guint64) st.st_size);
  ssq_test_set_file_limit (limit + 128 * 1024);
  /* A durable queue declared meanwhile (declare-ok does not wait for the
   * commit, as RabbitMQ's does not for a classic queue). */
  tdeclare (c, "made-while-full", SSQ_BROKER_QUEUE_DURABLE, NULL);
  for (guint i = 0; i < 40; i++)
    tpublish_ok (c, "", "dq", big, persistent);
  tbroker_settle (t);
  count_outcomes (c, 1, &acks, &nacks);
  g_test_message ("store full: %u acked, %u nacked", acks, nacks);
  g_assert_cmpuint (nacks, ==, 40);
  g_assert_cmpuint (acks, ==, 0);

  /* Room again: the broker goes on, and what it confirms now is stored
   * with everything it depends on (the queue above). */
  ssq_test_set_file_limit (G_MAXUINT64);
  tpublish_ok (c, "", "dq", "after", persistent);
  tpublish_ok (c, "", "made-while-full", "confirmed", persistent);
  /* Told once the store is written again (a failed rewrite is tried again
   * a second later). */
  tbroker_wait (t, two_outcomes_after_41, c);
  count_outcomes (c, 41, &acks, &nacks);
  g_assert_cmpuint (acks, ==, 2);
  g_clear_pointer (&c, tchannel_free);
  tbroker_reopen (t);
  c = tchannel_new (t, ALICE);
  {
    g_autoptr(SsqBrokerQueueInfo) info = ssq_broker_queue_info (t->broker, "dq", &error);

    g_assert_no_error (error);
    n_after = (guint) info->ready;
  }
  g_test_message ("after the restart: %u ready", n_after);
  {
    g_autofree char *first = tget (c, "dq", TRUE, NULL);

    g_assert_cmpstr (first, ==, "before");
  }
  for (guint i = 1; i < n_after; i++)
    g_free (tget (c, "dq", TRUE, NULL));
  {
    g_autofree char *confirmed = tget (c, "made-while-full", TRUE, NULL);

    g_assert_cmpstr (confirmed, ==, "confirmed");
  }
  tbroker_settle (t);
  ssq_broker_get_stats (t->broker, &stats);
  g_assert_cmpuint (stats.memory_bytes, ==, 0);
}

/* Alice binds up to max_bindings_per_user (3) and no further, while Bob,
 * under the same server bound, still binds; rebinding what is bound is no
 * new binding; what she binds to Bob's queue counts against her, the
 * binder; an unbind or a deleted queue gives room back; and after a restart
 * her durable bindings still count. */
static void
test_bindings_per_user (void)
{
  SsqBrokerLimits limits = { .max_bindings = 100, .max_bindings_per_user = 3 };
  g_autoptr(TBroker) t = tbroker_new (&limits);
  g_autoptr(GError) error = NULL;

  {
    g_autoptr(TChannel) a = tchannel_new (t, ALICE);
    g_autoptr(TChannel) b = tchannel_new (t, BOB);

    tdeclare (a, "aq", SSQ_BROKER_QUEUE_DURABLE, NULL);
    tdeclare (a, "tmp", 0, NULL);
    tdeclare (b, "bq", SSQ_BROKER_QUEUE_DURABLE, NULL);
    for (guint i = 0; i < 3; i++)
      {
        g_autofree char *key = g_strdup_printf ("k%u", i);

        g_assert_true (ssq_broker_queue_bind (a->channel, "aq", "amq.topic", key, NULL, &error));
        g_assert_no_error (error);
      }
    texpect_error (ssq_broker_queue_bind (a->channel, "aq", "amq.topic", "k3", NULL, &error), &error,
                   SSQ_BROKER_ERROR_RESOURCE_ERROR);
    texpect_error (ssq_broker_queue_bind (a->channel, "bq", "amq.direct", "k", NULL, &error), &error,
                   SSQ_BROKER_ERROR_RESOURCE_ERROR);
    g_assert_true (ssq_broker_queue_bind (a->channel, "aq", "amq.topic", "k0", NULL, &error));
    /* Bob is served all along. */
    g_assert_true (ssq_broker_queue_bind (b->channel, "bq", "amq.topic", "k0", NULL, &error));
    g_assert_true (ssq_broker_queue_bind (b->channel, "aq", "amq.direct", "from-bob", NULL, &error));
    g_assert_no_error (error);
    /* Room again after an unbind, and after a deleted queue. */
    g_assert_true (ssq_broker_queue_unbind (a->channel, "aq", "amq.topic", "k2", NULL, &error));
    g_assert_true (ssq_broker_queue_bind (a->channel, "tmp", "amq.fanout", "", NULL, &error));
    texpect_error (ssq_broker_queue_bind (a->channel, "aq", "amq.topic", "k2", NULL, &error), &error,
                   SSQ_BROKER_ERROR_RESOURCE_ERROR);
    g_assert_true (ssq_broker_queue_delete (a->channel, "tmp", FALSE, FALSE, NULL, &error));
    g_assert_true (ssq_broker_queue_bind (a->channel, "bq", "amq.direct", "k", NULL, &error));
    g_assert_no_error (error);
    tbroker_settle (t);
  }
  tbroker_reopen (t);
  {
    g_autoptr(TChannel) a = tchannel_new (t, ALICE);
    g_autoptr(TChannel) b = tchannel_new (t, BOB);

    texpect_error (ssq_broker_queue_bind (a->channel, "aq", "amq.topic", "k9", NULL, &error), &error,
                   SSQ_BROKER_ERROR_RESOURCE_ERROR);
    g_assert_true (ssq_broker_queue_bind (b->channel, "bq", "amq.topic", "k9", NULL, &error));
    g_assert_no_error (error);
  }
}

/* @n queues, fan-0 …, bound to amq.fanout. */
static void
bind_fan_out (TChannel *a,
              guint     n)
{
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *name = g_strdup_printf ("fan-%u", i);

      tdeclare (a, name, 0, NULL);
      g_assert_true (ssq_broker_queue_bind (a->channel, name, "amq.fanout", "", NULL, &error));
      g_assert_no_error (error);
    }
}

/* A publish to a fan-out exchange holds an entry in each queue it reaches:
 * the memory of all of them is counted before any is made. With 100
 * queues bound to amq.fanout and max_memory 64 KiB, publishing is refused
 * once the next fan-out would not fit, and what is held never passes
 * max_memory (when only one entry was counted, the last publish took it
 * past by 99 entries). */
static void
test_fanout_memory (void)
{
  SsqBrokerLimits limits = { .max_memory = 64 * 1024 };
  g_autoptr(TBroker) t = tbroker_new (&limits);
  g_autoptr(TChannel) a = tchannel_new (t, ALICE);
  g_autoptr(GError) error = NULL;
  SsqBrokerStats stats;
  guint published = 0;

  bind_fan_out (a, 100);
  while (tpublish (a, "amq.fanout", "", "x", NULL, FALSE, &error))
    {
      published++;
      ssq_broker_get_stats (t->broker, &stats);
      g_assert_cmpuint (stats.memory_bytes, <=, limits.max_memory);
      g_assert_cmpuint (published, <, 1000);
    }
  g_test_message ("%u fan-outs held, then: %s", published, error->message);
  g_assert_error (error, SSQ_BROKER_ERROR, SSQ_BROKER_ERROR_RESOURCE_ERROR);
  g_assert_cmpuint (published, >, 0);
  ssq_broker_get_stats (t->broker, &stats);
  g_assert_cmpuint (stats.memory_bytes, <=, limits.max_memory);
  /* One queue alone still takes a message that fits. */
  g_clear_error (&error);
  tpublish_ok (a, "", "fan-0", "x", NULL);
}

static gboolean
source_empty (gpointer data)
{
  TBroker *t = data;
  g_autoptr(SsqBrokerQueueInfo) info = ssq_broker_queue_info (t->broker, "src", NULL);

  return info->ready == 0;
}

/* Dead-lettering to a fan-out counts in max_memory too: messages that
 * expire out of a queue whose dead-letter exchange is amq.fanout, bound to
 * 100 queues, become 100 entries each, which may not take the broker past
 * its bound (64 KiB here): those that do not fit are dropped, counted.
 * Without the check the broker held 1.5 MB after them (found by an
 * independent review). */
static void
test_dead_letter_memory (void)
{
  SsqBrokerLimits limits = { .max_memory = 64 * 1024 };
  g_autoptr(TBroker) t = tbroker_new (&limits);
  g_autoptr(TChannel) a = tchannel_new (t, ALICE);
  g_autoptr(GError) error = NULL;
  g_autoptr(SsqBrokerQueueInfo) info = NULL;
  SsqBrokerStats stats;
  SsqBrokerQueueArgs args;
  guint published = 0;

  bind_fan_out (a, 100);
  ssq_broker_queue_args_init (&args);
  args.message_ttl_ms = 100;
  args.dead_letter_exchange = g_strdup ("amq.fanout");
  tdeclare (a, "src", 0, &args);
  ssq_broker_queue_args_clear (&args);
  while (tpublish (a, "", "src", "x", NULL, FALSE, &error))
    published++;
  g_assert_error (error, SSQ_BROKER_ERROR, SSQ_BROKER_ERROR_RESOURCE_ERROR);
  tbroker_wait (t, source_empty, t);
  ssq_broker_get_stats (t->broker, &stats);
  info = ssq_broker_queue_info (t->broker, "src", NULL);
  g_test_message ("%u published; dead-lettered %" G_GUINT64_FORMAT ", dropped %" G_GUINT64_FORMAT
                  "; %" G_GUINT64_FORMAT " bytes held", published, info->dead_lettered, info->dropped,
                  stats.memory_bytes);
  g_assert_cmpuint (stats.memory_bytes, <=, limits.max_memory);
  g_assert_cmpuint (info->dead_lettered, >, 0);
  g_assert_cmpuint (info->dropped, >, 0);
  g_assert_cmpuint (info->dead_lettered + info->dropped, ==, published);
}

/* The server's own messages count in max_memory too: a bot's events queue
 * nobody reads fills up to the bound (64 KiB here) and no further; the
 * events past it are not queued, and counted. */
static void
test_events_memory (void)
{
  SsqBrokerLimits limits = { .max_memory = 64 * 1024 };
  g_autoptr(TBroker) t = tbroker_new (&limits);
  g_autoptr(TChannel) a = tchannel_new (t, ALICE);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = g_bytes_new_static ("{\"event\":1}", 11);
  SsqBrokerStats stats;

  ssq_broker_add_special_exchange (t->broker, "supersoniq.events", SSQ_BROKER_EXCHANGE_TOPIC, NULL,
                                   events_filter, NULL, NULL);
  tdeclare (a, "alice-events", 0, NULL);
  g_assert_true (ssq_broker_queue_bind (a->channel, "alice-events", "supersoniq.events", "conversation.#",
                                        NULL, &error));
  g_assert_no_error (error);
  for (guint i = 0; i < 1000; i++)
    {
      g_autoptr(SsqBrokerMessage) m = ssq_broker_message_new ("supersoniq.events", "conversation.u-alice",
                                                              NULL, body);

      ssq_broker_publish_internal (t->broker, m);
      ssq_broker_get_stats (t->broker, &stats);
      g_assert_cmpuint (stats.memory_bytes, <=, limits.max_memory);
    }
  tbroker_settle (t);
  ssq_broker_get_stats (t->broker, &stats);
  g_test_message ("%" G_GUINT64_FORMAT " bytes held, %" G_GUINT64_FORMAT " events not queued",
                  stats.memory_bytes, stats.internal_dropped);
  g_assert_cmpuint (stats.internal_dropped, >, 0);
  g_assert_cmpuint (stats.internal_dropped, <, 1000);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/broker-edges/events-private", test_events_private);
  g_test_add_func ("/broker-edges/redeclared-queue", test_redeclared_queue);
  g_test_add_func ("/broker-edges/drop-head-self", test_drop_head_self);
  g_test_add_func ("/broker-edges/store-full", test_store_full);
  g_test_add_func ("/broker-edges/bindings-per-user", test_bindings_per_user);
  g_test_add_func ("/broker-edges/fanout-memory", test_fanout_memory);
  g_test_add_func ("/broker-edges/dead-letter-memory", test_dead_letter_memory);
  g_test_add_func ("/broker-edges/events-memory", test_events_memory);
  return g_test_run ();
}
