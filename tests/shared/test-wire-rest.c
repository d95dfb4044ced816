/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-wire-rest.c: the REST bodies of the golden file, encoded from their
 * structs and checked once decoded (test-wire.c runs them with the rest of
 * the golden lines). */
#include "test-wire-private.h"

#include <string.h>

/* ---- REST bodies ------------------------------------------------------- */

static JsonArray *
strings (const char *first,
         ...)
{
  JsonArray *array = json_array_new ();
  va_list ap;

  va_start (ap, first);
  for (const char *s = first; s != NULL; s = va_arg (ap, const char *))
    json_array_add_string_element (array, s);
  va_end (ap);
  return array;
}

/* A list of one object (or none), as the list replies hold. */
static JsonArray *
one (JsonObject *object)
{
  JsonArray *array = json_array_new ();

  if (object != NULL)
    json_array_add_object_element (array, object);
  return array;
}

JsonObject *
rest_encode (const char *name)
{
  g_autoptr(JsonObject) user = ssq_wire_user_encode (&alice);
  g_autoptr(JsonObject) message = ssq_wire_message_encode (&message_plain);
  g_autoptr(JsonObject) direct = encode_direct ();
  g_autoptr(JsonArray) team = strings ("bob", "carol", NULL);
  g_autoptr(JsonArray) bob = strings ("bob", NULL);
  g_autoptr(JsonArray) list = NULL;
  g_autoptr(GError) error = NULL;

#define IS(n) (g_str_equal (name, n))
  if (IS ("rest-register"))
    return ssq_wire_credentials_encode (&(SsqWireCredentials) { "alice", "correct horse", "Alice", NULL });
  if (IS ("rest-login"))
    return ssq_wire_credentials_encode (&(SsqWireCredentials) { "alice", "correct horse", NULL, "laptop" });
  if (IS ("rest-password-reset"))
    return ssq_wire_password_reset_encode (&(SsqWirePasswordReset) { "alice", "ABCD-EFGH-JKMN-PQRS", "new password", "laptop" });
  if (IS ("rest-me-patch"))
    return ssq_wire_account_change_encode (&(SsqWireAccountChange) { "Al", "new password", "correct horse" });
  if (IS ("rest-me-delete"))
    return ssq_wire_account_change_encode (&(SsqWireAccountChange) { NULL, "correct horse", NULL });
  if (IS ("rest-conversation-new"))
    return ssq_wire_conversation_new_encode (&(SsqWireConversationNew) { "group", "Team", team });
  if (IS ("rest-conversation-new-direct"))
    return ssq_wire_conversation_new_encode (&(SsqWireConversationNew) { "direct", NULL, bob });
  if (IS ("rest-conversation-change"))
    return ssq_wire_conversation_change_encode (&(SsqWireConversationChange) { "New", TRUE, TRUE });
  if (IS ("rest-conversation-mute"))
    return ssq_wire_conversation_change_encode (&(SsqWireConversationChange) { NULL, TRUE, FALSE });
  if (IS ("rest-member-new"))
    return ssq_wire_member_new_encode (&(SsqWireMemberNew) { "bob", "admin" });
  if (IS ("rest-message-post"))
    return ssq_wire_message_post_encode (&(SsqWireSend) { NULL, NULL, "k1", "hi", 3, NULL });
  if (IS ("rest-message-edit"))
    return ssq_wire_message_edit_encode ("fixed");
  if (IS ("rest-session"))
    return ssq_wire_session_encode (&(SsqWireSession) { user, "t0k" });
  if (IS ("rest-user"))
    return ssq_wire_reply_encode (SSQ_WIRE_REPLY_USER, user);
  if (IS ("rest-conversation"))
    return ssq_wire_reply_encode (SSQ_WIRE_REPLY_CONVERSATION, direct);
  if (IS ("rest-message"))
    return ssq_wire_reply_encode (SSQ_WIRE_REPLY_MESSAGE, message);
  if (IS ("rest-media"))
    {
      g_autoptr(JsonObject) media = ssq_wire_media_encode (&media_photo);

      return ssq_wire_reply_encode (SSQ_WIRE_REPLY_MEDIA, media);
    }
  if (IS ("rest-users"))
    return ssq_wire_list_encode (SSQ_WIRE_LIST_USERS, list = one (g_steal_pointer (&user)), FALSE);
  if (IS ("rest-conversations"))
    return ssq_wire_list_encode (SSQ_WIRE_LIST_CONVERSATIONS,
                                 list = one (g_steal_pointer (&direct)), FALSE);
  if (IS ("rest-messages"))
    return ssq_wire_list_encode (SSQ_WIRE_LIST_MESSAGES, list = one (g_steal_pointer (&message)),
                                 TRUE);
  if (IS ("rest-messages-end"))
    return ssq_wire_list_encode (SSQ_WIRE_LIST_MESSAGES, list = one (NULL), FALSE);
  if (IS ("rest-error"))
    {
      error = g_error_new_literal (SSQ_ERROR, SSQ_ERROR_NOT_FOUND, "No such conversation");
      return ssq_wire_error_reply_encode (error);
    }
  if (IS ("rest-error-rate-limited"))
    {
      error = g_error_new_literal (SSQ_ERROR, SSQ_ERROR_RATE_LIMITED, "Slow down");
      ssq_error_set_retry_after (error, 1500);
      return ssq_wire_error_reply_encode (error);
    }
#undef IS
  g_error ("no encoder for golden line \"%s\"", name);
}

