/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-trust-prompt.h: trust on first use at a terminal, for the CLI and the
 * terminal client: a server's key settled before logging in or connecting. */
#pragma once

#include "ssq-client.h"

G_BEGIN_DECLS

gboolean ssq_trust_prompt_settle (SsqClient   *client,
                                  const char  *given,
                                  guint        timeout_s,
                                  GError     **error);

G_END_DECLS
