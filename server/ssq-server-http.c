/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-http.c: the HTTP side of the chat: the REST route table,
 * authentication, JSON replies and errors, /healthz, /metrics and the
 * WebSocket upgrade. Limits on what a request may hold are the transport's
 * (net/); this file sees only whole, bounded requests. */
#include "ssq-config.h"
#include "ssq-server-http.h"
#include "ssq-server-hub.h"
#include "ssq-server-queues.h"
#include "ssq-server-thumbnailer.h"
#include "net/ssq-net-busy-poll.h"
#include "ssq-server-session.h"

#include <sodium.h>
#include <string.h>

#define API_PREFIX "/api/v1/"

/* Each route names the query parameters and body fields it takes (words
 * separated by spaces); anything else is refused with 400 rather than
 * ignored, so that a typo or a feature this server lacks never looks like
 * success. */
/* What a route belongs to, for [features]. */
typedef enum {
  FEATURE_NONE,
  FEATURE_MEDIA,
  FEATURE_REGISTRATION,
  FEATURE_BROKER,
} Feature;

typedef struct {
  const char   *method;
  const char   *pattern;    /* segments below /api/v1/, "*" matches one */
  gboolean      auth;
  gboolean      json_body;
  const char   *query;      /* parameters allowed; NULL: none */
  const char   *fields;     /* body members allowed (json_body routes) */
  SsqRouteFunc  func;
  SsqRouteFunc  head;       /* runs at the headers instead, before the body (uploads) */
  Feature       feature;
} Route;

