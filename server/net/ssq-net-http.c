/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-net-http.c: HTTP/1.1 requests with Node's former parser
 * (libhttp-parser 2.9, in Debian 12). Chosen over hand-written parsing for
 * its years of exposure to hostile input, and over llhttp, which Debian 12
 * does not package; it is callback based and allocates nothing, so every
 * byte we keep is one we chose to keep, counted against a limit first.
 *
 * One request per connection is handed to the application at a time: the
 * parser pauses at the end of each request and reading stops until the
 * answer is queued, so a pipelining client holds at most one request and
 * one response in our memory. */
#include "ssq-config.h"
#include "ssq-net-private.h"

#include <string.h>
#include <unistd.h>


/* A request begun on @conn: its head and body are still to come. */
SsqNetRequest *
ssq_net_request_new (SsqNetConn *conn)
{
  SsqNetRequest *request = g_new0 (SsqNetRequest, 1);

  request->conn = ssq_net_conn_ref (conn);
  request->url = g_string_new (NULL);
  request->headers = g_ptr_array_new_with_free_func (g_free);
  request->start_us = g_get_monotonic_time ();
  return request;
}

/* A request whose body never came whole tells its sink. */
void
ssq_net_request_free (SsqNetRequest *request)
{
  const SsqNetBodySink *sink = g_steal_pointer (&request->sink);

  if (sink != NULL)
    sink->abort (request->sink_data);
  g_clear_pointer (&request->conn, ssq_net_conn_unref);
  g_free (request->method);
  g_string_free (request->url, TRUE);
  g_free (request->path);
  g_clear_pointer (&request->query, g_hash_table_unref);
  g_ptr_array_unref (request->headers);
  g_clear_pointer (&request->body, g_byte_array_unref);
  g_free (request);
}

SsqNetHttp *
ssq_net_http_new (void)
{
  SsqNetHttp *http = g_new0 (SsqNetHttp, 1);

  http_parser_init (&http->parser, HTTP_REQUEST);
  return http;
}

void
ssq_net_http_free (SsqNetHttp *http)
{
  if (http == NULL)
    return;
  g_clear_pointer (&http->building, ssq_net_request_free);
  g_free (http);
}

/* The application keeps a request it has not answered; its connection is
 * gone, so the answer will go nowhere. */
void
ssq_net_http_closed (SsqNetConn *conn)
{
  SsqNetRequest *held = g_steal_pointer (&conn->http->in_flight);

  if (held != NULL)
    ssq_net_request_gone (held);
}

/* The application holds a request and wants to hear if its peer goes: the
 * connection then listens for the peer's FIN (EPOLLRDHUP) although it reads
 * nothing, since a long poll may wait far longer than a client stays. */
gboolean
ssq_net_http_watching_gone (SsqNetConn *conn)
{
  return conn->http != NULL && conn->http->in_flight != NULL &&
         conn->http->in_flight->gone_func != NULL;
}

/* Tells the application, once, that @request's peer is gone. It may answer
 * (and so free) @request from inside. */
void
ssq_net_request_gone (SsqNetRequest *request)
{
  SsqNetGoneFunc func = g_steal_pointer (&request->gone_func);

  if (func != NULL)
    func (request, request->gone_data);
}

/* The application holds the request, or the sink of its body is full. */
gboolean
ssq_net_http_busy (SsqNetConn *conn)
{
  SsqNetHttp *http = conn->http;

  return http != NULL &&
         (http->in_flight != NULL || (http->building != NULL && http->building->body_paused));
}

/* A body being read into memory (not one streamed to a sink: an upload may
 * take long on a slow link): since when its request came. It must be whole
 * within idle_timeout of that, or a peer sending a byte now and then would
 * hold the connection, and what the body holds, for ever. */
gboolean
ssq_net_http_in_body (SsqNetConn *conn,
                      gint64     *out_started_ms)
{
  SsqNetHttp *http = conn->http;

  if (http == NULL || http->building == NULL || !http->headers_done || http->complete ||
      http->building->sink != NULL || http->error_status != 0)
    return FALSE;
  *out_started_ms = http->started_ms;
  return TRUE;
}

