/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-config.c: the real server binary given bad settings, a data
 * directory it cannot use, and each form of --listen: the exit code and
 * what it says. */
#include "ssq-test-server.h"

#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#define WAIT_MS 10000

typedef struct {
  int   status;      /* exit status, -1 when it did not exit by itself */
  char *out;
  char *err;
} Run;

static void
run_clear (Run *run)
{
  g_clear_pointer (&run->out, g_free);
  g_clear_pointer (&run->err, g_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Run, run_clear)

static void
communicated_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      data)
{
  *(GAsyncResult **) data = g_object_ref (result);
}

/* Runs the server (after @wrapper's words, if any) with @args, and with
 * the NAME=VALUE pairs of @env added to the environment, until it exits by
 * itself; a server still running after WAIT_MS is killed and the test
 * fails. */
static void
run_server_env (const char * const *wrapper,
                const char * const *env,
                const char * const *args,
                Run                *run)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocessLauncher) launcher =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  gint64 deadline = g_get_monotonic_time () + WAIT_MS * 1000;

  for (guint i = 0; wrapper != NULL && wrapper[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) wrapper[i]);
  g_ptr_array_add (argv, (gpointer) g_getenv ("SSQ_SERVER_BIN"));
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  for (guint i = 0; env != NULL && env[i] != NULL; i++)
    {
      g_auto(GStrv) pair = g_strsplit (env[i], "=", 2);

      g_subprocess_launcher_setenv (launcher, pair[0], pair[1], TRUE);
    }
  process = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8_async (process, NULL, NULL, communicated_cb, &result);
  while (result == NULL && g_get_monotonic_time () < deadline)
    if (!g_main_context_iteration (NULL, FALSE))
      g_usleep (1000);
  if (result == NULL)
    {
      g_subprocess_force_exit (process);
      while (result == NULL)
        g_main_context_iteration (NULL, TRUE);
    }
  g_assert_true (g_subprocess_communicate_utf8_finish (process, result, &run->out, &run->err,
                                                       &error));
  g_assert_no_error (error);
  run->status = g_subprocess_get_if_exited (process) ? g_subprocess_get_exit_status (process) : -1;
  g_test_message ("exit %d, stderr: %s", run->status, run->err);
}

static void
run_server (const char * const *wrapper,
            const char * const *args,
            Run                *run)
{
  run_server_env (wrapper, NULL, args, run);
}

static void
assert_says (const Run  *run,
             const char *text)
{
  if (strstr (run->err, text) == NULL)
    g_error ("stderr lacks \"%s\": %s", text, run->err);
}

/* A config file of @contents in a fresh directory; the directory is
 * returned in @out_dir (remove it with ssq_test_remove_tree ()). */
static char *
write_config (const char  *contents,
              char       **out_dir)
{
  g_autoptr(GError) error = NULL;
  char *path;

  *out_dir = g_dir_make_tmp ("ssq-config-XXXXXX", &error);
  g_assert_no_error (error);
  path = g_build_filename (*out_dir, "server.conf", NULL);
  g_file_set_contents (path, contents, -1, &error);
  g_assert_no_error (error);
  return path;
}

/* Runs the server with a config of @contents: it must refuse to start with
 * exit 2 and name the file and each of @says. */
static void
assert_config_refused (const char         *contents,
                       const char * const *says)
{
  g_autofree char *dir = NULL;
  g_autofree char *path = write_config (contents, &dir);
  g_autofree char *data_dir = g_build_filename (dir, "data", NULL);
  const char *args[] = { "--listen", "127.0.0.1:0", "--data-dir", data_dir, "--config", path, NULL };
  g_auto(Run) run = { 0 };

  run_server (NULL, args, &run);
  g_assert_cmpint (run.status, ==, 2);
  g_assert_cmpstr (run.out, ==, "");
  assert_says (&run, path);
  for (guint i = 0; says[i] != NULL; i++)
    assert_says (&run, says[i]);
  /* Refused before anything was made. */
  g_assert_false (g_file_test (data_dir, G_FILE_TEST_EXISTS));
  ssq_test_remove_tree (dir);
}

