/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-cli.h: supersoniq-cli, the command-line client for scripts, bots and
 * administrators, on the same client library as the other clients. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Exit codes scripts can rely on. */
typedef enum {
  SSQ_CLI_OK        = 0,
  SSQ_CLI_FAILED    = 1,   /* the server refused (invalid, forbidden, conflict, rate limit...) */
  SSQ_CLI_USAGE     = 2,
  SSQ_CLI_AUTH      = 3,   /* not logged in, wrong password, session revoked */
  SSQ_CLI_NETWORK   = 4,   /* the server cannot be reached */
  SSQ_CLI_NOT_FOUND = 5,   /* no such user, conversation or message */
  SSQ_CLI_QUEUED    = 6,   /* sent to the outbox; the next command that connects delivers it */
  SSQ_CLI_UNTRUSTED = 7,   /* the server's key is not trusted yet, or not the trusted one */
  SSQ_CLI_STORAGE   = 8,   /* the local cache could not be written (a full or failing disk) */
} SsqCliExit;

int ssq_cli_run (int    argc,
                 char **argv);

G_END_DECLS
