/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-backup-private.h: the file work that backup and restore share
 * (copies checked by their SHA-256, fsyncs, removal of a tree). */
#pragma once

#include "ssq-server-backup.h"

G_BEGIN_DECLS

#define SSQ_BACKUP_DB_NAME       "supersoniq.db"
#define SSQ_BACKUP_MANIFEST_NAME "manifest.json"
#define SSQ_BACKUP_FORMAT        "supersoniq-backup"
#define SSQ_BACKUP_FORMAT_VERSION 1

/* Sets @error to what failed (@format, translated: _("Cannot open %s")),
 * then the reason @errsv. Always FALSE. Passing errno beside _() is safe
 * in any order of evaluation: gettext leaves errno as it was. */
gboolean  ssq_backup_errno        (GError     **error,
                                   int          errsv,
                                   const char  *format,
                                   ...) G_GNUC_PRINTF (3, 4);
gboolean  ssq_backup_sync_dir     (const char  *path,
                                   GError     **error);
gboolean  ssq_backup_sync_file    (const char  *path,
                                   GError     **error);
gboolean  ssq_backup_mkdir        (const char  *path,
                                   GError     **error);
/* Copies @from to @to (created 0600, fsynced), hashing what it copies:
 * the hex SHA-256 in @out_sha256, the size in @out_size. ENOENT of @from
 * comes back as G_IO_ERROR_NOT_FOUND; @out_read_failed says whether a
 * failure was @from's (not the target's disk). */
gboolean  ssq_backup_copy_file    (const char  *from,
                                   const char  *to,
                                   char       **out_sha256,
                                   goffset     *out_size,
                                   gboolean    *out_read_failed,
                                   GError     **error);
char     *ssq_backup_file_sha256  (const char  *path,
                                   goffset     *out_size,
                                   GError     **error);
/* The path of the media file @sha256 under @root (root/xx/sha256). */
char     *ssq_backup_media_path   (const char  *root,
                                   const char  *sha256);
gboolean  ssq_backup_is_hash      (const char  *name);
/* Removes @path and all below it; never follows a symbolic link. */
gboolean  ssq_backup_remove_tree  (const char  *path,
                                   GError     **error);
/* TRUE if @path does not exist or is a directory holding nothing (but an
 * entry named @ignore, if given); otherwise FALSE with an error naming the
 * first entry found. */
gboolean  ssq_backup_check_empty  (const char  *path,
                                   const char  *what,
                                   const char  *ignore,
                                   GError     **error);
/* Writes @contents to @path through a synced temporary file and a rename. */
gboolean  ssq_backup_write_file   (const char  *path,
                                   const char  *contents,
                                   GError     **error);
/* flock of @dir/@name, exclusive and without waiting: -1 with an error
 * when another process holds it. */
int       ssq_backup_lock         (const char  *dir,
                                   const char  *name,
                                   const char  *holder,
                                   GError     **error);

/* PRAGMA integrity_check of the database at @path is "ok". */
gboolean    ssq_backup_check_integrity (const char  *path,
                                        GError     **error);
/* The set of hashes of the media files the database at @db_path names. */
GHashTable *ssq_backup_named_media     (const char  *db_path,
                                        GError     **error);

G_END_DECLS
