/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-backup-cli.c: `supersoniq-server backup`, `restore` and
 * `migrate`: options, the data directory from --data-dir or the config
 * file, and what is printed. The work is in ssq-server-backup.c and
 * ssq-server-restore.c. */
#include "ssq-server-backup-cli.h"
#include "ssq-server-backup-private.h"
#include "ssq-server-config.h"
#include "ssq-server-store.h"
#include "ssq-config.h"

#include <gio/gio.h>
#include <glib/gi18n.h>
#include <unistd.h>

typedef struct {
  char *config_file;
  char *data_dir;
} Common;

static void
common_clear (Common *c)
{
  g_free (c->config_file);
  g_free (c->data_dir);
}

#define COMMON_ENTRIES(c) \
  { "config", 'c', 0, G_OPTION_ARG_FILENAME, &(c)->config_file, N_("Read data_dir from this key file"), N_("FILE") }, \
  { "data-dir", 'd', 0, G_OPTION_ARG_FILENAME, &(c)->data_dir, N_("The server's data directory (default: the config's, or $XDG_DATA_HOME/supersoniq)"), N_("DIR") }

static int
usage (GOptionContext *context,
       const char     *message)
{
  g_autofree char *help = g_option_context_get_help (context, TRUE, NULL);

  g_printerr ("supersoniq-server: %s\n\n%s", message, help);
  return 2;
}

/* Parses the command line with @entries, @summary shown by --help. */
static gboolean
parse (GOptionContext      *context,
       const char          *summary,
       const GOptionEntry  *entries,
       int                 *argc,
       char              ***argv,
       int                 *out_code)
{
  g_autoptr(GError) error = NULL;

  g_option_context_set_summary (context, summary);
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, argc, argv, &error))
    {
      *out_code = usage (context, error->message);
      return FALSE;
    }
  return TRUE;
}

/* --data-dir, else the config file's data_dir, else the default. */
static char *
resolve_data_dir (Common  *c,
                  GError **error)
{
  g_autoptr(SsqServerConfig) config = ssq_server_config_new ();

  if (c->data_dir != NULL)
    return g_strdup (c->data_dir);
  if (c->config_file != NULL && !ssq_server_config_load_file (config, c->config_file, error))
    {
      g_prefix_error (error, "%s: ", c->config_file);
      return NULL;
    }
  return g_strdup (config->data_dir);
}

/* As resolve_data_dir (), the error printed with exit code 2. */
static char *
resolve_data_dir_or_usage (Common *c,
                           int    *out_code)
{
  g_autoptr(GError) error = NULL;
  char *data_dir = resolve_data_dir (c, &error);

  if (data_dir == NULL)
    {
      g_printerr ("supersoniq-server: %s\n", error->message);
      *out_code = 2;
    }
  return data_dir;
}

static void
print_summary (const SsqServerBackupSummary *s,
               const char                   *dest)
{
  /* Translators: the counts are numbers; the bytes are exact, for
   * comparing with du --bytes. */
  g_print (_("Backed up schema %d: %llu users, %llu conversations, %llu messages, "
             "%llu media files (%llu bytes) to %s\n"),
           s->schema_version, (unsigned long long) s->users,
           (unsigned long long) s->conversations, (unsigned long long) s->messages,
           (unsigned long long) s->media_files, (unsigned long long) s->media_bytes, dest);
  if (s->rounds > 1)
    g_print (_("Files were deleted while it ran: %u snapshots taken\n"), s->rounds);
}

int
ssq_server_backup_cli (int    argc,
                       char **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new (_("DEST | --into DIR [--keep N]"));
  g_autoptr(GError) error = NULL;
  g_autofree char *data_dir = NULL;
  g_autofree char *into = NULL;
  g_autofree char *made = NULL;
  SsqServerBackupSummary summary = { 0 };
  Common c = { NULL };
  int keep = 0, code = 0;
  gboolean ok;
  GOptionEntry entries[] = {
    COMMON_ENTRIES (&c),
    { "into", 'i', 0, G_OPTION_ARG_FILENAME, &into, N_("Back up into a new directory under DIR, named by the time (UTC)"), N_("DIR") },
    { "keep", 'k', 0, G_OPTION_ARG_INT, &keep, N_("With --into: then keep only the N newest backups there"), N_("N") },
    { NULL }
  };

  if (!parse (context,
              _("A consistent copy of the database and of the media files it names, taken while\n"
                "the server runs (or not). DEST must not exist or be empty."),
              entries, &argc, &argv, &code))
    goto out;
  if ((into == NULL) == (argc != 2) || argc > 2)
    code = usage (context, _("give either DEST or --into DIR"));
  else if (keep < 0 || (keep > 0 && into == NULL))
    code = usage (context, _("--keep N needs --into DIR and N >= 1"));
  if (code != 0)
    goto out;
  data_dir = resolve_data_dir_or_usage (&c, &code);
  if (data_dir == NULL)
    goto out;
  if (into != NULL)
    ok = ssq_server_backup_into (data_dir, into, keep, &summary, &made, &error);
  else
    ok = ssq_server_backup_run (data_dir, argv[1], FALSE, &summary, &error);
  if (ok || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT))
    print_summary (&summary, made ? made : argv[1]);
  if (!ok)
    {
      g_printerr (_("supersoniq-server: backup failed: %s\n"), error->message);
      code = 1;
    }
