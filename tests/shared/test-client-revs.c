/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-client-revs.c: an older copy of a message reaching SsqClient after a
 * newer one (a history page that was answered before an edit, a deletion
 * or a thumbnail update, and arrived after it) leaves the newer one in the
 * cache. Against the real server binary: the copies are the server's own,
 * the stale page fetched before the change and applied after it the way
 * the client applies every history page. */
#include "ssq-client-private.h"
#include "ssq-message-private.h"
#include "ssq-media.h"
#include "ssq-test-client.h"
#include "ssq-test-images.h"

#include <string.h>

/* Bob's history page of @conversation_id as the server gives it now. */
static JsonArray *
history_page (SsqTestServer *server,
              SsqTestClient *tc,
              const char    *conversation_id)
{
  g_autofree char *path = g_strdup_printf ("/api/v1/conversations/%s/messages", conversation_id);
  g_autoptr(JsonObject) reply = NULL;
  guint status = 0;

  reply = ssq_test_http (server, "GET", path, ssq_client_get_token (tc->client), NULL, &status);
  g_assert_cmpuint (status, ==, 200);
  return json_array_ref (json_object_get_array_member (reply, "messages"));
}

static void
count_cb (SsqClient  *client,
          SsqMessage *message,
          guint      *count)
{
  (*count)++;
}

/* Applies @page to @tc as a history page that arrives now (what the
 * client does with each message of a page), and counts the messages it
 * announced as changed. */
static guint
apply_late (SsqTestClient *tc,
            JsonArray     *page)
{
  guint announced = 0;
  gulong id = g_signal_connect (tc->client, "message", G_CALLBACK (count_cb), &announced);
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < json_array_get_length (page); i++)
    {
      g_assert_true (ssq_client_apply_message (tc->client, json_array_get_object_element (page, i), &error));
      g_assert_no_error (error);
    }
  g_signal_handler_disconnect (tc->client, id);
  return announced;
}

typedef struct {
  SsqTestClient *tc;
  const char    *conversation_id;
  const char    *body;       /* NULL: wait for the deletion */
} WantBody;

static gboolean
has_body (gpointer data)
{
  WantBody *want = data;
  g_autoptr(SsqMessage) message = ssq_cache_get_message (ssq_client_get_cache (want->tc->client),
                                                         want->conversation_id, 1);

  if (message == NULL)
    return FALSE;
  if (want->body == NULL)
    return ssq_message_get_deleted (message);
  return g_strcmp0 (ssq_message_get_body (message), want->body) == 0;
}

static SsqMessage *
held (SsqTestClient *tc,
      const char    *conversation_id)
{
  SsqMessage *message = ssq_cache_get_message (ssq_client_get_cache (tc->client), conversation_id, 1);

  g_assert_nonnull (message);
  return message;
}

static void
edit (SsqTestClient *tc,
      const char    *conversation_id,
      const char    *body)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(SsqMessage) edited = NULL;
  g_autoptr(GError) error = NULL;

  ssq_client_edit_message_async (tc->client, conversation_id, 1, body, NULL, ssq_test_store_result, &result);
  edited = ssq_client_edit_message_finish (tc->client, ssq_test_client_wait_result (&result), &error);
  g_assert_no_error (error);
}

static void
delete (SsqTestClient *tc,
        const char    *conversation_id)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  ssq_client_delete_message_async (tc->client, conversation_id, 1, NULL, ssq_test_store_result, &result);
  g_assert_true (ssq_client_delete_message_finish (tc->client, ssq_test_client_wait_result (&result), &error));
  g_assert_no_error (error);
}

/* A page fetched before an edit, applied after it: the edit stays; so
 * does a deletion after a page fetched before it, also for search. A
 * page as new as what is held changes nothing either. */