static void
assert_strings (JsonArray  *array,
                const char *expected)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) strv = ssq_json_array_to_strv (array, "members", &error);
  g_autoptr(GString) joined = g_string_new (NULL);

  g_assert_no_error (error);
  for (guint i = 0; i < strv->len; i++)
    g_string_append_printf (joined, "%s%s", i ? "," : "", (char *) strv->pdata[i]);
  g_assert_cmpstr (joined->str, ==, expected);
}

static void
rest_decode_request (const char *name,
                     JsonObject *object)
{
  g_autoptr(GError) error = NULL;

#define IS(n) (g_str_equal (name, n))
  if (IS ("rest-register") || IS ("rest-login"))
    {
      SsqWireCredentials c;

      g_assert_true (ssq_wire_credentials_decode (object, &c, &error));
      g_assert_cmpstr (c.username, ==, "alice");
      g_assert_cmpstr (c.password, ==, "correct horse");
      g_assert_cmpstr (c.display_name, ==, IS ("rest-register") ? "Alice" : NULL);
      g_assert_cmpstr (c.device, ==, IS ("rest-register") ? NULL : "laptop");
    }
  else if (IS ("rest-password-reset"))
    {
      SsqWirePasswordReset r;

      g_assert_true (ssq_wire_password_reset_decode (object, &r, &error));
      g_assert_cmpstr (r.username, ==, "alice");
      g_assert_cmpstr (r.code, ==, "ABCD-EFGH-JKMN-PQRS");
      g_assert_cmpstr (r.password, ==, "new password");
      g_assert_cmpstr (r.device, ==, "laptop");
    }
  else if (IS ("rest-me-patch") || IS ("rest-me-delete"))
    {
      SsqWireAccountChange a;

      g_assert_true (ssq_wire_account_change_decode (object, IS ("rest-me-delete"), &a, &error));
      g_assert_cmpstr (a.display_name, ==, IS ("rest-me-patch") ? "Al" : NULL);
      g_assert_cmpstr (a.password, ==, IS ("rest-me-patch") ? "new password" : "correct horse");
      g_assert_cmpstr (a.current_password, ==, IS ("rest-me-patch") ? "correct horse" : NULL);
    }
  else if (g_str_has_prefix (name, "rest-conversation-new"))
    {
      SsqWireConversationNew c;

      g_assert_true (ssq_wire_conversation_new_decode (object, 2, &c, &error));
      g_assert_cmpstr (c.kind, ==, IS ("rest-conversation-new") ? "group" : "direct");
      g_assert_cmpstr (c.title, ==, IS ("rest-conversation-new") ? "Team" : NULL);
      assert_strings (c.members, IS ("rest-conversation-new") ? "bob,carol" : "bob");
      g_assert_false (ssq_wire_conversation_new_decode (object, 1, &c, &error) &&
                      IS ("rest-conversation-new"));
      g_clear_error (&error);
    }
  else if (IS ("rest-conversation-change") || IS ("rest-conversation-mute"))
    {
      SsqWireConversationChange c;

      g_assert_true (ssq_wire_conversation_change_decode (object, &c, &error));
      g_assert_cmpstr (c.title, ==, IS ("rest-conversation-change") ? "New" : NULL);
      g_assert_true (c.set_muted);
      g_assert_cmpint (c.muted, ==, IS ("rest-conversation-change"));
    }
  else if (IS ("rest-member-new"))
    {
      SsqWireMemberNew m;

      g_assert_true (ssq_wire_member_new_decode (object, &m, &error));
      g_assert_cmpstr (m.username, ==, "bob");
      g_assert_cmpstr (m.role, ==, "admin");
    }
  else if (IS ("rest-message-post"))
    {
      SsqWireSend p;

      g_assert_true (ssq_wire_send_decode (object, &p, &error));
      g_assert_null (p.id);
      g_assert_null (p.conversation_id);
      g_assert_cmpstr (p.client_id, ==, "k1");
      g_assert_cmpstr (p.body, ==, "hi");
      g_assert_cmpint (p.reply_to, ==, 3);
    }
  else if (IS ("rest-message-edit"))
    {
      const char *body = NULL;

      g_assert_true (ssq_wire_message_edit_decode (object, &body, &error));
      g_assert_cmpstr (body, ==, "fixed");
    }
  else
    g_error ("no decoder for golden line \"%s\"", name);
#undef IS
  g_assert_no_error (error);
}

