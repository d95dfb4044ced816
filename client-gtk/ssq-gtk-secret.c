/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-gtk-secret.c: one secret per account and server, keyed by both; the
 * secret is "USER_ID TOKEN". */
#include "ssq-gtk-secret.h"

#include <libsecret/secret.h>
#include <string.h>

static const SecretSchema *
schema (void)
{
  static const SecretSchema the_schema = {
    "org.supersoniq.Supersoniq.Session", SECRET_SCHEMA_NONE,
    {
      { "server", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { "username", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { NULL, 0 },
    }
  };

  return &the_schema;
}

void
ssq_gtk_secret_store_async (const char          *server_url,
                            const char          *username,
                            const char          *user_id,
                            const char          *token,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_autofree char *label = g_strdup_printf ("SupersoniQ: %s on %s", username, server_url);
  g_autofree char *secret = g_strdup_printf ("%s %s", user_id ? user_id : "-", token);

  secret_password_store (schema (), SECRET_COLLECTION_DEFAULT, label, secret, cancellable,
                         callback, user_data, "server", server_url, "username", username, NULL);
  memset (secret, 0, strlen (secret));
}

gboolean
ssq_gtk_secret_store_finish (GAsyncResult  *result,
                             GError       **error)
{
  return secret_password_store_finish (result, error);
}

void
ssq_gtk_secret_lookup_async (const char          *server_url,
                             const char          *username,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  secret_password_lookup (schema (), cancellable, callback, user_data,
                          "server", server_url, "username", username, NULL);
}

/* FALSE without an error when there is no saved session. */
gboolean
ssq_gtk_secret_lookup_finish (GAsyncResult  *result,
                              char         **out_user_id,
                              char         **out_token,
                              GError       **error)
{
  char *secret = secret_password_lookup_finish (result, error);
  char *space;

  if (secret == NULL)
    return FALSE;
  space = strchr (secret, ' ');
  if (space == NULL)
    {
      secret_password_free (secret);
      return FALSE;
    }
  *out_user_id = g_strcmp0 (secret, "-") == 0 ? NULL : g_strndup (secret, space - secret);
  if (g_str_has_prefix (secret, "- "))
    g_clear_pointer (out_user_id, g_free);
  *out_token = g_strdup (space + 1);
  secret_password_free (secret);
  return TRUE;
}

void
ssq_gtk_secret_clear (const char *server_url,
                      const char *username)
{
  secret_password_clear (schema (), NULL, NULL, NULL, "server", server_url, "username", username, NULL);
}
