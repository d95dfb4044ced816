/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-http.c: the HTTP side: routing, authentication, body limits,
 * JSON replies, /healthz, /metrics and the WebSocket upgrade. */
#include "ssq-config.h"
#include "ssq-server-http.h"
#include "ssq-server-hub.h"
#include "ssq-server-session.h"

#include <string.h>

#define API_PREFIX "/api/v1/"

typedef struct {
  const char   *method;
  const char   *pattern;    /* segments below /api/v1/, "*" matches one */
  gboolean      auth;
  gboolean      json_body;
  SsqRouteFunc  func;
} Route;

static const Route routes[] = {
  { "POST",   "register",                      FALSE, TRUE,  ssq_api_register },
  { "POST",   "login",                         FALSE, TRUE,  ssq_api_login },
  { "POST",   "logout",                        TRUE,  FALSE, ssq_api_logout },
  { "GET",    "me",                            TRUE,  FALSE, ssq_api_me_get },
  { "PATCH",  "me",                            TRUE,  TRUE,  ssq_api_me_patch },
  { "GET",    "users",                         TRUE,  FALSE, ssq_api_users },
  { "GET",    "conversations",                 TRUE,  FALSE, ssq_api_conversations_list },
  { "POST",   "conversations",                 TRUE,  TRUE,  ssq_api_conversations_create },
  { "GET",    "conversations/*",               TRUE,  FALSE, ssq_api_conversation_get },
  { "PATCH",  "conversations/*",               TRUE,  TRUE,  ssq_api_conversation_patch },
  { "POST",   "conversations/*/members",       TRUE,  TRUE,  ssq_api_member_add },
  { "DELETE", "conversations/*/members/*",     TRUE,  FALSE, ssq_api_member_remove },
  { "GET",    "conversations/*/messages",      TRUE,  FALSE, ssq_api_messages_list },
  { "POST",   "conversations/*/messages",      TRUE,  TRUE,  ssq_api_messages_post },
  { "PATCH",  "conversations/*/messages/*",    TRUE,  TRUE,  ssq_api_message_patch },
  { "DELETE", "conversations/*/messages/*",    TRUE,  FALSE, ssq_api_message_delete },
  { "POST",   "media",                         TRUE,  FALSE, ssq_api_media },
  { "GET",    "media/*",                       TRUE,  FALSE, ssq_api_media },
  { "GET",    "media/*/thumbnail",             TRUE,  FALSE, ssq_api_media },
};

void
ssq_request_free (SsqRequest *request)
{
  g_clear_object (&request->msg);
  g_object_unref (request->server);
  g_free (request->user_id);
  g_free (request->token);
  g_strfreev (request->segments);
  g_clear_pointer (&request->query, g_hash_table_unref);
  g_clear_pointer (&request->body, json_object_unref);
  g_free (request);
}

void
ssq_request_reply (SsqRequest *request,
                   guint       status,
                   JsonObject *body)
{
  SoupServerMessage *msg = request->msg;

  soup_server_message_set_status (msg, status, NULL);
  if (body != NULL)
    {
      gsize len;
      char *text = ssq_json_object_to_string (body, &len);

      soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_TAKE, text, len);
    }
}

static void
reply_error_msg (SsqServer         *server,
                 SoupServerMessage *msg,
                 const GError      *error)
{
  g_autoptr(JsonObject) body = json_object_new ();
  SsqError code = error->domain == SSQ_ERROR ? (SsqError) error->code : SSQ_ERROR_INTERNAL;
  gint64 retry = ssq_error_get_retry_after (error);
  gsize len;
  char *text;

  if (code == SSQ_ERROR_INTERNAL || error->domain != SSQ_ERROR)
    g_warning ("Internal error: %s", error->message);
  ssq_server_metrics_error (&server->metrics, error);
  json_object_set_object_member (body, "error", ssq_json_error_object (error));
  text = ssq_json_object_to_string (body, &len);
  soup_server_message_set_status (msg, ssq_error_code_http_status (code), NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_TAKE, text, len);
  if (code == SSQ_ERROR_RATE_LIMITED)
    {
      g_autofree char *secs = g_strdup_printf ("%" G_GINT64_FORMAT, MAX (1, (retry + 999) / 1000));
      soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                    "Retry-After", secs);
    }
}

