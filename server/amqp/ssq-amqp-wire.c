/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-amqp-wire.c: reply codes and the bounded reader/writer of AMQP's
 * big-endian integers and strings. */
#include "ssq-amqp-wire.h"

#include <string.h>

G_DEFINE_QUARK (ssq-amqp-error-quark, ssq_amqp_error)

const char *
ssq_amqp_reply_name (int code)
{
  switch (code)
    {
    case SSQ_AMQP_REPLY_SUCCESS:             return "OK";
    case SSQ_AMQP_REPLY_CONTENT_TOO_LARGE:   return "CONTENT_TOO_LARGE";
    case SSQ_AMQP_REPLY_NO_ROUTE:            return "NO_ROUTE";
    case SSQ_AMQP_REPLY_NO_CONSUMERS:        return "NO_CONSUMERS";
    case SSQ_AMQP_REPLY_CONNECTION_FORCED:   return "CONNECTION_FORCED";
    case SSQ_AMQP_REPLY_INVALID_PATH:        return "INVALID_PATH";
    case SSQ_AMQP_REPLY_ACCESS_REFUSED:      return "ACCESS_REFUSED";
    case SSQ_AMQP_REPLY_NOT_FOUND:           return "NOT_FOUND";
    case SSQ_AMQP_REPLY_RESOURCE_LOCKED:     return "RESOURCE_LOCKED";
    case SSQ_AMQP_REPLY_PRECONDITION_FAILED: return "PRECONDITION_FAILED";
    case SSQ_AMQP_REPLY_FRAME_ERROR:         return "FRAME_ERROR";
    case SSQ_AMQP_REPLY_SYNTAX_ERROR:        return "SYNTAX_ERROR";
    case SSQ_AMQP_REPLY_COMMAND_INVALID:     return "COMMAND_INVALID";
    case SSQ_AMQP_REPLY_CHANNEL_ERROR:       return "CHANNEL_ERROR";
    case SSQ_AMQP_REPLY_UNEXPECTED_FRAME:    return "UNEXPECTED_FRAME";
    case SSQ_AMQP_REPLY_RESOURCE_ERROR:      return "RESOURCE_ERROR";
    case SSQ_AMQP_REPLY_NOT_ALLOWED:         return "NOT_ALLOWED";
    case SSQ_AMQP_REPLY_NOT_IMPLEMENTED:     return "NOT_IMPLEMENTED";
    case SSQ_AMQP_REPLY_INTERNAL_ERROR:      return "INTERNAL_ERROR";
    default:                                 return "UNKNOWN";
    }
}

gboolean
ssq_amqp_reply_is_hard (int code)
{
  /* 0-9-1 §1.8: the soft errors close a channel, the rest the connection. */
  switch (code)
    {
    case SSQ_AMQP_REPLY_CONTENT_TOO_LARGE:
    case SSQ_AMQP_REPLY_NO_ROUTE:
    case SSQ_AMQP_REPLY_NO_CONSUMERS:
    case SSQ_AMQP_REPLY_ACCESS_REFUSED:
    case SSQ_AMQP_REPLY_NOT_FOUND:
    case SSQ_AMQP_REPLY_RESOURCE_LOCKED:
    case SSQ_AMQP_REPLY_PRECONDITION_FAILED:
      return FALSE;
    default:
      return TRUE;
    }
}

void
ssq_amqp_reader_init (SsqAmqpReader *reader,
                      const guint8  *data,
                      gsize          len)
{
  reader->data = data;
  reader->len = len;
  reader->pos = 0;
}

gsize
ssq_amqp_reader_left (const SsqAmqpReader *reader)
{
  return reader->len - reader->pos;
}

gboolean
ssq_amqp_syntax_error (GError    **error,
                       const char *format,
                       ...)
{
  va_list args;

  va_start (args, format);
  if (error != NULL)
    *error = g_error_new_valist (SSQ_AMQP_ERROR, SSQ_AMQP_REPLY_SYNTAX_ERROR, format, args);
  va_end (args);
  return FALSE;
}

static gboolean
need (SsqAmqpReader *reader,
      gsize          n,
      GError       **error)
{
  if (ssq_amqp_reader_left (reader) >= n)
    return TRUE;
  g_set_error (error, SSQ_AMQP_ERROR, SSQ_AMQP_REPLY_SYNTAX_ERROR,
               "truncated: %" G_GSIZE_FORMAT " more bytes needed at offset %" G_GSIZE_FORMAT
               ", %" G_GSIZE_FORMAT " left",
               n, reader->pos, ssq_amqp_reader_left (reader));
  return FALSE;
}

gboolean
ssq_amqp_reader_u8 (SsqAmqpReader *reader,
                    guint8        *out,
                    GError       **error)
{
  if (!need (reader, 1, error))
    return FALSE;
  *out = reader->data[reader->pos++];
  return TRUE;
}

