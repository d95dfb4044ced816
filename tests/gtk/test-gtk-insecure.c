/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-gtk-insecure.c: the desktop client's --insecure, under Xvfb, run
 * as the program runs (g_application_run () with its command line): a
 * server reachable only over plain HTTP at this machine's LAN address is
 * refused on the log-in page with the library's message when the app was
 * started without --insecure; started with it, the same log-in goes
 * through, and the session saved then comes back at the next start with
 * --insecure. Skipped where the machine has no IPv4 address but loopback.
 * Screenshots of the log-in page both ways go to $SSQ_SCREENSHOT_DIR. */
#include <adwaita.h>
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>

#include "ssq-gtk-application.h"
#include "ssq-gtk-window.h"
#include "ssq-gtk-test-util.h"
#include "ssq-test-server.h"

#define WAIT_MS 15000

/* The first IPv4 address of an interface that is up and not loopback, or
 * NULL. */
static char *
lan_address (void)
{
  struct ifaddrs *list = NULL;
  char *found = NULL;

  if (getifaddrs (&list) != 0)
    return NULL;
  for (struct ifaddrs *i = list; i != NULL && found == NULL; i = i->ifa_next)
    {
      char text[INET_ADDRSTRLEN];

      if (i->ifa_addr == NULL || i->ifa_addr->sa_family != AF_INET ||
          !(i->ifa_flags & IFF_UP) || (i->ifa_flags & IFF_LOOPBACK))
        continue;
      if (inet_ntop (AF_INET, &((struct sockaddr_in *) i->ifa_addr)->sin_addr, text, sizeof text))
        found = g_strdup (text);
    }
  freeifaddrs (list);
  return found;
}

typedef enum {
  RUN_REFUSED,      /* without --insecure: typed in, refused */
  RUN_LOGIN,        /* with --insecure: typed in, logged in */
  RUN_RESTORED,     /* with --insecure: the saved session, nothing typed */
} Run;

typedef struct {
  SsqTestServer *server;
  Run            run;
  gboolean       done;
} Case;

static SsqGtkWindow *
the_window (GApplication *app)
{
  GList *windows = gtk_application_get_windows (GTK_APPLICATION (app));

  for (GList *l = windows; l != NULL; l = l->next)
    if (SSQ_IS_GTK_WINDOW (l->data))
      return l->data;
  return NULL;
}

static gboolean
window_online (gpointer data)
{
  SsqClient *client = ssq_gtk_window_get_client (data);

  return client != NULL && ssq_client_is_synced (client);
}

typedef struct {
  GtkWidget  *window;
  const char *text;
} FindText;

static gboolean
window_shows (gpointer data)
{
  FindText *find = data;
  g_autoptr(GString) labels = g_string_new (NULL);

  ssq_gtk_test_collect_labels (find->window, labels);
  return strstr (labels->str, find->text) != NULL;
}

static void
log_in (SsqGtkWindow *window,
        const char   *url)
{
  AdwEntryRow *rows[3] = { NULL };
  GtkWidget *button;
  guint n = 0;

  for (GtkWidget *w = ssq_gtk_test_find_by_type (GTK_WIDGET (window), ADW_TYPE_ENTRY_ROW, NULL);
       w != NULL && n < 3;)
    {
      rows[n++] = ADW_ENTRY_ROW (w);
      w = gtk_widget_get_next_sibling (w);
      while (w != NULL && !ADW_IS_ENTRY_ROW (w))
        w = gtk_widget_get_next_sibling (w);
    }
  g_assert_cmpuint (n, ==, 3);
  gtk_editable_set_text (GTK_EDITABLE (rows[0]), url);
  gtk_editable_set_text (GTK_EDITABLE (rows[1]), "alice");
  gtk_editable_set_text (GTK_EDITABLE (rows[2]), "password-alice");
  button = ssq_gtk_test_find_by_type (GTK_WIDGET (window), GTK_TYPE_BUTTON, "_Log In");
  g_assert_nonnull (button);
  gtk_widget_activate (button);
}

