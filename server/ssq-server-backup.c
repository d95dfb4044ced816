/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-backup.c: a backup of a data directory while the server runs.
 *
 * The database: a connection of its own opens a read transaction and copies
 * every page with one sqlite3_backup_step (-1). In WAL mode a read
 * transaction sees one commit and nothing after it, whatever the server's
 * writer does meanwhile, and the one step copies all pages under it; the
 * media files the snapshot names are read in the same transaction, so they
 * are those of the same commit.
 *
 * The media files: copied after the snapshot, each hashed as it is copied
 * and checked against its name. The server removes a file only after the
 * commit that removed the last row naming it, and never rewrites one in
 * place (files enter and leave the store by rename). So a file named by
 * the snapshot and gone at copy time was dropped by a later commit: a new
 * snapshot no longer names it. The backup then takes a new snapshot and
 * copies only what it lacks, up to MAX_ROUNDS times; copies the last
 * snapshot does not name are removed. A file still missing after that is
 * missing from the server itself: the backup is written all the same (the
 * rest of the data is worth keeping) with the file listed in its manifest
 * under "missing_media", and the run fails, loudly, rather than leave a
 * backup that names a file it does not hold without saying so. Hard links
 * instead of copies would not survive the loss of the disk they share with
 * the server, so they are used only for the backup a migration takes inside
 * the data directory. */
#include "ssq-server-backup-private.h"
#include "ssq-server-store.h"
#include "ssq-server-media.h"
#include "ssq-config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_ROUNDS 5
/* Waits for a lock held by the server's writer (a checkpoint), in ms. */
#define BUSY_TIMEOUT 10000

typedef struct {
  const char             *data_dir;
  char                   *partial;
  char                   *src_media;
  char                   *dest_media;
  gboolean                link_media;
  GHashTable             *copied;     /* sha256 -> goffset* size */
  GHashTable             *named;      /* sha256 the last snapshot names */
  GPtrArray              *missing;    /* of the last round */
  SsqServerBackupSummary *summary;
} Backup;

static void
backup_clear (Backup *b)
{
  g_free (b->partial);
  g_free (b->src_media);
  g_free (b->dest_media);
  g_clear_pointer (&b->copied, g_hash_table_unref);
  g_clear_pointer (&b->named, g_hash_table_unref);
  g_clear_pointer (&b->missing, g_ptr_array_unref);
}

void
ssq_server_backup_summary_clear (SsqServerBackupSummary *summary)
{
  g_clear_pointer (&summary->db_sha256, g_free);
  g_clear_pointer (&summary->missing, g_ptr_array_unref);
}

/* What failed (@format, translated), then SQLite's reason. */
static gboolean G_GNUC_PRINTF (3, 4)
sql_fail (sqlite3     *db,
          GError     **error,
          const char  *format,
          ...)
{
  g_autofree char *what = NULL;
  va_list args;

  va_start (args, format);
  what = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: %s", what,
               db ? sqlite3_errmsg (db) : _("out of memory"));
  return FALSE;
}

/* Opens an existing database: never creates one where there was none. */
static sqlite3 *
open_existing (const char  *path,
               GError     **error)
{
  sqlite3 *db = NULL;

  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, _("No database at %s"), path);
      return NULL;
    }
  if (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK ||
      sqlite3_busy_timeout (db, BUSY_TIMEOUT) != SQLITE_OK)
    {
      sql_fail (db, error, _("Cannot open %s"), path);
      sqlite3_close (db);
      return NULL;
    }
  return db;
}

static gboolean
has_table (sqlite3    *db,
           const char *table)
{
  sqlite3_stmt *stmt = NULL;
  gboolean found = FALSE;

  if (sqlite3_prepare_v2 (db, "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?",
                          -1, &stmt, NULL) == SQLITE_OK)
    {
      sqlite3_bind_text (stmt, 1, table, -1, SQLITE_STATIC);
      found = sqlite3_step (stmt) == SQLITE_ROW;
    }
  sqlite3_finalize (stmt);
  return found;
}

