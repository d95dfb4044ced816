/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-net-loop.c: every connection's descriptor lives in one epoll instance,
 * and the GLib main loop polls only that one descriptor, so a wake-up costs
 * the same with ten connections or a hundred thousand. Timeouts of all
 * connections share one wheel ticked by one GLib timer, instead of a GSource
 * each. Deferred work (a connection's writev) runs after the events of an
 * iteration, so every frame queued to a session in that iteration leaves in
 * one system call. */
#include "ssq-net-loop.h"

#include <errno.h>
#include <glib-unix.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#define MAX_EVENTS     512
#define WHEEL_SLOTS    256
#define WHEEL_TICK_MS  250

/* The loop source's share of one main-loop iteration: events are handled
 * until EVENTS_SLICE_US has passed, deferred writes until SLICE_US; what is
 * left waits for the next iteration, first in line. Other sources (the
 * writer's completions) get their turn in between, and no iteration holds a
 * ping for more than about two slices. */
#define EVENTS_SLICE_US 600
#define SLICE_US        1000

typedef struct {
  GSource     source;
  SsqNetLoop *loop;
} LoopSource;

struct _SsqNetLoop {
  int          epfd;
  LoopSource  *source;
  gpointer     fd_tag;
  GQueue       deferred;
  GQueue       backlog;      /* SsqNetWatch polled but not handled yet */
  GQueue       wheel[WHEEL_SLOTS];
  guint        n_timers;
  guint        tick_id;
  gint64       wheel_time;   /* ms of the slot last processed */
  gint64       woke_us;      /* when the last poll returned (0: not yet) */
  gint64       max_busy_us;  /* longest iteration since last taken */
  gint64       max_cpu_us;   /* the most CPU time one iteration took */
  guint        events_left;  /* polled this dispatch, after the one running */

  /* SSQ_DEBUG_STALL_US: iterations longer than this are logged with what
   * ran in them (0: off). What the loop source did is counted here; the
   * rest of the iteration is other sources (the writer's completions, the
   * wheel's tick). */
  gint64       stall_us;
  guint        it_events;    /* epoll events handled this iteration */
  guint        it_deferred;  /* deferred runs (writevs) this iteration */
  gint64       it_events_us;
  gint64       it_deferred_us;
  gint64       it_cpu_us;    /* the thread's CPU time when the poll returned */
};

/* The main thread's CPU time: an iteration far longer in wall time than in
 * CPU time was preempted (other processes), not busy. */
static gint64
thread_cpu_us (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return (gint64) ts.tv_sec * G_USEC_PER_SEC + ts.tv_nsec / 1000;
}

gint64
ssq_net_now_ms (void)
{
  return g_get_monotonic_time () / 1000;
}

/* Runs deferred work until @deadline_us (at least one item). */
static void
run_deferred (SsqNetLoop *loop,
              gint64      deadline_us)
{
  GList *link;

  while ((link = g_queue_pop_head_link (&loop->deferred)) != NULL)
    {
      SsqNetDeferred *d = link->data;

      d->queued = FALSE;
      d->func (d);
      loop->it_deferred++;
      if (g_get_monotonic_time () >= deadline_us)
        break;
    }
}

/* Keeps @events of @watch for a later iteration (level-triggered epoll
 * would report them again, but in the same order: the connections at the
 * end of a long list would wait behind the same first ones every time). */
static void
backlog_push (SsqNetLoop  *loop,
              SsqNetWatch *watch,
              guint32      events)
{
  if (watch->backlog_events == 0)
    {
      watch->backlog_link.data = watch;
      g_queue_push_tail_link (&loop->backlog, &watch->backlog_link);
    }
  watch->backlog_events |= events;
}

static void
backlog_drop (SsqNetLoop  *loop,
              SsqNetWatch *watch)
{
  if (watch->backlog_events == 0)
    return;
  g_queue_unlink (&loop->backlog, &watch->backlog_link);
  watch->backlog_events = 0;
}

/* Handles the backlog, oldest first, until @deadline_us. */
static void
run_backlog (SsqNetLoop *loop,
             gint64      deadline_us)
{
  GList *link;

  while ((link = g_queue_pop_head_link (&loop->backlog)) != NULL)
    {
      SsqNetWatch *watch = link->data;
      guint32 events = watch->backlog_events;

      watch->backlog_events = 0;
      watch->func (watch, events);
      loop->it_events++;
      if (g_get_monotonic_time () >= deadline_us)
        break;
    }
}

static gboolean
source_prepare (GSource *source,
                gint    *timeout)
{
  SsqNetLoop *loop = ((LoopSource *) source)->loop;

  /* Prepare runs just before the context polls, check just after: the
   * time between them is one iteration's work, every source's, which is
   * how long a ping could wait for an answer. */
  if (loop->woke_us != 0)
    {
      gint64 busy = g_get_monotonic_time () - loop->woke_us;
      gint64 cpu = thread_cpu_us () - loop->it_cpu_us;

      loop->max_busy_us = MAX (loop->max_busy_us, busy);
      loop->max_cpu_us = MAX (loop->max_cpu_us, cpu);
      loop->woke_us = 0;
      if (loop->stall_us > 0 && busy > loop->stall_us)
        g_message ("Stall: iteration of %" G_GINT64_FORMAT " µs (CPU %" G_GINT64_FORMAT
                   " µs): %u events in %" G_GINT64_FORMAT
                   " µs, %u deferred in %" G_GINT64_FORMAT " µs, other sources %" G_GINT64_FORMAT
                   " µs", busy, cpu, loop->it_events, loop->it_events_us, loop->it_deferred,
                   loop->it_deferred_us, busy - loop->it_events_us - loop->it_deferred_us);
    }
  *timeout = -1;
  if (!g_queue_is_empty (&loop->deferred) || !g_queue_is_empty (&loop->backlog))
    {
      *timeout = 0;
      return TRUE;
    }
  return FALSE;
}

static gboolean
source_check (GSource *source)
{
  SsqNetLoop *loop = ((LoopSource *) source)->loop;

  loop->woke_us = g_get_monotonic_time ();
  loop->it_cpu_us = thread_cpu_us ();
  loop->it_events = loop->it_deferred = 0;
  loop->it_events_us = loop->it_deferred_us = 0;
  return !g_queue_is_empty (&loop->deferred) || !g_queue_is_empty (&loop->backlog) ||
         (g_source_query_unix_fd (source, loop->fd_tag) & G_IO_IN) != 0;
}

static gboolean
source_dispatch (GSource     *source,
                 GSourceFunc  callback,
                 gpointer     user_data)
{
  SsqNetLoop *loop = ((LoopSource *) source)->loop;
  struct epoll_event events[MAX_EVENTS];
  gint64 start = g_get_monotonic_time (), t1;
  int n = 0;

  /* What an earlier iteration polled goes first; only then is there a new
   * poll. Level-triggered: whatever is left after MAX_EVENTS comes next
   * time. */
  run_backlog (loop, start + EVENTS_SLICE_US);
  if (g_queue_is_empty (&loop->backlog))
    n = epoll_wait (loop->epfd, events, MAX_EVENTS, 0);
  for (int i = 0; i < n; i++)
    {
      SsqNetWatch *watch = events[i].data.ptr;

      if (g_get_monotonic_time () >= start + EVENTS_SLICE_US)
        {
          backlog_push (loop, watch, events[i].events);
          continue;
        }
      loop->events_left = (guint) (n - i - 1);
      watch->func (watch, events[i].events);
      loop->it_events++;
    }
  loop->events_left = 0;
  t1 = g_get_monotonic_time ();
  run_deferred (loop, start + SLICE_US);
  if (loop->stall_us > 0)
    {
      loop->it_events_us += t1 - start;
      loop->it_deferred_us += g_get_monotonic_time () - t1;
    }
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs loop_source_funcs = {
  source_prepare, source_check, source_dispatch, NULL, NULL, NULL,
};

SsqNetLoop *
ssq_net_loop_new (GError **error)
{
  SsqNetLoop *loop;
  int epfd = epoll_create1 (EPOLL_CLOEXEC);

  if (epfd < 0)
    {
      int errsv = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv), "epoll_create1: %s",
                   g_strerror (errsv));
      return NULL;
    }
  loop = g_new0 (SsqNetLoop, 1);
  loop->epfd = epfd;
  loop->stall_us = g_ascii_strtoll (g_getenv ("SSQ_DEBUG_STALL_US") ?: "0", NULL, 10);
  g_queue_init (&loop->deferred);
  g_queue_init (&loop->backlog);
  for (guint i = 0; i < WHEEL_SLOTS; i++)
    g_queue_init (&loop->wheel[i]);
  loop->wheel_time = ssq_net_now_ms ();
  loop->source = (LoopSource *) g_source_new (&loop_source_funcs, sizeof (LoopSource));
  loop->source->loop = loop;
  g_source_set_name ((GSource *) loop->source, "ssq-net-loop");
  /* GLib blocks a source that cannot recurse for the time of its dispatch,
   * and blocking or unblocking a source with a descriptor writes to the
   * context's wake-up eventfd: two writes, and a read plus an extra poll
   * on the next iteration, for every iteration of the server. Nothing
   * here iterates the main context from inside a dispatch, so recursion
   * cannot happen, and letting it costs nothing. */
  g_source_set_can_recurse ((GSource *) loop->source, TRUE);
  loop->fd_tag = g_source_add_unix_fd ((GSource *) loop->source, epfd, G_IO_IN);
  g_source_attach ((GSource *) loop->source, NULL);
  return loop;
}

