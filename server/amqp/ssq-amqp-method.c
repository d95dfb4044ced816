/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-amqp-method.c: every method's signature in one table (AMQP 0-9-1
 * with RabbitMQ's extensions: basic.nack, confirm, connection.blocked,
 * exchange.bind), and the codec that follows it. */
#include "ssq-amqp-method.h"

#include <string.h>

static const SsqAmqpMethodSpec specs[] = {
  { SSQ_AMQP_CONNECTION_START,         "connection.start",          "ooFTT", FALSE },
  { SSQ_AMQP_CONNECTION_START_OK,      "connection.start-ok",       "FSTS", FALSE },
  { SSQ_AMQP_CONNECTION_SECURE,        "connection.secure",         "T", FALSE },
  { SSQ_AMQP_CONNECTION_SECURE_OK,     "connection.secure-ok",      "T", FALSE },
  { SSQ_AMQP_CONNECTION_TUNE,          "connection.tune",           "sls", FALSE },
  { SSQ_AMQP_CONNECTION_TUNE_OK,       "connection.tune-ok",        "sls", FALSE },
  { SSQ_AMQP_CONNECTION_OPEN,          "connection.open",           "SSb", FALSE },
  { SSQ_AMQP_CONNECTION_OPEN_OK,       "connection.open-ok",        "S", FALSE },
  { SSQ_AMQP_CONNECTION_CLOSE,         "connection.close",          "sSss", FALSE },
  { SSQ_AMQP_CONNECTION_CLOSE_OK,      "connection.close-ok",       "", FALSE },
  { SSQ_AMQP_CONNECTION_BLOCKED,       "connection.blocked",        "S", FALSE },
  { SSQ_AMQP_CONNECTION_UNBLOCKED,     "connection.unblocked",      "", FALSE },
  { SSQ_AMQP_CONNECTION_UPDATE_SECRET, "connection.update-secret",  "TS", FALSE },
  { SSQ_AMQP_CONNECTION_UPDATE_SECRET_OK, "connection.update-secret-ok", "", FALSE },
  { SSQ_AMQP_CHANNEL_OPEN,             "channel.open",              "S", FALSE },
  { SSQ_AMQP_CHANNEL_OPEN_OK,          "channel.open-ok",           "T", FALSE },
  { SSQ_AMQP_CHANNEL_FLOW,             "channel.flow",              "b", FALSE },
  { SSQ_AMQP_CHANNEL_FLOW_OK,          "channel.flow-ok",           "b", FALSE },
  { SSQ_AMQP_CHANNEL_CLOSE,            "channel.close",             "sSss", FALSE },
  { SSQ_AMQP_CHANNEL_CLOSE_OK,         "channel.close-ok",          "", FALSE },
  { SSQ_AMQP_EXCHANGE_DECLARE,         "exchange.declare",          "sSSbbbbbF", FALSE },
  { SSQ_AMQP_EXCHANGE_DECLARE_OK,      "exchange.declare-ok",       "", FALSE },
  { SSQ_AMQP_EXCHANGE_DELETE,          "exchange.delete",           "sSbb", FALSE },
  { SSQ_AMQP_EXCHANGE_DELETE_OK,       "exchange.delete-ok",        "", FALSE },
  { SSQ_AMQP_EXCHANGE_BIND,            "exchange.bind",             "sSSSbF", FALSE },
  { SSQ_AMQP_EXCHANGE_BIND_OK,         "exchange.bind-ok",          "", FALSE },
  { SSQ_AMQP_EXCHANGE_UNBIND,          "exchange.unbind",           "sSSSbF", FALSE },
  { SSQ_AMQP_EXCHANGE_UNBIND_OK,       "exchange.unbind-ok",        "", FALSE },
  { SSQ_AMQP_QUEUE_DECLARE,            "queue.declare",             "sSbbbbbF", FALSE },
  { SSQ_AMQP_QUEUE_DECLARE_OK,         "queue.declare-ok",          "Sll", FALSE },
  { SSQ_AMQP_QUEUE_BIND,               "queue.bind",                "sSSSbF", FALSE },
  { SSQ_AMQP_QUEUE_BIND_OK,            "queue.bind-ok",             "", FALSE },
  { SSQ_AMQP_QUEUE_PURGE,              "queue.purge",               "sSb", FALSE },
  { SSQ_AMQP_QUEUE_PURGE_OK,           "queue.purge-ok",            "l", FALSE },
  { SSQ_AMQP_QUEUE_DELETE,             "queue.delete",              "sSbbb", FALSE },
  { SSQ_AMQP_QUEUE_DELETE_OK,          "queue.delete-ok",           "l", FALSE },
  { SSQ_AMQP_QUEUE_UNBIND,             "queue.unbind",              "sSSSF", FALSE },
  { SSQ_AMQP_QUEUE_UNBIND_OK,          "queue.unbind-ok",           "", FALSE },
  { SSQ_AMQP_BASIC_QOS,                "basic.qos",                 "lsb", FALSE },
  { SSQ_AMQP_BASIC_QOS_OK,             "basic.qos-ok",              "", FALSE },
  { SSQ_AMQP_BASIC_CONSUME,            "basic.consume",             "sSSbbbbF", FALSE },
  { SSQ_AMQP_BASIC_CONSUME_OK,         "basic.consume-ok",          "S", FALSE },
  { SSQ_AMQP_BASIC_CANCEL,             "basic.cancel",              "Sb", FALSE },
  { SSQ_AMQP_BASIC_CANCEL_OK,          "basic.cancel-ok",           "S", FALSE },
  { SSQ_AMQP_BASIC_PUBLISH,            "basic.publish",             "sSSbb", TRUE },
  { SSQ_AMQP_BASIC_RETURN,             "basic.return",              "sSSS", TRUE },
  { SSQ_AMQP_BASIC_DELIVER,            "basic.deliver",             "SLbSS", TRUE },
  { SSQ_AMQP_BASIC_GET,                "basic.get",                 "sSb", FALSE },
  { SSQ_AMQP_BASIC_GET_OK,             "basic.get-ok",              "LbSSl", TRUE },
  { SSQ_AMQP_BASIC_GET_EMPTY,          "basic.get-empty",           "S", FALSE },
  { SSQ_AMQP_BASIC_ACK,                "basic.ack",                 "Lb", FALSE },
  { SSQ_AMQP_BASIC_REJECT,             "basic.reject",              "Lb", FALSE },
  { SSQ_AMQP_BASIC_RECOVER_ASYNC,      "basic.recover-async",       "b", FALSE },
  { SSQ_AMQP_BASIC_RECOVER,            "basic.recover",             "b", FALSE },
  { SSQ_AMQP_BASIC_RECOVER_OK,         "basic.recover-ok",          "", FALSE },
  { SSQ_AMQP_BASIC_NACK,               "basic.nack",                "Lbb", FALSE },
  { SSQ_AMQP_CONFIRM_SELECT,           "confirm.select",            "b", FALSE },
  { SSQ_AMQP_CONFIRM_SELECT_OK,        "confirm.select-ok",         "", FALSE },
  { SSQ_AMQP_TX_SELECT,                "tx.select",                 "", FALSE },
  { SSQ_AMQP_TX_SELECT_OK,             "tx.select-ok",              "", FALSE },
  { SSQ_AMQP_TX_COMMIT,                "tx.commit",                 "", FALSE },
  { SSQ_AMQP_TX_COMMIT_OK,             "tx.commit-ok",              "", FALSE },
  { SSQ_AMQP_TX_ROLLBACK,              "tx.rollback",               "", FALSE },
  { SSQ_AMQP_TX_ROLLBACK_OK,           "tx.rollback-ok",            "", FALSE },
};

