/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-config.c: defaults, the key file and their checks. The defaults
 * here are the ones documented in README.md and data/supersoniq-server.conf. */
#include "ssq-server-config.h"
#include "ssq-proto.h"

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
  c->max_sessions_per_user = 32;
  c->sync_batch = SSQ_SYNC_PER_CONVERSATION;
  c->send_queue_max = 4 * 1024 * 1024;
  c->idle_timeout = 60;
  c->session_days = 90;
  c->hash_threads = 2;

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
  return c;
}

void
ssq_server_config_free (SsqServerConfig *config)
{
  if (config == NULL)
    return;
  g_free (config->listen);
  g_free (config->data_dir);
  g_free (config);
}

char *
ssq_server_config_default_data_dir (void)
{
  return g_build_filename (g_get_user_data_dir (), "supersoniq", NULL);
}

/* Reads an unsigned key when present; absent keys keep their default. */
static gboolean
read_uint (GKeyFile    *kf,
           const char  *group,
           const char  *key,
           guint64      max,
           guint64     *value,
           GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autofree char *text = g_key_file_get_value (kf, group, key, NULL);
  guint64 v;

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
    if (!read_uint (kf, group, key, max, &v_, error))                       \
      return FALSE;                                                         \
    config->field = v_;                                                     \
  } G_STMT_END

static gboolean
read_bool (GKeyFile    *kf,
           const char  *group,
           const char  *key,
           gboolean    *value,
           GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  gboolean v;

  if (!g_key_file_has_key (kf, group, key, NULL))
    return TRUE;
  v = g_key_file_get_boolean (kf, group, key, &local_error);
  if (local_error != NULL)
    {
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                   "[%s] %s: expected true or false", group, key);
      return FALSE;
    }
  *value = v;
  return TRUE;
}

gboolean
ssq_server_config_load_file (SsqServerConfig  *config,
                             const char       *path,
                             GError          **error)
{
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  char *s;

  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, error))
    return FALSE;

  if ((s = g_key_file_get_string (kf, "server", "listen", NULL)) != NULL)
    {
      g_free (config->listen);
      config->listen = g_strstrip (s);
    }
  if ((s = g_key_file_get_string (kf, "server", "data_dir", NULL)) != NULL)
    {
      g_free (config->data_dir);
      config->data_dir = g_strstrip (s);
    }
  if (!read_bool (kf, "server", "websocket_deflate", &config->websocket_deflate, error) ||
      !read_bool (kf, "server", "durable_commits", &config->durable_commits, error))
    return FALSE;
  READ_UINT ("server", "commit_batch_max", commit_batch_max, 100000);
  READ_UINT ("server", "session_purge_interval", session_purge_interval, 86400);

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
  READ_UINT ("limits", "sync_batch", sync_batch, SSQ_SYNC_PER_CONVERSATION);
  READ_UINT ("limits", "send_queue_max", send_queue_max, G_MAXUINT32);
  READ_UINT ("limits", "idle_timeout", idle_timeout, 86400);
  READ_UINT ("limits", "session_days", session_days, 3650);
  READ_UINT ("limits", "hash_threads", hash_threads, 64);

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
  return TRUE;
}

gboolean
ssq_server_config_parse_listen (const char  *listen,
                                char       **out_host,
                                guint16     *out_port,
                                GError     **error)
{
  const char *colon = listen ? strrchr (listen, ':') : NULL;
  g_autofree char *host = NULL;
  guint64 port;

  if (colon == NULL || colon == listen ||
      !g_ascii_string_to_unsigned (colon + 1, 10, 0, 65535, &port, NULL))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "Listen address \"%s\" is not HOST:PORT", listen ? listen : "");
      return FALSE;
    }
  host = g_strndup (listen, colon - listen);
  /* Accept [::1]:8080 as well as ::1 written bare before the last colon. */
  if (host[0] == '[' && host[strlen (host) - 1] == ']')
    {
      char *inner = g_strndup (host + 1, strlen (host) - 2);
      g_free (host);
      host = inner;
    }
  *out_host = g_steal_pointer (&host);
  *out_port = (guint16) port;
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
  if (config->data_dir == NULL || config->data_dir[0] == '\0')
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "No data directory");
      return FALSE;
    }
  if (config->max_frame_size < 1024 || config->max_body_size < 1024)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           "max_frame_size and max_body_size must be at least 1024");
      return FALSE;
    }
  if (config->commit_batch_max == 0 || config->sync_batch == 0 || config->hash_threads == 0 ||
      config->max_members < 2 || config->send_queue_max < 65536 || config->session_days == 0 ||
      config->session_purge_interval == 0 || config->media_uploads_at_once == 0)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           "commit_batch_max, sync_batch, hash_threads, session_days, "
                           "session_purge_interval and uploads_at_once must be "
                           "positive, max_members at least 2, send_queue_max at least 65536");
      return FALSE;
    }
  if (config->max_connections == 0 || config->max_connections_per_address == 0 ||
      config->max_header_size < 1024 || config->max_headers < 8 ||
      config->header_timeout == 0 || config->idle_timeout == 0 ||
      config->max_requests_in_flight == 0 || config->login_backoff_max == 0 ||
      config->login_throttle_entries == 0)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           "max_connections, max_connections_per_address, header_timeout, "
                           "idle_timeout, max_requests_in_flight, login_backoff_max and "
                           "login_throttle_entries must be positive, "
                           "max_header_size at least 1024, max_headers at least 8");
      return FALSE;
    }
  if (config->media_max_size == 0 || config->media_orphan_expiry == 0 ||
      config->thumbnail_queue == 0 || config->max_image_pixels == 0)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           "[media] max_size, orphan_expiry, thumbnail_queue and "
                           "max_image_pixels must be positive");
      return FALSE;
    }
  if (config->pwhash_opslimit < crypto_pwhash_OPSLIMIT_MIN ||
      config->pwhash_memlimit < crypto_pwhash_MEMLIMIT_MIN)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           "pwhash limits are below libsodium's minimum");
      return FALSE;
    }
  return TRUE;
}
