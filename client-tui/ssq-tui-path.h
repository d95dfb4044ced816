/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-tui-path.h: file paths typed on the input line: ~ expanded, shell
 * quoting (backslashes, '…', "…") read and written, Tab completion. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

char      *ssq_tui_path_expand   (const char  *path);
char      *ssq_tui_path_unescape (const char  *typed,
                                  char        *out_open_quote);
char      *ssq_tui_path_escape   (const char  *path,
                                  char         quote);
GPtrArray *ssq_tui_path_complete (const char  *typed,
                                  char       **out_replacement);

G_END_DECLS
