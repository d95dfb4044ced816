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
 * The log stays bounded even when this thread cannot keep up: past four
 * times the threshold, the writer waits for the pass under way or asked
 * for, and copies whatever is left itself. Not while a reader still needs
 * the frames (a backup, say): nothing can bound the log then, and once it
 * lets go this thread copies the backlog, not the writer. */
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
  guint           last_frames;   /* the log's length at the last commit */
  guint           copied;        /* frames of this generation in the database */
  gboolean        held;          /* a reader holds frames: forcing copies nothing */
  SsqCheckpointStats stats;
  PassHook        pass_hook;     /* tests: runs on the thread before each pass */
  gpointer        pass_hook_data;
};

/* Under lock: what the writer does at a commit that left the log
 * @wal_frames long. A pass runs only when the writer asks for one, and the
 * writer copies only when no pass runs or is asked for: the two never
 * meet (the loser would copy nothing, SQLITE_BUSY). */
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
      self->held = FALSE;
    }
  self->last_frames = wal_frames;
  self->stats.wal_frames = wal_frames;
  if (wal_frames < self->threshold || self->quit)
    return LEAVE;
  if (wal_frames >= self->threshold * BACKSTOP && !self->held)
    {
      /* The thread fell behind (the machine is busy): wait for its pass
       * rather than let the log grow on. */
      while (self->running || self->wanted)
        g_cond_wait (&self->cond, &self->lock);
      return FORCE;
    }
  if (self->running || self->wanted)
    return LEAVE;
  left = wal_frames - MIN (self->copied, wal_frames);
  if (left <= MAX (self->threshold / FINISH_PART, 2 * written))
    return FINISH;
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
  if (copied > self->copied)
    self->held = FALSE;
  self->copied = MAX (self->copied, copied);
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
      self->stats.finish_max = MAX (self->stats.finish_max, copied - MIN (before, copied));
    }
  else
    {
      self->stats.forced++;
      self->stats.forced_max = MAX (self->stats.forced_max, copied - MIN (before, copied));
      /* Nothing more copied: a reader holds the rest. Forcing again at
       * every commit would only copy the whole backlog here once it lets
       * go; until a pass gets further, passes are asked for instead. */
      if (copied <= before)
        self->held = TRUE;
    }
  note_copied (self, copied);
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
      PassHook hook;

      while (!self->wanted && !self->quit)
        g_cond_wait (&self->cond, &self->lock);
      if (self->quit)
        break;
      self->wanted = FALSE;
      self->running = TRUE;
      generation = self->generation;
      hook = self->pass_hook;
      g_mutex_unlock (&self->lock);

      if (hook != NULL)
        hook (self->pass_hook_data);
      if (!ssq_server_store_checkpoint (self->store, &log, &copied, &error))
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
  SsqServerStore *store = ssq_server_store_open_another (path, durable, error);
  guint log = 0, copied = 0;

  if (store == NULL)
    return NULL;
  self = g_new0 (SsqServerCheckpointer, 1);
  self->store = store;
  self->threshold = MAX (threshold, 1);
  /* A log a crash left: copied now, before any client. The writer's first
   * commit would otherwise take it all for its own and copy it itself.
   * Not fatal: the thread tries again once the log is long. */
  if (!ssq_server_store_checkpoint (store, &log, &copied, &local_error))
    {
      g_warning ("Checkpoint at start failed: %s", local_error->message);
      log = G_MAXUINT;
    }
  self->last_frames = log;
  self->copied = copied;
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
  g_mutex_unlock (&self->lock);
}