static const Route routes[] = {
  { "GET",    "server",                     FALSE, FALSE, NULL, NULL, ssq_api_server_info },
  { "POST",   "register",                   FALSE, TRUE,  NULL, "username password display_name device invite", ssq_api_register,
    NULL, FEATURE_REGISTRATION },
  { "POST",   "invites",                    TRUE,  TRUE,  NULL, "uses expires_in", ssq_api_invites_create },
  { "GET",    "invites",                    TRUE,  FALSE, NULL, NULL, ssq_api_invites_list },
  { "DELETE", "invites/*",                  TRUE,  FALSE, NULL, NULL, ssq_api_invites_revoke },
  { "POST",   "login",                      FALSE, TRUE,  NULL, "username password device", ssq_api_login },
  { "POST",   "password-reset",             FALSE, TRUE,  NULL, "username code password device", ssq_api_password_reset },
  { "POST",   "logout",                     TRUE,  FALSE, NULL, NULL, ssq_api_logout },
  { "GET",    "me",                         TRUE,  FALSE, NULL, NULL, ssq_api_me_get },
  { "PATCH",  "me",                         TRUE,  TRUE,  NULL, "display_name password current_password", ssq_api_me_patch },
  { "DELETE", "me",                         TRUE,  TRUE,  NULL, "password", ssq_api_me_delete },
  { "GET",    "users",                      TRUE,  FALSE, "q limit", NULL, ssq_api_users },
  { "GET",    "conversations",              TRUE,  FALSE, NULL, NULL, ssq_api_conversations_list },
  { "POST",   "conversations",              TRUE,  TRUE,  NULL, "kind title members", ssq_api_conversations_create },
  { "GET",    "conversations/*",            TRUE,  FALSE, NULL, NULL, ssq_api_conversation_get },
  { "PATCH",  "conversations/*",            TRUE,  TRUE,  NULL, "title muted", ssq_api_conversation_patch },
  { "POST",   "conversations/*/members",    TRUE,  TRUE,  NULL, "username role", ssq_api_member_add },
  { "DELETE", "conversations/*/members/*",  TRUE,  FALSE, NULL, NULL, ssq_api_member_remove },
  { "GET",    "conversations/*/messages",   TRUE,  FALSE, "before after limit", NULL, ssq_api_messages_list },
  { "POST",   "conversations/*/messages",   TRUE,  TRUE,  NULL, "client_id body reply_to media", ssq_api_messages_post },
  { "PATCH",  "conversations/*/messages/*", TRUE,  TRUE,  NULL, "body", ssq_api_message_patch },
  { "DELETE", "conversations/*/messages/*", TRUE,  FALSE, NULL, NULL, ssq_api_message_delete },
  { "POST",   "media",                      TRUE,  FALSE, "name", NULL, ssq_api_media_upload_buffered,
    ssq_api_media_upload, FEATURE_MEDIA },
  { "GET",    "media/*",                    TRUE,  FALSE, NULL, NULL, ssq_api_media_get, NULL, FEATURE_MEDIA },
  { "HEAD",   "media/*",                    TRUE,  FALSE, NULL, NULL, ssq_api_media_get, NULL, FEATURE_MEDIA },
  { "GET",    "media/*/thumbnail",          TRUE,  FALSE, NULL, NULL, ssq_api_media_thumbnail, NULL,
    FEATURE_MEDIA },
  { "HEAD",   "media/*/thumbnail",          TRUE,  FALSE, NULL, NULL, ssq_api_media_thumbnail, NULL,
    FEATURE_MEDIA },
  /* Queues (ssq-server-api-queues.c). PUT's body is optional: read there. */
  { "GET",    "queues",                     TRUE,  FALSE, NULL, NULL, ssq_api_queues_list, NULL,
    FEATURE_BROKER },
  { "PUT",    "queues/*",                   TRUE,  FALSE, NULL, NULL, ssq_api_queue_declare, NULL,
    FEATURE_BROKER },
  { "GET",    "queues/*",                   TRUE,  FALSE, NULL, NULL, ssq_api_queue_get, NULL,
    FEATURE_BROKER },
  { "DELETE", "queues/*",                   TRUE,  FALSE, "if_unused if_empty", NULL,
    ssq_api_queue_delete, NULL, FEATURE_BROKER },
  { "POST",   "queues/*/purge",             TRUE,  FALSE, NULL, NULL, ssq_api_queue_purge, NULL,
    FEATURE_BROKER },
  { "POST",   "queues/*/messages",          TRUE,  TRUE,  NULL,
    "body body_base64 content_type priority ttl_ms headers persistent correlation_id reply_to "
    "message_id", ssq_api_queue_publish, NULL, FEATURE_BROKER },
  { "GET",    "queues/*/messages",          TRUE,  FALSE, "max wait lease", NULL,
    ssq_api_queue_get_messages, NULL, FEATURE_BROKER },
  { "POST",   "queues/*/ack",               TRUE,  TRUE,  NULL, "tags", ssq_api_queue_ack, NULL,
    FEATURE_BROKER },
  { "POST",   "queues/*/nack",              TRUE,  TRUE,  NULL, "tags requeue", ssq_api_queue_nack,
    NULL, FEATURE_BROKER },
};

/* The WebSocket upgrade, /healthz and /metrics have no entry above. */
#define WS_QUERY "access_token notifications"

/* The body of a route without a login (register, login, password reset):
 * a few short strings. Bounded before it is read, so that a client with no
 * account cannot make the main loop read 256 KiB of JSON made to be slow
 * (names made to collide in json-glib's member table: 35 ms a body). */
#define PUBLIC_BODY_MAX (16 * 1024)

static void
send_reply (SsqRequest *request)
{
  SsqServer *server = request->server;
  gint64 started = ssq_net_request_get_start_us (request->net);

  if (request->status == 0)
    {
      g_autoptr(GError) error = g_error_new_literal (SSQ_ERROR, SSQ_ERROR_INTERNAL,
                                                     "The request was not answered");
      ssq_request_reply_error (request, error);
    }
  ssq_histogram_observe (&server->metrics.http_latency,
                         (g_get_monotonic_time () - started) / 1e6);
  if (request->unread_body)
    ssq_net_request_refuse (g_steal_pointer (&request->net), request->status,
                            "application/json", g_steal_pointer (&request->reply),
                            request->reply_len, request->reply_headers);
  else
    ssq_net_request_respond (g_steal_pointer (&request->net), request->status,
                             "application/json", g_steal_pointer (&request->reply),
                             request->reply_len, request->reply_headers);
}

