/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-admin-cli.h: `supersoniq-server admin`, the administration's
 * command line (ssq-server-admin-cli.c) and what it prints
 * (ssq-server-admin-print.c). */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

int  ssq_server_admin_cli_run   (int          argc,
                                 char       **argv);
void ssq_admin_cli_print_json   (JsonNode    *node);
void ssq_admin_cli_print        (const char  *op,
                                 JsonObject  *request,
                                 JsonNode    *result);

G_END_DECLS
