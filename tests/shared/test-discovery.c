/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-discovery.c: LAN discovery end to end, run by netns-run.sh inside
 * private namespaces (loopback only) with a system bus and an Avahi daemon
 * of its own: the real server announces itself, avahi-browse, SsqDiscovery
 * and supersoniq-cli discover see it; names collide; records of an
 * unknown version or malformed are not listed; the daemon missing at
 * start, arriving and restarting. */
#include "ssq-test-avahi.h"
#include "ssq-test-server.h"
#include "ssq-discovery.h"
#include "ssq-invite-link.h"
#include "ssq-proto.h"

#include <glib/gstdio.h>
#include <string.h>

#define WAIT_MS SSQ_TEST_AVAHI_WAIT_MS
#define BUS_WAIT_MS SSQ_TEST_AVAHI_BUS_WAIT_MS

static GPtrArray *rejected;   /* debug lines of SsqDiscovery: records not listed */

static guint16
port_of (SsqTestServer *server)
{
  return (guint16) g_ascii_strtoull (strrchr (server->listen, ':') + 1, NULL, 10);
}

static SsqTestServer *
start_server (const char *extra_config,
              const char *log_path)
{
  return ssq_test_server_start_on ("0.0.0.0:0", extra_config, log_path);
}

/* SsqDiscovery, and what it said. */

typedef struct {
  SsqDiscovery *discovery;
  guint         removed;
} Watch;

static void
removed_cb (SsqDiscovery        *discovery,
            SsqDiscoveredServer *server,
            Watch               *watch)
{
  watch->removed++;
}

static Watch *
watch_new_with (SsqDiscovery *discovery)
{
  g_autoptr(GError) error = NULL;
  Watch *watch = g_new0 (Watch, 1);

  watch->discovery = discovery;
  g_signal_connect (watch->discovery, "server-removed", G_CALLBACK (removed_cb), watch);
  g_assert_true (ssq_discovery_start (watch->discovery, &error));
  g_assert_no_error (error);
  return watch;
}

static Watch *
watch_new (void)
{
  return watch_new_with (ssq_discovery_new ());
}

static void
watch_free (Watch *watch)
{
  g_object_unref (watch->discovery);
  g_free (watch);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Watch, watch_free)

static SsqDiscoveredServer *
find (Watch      *watch,
      guint16     port,
      const char *service_name)
{
  GListModel *model = G_LIST_MODEL (watch->discovery);

  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr(SsqDiscoveredServer) server = g_list_model_get_item (model, i);

      if ((port == 0 || ssq_discovered_server_get_port (server) == port) &&
          (service_name == NULL ||
           g_str_equal (ssq_discovered_server_get_service_name (server), service_name)))
        return server;   /* the model holds it */
    }
  return NULL;
}

typedef struct {
  Watch      *watch;
  guint16     port;
  const char *service_name;
} Looking;

static gboolean
found (gpointer data)
{
  Looking *l = data;

  return find (l->watch, l->port, l->service_name) != NULL;
}

static gboolean
not_found (gpointer data)
{
  return !found (data);
}

static SsqDiscoveredServer *
wait_found (Watch      *watch,
            guint16     port,
            const char *service_name,
            guint       timeout_ms)
{
  Looking l = { watch, port, service_name };

  g_assert_true (ssq_test_wait_until (found, &l, timeout_ms));
  return find (watch, port, service_name);
}

static JsonNode *
cli_discover_json (void)
{
  int status;
  g_autofree char *out = ssq_test_run ((const char *[]) { g_getenv ("SSQ_CLI_BIN"), "discover", "--json",
                                                 "--timeout", "2", NULL }, &status);
  g_autoptr(GError) error = NULL;
  JsonNode *root;

  g_test_message ("discover --json: %s", out);
  root = json_from_string (out, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_ARRAY (root));
  g_assert_cmpint (status, ==, json_array_get_length (json_node_get_array (root)) ? 0 : 5);
  return root;
}

