/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-amqp-table.h: AMQP field values and field tables as RabbitMQ and its
 * clients write them, and the 14 properties of the basic class. Decoding is
 * strict and bounded (lengths against the bytes there, nesting depth, value
 * count) and fails with SSQ_AMQP_REPLY_SYNTAX_ERROR; encoding gives back
 * exactly the bytes decoded (the wire type of every value is kept). */
#pragma once

#include <glib.h>

#include "ssq-amqp-wire.h"

G_BEGIN_DECLS

/* Tables and arrays nested deeper than this are refused. */
#define SSQ_AMQP_TABLE_MAX_DEPTH  16
/* At most this many values (nested ones included) in one decoded table:
 * each costs far more memory than its two wire bytes. */
#define SSQ_AMQP_TABLE_MAX_VALUES 65536

/* The wire tags, in RabbitMQ's dialect (which every client follows and
 * which differs from the 0-9-1 text: 's' is a signed short, not a string). */
typedef enum {
  SSQ_AMQP_FIELD_BOOLEAN   = 't',
  SSQ_AMQP_FIELD_I8        = 'b',
  SSQ_AMQP_FIELD_U8        = 'B',
  SSQ_AMQP_FIELD_I16       = 's',
  SSQ_AMQP_FIELD_U16       = 'u',
  SSQ_AMQP_FIELD_I32       = 'I',
  SSQ_AMQP_FIELD_U32       = 'i',
  SSQ_AMQP_FIELD_I64       = 'l',
  SSQ_AMQP_FIELD_FLOAT     = 'f',
  SSQ_AMQP_FIELD_DOUBLE    = 'd',
  SSQ_AMQP_FIELD_DECIMAL   = 'D',
  SSQ_AMQP_FIELD_LONGSTR   = 'S',
  SSQ_AMQP_FIELD_BYTES     = 'x',
  SSQ_AMQP_FIELD_ARRAY     = 'A',
  SSQ_AMQP_FIELD_TIMESTAMP = 'T',
  SSQ_AMQP_FIELD_TABLE     = 'F',
  SSQ_AMQP_FIELD_VOID      = 'V',
} SsqAmqpFieldType;

typedef struct _SsqAmqpTable SsqAmqpTable;
typedef struct _SsqAmqpValue SsqAmqpValue;

struct _SsqAmqpValue {
  SsqAmqpFieldType type;
  union {
    gboolean      boolean;   /* t */
    gint64        integer;   /* b B s u I i l */
    guint64       timestamp; /* T: seconds since the epoch */
    gfloat        f32;       /* f */
    gdouble       f64;       /* d */
    struct {
      guint8  scale;
      guint32 value;
    }             decimal;   /* D */
    GBytes       *bytes;     /* S x: any bytes (S need not be UTF-8) */
    GPtrArray    *array;     /* A: SsqAmqpValue *, owned */
    SsqAmqpTable *table;     /* F: a reference */
  } u;
};

/* Values. An integer type's value must fit its width. */
SsqAmqpValue *ssq_amqp_value_new_void      (void);
SsqAmqpValue *ssq_amqp_value_new_boolean   (gboolean          v);
SsqAmqpValue *ssq_amqp_value_new_integer   (SsqAmqpFieldType  type,
                                            gint64            v);
SsqAmqpValue *ssq_amqp_value_new_timestamp (guint64           v);
SsqAmqpValue *ssq_amqp_value_new_double    (gdouble           v);
SsqAmqpValue *ssq_amqp_value_new_string    (const char       *v);
SsqAmqpValue *ssq_amqp_value_new_bytes     (SsqAmqpFieldType  type,
                                            GBytes           *v);
SsqAmqpValue *ssq_amqp_value_new_table     (SsqAmqpTable     *v);
/* Takes the array (of SsqAmqpValue *, freeing them). */
SsqAmqpValue *ssq_amqp_value_new_array     (GPtrArray        *v);
/* An empty array of values, to fill and hand to ssq_amqp_value_new_array. */
GPtrArray    *ssq_amqp_value_array_new     (void);
SsqAmqpValue *ssq_amqp_value_copy          (const SsqAmqpValue *value);
void          ssq_amqp_value_free          (SsqAmqpValue     *value);
/* Same wire type and same value. */
gboolean      ssq_amqp_value_equal         (const SsqAmqpValue *a,
                                            const SsqAmqpValue *b);
/* TRUE (and *out) for an integer of any width. */
gboolean      ssq_amqp_value_get_integer   (const SsqAmqpValue *value,
                                            gint64             *out);
/* A long string (S) without NUL bytes as a new C string, else NULL. */
char         *ssq_amqp_value_dup_string    (const SsqAmqpValue *value);

/* Tables: ordered (name, value) lists, refcounted. Lookups find the first
 * field of that name, as RabbitMQ does. */
SsqAmqpTable       *ssq_amqp_table_new            (void);
SsqAmqpTable       *ssq_amqp_table_ref            (SsqAmqpTable       *table);
void                ssq_amqp_table_unref          (SsqAmqpTable       *table);
SsqAmqpTable       *ssq_amqp_table_copy           (const SsqAmqpTable *table);
guint               ssq_amqp_table_size           (const SsqAmqpTable *table);
const char         *ssq_amqp_table_name_at        (const SsqAmqpTable *table,
                                                   guint               i);
const SsqAmqpValue *ssq_amqp_table_value_at       (const SsqAmqpTable *table,
                                                   guint               i);
