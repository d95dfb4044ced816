/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-wire.c: the frame type table and the protocol's objects (user,
 * member, conversation, message), each mapped to JSON in one place. */
#include "ssq-wire.h"
#include "ssq-json.h"

#include <string.h>

static const struct {
  const char       *name;
  SsqWireDirection  from;
} frame_table[SSQ_FRAME_TYPE_N] = {
  [SSQ_FRAME_TYPE_SEND]                 = { SSQ_FRAME_SEND, SSQ_WIRE_FROM_CLIENT },
  [SSQ_FRAME_TYPE_SYNC]                 = { SSQ_FRAME_SYNC, SSQ_WIRE_FROM_CLIENT },
  [SSQ_FRAME_TYPE_RECEIVED]             = { SSQ_FRAME_RECEIVED, SSQ_WIRE_FROM_CLIENT },
  [SSQ_FRAME_TYPE_READ]                 = { SSQ_FRAME_READ, SSQ_WIRE_FROM_CLIENT },
  [SSQ_FRAME_TYPE_TYPING]               = { SSQ_FRAME_TYPING,
                                            SSQ_WIRE_FROM_CLIENT | SSQ_WIRE_FROM_SERVER },
  [SSQ_FRAME_TYPE_PRESENCE]             = { SSQ_FRAME_PRESENCE,
                                            SSQ_WIRE_FROM_CLIENT | SSQ_WIRE_FROM_SERVER },
  [SSQ_FRAME_TYPE_PING]                 = { SSQ_FRAME_PING, SSQ_WIRE_FROM_CLIENT },
  [SSQ_FRAME_TYPE_WELCOME]              = { SSQ_FRAME_WELCOME, SSQ_WIRE_FROM_SERVER },
  [SSQ_FRAME_TYPE_ACK]                  = { SSQ_FRAME_ACK, SSQ_WIRE_FROM_SERVER },
  [SSQ_FRAME_TYPE_ERROR]                = { SSQ_FRAME_ERROR, SSQ_WIRE_FROM_SERVER },
  [SSQ_FRAME_TYPE_PONG]                 = { SSQ_FRAME_PONG, SSQ_WIRE_FROM_SERVER },
  [SSQ_FRAME_TYPE_MESSAGE]              = { SSQ_FRAME_MESSAGE, SSQ_WIRE_FROM_SERVER },
  [SSQ_FRAME_TYPE_CONVERSATION]         = { SSQ_FRAME_CONVERSATION, SSQ_WIRE_FROM_SERVER },
  [SSQ_FRAME_TYPE_CONVERSATION_REMOVED] = { SSQ_FRAME_CONVERSATION_REMOVED,
                                            SSQ_WIRE_FROM_SERVER },
  [SSQ_FRAME_TYPE_RECEIPT]              = { SSQ_FRAME_RECEIPT, SSQ_WIRE_FROM_SERVER },
  [SSQ_FRAME_TYPE_NOTIFICATION]         = { SSQ_FRAME_NOTIFICATION, SSQ_WIRE_FROM_SERVER },
  [SSQ_FRAME_TYPE_QUEUE_PUBLISH]        = { SSQ_FRAME_QUEUE_PUBLISH, SSQ_WIRE_FROM_CLIENT },
  [SSQ_FRAME_TYPE_QUEUE_SUBSCRIBE]      = { SSQ_FRAME_QUEUE_SUBSCRIBE, SSQ_WIRE_FROM_CLIENT },
  [SSQ_FRAME_TYPE_QUEUE_UNSUBSCRIBE]    = { SSQ_FRAME_QUEUE_UNSUBSCRIBE, SSQ_WIRE_FROM_CLIENT },
  [SSQ_FRAME_TYPE_QUEUE_ACK]            = { SSQ_FRAME_QUEUE_ACK, SSQ_WIRE_FROM_CLIENT },
  [SSQ_FRAME_TYPE_QUEUE_NACK]           = { SSQ_FRAME_QUEUE_NACK, SSQ_WIRE_FROM_CLIENT },
  [SSQ_FRAME_TYPE_QUEUE_MESSAGE]        = { SSQ_FRAME_QUEUE_MESSAGE, SSQ_WIRE_FROM_SERVER },
  [SSQ_FRAME_TYPE_QUEUE_CANCELLED]      = { SSQ_FRAME_QUEUE_CANCELLED, SSQ_WIRE_FROM_SERVER },
};

/**
 * ssq_wire_frame_name:
 * The `type` string of a frame type.
 */
