/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-client-notify.c: the notifications SsqClient derives from message
 * events, against the real server binary. */
#include "ssq-test-client.h"

typedef struct {
  SsqTestClient *tc;
  const char    *note;
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
wait_for_note (SsqTestClient *tc,
               const char    *note)
{
  HasNote has = { tc, note };

  g_assert_true (ssq_test_wait_until (has_note, &has, SSQ_TEST_CLIENT_WAIT_MS));
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
assert_notes (SsqTestClient     *tc,
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
  g_autoptr(SsqTestClient) alice = ssq_test_client_new_registered (server, "alice");
  g_autoptr(SsqTestClient) bob = ssq_test_client_new_registered (server, "bob");
  g_autoptr(SsqTestClient) carol = ssq_test_client_new_registered (server, "carol");
  g_autoptr(SsqTestClient) bob2 = NULL;
  const char *const team_members[] = { "bob", "carol", NULL };
  const char *const quiet_members[] = { "bob", NULL };
  g_autoptr(SsqConversation) team = ssq_test_client_create_group (alice, "team", team_members);
  g_autoptr(SsqConversation) quiet = ssq_test_client_create_group (alice, "quiet", quiet_members);
  g_autoptr(SsqConversation) dm = ssq_test_client_create_direct (alice, "bob");
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
  muted = ssq_client_conversation_finish (bob->client, ssq_test_client_wait_result (&result), &error);
  g_assert_no_error (error);
  g_assert_true (ssq_conversation_get_muted (muted));
  g_clear_object (&result);

  /* Plain, mention, mention of two in other case and with a full stop,
   * and text that only looks like mentions. Waiting between senders keeps
   * the seqs as numbered. */
  ssq_test_client_send_text (alice, team_id, "hello team");
  ssq_test_client_send_text (alice, team_id, "@bob look");
  ssq_test_client_wait_for_seq (carol, team_id, 2);
  ssq_test_client_send_text (carol, team_id, "cc @BOB, @alice.");
  ssq_test_client_wait_for_seq (alice, team_id, 3);
  ssq_test_client_send_text (alice, team_id, "mail x@carol.example or @carolx");
  ssq_test_client_send_text (alice, ssq_conversation_get_id (dm), "hi @bob");
  ssq_test_client_send_text (alice, ssq_conversation_get_id (quiet), "psst @bob");
  ssq_test_client_wait_for_seq (bob, ssq_conversation_get_id (quiet), 1);
  ssq_test_client_wait_for_seq (carol, team_id, 4);

  /* An edit that now mentions carol, and a deletion: no notification. */
  ssq_client_edit_message_async (alice->client, team_id, 1, "hello @carol", NULL,
                                 ssq_test_store_result, &result);
  edited = ssq_client_edit_message_finish (alice->client, ssq_test_client_wait_result (&result), &error);
  g_assert_no_error (error);
  g_clear_object (&result);
  ssq_client_delete_message_async (carol->client, team_id, 3, NULL, ssq_test_store_result, &result);
  g_assert_true (ssq_client_delete_message_finish (carol->client, ssq_test_client_wait_result (&result), &error));
  g_assert_no_error (error);
  g_clear_object (&result);

  /* A message carol's client missed comes by sync when it is back: no
   * notification, as none was due while it was away. */
  ssq_client_disconnect (carol->client);
  ssq_test_client_send_text (alice, team_id, "while you were away, @carol");
  wait_for_note (bob, t5_group);
  ssq_test_client_go_online (carol);
  ssq_test_client_wait_for_seq (carol, team_id, 5);

  /* A new device's first sync replays everything: nothing to notify. */
  bob2 = ssq_test_client_new (server->url, NULL);
  ssq_test_client_log_in (bob2, "bob");
  ssq_test_client_go_online (bob2);

  /* One more message reaches everyone online; once it has notified, every
   * earlier event has been handled (one connection keeps the order). */
  ssq_test_client_send_text (alice, team_id, "end");
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
    ssq_test_client_wait_for_seq (alice, team_id, 6);
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

int
main (int    argc,
      char **argv)
{
  /* Every client gets its own data directory; no XDG isolation needed. */
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/client/notifications", test_notifications);
  return g_test_run ();
}
