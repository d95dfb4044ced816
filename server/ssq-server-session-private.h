/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-session-private.h: the session's fields, shared with the frame
 * handlers (ssq-server-frames.c), which run sync jobs on it. */
#pragma once

#include "ssq-server-session.h"

G_BEGIN_DECLS

struct _SsqServerSession {
  GObject      parent_instance;

  SsqServer   *server;       /* not owned: the server outlives sessions */
  SsqNetConn  *conn;
  char        *user_id;
  GBytes      *token_hash;   /* of the login it was opened with */
  char        *id;
  gboolean     open;
  gboolean     attached;
  gboolean     derive_notifications;
  guint        in_flight;    /* requests awaiting their reply */
  GQueue       sync_jobs;    /* owned by ssq-server-frames.c */
  guint        sync_source;
  SsqServerSessionQueues *queues;   /* ssq-server-frames-queues.c; NULL until used */
};

/* ssq-server-frames.c */
void ssq_server_frames_dispatch   (SsqServerSession *session,
                                   const char       *data,
                                   gsize             length);
void ssq_server_frames_cancel     (SsqServerSession *session);

G_END_DECLS
