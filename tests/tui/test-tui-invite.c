/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-tui-invite.c: invites in the real supersoniq-tui, in tmux, against
 * the real server in invite mode: `--invite LINK` asks for a name and a
 * password, registers with the invite and opens the chat; a server
 * admin's `/invite` shows the link and its QR code in half blocks, which,
 * read back off the screen (capture-pane) into pixels, zbarimg decodes to
 * the link shown; that link lets the next person in, who is no admin. */
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ssq-json.h"
#include "ssq-test-server.h"
#include "ssq-test-tmux.h"

/* supersoniq-tui @args, 110 x 44 (room for the QR code). */
static SsqTestTerm *
term_start (const char *name,
            const char *args,
            gboolean    errors_on_screen)
{
  return ssq_test_term_start (name, args, 110, 44, errors_on_screen);
}

/* The name, the password twice, as the program asks for them. */
static void
join_at_terminal (SsqTestTerm *term,
                  const char  *username)
{
  ssq_test_term_wait (term, "with an invite");
  ssq_test_term_wait (term, "Username:");
  ssq_test_term_type (term, username);
  ssq_test_term_key (term, "Enter");
  ssq_test_term_wait (term, "Password:");
  ssq_test_term_type (term, "password123");
  ssq_test_term_key (term, "Enter");
  ssq_test_term_wait (term, "Password again:");
  ssq_test_term_type (term, "password123");
  ssq_test_term_key (term, "Enter");
  ssq_test_term_wait (term, "[online]");
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

/* The colour an SGR escape's fields set for foreground (@base 30) or
 * background (@base 40) from field @i on, as "5;N" for a palette index
 * (the 16 first as 30–37 and 90–97 or 40–47 and 100–107 say them too),
 * "2;R;G;B" for a direct colour, "" for the default; NULL if the field
 * is not about it. *@i moves past what was read. */
static char *
sgr_colour (GStrv  fields,
            guint *i,
            int    base)
{
  int code = atoi (fields[*i]);

  if (code == base + 9)
    return g_strdup ("");
  if (code >= base && code <= base + 7)
    return g_strdup_printf ("5;%d", code - base);
  if (code >= base + 60 && code <= base + 67)
    return g_strdup_printf ("5;%d", code - base - 60 + 8);
  if (code == base + 8 && fields[*i + 1] != NULL)
    {
      guint n = atoi (fields[*i + 1]) == 5 ? 2 : 4;
      g_autofree char **colour = NULL;

      if (n > g_strv_length (fields + *i + 1))
        return NULL;
      colour = g_new0 (char *, n + 1);
      memcpy (colour, fields + *i + 1, n * sizeof (char *));
      *i += n;
      return g_strjoinv (";", colour);
    }
  return NULL;
}

/* Every cell of the QR code's rows on @text, a screen with its escapes
 * (capture-pane -e): the lines with a run of full blocks, from the first
 * block to the last. TRUE if each is drawn in @fg on @bg, explicitly, as
 * the escapes set them (they carry over from cell to cell and line to
 * line until changed). */
static gboolean
qr_cells_coloured (const char *text,
                   const char *fg,
                   const char *bg,
                   guint      *out_cells)
{
  g_autofree char *cur_fg = g_strdup (""), *cur_bg = g_strdup ("");
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);

  *out_cells = 0;
  for (guint l = 0; lines[l] != NULL; l++)
    {
      g_autofree char *plain = NULL;
      g_autoptr(GString) strip = g_string_new (NULL);
      g_autoptr(GPtrArray) fgs = g_ptr_array_new_with_free_func (g_free);
      g_autoptr(GPtrArray) bgs = g_ptr_array_new_with_free_func (g_free);
      const char *first, *last;
      glong from, to;

      for (const char *p = lines[l]; *p != '\0';)
        if (p[0] == '\033' && p[1] == '[')
          {
            const char *m = p + 2;
            g_autofree char *params = NULL;
            g_auto(GStrv) fields = NULL;

            while (g_ascii_isdigit (*m) || *m == ';')
              m++;
            params = g_strndup (p + 2, m - p - 2);
            p = *m != '\0' ? m + 1 : m;
            if (m[0] != 'm')
              continue;
            fields = g_strsplit (params, ";", -1);
            if (fields[0] == NULL)
              {
                g_free (cur_fg), cur_fg = g_strdup ("");
                g_free (cur_bg), cur_bg = g_strdup ("");
              }
            for (guint i = 0; fields[i] != NULL; i++)
              {
                char *colour;

                if (g_str_equal (fields[i], "0") || fields[i][0] == '\0')
                  {
                    g_free (cur_fg), cur_fg = g_strdup ("");
                    g_free (cur_bg), cur_bg = g_strdup ("");
                  }
                else if ((colour = sgr_colour (fields, &i, 30)) != NULL)
                  g_free (cur_fg), cur_fg = colour;
                else if ((colour = sgr_colour (fields, &i, 40)) != NULL)
                  g_free (cur_bg), cur_bg = colour;
              }
          }
        else
          {
            const char *next = g_utf8_next_char (p);

            g_string_append_len (strip, p, next - p);
            g_ptr_array_add (fgs, g_strdup (cur_fg));
            g_ptr_array_add (bgs, g_strdup (cur_bg));
            p = next;
          }
      plain = g_strdup (strip->str);
      if ((first = strstr (plain, "████")) == NULL)
        continue;
      last = g_strrstr (plain, "█");
      from = g_utf8_pointer_to_offset (plain, first);
      to = g_utf8_pointer_to_offset (plain, last);
      for (glong c = from; c <= to; c++, (*out_cells)++)
        if (!g_str_equal (fgs->pdata[c], fg) || !g_str_equal (bgs->pdata[c], bg))
          {
            g_test_message ("line %u, cell %ld: \"%s\" on \"%s\"", l, c,
                            (char *) fgs->pdata[c], (char *) bgs->pdata[c]);
            return FALSE;
          }
    }
  return *out_cells > 0;
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
  g_autoptr(SsqTestTerm) alice = NULL;
  g_autoptr(SsqTestTerm) bob = NULL;
  g_autoptr(SsqTestTerm) mallory = NULL;
  g_autofree char *first = NULL, *args = NULL, *text = NULL, *link = NULL, *decoded = NULL;
  g_autofree char *dir = NULL, *pgm = NULL, *coloured = NULL;
  guint cells = 0;

  if (tmux_path == NULL || zbarimg == NULL)
    {
      g_test_skip ("needs tmux and zbarimg (apt install tmux zbar-tools)");
      return;
    }
  server = ssq_test_server_start (NULL, "[server]\nregistration=invite\n");

  /* A link out of shape: a clear refusal before anything is asked. */
  mallory = term_start ("mallory", "--invite supersoniq://host/nope", TRUE);
  ssq_test_term_wait (mallory, "Not an invite link");

  /* The first person joins with an invite from the administration
   * socket, and is the server admin. */
  first = admin_socket_invite (server);
  args = g_strdup_printf ("--invite '%s'", first);
  alice = term_start ("alice", args, FALSE);
  join_at_terminal (alice, "alice");

  /* /invite: the link and its QR code; the code reads back to the link. */
  ssq_test_term_type (alice, "/invite --uses 2 --expires 2h");
  ssq_test_term_key (alice, "Enter");
  ssq_test_term_wait (alice, "Invite: 2 registrations");
  text = ssq_test_term_screen (alice);
  g_test_message ("%s", text);
  link = link_on_screen (text);
  g_assert_nonnull (link);
  g_assert_true (g_str_has_prefix (link, "supersoniq://127.0.0.1:"));
  dir = g_dir_make_tmp ("ssq-tui-qr-XXXXXX", NULL);
  pgm = g_build_filename (dir, "screen.pgm", NULL);
  g_assert_true (qr_from_screen (text, pgm));
  /* Bright white (palette 15) on black, set by the program: the code
   * reads right on a light terminal too. */
  coloured = ssq_test_term_screen_full (alice, TRUE);
  g_assert_true (qr_cells_coloured (coloured, "5;15", "5;0", &cells));
  g_test_message ("QR code: %u cells, each white on black", cells);
  decoded = zbar_decode (pgm);
  g_assert_cmpstr (decoded, ==, link);
  g_unlink (pgm);
  g_rmdir (dir);
  ssq_test_term_key (alice, "Escape");
  ssq_test_term_wait_gone (alice, "Invite: 2 registrations");

  /* Bad options are refused in the status line. */
  ssq_test_term_type (alice, "/invite --uses 0");
  ssq_test_term_key (alice, "Enter");
  ssq_test_term_wait (alice, "--uses takes a number from 1 to 1000");

  /* That link lets bob in; bob is no admin, and the server says so. */
  g_free (args);
  args = g_strdup_printf ("--invite '%s'", link);
  bob = term_start ("bob", args, FALSE);
  join_at_terminal (bob, "bob");
  ssq_test_term_type (bob, "/invite");
  ssq_test_term_key (bob, "Enter");
  ssq_test_term_wait (bob, "Only a server admin");
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/tui/invite", test_tui_invite);
  return g_test_run ();
}
