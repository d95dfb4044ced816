/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-display.c: text from the network made safe to show. A chat member
 * controls message bodies, names and titles, so none of it may reach a
 * terminal as escape sequences or a notification server as markup. */
#include "ssq-config.h"
#include "ssq-display.h"

#include <glib/gi18n.h>
#include <string.h>

/* Characters that change how the rest of a line is shown rather than
 * being shown themselves: C0/C1 controls (ESC starts CSI and OSC
 * sequences: clearing the screen, the window title, OSC 52 clipboard
 * writes), line and paragraph separators, and bidi overrides. */
static gboolean
is_unsafe (gunichar c)
{
  return g_unichar_iscntrl (c) || c == 0x2028 || c == 0x2029 ||
         (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069);
}

/**
 * ssq_display_sanitize:
 * @text: text as received, possibly invalid UTF-8
 *
 * A copy of @text safe to write to a terminal: control characters become
 * U+FFFD, tabs a space, newlines stay; invalid UTF-8 is repaired.
 *
 * Returns: (transfer full): the safe text
 */
char *
ssq_display_sanitize (const char *text)
{
  g_autofree char *valid = g_utf8_make_valid (text ? text : "", -1);
  GString *out = g_string_sized_new (strlen (valid));

  for (const char *p = valid; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (c == '\t')
        g_string_append_c (out, ' ');
      else if (c == '\n')
        g_string_append_c (out, '\n');
      else if (is_unsafe (c))
        g_string_append_unichar (out, 0xFFFD);
      else
        g_string_append_unichar (out, c);
    }
  return g_string_free (out, FALSE);
}

/**
 * ssq_display_sanitize_line:
 * Like ssq_display_sanitize(), with newlines made spaces too: for output
 * that is one line per item.
 *
 * Returns: (transfer full): the safe line
 */
char *
ssq_display_sanitize_line (const char *text)
{
  char *clean = ssq_display_sanitize (text);

  return g_strdelimit (clean, "\n", ' ');
}

/**
 * ssq_display_escape_json:
 * @json: JSON text as a generator wrote it (valid UTF-8)
 *
 * @json with every character that a terminal would act on written as a
 * \u escape. JSON generators escape only U+0000..U+001F: DEL, the C1
 * controls (U+009B is CSI, U+009D OSC, U+009C ends one: the screen, the
 * window title and OSC 52 clipboard writes, in UTF-8 as in 7-bit form),
 * line separators and bidi overrides pass raw, and such characters only
 * ever stand inside strings, where the escape means the same character.
 * Newlines outside strings (pretty printing) stay.
 *
 * Returns: (transfer full): the same JSON, safe to print
 */
char *
ssq_display_escape_json (const char *json)
{
  g_autofree char *valid = g_utf8_make_valid (json ? json : "", -1);
  GString *out = g_string_sized_new (strlen (valid));

  for (const char *p = valid; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (c != '\n' && is_unsafe (c))
        g_string_append_printf (out, "\\u%04X", c);
      else
        g_string_append_unichar (out, c);
    }
  return g_string_free (out, FALSE);
}

/**
 * ssq_display_notification_body:
 * The body of a desktop notification for @text: sanitized, and escaped,
 * because notification servers read the body as markup (a body holding
 * "<b>" or "&" would be drawn wrong or dropped).
 *
 * Returns: (transfer full): the notification body
 */
char *
ssq_display_notification_body (const char *text)
{
  g_autofree char *clean = ssq_display_sanitize (text);

  return g_markup_escape_text (clean, -1);
}

/**
 * ssq_display_duration:
 * @ms: a wait in milliseconds
 *
 * The wait as people say it: seconds rounded up under a minute, else
 * minutes or hours rounded to the nearest ("45 s", "11 min", "2 h").
 *
 * Returns: (transfer full): the duration
 */
char *
ssq_display_duration (gint64 ms)
{
  gint64 s = MAX ((ms + 999) / 1000, 1);

  if (s < 60)
    return g_strdup_printf (_("%d s"), (int) s);
  if (s < 3600 - 30)
    return g_strdup_printf (_("%d min"), (int) ((s + 30) / 60));
  return g_strdup_printf (_("%d h"), (int) MIN ((s + 1800) / 3600, G_MAXINT));
}

/* GLib puts a no-break space between a size and its unit, which a
 * terminal in a non-UTF-8 locale would show as '?'. */
static char *
plain_spaces (char *text)
{
  g_auto(GStrv) parts = g_strsplit (text, "\u00a0", -1);

  g_free (text);
  return g_strjoinv (" ", parts);
}

/**
 * ssq_display_size:
 * A size in bytes as people read it ("240.0 kB", "1.2 MB": g_format_size(),
 * in the user's language), with a plain space before the unit.
 *
 * Returns: (transfer full): the size
 */
char *
ssq_display_size (guint64 bytes)
{
  return plain_spaces (g_format_size (bytes));
}

/**
 * ssq_display_media:
 * An attachment on one line, for terminals and logs:
 * `[image 1920×1080 photo.jpg 240.0 kB]`, `[image photo.jpg 240.0 kB]` while
 * its size in pixels is unknown, `[file report.pdf 1.2 MB]`. The name is
 * sanitized (another member chose it).
 *
 * Returns: (transfer full): the line
 */
char *
ssq_display_media (SsqMedia *media)
{
  g_autofree char *name = ssq_display_sanitize_line (ssq_media_get_name (media));
  g_autofree char *size = ssq_display_size ((guint64) ssq_media_get_size (media));
  gint64 width = ssq_media_get_width (media), height = ssq_media_get_height (media);

  if (!ssq_media_is_image (media))
    /* Translators: an attached file: its name and its size ("1.2 MB") */
    return g_strdup_printf (_("[file %s %s]"), name, size);
  if (width > 0 && height > 0)
    /* Translators: an attached picture: its width × height in pixels, its
     * name and its size */
    return g_strdup_printf (_("[image %d×%d %s %s]"), (int) MIN (width, G_MAXINT),
                            (int) MIN (height, G_MAXINT), name, size);
  /* Translators: an attached picture whose size in pixels is not known yet */
  return g_strdup_printf (_("[image %s %s]"), name, size);
}
