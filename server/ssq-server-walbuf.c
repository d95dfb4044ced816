/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-walbuf.c: an SQLite VFS that gathers the writes to a WAL file
 * into one write.
 *
 * SQLite writes each WAL frame as two writes, its 24-byte header and then
 * its page. A frame is 24 bytes longer than a page, so the page lands
 * across two pages of the kernel's cache: each frame costs two system calls
 * and three page-cache updates (each with ext4's write_begin, write_end
 * and mark_buffer_dirty), and a commit of a batch writes a few hundred
 * frames. Here the frames that follow each other are kept in a buffer and
 * written at once when SQLite syncs the file (or reads it, sizes it,
 * truncates it, closes it, or writes elsewhere in it).
 *
 * Why this is safe: a commit becomes visible to other connections (the
 * wal-index header) only after its frames are synced, when
 * synchronous=FULL, and the sync writes the buffer out first. Frames still
 * in the buffer belong to a transaction that nobody can see yet; a crash
 * loses them as it would lose a transaction that never reached its sync.
 * With synchronous=NORMAL a commit is made visible without a sync, so the
 * store uses this VFS only for its durable writer connection.
 *
 * Bytes of a transaction rolled back may stay in the buffer until the
 * connection's next call on the file, with no lock held: harmless as long
 * as this connection is the only one that writes the log (the server's
 * reader connections only read).
 *
 * Writes to the database file itself (a checkpoint copying the log into
 * it) go straight through, and every PACE_BYTES of them the kernel is
 * asked to start writing them back (sync_file_range). Left alone, a
 * checkpoint pass dirtied tens of megabytes in the page cache and its
 * final fsync sent them to the disk at once; the writer's next commit
 * then waited behind them in its own fsync of the log, and those commits
 * were the 1% slowest acks. The checkpointer's connection uses this VFS
 * for that alone (it writes no log); the writer's own copies of the last
 * frames are paced too. */
#include "ssq-config.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sqlite3.h>
#include <glib.h>
#include <glib/gstdio.h>
#include "ssq-server-walbuf.h"

#define WALBUF_SIZE (4 * 1024 * 1024)
#define WALBUF_WRITE_MAX (64 * 1024)
#define PACE_BYTES (256 * 1024)

typedef struct {
  sqlite3_file   base;
  sqlite3_file  *real;     /* the underlying VFS's file, right after this */
  gboolean       wal;
  unsigned char *buf;      /* WAL only: bytes for [start, start + len) */
  size_t         len;
  sqlite3_int64  start;
  int            pace_fd;  /* main database only, else -1: for sync_file_range;
                            * the process's (pace_fd_for), never closed here */
  size_t         paced;    /* bytes written since writeback was last started */
  sqlite3_int64  pace_lo;  /* the range they were written in */
  sqlite3_int64  pace_hi;
} WalbufFile;

static sqlite3_vfs walbuf_vfs;

static sqlite3_vfs *
real_vfs (void)
{
  return walbuf_vfs.pAppData;
}

/* Writes out what is buffered. On failure the bytes stay, to be written
 * again by the next flush: SQLite was told that their writes succeeded,
 * and a failure reported on a read (SQLITE_FULL) rolls back only the
 * statement that read, not the frames that earlier statements of the
 * transaction spilled into the buffer. A commit then writes them, or
 * fails with its sync. */
static int
flush (WalbufFile *f)
{
  int rc = SQLITE_OK;
  size_t done = 0;

  /* In pieces: SQLite's unix VFS takes at most 128 KiB - 1 in one write
   * (it masks the length to 17 bits). */
  for (; done < f->len && rc == SQLITE_OK; done += WALBUF_WRITE_MAX)
    rc = f->real->pMethods->xWrite (f->real, f->buf + done, (int) MIN (f->len - done, WALBUF_WRITE_MAX),
                                    f->start + (sqlite3_int64) done);
  if (rc == SQLITE_OK)
    f->len = 0;
  return rc;
}

/* Starts the writeback of the database pages written since the last call
 * once there are PACE_BYTES of them, without waiting for it. Advice only:
 * a failure changes nothing, and the checkpoint's fsync still reports
 * every error. */
