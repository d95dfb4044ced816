/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-amqp-codec.c: AMQP field tables and basic properties, against bytes
 * that python3-pika 1.2 and librabbitmq 0.11 wrote, and against hostile
 * input (truncation at every offset, bad tags, deep nesting, lying
 * lengths). */
#include "amqp/ssq-amqp-table.h"

#include <string.h>

/* pika.data.encode_table ({'x-message-ttl': 60000, 'x-dead-letter-exchange':
 * 'dlx', 'flag': True, 'big': 2**40, 'neg': -5, 'nested': {'a': [1, 'two',
 * None]}, 'bin': b'\x00\x01', 'dec': Decimal('3.14'), 'when':
 * datetime(2024,1,2,3,4,5)}) */
static const char pika_table[] =
  "000000930d782d6d6573736167652d74746c490000ea6016782d646561642d6c65747465722d65786368616e67"
  "655300000003646c7804666c61677401036269676c0000010000000000036e656749fffffffb066e657374656446"
  "000000150161410000000e4900000001530000000374776f560362696e780000000200010364656344020000013a"
  "047768656e540000000065937d25";

/* amqp_encode_table () of librabbitmq 0.11 with one entry of every kind
 * it has (see the test for the values). */
static const char librabbitmq_table[] =
  "000000aa04626f6f6c740102693862fe02753842c80369313673fed40375313675ea600369333249fffeee900375"
  "333269ee6b2800036936346cfffffffed5fa0e0003663332663fc000000366363464c00200000000000003646563"
  "44020000013a03737472530000000368c3a90362696e780000000361006203617272410000000b49ffffffff5300"
  "0000017a02747354000000006553f1000374626c460000000502696e740004766f696456";

/* pika.spec.BasicProperties (content_type='text/plain', content_encoding=
 * 'utf-8', headers={'k':'v','n':7}, delivery_mode=2, priority=5,
 * correlation_id='c1', reply_to='rq', expiration='60000', message_id='m1',
 * timestamp=1700000000, type='t', user_id='alice', app_id='app',
 * cluster_id='cl').encode () */
static const char pika_properties[] =
  "fffc0a746578742f706c61696e057574662d380000000f016b530000000176016e4900000007020502633102727105"
  "3630303030026d31000000006553f100017405616c6963650361707002636c";

static GBytes *
unhex (const char *hex)
{
  gsize len = strlen (hex) / 2;
  guint8 *data = g_malloc (len);

  for (gsize i = 0; i < len; i++)
    {
      int hi = g_ascii_xdigit_value (hex[2 * i]);
      int lo = g_ascii_xdigit_value (hex[2 * i + 1]);

      g_assert_true (hi >= 0 && lo >= 0);
      data[i] = (guint8) (hi << 4 | lo);
    }
  return g_bytes_new_take (data, len);
}

static SsqAmqpTable *
decode_golden (const char *hex,
               GBytes    **out_bytes)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = unhex (hex);
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);
  SsqAmqpTable *table = ssq_amqp_table_decode (data, len, &error);

  g_assert_no_error (error);
  g_assert_nonnull (table);
  *out_bytes = g_steal_pointer (&bytes);
  return table;
}

static void
assert_encodes_to (const SsqAmqpTable *table,
                   GBytes             *expected)
{
  g_autoptr (GBytes) again = ssq_amqp_table_encode (table);

  g_assert_true (g_bytes_equal (again, expected));
}

static void
assert_string (const SsqAmqpTable *table,
               const char         *name,
               const char         *expected)
{
  g_autofree char *s = ssq_amqp_table_dup_string (table, name);

  g_assert_cmpstr (s, ==, expected);
}

static void
assert_integer (const SsqAmqpTable *table,
                const char         *name,
                SsqAmqpFieldType    type,
                gint64              expected)
{
  gint64 v = 0;

  g_assert_cmpint (ssq_amqp_table_lookup (table, name)->type, ==, type);
  g_assert_true (ssq_amqp_table_lookup_integer (table, name, &v));
  g_assert_cmpint (v, ==, expected);
}

