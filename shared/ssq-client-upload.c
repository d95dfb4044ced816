/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-client-upload.c: uploads. The file streams from disk into the
 * request body with its length known (never whole in memory), progress
 * counts the bytes libsoup has written to the socket, and the server's
 * refusals (too large, over quota, too many uploads) come before a byte of
 * the body is sent, through `Expect: 100-continue`. */
#include <glib/gi18n.h>
#include "ssq-client-private.h"
#include "ssq-json.h"
#include "ssq-media-private.h"
#include "ssq-proto.h"
#include "ssq-transfer-private.h"

typedef struct {
  SsqTransfer  *transfer;
  GFile        *file;
  char         *name;
  guint64       base;       /* what the transfer counted before this file */
  gboolean      own_total;  /* the transfer is this file's alone */
  guint64       size;
  guint64       sent;
  GInputStream *stream;
  SoupMessage  *msg;
} Upload;

static void
upload_free (Upload *up)
{
  if (up->msg != NULL)
    g_signal_handlers_disconnect_by_data (up->msg, up);
  g_clear_object (&up->msg);
  g_clear_object (&up->stream);
  g_clear_object (&up->transfer);
  g_clear_object (&up->file);
  g_free (up->name);
  g_free (up);
}

static void
report (Upload *up)
{
  guint64 total = ssq_transfer_get_total (up->transfer);

  ssq_transfer_set_progress (up->transfer, MIN (up->base + up->sent, MAX (total, up->base + up->size)),
                             total);
}

static void
wrote_body_data_cb (SoupMessage *msg,
                    guint        chunk_size,
                    Upload      *up)
{
  up->sent = MIN (up->sent + chunk_size, up->size);
  report (up);
}

/* libsoup sends a message again after some failures of a reused
 * connection; the body must then start over. */
static void
restarted_cb (SoupMessage *msg,
              Upload      *up)
{
  g_autoptr(GError) error = NULL;

  up->sent = 0;
  report (up);
  if (!g_seekable_seek (G_SEEKABLE (up->stream), 0, G_SEEK_SET, NULL, &error))
    g_debug ("client: cannot rewind an upload: %s", error->message);
  soup_message_set_request_body (msg, "application/octet-stream", up->stream, (gssize) up->size);
}

static gpointer
media_from_reply (SsqClient   *self,
                  JsonObject  *reply,
                  GError     **error)
{
  JsonObject *object;

  if (reply == NULL)
    {
      g_set_error (error, SSQ_ERROR, SSQ_ERROR_PROTOCOL, _("No media in the reply"));
      return NULL;
    }
  if (!ssq_wire_reply_decode (reply, SSQ_WIRE_REPLY_MEDIA, &object, error))
    return NULL;
  return ssq_media_new_from_json (object, error);
}

static void
upload_sent (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Upload *up = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  SsqMedia *media = ssq_client_api_finish (SSQ_CLIENT (source), result, media_from_reply, &error);

  if (up->own_total)
    ssq_transfer_set_finished (up->transfer);
  if (media == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  up->sent = up->size;
  report (up);
  g_task_return_pointer (task, media, g_object_unref);
}

static void
fail (GTask  *task,
      GError *error)
{
  Upload *up = g_task_get_task_data (task);

  if (up->own_total)
    ssq_transfer_set_finished (up->transfer);
  g_task_return_error (task, error);
}

static void
upload_opened (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  SsqClient *self = g_task_get_source_object (task);
  Upload *up = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autofree char *escaped = NULL, *path = NULL;

  up->stream = G_INPUT_STREAM (g_file_read_finish (G_FILE (source), result, &error));
  if (up->stream == NULL)
    return fail (task, g_error_new (SSQ_ERROR, SSQ_ERROR_INVALID, _("Cannot read %s: %s"),
                                    up->name, error->message));
  escaped = g_uri_escape_string (up->name, NULL, FALSE);
  path = g_strconcat ("/api/v1/media?name=", escaped, NULL);
  up->msg = ssq_client_api_message (self, "POST", path, &error);
  if (up->msg == NULL)
    return fail (task, g_steal_pointer (&error));
  /* The server refuses an upload from its headers: waiting for its 100
   * Continue sends no byte of a body it would not read. (Not for an empty
   * body: the server rightly answers at once, and libsoup 3.2 then waits
   * its whole I/O timeout to close the answer.) A connection of its own:
   * a kept-alive one the server has closed meanwhile could only be retried
   * by sending the body again. */
  if (up->size > 0)
    soup_message_headers_set_expectations (soup_message_get_request_headers (up->msg),
                                           SOUP_EXPECTATION_CONTINUE);
  soup_message_add_flags (up->msg, SOUP_MESSAGE_NEW_CONNECTION);
  soup_message_set_request_body (up->msg, "application/octet-stream", up->stream, (gssize) up->size);
  g_signal_connect (up->msg, "wrote-body-data", G_CALLBACK (wrote_body_data_cb), up);
  g_signal_connect (up->msg, "restarted", G_CALLBACK (restarted_cb), up);
  report (up);
  ssq_client_api_send (self, up->msg, media_from_reply, g_object_unref, media_from_reply,
                       g_task_get_cancellable (task), upload_sent, g_object_ref (task));
}

static void
upload_measured (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Upload *up = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GFileInfo) info = g_file_query_info_finish (G_FILE (source), result, &error);
  GCancellable *cancellable;

  if (up->name == NULL)
    {
      g_autofree char *display = info != NULL && g_file_info_has_attribute (info, G_FILE_ATTRIBUTE_STANDARD_DISPLAY_NAME)
                                 ? g_strdup (g_file_info_get_display_name (info))
                                 : g_file_get_basename (G_FILE (source));

      up->name = ssq_media_name_for_upload (display);
      ssq_transfer_set_name (up->transfer, up->name);
    }
  if (info == NULL)
    return fail (task, g_error_new (SSQ_ERROR, SSQ_ERROR_INVALID, _("Cannot read %s: %s"),
                                    up->name, error->message));
  if (g_file_info_get_file_type (info) != G_FILE_TYPE_REGULAR)
    return fail (task, g_error_new (SSQ_ERROR, SSQ_ERROR_INVALID, _("Not a file: %s"), up->name));
  up->size = (guint64) MAX (g_file_info_get_size (info), 0);
  if (up->own_total)
    ssq_transfer_set_progress (up->transfer, 0, up->size);
  cancellable = g_task_get_cancellable (task);
  g_file_read_async (G_FILE (source), G_PRIORITY_DEFAULT, cancellable, upload_opened,
                     g_steal_pointer (&task));
}

