/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-upload.c: an upload's way from the socket to the media store.
 *
 * The main loop only copies what the transport read into the upload's
 * queue (the transport reuses its buffer); a job on the store's threads
 * takes the queue in order, writes it to a temporary file and hashes it.
 * The queues of all uploads share one lock, which also guards the budget:
 * an upload with more than UPLOAD_HIGH bytes queued, or arriving while all
 * uploads together hold more than ALL_HIGH, is told to wait (the transport
 * then stops reading its socket), and is told to go on once its own queue
 * is below UPLOAD_LOW and the total below ALL_LOW. A slow disk thus slows
 * the senders down instead of filling the server's memory.
 *
 * A JPEG, PNG or WebP is stored without its personal metadata (GPS
 * position, serial numbers, authors...: ssq-server-exif.h,
 * ssq-server-png-strip.h, ssq-server-webp-strip.h): once the body is
 * whole, a stripped copy
 * replaces it and is hashed anew, so that the store never holds what was
 * stripped and equal uploads are still one file. An image's size is read
 * from its header before it enters the store. */
#include "ssq-server-upload.h"
#include "ssq-server-exif.h"
#include "ssq-server-png-strip.h"
#include "ssq-server-webp-strip.h"
#include "ssq-server-image-size.h"
#include "ssq-server-media-private.h"
#include "ssq-proto.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#define UPLOAD_HIGH   (1024 * 1024)
#define UPLOAD_LOW    (256 * 1024)
#define ALL_HIGH      (32 * 1024 * 1024)
#define ALL_LOW       (16 * 1024 * 1024)
/* The first bytes, for sniffing the type: GIO's magic rules look at most
 * this far (shared-mime-info's deepest range ends well before). */
#define SNIFF_BYTES   4096
/* Pieces one job writes before it lets other uploads have the thread. */
#define JOB_PIECES    32
#define HASH_CHUNK    (64 * 1024)

struct _SsqServerUpload {
  gint                            ref_count;
  SsqServerMedia                 *media;
  const SsqServerUploadCallbacks *callbacks;
  gpointer                        user_data;

  /* Under the media store's lock. */
  GQueue                          queue;      /* GBytes, in order */
  gsize                           queued;
  gboolean                        scheduled;  /* a job is pushed or running */
  gboolean                        paused;     /* told to wait, in media->waiting */
  gboolean                        finishing;  /* no more bytes: store it */
  gboolean                        cancelled;

  /* The job's (one at a time). */
  int                             fd;
  char                           *temp_path;
  GChecksum                      *checksum;
  guint8                          head[SNIFF_BYTES];
  gsize                           head_len;
  goffset                         size;
  GError                         *error;      /* the first failure */
  gboolean                        failed_told;

  /* Set by the job before `stored`, read on the main loop after. */
  char                           *sha256;
  char                           *mime;
  gint64                          width;      /* an image's, upright; 0: unknown */
  gint64                          height;
};

static SsqServerUpload *
upload_ref (SsqServerUpload *upload)
{
  g_atomic_int_inc (&upload->ref_count);
  return upload;
}

void
ssq_server_upload_unref (SsqServerUpload *upload)
{
  if (upload == NULL || !g_atomic_int_dec_and_test (&upload->ref_count))
    return;
  g_assert (!upload->scheduled && !upload->paused);
  g_queue_clear_full (&upload->queue, (GDestroyNotify) g_bytes_unref);
  if (upload->fd >= 0)
    close (upload->fd);
  if (upload->temp_path != NULL)
    g_unlink (upload->temp_path);
  g_free (upload->temp_path);
  g_clear_pointer (&upload->checksum, g_checksum_free);
  g_clear_error (&upload->error);
  g_free (upload->sha256);
  g_free (upload->mime);
  ssq_server_media_unref (upload->media);
  g_free (upload);
}

/**
 * ssq_server_upload_new:
 * An upload into @media; @callbacks tell @user_data how it goes.
 */
