/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-cli.c: the supersoniq-cli binary against the real server, as a
 * script would use it: output, --json and exit codes. */
#include <glib/gstdio.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ssq-json.h"
#include "ssq-wire.h"
#include "ssq-test-cli-user.h"
#include "ssq-test-media.h"
#include "ssq-test-server.h"

static GSubprocessLauncher *
launcher_for (CliUser *user)
{
  GSubprocessLauncher *launcher =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autofree char *config = g_build_filename (user->home, "config", NULL);
  g_autofree char *data = g_build_filename (user->home, "data", NULL);
  g_autofree char *cache = g_build_filename (user->home, "cache", NULL);

  g_subprocess_launcher_setenv (launcher, "XDG_CONFIG_HOME", config, TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_DATA_HOME", data, TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_CACHE_HOME", cache, TRUE);
  /* Downloads land here unless told otherwise. */
  g_subprocess_launcher_set_cwd (launcher, user->home);
  g_subprocess_launcher_setenv (launcher, "LC_ALL", "C", TRUE);
  return launcher;
}

/* Without a controlling terminal, as under cron or a CI runner. */
static void
detach_from_terminal (gpointer data)
{
  setsid ();
}

/* Runs supersoniq-cli with @ap; returns its exit code and what it printed
 * in @out_stdout and @out_stderr. @stdin_text, when set, is its input and
 * it runs without a terminal. */
static int
run_cli_va (CliUser     *user,
            const char  *stdin_text,
            char       **out_stdout,
            char       **out_stderr,
            const char  *first,
            va_list      ap)
{
  g_autoptr(GSubprocessLauncher) launcher = launcher_for (user);
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL, *err = NULL;

  g_ptr_array_add (argv, (gpointer) g_getenv ("SSQ_CLI_BIN"));
  for (const char *arg = first; arg != NULL; arg = va_arg (ap, const char *))
    g_ptr_array_add (argv, (gpointer) arg);
  g_ptr_array_add (argv, NULL);
  if (stdin_text != NULL)
    {
      g_subprocess_launcher_set_flags (launcher, G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                                 G_SUBPROCESS_FLAGS_STDERR_PIPE);
      g_subprocess_launcher_set_child_setup (launcher, detach_from_terminal, NULL, NULL);
    }
  process = g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, stdin_text, NULL, &out, &err, &error);
  g_assert_no_error (error);
  if (err != NULL && *err != '\0')
    g_test_message ("stderr: %s", err);
  if (out_stdout != NULL)
    *out_stdout = g_steal_pointer (&out);
  if (out_stderr != NULL)
    *out_stderr = g_steal_pointer (&err);
  g_assert_true (g_subprocess_get_if_exited (process));
  return g_subprocess_get_exit_status (process);
}

/* Runs supersoniq-cli with @args (NULL-terminated); returns its exit code
 * and, in @out_stdout, what it printed. */
static int
run_cli (CliUser     *user,
         char       **out_stdout,
         const char  *first,
         ...)
{
  va_list ap;
  int code;

  va_start (ap, first);
  code = run_cli_va (user, NULL, out_stdout, NULL, first, ap);
  va_end (ap);
  return code;
}

/* The same, with standard error too. */
static int
run_cli_err (CliUser     *user,
             char       **out_stdout,
             char       **out_stderr,
             const char  *first,
             ...)
{
  va_list ap;
  int code;

  va_start (ap, first);
  code = run_cli_va (user, NULL, out_stdout, out_stderr, first, ap);
  va_end (ap);
  return code;
}

/* The same, fed @stdin_text and without a terminal. */
static int
run_cli_piped (CliUser     *user,
               const char  *stdin_text,
               char       **out_stderr,
               const char  *first,
               ...)
{
  va_list ap;
  int code;

  va_start (ap, first);
  code = run_cli_va (user, stdin_text, NULL, out_stderr, first, ap);
  va_end (ap);
  return code;
}

static JsonNode *
parse_json (const char *text)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  json_parser_load_from_data (parser, text, -1, &error);
  g_assert_no_error (error);
  return json_node_copy (json_parser_get_root (parser));
}

static void
register_user (SsqTestServer *server,
               CliUser       *user,
               const char    *name)
{
  g_autofree char *out = NULL;
  g_autoptr(JsonNode) node = NULL;

  g_assert_cmpint (run_cli (user, &out, "--server", server->url, "--password-file",
                            user->password_file, "--json", "register", name, NULL), ==, 0);
  node = parse_json (out);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (node), "username"), ==, name);
}