static JsonObject *
json_server (JsonNode *root,
             guint16   port)
{
  JsonArray *array = json_node_get_array (root);

  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonObject *o = json_array_get_object_element (array, i);

      if (json_object_get_int_member (o, "port") == port)
        return o;
    }
  return NULL;
}

/* The server announced under its [server] name: seen by avahi-browse, the
 * library and the command line; withdrawn when it stops. */
static void
test_announced (void)
{
  g_autoptr(SsqTestServer) s = NULL;
  g_autoptr(SsqTestServer) plain = NULL;
  g_autoptr(Watch) watch = NULL;
  g_autoptr(JsonObject) info = NULL;
  g_autoptr(JsonNode) cli = NULL;
  g_autofree char *txt = NULL;
  g_autofree char *url = NULL;
  g_autofree char *want_url = NULL;
  g_autofree char *human = NULL;
  g_autofree char *want_line = NULL;
  g_autofree char *fp = NULL;
  g_autofree char *fp_record = NULL;
  SsqDiscoveredServer *found_server;
  JsonObject *o;
  guint16 port;
  Looking gone;

  ssq_test_avahi_start ();
  s = start_server ("[server]\nname=Büro Chat\n", NULL);
  port = port_of (s);
  info = ssq_test_http (s, "GET", "/api/v1/server", NULL, NULL, NULL);
  g_assert_true (json_object_get_boolean_member (json_object_get_object_member (info, "features"),
                                                 "discovery"));
  /* The fingerprint the server reports (as people read it), in the
   * compact form of invite links. */
  fp = ssq_fingerprint_normalize (
    json_object_get_string_member (json_object_get_object_member (info, "tls"), "fingerprint"));
  g_assert_nonnull (fp);
  fp_record = g_strdup_printf ("\"fp=%s\"", fp);

  txt = ssq_test_avahi_browse_txt_eventually (port);
  g_assert_nonnull (txt);
  g_assert_nonnull (strstr (txt, "\"v=1\""));
  g_assert_nonnull (strstr (txt, "\"name=Büro Chat\""));
  g_assert_nonnull (strstr (txt, fp_record));

  watch = watch_new ();
  found_server = wait_found (watch, port, NULL, WAIT_MS);
  g_assert_cmpstr (ssq_discovered_server_get_name (found_server), ==, "Büro Chat");
  g_assert_cmpstr (ssq_discovered_server_get_service_name (found_server), ==, "Büro Chat");
  g_assert_cmpstr (ssq_discovered_server_get_address (found_server), ==, "127.0.0.1");
  g_assert_cmpstr (ssq_discovered_server_get_interface (found_server), ==, "lo");
  g_assert_true (g_str_has_suffix (ssq_discovered_server_get_host (found_server), ".local"));
  g_assert_cmpstr (ssq_discovered_server_get_fingerprint (found_server), ==, fp);
  url = ssq_discovered_server_get_url (found_server);
  want_url = g_strdup_printf ("https://127.0.0.1:%u", port);
  g_assert_cmpstr (url, ==, want_url);

  cli = cli_discover_json ();
  o = json_server (cli, port);
  g_assert_nonnull (o);
  g_assert_cmpstr (json_object_get_string_member (o, "name"), ==, "Büro Chat");
  g_assert_cmpstr (json_object_get_string_member (o, "address"), ==, "127.0.0.1");
  g_assert_cmpstr (json_object_get_string_member (o, "url"), ==, want_url);
  g_assert_cmpstr (json_object_get_string_member (o, "fingerprint"), ==, fp);

  human = ssq_test_run ((const char *[]) { g_getenv ("SSQ_CLI_BIN"), "discover", "--timeout", "2", NULL },
               NULL);
  g_test_message ("discover: %s", human);
  want_line = g_strdup_printf ("Büro Chat  127.0.0.1:%u  (", port);
  g_assert_nonnull (strstr (human, want_line));
  g_assert_nonnull (strstr (human, fp));

  /* [tls] enabled=false: no fingerprint, http://. */
  g_clear_pointer (&txt, g_free);
  plain = start_server ("[server]\nname=Plain\n[tls]\nenabled=false\n", NULL);
  txt = ssq_test_avahi_browse_txt_eventually (port_of (plain));
  g_assert_nonnull (txt);
  g_assert_null (strstr (txt, "fp="));
  found_server = wait_found (watch, port_of (plain), NULL, WAIT_MS);
  g_assert_null (ssq_discovered_server_get_fingerprint (found_server));
  g_clear_pointer (&url, g_free);
  url = ssq_discovered_server_get_url (found_server);
  g_assert_true (g_str_has_prefix (url, "http://127.0.0.1:"));
  g_clear_pointer (&human, g_free);
  human = ssq_test_run ((const char *[]) { g_getenv ("SSQ_CLI_BIN"), "discover", "--timeout", "2", NULL },
               NULL);
  g_assert_nonnull (strstr (human, "Plain  127.0.0.1:"));
  g_assert_nonnull (strstr (human, "no TLS"));

  /* A server that stops withdraws its service. */
  g_assert_cmpint (ssq_test_server_stop (s), ==, 0);
  gone = (Looking) { watch, port, NULL };
  g_assert_true (ssq_test_wait_until (not_found, &gone, WAIT_MS));
  g_assert_cmpuint (watch->removed, >=, 1);
}