/**
 * ssq_request_reply_file:
 * Answers with @length bytes of @fd from @offset (taking @fd), with the
 * reply headers set on @request; the request is then done (free it).
 */
void
ssq_request_reply_file (SsqRequest *request,
                        guint       status,
                        const char *content_type,
                        int         fd,
                        goffset     offset,
                        goffset     length)
{
  gint64 started = ssq_net_request_get_start_us (request->net);

  ssq_histogram_observe (&request->server->metrics.http_latency,
                         (g_get_monotonic_time () - started) / 1e6);
  request->status = status;
  ssq_net_request_respond_file (g_steal_pointer (&request->net), status, content_type, fd,
                                offset, length, request->reply_headers);
}

/* Sends the reply set on @request (a 500 if none was) and frees it. */
void
ssq_request_free (SsqRequest *request)
{
  if (request->net != NULL)
    send_reply (request);
  g_object_unref (request->server);
  g_free (request->reply);
  g_free (request->reply_headers);
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
  request->status = status;
  g_clear_pointer (&request->reply, g_free);
  request->reply_len = 0;
  if (body != NULL)
    request->reply = ssq_json_object_to_string (body, &request->reply_len);
}

/* A reply already encoded (through the codec, by whoever wrote @body),
 * which it takes. */
void
ssq_request_reply_text (SsqRequest *request,
                        guint       status,
                        GString    *body)
{
  request->status = status;
  g_free (request->reply);
  request->reply_len = body->len;
  request->reply = g_string_free (body, FALSE);
}

static char *
error_body (const GError *error,
            gsize        *out_length)
{
  g_autoptr(JsonObject) body = ssq_wire_error_reply_encode (error);

  return ssq_json_object_to_string (body, out_length);
}

void
ssq_request_reply_error (SsqRequest   *request,
                         const GError *error)
{
  SsqError code = error->domain == SSQ_ERROR ? (SsqError) error->code : SSQ_ERROR_INTERNAL;

  if (code == SSQ_ERROR_INTERNAL || error->domain != SSQ_ERROR)
    g_warning ("Internal error: %s", error->message);
  ssq_server_metrics_error (&request->server->metrics, error);
  g_free (request->reply);
  request->reply = error_body (error, &request->reply_len);
  request->status = ssq_error_code_http_status (code);
  g_clear_pointer (&request->reply_headers, g_free);
  if (code == SSQ_ERROR_RATE_LIMITED)
    {
      gint64 retry = ssq_error_get_retry_after (error);

      request->reply_headers = g_strdup_printf ("Retry-After: %" G_GINT64_FORMAT "\r\n",
                                                MAX (1, (retry + 999) / 1000));
    }
}

static void
reply_simple_error (SsqRequest  *request,
                    SsqError     code,
                    const char  *message)
{
  g_autoptr(GError) error = g_error_new_literal (SSQ_ERROR, code, message);

  ssq_request_reply_error (request, error);
}

const char *
ssq_request_peer (SsqRequest *request)
{
  return ssq_net_request_get_peer (request->net);
}

