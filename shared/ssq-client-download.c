/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-client-download.c: downloads of media and thumbnails into the
 * account's download cache. A download streams to a partial file as it
 * comes, hashing as it goes; a partial file left by an interrupted one is
 * resumed with Range; the whole file must match the server's ETag (the
 * SHA-256 of its bytes) before it takes its place. The cache keeps the
 * most recently used files within a size cap (the "media-cache-size"
 * property), evicting the least recently used. One download of a file at a
 * time: a second request for it waits for the first. */
#include <glib/gi18n.h>
#include "ssq-client-private.h"
#include "ssq-transfer-private.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#define CHUNK_SIZE       (64 * 1024)
#define ERROR_BODY_MAX   (64 * 1024)

typedef struct {
  SsqClient        *client;     /* not a reference: the client owns the table */
  char             *key;        /* media id, with ".thumb" for a thumbnail */
  char             *media_id;
  gboolean          thumbnail;
  char             *path;       /* the file once complete */
  char             *part_path;
  SsqTransfer      *transfer;
  GPtrArray        *waiters;    /* GTask: every request for this file */
  GChecksum        *checksum;
  guint64           offset;     /* bytes of the partial file sent before */
  guint64           received;
  guint64           total;
  gboolean          retried;    /* started over once already */
  SoupMessage      *msg;
  GInputStream     *body;
  GOutputStream    *out;
  GBytes           *chunk;      /* being written */
  char             *etag;
} Download;

static void download_start (Download *dl);

/* An answer's body is let go of without reading it here: closed
 * asynchronously, as a synchronous close would read (and wait for) all
 * that is left of it on the main loop. */
static void
drop_body (GInputStream **body)
{
  if (*body == NULL)
    return;
  if (!g_input_stream_is_closed (*body))
    g_input_stream_close_async (*body, G_PRIORITY_DEFAULT, NULL, NULL, NULL);
  g_clear_object (body);
}

static void
download_free (Download *dl)
{
  g_free (dl->key);
  g_free (dl->media_id);
  g_free (dl->path);
  g_free (dl->part_path);
  g_clear_object (&dl->transfer);
  g_ptr_array_unref (dl->waiters);
  g_clear_pointer (&dl->checksum, g_checksum_free);
  drop_body (&dl->body);
  g_clear_object (&dl->msg);
  g_clear_object (&dl->out);
  g_clear_pointer (&dl->chunk, g_bytes_unref);
  g_free (dl->etag);
  g_free (dl);
}

/* Media ids become file names: only what the server's ids are made of. */
static gboolean
check_media_id (const char  *media_id,
                GError     **error)
{
  gsize len = media_id != NULL ? strlen (media_id) : 0;

  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isalnum (media_id[i]) && media_id[i] != '-' && media_id[i] != '_')
      len = 0;
  if (len == 0 || len > 64)
    {
      g_set_error (error, SSQ_ERROR, SSQ_ERROR_INVALID, _("Not a media id"));
      return FALSE;
    }
  return TRUE;
}

static char *
file_path (SsqClient  *self,
           const char *media_id,
           gboolean    thumbnail,
           const char *suffix)
{
  g_autofree char *name = g_strconcat (media_id, thumbnail ? ".thumb" : "", suffix, NULL);

  return g_build_filename (self->media_dir, name, NULL);
}

/* Evicts the least recently used files until the cache is within its cap,
 * keeping @keep (just downloaded: it is wanted now, even alone over the
 * cap). */
void
ssq_client_media_evict (SsqClient  *self,
                        const char *keep_id,
                        gboolean    keep_thumbnail)
{
  gint64 total;

  if (self->cache == NULL || self->media_dir == NULL)
    return;
  total = ssq_cache_media_files_size (self->cache);
  while (total > (gint64) self->media_cache_size)
    {
      g_autofree char *id = NULL, *path = NULL;
      gboolean thumbnail;
      gint64 size;

      if (!ssq_cache_media_file_oldest (self->cache, &id, &thumbnail, &size) ||
          (g_strcmp0 (id, keep_id) == 0 && thumbnail == keep_thumbnail))
        break;
      path = file_path (self, id, thumbnail, "");
      if (g_unlink (path) != 0 && errno != ENOENT)
        {
          g_debug ("client: cannot evict %s: %s", path, g_strerror (errno));
          break;
        }
      if (!ssq_cache_media_file_forget (self->cache, id, thumbnail, NULL))
        break;
      total -= size;
    }
}

