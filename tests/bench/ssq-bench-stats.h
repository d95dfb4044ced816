/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-bench-stats.h: what the load generator measures (clock, server CPU
 * and memory, latency percentiles) and the summary of ranges over runs. */
#pragma once

#include "ssq-test-server.h"

G_BEGIN_DECLS

/* The server's and this process's use so far; differences make figures. */
typedef struct {
  double cpu_us;      /* server utime + stime, all threads */
  gint64 rss_kb;      /* server resident set */
  double self_us;     /* this process, for comparison */
  double writer_us;   /* the server's thread named ssq-writer (0 if none) */
  gint64 syscw;       /* the server's write system calls (pwrite of the WAL…) */
} SsqBenchSample;

gint64         ssq_bench_stats_now_ns        (void);
SsqBenchSample ssq_bench_stats_sample        (SsqTestServer *server);

void           ssq_bench_stats_sort          (GArray        *ns);
double         ssq_bench_stats_percentile_us (GArray        *sorted_ns,
                                              double         q);
void           ssq_bench_stats_print_latency (const char    *label,
                                              GArray        *sorted_ns,
                                              double         cpu_us);

void           ssq_bench_stats_record        (const char    *name,
                                              double         value);
void           ssq_bench_stats_print_summary (const char    *server_bin);
void           ssq_bench_stats_clear         (void);

G_END_DECLS