void
ssq_net_loop_free (SsqNetLoop *loop)
{
  if (loop == NULL)
    return;
  g_clear_handle_id (&loop->tick_id, g_source_remove);
  g_source_destroy ((GSource *) loop->source);
  g_source_unref ((GSource *) loop->source);
  close (loop->epfd);
  g_free (loop);
}

gboolean
ssq_net_loop_add (SsqNetLoop   *loop,
                  SsqNetWatch  *watch,
                  guint32       events,
                  GError      **error)
{
  struct epoll_event ev = { .events = events, .data.ptr = watch };

  if (epoll_ctl (loop->epfd, EPOLL_CTL_ADD, watch->fd, &ev) != 0)
    {
      int errsv = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv), "epoll_ctl: %s",
                   g_strerror (errsv));
      return FALSE;
    }
  watch->events = events;
  return TRUE;
}

void
ssq_net_loop_modify (SsqNetLoop  *loop,
                     SsqNetWatch *watch,
                     guint32      events)
{
  struct epoll_event ev = { .events = events, .data.ptr = watch };

  if (watch->events == events || watch->fd < 0)
    return;
  if (epoll_ctl (loop->epfd, EPOLL_CTL_MOD, watch->fd, &ev) == 0)
    watch->events = events;
}

void
ssq_net_loop_remove (SsqNetLoop  *loop,
                     SsqNetWatch *watch)
{
  if (watch->fd >= 0)
    epoll_ctl (loop->epfd, EPOLL_CTL_DEL, watch->fd, NULL);
  watch->events = 0;
  backlog_drop (loop, watch);
}

