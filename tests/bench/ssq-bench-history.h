/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-bench-history.h: the history scenario of ssq-bench-net (pages of a
 * conversation of a million messages over REST). */
#pragma once

#include "ssq-bench-stats.h"

G_BEGIN_DECLS

void ssq_bench_history_run     (guint64 n_messages,
                                guint   n_pages,
                                guint   n_conns,
                                guint   seconds);
void ssq_bench_history_cleanup (void);

G_END_DECLS
