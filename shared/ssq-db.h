/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-db.h: the SQLite plumbing the server store and the client cache share:
 * opening in WAL mode, migrations by user_version, cached statements and
 * errors mapped into SSQ_ERROR. */
#pragma once

#include <glib.h>
#include <sqlite3.h>

G_BEGIN_DECLS

typedef struct {
  sqlite3    *db;
  GHashTable *statements;   /* const char *sql (static) -> sqlite3_stmt */
  const char *vfs;          /* set before opening; NULL: SQLite's default */
} SsqDb;

/* How long a connection waits for a lock another holds a moment. */
#define SSQ_DB_BUSY_TIMEOUT_MS 5000

/* One schema step: @up takes user_version N to N + 1, @down takes N + 1
 * back to N (and may lose what only N + 1 could hold). */
typedef struct {
  const char *up;
  const char *down;
} SsqDbMigration;

gboolean      ssq_db_open         (SsqDb              *self,
                                   const char         *path,
                                   gboolean            durable,
                                   GError            **error);
gboolean      ssq_db_open_another (SsqDb              *self,
                                   const char         *path,
                                   gboolean            durable,
                                   GError            **error);
gboolean      ssq_db_migrate      (SsqDb              *self,
                                   const SsqDbMigration *migrations,
                                   int                 n_migrations,
                                   int                 target,
                                   GError            **error);
void          ssq_db_close        (SsqDb              *self);

sqlite3_stmt *ssq_db_stmt         (SsqDb              *self,
                                   const char         *static_sql,
                                   GError            **error);
gboolean      ssq_db_fail         (SsqDb              *self,
                                   GError            **error);
gboolean      ssq_db_step_done    (SsqDb              *self,
                                   sqlite3_stmt       *stmt,
                                   GError            **error);
gboolean      ssq_db_exec         (SsqDb              *self,
                                   const char         *sql,
                                   GError            **error);
gboolean      ssq_db_run          (SsqDb              *self,
                                   const char         *static_sql,
                                   GError            **error);
gboolean      ssq_db_begin        (SsqDb              *self,
                                   GError            **error);
gboolean      ssq_db_commit       (SsqDb              *self,
                                   GError            **error);
void          ssq_db_rollback     (SsqDb              *self);
int           ssq_db_get_version  (SsqDb              *self);
char         *ssq_db_dump_schema  (SsqDb              *self);

char         *ssq_db_column_dup   (sqlite3_stmt       *stmt,
                                   int                 column);
void          ssq_db_bind_text    (sqlite3_stmt       *stmt,
                                   int                 index,
                                   const char         *text);

G_END_DECLS
