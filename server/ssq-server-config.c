/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-config.c: defaults, the key file and their checks. The defaults
 * here are the ones documented in README.md and data/supersoniq-server.conf. */
#include "ssq-server-config.h"
#include "ssq-server-discovery.h"
#include "ssq-server-invites.h"
#include "ssq-proto.h"

#include <glib/gi18n.h>
#include <sodium.h>
#include <string.h>

SsqServerConfig *
ssq_server_config_new (void)
{
  SsqServerConfig *c = g_new0 (SsqServerConfig, 1);

  c->listen = g_strdup ("0.0.0.0:8080");
  c->data_dir = ssq_server_config_default_data_dir ();
  c->websocket_deflate = FALSE;
  c->durable_commits = TRUE;
  c->commit_batch_max = 512;
  c->checkpoint_pages = 16384;
  c->busy_poll_us = 200;
  c->session_purge_interval = 60;

  c->messages_per_minute = 60;
  c->groups_per_hour = 5;
  c->joins_per_hour = 20;
  c->registrations_per_hour = 20;
  c->login_free_failures = 5;
  c->login_account_free_failures = 20;
  c->login_backoff_max = 900;
  c->login_throttle_entries = 100000;
  c->max_body_size = 256 * 1024;
  c->max_frame_size = SSQ_FRAME_MAX;
  c->max_members = 1000;
  c->max_connections = 10000;
  c->max_connections_per_address = 256;
  c->max_header_size = 16 * 1024;
  c->max_headers = 64;
  c->header_timeout = 10;
  c->max_requests_in_flight = 32;
  c->max_streams = 100;
  c->max_sessions_per_user = 32;
  c->sync_batch = SSQ_SYNC_PER_CONVERSATION;
  c->send_queue_max = 4 * 1024 * 1024;
  c->idle_timeout = 60;
  c->session_days = 90;
  c->hash_threads = 2;
  c->queue_polls = 1000;
  c->queue_polls_per_user = 8;
  c->queue_wait_max = 20;
  c->queue_subscriptions_per_session = 16;

  c->media_max_size = 100 * 1024 * 1024;
  c->media_quota_per_user = G_GUINT64_CONSTANT (2) * 1024 * 1024 * 1024;
  c->media_orphan_expiry = 86400;
  c->media_uploads_per_minute = 30;
  c->media_uploads_at_once = 4;
  c->thumbnail_workers = 2;
  c->thumbnail_queue = 64;
  c->max_image_pixels = 50000000;

  c->pwhash_opslimit = crypto_pwhash_OPSLIMIT_INTERACTIVE;
  c->pwhash_memlimit = crypto_pwhash_MEMLIMIT_INTERACTIVE;

  c->log_requests = TRUE;
  c->metrics_access = SSQ_METRICS_ACCESS_LOOPBACK;
  c->tls_enabled = TRUE;
  c->tls_plain_http = SSQ_TLS_PLAIN_LOOPBACK;
  c->tls_http2 = TRUE;
  c->amqp_listen = g_strdup ("0.0.0.0:5672");
  c->amqp_tls_listen = g_strdup ("0.0.0.0:5671");
  c->amqp_frame_max = 131072;
  c->amqp_channel_max = 2047;
  c->amqp_heartbeat = 60;
  c->amqp_max_connections = 512;
  c->amqp_max_channels = 16384;
  c->features_media = TRUE;
  c->features_broker = TRUE;
  c->broker_max_queues = 10000;
  c->broker_max_queues_per_user = 1000;
  c->broker_max_exchanges = 1000;
  c->broker_max_bindings = 100000;
  c->broker_max_bindings_per_user = 1000;
  c->broker_max_message_size = 16 * 1024 * 1024;
  c->broker_max_memory = 256 * 1024 * 1024;
  c->broker_max_unacked_per_channel = 10000;
  c->broker_max_consumers_per_channel = 1000;
  c->broker_max_consumers_per_connection = 2000;
  c->broker_max_consumers = 50000;
  /* On: a LAN chat is found without typing an address. It announces only
   * what GET /api/v1/server tells anyone anyway (and no loopback server). */
  c->features_discovery = TRUE;
  return c;
}

