/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-ws.c: the WebSocket protocol of the real server: flows between two and
 * three users, sync after reconnect, presence, typing and receipts. */
#include "ssq-test-server.h"

#include <sqlite3.h>

#define WAIT 5000

static SsqTestServer *server;

static JsonObject *
message_of (JsonObject *frame)
{
  return json_object_get_object_member (frame, "message");
}

static void
test_welcome_and_auth (void)
{
  g_autoptr(SsqTestUser) u = ssq_test_register (server, "ws.welcome");
  g_autoptr(SsqTestWs) ws = ssq_test_ws_connect (server, u->token, NULL);
  g_autoptr(JsonObject) welcome = NULL;
  g_autoptr(JsonObject) pong = NULL;
  guint status = 0;
  SsqTestWs *bad;

  g_assert_nonnull (ws);
  welcome = ssq_test_ws_expect (ws, "welcome", WAIT);
  g_assert_nonnull (welcome);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (welcome, "user"), "id"), ==, u->id);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (welcome, "user"), "presence"), ==, "online");
  g_assert_true (json_object_has_member (welcome, "session_id"));
  g_assert_cmpint (json_object_get_int_member (welcome, "server_time"), >, 0);
  ssq_test_ws_send (ws, "{\"type\":\"ping\",\"id\":7}");
  pong = ssq_test_ws_expect (ws, "pong", WAIT);
  g_assert_nonnull (pong);
  g_assert_cmpint (json_object_get_int_member (pong, "id"), ==, 7);

  bad = ssq_test_ws_connect (server, "bogus-token", &status);
  g_assert_null (bad);
  g_assert_cmpuint (status, ==, 401);
  bad = ssq_test_ws_connect (server, NULL, &status);
  g_assert_null (bad);
  g_assert_cmpuint (status, ==, 401);
}

/* One member moving its markers message by message (as a client does
 * through a backlog) is relayed to the others at most once per second,
 * and the last markers always arrive. Without coalescing, 2 x 40 moves
 * became 80 receipts to each member. */
static void
test_receipt_burst (void)
{
  g_autoptr(SsqTestUser) a = ssq_test_register (server, "ws.burst.a");
  g_autoptr(SsqTestUser) b = ssq_test_register (server, "ws.burst.b");
  g_autoptr(SsqTestUser) c = ssq_test_register (server, "ws.burst.c");
  g_autofree char *conv = ssq_test_create_conversation (server, a,
    "{\"kind\":\"group\",\"title\":\"Burst\",\"members\":[\"ws.burst.b\",\"ws.burst.c\"]}");
  g_autoptr(SsqTestWs) wa = ssq_test_ws_connect (server, a->token, NULL);
  g_autoptr(SsqTestWs) wb = ssq_test_ws_connect (server, b->token, NULL);
  g_autoptr(SsqTestWs) wc = ssq_test_ws_connect (server, c->token, NULL);
  gint64 delivered = 0, read = 0;
  guint receipts = 0;
  const guint n = 40;

  g_assert_nonnull (ssq_test_ws_expect (wa, "welcome", WAIT));
  g_assert_nonnull (ssq_test_ws_expect (wb, "welcome", WAIT));
  g_assert_nonnull (ssq_test_ws_expect (wc, "welcome", WAIT));
  for (guint i = 1; i <= n; i++)
    {
      g_autofree char *key = g_strdup_printf ("burst%u", i);
      g_autoptr(JsonObject) ack = ssq_test_ws_post (wa, conv, key, "x");

      g_assert_cmpstr (json_object_get_string_member (ack, "type"), ==, "ack");
    }
  for (guint i = 1; i <= n; i++)
    {
      g_autofree char *got = g_strdup_printf (
        "{\"type\":\"received\",\"conversation_id\":\"%s\",\"seq\":%u}", conv, i);
      g_autofree char *seen = g_strdup_printf (
        "{\"type\":\"read\",\"id\":\"r%u\",\"conversation_id\":\"%s\",\"seq\":%u}", i, conv, i);

      ssq_test_ws_send (wb, got);
      ssq_test_ws_send (wb, seen);
    }
  /* Every receipt that will come has come 1 s after the last move; wait
   * until the final markers are seen, then a further window. */
  while (delivered < n || read < n)
    {
      g_autoptr(JsonObject) ev = ssq_test_ws_expect_where (wc, "receipt", "user", b->id, WAIT);

      g_assert_nonnull (ev);
      receipts++;
      delivered = json_object_get_int_member (ev, "delivered_seq");
      read = json_object_get_int_member (ev, "read_seq");
    }
  while (!ssq_test_ws_nothing (wc, "receipt", 1500))
    receipts++;
  g_test_message ("%u receipts for %u marker moves", receipts, 2 * n);
  /* The moves take well under a second: a first relay, then one per
   * window while they last, then the final state. Allow a few windows for
   * a loaded machine. */
  g_assert_cmpuint (receipts, <=, 6);
}

/* Waits for the welcome of @ws and returns the type of its first frame. */
static const char *
first_frame_type (SsqTestWs *ws)
{
  g_autoptr(JsonObject) welcome = ssq_test_ws_expect (ws, "welcome", WAIT);

  g_assert_nonnull (welcome);
  return ws->first_type;
}

/* The contract says welcome is the first frame of every connection, even
 * when presence changes of the user's own devices and contacts race it. */
