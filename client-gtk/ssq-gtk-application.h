/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-gtk-application.h: supersoniq, the desktop client: one instance,
 * the last account opened at once, notifications. */
#pragma once

#include <adwaita.h>

#include "ssq-client.h"

G_BEGIN_DECLS

#define SSQ_GTK_APP_ID "org.supersoniq.Supersoniq"

#define SSQ_TYPE_GTK_APPLICATION (ssq_gtk_application_get_type ())
G_DECLARE_FINAL_TYPE (SsqGtkApplication, ssq_gtk_application, SSQ, GTK_APPLICATION, AdwApplication)

SsqGtkApplication *ssq_gtk_application_new            (void);
void               ssq_gtk_application_session_started (SsqGtkApplication *self,
                                                        SsqClient         *client);
GSettings         *ssq_gtk_application_get_settings   (SsqGtkApplication *self);
SsqClient         *ssq_gtk_application_new_client     (SsqGtkApplication *self,
                                                       const char        *server_url);
SsqClient         *ssq_gtk_application_new_client_for (GtkWidget         *widget,
                                                       const char        *server_url);
char              *ssq_gtk_application_notification_text (SsqMessage    *message,
                                                          const char    *sender);

G_END_DECLS
