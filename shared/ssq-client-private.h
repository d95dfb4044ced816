/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-client-private.h: what the client's files share. */
#pragma once

#include <libsoup/soup.h>

#include "ssq-client.h"
#include "ssq-transfer.h"
#include "ssq-wire.h"

G_BEGIN_DECLS

typedef void (*SsqReplyFunc) (SsqClient  *self,
                              JsonObject *reply,     /* the ack, or NULL on error */
                              const GError *error,
                              gpointer    user_data);

struct _SsqClient
{
  GObject                  parent_instance;

  char                    *server_url;
  char                    *data_dir;
  SoupSession             *session;
  SsqCache                *cache;
  char                    *user_id;
  char                    *username;
  char                    *token;
  char                    *known_servers;      /* the pins' file; NULL: the default */
  gboolean                 insecure;           /* plain http:// to any host */

  /* Connection. */
  SsqClientState           state;
  gboolean                 want_online;
  SoupWebsocketConnection *ws;
  GCancellable            *connect_cancellable;
  guint                    attempt;            /* reconnects since the last stable connection */
  guint                    retry_source;
  guint                    stable_source;
  guint                    keepalive_source;
  gint64                   last_rx_us;
  gint64                   ping_sent_us;
  gint64                   next_request_id;
  guint                    generation;         /* bumped per lost connection */
  GHashTable              *requests;           /* request id -> SsqRequest */

  /* Sync. */
  gboolean                 syncing;
  gboolean                 resync;
  gboolean                 resync_pending;     /* resync once the batch commits */
  gboolean                 sync_lost;          /* the running sync brought something not stored */
  GHashTable              *list_touched;       /* conversation ids stored since the list was asked for */
  gboolean                 synced;
  guint                    sync_window;
  guint                    sync_rounds;        /* requests of the running sync */
  guint                    sync_stalls;        /* truncated rounds that moved no cursor */
  guint                    sync_passes;        /* passes over every page, less one */
  char                    *sync_last_since;    /* the cursors the last round asked from */
  gboolean                 sync_pages;         /* the server takes pages (its welcome) */
  char                    *sync_from;          /* the page being synced: its first id */
  char                    *sync_to;            /* and the next page's; NULL: the last */

  /* Outbox: client ids sent on this connection and not yet answered. */
  GHashTable              *in_flight;
  /* The outbox position of the last entry handed to this connection: a
   * flush reads only the entries after it, so that sending into a long
   * outbox does not read the whole outbox again for every message. Set
   * back to 0 whenever an entry at or before it leaves in_flight without
   * being acknowledged, or comes back from a failure. */
  gint64                   outbox_sent;
  guint                    outbox_retry_source;
  /* After a batch the cache could not store (a full disk): sends and
   * syncs again after this long, doubling while it keeps failing. */
  guint                    cache_retry_source;
  guint                    cache_retry_ms;

  /* Markers to send: conversation id -> seq (as gint64 *). */
  GHashTable              *pending_received;
  GHashTable              *pending_read;
  guint                    received_source;

  /* Typing: conversation id -> GHashTable (user id -> expiry µs). */
  GHashTable              *typing;
  guint                    typing_sweep_source;
  char                    *typing_conversation;
  gint64                   typing_sent_us;
  guint                    typing_stop_source;

  /* Presence. */
  char                    *presence;
  gboolean                 auto_away;
  guint                    idle_timeout_s;
  gint64                   last_activity_us;
  guint                    idle_source;

  guint                    reconnect_max_ms;

  /* Batches (ssq-client-batch.c): event frames waiting for the next flush,
   * and the signals a running batch holds until it has committed. */
  GQueue                  *events;
  guint                    events_source;
  GPtrArray               *held;
  GHashTable              *held_conversations; /* id -> its latest held emission */
  gboolean                 batch_open;
  gint64                   batch_changes;   /* the cache's rows written when it began */

  /* Media (ssq-client-download.c, ssq-client-attachments.c). */
  char                    *media_dir;          /* the download cache */
  guint64                  media_cache_size;   /* its cap in bytes */
  GHashTable              *downloads;          /* "id" or "id.thumb" -> Download */
  SsqTransfer             *outbox_transfer;    /* uploads of one outbox message */
  char                    *outbox_transfer_for; /* its client id */
  gboolean                 outbox_uploading;   /* one of them runs */
  GHashTable              *reuploads;          /* client ids whose media were uploaded again */
  guint                    outbox_upload_retry; /* failed uploads in a row */
};

enum {
  SIGNAL_MESSAGE,
  SIGNAL_CONVERSATION,
  SIGNAL_CONVERSATION_REMOVED,
  SIGNAL_RECEIPT,
  SIGNAL_TYPING,
  SIGNAL_PRESENCE,
  SIGNAL_NOTIFICATION,
  SIGNAL_OUTBOX_CHANGED,
  SIGNAL_SYNCED,
  SIGNAL_ERROR,
  N_SIGNALS
};