/* The transport's own refusals (413, 431, 408, 400) in our error format. */
static char *
transport_error_body (guint       status,
                      const char *message,
                      gsize      *out_length)
{
  SsqError code = status == 413 || status == 431 ? SSQ_ERROR_TOO_LARGE
                : status == 503 ? SSQ_ERROR_UNAVAILABLE : SSQ_ERROR_INVALID;
  g_autoptr(GError) error = g_error_new_literal (SSQ_ERROR, code, message);

  return error_body (error, out_length);
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

/* Query parameters not in @allowed (words separated by spaces) are refused.
 * Names come from the client: the message quotes them as valid UTF-8. */
static gboolean
check_query (GHashTable  *query,
             const char  *allowed,
             GError     **error)
{
  GHashTableIter iter;
  const char *name;

  if (query == NULL)
    return TRUE;
  g_hash_table_iter_init (&iter, query);
  while (g_hash_table_iter_next (&iter, (gpointer *) &name, NULL))
    if (!ssq_json_word_listed (allowed, name))
      {
        g_autofree char *shown = g_utf8_make_valid (name, MIN (strlen (name), 64));

        g_set_error (error, SSQ_ERROR, SSQ_ERROR_INVALID, "Unknown query parameter \"%s\"",
                     shown);
        return FALSE;
      }
  return TRUE;
}

/* ---- Authentication --------------------------------------------------- */

/* The store is asked only about tokens not seen lately (or expired since):
 * every path that ends a login drops it from server->logins too (see
 * ssq-server-logins.h). */
char *
ssq_server_authenticate (SsqServer   *server,
                         const char  *token,
                         GError     **error)
{
  guint8 hash[SSQ_TOKEN_HASH_BYTES];
  g_autoptr(GError) local_error = NULL;
  gint64 now = ssq_now_ms ();
  gint64 expires_at = 0;
  const char *known;
  char *user_id;

  if (token == NULL || !ssq_server_auth_token_hash (token, hash))
    {
      g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_UNAUTHORIZED, "Missing or malformed token");
      return NULL;
    }
  known = ssq_server_logins_lookup (server->logins, hash, now);
  if (known != NULL)
    return g_strdup (known);
  user_id = ssq_server_store_session_user (server->store, hash, sizeof hash, now, &expires_at,
                                           &local_error);
  if (user_id == NULL)
    {
      if (local_error != NULL)
        g_propagate_error (error, g_steal_pointer (&local_error));
      else
        g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_UNAUTHORIZED,
                             "Unknown, expired or revoked token");
      return NULL;
    }
  ssq_server_logins_add (server->logins, hash, user_id, expires_at);
  return user_id;
}

static char *
bearer_token (SsqNetRequest *net)
{
  const char *header = ssq_net_request_get_header (net, "Authorization");

  if (header == NULL || g_ascii_strncasecmp (header, "Bearer ", 7) != 0)
    return NULL;
  return g_strstrip (g_strdup (header + 7));
}

/* ---- Routing ---------------------------------------------------------- */

/* Compares in place: this runs for every route on every request. */
static gboolean
match (const char  *pattern,
       char       **segments)
{
  const char *part = pattern;

  for (guint i = 0;; i++)
    {
      const char *slash = strchr (part, '/');
      gsize len = slash != NULL ? (gsize) (slash - part) : strlen (part);

      if (segments[i] == NULL || segments[i][0] == '\0')
        return FALSE;
      if (!(len == 1 && part[0] == '*') &&
          (strncmp (segments[i], part, len) != 0 || segments[i][len] != '\0'))
        return FALSE;
      if (slash == NULL)
        return segments[i + 1] == NULL;
      part = slash + 1;
    }
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
  char **segments = g_strsplit (path, "/", -1);

  /* Segments are percent-decoded one by one, so an encoded '/' stays inside
   * its segment. Invalid escapes leave the segment empty, matching nothing.
   * Most have no escape at all and stay as they are. */
  for (guint i = 0; segments[i] != NULL; i++)
    if (strchr (segments[i], '%') != NULL)
      {
        char *s = g_uri_unescape_string (segments[i], NULL);

        g_free (segments[i]);
        segments[i] = s ? s : g_strdup ("");
      }
  return segments;
}

/* A route of a feature switched off answers so, to anyone, before
 * anything else is looked at (an upload's body is not read). */
static gboolean
feature_enabled (SsqServer  *server,
                 Feature     feature,
                 GError    **error)
{
  const SsqServerConfig *config = server->config;

  if (feature == FEATURE_MEDIA && !config->features_media)
    g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_FEATURE_DISABLED,
                         "Media are switched off on this server");
  else if (feature == FEATURE_BROKER && server->broker == NULL)
    g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_FEATURE_DISABLED,
                         "Queues are switched off on this server ([features] broker)");
  else if (feature == FEATURE_REGISTRATION && config->registration == SSQ_REGISTRATION_CLOSED)
    g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_FEATURE_DISABLED,
                         "Registration is closed on this server: ask its administrator "
                         "for an account");
  else
    return TRUE;
  return FALSE;
}

/* What every route checks before its handler: the feature, the token and
 * the query parameters; FALSE with the error reply set. */
