/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-gtk-qr.h: a QR code (shared/ssq-qr) as a texture for a GtkPicture. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

GdkTexture *ssq_gtk_qr_texture_new (const char *text,
                                    guint       target_size,
                                    GError    **error);

G_END_DECLS
