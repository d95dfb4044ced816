/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-api-media.c: the media routes. An upload is checked at its
 * headers (limits, quota, rate) and refused before its body is read, or
 * streams into the media store; its row is committed through the writer
 * once its file is durable, and only then is it answered. Downloads come
 * from the file as the socket drains, with ETag, Range, and headers that
 * keep a browser from running what it fetches. */
#include "ssq-server-http.h"
#include "ssq-server-download.h"
#include "ssq-server-thumbnail.h"
#include "ssq-server-thumbnailer.h"
#include "ssq-server-upload.h"

#include <string.h>

/* Orphan uploads are looked for this often at most (and at least every
 * half of their expiry). */
#define EXPIRY_SWEEP_MAX_S 600
#define EXPIRY_BATCH       1000

/* ---- Upload ----------------------------------------------------------- */

typedef struct {
  SsqServer       *server;
  char            *user_id;   /* counted in server->uploads_at_once */
  SsqRequest      *request;   /* its net is the transport's while the body streams */
  SsqNetRequest   *streaming; /* the request while its body streams */
  SsqServerUpload *upload;
  char            *name;
  SsqMediaRow     *row;       /* being committed */
} Upload;

/* Uploads of @user_id under way: each holds a temporary file of up to
 * [media] max_size, which neither the quota (committed files) nor the
 * rate (per minute) bounds while they stream. */
static guint
uploads_at_once (SsqServer  *server,
                 const char *user_id)
{
  return GPOINTER_TO_UINT (g_hash_table_lookup (server->uploads_at_once, user_id));
}

static void
uploads_at_once_add (SsqServer  *server,
                     const char *user_id,
                     int         delta)
{
  guint n = uploads_at_once (server, user_id) + delta;

  if (n == 0)
    g_hash_table_remove (server->uploads_at_once, user_id);
  else
    g_hash_table_replace (server->uploads_at_once, g_strdup (user_id), GUINT_TO_POINTER (n));
}

static void
upload_free (Upload *up)
{
  uploads_at_once_add (up->server, up->user_id, -1);
  g_free (up->user_id);
  g_object_unref (up->server);
  if (up->upload != NULL)
    {
      ssq_server_upload_cancel (up->upload);
      ssq_server_upload_unref (up->upload);
    }
  g_clear_pointer (&up->request, ssq_request_free);
  g_clear_pointer (&up->row, ssq_media_row_free);
  g_free (up->name);
  g_free (up);
}

/* Answers @up's request with @error and ends the upload. */
static void
upload_fail (Upload       *up,
             const GError *error)
{
  if (up->streaming != NULL)
    {
      /* The rest of the body is not read: the reply closes the connection. */
      up->request->net = g_steal_pointer (&up->streaming);
      up->request->unread_body = TRUE;
    }
  ssq_request_reply_error (up->request, error);
  upload_free (up);
}

static gboolean
sink_data (gpointer       data,
           SsqNetRequest *net,
           const guint8  *bytes,
           gsize          length)
{
  Upload *up = data;

  up->streaming = net;
  return ssq_server_upload_write (up->upload, bytes, length);
}

static void
sink_done (gpointer       data,
           SsqNetRequest *net)
{
  Upload *up = data;

  up->streaming = NULL;
  up->request->net = net;
  up->request->unread_body = FALSE;
  ssq_server_upload_finish (up->upload);
}

/* The peer went away, or the body broke a limit (the transport answers). */
static void
sink_abort (gpointer data)
{
  Upload *up = data;

  up->streaming = NULL;
  upload_free (up);
}

static const SsqNetBodySink upload_sink = { sink_data, sink_done, sink_abort };

static void
upload_resume_cb (gpointer user_data)
{
  Upload *up = user_data;

  if (up->streaming != NULL)
    ssq_net_request_resume_body (up->streaming);
}

static void
upload_failed_cb (const GError *error,
                  gpointer      user_data)
{
  upload_fail (user_data, error);
}

/* An image owed a thumbnail takes the one of equal bytes stored before,
 * if there is one (the same photo sent on again); else the thumbnailer
 * makes it after the commit. */
static gboolean
commit_op (SsqServerStore  *store,
           gpointer         data,
           GError         **error)
{
  Upload *up = data;

  up->row->created_at = ssq_now_ms ();
  return ssq_server_store_media_share_image (store, up->row, error) &&
         ssq_server_store_media_insert (store, up->row,
                                        up->request->server->config->media_quota_per_user,
                                        error);
}

