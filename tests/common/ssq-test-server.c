/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-test-server.c: the test launcher. The server is always the real binary
 * in its own process (never in-process: synchronous libsoup calls would
 * deadlock against a server on the same main context). */
#include "ssq-test-server.h"
#include "ssq-invite-link.h"
#include "ssq-json.h"
#include "ssq-wire.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <string.h>

static SoupSession *
session (void)
{
  static SoupSession *s = NULL;

  if (s == NULL)
    s = soup_session_new_with_options ("timeout", 30, "max-conns-per-host", 64, NULL);
  return s;
}

static void
set_bearer (SoupMessage *msg,
            const char  *token)
{
  g_autofree char *auth = NULL;

  if (token == NULL)
    return;
  auth = g_strconcat ("Bearer ", token, NULL);
  soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization", auth);
}

static const char *
server_binary (void)
{
  const char *bin = g_getenv ("SSQ_SERVER_BIN");

  g_assert_nonnull (bin);
  return bin;
}

/* A test that aborts must not leave its server running (meson would wait
 * for the inherited stderr to close). */
static void
die_with_parent (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

/* Starts the server binary, after @wrapper's words (may be NULL) and those
 * of $SSQ_SERVER_WRAPPER (valgrind, say), and reads the URL it prints. */
/* What the configuration asks of AMQP: the "amqp listening on" lines to
 * wait for (none when a test turned the listeners off). */
static void
amqp_expected (SsqTestServer *server,
               gboolean      *plain,
               gboolean      *tls)
{
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autofree char *listen = NULL;
  g_autofree char *tls_listen = NULL;

  g_key_file_load_from_file (kf, server->config_path, G_KEY_FILE_NONE, NULL);
  listen = g_key_file_get_string (kf, "amqp", "listen", NULL);
  tls_listen = g_key_file_get_string (kf, "amqp", "tls_listen", NULL);
  *plain = listen != NULL && g_strstrip (listen)[0] != '\0';
  /* No broker, no AMQP. */
  if (g_key_file_has_key (kf, "features", "broker", NULL) &&
      !g_key_file_get_boolean (kf, "features", "broker", NULL))
    {
      *plain = *tls = FALSE;
      return;
    }
  /* TLS is on unless [tls] enabled=false. */
  *tls = tls_listen != NULL && g_strstrip (tls_listen)[0] != '\0' &&
         (!g_key_file_has_key (kf, "tls", "enabled", NULL) ||
          g_key_file_get_boolean (kf, "tls", "enabled", NULL));
}

static void
read_amqp_lines (SsqTestServer    *server,
                 GDataInputStream *out)
{
  gboolean plain, tls;

  amqp_expected (server, &plain, &tls);
  for (guint i = 0; i < (guint) plain + (guint) tls; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *line = g_data_input_stream_read_line (out, NULL, NULL, &error);
      char **slot;

      g_assert_no_error (error);
      g_assert_nonnull (line);
      if (g_str_has_prefix (line, "amqp listening on amqp://"))
        slot = &server->amqp_listen;
      else if (g_str_has_prefix (line, "amqps listening on amqps://"))
        slot = &server->amqps_listen;
      else
        g_error ("unexpected line from the server: %s", line);
      g_free (*slot);
      *slot = g_strdup (strstr (line, "://") + 3);
    }
}

/* A restart comes back on the AMQP port it had too, where clients look
 * for it: the port chosen is written into our [amqp] line (a test that
 * rewrote the file keeps what it wrote). */
static void
keep_amqp_port (SsqTestServer *server)
{
  g_autofree char *text = NULL;
  g_autofree char *line = NULL;
  char *at;

  if (server->amqp_listen == NULL ||
      !g_file_get_contents (server->config_path, &text, NULL, NULL) ||
      (at = strstr (text, "[amqp]\nlisten=127.0.0.1:0\n")) == NULL)
    return;
  line = g_strdup_printf ("[amqp]\nlisten=%s\n", server->amqp_listen);
  *at = '\0';
  {
    g_autofree char *patched = g_strconcat (text, line, at + strlen ("[amqp]\nlisten=127.0.0.1:0\n"),
                                            NULL);

    g_file_set_contents (server->config_path, patched, -1, NULL);
  }
}

/* The configuration file: ours, then the test's. AMQP listens on a port
 * of its own; amqps only when asked. */
static void
write_config (SsqTestServer *server)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *config = NULL;

  /* [limits] last: tests append keys of theirs to it, without a header. */
  config = g_strdup_printf ("[security]\npwhash_opslimit=1\npwhash_memlimit=8192\n"
                            "[amqp]\nlisten=%s\ntls_listen=%s\n"
                            "[limits]\nmessages_per_minute=0\ngroups_per_hour=0\n"
                            "joins_per_hour=0\nregistrations_per_hour=0\n%s",
                            "127.0.0.1:0", "",
                            server->extra_config ? server->extra_config : "");
  g_file_set_contents (server->config_path, config, -1, &error);
  g_assert_no_error (error);
}

