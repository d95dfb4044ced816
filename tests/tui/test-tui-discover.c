/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-tui-discover.c: the real supersoniq-tui's first run (no --server, no
 * saved session) offering the servers found on the LAN, in tmux, run by
 * netns-run.sh inside private namespaces with a system bus and an Avahi
 * daemon of its own: a real server announcing itself is listed by name
 * and address; typing its number connects with the announced key pinned
 * (no trust question) and leads to the chat. Without the daemon the
 * program asks for the server at once; an announcement whose key is not
 * the one the server presents is refused with the changed-key warning. */
#include <string.h>

#include "ssq-invite-link.h"
#include "ssq-proto.h"
#include "ssq-test-avahi.h"
#include "ssq-test-server.h"
#include "ssq-test-tmux.h"

#define OTHER_KEY "sha256:0000000000000000000000000000000000000000000000000000000000000000"

static guint16
port_of (SsqTestServer *server)
{
  return (guint16) g_ascii_strtoull (strrchr (server->listen, ':') + 1, NULL, 10);
}

/* The key's fingerprint as the server reports it, compact
 * ("sha256:" and 64 hex digits, lower case). */
static char *
fingerprint_of (SsqTestServer *server)
{
  g_autoptr(JsonObject) info = ssq_test_http (server, "GET", "/api/v1/server", NULL, NULL, NULL);

  return ssq_fingerprint_normalize (
    json_object_get_string_member (json_object_get_object_member (info, "tls"), "fingerprint"));
}

static char *
known_servers (SsqTestTerm *term)
{
  g_autofree char *path = g_build_filename (term->home, "supersoniq", "known-servers.ini", NULL);
  char *text = NULL;

  g_file_get_contents (path, &text, NULL, NULL);
  return text ? text : g_strdup ("");
}

/* The number the program gives the listed server whose line holds
 * @text: "N) NAME  ADDRESS:PORT  KEY…". */
