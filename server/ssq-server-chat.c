/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-chat.c: the rules of messages and read markers. Each operation
 * checks state (membership), then shape, then content, and fails early with
 * one SSQ_ERROR code. Messages and markers are written through the group
 * commit; their callers learn the outcome only once it is durable. */
#include "ssq-server-chat.h"
#include "ssq-server-hub.h"

#include <string.h>

void
ssq_send_request_clear (SsqSendRequest *request)
{
  g_clear_pointer (&request->conversation_id, g_free);
  g_clear_pointer (&request->client_id, g_free);
  g_clear_pointer (&request->body, g_free);
  g_clear_pointer (&request->media_ids, g_strfreev);
}

/* The media ids of a send: strings, each once. Whether they exist and may
 * be attached is the store's to say. */
static gboolean
parse_media_ids (JsonArray   *media,
                 char      ***out_ids,
                 GError     **error)
{
  guint n = media != NULL ? json_array_get_length (media) : 0;
  g_autoptr(GStrvBuilder) builder = NULL;

  *out_ids = NULL;
  if (n == 0)
    return TRUE;
  builder = g_strv_builder_new ();
  for (guint i = 0; i < n; i++)
    {
      JsonNode *node = json_array_get_element (media, i);
      const char *id = JSON_NODE_HOLDS_VALUE (node) &&
                       json_node_get_value_type (node) == G_TYPE_STRING
                         ? json_node_get_string (node) : NULL;

      if (id == NULL || id[0] == '\0' || strlen (id) > 64)
        {
          g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_INVALID,
                               "\"media\" must be an array of media ids");
          return FALSE;
        }
      for (guint j = 0; j < i; j++)
        if (g_strcmp0 (json_array_get_string_element (media, j), id) == 0)
          {
            g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_INVALID,
                                 "\"media\" names the same media twice");
            return FALSE;
          }
      g_strv_builder_add (builder, id);
    }
  *out_ids = g_strv_builder_end (builder);
  return TRUE;
}

/**
 * ssq_server_chat_charge:
 * Counts one change that every member hears of (a message, an edit, a
 * deletion, a rename, a member added or removed) against the user's
 * messages_per_minute, or fails with SSQ_ERROR_RATE_LIMITED: what one user
 * can make the server relay to a group is bounded by that one budget.
 */
gboolean
ssq_server_chat_charge (SsqServer   *server,
                        const char  *user_id,
                        GError     **error)
{
  gint64 retry;

  if (ssq_server_ratelimit_take (server->rl_messages, user_id, 1, ssq_now_ms (), &retry))
    return TRUE;
  ssq_set_rate_limited (error, retry);
  return FALSE;
}

SsqMemberRow *
ssq_server_chat_require_member (SsqServer   *server,
                                const char  *conversation_id,
                                const char  *user_id,
                                GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  SsqMemberRow *m;

  if (conversation_id == NULL)
    {
      g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_INVALID, "Missing field \"conversation_id\"");
      return NULL;
    }
  m = ssq_server_members_get (server->members, conversation_id, user_id, &local_error);
  if (m == NULL)
    {
      if (local_error != NULL)
        g_propagate_error (error, g_steal_pointer (&local_error));
      else
        g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_NOT_FOUND, "No such conversation");
    }
  return m;
}

gboolean
ssq_server_chat_parse_send (JsonObject      *request,
                            SsqSendRequest  *out,
                            GError         **error)
{
  SsqWireSend send;

  if (!ssq_wire_send_decode (request, &send, error))
    return FALSE;
  /* A message carrying media may be without text: a picture alone. */
  if (!ssq_check_text ("client_id", send.client_id, 1, SSQ_CLIENT_ID_MAX, error) ||
      !parse_media_ids (send.media, &out->media_ids, error) ||
      !ssq_check_text ("body", send.body, out->media_ids != NULL ? 0 : 1, SSQ_BODY_MAX, error))
    {
      g_clear_pointer (&out->media_ids, g_strfreev);
      return FALSE;
    }
  out->conversation_id = g_strdup (send.conversation_id);
  out->client_id = g_strdup (send.client_id);
  out->body = g_strdup (send.body);
  out->reply_to = send.reply_to;
  return TRUE;
}

