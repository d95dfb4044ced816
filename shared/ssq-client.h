/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-client.h: the client core both user interfaces are views over: one
 * account's connection to a server, its local cache, outbox, sync and the
 * events that come in. Everything is applied to the cache before a signal
 * is emitted, so views only ever read the cache. */
#pragma once

#include <gio/gio.h>

#include "ssq-cache.h"
#include "ssq-conversation.h"
#include "ssq-media.h"
#include "ssq-message.h"
#include "ssq-transfer.h"
#include "ssq-user.h"

G_BEGIN_DECLS

typedef enum {
  SSQ_CLIENT_DISCONNECTED,
  SSQ_CLIENT_CONNECTING,
  SSQ_CLIENT_ONLINE,
  SSQ_CLIENT_WAITING,       /* waiting to reconnect */
} SsqClientState;

#define SSQ_TYPE_CLIENT_STATE (ssq_client_state_get_type ())
GType ssq_client_state_get_type (void);

/* The download cache's cap unless set ("media-cache-size"): 500 MiB. */
#define SSQ_CLIENT_MEDIA_CACHE_SIZE_DEFAULT (G_GUINT64_CONSTANT (500) * 1024 * 1024)

#define SSQ_TYPE_CLIENT (ssq_client_get_type ())
G_DECLARE_FINAL_TYPE (SsqClient, ssq_client, SSQ, CLIENT, GObject)

SsqClient      *ssq_client_new              (const char     *server_url,
                                             const char     *data_dir);
const char     *ssq_client_get_server_url   (SsqClient      *self);
SsqClientState  ssq_client_get_state        (SsqClient      *self);
const char     *ssq_client_get_user_id      (SsqClient      *self);
const char     *ssq_client_get_username     (SsqClient      *self);
const char     *ssq_client_get_token        (SsqClient      *self);
SsqCache       *ssq_client_get_cache        (SsqClient      *self);
gboolean        ssq_client_is_synced        (SsqClient      *self);

/* The session: set by register and login, or restored from where the
 * application keeps its token. Opens the account's cache. */
gboolean        ssq_client_set_session      (SsqClient      *self,
                                             const char     *username,
                                             const char     *user_id,
                                             const char     *token,
                                             GError        **error);
void            ssq_client_register_async   (SsqClient      *self,
                                             const char     *username,
                                             const char     *password,
                                             const char     *display_name,
                                             GCancellable   *cancellable,
                                             GAsyncReadyCallback callback,
                                             gpointer        user_data);
void            ssq_client_register_with_invite_async (SsqClient      *self,
                                             const char     *username,
                                             const char     *password,
                                             const char     *display_name,
                                             const char     *invite,
                                             GCancellable   *cancellable,
                                             GAsyncReadyCallback callback,
                                             gpointer        user_data);
gboolean        ssq_client_register_finish  (SsqClient      *self,
                                             GAsyncResult   *result,
                                             GError        **error);
void            ssq_client_login_async      (SsqClient      *self,
                                             const char     *username,
                                             const char     *password,
                                             GCancellable   *cancellable,
                                             GAsyncReadyCallback callback,
                                             gpointer        user_data);
gboolean        ssq_client_login_finish     (SsqClient      *self,
                                             GAsyncResult   *result,
                                             GError        **error);
void            ssq_client_reset_password_async  (SsqClient      *self,
                                                  const char     *username,
                                                  const char     *code,
                                                  const char     *new_password,
                                                  GCancellable   *cancellable,
                                                  GAsyncReadyCallback callback,
                                                  gpointer        user_data);
gboolean        ssq_client_reset_password_finish (SsqClient      *self,
                                                  GAsyncResult   *result,
                                                  GError        **error);
void            ssq_client_logout_async     (SsqClient      *self,
                                             GCancellable   *cancellable,
                                             GAsyncReadyCallback callback,
                                             gpointer        user_data);
gboolean        ssq_client_logout_finish    (SsqClient      *self,
                                             GAsyncResult   *result,
                                             GError        **error);

/* Trusting the server (ssq-client-trust.c; ssq-trust.h): its TLS key is
 * pinned on first use, with the person's consent, or beforehand from a
 * trusted source; a changed key is refused. */
