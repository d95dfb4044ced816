/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-auth.h: password hashing off the main loop, and bearer tokens. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define SSQ_TOKEN_BYTES      32
#define SSQ_TOKEN_HASH_BYTES 32

typedef struct _SsqServerAuth SsqServerAuth;

SsqServerAuth *ssq_server_auth_new            (guint64               opslimit,
                                               gsize                 memlimit,
                                               guint                 max_threads);
void           ssq_server_auth_free           (SsqServerAuth        *auth);

/* Argon2id in a worker thread; at most max_threads hashes run at once, the
 * rest wait their turn (client addresses, @owner, in turn), so a login
 * burst cannot eat all memory; a bounded number per address and in all:
 * past that refused (RATE_LIMITED, with a retry time). */
void           ssq_server_auth_hash_async     (SsqServerAuth        *auth,
                                               const char           *owner,
                                               const char           *password,
                                               GAsyncReadyCallback   callback,
                                               gpointer              user_data);
char          *ssq_server_auth_hash_finish    (SsqServerAuth        *auth,
                                               GAsyncResult         *result,
                                               GError              **error);
/* @pw_hash may be NULL (unknown user): a dummy hash is verified instead, so
 * that a wrong name costs as much time as a wrong password. */
void           ssq_server_auth_verify_async   (SsqServerAuth        *auth,
                                               const char           *owner,
                                               const char           *pw_hash,
                                               const char           *password,
                                               GAsyncReadyCallback   callback,
                                               gpointer              user_data);
gboolean       ssq_server_auth_check_room     (SsqServerAuth        *auth,
                                               const char           *owner,
                                               GError              **error);
void           ssq_server_auth_hold           (SsqServerAuth        *auth,
                                               gboolean              hold);
gboolean       ssq_server_auth_verify_finish  (SsqServerAuth        *auth,
                                               GAsyncResult         *result,
                                               gboolean             *out_needs_rehash,
                                               GError              **error);

char          *ssq_server_auth_new_token      (void);
gboolean       ssq_server_auth_token_hash     (const char           *token,
                                               guint8                out_hash[SSQ_TOKEN_HASH_BYTES]);

/* One-time password reset codes, issued by the administration. */
#define SSQ_RESET_CODE_VALID_MS (24 * 3600 * 1000LL)
char          *ssq_server_auth_new_reset_code (void);
gboolean       ssq_server_auth_reset_code_hash (const char          *code,
                                                guint8               out_hash[SSQ_TOKEN_HASH_BYTES]);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsqServerAuth, ssq_server_auth_free)

G_END_DECLS
