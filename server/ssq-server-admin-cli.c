/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-admin-cli.c: `supersoniq-server admin ...`: one request to the
 * running server's administration socket (ssq-server-admin.h), its answer
 * as a table, or as JSON with --json. Exit codes: 0 done, 1 refused or no
 * server, 2 usage. */
#include "ssq-server-admin-cli.h"
#include "ssq-server-admin.h"
#include "ssq-server-config.h"
#include "ssq-config.h"
#include "ssq-display.h"
#include "ssq-json.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define ANSWER_MAX (256 * 1024 * 1024)

enum { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_USAGE = 2 };

/* A command line: two words, then positional arguments that become the
 * request's members, in order; those past min_args are optional. */
typedef struct {
  const char *group;
  const char *verb;
  const char *op;
  const char *args;        /* member names of the positional arguments */
  guint       min_args;
  const char *usage;
} Command;

static const Command commands[] = {
  { "users", "list", "users.list", "", 0, "users list" },
  { "users", "show", "users.show", "user", 1, "users show NAME" },
  { "users", "disable", "users.disable", "user", 1, "users disable NAME" },
  { "users", "enable", "users.enable", "user", 1, "users enable NAME" },
  { "users", "delete", "users.delete", "user", 1, "users delete NAME" },
  { "users", "reset-password", "users.reset-password", "user", 1, "users reset-password NAME" },
  { "users", "promote", "users.promote", "user", 1, "users promote NAME" },
  { "users", "demote", "users.demote", "user", 1, "users demote NAME" },
  { "conversations", "list", "conversations.list", "", 0, "conversations list" },
  { "conversations", "show", "conversations.show", "id", 1, "conversations show ID" },
  { "conversations", "set-role", "conversations.set-role", "id user role", 3,
    "conversations set-role ID USER admin|member" },
  { "conversations", "transfer", "conversations.transfer", "id user", 2,
    "conversations transfer ID NEW_OWNER" },
  { "sessions", "list", "sessions.list", "user", 0, "sessions list [USER]" },
  { "sessions", "revoke", "sessions.revoke", "session", 0,
    "sessions revoke SESSION_ID | sessions revoke --user USER" },
  { "stats", NULL, "stats", "", 0, "stats" },
};

static char *
usage_text (void)
{
  GString *text = g_string_new (NULL);

  /* The command lines stay as typed: they are the syntax (and the bash
   * completion's test reads them). */
  g_string_append_printf (text, "%s\n", _("Commands:"));
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    g_string_append_printf (text, "  %s\n", commands[i].usage);
  g_string_append_c (text, '\n');
  g_string_append_printf (text, _("The server must be running: this talks to it through %s.\n"
                                  "Exit codes: 0 done, 1 refused or no server running, 2 usage.\n"),
                          "DATA_DIR/" SSQ_ADMIN_SOCKET_NAME);
  return g_string_free (text, FALSE);
}

/* The request for @argv (after "admin" and the options), or NULL. */
static JsonObject *
build_request (char       **argv,
               const char  *revoke_user,
               GError     **error)
{
  guint argc = argv ? g_strv_length (argv) : 0;
  g_autoptr(JsonObject) request = json_object_new ();
  g_auto(GStrv) names = NULL;
  const Command *cmd = NULL;
  guint first, n_names;

  for (guint i = 0; argc > 0 && i < G_N_ELEMENTS (commands) && cmd == NULL; i++)
    if (g_str_equal (argv[0], commands[i].group) &&
        (commands[i].verb == NULL || (argc > 1 && g_str_equal (argv[1], commands[i].verb))))
      cmd = &commands[i];
  if (cmd == NULL && argc == 0)
    {
      g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED, _("No command given"));
      return NULL;
    }
  if (cmd == NULL)
    {
      g_autofree char *words = g_strjoin (" ", argv[0], argc > 1 ? argv[1] : NULL, NULL);

      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED, _("Unknown command \"%s\""),
                   words);
      return NULL;
    }
  first = cmd->verb ? 2 : 1;
  names = g_strsplit (cmd->args, " ", -1);
  n_names = *cmd->args ? g_strv_length (names) : 0;
  if (argc - first < cmd->min_args || argc - first > n_names ||
      (revoke_user != NULL && !g_str_equal (cmd->op, "sessions.revoke")) ||
      (g_str_equal (cmd->op, "sessions.revoke") && (argc - first == 1) == (revoke_user != NULL)))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED, _("Usage: %s"), cmd->usage);
      return NULL;
    }
  json_object_set_string_member (request, "op", cmd->op);
  for (guint i = first; i < argc; i++)
    json_object_set_string_member (request, names[i - first], argv[i]);
  if (revoke_user != NULL)
    json_object_set_string_member (request, "user", revoke_user);
  return g_steal_pointer (&request);
}

