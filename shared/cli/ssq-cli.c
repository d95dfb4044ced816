/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-cli.c: supersoniq-cli. Every command runs on SsqClient: it loads the
 * saved session, connects (which syncs the cache and delivers the outbox),
 * then acts. Output is one line per item, or JSON with --json; the exit
 * code says what happened (see SsqCliExit). */
#include "ssq-config.h"
#include "ssq-cli-private.h"

#include <errno.h>
#include <glib-unix.h>
#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ssq-client.h"
#include "ssq-credentials.h"
#include "ssq-wire.h"
#include "ssq-display.h"
#include "ssq-invite-link.h"
#include "ssq-json.h"
#include "ssq-lookup.h"
#include "ssq-prompt.h"
#include "ssq-proto.h"

/* Sessions. */

static gboolean
open_session (Cli     *cli,
              GError **error)
{
  g_autoptr(SsqCredentials) credentials = ssq_credentials_load (cli->server, cli->user, error);

  if (credentials == NULL)
    {
      g_prefix_error (error, "%s", _("Log in first (supersoniq-cli --server URL login NAME): "));
      return FALSE;
    }
  cli->client = ssq_cli_client_new (cli, credentials->server_url, NULL, error);
  if (cli->client == NULL)
    return FALSE;
  /* One-shot commands must not wait long between attempts. */
  g_object_set (cli->client, "reconnect-max-delay", 2000, "idle-timeout", 0, NULL);
  return ssq_client_set_session (cli->client, credentials->username, credentials->user_id,
                                 credentials->token, error);
}

/* The one timer of a command: @func runs after --timeout seconds without
 * progress (ssq_cli_rearm_timeout () is progress). */
void
ssq_cli_arm_timeout (Cli         *cli,
                     GSourceFunc  func)
{
  g_clear_handle_id (&cli->timeout_source, g_source_remove);
  cli->timeout_func = func;
  cli->timeout_source = g_timeout_add_seconds (cli->timeout, func, cli);
}

/* Something moved (bytes of an upload or a download): the wait starts
 * again. */
void
ssq_cli_rearm_timeout (Cli *cli)
{
  if (cli->timeout_source != 0)
    ssq_cli_arm_timeout (cli, cli->timeout_func);
}

static void
finish_connect (Cli          *cli,
                const GError *offline)
{
  CliStep step = cli->after_connect;

  if (!cli->connecting)
    return;
  cli->connecting = FALSE;
  cli->settling = FALSE;
  g_clear_handle_id (&cli->timeout_source, g_source_remove);
  if (offline != NULL)
    ssq_client_disconnect (cli->client);
  step (cli, offline);
}

/* Whether the outbox holds messages on their way (not failed): a command
 * that connects delivers them before it acts, uploads included, so that
 * what was queued offline goes with the next command. */
static gboolean
outbox_busy (Cli *cli)
{
  g_autoptr(GPtrArray) outbox = ssq_cache_outbox_list (ssq_client_get_cache (cli->client), NULL);

  for (guint i = 0; i < outbox->len; i++)
    if (ssq_message_get_status (outbox->pdata[i]) == SSQ_MESSAGE_PENDING)
      return TRUE;
  return FALSE;
}

/* The outbox has taken long enough without progress: the command goes
 * on, what is left stays queued. */
static gboolean
settle_timeout_cb (gpointer user_data)
{
  Cli *cli = user_data;

  cli->timeout_source = 0;
  finish_connect (cli, NULL);
  return G_SOURCE_REMOVE;
}

static void
outbox_changed_cb (SsqClient  *client,
                   const char *conversation_id,
                   const char *client_id,
                   Cli        *cli)
{
  SsqTransfer *transfer = ssq_client_get_outbox_transfer (client, client_id);

  if (transfer != NULL)
    ssq_cli_watch_transfer (cli, transfer);
  ssq_cli_rearm_timeout (cli);
  if (cli->settling && !outbox_busy (cli))
    finish_connect (cli, NULL);
}

static void
synced_cb (SsqClient *client,
           Cli       *cli)
{
  if (!cli->connecting || cli->settling)
    return;
  if (!outbox_busy (cli))
    {
      finish_connect (cli, NULL);
      return;
    }
  cli->settling = TRUE;
  ssq_cli_arm_timeout (cli, settle_timeout_cb);
}

