/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-wire.h: the one codec of protocol v1: every frame and object as a C
 * struct, with its encoder and decoder, shared by the server, the client
 * library and the CLI. */
#pragma once

#include <json-glib/json-glib.h>

#include "ssq-proto.h"

G_BEGIN_DECLS

/**
 * SsqFrameType:
 * Every frame type of the protocol; the names are in one table
 * (ssq_wire_frame_name()). `typing` and `presence` go both ways.
 */
typedef enum {
  SSQ_FRAME_TYPE_SEND,
  SSQ_FRAME_TYPE_SYNC,
  SSQ_FRAME_TYPE_RECEIVED,
  SSQ_FRAME_TYPE_READ,
  SSQ_FRAME_TYPE_TYPING,
  SSQ_FRAME_TYPE_PRESENCE,
  SSQ_FRAME_TYPE_PING,
  SSQ_FRAME_TYPE_WELCOME,
  SSQ_FRAME_TYPE_ACK,
  SSQ_FRAME_TYPE_ERROR,
  SSQ_FRAME_TYPE_PONG,
  SSQ_FRAME_TYPE_MESSAGE,
  SSQ_FRAME_TYPE_CONVERSATION,
  SSQ_FRAME_TYPE_CONVERSATION_REMOVED,
  SSQ_FRAME_TYPE_RECEIPT,
  SSQ_FRAME_TYPE_NOTIFICATION,
  SSQ_FRAME_TYPE_QUEUE_PUBLISH,
  SSQ_FRAME_TYPE_QUEUE_SUBSCRIBE,
  SSQ_FRAME_TYPE_QUEUE_UNSUBSCRIBE,
  SSQ_FRAME_TYPE_QUEUE_ACK,
  SSQ_FRAME_TYPE_QUEUE_NACK,
  SSQ_FRAME_TYPE_QUEUE_MESSAGE,
  SSQ_FRAME_TYPE_QUEUE_CANCELLED,
  SSQ_FRAME_TYPE_N,
} SsqFrameType;

/* Which side may send a frame type. */
typedef enum {
  SSQ_WIRE_FROM_CLIENT = 1 << 0,
  SSQ_WIRE_FROM_SERVER = 1 << 1,
} SsqWireDirection;

const char *ssq_wire_frame_name       (SsqFrameType      type);
gboolean    ssq_wire_frame_from_name  (const char       *name,
                                       SsqWireDirection  direction,
                                       SsqFrameType     *out_type);

/* Every struct below borrows its strings and JSON parts: from the caller
 * when encoding, from the decoded JsonObject (which must outlive it) when
 * decoding. Integer fields that the wire may send as null read 0. */

/* user: {"id","username","display_name","presence","last_seen"|null,"deleted"?,
 * "server_admin"?}; server_admin only in the account's own GET and PATCH /me. */
typedef struct {
  const char *id;
  const char *username;
  const char *display_name;
  const char *presence;
  gint64      last_seen;
  gboolean    deleted;
  gboolean    server_admin;
} SsqWireUser;

/* member: {"user","role","delivered_seq","read_seq"} */
typedef struct {
  JsonObject *user;
  const char *role;
  gint64      delivered_seq;
  gint64      read_seq;
} SsqWireMember;

/* conversation: see shared/PROTOCOL.md, Objects. */
typedef struct {
  const char *id;
  const char *kind;
  const char *title;
  JsonArray  *members;
  gint64      last_seq;
  gint64      rev;
  gint64      read_seq;
  gint64      delivered_seq;
  gint64      unread;
  gboolean    muted;
  const char *role;
  gint64      created_at;
  gint64      updated_at;
} SsqWireConversation;

/* media: {"id","name","mime","size","width"|null,"height"|null,"thumbnail"};
 * width and height are 0 while unknown (null on the wire); thumbnail says
 * whether GET /api/v1/media/{id}/thumbnail has one (absent: FALSE). */
typedef struct {
  const char *id;
  const char *name;
  const char *mime;
  gint64      size;
  gint64      width;
  gint64      height;
  gboolean    thumbnail;
} SsqWireMedia;