typedef struct {
  SsqServer       *server;
  char            *user_id;
  SsqSendRequest   request;
  SsqMessageRow   *draft;         /* made on the main thread; the writer adds seq and json */
  SsqMessageRow   *message;       /* the draft stored, or the original of a resend */
  gboolean         duplicate;
  gint64           retry_after;   /* > 0: over the rate limit, only a resend passes */
  SsqChatSendDone  done;
  gpointer         user_data;
  GDestroyNotify   user_data_free;
} SendOp;

static void
send_op_free (SendOp *op)
{
  if (op->user_data_free != NULL)
    op->user_data_free (op->user_data);
  ssq_send_request_clear (&op->request);
  if (op->message != op->draft)
    g_clear_pointer (&op->message, ssq_message_row_free);
  g_clear_pointer (&op->draft, ssq_message_row_free);
  g_free (op->user_id);
  g_object_unref (op->server);
  g_free (op);
}

/* A resend of a client_id stored since the request was checked (earlier in
 * this batch, say): the original message, or FALSE with @error. */
static gboolean
send_op_find_duplicate (SendOp          *op,
                        SsqServerStore  *store,
                        GError         **error)
{
  g_autoptr(GError) conflict = g_steal_pointer (error);

  op->message = ssq_server_store_message_by_client_id (store, op->request.conversation_id,
                                                       op->user_id, op->request.client_id,
                                                       error);
  if (op->message == NULL)
    {
      if (*error == NULL)
        g_propagate_error (error, g_steal_pointer (&conflict));
      return FALSE;
    }
  op->duplicate = TRUE;
  return TRUE;
}

/* Writer thread, inside the batch transaction. One statement in the
 * common case, the row: the counter and the sender's marks are held back
 * to the batch's end (ssq-server-store-deferred.c). State may have changed
 * since the request was checked: a removal makes the marks find no member
 * row (and the op fail, undone alone), a resent client_id makes the insert
 * conflict. May run twice (see the writer): starts afresh.
 *
 * The draft was allocated on the main thread, which frees it: memory
 * allocated here and freed there takes this thread's malloc arena lock
 * from the main thread, and the two threads then wait on each other. */
static gboolean
send_op_run (SsqServerStore  *store,
             gpointer         data,
             GError         **error)
{
  SendOp *op = data;
  GError *local_error = NULL;

  if (op->message != op->draft)
    g_clear_pointer (&op->message, ssq_message_row_free);
  op->message = NULL;
  op->duplicate = FALSE;
  /* Stamped here, in commit order, as the other writes of the batch. */
  op->draft->created_at = ssq_now_ms ();
  g_clear_pointer (&op->draft->media, json_array_unref);
  if (op->retry_after > 0)
    {
      /* Not a failure of the batch: send_op_done refuses it. */
      op->message = ssq_server_store_message_by_client_id (store, op->request.conversation_id,
                                                           op->user_id, op->request.client_id,
                                                           &local_error);
      op->duplicate = op->message != NULL;
      if (local_error == NULL)
        return TRUE;
      g_propagate_error (error, local_error);
      return FALSE;
    }
  if (!ssq_server_store_message_append (store, op->draft, &local_error))
    {
      if (g_error_matches (local_error, SSQ_ERROR, SSQ_ERROR_CONFLICT) &&
          send_op_find_duplicate (op, store, &local_error))
        return TRUE;
      g_propagate_error (error, local_error);
      return FALSE;
    }
  /* Checked again here: an upload may have expired since. */
  if (!ssq_server_store_message_attach_media (store, op->draft,
                                              (const char *const *) op->request.media_ids, error))
    return FALSE;
  /* Writing a message means having read everything before it; and only a
   * member may (checked here, or by the flush of a deferring batch). */
  if (!ssq_server_store_member_mark_sent (store, op->draft->conversation_id, op->user_id,
                                          op->draft->seq, error))
    return FALSE;
  op->message = op->draft;
  return TRUE;
}