static void
commit_done (gpointer      data,
             const GError *error)
{
  Upload *up = data;
  SsqServer *server = up->request->server;
  SsqWireMedia wire = {
    .id = up->row->id, .name = up->row->name, .mime = up->row->mime, .size = up->row->size,
    .width = up->row->width, .height = up->row->height,
    .thumbnail = up->row->thumbnail_hash != NULL,
  };
  g_autoptr(JsonObject) media = NULL;
  g_autoptr(JsonObject) body = NULL;

  /* Committed or not, the pin goes: a refused upload's file with it. */
  ssq_server_media_unpin (server->media, up->row->sha256, server->store);
  if (error != NULL)
    {
      ssq_request_reply_error (up->request, error);
      return;
    }
  server->metrics.media_uploads_total++;
  if (up->row->thumbnail_pending)
    ssq_server_thumbnailer_kick (server->thumbnailer);
  media = ssq_wire_media_encode (&wire);
  body = ssq_wire_reply_encode (SSQ_WIRE_REPLY_MEDIA, media);
  ssq_request_reply (up->request, SSQ_HTTP_CREATED, body);
}

/* The file is in the store: its row goes through the writer, which counts
 * the quota against the uploads committed before it. */
static void
upload_stored_cb (const GError *error,
                  gpointer      user_data)
{
  Upload *up = user_data;
  SsqServer *server = up->request->server;

  if (error != NULL)
    {
      upload_fail (up, error);
      return;
    }
  up->row = g_new0 (SsqMediaRow, 1);
  up->row->id = ssq_server_store_new_id ('f');
  up->row->uploader = g_strdup (up->request->user_id);
  up->row->name = g_steal_pointer (&up->name);
  up->row->mime = g_strdup (ssq_server_upload_mime (up->upload));
  up->row->size = ssq_server_upload_size (up->upload);
  up->row->sha256 = g_strdup (ssq_server_upload_sha256 (up->upload));
  /* Read from the header: the thumbnailer confirms it later. */
  up->row->width = ssq_server_upload_width (up->upload);
  up->row->height = ssq_server_upload_height (up->upload);
  up->row->thumbnail_pending = ssq_server_thumbnail_supported (up->row->mime);
  g_clear_pointer (&up->upload, ssq_server_upload_unref);
  ssq_server_writer_submit (server->writer, commit_op, commit_done, up,
                            (GDestroyNotify) upload_free);
}

static const SsqServerUploadCallbacks upload_callbacks = {
  upload_resume_cb, upload_failed_cb, upload_stored_cb,
};

/* A file name as shown to others: its last path component, UTF-8 without
 * control characters, 1 to SSQ_MEDIA_NAME_MAX bytes. */
static char *
clean_name (const char  *name,
            GError     **error)
{
  const char *base;

  if (name == NULL || !g_utf8_validate (name, -1, NULL))
    {
      g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_INVALID,
                           "Query parameter \"name\" (the file name, UTF-8) is required");
      return NULL;
    }
  /* Only the last component: a client may send a whole path. */
  base = name;
  for (const char *p = name; *p != '\0'; p++)
    if (*p == '/' || *p == '\\')
      base = p + 1;
  for (const char *p = base; *p != '\0'; p = g_utf8_next_char (p))
    if (g_unichar_iscntrl (g_utf8_get_char (p)))
      {
        g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_INVALID,
                             "A file name may not hold control characters");
        return NULL;
      }
  if (base[0] == '\0' || strlen (base) > SSQ_MEDIA_NAME_MAX ||
      g_str_equal (base, ".") || g_str_equal (base, ".."))
    {
      g_set_error (error, SSQ_ERROR, SSQ_ERROR_INVALID,
                   "A file name has 1 to %d bytes", SSQ_MEDIA_NAME_MAX);
      return NULL;
    }
  return g_strdup (base);
}

/* Refusals that cost nothing: a declared size over the limit or the quota,
 * too many uploads, the server stopping. */
static gboolean
check_upload (SsqRequest  *r,
              GError     **error)
{
  const SsqServerConfig *config = r->server->config;
  const char *length_text = ssq_net_request_get_header (r->net, "content-length");
  guint64 length = 0, used = 0;
  gint64 retry;

  if (r->server->shutting_down)
    {
      g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_UNAVAILABLE, "Shutting down");
      return FALSE;
    }
  if (length_text != NULL && g_ascii_string_to_unsigned (length_text, 10, 0, G_MAXUINT64,
                                                         &length, NULL) &&
      length > config->media_max_size)
    {
      g_set_error (error, SSQ_ERROR, SSQ_ERROR_TOO_LARGE,
                   "A file may have %" G_GUINT64_FORMAT " bytes at most", config->media_max_size);
      return FALSE;
    }
  if (config->media_quota_per_user > 0)
    {
      gboolean maybe_held = FALSE;

      if (!ssq_server_store_media_usage (r->server->store, r->user_id, &used, error))
        return FALSE;
      /* The same bytes again cost nothing: a file of a size the user holds
       * may be that, which only its hash tells, once it is whole. */
      if (used + length > config->media_quota_per_user &&
          !ssq_server_store_media_holds_size (r->server->store, r->user_id, length, &maybe_held, error))
        return FALSE;
      if (used + length > config->media_quota_per_user && !maybe_held)
        {
          g_set_error (error, SSQ_ERROR, SSQ_ERROR_QUOTA_EXCEEDED,
                       "Storage quota exceeded: %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
                       " bytes used, this file has %" G_GUINT64_FORMAT,
                       used, config->media_quota_per_user, length);
          return FALSE;
        }
    }
  if (uploads_at_once (r->server, r->user_id) >= config->media_uploads_at_once)
    {
      /* Retried after a second: one of them will have ended or stalled. */
      ssq_set_rate_limited (error, 1000);
      return FALSE;
    }
  if (!ssq_server_ratelimit_take (r->server->rl_uploads, r->user_id, 1, ssq_now_ms (), &retry))
    {
      ssq_set_rate_limited (error, retry);
      return FALSE;
    }
  return TRUE;
}