SsqServerUpload *
ssq_server_upload_new (SsqServerMedia                 *media,
                       const SsqServerUploadCallbacks *callbacks,
                       gpointer                        user_data)
{
  SsqServerUpload *upload = g_new0 (SsqServerUpload, 1);

  upload->ref_count = 1;
  upload->media = ssq_server_media_ref (media);
  upload->callbacks = callbacks;
  upload->user_data = user_data;
  upload->fd = -1;
  upload->checksum = g_checksum_new (G_CHECKSUM_SHA256);
  g_queue_init (&upload->queue);
  return upload;
}

/* ---- Back on the main loop -------------------------------------------- */

typedef enum {
  NOTE_RESUME,
  NOTE_FAILED,
  NOTE_STORED,
} NoteKind;

typedef struct {
  SsqServerUpload *upload;
  NoteKind         kind;
} Note;

static void
note_free (gpointer data)
{
  Note *note = data;

  ssq_server_upload_unref (note->upload);
  g_free (note);
}

static gboolean
note_cb (gpointer data)
{
  Note *note = data;
  SsqServerUpload *upload = note->upload;

  if (upload->cancelled)
    {
      /* Nobody waits for this file any more: its pin goes. */
      if (note->kind == NOTE_STORED && upload->error == NULL)
        ssq_server_media_unpin (upload->media, upload->sha256, NULL);
      return G_SOURCE_REMOVE;
    }
  switch (note->kind)
    {
    case NOTE_RESUME:
      upload->callbacks->resume (upload->user_data);
      break;
    case NOTE_FAILED:
      upload->callbacks->failed (upload->error, upload->user_data);
      break;
    case NOTE_STORED:
      upload->callbacks->stored (upload->error, upload->user_data);
      break;
    }
  return G_SOURCE_REMOVE;
}

/* Any thread. */
static void
note (SsqServerUpload *upload,
      NoteKind         kind)
{
  Note *n = g_new (Note, 1);

  n->upload = upload_ref (upload);
  n->kind = kind;
  ssq_server_media_invoke (upload->media, note_cb, n, note_free);
}

/* Under lock: uploads told to wait that may go on now. */
static void
wake_waiting_locked (SsqServerMedia *media)
{
  GList *l = media->waiting.head;

  if (media->queued > ALL_LOW)
    return;
  while (l != NULL)
    {
      GList *next = l->next;
      SsqServerUpload *waiting = l->data;

      if (waiting->queued <= UPLOAD_LOW)
        {
          g_queue_delete_link (&media->waiting, l);
          waiting->paused = FALSE;
          note (waiting, NOTE_RESUME);
          ssq_server_upload_unref (waiting);     /* the list's reference */
        }
      l = next;
    }
}

/* ---- On the store's threads ------------------------------------------- */

static gboolean
fail (SsqServerUpload *upload,
      int              errsv,
      const char      *what)
{
  if (upload->error == NULL)
    {
      if (errsv == ENOSPC || errsv == EDQUOT)
        g_set_error_literal (&upload->error, SSQ_ERROR, SSQ_ERROR_UNAVAILABLE,
                             "No space left for media on the server");
      else
        g_set_error (&upload->error, SSQ_ERROR, SSQ_ERROR_INTERNAL,
                     "Cannot %s an upload: %s", what, g_strerror (errsv));
    }
  return FALSE;
}

static gboolean
open_temp (SsqServerUpload *upload)
{
  upload->temp_path = g_build_filename (ssq_server_media_tmp_dir (upload->media),
                                        "upload-XXXXXX", NULL);
  upload->fd = g_mkstemp_full (upload->temp_path, O_RDWR | O_CLOEXEC, 0600);
  if (upload->fd >= 0)
    return TRUE;
  g_clear_pointer (&upload->temp_path, g_free);
  return fail (upload, errno, "create");
}