/* Main thread: the message as the writer will store it, but for its seq
 * and time. */
static SsqMessageRow *
send_op_draft (SendOp *op)
{
  SsqMessageRow *m = g_new0 (SsqMessageRow, 1);

  m->id = ssq_server_store_new_message_id ();
  m->conversation_id = g_strdup (op->request.conversation_id);
  m->sender = g_strdup (op->user_id);
  m->client_id = g_strdup (op->request.client_id);
  m->body = g_steal_pointer (&op->request.body);
  m->reply_to = op->request.reply_to;
  return m;
}

static void
send_op_done (gpointer      data,
              const GError *error)
{
  SendOp *op = data;
  SsqServer *server = op->server;

  if (error != NULL)
    {
      op->done (server, NULL, FALSE, error, op->user_data);
      return;
    }
  if (op->retry_after > 0 && !op->duplicate)
    {
      g_autoptr(GError) limited = NULL;

      ssq_set_rate_limited (&limited, op->retry_after);
      op->done (server, NULL, FALSE, limited, op->user_data);
      return;
    }
  if (op->duplicate && op->retry_after == 0)
    ssq_server_ratelimit_give_back (server->rl_messages, op->user_id);
  if (!op->duplicate)
    {
      server->metrics.messages_stored_total++;
      ssq_server_members_note_seq (server->members, op->message->conversation_id,
                                   op->message->seq);
    }
  op->done (server, op->message, op->duplicate, NULL, op->user_data);
  if (!op->duplicate)
    {
      ssq_server_hub_typing (server->hub, op->message->conversation_id, op->user_id, FALSE);
      ssq_server_chat_emit_message (server, op->message, TRUE);
    }
}

/**
 * ssq_server_chat_send:
 * Stores a message and calls @done once it is durable (or refused). A resend
 * of a stored client_id gets the original message; it neither stores nor
 * counts against the rate limit. Takes @request's fields.
 *
 * Nothing here reads SQLite: membership and the conversation's last seq are
 * in memory, and a resend is found by the writer (the insert conflicts on
 * the unique client_id index), which then gives the charge back. A sender
 * over the limit may still resend: the writer then only looks the
 * client_id up, and refuses the send if it is new.
 */
void
ssq_server_chat_send (SsqServer       *server,
                      const char      *user_id,
                      SsqSendRequest  *request,
                      SsqChatSendDone  done,
                      gpointer         user_data,
                      GDestroyNotify   user_data_free)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SsqMemberRow) member = NULL;
  gint64 last_seq = 0;
  SendOp *op = g_new0 (SendOp, 1);

  op->server = g_object_ref (server);
  op->user_id = g_strdup (user_id);
  op->request = *request;
  memset (request, 0, sizeof *request);
  op->done = done;
  op->user_data = user_data;
  op->user_data_free = user_data_free;

  if (op->request.media_ids != NULL && !server->config->features_media)
    {
      g_set_error_literal (&error, SSQ_ERROR, SSQ_ERROR_FEATURE_DISABLED,
                           "Media are switched off on this server");
      goto fail;
    }
  member = ssq_server_chat_require_member (server, op->request.conversation_id, user_id, &error);
  if (member == NULL)
    goto fail;
  /* An unknown media id is refused before the writer and the rate limit. */
  if (!ssq_server_store_media_check_attachable (server->store,
                                                (const char *const *) op->request.media_ids,
                                                user_id, &error))
    goto fail;
  /* Messages are never removed and seqs have no gaps: every seq up to the
   * committed last one names a message. */
  if (op->request.reply_to > 0 &&
      (!ssq_server_members_conversation (server->members, op->request.conversation_id, NULL,
                                         &last_seq, &error) ||
       op->request.reply_to > last_seq))
    {
      if (error == NULL)
        g_set_error_literal (&error, SSQ_ERROR, SSQ_ERROR_INVALID,
                             "reply_to does not name a message of this conversation");
      goto fail;
    }
  ssq_server_ratelimit_take (server->rl_messages, user_id, 1, ssq_now_ms (), &op->retry_after);
  op->draft = send_op_draft (op);
  ssq_server_writer_submit (server->writer, send_op_run, send_op_done, op,
                            (GDestroyNotify) send_op_free);
  return;

