/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-backup.h: backups of a data directory (a consistent snapshot
 * of the database and the media files it names), their restore into an
 * empty data directory, and schema moves with a backup first. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct {
  int      schema_version;
  guint64  users;
  guint64  conversations;
  guint64  messages;
  guint64  media;            /* rows */
  guint64  media_files;      /* files copied (uploads and thumbnails) */
  guint64  media_bytes;
  guint    rounds;           /* snapshots taken (more than 1: files vanished) */
  char    *db_sha256;
  GPtrArray *missing;        /* hashes named by the snapshot, not found */
} SsqServerBackupSummary;

void      ssq_server_backup_summary_clear (SsqServerBackupSummary *summary);

/* A backup of @data_dir into @dest, which must not exist or be empty:
 * written as @dest.partial, renamed at the end. With @link_media, media
 * files are hard links where the file system allows (a backup inside the
 * data directory, before a migration). Returns FALSE with @error on
 * failure; a backup whose snapshot names files that could not be found
 * is written all the same, the files listed in its manifest and in
 * @summary->missing, and FALSE is returned. */
gboolean  ssq_server_backup_run      (const char             *data_dir,
                                      const char             *dest,
                                      gboolean                link_media,
                                      SsqServerBackupSummary *summary,
                                      GError                **error);
/* A backup into a new directory under @parent named by the time (UTC),
 * then, if it succeeded and @keep > 0, removal of all but the @keep
 * newest complete backups there. The new backup's path in @out_dest. */
gboolean  ssq_server_backup_into     (const char             *data_dir,
                                      const char             *parent,
                                      guint                   keep,
                                      SsqServerBackupSummary *summary,
                                      char                  **out_dest,
                                      GError                **error);
gboolean  ssq_server_backup_prune    (const char             *parent,
                                      guint                   keep,
                                      GError                **error);

/* Restores the backup @src into @data_dir, which must not exist or be
 * empty, after checking the manifest, the database's SHA-256, every media
 * file's hash and PRAGMA integrity_check. */
gboolean  ssq_server_backup_restore  (const char             *src,
                                      const char             *data_dir,
                                      GError                **error);

/* The schema version of the database in @data_dir: 0 when it has none
 * yet, -1 with @error if it cannot be read. */
int       ssq_server_backup_db_version (const char           *data_dir,
                                        GError              **error);
/* Before the database in @data_dir moves from its version to @target: a
 * backup into @data_dir/backups/pre-migrate-vOLD-DATE, logged. Nothing
 * is done for a database without a schema yet or already at @target. */
gboolean  ssq_server_backup_before_migrate (const char       *data_dir,
                                            int               target,
                                            GError          **error);

G_END_DECLS
