/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-tui-editor.c: the input line. The cursor is a byte offset that always
 * sits on a character boundary; history keeps the last 100 lines, and the
 * line being written survives browsing it. */
#include "ssq-tui-editor.h"

#include <string.h>

#define HISTORY_MAX 100

struct _SsqTuiEditor
{
  GString   *text;
  gsize      cursor;
  GPtrArray *history;     /* oldest first */
  gint       browsing;    /* index into history, or -1 */
  char      *draft;       /* the line being written while browsing */
};

SsqTuiEditor *
ssq_tui_editor_new (void)
{
  SsqTuiEditor *self = g_new0 (SsqTuiEditor, 1);

  self->text = g_string_new (NULL);
  self->history = g_ptr_array_new_with_free_func (g_free);
  self->browsing = -1;
  return self;
}

void
ssq_tui_editor_free (SsqTuiEditor *self)
{
  if (self == NULL)
    return;
  g_string_free (self->text, TRUE);
  g_ptr_array_unref (self->history);
  g_free (self->draft);
  g_free (self);
}

const char *
ssq_tui_editor_get_text (SsqTuiEditor *self)
{
  return self->text->str;
}

gsize
ssq_tui_editor_get_cursor (SsqTuiEditor *self)
{
  return self->cursor;
}

void
ssq_tui_editor_set_text (SsqTuiEditor *self,
                         const char   *text)
{
  g_string_assign (self->text, text ? text : "");
  self->cursor = self->text->len;
}

/* Inserts at the cursor; newlines and other controls from a paste become
 * spaces, so a pasted block stays one message line by line readable. */
void
ssq_tui_editor_insert (SsqTuiEditor *self,
                       const char   *text)
{
  g_autofree char *valid = g_utf8_make_valid (text, -1);
  g_autoptr(GString) clean = g_string_new (NULL);

  for (const char *p = valid; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (c == '\n' || c == '\r' || c == '\t')
        g_string_append_c (clean, ' ');
      else if (!g_unichar_iscntrl (c))
        g_string_append_unichar (clean, c);
    }
  g_string_insert_len (self->text, self->cursor, clean->str, clean->len);
  self->cursor += clean->len;
}

static gsize
prev_boundary (SsqTuiEditor *self,
               gsize         at)
{
  if (at == 0)
    return 0;
  return g_utf8_prev_char (self->text->str + at) - self->text->str;
}

static gsize
next_boundary (SsqTuiEditor *self,
               gsize         at)
{
  if (at >= self->text->len)
    return self->text->len;
  return g_utf8_next_char (self->text->str + at) - self->text->str;
}

void
ssq_tui_editor_backspace (SsqTuiEditor *self)
{
  gsize start = prev_boundary (self, self->cursor);

  g_string_erase (self->text, start, self->cursor - start);
  self->cursor = start;
}

void
ssq_tui_editor_delete (SsqTuiEditor *self)
{
  gsize end = next_boundary (self, self->cursor);

  g_string_erase (self->text, self->cursor, end - self->cursor);
}

void
ssq_tui_editor_left (SsqTuiEditor *self)
{
  self->cursor = prev_boundary (self, self->cursor);
}

void
ssq_tui_editor_right (SsqTuiEditor *self)
{
  self->cursor = next_boundary (self, self->cursor);
}

void
ssq_tui_editor_home (SsqTuiEditor *self)
{
  self->cursor = 0;
}

void
ssq_tui_editor_end (SsqTuiEditor *self)
{
  self->cursor = self->text->len;
}

static gboolean
is_space_at (SsqTuiEditor *self,
             gsize         at)
{
  return g_unichar_isspace (g_utf8_get_char (self->text->str + at));
}

/* The start of the word before @at (spaces before it skipped). */
static gsize
word_start (SsqTuiEditor *self,
            gsize         at)
{
  while (at > 0 && is_space_at (self, prev_boundary (self, at)))
    at = prev_boundary (self, at);
  while (at > 0 && !is_space_at (self, prev_boundary (self, at)))
    at = prev_boundary (self, at);
  return at;
}

