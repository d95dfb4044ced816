/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-cli-trust.c: supersoniq-cli's side of trust on first use. Every
 * client the CLI makes comes from here: before a command runs (and before
 * a password is asked for), the server's key is settled
 * (ssq-trust-prompt.c: asked on a terminal, or --trust). Also
 * `forget-server URL`. */
#include "ssq-config.h"
#include "ssq-cli-private.h"

#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ssq-display.h"
#include "ssq-invite-link.h"
#include "ssq-trust.h"
#include "ssq-trust-prompt.h"

/**
 * ssq_cli_client_new:
 * @fingerprint: (nullable): a key given in advance (an invite link's);
 *   --trust is used otherwise
 *
 * The client for @url, with --insecure, its key settled (ssq-trust-prompt.h).
 */
SsqClient *
ssq_cli_client_new (Cli         *cli,
                    const char  *url,
                    const char  *fingerprint,
                    GError     **error)
{
  g_autoptr(SsqClient) client = ssq_client_new (url, cli->data_dir);

  g_object_set (client, "insecure", cli->insecure, NULL);
  if (!ssq_trust_prompt_settle (client, fingerprint ? fingerprint : cli->trust, (guint) cli->timeout,
                                error))
    return NULL;
  return g_steal_pointer (&client);
}
/* forget-server URL: a server that changed its key on purpose. */
int
ssq_cli_forget_server (Cli *cli)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *url = NULL;
  g_autofree char *where = NULL;
  g_autoptr(SsqInviteLink) link = NULL;
  gboolean found = FALSE;

  /* A URL, an invite link, or HOST:PORT (of an https:// server). */
  if ((link = ssq_invite_link_parse (cli->args[0], NULL)) != NULL)
    url = ssq_invite_link_server_url (link);
  else if (strstr (cli->args[0], "://") == NULL)
    url = g_strconcat ("https://", cli->args[0], NULL);
  else
    url = g_strdup (cli->args[0]);
  if (!ssq_trust_forget (NULL, url, &found, &error))
    {
      ssq_cli_fail_with (cli, error, g_error_matches (error, SSQ_ERROR, SSQ_ERROR_INVALID)
                                     ? SSQ_CLI_USAGE : SSQ_CLI_FAILED);
      return -1;
    }
  where = ssq_trust_server_display (url);
  if (cli->json)
    {
      g_autoptr(JsonObject) object = json_object_new ();

      json_object_set_string_member (object, "server", where);
      json_object_set_boolean_member (object, "forgotten", found);
      ssq_cli_print_json_object (object);
    }
  else if (found)
    g_print (_("Forgot the key trusted for %s: the next connection shows the server's key again "
               "for you to confirm\n"), where);
  else
    g_print (_("No key was trusted for %s\n"), where);
  return SSQ_CLI_OK;
}
