/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-media.c: the content-addressed media store on disk.
 *
 * A file enters the store by rename from the upload area, after its bytes
 * were fsynced, and its directory is fsynced before the row that names it
 * is committed: a crash leaves at worst a file no row names, which the
 * sweep at start-up removes together with half-written uploads. Whether a
 * file is still needed is decided under one lock, against the committed
 * rows and the pins of uploads not committed yet; the file then leaves by
 * rename into the upload area (cheap, on the main loop) and is unlinked on
 * the pool (freeing a large file's blocks takes a while). */
#include "ssq-server-media-private.h"
#include "ssq-proto.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Threads doing the disk work of uploads: writing, hashing, fsyncing. */
#define IO_THREADS 2

static gboolean
set_errno_error (GError     **error,
                 int          errsv,
                 const char  *what,
                 const char  *path)
{
  /* A full disk is the server's state, not a fault of the request. */
  if (errsv == ENOSPC || errsv == EDQUOT)
    g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_UNAVAILABLE,
                         "No space left for media on the server");
  else
    g_set_error (error, SSQ_ERROR, SSQ_ERROR_INTERNAL, "Cannot %s %s: %s", what, path,
                 g_strerror (errsv));
  return FALSE;
}

typedef struct {
  GFunc    job;
  gpointer data;
} Job;

/* The pool's function: each push carries its own job. */
static void
run_job (gpointer data,
         gpointer user_data)
{
  Job *job = data;

  job->job (job->data, NULL);
  g_free (job);
}

static gboolean
is_hash_name (const char *name,
              gsize       length)
{
  if (strlen (name) != length)
    return FALSE;
  for (gsize i = 0; i < length; i++)
    if (!g_ascii_isxdigit (name[i]) || g_ascii_isupper (name[i]))
      return FALSE;
  return TRUE;
}

/* fsync of a directory, so that a rename or a new entry in it survives a
 * power loss. */
static gboolean
sync_dir (const char  *path,
          GError     **error)
{
  int fd = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int errsv;

  if (fd < 0)
    return set_errno_error (error, errno, "open", path);
  if (fsync (fd) == 0)
    {
      close (fd);
      return TRUE;
    }
  errsv = errno;
  close (fd);
  return set_errno_error (error, errsv, "sync", path);
}

/* Removes everything in the upload area: uploads a crash cut short, and
 * files on their way out. */
static void
clear_tmp (const char *tmp_dir)
{
  g_autoptr(GDir) dir = g_dir_open (tmp_dir, 0, NULL);
  const char *name;
  guint n = 0;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (tmp_dir, name, NULL);

      if (g_unlink (path) == 0)
        n++;
    }
  if (n > 0)
    g_message ("Removed %u unfinished upload(s) from %s", n, tmp_dir);
}

/* Removes the files of the store that no row names (their upload crashed
 * between the rename and the commit) and counts the bytes of the others. */
