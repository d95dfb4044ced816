/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-checkpointer.c: the checkpoints of the writer's connection, on a
 * thread of their own, on a real SQLite file: the log stays bounded while
 * the writer commits without a pause, the writer itself copies only the
 * last few frames, the log starts again from its beginning, a reader that
 * holds old frames only delays that, and nothing is lost. */
#include "ssq-server-checkpointer.h"
#include "ssq-server-store-private.h"
#include "ssq-proto.h"
#include "ssq-test-store.h"

#include <glib/gstdio.h>

#define THRESHOLD 256           /* frames */
#define ROWS 20                 /* rows a commit, each in its own page or so */
#define FRAME_BYTES (4096 + 24)
#define WAIT_US (30 * G_USEC_PER_SEC)

typedef struct {
  char                  *path;
  SsqServerStore        *store;      /* the writer's connection */
  SsqServerCheckpointer *checkpointer;
  guint                  n_rows;
  guint64                written_max;  /* the most frames one commit wrote */
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  gboolean durable = data == NULL;

  f->path = ssq_test_store_temp_db ();
  f->store = ssq_server_store_open (f->path, durable, &error);
  g_assert_no_error (error);
  g_assert_true (ssq_server_store_tune_writer (f->store, &error));
  g_assert_true (ssq_server_store_exec (f->store,
    "CREATE TABLE filler (k INTEGER PRIMARY KEY, v BLOB NOT NULL)", &error));
  f->checkpointer = ssq_server_checkpointer_new (f->path, durable, f->store, THRESHOLD, &error);
  g_assert_no_error (error);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_autofree char *wal = g_strconcat (f->path, "-wal", NULL);
  g_autofree char *dir = g_path_get_dirname (f->path);

  g_clear_pointer (&f->store, ssq_server_store_close);
  g_clear_pointer (&f->checkpointer, ssq_server_checkpointer_free);
  g_unlink (wal);
  g_unlink (f->path);
  g_rmdir (dir);
  g_free (f->path);
}

/* @rows rows in one commit, their keys spread over the table (a bijection
 * of their numbers), so that each lands in a page of its own. */
static void
commit_many (Fixture *f,
             guint    rows)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *sql = g_strdup_printf (
    "WITH RECURSIVE n(i) AS (SELECT %u UNION ALL SELECT i + 1 FROM n WHERE i < %u) "
    "INSERT INTO filler (k, v) SELECT (i * 2654435761) %% 4294967296, randomblob(600) FROM n",
    f->n_rows, f->n_rows + rows - 1);

  g_assert_true (ssq_server_store_exec (f->store, sql, &error));
  g_assert_no_error (error);
  f->n_rows += rows;
}

static SsqCheckpointStats stats (Fixture *f);

/* One commit of ROWS rows, noting the most frames one such commit wrote. */
static void
commit_rows (Fixture *f)
{
  guint64 before = f->checkpointer != NULL ? stats (f).wal_frames : 0, after;

  commit_many (f, ROWS);
  if (f->checkpointer == NULL)
    return;
  /* A shorter log started again with this commit. */
  after = stats (f).wal_frames;
  f->written_max = MAX (f->written_max, after - (after >= before ? before : 0));
}

static SsqCheckpointStats
stats (Fixture *f)
{
  SsqCheckpointStats s;

  ssq_server_checkpointer_stats (f->checkpointer, &s);
  return s;
}

static guint64
wal_frames_on_disk (Fixture *f)
{
  g_autofree char *wal = g_strconcat (f->path, "-wal", NULL);
  GStatBuf st;

  g_assert_cmpint (g_stat (wal, &st), ==, 0);
  return ((guint64) st.st_size - MIN ((guint64) st.st_size, 32)) / FRAME_BYTES;
}

/* Commits slowly, leaving the thread time to catch up, until the log has
 * started again (only a restart makes it shorter). */
