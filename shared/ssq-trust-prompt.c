/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-trust-prompt.c: trust on first use for the terminal programs
 * (supersoniq-cli, supersoniq-tui), before they log in or connect: a key
 * given in advance is pinned (and dropped again if the server does not
 * present it); the server is asked once, without logging in; a key not
 * trusted yet is shown on the terminal for the person to confirm; a
 * changed key stops the program. */
#include <glib/gi18n.h>
#include "ssq-trust-prompt.h"
#include "ssq-client.h"
#include "ssq-prompt.h"
#include "ssq-proto.h"
#include "ssq-trust.h"

#include <string.h>
#include <unistd.h>

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
 * error, within @timeout_s. The program waits for it anyway, so the loop
 * runs here. */
static GError *
probe_server (SsqClient *client,
              guint      timeout_s)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  Probe probe = { FALSE, NULL };
  guint timeout = g_timeout_add_seconds (timeout_s, probe_timeout_cb, cancellable);

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
  /* In two lines of 16 pairs: read and compared in halves. */
  g_autofree char *lines = ssq_trust_fingerprint_lines (fingerprint, 16);
  g_auto(GStrv) halves = g_strsplit (lines, "\n", 2);
  g_autofree char *question = NULL;
  g_autofree char *answer = NULL;
  /* Translators: the answer that means yes to "[y/N]" */
  const char *yes = _("y");

  *out_asked = FALSE;
  if (!isatty (STDIN_FILENO))
    return FALSE;
  question = g_strdup_printf (_("The server at %s presents the key\n  %s\n         %s\n"
                                "Compare it with the one the server printed. Trust it? [y/N] "),
                              where, halves[0], halves[1] ? halves[1] : "");
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

static gboolean
settle (SsqClient   *client,
        const char  *url,
        const char  *given,
        gboolean     given_is_new,
        guint        timeout_s,
        GError     **error)
{
  g_autoptr(GError) verdict = probe_server (client, timeout_s);
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
  /* Unreachable, or anything else: the program says so itself when it
   * needs the server, and may work from its cache meanwhile. */
  return TRUE;
}

/**
 * ssq_trust_prompt_settle:
 * @given: (nullable): a fingerprint the user gave (--trust) or that came
 *   with an invite link
 * @timeout_s: how long to wait for the server
 *
 * Settles whether @client may talk to its server: plain http:// only where
 * allowed (see "insecure"); for https://, the key is the pinned one, or
 * @given, or the person at the terminal (standard input a terminal)
 * confirmed it. A server that cannot be reached passes (the caller finds
 * out when it needs it). Errors: SSQ_ERROR_INSECURE, SSQ_ERROR_UNTRUSTED
 * (no terminal, or not confirmed: the message says to use --trust),
 * SSQ_ERROR_KEY_CHANGED, SSQ_ERROR_INTERNAL (the pins' file).
 */
gboolean
ssq_trust_prompt_settle (SsqClient   *client,
                         const char  *given,
                         guint        timeout_s,
                         GError     **error)
{
  const char *url = ssq_client_get_server_url (client);
  gboolean insecure = FALSE;
  gboolean given_is_new = FALSE;

  g_object_get (client, "insecure", &insecure, NULL);
  if (!ssq_trust_check_transport (url, insecure, error))
    return FALSE;
  if (!ssq_trust_url_is_tls (url))
    return TRUE;
  if (given != NULL)
    {
      g_autofree char *pinned = NULL;
      GError *local = NULL;

      pinned = ssq_trust_lookup (ssq_client_get_known_servers (client), url, &local);
      if (local != NULL)
        {
          g_propagate_error (error, local);
          return FALSE;
        }
      if (!ssq_client_trust_server (client, url, given, error))
        return FALSE;
      given_is_new = pinned == NULL;
    }
  return settle (client, url, given, given_is_new, timeout_s, error);
}
