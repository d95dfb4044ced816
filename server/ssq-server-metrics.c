/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-metrics.c: the /metrics page (Prometheus text format 0.0.4). */
#include "ssq-server-metrics.h"

#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static const double latency_bounds[SSQ_METRICS_N_BUCKETS] = {
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
};
static const double batch_bounds[SSQ_METRICS_N_BUCKETS] = {
  1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192,
};

/* When the server was made: the process's start as far as a scraper
 * cares (milliseconds after exec). Read from /proc it would need
 * /proc/uptime, which the system unit hides (ProcSubset=pid). */
static double process_started = -1;

void
ssq_server_metrics_init (SsqServerMetrics *m)
{
  if (process_started < 0)
    process_started = g_get_real_time () / 1e6;
  memset (m, 0, sizeof *m);
  m->http_latency.bounds = latency_bounds;
  m->ws_latency.bounds = latency_bounds;
  m->commit_latency.bounds = latency_bounds;
  m->commit_batch.bounds = batch_bounds;
}

void
ssq_histogram_observe (SsqHistogram *h,
                       double        value)
{
  for (guint i = 0; i < SSQ_METRICS_N_BUCKETS; i++)
    if (value <= h->bounds[i])
      {
        h->buckets[i]++;
        break;
      }
  h->count++;
  h->sum_seconds += value;
}

void
ssq_server_metrics_error (SsqServerMetrics *m,
                          const GError     *error)
{
  guint code = SSQ_ERROR_INTERNAL;

  if (error != NULL && error->domain == SSQ_ERROR && (guint) error->code < G_N_ELEMENTS (m->errors_total))
    code = (guint) error->code;
  m->errors_total[code]++;
}

static void
render_counter (GString    *out,
                const char *name,
                const char *type,
                const char *help,
                guint64     value)
{
  g_string_append_printf (out, "# HELP %s %s\n# TYPE %s %s\n%s %" G_GUINT64_FORMAT "\n",
                          name, help, name, type, name, value);
}

static void
render_histogram (GString            *out,
                  const char         *name,
                  const char         *help,
                  const SsqHistogram *h)
{
  guint64 cumulative = 0;
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  g_string_append_printf (out, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
  for (guint i = 0; i < SSQ_METRICS_N_BUCKETS; i++)
    {
      cumulative += h->buckets[i];
      g_string_append_printf (out, "%s_bucket{le=\"%s\"} %" G_GUINT64_FORMAT "\n", name,
                              g_ascii_dtostr (buf, sizeof buf, h->bounds[i]), cumulative);
    }
  g_string_append_printf (out, "%s_bucket{le=\"+Inf\"} %" G_GUINT64_FORMAT "\n", name, h->count);
  g_string_append_printf (out, "%s_sum %s\n", name, g_ascii_dtostr (buf, sizeof buf, h->sum_seconds));
  g_string_append_printf (out, "%s_count %" G_GUINT64_FORMAT "\n", name, h->count);
}

static gint64
count_open_fds (void)
{
  g_autoptr(GDir) dir = g_dir_open ("/proc/self/fd", 0, NULL);
  gint64 n = 0;

  if (dir == NULL)
    return -1;
  while (g_dir_read_name (dir) != NULL)
    n++;
  return n - 1;   /* the directory's own descriptor */
}

static gint64
resident_bytes (void)
{
  g_autofree char *status = NULL;
  const char *line;

  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL) ||
      (line = strstr (status, "VmRSS:")) == NULL)
    return -1;
  return g_ascii_strtoll (line + 6, NULL, 10) * 1024;
}

/**
 * ssq_server_metrics_process:
 * Reads the process's figures, for a scrape.
 */
