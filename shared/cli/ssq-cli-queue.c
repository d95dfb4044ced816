/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-cli-queue.c: `queue list|declare|delete|purge|publish|get|consume`,
 * the broker's queues over REST (shared/PROTOCOL.md, Queues). get and
 * consume lease messages, print each, then acknowledge what they printed:
 * a message is never acknowledged before it is out, and one the command
 * did not get to print comes back when its lease ends. */
#include "ssq-config.h"
#include "ssq-cli-private.h"

#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ssq-client-queues.h"
#include "ssq-display.h"
#include "ssq-json.h"
#include "ssq-wire.h"

#define QUEUE_USAGE N_("queue list | queue declare NAME [--arg KEY=VALUE]... [--transient] | " \
                       "queue delete NAME | queue purge NAME | queue publish NAME [TEXT] " \
                       "[--header KEY=VALUE]... [--content-type TYPE] [--priority N] " \
                       "[--transient] | queue get NAME [--count N] [--wait S] | " \
                       "queue consume NAME [--count N]")

#define CONSUME_WAIT_S   20     /* a long poll: under the client's 30 s timeout */
#define LEASE_S          60
#define CONSUME_BATCH    10
#define STDIN_MAX        (128 * 1024 * 1024)

const char *
ssq_cli_queue_usage (void)
{
  return _(QUEUE_USAGE);
}

static const char *
queue_of (Cli *cli)
{
  return cli->args[1];
}

/* ---- list, declare, delete, purge ------------------------------------------ */

static void
print_queue (JsonObject *object)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *name = NULL;
  g_autofree char *owner = NULL;
  SsqWireQueue q;

  if (!ssq_wire_queue_decode (object, &q, &error))
    return;
  name = ssq_display_sanitize_line (q.name);
  owner = ssq_display_sanitize_line (q.owner ? q.owner : "-");
  g_print (_("%s  %lld ready, %lld unacked, %lld consumers, owner %s\n"), name,
           (long long) q.depth, (long long) q.unacked, (long long) q.consumers, owner);
}

static void
listed_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  Cli *cli = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) reply = ssq_client_queue_call_finish (SSQ_CLIENT (source), result, &error);
  JsonArray *queues = NULL;

  if (reply == NULL || !ssq_json_get_array (reply, "queues", TRUE, G_MAXUINT, &queues, &error))
    return ssq_cli_fail (cli, error);
  if (cli->json)
    {
      g_autoptr(JsonNode) node = json_node_init_array (json_node_alloc (), queues);

      ssq_cli_print_json (node);
    }
  else if (json_array_get_length (queues) == 0)
    g_print ("%s\n", _("No queues (supersoniq-cli queue declare NAME)"));
  for (guint i = 0; !cli->json && i < json_array_get_length (queues); i++)
    print_queue (json_array_get_object_element (queues, i));
  ssq_cli_quit (cli, SSQ_CLI_OK);
}

/* declare, delete and purge: the reply as JSON, or one line. */
static void
done_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Cli *cli = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) reply = ssq_client_queue_call_finish (SSQ_CLIENT (source), result, &error);
  g_autofree char *name = ssq_display_sanitize_line (queue_of (cli));
  const char *verb = cli->args[0];
  gint64 count = 0;

  if (reply == NULL)
    return ssq_cli_fail (cli, error);
  if (cli->json)
    ssq_cli_print_json_object (reply);
  else if (g_str_equal (verb, "declare"))
    g_print (_("Queue %s is ready\n"), name);
  else
    {
      if (!ssq_json_get_int (reply, "messages", FALSE, 0, G_MAXINT64, &count, NULL))
        count = 0;
      if (g_str_equal (verb, "delete"))
        g_print (g_dngettext (GETTEXT_PACKAGE, "Queue %s deleted, %d message with it\n",
                              "Queue %s deleted, %d messages with it\n", (gulong) count),
                 name, (int) count);
      else
        g_print (g_dngettext (GETTEXT_PACKAGE, "Queue %s purged of %d message\n",
                              "Queue %s purged of %d messages\n", (gulong) count),
                 name, (int) count);
    }
  ssq_cli_quit (cli, SSQ_CLI_OK);
}

static gboolean
split_pair (const char  *pair,
            const char  *option,
            char       **out_key,
            const char **out_value,
            GError     **error)
{
  const char *eq = strchr (pair, '=');

  if (eq == NULL || eq == pair)
    {
      g_set_error (error, SSQ_ERROR, SSQ_ERROR_INVALID, _("%s takes KEY=VALUE, not “%s”"), option,
                   pair);
      return FALSE;
    }
  *out_key = g_strndup (pair, eq - pair);
  *out_value = eq + 1;
  return TRUE;
}

