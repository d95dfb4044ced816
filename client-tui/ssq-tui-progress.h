/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-tui-progress.h: the status bar's progress line for a transfer:
 * "Uploading photo.jpg ▕████▌     ▏ 45% 1.2 MB/2.6 MB — Esc to cancel". */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define SSQ_TUI_PROGRESS_BAR_CELLS 10

char *ssq_tui_progress_format (const char *label,
                               guint64     done,
                               guint64     total,
                               int         width);

G_END_DECLS