const char *
ssq_wire_frame_name (SsqFrameType type)
{
  g_return_val_if_fail ((guint) type < SSQ_FRAME_TYPE_N, NULL);
  return frame_table[type].name;
}

/**
 * ssq_wire_frame_from_name:
 * Looks up a `type` string among the frames @direction may send.
 *
 * Returns: whether @name is such a frame type
 */
gboolean
ssq_wire_frame_from_name (const char       *name,
                          SsqWireDirection  direction,
                          SsqFrameType     *out_type)
{
  for (guint i = 0; name != NULL && i < SSQ_FRAME_TYPE_N; i++)
    {
      if ((frame_table[i].from & direction) != 0 && strcmp (frame_table[i].name, name) == 0)
        {
          *out_type = (SsqFrameType) i;
          return TRUE;
        }
    }
  return FALSE;
}

static void
set_int_or_null (JsonObject *object,
                 const char *name,
                 gint64      value)
{
  if (value > 0)
    json_object_set_int_member (object, name, value);
  else
    json_object_set_null_member (object, name);
}

static void
set_string_or_null (JsonObject *object,
                    const char *name,
                    const char *value)
{
  if (value != NULL)
    json_object_set_string_member (object, name, value);
  else
    json_object_set_null_member (object, name);
}

/* ---- user ------------------------------------------------------------- */

/**
 * ssq_wire_user_encode:
 * Returns: (transfer full): the `user` object; `deleted` and
 * `server_admin` only when set.
 */
JsonObject *
ssq_wire_user_encode (const SsqWireUser *user)
{
  JsonObject *obj = json_object_new ();

  json_object_set_string_member (obj, "id", user->id);
  json_object_set_string_member (obj, "username", user->username);
  json_object_set_string_member (obj, "display_name", user->display_name);
  json_object_set_string_member (obj, "presence", user->presence);
  set_int_or_null (obj, "last_seen", user->last_seen);
  if (user->deleted)
    json_object_set_boolean_member (obj, "deleted", TRUE);
  if (user->server_admin)
    json_object_set_boolean_member (obj, "server_admin", TRUE);
  return obj;
}

/**
 * ssq_wire_user_decode:
 * Reads a `user` object: `id` and `username` are required, the rest
 * default to NULL, 0 and FALSE.
 */
gboolean
ssq_wire_user_decode (JsonObject   *object,
                      SsqWireUser  *out,
                      GError      **error)
{
  *out = (SsqWireUser) { 0 };
  return ssq_json_get_string (object, "id", TRUE, &out->id, error) &&
         ssq_json_get_string (object, "username", TRUE, &out->username, error) &&
         ssq_json_get_string (object, "display_name", FALSE, &out->display_name, error) &&
         ssq_json_get_string (object, "presence", FALSE, &out->presence, error) &&
         ssq_json_get_int (object, "last_seen", FALSE, 0, G_MAXINT64, &out->last_seen, error) &&
         ssq_json_get_bool (object, "deleted", FALSE, &out->deleted, error) &&
         ssq_json_get_bool (object, "server_admin", FALSE, &out->server_admin, error);
}

/* ---- member ----------------------------------------------------------- */

JsonObject *
ssq_wire_member_encode (const SsqWireMember *member)
{
  JsonObject *obj = json_object_new ();

  json_object_set_object_member (obj, "user", json_object_ref (member->user));
  json_object_set_string_member (obj, "role", member->role);
  json_object_set_int_member (obj, "delivered_seq", member->delivered_seq);
  json_object_set_int_member (obj, "read_seq", member->read_seq);
  return obj;
}

/**
 * ssq_wire_member_decode:
 * Reads a `member` object; its `user` is left for ssq_wire_user_decode().
 */
gboolean
ssq_wire_member_decode (JsonObject     *object,
                        SsqWireMember  *out,
                        GError        **error)
{
  *out = (SsqWireMember) { 0 };
  return ssq_json_get_object (object, "user", TRUE, &out->user, error) &&
         ssq_json_get_string (object, "role", FALSE, &out->role, error) &&
         ssq_json_get_int (object, "delivered_seq", FALSE, 0, G_MAXINT64, &out->delivered_seq,
                           error) &&
         ssq_json_get_int (object, "read_seq", FALSE, 0, G_MAXINT64, &out->read_seq, error);
}

/* ---- conversation ----------------------------------------------------- */

/**
 * ssq_wire_conversation_encode:
 * @conversation: its `members` array is shared (referenced), so that one
 *   array serves every viewer of an event.
 */
