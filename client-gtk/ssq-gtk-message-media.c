/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-gtk-message-media.c: a message's attachments under its text. Each
 * is an SsqGtkMediaRow; this widget owns what the rows only show. A
 * picture's thumbnail comes from the library's download cache, fetched
 * when not there yet; until the server has made it the placeholder stays,
 * and the message comes again (rebinding this) once it has. Rebinding
 * keeps a row whose attachment did not change, so that receipts and edits
 * do not make the thumbnails flicker.
 *
 * A click on a picture downloads it whole through the library's cache
 * (the row shows the progress) and opens the viewer; Save and Open of
 * another file download it the same way first. An attachment still in the
 * outbox is its copy there, which needs no download.
 *
 * While the message waits in the outbox, each attachment's row follows
 * its upload (the library counts a message's uploads in one transfer, in
 * the attachments' order: each row takes its share), and its cancel
 * button takes that attachment out of the message (the whole message when
 * nothing else would be left). */
#include "ssq-config.h"
#include "ssq-gtk-message-media.h"

#include <glib/gi18n.h>

#include "ssq-gtk-media-row.h"
#include "ssq-gtk-viewer.h"

struct _SsqGtkMessageMedia
{
  GtkWidget     parent_instance;
  GtkWidget    *box;
  GtkWidget    *rows_box;
  GPtrArray    *rows;           /* SsqGtkMediaRow, one per attachment */

  SsqClient    *client;
  SsqMessage   *message;
  SsqTransfer  *upload;         /* the outbox's, while it runs */
  gulong        upload_handler;
  gboolean      uploading;      /* the message waits in the outbox */
  GCancellable *work;           /* thumbnails and downloads; cancelled at dispose */
};

G_DEFINE_FINAL_TYPE (SsqGtkMessageMedia, ssq_gtk_message_media, GTK_TYPE_WIDGET)

typedef enum {
  ACTION_VIEW,
  ACTION_SAVE,
  ACTION_OPEN,
} Action;

static void
toast (GtkWidget  *widget,
       const char *text)
{
  gtk_widget_activate_action (widget, "win.toast", "s", text);
}

/* What a row shows: when this changes, the row is set again. */
static char *
media_key (SsqMedia *media)
{
  return g_strdup_printf ("%s|%d|%" G_GINT64_FORMAT "x%" G_GINT64_FORMAT "|%s",
                          ssq_media_get_id (media) ? ssq_media_get_id (media) : "",
                          ssq_media_has_thumbnail (media), ssq_media_get_width (media),
                          ssq_media_get_height (media), ssq_media_get_name (media));
}

static SsqMedia *
row_media (GtkWidget *row)
{
  return g_object_get_data (G_OBJECT (row), "ssq-media");
}

/* ---- Thumbnails ------------------------------------------------------- */

/* A thumbnail fetch is tried this many times, a second apart: the server
 * said it has one, so a failure (a timeout on a loaded machine, a dropped
 * connection) is worth another try; the row shows its placeholder until. */
#define THUMBNAIL_TRIES 4

typedef struct {
  SsqGtkMessageMedia *self;
  GtkWidget          *row;
  char               *key;
  guint               tries;
} Thumbnail;

static void thumbnail_fetch (Thumbnail *t);

static void
thumbnail_free (Thumbnail *t)
{
  g_object_unref (t->self);
  g_object_unref (t->row);
  g_free (t->key);
  g_free (t);
}

static gboolean
thumbnail_retry_cb (gpointer data)
{
  thumbnail_fetch (data);
  return G_SOURCE_REMOVE;
}

static void
thumbnail_fetched_cb (GObject      *source,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  Thumbnail *t = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GFile) file = ssq_client_fetch_thumbnail_finish (SSQ_CLIENT (source), result, &error);
  g_autofree char *path = file ? g_file_get_path (file) : NULL;
  SsqMedia *media = row_media (t->row);
  g_autofree char *key = media ? media_key (media) : NULL;

  /* Still the attachment the row shows? Else nothing to do. */
  if (g_strcmp0 (key, t->key) != 0 || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      thumbnail_free (t);
      return;
    }
  if (path != NULL)
    {
      ssq_gtk_media_row_set_thumbnail (SSQ_GTK_MEDIA_ROW (t->row), path);
      thumbnail_free (t);
      return;
    }
  if (error != NULL)
    g_debug ("thumbnail: %s", error->message);
  if (++t->tries >= THUMBNAIL_TRIES)
    {
      thumbnail_free (t);
      return;
    }
  g_timeout_add_seconds (1, thumbnail_retry_cb, t);
}

