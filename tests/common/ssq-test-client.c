/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-test-client.c: an SsqClient for tests, recording its signals, with the
 * calls and waits the client tests share. */
#include "ssq-test-client.h"
#include "ssq-test-limits.h"

#include <glib/gstdio.h>

static void
errors_cb (SsqClient     *client,
           const GError  *error,
           SsqTestClient *tc)
{
  g_ptr_array_add (tc->errors, g_error_copy (error));
}

static void
typing_cb (SsqClient     *client,
           const char    *conversation_id,
           const char    *user_id,
           gboolean       active,
           SsqTestClient *tc)
{
  g_ptr_array_add (tc->typing, g_strdup_printf ("%s:%s:%d", conversation_id, user_id, active));
}

static void
presence_cb (SsqClient     *client,
             SsqUser       *user,
             SsqTestClient *tc)
{
  g_ptr_array_add (tc->presence, g_strdup_printf ("%s:%s", ssq_user_get_id (user),
                                                  ssq_user_get_presence (user)));
}

static void
synced_cb (SsqClient     *client,
           SsqTestClient *tc)
{
  tc->synced++;
}

static void
notification_cb (SsqClient     *client,
                 const char    *conversation_id,
                 gint64         seq,
                 const char    *reason,
                 SsqTestClient *tc)
{
  tc->notifications++;
  g_ptr_array_add (tc->notes, g_strdup_printf ("%s:%" G_GINT64_FORMAT ":%s",
                                               conversation_id, seq, reason));
}

SsqTestClient *
ssq_test_client_new (const char *url,
                     const char *dir)
{
  SsqTestClient *tc = g_new0 (SsqTestClient, 1);
  g_autoptr(GError) error = NULL;

  tc->dir = dir ? g_strdup (dir) : g_dir_make_tmp ("ssq-client-XXXXXX", &error);
  g_assert_no_error (error);
  {
    /* Pins in the client's own directory, never the user's. */
    g_autofree char *pins = g_build_filename (tc->dir, "known-servers.ini", NULL);

    tc->client = g_object_new (SSQ_TYPE_CLIENT, "server-url", url, "data-dir", tc->dir,
                               "known-servers", pins, NULL);
  }
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

void
ssq_test_client_free_full (SsqTestClient *tc,
                           gboolean       remove)
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

void
ssq_test_client_free (SsqTestClient *tc)
{
  ssq_test_client_free_full (tc, TRUE);
}

GAsyncResult *
ssq_test_client_wait_result (GAsyncResult **slot)
{
  return ssq_test_wait_result (slot, SSQ_TEST_CLIENT_WAIT_MS);
}

static gboolean
is_synced (gpointer data)
{
  return ssq_client_is_synced (((SsqTestClient *) data)->client);
}

void
ssq_test_client_go_online (SsqTestClient *tc)
{
  ssq_client_connect (tc->client);
  g_assert_true (ssq_test_wait_until (is_synced, tc, SSQ_TEST_CLIENT_WAIT_MS));
}

SsqTestClient *
ssq_test_client_new_registered (SsqTestServer *server,
                                const char    *username)
{
  SsqTestClient *tc = ssq_test_client_new (server->url, NULL);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  ssq_client_register_async (tc->client, username, "password123", NULL, NULL, ssq_test_store_result, &result);
  g_assert_true (ssq_client_register_finish (tc->client, ssq_test_client_wait_result (&result), &error));
  g_assert_no_error (error);
  g_assert_nonnull (ssq_client_get_user_id (tc->client));
  ssq_test_client_go_online (tc);
  return tc;
}

void
ssq_test_client_log_in (SsqTestClient *tc,
                        const char    *username)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  ssq_client_login_async (tc->client, username, "password123", NULL, ssq_test_store_result, &result);
  g_assert_true (ssq_client_login_finish (tc->client, ssq_test_client_wait_result (&result), &error));
  g_assert_no_error (error);
}

SsqConversation *
ssq_test_client_create_direct (SsqTestClient *tc,
                               const char    *username)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  SsqConversation *conversation;

  ssq_client_create_direct_async (tc->client, username, NULL, ssq_test_store_result, &result);
  conversation = ssq_client_conversation_finish (tc->client, ssq_test_client_wait_result (&result), &error);
  g_assert_no_error (error);
  return conversation;
}

