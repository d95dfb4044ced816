/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-store-private.h: what the store's files share. */
#pragma once

#include <sqlite3.h>

#include "ssq-db.h"
#include "ssq-server-store.h"

struct _SsqServerStore {
  SsqDb       base;

  /* The writer's connection, while its fast path runs a batch: the
   * counters sends hold back (ssq-server-store-deferred.c). */
  gboolean    deferring;
  gboolean    defer_failed;  /* a flush failed: the batch must roll back */
  GHashTable *convs;     /* conversation id -> its counters */
  GHashTable *marks;     /* the senders' marks (SenderMark), each its own key */

  SsqServerStoreCommitHook commit_hook;   /* replaces the automatic checkpoint */
  gpointer                 commit_hook_data;
};

/* The store's files use the shared SQLite plumbing on the store's handle.
 * ssq_server_store_stmt() first writes what sends held back; the _raw
 * statements are a send's own, which must not (the deferred module's
 * and the append's). */
sqlite3_stmt *ssq_server_store_stmt (SsqServerStore  *store,
                                     const char      *static_sql,
                                     GError         **error);
#define ssq_server_store_stmt_raw(store, sql, error) ssq_db_stmt (&(store)->base, (sql), (error))
#define ssq_server_store_fail(store, error) ssq_db_fail (&(store)->base, (error))
#define ssq_server_store_step_done(store, stmt, error) \
  ssq_db_step_done (&(store)->base, (stmt), (error))
#define ssq_server_store_column_dup ssq_db_column_dup
#define ssq_server_store_bind_text ssq_db_bind_text

/* The SQL functions the schema and the statements use (ssq_message_json),
 * registered on every connection before anything else runs on it. */
gboolean ssq_server_store_register_functions (SsqServerStore  *store,
                                              GError         **error);

/* The statements behind the deferred counters, without the barrier. */
gboolean ssq_server_store_last_seq_raw (SsqServerStore  *store,
                                        const char      *conversation_id,
                                        gint64          *out,
                                        GError         **error);
gboolean ssq_server_store_set_last_seq_raw (SsqServerStore  *store,
                                            const char      *conversation_id,
                                            gint64           last_seq,
                                            gint64           updated_at,
                                            GError         **error);
gboolean ssq_server_store_deferred_last_seq (SsqServerStore  *store,
                                             const char      *conversation_id,
                                             gint64          *out,
                                             GError         **error);
void     ssq_server_store_deferred_seq_taken (SsqServerStore *store,
                                              const char     *conversation_id,
                                              gint64          seq,
                                              gint64          created_at);
gboolean ssq_server_store_deferring      (SsqServerStore *store);
void     ssq_server_store_deferred_free  (SsqServerStore *store);
