/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-amqp-server.c: the AMQP listeners on the transport's raw mode, and
 * the login: SASL PLAIN (or AMQPLAIN) against SupersoniQ accounts, with the
 * password (Argon2id off the main loop, through the same login throttles
 * as HTTP) or a live session token of that user as the password. */
#include "ssq-amqp-private.h"
#include <glib/gi18n.h>

#include <string.h>

/* ---- Transport callbacks ---------------------------------------------- */

static gpointer
opened_cb (SsqNetConn *net,
           gpointer    server_data)
{
  return ssq_amqp_connection_new (server_data, net);
}

static gsize
data_cb (SsqNetConn   *net,
         const guint8 *data,
         gsize         length,
         gpointer      conn_data)
{
  return ssq_amqp_connection_feed (conn_data, data, length);
}

static void
drained_cb (SsqNetConn *net,
            gpointer    conn_data)
{
  ssq_amqp_connection_drained (conn_data);
}

static void
timeout_cb (SsqNetConn *net,
            gpointer    conn_data)
{
  ssq_amqp_connection_timeout (conn_data);
}

static void
closed_cb (SsqNetConn        *net,
           SsqNetCloseReason  reason,
           gpointer           conn_data)
{
  ssq_amqp_connection_free (conn_data);
}

static const SsqNetRawCallbacks raw_callbacks = {
  .opened = opened_cb,
  .data = data_cb,
  .drained = drained_cb,
  .timeout = timeout_cb,
  .closed = closed_cb,
};

/* ---- Listeners -------------------------------------------------------- */

SsqAmqpServer *
ssq_amqp_server_new (SsqServer  *server,
                     GError    **error)
{
  SsqAmqpServer *self = g_new0 (SsqAmqpServer, 1);
  const SsqServerConfig *config = server->config;

  self->server = server;
  self->frame_max = config->amqp_frame_max;
  self->channel_max = (guint16) config->amqp_channel_max;
  self->heartbeat = (guint16) config->amqp_heartbeat;
  g_queue_init (&self->connections);
  return self;
}

static SsqNetServer *
new_net (SsqAmqpServer  *self,
         GError        **error)
{
  const SsqServerConfig *config = self->server->config;
  SsqNetLimits limits = {
    .max_connections = config->amqp_max_connections,
    .max_connections_per_address = config->max_connections_per_address,
    .header_timeout = config->header_timeout,
    .idle_timeout = config->idle_timeout,
    .send_queue_max = config->send_queue_max,
  };

  SsqNetServer *net = ssq_net_server_new_raw (&limits, &raw_callbacks, self, error);

  /* One address's connections are counted over the chat port and the
   * AMQP ports together, not once per listener. */
  if (net != NULL && self->server->net != NULL)
    ssq_net_server_share_address_counts (net, self->server->net);
  return net;
}

gboolean
ssq_amqp_server_listen (SsqAmqpServer  *self,
                        const char     *address,
                        GBytes         *cert_pem,
                        GBytes         *key_pem,
                        char          **out_url,
                        GError        **error)
{
  g_autofree char *host = NULL;
  g_autoptr (GInetAddress) inet = NULL;
  g_autoptr (GSocketAddress) socket_address = NULL;
  SsqNetServer **net = cert_pem != NULL ? &self->tls : &self->plain;
  guint16 port, bound;

  if (!ssq_server_config_parse_listen (address, &host, &port, error))
    return FALSE;
  inet = g_str_equal (host, "localhost") ? g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4)
                                         : g_inet_address_new_from_string (host);
  if (inet == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("AMQP listen host \"%s\" is not an IP address"), host);
      return FALSE;
    }
  *net = new_net (self, error);
  if (*net == NULL)
    return FALSE;
  if (cert_pem != NULL && !ssq_net_server_set_tls (*net, cert_pem, key_pem, error))
    return FALSE;
  socket_address = g_inet_socket_address_new (inet, port);
  if (!ssq_net_server_listen (*net, socket_address, &bound, error))
    {
      g_prefix_error (error, "[amqp] %s: ", cert_pem != NULL ? "tls_listen" : "listen");
      return FALSE;
    }
  {
    g_autofree char *shown = g_inet_address_to_string (inet);

    *out_url = g_strdup_printf (g_inet_address_get_family (inet) == G_SOCKET_FAMILY_IPV6
                                  ? "%s://[%s]:%u" : "%s://%s:%u",
                                cert_pem != NULL ? "amqps" : "amqp", shown, bound);
  }
  return TRUE;
}

