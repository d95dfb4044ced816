/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-cli-trust.c: supersoniq-cli against the real server with TLS: the
 * first connection without a terminal fails (exit 7) naming the printed
 * fingerprint and --trust; a wrong --trust is refused and not kept; the
 * right one pins; a server restarted with a new key is refused (exit 7,
 * the alarming message) until `forget-server`; plain http:// to a LAN
 * address is refused. */
#include <glib/gstdio.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <string.h>

#include "ssq-invite-link.h"
#include "ssq-test-server.h"
#include "ssq-trust.h"

#define ARGS(...) ((const char *[]) { __VA_ARGS__, NULL })

typedef struct {
  char *home;
  char *password_file;
  char *log;
} Env;

static Env *
env_new (void)
{
  Env *env = g_new0 (Env, 1);
  g_autoptr(GError) error = NULL;

  env->home = g_dir_make_tmp ("ssq-cli-trust-XXXXXX", &error);
  g_assert_no_error (error);
  env->password_file = g_build_filename (env->home, "password", NULL);
  env->log = g_build_filename (env->home, "server.log", NULL);
  g_file_set_contents (env->password_file, "password123\n", -1, &error);
  g_assert_no_error (error);
  return env;
}

static void
env_free (Env *env)
{
  ssq_test_remove_tree (env->home);
  g_free (env->home);
  g_free (env->password_file);
  g_free (env->log);
  g_free (env);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Env, env_free)

/* Runs supersoniq-cli with no terminal (standard input a pipe, closed). */
static int
cli (Env         *env,
     char       **out_err,
     const char **args)
{
  g_autoptr(GSubprocessLauncher) launcher =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                               G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *config = g_build_filename (env->home, "config", NULL);
  g_autofree char *data = g_build_filename (env->home, "data", NULL);
  g_autofree char *out = NULL, *err = NULL;

  g_subprocess_launcher_setenv (launcher, "XDG_CONFIG_HOME", config, TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_DATA_HOME", data, TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_CACHE_HOME", data, TRUE);
  g_ptr_array_add (argv, g_strdup (g_getenv ("SSQ_CLI_BIN")));
  g_ptr_array_add (argv, g_strdup ("--password-file"));
  g_ptr_array_add (argv, g_strdup (env->password_file));
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, g_strdup (args[i]));
  g_ptr_array_add (argv, NULL);
  process = g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, "", NULL, &out, &err, &error);
  g_assert_no_error (error);
  g_test_message ("%s → %s%s", args[0], out, err);
  g_assert_true (g_subprocess_get_if_exited (process));
  if (out_err != NULL)
    *out_err = g_steal_pointer (&err);
  return g_subprocess_get_exit_status (process);
}

