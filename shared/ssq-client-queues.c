/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-client-queues.c: queues' REST routes through SsqClient: one generic
 * call, since each command reads its own part of the reply. */
#include <glib/gi18n.h>
#include "ssq-client-queues.h"
#include "ssq-client-private.h"

static gpointer
reply_object (SsqClient   *self,
              JsonObject  *reply,
              GError     **error)
{
  if (reply == NULL)
    {
      g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_PROTOCOL, _("Empty reply from the server"));
      return NULL;
    }
  return json_object_ref (reply);
}

void
ssq_client_queue_call_async (SsqClient          *self,
                             const char         *method,
                             const char         *queue,
                             const char         *action,
                             const char         *query,
                             JsonObject         *body,
                             GCancellable       *cancellable,
                             GAsyncReadyCallback callback,
                             gpointer            user_data)
{
  g_autoptr(GString) path = g_string_new ("/api/v1/queues");

  g_return_if_fail (SSQ_IS_CLIENT (self));
  if (queue != NULL)
    {
      /* Any byte of the name, '/' included, stays inside its segment. */
      g_autofree char *escaped = g_uri_escape_string (queue, NULL, FALSE);

      g_string_append_printf (path, "/%s", escaped);
    }
  if (action != NULL)
    g_string_append_printf (path, "/%s", action);
  if (query != NULL)
    g_string_append_printf (path, "?%s", query);
  ssq_client_api_call (self, method, path->str, body, reply_object,
                       (GDestroyNotify) json_object_unref, ssq_client_queue_call_async,
                       cancellable, callback, user_data);
}

JsonObject *
ssq_client_queue_call_finish (SsqClient     *self,
                              GAsyncResult  *result,
                              GError       **error)
{
  return ssq_client_api_finish (self, result, ssq_client_queue_call_async, error);
}