/* The longest main-loop iteration (poll to poll, all sources) since the
 * last call, in microseconds of wall time, and the most CPU time one
 * iteration took; starts measuring afresh. On a machine with more runnable
 * threads than cores the first includes time the thread was preempted:
 * the second is the loop's own work. */
void
ssq_net_loop_take_max_busy (SsqNetLoop *loop,
                            gint64     *wall_us,
                            gint64     *cpu_us)
{
  *wall_us = loop->max_busy_us;
  *cpu_us = loop->max_cpu_us;
  loop->max_busy_us = 0;
  loop->max_cpu_us = 0;
}

/* Whether other descriptors wait to be served, polled already, while one
 * is being handled: work that can go elsewhere had better go. */
gboolean
ssq_net_loop_others_ready (SsqNetLoop *loop)
{
  return loop->events_left > 0 || !g_queue_is_empty (&loop->backlog);
}

/* ---- Deferred work ---------------------------------------------------- */

void
ssq_net_loop_defer (SsqNetLoop     *loop,
                    SsqNetDeferred *deferred)
{
  if (deferred->queued)
    return;
  deferred->queued = TRUE;
  deferred->link.data = deferred;
  g_queue_push_tail_link (&loop->deferred, &deferred->link);
}

void
ssq_net_loop_cancel (SsqNetLoop     *loop,
                     SsqNetDeferred *deferred)
{
  if (!deferred->queued)
    return;
  g_queue_unlink (&loop->deferred, &deferred->link);
  deferred->queued = FALSE;
}

