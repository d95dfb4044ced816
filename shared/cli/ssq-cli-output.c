/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-cli-output.c: what supersoniq-cli prints. With --json, objects as the
 * codec encodes them (plus what only this client knows, under "client"),
 * exact; for people, one line per item with every string from the server
 * sanitized. Also how a command fails: message, JSON error, exit code. */
#include "ssq-config.h"
#include "ssq-cli-private.h"

#include <glib/gi18n.h>
#include <stdio.h>

#include "ssq-display.h"
#include "ssq-proto.h"
#include "ssq-wire.h"

void
ssq_cli_quit (Cli *cli,
              int  exit_code)
{
  cli->exit_code = exit_code;
  g_main_loop_quit (cli->loop);
}

int
ssq_cli_exit_code_for (const GError *error)
{
  if (error == NULL || error->domain != SSQ_ERROR)
    return SSQ_CLI_FAILED;
  switch (error->code)
    {
    case SSQ_ERROR_UNAUTHORIZED:
    case SSQ_ERROR_ACCOUNT_DISABLED: return SSQ_CLI_AUTH;
    case SSQ_ERROR_NOT_FOUND: return SSQ_CLI_NOT_FOUND;
    case SSQ_ERROR_NETWORK:
    case SSQ_ERROR_UNAVAILABLE: return SSQ_CLI_NETWORK;
    case SSQ_ERROR_UNTRUSTED:
    case SSQ_ERROR_KEY_CHANGED:
    case SSQ_ERROR_INSECURE: return SSQ_CLI_UNTRUSTED;
    case SSQ_ERROR_STORAGE: return SSQ_CLI_STORAGE;
    default: return SSQ_CLI_FAILED;
    }
}

void
ssq_cli_print_json (JsonNode *node)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();

  json_generator_set_root (generator, node);
  g_autofree char *raw = json_generator_to_data (generator, NULL);
  /* Other members wrote these bodies and names: the controls JSON may leave
   * raw (DEL, C1 such as U+009B CSI, bidi overrides) are escaped, so that
   * `supersoniq-cli --json` on a terminal cannot be steered. */
  g_autofree char *text = ssq_display_escape_json (raw);
  /* JSON is UTF-8 whatever the locale: bytes as they are, where g_print
   * would turn what the locale cannot show into '?'. */
  fputs (text, stdout);
  fputc ('\n', stdout);
  fflush (stdout);
}

void
ssq_cli_print_json_object (JsonObject *object)
{
  g_autoptr(JsonNode) node = json_node_init_object (json_node_alloc (), object);

  ssq_cli_print_json (node);
}

/* Reports @error and quits with @exit_code. The message may come from the
 * server, so it goes to the terminal sanitized (newlines kept: a list of
 * candidates is one line each). */
void
ssq_cli_fail_with (Cli          *cli,
                   const GError *error,
                   int           exit_code)
{
  g_autofree char *text = ssq_display_sanitize (error->message);

  g_printerr ("supersoniq-cli: %s\n", text);
  if (cli->json)
    {
      g_autoptr(JsonObject) reply = ssq_wire_error_object (error);

      ssq_cli_print_json_object (reply);
    }
  ssq_cli_quit (cli, exit_code);
}

/* Reports @error and quits with the exit code it maps to. */
void
ssq_cli_fail (Cli          *cli,
              const GError *error)
{
  ssq_cli_fail_with (cli, error, ssq_cli_exit_code_for (error));
}

void
ssq_cli_fail_code (Cli        *cli,
                   SsqError    code,
                   const char *message)
{
  g_autoptr(GError) error = g_error_new_literal (SSQ_ERROR, code, message);

  ssq_cli_fail (cli, error);
}

/* Output. */

static char *
format_time (gint64 ms)
{
  g_autoptr(GDateTime) time = g_date_time_new_from_unix_local (ms / 1000);

  return time ? g_date_time_format (time, "%Y-%m-%d %H:%M") : g_strdup ("?");
}

/* The sender's username as the server gave it (for JSON). */
static char *
sender_name (Cli        *cli,
             SsqMessage *message)
{
  g_autoptr(SsqUser) user = ssq_cache_get_user (ssq_client_get_cache (cli->client),
                                                ssq_message_get_sender (message));

  return g_strdup (user ? ssq_user_get_username (user) : ssq_message_get_sender (message));
}

static const char *
status_name (SsqMessageStatus status)
{
  static const char *const names[] = { "pending", "failed", "sent", "delivered", "read" };

  return names[status];
}

/* The message as the codec encodes it, with what only this client knows
 * under "client"; a message still in the outbox has no id and no seq
 * yet, so it goes without them. */
static JsonObject *
message_to_json (Cli        *cli,
                 SsqMessage *message)
{
  JsonObject *object = ssq_message_to_json (message);
  JsonObject *client = json_object_new ();
  g_autofree char *sender = sender_name (cli, message);

  if (ssq_message_get_seq (message) <= 0)
    {
      json_object_remove_member (object, "id");
      json_object_remove_member (object, "seq");
    }
  json_object_set_string_member (client, "sender_username", sender);
  json_object_set_string_member (client, "status", status_name (ssq_message_get_status (message)));
  json_object_set_object_member (object, "client", client);
  return object;
}

/* One message on one line, for people: every string from the server
 * sanitized, so that a body cannot drive the terminal (escape sequences
 * that clear it, set its title or write the clipboard). A deleted message
 * shows only its tombstone; one still in the outbox is marked pending. */
