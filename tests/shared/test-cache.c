/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-cache.c: the client cache on real SQLite files: golden schema and
 * migrations, cursors and gaps, unread counts and receipts, full-text
 * search, the outbox; and the sessions file. */
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>
#include <utime.h>

#include "ssq-cache.h"
#include "ssq-credentials.h"
#include "ssq-json.h"
#include "ssq-proto.h"
#include "../common/ssq-test-tmp.h"

#define ME    "u000000000000000000000001"
#define PEER  "u000000000000000000000002"

static char *
temp_path (void)
{
  g_autofree char *dir = ssq_test_temp_dir ("ssq-cache-XXXXXX");

  return g_build_filename (dir, "sub", "cache.db", NULL);
}

static SsqCache *
open_cache (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = temp_path ();
  SsqCache *cache = ssq_cache_open (path, &error);

  g_assert_no_error (error);
  ssq_cache_set_self_id (cache, ME);
  return cache;
}

static JsonObject *
parse (const char *json)
{
  g_autoptr(GError) error = NULL;
  JsonObject *object = ssq_json_parse_object (json, strlen (json), &error);

  g_assert_no_error (error);
  return object;
}

static void
store_conversation (SsqCache   *cache,
                    const char *id,
                    const char *kind,
                    gint64      last_seq)
{
  g_autofree char *json = g_strdup_printf (
    "{\"id\":\"%s\",\"kind\":\"%s\",\"title\":%s,\"last_seq\":%" G_GINT64_FORMAT ","
    "\"read_seq\":0,\"unread\":0,\"muted\":false,\"created_at\":1000,\"updated_at\":1000,"
    "\"members\":[{\"user\":{\"id\":\"" ME "\",\"username\":\"me\",\"display_name\":\"Me\"},\"role\":\"owner\"},"
    "{\"user\":{\"id\":\"" PEER "\",\"username\":\"peer\",\"display_name\":\"Peer\"},\"role\":\"member\"}]}",
    id, kind, g_str_equal (kind, "group") ? "\"Team Room\"" : "null", last_seq);
  g_autoptr(JsonObject) object = parse (json);
  g_autoptr(GError) error = NULL;
  g_autoptr(SsqConversation) conversation = ssq_cache_store_conversation (cache, object, &error);

  g_assert_no_error (error);
  g_assert_nonnull (conversation);
}

static void
store_message (SsqCache   *cache,
               const char *conversation_id,
               gint64      seq,
               const char *sender,
               const char *body,
               gboolean    deleted)
{
  g_autofree char *json = g_strdup_printf (
    "{\"id\":\"m%s%" G_GINT64_FORMAT "\",\"conversation_id\":\"%s\",\"seq\":%" G_GINT64_FORMAT ","
    "\"sender\":\"%s\",\"client_id\":\"c%" G_GINT64_FORMAT "\",\"body\":\"%s\",\"created_at\":%" G_GINT64_FORMAT ","
    "\"edited_at\":null,\"deleted\":%s,\"reply_to\":null,\"media\":[]}",
    conversation_id, seq, conversation_id, seq, sender, seq, body, 2000 + seq, deleted ? "true" : "false");
  g_autoptr(JsonObject) object = parse (json);
  g_autoptr(GError) error = NULL;
  g_autoptr(SsqMessage) message = ssq_message_new_from_json (object, &error);

  g_assert_no_error (error);
  g_assert_true (ssq_cache_store_message (cache, message, NULL, &error));
  g_assert_no_error (error);
}

static void
assert_cache_schema_at (const char *path,
                        int         version)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *name = g_strdup_printf ("cache-schema-v%d.sql", version);
  g_autofree char *golden_path = g_test_build_filename (G_TEST_DIST, "golden", name, NULL);
  g_autofree char *golden = NULL, *dump = NULL;
  SsqCache *cache = ssq_cache_open_at_version (path, version, &error);

  g_assert_no_error (error);
  dump = ssq_cache_dump_schema (cache);
  g_object_unref (cache);
  /* Version 0 is empty but for SQLite's own sqlite_sequence, which the
   * outbox's AUTOINCREMENT made and no statement can drop. */
  if (version == 0 && strstr (dump, "sqlite_sequence") != NULL)
    golden = g_strdup ("-- user_version 0\nCREATE TABLE sqlite_sequence(name,seq);\n");
  else if (version == 0)
    golden = g_strdup ("-- user_version 0\n");
  else
    g_file_get_contents (golden_path, &golden, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (dump, ==, golden);
}

/* Every step down gives back the golden schema of the version below. */
static void
test_golden_up_down (void)
{
  g_autofree char *path = temp_path ();

  for (int v = 0; v <= SSQ_CACHE_SCHEMA_VERSION; v++)
    assert_cache_schema_at (path, v);
  for (int v = SSQ_CACHE_SCHEMA_VERSION - 1; v >= 0; v--)
    assert_cache_schema_at (path, v);
  for (int v = SSQ_CACHE_SCHEMA_VERSION - 1; v >= 0; v--)
    {
      assert_cache_schema_at (path, SSQ_CACHE_SCHEMA_VERSION);
      assert_cache_schema_at (path, v);
    }
}

