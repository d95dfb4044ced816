/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-db.c: SQLite plumbing shared by the server store and the client cache. */
#include <glib/gi18n.h>
#include "ssq-db.h"
#include "ssq-proto.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <unistd.h>

/**
 * ssq_db_fail:
 * Sets @error from the connection's last error: constraint violations are
 * CONFLICT, a full or failing disk and lock timeouts are UNAVAILABLE.
 * Returns: FALSE, to be returned by the caller.
 */
gboolean
ssq_db_fail (SsqDb   *self,
             GError **error)
{
  int code = sqlite3_extended_errcode (self->db);
  int primary = code & 0xff;

  if (primary == SQLITE_CONSTRAINT)
    g_set_error (error, SSQ_ERROR, SSQ_ERROR_CONFLICT, _("Conflict: %s"), sqlite3_errmsg (self->db));
  else if (primary == SQLITE_FULL || primary == SQLITE_IOERR || primary == SQLITE_BUSY)
    g_set_error (error, SSQ_ERROR, SSQ_ERROR_UNAVAILABLE, _("Storage unavailable: %s"),
                 sqlite3_errmsg (self->db));
  else
    g_set_error (error, SSQ_ERROR, SSQ_ERROR_INTERNAL, _("Storage error: %s"),
                 sqlite3_errmsg (self->db));
  return FALSE;
}

/* Statements are cached by the address of their (static) SQL text and come
 * back reset, with no bindings. */
sqlite3_stmt *
ssq_db_stmt (SsqDb       *self,
             const char  *static_sql,
             GError     **error)
{
  sqlite3_stmt *stmt = g_hash_table_lookup (self->statements, static_sql);

  if (stmt != NULL)
    {
      sqlite3_reset (stmt);
      sqlite3_clear_bindings (stmt);
      return stmt;
    }
  if (sqlite3_prepare_v3 (self->db, static_sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL) != SQLITE_OK)
    {
      ssq_db_fail (self, error);
      return NULL;
    }
  g_hash_table_insert (self->statements, (gpointer) static_sql, stmt);
  return stmt;
}

gboolean
ssq_db_step_done (SsqDb         *self,
                  sqlite3_stmt  *stmt,
                  GError       **error)
{
  int rc = sqlite3_step (stmt);

  if (rc != SQLITE_DONE && rc != SQLITE_ROW)
    {
      ssq_db_fail (self, error);
      sqlite3_reset (stmt);
      return FALSE;
    }
  sqlite3_reset (stmt);
  return TRUE;
}

char *
ssq_db_column_dup (sqlite3_stmt *stmt,
                   int           column)
{
  const unsigned char *text = sqlite3_column_text (stmt, column);

  return text ? g_strdup ((const char *) text) : NULL;
}

void
ssq_db_bind_text (sqlite3_stmt *stmt,
                  int           index,
                  const char   *text)
{
  if (text == NULL)
    sqlite3_bind_null (stmt, index);
  else
    sqlite3_bind_text (stmt, index, text, -1, SQLITE_TRANSIENT);
}

gboolean
ssq_db_exec (SsqDb       *self,
             const char  *sql,
             GError     **error)
{
  if (sqlite3_exec (self->db, sql, NULL, NULL, NULL) != SQLITE_OK)
    return ssq_db_fail (self, error);
  return TRUE;
}

/* Like ssq_db_exec for one statement with static text, prepared once: for
 * statements run often, such as savepoints. */
gboolean
ssq_db_run (SsqDb       *self,
            const char  *static_sql,
            GError     **error)
{
  sqlite3_stmt *stmt = ssq_db_stmt (self, static_sql, error);

  return stmt != NULL && ssq_db_step_done (self, stmt, error);
}

gboolean
ssq_db_begin (SsqDb   *self,
              GError **error)
{
  return ssq_db_exec (self, "BEGIN IMMEDIATE", error);
}

gboolean
ssq_db_commit (SsqDb   *self,
               GError **error)
{
  if (!ssq_db_exec (self, "COMMIT", error))
    {
      ssq_db_rollback (self);
      return FALSE;
    }
  return TRUE;
}

void
ssq_db_rollback (SsqDb *self)
{
  if (self->db != NULL && !sqlite3_get_autocommit (self->db))
    sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
}

int
ssq_db_get_version (SsqDb *self)
{
  sqlite3_stmt *stmt = NULL;
  int version = -1;

  if (sqlite3_prepare_v2 (self->db, "PRAGMA user_version", -1, &stmt, NULL) == SQLITE_OK &&
      sqlite3_step (stmt) == SQLITE_ROW)
    version = sqlite3_column_int (stmt, 0);
  sqlite3_finalize (stmt);
  return version;
}

/* One step in its own transaction: @sql, then user_version = @to. */
static gboolean
migrate_step (SsqDb       *self,
              const char  *sql,
              int          to,
              GError     **error)
{
  g_autofree char *bump = g_strdup_printf ("PRAGMA user_version = %d", to);

  if (!ssq_db_begin (self, error))
    return FALSE;
  if (!ssq_db_exec (self, sql, error) || !ssq_db_exec (self, bump, error))
    {
      g_prefix_error (error, _("Migration to schema %d failed: "), to);
      ssq_db_rollback (self);
      return FALSE;
    }
  return ssq_db_commit (self, error);
}

/**
 * ssq_db_migrate:
 * Brings the database from its user_version to @target: up through each
 * step's `up`, or down through each step's `down` when @target is older.
 * Each step runs in its own transaction and moves user_version by one, so
 * a failure leaves the database at the last version reached. A database
 * newer than @n_migrations is refused rather than touched.
 */