/* Two servers of one name: the second is announced as "NAME #2", its
 * name= record unchanged; both are listed. */
static void
test_collision (void)
{
  g_autoptr(SsqTestServer) a = NULL;
  g_autoptr(SsqTestServer) b = NULL;
  g_autoptr(Watch) watch = NULL;
  SsqDiscoveredServer *x, *y;

  ssq_test_avahi_start ();
  a = start_server ("[server]\nname=Same\n", NULL);
  b = start_server ("[server]\nname=Same\n", NULL);
  watch = watch_new ();
  x = wait_found (watch, port_of (a), NULL, WAIT_MS);
  y = wait_found (watch, port_of (b), NULL, WAIT_MS);
  g_assert_cmpstr (ssq_discovered_server_get_name (x), ==, "Same");
  g_assert_cmpstr (ssq_discovered_server_get_name (y), ==, "Same");
  g_assert_cmpstr (ssq_discovered_server_get_service_name (x), !=,
                   ssq_discovered_server_get_service_name (y));
  g_assert_true (g_str_equal (ssq_discovered_server_get_service_name (x), "Same #2") ||
                 g_str_equal (ssq_discovered_server_get_service_name (y), "Same #2"));
}

/* [features] discovery=false: not announced, and said so. A server
 * started after it, announced, shows the daemon has had its turn. */
static void
test_off (void)
{
  g_autoptr(SsqTestServer) off = NULL;
  g_autoptr(SsqTestServer) on = NULL;
  g_autoptr(Watch) watch = NULL;
  g_autoptr(JsonObject) info = NULL;
  g_autofree char *txt = NULL;

  ssq_test_avahi_start ();
  off = start_server ("[features]\ndiscovery=false\n", NULL);
  on = start_server ("[server]\nname=Marker\n", NULL);
  info = ssq_test_http (off, "GET", "/api/v1/server", NULL, NULL, NULL);
  g_assert_false (json_object_get_boolean_member (json_object_get_object_member (info, "features"),
                                                  "discovery"));
  watch = watch_new ();
  wait_found (watch, port_of (on), NULL, WAIT_MS);
  txt = ssq_test_avahi_browse_txt_eventually (port_of (on));
  g_assert_nonnull (txt);
  g_assert_null (find (watch, port_of (off), NULL));
  g_clear_pointer (&txt, g_free);
  txt = ssq_test_avahi_browse_txt (port_of (off));
  g_assert_null (txt);
}

/* What anyone on the LAN may announce: an unknown version, a malformed
 * fingerprint, a name that is not text. Not listed; a good one with a
 * fingerprint is, with the fingerprint in lower case and an https URL. */