void
ssq_server_metrics_process (SsqProcessStats *out)
{
  struct rlimit limit;
  struct rusage usage;

  out->start_time_seconds = process_started;
  out->open_fds = count_open_fds ();
  out->max_fds = getrlimit (RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY
                   ? (gint64) limit.rlim_cur : -1;
  out->resident_memory_bytes = resident_bytes ();
  out->cpu_seconds = getrusage (RUSAGE_SELF, &usage) == 0
                       ? usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
                         (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
                       : -1;
}

static void
render_double (GString    *out,
               const char *name,
               const char *type,
               const char *help,
               double      value)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  g_string_append_printf (out, "# HELP %s %s\n# TYPE %s %s\n%s %s\n", name, help, name, type,
                          name, g_ascii_formatd (buf, sizeof buf, "%.6f", value));
}

char *
ssq_server_metrics_render (SsqServerMetrics      *m,
                           guint64                sessions,
                           guint64                users_online,
                           const SsqProcessStats *process)
{
  GString *out = g_string_new (NULL);

  render_counter (out, "ssq_connections", "gauge", "Open WebSocket sessions.", sessions);
  render_counter (out, "ssq_users_online", "gauge", "Users with at least one open session.",
                  users_online);
  render_counter (out, "ssq_connections_accepted_total", "counter",
                  "WebSocket sessions accepted.", m->ws_accepted_total);
  render_counter (out, "ssq_connections_cut_slow_total", "counter",
                  "Sessions closed because the peer stopped reading.", m->ws_cut_slow_total);
  render_counter (out, "ssq_tcp_connections", "gauge", "Open TCP connections.",
                  m->tcp_connections);
  render_counter (out, "ssq_tcp_refused_total", "counter",
                  "Connections refused at accept (connection limits, or out of descriptors).",
                  m->tcp_refused_total);
  render_counter (out, "ssq_http_requests_total", "counter", "HTTP requests handled.",
                  m->http_requests_total);
  render_counter (out, "ssq_messages_stored_total", "counter", "Messages committed to storage.",
                  m->messages_stored_total);
  render_counter (out, "ssq_messages_delivered_total", "counter",
                  "Message events queued to sessions.", m->messages_delivered_total);
  render_counter (out, "ssq_events_sent_total", "counter", "Frames queued to sessions.",
                  m->events_sent_total);
  render_counter (out, "ssq_bridge_events_total", "counter",
                  "Message events published to supersoniq.events (none while nothing is bound there).",
                  m->bridge_events_total);
  render_counter (out, "ssq_commits_total", "counter", "Storage transactions committed.",
                  m->commits_total);
  render_counter (out, "ssq_checkpoints_total", "counter",
                  "Checkpoints (the log copied into the database) run on their own thread.",
                  m->checkpoints_total);
  render_counter (out, "ssq_checkpoint_finishes_total", "counter",
                  "Checkpoints of the log's last frames, run by the writer thread itself.",
                  m->checkpoint_finishes_total);
  render_counter (out, "ssq_checkpoint_finish_max_frames", "gauge",
                  "The most frames one of those copied.", m->checkpoint_finish_max_frames);
  render_counter (out, "ssq_checkpoints_forced_total", "counter",
                  "Checkpoints the writer thread ran itself, the log being too long "
                  "(the checkpoint thread fell behind, or a reader held old frames).",
                  m->checkpoints_forced_total);
  render_counter (out, "ssq_checkpoint_forced_max_frames", "gauge",
                  "The most frames one of those copied.", m->checkpoint_forced_max_frames);
  render_counter (out, "ssq_wal_frames", "gauge",
                  "Frames in the write-ahead log at the last commit.", m->wal_frames);
  render_counter (out, "ssq_membership_reads_total", "counter",
                  "Conversations whose members the main loop read from storage (not in memory).",
                  m->membership_reads_total);
  render_counter (out, "ssq_history_reads_total", "counter", "History pages read.",
                  m->history_reads_total);
  render_counter (out, "ssq_history_reads_off_loop_total", "counter",
                  "History pages read on a reader thread, the main loop having other work.",
                  m->history_reads_off_loop_total);
  render_counter (out, "ssq_loop_iteration_max_microseconds", "gauge",
                  "Longest main-loop iteration (all work between two polls) since the last scrape.",
                  m->loop_busy_max_us);
  render_counter (out, "ssq_loop_iteration_max_cpu_microseconds", "gauge",
                  "Most CPU time one main-loop iteration took since the last scrape "
                  "(the wall-time gauge also counts time the thread was preempted).",
                  m->loop_cpu_max_us);
  render_counter (out, "ssq_loop_polls_found_total", "counter",
                  "Times work came while the main loop polled before sleeping: a sleep saved.",
                  m->busy_poll.found);
  render_counter (out, "ssq_loop_polls_slept_total", "counter",
                  "Times the main loop polled before sleeping and nothing came in time.",
                  m->busy_poll.slept);
  render_counter (out, "ssq_loop_polls_yielded_total", "counter",
                  "Times another thread took the main loop's core while it polled (it then "
                  "sleeps without polling for 100 ms).", m->busy_poll.yielded);
  render_double (out, "ssq_loop_poll_seconds_total", "counter",
                 "Wall time the main loop spent polling before sleeping ([server] busy_poll_us): "
                 "at most a quarter of the time, after a first 25 ms.", m->busy_poll.seconds);
  render_counter (out, "ssq_media_bytes_stored", "gauge",
                  "Bytes of media files stored (equal uploads stored once).",
                  m->media_bytes_stored);
  render_counter (out, "ssq_media_uploads_total", "counter", "Media uploads stored.",
                  m->media_uploads_total);
  render_counter (out, "ssq_thumbnails_made_total", "counter", "Thumbnails made.",
                  m->thumbnails_made_total);
  render_counter (out, "ssq_thumbnails_failed_total", "counter",
                  "Images no thumbnail could be made of.", m->thumbnails_failed_total);
  render_counter (out, "ssq_thumbnail_queue_length", "gauge", "Images waiting for a thumbnail.",
                  m->thumbnail_queue_length);
  g_string_append (out, "# HELP ssq_errors_total Errors returned to clients, by code.\n"
                        "# TYPE ssq_errors_total counter\n");
  for (guint i = 0; i < G_N_ELEMENTS (m->errors_total); i++)
    if (i != SSQ_ERROR_NETWORK && i != SSQ_ERROR_PROTOCOL)   /* the client's own */
      g_string_append_printf (out, "ssq_errors_total{code=\"%s\"} %" G_GUINT64_FORMAT "\n",
                            ssq_error_code_to_string ((SsqError) i), m->errors_total[i]);
  render_histogram (out, "ssq_http_request_duration_seconds",
                    "Time from request headers to response.", &m->http_latency);
  render_histogram (out, "ssq_ws_request_duration_seconds",
                    "Time from a WebSocket request frame to its ack or error.", &m->ws_latency);
  render_histogram (out, "ssq_commit_duration_seconds", "Time of one group commit.",
                    &m->commit_latency);
  render_histogram (out, "ssq_commit_batch_size", "Writes per group commit.", &m->commit_batch);
  if (process->resident_memory_bytes >= 0)
    render_counter (out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.",
                    (guint64) process->resident_memory_bytes);
  if (process->open_fds >= 0)
    render_counter (out, "process_open_fds", "gauge", "Number of open file descriptors.",
                    (guint64) process->open_fds);
  if (process->max_fds >= 0)
    render_counter (out, "process_max_fds", "gauge",
                    "Maximum number of open file descriptors (the soft limit).",
                    (guint64) process->max_fds);
  if (process->cpu_seconds >= 0)
    render_double (out, "process_cpu_seconds_total", "counter",
                   "Total user and system CPU time spent in seconds.", process->cpu_seconds);
  if (process->start_time_seconds >= 0)
    render_double (out, "process_start_time_seconds", "gauge",
                   "Start time of the process since unix epoch in seconds.",
                   process->start_time_seconds);
  return g_string_free (out, FALSE);
}