static void
launch (SsqTestServer      *server,
        const char * const *wrapper)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GDataInputStream) out = NULL;
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_autofree char *line = NULL;
  const char *env_wrapper = g_getenv ("SSQ_SERVER_WRAPPER");
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_auto(GStrv) words = g_strsplit (env_wrapper ? env_wrapper : "", " ", -1);

  for (guint i = 0; wrapper != NULL && wrapper[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) wrapper[i]);
  for (guint i = 0; words[i] != NULL; i++)
    if (words[i][0] != '\0')
      g_ptr_array_add (argv, words[i]);
  keep_amqp_port (server);
  g_ptr_array_add (argv, (gpointer) server_binary ());
  g_ptr_array_add (argv, (gpointer) "--listen");
  /* A restart comes back on the same port, where clients look for it. */
  g_ptr_array_add (argv, (gpointer) (server->listen ? server->listen : "127.0.0.1:0"));
  g_ptr_array_add (argv, (gpointer) "--data-dir");
  g_ptr_array_add (argv, server->data_dir);
  g_ptr_array_add (argv, (gpointer) "--config");
  g_ptr_array_add (argv, server->config_path);
  g_ptr_array_add (argv, NULL);
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  if (server->log_path != NULL)
    g_subprocess_launcher_set_stderr_file_path (launcher, server->log_path);
  if (server->log_debug)
    g_subprocess_launcher_setenv (launcher, "G_MESSAGES_DEBUG", "all", TRUE);
  server->process = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata,
                                                  &error);
  g_assert_no_error (error);
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (server->process));
  line = g_data_input_stream_read_line (out, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (line);
  /* With TLS on (the default) the server says https://; on 127.0.0.1 it
   * still speaks plain HTTP ([tls] plain_http=loopback), which the tests
   * use unless they test TLS itself. */
  g_assert_true (g_str_has_prefix (line, "listening on http://") ||
                 g_str_has_prefix (line, "listening on https://"));
  g_free (server->listen);
  server->listen = g_strdup (strstr (line, "://") + 3);
  g_free (server->url);
  g_free (server->ws_url);
  g_free (server->https_url);
  server->url = g_strconcat ("http://", server->listen, NULL);
  server->ws_url = g_strconcat ("ws://", server->listen, "/api/v1/ws", NULL);
  server->https_url = g_str_has_prefix (line, "listening on https://")
                      ? g_strconcat ("https://", server->listen, NULL) : NULL;
  read_amqp_lines (server, out);
}

static SsqTestServer *start_full (const char         *listen,
                                  const char         *data_dir,
                                  const char         *extra_config,
                                  const char * const *wrapper,
                                  const char         *log_path,
                                  gboolean            debug);

/**
 * ssq_test_server_start:
 * @data_dir: (nullable): reuse this directory; NULL makes a fresh one that is
 *   deleted with the server
 */
SsqTestServer *
ssq_test_server_start (const char *data_dir,
                       const char *extra_config)
{
  return ssq_test_server_start_wrapped (data_dir, extra_config, NULL);
}

/**
 * ssq_test_server_start_wrapped:
 * As ssq_test_server_start(), with the server run under @wrapper (a
 * NULL-terminated argv prefix such as prlimit's); a restart runs it bare.
 */
SsqTestServer *
ssq_test_server_start_wrapped (const char         *data_dir,
                               const char         *extra_config,
                               const char * const *wrapper)
{
  return start_full (NULL, data_dir, extra_config, wrapper, NULL, FALSE);
}

