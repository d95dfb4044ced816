/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-cli-trust.c: supersoniq-cli's side of trust on first use. Every
 * client the CLI makes comes from here: before a command runs (and before
 * a password is asked for), the server's key is checked; a key not trusted
 * yet is shown for the person to confirm, on a terminal, or taken from
 * --trust; a changed key stops everything. Also `forget-server URL`. */
#include "ssq-config.h"
#include "ssq-cli-private.h"

#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ssq-display.h"
#include "ssq-invite-link.h"
#include "ssq-prompt.h"
#include "ssq-trust.h"

typedef struct {
  gboolean      done;
  GError       *error;
} Probe;

static void
probe_done (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  Probe *probe = user_data;

  ssq_client_check_server_finish (SSQ_CLIENT (source), result, &probe->error);
  probe->done = TRUE;
}

static gboolean
probe_timeout_cb (gpointer user_data)
{
  g_cancellable_cancel (user_data);
  return G_SOURCE_REMOVE;
}

/* Connects once, without logging in: the key's verdict, or a network
 * error, within --timeout. The command waits for it anyway, so the loop
 * runs here. */
static GError *
probe_server (Cli       *cli,
              SsqClient *client)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  Probe probe = { FALSE, NULL };
  guint timeout = g_timeout_add_seconds (cli->timeout, probe_timeout_cb, cancellable);

  ssq_client_check_server_async (client, cancellable, probe_done, &probe);
  while (!probe.done)
    g_main_context_iteration (NULL, TRUE);
  if (!g_cancellable_is_cancelled (cancellable))
    g_source_remove (timeout);
  return probe.error;
}

/* Asks the person at the terminal; FALSE when there is none (a script) or
 * the answer is not yes. */
static gboolean
ask_to_trust (const char *url,
              const char *fingerprint,
              gboolean   *out_asked)
{
  g_autofree char *where = ssq_trust_server_display (url);
  g_autofree char *shown = ssq_trust_fingerprint_display (fingerprint);
  g_autofree char *question = NULL;
  g_autofree char *answer = NULL;
  /* Translators: the answer that means yes to "[y/N]" */
  const char *yes = _("y");

  *out_asked = FALSE;
  if (!isatty (STDIN_FILENO))
    return FALSE;
  question = g_strdup_printf (_("The server at %s presents the key\n  %s\n"
                                "Compare it with the one the server printed. Trust it? [y/N] "),
                              where, shown);
  answer = ssq_prompt_line (question, NULL);
  if (answer == NULL)
    return FALSE;
  *out_asked = TRUE;
  g_strstrip (answer);
  return g_ascii_strcasecmp (answer, yes) == 0 || g_ascii_strcasecmp (answer, "y") == 0 ||
         g_ascii_strcasecmp (answer, "yes") == 0;
}

/* A key given in advance (--trust, an invite link) that the server does
 * not present: said as what it is. */
static GError *
given_key_refused (const char   *url,
                   const char   *given,
                   const GError *error)
{
  g_autofree char *where = ssq_trust_server_display (url);
  g_autofree char *presented = ssq_trust_fingerprint_display (ssq_error_get_fingerprint (error));
  g_autofree char *expected = ssq_trust_fingerprint_display (given);
  GError *refused = g_error_new (SSQ_ERROR, SSQ_ERROR_KEY_CHANGED,
                                 _("DANGER: the server at %s presents the key %s, not the one you "
                                   "were given (%s). Refusing to connect: someone may be "
                                   "intercepting the connection, or the fingerprint is wrong"),
                                 where, presented, expected);

  ssq_error_set_fingerprints (refused, ssq_error_get_fingerprint (error), given);
  return refused;
}

/* The server's key is trusted, or the error that stops the command. */
static gboolean
settle_trust (Cli         *cli,
              SsqClient   *client,
              const char  *url,
              const char  *given,
              gboolean     given_is_new,
              GError     **error)
{
  g_autoptr(GError) verdict = probe_server (cli, client);
  const char *presented = ssq_error_get_fingerprint (verdict);
  gboolean asked = FALSE;

  if (verdict == NULL)
    return TRUE;
  if (g_error_matches (verdict, SSQ_ERROR, SSQ_ERROR_KEY_CHANGED) && given_is_new)
    {
      /* Not kept: a typo must not become a pin to forget later. */
      ssq_client_forget_server (client, url, NULL, NULL);
      g_propagate_error (error, given_key_refused (url, given, verdict));
      return FALSE;
    }
  if (g_error_matches (verdict, SSQ_ERROR, SSQ_ERROR_UNTRUSTED))
    {
      if (ask_to_trust (url, presented, &asked))
        return ssq_client_trust_server (client, url, presented, error);
      if (asked)
        g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_UNTRUSTED,
                             _("Not trusted: nothing was sent to the server"));
      else
        {
          g_autofree char *shown = ssq_trust_fingerprint_display (presented);

          g_set_error (error, SSQ_ERROR, SSQ_ERROR_UNTRUSTED,
                       _("%s: run again with --trust %s (there is no terminal to ask on)"),
                       verdict->message, shown);
        }
      if (error != NULL && *error != NULL)
        ssq_error_set_fingerprints (*error, presented, NULL);
      return FALSE;
    }
  if (g_error_matches (verdict, SSQ_ERROR, SSQ_ERROR_KEY_CHANGED) ||
      g_error_matches (verdict, SSQ_ERROR, SSQ_ERROR_INSECURE) ||
      g_error_matches (verdict, SSQ_ERROR, SSQ_ERROR_INTERNAL))
    {
      g_propagate_error (error, g_steal_pointer (&verdict));
      return FALSE;
    }
  /* Unreachable, or anything else: the command says so itself, and may
   * work from the cache meanwhile. */
  return TRUE;
}

/**
 * ssq_cli_client_new:
 * @fingerprint: (nullable): a key given in advance (an invite link's);
 *   --trust is used otherwise
 *
 * The client for @url, with --insecure, its key settled (see above).
 */
SsqClient *
ssq_cli_client_new (Cli         *cli,
                    const char  *url,
                    const char  *fingerprint,
                    GError     **error)
{
  g_autoptr(SsqClient) client = ssq_client_new (url, cli->data_dir);
  const char *given = fingerprint ? fingerprint : cli->trust;
  g_autofree char *pinned = NULL;
  gboolean given_is_new = FALSE;

  g_object_set (client, "insecure", cli->insecure, NULL);
  if (!ssq_trust_check_transport (url, cli->insecure, error))
    return NULL;
  if (!ssq_trust_url_is_tls (url))
    return g_steal_pointer (&client);
  if (given != NULL)
    {
      GError *local = NULL;

      pinned = ssq_trust_lookup (ssq_client_get_known_servers (client), url, &local);
      if (local != NULL)
        {
          g_propagate_error (error, local);
          return NULL;
        }
      if (!ssq_client_trust_server (client, url, given, error))
        return NULL;
      given_is_new = pinned == NULL;
    }
  if (!settle_trust (cli, client, url, given, given_is_new, error))
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