static void
pace (WalbufFile    *f,
      sqlite3_int64  offset,
      int            amount)
{
  if (f->pace_fd < 0)
    return;
  f->pace_lo = f->paced == 0 ? offset : MIN (f->pace_lo, offset);
  f->pace_hi = f->paced == 0 ? offset + amount : MAX (f->pace_hi, offset + amount);
  f->paced += (size_t) amount;
  if (f->paced < PACE_BYTES)
    return;
#if HAVE_SYNC_FILE_RANGE
  (void) sync_file_range (f->pace_fd, f->pace_lo, f->pace_hi - f->pace_lo, SYNC_FILE_RANGE_WRITE);
#endif
  f->paced = 0;
}

static int
walbuf_close (sqlite3_file *file)
{
  WalbufFile *f = (WalbufFile *) file;
  int rc = flush (f);
  int rc_close = f->real->pMethods->xClose (f->real);

  g_clear_pointer (&f->buf, g_free);
  return rc != SQLITE_OK ? rc : rc_close;
}

/* A read-only descriptor of the database file SQLite just opened at
 * @path, for sync_file_range (any descriptor of a file reaches its pages
 * in the kernel's cache), or -1. One per file, by device and inode, kept
 * for the life of the process and never closed: closing any descriptor of
 * a file drops every POSIX lock the process holds on it, those of
 * SQLite's other connections included (SQLite defers its own closes for
 * that reason). Held open, the inode cannot be reused by another file. */
static int
pace_fd_for (const char *path)
{
  static GMutex lock;
  static GHashTable *fds;    /* "dev:ino" -> descriptor + 1 */
  g_autofree char *key = NULL;
  struct stat st;
  int fd;

  if (g_stat (path, &st) != 0)
    return -1;
  key = g_strdup_printf ("%ju:%ju", (uintmax_t) st.st_dev, (uintmax_t) st.st_ino);
  g_mutex_lock (&lock);
  if (fds == NULL)
    fds = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  fd = GPOINTER_TO_INT (g_hash_table_lookup (fds, key)) - 1;
  if (fd < 0 && (fd = open (path, O_RDONLY | O_CLOEXEC)) >= 0)
    g_hash_table_insert (fds, g_steal_pointer (&key), GINT_TO_POINTER (fd + 1));
  g_mutex_unlock (&lock);
  return fd;
}

static int
walbuf_read (sqlite3_file *file,
             void         *out,
             int           amount,
             sqlite3_int64 offset)
{
  WalbufFile *f = (WalbufFile *) file;
  int rc = flush (f);

  return rc != SQLITE_OK ? rc : f->real->pMethods->xRead (f->real, out, amount, offset);
}

static int
walbuf_write (sqlite3_file *file,
              const void   *data,
              int           amount,
              sqlite3_int64 offset)
{
  WalbufFile *f = (WalbufFile *) file;
  int rc;

  if (!f->wal)
    {
      rc = f->real->pMethods->xWrite (f->real, data, amount, offset);
      if (rc == SQLITE_OK)
        pace (f, offset, amount);
      return rc;
    }
  /* Only an append to what is buffered joins it: a write anywhere else
   * (an overwritten frame, a restarted log) goes after the buffer. */
  if (f->len > 0 && offset == f->start + (sqlite3_int64) f->len &&
      f->len + (size_t) amount <= WALBUF_SIZE)
    {
      memcpy (f->buf + f->len, data, (size_t) amount);
      f->len += (size_t) amount;
      return SQLITE_OK;
    }
  if ((rc = flush (f)) != SQLITE_OK)
    return rc;
  if (f->buf == NULL)
    f->buf = g_try_malloc (WALBUF_SIZE);
  /* Without the memory, as SQLite's own VFS does. */
  if ((size_t) amount > WALBUF_WRITE_MAX || f->buf == NULL)
    return f->real->pMethods->xWrite (f->real, data, amount, offset);
  memcpy (f->buf, data, (size_t) amount);
  f->start = offset;
  f->len = (size_t) amount;
  return SQLITE_OK;
}

static int
walbuf_truncate (sqlite3_file *file,
                 sqlite3_int64 size)
{
  WalbufFile *f = (WalbufFile *) file;
  int rc = flush (f);

  return rc != SQLITE_OK ? rc : f->real->pMethods->xTruncate (f->real, size);
}

static int
walbuf_sync (sqlite3_file *file,
             int           flags)
{
  WalbufFile *f = (WalbufFile *) file;
  int rc = flush (f);

  return rc != SQLITE_OK ? rc : f->real->pMethods->xSync (f->real, flags);
}

