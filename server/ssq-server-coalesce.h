/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-coalesce.h: at most one relayed change per key and window, the
 * last state winning. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _SsqCoalesce SsqCoalesce;

typedef struct {
  /* Relays @state if it differs from what was last relayed; TRUE if it did. */
  gboolean (*relay) (gpointer state);
  /* TRUE while @state must be kept with nothing to relay (may be NULL). */
  gboolean (*busy)  (gpointer state);
  GDestroyNotify free;
} SsqCoalesceFuncs;

SsqCoalesce *ssq_coalesce_new     (const SsqCoalesceFuncs *funcs,
                                   guint                   window_ms);
void         ssq_coalesce_free    (SsqCoalesce            *self);
gpointer     ssq_coalesce_lookup  (SsqCoalesce            *self,
                                   const char             *key);
void         ssq_coalesce_insert  (SsqCoalesce            *self,
                                   const char             *key,
                                   gpointer                state);
void         ssq_coalesce_changed (SsqCoalesce            *self,
                                   const char             *key);
guint        ssq_coalesce_size    (SsqCoalesce            *self);
void         ssq_coalesce_foreach (SsqCoalesce            *self,
                                   GFunc                   func,
                                   gpointer                user_data);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsqCoalesce, ssq_coalesce_free)

G_END_DECLS