void
rest_decode (const char *name,
             JsonObject *object)
{
  g_autoptr(GError) error = NULL;
  JsonObject *inner = NULL;
  JsonArray *items = NULL;
  gboolean has_more = FALSE;

#define IS(n) (g_str_equal (name, n))
  if (IS ("rest-session"))
    {
      SsqWireSession s;

      g_assert_true (ssq_wire_session_decode (object, &s, &error));
      assert_user (s.user, &alice);
      g_assert_cmpstr (s.token, ==, "t0k");
    }
  else if (IS ("rest-user") || IS ("rest-conversation") || IS ("rest-message") ||
           IS ("rest-media"))
    {
      SsqWireReply kind = IS ("rest-user") ? SSQ_WIRE_REPLY_USER
                        : IS ("rest-message") ? SSQ_WIRE_REPLY_MESSAGE
                        : IS ("rest-media") ? SSQ_WIRE_REPLY_MEDIA
                        : SSQ_WIRE_REPLY_CONVERSATION;

      g_assert_true (ssq_wire_reply_decode (object, kind, &inner, &error));
      if (IS ("rest-user"))
        assert_user (inner, &alice);
      else if (IS ("rest-message"))
        assert_message (inner, &message_plain);
      else if (IS ("rest-media"))
        assert_media (inner, &media_photo);
      else
        assert_conversation (inner, FALSE);
      /* The other kinds are not this reply. */
      g_assert_false (ssq_wire_reply_decode (object, (kind + 1) % 4, &inner, &error));
      g_clear_error (&error);
    }
  else if (IS ("rest-users") || IS ("rest-conversations"))
    {
      g_assert_true (ssq_wire_list_decode (object, IS ("rest-users") ? SSQ_WIRE_LIST_USERS
                                                                     : SSQ_WIRE_LIST_CONVERSATIONS,
                                           &items, NULL, &error));
      g_assert_cmpuint (json_array_get_length (items), ==, 1);
      if (IS ("rest-users"))
        assert_user (json_array_get_object_element (items, 0), &alice);
      else
        assert_conversation (json_array_get_object_element (items, 0), FALSE);
    }
  else if (g_str_has_prefix (name, "rest-messages"))
    {
      g_assert_true (ssq_wire_list_decode (object, SSQ_WIRE_LIST_MESSAGES, &items, &has_more,
                                           &error));
      g_assert_cmpuint (json_array_get_length (items), ==, IS ("rest-messages") ? 1 : 0);
      g_assert_cmpint (has_more, ==, IS ("rest-messages"));
      if (IS ("rest-messages"))
        assert_message (json_array_get_object_element (items, 0), &message_plain);
    }
  else if (g_str_has_prefix (name, "rest-error"))
    {
      SsqWireError e;

      g_assert_true (ssq_wire_error_reply_decode (object, &e));
      g_assert_null (e.id);
      g_assert_cmpstr (e.code, ==, IS ("rest-error") ? "not_found" : "rate_limited");
      g_assert_cmpstr (e.message, ==, IS ("rest-error") ? "No such conversation" : "Slow down");
      g_assert_cmpint (e.retry_after_ms, ==, IS ("rest-error") ? 0 : 1500);
    }
  else
    rest_decode_request (name, object);
#undef IS
  g_assert_no_error (error);
}

/* The history fast path writes the reply around stored message JSON: the
 * same bytes as the list encoder. */
