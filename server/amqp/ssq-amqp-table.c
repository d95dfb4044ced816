/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-amqp-table.c: field values and field tables, read strictly and
 * written back byte for byte (the basic properties: ssq-amqp-properties.c). */
#include "ssq-amqp-table.h"

#include <string.h>

typedef struct {
  char         *name;
  SsqAmqpValue *value;
} Field;

struct _SsqAmqpTable {
  gatomicrefcount ref;
  GPtrArray      *fields;   /* Field *, in wire order */
};

/* Values */

static SsqAmqpValue *
value_new (SsqAmqpFieldType type)
{
  SsqAmqpValue *value = g_new0 (SsqAmqpValue, 1);

  value->type = type;
  return value;
}

SsqAmqpValue *
ssq_amqp_value_new_void (void)
{
  return value_new (SSQ_AMQP_FIELD_VOID);
}

SsqAmqpValue *
ssq_amqp_value_new_boolean (gboolean v)
{
  SsqAmqpValue *value = value_new (SSQ_AMQP_FIELD_BOOLEAN);

  value->u.boolean = v ? TRUE : FALSE;
  return value;
}

static gboolean
integer_fits (SsqAmqpFieldType type,
              gint64           v)
{
  switch (type)
    {
    case SSQ_AMQP_FIELD_I8:  return v >= G_MININT8 && v <= G_MAXINT8;
    case SSQ_AMQP_FIELD_U8:  return v >= 0 && v <= G_MAXUINT8;
    case SSQ_AMQP_FIELD_I16: return v >= G_MININT16 && v <= G_MAXINT16;
    case SSQ_AMQP_FIELD_U16: return v >= 0 && v <= G_MAXUINT16;
    case SSQ_AMQP_FIELD_I32: return v >= G_MININT32 && v <= G_MAXINT32;
    case SSQ_AMQP_FIELD_U32: return v >= 0 && v <= G_MAXUINT32;
    case SSQ_AMQP_FIELD_I64: return TRUE;
    default:                 return FALSE;
    }
}

SsqAmqpValue *
ssq_amqp_value_new_integer (SsqAmqpFieldType type,
                            gint64           v)
{
  SsqAmqpValue *value;

  g_return_val_if_fail (integer_fits (type, v), NULL);
  value = value_new (type);
  value->u.integer = v;
  return value;
}

SsqAmqpValue *
ssq_amqp_value_new_timestamp (guint64 v)
{
  SsqAmqpValue *value = value_new (SSQ_AMQP_FIELD_TIMESTAMP);

  value->u.timestamp = v;
  return value;
}

SsqAmqpValue *
ssq_amqp_value_new_double (gdouble v)
{
  SsqAmqpValue *value = value_new (SSQ_AMQP_FIELD_DOUBLE);

  value->u.f64 = v;
  return value;
}

SsqAmqpValue *
ssq_amqp_value_new_string (const char *v)
{
  SsqAmqpValue *value = value_new (SSQ_AMQP_FIELD_LONGSTR);

  value->u.bytes = g_bytes_new (v, strlen (v));
  return value;
}

SsqAmqpValue *
ssq_amqp_value_new_bytes (SsqAmqpFieldType type,
                          GBytes          *v)
{
  SsqAmqpValue *value;

  g_return_val_if_fail (type == SSQ_AMQP_FIELD_LONGSTR || type == SSQ_AMQP_FIELD_BYTES, NULL);
  value = value_new (type);
  value->u.bytes = g_bytes_ref (v);
  return value;
}

SsqAmqpValue *
ssq_amqp_value_new_table (SsqAmqpTable *v)
{
  SsqAmqpValue *value = value_new (SSQ_AMQP_FIELD_TABLE);

  value->u.table = ssq_amqp_table_ref (v);
  return value;
}

GPtrArray *
ssq_amqp_value_array_new (void)
{
  return g_ptr_array_new_with_free_func ((GDestroyNotify) ssq_amqp_value_free);
}

