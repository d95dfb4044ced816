/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-tui-width.c: column widths as the terminal will count them. We ask
 * libc's wcwidth(), which ncursesw itself uses to move the cursor, so that
 * our layout and the terminal agree. */
#include "ssq-tui-width.h"

#include <string.h>
#include <wchar.h>

/* Columns one character takes: 0 for combining marks and other zero-width
 * characters, 2 for wide ones (CJK, most emoji), 1 otherwise. Characters
 * libc cannot measure count as 1: sanitizing replaces them anyway. */
int
ssq_tui_char_width (gunichar c)
{
  int w;

  if (c == 0x200D || (c >= 0xFE00 && c <= 0xFE0F))
    return 0;   /* zero-width joiner and variation selectors */
  w = wcwidth ((wchar_t) c);
  if (w < 0)
    return 1;
  return w;
}

int
ssq_tui_text_width (const char *text,
                    gssize      length)
{
  const char *end = length < 0 ? text + strlen (text) : text + length;
  int width = 0;

  for (const char *p = text; p < end; p = g_utf8_next_char (p))
    width += ssq_tui_char_width (g_utf8_get_char (p));
  return width;
}

/**
 * ssq_tui_fit:
 * Returns: the end of the longest prefix of @text that fits in @columns,
 * keeping zero-width characters with the one they follow and never
 * splitting a wide character. @out_width gets the prefix's width.
 */
const char *
ssq_tui_fit (const char *text,
             int         columns,
             int        *out_width)
{
  const char *p = text;
  int width = 0;

  while (*p != '\0')
    {
      int w = ssq_tui_char_width (g_utf8_get_char (p));

      if (width + w > columns)
        break;
      width += w;
      p = g_utf8_next_char (p);
    }
  if (out_width != NULL)
    *out_width = width;
  return p;
}

/**
 * ssq_tui_wrap:
 * Breaks sanitized @text into lines of at most @columns columns: at
 * newlines, at the last space that fits, or inside a word too long for a
 * line.
 *
 * Returns: (transfer full) (element-type utf8): the lines.
 */
GPtrArray *
ssq_tui_wrap (const char *text,
              int         columns)
{
  GPtrArray *lines = g_ptr_array_new_with_free_func (g_free);
  g_auto(GStrv) paragraphs = g_strsplit (text, "\n", -1);

  columns = MAX (columns, 2);
  for (guint i = 0; paragraphs[i] != NULL; i++)
    {
      const char *p = paragraphs[i];

      do
        {
          const char *end = ssq_tui_fit (p, columns, NULL);
          const char *cut = end;

          if (*end != '\0')
            {
              /* Prefer to break after the last space in the line. */
              for (const char *q = end; q > p; q = g_utf8_prev_char (q))
                if (*q == ' ')
                  {
                    cut = q;
                    break;
                  }
              if (cut == p)
                cut = end > p ? end : g_utf8_next_char (p);
            }
          g_ptr_array_add (lines, g_strndup (p, cut - p));
          p = cut;
          while (*p == ' ')
            p++;
        }
      while (*p != '\0');
    }
  return lines;
}