void
ssq_tui_editor_word_left (SsqTuiEditor *self)
{
  self->cursor = word_start (self, self->cursor);
}

void
ssq_tui_editor_word_right (SsqTuiEditor *self)
{
  gsize at = self->cursor;

  while (at < self->text->len && is_space_at (self, at))
    at = next_boundary (self, at);
  while (at < self->text->len && !is_space_at (self, at))
    at = next_boundary (self, at);
  self->cursor = at;
}

/* Ctrl-W: the word before the cursor and the spaces after it. */
void
ssq_tui_editor_delete_word (SsqTuiEditor *self)
{
  gsize start = word_start (self, self->cursor);

  g_string_erase (self->text, start, self->cursor - start);
  self->cursor = start;
}

void
ssq_tui_editor_kill_to_end (SsqTuiEditor *self)
{
  g_string_truncate (self->text, self->cursor);
}

void
ssq_tui_editor_kill_to_start (SsqTuiEditor *self)
{
  g_string_erase (self->text, 0, self->cursor);
  self->cursor = 0;
}

void
ssq_tui_editor_history_prev (SsqTuiEditor *self)
{
  if (self->history->len == 0 || self->browsing == 0)
    return;
  if (self->browsing < 0)
    {
      g_free (self->draft);
      self->draft = g_strdup (self->text->str);
      self->browsing = self->history->len;
    }
  self->browsing--;
  ssq_tui_editor_set_text (self, self->history->pdata[self->browsing]);
}

void
ssq_tui_editor_history_next (SsqTuiEditor *self)
{
  if (self->browsing < 0)
    return;
  self->browsing++;
  if ((guint) self->browsing >= self->history->len)
    {
      self->browsing = -1;
      ssq_tui_editor_set_text (self, self->draft);
      g_clear_pointer (&self->draft, g_free);
      return;
    }
  ssq_tui_editor_set_text (self, self->history->pdata[self->browsing]);
}

/* Enter: the line, which goes into history (unless empty or a repeat). */
char *
ssq_tui_editor_take_line (SsqTuiEditor *self)
{
  char *line = g_strdup (self->text->str);

  if (*line != '\0' &&
      (self->history->len == 0 || strcmp (self->history->pdata[self->history->len - 1], line) != 0))
    {
      g_ptr_array_add (self->history, g_strdup (line));
      if (self->history->len > HISTORY_MAX)
        g_ptr_array_remove_index (self->history, 0);
    }
  self->browsing = -1;
  g_clear_pointer (&self->draft, g_free);
  ssq_tui_editor_set_text (self, "");
  return line;
}

/* For completion: the (possibly empty) word that ends at the cursor. */
char *
ssq_tui_editor_word_before_cursor (SsqTuiEditor *self)
{
  gsize start = self->cursor;

  while (start > 0 && !is_space_at (self, prev_boundary (self, start)))
    start = prev_boundary (self, start);
  return g_strndup (self->text->str + start, self->cursor - start);
}

void
ssq_tui_editor_replace_word_before_cursor (SsqTuiEditor *self,
                                           const char   *word)
{
  g_autofree char *old = ssq_tui_editor_word_before_cursor (self);
  gsize start = self->cursor - strlen (old);

  g_string_erase (self->text, start, strlen (old));
  g_string_insert (self->text, start, word);
  self->cursor = start + strlen (word);
}

/* Replaces the text from byte @start (a character boundary) to the cursor,
 * which goes after the new text: completion of a path with spaces. */
void
ssq_tui_editor_replace_before_cursor (SsqTuiEditor *self,
                                      gsize         start,
                                      const char   *text)
{
  g_return_if_fail (start <= self->cursor);
  g_string_erase (self->text, start, self->cursor - start);
  g_string_insert (self->text, start, text);
  self->cursor = start + strlen (text);
}
