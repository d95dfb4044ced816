/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-readers.c: the reader threads on a real SQLite file: a read held up
 * does not hold the others, each read sees what is committed, completions
 * run on the main thread, errors come back, and a flush or the end waits
 * for every read and answers it. */
#include "ssq-server-readers.h"
#include "ssq-server-store-private.h"
#include "ssq-proto.h"
#include "ssq-test-store.h"

typedef struct {
  SsqTestGate *gate;        /* wait for it first, if set */
  const char  *username;    /* the user to read */
  gboolean     fail_bare;   /* fail without saying why */
  char        *found;       /* the display name read */
  GThread     *read_on;
  GThread     *done_on;
  GError      *error;
  guint       *n_done;      /* completions so far, in order */
  guint        done_index;
  guint       *n_freed;
} Job;

static gboolean
job_read (SsqServerStore  *store,
          gpointer         data,
          GError         **error)
{
  Job *job = data;
  g_autoptr(SsqUserRow) user = NULL;

  job->read_on = g_thread_self ();
  if (job->gate != NULL)
    ssq_test_gate_wait (job->gate);
  if (job->fail_bare)
    return FALSE;
  user = ssq_server_store_user_by_name (store, job->username, NULL, error);
  if (user == NULL)
    return FALSE;
  job->found = g_strdup (user->display_name);
  return TRUE;
}

static void
job_done (gpointer      data,
          const GError *error)
{
  Job *job = data;

  job->done_on = g_thread_self ();
  job->error = error != NULL ? g_error_copy (error) : NULL;
  job->done_index = ++*job->n_done;
}

static void
job_free (gpointer data)
{
  Job *job = data;

  ++*job->n_freed;
}

static void
job_clear (Job *job)
{
  g_clear_pointer (&job->found, g_free);
  g_clear_error (&job->error);
}

static SsqServerStore *
store_with_user (char **out_path)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = ssq_test_store_temp_db ();
  SsqServerStore *store = ssq_server_store_open (path, FALSE, &error);
  SsqUserRow user = { (char *) "u1", (char *) "alice", (char *) "Alice", 1, 0 };

  g_assert_no_error (error);
  g_assert_true (ssq_server_store_user_insert (store, &user, "hash", &error));
  *out_path = g_steal_pointer (&path);
  return store;
}

/* One read held up on one thread; another runs meanwhile on the second,
 * and its completion runs on the main thread before the first is let go. */
static void
test_readers_side_by_side (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  g_autoptr(SsqServerStore) store = store_with_user (&path);
  g_autoptr(SsqServerReaders) readers = ssq_server_readers_new (path, FALSE, 2, &error);
  guint n_done = 0, n_freed = 0;
  SsqTestGate gate;
  Job held = { &gate, "alice", FALSE, NULL, NULL, NULL, NULL, &n_done, 0, &n_freed };
  Job quick = { NULL, "alice", FALSE, NULL, NULL, NULL, NULL, &n_done, 0, &n_freed };

  g_assert_no_error (error);
  ssq_test_gate_init (&gate);
  ssq_server_readers_run (readers, job_read, job_done, &held, job_free);
  ssq_server_readers_run (readers, job_read, job_done, &quick, job_free);
  g_assert_cmpuint (ssq_server_readers_pending (readers), ==, 2);
  while (quick.done_index == 0)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (held.done_index, ==, 0);
  g_assert_no_error (quick.error);
  g_assert_cmpstr (quick.found, ==, "Alice");
  g_assert_true (quick.done_on == g_thread_self ());
  g_assert_true (quick.read_on != g_thread_self ());
  g_assert_cmpuint (ssq_server_readers_pending (readers), ==, 1);

  ssq_test_gate_release (&gate);
  while (held.done_index == 0)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpstr (held.found, ==, "Alice");
  g_assert_true (held.read_on != quick.read_on);
  g_assert_cmpuint (n_freed, ==, 2);
  g_assert_cmpuint (ssq_server_readers_pending (readers), ==, 0);
  job_clear (&held);
  job_clear (&quick);
  ssq_test_gate_clear (&gate);
}

/* A read sees what was committed on another connection before it ran. */
static void
test_readers_see_commits (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  g_autoptr(SsqServerStore) store = store_with_user (&path);
  g_autoptr(SsqServerReaders) readers = ssq_server_readers_new (path, FALSE, 1, &error);
  SsqUserRow user = { (char *) "u2", (char *) "bob", (char *) "Bob", 2, 0 };
  guint n_done = 0, n_freed = 0;
  Job before = { NULL, "bob", FALSE, NULL, NULL, NULL, NULL, &n_done, 0, &n_freed };
  Job after = { NULL, "bob", FALSE, NULL, NULL, NULL, NULL, &n_done, 0, &n_freed };

  ssq_server_readers_run (readers, job_read, job_done, &before, job_free);
  ssq_server_readers_flush (readers);
  g_assert_error (before.error, SSQ_ERROR, SSQ_ERROR_NOT_FOUND);
  g_assert_true (ssq_server_store_user_insert (store, &user, "hash", &error));
  ssq_server_readers_run (readers, job_read, job_done, &after, job_free);
  ssq_server_readers_flush (readers);
  g_assert_no_error (after.error);
  g_assert_cmpstr (after.found, ==, "Bob");
  job_clear (&before);
  job_clear (&after);
}