SsqConversation *
ssq_test_client_create_group (SsqTestClient     *tc,
                              const char        *title,
                              const char *const *members)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  SsqConversation *conversation;

  ssq_client_create_group_async (tc->client, title, members, NULL, ssq_test_store_result, &result);
  conversation = ssq_client_conversation_finish (tc->client, ssq_test_client_wait_result (&result), &error);
  g_assert_no_error (error);
  return conversation;
}

void
ssq_test_client_send_text (SsqTestClient *tc,
                           const char    *conversation_id,
                           const char    *body)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SsqMessage) pending = ssq_client_send_message (tc->client, conversation_id, body, 0, &error);

  g_assert_no_error (error);
  g_assert_true (ssq_message_is_pending (pending));
}

/* One message looked for in a client's cache: there at all, or there with
 * @status. */
typedef struct {
  SsqTestClient   *tc;
  const char      *conversation_id;
  gint64           seq;
  gboolean         any_status;
  SsqMessageStatus status;
} CachedMessage;

static gboolean
cached_message_matches (gpointer data)
{
  CachedMessage *want = data;
  g_autoptr(SsqMessage) message = ssq_cache_get_message (ssq_client_get_cache (want->tc->client),
                                                         want->conversation_id, want->seq);

  return message != NULL && (want->any_status || ssq_message_get_status (message) == want->status);
}

void
ssq_test_client_wait_for_seq (SsqTestClient *tc,
                              const char    *conversation_id,
                              gint64         seq)
{
  CachedMessage want = { tc, conversation_id, seq, TRUE, 0 };

  g_assert_true (ssq_test_wait_until (cached_message_matches, &want, SSQ_TEST_CLIENT_WAIT_MS));
}

gboolean
ssq_test_client_has_status (SsqTestClient   *tc,
                            const char      *conversation_id,
                            gint64           seq,
                            SsqMessageStatus status)
{
  CachedMessage want = { tc, conversation_id, seq, FALSE, status };

  return cached_message_matches (&want);
}

void
ssq_test_client_wait_for_status (SsqTestClient   *tc,
                                 const char      *conversation_id,
                                 gint64           seq,
                                 SsqMessageStatus status)
{
  CachedMessage want = { tc, conversation_id, seq, FALSE, status };

  g_assert_true (ssq_test_wait_until (cached_message_matches, &want, SSQ_TEST_CLIENT_WAIT_MS));
}

typedef struct {
  SsqTestClient *tc;
  guint          n;
} ErrorCount;

static gboolean
has_errors (gpointer data)
{
  ErrorCount *want = data;

  return want->tc->errors->len >= want->n;
}

void
ssq_test_client_wait_for_errors (SsqTestClient *tc,
                                 guint          n)
{
  ErrorCount want = { tc, n };

  g_assert_true (ssq_test_wait_until (has_errors, &want, SSQ_TEST_CLIENT_WAIT_MS));
}

/* The frame a client sent, when it is an object of @type. */
JsonObject *
ssq_test_frame_of_type (GBytes     *message,
                        const char *type)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonNode *root;

  if (!json_parser_load_from_data (parser, g_bytes_get_data (message, NULL),
                                   g_bytes_get_size (message), NULL) ||
      (root = json_parser_get_root (parser)) == NULL || !JSON_NODE_HOLDS_OBJECT (root) ||
      g_strcmp0 (json_object_get_string_member_with_default (json_node_get_object (root), "type", ""),
                 type) != 0)
    return NULL;
  return json_object_ref (json_node_get_object (root));
}

/* Listens on a free loopback port; the URL a client connects to. */
char *
ssq_test_fake_server_url (SoupServer *fake)
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

/* @tc's cache's log may grow no more from now on (until the limit is
 * lifted with ssq_test_set_file_limit). */
void
ssq_test_client_fill_disk (SsqTestClient *tc)
{
  g_autofree char *wal = g_strconcat (ssq_cache_get_path (ssq_client_get_cache (tc->client)),
                                      "-wal", NULL);
  GStatBuf st;

  g_assert_cmpint (g_stat (wal, &st), ==, 0);
  ssq_test_set_file_limit ((guint64) st.st_size);
}