/**
 * ssq_client_upload_file:
 * @transfer: counts this upload's progress, after @base bytes of earlier
 *   files (an outbox message's attachments share one transfer); when
 *   @own_total, its total is this file's size
 *
 * Uploads @file as @name (NULL: from the file's name); the result is the
 * server's #SsqMedia (ssq_client_upload_finish()).
 */
void
ssq_client_upload_file (SsqClient          *self,
                        GFile              *file,
                        const char         *name,
                        SsqTransfer        *transfer,
                        guint64             base,
                        gboolean            own_total,
                        GAsyncReadyCallback callback,
                        gpointer            user_data)
{
  g_autoptr(GTask) task = g_task_new (self, ssq_transfer_get_cancellable (transfer), callback, user_data);
  Upload *up = g_new0 (Upload, 1);

  g_task_set_source_tag (task, ssq_client_upload_async);
  up->transfer = g_object_ref (transfer);
  up->file = g_object_ref (file);
  up->name = name != NULL ? ssq_media_name_for_upload (name) : NULL;
  up->base = base;
  up->own_total = own_total;
  g_task_set_task_data (task, up, (GDestroyNotify) upload_free);
  if (self->token == NULL)
    return fail (task, g_error_new (SSQ_ERROR, SSQ_ERROR_UNAUTHORIZED, _("Not logged in")));
  /* The transfer's cancellable, read before the task is handed on. */
  g_file_query_info_async (file, G_FILE_ATTRIBUTE_STANDARD_TYPE "," G_FILE_ATTRIBUTE_STANDARD_SIZE ","
                           G_FILE_ATTRIBUTE_STANDARD_DISPLAY_NAME,
                           G_FILE_QUERY_INFO_NONE, G_PRIORITY_DEFAULT, ssq_transfer_get_cancellable (transfer),
                           upload_measured, g_steal_pointer (&task));
}

/**
 * ssq_client_upload_async:
 * @file: what to upload: a regular file, read as it is sent
 * @name: (nullable): the name the server stores with it; the file's own
 *   when NULL (either made fit for the server: see
 *   ssq_media_name_for_upload())
 * @cancellable: (nullable): cancels the upload, as ssq_transfer_cancel()
 *   does; the server then keeps nothing of it
 *
 * Uploads a file on its own, to be sent in messages by its id. (A message
 * written with attachments uploads them itself: see
 * ssq_client_send_message_with_media_async().)
 *
 * Errors: %SSQ_ERROR_TOO_LARGE (over the server's `max_size`),
 * %SSQ_ERROR_QUOTA_EXCEEDED, %SSQ_ERROR_RATE_LIMITED (with a retry time),
 * %SSQ_ERROR_INVALID (a file that cannot be read), %SSQ_ERROR_NETWORK,
 * %G_IO_ERROR_CANCELLED.
 *
 * Returns: (transfer full): the upload's progress (its "total" is the
 *   file's size once known)
 */
SsqTransfer *
ssq_client_upload_async (SsqClient          *self,
                         GFile              *file,
                         const char         *name,
                         GCancellable       *cancellable,
                         GAsyncReadyCallback callback,
                         gpointer            user_data)
{
  SsqTransfer *transfer;

  g_return_val_if_fail (SSQ_IS_CLIENT (self), NULL);
  g_return_val_if_fail (G_IS_FILE (file), NULL);

  transfer = ssq_transfer_new (SSQ_TRANSFER_UPLOAD, name, 0, cancellable);
  ssq_client_upload_file (self, file, name, transfer, 0, TRUE, callback, user_data);
  return transfer;
}

/**
 * ssq_client_upload_finish:
 * Returns: (transfer full): the media as the server stored it (its type
 *   read from the bytes), or NULL with @error
 */
SsqMedia *
ssq_client_upload_finish (SsqClient     *self,
                          GAsyncResult  *result,
                          GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == ssq_client_upload_async, NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
