/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-gtk-join-page.h: the page an invite link opens: "Join SERVER", a
 * name and a password, and the registration with the link's invite. */
#pragma once

#include <adwaita.h>

#include "ssq-client.h"

G_BEGIN_DECLS

#define SSQ_TYPE_GTK_JOIN_PAGE (ssq_gtk_join_page_get_type ())
G_DECLARE_FINAL_TYPE (SsqGtkJoinPage, ssq_gtk_join_page, SSQ, GTK_JOIN_PAGE, GtkBox)

gboolean    ssq_gtk_join_page_set_link       (SsqGtkJoinPage *self,
                                              const char     *link,
                                              GError        **error);
const char *ssq_gtk_join_page_get_server_url (SsqGtkJoinPage *self);

G_END_DECLS