SsqTestServer *
ssq_test_server_start_logged (const char *data_dir,
                              const char *extra_config,
                              const char *log_path,
                              gboolean    debug)
{
  return start_full (NULL, data_dir, extra_config, NULL, log_path, debug);
}

/**
 * ssq_test_server_start_on:
 * As ssq_test_server_start_logged (), listening on @listen (HOST:PORT) in
 * place of 127.0.0.1:0: only where no real network is reachable (a
 * private network namespace).
 */
SsqTestServer *
ssq_test_server_start_on (const char *listen,
                          const char *extra_config,
                          const char *log_path)
{
  return start_full (listen, NULL, extra_config, NULL, log_path, FALSE);
}

static SsqTestServer *
start_full (const char         *listen,
            const char         *data_dir,
            const char         *extra_config,
            const char * const *wrapper,
            const char         *log_path,
            gboolean            debug)
{
  g_autoptr(GError) error = NULL;
  SsqTestServer *server = g_new0 (SsqTestServer, 1);

  server->log_path = g_strdup (log_path);
  server->log_debug = debug;
  server->listen = g_strdup (listen);

  if (data_dir == NULL)
    {
      server->data_dir = g_dir_make_tmp ("ssq-test-XXXXXX", &error);
      g_assert_no_error (error);
      server->own_dir = TRUE;
    }
  else
    server->data_dir = g_strdup (data_dir);
  server->config_path = g_build_filename (server->data_dir, "test.conf", NULL);
  /* Cheap hashing keeps registrations fast (and sane under valgrind);
   * generous limits unless a test sets its own. */
  server->extra_config = g_strdup (extra_config);
  write_config (server);
  launch (server, wrapper);
  return server;
}

GPid
ssq_test_server_pid (SsqTestServer *server)
{
  const char *id = g_subprocess_get_identifier (server->process);

  return id ? (GPid) g_ascii_strtoll (id, NULL, 10) : 0;
}

void
ssq_test_server_kill (SsqTestServer *server)
{
  g_subprocess_send_signal (server->process, SIGKILL);
  g_subprocess_wait (server->process, NULL, NULL);
  g_clear_object (&server->process);
}

/* SIGTERM; returns the exit status (or -1 if it did not exit normally). */
int
ssq_test_server_stop (SsqTestServer *server)
{
  int status;

  g_subprocess_send_signal (server->process, SIGTERM);
  g_subprocess_wait (server->process, NULL, NULL);
  status = g_subprocess_get_if_exited (server->process)
             ? g_subprocess_get_exit_status (server->process) : -1;
  g_clear_object (&server->process);
  return status;
}

void
ssq_test_server_restart (SsqTestServer *server)
{
  g_assert_null (server->process);
  launch (server, NULL);
}

void
ssq_test_server_free (SsqTestServer *server)
{
  if (server == NULL)
    return;
  if (server->process != NULL)
    ssq_test_server_kill (server);
  if (server->own_dir)
    ssq_test_remove_tree (server->data_dir);
  g_free (server->data_dir);
  g_free (server->config_path);
  g_free (server->url);
  g_free (server->ws_url);
  g_free (server->https_url);
  g_free (server->listen);
  g_free (server->amqp_listen);
  g_free (server->amqps_listen);
  g_free (server->extra_config);
  g_free (server->log_path);
  g_free (server);
}

JsonObject *
ssq_test_http_raw (SsqTestServer *server,
                   const char    *method,
                   const char    *path,
                   const char    *token,
                   const char    *body,
                   gsize          body_len,
                   guint         *out_status)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *uri = g_strconcat (server->url, path, NULL);
  g_autoptr(SoupMessage) msg = soup_message_new (method, uri);
  g_autoptr(GBytes) reply = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  gsize len;
  const char *data;

  g_assert_nonnull (msg);
  set_bearer (msg, token);
  if (body != NULL)
    {
      g_autoptr(GBytes) bytes = g_bytes_new (body, body_len);
      soup_message_set_request_body_from_bytes (msg, "application/json", bytes);
    }
  reply = soup_session_send_and_read (session (), msg, NULL, &error);
  g_assert_no_error (error);
  if (out_status != NULL)
    *out_status = soup_message_get_status (msg);
  data = g_bytes_get_data (reply, &len);
  if (len == 0)
    return NULL;
  if (!json_parser_load_from_data (parser, data, (gssize) len, NULL) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return NULL;
  return json_object_ref (json_node_get_object (json_parser_get_root (parser)));
}