static int
walbuf_file_size (sqlite3_file  *file,
                  sqlite3_int64 *size)
{
  WalbufFile *f = (WalbufFile *) file;
  int rc = flush (f);

  return rc != SQLITE_OK ? rc : f->real->pMethods->xFileSize (f->real, size);
}

/* ---- The rest goes straight to the underlying file -------------------- */

static int
walbuf_lock (sqlite3_file *file, int level)
{
  WalbufFile *f = (WalbufFile *) file;
  return f->real->pMethods->xLock (f->real, level);
}

static int
walbuf_unlock (sqlite3_file *file, int level)
{
  WalbufFile *f = (WalbufFile *) file;
  return f->real->pMethods->xUnlock (f->real, level);
}

static int
walbuf_check_reserved_lock (sqlite3_file *file, int *out)
{
  WalbufFile *f = (WalbufFile *) file;
  return f->real->pMethods->xCheckReservedLock (f->real, out);
}

static int
walbuf_file_control (sqlite3_file *file, int op, void *arg)
{
  WalbufFile *f = (WalbufFile *) file;
  return f->real->pMethods->xFileControl (f->real, op, arg);
}

static int
walbuf_sector_size (sqlite3_file *file)
{
  WalbufFile *f = (WalbufFile *) file;
  return f->real->pMethods->xSectorSize (f->real);
}

static int
walbuf_device_characteristics (sqlite3_file *file)
{
  WalbufFile *f = (WalbufFile *) file;
  return f->real->pMethods->xDeviceCharacteristics (f->real);
}

static int
walbuf_shm_map (sqlite3_file *file, int region, int size, int extend, void volatile **out)
{
  WalbufFile *f = (WalbufFile *) file;
  return f->real->pMethods->xShmMap (f->real, region, size, extend, out);
}

static int
walbuf_shm_lock (sqlite3_file *file, int offset, int n, int flags)
{
  WalbufFile *f = (WalbufFile *) file;
  return f->real->pMethods->xShmLock (f->real, offset, n, flags);
}

static void
walbuf_shm_barrier (sqlite3_file *file)
{
  WalbufFile *f = (WalbufFile *) file;
  f->real->pMethods->xShmBarrier (f->real);
}

static int
walbuf_shm_unmap (sqlite3_file *file, int delete_flag)
{
  WalbufFile *f = (WalbufFile *) file;
  return f->real->pMethods->xShmUnmap (f->real, delete_flag);
}

static int
walbuf_fetch (sqlite3_file *file, sqlite3_int64 offset, int amount, void **out)
{
  WalbufFile *f = (WalbufFile *) file;
  return f->real->pMethods->xFetch (f->real, offset, amount, out);
}

static int
walbuf_unfetch (sqlite3_file *file, sqlite3_int64 offset, void *page)
{
  WalbufFile *f = (WalbufFile *) file;
  return f->real->pMethods->xUnfetch (f->real, offset, page);
}

static const sqlite3_io_methods walbuf_methods = {
  3,
  walbuf_close, walbuf_read, walbuf_write, walbuf_truncate, walbuf_sync,
  walbuf_file_size, walbuf_lock, walbuf_unlock, walbuf_check_reserved_lock,
  walbuf_file_control, walbuf_sector_size, walbuf_device_characteristics,
  walbuf_shm_map, walbuf_shm_lock, walbuf_shm_barrier, walbuf_shm_unmap,
  walbuf_fetch, walbuf_unfetch,
};

static int
walbuf_open (sqlite3_vfs  *vfs,
             const char   *name,
             sqlite3_file *file,
             int           flags,
             int          *out_flags)
{
  WalbufFile *f = (WalbufFile *) file;
  int rc;

  (void) vfs;
  memset (f, 0, sizeof *f);
  f->pace_fd = -1;
  f->real = (sqlite3_file *) (f + 1);
  rc = real_vfs ()->xOpen (real_vfs (), name, f->real, flags, out_flags);
  /* The underlying file's methods are of version 3 (shared memory and
   * mapping), as ours; without them it was not opened. */
  if (f->real->pMethods == NULL)
    return rc;
  if (f->real->pMethods->iVersion < 3)
    {
      f->real->pMethods->xClose (f->real);
      return SQLITE_CANTOPEN;
    }
  f->wal = (flags & SQLITE_OPEN_WAL) != 0;
  /* Without a descriptor, writes are just not paced. */
  if (HAVE_SYNC_FILE_RANGE && (flags & SQLITE_OPEN_MAIN_DB) && name != NULL)
    f->pace_fd = pace_fd_for (name);
  f->base.pMethods = &walbuf_methods;
  return rc;
}

