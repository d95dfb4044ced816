/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-writer.c: the group-commit writer on real SQLite files: a failing
 * operation undone alone, seqs given back, and the counters a batch of
 * sends holds back (ssq-server-store-deferred.c): what other operations
 * of the batch read, a sender who is no member, the rows after a restart. */
#include "ssq-server-store.h"
#include "ssq-server-store-private.h"
#include "ssq-server-writer.h"
#include "ssq-proto.h"
#include "ssq-test-store.h"

typedef struct {
  const char *id;
  gboolean    fail;
  GError     *result;
  gboolean    done;
  gboolean    lose;       /* fail so that SQLite rolls the transaction back */
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
  /* A conflict resolved by ROLLBACK ends the whole transaction, as an I/O
   * error or a full disk can. */
  if (op->lose)
    return ssq_server_store_run (store, "INSERT OR ROLLBACK INTO users SELECT * FROM users LIMIT 1", error);
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
  g_autofree char *path = ssq_test_store_temp_db ();
  g_autoptr(SsqServerStore) store = ssq_server_store_open (path, FALSE, &error);
  /* The writer thread takes a connection of its own. */
  g_autoptr(SsqServerWriter) writer =
    ssq_server_writer_new (ssq_server_store_open_another (path, FALSE, &error), 100);
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

typedef struct {
  SsqMessageRow *message;
  gboolean       fail;      /* after the message is in */
  GError        *result;
} SendJob;

static gboolean
send_job_run (SsqServerStore  *store,
              gpointer         data,
              GError         **error)
{
  SendJob *job = data;

  if (!ssq_server_store_message_append (store, job->message, error))
    return FALSE;
  if (job->fail)
    {
      g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_NOT_FOUND, "asked to fail");
      return FALSE;
    }
  return TRUE;
}

static void
send_job_done (gpointer      data,
               const GError *error)
{
  SendJob *job = data;

  job->result = error ? g_error_copy (error) : NULL;
}

/* Seqs through the writer: a message undone with its operation (its
 * savepoint rolled back) gives its seq back, the next one takes it, and the
 * conversation's row ends at the last seq stored, after a restart too. */
static void
test_writer_batch_seqs (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = ssq_test_store_temp_db ();
  g_autoptr(SsqServerStore) store = ssq_server_store_open (path, FALSE, &error);
  SsqUserRow user = { (char *) "u1", (char *) "alice", (char *) "Alice", 1, 0 };
  SsqConversationRow conv = { (char *) "c1", (char *) "group", (char *) "t", 1, 1, 0 };
  /* Two batches: one with a failure (each operation then runs under a
   * savepoint), one without (the fast path, one transaction). */
  SendJob jobs[6] = { { NULL, FALSE }, { NULL, TRUE }, { NULL, FALSE }, { NULL, FALSE },
                      { NULL, FALSE }, { NULL, FALSE } };
  g_autoptr(SsqConversationRow) row = NULL;
  g_autoptr(GPtrArray) page = NULL;

  g_assert_true (ssq_server_store_user_insert (store, &user, "hash", &error));
  g_assert_true (ssq_server_store_conversation_insert (store, &conv, NULL, &error));
  g_assert_true (ssq_server_store_member_insert (store, "c1", "u1", "owner", 1, &error));
  {
    g_autoptr(SsqServerWriter) writer =
      ssq_server_writer_new (ssq_server_store_open_another (path, FALSE, &error), 100);

    for (guint i = 0; i < G_N_ELEMENTS (jobs); i++)
      {
        g_autofree char *cid = g_strdup_printf ("s%u", i);

        jobs[i].message = ssq_test_store_message ("c1", "u1", cid);
        jobs[i].message->created_at = 100 + i;
        ssq_server_writer_submit (writer, send_job_run, send_job_done, &jobs[i], NULL);
        if (i == 3)
          while (ssq_server_writer_pending (writer) > 0)
            g_main_context_iteration (NULL, TRUE);
      }
    while (ssq_server_writer_pending (writer) > 0)
      g_main_context_iteration (NULL, TRUE);
  }
  g_assert_no_error (jobs[0].result);
  g_assert_error (jobs[1].result, SSQ_ERROR, SSQ_ERROR_NOT_FOUND);
  g_assert_no_error (jobs[2].result);
  g_assert_no_error (jobs[3].result);
  g_assert_cmpint (jobs[0].message->seq, ==, 1);
  g_assert_cmpint (jobs[2].message->seq, ==, 2);
  g_assert_cmpint (jobs[3].message->seq, ==, 3);
  g_assert_cmpint (jobs[5].message->seq, ==, 5);

  ssq_server_store_close (g_steal_pointer (&store));
  store = ssq_server_store_open (path, FALSE, &error);
  row = ssq_server_store_conversation_get (store, "c1", &error);
  g_assert_cmpint (row->last_seq, ==, 5);
  g_assert_cmpint (row->updated_at, ==, 105);
  page = ssq_server_store_messages_range (store, "c1", 0, 0, 10, FALSE, &error);
  g_assert_cmpuint (page->len, ==, 5);
  for (guint i = 0; i < page->len; i++)
    g_assert_cmpint (((SsqMessageRow *) page->pdata[i])->seq, ==, i + 1);
  for (guint i = 0; i < G_N_ELEMENTS (jobs); i++)
    {
      g_clear_error (&jobs[i].result);
      ssq_message_row_free (jobs[i].message);
    }
}


