/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-amqp-properties.c: the 14 properties of the basic class (a content
 * header's flag word and values), read strictly and written back byte for
 * byte. Declared in ssq-amqp-table.h beside the tables they hold. */
#include "ssq-amqp-table.h"

#include <string.h>

/* The short-string members, by flag (NULL for the others). */
static char **
string_slot (SsqAmqpProperties *props,
             guint16            flag)
{
  switch (flag)
    {
    case SSQ_AMQP_PROP_CONTENT_TYPE:     return &props->content_type;
    case SSQ_AMQP_PROP_CONTENT_ENCODING: return &props->content_encoding;
    case SSQ_AMQP_PROP_CORRELATION_ID:   return &props->correlation_id;
    case SSQ_AMQP_PROP_REPLY_TO:         return &props->reply_to;
    case SSQ_AMQP_PROP_EXPIRATION:       return &props->expiration;
    case SSQ_AMQP_PROP_MESSAGE_ID:       return &props->message_id;
    case SSQ_AMQP_PROP_TYPE:             return &props->type;
    case SSQ_AMQP_PROP_USER_ID:          return &props->user_id;
    case SSQ_AMQP_PROP_APP_ID:           return &props->app_id;
    case SSQ_AMQP_PROP_CLUSTER_ID:       return &props->cluster_id;
    default:                             return NULL;
    }
}

SsqAmqpProperties *
ssq_amqp_properties_new (void)
{
  return g_new0 (SsqAmqpProperties, 1);
}

void
ssq_amqp_properties_free (SsqAmqpProperties *props)
{
  if (props == NULL)
    return;
  for (guint bit = 2; bit < 16; bit++)
    {
      char **slot = string_slot (props, 1 << bit);

      if (slot != NULL)
        g_free (*slot);
    }
  g_clear_pointer (&props->headers, ssq_amqp_table_unref);
  g_free (props);
}

SsqAmqpProperties *
ssq_amqp_properties_copy (const SsqAmqpProperties *props)
{
  SsqAmqpProperties *copy = g_memdup2 (props, sizeof *props);

  for (guint bit = 2; bit < 16; bit++)
    {
      char **slot = string_slot (copy, 1 << bit);

      if (slot != NULL)
        *slot = g_strdup (*slot);
    }
  if (copy->headers != NULL)
    copy->headers = ssq_amqp_table_copy (copy->headers);
  return copy;
}

void
ssq_amqp_properties_set_string (SsqAmqpProperties *props,
                                SsqAmqpPropFlag    flag,
                                const char        *value)
{
  char **slot = string_slot (props, flag);

  g_return_if_fail (slot != NULL);
  g_free (*slot);
  *slot = value != NULL ? g_strndup (value, 255) : NULL;
  if (value != NULL)
    props->flags |= flag;
  else
    props->flags &= ~flag;
}

const char *
ssq_amqp_properties_get_string (const SsqAmqpProperties *props,
                                SsqAmqpPropFlag          flag)
{
  char **slot = string_slot ((SsqAmqpProperties *) props, flag);

  g_return_val_if_fail (slot != NULL, NULL);
  return (props->flags & flag) ? *slot : NULL;
}

static gboolean
read_property (SsqAmqpReader     *reader,
               SsqAmqpProperties *props,
               guint16            flag,
               GError           **error)
{
  char **slot = string_slot (props, flag);

  if (slot != NULL)
    return ssq_amqp_reader_shortstr_dup (reader, slot, error);
  switch (flag)
    {
    case SSQ_AMQP_PROP_HEADERS:
      props->headers = ssq_amqp_table_read (reader, error);
      return props->headers != NULL;
    case SSQ_AMQP_PROP_DELIVERY_MODE:
      return ssq_amqp_reader_u8 (reader, &props->delivery_mode, error);
    case SSQ_AMQP_PROP_PRIORITY:
      return ssq_amqp_reader_u8 (reader, &props->priority, error);
    case SSQ_AMQP_PROP_TIMESTAMP:
      return ssq_amqp_reader_u64 (reader, &props->timestamp, error);
    default:
      g_assert_not_reached ();
    }
}

static const char *
property_name (guint16 flag)
{
  switch (flag)
    {
    case SSQ_AMQP_PROP_CONTENT_TYPE:     return "content-type";
    case SSQ_AMQP_PROP_CONTENT_ENCODING: return "content-encoding";
    case SSQ_AMQP_PROP_HEADERS:          return "headers";
    case SSQ_AMQP_PROP_DELIVERY_MODE:    return "delivery-mode";
    case SSQ_AMQP_PROP_PRIORITY:         return "priority";
    case SSQ_AMQP_PROP_CORRELATION_ID:   return "correlation-id";
    case SSQ_AMQP_PROP_REPLY_TO:         return "reply-to";
    case SSQ_AMQP_PROP_EXPIRATION:       return "expiration";
    case SSQ_AMQP_PROP_MESSAGE_ID:       return "message-id";
    case SSQ_AMQP_PROP_TIMESTAMP:        return "timestamp";
    case SSQ_AMQP_PROP_TYPE:             return "type";
    case SSQ_AMQP_PROP_USER_ID:          return "user-id";
    case SSQ_AMQP_PROP_APP_ID:           return "app-id";
    case SSQ_AMQP_PROP_CLUSTER_ID:       return "cluster-id";
    default:                             return "?";
    }
}

SsqAmqpProperties *
ssq_amqp_properties_decode (const guint8 *data,
                            gsize         len,
                            GError      **error)
{
  g_autoptr (SsqAmqpProperties) props = ssq_amqp_properties_new ();
  SsqAmqpReader reader;

  ssq_amqp_reader_init (&reader, data, len);
  if (!ssq_amqp_reader_u16 (&reader, &props->flags, error))
    {
      g_prefix_error (error, "property flags: ");
      return NULL;
    }
  /* Bit 0 would announce a second flag word, bit 1 is unused: the basic
   * class has 14 properties and no client sets either. */
  if (props->flags & 0x3)
    {
      ssq_amqp_syntax_error (error, "property flags 0x%04x set bits no basic property has",
                             props->flags);
      return NULL;
    }
  for (guint bit = 15; bit >= 2; bit--)
    {
      guint16 flag = 1 << bit;

      if ((props->flags & flag) && !read_property (&reader, props, flag, error))
        {
          g_prefix_error (error, "property %s: ", property_name (flag));
          return NULL;
        }
    }
  if (ssq_amqp_reader_left (&reader) > 0)
    {
      ssq_amqp_syntax_error (error, "%" G_GSIZE_FORMAT " bytes after the properties",
                             ssq_amqp_reader_left (&reader));
      return NULL;
    }
  return g_steal_pointer (&props);
}

static void
write_property (const SsqAmqpProperties *props,
                guint16                  flag,
                GByteArray              *out)
{
  char **slot = string_slot ((SsqAmqpProperties *) props, flag);

  if (slot != NULL)
    {
      ssq_amqp_write_shortstr (out, *slot);
      return;
    }
  switch (flag)
    {
    case SSQ_AMQP_PROP_HEADERS:
      ssq_amqp_table_write (props->headers, out);
      break;
    case SSQ_AMQP_PROP_DELIVERY_MODE:
      ssq_amqp_write_u8 (out, props->delivery_mode);
      break;
    case SSQ_AMQP_PROP_PRIORITY:
      ssq_amqp_write_u8 (out, props->priority);
      break;
    case SSQ_AMQP_PROP_TIMESTAMP:
      ssq_amqp_write_u64 (out, props->timestamp);
      break;
    default:
      g_assert_not_reached ();
    }
}

void
ssq_amqp_properties_write (const SsqAmqpProperties *props,
                           GByteArray              *out)
{
  guint16 flags = props->flags & 0xfffc;

  ssq_amqp_write_u16 (out, flags);
  for (guint bit = 15; bit >= 2; bit--)
    if (flags & (1 << bit))
      write_property (props, (guint16) (1 << bit), out);
}

GBytes *
ssq_amqp_properties_encode (const SsqAmqpProperties *props)
{
  GByteArray *out = g_byte_array_new ();

  ssq_amqp_properties_write (props, out);
  return g_byte_array_free_to_bytes (out);
}
