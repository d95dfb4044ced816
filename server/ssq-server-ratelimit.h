/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-ratelimit.h: "N events per period" limits per key. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _SsqServerRatelimit SsqServerRatelimit;

SsqServerRatelimit *ssq_server_ratelimit_new   (guint               count,
                                                gint64              period_ms);
void                ssq_server_ratelimit_free  (SsqServerRatelimit *limit);
gboolean            ssq_server_ratelimit_check (SsqServerRatelimit *limit,
                                                const char         *key,
                                                gint64              now_ms,
                                                gint64             *out_retry_after_ms);
gboolean            ssq_server_ratelimit_take  (SsqServerRatelimit *limit,
                                                const char         *key,
                                                guint               n,
                                                gint64              now_ms,
                                                gint64             *out_retry_after_ms);
void                ssq_server_ratelimit_give_back (SsqServerRatelimit *limit,
                                                    const char         *key);
void                ssq_server_ratelimit_prune (SsqServerRatelimit *limit,
                                                gint64              now_ms);
guint               ssq_server_ratelimit_size  (SsqServerRatelimit *limit);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsqServerRatelimit, ssq_server_ratelimit_free)

G_END_DECLS