/**
 * ssq_client_lookup_media:
 * @thumbnail: the media's thumbnail rather than the media
 *
 * The file of a media (or of its thumbnail) if the download cache holds
 * it; it counts as used (the last to be evicted). Nothing is fetched.
 *
 * Returns: (transfer full) (nullable): the cached file
 */
GFile *
ssq_client_lookup_media (SsqClient  *self,
                         const char *media_id,
                         gboolean    thumbnail)
{
  g_autofree char *path = NULL;
  GStatBuf st;

  g_return_val_if_fail (SSQ_IS_CLIENT (self), NULL);

  if (self->cache == NULL || self->media_dir == NULL || !check_media_id (media_id, NULL) ||
      !ssq_cache_media_file_held (self->cache, media_id, thumbnail))
    return NULL;
  path = file_path (self, media_id, thumbnail, "");
  if (g_stat (path, &st) != 0)
    {
      /* Removed behind our back (a cleaned cache directory). */
      ssq_cache_media_file_forget (self->cache, media_id, thumbnail, NULL);
      return NULL;
    }
  ssq_cache_media_file_touch (self->cache, media_id, thumbnail, st.st_size, NULL, NULL);
  return g_file_new_for_path (path);
}

/* The end. */

static void
finish_all (Download *dl,
            GFile    *file,
            GError   *error)
{
  g_autoptr(GPtrArray) waiters = g_ptr_array_ref (dl->waiters);

  g_hash_table_steal (dl->client->downloads, dl->key);
  ssq_transfer_set_finished (dl->transfer);
  for (guint i = 0; i < waiters->len; i++)
    {
      GTask *task = waiters->pdata[i];

      if (error != NULL)
        g_task_return_error (task, g_error_copy (error));
      else if (file != NULL)
        g_task_return_pointer (task, g_object_ref (file), g_object_unref);
      else
        g_task_return_pointer (task, NULL, NULL);
    }
  download_free (dl);
  g_clear_error (&error);
}

static void
fail (Download *dl,
      GError   *error)
{
  /* What arrived stays for a resume, unless it was refused. */
  if (dl->out != NULL)
    g_output_stream_close (dl->out, NULL, NULL);
  finish_all (dl, NULL, error);
}

static void
fail_network (Download     *dl,
              const GError *error)
{
  fail (dl, g_error_new (SSQ_ERROR, SSQ_ERROR_NETWORK, _("Cannot reach the server: %s"), error->message));
}

/* A partial file that cannot be trusted goes; the download starts over
 * once, or fails with @error. */
static void
start_over (Download *dl,
            GError   *error)
{
  g_clear_object (&dl->out);
  g_unlink (dl->part_path);
  if (dl->retried)
    {
      fail (dl, error);
      return;
    }
  g_clear_error (&error);
  dl->retried = TRUE;
  download_start (dl);
}

static void
complete (Download *dl)
{
  SsqClient *self = dl->client;
  g_autoptr(GError) error = NULL;
  g_autoptr(GFile) file = NULL;
  const char *digest = g_checksum_get_string (dl->checksum);

  if (!g_output_stream_close (dl->out, NULL, &error))
    return fail (dl, g_error_new (SSQ_ERROR, SSQ_ERROR_UNAVAILABLE, _("Cannot write %s: %s"),
                                  dl->part_path, error->message));
  if (dl->received + dl->offset != dl->total ||
      (dl->etag != NULL && g_ascii_strcasecmp (dl->etag, digest) != 0))
    return start_over (dl, g_error_new (SSQ_ERROR, SSQ_ERROR_PROTOCOL,
                                        _("The file from the server does not match its checksum")));
  if (g_rename (dl->part_path, dl->path) != 0)
    {
      int saved = errno;

      return fail (dl, g_error_new (SSQ_ERROR, SSQ_ERROR_UNAVAILABLE, _("Cannot write %s: %s"),
                                    dl->path, g_strerror (saved)));
    }
  if (self->cache != NULL)
    {
      ssq_cache_media_file_touch (self->cache, dl->media_id, dl->thumbnail, (gint64) dl->total,
                                  ssq_transfer_get_name (dl->transfer), NULL);
      ssq_client_media_evict (self, dl->media_id, dl->thumbnail);
    }
  file = g_file_new_for_path (dl->path);
  finish_all (dl, file, NULL);
}

/* The body, chunk by chunk: hashed, written, counted. */

static void read_next (Download *dl);

