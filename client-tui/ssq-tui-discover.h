/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-tui-discover.h: the first run without --server: servers found on
 * the LAN, offered as a numbered list. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

char *ssq_tui_choose_discovered (char **out_fingerprint);

G_END_DECLS
