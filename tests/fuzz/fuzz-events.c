/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz-events.c: fuzz target for the client's handling of server events:
 * any JSON object is dispatched by its "type" as if it had come over the
 * WebSocket, and applied in a batch to a real cache (messages, conversations,
 * removals, receipts, typing, presence, notifications). */
#include <stdint.h>

#include "../common/ssq-test-tmp.h"
#include "ssq-client-private.h"
#include "ssq-json.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static SsqClient *
client (void)
{
  static SsqClient *the_client;

  if (the_client == NULL)
    {
      g_autofree char *dir = ssq_test_temp_dir ("ssq-fuzz-XXXXXX");

      the_client = ssq_client_new ("http://127.0.0.1:9", dir);
      g_assert_true (ssq_client_set_session (the_client, "me", "u1", "token", NULL));
    }
  return the_client;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(JsonObject) frame = ssq_json_parse_object ((const char *) data, size, NULL);
  const char *type = NULL;

  if (frame == NULL || !ssq_json_get_string (frame, "type", TRUE, &type, NULL))
    return 0;
  /* Through the batch, as the WebSocket hands events over. */
  ssq_client_queue_event (client (), frame);
  ssq_client_flush_events (client ());
  return 0;
}
