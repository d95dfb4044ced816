/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-gtk-window.h: the main window: log-in page, sidebar of
 * conversations, the conversation view and its composer. */
#pragma once

#include <adwaita.h>

#include "ssq-client.h"

G_BEGIN_DECLS

#define SSQ_TYPE_GTK_WINDOW (ssq_gtk_window_get_type ())
G_DECLARE_FINAL_TYPE (SsqGtkWindow, ssq_gtk_window, SSQ, GTK_WINDOW, AdwApplicationWindow)

SsqGtkWindow *ssq_gtk_window_new             (AdwApplication *application);
void          ssq_gtk_window_show_login      (SsqGtkWindow   *self,
                                              const char     *server_url,
                                              const char     *username,
                                              const char     *error_text);
gboolean      ssq_gtk_window_show_join       (SsqGtkWindow   *self,
                                              const char     *link,
                                              GError        **error);
void          ssq_gtk_window_set_client      (SsqGtkWindow   *self,
                                              SsqClient      *client);
SsqClient    *ssq_gtk_window_get_client      (SsqGtkWindow   *self);
void          ssq_gtk_window_select          (SsqGtkWindow   *self,
                                              const char     *conversation_id);
const char   *ssq_gtk_window_get_selected    (SsqGtkWindow   *self);
void          ssq_gtk_window_toast           (SsqGtkWindow   *self,
                                              const char     *text);
gboolean      ssq_gtk_window_send_composer   (SsqGtkWindow   *self);
GtkWidget    *ssq_gtk_window_get_composer    (SsqGtkWindow   *self);

G_END_DECLS
