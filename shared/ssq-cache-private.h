/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-cache-private.h: what the cache's files share. */
#pragma once

#include "ssq-cache.h"
#include "ssq-db.h"

G_BEGIN_DECLS

struct _SsqCache
{
  GObject  parent_instance;
  SsqDb    db;
  char    *path;
  char    *self_id;
  guint64  commits;     /* transactions committed, implicit ones included */
  guint    batch_depth; /* ssq_cache_begin () calls not yet committed */
  gboolean batch_failed; /* a write of the batch failed: it rolls back */
  gint64   unindexed_from; /* messages from this rowid on are not in the
                            * full-text index yet; 0 when all are */
  /* Snapshots of what the cache holds, kept in step by the code that writes
   * it, so that applying an event reads back nothing it wrote: conversation
   * id -> SsqConversation, user id -> SsqUser. Filled on first read;
   * whatever a write does not keep in step it forgets. */
  GHashTable *conversations;
  GHashTable *users;
  /* Conversation id -> SsqCacheCounters: rows a batch has not written yet
   * (see ssq-cache-counters.c). */
  GHashTable *counters;
  /* Client ids of messages the open batch took out of the outbox: their
   * attachments' copies go once it commits. */
  GPtrArray  *doomed_outbox;
};

/* A conversation's row, as the messages of a batch move it. */
typedef struct {
  gint64 last_seq;
  gint64 read_seq;
  gint64 delivered_seq;
  gint64 unread;
  gint64 last_activity;
  gint64 rev;
  gint64 sync_rev;
  gint64 sync_seq;
} SsqCacheCounters;

SsqCacheCounters *ssq_cache_counters_get    (SsqCache         *self,
                                             const char       *conversation_id,
                                             GError          **error);
gboolean    ssq_cache_counters_settle       (SsqCache         *self,
                                             GError          **error);
void        ssq_cache_counters_settle_quietly (SsqCache       *self);
void        ssq_cache_counters_drop         (SsqCache         *self);
void        ssq_cache_counters_count_message (SsqCacheCounters *counters,
                                              SsqMessage       *message,
                                              gint64            unread_delta);
gint64      ssq_cache_next_cursor           (SsqCache         *self,
                                             const char       *conversation_id,
                                             gint64            cursor,
                                             GError          **error);

SsqMessage *ssq_cache_message_from_row  (sqlite3_stmt *stmt,
                                         const char   *self_id,
                                         gint64        peer_delivered,
                                         gint64        peer_read);
SsqMessage *ssq_cache_last_message      (SsqCache     *self,
                                         const char   *conversation_id);
gboolean    ssq_cache_advance_cursor    (SsqCache     *self,
                                         const char   *conversation_id,
                                         GError      **error);
gboolean    ssq_cache_advance_cursor_from (SsqCache   *self,
                                           const char *conversation_id,
                                           gint64      cursor,
                                           GError    **error);
void        ssq_cache_decorate_message  (SsqCache     *self,
                                         SsqMessage   *message,
                                         gboolean      with_quote);
void        ssq_cache_forget_conversation (SsqCache   *self,
                                           const char *conversation_id);
void        ssq_cache_forget_snapshots  (SsqCache     *self);
gboolean    ssq_cache_index_pending     (SsqCache     *self,
                                         GError      **error);
void        ssq_cache_outbox_drop_files (SsqCache     *self,
                                         gboolean      committed);

/* The columns ssq_cache_message_from_row reads, in order. */
#define SSQ_CACHE_MESSAGE_COLUMNS \
  "m.conversation_id, m.seq, m.id, m.sender, m.client_id, m.body, m.created_at, " \
  "m.edited_at, m.deleted, m.reply_to, m.media, m.rev"

G_END_DECLS
