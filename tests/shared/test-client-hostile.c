/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-client-hostile.c: SsqClient against an in-process fake server that
 * answers with malformed HTTP replies and WebSocket frames. */
#include "ssq-proto.h"
#include "ssq-test-client.h"

#include <string.h>

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

/* ---- A server that always cuts the sync short ----------------------- */

static void
endless_sync_message_cb (SoupWebsocketConnection *connection,
                         gint                     type,
                         GBytes                  *message,
                         gpointer                 user_data)
{
  guint *syncs = user_data;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autofree char *ack = NULL;
  JsonObject *frame;

  if (!json_parser_load_from_data (parser, g_bytes_get_data (message, NULL),
                                   g_bytes_get_size (message), NULL))
    return;
  frame = json_node_get_object (json_parser_get_root (parser));
  if (g_strcmp0 (json_object_get_string_member_with_default (frame, "type", ""), "sync") != 0)
    return;
  (*syncs)++;
  ack = g_strdup_printf ("{\"type\":\"ack\",\"id\":%" G_GINT64_FORMAT ",\"truncated\":[\"c1\"]}",
                         json_object_get_int_member (frame, "id"));
  soup_websocket_connection_send_text (connection, ack);
}

static void
endless_sync_ws_cb (SoupServer              *server,
                    SoupServerMessage       *msg,
                    const char              *path,
                    SoupWebsocketConnection *connection,
                    gpointer                 user_data)
{
  g_object_set_data_full (G_OBJECT (server), "ws", g_object_ref (connection), g_object_unref);
  g_signal_connect (connection, "message", G_CALLBACK (endless_sync_message_cb), user_data);
  soup_websocket_connection_send_text (connection,
    "{\"type\":\"welcome\",\"user\":{\"id\":\"u1\",\"username\":\"eve\"},"
    "\"session_id\":\"s\",\"server_time\":1}");
}

/* Replies of a size no protocol reply has: one declared up front, one
 * chunked without a length. */
#define HUGE_BODY (17 * 1024 * 1024)

static void
huge_http_cb (SoupServer        *server,
              SoupServerMessage *msg,
              const char        *path,
              GHashTable        *query,
              gpointer           user_data)
{
  static const char head[] = "{\"conversations\":[],\"users\":[],\"pad\":\"";
  char *body = g_malloc (HUGE_BODY);

  /* A valid reply but for its size: only the limit refuses it. */
  memset (body, 'x', HUGE_BODY);
  memcpy (body, head, strlen (head));
  memcpy (body + HUGE_BODY - 2, "\"}", 2);
  soup_server_message_set_status (msg, 200, NULL);
  if (g_str_has_suffix (path, "/users"))
    {
      SoupMessageBody *out = soup_server_message_get_response_body (msg);

      soup_message_headers_set_encoding (soup_server_message_get_response_headers (msg),
                                         SOUP_ENCODING_CHUNKED);
      soup_message_headers_set_content_type (soup_server_message_get_response_headers (msg),
                                             "application/json", NULL);
      for (gsize at = 0; at < HUGE_BODY; at += 1024 * 1024)
        soup_message_body_append (out, SOUP_MEMORY_COPY, body + at, MIN (1024 * 1024, HUGE_BODY - at));
      soup_message_body_complete (out);
      g_free (body);
    }
  else
    soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_TAKE, body, HUGE_BODY);
}

static char *
fake_server_url (SoupServer *fake)
{
  g_autoptr(GError) error = NULL;
  GSList *uris;
  char *url;

  g_assert_true (soup_server_listen_local (fake, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error));
  uris = soup_server_get_uris (fake);
  url = g_strdup_printf ("http://127.0.0.1:%d", g_uri_get_port (uris->data));
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  return url;
}

static gboolean
stopped_syncing (gpointer data)
{
  return ((SsqTestClient *) data)->errors->len > 0;
}

/* A sync that the server always says it cut short stops with an error
 * after a bounded number of requests, and a reply body larger than any
 * the protocol has is refused, whether its length is declared or not. */
static void
test_hostile_sizes (void)
{
  g_autoptr(SoupServer) fake = soup_server_new (NULL, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(SsqTestClient) tc = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GPtrArray) users = NULL;
  g_autoptr(GPtrArray) conversations = NULL;
  g_autofree char *url = NULL;
  guint syncs = 0;
  GError *stopped;

  soup_server_add_websocket_handler (fake, "/api/v1/ws", NULL, NULL, endless_sync_ws_cb, &syncs, NULL);
  soup_server_add_handler (fake, "/api", huge_http_cb, NULL, NULL);
  url = fake_server_url (fake);

  tc = ssq_test_client_new (url, NULL);
  g_assert_true (ssq_client_set_session (tc->client, "eve", "u1", "token", &error));

  ssq_client_fetch_conversations_async (tc->client, NULL, ssq_test_store_result, &result);
  conversations = ssq_client_fetch_conversations_finish (tc->client, ssq_test_client_wait_result (&result), &error);
  g_assert_null (conversations);
  g_assert_error (error, SSQ_ERROR, SSQ_ERROR_PROTOCOL);
  g_test_message ("declared: %s", error->message);
  g_clear_error (&error);
  g_clear_object (&result);
  ssq_client_search_users_async (tc->client, "a", 10, NULL, ssq_test_store_result, &result);
  users = ssq_client_search_users_finish (tc->client, ssq_test_client_wait_result (&result), &error);
  g_assert_null (users);
  g_assert_error (error, SSQ_ERROR, SSQ_ERROR_PROTOCOL);
  g_test_message ("chunked: %s", error->message);
  g_clear_error (&error);

  ssq_client_connect (tc->client);
  g_assert_true (ssq_test_wait_until (stopped_syncing, tc, SSQ_TEST_CLIENT_WAIT_MS));
  stopped = tc->errors->pdata[tc->errors->len - 1];
  g_assert_error (stopped, SSQ_ERROR, SSQ_ERROR_PROTOCOL);
  g_test_message ("sync: %s (%u requests)", stopped->message, syncs);
  g_assert_cmpuint (syncs, <=, 4);
  g_assert_false (ssq_client_is_synced (tc->client));

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
  g_test_add_func ("/client/hostile-sizes", test_hostile_sizes);
  return g_test_run ();
}
