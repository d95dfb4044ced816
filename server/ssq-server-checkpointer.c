/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-checkpointer.c: copying the write-ahead log into the database
 * on a thread of its own.
 *
 * Why: SQLite checkpoints in the connection that committed, right after
 * the commit. On the writer thread, each checkpoint copied 16,384 pages
 * into the database and synced it, about 30 ms during which no batch
 * committed: every write queued meanwhile waited, and with 32 messages in
 * flight per conversation those checkpoints were the 1% slowest acks.
 *
 * How: the writer's commit hook only wakes this thread once the log is
 * longer than the threshold, and this thread's own connection copies
 * (PASSIVE: it neither waits for nor holds up the writer and the readers).
 * The writer goes on appending, so a pass leaves the frames committed
 * during it, and passes follow each other while many are left. The log
 * starts again from its beginning only if every frame of it is copied when
 * the writer begins a transaction, which a busy writer would never see
 * while another thread copies. So once few frames are left, the writer
 * copies them itself, in its hook: a few hundred pages, well under a
 * millisecond, and its next transaction restarts the log.
 *
 * The log stays bounded even when this thread cannot keep up: past four
 * times the threshold, the writer waits for a pass under way and copies
 * whatever is left itself (unless a reader still needs the frames:
 * nothing can bound the log then). */
#include "ssq-server-checkpointer.h"

/* The writer copies the rest itself when at most threshold / FINISH_PART
 * frames are left, or twice what its last commit wrote: a pass that ended
 * between two commits leaves the frames of one. */
#define FINISH_PART 64
/* ... or, whatever is left, when the log is this many times the threshold. */
#define BACKSTOP 4

typedef enum {
  LEAVE,        /* nothing to do, or a pass is running or asked for */
  FINISH,       /* few frames left: the writer copies them */
  FORCE,        /* the log is too long: the writer copies what it can */
} Decision;

struct _SsqServerCheckpointer {
  SsqServerStore *store;         /* this thread's own connection */
  guint           threshold;     /* frames */
  GThread        *thread;

  GMutex          lock;
  GCond           cond;
  gboolean        wanted;        /* the writer asked for a pass */
  gboolean        running;
  gboolean        quit;
  guint           generation;    /* counts the log's restarts */
  guint           last_frames;   /* the log's length at the last commit */
  guint           copied;        /* frames of this generation in the database */
  SsqCheckpointStats stats;
};

/* Under lock: what the writer does at a commit that left the log
 * @wal_frames long. */
static Decision
writer_decides (SsqServerCheckpointer *self,
                guint                  wal_frames)
{
  guint written = wal_frames - MIN (self->last_frames, wal_frames);
  guint left;

  /* Only a restart makes the log shorter. */
  if (wal_frames < self->last_frames)
    {
      self->generation++;
      self->copied = 0;
    }
  self->last_frames = wal_frames;
  self->stats.wal_frames = wal_frames;
  if (wal_frames < self->threshold || self->quit)
    return LEAVE;
  if (wal_frames >= self->threshold * BACKSTOP)
    {
      /* A pass stalled (the machine is busy), or a reader holds frames:
       * wait for the pass, rather than let the log grow on. */
      while (self->running)
        g_cond_wait (&self->cond, &self->lock);
      return FORCE;
    }
  if (self->running)
    return LEAVE;
  left = wal_frames - MIN (self->copied, wal_frames);
  if (left <= MAX (self->threshold / FINISH_PART, 2 * written))
    return FINISH;
  if (!self->wanted)
    {
      self->wanted = TRUE;
      g_cond_broadcast (&self->cond);
    }
  return LEAVE;
}

/* Writer thread, after each commit. */
static void
commit_hook (SsqServerStore *store,
             guint           wal_frames,
             gpointer        user_data)
{
  SsqServerCheckpointer *self = user_data;
  g_autoptr(GError) error = NULL;
  guint log, copied, before;
  Decision decision;

  g_mutex_lock (&self->lock);
  decision = writer_decides (self, wal_frames);
  before = self->copied;
  g_mutex_unlock (&self->lock);
  if (decision == LEAVE)
    return;
  if (!ssq_server_store_checkpoint (store, &log, &copied, &error))
    {
      g_warning ("Checkpoint failed: %s", error->message);
      return;
    }
  g_mutex_lock (&self->lock);
  if (decision == FINISH)
    {
      self->stats.finishes++;
      if (copied > before)
        self->stats.finish_max = MAX (self->stats.finish_max, copied - before);
    }
  else
    self->stats.forced++;
  self->copied = MAX (self->copied, copied);
  g_mutex_unlock (&self->lock);
}

static gpointer
checkpointer_thread (gpointer user_data)
{
  SsqServerCheckpointer *self = user_data;

  g_mutex_lock (&self->lock);
  for (;;)
    {
      g_autoptr(GError) error = NULL;
      guint generation, log, copied;

      while (!self->wanted && !self->quit)
        g_cond_wait (&self->cond, &self->lock);
      if (self->quit)
        break;
      self->wanted = FALSE;
      self->running = TRUE;
      generation = self->generation;
      g_mutex_unlock (&self->lock);

      if (!ssq_server_store_checkpoint (self->store, &log, &copied, &error))
        g_warning ("Checkpoint failed: %s", error->message);

      g_mutex_lock (&self->lock);
      self->running = FALSE;
      g_cond_broadcast (&self->cond);
      self->stats.passes++;
      /* A restart since: these frames are of the log before it. */
      if (generation == self->generation)
        self->copied = MAX (self->copied, copied);
    }
  g_mutex_unlock (&self->lock);
  return NULL;
}

/**
 * ssq_server_checkpointer_new:
 * Opens a connection of its own to the database at @path (already open
 * in this process) and takes over the checkpoints of @writer's connection,
 * which must not be in use on another thread yet: the log is copied into
 * the database once it is @threshold frames long.
 */
SsqServerCheckpointer *
ssq_server_checkpointer_new (const char      *path,
                             gboolean         durable,
                             SsqServerStore  *writer,
                             guint            threshold,
                             GError         **error)
{
  SsqServerCheckpointer *self;
  SsqServerStore *store = ssq_server_store_open_another (path, durable, error);

  if (store == NULL)
    return NULL;
  self = g_new0 (SsqServerCheckpointer, 1);
  self->store = store;
  self->threshold = MAX (threshold, 1);
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  self->thread = g_thread_new ("ssq-checkpoint", checkpointer_thread, self);
  ssq_server_store_set_commit_hook (writer, commit_hook, self);
  return self;
}

/* Only once the writer's connection is closed (its hook calls this
 * object); the last connection to close copies what is left. */
void
ssq_server_checkpointer_free (SsqServerCheckpointer *self)
{
  if (self == NULL)
    return;
  g_mutex_lock (&self->lock);
  self->quit = TRUE;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  g_thread_join (self->thread);
  ssq_server_store_close (self->store);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  g_free (self);
}

void
ssq_server_checkpointer_stats (SsqServerCheckpointer *self,
                               SsqCheckpointStats    *out)
{
  g_mutex_lock (&self->lock);
  *out = self->stats;
  g_mutex_unlock (&self->lock);
}
