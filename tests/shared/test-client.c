/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-client.c: SsqClient, its cache and models against the real server
 * binary on loopback, each client with its own temporary data directory. */
#include <glib/gstdio.h>

#include "ssq-client.h"
#include "ssq-conversation-list.h"
#include "ssq-message-list.h"
#include "ssq-proto.h"
#include "ssq-test-server.h"

#define WAIT_MS 10000

typedef struct {
  SsqClient *client;
  char      *dir;
  GPtrArray *errors;        /* GError */
  GPtrArray *typing;        /* "conversation:user:active" */
  GPtrArray *presence;      /* "user:status" */
  guint      synced;
  guint      notifications;
  GPtrArray *notes;         /* "conversation:seq:reason" */
} TestClient;

static void
errors_cb (SsqClient    *client,
           const GError *error,
           TestClient   *tc)
{
  g_ptr_array_add (tc->errors, g_error_copy (error));
}

static void
typing_cb (SsqClient  *client,
           const char *conversation_id,
           const char *user_id,
           gboolean    active,
           TestClient *tc)
{
  g_ptr_array_add (tc->typing, g_strdup_printf ("%s:%s:%d", conversation_id, user_id, active));
}

static void
presence_cb (SsqClient  *client,
             SsqUser    *user,
             TestClient *tc)
{
  g_ptr_array_add (tc->presence, g_strdup_printf ("%s:%s", ssq_user_get_id (user),
                                                  ssq_user_get_presence (user)));
}

static void
synced_cb (SsqClient  *client,
           TestClient *tc)
{
  tc->synced++;
}

static void
notification_cb (SsqClient  *client,
                 const char *conversation_id,
                 gint64      seq,
                 const char *reason,
                 TestClient *tc)
{
  tc->notifications++;
  g_ptr_array_add (tc->notes, g_strdup_printf ("%s:%" G_GINT64_FORMAT ":%s",
                                               conversation_id, seq, reason));
}

static TestClient *
test_client_new (const char *url,
                 const char *dir)
{
  TestClient *tc = g_new0 (TestClient, 1);
  g_autoptr(GError) error = NULL;

  tc->dir = dir ? g_strdup (dir) : g_dir_make_tmp ("ssq-client-XXXXXX", &error);
  g_assert_no_error (error);
  tc->client = ssq_client_new (url, tc->dir);
  g_object_set (tc->client, "reconnect-max-delay", 400, NULL);
  tc->errors = g_ptr_array_new_with_free_func ((GDestroyNotify) g_error_free);
  tc->typing = g_ptr_array_new_with_free_func (g_free);
  tc->presence = g_ptr_array_new_with_free_func (g_free);
  tc->notes = g_ptr_array_new_with_free_func (g_free);
  g_signal_connect (tc->client, "error", G_CALLBACK (errors_cb), tc);
  g_signal_connect (tc->client, "typing", G_CALLBACK (typing_cb), tc);
  g_signal_connect (tc->client, "presence", G_CALLBACK (presence_cb), tc);
  g_signal_connect (tc->client, "synced", G_CALLBACK (synced_cb), tc);
  g_signal_connect (tc->client, "notification", G_CALLBACK (notification_cb), tc);
  return tc;
}

/* Drops the client object (as a quitting program would) but keeps its
 * directory, unless @remove. */
static void
test_client_free_full (TestClient *tc,
                       gboolean    remove)
{
  g_signal_handlers_disconnect_by_data (tc->client, tc);
  ssq_client_disconnect (tc->client);
  g_object_unref (tc->client);
  if (remove)
    ssq_test_remove_tree (tc->dir);
  g_free (tc->dir);
  g_ptr_array_unref (tc->errors);
  g_ptr_array_unref (tc->typing);
  g_ptr_array_unref (tc->presence);
  g_ptr_array_unref (tc->notes);
  g_free (tc);
}

static void
test_client_free (TestClient *tc)
{
  test_client_free_full (tc, TRUE);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TestClient, test_client_free)


static GAsyncResult *
wait_result (GAsyncResult **slot)
{
  return ssq_test_wait_result (slot, WAIT_MS);
}

static gboolean
is_synced (gpointer data)
{
  return ssq_client_is_synced (((TestClient *) data)->client);
}

static void
go_online (TestClient *tc)
{
  ssq_client_connect (tc->client);
  g_assert_true (ssq_test_wait_until (is_synced, tc, WAIT_MS));
}

static TestClient *
registered (SsqTestServer *server,
            const char    *username)
{
  TestClient *tc = test_client_new (server->url, NULL);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  ssq_client_register_async (tc->client, username, "password123", NULL, NULL, ssq_test_store_result, &result);
  g_assert_true (ssq_client_register_finish (tc->client, wait_result (&result), &error));
  g_assert_no_error (error);
  g_assert_nonnull (ssq_client_get_user_id (tc->client));
  go_online (tc);
  return tc;
}

static SsqConversation *
create_direct (TestClient *tc,
               const char *username)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  SsqConversation *conversation;

  ssq_client_create_direct_async (tc->client, username, NULL, ssq_test_store_result, &result);
  conversation = ssq_client_conversation_finish (tc->client, wait_result (&result), &error);
  g_assert_no_error (error);
  return conversation;
}

static SsqConversation *
create_group (TestClient        *tc,
              const char        *title,
              const char *const *members)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  SsqConversation *conversation;

  ssq_client_create_group_async (tc->client, title, members, NULL, ssq_test_store_result, &result);
  conversation = ssq_client_conversation_finish (tc->client, wait_result (&result), &error);
  g_assert_no_error (error);
  return conversation;
}

