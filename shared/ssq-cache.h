/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-cache.h: the client's local SQLite cache of one account on one server:
 * users, conversations, members and their markers, messages, the outbox,
 * sync cursors and full-text search. */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "ssq-conversation.h"
#include "ssq-media.h"
#include "ssq-message.h"
#include "ssq-user.h"

G_BEGIN_DECLS

#define SSQ_CACHE_SCHEMA_VERSION 6

#define SSQ_TYPE_CACHE (ssq_cache_get_type ())
G_DECLARE_FINAL_TYPE (SsqCache, ssq_cache, SSQ, CACHE, GObject)

char            *ssq_cache_path_for          (const char  *data_dir,
                                              const char  *server_url,
                                              const char  *username);
SsqCache        *ssq_cache_open              (const char  *path,
                                              GError     **error);
SsqCache        *ssq_cache_open_at_version   (const char  *path,
                                              int          version,
                                              GError     **error);
char            *ssq_cache_dump_schema       (SsqCache    *self);
const char      *ssq_cache_get_path          (SsqCache    *self);

/* Batches: writes between these two share one transaction (and one
 * commit). They nest; only the outermost commits. */
gboolean         ssq_cache_begin             (SsqCache    *self,
                                              GError     **error);
gboolean         ssq_cache_commit            (SsqCache    *self,
                                              GError     **error);
guint64          ssq_cache_get_commits       (SsqCache    *self);
gint64           ssq_cache_get_changes       (SsqCache    *self);

/* Who "I" am: decides unread counts, receipts and outbox senders. */
void             ssq_cache_set_self_id       (SsqCache    *self,
                                              const char  *user_id);
const char      *ssq_cache_get_self_id       (SsqCache    *self);
char            *ssq_cache_get_meta          (SsqCache    *self,
                                              const char  *key);
gboolean         ssq_cache_set_meta          (SsqCache    *self,
                                              const char  *key,
                                              const char  *value,
                                              GError     **error);

/* Users. */
gboolean         ssq_cache_store_user        (SsqCache    *self,
                                              SsqUser     *user,
                                              GError     **error);
SsqUser         *ssq_cache_get_user          (SsqCache    *self,
                                              const char  *user_id);
SsqUser         *ssq_cache_find_user         (SsqCache    *self,
                                              const char  *username);
gboolean         ssq_cache_set_presence      (SsqCache    *self,
                                              const char  *user_id,
                                              const char  *presence,
                                              gint64       last_seen,
                                              GError     **error);

/* Conversations. */
SsqConversation *ssq_cache_store_conversation (SsqCache   *self,
                                               JsonObject *object,
                                               GError    **error);
gboolean         ssq_cache_remove_conversation (SsqCache  *self,
                                                const char *conversation_id,
                                                GError   **error);
SsqConversation *ssq_cache_get_conversation  (SsqCache    *self,
                                              const char  *conversation_id);
GPtrArray       *ssq_cache_list_conversations (SsqCache   *self);
JsonObject      *ssq_cache_conversation_to_wire (SsqCache  *self,
                                                 const char *conversation_id,
                                                 GError   **error);
SsqConversation *ssq_cache_find_conversation (SsqCache    *self,
                                              const char  *name);
gboolean         ssq_cache_set_markers       (SsqCache    *self,
                                              const char  *conversation_id,
                                              const char  *user_id,
                                              gint64       delivered_seq,
                                              gint64       read_seq,
                                              GError     **error);
void             ssq_cache_get_peer_marks    (SsqCache    *self,
                                              const char  *conversation_id,
                                              gint64      *out_delivered,
                                              gint64      *out_read);
gboolean         ssq_cache_set_muted         (SsqCache    *self,
                                              const char  *conversation_id,
                                              gboolean     muted,
                                              GError     **error);

/* Sync cursors: the highest seq up to which a conversation is held without
 * a gap since the point the cache started following it. */
gboolean         ssq_cache_get_sync_page     (SsqCache    *self,
                                              const char  *from_id,
                                              guint        max,
                                              JsonObject **since,
                                              JsonObject **since_rev,
                                              char       **next_id,
                                              GError     **error);
gint64           ssq_cache_get_cursor        (SsqCache    *self,
                                              const char  *conversation_id);
gboolean         ssq_cache_set_sync_floor    (SsqCache    *self,
                                              const char  *conversation_id,
                                              gint64       floor_seq,
                                              GError     **error);