static void
test_golden_schema (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = temp_path ();
  g_autofree char *golden_name = g_strdup_printf ("cache-schema-v%d.sql", SSQ_CACHE_SCHEMA_VERSION);
  g_autofree char *golden_path = g_test_build_filename (G_TEST_DIST, "golden", golden_name, NULL);
  g_autofree char *golden = NULL, *dump = NULL;
  SsqCache *cache;

  cache = ssq_cache_open_at_version (path, 0, &error);
  g_assert_no_error (error);
  g_object_unref (cache);
  cache = ssq_cache_open (path, &error);
  g_assert_no_error (error);
  dump = ssq_cache_dump_schema (cache);
  g_object_unref (cache);
  g_file_get_contents (golden_path, &golden, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (dump, ==, golden);

  /* Only the user can read it. */
  {
    GStatBuf st;

    g_assert_cmpint (g_stat (path, &st), ==, 0);
    g_assert_cmpint (st.st_mode & 0077, ==, 0);
  }

  /* A cache from a newer version is refused, not touched. */
  {
    sqlite3 *db;

    g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
    g_assert_cmpint (sqlite3_exec (db, "PRAGMA user_version = 99", NULL, NULL, NULL), ==, SQLITE_OK);
    sqlite3_close (db);
  }
  cache = ssq_cache_open (path, &error);
  g_assert_null (cache);
  g_assert_error (error, SSQ_ERROR, SSQ_ERROR_INTERNAL);
}

static void
test_cursors_and_gaps (void)
{
  g_autoptr(SsqCache) cache = open_cache ();
  g_autoptr(GPtrArray) page = NULL;
  gboolean complete;

  store_conversation (cache, "ca", "direct", 4);
  store_message (cache, "ca", 1, PEER, "one", FALSE);
  store_message (cache, "ca", 2, PEER, "two", FALSE);
  store_message (cache, "ca", 4, PEER, "four", FALSE);
  g_assert_cmpint (ssq_cache_get_cursor (cache, "ca"), ==, 2);
  page = ssq_cache_get_messages (cache, "ca", 0, 10, &complete);
  g_assert_cmpuint (page->len, ==, 3);
  g_assert_false (complete);           /* 3 is missing */
  store_message (cache, "ca", 3, PEER, "three", FALSE);
  g_assert_cmpint (ssq_cache_get_cursor (cache, "ca"), ==, 4);
  g_clear_pointer (&page, g_ptr_array_unref);
  page = ssq_cache_get_messages (cache, "ca", 0, 10, &complete);
  g_assert_true (complete);            /* back to the first message */
  g_assert_cmpint (ssq_message_get_seq (page->pdata[0]), ==, 1);
  g_assert_cmpint (ssq_message_get_seq (page->pdata[3]), ==, 4);

  /* A conversation followed from seq 10: the cursor starts there, and what
   * lies below is a gap for paging. */
  store_conversation (cache, "cb", "group", 12);
  g_assert_true (ssq_cache_set_sync_floor (cache, "cb", 10, NULL));
  g_assert_cmpint (ssq_cache_get_cursor (cache, "cb"), ==, 10);
  store_message (cache, "cb", 12, PEER, "twelve", FALSE);
  g_assert_cmpint (ssq_cache_get_cursor (cache, "cb"), ==, 10);
  store_message (cache, "cb", 11, PEER, "eleven", FALSE);
  g_assert_cmpint (ssq_cache_get_cursor (cache, "cb"), ==, 12);
  g_clear_pointer (&page, g_ptr_array_unref);
  page = ssq_cache_get_messages (cache, "cb", 13, 2, &complete);
  g_assert_true (complete);
  g_clear_pointer (&page, g_ptr_array_unref);
  page = ssq_cache_get_messages (cache, "cb", 13, 5, &complete);
  g_assert_cmpuint (page->len, ==, 2);
  g_assert_false (complete);

  /* Cursors are what sync asks from. */
  {
    g_autoptr(JsonObject) since = NULL;
    g_autoptr(JsonObject) since_rev = NULL;
    g_autofree char *next = NULL;

    g_assert_true (ssq_cache_get_sync_page (cache, NULL, G_MAXUINT, &since, &since_rev, &next, NULL));
    g_assert_cmpint (json_object_get_int_member (since, "ca"), ==, 4);
    g_assert_cmpint (json_object_get_int_member (since, "cb"), ==, 12);
  }

  /* ... by pages of ids in byte order ("cB" < "ca" < "cb"), the first
   * id included, and where the next page starts. */
  store_conversation (cache, "cB", "group", 0);
  {
    g_autoptr(JsonObject) since = NULL;
    g_autoptr(JsonObject) since_rev = NULL;
    g_autofree char *next = NULL;
    g_autoptr(GError) error = NULL;

    g_assert_true (ssq_cache_get_sync_page (cache, NULL, 2, &since, &since_rev, &next, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (json_object_get_size (since), ==, 2);
    g_assert_true (json_object_has_member (since, "cB") && json_object_has_member (since, "ca"));
    g_assert_cmpint (json_object_get_int_member (since_rev, "ca"), ==, 0);
    g_assert_cmpstr (next, ==, "cb");
    g_clear_pointer (&since, json_object_unref);
    g_clear_pointer (&since_rev, json_object_unref);
    g_clear_pointer (&next, g_free);
    g_assert_true (ssq_cache_get_sync_page (cache, "ca", 2, &since, &since_rev, &next, &error));
    g_assert_cmpuint (json_object_get_size (since), ==, 2);
    g_assert_cmpint (json_object_get_int_member (since, "cb"), ==, 12);
    g_assert_null (next);
    g_clear_pointer (&since, json_object_unref);
    g_clear_pointer (&since_rev, json_object_unref);
    g_assert_true (ssq_cache_get_sync_page (cache, "cb", 1, &since, &since_rev, &next, &error));
    g_assert_cmpuint (json_object_get_size (since), ==, 1);
    g_assert_null (next);
  }
  g_assert_true (ssq_cache_remove_conversation (cache, "cB", NULL));

  /* Names: an id, a title in any case, a peer's username. */
  {
    g_autoptr(SsqConversation) by_title = ssq_cache_find_conversation (cache, "team room");
    g_autoptr(SsqConversation) by_peer = ssq_cache_find_conversation (cache, "PEER");
    g_autoptr(SsqConversation) by_me = ssq_cache_find_conversation (cache, "me");

    g_assert_cmpstr (ssq_conversation_get_id (by_title), ==, "cb");
    g_assert_cmpstr (ssq_conversation_get_id (by_peer), ==, "ca");
    g_assert_cmpstr (ssq_conversation_get_display_title (by_peer), ==, "Peer");
    g_assert_null (by_me);
  }
  g_assert_true (ssq_cache_remove_conversation (cache, "cb", NULL));
  g_assert_null (ssq_cache_get_conversation (cache, "cb"));
  g_clear_pointer (&page, g_ptr_array_unref);
  page = ssq_cache_get_messages (cache, "cb", 0, 5, NULL);
  g_assert_cmpuint (page->len, ==, 0);
}

static gint64
unread (SsqCache   *cache,
        const char *id)
{
  g_autoptr(SsqConversation) conversation = ssq_cache_get_conversation (cache, id);

  return ssq_conversation_get_unread (conversation);
}

static SsqMessageStatus
status_of (SsqCache *cache,
           gint64    seq)
{
  g_autoptr(SsqMessage) message = ssq_cache_get_message (cache, "ca", seq);

  return ssq_message_get_status (message);
}

static void
test_unread_and_receipts (void)
{
  g_autoptr(SsqCache) cache = open_cache ();
  g_autoptr(SsqConversation) list_first = NULL;
  g_autoptr(GPtrArray) all = NULL;

  store_conversation (cache, "ca", "direct", 0);
  store_conversation (cache, "cz", "group", 0);
  store_message (cache, "ca", 1, PEER, "hi", FALSE);
  store_message (cache, "ca", 2, PEER, "there", FALSE);
  store_message (cache, "ca", 2, PEER, "there", FALSE);   /* again: counted once */
  g_assert_cmpint (unread (cache, "ca"), ==, 2);
  store_message (cache, "ca", 2, PEER, "", TRUE);          /* deleted */
  g_assert_cmpint (unread (cache, "ca"), ==, 1);
  store_message (cache, "ca", 3, ME, "mine", FALSE);       /* my message reads up to it */
  g_assert_cmpint (unread (cache, "ca"), ==, 0);
  store_message (cache, "ca", 4, PEER, "more", FALSE);
  store_message (cache, "ca", 5, PEER, "and more", FALSE);
  g_assert_true (ssq_cache_set_markers (cache, "ca", ME, 5, 4, NULL));
  g_assert_cmpint (unread (cache, "ca"), ==, 1);

  /* My message's state follows the peer's markers; they never go back. */
  g_assert_cmpint (status_of (cache, 3), ==, SSQ_MESSAGE_SENT);
  g_assert_cmpint (status_of (cache, 4), ==, SSQ_MESSAGE_SENT);   /* not mine */
  g_assert_true (ssq_cache_set_markers (cache, "ca", PEER, 3, 0, NULL));
  g_assert_cmpint (status_of (cache, 3), ==, SSQ_MESSAGE_DELIVERED);
  g_assert_true (ssq_cache_set_markers (cache, "ca", PEER, 0, 3, NULL));
  g_assert_cmpint (status_of (cache, 3), ==, SSQ_MESSAGE_READ);
  g_assert_true (ssq_cache_set_markers (cache, "ca", PEER, 1, 1, NULL));
  g_assert_cmpint (status_of (cache, 3), ==, SSQ_MESSAGE_READ);

  /* Activity orders the list. */
  all = ssq_cache_list_conversations (cache);
  g_assert_cmpuint (all->len, ==, 2);
  g_assert_cmpstr (ssq_conversation_get_id (all->pdata[0]), ==, "ca");
  g_assert_cmpstr (ssq_message_get_body (ssq_conversation_get_last_message (all->pdata[0])), ==, "and more");
}

/* How often the conversations table was updated, counted by a trigger the
 * test adds to the cache file through a connection of its own. */
static sqlite3 *
watch_updates (SsqCache *cache)
{
  sqlite3 *db = NULL;

  g_assert_cmpint (sqlite3_open (ssq_cache_get_path (cache), &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db,
                                 "CREATE TABLE test_updates (n INTEGER NOT NULL);"
                                 "INSERT INTO test_updates VALUES (0);"
                                 "CREATE TRIGGER test_count AFTER UPDATE ON conversations "
                                 "BEGIN UPDATE test_updates SET n = n + 1; END;",
                                 NULL, NULL, NULL), ==, SQLITE_OK);
  return db;
}

static gint64
updates_seen (sqlite3 *db)
{
  sqlite3_stmt *stmt = NULL;
  gint64 n;

  g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT n FROM test_updates", -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  n = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  return n;
}

/* A batch of messages writes each conversation's row once, with the
 * counters every message moved; whatever reads the row meanwhile sees
 * them too, and a cache opened afresh reads the same. */
static void
test_batch_counters (void)
{
  g_autoptr(SsqCache) cache = open_cache ();
  g_autoptr(SsqCache) again = NULL;
  g_autoptr(SsqConversation) held = NULL;
  g_autoptr(SsqConversation) read = NULL;
  g_autoptr(GError) error = NULL;
  sqlite3 *db;

  store_conversation (cache, "ca", "direct", 0);
  store_conversation (cache, "cb", "group", 0);
  db = watch_updates (cache);
  g_assert_true (ssq_cache_begin (cache, &error));
  for (gint64 seq = 1; seq <= 100; seq++)
    store_message (cache, "ca", seq, seq == 60 ? ME : PEER, "hello", FALSE);
  for (gint64 seq = 1; seq <= 10; seq++)
    store_message (cache, "cb", seq, PEER, "hello", FALSE);
  store_message (cache, "ca", 99, PEER, "", TRUE);   /* deleted in the same batch */
  g_assert_true (ssq_cache_commit (cache, &error));
  g_assert_no_error (error);
  g_assert_cmpint (updates_seen (db), ==, 2);

  held = ssq_cache_get_conversation (cache, "ca");
  g_assert_cmpint (ssq_conversation_get_unread (held), ==, 39);     /* 61..100 but 99 */
  g_assert_cmpint (ssq_conversation_get_read_seq (held), ==, 60);   /* my message reads up to it */
  g_assert_cmpint (ssq_conversation_get_last_seq (held), ==, 100);
  g_assert_cmpint (ssq_message_get_seq (ssq_conversation_get_last_message (held)), ==, 100);
  g_assert_cmpint (unread (cache, "cb"), ==, 10);

  /* A reader in the middle of a batch sees what came before it. */
  g_assert_true (ssq_cache_begin (cache, &error));
  store_message (cache, "ca", 101, PEER, "more", FALSE);
  g_assert_cmpint (ssq_cache_get_cursor (cache, "ca"), ==, 101);
  store_message (cache, "ca", 102, PEER, "more", FALSE);
  g_assert_true (ssq_cache_commit (cache, &error));
  g_assert_cmpint (ssq_cache_get_cursor (cache, "ca"), ==, 102);
  g_assert_cmpint (ssq_cache_get_cursor (cache, "cb"), ==, 10);

  again = ssq_cache_open (ssq_cache_get_path (cache), &error);
  g_assert_no_error (error);
  read = ssq_cache_get_conversation (again, "ca");
  g_assert_cmpint (ssq_conversation_get_unread (read), ==, 41);
  g_assert_cmpint (ssq_conversation_get_read_seq (read), ==, 60);
  g_assert_cmpint (ssq_conversation_get_last_seq (read), ==, 102);
  g_assert_cmpint (ssq_cache_get_cursor (again, "ca"), ==, 102);
  sqlite3_close (db);
}

static guint
count_hits (SsqCache   *cache,
            const char *text)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) hits = ssq_cache_search (cache, text, NULL, 50, &error);

  g_assert_no_error (error);
  return hits->len;
}

static void
test_search (void)
{
  g_autoptr(SsqCache) cache = open_cache ();

  store_conversation (cache, "ca", "direct", 0);
  store_message (cache, "ca", 1, PEER, "Grüße aus München", FALSE);
  store_message (cache, "ca", 2, PEER, "hello world", FALSE);
  store_message (cache, "ca", 3, ME, "world peace", FALSE);
  store_message (cache, "ca", 4, PEER, "secret world", FALSE);

  g_assert_cmpuint (count_hits (cache, "munchen"), ==, 1);      /* diacritics */
  g_assert_cmpuint (count_hits (cache, "GRUSSE"), ==, 0);
  g_assert_cmpuint (count_hits (cache, "grusse"), ==, 0);
  g_assert_cmpuint (count_hits (cache, "grüße"), ==, 1);
  g_assert_cmpuint (count_hits (cache, "wor"), ==, 3);          /* prefixes */
  g_assert_cmpuint (count_hits (cache, "world peace"), ==, 1);  /* every word */
  g_assert_cmpuint (count_hits (cache, "   "), ==, 0);
  /* FTS5 syntax in the user's text is just text. */
  g_assert_cmpuint (count_hits (cache, "\"world"), ==, 3);
  g_assert_cmpuint (count_hits (cache, "world OR nothing"), ==, 0);
  g_assert_cmpuint (count_hits (cache, "NEAR( * ) AND -"), ==, 0);
  /* Deleted and edited messages leave the index. */
  store_message (cache, "ca", 4, PEER, "", TRUE);
  g_assert_cmpuint (count_hits (cache, "secret"), ==, 0);
  store_message (cache, "ca", 2, PEER, "goodbye moon", FALSE);
  g_assert_cmpuint (count_hits (cache, "hello"), ==, 0);
  g_assert_cmpuint (count_hits (cache, "moon"), ==, 1);
}

static void
test_outbox (void)
{
  g_autoptr(SsqCache) cache = open_cache ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) all = NULL;
  g_autoptr(SsqMessage) a = NULL, b = NULL, c = NULL, bad = NULL, failed = NULL;
  g_autofree char *big = g_strnfill (SSQ_BODY_MAX + 1, 'x');

  store_conversation (cache, "ca", "direct", 0);
  a = ssq_cache_outbox_add (cache, "ca", "first", 0, &error);
  b = ssq_cache_outbox_add (cache, "cb", "second", 0, &error);
  c = ssq_cache_outbox_add (cache, "ca", "third", 1, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (ssq_message_get_client_id (a), !=, ssq_message_get_client_id (c));
  g_assert_cmpint (ssq_message_get_status (a), ==, SSQ_MESSAGE_PENDING);
  g_assert_cmpstr (ssq_message_get_sender (a), ==, ME);
  bad = ssq_cache_outbox_add (cache, "ca", big, 0, &error);
  g_assert_null (bad);
  g_assert_error (error, SSQ_ERROR, SSQ_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_null (ssq_cache_outbox_add (cache, "ca", "", 0, &error));
  g_clear_error (&error);

  all = ssq_cache_outbox_list (cache, NULL);
  g_assert_cmpuint (all->len, ==, 3);
  g_assert_cmpstr (ssq_message_get_body (all->pdata[1]), ==, "second");
  g_clear_pointer (&all, g_ptr_array_unref);
  all = ssq_cache_outbox_list (cache, "ca");
  g_assert_cmpuint (all->len, ==, 2);
  g_assert_cmpint (ssq_message_get_reply_to (all->pdata[1]), ==, 1);

  g_assert_true (ssq_cache_outbox_set_error (cache, ssq_message_get_client_id (b), "Refused", NULL));
  failed = ssq_cache_outbox_get (cache, ssq_message_get_client_id (b));
  g_assert_cmpint (ssq_message_get_status (failed), ==, SSQ_MESSAGE_FAILED);
  g_assert_cmpstr (ssq_message_get_error (failed), ==, "Refused");

  /* The server's copy of my message empties its outbox entry. */
  {
    g_autofree char *json = g_strdup_printf (
      "{\"id\":\"m1\",\"conversation_id\":\"ca\",\"seq\":1,\"sender\":\"" ME "\","
      "\"client_id\":\"%s\",\"body\":\"first\",\"created_at\":5}", ssq_message_get_client_id (a));
    g_autoptr(JsonObject) object = parse (json);
    g_autoptr(SsqMessage) acked = ssq_message_new_from_json (object, NULL);

    g_assert_true (ssq_cache_store_message (cache, acked, NULL, NULL));
  }
  g_assert_null (ssq_cache_outbox_get (cache, ssq_message_get_client_id (a)));
  g_assert_cmpuint (ssq_cache_outbox_count (cache), ==, 2);
}

static const char *const MEDIA_JSON =
  "[{\"id\":\"f1\",\"name\":\"photo.jpg\",\"mime\":\"image/jpeg\",\"size\":240000,"
  "\"width\":null,\"height\":null,\"thumbnail\":false}]";

static SsqMessage *
message_with_media (const char *media_json,
                    gint64      rev)
{
  g_autofree char *json = g_strdup_printf (
    "{\"id\":\"m1\",\"conversation_id\":\"ca\",\"seq\":1,\"sender\":\"" PEER "\",\"client_id\":\"c1\","
    "\"body\":\"look\",\"created_at\":5,\"edited_at\":null,\"deleted\":false,\"reply_to\":null,"
    "\"media\":%s,\"rev\":%" G_GINT64_FORMAT "}", media_json, rev);
  g_autoptr(JsonObject) object = parse (json);
  g_autoptr(GError) error = NULL;
  SsqMessage *message = ssq_message_new_from_json (object, &error);

  g_assert_no_error (error);
  return message;
}

/* A cache of schema 4 with a message in it: after the migration the
 * message is there without media; stored again with media, it keeps them;
 * a change of the media alone (the server learnt an image's size) is a
 * change. */
static void
test_migrate_media (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = temp_path ();
  g_autoptr(SsqCache) cache = NULL;
  g_autoptr(SsqMessage) held = NULL, with_media = NULL, sized = NULL;
  g_autofree char *sized_json = NULL;
  gboolean changed = FALSE;
  sqlite3 *db;

  cache = ssq_cache_open_at_version (path, 4, &error);
  g_assert_no_error (error);
  g_clear_object (&cache);
  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, "INSERT INTO messages (conversation_id, seq, id, sender, client_id, body, "
                                     "created_at) VALUES ('ca', 1, 'm1', '" PEER "', 'c1', 'look', 5);"
                                     /* The cache indexes what it stores itself. */
                                     "INSERT INTO messages_fts (rowid, body) SELECT rowid, body FROM messages",
                                 NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);

  cache = ssq_cache_open (path, &error);
  g_assert_no_error (error);
  ssq_cache_set_self_id (cache, ME);
  held = ssq_cache_get_message (cache, "ca", 1);
  g_assert_cmpstr (ssq_message_get_body (held), ==, "look");
  g_assert_cmpuint (ssq_message_get_n_media (held), ==, 0);
  g_clear_object (&held);

  with_media = message_with_media (MEDIA_JSON, 0);
  g_assert_true (ssq_cache_store_message (cache, with_media, &changed, &error));
  g_assert_no_error (error);
  g_assert_true (changed);
  held = ssq_cache_get_message (cache, "ca", 1);
  g_assert_cmpuint (ssq_message_get_n_media (held), ==, 1);
  g_assert_cmpstr (ssq_media_get_name (ssq_message_get_media (held, 0)), ==, "photo.jpg");
  g_assert_cmpint (ssq_media_get_width (ssq_message_get_media (held, 0)), ==, 0);
  g_clear_object (&held);
  /* The same again changes nothing. */
  g_assert_true (ssq_cache_store_message (cache, with_media, &changed, NULL));
  g_assert_false (changed);

  sized_json = g_strdup ("[{\"id\":\"f1\",\"name\":\"photo.jpg\",\"mime\":\"image/jpeg\",\"size\":240000,"
                         "\"width\":1920,\"height\":1080,\"thumbnail\":true}]");
  sized = message_with_media (sized_json, 1);
  g_assert_true (ssq_cache_store_message (cache, sized, &changed, NULL));
  g_assert_true (changed);
  held = ssq_cache_get_message (cache, "ca", 1);
  g_assert_cmpint (ssq_media_get_width (ssq_message_get_media (held, 0)), ==, 1920);
  g_assert_true (ssq_media_has_thumbnail (ssq_message_get_media (held, 0)));
  /* As the server sent it. */
  {
    g_autoptr(JsonObject) wire = ssq_message_to_json (held);
    JsonArray *media = json_object_get_array_member (wire, "media");

    g_assert_cmpuint (json_array_get_length (media), ==, 1);
    g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (media, 0), "height"), ==, 1080);
  }
}