gboolean
ssq_net_http_in_headers (SsqNetConn *conn,
                         gint64     *out_started_ms)
{
  SsqNetHttp *http = conn->http;

  if (http == NULL || http->building == NULL || http->headers_done)
    return FALSE;
  *out_started_ms = http->started_ms;
  return TRUE;
}

/* ---- Parser callbacks ------------------------------------------------- */

static SsqNetHttp *
http_of (http_parser *parser)
{
  return ((SsqNetConn *) parser->data)->http;
}

static int
fail (http_parser *parser,
      guint        status,
      const char  *message)
{
  SsqNetHttp *http = http_of (parser);

  http->error_status = status;
  http->error_message = message;
  http_parser_pause (parser, 1);
  return 0;
}

static gboolean
count_header_bytes (http_parser *parser,
                    gsize        length)
{
  SsqNetConn *conn = parser->data;
  SsqNetHttp *http = conn->http;

  http->header_bytes += length;
  if (http->header_bytes > conn->server->limits.max_header_size)
    {
      fail (parser, 431, "Request headers too large");
      return FALSE;
    }
  return TRUE;
}

static int
on_message_begin (http_parser *parser)
{
  SsqNetConn *conn = parser->data;
  SsqNetHttp *http = conn->http;
  SsqNetRequest *request = ssq_net_request_new (conn);

  g_clear_pointer (&http->building, ssq_net_request_free);
  http->building = request;
  http->headers_done = FALSE;
  http->complete = FALSE;
  http->header_bytes = 0;
  http->n_headers = 0;
  if (http->started_ms == 0)
    http->started_ms = ssq_net_now_ms ();
  return 0;
}

static int
on_url (http_parser *parser,
        const char  *at,
        size_t       length)
{
  if (count_header_bytes (parser, length))
    g_string_append_len (http_of (parser)->building->url, at, length);
  return 0;
}

static int
on_header_field (http_parser *parser,
                 const char  *at,
                 size_t       length)
{
  SsqNetConn *conn = parser->data;
  SsqNetRequest *request = conn->http->building;

  if (!count_header_bytes (parser, length))
    return 0;
  if (request->headers->len == 0 || request->in_value)
    {
      if (++conn->http->n_headers > conn->server->limits.max_headers)
        return fail (parser, 431, "Too many request headers");
      g_ptr_array_add (request->headers, g_strdup (""));
      g_ptr_array_add (request->headers, g_strdup (""));
      request->in_value = FALSE;
    }
  {
    char **name = (char **) &request->headers->pdata[request->headers->len - 2];
    char *joined = g_strdup_printf ("%s%.*s", *name, (int) length, at);

    g_free (*name);
    *name = joined;
  }
  return 0;
}

static int
on_header_value (http_parser *parser,
                 const char  *at,
                 size_t       length)
{
  SsqNetRequest *request = http_of (parser)->building;
  char **value;
  char *joined;

  if (!count_header_bytes (parser, length) || request->headers->len == 0)
    return 0;
  request->in_value = TRUE;
  value = (char **) &request->headers->pdata[request->headers->len - 1];
  joined = g_strdup_printf ("%s%.*s", *value, (int) length, at);
  g_free (*value);
  *value = joined;
  return 0;
}

/* The request target, origin form: the path and the query's parameters. */
gboolean
ssq_net_request_parse_target (SsqNetRequest *request)
{
  struct http_parser_url u;
  const char *url = request->url->str;

  http_parser_url_init (&u);
  if (http_parser_parse_url (url, request->url->len, FALSE, &u) != 0 ||
      !(u.field_set & (1 << UF_PATH)))
    return FALSE;
  request->path = g_strndup (url + u.field_data[UF_PATH].off, u.field_data[UF_PATH].len);
  if (u.field_set & (1 << UF_QUERY))
    {
      g_autofree char *q = g_strndup (url + u.field_data[UF_QUERY].off,
                                      u.field_data[UF_QUERY].len);

      request->query = g_uri_parse_params (q, -1, "&", G_URI_PARAMS_NONE, NULL);
      if (request->query == NULL)
        return FALSE;
    }
  return TRUE;
}

