/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-tui.h: supersoniq-tui, the terminal client: a view over SsqClient
 * drawn with ncursesw from the GLib main loop. */
#pragma once

#include "ssq-client.h"

G_BEGIN_DECLS

#define SSQ_TYPE_TUI (ssq_tui_get_type ())
G_DECLARE_FINAL_TYPE (SsqTui, ssq_tui, SSQ, TUI, GObject)

SsqTui *ssq_tui_new (SsqClient *client);
int     ssq_tui_run (SsqTui    *self);

int     ssq_tui_main (int    argc,
                      char **argv);

G_END_DECLS