void
ssq_server_config_free (SsqServerConfig *config)
{
  if (config == NULL)
    return;
  g_free (config->listen);
  g_free (config->data_dir);
  g_free (config->metrics_token);
  g_free (config->public_address);
  g_free (config->name);
  g_free (config->tls_certificate);
  g_free (config->tls_key);
  g_free (config->amqp_listen);
  g_free (config->amqp_tls_listen);
  g_free (config);
}

char *
ssq_server_config_default_data_dir (void)
{
  return g_build_filename (g_get_user_data_dir (), "supersoniq", NULL);
}

/* Reads the key file and remembers every key it asked for: what the file
 * holds beyond them is a typo or a setting of another version, refused
 * rather than ignored (see check_known ()). */
typedef struct {
  GKeyFile   *kf;
  GHashTable *known;   /* group -> GPtrArray of its keys, in the order asked */
  GPtrArray  *groups;  /* in the order asked */
} Reader;

static void
note_key (Reader     *r,
          const char *group,
          const char *key)
{
  GPtrArray *keys = g_hash_table_lookup (r->known, group);

  if (keys == NULL)
    {
      keys = g_ptr_array_new ();
      g_hash_table_insert (r->known, (gpointer) group, keys);
      g_ptr_array_add (r->groups, (gpointer) group);
    }
  g_ptr_array_add (keys, (gpointer) key);
}

/* Reads an unsigned key when present; absent keys keep their default. */
static gboolean
read_uint (Reader      *r,
           const char  *group,
           const char  *key,
           guint64      max,
           guint64     *value,
           GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autofree char *text = NULL;
  guint64 v;

  note_key (r, group, key);
  text = g_key_file_get_value (r->kf, group, key, NULL);
  if (text == NULL)
    return TRUE;
  if (!g_ascii_string_to_unsigned (g_strstrip (text), 10, 0, max, &v, &local_error))
    {
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                   "[%s] %s: %s", group, key, local_error->message);
      return FALSE;
    }
  *value = v;
  return TRUE;
}

#define READ_UINT(group, key, field, max)                                   \
  G_STMT_START {                                                            \
    guint64 v_ = config->field;                                             \
    if (!read_uint (r, group, key, max, &v_, error))                        \
      return FALSE;                                                         \
    config->field = v_;                                                     \
  } G_STMT_END

static gboolean
read_bool (Reader      *r,
           const char  *group,
           const char  *key,
           gboolean    *value,
           GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  gboolean v;

  note_key (r, group, key);
  if (!g_key_file_has_key (r->kf, group, key, NULL))
    return TRUE;
  v = g_key_file_get_boolean (r->kf, group, key, &local_error);
  if (local_error != NULL)
    {
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                   _("[%s] %s: expected true or false"), group, key);
      return FALSE;
    }
  *value = v;
  return TRUE;
}

static void
read_string (Reader      *r,
             const char  *group,
             const char  *key,
             char       **value)
{
  char *s;

  note_key (r, group, key);
  if ((s = g_key_file_get_string (r->kf, group, key, NULL)) != NULL)
    {
      g_free (*value);
      *value = g_strstrip (s);
    }
}

/* One of @choices (words separated by spaces); @value is its index. */
static gboolean
read_choice (Reader      *r,
             const char  *group,
             const char  *key,
             const char  *choices,
             guint       *value,
             GError     **error)
{
  g_autofree char *text = NULL;
  g_auto(GStrv) words = g_strsplit (choices, " ", -1);

  read_string (r, group, key, &text);
  if (text == NULL)
    return TRUE;
  for (guint i = 0; words[i] != NULL; i++)
    if (g_str_equal (words[i], text))
      {
        *value = i;
        return TRUE;
      }
  g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
               _("[%s] %s: \"%s\" is not one of: %s"), group, key, text, choices);
  return FALSE;
}

/* Keys that older versions read and this one no longer does: accepted with a
 * warning, so that an upgrade does not stop a server over a stale line. */
