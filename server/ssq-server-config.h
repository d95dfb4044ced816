/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-config.h: every setting and limit of the server, with defaults. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct {
  /* [server] */
  char    *listen;               /* HOST:PORT */
  char    *data_dir;
  gboolean websocket_deflate;    /* permessage-deflate: off, it costs ~98 KB per connection */
  gboolean durable_commits;      /* synchronous=FULL: acked survives power loss, not just kill -9 */
  guint    commit_batch_max;     /* messages per group commit at most */
  guint    checkpoint_pages;     /* the log's length that starts a checkpoint */
  guint    busy_poll_us;         /* the main loop's longest poll before it sleeps; 0 = off */
  guint    session_purge_interval; /* seconds between purges of expired sessions */
  guint    registration;         /* SsqRegistrationMode: who may make an account */
  char    *public_address;       /* HOST or HOST:PORT clients reach, for invite links; NULL: guessed */
  char    *name;                 /* shown in LAN discovery; NULL: the host name */

  /* [limits] */
  guint    messages_per_minute;  /* per user; 0 = unlimited */
  guint    groups_per_hour;      /* per user; 0 = unlimited */
  guint    joins_per_hour;       /* members added, per acting user; 0 = unlimited */
  guint    registrations_per_hour; /* accounts registered per client address (IPv6: /64); 0 = unlimited */
  guint    login_free_failures;  /* failed logins per (account, address) before backoff */
  guint    login_account_free_failures; /* failed logins per account, all addresses, before backoff */
  guint    login_backoff_max;    /* seconds: the longest lockout backoff reaches */
  guint    login_throttle_entries; /* records per login throttle table (memory bound) */
  guint    max_body_size;        /* bytes of one HTTP request body */
  guint    max_frame_size;       /* bytes of one WebSocket frame (at most 65536) */
  guint    max_members;          /* members of one group */
  guint    max_connections;      /* open TCP connections, all addresses (refused at accept) */
  guint    max_connections_per_address;
  guint    max_header_size;      /* bytes of an HTTP request line and headers */
  guint    max_headers;          /* header fields of one HTTP request */
  guint    header_timeout;       /* seconds for a request's headers to arrive */
  guint    max_requests_in_flight; /* WebSocket requests of one session awaiting a reply
                                    * (and HTTP/2 requests of one connection) */
  guint    max_streams;          /* HTTP/2 streams open at once on one connection */
  guint    max_sessions_per_user;
  guint    sync_batch;           /* messages per conversation in one sync (at most 1000) */
  guint    send_queue_max;       /* bytes queued to one WebSocket peer before it is cut off */
  guint    idle_timeout;         /* seconds an HTTP connection may sit idle, or any
                                  * connection make no progress writing */
  guint    session_days;         /* token lifetime */
  guint    hash_threads;         /* concurrent password hashes */
  guint    queue_polls;          /* REST long polls waiting at once, all users */
  guint    queue_polls_per_user; /* the same, per user */
  guint    queue_wait_max;       /* seconds a long poll may wait (GET …/messages?wait=) */
  guint    queue_subscriptions_per_session; /* queue_subscribe of one WebSocket session */

  /* [media] */
  guint64  media_max_size;       /* bytes of one upload */
  guint64  media_quota_per_user; /* bytes all of a user's uploads may hold; 0 = unlimited */
  guint    media_orphan_expiry;  /* seconds an upload no message carries is kept */
  guint    media_uploads_per_minute; /* per user; 0 = unlimited */
  guint    media_uploads_at_once;    /* per user: each holds a temporary file */
  guint    thumbnail_workers;    /* threads decoding images; 0 = no thumbnails made */
  guint    thumbnail_queue;      /* images handed to them at once at most */
  guint64  max_image_pixels;     /* images declaring more get no thumbnail */

  /* [security] */
  guint64  pwhash_opslimit;      /* Argon2id cost; defaults are libsodium's "interactive" */
  gsize    pwhash_memlimit;

  /* [log] */
  gboolean log_requests;         /* a line per HTTP request, at info level */

  /* [metrics] */
  guint    metrics_access;       /* SsqMetricsAccess: who may read /metrics */
  char    *metrics_token;        /* the bearer token of SSQ_METRICS_ACCESS_TOKEN */

  /* [tls] */
  gboolean tls_enabled;          /* https and wss on the chat port */
  char    *tls_certificate;      /* PEM, the certificate then its chain; NULL: our own */
  char    *tls_key;              /* PEM, its private key */
  guint    tls_plain_http;       /* SsqTlsPlain: who may still speak plain HTTP */
  gboolean tls_http2;            /* ALPN offers h2 (with libnghttp2) */

  /* [amqp] */
  char    *amqp_listen;          /* HOST:PORT; "" = no AMQP listener */
  gboolean amqp_listen_set;      /* given in the file: failing to listen is then fatal */
  char    *amqp_tls_listen;      /* HOST:PORT for amqps (with [tls] on); "" = none */
  gboolean amqp_tls_listen_set;
  guint    amqp_frame_max;       /* bytes of one frame, negotiated down to 4096 at least */
  guint    amqp_channel_max;
  guint    amqp_heartbeat;       /* seconds proposed; 0 = none proposed (the client's choice) */
  guint    amqp_max_connections;
  guint    amqp_max_channels;     /* open channels of all connections together */

  /* [broker] (0 in none of them: each has a default) */
  guint    broker_max_queues;
  guint    broker_max_queues_per_user;
  guint    broker_max_exchanges;       /* declared by users */
  guint    broker_max_bindings;
  guint    broker_max_bindings_per_user;
  guint64  broker_max_message_size;    /* body bytes of one message (at most 128 MiB) */
  guint64  broker_max_memory;          /* bytes of messages held in memory (see ssq-broker.h) */
  guint    broker_max_unacked_per_channel; /* also a REST user's leases */
  guint    broker_max_consumers_per_channel;
  guint    broker_max_consumers_per_connection;
  guint    broker_max_consumers;           /* all connections together */

  /* [features] */
  gboolean features_media;       /* uploads, downloads, thumbnails */
  gboolean features_broker;      /* the message broker: AMQP, REST queues, the bridge */
  gboolean features_discovery;   /* announced on the LAN (DNS-SD through Avahi) */
} SsqServerConfig;

