/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-conversation-private.h: the fields of SsqConversation and SsqMember,
 * filled by the cache within the library. */
#pragma once

#include "ssq-conversation.h"

G_BEGIN_DECLS

struct _SsqMember
{
  GObject  parent_instance;
  char    *user_id;
  char    *username;
  char    *display_name;
  char    *role;
};

struct _SsqConversation
{
  GObject     parent_instance;
  char       *id;
  char       *kind;
  char       *title;          /* NULL for direct conversations */
  char       *display_title;  /* the title, or the peer's display name */
  char       *peer_id;        /* the other member of a direct conversation */
  GListStore *members;        /* SsqMember */
  gint64      last_seq;
  gint64      read_seq;
  gint64      unread;
  gboolean    muted;
  char       *role;
  gint64      created_at;
  gint64      last_activity;
  SsqMessage *last_message;
  char       *peer_presence;  /* the peer's presence when the snapshot was made */
};

SsqMember       *ssq_member_new       (const char *user_id,
                                       const char *username,
                                       const char *display_name,
                                       const char *role);
SsqConversation *ssq_conversation_new (void);
SsqConversation *ssq_conversation_copy (SsqConversation *self);

G_END_DECLS
