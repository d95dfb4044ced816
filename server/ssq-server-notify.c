/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-notify.c: tells the service manager how the server is doing
 * (Type=notify units): ready once the listening socket is bound, a status
 * line, stopping, and watchdog pings from the main loop. Built without
 * libsystemd, or run without $NOTIFY_SOCKET, every call does nothing. */
#include "ssq-config.h"
#include "ssq-server-notify.h"

#if HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

static void
notify (const char *state)
{
#if HAVE_LIBSYSTEMD
  /* A failure here (no manager listening) changes nothing for the server:
   * it runs as well unsupervised. */
  sd_notify (0, state);
#else
  (void) state;
#endif
}

/**
 * ssq_server_notify_ready:
 * @url: where the server listens, for the status line
 *
 * Called once the listening socket is bound and signals are handled: from
 * then on a client's connection is accepted, and a stop is graceful.
 */
void
ssq_server_notify_ready (const char *url)
{
  g_autofree char *state = g_strdup_printf ("READY=1\nSTATUS=Listening on %s", url);

  notify (state);
}

/* Called when a graceful shutdown starts (SIGTERM, SIGINT). */
void
ssq_server_notify_stopping (void)
{
  notify ("STOPPING=1\nSTATUS=Shutting down");
}

#if HAVE_LIBSYSTEMD
static gboolean
watchdog_cb (gpointer data)
{
  notify ("WATCHDOG=1");
  return G_SOURCE_CONTINUE;
}
#endif

/**
 * ssq_server_notify_watchdog_start:
 *
 * When the manager asks for pings (WatchdogSec=, seen as $WATCHDOG_USEC),
 * pings at half that interval from the default main context: a main loop
 * stuck on one iteration stops pinging, and the manager restarts the
 * server.
 *
 * Returns: the timeout source's id, or 0 when no watchdog is asked for
 */
guint
ssq_server_notify_watchdog_start (void)
{
#if HAVE_LIBSYSTEMD
  uint64_t usec = 0;
  guint interval_ms;

  if (sd_watchdog_enabled (0, &usec) <= 0 || usec == 0)
    return 0;
  interval_ms = (guint) MAX (usec / 2000, 1);
  g_info ("Watchdog: pinging every %u ms", interval_ms);
  notify ("WATCHDOG=1");
  return g_timeout_add (interval_ms, watchdog_cb, NULL);
#else
  return 0;
#endif
}
