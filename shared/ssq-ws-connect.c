/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-ws-connect.c: the client's WebSocket handshake, done here rather than
 * by soup_session_websocket_connect_async () so that the connection's input
 * goes through an SsqCappedInputStream: libsoup 3.2 bounds each frame but
 * not a fragmented message, so only the stream under it can stop a server
 * that sends continuation frames without end.
 *
 * Connect (GSocketClient, with TLS for https/wss), write the upgrade request
 * (its WebSocket headers from soup_websocket_client_prepare_handshake ()),
 * read the response head, check it, and hand the streams to
 * soup_websocket_connection_new (). The whole of it has one deadline.
 * soup_websocket_client_verify_handshake () cannot check the response: it
 * reads the status from a SoupMessage, which libsoup 3.2 lets only its own
 * I/O set; the same checks are made here (RFC 6455, 4.1). */
#include <glib/gi18n.h>
#include "ssq-ws-connect.h"
#include "ssq-capped-input-stream.h"
#include "ssq-proto.h"
#include "ssq-trust.h"

#include <string.h>

/* No proxy or server sends a response head near this. */
#define RESPONSE_HEAD_MAX   (16 * 1024)
#define READ_CHUNK          4096
#define HANDSHAKE_TIMEOUT_S 30
/* Frame headers (at most 10 bytes each for a server's frames) and the part
 * of the next message that a read may bring along with the end of one. */
#define FRAME_SLACK         (64 * 1024)
#define WEBSOCKET_GUID      "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

typedef struct {
  GUri         *uri;
  SoupMessage  *msg;            /* holds the request headers, the key among them */
  guint64       message_max;
  gboolean      tls;
  GCancellable *cancellable;    /* ours: the caller's, or the deadline */
  GCancellable *caller_cancellable;
  gulong        caller_handler;
  GSource      *deadline;
  gboolean      timed_out;
  char         *request;
  GIOStream    *connection;
  GByteArray   *head;           /* the response as read so far */
  char         *known_servers;  /* the pins' file (NULL: the default) */
  GTlsConnection *tls_connection; /* while its key is checked */
  gulong        accept_handler;
  GError       *trust_error;    /* why the key was refused */
} Handshake;

static void
handshake_free (Handshake *hs)
{
  if (hs->caller_handler != 0)
    g_cancellable_disconnect (hs->caller_cancellable, hs->caller_handler);
  g_clear_object (&hs->caller_cancellable);
  if (hs->deadline != NULL)
    g_source_destroy (hs->deadline);
  g_clear_pointer (&hs->deadline, g_source_unref);
  g_clear_object (&hs->cancellable);
  g_clear_pointer (&hs->uri, g_uri_unref);
  g_clear_object (&hs->msg);
  g_free (hs->request);
  g_clear_object (&hs->connection);
  g_clear_pointer (&hs->head, g_byte_array_unref);
  g_clear_signal_handler (&hs->accept_handler, hs->tls_connection);
  g_clear_object (&hs->tls_connection);
  g_free (hs->known_servers);
  g_clear_error (&hs->trust_error);
  g_free (hs);
}

/* An I/O error as the client reports it: the deadline, a cancellation (as
 * it is: the caller tests for it), or a network failure. */
static void
return_io_error (GTask  *task,
                 GError *error)
{
  Handshake *hs = g_task_get_task_data (task);

  if (hs->trust_error != NULL)
    g_task_return_error (task, g_error_copy (hs->trust_error));
  else if (hs->timed_out)
    g_task_return_new_error (task, SSQ_ERROR, SSQ_ERROR_NETWORK,
                             _("The server did not answer the WebSocket request within %u seconds"),
                             HANDSHAKE_TIMEOUT_S);
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_task_return_error (task, g_error_copy (error));
  else
    g_task_return_new_error (task, SSQ_ERROR, SSQ_ERROR_NETWORK,
                             _("Cannot reach the server: %s"), error->message);
}

static void
return_bad_handshake (GTask      *task,
                      const char *why)
{
  g_task_return_new_error (task, SSQ_ERROR, SSQ_ERROR_PROTOCOL,
                           _("The server's answer to the WebSocket request is not valid: %s"), why);
}

