/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-gtk-dialogs.h: new direct conversation, new group, conversation
 * details and preferences. */
#pragma once

#include "ssq-gtk-window.h"

G_BEGIN_DECLS

void ssq_gtk_dialog_new_direct  (SsqGtkWindow *window);
void ssq_gtk_dialog_new_group   (SsqGtkWindow *window);
void ssq_gtk_dialog_details     (SsqGtkWindow *window,
                                 const char   *conversation_id);
void ssq_gtk_dialog_preferences (GtkWindow    *parent,
                                 GSettings    *settings);

G_END_DECLS
