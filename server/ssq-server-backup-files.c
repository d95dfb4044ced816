/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-backup-files.c: the file work of backup and restore: copies
 * hashed as they are made, fsyncs of files and directories, removal of a
 * tree that never follows a link, and the lock files. */
#include "ssq-server-backup-private.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define COPY_CHUNK (256 * 1024)

gboolean
ssq_backup_errno (GError     **error,
                  int          errsv,
                  const char  *format,
                  ...)
{
  g_autofree char *what = NULL;
  va_list args;

  va_start (args, format);
  what = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv), "%s: %s", what,
               g_strerror (errsv));
  return FALSE;
}

/* fsync of @path opened with @flags. */
static gboolean
sync_path (const char  *path,
           int          flags,
           GError     **error)
{
  int fd = open (path, O_RDONLY | O_CLOEXEC | flags);
  int errsv;

  if (fd < 0)
    return ssq_backup_errno (error, errno, _("Cannot open %s"), path);
  if (fsync (fd) == 0)
    {
      close (fd);
      return TRUE;
    }
  errsv = errno;
  close (fd);
  return ssq_backup_errno (error, errsv, _("Cannot sync %s"), path);
}

gboolean
ssq_backup_sync_dir (const char  *path,
                     GError     **error)
{
  return sync_path (path, O_DIRECTORY, error);
}

gboolean
ssq_backup_sync_file (const char  *path,
                      GError     **error)
{
  return sync_path (path, O_NOFOLLOW, error);
}

gboolean
ssq_backup_mkdir (const char  *path,
                  GError     **error)
{
  if (g_mkdir (path, 0700) != 0 && errno != EEXIST)
    return ssq_backup_errno (error, errno, _("Cannot create the directory %s"), path);
  return TRUE;
}

gboolean
ssq_backup_is_hash (const char *name)
{
  if (strlen (name) != 64)
    return FALSE;
  for (int i = 0; i < 64; i++)
    if (!g_ascii_isxdigit (name[i]) || g_ascii_isupper (name[i]))
      return FALSE;
  return TRUE;
}

char *
ssq_backup_media_path (const char *root,
                       const char *sha256)
{
  char prefix[3] = { sha256[0], sha256[1], '\0' };

  return g_build_filename (root, prefix, sha256, NULL);
}

/* Reads all of @in_fd, writing it to @out_fd (if >= 0) and hashing it. */
static gboolean
pump (int          in_fd,
      int          out_fd,
      const char  *from,
      const char  *to,
      GChecksum   *sum,
      goffset     *out_size,
      gboolean    *out_read_failed,
      GError     **error)
{
  g_autofree guint8 *buffer = g_malloc (COPY_CHUNK);
  goffset total = 0;

  for (;;)
    {
      ssize_t n = read (in_fd, buffer, COPY_CHUNK);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          if (out_read_failed != NULL)
            *out_read_failed = TRUE;
          return ssq_backup_errno (error, errno, _("Cannot read %s"), from);
        }
      if (n == 0)
        break;
      g_checksum_update (sum, buffer, n);
      total += n;
      for (ssize_t done = 0; out_fd >= 0 && done < n;)
        {
          ssize_t w = write (out_fd, buffer + done, n - done);

          if (w < 0 && errno == EINTR)
            continue;
          if (w < 0)
            return ssq_backup_errno (error, errno, _("Cannot write %s"), to);
          done += w;
        }
    }
  *out_size = total;
  return TRUE;
}

