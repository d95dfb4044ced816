/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-tui-invite.c: invites in the real supersoniq-tui, in tmux, against
 * the real server in invite mode: `--invite LINK` asks for a name and a
 * password, registers with the invite and opens the chat; a server
 * admin's `/invite` shows the link and its QR code in half blocks, which,
 * read back off the screen (capture-pane) into pixels, zbarimg decodes to
 * the link shown; that link lets the next person in, who is no admin. */
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "ssq-json.h"
#include "ssq-test-server.h"

#define WAIT_MS 60000
#define POLL_MS 50

typedef struct {
  char *socket;
  char *home;
} Term;

static void
tmux (Term       *term,
      const char *first,
      ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  va_list ap;

  g_ptr_array_add (argv, (gpointer) "tmux");
  g_ptr_array_add (argv, (gpointer) "-L");
  g_ptr_array_add (argv, term->socket);
  va_start (ap, first);
  for (const char *arg = first; arg != NULL; arg = va_arg (ap, const char *))
    g_ptr_array_add (argv, (gpointer) arg);
  va_end (ap);
  g_ptr_array_add (argv, NULL);
  g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL,
                NULL, NULL, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
}

static char *
screen (Term *term)
{
  g_autoptr(GError) error = NULL;
  char *out = NULL;
  const char *argv[] = { "tmux", "-L", term->socket, "capture-pane", "-p", NULL };

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
                NULL, NULL, &out, NULL, NULL, &error);
  g_assert_no_error (error);
  return out;
}

static void
wait_screen (Term       *term,
             const char *needle)
{
  gint64 end = g_get_monotonic_time () + WAIT_MS * 1000;

  for (;;)
    {
      g_autofree char *text = screen (term);

      if (strstr (text, needle) != NULL)
        return;
      if (g_get_monotonic_time () > end)
        g_error ("screen of %s without \"%s\":\n%s", term->socket, needle, text);
      g_usleep (POLL_MS * 1000);
    }
}

static void
wait_gone (Term       *term,
           const char *needle)
{
  gint64 end = g_get_monotonic_time () + WAIT_MS * 1000;

  for (;;)
    {
      g_autofree char *text = screen (term);

      if (strstr (text, needle) == NULL)
        return;
      if (g_get_monotonic_time () > end)
        g_error ("screen of %s still with \"%s\":\n%s", term->socket, needle, text);
      g_usleep (POLL_MS * 1000);
    }
}

static void
type (Term       *term,
      const char *text)
{
  tmux (term, "send-keys", "-l", text, NULL);
}

static void
key (Term       *term,
     const char *name)
{
  tmux (term, "send-keys", name, NULL);
}

/* supersoniq-tui with @args in a tmux pane of its own, its settings and
 * data in a home of its own. */
static Term *
term_start (const char *name,
            const char *args,
            gboolean    errors_on_screen)
{
  Term *term = g_new0 (Term, 1);
  g_autoptr(GError) error = NULL;
  g_autofree char *command = NULL;
  g_autofree char *redirect = NULL;

  term->socket = g_strdup_printf ("ssq-invite-%d-%s", (int) getpid (), name);
  term->home = g_dir_make_tmp ("ssq-tui-invite-XXXXXX", &error);
  g_assert_no_error (error);
  redirect = errors_on_screen ? g_strdup ("") : g_strdup_printf ("2>>%s/stderr", term->home);
  command = g_strdup_printf ("env -u DISPLAY -u WAYLAND_DISPLAY HOME=%s XDG_CONFIG_HOME=%s XDG_DATA_HOME=%s "
                             "LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=tmux-256color %s %s %s; sleep 60",
                             term->home, term->home, term->home, g_getenv ("SSQ_TUI_BIN"), args, redirect);
  tmux (term, "-f", "/dev/null", "new-session", "-d", "-x", "110", "-y", "44", command, NULL);
  return term;
}

static void
term_free (Term *term)
{
  tmux (term, "kill-server", NULL);
  ssq_test_remove_tree (term->home);
  g_free (term->home);
  g_free (term->socket);
  g_free (term);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Term, term_free)

/* The name, the password twice, as the program asks for them. */
static void
join_at_terminal (Term       *term,
                  const char *username)
{
  wait_screen (term, "with an invite");
  wait_screen (term, "Username:");
  type (term, username);
  key (term, "Enter");
  wait_screen (term, "Password:");
  type (term, "password123");
  key (term, "Enter");
  wait_screen (term, "Password again:");
  type (term, "password123");
  key (term, "Enter");
  wait_screen (term, "[online]");
}

static char *
admin_socket_invite (SsqTestServer *server)
{
  const char *argv[] = { g_getenv ("SSQ_SERVER_BIN"), "admin", "--data-dir", server->data_dir, "--json",
                         "invites", "create", "--uses", "1", "--expires", "1h", NULL };
  g_autofree char *out = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) made = NULL;
  int status = 0;

  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, 0, NULL, NULL, &out, NULL, &status, &error));
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  made = ssq_json_parse_object (out, strlen (out), &error);
  g_assert_no_error (error);
  return g_strdup (json_object_get_string_member (made, "link"));
}

/* The QR code on @text, the screen: the lines with a run of full blocks
 * (its light quiet zone), from the first block to the last; each glyph's
 * ink is a light module, two module rows a line. Written as a PGM, four
 * pixels a module. */