/* The order of the words of [server] registration. [features]
 * registration=false, of older versions, means closed. */
typedef enum {
  SSQ_REGISTRATION_OPEN,         /* anyone (the first account becomes the server admin) */
  SSQ_REGISTRATION_INVITE,       /* with an invite from a server admin */
  SSQ_REGISTRATION_CLOSED,       /* nobody: accounts are made with supersoniq-server admin */
} SsqRegistrationMode;

const char *ssq_registration_mode_to_string (SsqRegistrationMode mode);

/* The order of the words of [metrics] access. */
typedef enum {
  SSQ_METRICS_ACCESS_LOOPBACK,   /* peers on a loopback address only */
  SSQ_METRICS_ACCESS_TOKEN,      /* Authorization: Bearer [metrics] token */
  SSQ_METRICS_ACCESS_OPEN,       /* anyone */
} SsqMetricsAccess;

/* The order of the words of [tls] plain_http (and of SsqNetPlain). */
typedef enum {
  SSQ_TLS_PLAIN_LOOPBACK,        /* clients on this machine (127.0.0.0/8, ::1) */
  SSQ_TLS_PLAIN_NONE,            /* no one */
  SSQ_TLS_PLAIN_ANY,             /* anyone: TLS is offered, not required */
} SsqTlsPlain;

SsqServerConfig *ssq_server_config_new           (void);
void             ssq_server_config_free          (SsqServerConfig  *config);
gboolean         ssq_server_config_load_file     (SsqServerConfig  *config,
                                                  const char       *path,
                                                  GError          **error);
gboolean         ssq_server_config_validate      (SsqServerConfig  *config,
                                                  GError          **error);
gboolean         ssq_server_config_parse_listen  (const char       *listen,
                                                  char            **out_host,
                                                  guint16          *out_port,
                                                  GError          **error);
char            *ssq_server_config_default_data_dir (void);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsqServerConfig, ssq_server_config_free)

G_END_DECLS