/* ---- The VFS itself: all but xOpen is the underlying one's ------------- */

static int
walbuf_delete (sqlite3_vfs *vfs, const char *name, int sync_dir)
{
  (void) vfs;
  return real_vfs ()->xDelete (real_vfs (), name, sync_dir);
}

static int
walbuf_access (sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
  (void) vfs;
  return real_vfs ()->xAccess (real_vfs (), name, flags, out);
}

static int
walbuf_full_pathname (sqlite3_vfs *vfs, const char *name, int n, char *out)
{
  (void) vfs;
  return real_vfs ()->xFullPathname (real_vfs (), name, n, out);
}

static void *
walbuf_dl_open (sqlite3_vfs *vfs, const char *name)
{
  (void) vfs;
  return real_vfs ()->xDlOpen (real_vfs (), name);
}

static void
walbuf_dl_error (sqlite3_vfs *vfs, int n, char *out)
{
  (void) vfs;
  real_vfs ()->xDlError (real_vfs (), n, out);
}

static void (*walbuf_dl_sym (sqlite3_vfs *vfs, void *handle, const char *symbol)) (void)
{
  (void) vfs;
  return real_vfs ()->xDlSym (real_vfs (), handle, symbol);
}

static void
walbuf_dl_close (sqlite3_vfs *vfs, void *handle)
{
  (void) vfs;
  real_vfs ()->xDlClose (real_vfs (), handle);
}

static int
walbuf_randomness (sqlite3_vfs *vfs, int n, char *out)
{
  (void) vfs;
  return real_vfs ()->xRandomness (real_vfs (), n, out);
}

static int
walbuf_sleep (sqlite3_vfs *vfs, int us)
{
  (void) vfs;
  return real_vfs ()->xSleep (real_vfs (), us);
}

static int
walbuf_current_time (sqlite3_vfs *vfs, double *out)
{
  (void) vfs;
  return real_vfs ()->xCurrentTime (real_vfs (), out);
}

static int
walbuf_get_last_error (sqlite3_vfs *vfs, int n, char *out)
{
  (void) vfs;
  return real_vfs ()->xGetLastError (real_vfs (), n, out);
}

static int
walbuf_current_time_int64 (sqlite3_vfs *vfs, sqlite3_int64 *out)
{
  (void) vfs;
  return real_vfs ()->xCurrentTimeInt64 (real_vfs (), out);
}

/**
 * ssq_server_walbuf_vfs:
 * Registers the VFS (not as the default) the first time.
 *
 * Returns: its name, for sqlite3_open_v2(), or NULL when SQLite's default
 *   VFS lacks what it needs (then connections use the default).
 */
const char *
ssq_server_walbuf_vfs (void)
{
  static gsize registered = 0;
  static gboolean ok;

  if (g_once_init_enter (&registered))
    {
      sqlite3_vfs *base = sqlite3_vfs_find (NULL);

      ok = base != NULL && base->iVersion >= 2;
      if (ok)
        {
          walbuf_vfs = (sqlite3_vfs) {
            .iVersion = 2,
            .szOsFile = (int) sizeof (WalbufFile) + base->szOsFile,
            .mxPathname = base->mxPathname,
            .zName = "ssq-walbuf",
            .pAppData = base,
            .xOpen = walbuf_open,
            .xDelete = walbuf_delete,
            .xAccess = walbuf_access,
            .xFullPathname = walbuf_full_pathname,
            .xDlOpen = walbuf_dl_open,
            .xDlError = walbuf_dl_error,
            .xDlSym = walbuf_dl_sym,
            .xDlClose = walbuf_dl_close,
            .xRandomness = walbuf_randomness,
            .xSleep = walbuf_sleep,
            .xCurrentTime = walbuf_current_time,
            .xGetLastError = walbuf_get_last_error,
            .xCurrentTimeInt64 = walbuf_current_time_int64,
          };
          ok = sqlite3_vfs_register (&walbuf_vfs, 0) == SQLITE_OK;
        }
      g_once_init_leave (&registered, 1);
    }
  return ok ? walbuf_vfs.zName : NULL;
}