static void
test_hostile_records (void)
{
  static const char *const bad[][5] = {
    { "Version two", "4002", "v=2", "name=x", NULL },
    { "No version", "4003", "name=x", NULL },
    { "Short fp", "4004", "v=1", "fp=sha256:abcd", NULL },
    { "Other hash", "4005",
      "v=1", "fp=md5:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", NULL },
    { "Bad name", "4006", "v=1", "name=\xff\xfe", NULL },
    { "Empty name", "4007", "v=1", "name=", NULL },
  };
  g_autoptr(GPtrArray) publishers = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(Watch) watch = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) cli = NULL;
  g_autofree char *url = NULL;
  SsqDiscoveredServer *good;
  JsonObject *o;
  const char *fp = "fp=sha256:0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF";

  ssq_test_avahi_start ();
  g_ptr_array_set_size (rejected, 0);
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GPtrArray) argv = g_ptr_array_new ();

      g_ptr_array_add (argv, (gpointer) "avahi-publish");
      g_ptr_array_add (argv, (gpointer) "-s");
      g_ptr_array_add (argv, (gpointer) bad[i][0]);
      g_ptr_array_add (argv, (gpointer) SSQ_DISCOVERY_SERVICE_TYPE);
      for (guint j = 1; bad[i][j] != NULL; j++)
        g_ptr_array_add (argv, (gpointer) bad[i][j]);
      g_ptr_array_add (argv, NULL);
      g_ptr_array_add (publishers, g_subprocess_newv ((const char * const *) argv->pdata,
                                                      G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                                                      G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error));
      g_assert_no_error (error);
    }
  g_ptr_array_add (publishers,
                   g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE,
                                     &error, "avahi-publish", "-s", "Good", SSQ_DISCOVERY_SERVICE_TYPE,
                                     "4001", "v=1", "name=Good one", fp, NULL));
  g_assert_no_error (error);

  watch = watch_new ();
  good = wait_found (watch, 4001, NULL, WAIT_MS);
  g_assert_cmpstr (ssq_discovered_server_get_name (good), ==, "Good one");
  g_assert_cmpstr (ssq_discovered_server_get_fingerprint (good), ==,
                   "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
  url = ssq_discovered_server_get_url (good);
  g_assert_cmpstr (url, ==, "https://127.0.0.1:4001");
  /* Each bad one was resolved and turned down (the library says why at
   * debug level), none listed. */
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      Looking l = { watch, 0, bad[i][0] };

      for (int tries = 0; tries < 200; tries++)
        {
          gboolean seen = FALSE;

          for (guint k = 0; k < rejected->len && !seen; k++)
            seen = strstr (rejected->pdata[k], bad[i][0]) != NULL;
          if (seen)
            break;
          ssq_test_wait_ms (50);
        }
      g_assert_false (found (&l));
    }
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      gboolean seen = FALSE;

      for (guint k = 0; k < rejected->len && !seen; k++)
        seen = strstr (rejected->pdata[k], bad[i][0]) != NULL;
      g_assert_true (seen);
    }

  cli = cli_discover_json ();
  o = json_server (cli, 4001);
  g_assert_nonnull (o);
  g_assert_cmpstr (json_object_get_string_member (o, "fingerprint"), ==,
                   "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
  for (guint i = 0; i < json_array_get_length (json_node_get_array (cli)); i++)
    {
      JsonObject *listed = json_array_get_object_element (json_node_get_array (cli), i);

      gint64 port = json_object_get_int_member (listed, "port");

      g_assert_false (port >= 4002 && port <= 4007);
    }
  for (guint i = 0; i < publishers->len; i++)
    {
      g_subprocess_force_exit (publishers->pdata[i]);
      g_subprocess_wait (publishers->pdata[i], NULL, NULL);
    }
}