static gboolean
write_piece (SsqServerUpload *upload,
             GBytes          *piece)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (piece, &len);
  gsize done = 0;

  if (upload->fd < 0 && !open_temp (upload))
    return FALSE;
  if (upload->head_len < SNIFF_BYTES)
    {
      gsize n = MIN (len, SNIFF_BYTES - upload->head_len);

      memcpy (upload->head + upload->head_len, data, n);
      upload->head_len += n;
    }
  g_checksum_update (upload->checksum, data, len);
  while (done < len)
    {
      gssize n = write (upload->fd, data + done, len - done);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return fail (upload, errno, "write");
      done += n;
    }
  upload->size += len;
  return TRUE;
}

/* Whether @head, the first bytes of a file, can be text: UTF-8 (its last
 * character may be cut where the window ends, when @cut) without NUL or
 * control characters other than the usual layout ones. */
static gboolean
looks_like_text (const guint8 *head,
                 gsize         length,
                 gboolean      cut)
{
  const char *text = (const char *) head;
  const char *end;

  if (!g_utf8_validate (text, length, &end) &&
      !(cut && g_utf8_get_char_validated (end, text + length - end) == (gunichar) -2))
    return FALSE;
  for (gsize i = 0; i < length; i++)
    if ((head[i] < 0x20 && strchr ("\t\n\r\f\b\x1b", head[i]) == NULL) || head[i] == 0x7f)
      return FALSE;
  return TRUE;
}

/* The type of the bytes, from their first ones (never the client's word):
 * GIO's guess from shared-mime-info's magic, as a MIME type. Some of its
 * rules for text types are weak (text/x-matlab is any "%" at offset 0, a
 * third of random files): a text type is kept only for bytes that can be
 * text. */
static char *
sniff (const guint8 *head,
       gsize         length)
{
  g_autofree char *type = NULL;
  g_autofree char *mime = NULL;

  if (length == 0)
    return g_strdup ("application/octet-stream");
  type = g_content_type_guess (NULL, head, length, NULL);
  mime = type != NULL ? g_content_type_get_mime_type (type) : NULL;
  if (mime == NULL || strchr (mime, '/') == NULL ||
      (g_str_has_prefix (mime, "text/") && !looks_like_text (head, length, length == SNIFF_BYTES)))
    return g_strdup ("application/octet-stream");
  return g_steal_pointer (&mime);
}

/* Hashes the upload's file anew, from its start, and takes its size. */
static gboolean
rehash (SsqServerUpload *upload)
{
  g_autofree guint8 *buf = g_malloc (HASH_CHUNK);

  g_checksum_reset (upload->checksum);
  upload->size = 0;
  for (;;)
    {
      gssize n = read (upload->fd, buf, HASH_CHUNK);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return fail (upload, errno, "read");
      if (n == 0)
        return TRUE;
      g_checksum_update (upload->checksum, buf, n);
      upload->size += n;
    }
}

typedef gboolean (*StripFunc) (const char *src_path, const char *dest_path, GError **error);

/* Why an image (@kind: "JPEG", "PNG" or "WebP") could not be stripped,
 * as the upload's error. */
static gboolean
fail_strip (SsqServerUpload *upload,
            const char      *kind,
            const GError    *error)
{
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE))
    return fail (upload, ENOSPC, "strip");
  if (error->domain == SSQ_ERROR && error->code == SSQ_ERROR_INVALID)
    g_set_error (&upload->error, SSQ_ERROR, SSQ_ERROR_INVALID,
                 "This %s image is damaged and was not stored: %s", kind, error->message);
  else
    g_set_error (&upload->error, SSQ_ERROR, SSQ_ERROR_INTERNAL,
                 "Cannot strip the metadata of a %s upload: %s", kind, error->message);
  return FALSE;
}

/* Replaces the upload's file with a copy without its personal metadata,
 * made by @strip, and its hash and size with the copy's. An image that
 * cannot be stripped is refused: kept as it came, or even as a plain file
 * (still an image to any viewer), it could give away where the sender
 * was. */