out:
  ssq_server_backup_summary_clear (&summary);
  common_clear (&c);
  return code;
}

int
ssq_server_restore_cli (int    argc,
                        char **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new (_("SRC"));
  g_autoptr(GError) error = NULL;
  g_autofree char *data_dir = NULL;
  Common c = { NULL };
  gboolean skip_damaged = FALSE;
  guint left_out = 0;
  int code = 0;
  GOptionEntry entries[] = {
    COMMON_ENTRIES (&c),
    { "skip-damaged-media", 0, 0, G_OPTION_ARG_NONE, &skip_damaged, N_("Leave out media files that fail their check (or are missing) instead of refusing the backup"), NULL },
    { NULL }
  };

  if (!parse (context,
              _("Restores the backup SRC (made by `supersoniq-server backup`) into a data\n"
                "directory that does not exist or is empty, after checking it whole."),
              entries, &argc, &argv, &code))
    goto out;
  if (argc != 2)
    {
      code = usage (context, _("give the backup directory SRC"));
      goto out;
    }
  data_dir = resolve_data_dir (&c, &error);
  if (data_dir == NULL ||
      !ssq_server_backup_restore (argv[1], data_dir, skip_damaged, &left_out, &error))
    {
      g_printerr (_("supersoniq-server: restore failed: %s\n"), error->message);
      /* A target that is in use or not empty is the operator's choice to
       * fix; anything else is the backup's or the disk's. */
      code = data_dir == NULL || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_EMPTY) ||
             g_error_matches (error, G_IO_ERROR, G_IO_ERROR_EXISTS) ? 2 : 1;
      goto out;
    }
  g_print (_("Restored %s into %s\n"), argv[1], data_dir);
  if (left_out > 0)
    g_print (ngettext ("%u damaged or missing media file left out: its downloads will fail\n",
                       "%u damaged or missing media files left out: their downloads will fail\n",
                       left_out), left_out);
out:
  common_clear (&c);
  return code;
}

static int
migrate (const char *data_dir,
         int         target)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *db_path = g_build_filename (data_dir, SSQ_BACKUP_DB_NAME, NULL);
  SsqServerStore *store;
  int lock_fd, version, code = 1;

  /* The server holds this lock while it runs: its connections and caches
   * assume the schema they opened. */
  lock_fd = ssq_backup_lock (data_dir, "server.lock", _("a running server"), &error);
  if (lock_fd < 0)
    {
      g_printerr ("supersoniq-server: %s\n", error->message);
      return 1;
    }
  version = ssq_server_backup_db_version (data_dir, &error);
  if (version == 0 && error == NULL)
    g_set_error (&error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, _("No database in %s"), data_dir);
  if (version <= 0)
    goto fail;
  if (version == target)
    {
      g_print (_("%s is at schema %d already\n"), db_path, version);
      code = 0;
      goto out;
    }
  if (!ssq_server_backup_before_migrate (data_dir, target, &error))
    goto fail;
  store = ssq_server_store_open_at_version (db_path, target, &error);
  if (store == NULL)
    goto fail;
  ssq_server_store_close (store);
  g_print (_("%s: schema %d -> %d\n"), db_path, version, target);
  if (target < version)
    g_print (_("Steps down drop what only the newer schema held (README, Upgrades); "
               "the backup under %s/backups keeps it.\n"), data_dir);
  code = 0;
  goto out;
fail:
  g_printerr (_("supersoniq-server: migrate failed: %s\n"), error->message);
out:
  close (lock_fd);
  return code;
}

int
ssq_server_migrate_cli (int    argc,
                        char **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new (_("--to N"));
  g_autofree char *data_dir = NULL;
  g_autofree char *range = g_strdup_printf (_("--to N takes a schema version from 1 to %d"),
                                            SSQ_STORE_SCHEMA_VERSION);
  Common c = { NULL };
  int target = -1, code = 0;
  GOptionEntry entries[] = {
    COMMON_ENTRIES (&c),
    { "to", 't', 0, G_OPTION_ARG_INT, &target, N_("The schema version to go to, up or down"), N_("N") },
    { NULL }
  };

  if (!parse (context,
              _("Moves the database's schema up or down to version N, with the server stopped,\n"
                "after a backup into DATA_DIR/backups/pre-migrate-vOLD-DATE."),
              entries, &argc, &argv, &code))
    goto out;
  if (argc != 1 || target < 1 || target > SSQ_STORE_SCHEMA_VERSION)
    {
      code = usage (context, range);
      goto out;
    }
  data_dir = resolve_data_dir_or_usage (&c, &code);
  if (data_dir == NULL)
    goto out;
  code = migrate (data_dir, target);
out:
  common_clear (&c);
  return code;
}