static void
commit_until_restarted (Fixture *f)
{
  gint64 end = g_get_monotonic_time () + WAIT_US;
  guint64 before = stats (f).wal_frames;

  for (;;)
    {
      SsqCheckpointStats s;

      commit_rows (f);
      s = stats (f);
      if (s.wal_frames < before)
        break;
      before = s.wal_frames;
      if (g_get_monotonic_time () >= end)
        g_error ("the log did not start again: %" G_GUINT64_FORMAT " frames, %" G_GUINT64_FORMAT
                 " passes, %" G_GUINT64_FORMAT " finishes, %" G_GUINT64_FORMAT " forced",
                 s.wal_frames, s.passes, s.finishes, s.forced);
      g_usleep (5000);
    }
}

/* Reopened: every row is there, and the file is sound. */
static void
check_rows (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SsqServerStore) again = NULL;
  sqlite3_stmt *stmt;

  g_clear_pointer (&f->store, ssq_server_store_close);
  g_clear_pointer (&f->checkpointer, ssq_server_checkpointer_free);
  again = ssq_server_store_open (f->path, TRUE, &error);
  g_assert_no_error (error);
  g_assert_cmpint (sqlite3_prepare_v2 (again->base.db, "SELECT count(*) FROM filler", -1,
                                       &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  g_assert_cmpint (sqlite3_column_int64 (stmt, 0), ==, f->n_rows);
  sqlite3_finalize (stmt);
  g_assert_cmpint (sqlite3_prepare_v2 (again->base.db, "PRAGMA integrity_check", -1,
                                       &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  g_assert_cmpstr ((const char *) sqlite3_column_text (stmt, 0), ==, "ok");
  sqlite3_finalize (stmt);
}

/* The writer commits without a pause, 40 times the threshold's worth of
 * frames: the log never grows past the backstop (without checkpoints it
 * would hold them all); the thread does the copying, the writer only the
 * last frames; the log starts again. */
static void
test_checkpointer_bounded (Fixture       *f,
                           gconstpointer  data)
{
  SsqCheckpointStats s;

  /* At least 40 thresholds' worth, and until the writer has finished a
   * pass's work (more on a busy machine, where the thread falls behind). */
  for (guint i = 0; i < 40 * THRESHOLD / ROWS || stats (f).finishes == 0; i++)
    {
      g_assert_cmpuint (i, <, 4000 * THRESHOLD / ROWS);
      commit_rows (f);
    }
  commit_until_restarted (f);
  s = stats (f);
  g_test_message ("%" G_GUINT64_FORMAT " passes, %" G_GUINT64_FORMAT " finishes (at most %"
                  G_GUINT64_FORMAT " frames), %" G_GUINT64_FORMAT " forced; the log reached %"
                  G_GUINT64_FORMAT " frames; a commit wrote at most %" G_GUINT64_FORMAT,
                  s.passes, s.finishes, s.finish_max, s.forced, wal_frames_on_disk (f),
                  f->written_max);
  g_assert_cmpuint (s.finishes, >, 0);
  /* Each time the log reaches the threshold, the thread copies first; the
   * writer finishes only after a pass (no commit here writes half the
   * threshold), and never again before the log has started over. */
  g_assert_cmpuint (2 * f->written_max, <, THRESHOLD);
  g_assert_cmpuint (s.passes, >=, s.finishes);
  /* A finish copies what the last pass left: the frames of a commit or
   * two, never a whole log. */
  g_assert_cmpuint (s.finish_max, <=, MAX (THRESHOLD / 64, 2 * f->written_max));
  /* The commit that took it past the backstop is the last. */
  g_assert_cmpuint (wal_frames_on_disk (f), <, 8 * THRESHOLD + f->written_max);
  check_rows (f);
}

/* A reader in a transaction holds the frames it may read: nothing can
 * copy them, and the log grows. Once it ends, the log is copied and starts
 * again, and nothing was lost. */
static void
test_checkpointer_reader_holds (Fixture       *f,
                                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SsqServerStore) reader = ssq_server_store_open_another (f->path, TRUE, &error);
  sqlite3_stmt *stmt;
  guint backlog;

  g_assert_no_error (error);
  commit_rows (f);
  g_assert_true (ssq_server_store_exec (reader, "BEGIN", &error));
  g_assert_cmpint (sqlite3_prepare_v2 (reader->base.db, "SELECT count(*) FROM filler", -1,
                                       &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  g_assert_cmpint (sqlite3_column_int64 (stmt, 0), ==, ROWS);
  sqlite3_finalize (stmt);

  for (guint i = 0; i < 8 * THRESHOLD / ROWS; i++)
    commit_rows (f);
  /* Past the backstop: the log could not start again, and the writer
   * copied nothing (it tried once, then left it to the thread). */
  backlog = stats (f).wal_frames;
  g_assert_cmpuint (backlog, >, 4 * THRESHOLD);
  g_assert_cmpuint (stats (f).forced_max, ==, 0);

  /* Let go: the thread copies the backlog; the writer only what came
   * after it (before, it copied the whole backlog at its next commit). */
  g_assert_true (ssq_server_store_exec (reader, "COMMIT", &error));
  commit_until_restarted (f);
  g_test_message ("backlog %u frames; the writer copied at most %" G_GUINT64_FORMAT
                  " when forced, %" G_GUINT64_FORMAT " when finishing", backlog,
                  stats (f).forced_max, stats (f).finish_max);
  g_assert_cmpuint (stats (f).forced_max, <, backlog);
  g_assert_cmpuint (stats (f).finish_max, <=, MAX (THRESHOLD / 64, 2 * f->written_max));
  g_assert_cmpuint (stats (f).wal_frames, <, THRESHOLD);
  g_clear_pointer (&reader, ssq_server_store_close);
  check_rows (f);
}

/* A reader in a transaction: returns its connection. */
static SsqServerStore *
begin_reading (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  SsqServerStore *reader = ssq_server_store_open_another (f->path, TRUE, &error);

  g_assert_no_error (error);
  g_assert_true (ssq_server_store_exec (reader, "BEGIN", &error));
  g_assert_true (ssq_server_store_exec (reader, "SELECT count(*) FROM filler", &error));
  return reader;
}

/* A second reader holds frames of a later log, found by the writer's own
 * copies (long commits, each finished on the writer): what the first one
 * left (how long the log had grown) must not delay the passes of this one
 * once it lets go. It did: nothing was copied until the log had grown
 * back past that old length. */
static void
test_checkpointer_held_again (Fixture       *f,
                              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  SsqServerStore *reader = begin_reading (f);
  guint64 peak = 0;

  for (guint i = 0; i < 12 * THRESHOLD / ROWS; i++)
    commit_rows (f);
  g_assert_true (ssq_server_store_exec (reader, "COMMIT", &error));
  ssq_server_store_close (reader);
  commit_until_restarted (f);

  reader = begin_reading (f);
  for (guint i = 0; i < 3; i++)
    commit_many (f, 300);
  g_assert_true (ssq_server_store_exec (reader, "COMMIT", &error));
  ssq_server_store_close (reader);
  for (guint i = 0; i < 8 * THRESHOLD / ROWS; i++)
    {
      commit_rows (f);
      peak = MAX (peak, stats (f).wal_frames);
    }
  g_test_message ("the log reached %" G_GUINT64_FORMAT " frames once the second reader let go",
                  peak);
  /* Waiting for the length the first reader left would take it to 26
   * thresholds; the passes take it to 8 (13 under valgrind). */
  g_assert_cmpuint (peak, <, 20 * THRESHOLD);
  check_rows (f);
}

/* A commit longer than the log before it, right after the writer copied
 * the last frames: the log starts again with it, which its length alone
 * does not tell (it grew); the header's count does, and the writer's copy
 * of it is counted whole. */
static void
test_checkpointer_long_commit_restarts (Fixture       *f,
                                        gconstpointer  data)
{
  guint64 finishes = stats (f).finishes, before;
  SsqCheckpointStats s;

  while (stats (f).finishes == finishes)
    commit_rows (f);
  before = stats (f).wal_frames;
  /* Longer than the log was: 8 rows to a frame and more (about 5 here). */
  commit_many (f, (guint) before * 8);
  s = stats (f);
  g_test_message ("the log was %" G_GUINT64_FORMAT " frames, then %" G_GUINT64_FORMAT
                  "; the writer copied at most %" G_GUINT64_FORMAT " finishing, %"
                  G_GUINT64_FORMAT " forced", before, s.wal_frames, s.finish_max, s.forced_max);
  g_assert_cmpuint (s.wal_frames, >, before);
  g_assert_cmpuint (MAX (s.finish_max, s.forced_max), >=, s.wal_frames);
  check_rows (f);
}

typedef struct {
  const char *path;
  gint        stop;          /* atomic */
  guint       reads;
} BusyReader;

/* Short reads one after another, each in its own transaction, as the
 * server's reader threads make them. */
static gpointer
read_busily (gpointer data)
{
  BusyReader *r = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(SsqServerStore) store = ssq_server_store_open_another (r->path, TRUE, &error);

  g_assert_no_error (error);
  while (!g_atomic_int_get (&r->stop))
    {
      g_assert_true (ssq_server_store_exec (store, "SELECT count(*) FROM (SELECT v FROM filler LIMIT 20)",
                                            &error));
      r->reads++;
    }
  return NULL;
}

/* Readers one after another, never all done at once: one still reads the
 * log whenever the writer could start it again. The writer's copy of the
 * last frames then waits for them and restarts the log itself: it stays
 * bounded (without the wait it grew to 38 times the threshold and on,
 * with no restart at all on a busy machine). */
static void
test_checkpointer_busy_readers (Fixture       *f,
                                gconstpointer  data)
{
  BusyReader readers[4] = { { f->path }, { f->path }, { f->path }, { f->path } };
  GThread *threads[G_N_ELEMENTS (readers)];
  guint64 restarts = 0, before = 0;

  commit_rows (f);
  for (guint i = 0; i < G_N_ELEMENTS (readers); i++)
    threads[i] = g_thread_new ("reader", read_busily, &readers[i]);
  for (guint i = 0; i < 40 * THRESHOLD / ROWS; i++)
    {
      commit_rows (f);
      if (stats (f).wal_frames < before)
        restarts++;
      before = stats (f).wal_frames;
    }
  for (guint i = 0; i < G_N_ELEMENTS (readers); i++)
    {
      g_atomic_int_set (&readers[i].stop, TRUE);
      g_thread_join (threads[i]);
    }
  g_test_message ("%u and %u reads; %" G_GUINT64_FORMAT " restarts, the log reached %"
                  G_GUINT64_FORMAT " frames, %" G_GUINT64_FORMAT " forced",
                  readers[0].reads, readers[1].reads, restarts, wal_frames_on_disk (f),
                  stats (f).forced);
  g_assert_cmpuint (readers[0].reads, >, 0);
  g_assert_cmpuint (restarts, >, 0);
  /* The hard bound is 8 thresholds; a wait for the readers that fails (a
   * reader off the CPU: 4 copies of this test at once on 2 cores reached
   * 16) is tried again a threshold later. The bound here is for the log
   * that never started again (38 thresholds and on); it does not tell the
   * RESTART wait from passes alone, which without load reached 23-47 but
   * once only 7. */
  g_assert_cmpuint (wal_frames_on_disk (f), <, 32 * THRESHOLD);
  check_rows (f);
}

/* A log left long (by a crash, here by committing with no checkpoints):
 * copied when the checkpointer starts, so that the writer's first commit
 * only restarts it (it took the whole log for that commit's own and copied
 * it itself). */
static void
test_checkpointer_leftover_log (Fixture       *f,
                                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  SsqCheckpointStats s;

  ssq_server_store_set_commit_hook (f->store, NULL, NULL);
  g_clear_pointer (&f->checkpointer, ssq_server_checkpointer_free);
  while (wal_frames_on_disk (f) < 8 * THRESHOLD)
    commit_rows (f);
  f->checkpointer = ssq_server_checkpointer_new (f->path, TRUE, f->store, THRESHOLD, &error);
  g_assert_no_error (error);
  commit_rows (f);
  s = stats (f);
  g_assert_cmpuint (s.wal_frames, <, THRESHOLD);
  g_assert_cmpuint (s.finishes, ==, 0);
  g_assert_cmpuint (s.forced, ==, 0);
  check_rows (f);
}

typedef struct {
  Fixture     *f;
  SsqTestGate  gate;
  gboolean     held;        /* the first pass was held */
  gint         released;    /* atomic: the gate was opened */
} Backstop;

/* Checkpoint thread: holds the first pass until the test lets it go. */
static void
hold_first_pass (gpointer data)
{
  Backstop *b = data;

  if (b->held)
    return;
  b->held = TRUE;
  ssq_test_gate_wait (&b->gate);
}

/* Lets the pass go once the writer is past the backstop (and waits). */
static gpointer
release_when_past (gpointer data)
{
  Backstop *b = data;

  while (stats (b->f).wal_frames < 4 * THRESHOLD)
    g_usleep (1000);
  g_usleep (100 * 1000);
  g_atomic_int_set (&b->released, TRUE);
  ssq_test_gate_release (&b->gate);
  return NULL;
}

/* A pass stalls (held here) while the writer goes on: past the backstop
 * the writer waits for it, and copies the rest only after it. Without
 * the wait it would copy at once; without the thread's wake-up it would
 * wait for ever. */
static void
test_checkpointer_backstop_waits (Fixture       *f,
                                  gconstpointer  data)
{
  Backstop b = { f };
  GThread *releaser;

  ssq_test_gate_init (&b.gate);
  ssq_server_checkpointer_set_pass_hook (f->checkpointer, hold_first_pass, &b);
  releaser = g_thread_new ("release", release_when_past, &b);
  while (stats (f).forced == 0)
    {
      g_assert_cmpuint (f->n_rows, <, 100 * THRESHOLD);
      commit_rows (f);
    }
  g_assert_true (g_atomic_int_get (&b.released));
  g_thread_join (releaser);
  g_assert_cmpuint (stats (f).passes, >=, 1);
  commit_until_restarted (f);
  ssq_server_checkpointer_set_pass_hook (f->checkpointer, NULL, NULL);
  ssq_test_gate_clear (&b.gate);
  check_rows (f);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/server/checkpointer/bounded", Fixture, NULL,
              fixture_set_up, test_checkpointer_bounded, fixture_tear_down);
  /* The default VFS: the log header read as it is, nothing buffered. */
  g_test_add ("/server/checkpointer/bounded-not-durable", Fixture, "not durable",
              fixture_set_up, test_checkpointer_bounded, fixture_tear_down);
  g_test_add ("/server/checkpointer/reader-holds", Fixture, NULL,
              fixture_set_up, test_checkpointer_reader_holds, fixture_tear_down);
  g_test_add ("/server/checkpointer/backstop-waits", Fixture, NULL,
              fixture_set_up, test_checkpointer_backstop_waits, fixture_tear_down);
  g_test_add ("/server/checkpointer/held-again", Fixture, NULL,
              fixture_set_up, test_checkpointer_held_again, fixture_tear_down);
  g_test_add ("/server/checkpointer/long-commit-restarts", Fixture, NULL,
              fixture_set_up, test_checkpointer_long_commit_restarts, fixture_tear_down);
  g_test_add ("/server/checkpointer/busy-readers", Fixture, NULL,
              fixture_set_up, test_checkpointer_busy_readers, fixture_tear_down);
  g_test_add ("/server/checkpointer/leftover-log", Fixture, NULL,
              fixture_set_up, test_checkpointer_leftover_log, fixture_tear_down);
  return g_test_run ();
}