/* A misspelled key was silently ignored: the server ran with the default. */
static void
test_unknown_key (void)
{
  assert_config_refused ("[server]\nlisten=127.0.0.1:0\n\n[limits]\nmesages_per_minute=10\n",
                         (const char *[]) { "unknown key \"mesages_per_minute\" in [limits]",
                                            "did you mean messages_per_minute?",
                                            "the keys of [limits] are: messages_per_minute, ",
                                            "max_frame_size", NULL });
  assert_config_refused ("[media]\nthumbnails=0\n",
                         (const char *[]) { "unknown key \"thumbnails\" in [media]",
                                            "max_size, quota_per_user", NULL });
}

static void
test_unknown_group (void)
{
  assert_config_refused ("[limit]\nmessages_per_minute=10\n",
                         (const char *[]) { "unknown group [limit]", "did you mean [limits]?",
                                            "server, limits, media, security, broker, log, "
                                            "metrics, tls, amqp, features", NULL });
}

/* Groups of features once missing are checked key by key now that they
 * are built: [tls] (a certificate without its key, a misspelt plain_http
 * word) and [amqp] (a key it does not have, a frame_max under AMQP's
 * minimum). */
static void
test_future_groups (void)
{
  assert_config_refused ("[tls]\ncertificate=/etc/ssl/x.pem\n",
                         (const char *[]) { "[tls] certificate and key go together", NULL });
  assert_config_refused ("[tls]\nplain_http=lan\n",
                         (const char *[]) { "[tls] plain_http: \"lan\" is not one of: loopback none any",
                                            NULL });
  assert_config_refused ("[tls]\nenable=false\n",
                         (const char *[]) { "unknown key \"enable\" in [tls]",
                                            "did you mean enabled?", NULL });
  assert_config_refused ("[amqp]\nurl=amqp://x\n",
                         (const char *[]) { "unknown key \"url\" in [amqp]", NULL });
  assert_config_refused ("[amqp]\nframe_max=1024\n",
                         (const char *[]) { "[amqp] frame_max must be at least 4096", NULL });
  assert_config_refused ("[amqp]\nmax_channels=0\n",
                         (const char *[]) { "max_channels positive", NULL });
}

static void
test_bad_values (void)
{
  assert_config_refused ("[metrics]\naccess=lan\n",
                         (const char *[]) { "[metrics] access: \"lan\" is not one of: "
                                            "loopback token open", NULL });
  assert_config_refused ("[features]\nmedia=perhaps\n",
                         (const char *[]) { "[features] media: expected true or false", NULL });
  assert_config_refused ("[features]\ndiscovery=maybe\n",
                         (const char *[]) { "[features] discovery: expected true or false", NULL });
  /* The name listed on the LAN: a DNS label's 63 bytes, text only. */
  assert_config_refused ("[server]\nname=0123456789012345678901234567890123456789012345678901234567890123\n",
                         (const char *[]) { "[server] name: 1 to 63 bytes", NULL });
  assert_config_refused ("[server]\nname=tab\\there\n",
                         (const char *[]) { "[server] name: no control characters", NULL });
  /* A log copied at every commit, or never: refused (the first once the
   * whole configuration is read, which names no file). */
  {
    g_autofree char *dir = NULL;
    g_autofree char *path = write_config ("[server]\ncheckpoint_pages=0\n", &dir);
    g_autofree char *data_dir = g_build_filename (dir, "data", NULL);
    const char *args[] = { "--listen", "127.0.0.1:0", "--data-dir", data_dir, "--config", path, NULL };
    g_auto(Run) run = { 0 };

    run_server (NULL, args, &run);
    g_assert_cmpint (run.status, ==, 2);
    assert_says (&run, "checkpoint_pages");
    assert_says (&run, "must be positive");
    g_assert_false (g_file_test (data_dir, G_FILE_TEST_EXISTS));
    ssq_test_remove_tree (dir);
  }
  assert_config_refused ("[server]\ncheckpoint_pages=1048577\n",
                         (const char *[]) { "[server] checkpoint_pages", NULL });
  assert_config_refused ("[server]\nbusy_poll_us=10001\n",
                         (const char *[]) { "[server] busy_poll_us", NULL });
  assert_config_refused ("[discovery]\nname=x\n",
                         (const char *[]) { "unknown group [discovery]", NULL });
  /* [broker] bounds: none at 0, the body at most 128 MiB, no unknown key. */
  assert_config_refused ("[broker]\nmax_queues=0\n",
                         (const char *[]) { "[broker] max_queues: must be at least 1", NULL });
  assert_config_refused ("[broker]\nmax_bindings_per_user=0\n",
                         (const char *[]) { "[broker] max_bindings_per_user: must be at least 1", NULL });
  assert_config_refused ("[broker]\nmax_consumers=0\n",
                         (const char *[]) { "[broker] max_consumers: must be at least 1", NULL });
  assert_config_refused ("[broker]\nmax_consumers_per_connection=0\n",
                         (const char *[]) { "[broker] max_consumers_per_connection: must be at least 1",
                                            NULL });
  assert_config_refused ("[broker]\nmax_message_size=134217729\n",
                         (const char *[]) { "[broker] max_message_size", NULL });
  assert_config_refused ("[broker]\nmax_queue=5\n",
                         (const char *[]) { "unknown key \"max_queue\" in [broker]",
                                            "did you mean max_queues?", NULL });
}