/**
 * ssq_api_media_upload:
 * POST /api/v1/media?name=FILENAME, at its headers: refused unread, or its
 * body streamed into the media store.
 */
void
ssq_api_media_upload (SsqRequest *request)
{
  g_autoptr(SsqRequest) r = request;
  g_autoptr(GError) error = NULL;
  g_autofree char *name = NULL;
  SsqNetRequest *net = r->net;
  Upload *up;

  name = clean_name (r->query ? g_hash_table_lookup (r->query, "name") : NULL, &error);
  if (name == NULL || !check_upload (r, &error))
    {
      ssq_request_reply_error (r, error);
      return;
    }
  up = g_new0 (Upload, 1);
  up->server = g_object_ref (r->server);
  up->user_id = g_strdup (r->user_id);
  uploads_at_once_add (up->server, up->user_id, 1);
  up->name = g_steal_pointer (&name);
  up->upload = ssq_server_upload_new (r->server->media, &upload_callbacks, up);
  /* The transport holds the request until the body is whole. */
  up->request = g_steal_pointer (&r);
  up->request->net = NULL;
  ssq_net_request_stream_body (net, &upload_sink, up, up->request->server->config->media_max_size);
}

/* The same route reached without its head (a path written with escapes
 * the head's quick test does not decode): its body was buffered. */
void
ssq_api_media_upload_buffered (SsqRequest *request)
{
  g_autoptr(SsqRequest) r = request;
  g_autoptr(GError) error = g_error_new_literal (SSQ_ERROR, SSQ_ERROR_INVALID,
                                                 "Upload to /api/v1/media, spelt plainly");

  ssq_request_reply_error (r, error);
}

/* ---- Download --------------------------------------------------------- */

/* Answers with the file @sha256 of the store, as @mime: 200, 206 for a
 * range, 304 when the client has it, 416 for a range outside it. */
static void
serve_file (SsqRequest *r,
            const char *sha256,
            const char *mime,
            const char *name)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) headers = g_string_new (NULL);
  g_autofree char *etag = g_strdup_printf ("\"%s\"", sha256);
  const char *if_range = ssq_net_request_get_header (r->net, "if-range");
  goffset size = 0, start = 0, end = 0;
  SsqRange range = SSQ_RANGE_WHOLE;
  int fd;

  g_string_append_printf (headers, "ETag: %s\r\nAccept-Ranges: bytes\r\n"
                                   "X-Content-Type-Options: nosniff\r\n"
                                   "Content-Security-Policy: default-src 'none'; sandbox\r\n"
                                   "Cache-Control: private, max-age=31536000, immutable\r\n", etag);
  r->reply_headers = g_strdup (headers->str);
  if (ssq_server_download_etag_matches (ssq_net_request_get_header (r->net, "if-none-match"), etag))
    {
      ssq_request_reply (r, 304, NULL);
      return;
    }
  fd = ssq_server_media_open (r->server->media, sha256, &size, &error);
  if (fd < 0)
    {
      ssq_request_reply_error (r, error);
      return;
    }
  if (if_range == NULL || g_str_equal (if_range, etag))
    range = ssq_server_download_range (ssq_net_request_get_header (r->net, "range"), size, &start,
                                       &end);
  if (range == SSQ_RANGE_UNSATISFIABLE)
    {
      g_autoptr(GError) unsatisfiable = g_error_new_literal (SSQ_ERROR, SSQ_ERROR_INVALID,
                                                             "Range not satisfiable");

      close (fd);
      g_string_append_printf (headers, "Content-Range: bytes */%" G_GINT64_FORMAT "\r\n", size);
      ssq_request_reply_error (r, unsatisfiable);
      g_free (r->reply_headers);
      r->reply_headers = g_strdup (headers->str);
      r->status = 416;
      return;
    }
  ssq_server_download_disposition (headers, ssq_server_download_inline (mime), name);
  if (range == SSQ_RANGE_PART)
    g_string_append_printf (headers, "Content-Range: bytes %" G_GINT64_FORMAT "-%" G_GINT64_FORMAT
                            "/%" G_GINT64_FORMAT "\r\n", start, end, size);
  g_free (r->reply_headers);
  r->reply_headers = g_strdup (headers->str);
  if (range == SSQ_RANGE_PART)
    ssq_request_reply_file (r, 206, mime, fd, start, end - start + 1);
  else
    ssq_request_reply_file (r, SSQ_HTTP_OK, mime, fd, 0, size);
}