/* message: see shared/PROTOCOL.md, Objects. */
typedef struct {
  const char *id;
  const char *conversation_id;
  gint64      seq;
  const char *sender;
  const char *client_id;
  const char *body;
  gint64      created_at;
  gint64      edited_at;
  gboolean    deleted;
  gint64      reply_to;
  gint64      rev;
  JsonArray  *media;     /* media objects (ssq_wire_media_decode () reads each); NULL: none */
} SsqWireMessage;

JsonObject *ssq_wire_user_encode          (const SsqWireUser         *user);
gboolean    ssq_wire_user_decode          (JsonObject                *object,
                                           SsqWireUser               *out,
                                           GError                   **error);
JsonObject *ssq_wire_member_encode        (const SsqWireMember       *member);
gboolean    ssq_wire_member_decode        (JsonObject                *object,
                                           SsqWireMember             *out,
                                           GError                   **error);
JsonObject *ssq_wire_conversation_encode  (const SsqWireConversation *conversation);
gboolean    ssq_wire_conversation_decode  (JsonObject                *object,
                                           SsqWireConversation       *out,
                                           GError                   **error);
JsonObject *ssq_wire_media_encode         (const SsqWireMedia        *media);
gboolean    ssq_wire_media_decode         (JsonObject                *object,
                                           SsqWireMedia              *out,
                                           GError                   **error);
void        ssq_wire_media_list_write     (GString                   *out,
                                           JsonArray                 *media);
JsonObject *ssq_wire_message_encode       (const SsqWireMessage      *message);
void        ssq_wire_message_write        (GString                   *out,
                                           const SsqWireMessage      *message);
gboolean    ssq_wire_message_decode       (JsonObject                *object,
                                           SsqWireMessage            *out,
                                           GError                   **error);

/* ---- Frames ------------------------------------------------------------ */

/* Every frame: its type and its request id (a string or an integer; NULL
 * when absent). */
typedef struct {
  SsqFrameType type;
  JsonNode    *id;
} SsqWireHead;

gboolean    ssq_wire_head_decode          (JsonObject       *frame,
                                           SsqWireDirection  from,
                                           SsqWireHead      *out,
                                           GError          **error);

/* welcome: {"type","user"?,"session_id","server_time","protocol","sync_pages"?};
 * @sync_pages: the server takes a sync about a page of conversations
 * (SsqWireSync's from_id and to_id). */
typedef struct {
  JsonObject *user;
  const char *session_id;
  gint64      server_time;
  gint64      protocol;
  gboolean    sync_pages;
} SsqWireWelcome;

/* ack: {"type","id","message"?,"duplicate"?,"truncated"?,"revs"?,
 * "message_id"?,"subscription"?,"unknown"?}; the last three answer queue
 * frames (queue_publish, queue_subscribe, queue_ack and queue_nack). */
typedef struct {
  JsonNode   *id;
  JsonObject *message;
  gboolean    duplicate;
  JsonArray  *truncated;
  JsonObject *revs;
  gint64      message_id;     /* 0: absent */
  const char *subscription;
  JsonArray  *unknown;        /* delivery tags that were not (or no longer) leased */
} SsqWireAck;

/* error: {"code","message","retry_after_ms"?,"type","id"?} (this order:
 * the error object of REST with the frame's fields after it). */
typedef struct {
  JsonNode   *id;
  const char *code;
  const char *message;
  gint64      retry_after_ms;
} SsqWireError;

/* message, conversation: {"type", key: object}; conversation_removed:
 * {"type","conversation_id"}. */

/* receipt: {"type","conversation_id","user","delivered_seq","read_seq"} */
typedef struct {
  const char *conversation_id;
  const char *user;
  gint64      delivered_seq;
  gint64      read_seq;
} SsqWireReceipt;

/* typing: from the client {"type","conversation_id","active","id"?}, from
 * the server {"type","conversation_id","user","active"}. */
typedef struct {
  JsonNode   *id;
  const char *conversation_id;
  const char *user;
  gboolean    active;
} SsqWireTyping;

/* presence: from the client {"type","status","id"?}, from the server
 * {"type","user","status","last_seen"}. */
typedef struct {
  JsonNode   *id;
  const char *user;
  const char *status;
  gint64      last_seen;
} SsqWirePresence;

