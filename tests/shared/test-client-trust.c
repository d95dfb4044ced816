/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-client-trust.c: trust on first use, the real server with TLS and
 * the real client library. The first connection fails with the fingerprint
 * the server printed; trusted, the client registers and chats over wss; a
 * server restarted with a new key is refused (REST and WebSocket alike)
 * until its key is forgotten and trusted again; a key pinned wrongly in
 * advance is refused; plain ws:// to an address that is not loopback is
 * refused before anything is sent; the pins' file. */
#include <glib/gstdio.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <string.h>
#include <sys/stat.h>

#include "ssq-invite-link.h"
#include "ssq-proto.h"
#include "ssq-test-client.h"
#include "ssq-trust.h"


/* Where a server's stderr goes: a file in a directory of its own (other
 * runs of these tests may be going on). */
static char *
log_path_new (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("ssq-trust-log-XXXXXX", &error);

  g_assert_no_error (error);
  return g_build_filename (dir, "server.log", NULL);
}

static void
log_path_free (char *log)
{
  g_autofree char *dir = g_path_get_dirname (log);

  ssq_test_remove_tree (dir);
  g_free (log);
}

typedef char LogPath;
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LogPath, log_path_free)

/* A server with TLS (the default), its stderr in @log. */
static SsqTestServer *
start_server (const char *data_dir,
              const char *log)
{
  SsqTestServer *server = ssq_test_server_start_logged (data_dir, NULL, log, FALSE);

  g_assert_nonnull (server->https_url);
  return server;
}

static gboolean
register_user (SsqTestClient *tc,
               const char    *username,
               GError       **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  ssq_client_register_async (tc->client, username, "password123", NULL, NULL,
                             ssq_test_store_result, &result);
  return ssq_client_register_finish (tc->client, ssq_test_client_wait_result (&result), error);
}

static gboolean
log_in (SsqTestClient *tc,
        const char    *username,
        GError       **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  ssq_client_login_async (tc->client, username, "password123", NULL, ssq_test_store_result, &result);
  return ssq_client_login_finish (tc->client, ssq_test_client_wait_result (&result), error);
}

static gboolean
check_server (SsqTestClient *tc,
              GError       **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  ssq_client_check_server_async (tc->client, NULL, ssq_test_store_result, &result);
  return ssq_client_check_server_finish (tc->client, ssq_test_client_wait_result (&result), error);
}

static gboolean
is_disconnected (gpointer data)
{
  SsqTestClient *tc = data;

  return tc->errors->len > 0 && ssq_client_get_state (tc->client) == SSQ_CLIENT_DISCONNECTED;
}

/* Connects @tc (its session set) and expects the WebSocket to be refused
 * with @code: the client stops, it does not retry. */
static const GError *
expect_connect_refused (SsqTestClient *tc,
                        SsqError       code)
{
  const GError *error;

  ssq_client_connect (tc->client);
  g_assert_true (ssq_test_wait_until (is_disconnected, tc, SSQ_TEST_CLIENT_WAIT_MS));
  error = tc->errors->pdata[tc->errors->len - 1];
  g_assert_error (error, SSQ_ERROR, (int) code);
  return error;
}

/* First use: untrusted with the printed fingerprint; trusted, two users
 * chat over wss. */