/* ---- the socket --------------------------------------------------------- */

static int
connect_admin (const char  *data_dir,
               int          timeout_s,
               GError     **error)
{
  g_autofree char *path = g_build_filename (data_dir, SSQ_ADMIN_SOCKET_NAME, NULL);
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  struct timeval tv = { .tv_sec = timeout_s };
  struct stat st;
  int fd, errsv;

  if (strlen (path) >= sizeof sa.sun_path)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FILENAME_TOO_LONG,
                   _("The admin socket path %s is longer than %zu bytes: no administration "
                     "for this data directory"), path, sizeof sa.sun_path - 1);
      return -1;
    }
  /* Never through a link: the socket is the server's own, in its own
   * directory. */
  if (lstat (path, &st) != 0)
    {
      errsv = errno;
      if (errsv == ENOENT)
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                     _("No server is running for data directory %s (no %s; a server that "
                       "runs without administration says why in its log)"), data_dir, path);
      else
        g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                     _("Cannot reach %s: %s"), path, g_strerror (errsv));
      return -1;
    }
  if (!S_ISSOCK (st.st_mode))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE,
                   _("%s is not a socket (a link or a file?): refusing to use it"), path);
      return -1;
    }
  strcpy (sa.sun_path, path);
  fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd >= 0 && connect (fd, (struct sockaddr *) &sa, sizeof sa) == 0)
    {
      setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      setsockopt (fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
      return fd;
    }
  errsv = errno;
  if (fd >= 0)
    close (fd);
  if (errsv == ECONNREFUSED)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED,
                 _("No server is running for data directory %s (%s is left from one that "
                   "stopped)"), data_dir, path);
  else if (errsv == EACCES || errsv == EPERM)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                 _("Cannot connect to %s: %s; run this as the user the server runs as"),
                 path, g_strerror (errsv));
  else
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv), _("Cannot connect to %s: %s"),
                 path, g_strerror (errsv));
  return -1;
}

static gboolean
send_all (int          fd,
          const char  *data,
          gsize        len,
          GError     **error)
{
  while (len > 0)
    {
      ssize_t n = send (fd, data, len, MSG_NOSIGNAL);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          int errsv = errno;
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                       _("Cannot send the request to the server: %s"), g_strerror (errsv));
          return FALSE;
        }
      data += n;
      len -= (gsize) n;
    }
  return TRUE;
}

/* The answer line; the server closes after it. */
static JsonObject *
exchange (int          fd,
          JsonObject  *request,
          GError     **error)
{
  gsize len;
  g_autofree char *text = ssq_json_object_to_string (request, &len);
  g_autoptr(GByteArray) in = g_byte_array_new ();
  char buf[65536];

  g_autoptr(GError) send_error = NULL;

  /* A server that refuses (too many connections) answers and closes
   * before reading: its answer is still there to read. */
  if (!send_all (fd, text, len, &send_error) || !send_all (fd, "\n", 1, &send_error))
    shutdown (fd, SHUT_WR);
  for (;;)
    {
      ssize_t n = recv (fd, buf, sizeof buf, 0);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int errsv = errno;
          if (errsv == EAGAIN)
            g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                                 _("The server did not answer in time (--timeout)"));
          else
            g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                         _("Cannot read the server's answer: %s"), g_strerror (errsv));
          return NULL;
        }
      if (n == 0 || memchr (buf, '\n', (gsize) n) != NULL)
        {
          g_byte_array_append (in, (guint8 *) buf, (guint) n);
          break;
        }
      g_byte_array_append (in, (guint8 *) buf, (guint) n);
      if (in->len > ANSWER_MAX)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE,
                       _("The server's answer is over %d bytes"), ANSWER_MAX);
          return NULL;
        }
    }
  if (in->len == 0)
    {
      if (send_error != NULL)
        g_propagate_error (error, g_steal_pointer (&send_error));
      else
        g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CLOSED,
                             _("The server closed the connection without an answer"));
      return NULL;
    }
  return ssq_json_parse_object ((const char *) in->data, in->len, error);
}

