/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-test-broker.c: see ssq-test-broker.h. */
#include "ssq-test-broker.h"

#include <glib/gstdio.h>
#include <string.h>

static void
open_all (TBroker *t)
{
  g_autoptr(GError) error = NULL;
  SsqServerStore *writer_store = ssq_server_store_open (t->path, FALSE, &error);

  g_assert_no_error (error);
  t->reader = ssq_server_store_open_another (t->path, FALSE, &error);
  g_assert_no_error (error);
  t->writer = ssq_server_writer_new (writer_store, 512);
  t->broker = ssq_broker_new (t->reader, t->writer, &t->limits, &error);
  g_assert_no_error (error);
  tbroker_settle (t);
}

static void
close_all (TBroker *t)
{
  g_clear_pointer (&t->broker, ssq_broker_free);
  g_clear_pointer (&t->writer, ssq_server_writer_free);
  g_clear_pointer (&t->reader, ssq_server_store_close);
}

TBroker *
tbroker_new (const SsqBrokerLimits *limits)
{
  g_autoptr(GError) error = NULL;
  TBroker *t = g_new0 (TBroker, 1);

  t->dir = g_dir_make_tmp ("ssq-broker-XXXXXX", &error);
  g_assert_no_error (error);
  t->path = g_build_filename (t->dir, "test.db", NULL);
  if (limits != NULL)
    t->limits = *limits;
  open_all (t);
  return t;
}

/* As a restart: everything in memory goes, the files stay. */
void
tbroker_reopen (TBroker *t)
{
  close_all (t);
  open_all (t);
}

static void
remove_dir (const char *dir)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *p = g_build_filename (dir, name, NULL);
      g_unlink (p);
    }
  g_rmdir (dir);
}

void
tbroker_free (TBroker *t)
{
  if (t == NULL)
    return;
  close_all (t);
  remove_dir (t->dir);
  g_free (t->dir);
  g_free (t->path);
  g_free (t);
}

void
tbroker_settle (TBroker *t)
{
  for (guint round = 0; round < 1000; round++)
    {
      gboolean busy = FALSE;

      while (g_main_context_iteration (NULL, FALSE))
        busy = TRUE;
      if (ssq_server_writer_pending (t->writer) > 0)
        {
          ssq_server_writer_flush (t->writer);
          busy = TRUE;
        }
      if (!busy)
        return;
    }
  g_assert_not_reached ();
}

void
tbroker_wait (TBroker  *t,
              gboolean (*cond) (gpointer),
              gpointer  data)
{
  gint64 give_up = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  tbroker_settle (t);
  while (!cond (data))
    {
      g_assert_cmpint (g_get_monotonic_time (), <, give_up);
      g_main_context_iteration (NULL, TRUE);
      tbroker_settle (t);
    }
}

/* -------------------------------------------------------------- channels */

static void
delivery_free (gpointer data)
{
  TDelivery *d = data;

  g_free (d->consumer_tag);
  g_free (d->queue);
  ssq_broker_message_unref (d->message);
  g_free (d);
}

static void
deliver_cb (SsqBrokerChannel        *channel,
            const SsqBrokerDelivery *delivery,
            gpointer                 user_data)
{
  TChannel *c = user_data;
  TDelivery *d = g_new0 (TDelivery, 1);

  d->consumer_tag = g_strdup (delivery->consumer_tag);
  d->tag = delivery->delivery_tag;
  d->redelivered = delivery->redelivered;
  d->count = delivery->delivery_count;
  d->queue = g_strdup (delivery->queue);
  d->message = ssq_broker_message_ref (delivery->message);
  g_ptr_array_add (c->deliveries, d);
  if (c->stop_after_one)
    ssq_broker_channel_set_writable (channel, FALSE);
}

static void
cancelled_cb (SsqBrokerChannel *channel,
              const char       *consumer_tag,
              gpointer          user_data)
{
  TChannel *c = user_data;

  g_ptr_array_add (c->cancelled, g_strdup (consumer_tag));
}

static void
forced_cb (SsqBrokerConnection *connection,
           const GError        *error,
           gpointer             user_data)
{
  TChannel *c = user_data;

  g_assert_error (error, SSQ_BROKER_ERROR, SSQ_BROKER_ERROR_CONNECTION_FORCED);
  c->forced = TRUE;
}

static const SsqBrokerChannelCallbacks callbacks = { deliver_cb, cancelled_cb };

static TChannel *
tchannel_alloc (void)
{
  TChannel *c = g_new0 (TChannel, 1);

  c->deliveries = g_ptr_array_new_with_free_func (delivery_free);
  c->cancelled = g_ptr_array_new_with_free_func (g_free);
  c->outcomes = g_array_new (FALSE, FALSE, sizeof (SsqBrokerPublishOutcome));
  c->outcome_errors = g_ptr_array_new_with_free_func (g_free);
  return c;
}