static void
test_welcome_first (void)
{
  g_autoptr(SsqTestUser) a = ssq_test_register (server, "ws.first.a");
  g_autoptr(SsqTestUser) b = ssq_test_register (server, "ws.first.b");
  g_autofree char *conv = ssq_test_create_conversation (server, a,
    "{\"kind\":\"direct\",\"members\":[\"ws.first.b\"]}");

  for (guint round = 0; round < 5; round++)
    {
      g_autoptr(SsqTestWs) wb = ssq_test_ws_connect (server, b->token, NULL);
      g_autoptr(SsqTestWs) wa1 = ssq_test_ws_connect (server, a->token, NULL);
      g_autoptr(SsqTestWs) wa2 = ssq_test_ws_connect (server, a->token, NULL);
      g_assert_cmpstr (first_frame_type (wb), ==, "welcome");
      g_assert_cmpstr (first_frame_type (wa1), ==, "welcome");
      g_assert_cmpstr (first_frame_type (wa2), ==, "welcome");
    }
}

static void
test_two_users (void)
{
  g_autoptr(SsqTestUser) a = ssq_test_register (server, "ws.alice");
  g_autoptr(SsqTestUser) b = ssq_test_register (server, "ws.bob");
  g_autofree char *conv = ssq_test_create_conversation (server, a,
    "{\"kind\":\"direct\",\"members\":[\"ws.bob\"]}");
  g_autoptr(SsqTestWs) wa = ssq_test_ws_connect (server, a->token, NULL);
  g_autoptr(SsqTestWs) wb = ssq_test_ws_connect (server, b->token, NULL);
  g_autoptr(JsonObject) ack = NULL;
  g_autoptr(JsonObject) ev = NULL;
  g_autoptr(JsonObject) note = NULL;
  g_autofree char *frame = NULL;

  g_assert_nonnull (ssq_test_ws_expect (wa, "welcome", WAIT));
  g_assert_nonnull (ssq_test_ws_expect (wb, "welcome", WAIT));

  /* Typing reaches the other member only. */
  frame = g_strdup_printf ("{\"type\":\"typing\",\"conversation_id\":\"%s\",\"active\":true}", conv);
  ssq_test_ws_send (wa, frame);
  ev = ssq_test_ws_expect (wb, "typing", WAIT);
  g_assert_nonnull (ev);
  g_assert_cmpstr (json_object_get_string_member (ev, "user"), ==, a->id);
  g_assert_true (json_object_get_boolean_member (ev, "active"));
  g_clear_pointer (&ev, json_object_unref);

  /* Send: ack with the stored message, then the event to both sides. The
   * message also ends the sender's typing. */
  ack = ssq_test_ws_post (wa, conv, "k1", "héllo 👋");
  g_assert_nonnull (ack);
  g_assert_cmpstr (json_object_get_string_member (ack, "type"), ==, "ack");
  g_assert_cmpint (json_object_get_int_member (message_of (ack), "seq"), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (message_of (ack), "body"), ==, "héllo 👋");
  ev = ssq_test_ws_expect (wb, "message", WAIT);
  g_assert_nonnull (ev);
  g_assert_cmpstr (json_object_get_string_member (message_of (ev), "sender"), ==, a->id);
  g_clear_pointer (&ev, json_object_unref);
  ev = ssq_test_ws_expect (wa, "message", WAIT);
  g_assert_nonnull (ev);
  g_clear_pointer (&ev, json_object_unref);
  note = ssq_test_ws_expect (wb, "notification", WAIT);
  g_assert_nonnull (note);
  g_assert_cmpstr (json_object_get_string_member (note, "reason"), ==, "direct");
  g_assert_cmpint (json_object_get_int_member (note, "seq"), ==, 1);
  g_assert_true (ssq_test_ws_nothing (wa, "notification", 200));
  ev = ssq_test_ws_expect_where (wb, "typing", "active", "false", WAIT);
  g_assert_nonnull (ev);
  g_clear_pointer (&ev, json_object_unref);

  /* Resend of the same client_id: same message, no new event. */
  g_clear_pointer (&ack, json_object_unref);
  ack = ssq_test_ws_post (wa, conv, "k1", "héllo 👋");
  g_assert_cmpstr (json_object_get_string_member (ack, "type"), ==, "ack");
  g_assert_cmpint (json_object_get_int_member (message_of (ack), "seq"), ==, 1);
  g_assert_true (ssq_test_ws_nothing (wb, "message", 300));

  /* Delivered and read receipts. */
  g_free (frame);
  frame = g_strdup_printf ("{\"type\":\"received\",\"conversation_id\":\"%s\",\"seq\":1}", conv);
  ssq_test_ws_send (wb, frame);
  ev = ssq_test_ws_expect (wa, "receipt", WAIT);
  g_assert_nonnull (ev);
  g_assert_cmpstr (json_object_get_string_member (ev, "user"), ==, b->id);
  g_assert_cmpint (json_object_get_int_member (ev, "delivered_seq"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (ev, "read_seq"), ==, 0);
  g_clear_pointer (&ev, json_object_unref);
  g_free (frame);
  frame = g_strdup_printf ("{\"type\":\"read\",\"conversation_id\":\"%s\",\"seq\":1}", conv);
  g_clear_pointer (&ack, json_object_unref);
  ack = ssq_test_ws_request (wb, frame);
  g_assert_cmpstr (json_object_get_string_member (ack, "type"), ==, "ack");
  ev = ssq_test_ws_expect (wa, "receipt", WAIT);
  g_assert_cmpint (json_object_get_int_member (ev, "read_seq"), ==, 1);
  g_clear_pointer (&ev, json_object_unref);
  /* Beyond the last seq is refused; moving back changes nothing. */
  g_free (frame);
  frame = g_strdup_printf ("{\"type\":\"read\",\"conversation_id\":\"%s\",\"seq\":9}", conv);
  g_clear_pointer (&ack, json_object_unref);
  ack = ssq_test_ws_request (wb, frame);
  g_assert_cmpstr (json_object_get_string_member (ack, "type"), ==, "error");
  g_assert_cmpstr (json_object_get_string_member (ack, "code"), ==, "invalid");
  {
    guint status;
    g_autofree char *path = g_strdup_printf ("/api/v1/conversations/%s", conv);
    g_autoptr(JsonObject) r = ssq_test_http (server, "GET", path, b->token, NULL, &status);
    JsonObject *c = json_object_get_object_member (r, "conversation");

    g_assert_cmpint (json_object_get_int_member (c, "read_seq"), ==, 1);
    g_assert_cmpint (json_object_get_int_member (c, "unread"), ==, 0);
  }

  /* A message over REST reaches WebSocket sessions too. */
  {
    guint status;
    g_autofree char *path = g_strdup_printf ("/api/v1/conversations/%s/messages", conv);
    g_autoptr(JsonObject) r = ssq_test_http (server, "POST", path, b->token,
                                             "{\"client_id\":\"rest-1\",\"body\":\"via rest\"}",
                                             &status);
    g_assert_cmpuint (status, ==, 201);
    ev = ssq_test_ws_expect (wa, "message", WAIT);
    g_assert_cmpint (json_object_get_int_member (message_of (ev), "seq"), ==, 2);
    g_clear_pointer (&ev, json_object_unref);
    /* Edits come as message events. */
    g_free (path);
    path = g_strdup_printf ("/api/v1/conversations/%s/messages/2", conv);
    g_clear_pointer (&r, json_object_unref);
    r = ssq_test_http (server, "PATCH", path, b->token, "{\"body\":\"via rest, edited\"}", &status);
    g_assert_cmpuint (status, ==, 200);
    ev = ssq_test_ws_expect (wa, "message", WAIT);
    g_assert_cmpstr (json_object_get_string_member (message_of (ev), "body"), ==, "via rest, edited");
  }
}

static void
test_group_three (void)
{
  g_autoptr(SsqTestUser) a = ssq_test_register (server, "g3.a");
  g_autoptr(SsqTestUser) b = ssq_test_register (server, "g3.b");
  g_autoptr(SsqTestUser) c = ssq_test_register (server, "g3.c");
  g_autoptr(SsqTestWs) wa = ssq_test_ws_connect (server, a->token, NULL);
  g_autoptr(SsqTestWs) wb = ssq_test_ws_connect (server, b->token, NULL);
  g_autoptr(SsqTestWs) wc = ssq_test_ws_connect (server, c->token, NULL);
  g_autofree char *conv = NULL;
  g_autofree char *members = NULL;
  g_autoptr(JsonObject) ev = NULL;
  g_autoptr(JsonObject) ack = NULL;
  guint status;

  conv = ssq_test_create_conversation (server, a,
    "{\"kind\":\"group\",\"title\":\"Three\",\"members\":[\"g3.b\"]}");
  ev = ssq_test_ws_expect (wb, "conversation", WAIT);
  g_assert_nonnull (ev);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (ev, "conversation"), "title"), ==, "Three");
  g_clear_pointer (&ev, json_object_unref);
  g_assert_true (ssq_test_ws_nothing (wc, "conversation", 200));

  /* A mention notifies as "mention", others as "group". */
  ack = ssq_test_ws_post (wa, conv, "m1", "hey @G3.B, look");
  g_assert_cmpstr (json_object_get_string_member (ack, "type"), ==, "ack");
  ev = ssq_test_ws_expect (wb, "notification", WAIT);
  g_assert_cmpstr (json_object_get_string_member (ev, "reason"), ==, "mention");
  g_clear_pointer (&ev, json_object_unref);

  /* c is added: everyone hears of it; c can read the history. */
  members = g_strdup_printf ("/api/v1/conversations/%s/members", conv);
  {
    g_autoptr(JsonObject) r = ssq_test_http (server, "POST", members, a->token,
                                             "{\"username\":\"g3.c\"}", &status);
    g_assert_cmpuint (status, ==, 201);
  }
  ev = ssq_test_ws_expect (wc, "conversation", WAIT);
  g_assert_nonnull (ev);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (json_object_get_object_member (ev, "conversation"), "members")), ==, 3);
  g_clear_pointer (&ev, json_object_unref);
  ev = ssq_test_ws_expect (wb, "conversation", WAIT);
  g_assert_nonnull (ev);
  g_clear_pointer (&ev, json_object_unref);

  g_clear_pointer (&ack, json_object_unref);
  ack = ssq_test_ws_post (wa, conv, "m2", "welcome");
  ev = ssq_test_ws_expect (wc, "notification", WAIT);
  g_assert_cmpstr (json_object_get_string_member (ev, "reason"), ==, "group");
  g_clear_pointer (&ev, json_object_unref);

  /* Muted: no notification, the message still arrives. */
  {
    g_autofree char *path = g_strdup_printf ("/api/v1/conversations/%s", conv);
    g_autoptr(JsonObject) r = ssq_test_http (server, "PATCH", path, c->token, "{\"muted\":true}",
                                             &status);
    g_assert_cmpuint (status, ==, 200);
  }
  g_clear_pointer (&ack, json_object_unref);
  ack = ssq_test_ws_post (wb, conv, "m3", "quiet");
  ev = ssq_test_ws_expect_where (wc, "message", "type", "message", WAIT);
  g_assert_nonnull (ev);
  g_clear_pointer (&ev, json_object_unref);
  g_assert_true (ssq_test_ws_nothing (wc, "notification", 300));

  /* b leaves: b gets conversation_removed and can no longer post. */
  {
    g_autofree char *path = g_strdup_printf ("%s/g3.b", members);
    g_autoptr(JsonObject) r = ssq_test_http (server, "DELETE", path, b->token, NULL, &status);
    g_assert_cmpuint (status, ==, 204);
  }
  ev = ssq_test_ws_expect (wb, "conversation_removed", WAIT);
  g_assert_nonnull (ev);
  g_assert_cmpstr (json_object_get_string_member (ev, "conversation_id"), ==, conv);
  g_clear_pointer (&ev, json_object_unref);
  g_clear_pointer (&ack, json_object_unref);
  ack = ssq_test_ws_post (wb, conv, "m4", "let me back");
  g_assert_cmpstr (json_object_get_string_member (ack, "type"), ==, "error");
  g_assert_cmpstr (json_object_get_string_member (ack, "code"), ==, "not_found");
}

