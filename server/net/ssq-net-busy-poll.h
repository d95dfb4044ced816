/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-net-busy-poll.h: the main loop polls for a short while before it
 * sleeps, when the last few waits were short. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  guint64 found;      /* polls that found something ready */
  guint64 slept;      /* polls that found nothing: the loop then slept */
  guint64 yielded;    /* polls cut short because other threads waited */
  double  seconds;    /* time spent polling */
} SsqNetBusyPollStats;

void ssq_net_busy_poll_install (GMainContext        *context,
                                guint                max_us);
void ssq_net_busy_poll_stats   (SsqNetBusyPollStats *out);

G_END_DECLS