gboolean        ssq_client_trust_server     (SsqClient      *self,
                                             const char     *url,
                                             const char     *fingerprint,
                                             GError        **error);
gboolean        ssq_client_forget_server    (SsqClient      *self,
                                             const char     *url,
                                             gboolean       *out_found,
                                             GError        **error);
void            ssq_client_check_server_async  (SsqClient      *self,
                                                GCancellable   *cancellable,
                                                GAsyncReadyCallback callback,
                                                gpointer        user_data);
gboolean        ssq_client_check_server_finish (SsqClient      *self,
                                                GAsyncResult   *result,
                                                GError        **error);
const char     *ssq_client_get_known_servers (SsqClient     *self);

/* The connection: connect keeps the client online, reconnecting with
 * backoff, until disconnect. */
void            ssq_client_connect          (SsqClient      *self);
void            ssq_client_disconnect       (SsqClient      *self);

/* Messages. */
SsqMessage     *ssq_client_send_message     (SsqClient      *self,
                                             const char     *conversation_id,
                                             const char     *body,
                                             gint64          reply_to,
                                             GError        **error);
gboolean        ssq_client_retry_message    (SsqClient      *self,
                                             const char     *client_id,
                                             GError        **error);
gboolean        ssq_client_discard_message  (SsqClient      *self,
                                             const char     *client_id,
                                             GError        **error);
void            ssq_client_edit_message_async   (SsqClient    *self,
                                                 const char   *conversation_id,
                                                 gint64        seq,
                                                 const char   *body,
                                                 GCancellable *cancellable,
                                                 GAsyncReadyCallback callback,
                                                 gpointer      user_data);
SsqMessage     *ssq_client_edit_message_finish  (SsqClient    *self,
                                                 GAsyncResult *result,
                                                 GError      **error);
void            ssq_client_delete_message_async (SsqClient    *self,
                                                 const char   *conversation_id,
                                                 gint64        seq,
                                                 GCancellable *cancellable,
                                                 GAsyncReadyCallback callback,
                                                 gpointer      user_data);
gboolean        ssq_client_delete_message_finish (SsqClient   *self,
                                                  GAsyncResult *result,
                                                  GError     **error);
void            ssq_client_load_older_async  (SsqClient     *self,
                                              const char    *conversation_id,
                                              gint64         before_seq,
                                              guint          limit,
                                              GCancellable  *cancellable,
                                              GAsyncReadyCallback callback,
                                              gpointer       user_data);
GPtrArray      *ssq_client_load_older_finish (SsqClient     *self,
                                              GAsyncResult  *result,
                                              GError       **error);
GPtrArray      *ssq_client_search           (SsqClient      *self,
                                             const char     *text,
                                             const char     *conversation_id,
                                             guint           limit,
                                             GError        **error);

/* Messages with attachments (ssq-client-attachments.c): the files are
 * copied into the outbox, uploaded when the message's turn comes, then
 * the message is sent. */
void            ssq_client_send_message_with_media_async  (SsqClient    *self,
                                                           const char   *conversation_id,
                                                           const char   *body,
                                                           gint64        reply_to,
                                                           GFile *const *files,
                                                           guint         n_files,
                                                           GCancellable *cancellable,
                                                           GAsyncReadyCallback callback,
                                                           gpointer      user_data);
SsqMessage     *ssq_client_send_message_with_media_finish (SsqClient    *self,
                                                           GAsyncResult *result,
                                                           GError      **error);
SsqTransfer    *ssq_client_get_outbox_transfer (SsqClient    *self,
                                                const char   *client_id);
gboolean        ssq_client_remove_attachment   (SsqClient    *self,
                                                const char   *client_id,
                                                guint         position,
                                                GError      **error);

/* Media on their own: uploads (ssq-client-upload.c), and downloads into
 * the account's download cache (ssq-client-download.c), whose size is
 * capped ("media-cache-size"), least recently used first out. Each
 * returns the operation's progress, which also cancels it. */
SsqTransfer    *ssq_client_upload_async     (SsqClient      *self,
                                             GFile          *file,
                                             const char     *name,
                                             GCancellable   *cancellable,
                                             GAsyncReadyCallback callback,
                                             gpointer        user_data);
