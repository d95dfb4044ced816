/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-durability.c: acknowledged means durable (kill -9 and restart),
 * sessions survive restarts, graceful shutdown, rate limits, idle sessions. */
#include "ssq-test-server.h"
#include "ssq-test-media.h"

#include <string.h>

#define WAIT 5000

/* After a kill and a restart: every acked message is there once, with the
 * seq it was acked with; seqs run 1..N without gaps; the token still works.
 * Resending all @total sends then stores only what was missing. */
static void
check_after_restart (SsqTestServer *server,
                     SsqTestUser   *a,
                     SsqTestUser   *b,
                     const char    *conv,
                     GHashTable    *acked,
                     guint          n_acked,
                     guint          total)
{
  SsqTestWs *ws;

  {
    g_autofree char *path = g_strdup_printf ("/api/v1/conversations/%s/messages?after=0&limit=200", conv);
    gint64 expect = 1;
    guint found_acked = 0;
    gboolean more = TRUE;
    g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

    while (more)
      {
        guint status;
        g_autoptr(JsonObject) r = ssq_test_http (server, "GET", path, b->token, NULL, &status);
        JsonArray *list;

        g_assert_cmpuint (status, ==, 200);
        list = json_object_get_array_member (r, "messages");
        for (guint i = 0; i < json_array_get_length (list); i++)
          {
            JsonObject *m = json_array_get_object_element (list, i);
            const char *cid = json_object_get_string_member (m, "client_id");
            gint64 seq = json_object_get_int_member (m, "seq");
            gpointer acked_seq;

            g_assert_cmpint (seq, ==, expect++);
            g_assert_false (g_hash_table_contains (seen, cid));
            g_hash_table_add (seen, g_strdup (cid));
            if (g_hash_table_lookup_extended (acked, cid, NULL, &acked_seq))
              {
                g_assert_cmpint (GPOINTER_TO_INT (acked_seq), ==, seq);
                found_acked++;
              }
          }
        more = json_object_get_boolean_member (r, "has_more");
        g_free (path);
        path = g_strdup_printf ("/api/v1/conversations/%s/messages?after=%" G_GINT64_FORMAT
                                "&limit=200", conv, expect - 1);
      }
    g_assert_cmpuint (found_acked, ==, n_acked);
    g_test_message ("%u acked before the kill, %" G_GINT64_FORMAT " stored", n_acked, expect - 1);
  }
  /* Resending everything after the restart stores only what was missing. */
  ws = ssq_test_ws_connect (server, a->token, NULL);
  g_assert_nonnull (ws);
  for (guint i = 0; i < total; i++)
    {
      g_autofree char *client_id = g_strdup_printf ("k%u", i);
      g_autofree char *body = g_strdup_printf ("durable %u", i);
      g_autoptr(JsonObject) ack = ssq_test_ws_post (ws, conv, client_id, body);
      JsonObject *m = json_object_get_object_member (ack, "message");
      gpointer acked_seq;

      if (g_hash_table_lookup_extended (acked, json_object_get_string_member (m, "client_id"),
                                        NULL, &acked_seq))
        g_assert_cmpint (GPOINTER_TO_INT (acked_seq), ==, json_object_get_int_member (m, "seq"));
    }
  {
    g_autofree char *path = g_strdup_printf ("/api/v1/conversations/%s", conv);
    g_autoptr(JsonObject) r = ssq_test_http (server, "GET", path, b->token, NULL, NULL);

    g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (r, "conversation"), "last_seq"), ==, total);
  }
  ssq_test_ws_free (ws);
}

/* Send number @i, without waiting for its ack: client_id "k@i", the body
 * check_after_restart () sends again. */
static void
send_numbered (SsqTestWs  *ws,
               const char *conv,
               guint       i)
{
  g_autofree char *frame = g_strdup_printf (
    "{\"type\":\"send\",\"id\":\"s%u\",\"conversation_id\":\"%s\",\"client_id\":\"k%u\","
    "\"body\":\"durable %u\"}", i, conv, i, i);

  ssq_test_ws_send (ws, frame);
}

/* The next @max acks of @ws, into @acked (client_id -> seq). */
static guint
take_acks (SsqTestWs  *ws,
           GHashTable *acked,
           guint       max)
{
  guint n = 0;
  JsonObject *f;

  while (n < max && (f = ssq_test_ws_expect (ws, "ack", WAIT)) != NULL)
    {
      JsonObject *m = json_object_get_object_member (f, "message");

      g_hash_table_insert (acked, g_strdup (json_object_get_string_member (m, "client_id")),
                           GINT_TO_POINTER ((int) json_object_get_int_member (m, "seq")));
      json_object_unref (f);
      n++;
    }
  g_assert_cmpuint (n, ==, max);
  return n;
}