static void
test_stale_page_after_edit_and_delete (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, NULL);
  g_autoptr(SsqTestClient) alice = ssq_test_client_new_registered (server, "alice");
  g_autoptr(SsqTestClient) bob = ssq_test_client_new_registered (server, "bob");
  g_autoptr(SsqConversation) dm = ssq_test_client_create_direct (alice, "bob");
  const char *dm_id = ssq_conversation_get_id (dm);
  g_autoptr(JsonArray) before_edit = NULL, before_delete = NULL, current = NULL;
  g_autoptr(SsqMessage) message = NULL;
  g_autoptr(GPtrArray) found = NULL;
  g_autoptr(GError) error = NULL;
  WantBody want = { bob, dm_id, "first draft" };
  guint announced;

  ssq_test_client_send_text (alice, dm_id, "first draft");
  g_assert_true (ssq_test_wait_until (has_body, &want, SSQ_TEST_CLIENT_WAIT_MS));
  before_edit = history_page (server, bob, dm_id);

  edit (alice, dm_id, "final words");
  want.body = "final words";
  g_assert_true (ssq_test_wait_until (has_body, &want, SSQ_TEST_CLIENT_WAIT_MS));
  before_delete = history_page (server, bob, dm_id);
  announced = apply_late (bob, before_edit);
  message = held (bob, dm_id);
  g_assert_cmpstr (ssq_message_get_body (message), ==, "final words");
  g_assert_cmpint (ssq_message_get_edited_at (message), >, 0);
  g_assert_cmpint (message->rev, ==, 1);
  g_assert_cmpuint (announced, ==, 0);
  g_clear_object (&message);

  delete (alice, dm_id);
  want.body = NULL;
  g_assert_true (ssq_test_wait_until (has_body, &want, SSQ_TEST_CLIENT_WAIT_MS));
  announced = apply_late (bob, before_delete) + apply_late (bob, before_edit);
  message = held (bob, dm_id);
  g_assert_true (ssq_message_get_deleted (message));
  g_assert_cmpstr (ssq_message_get_body (message), ==, "");
  g_assert_cmpint (message->rev, ==, 2);
  g_assert_cmpuint (announced, ==, 0);
  found = ssq_client_search (bob->client, "draft", NULL, 10, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (found->len, ==, 0);
  g_clear_pointer (&found, g_ptr_array_unref);
  found = ssq_client_search (bob->client, "words", NULL, 10, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (found->len, ==, 0);

  /* The current page, as new as what is held: nothing to write. */
  current = history_page (server, bob, dm_id);
  g_assert_cmpuint (apply_late (bob, current), ==, 0);
  g_assert_cmpuint (bob->errors->len, ==, 0);
}

typedef struct {
  SsqTestClient *tc;
  const char    *conversation_id;
} WantThumbnail;

static gboolean
has_thumbnail (gpointer data)
{
  WantThumbnail *want = data;
  g_autoptr(SsqMessage) message = ssq_cache_get_message (ssq_client_get_cache (want->tc->client),
                                                         want->conversation_id, 1);

  return message != NULL && ssq_message_get_n_media (message) == 1 &&
         ssq_media_has_thumbnail (ssq_message_get_media (message, 0));
}

/* Takes the server down and brings it back with @from in its
 * configuration replaced by @to. */
static void
restart_with (SsqTestServer *server,
              const char    *from,
              const char    *to)
{
  g_autofree char *config = NULL;
  g_autoptr(GString) changed = NULL;
  g_autoptr(GError) error = NULL;

  ssq_test_server_kill (server);
  g_file_get_contents (server->config_path, &config, NULL, &error);
  g_assert_no_error (error);
  changed = g_string_new (config);
  g_assert_cmpuint (g_string_replace (changed, from, to, 1), ==, 1);
  g_file_set_contents (server->config_path, changed->str, changed->len, &error);
  g_assert_no_error (error);
  ssq_test_server_restart (server);
}

/* A picture sent while the server makes no thumbnails; a page fetched
 * then; the server back with its thumbnail workers makes the thumbnail
 * and sends the message again with it (a change, the next rev). The old
 * page applied after that leaves the thumbnail and the picture's size. */
static void
test_stale_page_after_thumbnail (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, "[media]\nuploads_per_minute=0\n"
                                                                 "thumbnail_workers=0\n");
  g_autoptr(SsqTestClient) alice = ssq_test_client_new_registered (server, "alice");
  g_autoptr(SsqTestClient) bob = ssq_test_client_new_registered (server, "bob");
  g_autoptr(SsqConversation) dm = ssq_test_client_create_direct (alice, "bob");
  const char *dm_id = ssq_conversation_get_id (dm);
  g_autofree char *path = g_build_filename (alice->dir, "photo.png", NULL);
  g_autoptr(GdkPixbuf) picture = ssq_test_image_marked (640, 480, FALSE);
  g_autoptr(GFile) file = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(SsqMessage) pending = NULL, message = NULL;
  g_autoptr(JsonArray) stale = NULL;
  g_autoptr(GError) error = NULL;
  WantBody want = { bob, dm_id, "a picture" };
  WantThumbnail thumbnail = { bob, dm_id };
  JsonObject *stale_media;
  SsqMedia *media;
  guint announced;

  ssq_test_image_save (picture, path, "png");
  file = g_file_new_for_path (path);
  ssq_client_send_message_with_media_async (alice->client, dm_id, "a picture", 0, &file, 1, NULL,
                                            ssq_test_store_result, &result);
  pending = ssq_client_send_message_with_media_finish (alice->client, ssq_test_client_wait_result (&result),
                                                       &error);
  g_assert_no_error (error);
  g_assert_true (ssq_test_wait_until (has_body, &want, SSQ_TEST_CLIENT_WAIT_MS));
  g_assert_false (has_thumbnail (&thumbnail));
  stale = history_page (server, bob, dm_id);
  stale_media = json_array_get_object_element (json_object_get_array_member (
                  json_array_get_object_element (stale, 0), "media"), 0);
  g_assert_false (json_object_get_boolean_member (stale_media, "thumbnail"));

  restart_with (server, "thumbnail_workers=0", "thumbnail_workers=2");
  g_assert_true (ssq_test_wait_until (has_thumbnail, &thumbnail, SSQ_TEST_CLIENT_WAIT_MS));
  announced = apply_late (bob, stale);

  message = held (bob, dm_id);
  media = ssq_message_get_media (message, 0);
  g_assert_true (ssq_media_has_thumbnail (media));
  g_assert_cmpint (ssq_media_get_width (media), ==, 640);
  g_assert_cmpint (ssq_media_get_height (media), ==, 480);
  g_assert_cmpint (message->rev, ==, 1);
  g_assert_cmpuint (announced, ==, 0);
  g_assert_cmpuint (bob->errors->len, ==, 0);
}

