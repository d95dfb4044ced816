/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-gtk-test-bus.h: a stand-in D-Bus service for the desktop client's
 * tests (a notification daemon, GNOME Shell's notifications), on the
 * test's own session bus (dbus-run-session). */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _SsqGtkTestService SsqGtkTestService;

/* Owns @name on a connection of its own, as another process would, and
 * serves the first interface of @xml at @path with @method_call (given
 * @data) in a thread of its own: the app may call it synchronously from
 * the main thread. Returns once the name is owned. */
SsqGtkTestService *ssq_gtk_test_service_start   (const char                   *xml,
                                                 const char                   *path,
                                                 const char                   *name,
                                                 GDBusInterfaceMethodCallFunc  method_call,
                                                 gpointer                      data);
/* Its connection, to call others as the service. */
GDBusConnection   *ssq_gtk_test_service_get_bus (SsqGtkTestService            *service);
void               ssq_gtk_test_service_free    (SsqGtkTestService            *service);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsqGtkTestService, ssq_gtk_test_service_free)

G_END_DECLS