gboolean
ssq_db_migrate (SsqDb                *self,
                const SsqDbMigration *migrations,
                int                   n_migrations,
                int                   target,
                GError              **error)
{
  int version = ssq_db_get_version (self);

  g_return_val_if_fail (target >= 0 && target <= n_migrations, FALSE);

  if (version < 0)
    return ssq_db_fail (self, error);
  if (version > n_migrations)
    {
      g_set_error (error, SSQ_ERROR, SSQ_ERROR_INTERNAL,
                   _("The database has schema version %d; this program knows up to %d. "
                   "Refusing to touch data written by a newer version."),
                   version, n_migrations);
      return FALSE;
    }
  for (; version < target; version++)
    if (!migrate_step (self, migrations[version].up, version + 1, error))
      return FALSE;
  for (; version > target; version--)
    if (!migrate_step (self, migrations[version - 1].down, version - 1, error))
      return FALSE;
  return TRUE;
}

static void
finalize_stmt (gpointer stmt)
{
  sqlite3_finalize (stmt);
}

static gboolean
mode_error (const char  *path,
            int          errsv,
            GError     **error)
{
  g_set_error (error, SSQ_ERROR, SSQ_ERROR_INTERNAL, _("Cannot make %s private: %s"), path,
               g_strerror (errsv));
  return FALSE;
}

/* SQLite creates a database file with the umask's mode (0644, usually), and
 * its -wal and -shm files with the database file's mode. So the database is
 * created here, 0600, and the others follow; files made by an older version
 * are tightened too. Messages and session hashes are for their owner only,
 * whatever the directory's mode. */
static gboolean
make_private (const char  *path,
              GError     **error)
{
  static const char *const companions[] = { "-wal", "-shm", "-journal" };
  int fd = g_open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

  if (fd < 0)
    return mode_error (path, errno, error);
  if (fchmod (fd, 0600) != 0)
    {
      int errsv = errno;

      close (fd);
      return mode_error (path, errsv, error);
    }
  close (fd);
  for (guint i = 0; i < G_N_ELEMENTS (companions); i++)
    {
      g_autofree char *other = g_strconcat (path, companions[i], NULL);

      if (g_chmod (other, 0600) != 0 && errno != ENOENT)
        return mode_error (other, errno, error);
    }
  return TRUE;
}

/**
 * ssq_db_open:
 * Opens (creating if needed) the database at @path in WAL mode, its files
 * readable and writable by their owner only (0600). With
 * @durable every commit is fsynced (synchronous=FULL); without, a commit
 * survives a crash of the program but not of the machine (NORMAL).
 */
gboolean
ssq_db_open (SsqDb       *self,
             const char  *path,
             gboolean     durable,
             GError     **error)
{
  return make_private (path, error) && ssq_db_open_another (self, path, durable, error);
}

/**
 * ssq_db_open_another:
 * Like ssq_db_open, for a further connection to a database this process
 * already has open. Its files are not touched: closing any descriptor of
 * the file would drop the process's POSIX locks on it, those of the open
 * connection included, and let another process reset the WAL under it.
 */
gboolean
ssq_db_open_another (SsqDb       *self,
                     const char  *path,
                     gboolean     durable,
                     GError     **error)
{
  int rc;

  self->statements = g_hash_table_new_full (NULL, NULL, NULL, finalize_stmt);
  rc = sqlite3_open_v2 (path, &self->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, self->vfs);
  if (rc != SQLITE_OK)
    {
      g_set_error (error, SSQ_ERROR, SSQ_ERROR_INTERNAL, _("Cannot open %s: %s"), path,
                   self->db ? sqlite3_errmsg (self->db) : sqlite3_errstr (rc));
      return FALSE;
    }
  sqlite3_extended_result_codes (self->db, 1);
  /* The busy timeout first: the journal_mode pragma already reads the
   * file, and another process may hold it a moment (the last connection
   * to close checkpoints under an exclusive lock: a terminal client
   * restarted at once found its cache "locked" and quit). */
  sqlite3_busy_timeout (self->db, SSQ_DB_BUSY_TIMEOUT_MS);
  return ssq_db_exec (self, "PRAGMA journal_mode = WAL", error) &&
         ssq_db_exec (self, durable ? "PRAGMA synchronous = FULL"
                                    : "PRAGMA synchronous = NORMAL", error) &&
         ssq_db_exec (self, "PRAGMA foreign_keys = ON", error);
}

void
ssq_db_close (SsqDb *self)
{
  g_clear_pointer (&self->statements, g_hash_table_destroy);
  if (self->db != NULL)
    {
      ssq_db_rollback (self);
      sqlite3_close (self->db);
      self->db = NULL;
    }
}

/* The schema as SQLite reports it, one statement a line, sorted by type and
 * name: golden migration tests compare this text. */
char *
ssq_db_dump_schema (SsqDb *self)
{
  g_autoptr(GString) out = g_string_new (NULL);
  sqlite3_stmt *stmt = NULL;

  g_string_append_printf (out, "-- user_version %d\n", ssq_db_get_version (self));
  if (sqlite3_prepare_v2 (self->db,
                          "SELECT sql FROM sqlite_schema WHERE sql IS NOT NULL "
                          "ORDER BY type, name", -1, &stmt, NULL) != SQLITE_OK)
    return NULL;
  while (sqlite3_step (stmt) == SQLITE_ROW)
    g_string_append_printf (out, "%s;\n", sqlite3_column_text (stmt, 0));
  sqlite3_finalize (stmt);
  return g_string_free (g_steal_pointer (&out), FALSE);
}
