/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-admin-socket.c: the administration socket of the real server: its
 * mode and its directory's, no socket where it cannot be private, hostile
 * names shown to the admin, malformed, oversize and stuck admin clients
 * while chat clients are served, and no server running. */
#include "ssq-test-admin.h"
#include "ssq-json.h"

#include <errno.h>
#include <signal.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- the socket ---------------------------------------------------------- */

/* Only the server's user may reach it: 0600 in a 0700 directory. */
static void
test_socket_mode (void)
{
  g_autofree char *path = g_build_filename (server->data_dir, "admin.sock", NULL);
  struct stat st;

  g_assert_cmpint (lstat (path, &st), ==, 0);
  g_assert_true (S_ISSOCK (st.st_mode));
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  g_assert_cmpint (stat (server->data_dir, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0700);
}

/* A data directory made 0755 beforehand (by hand, by an earlier version)
 * is made 0700 before the server opens anything in it, whether or not it
 * can have an admin socket: here its path is too long for one. */
static void
test_dir_tightened (void)
{
  g_autofree char *top = g_dir_make_tmp ("ssq-admin-long-XXXXXX", NULL);
  g_autofree char *dir = NULL;
  g_autofree char *err = NULL;
  g_autoptr(SsqTestServer) s = NULL;
  GString *long_dir = g_string_new (top);
  struct stat st;

  while (long_dir->len + strlen ("/admin.sock") < sizeof ((struct sockaddr_un *) NULL)->sun_path)
    g_string_append (long_dir, "/abcdefghij");
  dir = g_string_free (long_dir, FALSE);
  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  g_assert_cmpint (g_chmod (dir, 0755), ==, 0);
  s = ssq_test_server_start (dir, NULL);
  g_assert_cmpint (stat (dir, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0700);
  g_assert_cmpint (run_admin_in (dir, NULL, &err, "stats", NULL), ==, 1);
  g_assert_nonnull (strstr (err, "longer than"));
  g_assert_cmpint (ssq_test_server_stop (s), ==, 0);
  ssq_test_remove_tree (top);
}

/* A data directory that cannot be made private (another user's, open to
 * all) gets no admin socket: a socket there could be reached by others
 * between its bind and its chmod, and replaced after. The server runs and
 * says why. Needs root, to run the server as nobody (killed with this
 * test: a changed user drops the parent-death signal set before). */
static void
test_open_dir_no_socket (void)
{
  const char *wrapper[] = { "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                            "--pdeathsig=KILL", NULL };
  g_autofree char *top = g_dir_make_tmp ("ssq-admin-open-XXXXXX", NULL);
  g_autofree char *dir = g_build_filename (top, "data", NULL);
  g_autofree char *sock = g_build_filename (dir, "admin.sock", NULL);
  g_autofree char *err = NULL;
  g_autofree char *setpriv = g_find_program_in_path ("setpriv");
  g_autoptr(SsqTestServer) s = NULL;
  g_autoptr(SsqTestUser) u = NULL;

  if (geteuid () != 0 || setpriv == NULL)
    {
      g_test_skip ("needs root and setpriv to run the server as another user");
      ssq_test_remove_tree (top);
      return;
    }
  g_assert_cmpint (g_chmod (top, 0755), ==, 0);
  g_assert_cmpint (g_mkdir (dir, 0777), ==, 0);
  g_assert_cmpint (g_chmod (dir, 0777), ==, 0);
  s = ssq_test_server_start_wrapped (dir, NULL, wrapper);
  u = ssq_test_register (s, "open.ida");          /* it serves */
  g_assert_false (g_file_test (sock, G_FILE_TEST_EXISTS));
  g_assert_cmpint (run_admin_in (dir, NULL, &err, "stats", NULL), ==, 1);
  g_assert_nonnull (strstr (err, "without administration"));
  g_assert_cmpint (ssq_test_server_stop (s), ==, 0);
  ssq_test_remove_tree (top);
}

/* ---- hostile names ---------------------------------------------------------- */

/* Whether @text holds a character a terminal acts on: ESC or another C0
 * control but the newline, DEL, a C1 control (U+0080..U+009F: U+009B is
 * CSI, U+009D OSC), a line separator or a bidi override. */
static gboolean
has_terminal_controls (const char *text)
{
  g_assert_true (g_utf8_validate (text, -1, NULL));
  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if ((c < 0x20 && c != '\n') || (c >= 0x7f && c <= 0x9f) || c == 0x2028 ||
          (c >= 0x202a && c <= 0x202e))
        return TRUE;
    }
  return FALSE;
}

/* Everything a user names (display name, device, a group's title) reaches
 * the admin's terminal: as tables and as --json, never as escape
 * sequences. The display name below clears the screen and sets the window
 * title with C1 controls in UTF-8 (U+009B, U+009D ... U+009C), which JSON
 * generators leave raw; the device writes the clipboard (OSC 52). The JSON
 * still says the same names. */
static void
test_hostile_names (void)
{
  static const char evil_name[] = "Eve\xc2\x9b" "2J\xc2\x9d" "0;PWNED\xc2\x9c\x1b[31m\xe2\x80\xaeli\x7f";
  static const char evil_device[] = "dev\x1b]52;c;aGVsbG8=\x07\xc2\x9d" "52;c;aGk=\xc2\x9c";
  g_autoptr(JsonObject) body = json_object_new ();
  g_autofree char *text = NULL;
  g_autoptr(JsonObject) reply = NULL;
  g_autofree char *conv = NULL;
  g_autofree char *create = NULL;
  SsqTestUser owner = { NULL, NULL, NULL };
  guint status = 0;

  json_object_set_string_member (body, "username", "evil.eve");
  json_object_set_string_member (body, "password", "password-evil.eve");
  json_object_set_string_member (body, "display_name", evil_name);
  json_object_set_string_member (body, "device", evil_device);
  {
    g_autoptr(JsonNode) node = json_node_init_object (json_node_alloc (), body);

    text = json_to_string (node, FALSE);
  }
  reply = ssq_test_http (server, "POST", "/api/v1/register", NULL, text, &status);
  g_assert_cmpuint (status, ==, 201);
  owner.token = (char *) json_object_get_string_member (reply, "token");
  /* Written by json-glib: g_strescape () writes octal escapes ("\\033"),
   * which are not JSON. */
  {
    g_autoptr(JsonObject) request = json_object_new ();

    json_object_set_string_member (request, "kind", "group");
    json_object_set_string_member (request, "title", evil_name);
    create = ssq_json_object_to_string (request, NULL);
  }
  conv = ssq_test_create_conversation (server, &owner, create);

  {
    /* group, verb, argument (NULL: none) */
    const char *const commands[][3] = {
      { "users", "list", NULL }, { "users", "show", "evil.eve" }, { "sessions", "list", NULL },
      { "conversations", "list", NULL }, { "conversations", "show", conv },
    };

    for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
      for (guint json = 0; json < 2; json++)
        {
          g_autofree char *out = NULL;

          g_assert_cmpint (run_admin_in (server->data_dir, &out, NULL, json ? "--json" : "--",
                                         commands[i][0], commands[i][1], commands[i][2], NULL),
                           ==, 0);
          g_test_message ("%s %s%s: %zu bytes", commands[i][0], commands[i][1],
                          json ? " --json" : "", strlen (out));
          g_assert_false (has_terminal_controls (out));
          if (json && i == 1)
            {
              g_autoptr(JsonNode) node = json_from_string (out, NULL);

              g_assert_nonnull (node);
              g_assert_cmpstr (json_object_get_string_member (json_node_get_object (node),
                                                              "display_name"), ==, evil_name);
            }
        }
  }
}

/* ---- hostile and stuck admin clients ---------------------------------------- */

static int
admin_socket (void)
{
  g_autofree char *path = g_build_filename (server->data_dir, "admin.sock", NULL);
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  struct timeval tv = { .tv_sec = 10 };
  int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

  g_strlcpy (sa.sun_path, path, sizeof sa.sun_path);
  g_assert_cmpint (connect (fd, (struct sockaddr *) &sa, sizeof sa), ==, 0);
  setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

/* Sends @data (may be large: sent until the server stops taking it) and
 * returns the answer's error code. */
static char *
raw_exchange (const char *data,
              gsize       len)
{
  int fd = admin_socket ();
  g_autoptr(GString) in = g_string_new (NULL);
  g_autoptr(JsonNode) node = NULL;
  char buf[4096];
  ssize_t n;

  for (gsize off = 0; off < len; off += (gsize) n)
    if ((n = send (fd, data + off, len - off, MSG_NOSIGNAL)) <= 0)
      break;
  while ((n = recv (fd, buf, sizeof buf, 0)) > 0)
    g_string_append_len (in, buf, n);
  close (fd);
  node = json_from_string (in->str, NULL);
  g_assert_nonnull (node);
  g_assert_false (json_object_get_boolean_member (json_node_get_object (node), "ok"));
  return g_strdup (json_object_get_string_member (
    json_object_get_object_member (json_node_get_object (node), "error"), "code"));
}

/* A malformed or oversize request gets an error; stuck admin clients hold
 * a few connections at most, and chat clients are served throughout. */
static void
test_hostile (void)
{
  g_autoptr(SsqTestUser) u = ssq_test_register (server, "host.hal");
  g_autofree char *conv = ssq_test_create_conversation (server, u,
    "{\"kind\":\"group\",\"title\":\"Host\"}");
  g_autoptr(SsqTestWs) ws = connect_ws (u->token);
  g_autofree char *big = g_malloc (100 * 1024);
  g_autofree char *code = NULL;
  g_autofree char *err = NULL;
  int stuck[4];

  code = raw_exchange ("not json\n", 9);
  g_assert_cmpstr (code, ==, "invalid");
  g_free (code);
  code = raw_exchange ("{\"op\":\"users.list\",\"extra\":1}\n", 31);
  g_assert_cmpstr (code, ==, "invalid");
  g_free (code);
  code = raw_exchange ("{\"op\":\"users.show\",\"user\":5}\n", 29);
  g_assert_cmpstr (code, ==, "invalid");
  g_free (code);
  code = raw_exchange ("{\"op\":\"rm -rf\"}\n", 16);
  g_assert_cmpstr (code, ==, "invalid");
  g_free (code);
  memset (big, 'x', 100 * 1024);
  code = raw_exchange (big, 100 * 1024);
  g_assert_cmpstr (code, ==, "too_large");
  assert_chat_served (ws, conv);

  /* Four clients that connect and say nothing: a fifth is refused at
   * once, the chat goes on; once they are gone, admin works again. */
  for (guint i = 0; i < G_N_ELEMENTS (stuck); i++)
    stuck[i] = admin_socket ();
  g_assert_cmpint (run_admin (NULL, &err, "stats"), ==, 1);
  g_assert_nonnull (strstr (err, "Too many administration connections"));
  assert_chat_served (ws, conv);
  for (guint i = 0; i < G_N_ELEMENTS (stuck); i++)
    close (stuck[i]);
  for (guint i = 0; i < 100 && run_admin (NULL, NULL, "stats") != 0; i++)
    ssq_test_wait_ms (50);
  g_assert_cmpint (run_admin (NULL, NULL, "stats"), ==, 0);
}

/* ---- no server ----------------------------------------------------------------- */

/* Says there is none, whether the socket is missing or left behind by a
 * server that died; never goes through a link. A server that died leaves
 * its socket, and the next one takes its place. */
static void
test_no_server (void)
{
  g_autofree char *dir = g_dir_make_tmp ("ssq-admin-none-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "admin.sock", NULL);
  g_autofree char *err = NULL;
  g_autoptr(SsqTestServer) dead = NULL;
  g_autofree char *dead_path = NULL;
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  int fd;

  g_assert_cmpint (run_admin_in (dir, NULL, &err, "stats", NULL), ==, 1);
  g_assert_nonnull (strstr (err, "No server is running"));
  g_clear_pointer (&err, g_free);

  /* A socket nobody listens on. */
  g_strlcpy (sa.sun_path, path, sizeof sa.sun_path);
  fd = socket (AF_UNIX, SOCK_STREAM, 0);
  g_assert_cmpint (bind (fd, (struct sockaddr *) &sa, sizeof sa), ==, 0);
  close (fd);
  g_assert_cmpint (run_admin_in (dir, NULL, &err, "stats", NULL), ==, 1);
  g_assert_nonnull (strstr (err, "No server is running"));
  g_clear_pointer (&err, g_free);

  /* A link in its place is not followed. */
  g_unlink (path);
  g_assert_cmpint (symlink (path, path), ==, 0);
  g_assert_cmpint (run_admin_in (dir, NULL, &err, "stats", NULL), ==, 1);
  g_assert_nonnull (strstr (err, "not a socket"));
  g_clear_pointer (&err, g_free);
  /* Nor does a server starting there replace it. */
  {
    const char *argv[] = { g_getenv ("SSQ_SERVER_BIN"), "--listen", "127.0.0.1:0",
                           "--data-dir", dir, NULL };
    g_autoptr(GError) error = NULL;
    int status = -1;

    g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, &err,
                  &status, &error);
    g_assert_no_error (error);
    g_assert_cmpint (WEXITSTATUS (status), ==, 1);
    g_assert_nonnull (strstr (err, "is not a socket"));
    g_assert_true (g_file_test (path, G_FILE_TEST_IS_SYMLINK));
  }
  g_unlink (path);
  ssq_test_remove_tree (dir);

  /* Killed: the socket stays; the next server replaces it. */
  dead = ssq_test_server_start (NULL, NULL);
  dead_path = g_build_filename (dead->data_dir, "admin.sock", NULL);
  ssq_test_server_kill (dead);
  g_assert_true (g_file_test (dead_path, G_FILE_TEST_EXISTS));
  ssq_test_server_restart (dead);
  g_assert_cmpint (run_admin_in (dead->data_dir, NULL, NULL, "stats", NULL), ==, 0);
  g_assert_cmpint (ssq_test_server_stop (dead), ==, 0);
  g_assert_false (g_file_test (dead_path, G_FILE_TEST_EXISTS));
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(SsqTestUser) first = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);
  server = ssq_test_server_start (NULL, NULL);
  first = ssq_test_register (server, "first");
  g_test_add_func ("/server/admin/socket-mode", test_socket_mode);
  g_test_add_func ("/server/admin/dir-tightened", test_dir_tightened);
  g_test_add_func ("/server/admin/open-dir-no-socket", test_open_dir_no_socket);
  g_test_add_func ("/server/admin/hostile", test_hostile);
  g_test_add_func ("/server/admin/hostile-names", test_hostile_names);
  g_test_add_func ("/server/admin/no-server", test_no_server);
  status = g_test_run ();
  g_assert_cmpint (ssq_test_server_stop (server), ==, 0);
  ssq_test_server_free (server);
  return status;
}
