/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-notify.c: the server tells its service manager how it is doing
 * (systemd's notify protocol), against a datagram socket of our own in
 * place of systemd: READY=1 once it listens, its status, watchdog pings at
 * half of WATCHDOG_USEC, STOPPING=1 on SIGTERM. No systemd runs as PID 1
 * here: whether the real manager starts the unit is not tested. */
#include "ssq-test-server.h"
#include "ssq-test-raw.h"

#include <gio/gunixsocketaddress.h>
#include <signal.h>
#include <string.h>

#define WAIT_MS 15000

typedef struct {
  char    *dir;
  GSocket *socket;
  char    *path;
} Manager;

static Manager *
manager_new (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketAddress) address = NULL;
  Manager *manager = g_new0 (Manager, 1);

  manager->dir = g_dir_make_tmp ("ssq-notify-XXXXXX", &error);
  g_assert_no_error (error);
  manager->path = g_build_filename (manager->dir, "notify", NULL);
  manager->socket = g_socket_new (G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_DATAGRAM,
                                  G_SOCKET_PROTOCOL_DEFAULT, &error);
  g_assert_no_error (error);
  address = g_unix_socket_address_new (manager->path);
  g_assert_true (g_socket_bind (manager->socket, address, FALSE, &error));
  g_assert_no_error (error);
  return manager;
}

static void
manager_free (Manager *manager)
{
  g_object_unref (manager->socket);
  ssq_test_remove_tree (manager->dir);
  g_free (manager->dir);
  g_free (manager->path);
  g_free (manager);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Manager, manager_free)

/* The next message the server sent, or NULL when none came in time. */
static char *
manager_next (Manager *manager,
              guint    timeout_ms)
{
  g_autoptr(GError) error = NULL;
  char buffer[4096];
  gssize n;

  g_socket_set_timeout (manager->socket, (timeout_ms + 999) / 1000);
  n = g_socket_receive (manager->socket, buffer, sizeof buffer - 1, NULL, &error);
  if (n < 0)
    {
      g_test_message ("no message: %s", error->message);
      return NULL;
    }
  buffer[n] = '\0';
  return g_strdup (buffer);
}

/* Messages until one holds @line (as a whole line), within the deadline;
 * each one seen is counted into @counts by its first line. */
static char *
manager_expect (Manager    *manager,
                const char *line,
                GHashTable *counts)
{
  gint64 deadline = ssq_test_deadline_after (WAIT_MS);

  while (ssq_test_ms_until (deadline) > 0)
    {
      g_autofree char *message = manager_next (manager, ssq_test_ms_until (deadline));
      g_auto(GStrv) lines = NULL;

      if (message == NULL)
        break;
      lines = g_strsplit (message, "\n", -1);
      if (counts != NULL)
        g_hash_table_insert (counts, g_strdup (lines[0]),
                             GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (counts, lines[0])) + 1));
      if (g_strv_contains ((const char * const *) lines, line))
        return g_steal_pointer (&message);
    }
  return NULL;
}

static void
test_ready_watchdog_stopping (void)
{
  g_autoptr(Manager) manager = manager_new ();
  g_autofree char *socket_env = g_strconcat ("NOTIFY_SOCKET=", manager->path, NULL);
  /* 200 ms: a ping every 100 ms. */
  const char *wrapper[] = { "env", socket_env, "WATCHDOG_USEC=200000", NULL };
  g_autoptr(SsqTestServer) server = ssq_test_server_start_wrapped (NULL, NULL, wrapper);
  g_autofree char *ready = manager_expect (manager, "READY=1", NULL);
  /* The URL the server announces (https://); tests speak plain on loopback. */
  g_autofree char *status = g_strdup_printf ("STATUS=Listening on %s", server->https_url);
  g_autofree char *stopping = NULL;
  g_auto(GStrv) ready_lines = NULL;

  g_assert_nonnull (ready);
  ready_lines = g_strsplit (ready, "\n", -1);
  g_assert_true (g_strv_contains ((const char * const *) ready_lines, status));
  /* Ready means connections are taken. */
  g_assert_cmpuint (ssq_test_raw_healthz (server, NULL, WAIT_MS), ==, 200);

  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *ping = manager_expect (manager, "WATCHDOG=1", NULL);

      g_assert_nonnull (ping);
    }

  kill (ssq_test_server_pid (server), SIGTERM);
  stopping = manager_expect (manager, "STOPPING=1", NULL);
  g_assert_nonnull (stopping);
  g_assert_cmpint (ssq_test_server_stop (server), ==, 0);
}

/* Without WATCHDOG_USEC the server sends readiness but never pings. */
static void
test_no_watchdog_unless_asked (void)
{
  g_autoptr(Manager) manager = manager_new ();
  g_autofree char *socket_env = g_strconcat ("NOTIFY_SOCKET=", manager->path, NULL);
  const char *wrapper[] = { "env", "-u", "WATCHDOG_USEC", socket_env, NULL };
  g_autoptr(SsqTestServer) server = ssq_test_server_start_wrapped (NULL, NULL, wrapper);
  g_autoptr(GHashTable) counts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autofree char *ready = manager_expect (manager, "READY=1", NULL);
  g_autofree char *stopping = NULL;

  g_assert_nonnull (ready);
  /* Long enough for pings at any plausible rate to show. */
  ssq_test_wait_ms (500);
  kill (ssq_test_server_pid (server), SIGTERM);
  stopping = manager_expect (manager, "STOPPING=1", counts);
  g_assert_nonnull (stopping);
  g_assert_null (g_hash_table_lookup (counts, "WATCHDOG=1"));
  g_assert_cmpint (ssq_test_server_stop (server), ==, 0);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
#if !HAVE_LIBSYSTEMD
  g_test_skip ("built without libsystemd: the server sends no notifications");
  return g_test_run ();
#endif
  g_test_add_func ("/server/notify/ready-watchdog-stopping", test_ready_watchdog_stopping);
  g_test_add_func ("/server/notify/no-watchdog-unless-asked", test_no_watchdog_unless_asked);
  return g_test_run ();
}