static void
test_sigkill_after_acks (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, NULL);
  g_autoptr(SsqTestUser) a = ssq_test_register (server, "dur.a");
  g_autoptr(SsqTestUser) b = ssq_test_register (server, "dur.b");
  g_autofree char *conv = ssq_test_create_conversation (server, a,
    "{\"kind\":\"direct\",\"members\":[\"dur.b\"]}");
  g_autoptr(GHashTable) acked = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  SsqTestWs *ws = ssq_test_ws_connect (server, a->token, NULL);
  const guint total = 400;
  guint n_acked;

  g_assert_nonnull (ssq_test_ws_expect (ws, "welcome", WAIT));
  /* Many sends in flight at once, so that they share group commits. */
  for (guint i = 0; i < total; i++)
    send_numbered (ws, conv, i);
  /* Kill the server the moment half of the acks are in. */
  n_acked = take_acks (ws, acked, total / 2);
  ssq_test_server_kill (server);
  ssq_test_ws_free (ws);
  ssq_test_server_restart (server);
  check_after_restart (server, a, b, conv, acked, n_acked, total);
}

/* A log of 64 pages at most before a checkpoint, and 64 sends kept in
 * flight until the checkpoint thread has copied 20 times and the writer
 * has finished 5 of its passes: the kill then comes with sends in flight,
 * among checkpoints that follow each other. At 16 pages the writer's own
 * finish took nearly every log (7-14 passes in 20,000 sends of a release
 * build), at 1,024 the thread's (0-3 finishes); at 64, 6,000 sends gave
 * 65-75 passes and 6-9 finishes in either build. */
static void
test_sigkill_during_checkpoints (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, "[server]\ncheckpoint_pages=64\n");
  g_autoptr(SsqTestUser) a = ssq_test_register (server, "ckpt.a");
  g_autoptr(SsqTestUser) b = ssq_test_register (server, "ckpt.b");
  g_autofree char *conv = ssq_test_create_conversation (server, a,
    "{\"kind\":\"direct\",\"members\":[\"ckpt.b\"]}");
  g_autoptr(GHashTable) acked = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  SsqTestWs *ws = ssq_test_ws_connect (server, a->token, NULL);
  const guint window = 64;
  guint sent = 0, n_acked = 0;
  gint64 passes = 0, finishes = 0;

  g_assert_nonnull (ssq_test_ws_expect (ws, "welcome", WAIT));
  while (passes < 20 || finishes < 5)
    {
      if (sent >= 20000)
        g_error ("after %u sends, %" G_GINT64_FORMAT " passes, %" G_GINT64_FORMAT " finishes",
                 sent, passes, finishes);
      for (; sent < n_acked + window; sent++)
        send_numbered (ws, conv, sent);
      n_acked += take_acks (ws, acked, window / 2);
      passes = ssq_test_metric (server, "ssq_checkpoints_total");
      finishes = ssq_test_metric (server, "ssq_checkpoint_finishes_total");
    }
  g_test_message ("killed with %u sends in flight, after %" G_GINT64_FORMAT " checkpoints on "
                  "their thread and %" G_GINT64_FORMAT " finished by the writer",
                  sent - n_acked, passes, finishes);
  ssq_test_server_kill (server);
  ssq_test_ws_free (ws);
  ssq_test_server_restart (server);
  check_after_restart (server, a, b, conv, acked, n_acked, sent);
}

/* The event loop keeps answering while the writer commits: one session
 * pipelines thousands of sends (big batches, big commits), another pings
 * all along. Every ping is answered, and never late by a commit's length. */
/* The writes other than messages are acknowledged after their commit too
 * (they go through the writer thread): a registration, a rename, an edit,
 * a deletion and a password change, each followed at once by SIGKILL, are
 * all there after the restart. */