/* A user in 300 conversations syncs: the frame names each twice, in
 * "since" and "since_rev" (JSON objects of 300 members each; the reader's
 * limit of 256 members per object refused it). */
static void
test_sync_many_conversations (void)
{
  g_autoptr(SsqTestUser) a = ssq_test_register (server, "sync.many");
  g_autoptr(SsqTestWs) ws = ssq_test_ws_connect (server, a->token, NULL);
  g_autoptr(GString) since = g_string_new (NULL);
  g_autoptr(GString) since_rev = g_string_new (NULL);
  g_autoptr(GString) frame = g_string_new (NULL);
  g_autoptr(JsonObject) ack = NULL;
  guint events = 0;

  g_assert_nonnull (ssq_test_ws_expect (ws, "welcome", WAIT));
  for (guint i = 0; i < 300; i++)
    {
      g_autofree char *conv = ssq_test_create_conversation (server, a,
        "{\"kind\":\"group\",\"title\":\"Many\",\"members\":[]}");

      g_string_append_printf (since, "%s\"%s\":0", i > 0 ? "," : "", conv);
      g_string_append_printf (since_rev, "%s\"%s\":0", i > 0 ? "," : "", conv);
    }
  g_string_printf (frame, "{\"type\":\"sync\",\"since\":{%s},\"since_rev\":{%s}}",
                   since->str, since_rev->str);
  ack = ssq_test_ws_request (ws, frame->str);
  g_assert_nonnull (ack);
  g_assert_cmpstr (json_object_get_string_member (ack, "type"), ==, "ack");
  g_assert_cmpuint (json_object_get_size (json_object_get_object_member (ack, "revs")), ==, 300);
  for (JsonObject *ev; (ev = ssq_test_ws_expect (ws, "conversation", 0)) != NULL; events++)
    json_object_unref (ev);
  g_assert_cmpuint (events, >=, 300);
}

