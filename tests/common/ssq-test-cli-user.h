/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-test-cli-user.h: one person at the command line in the CLI tests: a
 * home of their own (XDG config and data), a file with their password, and
 * supersoniq-cli run as them. */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <stdarg.h>

#include "ssq-test-server.h"

G_BEGIN_DECLS

typedef struct {
  char *home;           /* XDG config and data of one user */
  char *password_file;  /* "password123\n" */
} CliUser;

CliUser *cli_user_new  (void);
void     cli_user_free (CliUser *user);

GSubprocessLauncher *cli_user_launcher (CliUser *user);
int       run_cli_va        (CliUser       *user,
                             const char    *stdin_text,
                             char         **out_stdout,
                             char         **out_stderr,
                             const char    *first,
                             va_list        ap);
int       run_cli           (CliUser       *user,
                             char         **out_stdout,
                             const char    *first,
                             ...);
int       run_cli_err       (CliUser       *user,
                             char         **out_stdout,
                             char         **out_stderr,
                             const char    *first,
                             ...);
int       run_cli_piped     (CliUser       *user,
                             const char    *stdin_text,
                             char         **out_stderr,
                             const char    *first,
                             ...);
JsonNode *cli_parse_json    (const char    *text);
void      cli_register_user (SsqTestServer *server,
                             CliUser       *user,
                             const char    *name);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CliUser, cli_user_free)

G_END_DECLS