static gboolean
strip_image (SsqServerUpload *upload,
             const char      *kind,
             StripFunc        strip)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *copy_path = g_build_filename (ssq_server_media_tmp_dir (upload->media),
                                                 "strip-XXXXXX", NULL);
  int fd = g_mkstemp_full (copy_path, O_RDWR | O_CLOEXEC, 0600);

  if (fd < 0)
    return fail (upload, errno, "create");
  close (fd);
  if (!strip (upload->temp_path, copy_path, &error))
    {
      g_unlink (copy_path);
      return fail_strip (upload, kind, error);
    }
  /* The copy is the upload from here on. */
  close (upload->fd);
  g_unlink (upload->temp_path);
  g_free (upload->temp_path);
  upload->temp_path = g_steal_pointer (&copy_path);
  upload->fd = open (upload->temp_path, O_RDWR | O_CLOEXEC);
  if (upload->fd < 0)
    return fail (upload, errno, "open");
  return rehash (upload);
}

/* Syncs the file, names it by its hash and puts it in the store. */
static void
store_file (SsqServerUpload *upload)
{
  SsqServerMedia *media = upload->media;

  if (upload->fd < 0 && !open_temp (upload))     /* an empty upload */
    return;
  upload->mime = sniff (upload->head, upload->head_len);
  if (g_str_equal (upload->mime, "image/jpeg")
      && !strip_image (upload, "JPEG", ssq_server_exif_strip))
    return;
  if (g_str_equal (upload->mime, "image/png")
      && !strip_image (upload, "PNG", ssq_server_png_strip))
    return;
  if (g_str_equal (upload->mime, "image/webp")
      && !strip_image (upload, "WebP", ssq_server_webp_strip))
    return;
  if (ssq_server_media_durable (media) && fsync (upload->fd) != 0)
    {
      fail (upload, errno, "sync");
      return;
    }
  close (upload->fd);
  upload->fd = -1;
  upload->sha256 = g_strdup (g_checksum_get_string (upload->checksum));
  ssq_server_image_size (upload->temp_path, upload->mime, &upload->width, &upload->height);
  if (ssq_server_media_commit_file (media, upload->temp_path, upload->sha256, upload->size,
                                    &upload->error))
    g_clear_pointer (&upload->temp_path, g_free);  /* it is the store's now */
}

/* Drops what is queued and the temporary file. */
static void
discard (SsqServerUpload *upload)
{
  if (upload->fd >= 0)
    {
      close (upload->fd);
      upload->fd = -1;
    }
  if (upload->temp_path != NULL)
    {
      g_unlink (upload->temp_path);
      g_clear_pointer (&upload->temp_path, g_free);
    }
}

static void upload_job (gpointer data,
                        gpointer user_data);

/* Under lock: makes sure a job will look at @upload. Once the store is
 * closed (its threads gone) the job is returned instead, for the caller to
 * run on its own thread after releasing the lock. */
static G_GNUC_WARN_UNUSED_RESULT SsqServerUpload *
schedule_locked (SsqServerUpload *upload)
{
  if (upload->scheduled)
    return NULL;
  upload->scheduled = TRUE;
  if (upload->media->closed)
    return upload_ref (upload);
  ssq_server_media_run (upload->media, upload_job, upload_ref (upload));
  return NULL;
}

static void
run_late (SsqServerUpload *job)
{
  if (job != NULL)
    upload_job (job, NULL);
}

