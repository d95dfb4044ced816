/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-invite-link.h: invite links, supersoniq://HOST:PORT/invite/TOKEN?fp=sha256:HEX,
 * made by the server and read by every client. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define SSQ_INVITE_SCHEME        "supersoniq"
#define SSQ_INVITE_LINK_MAX      1024   /* bytes of a link, at most */
#define SSQ_INVITE_TOKEN_MIN     16     /* base64url characters */
#define SSQ_INVITE_TOKEN_MAX     64
#define SSQ_FINGERPRINT_PREFIX   "sha256:"
#define SSQ_FINGERPRINT_HEX      64     /* a SHA-256 in hex */

typedef struct {
  char    *host;          /* a name or an address; IPv6 without brackets */
  guint16  port;
  char    *token;
  char    *fingerprint;   /* "sha256:" and 64 lower-case hex digits; NULL: no TLS */
} SsqInviteLink;

SsqInviteLink *ssq_invite_link_parse      (const char          *text,
                                           GError             **error);
void           ssq_invite_link_free       (SsqInviteLink       *link);
char          *ssq_invite_link_format     (const char          *host,
                                           guint16              port,
                                           const char          *token,
                                           const char          *fingerprint);
char          *ssq_invite_link_server_url (const SsqInviteLink *link);
gboolean       ssq_invite_link_check_token (const char         *token);
gboolean       ssq_invite_link_check_fingerprint (const char   *fingerprint);
char          *ssq_fingerprint_normalize         (const char   *fingerprint);
char          *ssq_invite_link_fingerprint_groups (const char  *fingerprint);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsqInviteLink, ssq_invite_link_free)

G_END_DECLS