JsonObject *
ssq_wire_conversation_encode (const SsqWireConversation *conversation)
{
  JsonObject *obj = json_object_new ();

  json_object_set_string_member (obj, "id", conversation->id);
  json_object_set_string_member (obj, "kind", conversation->kind);
  set_string_or_null (obj, "title", conversation->title);
  json_object_set_array_member (obj, "members", json_array_ref (conversation->members));
  json_object_set_int_member (obj, "last_seq", conversation->last_seq);
  json_object_set_int_member (obj, "rev", conversation->rev);
  json_object_set_int_member (obj, "read_seq", conversation->read_seq);
  json_object_set_int_member (obj, "delivered_seq", conversation->delivered_seq);
  json_object_set_int_member (obj, "unread", conversation->unread);
  json_object_set_boolean_member (obj, "muted", conversation->muted);
  json_object_set_string_member (obj, "role", conversation->role);
  json_object_set_int_member (obj, "created_at", conversation->created_at);
  json_object_set_int_member (obj, "updated_at", conversation->updated_at);
  return obj;
}

/**
 * ssq_wire_conversation_decode:
 * Reads a `conversation` object: `id` and `kind` are required; `members`
 * may be absent (NULL), each is read with ssq_wire_member_decode().
 */
gboolean
ssq_wire_conversation_decode (JsonObject           *object,
                              SsqWireConversation  *out,
                              GError              **error)
{
  SsqWireConversation *c = out;

  *c = (SsqWireConversation) { 0 };
  return ssq_json_get_string (object, "id", TRUE, &c->id, error) &&
         ssq_json_get_array (object, "members", FALSE, G_MAXUINT, &c->members, error) &&
         ssq_json_get_string (object, "kind", TRUE, &c->kind, error) &&
         ssq_json_get_string (object, "title", FALSE, &c->title, error) &&
         ssq_json_get_string (object, "role", FALSE, &c->role, error) &&
         ssq_json_get_bool (object, "muted", FALSE, &c->muted, error) &&
         ssq_json_get_int (object, "last_seq", FALSE, 0, G_MAXINT64, &c->last_seq, error) &&
         ssq_json_get_int (object, "read_seq", FALSE, 0, G_MAXINT64, &c->read_seq, error) &&
         ssq_json_get_int (object, "delivered_seq", FALSE, 0, G_MAXINT64, &c->delivered_seq,
                           error) &&
         ssq_json_get_int (object, "unread", FALSE, 0, G_MAXINT64, &c->unread, error) &&
         ssq_json_get_int (object, "created_at", FALSE, 0, G_MAXINT64, &c->created_at, error) &&
         ssq_json_get_int (object, "updated_at", FALSE, 0, G_MAXINT64, &c->updated_at, error) &&
         ssq_json_get_int (object, "rev", FALSE, 0, G_MAXINT64, &c->rev, error);
}

/* ---- media ------------------------------------------------------------ */

/**
 * ssq_wire_media_encode:
 * Returns: (transfer full): the `media` object; an unknown width or height
 *   (0) is null.
 */
JsonObject *
ssq_wire_media_encode (const SsqWireMedia *media)
{
  JsonObject *obj = json_object_new ();

  json_object_set_string_member (obj, "id", media->id);
  json_object_set_string_member (obj, "name", media->name);
  json_object_set_string_member (obj, "mime", media->mime);
  json_object_set_int_member (obj, "size", media->size);
  set_int_or_null (obj, "width", media->width);
  set_int_or_null (obj, "height", media->height);
  json_object_set_boolean_member (obj, "thumbnail", media->thumbnail);
  return obj;
}

/**
 * ssq_wire_media_decode:
 * Reads a `media` object: `id` is required, `size` is 0 or more, `width`
 * and `height` read 0 when null or absent, `thumbnail` FALSE when absent
 * (media stored before thumbnails existed).
 */
gboolean
ssq_wire_media_decode (JsonObject    *object,
                       SsqWireMedia  *out,
                       GError       **error)
{
  *out = (SsqWireMedia) { 0 };
  return ssq_json_get_string (object, "id", TRUE, &out->id, error) &&
         ssq_json_get_string (object, "name", FALSE, &out->name, error) &&
         ssq_json_get_string (object, "mime", FALSE, &out->mime, error) &&
         ssq_json_get_int (object, "size", FALSE, 0, G_MAXINT64, &out->size, error) &&
         ssq_json_get_int (object, "width", FALSE, 0, G_MAXINT64, &out->width, error) &&
         ssq_json_get_int (object, "height", FALSE, 0, G_MAXINT64, &out->height, error) &&
         ssq_json_get_bool (object, "thumbnail", FALSE, &out->thumbnail, error);
}

