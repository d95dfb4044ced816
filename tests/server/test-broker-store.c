/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-broker-store.c: the broker's durable state on a real store: what
 * survives a restart and a crash (a copy of the files taken while it ran),
 * publisher confirms only after the commit, the writer operations a
 * publish and an ack cost, and every [broker] bound pushed past. */
#include "ssq-test-broker.h"

#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>

#define ALICE "u-alice", "alice", FALSE
#define BOB   "u-bob", "bob", FALSE

static gint64
count_rows (const char *path,
            const char *sql)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *s = NULL;
  gint64 n;

  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &s, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (s), ==, SQLITE_ROW);
  n = sqlite3_column_int64 (s, 0);
  sqlite3_finalize (s);
  sqlite3_close (db);
  return n;
}

static void
copy_file (const char *from,
           const char *to)
{
  g_autofree char *data = NULL;
  gsize len;

  if (!g_file_get_contents (from, &data, &len, NULL))
    return;   /* no WAL: nothing to copy */
  g_assert_true (g_file_set_contents (to, data, len, NULL));
}

/* The files as a SIGKILL would leave them, into another directory. */
static TBroker *
crash_copy (TBroker *t)
{
  g_autoptr(GError) error = NULL;
  TBroker *c = g_new0 (TBroker, 1);
  const char *suffixes[] = { "", "-wal" };

  c->dir = g_dir_make_tmp ("ssq-broker-crash-XXXXXX", &error);
  g_assert_no_error (error);
  c->path = g_build_filename (c->dir, "test.db", NULL);
  c->limits = t->limits;
  for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++)
    {
      g_autofree char *from = g_strconcat (t->path, suffixes[i], NULL);
      g_autofree char *to = g_strconcat (c->path, suffixes[i], NULL);
      copy_file (from, to);
    }
  return c;
}

static void
bind (TChannel   *c,
      const char *queue,
      const char *exchange,
      const char *key)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (ssq_broker_queue_bind (c->channel, queue, exchange, key, NULL, &error));
  g_assert_no_error (error);
}

/* "dq": durable, priorities up to 5, dead letters to "dq2". */
static void
declare_dq (TChannel *c)
{
  SsqBrokerQueueArgs args;

  ssq_broker_queue_args_init (&args);
  args.max_priority = 5;
  args.dead_letter_exchange = g_strdup ("");
  args.dead_letter_routing_key = g_strdup ("dq2");
  tdeclare (c, "dq", SSQ_BROKER_QUEUE_DURABLE, &args);
  ssq_broker_queue_args_clear (&args);
}

static void
declare_durable (TChannel *c)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (ssq_broker_exchange_declare (c->channel, "dx", "direct", FALSE, TRUE, FALSE, FALSE,
                                              NULL, &error));
  g_assert_true (ssq_broker_exchange_declare (c->channel, "fan", "fanout", FALSE, TRUE, FALSE, FALSE,
                                              NULL, &error));
  g_assert_no_error (error);
  declare_dq (c);
  tdeclare (c, "dq2", SSQ_BROKER_QUEUE_DURABLE, NULL);
  tdeclare (c, "tq", 0, NULL);
  bind (c, "dq", "dx", "k");
  bind (c, "dq", "fan", "");
  bind (c, "dq2", "fan", "");
  bind (c, "tq", "fan", "");
}

