/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz-text.c: fuzz target for the terminal client's text handling of
 * untrusted message bodies (sanitizing, widths, wrapping) and for its
 * command parser and line editor. */
#include <stdint.h>
#include <string.h>

#include "ssq-tui-command.h"
#include "ssq-tui-editor.h"
#include "ssq-display.h"
#include "ssq-tui-width.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autofree char *text = g_strndup ((const char *) data, size);
  g_autofree char *clean = ssq_display_sanitize (text);
  g_autoptr(GPtrArray) lines = NULL;
  g_autoptr(SsqTuiEditor) editor = ssq_tui_editor_new ();
  int width = size > 0 ? 1 + data[0] % 80 : 10;

  g_assert_true (g_utf8_validate (clean, -1, NULL));
  lines = ssq_tui_wrap (clean, width);
  for (guint i = 0; i < lines->len; i++)
    g_assert_cmpint (ssq_tui_text_width (lines->pdata[i], -1), <=, MAX (width, 2));
  ssq_tui_fit (clean, width, NULL);

  if (clean[0] == '/')
    {
      g_auto(GStrv) args = NULL;

      ssq_tui_command_parse (clean, &args, NULL);
    }
  /* The editor, with the bytes as keys. */
  ssq_tui_editor_insert (editor, text);
  for (size_t i = 0; i < size; i++)
    switch (data[i] % 12)
      {
      case 0: ssq_tui_editor_left (editor); break;
      case 1: ssq_tui_editor_right (editor); break;
      case 2: ssq_tui_editor_backspace (editor); break;
      case 3: ssq_tui_editor_delete (editor); break;
      case 4: ssq_tui_editor_delete_word (editor); break;
      case 5: ssq_tui_editor_word_left (editor); break;
      case 6: ssq_tui_editor_kill_to_end (editor); break;
      case 7: ssq_tui_editor_history_prev (editor); break;
      case 8: ssq_tui_editor_history_next (editor); break;
      case 9: g_free (ssq_tui_editor_take_line (editor)); break;
      case 10: ssq_tui_editor_insert (editor, "é漢"); break;
      default: ssq_tui_editor_home (editor); break;
      }
  g_assert_true (g_utf8_validate (ssq_tui_editor_get_text (editor), -1, NULL));
  g_assert_cmpuint (ssq_tui_editor_get_cursor (editor), <=, strlen (ssq_tui_editor_get_text (editor)));
  return 0;
}
