/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-test-client.h: an SsqClient for tests, with its own temporary data
 * directory, a record of the signals it emitted, and waits on its state. */
#pragma once

#include "ssq-client.h"
#include "ssq-test-server.h"

G_BEGIN_DECLS

/* How long a test waits for anything a client does. */
#define SSQ_TEST_CLIENT_WAIT_MS 10000

typedef struct {
  SsqClient *client;
  char      *dir;
  GPtrArray *errors;        /* GError */
  GPtrArray *typing;        /* "conversation:user:active" */
  GPtrArray *presence;      /* "user:status" */
  guint      synced;
  guint      notifications;
  GPtrArray *notes;         /* "conversation:seq:reason" */
} SsqTestClient;

/* A client of @url (not yet connected) in @dir, or in a new temporary
 * directory if @dir is NULL. */
SsqTestClient   *ssq_test_client_new             (const char *url,
                                                  const char *dir);
/* Drops the client object (as a quitting program would) but keeps its
 * directory, unless @remove. */
void             ssq_test_client_free_full       (SsqTestClient *tc,
                                                  gboolean       remove);
void             ssq_test_client_free            (SsqTestClient *tc);

/* A new user @username (password "password123") registered through a new
 * client, which is then online and synced. */
SsqTestClient   *ssq_test_client_new_registered  (SsqTestServer *server,
                                                  const char    *username);
/* Logs @tc in as @username (password "password123"), without connecting. */
void             ssq_test_client_log_in          (SsqTestClient *tc,
                                                  const char    *username);
/* Connects @tc and waits until it has synced. */
void             ssq_test_client_go_online       (SsqTestClient *tc);

/* An async call's result (see ssq_test_store_result ()), waiting up to
 * SSQ_TEST_CLIENT_WAIT_MS. */
GAsyncResult    *ssq_test_client_wait_result     (GAsyncResult **slot);

SsqConversation *ssq_test_client_create_direct   (SsqTestClient *tc,
                                                  const char    *username);
SsqConversation *ssq_test_client_create_group    (SsqTestClient     *tc,
                                                  const char        *title,
                                                  const char *const *members);
/* Queues @body; the message is pending until the server acknowledges it. */
void             ssq_test_client_send_text       (SsqTestClient *tc,
                                                  const char    *conversation_id,
                                                  const char    *body);

/* Whether (or waits until) message @seq of @conversation_id is in @tc's
 * cache, with @status where one is given. */
void             ssq_test_client_wait_for_seq    (SsqTestClient *tc,
                                                  const char    *conversation_id,
                                                  gint64         seq);
gboolean         ssq_test_client_has_status      (SsqTestClient    *tc,
                                                  const char       *conversation_id,
                                                  gint64            seq,
                                                  SsqMessageStatus  status);
void             ssq_test_client_wait_for_status (SsqTestClient    *tc,
                                                  const char       *conversation_id,
                                                  gint64            seq,
                                                  SsqMessageStatus  status);
/* Waits until @tc has reported at least @n errors. */
void             ssq_test_client_wait_for_errors (SsqTestClient *tc,
                                                  guint          n);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsqTestClient, ssq_test_client_free)

/* Fake servers in the test process, and a full disk under a client. */
char            *ssq_test_fake_server_url        (SoupServer    *fake);
JsonObject      *ssq_test_frame_of_type          (GBytes        *message,
                                                  const char    *type);
void             ssq_test_client_fill_disk       (SsqTestClient *tc);

G_END_DECLS