static gboolean
qr_from_screen (const char *text,
                const char *path)
{
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);
  g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GString) pgm = g_string_new (NULL);
  const guint scale = 4;
  glong side = 0;

  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *first = strstr (lines[i], "████");
      const char *last = g_strrstr (lines[i], "█");
      g_autofree gunichar *row = NULL;
      glong n = 0;

      if (first == NULL)
        continue;
      row = g_utf8_to_ucs4 (first, last + strlen ("█") - first, NULL, &n, NULL);
      if (side != 0 && n != side)
        return FALSE;
      side = n;
      g_ptr_array_add (rows, g_steal_pointer (&row));
    }
  if (rows->len < 10)
    return FALSE;
  g_string_append_printf (pgm, "P5\n%u %u\n255\n", (guint) side * scale, rows->len * 2 * scale);
  for (guint r = 0; r < rows->len; r++)
    for (guint half = 0; half < 2; half++)
      for (guint dy = 0; dy < scale; dy++)
        for (glong x = 0; x < side; x++)
          {
            gunichar c = ((gunichar *) rows->pdata[r])[x];
            gboolean light = half == 0 ? (c == 0x2580 || c == 0x2588) : (c == 0x2584 || c == 0x2588);

            for (guint dx = 0; dx < scale; dx++)
              g_string_append_c (pgm, light ? (char) 255 : 0);
          }
  return g_file_set_contents (path, pgm->str, (gssize) pgm->len, NULL);
}

static char *
zbar_decode (const char *path)
{
  g_autofree char *out = NULL;
  int status = 0;
  const char *argv[] = { "zbarimg", "--quiet", "--raw", path, NULL };

  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
                     NULL, NULL, &out, NULL, &status, NULL) ||
      !g_spawn_check_wait_status (status, NULL))
    return NULL;
  return g_strdup (g_strchomp (out));
}

/* The link shown: from supersoniq:// on, continued on the lines below at
 * the same column (the TUI cuts it to fit the terminal) up to a blank one. */
static char *
link_on_screen (const char *text)
{
  g_auto(GStrv) rows = g_strsplit (text, "\n", -1);
  GString *link = NULL;
  gsize column = 0;

  for (guint i = 0; rows[i] != NULL; i++)
    {
      const char *start = strstr (rows[i], "supersoniq://");

      if (link == NULL && start != NULL)
        {
          column = start - rows[i];
          link = g_string_new (NULL);
        }
      else if (link == NULL)
        continue;
      if (strlen (rows[i]) <= column || rows[i][column] == ' ')
        break;
      for (const char *c = rows[i] + column; *c != '\0' && *c != ' '; c++)
        g_string_append_c (link, *c);
    }
  return link ? g_string_free (link, FALSE) : NULL;
}

static void
test_tui_invite (void)
{
  g_autofree char *tmux_path = g_find_program_in_path ("tmux");
  g_autofree char *zbarimg = g_find_program_in_path ("zbarimg");
  g_autoptr(SsqTestServer) server = NULL;
  g_autoptr(Term) alice = NULL;
  g_autoptr(Term) bob = NULL;
  g_autoptr(Term) mallory = NULL;
  g_autofree char *first = NULL, *args = NULL, *text = NULL, *link = NULL, *decoded = NULL;
  g_autofree char *dir = NULL, *pgm = NULL;

  if (tmux_path == NULL || zbarimg == NULL)
    {
      g_test_skip ("needs tmux and zbarimg (apt install tmux zbar-tools)");
      return;
    }
  server = ssq_test_server_start (NULL, "[server]\nregistration=invite\n");

  /* A link out of shape: a clear refusal before anything is asked. */
  mallory = term_start ("mallory", "--invite supersoniq://host/nope", TRUE);
  wait_screen (mallory, "Not an invite link");

  /* The first person joins with an invite from the administration
   * socket, and is the server admin. */
  first = admin_socket_invite (server);
  args = g_strdup_printf ("--invite '%s'", first);
  alice = term_start ("alice", args, FALSE);
  join_at_terminal (alice, "alice");

  /* /invite: the link and its QR code; the code reads back to the link. */
  type (alice, "/invite --uses 2 --expires 2h");
  key (alice, "Enter");
  wait_screen (alice, "Invite: 2 registrations");
  text = screen (alice);
  g_test_message ("%s", text);
  link = link_on_screen (text);
  g_assert_nonnull (link);
  g_assert_true (g_str_has_prefix (link, "supersoniq://127.0.0.1:"));
  dir = g_dir_make_tmp ("ssq-tui-qr-XXXXXX", NULL);
  pgm = g_build_filename (dir, "screen.pgm", NULL);
  g_assert_true (qr_from_screen (text, pgm));
  decoded = zbar_decode (pgm);
  g_assert_cmpstr (decoded, ==, link);
  g_unlink (pgm);
  g_rmdir (dir);
  key (alice, "Escape");
  wait_gone (alice, "Invite: 2 registrations");

  /* Bad options are refused in the status line. */
  type (alice, "/invite --uses 0");
  key (alice, "Enter");
  wait_screen (alice, "--uses takes a number from 1 to 1000");

  /* That link lets bob in; bob is no admin, and the server says so. */
  g_free (args);
  args = g_strdup_printf ("--invite '%s'", link);
  bob = term_start ("bob", args, FALSE);
  join_at_terminal (bob, "bob");
  type (bob, "/invite");
  key (bob, "Enter");
  wait_screen (bob, "Only a server admin");
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/tui/invite", test_tui_invite);
  return g_test_run ();
}
