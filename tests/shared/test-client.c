/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-client.c: SsqClient, its cache and models against the real server
 * binary on loopback: conversations, presence, delivery through restarts,
 * history, model signals, refused messages and revoked sessions. */
#include "ssq-conversation-list.h"
#include "ssq-message-list.h"
#include "ssq-proto.h"
#include "ssq-test-client.h"
#include "ssq-test-raw.h"

#include <string.h>

static gboolean
outbox_empty (gpointer data)
{
  return ssq_cache_outbox_count (ssq_client_get_cache (((SsqTestClient *) data)->client)) == 0;
}

/* Every seq from 1 to @n is in @tc's cache exactly once, with the bodies
 * "<prefix><i>" in order. */
static void
assert_history (SsqTestClient *tc,
                const char    *conversation_id,
                const char    *prefix,
                guint          n)
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
  return ((SsqTestClient *) data)->typing->len > 0;
}

static gboolean
has_presence_away (gpointer data)
{
  SsqTestClient *tc = data;

  for (guint i = 0; i < tc->presence->len; i++)
    if (g_str_has_suffix (tc->presence->pdata[i], ":away"))
      return TRUE;
  return FALSE;
}

static gboolean
has_notification (gpointer data)
{
  return ((SsqTestClient *) data)->notifications > 0;
}

/* Two clients converse; another device, typing, presence and a group
 * joined later all see the same history. */
static void
test_converse (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, NULL);
  g_autoptr(SsqTestClient) alice = ssq_test_client_new_registered (server, "alice");
  g_autoptr(SsqTestClient) bob = ssq_test_client_new_registered (server, "bob");
  g_autoptr(SsqTestClient) carol = ssq_test_client_new_registered (server, "carol");
  g_autoptr(SsqConversation) dm = ssq_test_client_create_direct (alice, "bob");
  const char *dm_id = ssq_conversation_get_id (dm);
  const char *const team_members[] = { "bob", NULL };
  g_autoptr(SsqConversation) team = NULL;
  g_autoptr(SsqConversation) seen = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  char body[32];

  /* Two clients converse, and the sender sees the receipts. */
  ssq_test_client_send_text (alice, dm_id, "m0");
  ssq_test_client_send_text (alice, dm_id, "m1");
  ssq_test_client_wait_for_seq (bob, dm_id, 2);
  /* bob's client says it has them: delivered, not yet read. */
  ssq_test_client_wait_for_status (alice, dm_id, 2, SSQ_MESSAGE_DELIVERED);
  seen = ssq_cache_get_conversation (ssq_client_get_cache (bob->client), dm_id);
  g_assert_cmpint (ssq_conversation_get_unread (seen), ==, 2);
  ssq_client_mark_read (bob->client, dm_id, 2);
  g_clear_object (&seen);
  seen = ssq_cache_get_conversation (ssq_client_get_cache (bob->client), dm_id);
  g_assert_cmpint (ssq_conversation_get_unread (seen), ==, 0);
  ssq_test_client_wait_for_status (alice, dm_id, 2, SSQ_MESSAGE_READ);
  ssq_test_client_send_text (bob, dm_id, "m2");
  ssq_test_client_wait_for_seq (alice, dm_id, 3);
  assert_history (alice, dm_id, "m", 3);
  assert_history (bob, dm_id, "m", 3);
  g_clear_object (&seen);
  seen = ssq_cache_get_conversation (ssq_client_get_cache (alice->client), dm_id);
  g_assert_cmpint (ssq_conversation_get_unread (seen), ==, 1);
  g_assert_true (ssq_test_wait_until (has_notification, alice, SSQ_TEST_CLIENT_WAIT_MS));
  g_assert_cmpuint (alice->notifications, ==, 1);
  g_assert_cmpuint (bob->notifications, ==, 2);

  /* Another device of alice's learns of the read state by syncing. */
  {
    g_autoptr(SsqTestClient) alice2 = ssq_test_client_new (server->url, NULL);

    ssq_test_client_log_in (alice2, "alice");
    ssq_test_client_go_online (alice2);
    g_assert_true (ssq_test_client_has_status (alice2, dm_id, 2, SSQ_MESSAGE_READ));
  }

  /* Typing and presence reach the other side. */
  ssq_client_set_typing (alice->client, dm_id, TRUE);
  g_assert_true (ssq_test_wait_until (has_typing, bob, SSQ_TEST_CLIENT_WAIT_MS));
  g_assert_true (g_str_has_suffix (bob->typing->pdata[0], ":1"));
  ssq_client_set_presence (alice->client, "away");
  g_assert_true (ssq_test_wait_until (has_presence_away, bob, SSQ_TEST_CLIENT_WAIT_MS));

  /* A third joins a group and gets its history. */
  team = ssq_test_client_create_group (alice, "team", team_members);
  for (guint i = 0; i < 5; i++)
    {
      g_snprintf (body, sizeof body, "t%u", i);
      ssq_test_client_send_text (i % 2 ? bob : alice, ssq_conversation_get_id (team), body);
      ssq_test_client_wait_for_seq (alice, ssq_conversation_get_id (team), i + 1);
    }
  g_assert_null (ssq_cache_get_conversation (ssq_client_get_cache (carol->client),
                                             ssq_conversation_get_id (team)));
  ssq_client_add_member_async (alice->client, ssq_conversation_get_id (team), "carol", NULL, NULL,
                               ssq_test_store_result, &result);
  g_clear_object (&team);
  team = ssq_client_conversation_finish (alice->client, ssq_test_client_wait_result (&result), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (ssq_conversation_get_members (team)), ==, 3);
  ssq_test_client_wait_for_seq (carol, ssq_conversation_get_id (team), 5);
  assert_history (carol, ssq_conversation_get_id (team), "t", 5);
  g_assert_cmpuint (alice->errors->len + bob->errors->len + carol->errors->len, ==, 0);
}

