/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-hub.c: sessions by user, presence and typing. Everything here is
 * in memory and rebuilt as clients reconnect; only last_seen is stored.
 *
 * Presence, typing and receipts go to every member or contact: one user
 * toggling them would make the server relay without bound. Each is
 * coalesced (ssq-server-coalesce.c): at most one relayed change per user
 * (and conversation, for typing and receipts) per window, the last state
 * winning, none lost. */
#include "ssq-server-hub.h"
#include "ssq-server-coalesce.h"
#include "ssq-server-session.h"

#include <string.h>

#define TYPING_WINDOW_MS   3000
#define PRESENCE_WINDOW_MS 2000
#define RECEIPT_WINDOW_MS  1000

typedef struct {
  GPtrArray *sessions;   /* SsqServerSession, not owned: a session detaches itself */
  char       status[8];  /* online, away or dnd while any session is open */
} UserState;

typedef struct {
  SsqServerHub *hub;
  char         *key;
  char         *conversation_id;
  char         *user_id;
  gboolean      active;          /* the user's state */
  gboolean      relayed;         /* what members were last told */
  guint         timeout_id;      /* ends an active state without renewal */
} Typing;

/* Outlives the user's sessions: reconnecting is a presence change too. */
typedef struct {
  SsqServerHub *hub;
  char         *user_id;
  char          status[8];       /* online, away, dnd or offline */
  char          relayed[8];      /* "" until a first relay */
  gint64        last_seen;
} Presence;

/* The markers themselves are read from the store when relayed. */
typedef struct {
  SsqServerHub *hub;
  char         *conversation_id;
  char         *user_id;
  gint64        delivered_relayed;
  gint64        read_relayed;
  gboolean      include_self;    /* a read marker: the user's devices too */
} Receipt;

struct _SsqServerHub {
  SsqServer  *server;
  GHashTable *users;     /* user id -> UserState */
  SsqCoalesce *typing;   /* "conversation\nuser" -> Typing */
  SsqCoalesce *presence; /* user id -> Presence */
  SsqCoalesce *receipts; /* "conversation\nuser" -> Receipt */
  guint       n_sessions;
};

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
  g_free (t->key);
  g_free (t->conversation_id);
  g_free (t->user_id);
  g_free (t);
}

static void
presence_free (Presence *p)
{
  g_free (p->user_id);
  g_free (p);
}

static void
receipt_free (Receipt *r)
{
  g_free (r->conversation_id);
  g_free (r->user_id);
  g_free (r);
}

static gboolean typing_relay    (gpointer state);
static gboolean typing_busy     (gpointer state);
static gboolean presence_relay  (gpointer state);
static gboolean receipt_relay   (gpointer state);

static const SsqCoalesceFuncs typing_funcs = {
  typing_relay, typing_busy, (GDestroyNotify) typing_free
};
static const SsqCoalesceFuncs presence_funcs = {
  presence_relay, NULL, (GDestroyNotify) presence_free
};
static const SsqCoalesceFuncs receipt_funcs = {
  receipt_relay, NULL, (GDestroyNotify) receipt_free
};

SsqServerHub *
ssq_server_hub_new (SsqServer *server)
{
  SsqServerHub *hub = g_new0 (SsqServerHub, 1);

  hub->server = server;
  hub->users = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                      (GDestroyNotify) user_state_free);
  hub->typing = ssq_coalesce_new (&typing_funcs, TYPING_WINDOW_MS);
  hub->presence = ssq_coalesce_new (&presence_funcs, PRESENCE_WINDOW_MS);
  hub->receipts = ssq_coalesce_new (&receipt_funcs, RECEIPT_WINDOW_MS);
  return hub;
}

void
ssq_server_hub_free (SsqServerHub *hub)
{
  if (hub == NULL)
    return;
  ssq_coalesce_free (hub->typing);
  ssq_coalesce_free (hub->presence);
  ssq_coalesce_free (hub->receipts);
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
  g_autoptr(JsonObject) frame = NULL;
  g_autoptr(GBytes) wire = NULL;

  if (contacts == NULL)
    {
      g_warning ("Presence not sent: %s", error->message);
      return;
    }
  frame = ssq_wire_presence_encode (&(SsqWirePresence) { NULL, user_id, status, last_seen });
  wire = ssq_server_wire (frame);
  for (guint i = 0; i < contacts->len; i++)
    ssq_server_hub_send_user (hub, contacts->pdata[i], wire);
  ssq_server_hub_send_user (hub, user_id, wire);
}

