/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-net-loop.h: one epoll instance inside the GLib main loop, with a timer
 * wheel and a list of work deferred to the end of each loop iteration. */
#pragma once

#include <gio/gio.h>
#include <sys/epoll.h>

G_BEGIN_DECLS

typedef struct _SsqNetLoop SsqNetLoop;

/* A descriptor on the loop. Embedded in its owner; the owner gets itself
 * back with G_STRUCT_MEMBER_P / container arithmetic. */
typedef struct _SsqNetWatch SsqNetWatch;
typedef void (*SsqNetWatchFunc) (SsqNetWatch *watch,
                                 guint32      events);
struct _SsqNetWatch {
  SsqNetWatchFunc func;
  int             fd;
  guint32         events;     /* EPOLL* currently asked for */
  GList           backlog_link;   /* events polled, not yet handled */
  guint32         backlog_events; /* 0: not in the backlog */
};

/* A deadline on the wheel (quarter-second resolution). */
typedef struct _SsqNetTimer SsqNetTimer;
typedef void (*SsqNetTimerFunc) (SsqNetTimer *timer);
struct _SsqNetTimer {
  GList           link;       /* in its wheel slot; data points to the timer */
  SsqNetTimerFunc func;
  gint64          deadline;   /* monotonic ms; 0 = not armed */
  guint           slot;
};

/* Work run once at the end of the loop iteration that asked for it. */
typedef struct _SsqNetDeferred SsqNetDeferred;
typedef void (*SsqNetDeferredFunc) (SsqNetDeferred *deferred);
struct _SsqNetDeferred {
  GList              link;
  SsqNetDeferredFunc func;
  gboolean           queued;
};

SsqNetLoop *ssq_net_loop_new          (GError        **error);
void        ssq_net_loop_free         (SsqNetLoop     *loop);
void        ssq_net_loop_take_max_busy    (SsqNetLoop *loop,
                                           gint64     *wall_us,
                                           gint64     *cpu_us);
gboolean    ssq_net_loop_others_ready (SsqNetLoop    *loop);
gboolean    ssq_net_loop_add          (SsqNetLoop     *loop,
                                       SsqNetWatch    *watch,
                                       guint32         events,
                                       GError        **error);
void        ssq_net_loop_modify       (SsqNetLoop     *loop,
                                       SsqNetWatch    *watch,
                                       guint32         events);
void        ssq_net_loop_remove       (SsqNetLoop     *loop,
                                       SsqNetWatch    *watch);
void        ssq_net_loop_timer_set    (SsqNetLoop     *loop,
                                       SsqNetTimer    *timer,
                                       gint64          deadline_ms);
void        ssq_net_loop_timer_clear  (SsqNetLoop     *loop,
                                       SsqNetTimer    *timer);
void        ssq_net_loop_defer        (SsqNetLoop     *loop,
                                       SsqNetDeferred *deferred);
void        ssq_net_loop_cancel       (SsqNetLoop     *loop,
                                       SsqNetDeferred *deferred);
gint64      ssq_net_now_ms            (void);

G_END_DECLS