static gboolean
last_presence_is (gpointer data)
{
  gpointer *args = data;
  SsqTestClient *tc = args[0];

  return tc->presence->len > 0 &&
         g_str_has_suffix (tc->presence->pdata[tc->presence->len - 1], args[1]);
}

/* Presence turns away by itself after the idle time, and back with
 * activity; a status the user chose stays. */
static void
test_auto_away (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, NULL);
  g_autoptr(SsqTestClient) alice = ssq_test_client_new_registered (server, "alice");
  g_autoptr(SsqTestClient) bob = ssq_test_client_new_registered (server, "bob");
  g_autoptr(SsqConversation) dm = ssq_test_client_create_direct (alice, "bob");
  gpointer away[2] = { bob, (gpointer) ":away" };
  gpointer online[2] = { bob, (gpointer) ":online" };
  gpointer dnd[2] = { bob, (gpointer) ":dnd" };

  /* Longer than the server's presence window (2 s, last state wins): with
   * 1 s, "online" after activity turned "away" again before it was relayed. */
  g_object_set (alice->client, "idle-timeout", 3, NULL);
  ssq_client_report_activity (alice->client);
  g_assert_true (ssq_test_wait_until (last_presence_is, away, SSQ_TEST_CLIENT_WAIT_MS));
  g_assert_cmpstr (ssq_client_get_presence (alice->client), ==, "away");
  ssq_client_report_activity (alice->client);
  g_assert_true (ssq_test_wait_until (last_presence_is, online, SSQ_TEST_CLIENT_WAIT_MS));
  ssq_client_set_presence (alice->client, "dnd");
  g_assert_true (ssq_test_wait_until (last_presence_is, dnd, SSQ_TEST_CLIENT_WAIT_MS));
  ssq_test_wait_ms (1500);
  g_assert_cmpstr (ssq_client_get_presence (alice->client), ==, "dnd");
  g_assert_true (last_presence_is (dnd));
}