static void
test_usage_and_auth (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, NULL);
  g_autoptr(CliUser) alice = cli_user_new ();
  g_autoptr(CliUser) wrong = cli_user_new ();
  g_autofree char *out = NULL;

  g_assert_cmpint (run_cli (alice, NULL, NULL), ==, 2);
  g_assert_cmpint (run_cli (alice, NULL, "fly", NULL), ==, 2);
  g_assert_cmpint (run_cli (alice, NULL, "send", "bob", NULL), ==, 2);
  g_assert_cmpint (run_cli (alice, NULL, "history", "bob", "--file", "x", NULL), ==, 2);
  g_assert_cmpint (run_cli (alice, NULL, "history", "bob", "-o", "x", NULL), ==, 2);
  g_assert_cmpint (run_cli (alice, NULL, "download", NULL), ==, 2);
  g_assert_cmpint (run_cli (alice, NULL, "--limit", "0", "history", "x", NULL), ==, 2);
  g_assert_cmpint (run_cli (alice, NULL, "login", "alice", NULL), ==, 2);      /* no --server */
  g_assert_cmpint (run_cli (alice, NULL, "conversations", NULL), ==, 3);       /* not logged in */

  register_user (server, alice, "alice");
  /* Taken, and a wrong password: refused, and auth. */
  g_assert_cmpint (run_cli (wrong, NULL, "--server", server->url, "--password-file",
                            alice->password_file, "register", "alice", NULL), ==, 1);
  g_file_set_contents (wrong->password_file, "not-the-password", -1, NULL);
  g_assert_cmpint (run_cli (wrong, NULL, "--server", server->url, "--password-file",
                            wrong->password_file, "login", "alice", NULL), ==, 3);
  /* The right one from another machine works. */
  g_assert_cmpint (run_cli (wrong, NULL, "--server", server->url, "--password-file",
                            alice->password_file, "login", "alice", NULL), ==, 0);

  /* Empty lists say so (and --json stays an empty array). */
  g_assert_cmpint (run_cli (alice, &out, "conversations", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "No conversations yet"));
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run_cli (alice, &out, "--json", "conversations", NULL), ==, 0);
  g_assert_cmpstr (out, ==, "[]\n");
  g_assert_cmpint (run_cli (alice, NULL, "history", "nobody", NULL), ==, 5);
  g_assert_cmpint (run_cli (alice, NULL, "dm", "nosuchuser", NULL), ==, 5);
  g_assert_cmpint (run_cli (alice, NULL, "logout", NULL), ==, 0);
  g_assert_cmpint (run_cli (alice, NULL, "conversations", NULL), ==, 3);
  /* The other machine's session is still good. */
  g_assert_cmpint (run_cli (wrong, NULL, "conversations", NULL), ==, 0);
}

/* What a person gets wrong at the command line: each is a usage error
 * (exit 2) that says what to do instead. */
static void
test_usage_messages (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, "registrations_per_hour=1\n");
  g_autoptr(CliUser) alice = cli_user_new ();
  g_autoptr(CliUser) bob = cli_user_new ();
  g_autofree char *out = NULL, *err = NULL;
  g_autofree char *bare = g_strdup (server->url + strlen ("http://"));
  g_autofree char *suggested = g_strdup_printf ("https://%s", bare);

  /* A password piped in, with no terminal to ask on. */
  g_assert_cmpint (run_cli_piped (alice, "password123\n", &err, "--server", server->url,
                                  "register", "alice", NULL), ==, 2);
  g_assert_nonnull (strstr (err, "--password-file"));
  g_clear_pointer (&err, g_free);

  /* HOST:PORT without the scheme: https:// is suggested (TLS is the default). */
  g_assert_cmpint (run_cli_err (alice, NULL, &err, "--server", bare, "--password-file",
                                alice->password_file, "register", "alice", NULL), ==, 2);
  g_assert_nonnull (strstr (err, suggested));
  g_clear_pointer (&err, g_free);

  /* A command that does not exist is named as such. */
  g_assert_cmpint (run_cli_err (alice, NULL, &err, "fly", NULL), ==, 2);
  g_assert_nonnull (strstr (err, "unknown command"));
  g_assert_nonnull (strstr (err, "fly"));
  g_clear_pointer (&err, g_free);

  /* A rate limit's wait reads as a duration, not milliseconds: the
   * second registration from this address within the hour is refused. */
  register_user (server, alice, "alice");
  g_assert_cmpint (run_cli_err (bob, NULL, &err, "--server", server->url, "--password-file",
                                bob->password_file, "register", "bob", NULL), ==, 1);
  g_test_message ("rate limited: %s", err);
  g_assert_nonnull (strstr (err, "retry in "));
  g_assert_null (strstr (err, " ms"));
  g_assert_true (strstr (err, " min\n") != NULL || strstr (err, " h\n") != NULL);
  g_clear_pointer (&err, g_free);

  /* An empty conversation says so. */
  g_assert_cmpint (run_cli (alice, NULL, "group", "Quiet", NULL), ==, 0);
  g_assert_cmpint (run_cli (alice, &out, "history", "Quiet", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "No messages in this conversation yet"));
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run_cli (alice, &out, "--json", "history", "Quiet", NULL), ==, 0);
  g_assert_cmpstr (out, ==, "[]\n");
}

/* The id of the conversation in @line (the first word). */
static char *
first_word (const char *line)
{
  return g_strndup (line, strcspn (line, " "));
}

/* Two groups share a title: the title alone picks neither, and the
 * candidates are listed with their ids, which work. */
static void
test_ambiguous_title (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, NULL);
  g_autoptr(CliUser) alice = cli_user_new ();
  g_autoptr(CliUser) bob = cli_user_new ();
  g_autofree char *out = NULL, *err = NULL, *first = NULL, *second = NULL;
  g_auto(GStrv) lines = NULL;

  register_user (server, alice, "alice");
  register_user (server, bob, "bob");
  g_assert_cmpint (run_cli (alice, &out, "group", "Lab Team", "bob", NULL), ==, 0);
  first = first_word (out);
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run_cli (alice, &out, "group", "Lab Team", NULL), ==, 0);
  second = first_word (out);
  g_clear_pointer (&out, g_free);
  g_assert_cmpstr (first, !=, second);

  g_assert_cmpint (run_cli_err (alice, NULL, &err, "send", "lab team", "to whom?", NULL), ==, 2);
  g_assert_nonnull (strstr (err, first));
  g_assert_nonnull (strstr (err, second));
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run_cli_err (alice, NULL, &err, "history", "Lab Team", NULL), ==, 2);
  g_assert_nonnull (strstr (err, first));
  g_clear_pointer (&err, g_free);
  /* Nothing went anywhere. */
  g_assert_cmpint (run_cli (alice, &out, "--json", "outbox", NULL), ==, 0);
  g_assert_cmpstr (out, ==, "[]\n");
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run_cli (bob, &out, "history", first, NULL), ==, 0);
  g_assert_null (strstr (out, "to whom?"));
  g_clear_pointer (&out, g_free);

  /* An id names one. */
  g_assert_cmpint (run_cli (alice, NULL, "send", first, "to the first", NULL), ==, 0);
  g_assert_cmpint (run_cli (bob, &out, "history", first, NULL), ==, 0);
  g_assert_nonnull (strstr (out, "#1 alice: to the first"));
  g_clear_pointer (&out, g_free);
  /* For bob the title is not ambiguous: he is in one of the two. */
  g_assert_cmpint (run_cli (bob, &out, "history", "Lab Team", NULL), ==, 0);
  lines = g_strsplit (out, "\n", -1);
  g_assert_nonnull (strstr (lines[0], "to the first"));
}