static void
test_sigkill_after_other_writes (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, NULL);
  g_autoptr(SsqTestUser) a = ssq_test_register (server, "dur.w.a");
  g_autoptr(SsqTestUser) b = NULL;
  g_autofree char *conv = NULL;
  g_autofree char *path = NULL;
  g_autoptr(JsonObject) r = NULL;
  guint status = 0;

  /* A registration. */
  b = ssq_test_register (server, "dur.w.b");
  ssq_test_server_kill (server);
  ssq_test_server_restart (server);
  r = ssq_test_http (server, "POST", "/api/v1/login", NULL,
                     "{\"username\":\"dur.w.b\",\"password\":\"password-dur.w.b\"}", &status);
  g_assert_cmpuint (status, ==, 200);
  g_clear_pointer (&r, json_object_unref);

  /* A rename. */
  conv = ssq_test_create_conversation (server, a,
    "{\"kind\":\"group\",\"title\":\"Before\",\"members\":[\"dur.w.b\"]}");
  path = g_strdup_printf ("/api/v1/conversations/%s", conv);
  r = ssq_test_http (server, "PATCH", path, a->token, "{\"title\":\"After\"}", &status);
  g_assert_cmpuint (status, ==, 200);
  g_clear_pointer (&r, json_object_unref);
  ssq_test_server_kill (server);
  ssq_test_server_restart (server);
  r = ssq_test_http (server, "GET", path, a->token, NULL, &status);
  g_assert_cmpuint (status, ==, 200);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (r, "conversation"),
                                                  "title"), ==, "After");
  g_clear_pointer (&r, json_object_unref);

  /* An edit and a deletion. */
  {
    g_autofree char *post = g_strdup_printf ("/api/v1/conversations/%s/messages", conv);
    g_autofree char *first = g_strdup_printf ("%s/1", post);
    g_autofree char *second = g_strdup_printf ("%s/2", post);
    JsonArray *messages;

    for (guint i = 1; i <= 2; i++)
      {
        g_autofree char *body = g_strdup_printf ("{\"client_id\":\"w%u\",\"body\":\"text %u\"}", i, i);

        r = ssq_test_http (server, "POST", post, a->token, body, &status);
        g_assert_cmpuint (status, ==, 201);
        g_clear_pointer (&r, json_object_unref);
      }
    r = ssq_test_http (server, "PATCH", first, a->token, "{\"body\":\"text 1, edited\"}", &status);
    g_assert_cmpuint (status, ==, 200);
    g_clear_pointer (&r, json_object_unref);
    r = ssq_test_http (server, "DELETE", second, a->token, NULL, &status);
    g_assert_cmpuint (status, ==, 204);
    g_clear_pointer (&r, json_object_unref);
    ssq_test_server_kill (server);
    ssq_test_server_restart (server);
    r = ssq_test_http (server, "GET", post, b->token, NULL, &status);
    g_assert_cmpuint (status, ==, 200);
    messages = json_object_get_array_member (r, "messages");
    g_assert_cmpuint (json_array_get_length (messages), ==, 2);
    g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (messages, 0), "body"),
                     ==, "text 1, edited");
    g_assert_true (json_object_get_boolean_member (json_array_get_object_element (messages, 1), "deleted"));
    g_clear_pointer (&r, json_object_unref);
  }

  /* A password change. */
  r = ssq_test_http (server, "PATCH", "/api/v1/me", a->token,
                     "{\"password\":\"new-password-1\",\"current_password\":\"password-dur.w.a\"}",
                     &status);
  g_assert_cmpuint (status, ==, 200);
  g_clear_pointer (&r, json_object_unref);
  ssq_test_server_kill (server);
  ssq_test_server_restart (server);
  r = ssq_test_http (server, "POST", "/api/v1/login", NULL,
                     "{\"username\":\"dur.w.a\",\"password\":\"new-password-1\"}", &status);
  g_assert_cmpuint (status, ==, 200);
}

