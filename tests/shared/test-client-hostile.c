/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-client-hostile.c: SsqClient against an in-process fake server that
 * answers with malformed HTTP replies and WebSocket frames. */
#include "ssq-proto.h"
#include "ssq-test-client.h"

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

/* A server that breaks the protocol: the client reports errors and goes on. */
static void
test_hostile_server (void)
{
  g_autoptr(SoupServer) fake = soup_server_new (NULL, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(SsqTestClient) tc = NULL;
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

  tc = ssq_test_client_new (url, NULL);
  ssq_client_login_async (tc->client, "eve", "password123", NULL, ssq_test_store_result, &result);
  g_assert_false (ssq_client_login_finish (tc->client, ssq_test_client_wait_result (&result), &error));
  g_assert_error (error, SSQ_ERROR, SSQ_ERROR_PROTOCOL);
  g_clear_error (&error);

  g_assert_true (ssq_client_set_session (tc->client, "eve", "u1", "token", &error));
  ssq_client_connect (tc->client);
  ssq_test_client_wait_for_errors (tc, 13);
  g_assert_cmpint (ssq_client_get_state (tc->client), ==, SSQ_CLIENT_ONLINE);
  /* The client derives notifications, so asks the server for no frames. */
  g_assert_cmpstr (g_object_get_data (G_OBJECT (fake), "ws-query"), ==, "notifications=client");
  for (guint i = 0; i < tc->errors->len; i++)
    g_assert_true (((GError *) tc->errors->pdata[i])->domain == SSQ_ERROR);

  g_clear_object (&result);
  ssq_client_search_users_async (tc->client, "a", 10, NULL, ssq_test_store_result, &result);
  users = ssq_client_search_users_finish (tc->client, ssq_test_client_wait_result (&result), &error);
  g_assert_null (users);
  g_assert_error (error, SSQ_ERROR, SSQ_ERROR_INTERNAL);
  g_clear_error (&error);
  g_clear_object (&result);
  ssq_client_fetch_conversations_async (tc->client, NULL, ssq_test_store_result, &result);
  conversations = ssq_client_fetch_conversations_finish (tc->client, ssq_test_client_wait_result (&result), &error);
  g_assert_null (conversations);
  g_assert_error (error, SSQ_ERROR, SSQ_ERROR_PROTOCOL);

  /* Let both ends close their connections before the server goes. */
  g_clear_pointer (&tc, ssq_test_client_free);
  g_object_set_data (G_OBJECT (fake), "ws", NULL);
  ssq_test_wait_ms (100);
  soup_server_disconnect (fake);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/client/hostile-server", test_hostile_server);
  return g_test_run ();
}