/* Another member controls bodies, names and titles: the human output
 * shows them without the control characters that would drive the
 * terminal; --json keeps them exactly. A deleted message shows its
 * tombstone only. */
static void
test_hostile_text (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, NULL);
  g_autoptr(CliUser) alice = cli_user_new ();
  g_autoptr(SsqTestUser) mallory = NULL;
  g_autofree char *out = NULL, *dm = NULL, *path = NULL, *group = NULL;
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(JsonObject) reply = NULL;
  const char *evil = "\033]52;c;ZXZpbA==\a\033]0;pwned\a\033[2J\033[Hhi\rprompt$ \xc2\x9b" "31m";
  guint status;

  register_user (server, alice, "alice");
  mallory = ssq_test_register (server, "mallory");
  dm = ssq_test_create_conversation (server, mallory, "{\"kind\":\"direct\",\"members\":[\"alice\"]}");
  group = ssq_test_create_conversation (server, mallory,
                                        "{\"kind\":\"group\",\"title\":\"\\u001b]0;title\\u0007Team\","
                                        "\"members\":[\"alice\"]}");
  path = g_strdup_printf ("/api/v1/conversations/%s/messages", dm);
  {
    g_autoptr(JsonObject) body = json_object_new ();
    g_autofree char *text = NULL;

    json_object_set_string_member (body, "client_id", "e1");
    json_object_set_string_member (body, "body", evil);
    text = ssq_json_object_to_string (body, NULL);
    reply = ssq_test_http (server, "POST", path, mallory->token, text, &status);
    g_assert_cmpuint (status, ==, 201);
    g_clear_pointer (&reply, json_object_unref);
  }
  /* A second message, edited and then deleted. */
  reply = ssq_test_http (server, "POST", path, mallory->token, "{\"client_id\":\"e2\",\"body\":\"oops\"}", &status);
  g_assert_cmpuint (status, ==, 201);
  g_clear_pointer (&reply, json_object_unref);
  g_free (path);
  path = g_strdup_printf ("/api/v1/conversations/%s/messages/2", dm);
  reply = ssq_test_http (server, "PATCH", path, mallory->token, "{\"body\":\"oops, fixed\"}", &status);
  g_assert_cmpuint (status, ==, 200);
  g_clear_pointer (&reply, json_object_unref);
  reply = ssq_test_http (server, "DELETE", path, mallory->token, NULL, &status);
  g_assert_cmpuint (status / 100, ==, 2);

  g_assert_cmpint (run_cli (alice, &out, "history", "mallory", NULL), ==, 0);
  g_test_message ("history: %s", out);
  g_assert_null (strchr (out, '\033'));
  g_assert_null (strchr (out, '\a'));
  g_assert_null (strchr (out, '\r'));
  g_assert_null (strstr (out, "\xc2\x9b"));
  g_assert_nonnull (strstr (out, "#2 mallory: (deleted)\n"));
  g_assert_null (strstr (out, "(edited)"));
  g_clear_pointer (&out, g_free);

  g_assert_cmpint (run_cli (alice, &out, "conversations", NULL), ==, 0);
  g_assert_null (strchr (out, '\033'));
  g_assert_null (strchr (out, '\a'));
  g_assert_nonnull (strstr (out, "Team"));
  g_clear_pointer (&out, g_free);

  g_assert_cmpint (run_cli (alice, &out, "search", "hi", NULL), ==, 0);
  g_assert_null (strchr (out, '\033'));
  g_clear_pointer (&out, g_free);

  /* --json: exactly what was sent. */
  g_assert_cmpint (run_cli (alice, &out, "--json", "history", "mallory", NULL), ==, 0);
  /* ... and nothing a terminal acts on: the C1 CSI (U+009B) that JSON
   * itself need not escape is written as \u009b. */
  g_assert_null (strstr (out, "\xc2\x9b"));
  g_assert_null (strchr (out, '\033'));
  node = parse_json (out);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (json_node_get_array (node), 0),
                                                  "body"), ==, evil);
}

/* The member users' presence and last_seen change as clients come and
 * go (the CLI's own did, by connecting): out of a comparison. */
static void
drop_presence (JsonObject *conversation)
{
  JsonArray *members = json_object_get_array_member (conversation, "members");

  for (guint i = 0; i < json_array_get_length (members); i++)
    {
      JsonObject *user = json_object_get_object_member (json_array_get_object_element (members, i), "user");

      g_assert_true (json_object_has_member (user, "presence"));
      g_assert_true (json_object_has_member (user, "last_seen"));
      json_object_remove_member (user, "presence");
      json_object_remove_member (user, "last_seen");
    }
}

/* The JSON of @object, which must decode with the codec and encode back to
 * the same text: nothing the codec would not write, in its order. */
static char *
assert_codec_conversation (JsonObject *object)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) again = NULL;
  g_autofree char *text = ssq_json_object_to_string (object, NULL);
  g_autofree char *text_again = NULL;
  SsqWireConversation c;

  g_assert_true (ssq_wire_conversation_decode (object, &c, &error));
  g_assert_no_error (error);
  again = ssq_wire_conversation_encode (&c);
  text_again = ssq_json_object_to_string (again, NULL);
  g_assert_cmpstr (text, ==, text_again);
  return g_steal_pointer (&text);
}

