/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-gtk-login-page.h: the page that logs in to a server, or registers
 * there, and hands the new session on. */
#pragma once

#include <adwaita.h>

#include "ssq-client.h"

G_BEGIN_DECLS

#define SSQ_TYPE_GTK_LOGIN_PAGE (ssq_gtk_login_page_get_type ())
G_DECLARE_FINAL_TYPE (SsqGtkLoginPage, ssq_gtk_login_page, SSQ, GTK_LOGIN_PAGE, GtkBox)

void ssq_gtk_login_page_reset (SsqGtkLoginPage *self,
                               const char      *server_url,
                               const char      *username,
                               const char      *error_text);
void ssq_gtk_login_page_add_discovered (SsqGtkLoginPage *self,
                                        const char      *name,
                                        const char      *address,
                                        guint16          port,
                                        const char      *fingerprint);

G_END_DECLS