TChannel *
tchannel_new (TBroker    *t,
              const char *user_id,
              const char *username,
              gboolean    admin)
{
  TChannel *c = tchannel_alloc ();
  SsqBrokerPrincipal p = { user_id, username, admin };

  c->connection = ssq_broker_connection_new (t->broker, &p, forced_cb, c);
  c->channel = ssq_broker_channel_new (c->connection, &callbacks, c);
  return c;
}

TChannel *
tchannel_sibling (TChannel *other)
{
  TChannel *c = tchannel_alloc ();

  c->channel = ssq_broker_channel_new (other->connection, &callbacks, c);
  return c;
}

void
tchannel_free (TChannel *c)
{
  if (c == NULL)
    return;
  if (c->connection != NULL)
    ssq_broker_connection_free (c->connection);   /* its channels too */
  else if (c->channel != NULL)
    ssq_broker_channel_free (c->channel);
  g_ptr_array_unref (c->deliveries);
  g_ptr_array_unref (c->cancelled);
  g_array_unref (c->outcomes);
  g_ptr_array_unref (c->outcome_errors);
  g_free (c);
}

/* ------------------------------------------------------------- messages */

GBytes *
tprops (int           delivery_mode,
        int           priority,
        const char   *expiration,
        SsqAmqpTable *headers,
        const char   *user_id)
{
  g_autoptr(SsqAmqpProperties) p = ssq_amqp_properties_new ();

  if (delivery_mode > 0)
    {
      p->flags |= SSQ_AMQP_PROP_DELIVERY_MODE;
      p->delivery_mode = (guint8) delivery_mode;
    }
  if (priority >= 0)
    {
      p->flags |= SSQ_AMQP_PROP_PRIORITY;
      p->priority = (guint8) priority;
    }
  if (expiration != NULL)
    ssq_amqp_properties_set_string (p, SSQ_AMQP_PROP_EXPIRATION, expiration);
  if (user_id != NULL)
    ssq_amqp_properties_set_string (p, SSQ_AMQP_PROP_USER_ID, user_id);
  if (headers != NULL)
    {
      p->flags |= SSQ_AMQP_PROP_HEADERS;
      p->headers = ssq_amqp_table_ref (headers);
    }
  return ssq_amqp_properties_encode (p);
}

SsqAmqpProperties *
tdecode_props (SsqBrokerMessage *message)
{
  g_autoptr(GError) error = NULL;
  gsize len;
  const guint8 *data = g_bytes_get_data (ssq_broker_message_get_properties (message), &len);
  SsqAmqpProperties *p = ssq_amqp_properties_decode (data, len, &error);

  g_assert_no_error (error);
  return p;
}

static void
done_cb (SsqBrokerChannel        *channel,
         SsqBrokerPublishOutcome  outcome,
         SsqBrokerMessage        *message,
         const GError            *error,
         gpointer                 user_data)
{
  TChannel *c = user_data;

  g_array_append_val (c->outcomes, outcome);
  g_ptr_array_add (c->outcome_errors, error != NULL ? g_strdup (error->message) : NULL);
}

gboolean
tpublish (TChannel    *c,
          const char  *exchange,
          const char  *routing_key,
          const char  *body,
          GBytes      *props,
          gboolean     mandatory,
          GError     **error)
{
  g_autoptr(GBytes) b = g_bytes_new (body, strlen (body));
  g_autoptr(SsqBrokerMessage) m = ssq_broker_message_new (exchange, routing_key, props, b);

  return ssq_broker_publish (c->channel, m, mandatory, done_cb, c, NULL, error);
}

void
tpublish_ok (TChannel   *c,
             const char *exchange,
             const char *routing_key,
             const char *body,
             GBytes     *props)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (tpublish (c, exchange, routing_key, body, props, FALSE, &error));
  g_assert_no_error (error);
}

char *
tbody (SsqBrokerMessage *message)
{
  gsize len;
  const char *data = g_bytes_get_data (ssq_broker_message_get_body (message), &len);

  return g_strndup (data, len);
}

char *
tget (TChannel          *c,
      const char        *queue,
      gboolean           no_ack,
      SsqBrokerDelivery *out)
{
  g_autoptr(GError) error = NULL;
  SsqBrokerDelivery d;

  g_assert_true (ssq_broker_get (c->channel, queue, no_ack, 0, &d, &error));
  g_assert_no_error (error);
  if (out != NULL)
    *out = d;
  return d.message != NULL ? tbody (d.message) : NULL;
}

void
tdeclare (TChannel                 *c,
          const char               *name,
          SsqBrokerQueueFlags       flags,
          const SsqBrokerQueueArgs *args)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (ssq_broker_queue_declare (c->channel, name, flags, args, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
}

GBytes *
ttable_encode (SsqAmqpTable *table)
{
  return ssq_amqp_table_encode (table);
}

void
texpect_error (gboolean    ok,
               GError    **error,
               int         code)
{
  g_assert_false (ok);
  g_assert_error (*error, SSQ_BROKER_ERROR, code);
  g_test_message ("%s", (*error)->message);
  g_clear_error (error);
}