/* --arg KEY=VALUE: the numeric arguments as integers, the others as text. */
static JsonObject *
declare_body (Cli     *cli,
              GError **error)
{
  static const char *const numeric[] = {
    "max_length", "message_ttl_ms", "expires_ms", "max_priority", "max_deliveries", NULL
  };
  static const char *const text[] = {
    "overflow", "dead_letter_exchange", "dead_letter_routing_key", NULL
  };
  g_autoptr(JsonObject) body = json_object_new ();

  json_object_set_boolean_member (body, "durable", !cli->transient);
  for (guint i = 0; cli->arguments != NULL && cli->arguments[i] != NULL; i++)
    {
      g_autofree char *key = NULL;
      const char *value;
      gint64 n;

      if (!split_pair (cli->arguments[i], "--arg", &key, &value, error))
        return NULL;
      if (g_strv_contains (text, key))
        json_object_set_string_member (body, key, value);
      else if (g_strv_contains (numeric, key) &&
               g_ascii_string_to_signed (value, 10, 0, G_MAXINT32, &n, NULL))
        json_object_set_int_member (body, key, n);
      else
        {
          g_set_error (error, SSQ_ERROR, SSQ_ERROR_INVALID,
                       _("--arg %s: the arguments are max_length, message_ttl_ms, expires_ms, "
                         "max_priority, max_deliveries (numbers), overflow, "
                         "dead_letter_exchange and dead_letter_routing_key"), key);
          return NULL;
        }
    }
  return g_steal_pointer (&body);
}

/* ---- publish --------------------------------------------------------------- */

static void
published_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Cli *cli = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) reply = ssq_client_queue_call_finish (SSQ_CLIENT (source), result, &error);
  gint64 id = 0;

  if (reply == NULL || !ssq_json_get_int (reply, "id", TRUE, 0, G_MAXINT64, &id, &error))
    return ssq_cli_fail (cli, error);
  if (cli->json)
    ssq_cli_print_json_object (reply);
  else
    g_print (_("Published message %lld\n"), (long long) id);
  ssq_cli_quit (cli, SSQ_CLI_OK);
}

/* The body: TEXT, or standard input read whole (binary goes as base64). */
static gboolean
set_body (Cli         *cli,
          JsonObject  *body,
          GError     **error)
{
  g_autoptr(GByteArray) data = g_byte_array_new ();
  guint8 buf[65536];
  gssize n;

  if (cli->args[2] != NULL)
    {
      json_object_set_string_member (body, "body", cli->args[2]);
      return TRUE;
    }
  while ((n = read (STDIN_FILENO, buf, sizeof buf)) > 0)
    {
      if (data->len + (gsize) n > STDIN_MAX)
        {
          g_set_error (error, SSQ_ERROR, SSQ_ERROR_TOO_LARGE,
                       _("The message on standard input is larger than %u MiB"),
                       STDIN_MAX / (1024 * 1024));
          return FALSE;
        }
      g_byte_array_append (data, buf, (guint) n);
    }
  if (g_utf8_validate ((const char *) data->data, data->len, NULL) &&
      memchr (data->data, '\0', data->len) == NULL)
    {
      g_autofree char *text = g_strndup ((const char *) data->data, data->len);

      json_object_set_string_member (body, "body", text);
    }
  else
    {
      g_autofree char *b64 = g_base64_encode (data->data, data->len);

      json_object_set_string_member (body, "body_base64", b64);
    }
  return TRUE;
}

static JsonObject *
publish_body (Cli     *cli,
              GError **error)
{
  g_autoptr(JsonObject) body = json_object_new ();
  g_autoptr(JsonObject) headers = json_object_new ();

  if (!set_body (cli, body, error))
    return NULL;
  if (cli->content_type != NULL)
    json_object_set_string_member (body, "content_type", cli->content_type);
  if (cli->priority >= 0)
    json_object_set_int_member (body, "priority", cli->priority);
  if (cli->transient)
    json_object_set_boolean_member (body, "persistent", FALSE);
  for (guint i = 0; cli->headers != NULL && cli->headers[i] != NULL; i++)
    {
      g_autofree char *key = NULL;
      const char *value;

      if (!split_pair (cli->headers[i], "--header", &key, &value, error))
        return NULL;
      json_object_set_string_member (headers, key, value);
    }
  if (json_object_get_size (headers) > 0)
    json_object_set_object_member (body, "headers", g_steal_pointer (&headers));
  return g_steal_pointer (&body);
}

/* ---- get and consume ------------------------------------------------------- */

static void fetch (Cli *cli);

static void
print_message (Cli        *cli,
               JsonObject *object)
{
  g_autoptr(GError) error = NULL;
  SsqWireQueueMessage m;

  if (cli->json)
    {
      ssq_cli_print_json_object (object);
      return;
    }
  if (!ssq_wire_queue_message_decode (object, &m, &error))
    return;
  if (m.body != NULL)
    {
      g_autofree char *text = ssq_display_sanitize (m.body);

      g_print ("%s\n", text);
    }
  else
    g_print ("base64:%s\n", m.body_base64);
  fflush (stdout);
}

static gboolean
finished (Cli *cli)
{
  return cli->count > 0 && cli->taken >= cli->count;
}

static void
acked_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  Cli *cli = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) reply = ssq_client_queue_call_finish (SSQ_CLIENT (source), result, &error);

  if (reply == NULL)
    return ssq_cli_fail (cli, error);
  if (g_str_equal (cli->args[0], "get") || finished (cli))
    ssq_cli_quit (cli, SSQ_CLI_OK);
  else
    fetch (cli);
}