static const struct {
  const char *group;
  const char *key;
  const char *why;
} retired_keys[] = {
  { "limits", "logins_per_minute", "registrations are limited by registrations_per_hour, "
                                   "logins by the login throttle" },
};

/* Groups of features to come: refused by name, since a group accepted and
 * ignored would let an administrator believe the feature is on. */
static const char *const future_groups[] = { NULL };

static char *
join_keys (GPtrArray *keys)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < keys->len; i++)
    g_string_append_printf (s, "%s%s", i ? ", " : "", (const char *) keys->pdata[i]);
  return g_string_free (s, FALSE);
}

/* A known name within two edits of @name, for "did you mean". */
static const char *
nearest (const char *name,
         GPtrArray  *names)
{
  for (guint i = 0; i < names->len; i++)
    {
      const char *candidate = names->pdata[i];
      gsize a = strlen (name), b = strlen (candidate);
      guint d[65][65];

      if (a > 64 || b > 64)
        continue;
      for (gsize x = 0; x <= a; x++)
        d[x][0] = x;
      for (gsize y = 0; y <= b; y++)
        d[0][y] = y;
      for (gsize x = 1; x <= a; x++)
        for (gsize y = 1; y <= b; y++)
          d[x][y] = MIN (MIN (d[x - 1][y] + 1, d[x][y - 1] + 1),
                         d[x - 1][y - 1] + (name[x - 1] != candidate[y - 1]));
      if (d[a][b] <= 2)
        return candidate;
    }
  return NULL;
}

static gboolean
is_retired (const char *group,
            const char *key)
{
  for (guint i = 0; i < G_N_ELEMENTS (retired_keys); i++)
    if (g_str_equal (retired_keys[i].group, group) && g_str_equal (retired_keys[i].key, key))
      {
        g_warning ("[%s] %s is ignored: %s", group, key, retired_keys[i].why);
        return TRUE;
      }
  return FALSE;
}

static gboolean
check_group (Reader      *r,
             const char  *group,
             GError     **error)
{
  g_autofree char *listed = NULL;
  const char *hint;

  if (g_hash_table_contains (r->known, group))
    return TRUE;
  if (g_strv_contains (future_groups, group))
    {
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_GROUP_NOT_FOUND,
                   _("[%s]: this version of the server has no such feature yet; remove the group"),
                   group);
      return FALSE;
    }
  listed = join_keys (r->groups);
  hint = nearest (group, r->groups);
  if (hint != NULL)
    g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_GROUP_NOT_FOUND,
                 _("unknown group [%s] (did you mean [%s]?); the groups are: %s"), group, hint,
                 listed);
  else
    g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_GROUP_NOT_FOUND,
                 _("unknown group [%s]; the groups are: %s"), group, listed);
  return FALSE;
}

/* Every group and key of the file must be one the reader asked for. */
static gboolean
check_known (Reader  *r,
             GError **error)
{
  g_auto(GStrv) groups = g_key_file_get_groups (r->kf, NULL);

  for (guint g = 0; groups[g] != NULL; g++)
    {
      g_auto(GStrv) keys = NULL;
      GPtrArray *known;

      if (!check_group (r, groups[g], error))
        return FALSE;
      known = g_hash_table_lookup (r->known, groups[g]);
      keys = g_key_file_get_keys (r->kf, groups[g], NULL, NULL);
      for (guint k = 0; keys != NULL && keys[k] != NULL; k++)
        {
          g_autofree char *listed = NULL;
          const char *hint;
          gboolean found = FALSE;

          for (guint i = 0; i < known->len && !found; i++)
            found = g_str_equal (known->pdata[i], keys[k]);
          if (found || is_retired (groups[g], keys[k]))
            continue;
          listed = join_keys (known);
          hint = nearest (keys[k], known);
          if (hint != NULL)
            g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND,
                         _("unknown key \"%s\" in [%s] (did you mean %s?); the keys of [%s] are: %s"),
                         keys[k], groups[g], hint, groups[g], listed);
          else
            g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND,
                         _("unknown key \"%s\" in [%s]; the keys of [%s] are: %s"),
                         keys[k], groups[g], groups[g], listed);
          return FALSE;
        }
    }
  return TRUE;
}