static void
state_cb (SsqClient  *client,
          GParamSpec *pspec,
          Cli        *cli)
{
  g_autoptr(GError) error = NULL;

  /* The first attempt failed: report rather than wait. */
  if (ssq_client_get_state (client) == SSQ_CLIENT_WAITING && cli->connecting)
    {
      error = g_error_new (SSQ_ERROR, SSQ_ERROR_NETWORK, _("Cannot reach %s"),
                           ssq_client_get_server_url (client));
      finish_connect (cli, error);
    }
}

static void
client_error_cb (SsqClient    *client,
                 const GError *error,
                 Cli          *cli)
{
  /* The connection ended for good: the session, or the server's key. Or
   * the cache cannot be written: what the command would print from it
   * is not what the server holds. */
  if (g_error_matches (error, SSQ_ERROR, SSQ_ERROR_UNAUTHORIZED) ||
      g_error_matches (error, SSQ_ERROR, SSQ_ERROR_UNTRUSTED) ||
      g_error_matches (error, SSQ_ERROR, SSQ_ERROR_KEY_CHANGED) ||
      g_error_matches (error, SSQ_ERROR, SSQ_ERROR_INSECURE) ||
      g_error_matches (error, SSQ_ERROR, SSQ_ERROR_STORAGE))
    {
      if (cli->connecting)
        {
          cli->connecting = FALSE;
          g_clear_handle_id (&cli->timeout_source, g_source_remove);
        }
      ssq_cli_fail (cli, error);
      return;
    }
  /* A queued message the server refused for good. */
  if (cli->client_id != NULL)
    {
      g_autoptr(SsqMessage) entry = ssq_cache_outbox_get (ssq_client_get_cache (client), cli->client_id);

      if (entry != NULL && ssq_message_get_status (entry) == SSQ_MESSAGE_FAILED)
        {
          ssq_cli_fail (cli, error);
          return;
        }
    }
  {
    g_autofree char *text = ssq_display_sanitize_line (error->message);

    g_printerr ("supersoniq-cli: %s\n", text);
  }
}

static gboolean
connect_timeout_cb (gpointer user_data)
{
  Cli *cli = user_data;
  g_autoptr(GError) error = g_error_new (SSQ_ERROR, SSQ_ERROR_NETWORK,
                                         _("No answer from %s in %d s"),
                                         ssq_client_get_server_url (cli->client), cli->timeout);

  cli->timeout_source = 0;
  finish_connect (cli, error);
  return G_SOURCE_REMOVE;
}

/* Connects and syncs, then runs @step; @step gets the reason when the
 * server could not be reached (and works from the cache if it can). */
void
ssq_cli_connect (Cli     *cli,
                 CliStep  step)
{
  cli->after_connect = step;
  cli->connecting = TRUE;
  g_signal_connect (cli->client, "synced", G_CALLBACK (synced_cb), cli);
  g_signal_connect (cli->client, "notify::state", G_CALLBACK (state_cb), cli);
  g_signal_connect (cli->client, "error", G_CALLBACK (client_error_cb), cli);
  g_signal_connect (cli->client, "outbox-changed", G_CALLBACK (outbox_changed_cb), cli);
  ssq_cli_arm_timeout (cli, connect_timeout_cb);
  ssq_client_connect (cli->client);
}

/* The conversation @name names, or NULL with @error: not found, or a name
 * that fits several (a title several groups share). */
SsqConversation *
ssq_cli_find_conversation (Cli         *cli,
                           const char  *name,
                           GError     **error)
{
  return ssq_lookup_conversation (ssq_client_get_cache (cli->client), name, error);
}

/* Fails for a name find_conversation() refused: a name that fits several
 * conversations is the user's to make precise (usage), none is not found. */
void
ssq_cli_fail_lookup (Cli          *cli,
                     const GError *error)
{
  ssq_cli_fail_with (cli, error, g_error_matches (error, SSQ_ERROR, SSQ_ERROR_CONFLICT)
                             ? SSQ_CLI_USAGE : ssq_cli_exit_code_for (error));
}

/* register and login. */

char *
ssq_cli_read_password (Cli         *cli,
                       const char  *prompt,
                       GError     **error)
{
  g_autoptr(GError) local = NULL;
  char *password;

  if (cli->password_file != NULL)
    return ssq_read_password_file (cli->password_file, error);
  password = ssq_prompt_password (prompt ? prompt : _("Password: "), &local);
  if (password == NULL)
    g_set_error (error, SSQ_ERROR, SSQ_ERROR_INVALID,
                 _("Cannot ask for the password (%s); give it with --password-file FILE"),
                 local->message);
  return password;
}

