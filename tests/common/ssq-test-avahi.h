/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-test-avahi.h: a system bus and an Avahi daemon of the test's own,
 * inside the private namespaces tests/shared/netns-run.sh makes (loopback
 * alone, a tmpfs on /run): never the machine's real network or daemon. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Deadlines for the daemons, and for the server, which looks for a
 * system bus again every 10 s. */
#define SSQ_TEST_AVAHI_WAIT_MS 20000
#define SSQ_TEST_AVAHI_BUS_WAIT_MS 30000

/* TRUE inside netns-run.sh; outside, FALSE, and the program should exit
 * 77 (skipped): it would touch the real network. */
gboolean  ssq_test_avahi_inside         (void);
/* The daemon's configuration in a directory of the test's, and the
 * system bus started; ssq_test_avahi_cleanup () stops both. */
void      ssq_test_avahi_init           (void);
void      ssq_test_avahi_cleanup        (void);

void      ssq_test_bus_start            (void);
void      ssq_test_bus_stop             (void);

gboolean  ssq_test_avahi_running        (void);
/* The daemon on loopback (IPv4 only), if it is not running already. */
void      ssq_test_avahi_start          (void);
/* The daemon on @interfaces (avahi-daemon.conf's allow-interfaces, e.g.
 * "lo,ssq0"), restarted if it runs on others. */
void      ssq_test_avahi_start_on       (const char *interfaces);
void      ssq_test_avahi_stop           (void);

/* The TXT field of avahi-browse's resolved line for @port, unescaped;
 * NULL if it does not list it (now, or within a few seconds). */
char     *ssq_test_avahi_browse_txt     (guint16     port);
char     *ssq_test_avahi_browse_txt_eventually (guint16 port);

/* Runs @argv (searched in PATH, stderr dropped): its stdout; its exit
 * status (1 when killed) in @out_status if not NULL. */
char     *ssq_test_run                  (const char * const *argv,
                                         int                *out_status);

G_END_DECLS
