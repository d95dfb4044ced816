/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-hub.c: sessions by user, presence and typing. Everything here is
 * in memory and rebuilt as clients reconnect; only last_seen is stored.
 *
 * Presence and typing go to every member or contact: one user toggling them
 * would make the server relay without bound. Both are coalesced: at most one
 * relayed change per user (and conversation, for typing) per window, the
 * last state winning, and a state still different from the last relayed one
 * when the window ends is relayed then, so none is lost. */
#include "ssq-server-hub.h"
#include "ssq-server-session.h"

#include <string.h>

#define TYPING_WINDOW_MS   3000
#define PRESENCE_WINDOW_MS 2000

typedef struct {
  GPtrArray *sessions;   /* SsqServerSession, not owned: a session detaches itself */
  char       status[8];  /* online, away or dnd while any session is open */
} UserState;

/* Outlives the typing itself until its window is over. */
typedef struct {
  SsqServerHub *hub;
  char         *key;
  char         *conversation_id;
  char         *user_id;
  gboolean      active;          /* the user's state */
  gboolean      relayed;         /* what members were last told */
  gint64        relayed_ms;      /* when (monotonic) */
  guint         timeout_id;      /* ends an active state without renewal */
  guint         flush_id;        /* end of the window */
} Typing;

/* Outlives the user's sessions (reconnecting is a presence change too)
 * until its window is over. */
typedef struct {
  SsqServerHub *hub;
  char         *user_id;
  char          status[8];       /* online, away, dnd or offline */
  char          relayed[8];      /* "" until a first relay */
  gint64        last_seen;
  gint64        relayed_ms;
  guint         flush_id;
} Presence;

struct _SsqServerHub {
  SsqServer  *server;
  GHashTable *users;     /* user id -> UserState */
  GHashTable *typing;    /* "conversation\nuser" -> Typing */
  GHashTable *presence;  /* user id -> Presence */
  guint       n_sessions;
};

static gint64
mono_ms (void)
{
  return g_get_monotonic_time () / 1000;
}

static void
user_state_free (UserState *state)
{
  g_ptr_array_unref (state->sessions);
  g_free (state);
}

static void
typing_free (Typing *t)
{
  g_clear_handle_id (&t->timeout_id, g_source_remove);
  g_clear_handle_id (&t->flush_id, g_source_remove);
  g_free (t->key);
  g_free (t->conversation_id);
  g_free (t->user_id);
  g_free (t);
}

static void
presence_free (Presence *p)
{
  g_clear_handle_id (&p->flush_id, g_source_remove);
  g_free (p->user_id);
  g_free (p);
}

SsqServerHub *
ssq_server_hub_new (SsqServer *server)
{
  SsqServerHub *hub = g_new0 (SsqServerHub, 1);

  hub->server = server;
  hub->users = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                      (GDestroyNotify) user_state_free);
  hub->typing = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                       (GDestroyNotify) typing_free);
  hub->presence = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                         (GDestroyNotify) presence_free);
  return hub;
}

void
ssq_server_hub_free (SsqServerHub *hub)
{
  if (hub == NULL)
    return;
  g_hash_table_destroy (hub->typing);
  g_hash_table_destroy (hub->presence);
  g_hash_table_destroy (hub->users);
  g_free (hub);
}

/* Tells everyone who shares a conversation with @user_id (and the user's own
 * sessions) about its presence. */
static void
broadcast_presence (SsqServerHub *hub,
                    const char   *user_id,
                    const char   *status,
                    gint64        last_seen)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) contacts = ssq_server_store_contacts (hub->server->store, user_id, &error);
  g_autoptr(JsonObject) frame = json_object_new ();
  g_autoptr(GBytes) wire = NULL;

  if (contacts == NULL)
    {
      g_warning ("Presence not sent: %s", error->message);
      return;
    }
  json_object_set_string_member (frame, "type", "presence");
  json_object_set_string_member (frame, "user", user_id);
  json_object_set_string_member (frame, "status", status);
  json_object_set_int_member (frame, "last_seen", last_seen);
  wire = ssq_server_wire (frame);
  for (guint i = 0; i < contacts->len; i++)
    ssq_server_hub_send_user (hub, contacts->pdata[i], wire);
  ssq_server_hub_send_user (hub, user_id, wire);
}