typedef struct {
  SsqTestServer *server;
  SsqTestClient *tc;
  const char    *path;
  gint64         read_seq;
} WantRead;

/* Whether the server holds @want->tc's read marker at @want->read_seq. */
static gboolean
server_has_read (gpointer data)
{
  WantRead *want = data;
  g_autoptr(JsonObject) reply = NULL;
  guint status = 0;

  reply = ssq_test_http (want->server, "GET", want->path, ssq_client_get_token (want->tc->client), NULL, &status);
  return status == 200 &&
         json_object_get_int_member (json_object_get_object_member (reply, "conversation"), "read_seq") ==
         want->read_seq;
}

/* A conversation fetched before this user read it, arriving after: the
 * unread count stays what the read made it (the read marker of the copy
 * is older). */
static void
test_stale_conversation_after_read (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, NULL);
  g_autoptr(SsqTestClient) alice = ssq_test_client_new_registered (server, "alice");
  g_autoptr(SsqTestClient) bob = ssq_test_client_new_registered (server, "bob");
  g_autoptr(SsqConversation) dm = ssq_test_client_create_direct (alice, "bob");
  const char *dm_id = ssq_conversation_get_id (dm);
  g_autofree char *path = g_strdup_printf ("/api/v1/conversations/%s", dm_id);
  g_autoptr(JsonObject) stale = NULL, fresh = NULL;
  g_autoptr(SsqConversation) held_dm = NULL;
  JsonObject *object;
  guint status = 0;
  WantRead want = { server, bob, path, 2 };

  ssq_test_client_send_text (alice, dm_id, "one");
  ssq_test_client_send_text (alice, dm_id, "two");
  ssq_test_client_wait_for_seq (bob, dm_id, 2);
  stale = ssq_test_http (server, "GET", path, ssq_client_get_token (bob->client), NULL, &status);
  g_assert_cmpuint (status, ==, 200);
  object = json_object_get_object_member (stale, "conversation");
  g_assert_cmpint (json_object_get_int_member (object, "unread"), ==, 2);

  ssq_client_mark_read (bob->client, dm_id, 2);
  held_dm = ssq_cache_get_conversation (ssq_client_get_cache (bob->client), dm_id);
  g_assert_cmpint (ssq_conversation_get_unread (held_dm), ==, 0);
  g_clear_object (&held_dm);
  ssq_client_apply_conversation (bob->client, object, FALSE);
  held_dm = ssq_cache_get_conversation (ssq_client_get_cache (bob->client), dm_id);
  g_assert_cmpint (ssq_conversation_get_read_seq (held_dm), ==, 2);
  g_assert_cmpint (ssq_conversation_get_unread (held_dm), ==, 0);
  g_clear_object (&held_dm);

  /* A third message, once the server has the read: a copy from then on
   * counts just that one. */
  g_assert_true (ssq_test_wait_until (server_has_read, &want, SSQ_TEST_CLIENT_WAIT_MS));
  ssq_test_client_send_text (alice, dm_id, "three");
  ssq_test_client_wait_for_seq (bob, dm_id, 3);
  fresh = ssq_test_http (server, "GET", path, ssq_client_get_token (bob->client), NULL, &status);
  g_assert_cmpuint (status, ==, 200);
  object = json_object_get_object_member (fresh, "conversation");
  g_assert_cmpint (json_object_get_int_member (object, "read_seq"), ==, 2);
  ssq_client_apply_conversation (bob->client, object, FALSE);
  held_dm = ssq_cache_get_conversation (ssq_client_get_cache (bob->client), dm_id);
  g_assert_cmpint (ssq_conversation_get_unread (held_dm), ==, 1);
  g_assert_cmpuint (bob->errors->len, ==, 0);
}