void
ssq_cli_session_done (GObject      *source,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  Cli *cli = user_data;
  SsqClient *client = SSQ_CLIENT (source);
  g_autoptr(GError) error = NULL;
  SsqCredentials credentials = { 0 };
  gpointer tag = g_task_get_source_tag (G_TASK (result));
  gboolean ok = tag == ssq_client_register_async
                ? ssq_client_register_finish (client, result, &error)
                : tag == ssq_client_reset_password_async
                ? ssq_client_reset_password_finish (client, result, &error)
                : ssq_client_login_finish (client, result, &error);

  if (!ok)
    return ssq_cli_fail (cli, error);
  credentials.server_url = (char *) ssq_client_get_server_url (client);
  credentials.username = (char *) ssq_client_get_username (client);
  credentials.user_id = (char *) ssq_client_get_user_id (client);
  credentials.token = (char *) ssq_client_get_token (client);
  if (!ssq_credentials_save (&credentials, &error))
    return ssq_cli_fail (cli, error);
  if (cli->json)
    {
      g_autoptr(JsonObject) object = json_object_new ();

      json_object_set_string_member (object, "server", credentials.server_url);
      json_object_set_string_member (object, "username", credentials.username);
      json_object_set_string_member (object, "user_id", credentials.user_id);
      ssq_cli_print_json_object (object);
    }
  else if (tag == ssq_client_reset_password_async)
    g_print (_("New password set; logged in as %s on %s\n"), credentials.username,
             credentials.server_url);
  else
    g_print (_("Logged in as %s on %s\n"), credentials.username, credentials.server_url);
  ssq_cli_quit (cli, SSQ_CLI_OK);
}

static int
cmd_session (Cli      *cli,
             gboolean  create)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *password = NULL;

  if (cli->server == NULL)
    {
      g_printerr ("supersoniq-cli: %s\n", _("--server URL is needed to log in or register"));
      return SSQ_CLI_USAGE;
    }
  if (!ssq_check_username (cli->args[0], &error))
    {
      ssq_cli_fail (cli, error);
      return -1;
    }
  /* The server's key first: no password is typed for an untrusted one. */
  if ((cli->client = ssq_cli_client_new (cli, cli->server, NULL, &error)) == NULL)
    {
      ssq_cli_fail (cli, error);
      return -1;
    }
  /* A password that cannot be read is the caller's to fix: usage. */
  if ((password = ssq_cli_read_password (cli, cli->args[1] != NULL ? _("New password: ") : NULL,
                                 &error)) == NULL)
    {
      ssq_cli_fail_with (cli, error, SSQ_CLI_USAGE);
      return -1;
    }
  /* reset-password NAME CODE is the one with a second argument. */
  if (cli->args[1] != NULL)
    ssq_client_reset_password_async (cli->client, cli->args[0], cli->args[1], password, NULL,
                                     ssq_cli_session_done, cli);
  else if (create)
    ssq_client_register_async (cli->client, cli->args[0], password, cli->display_name, NULL,
                               ssq_cli_session_done, cli);
  else
    ssq_client_login_async (cli->client, cli->args[0], password, NULL, ssq_cli_session_done, cli);
  memset (password, 0, strlen (password));
  return -1;
}

static void
logout_done (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  Cli *cli = user_data;
  SsqClient *client = SSQ_CLIENT (source);
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) local = NULL;
  gboolean told = ssq_client_logout_finish (client, result, &error);

  if (!ssq_credentials_remove (ssq_client_get_server_url (client), ssq_client_get_username (client), &local))
    return ssq_cli_fail (cli, local);
  /* A session the server had already ended is logged out all the same. */
  if (!told && !g_error_matches (error, SSQ_ERROR, SSQ_ERROR_UNAUTHORIZED))
    {
      g_prefix_error (&error, "%s", _("Logged out here, but the server was not told: "));
      return ssq_cli_fail (cli, error);
    }
  if (!cli->json)
    g_print (_("Logged out\n"));
  ssq_cli_quit (cli, SSQ_CLI_OK);
}

static int
cmd_logout (Cli *cli)
{
  g_autoptr(GError) error = NULL;

  if (!open_session (cli, &error))
    {
      ssq_cli_fail (cli, error);
      return -1;
    }
  ssq_client_logout_async (cli->client, NULL, logout_done, cli);
  return -1;
}

/* After output from the cache: why it may be stale. */
static void
print_offline (const GError *offline)
{
  g_autofree char *why = ssq_display_sanitize_line (offline->message);

  g_printerr (_("supersoniq-cli: offline (%s); this is what the cache holds\n"), why);
}

/* conversations */

