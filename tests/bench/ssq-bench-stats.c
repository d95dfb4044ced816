/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-bench-stats.c: what the load generator measures (clock, server CPU
 * and memory from /proc, latency percentiles) and, since every run records
 * its figures, the summary that gives each as a range over the runs. */
#include "ssq-bench-stats.h"

#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* ---- Measuring -------------------------------------------------------- */

/**
 * ssq_bench_stats_now_ns:
 *
 * Returns: CLOCK_MONOTONIC in nanoseconds
 */
gint64
ssq_bench_stats_now_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (gint64) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* utime + stime (µs) of a /proc stat file's text. */
static double
stat_cpu_us (const char *text)
{
  const char *p = strrchr (text, ')');
  g_auto(GStrv) f = NULL;

  if (p == NULL)
    return 0;
  f = g_strsplit (p + 2, " ", -1);
  if (g_strv_length (f) < 13)
    return 0;
  /* After ')': state is [0]; utime [11], stime [12], in clock ticks. */
  return (g_ascii_strtod (f[11], NULL) + g_ascii_strtod (f[12], NULL)) * 1e6 /
         sysconf (_SC_CLK_TCK);
}

/* The CPU time of the server's writer thread, found by its name. */
static double
writer_thread_us (GPid pid)
{
  g_autofree char *dir_path = g_strdup_printf ("/proc/%d/task", (int) pid);
  g_autoptr(GDir) dir = g_dir_open (dir_path, 0, NULL);
  const char *tid;

  while (dir != NULL && (tid = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *comm_path = g_build_filename (dir_path, tid, "comm", NULL);
      g_autofree char *stat_path = g_build_filename (dir_path, tid, "stat", NULL);
      g_autofree char *comm = NULL;
      g_autofree char *text = NULL;

      if (g_file_get_contents (comm_path, &comm, NULL, NULL) &&
          g_str_has_prefix (comm, "ssq-writer") &&
          g_file_get_contents (stat_path, &text, NULL, NULL))
        return stat_cpu_us (text);
    }
  return 0;
}

/**
 * ssq_bench_stats_sample:
 * @server: the running server
 *
 * Reads the server's CPU time and resident set from /proc (zero where
 * unreadable) and this process's CPU time.
 *
 * Returns: the sample
 */
SsqBenchSample
ssq_bench_stats_sample (SsqTestServer *server)
{
  SsqBenchSample st = { 0 };
  GPid pid = ssq_test_server_pid (server);
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", (int) pid);
  g_autofree char *status_path = g_strdup_printf ("/proc/%d/status", (int) pid);
  g_autofree char *text = NULL;
  g_autofree char *status = NULL;
  struct rusage ru;
  const char *p;

  g_autofree char *io_path = g_strdup_printf ("/proc/%d/io", (int) pid);
  g_autofree char *io = NULL;

  if (g_file_get_contents (path, &text, NULL, NULL))
    st.cpu_us = stat_cpu_us (text);
  st.writer_us = writer_thread_us (pid);
  if (g_file_get_contents (io_path, &io, NULL, NULL) && (p = strstr (io, "syscw:")) != NULL)
    st.syscw = g_ascii_strtoll (p + 6, NULL, 10);
  if (g_file_get_contents (status_path, &status, NULL, NULL) &&
      (p = strstr (status, "VmRSS:")) != NULL)
    st.rss_kb = g_ascii_strtoll (p + 6, NULL, 10);
  getrusage (RUSAGE_SELF, &ru);
  st.self_us = ru.ru_utime.tv_sec * 1e6 + ru.ru_utime.tv_usec +
               ru.ru_stime.tv_sec * 1e6 + ru.ru_stime.tv_usec;
  return st;
}

/* ---- Latencies -------------------------------------------------------- */

static int
cmp_i64 (gconstpointer a,
         gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return x < y ? -1 : x > y;
}

/**
 * ssq_bench_stats_sort:
 * @ns: (element-type gint64): durations
 *
 * Sorts @ns in place, shortest first.
 */
void
ssq_bench_stats_sort (GArray *ns)
{
  g_array_sort (ns, cmp_i64);
}

/**
 * ssq_bench_stats_percentile_us:
 * @sorted_ns: (element-type gint64): durations, sorted, not empty
 * @q: 0 … 1 (1 is the maximum)
 *
 * Returns: the @q quantile in microseconds
 */
double
ssq_bench_stats_percentile_us (GArray *sorted_ns,
                               double  q)
{
  guint i = MIN ((guint) (sorted_ns->len * q), sorted_ns->len - 1);

  return g_array_index (sorted_ns, gint64, i) / 1000.0;
}

/**
 * ssq_bench_stats_print_latency:
 * @label: what was measured
 * @sorted_ns: (element-type gint64): round trips, sorted, not empty
 * @cpu_us: server CPU spent over them
 *
 * Prints one line of percentiles and the server CPU per round trip.
 */
void
ssq_bench_stats_print_latency (const char *label,
                               GArray     *sorted_ns,
                               double      cpu_us)
{
  printf ("  %s: p50 %.1f µs, p99 %.1f µs, max %.1f µs (n=%u); "
          "server CPU %.1f µs per round trip\n",
          label, ssq_bench_stats_percentile_us (sorted_ns, 0.5),
          ssq_bench_stats_percentile_us (sorted_ns, 0.99),
          ssq_bench_stats_percentile_us (sorted_ns, 1.0), sorted_ns->len,
          cpu_us / sorted_ns->len);
}

/* ---- Figures: every run records, the summary gives ranges ------------- */

typedef struct {
  char   *name;
  GArray *values;     /* double */
} Figure;

static GPtrArray *figures;

static void
figure_free (Figure *f)
{
  g_free (f->name);
  g_array_unref (f->values);
  g_free (f);
}

/**
 * ssq_bench_stats_record:
 * @name: the figure, as the summary names it
 * @value: this run's value
 *
 * Adds one run's value to a figure; figures keep the order they were first
 * recorded in.
 */
void
ssq_bench_stats_record (const char *name,
                        double      value)
{
  Figure *f = NULL;

  if (figures == NULL)
    figures = g_ptr_array_new_with_free_func ((GDestroyNotify) figure_free);
  for (guint i = 0; i < figures->len && f == NULL; i++)
    if (g_str_equal (((Figure *) figures->pdata[i])->name, name))
      f = figures->pdata[i];
  if (f == NULL)
    {
      f = g_new0 (Figure, 1);
      f->name = g_strdup (name);
      f->values = g_array_new (FALSE, FALSE, sizeof (double));
      g_ptr_array_add (figures, f);
    }
  g_array_append_val (f->values, value);
}

/**
 * ssq_bench_stats_print_summary:
 * @server_bin: the server binary, for the heading
 *
 * Prints each figure's range over the runs and all its values.
 */
void
ssq_bench_stats_print_summary (const char *server_bin)
{
  printf ("\n== Summary (%s) ==\n", server_bin);
  for (guint i = 0; figures != NULL && i < figures->len; i++)
    {
      Figure *f = figures->pdata[i];
      double lo = G_MAXDOUBLE, hi = -G_MAXDOUBLE;
      g_autoptr(GString) all = g_string_new (NULL);

      for (guint j = 0; j < f->values->len; j++)
        {
          double v = g_array_index (f->values, double, j);

          lo = MIN (lo, v);
          hi = MAX (hi, v);
          g_string_append_printf (all, "%s%.4g", j ? " " : "", v);
        }
      printf ("  %-44s %12.4g .. %-12.4g [%s]\n", f->name, lo, hi, all->str);
    }
}

/**
 * ssq_bench_stats_clear:
 *
 * Forgets all figures.
 */
void
ssq_bench_stats_clear (void)
{
  g_clear_pointer (&figures, g_ptr_array_unref);
}