static GSubprocess *
publish (const char *service_name,
         guint16     port)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *port_text = g_strdup_printf ("%u", port);
  GSubprocess *publisher;

  publisher = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE,
                                &error, "avahi-publish", "-s", service_name,
                                SSQ_DISCOVERY_SERVICE_TYPE, port_text, "v=1", "name=Flood",
                                "fp=sha256:0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF",
                                NULL);
  g_assert_no_error (error);
  return publisher;
}

typedef struct {
  Watch *watch;
  guint  most;      /* the longest the list has been */
  guint  announced;
} Flood;

static void
flood_items_changed (GListModel *model,
                     guint       position,
                     guint       removed,
                     guint       added,
                     Flood      *flood)
{
  flood->most = MAX (flood->most, g_list_model_get_n_items (model));
}

static gboolean
flood_settled (gpointer data)
{
  Flood *flood = data;
  guint listed = g_list_model_get_n_items (G_LIST_MODEL (flood->watch->discovery));

  /* Services of earlier tests may still be in the daemon's cache: they
   * take places too, so count only what the flood must at least cause. */
  return listed == 3 && ssq_discovery_get_n_ignored (flood->watch->discovery) >= flood->announced - 3;
}

static gboolean
list_empty (gpointer data)
{
  return g_list_model_get_n_items (G_LIST_MODEL (((Watch *) data)->discovery)) == 0;
}

/* A LAN peer announcing more services than the list holds: the client lists
 * at most max-servers of them, ignores the rest (and says how many), and
 * lists new ones again once the flood is gone. */
static void
test_flood (void)
{
  g_autoptr(GPtrArray) publishers = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GSubprocess) after = NULL;
  Flood flood = { NULL, 0, 8 };

  ssq_test_avahi_start ();
  flood.watch = watch_new_with (g_object_new (SSQ_TYPE_DISCOVERY, "max-servers", 3, NULL));
  g_signal_connect (flood.watch->discovery, "items-changed", G_CALLBACK (flood_items_changed), &flood);
  for (guint i = 0; i < flood.announced; i++)
    {
      g_autofree char *name = g_strdup_printf ("Flood %u", i);

      g_ptr_array_add (publishers, publish (name, 4100 + i));
    }
  g_assert_true (ssq_test_wait_until (flood_settled, &flood, WAIT_MS));
  g_assert_cmpuint (flood.most, <=, 3);

  for (guint i = 0; i < publishers->len; i++)
    {
      g_subprocess_force_exit (publishers->pdata[i]);
      g_subprocess_wait (publishers->pdata[i], NULL, NULL);
    }
  g_assert_true (ssq_test_wait_until (list_empty, flood.watch, WAIT_MS));
  after = publish ("After the flood", 4199);
  wait_found (flood.watch, 4199, "After the flood", WAIT_MS);
  g_assert_cmpuint (flood.most, <=, 3);
  g_subprocess_force_exit (after);
  g_subprocess_wait (after, NULL, NULL);
  watch_free (flood.watch);
}

static guint
count_lines (const char *path,
             const char *text)
{
  g_autofree char *log = NULL;
  guint n = 0;

  g_file_get_contents (path, &log, NULL, NULL);
  for (const char *p = log; p != NULL && (p = strstr (p, text)) != NULL; p += strlen (text))
    n++;
  return n;
}

typedef struct {
  const char *path;
  const char *text;
  guint       n;
} LogWait;

static gboolean
logged (gpointer data)
{
  LogWait *w = data;

  return count_lines (w->path, w->text) >= w->n;
}

/* No bus, then a bus without Avahi, then Avahi: the server serves all
 * along, says once that it is not announced, and is announced when the
 * daemon comes. The daemon restarted: said once more, announced again,
 * and the library finds it again by itself. */