static gboolean
check_request (SsqRequest  *request,
               const Route *route)
{
  g_autoptr(GError) error = NULL;
  SsqNetRequest *net = request->net;

  if (!feature_enabled (request->server, route->feature, &error))
    {
      ssq_request_reply_error (request, error);
      return FALSE;
    }
  if (ssq_net_request_get_query (net) != NULL)
    request->query = g_hash_table_ref (ssq_net_request_get_query (net));
  if (route->auth)
    {
      request->token = bearer_token (net);
      request->user_id = ssq_server_authenticate (request->server, request->token, &error);
      if (request->user_id == NULL)
        {
          ssq_request_reply_error (request, error);
          return FALSE;
        }
    }
  if (!check_query (request->query, route->query, &error))
    {
      ssq_request_reply_error (request, error);
      return FALSE;
    }
  return TRUE;
}

static void
api_request (SsqServer     *server,
             SsqNetRequest *net)
{
  const char *method = ssq_net_request_get_method (net);
  const char *path = ssq_net_request_get_path (net);
  g_autoptr(SsqRequest) request = g_new0 (SsqRequest, 1);
  g_autoptr(GError) error = NULL;
  const Route *route;
  gboolean path_known;

  request->server = g_object_ref (server);
  request->net = net;
  if (!g_str_has_prefix (path, API_PREFIX))
    {
      reply_simple_error (request, SSQ_ERROR_NOT_FOUND, "No such route");
      return;
    }
  request->segments = split_path (path + strlen (API_PREFIX));
  route = find_route (method, request->segments, &path_known);
  if (route == NULL)
    {
      reply_simple_error (request, path_known ? SSQ_ERROR_INVALID : SSQ_ERROR_NOT_FOUND,
                          path_known ? "Method not allowed on this route" : "No such route");
      if (path_known)
        request->status = 405;
      return;
    }
  if (!check_request (request, route))
    return;
  if (route->json_body)
    {
      gsize len;
      const char *data = ssq_net_request_get_body (net, &len);

      if (!route->auth && len > PUBLIC_BODY_MAX)
        {
          g_set_error (&error, SSQ_ERROR, SSQ_ERROR_TOO_LARGE,
                       "This request takes at most %d bytes", PUBLIC_BODY_MAX);
          ssq_request_reply_error (request, error);
          return;
        }
      request->body = ssq_json_parse_request (data, len, &error);
      if (request->body == NULL ||
          !ssq_json_check_members (request->body, route->fields, &error))
        {
          ssq_request_reply_error (request, error);
          return;
        }
    }
  route->func (g_steal_pointer (&request));
}

static gboolean
is_read (SsqNetRequest *net)
{
  const char *method = ssq_net_request_get_method (net);

  return g_str_equal (method, "GET") || g_str_equal (method, "HEAD");
}

/* A request at its headers, its body unread: it takes @segments. */
static SsqRequest *
head_request (SsqServer     *server,
              SsqNetRequest *net,
              char         **segments)
{
  SsqRequest *request = g_new0 (SsqRequest, 1);

  request->server = g_object_ref (server);
  request->net = net;
  request->segments = segments;
  request->unread_body = TRUE;
  return request;
}

/* How much body a request that is not an upload may bring, decided at its
 * headers, before a byte of it is read or held: PUBLIC_BODY_MAX, unless
 * its route needs a token and it has a valid one (max_body_size then). A
 * route that needs a token refuses a missing or wrong one right away, its
 * body unread. Decided after the body came, anyone could make the server
 * hold max_body_size per connection without logging in. Takes @segments. */
static void
limit_body (SsqServer     *server,
            SsqNetRequest *net,
            char         **segments,
            const Route   *route)
{
  g_autoptr(SsqRequest) request = head_request (server, net, segments);

  if (route == NULL || !route->auth || is_read (net))
    ssq_net_request_limit_body (net, PUBLIC_BODY_MAX);
  else if (!check_request (request, route))
    {
      server->metrics.http_requests_total++;
      return;    /* refused, unread, as the request is freed */
    }
  request->net = NULL;    /* goes on, checked again with its body: no reply yet */
}

