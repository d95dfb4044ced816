/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-amqp-frame.c: frames in (bounded, checked) and out. */
#include "ssq-amqp-frame.h"

#include <string.h>

struct _SsqAmqpFrameReader {
  guint32     frame_max;
  guint8      head[7];       /* type, channel, size */
  guint       head_len;
  GByteArray *partial;       /* payload and frame-end of the frame begun */
  guint32     size;          /* its payload size, once head_len == 7 */
  gboolean    broken;
};

SsqAmqpFrameReader *
ssq_amqp_frame_reader_new (guint32 frame_max)
{
  SsqAmqpFrameReader *reader = g_new0 (SsqAmqpFrameReader, 1);

  reader->frame_max = frame_max;
  reader->partial = g_byte_array_new ();
  return reader;
}

void
ssq_amqp_frame_reader_free (SsqAmqpFrameReader *reader)
{
  if (reader == NULL)
    return;
  g_byte_array_unref (reader->partial);
  g_free (reader);
}

void
ssq_amqp_frame_reader_set_frame_max (SsqAmqpFrameReader *reader,
                                     guint32             frame_max)
{
  reader->frame_max = frame_max;
}

gsize
ssq_amqp_frame_reader_buffered (SsqAmqpFrameReader *reader)
{
  return reader->head_len + reader->partial->len;
}

static gboolean
check_head (SsqAmqpFrameReader *reader,
            GError            **error)
{
  guint8 type = reader->head[0];

  reader->size = ((guint32) reader->head[3] << 24) | ((guint32) reader->head[4] << 16) |
                 ((guint32) reader->head[5] << 8) | reader->head[6];
  if (type != SSQ_AMQP_FRAME_METHOD && type != SSQ_AMQP_FRAME_HEADER &&
      type != SSQ_AMQP_FRAME_BODY && type != SSQ_AMQP_FRAME_HEARTBEAT)
    {
      g_set_error (error, SSQ_AMQP_ERROR, SSQ_AMQP_REPLY_FRAME_ERROR,
                   "FRAME_ERROR - unknown frame type %u", type);
      return FALSE;
    }
  /* Before anything of the payload is kept. */
  if ((guint64) reader->size + SSQ_AMQP_FRAME_OVERHEAD > reader->frame_max)
    {
      g_set_error (error, SSQ_AMQP_ERROR, SSQ_AMQP_REPLY_FRAME_ERROR,
                   "FRAME_ERROR - type %u, all octets = <<>>: {frame_too_large,%u,%u}",
                   type, reader->size, reader->frame_max - SSQ_AMQP_FRAME_OVERHEAD);
      return FALSE;
    }
  return TRUE;
}

static gboolean
finish (SsqAmqpFrameReader *reader,
        const guint8       *payload_and_end,
        SsqAmqpFrame       *out,
        GError            **error)
{
  if (payload_and_end[reader->size] != SSQ_AMQP_FRAME_END)
    {
      g_set_error (error, SSQ_AMQP_ERROR, SSQ_AMQP_REPLY_FRAME_ERROR,
                   "FRAME_ERROR - frame-end octet 0x%02x, not 0xce",
                   payload_and_end[reader->size]);
      return FALSE;
    }
  out->type = reader->head[0];
  out->channel = (guint16) ((reader->head[1] << 8) | reader->head[2]);
  out->payload = payload_and_end;
  out->size = reader->size;
  reader->head_len = 0;
  return TRUE;
}

gsize
ssq_amqp_frame_reader_feed (SsqAmqpFrameReader *reader,
                            const guint8       *data,
                            gsize               len,
                            SsqAmqpFrame       *out,
                            GError            **error)
{
  gsize used = 0, need;

  out->type = 0;
  if (reader->broken)
    {
      g_set_error_literal (error, SSQ_AMQP_ERROR, SSQ_AMQP_REPLY_FRAME_ERROR,
                           "FRAME_ERROR - the connection's framing is broken");
      return 0;
    }
  /* The last frame handed out lived in partial: it is done with now. */
  if (reader->head_len == 0)
    g_byte_array_set_size (reader->partial, 0);
  if (reader->head_len < 7)
    {
      need = MIN (7 - reader->head_len, len);
      memcpy (reader->head + reader->head_len, data, need);
      reader->head_len += need;
      used += need;
      if (reader->head_len < 7)
        return used;
      if (!check_head (reader, error))
        {
          reader->broken = TRUE;
          return used;
        }
    }
  need = reader->size + 1 - reader->partial->len;
  /* The whole rest of the frame is in @data: hand it out in place. */
  if (reader->partial->len == 0 && len - used >= need)
    {
      if (!finish (reader, data + used, out, error))
        reader->broken = TRUE;
      return used + need;
    }
  need = MIN (need, len - used);
  g_byte_array_append (reader->partial, data + used, (guint) need);
  used += need;
  if (reader->partial->len == reader->size + 1 &&
      !finish (reader, reader->partial->data, out, error))
    reader->broken = TRUE;
  return used;
}

static gsize
begin (GByteArray *out,
       guint8      type,
       guint16     channel)
{
  gsize at;

  ssq_amqp_write_u8 (out, type);
  ssq_amqp_write_u16 (out, channel);
  at = out->len;
  ssq_amqp_write_u32 (out, 0);
  return at;
}

static void
end (GByteArray *out,
     gsize       at)
{
  ssq_amqp_patch_u32 (out, at, (guint32) (out->len - at - 4));
  ssq_amqp_write_u8 (out, SSQ_AMQP_FRAME_END);
}

void
ssq_amqp_frame_write_method (GByteArray *out,
                             guint16     channel,
                             guint32     id,
                             ...)
{
  gsize at = begin (out, SSQ_AMQP_FRAME_METHOD, channel);
  va_list args;

  va_start (args, id);
  ssq_amqp_method_write_valist (out, id, args);
  va_end (args);
  end (out, at);
}

void
ssq_amqp_frame_write_heartbeat (GByteArray *out)
{
  end (out, begin (out, SSQ_AMQP_FRAME_HEARTBEAT, 0));
}

void
ssq_amqp_frame_write_header (GByteArray *out,
                             guint16     channel,
                             guint64     body_size,
                             GBytes     *properties)
{
  gsize at = begin (out, SSQ_AMQP_FRAME_HEADER, channel);

  ssq_amqp_write_u16 (out, SSQ_AMQP_CLASS_BASIC);
  ssq_amqp_write_u16 (out, 0);    /* weight */
  ssq_amqp_write_u64 (out, body_size);
  if (properties != NULL && g_bytes_get_size (properties) >= 2)
    g_byte_array_append (out, g_bytes_get_data (properties, NULL),
                         (guint) g_bytes_get_size (properties));
  else
    ssq_amqp_write_u16 (out, 0);
  end (out, at);
}

void
ssq_amqp_frame_write_body (GByteArray   *out,
                           guint16       channel,
                           const guint8 *data,
                           gsize         len)
{
  gsize at = begin (out, SSQ_AMQP_FRAME_BODY, channel);

  g_byte_array_append (out, data, (guint) len);
  end (out, at);
}

void
ssq_amqp_frame_write_head (GByteArray *out,
                           guint8      type,
                           guint16     channel,
                           guint32     size)
{
  ssq_amqp_write_u8 (out, type);
  ssq_amqp_write_u16 (out, channel);
  ssq_amqp_write_u32 (out, size);
}
