/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-units.c: store (golden migration, seq, idempotency), rate limiter,
 * login throttle, tokens and the start-up hint, on real SQLite files in a
 * temporary directory. */
#include "ssq-server.h"
#include "ssq-server-config.h"
#include "ssq-server-auth.h"
#include "ssq-server-ratelimit.h"
#include "ssq-server-store.h"
#include "ssq-json.h"
#include "ssq-server-throttle.h"
#include "ssq-proto.h"
#include "ssq-test-store.h"

#include <glib/gstdio.h>
#include <sodium.h>
#include <sqlite3.h>
#include <string.h>

static void
test_golden_schema (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = ssq_test_store_temp_db ();
  g_autofree char *golden_name = g_strdup_printf ("schema-v%d.sql", SSQ_STORE_SCHEMA_VERSION);
  g_autofree char *golden_path = g_test_build_filename (G_TEST_DIST, "golden", golden_name, NULL);
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

static char *
golden_schema (int version)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *name = g_strdup_printf ("schema-v%d.sql", version);
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "golden", name, NULL);
  char *golden = NULL;

  /* Version 0 is the empty database. */
  if (version == 0)
    return g_strdup ("-- user_version 0\n");
  g_file_get_contents (path, &golden, NULL, &error);
  g_assert_no_error (error);
  return golden;
}

static void
assert_schema_at (const char *path,
                  int         version)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *golden = golden_schema (version);
  g_autofree char *dump = NULL;
  SsqServerStore *store = ssq_server_store_open_at_version (path, version, &error);

  g_assert_no_error (error);
  g_assert_cmpint (ssq_server_store_get_version (store), ==, version);
  dump = ssq_server_store_dump_schema (store);
  ssq_server_store_close (store);
  g_assert_cmpstr (dump, ==, golden);
}

/* Every step up gives the golden schema of its version, and every step
 * down gives the golden schema of the version below, exactly: so up then
 * down then up again is the same database shape as never having moved. */
static void
test_golden_up_down (void)
{
  g_autofree char *path = ssq_test_store_temp_db ();

  for (int v = 0; v <= SSQ_STORE_SCHEMA_VERSION; v++)
    assert_schema_at (path, v);
  for (int v = SSQ_STORE_SCHEMA_VERSION - 1; v >= 0; v--)
    assert_schema_at (path, v);
  /* Each down step alone, from the top each time. */
  for (int v = SSQ_STORE_SCHEMA_VERSION - 1; v >= 0; v--)
    {
      assert_schema_at (path, SSQ_STORE_SCHEMA_VERSION);
      assert_schema_at (path, v);
    }
}

/* A database of schema 1 with a message keeps it through the migration to
 * change cursors: nothing changed yet, so every rev starts at 0, and the
 * first edit takes rev 1. */
