/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-backup-cli.h: the `backup`, `restore` and `migrate`
 * subcommands of supersoniq-server. Each takes its own argv (argv[0] is
 * the subcommand) and returns the exit code: 0 ok, 1 failure, 2 usage. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

int ssq_server_backup_cli  (int    argc,
                            char **argv);
int ssq_server_restore_cli (int    argc,
                            char **argv);
int ssq_server_migrate_cli (int    argc,
                            char **argv);

G_END_DECLS