/* Holds the writer thread inside its first batch until released, so that
 * what is submitted meanwhile is taken together as the next batch. */
static gboolean
gate_run (SsqServerStore  *store,
          gpointer         data,
          GError         **error)
{
  ssq_test_gate_wait (data);
  return TRUE;
}

typedef enum { JOB_SEND, JOB_PROBE, JOB_REMOVE, JOB_SWALLOW } JobKind;

typedef struct {
  JobKind        kind;
  const char    *conversation_id;
  const char    *user_id;
  const char    *client_id;   /* JOB_SEND: NULL = one of its own */
  SsqMessageRow *message;     /* JOB_SEND */
  gboolean       deferred;    /* JOB_SEND: ran with the counters held back */
  gint64         last_seq;    /* JOB_PROBE: what it read */
  gint64         updated_at;
  gint64         read_seq;
  GError        *result;
} Job;

/* What the server's send operation does: the row, then the sender's mark,
 * which is also the membership check. */
static gboolean
job_run (SsqServerStore  *store,
         gpointer         data,
         GError         **error)
{
  Job *job = data;

  switch (job->kind)
    {
    case JOB_SEND:
      job->deferred = job->deferred || ssq_server_store_deferring (store);
      return ssq_server_store_message_append (store, job->message, error) &&
             ssq_server_store_member_mark_sent (store, job->conversation_id, job->user_id,
                                                job->message->seq, error);
    case JOB_PROBE:
      {
        g_autoptr(SsqConversationRow) conv =
          ssq_server_store_conversation_get (store, job->conversation_id, error);
        g_autoptr(SsqMemberRow) member = NULL;

        if (conv == NULL)
          return FALSE;
        member = ssq_server_store_member_get (store, job->conversation_id, job->user_id, error);
        if (member == NULL)
          return FALSE;
        job->last_seq = conv->last_seq;
        job->updated_at = conv->updated_at;
        job->read_seq = member->read_seq;
        return TRUE;
      }
    case JOB_REMOVE:
      return ssq_server_store_member_delete (store, job->conversation_id, job->user_id, error);
    case JOB_SWALLOW:
      {
        /* As an operation that takes a failed lookup for "none". */
        g_autoptr(SsqMemberRow) ignored =
          ssq_server_store_member_get (store, job->conversation_id, job->user_id, NULL);

        return TRUE;
      }
    default:
      g_assert_not_reached ();
    }
}

static void
job_done (gpointer      data,
          const GError *error)
{
  Job *job = data;

  job->result = error ? g_error_copy (error) : NULL;
}