SsqAmqpValue *
ssq_amqp_value_new_array (GPtrArray *v)
{
  SsqAmqpValue *value = value_new (SSQ_AMQP_FIELD_ARRAY);

  value->u.array = v;
  return value;
}

void
ssq_amqp_value_free (SsqAmqpValue *value)
{
  if (value == NULL)
    return;
  switch (value->type)
    {
    case SSQ_AMQP_FIELD_LONGSTR:
    case SSQ_AMQP_FIELD_BYTES:
      g_clear_pointer (&value->u.bytes, g_bytes_unref);
      break;
    case SSQ_AMQP_FIELD_ARRAY:
      g_clear_pointer (&value->u.array, g_ptr_array_unref);
      break;
    case SSQ_AMQP_FIELD_TABLE:
      g_clear_pointer (&value->u.table, ssq_amqp_table_unref);
      break;
    default:
      break;
    }
  g_free (value);
}

SsqAmqpValue *
ssq_amqp_value_copy (const SsqAmqpValue *value)
{
  SsqAmqpValue *copy = g_memdup2 (value, sizeof *value);

  switch (value->type)
    {
    case SSQ_AMQP_FIELD_LONGSTR:
    case SSQ_AMQP_FIELD_BYTES:
      g_bytes_ref (copy->u.bytes);
      break;
    case SSQ_AMQP_FIELD_ARRAY:
      copy->u.array = ssq_amqp_value_array_new ();
      for (guint i = 0; i < value->u.array->len; i++)
        g_ptr_array_add (copy->u.array, ssq_amqp_value_copy (value->u.array->pdata[i]));
      break;
    case SSQ_AMQP_FIELD_TABLE:
      copy->u.table = ssq_amqp_table_copy (value->u.table);
      break;
    default:
      break;
    }
  return copy;
}

gboolean
ssq_amqp_value_equal (const SsqAmqpValue *a,
                      const SsqAmqpValue *b)
{
  if (a->type != b->type)
    return FALSE;
  switch (a->type)
    {
    case SSQ_AMQP_FIELD_VOID:      return TRUE;
    case SSQ_AMQP_FIELD_BOOLEAN:   return a->u.boolean == b->u.boolean;
    case SSQ_AMQP_FIELD_TIMESTAMP: return a->u.timestamp == b->u.timestamp;
    case SSQ_AMQP_FIELD_FLOAT:     return memcmp (&a->u.f32, &b->u.f32, sizeof a->u.f32) == 0;
    case SSQ_AMQP_FIELD_DOUBLE:    return memcmp (&a->u.f64, &b->u.f64, sizeof a->u.f64) == 0;
    case SSQ_AMQP_FIELD_DECIMAL:
      return a->u.decimal.scale == b->u.decimal.scale && a->u.decimal.value == b->u.decimal.value;
    case SSQ_AMQP_FIELD_LONGSTR:
    case SSQ_AMQP_FIELD_BYTES:     return g_bytes_equal (a->u.bytes, b->u.bytes);
    case SSQ_AMQP_FIELD_TABLE:     return ssq_amqp_table_equal (a->u.table, b->u.table);
    case SSQ_AMQP_FIELD_ARRAY:
      if (a->u.array->len != b->u.array->len)
        return FALSE;
      for (guint i = 0; i < a->u.array->len; i++)
        if (!ssq_amqp_value_equal (a->u.array->pdata[i], b->u.array->pdata[i]))
          return FALSE;
      return TRUE;
    default:                       return a->u.integer == b->u.integer;
    }
}

gboolean
ssq_amqp_value_get_integer (const SsqAmqpValue *value,
                            gint64             *out)
{
  if (value == NULL || !integer_fits (value->type, 0))
    return FALSE;
  *out = value->u.integer;
  return TRUE;
}

