/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-gtk-test-util.h: helpers the desktop client's tests share: finding
 * widgets, pressing keys as a controller receives them, screenshots. */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

void       ssq_gtk_test_screenshot     (GtkWidget       *widget,
                                        const char      *name);
gboolean   ssq_gtk_test_render_png     (GtkWidget       *widget,
                                        const char      *path);
gboolean   ssq_gtk_test_press          (GtkWidget       *widget,
                                        guint            keyval,
                                        GdkModifierType  state);
gboolean   ssq_gtk_test_shortcut       (GtkWidget       *widget,
                                        guint            keyval,
                                        GdkModifierType  state);
GtkWidget *ssq_gtk_test_find_by_type   (GtkWidget       *widget,
                                        GType            type,
                                        const char      *label);
GtkWidget *ssq_gtk_test_find_by_tooltip (GtkWidget      *widget,
                                         const char     *tooltip);
void       ssq_gtk_test_collect_labels (GtkWidget       *widget,
                                        GString         *out);
guint      ssq_gtk_test_count_unnamed  (GtkWidget       *widget);
GFile     *ssq_gtk_test_make_file      (const char      *dir,
                                        const char      *name);

G_END_DECLS
