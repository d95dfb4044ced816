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
 * copies them itself, in its hook: at most a few hundred pages and two
 * syncs (about a millisecond here, once every threshold's worth of
 * frames), and its next transaction restarts the log.
 *
 * Readers can keep that restart from happening: one that began before
 * the last frames were copied still reads the log. Once the log is twice
 * the threshold (a restart was missed), the writer's copy of the last
 * frames waits for such readers, 10 ms at most, and restarts the log
 * itself (RESTART); 200 ms at most when the log reaches eight times the
 * threshold. A wait that fails is not tried again before the log grew.
 *
 * The thread may also fall behind (a busy machine): past four times the
 * threshold of frames not yet copied, the writer waits for the pass under
 * way or asked for, and copies the rest itself. A reader that stays (a
 * backup) holds every frame after its start: nothing can bound the log
 * then. The writer then stops trying at each commit, asks the thread for
 * a pass only every threshold's worth of frames, and once the reader lets
 * go the thread copies the backlog. */
#include "ssq-server-checkpointer.h"

/* The writer copies the rest itself when at most threshold / FINISH_PART
 * frames are left (256 by default; a 16th made commits with one message
 * in flight 0.95x as many, every copy on the writer holding it up), or
 * twice what its last commit wrote: a pass that ended between two commits
 * leaves the frames of one. */
#define FINISH_PART 64
/* ... or, whatever is left, when this many thresholds are not copied yet
 * (the thread fell behind), or the log is twice that long (passes never
 * quite caught up, or readers kept the log from starting again). */
#define BACKSTOP 4
/* How long the writer's copy waits for readers still on the log, to start
 * it again: a moment once a restart was missed; longer at the hard bound
 * (twice the backstop), where only a reader stopped that long keeps the
 * log growing. */
#define RESTART_WAIT_MS 10
#define RESTART_WAIT_HARD_MS 200

typedef enum {
  LEAVE,        /* nothing to do, or a pass is running or asked for */
  FINISH,       /* few frames left: the writer copies them */
  FORCE,        /* too many left: the writer waits for the pass, copies the rest */
} Decision;

typedef void (*PassHook) (gpointer user_data);

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
  guint64         wal_generation; /* the log file's own count, G_MAXUINT64: unknown */
  guint           last_frames;   /* the log's length at the last commit */
  guint           copied;        /* frames of this generation in the database */
  gboolean        held;          /* a reader holds frames: copying more fails */
  guint           stuck;         /* the writer's copies in a row that copied nothing */
  guint           held_at;       /* the log's length at the last pass asked meanwhile */
  gboolean        backlog;       /* a reader let go: one more pass, not the writer */
  guint           restart_from;  /* the log's length from which to try restarting it */
  SsqCheckpointStats stats;
  PassHook        pass_hook;     /* tests: runs on the thread before each pass */
  gpointer        pass_hook_data;
};

/* Under lock: the log at this commit, @wal_frames long, of the log file's
 * generation @wal_generation. Returns how many frames this commit wrote. */
static guint
track_log (SsqServerCheckpointer *self,
           guint                  wal_frames,
           guint64                wal_generation)
{
  guint written = wal_frames - MIN (self->last_frames, wal_frames);
  gboolean restarted;

  /* Without the file's count, only a restart makes the log shorter. */
  if (wal_generation == G_MAXUINT64 || self->wal_generation == G_MAXUINT64)
    restarted = wal_frames < self->last_frames;
  else
    restarted = wal_generation != self->wal_generation;
  if (restarted)
    {
      self->generation++;
      self->copied = 0;
      self->held = FALSE;
      self->stuck = 0;
      self->held_at = 0;
      self->backlog = FALSE;
      self->restart_from = 0;
      /* Known to have restarted: this commit wrote the whole log. */
      if (wal_generation != G_MAXUINT64 && self->wal_generation != G_MAXUINT64)
        written = wal_frames;
    }
  self->wal_generation = wal_generation;
  self->last_frames = wal_frames;
  return written;
}

/* Under lock: what the writer does at a commit, and whether its copy
 * then waits for readers to restart the log (once a restart was missed).
 * A pass runs only when the writer asks for one, and the writer copies
 * only when no pass runs or is asked for: the two never meet (the loser
 * would copy nothing). */
static Decision
writer_decides (SsqServerCheckpointer *self,
                guint                  wal_frames,
                guint64                wal_generation,
                guint                 *wait_ms)
{
  guint written = track_log (self, wal_frames, wal_generation);
  guint left = wal_frames - MIN (self->copied, wal_frames);
  gboolean may_restart = wal_frames >= self->restart_from;
  gboolean hard = wal_frames >= 2 * self->threshold * BACKSTOP && may_restart && !self->backlog;

  *wait_ms = wal_frames >= 2 * self->threshold && may_restart ? RESTART_WAIT_MS : 0;
  if (wal_frames < self->threshold || self->quit)
    return LEAVE;
  if (!self->held && (left >= self->threshold * BACKSTOP || hard))
    {
      /* Wait for the thread's pass rather than let the log grow on. */
      while ((self->running || self->wanted) && !self->quit)
        g_cond_wait (&self->cond, &self->lock);
      if (hard)
        *wait_ms = RESTART_WAIT_HARD_MS;
      return FORCE;
    }
  if (self->running || self->wanted)
    return LEAVE;
  if (left <= MAX (self->threshold / FINISH_PART, 2 * written) && !self->held)
    return FINISH;
  /* A reader holds frames: ask again only once the log has grown. */
  if (self->held && wal_frames < self->held_at + self->threshold)
    return LEAVE;
  self->held_at = wal_frames;
  self->wanted = TRUE;
  g_cond_broadcast (&self->cond);
  return LEAVE;
}