static void
test_pika_table (void)
{
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (SsqAmqpTable) table = decode_golden (pika_table, &bytes);
  const SsqAmqpValue *nested, *array, *value;
  gboolean flag = FALSE;

  g_assert_cmpuint (ssq_amqp_table_size (table), ==, 9);
  g_assert_cmpstr (ssq_amqp_table_name_at (table, 0), ==, "x-message-ttl");
  assert_integer (table, "x-message-ttl", SSQ_AMQP_FIELD_I32, 60000);
  assert_string (table, "x-dead-letter-exchange", "dlx");
  g_assert_true (ssq_amqp_table_lookup_boolean (table, "flag", &flag));
  g_assert_true (flag);
  assert_integer (table, "big", SSQ_AMQP_FIELD_I64, G_GINT64_CONSTANT (1) << 40);
  assert_integer (table, "neg", SSQ_AMQP_FIELD_I32, -5);

  nested = ssq_amqp_table_lookup (table, "nested");
  g_assert_cmpint (nested->type, ==, SSQ_AMQP_FIELD_TABLE);
  array = ssq_amqp_table_lookup (nested->u.table, "a");
  g_assert_cmpint (array->type, ==, SSQ_AMQP_FIELD_ARRAY);
  g_assert_cmpuint (array->u.array->len, ==, 3);
  g_assert_cmpint (((SsqAmqpValue *) array->u.array->pdata[0])->u.integer, ==, 1);
  g_assert_cmpint (((SsqAmqpValue *) array->u.array->pdata[2])->type, ==, SSQ_AMQP_FIELD_VOID);

  value = ssq_amqp_table_lookup (table, "bin");
  g_assert_cmpint (value->type, ==, SSQ_AMQP_FIELD_BYTES);
  g_assert_cmpuint (g_bytes_get_size (value->u.bytes), ==, 2);
  value = ssq_amqp_table_lookup (table, "dec");
  g_assert_cmpint (value->u.decimal.scale, ==, 2);
  g_assert_cmpint (value->u.decimal.value, ==, 314);
  value = ssq_amqp_table_lookup (table, "when");
  g_assert_cmpint (value->u.timestamp, ==, 1704164645);
  g_assert_null (ssq_amqp_table_lookup (table, "absent"));
  /* Not a string: no string. */
  g_assert_null (ssq_amqp_table_dup_string (table, "big"));

  assert_encodes_to (table, bytes);
}

static void
test_librabbitmq_table (void)
{
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (SsqAmqpTable) table = decode_golden (librabbitmq_table, &bytes);
  g_autoptr (SsqAmqpTable) copy = NULL;
  const SsqAmqpValue *value;
  gboolean b = TRUE;

  g_assert_cmpuint (ssq_amqp_table_size (table), ==, 17);
  assert_integer (table, "i8", SSQ_AMQP_FIELD_I8, -2);
  assert_integer (table, "u8", SSQ_AMQP_FIELD_U8, 200);
  assert_integer (table, "i16", SSQ_AMQP_FIELD_I16, -300);
  assert_integer (table, "u16", SSQ_AMQP_FIELD_U16, 60000);
  assert_integer (table, "i32", SSQ_AMQP_FIELD_I32, -70000);
  assert_integer (table, "u32", SSQ_AMQP_FIELD_U32, 4000000000u);
  assert_integer (table, "i64", SSQ_AMQP_FIELD_I64, G_GINT64_CONSTANT (-5000000000));
  g_assert_cmpfloat (ssq_amqp_table_lookup (table, "f32")->u.f32, ==, 1.5f);
  g_assert_cmpfloat (ssq_amqp_table_lookup (table, "f64")->u.f64, ==, -2.25);
  assert_string (table, "str", "h\xc3\xa9");
  /* A byte array is not a string, and one holding NUL is kept whole. */
  g_assert_null (ssq_amqp_table_dup_string (table, "bin"));
  g_assert_cmpuint (g_bytes_get_size (ssq_amqp_table_lookup (table, "bin")->u.bytes), ==, 3);
  value = ssq_amqp_table_lookup (table, "arr");
  g_assert_cmpuint (value->u.array->len, ==, 2);
  g_assert_cmpint (ssq_amqp_table_lookup (table, "ts")->u.timestamp, ==, 1700000000);
  value = ssq_amqp_table_lookup (table, "tbl");
  g_assert_true (ssq_amqp_table_lookup_boolean (value->u.table, "in", &b));
  g_assert_false (b);
  g_assert_cmpint (ssq_amqp_table_lookup (table, "void")->type, ==, SSQ_AMQP_FIELD_VOID);

  assert_encodes_to (table, bytes);
  copy = ssq_amqp_table_copy (table);
  g_assert_true (ssq_amqp_table_equal (copy, table));
  assert_encodes_to (copy, bytes);
}

/* Every proper prefix of a valid table fails cleanly: the lengths inside
 * are checked against the bytes that are there. */