/* An integer from the first row of @sql (0 for no row). */
static gboolean
query_int (sqlite3     *db,
           const char  *sql,
           const char  *path,
           gint64      *out,
           GError     **error)
{
  sqlite3_stmt *stmt = NULL;
  int rc;

  if (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL) != SQLITE_OK)
    return sql_fail (db, error, _("Cannot read %s"), path);
  rc = sqlite3_step (stmt);
  *out = rc == SQLITE_ROW ? sqlite3_column_int64 (stmt, 0) : 0;
  sqlite3_finalize (stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return sql_fail (db, error, _("Cannot read %s"), path);
  return TRUE;
}

static gboolean
count_rows (sqlite3     *db,
            const char  *table,
            const char  *path,
            guint64     *out,
            GError     **error)
{
  g_autofree char *sql = g_strdup_printf ("SELECT count(*) FROM %s", table);
  gint64 n = 0;

  if (has_table (db, table) && !query_int (db, sql, path, &n, error))
    return FALSE;
  *out = (guint64) n;
  return TRUE;
}

/* The hashes of the files the snapshot names (uploads and thumbnails). */
static gboolean
read_named (Backup      *b,
            sqlite3     *db,
            const char  *path,
            GError     **error)
{
  sqlite3_stmt *stmt = NULL;
  int rc;

  g_clear_pointer (&b->named, g_hash_table_unref);
  b->named = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  if (!has_table (db, "media"))
    return TRUE;
  if (sqlite3_prepare_v2 (db, "SELECT sha256 FROM media UNION "
                          "SELECT thumbnail_hash FROM media WHERE thumbnail_hash IS NOT NULL",
                          -1, &stmt, NULL) != SQLITE_OK)
    return sql_fail (db, error, _("Cannot read %s"), path);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_hash_table_add (b->named, g_strdup ((const char *) sqlite3_column_text (stmt, 0)));
  sqlite3_finalize (stmt);
  if (rc != SQLITE_DONE)
    return sql_fail (db, error, _("Cannot read %s"), path);
  return TRUE;
}

/* What the snapshot holds, read inside its read transaction. */
static gboolean
read_snapshot (Backup      *b,
               sqlite3     *src,
               const char  *path,
               GError     **error)
{
  SsqServerBackupSummary *s = b->summary;
  gint64 version = 0;

  return query_int (src, "PRAGMA user_version", path, &version, error) &&
         (s->schema_version = (int) version, TRUE) &&
         count_rows (src, "users", path, &s->users, error) &&
         count_rows (src, "conversations", path, &s->conversations, error) &&
         count_rows (src, "messages", path, &s->messages, error) &&
         count_rows (src, "media", path, &s->media, error) &&
         read_named (b, src, path, error);
}

/* One sqlite3_backup_step (-1) inside the source's read transaction: all
 * pages of one commit. A lock the writer holds a moment (a checkpoint
 * restarting the WAL) is waited for by the busy handler. */
static gboolean
copy_pages (sqlite3     *src,
            sqlite3     *dest,
            const char  *src_path,
            const char  *dest_path,
            GError     **error)
{
  sqlite3_backup *backup = sqlite3_backup_init (dest, "main", src, "main");
  int rc;

  if (backup == NULL)
    return sql_fail (dest, error, _("Cannot start the copy into %s"), dest_path);
  for (int attempt = 0; attempt < 100; attempt++)
    {
      rc = sqlite3_backup_step (backup, -1);
      if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED)
        break;
      g_usleep (100 * 1000);
    }
  sqlite3_backup_finish (backup);
  if (rc != SQLITE_DONE)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, _("Cannot copy %s to %s: %s"),
                   src_path, dest_path, sqlite3_errstr (rc));
      return FALSE;
    }
  return TRUE;
}