SsqMedia       *ssq_client_upload_finish    (SsqClient      *self,
                                             GAsyncResult   *result,
                                             GError        **error);
SsqTransfer    *ssq_client_download_async   (SsqClient      *self,
                                             const char     *media_id,
                                             GCancellable   *cancellable,
                                             GAsyncReadyCallback callback,
                                             gpointer        user_data);
GFile          *ssq_client_download_finish  (SsqClient      *self,
                                             GAsyncResult   *result,
                                             GError        **error);
SsqTransfer    *ssq_client_fetch_thumbnail_async  (SsqClient      *self,
                                                   const char     *media_id,
                                                   GCancellable   *cancellable,
                                                   GAsyncReadyCallback callback,
                                                   gpointer        user_data);
GFile          *ssq_client_fetch_thumbnail_finish (SsqClient      *self,
                                                   GAsyncResult   *result,
                                                   GError        **error);
GFile          *ssq_client_lookup_media     (SsqClient      *self,
                                             const char     *media_id,
                                             gboolean        thumbnail);
const char     *ssq_client_get_media_dir    (SsqClient      *self);
void            ssq_client_set_media_cache_size (SsqClient  *self,
                                                 guint64     size);

/* Conversations. */
void            ssq_client_fetch_conversations_async  (SsqClient    *self,
                                                       GCancellable *cancellable,
                                                       GAsyncReadyCallback callback,
                                                       gpointer      user_data);
GPtrArray      *ssq_client_fetch_conversations_finish (SsqClient    *self,
                                                       GAsyncResult *result,
                                                       GError      **error);
void            ssq_client_create_direct_async  (SsqClient      *self,
                                                 const char     *username,
                                                 GCancellable   *cancellable,
                                                 GAsyncReadyCallback callback,
                                                 gpointer        user_data);
void            ssq_client_create_group_async   (SsqClient      *self,
                                                 const char     *title,
                                                 const char *const *usernames,
                                                 GCancellable   *cancellable,
                                                 GAsyncReadyCallback callback,
                                                 gpointer        user_data);
void            ssq_client_update_conversation_async (SsqClient *self,
                                                      const char *conversation_id,
                                                      const char *title,
                                                      int         muted,
                                                      GCancellable *cancellable,
                                                      GAsyncReadyCallback callback,
                                                      gpointer    user_data);
void            ssq_client_add_member_async     (SsqClient      *self,
                                                 const char     *conversation_id,
                                                 const char     *username,
                                                 const char     *role,
                                                 GCancellable   *cancellable,
                                                 GAsyncReadyCallback callback,
                                                 gpointer        user_data);
SsqConversation *ssq_client_conversation_finish (SsqClient      *self,
                                                 GAsyncResult   *result,
                                                 GError        **error);
void            ssq_client_remove_member_async  (SsqClient      *self,
                                                 const char     *conversation_id,
                                                 const char     *username,
                                                 GCancellable   *cancellable,
                                                 GAsyncReadyCallback callback,
                                                 gpointer        user_data);
gboolean        ssq_client_remove_member_finish (SsqClient      *self,
                                                 GAsyncResult   *result,
                                                 GError        **error);
void            ssq_client_search_users_async   (SsqClient      *self,
                                                 const char     *prefix,
                                                 guint           limit,
                                                 GCancellable   *cancellable,
                                                 GAsyncReadyCallback callback,
                                                 gpointer        user_data);
GPtrArray      *ssq_client_search_users_finish  (SsqClient      *self,
                                                 GAsyncResult   *result,
                                                 GError        **error);

/* What the user does: read markers, typing, presence. */
void            ssq_client_mark_read        (SsqClient      *self,
                                             const char     *conversation_id,
                                             gint64          seq);
void            ssq_client_set_typing       (SsqClient      *self,
                                             const char     *conversation_id,
                                             gboolean        active);
GStrv           ssq_client_get_typing       (SsqClient      *self,
                                             const char     *conversation_id);
void            ssq_client_set_presence     (SsqClient      *self,
                                             const char     *status);
const char     *ssq_client_get_presence     (SsqClient      *self);
void            ssq_client_report_activity  (SsqClient      *self);

G_END_DECLS
