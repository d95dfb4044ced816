/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-bench-amqp.c: AMQP 0-9-1 load generator on librabbitmq (a client
 * nobody here wrote), the same rows against any broker given by URL:
 *   confirm     persistent publishes with publisher confirms, several
 *               publishers (messages/s, confirm latency p50/p99)
 *   transient1  transient publish -> consume with 1 consumer (messages/s)
 *   transient10 the same with 10 consumers
 *   fanout100   a fanout exchange to 100 queues (deliveries/s)
 * Run by tests/bench/bench-amqp.sh against SupersoniQ and RabbitMQ side by
 * side. Besides its prose, each figure is printed as a line
 * "RESULT <name> <value>" for the script's ratio table. Not part of the
 * test run. */
#include <glib.h>
#include <amqp.h>
#include <amqp_tcp_socket.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#define ROW_DEADLINE_US (G_USEC_PER_SEC * 300)
#define FANOUT_QUEUES 100
#define FANOUT_THREADS 4

static struct amqp_connection_info target;
static char *target_url;
static guint opt_publishers = 4;
static guint opt_messages = 20000;   /* per row (per publisher for confirm) */
static guint opt_fanout_messages = 2000;
static guint opt_size = 256;
static guint opt_window = 64;        /* unconfirmed publishes per publisher */
static guint opt_prefetch = 200;
static char *opt_rows = NULL;
static char *opt_prefix = NULL;      /* queue names, so runs do not collide */
static char *payload;

/* ---------------------------------------------------------------------- */
/* Connections */

static void G_GNUC_NORETURN
fail (const char *what, const char *detail)
{
  fprintf (stderr, "ssq-bench-amqp: %s: %s\n", what, detail);
  exit (1);
}

static void
check_reply (amqp_rpc_reply_t r, const char *what)
{
  g_autofree char *detail = NULL;

  switch (r.reply_type)
    {
    case AMQP_RESPONSE_NORMAL:
      return;
    case AMQP_RESPONSE_LIBRARY_EXCEPTION:
      fail (what, amqp_error_string2 (r.library_error));
    case AMQP_RESPONSE_SERVER_EXCEPTION:
      if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD)
        {
          amqp_connection_close_t *c = r.reply.decoded;
          detail = g_strdup_printf ("connection.close %u %.*s", c->reply_code,
                                    (int) c->reply_text.len, (char *) c->reply_text.bytes);
        }
      else if (r.reply.id == AMQP_CHANNEL_CLOSE_METHOD)
        {
          amqp_channel_close_t *c = r.reply.decoded;
          detail = g_strdup_printf ("channel.close %u %.*s", c->reply_code,
                                    (int) c->reply_text.len, (char *) c->reply_text.bytes);
        }
      else
        detail = g_strdup_printf ("method %08x", r.reply.id);
      fail (what, detail);
    default:
      fail (what, "no reply");
    }
}

static amqp_connection_state_t
bench_connect (guint channels)
{
  amqp_connection_state_t conn = amqp_new_connection ();
  amqp_socket_t *sock = amqp_tcp_socket_new (conn);
  struct timeval tv = { 30, 0 };

  if (sock == NULL)
    fail ("socket", "amqp_tcp_socket_new");
  if (amqp_socket_open_noblock (sock, target.host, target.port, &tv) != AMQP_STATUS_OK)
    fail ("connect", target_url);
  check_reply (amqp_login (conn, target.vhost, 0, 131072, 0, AMQP_SASL_METHOD_PLAIN,
                           target.user, target.password), "login");
  for (guint ch = 1; ch <= channels; ch++)
    {
      amqp_channel_open (conn, (amqp_channel_t) ch);
      check_reply (amqp_get_rpc_reply (conn), "channel.open");
    }
  return conn;
}

static void
bench_disconnect (amqp_connection_state_t conn)
{
  amqp_connection_close (conn, AMQP_REPLY_SUCCESS);
  amqp_destroy_connection (conn);
}

static void
declare_queue (amqp_connection_state_t conn, const char *name, gboolean durable)
{
  amqp_queue_declare (conn, 1, amqp_cstring_bytes (name), 0, durable, 0, 0, amqp_empty_table);
  check_reply (amqp_get_rpc_reply (conn), "queue.declare");
  amqp_queue_purge (conn, 1, amqp_cstring_bytes (name));
  check_reply (amqp_get_rpc_reply (conn), "queue.purge");
}