static gboolean
snapshot (Backup  *b,
          GError **error)
{
  g_autofree char *src_path = g_build_filename (b->data_dir, SSQ_BACKUP_DB_NAME, NULL);
  g_autofree char *dest_path = g_build_filename (b->partial, SSQ_BACKUP_DB_NAME, NULL);
  sqlite3 *src = NULL, *dest = NULL;
  gboolean ok;

  /* A snapshot of an earlier round is replaced whole. */
  if (g_unlink (dest_path) != 0 && errno != ENOENT)
    return ssq_backup_errno (error, errno, _("Cannot remove %s"), dest_path);
  src = open_existing (src_path, error);
  if (src == NULL)
    return FALSE;
  if (sqlite3_open_v2 (dest_path, &dest, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                       SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
    {
      ok = sql_fail (dest, error, _("Cannot create %s"), dest_path);
      goto out;
    }
  /* The read transaction starts with the first read and pins its commit
   * until COMMIT: the pages and the rows read below are of that commit. */
  ok = (sqlite3_exec (src, "BEGIN; SELECT count(*) FROM sqlite_schema", NULL, NULL, NULL) == SQLITE_OK ||
        sql_fail (src, error, _("Cannot read %s"), src_path)) &&
       copy_pages (src, dest, src_path, dest_path, error) &&
       read_snapshot (b, src, src_path, error);
  sqlite3_exec (src, "COMMIT", NULL, NULL, NULL);
  /* The copy took the source's WAL mode with its header: a backup is one
   * file, readable where nothing may be written (no -wal, no -shm). The
   * server turns WAL on again when it opens a restored copy. */
  if (ok && sqlite3_exec (dest, "PRAGMA journal_mode = DELETE", NULL, NULL, NULL) != SQLITE_OK)
    ok = sql_fail (dest, error, _("Cannot write %s"), dest_path);
out:
  sqlite3_close (dest);
  sqlite3_close (src);
  if (ok && g_chmod (dest_path, 0600) != 0)
    return ssq_backup_errno (error, errno, _("Cannot make %s private"), dest_path);
  return ok;
}

/* A link where allowed (same file system) for a backup that may share the
 * server's disk; a copy, checked against its name, otherwise. */
static gboolean
copy_one (Backup      *b,
          const char  *sha256,
          const char  *from,
          const char  *to,
          goffset     *out_size,
          GError     **error)
{
  g_autofree char *got = NULL;
  GStatBuf st;

  if (b->link_media && link (from, to) == 0 && g_stat (to, &st) == 0)
    {
      *out_size = st.st_size;
      return TRUE;
    }
  if (b->link_media && errno == ENOENT)
    return ssq_backup_errno (error, errno, _("Cannot open %s"), from);
  if (!ssq_backup_copy_file (from, to, &got, out_size, NULL, error))
    return FALSE;
  if (g_strcmp0 (got, sha256) != 0)
    {
      g_unlink (to);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("Media file %s is damaged: its SHA-256 is %s"), from, got);
      return FALSE;
    }
  return TRUE;
}

/* Copies the named files not copied yet; those not found (or damaged)
 * go to b->missing. */
static gboolean
copy_media (Backup  *b,
            GError **error)
{
  GHashTableIter iter;
  gpointer key;

  g_clear_pointer (&b->missing, g_ptr_array_unref);
  b->missing = g_ptr_array_new_with_free_func (g_free);
  g_hash_table_iter_init (&iter, b->named);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      const char *sha256 = key;
      g_autoptr(GError) local = NULL;
      g_autofree char *from = NULL, *to = NULL, *prefix_dir = NULL;
      goffset size = 0;

      if (g_hash_table_contains (b->copied, sha256))
        continue;
      if (!ssq_backup_is_hash (sha256))
        {
          g_warning ("The database names a media file %s, which is no SHA-256", sha256);
          g_ptr_array_add (b->missing, g_strdup (sha256));
          continue;
        }
      from = ssq_backup_media_path (b->src_media, sha256);
      to = ssq_backup_media_path (b->dest_media, sha256);
      prefix_dir = g_path_get_dirname (to);
      if (!ssq_backup_mkdir (prefix_dir, error))
        return FALSE;
      if (copy_one (b, sha256, from, to, &size, &local))
        {
          g_hash_table_insert (b->copied, g_strdup (sha256), g_memdup2 (&size, sizeof size));
          continue;
        }
      if (!g_error_matches (local, G_IO_ERROR, G_IO_ERROR_NOT_FOUND) &&
          !g_error_matches (local, G_IO_ERROR, G_IO_ERROR_INVALID_DATA))
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
      if (g_error_matches (local, G_IO_ERROR, G_IO_ERROR_INVALID_DATA))
        g_warning ("%s", local->message);
      g_ptr_array_add (b->missing, g_strdup (sha256));
    }
  return TRUE;
}

