/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-bench-client.c: figures for the client library against the real
 * server: outbox throughput (written, sent, acked), first sync of a long
 * conversation into an empty cache, opening the cache with its models, and
 * full-text search. Not part of the test run. */
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "ssq-client.h"
#include "ssq-conversation-list.h"
#include "ssq-message-list.h"
#include "ssq-test-server.h"


static gboolean
synced (gpointer data)
{
  return ssq_client_is_synced (data);
}

static gboolean
outbox_empty (gpointer data)
{
  return ssq_cache_outbox_count (ssq_client_get_cache (data)) == 0;
}

static SsqClient *
client_for (SsqTestServer *server,
            const char    *dir,
            const char    *username,
            gboolean       create)
{
  SsqClient *client = ssq_client_new (server->url, dir);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  g_object_set (client, "sync-window", 1000000, NULL);
  if (create)
    {
      ssq_client_register_async (client, username, "password123", NULL, NULL, ssq_test_store_result, &result);
      ssq_test_wait_result (&result, 10000);
      g_assert_true (ssq_client_register_finish (client, result, &error));
    }
  else
    {
      ssq_client_login_async (client, username, "password123", NULL, ssq_test_store_result, &result);
      ssq_test_wait_result (&result, 10000);
      g_assert_true (ssq_client_login_finish (client, result, &error));
    }
  return client;
}

/* CPU time of this process (the client side; the server is another). */
static gint64
cpu_us (void)
{
  struct rusage usage;

  getrusage (RUSAGE_SELF, &usage);
  return (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * G_USEC_PER_SEC +
         usage.ru_utime.tv_usec + usage.ru_stime.tv_usec;
}

static gint64
rss_kb (void)
{
  g_autofree char *status = NULL;
  const char *p;

  if (g_file_get_contents ("/proc/self/status", &status, NULL, NULL) && (p = strstr (status, "VmRSS:")))
    return g_ascii_strtoll (p + 6, NULL, 10);
  return 0;
}

int
main (int    argc,
      char **argv)
{
  guint n = argc > 1 ? (guint) atoi (argv[1]) : 10000;
  g_autoptr(SsqTestServer) server = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *dir_a = g_dir_make_tmp ("ssq-bench-XXXXXX", NULL);
  g_autofree char *dir_b = g_dir_make_tmp ("ssq-bench-XXXXXX", NULL);
  g_autofree char *bin = NULL;
  g_autoptr(SsqClient) alice = NULL;
  g_autoptr(SsqClient) bob = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(SsqConversation) dm = NULL;
  g_autofree char *dm_id = NULL;
  gint64 t0, t1;
  GStatBuf st;

  if (g_getenv ("SSQ_SERVER_BIN") == NULL)
    {
      g_autofree char *dir = g_path_get_dirname (argv[0]);
      bin = g_build_filename (dir, "..", "..", "server", "supersoniq-server", NULL);
      g_setenv ("SSQ_SERVER_BIN", bin, TRUE);
    }
  server = ssq_test_server_start (NULL, NULL);
  alice = client_for (server, dir_a, "alice", TRUE);
  {
    g_autoptr(SsqClient) b = client_for (server, dir_b, "bob", TRUE);
  }
  ssq_client_connect (alice);
  ssq_test_wait_until (synced, alice, 10000);
  ssq_client_create_direct_async (alice, "bob", NULL, ssq_test_store_result, &result);
  ssq_test_wait_result (&result, 10000);
  dm = ssq_client_conversation_finish (alice, result, &error);
  dm_id = g_strdup (ssq_conversation_get_id (dm));

  /* Outbox: written (fsynced), sent pipelined, acked and applied. */
  t0 = g_get_monotonic_time ();
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *body = g_strdup_printf ("message %u about lunch, code review and the build", i);
      g_autoptr(SsqMessage) m = ssq_client_send_message (alice, dm_id, body, 0, &error);

      g_assert_nonnull (m);
    }
  t1 = g_get_monotonic_time ();
  ssq_test_wait_until (outbox_empty, alice, 600000);
  printf ("client outbox, %u messages:\n  written %.0f msg/s (%.1f µs each, fsynced);"
          " all acked after %.2f s = %.0f msg/s end to end\n",
          n, n / ((t1 - t0) / 1e6), (t1 - t0) / (double) n,
          (g_get_monotonic_time () - t0) / 1e6, n / ((g_get_monotonic_time () - t0) / 1e6));

  /* First sync of the whole conversation into bob's empty cache, with the
   * models an application shows open, as they are in the clients. */
  bob = client_for (server, dir_b, "bob", FALSE);
  {
    g_autoptr(SsqConversationList) list = ssq_conversation_list_new (bob);
    g_autoptr(SsqMessageList) messages = ssq_message_list_new (bob, dm_id, 50);
    guint64 commits = ssq_cache_get_commits (ssq_client_get_cache (bob));
    gint64 cpu0 = cpu_us ();

    t0 = g_get_monotonic_time ();
    ssq_client_connect (bob);
    ssq_test_wait_until (synced, bob, 600000);
    t1 = g_get_monotonic_time ();
    g_stat (ssq_cache_get_path (ssq_client_get_cache (bob)), &st);
    printf ("first sync, %u messages into an empty cache: %.2f s = %.0f msg/s; client CPU %.2f s;"
            " %" G_GUINT64_FORMAT " cache commits; %u in the message list; cache %.1f MiB;"
            " client RSS %.1f MiB\n", n, (t1 - t0) / 1e6, n / ((t1 - t0) / 1e6),
            (cpu_us () - cpu0) / 1e6, ssq_cache_get_commits (ssq_client_get_cache (bob)) - commits,
            g_list_model_get_n_items (G_LIST_MODEL (messages)),
            st.st_size / 1048576.0, rss_kb () / 1024.0);
    g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 1);
  }
  g_clear_object (&bob);

  /* Start-up from the cache: open it, list conversations, show the last 50. */
  {
    g_autoptr(SsqClient) again = ssq_client_new (server->url, dir_b);
    g_autoptr(SsqConversationList) list = NULL;
    g_autoptr(SsqMessageList) messages = NULL;

    t0 = g_get_monotonic_time ();
    g_assert_true (ssq_client_set_session (again, "bob", NULL, "offline", &error));
    list = ssq_conversation_list_new (again);
    messages = ssq_message_list_new (again, dm_id, 50);
    t1 = g_get_monotonic_time ();
    printf ("open cache + conversation list + last 50 messages: %.2f ms (%u conversations, %u messages)\n",
            (t1 - t0) / 1000.0, g_list_model_get_n_items (G_LIST_MODEL (list)),
            g_list_model_get_n_items (G_LIST_MODEL (messages)));

    t0 = g_get_monotonic_time ();
    for (guint i = 0; i < 100; i++)
      {
        g_autoptr(GPtrArray) hits = ssq_client_search (again, "review", NULL, 20, &error);

        g_assert_cmpuint (hits->len, ==, MIN (n, 20));
      }
    t1 = g_get_monotonic_time ();
    printf ("full-text search over %u messages (20 newest hits): %.2f ms each\n", n, (t1 - t0) / 100000.0);
  }
  ssq_test_remove_tree (dir_a);
  ssq_test_remove_tree (dir_b);
  return 0;
}