JsonObject *
ssq_test_http (SsqTestServer *server,
               const char    *method,
               const char    *path,
               const char    *token,
               const char    *body,
               guint         *out_status)
{
  return ssq_test_http_raw (server, method, path, token, body, body ? strlen (body) : 0,
                            out_status);
}

JsonObject *
ssq_test_http_expect (SsqTestServer *server,
                      const char    *method,
                      const char    *path,
                      const char    *token,
                      const char    *body,
                      guint          expected)
{
  guint status = 0;
  JsonObject *reply = ssq_test_http (server, method, path, token, body, &status);

  if (status != expected)
    g_error ("%s %s: %u, expected %u", method, path, status, expected);
  return reply;
}

void
ssq_test_queue_declare (SsqTestServer *server,
                        const char    *queue,
                        const char    *token)
{
  g_autofree char *path = g_strdup_printf ("/api/v1/queues/%s", queue);
  g_autoptr(JsonObject) reply = ssq_test_http_expect (server, "PUT", path, token, NULL, 201);
}

gint64
ssq_test_queue_field (SsqTestServer *server,
                      const char    *queue,
                      const char    *token,
                      const char    *field)
{
  g_autofree char *path = g_strdup_printf ("/api/v1/queues/%s", queue);
  guint status = 0;
  g_autoptr(JsonObject) reply = ssq_test_http (server, "GET", path, token, NULL, &status);

  if (status == 404)
    return -1;
  g_assert_cmpuint (status, ==, 200);
  return json_object_get_int_member (json_object_get_object_member (reply, "queue"), field);
}

typedef struct {
  SsqTestServer *server;
  const char    *queue;
  const char    *token;
  const char    *field;
  gint64         value;
} QueueFieldIs;

static gboolean
queue_field_is (gpointer data)
{
  QueueFieldIs *f = data;

  return ssq_test_queue_field (f->server, f->queue, f->token, f->field) == f->value;
}

void
ssq_test_wait_queue_field (SsqTestServer *server,
                           const char    *queue,
                           const char    *token,
                           const char    *field,
                           gint64         value,
                           guint          timeout_ms)
{
  QueueFieldIs f = { server, queue, token, field, value };

  if (!ssq_test_wait_until (queue_field_is, &f, timeout_ms))
    g_error ("queue %s: %s is %" G_GINT64_FORMAT ", not %" G_GINT64_FORMAT, queue, field,
             ssq_test_queue_field (server, queue, token, field), value);
}

const char *
ssq_test_error_code (JsonObject *reply)
{
  SsqWireError error;

  if (reply == NULL || !ssq_wire_error_reply_decode (reply, &error))
    return NULL;
  return error.code;
}

SsqTestUser *
ssq_test_register (SsqTestServer *server,
                   const char    *username)
{
  g_autofree char *password = g_strconcat ("password-", username, NULL);
  g_autoptr(JsonObject) request = ssq_wire_credentials_encode (
    &(SsqWireCredentials) { username, password, NULL, NULL });
  g_autofree char *body = ssq_json_object_to_string (request, NULL);
  guint status = 0;
  g_autoptr(JsonObject) reply = ssq_test_http (server, "POST", "/api/v1/register", NULL, body,
                                               &status);
  SsqWireSession session;
  SsqTestUser *user;

  g_assert_cmpuint (status, ==, 201);
  g_assert_true (ssq_wire_session_decode (reply, &session, NULL));
  user = g_new0 (SsqTestUser, 1);
  user->id = g_strdup (json_object_get_string_member (session.user, "id"));
  user->username = g_strdup (username);
  user->token = g_strdup (session.token);
  return user;
}

void
ssq_test_user_free (SsqTestUser *user)
{
  if (user == NULL)
    return;
  g_free (user->id);
  g_free (user->username);
  g_free (user->token);
  g_free (user);
}

char *
ssq_test_create_conversation (SsqTestServer *server,
                              SsqTestUser   *owner,
                              const char    *json)
{
  guint status = 0;
  g_autoptr(JsonObject) reply = ssq_test_http (server, "POST", "/api/v1/conversations",
                                               owner->token, json, &status);

  JsonObject *conversation = NULL;

  g_assert_true (status == 201 || status == 200);
  g_assert_true (ssq_wire_reply_decode (reply, SSQ_WIRE_REPLY_CONVERSATION, &conversation, NULL));
  return g_strdup (json_object_get_string_member (conversation, "id"));
}

