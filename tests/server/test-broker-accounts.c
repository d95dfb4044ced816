/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-broker-accounts.c: an account disabled or deleted (through the
 * administration socket) on the real server loses its broker use at once:
 * its AMQP connections close with 320 CONNECTION_FORCED, its REST long
 * polls are answered and their consumers go, its WebSocket queue
 * subscriptions end with the session, its exclusive queues are deleted;
 * and another user's AMQP connection, long poll and queues go on. */
#include "ssq-test-admin.h"
#include "ssq-test-amqp.h"

#include <string.h>

#define ID SSQ_TEST_AMQP_ID

/* AMQP: channel 1 open, and queue.declare of @queue (exclusive or durable). */
static SsqTestRaw *
amqp_with_queue (const char *username,
                 const char *queue,
                 gboolean    exclusive)
{
  g_autofree char *password = g_strconcat ("password-", username, NULL);
  SsqTestRaw *conn = ssq_test_amqp_open (server, username, password);
  g_autoptr(GByteArray) out = g_byte_array_new ();
  g_auto(SsqTestAmqpFrame) frame = { 0 };

  ssq_test_amqp_method_append (out, 1, ID (20, 10), "S", "");
  /* queue.declare: reserved, name, passive durable exclusive auto-delete nowait, args */
  ssq_test_amqp_method_append (out, 1, ID (50, 10), "sSbbbbbF", 0u, queue, FALSE, !exclusive,
                               exclusive, FALSE, FALSE, NULL);
  ssq_test_amqp_send (conn, out);
  ssq_test_amqp_expect (conn, ID (20, 11), &frame);
  ssq_test_amqp_frame_clear (&frame);
  ssq_test_amqp_expect (conn, ID (50, 11), &frame);
  return conn;
}

/* The account @name loses everything it held in the broker when @action
 * ("disable" or "delete") is done to it; "other" is served throughout. */
static void
check_account_gone (const char *action)
{
  g_autofree char *name = g_strdup_printf ("gone.%s", action);
  g_autofree char *other_name = g_strdup_printf ("other.%s", action);
  g_autofree char *excl = g_strdup_printf ("%s.excl", name);
  g_autofree char *rest_q = g_strdup_printf ("%s.rest", name);
  g_autofree char *ws_q = g_strdup_printf ("%s.ws", name);
  g_autofree char *other_q = g_strdup_printf ("%s.q", other_name);
  g_autofree char *other_amqp_q = g_strdup_printf ("%s.amqp", other_name);
  g_autofree char *subscribe = g_strdup_printf ("{\"type\":\"queue_subscribe\",\"queue\":\"%s\","
                                                "\"prefetch\":1}", ws_q);
  g_autofree char *publish_path = g_strdup_printf ("/api/v1/queues/%s/messages", other_q);
  g_autoptr(SsqTestUser) user = ssq_test_register (server, name);
  g_autoptr(SsqTestUser) other = ssq_test_register (server, other_name);
  g_autoptr(SsqTestRaw) amqp = NULL;
  g_autoptr(SsqTestRaw) other_amqp = NULL;
  g_autoptr(SsqTestRaw) poll = NULL;
  g_autoptr(SsqTestRaw) other_poll = NULL;
  g_autoptr(SsqTestWs) ws = NULL;
  g_autoptr(JsonObject) ack = NULL;
  g_autoptr(JsonObject) published = NULL;
  g_autoptr(GByteArray) out = g_byte_array_new ();
  g_auto(SsqTestAmqpFrame) frame = { 0 };
  g_auto(SsqTestRawResponse) answer = { 0 };
  g_auto(SsqTestRawResponse) other_answer = { 0 };

  /* What the account holds: an AMQP connection with an exclusive queue, a
   * REST long poll, a WebSocket subscription. */
  amqp = amqp_with_queue (name, excl, TRUE);
  ssq_test_queue_declare (server, rest_q, user->token);
  ssq_test_queue_declare (server, ws_q, user->token);
  poll = ssq_test_raw_queue_poll (server, rest_q, user->token, "max=1&wait=30");
  ssq_test_wait_queue_field (server, rest_q, other->token, "consumers", 1, WAIT);
  ws = connect_ws (user->token);
  ack = ssq_test_ws_request (ws, subscribe);
  g_assert_cmpstr (json_object_get_string_member (ack, "type"), ==, "ack");
  g_assert_cmpint (ssq_test_queue_field (server, ws_q, other->token, "consumers"), ==, 1);
  g_assert_cmpint (ssq_test_queue_field (server, excl, other->token, "consumers"), ==, 0);
  /* And another user's. */
  other_amqp = amqp_with_queue (other_name, other_amqp_q, FALSE);
  ssq_test_queue_declare (server, other_q, other->token);
  other_poll = ssq_test_raw_queue_poll (server, other_q, other->token, "max=1&wait=30");
  ssq_test_wait_queue_field (server, other_q, other->token, "consumers", 1, WAIT);

  g_assert_cmpint (run_admin (NULL, NULL, "users", action, name), ==, 0);

  ssq_test_amqp_expect_close (amqp, 320);
  g_assert_true (ssq_test_raw_read_response (poll, WAIT, &answer));
  g_test_message ("the long poll was answered %u", answer.status);
  g_assert_cmpint (ssq_test_ws_wait_closed (ws, WAIT), ==, 1008);
  ssq_test_wait_queue_field (server, rest_q, other->token, "consumers", 0, WAIT);
  ssq_test_wait_queue_field (server, ws_q, other->token, "consumers", 0, WAIT);
  ssq_test_wait_queue_field (server, excl, other->token, "consumers", -1, WAIT);   /* deleted */

  /* The other user goes on: its long poll is still waiting, and answered
   * by a publish; its AMQP connection still declares. */
  g_assert_false (ssq_test_raw_read_response (other_poll, 200, &other_answer));
  g_assert_false (other_poll->closed);
  published = ssq_test_http_expect (server, "POST", publish_path, other->token,
                                    "{\"body\":\"still here\"}", 201);
  g_assert_true (ssq_test_raw_read_response (other_poll, WAIT, &other_answer));
  g_assert_cmpuint (other_answer.status, ==, 200);
  g_assert_nonnull (strstr (other_answer.body, "still here"));
  ssq_test_amqp_method_append (out, 1, ID (50, 10), "sSbbbbbF", 0u, other_amqp_q, TRUE, FALSE,
                               FALSE, FALSE, FALSE, NULL);
  ssq_test_amqp_send (other_amqp, out);
  ssq_test_amqp_expect (other_amqp, ID (50, 11), &frame);
}

static void
test_disable (void)
{
  check_account_gone ("disable");
}

static void
test_delete (void)
{
  check_account_gone ("delete");
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(SsqTestUser) first = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);
  server = ssq_test_server_start (NULL, NULL);
  first = ssq_test_register (server, "first");
  g_test_add_func ("/server/broker-accounts/disable", test_disable);
  g_test_add_func ("/server/broker-accounts/delete", test_delete);
  status = g_test_run ();
  g_assert_cmpint (ssq_test_server_stop (server), ==, 0);
  ssq_test_server_free (server);
  return status;
}