/* The test's part of a run, once the app has its window (after its own
 * activate). */
static void
activate_cb (GApplication *app,
             Case         *c)
{
  SsqGtkWindow *window = the_window (app);
  g_autofree char *host = g_strndup (c->server->listen, strrchr (c->server->listen, ':') - c->server->listen);
  g_autofree char *expected = g_strdup_printf ("Refusing plain http:// to %s", host);
  FindText refused = { NULL, expected };

  g_assert_nonnull (window);
  refused.window = GTK_WIDGET (window);
  gtk_window_set_default_size (GTK_WINDOW (window), 1000, 640);
  ssq_test_wait_ms (300);
  switch (c->run)
    {
    case RUN_REFUSED:
      log_in (window, c->server->url);
      g_assert_true (ssq_test_wait_until (window_shows, &refused, WAIT_MS));
      g_assert_null (ssq_gtk_window_get_client (window));
      ssq_gtk_test_screenshot (GTK_WIDGET (window), "insecure-refused.png");
      break;
    case RUN_LOGIN:
      log_in (window, c->server->url);
      g_assert_true (ssq_test_wait_until (window_online, window, WAIT_MS));
      g_assert_false (window_shows (&refused));
      ssq_gtk_test_screenshot (GTK_WIDGET (window), "insecure-logged-in.png");
      break;
    case RUN_RESTORED:
      g_assert_true (ssq_test_wait_until (window_online, window, WAIT_MS));
      break;
    }
  c->done = TRUE;
  gtk_window_destroy (GTK_WINDOW (window));
  g_application_quit (app);
}

/* The app as started from a shell, with @option (or none). Not unique:
 * each run of the test is an app of its own on the test's bus. */
static void
run_app (Case       *c,
         const char *option)
{
  g_autoptr(SsqGtkApplication) app = ssq_gtk_application_new ();
  char *argv[] = { (char *) "supersoniq", (char *) option, NULL };

  g_application_set_flags (G_APPLICATION (app), G_APPLICATION_HANDLES_OPEN | G_APPLICATION_NON_UNIQUE);
  g_signal_connect_after (app, "activate", G_CALLBACK (activate_cb), c);
  c->done = FALSE;
  g_assert_cmpint (g_application_run (G_APPLICATION (app), option ? 2 : 1, argv), ==, 0);
  g_assert_true (c->done);
}

static void
test_insecure_option (void)
{
  g_autofree char *address = lan_address ();
  g_autofree char *listen = NULL;
  g_autoptr(SsqTestServer) server = NULL;
  g_autoptr(SsqTestUser) alice = NULL;
  Case c = { NULL };

  if (address == NULL)
    {
      g_test_skip ("this machine has no IPv4 address but loopback: no host to refuse plain http:// to");
      return;
    }
  /* Plain HTTP only (no TLS at all), at the LAN address alone; not
   * announced on the real network. */
  listen = g_strdup_printf ("%s:0", address);
  server = ssq_test_server_start_on (listen, "[tls]\nenabled=false\n[features]\ndiscovery=false\n", NULL);
  g_assert_true (g_str_has_prefix (server->url, "http://"));
  g_test_message ("server at %s", server->url);
  alice = ssq_test_register (server, "alice");
  g_assert_nonnull (alice);
  c.server = server;

  c.run = RUN_REFUSED;
  run_app (&c, NULL);
  c.run = RUN_LOGIN;
  run_app (&c, "--insecure");
  c.run = RUN_RESTORED;
  run_app (&c, "--insecure");
}

int
main (int    argc,
      char **argv)
{
  return ssq_gtk_test_main (&argc, &argv, "ssq-gtk-insecure-XXXXXX", "/gtk/insecure/option", test_insecure_option);
}
