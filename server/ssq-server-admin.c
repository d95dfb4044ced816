/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-admin.c: the administration socket on the main loop: bounded
 * requests, a deadline per connection, a few connections at once, so that
 * a stuck admin client holds nothing of the chat. What each request does
 * is in ssq-server-admin-ops.c. */
#include "ssq-server-admin.h"

#include <errno.h>
#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>

struct _SsqServerAdmin {
  SsqServer      *server;
  GSocketService *service;
  char           *path;
  GPtrArray      *conns;        /* AdminConn, open ones */
  gint64          started_us;   /* monotonic */
};

typedef struct {
  gint            ref;
  SsqServerAdmin *admin;        /* NULL once closed */
  GSocketConnection *conn;
  GCancellable   *cancellable;
  GByteArray     *in;
  GBytes         *out;          /* the answer, while it is written */
  guint8          buf[4096];
  guint           timeout_id;
  gboolean        answered;
} AdminConn;

struct _SsqAdminCall {
  SsqServer  *server;           /* outlives every call: its writer runs their
                                 * completions before it is gone */
  AdminConn  *conn;
  JsonObject *request;
};

static AdminConn *
admin_conn_ref (AdminConn *c)
{
  c->ref++;
  return c;
}

static void
admin_conn_unref (AdminConn *c)
{
  if (--c->ref > 0)
    return;
  g_clear_handle_id (&c->timeout_id, g_source_remove);
  g_clear_object (&c->conn);
  g_clear_object (&c->cancellable);
  g_byte_array_unref (c->in);
  g_clear_pointer (&c->out, g_bytes_unref);
  g_free (c);
}

/* Ends the connection: what is under way is cancelled, a call still
 * running answers into nothing. */
static void
admin_conn_close (AdminConn *c)
{
  if (c->admin == NULL)
    return;
  g_ptr_array_remove_fast (c->admin->conns, c);
  c->admin = NULL;
  g_clear_handle_id (&c->timeout_id, g_source_remove);
  g_cancellable_cancel (c->cancellable);
  g_io_stream_close (G_IO_STREAM (c->conn), NULL, NULL);
  admin_conn_unref (c);          /* the admin's reference */
}

static void
written_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  AdminConn *c = user_data;

  g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, NULL);
  admin_conn_close (c);
  admin_conn_unref (c);          /* the write's */
}

/* Sends @answer as one line (taking it); the connection closes after. */
static void
admin_conn_answer (AdminConn  *c,
                   JsonObject *answer)
{
  g_autoptr(JsonObject) owned = answer;
  gsize len;
  g_autofree char *text = NULL;

  if (c->admin == NULL || c->answered)
    return;
  c->answered = TRUE;
  text = ssq_json_object_to_string (owned, &len);
  c->out = g_bytes_new_take (g_strconcat (text, "\n", NULL), len + 1);
  g_output_stream_write_all_async (g_io_stream_get_output_stream (G_IO_STREAM (c->conn)),
                                   g_bytes_get_data (c->out, NULL), g_bytes_get_size (c->out),
                                   G_PRIORITY_DEFAULT, c->cancellable, written_cb,
                                   admin_conn_ref (c));
}

static JsonObject *
error_answer (const GError *error)
{
  JsonObject *answer = json_object_new ();
  JsonObject *e = json_object_new ();
  SsqError code = error->domain == SSQ_ERROR ? (SsqError) error->code : SSQ_ERROR_INTERNAL;

  json_object_set_boolean_member (answer, "ok", FALSE);
  json_object_set_string_member (e, "code", ssq_error_code_to_string (code));
  json_object_set_string_member (e, "message", error->message);
  json_object_set_object_member (answer, "error", e);
  return answer;
}

static void
admin_conn_fail (AdminConn  *c,
                 SsqError    code,
                 const char *message)
{
  g_autoptr(GError) error = g_error_new_literal (SSQ_ERROR, code, message);

  admin_conn_answer (c, error_answer (error));
}

/* ---- calls ------------------------------------------------------------- */

SsqServer *
ssq_admin_call_server (SsqAdminCall *call)
{
  return call->server;
}

JsonObject *
ssq_admin_call_request (SsqAdminCall *call)
{
  return call->request;
}

static void
admin_call_free (SsqAdminCall *call)
{
  admin_conn_unref (call->conn);
  json_object_unref (call->request);
  g_free (call);
}

/**
 * ssq_admin_call_reply:
 * Answers @call with @result (taken; NULL: null) and frees it.
 */
void
ssq_admin_call_reply (SsqAdminCall *call,
                      JsonNode     *result)
{
  JsonObject *answer = json_object_new ();

  json_object_set_boolean_member (answer, "ok", TRUE);
  json_object_set_member (answer, "result", result ? result : json_node_new (JSON_NODE_NULL));
  admin_conn_answer (call->conn, answer);
  admin_call_free (call);
}

