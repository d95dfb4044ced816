/* SPDX-License-Identifier: GPL-3.0-or-later */
/* main.c: supersoniq-server's command line. */
#include "ssq-server.h"
#include "ssq-server-admin-cli.h"
#include "ssq-server-backup-cli.h"
#include "ssq-server-config.h"
#include "ssq-server-log.h"
#include "ssq-server-notify.h"
#include "ssq-server-tls.h"
#include "ssq-config.h"
#include "ssq-display.h"
#include "net/ssq-net.h"
#include "net/ssq-net-busy-poll.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <glib/gi18n.h>
#include <locale.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <sys/file.h>
#include <unistd.h>

static gboolean
quit_cb (gpointer data)
{
  GMainLoop *loop = data;

  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

typedef struct {
  SsqServer *server;
  GMainLoop *loop;
} SignalData;

static void
shutdown_done (gpointer data)
{
  g_idle_add (quit_cb, data);
}

/* SIGHUP: the [tls] certificate and key again (renewed by ACME, say). */
static gboolean
reload_cb (gpointer data)
{
  SignalData *sd = data;
  g_autoptr(GError) error = NULL;

  if (!ssq_server_tls_reload (sd->server, &error))
    g_warning ("TLS certificate not reloaded, the one in use stays: %s", error->message);
  else
    g_message ("TLS certificate reloaded");
  return G_SOURCE_CONTINUE;
}

static gboolean
signal_cb (gpointer data)
{
  SignalData *sd = data;

  g_message ("Shutting down");
  ssq_server_notify_stopping ();
  ssq_server_shutdown (sd->server, G_CALLBACK (shutdown_done), sd->loop);
  return G_SOURCE_CONTINUE;
}

/* The fingerprint clients are to check, for people and for curl. */
static void
print_tls (SsqServer *server)
{
  const char *pin;
  const char *fingerprint = ssq_server_get_tls_fingerprint (server, &pin);

  if (fingerprint == NULL)
    {
      g_printerr (_("TLS is off ([tls] enabled=false): traffic is not encrypted.\n"
                    "Check it:  curl %s/healthz\n"), ssq_server_get_local_url (server));
      return;
    }
  /* -k: the certificate is self-signed; the pin is what is checked. */
  g_printerr (_("TLS public key fingerprint (clients check it on first connection):\n"
                "  %s\n"
                "Check it:  curl -k --pinnedpubkey sha256//%s %s/healthz\n"),
              fingerprint, pin, ssq_server_get_local_url (server));
}

/* One server per data directory: a second one would corrupt nothing (SQLite
 * locks), but would fight over the port and confuse everyone. Only a lock
 * held by another process means "in use": a directory we cannot write to
 * is said to be one, with the reason. */
static int
lock_data_dir (const char  *data_dir,
               GError     **error)
{
  g_autofree char *path = g_build_filename (data_dir, "server.lock", NULL);
  int fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  int errsv;

  if (fd < 0)
    {
      errsv = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                   _("Data directory %s is not writable: %s (creating %s)"), data_dir,
                   g_strerror (errsv), path);
      return -1;
    }
  if (flock (fd, LOCK_EX | LOCK_NB) == 0)
    return fd;
  errsv = errno;
  if (errsv == EWOULDBLOCK)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_BUSY,
                 _("Data directory %s is in use by another server (it holds the lock on %s)"),
                 data_dir, path);
  else
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                 _("Cannot lock %s: %s"), path, g_strerror (errsv));
  close (fd);
  return -1;
}

/* The data directory exists (made if need be) and is ours to write in. */
static int
prepare_data_dir (const char  *data_dir,
                  GError     **error)
{
  if (g_mkdir_with_parents (data_dir, 0700) != 0)
    {
      int errsv = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                   _("Cannot create the data directory %s: %s"), data_dir, g_strerror (errsv));
      return -1;
    }
  /* A lock file left by an earlier run opens even in a directory made
   * read-only since; the database beside it would not. */
  if (access (data_dir, W_OK | X_OK) != 0)
    {
      int errsv = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                   _("Data directory %s is not writable: %s"), data_dir, g_strerror (errsv));
      return -1;
    }
  return lock_data_dir (data_dir, error);
}

/* Messages in the user's language: SSQ_LOCALEDIR names another catalog
 * directory (the build tree's, for the tests). Log lines stay English. */
static void
init_i18n (void)
{
  const char *dir = g_getenv ("SSQ_LOCALEDIR");

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, dir != NULL && *dir != '\0' ? dir : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
}

/* The subcommands, for --help: each is dispatched on argv[1] below. */
static char *
commands_text (void)
{
  return g_strdup_printf ("%s\n  admin    %s\n  backup   %s\n  restore  %s\n  migrate  %s\n\n%s\n",
                          _("Commands (the command comes first; each has its own --help):"),
                          _("Administers the running server: users, conversations, sessions, stats"),
                          _("Copies the database and the media files, also while the server runs"),
                          _("Restores a backup into a new or empty data directory"),
                          _("Moves the database's schema up or down, with the server stopped"),
                          _("Without a command, the server runs."));
}

/* Words GOption left over: the server takes none. The common slip is a
 * command after an option (`--data-dir D admin ...`), which would start a
 * server rather than run the command. */