static gboolean presence_flush_cb (gpointer data);

/* Relays the user's state if it differs from what was last relayed and the
 * window allows; otherwise makes sure the end of the window looks again.
 * May free @p (nothing left to relay, window over). */
static void
presence_update (Presence *p)
{
  SsqServerHub *hub = p->hub;
  gint64 since = mono_ms () - p->relayed_ms;

  if (p->flush_id != 0)
    return;                            /* the end of the window will look */
  if (!g_str_equal (p->status, p->relayed) && since >= PRESENCE_WINDOW_MS)
    {
      g_strlcpy (p->relayed, p->status, sizeof p->relayed);
      p->relayed_ms = mono_ms ();
      since = 0;
      /* Going offline during shutdown is no news: everyone is going. */
      if (!(hub->server->shutting_down && g_str_equal (p->status, "offline")))
        broadcast_presence (hub, p->user_id, p->status, p->last_seen);
    }
  if (since >= PRESENCE_WINDOW_MS)
    {
      g_hash_table_remove (hub->presence, p->user_id);
      return;
    }
  p->flush_id = g_timeout_add ((guint) (PRESENCE_WINDOW_MS - since), presence_flush_cb, p);
}

static gboolean
presence_flush_cb (gpointer data)
{
  Presence *p = data;

  p->flush_id = 0;
  presence_update (p);
  return G_SOURCE_REMOVE;
}

static void
presence_changed (SsqServerHub *hub,
                  const char   *user_id,
                  const char   *status,
                  gint64        last_seen)
{
  Presence *p = g_hash_table_lookup (hub->presence, user_id);

  if (p == NULL)
    {
      p = g_new0 (Presence, 1);
      p->hub = hub;
      p->user_id = g_strdup (user_id);
      p->relayed_ms = G_MININT64 / 2;
      g_hash_table_insert (hub->presence, p->user_id, p);
    }
  g_strlcpy (p->status, status, sizeof p->status);
  p->last_seen = last_seen;
  presence_update (p);
}

gboolean
ssq_server_hub_attach (SsqServerHub      *hub,
                       SsqServerSession  *session,
                       GError           **error)
{
  const char *user_id = ssq_server_session_get_user_id (session);
  UserState *state = g_hash_table_lookup (hub->users, user_id);
  SsqServerConfig *config = hub->server->config;

  if (hub->n_sessions >= config->max_connections ||
      (state != NULL && state->sessions->len >= config->max_sessions_per_user))
    {
      g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_UNAVAILABLE, "Too many connections");
      return FALSE;
    }
  hub->n_sessions++;
  if (state != NULL)
    {
      g_ptr_array_add (state->sessions, session);
      return TRUE;
    }
  state = g_new0 (UserState, 1);
  state->sessions = g_ptr_array_new ();
  g_strlcpy (state->status, "online", sizeof state->status);
  g_ptr_array_add (state->sessions, session);
  g_hash_table_insert (hub->users, g_strdup (user_id), state);
  presence_changed (hub, user_id, "online", ssq_now_ms ());
  return TRUE;
}

static void
end_typing_of_user (SsqServerHub *hub,
                    const char   *user_id)
{
  GHashTableIter iter;
  Typing *t;
  g_autoptr(GPtrArray) ended = g_ptr_array_new_with_free_func (g_free);

  g_hash_table_iter_init (&iter, hub->typing);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &t))
    if (t->active && strcmp (t->user_id, user_id) == 0)
      g_ptr_array_add (ended, g_strdup (t->conversation_id));
  for (guint i = 0; i < ended->len; i++)
    ssq_server_hub_typing (hub, ended->pdata[i], user_id, FALSE);
}

void
ssq_server_hub_detach (SsqServerHub     *hub,
                       SsqServerSession *session)
{
  const char *user_id = ssq_server_session_get_user_id (session);
  UserState *state = g_hash_table_lookup (hub->users, user_id);
  g_autoptr(SsqUserRow) user = NULL;
  g_autofree char *uid = NULL;
  gint64 now;

  if (state == NULL || !g_ptr_array_remove (state->sessions, session))
    return;
  hub->n_sessions--;
  if (state->sessions->len > 0)
    return;

  uid = g_strdup (user_id);
  g_hash_table_remove (hub->users, uid);
  end_typing_of_user (hub, uid);
  now = ssq_now_ms ();
  user = ssq_server_store_user_by_id (hub->server->store, uid, NULL);
  if (user != NULL)
    {
      g_autoptr(GError) error = NULL;

      user->last_seen = now;
      if (!ssq_server_store_user_update (hub->server->store, user, &error))
        g_warning ("Cannot store last_seen: %s", error->message);
    }
  presence_changed (hub, uid, "offline", now);
}