static void
send_text (TestClient *tc,
           const char *conversation_id,
           const char *body)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SsqMessage) pending = ssq_client_send_message (tc->client, conversation_id, body, 0, &error);

  g_assert_no_error (error);
  g_assert_true (ssq_message_is_pending (pending));
}

typedef struct {
  TestClient *tc;
  const char *conversation_id;
  gint64      seq;
} HasSeq;

static gboolean
cache_has_seq (gpointer data)
{
  HasSeq *has = data;
  g_autoptr(SsqMessage) message = ssq_cache_get_message (ssq_client_get_cache (has->tc->client),
                                                         has->conversation_id, has->seq);
  return message != NULL;
}

static void
wait_for_seq (TestClient *tc,
              const char *conversation_id,
              gint64      seq)
{
  HasSeq has = { tc, conversation_id, seq };

  g_assert_true (ssq_test_wait_until (cache_has_seq, &has, WAIT_MS));
}

static gboolean
outbox_empty (gpointer data)
{
  return ssq_cache_outbox_count (ssq_client_get_cache (((TestClient *) data)->client)) == 0;
}

/* Every seq from 1 to @n is in @tc's cache exactly once, with the bodies
 * "<prefix><i>" in order. */
static void
assert_history (TestClient *tc,
                const char *conversation_id,
                const char *prefix,
                guint       n)
{
  g_autoptr(GPtrArray) all = ssq_cache_get_messages (ssq_client_get_cache (tc->client),
                                                     conversation_id, 0, 10000, NULL);

  g_assert_cmpuint (all->len, ==, n);
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *expected = g_strdup_printf ("%s%u", prefix, i);

      g_assert_cmpint (ssq_message_get_seq (all->pdata[i]), ==, i + 1);
      g_assert_cmpstr (ssq_message_get_body (all->pdata[i]), ==, expected);
    }
}

static gboolean
has_typing (gpointer data)
{
  return ((TestClient *) data)->typing->len > 0;
}

static gboolean
has_presence_away (gpointer data)
{
  TestClient *tc = data;

  for (guint i = 0; i < tc->presence->len; i++)
    if (g_str_has_suffix (tc->presence->pdata[i], ":away"))
      return TRUE;
  return FALSE;
}

static gboolean
has_notification (gpointer data)
{
  return ((TestClient *) data)->notifications > 0;
}

typedef struct {
  TestClient *tc;
  const char *conversation_id;
  gint64      seq;
  SsqMessageStatus status;
} HasStatus;

static gboolean
message_has_status (gpointer data)
{
  HasStatus *has = data;
  g_autoptr(SsqMessage) message = ssq_cache_get_message (ssq_client_get_cache (has->tc->client),
                                                         has->conversation_id, has->seq);

  return message != NULL && ssq_message_get_status (message) == has->status;
}

static void
test_converse (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, NULL);
  g_autoptr(TestClient) alice = registered (server, "alice");
  g_autoptr(TestClient) bob = registered (server, "bob");
  g_autoptr(TestClient) carol = registered (server, "carol");
  g_autoptr(SsqConversation) dm = create_direct (alice, "bob");
  const char *dm_id = ssq_conversation_get_id (dm);
  const char *const team_members[] = { "bob", NULL };
  g_autoptr(SsqConversation) team = NULL;
  g_autoptr(SsqConversation) seen = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  HasStatus read = { alice, dm_id, 2, SSQ_MESSAGE_READ };
  HasStatus delivered = { alice, dm_id, 2, SSQ_MESSAGE_DELIVERED };
  char body[32];

  /* Two clients converse, and the sender sees the receipts. */
  send_text (alice, dm_id, "m0");
  send_text (alice, dm_id, "m1");
  wait_for_seq (bob, dm_id, 2);
  /* bob's client says it has them: delivered, not yet read. */
  g_assert_true (ssq_test_wait_until (message_has_status, &delivered, WAIT_MS));
  seen = ssq_cache_get_conversation (ssq_client_get_cache (bob->client), dm_id);
  g_assert_cmpint (ssq_conversation_get_unread (seen), ==, 2);
  ssq_client_mark_read (bob->client, dm_id, 2);
  g_clear_object (&seen);
  seen = ssq_cache_get_conversation (ssq_client_get_cache (bob->client), dm_id);
  g_assert_cmpint (ssq_conversation_get_unread (seen), ==, 0);
  g_assert_true (ssq_test_wait_until (message_has_status, &read, WAIT_MS));
  send_text (bob, dm_id, "m2");
  wait_for_seq (alice, dm_id, 3);
  assert_history (alice, dm_id, "m", 3);
  assert_history (bob, dm_id, "m", 3);
  g_clear_object (&seen);
  seen = ssq_cache_get_conversation (ssq_client_get_cache (alice->client), dm_id);
  g_assert_cmpint (ssq_conversation_get_unread (seen), ==, 1);
  g_assert_true (ssq_test_wait_until (has_notification, alice, WAIT_MS));
  g_assert_cmpuint (alice->notifications, ==, 1);
  g_assert_cmpuint (bob->notifications, ==, 2);

  /* Another device of alice's learns of the read state by syncing. */
  {
    g_autoptr(TestClient) alice2 = test_client_new (server->url, NULL);
    HasStatus read2 = { alice2, dm_id, 2, SSQ_MESSAGE_READ };

    ssq_client_login_async (alice2->client, "alice", "password123", NULL, ssq_test_store_result, &result);
    g_assert_true (ssq_client_login_finish (alice2->client, wait_result (&result), &error));
    g_clear_object (&result);
    go_online (alice2);
    g_assert_true (message_has_status (&read2));
  }

  /* Typing and presence reach the other side. */
  ssq_client_set_typing (alice->client, dm_id, TRUE);
  g_assert_true (ssq_test_wait_until (has_typing, bob, WAIT_MS));
  g_assert_true (g_str_has_suffix (bob->typing->pdata[0], ":1"));
  ssq_client_set_presence (alice->client, "away");
  g_assert_true (ssq_test_wait_until (has_presence_away, bob, WAIT_MS));

  /* A third joins a group and gets its history. */
  team = create_group (alice, "team", team_members);
  for (guint i = 0; i < 5; i++)
    {
      g_snprintf (body, sizeof body, "t%u", i);
      send_text (i % 2 ? bob : alice, ssq_conversation_get_id (team), body);
      wait_for_seq (alice, ssq_conversation_get_id (team), i + 1);
    }
  g_assert_null (ssq_cache_get_conversation (ssq_client_get_cache (carol->client),
                                             ssq_conversation_get_id (team)));
  ssq_client_add_member_async (alice->client, ssq_conversation_get_id (team), "carol", NULL, NULL,
                               ssq_test_store_result, &result);
  g_clear_object (&team);
  team = ssq_client_conversation_finish (alice->client, wait_result (&result), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (ssq_conversation_get_members (team)), ==, 3);
  wait_for_seq (carol, ssq_conversation_get_id (team), 5);
  assert_history (carol, ssq_conversation_get_id (team), "t", 5);
  g_assert_cmpuint (alice->errors->len + bob->errors->len + carol->errors->len, ==, 0);
}