static void
touch_file (GFile *file)
{
  g_autoptr(GFile) dir = g_file_get_parent (file);
  g_autofree char *dir_path = g_file_get_path (dir);

  g_assert_cmpint (g_mkdir_with_parents (dir_path, 0700), ==, 0);
  g_assert_true (g_file_replace_contents (file, "x", 1, NULL, FALSE, G_FILE_CREATE_NONE, NULL, NULL, NULL));
}

/* Outbox messages with attachments: written with them, shown with their
 * copies, each upload recorded (and forgotten when the server lost it);
 * their copies leave with them (only once a batch commits); copies no
 * message holds are swept when old. */
static void
test_outbox_media (void)
{
  g_autoptr(SsqCache) cache = open_cache ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) attachments = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GPtrArray) too_many = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(SsqMessage) pending = NULL, again = NULL, refused = NULL;
  g_autoptr(SsqMedia) uploaded = ssq_media_new ("f9", "a.png", "image/png", 10, 4, 4);
  g_autoptr(GFile) copy0 = ssq_cache_outbox_file (cache, "k1", 0);
  g_autoptr(GFile) copy1 = ssq_cache_outbox_file (cache, "k1", 1);
  g_autoptr(GFile) stray = ssq_cache_outbox_file (cache, "never-written", 0);
  g_autoptr(GFile) fresh = ssq_cache_outbox_file (cache, "being-copied", 0);
  g_autoptr(GFile) stray_dir = g_file_get_parent (stray);
  g_autofree char *stray_path = g_file_get_path (stray_dir);
  g_autofree char *outbox_dir = ssq_cache_get_outbox_dir (cache);

  g_assert_true (g_str_has_suffix (outbox_dir, "cache.outbox"));
  g_ptr_array_add (attachments, ssq_media_new (NULL, "a.png", "image/png", 10, 0, 0));
  g_ptr_array_add (attachments, ssq_media_new (NULL, "b.pdf", "application/pdf", 20, 0, 0));
  touch_file (copy0);
  touch_file (copy1);

  /* No text needs a file. */
  g_assert_null (ssq_cache_outbox_add_with_media (cache, "ca", "k0", "", 0, NULL, &error));
  g_assert_error (error, SSQ_ERROR, SSQ_ERROR_INVALID);
  g_clear_error (&error);
  for (guint i = 0; i <= SSQ_MESSAGE_MEDIA_MAX; i++)
    g_ptr_array_add (too_many, ssq_media_new (NULL, "x", "text/plain", 1, 0, 0));
  refused = ssq_cache_outbox_add_with_media (cache, "ca", "k0", "x", 0, too_many, &error);
  g_assert_null (refused);
  g_assert_error (error, SSQ_ERROR, SSQ_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_cmpuint (ssq_cache_outbox_count (cache), ==, 0);

  pending = ssq_cache_outbox_add_with_media (cache, "ca", "k1", "", 0, attachments, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ssq_message_get_n_media (pending), ==, 2);
  g_assert_null (ssq_media_get_id (ssq_message_get_media (pending, 0)));
  g_assert_cmpstr (ssq_media_get_name (ssq_message_get_media (pending, 1)), ==, "b.pdf");
  g_assert_true (g_file_equal (ssq_media_get_local_file (ssq_message_get_media (pending, 1)), copy1));

  g_assert_true (ssq_cache_outbox_set_media (cache, "k1", 0, uploaded, &error));
  g_assert_no_error (error);
  again = ssq_cache_outbox_get (cache, "k1");
  g_assert_cmpstr (ssq_media_get_id (ssq_message_get_media (again, 0)), ==, "f9");
  g_assert_cmpint (ssq_media_get_width (ssq_message_get_media (again, 0)), ==, 4);
  g_assert_nonnull (ssq_media_get_local_file (ssq_message_get_media (again, 0)));
  g_assert_null (ssq_media_get_id (ssq_message_get_media (again, 1)));
  g_clear_object (&again);
  g_assert_true (ssq_cache_outbox_forget_media (cache, "k1", NULL));
  again = ssq_cache_outbox_get (cache, "k1");
  g_assert_null (ssq_media_get_id (ssq_message_get_media (again, 0)));

  /* Taken out in a batch: the copies stay until it commits (a batch that
   * rolls back puts the message back, which needs them). */
  g_assert_true (ssq_cache_begin (cache, NULL));
  g_assert_true (ssq_cache_outbox_remove (cache, "k1", NULL));
  g_assert_true (g_file_query_exists (copy0, NULL));
  g_assert_true (ssq_cache_commit (cache, NULL));
  g_assert_false (g_file_query_exists (copy0, NULL));
  g_assert_false (g_file_query_exists (copy1, NULL));
  g_assert_cmpuint (ssq_cache_outbox_count (cache), ==, 0);
  /* Its attachments' rows went with it. */
  g_clear_object (&pending);
  pending = ssq_cache_outbox_add_with_media (cache, "ca", "k1", "again", 0, NULL, NULL);
  g_assert_nonnull (pending);
  g_clear_object (&again);
  again = ssq_cache_outbox_get (cache, "k1");
  g_assert_cmpuint (ssq_message_get_n_media (again), ==, 0);
  g_assert_true (ssq_cache_outbox_remove (cache, "k1", NULL));

  /* Copies of a message never written: swept when an hour old, not
   * before (they may be on their way into the outbox). */
  touch_file (stray);
  touch_file (fresh);
  g_assert_cmpint (g_utime (stray_path, &(struct utimbuf) { 0, 0 }), ==, 0);
  ssq_cache_outbox_sweep (cache);
  g_assert_false (g_file_query_exists (stray, NULL));
  g_assert_true (g_file_query_exists (fresh, NULL));
}