/* New TLS connections get the reloaded pair (SIGHUP). */
gboolean
ssq_amqp_server_set_tls (SsqAmqpServer  *self,
                         GBytes         *cert_pem,
                         GBytes         *key_pem,
                         GError        **error)
{
  return self->tls == NULL || ssq_net_server_set_tls (self->tls, cert_pem, key_pem, error);
}

void
ssq_amqp_server_stop (SsqAmqpServer *self)
{
  if (self->plain != NULL)
    ssq_net_server_stop_listening (self->plain);
  if (self->tls != NULL)
    ssq_net_server_stop_listening (self->tls);
  for (GList *l = self->connections.head; l != NULL; l = l->next)
    ssq_amqp_connection_fail (l->data, SSQ_AMQP_REPLY_CONNECTION_FORCED,
                              "CONNECTION_FORCED - broker forced connection closure with reason 'shutdown'",
                              0);
}

void
ssq_amqp_server_free (SsqAmqpServer *self)
{
  if (self == NULL)
    return;
  /* Closing them frees every connection through closed_cb. */
  g_clear_pointer (&self->plain, ssq_net_server_free);
  g_clear_pointer (&self->tls, ssq_net_server_free);
  g_assert (self->connections.length == 0);
  g_free (self);
}

guint
ssq_amqp_server_n_connections (SsqAmqpServer *self)
{
  return self->connections.length;
}

/* ---- Login ------------------------------------------------------------ */

struct _SsqAmqpLogin {
  SsqAmqpConnection *conn;       /* NULL once cancelled */
  SsqServer         *server;
  char              *mechanism;
  char              *pair;       /* throttle keys, as HTTP's login */
  char              *account;
  SsqUserRow        *user;
  char              *pw_hash;
};

static void
login_free (SsqAmqpLogin *login)
{
  g_free (login->mechanism);
  g_free (login->pair);
  g_free (login->account);
  g_clear_pointer (&login->user, ssq_user_row_free);
  if (login->pw_hash != NULL)
    memset (login->pw_hash, 0, strlen (login->pw_hash));
  g_free (login->pw_hash);
  g_free (login);
}

void
ssq_amqp_login_cancel (SsqAmqpLogin *login)
{
  /* The hash in flight finishes and finds no connection. */
  login->conn = NULL;
}

static void
refuse (SsqAmqpLogin *login,
        const char   *why)
{
  g_autofree char *text = NULL;

  text = g_strdup_printf ("ACCESS_REFUSED - Login was refused using authentication mechanism %s%s%s",
                          login->mechanism, why ? ": " : ". For details see the broker logfile.",
                          why ? why : "");
  ssq_amqp_connection_login_refused (login->conn, text);
}

/* The credentials of a PLAIN ("authzid\0user\0password") or AMQPLAIN
 * (a field table's fields: LOGIN, PASSWORD) response. */
static gboolean
parse_response (const char  *mechanism,
                GBytes      *response,
                char       **out_username,
                char       **out_password)
{
  gsize len;
  const char *data = g_bytes_get_data (response, &len);

  if (g_str_equal (mechanism, "PLAIN"))
    {
      const char *first = memchr (data, '\0', len);
      const char *second = first ? memchr (first + 1, '\0', len - (first + 1 - data)) : NULL;

      if (second == NULL || memchr (second + 1, '\0', len - (second + 1 - data)) != NULL)
        return FALSE;
      *out_username = g_strndup (first + 1, second - first - 1);
      *out_password = g_strndup (second + 1, len - (second + 1 - data));
      return TRUE;
    }
  else
    {
      g_autoptr (GByteArray) table = g_byte_array_sized_new (len + 4);
      g_autoptr (SsqAmqpTable) fields = NULL;

      ssq_amqp_write_longstr (table, (const guint8 *) data, len);
      fields = ssq_amqp_table_decode (table->data, table->len, NULL);
      *out_username = ssq_amqp_table_dup_string (fields, "LOGIN");
      *out_password = ssq_amqp_table_dup_string (fields, "PASSWORD");
      return *out_username != NULL && *out_password != NULL;
    }
}

