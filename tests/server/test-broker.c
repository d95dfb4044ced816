/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-broker.c: the broker core through its API, on a real store and
 * writer: routing of every exchange type, topic patterns, headers
 * matching, priorities, TTL, max-length (both overflows), dead-lettering
 * with x-death, x-expires, requeue order, prefetch, consumers. */
#include "ssq-test-broker.h"
#include "broker/ssq-broker-private.h"

#include <stdarg.h>
#include <string.h>

#define ALICE "u-alice", "alice", FALSE
#define BOB   "u-bob", "bob", FALSE

static void
bind (TChannel   *c,
      const char *queue,
      const char *exchange,
      const char *key,
      GBytes     *args)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (ssq_broker_queue_bind (c->channel, queue, exchange, key, args, &error));
  g_assert_no_error (error);
}

static void
assert_get (TChannel   *c,
            const char *queue,
            const char *want)
{
  g_autofree char *got = tget (c, queue, TRUE, NULL);

  g_assert_cmpstr (got, ==, want);
}

static void
test_routing (void)
{
  g_autoptr(TBroker) t = tbroker_new (NULL);
  g_autoptr(TChannel) c = tchannel_new (t, ALICE);
  g_autoptr(GError) error = NULL;

  tdeclare (c, "q1", 0, NULL);
  tdeclare (c, "q2", 0, NULL);
  g_assert_true (ssq_broker_exchange_declare (c->channel, "x.fan", "fanout", FALSE, FALSE, FALSE, FALSE,
                                              NULL, &error));
  bind (c, "q1", "amq.direct", "k1", NULL);
  bind (c, "q2", "amq.direct", "k2", NULL);
  bind (c, "q1", "x.fan", "", NULL);
  bind (c, "q2", "x.fan", "ignored", NULL);
  bind (c, "q1", "x.fan", "twice", NULL);   /* still one copy per queue */

  /* The default exchange: by queue name. */
  tpublish_ok (c, "", "q1", "default", NULL);
  tpublish_ok (c, "amq.direct", "k2", "direct", NULL);
  tpublish_ok (c, "amq.direct", "nobody", "lost", NULL);
  tpublish_ok (c, "x.fan", "whatever", "fan", NULL);
  tbroker_settle (t);
  assert_get (c, "q1", "default");
  assert_get (c, "q1", "fan");
  assert_get (c, "q1", NULL);
  assert_get (c, "q2", "direct");
  assert_get (c, "q2", "fan");
  assert_get (c, "q2", NULL);

  /* Unbinding stops it. */
  g_assert_true (ssq_broker_queue_unbind (c->channel, "q2", "x.fan", "ignored", NULL, &error));
  tpublish_ok (c, "x.fan", "", "fan2", NULL);
  tbroker_settle (t);
  assert_get (c, "q2", NULL);
  assert_get (c, "q1", "fan2");

  /* Unknown exchange: 404, synchronously; binding the default: 403. */
  g_assert_false (tpublish (c, "nope", "q1", "x", NULL, FALSE, &error));
  g_assert_error (error, SSQ_BROKER_ERROR, SSQ_BROKER_ERROR_NOT_FOUND);
  g_test_message ("%s", error->message);
  g_clear_error (&error);
  g_assert_false (ssq_broker_queue_bind (c->channel, "q1", "", "q1", NULL, &error));
  g_assert_error (error, SSQ_BROKER_ERROR, SSQ_BROKER_ERROR_ACCESS_REFUSED);
  g_clear_error (&error);
  g_assert_false (ssq_broker_exchange_declare (c->channel, "x.bad", "nonsense", FALSE, FALSE, FALSE, FALSE,
                                               NULL, &error));
  g_assert_error (error, SSQ_BROKER_ERROR, SSQ_BROKER_ERROR_COMMAND_INVALID);
  g_assert_true (ssq_broker_error_is_hard (error->code));
  g_clear_error (&error);
  /* Redeclared otherwise: 406; reserved names: 403. */
  g_assert_false (ssq_broker_exchange_declare (c->channel, "x.fan", "topic", FALSE, FALSE, FALSE, FALSE,
                                               NULL, &error));
  g_assert_error (error, SSQ_BROKER_ERROR, SSQ_BROKER_ERROR_PRECONDITION_FAILED);
  g_test_message ("%s", error->message);
  g_clear_error (&error);
  g_assert_false (ssq_broker_exchange_declare (c->channel, "amq.mine", "topic", FALSE, FALSE, FALSE, FALSE,
                                               NULL, &error));
  g_assert_error (error, SSQ_BROKER_ERROR, SSQ_BROKER_ERROR_ACCESS_REFUSED);
  g_clear_error (&error);
  g_assert_true (ssq_broker_exchange_declare (c->channel, "amq.topic", "topic", FALSE, TRUE, FALSE, FALSE,
                                              NULL, &error));
  g_assert_false (ssq_broker_exchange_delete (c->channel, "amq.topic", FALSE, &error));
  g_assert_error (error, SSQ_BROKER_ERROR, SSQ_BROKER_ERROR_ACCESS_REFUSED);
}