static gboolean
sweep_store (SsqServerMedia  *media,
             SsqServerStore  *store,
             GError         **error)
{
  g_autoptr(GHashTable) used = ssq_server_store_media_hashes (store, error);
  g_autoptr(GDir) dir = NULL;
  const char *prefix;
  guint removed = 0;

  if (used == NULL)
    return FALSE;
  dir = g_dir_open (media->dir, 0, error);
  if (dir == NULL)
    return FALSE;
  while ((prefix = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *sub_path = g_build_filename (media->dir, prefix, NULL);
      g_autoptr(GDir) sub = NULL;
      const char *name;

      if (!is_hash_name (prefix, 2) || (sub = g_dir_open (sub_path, 0, NULL)) == NULL)
        continue;
      while ((name = g_dir_read_name (sub)) != NULL)
        {
          g_autofree char *path = g_build_filename (sub_path, name, NULL);
          GStatBuf st;

          if (!is_hash_name (name, 64) || !g_str_has_prefix (name, prefix) ||
              g_stat (path, &st) != 0 || !S_ISREG (st.st_mode))
            continue;
          if (g_hash_table_contains (used, name))
            media->bytes_stored += st.st_size;
          else if (g_unlink (path) == 0)
            removed++;
        }
    }
  if (removed > 0)
    g_message ("Removed %u media file(s) that no upload finished", removed);
  return TRUE;
}

/**
 * ssq_server_media_new:
 * Opens (creating it) the media store under @data_dir, after clearing
 * the upload area and removing the files no row of @store names: call it
 * before anything is served. @durable: fsync what enters the store.
 */
SsqServerMedia *
ssq_server_media_new (const char      *data_dir,
                      SsqServerStore  *store,
                      gboolean         durable,
                      GError         **error)
{
  g_autoptr(SsqServerMedia) media = g_new0 (SsqServerMedia, 1);

  media->ref_count = 1;
  g_mutex_init (&media->lock);
  g_queue_init (&media->waiting);
  media->pins = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  media->durable = durable;
  media->dir = g_build_filename (data_dir, SSQ_MEDIA_DIR, NULL);
  media->tmp_dir = g_build_filename (media->dir, SSQ_MEDIA_TMP_DIR, NULL);
  media->context = g_main_context_ref_thread_default ();
  if (g_mkdir_with_parents (media->tmp_dir, 0700) != 0)
    {
      set_errno_error (error, errno, "create", media->tmp_dir);
      return NULL;
    }
  clear_tmp (media->tmp_dir);
  if (!sweep_store (media, store, error))
    return NULL;
  media->pool = g_thread_pool_new (run_job, NULL, IO_THREADS, FALSE, error);
  if (media->pool == NULL)
    return NULL;
  return g_steal_pointer (&media);
}

SsqServerMedia *
ssq_server_media_ref (SsqServerMedia *media)
{
  g_atomic_int_inc (&media->ref_count);
  return media;
}

void
ssq_server_media_unref (SsqServerMedia *media)
{
  if (media == NULL || !g_atomic_int_dec_and_test (&media->ref_count))
    return;
  if (media->pool != NULL)
    g_thread_pool_free (media->pool, FALSE, TRUE);
  g_assert (g_queue_is_empty (&media->waiting));
  g_hash_table_unref (media->pins);
  g_mutex_clear (&media->lock);
  g_main_context_unref (media->context);
  g_free (media->dir);
  g_free (media->tmp_dir);
  g_free (media);
}

/**
 * ssq_server_media_close:
 * Waits for the disk work under way (queued work still runs: an upload
 * cut short removes its file) and refuses more. Uploads holding a
 * reference keep the store's memory until they are done.
 */
void
ssq_server_media_close (SsqServerMedia *media)
{
  GThreadPool *pool;

  g_mutex_lock (&media->lock);
  media->closed = TRUE;
  pool = g_steal_pointer (&media->pool);
  g_mutex_unlock (&media->lock);
  if (pool != NULL)
    g_thread_pool_free (pool, FALSE, TRUE);
}

gboolean
ssq_server_media_is_closed (SsqServerMedia *media)
{
  return media->closed;
}

guint64
ssq_server_media_bytes_stored (SsqServerMedia *media)
{
  guint64 bytes;

  g_mutex_lock (&media->lock);
  bytes = media->bytes_stored;
  g_mutex_unlock (&media->lock);
  return bytes;
}

gboolean
ssq_server_media_durable (SsqServerMedia *media)
{
  return media->durable;
}

const char *
ssq_server_media_tmp_dir (SsqServerMedia *media)
{
  return media->tmp_dir;
}

char *
ssq_server_media_path (SsqServerMedia *media,
                       const char     *sha256)
{
  char prefix[3] = { sha256[0], sha256[1], '\0' };

  g_return_val_if_fail (is_hash_name (sha256, 64), NULL);
  return g_build_filename (media->dir, prefix, sha256, NULL);
}

/**
 * ssq_server_media_open:
 * Opens the file @sha256 for reading; its size in @out_size.
 *
 * Returns: a descriptor, or -1 with @error
 */
int
ssq_server_media_open (SsqServerMedia  *media,
                       const char      *sha256,
                       goffset         *out_size,
                       GError         **error)
{
  g_autofree char *path = ssq_server_media_path (media, sha256);
  struct stat st;
  int fd;

  fd = path != NULL ? open (path, O_RDONLY | O_CLOEXEC) : -1;
  if (fd < 0)
    {
      set_errno_error (error, path != NULL ? errno : EINVAL, "open", path ? path : sha256);
      return -1;
    }
  if (fstat (fd, &st) != 0)
    {
      set_errno_error (error, errno, "stat", path);
      close (fd);
      return -1;
    }
  *out_size = st.st_size;
  return fd;
}

/**
 * ssq_server_media_run:
 * Runs @job (@data, NULL) on the media store's threads. After close, it
 * runs at once on the caller's thread: work cut short must still clean up.
 */
void
ssq_server_media_run (SsqServerMedia *media,
                      GFunc           job,
                      gpointer        data)
{
  Job *j;

  if (media->pool == NULL)
    {
      job (data, NULL);
      return;
    }
  j = g_new (Job, 1);
  j->job = job;
  j->data = data;
  g_thread_pool_push (media->pool, j, NULL);
}

/**
 * ssq_server_media_invoke:
 * Runs @func (@data) on the main context, from any thread, never at once.
 */
void
ssq_server_media_invoke (SsqServerMedia *media,
                         GSourceFunc     func,
                         gpointer        data,
                         GDestroyNotify  data_free)
{
  GSource *source = g_idle_source_new ();

  /* Always through a source, never called in place: callers may hold the
   * store's lock. */
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, func, data, data_free);
  g_source_attach (source, media->context);
  g_source_unref (source);
}