void
ssq_request_reply_error (SsqRequest   *request,
                         const GError *error)
{
  reply_error_msg (request->server, request->msg, error);
}

void
ssq_request_pause (SsqRequest *request)
{
  soup_server_message_pause (request->msg);
}

void
ssq_request_resume (SsqRequest *request)
{
  soup_server_message_unpause (request->msg);
}

gboolean
ssq_request_query_int (SsqRequest  *request,
                       const char  *name,
                       gint64       min,
                       gint64       max,
                       gint64      *out_value,
                       GError     **error)
{
  const char *text = request->query ? g_hash_table_lookup (request->query, name) : NULL;
  gint64 v;

  if (text == NULL)
    return TRUE;
  if (!g_ascii_string_to_signed (text, 10, min, max, &v, NULL))
    {
      g_set_error (error, SSQ_ERROR, SSQ_ERROR_INVALID,
                   "Query parameter \"%s\" must be an integer from %" G_GINT64_FORMAT
                   " to %" G_GINT64_FORMAT, name, min, max);
      return FALSE;
    }
  *out_value = v;
  return TRUE;
}

/* ---- Authentication --------------------------------------------------- */

char *
ssq_server_authenticate (SsqServer   *server,
                         const char  *token,
                         GError     **error)
{
  guint8 hash[SSQ_TOKEN_HASH_BYTES];
  g_autoptr(GError) local_error = NULL;
  char *user_id;

  if (token == NULL || !ssq_server_auth_token_hash (token, hash))
    {
      g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_UNAUTHORIZED, "Missing or malformed token");
      return NULL;
    }
  user_id = ssq_server_store_session_user (server->store, hash, sizeof hash, ssq_now_ms (),
                                           &local_error);
  if (user_id == NULL)
    {
      if (local_error != NULL)
        g_propagate_error (error, g_steal_pointer (&local_error));
      else
        g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_UNAUTHORIZED,
                             "Unknown, expired or revoked token");
    }
  return user_id;
}

static char *
bearer_token (SoupServerMessage *msg)
{
  const char *header = soup_message_headers_get_one (soup_server_message_get_request_headers (msg),
                                                     "Authorization");

  if (header == NULL || g_ascii_strncasecmp (header, "Bearer ", 7) != 0)
    return NULL;
  return g_strstrip (g_strdup (header + 7));
}

/* ---- Routing ---------------------------------------------------------- */

static gboolean
match (const char  *pattern,
       char       **segments)
{
  g_auto(GStrv) parts = g_strsplit (pattern, "/", -1);
  guint n = g_strv_length (parts);

  if (g_strv_length (segments) != n)
    return FALSE;
  for (guint i = 0; i < n; i++)
    {
      if (segments[i][0] == '\0')
        return FALSE;
      if (!g_str_equal (parts[i], "*") && !g_str_equal (parts[i], segments[i]))
        return FALSE;
    }
  return TRUE;
}

static const Route *
find_route (const char  *method,
            char       **segments,
            gboolean    *out_path_known)
{
  *out_path_known = FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (routes); i++)
    {
      if (!match (routes[i].pattern, segments))
        continue;
      *out_path_known = TRUE;
      if (g_str_equal (routes[i].method, method))
        return &routes[i];
    }
  return NULL;
}

static char **
split_path (const char *path)
{
  g_auto(GStrv) raw = g_strsplit (path, "/", -1);
  guint n = g_strv_length (raw);
  char **out = g_new0 (char *, n + 1);

  /* Segments are percent-decoded one by one, so an encoded '/' stays inside
   * its segment. Invalid escapes leave the segment empty, matching nothing. */
  for (guint i = 0; i < n; i++)
    {
      char *s = g_uri_unescape_string (raw[i], NULL);
      out[i] = s ? s : g_strdup ("");
    }
  return out;
}

static void
reply_simple_error (SsqServer         *server,
                    SoupServerMessage *msg,
                    SsqError           code,
                    const char        *message)
{
  g_autoptr(GError) error = g_error_new_literal (SSQ_ERROR, code, message);

  reply_error_msg (server, msg, error);
}