void
ssq_admin_call_fail (SsqAdminCall *call,
                     const GError *error)
{
  admin_conn_answer (call->conn, error_answer (error));
  admin_call_free (call);
}

/* ---- reading the request ---------------------------------------------- */

static void
handle_line (AdminConn *c,
             gsize      len)
{
  g_autoptr(GError) error = NULL;
  JsonObject *request = ssq_json_parse_request ((const char *) c->in->data, len, &error);
  SsqAdminCall *call;

  if (request == NULL)
    {
      admin_conn_fail (c, SSQ_ERROR_INVALID, error->message);
      return;
    }
  call = g_new0 (SsqAdminCall, 1);
  call->server = c->admin->server;
  call->conn = admin_conn_ref (c);
  call->request = request;
  ssq_server_admin_dispatch (call);
}

static void read_more (AdminConn *c);

static void
read_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  AdminConn *c = user_data;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, NULL);
  guint8 *newline;

  if (c->admin == NULL)
    goto out;
  if (n <= 0)
    {
      /* The client said nothing, or stopped before a newline. */
      if (c->in->len > 0)
        handle_line (c, c->in->len);
      else
        admin_conn_close (c);
      goto out;
    }
  g_byte_array_append (c->in, c->buf, (guint) n);
  newline = memchr (c->in->data, '\n', c->in->len);
  if (newline != NULL && (gsize) (newline - c->in->data) <= SSQ_ADMIN_LINE_MAX)
    handle_line (c, newline - c->in->data);
  else if (c->in->len > SSQ_ADMIN_LINE_MAX)
    admin_conn_fail (c, SSQ_ERROR_TOO_LARGE, "A request has at most 65536 bytes");
  else
    read_more (c);
out:
  admin_conn_unref (c);          /* the read's */
}

static void
read_more (AdminConn *c)
{
  g_input_stream_read_async (g_io_stream_get_input_stream (G_IO_STREAM (c->conn)),
                             c->buf, sizeof c->buf, G_PRIORITY_DEFAULT, c->cancellable,
                             read_cb, admin_conn_ref (c));
}

static gboolean
timeout_cb (gpointer data)
{
  AdminConn *c = data;

  c->timeout_id = 0;
  g_message ("admin: a connection took more than %d s; closed", SSQ_ADMIN_TIMEOUT_S);
  admin_conn_close (c);
  return G_SOURCE_REMOVE;
}

/* Past the limit a connection gets its refusal without being read; the
 * line is short and the socket's buffer empty, so it cannot block. */
static void
refuse (GSocketConnection *connection)
{
  static const char busy[] = "{\"ok\":false,\"error\":{\"code\":\"unavailable\","
                             "\"message\":\"Too many administration connections\"}}\n";
  GSocket *socket = g_socket_connection_get_socket (connection);

  g_socket_set_blocking (socket, FALSE);
  g_socket_send (socket, busy, sizeof busy - 1, NULL, NULL);
  g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
}

static gboolean
incoming_cb (GSocketService    *service,
             GSocketConnection *connection,
             GObject           *source_object,
             gpointer           user_data)
{
  SsqServerAdmin *admin = user_data;
  AdminConn *c;

  if (admin->conns->len >= SSQ_ADMIN_CONNECTIONS_MAX)
    {
      refuse (connection);
      return TRUE;
    }
  c = g_new0 (AdminConn, 1);
  c->ref = 1;                    /* the admin's, until closed */
  c->admin = admin;
  c->conn = g_object_ref (connection);
  c->cancellable = g_cancellable_new ();
  c->in = g_byte_array_new ();
  c->timeout_id = g_timeout_add_seconds (SSQ_ADMIN_TIMEOUT_S, timeout_cb, c);
  g_ptr_array_add (admin->conns, c);
  read_more (c);
  return TRUE;
}

/* ---- the socket -------------------------------------------------------- */

/* A socket left by a server that died is removed (the data-directory lock
 * says no other server runs); anything else there (a symbolic link above
 * all) is left alone and refused. */
static gboolean
clear_stale (const char  *path,
             GError     **error)
{
  struct stat st;

  if (lstat (path, &st) != 0)
    {
      if (errno == ENOENT)
        return TRUE;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
                   "Cannot check the admin socket %s: %s", path, g_strerror (errno));
      return FALSE;
    }
  if (!S_ISSOCK (st.st_mode))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                   "%s exists and is not a socket (a link or a file?): refusing to replace it; "
                   "remove it", path);
      return FALSE;
    }
  if (g_unlink (path) != 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
                   "Cannot remove the stale admin socket %s: %s", path, g_strerror (errno));
      return FALSE;
    }
  return TRUE;
}