/* ---- Timer wheel ------------------------------------------------------ */

/* A deadline goes into the slot of the first tick at or after it, so that
 * when its slot comes round the deadline has passed. */
static guint
slot_of (gint64 ms)
{
  return (guint) (((ms + WHEEL_TICK_MS - 1) / WHEEL_TICK_MS) % WHEEL_SLOTS);
}

static gboolean
tick_cb (gpointer data)
{
  SsqNetLoop *loop = data;
  gint64 now = ssq_net_now_ms ();

  /* Walk every slot whose tick has come since the last call (a whole turn
   * at most); wheel_time is the next tick to process. */
  for (guint steps = 0; loop->wheel_time <= now && steps < WHEEL_SLOTS; steps++)
    {
      GQueue *slot = &loop->wheel[slot_of (loop->wheel_time)];
      GQueue due = G_QUEUE_INIT;
      GList *link = slot->head;

      /* Collect first: a callback may re-arm or clear any timer. */
      while (link != NULL)
        {
          GList *next = link->next;
          SsqNetTimer *t = link->data;

          if (t->deadline <= now)
            {
              g_queue_unlink (slot, link);
              g_queue_push_tail_link (&due, link);
              t->deadline = 0;
              loop->n_timers--;
            }
          link = next;
        }
      /* Move on before the callbacks: a timer they re-arm must land in a
       * slot still ahead, not in this one, already walked, which would
       * hold it for a whole turn of the wheel. */
      loop->wheel_time += WHEEL_TICK_MS;
      while ((link = g_queue_pop_head_link (&due)) != NULL)
        ((SsqNetTimer *) link->data)->func (link->data);
    }
  if (loop->wheel_time <= now)
    loop->wheel_time = now - now % WHEEL_TICK_MS + WHEEL_TICK_MS;
  if (loop->n_timers == 0)
    {
      loop->tick_id = 0;
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

void
ssq_net_loop_timer_clear (SsqNetLoop  *loop,
                          SsqNetTimer *timer)
{
  if (timer->deadline == 0)
    return;
  g_queue_unlink (&loop->wheel[timer->slot], &timer->link);
  timer->deadline = 0;
  loop->n_timers--;
}

/* Arms @timer for @deadline_ms (monotonic ms), moving it if armed. A
 * deadline more than a turn of the wheel away waits in its slot for later
 * turns: the tick only fires timers whose deadline has passed. */
void
ssq_net_loop_timer_set (SsqNetLoop  *loop,
                        SsqNetTimer *timer,
                        gint64       deadline_ms)
{
  ssq_net_loop_timer_clear (loop, timer);
  if (deadline_ms <= 0)
    return;
  if (loop->tick_id == 0)
    {
      gint64 now = ssq_net_now_ms ();

      loop->wheel_time = now - now % WHEEL_TICK_MS + WHEEL_TICK_MS;
      loop->tick_id = g_timeout_add (WHEEL_TICK_MS, tick_cb, loop);
    }
  timer->deadline = deadline_ms;
  timer->slot = slot_of (MAX (deadline_ms, loop->wheel_time));
  timer->link.data = timer;
  g_queue_push_tail_link (&loop->wheel[timer->slot], &timer->link);
  loop->n_timers++;
}