static void
seed (SsqServerStore *store)
{
  g_autoptr(GError) error = NULL;
  SsqUserRow u1 = { (char *) "u1", (char *) "alice", (char *) "Alice", 1, 0 };
  SsqUserRow u2 = { (char *) "u2", (char *) "bob", (char *) "Bob", 1, 0 };
  SsqUserRow u3 = { (char *) "u3", (char *) "carol", (char *) "Carol", 1, 0 };
  SsqConversationRow c1 = { (char *) "c1", (char *) "group", (char *) "one", 1, 1, 0 };
  SsqConversationRow c2 = { (char *) "c2", (char *) "group", (char *) "two", 1, 1, 0 };

  g_assert_true (ssq_server_store_user_insert (store, &u1, "hash", &error));
  g_assert_true (ssq_server_store_user_insert (store, &u2, "hash", &error));
  g_assert_true (ssq_server_store_user_insert (store, &u3, "hash", &error));
  g_assert_true (ssq_server_store_conversation_insert (store, &c1, NULL, &error));
  g_assert_true (ssq_server_store_conversation_insert (store, &c2, NULL, &error));
  g_assert_true (ssq_server_store_member_insert (store, "c1", "u1", "owner", 1, &error));
  g_assert_true (ssq_server_store_member_insert (store, "c1", "u2", "member", 1, &error));
  g_assert_true (ssq_server_store_member_insert (store, "c2", "u1", "owner", 1, &error));
  g_assert_true (ssq_server_store_member_insert (store, "c2", "u3", "member", 1, &error));
}

static void
assert_member (SsqServerStore *store,
               const char     *conversation_id,
               const char     *user_id,
               gint64          read_seq)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SsqMemberRow) m = ssq_server_store_member_get (store, conversation_id, user_id, &error);

  g_assert_no_error (error);
  g_assert_cmpint (m->read_seq, ==, read_seq);
  g_assert_cmpint (m->delivered_seq, ==, read_seq);
}

static void
assert_conversation (SsqServerStore *store,
                     const char     *conversation_id,
                     gint64          last_seq,
                     gint64          updated_at)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SsqConversationRow) row = ssq_server_store_conversation_get (store, conversation_id, &error);
  g_autoptr(GPtrArray) page = NULL;

  g_assert_no_error (error);
  g_assert_cmpint (row->last_seq, ==, last_seq);
  g_assert_cmpint (row->updated_at, ==, updated_at);
  page = ssq_server_store_messages_range (store, conversation_id, 0, 0, 100, FALSE, &error);
  g_assert_cmpuint (page->len, ==, last_seq);
  for (guint i = 0; i < page->len; i++)
    g_assert_cmpint (((SsqMessageRow *) page->pdata[i])->seq, ==, i + 1);
}

/* An operation whose failure makes SQLite roll back the whole transaction
 * (in the batch run again with a savepoint each): the operations after it
 * must not run outside any transaction, each committed on its own while
 * the batch reports them failed. Every operation of the batch fails, and
 * none is stored. */
static void
test_writer_lost_transaction (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = ssq_test_store_temp_db ();
  g_autoptr(SsqServerStore) store = ssq_server_store_open (path, FALSE, &error);
  g_autoptr(SsqServerWriter) writer =
    ssq_server_writer_new (ssq_server_store_open_another (path, FALSE, &error), 100);
  WriterOp ops[3] = { { "ua" }, { "ub", .lose = TRUE }, { "uc" } };
  const char *ids[] = { "ua", "ub", "uc" };

  SsqTestGate gate;

  /* The writer says so with a warning: expected here. */
  g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
  /* One batch: all three queued behind the gate. */
  ssq_test_gate_init (&gate);
  ssq_server_writer_submit (writer, gate_run, NULL, &gate, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (ops); i++)
    ssq_server_writer_submit (writer, writer_op_run, writer_op_done, &ops[i], NULL);
  ssq_test_gate_release (&gate);
  while (ssq_server_writer_pending (writer) > 0)
    g_main_context_iteration (NULL, TRUE);
  ssq_test_gate_clear (&gate);
  for (guint i = 0; i < G_N_ELEMENTS (ops); i++)
    {
      g_autoptr(SsqUserRow) row = ssq_server_store_user_by_id (store, ids[i], NULL);

      g_assert_true (ops[i].done);
      g_assert_nonnull (ops[i].result);
      g_test_message ("%s: %s", ids[i], ops[i].result->message);
      g_clear_error (&ops[i].result);
      g_assert_null (row);
    }
  g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
}