/* The frame of a sync naming @n conversation ids (none of them real) in
 * "since" and "since_rev". */
static char *
sync_naming (guint n)
{
  GString *since = g_string_new (NULL);
  GString *frame = g_string_new (NULL);

  for (guint i = 0; i < n; i++)
    g_string_append_printf (since, "%s\"c%024u\":0", i > 0 ? "," : "", i);
  g_string_printf (frame, "{\"type\":\"sync\",\"since\":{%s},\"since_rev\":{%s}}",
                   since->str, since->str);
  g_string_free (since, TRUE);
  return g_string_free (frame, FALSE);
}

/* A sync names at most 1,022 conversations: two objects of them and the
 * frame's own 4 members make the 2,048 a request may hold. */
static void
test_sync_most_conversations (void)
{
  g_autoptr(SsqTestUser) a = ssq_test_register (server, "sync.most");
  g_autoptr(SsqTestWs) ws = ssq_test_ws_connect (server, a->token, NULL);
  g_autofree char *most = sync_naming (1022);
  g_autofree char *more = sync_naming (1023);
  g_autoptr(JsonObject) ack = NULL;
  g_autoptr(JsonObject) refused = NULL;

  g_assert_nonnull (ssq_test_ws_expect (ws, "welcome", WAIT));
  g_assert_cmpuint (strlen (more), <, 65536);
  ack = ssq_test_ws_request (ws, most);
  g_assert_nonnull (ack);
  g_assert_cmpstr (json_object_get_string_member (ack, "type"), ==, "ack");
  /* Not read, so without the request's id. */
  ssq_test_ws_send (ws, more);
  refused = ssq_test_ws_expect (ws, "error", WAIT);
  g_assert_nonnull (refused);
  g_assert_nonnull (strstr (json_object_get_string_member (refused, "message"),
                            "more than 2048 members in all"));
}

static int
compare_ids (gconstpointer a,
             gconstpointer b)
{
  return strcmp (*(const char **) a, *(const char **) b);
}

/* Syncs with @bounds (the frame's from_id and to_id members, or "") and
 * checks that exactly the conversations ids[first] to ids[end - 1] came,
 * each with its one message, and that the ack's revs name those only. */