static gboolean
last_presence_is (gpointer data)
{
  gpointer *args = data;
  TestClient *tc = args[0];

  return tc->presence->len > 0 &&
         g_str_has_suffix (tc->presence->pdata[tc->presence->len - 1], args[1]);
}

/* Presence turns away by itself after the idle time, and back with
 * activity; a status the user chose stays. */
static void
test_auto_away (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, NULL);
  g_autoptr(TestClient) alice = registered (server, "alice");
  g_autoptr(TestClient) bob = registered (server, "bob");
  g_autoptr(SsqConversation) dm = create_direct (alice, "bob");
  gpointer away[2] = { bob, (gpointer) ":away" };
  gpointer online[2] = { bob, (gpointer) ":online" };
  gpointer dnd[2] = { bob, (gpointer) ":dnd" };

  g_object_set (alice->client, "idle-timeout", 1, NULL);
  ssq_client_report_activity (alice->client);
  g_assert_true (ssq_test_wait_until (last_presence_is, away, WAIT_MS));
  g_assert_cmpstr (ssq_client_get_presence (alice->client), ==, "away");
  ssq_client_report_activity (alice->client);
  g_assert_true (ssq_test_wait_until (last_presence_is, online, WAIT_MS));
  ssq_client_set_presence (alice->client, "dnd");
  g_assert_true (ssq_test_wait_until (last_presence_is, dnd, WAIT_MS));
  ssq_test_wait_ms (1500);
  g_assert_cmpstr (ssq_client_get_presence (alice->client), ==, "dnd");
  g_assert_true (last_presence_is (dnd));
}

static gboolean
sent_and_delivered (gpointer data)
{
  TestClient **pair = data;
  g_autoptr(GPtrArray) all = NULL;

  if (!outbox_empty (pair[0]))
    return FALSE;
  all = ssq_cache_get_messages (ssq_client_get_cache (pair[1]->client),
                                g_object_get_data (G_OBJECT (pair[1]->client), "dm"), 0, 1000, NULL);
  return all->len >= 60;
}

/* The server is killed and restarted while a client keeps sending: every
 * message arrives exactly once and in order, and the outbox empties. */
static void
test_server_killed_while_sending (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, NULL);
  g_autoptr(TestClient) alice = registered (server, "alice");
  g_autoptr(TestClient) bob = registered (server, "bob");
  g_autoptr(SsqConversation) dm = create_direct (alice, "bob");
  const char *dm_id = ssq_conversation_get_id (dm);
  g_autoptr(JsonObject) history = NULL;
  g_autofree char *path = NULL;
  TestClient *pair[2] = { alice, bob };
  JsonArray *messages;
  char body[32];
  guint status;

  g_object_set_data_full (G_OBJECT (bob->client), "dm", g_strdup (dm_id), g_free);
  for (guint i = 0; i < 60; i++)
    {
      g_snprintf (body, sizeof body, "k%u", i);
      send_text (alice, dm_id, body);
      ssq_test_wait_ms (3);
      if (i == 20)
        ssq_test_server_kill (server);
      if (i == 40)
        ssq_test_server_restart (server);
    }
  g_assert_true (ssq_test_wait_until (sent_and_delivered, pair, 20000));
  assert_history (alice, dm_id, "k", 60);
  assert_history (bob, dm_id, "k", 60);

  /* The server holds each once, too. */
  path = g_strdup_printf ("/api/v1/conversations/%s/messages?limit=200", dm_id);
  history = ssq_test_http (server, "GET", path, ssq_client_get_token (bob->client), NULL, &status);
  g_assert_cmpuint (status, ==, 200);
  messages = json_object_get_array_member (history, "messages");
  g_assert_cmpuint (json_array_get_length (messages), ==, 60);
}

/* A client composes while the server is down, is restarted itself, and
 * delivers what it queued when the server is back. */