const SsqAmqpMethodSpec *
ssq_amqp_method_spec (guint32 id)
{
  for (gsize i = 0; i < G_N_ELEMENTS (specs); i++)
    if (specs[i].id == id)
      return &specs[i];
  return NULL;
}

static gboolean
class_known (guint16 class_id)
{
  for (gsize i = 0; i < G_N_ELEMENTS (specs); i++)
    if ((specs[i].id >> 16) == class_id)
      return TRUE;
  return FALSE;
}

const char *
ssq_amqp_method_name (guint32 id)
{
  const SsqAmqpMethodSpec *spec = ssq_amqp_method_spec (id);
  static char unknown[32];

  if (spec != NULL)
    return spec->name;
  /* Main thread only, like the rest of the codec's callers. */
  g_snprintf (unknown, sizeof unknown, "%u.%u", id >> 16, id & 0xffff);
  return unknown;
}

void
ssq_amqp_method_free (SsqAmqpMethod *method)
{
  if (method == NULL)
    return;
  for (guint i = 0; i < SSQ_AMQP_METHOD_MAX_ARGS; i++)
    {
      g_free (method->args[i].str);
      g_clear_pointer (&method->args[i].bytes, g_bytes_unref);
      g_clear_pointer (&method->args[i].table, ssq_amqp_table_unref);
    }
  g_free (method);
}