static void
test_daemon_later (void)
{
  g_autofree char *dir = g_dir_make_tmp ("ssq-discovery-XXXXXX", NULL);
  g_autofree char *log = g_build_filename (dir, "server.log", NULL);
  g_autoptr(SsqTestServer) s = NULL;
  g_autoptr(Watch) watch = NULL;
  g_autoptr(JsonObject) info = NULL;
  LogWait absent = { log, "Avahi cannot be reached", 1 };
  LogWait announced = { log, "Announced on the LAN", 1 };
  Looking gone;
  guint16 port;

  if (ssq_test_avahi_running ())
    ssq_test_avahi_stop ();
  ssq_test_bus_stop ();
  s = start_server ("[server]\nname=Later\n", log);
  port = port_of (s);
  g_assert_true (ssq_test_wait_until (logged, &absent, WAIT_MS));
  info = ssq_test_http (s, "GET", "/api/v1/server", NULL, NULL, NULL);
  g_assert_nonnull (info);

  ssq_test_bus_start ();
  ssq_test_avahi_start ();
  g_assert_true (ssq_test_wait_until (logged, &announced, BUS_WAIT_MS));
  watch = watch_new ();
  wait_found (watch, port, "Later", WAIT_MS);
  g_assert_cmpuint (count_lines (log, "Avahi cannot be reached"), ==, 1);

  /* The daemon restarts. */
  ssq_test_avahi_stop ();
  gone = (Looking) { watch, port, NULL };
  g_assert_true (ssq_test_wait_until (not_found, &gone, WAIT_MS));
  g_assert_false (ssq_discovery_get_daemon_running (watch->discovery));
  ssq_test_avahi_start ();
  announced.n = 2;
  g_assert_true (ssq_test_wait_until (logged, &announced, WAIT_MS));
  wait_found (watch, port, "Later", WAIT_MS);
  g_assert_true (ssq_discovery_get_daemon_running (watch->discovery));
  g_assert_cmpuint (count_lines (log, "Avahi cannot be reached"), ==, 2);
  g_assert_cmpint (ssq_test_server_stop (s), ==, 0);
  ssq_test_remove_tree (dir);
}

/* A veth pair inside the namespace, @a's end at 10.99.0.1: a second
 * interface the daemon hears on. FALSE (the test skipped) where the
 * kernel has no veth. */
static gboolean
veth_add (void)
{
  const char *const steps[][9] = {
    { "ip", "link", "add", "ssq0", "type", "veth", "peer", "name", "ssq1" },
    { "ip", "addr", "add", "10.99.0.1/24", "dev", "ssq0", NULL },
    { "ip", "addr", "add", "10.99.0.2/24", "dev", "ssq1", NULL },
    { "ip", "link", "set", "ssq0", "up", "multicast", "on", NULL },
    { "ip", "link", "set", "ssq1", "up", "multicast", "on", NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (steps); i++)
    {
      const char *argv[10] = { NULL };
      g_autofree char *out = NULL;
      int status;

      memcpy (argv, steps[i], sizeof steps[i]);
      out = ssq_test_run (argv, &status);
      if (status != 0)
        {
          g_test_skip ("no veth interfaces here (ip link add ... type veth failed)");
          return FALSE;
        }
    }
  return TRUE;
}

static void
veth_remove (void)
{
  g_autofree char *out = ssq_test_run ((const char *[]) { "ip", "link", "del", "ssq0", NULL }, NULL);
}

typedef struct {
  Watch   *watch;
  guint16  port;
} Twice;

/* The library lists the server on both interfaces. */
static gboolean
seen_twice (gpointer data)
{
  Twice *t = data;
  GListModel *model = G_LIST_MODEL (t->watch->discovery);
  guint n = 0;

  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr(SsqDiscoveredServer) server = g_list_model_get_item (model, i);

      n += ssq_discovered_server_get_port (server) == t->port;
    }
  return n >= 2;
}

static guint
count (const char *text,
       const char *needle)
{
  guint n = 0;

  for (const char *p = text; (p = strstr (p, needle)) != NULL; p += strlen (needle))
    n++;
  return n;
}

/* Seen on two interfaces, one server: supersoniq-cli discover lists it
 * once, and --json gives it once with both addresses. */
