/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-discovery.c: LAN discovery end to end, run by netns-run.sh inside
 * private namespaces (loopback only) with a system bus and an Avahi daemon
 * of its own: the real server announces itself, avahi-browse, SsqDiscovery
 * and supersoniq-cli discover see it; names collide; records of an
 * unknown version or malformed are not listed; the daemon missing at
 * start, arriving and restarting. */
#include "ssq-test-server.h"
#include "ssq-discovery.h"
#include "ssq-invite-link.h"
#include "ssq-proto.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>

#define WAIT_MS 20000
/* The server looks for a system bus again every 10 s. */
#define BUS_WAIT_MS 30000

static GPid bus_pid;
static char *avahi_conf;
static GPtrArray *rejected;   /* debug lines of SsqDiscovery: records not listed */

static char *
run (const char * const *argv,
     int                *out_status)
{
  g_autoptr(GError) error = NULL;
  char *out = NULL;
  int status = 0;

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
                NULL, NULL, &out, NULL, &status, &error);
  g_assert_no_error (error);
  if (out_status != NULL)
    *out_status = g_spawn_check_wait_status (status, NULL) ? 0 : (status >> 8 ? status >> 8 : 1);
  return out;
}

static gboolean
pid_gone (gpointer data)
{
  return kill (GPOINTER_TO_INT (data), 0) != 0;
}

static void
bus_start (void)
{
  g_autofree char *out = NULL;
  int status;

  g_unlink ("/run/dbus/pid");
  g_unlink ("/run/dbus/system_bus_socket");
  out = run ((const char *[]) { "dbus-daemon", "--system", "--fork", "--print-pid", NULL },
             &status);
  g_assert_cmpint (status, ==, 0);
  bus_pid = (GPid) g_ascii_strtoll (out, NULL, 10);
  g_assert_cmpint (bus_pid, >, 0);
}

static void
bus_stop (void)
{
  if (bus_pid <= 0)
    return;
  kill (bus_pid, SIGTERM);
  g_assert_true (ssq_test_wait_until (pid_gone, GINT_TO_POINTER (bus_pid), WAIT_MS));
  bus_pid = 0;
  g_unlink ("/run/dbus/system_bus_socket");
}

static gboolean
avahi_running (void)
{
  int status;
  g_autofree char *out = run ((const char *[]) { "avahi-daemon", "-c", NULL }, &status);

  return status == 0;
}

static void
avahi_start (void)
{
  g_autofree char *out = NULL;
  int status;

  if (avahi_running ())
    return;
  out = run ((const char *[]) { "avahi-daemon", "-D", "--no-drop-root", "--no-chroot",
                                "-f", avahi_conf, NULL }, &status);
  g_assert_cmpint (status, ==, 0);
}

static gboolean
avahi_gone (gpointer data)
{
  return !avahi_running ();
}

static void
avahi_stop (void)
{
  g_autofree char *out = run ((const char *[]) { "avahi-daemon", "-k", NULL }, NULL);

  g_assert_true (ssq_test_wait_until (avahi_gone, NULL, WAIT_MS));
}

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

/* avahi-browse -p escapes bytes as \DDD (decimal) and others as \X. */
static char *
unescape (const char *text)
{
  GString *s = g_string_new (NULL);

  for (const char *p = text; *p != '\0'; p++)
    if (p[0] == '\\' && g_ascii_isdigit (p[1]) && g_ascii_isdigit (p[2]) && g_ascii_isdigit (p[3]))
      {
        g_string_append_c (s, (char) ((p[1] - '0') * 100 + (p[2] - '0') * 10 + (p[3] - '0')));
        p += 3;
      }
    else if (p[0] == '\\' && p[1] != '\0')
      g_string_append_c (s, *++p);
    else
      g_string_append_c (s, *p);
  return g_string_free (s, FALSE);
}

/* The TXT field of avahi-browse's resolved line for @port, unescaped;
 * NULL if it does not list it. */
static char *
browse_txt (guint16 port)
{
  g_autofree char *out = run ((const char *[]) { "avahi-browse", "-rtp",
                                                 SSQ_DISCOVERY_SERVICE_TYPE, NULL }, NULL);
  g_auto(GStrv) lines = g_strsplit (out ? out : "", "\n", -1);
  g_autofree char *wanted = g_strdup_printf ("%u", port);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto(GStrv) fields = g_strsplit (lines[i], ";", 10);

      if (g_strv_length (fields) == 10 && g_str_equal (fields[0], "=") &&
          g_str_equal (fields[8], wanted))
        {
          g_test_message ("avahi-browse: %s", lines[i]);
          return unescape (fields[9]);
        }
    }
  return NULL;
}

static char *
browse_txt_eventually (guint16 port)
{
  for (int tries = 0; tries < 20; tries++)
    {
      char *txt = browse_txt (port);

      if (txt != NULL)
        return txt;
      ssq_test_wait_ms (250);
    }
  return NULL;
}