/* A key older versions read, [features] broker=false, [broker] bounds and
 * discovery's keys: the server starts. */
static void
test_retired_and_reserved_keys (void)
{
  g_autoptr(SsqTestServer) s =
    ssq_test_server_start (NULL, "logins_per_minute=5\n[features]\nbroker=false\ndiscovery=true\n"
                                 "[server]\nname=Büro Chat\n[broker]\nmax_queues=5\nmax_memory=1000000\n"
                                 "max_consumers=100\nmax_consumers_per_connection=10\n"
                                 "[amqp]\nmax_channels=100\n");

  g_assert_cmpint (ssq_test_server_stop (s), ==, 0);
}

/* The sample configuration installed beside the server holds only keys it
 * knows. */
static void
test_sample_config (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("ssq-sample-XXXXXX", &error);
  const char *args[] = { "--listen", "127.0.0.1:99999", "--data-dir", dir, "--config",
                         g_getenv ("SSQ_SAMPLE_CONFIG"), NULL };
  g_auto(Run) run = { 0 };

  g_assert_nonnull (args[5]);
  /* The port is refused after the file was read: the file was fine. */
  run_server (NULL, args, &run);
  g_assert_cmpint (run.status, ==, 2);
  assert_says (&run, "port 99999 out of range");
  ssq_test_remove_tree (dir);
}

/* Each form of --listen; those that work print where they listen and are
 * stopped. */
static void
test_listen_forms (void)
{
  const struct { const char *listen; const char *url_prefix; const char *error; } cases[] = {
    { "0", "https://0.0.0.0:", NULL },
    { ":0", "https://0.0.0.0:", NULL },
    { "127.0.0.1:0", "https://127.0.0.1:", NULL },
    { "99999", NULL, "Listen address \"99999\": port 99999 out of range 0-65535" },
    { ":70000", NULL, "port 70000 out of range 0-65535" },
    { "127.0.0.1:http", NULL, "port \"http\" is not a number" },
    { "lan.example:80", NULL, "\"lan.example\" is not an IP address" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *dir = g_dir_make_tmp ("ssq-listen-XXXXXX", &error);

      g_test_message ("--listen %s", cases[i].listen);
      if (cases[i].error != NULL)
        {
          const char *args[] = { "--listen", cases[i].listen, "--data-dir", dir, NULL };
          g_auto(Run) run = { 0 };

          run_server (NULL, args, &run);
          g_assert_cmpint (run.status, ==, 2);
          assert_says (&run, cases[i].error);
        }
      else
        {
          const char *args[] = { "--listen", cases[i].listen, "--data-dir", dir, NULL };
          g_autoptr(GSubprocess) p =
            g_subprocess_newv ((const char *[]) { g_getenv ("SSQ_SERVER_BIN"), args[0], args[1],
                                                  args[2], args[3], NULL },
                               G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_SILENCE,
                               &error);
          g_autoptr(GDataInputStream) out = NULL;
          g_autofree char *line = NULL;

          g_assert_no_error (error);
          out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (p));
          line = g_data_input_stream_read_line (out, NULL, NULL, &error);
          g_assert_no_error (error);
          g_assert_nonnull (line);
          g_test_message ("%s", line);
          g_assert_true (g_str_has_prefix (line, "listening on "));
          g_assert_true (g_str_has_prefix (line + strlen ("listening on "), cases[i].url_prefix));
          g_subprocess_send_signal (p, SIGTERM);
          g_assert_true (g_subprocess_wait_check (p, NULL, &error));
          g_assert_no_error (error);
        }
      ssq_test_remove_tree (dir);
    }
}

