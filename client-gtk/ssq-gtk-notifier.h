/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-gtk-notifier.h: the desktop client's notifications, one per
 * conversation, sent with GNotification and withdrawn once read. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define SSQ_TYPE_GTK_NOTIFIER (ssq_gtk_notifier_get_type ())
G_DECLARE_FINAL_TYPE (SsqGtkNotifier, ssq_gtk_notifier, SSQ, GTK_NOTIFIER, GObject)

SsqGtkNotifier *ssq_gtk_notifier_new          (GApplication   *application);
void            ssq_gtk_notifier_show         (SsqGtkNotifier *self,
                                               const char     *conversation_id,
                                               const char     *title,
                                               const char     *text);
void            ssq_gtk_notifier_withdraw     (SsqGtkNotifier *self,
                                               const char     *conversation_id);
void            ssq_gtk_notifier_withdraw_all (SsqGtkNotifier *self);
char           *ssq_gtk_notifier_id           (const char     *conversation_id);

G_END_DECLS
