/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-client-paging.c: SsqClient's sync by pages against a fake server in
 * this process that misbehaves in ways the real one does not: a
 * conversation it cannot store, new conversations with every pass, on a
 * page to come, while its disk is full, and a list of conversations that
 * fails, with and without pages. What a pass is and how many there may
 * be is in shared/PROTOCOL.md ("How many conversations a sync names"). */
#include "ssq-test-client.h"
#include "ssq-test-limits.h"
#include "ssq-cache.h"
#include "ssq-client-private.h"

#include <string.h>

/* A paging server that keeps changing under the sync. Its welcome offers pages and its list names 600 conversations c0000 to
 * c0599 (two pages). With each first page it sends a conversation the
 * client cannot store (no kind) and, but in "unstorable" mode, one it can
 * store, new every time: on the first page ("joins": the client asks for
 * one more pass each time, and stops after SYNC_PASSES_MAX), on the page
 * still to come ("later": no pass), or with the client's disk full
 * ("full": no pass for what was not stored), or while the list is read
 * ("during-list": no pass, the pages cover it, and the list, which lacks
 * it, does not remove it). In "failing" mode the
 * list fails, and in "old-failing" too, from a server without pages. */

typedef enum {
  PAGING_UNSTORABLE, PAGING_JOINS, PAGING_LATER, PAGING_FULL, PAGING_DURING_LIST,
  PAGING_FAILING, PAGING_OLD_FAILING
} PagingMode;

typedef struct {
  PagingMode     mode;
  SsqTestClient *tc;
  guint          first_pages;
  guint          lists;
  guint          syncs;
} PagingFake;


static void
paging_message_cb (SoupWebsocketConnection *connection,
                   gint                     type,
                   GBytes                  *message,
                   gpointer                 user_data)
{
  PagingFake *fake = user_data;
  g_autoptr(JsonObject) frame = ssq_test_frame_of_type (message, "sync");
  g_autofree char *joined = NULL;
  g_autofree char *ack = NULL;

  if (frame == NULL)
    return;
  fake->syncs++;
  if (!json_object_has_member (frame, "from_id"))
    {
      fake->first_pages++;
      if (fake->mode == PAGING_FULL && fake->first_pages == 1)
        ssq_test_client_fill_disk (fake->tc);
      soup_websocket_connection_send_text (connection,
        "{\"type\":\"conversation\",\"conversation\":{\"id\":\"a-bad\"}}");
      joined = g_strdup_printf ("{\"type\":\"conversation\",\"conversation\":{\"id\":\"%s%u\","
                                "\"kind\":\"group\",\"title\":\"New\"}}",
                                fake->mode == PAGING_LATER ? "d" : "a", fake->first_pages);
      if (fake->mode != PAGING_UNSTORABLE && fake->mode != PAGING_DURING_LIST)
        soup_websocket_connection_send_text (connection, joined);
    }
  ack = g_strdup_printf ("{\"type\":\"ack\",\"id\":%" G_GINT64_FORMAT "}",
                         json_object_get_int_member (frame, "id"));
  soup_websocket_connection_send_text (connection, ack);
}

static void
paging_ws_cb (SoupServer              *server,
              SoupServerMessage       *msg,
              const char              *path,
              SoupWebsocketConnection *connection,
              gpointer                 user_data)
{
  PagingFake *fake = user_data;

  g_object_set_data_full (G_OBJECT (server), "ws", g_object_ref (connection), g_object_unref);
  g_signal_connect (connection, "message", G_CALLBACK (paging_message_cb), user_data);
  soup_websocket_connection_send_text (connection, fake->mode == PAGING_OLD_FAILING
    ? "{\"type\":\"welcome\",\"user\":{\"id\":\"u1\",\"username\":\"eve\"},"
      "\"session_id\":\"s\",\"server_time\":1,\"protocol\":1}"
    : "{\"type\":\"welcome\",\"user\":{\"id\":\"u1\",\"username\":\"eve\"},"
      "\"session_id\":\"s\",\"server_time\":1,\"protocol\":1,\"sync_pages\":true}");
}

