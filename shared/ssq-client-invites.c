/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-client-invites.c: invites through SsqClient: a server admin makes,
 * lists and revokes them; anyone registers with one
 * (ssq_client_register_with_invite_async, in ssq-client-api.c). The
 * refusals of an invite are worded here, in the user's language. */
#include <glib/gi18n.h>
#include "ssq-client-invites.h"
#include "ssq-client-private.h"
#include "ssq-json.h"
#include "ssq-wire.h"

#include <string.h>

void
ssq_invite_free (SsqInvite *invite)
{
  if (invite == NULL)
    return;
  g_free (invite->id);
  g_free (invite->token);
  g_free (invite->link);
  g_free (invite->created_by);
  g_free (invite);
}

/* The client's own words for the invite codes: the server's English text
 * would reach a German user otherwise. */
const char *
ssq_client_invite_error_text (SsqError code)
{
  switch ((int) code)
    {
    case SSQ_ERROR_INVITE_REQUIRED:
      return _("This server takes new accounts by invitation only: ask its administrator for "
               "an invite link");
    case SSQ_ERROR_INVITE_INVALID:
      return _("This invite is not valid: it was revoked, or the link is mistyped");
    case SSQ_ERROR_INVITE_EXPIRED:
      return _("This invite has expired: ask for a new one");
    case SSQ_ERROR_INVITE_USED_UP:
      return _("This invite has been used as often as it allowed: ask for a new one");
    default:
      return NULL;
    }
}

static gboolean
get_int (JsonObject  *object,
         const char  *name,
         gboolean     nullable,
         gint64      *out,
         GError     **error)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node != NULL && JSON_NODE_HOLDS_NULL (node) && nullable)
    return TRUE;
  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_INT64)
    {
      g_set_error (error, SSQ_ERROR, SSQ_ERROR_PROTOCOL, _("The invite has no number “%s”"), name);
      return FALSE;
    }
  *out = json_node_get_int (node);
  return TRUE;
}

static SsqInvite *
invite_from_json (JsonObject  *object,
                  GError     **error)
{
  g_autoptr(SsqInvite) invite = g_new0 (SsqInvite, 1);
  const char *id = NULL, *token = NULL, *link = NULL, *by = NULL;

  if (object == NULL ||
      !ssq_json_get_string (object, "id", TRUE, &id, error) ||
      !ssq_json_get_string (object, "token", FALSE, &token, error) ||
      !ssq_json_get_string (object, "link", FALSE, &link, error) ||
      !get_int (object, "created_at", FALSE, &invite->created_at, error) ||
      !get_int (object, "expires_at", FALSE, &invite->expires_at, error) ||
      !get_int (object, "uses_left", FALSE, &invite->uses_left, error) ||
      !get_int (object, "uses", FALSE, &invite->uses, error))
    return NULL;
  /* created_by: a username, or null for the administration socket. */
  if (json_object_has_member (object, "created_by") &&
      !JSON_NODE_HOLDS_NULL (json_object_get_member (object, "created_by")) &&
      !ssq_json_get_string (object, "created_by", TRUE, &by, error))
    return NULL;
  invite->id = g_strdup (id);
  invite->token = g_strdup (token);
  invite->link = g_strdup (link);
  invite->created_by = g_strdup (by);
  return g_steal_pointer (&invite);
}

static gpointer
invite_from_reply (SsqClient   *self,
                   JsonObject  *reply,
                   GError     **error)
{
  JsonNode *node = reply ? json_object_get_member (reply, "invite") : NULL;

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_PROTOCOL, _("No invite in the reply"));
      return NULL;
    }
  return invite_from_json (json_node_get_object (node), error);
}

static gpointer
admin_from_reply (SsqClient   *self,
                  JsonObject  *reply,
                  GError     **error)
{
  JsonNode *node = reply ? json_object_get_member (reply, "user") : NULL;
  SsqWireUser user;
  gboolean *admin;

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_PROTOCOL, _("No user in the reply"));
      return NULL;
    }
  if (!ssq_wire_user_decode (json_node_get_object (node), &user, error))
    return NULL;
  admin = g_new (gboolean, 1);
  *admin = user.server_admin;
  return admin;
}

/**
 * ssq_client_check_server_admin_async:
 * Asks the server (GET /api/v1/me) whether the session's account is a
 * server admin, who may make invites. A server older than the
 * `server_admin` field says no.
 */
void
ssq_client_check_server_admin_async (SsqClient          *self,
                                     GCancellable       *cancellable,
                                     GAsyncReadyCallback callback,
                                     gpointer            user_data)
{
  g_return_if_fail (SSQ_IS_CLIENT (self));
  ssq_client_api_call (self, "GET", "/api/v1/me", NULL, admin_from_reply, g_free,
                       ssq_client_check_server_admin_async, cancellable, callback, user_data);
}

gboolean
ssq_client_check_server_admin_finish (SsqClient     *self,
                                      GAsyncResult  *result,
                                      gboolean      *out_admin,
                                      GError       **error)
{
  g_autofree gboolean *admin = ssq_client_api_finish (self, result,
                                                      ssq_client_check_server_admin_async, error);

  if (admin == NULL)
    return FALSE;
  *out_admin = *admin;
  return TRUE;
}

/**
 * ssq_client_create_invite_async:
 * Makes an invite good for @uses registrations within @expires_in_s
 * seconds. Server admins only (else SSQ_ERROR_FORBIDDEN). The result holds
 * the token and the link, which the server never shows again.
 */
