/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-test-admin.h: what the administration tests share. */
#pragma once

#include "ssq-test-raw.h"

G_BEGIN_DECLS

#define WAIT 5000

extern SsqTestServer *server;

int         run_admin_in       (const char  *data_dir,
                                char       **out,
                                char       **err,
                                ...);
/* `admin ARGS...` against the test's server. */
#define run_admin(out, err, ...) run_admin_in (server->data_dir, out, err, __VA_ARGS__, NULL)
JsonNode   *admin_json         (const char  *first,
                                ...);
JsonObject *user_row           (JsonNode    *list,
                                const char  *username);
guint       http_status        (const char  *method,
                                const char  *path,
                                const char  *token,
                                const char  *body);
SsqTestWs  *connect_ws         (const char  *token);
char       *login              (const char  *username,
                                const char  *password,
                                guint        expect_status,
                                const char  *expect_code);
void        assert_chat_served (SsqTestWs   *ws,
                                const char  *conv);

G_END_DECLS