/* --json prints the wire objects as the codec encodes them, from the
 * cache, with what only the client knows apart under "client": the same
 * conversation and message the server gives over REST. */
static void
test_json_is_wire (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, NULL);
  g_autoptr(CliUser) cli = cli_user_new ();
  g_autoptr(SsqTestUser) alice = ssq_test_register (server, "alice");
  g_autoptr(SsqTestUser) bob = ssq_test_register (server, "bob");
  g_autoptr(SsqTestUser) carol = ssq_test_register (server, "carol");
  g_autofree char *out = NULL, *group = NULL, *path = NULL, *cli_text = NULL, *server_text = NULL;
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(JsonObject) reply = NULL;
  JsonObject *printed, *client, *served;
  guint status;

  group = ssq_test_create_conversation (server, bob, "{\"kind\":\"group\",\"title\":\"Wire\","
                                                     "\"members\":[\"alice\",\"carol\"]}");
  g_file_set_contents (cli->password_file, "password-alice", -1, NULL);
  g_assert_cmpint (run_cli (cli, NULL, "--server", server->url, "--password-file", cli->password_file,
                            "login", "alice", NULL), ==, 0);

  g_assert_cmpint (run_cli (cli, &out, "--json", "conversations", NULL), ==, 0);
  g_test_message ("conversations: %s", out);
  node = parse_json (out);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (node)), ==, 1);
  printed = json_array_get_object_element (json_node_get_array (node), 0);
  client = json_object_get_object_member (printed, "client");
  g_assert_nonnull (client);
  g_assert_cmpstr (json_object_get_string_member (client, "display_title"), ==, "Wire");
  g_assert_cmpint (json_object_get_int_member (client, "pending"), ==, 0);
  g_assert_cmpint (json_object_get_int_member (client, "last_activity"), ==,
                   json_object_get_int_member (printed, "created_at"));
  json_object_ref (client);
  json_object_remove_member (printed, "client");
  drop_presence (printed);
  cli_text = assert_codec_conversation (printed);
  json_object_unref (client);

  path = g_strdup_printf ("/api/v1/conversations/%s", group);
  reply = ssq_test_http (server, "GET", path, alice->token, NULL, &status);
  g_assert_cmpuint (status, ==, 200);
  served = json_object_get_object_member (reply, "conversation");
  drop_presence (served);
  server_text = ssq_json_object_to_string (served, NULL);
  g_assert_cmpstr (cli_text, ==, server_text);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&node, json_node_unref);
  g_clear_pointer (&reply, json_object_unref);
  g_clear_pointer (&cli_text, g_free);
  g_clear_pointer (&server_text, g_free);

  /* A message: the server's object, and who sent it apart. */
  g_free (path);
  path = g_strdup_printf ("/api/v1/conversations/%s/messages", group);
  reply = ssq_test_http (server, "POST", path, bob->token, "{\"client_id\":\"w1\",\"body\":\"on the wire\"}",
                         &status);
  g_assert_cmpuint (status, ==, 201);
  g_clear_pointer (&reply, json_object_unref);
  g_assert_cmpint (run_cli (cli, &out, "--json", "history", "Wire", NULL), ==, 0);
  node = parse_json (out);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (node)), ==, 1);
  printed = json_array_get_object_element (json_node_get_array (node), 0);
  client = json_object_get_object_member (printed, "client");
  g_assert_cmpstr (json_object_get_string_member (client, "sender_username"), ==, "bob");
  g_assert_true (json_object_has_member (client, "status"));
  json_object_remove_member (printed, "client");
  cli_text = ssq_json_object_to_string (printed, NULL);
  reply = ssq_test_http (server, "GET", path, alice->token, NULL, &status);
  g_assert_cmpuint (status, ==, 200);
  server_text = ssq_json_object_to_string (json_array_get_object_element (json_object_get_array_member (reply,
                                                                                                       "messages"),
                                                                          0), NULL);
  g_assert_cmpstr (cli_text, ==, server_text);
  (void) carol;
}

static void
test_send_history_and_queue (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, NULL);
  g_autoptr(CliUser) alice = cli_user_new ();
  g_autoptr(CliUser) bob = cli_user_new ();
  g_autofree char *out = NULL;
  g_autoptr(JsonNode) node = NULL;
  JsonArray *array;

  register_user (server, alice, "alice");
  register_user (server, bob, "bob");

  /* A username names the direct conversation, made on first use. */
  g_assert_cmpint (run_cli (alice, &out, "--json", "send", "bob", "hello bob", NULL), ==, 0);
  node = parse_json (out);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (node), "seq"), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (json_node_get_object (node),
                                                                                 "client"),
                                                  "status"), ==, "sent");
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&node, json_node_unref);
  g_assert_cmpint (run_cli (bob, &out, "history", "alice", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "#1 alice: hello bob"));
  g_clear_pointer (&out, g_free);

  /* A group by title. */
  g_assert_cmpint (run_cli (alice, NULL, "group", "Lab Crew", "bob", NULL), ==, 0);
  g_assert_cmpint (run_cli (bob, NULL, "send", "lab crew", "in the group", NULL), ==, 0);

  /* Server down: the message waits in the outbox, and the CLI says so. */
  ssq_test_server_kill (server);
  g_assert_cmpint (run_cli (alice, &out, "send", "bob", "while you were out", NULL), ==, 6);
  g_clear_pointer (&out, g_free);
  /* history shows it, pending, after what the server has. */
  g_assert_cmpint (run_cli (alice, &out, "history", "bob", NULL), ==, 4);
  g_assert_nonnull (strstr (out, "#1 alice: hello bob\n"));
  g_assert_nonnull (strstr (out, "(pending) alice: while you were out\n"));
  g_assert_true (strstr (out, "hello bob") < strstr (out, "while you were out"));
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run_cli (alice, &out, "--json", "outbox", NULL), ==, 4);
  node = parse_json (out);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (node)), ==, 1);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&node, json_node_unref);
  g_assert_cmpint (run_cli (alice, &out, "conversations", NULL), ==, 4);    /* cached, marked stale */
  g_assert_nonnull (strstr (out, "Lab Crew"));
  g_clear_pointer (&out, g_free);
  /* The conversation with bob counts the message waiting for it. */
  g_assert_cmpint (run_cli (alice, &out, "--json", "conversations", NULL), ==, 4);
  node = parse_json (out);
  array = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonObject *conversation = json_array_get_object_element (array, i);
      JsonObject *client = json_object_get_object_member (conversation, "client");
      gboolean direct = g_strcmp0 (json_object_get_string_member (conversation, "kind"), "direct") == 0;

      g_assert_cmpint (json_object_get_int_member (client, "pending"), ==, direct ? 1 : 0);
    }
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&node, json_node_unref);

  /* The next command that connects delivers it. */
  ssq_test_server_restart (server);
  g_assert_cmpint (run_cli (alice, NULL, "conversations", NULL), ==, 0);
  g_assert_cmpint (run_cli (alice, &out, "--json", "outbox", NULL), ==, 0);
  g_assert_cmpstr (out, ==, "[]\n");
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run_cli (bob, &out, "--json", "history", "alice", "--limit", "10", NULL), ==, 0);
  node = parse_json (out);
  array = json_node_get_array (node);
  g_assert_cmpuint (json_array_get_length (array), ==, 2);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (array, 1), "body"),
                   ==, "while you were out");
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run_cli (bob, &out, "search", "WERE", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "while you were out"));
}

