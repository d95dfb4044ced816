/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-gtk-notifier.c: the desktop client's notifications. They go out as
 * GNotification: inside Flatpak through the notification portal, on
 * GNOME through org.gtk.Notifications, elsewhere through
 * org.freedesktop.Notifications; GLib picks. Their click is the action
 * app.open-conversation with the conversation's id, which the desktop
 * calls on the application by D-Bus: it opens the conversation even when
 * the app was not running (DBusActivatable, started with
 * --gapplication-service). One notification per conversation: a new
 * message replaces the one before, and reading the conversation, here or
 * on another device, withdraws it. */
#include "ssq-config.h"
#include "ssq-gtk-notifier.h"

#include "ssq-display.h"

struct _SsqGtkNotifier
{
  GObject       parent_instance;
  GApplication *application;  /* not owned: it owns this */
  GHashTable   *shown;        /* conversation ids with a notification out */
  int           markup;       /* -1 until known: whether bodies are read as markup */
};

G_DEFINE_FINAL_TYPE (SsqGtkNotifier, ssq_gtk_notifier, G_TYPE_OBJECT)

/**
 * ssq_gtk_notifier_id:
 * @conversation_id: a conversation
 *
 * Returns: (transfer full): the id its notification is sent under
 */
char *
ssq_gtk_notifier_id (const char *conversation_id)
{
  g_return_val_if_fail (conversation_id != NULL, NULL);

  return g_strconcat ("conversation-", conversation_id, NULL);
}

/* Whether the body will be read as markup. GNotification's body is plain
 * text for the portal and for org.gtk.Notifications, but GLib's last
 * resort hands it unchanged to org.freedesktop.Notifications, whose
 * servers read markup: there "<b>" or "&" must be escaped to show as
 * written. GLib chooses its backend once, at the first notification, by
 * these same rules (2.74: a sandbox means the portal; else the
 * org.gtk.Notifications name if someone owns it; GNOTIFICATION_BACKEND
 * overrides), so this asks once too. */
static gboolean
body_is_markup (SsqGtkNotifier *self)
{
  const char *forced = g_getenv ("GNOTIFICATION_BACKEND");
  const char *portal = g_getenv ("GTK_USE_PORTAL");
  GDBusConnection *bus = g_application_get_dbus_connection (self->application);
  g_autoptr(GVariant) reply = NULL;
  gboolean owned = FALSE;

  if (self->markup >= 0)
    return self->markup;
  if (forced != NULL && *forced != '\0')
    self->markup = g_str_equal (forced, "freedesktop");
  else if (g_file_test ("/.flatpak-info", G_FILE_TEST_EXISTS) || (portal != NULL && portal[0] == '1'))
    self->markup = FALSE;
  else
    {
      if (bus != NULL)
        reply = g_dbus_connection_call_sync (bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                             "org.freedesktop.DBus", "NameHasOwner",
                                             g_variant_new ("(s)", "org.gtk.Notifications"),
                                             G_VARIANT_TYPE ("(b)"), G_DBUS_CALL_FLAGS_NONE, 2000, NULL, NULL);
      if (reply != NULL)
        g_variant_get (reply, "(b)", &owned);
      self->markup = !owned;
    }
  return self->markup;
}

/**
 * ssq_gtk_notifier_show:
 * @self: the notifier
 * @conversation_id: the conversation the message came in
 * @title: who sent it (and where, in a group)
 * @text: what it says, plain
 *
 * Shows a notification for @conversation_id, replacing the one it had.
 */
void
ssq_gtk_notifier_show (SsqGtkNotifier *self,
                       const char     *conversation_id,
                       const char     *title,
                       const char     *text)
{
  g_autoptr(GNotification) notification = NULL;
  g_autofree char *id = NULL, *clean_title = NULL, *body = NULL;

  g_return_if_fail (SSQ_IS_GTK_NOTIFIER (self));
  g_return_if_fail (conversation_id != NULL && title != NULL && text != NULL);

  clean_title = ssq_display_sanitize (title);
  body = body_is_markup (self) ? ssq_display_notification_body (text) : ssq_display_sanitize (text);
  notification = g_notification_new (clean_title);
  g_notification_set_body (notification, body);
  g_notification_set_category (notification, "im.received");
  g_notification_set_default_action_and_target (notification, "app.open-conversation", "s", conversation_id);
  id = ssq_gtk_notifier_id (conversation_id);
  g_application_send_notification (self->application, id, notification);
  g_hash_table_add (self->shown, g_strdup (conversation_id));
}

/**
 * ssq_gtk_notifier_withdraw:
 * @self: the notifier
 * @conversation_id: a conversation now read
 *
 * Takes its notification away, if it has one.
 */
void
ssq_gtk_notifier_withdraw (SsqGtkNotifier *self,
                           const char     *conversation_id)
{
  g_autofree char *id = NULL;

  g_return_if_fail (SSQ_IS_GTK_NOTIFIER (self));
  g_return_if_fail (conversation_id != NULL);

  /* Only those sent: every change of every conversation comes here. */
  if (!g_hash_table_remove (self->shown, conversation_id))
    return;
  id = ssq_gtk_notifier_id (conversation_id);
  g_application_withdraw_notification (self->application, id);
}

/**
 * ssq_gtk_notifier_withdraw_all:
 * @self: the notifier
 *
 * Takes every notification away: the session they belong to has ended.
 */
void
ssq_gtk_notifier_withdraw_all (SsqGtkNotifier *self)
{
  g_autofree char **ids = NULL;

  g_return_if_fail (SSQ_IS_GTK_NOTIFIER (self));

  ids = (char **) g_hash_table_get_keys_as_array (self->shown, NULL);
  for (guint i = 0; ids[i] != NULL; i++)
    {
      g_autofree char *id = ssq_gtk_notifier_id (ids[i]);

      g_application_withdraw_notification (self->application, id);
    }
  g_hash_table_remove_all (self->shown);
}

static void
ssq_gtk_notifier_finalize (GObject *object)
{
  SsqGtkNotifier *self = SSQ_GTK_NOTIFIER (object);

  g_hash_table_unref (self->shown);
  G_OBJECT_CLASS (ssq_gtk_notifier_parent_class)->finalize (object);
}

static void
ssq_gtk_notifier_class_init (SsqGtkNotifierClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = ssq_gtk_notifier_finalize;
}

static void
ssq_gtk_notifier_init (SsqGtkNotifier *self)
{
  self->shown = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->markup = -1;
}

/**
 * ssq_gtk_notifier_new:
 * @application: the application the notifications are sent for; it must
 *   outlive the notifier (it owns it)
 *
 * Returns: (transfer full): a notifier
 */
SsqGtkNotifier *
ssq_gtk_notifier_new (GApplication *application)
{
  SsqGtkNotifier *self;

  g_return_val_if_fail (G_IS_APPLICATION (application), NULL);

  self = g_object_new (SSQ_TYPE_GTK_NOTIFIER, NULL);
  self->application = application;
  return self;
}
