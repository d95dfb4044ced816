/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-account-delete.c: deleting an account, for DELETE /me and for
 * the administration's "users delete". */
#include "ssq-server-account.h"
#include "ssq-server-hub.h"

/* Leaves every group as the user would (ownership passes on), keeps the
 * direct conversations (the other member keeps the history, and sees a
 * deleted user), erases the account's name and password and ends all its
 * logins. One step at a time through the writer: each group is left after
 * the previous leave has committed, then the account goes. */
typedef struct {
  SsqServer      *server;
  char           *user_id;
  char           *username;
  GPtrArray      *groups;      /* conversation ids still to leave */
  GPtrArray      *directs;
  guint           next;
  SsqChatDone     done;
  gpointer        user_data;
  GDestroyNotify  user_data_free;
} DeleteJob;

static void
delete_job_free (gpointer data)
{
  DeleteJob *del = data;

  if (del->user_data_free != NULL)
    del->user_data_free (del->user_data);
  g_free (del->user_id);
  g_free (del->username);
  g_ptr_array_unref (del->groups);
  g_ptr_array_unref (del->directs);
  g_free (del);
}

static void
delete_fail (DeleteJob    *del,
             const GError *error)
{
  del->done (del->server, error, del->user_data);
  delete_job_free (del);
}

/* Writer thread: @data is the DeleteJob. */
static gboolean
user_delete_op (SsqServerStore  *store,
                gpointer         data,
                GError         **error)
{
  DeleteJob *del = data;

  return ssq_server_store_user_delete (store, del->user_id, error);
}

static void
user_deleted (gpointer      data,
              const GError *error)
{
  DeleteJob *del = data;
  SsqServer *server = del->server;

  /* Its memberships change with it (direct conversations keep the renamed
   * account): read them afresh. */
  ssq_server_members_forget_all (server->members);
  if (error != NULL)
    {
      del->done (server, error, del->user_data);
      return;
    }
  ssq_server_hub_end_sessions (server->hub, del->user_id, NULL, NULL, SSQ_CLOSE_POLICY,
                               "Account deleted");
  /* Its AMQP connections close, its exclusive and auto-delete queues go. */
  if (server->broker != NULL)
    ssq_broker_user_gone (server->broker, del->user_id);
  for (guint i = 0; i < del->directs->len; i++)
    ssq_server_chat_emit_conversation (server, del->directs->pdata[i]);
  g_message ("Deleted user %s", del->user_id);
  del->done (server, NULL, del->user_data);
}

static void delete_next (DeleteJob *del);

static void
group_left_cb (SsqServer    *server,
               const char   *conversation_id,
               gboolean      created,
               const GError *error,
               gpointer      user_data)
{
  DeleteJob *del = user_data;

  if (error != NULL)
    {
      delete_fail (del, error);
      return;
    }
  delete_next (del);
}

static void
delete_next (DeleteJob *del)
{
  if (del->next < del->groups->len)
    {
      const char *id = del->groups->pdata[del->next++];

      ssq_server_chat_leave_uncharged (del->server, del->user_id, id, del->username,
                                       group_left_cb, del, NULL);
      return;
    }
  ssq_server_writer_submit (del->server->writer, user_delete_op, user_deleted, del,
                            delete_job_free);
}

static gboolean
delete_start (DeleteJob  *del,
              GError    **error)
{
  SsqServer *server = del->server;
  g_autoptr(SsqUserRow) user = ssq_server_store_user_by_id (server->store, del->user_id, error);
  g_autoptr(GPtrArray) ids = NULL;

  if (user == NULL ||
      (ids = ssq_server_store_conversation_ids_for_user (server->store, del->user_id,
                                                         error)) == NULL)
    return FALSE;
  del->username = g_strdup (user->username);
  for (guint i = 0; i < ids->len; i++)
    {
      g_autoptr(SsqConversationRow) conv =
        ssq_server_store_conversation_get (server->store, ids->pdata[i], error);

      if (conv == NULL)
        return FALSE;
      g_ptr_array_add (g_str_equal (conv->kind, "direct") ? del->directs : del->groups,
                       g_strdup (conv->id));
    }
  delete_next (del);
  return TRUE;
}

/**
 * ssq_server_account_delete:
 * Deletes the account @user_id (see DeleteJob); @done runs once it is gone
 * and its sessions closed, or on the first failure. Takes @user_data.
 */
void
ssq_server_account_delete (SsqServer      *server,
                           const char     *user_id,
                           SsqChatDone     done,
                           gpointer        user_data,
                           GDestroyNotify  user_data_free)
{
  g_autoptr(GError) error = NULL;
  DeleteJob *del = g_new0 (DeleteJob, 1);

  del->server = server;
  del->user_id = g_strdup (user_id);
  del->groups = g_ptr_array_new_with_free_func (g_free);
  del->directs = g_ptr_array_new_with_free_func (g_free);
  del->done = done;
  del->user_data = user_data;
  del->user_data_free = user_data_free;
  if (!delete_start (del, &error))
    delete_fail (del, error);
}