static char *
expected_accept (const char *key)
{
  g_autoptr(GChecksum) sha1 = g_checksum_new (G_CHECKSUM_SHA1);
  guint8 digest[20];
  gsize len = sizeof digest;

  g_checksum_update (sha1, (const guchar *) key, -1);
  g_checksum_update (sha1, (const guchar *) WEBSOCKET_GUID, -1);
  g_checksum_get_digest (sha1, digest, &len);
  return g_base64_encode (digest, len);
}

/* Why @headers do not accept our handshake, or NULL if they do. */
static const char *
handshake_refusal (Handshake          *hs,
                   SoupMessageHeaders *headers)
{
  SoupMessageHeaders *request = soup_message_get_request_headers (hs->msg);
  const char *accept = soup_message_headers_get_one (headers, "Sec-WebSocket-Accept");
  g_autofree char *expected = expected_accept (soup_message_headers_get_one (request,
                                                                             "Sec-WebSocket-Key"));

  if (!soup_message_headers_header_equals (headers, "Upgrade", "websocket") ||
      !soup_message_headers_header_contains (headers, "Connection", "upgrade"))
    return _("it does not upgrade to WebSocket");
  if (accept == NULL || strcmp (accept, expected) != 0)
    return _("wrong Sec-WebSocket-Accept");
  /* We offered neither. */
  if (soup_message_headers_get_one (headers, "Sec-WebSocket-Extensions") != NULL ||
      soup_message_headers_get_one (headers, "Sec-WebSocket-Protocol") != NULL)
    return _("an extension or subprotocol that was not offered");
  return NULL;
}

static void
reset_count_cb (SoupWebsocketConnection *ws,
                int                      type,
                GBytes                  *message,
                SsqCappedInputStream    *stream)
{
  ssq_capped_input_stream_reset (stream);
}

/* The head is whole in hs->head[0, @head_len), the blank line ending it at
 * @body_at: check it and start the WebSocket on what follows. */
static void
finish_handshake (GTask *task,
                  gsize  head_len,
                  gsize  body_at)
{
  Handshake *hs = g_task_get_task_data (task);
  g_autoptr(SoupMessageHeaders) headers = soup_message_headers_new (SOUP_MESSAGE_HEADERS_RESPONSE);
  g_autofree char *reason = NULL;
  g_autoptr(GBytes) rest = NULL;
  g_autoptr(SsqCappedInputStream) input = NULL;
  g_autoptr(GIOStream) io = NULL;
  SoupWebsocketConnection *ws;
  const char *refusal;
  guint status = 0;

  if (!soup_headers_parse_response ((const char *) hs->head->data, (int) head_len, headers, NULL,
                                    &status, &reason))
    {
      return_bad_handshake (task, _("not an HTTP response"));
      return;
    }
  if (status != SOUP_STATUS_SWITCHING_PROTOCOLS)
    {
      const char *phrase = soup_status_get_phrase (status);

      g_task_return_new_error (task, SSQ_ERROR, ssq_error_code_for_status (status),
                               _("The server answered %u %s"), status,
                               phrase != NULL ? phrase : _("(unknown status)"));
      return;
    }
  if ((refusal = handshake_refusal (hs, headers)) != NULL)
    {
      return_bad_handshake (task, refusal);
      return;
    }

  rest = g_bytes_new (hs->head->data + body_at, hs->head->len - body_at);
  input = ssq_capped_input_stream_new (hs->connection, rest, hs->message_max + FRAME_SLACK);
  io = g_simple_io_stream_new (G_INPUT_STREAM (input),
                               g_io_stream_get_output_stream (hs->connection));
  /* Over plain TCP, a GSocketConnection again on the outside: libsoup then
   * half-closes the socket after its close frame, as it does on its own
   * connections, and closes it at once, not in a thread. */
  if (G_IS_TCP_CONNECTION (hs->connection) && !hs->tls)
    {
      GSocket *socket = g_socket_connection_get_socket (G_SOCKET_CONNECTION (hs->connection));
      GIOStream *simple = g_steal_pointer (&io);

      io = G_IO_STREAM (g_tcp_wrapper_connection_new (simple, socket));
      g_object_unref (simple);
    }
  ws = soup_websocket_connection_new (io, hs->uri, SOUP_WEBSOCKET_CONNECTION_CLIENT, NULL, NULL,
                                      NULL);
  /* Connected first, so the count starts again before anyone else hears
   * of the message. The stream lives as long as the connection. */
  g_signal_connect (ws, "message", G_CALLBACK (reset_count_cb), input);
  g_task_return_pointer (task, ws, g_object_unref);
}