/* ---- WebSocket -------------------------------------------------------- */

static void
ws_message_cb (SoupWebsocketConnection *conn,
               gint                     type,
               GBytes                  *message,
               SsqTestWs               *ws)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  gsize len;
  const char *data = g_bytes_get_data (message, &len);

  g_assert_cmpint (type, ==, SOUP_WEBSOCKET_DATA_TEXT);
  g_assert_true (json_parser_load_from_data (parser, data, (gssize) len, NULL));
  if (ws->first_type == NULL)
    ws->first_type = g_strdup (json_object_get_string_member_with_default (
      json_node_get_object (json_parser_get_root (parser)), "type", ""));
  g_queue_push_tail (&ws->frames, json_object_ref (json_node_get_object (json_parser_get_root (parser))));
}

static void
ws_closed_cb (SoupWebsocketConnection *conn,
              SsqTestWs               *ws)
{
  ws->closed = TRUE;
  ws->close_code = soup_websocket_connection_get_close_code (conn);
}

typedef struct {
  GAsyncResult *result;
} Waiter;

static void
ready_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      data)
{
  Waiter *w = data;

  w->result = g_object_ref (result);
}

SsqTestWs *
ssq_test_ws_connect (SsqTestServer *server,
                     const char    *token,
                     guint         *out_status)
{
  g_autoptr(SoupMessage) msg = soup_message_new ("GET", server->ws_url);
  g_autoptr(GError) error = NULL;
  Waiter w = { NULL };
  SoupWebsocketConnection *conn;
  SsqTestWs *ws;

  set_bearer (msg, token);
  soup_session_websocket_connect_async (session (), msg, NULL, NULL, G_PRIORITY_DEFAULT, NULL,
                                        ready_cb, &w);
  while (w.result == NULL)
    g_main_context_iteration (NULL, TRUE);
  conn = soup_session_websocket_connect_finish (session (), w.result, &error);
  g_object_unref (w.result);
  if (out_status != NULL)
    *out_status = soup_message_get_status (msg);
  if (conn == NULL)
    return NULL;
  ws = g_new0 (SsqTestWs, 1);
  ws->conn = conn;
  g_queue_init (&ws->frames);
  soup_websocket_connection_set_max_incoming_payload_size (conn, 1024 * 1024);
  g_signal_connect (conn, "message", G_CALLBACK (ws_message_cb), ws);
  g_signal_connect (conn, "closed", G_CALLBACK (ws_closed_cb), ws);
  return ws;
}

void
ssq_test_ws_send (SsqTestWs  *ws,
                  const char *text)
{
  soup_websocket_connection_send_text (ws->conn, text);
}

void
ssq_test_ws_send_bytes (SsqTestWs             *ws,
                        SoupWebsocketDataType  type,
                        const char            *data,
                        gsize                  len)
{
  soup_websocket_connection_send_message (ws->conn, type, g_bytes_new_static (data, len));
}

static gboolean
timeout_cb (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

static JsonObject *
take_matching (SsqTestWs  *ws,
               const char *type,
               const char *member,
               const char *value)
{
  for (GList *l = ws->frames.head; l != NULL; l = l->next)
    {
      JsonObject *f = l->data;

      if (g_strcmp0 (json_object_get_string_member_with_default (f, "type", ""), type) != 0)
        continue;
      if (member != NULL)
        {
          JsonNode *node = json_object_get_member (f, member);
          g_autofree char *text = NULL;

          if (node == NULL)
            continue;
          text = JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING
                   ? g_strdup (json_node_get_string (node))
                   : json_to_string (node, FALSE);
          if (g_strcmp0 (text, value) != 0)
            continue;
        }
      g_queue_delete_link (&ws->frames, l);
      return f;
    }
  return NULL;
}

/* Waits for the first frame of @type (where @member equals @value, if given),
 * leaving other frames queued. NULL after @timeout_ms. */
JsonObject *
ssq_test_ws_expect_where (SsqTestWs  *ws,
                          const char *type,
                          const char *member,
                          const char *value,
                          guint       timeout_ms)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add (timeout_ms, timeout_cb, &timed_out);
  JsonObject *f;

  while ((f = take_matching (ws, type, member, value)) == NULL && !timed_out && !ws->closed)
    g_main_context_iteration (NULL, TRUE);
  if (f == NULL)
    f = take_matching (ws, type, member, value);
  if (!timed_out)
    g_source_remove (id);
  return f;
}