char *
ssq_backup_file_sha256 (const char  *path,
                        goffset     *out_size,
                        GError     **error)
{
  g_autoptr(GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  goffset size = 0;
  gboolean ok;

  if (fd < 0)
    {
      ssq_backup_errno (error, errno, _("Cannot open %s"), path);
      return NULL;
    }
  ok = pump (fd, -1, path, NULL, sum, &size, NULL, error);
  close (fd);
  if (!ok)
    return NULL;
  if (out_size != NULL)
    *out_size = size;
  return g_strdup (g_checksum_get_string (sum));
}

gboolean
ssq_backup_copy_file (const char  *from,
                      const char  *to,
                      char       **out_sha256,
                      goffset     *out_size,
                      gboolean    *out_read_failed,
                      GError     **error)
{
  g_autoptr(GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  int in_fd, out_fd, errsv;
  goffset size = 0;
  gboolean ok;

  /* The media store renames files out before it unlinks them, and never
   * writes one in place: once open, the bytes read are the whole file. */
  if (out_read_failed != NULL)
    *out_read_failed = TRUE;
  in_fd = open (from, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (in_fd < 0)
    return ssq_backup_errno (error, errno, _("Cannot open %s"), from);
  if (out_read_failed != NULL)
    *out_read_failed = FALSE;
  out_fd = open (to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (out_fd < 0)
    {
      errsv = errno;
      close (in_fd);
      return ssq_backup_errno (error, errsv, _("Cannot create %s"), to);
    }
  ok = pump (in_fd, out_fd, from, to, sum, &size, out_read_failed, error);
  close (in_fd);
  if (ok && fsync (out_fd) != 0)
    ok = ssq_backup_errno (error, errno, _("Cannot sync %s"), to);
  if (close (out_fd) != 0 && ok)
    ok = ssq_backup_errno (error, errno, _("Cannot write %s"), to);
  if (!ok)
    {
      g_unlink (to);
      return FALSE;
    }
  if (out_sha256 != NULL)
    *out_sha256 = g_strdup (g_checksum_get_string (sum));
  if (out_size != NULL)
    *out_size = size;
  return TRUE;
}

gboolean
ssq_backup_remove_tree (const char  *path,
                        GError     **error)
{
  GStatBuf st;

  if (g_lstat (path, &st) != 0)
    return errno == ENOENT ? TRUE : ssq_backup_errno (error, errno, _("Cannot read %s"), path);
  if (S_ISDIR (st.st_mode))
    {
      g_autoptr(GDir) dir = g_dir_open (path, 0, error);
      const char *name;

      if (dir == NULL)
        return FALSE;
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);

          if (!ssq_backup_remove_tree (child, error))
            return FALSE;
        }
      if (g_rmdir (path) != 0)
        return ssq_backup_errno (error, errno, _("Cannot remove %s"), path);
      return TRUE;
    }
  if (g_unlink (path) != 0)
    return ssq_backup_errno (error, errno, _("Cannot remove %s"), path);
  return TRUE;
}

gboolean
ssq_backup_check_empty (const char  *path,
                        const char  *what,
                        const char  *ignore,
                        GError     **error)
{
  g_autoptr(GDir) dir = NULL;
  g_autoptr(GError) local = NULL;
  const char *name;
  GStatBuf st;

  if (g_lstat (path, &st) != 0)
    return errno == ENOENT ? TRUE : ssq_backup_errno (error, errno, _("Cannot read %s"), path);
  if (!S_ISDIR (st.st_mode))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                   _("%s %s exists and is not a directory"), what, path);
      return FALSE;
    }
  dir = g_dir_open (path, 0, &local);
  if (dir == NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  while ((name = g_dir_read_name (dir)) != NULL && g_strcmp0 (name, ignore) == 0)
    ;
  if (name != NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_EMPTY,
                   _("%s %s is not empty (it holds %s): choose a new or empty directory"),
                   what, path, name);
      return FALSE;
    }
  return TRUE;
}

gboolean
ssq_backup_write_file (const char  *path,
                       const char  *contents,
                       GError     **error)
{
  g_autofree char *temp = g_strconcat (path, ".tmp", NULL);
  gsize length = strlen (contents);
  int fd = open (temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  gsize done = 0;

  if (fd < 0)
    return ssq_backup_errno (error, errno, _("Cannot create %s"), temp);
  while (done < length)
    {
      ssize_t w = write (fd, contents + done, length - done);

      if (w < 0 && errno == EINTR)
        continue;
      if (w < 0)
        {
          int errsv = errno;

          close (fd);
          g_unlink (temp);
          return ssq_backup_errno (error, errsv, _("Cannot write %s"), temp);
        }
      done += w;
    }
  if (fsync (fd) != 0 || close (fd) != 0)
    {
      g_unlink (temp);
      return ssq_backup_errno (error, errno, _("Cannot write %s"), temp);
    }
  if (g_rename (temp, path) != 0)
    {
      int errsv = errno;

      g_unlink (temp);
      return ssq_backup_errno (error, errsv, _("Cannot rename to %s"), path);
    }
  return TRUE;
}

int
ssq_backup_lock (const char  *dir,
                 const char  *name,
                 const char  *holder,
                 GError     **error)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  int fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

  if (fd < 0)
    {
      ssq_backup_errno (error, errno, _("Cannot open %s"), path);
      return -1;
    }
  if (flock (fd, LOCK_EX | LOCK_NB) != 0)
    {
      int errsv = errno;

      close (fd);
      if (errsv == EWOULDBLOCK)
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_BUSY,
                     _("%s is locked (%s holds it): stop it first"), path, holder);
      else
        ssq_backup_errno (error, errsv, _("Cannot lock %s"), path);
      return -1;
    }
  return fd;
}