/* The download cache's index: sizes, the order of use, names. */
static void
test_media_files (void)
{
  g_autoptr(SsqCache) cache = open_cache ();
  g_autofree char *id = NULL, *name = NULL;
  gboolean thumbnail;
  gint64 size;

  g_assert_false (ssq_cache_media_file_oldest (cache, &id, &thumbnail, &size));
  g_assert_true (ssq_cache_media_file_touch (cache, "a", FALSE, 10, "a.txt", NULL));
  g_assert_true (ssq_cache_media_file_touch (cache, "a", TRUE, 1, NULL, NULL));
  g_assert_true (ssq_cache_media_file_touch (cache, "b", FALSE, 20, "b.txt", NULL));
  g_assert_cmpint (ssq_cache_media_files_size (cache), ==, 31);
  /* a is used again (its name kept): the thumbnail is now the oldest. */
  g_assert_true (ssq_cache_media_file_touch (cache, "a", FALSE, 10, NULL, NULL));
  name = ssq_cache_media_file_name (cache, "a", FALSE);
  g_assert_cmpstr (name, ==, "a.txt");
  g_assert_true (ssq_cache_media_file_oldest (cache, &id, &thumbnail, &size));
  g_assert_cmpstr (id, ==, "a");
  g_assert_true (thumbnail);
  g_assert_cmpint (size, ==, 1);
  g_assert_true (ssq_cache_media_file_forget (cache, "a", TRUE, NULL));
  g_assert_false (ssq_cache_media_file_held (cache, "a", TRUE));
  g_assert_true (ssq_cache_media_file_held (cache, "a", FALSE));
  g_clear_pointer (&id, g_free);
  g_assert_true (ssq_cache_media_file_oldest (cache, &id, &thumbnail, &size));
  g_assert_cmpstr (id, ==, "b");
}

