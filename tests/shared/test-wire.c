/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-wire.c: the wire codec: every frame and REST body of the golden
 * file both ways (decode gives the struct, encode gives the bytes), the
 * type table, and frames the codec must refuse. The direct message writer
 * against json-glib is in test-wire-write.c; the REST bodies' structs and
 * checks in test-wire-rest.c. */
#include "ssq-json.h"
#include "ssq-proto.h"
#include "test-wire-private.h"

#include <string.h>

/* ---- The wire codec: golden frames both ways ------------------------------ */

/* The structs each golden line stands for. Nested objects are given by
 * the struct that encodes them. */
const SsqWireUser alice = {
  "u1", "alice", "Alice", "online", 1700000000000, FALSE,
};
static const SsqWireUser deleted_user = {
  "u2", "", "Deleted user", "offline", 0, TRUE,
};
const SsqWireMessage message_plain = {
  "m1", "c1", 7, "u1", "k1", "hi @bob \xc3\xa9", 1700000002000, 0, FALSE, 0, 7,
};
static const SsqWireMessage message_edited = {
  "m2", "c1", 8, "u1", "k2", "fixed", 1700000002000, 1700000003000, FALSE, 7, 10,
};
static const SsqWireMessage message_deleted = {
  "m3", "c1", 9, "u2", "k3", "", 1700000002000, 1700000004000, TRUE, 0, 11,
};
const SsqWireMedia media_photo = {
  "f1", "photo.jpg", "image/jpeg", 240000, 1920, 1080, TRUE,
};
/* The same photo before its thumbnail was made (its size is known). */
static const SsqWireMedia media_photo_new = {
  "f1", "photo.jpg", "image/jpeg", 240000, 1920, 1080, FALSE,
};
/* Dimensions unknown (not an image): null on the wire. */
static const SsqWireMedia media_file = {
  "f2", "report \"Q3\"/\xc3\xa9.pdf", "application/pdf", 1200000, 0, 0,
};

/* A message with both media, in that order, as sent. */
static const SsqWireMessage *
message_with_media (void)
{
  static SsqWireMessage m = {
    "m4", "c1", 10, "u1", "k4", "look", 1700000006000, 0, FALSE, 0, 0,
  };

  if (m.media == NULL)
    {
      m.media = json_array_new ();
      json_array_add_object_element (m.media, ssq_wire_media_encode (&media_photo_new));
      json_array_add_object_element (m.media, ssq_wire_media_encode (&media_file));
    }
  return &m;
}

/* The same message once the photo's thumbnail is made: the same seq, a
 * new rev, not edited. */
static const SsqWireMessage *
message_thumbnailed (void)
{
  static SsqWireMessage m = {
    "m4", "c1", 10, "u1", "k4", "look", 1700000006000, 0, FALSE, 0, 12,
  };

  if (m.media == NULL)
    {
      m.media = json_array_new ();
      json_array_add_object_element (m.media, ssq_wire_media_encode (&media_photo));
      json_array_add_object_element (m.media, ssq_wire_media_encode (&media_file));
    }
  return &m;
}

static JsonObject *
encode_member (void)
{
  g_autoptr(JsonObject) user = ssq_wire_user_encode (&alice);
  SsqWireMember m = { user, "owner", 5, 4 };

  return ssq_wire_member_encode (&m);
}

static JsonObject *
encode_group (void)
{
  g_autoptr(JsonArray) members = json_array_new ();
  SsqWireConversation c = {
    "c1", "group", "Team", members, 7, 9, 4, 5, 3, TRUE, "owner", 1700000000000, 1700000001000,
  };

  json_array_add_object_element (members, encode_member ());
  return ssq_wire_conversation_encode (&c);
}

JsonObject *
encode_direct (void)
{
  g_autoptr(JsonArray) members = json_array_new ();
  SsqWireConversation c = {
    "c2", "direct", NULL, members, 0, 0, 0, 0, 0, FALSE, "member", 1700000000000, 1700000000000,
  };

  return ssq_wire_conversation_encode (&c);
}

static JsonNode *
int_node (gint64 value)
{
  return json_node_init_int (json_node_alloc (), value);
}

