/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-units.c: store (golden migration, seq, idempotency), rate limiter and
 * tokens, on real SQLite files in a temporary directory. */
#include "ssq-server.h"
#include "ssq-server-auth.h"
#include "ssq-server-ratelimit.h"
#include "ssq-server-store.h"
#include "ssq-server-writer.h"
#include "ssq-proto.h"

#include <glib/gstdio.h>
#include <sodium.h>
#include <sqlite3.h>
#include <string.h>

static char *
temp_db (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("ssq-unit-XXXXXX", &error);

  g_assert_no_error (error);
  return g_build_filename (dir, "test.db", NULL);
}

static void
test_golden_schema (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = temp_db ();
  g_autofree char *golden_path = g_test_build_filename (G_TEST_DIST, "golden", "schema-v1.sql", NULL);
  g_autofree char *golden = NULL;
  g_autofree char *dump = NULL;
  g_autofree char *dump_again = NULL;
  SsqServerStore *store;

  /* From nothing, step by step: stop at 0, then migrate. */
  store = ssq_server_store_open_at_version (path, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpint (ssq_server_store_get_version (store), ==, 0);
  ssq_server_store_close (store);
  store = ssq_server_store_open (path, TRUE, &error);
  g_assert_no_error (error);
  g_assert_cmpint (ssq_server_store_get_version (store), ==, SSQ_STORE_SCHEMA_VERSION);
  dump = ssq_server_store_dump_schema (store);
  ssq_server_store_close (store);

  g_file_get_contents (golden_path, &golden, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (dump, ==, golden);

  /* Opening again changes nothing. */
  store = ssq_server_store_open (path, TRUE, &error);
  g_assert_no_error (error);
  dump_again = ssq_server_store_dump_schema (store);
  g_assert_cmpstr (dump_again, ==, golden);
  /* A database from a newer server is refused, not touched. */
  g_assert_true (ssq_server_store_exec (store, "PRAGMA user_version = 99", NULL));
  ssq_server_store_close (store);
  store = ssq_server_store_open (path, TRUE, &error);
  g_assert_null (store);
  g_assert_error (error, SSQ_ERROR, SSQ_ERROR_INTERNAL);
}

static SsqMessageRow *
new_message (const char *conversation_id,
             const char *sender,
             const char *client_id)
{
  SsqMessageRow *m = g_new0 (SsqMessageRow, 1);

  m->id = ssq_server_store_new_id ('m');
  m->conversation_id = g_strdup (conversation_id);
  m->sender = g_strdup (sender);
  m->client_id = g_strdup (client_id);
  m->body = g_strdup ("body");
  m->created_at = 1;
  return m;
}

static void
test_store_messages (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = temp_db ();
  g_autoptr(SsqServerStore) store = ssq_server_store_open (path, FALSE, &error);
  SsqUserRow user = { (char *) "u1", (char *) "alice", (char *) "Alice", 1, 0 };
  SsqConversationRow conv = { (char *) "c1", (char *) "group", (char *) "t", 1, 1, 0 };
  g_autoptr(GPtrArray) page = NULL;

  g_assert_no_error (error);
  g_assert_true (ssq_server_store_user_insert (store, &user, "hash", &error));
  g_assert_false (ssq_server_store_user_insert (store, &user, "hash", &error));
  g_clear_error (&error);
  g_assert_true (ssq_server_store_conversation_insert (store, &conv, NULL, &error));
  g_assert_true (ssq_server_store_member_insert (store, "c1", "u1", "owner", 1, &error));

  g_assert_true (ssq_server_store_begin (store, &error));
  for (int i = 1; i <= 10; i++)
    {
      g_autofree char *cid = g_strdup_printf ("k%d", i);
      g_autoptr(SsqMessageRow) m = new_message ("c1", "u1", cid);

      g_assert_true (ssq_server_store_message_append (store, m, &error));
      g_assert_no_error (error);
      g_assert_cmpint (m->seq, ==, i);
    }
  /* The same (conversation, sender, client_id) cannot be stored twice. */
  {
    g_autoptr(SsqMessageRow) dup = new_message ("c1", "u1", "k3");
    g_assert_true (ssq_server_store_exec (store, "SAVEPOINT t", NULL));
    g_assert_false (ssq_server_store_message_append (store, dup, &error));
    g_assert_error (error, SSQ_ERROR, SSQ_ERROR_CONFLICT);
    g_clear_error (&error);
    g_assert_true (ssq_server_store_exec (store, "ROLLBACK TO t", NULL));
  }
  /* An unknown conversation gets no seq. */
  {
    g_autoptr(SsqMessageRow) lost = new_message ("nope", "u1", "z");
    g_assert_false (ssq_server_store_message_append (store, lost, &error));
    g_assert_error (error, SSQ_ERROR, SSQ_ERROR_NOT_FOUND);
    g_clear_error (&error);
  }
  g_assert_true (ssq_server_store_commit (store, &error));

  page = ssq_server_store_messages_range (store, "c1", 0, 0, 3, TRUE, &error);
  g_assert_cmpuint (page->len, ==, 4);   /* limit + 1 tells "more" */
  g_assert_cmpint (((SsqMessageRow *) page->pdata[3])->seq, ==, 10);
  g_assert_cmpint (((SsqMessageRow *) page->pdata[0])->seq, ==, 7);
  g_clear_pointer (&page, g_ptr_array_unref);
  page = ssq_server_store_messages_range (store, "c1", 8, 0, 5, FALSE, &error);
  g_assert_cmpuint (page->len, ==, 2);
  g_assert_cmpint (((SsqMessageRow *) page->pdata[0])->seq, ==, 9);
  g_clear_pointer (&page, g_ptr_array_unref);

  g_assert_true (ssq_server_store_member_mark (store, "c1", "u1", 5, 3, &error));
  g_assert_true (ssq_server_store_member_mark (store, "c1", "u1", 2, 1, &error));
  {
    g_autoptr(SsqMemberRow) m = ssq_server_store_member_get (store, "c1", "u1", &error);
    g_assert_cmpint (m->delivered_seq, ==, 5);
    g_assert_cmpint (m->read_seq, ==, 3);
  }
}

typedef struct {
  const char *id;
  gboolean    fail;
  GError     *result;
  gboolean    done;
} WriterOp;

/* Inserts a user row, then fails if asked to: the savepoint must undo it. */
static gboolean
writer_op_run (SsqServerStore  *store,
               gpointer         data,
               GError         **error)
{
  WriterOp *op = data;
  SsqUserRow user = { (char *) op->id, (char *) op->id, (char *) op->id, 1, 0 };

  if (!ssq_server_store_user_insert (store, &user, "hash", error))
    return FALSE;
  if (op->fail)
    {
      g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_CONFLICT, "asked to fail");
      return FALSE;
    }
  return TRUE;
}

static void
writer_op_done (gpointer      data,
                const GError *error)
{
  WriterOp *op = data;

  op->done = TRUE;
  op->result = error ? g_error_copy (error) : NULL;
}

static void
test_writer_batch (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = temp_db ();
  g_autoptr(SsqServerStore) store = ssq_server_store_open (path, FALSE, &error);
  g_autoptr(SsqServerWriter) writer = ssq_server_writer_new (store, 100);
  WriterOp ops[3] = { { "ua", FALSE }, { "ub", TRUE }, { "uc", FALSE } };

  for (guint i = 0; i < G_N_ELEMENTS (ops); i++)
    ssq_server_writer_submit (writer, writer_op_run, writer_op_done, &ops[i], NULL);
  g_assert_cmpuint (ssq_server_writer_pending (writer), ==, 3);
  /* Nothing is done before the commit. */
  g_assert_false (ops[0].done);
  while (ssq_server_writer_pending (writer) > 0)
    g_main_context_iteration (NULL, TRUE);

  /* One batch: the failing write is undone alone, the others stand. */
  for (guint i = 0; i < G_N_ELEMENTS (ops); i++)
    g_assert_true (ops[i].done);
  g_assert_no_error (ops[0].result);
  g_assert_error (ops[1].result, SSQ_ERROR, SSQ_ERROR_CONFLICT);
  g_assert_no_error (ops[2].result);
  g_clear_error (&ops[1].result);
  {
    g_autoptr(SsqUserRow) a = ssq_server_store_user_by_id (store, "ua", NULL);
    g_autoptr(SsqUserRow) b = ssq_server_store_user_by_id (store, "ub", NULL);
    g_autoptr(SsqUserRow) c = ssq_server_store_user_by_id (store, "uc", NULL);

    g_assert_nonnull (a);
    g_assert_null (b);
    g_assert_nonnull (c);
  }
}

static void
test_ratelimit (void)
{
  g_autoptr(SsqServerRatelimit) l = ssq_server_ratelimit_new (3, 60000);
  g_autoptr(SsqServerRatelimit) off = ssq_server_ratelimit_new (0, 60000);
  gint64 retry = 0;
  gint64 t = 1000000;

  /* A burst of three, then one every 20 s. */
  for (int i = 0; i < 3; i++)
    g_assert_true (ssq_server_ratelimit_take (l, "u", 1, t, &retry));
  g_assert_false (ssq_server_ratelimit_take (l, "u", 1, t, &retry));
  g_assert_cmpint (retry, ==, 20000);
  g_assert_false (ssq_server_ratelimit_take (l, "u", 1, t + 19999, &retry));
  g_assert_cmpint (retry, ==, 1);
  g_assert_true (ssq_server_ratelimit_take (l, "u", 1, t + 20000, &retry));
  g_assert_false (ssq_server_ratelimit_check (l, "u", t + 20000, &retry));
  /* Keys are independent; all-or-nothing for n > 1. */
  g_assert_false (ssq_server_ratelimit_take (l, "v", 4, t, &retry));
  g_assert_true (ssq_server_ratelimit_take (l, "v", 3, t, &retry));
  /* A key at rest is forgotten. */
  ssq_server_ratelimit_prune (l, t + 120000);
  g_assert_cmpuint (ssq_server_ratelimit_size (l), ==, 0);
  for (int i = 0; i < 1000; i++)
    g_assert_true (ssq_server_ratelimit_take (off, "u", 1, t, NULL));
}

static void
test_tokens (void)
{
  g_autofree char *a = ssq_server_auth_new_token ();
  g_autofree char *b = ssq_server_auth_new_token ();
  guint8 ha[SSQ_TOKEN_HASH_BYTES], hb[SSQ_TOKEN_HASH_BYTES], ha2[SSQ_TOKEN_HASH_BYTES];

  g_assert_cmpuint (strlen (a), ==, 43);
  g_assert_cmpstr (a, !=, b);
  g_assert_true (ssq_server_auth_token_hash (a, ha));
  g_assert_true (ssq_server_auth_token_hash (a, ha2));
  g_assert_true (ssq_server_auth_token_hash (b, hb));
  g_assert_cmpmem (ha, sizeof ha, ha2, sizeof ha2);
  g_assert_true (memcmp (ha, hb, sizeof ha) != 0);
  g_assert_false (ssq_server_auth_token_hash ("", ha));
  g_assert_false (ssq_server_auth_token_hash (NULL, ha));
}

static void
hashed_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      data)
{
  *(GAsyncResult **) data = g_object_ref (result);
}