static void
written (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Download *dl = user_data;
  g_autoptr(GError) error = NULL;

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return fail (dl, g_steal_pointer (&error));
      return fail (dl, g_error_new (SSQ_ERROR, SSQ_ERROR_UNAVAILABLE, _("Cannot write %s: %s"),
                                    dl->part_path, error->message));
    }
  ssq_transfer_set_progress (dl->transfer, dl->offset + dl->received, dl->total);
  read_next (dl);
}

static void
chunk_read (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  Download *dl = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) chunk = g_input_stream_read_bytes_finish (G_INPUT_STREAM (source), result, &error);
  gsize len;
  const guint8 *data;

  if (chunk == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return fail (dl, g_steal_pointer (&error));
      return fail_network (dl, error);
    }
  data = g_bytes_get_data (chunk, &len);
  if (len == 0)
    return complete (dl);
  if (dl->offset + dl->received + len > dl->total)
    return start_over (dl, g_error_new (SSQ_ERROR, SSQ_ERROR_PROTOCOL,
                                        _("The server sent more than the file's size")));
  g_checksum_update (dl->checksum, data, len);
  dl->received += len;
  /* The write copies nothing: the chunk must outlive it. */
  g_clear_pointer (&dl->chunk, g_bytes_unref);
  dl->chunk = g_steal_pointer (&chunk);
  g_output_stream_write_all_async (dl->out, data, len, G_PRIORITY_DEFAULT,
                                   ssq_transfer_get_cancellable (dl->transfer), written, dl);
}

static void
read_next (Download *dl)
{
  g_input_stream_read_bytes_async (dl->body, CHUNK_SIZE, G_PRIORITY_DEFAULT,
                                   ssq_transfer_get_cancellable (dl->transfer), chunk_read, dl);
}

static void
part_opened (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  Download *dl = user_data;
  g_autoptr(GError) error = NULL;
  GFileOutputStream *out = dl->offset > 0
                           ? g_file_append_to_finish (G_FILE (source), result, &error)
                           : g_file_replace_finish (G_FILE (source), result, &error);

  if (out == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return fail (dl, g_steal_pointer (&error));
      return fail (dl, g_error_new (SSQ_ERROR, SSQ_ERROR_UNAVAILABLE, _("Cannot write %s: %s"),
                                    dl->part_path, error->message));
    }
  dl->out = G_OUTPUT_STREAM (out);
  ssq_transfer_set_progress (dl->transfer, dl->offset, dl->total);
  read_next (dl);
}

/* The answer's head. */

/* The SHA-256 the ETag names, or NULL when it names something else. */
static char *
etag_digest (SoupMessageHeaders *headers)
{
  const char *etag = soup_message_headers_get_one (headers, "ETag");
  gsize len = etag != NULL ? strlen (etag) : 0;

  if (len != 66 || etag[0] != '"' || etag[65] != '"')
    return NULL;
  for (gsize i = 1; i < 65; i++)
    if (!g_ascii_isxdigit (etag[i]))
      return NULL;
  return g_ascii_strdown (etag + 1, 64);
}

static void
take_name (Download           *dl,
           SoupMessageHeaders *headers)
{
  g_autofree char *disposition = NULL;
  g_autoptr(GHashTable) params = NULL;
  const char *name;

  if (!soup_message_headers_get_content_disposition (headers, &disposition, &params))
    return;
  name = g_hash_table_lookup (params, "filename");
  if (name != NULL && g_utf8_validate (name, -1, NULL))
    ssq_transfer_set_name (dl->transfer, name);
}

/* Where the body starts and how long the file is, from a 200 or a 206;
 * FALSE when the answer does not fit what was asked. */
static gboolean
place_body (Download           *dl,
            guint               status,
            SoupMessageHeaders *headers)
{
  goffset start, end, total;

  if (soup_message_headers_get_encoding (headers) != SOUP_ENCODING_CONTENT_LENGTH)
    return FALSE;
  if (status == SOUP_STATUS_OK)
    {
      /* The whole file (a Range may be ignored): the partial one goes. */
      dl->offset = 0;
      dl->total = (guint64) soup_message_headers_get_content_length (headers);
      g_checksum_reset (dl->checksum);
      return TRUE;
    }
  if (!soup_message_headers_get_content_range (headers, &start, &end, &total) ||
      total < 0 || (guint64) start != dl->offset || end + 1 != total ||
      (guint64) soup_message_headers_get_content_length (headers) != (guint64) (end - start + 1))
    return FALSE;
  dl->total = (guint64) total;
  ssq_transfer_set_resumed_from (dl->transfer, dl->offset);
  return TRUE;
}