/* A client logged in as @username with @n group conversations of its own
 * made through REST. */
static SsqTestClient *
member_of (SsqTestServer *server,
           const char    *username,
           guint          n)
{
  g_autoptr(SsqTestClient) first = ssq_test_client_new_registered (server, username);
  g_autofree char *body = g_strdup_printf ("{\"username\":\"%s\",\"password\":\"password123\"}",
                                           username);
  g_autoptr(JsonObject) login = NULL;
  SsqTestClient *fresh = ssq_test_client_new (server->url, NULL);
  SsqTestUser user = { 0 };
  guint status = 0;

  login = ssq_test_http (server, "POST", "/api/v1/login", NULL, body, &status);
  g_assert_cmpuint (status, ==, 200);
  user.token = (char *) json_object_get_string_member (login, "token");
  for (guint i = 0; i < n; i++)
    g_free (ssq_test_create_conversation (server, &user,
                                          "{\"kind\":\"group\",\"title\":\"M\",\"members\":[]}"));
  ssq_test_client_log_in (fresh, username);
  return fresh;
}

static int
compare_ids (gconstpointer a,
             gconstpointer b)
{
  return strcmp (*(const char **) a, *(const char **) b);
}

/* @conversation_id's message @seq has @body in @tc's cache. */
static void
assert_held (SsqTestClient *tc,
             const char    *conversation_id,
             gint64         seq,
             const char    *body)
{
  g_autoptr(SsqMessage) message = ssq_cache_get_message (ssq_client_get_cache (tc->client),
                                                         conversation_id, seq);

  g_assert_nonnull (message);
  g_assert_cmpstr (ssq_message_get_body (message), ==, body);
}

