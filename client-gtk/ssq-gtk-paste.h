/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-gtk-paste.h: a picture pasted from the clipboard, saved as a PNG
 * file in the cache directory for the composer to attach. */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

gboolean  ssq_gtk_paste_has_image         (GdkClipboard         *clipboard);
char     *ssq_gtk_paste_get_dir           (void);
gboolean  ssq_gtk_paste_owns              (GFile                *file);
void      ssq_gtk_paste_save_image_async  (GdkClipboard         *clipboard,
                                           GCancellable         *cancellable,
                                           GAsyncReadyCallback   callback,
                                           gpointer              user_data);
GFile    *ssq_gtk_paste_save_image_finish (GAsyncResult         *result,
                                           GError              **error);
guint     ssq_gtk_paste_prune             (GTimeSpan             max_age,
                                           GCancellable         *cancellable);
void      ssq_gtk_paste_prune_async       (GTimeSpan             max_age);

G_END_DECLS
