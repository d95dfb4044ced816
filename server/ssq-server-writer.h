/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-writer.h: group commit on a thread of its own. Writes queue up
 * while the previous batch commits and share one transaction (one fsync);
 * each learns its outcome, on the main loop, only after the commit, so an
 * ack always follows durability. Operations run on the writer thread: they
 * may touch only the store they are given and their own data. */
#pragma once

#include "ssq-server-store.h"

G_BEGIN_DECLS

typedef struct _SsqServerWriter SsqServerWriter;

/* Runs inside the batch transaction; a failure undoes only this operation
 * (the batch is then run again with a savepoint per operation, so an
 * operation may run twice: it must set its results afresh each time). */
typedef gboolean (*SsqServerWriterOp)   (SsqServerStore *store,
                                         gpointer        data,
                                         GError        **error);
/* Runs after the commit (or its failure), in submission order. @error is the
 * operation's own error, or the commit's. */
typedef void     (*SsqServerWriterDone) (gpointer        data,
                                         const GError   *error);

typedef void     (*SsqServerWriterBatchHook) (guint     n_ops,
                                              gint64    commit_us,
                                              gpointer  user_data);

SsqServerWriter *ssq_server_writer_new    (SsqServerStore      *store,
                                           guint                batch_max);
void             ssq_server_writer_free   (SsqServerWriter     *writer);
void             ssq_server_writer_submit (SsqServerWriter     *writer,
                                           SsqServerWriterOp    op,
                                           SsqServerWriterDone  done,
                                           gpointer             data,
                                           GDestroyNotify       data_free);
void             ssq_server_writer_flush  (SsqServerWriter     *writer);
guint            ssq_server_writer_pending (SsqServerWriter    *writer);
void             ssq_server_writer_set_batch_hook (SsqServerWriter          *writer,
                                                   SsqServerWriterBatchHook  hook,
                                                   gpointer                  user_data);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsqServerWriter, ssq_server_writer_free)

G_END_DECLS