const SsqAmqpValue *ssq_amqp_table_lookup         (const SsqAmqpTable *table,
                                                   const char         *name);
gboolean            ssq_amqp_table_lookup_integer (const SsqAmqpTable *table,
                                                   const char         *name,
                                                   gint64             *out);
gboolean            ssq_amqp_table_lookup_boolean (const SsqAmqpTable *table,
                                                   const char         *name,
                                                   gboolean           *out);
/* NULL when absent, not a long string, or holding a NUL byte. */
char               *ssq_amqp_table_dup_string     (const SsqAmqpTable *table,
                                                   const char         *name);
/* Appends (takes value). */
void                ssq_amqp_table_take           (SsqAmqpTable       *table,
                                                   const char         *name,
                                                   SsqAmqpValue       *value);
/* Replaces the first field of that name in place, or appends (takes value). */
void                ssq_amqp_table_set            (SsqAmqpTable       *table,
                                                   const char         *name,
                                                   SsqAmqpValue       *value);
/* Removes every field of that name; TRUE when there was one. */
gboolean            ssq_amqp_table_remove         (SsqAmqpTable       *table,
                                                   const char         *name);
gboolean            ssq_amqp_table_equal          (const SsqAmqpTable *a,
                                                   const SsqAmqpTable *b);

/* A table as on the wire: four length octets, then the fields. */
SsqAmqpTable       *ssq_amqp_table_read           (SsqAmqpReader      *reader,
                                                   GError            **error);
/* The same over a whole buffer, which must hold nothing after the table. */
SsqAmqpTable       *ssq_amqp_table_decode         (const guint8       *data,
                                                   gsize               len,
                                                   GError            **error);
void                ssq_amqp_table_write          (const SsqAmqpTable *table,
                                                   GByteArray         *out);
/* A NULL table writes as an empty one. */
GBytes             *ssq_amqp_table_encode         (const SsqAmqpTable *table);
/* Values in @table, nested ones and array items included: what holding it
 * decoded costs (~100 bytes each, for as few as 3 on the wire). */
guint               ssq_amqp_table_count_values   (const SsqAmqpTable *table);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsqAmqpTable, ssq_amqp_table_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsqAmqpValue, ssq_amqp_value_free)

/* The basic class's property flags, as the bits of the wire's flag word. */
typedef enum {
  SSQ_AMQP_PROP_CONTENT_TYPE     = 1 << 15,
  SSQ_AMQP_PROP_CONTENT_ENCODING = 1 << 14,
  SSQ_AMQP_PROP_HEADERS          = 1 << 13,
  SSQ_AMQP_PROP_DELIVERY_MODE    = 1 << 12,
  SSQ_AMQP_PROP_PRIORITY         = 1 << 11,
  SSQ_AMQP_PROP_CORRELATION_ID   = 1 << 10,
  SSQ_AMQP_PROP_REPLY_TO         = 1 << 9,
  SSQ_AMQP_PROP_EXPIRATION       = 1 << 8,
  SSQ_AMQP_PROP_MESSAGE_ID       = 1 << 7,
  SSQ_AMQP_PROP_TIMESTAMP        = 1 << 6,
  SSQ_AMQP_PROP_TYPE             = 1 << 5,
  SSQ_AMQP_PROP_USER_ID          = 1 << 4,
  SSQ_AMQP_PROP_APP_ID           = 1 << 3,
  SSQ_AMQP_PROP_CLUSTER_ID       = 1 << 2,
} SsqAmqpPropFlag;

/* The properties of one message. `flags` says which members are present
 * (a member whose flag is clear is NULL or 0); whoever fills one in sets
 * both. Short strings holding a NUL byte are refused when decoding. */
typedef struct {
  guint16       flags;
  char         *content_type;
  char         *content_encoding;
  SsqAmqpTable *headers;
  guint8        delivery_mode;
  guint8        priority;
  char         *correlation_id;
  char         *reply_to;
  char         *expiration;
  char         *message_id;
  guint64       timestamp;
  char         *type;
  char         *user_id;
  char         *app_id;
  char         *cluster_id;
} SsqAmqpProperties;

SsqAmqpProperties *ssq_amqp_properties_new    (void);
SsqAmqpProperties *ssq_amqp_properties_copy   (const SsqAmqpProperties *props);
void               ssq_amqp_properties_free   (SsqAmqpProperties       *props);
/* The flag word and the property list (a content header's payload after
 * class, weight and body size), exactly len bytes. */
SsqAmqpProperties *ssq_amqp_properties_decode (const guint8            *data,
                                               gsize                    len,
                                               GError                 **error);
void               ssq_amqp_properties_write  (const SsqAmqpProperties *props,
                                               GByteArray              *out);
GBytes            *ssq_amqp_properties_encode (const SsqAmqpProperties *props);
/* Sets a short-string property (a flag whose member is a char *): copies
 * value, or clears it when NULL. At most 255 bytes are kept. */
void               ssq_amqp_properties_set_string (SsqAmqpProperties *props,
                                                   SsqAmqpPropFlag    flag,
                                                   const char        *value);
/* The member of a short-string flag, NULL if absent. */
const char        *ssq_amqp_properties_get_string (const SsqAmqpProperties *props,
                                                   SsqAmqpPropFlag          flag);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsqAmqpProperties, ssq_amqp_properties_free)

G_END_DECLS