extern guint ssq_client_signals[N_SIGNALS];

/* ssq-client.c */
gboolean  ssq_client_request          (SsqClient    *self,
                                       JsonObject   *frame,
                                       SsqReplyFunc  reply,
                                       gpointer      user_data);
void      ssq_client_send_frame       (SsqClient    *self,
                                       JsonObject   *frame);
void      ssq_client_emit_error       (SsqClient    *self,
                                       const GError *error);
void      ssq_client_set_state        (SsqClient    *self,
                                       SsqClientState state);

/* ssq-client-batch.c */
void      ssq_client_emit             (SsqClient    *self,
                                       guint         which,
                                       ...);
gboolean  ssq_client_batch_begin      (SsqClient    *self);
void      ssq_client_batch_end        (SsqClient    *self);
void      ssq_client_schedule_retry   (SsqClient    *self);
gboolean  ssq_client_storage_failed   (SsqClient    *self,
                                       GError       *error);
void      ssq_client_queue_event      (SsqClient    *self,
                                       JsonObject   *frame);
void      ssq_client_flush_events     (SsqClient    *self);
void      ssq_client_drop_events      (SsqClient    *self);

/* ssq-client-events.c */
void      ssq_client_handle_event     (SsqClient    *self,
                                       JsonObject   *frame);
void      ssq_client_start_sync       (SsqClient    *self);
gboolean  ssq_client_apply_message    (SsqClient    *self,
                                       JsonObject   *object,
                                       GError      **error);
void      ssq_client_apply_conversation (SsqClient  *self,
                                         JsonObject *object,
                                         gboolean    live);
void      ssq_client_apply_removed    (SsqClient    *self,
                                       const char   *conversation_id);
void      ssq_client_flush_markers    (SsqClient    *self);

/* ssq-client-outbox.c */
void      ssq_client_flush_outbox     (SsqClient    *self);
void      ssq_client_rewind_outbox    (SsqClient    *self);
void      ssq_client_emit_outbox_changed (SsqClient *self,
                                          const char *conversation_id,
                                          const char *client_id);

/* ssq-client-upload.c */
void      ssq_client_upload_file      (SsqClient        *self,
                                       GFile            *file,
                                       const char       *name,
                                       SsqTransfer      *transfer,
                                       guint64           base,
                                       gboolean          own_total,
                                       GAsyncReadyCallback callback,
                                       gpointer          user_data);

/* ssq-client-attachments.c */
gboolean  ssq_client_attachments_uploaded (SsqMessage   *message);
void      ssq_client_attachments_upload (SsqClient      *self,
                                         SsqMessage     *message);
void      ssq_client_attachments_stop (SsqClient        *self,
                                       const char       *client_id);

/* ssq-client-download.c */
void      ssq_client_media_evict      (SsqClient        *self,
                                       const char       *keep_id,
                                       gboolean          keep_thumbnail);
void      ssq_client_media_cancel_all (SsqClient        *self);

/* ssq-client-activity.c */
void      ssq_client_activity_online  (SsqClient    *self);
void      ssq_client_activity_reset   (SsqClient    *self);
void      ssq_client_activity_rearm   (SsqClient    *self);
void      ssq_client_apply_typing     (SsqClient    *self,
                                       const char   *conversation_id,
                                       const char   *user_id,
                                       gboolean      active);

/* ssq-client-api.c */
typedef gpointer (*SsqReplyTransform) (SsqClient   *self,
                                       JsonObject  *reply,
                                       GError     **error);
void      ssq_client_api_call         (SsqClient        *self,
                                       const char       *method,
                                       const char       *path,
                                       JsonObject       *body,
                                       SsqReplyTransform transform,
                                       GDestroyNotify    result_free,
                                       gpointer          source_tag,
                                       GCancellable     *cancellable,
                                       GAsyncReadyCallback callback,
                                       gpointer          user_data);
GError   *ssq_client_api_error        (guint             status,
                                       GBytes           *body);
SoupMessage *ssq_client_api_message    (SsqClient        *self,
                                       const char       *method,
                                       const char       *path,
                                       GError          **error);
void      ssq_client_api_send         (SsqClient        *self,
                                       SoupMessage      *msg,
                                       SsqReplyTransform transform,
                                       GDestroyNotify    result_free,
                                       gpointer          source_tag,
                                       GCancellable     *cancellable,
                                       GAsyncReadyCallback callback,
                                       gpointer          user_data);
gpointer  ssq_client_api_finish       (SsqClient        *self,
                                       GAsyncResult     *result,
                                       gpointer          source_tag,
                                       GError          **error);

/* ssq-client-trust.c */
void      ssq_client_trust_init       (SsqClient        *self);
gboolean  ssq_client_check_transport  (SsqClient        *self,
                                       GError          **error);
GError   *ssq_client_transport_error  (SoupMessage      *msg,
                                       const GError     *error);

/* ssq-client-invites.c */
const char *ssq_client_invite_error_text (SsqError       code);

G_END_DECLS