/* The parent is a file: the path and the reason, not "cannot create". */
static void
test_data_dir_cannot_create (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("ssq-datadir-XXXXXX", &error);
  g_autofree char *file = g_build_filename (dir, "file", NULL);
  g_autofree char *data_dir = g_build_filename (file, "data", NULL);
  g_autofree char *expected = g_strdup_printf ("Cannot create the data directory %s: %s",
                                               data_dir, g_strerror (ENOTDIR));
  const char *args[] = { "--listen", "127.0.0.1:0", "--data-dir", data_dir, NULL };
  g_auto(Run) run = { 0 };

  g_file_set_contents (file, "", 0, &error);
  g_assert_no_error (error);
  run_server (NULL, args, &run);
  g_assert_cmpint (run.status, ==, 1);
  assert_says (&run, expected);
  ssq_test_remove_tree (dir);
}

/* root ignores file modes: the server then runs as nobody, whom they
 * bind. */
static const char * const *
unprivileged (void)
{
  static const char *const setpriv[] = { "setpriv", "--reuid=65534", "--regid=65534",
                                         "--clear-groups", "--", NULL };

  g_autofree char *found = NULL;

  if (geteuid () != 0)
    return NULL;
  found = g_find_program_in_path ("setpriv");
  return found != NULL ? setpriv : (const char * const *) -1;
}

/* A read-only data directory was reported as "in use by another server". */
static void
test_data_dir_not_writable (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("ssq-datadir-XXXXXX", &error);
  g_autofree char *data_dir = g_build_filename (dir, "read-only", NULL);
  g_autofree char *expected = g_strdup_printf ("Data directory %s is not writable: %s",
                                               data_dir, g_strerror (EACCES));
  const char * const *wrapper = unprivileged ();
  const char *args[] = { "--listen", "127.0.0.1:0", "--data-dir", data_dir, NULL };

  if (wrapper == (const char * const *) -1)
    {
      g_test_skip ("Running as root without setpriv: file modes bind nobody here");
      ssq_test_remove_tree (dir);
      return;
    }
  g_assert_cmpint (g_chmod (dir, 0755), ==, 0);
  g_assert_cmpint (g_mkdir (data_dir, 0555), ==, 0);
  {
    g_auto(Run) run = { 0 };

    run_server (wrapper, args, &run);
    g_assert_cmpint (run.status, ==, 1);
    assert_says (&run, expected);
    g_assert_null (strstr (run.err, "in use"));
  }
  /* A lock file left by an earlier run, the directory made read-only
   * since: the lock file opens, the database would not. */
  g_assert_cmpint (g_chmod (data_dir, 0777), ==, 0);
  {
    g_autofree char *lock = g_build_filename (data_dir, "server.lock", NULL);
    g_auto(Run) run = { 0 };

    g_file_set_contents (lock, "", 0, &error);
    g_assert_no_error (error);
    g_assert_cmpint (g_chmod (lock, 0666), ==, 0);
    g_assert_cmpint (g_chmod (data_dir, 0555), ==, 0);
    run_server (wrapper, args, &run);
    g_assert_cmpint (run.status, ==, 1);
    assert_says (&run, expected);
  }
  g_chmod (data_dir, 0700);
  ssq_test_remove_tree (dir);
}

/* "In use" is for a lock another server holds, and names the lock file. */
static void
test_data_dir_in_use (void)
{
  g_autoptr(SsqTestServer) s = ssq_test_server_start (NULL, NULL);
  g_autofree char *lock = g_build_filename (s->data_dir, "server.lock", NULL);
  g_autofree char *expected = g_strdup_printf ("Data directory %s is in use by another server "
                                               "(it holds the lock on %s)", s->data_dir, lock);
  const char *args[] = { "--listen", "127.0.0.1:0", "--data-dir", s->data_dir, NULL };
  g_auto(Run) run = { 0 };

  run_server (NULL, args, &run);
  g_assert_cmpint (run.status, ==, 1);
  assert_says (&run, expected);
}

