/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-gtk-media-text.c: the texts about attachments, each translatable
 * (plurals with ngettext, the sentences whole so that a language can
 * order them its way). A name comes from whoever sent the file: it is
 * shown only after ssq_gtk_media_text_clean_name(). */
#include "ssq-config.h"
#include "ssq-gtk-media-text.h"

#include <gio/gio.h>
#include <glib/gi18n.h>
#include <string.h>

/**
 * ssq_gtk_media_text_is_picture:
 * @mime: (nullable): a MIME type, as the server sniffed it
 *
 * Returns: whether @mime is a picture's ("image/...")
 */
gboolean
ssq_gtk_media_text_is_picture (const char *mime)
{
  return mime != NULL && g_str_has_prefix (mime, "image/");
}

static gboolean
is_video (const char *mime)
{
  return mime != NULL && g_str_has_prefix (mime, "video/");
}

/* Bidirectional embeddings, overrides and isolates: in a file name they
 * turn "report<RLO>fdp.exe" into what reads as "reportexe.pdf". */
static gboolean
is_bidi_control (gunichar c)
{
  return (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069) || c == 0x200e || c == 0x200f ||
         c == 0x061c;
}

/**
 * ssq_gtk_media_text_clean_name:
 * @name: (nullable): a file name as sent
 *
 * The name as it may be shown: valid UTF-8, on one line (control
 * characters become spaces), without the direction controls that can
 * disguise a name's end. An empty name becomes "file".
 *
 * Returns: (transfer full): the name to show
 */
char *
ssq_gtk_media_text_clean_name (const char *name)
{
  g_autofree char *valid = g_utf8_make_valid (name != NULL ? name : "", -1);
  GString *out = g_string_sized_new (strlen (valid));

  for (const char *p = valid; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (is_bidi_control (c))
        continue;
      if (g_unichar_type (c) == G_UNICODE_CONTROL)
        c = ' ';
      g_string_append_unichar (out, c);
    }
  g_strstrip (out->str);
  out->len = strlen (out->str);
  if (out->len == 0)
    /* Translators: the name shown for a file sent without one. */
    g_string_assign (out, _("file"));
  return g_string_free (out, FALSE);
}

static char *
one_item (const char            *sender,
          const SsqGtkMediaItem *item)
{
  g_autofree char *name = NULL;

  if (ssq_gtk_media_text_is_picture (item->mime))
    /* Translators: a notification; %s is who sent it. */
    return g_strdup_printf (_("%s sent a photo"), sender);
  if (is_video (item->mime))
    /* Translators: a notification; %s is who sent it. */
    return g_strdup_printf (_("%s sent a video"), sender);
  name = ssq_gtk_media_text_clean_name (item->name);
  /* Translators: a notification; the first %s is who sent it, the second
   * the file's name, as "bob sent report.pdf". */
  return g_strdup_printf (_("%s sent %s"), sender, name);
}

/**
 * ssq_gtk_media_text_notification:
 * @sender: who sent the message, as shown
 * @items: (array length=n_items): its attachments
 * @n_items: how many
 *
 * The text of a notification of a message with attachments: "bob sent a
 * photo", "bob sent report.pdf", "bob sent 3 photos", "bob sent 3 files".
 * It is plain text: a notification body is markup, so escape it there.
 *
 * Returns: (transfer full) (nullable): the text, or %NULL without
 *   attachments
 */
char *
ssq_gtk_media_text_notification (const char            *sender,
                                 const SsqGtkMediaItem *items,
                                 gsize                  n_items)
{
  gboolean all_pictures = TRUE;
  guint n = (guint) MIN (n_items, G_MAXUINT);

  g_return_val_if_fail (sender != NULL, NULL);
  g_return_val_if_fail (items != NULL || n_items == 0, NULL);

  if (n_items == 0)
    return NULL;
  if (n_items == 1)
    return one_item (sender, &items[0]);
  for (gsize i = 0; i < n_items; i++)
    all_pictures = all_pictures && ssq_gtk_media_text_is_picture (items[i].mime);
  if (all_pictures)
    /* Translators: a notification; %s is who sent it, %u how many. */
    return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%s sent %u photo", "%s sent %u photos", n), sender, n);
  /* Translators: a notification; %s is who sent it, %u how many. */
  return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%s sent %u file", "%s sent %u files", n), sender, n);
}

/**
 * ssq_gtk_media_text_details:
 * @size: the file's size in bytes
 * @mime: (nullable): its MIME type
 *
 * Returns: (transfer full): its size and kind, as "1.2 MB · PDF document"
 */
char *
ssq_gtk_media_text_details (gint64      size,
                            const char *mime)
{
  g_autofree char *formatted = g_format_size ((guint64) MAX (size, 0));
  g_autofree char *type = NULL;
  g_autofree char *description = NULL;

  if (mime == NULL)
    return g_steal_pointer (&formatted);
  type = g_content_type_from_mime_type (mime);
  /* Bytes nobody could name (application/octet-stream) are described by
   * GIO as "unknown": saying nothing is better than saying that. */
  description = type != NULL && !g_content_type_is_unknown (type)
                  ? g_content_type_get_description (type) : NULL;
  if (description == NULL)
    return g_steal_pointer (&formatted);
  /* Translators: a file's size, then its kind: "1.2 MB · PDF document". */
  return g_strdup_printf (C_("media details", "%s · %s"), formatted, description);
}