static void
test_outbox_survives_restart (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, NULL);
  TestClient *alice = registered (server, "alice");
  g_autoptr(TestClient) bob = registered (server, "bob");
  g_autoptr(SsqConversation) dm = create_direct (alice, "bob");
  g_autofree char *dm_id = g_strdup (ssq_conversation_get_id (dm));
  g_autofree char *dir = g_strdup (alice->dir);
  g_autofree char *user_id = g_strdup (ssq_client_get_user_id (alice->client));
  g_autofree char *token = g_strdup (ssq_client_get_token (alice->client));
  g_autoptr(SsqMessageList) pending = NULL;
  g_autoptr(TestClient) again = NULL;
  g_autoptr(GError) error = NULL;

  ssq_test_server_kill (server);
  send_text (alice, dm_id, "q0");
  send_text (alice, dm_id, "q1");
  send_text (alice, dm_id, "q2");
  test_client_free_full (alice, FALSE);

  /* The restarted client shows its pending messages before connecting. */
  again = test_client_new (server->url, dir);
  g_assert_true (ssq_client_set_session (again->client, "alice", user_id, token, &error));
  g_assert_no_error (error);
  pending = ssq_message_list_new (again->client, dm_id, 50);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (pending)), ==, 3);
  for (guint i = 0; i < 3; i++)
    {
      g_autoptr(SsqMessage) message = g_list_model_get_item (G_LIST_MODEL (pending), i);

      g_assert_cmpint (ssq_message_get_status (message), ==, SSQ_MESSAGE_PENDING);
    }

  ssq_test_server_restart (server);
  go_online (again);
  g_assert_true (ssq_test_wait_until (outbox_empty, again, WAIT_MS));
  wait_for_seq (bob, dm_id, 3);
  assert_history (bob, dm_id, "q", 3);
  for (guint i = 0; i < 3; i++)
    {
      g_autoptr(SsqMessage) message = g_list_model_get_item (G_LIST_MODEL (pending), i);

      g_assert_cmpint (ssq_message_get_seq (message), ==, i + 1);
    }
}

static gboolean
load_done (gpointer data)
{
  return *(gboolean *) data;
}

static void
older_loaded (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  guint added = ssq_message_list_load_older_finish (SSQ_MESSAGE_LIST (source), result, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (added, >, 0);
  *(gboolean *) user_data = TRUE;
}

/* A long conversation first seen is followed from its last sync-window
 * messages; paging fetches the rest from the server into the cache, and the
 * cache then serves it without the server. */
static void
test_history_paging_and_offline (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, NULL);
  g_autoptr(TestClient) alice = registered (server, "alice");
  const char *const members[] = { "bob", NULL };
  g_autoptr(TestClient) bob = NULL;
  g_autoptr(SsqConversation) group = NULL;
  g_autoptr(SsqMessageList) list = NULL;
  g_autoptr(SsqMessageList) offline = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) page = NULL;
  const char *group_id;
  gboolean complete = TRUE, loaded = FALSE;

  {
    g_autoptr(TestClient) b = registered (server, "bob");
  }
  group = create_group (alice, "long", members);
  group_id = ssq_conversation_get_id (group);
  for (guint i = 0; i < 300; i++)
    {
      g_autofree char *body = g_strdup_printf ("h%u", i);

      send_text (alice, group_id, body);
    }
  g_assert_true (ssq_test_wait_until (outbox_empty, alice, WAIT_MS * 3));

  /* bob on a new device, following 50 back. */
  bob = test_client_new (server->url, NULL);
  g_object_set (bob->client, "sync-window", 50, NULL);
  ssq_client_login_async (bob->client, "bob", "password123", NULL, ssq_test_store_result, &result);
  g_assert_true (ssq_client_login_finish (bob->client, wait_result (&result), &error));
  go_online (bob);
  g_assert_cmpint (ssq_cache_get_cursor (ssq_client_get_cache (bob->client), group_id), ==, 300);
  page = ssq_cache_get_messages (ssq_client_get_cache (bob->client), group_id, 0, 100, &complete);
  g_assert_cmpuint (page->len, ==, 50);
  g_assert_false (complete);

  list = ssq_message_list_new (bob->client, group_id, 50);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 50);
  g_assert_false (ssq_message_list_get_at_start (list));
  ssq_message_list_load_older_async (list, 100, NULL, older_loaded, &loaded);
  g_assert_true (ssq_test_wait_until (load_done, &loaded, WAIT_MS));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 150);
  for (guint i = 0; i < 150; i++)
    {
      g_autoptr(SsqMessage) message = g_list_model_get_item (G_LIST_MODEL (list), i);

      g_assert_cmpint (ssq_message_get_seq (message), ==, 151 + i);
    }

  /* Offline: the cache serves what it holds, at once. */
  ssq_test_server_kill (server);
  offline = ssq_message_list_new (bob->client, group_id, 200);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (offline)), ==, 150);
  g_clear_pointer (&page, g_ptr_array_unref);
  page = ssq_cache_get_messages (ssq_client_get_cache (bob->client), group_id, 201, 50, &complete);
  g_assert_true (complete);
  g_assert_cmpint (ssq_message_get_seq (page->pdata[0]), ==, 151);

  /* And reaching past it needs the server: a network error, no crash. */
  g_clear_object (&result);
  ssq_client_load_older_async (bob->client, group_id, 151, 50, NULL, ssq_test_store_result, &result);
  g_clear_pointer (&page, g_ptr_array_unref);
  page = ssq_client_load_older_finish (bob->client, wait_result (&result), &error);
  g_assert_null (page);
  g_assert_error (error, SSQ_ERROR, SSQ_ERROR_NETWORK);
}

typedef struct {
  GString *log;
} ChangeLog;

static void
items_changed_cb (GListModel *model,
                  guint       position,
                  guint       removed,
                  guint       added,
                  ChangeLog  *log)
{
  g_string_append_printf (log->log, "%u-%u+%u ", position, removed, added);
}