/* Over REST with @token: a message @body in @conversation_id (its client
 * id the body), or with @seq > 0 an edit of that message. */
static void
write_with (SsqTestServer *server,
            const char    *token,
            const char    *conversation_id,
            gint64         seq,
            const char    *body)
{
  g_autofree char *path = seq > 0
    ? g_strdup_printf ("/api/v1/conversations/%s/messages/%" G_GINT64_FORMAT, conversation_id, seq)
    : g_strdup_printf ("/api/v1/conversations/%s/messages", conversation_id);
  g_autofree char *json = seq > 0
    ? g_strdup_printf ("{\"body\":\"%s\"}", body)
    : g_strdup_printf ("{\"client_id\":\"%s\",\"body\":\"%s\"}", body, body);
  g_autoptr(JsonObject) reply = NULL;
  guint status = 0;

  reply = ssq_test_http (server, seq > 0 ? "PATCH" : "POST", path, token, json, &status);
  g_assert_cmpuint (status, ==, seq > 0 ? 200 : 201);
}

static void
write_as (SsqTestServer *server,
          SsqTestClient *tc,
          const char    *conversation_id,
          gint64         seq,
          const char    *body)
{
  write_with (server, ssq_client_get_token (tc->client), conversation_id, seq, body);
}

static gboolean
is_synced_now (gpointer data)
{
  return ssq_client_is_synced (((SsqTestClient *) data)->client);
}

typedef struct {
  SsqTestServer *server;
  SsqTestUser   *other;
  GPtrArray     *groups;     /* made while "paged" synced a later page */
  char          *page;       /* the first id of that page */
} JoinMidSync;

/* While "paged" applies a conversation of a page after the first, @other
 * makes groups with a message and then adds "paged" to them, until one
 * has an id before that page (on a page already asked for). Inside the
 * client's own handling: a wait from outside may see the whole sync go by
 * in one main-loop iteration (seen under valgrind). */
static void
join_mid_sync_cb (SsqClient       *client,
                  SsqConversation *conversation,
                  JoinMidSync     *join)
{
  if (join->groups != NULL || !client->syncing || client->sync_from == NULL)
    return;
  join->groups = g_ptr_array_new_with_free_func (g_free);
  join->page = g_strdup (client->sync_from);
  for (guint i = 0; i < 40; i++)
    {
      char *group = ssq_test_create_conversation (join->server, join->other,
        "{\"kind\":\"group\",\"title\":\"Late\",\"members\":[]}");
      g_autofree char *path = g_strdup_printf ("/api/v1/conversations/%s/members", group);
      g_autoptr(JsonObject) reply = NULL;
      guint status = 0;

      g_ptr_array_add (join->groups, group);
      write_with (join->server, join->other->token, group, 0, "before you came");
      reply = ssq_test_http (join->server, "POST", path, join->other->token,
                             "{\"username\":\"paged\"}", &status);
      g_assert_cmpuint (status, ==, 201);
      if (strcmp (group, join->page) < 0)
        break;
    }
}

/* A user in more conversations than one sync names (1,100: pages of 500)
 * syncs page by page: a fresh client holds them all, and a client that was
 * away gets the new messages and the edits of conversations on every page,
 * the first and last of each page among them, also from a page the server
 * cut short (sync_batch 2) and asked again. A group joined while the sync
 * is past its page gets its history all the same. */