/* Drops copies the last snapshot does not name, counts the rest and syncs
 * the directories that hold them. */
static gboolean
settle_media (Backup  *b,
              GError **error)
{
  g_autoptr(GHashTable) dirs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, b->copied);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      g_autofree char *path = ssq_backup_media_path (b->dest_media, key);

      if (!g_hash_table_contains (b->named, key))
        {
          if (g_unlink (path) != 0)
            return ssq_backup_errno (error, errno, _("Cannot remove %s"), path);
          g_hash_table_iter_remove (&iter);
          continue;
        }
      b->summary->media_files++;
      b->summary->media_bytes += *(goffset *) value;
      g_hash_table_add (dirs, g_path_get_dirname (path));
    }
  g_hash_table_iter_init (&iter, dirs);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    if (!ssq_backup_sync_dir (key, error))
      return FALSE;
  return ssq_backup_sync_dir (b->dest_media, error);
}

/* The copy is a database SQLite accepts whole, before anyone relies on it. */
gboolean
ssq_backup_check_integrity (const char  *path,
                 GError     **error)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  g_autofree char *result = NULL;
  gboolean ok = FALSE;

  if (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2 (db, "PRAGMA integrity_check", -1, &stmt, NULL) != SQLITE_OK)
    {
      sql_fail (db, error, _("Cannot check %s"), path);
      goto out;
    }
  if (sqlite3_step (stmt) == SQLITE_ROW)
    result = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  ok = g_strcmp0 (result, "ok") == 0;
  if (!ok)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                 _("The database %s fails its integrity check: %s"), path,
                 result ? result : sqlite3_errmsg (db));
out:
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  return ok;
}

static char *
manifest_json (Backup    *b,
               GDateTime *now,
               goffset    db_size)
{
  SsqServerBackupSummary *s = b->summary;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *when = g_date_time_format (now, "%Y-%m-%dT%H:%M:%SZ");

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "format");
  json_builder_add_string_value (builder, SSQ_BACKUP_FORMAT);
  json_builder_set_member_name (builder, "format_version");
  json_builder_add_int_value (builder, SSQ_BACKUP_FORMAT_VERSION);
  json_builder_set_member_name (builder, "server_version");
  json_builder_add_string_value (builder, SSQ_VERSION);
  json_builder_set_member_name (builder, "schema_version");
  json_builder_add_int_value (builder, s->schema_version);
  json_builder_set_member_name (builder, "created_at");
  json_builder_add_string_value (builder, when);
  json_builder_set_member_name (builder, "database");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "file");
  json_builder_add_string_value (builder, SSQ_BACKUP_DB_NAME);
  json_builder_set_member_name (builder, "size");
  json_builder_add_int_value (builder, db_size);
  json_builder_set_member_name (builder, "sha256");
  json_builder_add_string_value (builder, s->db_sha256);
  json_builder_end_object (builder);
  json_builder_set_member_name (builder, "counts");
  json_builder_begin_object (builder);
#define COUNT(name, value) \
  json_builder_set_member_name (builder, name); json_builder_add_int_value (builder, (gint64) (value))
  COUNT ("users", s->users);
  COUNT ("conversations", s->conversations);
  COUNT ("messages", s->messages);
  COUNT ("media", s->media);
  COUNT ("media_files", s->media_files);
  COUNT ("media_bytes", s->media_bytes);
#undef COUNT
  json_builder_end_object (builder);
  json_builder_set_member_name (builder, "missing_media");
  json_builder_begin_array (builder);
  for (guint i = 0; i < b->missing->len; i++)
    json_builder_add_string_value (builder, b->missing->pdata[i]);
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  json_generator_set_pretty (generator, TRUE);
  return json_generator_to_data (generator, NULL);
}

/* Whether a new snapshot may do better: some file the last one lacked is
 * no longer named by the database (deleted since), or is there again
 * (the same bytes uploaded anew). A file still named and still absent or
 * damaged is lost from the server itself: a new snapshot, a copy of the
 * whole database each, would not find it either. */