static void
test_truncated (void)
{
  const char *goldens[] = { pika_table, librabbitmq_table };

  for (guint g = 0; g < G_N_ELEMENTS (goldens); g++)
    {
      g_autoptr (GBytes) bytes = unhex (goldens[g]);
      gsize len;
      const guint8 *data = g_bytes_get_data (bytes, &len);

      for (gsize cut = 0; cut < len; cut++)
        {
          g_autoptr (GError) error = NULL;
          g_autofree guint8 *copy = g_memdup2 (data, cut);
          g_autoptr (SsqAmqpTable) table = ssq_amqp_table_decode (copy, cut, &error);

          g_assert_null (table);
          g_assert_error (error, SSQ_AMQP_ERROR, SSQ_AMQP_REPLY_SYNTAX_ERROR);
        }
    }
}

static void
assert_refused (const char *hex,
                const char *message_part)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = unhex (hex);
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);
  g_autoptr (SsqAmqpTable) table = ssq_amqp_table_decode (data, len, &error);

  g_assert_null (table);
  g_assert_error (error, SSQ_AMQP_ERROR, SSQ_AMQP_REPLY_SYNTAX_ERROR);
  if (g_strstr_len (error->message, -1, message_part) == NULL)
    g_error ("\"%s\" does not say \"%s\"", error->message, message_part);
}

static void
test_hostile (void)
{
  /* An unknown tag ('Z'), in a field named "k". */
  assert_refused ("00000003016b5a", "field \"k\": unknown field type 0x5a");
  /* A nested table claiming more than its parent holds. */
  assert_refused ("00000007016b46000000ff", "field table at offset 3 claims 255 bytes");
  /* A long string claiming 4 GiB. */
  assert_refused ("00000007016b53ffffffff", "more bytes needed");
  /* The outer length claiming more than there is. */
  assert_refused ("0000ffff", "claims 65535 bytes");
  /* A byte after the table. */
  assert_refused ("0000000000", "1 bytes after the field table");
  /* A field name holding NUL. */
  assert_refused ("0000000302000056", "field name: short string at offset 0 holds a NUL byte");
}

/* Nesting: 16 levels are fine, 17 are not (tables and arrays alike). */
static GByteArray *
nested (guint depth,
        char  kind)
{
  GByteArray *inner = g_byte_array_new ();

  ssq_amqp_write_u32 (inner, 0);
  for (guint i = 0; i < depth; i++)
    {
      GByteArray *outer = g_byte_array_new ();

      if (kind == 'F')
        {
          ssq_amqp_write_u32 (outer, inner->len + 3);
          ssq_amqp_write_shortstr (outer, "n");
          ssq_amqp_write_u8 (outer, 'F');
        }
      else
        {
          /* An array holding the inner table-or-array, in a table field. */
          ssq_amqp_write_u32 (outer, inner->len + 4 + 3 + 1);
          ssq_amqp_write_shortstr (outer, "n");
          ssq_amqp_write_u8 (outer, 'A');
          ssq_amqp_write_u32 (outer, inner->len + 1);
          ssq_amqp_write_u8 (outer, 'F');
        }
      g_byte_array_append (outer, inner->data, inner->len);
      g_byte_array_unref (inner);
      inner = outer;
    }
  return inner;
}

static void
test_depth (void)
{
  for (guint depth = 14; depth <= 40; depth++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GByteArray) bytes = nested (depth, 'F');
      g_autoptr (SsqAmqpTable) table = ssq_amqp_table_decode (bytes->data, bytes->len, &error);

      if (depth <= SSQ_AMQP_TABLE_MAX_DEPTH)
        g_assert_no_error (error);
      else
        g_assert_error (error, SSQ_AMQP_ERROR, SSQ_AMQP_REPLY_SYNTAX_ERROR);
    }
  {
    g_autoptr (GError) error = NULL;
    /* Each level is an array and a table: 9 levels are 18 deep. */
    g_autoptr (GByteArray) bytes = nested (9, 'A');
    g_autoptr (SsqAmqpTable) table = ssq_amqp_table_decode (bytes->data, bytes->len, &error);

    g_assert_null (table);
    g_assert_error (error, SSQ_AMQP_ERROR, SSQ_AMQP_REPLY_SYNTAX_ERROR);
    g_assert_nonnull (strstr (error->message, "nested deeper than 16"));
  }
}

/* A table of void values costs 3 wire bytes each: their number is
 * bounded, not just their bytes. */
