/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-gtk-viewer.h: a window showing one picture whole, with Save and
 * Open With. */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define SSQ_TYPE_GTK_VIEWER (ssq_gtk_viewer_get_type ())
G_DECLARE_FINAL_TYPE (SsqGtkViewer, ssq_gtk_viewer, SSQ, GTK_VIEWER, AdwWindow)

GtkWidget *ssq_gtk_viewer_new        (GtkWindow    *parent,
                                      GFile        *file,
                                      const char   *name);
GFile     *ssq_gtk_viewer_get_file   (SsqGtkViewer *self);
gboolean   ssq_gtk_viewer_is_loading (SsqGtkViewer *self);

G_END_DECLS