static gboolean
presence_relay (gpointer state)
{
  Presence *p = state;
  SsqServerHub *hub = p->hub;

  if (g_str_equal (p->status, p->relayed))
    return FALSE;
  g_strlcpy (p->relayed, p->status, sizeof p->relayed);
  /* Going offline during shutdown is no news: everyone is going. */
  if (!(hub->server->shutting_down && g_str_equal (p->status, "offline")))
    broadcast_presence (hub, p->user_id, p->status, p->last_seen);
  return TRUE;
}

static void
presence_changed (SsqServerHub *hub,
                  const char   *user_id,
                  const char   *status,
                  gint64        last_seen)
{
  Presence *p = ssq_coalesce_lookup (hub->presence, user_id);

  if (p == NULL)
    {
      p = g_new0 (Presence, 1);
      p->hub = hub;
      p->user_id = g_strdup (user_id);
      ssq_coalesce_insert (hub->presence, user_id, p);
    }
  g_strlcpy (p->status, status, sizeof p->status);
  p->last_seen = last_seen;
  ssq_coalesce_changed (hub->presence, user_id);
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
typing_of_user (gpointer state,
                gpointer data)
{
  Typing *t = state;
  GPtrArray *ended = data;

  if (t->active && strcmp (t->user_id, ended->pdata[0]) == 0)
    g_ptr_array_add (ended, g_strdup (t->conversation_id));
}

static void
end_typing_of_user (SsqServerHub *hub,
                    const char   *user_id)
{
  g_autoptr(GPtrArray) ended = g_ptr_array_new_with_free_func (g_free);

  /* [0] is the user; ending a typing state may drop its key: collect first. */
  g_ptr_array_add (ended, g_strdup (user_id));
  ssq_coalesce_foreach (hub->typing, typing_of_user, ended);
  for (guint i = 1; i < ended->len; i++)
    ssq_server_hub_typing (hub, ended->pdata[i], user_id, FALSE);
}


typedef struct {
  char   *user_id;
  gint64  last_seen;
} LastSeen;

static void
last_seen_free (gpointer data)
{
  LastSeen *ls = data;

  g_free (ls->user_id);
  g_free (ls);
}

/* Writer thread: the row is read and written on the writer's connection,
 * so a display name changed meanwhile stays. */
static gboolean
last_seen_op (SsqServerStore  *store,
              gpointer         data,
              GError         **error)
{
  LastSeen *ls = data;
  g_autoptr(SsqUserRow) user = ssq_server_store_user_by_id (store, ls->user_id, error);

  if (user == NULL)
    return FALSE;
  user->last_seen = ls->last_seen;
  return ssq_server_store_user_update (store, user, error);
}

static void
last_seen_done (gpointer      data,
                const GError *error)
{
  if (error != NULL && !g_error_matches (error, SSQ_ERROR, SSQ_ERROR_NOT_FOUND))
    g_warning ("Cannot store last_seen: %s", error->message);
}

static void
store_last_seen (SsqServerHub *hub,
                 const char   *user_id,
                 gint64        now)
{
  LastSeen *ls = g_new0 (LastSeen, 1);

  ls->user_id = g_strdup (user_id);
  ls->last_seen = now;
  ssq_server_writer_submit (hub->server->writer, last_seen_op, last_seen_done, ls,
                            last_seen_free);
}

void
ssq_server_hub_detach (SsqServerHub     *hub,
                       SsqServerSession *session)
{
  const char *user_id = ssq_server_session_get_user_id (session);
  UserState *state = g_hash_table_lookup (hub->users, user_id);
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
  store_last_seen (hub, uid, now);
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
  g_autoptr(GPtrArray) members = ssq_server_members_list (hub->server->members, conversation_id,
                                                          NULL);
  g_autoptr(JsonObject) frame = NULL;
  g_autoptr(GBytes) wire = NULL;

  if (members == NULL)
    return;
  frame = ssq_wire_typing_encode (&(SsqWireTyping) { NULL, conversation_id, user_id, active });
  wire = ssq_server_wire (frame);
  ssq_server_hub_send_members (hub, members, user_id, wire);
}

static gboolean
typing_relay (gpointer state)
{
  Typing *t = state;

  if (t->active == t->relayed)
    return FALSE;
  t->relayed = t->active;
  send_typing (t->hub, t->conversation_id, t->user_id, t->active);
  return TRUE;
}

/* An active state is kept until it ends, to relay its end. */
static gboolean
typing_busy (gpointer state)
{
  return ((Typing *) state)->active;
}

static gboolean
typing_expired_cb (gpointer data)
{
  Typing *t = data;

  t->timeout_id = 0;
  t->active = FALSE;
  ssq_coalesce_changed (t->hub->typing, t->key);
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
  Typing *t = ssq_coalesce_lookup (hub->typing, key);

  if (t == NULL)
    {
      if (!active)
        return;
      t = g_new0 (Typing, 1);
      t->hub = hub;
      t->key = g_strdup (key);
      t->conversation_id = g_strdup (conversation_id);
      t->user_id = g_strdup (user_id);
      ssq_coalesce_insert (hub->typing, key, t);
    }
  g_clear_handle_id (&t->timeout_id, g_source_remove);
  if (active)
    t->timeout_id = g_timeout_add (SSQ_TYPING_TIMEOUT_MS, typing_expired_cb, t);
  t->active = active;
  ssq_coalesce_changed (hub->typing, key);
}

static gboolean
receipt_relay (gpointer state)
{
  Receipt *r = state;
  SsqServerHub *hub = r->hub;
  g_autoptr(GPtrArray) members = ssq_server_store_members (hub->server->store,
                                                           r->conversation_id, NULL);
  g_autoptr(JsonObject) frame = NULL;
  g_autoptr(GBytes) wire = NULL;
  SsqMemberRow *me = NULL;

  for (guint i = 0; members != NULL && i < members->len && me == NULL; i++)
    if (g_str_equal (((SsqMemberRow *) members->pdata[i])->user_id, r->user_id))
      me = members->pdata[i];
  if (me == NULL ||
      (me->delivered_seq == r->delivered_relayed && me->read_seq == r->read_relayed))
    return FALSE;
  frame = ssq_wire_receipt_encode (&(SsqWireReceipt) { r->conversation_id, r->user_id,
                                                       me->delivered_seq, me->read_seq });
  wire = ssq_server_wire (frame);
  ssq_server_hub_send_members (hub, members, r->include_self ? NULL : r->user_id, wire);
  r->delivered_relayed = me->delivered_seq;
  r->read_relayed = me->read_seq;
  r->include_self = FALSE;
  return TRUE;
}

/**
 * ssq_server_hub_receipt:
 * The user's delivered or read marker moved: tells the other members (and
 * the user's own sessions too when @include_self, for a read marker). The
 * markers relayed are those stored when the relay goes out, so a burst of
 * moves becomes at most one receipt per user and conversation per second.
 */
void
ssq_server_hub_receipt (SsqServerHub *hub,
                        const char   *conversation_id,
                        const char   *user_id,
                        gboolean      include_self)
{
  g_autofree char *key = g_strconcat (conversation_id, "\n", user_id, NULL);
  Receipt *r = ssq_coalesce_lookup (hub->receipts, key);

  if (r == NULL)
    {
      r = g_new0 (Receipt, 1);
      r->hub = hub;
      r->conversation_id = g_strdup (conversation_id);
      r->user_id = g_strdup (user_id);
      r->delivered_relayed = r->read_relayed = -1;
      ssq_coalesce_insert (hub->receipts, key, r);
    }
  r->include_self |= include_self;
  ssq_coalesce_changed (hub->receipts, key);
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

  /* The login ends for REST requests too: its row is gone already, and the
   * copy in memory goes now, before any other request is read. */
  ssq_server_logins_forget (hub->server->logins, user_id, token_hash, except_hash);
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