static void
test_path_for (void)
{
  g_autofree char *path = ssq_cache_path_for ("/d", "http://Chat.LAN:8080/", "Alice");
  g_autofree char *odd = ssq_cache_path_for ("/d", "not a url/../x", "bob");

  g_assert_cmpstr (path, ==, "/d/alice@chat.lan_8080.db");
  g_assert_null (strchr (odd + 3, '/'));
}

static void
test_credentials (void)
{
  SsqCredentials one = { (char *) "http://a:1", (char *) "alice", (char *) "u1", (char *) "t1" };
  SsqCredentials two = { (char *) "http://b:2", (char *) "bob", NULL, (char *) "t2" };
  g_autoptr(SsqCredentials) loaded = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = ssq_credentials_path ();
  GStatBuf st;

  loaded = ssq_credentials_load (NULL, NULL, &error);
  g_assert_null (loaded);
  g_assert_error (error, SSQ_ERROR, SSQ_ERROR_UNAUTHORIZED);
  g_clear_error (&error);

  g_assert_true (ssq_credentials_save (&one, NULL));
  g_assert_true (ssq_credentials_save (&two, NULL));
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0077, ==, 0);
  loaded = ssq_credentials_load (NULL, NULL, NULL);          /* the last one */
  g_assert_cmpstr (loaded->username, ==, "bob");
  g_clear_pointer (&loaded, ssq_credentials_free);
  loaded = ssq_credentials_load ("http://a:1", NULL, NULL);
  g_assert_cmpstr (loaded->token, ==, "t1");
  g_assert_cmpstr (loaded->user_id, ==, "u1");
  g_clear_pointer (&loaded, ssq_credentials_free);
  g_assert_true (ssq_credentials_remove ("http://b:2", "bob", NULL));
  loaded = ssq_credentials_load (NULL, NULL, NULL);
  g_assert_cmpstr (loaded->username, ==, "alice");
  g_clear_pointer (&loaded, ssq_credentials_free);
  loaded = ssq_credentials_load (NULL, "bob", &error);
  g_assert_null (loaded);
}

