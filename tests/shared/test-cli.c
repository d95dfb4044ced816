/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-cli.c: the supersoniq-cli binary against the real server, as a
 * script would use it: output, --json and exit codes. */
#include <glib/gstdio.h>
#include <signal.h>
#include <unistd.h>

#include "ssq-json.h"
#include "ssq-wire.h"
#include "ssq-test-cli-user.h"
#include "ssq-test-media.h"
#include "ssq-test-server.h"
#include "ssq-test-limits.h"

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

  cli_register_user (server, alice, "alice");
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
  cli_register_user (server, alice, "alice");
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

  cli_register_user (server, alice, "alice");
  cli_register_user (server, bob, "bob");
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

  cli_register_user (server, alice, "alice");
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
  node = cli_parse_json (out);
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
  node = cli_parse_json (out);
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
  node = cli_parse_json (out);
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

  cli_register_user (server, alice, "alice");
  cli_register_user (server, bob, "bob");

  /* A username names the direct conversation, made on first use. */
  g_assert_cmpint (run_cli (alice, &out, "--json", "send", "bob", "hello bob", NULL), ==, 0);
  node = cli_parse_json (out);
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
  node = cli_parse_json (out);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (node)), ==, 1);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&node, json_node_unref);
  g_assert_cmpint (run_cli (alice, &out, "conversations", NULL), ==, 4);    /* cached, marked stale */
  g_assert_nonnull (strstr (out, "Lab Crew"));
  g_clear_pointer (&out, g_free);
  /* The conversation with bob counts the message waiting for it. */
  g_assert_cmpint (run_cli (alice, &out, "--json", "conversations", NULL), ==, 4);
  node = cli_parse_json (out);
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
  node = cli_parse_json (out);
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

  cli_register_user (server, alice, "alice");
  cli_register_user (server, bob, "bob");
  g_assert_cmpint (run_cli (alice, NULL, "send", "bob", "before", NULL), ==, 0);

  launcher = cli_user_launcher (bob);
  tail = g_subprocess_launcher_spawn (launcher, &error, g_getenv ("SSQ_CLI_BIN"), "--json",
                                      "tail", "alice", NULL);
  g_assert_no_error (error);
  lines = g_data_input_stream_new (g_subprocess_get_stdout_pipe (tail));
  /* Only what arrives from now on; give tail its connection first. */
  ssq_test_wait_ms (500);
  g_assert_cmpint (run_cli (alice, NULL, "send", "bob", "live one", NULL), ==, 0);
  line = g_data_input_stream_read_line (lines, NULL, NULL, &error);
  g_assert_no_error (error);
  node = cli_parse_json (line);
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

  cli_register_user (server, alice, "alice");
  cli_register_user (server, bob, "bob");
  g_assert_cmpint (run_cli (alice, &out, "--json", "send", "bob", "two files", "--file", a, "-f", b, NULL), ==, 0);
  node = cli_parse_json (out);
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
  node = cli_parse_json (out);
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
  node = cli_parse_json (out);
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

  cli_register_user (server, alice, "alice");
  cli_register_user (server, bob, "bob");
  g_assert_cmpint (run_cli (alice, NULL, "send", "bob", "hello", NULL), ==, 0);
  ssq_test_server_kill (server);
  g_assert_cmpint (run_cli (alice, &out, "send", "bob", "while you were out", "--file", photo, NULL), ==, 6);
  g_assert_nonnull (strstr (out, "while you were out [file photo.bin 300.0 kB]"));
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (g_unlink (photo), ==, 0);
  g_assert_cmpint (run_cli (alice, &out, "--json", "outbox", NULL), ==, 4);
  node = cli_parse_json (out);
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
  node = cli_parse_json (out);
  array = json_node_get_array (node);
  g_assert_cmpuint (json_array_get_length (array), ==, 2);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (json_array_get_object_element (array, 1),
                                                                         "media")), ==, 1);
  g_assert_cmpint (ssq_test_db_count (server, "SELECT COUNT(*) FROM messages"), ==, 2);
}

/* The largest file under @path, its size. */
static goffset
largest_file (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;
  goffset largest = 0;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);
      GStatBuf st;

      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        largest = MAX (largest, largest_file (child));
      else if (g_stat (child, &st) == 0)
        largest = MAX (largest, (goffset) st.st_size);
    }
  return largest;
}

/* A disk too full for the cache to take what the server sends: the CLI
 * says so and fails (exit 8). It printed the history it had, stale, and
 * exited 0. With room again, the next command brings it all. */
static void
test_cache_full (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, NULL);
  g_autoptr(CliUser) alice = cli_user_new ();
  g_autoptr(SsqTestUser) bob = ssq_test_register (server, "bob");
  g_autoptr(SsqTestWs) ws = ssq_test_ws_connect (server, bob->token, NULL);
  g_autofree char *body = g_strnfill (3000, 'x');
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr(JsonNode) node = NULL;
  const char *conversation_id;

  cli_register_user (server, alice, "alice");
  g_assert_cmpint (run_cli (alice, &out, "--json", "send", "bob", "hello", NULL), ==, 0);
  node = cli_parse_json (out);
  conversation_id = json_object_get_string_member (json_node_get_object (node), "conversation_id");
  for (guint i = 0; i < 30; i++)
    {
      g_autofree char *client_id = g_strdup_printf ("b%u", i);
      g_autoptr(JsonObject) posted = ssq_test_ws_post (ws, conversation_id, client_id, body);
    }

  ssq_test_set_file_limit ((guint64) largest_file (alice->home));
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run_cli_err (alice, &out, &err, "history", "bob", NULL), ==, 8);
  ssq_test_set_file_limit (G_MAXUINT64);
  g_test_message ("stdout: %s\nstderr: %s", out, err);
  g_assert_nonnull (strstr (err, "Cannot store"));

  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run_cli (alice, &out, "history", "bob", "--limit", "3", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "#31 bob: xxx"));
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
  g_test_add_func ("/cli/send-history-and-queue", test_send_history_and_queue);
  g_test_add_func ("/cli/tail", test_tail);
  g_test_add_func ("/cli/send-file-and-download", test_send_file_and_download);
  g_test_add_func ("/cli/file-offline", test_file_offline);
  g_test_add_func ("/cli/cache-full", test_cache_full);
  return g_test_run ();
}
