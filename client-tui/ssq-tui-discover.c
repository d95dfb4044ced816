/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-tui-discover.c: with no --server and no saved session, the LAN is
 * browsed for a moment and the servers found are offered by number; the
 * one chosen comes with its key's fingerprint, pinned as --trust's is.
 * Without Avahi (or its daemon), or with nothing found, nothing is
 * offered and nothing is said. */
#include "ssq-config.h"
#include "ssq-tui-discover.h"

#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ssq-discovery.h"
#include "ssq-display.h"
#include "ssq-invite-link.h"
#include "ssq-prompt.h"

#define BROWSE_MS 2000

static gboolean
browse_done_cb (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

static void
print_server (guint                number,
              SsqDiscoveredServer *server)
{
  const char *fp = ssq_discovered_server_get_fingerprint (server);
  const char *address = ssq_discovered_server_get_address (server);
  /* Anyone on the LAN chooses the name: no escape reaches the terminal. */
  g_autofree char *name = ssq_display_sanitize_line (ssq_discovered_server_get_name (server));
  g_autofree char *groups = fp ? ssq_invite_link_fingerprint_groups (fp) : NULL;
  g_autofree char *where = strchr (address, ':')
    ? g_strdup_printf ("[%s]:%u", address, ssq_discovered_server_get_port (server))
    : g_strdup_printf ("%s:%u", address, ssq_discovered_server_get_port (server));

  if (groups != NULL)
    groups[strcspn (groups, "\n")] = '\0';   /* the first line: enough to tell them apart */
  printf ("%u) %s  %s  %s%s\n", number, name, where,
          groups ? groups : _("(unencrypted)"), groups ? "…" : "");
}

/**
 * ssq_tui_choose_discovered:
 * @out_fingerprint: (out): the chosen server's fingerprint, or %NULL
 *
 * Returns: (transfer full) (nullable): the URL chosen (typed, or a listed
 * server's), or %NULL when nothing was found or chosen.
 */
char *
ssq_tui_choose_discovered (char **out_fingerprint)
{
  g_autoptr(SsqDiscovery) discovery = NULL;
  g_autoptr(GPtrArray) servers = NULL;
  g_autofree char *answer = NULL;
  gboolean done = FALSE;
  guint64 number;
  char *end;

  *out_fingerprint = NULL;
  if (!ssq_discovery_is_available () || !isatty (STDIN_FILENO))
    return NULL;
  discovery = ssq_discovery_new ();
  if (!ssq_discovery_start (discovery, NULL) || !ssq_discovery_get_daemon_running (discovery))
    return NULL;
  g_timeout_add (BROWSE_MS, browse_done_cb, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
  /* Each server once, however many interfaces it was seen on. */
  servers = ssq_discovery_group_servers (G_LIST_MODEL (discovery));
  if (servers->len == 0)
    return NULL;
  printf ("%s\n", _("Servers on this network:"));
  for (guint i = 0; i < servers->len; i++)
    print_server (i + 1, g_ptr_array_index ((GPtrArray *) servers->pdata[i], 0));
  answer = ssq_prompt_line (_("Number, or the server's URL: "), NULL);
  if (answer == NULL || *g_strstrip (answer) == '\0')
    return NULL;
  number = g_ascii_strtoull (answer, &end, 10);
  if (*end == '\0' && number >= 1 && number <= servers->len)
    {
      SsqDiscoveredServer *server = g_ptr_array_index ((GPtrArray *) servers->pdata[number - 1], 0);

      *out_fingerprint = g_strdup (ssq_discovered_server_get_fingerprint (server));
      return ssq_discovered_server_get_url (server);
    }
  return g_steal_pointer (&answer);
}