const char *
ssq_registration_mode_to_string (SsqRegistrationMode mode)
{
  static const char *const words[] = { "open", "invite", "closed" };

  return (guint) mode < G_N_ELEMENTS (words) ? words[mode] : "closed";
}

/* [server] registration=open|invite|closed is the one setting; the older
 * [features] registration=true|false still works alone (false: closed),
 * with a warning, and is ignored beside the new key. */
static gboolean
read_registration (Reader           *r,
                   SsqServerConfig  *config,
                   GError          **error)
{
  gboolean has_mode = g_key_file_has_key (r->kf, "server", "registration", NULL);
  gboolean has_old = g_key_file_has_key (r->kf, "features", "registration", NULL);
  gboolean old = TRUE;

  if (!read_choice (r, "server", "registration", "open invite closed", &config->registration,
                    error) ||
      !read_bool (r, "features", "registration", &old, error))
    return FALSE;
  if (has_old && has_mode)
    g_warning ("[features] registration is ignored: [server] registration=%s decides",
               ssq_registration_mode_to_string (config->registration));
  else if (has_old)
    {
      config->registration = old ? SSQ_REGISTRATION_OPEN : SSQ_REGISTRATION_CLOSED;
      g_warning ("[features] registration=%s is deprecated: write [server] registration=%s",
                 old ? "true" : "false", ssq_registration_mode_to_string (config->registration));
    }
  return TRUE;
}

static gboolean
check_broker_bounds (const SsqServerConfig  *config,
                     GError                **error)
{
  const char *zero = NULL;

  if (config->broker_max_queues == 0) zero = "max_queues";
  else if (config->broker_max_queues_per_user == 0) zero = "max_queues_per_user";
  else if (config->broker_max_exchanges == 0) zero = "max_exchanges";
  else if (config->broker_max_bindings == 0) zero = "max_bindings";
  else if (config->broker_max_bindings_per_user == 0) zero = "max_bindings_per_user";
  else if (config->broker_max_message_size == 0) zero = "max_message_size";
  else if (config->broker_max_memory == 0) zero = "max_memory";
  else if (config->broker_max_unacked_per_channel == 0) zero = "max_unacked_per_channel";
  else if (config->broker_max_consumers_per_channel == 0) zero = "max_consumers_per_channel";
  else if (config->broker_max_consumers_per_connection == 0) zero = "max_consumers_per_connection";
  else if (config->broker_max_consumers == 0) zero = "max_consumers";
  if (zero == NULL)
    return TRUE;
  g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
               _("[broker] %s: must be at least 1 (turn the broker off with [features] broker=false)"),
               zero);
  return FALSE;
}