static void
assert_restored (TBroker *t)
{
  g_autoptr(TChannel) c = tchannel_new (t, ALICE);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) persistent = tprops (2, -1, NULL, NULL, NULL);
  SsqBrokerDelivery d;
  g_autofree char *m1 = NULL, *m3 = NULL, *fan = NULL, *none = NULL, *fan2 = NULL, *again = NULL;

  /* The queue and its arguments: the same declaration is equivalent. */
  declare_dq (c);
  g_assert_false (ssq_broker_queue_declare (c->channel, "dq", SSQ_BROKER_QUEUE_DURABLE, NULL, NULL, NULL,
                                            NULL, &error));
  g_assert_error (error, SSQ_BROKER_ERROR, SSQ_BROKER_ERROR_PRECONDITION_FAILED);
  g_clear_error (&error);
  /* Transient queue: gone. */
  g_assert_null (ssq_broker_queue_info (t->broker, "tq", NULL));

  /* Delivered and not acknowledged: back, redelivered. Acked: gone.
   * Transient: gone. Order kept. */
  m1 = tget (c, "dq", FALSE, &d);
  g_assert_cmpstr (m1, ==, "m1");
  g_assert_true (d.redelivered);
  m3 = tget (c, "dq", FALSE, &d);
  g_assert_cmpstr (m3, ==, "m3");
  g_assert_false (d.redelivered);
  fan = tget (c, "dq", FALSE, &d);
  g_assert_cmpstr (fan, ==, "fan");
  none = tget (c, "dq", FALSE, &d);
  g_assert_null (none);
  fan2 = tget (c, "dq2", FALSE, &d);
  g_assert_cmpstr (fan2, ==, "fan");
  /* Rejected after the restart: the queue's dead-letter settings hold. */
  g_assert_true (ssq_broker_nack (c->channel, 1, FALSE, FALSE, &error));
  g_assert_no_error (error);
  again = tget (c, "dq2", TRUE, &d);
  g_assert_cmpstr (again, ==, "m1");

  /* Exchange and binding: still routing. */
  tpublish_ok (c, "dx", "k", "after", persistent);
  tbroker_settle (t);
  {
    g_autoptr(SsqBrokerQueueInfo) info = ssq_broker_queue_info (t->broker, "dq", &error);
    g_assert_no_error (error);
    g_assert_cmpuint (info->ready, ==, 1);
    g_assert_cmpuint (info->unacked, ==, 2);
    g_assert_true (info->durable);
    g_assert_cmpuint (info->args.max_priority, ==, 5);
  }
}

static void
publish_set (TBroker  *t,
             TChannel *c)
{
  g_autoptr(GBytes) persistent = tprops (2, -1, NULL, NULL, NULL);
  g_autoptr(GBytes) transient = tprops (1, -1, NULL, NULL, NULL);
  SsqBrokerDelivery d;
  g_autofree char *m1 = NULL, *m2 = NULL;
  g_autoptr(GError) error = NULL;

  tpublish_ok (c, "dx", "k", "m1", persistent);
  tpublish_ok (c, "dx", "k", "m2", persistent);
  tpublish_ok (c, "dx", "k", "transient", transient);
  tpublish_ok (c, "dx", "k", "m3", persistent);
  tpublish_ok (c, "fan", "", "fan", persistent);
  tbroker_settle (t);
  g_assert_cmpuint (c->outcomes->len, ==, 5);
  m1 = tget (c, "dq", FALSE, &d);
  g_assert_cmpstr (m1, ==, "m1");
  m2 = tget (c, "dq", FALSE, &d);
  g_assert_true (ssq_broker_ack (c->channel, d.delivery_tag, FALSE, &error));
  g_assert_no_error (error);
  tbroker_settle (t);
  /* One body for the fanout's two durable queues. */
  g_assert_cmpint (count_rows (t->path, "SELECT count(*) FROM broker_messages WHERE CAST(body AS TEXT) = 'fan'"), ==, 1);
  g_assert_cmpint (count_rows (t->path, "SELECT count(*) FROM broker_queue_messages"), ==, 4);
  g_assert_cmpint (count_rows (t->path, "SELECT count(*) FROM broker_messages"), ==, 3);
}

static void
test_restart (void)
{
  g_autoptr(TBroker) t = tbroker_new (NULL);
  TChannel *c = tchannel_new (t, ALICE);

  declare_durable (c);
  publish_set (t, c);
  tchannel_free (c);   /* a clean close requeues m1, delivered once */
  tbroker_reopen (t);
  assert_restored (t);
}

static void
test_crash (void)
{
  g_autoptr(TBroker) t = tbroker_new (NULL);
  g_autoptr(TChannel) c = tchannel_new (t, ALICE);
  g_autoptr(TBroker) after = NULL;

  declare_durable (c);
  publish_set (t, c);
  /* m1 is still delivered and unacknowledged on c when the files are taken. */
  after = crash_copy (t);
  tbroker_reopen (after);
  assert_restored (after);
}

/* When the ACK comes, the rows are committed: another connection sees them. */
typedef struct {
  const char *path;
  guint       acks;
} Confirm;