JsonObject *
ssq_test_ws_expect (SsqTestWs  *ws,
                    const char *type,
                    guint       timeout_ms)
{
  return ssq_test_ws_expect_where (ws, type, NULL, NULL, timeout_ms);
}

/* TRUE when no frame of @type arrives within @wait_ms. */
gboolean
ssq_test_ws_nothing (SsqTestWs  *ws,
                     const char *type,
                     guint       wait_ms)
{
  g_autoptr(JsonObject) f = ssq_test_ws_expect (ws, type, wait_ms);

  return f == NULL;
}

gushort
ssq_test_ws_wait_closed (SsqTestWs *ws,
                         guint      timeout_ms)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add (timeout_ms, timeout_cb, &timed_out);

  while (!ws->closed && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (id);
  return ws->closed ? ws->close_code : 0;
}

/* Sends a request with a fresh id and returns its ack or error frame. */
JsonObject *
ssq_test_ws_request (SsqTestWs  *ws,
                     const char *json_without_id)
{
  g_autofree char *id = g_strdup_printf ("r%u", ++ws->next_id);
  g_autofree char *text = NULL;
  gboolean timed_out = FALSE;
  guint timer;
  JsonObject *f = NULL;

  g_assert_true (g_str_has_suffix (json_without_id, "}"));
  text = g_strdup_printf ("%.*s,\"id\":\"%s\"}", (int) strlen (json_without_id) - 1,
                          json_without_id, id);
  ssq_test_ws_send (ws, text);
  timer = g_timeout_add (10000, timeout_cb, &timed_out);
  while (f == NULL && !timed_out && !ws->closed)
    {
      f = take_matching (ws, ssq_wire_frame_name (SSQ_FRAME_TYPE_ACK), "id", id);
      if (f == NULL)
        f = take_matching (ws, ssq_wire_frame_name (SSQ_FRAME_TYPE_ERROR), "id", id);
      if (f == NULL)
        g_main_context_iteration (NULL, TRUE);
    }
  if (!timed_out)
    g_source_remove (timer);
  return f;
}

/* Sends a message (JSON-escaped by json-glib) and returns its ack or error. */
JsonObject *
ssq_test_ws_post (SsqTestWs  *ws,
                  const char *conversation_id,
                  const char *client_id,
                  const char *body)
{
  g_autoptr(JsonObject) frame = ssq_wire_send_encode (
    &(SsqWireSend) { NULL, conversation_id, client_id, body, 0, NULL });
  g_autofree char *text = ssq_json_object_to_string (frame, NULL);
  return ssq_test_ws_request (ws, text);
}