/* Runs @jobs as one batch (held behind a gate until all are queued). */
static void
run_batch (SsqServerWriter *writer,
           Job             *jobs,
           guint            first,
           guint            end)
{
  SsqTestGate gate;

  ssq_test_gate_init (&gate);
  ssq_server_writer_submit (writer, gate_run, NULL, &gate, NULL);
  for (guint i = first; i < end; i++)
    {
      g_autofree char *cid = g_strdup_printf ("k%u", i);

      if (jobs[i].kind == JOB_SEND)
        {
          jobs[i].message = ssq_test_store_message (jobs[i].conversation_id, jobs[i].user_id,
                                                    jobs[i].client_id ? jobs[i].client_id : cid);
          jobs[i].message->created_at = 100 + i;
        }
      ssq_server_writer_submit (writer, job_run, job_done, &jobs[i], NULL);
    }
  ssq_test_gate_release (&gate);
  while (ssq_server_writer_pending (writer) > 0)
    g_main_context_iteration (NULL, TRUE);
  ssq_test_gate_clear (&gate);
}

/* A batch of sends to two conversations with a probe among them, which
 * must read the counters the sends before it held back; then a batch where
 * a member is removed and then sends: that send fails alone (found at the
 * flush, the batch run again under savepoints). The same with an operation
 * between them that ignores the error of the flush its lookup made: the
 * failure stays, the batch does not commit the removed member's message.
 * Then a client_id sent twice in one batch: stored once. Every counter is
 * right after a restart. */
static void
test_writer_deferred_counters (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = ssq_test_store_temp_db ();
  g_autoptr(SsqServerStore) store = ssq_server_store_open (path, FALSE, &error);
  Job jobs[] = {
    { JOB_SEND, "c1", "u1" }, { JOB_SEND, "c1", "u2" }, { JOB_SEND, "c2", "u1" },
    { JOB_PROBE, "c1", "u2" }, { JOB_SEND, "c1", "u1" },
    /* 5: the second batch */
    { JOB_REMOVE, "c1", "u2" }, { JOB_SEND, "c1", "u2" }, { JOB_SEND, "c1", "u1" },
    /* 8: the third */
    { JOB_REMOVE, "c2", "u3" }, { JOB_SEND, "c2", "u3" }, { JOB_SWALLOW, "c2", "u1" },
    { JOB_SEND, "c2", "u1" },
    /* 12: the fourth */
    { JOB_SEND, "c2", "u1", "twice" }, { JOB_SEND, "c2", "u1", "twice" },
  };

  seed (store);
  {
    g_autoptr(SsqServerWriter) writer =
      ssq_server_writer_new (ssq_server_store_open_another (path, FALSE, &error), 100);

    run_batch (writer, jobs, 0, 5);
    run_batch (writer, jobs, 5, 8);
    run_batch (writer, jobs, 8, 12);
    run_batch (writer, jobs, 12, G_N_ELEMENTS (jobs));
  }

  for (guint i = 0; i < G_N_ELEMENTS (jobs); i++)
    if (i != 6 && i != 9 && i != 13)
      g_assert_no_error (jobs[i].result);
  g_assert_error (jobs[6].result, SSQ_ERROR, SSQ_ERROR_NOT_FOUND);
  g_assert_error (jobs[9].result, SSQ_ERROR, SSQ_ERROR_NOT_FOUND);
  g_assert_error (jobs[13].result, SSQ_ERROR, SSQ_ERROR_CONFLICT);
  /* The first batch ran on the fast path, its counters held back. */
  g_assert_true (jobs[0].deferred && jobs[4].deferred);
  g_assert_cmpint (jobs[0].message->seq, ==, 1);
  g_assert_cmpint (jobs[1].message->seq, ==, 2);
  g_assert_cmpint (jobs[2].message->seq, ==, 1);
  g_assert_cmpint (jobs[4].message->seq, ==, 3);
  g_assert_cmpint (jobs[7].message->seq, ==, 4);
  g_assert_cmpint (jobs[11].message->seq, ==, 2);
  g_assert_cmpint (jobs[12].message->seq, ==, 3);
  /* The probe saw the sends before it. */
  g_assert_cmpint (jobs[3].last_seq, ==, 2);
  g_assert_cmpint (jobs[3].updated_at, ==, 101);
  g_assert_cmpint (jobs[3].read_seq, ==, 2);

  ssq_server_store_close (g_steal_pointer (&store));
  store = ssq_server_store_open (path, FALSE, &error);
  g_assert_no_error (error);
  assert_conversation (store, "c1", 4, 107);
  assert_conversation (store, "c2", 3, 112);
  assert_member (store, "c1", "u1", 4);
  assert_member (store, "c2", "u1", 3);
  {
    g_autoptr(SsqMemberRow) gone = ssq_server_store_member_get (store, "c1", "u2", NULL);

    g_assert_null (gone);
  }
  for (guint i = 0; i < G_N_ELEMENTS (jobs); i++)
    {
      g_clear_error (&jobs[i].result);
      g_clear_pointer (&jobs[i].message, ssq_message_row_free);
    }
}