/* Every request's headers: uploads (routes with a head function) are
 * checked as any other request, then the route decides what becomes of
 * the body; the others get their body limit. */
static void
head_cb (SsqNetRequest *net,
         gpointer       user_data)
{
  SsqServer *server = user_data;
  const char *path = ssq_net_request_get_path (net);
  g_autoptr(SsqRequest) request = NULL;
  char **segments;
  const Route *route;
  gboolean path_known;

  /* Reads take no body (a GET's is held to the public limit, unchecked),
   * and pay no route lookup here: one is done for them after. */
  if (!g_str_has_prefix (path, API_PREFIX) ||
      (!g_str_has_prefix (path, API_PREFIX "media") && is_read (net)))
    {
      ssq_net_request_limit_body (net, PUBLIC_BODY_MAX);
      return;
    }
  segments = split_path (path + strlen (API_PREFIX));
  route = find_route (ssq_net_request_get_method (net), segments, &path_known);
  if (route == NULL || route->head == NULL)
    {
      limit_body (server, net, segments, route);
      return;
    }
  request = head_request (server, net, segments);
  server->metrics.http_requests_total++;
  if (check_request (request, route))
    route->head (g_steal_pointer (&request));
}

/* ---- Plain routes ----------------------------------------------------- */

static void
healthz (SsqNetRequest *net)
{
  static const char body[] = "{\"status\":\"ok\",\"version\":\"" SSQ_VERSION "\"}";

  ssq_net_request_respond (net, 200, "application/json", g_strdup (body), strlen (body), NULL);
}

/* A loopback peer: 127.0.0.0/8, ::1, or 127/8 mapped into IPv6 (a listener
 * on [::] sees IPv4 peers so). Any other address is not, even one of this
 * machine's own interfaces: a connection from it may be forwarded. */
static gboolean
peer_is_loopback (const char *peer)
{
  g_autoptr(GInetAddress) address = peer ? g_inet_address_new_from_string (peer) : NULL;
  const guint8 *bytes;

  if (address == NULL)
    return FALSE;
  if (g_inet_address_get_is_loopback (address))
    return TRUE;
  if (g_inet_address_get_family (address) != G_SOCKET_FAMILY_IPV6)
    return FALSE;
  bytes = g_inet_address_to_bytes (address);
  for (guint i = 0; i < 10; i++)
    if (bytes[i] != 0)
      return FALSE;
  return bytes[10] == 0xff && bytes[11] == 0xff && bytes[12] == 127;
}

/* Both sides hashed first, so that the comparison takes the same time
 * whatever the length or the content of what the client sent. */
static gboolean
metrics_token_ok (const char *expected,
                  const char *given)
{
  guint8 a[crypto_generichash_BYTES], b[crypto_generichash_BYTES];

  if (given == NULL)
    return FALSE;
  crypto_generichash (a, sizeof a, (const guint8 *) expected, strlen (expected), NULL, 0);
  crypto_generichash (b, sizeof b, (const guint8 *) given, strlen (given), NULL, 0);
  return sodium_memcmp (a, b, sizeof a) == 0;
}

/* [metrics] access; FALSE with the refusal sent. */
static gboolean
metrics_allowed (SsqServer     *server,
                 SsqNetRequest *net)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *token = NULL;
  const char *extra = NULL;
  guint status = 403;
  gsize len;
  char *body;

  switch ((SsqMetricsAccess) server->config->metrics_access)
    {
    case SSQ_METRICS_ACCESS_OPEN:
      return TRUE;
    case SSQ_METRICS_ACCESS_LOOPBACK:
      if (peer_is_loopback (ssq_net_request_get_peer (net)))
        return TRUE;
      error = g_error_new_literal (SSQ_ERROR, SSQ_ERROR_FORBIDDEN,
                                   "/metrics is served to this machine only ([metrics] access)");
      break;
    case SSQ_METRICS_ACCESS_TOKEN:
    default:
      token = bearer_token (net);
      if (metrics_token_ok (server->config->metrics_token, token))
        return TRUE;
      error = g_error_new_literal (SSQ_ERROR, SSQ_ERROR_UNAUTHORIZED,
                                   "/metrics needs the [metrics] token as a bearer token");
      status = 401;
      extra = "WWW-Authenticate: Bearer realm=\"metrics\"\r\n";
      break;
    }
  ssq_server_metrics_error (&server->metrics, error);
  body = error_body (error, &len);
  ssq_net_request_respond (net, status, "application/json", body, len, extra);
  return FALSE;
}