static void
logged_in (SsqAmqpLogin *login,
           SsqUserRow   *user)
{
  ssq_server_throttle_forget (login->server->login_pairs, login->pair);
  ssq_server_throttle_unfail (login->server->login_accounts, login->account);
  if (user->disabled)
    {
      refuse (login, "the account is disabled");
      return;
    }
  ssq_amqp_connection_logged_in (login->conn, user);
}

static void
verified_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  SsqAmqpLogin *login = user_data;
  gboolean ok = ssq_server_auth_verify_finish (login->server->auth, result, NULL, NULL);

  if (login->conn != NULL)
    {
      if (ok && login->user != NULL)
        logged_in (login, login->user);
      else
        {
          g_message ("Failed AMQP log-in to %s%s from %s",
                     login->user ? "account " : "an unknown account",
                     login->user ? login->user->username : "",
                     ssq_net_conn_get_peer (login->conn->net));
          refuse (login, NULL);
        }
    }
  login_free (login);
}

/* A live session token of that very user, as the password. */
static SsqUserRow *
token_user (SsqServer  *server,
            const char *username,
            const char *password)
{
  guint8 hash[SSQ_TOKEN_HASH_BYTES];
  g_autofree char *user_id = NULL;
  g_autoptr (SsqUserRow) user = NULL;

  if (!ssq_server_auth_token_hash (password, hash))
    return NULL;
  user_id = ssq_server_authenticate (server, password, NULL);
  if (user_id == NULL)
    return NULL;
  user = ssq_server_store_user_by_id (server->store, user_id, NULL);
  if (user == NULL || g_ascii_strcasecmp (user->username, username) != 0)
    return NULL;
  return g_steal_pointer (&user);
}

void
ssq_amqp_login_start (SsqAmqpConnection *conn,
                      const char        *mechanism,
                      GBytes            *response)
{
  SsqServer *server = conn->server->server;
  SsqAmqpLogin *login = g_new0 (SsqAmqpLogin, 1);
  g_autofree char *username = NULL;
  g_autofree char *password = NULL;
  g_autofree char *address = ssq_server_throttle_address_key (ssq_net_conn_get_peer (conn->net));
  g_autoptr (SsqUserRow) by_token = NULL;
  gint64 now = ssq_now_ms (), retry;

  login->conn = conn;
  login->server = server;
  login->mechanism = g_strdup (mechanism);
  if (response == NULL || !parse_response (mechanism, response, &username, &password))
    {
      refuse (login, "malformed response");
      login_free (login);
      return;
    }
  /* Names that cannot exist share one record; real ones are case-folded. */
  login->account = ssq_check_username (username, NULL) ? g_ascii_strdown (username, -1)
                                                       : g_strdup ("");
  login->pair = g_strconcat (login->account, "\n", address, NULL);
  if (!ssq_server_throttle_check (server->login_pairs, login->pair, now, &retry) ||
      (ssq_server_throttle_failures (server->login_pairs, login->pair) > 0 &&
       !ssq_server_throttle_check (server->login_accounts, login->account, now, &retry)))
    {
      g_autofree char *why = g_strdup_printf ("too many failed attempts, retry in %" G_GINT64_FORMAT " s",
                                              (retry + 999) / 1000);

      refuse (login, why);
      login_free (login);
      return;
    }
  /* Every attempt counts as failed until it succeeds: attempts in flight
   * at once cannot slip past the throttle. */
  ssq_server_throttle_fail (server->login_pairs, login->pair, now);
  ssq_server_throttle_fail (server->login_accounts, login->account, now);
  by_token = token_user (server, username, password);
  if (by_token != NULL)
    {
      logged_in (login, by_token);
      login_free (login);
      return;
    }
  if (ssq_check_username (username, NULL) && ssq_check_password (password, NULL))
    login->user = ssq_server_store_user_by_name (server->store, username, &login->pw_hash, NULL);
  if (login->user != NULL && ssq_user_row_is_deleted (login->user))
    g_clear_pointer (&login->user, ssq_user_row_free);
  conn->login = login;
  /* An unknown name costs one verification too: same time, same answer. */
  ssq_server_auth_verify_async (server->auth, login->user ? login->pw_hash : NULL, password,
                                verified_cb, login);
}
