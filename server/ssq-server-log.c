/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-log.c: the server's log writer. GLib's default writer drops
 * info lines unless G_MESSAGES_DEBUG names their domain; a server's info
 * lines (one per HTTP request, see [log] requests) are what an
 * administrator reads in the journal, so they are always written, with
 * their priority (6), by which `journalctl -p notice` leaves them out.
 * Debug lines stay behind G_MESSAGES_DEBUG. Everything goes to stderr (or
 * the journal): stdout carries only the "listening on" line. */
#include "ssq-server-log.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/uio.h>
#include <unistd.h>

static gboolean to_journal;

/* As g_log_writer_standard_streams () writes an info line, without its
 * allocations and without asking the terminal about colours each time:
 * one write(2). Info lines come once per HTTP request, on the hot path. */
static GLogWriterOutput
write_line (GLogLevelFlags   level,
            const GLogField *fields,
            gsize            n_fields)
{
  const char *message = NULL;
  gint64 now = g_get_real_time ();
  time_t secs = (time_t) (now / G_USEC_PER_SEC);
  struct tm tm;
  char head[64];
  struct iovec v[3];
  int n;

  for (gsize i = 0; i < n_fields && message == NULL; i++)
    if (g_str_equal (fields[i].key, "MESSAGE") && fields[i].length < 0)
      message = fields[i].value;
  if (message == NULL || localtime_r (&secs, &tm) == NULL)
    return g_log_writer_standard_streams (level, fields, n_fields, NULL);
  n = g_snprintf (head, sizeof head, "** INFO: %02d:%02d:%02d.%03d: ", tm.tm_hour, tm.tm_min,
                  tm.tm_sec, (int) ((now / 1000) % 1000));
  v[0] = (struct iovec) { head, (gsize) n };
  v[1] = (struct iovec) { (char *) message, strlen (message) };
  v[2] = (struct iovec) { (char *) "\n", 1 };
  return writev (STDERR_FILENO, v, 3) >= 0 ? G_LOG_WRITER_HANDLED : G_LOG_WRITER_UNHANDLED;
}

static GLogWriterOutput
writer (GLogLevelFlags   level,
        const GLogField *fields,
        gsize            n_fields,
        gpointer         user_data)
{
  if ((level & G_LOG_LEVEL_MASK) != G_LOG_LEVEL_INFO)
    return g_log_writer_default (level, fields, n_fields, user_data);
  if (to_journal &&
      g_log_writer_journald (level, fields, n_fields, user_data) == G_LOG_WRITER_HANDLED)
    return G_LOG_WRITER_HANDLED;
  return write_line (level, fields, n_fields);
}

/**
 * ssq_server_log_init:
 * Installs the writer; once, before anything logs.
 */
void
ssq_server_log_init (void)
{
  to_journal = g_log_writer_is_journald (fileno (stderr));
  g_log_writer_default_set_use_stderr (TRUE);
  g_log_set_writer_func (writer, NULL, NULL);
}