static void
test_value_count (void)
{
  g_autoptr (GByteArray) bytes = g_byte_array_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (SsqAmqpTable) table = NULL;
  guint n = SSQ_AMQP_TABLE_MAX_VALUES + 1;

  ssq_amqp_write_u32 (bytes, n * 3);
  for (guint i = 0; i < n; i++)
    {
      ssq_amqp_write_shortstr (bytes, "v");
      ssq_amqp_write_u8 (bytes, 'V');
    }
  table = ssq_amqp_table_decode (bytes->data, bytes->len, &error);
  g_assert_null (table);
  g_assert_error (error, SSQ_AMQP_ERROR, SSQ_AMQP_REPLY_SYNTAX_ERROR);

  /* One fewer is fine. */
  g_clear_error (&error);
  bytes->len = 4 + (n - 1) * 3;
  ssq_amqp_patch_u32 (bytes, 0, (n - 1) * 3);
  table = ssq_amqp_table_decode (bytes->data, bytes->len, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ssq_amqp_table_size (table), ==, n - 1);
}

static void
test_build (void)
{
  g_autoptr (SsqAmqpTable) table = ssq_amqp_table_new ();
  g_autoptr (SsqAmqpTable) inner = ssq_amqp_table_new ();
  g_autoptr (SsqAmqpTable) back = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GError) error = NULL;
  GPtrArray *array = ssq_amqp_value_array_new ();
  gint64 v = 0;

  ssq_amqp_table_take (inner, "count", ssq_amqp_value_new_integer (SSQ_AMQP_FIELD_I64, 3));
  g_ptr_array_add (array, ssq_amqp_value_new_table (inner));
  ssq_amqp_table_take (table, "x-death", ssq_amqp_value_new_array (array));
  ssq_amqp_table_take (table, "s", ssq_amqp_value_new_string ("one"));
  ssq_amqp_table_set (table, "s", ssq_amqp_value_new_string ("two"));
  ssq_amqp_table_take (table, "d", ssq_amqp_value_new_double (0.5));
  ssq_amqp_table_take (table, "gone", ssq_amqp_value_new_boolean (TRUE));
  g_assert_true (ssq_amqp_table_remove (table, "gone"));
  g_assert_false (ssq_amqp_table_remove (table, "gone"));
  g_assert_cmpuint (ssq_amqp_table_size (table), ==, 3);
  assert_string (table, "s", "two");

  bytes = ssq_amqp_table_encode (table);
  back = ssq_amqp_table_decode (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), &error);
  g_assert_no_error (error);
  g_assert_true (ssq_amqp_table_equal (table, back));
  g_assert_true (ssq_amqp_table_lookup_integer (
    ((SsqAmqpValue *) ssq_amqp_table_lookup (back, "x-death")->u.array->pdata[0])->u.table,
    "count", &v));
  g_assert_cmpint (v, ==, 3);
  /* A NULL table writes as an empty one. */
  g_clear_pointer (&bytes, g_bytes_unref);
  bytes = ssq_amqp_table_encode (NULL);
  g_assert_cmpuint (g_bytes_get_size (bytes), ==, 4);
}

static void
test_properties (void)
{
  g_autoptr (GBytes) bytes = unhex (pika_properties);
  g_autoptr (GError) error = NULL;
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);
  g_autoptr (SsqAmqpProperties) props = ssq_amqp_properties_decode (data, len, &error);
  g_autoptr (SsqAmqpProperties) copy = NULL;
  g_autoptr (GBytes) again = NULL;
  gint64 n = 0;

  g_assert_no_error (error);
  g_assert_cmphex (props->flags, ==, 0xfffc);
  g_assert_cmpstr (props->content_type, ==, "text/plain");
  g_assert_cmpstr (props->content_encoding, ==, "utf-8");
  assert_string (props->headers, "k", "v");
  g_assert_true (ssq_amqp_table_lookup_integer (props->headers, "n", &n));
  g_assert_cmpint (n, ==, 7);
  g_assert_cmpint (props->delivery_mode, ==, 2);
  g_assert_cmpint (props->priority, ==, 5);
  g_assert_cmpstr (props->correlation_id, ==, "c1");
  g_assert_cmpstr (props->reply_to, ==, "rq");
  g_assert_cmpstr (props->expiration, ==, "60000");
  g_assert_cmpstr (props->message_id, ==, "m1");
  g_assert_cmpint (props->timestamp, ==, 1700000000);
  g_assert_cmpstr (props->type, ==, "t");
  g_assert_cmpstr (ssq_amqp_properties_get_string (props, SSQ_AMQP_PROP_USER_ID), ==, "alice");
  g_assert_cmpstr (props->app_id, ==, "app");
  g_assert_cmpstr (props->cluster_id, ==, "cl");

  again = ssq_amqp_properties_encode (props);
  g_assert_true (g_bytes_equal (again, bytes));
  copy = ssq_amqp_properties_copy (props);
  g_clear_pointer (&again, g_bytes_unref);
  again = ssq_amqp_properties_encode (copy);
  g_assert_true (g_bytes_equal (again, bytes));

  /* Every proper prefix is refused. */
  for (gsize cut = 0; cut < len; cut++)
    {
      g_autoptr (GError) cut_error = NULL;
      g_autoptr (SsqAmqpProperties) cut_props = ssq_amqp_properties_decode (data, cut, &cut_error);

      g_assert_null (cut_props);
      g_assert_error (cut_error, SSQ_AMQP_ERROR, SSQ_AMQP_REPLY_SYNTAX_ERROR);
    }
}