typedef struct {
  PagingFake        *fake;
  SoupServerMessage *msg;
} HeldList;

/* The list is answered once the client holds the conversation joined
 * meanwhile, and the user wrote in it (the message waits in the outbox:
 * this server acknowledges no send). */
static gboolean
release_list_cb (gpointer data)
{
  HeldList *held = data;
  SsqClient *client = held->fake->tc->client;
  g_autoptr(SsqConversation) joined = ssq_cache_get_conversation (ssq_client_get_cache (client), "a0");
  g_autoptr(SsqMessage) typed = NULL;
  g_autoptr(GError) error = NULL;

  if (joined == NULL)
    return G_SOURCE_CONTINUE;
  typed = ssq_client_send_message (client, "a0", "typed meanwhile", 0, &error);
  g_assert_no_error (error);
  soup_server_message_unpause (held->msg);
  g_free (held);
  return G_SOURCE_REMOVE;
}

static void
paging_http_cb (SoupServer        *server,
                SoupServerMessage *msg,
                const char        *path,
                GHashTable        *query,
                gpointer           user_data)
{
  PagingFake *fake = user_data;
  GString *body = g_string_new ("{\"conversations\":[");

  if (fake->mode == PAGING_DURING_LIST && fake->lists == 0)
    {
      HeldList *held = g_new0 (HeldList, 1);

      *held = (HeldList) { fake, msg };
      soup_websocket_connection_send_text (g_object_get_data (G_OBJECT (server), "ws"),
        "{\"type\":\"conversation\",\"conversation\":{\"id\":\"a0\","
        "\"kind\":\"group\",\"title\":\"New\"}}");
      soup_server_message_pause (msg);
      g_timeout_add (5, release_list_cb, held);
    }
  fake->lists++;
  for (guint i = 0; i < 600; i++)
    g_string_append_printf (body, "%s{\"id\":\"c%04u\",\"kind\":\"group\",\"title\":\"t\"}",
                            i > 0 ? "," : "", i);
  g_string_append (body, "]}");
  soup_server_message_set_status (msg, fake->mode >= PAGING_FAILING ? 500 : 200, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY, body->str, body->len);
  g_string_free (body, TRUE);
}

/* A sync was asked for, and none runs now. */
static gboolean
sync_over (gpointer data)
{
  PagingFake *fake = data;

  return fake->syncs > 0 && !fake->tc->client->syncing;
}

static gboolean
listed_twice (gpointer data)
{
  return ((PagingFake *) data)->lists >= 2;
}

static gboolean
synced_once (gpointer data)
{
  return ((PagingFake *) data)->syncs >= 1;
}

/* The "a<n>" conversations joined during the sync that the cache holds. */
static guint
joins_held (SsqTestClient *tc,
            guint          first_pages)
{
  guint held = 0;

  for (guint i = 1; i <= first_pages; i++)
    {
      g_autofree char *id = g_strdup_printf ("a%u", i);
      g_autoptr(SsqConversation) conversation = ssq_cache_get_conversation (ssq_client_get_cache (tc->client), id);

      held += conversation != NULL;
    }
  return held;
}