/* Whether the disk holds what is to come: a server (or a mistake) cannot
 * fill it through the cache. */
static gboolean
room_for (Download  *dl,
          GError   **error)
{
  g_autoptr(GFile) dir = g_file_new_for_path (dl->client->media_dir);
  g_autoptr(GFileInfo) info = g_file_query_filesystem_info (dir, G_FILE_ATTRIBUTE_FILESYSTEM_FREE, NULL, NULL);
  guint64 free_bytes;
  g_autofree char *needed = NULL;

  if (info == NULL || !g_file_info_has_attribute (info, G_FILE_ATTRIBUTE_FILESYSTEM_FREE))
    return TRUE;    /* unknown: the writes will tell */
  free_bytes = g_file_info_get_attribute_uint64 (info, G_FILE_ATTRIBUTE_FILESYSTEM_FREE);
  if (dl->total - dl->offset <= free_bytes)
    return TRUE;
  needed = g_format_size (dl->total - dl->offset);
  g_set_error (error, SSQ_ERROR, SSQ_ERROR_UNAVAILABLE, _("Not enough disk space for the download (%s)"),
               needed);
  return FALSE;
}

static void
error_body_read (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  Download *dl = user_data;
  g_autoptr(GBytes) body = g_input_stream_read_bytes_finish (G_INPUT_STREAM (source), result, NULL);
  guint status = soup_message_get_status (dl->msg);

  fail (dl, ssq_client_api_error (status, body));
}

static void
answered (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  Download *dl = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GFile) part = NULL;
  SoupMessageHeaders *headers;
  guint status;

  dl->body = soup_session_send_finish (SOUP_SESSION (source), result, &error);
  if (dl->body == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return fail (dl, g_steal_pointer (&error));
      return fail (dl, ssq_client_transport_error (dl->msg, error));
    }
  status = soup_message_get_status (dl->msg);
  headers = soup_message_get_response_headers (dl->msg);
  if (dl->thumbnail && status == SOUP_STATUS_NOT_FOUND)
    return finish_all (dl, NULL, NULL);     /* none yet: not an error */
  if (status == SOUP_STATUS_REQUESTED_RANGE_NOT_SATISFIABLE && dl->offset > 0)
    return start_over (dl, g_error_new (SSQ_ERROR, SSQ_ERROR_PROTOCOL,
                                        _("The server refused to resume the download")));
  if (status != SOUP_STATUS_OK && status != SOUP_STATUS_PARTIAL_CONTENT)
    {
      g_input_stream_read_bytes_async (dl->body, ERROR_BODY_MAX, G_PRIORITY_DEFAULT, NULL,
                                       error_body_read, dl);
      return;
    }
  if (!place_body (dl, status, headers))
    return start_over (dl, g_error_new (SSQ_ERROR, SSQ_ERROR_PROTOCOL,
                                        _("The server's answer does not fit the download")));
  if (!room_for (dl, &error))
    return fail (dl, g_steal_pointer (&error));
  g_free (dl->etag);
  dl->etag = etag_digest (headers);
  take_name (dl, headers);
  part = g_file_new_for_path (dl->part_path);
  if (dl->offset > 0)
    g_file_append_to_async (part, G_FILE_CREATE_PRIVATE, G_PRIORITY_DEFAULT,
                            ssq_transfer_get_cancellable (dl->transfer), part_opened, dl);
  else
    g_file_replace_async (part, NULL, FALSE, G_FILE_CREATE_PRIVATE, G_PRIORITY_DEFAULT,
                          ssq_transfer_get_cancellable (dl->transfer), part_opened, dl);
}

static void
request (Download *dl)
{
  SsqClient *self = dl->client;
  g_autofree char *path = g_strconcat ("/api/v1/media/", dl->media_id,
                                       dl->thumbnail ? "/thumbnail" : "", NULL);
  g_autoptr(GError) error = NULL;

  drop_body (&dl->body);
  g_clear_object (&dl->msg);
  dl->received = 0;
  dl->msg = ssq_client_api_message (self, "GET", path, &error);
  if (dl->msg == NULL)
    return fail (dl, g_steal_pointer (&error));
  if (dl->offset > 0)
    soup_message_headers_set_range (soup_message_get_request_headers (dl->msg), (goffset) dl->offset, -1);
  soup_session_send_async (self->session, dl->msg, G_PRIORITY_DEFAULT,
                           ssq_transfer_get_cancellable (dl->transfer), answered, dl);
}

