/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz-amqp.c: fuzz target for the server's reading of AMQP: any bytes
 * through the frame reader (in pieces of a size the input chooses, as
 * reads split them), each method frame through the method decoder and
 * each content header through the properties decoder, as the connection
 * calls them; properties that decode must encode to the same bytes (the
 * codec keeps what it accepted exactly). */
#include <stdint.h>
#include <string.h>

#include "amqp/ssq-amqp-frame.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
check_frame (const SsqAmqpFrame *frame)
{
  g_autoptr(GError) error = NULL;

  if (frame->type == SSQ_AMQP_FRAME_METHOD)
    {
      guint32 id;
      g_autoptr(SsqAmqpMethod) method = ssq_amqp_method_decode (frame->payload, frame->size, &id,
                                                                 &error);

      g_assert_true ((method == NULL) == (error != NULL));
    }
  else if (frame->type == SSQ_AMQP_FRAME_HEADER && frame->size >= 12)
    {
      g_autoptr(SsqAmqpProperties) props =
        ssq_amqp_properties_decode (frame->payload + 12, frame->size - 12, &error);

      if (props != NULL)
        {
          g_autoptr(GBytes) again = ssq_amqp_properties_encode (props);

          g_assert_cmpmem (g_bytes_get_data (again, NULL), g_bytes_get_size (again),
                           frame->payload + 12, frame->size - 12);
        }
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(SsqAmqpFrameReader) reader = NULL;
  gsize piece, used = 0;

  if (size < 1)
    return 0;
  /* The first byte: the size of the pieces the rest arrives in. */
  piece = data[0] ? data[0] : 4096;
  data++, size--;
  reader = ssq_amqp_frame_reader_new (SSQ_AMQP_FRAME_MIN_SIZE);
  while (used < size)
    {
      gsize len = MIN (piece, size - used);
      gsize off = 0;

      while (off < len)
        {
          g_autoptr(GError) error = NULL;
          SsqAmqpFrame frame;
          gsize n = ssq_amqp_frame_reader_feed (reader, data + used + off, len - off, &frame, &error);

          if (error != NULL)
            return 0;
          g_assert_cmpuint (n, >, 0);
          g_assert_cmpuint (ssq_amqp_frame_reader_buffered (reader), <=, SSQ_AMQP_FRAME_MIN_SIZE);
          off += n;
          if (frame.type != 0)
            check_frame (&frame);
        }
      used += len;
    }
  return 0;
}