static gboolean
read_arg (SsqAmqpReader *reader,
          char           type,
          SsqAmqpArg    *arg,
          GError       **error)
{
  const guint8 *data;
  guint32 len32;
  guint16 u16;
  guint8 u8;
  gsize at;

  switch (type)
    {
    case 'o':
      if (!ssq_amqp_reader_u8 (reader, &u8, error))
        return FALSE;
      arg->u = u8;
      return TRUE;
    case 's':
      if (!ssq_amqp_reader_u16 (reader, &u16, error))
        return FALSE;
      arg->u = u16;
      return TRUE;
    case 'l':
      if (!ssq_amqp_reader_u32 (reader, &len32, error))
        return FALSE;
      arg->u = len32;
      return TRUE;
    case 'L':
      return ssq_amqp_reader_u64 (reader, &arg->u, error);
    case 'S':
      return ssq_amqp_reader_shortstr_dup (reader, &arg->str, error);
    case 'T':
      if (!ssq_amqp_reader_longstr (reader, &data, &len32, error))
        return FALSE;
      arg->bytes = g_bytes_new (data, len32);
      return TRUE;
    case 'F':
      at = reader->pos;
      arg->table = ssq_amqp_table_read (reader, error);
      if (arg->table == NULL)
        return FALSE;
      arg->bytes = g_bytes_new (reader->data + at, reader->pos - at);
      return TRUE;
    default:
      g_assert_not_reached ();
    }
}

SsqAmqpMethod *
ssq_amqp_method_decode (const guint8 *payload,
                        gsize         len,
                        guint32      *out_id,
                        GError      **error)
{
  g_autoptr (SsqAmqpMethod) method = NULL;
  SsqAmqpReader reader;
  guint16 class_id, method_id;
  guint bit = 8, i = 0;
  guint8 bits = 0;

  ssq_amqp_reader_init (&reader, payload, len);
  *out_id = 0;
  if (!ssq_amqp_reader_u16 (&reader, &class_id, error) ||
      !ssq_amqp_reader_u16 (&reader, &method_id, error))
    return NULL;
  *out_id = SSQ_AMQP_METHOD_ID (class_id, method_id);
  method = g_new0 (SsqAmqpMethod, 1);
  method->spec = ssq_amqp_method_spec (*out_id);
  if (method->spec == NULL)
    {
      g_set_error (error, SSQ_AMQP_ERROR, SSQ_AMQP_REPLY_NOT_IMPLEMENTED,
                   class_known (class_id) ? "unknown method %u in class %u"
                                          : "unknown class %u", class_known (class_id) ? method_id : class_id, class_id);
      return NULL;
    }
  for (const char *sig = method->spec->signature; *sig != '\0'; sig++, i++)
    {
      /* Consecutive bits share octets, the first in the lowest bit. */
      if (*sig == 'b')
        {
          if (bit == 8)
            {
              if (!ssq_amqp_reader_u8 (&reader, &bits, error))
                goto malformed;
              bit = 0;
            }
          method->args[i].u = (bits >> bit++) & 1;
          continue;
        }
      bit = 8;
      if (!read_arg (&reader, *sig, &method->args[i], error))
        goto malformed;
    }
  /* Bytes after the arguments are tolerated, as RabbitMQ does (some
   * clients pad): the arguments were all there. */
  return g_steal_pointer (&method);

malformed:
  g_prefix_error (error, "%s argument %u: ", method->spec->name, i + 1);
  return NULL;
}

void
ssq_amqp_method_write_valist (GByteArray *out,
                              guint32     id,
                              va_list     args)
{
  const SsqAmqpMethodSpec *spec = ssq_amqp_method_spec (id);
  gsize bits_at = 0;
  guint bit = 8;

  g_return_if_fail (spec != NULL);
  ssq_amqp_write_u16 (out, id >> 16);
  ssq_amqp_write_u16 (out, id & 0xffff);
  for (const char *sig = spec->signature; *sig != '\0'; sig++)
    {
      GBytes *bytes;

      if (*sig == 'b')
        {
          gboolean v = va_arg (args, gboolean);

          if (bit == 8)
            {
              bits_at = out->len;
              ssq_amqp_write_u8 (out, 0);
              bit = 0;
            }
          if (v)
            out->data[bits_at] |= 1 << bit;
          bit++;
          continue;
        }
      bit = 8;
      switch (*sig)
        {
        case 'o': ssq_amqp_write_u8 (out, (guint8) va_arg (args, guint)); break;
        case 's': ssq_amqp_write_u16 (out, (guint16) va_arg (args, guint)); break;
        case 'l': ssq_amqp_write_u32 (out, va_arg (args, guint)); break;
        case 'L': ssq_amqp_write_u64 (out, va_arg (args, guint64)); break;
        case 'S': ssq_amqp_write_shortstr (out, va_arg (args, const char *)); break;
        case 'T':
          bytes = va_arg (args, GBytes *);
          if (bytes != NULL)
            ssq_amqp_write_longstr (out, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
          else
            ssq_amqp_write_u32 (out, 0);
          break;
        case 'F': ssq_amqp_table_write (va_arg (args, const SsqAmqpTable *), out); break;
        default: g_assert_not_reached ();
        }
    }
}

void
ssq_amqp_method_write (GByteArray *out,
                       guint32     id,
                       ...)
{
  va_list args;

  va_start (args, id);
  ssq_amqp_method_write_valist (out, id, args);
  va_end (args);
}