void
ssq_client_create_invite_async (SsqClient          *self,
                                guint               uses,
                                gint64              expires_in_s,
                                GCancellable       *cancellable,
                                GAsyncReadyCallback callback,
                                gpointer            user_data)
{
  g_autoptr(JsonObject) body = json_object_new ();

  g_return_if_fail (SSQ_IS_CLIENT (self));
  json_object_set_int_member (body, "uses", uses);
  json_object_set_int_member (body, "expires_in", expires_in_s);
  ssq_client_api_call (self, "POST", "/api/v1/invites", body, invite_from_reply,
                       (GDestroyNotify) ssq_invite_free, ssq_client_create_invite_async,
                       cancellable, callback, user_data);
}

SsqInvite *
ssq_client_create_invite_finish (SsqClient     *self,
                                 GAsyncResult  *result,
                                 GError       **error)
{
  return ssq_client_api_finish (self, result, ssq_client_create_invite_async, error);
}

static gpointer
invites_from_reply (SsqClient   *self,
                    JsonObject  *reply,
                    GError     **error)
{
  JsonNode *node = reply ? json_object_get_member (reply, "invites") : NULL;
  g_autoptr(GPtrArray) invites = g_ptr_array_new_with_free_func ((GDestroyNotify) ssq_invite_free);
  JsonArray *array;

  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    {
      g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_PROTOCOL, _("No invites in the reply"));
      return NULL;
    }
  array = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *element = json_array_get_element (array, i);
      SsqInvite *invite = JSON_NODE_HOLDS_OBJECT (element)
                          ? invite_from_json (json_node_get_object (element), error) : NULL;

      if (invite == NULL)
        {
          if (error != NULL && *error == NULL)
            g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_PROTOCOL, _("No invites in the reply"));
          return NULL;
        }
      g_ptr_array_add (invites, invite);
    }
  return g_steal_pointer (&invites);
}

/**
 * ssq_client_list_invites_async:
 * The server's invites, the spent and expired ones too, newest first
 * (SsqInvite, without tokens or links). Server admins only.
 */
void
ssq_client_list_invites_async (SsqClient          *self,
                               GCancellable       *cancellable,
                               GAsyncReadyCallback callback,
                               gpointer            user_data)
{
  g_return_if_fail (SSQ_IS_CLIENT (self));
  ssq_client_api_call (self, "GET", "/api/v1/invites", NULL, invites_from_reply,
                       (GDestroyNotify) g_ptr_array_unref, ssq_client_list_invites_async,
                       cancellable, callback, user_data);
}

GPtrArray *
ssq_client_list_invites_finish (SsqClient     *self,
                                GAsyncResult  *result,
                                GError       **error)
{
  return ssq_client_api_finish (self, result, ssq_client_list_invites_async, error);
}

static gpointer
accept_empty (SsqClient   *self,
              JsonObject  *reply,
              GError     **error)
{
  return self;
}

/**
 * ssq_client_revoke_invite_async:
 * Deletes the invite @id: no registration uses it from then on.
 * SSQ_ERROR_NOT_FOUND when there is none.
 */
void
ssq_client_revoke_invite_async (SsqClient          *self,
                                const char         *id,
                                GCancellable       *cancellable,
                                GAsyncReadyCallback callback,
                                gpointer            user_data)
{
  g_autofree char *escaped = NULL;
  g_autofree char *path = NULL;

  g_return_if_fail (SSQ_IS_CLIENT (self) && id != NULL);
  escaped = g_uri_escape_string (id, NULL, FALSE);
  path = g_strconcat ("/api/v1/invites/", escaped, NULL);
  ssq_client_api_call (self, "DELETE", path, NULL, accept_empty, NULL,
                       ssq_client_revoke_invite_async, cancellable, callback, user_data);
}

gboolean
ssq_client_revoke_invite_finish (SsqClient     *self,
                                 GAsyncResult  *result,
                                 GError       **error)
{
  return ssq_client_api_finish (self, result, ssq_client_revoke_invite_async, error) != NULL;
}

/**
 * ssq_parse_duration:
 * "90" or "90s", "15m", "12h", "7d": a positive number of seconds, at most
 * a year.
 */
gboolean
ssq_parse_duration (const char  *text,
                    gint64      *out_seconds,
                    GError     **error)
{
  guint64 n = 0;
  char *end = NULL;
  gint64 unit = 1;

  if (text != NULL && g_ascii_isdigit (text[0]))
    n = g_ascii_strtoull (text, &end, 10);
  if (end != NULL && end[0] != '\0' && end[1] == '\0')
    unit = end[0] == 's' ? 1 : end[0] == 'm' ? 60 : end[0] == 'h' ? 3600 : end[0] == 'd' ? 86400 : 0;
  else if (end != NULL && end[0] != '\0')
    unit = 0;
  if (end == NULL || unit == 0 || n == 0 || n > (guint64) 366 * 86400 / (guint64) unit)
    {
      g_set_error (error, SSQ_ERROR, SSQ_ERROR_INVALID,
                   _("Not a duration: “%s” (e.g. 90s, 15m, 12h, 7d; at most a year)"),
                   text ? text : "");
      return FALSE;
    }
  *out_seconds = (gint64) n * unit;
  return TRUE;
}
