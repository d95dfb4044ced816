/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-tui-media.c: where the terminal client meets the client library's
 * media calls. /upload puts a message with its file into the outbox, whose
 * upload shows in the status bar; /save and /open download through the
 * library's cache, one file at a time, the progress in the status bar too
 * (/save then copies the file into its folder: ssq-tui-save.c); pictures
 * are made from thumbnails in the cache (fetched when missing) and kept
 * per media id for the next frames. Esc cancels what the status bar
 * shows. */
#include "ssq-tui-private.h"
#include "ssq-tui-save.h"

#include <gio/gio.h>
#include <glib/gstdio.h>

/* A picture per media id: made once, or being fetched, or not to be had
 * (until the message says a thumbnail exists). */
typedef struct {
  SsqTuiImage *image;
  gboolean     fetching;
  gboolean     had_thumbnail;   /* the media said so when last tried */
} Picture;

/* A file to bring into the cache, then to copy into @dir or to open. */
typedef struct {
  SsqMedia *media;
  char     *dir;                /* NULL: open it */
} Job;

struct _SsqTuiMedia
{
  SsqTui       *tui;            /* not a reference: it owns this */
  GHashTable   *pictures;       /* media id → Picture */

  /* The upload shown: its message, the copy into the outbox, its transfer. */
  char         *upload_client_id;
  char         *upload_name;
  GCancellable *upload_copy;
  SsqTransfer  *upload_transfer;

  /* Downloads, one after the other. */
  GQueue        jobs;
  SsqTransfer  *download;
};

static void
picture_free (gpointer data)
{
  Picture *picture = data;

  g_clear_pointer (&picture->image, ssq_tui_image_free);
  g_free (picture);
}

static void
job_free (Job *job)
{
  g_object_unref (job->media);
  g_free (job->dir);
  g_free (job);
}

SsqTuiMedia *
ssq_tui_media_new (SsqTui *tui)
{
  SsqTuiMedia *self = g_new0 (SsqTuiMedia, 1);

  self->tui = tui;
  self->pictures = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, picture_free);
  g_queue_init (&self->jobs);
  return self;
}

static void
unwatch (SsqTuiMedia  *self,
         SsqTransfer **transfer)
{
  if (*transfer == NULL)
    return;
  g_signal_handlers_disconnect_by_data (*transfer, self);
  g_clear_object (transfer);
}

void
ssq_tui_media_free (SsqTuiMedia *self)
{
  if (self->upload_copy != NULL)
    g_cancellable_cancel (self->upload_copy);
  g_clear_object (&self->upload_copy);
  unwatch (self, &self->upload_transfer);
  unwatch (self, &self->download);
  g_queue_clear_full (&self->jobs, (GDestroyNotify) job_free);
  g_free (self->upload_client_id);
  g_free (self->upload_name);
  g_hash_table_unref (self->pictures);
  g_free (self);
}

/* ---- Progress of a transfer in the status bar -------------------------- */

static void
transfer_done_cb (SsqTransfer *transfer,
                  GParamSpec  *pspec,
                  SsqTuiMedia *self)
{
  ssq_tui_progress_update (self->tui, ssq_transfer_get_done (transfer), ssq_transfer_get_total (transfer));
}

static void
show_transfer (SsqTuiMedia *self,
               SsqTransfer *transfer,
               const char  *label,
               SsqTuiCancelFunc cancel)
{
  ssq_tui_progress_begin (self->tui, label, cancel, self);
  ssq_tui_progress_update (self->tui, ssq_transfer_get_done (transfer), ssq_transfer_get_total (transfer));
  g_signal_connect (transfer, "notify::done", G_CALLBACK (transfer_done_cb), self);
  g_signal_connect (transfer, "notify::total", G_CALLBACK (transfer_done_cb), self);
}

/* ---- Uploads ------------------------------------------------------------ */

static void upload_cancel (gpointer user_data);