static void
test_password_hash (void)
{
  g_autoptr(SsqServerAuth) auth = ssq_server_auth_new (crypto_pwhash_OPSLIMIT_MIN,
                                                       crypto_pwhash_MEMLIMIT_MIN, 2);
  GAsyncResult *result = NULL;
  g_autofree char *hash = NULL;
  g_autoptr(GError) error = NULL;
  gboolean ok;

  ssq_server_auth_hash_async (auth, "correct horse", hashed_cb, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  hash = ssq_server_auth_hash_finish (auth, result, &error);
  g_clear_object (&result);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (hash, "$argon2id$"));

  ssq_server_auth_verify_async (auth, hash, "correct horse", hashed_cb, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  ok = ssq_server_auth_verify_finish (auth, result, NULL, &error);
  g_clear_object (&result);
  g_assert_true (ok);
  ssq_server_auth_verify_async (auth, hash, "wrong horse", hashed_cb, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (ssq_server_auth_verify_finish (auth, result, NULL, NULL));
  g_clear_object (&result);
  /* Unknown user: a dummy hash is checked, and the answer is no. */
  ssq_server_auth_verify_async (auth, NULL, "correct horse", hashed_cb, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (ssq_server_auth_verify_finish (auth, result, NULL, NULL));
  g_clear_object (&result);
}

/* The start-up hint tells the truth for each kind of listening address. */
static void
test_reach_hint (void)
{
  const struct { const char *host; const char *local_url; const char *says; const char *never; } cases[] = {
    { "0.0.0.0", "http://127.0.0.1:8080", "in place of 0.0.0.0", "only" },
    { "::", "http://[::1]:8080", "in place of ::", "only" },
    { "127.0.0.1", "http://127.0.0.1:8080", "from this machine only", "in place of" },
    { "::1", "http://[::1]:8080", "from this machine only", "in place of" },
    { "192.168.1.5", "http://192.168.1.5:8080", "on this machine and the LAN", "in place of" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GInetAddress) address = g_inet_address_new_from_string (cases[i].host);
      g_autofree char *local_url = NULL;
      g_autofree char *hint = ssq_server_reach_hint (address, 8080, &local_url);

      g_test_message ("%s: %s", cases[i].host, hint);
      g_assert_cmpstr (local_url, ==, cases[i].local_url);
      g_assert_nonnull (strstr (hint, cases[i].says));
      g_assert_null (strstr (hint, cases[i].never));
    }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_assert_cmpint (sodium_init (), >=, 0);
  g_test_add_func ("/server/store/golden-schema", test_golden_schema);
  g_test_add_func ("/server/store/messages", test_store_messages);
  g_test_add_func ("/server/store/writer-batch", test_writer_batch);
  g_test_add_func ("/server/ratelimit/gcra", test_ratelimit);
  g_test_add_func ("/server/auth/tokens", test_tokens);
  g_test_add_func ("/server/auth/password-hash", test_password_hash);
  g_test_add_func ("/server/startup/reach-hint", test_reach_hint);
  return g_test_run ();
}
