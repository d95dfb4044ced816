/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-tui-input.c: keys. stdin is read whenever the main loop says it is
 * readable, everything available at once; escape sequences curses does not
 * know (focus reports, bracketed paste, Alt+key) are decoded here. */
#include "ssq-tui-private.h"

#include <string.h>

#define CTRL(c) ((c) & 0x1f)

static void
page (SsqTui *self,
      int     direction)
{
  int step = MAX (1, self->rows - 5);

  self->scroll += direction * step;
  if (self->scroll < 0)
    self->scroll = 0;
  if (direction > 0 && self->scroll >= self->max_scroll)
    ssq_tui_load_older (self);
}

static void
enter (SsqTui *self)
{
  g_autofree char *line = NULL;

  if (self->pasting)
    {
      ssq_tui_editor_insert (self->editor, " ");
      return;
    }
  line = ssq_tui_editor_take_line (self->editor);
  if (self->current_id != NULL)
    ssq_client_set_typing (self->client, self->current_id, FALSE);
  ssq_tui_submit (self, line);
}

/* After ESC: Alt+key, or a CSI sequence (focus, paste markers). */
static void
escape (SsqTui *self)
{
  wint_t c;
  int kind = get_wch (&c);

  if (kind == ERR)
    {
      ssq_tui_escape (self);   /* a lone Esc */
      return;
    }
  if (kind == OK && c == '[')
    {
      char seq[8] = { 0 };
      guint n = 0;

      while (n < sizeof seq - 1 && get_wch (&c) == OK)
        {
          seq[n++] = (char) c;
          if (c == '~' || g_ascii_isalpha ((char) c))
            break;
        }
      if (strcmp (seq, "I") == 0)
        self->focused = TRUE;
      else if (strcmp (seq, "O") == 0)
        self->focused = FALSE;
      else if (strcmp (seq, "200~") == 0)
        self->pasting = TRUE;
      else if (strcmp (seq, "201~") == 0)
        self->pasting = FALSE;
      return;
    }
  if (kind != OK)
    return;
  if (c >= '1' && c <= '9')
    ssq_tui_select_index (self, (int) (c - '1'));
  else if (c == 'a' || c == 'A')
    ssq_tui_select_unread (self);
  else if (c == 'b')
    ssq_tui_editor_word_left (self->editor);
  else if (c == 'f')
    ssq_tui_editor_word_right (self->editor);
}

static void
key (SsqTui *self,
     int     kind,
     wint_t  c)
{
  if (kind == KEY_CODE_YES)
    {
      switch (c)
        {
        case KEY_LEFT: ssq_tui_editor_left (self->editor); break;
        case KEY_RIGHT: ssq_tui_editor_right (self->editor); break;
        case KEY_HOME: ssq_tui_editor_home (self->editor); break;
        case KEY_END: ssq_tui_editor_end (self->editor); break;
        case KEY_UP: ssq_tui_editor_history_prev (self->editor); break;
        case KEY_DOWN: ssq_tui_editor_history_next (self->editor); break;
        case KEY_BACKSPACE: ssq_tui_editor_backspace (self->editor); break;
        case KEY_DC: ssq_tui_editor_delete (self->editor); break;
        case KEY_PPAGE: page (self, 1); break;
        case KEY_NPAGE: page (self, -1); break;
        case KEY_ENTER: enter (self); break;
        case KEY_RESIZE: break;
        default: break;
        }
      return;
    }
  switch (c)
    {
    case '\r':
    case '\n':
      enter (self);
      break;
    case 27:
      escape (self);
      break;
    case 127:
    case CTRL ('H'):
      ssq_tui_editor_backspace (self->editor);
      break;
    case '\t':
      ssq_tui_complete (self);
      break;
    case CTRL ('A'): ssq_tui_editor_home (self->editor); break;
    case CTRL ('E'): ssq_tui_editor_end (self->editor); break;
    case CTRL ('W'): ssq_tui_editor_delete_word (self->editor); break;
    case CTRL ('K'): ssq_tui_editor_kill_to_end (self->editor); break;
    case CTRL ('U'): ssq_tui_editor_kill_to_start (self->editor); break;
    case CTRL ('N'): ssq_tui_select_step (self, 1); break;
    case CTRL ('P'): ssq_tui_select_step (self, -1); break;
    case CTRL ('L'):
      clearok (curscr, TRUE);
      ssq_tui_pictures_invalidate (self->pictures);
      break;
    case CTRL ('C'): ssq_tui_quit (self, 0); break;
    case CTRL ('D'):
      if (*ssq_tui_editor_get_text (self->editor) == '\0')
        ssq_tui_quit (self, 0);
      else
        ssq_tui_editor_delete (self->editor);
      break;
    default:
      if (c >= ' ')
        {
          char utf8[8];
          int len = g_unichar_to_utf8 ((gunichar) c, utf8);

          utf8[len] = '\0';
          ssq_tui_editor_insert (self->editor, utf8);
          if (self->current_id != NULL && ssq_tui_editor_get_text (self->editor)[0] != '/')
            ssq_client_set_typing (self->client, self->current_id, TRUE);
        }
      break;
    }
}

gboolean
ssq_tui_stdin_cb (int          fd,
                  GIOCondition condition,
                  gpointer     user_data)
{
  SsqTui *self = user_data;
  wint_t c;
  int kind;

  if (condition & (G_IO_HUP | G_IO_ERR))
    {
      /* The terminal went away. */
      self->stdin_source = 0;
      ssq_tui_quit (self, 0);
      return G_SOURCE_REMOVE;
    }
  ssq_client_report_activity (self->client);
  while ((kind = get_wch (&c)) != ERR)
    key (self, kind, c);
  ssq_tui_queue_redraw (self);
  return G_SOURCE_CONTINUE;
}