/* Pool thread: unlinks a file on its way out. */
static void
unlink_job (gpointer data,
            gpointer user_data)
{
  g_autofree char *path = data;

  g_unlink (path);
}

/* Under lock: the file @sha256 leaves the store unless a row names it or
 * an upload holds it. */
static void
release_locked (SsqServerMedia *media,
                const char     *sha256,
                SsqServerStore *store)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  g_autofree char *gone = NULL;
  gboolean used = TRUE;
  GStatBuf st;

  if (g_hash_table_contains (media->pins, sha256) ||
      (path = ssq_server_media_path (media, sha256)) == NULL)
    return;
  if (!ssq_server_store_media_hash_used (store, sha256, &used, &error))
    g_warning ("Cannot tell whether media file %s is used: %s", sha256, error->message);
  if (used)
    return;
  gone = g_strdup_printf ("%s/gone-%" G_GUINT64_FORMAT "-%s", media->tmp_dir,
                          ++media->trash_counter, sha256);
  if (g_stat (path, &st) != 0 || g_rename (path, gone) != 0)
    {
      if (errno != ENOENT)
        g_warning ("Cannot remove media file %s: %s", path, g_strerror (errno));
      return;
    }
  media->bytes_stored -= MIN (media->bytes_stored, (guint64) st.st_size);
  ssq_server_media_run (media, unlink_job, g_steal_pointer (&gone));
}

/**
 * ssq_server_media_commit_file:
 * Pool thread. Puts the finished upload @temp_path (already synced) into
 * the store as @sha256, or drops it when the store has those bytes
 * already, and pins @sha256 until ssq_server_media_unpin (). The entry is
 * durable when this returns.
 */