static void
test_properties_small (void)
{
  g_autoptr (GError) error = NULL;
  /* pika: BasicProperties (delivery_mode=2), and no properties at all. */
  static const guint8 persistent[] = { 0x10, 0x00, 0x02 };
  static const guint8 none[] = { 0x00, 0x00 };
  static const guint8 continuation[] = { 0x00, 0x01, 0x00, 0x00 };
  static const guint8 trailing[] = { 0x00, 0x00, 0x00 };
  static const guint8 nul_in_type[] = { 0x00, 0x20, 0x02, 'a', 0x00 };
  g_autoptr (SsqAmqpProperties) props = ssq_amqp_properties_decode (persistent, 3, &error);
  g_autoptr (SsqAmqpProperties) built = ssq_amqp_properties_new ();
  g_autoptr (GBytes) bytes = NULL;

  g_assert_no_error (error);
  g_assert_cmphex (props->flags, ==, SSQ_AMQP_PROP_DELIVERY_MODE);
  g_assert_cmpint (props->delivery_mode, ==, 2);
  g_assert_null (props->headers);
  g_clear_pointer (&props, ssq_amqp_properties_free);
  props = ssq_amqp_properties_decode (none, 2, &error);
  g_assert_no_error (error);
  g_assert_cmphex (props->flags, ==, 0);

  g_assert_null (ssq_amqp_properties_decode (continuation, 4, &error));
  g_assert_error (error, SSQ_AMQP_ERROR, SSQ_AMQP_REPLY_SYNTAX_ERROR);
  g_clear_error (&error);
  g_assert_null (ssq_amqp_properties_decode (trailing, 3, &error));
  g_assert_error (error, SSQ_AMQP_ERROR, SSQ_AMQP_REPLY_SYNTAX_ERROR);
  g_clear_error (&error);
  g_assert_null (ssq_amqp_properties_decode (nul_in_type, 5, &error));
  g_assert_error (error, SSQ_AMQP_ERROR, SSQ_AMQP_REPLY_SYNTAX_ERROR);
  g_assert_nonnull (strstr (error->message, "property type:"));

  /* Built by hand: what pika writes for the same. */
  built->flags |= SSQ_AMQP_PROP_DELIVERY_MODE;
  built->delivery_mode = 2;
  bytes = ssq_amqp_properties_encode (built);
  g_assert_cmpmem (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), persistent, 3);
  ssq_amqp_properties_set_string (built, SSQ_AMQP_PROP_USER_ID, "bob");
  g_assert_cmphex (built->flags, ==, SSQ_AMQP_PROP_DELIVERY_MODE | SSQ_AMQP_PROP_USER_ID);
  ssq_amqp_properties_set_string (built, SSQ_AMQP_PROP_USER_ID, NULL);
  g_assert_cmphex (built->flags, ==, SSQ_AMQP_PROP_DELIVERY_MODE);
  g_assert_null (built->user_id);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/server/amqp/table/pika", test_pika_table);
  g_test_add_func ("/server/amqp/table/librabbitmq", test_librabbitmq_table);
  g_test_add_func ("/server/amqp/table/truncated", test_truncated);
  g_test_add_func ("/server/amqp/table/hostile", test_hostile);
  g_test_add_func ("/server/amqp/table/depth", test_depth);
  g_test_add_func ("/server/amqp/table/value-count", test_value_count);
  g_test_add_func ("/server/amqp/table/build", test_build);
  g_test_add_func ("/server/amqp/properties/pika", test_properties);
  g_test_add_func ("/server/amqp/properties/small", test_properties_small);
  return g_test_run ();
}
