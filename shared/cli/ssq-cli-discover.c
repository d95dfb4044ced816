/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-cli-discover.c: `discover [--timeout S]`, the servers announced on
 * the LAN (SsqDiscovery), listed once each when the time to look is over:
 * name, address:port and TLS fingerprint; --json gives them as an array,
 * with every address each was seen at. */
#include "ssq-config.h"
#include "ssq-cli-private.h"

#include <glib/gi18n.h>

#include "ssq-discovery.h"
#include "ssq-display.h"

/* Groups (ssq_discovery_group_servers) by the name and then the address
 * of each one's first entry. */
static gint
by_name (gconstpointer a,
         gconstpointer b)
{
  SsqDiscoveredServer *x = g_ptr_array_index (*(GPtrArray **) a, 0);
  SsqDiscoveredServer *y = g_ptr_array_index (*(GPtrArray **) b, 0);
  int c = g_utf8_collate (ssq_discovered_server_get_name (x), ssq_discovered_server_get_name (y));

  return c != 0 ? c : g_strcmp0 (ssq_discovered_server_get_address (x),
                                 ssq_discovered_server_get_address (y));
}

/* One server: its first entry's fields, and every address it was seen
 * at (once each), for a script that wants to choose. */
static JsonNode *
server_to_json (GPtrArray *group)
{
  SsqDiscoveredServer *server = g_ptr_array_index (group, 0);
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_autofree char *url = ssq_discovered_server_get_url (server);
  const char *fingerprint = ssq_discovered_server_get_fingerprint (server);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, ssq_discovered_server_get_name (server));
  json_builder_set_member_name (b, "service_name");
  json_builder_add_string_value (b, ssq_discovered_server_get_service_name (server));
  json_builder_set_member_name (b, "host");
  json_builder_add_string_value (b, ssq_discovered_server_get_host (server));
  json_builder_set_member_name (b, "address");
  json_builder_add_string_value (b, ssq_discovered_server_get_address (server));
  json_builder_set_member_name (b, "addresses");
  json_builder_begin_array (b);
  for (guint i = 0; i < group->len; i++)
    {
      const char *address = ssq_discovered_server_get_address (group->pdata[i]);

      if (g_hash_table_add (seen, (gpointer) address))
        json_builder_add_string_value (b, address);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "port");
  json_builder_add_int_value (b, ssq_discovered_server_get_port (server));
  json_builder_set_member_name (b, "url");
  json_builder_add_string_value (b, url);
  json_builder_set_member_name (b, "fingerprint");
  if (fingerprint != NULL)
    json_builder_add_string_value (b, fingerprint);
  else
    json_builder_add_null_value (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static void
print_server (GPtrArray *group)
{
  SsqDiscoveredServer *server = g_ptr_array_index (group, 0);
  g_autofree char *name = ssq_display_sanitize_line (ssq_discovered_server_get_name (server));
  g_autofree char *host = ssq_display_sanitize_line (ssq_discovered_server_get_host (server));
  const char *address = ssq_discovered_server_get_address (server);
  const char *fingerprint = ssq_discovered_server_get_fingerprint (server);
  g_autofree char *where = g_strdup_printf (strchr (address, ':') ? "[%s]:%u" : "%s:%u", address,
                                            ssq_discovered_server_get_port (server));

  /* TRANSLATORS: a server found on the LAN: its name, ADDRESS:PORT, its
   * host name, then its fingerprint or "no TLS". */
  g_print (_("%s  %s  (%s)  %s\n"), name, where, host,
           fingerprint != NULL ? fingerprint : _("no TLS"));
}

static void
print_found (Cli          *cli,
             SsqDiscovery *discovery)
{
  /* Each server once, however many interfaces and protocols it was seen
   * on, as the terminal client offers them. */
  g_autoptr(GPtrArray) servers = ssq_discovery_group_servers (G_LIST_MODEL (discovery));

  g_ptr_array_sort (servers, by_name);
  if (cli->json)
    {
      g_autoptr(JsonNode) root = json_node_new (JSON_NODE_ARRAY);
      JsonArray *array = json_array_new ();

      json_node_take_array (root, array);
      for (guint i = 0; i < servers->len; i++)
        json_array_add_element (array, server_to_json (servers->pdata[i]));
      ssq_cli_print_json (root);
    }
  else
    for (guint i = 0; i < servers->len; i++)
      print_server (servers->pdata[i]);
  if (servers->len == 0)
    {
      g_printerr (g_dngettext (GETTEXT_PACKAGE, "No server found on the LAN in %d second.\n",
                               "No server found on the LAN in %d seconds.\n", cli->timeout),
                  cli->timeout);
      ssq_cli_quit (cli, SSQ_CLI_NOT_FOUND);
    }
  else
    ssq_cli_quit (cli, SSQ_CLI_OK);
}

typedef struct {
  Cli          *cli;
  SsqDiscovery *discovery;
} Looking;

static gboolean
looked_cb (gpointer data)
{
  Looking *looking = data;

  looking->cli->timeout_source = 0;
  print_found (looking->cli, looking->discovery);
  return G_SOURCE_REMOVE;
}

static void
looking_free (gpointer data)
{
  Looking *looking = data;

  g_object_unref (looking->discovery);
  g_free (looking);
}

int
ssq_cli_discover (Cli *cli)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SsqDiscovery) discovery = ssq_discovery_new ();
  Looking *looking;

  if (!ssq_discovery_start (discovery, &error))
    {
      ssq_cli_fail (cli, error);
      return -1;
    }
  if (!ssq_discovery_get_daemon_running (discovery))
    {
      ssq_cli_fail_code (cli, SSQ_ERROR_UNAVAILABLE,
                         _("No Avahi daemon is running on this machine: servers on the LAN cannot "
                           "be looked for (start avahi-daemon, or connect with --server URL)"));
      return -1;
    }
  /* Servers come in as the daemon hears them: everything heard within the
   * time is listed. */
  looking = g_new0 (Looking, 1);
  looking->cli = cli;
  looking->discovery = g_steal_pointer (&discovery);
  cli->timeout_source = g_timeout_add_seconds_full (G_PRIORITY_DEFAULT, cli->timeout, looked_cb,
                                                    looking, looking_free);
  return -1;
}