static void
test_tail (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, NULL);
  g_autoptr(CliUser) alice = cli_user_new ();
  g_autoptr(CliUser) bob = cli_user_new ();
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) tail = NULL;
  g_autoptr(GDataInputStream) lines = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *line = NULL;
  g_autoptr(JsonNode) node = NULL;

  register_user (server, alice, "alice");
  register_user (server, bob, "bob");
  g_assert_cmpint (run_cli (alice, NULL, "send", "bob", "before", NULL), ==, 0);

  launcher = launcher_for (bob);
  tail = g_subprocess_launcher_spawn (launcher, &error, g_getenv ("SSQ_CLI_BIN"), "--json",
                                      "tail", "alice", NULL);
  g_assert_no_error (error);
  lines = g_data_input_stream_new (g_subprocess_get_stdout_pipe (tail));
  /* Only what arrives from now on; give tail its connection first. */
  ssq_test_wait_ms (500);
  g_assert_cmpint (run_cli (alice, NULL, "send", "bob", "live one", NULL), ==, 0);
  line = g_data_input_stream_read_line (lines, NULL, NULL, &error);
  g_assert_no_error (error);
  node = parse_json (line);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (node), "body"), ==, "live one");
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (node), "seq"), ==, 2);

  g_subprocess_send_signal (tail, SIGINT);
  g_subprocess_wait (tail, NULL, &error);
  g_assert_true (g_subprocess_get_if_exited (tail));
  g_assert_cmpint (g_subprocess_get_exit_status (tail), ==, 0);
}

/* A file of @size bytes (a pattern of @fill) in @user's home; its path. */
static char *
user_file (CliUser    *user,
           const char *name,
           gsize       size,
           char        fill)
{
  g_autofree char *data = g_strnfill (size, fill);
  char *path = g_build_filename (user->home, name, NULL);

  g_assert_true (g_file_set_contents (path, data, size, NULL));
  return path;
}

static char *
file_text (CliUser    *user,
           const char *name)
{
  g_autofree char *path = g_build_filename (user->home, name, NULL);
  char *text = NULL;

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  return text;
}

/* send --file (twice, and with no text), the attachments in history and
 * in --json as the server's media objects, and download: -o FILE, the
 * media's own name, - for standard output, refusals. */