static JsonNode *
string_node (const char *value)
{
  return json_node_init_string (json_node_alloc (), value);
}

/* Encoders of each golden line, from the structs above. */
static JsonObject *
golden_encode (const char *name)
{
  g_autoptr(JsonNode) id1 = int_node (1), id2 = int_node (2), id3 = int_node (3);
  g_autoptr(JsonNode) id4 = int_node (4), id5 = int_node (5), id0 = int_node (0);
  g_autoptr(JsonNode) r1 = string_node ("r1"), p = string_node ("p");
  g_autoptr(JsonObject) user = ssq_wire_user_encode (&alice);
  g_autoptr(JsonObject) message = ssq_wire_message_encode (&message_plain);
  g_autoptr(JsonObject) direct = encode_direct ();
  g_autoptr(JsonArray) truncated = json_array_new ();
  g_autoptr(JsonObject) revs = json_object_new ();
  g_autoptr(JsonObject) since = json_object_new ();
  g_autoptr(JsonObject) since_rev = json_object_new ();

  json_array_add_string_element (truncated, "c1");
  json_object_set_int_member (revs, "c1", 9);
  json_object_set_int_member (revs, "c2", 0);
  json_object_set_int_member (since, "c1", 7);
  json_object_set_int_member (since_rev, "c1", 9);

#define IS(n) (g_str_equal (name, n))
  if (IS ("user"))
    return ssq_wire_user_encode (&alice);
  if (IS ("user-deleted"))
    return ssq_wire_user_encode (&deleted_user);
  if (IS ("member"))
    return encode_member ();
  if (IS ("conversation"))
    return encode_group ();
  if (IS ("conversation-direct"))
    return encode_direct ();
  if (IS ("message"))
    return ssq_wire_message_encode (&message_plain);
  if (IS ("message-edited"))
    return ssq_wire_message_encode (&message_edited);
  if (IS ("message-deleted"))
    return ssq_wire_message_encode (&message_deleted);
  if (IS ("message-media"))
    return ssq_wire_message_encode (message_with_media ());
  if (IS ("message-thumbnail"))
    return ssq_wire_message_encode (message_thumbnailed ());
  if (IS ("media"))
    return ssq_wire_media_encode (&media_photo);
  if (IS ("media-file"))
    return ssq_wire_media_encode (&media_file);
  if (IS ("welcome"))
    return ssq_wire_welcome_encode (&(SsqWireWelcome) { user, "s1", 1700000005000, 1, TRUE });
  if (IS ("ack"))
    return ssq_wire_ack_encode (&(SsqWireAck) { .id = id3 });
  if (IS ("ack-send"))
    return ssq_wire_ack_encode (&(SsqWireAck) { .id = r1, .message = message, .duplicate = TRUE });
  if (IS ("ack-sync"))
    return ssq_wire_ack_encode (&(SsqWireAck) { .id = id4, .truncated = truncated, .revs = revs });
  if (IS ("error"))
    return ssq_wire_error_encode (&(SsqWireError) { id5, "invalid", "Missing field \"seq\"", 0 });
  if (IS ("error-rate-limited"))
    return ssq_wire_error_encode (&(SsqWireError) { NULL, "rate_limited", "Slow down", 1500 });
  if (IS ("pong"))
    return ssq_wire_pong_encode (p);
  if (IS ("event-message"))
    return ssq_wire_event_encode (SSQ_FRAME_TYPE_MESSAGE, message);
  if (IS ("event-message-thumbnail"))
    {
      g_autoptr(JsonObject) thumbnailed = ssq_wire_message_encode (message_thumbnailed ());

      return ssq_wire_event_encode (SSQ_FRAME_TYPE_MESSAGE, thumbnailed);
    }
  if (IS ("event-conversation"))
    return ssq_wire_event_encode (SSQ_FRAME_TYPE_CONVERSATION, direct);
  if (IS ("conversation_removed"))
    return ssq_wire_removed_encode ("c1");
  if (IS ("receipt"))
    return ssq_wire_receipt_encode (&(SsqWireReceipt) { "c1", "u2", 7, 6 });
  if (IS ("typing"))
    return ssq_wire_typing_encode (&(SsqWireTyping) { NULL, "c1", "u2", TRUE });
  if (IS ("presence"))
    return ssq_wire_presence_encode (&(SsqWirePresence) { NULL, "u2", "away", 1700000000000 });
  if (IS ("notification"))
    return ssq_wire_notification_encode (&(SsqWireNotification) { "c1", 7, "mention", "u1" });
  if (IS ("send"))
    return ssq_wire_send_encode (&(SsqWireSend) { id1, "c1", "k1", "hi", 3, NULL });
  if (IS ("send-media"))
    {
      g_autoptr(JsonArray) ids = json_array_new ();

      json_array_add_string_element (ids, "f1");
      json_array_add_string_element (ids, "f2");
      return ssq_wire_send_encode (&(SsqWireSend) { id2, "c1", "k4", "look", 0, ids });
    }
  if (IS ("received"))
    return ssq_wire_mark_encode (SSQ_FRAME_TYPE_RECEIVED, &(SsqWireMark) { NULL, "c1", 7 });
  if (IS ("read"))
    return ssq_wire_mark_encode (SSQ_FRAME_TYPE_READ, &(SsqWireMark) { id2, "c1", 7 });
  if (IS ("typing-client"))
    return ssq_wire_typing_encode (&(SsqWireTyping) { NULL, "c1", NULL, FALSE });
  if (IS ("presence-client"))
    return ssq_wire_presence_encode (&(SsqWirePresence) { NULL, NULL, "dnd", 0 });
  if (IS ("sync"))
    return ssq_wire_sync_encode (&(SsqWireSync) { id3, since, since_rev });
  if (IS ("sync-page"))
    return ssq_wire_sync_encode (&(SsqWireSync) { id3, since, since_rev, "c1", "c5" });
  if (IS ("ping"))
    return ssq_wire_ping_encode (id0);
#undef IS
  g_error ("no encoder for golden line \"%s\"", name);
}

