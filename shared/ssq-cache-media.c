/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-cache-media.c: the index of the download cache in the client cache:
 * which media files (and thumbnails) are on disk, their sizes, and the
 * order they were last used in, for the eviction of the least recently
 * used when the cache passes its size cap. */
#include "ssq-cache-private.h"

/**
 * ssq_cache_media_file_touch:
 * @size: the file's size in bytes
 * @name: (nullable): the name the server gave it; NULL keeps the one known
 *
 * Records that the file of @media_id (or its thumbnail) is held and has
 * just been used: it becomes the most recently used. The order is a
 * counter, not a clock, so that two uses in the same instant keep theirs.
 */
gboolean
ssq_cache_media_file_touch (SsqCache    *self,
                            const char  *media_id,
                            gboolean     thumbnail,
                            gint64       size,
                            const char  *name,
                            GError     **error)
{
  sqlite3_stmt *stmt = ssq_db_stmt (&self->db,
                                    "INSERT INTO media_files (media_id, thumbnail, size, name, last_used) "
                                    "VALUES (?1, ?2, ?3, ?4, (SELECT COALESCE(MAX(last_used), 0) + 1 FROM media_files)) "
                                    "ON CONFLICT (media_id, thumbnail) DO UPDATE SET "
                                    "size = excluded.size, last_used = excluded.last_used, "
                                    "name = COALESCE(excluded.name, media_files.name)",
                                    error);

  g_return_val_if_fail (SSQ_IS_CACHE (self), FALSE);

  if (stmt == NULL)
    return FALSE;
  ssq_db_bind_text (stmt, 1, media_id);
  sqlite3_bind_int (stmt, 2, thumbnail ? 1 : 0);
  sqlite3_bind_int64 (stmt, 3, size);
  ssq_db_bind_text (stmt, 4, name);
  return ssq_db_step_done (&self->db, stmt, error);
}

/**
 * ssq_cache_media_file_name:
 * Returns: (transfer full) (nullable): the name the server gave the file
 *   of @media_id (or its thumbnail), if the index holds it
 */
char *
ssq_cache_media_file_name (SsqCache   *self,
                           const char *media_id,
                           gboolean    thumbnail)
{
  sqlite3_stmt *stmt = ssq_db_stmt (&self->db,
                                    "SELECT name FROM media_files WHERE media_id = ? AND thumbnail = ?", NULL);
  char *name = NULL;

  g_return_val_if_fail (SSQ_IS_CACHE (self), NULL);

  if (stmt == NULL)
    return NULL;
  ssq_db_bind_text (stmt, 1, media_id);
  sqlite3_bind_int (stmt, 2, thumbnail ? 1 : 0);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    name = ssq_db_column_dup (stmt, 0);
  sqlite3_reset (stmt);
  return name;
}

/* Whether the index holds the file of @media_id (or its thumbnail). */
gboolean
ssq_cache_media_file_held (SsqCache   *self,
                           const char *media_id,
                           gboolean    thumbnail)
{
  sqlite3_stmt *stmt = ssq_db_stmt (&self->db,
                                    "SELECT 1 FROM media_files WHERE media_id = ? AND thumbnail = ?", NULL);
  gboolean held;

  g_return_val_if_fail (SSQ_IS_CACHE (self), FALSE);

  if (stmt == NULL)
    return FALSE;
  ssq_db_bind_text (stmt, 1, media_id);
  sqlite3_bind_int (stmt, 2, thumbnail ? 1 : 0);
  held = sqlite3_step (stmt) == SQLITE_ROW;
  sqlite3_reset (stmt);
  return held;
}

gboolean
ssq_cache_media_file_forget (SsqCache    *self,
                             const char  *media_id,
                             gboolean     thumbnail,
                             GError     **error)
{
  sqlite3_stmt *stmt = ssq_db_stmt (&self->db,
                                    "DELETE FROM media_files WHERE media_id = ? AND thumbnail = ?", error);

  g_return_val_if_fail (SSQ_IS_CACHE (self), FALSE);

  if (stmt == NULL)
    return FALSE;
  ssq_db_bind_text (stmt, 1, media_id);
  sqlite3_bind_int (stmt, 2, thumbnail ? 1 : 0);
  return ssq_db_step_done (&self->db, stmt, error);
}

/* The bytes of every file the index holds. */
gint64
ssq_cache_media_files_size (SsqCache *self)
{
  sqlite3_stmt *stmt = ssq_db_stmt (&self->db, "SELECT COALESCE(SUM(size), 0) FROM media_files", NULL);
  gint64 total = 0;

  g_return_val_if_fail (SSQ_IS_CACHE (self), 0);

  if (stmt == NULL)
    return 0;
  if (sqlite3_step (stmt) == SQLITE_ROW)
    total = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  return total;
}

/**
 * ssq_cache_media_file_oldest:
 * @out_media_id: (out) (transfer full): the least recently used file's media
 *
 * Returns: FALSE when the index is empty.
 */
gboolean
ssq_cache_media_file_oldest (SsqCache  *self,
                             char     **out_media_id,
                             gboolean  *out_thumbnail,
                             gint64    *out_size)
{
  sqlite3_stmt *stmt = ssq_db_stmt (&self->db,
                                    "SELECT media_id, thumbnail, size FROM media_files "
                                    "ORDER BY last_used LIMIT 1", NULL);
  gboolean found = FALSE;

  g_return_val_if_fail (SSQ_IS_CACHE (self), FALSE);

  if (stmt == NULL)
    return FALSE;
  if (sqlite3_step (stmt) == SQLITE_ROW)
    {
      found = TRUE;
      *out_media_id = ssq_db_column_dup (stmt, 0);
      *out_thumbnail = sqlite3_column_int (stmt, 1) != 0;
      *out_size = sqlite3_column_int64 (stmt, 2);
    }
  sqlite3_reset (stmt);
  return found;
}
