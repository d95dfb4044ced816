/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-tui-units.c: the terminal client's pure parts: column widths and
 * wrapping, the line editor, the command parser. */
#include <locale.h>
#include <string.h>

#include "ssq-tui-command.h"
#include "ssq-tui-editor.h"
#include "ssq-display.h"
#include "ssq-tui-width.h"

static void
test_width (void)
{
  int used;
  const char *end;

  g_assert_cmpint (ssq_tui_text_width ("hello", -1), ==, 5);
  g_assert_cmpint (ssq_tui_text_width ("漢字", -1), ==, 4);                 /* wide */
  g_assert_cmpint (ssq_tui_text_width ("e\xcc\x81", -1), ==, 1);            /* e + combining acute */
  g_assert_cmpint (ssq_tui_text_width ("😀", -1), ==, 2);                   /* emoji */
  g_assert_cmpint (ssq_tui_text_width ("👍\xef\xb8\x8f", -1), ==, 2);       /* with variation selector */

  /* Never half a wide character; combining marks stay with their base. */
  end = ssq_tui_fit ("ab漢字", 3, &used);
  g_assert_cmpint (used, ==, 2);
  g_assert_cmpstr (end, ==, "漢字");
  end = ssq_tui_fit ("e\xcc\x81x", 1, &used);
  g_assert_cmpint (used, ==, 1);
  g_assert_cmpstr (end, ==, "x");
}

static void
test_sanitize (void)
{
  g_autofree char *escape = ssq_display_sanitize ("red\033[31m alert\a");
  g_autofree char *bidi = ssq_display_sanitize ("abc\xe2\x80\xae" "def");
  g_autofree char *broken = ssq_display_sanitize ("ok\xff\xfe");
  g_autofree char *tab = ssq_display_sanitize ("a\tb\nc");

  g_assert_null (strchr (escape, '\033'));
  g_assert_null (strchr (escape, '\a'));
  g_assert_nonnull (strstr (escape, "\xef\xbf\xbd"));
  g_assert_null (strstr (bidi, "\xe2\x80\xae"));
  g_assert_true (g_utf8_validate (broken, -1, NULL));
  g_assert_cmpstr (tab, ==, "a b\nc");
}

static void
test_wrap (void)
{
  g_autoptr(GPtrArray) words = ssq_tui_wrap ("the quick brown fox jumps", 10);
  g_autoptr(GPtrArray) long_word = ssq_tui_wrap ("abcdefghijklmnop", 5);
  g_autoptr(GPtrArray) wide = ssq_tui_wrap ("漢字漢字漢字", 5);
  g_autoptr(GPtrArray) paragraphs = ssq_tui_wrap ("one\ntwo", 40);

  g_assert_cmpuint (words->len, ==, 3);
  g_assert_cmpstr (words->pdata[0], ==, "the quick");
  g_assert_cmpstr (words->pdata[1], ==, "brown fox");
  g_assert_cmpstr (words->pdata[2], ==, "jumps");
  g_assert_cmpuint (long_word->len, ==, 4);
  g_assert_cmpstr (long_word->pdata[3], ==, "p");
  for (guint i = 0; i < wide->len; i++)
    g_assert_cmpint (ssq_tui_text_width (wide->pdata[i], -1), <=, 5);
  g_assert_cmpuint (wide->len, ==, 3);
  g_assert_cmpuint (paragraphs->len, ==, 2);
}

