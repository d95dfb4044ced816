/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-test-tmux.c: the real supersoniq-tui in tmux for tests: each
 * terminal its own tmux server (tmux -L) and home; send-keys to type,
 * capture-pane to read. */
#include "ssq-test-tmux.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ssq-test-server.h"

/* A failed assertion aborts the test: take the tmux servers (and the
 * programs in them) along rather than leave them running. */
static char *live_sockets[8];

static void
kill_live_servers (int sig)
{
  for (guint i = 0; i < G_N_ELEMENTS (live_sockets); i++)
    if (live_sockets[i] != NULL)
      {
        char command[160];

        g_snprintf (command, sizeof command, "tmux -L %s kill-server 2>/dev/null", live_sockets[i]);
        if (system (command) != 0)
          continue;
      }
  signal (sig, SIG_DFL);
  raise (sig);
}

static void
track (const char *socket,
       gboolean    live)
{
  static gboolean handler_set;

  if (!handler_set)
    {
      signal (SIGABRT, kill_live_servers);
      handler_set = TRUE;
    }
  for (guint i = 0; i < G_N_ELEMENTS (live_sockets); i++)
    if (live ? live_sockets[i] == NULL : g_strcmp0 (live_sockets[i], socket) == 0)
      {
        g_free (live_sockets[i]);
        live_sockets[i] = live ? g_strdup (socket) : NULL;
        return;
      }
}

/**
 * ssq_test_have_tmux:
 *
 * Returns: whether tmux is installed; if not, the test is marked skipped
 * with the reason.
 */
gboolean
ssq_test_have_tmux (void)
{
  g_autofree char *path = g_find_program_in_path ("tmux");

  if (path == NULL)
    g_test_skip ("tmux is not installed (apt-get install tmux)");
  return path != NULL;
}

void
ssq_test_tmux (SsqTestTerm *term,
               const char  *first,
               ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  int status = 0;
  va_list ap;

  g_ptr_array_add (argv, (gpointer) "tmux");
  g_ptr_array_add (argv, (gpointer) "-L");
  g_ptr_array_add (argv, term->socket);
  va_start (ap, first);
  for (const char *arg = first; arg != NULL; arg = va_arg (ap, const char *))
    g_ptr_array_add (argv, (gpointer) arg);
  va_end (ap);
  g_ptr_array_add (argv, NULL);
  g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL,
                NULL, NULL, NULL, NULL, &status, &error);
  g_assert_no_error (error);
}

/* The command that runs the program with @args, with HOME, its settings
 * and its data in @term->home, whatever the caller's desktop. The pane
 * outlives the program, so that what it said last stays readable: not by
 * tmux's remain-on-exit, which (3.3a) loses the first line of a program
 * that ends at once. */
static char *
command_for (SsqTestTerm *term,
             const char  *args)
{
  g_autofree char *redirect = term->errors_on_screen ? g_strdup ("")
                                                     : g_strdup_printf ("2>>%s/stderr", term->home);

  return g_strdup_printf ("env -u DISPLAY -u WAYLAND_DISPLAY HOME=%s XDG_CONFIG_HOME=%s XDG_DATA_HOME=%s "
                          "LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=tmux-256color %s %s %s; sleep 600",
                          term->home, term->home, term->home, g_getenv ("SSQ_TUI_BIN"), args, redirect);
}

SsqTestTerm *
ssq_test_term_start (const char *name,
                     const char *args,
                     guint       width,
                     guint       height,
                     gboolean    errors_on_screen)
{
  SsqTestTerm *term = g_new0 (SsqTestTerm, 1);
  g_autoptr(GError) error = NULL;
  g_autofree char *command = NULL;
  g_autofree char *x = g_strdup_printf ("%u", width);
  g_autofree char *y = g_strdup_printf ("%u", height);

  /* tmux's sockets are files in one directory, seen from every PID
   * namespace (netns-run.sh), where pids repeat. */
  term->socket = g_strdup_printf ("ssq-test-%d-%08x-%s", (int) getpid (), g_random_int (), name);
  term->home = g_dir_make_tmp ("ssq-tui-XXXXXX", &error);
  g_assert_no_error (error);
  term->width = width;
  term->height = height;
  term->errors_on_screen = errors_on_screen;
  command = command_for (term, args);
  ssq_test_tmux (term, "-f", "/dev/null", "new-session", "-d", "-x", x, "-y", y, command, NULL);
  track (term->socket, TRUE);
  return term;
}

void
ssq_test_term_restart (SsqTestTerm *term,
                       const char  *args)
{
  g_autofree char *command = command_for (term, args);

  ssq_test_tmux (term, "respawn-pane", "-k", command, NULL);
}

void
ssq_test_term_free (SsqTestTerm *term)
{
  ssq_test_tmux (term, "kill-server", NULL);
  track (term->socket, FALSE);
  ssq_test_remove_tree (term->home);
  g_free (term->home);
  g_free (term->socket);
  g_free (term);
}

char *
ssq_test_term_screen_full (SsqTestTerm *term,
                           gboolean     colours)
{
  g_autoptr(GError) error = NULL;
  char *out = NULL;
  const char *argv[] = { "tmux", "-L", term->socket, "capture-pane", "-p", colours ? "-e" : NULL, NULL };

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
                NULL, NULL, &out, NULL, NULL, &error);
  g_assert_no_error (error);
  return out;
}

char *
ssq_test_term_screen (SsqTestTerm *term)
{
  return ssq_test_term_screen_full (term, FALSE);
}

gboolean
ssq_test_term_wait_full (SsqTestTerm *term,
                         const char  *needle,
                         gboolean     present,
                         guint        timeout_ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  for (;;)
    {
      g_autofree char *text = ssq_test_term_screen (term);

      if ((strstr (text, needle) != NULL) == present)
        return TRUE;
      if (g_get_monotonic_time () > end)
        {
          g_test_message ("screen of %s %s \"%s\":\n%s", term->socket, present ? "without" : "still with",
                          needle, text);
          return FALSE;
        }
      g_usleep (SSQ_TEST_TERM_POLL_MS * 1000);
    }
}

void
ssq_test_term_wait_changed (SsqTestTerm *term,
                            const char  *before,
                            guint        timeout_ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  while (g_get_monotonic_time () < end)
    {
      g_autofree char *text = ssq_test_term_screen (term);

      if (g_strcmp0 (text, before) != 0)
        return;
      g_usleep (SSQ_TEST_TERM_POLL_MS * 1000);
    }
}

char *
ssq_test_term_stderr (SsqTestTerm *term)
{
  g_autofree char *path = g_build_filename (term->home, "stderr", NULL);
  char *text = NULL;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return g_strdup ("");
  return text;
}

void
ssq_test_term_type (SsqTestTerm *term,
                    const char  *text)
{
  ssq_test_tmux (term, "send-keys", "-l", text, NULL);
}

void
ssq_test_term_key (SsqTestTerm *term,
                   const char  *name)
{
  ssq_test_tmux (term, "send-keys", name, NULL);
}
