/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-api-invites.c: POST, GET and DELETE /api/v1/invites, for
 * server admins (users.server_admin); anyone else gets 403. */
#include "ssq-server-http.h"
#include "ssq-server-invites.h"

/* Whether the request's user is a server admin, read now: a demotion
 * takes effect at the next request. */
static gboolean
check_server_admin (SsqRequest  *request,
                    GError     **error)
{
  g_autoptr(SsqUserRow) user = ssq_server_store_user_by_id (request->server->store,
                                                            request->user_id, error);

  if (user == NULL)
    return FALSE;
  if (!user->server_admin)
    {
      g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_FORBIDDEN,
                           "Only a server admin can manage invites");
      return FALSE;
    }
  return TRUE;
}

static void
reply_invite (SsqRequest *request,
              guint       status,
              JsonObject *invite)
{
  g_autoptr(JsonObject) body = json_object_new ();

  json_object_set_object_member (body, "invite", invite);
  ssq_request_reply (request, status, body);
}

static void
invite_made_cb (SsqServer    *server,
                JsonObject   *invite,
                const GError *error,
                gpointer      user_data)
{
  g_autoptr(SsqRequest) request = user_data;

  if (invite == NULL)
    ssq_request_reply_error (request, error);
  else
    reply_invite (request, SSQ_HTTP_CREATED, invite);
}

/* POST /invites {"uses"?, "expires_in"?} (seconds) → 201 {"invite"}, the
 * only answer that holds the token and the link. */
void
ssq_api_invites_create (SsqRequest *request)
{
  g_autoptr(GError) error = NULL;
  gint64 uses = SSQ_INVITE_USES_DEFAULT;
  gint64 expires_in = SSQ_INVITE_EXPIRES_DEFAULT_S;

  if (!check_server_admin (request, &error) ||
      !ssq_json_get_int (request->body, "uses", FALSE, G_MININT64, G_MAXINT64, &uses, &error) ||
      !ssq_json_get_int (request->body, "expires_in", FALSE, G_MININT64, G_MAXINT64, &expires_in,
                         &error) ||
      !ssq_server_invite_check_args (uses, expires_in, &error))
    {
      ssq_request_reply_error (request, error);
      ssq_request_free (request);
      return;
    }
  ssq_server_invite_create (request->server, request->user_id, uses, expires_in,
                            ssq_net_request_get_header (request->net, "Host"), invite_made_cb,
                            request);
}

/* GET /invites → 200 {"invites": [...]}, newest first, without tokens. */
void
ssq_api_invites_list (SsqRequest *request)
{
  g_autoptr(SsqRequest) r = request;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) body = NULL;
  JsonArray *invites;

  if (!check_server_admin (r, &error) ||
      (invites = ssq_server_store_invites_list (r->server->store, &error)) == NULL)
    {
      ssq_request_reply_error (r, error);
      return;
    }
  body = json_object_new ();
  json_object_set_array_member (body, "invites", invites);
  ssq_request_reply (r, SSQ_HTTP_OK, body);
}

static gboolean
revoke_op (SsqServerStore  *store,
           gpointer         data,
           GError         **error)
{
  SsqRequest *r = data;

  return ssq_server_store_invite_delete (store, r->segments[1], error);
}

static void
revoked (gpointer      data,
         const GError *error)
{
  SsqRequest *r = data;

  if (error != NULL)
    {
      ssq_request_reply_error (r, error);
      return;
    }
  g_message ("Invite %s revoked by %s", r->segments[1], r->user_id);
  ssq_request_reply (r, SSQ_HTTP_NO_CONTENT, NULL);
}

/* DELETE /invites/{id} → 204; 404 for an id that is no invite. */
void
ssq_api_invites_revoke (SsqRequest *request)
{
  g_autoptr(GError) error = NULL;

  if (!check_server_admin (request, &error))
    {
      ssq_request_reply_error (request, error);
      ssq_request_free (request);
      return;
    }
  ssq_server_writer_submit (request->server->writer, revoke_op, revoked, request,
                            (GDestroyNotify) ssq_request_free);
}