/* The writer's connection keeps a big transaction's dirty pages in memory
 * until the commit, though its cache holds few pages between commits
 * (ssq_server_store_tune_writer): 1,500 pages changed at once, none spilled
 * to the log before the commit; but past 64 MiB they would be. */
static void
test_writer_no_spill (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = ssq_test_store_temp_db ();
  g_autoptr(SsqServerStore) store = ssq_server_store_open (path, FALSE, &error);
  g_autoptr(SsqServerStore) writer_store = ssq_server_store_open_another (path, FALSE, &error);
  int spilled = -1, hiwater = 0;

  g_assert_no_error (error);
  g_assert_true (ssq_server_store_tune_writer (writer_store, &error));
  g_assert_true (ssq_server_store_run (writer_store, "CREATE TABLE scratch (k INTEGER PRIMARY KEY, v BLOB)", &error));
  g_assert_true (ssq_server_store_run (writer_store,
                                       "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 6000) "
                                       "INSERT INTO scratch SELECT x, zeroblob(900) FROM n", &error));
  g_assert_true (ssq_server_store_begin (writer_store, &error));
  g_assert_true (ssq_server_store_run (writer_store, "UPDATE scratch SET v = randomblob(900)", &error));
  g_assert_cmpint (sqlite3_db_status (writer_store->base.db, SQLITE_DBSTATUS_CACHE_SPILL,
                                      &spilled, &hiwater, FALSE), ==, SQLITE_OK);
  g_assert_cmpint (spilled, ==, 0);
  g_assert_true (ssq_server_store_commit (writer_store, &error));
  g_assert_no_error (error);
  /* Spilling stays on past the threshold, which bounds a transaction's
   * pages in memory (cache_spill = 16384 read back 0: off). */
  {
    sqlite3_stmt *stmt = NULL;

    g_assert_cmpint (sqlite3_prepare_v2 (writer_store->base.db, "PRAGMA cache_spill", -1, &stmt, NULL), ==, SQLITE_OK);
    g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
    g_assert_cmpint (sqlite3_column_int (stmt, 0), ==, 16383);
    sqlite3_finalize (stmt);
  }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/server/writer/batch", test_writer_batch);
  g_test_add_func ("/server/writer/lost-transaction", test_writer_lost_transaction);
  g_test_add_func ("/server/writer/batch-seqs", test_writer_batch_seqs);
  g_test_add_func ("/server/writer/deferred-counters", test_writer_deferred_counters);
  g_test_add_func ("/server/writer/no-spill", test_writer_no_spill);
  return g_test_run ();
}
