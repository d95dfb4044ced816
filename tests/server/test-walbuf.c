/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-walbuf.c: the VFS that writes a commit's WAL frames at once
 * (ssq-server-walbuf.c), on real SQLite files, over SQLite's own VFS with
 * failures injected beneath: every frame is in the file before the
 * commit's sync, another connection sees every commit as soon as it
 * returns (commits larger than one write and than the buffer, frames
 * rewritten within a transaction), a full disk (a failed commit; a failed
 * read inside a transaction that then commits), and a process killed
 * after a commit or in the middle of a transaction. */
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sqlite3.h>
#include <glib.h>
#include <glib/gstdio.h>
#include "ssq-server-walbuf.h"
#include "ssq-test-store.h"

/* Beneath the VFS under test: SQLite's own, whose writes to a log fail
 * with SQLITE_FULL (as on a full disk: a file size limit gives an I/O
 * error instead) while fail_log_writes is set, and which counts the bytes
 * written to a log since its last sync. A log file keeps the default
 * VFS's file and methods, but for xWrite and xSync. */
static gboolean fail_log_writes;
static gint64 log_bytes_unsynced;
static const sqlite3_io_methods *default_methods;
static sqlite3_io_methods failing_methods;

static int
failing_write (sqlite3_file  *file,
               const void    *data,
               int            amount,
               sqlite3_int64  offset)
{
  if (fail_log_writes)
    return SQLITE_FULL;
  log_bytes_unsynced += amount;
  return default_methods->xWrite (file, data, amount, offset);
}

static int
counting_sync (sqlite3_file *file,
               int           flags)
{
  log_bytes_unsynced = 0;
  return default_methods->xSync (file, flags);
}

static int
failing_open (sqlite3_vfs  *vfs,
              const char   *name,
              sqlite3_file *file,
              int           flags,
              int          *out_flags)
{
  sqlite3_vfs *real = vfs->pAppData;
  int rc = real->xOpen (real, name, file, flags, out_flags);

  if (rc == SQLITE_OK && (flags & SQLITE_OPEN_WAL) != 0)
    {
      if (default_methods == NULL)
        {
          default_methods = file->pMethods;
          failing_methods = *default_methods;
          failing_methods.xWrite = failing_write;
          failing_methods.xSync = counting_sync;
        }
      g_assert_true (file->pMethods == default_methods);
      file->pMethods = &failing_methods;
    }
  return rc;
}

/* Made the default before the VFS under test is first asked for: it
 * wraps the default. */
static void
register_failing_vfs (void)
{
  static sqlite3_vfs vfs;

  vfs = *sqlite3_vfs_find (NULL);
  vfs.zName = "ssq-test-failing";
  vfs.pAppData = sqlite3_vfs_find (NULL);
  vfs.xOpen = failing_open;
  g_assert_cmpint (sqlite3_vfs_register (&vfs, 1), ==, SQLITE_OK);
}

static sqlite3 *
open_db (const char *path,
         const char *vfs)
{
  sqlite3 *db = NULL;

  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, vfs), ==,
                   SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, "PRAGMA busy_timeout = 5000;"
                                     "PRAGMA journal_mode = WAL;"
                                     "PRAGMA synchronous = FULL", NULL, NULL, NULL), ==, SQLITE_OK);
  return db;
}

static void
exec (sqlite3    *db,
      const char *sql)
{
  char *message = NULL;

  if (sqlite3_exec (db, sql, NULL, NULL, &message) != SQLITE_OK)
    g_error ("%s: %s", sql, message);
}

static gint64
query_int (sqlite3    *db,
           const char *sql)
{
  sqlite3_stmt *stmt = NULL;
  gint64 value;

  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  value = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  return value;
}

/* SQLite's integrity check finds nothing wrong. */
static void
assert_intact (sqlite3 *db)
{
  g_assert_cmpint (query_int (db, "SELECT count(*) FROM pragma_integrity_check WHERE integrity_check != 'ok'"),
                   ==, 0);
}