static void
fetched_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  Cli *cli = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) reply = ssq_client_queue_call_finish (SSQ_CLIENT (source), result, &error);
  g_autoptr(JsonObject) ack = NULL;
  g_autoptr(JsonArray) tags = json_array_new ();
  JsonArray *messages = NULL;
  gboolean get = g_str_equal (cli->args[0], "get");

  if (reply == NULL ||
      !ssq_json_get_array (reply, "messages", TRUE, SSQ_QUEUE_GET_MAX, &messages, &error))
    return ssq_cli_fail (cli, error);
  for (guint i = 0; i < json_array_get_length (messages); i++)
    {
      JsonObject *m = json_array_get_object_element (messages, i);

      if (m == NULL || !json_object_has_member (m, "tag"))
        continue;
      print_message (cli, m);
      json_array_add_int_element (tags, json_object_get_int_member (m, "tag"));
      cli->taken++;
    }
  if (json_array_get_length (tags) == 0)
    {
      if (get)
        ssq_cli_fail_code (cli, SSQ_ERROR_NOT_FOUND, _("No message in the queue"));
      else
        fetch (cli);
      return;
    }
  ack = json_object_new ();
  json_object_set_array_member (ack, "tags", g_steal_pointer (&tags));
  ssq_client_queue_call_async (cli->client, "POST", queue_of (cli), "ack", NULL, ack, NULL,
                               acked_cb, cli);
}

static void
fetch (Cli *cli)
{
  gboolean get = g_str_equal (cli->args[0], "get");
  gint64 want = cli->count > 0 ? cli->count - cli->taken : CONSUME_BATCH;
  g_autofree char *query = NULL;

  if (get && cli->count <= 0)
    want = 1;
  query = g_strdup_printf ("max=%d&wait=%d&lease=%d", (int) CLAMP (want, 1, SSQ_QUEUE_GET_MAX),
                           get ? MAX (cli->wait, 0) : CONSUME_WAIT_S, LEASE_S);
  ssq_client_queue_call_async (cli->client, "GET", queue_of (cli), "messages", query, NULL, NULL,
                               fetched_cb, cli);
}

/* ---- The command ----------------------------------------------------------- */

/* Options that only some verbs take. */
static gboolean
options_fit (Cli        *cli,
             const char *verb)
{
  gboolean publish = g_str_equal (verb, "publish");
  gboolean take = g_str_equal (verb, "get") || g_str_equal (verb, "consume");

  if (cli->arguments != NULL && !g_str_equal (verb, "declare"))
    return FALSE;
  if (cli->transient && !publish && !g_str_equal (verb, "declare"))
    return FALSE;
  if ((cli->headers != NULL || cli->content_type != NULL || cli->priority >= 0) && !publish)
    return FALSE;
  if (cli->count != 0 && !take)
    return FALSE;
  return cli->wait < 0 || g_str_equal (verb, "get");
}

int
ssq_cli_queue (Cli *cli)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) body = NULL;
  const char *verb = cli->args[0];
  guint n = g_strv_length (cli->args);
  gboolean named = n == 2 || (n == 3 && g_str_equal (verb, "publish"));

  if (!options_fit (cli, verb) || cli->count < 0 ||
      !(g_str_equal (verb, "list") ? n == 1 : named))
    verb = "";
  if (g_str_equal (verb, "list"))
    ssq_client_queue_call_async (cli->client, "GET", NULL, NULL, NULL, NULL, NULL, listed_cb, cli);
  else if (g_str_equal (verb, "declare"))
    {
      if ((body = declare_body (cli, &error)) == NULL)
        {
          ssq_cli_fail_with (cli, error, SSQ_CLI_USAGE);
          return -1;
        }
      ssq_client_queue_call_async (cli->client, "PUT", queue_of (cli), NULL, NULL, body, NULL,
                                   done_cb, cli);
    }
  else if (g_str_equal (verb, "delete"))
    ssq_client_queue_call_async (cli->client, "DELETE", queue_of (cli), NULL, NULL, NULL, NULL,
                                 done_cb, cli);
  else if (g_str_equal (verb, "purge"))
    ssq_client_queue_call_async (cli->client, "POST", queue_of (cli), "purge", NULL, NULL, NULL,
                                 done_cb, cli);
  else if (g_str_equal (verb, "publish"))
    {
      if ((body = publish_body (cli, &error)) == NULL)
        {
          ssq_cli_fail_with (cli, error, SSQ_CLI_USAGE);
          return -1;
        }
      ssq_client_queue_call_async (cli->client, "POST", queue_of (cli), "messages", NULL, body,
                                   NULL, published_cb, cli);
    }
  else if (g_str_equal (verb, "get") || g_str_equal (verb, "consume"))
    fetch (cli);
  else
    {
      g_printerr (_("supersoniq-cli: usage: supersoniq-cli %s\n"), _(QUEUE_USAGE));
      return SSQ_CLI_USAGE;
    }
  return -1;
}
