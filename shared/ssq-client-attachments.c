/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-client-attachments.c: messages with attachments. The files are
 * copied into the outbox area first (synced: the user may delete the
 * originals, the program may stop), then the message is written to the
 * outbox with them. When its turn comes the outbox uploads its attachments
 * one by one, recording each media id as soon as the server has given it
 * (so that no upload is repeated, whatever restarts), and sends the message
 * once all are up; the server's idempotency on client_id makes that send
 * safe to repeat. */
#include <glib/gi18n.h>
#include "ssq-client-private.h"
#include "ssq-media-private.h"
#include "ssq-message-private.h"
#include "ssq-proto.h"
#include "ssq-transfer-private.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <unistd.h>

/* Waits between upload attempts that failed for the network: doubling
 * from this, up to the connection's own backoff cap. */
#define UPLOAD_RETRY_BASE_MS 500

/* ---- Writing: the copies ---------------------------------------------- */

typedef struct {
  SsqCache   *cache;        /* the account's, whose outbox area holds the copies */
  char       *conversation_id;
  char       *client_id;
  char       *body;
  gint64      reply_to;
  GPtrArray  *sources;      /* GFile: the user's files */
  GPtrArray  *copies;       /* GFile: where they go in the outbox area */
  GPtrArray  *attachments;  /* SsqMedia: name, type and size of each copy */
} Compose;

static void
compose_free (Compose *c)
{
  g_clear_object (&c->cache);
  g_free (c->conversation_id);
  g_free (c->client_id);
  g_free (c->body);
  g_ptr_array_unref (c->sources);
  g_ptr_array_unref (c->copies);
  g_ptr_array_unref (c->attachments);
  g_free (c);
}

static gboolean
sync_path (const char  *path,
           GError     **error)
{
  int fd = g_open (path, O_RDONLY, 0);
  int saved;

  if (fd >= 0 && fsync (fd) == 0)
    return g_close (fd, error);
  saved = errno;
  if (fd >= 0)
    g_close (fd, NULL);
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "%s", g_strerror (saved));
  return FALSE;
}

/* Copies one file and describes the copy. */
static SsqMedia *
copy_one (GFile         *source,
          GFile         *copy,
          GCancellable  *cancellable,
          GError       **error)
{
  g_autoptr(GFileInfo) info = NULL;
  g_autoptr(GFileInfo) copied = NULL;
  g_autofree char *name = NULL, *path = g_file_get_path (copy);
  g_autofree char *mime = NULL;
  const char *type;

  info = g_file_query_info (source, G_FILE_ATTRIBUTE_STANDARD_TYPE "," G_FILE_ATTRIBUTE_STANDARD_DISPLAY_NAME,
                            G_FILE_QUERY_INFO_NONE, cancellable, error);
  if (info == NULL)
    return NULL;
  if (g_file_info_get_file_type (info) != G_FILE_TYPE_REGULAR)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE, _("Not a file"));
      return NULL;
    }
  if (!g_file_copy (source, copy, G_FILE_COPY_OVERWRITE, cancellable, NULL, NULL, error) ||
      !sync_path (path, error))
    return NULL;
  copied = g_file_query_info (copy, G_FILE_ATTRIBUTE_STANDARD_SIZE "," G_FILE_ATTRIBUTE_STANDARD_CONTENT_TYPE,
                              G_FILE_QUERY_INFO_NONE, cancellable, error);
  if (copied == NULL)
    return NULL;
  name = ssq_media_name_for_upload (g_file_info_get_display_name (info));
  type = g_file_info_get_content_type (copied);
  mime = type != NULL ? g_content_type_get_mime_type (type) : NULL;
  return ssq_media_new (NULL, name, mime, g_file_info_get_size (copied), 0, 0);
}

static void
remove_copies (Compose *c)
{
  g_autoptr(GFile) dir = c->copies->len > 0 ? g_file_get_parent (c->copies->pdata[0]) : NULL;

  for (guint i = 0; i < c->copies->len; i++)
    g_file_delete (c->copies->pdata[i], NULL, NULL);
  if (dir != NULL)
    g_file_delete (dir, NULL, NULL);
}