/* A command after an option was taken for nothing, and the server started
 * on the data directory instead of running the command. Leftover words
 * are refused, named, with the hint that the command comes first; nothing
 * is started or made. */
static void
test_leftover_arguments (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("ssq-leftover-XXXXXX", &error);
  g_autofree char *data_dir = g_build_filename (dir, "data", NULL);
  const char *admin[] = { "--listen", "127.0.0.1:0", "--data-dir", data_dir, "admin", "users",
                          "list", NULL };
  const char *stray[] = { "--listen", "127.0.0.1:0", "--data-dir", data_dir, "stray", NULL };
  g_auto(Run) run = { 0 };
  g_auto(Run) run_stray = { 0 };

  run_server (NULL, admin, &run);
  g_assert_cmpint (run.status, ==, 2);
  g_assert_cmpstr (run.out, ==, "");
  assert_says (&run, "unexpected arguments “admin users list”");
  assert_says (&run, "must come first");
  run_server (NULL, stray, &run_stray);
  g_assert_cmpint (run_stray.status, ==, 2);
  assert_says (&run_stray, "unexpected argument “stray”");
  g_assert_false (g_file_test (data_dir, G_FILE_TEST_EXISTS));
  ssq_test_remove_tree (dir);
}

/* --help names each command, one line each. */
static void
test_help_lists_commands (void)
{
  const char *args[] = { "--help", NULL };
  const char *const commands[] = { "admin", "backup", "restore", "migrate" };
  g_auto(Run) run = { 0 };

  run_server (NULL, args, &run);
  g_assert_cmpint (run.status, ==, 0);
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      g_autofree char *line = g_strdup_printf ("\n  %s ", commands[i]);

      if (strstr (run.out, line) == NULL)
        g_error ("--help does not list %s: %s", commands[i], run.out);
    }
}

/* In German with the build's catalog (SSQ_LOCALEDIR, from the test
 * environment): the help of a command and a start-up error. C.UTF-8 is
 * the one UTF-8 locale every machine has; LANGUAGE picks the catalog. */
static void
test_german (void)
{
  const char *env[] = { "LC_ALL=C.UTF-8", "LANGUAGE=de", NULL };
  const char *help[] = { "admin", "--help", NULL };
  const char *stray[] = { "--data-dir", "/nonexistent/ssq", "admin", NULL };
  g_auto(Run) run = { 0 };
  g_auto(Run) run_stray = { 0 };

  g_assert_nonnull (g_getenv ("SSQ_LOCALEDIR"));
  run_server_env (NULL, env, help, &run);
  g_assert_cmpint (run.status, ==, 0);
  g_assert_nonnull (strstr (run.out, "Verwaltet den laufenden SupersoniQ-Server."));
  g_assert_nonnull (strstr (run.out, "Befehle:\n  users list\n"));
  g_assert_nonnull (strstr (run.out, "Sekunden Wartezeit auf den Server (Vorgabe 60)"));
  run_server_env (NULL, env, stray, &run_stray);
  g_assert_cmpint (run_stray.status, ==, 2);
  assert_says (&run_stray, "unerwartetes Argument „admin“: ein Befehl");
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/server/config/unknown-key", test_unknown_key);
  g_test_add_func ("/server/config/unknown-group", test_unknown_group);
  g_test_add_func ("/server/config/future-groups", test_future_groups);
  g_test_add_func ("/server/config/bad-values", test_bad_values);
  g_test_add_func ("/server/config/retired-and-reserved-keys", test_retired_and_reserved_keys);
  g_test_add_func ("/server/config/listen-forms", test_listen_forms);
  g_test_add_func ("/server/config/sample", test_sample_config);
  g_test_add_func ("/server/data-dir/cannot-create", test_data_dir_cannot_create);
  g_test_add_func ("/server/data-dir/not-writable", test_data_dir_not_writable);
  g_test_add_func ("/server/data-dir/in-use", test_data_dir_in_use);
  g_test_add_func ("/server/cli/leftover-arguments", test_leftover_arguments);
  g_test_add_func ("/server/cli/help-lists-commands", test_help_lists_commands);
  g_test_add_func ("/server/cli/german", test_german);
  return g_test_run ();
}