/* A partial file from an earlier attempt: its bytes are hashed (in a
 * thread: it may be large) and the rest asked for. */
static void
hash_part_thread (GTask        *task,
                  gpointer      source,
                  gpointer      task_data,
                  GCancellable *cancellable)
{
  Download *dl = task_data;
  g_autoptr(GFile) part = g_file_new_for_path (dl->part_path);
  g_autoptr(GFileInputStream) in = g_file_read (part, cancellable, NULL);
  g_autofree guint8 *buffer = g_malloc (CHUNK_SIZE);
  guint64 hashed = 0;
  gssize n;

  while (in != NULL && (n = g_input_stream_read (G_INPUT_STREAM (in), buffer, CHUNK_SIZE,
                                                 cancellable, NULL)) > 0)
    {
      g_checksum_update (dl->checksum, buffer, n);
      hashed += n;
    }
  g_task_return_int (task, in != NULL ? (gssize) hashed : -1);
}

static void
part_hashed (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  Download *dl = user_data;
  g_autoptr(GError) error = NULL;
  gssize hashed = g_task_propagate_int (G_TASK (result), &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return fail (dl, g_steal_pointer (&error));
  if (hashed != (gssize) dl->offset)
    {
      /* Unreadable, or changed meanwhile: start from nothing. */
      g_checksum_reset (dl->checksum);
      dl->offset = 0;
    }
  request (dl);
}

static void
download_start (Download *dl)
{
  GStatBuf st;

  g_checksum_reset (dl->checksum);
  dl->offset = 0;
  if (g_stat (dl->part_path, &st) == 0 && st.st_size > 0)
    {
      g_autoptr(GTask) hash = g_task_new (NULL, ssq_transfer_get_cancellable (dl->transfer),
                                          part_hashed, dl);

      dl->offset = (guint64) st.st_size;
      g_task_set_task_data (hash, dl, NULL);
      g_task_run_in_thread (hash, hash_part_thread);
      return;
    }
  request (dl);
}

/* The beginning. */

static SsqTransfer *
fetch (SsqClient          *self,
       const char         *media_id,
       gboolean            thumbnail,
       gpointer            source_tag,
       GCancellable       *cancellable,
       GAsyncReadyCallback callback,
       gpointer            user_data)
{
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);
  g_autoptr(GError) error = NULL;
  g_autoptr(GFile) held = NULL;
  g_autofree char *key = NULL;
  Download *dl;

  g_task_set_source_tag (task, source_tag);
  if (self->cache == NULL || self->media_dir == NULL)
    g_set_error (&error, SSQ_ERROR, SSQ_ERROR_UNAUTHORIZED, _("Not logged in"));
  else if (check_media_id (media_id, &error) &&
           g_mkdir_with_parents (self->media_dir, 0700) != 0)
    {
      int saved = errno;

      g_set_error (&error, SSQ_ERROR, SSQ_ERROR_UNAVAILABLE, _("Cannot create %s: %s"),
                   self->media_dir, g_strerror (saved));
    }
  if (error != NULL)
    {
      g_autoptr(SsqTransfer) failed = ssq_transfer_new (SSQ_TRANSFER_DOWNLOAD, NULL, 0, cancellable);

      ssq_transfer_set_finished (failed);
      g_task_return_error (task, g_steal_pointer (&error));
      return g_steal_pointer (&failed);
    }

  key = g_strconcat (media_id, thumbnail ? ".thumb" : "", NULL);
  dl = g_hash_table_lookup (self->downloads, key);
  if (dl != NULL)
    {
      g_ptr_array_add (dl->waiters, g_steal_pointer (&task));
      return g_object_ref (dl->transfer);
    }
  held = ssq_client_lookup_media (self, media_id, thumbnail);
  if (held != NULL)
    {
      g_autofree char *name = ssq_cache_media_file_name (self->cache, media_id, thumbnail);
      SsqTransfer *done = ssq_transfer_new (SSQ_TRANSFER_DOWNLOAD, name, 0, cancellable);

      ssq_transfer_set_finished (done);
      g_task_return_pointer (task, g_steal_pointer (&held), g_object_unref);
      return done;
    }

  dl = g_new0 (Download, 1);
  dl->client = self;
  dl->key = g_steal_pointer (&key);
  dl->media_id = g_strdup (media_id);
  dl->thumbnail = thumbnail;
  dl->path = file_path (self, media_id, thumbnail, "");
  dl->part_path = file_path (self, media_id, thumbnail, ".part");
  dl->transfer = ssq_transfer_new (SSQ_TRANSFER_DOWNLOAD, NULL, 0, cancellable);
  dl->waiters = g_ptr_array_new_with_free_func (g_object_unref);
  dl->checksum = g_checksum_new (G_CHECKSUM_SHA256);
  g_ptr_array_add (dl->waiters, g_steal_pointer (&task));
  g_hash_table_insert (self->downloads, dl->key, dl);
  download_start (dl);
  return g_object_ref (dl->transfer);
}