static gboolean
model_item_is (GListModel      *model,
               guint            position,
               SsqMessageStatus status)
{
  g_autoptr(SsqMessage) message = NULL;

  if (position >= g_list_model_get_n_items (model))
    return FALSE;
  message = g_list_model_get_item (model, position);
  return ssq_message_get_status (message) == status;
}

typedef struct {
  GListModel      *model;
  guint            position;
  SsqMessageStatus status;
} ItemIs;

static gboolean
item_is (gpointer data)
{
  ItemIs *is = data;

  return model_item_is (is->model, is->position, is->status);
}

static gboolean
log_has (gpointer data)
{
  gpointer *args = data;

  return strstr (((GString *) args[0])->str, args[1]) != NULL;
}

static void
wait_log (ChangeLog  *log,
          const char *expected)
{
  gpointer args[2] = { log->log, (gpointer) expected };

  if (!ssq_test_wait_until (log_has, args, WAIT_MS))
    g_error ("expected \"%s\" in \"%s\"", expected, log->log->str);
}

/* The models announce insertions, acks, edits, deletions and receipts as
 * exact items-changed signals. */
static void
test_model_signals (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, NULL);
  g_autoptr(TestClient) alice = registered (server, "alice");
  g_autoptr(TestClient) bob = registered (server, "bob");
  g_autoptr(TestClient) carol = registered (server, "carol");
  g_autoptr(SsqConversationList) conversations = ssq_conversation_list_new (alice->client);
  g_autoptr(SsqConversation) with_bob = create_direct (alice, "bob");
  g_autoptr(SsqConversation) with_carol = NULL;
  g_autoptr(SsqMessageList) messages = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(SsqMessage) edited = NULL;
  g_autoptr(SsqMessage) item = NULL;
  ChangeLog log = { g_string_new (NULL) };
  ChangeLog conv_log = { g_string_new (NULL) };
  const char *bob_id = ssq_conversation_get_id (with_bob);
  ItemIs sent = { NULL, 0, SSQ_MESSAGE_SENT };
  ItemIs read = { NULL, 0, SSQ_MESSAGE_READ };

  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (conversations)), ==, 1);
  messages = ssq_message_list_new (alice->client, bob_id, 50);
  sent.model = read.model = G_LIST_MODEL (messages);
  g_signal_connect (messages, "items-changed", G_CALLBACK (items_changed_cb), &log);
  g_signal_connect (conversations, "items-changed", G_CALLBACK (items_changed_cb), &conv_log);

  /* Sending: a pending item appended, replaced in place by the ack. */
  send_text (alice, bob_id, "first");
  g_assert_cmpstr (log.log->str, ==, "0-0+1 ");
  g_assert_true (model_item_is (G_LIST_MODEL (messages), 0, SSQ_MESSAGE_PENDING));
  g_assert_true (ssq_test_wait_until (item_is, &sent, WAIT_MS));
  g_assert_cmpstr (log.log->str, ==, "0-0+1 0-1+1 ");

  /* Someone else's message: an insertion at the end. */
  send_text (bob, bob_id, "second");
  wait_log (&log, "1-0+1 ");

  /* An edit and a deletion: replacements. */
  ssq_client_edit_message_async (alice->client, bob_id, 1, "first, edited", NULL, ssq_test_store_result, &result);
  edited = ssq_client_edit_message_finish (alice->client, wait_result (&result), &error);
  g_assert_no_error (error);
  g_assert_cmpint (ssq_message_get_edited_at (edited), >, 0);
  wait_log (&log, "1-0+1 0-1+1 ");
  item = g_list_model_get_item (G_LIST_MODEL (messages), 0);
  g_assert_cmpstr (ssq_message_get_body (item), ==, "first, edited");
  g_clear_object (&item);
  g_clear_object (&result);
  ssq_client_delete_message_async (alice->client, bob_id, 1, NULL, ssq_test_store_result, &result);
  g_assert_true (ssq_client_delete_message_finish (alice->client, wait_result (&result), &error));
  g_assert_no_error (error);
  wait_log (&log, "1-0+1 0-1+1 0-1+1 ");
  item = g_list_model_get_item (G_LIST_MODEL (messages), 0);
  g_assert_true (ssq_message_get_deleted (item));
  g_assert_cmpstr (ssq_message_get_body (item), ==, "");
  g_clear_object (&item);

  /* A read receipt: alice's message shows read, in place. */
  send_text (alice, bob_id, "third");
  sent.position = 2;
  g_assert_true (ssq_test_wait_until (item_is, &sent, WAIT_MS));
  wait_for_seq (bob, bob_id, 3);
  ssq_client_mark_read (bob->client, bob_id, 3);
  read.position = 2;
  g_assert_true (ssq_test_wait_until (item_is, &read, WAIT_MS));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (messages)), ==, 3);

  /* The conversation list: a new conversation goes on top; activity in an
   * older one moves it back up (a removal, then an insertion). */
  g_string_truncate (conv_log.log, 0);
  with_carol = create_direct (alice, "carol");
  wait_log (&conv_log, "0-0+1 ");
  g_assert_cmpint (ssq_conversation_list_find (conversations, ssq_conversation_get_id (with_carol)), ==, 0);
  ssq_test_wait_ms (5);
  g_string_truncate (conv_log.log, 0);
  send_text (bob, bob_id, "fourth");
  wait_log (&conv_log, "1-1+0 0-0+1 ");
  g_assert_cmpint (ssq_conversation_list_find (conversations, bob_id), ==, 0);

  g_string_free (log.log, TRUE);
  g_string_free (conv_log.log, TRUE);
}