static void
upload_forget (SsqTuiMedia *self)
{
  /* The status bar may show a download by now. */
  if (self->upload_name != NULL &&
      (self->tui->progress_cancel == upload_cancel || self->tui->progress_cancel == NULL))
    ssq_tui_progress_end (self->tui);
  unwatch (self, &self->upload_transfer);
  g_clear_object (&self->upload_copy);
  g_clear_pointer (&self->upload_client_id, g_free);
  g_clear_pointer (&self->upload_name, g_free);
}

/* Esc: a message whose file is not up yet is not sent at all. */
static void
upload_cancel (gpointer user_data)
{
  SsqTuiMedia *self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *client_id = g_strdup (self->upload_client_id);
  g_autofree char *name = g_strdup (self->upload_name);

  if (self->upload_copy != NULL)
    g_cancellable_cancel (self->upload_copy);
  upload_forget (self);
  if (client_id != NULL && !ssq_client_discard_message (self->tui->client, client_id, &error))
    {
      ssq_tui_set_status (self->tui, TRUE, "%s", error->message);
      return;
    }
  ssq_tui_set_status (self->tui, FALSE, _("Upload of %s cancelled"), name);
}

static void
upload_finished_cb (SsqTransfer *transfer,
                    GParamSpec  *pspec,
                    SsqTuiMedia *self)
{
  if (ssq_transfer_get_finished (transfer))
    upload_forget (self);
}

/* The message left the outbox (sent, or discarded elsewhere), or failed,
 * without an upload seen running: the status bar lets go of it. */
static void
upload_check_gone (SsqTuiMedia *self)
{
  g_autoptr(SsqMessage) entry = ssq_cache_outbox_get (ssq_client_get_cache (self->tui->client),
                                                      self->upload_client_id);

  if (entry != NULL && ssq_message_get_status (entry) != SSQ_MESSAGE_FAILED)
    return;
  if (entry != NULL)
    ssq_tui_set_status (self->tui, TRUE, _("%s was not sent: /retry or /discard"), self->upload_name);
  upload_forget (self);
}

static void
outbox_changed_cb (SsqClient  *client,
                   const char *conversation_id,
                   const char *client_id,
                   SsqTui     *tui)
{
  SsqTuiMedia *self = tui->media;
  SsqTransfer *transfer;
  g_autofree char *label = NULL;

  if (self == NULL || self->upload_client_id == NULL || g_strcmp0 (client_id, self->upload_client_id) != 0)
    return;
  transfer = ssq_client_get_outbox_transfer (client, client_id);
  if (transfer == NULL)
    {
      if (self->upload_transfer == NULL)
        upload_check_gone (self);
      return;
    }
  if (transfer == self->upload_transfer)
    return;
  unwatch (self, &self->upload_transfer);
  self->upload_transfer = g_object_ref (transfer);
  label = g_strdup_printf (_("Uploading %s"), self->upload_name);
  ssq_tui_progress_end (self->tui);
  show_transfer (self, transfer, label, upload_cancel);
  g_signal_connect (transfer, "notify::finished", G_CALLBACK (upload_finished_cb), self);
}

static void
upload_queued_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(SsqTui) tui = user_data;
  SsqTuiMedia *self = tui->media;
  g_autoptr(GError) error = NULL;
  g_autoptr(SsqMessage) message =
    ssq_client_send_message_with_media_finish (SSQ_CLIENT (source), result, &error);

  if (self == NULL || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (message == NULL)
    {
      g_autofree char *name = g_strdup (self->upload_name);

      upload_forget (self);
      ssq_tui_set_status (tui, TRUE, _("Cannot send %s: %s"), name, error->message);
      return;
    }
  g_clear_object (&self->upload_copy);
  self->upload_client_id = g_strdup (ssq_message_get_client_id (message));
  /* The upload may have begun already. */
  outbox_changed_cb (tui->client, ssq_message_get_conversation_id (message), self->upload_client_id, tui);
}