static void
test_first_use (void)
{
  g_autoptr(LogPath) log = log_path_new ();
  g_autoptr(SsqTestServer) server = start_server (NULL, log);
  g_autofree char *printed = ssq_test_server_printed_fingerprint (log, TRUE);
  g_autoptr(SsqTestClient) alice = ssq_test_client_new (server->https_url, NULL);
  g_autoptr(SsqTestClient) bob = ssq_test_client_new (server->https_url, NULL);
  g_autoptr(SsqConversation) dm = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) info = NULL;
  guint status = 0;

  /* The same pin over REST: GET /api/v1/server. */
  info = ssq_test_http (server, "GET", "/api/v1/server", NULL, NULL, &status);
  g_assert_cmpuint (status, ==, 200);
  {
    g_autofree char *reported = ssq_fingerprint_normalize (
      json_object_get_string_member (json_object_get_object_member (info, "tls"), "fingerprint"));

    g_assert_cmpstr (reported, ==, printed);
  }

  g_assert_false (register_user (alice, "alice", &error));
  g_assert_error (error, SSQ_ERROR, SSQ_ERROR_UNTRUSTED);
  g_assert_cmpstr (ssq_error_get_fingerprint (error), ==, printed);
  g_assert_null (ssq_error_get_pinned_fingerprint (error));
  g_test_message ("untrusted: %s", error->message);
  g_clear_error (&error);
  /* Nothing was sent: the account does not exist. */
  g_assert_false (check_server (alice, &error));
  g_assert_error (error, SSQ_ERROR, SSQ_ERROR_UNTRUSTED);
  g_clear_error (&error);

  /* Trusted as shown (the grouped form, as the person saw it). */
  {
    g_autofree char *grouped = ssq_trust_fingerprint_display (printed);

    g_assert_true (ssq_client_trust_server (alice->client, NULL, grouped, &error));
    g_assert_no_error (error);
  }
  g_assert_true (check_server (alice, &error));
  g_assert_no_error (error);
  g_assert_true (register_user (alice, "alice", &error));
  g_assert_no_error (error);
  ssq_test_client_go_online (alice);

  /* bob's pin comes in advance (an invite link's). */
  g_assert_true (ssq_client_trust_server (bob->client, server->https_url, printed, &error));
  g_assert_true (register_user (bob, "bob", &error));
  g_assert_no_error (error);
  ssq_test_client_go_online (bob);

  dm = ssq_test_client_create_direct (alice, "bob");
  ssq_test_client_send_text (alice, ssq_conversation_get_id (dm), "over wss");
  ssq_test_client_wait_for_status (alice, ssq_conversation_get_id (dm), 1, SSQ_MESSAGE_SENT);
  ssq_test_client_wait_for_seq (bob, ssq_conversation_get_id (dm), 1);
  g_assert_cmpuint (alice->errors->len, ==, 0);
  g_assert_cmpuint (bob->errors->len, ==, 0);
}

/* A new key after a restart: refused over REST and over the WebSocket,
 * with both fingerprints; forgotten and trusted again, it works. */
static void
test_key_changed (void)
{
  g_autoptr(LogPath) log = log_path_new ();
  g_autoptr(SsqTestServer) server = start_server (NULL, log);
  g_autofree char *old_fp = ssq_test_server_printed_fingerprint (log, TRUE);
  g_autofree char *new_fp = NULL;
  g_autofree char *cert = g_build_filename (server->data_dir, "tls-cert.pem", NULL);
  g_autofree char *key = g_build_filename (server->data_dir, "tls-key.pem", NULL);
  g_autoptr(SsqTestClient) alice = ssq_test_client_new (server->https_url, NULL);
  g_autoptr(GError) error = NULL;
  const GError *refused;

  g_assert_true (ssq_client_trust_server (alice->client, NULL, old_fp, &error));
  g_assert_true (register_user (alice, "alice", &error));
  g_assert_no_error (error);
  ssq_test_client_go_online (alice);
  ssq_client_disconnect (alice->client);

  /* The server gets a new key. */
  g_assert_cmpint (ssq_test_server_stop (server), ==, 0);
  g_assert_cmpint (g_unlink (cert), ==, 0);
  g_assert_cmpint (g_unlink (key), ==, 0);
  g_unlink (log);
  ssq_test_server_restart (server);
  new_fp = ssq_test_server_printed_fingerprint (log, TRUE);
  g_assert_cmpstr (new_fp, !=, old_fp);

  /* The WebSocket, with the saved session. */
  refused = expect_connect_refused (alice, SSQ_ERROR_KEY_CHANGED);
  g_assert_cmpstr (ssq_error_get_fingerprint (refused), ==, new_fp);
  g_assert_cmpstr (ssq_error_get_pinned_fingerprint (refused), ==, old_fp);
  g_assert_nonnull (strstr (refused->message, "forget-server"));
  g_test_message ("changed: %s", refused->message);
  /* It stays down: no retry. */
  ssq_test_wait_ms (1000);
  g_assert_cmpint (ssq_client_get_state (alice->client), ==, SSQ_CLIENT_DISCONNECTED);

  /* REST. */
  g_assert_false (log_in (alice, "alice", &error));
  g_assert_error (error, SSQ_ERROR, SSQ_ERROR_KEY_CHANGED);
  g_clear_error (&error);
  /* Pinning the new key over the old one is refused too. */
  g_assert_false (ssq_client_trust_server (alice->client, NULL, new_fp, &error));
  g_assert_error (error, SSQ_ERROR, SSQ_ERROR_KEY_CHANGED);
  g_clear_error (&error);

  /* Forgotten on purpose: asked again, trusted, and back. */
  {
    gboolean found = FALSE;

    g_assert_true (ssq_client_forget_server (alice->client, NULL, &found, &error));
    g_assert_true (found);
  }
  g_assert_false (check_server (alice, &error));
  g_assert_error (error, SSQ_ERROR, SSQ_ERROR_UNTRUSTED);
  g_assert_cmpstr (ssq_error_get_fingerprint (error), ==, new_fp);
  g_clear_error (&error);
  g_assert_true (ssq_client_trust_server (alice->client, NULL, new_fp, &error));
  g_assert_true (log_in (alice, "alice", &error));
  g_assert_no_error (error);
  ssq_test_client_go_online (alice);
}