char *
ssq_amqp_value_dup_string (const SsqAmqpValue *value)
{
  gsize len;
  const char *s;

  if (value == NULL || value->type != SSQ_AMQP_FIELD_LONGSTR)
    return NULL;
  s = g_bytes_get_data (value->u.bytes, &len);
  if (len > 0 && memchr (s, '\0', len) != NULL)
    return NULL;
  /* An empty GBytes may hold no pointer, and g_strndup (NULL, 0) is NULL:
   * "" (the default exchange, say) is a string all the same. */
  return len > 0 ? g_strndup (s, len) : g_strdup ("");
}

/* Tables */

static void
field_free (gpointer data)
{
  Field *field = data;

  g_free (field->name);
  ssq_amqp_value_free (field->value);
  g_free (field);
}

SsqAmqpTable *
ssq_amqp_table_new (void)
{
  SsqAmqpTable *table = g_new0 (SsqAmqpTable, 1);

  g_atomic_ref_count_init (&table->ref);
  table->fields = g_ptr_array_new_with_free_func (field_free);
  return table;
}

SsqAmqpTable *
ssq_amqp_table_ref (SsqAmqpTable *table)
{
  g_atomic_ref_count_inc (&table->ref);
  return table;
}

void
ssq_amqp_table_unref (SsqAmqpTable *table)
{
  if (table == NULL || !g_atomic_ref_count_dec (&table->ref))
    return;
  g_ptr_array_unref (table->fields);
  g_free (table);
}

SsqAmqpTable *
ssq_amqp_table_copy (const SsqAmqpTable *table)
{
  SsqAmqpTable *copy = ssq_amqp_table_new ();

  for (guint i = 0; i < table->fields->len; i++)
    {
      const Field *field = table->fields->pdata[i];

      ssq_amqp_table_take (copy, field->name, ssq_amqp_value_copy (field->value));
    }
  return copy;
}

guint
ssq_amqp_table_size (const SsqAmqpTable *table)
{
  return table != NULL ? table->fields->len : 0;
}

const char *
ssq_amqp_table_name_at (const SsqAmqpTable *table,
                        guint               i)
{
  g_return_val_if_fail (i < table->fields->len, NULL);
  return ((const Field *) table->fields->pdata[i])->name;
}

const SsqAmqpValue *
ssq_amqp_table_value_at (const SsqAmqpTable *table,
                         guint               i)
{
  g_return_val_if_fail (i < table->fields->len, NULL);
  return ((const Field *) table->fields->pdata[i])->value;
}

static gint
find (const SsqAmqpTable *table,
      const char         *name)
{
  for (guint i = 0; table != NULL && i < table->fields->len; i++)
    if (g_strcmp0 (((const Field *) table->fields->pdata[i])->name, name) == 0)
      return (gint) i;
  return -1;
}

const SsqAmqpValue *
ssq_amqp_table_lookup (const SsqAmqpTable *table,
                       const char         *name)
{
  gint i = find (table, name);

  return i >= 0 ? ((const Field *) table->fields->pdata[i])->value : NULL;
}

gboolean
ssq_amqp_table_lookup_integer (const SsqAmqpTable *table,
                               const char         *name,
                               gint64             *out)
{
  return ssq_amqp_value_get_integer (ssq_amqp_table_lookup (table, name), out);
}

gboolean
ssq_amqp_table_lookup_boolean (const SsqAmqpTable *table,
                               const char         *name,
                               gboolean           *out)
{
  const SsqAmqpValue *value = ssq_amqp_table_lookup (table, name);

  if (value == NULL || value->type != SSQ_AMQP_FIELD_BOOLEAN)
    return FALSE;
  *out = value->u.boolean;
  return TRUE;
}

char *
ssq_amqp_table_dup_string (const SsqAmqpTable *table,
                           const char         *name)
{
  return ssq_amqp_value_dup_string (ssq_amqp_table_lookup (table, name));
}

