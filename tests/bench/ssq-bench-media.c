/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-bench-media.c: media on loopback against the disk: a file uploaded
 * (POST /api/v1/media) and downloaded (into a file) against cp of the same
 * file, as MB/s and ratios; and the server's memory (VmRSS sampled, VmHWM)
 * while a 1 GB upload streams through it. A fresh server from
 * SSQ_SERVER_BIN in a temporary directory; not part of the test run. */
#include "ssq-test-raw.h"

#include <arpa/inet.h>
#include <glib/gstdio.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define MiB (1024 * 1024)

static int opt_runs = 3;
static int opt_size_mb = 200;
static int opt_big_mb = 1024;

static GOptionEntry entries[] = {
  { "runs", 'r', 0, G_OPTION_ARG_INT, &opt_runs, "Runs of the file up, down and cp (3)", "N" },
  { "size", 's', 0, G_OPTION_ARG_INT, &opt_size_mb, "The file, in MB (200)", "MB" },
  { "big", 'b', 0, G_OPTION_ARG_INT, &opt_big_mb, "The upload whose memory is watched (1024)",
    "MB" },
  { NULL }
};

static double
seconds_since (gint64 start)
{
  return (g_get_monotonic_time () - start) / 1e6;
}

static int
connect_to (SsqTestServer *s)
{
  const char *colon = strrchr (s->listen, ':');
  struct sockaddr_in sa = { .sin_family = AF_INET };
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  sa.sin_port = htons ((guint16) g_ascii_strtoull (colon + 1, NULL, 10));
  inet_pton (AF_INET, "127.0.0.1", &sa.sin_addr);
  if (fd < 0 || connect (fd, (struct sockaddr *) &sa, sizeof sa) != 0)
    g_error ("connect: %s", g_strerror (errno));
  return fd;
}

static void
send_all (int         fd,
          const void *data,
          gsize       len)
{
  while (len > 0)
    {
      gssize n = send (fd, data, len, MSG_NOSIGNAL);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        g_error ("send: %s", g_strerror (errno));
      data = (const char *) data + n;
      len -= n;
    }
}

/* Reads a response head; the status, and the body bytes read with it in
 * @extra. */
static guint
read_head (int         fd,
           gint64     *out_length,
           GByteArray *extra)
{
  g_autoptr(GString) head = g_string_new (NULL);
  char buf[65536];
  const char *end = NULL, *cl;

  while (end == NULL)
    {
      gssize n = read (fd, buf, sizeof buf);

      if (n <= 0)
        g_error ("read: the server closed (%s)", n < 0 ? g_strerror (errno) : "EOF");
      g_string_append_len (head, buf, n);
      end = strstr (head->str, "\r\n\r\n");
    }
  g_byte_array_append (extra, (const guint8 *) end + 4, head->len - (end + 4 - head->str));
  cl = strcasestr (head->str, "\r\ncontent-length:");
  *out_length = cl ? g_ascii_strtoll (cl + 17, NULL, 10) : 0;
  return (guint) g_ascii_strtoull (head->str + 9, NULL, 10);
}

/* The body after its head, into @out_fd (or counted only when -1). */
static void
read_body (int         fd,
           gint64      length,
           GByteArray *extra,
           int         out_fd,
           GByteArray *keep)
{
  g_autofree guint8 *buf = g_malloc (MiB);
  gint64 got = extra->len;

  if (out_fd >= 0 && extra->len > 0 && write (out_fd, extra->data, extra->len) < 0)
    g_error ("write: %s", g_strerror (errno));
  if (keep != NULL)
    g_byte_array_append (keep, extra->data, extra->len);
  while (got < length)
    {
      gssize n = read (fd, buf, MIN (MiB, length - got));

      if (n <= 0)
        g_error ("read body: %s", n < 0 ? g_strerror (errno) : "EOF");
      if (out_fd >= 0 && write (out_fd, buf, n) != n)
        g_error ("write: %s", g_strerror (errno));
      if (keep != NULL)
        g_byte_array_append (keep, buf, n);
      got += n;
    }
}