static void
conversations_step (Cli          *cli,
                    const GError *offline)
{
  g_autoptr(GPtrArray) list = ssq_cache_list_conversations (ssq_client_get_cache (cli->client));

  if (cli->json)
    {
      g_autoptr(JsonArray) array = json_array_new ();
      g_autoptr(JsonNode) node = json_node_alloc ();
      g_autoptr(GError) error = NULL;

      for (guint i = 0; i < list->len; i++)
        {
          JsonObject *object = ssq_cli_conversation_to_json (cli, list->pdata[i], &error);

          if (object == NULL)
            return ssq_cli_fail (cli, error);
          json_array_add_object_element (array, object);
        }
      json_node_init_array (node, array);
      ssq_cli_print_json (node);
    }
  else if (list->len == 0)
    g_print ("%s\n", _("No conversations yet (supersoniq-cli dm USER, or group TITLE USER...)"));
  else
    for (guint i = 0; i < list->len; i++)
      ssq_cli_print_conversation_line (list->pdata[i]);
  if (offline != NULL)
    {
      print_offline (offline);
      ssq_cli_quit (cli, SSQ_CLI_NETWORK);
      return;
    }
  ssq_cli_quit (cli, SSQ_CLI_OK);
}

/* dm and group */

static void
conversation_done (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  Cli *cli = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(SsqConversation) conversation =
    ssq_client_conversation_finish (SSQ_CLIENT (source), result, &error);

  if (conversation == NULL)
    return ssq_cli_fail (cli, error);
  if (ssq_cli_print_conversation (cli, conversation))
    ssq_cli_quit (cli, SSQ_CLI_OK);
}

static void
dm_step (Cli          *cli,
         const GError *offline)
{
  if (offline != NULL)
    return ssq_cli_fail (cli, offline);
  ssq_client_create_direct_async (cli->client, cli->args[0], NULL, conversation_done, cli);
}

static void
group_step (Cli          *cli,
            const GError *offline)
{
  if (offline != NULL)
    return ssq_cli_fail (cli, offline);
  ssq_client_create_group_async (cli->client, cli->args[0], (const char *const *) cli->args + 1,
                                 NULL, conversation_done, cli);
}

/* history */

/* The newest page, then what still waits in the outbox for this
 * conversation: the messages written here that the server does not have
 * yet, in the place they will take, marked pending. */
static void
print_history (Cli       *cli,
               GPtrArray *messages)
{
  g_autoptr(GPtrArray) pending = ssq_cache_outbox_list (ssq_client_get_cache (cli->client), cli->conversation_id);
  g_autoptr(GPtrArray) all = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; i < messages->len; i++)
    g_ptr_array_add (all, g_object_ref (messages->pdata[i]));
  for (guint i = 0; i < pending->len; i++)
    g_ptr_array_add (all, g_object_ref (pending->pdata[i]));
  if (all->len == 0 && !cli->json)
    {
      g_print ("%s\n", _("No messages in this conversation yet"));
      return;
    }
  ssq_cli_print_messages (cli, all);
}

static void
history_done (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Cli *cli = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) messages = ssq_client_load_older_finish (SSQ_CLIENT (source), result, &error);

  if (messages == NULL)
    return ssq_cli_fail (cli, error);
  print_history (cli, messages);
  ssq_cli_quit (cli, SSQ_CLI_OK);
}

static void
history_step (Cli          *cli,
              const GError *offline)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SsqConversation) conversation = ssq_cli_find_conversation (cli, cli->args[0], &error);

  if (conversation == NULL)
    return ssq_cli_fail_lookup (cli, error);
  cli->conversation_id = g_strdup (ssq_conversation_get_id (conversation));
  if (offline != NULL)
    {
      g_autoptr(GPtrArray) cached = ssq_cache_get_messages (ssq_client_get_cache (cli->client),
                                                            ssq_conversation_get_id (conversation),
                                                            0, cli->limit, NULL);

      print_history (cli, cached);
      print_offline (offline);
      ssq_cli_quit (cli, SSQ_CLI_NETWORK);
      return;
    }
  ssq_client_load_older_async (cli->client, ssq_conversation_get_id (conversation), 0, cli->limit,
                               NULL, history_done, cli);
}

/* tail */

static void
tail_message_cb (SsqClient  *client,
                 SsqMessage *message,
                 Cli        *cli)
{
  if (g_strcmp0 (ssq_message_get_conversation_id (message), cli->conversation_id) != 0)
    return;
  ssq_cli_print_message (cli, message);
  fflush (stdout);
}