/* A read that fails without saying why is an internal error. */
static void
test_readers_bare_failure (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  g_autoptr(SsqServerStore) store = store_with_user (&path);
  g_autoptr(SsqServerReaders) readers = ssq_server_readers_new (path, FALSE, 1, &error);
  guint n_done = 0, n_freed = 0;
  Job bare = { NULL, "alice", TRUE, NULL, NULL, NULL, NULL, &n_done, 0, &n_freed };

  ssq_server_readers_run (readers, job_read, job_done, &bare, job_free);
  ssq_server_readers_flush (readers);
  g_assert_error (bare.error, SSQ_ERROR, SSQ_ERROR_INTERNAL);
  job_clear (&bare);
}

static gpointer
release_later (gpointer data)
{
  g_usleep (50 * 1000);
  ssq_test_gate_release (data);
  return NULL;
}

/* Freed with reads queued behind one held up: it waits for them all, and
 * every completion runs, in the order the reads were queued (one thread),
 * before it returns, and leaves nothing behind on the main context. */
static void
test_readers_free_answers_all (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  g_autoptr(SsqServerStore) store = store_with_user (&path);
  SsqServerReaders *readers = ssq_server_readers_new (path, FALSE, 1, &error);
  guint n_done = 0, n_freed = 0;
  SsqTestGate gate;
  Job jobs[5];
  GThread *releaser;

  ssq_test_gate_init (&gate);
  for (guint i = 0; i < G_N_ELEMENTS (jobs); i++)
    {
      jobs[i] = (Job) { i == 0 ? &gate : NULL, "alice", FALSE, NULL, NULL, NULL, NULL,
                        &n_done, 0, &n_freed };
      ssq_server_readers_run (readers, job_read, job_done, &jobs[i], job_free);
    }
  releaser = g_thread_new ("release", release_later, &gate);
  ssq_server_readers_free (readers);
  g_thread_join (releaser);
  /* Nothing of it is left on the main context (under valgrind or ASan, a
   * completion source left attached would run on freed memory here). */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_cmpuint (n_done, ==, G_N_ELEMENTS (jobs));
  g_assert_cmpuint (n_freed, ==, G_N_ELEMENTS (jobs));
  for (guint i = 0; i < G_N_ELEMENTS (jobs); i++)
    {
      g_assert_cmpuint (jobs[i].done_index, ==, i + 1);
      g_assert_cmpstr (jobs[i].found, ==, "Alice");
      job_clear (&jobs[i]);
    }
  ssq_test_gate_clear (&gate);
}

/* Reads queue up to 8 a thread, whatever is read or not: past that the
 * caller reads on the main loop (ssq_server_chat_history), which bounds
 * the pages built at once however many requests a client has in flight. */
static void
test_readers_room (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  g_autoptr(SsqServerStore) store = store_with_user (&path);
  g_autoptr(SsqServerReaders) readers = ssq_server_readers_new (path, FALSE, 1, &error);
  guint n_done = 0, n_freed = 0;
  SsqTestGate gate;
  Job jobs[8];

  ssq_test_gate_init (&gate);
  for (guint i = 0; i < G_N_ELEMENTS (jobs); i++)
    {
      g_assert_true (ssq_server_readers_room (readers));
      jobs[i] = (Job) { i == 0 ? &gate : NULL, "alice", FALSE, NULL, NULL, NULL, NULL,
                        &n_done, 0, &n_freed };
      ssq_server_readers_run (readers, job_read, job_done, &jobs[i], job_free);
    }
  g_assert_false (ssq_server_readers_room (readers));
  ssq_test_gate_release (&gate);
  ssq_server_readers_flush (readers);
  g_assert_cmpuint (n_done, ==, G_N_ELEMENTS (jobs));
  g_assert_true (ssq_server_readers_room (readers));
  for (guint i = 0; i < G_N_ELEMENTS (jobs); i++)
    job_clear (&jobs[i]);
  ssq_test_gate_clear (&gate);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/server/readers/side-by-side", test_readers_side_by_side);
  g_test_add_func ("/server/readers/see-commits", test_readers_see_commits);
  g_test_add_func ("/server/readers/bare-failure", test_readers_bare_failure);
  g_test_add_func ("/server/readers/free-answers-all", test_readers_free_answers_all);
  g_test_add_func ("/server/readers/room", test_readers_room);
  return g_test_run ();
}