static void
test_topic_patterns (void)
{
  static const struct { const char *pattern, *key; gboolean match; } cases[] = {
    { "a.b.c", "a.b.c", TRUE }, { "a.b.c", "a.b", FALSE }, { "a.*.c", "a.b.c", TRUE },
    { "a.*.c", "a.c", FALSE }, { "a.#", "a", TRUE }, { "a.#", "a.b.c.d", TRUE },
    { "#", "", TRUE }, { "*", "", FALSE }, { "#", "a.b", TRUE }, { "#.c", "c", TRUE },
    { "#.c", "a.b.c", TRUE }, { "#.c", "a.b.d", FALSE }, { "a.#.c", "a.c", TRUE },
    { "a.#.c", "a.x.y.c", TRUE }, { "a.#.#.c", "a.c", TRUE }, { "*.*", "a.", TRUE },
    { "*", "a.", FALSE }, { "a.*.#", "a", FALSE }, { "a.*.#", "a.b", TRUE },
    { "conversation.#", "conversation.c1.message", TRUE }, { "", "", TRUE }, { "", "a", FALSE },
    { "#.#", "x", TRUE }, { "*.#.*", "x", FALSE }, { "*.#.*", "x.y", TRUE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_auto(GStrv) words = cases[i].pattern[0] == '\0' ? g_new0 (char *, 1)
                                                       : g_strsplit (cases[i].pattern, ".", -1);

      if (ssq_broker_topic_match (words, cases[i].key) != cases[i].match)
        g_error ("'%s' against '%s': expected %s", cases[i].pattern, cases[i].key,
                 cases[i].match ? "a match" : "none");
    }
}

static GBytes *
headers_args (const char *x_match,
              ...)
{
  g_autoptr(SsqAmqpTable) t = ssq_amqp_table_new ();
  va_list ap;
  const char *key;

  if (x_match != NULL)
    ssq_amqp_table_take (t, "x-match", ssq_amqp_value_new_string (x_match));
  va_start (ap, x_match);
  while ((key = va_arg (ap, const char *)) != NULL)
    {
      const char *value = va_arg (ap, const char *);

      ssq_amqp_table_take (t, key, value != NULL ? ssq_amqp_value_new_string (value)
                                                 : ssq_amqp_value_new_void ());
    }
  va_end (ap);
  return ttable_encode (t);
}

static void
test_headers (void)
{
  g_autoptr(TBroker) t = tbroker_new (NULL);
  g_autoptr(TChannel) c = tchannel_new (t, ALICE);
  g_autoptr(GBytes) all = headers_args (NULL, "format", "pdf", "type", "report", NULL);
  g_autoptr(GBytes) any = headers_args ("any", "format", "pdf", "type", "log", NULL);
  g_autoptr(GBytes) present = headers_args ("all", "format", NULL, NULL);
  g_autoptr(GBytes) with_x = headers_args ("all-with-x", "x-tag", "a", NULL);
  g_autoptr(GBytes) without_x = headers_args ("all", "x-tag", "zzz", NULL);
  g_autoptr(SsqAmqpTable) h1 = ssq_amqp_table_new ();
  g_autoptr(SsqAmqpTable) h2 = ssq_amqp_table_new ();
  g_autoptr(SsqAmqpTable) h3 = ssq_amqp_table_new ();
  g_autoptr(GBytes) p1 = NULL, p2 = NULL, p3 = NULL;

  tdeclare (c, "all", 0, NULL);
  tdeclare (c, "any", 0, NULL);
  tdeclare (c, "present", 0, NULL);
  tdeclare (c, "with-x", 0, NULL);
  tdeclare (c, "without-x", 0, NULL);
  bind (c, "all", "amq.headers", "", all);
  bind (c, "any", "amq.match", "", any);
  bind (c, "any", "amq.headers", "", any);
  bind (c, "present", "amq.headers", "", present);
  bind (c, "with-x", "amq.headers", "", with_x);
  bind (c, "without-x", "amq.headers", "", without_x);

  ssq_amqp_table_take (h1, "format", ssq_amqp_value_new_string ("pdf"));
  ssq_amqp_table_take (h1, "type", ssq_amqp_value_new_string ("report"));
  ssq_amqp_table_take (h1, "x-tag", ssq_amqp_value_new_string ("a"));
  ssq_amqp_table_take (h2, "format", ssq_amqp_value_new_string ("zip"));
  ssq_amqp_table_take (h2, "type", ssq_amqp_value_new_string ("log"));
  ssq_amqp_table_take (h3, "other", ssq_amqp_value_new_integer (SSQ_AMQP_FIELD_I32, 1));
  p1 = tprops (0, -1, NULL, h1, NULL);
  p2 = tprops (0, -1, NULL, h2, NULL);
  p3 = tprops (0, -1, NULL, h3, NULL);
  tpublish_ok (c, "amq.headers", "", "h1", p1);
  tpublish_ok (c, "amq.headers", "", "h2", p2);
  tpublish_ok (c, "amq.headers", "", "h3", p3);
  tbroker_settle (t);
  assert_get (c, "all", "h1");
  assert_get (c, "all", NULL);
  assert_get (c, "any", "h1");
  assert_get (c, "any", "h2");
  assert_get (c, "any", NULL);
  assert_get (c, "present", "h1");
  assert_get (c, "present", "h2");
  assert_get (c, "present", NULL);
  assert_get (c, "with-x", "h1");
  assert_get (c, "with-x", NULL);
  /* "all" ignores x- keys: every message matches. */
  assert_get (c, "without-x", "h1");
  assert_get (c, "without-x", "h2");
  assert_get (c, "without-x", "h3");
}

static void
test_priorities (void)
{
  g_autoptr(TBroker) t = tbroker_new (NULL);
  g_autoptr(TChannel) c = tchannel_new (t, ALICE);
  SsqBrokerQueueArgs args;
  const int prio[] = { 1, 5, 9, 5, 1, 200, -1 };
  const char *order[] = { "p200", "p9", "p5a", "p5b", "p1a", "p1b", "p-1" };
  const char *names[] = { "p1a", "p5a", "p9", "p5b", "p1b", "p200", "p-1" };

  ssq_broker_queue_args_init (&args);
  args.max_priority = 10;
  tdeclare (c, "prio", 0, &args);
  for (guint i = 0; i < G_N_ELEMENTS (prio); i++)
    {
      g_autoptr(GBytes) p = tprops (0, prio[i], NULL, NULL, NULL);
      tpublish_ok (c, "", "prio", names[i], p);
    }
  tbroker_settle (t);
  /* Higher first, FIFO within a priority; above the maximum counts as it. */
  for (guint i = 0; i < G_N_ELEMENTS (order); i++)
    assert_get (c, "prio", order[i]);
}

static gboolean
queue_ready_is (gpointer data)
{
  gpointer *d = data;
  g_autoptr(SsqBrokerQueueInfo) info = ssq_broker_queue_info (d[0], d[1], NULL);

  return info != NULL && info->ready == GPOINTER_TO_UINT (d[2]);
}

static void
wait_ready (TBroker    *t,
            const char *queue,
            guint       n)
{
  gpointer d[3] = { t->broker, (gpointer) queue, GUINT_TO_POINTER (n) };

  tbroker_wait (t, queue_ready_is, d);
}

/* The first x-death entry of a dead-lettered message. */
static SsqAmqpTable *
first_death (SsqBrokerMessage *m,
             gint64           *count)
{
  g_autoptr(SsqAmqpProperties) p = tdecode_props (m);
  const SsqAmqpValue *deaths;
  const SsqAmqpValue *first;

  g_assert_nonnull (p->headers);
  deaths = ssq_amqp_table_lookup (p->headers, "x-death");
  g_assert_nonnull (deaths);
  g_assert_cmpint (deaths->type, ==, SSQ_AMQP_FIELD_ARRAY);
  first = g_ptr_array_index (deaths->u.array, 0);
  g_assert_cmpint (first->type, ==, SSQ_AMQP_FIELD_TABLE);
  g_assert_true (ssq_amqp_table_lookup_integer (first->u.table, "count", count));
  return ssq_amqp_table_ref (first->u.table);
}

static void
assert_death (SsqAmqpTable *death,
              const char   *reason,
              const char   *queue,
              const char   *exchange)
{
  g_autofree char *r = ssq_amqp_table_dup_string (death, "reason");
  g_autofree char *q = ssq_amqp_table_dup_string (death, "queue");
  g_autofree char *x = ssq_amqp_table_dup_string (death, "exchange");
  const SsqAmqpValue *keys = ssq_amqp_table_lookup (death, "routing-keys");
  const SsqAmqpValue *time = ssq_amqp_table_lookup (death, "time");

  g_assert_cmpstr (r, ==, reason);
  g_assert_cmpstr (q, ==, queue);
  g_assert_cmpstr (x, ==, exchange);
  g_assert_nonnull (keys);
  g_assert_cmpint (keys->type, ==, SSQ_AMQP_FIELD_ARRAY);
  g_assert_nonnull (time);
  g_assert_cmpint (time->type, ==, SSQ_AMQP_FIELD_TIMESTAMP);
  /* RabbitMQ sorts the entry's fields by name. */
  g_assert_cmpstr (ssq_amqp_table_name_at (death, 0), ==, "count");
}

static void
dlx_setup (TChannel           *c,
           SsqBrokerQueueArgs *args)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (ssq_broker_exchange_declare (c->channel, "dlx", "fanout", FALSE, FALSE, FALSE, FALSE,
                                              NULL, &error));
  tdeclare (c, "dead", 0, NULL);
  bind (c, "dead", "dlx", "", NULL);
  ssq_broker_queue_args_init (args);
  args->dead_letter_exchange = g_strdup ("dlx");
}