static char *
upload_file (SsqTestServer *s,
             const char    *token,
             const char    *path,
             double        *out_seconds)
{
  int fd = connect_to (s), in = open (path, O_RDONLY | O_CLOEXEC);
  struct stat st;
  g_autofree char *head = NULL;
  g_autoptr(GByteArray) extra = g_byte_array_new ();
  g_autoptr(GByteArray) reply = g_byte_array_new ();
  off_t offset = 0;
  gint64 length, start;
  guint status;
  const char *id;

  fstat (in, &st);
  head = g_strdup_printf ("POST /api/v1/media?name=bench.bin HTTP/1.1\r\nHost: bench\r\n"
                          "Authorization: Bearer %s\r\nContent-Length: %" G_GINT64_FORMAT
                          "\r\n\r\n", token, (gint64) st.st_size);
  start = g_get_monotonic_time ();
  send_all (fd, head, strlen (head));
  while (offset < st.st_size)
    if (sendfile (fd, in, &offset, st.st_size - offset) < 0 && errno != EINTR)
      g_error ("sendfile: %s", g_strerror (errno));
  status = read_head (fd, &length, extra);
  read_body (fd, length, extra, -1, reply);
  *out_seconds = seconds_since (start);
  close (in);
  close (fd);
  g_byte_array_append (reply, (const guint8 *) "", 1);
  if (status != 201)
    g_error ("upload: %u %s", status, (char *) reply->data);
  id = strstr ((char *) reply->data, "\"id\":\"");
  return g_strndup (id + 6, strchr (id + 6, '"') - (id + 6));
}

static double
download_file (SsqTestServer *s,
               const char    *token,
               const char    *id,
               const char    *path,
               gint64         expected)
{
  int fd = connect_to (s);
  int out = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  g_autofree char *head = g_strdup_printf ("GET /api/v1/media/%s HTTP/1.1\r\nHost: bench\r\n"
                                           "Authorization: Bearer %s\r\n\r\n", id, token);
  g_autoptr(GByteArray) extra = g_byte_array_new ();
  gint64 length, start = g_get_monotonic_time ();
  double took;

  send_all (fd, head, strlen (head));
  if (read_head (fd, &length, extra) != 200 || length != expected)
    g_error ("download: wrong status or length %" G_GINT64_FORMAT, length);
  read_body (fd, length, extra, out, NULL);
  took = seconds_since (start);
  close (out);
  close (fd);
  return took;
}

static double
run_cp (const char *from,
        const char *to,
        gboolean    sync_after)
{
  const char *cp[] = { "cp", from, to, NULL };
  const char *sync_argv[] = { "sync", to, NULL };
  gint64 start = g_get_monotonic_time ();
  int status = 0;

  if (!g_spawn_sync (NULL, (char **) cp, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL,
                     &status, NULL) || status != 0)
    g_error ("cp failed");
  if (sync_after &&
      !g_spawn_sync (NULL, (char **) sync_argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL,
                     NULL, &status, NULL))
    g_error ("sync failed");
  return seconds_since (start);
}

static int
compare_doubles (gconstpointer a,
                 gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

static double
median (GArray *values)
{
  g_array_sort (values, compare_doubles);
  return g_array_index (values, double, values->len / 2);
}

static void
make_file (const char *path,
           gsize       size)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (42);
  g_autofree guint32 *buf = g_new (guint32, MiB / 4);
  int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

  for (gsize done = 0; done < size; done += MiB)
    {
      for (guint i = 0; i < MiB / 4; i++)
        buf[i] = g_rand_int (rand);
      if (write (fd, buf, MIN (MiB, size - done)) < 0)
        g_error ("write: %s", g_strerror (errno));
    }
  fsync (fd);
  close (fd);
}