static guint
file_mode (const char *path,
           const char *suffix)
{
  g_autofree char *full = g_strconcat (path, suffix, NULL);
  GStatBuf st;

  g_assert_cmpint (g_stat (full, &st), ==, 0);
  return st.st_mode & 0777;
}

/* The cache, its WAL and shared-memory files are the user's only (0600),
 * whatever the umask, and a cache made 0644 by an older version is
 * tightened when opened. */
static void
test_file_modes (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = temp_path ();
  g_autofree char *wal = g_strconcat (path, "-wal", NULL);
  SsqCache *cache;
  mode_t old_umask = umask (022);

  cache = ssq_cache_open (path, &error);
  g_assert_no_error (error);
  ssq_cache_set_self_id (cache, ME);
  g_assert_cmpuint (file_mode (path, ""), ==, 0600);
  g_assert_cmpuint (file_mode (path, "-wal"), ==, 0600);
  g_assert_cmpuint (file_mode (path, "-shm"), ==, 0600);
  g_object_unref (cache);

  g_assert_cmpint (g_chmod (path, 0644), ==, 0);
  g_chmod (wal, 0644);    /* it may be gone after a clean close */
  cache = ssq_cache_open (path, &error);
  g_assert_no_error (error);
  ssq_cache_set_self_id (cache, PEER);
  g_assert_cmpuint (file_mode (path, ""), ==, 0600);
  g_assert_cmpuint (file_mode (path, "-wal"), ==, 0600);
  g_object_unref (cache);
  umask (old_umask);
}