const char *
ssq_server_hub_presence (SsqServerHub *hub,
                         const char   *user_id)
{
  UserState *state = g_hash_table_lookup (hub->users, user_id);

  return state ? state->status : "offline";
}

void
ssq_server_hub_set_presence (SsqServerHub *hub,
                             const char   *user_id,
                             const char   *status)
{
  UserState *state = g_hash_table_lookup (hub->users, user_id);

  if (state == NULL)
    return;
  g_strlcpy (state->status, status, sizeof state->status);
  presence_changed (hub, user_id, status, ssq_now_ms ());
}

guint
ssq_server_hub_users_online (SsqServerHub *hub)
{
  return g_hash_table_size (hub->users);
}

guint
ssq_server_hub_n_sessions (SsqServerHub *hub)
{
  return hub->n_sessions;
}

guint
ssq_server_hub_send_user (SsqServerHub *hub,
                          const char   *user_id,
                          GBytes       *frame)
{
  UserState *state = g_hash_table_lookup (hub->users, user_id);

  if (state == NULL)
    return 0;
  /* A send only queues (a slow peer is cut when the queue is written), so
   * the list cannot change under us. */
  for (guint i = 0; i < state->sessions->len; i++)
    ssq_server_session_send (state->sessions->pdata[i], frame);
  return state->sessions->len;
}

/* Whether any session of @user_id wants `notification` frames (those that
 * connected with notifications=client derive them from message events). */
gboolean
ssq_server_hub_wants_notifications (SsqServerHub *hub,
                                    const char   *user_id)
{
  UserState *state = g_hash_table_lookup (hub->users, user_id);

  for (guint i = 0; state != NULL && i < state->sessions->len; i++)
    if (!ssq_server_session_derives_notifications (state->sessions->pdata[i]))
      return TRUE;
  return FALSE;
}

void
ssq_server_hub_notify_user (SsqServerHub *hub,
                            const char   *user_id,
                            GBytes       *frame)
{
  UserState *state = g_hash_table_lookup (hub->users, user_id);

  for (guint i = 0; state != NULL && i < state->sessions->len; i++)
    if (!ssq_server_session_derives_notifications (state->sessions->pdata[i]))
      ssq_server_session_send (state->sessions->pdata[i], frame);
}

/* @members holds SsqMemberRow. Returns the number of sessions reached. */
guint
ssq_server_hub_send_members (SsqServerHub *hub,
                             GPtrArray    *members,
                             const char   *except_user_id,
                             GBytes       *frame)
{
  guint n = 0;

  for (guint i = 0; i < members->len; i++)
    {
      SsqMemberRow *m = members->pdata[i];

      if (except_user_id == NULL || strcmp (m->user_id, except_user_id) != 0)
        n += ssq_server_hub_send_user (hub, m->user_id, frame);
    }
  return n;
}

static void
send_typing (SsqServerHub *hub,
             const char   *conversation_id,
             const char   *user_id,
             gboolean      active)
{
  g_autoptr(GPtrArray) members = ssq_server_store_members (hub->server->store, conversation_id, NULL);
  g_autoptr(JsonObject) frame = json_object_new ();
  g_autoptr(GBytes) wire = NULL;

  if (members == NULL)
    return;
  json_object_set_string_member (frame, "type", "typing");
  json_object_set_string_member (frame, "conversation_id", conversation_id);
  json_object_set_string_member (frame, "user", user_id);
  json_object_set_boolean_member (frame, "active", active);
  wire = ssq_server_wire (frame);
  ssq_server_hub_send_members (hub, members, user_id, wire);
}

static gboolean typing_flush_cb (gpointer data);

/* As presence_update (): relays a changed state when the window allows,
 * else looks again at its end; frees @t once there is nothing to say and
 * the window is over. */