static void
test_paged_sync (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, "sync_batch=2\n");
  g_autoptr(SsqTestClient) tc = member_of (server, "paged", 1100);
  g_autoptr(SsqTestUser) other = ssq_test_register (server, "other");
  g_autoptr(GPtrArray) conversations = NULL;
  g_autoptr(GPtrArray) ids = g_ptr_array_new ();
  const guint targets[] = { 0, 499, 500, 999, 1000, 1099 };
  JoinMidSync join = { server, other, NULL, NULL };
  gulong handler;

  ssq_test_client_go_online (tc);
  conversations = ssq_cache_list_conversations (ssq_client_get_cache (tc->client));
  g_assert_cmpuint (conversations->len, ==, 1100);
  g_assert_cmpuint (tc->errors->len, ==, 0);
  for (guint i = 0; i < conversations->len; i++)
    g_ptr_array_add (ids, (gpointer) ssq_conversation_get_id (conversations->pdata[i]));
  g_ptr_array_sort (ids, compare_ids);
  /* The last page started at the 1,001st. */
  g_assert_cmpstr (tc->client->sync_from, ==, ids->pdata[1000]);

  /* Away: a message on each side of each page boundary, three (more
   * than sync_batch) at the end of the first page. */
  ssq_client_disconnect (tc->client);
  for (guint i = 0; i < G_N_ELEMENTS (targets); i++)
    write_as (server, tc, ids->pdata[targets[i]], 0, "away");
  write_as (server, tc, ids->pdata[499], 0, "away2");
  write_as (server, tc, ids->pdata[499], 0, "away3");
  ssq_test_client_go_online (tc);
  for (guint i = 0; i < G_N_ELEMENTS (targets); i++)
    assert_held (tc, ids->pdata[targets[i]], 1, "away");
  assert_held (tc, ids->pdata[499], 3, "away3");

  /* Away again: edits (change cursors) and a second message. */
  ssq_client_disconnect (tc->client);
  write_as (server, tc, ids->pdata[499], 1, "edited");
  write_as (server, tc, ids->pdata[1000], 1, "edited");
  write_as (server, tc, ids->pdata[500], 0, "again");
  ssq_test_client_go_online (tc);
  assert_held (tc, ids->pdata[499], 1, "edited");
  assert_held (tc, ids->pdata[1000], 1, "edited");
  assert_held (tc, ids->pdata[500], 1, "away");
  assert_held (tc, ids->pdata[500], 2, "again");
  assert_held (tc, ids->pdata[0], 1, "away");

  /* Joined under a running sync, on a page already asked for. */
  ssq_client_disconnect (tc->client);
  handler = g_signal_connect (tc->client, "conversation", G_CALLBACK (join_mid_sync_cb), &join);
  ssq_client_connect (tc->client);
  /* Under valgrind the list and the pages take seconds. */
  g_assert_true (ssq_test_wait_until (is_synced_now, tc, 6 * SSQ_TEST_CLIENT_WAIT_MS));
  g_signal_handler_disconnect (tc->client, handler);
  g_assert_nonnull (join.groups);
  g_assert_cmpint (strcmp (join.groups->pdata[join.groups->len - 1], join.page), <, 0);
  for (guint i = 0; i < join.groups->len; i++)
    assert_held (tc, join.groups->pdata[i], 1, "before you came");
  g_assert_cmpuint (tc->errors->len, ==, 0);
  g_ptr_array_unref (join.groups);
  g_free (join.page);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/client-revs/stale-page-after-edit-and-delete", test_stale_page_after_edit_and_delete);
  g_test_add_func ("/client-revs/stale-page-after-thumbnail", test_stale_page_after_thumbnail);
  g_test_add_func ("/client-revs/stale-conversation-after-read", test_stale_conversation_after_read);
  g_test_add_func ("/client-revs/paged-sync", test_paged_sync);
  return g_test_run ();
}
