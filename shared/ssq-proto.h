/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-proto.h: protocol v1 constants, limits, error codes and value checks,
 * shared by the server and every client. Names here are never renumbered. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define SSQ_PROTOCOL_VERSION 1

/* LAN discovery: the DNS-SD service type servers announce, and the version
 * of its TXT records (v=); clients list only versions they know. The names
 * of a service are at most 63 bytes (a DNS label). */
#define SSQ_DISCOVERY_SERVICE_TYPE "_supersoniq._tcp"
#define SSQ_DISCOVERY_TXT_VERSION  "1"
#define SSQ_DISCOVERY_NAME_MAX     63

/* Limits fixed by the wire contract (configurable limits live in the server
 * configuration; these are the contract's hard bounds). */
#define SSQ_USERNAME_MIN        3
#define SSQ_USERNAME_MAX        32
#define SSQ_PASSWORD_MIN        8
#define SSQ_PASSWORD_MAX        1024
#define SSQ_BODY_MAX            16384
#define SSQ_TITLE_MAX           128
#define SSQ_DISPLAY_NAME_MAX    128
#define SSQ_CLIENT_ID_MAX       128
#define SSQ_DEVICE_MAX          128
#define SSQ_FRAME_MAX           65536
#define SSQ_HISTORY_DEFAULT     50
#define SSQ_HISTORY_MAX         200
#define SSQ_SYNC_PER_CONVERSATION 1000
#define SSQ_TYPING_TIMEOUT_MS   6000
#define SSQ_USERS_SEARCH_MAX    50
#define SSQ_MESSAGE_MEDIA_MAX   32      /* media objects of one message */
#define SSQ_MEDIA_NAME_MAX      255     /* bytes of a media file name */

/* Client → server frame types. */
#define SSQ_FRAME_SEND      "send"
#define SSQ_FRAME_SYNC      "sync"
#define SSQ_FRAME_RECEIVED  "received"
#define SSQ_FRAME_READ      "read"
#define SSQ_FRAME_TYPING    "typing"
#define SSQ_FRAME_PRESENCE  "presence"
#define SSQ_FRAME_PING      "ping"

/* Client → server frame types of queues (shared/PROTOCOL.md, Queues). */
#define SSQ_FRAME_QUEUE_PUBLISH     "queue_publish"
#define SSQ_FRAME_QUEUE_SUBSCRIBE   "queue_subscribe"
#define SSQ_FRAME_QUEUE_UNSUBSCRIBE "queue_unsubscribe"
#define SSQ_FRAME_QUEUE_ACK         "queue_ack"
#define SSQ_FRAME_QUEUE_NACK        "queue_nack"

/* Server → client frame types. */
#define SSQ_FRAME_WELCOME               "welcome"
#define SSQ_FRAME_ACK                   "ack"
#define SSQ_FRAME_ERROR                 "error"
#define SSQ_FRAME_PONG                  "pong"
#define SSQ_FRAME_MESSAGE               "message"
#define SSQ_FRAME_CONVERSATION          "conversation"
#define SSQ_FRAME_CONVERSATION_REMOVED  "conversation_removed"
#define SSQ_FRAME_RECEIPT               "receipt"
#define SSQ_FRAME_NOTIFICATION          "notification"
#define SSQ_FRAME_QUEUE_MESSAGE         "queue_message"
#define SSQ_FRAME_QUEUE_CANCELLED       "queue_cancelled"

/* Queues: bounds of the wire (the server's own are in its configuration). */
#define SSQ_QUEUE_NAME_MAX        255     /* bytes, as an AMQP short string */
#define SSQ_QUEUE_TAGS_MAX        1000    /* delivery tags in one ack or nack */
#define SSQ_QUEUE_GET_MAX         100     /* messages one GET leases */
#define SSQ_QUEUE_LEASE_DEFAULT   30      /* seconds */
#define SSQ_QUEUE_LEASE_MAX       43200   /* seconds (12 h) */
#define SSQ_QUEUE_HEADERS_MAX     128     /* headers of one published message */
#define SSQ_QUEUE_PREFETCH_DEFAULT 10

