/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-tui-width.h: how many terminal columns UTF-8 text takes, and cutting
 * it to fit: wide characters, combining marks and emoji included. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

int        ssq_tui_char_width   (gunichar    c);
int        ssq_tui_text_width   (const char *text,
                                 gssize      length);
const char *ssq_tui_fit         (const char *text,
                                 int         columns,
                                 int        *out_width);
GPtrArray *ssq_tui_wrap         (const char *text,
                                 int         columns);

G_END_DECLS
