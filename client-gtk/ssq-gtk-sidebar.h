/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-gtk-sidebar.h: the left-hand side of the window: the account, the
 * search entry and the list of conversations. */
#pragma once

#include <adwaita.h>

#include "ssq-client.h"

G_BEGIN_DECLS

#define SSQ_TYPE_GTK_SIDEBAR (ssq_gtk_sidebar_get_type ())
G_DECLARE_FINAL_TYPE (SsqGtkSidebar, ssq_gtk_sidebar, SSQ, GTK_SIDEBAR, GtkBox)

void  ssq_gtk_sidebar_set_client    (SsqGtkSidebar *self,
                                     SsqClient     *client);
void  ssq_gtk_sidebar_set_selected  (SsqGtkSidebar *self,
                                     const char    *conversation_id);
char *ssq_gtk_sidebar_get_neighbour (SsqGtkSidebar *self,
                                     int            step);
void  ssq_gtk_sidebar_focus_search  (SsqGtkSidebar *self);

G_END_DECLS