/* ---- message ---------------------------------------------------------- */

/**
 * ssq_wire_message_encode:
 * Returns: (transfer full): the `message` object; its `media` array is
 *   @message's (referenced), or empty.
 */
JsonObject *
ssq_wire_message_encode (const SsqWireMessage *message)
{
  JsonObject *obj = json_object_new ();

  json_object_set_string_member (obj, "id", message->id);
  json_object_set_string_member (obj, "conversation_id", message->conversation_id);
  json_object_set_int_member (obj, "seq", message->seq);
  json_object_set_string_member (obj, "sender", message->sender);
  json_object_set_string_member (obj, "client_id", message->client_id);
  json_object_set_string_member (obj, "body", message->body);
  json_object_set_int_member (obj, "created_at", message->created_at);
  set_int_or_null (obj, "edited_at", message->edited_at);
  json_object_set_boolean_member (obj, "deleted", message->deleted);
  set_int_or_null (obj, "reply_to", message->reply_to);
  json_object_set_array_member (obj, "media", message->media != NULL ? json_array_ref (message->media)
                                                                     : json_array_new ());
  json_object_set_int_member (obj, "rev", message->rev);
  return obj;
}

/* @text as a JSON string the way ssq_json_node_to_string () writes it, so
 * that the direct writer and the JsonObject path give the same bytes: '"'
 * and '\\' escaped, \b \f \n \r \t short, the other bytes 0x01-0x1f and
 * 0x7f as \u00xx (lower-case), and everything else, '/' and UTF-8
 * sequences, kept as is. NULL is null, as json_object_set_string_member()
 * makes it. */
static void
write_string (GString    *out,
              const char *text)
{
  static const char hex[] = "0123456789abcdef";
  const char *run;

  if (text == NULL)
    {
      g_string_append_len (out, "null", 4);
      return;
    }
  g_string_append_c (out, '"');
  run = text;
  for (const char *p = text; *p != '\0'; p++)
    {
      guchar c = (guchar) *p;
      char esc[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xf] };
      gsize esc_len = 6;

      if (c > 0x1f && c != '"' && c != '\\' && c != 0x7f)
        continue;
      switch (c)
        {
        case '"': esc[1] = '"'; esc_len = 2; break;
        case '\\': esc[1] = '\\'; esc_len = 2; break;
        case '\b': esc[1] = 'b'; esc_len = 2; break;
        case '\f': esc[1] = 'f'; esc_len = 2; break;
        case '\n': esc[1] = 'n'; esc_len = 2; break;
        case '\r': esc[1] = 'r'; esc_len = 2; break;
        case '\t': esc[1] = 't'; esc_len = 2; break;
        default: break;
        }
      g_string_append_len (out, run, p - run);
      g_string_append_len (out, esc, esc_len);
      run = p + 1;
    }
  g_string_append (out, run);
  g_string_append_c (out, '"');
}

/* @value in decimal, as json-glib prints a gint64, without printf. */
static void
write_int (GString *out,
           gint64   value)
{
  char digits[24];
  char *end = digits + sizeof digits;
  char *p = end;
  guint64 magnitude = value < 0 ? -(guint64) value : (guint64) value;

  do
    {
      *--p = (char) ('0' + magnitude % 10);
      magnitude /= 10;
    }
  while (magnitude != 0);
  if (value < 0)
    *--p = '-';
  g_string_append_len (out, p, end - p);
}

/* @key is the member's ,"name": text, a literal needing no escapes. */
static void
write_int_or_null_member (GString    *out,
                          const char *key,
                          gint64      value)
{
  g_string_append (out, key);
  if (value > 0)
    write_int (out, value);
  else
    g_string_append_len (out, "null", 4);
}

static void
write_media (GString            *out,
             const SsqWireMedia *media)
{
  g_string_append (out, "{\"id\":");
  write_string (out, media->id);
  g_string_append (out, ",\"name\":");
  write_string (out, media->name);
  g_string_append (out, ",\"mime\":");
  write_string (out, media->mime);
  g_string_append (out, ",\"size\":");
  write_int (out, media->size);
  write_int_or_null_member (out, ",\"width\":", media->width);
  write_int_or_null_member (out, ",\"height\":", media->height);
  g_string_append (out, media->thumbnail ? ",\"thumbnail\":true}" : ",\"thumbnail\":false}");
}

/* Whether @object has exactly the members ssq_wire_media_encode () gives:
 * only then does write_media () write what the generator would. */