static void
typing_update (Typing *t)
{
  SsqServerHub *hub = t->hub;
  gint64 since = mono_ms () - t->relayed_ms;

  if (t->flush_id != 0)
    return;
  if (t->active != t->relayed && since >= TYPING_WINDOW_MS)
    {
      t->relayed = t->active;
      t->relayed_ms = mono_ms ();
      since = 0;
      send_typing (hub, t->conversation_id, t->user_id, t->active);
    }
  if (since >= TYPING_WINDOW_MS && !t->active && !t->relayed)
    {
      g_hash_table_remove (hub->typing, t->key);
      return;
    }
  if (since < TYPING_WINDOW_MS)
    t->flush_id = g_timeout_add ((guint) (TYPING_WINDOW_MS - since), typing_flush_cb, t);
}

static gboolean
typing_flush_cb (gpointer data)
{
  Typing *t = data;

  t->flush_id = 0;
  typing_update (t);
  return G_SOURCE_REMOVE;
}

static gboolean
typing_expired_cb (gpointer data)
{
  Typing *t = data;

  t->timeout_id = 0;
  t->active = FALSE;
  typing_update (t);
  return G_SOURCE_REMOVE;
}

/* Typing state: a start is relayed once and renewed silently; it ends on an
 * explicit stop, on the sender's next message, on disconnect, or after 6 s.
 * At most one change per user and conversation is relayed per 3 s. */
void
ssq_server_hub_typing (SsqServerHub *hub,
                       const char   *conversation_id,
                       const char   *user_id,
                       gboolean      active)
{
  g_autofree char *key = g_strconcat (conversation_id, "\n", user_id, NULL);
  Typing *t = g_hash_table_lookup (hub->typing, key);

  if (t == NULL)
    {
      if (!active)
        return;
      t = g_new0 (Typing, 1);
      t->hub = hub;
      t->key = g_steal_pointer (&key);
      t->conversation_id = g_strdup (conversation_id);
      t->user_id = g_strdup (user_id);
      t->relayed_ms = G_MININT64 / 2;
      g_hash_table_insert (hub->typing, t->key, t);
    }
  g_clear_handle_id (&t->timeout_id, g_source_remove);
  if (active)
    t->timeout_id = g_timeout_add (SSQ_TYPING_TIMEOUT_MS, typing_expired_cb, t);
  t->active = active;
  typing_update (t);
}

/* Every open session, each with a reference. */
GPtrArray *
ssq_server_hub_sessions (SsqServerHub *hub)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (g_object_unref);
  GHashTableIter iter;
  UserState *state;

  g_hash_table_iter_init (&iter, hub->users);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &state))
    for (guint i = 0; i < state->sessions->len; i++)
      g_ptr_array_add (out, g_object_ref (state->sessions->pdata[i]));
  return out;
}

/**
 * ssq_server_hub_end_sessions:
 * Closes with @code the sessions of @user_id opened with the token of
 * @token_hash (NULL: any token) except those of @except_hash (may be NULL):
 * their login ended. They stop taking frames at once; the close frame
 * follows what is already queued to them.
 * Returns: the number of sessions closed
 */
guint
ssq_server_hub_end_sessions (SsqServerHub *hub,
                             const char   *user_id,
                             GBytes       *token_hash,
                             GBytes       *except_hash,
                             gushort       code,
                             const char   *reason)
{
  UserState *state = g_hash_table_lookup (hub->users, user_id);
  g_autoptr(GPtrArray) ending = g_ptr_array_new_with_free_func (g_object_unref);

  if (state == NULL)
    return 0;
  /* Closing detaches a session from the array being walked: copy first. */
  for (guint i = 0; i < state->sessions->len; i++)
    {
      SsqServerSession *session = state->sessions->pdata[i];
      GBytes *hash = ssq_server_session_get_token_hash (session);

      if ((token_hash == NULL || g_bytes_equal (hash, token_hash)) &&
          (except_hash == NULL || !g_bytes_equal (hash, except_hash)))
        g_ptr_array_add (ending, g_object_ref (session));
    }
  for (guint i = 0; i < ending->len; i++)
    ssq_server_session_close (ending->pdata[i], code, reason);
  return ending->len;
}