static void
test_paging (gconstpointer data)
{
  g_autoptr(SoupServer) server = soup_server_new (NULL, NULL);
  g_autoptr(SsqTestClient) tc = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *url = NULL;
  PagingFake fake = { GPOINTER_TO_INT (data) };
  GError *last;

  soup_server_add_websocket_handler (server, "/api/v1/ws", NULL, NULL, paging_ws_cb, &fake, NULL);
  soup_server_add_handler (server, "/api", paging_http_cb, &fake, NULL);
  url = ssq_test_fake_server_url (server);
  tc = fake.tc = ssq_test_client_new (url, NULL);
  g_assert_true (ssq_client_set_session (tc->client, "eve", "u1", "token", &error));
  ssq_client_connect (tc->client);
  switch (fake.mode)
    {
    case PAGING_FAILING:
      /* Reported, no sync, the list asked again a while later. */
      g_assert_true (ssq_test_wait_until (listed_twice, &fake, SSQ_TEST_CLIENT_WAIT_MS));
      g_assert_cmpuint (fake.syncs, ==, 0);
      g_assert_cmpuint (tc->errors->len, >=, 1);
      break;
    case PAGING_OLD_FAILING:
      /* A server without pages gets its one sync all the same. */
      g_assert_true (ssq_test_wait_until (synced_once, &fake, SSQ_TEST_CLIENT_WAIT_MS));
      break;
    case PAGING_JOINS:
      g_assert_true (ssq_test_wait_until (sync_over, &fake, SSQ_TEST_CLIENT_WAIT_MS));
      g_assert_cmpuint (fake.first_pages, ==, 4);
      g_assert_cmpuint (fake.syncs, ==, 8);
      last = tc->errors->pdata[tc->errors->len - 1];
      g_assert_nonnull (strstr (last->message, "stopped after 4 passes"));
      g_assert_false (ssq_client_is_synced (tc->client));
      break;
    case PAGING_FULL:
      /* Only what was stored asks for a pass: before the retry after the
       * failed batch, whose sync has passes of its own. */
      g_assert_true (ssq_test_wait_until (sync_over, &fake, SSQ_TEST_CLIENT_WAIT_MS));
      g_test_message ("%u passes, %u joins held", fake.first_pages, joins_held (tc, fake.first_pages));
      g_assert_cmpuint (fake.first_pages, <=, 1 + joins_held (tc, fake.first_pages));
      ssq_test_set_file_limit (G_MAXUINT64);
      break;
    default:
      g_assert_true (ssq_test_wait_until (sync_over, &fake, SSQ_TEST_CLIENT_WAIT_MS));
      g_assert_cmpuint (fake.first_pages, ==, 1);
      g_assert_cmpuint (fake.syncs, ==, 2);
      g_assert_true (ssq_client_is_synced (tc->client));
      if (fake.mode == PAGING_DURING_LIST)
        {
          /* The list was built before the join: the conversation is not
           * gone, and neither is what the user wrote in it. Both were
           * removed with the list's reply, the message never sent. */
          g_autoptr(SsqConversation) joined = ssq_cache_get_conversation (ssq_client_get_cache (tc->client), "a0");

          g_assert_nonnull (joined);
          g_assert_cmpuint (ssq_cache_outbox_count (ssq_client_get_cache (tc->client)), ==, 1);
        }
      break;
    }

  g_clear_pointer (&tc, ssq_test_client_free);
  g_object_set_data (G_OBJECT (server), "ws", NULL);
  ssq_test_wait_ms (100);
  soup_server_disconnect (server);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_data_func ("/client/paging/unstorable", GINT_TO_POINTER (PAGING_UNSTORABLE),
                        test_paging);
  g_test_add_data_func ("/client/paging/joins", GINT_TO_POINTER (PAGING_JOINS),
                        test_paging);
  g_test_add_data_func ("/client/paging/later", GINT_TO_POINTER (PAGING_LATER),
                        test_paging);
  g_test_add_data_func ("/client/paging/disk-full", GINT_TO_POINTER (PAGING_FULL),
                        test_paging);
  g_test_add_data_func ("/client/paging/during-list", GINT_TO_POINTER (PAGING_DURING_LIST),
                        test_paging);
  g_test_add_data_func ("/client/paging/failing-list", GINT_TO_POINTER (PAGING_FAILING),
                        test_paging);
  g_test_add_data_func ("/client/paging/failing-list-without-pages",
                        GINT_TO_POINTER (PAGING_OLD_FAILING), test_paging);
  return g_test_run ();
}
