/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-test-avahi.c: the system bus and Avahi daemon of a test run by
 * netns-run.sh, started and stopped by their pids or their own -k. */
#include "ssq-test-avahi.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>

#include "ssq-proto.h"
#include "ssq-test-server.h"

static GPid bus_pid;
static char *conf_dir;
static char *conf_path;
static char *conf_interfaces;   /* what the running daemon was started on */

char *
ssq_test_run (const char * const *argv,
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

gboolean
ssq_test_avahi_inside (void)
{
  return g_getenv ("SSQ_NETNS_INSIDE") != NULL;
}

static gboolean
pid_gone (gpointer data)
{
  return kill (GPOINTER_TO_INT (data), 0) != 0;
}

void
ssq_test_bus_start (void)
{
  g_autofree char *out = NULL;
  int status;

  g_unlink ("/run/dbus/pid");
  g_unlink ("/run/dbus/system_bus_socket");
  out = ssq_test_run ((const char *[]) { "dbus-daemon", "--system", "--fork", "--print-pid", NULL },
                      &status);
  g_assert_cmpint (status, ==, 0);
  bus_pid = (GPid) g_ascii_strtoll (out, NULL, 10);
  g_assert_cmpint (bus_pid, >, 0);
}

void
ssq_test_bus_stop (void)
{
  if (bus_pid <= 0)
    return;
  kill (bus_pid, SIGTERM);
  g_assert_true (ssq_test_wait_until (pid_gone, GINT_TO_POINTER (bus_pid), SSQ_TEST_AVAHI_WAIT_MS));
  bus_pid = 0;
  g_unlink ("/run/dbus/system_bus_socket");
}

gboolean
ssq_test_avahi_running (void)
{
  int status;
  g_autofree char *out = ssq_test_run ((const char *[]) { "avahi-daemon", "-c", NULL }, &status);

  return status == 0;
}

static gboolean
avahi_gone (gpointer data)
{
  return !ssq_test_avahi_running ();
}

void
ssq_test_avahi_stop (void)
{
  g_autofree char *out = ssq_test_run ((const char *[]) { "avahi-daemon", "-k", NULL }, NULL);

  g_assert_true (ssq_test_wait_until (avahi_gone, NULL, SSQ_TEST_AVAHI_WAIT_MS));
}

void
ssq_test_avahi_start_on (const char *interfaces)
{
  g_autofree char *conf = NULL;
  g_autofree char *out = NULL;
  int status;

  g_assert_nonnull (conf_path);
  if (ssq_test_avahi_running ())
    {
      if (g_strcmp0 (conf_interfaces, interfaces) == 0)
        return;
      ssq_test_avahi_stop ();
    }
  conf = g_strdup_printf ("[server]\nuse-ipv4=yes\nuse-ipv6=no\nallow-interfaces=%s\n"
                          "enable-dbus=yes\n[wide-area]\nenable-wide-area=no\n"
                          "[publish]\npublish-hinfo=no\npublish-workstation=no\n", interfaces);
  g_assert_true (g_file_set_contents (conf_path, conf, -1, NULL));
  g_free (conf_interfaces);
  conf_interfaces = g_strdup (interfaces);
  out = ssq_test_run ((const char *[]) { "avahi-daemon", "-D", "--no-drop-root", "--no-chroot",
                                         "-f", conf_path, NULL }, &status);
  g_assert_cmpint (status, ==, 0);
}

void
ssq_test_avahi_start (void)
{
  ssq_test_avahi_start_on ("lo");
}

void
ssq_test_avahi_init (void)
{
  conf_dir = g_dir_make_tmp ("ssq-avahi-XXXXXX", NULL);
  g_assert_nonnull (conf_dir);
  conf_path = g_build_filename (conf_dir, "avahi-daemon.conf", NULL);
  ssq_test_bus_start ();
}

void
ssq_test_avahi_cleanup (void)
{
  if (ssq_test_avahi_running ())
    ssq_test_avahi_stop ();
  ssq_test_bus_stop ();
  g_unlink (conf_path);
  g_rmdir (conf_dir);
  g_clear_pointer (&conf_path, g_free);
  g_clear_pointer (&conf_dir, g_free);
  g_clear_pointer (&conf_interfaces, g_free);
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

/* avahi-browse -t waits for every resolution it started: on a loaded
 * machine it once waited past the test's own timeout (test-discovery's
 * /discovery/off, 300 s). Bounded: what it printed until then is the
 * answer, and the callers that wait for a record ask again. */
#define BROWSE_TIMEOUT "10"

char *
ssq_test_avahi_browse_txt (guint16 port)
{
  int status = 0;
  g_autofree char *out = ssq_test_run ((const char *[]) { "timeout", "-k", "2", BROWSE_TIMEOUT,
                                                          "avahi-browse", "-rtp",
                                                          SSQ_DISCOVERY_SERVICE_TYPE, NULL },
                                       &status);
  g_auto(GStrv) lines = g_strsplit (out ? out : "", "\n", -1);
  g_autofree char *wanted = g_strdup_printf ("%u", port);

  if (status == 124 || status == 137)
    g_test_message ("avahi-browse did not finish in " BROWSE_TIMEOUT " s");
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

char *
ssq_test_avahi_browse_txt_eventually (guint16 port)
{
  gint64 deadline = g_get_monotonic_time () + SSQ_TEST_AVAHI_WAIT_MS * G_GINT64_CONSTANT (1000);

  do
    {
      char *txt = ssq_test_avahi_browse_txt (port);

      if (txt != NULL)
        return txt;
      ssq_test_wait_ms (250);
    }
  while (g_get_monotonic_time () < deadline);
  return NULL;
}
