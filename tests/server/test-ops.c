/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-ops.c: what an administrator sees of a running server: its log
 * (a line per request, failed log-ins, never a secret) and /metrics (the
 * process's figures, and who may read them). */
#include "ssq-test-raw.h"
#include "ssq-json.h"
#include "ssq-wire.h"

#include <ifaddrs.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#define WAIT_MS 10000

/* Secrets the log must never hold: each distinctive, so that a find is no
 * accident. */
#define PASSWORD       "Pw-zebra-quartz-1187"
#define WRONG_PASSWORD "Wrong-xylophone-9921"
#define UNKNOWN_NAME   "kumquat-typed-here"
#define BODY           "body-pomegranate-5531"
#define QUERY          "persimmon"
#define DISPLAY_NAME   "Display-tangerine"

static char *
log_path_for (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("ssq-log-XXXXXX", &error);

  g_assert_no_error (error);
  return g_build_filename (dir, "stderr.log", NULL);
}

static char *
read_log (const char *path)
{
  g_autoptr(GError) error = NULL;
  char *text = NULL;

  g_file_get_contents (path, &text, NULL, &error);
  g_assert_no_error (error);
  return text;
}

static void
remove_log (const char *path)
{
  g_autofree char *dir = g_path_get_dirname (path);

  ssq_test_remove_tree (dir);
}

static guint
count (const char *text,
       const char *needle)
{
  guint n = 0;

  for (const char *at = strstr (text, needle); at != NULL; at = strstr (at + 1, needle))
    n++;
  return n;
}

static void
assert_absent (const char *log,
               const char *secret)
{
  if (strstr (log, secret) != NULL)
    g_error ("The server's log holds \"%s\":\n%s", secret, log);
}

static guint
post (SsqTestServer *s,
      const char    *path,
      const char    *token,
      const char    *body)
{
  guint status = 0;
  g_autoptr(JsonObject) reply = ssq_test_http (s, "POST", path, token, body, &status);

  return status;
}

/* Everything that carries a secret goes past the server with every log
 * level on; the log has a line per request, the failed log-ins with their
 * address, and none of the secrets. */
static void
test_log_requests_no_secrets (void)
{
  g_autofree char *log_path = log_path_for ();
  g_autoptr(SsqTestServer) s = ssq_test_server_start_logged (NULL, NULL, log_path, TRUE);
  g_autoptr(JsonObject) reply = NULL;
  g_autoptr(SsqTestWs) ws = NULL;
  g_autofree char *token = NULL;
  g_autofree char *conversation = NULL;
  g_autofree char *path = NULL;
  g_autofree char *log = NULL;
  g_autoptr(SsqTestUser) bob = ssq_test_register (s, "bob");
  guint status = 0;

  /* Register, log in right and wrong, by an unknown name too. */
  g_assert_cmpuint (post (s, "/api/v1/register", NULL,
                          "{\"username\":\"carol\",\"password\":\"" PASSWORD "\"}"), ==, 201);
  reply = ssq_test_http (s, "POST", "/api/v1/login", NULL,
                         "{\"username\":\"carol\",\"password\":\"" PASSWORD "\"}", &status);
  g_assert_cmpuint (status, ==, 200);
  token = g_strdup (json_object_get_string_member (reply, "token"));
  g_assert_cmpuint (post (s, "/api/v1/login", NULL,
                          "{\"username\":\"carol\",\"password\":\"" WRONG_PASSWORD "\"}"), ==, 401);
  g_assert_cmpuint (post (s, "/api/v1/login", NULL,
                          "{\"username\":\"" UNKNOWN_NAME "\",\"password\":\"" PASSWORD "\"}"),
                    ==, 401);
  /* A search (the query names someone), a message, a profile change, the
   * token in a query. */
  g_clear_pointer (&reply, json_object_unref);
  reply = ssq_test_http (s, "GET", "/api/v1/users?q=" QUERY, token, NULL, &status);
  g_assert_cmpuint (status, ==, 200);
  conversation = ssq_test_create_conversation (s, bob, "{\"kind\":\"direct\",\"members\":[\"carol\"]}");
  path = g_strdup_printf ("/api/v1/conversations/%s/messages", conversation);
  g_assert_cmpuint (post (s, path, token, "{\"client_id\":\"c1\",\"body\":\"" BODY "\"}"), ==, 201);
  g_clear_pointer (&reply, json_object_unref);
  reply = ssq_test_http (s, "PATCH", "/api/v1/me", token,
                         "{\"display_name\":\"" DISPLAY_NAME "\"}", &status);
  g_assert_cmpuint (status, ==, 200);
  {
    g_autofree char *with_token = g_strconcat ("/healthz?access_token=", token, NULL);

    g_clear_pointer (&reply, json_object_unref);
    reply = ssq_test_http (s, "GET", with_token, NULL, NULL, &status);
    g_assert_cmpuint (status, ==, 400);
  }
  /* One WebSocket session, which sends a message too. */
  ws = ssq_test_ws_connect (s, token, NULL);
  g_assert_nonnull (ws);
  g_clear_pointer (&reply, json_object_unref);
  reply = ssq_test_ws_post (ws, conversation, "c2", BODY);
  g_assert_nonnull (reply);
  g_clear_pointer (&ws, ssq_test_ws_free);
  g_assert_cmpint (ssq_test_server_stop (s), ==, 0);

  log = read_log (log_path);
  g_test_message ("%s", log);
  assert_absent (log, PASSWORD);
  assert_absent (log, WRONG_PASSWORD);
  assert_absent (log, UNKNOWN_NAME);
  assert_absent (log, token);
  assert_absent (log, bob->token);
  assert_absent (log, BODY);
  assert_absent (log, QUERY);
  assert_absent (log, DISPLAY_NAME);
  /* A line per request: method, path, status, time. */
  g_assert_cmpuint (count (log, "POST /api/v1/register 201 "), ==, 2);
  g_assert_cmpuint (count (log, "POST /api/v1/login 200 "), ==, 1);
  g_assert_cmpuint (count (log, "POST /api/v1/login 401 "), ==, 2);
  g_assert_cmpuint (count (log, "GET /api/v1/users 200 "), ==, 1);
  g_assert_cmpuint (count (log, "GET /healthz 400 "), ==, 1);
  g_assert_cmpuint (count (log, "PATCH /api/v1/me 200 "), ==, 1);
  g_assert_cmpuint (count (log, "GET /api/v1/ws 101 "), ==, 1);
  g_assert_nonnull (strstr (log, " ms\n"));
  /* Failed log-ins with the address; an unknown name is not repeated. */
  g_assert_cmpuint (count (log, "Failed log-in to account carol from 127.0.0.1"), ==, 1);
  g_assert_cmpuint (count (log, "Failed log-in to an unknown account from 127.0.0.1"), ==, 1);
  remove_log (log_path);
}

/* Without G_MESSAGES_DEBUG (a systemd unit sets none) the request lines are
 * there; [log] requests=false takes them away. */
static void
test_log_default_and_off (void)
{
  const char *configs[] = { "", "[log]\nrequests=false\n" };

  for (guint i = 0; i < G_N_ELEMENTS (configs); i++)
    {
      g_autofree char *log_path = log_path_for ();
      g_autoptr(SsqTestServer) s = ssq_test_server_start_logged (NULL, configs[i], log_path, FALSE);
      g_autofree char *log = NULL;

      ssq_test_assert_healthz (s);
      g_assert_cmpint (ssq_test_server_stop (s), ==, 0);
      log = read_log (log_path);
      g_test_message ("%s", log);
      g_assert_cmpuint (count (log, "GET /healthz 200 "), ==, i == 0 ? 1 : 0);
      remove_log (log_path);
    }
}

/* ---- /metrics ---------------------------------------------------------- */

static char *
scrape (SsqTestServer *s,
        const char    *source,
        const char    *token,
        guint         *out_status)
{
  g_autoptr(SsqTestRaw) c = ssq_test_raw_open_full (s, source, 0, 0);
  g_auto(SsqTestRawResponse) r = { 0 };
  g_autofree char *request = g_strdup_printf ("GET /metrics HTTP/1.1\r\nHost: x\r\n%s%s%s\r\n",
                                              token ? "Authorization: Bearer " : "",
                                              token ? token : "", token ? "\r\n" : "");

  g_assert_true (ssq_test_raw_send_str (c, request));
  g_assert_true (ssq_test_raw_read_response (c, WAIT_MS, &r));
  *out_status = r.status;
  return g_steal_pointer (&r.body);
}

/* The process's figures, as Prometheus names them, agree with the kernel's. */
static void
test_metrics_process (void)
{
  g_autoptr(SsqTestServer) s = ssq_test_server_start (NULL, NULL);
  g_autofree char *text = NULL;
  guint status = 0;
  guint fds = ssq_test_server_fd_count (s);
  gsize rss_kb = ssq_test_server_rss_kb (s);

  text = scrape (s, NULL, NULL, &status);
  g_assert_cmpuint (status, ==, 200);
  g_test_message ("fds %u (kernel), %g (metrics); rss %zu KiB", fds,
                  ssq_test_metrics_value (text, "process_open_fds"), rss_kb);
  g_assert_nonnull (strstr (text, "# TYPE process_open_fds gauge\n"));
  g_assert_nonnull (strstr (text, "# TYPE process_max_fds gauge\n"));
  g_assert_nonnull (strstr (text, "# TYPE process_resident_memory_bytes gauge\n"));
  g_assert_nonnull (strstr (text, "# TYPE process_cpu_seconds_total counter\n"));
  /* The scrape's own connection is one more than the kernel saw. */
  g_assert_cmpfloat (ssq_test_metrics_value (text, "process_open_fds"), >=, fds);
  g_assert_cmpfloat (ssq_test_metrics_value (text, "process_open_fds"), <=, fds + 2);
  g_assert_cmpfloat (ssq_test_metrics_value (text, "process_max_fds"), >=,
                     ssq_test_metrics_value (text, "process_open_fds"));
  g_assert_cmpfloat (ssq_test_metrics_value (text, "process_resident_memory_bytes"), >,
                     1024 * 1024);
  g_assert_cmpfloat (ssq_test_metrics_value (text, "process_cpu_seconds_total"), >, 0);
  g_assert_cmpfloat (ssq_test_metrics_value (text, "process_start_time_seconds"), <=,
                     g_get_real_time () / 1e6 + 1);
  g_assert_cmpfloat (ssq_test_metrics_value (text, "process_start_time_seconds"), >,
                     g_get_real_time () / 1e6 - 600);
}

/* An IPv4 address of this machine that is not a loopback one, or NULL. */
static char *
non_loopback_address (void)
{
  struct ifaddrs *list = NULL;
  char *found = NULL;

  if (getifaddrs (&list) != 0)
    return NULL;
  for (struct ifaddrs *i = list; i != NULL && found == NULL; i = i->ifa_next)
    {
      char text[INET_ADDRSTRLEN];
      const struct sockaddr_in *sin = (const struct sockaddr_in *) i->ifa_addr;

      if (sin == NULL || sin->sin_family != AF_INET ||
          (ntohl (sin->sin_addr.s_addr) >> 24) == 127)
        continue;
      inet_ntop (AF_INET, &sin->sin_addr, text, sizeof text);
      found = g_strdup (text);
    }
  freeifaddrs (list);
  return found;
}

/* access=loopback (the default): from 127.0.0.1 it answers; from another
 * address of this machine (a source a LAN peer could have, routed through
 * lo all the same) it is refused. */
static void
test_metrics_loopback (void)
{
  g_autofree char *lan = non_loopback_address ();
  g_autoptr(SsqTestServer) s = NULL;
  g_autofree char *text = NULL;
  guint status = 0;

  if (lan == NULL)
    {
      g_test_skip ("This machine has no IPv4 address but loopback ones to connect from");
      return;
    }
  /* Plain HTTP from that address is refused before /metrics is looked at
   * ([tls] plain_http=loopback): 400, use https. The rule of access is the
   * peer's address, TLS or not: it is checked with plain HTTP allowed to
   * everyone. */
  s = ssq_test_server_start (NULL, NULL);
  text = scrape (s, lan, NULL, &status);
  g_assert_cmpuint (status, ==, 400);
  g_assert_nonnull (strstr (text, "https://"));
  g_clear_pointer (&text, g_free);
  ssq_test_server_stop (s);
  g_clear_pointer (&s, ssq_test_server_free);
  s = ssq_test_server_start (NULL, "[tls]\nplain_http=any\n");
  text = scrape (s, "127.0.0.1", NULL, &status);
  g_assert_cmpuint (status, ==, 200);
  g_clear_pointer (&text, g_free);
  text = scrape (s, "127.0.0.2", NULL, &status);
  g_assert_cmpuint (status, ==, 200);
  g_clear_pointer (&text, g_free);
  g_test_message ("from %s", lan);
  text = scrape (s, lan, NULL, &status);
  g_assert_cmpuint (status, ==, 403);
  g_assert_nonnull (strstr (text, "\"forbidden\""));
  g_assert_null (strstr (text, "process_"));
  g_clear_pointer (&text, g_free);
  /* access=open serves that address too. */
  ssq_test_server_stop (s);
  g_clear_pointer (&s, ssq_test_server_free);
  s = ssq_test_server_start (NULL, "[metrics]\naccess=open\n[tls]\nplain_http=any\n");
  text = scrape (s, lan, NULL, &status);
  g_assert_cmpuint (status, ==, 200);
}

/* access=token: the bearer token, from any address, loopback included;
 * none, a wrong one, one of another length, or a chat login's: 401. */
static void
test_metrics_token (void)
{
  g_autoptr(SsqTestServer) s =
    ssq_test_server_start (NULL, "[metrics]\naccess=token\ntoken=scrape-me-0123456789\n");
  g_autoptr(SsqTestUser) alice = ssq_test_register (s, "alice");
  const char *refused[] = { NULL, "scrape-me-0123456788", "scrape-me", alice->token };
  g_autofree char *text = NULL;
  guint status = 0;

  for (guint i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      text = scrape (s, "127.0.0.1", refused[i], &status);
      g_assert_cmpuint (status, ==, 401);
      g_assert_nonnull (strstr (text, "\"unauthorized\""));
      g_clear_pointer (&text, g_free);
    }
  text = scrape (s, "127.0.0.1", "scrape-me-0123456789", &status);
  g_assert_cmpuint (status, ==, 200);
  g_assert_nonnull (strstr (text, "process_open_fds"));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/server/log/requests-no-secrets", test_log_requests_no_secrets);
  g_test_add_func ("/server/log/default-and-off", test_log_default_and_off);
  g_test_add_func ("/server/metrics/process", test_metrics_process);
  g_test_add_func ("/server/metrics/loopback", test_metrics_loopback);
  g_test_add_func ("/server/metrics/token", test_metrics_token);
  return g_test_run ();
}