static void
expect_page (SsqTestWs   *ws,
             const char  *bounds,
             GPtrArray   *ids,
             guint        first,
             guint        end)
{
  g_autofree char *frame = g_strdup_printf ("{\"type\":\"sync\",\"since\":{},"
                                            "\"since_rev\":{}%s}", bounds);
  g_autoptr(JsonObject) ack = ssq_test_ws_request (ws, frame);
  g_autoptr(GHashTable) sent = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  JsonObject *revs;
  guint messages = 0;

  g_assert_nonnull (ack);
  g_assert_cmpstr (json_object_get_string_member (ack, "type"), ==, "ack");
  revs = json_object_get_object_member (ack, "revs");
  g_assert_cmpuint (json_object_get_size (revs), ==, end - first);
  for (guint i = first; i < end; i++)
    g_assert_true (json_object_has_member (revs, ids->pdata[i]));
  for (JsonObject *ev; (ev = ssq_test_ws_expect (ws, "conversation", 0)) != NULL; )
    {
      JsonObject *conv = json_object_get_object_member (ev, "conversation");

      g_hash_table_add (sent, g_strdup (json_object_get_string_member (conv, "id")));
      json_object_unref (ev);
    }
  for (JsonObject *ev; (ev = ssq_test_ws_expect (ws, "message", 0)) != NULL; messages++)
    {
      JsonObject *message = json_object_get_object_member (ev, "message");

      g_assert_true (g_hash_table_contains (sent, json_object_get_string_member (message,
                                                                                 "conversation_id")));
      json_object_unref (ev);
    }
  g_assert_cmpuint (g_hash_table_size (sent), ==, end - first);
  for (guint i = first; i < end; i++)
    g_assert_true (g_hash_table_contains (sent, ids->pdata[i]));
  g_assert_cmpuint (messages, ==, end - first);
}

/* A sync about a page of conversations: ids from from_id (included) to
 * to_id (excluded) in byte order, either bound left out. An empty or
 * reversed page, or a bound that is not a string, is refused. */
static void
test_sync_page (void)
{
  g_autoptr(SsqTestUser) a = ssq_test_register (server, "sync.page");
  g_autoptr(SsqTestWs) writer = ssq_test_ws_connect (server, a->token, NULL);
  g_autoptr(SsqTestWs) ws = NULL;
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *bounds = NULL;

  g_assert_nonnull (ssq_test_ws_expect (writer, "welcome", WAIT));
  for (guint i = 0; i < 5; i++)
    {
      char *conv = ssq_test_create_conversation (server, a,
        "{\"kind\":\"group\",\"title\":\"Page\",\"members\":[]}");
      g_autoptr(JsonObject) ack = ssq_test_ws_post (writer, conv, "k", "hello");

      g_assert_cmpstr (json_object_get_string_member (ack, "type"), ==, "ack");
      g_ptr_array_add (ids, conv);
    }
  g_ptr_array_sort (ids, compare_ids);
  ws = ssq_test_ws_connect (server, a->token, NULL);
  g_assert_nonnull (ssq_test_ws_expect (ws, "welcome", WAIT));

  bounds = g_strdup_printf (",\"from_id\":\"%s\",\"to_id\":\"%s\"",
                            (char *) ids->pdata[1], (char *) ids->pdata[3]);
  expect_page (ws, bounds, ids, 1, 3);
  g_free (bounds);
  bounds = g_strdup_printf (",\"from_id\":\"%s\"", (char *) ids->pdata[3]);
  expect_page (ws, bounds, ids, 3, 5);
  g_free (bounds);
  bounds = g_strdup_printf (",\"to_id\":\"%s\"", (char *) ids->pdata[1]);
  expect_page (ws, bounds, ids, 0, 1);
  expect_page (ws, ",\"from_id\":\"c\",\"to_id\":\"d\"", ids, 0, 5);
  expect_page (ws, "", ids, 0, 5);

  /* The same id twice, the bounds reversed, a number. */
  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *pair = i < 2
        ? g_strdup_printf ("\"from_id\":\"%s\",\"to_id\":\"%s\"",
                           (char *) ids->pdata[2], (char *) ids->pdata[2 - i])
        : g_strdup ("\"from_id\":7");
      g_autofree char *frame = g_strdup_printf ("{\"type\":\"sync\",\"since\":{},%s}", pair);
      g_autoptr(JsonObject) refused = ssq_test_ws_request (ws, frame);

      g_assert_cmpstr (json_object_get_string_member (refused, "type"), ==, "error");
      g_assert_cmpstr (json_object_get_string_member (refused, "code"), ==, "invalid");
    }
  g_assert_null (ssq_test_ws_expect (ws, "conversation", 0));
}