static gboolean
is_encoded_media (JsonObject *object)
{
  static const char *const members[] = {
    "id", "name", "mime", "size", "width", "height", "thumbnail",
  };

  if (json_object_get_size (object) != G_N_ELEMENTS (members))
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (members); i++)
    if (!json_object_has_member (object, members[i]))
      return FALSE;
  return TRUE;
}

/**
 * ssq_wire_media_list_write:
 * Appends @media (an array of `media` objects; NULL is empty) to @out as
 * JSON, byte for byte what json-glib's generator makes of it. An element
 * that is not a media object as ssq_wire_media_encode () makes it (one
 * stored before `thumbnail` existed, say) is written by the generator
 * itself.
 */
void
ssq_wire_media_list_write (GString   *out,
                           JsonArray *media)
{
  guint n = media != NULL ? json_array_get_length (media) : 0;

  g_string_append_c (out, '[');
  for (guint i = 0; i < n; i++)
    {
      JsonNode *node = json_array_get_element (media, i);
      SsqWireMedia m;

      if (i > 0)
        g_string_append_c (out, ',');
      if (JSON_NODE_HOLDS_OBJECT (node) &&
          is_encoded_media (json_node_get_object (node)) &&
          ssq_wire_media_decode (json_node_get_object (node), &m, NULL) &&
          m.name != NULL && m.mime != NULL)
        write_media (out, &m);
      else
        {
          g_autofree char *text = ssq_json_node_to_string (node, NULL);

          g_string_append (out, text);
        }
    }
  g_string_append_c (out, ']');
}

/**
 * ssq_wire_message_write:
 * Appends the `message` object of @message to @out, byte for byte what
 * ssq_wire_message_encode() gives through json-glib's generator, without
 * building a JSON tree: the server writes one per stored message, on the
 * writer thread.
 */
void
ssq_wire_message_write (GString              *out,
                        const SsqWireMessage *message)
{
  g_string_append (out, "{\"id\":");
  write_string (out, message->id);
  g_string_append (out, ",\"conversation_id\":");
  write_string (out, message->conversation_id);
  g_string_append (out, ",\"seq\":");
  write_int (out, message->seq);
  g_string_append (out, ",\"sender\":");
  write_string (out, message->sender);
  g_string_append (out, ",\"client_id\":");
  write_string (out, message->client_id);
  g_string_append (out, ",\"body\":");
  write_string (out, message->body);
  g_string_append (out, ",\"created_at\":");
  write_int (out, message->created_at);
  write_int_or_null_member (out, ",\"edited_at\":", message->edited_at);
  g_string_append (out, message->deleted ? ",\"deleted\":true" : ",\"deleted\":false");
  write_int_or_null_member (out, ",\"reply_to\":", message->reply_to);
  g_string_append (out, ",\"media\":");
  ssq_wire_media_list_write (out, message->media);
  g_string_append (out, ",\"rev\":");
  write_int (out, message->rev);
  g_string_append_c (out, '}');
}

/**
 * ssq_wire_message_decode:
 * Reads a `message` object: `id`, `conversation_id`, `seq` (from 1) and
 * `sender` are required.
 */
gboolean
ssq_wire_message_decode (JsonObject      *object,
                         SsqWireMessage  *out,
                         GError         **error)
{
  SsqWireMessage *m = out;

  *m = (SsqWireMessage) { 0 };
  return ssq_json_get_string (object, "id", TRUE, &m->id, error) &&
         ssq_json_get_string (object, "conversation_id", TRUE, &m->conversation_id, error) &&
         ssq_json_get_int (object, "seq", TRUE, 1, G_MAXINT64, &m->seq, error) &&
         ssq_json_get_string (object, "sender", TRUE, &m->sender, error) &&
         ssq_json_get_string (object, "client_id", FALSE, &m->client_id, error) &&
         ssq_json_get_string (object, "body", FALSE, &m->body, error) &&
         ssq_json_get_int (object, "created_at", FALSE, 0, G_MAXINT64, &m->created_at, error) &&
         ssq_json_get_int (object, "edited_at", FALSE, 0, G_MAXINT64, &m->edited_at, error) &&
         ssq_json_get_bool (object, "deleted", FALSE, &m->deleted, error) &&
         ssq_json_get_int (object, "reply_to", FALSE, 1, G_MAXINT64, &m->reply_to, error) &&
         ssq_json_get_int (object, "rev", FALSE, 0, G_MAXINT64, &m->rev, error) &&
         ssq_json_get_array (object, "media", FALSE, SSQ_MESSAGE_MEDIA_MAX, &m->media, error);
}
