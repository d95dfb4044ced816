/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-metrics.h: counters and histograms, rendered for Prometheus. */
#pragma once

#include <glib.h>
#include "ssq-proto.h"
#include "net/ssq-net-busy-poll.h"

G_BEGIN_DECLS

#define SSQ_METRICS_N_BUCKETS 14

typedef struct {
  const double *bounds;                    /* ascending upper bounds */
  guint64 buckets[SSQ_METRICS_N_BUCKETS];  /* per bucket; made cumulative when rendered */
  guint64 count;
  double  sum_seconds;
} SsqHistogram;

typedef struct {
  guint64      ws_accepted_total;
  guint64      ws_cut_slow_total;       /* sessions closed for not reading */
  guint64      http_requests_total;
  guint64      tcp_connections;          /* open TCP connections (set when rendered) */
  guint64      tcp_refused_total;        /* refused at accept: limits or no descriptors */
  guint64      messages_stored_total;
  guint64      messages_delivered_total; /* message events queued to sessions */
  guint64      events_sent_total;        /* every frame queued to sessions */
  guint64      bridge_events_total;      /* message events published to supersoniq.events */
  guint64      errors_total[SSQ_ERROR_LAST + 1];   /* network, protocol: unused */
  guint64      commits_total;
  guint64      checkpoints_total;        /* on the checkpointer's thread */
  guint64      checkpoint_finishes_total;  /* the last frames, copied by the writer */
  guint64      checkpoint_finish_max_frames;
  guint64      checkpoints_forced_total; /* the log too long: the writer copied */
  guint64      checkpoint_forced_max_frames;
  guint64      wal_frames;               /* the log's length at the last commit */
  guint64      loop_busy_max_us;         /* longest loop iteration since the last scrape */
  guint64      loop_cpu_max_us;          /* the most CPU time of one of them */
  SsqNetBusyPollStats busy_poll;         /* the loop's polls before sleeping (set when rendered) */
  guint64      membership_reads_total;
  guint64      history_reads_total;      /* history pages read */
  guint64      history_reads_off_loop_total;  /* of them, on a reader thread */
  guint64      media_uploads_total;      /* uploads stored (201) */
  guint64      media_bytes_stored;       /* bytes of the media store's files (set when rendered) */
  guint64      thumbnails_made_total;    /* the thumbnailer's (0 until it is wired in) */
  guint64      thumbnails_failed_total;
  guint64      thumbnail_queue_length;
  SsqHistogram http_latency;
  SsqHistogram ws_latency;
  SsqHistogram commit_latency;
  SsqHistogram commit_batch;            /* operations per commit (not seconds) */
} SsqServerMetrics;

void   ssq_server_metrics_init    (SsqServerMetrics *m);
void   ssq_histogram_observe      (SsqHistogram     *h,
                                   double            value);
void   ssq_server_metrics_error   (SsqServerMetrics *m,
                                   const GError     *error);
/* The process, as Prometheus's conventions name it (from /proc/self and
 * getrlimit/getrusage); a field is -1 when it could not be read. */
typedef struct {
  gint64 open_fds;
  gint64 max_fds;                 /* the soft limit */
  gint64 resident_memory_bytes;
  double cpu_seconds;             /* user and system */
  double start_time_seconds;      /* since the epoch */
} SsqProcessStats;

void   ssq_server_metrics_process (SsqProcessStats  *out);
char  *ssq_server_metrics_render  (SsqServerMetrics *m,
                                   guint64           sessions,
                                   guint64           users_online,
                                   const SsqProcessStats *process);

G_END_DECLS
