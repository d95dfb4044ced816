/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-net-h2-answer.c: answers on HTTP/2 streams, with the fields an
 * HTTP/1.1 answer has (less the connection's own); bodies from memory
 * (shared, never copied) or from a file (read a DATA frame at a time, as
 * the peer's window and our output queue allow); refusals before a
 * request's body, whose rest is drained up to DRAIN_MAX. */
#include "ssq-net-h2-private.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

static ssize_t
body_read_cb (nghttp2_session     *session,
              gint32               stream_id,
              guint8              *buf,
              size_t               length,
              guint32             *data_flags,
              nghttp2_data_source *source,
              gpointer             user_data)
{
  SsqNetH2Stream *stream = source->ptr;
  goffset n = MIN ((goffset) length, stream->body_length - stream->body_planned);

  /* The bytes go out in ssq_net_h2_send_data_cb, without a copy into nghttp2. */
  *data_flags |= NGHTTP2_DATA_FLAG_NO_COPY;
  stream->body_planned += n;
  if (stream->body_planned == stream->body_length)
    *data_flags |= NGHTTP2_DATA_FLAG_EOF;
  return n;
}

/* A DATA frame: its header, then a slice of the body in memory (shared,
 * not copied) or read from the file, one frame at a time. */
int
ssq_net_h2_send_data_cb (nghttp2_session     *session,
                         nghttp2_frame       *frame,
                         const guint8        *framehd,
                         size_t               length,
                         nghttp2_data_source *source,
                         gpointer             user_data)
{
  SsqNetH2 *h2 = user_data;
  SsqNetH2Stream *stream = source->ptr;
  g_autoptr(GBytes) piece = NULL;

  if (h2->conn->out_bytes >= OUT_HIGH)
    return NGHTTP2_ERR_WOULDBLOCK;
  if (stream->body != NULL)
    piece = g_bytes_new_from_bytes (stream->body, stream->body_offset, length);
  else if (length > 0)
    {
      guint8 *buf = g_malloc (length);
      gssize n = pread (stream->fd, buf, length, stream->body_offset);

      if (n != (gssize) length)
        {
          /* The file came up short: the length promised cannot be kept. */
          g_free (buf);
          return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
        }
      piece = g_bytes_new_take (buf, length);
    }
  ssq_net_conn_queue_copy (h2->conn, framehd, 9);
  if (piece != NULL)
    ssq_net_conn_queue (h2->conn, piece);
  stream->body_offset += length;
  h2->active_ms = ssq_net_now_ms ();
  return 0;
}

/* "Name: value\r\n" lines as the application writes them, into fields;
 * the ones HTTP/2 forbids (connection-specific) are left out. */
static void
add_extra_headers (GArray     *nv,
                   GPtrArray  *strings,
                   const char *extra_headers)
{
  static const char *const forbidden[] = { "connection", "keep-alive", "proxy-connection",
                                           "transfer-encoding", "upgrade" };
  g_auto(GStrv) lines = NULL;

  if (extra_headers == NULL)
    return;
  lines = g_strsplit (extra_headers, "\r\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      char *colon = strchr (lines[i], ':');
      char *name, *value;
      gboolean skip = FALSE;

      if (colon == NULL)
        continue;
      name = g_ascii_strdown (lines[i], colon - lines[i]);
      value = g_strstrip (g_strdup (colon + 1));
      for (guint j = 0; j < G_N_ELEMENTS (forbidden); j++)
        skip |= g_str_equal (name, forbidden[j]);
      g_ptr_array_add (strings, name);
      g_ptr_array_add (strings, value);
      if (!skip)
        g_array_append_val (nv, ((nghttp2_nv) { (guint8 *) name, (guint8 *) value, strlen (name),
                                                strlen (value), NGHTTP2_NV_FLAG_NONE }));
    }
}

static void
add_field (GArray     *nv,
           const char *name,
           const char *value)
{
  g_array_append_val (nv, ((nghttp2_nv) { (guint8 *) name, (guint8 *) value, strlen (name),
                                          strlen (value), NGHTTP2_NV_FLAG_NONE }));
}

/* The same fields an HTTP/1.1 answer has (Content-Length for a HEAD
 * request's body too), less the connection's own. @length < 0: no body. */
static void
submit_answer (SsqNetH2Stream *stream,
               guint           status,
               const char     *content_type,
               goffset         length,
               const char     *extra_headers,
               gboolean        send_body)
{
  SsqNetH2 *h2 = stream->h2;
  g_autoptr(GArray) nv = g_array_new (FALSE, FALSE, sizeof (nghttp2_nv));
  g_autoptr(GPtrArray) strings = g_ptr_array_new_with_free_func (g_free);
  char status_text[8], length_text[24];
  nghttp2_data_provider provider = { .source.ptr = stream, .read_callback = body_read_cb };

  g_snprintf (status_text, sizeof status_text, "%u", status);
  add_field (nv, ":status", status_text);
  add_field (nv, "server", h2->conn->server->server_name);
  add_field (nv, "date", ssq_net_http_date ());
  if (status != 204 && status != 304)
    {
      if (length >= 0 && content_type != NULL)
        add_field (nv, "content-type", content_type);
      g_snprintf (length_text, sizeof length_text, "%" G_GINT64_FORMAT, MAX (length, 0));
      add_field (nv, "content-length", length_text);
    }
  add_extra_headers (nv, strings, extra_headers);
  stream->body_length = send_body ? length : 0;
  if (nghttp2_submit_response (h2->session, stream->id, (nghttp2_nv *) nv->data, nv->len,
                               send_body && length > 0 ? &provider : NULL) != 0)
    nghttp2_submit_rst_stream (h2->session, NGHTTP2_FLAG_NONE, stream->id,
                               NGHTTP2_INTERNAL_ERROR);
  ssq_net_loop_defer (h2->conn->server->loop, &h2->conn->flush);
}

gboolean
ssq_net_h2_answerable (SsqNetRequest *request)
{
  SsqNetH2Stream *stream = request->stream;

  return stream != NULL && stream->with_app && stream->request == request &&
         request->conn->mode == SSQ_NET_MODE_HTTP2;
}

gboolean
ssq_net_h2_in_head (SsqNetRequest *request)
{
  return request->stream != NULL && request->stream->in_head;
}

/* The application's answer (ssq_net_request_respond () or _respond_file ():
 * @fd >= 0 for a file body, which is taken). Frees @request. */
void
ssq_net_h2_respond (SsqNetRequest *request,
                    guint          status,
                    const char    *content_type,
                    char          *body,
                    gsize          length,
                    int            fd,
                    goffset        offset,
                    goffset        file_length,
                    const char    *extra_headers)
{
  SsqNetH2Stream *stream = request->stream;
  gboolean send_body = g_strcmp0 (request->method, "HEAD") != 0 && status != 204 &&
                       status != 304;

  ssq_net_h2_detach_request (stream);
  ssq_net_http_log_request (request->conn->server, request, status);
  if (fd >= 0)
    {
      if (send_body)
        {
          stream->fd = fd;
          stream->body_offset = offset;
          posix_fadvise (fd, offset, file_length, POSIX_FADV_SEQUENTIAL);
        }
      else
        close (fd);
      submit_answer (stream, status, content_type, file_length, extra_headers, send_body);
    }
  else
    {
      if (body != NULL && send_body)
        stream->body = g_bytes_new_take (g_steal_pointer (&body), length);
      submit_answer (stream, status, content_type, body != NULL || stream->body ? (goffset) length : -1,
                     extra_headers, send_body && stream->body != NULL);
      g_free (body);
    }
  ssq_net_request_free (request);
}

/* The transport's own answer to a request it will not hand over (413,
 * 431, 400): the stream ends, the connection goes on. */
void
ssq_net_h2_refuse_stream (SsqNetH2Stream *stream,
                          guint           status,
                          const char     *message)
{
  SsqNetServer *server = stream->h2->conn->server;
  gsize len = 0;
  char *body = server->error_func ? server->error_func (status, message, &len) : NULL;
  SsqNetRequest *request = g_steal_pointer (&stream->request);

  stream->refused = TRUE;
  ssq_net_h2_release_held (stream);
  ssq_net_http_log_request (server, request, status);
  if (body != NULL)
    stream->body = g_bytes_new_take (body, len);
  submit_answer (stream, status, "application/json", body != NULL ? (goffset) len : -1, NULL,
                 body != NULL);
  if (request != NULL)
    {
      request->stream = NULL;
      ssq_net_request_free (request);     /* a sink hears abort () */
    }
}

void
ssq_net_h2_refuse (SsqNetRequest *request,
                   guint          status,
                   const char    *content_type,
                   char          *body,
                   gsize          length,
                   const char    *extra_headers)
{
  SsqNetH2Stream *stream = request->stream;

  if (ssq_net_h2_answerable (request))
    {
      ssq_net_h2_respond (request, status, content_type, body, length, -1, 0, 0, extra_headers);
      return;
    }
  g_return_if_fail (stream != NULL && stream->request == request);
  request->sink = NULL;                   /* refused: no abort () */
  stream->request = NULL;
  stream->refused = TRUE;
  request->stream = NULL;
  ssq_net_h2_release_held (stream);
  ssq_net_http_log_request (request->conn->server, request, status);
  if (body != NULL)
    stream->body = g_bytes_new_take (body, length);
  submit_answer (stream, status, content_type, body != NULL ? (goffset) length : -1,
                 extra_headers, body != NULL);
  ssq_net_request_free (request);
}

void
ssq_net_h2_resume_body (SsqNetRequest *request)
{
  SsqNetH2Stream *stream = request->stream;

  if (!request->body_paused)
    return;
  request->body_paused = FALSE;
  if (stream == NULL || stream->owed == 0)
    return;
  nghttp2_session_consume (stream->h2->session, stream->id, stream->owed);
  stream->owed = 0;
  stream->h2->active_ms = ssq_net_now_ms ();   /* the wait was the sink's, not the peer's */
  ssq_net_loop_defer (stream->h2->conn->server->loop, &stream->h2->conn->flush);
}

/* ssq_net_request_require_http1 (): the stream is reset with
 * HTTP_1_1_REQUIRED (nothing else is sent on it). Frees @request. */
void
ssq_net_h2_require_http1 (SsqNetRequest *request)
{
  SsqNetH2Stream *stream = request->stream;

  if (ssq_net_h2_answerable (request))
    {
      SsqNetH2 *h2 = stream->h2;

      ssq_net_h2_detach_request (stream);
      stream->refused = TRUE;               /* a body still coming is dropped */
      nghttp2_submit_rst_stream (h2->session, NGHTTP2_FLAG_NONE, stream->id,
                                 NGHTTP2_HTTP_1_1_REQUIRED);
      ssq_net_loop_defer (h2->conn->server->loop, &h2->conn->flush);
    }
  ssq_net_request_free (request);
}
