/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-credentials.h: where the terminal client and supersoniq-cli keep
 * sessions: a key file readable only by the user under the XDG config
 * directory. (The desktop client keeps its token with libsecret.) */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  char *server_url;
  char *username;
  char *user_id;
  char *token;
} SsqCredentials;

char           *ssq_credentials_path    (void);
gboolean        ssq_credentials_save    (const SsqCredentials *credentials,
                                         GError              **error);
SsqCredentials *ssq_credentials_load    (const char           *server_url,
                                         const char           *username,
                                         GError              **error);
gboolean        ssq_credentials_remove  (const char           *server_url,
                                         const char           *username,
                                         GError              **error);
void            ssq_credentials_free    (SsqCredentials       *credentials);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsqCredentials, ssq_credentials_free)

G_END_DECLS
