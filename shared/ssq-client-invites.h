/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-client-invites.h: a server admin's invites (POST, GET and DELETE
 * /api/v1/invites) through SsqClient. */
#pragma once

#include "ssq-client.h"

G_BEGIN_DECLS

typedef struct {
  char   *id;
  char   *token;        /* only in the answer to create: the server keeps a hash */
  char   *link;         /* likewise */
  gint64  created_at;
  gint64  expires_at;
  gint64  uses_left;
  gint64  uses;         /* registrations made with it so far */
  char   *created_by;   /* a username; NULL: made on the administration socket */
} SsqInvite;

void        ssq_invite_free                (SsqInvite          *invite);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsqInvite, ssq_invite_free)

void        ssq_client_create_invite_async (SsqClient          *self,
                                            guint               uses,
                                            gint64              expires_in_s,
                                            GCancellable       *cancellable,
                                            GAsyncReadyCallback callback,
                                            gpointer            user_data);
SsqInvite  *ssq_client_create_invite_finish (SsqClient         *self,
                                             GAsyncResult      *result,
                                             GError           **error);
void        ssq_client_list_invites_async  (SsqClient          *self,
                                            GCancellable       *cancellable,
                                            GAsyncReadyCallback callback,
                                            gpointer            user_data);
GPtrArray  *ssq_client_list_invites_finish (SsqClient          *self,
                                            GAsyncResult       *result,
                                            GError            **error);
void        ssq_client_revoke_invite_async (SsqClient          *self,
                                            const char         *id,
                                            GCancellable       *cancellable,
                                            GAsyncReadyCallback callback,
                                            gpointer            user_data);
gboolean    ssq_client_revoke_invite_finish (SsqClient         *self,
                                             GAsyncResult      *result,
                                             GError           **error);
void        ssq_client_check_server_admin_async  (SsqClient          *self,
                                                  GCancellable       *cancellable,
                                                  GAsyncReadyCallback callback,
                                                  gpointer            user_data);
gboolean    ssq_client_check_server_admin_finish (SsqClient          *self,
                                                  GAsyncResult       *result,
                                                  gboolean           *out_admin,
                                                  GError            **error);
gboolean    ssq_parse_duration             (const char         *text,
                                            gint64             *out_seconds,
                                            GError            **error);

G_END_DECLS