static gboolean
interrupted_cb (gpointer user_data)
{
  Cli *cli = user_data;

  /* tail runs until it is interrupted; an export cut short is a failure
   * (a script must not take the FILE of an earlier run for this one's). */
  if (cli->after_connect == ssq_cli_export_step)
    ssq_cli_export_abandon (cli, TRUE);
  else
    ssq_cli_quit (cli, SSQ_CLI_OK);
  return G_SOURCE_REMOVE;
}

static void
tail_step (Cli          *cli,
           const GError *offline)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SsqConversation) conversation = ssq_cli_find_conversation (cli, cli->args[0], &error);

  if (conversation == NULL)
    return ssq_cli_fail_lookup (cli, error);
  if (offline != NULL)
    {
      g_autofree char *why = ssq_display_sanitize_line (offline->message);

      g_printerr (_("supersoniq-cli: %s; waiting for the server\n"), why);
    }
  cli->conversation_id = g_strdup (ssq_conversation_get_id (conversation));
  g_signal_connect (cli->client, "message", G_CALLBACK (tail_message_cb), cli);
  /* Stays connected, reconnecting as needed, until interrupted. */
  ssq_client_connect (cli->client);
}

/* search and outbox: the cache, after a sync when the server is there. */

static void
search_step (Cli          *cli,
             const GError *offline)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) found = ssq_client_search (cli->client, cli->args[0], NULL, cli->limit, &error);

  if (found == NULL)
    return ssq_cli_fail (cli, error);
  ssq_cli_print_messages (cli, found);
  ssq_cli_quit (cli, offline ? SSQ_CLI_NETWORK : SSQ_CLI_OK);
}

static void
outbox_step (Cli          *cli,
             const GError *offline)
{
  g_autoptr(GPtrArray) pending = ssq_cache_outbox_list (ssq_client_get_cache (cli->client), NULL);

  ssq_cli_print_messages (cli, pending);
  ssq_cli_quit (cli, offline ? SSQ_CLI_NETWORK : SSQ_CLI_OK);
}

/* The command table. */

typedef struct {
  const char *name;
  int         min_args;
  int         max_args;   /* -1: any */
  const char *usage;
  CliStep     step;       /* runs after connecting, when set */
  int       (*run) (Cli *cli);
} CliCommand;

static int cmd_register (Cli *cli) { return cmd_session (cli, TRUE); }
static int cmd_login (Cli *cli) { return cmd_session (cli, FALSE); }
static int cmd_reset_password (Cli *cli) { return cmd_session (cli, FALSE); }

static const CliCommand commands[] = {
  { "register", 1, 1, N_("register NAME [--display-name NAME]"), NULL, cmd_register },
  { "login", 1, 1, N_("login NAME"), NULL, cmd_login },
  { "reset-password", 2, 2, N_("reset-password NAME CODE (a one-time code from the server's administrator)"), NULL, cmd_reset_password },
  { "join", 1, 2, N_("join INVITE_LINK [NAME] [--display-name NAME] (registers with an invite)"), NULL, ssq_cli_join },
  { "invite", 1, 2, N_("invite create [--uses N] [--expires 7d] | invite list | invite revoke ID"), NULL, ssq_cli_invite },
  { "logout", 0, 0, N_("logout"), NULL, cmd_logout },
  { "discover", 0, 0, N_("discover [--timeout S] (servers on the LAN, found in S seconds, default 3)"), NULL, ssq_cli_discover },
  { "forget-server", 1, 1, N_("forget-server URL (forgets its trusted key: after the server's key changed on purpose)"), NULL, ssq_cli_forget_server },
  { "conversations", 0, 0, N_("conversations"), conversations_step, NULL },
  { "dm", 1, 1, N_("dm USER"), dm_step, NULL },
  { "group", 1, -1, N_("group TITLE USER..."), group_step, NULL },
  { "send", 1, 2, N_("send CONVERSATION [TEXT] [--file FILE]..."), NULL, ssq_cli_send },
  { "download", 1, 1, N_("download MEDIA_ID [-o FILE]"), NULL, ssq_cli_download },
  { "history", 1, 1, N_("history CONVERSATION [--limit N]"), history_step, NULL },
  { "tail", 1, 1, N_("tail CONVERSATION"), tail_step, NULL },
  { "search", 1, 1, N_("search TEXT [--limit N]"), search_step, NULL },
  { "outbox", 0, 0, N_("outbox"), outbox_step, NULL },
  { "export", 0, 0, N_("export [-o FILE] [--media DIR]"), ssq_cli_export_step, NULL },
  { "queue", 1, 3, NULL, NULL, ssq_cli_queue },
};