static void
thumbnail_fetch (Thumbnail *t)
{
  g_autoptr(SsqTransfer) transfer = NULL;
  SsqMedia *media = row_media (t->row);
  g_autofree char *key = media ? media_key (media) : NULL;

  /* Gone, or showing another attachment by now: nothing to fetch. */
  if (t->self->client == NULL || g_cancellable_is_cancelled (t->self->work) ||
      g_strcmp0 (key, t->key) != 0)
    {
      thumbnail_free (t);
      return;
    }
  transfer = ssq_client_fetch_thumbnail_async (t->self->client, ssq_media_get_id (media),
                                               t->self->work, thumbnail_fetched_cb, t);
}

static void
show_thumbnail (SsqGtkMessageMedia *self,
                GtkWidget          *row,
                SsqMedia           *media)
{
  const char *id = ssq_media_get_id (media);
  g_autoptr(GFile) cached = NULL;
  Thumbnail *t;

  if (id == NULL || !ssq_gtk_media_row_is_picture (SSQ_GTK_MEDIA_ROW (row)))
    return;
  cached = ssq_client_lookup_media (self->client, id, TRUE);
  if (cached != NULL)
    {
      g_autofree char *path = g_file_get_path (cached);

      ssq_gtk_media_row_set_thumbnail (SSQ_GTK_MEDIA_ROW (row), path);
      return;
    }
  /* Not made yet: the message comes again when it is. */
  if (!ssq_media_has_thumbnail (media))
    return;
  t = g_new0 (Thumbnail, 1);
  t->self = g_object_ref (self);
  t->row = g_object_ref (row);
  t->key = media_key (media);
  thumbnail_fetch (t);
}

/* ---- Downloads and what follows them ---------------------------------- */

typedef struct {
  SsqGtkMessageMedia *self;
  GtkWidget          *row;
  SsqMedia           *media;
  Action              action;
  SsqTransfer        *transfer;
} Fetch;

static void
fetch_free (Fetch *f)
{
  if (f->transfer != NULL)
    g_signal_handlers_disconnect_by_data (f->transfer, f);
  g_clear_object (&f->transfer);
  g_object_unref (f->self);
  g_object_unref (f->row);
  g_object_unref (f->media);
  g_free (f);
}

static void
saved_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(GtkWidget) row = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;

  if (g_file_copy_finish (G_FILE (source), result, &error))
    text = g_strdup (_("File saved"));
  else if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    text = g_strdup_printf (_("Could not save the file: %s"), error->message);
  if (text != NULL)
    toast (row, text);
}

static void
save_response_cb (GtkNativeDialog *dialog,
                  int              response,
                  GtkWidget       *row)
{
  GFile *file = g_object_get_data (G_OBJECT (dialog), "ssq-file");
  g_autoptr(GFile) target = NULL;

  if (response == GTK_RESPONSE_ACCEPT)
    target = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
  /* Onto itself, a copy would empty the file before reading it. */
  if (target != NULL && !g_file_equal (target, file))
    g_file_copy_async (file, target, G_FILE_COPY_OVERWRITE | G_FILE_COPY_TARGET_DEFAULT_PERMS,
                       G_PRIORITY_DEFAULT, NULL, NULL, NULL, saved_cb, g_object_ref (row));
  gtk_native_dialog_destroy (dialog);
  g_object_unref (dialog);
}

/* A file is saved among the downloads, unless the user picks elsewhere. */
static void
start_in_downloads (GtkFileChooser *chooser)
{
  const char *downloads = g_get_user_special_dir (G_USER_DIRECTORY_DOWNLOAD);
  g_autoptr(GFile) folder = NULL;

  if (downloads == NULL || !g_file_test (downloads, G_FILE_TEST_IS_DIR))
    return;
  folder = g_file_new_for_path (downloads);
  gtk_file_chooser_set_current_folder (chooser, folder, NULL);
}