/**
 * ssq_tui_media_upload:
 * @path: a regular file the user can read, expanded
 * @caption: (nullable): the text to send with it
 *
 * Sends @path to the current conversation: copied into the outbox, then
 * uploaded and sent when its turn comes (offline: once back).
 *
 * Returns: whether the upload started; FALSE with @error otherwise.
 */
gboolean
ssq_tui_media_upload (SsqTui      *tui,
                      const char  *path,
                      const char  *caption,
                      GError     **error)
{
  SsqTuiMedia *self = tui->media;
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autofree char *label = NULL;

  if (self->upload_client_id != NULL || self->upload_copy != NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_BUSY,
                           _("An upload is under way: wait for it or press Esc to cancel it"));
      return FALSE;
    }
  if (tui->progress_label != NULL)
    ssq_tui_progress_end (tui);
  self->upload_name = g_filename_display_basename (path);
  self->upload_copy = g_cancellable_new ();
  label = g_strdup_printf (_("Uploading %s"), self->upload_name);
  ssq_tui_progress_begin (tui, label, upload_cancel, self);
  ssq_client_send_message_with_media_async (tui->client, tui->current_id, caption ? caption : "", 0,
                                            &file, 1, self->upload_copy, upload_queued_cb,
                                            g_object_ref (tui));
  return TRUE;
}

/* ---- Downloads: /save and /open ----------------------------------------- */

static void next_job (SsqTuiMedia *self);

static void
download_cancel (gpointer user_data)
{
  SsqTuiMedia *self = user_data;

  /* The rest of the queue goes too: Esc means "stop this". */
  g_queue_clear_full (&self->jobs, (GDestroyNotify) job_free);
  if (self->download != NULL)
    ssq_transfer_cancel (self->download);
}

static void
open_file (SsqTuiMedia *self,
           GFile       *file)
{
  g_autofree char *path = g_file_get_path (file);
  const char *argv[] = { "xdg-open", path, NULL };
  g_autoptr(GError) error = NULL;

  if (!g_spawn_async (NULL, (char **) argv, NULL,
                      G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                      NULL, NULL, NULL, &error))
    ssq_tui_set_status (self->tui, TRUE, _("Cannot open %s: %s"), path, error->message);
}

typedef struct {
  SsqTui *tui;
  char   *name;
} Copy;

static void
saved_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  Copy *copy = user_data;
  g_autoptr(SsqTui) tui = copy->tui;
  g_autofree char *name = copy->name;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = ssq_tui_save_copy_finish (result, &error);

  g_free (copy);
  if (tui->media == NULL)
    return;     /* quitting */
  if (path == NULL)
    {
      ssq_tui_set_status (tui, TRUE, _("Cannot save %s: %s"), name, error->message);
      return;
    }
  {
    g_autofree char *shown = g_filename_display_name (path);

    ssq_tui_set_status (tui, FALSE, _("Saved %s"), shown);
  }
}

/* The download is in the cache: open it, or copy it into the job's
 * folder, off the main loop (a large file takes a while to copy), the
 * status bar saying so until it is done. */
static void
job_done (SsqTuiMedia *self,
          Job         *job,
          GFile       *file)
{
  Copy *copy;

  if (job->dir == NULL)
    {
      open_file (self, file);
      return;
    }
  copy = g_new0 (Copy, 1);
  copy->tui = g_object_ref (self->tui);
  copy->name = ssq_tui_save_name (ssq_media_get_name (job->media));
  ssq_tui_set_status (self->tui, FALSE, _("Saving %s…"), copy->name);
  ssq_tui_save_copy_async (file, job->dir, copy->name, NULL, saved_cb, copy);
}

