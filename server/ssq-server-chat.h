/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-chat.h: the chat operations, shared by the REST routes and the
 * WebSocket frames so that both follow exactly the same rules. */
#pragma once

#include "ssq-server-private.h"

G_BEGIN_DECLS

typedef struct {
  char   *conversation_id;
  char   *client_id;
  char   *body;
  gint64  reply_to;
  char  **media_ids;    /* NULL-terminated, in order; NULL: none */
} SsqSendRequest;

void      ssq_send_request_clear (SsqSendRequest *request);

/* @message is NULL on error; @duplicate tells a resend of a stored client_id. */
typedef void (*SsqChatSendDone) (SsqServer           *server,
                                 const SsqMessageRow *message,
                                 gboolean             duplicate,
                                 const GError        *error,
                                 gpointer             user_data);
/* @page is the history's GString given back (transfer full), NULL on error. */
typedef void (*SsqChatHistoryDone) (SsqServer          *server,
                                    GString            *page,
                                    gboolean            has_more,
                                    const GError       *error,
                                    gpointer            user_data);
typedef void (*SsqChatDone)     (SsqServer           *server,
                                 const GError        *error,
                                 gpointer             user_data);
/* A conversation change: @created tells a conversation made (FALSE for a
 * direct conversation that existed already, and for other changes). */
typedef void (*SsqChatChangeDone) (SsqServer         *server,
                                   const char        *conversation_id,
                                   gboolean           created,
                                   const GError      *error,
                                   gpointer           user_data);

gboolean  ssq_server_chat_parse_send    (JsonObject      *request,
                                         SsqSendRequest  *out,
                                         GError         **error);
void      ssq_server_chat_send          (SsqServer       *server,
                                         const char      *user_id,
                                         SsqSendRequest  *request,
                                         SsqChatSendDone  done,
                                         gpointer         user_data,
                                         GDestroyNotify   user_data_free);
void      ssq_server_chat_mark          (SsqServer       *server,
                                         const char      *user_id,
                                         const char      *conversation_id,
                                         gint64           delivered_seq,
                                         gint64           read_seq,
                                         SsqChatDone      done,
                                         gpointer         user_data,
                                         GDestroyNotify   user_data_free);

gboolean  ssq_server_chat_charge        (SsqServer       *server,
                                         const char      *user_id,
                                         GError         **error);

SsqMemberRow *ssq_server_chat_require_member (SsqServer  *server,
                                              const char *conversation_id,
                                              const char *user_id,
                                              GError    **error);

void      ssq_server_chat_create        (SsqServer         *server,
                                         const char        *user_id,
                                         JsonObject        *request,
                                         SsqChatChangeDone  done,
                                         gpointer           user_data,
                                         GDestroyNotify     user_data_free);
void      ssq_server_chat_update        (SsqServer         *server,
                                         const char        *user_id,
                                         const char        *conversation_id,
                                         JsonObject        *request,
                                         SsqChatChangeDone  done,
                                         gpointer           user_data,
                                         GDestroyNotify     user_data_free);
void      ssq_server_chat_add_member    (SsqServer         *server,
                                         const char        *user_id,
                                         const char        *conversation_id,
                                         JsonObject        *request,
                                         SsqChatChangeDone  done,
                                         gpointer           user_data,
                                         GDestroyNotify     user_data_free);
void      ssq_server_chat_remove_member (SsqServer         *server,
                                         const char        *user_id,
                                         const char        *conversation_id,
                                         const char        *username,
                                         SsqChatChangeDone  done,
                                         gpointer           user_data,
                                         GDestroyNotify     user_data_free);
void      ssq_server_chat_leave_uncharged (SsqServer         *server,
                                           const char        *user_id,
                                           const char        *conversation_id,
                                           const char        *username,
                                           SsqChatChangeDone  done,
                                           gpointer           user_data,
                                           GDestroyNotify     user_data_free);
void      ssq_server_chat_set_role      (SsqServer         *server,
                                         const char        *conversation_id,
                                         const char        *user_id,
                                         const char        *role,
                                         SsqChatChangeDone  done,
                                         gpointer           user_data,
                                         GDestroyNotify     user_data_free);
void      ssq_server_chat_edit          (SsqServer       *server,
                                         const char      *user_id,
                                         const char      *conversation_id,
                                         gint64           seq,
                                         const char      *body,
                                         gboolean         delete,
                                         SsqChatSendDone  done,
                                         gpointer         user_data,
                                         GDestroyNotify   user_data_free);
gboolean   ssq_server_chat_history      (SsqServer       *server,
                                         const char      *user_id,
                                         const char      *conversation_id,
                                         gint64           before,
                                         gint64           after,
                                         guint            limit,
                                         GString         *out,
                                         SsqChatHistoryDone done,
                                         gpointer         user_data,
                                         GError         **error);

/* Events (ssq-server-chat-events.c) */
void      ssq_server_chat_emit_conversation (SsqServer   *server,
                                             const char  *conversation_id);
void      ssq_server_chat_emit_removed      (SsqServer   *server,
                                             const char  *conversation_id,
                                             const char  *user_id);
void      ssq_server_chat_emit_message      (SsqServer           *server,
                                             const SsqMessageRow *message,
                                             gboolean             is_new);

G_END_DECLS