static gboolean
sent_and_delivered (gpointer data)
{
  SsqTestClient **pair = data;
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
  g_autoptr(SsqTestClient) alice = ssq_test_client_new_registered (server, "alice");
  g_autoptr(SsqTestClient) bob = ssq_test_client_new_registered (server, "bob");
  g_autoptr(SsqConversation) dm = ssq_test_client_create_direct (alice, "bob");
  const char *dm_id = ssq_conversation_get_id (dm);
  g_autoptr(JsonObject) history = NULL;
  g_autofree char *path = NULL;
  SsqTestClient *pair[2] = { alice, bob };
  JsonArray *messages;
  char body[32];
  guint status;

  g_object_set_data_full (G_OBJECT (bob->client), "dm", g_strdup (dm_id), g_free);
  for (guint i = 0; i < 60; i++)
    {
      g_snprintf (body, sizeof body, "k%u", i);
      ssq_test_client_send_text (alice, dm_id, body);
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
  SsqTestClient *alice = ssq_test_client_new_registered (server, "alice");
  g_autoptr(SsqTestClient) bob = ssq_test_client_new_registered (server, "bob");
  g_autoptr(SsqConversation) dm = ssq_test_client_create_direct (alice, "bob");
  g_autofree char *dm_id = g_strdup (ssq_conversation_get_id (dm));
  g_autofree char *dir = g_strdup (alice->dir);
  g_autofree char *user_id = g_strdup (ssq_client_get_user_id (alice->client));
  g_autofree char *token = g_strdup (ssq_client_get_token (alice->client));
  g_autoptr(SsqMessageList) pending = NULL;
  g_autoptr(SsqTestClient) again = NULL;
  g_autoptr(GError) error = NULL;

  ssq_test_server_kill (server);
  ssq_test_client_send_text (alice, dm_id, "q0");
  ssq_test_client_send_text (alice, dm_id, "q1");
  ssq_test_client_send_text (alice, dm_id, "q2");
  ssq_test_client_free_full (alice, FALSE);

  /* The restarted client shows its pending messages before connecting. */
  again = ssq_test_client_new (server->url, dir);
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
  ssq_test_client_go_online (again);
  g_assert_true (ssq_test_wait_until (outbox_empty, again, SSQ_TEST_CLIENT_WAIT_MS));
  ssq_test_client_wait_for_seq (bob, dm_id, 3);
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
  g_autoptr(SsqTestClient) alice = ssq_test_client_new_registered (server, "alice");
  const char *const members[] = { "bob", NULL };
  g_autoptr(SsqTestClient) bob = NULL;
  g_autoptr(SsqConversation) group = NULL;
  g_autoptr(SsqMessageList) list = NULL;
  g_autoptr(SsqMessageList) offline = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) page = NULL;
  const char *group_id;
  gboolean complete = TRUE, loaded = FALSE;

  {
    g_autoptr(SsqTestClient) b = ssq_test_client_new_registered (server, "bob");
  }
  group = ssq_test_client_create_group (alice, "long", members);
  group_id = ssq_conversation_get_id (group);
  for (guint i = 0; i < 300; i++)
    {
      g_autofree char *body = g_strdup_printf ("h%u", i);

      ssq_test_client_send_text (alice, group_id, body);
    }
  g_assert_true (ssq_test_wait_until (outbox_empty, alice, SSQ_TEST_CLIENT_WAIT_MS * 3));

  /* bob on a new device, following 50 back. */
  bob = ssq_test_client_new (server->url, NULL);
  g_object_set (bob->client, "sync-window", 50, NULL);
  ssq_test_client_log_in (bob, "bob");
  ssq_test_client_go_online (bob);
  g_assert_cmpint (ssq_cache_get_cursor (ssq_client_get_cache (bob->client), group_id), ==, 300);
  page = ssq_cache_get_messages (ssq_client_get_cache (bob->client), group_id, 0, 100, &complete);
  g_assert_cmpuint (page->len, ==, 50);
  g_assert_false (complete);

  list = ssq_message_list_new (bob->client, group_id, 50);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 50);
  g_assert_false (ssq_message_list_get_at_start (list));
  ssq_message_list_load_older_async (list, 100, NULL, older_loaded, &loaded);
  g_assert_true (ssq_test_wait_until (load_done, &loaded, SSQ_TEST_CLIENT_WAIT_MS));
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
  ssq_client_load_older_async (bob->client, group_id, 151, 50, NULL, ssq_test_store_result, &result);
  g_clear_pointer (&page, g_ptr_array_unref);
  page = ssq_client_load_older_finish (bob->client, ssq_test_client_wait_result (&result), &error);
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

  if (!ssq_test_wait_until (log_has, args, SSQ_TEST_CLIENT_WAIT_MS))
    g_error ("expected \"%s\" in \"%s\"", expected, log->log->str);
}

/* The models announce insertions, acks, edits, deletions and receipts as
 * exact items-changed signals. */