/* The usage line of @command (queue's is long and lives with it). */
static const char *
command_usage (const CliCommand *command)
{
  return command->usage != NULL ? _(command->usage) : ssq_cli_queue_usage ();
}

/* Options that belong to one command, and send's text or files. */
static gboolean
options_fit (Cli              *cli,
             const CliCommand *command,
             guint             n_args)
{
  if (cli->files != NULL && command->run != ssq_cli_send)
    return FALSE;
  if (cli->output != NULL && command->run != ssq_cli_download && command->step != ssq_cli_export_step)
    return FALSE;
  if (cli->media_dir != NULL && command->step != ssq_cli_export_step)
    return FALSE;
  if ((cli->uses != 0 || cli->expires != NULL) && command->run != ssq_cli_invite)
    return FALSE;
  /* queue checks which of its own options each verb takes. */
  if ((cli->arguments != NULL || cli->headers != NULL || cli->content_type != NULL ||
       cli->priority != -1 || cli->transient || cli->count != 0 || cli->wait != -1) &&
      command->run != ssq_cli_queue)
    return FALSE;
  if (cli->priority < -1 || cli->priority > 255 || cli->wait < -1 || cli->count < 0)
    return FALSE;
  /* discover looks on the LAN, for no account. */
  if (command->run == ssq_cli_discover && (cli->server != NULL || cli->user != NULL))
    return FALSE;
  return command->run != ssq_cli_send || n_args >= 2 || cli->files != NULL;
}

static char *
usage_text (void)
{
  g_autoptr(GString) text = g_string_new (_("Commands:\n"));

  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    g_string_append_printf (text, "  %s\n", command_usage (&commands[i]));
  g_string_append (text, _("\nCONVERSATION is an id, a group title, or a username for the direct "
                           "conversation.\nExit codes: 0 ok, 1 refused by the server, 2 usage, "
                           "3 not logged in or session refused, 4 server unreachable, 5 not found, "
                           "6 queued in the outbox, 7 the server's key is not trusted.\n"));
  return g_string_free (g_steal_pointer (&text), FALSE);
}

/* An http:// or https:// URL with a host. "HOST:PORT" alone is a common
 * slip: suggest the URL it probably means. */
static gboolean
check_server_url (const char  *server,
                  GError     **error)
{
  g_autoptr(GUri) uri = g_uri_parse (server, G_URI_FLAGS_NONE, NULL);
  const char *scheme = uri ? g_uri_get_scheme (uri) : NULL;

  if (uri != NULL && (g_ascii_strcasecmp (scheme, "http") == 0 || g_ascii_strcasecmp (scheme, "https") == 0) &&
      g_uri_get_host (uri) != NULL && *g_uri_get_host (uri) != '\0')
    return TRUE;
  if (strstr (server, "://") == NULL)
    g_set_error (error, SSQ_ERROR, SSQ_ERROR_INVALID,
                 _("Not a server address: %s; did you mean https://%s?"), server, server);
  else
    g_set_error (error, SSQ_ERROR, SSQ_ERROR_INVALID,
                 _("Not a server address: %s; use http://HOST:PORT or https://HOST:PORT"), server);
  return FALSE;
}

static void
cli_clear (Cli *cli)
{
  g_clear_handle_id (&cli->timeout_source, g_source_remove);
  if (cli->client != NULL)
    {
      g_signal_handlers_disconnect_by_data (cli->client, cli);
      ssq_client_disconnect (cli->client);
    }
  g_clear_object (&cli->client);
  g_clear_pointer (&cli->loop, g_main_loop_unref);
  g_free (cli->server);
  g_free (cli->user);
  g_free (cli->password_file);
  g_free (cli->display_name);
  g_free (cli->data_dir);
  g_free (cli->trust);
  g_free (cli->conversation_id);
  g_free (cli->client_id);
  g_free (cli->output);
  g_free (cli->media_dir);
  g_free (cli->expires);
  g_strfreev (cli->arguments);
  g_strfreev (cli->headers);
  g_free (cli->content_type);
  g_strfreev (cli->files);
  g_strfreev (cli->args);
  ssq_cli_unwatch_transfer (cli);
}

