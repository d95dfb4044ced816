/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-gtk-media-row.h: one attachment of a message in the list: a picture
 * as a thumbnail that opens the viewer, any other file as a line with its
 * icon, name, size, Save and Open; a progress bar for its download, or
 * for its upload with a cancel button. */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

/* The box a thumbnail is shrunk to fit. */
#define SSQ_GTK_MEDIA_ROW_MAX_WIDTH  320
#define SSQ_GTK_MEDIA_ROW_MAX_HEIGHT 240

#define SSQ_TYPE_GTK_MEDIA_ROW (ssq_gtk_media_row_get_type ())
G_DECLARE_FINAL_TYPE (SsqGtkMediaRow, ssq_gtk_media_row, SSQ, GTK_MEDIA_ROW, GtkWidget)

GtkWidget *ssq_gtk_media_row_new           (void);
void       ssq_gtk_media_row_set_media     (SsqGtkMediaRow *self,
                                            const char     *name,
                                            const char     *mime,
                                            gint64          size,
                                            int             width,
                                            int             height);
void       ssq_gtk_media_row_set_thumbnail (SsqGtkMediaRow *self,
                                            const char     *path);
void       ssq_gtk_media_row_set_progress  (SsqGtkMediaRow *self,
                                            double          fraction);
void       ssq_gtk_media_row_set_upload    (SsqGtkMediaRow *self,
                                            double          fraction);
double     ssq_gtk_media_row_get_progress  (SsqGtkMediaRow *self);
gboolean   ssq_gtk_media_row_is_picture    (SsqGtkMediaRow *self);
gboolean   ssq_gtk_media_row_is_loading    (SsqGtkMediaRow *self);
GdkPaintable *ssq_gtk_media_row_get_thumbnail (SsqGtkMediaRow *self);

G_END_DECLS