gboolean
ssq_amqp_reader_u16 (SsqAmqpReader *reader,
                     guint16       *out,
                     GError       **error)
{
  const guint8 *p;

  if (!need (reader, 2, error))
    return FALSE;
  p = reader->data + reader->pos;
  *out = (guint16) ((p[0] << 8) | p[1]);
  reader->pos += 2;
  return TRUE;
}

gboolean
ssq_amqp_reader_u32 (SsqAmqpReader *reader,
                     guint32       *out,
                     GError       **error)
{
  const guint8 *p;

  if (!need (reader, 4, error))
    return FALSE;
  p = reader->data + reader->pos;
  *out = ((guint32) p[0] << 24) | ((guint32) p[1] << 16) | ((guint32) p[2] << 8) | p[3];
  reader->pos += 4;
  return TRUE;
}

gboolean
ssq_amqp_reader_u64 (SsqAmqpReader *reader,
                     guint64       *out,
                     GError       **error)
{
  guint32 hi, lo;

  if (!need (reader, 8, error))
    return FALSE;
  ssq_amqp_reader_u32 (reader, &hi, NULL);
  ssq_amqp_reader_u32 (reader, &lo, NULL);
  *out = ((guint64) hi << 32) | lo;
  return TRUE;
}

gboolean
ssq_amqp_reader_bytes (SsqAmqpReader *reader,
                       gsize          n,
                       const guint8 **out,
                       GError       **error)
{
  if (!need (reader, n, error))
    return FALSE;
  *out = reader->data + reader->pos;
  reader->pos += n;
  return TRUE;
}

gboolean
ssq_amqp_reader_shortstr (SsqAmqpReader *reader,
                          const guint8 **out,
                          guint8        *out_len,
                          GError       **error)
{
  guint8 len;

  if (!ssq_amqp_reader_u8 (reader, &len, error) ||
      !ssq_amqp_reader_bytes (reader, len, out, error))
    return FALSE;
  *out_len = len;
  return TRUE;
}

gboolean
ssq_amqp_reader_shortstr_dup (SsqAmqpReader *reader,
                              char         **out,
                              GError       **error)
{
  const guint8 *s;
  guint8 len;

  if (!ssq_amqp_reader_shortstr (reader, &s, &len, error))
    return FALSE;
  if (memchr (s, '\0', len) != NULL)
    {
      g_set_error (error, SSQ_AMQP_ERROR, SSQ_AMQP_REPLY_SYNTAX_ERROR,
                   "short string at offset %" G_GSIZE_FORMAT " holds a NUL byte",
                   reader->pos - len - 1);
      return FALSE;
    }
  *out = g_strndup ((const char *) s, len);
  return TRUE;
}

gboolean
ssq_amqp_reader_longstr (SsqAmqpReader *reader,
                         const guint8 **out,
                         guint32       *out_len,
                         GError       **error)
{
  guint32 len;

  if (!ssq_amqp_reader_u32 (reader, &len, error) ||
      !ssq_amqp_reader_bytes (reader, len, out, error))
    return FALSE;
  *out_len = len;
  return TRUE;
}

void
ssq_amqp_write_u8 (GByteArray *out,
                   guint8      v)
{
  g_byte_array_append (out, &v, 1);
}

void
ssq_amqp_write_u16 (GByteArray *out,
                    guint16     v)
{
  guint8 b[2] = { v >> 8, v & 0xff };

  g_byte_array_append (out, b, 2);
}

void
ssq_amqp_write_u32 (GByteArray *out,
                    guint32     v)
{
  guint8 b[4] = { v >> 24, (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff };

  g_byte_array_append (out, b, 4);
}

void
ssq_amqp_write_u64 (GByteArray *out,
                    guint64     v)
{
  ssq_amqp_write_u32 (out, (guint32) (v >> 32));
  ssq_amqp_write_u32 (out, (guint32) v);
}

void
ssq_amqp_write_shortstr_len (GByteArray   *out,
                             const guint8 *s,
                             gsize         len)
{
  len = MIN (len, 255);
  ssq_amqp_write_u8 (out, (guint8) len);
  g_byte_array_append (out, s, (guint) len);
}

void
ssq_amqp_write_shortstr (GByteArray *out,
                         const char *s)
{
  s = s != NULL ? s : "";
  ssq_amqp_write_shortstr_len (out, (const guint8 *) s, strlen (s));
}

void
ssq_amqp_write_longstr (GByteArray   *out,
                        const guint8 *s,
                        gsize         len)
{
  g_assert (len <= G_MAXUINT32);
  ssq_amqp_write_u32 (out, (guint32) len);
  if (len > 0)
    g_byte_array_append (out, s, (guint) len);
}

void
ssq_amqp_patch_u32 (GByteArray *out,
                    gsize       pos,
                    guint32     v)
{
  g_assert (pos + 4 <= out->len);
  out->data[pos] = v >> 24;
  out->data[pos + 1] = (v >> 16) & 0xff;
  out->data[pos + 2] = (v >> 8) & 0xff;
  out->data[pos + 3] = v & 0xff;
}