static void
confirm_cb (SsqBrokerChannel        *channel,
            SsqBrokerPublishOutcome  outcome,
            SsqBrokerMessage        *message,
            const GError            *error,
            gpointer                 user_data)
{
  Confirm *c = user_data;
  g_autofree char *sql = g_strdup_printf ("SELECT count(*) FROM broker_messages WHERE id = %" G_GUINT64_FORMAT,
                                          ssq_broker_message_get_id (message));

  g_assert_cmpint (outcome, ==, SSQ_BROKER_PUBLISH_ACK);
  g_assert_cmpint (count_rows (c->path, sql), ==, 1);
  c->acks++;
}

static void
test_confirm_after_commit (void)
{
  g_autoptr(TBroker) t = tbroker_new (NULL);
  g_autoptr(TChannel) c = tchannel_new (t, ALICE);
  g_autoptr(GBytes) persistent = tprops (2, -1, NULL, NULL, NULL);
  g_autoptr(GBytes) body = g_bytes_new_static ("durable", 7);
  Confirm confirm = { t->path, 0 };
  SsqBrokerStats before, mid, after;
  const guint n = 1000;
  SsqBrokerDelivery d;
  g_autoptr(GError) error = NULL;

  tdeclare (c, "dq", SSQ_BROKER_QUEUE_DURABLE, NULL);
  tbroker_settle (t);
  ssq_broker_get_stats (t->broker, &before);
  /* A burst in one main-loop turn, as frames read at once arrive. */
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(SsqBrokerMessage) m = ssq_broker_message_new ("", "dq", persistent, body);

      g_assert_true (ssq_broker_publish (c->channel, m, FALSE, confirm_cb, &confirm, NULL, &error));
    }
  g_assert_cmpuint (confirm.acks, ==, 0);
  tbroker_settle (t);
  g_assert_cmpuint (confirm.acks, ==, n);
  ssq_broker_get_stats (t->broker, &mid);
  for (guint i = 0; i < n; i++)
    g_free (tget (c, "dq", FALSE, &d));
  g_assert_true (ssq_broker_ack (c->channel, 0, TRUE, &error));
  tbroker_settle (t);
  ssq_broker_get_stats (t->broker, &after);
  g_test_message ("writer operations: %" G_GUINT64_FORMAT " for %u persistent publishes, %" G_GUINT64_FORMAT
                  " for %u gets and one multiple ack", mid.writer_ops - before.writer_ops, n,
                  after.writer_ops - mid.writer_ops, n);
  /* Gathered per turn, not one per message. */
  g_assert_cmpuint (mid.writer_ops - before.writer_ops, <=, 2);
  g_assert_cmpuint (after.writer_ops - mid.writer_ops, <=, 2);
  g_assert_cmpint (count_rows (t->path, "SELECT count(*) FROM broker_messages"), ==, 0);
  g_assert_cmpuint (after.memory_bytes, ==, 0);
}

/* What one message of "ten bytes!" in q1 costs max_memory: its body and
 * its bookkeeping. */
static guint64
message_cost (void)
{
  g_autoptr(TBroker) t = tbroker_new (NULL);
  g_autoptr(TChannel) a = tchannel_new (t, ALICE);
  SsqBrokerStats stats;

  tdeclare (a, "q1", 0, NULL);
  tpublish_ok (a, "", "q1", "ten bytes!", NULL);
  ssq_broker_get_stats (t->broker, &stats);
  g_test_message ("one message of 10 bytes costs %" G_GUINT64_FORMAT " bytes of max_memory",
                  stats.memory_bytes);
  g_assert_cmpuint (stats.memory_bytes, >, 10);
  return stats.memory_bytes;
}