static void
test_send_file_and_download (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, "[media]\nuploads_per_minute=0\n");
  g_autoptr(CliUser) alice = cli_user_new ();
  g_autoptr(CliUser) bob = cli_user_new ();
  g_autofree char *a = user_file (alice, "notes.txt", 70000, 'a');
  g_autofree char *b = user_file (alice, "b.txt", 1200000, 'b');
  g_autofree char *out = NULL, *err = NULL, *id = NULL, *path = NULL, *text = NULL;
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(JsonObject) reply = NULL;
  JsonObject *message;
  JsonArray *media;
  guint status;

  register_user (server, alice, "alice");
  register_user (server, bob, "bob");
  g_assert_cmpint (run_cli (alice, &out, "--json", "send", "bob", "two files", "--file", a, "-f", b, NULL), ==, 0);
  node = parse_json (out);
  message = json_node_get_object (node);
  media = json_object_get_array_member (message, "media");
  g_assert_cmpuint (json_array_get_length (media), ==, 2);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (media, 0), "name"), ==,
                   "notes.txt");
  g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (media, 1), "size"), ==, 1200000);
  id = g_strdup (json_object_get_string_member (json_array_get_object_element (media, 0), "id"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&node, json_node_unref);
  /* A file alone. */
  g_assert_cmpint (run_cli (alice, NULL, "send", "bob", "--file", a, NULL), ==, 0);

  g_assert_cmpint (run_cli (bob, &out, "history", "alice", NULL), ==, 0);
  g_test_message ("history: %s", out);
  g_assert_nonnull (strstr (out, "#1 alice: two files [file notes.txt 70.0 kB] [file b.txt 1.2 MB]\n"));
  g_assert_nonnull (strstr (out, "#2 alice: [file notes.txt 70.0 kB]\n"));
  g_clear_pointer (&out, g_free);

  /* --json: the server's message, media objects included. */
  g_assert_cmpint (run_cli (bob, &out, "--json", "history", "alice", NULL), ==, 0);
  node = parse_json (out);
  message = json_array_get_object_element (json_node_get_array (node), 0);
  json_object_remove_member (message, "client");
  {
    g_autofree char *cli_text = ssq_json_object_to_string (message, NULL);
    g_autofree char *server_text = NULL;
    g_autofree char *token = NULL;

    reply = ssq_test_http (server, "POST", "/api/v1/login", NULL,
                           "{\"username\":\"bob\",\"password\":\"password123\"}", &status);
    g_assert_cmpuint (status, ==, 200);
    token = g_strdup (json_object_get_string_member (reply, "token"));
    g_clear_pointer (&reply, json_object_unref);
    path = g_strdup_printf ("/api/v1/conversations/%s/messages",
                            json_object_get_string_member (message, "conversation_id"));
    reply = ssq_test_http (server, "GET", path, token, NULL, &status);
    g_assert_cmpuint (status, ==, 200);
    server_text = ssq_json_object_to_string (json_array_get_object_element (json_object_get_array_member (reply,
                                                                                                        "messages"),
                                                                           0), NULL);
    g_assert_cmpstr (cli_text, ==, server_text);
  }
  g_clear_pointer (&out, g_free);

  /* download -o FILE, then under its own name, then not twice there. */
  g_assert_cmpint (run_cli (bob, &out, "download", id, "-o", "copy.txt", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "Saved "));
  text = file_text (bob, "copy.txt");
  g_assert_cmpuint (strlen (text), ==, 70000);
  g_assert_true (text[0] == 'a' && text[69999] == 'a');
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&text, g_free);
  g_assert_cmpint (run_cli (bob, &out, "--json", "download", id, NULL), ==, 0);
  g_clear_pointer (&node, json_node_unref);
  node = parse_json (out);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (node), "name"), ==, "notes.txt");
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (node), "size"), ==, 70000);
  text = file_text (bob, "notes.txt");
  g_assert_cmpuint (strlen (text), ==, 70000);
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run_cli_err (bob, NULL, &err, "download", id, NULL), ==, 1);
  g_assert_nonnull (strstr (err, "exists"));
  g_clear_pointer (&err, g_free);
  /* To standard output. */
  g_assert_cmpint (run_cli (bob, &out, "download", id, "-o", "-", NULL), ==, 0);
  g_assert_cmpstr (out, ==, text);
  g_clear_pointer (&out, g_free);

  /* Unknown, and not a media id at all. */
  g_assert_cmpint (run_cli (bob, NULL, "download", "f000000000000000000000000", NULL), ==, 5);
  g_assert_cmpint (run_cli (bob, NULL, "download", "../../x", NULL), ==, 1);
  /* A file that cannot be read sends nothing. */
  g_assert_cmpint (run_cli_err (alice, NULL, &err, "send", "bob", "x", "--file", "/nonexistent/file", NULL), ==, 2);
  g_assert_nonnull (strstr (err, "/nonexistent/file"));
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run_cli (alice, &out, "--json", "outbox", NULL), ==, 0);
  g_assert_cmpstr (out, ==, "[]\n");
}

/* An attachment composed while the server is down, the original deleted:
 * the next command that connects delivers it once it is back. */
static void
test_file_offline (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, NULL);
  g_autoptr(CliUser) alice = cli_user_new ();
  g_autoptr(CliUser) bob = cli_user_new ();
  g_autofree char *photo = user_file (alice, "photo.bin", 300000, 'p');
  g_autofree char *out = NULL;
  g_autoptr(JsonNode) node = NULL;
  JsonArray *array;

  register_user (server, alice, "alice");
  register_user (server, bob, "bob");
  g_assert_cmpint (run_cli (alice, NULL, "send", "bob", "hello", NULL), ==, 0);
  ssq_test_server_kill (server);
  g_assert_cmpint (run_cli (alice, &out, "send", "bob", "while you were out", "--file", photo, NULL), ==, 6);
  g_assert_nonnull (strstr (out, "while you were out [file photo.bin 300.0 kB]"));
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (g_unlink (photo), ==, 0);
  g_assert_cmpint (run_cli (alice, &out, "--json", "outbox", NULL), ==, 4);
  node = parse_json (out);
  array = json_node_get_array (node);
  g_assert_cmpuint (json_array_get_length (array), ==, 1);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (json_array_get_object_element (array, 0),
                                                                         "media")), ==, 1);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&node, json_node_unref);

  ssq_test_server_restart (server);
  g_assert_cmpint (run_cli (alice, NULL, "conversations", NULL), ==, 0);
  g_assert_cmpint (run_cli (alice, &out, "--json", "outbox", NULL), ==, 0);
  g_assert_cmpstr (out, ==, "[]\n");
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run_cli (bob, &out, "--json", "history", "alice", NULL), ==, 0);
  node = parse_json (out);
  array = json_node_get_array (node);
  g_assert_cmpuint (json_array_get_length (array), ==, 2);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (json_array_get_object_element (array, 1),
                                                                         "media")), ==, 1);
  g_assert_cmpint (ssq_test_db_count (server, "SELECT COUNT(*) FROM messages"), ==, 2);
}

/* export: the account, the conversations the user is in (not others'),
 * every message of them in order, older ones paged from the server beyond
 * what the cache synced (its window is 200), and with --media the files,
 * byte for byte; the file is the user's alone. */