fail:
  done (server, NULL, FALSE, error, user_data);
  send_op_free (op);
}

typedef struct {
  SsqServer     *server;
  char          *user_id;
  char          *conversation_id;
  gint64         delivered_seq;
  gint64         read_seq;
  gboolean       changed;
  SsqChatDone    done;
  gpointer       user_data;
  GDestroyNotify user_data_free;
} MarkOp;

static void
mark_op_free (MarkOp *op)
{
  if (op->user_data_free != NULL)
    op->user_data_free (op->user_data);
  g_free (op->user_id);
  g_free (op->conversation_id);
  g_object_unref (op->server);
  g_free (op);
}

static gboolean
mark_op_run (SsqServerStore  *store,
             gpointer         data,
             GError         **error)
{
  MarkOp *op = data;
  /* Read first, through the barrier: a mark a send of this batch held back
   * is written before it is compared with. */
  g_autoptr(SsqMemberRow) before = ssq_server_store_member_get (store, op->conversation_id,
                                                                op->user_id, error);
  if (before == NULL)
    {
      if (error != NULL && *error == NULL)
        g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_NOT_FOUND, "No such conversation");
      return FALSE;
    }
  op->changed = op->delivered_seq > before->delivered_seq || op->read_seq > before->read_seq;
  if (!op->changed)
    return TRUE;
  return ssq_server_store_member_mark (store, op->conversation_id, op->user_id,
                                       op->delivered_seq, op->read_seq, error);
}

static void
mark_op_done (gpointer      data,
              const GError *error)
{
  MarkOp *op = data;

  if (op->done != NULL)
    op->done (op->server, error, op->user_data);
  if (error == NULL && op->changed)
    ssq_server_hub_receipt (op->server->hub, op->conversation_id, op->user_id, op->read_seq > 0);
}

/**
 * ssq_server_chat_mark:
 * Moves the user's delivered and/or read marker forward (0 = leave as is).
 * Markers never move back; a seq above the conversation's last is invalid.
 */
void
ssq_server_chat_mark (SsqServer      *server,
                      const char     *user_id,
                      const char     *conversation_id,
                      gint64          delivered_seq,
                      gint64          read_seq,
                      SsqChatDone     done,
                      gpointer        user_data,
                      GDestroyNotify  user_data_free)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SsqMemberRow) member = NULL;
  gint64 last_seq = 0;
  MarkOp *op = g_new0 (MarkOp, 1);

  op->server = g_object_ref (server);
  op->user_id = g_strdup (user_id);
  op->conversation_id = g_strdup (conversation_id);
  op->delivered_seq = delivered_seq;
  op->read_seq = read_seq;
  op->done = done;
  op->user_data = user_data;
  op->user_data_free = user_data_free;

  member = ssq_server_chat_require_member (server, conversation_id, user_id, &error);
  if (member != NULL &&
      ssq_server_members_conversation (server->members, conversation_id, NULL, &last_seq, &error) &&
      MAX (delivered_seq, read_seq) > last_seq)
    g_set_error (&error, SSQ_ERROR, SSQ_ERROR_INVALID,
                 "seq is above the conversation's last (%" G_GINT64_FORMAT ")", last_seq);
  if (error != NULL)
    {
      if (done != NULL)
        done (server, error, user_data);
      mark_op_free (op);
      return;
    }
  ssq_server_writer_submit (server->writer, mark_op_run, mark_op_done, op,
                            (GDestroyNotify) mark_op_free);
}

typedef struct {
  SsqServer       *server;
  SsqMessageRow   *message;
  SsqChatSendDone  done;
  gpointer         user_data;
  GDestroyNotify   user_data_free;
  GPtrArray       *freed;       /* hashes of media files a deletion let go */
} EditOp;