static void
delete_queue (amqp_connection_state_t conn, const char *name)
{
  amqp_queue_delete (conn, 1, amqp_cstring_bytes (name), 0, 0);
  check_reply (amqp_get_rpc_reply (conn), "queue.delete");
}

static char *
queue_name (const char *row, guint i)
{
  return g_strdup_printf ("%s.%s.%u", opt_prefix, row, i);
}

static void
publish (amqp_connection_state_t conn, amqp_channel_t ch, const char *exchange,
         const char *key, gboolean persistent)
{
  amqp_basic_properties_t props = { 0 };
  amqp_bytes_t body = { opt_size, payload };

  props._flags = AMQP_BASIC_DELIVERY_MODE_FLAG;
  props.delivery_mode = persistent ? 2 : 1;
  if (amqp_basic_publish (conn, ch, amqp_cstring_bytes (exchange), amqp_cstring_bytes (key),
                          0, 0, &props, body) != AMQP_STATUS_OK)
    fail ("basic.publish", key);
}

/* ---------------------------------------------------------------------- */
/* Row: persistent publishes with confirms */

typedef struct {
  guint index;
  GArray *latency_us;   /* one per confirmed message */
  guint nacks;
} ConfirmPublisher;

/* Marks seq (and, for a multiple ack, every unconfirmed one below it) as
 * confirmed; returns how many it newly confirmed. */
static guint
confirm_upto (ConfirmPublisher *p, gint64 *sent_at, guint64 *lowest, guint64 tag,
              gboolean multiple, gboolean ack, gint64 now)
{
  guint64 from = multiple ? *lowest : tag;
  guint n = 0;

  for (guint64 s = from; s <= tag; s++)
    {
      if (sent_at[s] < 0)
        continue;
      if (ack)
        {
          gint64 us = now - sent_at[s];
          g_array_append_val (p->latency_us, us);
        }
      else
        p->nacks++;
      sent_at[s] = -1;
      n++;
    }
  while (*lowest <= tag && sent_at[*lowest] < 0)
    (*lowest)++;
  return n;
}

static guint
confirm_wait (ConfirmPublisher *p, amqp_connection_state_t conn, gint64 *sent_at,
              guint64 *lowest, gboolean block)
{
  amqp_frame_t frame;
  struct timeval tv = { block ? 30 : 0, 0 };
  int rc;

  amqp_maybe_release_buffers (conn);
  rc = amqp_simple_wait_frame_noblock (conn, &frame, &tv);
  if (rc == AMQP_STATUS_TIMEOUT)
    {
      if (block)
        fail ("confirms", "none for 30 s");
      return 0;
    }
  if (rc != AMQP_STATUS_OK)
    fail ("confirms", amqp_error_string2 (rc));
  if (frame.frame_type != AMQP_FRAME_METHOD)
    return 0;
  if (frame.payload.method.id == AMQP_BASIC_ACK_METHOD)
    {
      amqp_basic_ack_t *a = frame.payload.method.decoded;
      return confirm_upto (p, sent_at, lowest, a->delivery_tag, a->multiple, TRUE,
                           g_get_monotonic_time ());
    }
  if (frame.payload.method.id == AMQP_BASIC_NACK_METHOD)
    {
      amqp_basic_nack_t *a = frame.payload.method.decoded;
      return confirm_upto (p, sent_at, lowest, a->delivery_tag, a->multiple, FALSE,
                           g_get_monotonic_time ());
    }
  fail ("confirms", "unexpected method");
}

static gpointer
confirm_publisher_run (gpointer data)
{
  ConfirmPublisher *p = data;
  amqp_connection_state_t conn = bench_connect (1);
  g_autofree char *queue = queue_name ("confirm", p->index);
  g_autofree gint64 *sent_at = g_new0 (gint64, opt_messages + 2);
  guint64 next = 1, lowest = 1, done = 0;

  amqp_confirm_select (conn, 1);
  check_reply (amqp_get_rpc_reply (conn), "confirm.select");
  while (done < opt_messages)
    {
      while (next <= opt_messages && next - 1 - done < opt_window)
        {
          sent_at[next] = g_get_monotonic_time ();
          publish (conn, 1, "", queue, TRUE);
          next++;
        }
      done += confirm_wait (p, conn, sent_at, &lowest, TRUE);
      /* Whatever else is in already, without blocking. */
      for (guint got = 1; got > 0 && done < opt_messages;)
        done += (got = confirm_wait (p, conn, sent_at, &lowest, FALSE));
    }
  bench_disconnect (conn);
  return NULL;
}