/* Where the head ends: the blank line after it ("\r\n\r\n", or a bare
 * "\n\n" from a lax server); @head_len excludes the blank line. */
static gboolean
find_head_end (GByteArray *head,
               gsize      *head_len,
               gsize      *body_at)
{
  const char *data = (const char *) head->data;

  for (gsize i = 0; i + 1 < head->len; i++)
    {
      if (data[i] != '\n')
        continue;
      if (data[i + 1] == '\n')
        {
          *head_len = i + 1, *body_at = i + 2;
          return TRUE;
        }
      if (data[i + 1] == '\r' && i + 2 < head->len && data[i + 2] == '\n')
        {
          *head_len = i + 1, *body_at = i + 3;
          return TRUE;
        }
    }
  return FALSE;
}

static void read_response (GTask *task);

static void
response_read_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Handshake *hs = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  gssize n;
  gsize head_len, body_at;

  n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, &error);
  if (n < 0)
    {
      g_byte_array_set_size (hs->head, hs->head->len - READ_CHUNK);
      return_io_error (task, error);
      return;
    }
  g_byte_array_set_size (hs->head, hs->head->len - READ_CHUNK + (gsize) n);
  if (find_head_end (hs->head, &head_len, &body_at))
    finish_handshake (task, head_len, body_at);
  else if (n == 0)
    g_task_return_new_error (task, SSQ_ERROR, SSQ_ERROR_NETWORK,
                             _("The server closed the connection during the WebSocket request"));
  else if (hs->head->len >= RESPONSE_HEAD_MAX)
    return_bad_handshake (task, _("its header is too long"));
  else
    read_response (g_steal_pointer (&task));
}

/* Reads in chunks, not up to a delimiter: the frames behind the head must
 * not be lost, so what comes with it is handed to the WebSocket. */
static void
read_response (GTask *task)
{
  Handshake *hs = g_task_get_task_data (task);
  gsize len = hs->head->len;

  g_byte_array_set_size (hs->head, len + READ_CHUNK);
  g_input_stream_read_async (g_io_stream_get_input_stream (hs->connection), hs->head->data + len,
                             READ_CHUNK, G_PRIORITY_DEFAULT, hs->cancellable, response_read_cb,
                             task);
}

static void
request_written_cb (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, &error))
    {
      return_io_error (task, error);
      return;
    }
  read_response (g_steal_pointer (&task));
}

/* The key the server presents, against the pin (ssq-trust.h). No
 * certificate authority is asked: the connection has no database, so this
 * runs for every certificate. */
static gboolean
accept_certificate_cb (GTlsConnection       *connection,
                       GTlsCertificate      *certificate,
                       GTlsCertificateFlags  errors,
                       Handshake            *hs)
{
  g_autofree char *url = g_uri_to_string (hs->uri);

  g_clear_error (&hs->trust_error);
  return ssq_trust_check_certificate (hs->known_servers, url, certificate, &hs->trust_error);
}

static void
socket_event_cb (GSocketClient      *client,
                 GSocketClientEvent  event,
                 GSocketConnectable *connectable,
                 GIOStream          *connection,
                 Handshake          *hs)
{
  if (event != G_SOCKET_CLIENT_TLS_HANDSHAKING || !G_IS_TLS_CONNECTION (connection))
    return;
  g_tls_connection_set_database (G_TLS_CONNECTION (connection), NULL);
  g_clear_signal_handler (&hs->accept_handler, hs->tls_connection);
  g_set_object (&hs->tls_connection, G_TLS_CONNECTION (connection));
  hs->accept_handler = g_signal_connect (connection, "accept-certificate",
                                         G_CALLBACK (accept_certificate_cb), hs);
}