static void
test_first_use_and_change (void)
{
  g_autoptr(Env) env = env_new ();
  g_autoptr(SsqTestServer) server = ssq_test_server_start_logged (NULL, NULL, env->log, FALSE);
  g_autofree char *fp = ssq_test_server_printed_fingerprint (env->log, FALSE);
  g_autofree char *new_fp = NULL;
  g_autofree char *err = NULL;
  g_autofree char *cert = g_build_filename (server->data_dir, "tls-cert.pem", NULL);
  g_autofree char *key = g_build_filename (server->data_dir, "tls-key.pem", NULL);
  const char *wrong = "sha256:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:"
                      "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF";

  g_assert_nonnull (server->https_url);
  /* No terminal: told to use --trust, with the printed fingerprint. */
  g_assert_cmpint (cli (env, &err, ARGS ("--server", server->https_url, "register", "alice")), ==, 7);
  g_assert_nonnull (strstr (err, fp));
  g_assert_nonnull (strstr (err, "--trust"));
  g_clear_pointer (&err, g_free);

  /* A wrong fingerprint: refused, and not kept. */
  g_assert_cmpint (cli (env, &err, ARGS ("--server", server->https_url, "--trust", wrong,
                                         "register", "alice")), ==, 7);
  g_assert_nonnull (strstr (err, "DANGER"));
  g_assert_nonnull (strstr (err, fp));
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (cli (env, NULL, ARGS ("--server", server->https_url, "--trust", "sha256:12",
                                         "register", "alice")), ==, 2);

  /* The right one, grouped as printed: pinned; later commands need none. */
  g_assert_cmpint (cli (env, NULL, ARGS ("--server", server->https_url, "--trust", fp,
                                         "register", "alice")), ==, 0);
  g_assert_cmpint (cli (env, NULL, ARGS ("conversations")), ==, 0);

  /* A new key. */
  g_assert_cmpint (ssq_test_server_stop (server), ==, 0);
  g_assert_cmpint (g_unlink (cert), ==, 0);
  g_assert_cmpint (g_unlink (key), ==, 0);
  g_unlink (env->log);
  ssq_test_server_restart (server);
  new_fp = ssq_test_server_printed_fingerprint (env->log, FALSE);
  g_assert_cmpstr (new_fp, !=, fp);
  g_assert_cmpint (cli (env, &err, ARGS ("conversations")), ==, 7);
  g_assert_nonnull (strstr (err, "DANGER"));
  g_assert_nonnull (strstr (err, "DIFFERENT key"));
  g_assert_nonnull (strstr (err, fp));
  g_assert_nonnull (strstr (err, new_fp));
  g_assert_nonnull (strstr (err, "forget-server"));
  g_clear_pointer (&err, g_free);
  /* --trust cannot replace a pin either; logging in again neither. */
  g_assert_cmpint (cli (env, NULL, ARGS ("--trust", new_fp, "conversations")), ==, 7);
  g_assert_cmpint (cli (env, NULL, ARGS ("--server", server->https_url, "login", "alice")), ==, 7);

  /* Forgotten on purpose, trusted again. */
  g_assert_cmpint (cli (env, NULL, ARGS ("forget-server", server->https_url)), ==, 0);
  g_assert_cmpint (cli (env, &err, ARGS ("conversations")), ==, 7);
  g_assert_nonnull (strstr (err, new_fp));
  g_assert_nonnull (strstr (err, "--trust"));
  g_assert_cmpint (cli (env, NULL, ARGS ("--trust", new_fp, "conversations")), ==, 0);
  g_assert_cmpint (cli (env, NULL, ARGS ("conversations")), ==, 0);
}

/* This machine's first IPv4 address that is not loopback, or NULL. */
static char *
lan_address (void)
{
  struct ifaddrs *list = NULL;
  char *found = NULL;

  if (getifaddrs (&list) != 0)
    return NULL;
  for (struct ifaddrs *i = list; i != NULL && found == NULL; i = i->ifa_next)
    {
      char text[INET_ADDRSTRLEN];
      struct sockaddr_in *in = (struct sockaddr_in *) i->ifa_addr;

      if (in == NULL || in->sin_family != AF_INET || (ntohl (in->sin_addr.s_addr) >> 24) == 127)
        continue;
      if (inet_ntop (AF_INET, &in->sin_addr, text, sizeof text) != NULL)
        found = g_strdup (text);
    }
  freeifaddrs (list);
  return found;
}

static void
test_plain_lan_refused (void)
{
  g_autoptr(Env) env = env_new ();
  g_autofree char *address = lan_address ();
  g_autofree char *url = NULL;
  g_autofree char *err = NULL;

  if (address == NULL)
    {
      g_test_skip ("this machine has no LAN address to try plain HTTP on");
      return;
    }
  url = g_strdup_printf ("http://%s:9", address);
  g_assert_cmpint (cli (env, &err, ARGS ("--server", url, "register", "alice")), ==, 7);
  g_assert_nonnull (strstr (err, "Refusing plain http://"));
  g_assert_nonnull (strstr (err, "--insecure"));
  g_clear_pointer (&err, g_free);
  /* With --insecure it tries (and finds nothing on port 9). */
  g_assert_cmpint (cli (env, &err, ARGS ("--server", url, "--insecure", "register", "alice")), ==, 4);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/cli/trust/first-use-and-change", test_first_use_and_change);
  g_test_add_func ("/cli/trust/plain-lan-refused", test_plain_lan_refused);
  return g_test_run ();
}