static void
edit_op_free (gpointer data)
{
  EditOp *op = data;

  g_clear_pointer (&op->message, ssq_message_row_free);
  g_clear_pointer (&op->freed, g_ptr_array_unref);
  if (op->user_data_free != NULL)
    op->user_data_free (op->user_data);
  g_free (op);
}

static gboolean
edit_op_run (SsqServerStore  *store,
             gpointer         data,
             GError         **error)
{
  EditOp *op = data;

  if (!ssq_server_store_message_update (store, op->message, error))
    return FALSE;
  if (!op->message->deleted)
    return TRUE;
  /* Its media go with it, unless another message carries them. */
  g_clear_pointer (&op->freed, g_ptr_array_unref);
  op->freed = g_ptr_array_new_with_free_func (g_free);
  return ssq_server_store_message_detach_media (store, op->message, op->freed, error);
}

/* Main loop, after the commit: the change is durable, so it may be told. */
static void
edit_op_done (gpointer      data,
              const GError *error)
{
  EditOp *op = data;

  if (error == NULL && op->freed != NULL)
    ssq_server_media_release (op->server->media, op->freed, op->server->store);
  if (error == NULL)
    ssq_server_chat_emit_message (op->server, op->message, FALSE);
  op->done (op->server, error ? NULL : op->message, FALSE, error, op->user_data);
}

/* Checks an edit or deletion and applies it to @m; NULL when it changes
 * nothing (a second deletion), FALSE with @error when refused. */
static gboolean
edit_prepare (SsqServer      *server,
              const char     *user_id,
              SsqMessageRow  *m,
              gboolean        moderator,
              const char     *body,
              gboolean        delete,
              gboolean       *out_unchanged,
              GError        **error)
{
  *out_unchanged = FALSE;
  if (!g_str_equal (m->sender, user_id) && !(delete && moderator))
    {
      g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_FORBIDDEN,
                           delete ? "Only the sender or an admin may delete this message"
                                  : "Only the sender may edit this message");
      return FALSE;
    }
  if (delete)
    {
      *out_unchanged = m->deleted;     /* deleting twice is not an error */
      if (m->deleted)
        return TRUE;
      if (!ssq_server_chat_charge (server, user_id, error))
        return FALSE;
      m->deleted = TRUE;
      g_free (m->body);
      m->body = g_strdup ("");         /* the text is gone from storage too */
    }
  else
    {
      if (m->deleted)
        {
          g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_CONFLICT, "The message was deleted");
          return FALSE;
        }
      if (!ssq_check_text ("body", body, 1, SSQ_BODY_MAX, error) ||
          !ssq_server_chat_charge (server, user_id, error))
        return FALSE;
      g_free (m->body);
      m->body = g_strdup (body);
    }
  m->edited_at = ssq_now_ms ();
  return TRUE;
}

/**
 * ssq_server_chat_edit:
 * Edits or deletes a message. @done runs once: at once when the change is
 * refused or changes nothing, else on the main loop after its commit.
 */
void
ssq_server_chat_edit (SsqServer       *server,
                      const char      *user_id,
                      const char      *conversation_id,
                      gint64           seq,
                      const char      *body,
                      gboolean         delete,
                      SsqChatSendDone  done,
                      gpointer         user_data,
                      GDestroyNotify   user_data_free)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SsqMemberRow) member = NULL;
  EditOp *op = g_new0 (EditOp, 1);
  gboolean unchanged = FALSE;

  *op = (EditOp) { server, NULL, done, user_data, user_data_free };
  member = ssq_server_chat_require_member (server, conversation_id, user_id, &error);
  if (member != NULL)
    {
      op->message = ssq_server_store_message_get (server->store, conversation_id, seq, &error);
      if (op->message == NULL && error == NULL)
        g_set_error_literal (&error, SSQ_ERROR, SSQ_ERROR_NOT_FOUND, "No such message");
    }
  if (op->message == NULL ||
      !edit_prepare (server, user_id, op->message,
                     g_str_equal (member->role, "owner") || g_str_equal (member->role, "admin"),
                     body, delete, &unchanged, &error) ||
      unchanged)
    {
      done (server, error ? NULL : op->message, FALSE, error, user_data);
      edit_op_free (op);
      return;
    }
  /* The rev counter and the row move together, in the writer's transaction:
   * a device syncing from its change cursor then sees this change once. */
  ssq_server_writer_submit (server->writer, edit_op_run, edit_op_done, op, edit_op_free);
}