/* notification: {"type","conversation_id","seq","reason","sender"} */
typedef struct {
  const char *conversation_id;
  gint64      seq;
  const char *reason;
  const char *sender;
} SsqWireNotification;

/* send: {"type","conversation_id","client_id","body","reply_to"?,"media"?,"id"} */
typedef struct {
  JsonNode   *id;
  const char *conversation_id;
  const char *client_id;
  const char *body;
  gint64      reply_to;
  JsonArray  *media;
} SsqWireSend;

/* received: {"type","conversation_id","seq"}; read: the same with "id". */
typedef struct {
  JsonNode   *id;
  const char *conversation_id;
  gint64      seq;
} SsqWireMark;

/* sync: {"type","since","since_rev"?,"from_id"?,"to_id"?,"id"}: maps of
 * conversation id to a non-negative integer, and the page of conversations
 * the sync is about: ids from @from_id (included) to @to_id (excluded), in
 * byte order; either bound absent: unbounded on that side. */
typedef struct {
  JsonNode   *id;
  JsonObject *since;
  JsonObject *since_rev;
  const char *from_id;
  const char *to_id;
} SsqWireSync;

JsonObject *ssq_wire_welcome_encode       (const SsqWireWelcome      *welcome);
gboolean    ssq_wire_welcome_decode       (JsonObject                *frame,
                                           SsqWireWelcome            *out,
                                           GError                   **error);
JsonObject *ssq_wire_ack_encode           (const SsqWireAck          *ack);
gboolean    ssq_wire_ack_decode           (JsonObject                *frame,
                                           SsqWireAck                *out,
                                           GError                   **error);
JsonObject *ssq_wire_error_encode         (const SsqWireError        *error_frame);
JsonObject *ssq_wire_error_from_gerror    (JsonNode                  *id,
                                           const GError              *error);
JsonObject *ssq_wire_error_object         (const GError              *error);
gboolean    ssq_wire_error_decode         (JsonObject                *frame,
                                           SsqWireError              *out);
JsonObject *ssq_wire_pong_encode          (JsonNode                  *id);
JsonObject *ssq_wire_event_encode         (SsqFrameType               type,
                                           JsonObject                *object);
gboolean    ssq_wire_event_decode         (JsonObject                *frame,
                                           SsqFrameType               type,
                                           JsonObject               **out_object,
                                           GError                   **error);
JsonObject *ssq_wire_removed_encode       (const char                *conversation_id);
gboolean    ssq_wire_removed_decode       (JsonObject                *frame,
                                           const char               **out_conversation_id,
                                           GError                   **error);
JsonObject *ssq_wire_receipt_encode       (const SsqWireReceipt      *receipt);
gboolean    ssq_wire_receipt_decode       (JsonObject                *frame,
                                           SsqWireReceipt            *out,
                                           GError                   **error);
JsonObject *ssq_wire_typing_encode        (const SsqWireTyping       *typing);
gboolean    ssq_wire_typing_decode        (JsonObject                *frame,
                                           SsqWireDirection           from,
                                           SsqWireTyping             *out,
                                           GError                   **error);
JsonObject *ssq_wire_presence_encode      (const SsqWirePresence     *presence);
gboolean    ssq_wire_presence_decode      (JsonObject                *frame,
                                           SsqWireDirection           from,
                                           SsqWirePresence           *out,
                                           GError                   **error);
JsonObject *ssq_wire_notification_encode  (const SsqWireNotification *notification);
gboolean    ssq_wire_notification_decode  (JsonObject                *frame,
                                           SsqWireNotification       *out,
                                           GError                   **error);
JsonObject *ssq_wire_send_encode          (const SsqWireSend         *send);
gboolean    ssq_wire_send_decode          (JsonObject                *frame,
                                           SsqWireSend               *out,
                                           GError                   **error);
JsonObject *ssq_wire_mark_encode          (SsqFrameType               type,
                                           const SsqWireMark         *mark);
gboolean    ssq_wire_mark_decode          (JsonObject                *frame,
                                           SsqWireMark               *out,
                                           GError                   **error);