static void
test_ttl (void)
{
  g_autoptr(TBroker) t = tbroker_new (NULL);
  g_autoptr(TChannel) c = tchannel_new (t, ALICE);
  g_autoptr(GBytes) short_life = tprops (0, -1, "30", NULL, NULL);
  g_autoptr(GBytes) bad = tprops (0, -1, "soon", NULL, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(SsqAmqpTable) death = NULL;
  g_autoptr(SsqAmqpProperties) props = NULL;
  g_autofree char *original = NULL;
  SsqBrokerDelivery d;
  SsqBrokerQueueArgs args;
  gint64 count = 0;

  dlx_setup (c, &args);
  args.message_ttl_ms = 40;
  tdeclare (c, "ttl", 0, &args);
  ssq_broker_queue_args_clear (&args);
  tpublish_ok (c, "", "ttl", "queue-ttl", NULL);
  tpublish_ok (c, "", "ttl", "message-ttl", short_life);
  /* Nobody consumes: the timer dead-letters them on time, without a get. */
  wait_ready (t, "dead", 2);
  assert_get (c, "ttl", NULL);
  g_free (tget (c, "dead", TRUE, &d));
  g_free (tget (c, "dead", TRUE, &d));
  death = first_death (d.message, &count);
  assert_death (death, "expired", "ttl", "");
  g_assert_cmpint (count, ==, 1);
  original = ssq_amqp_table_dup_string (death, "original-expiration");
  g_assert_cmpstr (original, ==, "30");
  props = tdecode_props (d.message);
  g_assert_false (props->flags & SSQ_AMQP_PROP_EXPIRATION);

  /* A message TTL that is no number: 406, as RabbitMQ. */
  g_assert_false (tpublish (c, "", "ttl", "x", bad, FALSE, &error));
  g_assert_error (error, SSQ_BROKER_ERROR, SSQ_BROKER_ERROR_PRECONDITION_FAILED);
  g_test_message ("%s", error->message);
}

static gboolean
queue_gone (gpointer data)
{
  gpointer *d = data;
  g_autoptr(SsqBrokerQueueInfo) info = ssq_broker_queue_info (d[0], d[1], NULL);

  return info == NULL;
}

static void
test_expires (void)
{
  g_autoptr(TBroker) t = tbroker_new (NULL);
  g_autoptr(TChannel) c = tchannel_new (t, ALICE);
  SsqBrokerQueueArgs args;
  gpointer d[2] = { t->broker, (gpointer) "short" };
  g_autoptr(SsqBrokerQueueInfo) info = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *tag = NULL;

  ssq_broker_queue_args_init (&args);
  args.expires_ms = 50;
  tdeclare (c, "short", SSQ_BROKER_QUEUE_DURABLE, &args);
  tdeclare (c, "used", 0, &args);
  g_assert_true (ssq_broker_consume (c->channel, "used", NULL, &tag, &error));
  tbroker_wait (t, queue_gone, d);
  /* A queue with a consumer is in use: it stays. */
  info = ssq_broker_queue_info (t->broker, "used", &error);
  g_assert_no_error (error);
}

static void
test_max_length (void)
{
  g_autoptr(TBroker) t = tbroker_new (NULL);
  g_autoptr(TChannel) c = tchannel_new (t, ALICE);
  g_autoptr(SsqAmqpTable) death = NULL;
  SsqBrokerQueueArgs args;
  SsqBrokerDelivery d;
  gint64 count;

  dlx_setup (c, &args);
  args.max_length = 2;
  tdeclare (c, "drop", 0, &args);
  args.overflow = SSQ_BROKER_OVERFLOW_REJECT_PUBLISH;
  tdeclare (c, "reject", 0, &args);
  ssq_broker_queue_args_clear (&args);
  for (guint i = 1; i <= 3; i++)
    {
      g_autofree char *body = g_strdup_printf ("m%u", i);

      tpublish_ok (c, "", "drop", body, NULL);
      tpublish_ok (c, "", "reject", body, NULL);
    }
  tbroker_settle (t);
  /* drop-head: the oldest went, dead-lettered "maxlen". */
  assert_get (c, "drop", "m2");
  assert_get (c, "drop", "m3");
  g_free (tget (c, "dead", TRUE, &d));
  g_assert_nonnull (d.message);
  death = first_death (d.message, &count);
  assert_death (death, "maxlen", "drop", "");
  /* reject-publish: the newest was refused (nack), the queue kept its own. */
  assert_get (c, "reject", "m1");
  assert_get (c, "reject", "m2");
  assert_get (c, "reject", NULL);
  g_assert_cmpuint (c->outcomes->len, ==, 6);
  for (guint i = 0; i < 6; i++)
    g_assert_cmpint (g_array_index (c->outcomes, SsqBrokerPublishOutcome, i), ==,
                     i == 5 ? SSQ_BROKER_PUBLISH_NACK : SSQ_BROKER_PUBLISH_ACK);
  g_test_message ("%s", (char *) c->outcome_errors->pdata[5]);
}

static void
test_dead_letter_rejected (void)
{
  g_autoptr(TBroker) t = tbroker_new (NULL);
  g_autoptr(TChannel) c = tchannel_new (t, ALICE);
  g_autoptr(GError) error = NULL;
  g_autoptr(SsqAmqpTable) death = NULL;
  g_autoptr(SsqAmqpProperties) props = NULL;
  g_autofree char *first_reason = NULL;
  SsqBrokerQueueArgs args;
  SsqBrokerDelivery d;
  gint64 count;

  dlx_setup (c, &args);
  args.dead_letter_routing_key = g_strdup ("ignored-by-fanout");
  tdeclare (c, "work", 0, &args);
  ssq_broker_queue_args_clear (&args);
  /* "dead" sends its rejects back to "work": a loop through rejections is
   * allowed (a consumer decides), and the count goes up. */
  g_assert_true (ssq_broker_exchange_declare (c->channel, "back", "fanout", FALSE, FALSE, FALSE, FALSE,
                                              NULL, &error));
  bind (c, "work", "amq.direct", "job", NULL);
  tpublish_ok (c, "amq.direct", "job", "job-1", NULL);
  tbroker_settle (t);

  g_free (tget (c, "work", FALSE, &d));
  g_assert_true (ssq_broker_nack (c->channel, d.delivery_tag, FALSE, FALSE, &error));
  g_assert_no_error (error);
  g_free (tget (c, "dead", FALSE, &d));
  g_assert_nonnull (d.message);
  g_assert_cmpstr (ssq_broker_message_get_exchange (d.message), ==, "dlx");
  g_assert_cmpstr (ssq_broker_message_get_routing_key (d.message), ==, "ignored-by-fanout");
  death = first_death (d.message, &count);
  assert_death (death, "rejected", "work", "amq.direct");
  g_assert_cmpint (count, ==, 1);
  props = tdecode_props (d.message);
  first_reason = ssq_amqp_table_dup_string (props->headers, "x-first-death-reason");
  g_assert_cmpstr (first_reason, ==, "rejected");

  /* An unknown tag: 406, the channel's to close. */
  g_assert_false (ssq_broker_ack (c->channel, 999, FALSE, &error));
  g_assert_error (error, SSQ_BROKER_ERROR, SSQ_BROKER_ERROR_PRECONDITION_FAILED);
  g_assert_false (ssq_broker_error_is_hard (error->code));
}

/* REST leases: an expired lease redelivers; after the fifth delivery
 * (x-max-deliveries unset: 5 for leases) the message is dead-lettered
 * "delivery_limit"; the expired tag is unknown. */
static void
test_leases (void)
{
  g_autoptr(TBroker) t = tbroker_new (NULL);
  g_autoptr(TChannel) c = tchannel_new (t, ALICE);
  g_autoptr(GError) error = NULL;
  g_autoptr(SsqAmqpTable) death = NULL;
  SsqBrokerQueueArgs args;
  SsqBrokerDelivery d;
  gint64 count;

  dlx_setup (c, &args);
  tdeclare (c, "leased", 0, &args);
  ssq_broker_queue_args_clear (&args);
  tpublish_ok (c, "", "leased", "job", NULL);
  tbroker_settle (t);
  for (guint i = 1; i <= SSQ_BROKER_DEFAULT_MAX_DELIVERIES; i++)
    {
      g_assert_true (ssq_broker_get (c->channel, "leased", FALSE, 20, &d, &error));
      g_assert_no_error (error);
      g_assert_nonnull (d.message);
      g_assert_cmpuint (d.delivery_count, ==, i);
      g_assert_true (d.redelivered == (i > 1));
      if (i < SSQ_BROKER_DEFAULT_MAX_DELIVERIES)
        wait_ready (t, "leased", 1);
    }
  wait_ready (t, "dead", 1);
  g_assert_false (ssq_broker_ack (c->channel, d.delivery_tag, FALSE, &error));
  g_assert_error (error, SSQ_BROKER_ERROR, SSQ_BROKER_ERROR_PRECONDITION_FAILED);
  g_free (tget (c, "dead", TRUE, &d));
  death = first_death (d.message, &count);
  assert_death (death, "delivery_limit", "leased", "");
  assert_get (c, "leased", NULL);
}

static void
test_requeue_order (void)
{
  g_autoptr(TBroker) t = tbroker_new (NULL);
  g_autoptr(TChannel) c = tchannel_new (t, ALICE);
  g_autoptr(GError) error = NULL;
  SsqBrokerDelivery d1, d2, d;

  tdeclare (c, "q", 0, NULL);
  for (guint i = 1; i <= 4; i++)
    {
      g_autofree char *body = g_strdup_printf ("m%u", i);
      tpublish_ok (c, "", "q", body, NULL);
    }
  tbroker_settle (t);
  g_free (tget (c, "q", FALSE, &d1));
  g_free (tget (c, "q", FALSE, &d2));
  g_assert_false (d1.redelivered);
  /* Requeued in the other order, they still come back in theirs. */
  g_assert_true (ssq_broker_nack (c->channel, d2.delivery_tag, FALSE, TRUE, &error));
  g_assert_true (ssq_broker_nack (c->channel, d1.delivery_tag, FALSE, TRUE, &error));
  g_assert_no_error (error);
  {
    g_autofree char *a = tget (c, "q", FALSE, &d);
    g_assert_cmpstr (a, ==, "m1");
    g_assert_true (d.redelivered);
    g_assert_cmpuint (d.delivery_count, ==, 2);
  }
  {
    g_autofree char *b = tget (c, "q", FALSE, &d);
    g_assert_cmpstr (b, ==, "m2");
    g_assert_true (d.redelivered);
  }
  {
    g_autofree char *x = tget (c, "q", FALSE, &d);
    g_assert_cmpstr (x, ==, "m3");
    g_assert_false (d.redelivered);
  }
  /* Multiple: everything up to a tag; recover puts back the rest. */
  g_assert_true (ssq_broker_ack (c->channel, d.delivery_tag - 1, TRUE, &error));
  g_assert_true (ssq_broker_recover (c->channel, TRUE, &error));
  g_assert_no_error (error);
  assert_get (c, "q", "m3");
  assert_get (c, "q", "m4");
  g_assert_false (ssq_broker_recover (c->channel, FALSE, &error));
  g_assert_error (error, SSQ_BROKER_ERROR, SSQ_BROKER_ERROR_NOT_IMPLEMENTED);
}

static void
test_prefetch (void)
{
  g_autoptr(TBroker) t = tbroker_new (NULL);
  g_autoptr(TChannel) c = tchannel_new (t, ALICE);
  g_autoptr(TChannel) other = tchannel_new (t, BOB);
  g_autoptr(GError) error = NULL;
  g_autofree char *tag1 = NULL, *tag2 = NULL, *tag3 = NULL;
  TDelivery *d;

  tdeclare (c, "q", 0, NULL);
  tdeclare (c, "r", 0, NULL);
  for (guint i = 0; i < 10; i++)
    {
      tpublish_ok (c, "", "q", "job", NULL);
      tpublish_ok (c, "", "r", "job", NULL);
    }
  /* Per consumer: 2 each for the two consumers made after qos 2. */
  g_assert_true (ssq_broker_channel_qos (c->channel, 0, 2, FALSE, &error));
  g_assert_true (ssq_broker_consume (c->channel, "q", NULL, &tag1, &error));
  g_assert_true (ssq_broker_consume (c->channel, "r", NULL, &tag2, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (c->deliveries->len, ==, 0);   /* only from the main loop */
  tbroker_settle (t);
  g_assert_cmpuint (c->deliveries->len, ==, 4);
  d = c->deliveries->pdata[0];
  g_assert_true (ssq_broker_ack (c->channel, d->tag, FALSE, &error));
  tbroker_settle (t);
  g_assert_cmpuint (c->deliveries->len, ==, 5);
  /* Global: the channel as a whole at 5 (already reached). */
  g_assert_true (ssq_broker_channel_qos (c->channel, 0, 5, TRUE, &error));
  d = c->deliveries->pdata[1];
  g_assert_true (ssq_broker_ack (c->channel, d->tag, FALSE, &error));
  tbroker_settle (t);
  g_assert_cmpuint (c->deliveries->len, ==, 6);

  /* Round robin between two channels' consumers, prefetch 1 each. */
  g_assert_true (ssq_broker_channel_qos (other->channel, 0, 1, FALSE, &error));
  g_assert_true (ssq_broker_consume (other->channel, "q", NULL, &tag3, &error));
  tbroker_settle (t);
  g_assert_cmpuint (other->deliveries->len, ==, 1);
  ssq_broker_cancel (other->channel, tag3);

  /* A front end that cannot take more stops the flow, and starts it. */
  ssq_broker_channel_set_writable (c->channel, FALSE);
  g_assert_true (ssq_broker_ack (c->channel, 0, TRUE, &error));
  tbroker_settle (t);
  g_assert_cmpuint (c->deliveries->len, ==, 6);
  ssq_broker_channel_set_writable (c->channel, TRUE);
  tbroker_settle (t);
  g_assert_cmpuint (c->deliveries->len, >, 6);
}

static void
test_consumers (void)
{
  g_autoptr(TBroker) t = tbroker_new (NULL);
  g_autoptr(TChannel) c = tchannel_new (t, ALICE);
  g_autoptr(TChannel) b = tchannel_new (t, BOB);
  g_autoptr(GError) error = NULL;
  g_autofree char *tag = NULL, *tag_b = NULL, *named = NULL;
  SsqBrokerConsumeOptions exclusive = { .consumer_tag = "mine", .exclusive = TRUE };
  SsqBrokerConsumeOptions no_ack = { .consumer_tag = "fast", .no_ack = TRUE };
  guint32 count = 0;

  tdeclare (c, "shared", 0, NULL);
  g_assert_true (ssq_broker_consume (c->channel, "shared", &exclusive, &tag, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (tag, ==, "mine");
  /* Exclusive consumer: nobody else; same tag twice: 530. */
  g_assert_false (ssq_broker_consume (b->channel, "shared", NULL, &tag_b, &error));
  g_assert_error (error, SSQ_BROKER_ERROR, SSQ_BROKER_ERROR_ACCESS_REFUSED);
  g_clear_error (&error);
  ssq_broker_cancel (c->channel, "mine");
  g_assert_true (ssq_broker_consume (b->channel, "shared", &no_ack, &tag_b, &error));
  g_assert_false (ssq_broker_consume (b->channel, "shared", &no_ack, NULL, &error));
  g_assert_error (error, SSQ_BROKER_ERROR, SSQ_BROKER_ERROR_NOT_ALLOWED);
  g_clear_error (&error);

  /* Not the owner: no delete, no purge. */
  g_assert_false (ssq_broker_queue_delete (b->channel, "shared", FALSE, FALSE, NULL, &error));
  g_assert_error (error, SSQ_BROKER_ERROR, SSQ_BROKER_ERROR_ACCESS_REFUSED);
  g_test_message ("%s", error->message);
  g_clear_error (&error);
  g_assert_false (ssq_broker_queue_purge (b->channel, "shared", NULL, &error));
  g_assert_error (error, SSQ_BROKER_ERROR, SSQ_BROKER_ERROR_ACCESS_REFUSED);
  g_clear_error (&error);
  /* In use: if_unused refuses. The owner deletes: the consumer is told. */
  g_assert_false (ssq_broker_queue_delete (c->channel, "shared", TRUE, FALSE, NULL, &error));
  g_assert_error (error, SSQ_BROKER_ERROR, SSQ_BROKER_ERROR_PRECONDITION_FAILED);
  g_clear_error (&error);
  g_assert_true (ssq_broker_queue_delete (c->channel, "shared", FALSE, FALSE, &count, &error));
  g_assert_cmpuint (b->cancelled->len, ==, 0);
  tbroker_settle (t);
  g_assert_cmpuint (b->cancelled->len, ==, 1);
  g_assert_cmpstr (b->cancelled->pdata[0], ==, "fast");

  /* Server-named, exclusive: another connection gets 405. */
  g_assert_true (ssq_broker_queue_declare (c->channel, "", SSQ_BROKER_QUEUE_EXCLUSIVE, NULL, &named,
                                           NULL, NULL, &error));
  g_assert_true (g_str_has_prefix (named, "amq.gen-"));
  g_assert_cmpuint (strlen (named), ==, strlen ("amq.gen-") + 22);
  g_assert_false (ssq_broker_queue_declare (b->channel, named, SSQ_BROKER_QUEUE_PASSIVE, NULL, NULL,
                                            NULL, NULL, &error));
  g_assert_error (error, SSQ_BROKER_ERROR, SSQ_BROKER_ERROR_RESOURCE_LOCKED);
  g_clear_error (&error);
  /* Reserved queue names; passive on nothing: 404. */
  g_assert_false (ssq_broker_queue_declare (c->channel, "amq.mine", 0, NULL, NULL, NULL, NULL, &error));
  g_assert_error (error, SSQ_BROKER_ERROR, SSQ_BROKER_ERROR_ACCESS_REFUSED);
  g_clear_error (&error);
  g_assert_false (ssq_broker_queue_declare (c->channel, "absent", SSQ_BROKER_QUEUE_PASSIVE, NULL, NULL,
                                            NULL, NULL, &error));
  g_assert_error (error, SSQ_BROKER_ERROR, SSQ_BROKER_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* Auto-delete: gone with its last consumer. */
  tdeclare (c, "auto", SSQ_BROKER_QUEUE_AUTO_DELETE, NULL);
  g_clear_pointer (&tag, g_free);
  g_assert_true (ssq_broker_consume (c->channel, "auto", NULL, &tag, &error));
  ssq_broker_cancel (c->channel, tag);
  g_assert_null (ssq_broker_queue_info (t->broker, "auto", NULL));
  /* The exclusive queue goes with its connection. */
  g_clear_pointer (&c, tchannel_free);
  g_assert_null (ssq_broker_queue_info (t->broker, named, NULL));
}

static void
test_user_id_and_mandatory (void)
{
  g_autoptr(TBroker) t = tbroker_new (NULL);
  g_autoptr(TChannel) c = tchannel_new (t, ALICE);
  g_autoptr(GBytes) mine = tprops (0, -1, NULL, NULL, "alice");
  g_autoptr(GBytes) theirs = tprops (0, -1, NULL, NULL, "bob");
  g_autoptr(GError) error = NULL;

  tdeclare (c, "q", 0, NULL);
  tpublish_ok (c, "", "q", "signed", mine);
  g_assert_false (tpublish (c, "", "q", "forged", theirs, FALSE, &error));
  g_assert_error (error, SSQ_BROKER_ERROR, SSQ_BROKER_ERROR_PRECONDITION_FAILED);
  g_test_message ("%s", error->message);
  g_clear_error (&error);
  g_assert_true (tpublish (c, "", "nowhere", "lost", NULL, TRUE, &error));
  g_assert_true (tpublish (c, "", "nowhere", "dropped", NULL, FALSE, &error));
  tbroker_settle (t);
  g_assert_cmpuint (c->outcomes->len, ==, 3);
  g_assert_cmpint (g_array_index (c->outcomes, SsqBrokerPublishOutcome, 0), ==, SSQ_BROKER_PUBLISH_ACK);
  g_assert_cmpint (g_array_index (c->outcomes, SsqBrokerPublishOutcome, 1), ==, SSQ_BROKER_PUBLISH_RETURN);
  g_assert_cmpint (g_array_index (c->outcomes, SsqBrokerPublishOutcome, 2), ==, SSQ_BROKER_PUBLISH_ACK);
  assert_get (c, "q", "signed");
}

/* The bridge's hooks: a handler that completes later, a filter by binder. */
typedef struct {
  SsqBrokerPending *pending;
  char             *publisher;
} Held;

static void
handler (SsqBroker                *broker,
         const SsqBrokerPrincipal *publisher,
         SsqBrokerMessage         *message,
         SsqBrokerPending         *pending,
         gpointer                  user_data)
{
  Held *held = user_data;

  held->pending = pending;
  g_free (held->publisher);
  held->publisher = g_strdup (publisher->username);
}

static gboolean
filter (const char       *binder,
        SsqBrokerMessage *message,
        gpointer          user_data)
{
  return g_str_has_suffix (ssq_broker_message_get_routing_key (message), binder);
}

static void
test_special_exchanges (void)
{
  g_autoptr(TBroker) t = tbroker_new (NULL);
  g_autoptr(TChannel) a = tchannel_new (t, ALICE);
  g_autoptr(TChannel) b = tchannel_new (t, BOB);
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) refused = g_error_new_literal (SSQ_BROKER_ERROR, SSQ_BROKER_ERROR_NOT_FOUND,
                                                   "NOT_FOUND - no conversation 'c9'");
  Held held = { 0 };

  ssq_broker_add_special_exchange (t->broker, "supersoniq.chat", SSQ_BROKER_EXCHANGE_TOPIC, handler, NULL,
                                   &held, NULL);
  ssq_broker_add_special_exchange (t->broker, "supersoniq.events", SSQ_BROKER_EXCHANGE_TOPIC, NULL, filter,
                                   NULL, NULL);
  tpublish_ok (a, "supersoniq.chat", "c1", "hello", NULL);
  tbroker_settle (t);
  g_assert_cmpstr (held.publisher, ==, "alice");
  g_assert_cmpuint (a->outcomes->len, ==, 0);   /* not before the handler completes */
  ssq_broker_pending_complete (held.pending, NULL);
  g_assert_cmpuint (a->outcomes->len, ==, 0);   /* and never from inside a call */
  tbroker_settle (t);
  g_assert_cmpuint (a->outcomes->len, ==, 1);
  g_assert_cmpint (g_array_index (a->outcomes, SsqBrokerPublishOutcome, 0), ==, SSQ_BROKER_PUBLISH_ACK);
  /* Refused: mandatory returns it, otherwise the channel errs. */
  g_assert_true (tpublish (a, "supersoniq.chat", "c9", "x", NULL, TRUE, &error));
  ssq_broker_pending_complete (held.pending, refused);
  g_assert_true (tpublish (a, "supersoniq.chat", "c9", "x", NULL, FALSE, &error));
  ssq_broker_pending_complete (held.pending, refused);
  tbroker_settle (t);
  g_assert_cmpint (g_array_index (a->outcomes, SsqBrokerPublishOutcome, 1), ==, SSQ_BROKER_PUBLISH_RETURN);
  g_assert_cmpint (g_array_index (a->outcomes, SsqBrokerPublishOutcome, 2), ==,
                   SSQ_BROKER_PUBLISH_CHANNEL_ERROR);
  g_assert_cmpstr (a->outcome_errors->pdata[1], ==, "NOT_FOUND - no conversation 'c9'");
  /* Nobody deletes them. */
  g_assert_false (ssq_broker_exchange_delete (a->channel, "supersoniq.chat", FALSE, &error));
  g_assert_error (error, SSQ_BROKER_ERROR, SSQ_BROKER_ERROR_ACCESS_REFUSED);

  /* events: each binding sees what its binder may see. */
  tdeclare (a, "a-events", 0, NULL);
  tdeclare (b, "b-events", 0, NULL);
  bind (a, "a-events", "supersoniq.events", "conversation.#", NULL);
  bind (b, "b-events", "supersoniq.events", "conversation.#", NULL);
  {
    g_autoptr(GBytes) body = g_bytes_new_static ("{}", 2);
    g_autoptr(SsqBrokerMessage) m1 = ssq_broker_message_new ("supersoniq.events", "conversation.u-alice",
                                                             NULL, body);
    g_autoptr(SsqBrokerMessage) m2 = ssq_broker_message_new ("supersoniq.events", "conversation.u-bob",
                                                             NULL, body);

    ssq_broker_publish_internal (t->broker, m1);
    ssq_broker_publish_internal (t->broker, m2);
  }
  tbroker_settle (t);
  {
    SsqBrokerDelivery d;
    g_autofree char *x = tget (a, "a-events", TRUE, &d);
    g_autofree char *y = NULL, *z = NULL;

    g_assert_cmpstr (ssq_broker_message_get_routing_key (d.message), ==, "conversation.u-alice");
    y = tget (a, "a-events", TRUE, NULL);
    g_assert_null (y);
    z = tget (b, "b-events", TRUE, &d);
    g_assert_cmpstr (ssq_broker_message_get_routing_key (d.message), ==, "conversation.u-bob");
  }
  g_free (held.publisher);
}

static void
test_user_gone (void)
{
  g_autoptr(TBroker) t = tbroker_new (NULL);
  g_autoptr(TChannel) a = tchannel_new (t, ALICE);
  g_autoptr(TChannel) b = tchannel_new (t, BOB);

  tdeclare (a, "a-auto", SSQ_BROKER_QUEUE_AUTO_DELETE, NULL);
  tdeclare (a, "a-kept", SSQ_BROKER_QUEUE_DURABLE, NULL);
  ssq_broker_user_gone (t->broker, "u-alice");
  g_assert_false (a->forced);   /* from the main loop */
  tbroker_settle (t);
  g_assert_true (a->forced);
  g_assert_false (b->forced);
  g_assert_null (ssq_broker_queue_info (t->broker, "a-auto", NULL));
  {
    g_autoptr(SsqBrokerQueueInfo) kept = ssq_broker_queue_info (t->broker, "a-kept", NULL);
    g_assert_nonnull (kept);
    g_assert_cmpstr (kept->owner_id, ==, "u-alice");
  }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/broker/routing", test_routing);
  g_test_add_func ("/broker/topic-patterns", test_topic_patterns);
  g_test_add_func ("/broker/headers", test_headers);
  g_test_add_func ("/broker/priorities", test_priorities);
  g_test_add_func ("/broker/ttl", test_ttl);
  g_test_add_func ("/broker/expires", test_expires);
  g_test_add_func ("/broker/max-length", test_max_length);
  g_test_add_func ("/broker/dead-letter-rejected", test_dead_letter_rejected);
  g_test_add_func ("/broker/requeue-order", test_requeue_order);
  g_test_add_func ("/broker/leases", test_leases);
  g_test_add_func ("/broker/prefetch", test_prefetch);
  g_test_add_func ("/broker/consumers", test_consumers);
  g_test_add_func ("/broker/user-id-and-mandatory", test_user_id_and_mandatory);
  g_test_add_func ("/broker/special-exchanges", test_special_exchanges);
  g_test_add_func ("/broker/user-gone", test_user_gone);
  return g_test_run ();
}