/* Another process holding the file a moment (as the last connection to
 * close does while it checkpoints) makes an open wait, not fail. */
static gpointer
hold_then_release (gpointer data)
{
  sqlite3 *db = data;

  g_usleep (300 * 1000);
  g_assert_cmpint (sqlite3_exec (db, "COMMIT", NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);
  return NULL;
}

static void
test_open_waits_for_lock (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = temp_path ();
  g_autoptr(SsqCache) first = ssq_cache_open (path, &error);
  g_autoptr(SsqCache) again = NULL;
  sqlite3 *holder = NULL;
  GThread *thread;

  g_assert_no_error (error);
  g_clear_object (&first);
  /* An exclusive lock on the whole file, as a checkpoint at close takes. */
  g_assert_cmpint (sqlite3_open (path, &holder), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (holder, "PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE; "
                                 "CREATE TABLE held (x); ", NULL, NULL, NULL), ==, SQLITE_OK);
  thread = g_thread_new ("holder", hold_then_release, holder);
  again = ssq_cache_open (path, &error);
  g_thread_join (thread);
  g_assert_no_error (error);
  g_assert_nonnull (again);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  g_test_add_func ("/cache/golden-schema", test_golden_schema);
  g_test_add_func ("/cache/golden-up-down", test_golden_up_down);
  g_test_add_func ("/cache/open-waits-for-lock", test_open_waits_for_lock);
  g_test_add_func ("/cache/cursors-and-gaps", test_cursors_and_gaps);
  g_test_add_func ("/cache/unread-and-receipts", test_unread_and_receipts);
  g_test_add_func ("/cache/batch-counters", test_batch_counters);
  g_test_add_func ("/cache/search", test_search);
  g_test_add_func ("/cache/outbox", test_outbox);
  g_test_add_func ("/cache/migrate-media", test_migrate_media);
  g_test_add_func ("/cache/outbox-media", test_outbox_media);
  g_test_add_func ("/cache/media-files", test_media_files);
  g_test_add_func ("/cache/path-for", test_path_for);
  g_test_add_func ("/cache/credentials", test_credentials);
  g_test_add_func ("/cache/file-modes", test_file_modes);
  return g_test_run ();
}