static void
test_export (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, "[media]\nuploads_per_minute=0\n");
  g_autoptr(CliUser) alice = cli_user_new ();
  g_autoptr(SsqTestUser) bob = NULL;
  g_autoptr(SsqTestUser) carol = NULL;
  g_autoptr(SsqTestWs) ws = NULL;
  g_autoptr(GBytes) bytes = ssq_test_random_bytes (30000, 3);
  g_autoptr(JsonNode) node = NULL;
  g_autofree char *sum = ssq_test_sha256 (bytes);
  g_autofree char *media_id = NULL, *ids = NULL, *direct = NULL, *text = NULL;
  g_autofree char *file = g_build_filename (alice->home, "export.json", NULL);
  g_autofree char *media_dir = g_build_filename (alice->home, "media", NULL);
  g_autofree char *saved = NULL;
  g_autoptr(GError) error = NULL;
  JsonObject *root, *conversation, *files;
  JsonArray *conversations, *messages;
  GStatBuf st;
  gsize length;

  register_user (server, alice, "alice");
  bob = ssq_test_register (server, "bob");
  carol = ssq_test_register (server, "carol");
  direct = ssq_test_create_conversation (server, bob, "{\"kind\":\"direct\",\"members\":[\"alice\"]}");
  g_free (ssq_test_create_conversation (server, bob, "{\"kind\":\"direct\",\"members\":[\"carol\"]}"));
  ws = ssq_test_ws_connect (server, bob->token, NULL);
  for (int i = 1; i <= 450; i++)
    {
      g_autofree char *client_id = g_strdup_printf ("c%d", i);
      g_autofree char *body = g_strdup_printf ("message %d", i);
      g_autoptr(JsonObject) ack = ssq_test_ws_post (ws, direct, client_id, body);

      g_assert_nonnull (ack);
    }
  media_id = ssq_test_media_upload_ok (server, bob->token, "photo.bin", bytes);
  ids = g_strdup_printf ("[\"%s\"]", media_id);
  g_assert_cmpuint (ssq_test_post_with_media (server, bob->token, direct, "m", ids, NULL), ==, 201);

  g_assert_cmpint (run_cli (alice, NULL, "export", "-o", file, "--media", media_dir, NULL), ==, 0);
  g_assert_cmpint (g_stat (file, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0077, ==, 0);
  g_assert_true (g_file_get_contents (file, &text, NULL, &error));
  node = parse_json (text);
  root = json_node_get_object (node);
  g_assert_cmpstr (json_object_get_string_member (root, "format"), ==, "supersoniq-export");
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (root, "account"),
                                                  "username"), ==, "alice");
  conversations = json_object_get_array_member (root, "conversations");
  g_assert_cmpuint (json_array_get_length (conversations), ==, 1);
  conversation = json_array_get_object_element (conversations, 0);
  g_assert_cmpstr (json_object_get_string_member (conversation, "id"), ==, direct);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (conversation, "members")), ==, 2);
  messages = json_object_get_array_member (conversation, "messages");
  g_assert_cmpuint (json_array_get_length (messages), ==, 451);
  for (guint i = 0; i < 451; i++)
    g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (messages, i), "seq"), ==,
                     i + 1);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (messages, 0), "body"), ==,
                   "message 1");
  g_assert_cmpstr (json_object_get_string_member (json_object_get_array_member (
                     json_array_get_object_element (messages, 450), "media") ?
                     json_array_get_object_element (json_object_get_array_member (
                       json_array_get_object_element (messages, 450), "media"), 0) : NULL, "id"),
                   ==, media_id);
  files = json_object_get_object_member (root, "media_files");
  /* Saved under the name the sender gave it, after its id. */
  {
    g_autofree char *expect = g_strdup_printf ("%s-photo.bin", media_id);
    g_autofree char *base = g_path_get_basename (json_object_get_string_member (files, media_id));

    g_assert_cmpstr (base, ==, expect);
  }
  g_assert_true (g_file_get_contents (json_object_get_string_member (files, media_id), &saved, &length,
                                      &error));
  g_assert_no_error (error);
  {
    g_autoptr(GBytes) got = g_bytes_new (saved, length);
    g_autofree char *got_sum = ssq_test_sha256 (got);

    g_assert_cmpstr (got_sum, ==, sum);
  }
  /* --media belongs to export alone. */
  g_assert_cmpint (run_cli (alice, NULL, "conversations", "--media", media_dir, NULL), ==, 2);
}

/* @n messages of @sender in @conversation_id (new, empty), written straight
 * into the database with the server stopped: through the server they
 * would take minutes. The schema goes down to 2 first and the server
 * brings it back up, making their stored wire form as its migration does
 * (ssq-bench-history.c seeds the same way). */
static void
seed_messages (SsqTestServer *server,
               const char    *conversation_id,
               const char    *sender,
               guint          n)
{
  g_autofree char *db_path = g_build_filename (server->data_dir, "supersoniq.db", NULL);
  g_autofree char *insert = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) migrate = NULL;
  sqlite3 *db = NULL;

  g_assert_cmpint (ssq_test_server_stop (server), ==, 0);
  migrate = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error,
                              g_getenv ("SSQ_SERVER_BIN"), "migrate", "--to", "2",
                              "--data-dir", server->data_dir, NULL);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_wait_check (migrate, NULL, &error));
  g_assert_no_error (error);
  insert = g_strdup_printf (
    "BEGIN;"
    "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < %u) "
    "INSERT INTO messages (conversation_id, seq, id, sender, client_id, body, created_at) "
    "SELECT '%s', n, printf('mseed%%019d', n), '%s', printf('seed-%%d', n), "
    "  printf('message number %%d, with a few words more as a chat line has', n), "
    "  1700000000000 + n * 1000 FROM s;"
    "UPDATE conversations SET last_seq = %u WHERE id = '%s';"
    "COMMIT;", n, conversation_id, sender, n, conversation_id);
  g_assert_cmpint (sqlite3_open (db_path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, insert, NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);
  ssq_test_server_restart (server);
}

/* The first entry of @dir whose name starts with @prefix, or NULL. */
static char *
entry_with_prefix (const char *dir,
                   const char *prefix)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    if (g_str_has_prefix (name, prefix))
      return g_strdup (name);
  return NULL;
}