static void
print_message_line (Cli        *cli,
                    SsqMessage *message)
{
  g_autofree char *raw_sender = sender_name (cli, message);
  g_autofree char *sender = ssq_display_sanitize_line (raw_sender);
  g_autofree char *when = format_time (ssq_message_get_created_at (message));
  gboolean deleted = ssq_message_get_deleted (message);
  g_autofree char *body = ssq_display_sanitize_line (deleted ? _("(deleted)") : ssq_message_get_body (message));
  g_autofree char *seq = ssq_message_get_seq (message) > 0
                         ? g_strdup_printf ("#%" G_GINT64_FORMAT, ssq_message_get_seq (message))
                         : g_strdup (_("(pending)"));
  const char *mark = "";

  g_autoptr(GString) media = g_string_new (NULL);

  if (ssq_message_get_status (message) == SSQ_MESSAGE_FAILED)
    mark = _(" (not sent)");
  else if (!deleted && ssq_message_get_edited_at (message) > 0)
    mark = _(" (edited)");
  /* Attachments after the text: "[image 1920×1080 photo.jpg 240.0 kB]". */
  for (guint i = 0; i < ssq_message_get_n_media (message); i++)
    {
      g_autofree char *line = ssq_display_media (ssq_message_get_media (message, i));

      g_string_append_printf (media, "%s%s", media->len > 0 || *body != '\0' ? " " : "", line);
    }
  g_print ("%s %s %s: %s%s%s\n", when, seq, sender, body, media->str, mark);
}

/* One message: a line, or a JSON object on one line. */
void
ssq_cli_print_message (Cli        *cli,
                       SsqMessage *message)
{
  if (cli->json)
    {
      g_autoptr(JsonObject) object = message_to_json (cli, message);

      ssq_cli_print_json_object (object);
    }
  else
    print_message_line (cli, message);
}

void
ssq_cli_print_messages (Cli       *cli,
                        GPtrArray *messages)
{
  if (cli->json)
    {
      g_autoptr(JsonArray) array = json_array_new ();
      g_autoptr(JsonNode) node = json_node_alloc ();

      for (guint i = 0; i < messages->len; i++)
        json_array_add_object_element (array, message_to_json (cli, messages->pdata[i]));
      json_node_init_array (node, array);
      ssq_cli_print_json (node);
      return;
    }
  for (guint i = 0; i < messages->len; i++)
    print_message_line (cli, messages->pdata[i]);
}

/* The conversation as the server sent it, encoded by the codec from the
 * cache, with what only this client knows under "client": the title it
 * shows, when it last saw activity, and how many messages wait in the
 * outbox. NULL with @error when the cache cannot give it. */
JsonObject *
ssq_cli_conversation_to_json (Cli              *cli,
                              SsqConversation  *conversation,
                              GError          **error)
{
  SsqCache *cache = ssq_client_get_cache (cli->client);
  const char *id = ssq_conversation_get_id (conversation);
  JsonObject *object = ssq_cache_conversation_to_wire (cache, id, error);
  g_autoptr(GPtrArray) pending = NULL;
  JsonObject *client;

  if (object == NULL)
    return NULL;
  pending = ssq_cache_outbox_list (cache, id);
  client = json_object_new ();
  json_object_set_string_member (client, "display_title", ssq_conversation_get_display_title (conversation));
  json_object_set_int_member (client, "last_activity", ssq_conversation_get_last_activity (conversation));
  json_object_set_int_member (client, "pending", pending->len);
  json_object_set_object_member (object, "client", client);
  return object;
}

void
ssq_cli_print_conversation_line (SsqConversation *conversation)
{
  g_autofree char *when = format_time (ssq_conversation_get_last_activity (conversation));
  GListModel *members = ssq_conversation_get_members (conversation);
  g_autofree char *id = ssq_display_sanitize_line (ssq_conversation_get_id (conversation));
  g_autofree char *title = ssq_display_sanitize_line (ssq_conversation_get_display_title (conversation));
  guint n_members = g_list_model_get_n_items (members);
  gint64 unread = ssq_conversation_get_unread (conversation);
  g_autofree char *unread_text = g_strdup_printf ("%" G_GINT64_FORMAT, unread);
  g_autofree char *members_part = NULL;
  g_autofree char *unread_part = NULL;

  members_part = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u member", "%u members", n_members),
                                  n_members);
  unread_part = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%s unread", "%s unread",
                                              (gulong) CLAMP (unread, 0, G_MAXLONG)),
                                 unread_text);
  g_print ("%s  %-6s  %s  (%s, %s%s)  %s\n",
           id,
           ssq_conversation_is_direct (conversation) ? C_("conversation kind", "direct")
                                                     : C_("conversation kind", "group"),
           title,
           members_part,
           unread_part,
           ssq_conversation_get_muted (conversation) ? _(", muted") : "",
           when);
}

/* One conversation: a line, or a JSON object on one line. FALSE when it
 * failed (and the command with it). */
gboolean
ssq_cli_print_conversation (Cli             *cli,
                            SsqConversation *conversation)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) object = NULL;

  if (!cli->json)
    {
      ssq_cli_print_conversation_line (conversation);
      return TRUE;
    }
  object = ssq_cli_conversation_to_json (cli, conversation, &error);
  if (object == NULL)
    {
      ssq_cli_fail (cli, error);
      return FALSE;
    }
  ssq_cli_print_json_object (object);
  return TRUE;
}