static int
refuse_leftovers (int    argc,
                  char **argv)
{
  g_autofree char *joined = g_strjoinv (" ", argv + 1);
  g_autofree char *shown = ssq_display_sanitize_line (joined);

  g_printerr (ngettext ("supersoniq-server: unexpected argument “%s”: a command (admin, backup, "
                        "restore, migrate) must come first, before its options, e.g. "
                        "supersoniq-server admin --data-dir DIR users list\n",
                        "supersoniq-server: unexpected arguments “%s”: a command (admin, backup, "
                        "restore, migrate) must come first, before its options, e.g. "
                        "supersoniq-server admin --data-dir DIR users list\n",
                        (unsigned long) (argc - 1)), shown);
  return 2;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(SsqServerConfig) config = ssq_server_config_new ();
  g_autoptr(SsqServer) server = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  g_autofree char *config_file = NULL;
  g_autofree char *listen = NULL;
  g_autofree char *data_dir = NULL;
  g_autofree char *commands = NULL;
  gboolean version = FALSE;
  int lock_fd;
  guint watchdog;
  SignalData sd;
  GOptionEntry entries[] = {
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_file, N_("Read settings from a key file"), N_("FILE") },
    { "listen", 'l', 0, G_OPTION_ARG_STRING, &listen, N_("Address to listen on (default 0.0.0.0:8080)"), N_("HOST:PORT") },
    { "data-dir", 'd', 0, G_OPTION_ARG_FILENAME, &data_dir, N_("Where the database lives (default $XDG_DATA_HOME/supersoniq)"), N_("DIR") },
    { "version", 'V', 0, G_OPTION_ARG_NONE, &version, N_("Print the version and exit"), NULL },
    { NULL }
  };

  /* A peer or a pipe that went away is an error to handle where it
   * happens (EPIPE), never a reason for the server to die. */
  signal (SIGPIPE, SIG_IGN);
  ssq_server_log_init ();

  init_i18n ();
  if (argc > 1 && g_str_equal (argv[1], "admin"))
    return ssq_server_admin_cli_run (argc - 1, argv + 1);
  /* SQLite's memory statistics take a global mutex on every allocation it
   * makes (a few per row written): nothing here reads them. Before any
   * connection is opened, as SQLite requires. */
  sqlite3_config (SQLITE_CONFIG_MEMSTATUS, 0);
  if (argc > 1 && g_strcmp0 (argv[1], "backup") == 0)
    return ssq_server_backup_cli (argc - 1, argv + 1);
  if (argc > 1 && g_strcmp0 (argv[1], "restore") == 0)
    return ssq_server_restore_cli (argc - 1, argv + 1);
  if (argc > 1 && g_strcmp0 (argv[1], "migrate") == 0)
    return ssq_server_migrate_cli (argc - 1, argv + 1);
  context = g_option_context_new (_("- SupersoniQ chat server"));
  g_option_context_set_summary (context,
    _("Serves the SupersoniQ protocol (HTTP and WebSocket) from one SQLite database.\n"
      "Settings: command line > --config file > built-in defaults (see README.md)."));
  commands = commands_text ();
  g_option_context_set_description (context, commands);
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("supersoniq-server: %s\n", error->message);
      return 2;
    }
  if (argc > 1)
    return refuse_leftovers (argc, argv);
  if (version)
    {
      g_print ("supersoniq-server %s (protocol 1)\n", SSQ_VERSION);
      return 0;
    }
  if (config_file != NULL && !ssq_server_config_load_file (config, config_file, &error))
    {
      g_printerr ("supersoniq-server: %s: %s\n", config_file, error->message);
      return 2;
    }
  if (listen != NULL)
    {
      g_free (config->listen);
      config->listen = g_steal_pointer (&listen);
    }
  if (data_dir != NULL)
    {
      g_free (config->data_dir);
      config->data_dir = g_steal_pointer (&data_dir);
    }
  if (!ssq_server_config_validate (config, &error))
    {
      g_printerr ("supersoniq-server: %s\n", error->message);
      return 2;
    }
  if ((lock_fd = prepare_data_dir (config->data_dir, &error)) < 0)
    {
      g_printerr ("supersoniq-server: %s\n", error->message);
      return 1;
    }

  server = ssq_server_new (g_steal_pointer (&config), &error);
  if (server == NULL || !ssq_server_listen (server, &error))
    {
      g_printerr ("supersoniq-server: %s\n", error->message);
      return 1;
    }
  /* Signals are ours before anyone learns the address: a SIGTERM right
   * after the line below must shut down gracefully, not kill. */
  loop = g_main_loop_new (NULL, FALSE);
  ssq_net_busy_poll_install (g_main_context_default (), ssq_server_get_config (server)->busy_poll_us);
  sd.server = server;
  sd.loop = loop;
  g_unix_signal_add (SIGTERM, signal_cb, &sd);
  g_unix_signal_add (SIGINT, signal_cb, &sd);
  g_unix_signal_add (SIGHUP, reload_cb, &sd);
  /* Not translated: scripts and the tests read the address from it. */
  printf ("listening on %s\n", ssq_server_get_url (server));
  if (ssq_server_get_amqp_url (server, FALSE) != NULL)
    printf ("amqp listening on %s\n", ssq_server_get_amqp_url (server, FALSE));
  if (ssq_server_get_amqp_url (server, TRUE) != NULL)
    printf ("amqps listening on %s\n", ssq_server_get_amqp_url (server, TRUE));
  fflush (stdout);
  g_printerr (_("SupersoniQ server %s: data in %s\n"), SSQ_VERSION,
              ssq_server_get_config (server)->data_dir);
  print_tls (server);
  g_printerr (_("%s\n"
                "Try it:  supersoniq-cli --server %s register NAME   (in build/shared/cli/)\n"
                "Stop with Ctrl+C.\n"),
              ssq_server_get_reach_hint (server), ssq_server_get_local_url (server));

  ssq_net_raise_fd_limit ();
  ssq_server_notify_ready (ssq_server_get_url (server));
  watchdog = ssq_server_notify_watchdog_start ();
  g_main_loop_run (loop);
  g_clear_handle_id (&watchdog, g_source_remove);

  g_clear_object (&server);
  close (lock_fd);
  return 0;
}