/* A wrong key pinned in advance: the WebSocket alone (a saved session, no
 * REST call before it) is refused. */
static void
test_wrong_pin_websocket (void)
{
  g_autoptr(LogPath) log = log_path_new ();
  g_autoptr(SsqTestServer) server = start_server (NULL, log);
  g_autofree char *printed = ssq_test_server_printed_fingerprint (log, TRUE);
  g_autoptr(SsqTestUser) user = ssq_test_register (server, "alice");
  g_autoptr(SsqTestClient) tc = ssq_test_client_new (server->https_url, NULL);
  g_autofree char *wrong = g_strconcat ("sha256:", "00000000000000000000000000000000",
                                        "00000000000000000000000000000000", NULL);
  g_autoptr(GError) error = NULL;
  const GError *refused;

  g_assert_true (ssq_client_trust_server (tc->client, NULL, wrong, &error));
  g_assert_true (ssq_client_set_session (tc->client, "alice", user->id, user->token, &error));
  g_assert_no_error (error);
  refused = expect_connect_refused (tc, SSQ_ERROR_KEY_CHANGED);
  g_assert_cmpstr (ssq_error_get_fingerprint (refused), ==, printed);
  g_assert_cmpstr (ssq_error_get_pinned_fingerprint (refused), ==, wrong);
}

/* This machine's first IPv4 address that is not loopback, or NULL. */
static char *
lan_address (void)
{
  struct ifaddrs *list = NULL;
  char *found = NULL;

  if (getifaddrs (&list) != 0)
    return NULL;
  for (struct ifaddrs *i = list; i != NULL && found == NULL; i = i->ifa_next)
    {
      char text[INET_ADDRSTRLEN];
      struct sockaddr_in *in = (struct sockaddr_in *) i->ifa_addr;

      if (in == NULL || in->sin_family != AF_INET ||
          (ntohl (in->sin_addr.s_addr) >> 24) == 127)
        continue;
      if (inet_ntop (AF_INET, &in->sin_addr, text, sizeof text) != NULL)
        found = g_strdup (text);
    }
  freeifaddrs (list);
  return found;
}

/* Plain http:// and ws:// to an address that is not loopback: refused by
 * the library before anything is sent, unless insecure. */
static void
test_plain_lan_refused (void)
{
  g_autofree char *address = lan_address ();
  g_autoptr(SsqTestServer) server = NULL;
  g_autoptr(SsqTestUser) user = NULL;
  g_autoptr(SsqTestClient) tc = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *url = NULL;
  const char *port;

  if (address == NULL)
    {
      g_test_skip ("this machine has no LAN address to try plain HTTP on");
      return;
    }
  /* Plain HTTP allowed to every peer: only the client stands in the way
   * (it refuses before connecting: not "unreachable"). */
  server = ssq_test_server_start (NULL, "[tls]\nplain_http=any\n");
  port = strrchr (server->listen, ':') + 1;
  url = g_strdup_printf ("http://%s:%s", address, port);
  user = ssq_test_register (server, "alice");
  tc = ssq_test_client_new (url, NULL);

  g_assert_false (register_user (tc, "bob", &error));
  g_assert_error (error, SSQ_ERROR, SSQ_ERROR_INSECURE);
  g_test_message ("insecure: %s", error->message);
  g_clear_error (&error);
  g_assert_true (ssq_client_set_session (tc->client, "alice", user->id, user->token, &error));
  expect_connect_refused (tc, SSQ_ERROR_INSECURE);

  /* ws:// itself, and loopback names pass. */
  g_assert_false (ssq_trust_check_transport ("ws://192.0.2.9:1/api/v1/ws", FALSE, NULL));
  g_assert_true (ssq_trust_check_transport ("ws://127.0.0.1:1/api/v1/ws", FALSE, NULL));
  g_assert_true (ssq_trust_check_transport ("http://[::1]:1", FALSE, NULL));
  g_assert_true (ssq_trust_check_transport ("http://LocalHost:1", FALSE, NULL));
  g_assert_true (ssq_trust_check_transport ("http://chat.localhost:1", FALSE, NULL));
  g_assert_false (ssq_trust_check_transport ("http://localhost.evil.example:1", FALSE, NULL));
  g_assert_false (ssq_trust_check_transport ("http://127.0.0.1.nip.io:1", FALSE, NULL));
  g_assert_true (ssq_trust_check_transport ("https://192.0.2.9:1", FALSE, NULL));
}

