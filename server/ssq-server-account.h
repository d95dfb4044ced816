/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-account.h: changes of a whole account shared by the REST
 * routes and the administration, so that both follow the same rules. */
#pragma once

#include "ssq-server-chat.h"

G_BEGIN_DECLS

void ssq_server_account_delete (SsqServer      *server,
                                const char     *user_id,
                                SsqChatDone     done,
                                gpointer        user_data,
                                GDestroyNotify  user_data_free);

G_END_DECLS
