/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-lookup.h: finding the conversation a person named on a command line
 * (an id, a group title or a username), refusing a name that fits several. */
#pragma once

#include "ssq-cache.h"

G_BEGIN_DECLS

SsqConversation *ssq_lookup_conversation (SsqCache    *cache,
                                          const char  *name,
                                          GError     **error);

G_END_DECLS