static int
compare_gint64 (gconstpointer a, gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;
  return (x > y) - (x < y);
}

static double
percentile_ms (GArray *sorted_us, double q)
{
  guint i;

  if (sorted_us->len == 0)
    return 0;
  i = MIN ((guint) (q * sorted_us->len), sorted_us->len - 1);
  return g_array_index (sorted_us, gint64, i) / 1000.0;
}

static void
row_confirm (void)
{
  amqp_connection_state_t ctl = bench_connect (1);
  g_autofree ConfirmPublisher *pubs = g_new0 (ConfirmPublisher, opt_publishers);
  g_autofree GThread **threads = g_new0 (GThread *, opt_publishers);
  g_autoptr(GArray) all = g_array_new (FALSE, FALSE, sizeof (gint64));
  guint nacks = 0;
  gint64 t0, t1;

  for (guint i = 0; i < opt_publishers; i++)
    {
      g_autofree char *q = queue_name ("confirm", i);
      declare_queue (ctl, q, TRUE);
      pubs[i].index = i;
      pubs[i].latency_us = g_array_new (FALSE, FALSE, sizeof (gint64));
    }
  t0 = g_get_monotonic_time ();
  for (guint i = 0; i < opt_publishers; i++)
    threads[i] = g_thread_new ("confirm", confirm_publisher_run, &pubs[i]);
  for (guint i = 0; i < opt_publishers; i++)
    g_thread_join (threads[i]);
  t1 = g_get_monotonic_time ();
  for (guint i = 0; i < opt_publishers; i++)
    {
      g_autofree char *q = queue_name ("confirm", i);
      g_array_append_vals (all, pubs[i].latency_us->data, pubs[i].latency_us->len);
      nacks += pubs[i].nacks;
      g_array_unref (pubs[i].latency_us);
      delete_queue (ctl, q);
    }
  g_array_sort (all, compare_gint64);
  double rate = all->len / ((t1 - t0) / (double) G_USEC_PER_SEC);
  printf ("confirm: %u publishers x %u persistent %u-byte messages, window %u: "
          "%.0f msg/s, confirm latency p50 %.2f ms, p99 %.2f ms, %u nacks\n",
          opt_publishers, opt_messages, opt_size, opt_window, rate,
          percentile_ms (all, 0.50), percentile_ms (all, 0.99), nacks);
  printf ("RESULT confirm_msgs_per_s %.0f\nRESULT confirm_p50_ms %.3f\nRESULT confirm_p99_ms %.3f\n",
          rate, percentile_ms (all, 0.50), percentile_ms (all, 0.99));
  fflush (stdout);
  bench_disconnect (ctl);
}

/* ---------------------------------------------------------------------- */
/* Consumers, for the transient and fanout rows */

typedef struct {
  guint first_queue, n_queues;   /* one channel per queue, from channel 1 */
  const char *row;
  gint *ready;                   /* consumers set up, atomically */
  gint64 *consumed;              /* all threads' deliveries, atomically */
  gint64 expected;
  gint64 deadline;
} Consumer;

static void
consumer_setup (Consumer *c, amqp_connection_state_t conn)
{
  for (guint i = 0; i < c->n_queues; i++)
    {
      amqp_channel_t ch = (amqp_channel_t) (i + 1);
      g_autofree char *q = queue_name (c->row, c->first_queue + i);
      amqp_basic_qos (conn, ch, 0, (uint16_t) opt_prefetch, 0);
      check_reply (amqp_get_rpc_reply (conn), "basic.qos");
      amqp_basic_consume (conn, ch, amqp_cstring_bytes (q), amqp_empty_bytes, 0, 0, 0,
                          amqp_empty_table);
      check_reply (amqp_get_rpc_reply (conn), "basic.consume");
    }
}