/* Under lock: a checkpoint of this generation left @copied frames in the
 * database. */
static void
note_copied (SsqServerCheckpointer *self,
             guint                  copied)
{
  /* The log is long with what a reader held, and it has just been
   * copied: the frames that came meanwhile are left to one more pass
   * before the hard bound makes the writer copy. */
  if (copied > self->copied)
    {
      self->backlog = self->held;
      self->held = FALSE;
    }
  self->copied = MAX (self->copied, copied);
}

/* Writer thread: copies as decided, and learns whether a reader holds
 * frames (nothing more copied) or kept the log from starting again. */
static void
writer_copies (SsqServerCheckpointer *self,
               SsqServerStore        *store,
               Decision               decision,
               guint                  wait_ms,
               guint                  wal_frames,
               guint                  before)
{
  g_autoptr(GError) error = NULL;
  gboolean complete;
  guint log, copied, more;

  if (!ssq_server_store_checkpoint (store, wait_ms, &log, &copied, &complete, &error))
    {
      g_warning ("Checkpoint failed: %s", error->message);
      return;
    }
  more = copied - MIN (before, copied);
  g_mutex_lock (&self->lock);
  if (decision == FINISH)
    {
      self->stats.finishes++;
      self->stats.finish_max = MAX (self->stats.finish_max, more);
    }
  else
    {
      self->stats.forced++;
      self->stats.forced_max = MAX (self->stats.forced_max, more);
    }
  /* Nothing more copied, twice in a row: a reader holds what is left (a
   * short one may just have overlapped one copy). */
  if (copied <= before && copied < log)
    self->held = ++self->stuck >= 2;
  else
    self->stuck = 0;
  note_copied (self, copied);
  /* Readers still on the log after the wait: the next tries wait only
   * once it has grown some more. */
  if (wait_ms > 0 && !complete)
    self->restart_from = wal_frames + MAX (wait_ms > RESTART_WAIT_MS ? self->threshold
                                                                     : self->threshold / FINISH_PART, 1);
  g_mutex_unlock (&self->lock);
}

/* Writer thread, after each commit. */
static void
commit_hook (SsqServerStore *store,
             guint           wal_frames,
             gpointer        user_data)
{
  SsqServerCheckpointer *self = user_data;
  guint64 wal_generation = ssq_server_store_wal_generation (store);
  guint wait_ms, before;
  Decision decision;

  g_mutex_lock (&self->lock);
  decision = writer_decides (self, wal_frames, wal_generation, &wait_ms);
  before = self->copied;
  g_mutex_unlock (&self->lock);
  if (decision != LEAVE)
    writer_copies (self, store, decision, wait_ms, wal_frames, before);
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
      gboolean complete;
      PassHook hook;
      gpointer hook_data;

      while (!self->wanted && !self->quit)
        g_cond_wait (&self->cond, &self->lock);
      if (self->quit)
        break;
      self->wanted = FALSE;
      self->running = TRUE;
      generation = self->generation;
      hook = self->pass_hook;
      hook_data = self->pass_hook_data;
      g_mutex_unlock (&self->lock);

      if (hook != NULL)
        hook (hook_data);
      if (!ssq_server_store_checkpoint (self->store, 0, &log, &copied, &complete, &error))
        g_warning ("Checkpoint failed: %s", error->message);

      g_mutex_lock (&self->lock);
      self->running = FALSE;
      g_cond_broadcast (&self->cond);
      self->stats.passes++;
      /* A restart since: these frames are of the log before it. */
      if (generation == self->generation)
        note_copied (self, copied);
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
  g_autoptr(GError) local_error = NULL;
  SsqServerCheckpointer *self;
  SsqServerStore *store = ssq_server_store_open_checkpointer (path, durable, error);
  guint log = 0, copied = 0;
  gboolean complete = FALSE;

  if (store == NULL)
    return NULL;
  self = g_new0 (SsqServerCheckpointer, 1);
  self->store = store;
  self->threshold = MAX (threshold, 1);
  /* A log a crash left: copied now, before any client. The writer's first
   * commit would otherwise take it all for its own and copy it itself.
   * Not fatal: the thread tries again once the log is long. Unknown (0
   * when busy), its first commit counts as having written nothing. */
  if (!ssq_server_store_checkpoint (store, 0, &log, &copied, &complete, &local_error))
    g_warning ("Checkpoint at start failed: %s", local_error->message);
  if (log > 0)
    self->stats.passes++;
  self->last_frames = log > 0 ? log : G_MAXUINT;
  self->copied = copied;
  self->wal_generation = G_MAXUINT64;
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

/* For tests: @hook runs on the checkpoint thread before each pass. */
void
ssq_server_checkpointer_set_pass_hook (SsqServerCheckpointer *self,
                                       void                 (*hook) (gpointer user_data),
                                       gpointer               user_data)
{
  g_mutex_lock (&self->lock);
  self->pass_hook = hook;
  self->pass_hook_data = user_data;
  g_mutex_unlock (&self->lock);
}

void
ssq_server_checkpointer_stats (SsqServerCheckpointer *self,
                               SsqCheckpointStats    *out)
{
  g_mutex_lock (&self->lock);
  *out = self->stats;
  out->wal_frames = self->last_frames != G_MAXUINT ? self->last_frames : 0;
  g_mutex_unlock (&self->lock);
}