/* One transaction: @n rows of @size bytes each, then every row of the
 * previous transaction rewritten, so that pages written to the log earlier
 * in the transaction (the cache is tiny and spills) are written again. */
static void
write_transaction (sqlite3 *db,
                   guint    round,
                   guint    n,
                   guint    size)
{
  g_autofree char *insert = g_strdup_printf (
    "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < %u) "
    "INSERT INTO t (round, v) SELECT %u, randomblob(%u) FROM s", n, round, size);
  g_autofree char *rewrite = g_strdup_printf (
    "UPDATE t SET v = randomblob(length(v)) WHERE round = %u", round - 1);

  exec (db, "BEGIN");
  exec (db, insert);
  exec (db, rewrite);
  exec (db, "COMMIT");
}

static void
remove_db (const char *dir,
           const char *path)
{
  g_autofree char *wal = g_strconcat (path, "-wal", NULL);
  g_autofree char *shm = g_strconcat (path, "-shm", NULL);

  g_unlink (wal);
  g_unlink (shm);
  g_unlink (path);
  g_assert_cmpint (g_remove (dir), ==, 0);
}

static void
test_walbuf_visible_at_commit (void)
{
  const char *vfs = ssq_server_walbuf_vfs ();
  g_autofree char *dir = g_dir_make_tmp ("ssq-walbuf-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "t.db", NULL);
  /* Small, medium, larger than one write (64 KiB) and than the buffer
   * (4 MiB): the rows of each must be there for the other connection. */
  static const guint sizes[][2] = { { 1, 10 }, { 50, 300 }, { 200, 2000 }, { 2500, 3000 },
                                    { 3, 100 }, { 1200, 5000 }, { 1, 1 } };
  sqlite3 *writer, *reader;
  gint64 rows = 0, bytes = 0;

  g_assert_nonnull (vfs);
  writer = open_db (path, vfs);
  exec (writer, "PRAGMA cache_size = 20; CREATE TABLE t (round INTEGER, v BLOB)");
  reader = open_db (path, NULL);
  for (guint round = 1; round <= 3; round++)
    for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
      {
        guint r = round * 100 + i;

        write_transaction (writer, r, sizes[i][0], sizes[i][1]);
        /* Every frame reached the file before the commit's sync (not
         * after it: then a power cut could lose what was acknowledged). */
        g_assert_cmpint (log_bytes_unsynced, ==, 0);
        rows += sizes[i][0];
        bytes += (gint64) sizes[i][0] * sizes[i][1];
        /* The reader reads the frames from the file: they were written
         * before the commit was made visible to it. */
        g_assert_cmpint (query_int (reader, "SELECT count(*) FROM t"), ==, rows);
        g_assert_cmpint (query_int (reader, "SELECT sum(length(v)) FROM t"), ==, bytes);
        if (i == 3)
          exec (writer, "PRAGMA wal_checkpoint(PASSIVE)");
      }
  assert_intact (reader);
  sqlite3_close (reader);
  sqlite3_close (writer);

  /* Everything is in the files, as SQLite's own VFS reads them. */
  reader = open_db (path, NULL);
  g_assert_cmpint (query_int (reader, "SELECT count(*) FROM t"), ==, rows);
  g_assert_cmpint (query_int (reader, "SELECT sum(length(v)) FROM t"), ==, bytes);
  assert_intact (reader);
  sqlite3_close (reader);
  remove_db (dir, path);
}

/* Writes fail past a file size limit, as on a full disk: a transaction
 * whose frames cannot be written fails (at a statement or at its commit),
 * nothing of it is stored, and the next one, with room again, is. */
static void
test_walbuf_file_full (void)
{
  g_autofree char *dir = g_dir_make_tmp ("ssq-walbuf-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "t.db", NULL);
  g_autofree char *wal = g_strconcat (path, "-wal", NULL);
  sqlite3 *writer = open_db (path, ssq_server_walbuf_vfs ());
  sqlite3 *reader;
  GStatBuf st;
  int rc;

  exec (writer, "PRAGMA wal_autocheckpoint = 0; CREATE TABLE t (round INTEGER, v BLOB)");
  write_transaction (writer, 1, 100, 1000);
  reader = open_db (path, NULL);
  g_assert_cmpint (g_stat (wal, &st), ==, 0);
  for (guint n = 20; n <= 2000; n *= 10)
    {
      g_autofree char *insert = g_strdup_printf (
        "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < %u) "
        "INSERT INTO t (round, v) SELECT 2, randomblob(1000) FROM s", n);

      ssq_test_set_file_limit ((guint64) st.st_size + 8192);
      exec (writer, "BEGIN");
      rc = sqlite3_exec (writer, insert, NULL, NULL, NULL);
      if (rc == SQLITE_OK)
        rc = sqlite3_exec (writer, "COMMIT", NULL, NULL, NULL);
      g_test_message ("%u rows past the limit: %s", n, sqlite3_errstr (rc));
      /* SQLITE_FULL on a short write, an I/O error when a write starts
       * past the limit (EFBIG). */
      g_assert_true ((rc & 0xff) == SQLITE_FULL || (rc & 0xff) == SQLITE_IOERR);
      if (!sqlite3_get_autocommit (writer))
        exec (writer, "ROLLBACK");
      ssq_test_set_file_limit (G_MAXUINT64);
      g_assert_cmpint (query_int (reader, "SELECT count(*) FROM t"), ==, 100);
    }
  write_transaction (writer, 3, 300, 1000);
  g_assert_cmpint (query_int (reader, "SELECT count(*) FROM t"), ==, 400);
  sqlite3_close (reader);
  sqlite3_close (writer);
  reader = open_db (path, NULL);
  g_assert_cmpint (query_int (reader, "SELECT count(*) FROM t WHERE round = 2"), ==, 0);
  g_assert_cmpint (query_int (reader, "SELECT count(*) FROM t"), ==, 400);
  assert_intact (reader);
  sqlite3_close (reader);
  remove_db (dir, path);
}

/* The writer's pattern (each operation under a savepoint): frames spilled
 * by one statement are in the buffer when a later statement's read cannot
 * write them, the disk full for the log's writes (SQLITE_FULL) during
 * that statement only. SQLite rolls back only that statement, and the
 * transaction commits: the frames the read could not write must be
 * written then, not lost under a commit that counts them. */
static void
test_walbuf_failed_read_flush (void)
{
  g_autofree char *dir = g_dir_make_tmp ("ssq-walbuf-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "t.db", NULL);
  sqlite3 *writer = open_db (path, ssq_server_walbuf_vfs ());
  sqlite3 *reader;
  int rc;

  exec (writer, "PRAGMA cache_size = 10; PRAGMA wal_autocheckpoint = 0;"
                "CREATE TABLE u (k INTEGER UNIQUE, v BLOB)");
  exec (writer, "BEGIN; SAVEPOINT op;"
                "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 300) "
                "INSERT INTO u SELECT i, randomblob(3000) FROM s;"
                "RELEASE op; SAVEPOINT op");
  fail_log_writes = TRUE;
  rc = sqlite3_exec (writer, "INSERT INTO u SELECT k + 100000, v FROM u", NULL, NULL, NULL);
  fail_log_writes = FALSE;
  g_test_message ("the read that could not write: %s, %s", sqlite3_errstr (rc),
                  sqlite3_get_autocommit (writer) ? "transaction rolled back" : "transaction open");
  g_assert_cmpint (rc & 0xff, ==, SQLITE_FULL);
  /* Only the statement was undone: the case this test is about. */
  g_assert_false (sqlite3_get_autocommit (writer));
  exec (writer, "ROLLBACK TO op; RELEASE op");
  exec (writer, "COMMIT");
  reader = open_db (path, NULL);
  assert_intact (reader);
  g_assert_cmpint (query_int (reader, "SELECT count(*) FROM u"), ==, 300);
  g_assert_cmpint (query_int (reader, "SELECT sum(length(v)) FROM u"), ==, 300 * 3000);
  sqlite3_close (reader);
  sqlite3_close (writer);
  remove_db (dir, path);
}

/* In a child: commits, then dies by SIGKILL, right after a commit or in
 * the middle of a large transaction whose spilled frames are partly
 * written, partly buffered. */
static void
killed_writer (const char *path,
               gboolean    mid_transaction)
{
  sqlite3 *db = open_db (path, ssq_server_walbuf_vfs ());

  exec (db, "PRAGMA cache_size = 20; PRAGMA wal_autocheckpoint = 0;"
            "CREATE TABLE t (round INTEGER, v BLOB)");
  for (guint round = 1; round <= 20; round++)
    write_transaction (db, round, 40, 1000);
  if (mid_transaction)
    {
      exec (db, "BEGIN");
      exec (db, "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 3000) "
                "INSERT INTO t (round, v) SELECT 99, randomblob(1500) FROM s");
    }
  raise (SIGKILL);
}

static void
test_walbuf_killed (gconstpointer data)
{
  gboolean mid_transaction = GPOINTER_TO_INT (data);
  g_autofree char *dir = NULL;
  g_autofree char *path = NULL;
  sqlite3 *db;

  if (g_test_subprocess ())
    {
      killed_writer (g_getenv ("SSQ_WALBUF_DB"), mid_transaction);
      return;
    }
  dir = g_dir_make_tmp ("ssq-walbuf-XXXXXX", NULL);
  path = g_build_filename (dir, "t.db", NULL);
  g_setenv ("SSQ_WALBUF_DB", path, TRUE);
  g_test_trap_subprocess (NULL, 60 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  /* Every committed transaction, nothing of the one cut short. */
  db = open_db (path, NULL);
  g_assert_cmpint (query_int (db, "SELECT count(*) FROM t"), ==, 20 * 40);
  g_assert_cmpint (query_int (db, "SELECT count(*) FROM t WHERE round = 99"), ==, 0);
  assert_intact (db);
  sqlite3_close (db);
  remove_db (dir, path);
}

/* SQLite's unix VFS: the byte range of SHARED locks. */
#define SHARED_FIRST (0x40000000 + 2)
#define SHARED_SIZE 510

/* Closing a connection of this VFS leaves the locks of the process's
 * other connections to the file: a descriptor of its own that it closed
 * dropped them all (POSIX locks are per process and file), and another
 * process could then checkpoint and delete the log under a live
 * connection. The other process is a child that asks for the lock. */
static void
test_walbuf_close_keeps_locks (void)
{
  g_autofree char *dir = NULL;
  g_autofree char *path = NULL;
  sqlite3 *reader, *writer;

  if (g_test_subprocess ())
    {
      struct flock probe = { .l_type = F_WRLCK, .l_whence = SEEK_SET,
                             .l_start = SHARED_FIRST, .l_len = SHARED_SIZE };
      int fd = g_open (g_getenv ("SSQ_WALBUF_DB"), O_RDWR, 0);

      g_assert_cmpint (fd, >=, 0);
      g_assert_cmpint (fcntl (fd, F_GETLK, &probe), ==, 0);
      g_assert_cmpint (probe.l_type, !=, F_UNLCK);
      return;
    }
  dir = g_dir_make_tmp ("ssq-walbuf-XXXXXX", NULL);
  path = g_build_filename (dir, "t.db", NULL);
  reader = open_db (path, NULL);
  exec (reader, "CREATE TABLE t (round INTEGER, v BLOB)");
  g_assert_cmpint (query_int (reader, "SELECT count(*) FROM t"), ==, 0);
  writer = open_db (path, ssq_server_walbuf_vfs ());
  write_transaction (writer, 1, 400, 1000);
  exec (writer, "PRAGMA wal_checkpoint(PASSIVE)");
  sqlite3_close (writer);
  g_setenv ("SSQ_WALBUF_DB", path, TRUE);
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_assert_cmpint (query_int (reader, "SELECT count(*) FROM t"), ==, 400);
  sqlite3_close (reader);
  remove_db (dir, path);
}

/* cachestat(2) (Linux 6.5): what of a file's range is in the page cache,
 * dirty, under writeback. Its structures, as the kernel's UAPI has them. */
struct test_cachestat_range { guint64 off, len; };
struct test_cachestat { guint64 nr_cache, nr_dirty, nr_writeback, nr_evicted, nr_recently_evicted; };
#define TEST_SYS_CACHESTAT 451    /* the same on every architecture */

/* Pages of the file at @path still dirty, or -1 without cachestat. */
static gint64
dirty_pages (const char *path)
{
  struct test_cachestat_range range = { 0, 0 };
  struct test_cachestat stat = { 0 };
  int fd = g_open (path, O_RDONLY, 0);
  long rc;

  g_assert_cmpint (fd, >=, 0);
  rc = syscall (TEST_SYS_CACHESTAT, fd, &range, &stat, 0);
  /* Not closed: that would drop the process's locks on the file. */
  (void) fd;
  return rc == 0 ? (gint64) stat.nr_dirty : -1;
}

/* Copies of a checkpoint (without its final sync here) are written back as
 * they are made: a few MiB leave at most about 256 KiB dirty, against all
 * of them through SQLite's own VFS. */
static void
test_walbuf_paced_checkpoint (void)
{
  const char *vfs[] = { NULL, ssq_server_walbuf_vfs () };
  gint64 dirty[2];

  for (guint i = 0; i < 2; i++)
    {
      g_autofree char *dir = g_dir_make_tmp ("ssq-walbuf-XXXXXX", NULL);
      g_autofree char *path = g_build_filename (dir, "t.db", NULL);
      sqlite3 *db = open_db (path, vfs[i]);

      exec (db, "PRAGMA wal_autocheckpoint = 0; CREATE TABLE t (round INTEGER, v BLOB)");
      for (guint round = 1; round <= 4; round++)
        write_transaction (db, round, 1000, 1000);
      exec (db, "PRAGMA synchronous = OFF; PRAGMA wal_checkpoint(PASSIVE)");
      dirty[i] = dirty_pages (path);
      sqlite3_close (db);
      remove_db (dir, path);
      if (dirty[i] < 0)
        {
          g_test_skip ("no cachestat(2) on this kernel");
          return;
        }
    }
  g_test_message ("dirty pages after the checkpoint: %" G_GINT64_FORMAT " through SQLite's VFS, %"
                  G_GINT64_FORMAT " through this one", dirty[0], dirty[1]);
  if (dirty[0] < 512)
    {
      g_test_skip ("the pages did not stay dirty through SQLite's own VFS either (written back "
                   "by the kernel, or a file system that keeps none dirty): nothing to compare");
      return;
    }
  g_assert_cmpint (dirty[1], <=, 256 * 1024 / 4096 + 16);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  register_failing_vfs ();
  g_test_add_func ("/server/walbuf/visible-at-commit", test_walbuf_visible_at_commit);
  g_test_add_func ("/server/walbuf/file-full", test_walbuf_file_full);
  g_test_add_func ("/server/walbuf/failed-read-flush", test_walbuf_failed_read_flush);
  g_test_add_data_func ("/server/walbuf/killed-after-commit", GINT_TO_POINTER (FALSE), test_walbuf_killed);
  g_test_add_data_func ("/server/walbuf/killed-mid-transaction", GINT_TO_POINTER (TRUE), test_walbuf_killed);
  g_test_add_func ("/server/walbuf/close-keeps-locks", test_walbuf_close_keeps_locks);
  g_test_add_func ("/server/walbuf/paced-checkpoint", test_walbuf_paced_checkpoint);
  return g_test_run ();
}
