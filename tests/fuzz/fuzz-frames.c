/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz-frames.c: fuzz target for the server's reading of client frames:
 * any bytes through the JSON reader, the frame head (type and id) and the
 * decoder of that type, exactly as ssq-server-frames.c calls them; what
 * decodes must encode and decode again to the same frame (the codec loses
 * nothing it accepted). */
#include <stdint.h>
#include <string.h>

#include "ssq-json.h"
#include "ssq-wire.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* Encodes what a decoder accepted, and decodes that again. */
static JsonObject *
reencode (JsonObject  *frame,
          SsqWireHead *head)
{
  SsqWireMark mark;
  SsqWireSync sync;
  SsqWireSend send;
  SsqWireTyping typing;
  SsqWirePresence presence;

  switch (head->type)
    {
    case SSQ_FRAME_TYPE_SEND:
      return ssq_wire_send_decode (frame, &send, NULL) ? ssq_wire_send_encode (&send) : NULL;
    case SSQ_FRAME_TYPE_SYNC:
      if (!ssq_wire_sync_decode (frame, &sync, NULL))
        return NULL;
      if (sync.since == NULL)
        return NULL;    /* optional on the wire, always sent by encoders */
      return ssq_wire_sync_encode (&sync);
    case SSQ_FRAME_TYPE_RECEIVED:
    case SSQ_FRAME_TYPE_READ:
      return ssq_wire_mark_decode (frame, &mark, NULL) ? ssq_wire_mark_encode (head->type, &mark)
                                                        : NULL;
    case SSQ_FRAME_TYPE_TYPING:
      return ssq_wire_typing_decode (frame, SSQ_WIRE_FROM_CLIENT, &typing, NULL)
             ? ssq_wire_typing_encode (&typing) : NULL;
    case SSQ_FRAME_TYPE_PRESENCE:
      return ssq_wire_presence_decode (frame, SSQ_WIRE_FROM_CLIENT, &presence, NULL)
             ? ssq_wire_presence_encode (&presence) : NULL;
    case SSQ_FRAME_TYPE_PING:
      return ssq_wire_ping_encode (head->id);
    default:
      g_assert_not_reached ();
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) frame = ssq_json_parse_object ((const char *) data, size, &error);
  g_autoptr(JsonObject) again = NULL;
  g_autofree char *text = NULL, *text2 = NULL;
  g_autoptr(JsonObject) reread = NULL;
  g_autoptr(JsonObject) again2 = NULL;
  SsqWireHead head, head2;

  if (frame == NULL)
    {
      g_assert_true (g_utf8_validate (error->message, -1, NULL));
      return 0;
    }
  if (!ssq_wire_head_decode (frame, SSQ_WIRE_FROM_CLIENT, &head, &error))
    {
      g_assert_error (error, SSQ_ERROR, SSQ_ERROR_INVALID);
      g_assert_true (g_utf8_validate (error->message, -1, NULL));
      return 0;
    }
  g_assert_cmpint (head.type, <, SSQ_FRAME_TYPE_N);
  again = reencode (frame, &head);
  if (again == NULL)
    return 0;
  /* The encoded frame reads back as the same frame. */
  text = ssq_json_object_to_string (again, NULL);
  reread = ssq_json_parse_object (text, strlen (text), NULL);
  g_assert_nonnull (reread);
  g_assert_true (ssq_wire_head_decode (reread, SSQ_WIRE_FROM_CLIENT, &head2, NULL));
  g_assert_cmpint (head2.type, ==, head.type);
  again2 = reencode (reread, &head2);
  g_assert_nonnull (again2);
  text2 = ssq_json_object_to_string (again2, NULL);
  g_assert_cmpstr (text, ==, text2);
  return 0;
}