static void
test_ping_during_commits (void)
{
  /* The sender takes 8 MB of its own message events besides its acks,
   * read only as the pings go: a loaded machine (the ASan suite beside
   * this one) reads them slower than the server sends, so its send queue
   * may hold them all. The pinger is not in the conversation: it hears
   * nothing but its pongs (as a member it was cut off once, a slow
   * reader of 8 MB, and its next ping went to a closed socket). */
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL,
    "[server]\ncommit_batch_max=100000\n"
    "[limits]\nsend_queue_max=67108864\n");
  g_autoptr(SsqTestUser) a = ssq_test_register (server, "ping.a");
  g_autoptr(SsqTestUser) b = ssq_test_register (server, "ping.b");
  g_autoptr(SsqTestUser) c = ssq_test_register (server, "ping.c");
  g_autofree char *conv = ssq_test_create_conversation (server, a,
    "{\"kind\":\"direct\",\"members\":[\"ping.b\"]}");
  g_autofree char *body = g_strnfill (2000, 'x');
  SsqTestWs *sender = ssq_test_ws_connect (server, a->token, NULL);
  SsqTestWs *pinger = ssq_test_ws_connect (server, c->token, NULL);
  const guint total = 4000;
  gint64 worst = 0, sum = 0;
  guint n_pings = 0, n_acked = 0;
  JsonObject *f;

  g_assert_nonnull (ssq_test_ws_expect (sender, "welcome", WAIT));
  g_assert_nonnull (ssq_test_ws_expect (pinger, "welcome", WAIT));
  for (guint i = 0; i < total; i++)
    {
      g_autofree char *frame = g_strdup_printf (
        "{\"type\":\"send\",\"id\":\"s%u\",\"conversation_id\":\"%s\",\"client_id\":\"k%u\","
        "\"body\":\"%s\"}", i, conv, i, body);
      ssq_test_ws_send (sender, frame);
    }
  /* Ping one at a time while the sends are being stored. */
  for (n_pings = 0; n_pings < 300; n_pings++)
    {
      g_autofree char *ping = g_strdup_printf ("{\"type\":\"ping\",\"id\":\"p%u\"}", n_pings);
      gint64 t0 = g_get_monotonic_time ();
      g_autoptr(JsonObject) pong = NULL;
      gint64 rtt;

      ssq_test_ws_send (pinger, ping);
      pong = ssq_test_ws_expect (pinger, "pong", WAIT);
      g_assert_nonnull (pong);
      rtt = g_get_monotonic_time () - t0;
      worst = MAX (worst, rtt);
      sum += rtt;
    }
  while (n_acked < total && (f = ssq_test_ws_expect (sender, "ack", 30000)) != NULL)
    {
      n_acked++;
      json_object_unref (f);
    }
  g_assert_cmpuint (n_acked, ==, total);
  g_test_message ("%u pings during %u sends: mean %.2f ms, worst %.2f ms",
                  n_pings, total, sum / 1000.0 / n_pings, worst / 1000.0);
  /* No bound on the time itself: a loaded machine (the ASan suite beside
   * this one) stretches it past any fixed figure. The stall during commits
   * is measured by the durable benchmark; here every ping is answered. */
  ssq_test_ws_free (sender);
  ssq_test_ws_free (pinger);
}

/* SIGKILL with the writer thread busy on several conversations at once:
 * after the restart every acknowledged message is there once, with its seq;
 * each conversation's seqs run 1..last_seq without gaps, and last_seq counts
 * exactly the messages stored (nothing unacknowledged is half there). */