static void
test_editor (void)
{
  g_autoptr(SsqTuiEditor) e = ssq_tui_editor_new ();
  g_autofree char *line = NULL;
  g_autofree char *word = NULL;

  ssq_tui_editor_insert (e, "héllo wörld");
  ssq_tui_editor_backspace (e);
  g_assert_cmpstr (ssq_tui_editor_get_text (e), ==, "héllo wörl");
  ssq_tui_editor_home (e);
  ssq_tui_editor_right (e);
  ssq_tui_editor_right (e);                   /* after the é: two bytes */
  g_assert_cmpuint (ssq_tui_editor_get_cursor (e), ==, 3);
  ssq_tui_editor_backspace (e);
  g_assert_cmpstr (ssq_tui_editor_get_text (e), ==, "hllo wörl");
  ssq_tui_editor_insert (e, "E");
  ssq_tui_editor_end (e);
  ssq_tui_editor_delete_word (e);
  g_assert_cmpstr (ssq_tui_editor_get_text (e), ==, "hEllo ");
  ssq_tui_editor_insert (e, "a\nb\tc\033d");  /* a paste: no controls */
  g_assert_cmpstr (ssq_tui_editor_get_text (e), ==, "hEllo a b cd");
  ssq_tui_editor_word_left (e);
  ssq_tui_editor_kill_to_end (e);
  g_assert_cmpstr (ssq_tui_editor_get_text (e), ==, "hEllo a b ");
  ssq_tui_editor_word_left (e);
  ssq_tui_editor_kill_to_start (e);
  g_assert_cmpstr (ssq_tui_editor_get_text (e), ==, "b ");

  /* History keeps what is being written. */
  ssq_tui_editor_set_text (e, "first");
  line = ssq_tui_editor_take_line (e);
  g_assert_cmpstr (line, ==, "first");
  g_free (line);
  ssq_tui_editor_set_text (e, "second");
  line = ssq_tui_editor_take_line (e);
  ssq_tui_editor_insert (e, "draft");
  ssq_tui_editor_history_prev (e);
  g_assert_cmpstr (ssq_tui_editor_get_text (e), ==, "second");
  ssq_tui_editor_history_prev (e);
  ssq_tui_editor_history_prev (e);
  g_assert_cmpstr (ssq_tui_editor_get_text (e), ==, "first");
  ssq_tui_editor_history_next (e);
  ssq_tui_editor_history_next (e);
  g_assert_cmpstr (ssq_tui_editor_get_text (e), ==, "draft");

  /* Completion helpers. */
  ssq_tui_editor_set_text (e, "hi @bo");
  word = ssq_tui_editor_word_before_cursor (e);
  g_assert_cmpstr (word, ==, "@bo");
  ssq_tui_editor_replace_word_before_cursor (e, "@bob ");
  g_assert_cmpstr (ssq_tui_editor_get_text (e), ==, "hi @bob ");
}

static const SsqTuiCommand *
parse (const char *line,
       GStrv      *args,
       GError    **error)
{
  g_clear_pointer (args, g_strfreev);
  return ssq_tui_command_parse (line, args, error);
}

static void
test_commands (void)
{
  g_auto(GStrv) args = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *help = ssq_tui_command_help ();
  g_autoptr(GPtrArray) completions = ssq_tui_command_complete ("u");
  const SsqTuiCommand *c;

  c = parse ("/reply 12 sure,  see you   at 5", &args, &error);
  g_assert_no_error (error);
  g_assert_cmpint (c->id, ==, SSQ_TUI_CMD_REPLY);
  g_assert_cmpstr (args[0], ==, "12");
  g_assert_cmpstr (args[1], ==, "sure,  see you   at 5");

  c = parse ("/group \"Lab crew\" bob carol", &args, &error);
  g_assert_cmpint (c->id, ==, SSQ_TUI_CMD_GROUP);
  g_assert_cmpuint (g_strv_length (args), ==, 3);
  g_assert_cmpstr (args[0], ==, "Lab crew");

  c = parse ("/QUIT", &args, &error);
  g_assert_cmpint (c->id, ==, SSQ_TUI_CMD_QUIT);

  g_assert_null (parse ("/fly away", &args, &error));
  g_assert_nonnull (strstr (error->message, "/help"));
  g_clear_error (&error);
  g_assert_null (parse ("/dm", &args, &error));
  g_assert_nonnull (strstr (error->message, "Usage: /dm USER"));
  g_clear_error (&error);
  g_assert_null (parse ("/dm a b", &args, &error));
  g_clear_error (&error);
  g_assert_null (parse ("/group \"unclosed bob", &args, &error));
  g_clear_error (&error);
  g_assert_null (parse ("/edit 3", &args, &error));
  g_clear_error (&error);

  /* /help comes from the table: every command is in it. */
  for (guint i = 0; i < SSQ_TUI_N_COMMANDS; i++)
    {
      g_autofree char *name = g_strdup_printf ("/%s ", ssq_tui_command_get (i)->name);

      g_assert_nonnull (strstr (help, name));
    }
  g_assert_cmpuint (completions->len, ==, 3);   /* /unmute, /upload, /users */
}

int
main (int    argc,
      char **argv)
{
  setlocale (LC_ALL, "C.UTF-8");
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/tui/width", test_width);
  g_test_add_func ("/tui/sanitize", test_sanitize);
  g_test_add_func ("/tui/wrap", test_wrap);
  g_test_add_func ("/tui/editor", test_editor);
  g_test_add_func ("/tui/commands", test_commands);
  return g_test_run ();
}