JsonObject *ssq_wire_sync_encode          (const SsqWireSync         *sync);
gboolean    ssq_wire_sync_decode          (JsonObject                *frame,
                                           SsqWireSync               *out,
                                           GError                   **error);
JsonObject *ssq_wire_ping_encode          (JsonNode                  *id);

/* ---- Queues (ssq-wire-queues.c) ---------------------------------------- */

/* A message to publish: the body of POST /queues/{name}/messages and, with
 * "queue" and "id", the queue_publish frame: {"queue"?,"body"|"body_base64",
 * "content_type"?,"priority"?,"ttl_ms"?,"headers"?,"persistent"?,
 * "correlation_id"?,"reply_to"?,"message_id"?,"id"?}. Headers map names to
 * strings, integers, numbers, booleans or null. */
typedef struct {
  JsonNode   *id;
  const char *queue;
  const char *body;
  const char *body_base64;
  const char *content_type;
  gint64      priority;        /* -1: unset */
  gint64      ttl_ms;          /* -1: unset */
  JsonObject *headers;
  gboolean    persistent;      /* absent: TRUE */
  const char *correlation_id;
  const char *reply_to;
  const char *message_id;
} SsqWireQueuePublish;

/* A message taken from a queue (GET …/messages, queue_message):
 * {"tag","id","queue","exchange","routing_key","body"|"body_base64",
 * "content_type"?,"content_encoding"?,"headers"?,"priority","correlation_id"?,
 * "reply_to"?,"expiration"?,"message_id"?,"timestamp"?,"message_type"?,"user_id"?,
 * "app_id"?,"persistent","redelivered","deliveries"}. */
typedef struct {
  gint64      tag;
  gint64      id;
  const char *queue;
  const char *exchange;
  const char *routing_key;
  const char *body;            /* the body when it is UTF-8 without NUL */
  const char *body_base64;     /* otherwise */
  const char *content_type;
  const char *content_encoding;
  JsonObject *headers;
  gint64      priority;
  const char *correlation_id;
  const char *reply_to;
  const char *expiration;
  const char *message_id;
  gint64      timestamp;       /* seconds; 0: absent */
  const char *type;
  const char *user_id;
  const char *app_id;
  gboolean    persistent;
  gboolean    redelivered;
  gint64      deliveries;
} SsqWireQueueMessage;

/* Queue arguments: the body of PUT /queues/{name} (with "durable") and a
 * queue's "arguments": {"max_length"?,"overflow"?,"message_ttl_ms"?,
 * "expires_ms"?,"max_priority"?,"dead_letter_exchange"?,
 * "dead_letter_routing_key"?,"max_deliveries"?}. -1 or NULL: unset. */
typedef struct {
  gboolean    durable;         /* absent: TRUE (PUT only) */
  gint64      max_length;
  const char *overflow;        /* "drop-head" or "reject-publish" */
  gint64      message_ttl_ms;
  gint64      expires_ms;
  gint64      max_priority;
  const char *dead_letter_exchange;
  const char *dead_letter_routing_key;
  gint64      max_deliveries;
} SsqWireQueueArgs;

/* A queue as GET /queues lists it: {"name","owner","durable","exclusive",
 * "auto_delete","arguments","depth","unacked","consumers","counters":
 * {"published","delivered","acknowledged","redelivered","dead_lettered",
 * "expired","dropped"},"rates":{"published","delivered","acknowledged"}}
 * (rates: per second over the last minute). */
typedef struct {
  const char      *name;
  const char      *owner;      /* a username; NULL: the server's */
  gboolean         durable;
  gboolean         exclusive;
  gboolean         auto_delete;
  SsqWireQueueArgs arguments;
  gint64           depth;
  gint64           unacked;
  gint64           consumers;
  gint64           published, delivered, acknowledged, redelivered;
  gint64           dead_lettered, expired, dropped;
  double           published_rate, delivered_rate, acknowledged_rate;
} SsqWireQueue;

/* queue_subscribe: {"type","queue","prefetch"?,"id"} */
typedef struct {
  JsonNode   *id;
  const char *queue;
  gint64      prefetch;        /* 0: absent */
} SsqWireQueueSubscribe;