static gpointer
consumer_run (gpointer data)
{
  Consumer *c = data;
  amqp_connection_state_t conn = bench_connect (c->n_queues);
  g_autofree guint *unacked = g_new0 (guint, c->n_queues + 1);
  struct timeval tv = { 0, 100000 };

  consumer_setup (c, conn);
  g_atomic_int_inc (c->ready);
  while (__atomic_load_n (c->consumed, __ATOMIC_RELAXED) < c->expected)
    {
      amqp_envelope_t env;
      amqp_rpc_reply_t r;

      if (g_get_monotonic_time () > c->deadline)
        fail (c->row, "deliveries stopped coming");
      amqp_maybe_release_buffers (conn);
      r = amqp_consume_message (conn, &env, &tv, 0);
      if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION && r.library_error == AMQP_STATUS_TIMEOUT)
        continue;
      check_reply (r, "consume");
      /* Acks in batches: multiple acks, as real consumers do. */
      if (++unacked[env.channel] >= opt_prefetch / 2)
        {
          amqp_basic_ack (conn, env.channel, env.delivery_tag, 1);
          unacked[env.channel] = 0;
        }
      __atomic_add_fetch (c->consumed, 1, __ATOMIC_RELAXED);
      amqp_destroy_envelope (&env);
    }
  bench_disconnect (conn);
  return NULL;
}

/* Starts n consumer threads over n_queues queues (split evenly), waits
 * until all consume, runs publish(), then waits for every delivery.
 * Returns the microseconds from the first publish to the last delivery. */
static gint64
run_with_consumers (const char *row, guint n_threads, guint n_queues, gint64 expected,
                    void (*publish_all) (void))
{
  g_autofree Consumer *cs = g_new0 (Consumer, n_threads);
  g_autofree GThread **threads = g_new0 (GThread *, n_threads);
  gint ready = 0;
  gint64 consumed = 0, t0;
  guint per = n_queues / n_threads, first = 0;

  for (guint i = 0; i < n_threads; i++)
    {
      cs[i].row = row;
      cs[i].first_queue = first;
      cs[i].n_queues = n_queues >= n_threads ? per + (i < n_queues % n_threads) : 1;
      cs[i].ready = &ready;
      cs[i].consumed = &consumed;
      cs[i].expected = expected;
      cs[i].deadline = g_get_monotonic_time () + ROW_DEADLINE_US;
      first = n_queues >= n_threads ? first + cs[i].n_queues : 0;
      threads[i] = g_thread_new ("consumer", consumer_run, &cs[i]);
    }
  while (g_atomic_int_get (&ready) < (gint) n_threads)
    g_usleep (1000);
  t0 = g_get_monotonic_time ();
  publish_all ();
  for (guint i = 0; i < n_threads; i++)
    g_thread_join (threads[i]);
  return g_get_monotonic_time () - t0;
}

/* ---------------------------------------------------------------------- */
/* Rows: transient publish -> consume, fanout */

static void
publish_transient (void)
{
  amqp_connection_state_t conn = bench_connect (1);
  g_autofree char *q = queue_name ("transient", 0);

  for (guint i = 0; i < opt_messages; i++)
    publish (conn, 1, "", q, FALSE);
  bench_disconnect (conn);
}

static void
row_transient (guint consumers)
{
  amqp_connection_state_t ctl = bench_connect (1);
  g_autofree char *q = queue_name ("transient", 0);
  g_autofree char *name = g_strdup_printf ("transient%u", consumers);
  gint64 us;
  double rate;

  declare_queue (ctl, q, FALSE);
  us = run_with_consumers ("transient", consumers, 1, opt_messages, publish_transient);
  rate = opt_messages / (us / (double) G_USEC_PER_SEC);
  printf ("%s: 1 publisher, %u consumers (prefetch %u), %u transient %u-byte messages: %.0f msg/s\n",
          name, consumers, opt_prefetch, opt_messages, opt_size, rate);
  printf ("RESULT %s_msgs_per_s %.0f\n", name, rate);
  fflush (stdout);
  delete_queue (ctl, q);
  bench_disconnect (ctl);
}

static void
publish_fanout (void)
{
  amqp_connection_state_t conn = bench_connect (1);
  g_autofree char *x = g_strdup_printf ("%s.fanout", opt_prefix);

  for (guint i = 0; i < opt_fanout_messages; i++)
    publish (conn, 1, x, "", FALSE);
  bench_disconnect (conn);
}