static void
test_model_signals (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, NULL);
  g_autoptr(SsqTestClient) alice = ssq_test_client_new_registered (server, "alice");
  g_autoptr(SsqTestClient) bob = ssq_test_client_new_registered (server, "bob");
  g_autoptr(SsqTestClient) carol = ssq_test_client_new_registered (server, "carol");
  g_autoptr(SsqConversationList) conversations = ssq_conversation_list_new (alice->client);
  g_autoptr(SsqConversation) with_bob = ssq_test_client_create_direct (alice, "bob");
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
  ssq_test_client_send_text (alice, bob_id, "first");
  g_assert_cmpstr (log.log->str, ==, "0-0+1 ");
  g_assert_true (model_item_is (G_LIST_MODEL (messages), 0, SSQ_MESSAGE_PENDING));
  g_assert_true (ssq_test_wait_until (item_is, &sent, SSQ_TEST_CLIENT_WAIT_MS));
  g_assert_cmpstr (log.log->str, ==, "0-0+1 0-1+1 ");

  /* Someone else's message: an insertion at the end. */
  ssq_test_client_send_text (bob, bob_id, "second");
  wait_log (&log, "1-0+1 ");

  /* An edit and a deletion: replacements. */
  ssq_client_edit_message_async (alice->client, bob_id, 1, "first, edited", NULL, ssq_test_store_result, &result);
  edited = ssq_client_edit_message_finish (alice->client, ssq_test_client_wait_result (&result), &error);
  g_assert_no_error (error);
  g_assert_cmpint (ssq_message_get_edited_at (edited), >, 0);
  wait_log (&log, "1-0+1 0-1+1 ");
  item = g_list_model_get_item (G_LIST_MODEL (messages), 0);
  g_assert_cmpstr (ssq_message_get_body (item), ==, "first, edited");
  g_clear_object (&item);
  g_clear_object (&result);
  ssq_client_delete_message_async (alice->client, bob_id, 1, NULL, ssq_test_store_result, &result);
  g_assert_true (ssq_client_delete_message_finish (alice->client, ssq_test_client_wait_result (&result), &error));
  g_assert_no_error (error);
  wait_log (&log, "1-0+1 0-1+1 0-1+1 ");
  item = g_list_model_get_item (G_LIST_MODEL (messages), 0);
  g_assert_true (ssq_message_get_deleted (item));
  g_assert_cmpstr (ssq_message_get_body (item), ==, "");
  g_clear_object (&item);

  /* A read receipt: alice's message shows read, in place. */
  ssq_test_client_send_text (alice, bob_id, "third");
  sent.position = 2;
  g_assert_true (ssq_test_wait_until (item_is, &sent, SSQ_TEST_CLIENT_WAIT_MS));
  ssq_test_client_wait_for_seq (bob, bob_id, 3);
  ssq_client_mark_read (bob->client, bob_id, 3);
  read.position = 2;
  g_assert_true (ssq_test_wait_until (item_is, &read, SSQ_TEST_CLIENT_WAIT_MS));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (messages)), ==, 3);

  /* The conversation list: a new conversation goes on top; activity in an
   * older one moves it back up (a removal, then an insertion). */
  g_string_truncate (conv_log.log, 0);
  with_carol = ssq_test_client_create_direct (alice, "carol");
  wait_log (&conv_log, "0-0+1 ");
  g_assert_cmpint (ssq_conversation_list_find (conversations, ssq_conversation_get_id (with_carol)), ==, 0);
  ssq_test_wait_ms (5);
  g_string_truncate (conv_log.log, 0);
  ssq_test_client_send_text (bob, bob_id, "fourth");
  wait_log (&conv_log, "1-1+0 0-0+1 ");
  g_assert_cmpint (ssq_conversation_list_find (conversations, bob_id), ==, 0);

  g_string_free (log.log, TRUE);
  g_string_free (conv_log.log, TRUE);
}

typedef struct {
  SsqTestClient *tc;
  const char    *client_id;
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
  g_autoptr(SsqTestClient) alice = ssq_test_client_new_registered (server, "alice");
  g_autoptr(SsqTestClient) bob = ssq_test_client_new_registered (server, "bob");
  g_autoptr(SsqConversation) dm = ssq_test_client_create_direct (alice, "bob");
  g_autoptr(SsqMessage) lost = NULL;
  g_autoptr(GError) error = NULL;
  Failed failed = { alice, NULL };

  lost = ssq_client_send_message (alice->client, "c000000000000000000000000", "into the void", 0, &error);
  g_assert_no_error (error);
  failed.client_id = ssq_message_get_client_id (lost);
  g_assert_true (ssq_test_wait_until (entry_failed, &failed, SSQ_TEST_CLIENT_WAIT_MS));
  g_assert_error ((GError *) alice->errors->pdata[0], SSQ_ERROR, SSQ_ERROR_NOT_FOUND);

  ssq_test_client_send_text (alice, ssq_conversation_get_id (dm), "after it");
  ssq_test_client_wait_for_seq (bob, ssq_conversation_get_id (dm), 1);
  g_assert_cmpuint (ssq_cache_outbox_count (ssq_client_get_cache (alice->client)), ==, 1);

  g_assert_true (ssq_client_retry_message (alice->client, failed.client_id, &error));
  g_assert_true (ssq_test_wait_until (entry_failed, &failed, SSQ_TEST_CLIENT_WAIT_MS));
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
  g_autoptr(SsqTestClient) alice = ssq_test_client_new_registered (server, "alice");
  g_autoptr(SsqTestClient) other = ssq_test_client_new (server->url, NULL);
  g_autoptr(GError) error = NULL;
  guint status;

  g_assert_true (ssq_client_set_session (other->client, "alice", NULL,
                                         ssq_client_get_token (alice->client), &error));
  g_assert_null (ssq_test_http (server, "POST", "/api/v1/logout",
                                ssq_client_get_token (alice->client), NULL, &status));
  g_assert_cmpuint (status, ==, 204);
  ssq_client_connect (other->client);
  ssq_test_client_wait_for_errors (other, 1);
  g_assert_error ((GError *) other->errors->pdata[0], SSQ_ERROR, SSQ_ERROR_UNAUTHORIZED);
  g_assert_cmpint (ssq_client_get_state (other->client), ==, SSQ_CLIENT_DISCONNECTED);
}