static void
save_file (GtkWidget *row,
           GFile     *file,
           SsqMedia  *media)
{
  GtkRoot *root = gtk_widget_get_root (row);
  GtkFileChooserNative *chooser;
  g_autofree char *name = g_utf8_make_valid (ssq_media_get_name (media), -1);

  chooser = gtk_file_chooser_native_new (_("Save File"), GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                         GTK_FILE_CHOOSER_ACTION_SAVE, _("_Save"), NULL);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  start_in_downloads (GTK_FILE_CHOOSER (chooser));
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser), name);
  g_object_set_data_full (G_OBJECT (chooser), "ssq-file", g_object_ref (file), g_object_unref);
  g_signal_connect_object (chooser, "response", G_CALLBACK (save_response_cb), row, 0);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
launched_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(GtkWidget) row = user_data;
  g_autoptr(GError) error = NULL;

  if (!g_app_info_launch_default_for_uri_finish (result, &error))
    {
      g_autofree char *text = g_strdup_printf (_("Could not open the file: %s"), error->message);

      toast (row, text);
    }
}

static void
act_on (Fetch *f,
        GFile *file)
{
  GtkRoot *root = gtk_widget_get_root (f->row);

  switch (f->action)
    {
    case ACTION_VIEW:
      gtk_window_present (GTK_WINDOW (ssq_gtk_viewer_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL, file,
                                                          ssq_media_get_name (f->media))));
      break;
    case ACTION_SAVE:
      save_file (f->row, file, f->media);
      break;
    case ACTION_OPEN:
      {
        g_autofree char *uri = g_file_get_uri (file);

        g_app_info_launch_default_for_uri_async (uri, NULL, NULL, launched_cb, g_object_ref (f->row));
      }
      break;
    default:
      g_assert_not_reached ();
    }
}

static void
downloaded_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  Fetch *f = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GFile) file = ssq_client_download_finish (SSQ_CLIENT (source), result, &error);

  ssq_gtk_media_row_set_progress (SSQ_GTK_MEDIA_ROW (f->row), -1);
  if (file != NULL)
    act_on (f, file);
  else if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      /* Translators: %s is a file's name, then why it could not be downloaded. */
      g_autofree char *text = g_strdup_printf (_("Could not download %s: %s"), ssq_media_get_name (f->media),
                                               error->message);

      toast (f->row, text);
    }
  fetch_free (f);
}

static void
download_progress_cb (SsqTransfer *transfer,
                      GParamSpec  *pspec,
                      Fetch       *f)
{
  ssq_gtk_media_row_set_progress (SSQ_GTK_MEDIA_ROW (f->row), ssq_transfer_get_fraction (transfer));
}

static void
fetch_and_act (SsqGtkMessageMedia *self,
               GtkWidget          *row,
               Action              action)
{
  SsqMedia *media = row_media (row);
  Fetch *f;

  if (media == NULL || self->client == NULL)
    return;
  f = g_new0 (Fetch, 1);
  f->self = g_object_ref (self);
  f->row = g_object_ref (row);
  f->media = g_object_ref (media);
  f->action = action;
  if (ssq_media_get_id (media) == NULL)
    {
      /* Still in the outbox: its copy there is the file. */
      if (ssq_media_get_local_file (media) != NULL)
        act_on (f, ssq_media_get_local_file (media));
      fetch_free (f);
      return;
    }
  ssq_gtk_media_row_set_progress (SSQ_GTK_MEDIA_ROW (row), 0);
  f->transfer = ssq_client_download_async (self->client, ssq_media_get_id (media), self->work, downloaded_cb, f);
  if (f->transfer != NULL)
    g_signal_connect (f->transfer, "notify::fraction", G_CALLBACK (download_progress_cb), f);
}

static void
row_activate_cb (GtkWidget          *row,
                 SsqGtkMessageMedia *self)
{
  fetch_and_act (self, row, ACTION_VIEW);
}

static void
row_save_cb (GtkWidget          *row,
             SsqGtkMessageMedia *self)
{
  fetch_and_act (self, row, ACTION_SAVE);
}

static void
row_open_cb (GtkWidget          *row,
             SsqGtkMessageMedia *self)
{
  fetch_and_act (self, row, ACTION_OPEN);
}

/* ---- The upload ------------------------------------------------------- */

