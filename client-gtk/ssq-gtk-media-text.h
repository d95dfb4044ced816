/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-gtk-media-text.h: what the desktop app says about attachments: a
 * notification's "bob sent a photo", a file's size and type, a name safe
 * to show. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* One attachment as the texts need it. */
typedef struct {
  const char *name;
  const char *mime;
} SsqGtkMediaItem;

char     *ssq_gtk_media_text_notification (const char            *sender,
                                           const SsqGtkMediaItem *items,
                                           gsize                  n_items);
char     *ssq_gtk_media_text_details      (gint64                 size,
                                           const char            *mime);
char     *ssq_gtk_media_text_clean_name   (const char            *name);
gboolean  ssq_gtk_media_text_is_picture   (const char            *mime);

G_END_DECLS
