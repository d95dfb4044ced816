/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-tui-save.h: /save's last step: a copy of a downloaded file into a
 * folder, under a name no file there has (never over one), made off the
 * main loop so that the terminal stays live while a large file copies. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

char *ssq_tui_save_name        (const char          *server_name);
void  ssq_tui_save_copy_async  (GFile               *source,
                                const char          *dir,
                                const char          *name,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data);
char *ssq_tui_save_copy_finish (GAsyncResult        *result,
                                GError             **error);

G_END_DECLS
