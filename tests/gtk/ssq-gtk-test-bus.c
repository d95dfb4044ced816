/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-gtk-test-bus.c: a stand-in D-Bus service in a thread (see the
 * header). */
#include "ssq-gtk-test-bus.h"

#include "ssq-test-server.h"

#define WAIT_MS 10000

struct _SsqGtkTestService {
  GThread              *thread;
  GMainContext         *context;   /* the thread's: calls are served there */
  GMainLoop            *loop;
  GDBusConnection      *bus;
  GDBusNodeInfo        *info;
  GDBusInterfaceVTable  vtable;
  const char           *path;      /* the caller's, read until owned */
  const char           *name;
  gpointer              data;
  GMutex                lock;
  gboolean              owned;
};

static void
acquired_cb (GDBusConnection *connection,
             const char      *name,
             gpointer         data)
{
  SsqGtkTestService *s = data;

  g_mutex_lock (&s->lock);
  s->owned = TRUE;
  g_mutex_unlock (&s->lock);
}

static gpointer
service_thread (gpointer data)
{
  SsqGtkTestService *s = data;
  g_autoptr(GError) error = NULL;
  guint reg, own;

  g_main_context_push_thread_default (s->context);
  reg = g_dbus_connection_register_object (s->bus, s->path, s->info->interfaces[0], &s->vtable, s->data, NULL,
                                           &error);
  g_assert_no_error (error);
  own = g_bus_own_name_on_connection (s->bus, s->name, G_BUS_NAME_OWNER_FLAGS_REPLACE, acquired_cb, NULL, s,
                                      NULL);
  g_main_loop_run (s->loop);
  g_bus_unown_name (own);
  g_dbus_connection_unregister_object (s->bus, reg);
  g_main_context_pop_thread_default (s->context);
  return NULL;
}

static gboolean
owned (gpointer data)
{
  SsqGtkTestService *s = data;
  gboolean owned;

  g_mutex_lock (&s->lock);
  owned = s->owned;
  g_mutex_unlock (&s->lock);
  return owned;
}

SsqGtkTestService *
ssq_gtk_test_service_start (const char                   *xml,
                            const char                   *path,
                            const char                   *name,
                            GDBusInterfaceMethodCallFunc  method_call,
                            gpointer                      data)
{
  SsqGtkTestService *s = g_new0 (SsqGtkTestService, 1);
  g_autoptr(GError) error = NULL;
  g_autofree char *address = g_dbus_address_get_for_bus_sync (G_BUS_TYPE_SESSION, NULL, &error);

  g_assert_no_error (error);
  s->info = g_dbus_node_info_new_for_xml (xml, &error);
  g_assert_no_error (error);
  s->bus = g_dbus_connection_new_for_address_sync (address, G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                   G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                   NULL, NULL, &error);
  g_assert_no_error (error);
  s->vtable.method_call = method_call;
  s->path = path;
  s->name = name;
  s->data = data;
  g_mutex_init (&s->lock);
  s->context = g_main_context_new ();
  s->loop = g_main_loop_new (s->context, FALSE);
  s->thread = g_thread_new (name, service_thread, s);
  g_assert_true (ssq_test_wait_until (owned, s, WAIT_MS));
  return s;
}

GDBusConnection *
ssq_gtk_test_service_get_bus (SsqGtkTestService *service)
{
  return service->bus;
}

void
ssq_gtk_test_service_free (SsqGtkTestService *s)
{
  g_main_loop_quit (s->loop);
  g_thread_join (s->thread);
  g_dbus_connection_close_sync (s->bus, NULL, NULL);
  g_object_unref (s->bus);
  g_dbus_node_info_unref (s->info);
  g_main_loop_unref (s->loop);
  g_main_context_unref (s->context);
  g_mutex_clear (&s->lock);
  g_free (s);
}
