/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-wire-write.c: the codec's direct writer of message objects (and the
 * media objects in them), byte for byte what json-glib generates from the
 * same structs, over many random messages with hostile strings. */
#include "ssq-json.h"
#include "ssq-proto.h"
#include "ssq-wire.h"

#include <string.h>

static char *
to_string (JsonObject *object)
{
  return ssq_json_object_to_string (object, NULL);
}

/* A random string of the bytes json-glib treats apart: every control
 * character, quotes, backslashes, slashes, DEL, non-ASCII and emoji (as
 * UTF-8), plain letters; sometimes empty, sometimes long. */
static char *
random_text (GRand *rand)
{
  static const char *const pieces[] = {
    "\"", "\\", "/", "\x7f", "a", "Z", " ", "\xc3\xa9", "\xe2\x82\xac",
    "\xf0\x9f\x98\x80", "\xe2\x80\xa8", "\xc2\x80", "\xef\xbb\xbf", "<", "&", "'",
  };
  guint32 shape = g_rand_int_range (rand, 0, 10);
  guint32 n = shape == 0 ? 0 : shape == 1 ? g_rand_int_range (rand, 1000, 5000)
                                          : g_rand_int_range (rand, 1, 40);
  GString *out = g_string_new (NULL);

  for (guint32 i = 0; i < n; i++)
    if (g_rand_boolean (rand))
      g_string_append_c (out, (char) g_rand_int_range (rand, 1, 0x20));
    else
      g_string_append (out, pieces[g_rand_int_range (rand, 0, G_N_ELEMENTS (pieces))]);
  return g_string_free (out, FALSE);
}

/* The direct writer of a message, byte for byte what json-glib generates
 * from ssq_wire_message_encode(), over many random messages. */
static void
test_wire_message_write (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (11);
  g_autoptr(GString) all = g_string_new (NULL);

  for (guint i = 0; i < 2000; i++)
    {
      g_autofree char *id = random_text (rand), *conversation_id = random_text (rand);
      g_autofree char *sender = random_text (rand), *client_id = random_text (rand);
      g_autofree char *body = random_text (rand);
      gint64 edge[] = { 0, -1, 1, G_MAXINT64, G_MININT64, 1700000002000 };
      SsqWireMessage m = {
        id, conversation_id, edge[g_rand_int_range (rand, 0, 6)], sender,
        i % 7 == 0 ? NULL : client_id, body, edge[g_rand_int_range (rand, 0, 6)],
        edge[g_rand_int_range (rand, 0, 6)], g_rand_boolean (rand),
        edge[g_rand_int_range (rand, 0, 6)], g_rand_int_range (rand, 0, 1000),
      };
      g_autoptr(JsonArray) media = i % 3 == 0 ? json_array_new () : NULL;
      g_autoptr(JsonObject) object = NULL;
      g_autofree char *expected = NULL;
      gsize before = all->len;

      /* Media with names and types as hostile as the bodies. */
      for (guint k = 0; media != NULL && k < i % 4; k++)
        {
          g_autofree char *name = random_text (rand), *mime = random_text (rand);
          SsqWireMedia f = {
            id, name, mime, g_rand_int (rand), edge[g_rand_int_range (rand, 0, 6)],
            edge[g_rand_int_range (rand, 0, 6)],
          };

          json_array_add_object_element (media, ssq_wire_media_encode (&f));
        }
      m.media = media;
      object = ssq_wire_message_encode (&m);
      expected = to_string (object);

      /* Appended after other text, as the server does into frames. */
      ssq_wire_message_write (all, &m);
      g_assert_cmpstr (all->str + before, ==, expected);
    }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/shared/wire/message-write", test_wire_message_write);
  return g_test_run ();
}
