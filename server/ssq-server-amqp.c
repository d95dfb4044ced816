/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-amqp.c: the AMQP listeners of [amqp], started with the chat
 * port. A default address that cannot be had (port 5672 taken, say by a
 * RabbitMQ on the same machine) costs a warning; an address the
 * configuration names is required. */
#include "ssq-server-private.h"

#include <glib/gi18n.h>

static gboolean
listen_one (SsqServer   *self,
            const char  *address,
            gboolean     required,
            gboolean     tls,
            char       **out_url,
            GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GBytes) cert = NULL;
  g_autoptr(GBytes) key = NULL;

  if (address == NULL || address[0] == '\0')
    return TRUE;
  if (tls && !ssq_server_tls_read_pair (self, &cert, &key, &local_error))
    ;
  else if (ssq_amqp_server_listen (self->amqp, address, cert, key, out_url, &local_error))
    return TRUE;
  if (required)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  g_warning (_("No %s listener on the default %s: %s (set [amqp] %s, or empty to turn it off)"),
             tls ? "amqps" : "AMQP", address, local_error->message, tls ? "tls_listen" : "listen");
  return TRUE;
}

gboolean
ssq_server_amqp_setup (SsqServer  *self,
                       GError    **error)
{
  const SsqServerConfig *config = self->config;

  /* No broker ([features] broker=false): nothing to serve. */
  if (self->broker == NULL)
    return TRUE;
  if ((config->amqp_listen == NULL || config->amqp_listen[0] == '\0') &&
      (!config->tls_enabled || config->amqp_tls_listen == NULL || config->amqp_tls_listen[0] == '\0'))
    return TRUE;
  self->amqp = ssq_amqp_server_new (self, error);
  if (self->amqp == NULL)
    return FALSE;
  return listen_one (self, config->amqp_listen, config->amqp_listen_set, FALSE, &self->amqp_url,
                     error) &&
         (!config->tls_enabled ||
          listen_one (self, config->amqp_tls_listen, config->amqp_tls_listen_set, TRUE,
                      &self->amqps_url, error));
}