typedef struct {
  TestClient *tc;
  const char *note;
} HasNote;

static gboolean
has_note (gpointer data)
{
  HasNote *has = data;

  for (guint i = 0; i < has->tc->notes->len; i++)
    if (g_str_equal (has->tc->notes->pdata[i], has->note))
      return TRUE;
  return FALSE;
}

static void
wait_for_note (TestClient *tc,
               const char *note)
{
  HasNote has = { tc, note };

  g_assert_true (ssq_test_wait_until (has_note, &has, WAIT_MS));
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return g_strcmp0 (*(const char *const *) a, *(const char *const *) b);
}

/* @tc got exactly the notifications in @expected (NULL-terminated), each
 * once, in any order. */
static void
assert_notes (TestClient        *tc,
              const char *const *expected)
{
  g_autoptr(GPtrArray) want = g_ptr_array_new ();
  g_autoptr(GPtrArray) got = g_ptr_array_new ();
  g_autofree char *want_text = NULL, *got_text = NULL;

  for (guint i = 0; expected[i] != NULL; i++)
    g_ptr_array_add (want, (gpointer) expected[i]);
  for (guint i = 0; i < tc->notes->len; i++)
    g_ptr_array_add (got, tc->notes->pdata[i]);
  g_ptr_array_sort (want, compare_strings);
  g_ptr_array_sort (got, compare_strings);
  g_ptr_array_add (want, NULL);
  g_ptr_array_add (got, NULL);
  want_text = g_strjoinv ("\n", (char **) want->pdata);
  got_text = g_strjoinv ("\n", (char **) got->pdata);
  g_assert_cmpstr (got_text, ==, want_text);
}

static char *
note (SsqConversation *conversation,
      gint64           seq,
      const char      *reason)
{
  return g_strdup_printf ("%s:%" G_GINT64_FORMAT ":%s", ssq_conversation_get_id (conversation),
                          seq, reason);
}

/* The client works out notifications from message events itself
 * (notifications=client): the server's rule, exactly once per message, and
 * none for edits, deletions, muted conversations, its own messages or
 * messages replayed by sync. A server that still sends notification frames
 * changes nothing: the client ignores them. */
static void
test_notifications (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, NULL);
  g_autoptr(TestClient) alice = registered (server, "alice");
  g_autoptr(TestClient) bob = registered (server, "bob");
  g_autoptr(TestClient) carol = registered (server, "carol");
  g_autoptr(TestClient) bob2 = NULL;
  const char *const team_members[] = { "bob", "carol", NULL };
  const char *const quiet_members[] = { "bob", NULL };
  g_autoptr(SsqConversation) team = create_group (alice, "team", team_members);
  g_autoptr(SsqConversation) quiet = create_group (alice, "quiet", quiet_members);
  g_autoptr(SsqConversation) dm = create_direct (alice, "bob");
  g_autoptr(SsqConversation) muted = NULL;
  g_autoptr(SsqMessage) edited = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  const char *team_id = ssq_conversation_get_id (team);
  g_autofree char *t1_group = note (team, 1, "group"), *t2_group = note (team, 2, "group");
  g_autofree char *t2_mention = note (team, 2, "mention"), *t3_mention = note (team, 3, "mention");
  g_autofree char *t4_group = note (team, 4, "group"), *t5_group = note (team, 5, "group");
  g_autofree char *t6_group = note (team, 6, "group"), *d1_direct = note (dm, 1, "direct");

  ssq_client_update_conversation_async (bob->client, ssq_conversation_get_id (quiet), NULL, 1,
                                        NULL, ssq_test_store_result, &result);
  muted = ssq_client_conversation_finish (bob->client, wait_result (&result), &error);
  g_assert_no_error (error);
  g_assert_true (ssq_conversation_get_muted (muted));
  g_clear_object (&result);

  /* Plain, mention, mention of two in other case and with a full stop,
   * and text that only looks like mentions. Waiting between senders keeps
   * the seqs as numbered. */
  send_text (alice, team_id, "hello team");
  send_text (alice, team_id, "@bob look");
  wait_for_seq (carol, team_id, 2);
  send_text (carol, team_id, "cc @BOB, @alice.");
  wait_for_seq (alice, team_id, 3);
  send_text (alice, team_id, "mail x@carol.example or @carolx");
  send_text (alice, ssq_conversation_get_id (dm), "hi @bob");
  send_text (alice, ssq_conversation_get_id (quiet), "psst @bob");
  wait_for_seq (bob, ssq_conversation_get_id (quiet), 1);
  wait_for_seq (carol, team_id, 4);

  /* An edit that now mentions carol, and a deletion: no notification. */
  ssq_client_edit_message_async (alice->client, team_id, 1, "hello @carol", NULL,
                                 ssq_test_store_result, &result);
  edited = ssq_client_edit_message_finish (alice->client, wait_result (&result), &error);
  g_assert_no_error (error);
  g_clear_object (&result);
  ssq_client_delete_message_async (carol->client, team_id, 3, NULL, ssq_test_store_result, &result);
  g_assert_true (ssq_client_delete_message_finish (carol->client, wait_result (&result), &error));
  g_assert_no_error (error);
  g_clear_object (&result);

  /* A message carol's client missed comes by sync when it is back: no
   * notification, as none was due while it was away. */
  ssq_client_disconnect (carol->client);
  send_text (alice, team_id, "while you were away, @carol");
  wait_for_note (bob, t5_group);
  go_online (carol);
  wait_for_seq (carol, team_id, 5);

  /* A new device's first sync replays everything: nothing to notify. */
  bob2 = test_client_new (server->url, NULL);
  ssq_client_login_async (bob2->client, "bob", "password123", NULL, ssq_test_store_result, &result);
  g_assert_true (ssq_client_login_finish (bob2->client, wait_result (&result), &error));
  g_assert_no_error (error);
  g_clear_object (&result);
  go_online (bob2);

  /* One more message reaches everyone online; once it has notified, every
   * earlier event has been handled (one connection keeps the order). */
  send_text (alice, team_id, "end");
  wait_for_note (bob, t6_group);
  wait_for_note (bob2, t6_group);
  wait_for_note (carol, t6_group);

  {
    const char *const for_alice[] = { t3_mention, NULL };
    const char *const for_bob[] = { t1_group, t2_mention, t3_mention, t4_group, d1_direct,
                                    t5_group, t6_group, NULL };
    const char *const for_bob2[] = { t6_group, NULL };
    const char *const for_carol[] = { t1_group, t2_group, t4_group, t6_group, NULL };

    /* alice's own message "end" needs no wait: she is the sender. */
    wait_for_seq (alice, team_id, 6);
    assert_notes (alice, for_alice);
    assert_notes (bob, for_bob);
    assert_notes (bob2, for_bob2);
    assert_notes (carol, for_carol);
  }
  g_assert_cmpuint (alice->errors->len, ==, 0);
  g_assert_cmpuint (bob->errors->len, ==, 0);
  g_assert_cmpuint (bob2->errors->len, ==, 0);
  g_assert_cmpuint (carol->errors->len, ==, 0);
}