static gboolean
missing_may_be_gone (Backup *b)
{
  g_autofree char *db_path = g_build_filename (b->data_dir, SSQ_BACKUP_DB_NAME, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GHashTable) named = ssq_backup_named_media (db_path, &error);

  if (named == NULL)
    return TRUE;
  for (guint i = 0; i < b->missing->len; i++)
    {
      const char *sha256 = b->missing->pdata[i];
      g_autofree char *path = NULL;
      g_autofree char *got = NULL;

      if (!g_hash_table_contains (named, sha256))
        return TRUE;
      if (!ssq_backup_is_hash (sha256))
        continue;
      path = ssq_backup_media_path (b->src_media, sha256);
      got = ssq_backup_file_sha256 (path, NULL, NULL);
      if (g_strcmp0 (got, sha256) == 0)
        return TRUE;
    }
  return FALSE;
}

/* The snapshot, its files, the manifest: everything inside b->partial. */
static gboolean
fill_partial (Backup  *b,
              GError **error)
{
  SsqServerBackupSummary *s = b->summary;
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *db_path = g_build_filename (b->partial, SSQ_BACKUP_DB_NAME, NULL);
  g_autofree char *manifest_path = g_build_filename (b->partial, SSQ_BACKUP_MANIFEST_NAME, NULL);
  g_autofree char *manifest = NULL;
  goffset db_size = 0;

  for (s->rounds = 1;; s->rounds++)
    {
      if (!snapshot (b, error) || !copy_media (b, error))
        return FALSE;
      if (b->missing->len == 0 || s->rounds == MAX_ROUNDS || !missing_may_be_gone (b))
        break;
      g_message ("%u media file(s) named by the snapshot were gone (deleted since?): "
                 "taking a new snapshot", b->missing->len);
    }
  if (!settle_media (b, error) || !ssq_backup_check_integrity (db_path, error) ||
      !ssq_backup_sync_file (db_path, error))
    return FALSE;
  s->db_sha256 = ssq_backup_file_sha256 (db_path, &db_size, error);
  if (s->db_sha256 == NULL)
    return FALSE;
  manifest = manifest_json (b, now, db_size);
  return ssq_backup_write_file (manifest_path, manifest, error) &&
         ssq_backup_sync_dir (b->partial, error);
}

static gboolean
missing_error (GPtrArray  *missing,
               const char *dest,
               const char *src_media,
               GError    **error)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT,
               ngettext ("Backup %s is incomplete: %u media file the database names is missing "
                         "from %s (listed under missing_media in its manifest): %s",
                         "Backup %s is incomplete: %u media files the database names are missing "
                         "from %s (listed under missing_media in its manifest), the first %s",
                         missing->len),
               dest, missing->len, src_media, (const char *) missing->pdata[0]);
  return FALSE;
}

gboolean
ssq_server_backup_run (const char             *data_dir,
                       const char             *dest,
                       gboolean                link_media,
                       SsqServerBackupSummary *summary,
                       GError                **error)
{
  Backup b = { data_dir };
  g_autofree char *parent = g_path_get_dirname (dest);
  gboolean ok = FALSE;

  g_return_val_if_fail (summary != NULL, FALSE);
  memset (summary, 0, sizeof *summary);
  b.summary = summary;
  b.partial = g_strconcat (dest, ".partial", NULL);
  b.src_media = g_build_filename (data_dir, SSQ_MEDIA_DIR, NULL);
  b.dest_media = g_build_filename (b.partial, SSQ_MEDIA_DIR, NULL);
  b.link_media = link_media;
  b.copied = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  if (!ssq_backup_check_empty (dest, _("Backup directory"), NULL, error))
    goto out;
  /* Made here or refused: two backups into one DEST at once must not
   * both write into it (the one renamed first would get the other's
   * database under its manifest). */
  if (g_mkdir (b.partial, 0700) != 0)
    {
      if (errno == EEXIST)
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                     _("%s exists (a backup cut short, or one running now): remove it first"),
                     b.partial);
      else
        ssq_backup_errno (error, errno, _("Cannot create the directory %s"), b.partial);
      goto out;
    }
  ok = ssq_backup_mkdir (b.dest_media, error) && fill_partial (&b, error);
  if (ok && g_rename (b.partial, dest) != 0)
    ok = ssq_backup_errno (error, errno, _("Cannot rename to %s"), dest);
  if (ok)
    ok = ssq_backup_sync_dir (parent, error);
  if (!ok)
    ssq_backup_remove_tree (b.partial, NULL);
  else
    {
      summary->missing = g_steal_pointer (&b.missing);
      if (summary->missing->len > 0)
        ok = missing_error (summary->missing, dest, b.src_media, error);
    }