/* Up, down and cp of one file, @opt_runs times each, alternating. */
static void
bench_file (SsqTestServer *s,
            const char    *token,
            const char    *dir)
{
  g_autofree char *src = g_build_filename (dir, "src.bin", NULL);
  g_autofree char *dst = g_build_filename (dir, "dst.bin", NULL);
  g_autoptr(GArray) up = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) down = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) cp = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) cp_sync = g_array_new (FALSE, FALSE, sizeof (double));
  double mb = opt_size_mb * (double) MiB / 1e6;

  make_file (src, (gsize) opt_size_mb * MiB);
  for (int run = 0; run < opt_runs; run++)
    {
      g_autofree char *id = NULL;
      double t;

      t = run_cp (src, dst, FALSE);
      g_array_append_val (cp, t);
      g_unlink (dst);
      t = run_cp (src, dst, TRUE);
      g_array_append_val (cp_sync, t);
      g_unlink (dst);
      id = upload_file (s, token, src, &t);
      g_array_append_val (up, t);
      t = download_file (s, token, id, dst, (gint64) opt_size_mb * MiB);
      g_array_append_val (down, t);
      g_unlink (dst);
      g_print ("run %d: cp %.0f MB/s, cp+sync %.0f MB/s, upload %.0f MB/s, download %.0f MB/s\n",
               run + 1, mb / g_array_index (cp, double, run),
               mb / g_array_index (cp_sync, double, run), mb / g_array_index (up, double, run),
               mb / t);
    }
  g_print ("%d MB file, median of %d: cp %.0f MB/s, cp+sync %.0f MB/s; upload %.0f MB/s "
           "(%.2f x cp, %.2f x cp+sync); download %.0f MB/s (%.2f x cp)\n",
           opt_size_mb, opt_runs, mb / median (cp), mb / median (cp_sync), mb / median (up),
           median (cp) / median (up), median (cp_sync) / median (up), mb / median (down),
           median (cp) / median (down));
  g_unlink (src);
}

/* A big upload from memory (the same random MiB over and over), the
 * server's resident memory sampled every 100 ms, and its peak. */
static void
bench_big_upload (SsqTestServer *s,
                  const char    *token)
{
  g_autoptr(GBytes) block = NULL;
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);
  guint32 *words = g_new (guint32, MiB / 4);
  gint64 total = (gint64) opt_big_mb * MiB, length, start, last_sample = 0;
  g_autofree char *head = g_strdup_printf ("POST /api/v1/media?name=big.bin HTTP/1.1\r\n"
                                           "Host: bench\r\nAuthorization: Bearer %s\r\n"
                                           "Content-Length: %" G_GINT64_FORMAT "\r\n\r\n",
                                           token, total);
  g_autoptr(GByteArray) extra = g_byte_array_new ();
  gsize baseline, rss_max = 0, hwm;
  guint status;
  int fd;

  for (guint i = 0; i < MiB / 4; i++)
    words[i] = g_rand_int (rand);
  block = g_bytes_new_take (words, MiB);
  baseline = ssq_test_rss_baseline (s);
  fd = connect_to (s);
  start = g_get_monotonic_time ();
  send_all (fd, head, strlen (head));
  for (gint64 sent = 0; sent < total; sent += MiB)
    {
      send_all (fd, g_bytes_get_data (block, NULL), MiB);
      if (g_get_monotonic_time () - last_sample >= 100000)
        {
          rss_max = MAX (rss_max, ssq_test_server_rss_kb (s));
          last_sample = g_get_monotonic_time ();
        }
    }
  status = read_head (fd, &length, extra);
  read_body (fd, length, extra, -1, NULL);
  hwm = ssq_test_server_peak_rss_kb (s);
  close (fd);
  if (status != 201)
    g_error ("big upload: %u", status);
  g_print ("%d MB upload: %.0f MB/s; server VmRSS %" G_GSIZE_FORMAT " KiB before, at most %"
           G_GSIZE_FORMAT " KiB sampled during it, peak (VmHWM) %" G_GSIZE_FORMAT
           " KiB: +%" G_GSIZE_FORMAT " KiB\n",
           opt_big_mb, total / 1e6 / seconds_since (start), baseline, rss_max, hwm,
           hwm > baseline ? hwm - baseline : 0);
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new ("- media throughput and memory");
  g_autoptr(GError) error = NULL;
  g_autoptr(SsqTestServer) s = NULL;
  g_autoptr(SsqTestUser) user = NULL;
  g_autofree char *dir = NULL;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }
  if (g_getenv ("SSQ_SERVER_BIN") == NULL)
    g_setenv ("SSQ_SERVER_BIN", "build/server/supersoniq-server", FALSE);
  /* The bench's files beside the server's data, on the same disk. */
  s = ssq_test_server_start (NULL, "[media]\nmax_size=4294967296\nquota_per_user=0\n"
                                   "uploads_per_minute=0\n");
  user = ssq_test_register (s, "bench");
  dir = g_build_filename (s->data_dir, "bench", NULL);
  g_mkdir (dir, 0700);
  bench_file (s, user->token, dir);
  bench_big_upload (s, user->token);
  return 0;
}