/* Each row's share of the message's upload: the attachments go up one
 * after the other in their order, so the transfer's count passes through
 * each attachment's bytes in turn; one with its media id is up. */
static void
show_uploads (SsqGtkMessageMedia *self)
{
  guint64 done = self->upload != NULL ? ssq_transfer_get_done (self->upload) : 0;
  guint64 before = 0;

  for (guint i = 0; i < self->rows->len; i++)
    {
      SsqMedia *media = ssq_message_get_media (self->message, i);
      guint64 size = (guint64) MAX (ssq_media_get_size (media), 0);
      double fraction = 0;

      if (!self->uploading)
        fraction = -1;
      else if (ssq_media_get_id (media) != NULL)
        fraction = 1;
      else if (done > before)
        fraction = size > 0 ? (double) MIN (done - before, size) / (double) size : 1;
      ssq_gtk_media_row_set_upload (self->rows->pdata[i], fraction);
      before += size;
    }
}

static void
upload_progress_cb (SsqTransfer        *transfer,
                    GParamSpec         *pspec,
                    SsqGtkMessageMedia *self)
{
  show_uploads (self);
}

static void
follow_upload (SsqGtkMessageMedia *self,
               SsqTransfer        *transfer)
{
  if (transfer == self->upload)
    return;
  if (self->upload != NULL)
    g_clear_signal_handler (&self->upload_handler, self->upload);
  g_set_object (&self->upload, transfer);
  if (transfer != NULL)
    self->upload_handler = g_signal_connect (transfer, "notify::fraction", G_CALLBACK (upload_progress_cb), self);
}

static void
row_cancel_cb (GtkWidget          *row,
               SsqGtkMessageMedia *self)
{
  g_autoptr(GError) error = NULL;
  guint position;

  if (self->client == NULL || self->message == NULL || !ssq_message_is_pending (self->message) ||
      !g_ptr_array_find (self->rows, row, &position))
    return;
  if (!ssq_client_remove_attachment (self->client, ssq_message_get_client_id (self->message), position, &error))
    toast (GTK_WIDGET (self), error->message);
}

/* ---- Binding ---------------------------------------------------------- */

static GtkWidget *
add_row (SsqGtkMessageMedia *self)
{
  GtkWidget *row = ssq_gtk_media_row_new ();

  gtk_widget_set_halign (row, GTK_ALIGN_START);
  g_signal_connect (row, "activate", G_CALLBACK (row_activate_cb), self);
  g_signal_connect (row, "save", G_CALLBACK (row_save_cb), self);
  g_signal_connect (row, "open", G_CALLBACK (row_open_cb), self);
  g_signal_connect (row, "cancel", G_CALLBACK (row_cancel_cb), self);
  gtk_box_append (GTK_BOX (self->rows_box), row);
  g_ptr_array_add (self->rows, row);
  return row;
}

static void
bind_row (SsqGtkMessageMedia *self,
          GtkWidget          *row,
          SsqMedia           *media)
{
  g_autofree char *key = media_key (media);
  SsqMedia *shown = row_media (row);
  g_autofree char *shown_key = shown ? media_key (shown) : NULL;

  if (g_strcmp0 (key, shown_key) == 0)
    return;
  g_object_set_data_full (G_OBJECT (row), "ssq-media", g_object_ref (media), g_object_unref);
  ssq_gtk_media_row_set_media (SSQ_GTK_MEDIA_ROW (row), ssq_media_get_name (media), ssq_media_get_mime (media),
                               ssq_media_get_size (media), (int) CLAMP (ssq_media_get_width (media), 0, G_MAXINT),
                               (int) CLAMP (ssq_media_get_height (media), 0, G_MAXINT));
  show_thumbnail (self, row, media);
}

/**
 * ssq_gtk_message_media_bind:
 * @self: the attachments
 * @client: the session's client
 * @message: the message shown, perhaps without attachments (then this
 *   hides)
 *
 * Shows @message's attachments, fetching the thumbnails it lacks.
 */