static void
test_sigkill_many_conversations (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, NULL);
  g_autoptr(SsqTestUser) a = ssq_test_register (server, "kill.a");
  g_autoptr(GPtrArray) peers = g_ptr_array_new_with_free_func ((GDestroyNotify) ssq_test_user_free);
  g_autoptr(GPtrArray) convs = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GHashTable) acked = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  const guint n_convs = 6, per_conv = 150;
  SsqTestWs *ws;
  guint n_acked = 0, n_stored = 0;
  JsonObject *f;

  for (guint c = 0; c < n_convs; c++)
    {
      g_autofree char *name = g_strdup_printf ("kill.p%u", c);
      g_autofree char *json = g_strdup_printf ("{\"kind\":\"direct\",\"members\":[\"%s\"]}", name);

      g_ptr_array_add (peers, ssq_test_register (server, name));
      g_ptr_array_add (convs, ssq_test_create_conversation (server, a, json));
    }
  ws = ssq_test_ws_connect (server, a->token, NULL);
  g_assert_nonnull (ssq_test_ws_expect (ws, "welcome", WAIT));
  for (guint i = 0; i < per_conv; i++)
    for (guint c = 0; c < n_convs; c++)
      {
        g_autofree char *frame = g_strdup_printf (
          "{\"type\":\"send\",\"id\":\"s%u.%u\",\"conversation_id\":\"%s\",\"client_id\":\"%u.%u\","
          "\"body\":\"kill %u\"}", c, i, (char *) convs->pdata[c], c, i, i);
        ssq_test_ws_send (ws, frame);
      }
  while (n_acked < n_convs * per_conv / 2 && (f = ssq_test_ws_expect (ws, "ack", WAIT)) != NULL)
    {
      JsonObject *m = json_object_get_object_member (f, "message");
      g_autofree char *key = g_strdup_printf ("%s/%s", json_object_get_string_member (m, "conversation_id"),
                                              json_object_get_string_member (m, "client_id"));

      g_hash_table_insert (acked, g_steal_pointer (&key),
                           GINT_TO_POINTER ((int) json_object_get_int_member (m, "seq")));
      json_object_unref (f);
      n_acked++;
    }
  ssq_test_server_kill (server);
  ssq_test_ws_free (ws);
  ssq_test_server_restart (server);

  for (guint c = 0; c < n_convs; c++)
    {
      const char *conv = convs->pdata[c];
      SsqTestUser *peer = peers->pdata[c];
      g_autofree char *path = g_strdup_printf ("/api/v1/conversations/%s/messages?after=0&limit=200", conv);
      g_autofree char *conv_path = g_strdup_printf ("/api/v1/conversations/%s", conv);
      g_autoptr(JsonObject) r = ssq_test_http (server, "GET", path, peer->token, NULL, NULL);
      g_autoptr(JsonObject) cr = ssq_test_http (server, "GET", conv_path, peer->token, NULL, NULL);
      JsonArray *list = json_object_get_array_member (r, "messages");
      g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      gint64 last_seq = json_object_get_int_member (json_object_get_object_member (cr, "conversation"),
                                                    "last_seq");

      g_assert_false (json_object_get_boolean_member (r, "has_more"));
      g_assert_cmpint (json_array_get_length (list), ==, last_seq);
      for (guint i = 0; i < json_array_get_length (list); i++)
        {
          JsonObject *m = json_array_get_object_element (list, i);
          g_autofree char *key = g_strdup_printf ("%s/%s", conv, json_object_get_string_member (m, "client_id"));
          gpointer acked_seq;

          g_assert_cmpint (json_object_get_int_member (m, "seq"), ==, i + 1);
          g_assert_false (g_hash_table_contains (seen, key));
          if (g_hash_table_lookup_extended (acked, key, NULL, &acked_seq))
            g_assert_cmpint (GPOINTER_TO_INT (acked_seq), ==, i + 1);
          g_hash_table_add (seen, g_steal_pointer (&key));
        }
      /* Every acked message of this conversation is among them. */
      {
        GHashTableIter it;
        gpointer key;

        g_hash_table_iter_init (&it, acked);
        while (g_hash_table_iter_next (&it, &key, NULL))
          if (g_str_has_prefix (key, conv) && ((char *) key)[strlen (conv)] == '/')
            g_assert_true (g_hash_table_contains (seen, key));
      }
      n_stored += json_array_get_length (list);
    }
  g_assert_cmpuint (n_stored, >=, n_acked);
  g_test_message ("%u acked before the kill, %u stored", n_acked, n_stored);
}

/* The same client_id twice in a row, pipelined: both usually land in one
 * batch, where the second finds the first only inside the transaction. Each
 * pair is acked with one message and one seq; no seq is skipped. */
static void
test_resend_in_one_batch (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, NULL);
  g_autoptr(SsqTestUser) a = ssq_test_register (server, "twice.a");
  g_autoptr(SsqTestUser) b = ssq_test_register (server, "twice.b");
  g_autofree char *conv = ssq_test_create_conversation (server, a,
    "{\"kind\":\"direct\",\"members\":[\"twice.b\"]}");
  g_autoptr(GHashTable) seq_of = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autofree char *conv_path = g_strdup_printf ("/api/v1/conversations/%s", conv);
  g_autoptr(JsonObject) r = NULL;
  SsqTestWs *ws = ssq_test_ws_connect (server, a->token, NULL);
  const guint pairs = 50;

  g_assert_nonnull (ssq_test_ws_expect (ws, "welcome", WAIT));
  for (guint i = 0; i < 2 * pairs; i++)
    {
      g_autofree char *frame = g_strdup_printf (
        "{\"type\":\"send\",\"id\":\"s%u\",\"conversation_id\":\"%s\",\"client_id\":\"k%u\","
        "\"body\":\"twice %u\"}", i, conv, i / 2, i / 2);
      ssq_test_ws_send (ws, frame);
    }
  for (guint i = 0; i < 2 * pairs; i++)
    {
      g_autoptr(JsonObject) ack = ssq_test_ws_expect (ws, "ack", WAIT);
      JsonObject *m;
      gpointer seen;

      g_assert_nonnull (ack);
      m = json_object_get_object_member (ack, "message");
      if (g_hash_table_lookup_extended (seq_of, json_object_get_string_member (m, "client_id"),
                                        NULL, &seen))
        g_assert_cmpint (GPOINTER_TO_INT (seen), ==, json_object_get_int_member (m, "seq"));
      else
        g_hash_table_insert (seq_of, g_strdup (json_object_get_string_member (m, "client_id")),
                             GINT_TO_POINTER ((int) json_object_get_int_member (m, "seq")));
    }
  g_assert_cmpuint (g_hash_table_size (seq_of), ==, pairs);
  r = ssq_test_http (server, "GET", conv_path, b->token, NULL, NULL);
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (r, "conversation"),
                                               "last_seq"), ==, pairs);
  ssq_test_ws_free (ws);
}