out:
  backup_clear (&b);
  return ok;
}

/* The names --into gives: 2026-11-05T031500Z, and -N when two fall in one
 * second. Nothing else under the directory is ever removed: it may be
 * shared with files of the administrator's own. */
static gboolean
is_backup_stem (const char *name,
                gsize       length)
{
  static const char shape[] = "dddd-dd-ddTddddddZ";

  if (length < sizeof shape - 1)
    return FALSE;
  for (gsize i = 0; i < sizeof shape - 1; i++)
    if (shape[i] == 'd' ? !g_ascii_isdigit (name[i]) : name[i] != shape[i])
      return FALSE;
  if (length == sizeof shape - 1)
    return TRUE;
  if (name[sizeof shape - 1] != '-' || length == sizeof shape)
    return FALSE;
  for (gsize i = sizeof shape; i < length; i++)
    if (!g_ascii_isdigit (name[i]))
      return FALSE;
  return TRUE;
}

/* A directory of that name whose manifest says it is one of ours. */
static gboolean
is_complete_backup (const char *path)
{
  g_autofree char *manifest = g_build_filename (path, SSQ_BACKUP_MANIFEST_NAME, NULL);
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonNode *root;

  if (!json_parser_load_from_file (parser, manifest, NULL))
    return FALSE;
  root = json_parser_get_root (parser);
  return JSON_NODE_HOLDS_OBJECT (root) &&
         g_strcmp0 (json_object_get_string_member_with_default (json_node_get_object (root),
                                                                "format", NULL),
                    SSQ_BACKUP_FORMAT) == 0;
}

/* Newest first: by the time in the name, then by the -N of a second that
 * held several (numerically: -10 came after -9). */
static int
compare_names_desc (gconstpointer a,
                    gconstpointer b)
{
  const char *x = *(const char * const *) a, *y = *(const char * const *) b;
  int by_time = strncmp (y, x, 18);

  if (by_time != 0)
    return by_time;
  guint64 nx = g_ascii_strtoull (x + 18 + (x[18] == '-'), NULL, 10);
  guint64 ny = g_ascii_strtoull (y + 18 + (y[18] == '-'), NULL, 10);

  return (ny > nx) - (ny < nx);
}

GHashTable *
ssq_backup_named_media (const char  *db_path,
                        GError     **error)
{
  Backup b = { NULL };
  sqlite3 *db = open_existing (db_path, error);
  gboolean ok;

  if (db == NULL)
    return NULL;
  ok = read_named (&b, db, db_path, error);
  sqlite3_close (db);
  return ok ? b.named : NULL;
}

gboolean
ssq_server_backup_prune (const char  *parent,
                         const char  *newest,
                         guint        keep,
                         GError     **error)
{
  g_autoptr(GDir) dir = g_dir_open (parent, 0, error);
  g_autoptr(GPtrArray) complete = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  if (dir == NULL)
    return FALSE;
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (parent, name, NULL);
      gsize length = strlen (name);
      GStatBuf st;

      if (g_lstat (path, &st) != 0 || !S_ISDIR (st.st_mode))
        continue;
      /* A backup cut short (the lock says none is running now). */
      if (g_str_has_suffix (name, ".partial") && is_backup_stem (name, length - strlen (".partial")))
        {
          g_message ("Removing %s, a backup that did not finish", path);
          if (!ssq_backup_remove_tree (path, error))
            return FALSE;
          continue;
        }
      /* The one just made stays whatever its name says: with the clock
       * set back, it would sort below the older ones and go at once. */
      if (g_strcmp0 (name, newest) != 0 && is_backup_stem (name, length) &&
          is_complete_backup (path))
        g_ptr_array_add (complete, g_strdup (name));
    }
  g_ptr_array_sort (complete, compare_names_desc);
  for (guint i = newest != NULL ? keep - 1 : keep; i < complete->len; i++)
    {
      g_autofree char *path = g_build_filename (parent, complete->pdata[i], NULL);

      g_message ("Removing %s, older than the %u newest backups", path, keep);
      if (!ssq_backup_remove_tree (path, error))
        return FALSE;
    }
  return TRUE;
}