/* In a thread: the cache is not touched here, only files. */
static void
copy_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  Compose *c = task_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GFile) dir = g_file_get_parent (c->copies->pdata[0]);
  g_autofree char *dir_path = g_file_get_path (dir);
  g_autofree char *root = g_path_get_dirname (dir_path);

  if (g_mkdir_with_parents (dir_path, 0700) != 0)
    {
      int saved = errno;

      g_task_return_new_error (task, SSQ_ERROR, SSQ_ERROR_UNAVAILABLE, _("Cannot create %s: %s"),
                               dir_path, g_strerror (saved));
      return;
    }
  for (guint i = 0; i < c->sources->len; i++)
    {
      SsqMedia *media = copy_one (c->sources->pdata[i], c->copies->pdata[i], cancellable, &error);

      if (media == NULL)
        {
          g_autofree char *shown = g_file_get_parse_name (c->sources->pdata[i]);

          remove_copies (c);
          if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            g_task_return_error (task, g_steal_pointer (&error));
          else
            g_task_return_new_error (task, SSQ_ERROR, SSQ_ERROR_INVALID, _("Cannot attach %s: %s"),
                                     shown, error->message);
          return;
        }
      g_ptr_array_add (c->attachments, media);
    }
  /* The names in the directories must last too. */
  if (!sync_path (dir_path, &error) || !sync_path (root, &error))
    {
      remove_copies (c);
      g_task_return_new_error (task, SSQ_ERROR, SSQ_ERROR_UNAVAILABLE, _("Cannot write %s: %s"),
                               dir_path, error->message);
      return;
    }
  g_task_return_boolean (task, TRUE);
}