/* RFC 9112 3.2: an HTTP/1.1 request carries exactly one Host; proxies and
 * caches in front of us route by it, so an ambiguous one is refused. */
static gboolean
host_ok (http_parser         *parser,
         const SsqNetRequest *request)
{
  guint hosts = 0;

  if (parser->http_major == 1 && parser->http_minor == 0)
    return TRUE;
  for (guint i = 0; i + 1 < request->headers->len; i += 2)
    if (g_ascii_strcasecmp (request->headers->pdata[i], "host") == 0)
      hosts++;
  return hosts == 1;
}

static int
on_headers_complete (http_parser *parser)
{
  SsqNetConn *conn = parser->data;
  SsqNetHttp *http = conn->http;
  SsqNetRequest *request = http->building;
  gboolean chunked = (parser->flags & F_CHUNKED) != 0;
  gboolean has_length = parser->content_length != G_MAXUINT64 && !chunked;

  http->headers_done = TRUE;
  request->method = g_strdup (http_method_str (parser->method));
  request->keep_alive = http_should_keep_alive (parser);
  request->upgrade = parser->upgrade;
  if (!ssq_net_request_parse_target (request))
    return fail (parser, 400, "Malformed request target");
  if (!host_ok (parser, request))
    return fail (parser, 400, "An HTTP/1.1 request needs one Host header");
  if (conn->server->head_func != NULL && !request->upgrade)
    {
      http->in_head = TRUE;
      conn->server->head_func (request, conn->server->user_data);
      http->in_head = FALSE;
      if (http->error_status != 0)        /* refused unread */
        {
          http_parser_pause (parser, 1);
          return 0;
        }
    }
  /* The size is known before a byte of the body is read: refuse it now. */
  if (has_length && parser->content_length > ssq_net_request_body_limit (request, conn->server))
    return fail (parser, 413, "Request body too large");
  if ((has_length && parser->content_length > 0) || chunked)
    {
      const char *expect = ssq_net_request_get_header (request, "expect");

      /* Grown as the bytes come, not reserved for what is announced. */
      if (request->sink == NULL)
        request->body = g_byte_array_sized_new (has_length ? MIN (parser->content_length, 16384) : 1024);
      if (expect != NULL && g_ascii_strcasecmp (expect, "100-continue") == 0)
        {
          static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
          ssq_net_conn_queue_copy (conn, cont, sizeof cont - 1);
        }
    }
  return 0;
}

static int
on_body (http_parser *parser,
         const char  *at,
         size_t       length)
{
  SsqNetConn *conn = parser->data;
  SsqNetRequest *request = conn->http->building;

  if (request->sink != NULL)
    {
      /* Whatever the sink takes beyond what it wanted is bounded by one
       * read: the connection is not read again until it has room. */
      request->body_received += length;
      if (request->body_received > request->body_limit)
        return fail (parser, 413, "Request body too large");
      if (!request->sink->data (request->sink_data, request, (const guint8 *) at, length))
        request->body_paused = TRUE;
      return 0;
    }
  /* A chunked body's size is only known as it comes: stop at the limit. */
  if (request->body == NULL ||
      request->body->len + length > ssq_net_request_body_limit (request, conn->server))
    return fail (parser, 413, "Request body too large");
  g_byte_array_append (request->body, (const guint8 *) at, length);
  return 0;
}

static int
on_message_complete (http_parser *parser)
{
  http_of (parser)->complete = TRUE;
  /* One request at a time: the parser stops right after this one. */
  http_parser_pause (parser, 1);
  return 0;
}

static const http_parser_settings settings = {
  .on_message_begin = on_message_begin,
  .on_url = on_url,
  .on_header_field = on_header_field,
  .on_header_value = on_header_value,
  .on_headers_complete = on_headers_complete,
  .on_body = on_body,
  .on_message_complete = on_message_complete,
};

/* ---- Responses -------------------------------------------------------- */

/* The path as sent, at most 200 bytes of it, anything but printable ASCII
 * escaped (the parser lets some bytes through that a log should not hold). */
