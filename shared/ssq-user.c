/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-user.c: a user as the client knows it. Snapshots are immutable: a
 * change makes a new object, so a list model can announce it as a
 * replacement. */
#include <glib/gi18n.h>
#include "ssq-user.h"
#include "ssq-json.h"
#include "ssq-wire.h"
#include "ssq-proto.h"

struct _SsqUser
{
  GObject  parent_instance;
  char    *id;
  char    *username;
  char    *display_name;
  char    *presence;
  gint64   last_seen;
};

G_DEFINE_FINAL_TYPE (SsqUser, ssq_user, G_TYPE_OBJECT)

static void
ssq_user_finalize (GObject *object)
{
  SsqUser *self = SSQ_USER (object);

  g_free (self->id);
  g_free (self->username);
  g_free (self->display_name);
  g_free (self->presence);
  G_OBJECT_CLASS (ssq_user_parent_class)->finalize (object);
}

static void
ssq_user_class_init (SsqUserClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = ssq_user_finalize;
}

static void
ssq_user_init (SsqUser *self)
{
}

SsqUser *
ssq_user_new (const char *id,
              const char *username,
              const char *display_name,
              const char *presence,
              gint64      last_seen)
{
  SsqUser *self;

  g_return_val_if_fail (id != NULL && username != NULL, NULL);

  self = g_object_new (SSQ_TYPE_USER, NULL);
  self->id = g_strdup (id);
  self->username = g_strdup (username);
  self->display_name = g_strdup (display_name ? display_name : username);
  self->presence = g_strdup (presence ? presence : "offline");
  self->last_seen = last_seen;
  return self;
}

/**
 * ssq_user_new_from_json:
 * Reads a protocol `user` object; missing optional fields get defaults.
 */
SsqUser *
ssq_user_new_from_json (JsonObject *object,
                        GError    **error)
{
  SsqWireUser u;

  if (!ssq_wire_user_decode (object, &u, error))
    return NULL;
  /* A deleted account has no name: the server's English stand-in is
   * replaced by the user's language. */
  if (u.deleted)
    u.display_name = _("Deleted user");
  return ssq_user_new (u.id, u.username, u.display_name, u.presence, u.last_seen);
}

const char *
ssq_user_get_id (SsqUser *self)
{
  g_return_val_if_fail (SSQ_IS_USER (self), NULL);
  return self->id;
}

const char *
ssq_user_get_username (SsqUser *self)
{
  g_return_val_if_fail (SSQ_IS_USER (self), NULL);
  return self->username;
}

const char *
ssq_user_get_display_name (SsqUser *self)
{
  g_return_val_if_fail (SSQ_IS_USER (self), NULL);
  return self->display_name;
}

const char *
ssq_user_get_presence (SsqUser *self)
{
  g_return_val_if_fail (SSQ_IS_USER (self), NULL);
  return self->presence;
}

gint64
ssq_user_get_last_seen (SsqUser *self)
{
  g_return_val_if_fail (SSQ_IS_USER (self), 0);
  return self->last_seen;
}
