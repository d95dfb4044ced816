/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-store-private.h: what the store's files share. */
#pragma once

#include <sqlite3.h>

#include "ssq-server-store.h"

struct _SsqServerStore {
  sqlite3    *db;
  GHashTable *statements;   /* const char *sql (static) -> sqlite3_stmt */
};

sqlite3_stmt *ssq_server_store_stmt     (SsqServerStore  *store,
                                         const char      *sql,
                                         GError         **error);
gboolean      ssq_server_store_fail     (SsqServerStore  *store,
                                         GError         **error);
gboolean      ssq_server_store_step_done (SsqServerStore *store,
                                          sqlite3_stmt   *stmt,
                                          GError        **error);
char         *ssq_server_store_column_dup (sqlite3_stmt  *stmt,
                                           int            column);
void          ssq_server_store_bind_text (sqlite3_stmt   *stmt,
                                          int             index,
                                          const char     *text);
