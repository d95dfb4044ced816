/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-checkpointer.h: copying the write-ahead log into the database
 * on a thread of its own, so that the writer thread never stops for it. */
#pragma once

#include "ssq-server-store.h"

G_BEGIN_DECLS

typedef struct _SsqServerCheckpointer SsqServerCheckpointer;

typedef struct {
  guint64 passes;          /* checkpoints run on the checkpointer's thread */
  guint64 finishes;        /* the last frames copied by the writer itself */
  guint64 finish_max;      /* the most frames one finish copied */
  guint64 forced;          /* the writer copied all it could: the log too long */
  guint64 forced_max;      /* the most frames one of those copied */
  guint64 wal_frames;      /* the log's length at the last commit */
} SsqCheckpointStats;

SsqServerCheckpointer *ssq_server_checkpointer_new   (const char             *path,
                                                      gboolean                durable,
                                                      SsqServerStore         *writer,
                                                      guint                   threshold,
                                                      GError                **error);
void                   ssq_server_checkpointer_free  (SsqServerCheckpointer  *self);
void                   ssq_server_checkpointer_stats (SsqServerCheckpointer  *self,
                                                      SsqCheckpointStats     *out);
void                   ssq_server_checkpointer_set_pass_hook (SsqServerCheckpointer *self,
                                                              void (*hook) (gpointer user_data),
                                                              gpointer               user_data);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsqServerCheckpointer, ssq_server_checkpointer_free)

G_END_DECLS