static void
append_path (GString    *out,
             const char *path)
{
  for (gsize i = 0; path[i] != '\0'; i++)
    {
      guchar c = (guchar) path[i];

      if (i == 200)
        {
          g_string_append (out, "...");
          return;
        }
      if (c > 0x20 && c < 0x7f && c != '\\' && c != '"')
        g_string_append_c (out, (char) c);
      else
        g_string_append_printf (out, "\\x%02x", c);
    }
}

/* One line per request, when asked (ssq_net_server_set_log_requests ()):
 * never the query, the headers or the body. @request may be a request cut
 * short (no method or path yet). Built without allocating but the path,
 * and handed to the writer as fields (journald keeps them). */
void
ssq_net_http_log_request (SsqNetServer  *server,
                          SsqNetRequest *request,
                          guint          status)
{
  char status_text[8];
  char ms_text[G_ASCII_DTOSTR_BUF_SIZE];
  char message[320];
  GString *path;
  const char *method = request != NULL && request->method != NULL ? request->method : "-";
  gboolean http2 = request != NULL && request->http2;
  gint64 start_us = request != NULL ? request->start_us : 0;
  double ms = start_us > 0 ? (g_get_monotonic_time () - start_us) / 1000.0 : 0;

  if (!server->log_requests)
    return;
  path = g_string_sized_new (64);
  if (request != NULL && request->path != NULL)
    append_path (path, request->path);
  else
    g_string_append_c (path, '-');
  g_snprintf (status_text, sizeof status_text, "%u", status);
  g_ascii_formatd (ms_text, sizeof ms_text, "%.1f", ms);
  /* HTTP/1.1 lines as they always were; HTTP/2 ones say so at the end. */
  g_snprintf (message, sizeof message, "%.16s %s %s %s ms%s", method, path->str, status_text,
              ms_text, http2 ? " HTTP/2" : "");
  {
    const GLogField fields[] = {
      { "MESSAGE", message, -1 },
      { "PRIORITY", "6", -1 },
      { "SSQ_HTTP_METHOD", method, -1 },
      { "SSQ_HTTP_PATH", path->str, -1 },
      { "SSQ_HTTP_STATUS", status_text, -1 },
      { "SSQ_HTTP_MS", ms_text, -1 },
      { "SSQ_HTTP_VERSION", http2 ? "2" : "1.1", -1 },
    };

    g_log_structured_array (G_LOG_LEVEL_INFO, fields, G_N_ELEMENTS (fields));
  }
  g_string_free (path, TRUE);
}

static const char *
reason_phrase (guint status)
{
  switch (status)
    {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 416: return "Range Not Satisfiable";
    case 426: return "Upgrade Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 507: return "Insufficient Storage";
    default:  return "Unknown";
    }
}

/* The Date header, formatted once a second. */
const char *
ssq_net_http_date (void)
{
  static char text[64];
  static gint64 formatted_at = -1;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  if (now != formatted_at)
    {
      g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc (now);
      g_autofree char *s = g_date_time_format (dt, "%a, %d %b %Y %H:%M:%S GMT");

      g_strlcpy (text, s, sizeof text);
      formatted_at = now;
    }
  return text;
}

/* The status line and headers; @length < 0: the response has no body. */
void
ssq_net_http_queue_head (SsqNetConn  *conn,
                         guint        status,
                         const char  *content_type,
                         goffset      length,
                         const char  *extra_headers,
                         gboolean     keep_alive)
{
  GString *head = g_string_sized_new (256);
  g_autoptr(GBytes) head_bytes = NULL;

  g_string_append_printf (head, "HTTP/1.1 %u %s\r\nServer: %s\r\nDate: %s\r\n", status,
                          reason_phrase (status), conn->server->server_name, ssq_net_http_date ());
  if (status != 204 && status != 304)
    {
      if (length >= 0 && content_type != NULL)
        g_string_append_printf (head, "Content-Type: %s\r\n", content_type);
      g_string_append_printf (head, "Content-Length: %" G_GINT64_FORMAT "\r\n", MAX (length, 0));
    }
  if (!keep_alive)
    g_string_append (head, "Connection: close\r\n");
  if (extra_headers != NULL)
    g_string_append (head, extra_headers);
  g_string_append (head, "\r\n");
  head_bytes = g_string_free_to_bytes (head);
  ssq_net_conn_queue (conn, head_bytes);
}

