/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-gtk-composer.h: the box where a message is written, sent with Enter
 * and, after Up in an empty composer, the last message of mine edited;
 * files attached, dropped or pasted wait there for the next message. */
#pragma once

#include <adwaita.h>

#include "ssq-client.h"

G_BEGIN_DECLS

#define SSQ_TYPE_GTK_COMPOSER (ssq_gtk_composer_get_type ())
G_DECLARE_FINAL_TYPE (SsqGtkComposer, ssq_gtk_composer, SSQ, GTK_COMPOSER, GtkBox)

void         ssq_gtk_composer_set_conversation (SsqGtkComposer *self,
                                                SsqClient      *client,
                                                const char     *conversation_id,
                                                GListModel     *messages);
gboolean     ssq_gtk_composer_send             (SsqGtkComposer *self);
GtkTextView *ssq_gtk_composer_get_text_view    (SsqGtkComposer *self);
void         ssq_gtk_composer_add_file         (SsqGtkComposer *self,
                                                GFile          *file);
void         ssq_gtk_composer_attach_files     (SsqGtkComposer  *self,
                                                GFile          **files,
                                                guint            n_files);
GListModel  *ssq_gtk_composer_get_attachments  (SsqGtkComposer *self);

G_END_DECLS