static void
metrics (SsqServer     *server,
         SsqNetRequest *net)
{
  char *text;
  GString *page;
  gsize len;
  gint64 loop_wall_us, loop_cpu_us;
  SsqProcessStats process;
  SsqCheckpointStats checkpoints;

  if (!metrics_allowed (server, net))
    return;
  ssq_server_checkpointer_stats (server->checkpointer, &checkpoints);
  server->metrics.checkpoints_total = checkpoints.passes;
  server->metrics.checkpoint_finishes_total = checkpoints.finishes;
  server->metrics.checkpoint_finish_max_frames = checkpoints.finish_max;
  server->metrics.checkpoints_forced_total = checkpoints.forced;
  server->metrics.checkpoint_forced_max_frames = checkpoints.forced_max;
  server->metrics.wal_frames = checkpoints.wal_frames;
  ssq_server_metrics_process (&process);
  server->metrics.tcp_connections = ssq_net_server_n_connections (server->net);
  server->metrics.tcp_refused_total = ssq_net_server_refused_total (server->net);
  ssq_net_server_take_max_busy (server->net, &loop_wall_us, &loop_cpu_us);
  server->metrics.loop_busy_max_us = (guint64) loop_wall_us;
  server->metrics.loop_cpu_max_us = (guint64) loop_cpu_us;
  ssq_net_busy_poll_stats (&server->metrics.busy_poll);
  server->metrics.membership_reads_total = ssq_server_members_n_reads (server->members);
  server->metrics.media_bytes_stored = ssq_server_media_bytes_stored (server->media);
  ssq_server_thumbnailer_stats (server->thumbnailer, &server->metrics.thumbnails_made_total,
                                &server->metrics.thumbnails_failed_total);
  if (!ssq_server_store_media_thumbnails_owed (server->store,
                                               &server->metrics.thumbnail_queue_length, NULL))
    server->metrics.thumbnail_queue_length = 0;
  text = ssq_server_metrics_render (&server->metrics,
                                    ssq_server_hub_n_sessions (server->hub),
                                    ssq_server_hub_users_online (server->hub),
                                    &process);
  page = g_string_new (text);
  g_free (text);
  ssq_server_queues_render_metrics (server, page);
  len = page->len;
  ssq_net_request_respond (net, 200, "text/plain; version=0.0.4", g_string_free (page, FALSE),
                           len, NULL);
}

/* ---- WebSocket -------------------------------------------------------- */

/* A request without a valid token gets a plain 401 and never becomes a
 * WebSocket. */
static void
websocket (SsqServer     *server,
           SsqNetRequest *net)
{
  g_autoptr(SsqRequest) request = g_new0 (SsqRequest, 1);
  g_autoptr(GError) error = NULL;
  GHashTable *query = ssq_net_request_get_query (net);
  g_autofree char *user_id = NULL;
  g_autoptr(GBytes) token_hash = NULL;
  guint8 hash[SSQ_TOKEN_HASH_BYTES];
  const char *notifications = query ? g_hash_table_lookup (query, "notifications") : NULL;

  request->server = g_object_ref (server);
  request->net = net;
  request->token = bearer_token (net);
  if (request->token == NULL && query != NULL)
    request->token = g_strdup (g_hash_table_lookup (query, "access_token"));
  user_id = ssq_server_authenticate (server, request->token, &error);
  if (user_id == NULL)
    {
      ssq_request_reply_error (request, error);
      return;
    }
  if (!check_query (query, WS_QUERY, &error))
    {
      ssq_request_reply_error (request, error);
      return;
    }
  if (server->shutting_down)
    {
      reply_simple_error (request, SSQ_ERROR_UNAVAILABLE, "Shutting down");
      return;
    }
  /* The session answers the upgrade; it keeps itself alive until closed,
   * or until its login ends (logout, password change...). */
  ssq_server_auth_token_hash (request->token, hash);
  token_hash = g_bytes_new (hash, sizeof hash);
  ssq_server_session_new (server, g_steal_pointer (&request->net), user_id, token_hash,
                          g_strcmp0 (notifications, "client") == 0);
}

