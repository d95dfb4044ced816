/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-prompt.h: asking the person at the terminal for a line or a
 * password (without echo), for the terminal client and the CLI. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

char *ssq_prompt_line     (const char  *question,
                           GError     **error);
char *ssq_prompt_password (const char  *question,
                           GError     **error);
char *ssq_read_password_file (const char *path,
                              GError    **error);

G_END_DECLS
