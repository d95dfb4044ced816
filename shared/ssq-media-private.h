/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-media-private.h: what the library sets on media snapshots as it makes
 * them. */
#pragma once

#include "ssq-media.h"

G_BEGIN_DECLS

void  ssq_media_set_local_file  (SsqMedia *self,
                                GFile    *file,
                                guint     slot);
guint ssq_media_get_outbox_slot (SsqMedia *self);

G_END_DECLS
