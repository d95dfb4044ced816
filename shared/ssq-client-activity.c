/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-client-activity.c: typing notices both ways (throttled out, expiring
 * in), and presence with automatic away after idle time. */
#include "ssq-client-private.h"
#include "ssq-proto.h"

#include <string.h>

/* A typing start is renewed at most this often while the user types; the
 * server drops it 6 s after the last renewal. */
#define TYPING_RENEW_US   (3 * G_USEC_PER_SEC)
/* With no keystroke for this long, the client says the user stopped. */
#define TYPING_STOP_S     5
/* Someone else's typing notice is dropped here if the server never ends it
 * (a lost connection): a little longer than the server's own timeout. */
#define TYPING_EXPIRE_US  ((SSQ_TYPING_TIMEOUT_MS + 1000) * 1000)

static void
send_typing (SsqClient  *self,
             const char *conversation_id,
             gboolean    active)
{
  g_autoptr(JsonObject) frame = NULL;

  frame = ssq_wire_typing_encode (&(SsqWireTyping) { .conversation_id = conversation_id,
                                                     .active = active });
  ssq_client_send_frame (self, frame);
}

static gboolean
typing_stop_cb (gpointer user_data)
{
  SsqClient *self = user_data;

  self->typing_stop_source = 0;
  if (self->typing_conversation != NULL)
    {
      g_autofree char *conversation_id = g_steal_pointer (&self->typing_conversation);

      send_typing (self, conversation_id, FALSE);
    }
  return G_SOURCE_REMOVE;
}

/**
 * ssq_client_set_typing:
 * The UI calls this on every edit of the composer (active) and when it is
 * emptied or sent (inactive). The server hears a start once, a renewal at
 * most every 3 s, and a stop when the user stops or after 5 s of quiet.
 */
void
ssq_client_set_typing (SsqClient  *self,
                       const char *conversation_id,
                       gboolean    active)
{
  gint64 now = g_get_monotonic_time ();
  gboolean same;

  g_return_if_fail (SSQ_IS_CLIENT (self) && conversation_id != NULL);

  same = g_strcmp0 (self->typing_conversation, conversation_id) == 0;
  if (!active)
    {
      if (same)
        typing_stop_cb (self);
      g_clear_handle_id (&self->typing_stop_source, g_source_remove);
      return;
    }
  if (self->typing_conversation != NULL && !same)
    typing_stop_cb (self);
  if (!same || now - self->typing_sent_us >= TYPING_RENEW_US)
    {
      g_free (self->typing_conversation);
      self->typing_conversation = g_strdup (conversation_id);
      self->typing_sent_us = now;
      send_typing (self, conversation_id, TRUE);
    }
  g_clear_handle_id (&self->typing_stop_source, g_source_remove);
  self->typing_stop_source = g_timeout_add_seconds (TYPING_STOP_S, typing_stop_cb, self);
}

static gboolean
typing_sweep_cb (gpointer user_data)
{
  SsqClient *self = user_data;
  gint64 now = g_get_monotonic_time ();
  g_autoptr(GPtrArray) ended = g_ptr_array_new_with_free_func (g_free);
  GHashTableIter iter, inner;
  const char *conversation_id, *user_id;
  GHashTable *users;
  gpointer expiry;

  g_hash_table_iter_init (&iter, self->typing);
  while (g_hash_table_iter_next (&iter, (gpointer *) &conversation_id, (gpointer *) &users))
    {
      g_hash_table_iter_init (&inner, users);
      while (g_hash_table_iter_next (&inner, (gpointer *) &user_id, &expiry))
        if (*(gint64 *) expiry <= now)
          {
            g_ptr_array_add (ended, g_strdup (conversation_id));
            g_ptr_array_add (ended, g_strdup (user_id));
          }
    }
  for (guint i = 0; i + 1 < ended->len; i += 2)
    ssq_client_apply_typing (self, ended->pdata[i], ended->pdata[i + 1], FALSE);
  if (g_hash_table_size (self->typing) > 0)
    return G_SOURCE_CONTINUE;
  self->typing_sweep_source = 0;
  return G_SOURCE_REMOVE;
}

/* Records someone's typing state and announces a change. */
void
ssq_client_apply_typing (SsqClient  *self,
                         const char *conversation_id,
                         const char *user_id,
                         gboolean    active)
{
  GHashTable *users = g_hash_table_lookup (self->typing, conversation_id);
  gboolean was_active = users != NULL && g_hash_table_contains (users, user_id);

  if (active)
    {
      gint64 expiry = g_get_monotonic_time () + TYPING_EXPIRE_US;

      if (users == NULL)
        {
          users = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
          g_hash_table_insert (self->typing, g_strdup (conversation_id), users);
        }
      g_hash_table_insert (users, g_strdup (user_id), g_memdup2 (&expiry, sizeof expiry));
      if (self->typing_sweep_source == 0)
        self->typing_sweep_source = g_timeout_add_seconds (1, typing_sweep_cb, self);
    }
  else if (was_active)
    {
      g_hash_table_remove (users, user_id);
      if (g_hash_table_size (users) == 0)
        g_hash_table_remove (self->typing, conversation_id);
    }
  if (active != was_active)
    ssq_client_emit (self, SIGNAL_TYPING, conversation_id, user_id, active);
}