static void
downloaded_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(SsqTui) tui = user_data;
  SsqTuiMedia *self = tui->media;
  g_autoptr(GError) error = NULL;
  g_autoptr(GFile) file = ssq_client_download_finish (SSQ_CLIENT (source), result, &error);
  Job *job;

  if (self == NULL)
    return;
  job = g_queue_pop_head (&self->jobs);
  unwatch (self, &self->download);
  ssq_tui_progress_end (tui);
  if (file == NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    ssq_tui_set_status (tui, FALSE, "%s", _("Download cancelled"));
  else if (file == NULL && job != NULL)
    ssq_tui_set_status (tui, TRUE, _("Cannot download %s: %s"), ssq_media_get_name (job->media), error->message);
  else if (job != NULL)
    job_done (self, job, file);
  if (job != NULL)
    job_free (job);
  next_job (self);
}

static void
next_job (SsqTuiMedia *self)
{
  Job *job = g_queue_peek_head (&self->jobs);
  g_autofree char *label = NULL;

  if (job == NULL || self->download != NULL)
    return;
  label = g_strdup_printf (_("Downloading %s"), ssq_media_get_name (job->media));
  self->download = g_object_ref (ssq_client_download_async (self->tui->client, ssq_media_get_id (job->media),
                                                            NULL, downloaded_cb, g_object_ref (self->tui)));
  show_transfer (self, self->download, label, download_cancel);
}

/* The message @seq of the current conversation, if it has attachments. */
static SsqMessage *
message_with_media (SsqTui   *tui,
                    gint64    seq,
                    GError  **error)
{
  g_autoptr(SsqMessage) message = ssq_cache_get_message (ssq_client_get_cache (tui->client), tui->current_id, seq);

  if (message == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, _("No message #%lld here"), (long long) seq);
      return NULL;
    }
  if (ssq_message_get_n_media (message) == 0 || ssq_message_get_deleted (message))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   _("Message #%lld has no attachments"), (long long) seq);
      return NULL;
    }
  return g_steal_pointer (&message);
}

static void
queue_jobs (SsqTuiMedia *self,
            SsqMessage  *message,
            const char  *dir)
{
  for (guint i = 0; i < ssq_message_get_n_media (message); i++)
    {
      SsqMedia *media = ssq_message_get_media (message, i);
      Job *job;

      if (ssq_media_get_id (media) == NULL)
        continue;
      job = g_new0 (Job, 1);
      job->media = g_object_ref (media);
      job->dir = g_strdup (dir);
      g_queue_push_tail (&self->jobs, job);
    }
  next_job (self);
}

/* Where /save puts files unless told: the downloads folder, else the
 * current one. */
static char *
default_dir (void)
{
  const char *special = g_get_user_special_dir (G_USER_DIRECTORY_DOWNLOAD);
  g_autofree char *downloads = g_build_filename (g_get_home_dir (), "Downloads", NULL);

  if (special != NULL && g_file_test (special, G_FILE_TEST_IS_DIR))
    return g_strdup (special);
  if (g_file_test (downloads, G_FILE_TEST_IS_DIR))
    return g_steal_pointer (&downloads);
  return g_get_current_dir ();
}

/**
 * ssq_tui_media_save:
 * @seq: a message of the current conversation
 * @dir: (nullable): a directory, expanded; NULL for the downloads folder
 *
 * Saves the attachments of message @seq into @dir, beside what is there.
 *
 * Returns: whether saving started; FALSE with @error otherwise.
 */
gboolean
ssq_tui_media_save (SsqTui      *tui,
                    gint64       seq,
                    const char  *dir,
                    GError     **error)
{
  g_autoptr(SsqMessage) message = message_with_media (tui, seq, error);
  g_autofree char *target = dir != NULL ? g_strdup (dir) : default_dir ();

  if (message == NULL)
    return FALSE;
  queue_jobs (tui->media, message, target);
  return TRUE;
}

/**
 * ssq_tui_media_open:
 * @seq: a message of the current conversation
 *
 * Opens the attachments of message @seq with the desktop's programs
 * (xdg-open), in a graphical session only.
 *
 * Returns: whether opening started; FALSE with @error otherwise (also when
 *   @seq has no attachments: the caller may then read it otherwise).
 */