static void
api_handler (SoupServer        *soup,
             SoupServerMessage *msg,
             const char        *path,
             GHashTable        *query,
             gpointer           user_data)
{
  SsqServer *server = user_data;
  const char *method = soup_server_message_get_method (msg);
  SsqConnection *conn = ssq_server_connection_for (server, msg);
  g_autoptr(SsqRequest) request = NULL;
  g_autoptr(GError) error = NULL;
  const Route *route;
  gboolean path_known;
  g_auto(GStrv) segments = NULL;

  if (conn != NULL)
    conn->busy = TRUE;     /* until request-finished; async replies may take a while */
  if (!g_str_has_prefix (path, API_PREFIX))
    {
      reply_simple_error (server, msg, SSQ_ERROR_NOT_FOUND, "No such route");
      return;
    }
  segments = split_path (path + strlen (API_PREFIX));
  route = find_route (method, segments, &path_known);
  if (route == NULL)
    {
      reply_simple_error (server, msg, path_known ? SSQ_ERROR_INVALID : SSQ_ERROR_NOT_FOUND,
                          path_known ? "Method not allowed on this route" : "No such route");
      if (path_known)
        soup_server_message_set_status (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, NULL);
      return;
    }

  request = g_new0 (SsqRequest, 1);
  request->server = g_object_ref (server);
  request->msg = g_object_ref (msg);
  request->segments = g_steal_pointer (&segments);
  request->query = query ? g_hash_table_ref (query) : NULL;

  if (route->auth)
    {
      request->token = bearer_token (msg);
      request->user_id = ssq_server_authenticate (server, request->token, &error);
      if (request->user_id == NULL)
        {
          ssq_request_reply_error (request, error);
          return;
        }
    }
  if (route->json_body)
    {
      SoupMessageBody *body = soup_server_message_get_request_body (msg);
      g_autoptr(GBytes) bytes = soup_message_body_flatten (body);
      gsize len;
      const char *data = g_bytes_get_data (bytes, &len);

      if (len > server->config->max_body_size)
        {
          reply_simple_error (server, msg, SSQ_ERROR_TOO_LARGE, "Request body too large");
          return;
        }
      request->body = ssq_json_parse_object (data, len, &error);
      if (request->body == NULL)
        {
          ssq_request_reply_error (request, error);
          return;
        }
    }
  route->func (g_steal_pointer (&request));
}

/* Refuses an oversized body from its headers, before it is read. */
static void
got_headers_cb (SoupServerMessage *msg,
                SsqServer         *server)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  goffset length = soup_message_headers_get_content_length (headers);
  SoupEncoding encoding = soup_message_headers_get_encoding (headers);
  const char *path = g_uri_get_path (soup_server_message_get_uri (msg));

  if (g_str_has_prefix (path, API_PREFIX "media"))
    return;   /* uploads have their own limit */
  if ((encoding == SOUP_ENCODING_CONTENT_LENGTH && length > server->config->max_body_size) ||
      encoding == SOUP_ENCODING_CHUNKED)
    {
      reply_simple_error (server, msg, SSQ_ERROR_TOO_LARGE,
                          encoding == SOUP_ENCODING_CHUNKED
                            ? "Chunked request bodies are not accepted; send Content-Length"
                            : "Request body too large");
      soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                    "Connection", "close");
    }
}

static void
request_started_cb (SoupServer        *soup,
                    SoupServerMessage *msg,
                    SsqServer         *server)
{
  gint64 *start = g_new (gint64, 1);
  SsqConnection *conn = ssq_server_connection_for (server, msg);

  *start = g_get_monotonic_time ();
  if (conn != NULL)
    conn->last_activity = *start;
  g_object_set_data_full (G_OBJECT (msg), "ssq-start", start, g_free);
  server->metrics.http_requests_total++;
  g_signal_connect (msg, "got-headers", G_CALLBACK (got_headers_cb), server);
}

static void
request_finished_cb (SoupServer        *soup,
                     SoupServerMessage *msg,
                     SsqServer         *server)
{
  gint64 *start = g_object_get_data (G_OBJECT (msg), "ssq-start");
  SsqConnection *conn = ssq_server_connection_for (server, msg);

  if (conn != NULL)
    {
      conn->busy = FALSE;
      conn->last_activity = g_get_monotonic_time ();
    }
  if (start != NULL)
    ssq_histogram_observe (&server->metrics.http_latency,
                           (g_get_monotonic_time () - *start) / 1e6);
}