static SsqMessage *
cached_message (SsqTestClient *tc,
                const char    *conversation_id,
                gint64         seq)
{
  return ssq_cache_get_message (ssq_client_get_cache (tc->client), conversation_id, seq);
}

static guint
search_count (SsqTestClient *tc,
              const char    *text)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) found = ssq_client_search (tc->client, text, NULL, 50, &error);

  g_assert_no_error (error);
  return found->len;
}

static gint64
cached_unread (SsqTestClient *tc,
               const char    *conversation_id)
{
  g_autoptr(SsqConversation) conversation =
    ssq_cache_get_conversation (ssq_client_get_cache (tc->client), conversation_id);

  return ssq_conversation_get_unread (conversation);
}

typedef struct {
  SsqTestClient *tc;
  const char    *conversation_id;
  gint64         seq;
  const char    *body;
} BodyWait;

static gboolean
has_body (gpointer data)
{
  BodyWait *w = data;
  g_autoptr(SsqMessage) m = cached_message (w->tc, w->conversation_id, w->seq);

  return m != NULL && g_strcmp0 (ssq_message_get_body (m), w->body) == 0;
}

static void
edit_message (SsqTestClient *tc,
              const char    *conversation_id,
              gint64         seq,
              const char    *body)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(SsqMessage) edited = NULL;

  ssq_client_edit_message_async (tc->client, conversation_id, seq, body, NULL,
                                 ssq_test_store_result, &result);
  edited = ssq_client_edit_message_finish (tc->client, ssq_test_client_wait_result (&result), &error);
  g_assert_no_error (error);
}

static void
delete_message (SsqTestClient *tc,
                const char    *conversation_id,
                gint64         seq)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  ssq_client_delete_message_async (tc->client, conversation_id, seq, NULL,
                                   ssq_test_store_result, &result);
  g_assert_true (ssq_client_delete_message_finish (tc->client, ssq_test_client_wait_result (&result),
                                                   &error));
  g_assert_no_error (error);
}

/* A device that was offline while a message was edited and another deleted
 * learns both when it syncs: the new text, the tombstone, and search no
 * longer finds the deleted words. A live edit then moves its change cursor. */
static void
test_offline_edits_and_deletions (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, NULL);
  g_autoptr(SsqTestClient) alice = ssq_test_client_new_registered (server, "alice");
  g_autoptr(SsqTestClient) bob = ssq_test_client_new_registered (server, "bob");
  g_autoptr(SsqConversation) dm = ssq_test_client_create_direct (alice, "bob");
  const char *dm_id = ssq_conversation_get_id (dm);
  g_autoptr(SsqMessage) first = NULL;
  g_autoptr(SsqMessage) second = NULL;
  SsqCache *cache = ssq_client_get_cache (bob->client);
  BodyWait live = { bob, dm_id, 3, "third, edited live" };

  ssq_test_client_send_text (alice, dm_id, "hello world");
  ssq_test_client_send_text (alice, dm_id, "secret pineapple");
  ssq_test_client_send_text (alice, dm_id, "third");
  ssq_test_client_wait_for_seq (bob, dm_id, 3);
  g_assert_cmpuint (search_count (bob, "pineapple"), ==, 1);

  /* bob's device goes offline; alice edits one message, deletes another. */
  ssq_client_disconnect (bob->client);
  edit_message (alice, dm_id, 1, "hello edited world");
  delete_message (alice, dm_id, 2);

  bob->synced = 0;
  ssq_test_client_go_online (bob);
  first = cached_message (bob, dm_id, 1);
  second = cached_message (bob, dm_id, 2);
  g_assert_cmpstr (ssq_message_get_body (first), ==, "hello edited world");
  g_assert_cmpint (ssq_message_get_edited_at (first), >, 0);
  g_assert_true (ssq_message_get_deleted (second));
  g_assert_cmpstr (ssq_message_get_body (second), ==, "");
  g_assert_cmpuint (search_count (bob, "pineapple"), ==, 0);
  g_assert_cmpuint (search_count (bob, "secret"), ==, 0);
  g_assert_cmpuint (search_count (bob, "edited"), ==, 1);
  /* Two changes, both held. */
  g_assert_cmpint (ssq_cache_get_rev_cursor (cache, dm_id), ==, 2);

  /* Online, an edit arrives live and moves the cursor on. */
  edit_message (alice, dm_id, 3, "third, edited live");
  g_assert_true (ssq_test_wait_until (has_body, &live, SSQ_TEST_CLIENT_WAIT_MS));
  g_assert_cmpint (ssq_cache_get_rev_cursor (cache, dm_id), ==, 3);
}