/**
 * ssq_server_admin_tighten_dir:
 * Makes the data directory @dir 0700 if others may enter it. Called before
 * the server opens anything in it: a database file opened by another user
 * while the directory let them in stays theirs to read after it closes.
 * The directory is also the admin socket's first wall (see
 * ssq_server_admin_new). One that cannot be tightened is left with a
 * warning.
 */
void
ssq_server_admin_tighten_dir (const char *dir)
{
  struct stat st;

  if (stat (dir, &st) == 0 && (st.st_mode & 077) != 0)
    {
      if (g_chmod (dir, 0700) == 0)
        g_message ("Data directory %s was open to others (mode %03o); now 0700",
                   dir, st.st_mode & 0777);
      else
        g_warning ("Data directory %s is open to others (mode %03o) and cannot be "
                   "tightened: %s", dir, st.st_mode & 0777, g_strerror (errno));
    }
}

/* Whether only the server's user may enter @dir. Then nobody else can
 * reach the socket in the moment between its bind (mode from the umask)
 * and its chmod, nor replace it afterwards. */
static gboolean
dir_is_private (const char *dir)
{
  struct stat st;

  if (stat (dir, &st) != 0)
    {
      g_warning ("No administration: cannot check the data directory %s: %s", dir,
                 g_strerror (errno));
      return FALSE;
    }
  if ((st.st_mode & 077) != 0)
    {
      g_warning ("No administration: the data directory %s is open to others (mode %03o), "
                 "so an admin socket in it would be too; make it 0700 and restart", dir,
                 st.st_mode & 0777);
      return FALSE;
    }
  return TRUE;
}

static gboolean
admin_listen (SsqServerAdmin  *admin,
              GError         **error)
{
  g_autoptr(GSocketAddress) address = g_unix_socket_address_new (admin->path);

  admin->service = g_socket_service_new ();
  if (!g_socket_listener_add_address (G_SOCKET_LISTENER (admin->service), address,
                                      G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT,
                                      NULL, NULL, error))
    {
      g_prefix_error (error, "Cannot listen on the admin socket %s: ", admin->path);
      return FALSE;
    }
  if (g_chmod (admin->path, 0600) != 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
                   "Cannot make the admin socket %s private: %s", admin->path,
                   g_strerror (errno));
      return FALSE;
    }
  g_signal_connect (admin->service, "incoming", G_CALLBACK (incoming_cb), admin);
  g_socket_service_start (admin->service);
  return TRUE;
}

/**
 * ssq_server_admin_new:
 * Listens on DATA_DIR/admin.sock. Call it holding the data-directory lock.
 * A data directory whose path is too long for a socket, or that others may
 * enter, gets no socket (a warning says so) rather than no server.
 */
SsqServerAdmin *
ssq_server_admin_new (SsqServer  *server,
                      GError    **error)
{
  const char *dir = server->config->data_dir;
  SsqServerAdmin *admin = g_new0 (SsqServerAdmin, 1);

  admin->server = server;
  admin->conns = g_ptr_array_new ();
  admin->started_us = g_get_monotonic_time ();
  admin->path = g_build_filename (dir, SSQ_ADMIN_SOCKET_NAME, NULL);
  if (strlen (admin->path) >= sizeof ((struct sockaddr_un *) NULL)->sun_path)
    {
      g_warning ("No administration: the socket path %s is longer than %zu bytes",
                 admin->path, sizeof ((struct sockaddr_un *) NULL)->sun_path - 1);
      return admin;
    }
  if (!dir_is_private (dir))
    return admin;
  if (!clear_stale (admin->path, error) || !admin_listen (admin, error))
    {
      g_clear_object (&admin->service);
      g_clear_pointer (&admin->path, g_free);
      ssq_server_admin_free (admin);
      return NULL;
    }
  return admin;
}

void
ssq_server_admin_free (SsqServerAdmin *admin)
{
  if (admin == NULL)
    return;
  if (admin->service != NULL)
    {
      g_socket_service_stop (admin->service);
      g_socket_listener_close (G_SOCKET_LISTENER (admin->service));
      g_clear_object (&admin->service);
      g_unlink (admin->path);
    }
  while (admin->conns->len > 0)
    admin_conn_close (admin->conns->pdata[0]);
  g_ptr_array_unref (admin->conns);
  g_free (admin->path);
  g_free (admin);
}

gint64
ssq_server_admin_uptime_s (SsqServerAdmin *admin)
{
  return (g_get_monotonic_time () - admin->started_us) / G_USEC_PER_SEC;
}