/* ---- Plain routes ----------------------------------------------------- */

static void
healthz_handler (SoupServer        *soup,
                 SoupServerMessage *msg,
                 const char        *path,
                 GHashTable        *query,
                 gpointer           user_data)
{
  static const char body[] = "{\"status\":\"ok\",\"version\":\"" SSQ_VERSION "\"}";

  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_STATIC, body,
                                    strlen (body));
}

static gint64
current_rss (void)
{
  g_autofree char *status = NULL;
  const char *line;

  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL) ||
      (line = strstr (status, "VmRSS:")) == NULL)
    return -1;
  return g_ascii_strtoll (line + 6, NULL, 10) * 1024;
}

static void
metrics_handler (SoupServer        *soup,
                 SoupServerMessage *msg,
                 const char        *path,
                 GHashTable        *query,
                 gpointer           user_data)
{
  SsqServer *server = user_data;
  char *text = ssq_server_metrics_render (&server->metrics,
                                          ssq_server_hub_n_sessions (server->hub),
                                          ssq_server_hub_users_online (server->hub),
                                          current_rss ());

  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "text/plain; version=0.0.4", SOUP_MEMORY_TAKE, text,
                                    strlen (text));
}

/* ---- WebSocket -------------------------------------------------------- */

/* Runs before the upgrade: a request without a valid token gets a plain 401
 * and never becomes a WebSocket. */
static void
ws_auth_handler (SoupServer        *soup,
                 SoupServerMessage *msg,
                 const char        *path,
                 GHashTable        *query,
                 gpointer           user_data)
{
  SsqServer *server = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *token = bearer_token (msg);
  char *user_id;
  SsqConnection *conn;

  if (token == NULL && query != NULL)
    token = g_strdup (g_hash_table_lookup (query, "access_token"));
  user_id = ssq_server_authenticate (server, token, &error);
  if (user_id == NULL)
    {
      reply_error_msg (server, msg, error);
      return;
    }
  if (server->shutting_down)
    {
      g_free (user_id);
      reply_simple_error (server, msg, SSQ_ERROR_UNAVAILABLE, "Shutting down");
      return;
    }
  g_object_set_data_full (G_OBJECT (msg), "ssq-user-id", user_id, g_free);
  /* The idle sweep guards HTTP; a WebSocket may be quiet for hours. */
  if ((conn = ssq_server_connection_for (server, msg)) != NULL)
    conn->upgraded = TRUE;
}

static void
ws_handler (SoupServer              *soup,
            SoupServerMessage       *msg,
            const char              *path,
            SoupWebsocketConnection *connection,
            gpointer                 user_data)
{
  SsqServer *server = user_data;
  const char *user_id = g_object_get_data (G_OBJECT (msg), "ssq-user-id");
  SsqConnection *conn = ssq_server_connection_for (server, msg);

  if (user_id == NULL)
    return;
  /* The session holds the connection and keeps itself alive until closed. */
  ssq_server_session_new (server, connection, conn ? conn->socket : NULL, user_id);
}

void
ssq_server_http_setup (SsqServer *server)
{
  SoupServer *soup = server->soup;

  if (!server->config->websocket_deflate)
    soup_server_remove_websocket_extension (soup, SOUP_TYPE_WEBSOCKET_EXTENSION_DEFLATE);
  soup_server_add_handler (soup, "/healthz", healthz_handler, server, NULL);
  soup_server_add_handler (soup, "/metrics", metrics_handler, server, NULL);
  soup_server_add_handler (soup, "/api/v1/ws", ws_auth_handler, server, NULL);
  soup_server_add_websocket_handler (soup, "/api/v1/ws", NULL, NULL, ws_handler, server, NULL);
  soup_server_add_handler (soup, NULL, api_handler, server, NULL);
  g_signal_connect (soup, "request-started", G_CALLBACK (request_started_cb), server);
  g_signal_connect (soup, "request-finished", G_CALLBACK (request_finished_cb), server);
  g_signal_connect (soup, "request-aborted", G_CALLBACK (request_finished_cb), server);
}