/* The WebSocket's path asked without the upgrade. Over HTTP/1.1: 426 with
 * Upgrade: websocket (RFC 9110 15.5.22), and why in the usual JSON error.
 * Over HTTP/2 a 426 cannot be right: it must carry Upgrade, which HTTP/2
 * forbids, and we offer no RFC 8441 extended CONNECT; the stream is reset
 * with HTTP_1_1_REQUIRED instead (RFC 9113 7), the one answer an HTTP/2
 * client is built to act on: curl and browsers ask again over HTTP/1.1,
 * and there get the 426 or, with the upgrade headers, the WebSocket. */
static void
websocket_not_upgraded (SsqNetRequest *net)
{
  gsize len;
  char *body;

  if (ssq_net_request_is_http2 (net))
    {
      ssq_net_request_require_http1 (net);
      return;
    }
  body = transport_error_body (426, "This path is the WebSocket: GET it over HTTP/1.1 with "
                               "\"Upgrade: websocket\" (ws:// or wss://)", &len);
  ssq_net_request_respond (net, 426, "application/json", body, len,
                           "Upgrade: websocket\r\nConnection: Upgrade\r\n");
}

static void
request_cb (SsqNetRequest *net,
            gpointer       user_data)
{
  SsqServer *server = user_data;
  const char *path = ssq_net_request_get_path (net);
  const char *method = ssq_net_request_get_method (net);
  gboolean plain = g_str_equal (path, "/healthz") || g_str_equal (path, "/metrics");
  g_autoptr(GError) error = NULL;

  server->metrics.http_requests_total++;
  if (g_str_equal (path, "/api/v1/ws") && ssq_net_request_is_upgrade (net))
    websocket (server, net);
  else if (g_str_equal (path, "/api/v1/ws"))
    websocket_not_upgraded (net);
  else if (plain && !g_str_equal (method, "GET") && !g_str_equal (method, "HEAD"))
    {
      gsize len;
      char *body = transport_error_body (405, "Method not allowed on this route", &len);

      ssq_net_request_respond (net, 405, "application/json", body, len, "Allow: GET, HEAD\r\n");
    }
  else if (plain && !check_query (ssq_net_request_get_query (net), NULL, &error))
    {
      gsize len;
      char *body = error_body (error, &len);

      ssq_net_request_respond (net, 400, "application/json", body, len, NULL);
    }
  else if (g_str_equal (path, "/healthz"))
    healthz (net);
  else if (g_str_equal (path, "/metrics"))
    metrics (server, net);
  else
    api_request (server, net);
}

gboolean
ssq_server_http_setup (SsqServer  *server,
                       GError    **error)
{
  const SsqServerConfig *config = server->config;
  SsqNetLimits limits = {
    .max_connections = config->max_connections,
    .max_connections_per_address = config->max_connections_per_address,
    .max_header_size = config->max_header_size,
    .max_headers = config->max_headers,
    .header_timeout = config->header_timeout,
    .idle_timeout = config->idle_timeout,
    .max_body_size = config->max_body_size,
    .max_message_size = config->max_frame_size,
    .send_queue_max = config->send_queue_max,
    .max_streams = config->max_streams,
    .max_requests_in_flight = config->max_requests_in_flight,
  };

  server->net = ssq_net_server_new (&limits, "supersoniq/" SSQ_VERSION, request_cb,
                                    transport_error_body, server, error);
  if (server->net == NULL)
    return FALSE;
  ssq_net_server_set_head_func (server->net, head_cb);
  ssq_net_server_set_log_requests (server->net, config->log_requests);
  ssq_net_server_set_http2 (server->net, config->tls_http2);
  return TRUE;
}
