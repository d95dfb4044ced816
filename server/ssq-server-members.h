/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-members.h: who belongs to which conversation, in memory.
 * Every message, marker, typing frame and history page needs its
 * conversation's members (and the sender's role); reading them from SQLite
 * each time cost more than the rest of the hot path. A conversation's entry
 * is read once, when first needed, and replaced by the code that changes
 * its membership, roles or mute flags with what the writer read inside that
 * change's commit. The rows
 * hold user_id, role and muted only: markers (read_seq, delivered_seq) move
 * with every receipt and are not kept here. Main thread only. */
#pragma once

#include "ssq-server-store.h"

G_BEGIN_DECLS

typedef struct _SsqServerMembers SsqServerMembers;

SsqServerMembers *ssq_server_members_new        (SsqServerStore   *store);
void              ssq_server_members_free       (SsqServerMembers *self);
GPtrArray        *ssq_server_members_list       (SsqServerMembers *self,
                                                 const char       *conversation_id,
                                                 GError          **error);
SsqMemberRow     *ssq_server_members_get        (SsqServerMembers *self,
                                                 const char       *conversation_id,
                                                 const char       *user_id,
                                                 GError          **error);
gboolean          ssq_server_members_conversation (SsqServerMembers *self,
                                                   const char       *conversation_id,
                                                   gboolean         *out_direct,
                                                   gint64           *out_last_seq,
                                                   GError          **error);
void              ssq_server_members_note_seq   (SsqServerMembers *self,
                                                 const char       *conversation_id,
                                                 gint64            seq);
void              ssq_server_members_install    (SsqServerMembers         *self,
                                                 const char               *conversation_id,
                                                 const SsqConversationRow *conv,
                                                 GPtrArray                *members);
void              ssq_server_members_forget     (SsqServerMembers *self,
                                                 const char       *conversation_id);
void              ssq_server_members_forget_all (SsqServerMembers *self);
guint64           ssq_server_members_n_reads    (SsqServerMembers *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsqServerMembers, ssq_server_members_free)

G_END_DECLS