/* After a sync the unread counts are the server's: the messages a sync
 * replays are not counted on top of the count that came with their
 * conversation, nor a deletion the count already left out. */
static void
test_unread_after_sync (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, NULL);
  g_autoptr(SsqTestClient) alice = ssq_test_client_new_registered (server, "alice");
  g_autoptr(SsqTestClient) bob = ssq_test_client_new_registered (server, "bob");
  g_autoptr(SsqConversation) dm = ssq_test_client_create_direct (alice, "bob");
  const char *dm_id = ssq_conversation_get_id (dm);

  ssq_test_client_send_text (alice, dm_id, "one");
  ssq_test_client_wait_for_seq (bob, dm_id, 1);
  g_assert_cmpint (cached_unread (bob, dm_id), ==, 1);

  /* Offline, two more come; the server counts 3. */
  ssq_client_disconnect (bob->client);
  ssq_test_client_send_text (alice, dm_id, "two");
  ssq_test_client_send_text (alice, dm_id, "three");
  g_assert_true (ssq_test_wait_until (outbox_empty, alice, SSQ_TEST_CLIENT_WAIT_MS));
  ssq_test_client_go_online (bob);
  g_assert_cmpint (cached_unread (bob, dm_id), ==, 3);

  /* A new device: everything comes by sync; the server still counts 3. */
  {
    g_autoptr(SsqTestClient) bob2 = ssq_test_client_new (server->url, NULL);

    ssq_test_client_log_in (bob2, "bob");
    ssq_test_client_go_online (bob2);
    g_assert_cmpint (cached_unread (bob2, dm_id), ==, 3);
  }

  /* Offline, one is deleted and one more comes: the server counts 3. */
  ssq_client_disconnect (bob->client);
  delete_message (alice, dm_id, 2);
  ssq_test_client_send_text (alice, dm_id, "four");
  g_assert_true (ssq_test_wait_until (outbox_empty, alice, SSQ_TEST_CLIENT_WAIT_MS));
  ssq_test_client_go_online (bob);
  g_assert_cmpint (cached_unread (bob, dm_id), ==, 3);

  /* Live, a deletion takes one back. */
  delete_message (alice, dm_id, 3);
  ssq_test_client_wait_for_seq (bob, dm_id, 4);
  {
    BodyWait gone = { bob, dm_id, 3, "" };

    g_assert_true (ssq_test_wait_until (has_body, &gone, SSQ_TEST_CLIENT_WAIT_MS));
  }
  g_assert_cmpint (cached_unread (bob, dm_id), ==, 2);
}

typedef struct {
  GListModel *model;
  guint       n;
} CountWait;

static gboolean
has_items (gpointer data)
{
  CountWait *w = data;

  return g_list_model_get_n_items (w->model) >= w->n;
}

typedef struct {
  GListModel *list;
  const char *body;
} LastWait;

/* The first conversation of the list shows @body as its last message. */
static gboolean
first_shows (gpointer data)
{
  LastWait *w = data;
  g_autoptr(SsqConversation) first = g_list_model_get_item (w->list, 0);
  SsqMessage *last = first ? ssq_conversation_get_last_message (first) : NULL;

  return last != NULL && g_strcmp0 (ssq_message_get_body (last), w->body) == 0;
}

#define BURST 200

static void
mark_read_cb (SsqClient  *client,
              SsqMessage *message,
              gpointer    user_data)
{
  ssq_client_mark_read (client, ssq_message_get_conversation_id (message), ssq_message_get_seq (message));
}

/* A burst of events is applied in one cache transaction, and the list
 * models then hold the right snapshots: order, unread count, last message
 * with its sender, a reply's quote; after an edit and a deletion too. */