/* WebSocket close codes we use beyond RFC 6455's own. */
#define SSQ_CLOSE_GOING_AWAY     1001
#define SSQ_CLOSE_POLICY         1008
#define SSQ_CLOSE_TOO_BIG        1009
#define SSQ_CLOSE_TRY_AGAIN      1013

/**
 * SsqError:
 * One code per wire error code (see shared/PROTOCOL.md). The order is part of
 * the library ABI: append only.
 */
typedef enum {
  SSQ_ERROR_INVALID,
  SSQ_ERROR_UNAUTHORIZED,
  SSQ_ERROR_FORBIDDEN,
  SSQ_ERROR_NOT_FOUND,
  SSQ_ERROR_CONFLICT,
  SSQ_ERROR_USERNAME_TAKEN,
  SSQ_ERROR_TOO_LARGE,
  SSQ_ERROR_RATE_LIMITED,
  SSQ_ERROR_INTERNAL,
  SSQ_ERROR_UNAVAILABLE,
  SSQ_ERROR_NOT_IMPLEMENTED,
  /* Client-side only, never on the wire: the server could not be reached or
   * the connection broke, and the server's reply broke the protocol. */
  SSQ_ERROR_NETWORK,
  SSQ_ERROR_PROTOCOL,
  /* On the wire again (appended): an upload over the user's storage quota. */
  SSQ_ERROR_QUOTA_EXCEEDED,
  /* A login (or a password reset) of an account the server's administrator
   * disabled. */
  SSQ_ERROR_ACCOUNT_DISABLED,
  /* A feature the server's administrator switched off ([features]). */
  SSQ_ERROR_FEATURE_DISABLED,
  /* Registration in invite mode: no invite given; the invite is unknown
   * (or revoked); it expired; its uses are spent. */
  SSQ_ERROR_INVITE_REQUIRED,
  SSQ_ERROR_INVITE_INVALID,
  SSQ_ERROR_INVITE_EXPIRED,
  SSQ_ERROR_INVITE_USED_UP,
  /* Client-side only (TLS pinning, ssq-trust.h): the server's key is not
   * pinned yet, so the person must confirm its fingerprint; the key differs
   * from the pinned one; plain http:// to a host that is not loopback,
   * without the insecure option. Both key errors carry the fingerprints
   * (ssq_error_get_fingerprint ()). */
  SSQ_ERROR_UNTRUSTED,
  SSQ_ERROR_KEY_CHANGED,
  SSQ_ERROR_INSECURE,
  /* Client-side only: the local cache could not be written (a full or
   * failing disk). What the server sent is fetched again later. */
  SSQ_ERROR_STORAGE,
} SsqError;

#define SSQ_ERROR_LAST SSQ_ERROR_STORAGE

#define SSQ_ERROR (ssq_error_quark ())
GQuark       ssq_error_quark            (void);

void         ssq_error_set_retry_after  (GError      *error,
                                         gint64       retry_after_ms);
gint64       ssq_error_get_retry_after  (const GError *error);
void         ssq_error_set_fingerprints (GError      *error,
                                         const char  *presented,
                                         const char  *pinned);
const char  *ssq_error_get_fingerprint  (const GError *error);
const char  *ssq_error_get_pinned_fingerprint (const GError *error);
void         ssq_set_rate_limited       (GError     **error,
                                         gint64       retry_after_ms);

const char  *ssq_error_code_to_string   (SsqError     code);
gboolean     ssq_error_code_from_string (const char  *str,
                                         SsqError    *out_code);
guint        ssq_error_code_http_status (SsqError     code);
SsqError     ssq_error_code_for_status  (guint        http_status);

gboolean     ssq_check_username         (const char  *username,
                                         GError     **error);
gboolean     ssq_check_password         (const char  *password,
                                         GError     **error);
gboolean     ssq_check_text             (const char  *what,
                                         const char  *text,
                                         gsize        min_bytes,
                                         gsize        max_bytes,
                                         GError     **error);

gboolean     ssq_proto_mentions         (const char  *body,
                                         const char  *username);

gint64       ssq_now_ms                 (void);

G_END_DECLS