static gboolean
read_all (SsqServerConfig  *config,
          Reader           *r,
          GError          **error)
{
  read_string (r, "server", "listen", &config->listen);
  read_string (r, "server", "data_dir", &config->data_dir);
  if (!read_bool (r, "server", "websocket_deflate", &config->websocket_deflate, error) ||
      !read_bool (r, "server", "durable_commits", &config->durable_commits, error))
    return FALSE;
  READ_UINT ("server", "commit_batch_max", commit_batch_max, 100000);
  READ_UINT ("server", "checkpoint_pages", checkpoint_pages, 1048576);
  READ_UINT ("server", "busy_poll_us", busy_poll_us, 10000);
  READ_UINT ("server", "session_purge_interval", session_purge_interval, 86400);
  read_string (r, "server", "public_address", &config->public_address);
  read_string (r, "server", "name", &config->name);
  if (config->name != NULL && !ssq_server_discovery_check_name (config->name, error))
    return FALSE;

  READ_UINT ("limits", "messages_per_minute", messages_per_minute, G_MAXUINT32);
  READ_UINT ("limits", "groups_per_hour", groups_per_hour, G_MAXUINT32);
  READ_UINT ("limits", "joins_per_hour", joins_per_hour, G_MAXUINT32);
  READ_UINT ("limits", "registrations_per_hour", registrations_per_hour, G_MAXUINT32);
  READ_UINT ("limits", "login_free_failures", login_free_failures, 1000000);
  READ_UINT ("limits", "login_account_free_failures", login_account_free_failures, 1000000);
  READ_UINT ("limits", "login_backoff_max", login_backoff_max, 86400);
  READ_UINT ("limits", "login_throttle_entries", login_throttle_entries, 100000000);
  READ_UINT ("limits", "max_body_size", max_body_size, 64 * 1024 * 1024);
  READ_UINT ("limits", "max_frame_size", max_frame_size, SSQ_FRAME_MAX);
  READ_UINT ("limits", "max_members", max_members, 100000);
  READ_UINT ("limits", "max_connections", max_connections, 1000000);
  READ_UINT ("limits", "max_sessions_per_user", max_sessions_per_user, 100000);
  READ_UINT ("limits", "max_connections_per_address", max_connections_per_address, 1000000);
  READ_UINT ("limits", "max_header_size", max_header_size, 1024 * 1024);
  READ_UINT ("limits", "max_headers", max_headers, 1000);
  READ_UINT ("limits", "header_timeout", header_timeout, 3600);
  READ_UINT ("limits", "max_requests_in_flight", max_requests_in_flight, 100000);
  READ_UINT ("limits", "max_streams", max_streams, 1000);
  READ_UINT ("limits", "sync_batch", sync_batch, SSQ_SYNC_PER_CONVERSATION);
  READ_UINT ("limits", "send_queue_max", send_queue_max, G_MAXUINT32);
  READ_UINT ("limits", "idle_timeout", idle_timeout, 86400);
  READ_UINT ("limits", "session_days", session_days, 3650);
  READ_UINT ("limits", "hash_threads", hash_threads, 64);
  READ_UINT ("limits", "queue_polls", queue_polls, 1000000);
  READ_UINT ("limits", "queue_polls_per_user", queue_polls_per_user, 100000);
  READ_UINT ("limits", "queue_wait_max", queue_wait_max, 3600);
  READ_UINT ("limits", "queue_subscriptions_per_session", queue_subscriptions_per_session, 10000);

  READ_UINT ("media", "max_size", media_max_size, G_MAXINT64);
  READ_UINT ("media", "quota_per_user", media_quota_per_user, G_MAXINT64);
  READ_UINT ("media", "orphan_expiry", media_orphan_expiry, 365 * 86400);
  READ_UINT ("media", "uploads_per_minute", media_uploads_per_minute, G_MAXUINT32);
  READ_UINT ("media", "uploads_at_once", media_uploads_at_once, 1000);
  READ_UINT ("media", "thumbnail_workers", thumbnail_workers, 64);
  READ_UINT ("media", "thumbnail_queue", thumbnail_queue, 100000);
  READ_UINT ("media", "max_image_pixels", max_image_pixels, G_MAXINT64);

  READ_UINT ("security", "pwhash_opslimit", pwhash_opslimit, crypto_pwhash_OPSLIMIT_MAX);
  READ_UINT ("security", "pwhash_memlimit", pwhash_memlimit, G_MAXUINT32);

  /* Each bound from 1: a zero would turn the broker off piecemeal. */
  READ_UINT ("broker", "max_queues", broker_max_queues, 10000000);
  READ_UINT ("broker", "max_queues_per_user", broker_max_queues_per_user, 10000000);
  READ_UINT ("broker", "max_exchanges", broker_max_exchanges, 10000000);
  READ_UINT ("broker", "max_bindings", broker_max_bindings, 100000000);
  READ_UINT ("broker", "max_bindings_per_user", broker_max_bindings_per_user, 100000000);
  READ_UINT ("broker", "max_message_size", broker_max_message_size, 128 * 1024 * 1024);
  READ_UINT ("broker", "max_memory", broker_max_memory, G_MAXINT64);
  READ_UINT ("broker", "max_unacked_per_channel", broker_max_unacked_per_channel, 10000000);
  READ_UINT ("broker", "max_consumers_per_channel", broker_max_consumers_per_channel, 1000000);
  READ_UINT ("broker", "max_consumers_per_connection", broker_max_consumers_per_connection, 10000000);
  READ_UINT ("broker", "max_consumers", broker_max_consumers, 100000000);
  if (!check_broker_bounds (config, error))
    return FALSE;

  if (!read_bool (r, "log", "requests", &config->log_requests, error))
    return FALSE;
  if (!read_choice (r, "metrics", "access", "loopback token open", &config->metrics_access, error))
    return FALSE;
  read_string (r, "metrics", "token", &config->metrics_token);

  if (!read_bool (r, "tls", "enabled", &config->tls_enabled, error) ||
      !read_bool (r, "tls", "http2", &config->tls_http2, error) ||
      !read_choice (r, "tls", "plain_http", "loopback none any", &config->tls_plain_http, error))
    return FALSE;
  read_string (r, "tls", "certificate", &config->tls_certificate);
  read_string (r, "tls", "key", &config->tls_key);
  if ((config->tls_certificate == NULL || config->tls_certificate[0] == '\0') !=
      (config->tls_key == NULL || config->tls_key[0] == '\0'))
    {
      g_set_error_literal (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                           _("[tls] certificate and key go together: give both, or neither "
                             "(the server then makes its own)"));
      return FALSE;
    }

  config->amqp_listen_set = g_key_file_has_key (r->kf, "amqp", "listen", NULL);
  read_string (r, "amqp", "listen", &config->amqp_listen);
  config->amqp_tls_listen_set = g_key_file_has_key (r->kf, "amqp", "tls_listen", NULL);
  read_string (r, "amqp", "tls_listen", &config->amqp_tls_listen);
  READ_UINT ("amqp", "frame_max", amqp_frame_max, 16 * 1024 * 1024);
  READ_UINT ("amqp", "channel_max", amqp_channel_max, 65535);
  READ_UINT ("amqp", "heartbeat", amqp_heartbeat, 65535);
  READ_UINT ("amqp", "max_connections", amqp_max_connections, 1000000);
  READ_UINT ("amqp", "max_channels", amqp_max_channels, 100000000);
  if (config->amqp_frame_max < 4096 || config->amqp_channel_max == 0 ||
      config->amqp_max_connections == 0 || config->amqp_max_channels == 0)
    {
      g_set_error_literal (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                           _("[amqp] frame_max must be at least 4096, channel_max, "
                             "max_connections and max_channels positive"));
      return FALSE;
    }

  return read_bool (r, "features", "media", &config->features_media, error) &&
         read_registration (r, config, error) &&
         read_bool (r, "features", "broker", &config->features_broker, error) &&
         read_bool (r, "features", "discovery", &config->features_discovery, error);
}