/**
 * ssq_client_download_async:
 * @media_id: a media's id (ssq_media_get_id())
 * @cancellable: (nullable): stops the download, as ssq_transfer_cancel()
 *   does; what arrived stays for a later download to resume
 *
 * Brings a media into the download cache: at once when the cache holds
 * it, else from the server, resuming from a partial file an interrupted
 * download left (with `Range`), and checked against the SHA-256 the server
 * gives as ETag. Then the least recently used files leave the cache until
 * it is within "media-cache-size" again (the new file stays even when it
 * alone is larger). A second request for a download under way shares it.
 *
 * Errors: %SSQ_ERROR_NOT_FOUND (unknown, or not the user's to see),
 * %SSQ_ERROR_NETWORK, %SSQ_ERROR_PROTOCOL (the bytes did not match twice),
 * %SSQ_ERROR_UNAVAILABLE (the disk), %G_IO_ERROR_CANCELLED.
 *
 * Returns: (transfer full): the download's progress; its name is the one
 *   the server gives once it has answered
 */
SsqTransfer *
ssq_client_download_async (SsqClient          *self,
                           const char         *media_id,
                           GCancellable       *cancellable,
                           GAsyncReadyCallback callback,
                           gpointer            user_data)
{
  g_return_val_if_fail (SSQ_IS_CLIENT (self), NULL);
  return fetch (self, media_id, FALSE, ssq_client_download_async, cancellable, callback, user_data);
}

/**
 * ssq_client_download_finish:
 * Returns: (transfer full): the file in the download cache (read it, copy
 *   it; do not keep its path: it may be evicted later), or NULL with @error
 */
GFile *
ssq_client_download_finish (SsqClient     *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == ssq_client_download_async, NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * ssq_client_fetch_thumbnail_async:
 *
 * Like ssq_client_download_async(), for a media's thumbnail (a small
 * image the server makes of pictures). The server has none for other
 * files, nor for a picture until its thumbnailer has got to it: then the
 * result is NULL without an error. The messages carrying the media come
 * again (as changes) when its thumbnail is ready, with
 * ssq_media_has_thumbnail() set, and its width and height.
 */
SsqTransfer *
ssq_client_fetch_thumbnail_async (SsqClient          *self,
                                  const char         *media_id,
                                  GCancellable       *cancellable,
                                  GAsyncReadyCallback callback,
                                  gpointer            user_data)
{
  g_return_val_if_fail (SSQ_IS_CLIENT (self), NULL);
  return fetch (self, media_id, TRUE, ssq_client_fetch_thumbnail_async, cancellable, callback, user_data);
}

/**
 * ssq_client_fetch_thumbnail_finish:
 * Returns: (transfer full) (nullable): the thumbnail in the download cache;
 *   NULL without @error set when the server has none (yet), NULL with
 *   @error when it could not be fetched
 */
GFile *
ssq_client_fetch_thumbnail_finish (SsqClient     *self,
                                   GAsyncResult  *result,
                                   GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == ssq_client_fetch_thumbnail_async, NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * ssq_client_get_media_dir:
 * Returns: (nullable): the account's download cache, once a session is set:
 *   under the data directory given to ssq_client_new(), else under the
 *   user's cache directory (`$XDG_CACHE_HOME/supersoniq`)
 */
const char *
ssq_client_get_media_dir (SsqClient *self)
{
  g_return_val_if_fail (SSQ_IS_CLIENT (self), NULL);
  return self->media_dir;
}

/* Downloads under way end with the client: their files stay partial. */
void
ssq_client_media_cancel_all (SsqClient *self)
{
  GHashTableIter iter;
  Download *dl;

  if (self->downloads == NULL)
    return;
  g_hash_table_iter_init (&iter, self->downloads);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &dl))
    ssq_transfer_cancel (dl->transfer);
}