typedef struct {
  SsqServer          *server;
  char               *conversation_id;
  gint64              before;
  gint64              after;
  guint               limit;
  GString            *out;
  gboolean            has_more;
  SsqChatHistoryDone  done;
  gpointer            user_data;
} HistoryRead;

static void
history_read_free (gpointer data)
{
  HistoryRead *h = data;

  g_free (h->conversation_id);
  if (h->out != NULL)
    g_string_free (h->out, TRUE);
  g_free (h);
}

/* A reader thread. */
static gboolean
history_read (SsqServerStore  *store,
              gpointer         data,
              GError         **error)
{
  HistoryRead *h = data;

  return ssq_server_store_messages_page (store, h->conversation_id, MAX (h->after, 0), h->before,
                                         h->limit, h->after < 0 /* no "after": the newest */,
                                         h->out, &h->has_more, error);
}

static void
history_read_done (gpointer      data,
                   const GError *error)
{
  HistoryRead *h = data;

  h->done (h->server, error == NULL ? g_steal_pointer (&h->out) : NULL, h->has_more, error,
           h->user_data);
}

/**
 * ssq_server_chat_history:
 * @out: (transfer full): where the page's messages go, as stored on the
 *   wire, joined by commas
 *
 * Checks at once that @user_id is a member (else returns %FALSE with
 * @error, @done not called); then reads the page, at once or on a reader
 * thread, and gives @out back to @done.
 */
gboolean
ssq_server_chat_history (SsqServer           *server,
                         const char          *user_id,
                         const char          *conversation_id,
                         gint64               before,
                         gint64               after,
                         guint                limit,
                         GString             *out,
                         SsqChatHistoryDone   done,
                         gpointer             user_data,
                         GError             **error)
{
  g_autoptr(SsqMemberRow) member = NULL;
  HistoryRead *h;

  member = ssq_server_chat_require_member (server, conversation_id, user_id, error);
  if (member == NULL)
    {
      g_string_free (out, TRUE);
      return FALSE;
    }
  h = g_new0 (HistoryRead, 1);
  h->server = server;
  h->conversation_id = g_strdup (conversation_id);
  h->before = before;
  h->after = after;
  h->limit = CLAMP (limit, 1, SSQ_HISTORY_MAX);
  h->out = out;
  h->done = done;
  h->user_data = user_data;
  server->metrics.history_reads_total++;
  /* Alone, the page is read here and now: handing it to a thread and back
   * cost a client reading pages one after another more than the read
   * itself (a p50 of 188-228 µs a page instead of 133-148 µs). When other
   * connections wait, or reads are already out, it goes to a reader
   * thread, and the main loop serves the others meanwhile (with 8 clients,
   * 1.5 times the pages a second); unless the readers have enough queued,
   * and the main loop reads it itself. Only this loop's connections count:
   * AMQP traffic, on loops of its own, waits for a page read here. */
  if ((ssq_server_readers_pending (server->readers) == 0 &&
       !ssq_net_server_others_ready (server->net)) ||
      !ssq_server_readers_room (server->readers))
    {
      g_autoptr(GError) local_error = NULL;

      history_read (server->store, h, &local_error);
      history_read_done (h, local_error);
      history_read_free (h);
      return TRUE;
    }
  server->metrics.history_reads_off_loop_total++;
  ssq_server_readers_run (server->readers, history_read, history_read_done, h, history_read_free);
  return TRUE;
}
