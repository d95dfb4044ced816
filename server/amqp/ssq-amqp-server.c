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
  self->max_channels = config->amqp_max_channels;
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

/* Open channels per user: one user may hold at most a quarter of
 * max_channels, so that the others can still open theirs (one user's nine
 * connections of 2,047 channels took all 16,384, and everyone else's
 * channel.open got 530). */
guint
ssq_amqp_server_user_channel_max (SsqAmqpServer *self)
{
  return MAX (self->max_channels / 4, 1);
}

/* Counted over the connections (at most [amqp] max_connections) when a
 * channel opens, rather than kept beside them. */
guint
ssq_amqp_server_user_channels (SsqAmqpServer *self,
                               const char    *user_id)
{
  guint n = 0;

  for (GList *l = self->connections.head; l != NULL && user_id != NULL; l = l->next)
    {
      SsqAmqpConnection *conn = l->data;

      if (g_strcmp0 (conn->user_id, user_id) == 0)
        n += g_hash_table_size (conn->channels);
    }
  return n;
}

guint
ssq_amqp_server_n_connections (SsqAmqpServer *self)
{
  return self->connections.length;
}

/* ---- Login ------------------------------------------------------------ */

#define LOGINS_WAITING_MAX 64   /* per (account, address), behind the one verifying */

struct _SsqAmqpLogin {
  SsqAmqpConnection *conn;       /* NULL once cancelled */
  SsqServer         *server;
  char              *mechanism;
  char              *pair;       /* throttle keys, as HTTP's login */
  char              *account;
  char              *username;   /* as given, until it runs */
  char              *password;
  SsqUserRow        *user;
  char              *pw_hash;
};

static void
login_free (SsqAmqpLogin *login)
{
  g_free (login->mechanism);
  g_free (login->pair);
  g_free (login->account);
  g_free (login->username);
  if (login->password != NULL)
    memset (login->password, 0, strlen (login->password));
  g_free (login->password);
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

static void login_finished (SsqAmqpLogin *login);

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
  login_finished (login);
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

/* Runs @login, the first of its (account, address) pair: TRUE while its
 * password is being verified (verified_cb ends it), FALSE when it ended
 * here (refused, or a session token). */
static gboolean
login_run (SsqAmqpLogin *login)
{
  SsqServer *server = login->server;
  g_autoptr (SsqUserRow) by_token = NULL;
  const char *owner = ssq_net_conn_get_peer (login->conn->net);
  gint64 now = ssq_now_ms (), retry;

  if (!ssq_server_throttle_check (server->login_pairs, login->pair, now, &retry) ||
      (ssq_server_throttle_failures (server->login_pairs, login->pair) > 0 &&
       !ssq_server_throttle_check (server->login_accounts, login->account, now, &retry)))
    {
      g_autofree char *why = g_strdup_printf ("too many failed attempts, retry in %" G_GINT64_FORMAT " s",
                                              (retry + 999) / 1000);

      refuse (login, why);
      return FALSE;
    }
  /* No room for its hash: refused before it counts as an attempt (and
   * then its hash, submitted in this same turn, is never refused). */
  if (!ssq_server_auth_check_room (server->auth, owner, NULL))
    {
      refuse (login, "too many logins from this address at once, retry in 1 s");
      return FALSE;
    }
  /* Counted as failed until it succeeds: should it never come back (the
   * server stopping), it still counted. */
  ssq_server_throttle_fail (server->login_pairs, login->pair, now);
  ssq_server_throttle_fail (server->login_accounts, login->account, now);
  by_token = token_user (server, login->username, login->password);
  if (by_token != NULL)
    {
      logged_in (login, by_token);
      return FALSE;
    }
  if (ssq_check_username (login->username, NULL) && ssq_check_password (login->password, NULL))
    login->user = ssq_server_store_user_by_name (server->store, login->username, &login->pw_hash, NULL);
  if (login->user != NULL && ssq_user_row_is_deleted (login->user))
    g_clear_pointer (&login->user, ssq_user_row_free);
  /* An unknown name costs one verification too: same time, same answer. */
  ssq_server_auth_verify_async (server->auth, owner, login->user ? login->pw_hash : NULL,
                                login->password, verified_cb, login);
  return TRUE;
}

/* Runs the logins waiting for @pair, first first, until one is verifying
 * or none is left. */
static void
login_next (SsqServer  *server,
            const char *pair)
{
  GQueue *queue = g_hash_table_lookup (server->amqp_logins, pair);
  SsqAmqpLogin *next;

  while ((next = g_queue_peek_head (queue)) != NULL)
    {
      if (next->conn != NULL && login_run (next))
        return;
      g_queue_pop_head (queue);
      login_free (next);
    }
  g_hash_table_remove (server->amqp_logins, pair);
}

static void
login_finished (SsqAmqpLogin *login)
{
  SsqServer *server = login->server;
  g_autofree char *pair = g_strdup (login->pair);

  g_queue_pop_head (g_hash_table_lookup (server->amqp_logins, pair));
  login_free (login);
  login_next (server, pair);
}

/* The queue of one pair: its first login is verifying and its callback
 * frees it; those waiting behind it are freed here. */
static void
login_queue_free (GQueue *queue)
{
  g_queue_pop_head (queue);
  g_queue_free_full (queue, (GDestroyNotify) login_free);
}

GHashTable *
ssq_amqp_login_table_new (void)
{
  return g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) login_queue_free);
}

/* Logins of one account from one address run one after the other, each
 * seeing the throttle as the one before left it: a pool of workers
 * starting together with the right password all get in, and a burst of
 * guesses cannot slip past the throttle (at most LOGINS_WAITING_MAX wait). */
void
ssq_amqp_login_start (SsqAmqpConnection *conn,
                      const char        *mechanism,
                      GBytes            *response)
{
  SsqServer *server = conn->server->server;
  SsqAmqpLogin *login = g_new0 (SsqAmqpLogin, 1);
  g_autofree char *address = ssq_server_throttle_address_key (ssq_net_conn_get_peer (conn->net));
  GQueue *queue;
  g_autofree char *pair = NULL;

  login->conn = conn;
  login->server = server;
  login->mechanism = g_strdup (mechanism);
  if (response == NULL || !parse_response (mechanism, response, &login->username, &login->password))
    {
      refuse (login, "malformed response");
      login_free (login);
      return;
    }
  /* Names that cannot exist share one record; real ones are case-folded. */
  login->account = ssq_check_username (login->username, NULL) ? g_ascii_strdown (login->username, -1)
                                                              : g_strdup ("");
  login->pair = g_strconcat (login->account, "\n", address, NULL);
  queue = g_hash_table_lookup (server->amqp_logins, login->pair);
  if (queue != NULL && queue->length > LOGINS_WAITING_MAX)
    {
      refuse (login, "too many log-ins at once");
      login_free (login);
      return;
    }
  conn->login = login;
  if (queue != NULL)
    {
      g_queue_push_tail (queue, login);
      return;
    }
  queue = g_queue_new ();
  g_queue_push_tail (queue, login);
  g_hash_table_insert (server->amqp_logins, g_strdup (login->pair), queue);
  /* A copy: @login may be freed before login_next () is done with it. */
  pair = g_strdup (login->pair);
  login_next (server, pair);
}
