/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-gtk-attachment-strip.h: the files waiting to go with the next
 * message, shown above the composer, each with a remove button. */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define SSQ_TYPE_GTK_ATTACHMENT_STRIP (ssq_gtk_attachment_strip_get_type ())
G_DECLARE_FINAL_TYPE (SsqGtkAttachmentStrip, ssq_gtk_attachment_strip, SSQ, GTK_ATTACHMENT_STRIP, GtkWidget)

GtkWidget *ssq_gtk_attachment_strip_new          (void);
void       ssq_gtk_attachment_strip_set_model    (SsqGtkAttachmentStrip *self,
                                                  GListModel            *files);
char      *ssq_gtk_attachment_strip_display_name (GFile                 *file);

G_END_DECLS