void
ssq_amqp_table_take (SsqAmqpTable *table,
                     const char   *name,
                     SsqAmqpValue *value)
{
  Field *field;

  g_return_if_fail (name != NULL && strlen (name) <= 255);
  g_return_if_fail (value != NULL);
  field = g_new0 (Field, 1);
  field->name = g_strdup (name);
  field->value = value;
  g_ptr_array_add (table->fields, field);
}

void
ssq_amqp_table_set (SsqAmqpTable *table,
                    const char   *name,
                    SsqAmqpValue *value)
{
  gint i = find (table, name);
  Field *field;

  if (i < 0)
    {
      ssq_amqp_table_take (table, name, value);
      return;
    }
  field = table->fields->pdata[i];
  ssq_amqp_value_free (field->value);
  field->value = value;
}

gboolean
ssq_amqp_table_remove (SsqAmqpTable *table,
                       const char   *name)
{
  gboolean removed = FALSE;
  gint i;

  while ((i = find (table, name)) >= 0)
    {
      g_ptr_array_remove_index (table->fields, (guint) i);
      removed = TRUE;
    }
  return removed;
}

gboolean
ssq_amqp_table_equal (const SsqAmqpTable *a,
                      const SsqAmqpTable *b)
{
  if (ssq_amqp_table_size (a) != ssq_amqp_table_size (b))
    return FALSE;
  for (guint i = 0; i < ssq_amqp_table_size (a); i++)
    {
      const Field *fa = a->fields->pdata[i];
      const Field *fb = b->fields->pdata[i];

      if (strcmp (fa->name, fb->name) != 0 || !ssq_amqp_value_equal (fa->value, fb->value))
        return FALSE;
    }
  return TRUE;
}

/* Decoding */

typedef struct {
  guint values;   /* decoded so far, nested ones included */
} Budget;

static SsqAmqpTable *read_table (SsqAmqpReader *reader, guint depth, Budget *budget,
                                 GError **error);
static SsqAmqpValue *read_value (SsqAmqpReader *reader, guint depth, Budget *budget,
                                 GError **error);

/* The reader of a nested table or array: exactly its own length of bytes,
 * so a value cannot run past the end of its container. */
static gboolean
sub_reader (SsqAmqpReader *reader,
            SsqAmqpReader *sub,
            const char    *what,
            GError       **error)
{
  const guint8 *data;
  guint32 len;
  gsize at = reader->pos;

  if (!ssq_amqp_reader_u32 (reader, &len, error))
    return FALSE;
  if (len > ssq_amqp_reader_left (reader))
    return ssq_amqp_syntax_error (error, "%s at offset %" G_GSIZE_FORMAT " claims %u bytes, %"
                                  G_GSIZE_FORMAT " left", what, at, len,
                                  ssq_amqp_reader_left (reader));
  ssq_amqp_reader_bytes (reader, len, &data, NULL);
  ssq_amqp_reader_init (sub, data, len);
  return TRUE;
}

static gboolean
read_integer (SsqAmqpReader *reader,
              SsqAmqpValue  *value,
              GError       **error)
{
  guint8 u8;
  guint16 u16;
  guint32 u32;
  guint64 u64;

  switch (value->type)
    {
    case SSQ_AMQP_FIELD_I8:
    case SSQ_AMQP_FIELD_U8:
      if (!ssq_amqp_reader_u8 (reader, &u8, error))
        return FALSE;
      value->u.integer = value->type == SSQ_AMQP_FIELD_I8 ? (gint8) u8 : u8;
      return TRUE;
    case SSQ_AMQP_FIELD_I16:
    case SSQ_AMQP_FIELD_U16:
      if (!ssq_amqp_reader_u16 (reader, &u16, error))
        return FALSE;
      value->u.integer = value->type == SSQ_AMQP_FIELD_I16 ? (gint16) u16 : u16;
      return TRUE;
    case SSQ_AMQP_FIELD_I32:
    case SSQ_AMQP_FIELD_U32:
      if (!ssq_amqp_reader_u32 (reader, &u32, error))
        return FALSE;
      value->u.integer = value->type == SSQ_AMQP_FIELD_I32 ? (gint32) u32 : (gint64) u32;
      return TRUE;
    default:
      if (!ssq_amqp_reader_u64 (reader, &u64, error))
        return FALSE;
      value->u.integer = (gint64) u64;
      return TRUE;
    }
}