static char *
number_of (const char *screen,
           const char *text)
{
  g_auto(GStrv) lines = g_strsplit (screen, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    if (strstr (lines[i], text) != NULL && strchr (lines[i], ')') != NULL)
      return g_strndup (lines[i], strspn (lines[i], "0123456789"));
  g_test_message ("no line with \"%s\" in:\n%s", text, screen);
  g_assert_not_reached ();
}

/* The person's answers to "Log in or register?", as a new account. */
static void
register_at_terminal (SsqTestTerm *term)
{
  ssq_test_term_wait (term, "Log in or register?");
  ssq_test_term_type (term, "r");
  ssq_test_term_key (term, "Enter");
  ssq_test_term_wait (term, "Username:");
  ssq_test_term_type (term, "alice");
  ssq_test_term_key (term, "Enter");
  ssq_test_term_wait (term, "Password:");
  ssq_test_term_type (term, "password123");
  ssq_test_term_key (term, "Enter");
  ssq_test_term_wait (term, "Password again:");
  ssq_test_term_type (term, "password123");
  ssq_test_term_key (term, "Enter");
  ssq_test_term_wait (term, "[online]");
}

/* The server listed by name and address; its number typed; its key
 * pinned from the announcement, with no question; registered; the chat. */
static void
test_choose (void)
{
  g_autoptr(SsqTestServer) server = NULL;
  g_autoptr(SsqTestTerm) term = NULL;
  g_autofree char *fp = NULL, *txt = NULL, *groups = NULL, *line = NULL, *text = NULL;
  g_autofree char *number = NULL, *pins = NULL;

  if (!ssq_test_have_tmux ())
    return;
  ssq_test_avahi_start ();
  server = ssq_test_server_start_on ("0.0.0.0:0", "[server]\nname=Office chat\n", NULL);
  fp = fingerprint_of (server);
  g_assert_nonnull (fp);
  /* Announced and resolvable before the program looks (for 2 s). */
  txt = ssq_test_avahi_browse_txt_eventually (port_of (server));
  g_assert_nonnull (txt);

  term = ssq_test_term_start ("discover", "", 100, 30, TRUE);
  ssq_test_term_wait (term, "Servers on this network:");
  ssq_test_term_wait (term, "Number, or the server's URL:");
  text = ssq_test_term_screen (term);
  g_test_message ("%s", text);
  line = g_strdup_printf ("Office chat  127.0.0.1:%u  ", port_of (server));
  g_assert_nonnull (strstr (text, line));
  /* The key's first group of digits, to tell servers apart. */
  groups = ssq_invite_link_fingerprint_groups (fp);
  groups[strcspn (groups, "\n")] = '\0';
  g_assert_nonnull (strstr (text, groups));
  g_assert_null (strstr (text, "name the server"));

  number = number_of (text, "Office chat");
  ssq_test_term_type (term, number);
  ssq_test_term_key (term, "Enter");
  register_at_terminal (term);
  g_clear_pointer (&text, g_free);
  text = ssq_test_term_screen (term);
  g_assert_null (strstr (text, "Trust it?"));

  /* The key the announcement named is the pin now. */
  pins = known_servers (term);
  g_test_message ("known servers: %s", pins);
  g_assert_nonnull (strstr (pins, fp + strlen ("sha256:")));
  g_assert_cmpint (ssq_test_server_stop (server), ==, 0);
}

/* No Avahi daemon: nothing offered, nothing waited for; the message that
 * says how to name the server. */
static void
test_no_daemon (void)
{
  g_autoptr(SsqTestTerm) term = NULL;
  g_autofree char *text = NULL;

  if (!ssq_test_have_tmux ())
    return;
  if (ssq_test_avahi_running ())
    ssq_test_avahi_stop ();
  term = ssq_test_term_start ("no-daemon", "", 100, 30, TRUE);
  ssq_test_term_wait (term, "the first time, name the server: --server https://HOST:PORT");
  text = ssq_test_term_screen (term);
  g_test_message ("%s", text);
  g_assert_null (strstr (text, "Servers on this network:"));
}

/* A service announcing the server's address and port with another key
 * (and a name with a terminal escape in it): listed, its name made
 * harmless; chosen, refused with the changed-key warning before anything
 * is sent, and no pin kept. */
static void
test_impostor (void)
{
  g_autoptr(SsqTestServer) server = NULL;
  g_autoptr(SsqTestTerm) term = NULL;
  g_autoptr(GSubprocess) publisher = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *port = NULL, *txt = NULL, *text = NULL, *number = NULL, *pins = NULL;

  if (!ssq_test_have_tmux ())
    return;
  ssq_test_avahi_start ();
  server = ssq_test_server_start_on ("0.0.0.0:0", "[features]\ndiscovery=false\n", NULL);
  port = g_strdup_printf ("%u", port_of (server));
  publisher = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE,
                                &error, "avahi-publish", "-s", "Impostor", SSQ_DISCOVERY_SERVICE_TYPE,
                                port, "v=1", "name=Impostor\033[7m", "fp=" OTHER_KEY, NULL);
  g_assert_no_error (error);
  txt = ssq_test_avahi_browse_txt_eventually (port_of (server));
  g_assert_nonnull (txt);

  term = ssq_test_term_start ("impostor", "", 100, 30, TRUE);
  ssq_test_term_wait (term, "Number, or the server's URL:");
  text = ssq_test_term_screen (term);
  g_test_message ("%s", text);
  /* The escape shown as U+FFFD, not sent to the terminal. */
  g_assert_nonnull (strstr (text, "Impostor\xef\xbf\xbd[7m  127.0.0.1:"));
  number = number_of (text, "Impostor");
  ssq_test_term_type (term, number);
  ssq_test_term_key (term, "Enter");
  ssq_test_term_wait (term, "WARNING: THE SERVER'S KEY HAS CHANGED");
  ssq_test_term_wait (term, "Nothing was sent to the server");
  g_clear_pointer (&text, g_free);
  text = ssq_test_term_screen (term);
  g_test_message ("%s", text);
  g_assert_null (strstr (text, "Log in or register?"));
  g_assert_null (strstr (text, "Trust it?"));
  pins = known_servers (term);
  g_assert_null (strstr (pins, "0000000000000000"));

  g_subprocess_force_exit (publisher);
  g_subprocess_wait (publisher, NULL, NULL);
  g_assert_cmpint (ssq_test_server_stop (server), ==, 0);
}

int
main (int    argc,
      char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  if (!ssq_test_avahi_inside ())
    {
      g_test_message ("run by tests/shared/netns-run.sh only: it touches the network");
      return 77;
    }
  ssq_test_avahi_init ();
  g_test_add_func ("/tui/discover/choose", test_choose);
  g_test_add_func ("/tui/discover/impostor", test_impostor);
  g_test_add_func ("/tui/discover/no-daemon", test_no_daemon);
  status = g_test_run ();
  ssq_test_avahi_cleanup ();
  return status;
}