static void
copied (GObject      *source,
        GAsyncResult *result,
        gpointer      user_data)
{
  SsqClient *self = SSQ_CLIENT (source);
  GTask *inner = G_TASK (result);
  g_autoptr(GTask) task = user_data;
  Compose *c = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(SsqMessage) message = NULL;

  if (!g_task_propagate_boolean (inner, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  /* Logged out, or into another account, meanwhile. */
  if (self->cache != c->cache)
    {
      remove_copies (c);
      g_task_return_new_error (task, SSQ_ERROR, SSQ_ERROR_UNAUTHORIZED, _("Not logged in"));
      return;
    }
  message = ssq_cache_outbox_add_with_media (self->cache, c->conversation_id, c->client_id, c->body,
                                             c->reply_to, c->attachments, &error);
  if (message == NULL)
    {
      remove_copies (c);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  ssq_client_emit_outbox_changed (self, c->conversation_id, c->client_id);
  if (g_strcmp0 (self->typing_conversation, c->conversation_id) == 0)
    g_clear_pointer (&self->typing_conversation, g_free);
  ssq_client_flush_outbox (self);
  g_task_return_pointer (task, g_steal_pointer (&message), g_object_unref);
}

/**
 * ssq_client_send_message_with_media_async:
 * @body: the text; may be empty when there are files
 * @reply_to: the seq of the message this one answers, or 0
 * @files: (array length=n_files): the files to attach, in order; at most
 *   %SSQ_MESSAGE_MEDIA_MAX
 * @cancellable: (nullable): stops the copying (not the sending: once the
 *   message is written, ssq_client_discard_message() does)
 *
 * Writes a message with attachments. The files are copied into the
 * outbox area first, so the originals may change or go as soon as this
 * finishes; then the message is in the outbox (on disk), shown pending
 * with its attachments. When its turn comes, online, the outbox uploads
 * them (ssq_client_get_outbox_transfer() gives the progress) and sends it,
 * after a restart of either side too, and never twice. Messages written
 * after it wait for it, in order.
 *
 * An attachment the server refuses (too large, over the quota) fails the
 * message like a refused text: kept, marked, for retry or discard.
 */
void
ssq_client_send_message_with_media_async (SsqClient          *self,
                                          const char         *conversation_id,
                                          const char         *body,
                                          gint64              reply_to,
                                          GFile *const       *files,
                                          guint               n_files,
                                          GCancellable       *cancellable,
                                          GAsyncReadyCallback callback,
                                          gpointer            user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GTask) inner = NULL;
  g_autoptr(GError) error = NULL;
  Compose *c;

  g_return_if_fail (SSQ_IS_CLIENT (self));
  g_return_if_fail (conversation_id != NULL);
  g_return_if_fail (files != NULL || n_files == 0);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, ssq_client_send_message_with_media_async);
  if (self->cache == NULL)
    g_set_error (&error, SSQ_ERROR, SSQ_ERROR_UNAUTHORIZED, _("Not logged in"));
  else if (n_files > SSQ_MESSAGE_MEDIA_MAX)
    g_set_error (&error, SSQ_ERROR, SSQ_ERROR_INVALID, _("At most %d files go with one message"),
                 SSQ_MESSAGE_MEDIA_MAX);
  else
    ssq_check_text ("body", body, n_files > 0 ? 0 : 1, SSQ_BODY_MAX, &error);
  if (error != NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  if (n_files == 0)
    {
      SsqMessage *message = ssq_client_send_message (self, conversation_id, body, reply_to, &error);

      if (message == NULL)
        g_task_return_error (task, g_steal_pointer (&error));
      else
        g_task_return_pointer (task, message, g_object_unref);
      return;
    }

  c = g_new0 (Compose, 1);
  c->cache = g_object_ref (self->cache);
  c->conversation_id = g_strdup (conversation_id);
  c->client_id = g_uuid_string_random ();
  c->body = g_strdup (body ? body : "");
  c->reply_to = reply_to;
  c->sources = g_ptr_array_new_with_free_func (g_object_unref);
  c->copies = g_ptr_array_new_with_free_func (g_object_unref);
  c->attachments = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < n_files; i++)
    {
      g_ptr_array_add (c->sources, g_object_ref (files[i]));
      g_ptr_array_add (c->copies, ssq_cache_outbox_file (self->cache, c->client_id, i));
    }
  g_task_set_task_data (task, c, (GDestroyNotify) compose_free);
  inner = g_task_new (self, cancellable, copied, g_steal_pointer (&task));
  g_task_set_task_data (inner, c, NULL);
  g_task_run_in_thread (inner, copy_thread);
}

/**
 * ssq_client_send_message_with_media_finish:
 * Returns: (transfer full): the pending message, with its attachments, or
 *   NULL with @error (a file that cannot be read: %SSQ_ERROR_INVALID; the
 *   disk: %SSQ_ERROR_UNAVAILABLE)
 */
SsqMessage *
ssq_client_send_message_with_media_finish (SsqClient     *self,
                                           GAsyncResult  *result,
                                           GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) ==
                        ssq_client_send_message_with_media_async, NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---- Sending: the uploads --------------------------------------------- */

/**
 * ssq_client_get_outbox_transfer:
 * @client_id: an outbox message's
 *
 * Returns: (transfer none) (nullable): the upload of that message's
 *   attachments while it runs (all of them count in one total), for a
 *   progress bar; cancel it with ssq_client_discard_message(). The
 *   "outbox-changed" signal tells when one starts.
 */
SsqTransfer *
ssq_client_get_outbox_transfer (SsqClient  *self,
                                const char *client_id)
{
  g_return_val_if_fail (SSQ_IS_CLIENT (self), NULL);
  if (self->outbox_transfer == NULL || ssq_transfer_get_finished (self->outbox_transfer) ||
      g_strcmp0 (self->outbox_transfer_for, client_id) != 0)
    return NULL;
  return self->outbox_transfer;
}

/* Whether every attachment of @message has its media id. */
gboolean
ssq_client_attachments_uploaded (SsqMessage *message)
{
  for (guint i = 0; message->media != NULL && i < message->media->len; i++)
    if (ssq_media_get_id (message->media->pdata[i]) == NULL)
      return FALSE;
  return TRUE;
}

/**
 * ssq_client_attachments_stop:
 * @client_id: (nullable): the outbox message whose uploads end (sent,
 *   failed or discarded), or NULL for whichever runs (going offline)
 */
void
ssq_client_attachments_stop (SsqClient  *self,
                             const char *client_id)
{
  if (self->outbox_transfer == NULL ||
      (client_id != NULL && g_strcmp0 (client_id, self->outbox_transfer_for) != 0))
    return;
  if (self->outbox_uploading)
    ssq_transfer_cancel (self->outbox_transfer);
  ssq_transfer_set_finished (self->outbox_transfer);
  g_clear_object (&self->outbox_transfer);
  g_clear_pointer (&self->outbox_transfer_for, g_free);
  self->outbox_uploading = FALSE;
}

typedef struct {
  char        *client_id;
  guint        position;   /* the attachment's outbox slot */
  SsqTransfer *transfer;
} Step;

static void
step_free (Step *step)
{
  g_free (step->client_id);
  g_object_unref (step->transfer);
  g_free (step);
}

static gboolean
retry_cb (gpointer user_data)
{
  SsqClient *self = user_data;

  self->outbox_retry_source = 0;
  ssq_client_flush_outbox (self);
  return G_SOURCE_REMOVE;
}

static void
retry_later (SsqClient    *self,
             const GError *error)
{
  guint64 wait = UPLOAD_RETRY_BASE_MS;

  for (guint i = 0; i < self->outbox_upload_retry && wait < self->reconnect_max_ms; i++)
    wait *= 2;
  wait = MIN (wait, self->reconnect_max_ms);
  wait = MAX (wait, (guint64) ssq_error_get_retry_after (error));
  self->outbox_upload_retry++;
  g_debug ("client: an upload failed (%s); again in %" G_GUINT64_FORMAT " ms", error->message, wait);
  if (self->outbox_retry_source == 0)
    self->outbox_retry_source = g_timeout_add (wait, retry_cb, self);
}

/* An attachment the server will never take fails its message. */
static void
refused (SsqClient    *self,
         const char   *client_id,
         const GError *error)
{
  g_autoptr(SsqMessage) pending = ssq_cache_outbox_get (self->cache, client_id);

  ssq_client_attachments_stop (self, client_id);
  if (pending == NULL)
    return;
  ssq_cache_outbox_set_error (self->cache, client_id, error->message, NULL);
  ssq_client_emit_outbox_changed (self, pending->conversation_id, client_id);
  ssq_client_emit_error (self, error);
}

static void
uploaded (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  SsqClient *self = SSQ_CLIENT (source);
  Step *step = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(SsqMedia) media = ssq_client_upload_finish (self, result, &error);

  /* Recorded before anything else: never uploaded again, even if the
   * message was discarded meanwhile (the update then changes nothing). */
  if (media != NULL && self->cache != NULL &&
      !ssq_cache_outbox_set_media (self->cache, step->client_id, step->position, media, &error))
    g_debug ("client: cannot record an upload: %s", error->message);
  if (step->transfer != self->outbox_transfer || self->cache == NULL)
    {
      /* Stopped meanwhile (discarded, offline, the client going). */
      step_free (step);
      return;
    }
  self->outbox_uploading = FALSE;
  if (media != NULL)
    self->outbox_upload_retry = 0;
  if (media != NULL || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    ssq_client_flush_outbox (self);
  else if (g_error_matches (error, SSQ_ERROR, SSQ_ERROR_NETWORK) ||
           g_error_matches (error, SSQ_ERROR, SSQ_ERROR_UNAVAILABLE) ||
           g_error_matches (error, SSQ_ERROR, SSQ_ERROR_RATE_LIMITED) ||
           g_error_matches (error, SSQ_ERROR, SSQ_ERROR_INTERNAL))
    retry_later (self, error);
  else if (g_error_matches (error, SSQ_ERROR, SSQ_ERROR_UNAUTHORIZED))
    ssq_client_emit_error (self, error);
  else
    {
      refused (self, step->client_id, error);
      ssq_client_flush_outbox (self);
    }
  step_free (step);
}

/**
 * ssq_client_attachments_upload:
 * Uploads the first attachment of @message that has no media id yet; the
 * outbox goes on when it is up. One upload at a time.
 */
void
ssq_client_attachments_upload (SsqClient  *self,
                               SsqMessage *message)
{
  guint64 base = 0, total = 0;
  SsqMedia *next = NULL;
  Step *step;

  if (self->outbox_uploading)
    return;
  step = g_new0 (Step, 1);
  for (guint i = 0; i < message->media->len; i++)
    {
      SsqMedia *media = message->media->pdata[i];

      total += ssq_media_get_size (media);
      if (next == NULL && ssq_media_get_id (media) == NULL)
        {
          next = media;
          step->position = ssq_media_get_outbox_slot (media);
        }
      else if (next == NULL)
        base += ssq_media_get_size (media);
    }
  g_assert (next != NULL);
  /* One transfer counts all of a message's uploads. */
  if (g_strcmp0 (self->outbox_transfer_for, message->client_id) != 0)
    ssq_client_attachments_stop (self, NULL);
  if (self->outbox_transfer == NULL)
    {
      self->outbox_transfer = ssq_transfer_new (SSQ_TRANSFER_UPLOAD, ssq_media_get_name (next), total, NULL);
      self->outbox_transfer_for = g_strdup (message->client_id);
    }
  ssq_transfer_set_name (self->outbox_transfer, ssq_media_get_name (next));
  step->client_id = g_strdup (message->client_id);
  step->transfer = g_object_ref (self->outbox_transfer);
  self->outbox_uploading = TRUE;
  ssq_client_upload_file (self, ssq_media_get_local_file (next), ssq_media_get_name (next),
                          self->outbox_transfer, base, FALSE, uploaded, step);
  ssq_client_emit_outbox_changed (self, message->conversation_id, message->client_id);
}

/**
 * ssq_client_remove_attachment:
 * @client_id: an outbox message's
 * @position: which of its attachments, counted from 0 as
 *   ssq_message_get_media() counts them
 *
 * Gives up one attachment of a message not sent yet: its upload stops if
 * it runs (the server drops what it had of it), and the message goes
 * without it. A message left with neither attachments nor text is given
 * up whole (ssq_client_discard_message()). Too late once the message is
 * on its way to the server.
 *
 * Returns: %TRUE, or %FALSE with @error (%SSQ_ERROR_NOT_FOUND: no such
 *   message or attachment; %SSQ_ERROR_INVALID: already being sent)
 */
gboolean
ssq_client_remove_attachment (SsqClient   *self,
                              const char  *client_id,
                              guint        position,
                              GError     **error)
{
  g_autoptr(SsqMessage) pending = NULL;
  SsqMedia *media;

  g_return_val_if_fail (SSQ_IS_CLIENT (self), FALSE);
  g_return_val_if_fail (client_id != NULL, FALSE);

  if (self->cache != NULL)
    pending = ssq_cache_outbox_get (self->cache, client_id);
  if (pending == NULL || pending->media == NULL || position >= pending->media->len)
    {
      g_set_error (error, SSQ_ERROR, SSQ_ERROR_NOT_FOUND, _("No such attachment in the outbox"));
      return FALSE;
    }
  if (g_hash_table_contains (self->in_flight, client_id))
    {
      g_set_error (error, SSQ_ERROR, SSQ_ERROR_INVALID, _("The message is being sent already"));
      return FALSE;
    }
  if (pending->media->len == 1 && (pending->body == NULL || *pending->body == '\0'))
    return ssq_client_discard_message (self, client_id, error);
  media = pending->media->pdata[position];
  /* The upload under way (of this attachment or another of the message)
   * stops; the outbox starts the next one afresh. */
  ssq_client_attachments_stop (self, client_id);
  if (!ssq_cache_outbox_remove_attachment (self->cache, client_id, ssq_media_get_outbox_slot (media), error))
    return FALSE;
  ssq_client_emit_outbox_changed (self, pending->conversation_id, client_id);
  ssq_client_flush_outbox (self);
  return TRUE;
}