/* A server that breaks the protocol: the client reports errors and goes on. */

static void
hostile_ws_cb (SoupServer              *server,
               SoupServerMessage       *msg,
               const char              *path,
               SoupWebsocketConnection *connection,
               gpointer                 user_data)
{
  static const char *const frames[] = {
    "{\"type\":\"welcome\",\"user\":{\"id\":\"u1\",\"username\":\"eve\"},\"session_id\":\"s\",\"server_time\":1}",
    "this is not json",
    "[1, 2, 3]",
    "{\"type\": 42}",
    "{\"type\":\"from-the-future\",\"x\":1}",
    "{\"type\":\"message\",\"message\":{\"seq\":\"one\"}}",
    "{\"type\":\"message\",\"message\":{\"id\":\"m\",\"conversation_id\":\"c\",\"seq\":-5,\"sender\":\"u2\"}}",
    "{\"type\":\"conversation\",\"conversation\":{\"id\":5}}",
    "{\"type\":\"conversation\",\"conversation\":{\"id\":\"c\",\"kind\":\"group\",\"members\":[1,2]}}",
    "{\"type\":\"receipt\"}",
    "{\"type\":\"typing\",\"conversation_id\":\"c\",\"user\":\"u2\",\"active\":\"yes\"}",
    "{\"type\":\"presence\",\"user\":7}",
    "{\"type\":\"ack\",\"id\":999999}",
    "{\"type\":\"error\",\"code\":\"invalid\",\"message\":\"no id\"}",
    "{\"type\":\"notification\",\"conversation_id\":\"c\"}",
  };

  g_object_set_data_full (G_OBJECT (server), "ws", g_object_ref (connection), g_object_unref);
  /* What the client asked for when it opened the WebSocket. */
  g_object_set_data_full (G_OBJECT (server), "ws-query",
                          g_strdup (g_uri_get_query (soup_server_message_get_uri (msg))), g_free);
  for (guint i = 0; i < G_N_ELEMENTS (frames); i++)
    soup_websocket_connection_send_text (connection, frames[i]);
  soup_websocket_connection_send_binary (connection, "\x01\x02", 2);
}

static void
hostile_http_cb (SoupServer        *server,
                 SoupServerMessage *msg,
                 const char        *path,
                 GHashTable        *query,
                 gpointer           user_data)
{
  if (g_str_has_suffix (path, "/login"))
    soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_STATIC, "{}", 2);
  else if (g_str_has_suffix (path, "/users"))
    {
      soup_server_message_set_status (msg, 500, NULL);
      soup_server_message_set_response (msg, "text/html", SOUP_MEMORY_STATIC, "<h1>oops", 8);
    }
  else
    soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_STATIC, "{\"conv", 6);
  soup_server_message_set_status (msg, soup_server_message_get_status (msg) == 500 ? 500 : 200, NULL);
}

static gboolean
enough_errors (gpointer data)
{
  return ((TestClient *) data)->errors->len >= 13;
}

