/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-api-info.c: GET /api/v1/server, what a client may ask before
 * it logs in: the version, the protocol, which [features] are on, and the
 * limits it should respect before sending (an upload past media_max_size
 * is refused anyway, but only after the client has started it). */
#include "ssq-config.h"
#include "ssq-server-http.h"

static JsonObject *
features (SsqServer             *server,
          const SsqServerConfig *config)
{
  JsonObject *o = json_object_new ();

  json_object_set_boolean_member (o, "media", config->features_media);
  /* Whether the register route takes accounts at all; how: "registration". */
  json_object_set_boolean_member (o, "registration",
                                  config->registration != SSQ_REGISTRATION_CLOSED);
  /* Exchanges and queues: AMQP, the REST queues and the bridge. */
  json_object_set_boolean_member (o, "broker", server->broker != NULL);
  /* Announced on the LAN: on in the configuration, built with Avahi, and
   * listening beyond loopback. */
  json_object_set_boolean_member (o, "discovery", ssq_server_get_discovery_on (server));
  return o;
}

static JsonObject *
limits (const SsqServerConfig *config)
{
  JsonObject *o = json_object_new ();

  json_object_set_int_member (o, "body_max", SSQ_BODY_MAX);
  json_object_set_int_member (o, "max_body_size", config->max_body_size);
  json_object_set_int_member (o, "max_frame_size", config->max_frame_size);
  json_object_set_int_member (o, "max_members", config->max_members);
  json_object_set_int_member (o, "messages_per_minute", config->messages_per_minute);
  if (config->features_media)
    {
      json_object_set_int_member (o, "media_max_size", (gint64) config->media_max_size);
      json_object_set_int_member (o, "media_quota_per_user",
                                  (gint64) config->media_quota_per_user);
    }
  return o;
}

/* What a client pins: the SHA-256 of the server's public key. */
static JsonObject *
tls (SsqServer *server)
{
  JsonObject *o = json_object_new ();
  const char *fingerprint = ssq_server_get_tls_fingerprint (server, NULL);

  json_object_set_boolean_member (o, "enabled", fingerprint != NULL);
  if (fingerprint != NULL)
    json_object_set_string_member (o, "fingerprint", fingerprint);
  return o;
}

void
ssq_api_server_info (SsqRequest *request)
{
  g_autoptr(SsqRequest) r = request;
  g_autoptr(JsonObject) body = json_object_new ();
  const SsqServerConfig *config = ssq_server_get_config (r->server);

  json_object_set_string_member (body, "version", SSQ_VERSION);
  json_object_set_int_member (body, "protocol", SSQ_PROTOCOL_VERSION);
  json_object_set_object_member (body, "features", features (r->server, config));
  json_object_set_string_member (body, "registration",
                                 ssq_registration_mode_to_string (config->registration));
  json_object_set_object_member (body, "limits", limits (config));
  json_object_set_object_member (body, "tls", tls (r->server));
  ssq_request_reply (r, 200, body);
}