static int
run_command (Cli              *cli,
             const CliCommand *command)
{
  g_autoptr(GError) error = NULL;
  int code;

  g_unix_signal_add (SIGINT, interrupted_cb, cli);
  g_unix_signal_add (SIGTERM, interrupted_cb, cli);
  if (command->run != NULL)
    {
      if (command->run != cmd_register && command->run != cmd_login &&
          command->run != cmd_reset_password && command->run != ssq_cli_join &&
          command->run != cmd_logout && command->run != ssq_cli_discover &&
          command->run != ssq_cli_forget_server &&
          !open_session (cli, &error))
        {
          ssq_cli_fail (cli, error);
          return cli->exit_code;
        }
      code = command->run (cli);
      if (code >= 0)
        return code;
    }
  else
    {
      if (!open_session (cli, &error))
        {
          ssq_cli_fail (cli, error);
          return cli->exit_code;
        }
      ssq_cli_connect (cli, command->step);
    }
  /* Unless the command already ended (a quit before the loop runs would be
   * forgotten by g_main_loop_run). */
  if (cli->exit_code < 0)
    g_main_loop_run (cli->loop);
  /* An export the run ended under (a timeout) leaves no temporary file. */
  ssq_cli_export_abandon (cli, FALSE);
  return cli->exit_code;
}

/* Overwrites, in the process's own arguments, the one that is @secret:
 * /proc/PID/cmdline shows them to every local user for as long as the
 * program runs, and reset-password waits at a prompt for the new password
 * with the one-time code there, for anyone to redeem first. */
static void
hide_argument (int          argc,
               char       **argv,
               const char  *secret)
{
  for (int i = 1; i < argc; i++)
    if (strcmp (argv[i], secret) == 0)
      memset (argv[i], 'x', strlen (argv[i]));
}

