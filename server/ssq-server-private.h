/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-private.h: the server's shared state, seen by its own files. */
#pragma once

#include <json-glib/json-glib.h>

#include "ssq-proto.h"
#include "ssq-json.h"
#include "ssq-wire.h"
#include "ssq-server.h"
#include "ssq-server-auth.h"
#include "ssq-server-config.h"
#include "ssq-server-logins.h"
#include "ssq-server-media.h"
#include "ssq-server-members.h"
#include "ssq-server-metrics.h"
#include "ssq-server-ratelimit.h"
#include "ssq-server-store.h"
#include "ssq-server-throttle.h"
#include "ssq-server-writer.h"
#include "ssq-server-readers.h"
#include "ssq-server-checkpointer.h"
#include "net/ssq-net.h"
#include "amqp/ssq-amqp-server.h"
#include "broker/ssq-broker.h"

G_BEGIN_DECLS

typedef struct _SsqServerHub     SsqServerHub;
typedef struct _SsqServerSession SsqServerSession;
typedef struct _SsqServerThumbnailer SsqServerThumbnailer;
typedef struct _SsqServerAdmin   SsqServerAdmin;
typedef struct _SsqServerDiscovery SsqServerDiscovery;
typedef struct _SsqServerQueues  SsqServerQueues;
typedef struct _SsqServerSessionQueues SsqServerSessionQueues;

struct _SsqServer {
  GObject             parent_instance;

  SsqServerConfig    *config;
  SsqServerStore     *store;
  SsqServerWriter    *writer;
  SsqServerReaders   *readers;     /* history pages, off the main loop */
  SsqServerCheckpointer *checkpointer;  /* the log into the database, off the writer */
  SsqServerMembers   *members;    /* memberships, in memory */
  SsqServerAuth      *auth;
  SsqServerLogins    *logins;     /* live logins, in memory */
  SsqServerHub       *hub;
  SsqServerMetrics    metrics;
  SsqServerRatelimit *rl_messages;
  SsqServerRatelimit *rl_groups;
  SsqServerRatelimit *rl_joins;
  SsqServerRatelimit *rl_registrations;   /* per address key */
  SsqServerRatelimit *rl_uploads;
  GHashTable         *uploads_at_once;    /* user_id -> uploads streaming (GUINT_TO_POINTER) */
  SsqServerMedia     *media;              /* the files of uploads */
  SsqServerThumbnailer *thumbnailer;      /* thumbnails of stored images */
  SsqServerThrottle  *login_pairs;        /* "username\naddress key" */
  SsqServerThrottle  *login_accounts;     /* username */
  GHashTable         *amqp_logins;        /* throttle pair -> GQueue of AMQP logins, the first verifying */

  SsqBroker          *broker;             /* exchanges and queues (AMQP, REST, bridge) */
  SsqServerQueues    *queues;             /* REST's side of them (ssq-server-api-queues.c) */
  SsqNetServer       *net;
  SsqAmqpServer      *amqp;               /* the AMQP listeners; NULL: none */
  char               *amqp_url;           /* amqp://HOST:PORT, NULL: not listening */
  char               *amqps_url;
  SsqServerAdmin     *admin;              /* the administration socket */
  SsqServerDiscovery *discovery;          /* the LAN announcement; NULL: none */
  guint               housekeeping_id;
  guint               purge_id;
  guint               media_expiry_id;
  guint               sessions_alive;     /* sessions whose connection is not closed yet */
  gboolean            shutting_down;
  char               *url;
  char               *local_url;          /* what this machine connects to */
  char               *reach_hint;         /* who else can, for the start-up text */
  char               *tls_fingerprint;    /* "sha256:AB:…" of the public key; NULL: no TLS */
  char               *tls_pin;            /* the same digest in base64 (curl's pin) */
};

/* Authentication of a request: the user id behind a bearer token, or NULL
 * with SSQ_ERROR_UNAUTHORIZED. (ssq-server-http.c) */
char       *ssq_server_authenticate (SsqServer          *server,
                                     const char         *token,
                                     GError            **error);
gboolean    ssq_server_http_setup   (SsqServer          *server,
                                     GError            **error);
/* The AMQP listeners of [amqp]. (ssq-server-amqp.c) */
gboolean    ssq_server_amqp_setup   (SsqServer          *server,
                                     GError            **error);
/* The TLS pair in use, read again (amqps). (ssq-server-tls.c) */
gboolean    ssq_server_tls_read_pair (SsqServer         *server,
                                      GBytes           **out_cert_pem,
                                      GBytes           **out_key_pem,
                                      GError           **error);
/* Uploads no message carries expire; returns the timer. (ssq-server-api-media.c) */
guint       ssq_server_api_media_start_expiry (SsqServer  *server);

/* Encoders of protocol objects. (ssq-server-json.c) */
JsonObject *ssq_server_json_user         (SsqServer          *server,
                                          const SsqUserRow   *user);
JsonObject *ssq_server_json_me           (SsqServer          *server,
                                          const SsqUserRow   *user);
JsonObject *ssq_server_json_user_by_id   (SsqServer          *server,
                                          const char         *user_id);
JsonObject *ssq_server_json_message      (const SsqMessageRow *message);
GBytes     *ssq_server_wire_message_stored (const SsqMessageRow *message);
GBytes     *ssq_server_wire_message_json   (const char          *json,
                                            gsize                length);
JsonArray  *ssq_server_json_members      (SsqServer          *server,
                                          GPtrArray          *members);
JsonObject *ssq_server_json_conversation (SsqServer                *server,
                                          const SsqConversationRow *conversation,
                                          JsonArray                *members_json,
                                          const SsqMemberRow       *viewer,
                                          GError                  **error);
JsonObject *ssq_server_json_conversation_for (SsqServer      *server,
                                              const char     *conversation_id,
                                              const char     *viewer_id,
                                              GError        **error);
GBytes     *ssq_server_wire_event        (SsqFrameType        type,
                                          JsonObject         *value);
GBytes     *ssq_server_wire              (JsonObject         *object);
GBytes     *ssq_server_wire_ack_stored   (JsonNode            *request_id,
                                         const SsqMessageRow *message,
                                         gboolean             duplicate);

G_END_DECLS