/* queue_unsubscribe: {"type","subscription","id"?}; queue_cancelled (the
 * queue went): {"type","subscription","queue"}. */
typedef struct {
  JsonNode   *id;
  const char *subscription;
  const char *queue;
} SsqWireQueueSubscription;

/* queue_ack, queue_nack: {"type","tags","requeue"?,"id"?}; the same
 * without "type" and "id" is the body of POST …/ack and …/nack. requeue
 * (nack only) is TRUE when absent. */
typedef struct {
  JsonNode   *id;
  JsonArray  *tags;            /* 1 to SSQ_QUEUE_TAGS_MAX positive integers */
  gboolean    requeue;
} SsqWireQueueTags;

/* queue_message: {"type","subscription","message"} */

JsonObject *ssq_wire_queue_publish_encode   (SsqFrameType               type,
                                             const SsqWireQueuePublish *publish);
gboolean    ssq_wire_queue_publish_decode   (JsonObject                *object,
                                             SsqFrameType               type,
                                             SsqWireQueuePublish       *out,
                                             GError                   **error);
JsonObject *ssq_wire_queue_message_encode   (const SsqWireQueueMessage *message);
gboolean    ssq_wire_queue_message_decode   (JsonObject                *object,
                                             SsqWireQueueMessage       *out,
                                             GError                   **error);
JsonObject *ssq_wire_queue_args_encode      (const SsqWireQueueArgs    *args,
                                             gboolean                   with_durable);
gboolean    ssq_wire_queue_args_decode      (JsonObject                *object,
                                             SsqWireQueueArgs          *out,
                                             GError                   **error);
JsonObject *ssq_wire_queue_encode           (const SsqWireQueue        *queue);
gboolean    ssq_wire_queue_decode           (JsonObject                *object,
                                             SsqWireQueue              *out,
                                             GError                   **error);
JsonObject *ssq_wire_queue_subscribe_encode (const SsqWireQueueSubscribe *subscribe);
gboolean    ssq_wire_queue_subscribe_decode (JsonObject                *frame,
                                             SsqWireQueueSubscribe     *out,
                                             GError                   **error);
JsonObject *ssq_wire_queue_subscription_encode (SsqFrameType            type,
                                                const SsqWireQueueSubscription *s);
gboolean    ssq_wire_queue_subscription_decode (JsonObject             *frame,
                                                SsqFrameType            type,
                                                SsqWireQueueSubscription *out,
                                                GError                **error);
JsonObject *ssq_wire_queue_tags_encode      (SsqFrameType               type,
                                             const SsqWireQueueTags    *tags);
gboolean    ssq_wire_queue_tags_decode      (JsonObject                *object,
                                             SsqWireQueueTags          *out,
                                             GError                   **error);
JsonObject *ssq_wire_queue_message_frame_encode (const char            *subscription,
                                                 JsonObject            *message);
gboolean    ssq_wire_queue_message_frame_decode (JsonObject            *frame,
                                                 const char           **out_subscription,
                                                 JsonObject           **out_message,
                                                 GError               **error);

/* ---- REST bodies (ssq-wire-rest.c) ------------------------------------- */

/* POST /register: {"username","password","display_name"?,"device"?,"invite"?};
 * POST /login: {"username","password","device"?} (the route refuses a
 * display_name and an invite). */
typedef struct {
  const char *username;
  const char *password;
  const char *display_name;
  const char *device;
  const char *invite;       /* register: the invite token, in invite mode */
} SsqWireCredentials;

/* POST /password-reset: {"username","code","password","device"?}: a
 * one-time code from the server's administrator sets a new password. */
typedef struct {
  const char *username;
  const char *code;
  const char *password;
  const char *device;
} SsqWirePasswordReset;

/* PATCH /me: {"display_name"?,"password"?,"current_password"?};
 * DELETE /me: {"password"}. */
typedef struct {
  const char *display_name;
  const char *password;
  const char *current_password;
} SsqWireAccountChange;

/* POST /conversations: {"kind","title"?,"members"?} (usernames). */
typedef struct {
  const char *kind;
  const char *title;
  JsonArray  *members;
} SsqWireConversationNew;

