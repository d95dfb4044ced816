/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-net-busy-poll.h: the main loop polls for a short while before it
 * sleeps, when its last wait was short. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  guint64 found;      /* polls during which work came: a sleep saved */
  guint64 slept;      /* polls during which nothing came in time */
  guint64 yielded;    /* polls cut short: another thread had the core */
  double  seconds;    /* wall time spent polling */
} SsqNetBusyPollStats;

void ssq_net_busy_poll_install (GMainContext        *context,
                                guint                max_us);
void ssq_net_busy_poll_stats   (SsqNetBusyPollStats *out);

G_END_DECLS