/* @head_only: the answer to a HEAD request, whose headers describe a body
 * that is not sent. */
void
ssq_net_http_queue_response (SsqNetConn  *conn,
                             guint        status,
                             const char  *content_type,
                             char        *body,
                             gsize        length,
                             const char  *extra_headers,
                             gboolean     keep_alive,
                             gboolean     head_only)
{
  ssq_net_http_queue_head (conn, status, content_type, body != NULL ? (goffset) length : -1, extra_headers,
              keep_alive);
  if (body != NULL && length > 0 && status != 204 && status != 304 && !head_only)
    {
      g_autoptr(GBytes) body_bytes = g_bytes_new_take (body, length);
      ssq_net_conn_queue (conn, body_bytes);
    }
  else
    g_free (body);
}

/* An error the transport answers by itself; the connection ends after it,
 * since whatever follows in the stream cannot be trusted. */
void
ssq_net_http_error (SsqNetConn *conn,
                    guint       status,
                    const char *message)
{
  SsqNetServer *server = conn->server;
  gsize len = 0;
  char *body = server->error_func ? server->error_func (status, message, &len) : NULL;

  ssq_net_http_log_request (server, conn->http != NULL ? conn->http->building : NULL, status);
  if (conn->http != NULL)
    {
      conn->http->error_status = status;
      g_clear_pointer (&conn->http->building, ssq_net_request_free);
    }
  ssq_net_http_queue_response (conn, status, "application/json", body, len, NULL, FALSE, FALSE);
  ssq_net_conn_finish (conn);
}

void
ssq_net_http_timeout (SsqNetConn *conn,
                      gboolean    in_headers)
{
  SsqNetHttp *http = conn->http;

  if (in_headers || (http->building != NULL && http->headers_done))
    ssq_net_http_error (conn, 408, "Request timed out");
  else
    ssq_net_conn_close (conn, SSQ_NET_CLOSE_NORMAL);    /* idle keep-alive */
}

/* A whole request goes to the application; one whose body streamed goes
 * to its sink, which answers it. */
static void
dispatch (SsqNetConn *conn)
{
  SsqNetHttp *http = conn->http;
  SsqNetRequest *request = g_steal_pointer (&http->building);
  const SsqNetBodySink *sink = g_steal_pointer (&request->sink);

  http->in_flight = request;
  http->complete = FALSE;
  http->headers_done = FALSE;
  http->started_ms = 0;
  if (sink != NULL)
    sink->done (request->sink_data, request);
  else
    conn->server->request_func (request, conn->server->user_data);
}

gsize
ssq_net_http_feed (SsqNetConn   *conn,
                   const guint8 *data,
                   gsize         length)
{
  SsqNetHttp *http = conn->http;
  enum http_errno err;
  gsize n;

  if (ssq_net_http_busy (conn) || http->error_status != 0)
    return 0;
  http->parser.data = conn;
  http->in_parser = TRUE;
  n = http_parser_execute (&http->parser, &settings, (const char *) data, length);
  http->in_parser = FALSE;
  err = HTTP_PARSER_ERRNO (&http->parser);
  if (http->error_status != 0 && http->answered)
    {
      /* Refused by the application, whose answer is queued: what follows
       * is not read. */
      g_clear_pointer (&http->building, ssq_net_request_free);
      ssq_net_conn_finish (conn);
      return length;
    }
  if (http->error_status != 0)
    {
      ssq_net_http_error (conn, http->error_status, http->error_message);
      return length;
    }
  if (err == HPE_PAUSED)
    {
      http_parser_pause (&http->parser, 0);
      if (http->complete)
        dispatch (conn);
      return n;
    }
  if (err != HPE_OK)
    {
      ssq_net_http_error (conn, err == HPE_HEADER_OVERFLOW ? 431 : 400,
                          err == HPE_HEADER_OVERFLOW ? "Request headers too large"
                                                     : "Malformed HTTP request");
      return length;
    }
  return n;
}
