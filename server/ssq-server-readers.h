/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-readers.h: reads off the main loop. Threads of their own, each
 * with its own connection to the database, run read jobs; each job's
 * completion then runs on the main loop. Jobs run only on the connection
 * they are given, and touch nothing else but their own data. */
#pragma once

#include "ssq-server-store.h"

G_BEGIN_DECLS

typedef struct _SsqServerReaders SsqServerReaders;

/* Runs on a reader thread. */
typedef gboolean (*SsqServerReadFunc) (SsqServerStore *store,
                                       gpointer        data,
                                       GError        **error);
/* Runs on the main loop, after the read, with its error if it failed. */
typedef void     (*SsqServerReadDone) (gpointer        data,
                                       const GError   *error);

SsqServerReaders *ssq_server_readers_new    (const char         *db_path,
                                             gboolean            durable,
                                             guint               n_threads,
                                             GError            **error);
void              ssq_server_readers_free   (SsqServerReaders   *readers);
void              ssq_server_readers_run    (SsqServerReaders   *readers,
                                             SsqServerReadFunc   read,
                                             SsqServerReadDone   done,
                                             gpointer            data,
                                             GDestroyNotify      data_free);
void              ssq_server_readers_flush  (SsqServerReaders   *readers);
guint             ssq_server_readers_pending (SsqServerReaders  *readers);
gboolean          ssq_server_readers_room   (SsqServerReaders   *readers);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsqServerReaders, ssq_server_readers_free)

G_END_DECLS