/* The media of the route, if the requester may see it: an unknown id and
 * one out of sight get the same 404. */
static SsqMediaRow *
visible_media (SsqRequest  *r,
               GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  SsqMediaRow *m = ssq_server_store_media_get_for (r->server->store, r->segments[1], r->user_id,
                                                   &local_error);

  if (m == NULL)
    {
      if (local_error != NULL)
        g_propagate_error (error, g_steal_pointer (&local_error));
      else
        g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_NOT_FOUND, "No such media");
    }
  return m;
}

/* GET|HEAD /api/v1/media/{id} */
void
ssq_api_media_get (SsqRequest *request)
{
  g_autoptr(SsqRequest) r = request;
  g_autoptr(GError) error = NULL;
  g_autoptr(SsqMediaRow) m = visible_media (r, &error);

  if (m == NULL)
    ssq_request_reply_error (r, error);
  else
    serve_file (r, m->sha256, m->mime, m->name);
}

/* GET|HEAD /api/v1/media/{id}/thumbnail: 404 until the thumbnailer made
 * one (and for media that get none); the same access as the media. */
void
ssq_api_media_thumbnail (SsqRequest *request)
{
  g_autoptr(SsqRequest) r = request;
  g_autoptr(GError) error = NULL;
  g_autoptr(SsqMediaRow) m = visible_media (r, &error);
  g_autofree char *name = NULL;

  if (m != NULL && (m->thumbnail_hash == NULL || m->thumbnail_mime == NULL))
    g_set_error_literal (&error, SSQ_ERROR, SSQ_ERROR_NOT_FOUND, "No thumbnail for this media");
  if (error != NULL)
    {
      ssq_request_reply_error (r, error);
      return;
    }
  name = g_strdup_printf ("thumbnail-%s", m->name);
  serve_file (r, m->thumbnail_hash, m->thumbnail_mime, name);
}

/* ---- Orphans ---------------------------------------------------------- */

typedef struct {
  SsqServer *server;
  gint64     created_before;
  GPtrArray *freed;
} Expiry;

static void
expiry_free (gpointer data)
{
  Expiry *e = data;

  g_clear_pointer (&e->freed, g_ptr_array_unref);
  g_object_unref (e->server);
  g_free (e);
}

static gboolean
expiry_op (SsqServerStore  *store,
           gpointer         data,
           GError         **error)
{
  Expiry *e = data;

  g_clear_pointer (&e->freed, g_ptr_array_unref);   /* when run again */
  e->freed = g_ptr_array_new_with_free_func (g_free);
  return ssq_server_store_media_expire (store, e->created_before, EXPIRY_BATCH, e->freed, error);
}

static void
expiry_done (gpointer      data,
             const GError *error)
{
  Expiry *e = data;

  if (error != NULL)
    {
      g_warning ("Cannot expire orphan uploads: %s", error->message);
      return;
    }
  if (e->freed->len > 0)
    g_debug ("Expired %u orphan upload file(s)", e->freed->len);
  ssq_server_media_release (e->server->media, e->freed, e->server->store);
}

static gboolean
expiry_cb (gpointer data)
{
  SsqServer *server = data;
  Expiry *e = g_new0 (Expiry, 1);

  e->server = g_object_ref (server);
  e->created_before = ssq_now_ms () - (gint64) server->config->media_orphan_expiry * 1000;
  ssq_server_writer_submit (server->writer, expiry_op, expiry_done, e, expiry_free);
  return G_SOURCE_CONTINUE;
}

/**
 * ssq_server_api_media_start_expiry:
 * Deletes, now and then, the uploads no message ever carried once they are
 * older than [media] orphan_expiry.
 *
 * Returns: the timer's source id
 */
guint
ssq_server_api_media_start_expiry (SsqServer *server)
{
  guint every = CLAMP (server->config->media_orphan_expiry / 2, 1, EXPIRY_SWEEP_MAX_S);

  return g_timeout_add_seconds (every, expiry_cb, server);
}