/* PATCH /conversations/{id}: {"title"?,"muted"?} */
typedef struct {
  const char *title;
  gboolean    set_muted;
  gboolean    muted;
} SsqWireConversationChange;

/* POST /conversations/{id}/members: {"username","role"?} */
typedef struct {
  const char *username;
  const char *role;
} SsqWireMemberNew;

/* {"user","token"}: the reply of register and login. */
typedef struct {
  JsonObject *user;
  const char *token;
} SsqWireSession;

/* Replies holding one object: {"user"} (GET and PATCH /me),
 * {"conversation"}, {"message"}, {"media"} (an upload). */
typedef enum {
  SSQ_WIRE_REPLY_USER,
  SSQ_WIRE_REPLY_CONVERSATION,
  SSQ_WIRE_REPLY_MESSAGE,
  SSQ_WIRE_REPLY_MEDIA,
} SsqWireReply;

/* Replies holding a list: {"users"}, {"conversations"},
 * {"messages","has_more"}. */
typedef enum {
  SSQ_WIRE_LIST_USERS,
  SSQ_WIRE_LIST_CONVERSATIONS,
  SSQ_WIRE_LIST_MESSAGES,
} SsqWireList;

JsonObject *ssq_wire_credentials_encode   (const SsqWireCredentials  *credentials);
gboolean    ssq_wire_credentials_decode   (JsonObject                *body,
                                           SsqWireCredentials        *out,
                                           GError                   **error);
JsonObject *ssq_wire_password_reset_encode (const SsqWirePasswordReset *reset);
gboolean    ssq_wire_password_reset_decode (JsonObject               *body,
                                            SsqWirePasswordReset     *out,
                                            GError                  **error);
JsonObject *ssq_wire_account_change_encode (const SsqWireAccountChange *change);
gboolean    ssq_wire_account_change_decode (JsonObject               *body,
                                            gboolean                  password_required,
                                            SsqWireAccountChange     *out,
                                            GError                  **error);
JsonObject *ssq_wire_conversation_new_encode (const SsqWireConversationNew *request);
gboolean    ssq_wire_conversation_new_decode (JsonObject               *body,
                                              guint                     max_members,
                                              SsqWireConversationNew   *out,
                                              GError                  **error);
JsonObject *ssq_wire_conversation_change_encode (const SsqWireConversationChange *change);
gboolean    ssq_wire_conversation_change_decode (JsonObject                *body,
                                                 SsqWireConversationChange *out,
                                                 GError                   **error);
JsonObject *ssq_wire_member_new_encode    (const SsqWireMemberNew    *request);
gboolean    ssq_wire_member_new_decode    (JsonObject                *body,
                                           SsqWireMemberNew          *out,
                                           GError                   **error);
JsonObject *ssq_wire_message_post_encode  (const SsqWireSend         *send);
JsonObject *ssq_wire_message_edit_encode  (const char                *body);
gboolean    ssq_wire_message_edit_decode  (JsonObject                *request,
                                           const char               **out_body,
                                           GError                   **error);

JsonObject *ssq_wire_session_encode       (const SsqWireSession      *session);
gboolean    ssq_wire_session_decode       (JsonObject                *reply,
                                           SsqWireSession            *out,
                                           GError                   **error);
JsonObject *ssq_wire_reply_encode         (SsqWireReply               kind,
                                           JsonObject                *object);
gboolean    ssq_wire_reply_decode         (JsonObject                *reply,
                                           SsqWireReply               kind,
                                           JsonObject               **out_object,
                                           GError                   **error);
JsonObject *ssq_wire_list_encode          (SsqWireList                kind,
                                           JsonArray                 *items,
                                           gboolean                   has_more);
gboolean    ssq_wire_list_decode          (JsonObject                *reply,
                                           SsqWireList                kind,
                                           JsonArray                **out_items,
                                           gboolean                  *out_has_more,
                                           GError                   **error);
void        ssq_wire_history_open         (GString                   *out);
void        ssq_wire_history_close        (GString                   *out,
                                           gboolean                   has_more);
JsonObject *ssq_wire_error_reply_encode   (const GError              *error);
gboolean    ssq_wire_error_reply_decode   (JsonObject                *reply,
                                           SsqWireError              *out);

G_END_DECLS