static void
test_sync (void)
{
  g_autoptr(SsqTestUser) a = ssq_test_register (server, "sync.a");
  g_autoptr(SsqTestUser) b = ssq_test_register (server, "sync.b");
  g_autofree char *c1 = ssq_test_create_conversation (server, a,
    "{\"kind\":\"direct\",\"members\":[\"sync.b\"]}");
  g_autofree char *c2 = ssq_test_create_conversation (server, a,
    "{\"kind\":\"group\",\"title\":\"S\",\"members\":[\"sync.b\"]}");
  g_autoptr(SsqTestWs) wa = ssq_test_ws_connect (server, a->token, NULL);
  g_autoptr(JsonObject) ack = NULL;
  g_autofree char *req = NULL;
  guint n_messages = 0, n_conversations = 0;
  gint64 last = 0;

  for (int i = 1; i <= 10; i++)
    {
      g_autofree char *k1 = g_strdup_printf ("a%d", i);
      g_autofree char *k2 = g_strdup_printf ("b%d", i);
      g_autoptr(JsonObject) a1 = ssq_test_ws_post (wa, c1, k1, "one");
      g_autoptr(JsonObject) a2 = ssq_test_ws_post (wa, c2, k2, "two");
      g_assert_cmpstr (json_object_get_string_member (a1, "type"), ==, "ack");
      g_assert_cmpstr (json_object_get_string_member (a2, "type"), ==, "ack");
    }

  /* b was offline and holds c1 up to seq 4 and nothing of c2. */
  {
    g_autoptr(SsqTestWs) wb = ssq_test_ws_connect (server, b->token, NULL);
    JsonObject *f;

    req = g_strdup_printf ("{\"type\":\"sync\",\"since\":{\"%s\":4}}", c1);
    ack = ssq_test_ws_request (wb, req);
    g_assert_cmpstr (json_object_get_string_member (ack, "type"), ==, "ack");
    g_assert_cmpuint (json_array_get_length (json_object_get_array_member (ack, "truncated")), ==, 0);
    /* Everything sync sent came before its ack: it is all queued now. */
    while ((f = g_queue_pop_head (&wb->frames)) != NULL)
      {
        const char *type = json_object_get_string_member (f, "type");

        if (g_str_equal (type, "conversation"))
          n_conversations++;
        else if (g_str_equal (type, "message"))
          {
            JsonObject *m = message_of (f);
            const char *cid = json_object_get_string_member (m, "conversation_id");
            gint64 seq = json_object_get_int_member (m, "seq");

            n_messages++;
            if (g_str_equal (cid, c1))
              {
                g_assert_cmpint (seq, >, 4);
                g_assert_cmpint (seq, ==, last + 1 > 5 ? last + 1 : 5);
                last = seq;
              }
          }
        json_object_unref (f);
      }
    g_assert_cmpuint (n_conversations, ==, 2);
    g_assert_cmpuint (n_messages, ==, 6 + 10);
    g_assert_cmpint (last, ==, 10);
  }
  /* A sync with a bad cursor is an error, not a crash. */
  {
    g_autoptr(SsqTestWs) wb = ssq_test_ws_connect (server, b->token, NULL);
    g_autoptr(JsonObject) err = ssq_test_ws_request (wb, "{\"type\":\"sync\",\"since\":{\"x\":\"7\"}}");

    g_assert_cmpstr (json_object_get_string_member (err, "type"), ==, "error");
    g_assert_cmpstr (json_object_get_string_member (err, "code"), ==, "invalid");
  }
}

/* A member 100 messages of 16 KB behind, with a send queue of 256 KB: a
 * sync step stops by bytes as well as by count, so the catch-up comes in
 * rounds at the pace the client reads. It queued the whole backlog at
 * once and was cut as a slow reader before a byte was written, every
 * time: that member could never catch up. */
static void
test_sync_large_backlog (void)
{
  g_autoptr(SsqTestServer) small = ssq_test_server_start (NULL, "messages_per_minute=0\n"
                                                                "send_queue_max=262144\n");
  g_autoptr(SsqTestUser) a = ssq_test_register (small, "backlog.a");
  g_autoptr(SsqTestUser) b = ssq_test_register (small, "backlog.b");
  g_autofree char *c1 = ssq_test_create_conversation (small, a,
    "{\"kind\":\"direct\",\"members\":[\"backlog.b\"]}");
  g_autoptr(SsqTestWs) wa = ssq_test_ws_connect (small, a->token, NULL);
  g_autoptr(SsqTestWs) wb = NULL;
  g_autofree char *body = g_strnfill (16000, 'y');
  gint64 last = 0;
  guint rounds = 0;
  gboolean truncated = TRUE;

  for (guint i = 0; i < 100; i++)
    {
      g_autofree char *client_id = g_strdup_printf ("k%u", i);
      g_autoptr(JsonObject) posted = ssq_test_ws_post (wa, c1, client_id, body);

      g_assert_cmpstr (json_object_get_string_member (posted, "type"), ==, "ack");
    }
  wb = ssq_test_ws_connect (small, b->token, NULL);
  while (truncated && rounds++ < 100)
    {
      g_autofree char *req = g_strdup_printf ("{\"type\":\"sync\",\"since\":{\"%s\":%" G_GINT64_FORMAT "}}",
                                              c1, last);
      g_autoptr(JsonObject) ack = ssq_test_ws_request (wb, req);
      JsonObject *f;

      g_assert_nonnull (ack);
      g_assert_cmpstr (json_object_get_string_member (ack, "type"), ==, "ack");
      truncated = json_array_get_length (json_object_get_array_member (ack, "truncated")) > 0;
      while ((f = g_queue_pop_head (&wb->frames)) != NULL)
        {
          if (g_str_equal (json_object_get_string_member (f, "type"), "message"))
            {
              gint64 seq = json_object_get_int_member (message_of (f), "seq");

              g_assert_cmpint (seq, ==, last + 1);
              last = seq;
            }
          json_object_unref (f);
        }
    }
  g_test_message ("%u rounds", rounds);
  g_assert_cmpint (last, ==, 100);
  g_assert_false (truncated);
  g_assert_cmpuint (rounds, >, 1);
}