static void
connected_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Handshake *hs = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;

  hs->connection = G_IO_STREAM (g_socket_client_connect_to_uri_finish (G_SOCKET_CLIENT (source),
                                                                       result, &error));
  if (hs->connection == NULL)
    {
      return_io_error (task, error);
      return;
    }
  hs->head = g_byte_array_new ();
  g_output_stream_write_all_async (g_io_stream_get_output_stream (hs->connection), hs->request,
                                   strlen (hs->request), G_PRIORITY_DEFAULT, hs->cancellable,
                                   request_written_cb, g_steal_pointer (&task));
}

static void
add_header (const char *name,
            const char *value,
            gpointer    user_data)
{
  g_string_append_printf (user_data, "%s: %s\r\n", name, value);
}

static gboolean
is_header_safe (const char *value)
{
  for (const char *c = value; *c != '\0'; c++)
    if ((guchar) *c < 0x20 || *c == 0x7f)
      return FALSE;
  return TRUE;
}

/* The upgrade request, from hs->uri and hs->msg's headers. */
static char *
build_request (Handshake *hs)
{
  GString *request = g_string_new ("GET ");
  const char *path = g_uri_get_path (hs->uri);
  const char *host = g_uri_get_host (hs->uri);
  gboolean tls = g_str_equal (g_uri_get_scheme (hs->uri), "https") ||
                 g_str_equal (g_uri_get_scheme (hs->uri), "wss");
  int port = g_uri_get_port (hs->uri);

  g_string_append (request, *path != '\0' ? path : "/");
  if (g_uri_get_query (hs->uri) != NULL)
    g_string_append_printf (request, "?%s", g_uri_get_query (hs->uri));
  /* An IPv6 address goes in brackets, the port only when not the default. */
  g_string_append_printf (request, " HTTP/1.1\r\nHost: %s%s%s", strchr (host, ':') ? "[" : "",
                          host, strchr (host, ':') ? "]" : "");
  if (port != -1 && port != (tls ? 443 : 80))
    g_string_append_printf (request, ":%d", port);
  g_string_append (request, "\r\n");
  soup_message_headers_foreach (soup_message_get_request_headers (hs->msg), add_header, request);
  g_string_append (request, "\r\n");
  return g_string_free (request, FALSE);
}

static gboolean
deadline_cb (gpointer user_data)
{
  Handshake *hs = user_data;

  hs->timed_out = TRUE;
  g_cancellable_cancel (hs->cancellable);
  return G_SOURCE_REMOVE;
}

static void
caller_cancelled_cb (GCancellable *caller,
                     GCancellable *ours)
{
  g_cancellable_cancel (ours);
}

/* The URI of @url if the client can open a WebSocket there; else NULL with
 * @error set. */
static GUri *
parse_url (const char  *url,
           GError     **error)
{
  g_autoptr(GUri) uri = g_uri_parse (url, SOUP_HTTP_URI_FLAGS, NULL);
  const char *scheme = uri != NULL ? g_uri_get_scheme (uri) : NULL;

  if (uri == NULL || g_uri_get_host (uri) == NULL || *g_uri_get_host (uri) == '\0' ||
      !(g_str_equal (scheme, "http") || g_str_equal (scheme, "https") ||
        g_str_equal (scheme, "ws") || g_str_equal (scheme, "wss")))
    {
      g_set_error (error, SSQ_ERROR, SSQ_ERROR_INVALID, _("Not a server address: %s"), url);
      return NULL;
    }
  return g_steal_pointer (&uri);
}

/**
 * ssq_ws_connect_check:
 * Whether ssq_ws_connect_async () can try @url with @token: the mistakes
 * that no retry mends, found before any connection. An error from
 * ssq_ws_connect_async () is then the server's or the network's.
 */
gboolean
ssq_ws_connect_check (const char  *url,
                      const char  *token,
                      GError     **error)
{
  g_autoptr(GUri) uri = NULL;

  g_return_val_if_fail (url != NULL, FALSE);

  if ((uri = parse_url (url, error)) == NULL)
    return FALSE;
  if (token != NULL && !is_header_safe (token))
    {
      g_set_error (error, SSQ_ERROR, SSQ_ERROR_INVALID,
                   _("The session token holds characters a header cannot carry"));
      return FALSE;
    }
  return TRUE;
}