static void
test_migrate_revs (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = ssq_test_store_temp_db ();
  g_autoptr(SsqMessageRow) m = NULL;
  g_autoptr(SsqConversationRow) conv = NULL;
  g_autoptr(GPtrArray) changed = NULL;
  SsqServerStore *store = ssq_server_store_open_at_version (path, 1, &error);

  g_assert_no_error (error);
  g_assert_true (ssq_server_store_exec (store,
    "INSERT INTO conversations (id, kind, created_at, updated_at, last_seq) "
    "VALUES ('c1', 'group', 1, 1, 1);"
    "INSERT INTO messages (conversation_id, seq, id, sender, client_id, body, created_at) "
    "VALUES ('c1', 1, 'm1', 'u1', 'k1', 'hello', 1);", &error));
  ssq_server_store_close (store);

  store = ssq_server_store_open (path, TRUE, &error);
  g_assert_no_error (error);
  conv = ssq_server_store_conversation_get (store, "c1", &error);
  g_assert_cmpint (conv->rev, ==, 0);
  m = ssq_server_store_message_get (store, "c1", 1, &error);
  g_assert_cmpstr (m->body, ==, "hello");
  g_assert_cmpint (m->rev, ==, 0);

  g_free (m->body);
  m->body = g_strdup ("hello again");
  g_assert_true (ssq_server_store_begin (store, &error));
  g_assert_true (ssq_server_store_message_update (store, m, &error));
  g_assert_true (ssq_server_store_commit (store, &error));
  g_assert_cmpint (m->rev, ==, 1);
  changed = ssq_server_store_messages_changed (store, "c1", 0, 1, 10, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (changed->len, ==, 1);
  g_assert_cmpstr (((SsqMessageRow *) changed->pdata[0])->body, ==, "hello again");
  g_clear_pointer (&changed, g_ptr_array_unref);
  changed = ssq_server_store_messages_changed (store, "c1", 1, 1, 10, &error);
  g_assert_cmpuint (changed->len, ==, 0);
  ssq_server_store_close (store);
}

/* Schema 10 writes again the stored wire forms that hold a raw U+001F (the
 * writer left it raw before), escaped, so that strict readers take them;
 * the other rows are not touched. */
static void
test_migrate_unit_separator (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = ssq_test_store_temp_db ();
  g_autoptr(GString) page = g_string_new ("[");
  g_autoptr(JsonObject) object = NULL;
  g_autofree char *wrapped = NULL;
  gboolean more = FALSE;
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  SsqServerStore *store = ssq_server_store_open_at_version (path, 9, &error);

  g_assert_no_error (error);
  g_assert_true (ssq_server_store_exec (store,
    "INSERT INTO conversations (id, kind, created_at, updated_at, last_seq) "
    "VALUES ('c1', 'group', 1, 1, 2);"
    "INSERT INTO messages (conversation_id, seq, id, sender, client_id, body, created_at, json) "
    "VALUES ('c1', 1, 'm1', 'u1', 'k1', 'a' || char(31) || 'b', 1, "
    "        '{\"body\":\"a' || char(31) || 'b\"}'),"
    "       ('c1', 2, 'm2', 'u1', 'k2', 'c', 1, 'untouched');", &error));
  ssq_server_store_close (store);

  store = ssq_server_store_open (path, TRUE, &error);
  g_assert_no_error (error);
  g_assert_true (ssq_server_store_messages_page (store, "c1", 0, 2, 1, FALSE, page, &more, &error));
  g_assert_no_error (error);
  ssq_server_store_close (store);
  g_assert_null (strchr (page->str, 0x1f));
  wrapped = g_strdup_printf ("{\"page\":%s]}", page->str);
  object = ssq_json_parse_object (wrapped, strlen (wrapped), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (json_object_get_string_member (
    json_array_get_object_element (json_object_get_array_member (object, "page"), 0), "body"),
    ==, "a\x1f" "b");
  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT json FROM messages WHERE seq = 2", -1, &stmt,
                                       NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  g_assert_cmpstr ((const char *) sqlite3_column_text (stmt, 0), ==, "untouched");
  sqlite3_finalize (stmt);
  sqlite3_close (db);
}

/* Schema 6 makes the oldest account still there a server admin (ids are
 * random: the lowest rowid, not the lowest id), and only it; a deleted
 * account is skipped. Accounts made after are not, unless none was left. */
static void
test_migrate_admin (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = ssq_test_store_temp_db ();
  g_autoptr(SsqUserRow) gone = NULL;
  g_autoptr(SsqUserRow) first = NULL;
  g_autoptr(SsqUserRow) second = NULL;
  g_autoptr(SsqUserRow) later = NULL;
  SsqUserRow later_row = { (char *) "u0", (char *) "later", (char *) "Later", 4, 0 };
  SsqServerStore *store = ssq_server_store_open_at_version (path, 5, &error);

  g_assert_no_error (error);
  g_assert_true (ssq_server_store_exec (store,
    "INSERT INTO users (id, username, display_name, pw_hash, created_at) VALUES "
    "('uz', '~uz', '', '', 1), ('uy', 'first', 'First', 'h', 2), "
    "('ua', 'second', 'Second', 'h', 3);", &error));
  ssq_server_store_close (store);

  store = ssq_server_store_open (path, TRUE, &error);
  g_assert_no_error (error);
  g_assert_true (ssq_server_store_user_insert (store, &later_row, "h", &error));
  gone = ssq_server_store_user_by_id (store, "uz", &error);
  first = ssq_server_store_user_by_name (store, "first", NULL, &error);
  second = ssq_server_store_user_by_name (store, "second", NULL, &error);
  later = ssq_server_store_user_by_name (store, "later", NULL, &error);
  g_assert_no_error (error);
  g_assert_false (gone->server_admin);
  g_assert_true (first->server_admin);
  g_assert_false (second->server_admin);
  g_assert_false (later->server_admin);
  g_assert_false (first->disabled);
  ssq_server_store_close (store);
}

/* On an empty server the first account registered is its admin. */
static void
test_first_account_admin (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = ssq_test_store_temp_db ();
  g_autoptr(SsqUserRow) a = NULL;
  g_autoptr(SsqUserRow) b = NULL;
  SsqUserRow a_row = { (char *) "ub", (char *) "a", (char *) "A", 1, 0 };
  SsqUserRow b_row = { (char *) "ua", (char *) "b", (char *) "B", 2, 0 };
  SsqServerStore *store = ssq_server_store_open (path, TRUE, &error);

  g_assert_no_error (error);
  g_assert_true (ssq_server_store_user_insert (store, &a_row, "h", &error));
  g_assert_true (ssq_server_store_user_insert (store, &b_row, "h", &error));
  a = ssq_server_store_user_by_name (store, "a", NULL, &error);
  b = ssq_server_store_user_by_name (store, "b", NULL, &error);
  g_assert_no_error (error);
  g_assert_true (a->server_admin);
  g_assert_false (b->server_admin);
  ssq_server_store_close (store);
}

/* Reset codes: 80 random bits in groups; read back whatever the case,
 * dashes and look-alike letters; anything else is no code. */
static void
test_reset_codes (void)
{
  g_autofree char *code = ssq_server_auth_new_reset_code ();
  g_autofree char *lower = g_ascii_strdown (code, -1);
  g_autofree char *other = ssq_server_auth_new_reset_code ();
  guint8 h1[SSQ_TOKEN_HASH_BYTES], h2[SSQ_TOKEN_HASH_BYTES], h3[SSQ_TOKEN_HASH_BYTES];
  guint8 h4[SSQ_TOKEN_HASH_BYTES];

  g_assert_cmpuint (strlen (code), ==, 19);
  g_assert_cmpstr (code, !=, other);
  g_assert_true (ssq_server_auth_reset_code_hash (code, h1));
  g_assert_true (ssq_server_auth_reset_code_hash (lower, h2));
  g_assert_cmpmem (h1, sizeof h1, h2, sizeof h2);
  g_assert_true (ssq_server_auth_reset_code_hash ("0111-ABCD-EFGH-JKMN", h3));
  g_assert_true (ssq_server_auth_reset_code_hash ("oIlL abcd efgh jkmn", h4));
  g_assert_cmpmem (h3, sizeof h3, h4, sizeof h4);
  g_assert_false (ssq_server_auth_reset_code_hash ("0111-ABCD-EFGH-JKM", h4));
  g_assert_false (ssq_server_auth_reset_code_hash ("0111-ABCD-EFGH-JKMNP", h4));
  g_assert_false (ssq_server_auth_reset_code_hash ("0111-ABCD-EFGH-JKMU", h4));
  g_assert_false (ssq_server_auth_reset_code_hash ("", h4));
  g_assert_false (ssq_server_auth_reset_code_hash (NULL, h4));
}

/* What a history page must be: the codec's encoding of each row, from its
 * fields, joined by commas; with the range query's "more" answer. */
static char *
expected_page (SsqServerStore *store,
               gint64          after,
               gint64          before,
               guint           limit,
               gboolean        newest,
               gboolean       *out_has_more)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) rows = ssq_server_store_messages_range (store, "c1", after, before, limit,
                                                               newest, &error);
  g_autoptr(GString) out = g_string_new (NULL);

  g_assert_no_error (error);
  *out_has_more = rows->len > limit;
  if (*out_has_more)
    g_ptr_array_remove_index (rows, newest ? 0 : rows->len - 1);
  for (guint i = 0; i < rows->len; i++)
    {
      SsqMessageRow *m = rows->pdata[i];
      SsqWireMessage wire;
      g_autoptr(JsonObject) object = NULL;
      g_autoptr(JsonNode) node = NULL;
      g_autofree char *text = NULL;

      /* Through json-glib (its generator, U+001F escaped after it), not
       * through the store's own writer. */
      ssq_message_row_to_wire (m, &wire);
      object = ssq_wire_message_encode (&wire);
      node = json_node_init_object (json_node_alloc (), object);
      text = ssq_json_node_to_string (node, NULL);
      g_string_append_printf (out, "%s%s", i > 0 ? "," : "", text);
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static void
assert_pages (SsqServerStore *store,
              gint64          last_seq)
{
  static const guint limits[] = { 1, 2, 3, 50, SSQ_HISTORY_MAX };

  for (guint l = 0; l < G_N_ELEMENTS (limits); l++)
    for (gint64 after = 0; after <= last_seq + 1; after++)
      for (gint64 before = 0; before <= last_seq + 2; before += (before == 0 ? 1 : 2))
        for (int newest = 0; newest <= 1; newest++)
          {
            g_autoptr(GError) error = NULL;
            g_autoptr(GString) page = g_string_new ("[");
            g_autofree char *expected = NULL;
            g_autofree char *want = NULL;
            gboolean more = FALSE, want_more = FALSE;

            g_assert_true (ssq_server_store_messages_page (store, "c1", after, before, limits[l],
                                                           newest, page, &more, &error));
            g_assert_no_error (error);
            expected = expected_page (store, after, before, limits[l], newest, &want_more);
            want = g_strdup_printf ("[%s", expected);
            g_assert_cmpstr (page->str, ==, want);
            g_assert_cmpint (more, ==, want_more);
          }
}

/* Rows written before schema 3 get their wire form from the migration, and
 * edits and deletions rewrite it: every page is byte for byte what the
 * codec makes of the rows (deleted: empty body; edited: edited_at, rev). */
static void
test_history_stored_json (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = ssq_test_store_temp_db ();
  g_autoptr(SsqMessageRow) m = NULL;
  SsqServerStore *store = ssq_server_store_open_at_version (path, 2, &error);

  g_assert_no_error (error);
  g_assert_true (ssq_server_store_exec (store,
    "INSERT INTO conversations (id, kind, created_at, updated_at, last_seq, rev) "
    "VALUES ('c1', 'group', 1, 1, 5, 2);"
    "INSERT INTO messages (conversation_id, seq, id, sender, client_id, body, created_at, "
    "  edited_at, deleted, reply_to, rev) VALUES "
    "('c1', 1, 'm1', 'u1', 'k1', 'hello', 1000, NULL, 0, NULL, 0),"
    "('c1', 2, 'm2', 'u2', 'k2', 'quote \"\\ \n\t\u00e9 \u263a', 2000, NULL, 0, 1, 0),"
    "('c1', 3, 'm3', 'u1', 'k3', 'was edited', 3000, 3500, 0, NULL, 1),"
    "('c1', 4, 'm4', 'u1', 'k4', 'still here after deletion', 4000, 4500, 1, 2, 2),"
    "('c1', 5, 'm5', 'u2', 'k5', '<b>&amp;</b>', 5000, NULL, 0, NULL, 0);", &error));
  g_assert_no_error (error);
  ssq_server_store_close (store);

  store = ssq_server_store_open (path, TRUE, &error);
  g_assert_no_error (error);
  m = ssq_server_store_message_get (store, "c1", 4, &error);
  g_assert_nonnull (strstr (m->json, "\"body\":\"\""));     /* deleted: emptied */
  g_clear_pointer (&m, ssq_message_row_free);
  assert_pages (store, 5);

  /* New messages, then an edit and a deletion, through the store. */
  g_assert_true (ssq_server_store_begin (store, &error));
  for (int i = 6; i <= 8; i++)
    {
      g_autofree char *cid = g_strdup_printf ("k%d", i);
      g_autoptr(SsqMessageRow) n = ssq_test_store_message ("c1", "u1", cid);

      n->reply_to = i == 7 ? 6 : 0;
      if (i == 8)
        {
          /* The bytes json-glib escapes its own way, written by the store. */
          g_free (n->body);
          n->body = g_strdup ("\x01\b\f\n\r\t\x0b\x1e\x1f\x7f \"\\/ \xc2\x80\xf0\x9f\x98\x80");
        }
      g_assert_true (ssq_server_store_message_append (store, n, &error));
      g_assert_cmpint (n->seq, ==, i);
    }
  m = ssq_server_store_message_get (store, "c1", 1, &error);
  g_free (m->body);
  m->body = g_strdup ("hello, edited");
  m->edited_at = 9000;
  g_assert_true (ssq_server_store_message_update (store, m, &error));
  g_assert_cmpint (m->rev, ==, 3);
  g_clear_pointer (&m, ssq_message_row_free);
  m = ssq_server_store_message_get (store, "c1", 7, &error);
  m->deleted = TRUE;
  m->edited_at = 9100;
  g_assert_true (ssq_server_store_message_update (store, m, &error));
  g_assert_true (ssq_server_store_commit (store, &error));
  g_assert_nonnull (strstr (m->json, "\"deleted\":true"));
  g_clear_pointer (&m, ssq_message_row_free);
  assert_pages (store, 8);
  ssq_server_store_close (store);
}

static void
test_store_messages (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = ssq_test_store_temp_db ();
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
      g_autoptr(SsqMessageRow) m = ssq_test_store_message ("c1", "u1", cid);

      g_assert_true (ssq_server_store_message_append (store, m, &error));
      g_assert_no_error (error);
      g_assert_cmpint (m->seq, ==, i);
    }
  /* The same (conversation, sender, client_id) cannot be stored twice. */
  {
    g_autoptr(SsqMessageRow) dup = ssq_test_store_message ("c1", "u1", "k3");
    g_assert_true (ssq_server_store_exec (store, "SAVEPOINT t", NULL));
    g_assert_false (ssq_server_store_message_append (store, dup, &error));
    g_assert_error (error, SSQ_ERROR, SSQ_ERROR_CONFLICT);
    g_clear_error (&error);
    g_assert_true (ssq_server_store_exec (store, "ROLLBACK TO t", NULL));
  }
  /* An unknown conversation gets no seq. */
  {
    g_autoptr(SsqMessageRow) lost = ssq_test_store_message ("nope", "u1", "z");
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

static void
test_ratelimit (void)
{
  g_autoptr(SsqServerRatelimit) l = ssq_server_ratelimit_new (3, 60000);
  g_autoptr(SsqServerRatelimit) off = ssq_server_ratelimit_new (0, 60000);
  gint64 retry = 0;
  gint64 t = 1000000;

  /* Three in any minute: the burst is the whole minute's budget. */
  for (int i = 0; i < 3; i++)
    g_assert_true (ssq_server_ratelimit_take (l, "u", 1, t, &retry));
  g_assert_false (ssq_server_ratelimit_take (l, "u", 1, t, &retry));
  g_assert_cmpint (retry, ==, 60000);
  g_assert_false (ssq_server_ratelimit_take (l, "u", 1, t + 20000, &retry));
  g_assert_false (ssq_server_ratelimit_take (l, "u", 1, t + 59999, &retry));
  g_assert_cmpint (retry, ==, 1);
  g_assert_true (ssq_server_ratelimit_check (l, "u", t + 60000, &retry));
  g_assert_true (ssq_server_ratelimit_take (l, "u", 3, t + 60000, &retry));
  g_assert_false (ssq_server_ratelimit_check (l, "u", t + 60000, &retry));
  /* Keys are independent; all-or-nothing for n > 1. */
  g_assert_false (ssq_server_ratelimit_take (l, "v", 4, t, &retry));
  g_assert_true (ssq_server_ratelimit_take (l, "v", 2, t, &retry));
  g_assert_false (ssq_server_ratelimit_take (l, "v", 2, t + 1, &retry));
  g_assert_true (ssq_server_ratelimit_take (l, "v", 1, t + 1, &retry));
  /* A key at rest is forgotten. */
  ssq_server_ratelimit_prune (l, t + 120000);
  g_assert_cmpuint (ssq_server_ratelimit_size (l), ==, 0);
  for (int i = 0; i < 1000; i++)
    g_assert_true (ssq_server_ratelimit_take (off, "u", 1, t, NULL));
}

/* Tries one event every @step_ms for @span_ms; returns the accepted times. */
static GArray *
ratelimit_run (SsqServerRatelimit *l,
               gint64              t0,
               gint64              step_ms,
               gint64              span_ms)
{
  GArray *accepted = g_array_new (FALSE, FALSE, sizeof (gint64));

  for (gint64 t = t0; t < t0 + span_ms; t += step_ms)
    if (ssq_server_ratelimit_take (l, "u", 1, t, NULL))
      g_array_append_val (accepted, t);
  return accepted;
}

/* The most events accepted in any half-open window [s, s + period). */
static guint
ratelimit_max_in_window (GArray *accepted,
                         gint64  period_ms)
{
  guint best = 0, lo = 0;

  for (guint hi = 0; hi < accepted->len; hi++)
    {
      while (g_array_index (accepted, gint64, hi) - g_array_index (accepted, gint64, lo) >= period_ms)
        lo++;
      best = MAX (best, hi - lo + 1);
    }
  return best;
}

/* "60 per minute" is at most 60 in any minute, the first one included (a
 * token bucket let a burst of 60 plus one a second through: 119), and
 * still 60 a minute for a client that keeps trying. */
static void
test_ratelimit_window (void)
{
  const guint counts[] = { 1, 3, 60, 64, 65, 1000, 5000 };

  for (guint c = 0; c < G_N_ELEMENTS (counts); c++)
    {
      g_autoptr(SsqServerRatelimit) l = ssq_server_ratelimit_new (counts[c], 60000);
      gint64 step = MAX (1, 60000 / ((gint64) counts[c] * 10));
      g_autoptr(GArray) accepted = ratelimit_run (l, 5000000, step, 180000);
      guint first = 0;

      for (guint i = 0; i < accepted->len; i++)
        first += g_array_index (accepted, gint64, i) < 5000000 + 60000;
      g_test_message ("count %u: %u in the first minute, %u in three, at most %u in a window",
                      counts[c], first, accepted->len, ratelimit_max_in_window (accepted, 60000));
      g_assert_cmpuint (ratelimit_max_in_window (accepted, 60000), <=, counts[c]);
      g_assert_cmpuint (first, ==, counts[c]);
      /* Grouping (above 64) may refuse up to one group early per window. */
      g_assert_cmpuint (accepted->len, >=, 3 * (counts[c] - counts[c] / 64));
    }
}

/* Free failures, then a lockout doubling at every failure up to the cap;
 * forgetting clears a key, other keys are untouched. */
static void
test_throttle_backoff (void)
{
  g_autoptr(SsqServerThrottle) t = ssq_server_throttle_new (3, 1, 1000, 8000, 100);
  g_autoptr(SsqServerThrottle) slow = ssq_server_throttle_new (2, 4, 1000, 60000, 100);
  gint64 now = 5000000, retry = 0;

  for (int i = 0; i < 2; i++)
    {
      g_assert_true (ssq_server_throttle_check (t, "k", now, &retry));
      ssq_server_throttle_fail (t, "k", now);
    }
  g_assert_true (ssq_server_throttle_check (t, "k", now, &retry));
  ssq_server_throttle_fail (t, "k", now);                    /* the third: 1 s */
  g_assert_false (ssq_server_throttle_check (t, "k", now, &retry));
  g_assert_cmpint (retry, ==, 1000);
  g_assert_true (ssq_server_throttle_check (t, "other", now, &retry));
  now += 1000;
  g_assert_true (ssq_server_throttle_check (t, "k", now, &retry));
  ssq_server_throttle_fail (t, "k", now);                    /* 2 s */
  g_assert_false (ssq_server_throttle_check (t, "k", now + 1999, &retry));
  g_assert_cmpint (retry, ==, 1);
  for (int i = 0; i < 10; i++)
    ssq_server_throttle_fail (t, "k", now);
  g_assert_false (ssq_server_throttle_check (t, "k", now, &retry));
  g_assert_cmpint (retry, ==, 8000);                          /* capped */
  ssq_server_throttle_unfail (t, "k");
  g_assert_cmpuint (ssq_server_throttle_failures (t, "k"), ==, 13);
  ssq_server_throttle_forget (t, "k");
  g_assert_true (ssq_server_throttle_check (t, "k", now, &retry));
  g_assert_cmpuint (ssq_server_throttle_failures (t, "k"), ==, 0);

  /* A ramp of 4: the lockout doubles every fourth failure. */
  for (int i = 0; i < 2 + 4; i++)
    ssq_server_throttle_fail (slow, "a", now);
  g_assert_false (ssq_server_throttle_check (slow, "a", now, &retry));
  g_assert_cmpint (retry, ==, 2000);

  /* A day of quiet and the record is gone. */
  ssq_server_throttle_fail (t, "old", now);
  ssq_server_throttle_prune (t, now + 24 * 3600 * 1000);
  g_assert_cmpuint (ssq_server_throttle_size (t), ==, 0);
}

/* Invented keys cannot grow the table past its bound; they push out the
 * records that failed least recently, not one that is still failing. */
static void
test_throttle_bounded (void)
{
  g_autoptr(SsqServerThrottle) t = ssq_server_throttle_new (1, 1, 1000, 60000, 100);
  gint64 now = 5000000, retry = 0;

  for (int i = 0; i < 20000; i++)
    {
      g_autofree char *key = g_strdup_printf ("invented%d", i);

      ssq_server_throttle_fail (t, key, now + i);
      if (i % 50 == 0)
        ssq_server_throttle_fail (t, "victim", now + i);
      g_assert_cmpuint (ssq_server_throttle_size (t), <=, 100);
    }
  g_assert_cmpuint (ssq_server_throttle_size (t), ==, 100);
  g_assert_false (ssq_server_throttle_check (t, "victim", now + 20000, &retry));
}

static void
test_throttle_address_key (void)
{
  const char *cases[][2] = {
    { "192.0.2.7", "192.0.2.7" },
    { "::ffff:192.0.2.7", "192.0.2.7" },
    { "2001:db8:1:2:aaaa::1", "2001:0db8:0001:0002::/64" },
    { "2001:db8:1:2:bbbb:cccc:dddd:eeee", "2001:0db8:0001:0002::/64" },
    { "2001:db8:1:3::1", "2001:0db8:0001:0003::/64" },
    { "::1", "0000:0000:0000:0000::/64" },
    { "not an address", "not an address" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *key = ssq_server_throttle_address_key (cases[i][0]);

      g_assert_cmpstr (key, ==, cases[i][1]);
    }
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

  ssq_server_auth_hash_async (auth, "192.0.2.1", "correct horse", hashed_cb, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  hash = ssq_server_auth_hash_finish (auth, result, &error);
  g_clear_object (&result);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (hash, "$argon2id$"));

  ssq_server_auth_verify_async (auth, "192.0.2.1", hash, "correct horse", hashed_cb, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  ok = ssq_server_auth_verify_finish (auth, result, NULL, &error);
  g_clear_object (&result);
  g_assert_true (ok);
  ssq_server_auth_verify_async (auth, "192.0.2.1", hash, "wrong horse", hashed_cb, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (ssq_server_auth_verify_finish (auth, result, NULL, NULL));
  g_clear_object (&result);
  /* Unknown user: a dummy hash is checked, and the answer is no. */
  ssq_server_auth_verify_async (auth, "192.0.2.1", NULL, "correct horse", hashed_cb, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (ssq_server_auth_verify_finish (auth, result, NULL, NULL));
  g_clear_object (&result);
}

static void
count_refused_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      data)
{
  guint *counts = data;    /* [0] done, [1] of them refused as busy */
  g_autoptr(GError) error = NULL;

  ssq_server_auth_verify_finish (NULL, result, NULL, &error);
  counts[0]++;
  if (g_error_matches (error, SSQ_ERROR, SSQ_ERROR_RATE_LIMITED))
    {
      g_assert_cmpint (ssq_error_get_retry_after (error), >, 0);
      counts[1]++;
    }
}

/* Verifies @n passwords for each of the @n_owners @owners (NULL: the
 * administration's), waits for all; returns how many were refused as busy. */
static guint
verify_burst (SsqServerAuth      *auth,
              const char * const *owners,
              guint               n_owners,
              guint               n)
{
  guint counts[2] = { 0, 0 }, total = 0;

  for (guint i = 0; i < n_owners; i++)
    for (guint j = 0; j < n; j++, total++)
      ssq_server_auth_verify_async (auth, owners[i], NULL, "pw", count_refused_cb, counts);
  while (counts[0] < total)
    g_main_context_iteration (NULL, TRUE);
  return counts[1];
}

/* Hashes are bounded before they are spent: eight under way per client
 * address, past which refused at once (rate limited, with a retry time),
 * never queued; and given back once done. */
static void
test_password_hash_bounded (void)
{
  g_autoptr(SsqServerAuth) auth = ssq_server_auth_new (crypto_pwhash_OPSLIMIT_MIN,
                                                       crypto_pwhash_MEMLIMIT_MIN, 1);
  const char *one[] = { "192.0.2.1" };
  const char *admin[] = { NULL };
  g_autoptr(GPtrArray) many = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;

  g_assert_cmpuint (verify_burst (auth, one, 1, 10), ==, 2);
  g_assert_cmpuint (verify_burst (auth, one, 1, 8), ==, 0);
  /* Forty addresses at once, one each: all taken. */
  for (guint i = 0; i < 40; i++)
    g_ptr_array_add (many, g_strdup_printf ("198.51.100.%u", i));
  g_assert_cmpuint (verify_burst (auth, (const char * const *) many->pdata, many->len, 1), ==, 0);
  /* The administration's (no owner) are not counted per address. */
  g_assert_cmpuint (verify_burst (auth, admin, 1, 20), ==, 0);
  g_assert_true (ssq_server_auth_check_room (auth, "192.0.2.1", &error));
  g_assert_no_error (error);
}

typedef struct {
  GString    *order;
  const char *label;
  guint      *done;
} OrderSeen;

static void
order_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      data)
{
  OrderSeen *seen = data;

  g_string_append_printf (seen->order, "%s ", seen->label);
  (*seen->done)++;
}

/* Addresses are served in turn: a hash waits behind the hashes of lower
 * rank (how many its address had under way when it came), then in order
 * of arrival. Three from A, then one from B and one from C, one thread,
 * held until all are queued: A's first, B's, C's, then A's others. First
 * come first served ran all of A's before B's and C's: a flooding address
 * kept everyone else waiting. */
static void
test_password_hash_in_turn (void)
{
  g_autoptr(SsqServerAuth) auth = ssq_server_auth_new (crypto_pwhash_OPSLIMIT_MIN,
                                                       crypto_pwhash_MEMLIMIT_MIN, 1);
  const char *owners[] = { "A", "A", "A", "B", "C" };
  const char *labels[] = { "A0", "A1", "A2", "B3", "C4" };
  OrderSeen seen[G_N_ELEMENTS (owners)];
  g_autoptr(GString) order = g_string_new (NULL);
  guint done = 0;

  ssq_server_auth_hold (auth, TRUE);
  for (guint i = 0; i < G_N_ELEMENTS (owners); i++)
    {
      seen[i] = (OrderSeen) { order, labels[i], &done };
      ssq_server_auth_verify_async (auth, owners[i], NULL, "pw", order_cb, &seen[i]);
    }
  ssq_server_auth_hold (auth, FALSE);
  while (done < G_N_ELEMENTS (owners))
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpstr (order->str, ==, "A0 B3 C4 A1 A2 ");
}

/* The auth may go while callbacks of its hashes are still to run (the
 * server stopping): they run, and count nothing on the freed auth (they
 * wrote into it: valgrind saw it, MALLOC_PERTURB_ made it crash). */
static void
test_password_hash_after_free (void)
{
  SsqServerAuth *auth = ssq_server_auth_new (crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN, 1);
  GAsyncResult *result = NULL;

  ssq_server_auth_verify_async (auth, "192.0.2.9", NULL, "pw", hashed_cb, &result);
  ssq_server_auth_free (auth);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (ssq_server_auth_verify_finish (NULL, result, NULL, NULL));
  g_object_unref (result);
}

/* The start-up hint tells the truth for each kind of listening address. */
static void
test_reach_hint (void)
{
  const struct { const char *host; gboolean tls; const char *local_url; const char *says; const char *never; } cases[] = {
    { "0.0.0.0", FALSE, "http://127.0.0.1:8080", "in place of 0.0.0.0", "only" },
    { "::", FALSE, "http://[::1]:8080", "in place of ::", "only" },
    { "127.0.0.1", FALSE, "http://127.0.0.1:8080", "from this machine only", "in place of" },
    { "::1", FALSE, "http://[::1]:8080", "from this machine only", "in place of" },
    { "192.168.1.5", FALSE, "http://192.168.1.5:8080", "on this machine and the LAN", "in place of" },
    { "0.0.0.0", TRUE, "https://127.0.0.1:8080", "in place of 0.0.0.0", "only" },
    { "192.168.1.5", TRUE, "https://192.168.1.5:8080", "on this machine and the LAN", "http:" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GInetAddress) address = g_inet_address_new_from_string (cases[i].host);
      g_autofree char *local_url = NULL;
      g_autofree char *hint = ssq_server_reach_hint (address, 8080, cases[i].tls,
                                                         &local_url);

      g_test_message ("%s: %s", cases[i].host, hint);
      g_assert_cmpstr (local_url, ==, cases[i].local_url);
      g_assert_nonnull (strstr (hint, cases[i].says));
      g_assert_null (strstr (hint, cases[i].never));
    }
}

/* The listen address: PORT and :PORT mean every IPv4 interface; the port
 * out of range is said to be, not "not HOST:PORT". */
static void
test_parse_listen (void)
{
  const struct { const char *listen; const char *host; guint port; const char *error; } cases[] = {
    { "8080", "0.0.0.0", 8080, NULL },
    { ":8080", "0.0.0.0", 8080, NULL },
    { "0", "0.0.0.0", 0, NULL },
    { "127.0.0.1:0", "127.0.0.1", 0, NULL },
    { "[::]:8080", "::", 8080, NULL },
    { "[::1]:65535", "::1", 65535, NULL },
    { "::1:8080", "::1", 8080, NULL },
    { "localhost:80", "localhost", 80, NULL },
    { "99999", NULL, 0, "port 99999 out of range 0-65535" },
    { "127.0.0.1:65536", NULL, 0, "port 65536 out of range" },
    { "1:123456789012345678901234567890", NULL, 0, "out of range" },
    { "host:http", NULL, 0, "port \"http\" is not a number" },
    { "127.0.0.1:-1", NULL, 0, "is not a number" },
    { "127.0.0.1:", NULL, 0, "has no port" },
    { "[::1]", NULL, 0, "is not [IPV6]:PORT" },
    { "", NULL, 0, "is empty" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *host = NULL;
      guint16 port = 1;
      gboolean ok = ssq_server_config_parse_listen (cases[i].listen, &host, &port, &error);

      g_test_message ("%s: %s", cases[i].listen, ok ? host : error->message);
      if (cases[i].error == NULL)
        {
          g_assert_no_error (error);
          g_assert_cmpstr (host, ==, cases[i].host);
          g_assert_cmpuint (port, ==, cases[i].port);
        }
      else
        {
          g_assert_false (ok);
          g_assert_nonnull (strstr (error->message, cases[i].error));
          g_assert_nonnull (strstr (error->message, cases[i].listen));
        }
    }
}

/* Message ids keep the shape of every id (a letter, 24 hex digits) and
 * sort in creation order, so that new rows append to the id index. */
static void
test_message_ids_ordered (void)
{
  g_autofree char *prev = ssq_server_store_new_message_id ();

  for (int i = 0; i < 100000; i++)
    {
      g_autofree char *id = ssq_server_store_new_message_id ();

      g_assert_cmpuint (strlen (id), ==, 25);
      g_assert_cmpint (id[0], ==, 'm');
      for (int j = 1; j < 25; j++)
        g_assert_true (g_ascii_isxdigit (id[j]));
      g_assert_cmpstr (prev, <, id);
      g_free (prev);
      prev = g_steal_pointer (&id);
    }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_assert_cmpint (sodium_init (), >=, 0);
  g_test_add_func ("/server/store/golden-schema", test_golden_schema);
  g_test_add_func ("/server/store/golden-up-down", test_golden_up_down);
  g_test_add_func ("/server/store/migrate-revs", test_migrate_revs);
  g_test_add_func ("/server/store/migrate-unit-separator", test_migrate_unit_separator);
  g_test_add_func ("/server/store/migrate-admin", test_migrate_admin);
  g_test_add_func ("/server/store/first-account-admin", test_first_account_admin);
  g_test_add_func ("/server/auth/reset-codes", test_reset_codes);
  g_test_add_func ("/server/store/history-stored-json", test_history_stored_json);
  g_test_add_func ("/server/store/messages", test_store_messages);
  g_test_add_func ("/server/store/message-ids-ordered", test_message_ids_ordered);
  g_test_add_func ("/server/ratelimit/basics", test_ratelimit);
  g_test_add_func ("/server/ratelimit/sliding-window", test_ratelimit_window);
  g_test_add_func ("/server/throttle/backoff", test_throttle_backoff);
  g_test_add_func ("/server/throttle/bounded", test_throttle_bounded);
  g_test_add_func ("/server/throttle/address-key", test_throttle_address_key);
  g_test_add_func ("/server/auth/password-hash-bounded", test_password_hash_bounded);
  g_test_add_func ("/server/auth/password-hash-in-turn", test_password_hash_in_turn);
  g_test_add_func ("/server/auth/password-hash-after-free", test_password_hash_after_free);
  g_test_add_func ("/server/auth/tokens", test_tokens);
  g_test_add_func ("/server/auth/password-hash", test_password_hash);
  g_test_add_func ("/server/startup/reach-hint", test_reach_hint);
  g_test_add_func ("/server/startup/parse-listen", test_parse_listen);
  return g_test_run ();
}
