/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-test-cli-user.c: see the header. */
#include "ssq-test-cli-user.h"

#include <gio/gio.h>
#include <unistd.h>

CliUser *
cli_user_new (void)
{
  CliUser *user = g_new0 (CliUser, 1);
  g_autoptr(GError) error = NULL;

  user->home = g_dir_make_tmp ("ssq-cli-XXXXXX", &error);
  g_assert_no_error (error);
  user->password_file = g_build_filename (user->home, "password", NULL);
  g_file_set_contents (user->password_file, "password123\n", -1, &error);
  g_assert_no_error (error);
  return user;
}

void
cli_user_free (CliUser *user)
{
  ssq_test_remove_tree (user->home);
  g_free (user->home);
  g_free (user->password_file);
  g_free (user);
}

/* supersoniq-cli's environment as @user: their XDG directories, their
 * home as the working directory, the C locale. */
GSubprocessLauncher *
cli_user_launcher (CliUser *user)
{
  GSubprocessLauncher *launcher =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autofree char *config = g_build_filename (user->home, "config", NULL);
  g_autofree char *data = g_build_filename (user->home, "data", NULL);
  g_autofree char *cache = g_build_filename (user->home, "cache", NULL);

  g_subprocess_launcher_setenv (launcher, "XDG_CONFIG_HOME", config, TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_DATA_HOME", data, TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_CACHE_HOME", cache, TRUE);
  /* Downloads land here unless told otherwise. */
  g_subprocess_launcher_set_cwd (launcher, user->home);
  g_subprocess_launcher_setenv (launcher, "LC_ALL", "C", TRUE);
  return launcher;
}

/* Without a controlling terminal, as under cron or a CI runner. */
static void
detach_from_terminal (gpointer data)
{
  setsid ();
}

/* Runs supersoniq-cli with @ap; returns its exit code and what it printed
 * in @out_stdout and @out_stderr. @stdin_text, when set, is its input and
 * it runs without a terminal. */
int
run_cli_va (CliUser     *user,
            const char  *stdin_text,
            char       **out_stdout,
            char       **out_stderr,
            const char  *first,
            va_list      ap)
{
  g_autoptr(GSubprocessLauncher) launcher = cli_user_launcher (user);
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL, *err = NULL;

  g_ptr_array_add (argv, (gpointer) g_getenv ("SSQ_CLI_BIN"));
  for (const char *arg = first; arg != NULL; arg = va_arg (ap, const char *))
    g_ptr_array_add (argv, (gpointer) arg);
  g_ptr_array_add (argv, NULL);
  if (stdin_text != NULL)
    {
      g_subprocess_launcher_set_flags (launcher, G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                                 G_SUBPROCESS_FLAGS_STDERR_PIPE);
      g_subprocess_launcher_set_child_setup (launcher, detach_from_terminal, NULL, NULL);
    }
  process = g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, stdin_text, NULL, &out, &err, &error);
  g_assert_no_error (error);
  if (err != NULL && *err != '\0')
    g_test_message ("stderr: %s", err);
  if (out_stdout != NULL)
    *out_stdout = g_steal_pointer (&out);
  if (out_stderr != NULL)
    *out_stderr = g_steal_pointer (&err);
  g_assert_true (g_subprocess_get_if_exited (process));
  return g_subprocess_get_exit_status (process);
}

/* Runs supersoniq-cli with @args (NULL-terminated); returns its exit code
 * and, in @out_stdout, what it printed. */
int
run_cli (CliUser     *user,
         char       **out_stdout,
         const char  *first,
         ...)
{
  va_list ap;
  int code;

  va_start (ap, first);
  code = run_cli_va (user, NULL, out_stdout, NULL, first, ap);
  va_end (ap);
  return code;
}

/* The same, with standard error too. */
int
run_cli_err (CliUser     *user,
             char       **out_stdout,
             char       **out_stderr,
             const char  *first,
             ...)
{
  va_list ap;
  int code;

  va_start (ap, first);
  code = run_cli_va (user, NULL, out_stdout, out_stderr, first, ap);
  va_end (ap);
  return code;
}

/* The same, fed @stdin_text and without a terminal. */
int
run_cli_piped (CliUser     *user,
               const char  *stdin_text,
               char       **out_stderr,
               const char  *first,
               ...)
{
  va_list ap;
  int code;

  va_start (ap, first);
  code = run_cli_va (user, stdin_text, NULL, out_stderr, first, ap);
  va_end (ap);
  return code;
}

JsonNode *
cli_parse_json (const char *text)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  json_parser_load_from_data (parser, text, -1, &error);
  g_assert_no_error (error);
  return json_node_copy (json_parser_get_root (parser));
}

void
cli_register_user (SsqTestServer *server,
               CliUser       *user,
               const char    *name)
{
  g_autofree char *out = NULL;
  g_autoptr(JsonNode) node = NULL;

  g_assert_cmpint (run_cli (user, &out, "--server", server->url, "--password-file",
                            user->password_file, "--json", "register", name, NULL), ==, 0);
  node = cli_parse_json (out);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (node), "username"), ==, name);
}