static void
test_hostile_server (void)
{
  g_autoptr(SoupServer) fake = soup_server_new (NULL, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(TestClient) tc = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GPtrArray) users = NULL;
  g_autoptr(GPtrArray) conversations = NULL;
  g_autofree char *url = NULL;
  GSList *uris;

  soup_server_add_websocket_handler (fake, "/api/v1/ws", NULL, NULL, hostile_ws_cb, NULL, NULL);
  soup_server_add_handler (fake, "/api", hostile_http_cb, NULL, NULL);
  g_assert_true (soup_server_listen_local (fake, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error));
  uris = soup_server_get_uris (fake);
  url = g_strdup_printf ("http://127.0.0.1:%d", g_uri_get_port (uris->data));
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);

  tc = test_client_new (url, NULL);
  ssq_client_login_async (tc->client, "eve", "password123", NULL, ssq_test_store_result, &result);
  g_assert_false (ssq_client_login_finish (tc->client, wait_result (&result), &error));
  g_assert_error (error, SSQ_ERROR, SSQ_ERROR_PROTOCOL);
  g_clear_error (&error);

  g_assert_true (ssq_client_set_session (tc->client, "eve", "u1", "token", &error));
  ssq_client_connect (tc->client);
  g_assert_true (ssq_test_wait_until (enough_errors, tc, WAIT_MS));
  g_assert_cmpint (ssq_client_get_state (tc->client), ==, SSQ_CLIENT_ONLINE);
  /* The client derives notifications, so asks the server for no frames. */
  g_assert_cmpstr (g_object_get_data (G_OBJECT (fake), "ws-query"), ==, "notifications=client");
  for (guint i = 0; i < tc->errors->len; i++)
    g_assert_true (((GError *) tc->errors->pdata[i])->domain == SSQ_ERROR);

  g_clear_object (&result);
  ssq_client_search_users_async (tc->client, "a", 10, NULL, ssq_test_store_result, &result);
  users = ssq_client_search_users_finish (tc->client, wait_result (&result), &error);
  g_assert_null (users);
  g_assert_error (error, SSQ_ERROR, SSQ_ERROR_INTERNAL);
  g_clear_error (&error);
  g_clear_object (&result);
  ssq_client_fetch_conversations_async (tc->client, NULL, ssq_test_store_result, &result);
  conversations = ssq_client_fetch_conversations_finish (tc->client, wait_result (&result), &error);
  g_assert_null (conversations);
  g_assert_error (error, SSQ_ERROR, SSQ_ERROR_PROTOCOL);

  /* Let both ends close their connections before the server goes. */
  g_clear_pointer (&tc, test_client_free);
  g_object_set_data (G_OBJECT (fake), "ws", NULL);
  ssq_test_wait_ms (100);
  soup_server_disconnect (fake);
}

static gboolean
has_error (gpointer data)
{
  return ((TestClient *) data)->errors->len > 0;
}

typedef struct {
  TestClient *tc;
  const char *client_id;
} Failed;

static gboolean
entry_failed (gpointer data)
{
  Failed *f = data;
  g_autoptr(SsqMessage) entry = ssq_cache_outbox_get (ssq_client_get_cache (f->tc->client), f->client_id);

  return entry != NULL && ssq_message_get_status (entry) == SSQ_MESSAGE_FAILED;
}

/* A message the server refuses for good stays in the outbox, marked failed
 * and not blocking what follows, until the user retries or discards it. */
static void
test_refused_message (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, NULL);
  g_autoptr(TestClient) alice = registered (server, "alice");
  g_autoptr(TestClient) bob = registered (server, "bob");
  g_autoptr(SsqConversation) dm = create_direct (alice, "bob");
  g_autoptr(SsqMessage) lost = NULL;
  g_autoptr(GError) error = NULL;
  Failed failed = { alice, NULL };

  lost = ssq_client_send_message (alice->client, "c000000000000000000000000", "into the void", 0, &error);
  g_assert_no_error (error);
  failed.client_id = ssq_message_get_client_id (lost);
  g_assert_true (ssq_test_wait_until (entry_failed, &failed, WAIT_MS));
  g_assert_error ((GError *) alice->errors->pdata[0], SSQ_ERROR, SSQ_ERROR_NOT_FOUND);

  send_text (alice, ssq_conversation_get_id (dm), "after it");
  wait_for_seq (bob, ssq_conversation_get_id (dm), 1);
  g_assert_cmpuint (ssq_cache_outbox_count (ssq_client_get_cache (alice->client)), ==, 1);

  g_assert_true (ssq_client_retry_message (alice->client, failed.client_id, &error));
  g_assert_true (ssq_test_wait_until (entry_failed, &failed, WAIT_MS));
  g_assert_true (ssq_client_discard_message (alice->client, failed.client_id, &error));
  g_assert_true (outbox_empty (alice));
  g_assert_false (ssq_client_discard_message (alice->client, failed.client_id, &error));
  g_assert_error (error, SSQ_ERROR, SSQ_ERROR_NOT_FOUND);
}

/* A revoked session stops the client from retrying and says why. */
static void
test_revoked_session (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, NULL);
  g_autoptr(TestClient) alice = registered (server, "alice");
  g_autoptr(TestClient) other = test_client_new (server->url, NULL);
  g_autoptr(GError) error = NULL;
  guint status;

  g_assert_true (ssq_client_set_session (other->client, "alice", NULL,
                                         ssq_client_get_token (alice->client), &error));
  g_assert_null (ssq_test_http (server, "POST", "/api/v1/logout",
                                ssq_client_get_token (alice->client), NULL, &status));
  g_assert_cmpuint (status, ==, 204);
  ssq_client_connect (other->client);
  g_assert_true (ssq_test_wait_until (has_error, other, WAIT_MS));
  g_assert_error ((GError *) other->errors->pdata[0], SSQ_ERROR, SSQ_ERROR_UNAUTHORIZED);
  g_assert_cmpint (ssq_client_get_state (other->client), ==, SSQ_CLIENT_DISCONNECTED);
}

int
main (int    argc,
      char **argv)
{
  /* Every client gets its own data directory; no XDG isolation needed. */
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/client/converse", test_converse);
  g_test_add_func ("/client/notifications", test_notifications);
  g_test_add_func ("/client/auto-away", test_auto_away);
  g_test_add_func ("/client/server-killed-while-sending", test_server_killed_while_sending);
  g_test_add_func ("/client/outbox-survives-restart", test_outbox_survives_restart);
  g_test_add_func ("/client/history-paging-and-offline", test_history_paging_and_offline);
  g_test_add_func ("/client/model-signals", test_model_signals);
  g_test_add_func ("/client/hostile-server", test_hostile_server);
  g_test_add_func ("/client/refused-message", test_refused_message);
  g_test_add_func ("/client/revoked-session", test_revoked_session);
  return g_test_run ();
}