gboolean
ssq_server_media_commit_file (SsqServerMedia  *media,
                              const char      *temp_path,
                              const char      *sha256,
                              goffset          size,
                              GError         **error)
{
  g_autofree char *path = ssq_server_media_path (media, sha256);
  g_autofree char *prefix_dir = g_path_get_dirname (path);
  gboolean new_dir = FALSE;
  gboolean ok = TRUE;

  g_mutex_lock (&media->lock);
  if (g_file_test (path, G_FILE_TEST_EXISTS))
    g_unlink (temp_path);             /* the same bytes are stored once */
  else
    {
      if (g_mkdir (prefix_dir, 0700) == 0)
        new_dir = TRUE;
      else if (errno != EEXIST)
        ok = set_errno_error (error, errno, "create", prefix_dir);
      if (ok && g_rename (temp_path, path) != 0)
        ok = set_errno_error (error, errno, "store", path);
      if (ok)
        media->bytes_stored += size;
    }
  if (ok)
    g_hash_table_insert (media->pins, g_strdup (sha256),
                         GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (media->pins,
                                                                                  sha256)) + 1));
  g_mutex_unlock (&media->lock);
  if (!ok)
    {
      g_unlink (temp_path);
      return FALSE;
    }
  /* Also when the file was there: its entry may be a moment old, from an
   * upload of the same bytes still syncing it. */
  if (media->durable &&
      ((new_dir && !sync_dir (media->dir, error)) || !sync_dir (prefix_dir, error)))
    {
      ssq_server_media_unpin (media, sha256, NULL);
      return FALSE;
    }
  return TRUE;
}

/**
 * ssq_server_media_store_bytes:
 * Pool thread. Puts @bytes (a thumbnail, say) into the store as
 * ssq_server_media_commit_file () does, pinned until
 * ssq_server_media_unpin ().
 *
 * Returns: (transfer full): their SHA-256 (hex), or NULL with @error
 */
char *
ssq_server_media_store_bytes (SsqServerMedia  *media,
                              GBytes          *bytes,
                              GError         **error)
{
  g_autofree char *temp_path = g_build_filename (media->tmp_dir, "bytes-XXXXXX", NULL);
  g_autofree char *sha256 = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, bytes);
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);
  int fd = g_mkstemp_full (temp_path, O_RDWR | O_CLOEXEC, 0600);
  gsize done = 0;

  if (fd < 0)
    {
      set_errno_error (error, errno, "create", temp_path);
      return NULL;
    }
  while (done < len)
    {
      gssize n = write (fd, data + done, len - done);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 || (media->durable && done + n == len && fsync (fd) != 0))
        {
          set_errno_error (error, errno, "write", temp_path);
          close (fd);
          g_unlink (temp_path);
          return NULL;
        }
      done += n;
    }
  close (fd);
  if (!ssq_server_media_commit_file (media, temp_path, sha256, len, error))
    return NULL;
  return g_steal_pointer (&sha256);
}

/**
 * ssq_server_media_unpin:
 * Main thread (or any thread with @store NULL): the row of an upload of
 * @sha256 is committed, or failed. Without a pin left and a row naming it,
 * the file goes (only with @store: otherwise the sweep at the next start
 * finds it).
 */
void
ssq_server_media_unpin (SsqServerMedia *media,
                        const char     *sha256,
                        SsqServerStore *store)
{
  guint n;

  g_mutex_lock (&media->lock);
  n = GPOINTER_TO_UINT (g_hash_table_lookup (media->pins, sha256));
  if (n > 1)
    g_hash_table_insert (media->pins, g_strdup (sha256), GUINT_TO_POINTER (n - 1));
  else
    g_hash_table_remove (media->pins, sha256);
  if (n <= 1 && store != NULL)
    release_locked (media, sha256, store);
  g_mutex_unlock (&media->lock);
}

/**
 * ssq_server_media_release:
 * Main thread, after the commit that deleted rows naming @hashes: each
 * file that no row names any more and no upload holds leaves the store.
 */
void
ssq_server_media_release (SsqServerMedia *media,
                          GPtrArray      *hashes,
                          SsqServerStore *store)
{
  g_mutex_lock (&media->lock);
  for (guint i = 0; hashes != NULL && i < hashes->len; i++)
    release_locked (media, hashes->pdata[i], store);
  g_mutex_unlock (&media->lock);
}