gboolean
ssq_tui_media_open (SsqTui      *tui,
                    gint64       seq,
                    GError     **error)
{
  g_autoptr(SsqMessage) message = message_with_media (tui, seq, error);

  if (message == NULL)
    return FALSE;
  if (g_getenv ("DISPLAY") == NULL && g_getenv ("WAYLAND_DISPLAY") == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   _("No graphical session to open files in: /save %lld instead"), (long long) seq);
      return FALSE;
    }
  queue_jobs (tui->media, message, NULL);
  return TRUE;
}

/* ---- Pictures ------------------------------------------------------------ */

typedef struct {
  SsqTui *tui;
  char   *id;
} Fetch;

static void
thumbnail_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Fetch *fetch = user_data;
  SsqTui *tui = fetch->tui;
  g_autoptr(GError) error = NULL;
  g_autoptr(GFile) file = ssq_client_fetch_thumbnail_finish (SSQ_CLIENT (source), result, &error);
  Picture *picture = tui->media ? g_hash_table_lookup (tui->media->pictures, fetch->id) : NULL;

  if (error != NULL)
    g_debug ("tui: no thumbnail: %s", error->message);
  if (picture != NULL)
    {
      picture->fetching = FALSE;
      if (file != NULL)
        {
          g_autofree char *path = g_file_get_path (file);

          picture->image = ssq_tui_image_new_from_file (path, &tui->image_options, &error);
          if (picture->image == NULL)
            g_debug ("tui: thumbnail not shown: %s", error->message);
        }
      ssq_tui_queue_redraw (tui);
    }
  g_object_unref (fetch->tui);
  g_free (fetch->id);
  g_free (fetch);
}

/**
 * ssq_tui_media_picture:
 *
 * Returns: (transfer none) (nullable): the picture of @media's thumbnail
 *   when it is in the cache; else NULL, and it is fetched (a redraw
 *   follows) if the server has one.
 */
SsqTuiImage *
ssq_tui_media_picture (SsqTui   *tui,
                       SsqMedia *media)
{
  SsqTuiMedia *self = tui->media;
  const char *id = ssq_media_get_id (media);
  Picture *picture;
  g_autoptr(GFile) cached = NULL;

  if (id == NULL || !ssq_media_is_image (media))
    return NULL;
  picture = g_hash_table_lookup (self->pictures, id);
  if (picture != NULL && (picture->image != NULL || picture->fetching ||
                          picture->had_thumbnail || !ssq_media_has_thumbnail (media)))
    return picture->image;
  if (picture == NULL)
    {
      picture = g_new0 (Picture, 1);
      g_hash_table_insert (self->pictures, g_strdup (id), picture);
    }
  /* Tried before without a thumbnail, which has come since: again. */
  picture->had_thumbnail = ssq_media_has_thumbnail (media);
  cached = ssq_client_lookup_media (tui->client, id, TRUE);
  if (cached != NULL)
    {
      g_autofree char *path = g_file_get_path (cached);
      g_autoptr(GError) error = NULL;

      picture->image = ssq_tui_image_new_from_file (path, &tui->image_options, &error);
      if (picture->image == NULL)
        g_debug ("tui: thumbnail not shown: %s", error->message);
      return picture->image;
    }
  if (!picture->had_thumbnail)
    return NULL;
  picture->fetching = TRUE;
  {
    Fetch *fetch = g_new0 (Fetch, 1);

    fetch->tui = g_object_ref (tui);
    fetch->id = g_strdup (id);
    ssq_client_fetch_thumbnail_async (tui->client, id, NULL, thumbnail_cb, fetch);
  }
  return NULL;
}

/* Connects what the media code follows of the client. */
void
ssq_tui_media_attach (SsqTui *tui)
{
  g_signal_connect (tui->client, "outbox-changed", G_CALLBACK (outbox_changed_cb), tui);
}
