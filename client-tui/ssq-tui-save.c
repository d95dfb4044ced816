/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-tui-save.c: copies a downloaded file into a folder without
 * overwriting anything: "photo.jpg", else "photo (1).jpg", "photo (2).jpg"
 * … each tried with G_FILE_COPY_NONE, which refuses a name that is taken
 * (and so never races another program into overwriting it). The copies
 * run on GIO's worker threads (g_file_copy_async). */
#include <glib/gi18n.h>
#include "ssq-tui-save.h"

#include <string.h>

/* Names tried before giving up. */
#define SAVE_NAMES_MAX 1000

typedef struct {
  GFile *source;
  char  *dir;
  char  *name;
  int    n;          /* the name being tried */
  GFile *target;
} Save;

static void
save_free (Save *save)
{
  g_object_unref (save->source);
  g_free (save->dir);
  g_free (save->name);
  g_clear_object (&save->target);
  g_free (save);
}

/**
 * ssq_tui_save_name:
 * @server_name: (nullable): a media's name as the server gave it
 *
 * Returns: a name fit for a file here: no folders, no dot file
 *   ("attachment" when nothing is left of it)
 */
char *
ssq_tui_save_name (const char *server_name)
{
  g_autofree char *base = g_path_get_basename (server_name ? server_name : "");

  g_strdelimit (base, "/\\", '_');
  if (base[0] == '\0' || base[0] == '.')
    {
      g_autofree char *dotted = g_steal_pointer (&base);

      return g_strconcat ("attachment", dotted[0] == '.' && dotted[1] != '\0' ? dotted : "", NULL);
    }
  return g_steal_pointer (&base);
}

/* "photo.jpg", else "photo (1).jpg", "photo (2).jpg" … */
static GFile *
nth_target (const char *dir,
            const char *name,
            int         n)
{
  const char *dot = strrchr (name, '.');
  g_autofree char *stem = dot && dot != name ? g_strndup (name, dot - name) : g_strdup (name);
  g_autofree char *numbered = n == 0 ? g_strdup (name)
                              : g_strdup_printf ("%s (%d)%s", stem, n, dot && dot != name ? dot : "");
  g_autofree char *path = g_build_filename (dir, numbered, NULL);

  return g_file_new_for_path (path);
}

static void try_next (GTask *task);

static void
copied_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Save *save = g_task_get_task_data (task);
  GError *error = NULL;

  if (g_file_copy_finish (G_FILE (source), result, &error))
    {
      g_task_return_pointer (task, g_file_get_path (save->target), g_free);
      return;
    }
  if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_EXISTS))
    {
      g_task_return_error (task, error);
      return;
    }
  g_error_free (error);
  save->n++;
  try_next (g_steal_pointer (&task));
}

/* Takes @task's reference. */
static void
try_next (GTask *task)
{
  Save *save = g_task_get_task_data (task);

  if (save->n >= SAVE_NAMES_MAX)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_EXISTS, _("Too many files named like %s"),
                               save->name);
      g_object_unref (task);
      return;
    }
  g_clear_object (&save->target);
  save->target = nth_target (save->dir, save->name, save->n);
  g_file_copy_async (save->source, save->target, G_FILE_COPY_NONE, G_PRIORITY_DEFAULT,
                     g_task_get_cancellable (task), NULL, NULL, copied_cb, task);
}

/**
 * ssq_tui_save_copy_async:
 * @source: the downloaded file
 * @dir: the folder to copy it into
 * @name: the name it should have there (see ssq_tui_save_name()); the
 *   first free one of @name, "@name (1)", "@name (2)" … is taken
 *
 * Copies @source into @dir without overwriting anything. The result is the
 * path written (ssq_tui_save_copy_finish()).
 */
void
ssq_tui_save_copy_async (GFile               *source,
                         const char          *dir,
                         const char          *name,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  GTask *task;
  Save *save;

  g_return_if_fail (G_IS_FILE (source) && dir != NULL && name != NULL && name[0] != '\0');

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, ssq_tui_save_copy_async);
  save = g_new0 (Save, 1);
  save->source = g_object_ref (source);
  save->dir = g_strdup (dir);
  save->name = g_strdup (name);
  g_task_set_task_data (task, save, (GDestroyNotify) save_free);
  try_next (task);
}

/**
 * ssq_tui_save_copy_finish:
 * Returns: (transfer full): the path of the copy, or NULL with @error
 */
char *
ssq_tui_save_copy_finish (GAsyncResult  *result,
                          GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