gboolean
ssq_server_config_load_file (SsqServerConfig  *config,
                             const char       *path,
                             GError          **error)
{
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autoptr(GHashTable) known = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                                       (GDestroyNotify) g_ptr_array_unref);
  g_autoptr(GPtrArray) groups = g_ptr_array_new ();
  Reader r = { kf, known, groups };

  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, error))
    return FALSE;
  return read_all (config, &r, error) && check_known (&r, error);
}

static gboolean
parse_port (const char  *listen,
            const char  *text,
            guint16     *out_port,
            GError     **error)
{
  gsize len = strlen (text);
  guint64 port = 0;

  if (len == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("Listen address \"%s\" has no port (HOST:PORT, :PORT or PORT)"), listen);
      return FALSE;
    }
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isdigit (text[i]))
      {
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                     _("Listen address \"%s\": port \"%s\" is not a number"), listen, text);
        return FALSE;
      }
  if (len > 5 || (port = g_ascii_strtoull (text, NULL, 10)) > 65535)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("Listen address \"%s\": port %s out of range 0-65535 (0 picks a free port)"),
                   listen, text);
      return FALSE;
    }
  *out_port = (guint16) port;
  return TRUE;
}

/**
 * ssq_server_config_parse_listen:
 * Splits HOST:PORT; [IPV6]:PORT and a bare IPv6 address before the last
 * colon work too. PORT alone and :PORT mean every IPv4 interface
 * (0.0.0.0), as the default does.
 */