static gboolean
read_array (SsqAmqpReader *reader,
            SsqAmqpValue  *value,
            guint          depth,
            Budget        *budget,
            GError       **error)
{
  SsqAmqpReader sub;

  if (!sub_reader (reader, &sub, "array", error))
    return FALSE;
  value->u.array = ssq_amqp_value_array_new ();
  while (ssq_amqp_reader_left (&sub) > 0)
    {
      SsqAmqpValue *item = read_value (&sub, depth + 1, budget, error);

      if (item == NULL)
        return FALSE;
      g_ptr_array_add (value->u.array, item);
    }
  return TRUE;
}

static gboolean
read_value_body (SsqAmqpReader *reader,
                 SsqAmqpValue  *value,
                 guint          depth,
                 Budget        *budget,
                 GError       **error)
{
  const guint8 *data;
  guint32 len, u32;
  guint64 u64;
  guint8 u8;

  switch (value->type)
    {
    case SSQ_AMQP_FIELD_VOID:
      return TRUE;
    case SSQ_AMQP_FIELD_BOOLEAN:
      if (!ssq_amqp_reader_u8 (reader, &u8, error))
        return FALSE;
      value->u.boolean = u8 != 0;
      return TRUE;
    case SSQ_AMQP_FIELD_I8: case SSQ_AMQP_FIELD_U8: case SSQ_AMQP_FIELD_I16:
    case SSQ_AMQP_FIELD_U16: case SSQ_AMQP_FIELD_I32: case SSQ_AMQP_FIELD_U32:
    case SSQ_AMQP_FIELD_I64:
      return read_integer (reader, value, error);
    case SSQ_AMQP_FIELD_TIMESTAMP:
      return ssq_amqp_reader_u64 (reader, &value->u.timestamp, error);
    case SSQ_AMQP_FIELD_FLOAT:
      if (!ssq_amqp_reader_u32 (reader, &u32, error))
        return FALSE;
      memcpy (&value->u.f32, &u32, sizeof u32);
      return TRUE;
    case SSQ_AMQP_FIELD_DOUBLE:
      if (!ssq_amqp_reader_u64 (reader, &u64, error))
        return FALSE;
      memcpy (&value->u.f64, &u64, sizeof u64);
      return TRUE;
    case SSQ_AMQP_FIELD_DECIMAL:
      return ssq_amqp_reader_u8 (reader, &value->u.decimal.scale, error) &&
             ssq_amqp_reader_u32 (reader, &value->u.decimal.value, error);
    case SSQ_AMQP_FIELD_LONGSTR:
    case SSQ_AMQP_FIELD_BYTES:
      if (!ssq_amqp_reader_longstr (reader, &data, &len, error))
        return FALSE;
      value->u.bytes = g_bytes_new (data, len);
      return TRUE;
    case SSQ_AMQP_FIELD_ARRAY:
      return read_array (reader, value, depth, budget, error);
    case SSQ_AMQP_FIELD_TABLE:
      value->u.table = read_table (reader, depth + 1, budget, error);
      return value->u.table != NULL;
    default:
      g_assert_not_reached ();
    }
}

static gboolean
known_type (guint8 tag)
{
  return tag != 0 && strchr ("tbBsuIilfdDSxATFV", tag) != NULL;
}

