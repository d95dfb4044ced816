/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-cli-send.c: supersoniq-cli send: the message goes into the outbox
 * first (its files copied there), then the command connects, which
 * delivers it, uploads first; it prints the message as the server stored
 * it, or says it is queued (exit 6) when the server cannot be reached. */
#include "ssq-config.h"
#include "ssq-cli-private.h"

#include <glib/gi18n.h>

#include "ssq-display.h"

static void
sent_cb (SsqClient  *client,
         SsqMessage *message,
         Cli        *cli)
{
  if (g_strcmp0 (ssq_message_get_client_id (message), cli->client_id) != 0 ||
      g_strcmp0 (ssq_message_get_sender (message), ssq_client_get_user_id (client)) != 0)
    return;
  ssq_cli_unwatch_transfer (cli);
  ssq_cli_print_message (cli, message);
  ssq_cli_quit (cli, SSQ_CLI_OK);
}

static void
report_queued (Cli          *cli,
               const GError *why)
{
  g_autoptr(SsqMessage) entry = ssq_cache_outbox_get (ssq_client_get_cache (cli->client), cli->client_id);
  g_autofree char *reason = NULL;

  if (entry == NULL)
    {
      ssq_cli_quit (cli, SSQ_CLI_OK);  /* delivered after all */
      return;
    }
  reason = ssq_display_sanitize_line (why->message);
  ssq_cli_unwatch_transfer (cli);
  ssq_cli_print_message (cli, entry);
  g_printerr (_("supersoniq-cli: %s; the message is queued in the outbox and the next "
                "command that connects will deliver it\n"), reason);
  ssq_cli_quit (cli, SSQ_CLI_QUEUED);
}

static gboolean
send_timeout_cb (gpointer user_data)
{
  Cli *cli = user_data;
  g_autoptr(GError) error = g_error_new (SSQ_ERROR, SSQ_ERROR_NETWORK, _("No acknowledgement in %d s"),
                                         cli->timeout);

  cli->timeout_source = 0;
  report_queued (cli, error);
  return G_SOURCE_REMOVE;
}

/* Waits for the acknowledgement, for --timeout seconds without progress
 * (uploads of its files count). */
static void
wait_for_ack (Cli *cli)
{
  ssq_cli_arm_timeout (cli, send_timeout_cb);
}

static void
queued (Cli        *cli,
        SsqMessage *message)
{
  CliStep then = cli->after_queue;

  cli->client_id = g_strdup (ssq_message_get_client_id (message));
  g_signal_connect (cli->client, "message", G_CALLBACK (sent_cb), cli);
  then (cli, NULL);
}

static void
queued_with_files (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  Cli *cli = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(SsqMessage) message =
    ssq_client_send_message_with_media_finish (SSQ_CLIENT (source), result, &error);

  if (message == NULL)
    return ssq_cli_fail_with (cli, error, g_error_matches (error, SSQ_ERROR, SSQ_ERROR_INVALID)
                                          ? SSQ_CLI_USAGE : ssq_cli_exit_code_for (error));
  queued (cli, message);
}

/* Puts the message into the outbox (its files copied first: that is
 * asynchronous), then runs @then. */
static void
queue_message (Cli             *cli,
               SsqConversation *conversation,
               CliStep          then)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(SsqMessage) message = NULL;
  const char *text = cli->args[1] != NULL ? cli->args[1] : "";

  cli->after_queue = then;
  for (guint i = 0; cli->files != NULL && cli->files[i] != NULL; i++)
    g_ptr_array_add (files, g_file_new_for_commandline_arg (cli->files[i]));
  if (files->len > 0)
    {
      ssq_client_send_message_with_media_async (cli->client, ssq_conversation_get_id (conversation), text, 0,
                                                (GFile *const *) files->pdata, files->len, NULL,
                                                queued_with_files, cli);
      return;
    }
  message = ssq_client_send_message (cli->client, ssq_conversation_get_id (conversation), text, 0, &error);
  if (message == NULL)
    return ssq_cli_fail (cli, error);
  queued (cli, message);
}

static void
then_wait_for_ack (Cli          *cli,
                   const GError *unused)
{
  wait_for_ack (cli);
}

static void
send_dm_created (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  Cli *cli = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(SsqConversation) conversation =
    ssq_client_conversation_finish (SSQ_CLIENT (source), result, &error);

  if (conversation == NULL)
    return ssq_cli_fail (cli, error);
  queue_message (cli, conversation, then_wait_for_ack);
}

static void
send_step (Cli          *cli,
           const GError *offline)
{
  g_autoptr(SsqConversation) conversation = NULL;
  g_autoptr(GError) error = NULL;

  if (cli->client_id != NULL)
    {
      /* Queued before connecting: it is on its way, or waits. */
      if (offline != NULL)
        return report_queued (cli, offline);
      wait_for_ack (cli);
      return;
    }
  if (offline != NULL)
    return ssq_cli_fail_code (cli, SSQ_ERROR_NOT_FOUND,
                              _("No such conversation in the cache, and the server cannot be reached"));
  conversation = ssq_cli_find_conversation (cli, cli->args[0], &error);
  if (conversation != NULL)
    {
      queue_message (cli, conversation, then_wait_for_ack);
      return;
    }
  if (!g_error_matches (error, SSQ_ERROR, SSQ_ERROR_NOT_FOUND))
    return ssq_cli_fail_lookup (cli, error);
  /* A username with no conversation yet: open the direct conversation. */
  if (ssq_check_username (cli->args[0], NULL))
    ssq_client_create_direct_async (cli->client, cli->args[0], NULL, send_dm_created, cli);
  else
    ssq_cli_fail_code (cli, SSQ_ERROR_NOT_FOUND, _("No such conversation"));
}

static void
then_connect (Cli          *cli,
              const GError *unused)
{
  ssq_cli_connect (cli, send_step);
}

/* send CONVERSATION [TEXT] [--file FILE]... */
int
ssq_cli_send (Cli *cli)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SsqConversation) conversation = ssq_cli_find_conversation (cli, cli->args[0], &error);

  /* A name that fits several conversations sends nothing anywhere. */
  if (g_error_matches (error, SSQ_ERROR, SSQ_ERROR_CONFLICT))
    {
      ssq_cli_fail_lookup (cli, error);
      return -1;
    }
  /* Known already: into the outbox before anything else, so that nothing
   * the user wrote depends on the network. */
  if (conversation != NULL)
    queue_message (cli, conversation, then_connect);
  else
    ssq_cli_connect (cli, send_step);
  return -1;
}