/**
 * ssq_client_get_typing:
 * Returns: (transfer full): the ids of the users typing in @conversation_id.
 */
GStrv
ssq_client_get_typing (SsqClient  *self,
                       const char *conversation_id)
{
  GHashTable *users;
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  GHashTableIter iter;
  const char *user_id;

  g_return_val_if_fail (SSQ_IS_CLIENT (self), NULL);

  users = g_hash_table_lookup (self->typing, conversation_id);
  if (users != NULL)
    {
      g_hash_table_iter_init (&iter, users);
      while (g_hash_table_iter_next (&iter, (gpointer *) &user_id, NULL))
        g_strv_builder_add (builder, user_id);
    }
  return g_strv_builder_end (builder);
}

/* Presence. */

static void
send_presence (SsqClient *self)
{
  g_autoptr(JsonObject) frame = NULL;

  frame = ssq_wire_presence_encode (&(SsqWirePresence) { .status = self->presence });
  ssq_client_send_frame (self, frame);
}

static void
change_presence (SsqClient  *self,
                 const char *status)
{
  if (g_strcmp0 (self->presence, status) == 0)
    return;
  g_free (self->presence);
  self->presence = g_strdup (status);
  send_presence (self);
  g_object_notify (G_OBJECT (self), "presence");
}

static void arm_idle (SsqClient *self);

static gboolean
idle_cb (gpointer user_data)
{
  SsqClient *self = user_data;

  self->idle_source = 0;
  if (g_get_monotonic_time () - self->last_activity_us < (gint64) self->idle_timeout_s * G_USEC_PER_SEC)
    {
      arm_idle (self);  /* activity came in since: wait the rest */
      return G_SOURCE_REMOVE;
    }
  if (g_strcmp0 (self->presence, "online") == 0)
    {
      self->auto_away = TRUE;
      change_presence (self, "away");
    }
  return G_SOURCE_REMOVE;
}

static void
arm_idle (SsqClient *self)
{
  gint64 elapsed = g_get_monotonic_time () - self->last_activity_us;
  gint64 left = (gint64) self->idle_timeout_s * G_USEC_PER_SEC - elapsed;

  if (self->idle_timeout_s == 0 || self->idle_source != 0)
    return;
  self->idle_source = g_timeout_add (MAX (left, 0) / 1000 + 1, idle_cb, self);
}

/**
 * ssq_client_report_activity:
 * The user did something (a key, a click, a focus): cancels automatic away
 * and restarts the idle clock. Cheap enough to call on every key press.
 */
void
ssq_client_report_activity (SsqClient *self)
{
  g_return_if_fail (SSQ_IS_CLIENT (self));

  self->last_activity_us = g_get_monotonic_time ();
  if (self->auto_away)
    {
      self->auto_away = FALSE;
      change_presence (self, "online");
    }
  arm_idle (self);
}

/**
 * ssq_client_set_presence:
 * @status: "online", "away" or "dnd", chosen by the user: it stays until
 *   changed (automatic away only moves "online").
 */
void
ssq_client_set_presence (SsqClient  *self,
                         const char *status)
{
  g_return_if_fail (SSQ_IS_CLIENT (self));
  g_return_if_fail (g_strcmp0 (status, "online") == 0 || g_strcmp0 (status, "away") == 0 ||
                    g_strcmp0 (status, "dnd") == 0);

  self->auto_away = FALSE;
  change_presence (self, status);
}

const char *
ssq_client_get_presence (SsqClient *self)
{
  g_return_val_if_fail (SSQ_IS_CLIENT (self), NULL);
  return self->presence;
}

/* On every new connection: the server starts us "online"; say otherwise. */
void
ssq_client_activity_online (SsqClient *self)
{
  if (g_strcmp0 (self->presence, "online") != 0)
    send_presence (self);
  if (self->last_activity_us == 0)
    self->last_activity_us = g_get_monotonic_time ();
  arm_idle (self);
}

/* The idle time changed: count it from the last activity again. */
void
ssq_client_activity_rearm (SsqClient *self)
{
  g_clear_handle_id (&self->idle_source, g_source_remove);
  if (self->last_activity_us != 0)
    arm_idle (self);
}

void
ssq_client_activity_reset (SsqClient *self)
{
  g_clear_handle_id (&self->typing_stop_source, g_source_remove);
  g_clear_handle_id (&self->typing_sweep_source, g_source_remove);
  g_clear_handle_id (&self->idle_source, g_source_remove);
  g_clear_pointer (&self->typing_conversation, g_free);
}