void
ssq_gtk_message_media_bind (SsqGtkMessageMedia *self,
                            SsqClient          *client,
                            SsqMessage         *message)
{
  guint n;
  gboolean uploading;

  g_return_if_fail (SSQ_IS_GTK_MESSAGE_MEDIA (self));
  g_return_if_fail (SSQ_IS_CLIENT (client));
  g_return_if_fail (SSQ_IS_MESSAGE (message));

  g_set_object (&self->client, client);
  g_set_object (&self->message, message);
  n = ssq_message_get_deleted (message) ? 0 : ssq_message_get_n_media (message);
  while (self->rows->len > n)
    {
      GtkWidget *row = g_ptr_array_steal_index (self->rows, self->rows->len - 1);

      gtk_box_remove (GTK_BOX (self->rows_box), row);
    }
  while (self->rows->len < n)
    add_row (self);
  for (guint i = 0; i < n; i++)
    bind_row (self, self->rows->pdata[i], ssq_message_get_media (message, i));

  uploading = n > 0 && ssq_message_is_pending (message) && ssq_message_get_status (message) != SSQ_MESSAGE_FAILED;
  self->uploading = uploading;
  follow_upload (self, uploading ? ssq_client_get_outbox_transfer (client, ssq_message_get_client_id (message))
                                 : NULL);
  show_uploads (self);
  gtk_widget_set_visible (GTK_WIDGET (self), n > 0);
}

/**
 * ssq_gtk_message_media_get_n_rows:
 * Returns: how many attachments are shown
 */
guint
ssq_gtk_message_media_get_n_rows (SsqGtkMessageMedia *self)
{
  g_return_val_if_fail (SSQ_IS_GTK_MESSAGE_MEDIA (self), 0);
  return self->rows->len;
}

/**
 * ssq_gtk_message_media_get_row:
 * Returns: (transfer none): the SsqGtkMediaRow of the attachment at @position
 */
GtkWidget *
ssq_gtk_message_media_get_row (SsqGtkMessageMedia *self,
                               guint               position)
{
  g_return_val_if_fail (SSQ_IS_GTK_MESSAGE_MEDIA (self), NULL);
  g_return_val_if_fail (position < self->rows->len, NULL);
  return self->rows->pdata[position];
}

/**
 * ssq_gtk_message_media_get_upload:
 * Returns: (transfer none) (nullable): the upload the progress bars follow
 */
SsqTransfer *
ssq_gtk_message_media_get_upload (SsqGtkMessageMedia *self)
{
  g_return_val_if_fail (SSQ_IS_GTK_MESSAGE_MEDIA (self), NULL);
  return self->upload;
}

GtkWidget *
ssq_gtk_message_media_new (void)
{
  return g_object_new (SSQ_TYPE_GTK_MESSAGE_MEDIA, NULL);
}

static void
ssq_gtk_message_media_dispose (GObject *object)
{
  SsqGtkMessageMedia *self = SSQ_GTK_MESSAGE_MEDIA (object);

  g_cancellable_cancel (self->work);
  follow_upload (self, NULL);
  g_clear_pointer (&self->box, gtk_widget_unparent);
  g_clear_object (&self->client);
  g_clear_object (&self->message);
  G_OBJECT_CLASS (ssq_gtk_message_media_parent_class)->dispose (object);
}

static void
ssq_gtk_message_media_finalize (GObject *object)
{
  SsqGtkMessageMedia *self = SSQ_GTK_MESSAGE_MEDIA (object);

  g_ptr_array_unref (self->rows);
  g_clear_object (&self->work);
  G_OBJECT_CLASS (ssq_gtk_message_media_parent_class)->finalize (object);
}

static void
ssq_gtk_message_media_class_init (SsqGtkMessageMediaClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = ssq_gtk_message_media_dispose;
  G_OBJECT_CLASS (klass)->finalize = ssq_gtk_message_media_finalize;
  gtk_widget_class_set_layout_manager_type (GTK_WIDGET_CLASS (klass), GTK_TYPE_BIN_LAYOUT);
}

static void
ssq_gtk_message_media_init (SsqGtkMessageMedia *self)
{
  self->rows = g_ptr_array_new ();
  self->work = g_cancellable_new ();
  self->box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
  gtk_widget_set_margin_top (self->box, 4);
  self->rows_box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
  gtk_box_append (GTK_BOX (self->box), self->rows_box);
  gtk_widget_set_parent (self->box, GTK_WIDGET (self));
  gtk_widget_set_visible (GTK_WIDGET (self), FALSE);
}