static void
test_sync_truncated (void)
{
  g_autoptr(SsqTestServer) small = ssq_test_server_start (NULL, "sync_batch=5\n");
  g_autoptr(SsqTestUser) a = ssq_test_register (small, "trunc.a");
  g_autofree char *c1 = ssq_test_create_conversation (small, a,
    "{\"kind\":\"group\",\"title\":\"T\"}");
  g_autofree char *path = g_strdup_printf ("/api/v1/conversations/%s/messages", c1);
  g_autoptr(SsqTestWs) wa = NULL;
  g_autoptr(JsonObject) ack = NULL;
  guint n = 0;
  JsonObject *f;

  for (int i = 0; i < 8; i++)
    {
      g_autofree char *body = g_strdup_printf ("{\"client_id\":\"t%d\",\"body\":\"x\"}", i);
      g_autoptr(JsonObject) r = ssq_test_http (small, "POST", path, a->token, body, NULL);
    }
  wa = ssq_test_ws_connect (small, a->token, NULL);
  ack = ssq_test_ws_request (wa, "{\"type\":\"sync\"}");
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (ack, "truncated")), ==, 1);
  while ((f = g_queue_pop_head (&wa->frames)) != NULL)
    {
      if (g_str_equal (json_object_get_string_member (f, "type"), "message"))
        n++;
      json_object_unref (f);
    }
  g_assert_cmpuint (n, ==, 5);
}

/* A row without its stored wire form (the column's default; nothing
 * writes one so since schema 3): a sync writes the message from the row,
 * whole and in its place, instead of an empty object. */
static void
test_sync_without_stored_form (void)
{
  g_autoptr(SsqTestUser) a = ssq_test_register (server, "bare.a");
  g_autofree char *c1 = ssq_test_create_conversation (server, a, "{\"kind\":\"group\",\"title\":\"B\"}");
  g_autofree char *path = g_strdup_printf ("/api/v1/conversations/%s/messages", c1);
  g_autofree char *db_path = g_build_filename (server->data_dir, "supersoniq.db", NULL);
  g_autofree char *strip = g_strdup_printf ("UPDATE messages SET json = '' WHERE conversation_id = '%s' "
                                            "AND seq = 2", c1);
  g_autoptr(SsqTestWs) wa = NULL;
  g_autoptr(JsonObject) ack = NULL;
  sqlite3 *db = NULL;
  gint64 seq = 0;
  JsonObject *f;

  for (int i = 1; i <= 3; i++)
    {
      g_autofree char *body = g_strdup_printf ("{\"client_id\":\"b%d\",\"body\":\"bare %d\"}", i, i);
      g_autoptr(JsonObject) r = ssq_test_http (server, "POST", path, a->token, body, NULL);
    }
  g_assert_cmpint (sqlite3_open (db_path, &db), ==, SQLITE_OK);
  sqlite3_busy_timeout (db, 5000);
  g_assert_cmpint (sqlite3_exec (db, strip, NULL, NULL, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_changes (db), ==, 1);
  sqlite3_close (db);

  wa = ssq_test_ws_connect (server, a->token, NULL);
  ack = ssq_test_ws_request (wa, "{\"type\":\"sync\"}");
  while ((f = g_queue_pop_head (&wa->frames)) != NULL)
    {
      if (g_str_equal (json_object_get_string_member (f, "type"), "message") &&
          g_strcmp0 (json_object_get_string_member (message_of (f), "conversation_id"), c1) == 0)
        {
          g_autofree char *body = g_strdup_printf ("bare %" G_GINT64_FORMAT, ++seq);

          g_assert_cmpint (json_object_get_int_member (message_of (f), "seq"), ==, seq);
          g_assert_cmpstr (json_object_get_string_member (message_of (f), "body"), ==, body);
        }
      json_object_unref (f);
    }
  g_assert_cmpint (seq, ==, 3);
}

static void
test_presence (void)
{
  g_autoptr(SsqTestUser) a = ssq_test_register (server, "pres.a");
  g_autoptr(SsqTestUser) b = ssq_test_register (server, "pres.b");
  g_autofree char *conv = ssq_test_create_conversation (server, a,
    "{\"kind\":\"direct\",\"members\":[\"pres.b\"]}");
  g_autoptr(SsqTestWs) wa = ssq_test_ws_connect (server, a->token, NULL);
  g_autoptr(JsonObject) ev = NULL;
  SsqTestWs *wb;

  ev = ssq_test_ws_expect (wa, "welcome", WAIT);
  g_clear_pointer (&ev, json_object_unref);
  wb = ssq_test_ws_connect (server, b->token, NULL);
  ev = ssq_test_ws_expect_where (wa, "presence", "user", b->id, WAIT);
  g_assert_nonnull (ev);
  g_assert_cmpstr (json_object_get_string_member (ev, "status"), ==, "online");
  g_clear_pointer (&ev, json_object_unref);

  ssq_test_ws_send (wb, "{\"type\":\"presence\",\"status\":\"away\"}");
  ev = ssq_test_ws_expect_where (wa, "presence", "status", "away", WAIT);
  g_assert_nonnull (ev);
  g_clear_pointer (&ev, json_object_unref);
  ssq_test_ws_send (wb, "{\"type\":\"presence\",\"status\":\"sleeping\",\"id\":\"p\"}");
  ev = ssq_test_ws_expect (wb, "error", WAIT);
  g_assert_cmpstr (json_object_get_string_member (ev, "code"), ==, "invalid");
  g_clear_pointer (&ev, json_object_unref);

  ssq_test_ws_free (wb);
  ev = ssq_test_ws_expect_where (wa, "presence", "status", "offline", WAIT);
  g_assert_nonnull (ev);
  g_assert_cmpint (json_object_get_int_member (ev, "last_seen"), >, 0);
  g_clear_pointer (&ev, json_object_unref);
  {
    g_autofree char *path = g_strdup_printf ("/api/v1/users?q=pres.b");
    g_autoptr(JsonObject) r = ssq_test_http (server, "GET", path, a->token, NULL, NULL);
    JsonObject *u = json_array_get_object_element (json_object_get_array_member (r, "users"), 0);

    g_assert_cmpstr (json_object_get_string_member (u, "presence"), ==, "offline");
    g_assert_cmpint (json_object_get_int_member (u, "last_seen"), >, 0);
  }
}

static void
test_typing_expires (void)
{
  g_autoptr(SsqTestUser) a = ssq_test_register (server, "type.a");
  g_autoptr(SsqTestUser) b = ssq_test_register (server, "type.b");
  g_autofree char *conv = ssq_test_create_conversation (server, a,
    "{\"kind\":\"direct\",\"members\":[\"type.b\"]}");
  g_autoptr(SsqTestWs) wa = ssq_test_ws_connect (server, a->token, NULL);
  g_autoptr(SsqTestWs) wb = ssq_test_ws_connect (server, b->token, NULL);
  g_autofree char *frame = g_strdup_printf (
    "{\"type\":\"typing\",\"conversation_id\":\"%s\",\"active\":true}", conv);
  g_autoptr(JsonObject) ev = NULL;
  gint64 start;

  ssq_test_ws_send (wa, frame);
  ev = ssq_test_ws_expect_where (wb, "typing", "active", "true", WAIT);
  g_assert_nonnull (ev);
  g_clear_pointer (&ev, json_object_unref);
  start = g_get_monotonic_time ();
  ev = ssq_test_ws_expect_where (wb, "typing", "active", "false", 10000);
  g_assert_nonnull (ev);
  /* It ended by itself, not before the 6 s expiry. */
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 5500 * 1000);
}