static void
test_burst_one_transaction (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, NULL);
  g_autoptr(SsqTestClient) alice = ssq_test_client_new_registered (server, "alice");
  g_autoptr(SsqTestClient) bob = ssq_test_client_new_registered (server, "bob");
  const char *const members[] = { "bob", NULL };
  g_autoptr(SsqConversation) group = ssq_test_client_create_group (alice, "Lab", members);
  g_autoptr(SsqConversation) dm = ssq_test_client_create_direct (alice, "bob");
  const char *dm_id = ssq_conversation_get_id (dm);
  g_autoptr(SsqConversationList) list = ssq_conversation_list_new (bob->client);
  g_autoptr(SsqMessageList) messages = ssq_message_list_new (bob->client, dm_id, 50);
  g_autoptr(GByteArray) out = g_byte_array_new ();
  g_autoptr(SsqConversation) first = NULL;
  g_autoptr(SsqMessage) reply = NULL;
  SsqTestRaw *raw;
  CountWait all = { G_LIST_MODEL (messages), BURST };
  guint64 commits;

  ssq_test_client_send_text (alice, ssq_conversation_get_id (group), "earlier, elsewhere");
  ssq_test_client_wait_for_seq (bob, ssq_conversation_get_id (group), 1);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 2);

  /* Alice's other device sends the burst while bob's main loop does not
   * run: it waits in his socket, and comes in as one read. */
  raw = ssq_test_raw_ws_open (server, ssq_client_get_token (alice->client), 0, 0);
  for (guint i = 0; i < BURST; i++)
    {
      g_autofree char *frame =
        g_strdup_printf ("{\"type\":\"send\",\"id\":%u,\"conversation_id\":\"%s\","
                         "\"client_id\":\"burst-%03u\",\"body\":\"b%03u\"%s}",
                         i + 1, dm_id, i, i, i == BURST - 1 ? ",\"reply_to\":1" : "");

      ssq_test_raw_ws_frame_append (out, 0x81, frame, strlen (frame));
    }
  g_assert_cmpuint (ssq_test_raw_send (raw, out->data, out->len, SSQ_TEST_RAW_WAIT_MS), ==, out->len);
  {
    g_autofree char *last = g_strdup_printf ("burst-%03u", BURST - 1);

    g_assert_cmpint (ssq_test_raw_ws_pump (raw, SSQ_TEST_RAW_WAIT_MS, last), ==, 0);
  }
  /* The last ack to alice does not mean bob's copies are all in his
   * socket: on a loaded machine the server wrote them an iteration later,
   * bob's loop read the first part alone, and the burst took two commits
   * (seen once in a parallel run). His loop still does not run here. */
  g_usleep (300 * 1000);
  commits = ssq_cache_get_commits (ssq_client_get_cache (bob->client));
  g_assert_true (ssq_test_wait_until (has_items, &all, SSQ_TEST_CLIENT_WAIT_MS));
  g_test_message ("%u events, %" G_GUINT64_FORMAT " cache commit(s)", BURST,
                  ssq_cache_get_commits (ssq_client_get_cache (bob->client)) - commits);
  g_assert_cmpuint (ssq_cache_get_commits (ssq_client_get_cache (bob->client)) - commits, ==, 1);

  /* The models: the direct conversation moved to the top with every
   * message unread and the last one shown, with its sender. */
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (messages)), ==, BURST);
  first = g_list_model_get_item (G_LIST_MODEL (list), 0);
  g_assert_cmpstr (ssq_conversation_get_id (first), ==, dm_id);
  g_assert_cmpint (ssq_conversation_get_unread (first), ==, BURST);
  g_assert_cmpint (ssq_conversation_get_last_seq (first), ==, BURST);
  g_assert_cmpstr (ssq_message_get_body (ssq_conversation_get_last_message (first)), ==, "b199");
  g_assert_cmpstr (ssq_user_get_username (ssq_message_get_sender_user (ssq_conversation_get_last_message (first))),
                   ==, "alice");
  g_assert_cmpstr (ssq_conversation_get_peer_presence (first), ==, "online");
  reply = g_list_model_get_item (G_LIST_MODEL (messages), BURST - 1);
  g_assert_cmpstr (ssq_message_get_body (ssq_message_get_quoted (reply)), ==, "b000");
  g_clear_object (&first);
  g_clear_object (&reply);

  /* An edit of the last message shows in the list's snapshot and row. */
  edit_message (alice, dm_id, BURST, "b199, edited");
  {
    LastWait edited = { G_LIST_MODEL (list), "b199, edited" };

    g_assert_true (ssq_test_wait_until (first_shows, &edited, SSQ_TEST_CLIENT_WAIT_MS));
  }
  reply = g_list_model_get_item (G_LIST_MODEL (messages), BURST - 1);
  g_assert_cmpstr (ssq_message_get_body (reply), ==, "b199, edited");
  g_assert_cmpstr (ssq_message_get_body (ssq_message_get_quoted (reply)), ==, "b000");
  g_clear_object (&reply);

  /* Deleting the first one takes an unread back and shows in the quote. */
  delete_message (alice, dm_id, 1);
  {
    BodyWait gone = { bob, dm_id, 1, "" };

    g_assert_true (ssq_test_wait_until (has_body, &gone, SSQ_TEST_CLIENT_WAIT_MS));
  }
  first = g_list_model_get_item (G_LIST_MODEL (list), 0);
  g_assert_cmpstr (ssq_conversation_get_id (first), ==, dm_id);
  g_assert_cmpint (ssq_conversation_get_unread (first), ==, BURST - 1);
  g_assert_cmpstr (ssq_message_get_body (ssq_conversation_get_last_message (first)), ==, "b199, edited");
  reply = g_list_model_get_item (G_LIST_MODEL (messages), BURST - 1);
  g_assert_true (ssq_message_get_deleted (ssq_message_get_quoted (reply)));
  {
    g_autoptr(SsqMessage) deleted = g_list_model_get_item (G_LIST_MODEL (messages), 0);

    g_assert_true (ssq_message_get_deleted (deleted));
  }

  /* A view that marks the open conversation read as its messages come (as
   * the GTK window does): the list ends with what that left, not with the
   * count the batch had before the handler ran. */
  g_signal_connect (bob->client, "message", G_CALLBACK (mark_read_cb), NULL);
  ssq_test_client_send_text (alice, dm_id, "seen at once");
  {
    LastWait seen = { G_LIST_MODEL (list), "seen at once" };

    g_assert_true (ssq_test_wait_until (first_shows, &seen, SSQ_TEST_CLIENT_WAIT_MS));
  }
  g_clear_object (&first);
  first = g_list_model_get_item (G_LIST_MODEL (list), 0);
  g_assert_cmpint (ssq_conversation_get_unread (first), ==, 0);
  ssq_test_raw_close (raw);
}

