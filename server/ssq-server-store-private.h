/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-store-private.h: what the store's files share. */
#pragma once

#include <sqlite3.h>

#include "ssq-db.h"
#include "ssq-server-store.h"

struct _SsqServerStore {
  SsqDb base;
};

/* The store's files use the shared SQLite plumbing on the store's handle. */
#define ssq_server_store_stmt(store, sql, error) ssq_db_stmt (&(store)->base, (sql), (error))
#define ssq_server_store_fail(store, error) ssq_db_fail (&(store)->base, (error))
#define ssq_server_store_step_done(store, stmt, error) \
  ssq_db_step_done (&(store)->base, (stmt), (error))
#define ssq_server_store_column_dup ssq_db_column_dup
#define ssq_server_store_bind_text ssq_db_bind_text

/* The SQL functions the schema and the statements use (ssq_message_json),
 * registered on every connection before anything else runs on it. */
gboolean ssq_server_store_register_functions (SsqServerStore  *store,
                                              GError         **error);