static void
test_cli_once (void)
{
  g_autoptr(SsqTestServer) s = NULL;
  g_autoptr(Watch) watch = NULL;
  g_autoptr(JsonNode) cli = NULL;
  g_autofree char *human = NULL;
  g_autofree char *line = NULL;
  JsonArray *servers, *addresses;
  JsonObject *o = NULL;
  guint listed = 0;
  Twice twice;

  if (!veth_add ())
    return;
  ssq_test_avahi_start_on ("lo,ssq0");
  s = start_server ("[server]\nname=Twice\n", NULL);
  watch = watch_new ();
  twice = (Twice) { watch, port_of (s) };
  g_assert_true (ssq_test_wait_until (seen_twice, &twice, WAIT_MS));

  human = ssq_test_run ((const char *[]) { g_getenv ("SSQ_CLI_BIN"), "discover", "--timeout", "2", NULL },
                        NULL);
  g_test_message ("discover: %s", human);
  line = g_strdup_printf (":%u  (", port_of (s));
  g_assert_cmpuint (count (human, "Twice  "), ==, 1);
  g_assert_cmpuint (count (human, line), ==, 1);

  cli = cli_discover_json ();
  servers = json_node_get_array (cli);
  for (guint i = 0; i < json_array_get_length (servers); i++)
    if (json_object_get_int_member (json_array_get_object_element (servers, i), "port") == port_of (s))
      {
        o = json_array_get_object_element (servers, i);
        listed++;
      }
  g_assert_cmpuint (listed, ==, 1);
  addresses = json_object_get_array_member (o, "addresses");
  g_assert_cmpuint (json_array_get_length (addresses), ==, 2);
  g_assert_cmpstr (json_object_get_string_member (o, "address"), ==, json_array_get_string_element (addresses, 0));
  for (guint i = 0; i < 2; i++)
    {
      const char *address = json_array_get_string_element (addresses, i);

      g_assert_true (g_str_equal (address, "127.0.0.1") || g_str_equal (address, "10.99.0.1"));
    }
  g_assert_cmpstr (json_array_get_string_element (addresses, 0), !=,
                   json_array_get_string_element (addresses, 1));

  g_assert_cmpint (ssq_test_server_stop (s), ==, 0);
  veth_remove ();
  ssq_test_avahi_start ();
}

/* SsqDiscovery's reasons for not listing a service, kept for
 * test_hostile_records; everything else goes to the default writer. */
static GLogWriterOutput
writer (GLogLevelFlags   level,
        const GLogField *fields,
        gsize            n_fields,
        gpointer         data)
{
  for (gsize i = 0; i < n_fields; i++)
    if (g_str_equal (fields[i].key, "MESSAGE") && fields[i].length < 0 &&
        g_str_has_prefix (fields[i].value, "Discovery: "))
      g_ptr_array_add (rejected, g_strdup (fields[i].value));
  return g_log_writer_default (level, fields, n_fields, data);
}

int
main (int    argc,
      char **argv)
{
  int status;

  rejected = g_ptr_array_new_with_free_func (g_free);
  g_log_set_writer_func (writer, NULL, NULL);
  g_test_init (&argc, &argv, NULL);
  if (!ssq_test_avahi_inside ())
    {
      g_test_message ("run by tests/shared/netns-run.sh only: it touches the network");
      return 77;
    }
  ssq_test_avahi_init ();

  g_test_add_func ("/discovery/announced", test_announced);
  g_test_add_func ("/discovery/collision", test_collision);
  g_test_add_func ("/discovery/off", test_off);
  g_test_add_func ("/discovery/hostile-records", test_hostile_records);
  g_test_add_func ("/discovery/daemon-later", test_daemon_later);
  g_test_add_func ("/discovery/flood", test_flood);
  g_test_add_func ("/discovery/cli-once", test_cli_once);
  status = g_test_run ();

  ssq_test_avahi_cleanup ();
  g_ptr_array_unref (rejected);
  return status;
}
