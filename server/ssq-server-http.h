/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-http.h: helpers shared by the REST route files. */
#pragma once

#include "ssq-server-private.h"

G_BEGIN_DECLS

#define SSQ_HTTP_OK          200
#define SSQ_HTTP_CREATED     201
#define SSQ_HTTP_NO_CONTENT  204

/* One REST request. The answer set by ssq_request_reply() goes out when the
 * request is freed, so a handler that finishes later (a password hash, a
 * group commit) keeps the request until then. */
typedef struct {
  SsqServer         *server;
  SsqNetRequest     *net;
  guint              status;     /* of the reply; 0 until one is set */
  char              *reply;
  gsize              reply_len;
  char              *reply_headers;
  char              *user_id;    /* NULL on routes without authentication */
  char              *token;
  char             **segments;   /* path below /api/v1/, split on '/' */
  GHashTable        *query;
  JsonObject        *body;       /* NULL without a body */
  gboolean           unread_body; /* the body is not read (yet): the reply closes the connection */
} SsqRequest;

typedef void (*SsqRouteFunc) (SsqRequest *request);

void ssq_request_free        (SsqRequest    *request);
void ssq_request_reply       (SsqRequest    *request,
                              guint          status,
                              JsonObject    *body);
void ssq_request_reply_text  (SsqRequest    *request,
                              guint          status,
                              GString       *body);
void ssq_request_reply_error (SsqRequest    *request,
                              const GError  *error);
const char *ssq_request_peer (SsqRequest    *request);
void ssq_request_reply_file  (SsqRequest    *request,
                              guint          status,
                              const char    *content_type,
                              int            fd,
                              goffset        offset,
                              goffset        length);
gboolean ssq_request_query_int (SsqRequest  *request,
                                const char  *name,
                                gint64       min,
                                gint64       max,
                                gint64      *out_value,
                                GError     **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsqRequest, ssq_request_free)

/* Route handlers (ssq-server-api-*.c) */
void ssq_api_server_info           (SsqRequest *request);
void ssq_api_register              (SsqRequest *request);
void ssq_api_login                 (SsqRequest *request);
void ssq_api_invites_create        (SsqRequest *request);
void ssq_api_invites_list          (SsqRequest *request);
void ssq_api_invites_revoke        (SsqRequest *request);
void ssq_api_logout                (SsqRequest *request);
void ssq_api_password_reset        (SsqRequest *request);
void ssq_api_me_get                (SsqRequest *request);
void ssq_api_me_patch              (SsqRequest *request);
void ssq_api_me_delete             (SsqRequest *request);
void ssq_api_users                 (SsqRequest *request);
void ssq_api_conversations_list    (SsqRequest *request);
void ssq_api_conversations_create  (SsqRequest *request);
void ssq_api_conversation_get      (SsqRequest *request);
void ssq_api_conversation_patch    (SsqRequest *request);
void ssq_api_member_add            (SsqRequest *request);
void ssq_api_member_remove         (SsqRequest *request);
void ssq_api_messages_list         (SsqRequest *request);
void ssq_api_messages_post         (SsqRequest *request);
void ssq_api_message_patch         (SsqRequest *request);
void ssq_api_message_delete        (SsqRequest *request);
/* Media (ssq-server-api-media.c). The upload is a head route: it runs
 * when the headers are complete and streams the body. */
void ssq_api_media_upload          (SsqRequest *request);
void ssq_api_media_upload_buffered (SsqRequest *request);
void ssq_api_media_get             (SsqRequest *request);
void ssq_api_media_thumbnail       (SsqRequest *request);
/* Queues (ssq-server-api-queues.c). */
void ssq_api_queues_list           (SsqRequest *request);
void ssq_api_queue_declare         (SsqRequest *request);
void ssq_api_queue_get             (SsqRequest *request);
void ssq_api_queue_delete          (SsqRequest *request);
void ssq_api_queue_purge           (SsqRequest *request);
void ssq_api_queue_publish         (SsqRequest *request);
void ssq_api_queue_get_messages    (SsqRequest *request);
void ssq_api_queue_ack             (SsqRequest *request);
void ssq_api_queue_nack            (SsqRequest *request);

G_END_DECLS
