/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-gtk-secret.h: the desktop client's session token in the user's
 * keyring (libsecret), never in a plain file. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

void     ssq_gtk_secret_store_async  (const char          *server_url,
                                      const char          *username,
                                      const char          *user_id,
                                      const char          *token,
                                      GCancellable        *cancellable,
                                      GAsyncReadyCallback  callback,
                                      gpointer             user_data);
gboolean ssq_gtk_secret_store_finish (GAsyncResult        *result,
                                      GError             **error);
void     ssq_gtk_secret_lookup_async (const char          *server_url,
                                      const char          *username,
                                      GCancellable        *cancellable,
                                      GAsyncReadyCallback  callback,
                                      gpointer             user_data);
gboolean ssq_gtk_secret_lookup_finish (GAsyncResult       *result,
                                       char              **out_user_id,
                                       char              **out_token,
                                       GError            **error);
void     ssq_gtk_secret_clear        (const char          *server_url,
                                      const char          *username);

G_END_DECLS