static void
test_bounds (void)
{
  SsqBrokerLimits limits = {
    .max_queues = 3, .max_queues_per_user = 2, .max_exchanges = 1, .max_bindings = 2,
    .max_message_size = 10, .max_memory = 5 * message_cost (), .max_unacked_per_channel = 2,
    .max_consumers_per_channel = 1,
  };
  g_autoptr(TBroker) t = tbroker_new (&limits);
  g_autoptr(TChannel) a = tchannel_new (t, ALICE);
  g_autoptr(TChannel) b = tchannel_new (t, BOB);
  g_autoptr(GError) error = NULL;
  g_autofree char *tag = NULL;
  SsqBrokerDelivery d;
  guint published = 0;

  /* Queues: alice's own bound, then the server's. */
  tdeclare (a, "q1", 0, NULL);
  tdeclare (a, "q2", 0, NULL);
  texpect_error (ssq_broker_queue_declare (a->channel, "q3", 0, NULL, NULL, NULL, NULL, &error), &error,
                 SSQ_BROKER_ERROR_RESOURCE_ERROR);
  tdeclare (b, "b1", 0, NULL);
  texpect_error (ssq_broker_queue_declare (b->channel, "b2", 0, NULL, NULL, NULL, NULL, &error), &error,
                 SSQ_BROKER_ERROR_RESOURCE_ERROR);
  /* Exchanges and bindings. */
  g_assert_true (ssq_broker_exchange_declare (a->channel, "e1", "fanout", FALSE, FALSE, FALSE, FALSE,
                                              NULL, &error));
  texpect_error (ssq_broker_exchange_declare (a->channel, "e2", "fanout", FALSE, FALSE, FALSE, FALSE, NULL,
                                              &error), &error, SSQ_BROKER_ERROR_RESOURCE_ERROR);
  g_assert_true (ssq_broker_queue_bind (a->channel, "q1", "e1", "", NULL, &error));
  g_assert_true (ssq_broker_queue_bind (a->channel, "q2", "e1", "", NULL, &error));
  texpect_error (ssq_broker_queue_bind (b->channel, "b1", "e1", "", NULL, &error), &error,
                 SSQ_BROKER_ERROR_RESOURCE_ERROR);
  /* One body over the size: 406 before anything is kept. */
  texpect_error (ssq_broker_check_body_size (t->broker, 11, &error), &error, SSQ_BROKER_ERROR_PRECONDITION_FAILED);
  texpect_error (tpublish (a, "", "q1", "eleven byte", NULL, FALSE, &error), &error,
                 SSQ_BROKER_ERROR_PRECONDITION_FAILED);
  /* Memory: five messages in all; past it 506, and others still
   * consume; room again once some leave. */
  while (tpublish (a, "", "q1", "ten bytes!", NULL, FALSE, &error))
    published++;
  g_assert_cmpuint (published, ==, 5);
  g_assert_true (ssq_broker_error_is_memory_full (error));
  texpect_error (FALSE, &error, SSQ_BROKER_ERROR_RESOURCE_ERROR);
  g_free (tget (b, "q1", TRUE, &d));
  g_assert_nonnull (d.message);
  tpublish_ok (a, "", "q1", "ten bytes!", NULL);
  /* Unacked per channel: a third get is refused until an ack. */
  g_free (tget (b, "q1", FALSE, &d));
  g_free (tget (b, "q1", FALSE, &d));
  texpect_error (ssq_broker_get (b->channel, "q1", FALSE, 0, &d, &error), &error, SSQ_BROKER_ERROR_RESOURCE_ERROR);
  g_assert_false (ssq_broker_error_is_memory_full (NULL));
  g_assert_true (ssq_broker_ack (b->channel, 0, TRUE, &error));
  g_free (tget (b, "q1", FALSE, &d));
  g_assert_nonnull (d.message);
  /* Consumers per channel. */
  g_assert_true (ssq_broker_consume (a->channel, "q2", NULL, &tag, &error));
  texpect_error (ssq_broker_consume (a->channel, "q1", NULL, NULL, &error), &error, SSQ_BROKER_ERROR_RESOURCE_ERROR);
  /* And another channel is served all along. */
  g_assert_true (ssq_broker_consume (b->channel, "q1", NULL, NULL, &error));
  tbroker_settle (t);
  g_assert_cmpuint (b->deliveries->len, ==, 1);   /* its unacked bound: 2 */
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/broker-store/restart", test_restart);
  g_test_add_func ("/broker-store/crash", test_crash);
  g_test_add_func ("/broker-store/confirm-after-commit", test_confirm_after_commit);
  g_test_add_func ("/broker-store/bounds", test_bounds);
  return g_test_run ();
}