static void
test_graceful_shutdown (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, NULL);
  g_autoptr(SsqTestUser) a = ssq_test_register (server, "stop.a");
  g_autoptr(SsqTestWs) ws = ssq_test_ws_connect (server, a->token, NULL);
  g_autofree char *conv = ssq_test_create_conversation (server, a,
    "{\"kind\":\"group\",\"title\":\"bye\"}");
  g_autoptr(JsonObject) ack = NULL;

  g_assert_nonnull (ssq_test_ws_expect (ws, "welcome", WAIT));
  ack = ssq_test_ws_post (ws, conv, "last", "last words");
  g_assert_cmpstr (json_object_get_string_member (ack, "type"), ==, "ack");
  g_assert_cmpint (ssq_test_server_stop (server), ==, 0);
  g_assert_cmpuint (ssq_test_ws_wait_closed (ws, WAIT), ==, 1001);

  ssq_test_server_restart (server);
  {
    g_autofree char *path = g_strdup_printf ("/api/v1/conversations/%s/messages", conv);
    guint status;
    g_autoptr(JsonObject) r = ssq_test_http (server, "GET", path, a->token, NULL, &status);

    g_assert_cmpuint (status, ==, 200);
    g_assert_cmpuint (json_array_get_length (json_object_get_array_member (r, "messages")), ==, 1);
  }
}

/* Resends reach the writer, which finds them stored: the budget they were
 * charged is given back, so any number of them leaves room for new
 * messages (fails if a resend counts). */
static void
test_resend_costs_nothing (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, "messages_per_minute=3\n");
  g_autoptr(SsqTestUser) a = ssq_test_register (server, "free.a");
  g_autofree char *conv = ssq_test_create_conversation (server, a,
    "{\"kind\":\"group\",\"title\":\"free\"}");
  g_autoptr(SsqTestWs) ws = ssq_test_ws_connect (server, a->token, NULL);

  for (int i = 0; i < 8; i++)
    {
      g_autoptr(JsonObject) ack = ssq_test_ws_post (ws, conv, "same", "x");

      g_assert_cmpstr (json_object_get_string_member (ack, "type"), ==, "ack");
      g_assert_true (json_object_get_boolean_member_with_default (ack, "duplicate", FALSE) == (i > 0));
    }
  for (int i = 0; i < 2; i++)
    {
      g_autofree char *client_id = g_strdup_printf ("new%d", i);
      g_autoptr(JsonObject) ack = ssq_test_ws_post (ws, conv, client_id, "x");

      g_assert_cmpstr (json_object_get_string_member (ack, "type"), ==, "ack");
      g_assert_false (json_object_get_boolean_member_with_default (ack, "duplicate", FALSE));
    }
  {
    g_autoptr(JsonObject) err = ssq_test_ws_post (ws, conv, "over", "x");

    g_assert_cmpstr (json_object_get_string_member (err, "code"), ==, "rate_limited");
  }
}