static char *
unused_name (const char *parent,
             const char *stem)
{
  char *path = g_build_filename (parent, stem, NULL);

  for (guint n = 2; g_file_test (path, G_FILE_TEST_EXISTS); n++)
    {
      g_autofree char *name = g_strdup_printf ("%s-%u", stem, n);

      g_free (path);
      path = g_build_filename (parent, name, NULL);
    }
  return path;
}

gboolean
ssq_server_backup_into (const char             *data_dir,
                        const char             *parent,
                        guint                   keep,
                        SsqServerBackupSummary *summary,
                        char                  **out_dest,
                        GError                **error)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *stem = g_date_time_format (now, "%Y-%m-%dT%H%M%SZ");
  g_autofree char *dest = NULL;
  gboolean ok;
  int lock_fd;

  if (g_mkdir_with_parents (parent, 0700) != 0)
    return ssq_backup_errno (error, errno, _("Cannot create the directory %s"), parent);
  /* One backup at a time per directory: pruning must not take a backup
   * another run is writing. */
  lock_fd = ssq_backup_lock (parent, ".lock", _("another backup"), error);
  if (lock_fd < 0)
    return FALSE;
  dest = unused_name (parent, stem);
  ok = ssq_server_backup_run (data_dir, dest, FALSE, summary, error);
  if (ok && keep > 0)
    {
      g_autofree char *newest = g_path_get_basename (dest);

      ok = ssq_server_backup_prune (parent, newest, keep, error);
    }
  close (lock_fd);
  if (out_dest != NULL)
    *out_dest = g_steal_pointer (&dest);
  return ok;
}

int
ssq_server_backup_db_version (const char  *data_dir,
                              GError     **error)
{
  g_autofree char *path = g_build_filename (data_dir, SSQ_BACKUP_DB_NAME, NULL);
  sqlite3 *db;
  gint64 version = 0;
  gboolean ok;

  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    return 0;
  db = open_existing (path, error);
  if (db == NULL)
    return -1;
  ok = query_int (db, "PRAGMA user_version", path, &version, error);
  sqlite3_close (db);
  return ok ? (int) version : -1;
}

gboolean
ssq_server_backup_before_migrate (const char  *data_dir,
                                  int          target,
                                  GError     **error)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *stamp = g_date_time_format (now, "%Y-%m-%dT%H%M%SZ");
  g_autofree char *parent = g_build_filename (data_dir, "backups", NULL);
  g_autofree char *stem = NULL;
  g_autofree char *dest = NULL;
  g_autoptr(GError) local = NULL;
  SsqServerBackupSummary summary;
  int version = ssq_server_backup_db_version (data_dir, error);

  if (version < 0)
    return FALSE;
  /* A newer database is refused by the store, untouched. */
  if (version == 0 || version == target || version > SSQ_STORE_SCHEMA_VERSION)
    return TRUE;
  if (!ssq_backup_mkdir (parent, error))
    return FALSE;
  stem = g_strdup_printf ("pre-migrate-v%d-%s", version, stamp);
  dest = unused_name (parent, stem);
  g_message ("Backing up the database (schema %d) to %s before migrating it to schema %d",
             version, dest, target);
  if (!ssq_server_backup_run (data_dir, dest, TRUE, &summary, &local))
    {
      ssq_server_backup_summary_clear (&summary);
      /* Files the server itself lacks: the backup holds everything else,
       * and refusing to start would not bring them back. */
      if (g_error_matches (local, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT))
        {
          g_warning ("%s", local->message);
          return TRUE;
        }
      g_propagate_prefixed_error (error, g_steal_pointer (&local),
                                  _("No migration without a backup first: "));
      return FALSE;
    }
  g_message ("Backed up %" G_GUINT64_FORMAT " messages and %" G_GUINT64_FORMAT
             " media files to %s", summary.messages, summary.media_files, dest);
  ssq_server_backup_summary_clear (&summary);
  return TRUE;
}