/* Change cursors: the server's rev of a conversation up to which every
 * edit and deletion is held. */
gint64           ssq_cache_get_rev_cursor    (SsqCache    *self,
                                              const char  *conversation_id);
gboolean         ssq_cache_set_rev_cursor    (SsqCache    *self,
                                              const char  *conversation_id,
                                              gint64       rev,
                                              GError     **error);

/* Messages. */
gboolean         ssq_cache_apply_message     (SsqCache    *self,
                                              SsqMessage  *message,
                                              SsqMessage **out_stored,
                                              GError     **error);
gboolean         ssq_cache_store_message     (SsqCache    *self,
                                              SsqMessage  *message,
                                              gboolean    *out_changed,
                                              GError     **error);
SsqMessage      *ssq_cache_get_message       (SsqCache    *self,
                                              const char  *conversation_id,
                                              gint64       seq);
GPtrArray       *ssq_cache_get_messages      (SsqCache    *self,
                                              const char  *conversation_id,
                                              gint64       before_seq,
                                              guint        limit,
                                              gboolean    *out_complete);
GPtrArray       *ssq_cache_search            (SsqCache    *self,
                                              const char  *text,
                                              const char  *conversation_id,
                                              guint        limit,
                                              GError     **error);

/* The outbox: messages written but not yet acknowledged, in order. */
SsqMessage      *ssq_cache_outbox_add        (SsqCache    *self,
                                              const char  *conversation_id,
                                              const char  *body,
                                              gint64       reply_to,
                                              GError     **error);
GPtrArray       *ssq_cache_outbox_list       (SsqCache    *self,
                                              const char  *conversation_id);
GPtrArray       *ssq_cache_outbox_list_after (SsqCache    *self,
                                              gint64       position);
SsqMessage      *ssq_cache_outbox_get        (SsqCache    *self,
                                              const char  *client_id);
gboolean         ssq_cache_outbox_has        (SsqCache    *self,
                                              const char  *client_id);
gboolean         ssq_cache_outbox_remove     (SsqCache    *self,
                                              const char  *client_id,
                                              GError     **error);
gboolean         ssq_cache_outbox_set_error  (SsqCache    *self,
                                              const char  *client_id,
                                              const char  *error_text,
                                              GError     **error);
guint            ssq_cache_outbox_count      (SsqCache    *self);
SsqMessage      *ssq_cache_outbox_add_with_media (SsqCache  *self,
                                                  const char *conversation_id,
                                                  const char *client_id,
                                                  const char *body,
                                                  gint64      reply_to,
                                                  GPtrArray  *attachments,
                                                  GError    **error);
char            *ssq_cache_get_outbox_dir    (SsqCache    *self);
GFile           *ssq_cache_outbox_file       (SsqCache    *self,
                                              const char  *client_id,
                                              guint        position);
gboolean         ssq_cache_outbox_set_media  (SsqCache    *self,
                                              const char  *client_id,
                                              guint        position,
                                              SsqMedia    *uploaded,
                                              GError     **error);
gboolean         ssq_cache_outbox_forget_media (SsqCache  *self,
                                                const char *client_id,
                                                GError   **error);
gboolean         ssq_cache_outbox_remove_attachment (SsqCache   *self,
                                                     const char *client_id,
                                                     guint       slot,
                                                     GError    **error);
void             ssq_cache_outbox_sweep      (SsqCache    *self);

/* The download cache's files (see ssq-client-download.c): which are held,
 * their sizes, and the order they were last used in. */
gboolean         ssq_cache_media_file_touch  (SsqCache    *self,
                                              const char  *media_id,
                                              gboolean     thumbnail,
                                              gint64       size,
                                              const char  *name,
                                              GError     **error);
char            *ssq_cache_media_file_name   (SsqCache    *self,
                                              const char  *media_id,
                                              gboolean     thumbnail);
gboolean         ssq_cache_media_file_held   (SsqCache    *self,
                                              const char  *media_id,
                                              gboolean     thumbnail);
gboolean         ssq_cache_media_file_forget (SsqCache    *self,
                                              const char  *media_id,
                                              gboolean     thumbnail,
                                              GError     **error);
gint64           ssq_cache_media_files_size  (SsqCache    *self);
gboolean         ssq_cache_media_file_oldest (SsqCache    *self,
                                              char       **out_media_id,
                                              gboolean    *out_thumbnail,
                                              gint64      *out_size);

G_END_DECLS