static void
test_rate_limits (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL,
    "messages_per_minute=3\ngroups_per_hour=2\njoins_per_hour=1\n");
  g_autoptr(SsqTestUser) a = ssq_test_register (server, "rate.a");
  g_autoptr(SsqTestUser) b = ssq_test_register (server, "rate.b");
  g_autoptr(SsqTestUser) c = ssq_test_register (server, "rate.c");
  g_autofree char *conv = ssq_test_create_conversation (server, a,
    "{\"kind\":\"group\",\"title\":\"r1\"}");
  g_autofree char *path = g_strdup_printf ("/api/v1/conversations/%s/messages", conv);
  g_autofree char *members = g_strdup_printf ("/api/v1/conversations/%s/members", conv);
  g_autoptr(SsqTestWs) ws = ssq_test_ws_connect (server, a->token, NULL);
  g_autoptr(JsonObject) r = NULL;
  guint status;

  /* Three messages pass (two REST, one WebSocket: they share the budget). */
  for (int i = 0; i < 2; i++)
    {
      g_autofree char *body = g_strdup_printf ("{\"client_id\":\"r%d\",\"body\":\"x\"}", i);
      r = ssq_test_http (server, "POST", path, a->token, body, &status);
      g_assert_cmpuint (status, ==, 201);
      g_clear_pointer (&r, json_object_unref);
    }
  {
    g_autoptr(JsonObject) ack = ssq_test_ws_post (ws, conv, "w1", "x");
    g_autoptr(JsonObject) err = NULL;

    g_assert_cmpstr (json_object_get_string_member (ack, "type"), ==, "ack");
    err = ssq_test_ws_post (ws, conv, "w2", "x");
    g_assert_cmpstr (json_object_get_string_member (err, "type"), ==, "error");
    g_assert_cmpstr (json_object_get_string_member (err, "code"), ==, "rate_limited");
    g_assert_cmpint (json_object_get_int_member (err, "retry_after_ms"), >, 0);
    g_assert_cmpint (json_object_get_int_member (err, "retry_after_ms"), <=, 60000);
  }
  r = ssq_test_http (server, "POST", path, a->token, "{\"client_id\":\"r9\",\"body\":\"x\"}", &status);
  g_assert_cmpuint (status, ==, 429);
  g_assert_cmpstr (ssq_test_error_code (r), ==, "rate_limited");
  g_clear_pointer (&r, json_object_unref);
  /* A resend is not a new message: it passes even now. */
  r = ssq_test_http (server, "POST", path, a->token, "{\"client_id\":\"r0\",\"body\":\"x\"}", &status);
  g_assert_cmpuint (status, ==, 200);
  g_clear_pointer (&r, json_object_unref);
  /* Other users have their own budget. */
  {
    g_autofree char *dm = ssq_test_create_conversation (server, b,
      "{\"kind\":\"direct\",\"members\":[\"rate.c\"]}");
    g_autofree char *p = g_strdup_printf ("/api/v1/conversations/%s/messages", dm);
    r = ssq_test_http (server, "POST", p, b->token, "{\"client_id\":\"b\",\"body\":\"x\"}", &status);
    g_assert_cmpuint (status, ==, 201);
    g_clear_pointer (&r, json_object_unref);
  }

  /* Groups: two more allowed (one made above). */
  r = ssq_test_http (server, "POST", "/api/v1/conversations", a->token,
                     "{\"kind\":\"group\",\"title\":\"r2\"}", &status);
  g_assert_cmpuint (status, ==, 201);
  g_clear_pointer (&r, json_object_unref);
  r = ssq_test_http (server, "POST", "/api/v1/conversations", a->token,
                     "{\"kind\":\"group\",\"title\":\"r3\"}", &status);
  g_assert_cmpuint (status, ==, 429);
  g_clear_pointer (&r, json_object_unref);

  /* Renames, edits and member changes reach every member: they spend the
   * same budget as messages, which a has used up. */
  {
    g_autofree char *conv_path = g_strdup_printf ("/api/v1/conversations/%s", conv);
    g_autofree char *edit_path = g_strdup_printf ("/api/v1/conversations/%s/messages/1", conv);

    r = ssq_test_http (server, "PATCH", conv_path, a->token, "{\"title\":\"again\"}", &status);
    g_assert_cmpuint (status, ==, 429);
    g_clear_pointer (&r, json_object_unref);
    r = ssq_test_http (server, "PATCH", edit_path, a->token, "{\"body\":\"y\"}", &status);
    g_assert_cmpuint (status, ==, 429);
    g_clear_pointer (&r, json_object_unref);
    r = ssq_test_http (server, "DELETE", edit_path, a->token, NULL, &status);
    g_assert_cmpuint (status, ==, 429);
    g_clear_pointer (&r, json_object_unref);
    r = ssq_test_http (server, "POST", members, a->token, "{\"username\":\"rate.b\"}", &status);
    g_assert_cmpuint (status, ==, 429);
    g_clear_pointer (&r, json_object_unref);
  }

  /* Joins: one, for b (one message spent of three). */
  {
    g_autofree char *group = ssq_test_create_conversation (server, b,
      "{\"kind\":\"group\",\"title\":\"b1\"}");
    g_autofree char *b_members = g_strdup_printf ("/api/v1/conversations/%s/members", group);
    g_autofree char *uri = g_strconcat (server->url, b_members, NULL);
    g_autoptr(SoupSession) s = soup_session_new ();
    g_autoptr(SoupMessage) msg = soup_message_new ("POST", uri);
    g_autofree char *auth = g_strconcat ("Bearer ", b->token, NULL);
    g_autoptr(GBytes) body = g_bytes_new_static ("{\"username\":\"rate.c\"}", 21);
    g_autoptr(GBytes) reply = NULL;

    r = ssq_test_http (server, "POST", b_members, b->token, "{\"username\":\"rate.a\"}", &status);
    g_assert_cmpuint (status, ==, 201);
    g_clear_pointer (&r, json_object_unref);
    r = ssq_test_http (server, "POST", b_members, b->token, "{\"username\":\"rate.c\"}", &status);
    g_assert_cmpuint (status, ==, 429);
    soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization", auth);
    soup_message_set_request_body_from_bytes (msg, "application/json", body);
    reply = soup_session_send_and_read (s, msg, NULL, NULL);
    g_assert_cmpuint (soup_message_get_status (msg), ==, 429);
    g_assert_nonnull (soup_message_headers_get_one (soup_message_get_response_headers (msg), "Retry-After"));
  }
}