/* Runs `supersoniq-cli ARGS…` as @user to its end, without GSubprocess so
 * that wait4 reports its own peak resident set (KiB), not that of another
 * child of the test. */
static int
run_cli_measured (CliUser            *user,
                  const char * const *args,
                  glong              *out_max_rss_kb)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autofree char *config = g_build_filename (user->home, "config", NULL);
  g_autofree char *data = g_build_filename (user->home, "data", NULL);
  g_autofree char *cache = g_build_filename (user->home, "cache", NULL);
  g_auto(GStrv) env = g_get_environ ();
  g_autoptr(GError) error = NULL;
  struct rusage usage;
  GPid pid;
  int status;

  env = g_environ_setenv (env, "XDG_CONFIG_HOME", config, TRUE);
  env = g_environ_setenv (env, "XDG_DATA_HOME", data, TRUE);
  env = g_environ_setenv (env, "XDG_CACHE_HOME", cache, TRUE);
  env = g_environ_setenv (env, "LC_ALL", "C", TRUE);
  g_ptr_array_add (argv, (gpointer) g_getenv ("SSQ_CLI_BIN"));
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  g_spawn_async (user->home, (char **) argv->pdata, env,
                 G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, &pid, &error);
  g_assert_no_error (error);
  g_assert_cmpint (wait4 (pid, &status, 0, &usage), ==, pid);
  g_spawn_close_pid (pid);
  *out_max_rss_kb = usage.ru_maxrss;
  g_assert_true (WIFEXITED (status));
  return WEXITSTATUS (status);
}

/* export of a conversation of 20,000 messages: interrupted halfway (the
 * server stopped under it, then SIGTERM), it exits 1 and leaves FILE as
 * it was, with no temporary file beside it; run to its end, the document
 * holds every message in order, written as it was paged: the client's
 * peak resident set stays far below what a JSON tree of them takes
 * (about 3 KiB a message). */
static void
test_export_streamed (void)
{
  const guint n = 20000;
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, NULL);
  g_autoptr(CliUser) alice = cli_user_new ();
  g_autoptr(SsqTestUser) bob = NULL;
  g_autoptr(GSubprocessLauncher) launcher = launcher_for (alice);
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = NULL;
  g_autofree char *direct = NULL, *text = NULL, *stale = NULL, *left = NULL;
  g_autofree char *dir = g_build_filename (alice->home, "out", NULL);
  g_autofree char *file = g_build_filename (dir, "export.json", NULL);
  const char *args[] = { "export", "-o", file, NULL };
  JsonArray *messages;
  glong max_rss_kb = 0;

  register_user (server, alice, "alice");
  bob = ssq_test_register (server, "bob");
  direct = ssq_test_create_conversation (server, bob, "{\"kind\":\"direct\",\"members\":[\"alice\"]}");
  seed_messages (server, direct, bob->id, n);
  g_assert_cmpint (g_mkdir (dir, 0700), ==, 0);
  g_assert_true (g_file_set_contents (file, "an earlier export", -1, NULL));

  process = g_subprocess_launcher_spawn (launcher, &error, g_getenv ("SSQ_CLI_BIN"), "export", "-o", file,
                                         NULL);
  g_assert_no_error (error);
  /* Once its temporary file is there it pages; the server then stops
   * answering, so that the export cannot end before the signal. */
  for (guint i = 0; i < 5000 && left == NULL; i++)
    {
      left = entry_with_prefix (dir, "export.json.");
      g_usleep (1000);
    }
  g_test_message ("interrupted %s its temporary file was made", left ? "after" : "before");
  g_clear_pointer (&left, g_free);
  kill (ssq_test_server_pid (server), SIGSTOP);
  g_subprocess_send_signal (process, SIGTERM);
  g_assert_true (g_subprocess_wait (process, NULL, &error));
  kill (ssq_test_server_pid (server), SIGCONT);
  g_assert_true (g_subprocess_get_if_exited (process));
  g_assert_cmpint (g_subprocess_get_exit_status (process), ==, 1);
  g_assert_true (g_file_get_contents (file, &stale, NULL, NULL));
  g_assert_cmpstr (stale, ==, "an earlier export");
  left = entry_with_prefix (dir, "export.json.");
  g_assert_null (left);

  g_assert_cmpint (run_cli_measured (alice, args, &max_rss_kb), ==, 0);
  g_test_message ("export of %u messages: peak resident set %ld KiB", n, max_rss_kb);
#ifndef __SANITIZE_ADDRESS__
  /* A tree of them alone would be over 60 MiB. */
  g_assert_cmpint (max_rss_kb, <, 56 * 1024);
#endif
  g_assert_true (g_file_get_contents (file, &text, NULL, &error));
  node = parse_json (text);
  messages = json_object_get_array_member (
    json_array_get_object_element (json_object_get_array_member (json_node_get_object (node),
                                                                 "conversations"), 0),
    "messages");
  g_assert_cmpuint (json_array_get_length (messages), ==, n);
  for (guint i = 0; i < n; i++)
    g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (messages, i), "seq"), ==,
                     i + 1);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/cli/usage-and-auth", test_usage_and_auth);
  g_test_add_func ("/cli/usage-messages", test_usage_messages);
  g_test_add_func ("/cli/ambiguous-title", test_ambiguous_title);
  g_test_add_func ("/cli/hostile-text", test_hostile_text);
  g_test_add_func ("/cli/json-is-wire", test_json_is_wire);
  g_test_add_func ("/cli/export", test_export);
  g_test_add_func ("/cli/export-streamed", test_export_streamed);
  g_test_add_func ("/cli/send-history-and-queue", test_send_history_and_queue);
  g_test_add_func ("/cli/tail", test_tail);
  g_test_add_func ("/cli/send-file-and-download", test_send_file_and_download);
  g_test_add_func ("/cli/file-offline", test_file_offline);
  return g_test_run ();
}