void
ssq_test_ws_free (SsqTestWs *ws)
{
  if (ws == NULL)
    return;
  g_signal_handlers_disconnect_by_data (ws->conn, ws);
  if (soup_websocket_connection_get_state (ws->conn) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close (ws->conn, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  g_object_unref (ws->conn);
  g_queue_clear_full (&ws->frames, (GDestroyNotify) json_object_unref);
  g_free (ws->first_type);
  g_free (ws);
}

void
ssq_test_wait_ms (guint ms)
{
  gboolean done = FALSE;

  g_timeout_add (ms, timeout_cb, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
}

static gboolean
recheck_cb (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

/* Runs the main loop until @condition holds or @timeout_ms pass; returns
 * whether it held. A 50 ms tick wakes the loop, so a condition on something
 * outside it (a file, another process) is checked as well. */
gboolean
ssq_test_wait_until (SsqTestCondition condition,
                     gpointer         data,
                     guint            timeout_ms)
{
  gboolean expired = FALSE;
  guint source = g_timeout_add (timeout_ms, timeout_cb, &expired);
  guint tick = g_timeout_add (50, recheck_cb, NULL);
  gboolean held;

  while (!(held = condition (data)) && !expired)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (tick);
  /* The timeout may have fired in the iteration that made it hold. */
  if (!expired)
    g_source_remove (source);
  return held;
}

void
ssq_test_store_result (GObject      *source,
                       GAsyncResult *result,
                       gpointer      slot)
{
  *(GAsyncResult **) slot = g_object_ref (result);
}

static gboolean
result_ready (gpointer slot)
{
  return *(GAsyncResult **) slot != NULL;
}

/* Runs the main loop until the result is there; fails the test if it does
 * not come in time. */
GAsyncResult *
ssq_test_wait_result (GAsyncResult **slot,
                      guint          timeout_ms)
{
  g_assert_true (ssq_test_wait_until (result_ready, slot, timeout_ms));
  return *slot;
}

/* ---- /proc readings ---------------------------------------------------- */

/* One "Key:   value kB" line of /proc/<pid>/status; 0 if absent. */
static gsize
proc_status_kb (SsqTestServer *server,
                const char    *key)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/status", (int) ssq_test_server_pid (server));
  g_autofree char *text = NULL;
  g_autofree char *prefix = g_strconcat ("\n", key, ":", NULL);
  const char *at;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return 0;
  at = strstr (text, prefix);
  return at ? (gsize) g_ascii_strtoull (at + strlen (prefix), NULL, 10) : 0;
}

gsize
ssq_test_server_rss_kb (SsqTestServer *server)
{
  return proc_status_kb (server, "VmRSS");
}

gsize
ssq_test_server_peak_rss_kb (SsqTestServer *server)
{
  return proc_status_kb (server, "VmHWM");
}

/* Writing 5 to clear_refs (Linux 4.0) resets VmHWM, so that a test sees
 * the peak of its own phase and not the start-up's. */
gboolean
ssq_test_server_reset_peak_rss (SsqTestServer *server)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/clear_refs", (int) ssq_test_server_pid (server));
  FILE *f = fopen (path, "w");   /* not g_file_set_contents: no rename in /proc */
  gboolean ok;

  if (f == NULL)
    return FALSE;
  ok = fputs ("5", f) >= 0;
  return fclose (f) == 0 && ok;
}

guint
ssq_test_server_fd_count (SsqTestServer *server)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/fd", (int) ssq_test_server_pid (server));
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  guint n = 0;

  g_assert_nonnull (dir);
  while (g_dir_read_name (dir) != NULL)
    n++;
  return n;
}

gboolean
ssq_test_server_alive (SsqTestServer *server)
{
  g_autofree char *path = NULL;
  g_autofree char *text = NULL;
  const char *state;

  if (server->process == NULL || g_subprocess_get_identifier (server->process) == NULL)
    return FALSE;
  path = g_strdup_printf ("/proc/%d/status", (int) ssq_test_server_pid (server));
  if (!g_file_get_contents (path, &text, NULL, NULL))
    return FALSE;
  state = strstr (text, "\nState:");
  if (state == NULL)
    return TRUE;
  state += strlen ("\nState:");
  while (*state == ' ' || *state == '\t')
    state++;
  return *state != 'Z' && *state != 'X';
}

#define FINGERPRINT_LINE "TLS public key fingerprint: "

static gboolean
log_has_fingerprint (gpointer data)
{
  g_autofree char *text = NULL;

  return g_file_get_contents (data, &text, NULL, NULL) && strstr (text, FINGERPRINT_LINE) != NULL;
}

/**
 * ssq_test_server_printed_fingerprint:
 * @log_path: the server's log (ssq_test_server_start_logged)
 * @compact: the form links and pins carry, not the one printed
 *
 * The fingerprint of its TLS key that the server printed at start, as it
 * printed it (sha256:AB:CD:…) or, with @compact, normalized.
 */
char *
ssq_test_server_printed_fingerprint (const char *log_path,
                                     gboolean    compact)
{
  g_autofree char *text = NULL;
  g_autofree char *grouped = NULL;
  const char *at;

  g_assert_true (ssq_test_wait_until (log_has_fingerprint, (gpointer) log_path, 15000));
  g_assert_true (g_file_get_contents (log_path, &text, NULL, NULL));
  at = strstr (text, FINGERPRINT_LINE) + strlen (FINGERPRINT_LINE);
  grouped = g_strndup (at, strcspn (at, " \n"));
  g_test_message ("printed: %s", grouped);
  g_assert_true (g_str_has_prefix (grouped, "sha256:"));
  return compact ? ssq_fingerprint_normalize (grouped) : g_steal_pointer (&grouped);
}