/* ---- running ------------------------------------------------------------- */

static int
answer (JsonObject *request,
        JsonObject *reply,
        gboolean    json)
{
  JsonNode *error_node = json_object_get_member (reply, "error");
  JsonObject *error = error_node && JSON_NODE_HOLDS_OBJECT (error_node)
                      ? json_node_get_object (error_node) : NULL;
  JsonNode *result = json_object_get_member (reply, "result");

  if (!json_object_get_boolean_member_with_default (reply, "ok", FALSE))
    {
      const char *code = error ? json_object_get_string_member_with_default (error, "code", "") : "";
      const char *message = error ? json_object_get_string_member_with_default (error, "message", "")
                                  : _("The server's answer has no error");
      g_autofree char *shown = ssq_display_sanitize_line (message);

      if (json && error_node != NULL)
        ssq_admin_cli_print_json (error_node);
      g_printerr ("supersoniq-server admin: %s\n", shown);
      return g_str_equal (code, "invalid") ? EXIT_USAGE : EXIT_FAILED;
    }
  if (result == NULL)
    {
      g_printerr ("supersoniq-server admin: %s\n", _("The server's answer has no result"));
      return EXIT_FAILED;
    }
  if (json)
    ssq_admin_cli_print_json (result);
  else
    ssq_admin_cli_print (json_object_get_string_member (request, "op"), request, result);
  return EXIT_OK;
}

/**
 * ssq_server_admin_cli_run:
 * `supersoniq-server admin ...`, with @argv[0] "admin".
 */
int
ssq_server_admin_cli_run (int    argc,
                          char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GOptionContext) context = g_option_context_new (_("COMMAND [ARGS...]"));
  g_autoptr(SsqServerConfig) config = ssq_server_config_new ();
  g_autoptr(JsonObject) request = NULL;
  g_autoptr(JsonObject) reply = NULL;
  g_autofree char *usage = usage_text ();
  g_autofree char *config_file = NULL;
  g_autofree char *data_dir = NULL;
  g_autofree char *revoke_user = NULL;
  g_auto(GStrv) rest = NULL;
  gboolean json = FALSE;
  int timeout = 60;
  int fd;
  GOptionEntry entries[] = {
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_file, N_("The server's settings (for its data directory)"), N_("FILE") },
    { "data-dir", 'd', 0, G_OPTION_ARG_FILENAME, &data_dir, N_("The server's data directory (default $XDG_DATA_HOME/supersoniq)"), N_("DIR") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print the answer as JSON"), NULL },
    { "user", 'u', 0, G_OPTION_ARG_STRING, &revoke_user, N_("sessions revoke: every session of USER"), N_("USER") },
    { "timeout", 0, 0, G_OPTION_ARG_INT, &timeout, N_("Seconds to wait for the server (default 60)"), N_("S") },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &rest, NULL, NULL },
    { NULL }
  };

  g_option_context_set_summary (context, _("Administers the running SupersoniQ server."));
  g_option_context_set_description (context, usage);
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error) || timeout < 1 ||
      (request = build_request (rest, revoke_user, &error)) == NULL)
    {
      g_printerr ("supersoniq-server admin: %s\n%s",
                  error ? error->message : _("--timeout must be at least 1"), usage);
      return EXIT_USAGE;
    }
  if (config_file != NULL && !ssq_server_config_load_file (config, config_file, &error))
    {
      g_printerr ("supersoniq-server admin: %s: %s\n", config_file, error->message);
      return EXIT_USAGE;
    }
  if (data_dir != NULL)
    {
      g_free (config->data_dir);
      config->data_dir = g_steal_pointer (&data_dir);
    }
  fd = connect_admin (config->data_dir, timeout, &error);
  if (fd >= 0)
    {
      reply = exchange (fd, request, &error);
      close (fd);
    }
  if (reply == NULL)
    {
      g_printerr ("supersoniq-server admin: %s\n", error->message);
      return EXIT_FAILED;
    }
  return answer (request, reply, json);
}
