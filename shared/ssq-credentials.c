/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-credentials.c: sessions in $XDG_CONFIG_HOME/supersoniq/sessions.ini,
 * mode 0600, one group per account and server, plus the account used last. */
#include <glib/gi18n.h>
#include "ssq-credentials.h"
#include "ssq-proto.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#define DEFAULT_GROUP "default"

char *
ssq_credentials_path (void)
{
  return g_build_filename (g_get_user_config_dir (), "supersoniq", "sessions.ini", NULL);
}

static char *
group_name (const char *server_url,
            const char *username)
{
  g_autofree char *lower = g_ascii_strdown (username, -1);

  return g_strdup_printf ("%s@%s", lower, server_url);
}

static GKeyFile *
load_file (GError **error)
{
  g_autoptr(GKeyFile) file = g_key_file_new ();
  g_autofree char *path = ssq_credentials_path ();
  g_autoptr(GError) local = NULL;

  if (!g_key_file_load_from_file (file, path, G_KEY_FILE_NONE, &local) &&
      !g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
    {
      g_set_error (error, SSQ_ERROR, SSQ_ERROR_INTERNAL, _("Cannot read %s: %s"), path, local->message);
      return NULL;
    }
  return g_steal_pointer (&file);
}

static gboolean
write_file (GKeyFile  *file,
            GError   **error)
{
  g_autofree char *path = ssq_credentials_path ();
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *data = NULL;
  gsize len;
  g_autoptr(GError) local = NULL;

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved = errno;

      g_set_error (error, SSQ_ERROR, SSQ_ERROR_INTERNAL, _("Cannot create %s: %s"), dir,
                   g_strerror (saved));
      return FALSE;
    }
  data = g_key_file_to_data (file, &len, NULL);
  /* Written whole and renamed into place, never readable by others. */
  if (!g_file_set_contents_full (path, data, len,
                                 G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
                                 0600, &local))
    {
      g_set_error (error, SSQ_ERROR, SSQ_ERROR_INTERNAL, _("Cannot write %s: %s"), path, local->message);
      return FALSE;
    }
  return TRUE;
}

/* Saves a session and makes it the one used when none is named. */
gboolean
ssq_credentials_save (const SsqCredentials  *credentials,
                      GError               **error)
{
  g_autoptr(GKeyFile) file = load_file (error);
  g_autofree char *group = NULL;

  g_return_val_if_fail (credentials != NULL && credentials->server_url != NULL &&
                        credentials->username != NULL && credentials->token != NULL, FALSE);
  if (file == NULL)
    return FALSE;
  group = group_name (credentials->server_url, credentials->username);
  g_key_file_set_string (file, group, "server", credentials->server_url);
  g_key_file_set_string (file, group, "username", credentials->username);
  if (credentials->user_id != NULL)
    g_key_file_set_string (file, group, "user_id", credentials->user_id);
  g_key_file_set_string (file, group, "token", credentials->token);
  g_key_file_set_string (file, DEFAULT_GROUP, "account", group);
  return write_file (file, error);
}

/* The first account matching what is given (either may be NULL); the
 * default account first. */
static char *
find_group (GKeyFile   *file,
            const char *server_url,
            const char *username)
{
  g_autofree char *preferred = g_key_file_get_string (file, DEFAULT_GROUP, "account", NULL);
  g_auto(GStrv) groups = g_key_file_get_groups (file, NULL);

  for (int pass = 0; pass < 2; pass++)
    for (guint i = 0; groups[i] != NULL; i++)
      {
        g_autofree char *server = g_key_file_get_string (file, groups[i], "server", NULL);
        g_autofree char *user = g_key_file_get_string (file, groups[i], "username", NULL);

        if (server == NULL || user == NULL)
          continue;
        if (pass == 0 && g_strcmp0 (groups[i], preferred) != 0)
          continue;
        if ((server_url == NULL || strcmp (server, server_url) == 0) &&
            (username == NULL || g_ascii_strcasecmp (user, username) == 0))
          return g_strdup (groups[i]);
      }
  return NULL;
}

/**
 * ssq_credentials_load:
 * @server_url: (nullable): the server, or any
 * @username: (nullable): the account, or any
 *
 * Returns: (transfer full): the matching session, the one used last
 *   preferred; NULL with SSQ_ERROR_UNAUTHORIZED when there is none.
 */
SsqCredentials *
ssq_credentials_load (const char  *server_url,
                      const char  *username,
                      GError     **error)
{
  g_autoptr(GKeyFile) file = load_file (error);
  g_autofree char *group = NULL;
  SsqCredentials *credentials;

  if (file == NULL)
    return NULL;
  group = find_group (file, server_url, username);
  if (group == NULL)
    {
      g_set_error (error, SSQ_ERROR, SSQ_ERROR_UNAUTHORIZED, _("Not logged in%s%s"),
                   server_url ? " to " : "", server_url ? server_url : "");
      return NULL;
    }
  credentials = g_new0 (SsqCredentials, 1);
  credentials->server_url = g_key_file_get_string (file, group, "server", NULL);
  credentials->username = g_key_file_get_string (file, group, "username", NULL);
  credentials->user_id = g_key_file_get_string (file, group, "user_id", NULL);
  credentials->token = g_key_file_get_string (file, group, "token", NULL);
  if (credentials->token == NULL)
    {
      ssq_credentials_free (credentials);
      g_set_error (error, SSQ_ERROR, SSQ_ERROR_UNAUTHORIZED, _("The saved session has no token"));
      return NULL;
    }
  return credentials;
}

gboolean
ssq_credentials_remove (const char  *server_url,
                        const char  *username,
                        GError     **error)
{
  g_autoptr(GKeyFile) file = load_file (error);
  g_autofree char *group = NULL;
  g_autofree char *preferred = NULL;

  if (file == NULL)
    return FALSE;
  group = group_name (server_url, username);
  if (!g_key_file_has_group (file, group))
    return TRUE;
  g_key_file_remove_group (file, group, NULL);
  preferred = g_key_file_get_string (file, DEFAULT_GROUP, "account", NULL);
  if (g_strcmp0 (preferred, group) == 0)
    g_key_file_remove_key (file, DEFAULT_GROUP, "account", NULL);
  return write_file (file, error);
}

void
ssq_credentials_free (SsqCredentials *credentials)
{
  if (credentials == NULL)
    return;
  g_free (credentials->server_url);
  g_free (credentials->username);
  g_free (credentials->user_id);
  if (credentials->token != NULL)
    memset (credentials->token, 0, strlen (credentials->token));
  g_free (credentials->token);
  g_free (credentials);
}