/* The pins' file: forms, one per HOST:PORT, 0600, no silent replace, an
 * unreadable file an error. */
static void
test_store (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("ssq-trust-XXXXXX", &error);
  g_autofree char *store = g_build_filename (dir, "sub", "known-servers.ini", NULL);
  g_autofree char *got = NULL;
  g_autofree char *key = NULL;
  const char *fp = "sha256:4C:EF:75:11:23:37:7B:81:9F:15:20:5F:08:4E:C7:E3:E3:2B:91:C7:EA:E2:45:F1:60:04:99:AD:E2:C3:E2:96";
  const char *compact = "sha256:4cef751123377b819f15205f084ec7e3e32b91c7eae245f1600499ade2c3e296";
  GStatBuf st;
  gboolean found = TRUE;

  key = ssq_trust_server_key ("wss://Chat.LAN/api/v1/ws", &error);
  g_assert_cmpstr (key, ==, "chat.lan:443");
  g_clear_pointer (&key, g_free);
  key = ssq_trust_server_key ("https://[FD00::2]:8443", &error);
  g_assert_cmpstr (key, ==, "fd00::2:8443");
  g_assert_null (ssq_trust_server_key ("ftp://x", NULL));

  g_assert_null (ssq_trust_lookup (store, "https://chat.lan:8443", &error));
  g_assert_no_error (error);
  g_assert_true (ssq_trust_pin (store, "https://chat.lan:8443", fp, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_stat (store, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  got = ssq_trust_lookup (store, "wss://CHAT.lan:8443/api/v1/ws", &error);
  g_assert_cmpstr (got, ==, compact);
  /* Per port. */
  g_assert_null (ssq_trust_lookup (store, "https://chat.lan:8444", &error));
  /* The same again is fine; another is refused. */
  g_assert_true (ssq_trust_pin (store, "https://chat.lan:8443", compact, &error));
  g_assert_false (ssq_trust_pin (store, "https://chat.lan:8443",
                                 "sha256:0000000000000000000000000000000000000000000000000000000000000000",
                                 &error));
  g_assert_error (error, SSQ_ERROR, SSQ_ERROR_KEY_CHANGED);
  g_clear_error (&error);
  g_assert_false (ssq_trust_pin (store, "https://chat.lan:8443", "sha256:12", &error));
  g_assert_error (error, SSQ_ERROR, SSQ_ERROR_INVALID);
  g_clear_error (&error);
  /* IPv6. */
  g_assert_true (ssq_trust_pin (store, "https://[fd00::2]:8443", fp, &error));
  g_clear_pointer (&got, g_free);
  got = ssq_trust_lookup (store, "https://[fd00::2]:8443", &error);
  g_assert_cmpstr (got, ==, compact);

  g_assert_true (ssq_trust_forget (store, "https://chat.lan:8443", &found, &error));
  g_assert_true (found);
  g_assert_true (ssq_trust_forget (store, "https://chat.lan:8443", &found, &error));
  g_assert_false (found);
  g_assert_null (ssq_trust_lookup (store, "https://chat.lan:8443", &error));
  g_assert_no_error (error);

  /* Damaged: an error, never "nothing pinned". */
  g_assert_true (g_file_set_contents (store, "[chat.lan:8443\nfingerprint=x\n", -1, NULL));
  g_assert_null (ssq_trust_lookup (store, "https://chat.lan:8443", &error));
  g_assert_error (error, SSQ_ERROR, SSQ_ERROR_INTERNAL);
  g_clear_error (&error);
  g_assert_true (g_file_set_contents (store, "[chat.lan:8443]\nfingerprint=junk\n", -1, NULL));
  g_assert_null (ssq_trust_lookup (store, "https://chat.lan:8443", &error));
  g_assert_error (error, SSQ_ERROR, SSQ_ERROR_INTERNAL);
  g_clear_error (&error);

  {
    g_autofree char *lines = ssq_trust_fingerprint_lines (compact, 8);

    g_assert_cmpstr (lines, ==, "sha256:4C:EF:75:11:23:37:7B:81\n9F:15:20:5F:08:4E:C7:E3\n"
                                "E3:2B:91:C7:EA:E2:45:F1\n60:04:99:AD:E2:C3:E2:96");
  }
  ssq_test_remove_tree (dir);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/client/trust/first-use", test_first_use);
  g_test_add_func ("/client/trust/key-changed", test_key_changed);
  g_test_add_func ("/client/trust/wrong-pin-websocket", test_wrong_pin_websocket);
  g_test_add_func ("/client/trust/plain-lan-refused", test_plain_lan_refused);
  g_test_add_func ("/client/trust/store", test_store);
  return g_test_run ();
}
