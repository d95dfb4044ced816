/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-throttle.h: exponential backoff after failures, per key, in a
 * table of bounded size (login attempts: keys are invented by clients). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _SsqServerThrottle SsqServerThrottle;

SsqServerThrottle *ssq_server_throttle_new      (guint               free_failures,
                                                 guint               ramp,
                                                 gint64              base_ms,
                                                 gint64              max_ms,
                                                 guint               max_entries);
void               ssq_server_throttle_free     (SsqServerThrottle  *throttle);
gboolean           ssq_server_throttle_check    (SsqServerThrottle  *throttle,
                                                 const char         *key,
                                                 gint64              now_ms,
                                                 gint64             *out_retry_after_ms);
guint              ssq_server_throttle_failures (SsqServerThrottle  *throttle,
                                                 const char         *key);
void               ssq_server_throttle_fail     (SsqServerThrottle  *throttle,
                                                 const char         *key,
                                                 gint64              now_ms);
void               ssq_server_throttle_unfail   (SsqServerThrottle  *throttle,
                                                 const char         *key);
void               ssq_server_throttle_forget   (SsqServerThrottle  *throttle,
                                                 const char         *key);
void               ssq_server_throttle_prune    (SsqServerThrottle  *throttle,
                                                 gint64              now_ms);
guint              ssq_server_throttle_size     (SsqServerThrottle  *throttle);

char              *ssq_server_throttle_address_key (const char      *peer);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsqServerThrottle, ssq_server_throttle_free)

G_END_DECLS