static SsqAmqpValue *
read_value (SsqAmqpReader *reader,
            guint          depth,
            Budget        *budget,
            GError       **error)
{
  g_autoptr (SsqAmqpValue) value = NULL;
  gsize at = reader->pos;
  guint8 tag;

  if (!ssq_amqp_reader_u8 (reader, &tag, error))
    return NULL;
  if (!known_type (tag))
    {
      ssq_amqp_syntax_error (error, "unknown field type 0x%02x at offset %" G_GSIZE_FORMAT,
                             tag, at);
      return NULL;
    }
  if ((tag == SSQ_AMQP_FIELD_ARRAY || tag == SSQ_AMQP_FIELD_TABLE) &&
      depth >= SSQ_AMQP_TABLE_MAX_DEPTH)
    {
      ssq_amqp_syntax_error (error, "field tables and arrays nested deeper than %d",
                             SSQ_AMQP_TABLE_MAX_DEPTH);
      return NULL;
    }
  if (++budget->values > SSQ_AMQP_TABLE_MAX_VALUES)
    {
      ssq_amqp_syntax_error (error, "more than %d values in one field table",
                             SSQ_AMQP_TABLE_MAX_VALUES);
      return NULL;
    }
  value = value_new ((SsqAmqpFieldType) tag);
  /* A failed read leaves a half-built value: ssq_amqp_value_free copes
   * with the NULL members it holds then. */
  if (!read_value_body (reader, value, depth, budget, error))
    return NULL;
  return g_steal_pointer (&value);
}

static SsqAmqpTable *
read_table (SsqAmqpReader *reader,
            guint          depth,
            Budget        *budget,
            GError       **error)
{
  g_autoptr (SsqAmqpTable) table = ssq_amqp_table_new ();
  SsqAmqpReader sub;

  if (!sub_reader (reader, &sub, "field table", error))
    return NULL;
  while (ssq_amqp_reader_left (&sub) > 0)
    {
      g_autofree char *name = NULL;
      SsqAmqpValue *value;

      if (!ssq_amqp_reader_shortstr_dup (&sub, &name, error))
        {
          g_prefix_error (error, "field name: ");
          return NULL;
        }
      value = read_value (&sub, depth, budget, error);
      if (value == NULL)
        {
          g_prefix_error (error, "field \"%s\": ", name);
          return NULL;
        }
      ssq_amqp_table_take (table, name, value);
    }
  return g_steal_pointer (&table);
}

SsqAmqpTable *
ssq_amqp_table_read (SsqAmqpReader *reader,
                     GError       **error)
{
  Budget budget = { 0 };

  return read_table (reader, 0, &budget, error);
}

SsqAmqpTable *
ssq_amqp_table_decode (const guint8 *data,
                       gsize         len,
                       GError      **error)
{
  g_autoptr (SsqAmqpTable) table = NULL;
  SsqAmqpReader reader;

  ssq_amqp_reader_init (&reader, data, len);
  table = ssq_amqp_table_read (&reader, error);
  if (table == NULL)
    return NULL;
  if (ssq_amqp_reader_left (&reader) > 0)
    {
      ssq_amqp_syntax_error (error, "%" G_GSIZE_FORMAT " bytes after the field table",
                             ssq_amqp_reader_left (&reader));
      return NULL;
    }
  return g_steal_pointer (&table);
}

static guint
count_value (const SsqAmqpValue *value)
{
  guint n = 1;

  if (value->type == SSQ_AMQP_FIELD_TABLE && value->u.table != NULL)
    n += ssq_amqp_table_count_values (value->u.table);
  else if (value->type == SSQ_AMQP_FIELD_ARRAY && value->u.array != NULL)
    for (guint i = 0; i < value->u.array->len; i++)
      n += count_value (value->u.array->pdata[i]);
  return n;
}

guint
ssq_amqp_table_count_values (const SsqAmqpTable *table)
{
  guint n = 0;

  for (guint i = 0; i < table->fields->len; i++)
    n += count_value (((Field *) table->fields->pdata[i])->value);
  return n;
}