gboolean
ssq_server_config_parse_listen (const char  *listen,
                                char       **out_host,
                                guint16     *out_port,
                                GError     **error)
{
  const char *colon;
  g_autofree char *host = NULL;

  if (listen == NULL || listen[0] == '\0')
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           _("The listen address is empty (HOST:PORT, :PORT or PORT)"));
      return FALSE;
    }
  if (listen[0] == '[')
    {
      const char *close = strchr (listen, ']');

      if (close == NULL || close[1] != ':')
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       _("Listen address \"%s\" is not [IPV6]:PORT"), listen);
          return FALSE;
        }
      host = g_strndup (listen + 1, close - listen - 1);
      colon = close + 1;
    }
  else if ((colon = strrchr (listen, ':')) != NULL)
    host = g_strndup (listen, colon - listen);
  if (!parse_port (listen, colon != NULL ? colon + 1 : listen, out_port, error))
    return FALSE;
  if (host == NULL || host[0] == '\0')
    {
      g_free (host);
      host = g_strdup ("0.0.0.0");
    }
  *out_host = g_steal_pointer (&host);
  return TRUE;
}

gboolean
ssq_server_config_validate (SsqServerConfig  *config,
                            GError          **error)
{
  g_autofree char *host = NULL;
  guint16 port;

  if (!ssq_server_config_parse_listen (config->listen, &host, &port, error))
    return FALSE;
  if (!g_hostname_is_ip_address (host) && !g_str_equal (host, "localhost"))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("Listen address \"%s\": \"%s\" is not an IP address (nor localhost)"),
                   config->listen, host);
      return FALSE;
    }
  if (config->data_dir == NULL || config->data_dir[0] == '\0')
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, _("No data directory"));
      return FALSE;
    }
  if (config->max_frame_size < 1024 || config->max_body_size < 1024)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           _("max_frame_size and max_body_size must be at least 1024"));
      return FALSE;
    }
  if (config->commit_batch_max == 0 || config->checkpoint_pages == 0 ||
      config->sync_batch == 0 || config->hash_threads == 0 ||
      config->max_members < 2 || config->send_queue_max < 65536 || config->session_days == 0 ||
      config->session_purge_interval == 0 || config->media_uploads_at_once == 0)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           _("commit_batch_max, checkpoint_pages, sync_batch, hash_threads, session_days, "
                             "session_purge_interval and uploads_at_once must be "
                             "positive, max_members at least 2, send_queue_max at least 65536"));
      return FALSE;
    }
  if (config->max_connections == 0 || config->max_connections_per_address == 0 ||
      config->max_header_size < 1024 || config->max_headers < 8 ||
      config->header_timeout == 0 || config->idle_timeout == 0 ||
      config->max_requests_in_flight == 0 || config->login_backoff_max == 0 ||
      config->login_throttle_entries == 0)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           _("max_connections, max_connections_per_address, header_timeout, "
                             "idle_timeout, max_requests_in_flight, login_backoff_max and "
                             "login_throttle_entries must be positive, "
                             "max_header_size at least 1024, max_headers at least 8"));
      return FALSE;
    }
  if (config->media_max_size == 0 || config->media_orphan_expiry == 0 ||
      config->thumbnail_queue == 0 || config->max_image_pixels == 0)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           _("[media] max_size, orphan_expiry, thumbnail_queue and "
                             "max_image_pixels must be positive"));
      return FALSE;
    }
  if (config->pwhash_opslimit < crypto_pwhash_OPSLIMIT_MIN ||
      config->pwhash_memlimit < crypto_pwhash_MEMLIMIT_MIN)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           _("pwhash limits are below libsodium's minimum"));
      return FALSE;
    }
  if (!ssq_server_check_public_address (config->public_address, error))
    return FALSE;

  if (config->metrics_access == SSQ_METRICS_ACCESS_TOKEN &&
      (config->metrics_token == NULL || strlen (config->metrics_token) < 16))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           _("[metrics] access=token needs a token= of at least 16 characters"));
      return FALSE;
    }
  return TRUE;
}