/**
 * ssq_ws_connect_async:
 * @url: the WebSocket's address (http, https, ws or wss)
 * @token: (nullable): sent as a bearer token
 * @user_agent: (nullable): the User-Agent header
 * @message_max: the largest message the server may send, in bytes; the
 *   connection fails (SSQ_ERROR_PROTOCOL, through its "error" signal) once
 *   clearly more than this arrives without a whole message
 * @known_servers: (nullable): the file of pinned keys that an https/wss
 *   server's key is checked against (ssq-trust.h); NULL: the user's
 *
 * Opens a client WebSocket. Errors are in SSQ_ERROR: a refusal by HTTP
 * status as ssq_error_code_for_status () maps it (401 is
 * SSQ_ERROR_UNAUTHORIZED), SSQ_ERROR_NETWORK when the server cannot be
 * reached or does not answer in time, SSQ_ERROR_UNTRUSTED and
 * SSQ_ERROR_KEY_CHANGED when its key is not the pinned one (or none is
 * pinned), SSQ_ERROR_PROTOCOL for a response
 * that is not a WebSocket handshake, SSQ_ERROR_INVALID for what
 * ssq_ws_connect_check () refuses (and for a 400); and G_IO_ERROR_CANCELLED.
 */
void
ssq_ws_connect_async (const char          *url,
                      const char          *token,
                      const char          *user_agent,
                      guint64              message_max,
                      const char          *known_servers,
                      GCancellable        *cancellable,
                      GAsyncReadyCallback  callback,
                      gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *auth = NULL;
  SoupMessageHeaders *headers;
  Handshake *hs;
  const char *scheme;

  g_return_if_fail (url != NULL);

  g_task_set_source_tag (task, ssq_ws_connect_async);
  hs = g_new0 (Handshake, 1);
  g_task_set_task_data (task, hs, (GDestroyNotify) handshake_free);
  if (!ssq_ws_connect_check (url, token, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  hs->uri = parse_url (url, NULL);
  if (user_agent != NULL && !is_header_safe (user_agent))
    user_agent = NULL;
  hs->message_max = message_max;
  hs->known_servers = g_strdup (known_servers);
  hs->msg = soup_message_new_from_uri ("GET", hs->uri);
  headers = soup_message_get_request_headers (hs->msg);
  soup_websocket_client_prepare_handshake (hs->msg, NULL, NULL, NULL);
  if (token != NULL)
    {
      auth = g_strconcat ("Bearer ", token, NULL);
      soup_message_headers_replace (headers, "Authorization", auth);
    }
  if (user_agent != NULL)
    soup_message_headers_replace (headers, "User-Agent", user_agent);
  hs->request = build_request (hs);

  hs->cancellable = g_cancellable_new ();
  if (cancellable != NULL)
    {
      hs->caller_cancellable = g_object_ref (cancellable);
      hs->caller_handler = g_cancellable_connect (cancellable, G_CALLBACK (caller_cancelled_cb),
                                                  hs->cancellable, NULL);
    }
  hs->deadline = g_timeout_source_new_seconds (HANDSHAKE_TIMEOUT_S);
  g_source_set_callback (hs->deadline, deadline_cb, hs, NULL);
  g_source_attach (hs->deadline, g_main_context_get_thread_default ());

  scheme = g_uri_get_scheme (hs->uri);
  hs->tls = g_str_equal (scheme, "https") || g_str_equal (scheme, "wss");
  g_socket_client_set_tls (client, hs->tls);
  if (hs->tls)
    g_signal_connect (client, "event", G_CALLBACK (socket_event_cb), hs);
  g_socket_client_connect_to_uri_async (client, url, g_socket_client_get_tls (client) ? 443 : 80,
                                        hs->cancellable, connected_cb, g_steal_pointer (&task));
}

/**
 * ssq_ws_connect_finish:
 * Returns: (transfer full): the open connection, or NULL with @error set.
 */
SoupWebsocketConnection *
ssq_ws_connect_finish (GAsyncResult  *result,
                       GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