/* Encoding */

static void write_value (const SsqAmqpValue *value, GByteArray *out);

static void
write_integer (const SsqAmqpValue *value,
               GByteArray         *out)
{
  switch (value->type)
    {
    case SSQ_AMQP_FIELD_I8:
    case SSQ_AMQP_FIELD_U8:
      ssq_amqp_write_u8 (out, (guint8) value->u.integer);
      break;
    case SSQ_AMQP_FIELD_I16:
    case SSQ_AMQP_FIELD_U16:
      ssq_amqp_write_u16 (out, (guint16) value->u.integer);
      break;
    case SSQ_AMQP_FIELD_I32:
    case SSQ_AMQP_FIELD_U32:
      ssq_amqp_write_u32 (out, (guint32) value->u.integer);
      break;
    default:
      ssq_amqp_write_u64 (out, (guint64) value->u.integer);
      break;
    }
}

static void
write_value_body (const SsqAmqpValue *value,
                  GByteArray         *out)
{
  guint32 u32;
  guint64 u64;
  gsize at;

  switch (value->type)
    {
    case SSQ_AMQP_FIELD_VOID:
      break;
    case SSQ_AMQP_FIELD_BOOLEAN:
      ssq_amqp_write_u8 (out, value->u.boolean ? 1 : 0);
      break;
    case SSQ_AMQP_FIELD_TIMESTAMP:
      ssq_amqp_write_u64 (out, value->u.timestamp);
      break;
    case SSQ_AMQP_FIELD_FLOAT:
      memcpy (&u32, &value->u.f32, sizeof u32);
      ssq_amqp_write_u32 (out, u32);
      break;
    case SSQ_AMQP_FIELD_DOUBLE:
      memcpy (&u64, &value->u.f64, sizeof u64);
      ssq_amqp_write_u64 (out, u64);
      break;
    case SSQ_AMQP_FIELD_DECIMAL:
      ssq_amqp_write_u8 (out, value->u.decimal.scale);
      ssq_amqp_write_u32 (out, value->u.decimal.value);
      break;
    case SSQ_AMQP_FIELD_LONGSTR:
    case SSQ_AMQP_FIELD_BYTES:
      {
        gsize len;
        const guint8 *data = g_bytes_get_data (value->u.bytes, &len);

        ssq_amqp_write_longstr (out, data, len);
      }
      break;
    case SSQ_AMQP_FIELD_ARRAY:
      at = out->len;
      ssq_amqp_write_u32 (out, 0);
      for (guint i = 0; i < value->u.array->len; i++)
        write_value (value->u.array->pdata[i], out);
      ssq_amqp_patch_u32 (out, at, (guint32) (out->len - at - 4));
      break;
    case SSQ_AMQP_FIELD_TABLE:
      ssq_amqp_table_write (value->u.table, out);
      break;
    default:
      write_integer (value, out);
      break;
    }
}

static void
write_value (const SsqAmqpValue *value,
             GByteArray         *out)
{
  ssq_amqp_write_u8 (out, (guint8) value->type);
  write_value_body (value, out);
}

void
ssq_amqp_table_write (const SsqAmqpTable *table,
                      GByteArray         *out)
{
  gsize at = out->len;

  ssq_amqp_write_u32 (out, 0);
  for (guint i = 0; i < ssq_amqp_table_size (table); i++)
    {
      const Field *field = table->fields->pdata[i];

      ssq_amqp_write_shortstr (out, field->name);
      write_value (field->value, out);
    }
  ssq_amqp_patch_u32 (out, at, (guint32) (out->len - at - 4));
}

GBytes *
ssq_amqp_table_encode (const SsqAmqpTable *table)
{
  GByteArray *out = g_byte_array_new ();

  ssq_amqp_table_write (table, out);
  return g_byte_array_free_to_bytes (out);
}