static void
upload_job (gpointer data,
            gpointer user_data)
{
  SsqServerUpload *upload = data;
  SsqServerMedia *media = upload->media;
  GMutex *lock = &media->lock;

  gboolean rescheduled = FALSE;

  g_mutex_lock (lock);
  for (guint pieces = 0;; pieces++)
    {
      g_autoptr(GBytes) piece = NULL;
      gsize len;

      if (upload->cancelled)
        {
          g_mutex_unlock (lock);
          discard (upload);
          g_mutex_lock (lock);
          break;
        }
      if (pieces == JOB_PIECES && !g_queue_is_empty (&upload->queue) && !media->closed)
        {
          /* Others' turn: this upload goes behind them. */
          ssq_server_media_run (media, upload_job, upload_ref (upload));
          rescheduled = TRUE;
          break;
        }
      piece = g_queue_pop_head (&upload->queue);
      if (piece == NULL && !upload->finishing)
        break;
      len = piece != NULL ? g_bytes_get_size (piece) : 0;
      upload->queued -= len;
      media->queued -= len;
      g_mutex_unlock (lock);
      if (piece == NULL)
        {
          /* The whole body is written. */
          if (upload->error == NULL)
            store_file (upload);
          if (upload->error != NULL)
            discard (upload);
          note (upload, NOTE_STORED);
          g_mutex_lock (lock);
          upload->finishing = FALSE;
          break;
        }
      if (upload->error == NULL && !write_piece (upload, piece) && !upload->failed_told)
        {
          upload->failed_told = TRUE;
          discard (upload);
          note (upload, NOTE_FAILED);
        }
      g_mutex_lock (lock);
      wake_waiting_locked (media);
    }
  if (!rescheduled)
    upload->scheduled = FALSE;
  g_mutex_unlock (lock);
  ssq_server_upload_unref (upload);      /* the job's reference */
}

/* ---- The main loop's side --------------------------------------------- */

/**
 * ssq_server_upload_write:
 * Queues a copy of @data. Returns FALSE when the feeder should wait until
 * the `resume` callback (the bytes are taken all the same).
 */
gboolean
ssq_server_upload_write (SsqServerUpload *upload,
                         const guint8    *data,
                         gsize            length)
{
  SsqServerMedia *media = upload->media;
  SsqServerUpload *late = NULL;
  gboolean go_on = TRUE;

  if (length == 0)
    return TRUE;
  g_mutex_lock (&media->lock);
  if (!upload->cancelled && upload->error == NULL)
    {
      g_queue_push_tail (&upload->queue, g_bytes_new (data, length));
      upload->queued += length;
      media->queued += length;
      late = schedule_locked (upload);
    }
  if ((upload->queued > UPLOAD_HIGH || media->queued > ALL_HIGH) && !upload->cancelled)
    {
      if (!upload->paused)
        {
          upload->paused = TRUE;
          g_queue_push_tail (&media->waiting, upload_ref (upload));
        }
      go_on = FALSE;
    }
  g_mutex_unlock (&media->lock);
  run_late (late);
  return go_on;
}

/**
 * ssq_server_upload_finish:
 * No more bytes: once they are written, the file is stored and the
 * `stored` callback says how it went.
 */
void
ssq_server_upload_finish (SsqServerUpload *upload)
{
  SsqServerUpload *late;

  g_mutex_lock (&upload->media->lock);
  upload->finishing = TRUE;
  late = schedule_locked (upload);
  g_mutex_unlock (&upload->media->lock);
  run_late (late);
}

/**
 * ssq_server_upload_cancel:
 * Drops the upload (its temporary file goes); no callback comes after.
 * A file it already put in the store is unpinned.
 */
void
ssq_server_upload_cancel (SsqServerUpload *upload)
{
  SsqServerMedia *media = upload->media;
  SsqServerUpload *late;

  g_mutex_lock (&media->lock);
  upload->cancelled = TRUE;
  media->queued -= upload->queued;
  upload->queued = 0;
  g_queue_clear_full (&upload->queue, (GDestroyNotify) g_bytes_unref);
  if (upload->paused)
    {
      g_queue_remove (&media->waiting, upload);
      upload->paused = FALSE;
      ssq_server_upload_unref (upload);
    }
  wake_waiting_locked (media);
  /* A job removes the file, after any write under way. */
  late = schedule_locked (upload);
  g_mutex_unlock (&media->lock);
  run_late (late);
}

const char *
ssq_server_upload_sha256 (SsqServerUpload *upload)
{
  return upload->sha256;
}

const char *
ssq_server_upload_mime (SsqServerUpload *upload)
{
  return upload->mime;
}

goffset
ssq_server_upload_size (SsqServerUpload *upload)
{
  return upload->size;
}

gint64
ssq_server_upload_width (SsqServerUpload *upload)
{
  return upload->width;
}

gint64
ssq_server_upload_height (SsqServerUpload *upload)
{
  return upload->height;
}