static void
row_fanout (void)
{
  amqp_connection_state_t ctl = bench_connect (1);
  g_autofree char *x = g_strdup_printf ("%s.fanout", opt_prefix);
  gint64 us;
  double rate;

  amqp_exchange_declare (ctl, 1, amqp_cstring_bytes (x), amqp_cstring_bytes ("fanout"),
                         0, 0, 0, 0, amqp_empty_table);
  check_reply (amqp_get_rpc_reply (ctl), "exchange.declare");
  for (guint i = 0; i < FANOUT_QUEUES; i++)
    {
      g_autofree char *q = queue_name ("fanout", i);
      declare_queue (ctl, q, FALSE);
      amqp_queue_bind (ctl, 1, amqp_cstring_bytes (q), amqp_cstring_bytes (x),
                       amqp_empty_bytes, amqp_empty_table);
      check_reply (amqp_get_rpc_reply (ctl), "queue.bind");
    }
  us = run_with_consumers ("fanout", FANOUT_THREADS, FANOUT_QUEUES,
                           (gint64) opt_fanout_messages * FANOUT_QUEUES, publish_fanout);
  rate = (double) opt_fanout_messages * FANOUT_QUEUES / (us / (double) G_USEC_PER_SEC);
  printf ("fanout100: %u transient messages to %u queues, %u consumer connections: %.0f deliveries/s\n",
          opt_fanout_messages, FANOUT_QUEUES, FANOUT_THREADS, rate);
  printf ("RESULT fanout100_deliveries_per_s %.0f\n", rate);
  fflush (stdout);
  for (guint i = 0; i < FANOUT_QUEUES; i++)
    {
      g_autofree char *q = queue_name ("fanout", i);
      delete_queue (ctl, q);
    }
  amqp_exchange_delete (ctl, 1, amqp_cstring_bytes (x), 0);
  check_reply (amqp_get_rpc_reply (ctl), "exchange.delete");
  bench_disconnect (ctl);
}

/* ---------------------------------------------------------------------- */

static gboolean
want_row (const char *row)
{
  g_auto(GStrv) rows = NULL;

  if (opt_rows == NULL)
    return TRUE;
  rows = g_strsplit (opt_rows, ",", -1);
  return g_strv_contains ((const char * const *) rows, row);
}

int
main (int argc, char **argv)
{
  g_autoptr(GOptionContext) ctx = g_option_context_new ("- AMQP load generator");
  g_autofree char *url_copy = NULL;
  g_autoptr(GError) error = NULL;
  GOptionEntry entries[] = {
    { "url", 'u', 0, G_OPTION_ARG_STRING, &target_url, "Broker (amqp://user:pass@host:port)", "URL" },
    { "publishers", 0, 0, G_OPTION_ARG_INT, &opt_publishers, "Publishers of the confirm row (4)", "N" },
    { "messages", 'n', 0, G_OPTION_ARG_INT, &opt_messages, "Messages per publisher/row (20000)", "N" },
    { "fanout-messages", 0, 0, G_OPTION_ARG_INT, &opt_fanout_messages, "Messages of the fanout row (2000)", "N" },
    { "size", 's', 0, G_OPTION_ARG_INT, &opt_size, "Body bytes (256)", "N" },
    { "window", 'w', 0, G_OPTION_ARG_INT, &opt_window, "Unconfirmed publishes per publisher (64)", "N" },
    { "prefetch", 'p', 0, G_OPTION_ARG_INT, &opt_prefetch, "Consumer prefetch (200)", "N" },
    { "rows", 'r', 0, G_OPTION_ARG_STRING, &opt_rows,
      "Rows to run (confirm,transient1,transient10,fanout100; all)", "LIST" },
    { "prefix", 0, 0, G_OPTION_ARG_STRING, &opt_prefix, "Queue name prefix", "NAME" },
    { NULL }
  };

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    fail ("options", error->message);
  if (target_url == NULL)
    fail ("options", "--url is required");
  if (opt_publishers == 0 || opt_messages == 0 || opt_window == 0 || opt_prefetch < 2
      || opt_prefetch > 65535 || opt_size > 1 << 20)
    fail ("options", "out of range");
  url_copy = g_strdup (target_url);
  amqp_default_connection_info (&target);
  if (amqp_parse_url (url_copy, &target) != AMQP_STATUS_OK)
    fail ("--url", target_url);
  if (opt_prefix == NULL)
    opt_prefix = g_strdup_printf ("bench.%d", (int) getpid ());
  payload = g_malloc (MAX (opt_size, 1));
  memset (payload, 'x', opt_size);

  if (want_row ("confirm"))
    row_confirm ();
  if (want_row ("transient1"))
    row_transient (1);
  if (want_row ("transient10"))
    row_transient (10);
  if (want_row ("fanout100"))
    row_fanout ();
  g_free (payload);
  g_free (opt_prefix);
  g_free (opt_rows);
  g_free (target_url);
  return 0;
}