static JsonNode *
cli_discover_json (void)
{
  int status;
  g_autofree char *out = run ((const char *[]) { g_getenv ("SSQ_CLI_BIN"), "discover", "--json",
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

  avahi_start ();
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

  txt = browse_txt_eventually (port);
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

  human = run ((const char *[]) { g_getenv ("SSQ_CLI_BIN"), "discover", "--timeout", "2", NULL },
               NULL);
  g_test_message ("discover: %s", human);
  want_line = g_strdup_printf ("Büro Chat  127.0.0.1:%u  (", port);
  g_assert_nonnull (strstr (human, want_line));
  g_assert_nonnull (strstr (human, fp));

  /* [tls] enabled=false: no fingerprint, http://. */
  g_clear_pointer (&txt, g_free);
  plain = start_server ("[server]\nname=Plain\n[tls]\nenabled=false\n", NULL);
  txt = browse_txt_eventually (port_of (plain));
  g_assert_nonnull (txt);
  g_assert_null (strstr (txt, "fp="));
  found_server = wait_found (watch, port_of (plain), NULL, WAIT_MS);
  g_assert_null (ssq_discovered_server_get_fingerprint (found_server));
  g_clear_pointer (&url, g_free);
  url = ssq_discovered_server_get_url (found_server);
  g_assert_true (g_str_has_prefix (url, "http://127.0.0.1:"));
  g_clear_pointer (&human, g_free);
  human = run ((const char *[]) { g_getenv ("SSQ_CLI_BIN"), "discover", "--timeout", "2", NULL },
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

  avahi_start ();
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

  avahi_start ();
  off = start_server ("[features]\ndiscovery=false\n", NULL);
  on = start_server ("[server]\nname=Marker\n", NULL);
  info = ssq_test_http (off, "GET", "/api/v1/server", NULL, NULL, NULL);
  g_assert_false (json_object_get_boolean_member (json_object_get_object_member (info, "features"),
                                                  "discovery"));
  watch = watch_new ();
  wait_found (watch, port_of (on), NULL, WAIT_MS);
  txt = browse_txt_eventually (port_of (on));
  g_assert_nonnull (txt);
  g_assert_null (find (watch, port_of (off), NULL));
  g_clear_pointer (&txt, g_free);
  txt = browse_txt (port_of (off));
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

  avahi_start ();
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

  avahi_start ();
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

  if (avahi_running ())
    avahi_stop ();
  bus_stop ();
  s = start_server ("[server]\nname=Later\n", log);
  port = port_of (s);
  g_assert_true (ssq_test_wait_until (logged, &absent, WAIT_MS));
  info = ssq_test_http (s, "GET", "/api/v1/server", NULL, NULL, NULL);
  g_assert_nonnull (info);

  bus_start ();
  avahi_start ();
  g_assert_true (ssq_test_wait_until (logged, &announced, BUS_WAIT_MS));
  watch = watch_new ();
  wait_found (watch, port, "Later", WAIT_MS);
  g_assert_cmpuint (count_lines (log, "Avahi cannot be reached"), ==, 1);

  /* The daemon restarts. */
  avahi_stop ();
  gone = (Looking) { watch, port, NULL };
  g_assert_true (ssq_test_wait_until (not_found, &gone, WAIT_MS));
  g_assert_false (ssq_discovery_get_daemon_running (watch->discovery));
  avahi_start ();
  announced.n = 2;
  g_assert_true (ssq_test_wait_until (logged, &announced, WAIT_MS));
  wait_found (watch, port, "Later", WAIT_MS);
  g_assert_true (ssq_discovery_get_daemon_running (watch->discovery));
  g_assert_cmpuint (count_lines (log, "Avahi cannot be reached"), ==, 2);
  g_assert_cmpint (ssq_test_server_stop (s), ==, 0);
  ssq_test_remove_tree (dir);
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
  g_autofree char *dir = NULL;
  int status;

  rejected = g_ptr_array_new_with_free_func (g_free);
  g_log_set_writer_func (writer, NULL, NULL);
  g_test_init (&argc, &argv, NULL);
  if (g_getenv ("SSQ_NETNS_INSIDE") == NULL)
    {
      g_test_message ("run by tests/shared/netns-run.sh only: it touches the network");
      return 77;
    }
  dir = g_dir_make_tmp ("ssq-avahi-XXXXXX", NULL);
  avahi_conf = g_build_filename (dir, "avahi-daemon.conf", NULL);
  g_file_set_contents (avahi_conf,
                       "[server]\nuse-ipv4=yes\nuse-ipv6=no\nallow-interfaces=lo\n"
                       "enable-dbus=yes\n[wide-area]\nenable-wide-area=no\n"
                       "[publish]\npublish-hinfo=no\npublish-workstation=no\n", -1, NULL);
  bus_start ();

  g_test_add_func ("/discovery/announced", test_announced);
  g_test_add_func ("/discovery/collision", test_collision);
  g_test_add_func ("/discovery/off", test_off);
  g_test_add_func ("/discovery/hostile-records", test_hostile_records);
  g_test_add_func ("/discovery/daemon-later", test_daemon_later);
  g_test_add_func ("/discovery/flood", test_flood);
  status = g_test_run ();

  if (avahi_running ())
    avahi_stop ();
  bus_stop ();
  g_unlink (avahi_conf);
  g_rmdir (dir);
  g_free (avahi_conf);
  g_ptr_array_unref (rejected);
  return status;
}
