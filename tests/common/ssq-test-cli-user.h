/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-test-cli-user.h: one person at the command line in the CLI tests: a
 * home of their own (XDG config and data) and a file with their password. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  char *home;           /* XDG config and data of one user */
  char *password_file;  /* "password123\n" */
} CliUser;

CliUser *cli_user_new  (void);
void     cli_user_free (CliUser *user);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CliUser, cli_user_free)

G_END_DECLS