static void
test_rate_limit_window (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, "messages_per_minute=60\n");
  g_autoptr(SsqTestUser) a = ssq_test_register (server, "window.a");
  g_autofree char *conv = ssq_test_create_conversation (server, a,
    "{\"kind\":\"group\",\"title\":\"w\"}");
  g_autoptr(SsqTestWs) ws = ssq_test_ws_connect (server, a->token, NULL);

  for (int i = 0; i < 60; i++)
    {
      g_autofree char *client_id = g_strdup_printf ("w%d", i);
      g_autoptr(JsonObject) ack = ssq_test_ws_post (ws, conv, client_id, "x");

      g_assert_cmpstr (json_object_get_string_member (ack, "type"), ==, "ack");
    }
  /* Long enough for a bucket refilling at 1/s to let several more through. */
  ssq_test_wait_ms (2500);
  for (int i = 0; i < 3; i++)
    {
      g_autofree char *client_id = g_strdup_printf ("late%d", i);
      g_autoptr(JsonObject) err = ssq_test_ws_post (ws, conv, client_id, "x");

      g_assert_cmpstr (json_object_get_string_member (err, "type"), ==, "error");
      g_assert_cmpstr (json_object_get_string_member (err, "code"), ==, "rate_limited");
      g_test_message ("retry_after_ms %" G_GINT64_FORMAT,
                      json_object_get_int_member (err, "retry_after_ms"));
    }
}

static void
test_idle_websocket_survives (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, "idle_timeout=1\n");
  g_autoptr(SsqTestUser) a = ssq_test_register (server, "idle.a");
  g_autoptr(SsqTestWs) ws = ssq_test_ws_connect (server, a->token, NULL);
  g_autoptr(JsonObject) pong = NULL;

  g_assert_nonnull (ssq_test_ws_expect (ws, "welcome", WAIT));
  /* Quiet for longer than the HTTP idle timeout: a WebSocket may be. */
  ssq_test_wait_ms (2500);
  g_assert_false (ws->closed);
  ssq_test_ws_send (ws, "{\"type\":\"ping\",\"id\":\"still-there\"}");
  pong = ssq_test_ws_expect (ws, "pong", WAIT);
  g_assert_nonnull (pong);
  g_assert_cmpstr (json_object_get_string_member (pong, "id"), ==, "still-there");
}

static void
test_second_server_refused (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) second = NULL;
  g_autofree char *err_text = NULL;

  second = g_subprocess_new (G_SUBPROCESS_FLAGS_STDERR_PIPE | G_SUBPROCESS_FLAGS_STDOUT_SILENCE,
                             &error, g_getenv ("SSQ_SERVER_BIN"), "--listen", "127.0.0.1:0",
                             "--data-dir", server->data_dir, NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (second, NULL, NULL, NULL, &err_text, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_subprocess_get_exit_status (second), !=, 0);
  g_assert_nonnull (strstr (err_text, "in use"));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/server/durability/sigkill-after-acks", test_sigkill_after_acks);
  g_test_add_func ("/server/durability/sigkill-during-checkpoints", test_sigkill_during_checkpoints);
  g_test_add_func ("/server/durability/sigkill-many-conversations", test_sigkill_many_conversations);
  g_test_add_func ("/server/durability/sigkill-other-writes", test_sigkill_after_other_writes);
  g_test_add_func ("/server/durability/ping-during-commits", test_ping_during_commits);
  g_test_add_func ("/server/durability/resend-in-one-batch", test_resend_in_one_batch);
  g_test_add_func ("/server/durability/resend-costs-nothing", test_resend_costs_nothing);
  g_test_add_func ("/server/durability/graceful-shutdown", test_graceful_shutdown);
  g_test_add_func ("/server/limits/rate-limits", test_rate_limits);
  g_test_add_func ("/server/limits/rate-limit-window", test_rate_limit_window);
  g_test_add_func ("/server/limits/idle-websocket-survives", test_idle_websocket_survives);
  g_test_add_func ("/server/durability/second-server-refused", test_second_server_refused);
  return g_test_run ();
}