static char *
to_string (JsonObject *object)
{
  return ssq_json_object_to_string (object, NULL);
}

/* Nested parts compare by their encoding, which the lines above pin. */
static void
assert_same_object (JsonObject *decoded,
                    JsonObject *expected)
{
  g_autofree char *a = decoded ? to_string (decoded) : NULL;
  g_autofree char *b = expected ? to_string (expected) : NULL;

  g_assert_cmpstr (a, ==, b);
}

static void
assert_id (JsonNode   *id,
           const char *expected)
{
  g_autofree char *text = id ? json_to_string (id, FALSE) : NULL;

  g_assert_cmpstr (text, ==, expected);
}

void
assert_user (JsonObject        *object,
             const SsqWireUser *e)
{
  g_autoptr(GError) error = NULL;
  SsqWireUser u;

  g_assert_true (ssq_wire_user_decode (object, &u, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (u.id, ==, e->id);
  g_assert_cmpstr (u.username, ==, e->username);
  g_assert_cmpstr (u.display_name, ==, e->display_name);
  g_assert_cmpstr (u.presence, ==, e->presence);
  g_assert_cmpint (u.last_seen, ==, e->last_seen);
  g_assert_cmpint (u.deleted, ==, e->deleted);
}

void
assert_message (JsonObject           *object,
                const SsqWireMessage *e)
{
  g_autoptr(GError) error = NULL;
  SsqWireMessage m;

  g_assert_true (ssq_wire_message_decode (object, &m, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (m.id, ==, e->id);
  g_assert_cmpstr (m.conversation_id, ==, e->conversation_id);
  g_assert_cmpint (m.seq, ==, e->seq);
  g_assert_cmpstr (m.sender, ==, e->sender);
  g_assert_cmpstr (m.client_id, ==, e->client_id);
  g_assert_cmpstr (m.body, ==, e->body);
  g_assert_cmpint (m.created_at, ==, e->created_at);
  g_assert_cmpint (m.edited_at, ==, e->edited_at);
  g_assert_cmpint (m.deleted, ==, e->deleted);
  g_assert_cmpint (m.reply_to, ==, e->reply_to);
  g_assert_cmpint (m.rev, ==, e->rev);
}

void
assert_media (JsonObject         *object,
              const SsqWireMedia *e)
{
  g_autoptr(GError) error = NULL;
  SsqWireMedia m;

  g_assert_true (ssq_wire_media_decode (object, &m, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (m.id, ==, e->id);
  g_assert_cmpstr (m.name, ==, e->name);
  g_assert_cmpstr (m.mime, ==, e->mime);
  g_assert_cmpint (m.size, ==, e->size);
  g_assert_cmpint (m.width, ==, e->width);
  g_assert_cmpint (m.height, ==, e->height);
  g_assert_cmpint (m.thumbnail, ==, e->thumbnail);
}

/* The media of a decoded message, each read as a media object. */
static void
assert_message_media (JsonObject         *object,
                      const SsqWireMedia *photo)
{
  SsqWireMessage m;

  g_assert_true (ssq_wire_message_decode (object, &m, NULL));
  g_assert_nonnull (m.media);
  g_assert_cmpuint (json_array_get_length (m.media), ==, 2);
  assert_media (json_array_get_object_element (m.media, 0), photo);
  assert_media (json_array_get_object_element (m.media, 1), &media_file);
}

static void
assert_member (JsonObject *object)
{
  g_autoptr(GError) error = NULL;
  SsqWireMember m;

  g_assert_true (ssq_wire_member_decode (object, &m, &error));
  assert_user (m.user, &alice);
  g_assert_cmpstr (m.role, ==, "owner");
  g_assert_cmpint (m.delivered_seq, ==, 5);
  g_assert_cmpint (m.read_seq, ==, 4);
}

void
assert_conversation (JsonObject *object,
                     gboolean    group)
{
  g_autoptr(GError) error = NULL;
  SsqWireConversation c;

  g_assert_true (ssq_wire_conversation_decode (object, &c, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (c.id, ==, group ? "c1" : "c2");
  g_assert_cmpstr (c.kind, ==, group ? "group" : "direct");
  g_assert_cmpstr (c.title, ==, group ? "Team" : NULL);
  g_assert_cmpuint (json_array_get_length (c.members), ==, group ? 1 : 0);
  if (group)
    assert_member (json_array_get_object_element (c.members, 0));
  g_assert_cmpint (c.last_seq, ==, group ? 7 : 0);
  g_assert_cmpint (c.rev, ==, group ? 9 : 0);
  g_assert_cmpint (c.read_seq, ==, group ? 4 : 0);
  g_assert_cmpint (c.delivered_seq, ==, group ? 5 : 0);
  g_assert_cmpint (c.unread, ==, group ? 3 : 0);
  g_assert_cmpint (c.muted, ==, group);
  g_assert_cmpstr (c.role, ==, group ? "owner" : "member");
  g_assert_cmpint (c.created_at, ==, 1700000000000);
  g_assert_cmpint (c.updated_at, ==, group ? 1700000001000 : 1700000000000);
}

/* Decodes @object, a golden line, and checks it is the struct its encoder
 * started from. Frames go through the head first, as a receiver reads them. */
static void
golden_decode (const char *name,
               JsonObject *object)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) expected_message = ssq_wire_message_encode (&message_plain);
  SsqWireHead head = { SSQ_FRAME_TYPE_N, NULL };
  gboolean client = g_str_has_prefix (name, "send") || g_str_equal (name, "received") ||
                    g_str_equal (name, "read") || g_str_equal (name, "typing-client") ||
                    g_str_equal (name, "presence-client") || g_str_has_prefix (name, "sync") ||
                    g_str_equal (name, "ping");

  if (json_object_has_member (object, "type"))
    {
      g_assert_true (ssq_wire_head_decode (object, client ? SSQ_WIRE_FROM_CLIENT
                                                          : SSQ_WIRE_FROM_SERVER, &head, &error));
      g_assert_no_error (error);
      g_assert_cmpstr (ssq_wire_frame_name (head.type), ==,
                       json_object_get_string_member (object, "type"));
    }

#define IS(n) (g_str_equal (name, n))
  if (IS ("user"))
    assert_user (object, &alice);
  else if (IS ("user-deleted"))
    assert_user (object, &deleted_user);
  else if (IS ("member"))
    assert_member (object);
  else if (IS ("conversation") || IS ("conversation-direct"))
    assert_conversation (object, IS ("conversation"));
  else if (IS ("message"))
    assert_message (object, &message_plain);
  else if (IS ("message-edited"))
    assert_message (object, &message_edited);
  else if (IS ("message-deleted"))
    assert_message (object, &message_deleted);
  else if (IS ("message-media"))
    {
      assert_message (object, message_with_media ());
      assert_message_media (object, &media_photo_new);
    }
  else if (IS ("message-thumbnail"))
    {
      assert_message (object, message_thumbnailed ());
      assert_message_media (object, &media_photo);
    }
  else if (IS ("media"))
    assert_media (object, &media_photo);
  else if (IS ("media-file"))
    assert_media (object, &media_file);
  else if (IS ("send-media"))
    {
      SsqWireSend send;

      g_assert_true (ssq_wire_send_decode (object, &send, &error));
      g_assert_no_error (error);
      assert_id (send.id, "2");
      g_assert_cmpstr (send.body, ==, "look");
      g_assert_cmpuint (json_array_get_length (send.media), ==, 2);
      g_assert_cmpstr (json_array_get_string_element (send.media, 1), ==, "f2");
    }
  else if (IS ("welcome"))
    {
      SsqWireWelcome w;

      g_assert_true (ssq_wire_welcome_decode (object, &w, &error));
      assert_user (w.user, &alice);
      g_assert_cmpstr (w.session_id, ==, "s1");
      g_assert_cmpint (w.server_time, ==, 1700000005000);
      g_assert_cmpint (w.protocol, ==, SSQ_PROTOCOL_VERSION);
      g_assert_true (w.sync_pages);
    }
  else if (g_str_has_prefix (name, "ack"))
    {
      SsqWireAck a;

      g_assert_true (ssq_wire_ack_decode (object, &a, &error));
      g_assert_no_error (error);
      assert_id (a.id, IS ("ack") ? "3" : IS ("ack-send") ? "\"r1\"" : "4");
      assert_same_object (a.message, IS ("ack-send") ? expected_message : NULL);
      g_assert_cmpint (a.duplicate, ==, IS ("ack-send"));
      g_assert_cmpuint (a.truncated ? json_array_get_length (a.truncated) : 0, ==,
                        IS ("ack-sync") ? 1 : 0);
      g_assert_cmpint (a.revs ? json_object_get_int_member (a.revs, "c1") : -1, ==,
                       IS ("ack-sync") ? 9 : -1);
    }
  else if (g_str_has_prefix (name, "error"))
    {
      SsqWireError e;

      g_assert_true (ssq_wire_error_decode (object, &e));
      assert_id (e.id, IS ("error") ? "5" : NULL);
      g_assert_cmpstr (e.code, ==, IS ("error") ? "invalid" : "rate_limited");
      g_assert_cmpstr (e.message, ==, IS ("error") ? "Missing field \"seq\"" : "Slow down");
      g_assert_cmpint (e.retry_after_ms, ==, IS ("error") ? 0 : 1500);
    }
  else if (IS ("pong") || IS ("ping"))
    assert_id (head.id, IS ("pong") ? "\"p\"" : "0");
  else if (IS ("event-message") || IS ("event-conversation") || IS ("event-message-thumbnail"))
    {
      JsonObject *inner = NULL;

      g_assert_true (ssq_wire_event_decode (object, head.type, &inner, &error));
      if (IS ("event-message"))
        assert_message (inner, &message_plain);
      else if (IS ("event-message-thumbnail"))
        {
          assert_message (inner, message_thumbnailed ());
          assert_message_media (inner, &media_photo);
        }
      else
        assert_conversation (inner, FALSE);
    }
  else if (IS ("conversation_removed"))
    {
      const char *id = NULL;

      g_assert_true (ssq_wire_removed_decode (object, &id, &error));
      g_assert_cmpstr (id, ==, "c1");
    }
  else if (IS ("receipt"))
    {
      SsqWireReceipt r;

      g_assert_true (ssq_wire_receipt_decode (object, &r, &error));
      g_assert_cmpstr (r.conversation_id, ==, "c1");
      g_assert_cmpstr (r.user, ==, "u2");
      g_assert_cmpint (r.delivered_seq, ==, 7);
      g_assert_cmpint (r.read_seq, ==, 6);
    }
  else if (IS ("typing") || IS ("typing-client"))
    {
      SsqWireTyping t;

      g_assert_true (ssq_wire_typing_decode (object, client ? SSQ_WIRE_FROM_CLIENT
                                                            : SSQ_WIRE_FROM_SERVER, &t, &error));
      g_assert_null (t.id);
      g_assert_cmpstr (t.conversation_id, ==, "c1");
      g_assert_cmpstr (t.user, ==, client ? NULL : "u2");
      g_assert_cmpint (t.active, ==, !client);
    }
  else if (IS ("presence") || IS ("presence-client"))
    {
      SsqWirePresence pr;

      g_assert_true (ssq_wire_presence_decode (object, client ? SSQ_WIRE_FROM_CLIENT
                                                              : SSQ_WIRE_FROM_SERVER, &pr, &error));
      g_assert_cmpstr (pr.user, ==, client ? NULL : "u2");
      g_assert_cmpstr (pr.status, ==, client ? "dnd" : "away");
      g_assert_cmpint (pr.last_seen, ==, client ? 0 : 1700000000000);
    }
  else if (IS ("notification"))
    {
      SsqWireNotification n;

      g_assert_true (ssq_wire_notification_decode (object, &n, &error));
      g_assert_cmpstr (n.conversation_id, ==, "c1");
      g_assert_cmpint (n.seq, ==, 7);
      g_assert_cmpstr (n.reason, ==, "mention");
      g_assert_cmpstr (n.sender, ==, "u1");
    }
  else if (IS ("send"))
    {
      SsqWireSend s;

      g_assert_true (ssq_wire_send_decode (object, &s, &error));
      assert_id (s.id, "1");
      g_assert_cmpstr (s.conversation_id, ==, "c1");
      g_assert_cmpstr (s.client_id, ==, "k1");
      g_assert_cmpstr (s.body, ==, "hi");
      g_assert_cmpint (s.reply_to, ==, 3);
      g_assert_null (s.media);
    }
  else if (IS ("received") || IS ("read"))
    {
      SsqWireMark m;

      g_assert_true (ssq_wire_mark_decode (object, &m, &error));
      assert_id (m.id, IS ("read") ? "2" : NULL);
      g_assert_cmpstr (m.conversation_id, ==, "c1");
      g_assert_cmpint (m.seq, ==, 7);
    }
  else if (IS ("sync") || IS ("sync-page"))
    {
      SsqWireSync s;

      g_assert_true (ssq_wire_sync_decode (object, &s, &error));
      assert_id (s.id, "3");
      g_assert_cmpint (json_object_get_int_member (s.since, "c1"), ==, 7);
      g_assert_cmpint (json_object_get_int_member (s.since_rev, "c1"), ==, 9);
      g_assert_cmpstr (s.from_id, ==, IS ("sync") ? NULL : "c1");
      g_assert_cmpstr (s.to_id, ==, IS ("sync") ? NULL : "c5");
    }
  else
    g_error ("no decoder for golden line \"%s\"", name);
#undef IS
  g_assert_no_error (error);
}

static char *
history_fast_path (gboolean with_message)
{
  GString *out = g_string_new (NULL);

  ssq_wire_history_open (out);
  /* The stored form is what the server's writer makes: the direct writer. */
  if (with_message)
    ssq_wire_message_write (out, &message_plain);
  ssq_wire_history_close (out, with_message);
  return g_string_free (out, FALSE);
}

static const SsqWireMessage *
golden_message (const char *name)
{
  if (g_str_equal (name, "message-edited"))
    return &message_edited;
  if (g_str_equal (name, "message-deleted"))
    return &message_deleted;
  if (g_str_equal (name, "message-media"))
    return message_with_media ();
  if (g_str_equal (name, "message-thumbnail"))
    return message_thumbnailed ();
  return &message_plain;
}

/* Every golden line both ways: decode(golden) is the expected struct and
 * encode(struct) is the golden bytes; and every frame type has a line. */
static void
test_wire_golden (void)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "golden", "wire-frames.txt", NULL);
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  gboolean seen[SSQ_FRAME_TYPE_N] = { FALSE };
  guint n = 0;

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(JsonObject) decoded = NULL, encoded = NULL;
      g_autofree char *name = NULL, *bytes = NULL;
      const char *space = strchr (lines[i], ' ');
      SsqFrameType type;

      if (lines[i][0] == '#' || lines[i][0] == '\0')
        continue;
      g_assert_nonnull (space);
      name = g_strndup (lines[i], space - lines[i]);
      g_test_message ("golden %s", name);
      decoded = ssq_json_parse_object (space + 1, strlen (space + 1), &error);
      g_assert_no_error (error);
      if (g_str_has_prefix (name, "rest-"))
        {
          rest_decode (name, decoded);
          encoded = rest_encode (name);
        }
      else if (g_str_has_prefix (name, "queue"))
        {
          queue_decode (name, decoded);
          encoded = queue_encode (name);
        }
      else
        {
          golden_decode (name, decoded);
          encoded = golden_encode (name);
        }
      bytes = to_string (encoded);
      g_assert_cmpstr (bytes, ==, space + 1);
      if (g_str_has_prefix (name, "message"))
        {
          g_autoptr(GString) written = g_string_new (NULL);

          ssq_wire_message_write (written, golden_message (name));
          g_assert_cmpstr (written->str, ==, space + 1);
        }
      if (g_str_has_prefix (name, "rest-messages"))
        {
          g_autofree char *fast = history_fast_path (g_str_equal (name, "rest-messages"));

          g_assert_cmpstr (fast, ==, space + 1);
        }
      if (ssq_wire_frame_from_name (json_object_get_string_member_with_default (decoded, "type", ""),
                                    SSQ_WIRE_FROM_CLIENT | SSQ_WIRE_FROM_SERVER, &type))
        seen[type] = TRUE;
      n++;
    }
  g_assert_cmpuint (n, >=, 29 + 21);
  for (guint t = 0; t < SSQ_FRAME_TYPE_N; t++)
    {
      g_test_message ("frame type %s", ssq_wire_frame_name (t));
      g_assert_true (seen[t]);
    }
}

/* The type table: each name once, each direction as the protocol says. */
static void
test_wire_types (void)
{
  SsqFrameType type;

  for (guint t = 0; t < SSQ_FRAME_TYPE_N; t++)
    {
      g_assert_true (ssq_wire_frame_from_name (ssq_wire_frame_name (t),
                                               SSQ_WIRE_FROM_CLIENT | SSQ_WIRE_FROM_SERVER,
                                               &type));
      g_assert_cmpint (type, ==, t);
    }
  g_assert_true (ssq_wire_frame_from_name ("typing", SSQ_WIRE_FROM_CLIENT, &type));
  g_assert_true (ssq_wire_frame_from_name ("typing", SSQ_WIRE_FROM_SERVER, &type));
  g_assert_false (ssq_wire_frame_from_name ("ack", SSQ_WIRE_FROM_CLIENT, &type));
  g_assert_false (ssq_wire_frame_from_name ("send", SSQ_WIRE_FROM_SERVER, &type));
  g_assert_false (ssq_wire_frame_from_name ("Send", SSQ_WIRE_FROM_CLIENT, &type));
  g_assert_false (ssq_wire_frame_from_name (NULL, SSQ_WIRE_FROM_CLIENT, &type));
}

/* Decoders refuse what is not the protocol, with a precise error. */
static void
test_wire_rejects (void)
{
  const struct { const char *json; SsqFrameType type; } bad[] = {
    { "{\"type\":\"read\",\"conversation_id\":\"c1\",\"seq\":-1,\"id\":1}", SSQ_FRAME_TYPE_READ },
    { "{\"type\":\"read\",\"seq\":1,\"id\":1}", SSQ_FRAME_TYPE_READ },
    { "{\"type\":\"sync\",\"since\":{\"c1\":\"7\"},\"id\":1}", SSQ_FRAME_TYPE_SYNC },
    { "{\"type\":\"sync\",\"since_rev\":{\"c1\":-2},\"id\":1}", SSQ_FRAME_TYPE_SYNC },
    { "{\"type\":\"sync\",\"since\":[],\"id\":1}", SSQ_FRAME_TYPE_SYNC },
    { "{\"type\":\"sync\",\"from_id\":7,\"id\":1}", SSQ_FRAME_TYPE_SYNC },
    { "{\"type\":\"sync\",\"to_id\":\"\",\"id\":1}", SSQ_FRAME_TYPE_SYNC },
    { "{\"type\":\"sync\",\"from_id\":\"c5\",\"to_id\":\"c5\",\"id\":1}", SSQ_FRAME_TYPE_SYNC },
    { "{\"type\":\"sync\",\"from_id\":\"c5\",\"to_id\":\"c1\",\"id\":1}", SSQ_FRAME_TYPE_SYNC },
    { "{\"type\":\"send\",\"client_id\":\"k\",\"body\":5,\"id\":1}", SSQ_FRAME_TYPE_SEND },
    { "{\"type\":\"send\",\"client_id\":\"k\",\"body\":\"b\",\"reply_to\":0}", SSQ_FRAME_TYPE_SEND },
    { "{\"type\":\"typing\",\"conversation_id\":\"c1\",\"active\":1}", SSQ_FRAME_TYPE_TYPING },
    { "{\"type\":\"presence\",\"status\":null}", SSQ_FRAME_TYPE_PRESENCE },
  };
  const char *bad_heads[] = {
    "{\"type\":\"ack\",\"id\":1}", "{\"type\":\"nope\"}", "{\"id\":1}", "{\"type\":\"ping\",\"id\":1.5}",
    "{\"type\":\"ping\",\"id\":[1]}", "{\"type\":7}",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(JsonObject) frame = ssq_json_parse_object (bad[i].json, strlen (bad[i].json), NULL);
      SsqWireHead head;
      union { SsqWireMark m; SsqWireSync s; SsqWireSend send; SsqWireTyping t; SsqWirePresence p; } u;
      gboolean ok = FALSE;

      g_test_message ("%s", bad[i].json);
      g_assert_true (ssq_wire_head_decode (frame, SSQ_WIRE_FROM_CLIENT, &head, NULL));
      g_assert_cmpint (head.type, ==, bad[i].type);
      switch (bad[i].type)
        {
        case SSQ_FRAME_TYPE_READ: ok = ssq_wire_mark_decode (frame, &u.m, &error); break;
        case SSQ_FRAME_TYPE_SYNC: ok = ssq_wire_sync_decode (frame, &u.s, &error); break;
        case SSQ_FRAME_TYPE_SEND: ok = ssq_wire_send_decode (frame, &u.send, &error); break;
        case SSQ_FRAME_TYPE_TYPING:
          ok = ssq_wire_typing_decode (frame, SSQ_WIRE_FROM_CLIENT, &u.t, &error);
          break;
        case SSQ_FRAME_TYPE_PRESENCE:
          ok = ssq_wire_presence_decode (frame, SSQ_WIRE_FROM_CLIENT, &u.p, &error);
          break;
        default: g_assert_not_reached ();
        }
      g_assert_false (ok);
      g_assert_error (error, SSQ_ERROR, SSQ_ERROR_INVALID);
    }
  for (guint i = 0; i < G_N_ELEMENTS (bad_heads); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(JsonObject) frame = ssq_json_parse_object (bad_heads[i], strlen (bad_heads[i]), NULL);
      SsqWireHead head;

      g_test_message ("%s", bad_heads[i]);
      g_assert_false (ssq_wire_head_decode (frame, SSQ_WIRE_FROM_CLIENT, &head, &error));
      g_assert_error (error, SSQ_ERROR, SSQ_ERROR_INVALID);
    }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/shared/wire/golden", test_wire_golden);
  g_test_add_func ("/shared/wire/types", test_wire_types);
  g_test_add_func ("/shared/wire/rejects", test_wire_rejects);
  queue_add_tests ();
  return g_test_run ();
}