int
ssq_cli_run (int    argc,
             char **argv)
{
  Cli cli = { 0 };
  int original_argc = argc;
  g_autofree char **original_argv = g_memdup2 (argv, sizeof (char *) * (gsize) (argc + 1));
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *usage = usage_text ();
  g_auto(GStrv) rest = NULL;
  const CliCommand *command = NULL;
  guint n_args;
  int code;
  gboolean version = FALSE;
  GOptionEntry entries[] = {
    { "server", 's', 0, G_OPTION_ARG_STRING, &cli.server, N_("The server, e.g. https://chat.lan:8443"), N_("URL") },
    { "trust", 0, 0, G_OPTION_ARG_STRING, &cli.trust, N_("Trust the server's key if it has this fingerprint (as the server printed it), without asking"), N_("FINGERPRINT") },
    { "insecure", 0, 0, G_OPTION_ARG_NONE, &cli.insecure, N_("Allow plain http:// to a host that is not this machine (unencrypted)"), NULL },
    { "user", 'u', 0, G_OPTION_ARG_STRING, &cli.user, N_("Which saved account to use"), N_("NAME") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &cli.json, N_("Print JSON"), NULL },
    { "password-file", 0, 0, G_OPTION_ARG_FILENAME, &cli.password_file, N_("Read the password from FILE"), N_("FILE") },
    { "display-name", 0, 0, G_OPTION_ARG_STRING, &cli.display_name, N_("Display name for register"), N_("NAME") },
    { "limit", 'n', 0, G_OPTION_ARG_INT, &cli.limit, N_("How many messages (default 50)"), N_("N") },
    { "timeout", 0, 0, G_OPTION_ARG_INT, &cli.timeout, N_("Seconds to wait for the server (default 10)"), N_("S") },
    { "data-dir", 0, 0, G_OPTION_ARG_FILENAME, &cli.data_dir, N_("Where the local cache lives"), N_("DIR") },
    { "file", 'f', 0, G_OPTION_ARG_FILENAME_ARRAY, &cli.files, N_("Attach FILE to the message (send; repeatable)"), N_("FILE") },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &cli.output, N_("Where download saves the file, or export the JSON (- for standard output)"), N_("FILE") },
    { "media", 0, 0, G_OPTION_ARG_FILENAME, &cli.media_dir, N_("Where export saves the media files too"), N_("DIR") },
    { "uses", 0, 0, G_OPTION_ARG_INT, &cli.uses, N_("invite create: how many accounts it lets register (default 1)"), N_("N") },
    { "expires", 0, 0, G_OPTION_ARG_STRING, &cli.expires, N_("invite create: how long it is valid (default 7d; e.g. 90s, 15m, 12h)"), N_("TIME") },
    { "arg", 0, 0, G_OPTION_ARG_STRING_ARRAY, &cli.arguments, N_("queue declare: a queue argument, e.g. max_length=1000 (repeatable)"), N_("KEY=VALUE") },
    { "header", 0, 0, G_OPTION_ARG_STRING_ARRAY, &cli.headers, N_("queue publish: a message header (repeatable)"), N_("KEY=VALUE") },
    { "content-type", 0, 0, G_OPTION_ARG_STRING, &cli.content_type, N_("queue publish: the message's content type"), N_("TYPE") },
    { "priority", 0, 0, G_OPTION_ARG_INT, &cli.priority, N_("queue publish: the message's priority, 0 to 255"), N_("N") },
    { "transient", 0, 0, G_OPTION_ARG_NONE, &cli.transient, N_("queue declare: a queue that does not survive a restart; queue publish: a message that is not stored"), NULL },
    { "count", 0, 0, G_OPTION_ARG_INT, &cli.count, N_("queue get and consume: how many messages (get: default 1; consume: until interrupted)"), N_("N") },
    { "wait", 0, 0, G_OPTION_ARG_INT, &cli.wait, N_("queue get: seconds to wait for a message (default 0)"), N_("S") },
    { "version", 'V', 0, G_OPTION_ARG_NONE, &version, N_("Print the version and exit"), NULL },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &rest, NULL, N_("COMMAND [ARGS...]") },
    { NULL }
  };

  cli.limit = SSQ_HISTORY_DEFAULT;
  cli.priority = -1;
  cli.wait = -1;
  cli.timeout = G_MININT;   /* not given: the command's default */
  cli.exit_code = -1;
  context = g_option_context_new (NULL);
  g_option_context_set_summary (context, _("Chat on a SupersoniQ server from scripts and shells."));
  g_option_context_set_description (context, usage);
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("supersoniq-cli: %s\n%s", error->message, usage);
      cli_clear (&cli);
      return SSQ_CLI_USAGE;
    }
  if (version)
    {
      g_print ("supersoniq-cli %s\n", SSQ_VERSION);
      cli_clear (&cli);
      return SSQ_CLI_OK;
    }
  for (guint i = 0; rest != NULL && rest[0] != NULL && i < G_N_ELEMENTS (commands); i++)
    if (strcmp (rest[0], commands[i].name) == 0)
      command = &commands[i];
  n_args = rest ? g_strv_length (rest) - (rest[0] ? 1 : 0) : 0;
  if (command == NULL && rest != NULL && rest[0] != NULL)
    {
      g_autofree char *name = ssq_display_sanitize_line (rest[0]);

      g_printerr (_("supersoniq-cli: unknown command “%s”\n"), name);
    }
  else if (command != NULL && ((int) n_args < command->min_args ||
                               (command->max_args >= 0 && (int) n_args > command->max_args) ||
                               !options_fit (&cli, command, n_args)))
    {
      g_printerr (_("supersoniq-cli: usage: supersoniq-cli %s\n"), command_usage (command));
      command = NULL;
    }
  if (command != NULL && cli.timeout == G_MININT)
    cli.timeout = command->run == ssq_cli_discover ? 3 : 10;
  if (command == NULL || cli.limit < 1 || cli.timeout < 1)
    {
      g_printerr ("%s", usage);
      cli_clear (&cli);
      return SSQ_CLI_USAGE;
    }
  if (cli.server != NULL)
    while (g_str_has_suffix (cli.server, "/"))
      cli.server[strlen (cli.server) - 1] = '\0';
  if (cli.trust != NULL && !ssq_invite_link_check_fingerprint (cli.trust))
    {
      g_printerr (_("supersoniq-cli: --trust takes a fingerprint, sha256: and 64 hex digits (as "
                    "the server prints it)\n"));
      cli_clear (&cli);
      return SSQ_CLI_USAGE;
    }
  if (cli.server != NULL && !check_server_url (cli.server, &error))
    {
      g_autofree char *text = ssq_display_sanitize_line (error->message);

      g_printerr ("supersoniq-cli: %s\n", text);
      cli_clear (&cli);
      return SSQ_CLI_USAGE;
    }
  cli.args = g_strdupv (rest + 1);
  if (command->run == cmd_reset_password && cli.args[0] != NULL && cli.args[1] != NULL)
    hide_argument (original_argc, original_argv, cli.args[1]);
  /* An invite link is a secret too while join waits for the password. */
  if (command->run == ssq_cli_join && cli.args[0] != NULL)
    hide_argument (original_argc, original_argv, cli.args[0]);
  cli.loop = g_main_loop_new (NULL, FALSE);
  code = run_command (&cli, command);
  cli_clear (&cli);
  return code < 0 ? SSQ_CLI_FAILED : code;
}
