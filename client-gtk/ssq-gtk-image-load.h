/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-gtk-image-load.h: decodes an image file into a texture off the main
 * thread, upright and within a size, refusing what is too big to decode. */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

/* As the server's thumbnailer: 4 bytes a pixel, a 50-megapixel image
 * needs 200 MB. */
#define SSQ_GTK_IMAGE_MAX_PIXELS G_GUINT64_CONSTANT (50000000)

void        ssq_gtk_image_load_async  (GFile               *file,
                                       int                  max_width,
                                       int                  max_height,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data);
GdkTexture *ssq_gtk_image_load_finish (GAsyncResult        *result,
                                       GError             **error);
void        ssq_gtk_image_fit         (int                  width,
                                       int                  height,
                                       int                  max_width,
                                       int                  max_height,
                                       int                 *out_width,
                                       int                 *out_height);

G_END_DECLS
