/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-test-tmp.c: temporary directories of the tests. Each run of the
 * suite left dozens of them in /tmp (a database, a cache) until these were
 * removed at exit. */
#include "ssq-test-tmp.h"

#include <glib/gstdio.h>
#include <unistd.h>

void
ssq_test_remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        ssq_test_remove_tree (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

typedef struct {
  char  *path;
  pid_t  owner;
} TempDir;

/* A forked child (g_test_trap_subprocess) inherits the list: only the
 * process that made a directory removes it. */
static void
temp_dir_free (gpointer data)
{
  TempDir *t = data;

  if (t->owner == getpid ())
    ssq_test_remove_tree (t->path);
  g_free (t->path);
  g_free (t);
}

static GPtrArray *at_exit;

static void
remove_at_exit (void)
{
  g_clear_pointer (&at_exit, g_ptr_array_unref);
}

/**
 * ssq_test_temp_dir:
 * Makes a fresh directory under the temporary one, named after @tmpl (as
 * g_dir_make_tmp), and removes it with all it holds when the process
 * exits: not at the end of the test case, since GLib runs that before a
 * fixture's teardown, which may still have files open there. A test that
 * fails keeps it: an assertion aborts before exit handlers run.
 * Returns: its path.
 */
char *
ssq_test_temp_dir (const char *tmpl)
{
  g_autoptr(GError) error = NULL;
  TempDir *t = g_new0 (TempDir, 1);

  t->path = g_dir_make_tmp (tmpl, &error);
  g_assert_no_error (error);
  t->owner = getpid ();
  if (at_exit == NULL)
    {
      at_exit = g_ptr_array_new_with_free_func (temp_dir_free);
      atexit (remove_at_exit);
    }
  g_ptr_array_add (at_exit, t);
  return g_strdup (t->path);
}