/* The ack of a send is the stored message copied around the request's id:
 * every kind of id comes back as sent (the plain ones written in place, the
 * others through the codec), with "duplicate" on a resend. */
static void
test_ack_ids (void)
{
  g_autoptr(SsqTestUser) a = ssq_test_register (server, "ws.ackids");
  g_autoptr(SsqTestUser) b = ssq_test_register (server, "ws.ackids2");
  g_autofree char *conv = ssq_test_create_conversation (server, a,
    "{\"kind\":\"direct\",\"members\":[\"ws.ackids2\"]}");
  g_autoptr(SsqTestWs) wa = ssq_test_ws_connect (server, a->token, NULL);
  static const char *const ids[] = { "7", "\"plain-id_1.x:y\"", "\"quo\\\"te\"", "\"\u00e9t\u00e9\"",
                                     "\"\"", "-42", "\"7\"" };

  g_assert_nonnull (ssq_test_ws_expect (wa, "welcome", WAIT));
  for (guint round = 0; round < 2; round++)
    for (guint i = 0; i < G_N_ELEMENTS (ids); i++)
      {
        g_autofree char *frame = g_strdup_printf (
          "{\"type\":\"send\",\"id\":%s,\"conversation_id\":\"%s\",\"client_id\":\"c%u\","
          "\"body\":\"b\\\"%u\"}", ids[i], conv, i, i);
        g_autoptr(JsonObject) ack = NULL;
        g_autoptr(JsonNode) want = json_from_string (ids[i], NULL);
        JsonObject *message;

        ssq_test_ws_send (wa, frame);
        ack = ssq_test_ws_expect (wa, "ack", WAIT);
        g_assert_nonnull (ack);
        g_assert_true (json_node_equal (json_object_get_member (ack, "id"), want));
        message = json_object_get_object_member (ack, "message");
        g_assert_nonnull (message);
        g_assert_cmpint (json_object_get_int_member (message, "seq"), ==, i + 1);
        g_autofree char *client_id = g_strdup_printf ("c%u", i);

        g_assert_cmpstr (json_object_get_string_member (message, "client_id"), ==, client_id);
        g_assert_cmpstr (json_object_get_string_member (message, "sender"), ==, a->id);
        g_assert_true (json_object_get_boolean_member_with_default (ack, "duplicate", FALSE) ==
                       (round == 1));
      }
}

int
main (int    argc,
      char **argv)
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  server = ssq_test_server_start (NULL, NULL);
  g_test_add_func ("/server/ws/welcome-and-auth", test_welcome_and_auth);
  g_test_add_func ("/server/ws/welcome-first", test_welcome_first);
  g_test_add_func ("/server/ws/two-users", test_two_users);
  g_test_add_func ("/server/ws/ack-ids", test_ack_ids);
  g_test_add_func ("/server/ws/group-three", test_group_three);
  g_test_add_func ("/server/ws/sync", test_sync);
  g_test_add_func ("/server/ws/sync-many-conversations", test_sync_many_conversations);
  g_test_add_func ("/server/ws/sync-most-conversations", test_sync_most_conversations);
  g_test_add_func ("/server/ws/sync-page", test_sync_page);
  g_test_add_func ("/server/ws/sync-truncated", test_sync_truncated);
  g_test_add_func ("/server/ws/sync-large-backlog", test_sync_large_backlog);
  g_test_add_func ("/server/ws/sync-without-stored-form", test_sync_without_stored_form);
  g_test_add_func ("/server/ws/presence", test_presence);
  g_test_add_func ("/server/ws/receipt-burst", test_receipt_burst);
  g_test_add_func ("/server/ws/typing-expires", test_typing_expires);
  ret = g_test_run ();
  ssq_test_server_free (server);
  return ret;
}
