/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-cli-invite.c: `join INVITE_LINK [NAME]`, which registers on the
 * link's server with its invite and logs in, and `invite create|list|
 * revoke` for server admins. */
#include "ssq-config.h"
#include "ssq-cli-private.h"

#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ssq-client-invites.h"
#include "ssq-display.h"
#include "ssq-invite-link.h"
#include "ssq-prompt.h"
#include "ssq-qr.h"

/* join */

int
ssq_cli_join (Cli *cli)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SsqInviteLink) link = ssq_invite_link_parse (cli->args[0], &error);
  g_autofree char *username = NULL;
  g_autofree char *password = NULL;
  g_autofree char *url = NULL;

  if (link == NULL)
    {
      ssq_cli_fail_with (cli, error, SSQ_CLI_USAGE);
      return -1;
    }
  /* The link's fingerprint is pinned and checked before anything is
   * asked or sent; a link without one names a plain http:// server, which
   * only loopback (or --insecure) allows. */
  url = ssq_invite_link_server_url (link);
  if ((cli->client = ssq_cli_client_new (cli, url, link->fingerprint, &error)) == NULL)
    {
      ssq_cli_fail (cli, error);
      return -1;
    }
  username = cli->args[1] != NULL ? g_strdup (cli->args[1])
                                  : ssq_prompt_line (_("Choose a username: "), &error);
  if (username == NULL || !ssq_check_username (username, &error))
    {
      if (error == NULL)
        g_set_error_literal (&error, SSQ_ERROR, SSQ_ERROR_INVALID,
                             _("No username: give it after the link"));
      ssq_cli_fail_with (cli, error, SSQ_CLI_USAGE);
      return -1;
    }
  if ((password = ssq_cli_read_password (cli, _("New password: "), &error)) == NULL)
    {
      ssq_cli_fail_with (cli, error, SSQ_CLI_USAGE);
      return -1;
    }
  ssq_client_register_with_invite_async (cli->client, username, password, cli->display_name,
                                         link->token, NULL, ssq_cli_session_done, cli);
  memset (password, 0, strlen (password));
  return -1;
}

/* invite create */

static void
print_qr (const char *link)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SsqQrBitmap) qr = ssq_qr_encode (link, &error);
  g_autofree char *blocks = NULL;

  /* Half blocks need a UTF-8 terminal; elsewhere the link alone. */
  if (qr != NULL && !g_get_charset (NULL))
    {
      g_printerr ("%s\n", _("supersoniq-cli: no QR code: the terminal's character set is not UTF-8"));
      return;
    }
  if (qr == NULL)
    {
      g_autofree char *why = ssq_display_sanitize_line (error->message);

      g_printerr ("supersoniq-cli: %s\n", why);
      return;
    }
  blocks = ssq_qr_to_half_blocks (qr, isatty (STDOUT_FILENO));
  g_print ("\n%s\n", blocks);
}

static char *
format_time (gint64 ms)
{
  g_autoptr(GDateTime) time = g_date_time_new_from_unix_local (ms / 1000);

  return time ? g_date_time_format (time, "%Y-%m-%d %H:%M") : g_strdup ("-");
}

static JsonObject *
invite_to_json (SsqInvite *invite)
{
  JsonObject *o = json_object_new ();

  json_object_set_string_member (o, "id", invite->id);
  if (invite->token != NULL)
    json_object_set_string_member (o, "token", invite->token);
  if (invite->link != NULL)
    json_object_set_string_member (o, "link", invite->link);
  json_object_set_int_member (o, "created_at", invite->created_at);
  json_object_set_int_member (o, "expires_at", invite->expires_at);
  json_object_set_int_member (o, "uses_left", invite->uses_left);
  json_object_set_int_member (o, "uses", invite->uses);
  if (invite->created_by != NULL)
    json_object_set_string_member (o, "created_by", invite->created_by);
  else
    json_object_set_null_member (o, "created_by");
  return o;
}

static void
created_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  Cli *cli = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(SsqInvite) invite = ssq_client_create_invite_finish (SSQ_CLIENT (source), result,
                                                                 &error);
  g_autofree char *link = NULL;
  g_autofree char *until = NULL;

  if (invite == NULL)
    return ssq_cli_fail (cli, error);
  if (cli->json)
    {
      g_autoptr(JsonObject) object = invite_to_json (invite);

      ssq_cli_print_json_object (object);
      ssq_cli_quit (cli, SSQ_CLI_OK);
      return;
    }
  link = ssq_display_sanitize_line (invite->link ? invite->link : "");
  until = format_time (invite->expires_at);
  /* Uses are at most 1000 (the server's limit): an int. */
  g_print (g_dngettext (GETTEXT_PACKAGE, "Invite %s: %d registration, until %s\n",
                        "Invite %s: %d registrations, until %s\n",
                        (gulong) invite->uses_left),
           invite->id, (int) invite->uses_left, until);
  g_print ("%s\n", link);
  print_qr (link);
  g_print (_("Whoever has the link joins with: supersoniq-cli join LINK\n"));
  ssq_cli_quit (cli, SSQ_CLI_OK);
}

/* invite list */

static void
listed_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  Cli *cli = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) invites = ssq_client_list_invites_finish (SSQ_CLIENT (source), result,
                                                                 &error);
  gint64 now = g_get_real_time () / 1000;

  if (invites == NULL)
    return ssq_cli_fail (cli, error);
  if (cli->json)
    {
      g_autoptr(JsonArray) array = json_array_new ();
      g_autoptr(JsonNode) node = json_node_alloc ();

      for (guint i = 0; i < invites->len; i++)
        json_array_add_object_element (array, invite_to_json (invites->pdata[i]));
      json_node_init_array (node, array);
      ssq_cli_print_json (node);
    }
  else if (invites->len == 0)
    g_print ("%s\n", _("No invites (supersoniq-cli invite create)"));
  for (guint i = 0; !cli->json && i < invites->len; i++)
    {
      SsqInvite *invite = invites->pdata[i];
      g_autofree char *until = format_time (invite->expires_at);
      g_autofree char *by = ssq_display_sanitize_line (invite->created_by ? invite->created_by
                                                                          : "-");
      const char *state = invite->expires_at <= now ? _("expired")
                          : invite->uses_left <= 0 ? _("used up") : _("valid");

      g_print (_("%s  %s, %d left, %d used, until %s, by %s\n"), invite->id, state,
               (int) invite->uses_left, (int) invite->uses, until, by);
    }
  ssq_cli_quit (cli, SSQ_CLI_OK);
}

/* invite revoke */

static void
revoked_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  Cli *cli = user_data;
  g_autoptr(GError) error = NULL;

  if (!ssq_client_revoke_invite_finish (SSQ_CLIENT (source), result, &error))
    return ssq_cli_fail (cli, error);
  if (!cli->json)
    g_print (_("Invite %s revoked\n"), cli->args[1]);
  ssq_cli_quit (cli, SSQ_CLI_OK);
}

int
ssq_cli_invite (Cli *cli)
{
  g_autoptr(GError) error = NULL;
  const char *verb = cli->args[0];
  gint64 expires = 7 * 86400;

  if (g_str_equal (verb, "create") && cli->args[1] == NULL)
    {
      if (cli->uses < 0 || (cli->expires != NULL &&
                            !ssq_parse_duration (cli->expires, &expires, &error)))
        {
          if (error == NULL)
            g_set_error_literal (&error, SSQ_ERROR, SSQ_ERROR_INVALID,
                                 _("--uses must be at least 1"));
          ssq_cli_fail_with (cli, error, SSQ_CLI_USAGE);
          return -1;
        }
      ssq_client_create_invite_async (cli->client, cli->uses ? (guint) cli->uses : 1, expires,
                                      NULL, created_cb, cli);
    }
  else if (g_str_equal (verb, "list") && cli->args[1] == NULL && cli->uses == 0 &&
           cli->expires == NULL)
    ssq_client_list_invites_async (cli->client, NULL, listed_cb, cli);
  else if (g_str_equal (verb, "revoke") && cli->args[1] != NULL && cli->uses == 0 &&
           cli->expires == NULL)
    ssq_client_revoke_invite_async (cli->client, cli->args[1], NULL, revoked_cb, cli);
  else
    {
      g_printerr (_("supersoniq-cli: usage: supersoniq-cli %s\n"),
                  _("invite create [--uses N] [--expires 7d] | invite list | invite revoke ID"));
      return SSQ_CLI_USAGE;
    }
  return -1;
}