/* A view tearing down as the client goes may tell it the user is typing
 * after its dispose cleared its timers (here: from a weak reference, which
 * runs at the end of dispose): the stop timer armed then must not fire on
 * the freed client. No source may be left with the client as its data
 * (the timers' is the client): one would run on freed memory, which only
 * a sanitizer or valgrind would see, later. */
static void
typing_late (gpointer  data,
             GObject  *client)
{
  ssq_client_set_typing (SSQ_CLIENT (client), "c1", TRUE);
  g_assert_nonnull (g_main_context_find_source_by_user_data (NULL, client));
}

static void
test_typing_after_dispose (void)
{
  g_autofree char *dir = ssq_test_temp_dir ("ssq-typing-XXXXXX");
  SsqClient *client = ssq_client_new ("http://127.0.0.1:9", dir);
  gpointer freed = client;

  g_object_weak_ref (G_OBJECT (client), typing_late, NULL);
  g_object_unref (client);
  g_assert_null (g_main_context_find_source_by_user_data (NULL, freed));
  ssq_test_wait_ms (5500);   /* past the stop timer's 5 s, for the sanitizers */
}

int
main (int    argc,
      char **argv)
{
  /* Every client gets its own data directory; no XDG isolation needed. */
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/client/converse", test_converse);
  g_test_add_func ("/client/auto-away", test_auto_away);
  g_test_add_func ("/client/server-killed-while-sending", test_server_killed_while_sending);
  g_test_add_func ("/client/outbox-survives-restart", test_outbox_survives_restart);
  g_test_add_func ("/client/history-paging-and-offline", test_history_paging_and_offline);
  g_test_add_func ("/client/model-signals", test_model_signals);
  g_test_add_func ("/client/refused-message", test_refused_message);
  g_test_add_func ("/client/revoked-session", test_revoked_session);
  g_test_add_func ("/client/offline-edits-and-deletions", test_offline_edits_and_deletions);
  g_test_add_func ("/client/unread-after-sync", test_unread_after_sync);
  g_test_add_func ("/client/burst-one-transaction", test_burst_one_transaction);
  g_test_add_func ("/client/typing-after-dispose", test_typing_after_dispose);
  return g_test_run ();
}
