/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-api.c: the REST API of the real server, happy paths and permissions. */
#include "ssq-test-raw.h"
#include "ssq-test-media.h"

static SsqTestServer *server;

static JsonObject *
conversation_of (JsonObject *reply)
{
  return json_object_get_object_member (reply, "conversation");
}

static void
test_accounts (void)
{
  g_autoptr(SsqTestUser) alice = ssq_test_register (server, "alice");
  g_autoptr(JsonObject) r = NULL;
  guint status;
  const char *token2;
  g_autofree char *token2_copy = NULL;

  /* Taken name, case-insensitively. */
  r = ssq_test_http (server, "POST", "/api/v1/register", NULL,
                     "{\"username\":\"ALICE\",\"password\":\"whatever1\"}", &status);
  g_assert_cmpuint (status, ==, 409);
  g_clear_pointer (&r, json_object_unref);

  /* Same answer for a wrong password and an unknown name. */
  r = ssq_test_http (server, "POST", "/api/v1/login", NULL,
                     "{\"username\":\"alice\",\"password\":\"wrong-password\"}", &status);
  g_assert_cmpuint (status, ==, 401);
  {
    g_autoptr(JsonObject) r2 = ssq_test_http (server, "POST", "/api/v1/login", NULL,
                                              "{\"username\":\"nobody\",\"password\":\"wrong-password\"}",
                                              &status);
    g_assert_cmpuint (status, ==, 401);
    g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (r, "error"), "message"), ==,
                     json_object_get_string_member (json_object_get_object_member (r2, "error"), "message"));
  }
  g_clear_pointer (&r, json_object_unref);

  r = ssq_test_http (server, "POST", "/api/v1/login", NULL,
                     "{\"username\":\"Alice\",\"password\":\"password-alice\",\"device\":\"test\"}",
                     &status);
  g_assert_cmpuint (status, ==, 200);
  token2 = json_object_get_string_member (r, "token");
  g_assert_cmpstr (token2, !=, alice->token);
  token2_copy = g_strdup (token2);
  g_clear_pointer (&r, json_object_unref);

  r = ssq_test_http (server, "GET", "/api/v1/me", token2_copy, NULL, &status);
  g_assert_cmpuint (status, ==, 200);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (r, "user"), "username"), ==, "alice");
  /* alice, the first account, is the server admin, and /me says so
   * (clients offer invites by it); nobody else's user object says it. */
  g_assert_true (json_object_get_boolean_member_with_default (json_object_get_object_member (r, "user"),
                                                              "server_admin", FALSE));
  g_clear_pointer (&r, json_object_unref);
  {
    g_autoptr(SsqTestUser) second = ssq_test_register (server, "second");
    g_autoptr(JsonObject) me = ssq_test_http (server, "GET", "/api/v1/me", second->token, NULL, &status);

    g_assert_cmpuint (status, ==, 200);
    g_assert_false (json_object_has_member (json_object_get_object_member (me, "user"), "server_admin"));
  }

  r = ssq_test_http (server, "PATCH", "/api/v1/me", alice->token, "{\"display_name\":\"Alice A.\"}",
                     &status);
  g_assert_cmpuint (status, ==, 200);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (r, "user"), "display_name"), ==, "Alice A.");
  g_clear_pointer (&r, json_object_unref);

  /* Logout revokes that token at once, and only that one. */
  r = ssq_test_http (server, "POST", "/api/v1/logout", token2_copy, NULL, &status);
  g_assert_cmpuint (status, ==, 204);
  r = ssq_test_http (server, "GET", "/api/v1/me", token2_copy, NULL, &status);
  g_assert_cmpuint (status, ==, 401);
  g_assert_cmpstr (ssq_test_error_code (r), ==, "unauthorized");
  g_clear_pointer (&r, json_object_unref);
  r = ssq_test_http (server, "GET", "/api/v1/me", alice->token, NULL, &status);
  g_assert_cmpuint (status, ==, 200);
  g_clear_pointer (&r, json_object_unref);
  r = ssq_test_http (server, "GET", "/api/v1/me", NULL, NULL, &status);
  g_assert_cmpuint (status, ==, 401);
  g_clear_pointer (&r, json_object_unref);
  r = ssq_test_http (server, "GET", "/api/v1/me", "not-a-token", NULL, &status);
  g_assert_cmpuint (status, ==, 401);
}

static void
test_user_search (void)
{
  g_autoptr(SsqTestUser) u1 = ssq_test_register (server, "search.one");
  g_autoptr(SsqTestUser) u2 = ssq_test_register (server, "search.two");
  g_autoptr(JsonObject) r = NULL;
  guint status;

  r = ssq_test_http (server, "GET", "/api/v1/users?q=search.&limit=10", u1->token, NULL, &status);
  g_assert_cmpuint (status, ==, 200);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (r, "users")), ==, 2);
  g_clear_pointer (&r, json_object_unref);
  /* LIKE wildcards are literal. */
  r = ssq_test_http (server, "GET", "/api/v1/users?q=%25", u1->token, NULL, &status);
  g_assert_cmpuint (status, ==, 200);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (r, "users")), ==, 0);
  g_clear_pointer (&r, json_object_unref);
  r = ssq_test_http (server, "GET", "/api/v1/users?q=s&limit=abc", u1->token, NULL, &status);
  g_assert_cmpuint (status, ==, 400);
}

static void
test_direct (void)
{
  g_autoptr(SsqTestUser) a = ssq_test_register (server, "dm.a");
  g_autoptr(SsqTestUser) b = ssq_test_register (server, "dm.b");
  g_autoptr(SsqTestUser) c = ssq_test_register (server, "dm.c");
  g_autoptr(JsonObject) r = NULL;
  g_autofree char *path = NULL;
  guint status;
  const char *id;
  g_autofree char *id1 = NULL;

  r = ssq_test_http (server, "POST", "/api/v1/conversations", a->token,
                     "{\"kind\":\"direct\",\"members\":[\"dm.b\"]}", &status);
  g_assert_cmpuint (status, ==, 201);
  id1 = g_strdup (json_object_get_string_member (conversation_of (r), "id"));
  g_assert_null (json_object_get_string_member (conversation_of (r), "title"));
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (conversation_of (r), "members")), ==, 2);
  g_clear_pointer (&r, json_object_unref);

  /* Asking again, from either side, gives the same conversation with 200. */
  r = ssq_test_http (server, "POST", "/api/v1/conversations", b->token,
                     "{\"kind\":\"direct\",\"members\":[\"dm.a\"]}", &status);
  g_assert_cmpuint (status, ==, 200);
  id = json_object_get_string_member (conversation_of (r), "id");
  g_assert_cmpstr (id, ==, id1);
  g_clear_pointer (&r, json_object_unref);

  /* Membership of a direct conversation cannot change; titles are refused. */
  path = g_strdup_printf ("/api/v1/conversations/%s/members", id1);
  r = ssq_test_http (server, "POST", path, a->token, "{\"username\":\"dm.c\"}", &status);
  g_assert_cmpuint (status, ==, 400);
  g_clear_pointer (&r, json_object_unref);
  g_free (path);
  path = g_strdup_printf ("/api/v1/conversations/%s", id1);
  r = ssq_test_http (server, "PATCH", path, a->token, "{\"title\":\"x\"}", &status);
  g_assert_cmpuint (status, ==, 400);
  g_clear_pointer (&r, json_object_unref);

  /* A non-member learns nothing: 404 like an unknown id. */
  r = ssq_test_http (server, "GET", path, c->token, NULL, &status);
  g_assert_cmpuint (status, ==, 404);
  g_assert_cmpstr (ssq_test_error_code (r), ==, "not_found");
  g_clear_pointer (&r, json_object_unref);
  r = ssq_test_http (server, "GET", "/api/v1/conversations/cdoesnotexist", c->token, NULL, &status);
  g_assert_cmpuint (status, ==, 404);
  g_clear_pointer (&r, json_object_unref);
  g_free (path);
  path = g_strdup_printf ("/api/v1/conversations/%s/messages", id1);
  r = ssq_test_http (server, "POST", path, c->token, "{\"client_id\":\"x\",\"body\":\"intrude\"}",
                     &status);
  g_assert_cmpuint (status, ==, 404);
  g_clear_pointer (&r, json_object_unref);
  r = ssq_test_http (server, "GET", path, c->token, NULL, &status);
  g_assert_cmpuint (status, ==, 404);
  g_clear_pointer (&r, json_object_unref);

  /* Unknown user and self-only are refused. */
  r = ssq_test_http (server, "POST", "/api/v1/conversations", a->token,
                     "{\"kind\":\"direct\",\"members\":[\"ghost.user\"]}", &status);
  g_assert_cmpuint (status, ==, 404);
  g_clear_pointer (&r, json_object_unref);
  r = ssq_test_http (server, "POST", "/api/v1/conversations", a->token,
                     "{\"kind\":\"direct\",\"members\":[\"dm.a\"]}", &status);
  g_assert_cmpuint (status, ==, 400);
}

static void
test_group_roles (void)
{
  g_autoptr(SsqTestUser) owner = ssq_test_register (server, "g.owner");
  g_autoptr(SsqTestUser) m1 = ssq_test_register (server, "g.m1");
  g_autoptr(SsqTestUser) m2 = ssq_test_register (server, "g.m2");
  g_autoptr(SsqTestUser) adm = ssq_test_register (server, "g.adm");
  g_autofree char *id = ssq_test_create_conversation (server, owner,
    "{\"kind\":\"group\",\"title\":\"Lab\",\"members\":[\"g.m1\"]}");
  g_autofree char *members = g_strdup_printf ("/api/v1/conversations/%s/members", id);
  g_autofree char *conv = g_strdup_printf ("/api/v1/conversations/%s", id);
  g_autoptr(JsonObject) r = NULL;
  guint status;

  /* A plain member may not add or rename. */
  r = ssq_test_http (server, "POST", members, m1->token, "{\"username\":\"g.m2\"}", &status);
  g_assert_cmpuint (status, ==, 403);
  g_assert_cmpstr (ssq_test_error_code (r), ==, "forbidden");
  g_clear_pointer (&r, json_object_unref);
  r = ssq_test_http (server, "PATCH", conv, m1->token, "{\"title\":\"Mine\"}", &status);
  g_assert_cmpuint (status, ==, 403);
  g_clear_pointer (&r, json_object_unref);

  r = ssq_test_http (server, "POST", members, owner->token,
                     "{\"username\":\"g.adm\",\"role\":\"admin\"}", &status);
  g_assert_cmpuint (status, ==, 201);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (conversation_of (r), "members")), ==, 3);
  g_clear_pointer (&r, json_object_unref);
  r = ssq_test_http (server, "POST", members, adm->token, "{\"username\":\"g.m2\"}", &status);
  g_assert_cmpuint (status, ==, 201);
  g_clear_pointer (&r, json_object_unref);
  r = ssq_test_http (server, "POST", members, adm->token, "{\"username\":\"g.m2\"}", &status);
  g_assert_cmpuint (status, ==, 409);
  g_clear_pointer (&r, json_object_unref);
  r = ssq_test_http (server, "POST", members, adm->token, "{\"username\":\"nobody.here\"}", &status);
  g_assert_cmpuint (status, ==, 404);
  g_clear_pointer (&r, json_object_unref);
  r = ssq_test_http (server, "POST", members, owner->token,
                     "{\"username\":\"g.m1\",\"role\":\"owner\"}", &status);
  g_assert_cmpuint (status, ==, 400);
  g_clear_pointer (&r, json_object_unref);

  /* Rename by an admin; mute is personal. */
  r = ssq_test_http (server, "PATCH", conv, adm->token, "{\"title\":\"Lab 2\"}", &status);
  g_assert_cmpuint (status, ==, 200);
  g_assert_cmpstr (json_object_get_string_member (conversation_of (r), "title"), ==, "Lab 2");
  g_clear_pointer (&r, json_object_unref);
  r = ssq_test_http (server, "PATCH", conv, m1->token, "{\"muted\":true}", &status);
  g_assert_cmpuint (status, ==, 200);
  g_assert_true (json_object_get_boolean_member (conversation_of (r), "muted"));
  g_clear_pointer (&r, json_object_unref);
  r = ssq_test_http (server, "GET", conv, m2->token, NULL, &status);
  g_assert_false (json_object_get_boolean_member (conversation_of (r), "muted"));
  g_clear_pointer (&r, json_object_unref);
  r = ssq_test_http (server, "PATCH", conv, m1->token, "{\"muted\":\"yes\"}", &status);
  g_assert_cmpuint (status, ==, 400);
  g_clear_pointer (&r, json_object_unref);

  /* An admin cannot remove the owner; a member cannot remove others; anyone
   * may leave. */
  {
    g_autofree char *p = g_strdup_printf ("%s/g.owner", members);
    r = ssq_test_http (server, "DELETE", p, adm->token, NULL, &status);
    g_assert_cmpuint (status, ==, 403);
    g_clear_pointer (&r, json_object_unref);
  }
  {
    g_autofree char *p = g_strdup_printf ("%s/g.m2", members);
    r = ssq_test_http (server, "DELETE", p, m1->token, NULL, &status);
    g_assert_cmpuint (status, ==, 403);
    g_clear_pointer (&r, json_object_unref);
    r = ssq_test_http (server, "DELETE", p, adm->token, NULL, &status);
    g_assert_cmpuint (status, ==, 204);
    r = ssq_test_http (server, "GET", conv, m2->token, NULL, &status);
    g_assert_cmpuint (status, ==, 404);
    g_clear_pointer (&r, json_object_unref);
  }
  {
    /* The owner leaves: the admin inherits. */
    g_autofree char *p = g_strdup_printf ("%s/g.owner", members);
    JsonArray *list;

    r = ssq_test_http (server, "DELETE", p, owner->token, NULL, &status);
    g_assert_cmpuint (status, ==, 204);
    r = ssq_test_http (server, "GET", conv, adm->token, NULL, &status);
    g_assert_cmpstr (json_object_get_string_member (conversation_of (r), "role"), ==, "owner");
    list = json_object_get_array_member (conversation_of (r), "members");
    g_assert_cmpuint (json_array_get_length (list), ==, 2);
    g_clear_pointer (&r, json_object_unref);
  }
  /* Titles are bounded. */
  r = ssq_test_http (server, "POST", "/api/v1/conversations", owner->token,
                     "{\"kind\":\"group\",\"title\":\"\"}", &status);
  g_assert_cmpuint (status, ==, 400);
}

static void
raw_post (SsqTestRaw *c,
          const char *path,
          const char *token,
          const char *username)
{
  g_autofree char *body = g_strdup_printf ("{\"username\":\"%s\"}", username);
  g_autofree char *request = g_strdup_printf ("POST %s HTTP/1.1\r\nHost: test\r\n"
                                              "Authorization: Bearer %s\r\n"
                                              "Content-Type: application/json\r\n"
                                              "Content-Length: %zu\r\n\r\n%s",
                                              path, token, strlen (body), body);

  g_assert_true (ssq_test_raw_send_str (c, request));
}

/* A request without a body, sent on @c, its answer not read. */
static void
raw_request (SsqTestRaw *c,
             const char *method,
             const char *path,
             const char *token)
{
  g_autofree char *request = g_strdup_printf ("%s %s HTTP/1.1\r\nHost: test\r\n"
                                              "Authorization: Bearer %s\r\n\r\n", method, path,
                                              token);

  g_assert_true (ssq_test_raw_send_str (c, request));
}

/* The same member removed twice at once: one removal happens, the other
 * finds nobody to remove (404), and no second "removed" goes out. */
static void
test_double_remove (void)
{
  g_autoptr(SsqTestUser) owner = ssq_test_register (server, "twice.owner");
  g_autoptr(SsqTestUser) member = ssq_test_register (server, "twice.member");
  g_autoptr(SsqTestUser) other = ssq_test_register (server, "twice.other");
  g_autofree char *id = ssq_test_create_conversation (server, owner,
    "{\"kind\":\"group\",\"title\":\"Twice\",\"members\":[\"twice.member\",\"twice.other\"]}");
  g_autofree char *path = g_strdup_printf ("/api/v1/conversations/%s/members/twice.member", id);
  g_autoptr(SsqTestRaw) c1 = ssq_test_raw_open (server);
  g_autoptr(SsqTestRaw) c2 = ssq_test_raw_open (server);
  g_auto(SsqTestRawResponse) r1 = { 0 };
  g_auto(SsqTestRawResponse) r2 = { 0 };

  raw_request (c1, "DELETE", path, owner->token);
  raw_request (c2, "DELETE", path, owner->token);
  g_assert_true (ssq_test_raw_read_response (c1, 5000, &r1));
  g_assert_true (ssq_test_raw_read_response (c2, 5000, &r2));
  g_test_message ("%u and %u", r1.status, r2.status);
  g_assert_true ((r1.status == 204 && r2.status == 404) || (r1.status == 404 && r2.status == 204));
}

/* Two adds at once to a group with one place left: both pass the main
 * loop's check of the committed membership, so the writer checks again in
 * commit order. Exactly one gets in. */
static void
test_adds_race_for_last_place (void)
{
  g_autoptr(SsqTestServer) s = ssq_test_server_start (NULL, "max_members=3\n");

  for (guint i = 0; i < 4; i++)
    {
      g_autofree char *on = g_strdup_printf ("full.owner%u", i);
      g_autofree char *mn = g_strdup_printf ("full.member%u", i);
      g_autofree char *xn = g_strdup_printf ("full.x%u", i);
      g_autofree char *yn = g_strdup_printf ("full.y%u", i);
      g_autoptr(SsqTestUser) owner = ssq_test_register (s, on);
      g_autoptr(SsqTestUser) member = ssq_test_register (s, mn);
      g_autoptr(SsqTestUser) x = ssq_test_register (s, xn);
      g_autoptr(SsqTestUser) y = ssq_test_register (s, yn);
      g_autofree char *spec = g_strdup_printf ("{\"kind\":\"group\",\"title\":\"Full\","
                                               "\"members\":[\"%s\"]}", mn);
      g_autofree char *id = ssq_test_create_conversation (s, owner, spec);
      g_autofree char *members = g_strdup_printf ("/api/v1/conversations/%s/members", id);
      g_autofree char *conv = g_strdup_printf ("/api/v1/conversations/%s", id);
      g_autoptr(SsqTestRaw) c1 = ssq_test_raw_open (s);
      g_autoptr(SsqTestRaw) c2 = ssq_test_raw_open (s);
      g_auto(SsqTestRawResponse) r1 = { 0 };
      g_auto(SsqTestRawResponse) r2 = { 0 };
      g_autoptr(JsonObject) r = NULL;
      guint status = 0;

      raw_post (c1, members, owner->token, xn);
      raw_post (c2, members, owner->token, yn);
      g_assert_true (ssq_test_raw_read_response (c1, 5000, &r1));
      g_assert_true (ssq_test_raw_read_response (c2, 5000, &r2));
      g_test_message ("round %u: %u and %u", i, r1.status, r2.status);
      g_assert_true ((r1.status == 201 && r2.status == 409) || (r1.status == 409 && r2.status == 201));
      r = ssq_test_http (s, "GET", conv, owner->token, NULL, &status);
      g_assert_cmpuint (status, ==, 200);
      g_assert_cmpuint (json_array_get_length (json_object_get_array_member (conversation_of (r),
                                                                             "members")), ==, 3);
    }
}

/* The owner and the only admin leave at once: both are checked against the
 * committed membership (where the admin is the heir), and written one after
 * the other. The group must still have exactly one owner. */
static void
test_owner_and_heir_leave_together (void)
{
  for (guint i = 0; i < 4; i++)
    {
      g_autofree char *on = g_strdup_printf ("heir.owner%u", i);
      g_autofree char *an = g_strdup_printf ("heir.admin%u", i);
      g_autofree char *mn = g_strdup_printf ("heir.member%u", i);
      g_autoptr(SsqTestUser) owner = ssq_test_register (server, on);
      g_autoptr(SsqTestUser) admin = ssq_test_register (server, an);
      g_autoptr(SsqTestUser) member = ssq_test_register (server, mn);
      g_autofree char *spec = g_strdup_printf ("{\"kind\":\"group\",\"title\":\"Heirs\","
                                               "\"members\":[\"%s\"]}", mn);
      g_autofree char *id = ssq_test_create_conversation (server, owner, spec);
      g_autofree char *conv = g_strdup_printf ("/api/v1/conversations/%s", id);
      g_autofree char *add = g_strdup_printf ("{\"username\":\"%s\",\"role\":\"admin\"}", an);
      g_autofree char *members = g_strdup_printf ("%s/members", conv);
      g_autofree char *owner_leaves = g_strdup_printf ("%s/%s", members, on);
      g_autofree char *admin_leaves = g_strdup_printf ("%s/%s", members, an);
      g_autoptr(SsqTestRaw) c1 = ssq_test_raw_open (server);
      g_autoptr(SsqTestRaw) c2 = ssq_test_raw_open (server);
      g_auto(SsqTestRawResponse) r1 = { 0 };
      g_auto(SsqTestRawResponse) r2 = { 0 };
      g_autoptr(JsonObject) r = NULL;
      JsonArray *list;
      guint owners = 0;
      guint status = 0;

      r = ssq_test_http (server, "POST", members, owner->token, add, &status);
      g_assert_cmpuint (status, ==, 201);
      g_clear_pointer (&r, json_object_unref);

      raw_request (c1, "DELETE", owner_leaves, owner->token);
      raw_request (c2, "DELETE", admin_leaves, admin->token);
      g_assert_true (ssq_test_raw_read_response (c1, 5000, &r1));
      g_assert_true (ssq_test_raw_read_response (c2, 5000, &r2));
      g_assert_cmpuint (r1.status, ==, 204);
      g_assert_cmpuint (r2.status, ==, 204);

      r = ssq_test_http (server, "GET", conv, member->token, NULL, &status);
      g_assert_cmpuint (status, ==, 200);
      list = json_object_get_array_member (conversation_of (r), "members");
      g_assert_cmpuint (json_array_get_length (list), ==, 1);
      for (guint j = 0; j < json_array_get_length (list); j++)
        if (g_str_equal (json_object_get_string_member (json_array_get_object_element (list, j),
                                                        "role"), "owner"))
          owners++;
      g_assert_cmpuint (owners, ==, 1);
      g_assert_cmpstr (json_object_get_string_member (conversation_of (r), "role"), ==, "owner");
    }
}

static void
test_messages (void)
{
  g_autoptr(SsqTestUser) a = ssq_test_register (server, "msg.a");
  g_autoptr(SsqTestUser) b = ssq_test_register (server, "msg.b");
  g_autofree char *id = ssq_test_create_conversation (server, a,
    "{\"kind\":\"group\",\"title\":\"History\",\"members\":[\"msg.b\"]}");
  g_autofree char *path = g_strdup_printf ("/api/v1/conversations/%s/messages", id);
  g_autoptr(JsonObject) r = NULL;
  JsonArray *list;
  guint status;

  for (int i = 1; i <= 120; i++)
    {
      g_autofree char *body = g_strdup_printf ("{\"client_id\":\"c%d\",\"body\":\"message %d\"}", i, i);

      r = ssq_test_http (server, "POST", path, (i % 2) ? a->token : b->token, body, &status);
      g_assert_cmpuint (status, ==, 201);
      g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (r, "message"), "seq"), ==, i);
      g_clear_pointer (&r, json_object_unref);
    }
  /* Idempotent resend: 200 with the original, nothing new stored. */
  r = ssq_test_http (server, "POST", path, a->token, "{\"client_id\":\"c1\",\"body\":\"other\"}",
                     &status);
  g_assert_cmpuint (status, ==, 200);
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (r, "message"), "seq"), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (r, "message"), "body"), ==, "message 1");
  g_clear_pointer (&r, json_object_unref);
  /* The same client_id from another sender is another message. */
  r = ssq_test_http (server, "POST", path, b->token, "{\"client_id\":\"c1\",\"body\":\"b's own\"}",
                     &status);
  g_assert_cmpuint (status, ==, 201);
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (r, "message"), "seq"), ==, 121);
  g_clear_pointer (&r, json_object_unref);

  /* Newest page, then older by before=, then newer by after=. */
  r = ssq_test_http (server, "GET", path, a->token, NULL, &status);
  list = json_object_get_array_member (r, "messages");
  g_assert_cmpuint (json_array_get_length (list), ==, 50);
  g_assert_true (json_object_get_boolean_member (r, "has_more"));
  g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (list, 0), "seq"), ==, 72);
  g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (list, 49), "seq"), ==, 121);
  g_clear_pointer (&r, json_object_unref);
  {
    g_autofree char *p = g_strdup_printf ("%s?before=20&limit=200", path);
    r = ssq_test_http (server, "GET", p, a->token, NULL, &status);
    list = json_object_get_array_member (r, "messages");
    g_assert_cmpuint (json_array_get_length (list), ==, 19);
    g_assert_false (json_object_get_boolean_member (r, "has_more"));
    g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (list, 0), "seq"), ==, 1);
    g_clear_pointer (&r, json_object_unref);
  }
  {
    g_autofree char *p = g_strdup_printf ("%s?after=100&limit=10", path);
    r = ssq_test_http (server, "GET", p, a->token, NULL, &status);
    list = json_object_get_array_member (r, "messages");
    g_assert_cmpuint (json_array_get_length (list), ==, 10);
    g_assert_true (json_object_get_boolean_member (r, "has_more"));
    g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (list, 0), "seq"), ==, 101);
    g_clear_pointer (&r, json_object_unref);
  }
  {
    g_autofree char *p = g_strdup_printf ("%s?limit=0", path);
    r = ssq_test_http (server, "GET", p, a->token, NULL, &status);
    g_assert_cmpuint (status, ==, 400);
    g_clear_pointer (&r, json_object_unref);
  }

  /* Edit: sender only. Delete: sender or admin; tombstone stays. */
  {
    g_autofree char *p1 = g_strdup_printf ("%s/1", path);
    g_autofree char *p2 = g_strdup_printf ("%s/2", path);
    g_autofree char *p999 = g_strdup_printf ("%s/999", path);

    r = ssq_test_http (server, "PATCH", p1, b->token, "{\"body\":\"hijack\"}", &status);
    g_assert_cmpuint (status, ==, 403);
    g_clear_pointer (&r, json_object_unref);
    r = ssq_test_http (server, "PATCH", p1, a->token, "{\"body\":\"edited\"}", &status);
    g_assert_cmpuint (status, ==, 200);
    g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (r, "message"), "body"), ==, "edited");
    g_assert_false (json_object_get_null_member (json_object_get_object_member (r, "message"), "edited_at"));
    g_clear_pointer (&r, json_object_unref);
    r = ssq_test_http (server, "DELETE", p2, a->token, NULL, &status);   /* owner deletes b's */
    g_assert_cmpuint (status, ==, 204);
    r = ssq_test_http (server, "PATCH", p2, b->token, "{\"body\":\"revive\"}", &status);
    g_assert_cmpuint (status, ==, 409);
    g_clear_pointer (&r, json_object_unref);
    r = ssq_test_http (server, "DELETE", p1, b->token, NULL, &status);   /* member deletes a's */
    g_assert_cmpuint (status, ==, 403);
    g_clear_pointer (&r, json_object_unref);
    r = ssq_test_http (server, "PATCH", p999, a->token, "{\"body\":\"x\"}", &status);
    g_assert_cmpuint (status, ==, 404);
    g_clear_pointer (&r, json_object_unref);
  }
  {
    g_autofree char *p = g_strdup_printf ("%s?after=0&limit=2", path);
    JsonObject *m2;

    r = ssq_test_http (server, "GET", p, b->token, NULL, &status);
    list = json_object_get_array_member (r, "messages");
    m2 = json_array_get_object_element (list, 1);
    g_assert_true (json_object_get_boolean_member (m2, "deleted"));
    g_assert_cmpstr (json_object_get_string_member (m2, "body"), ==, "");
    g_assert_cmpint (json_object_get_int_member (m2, "seq"), ==, 2);
    g_clear_pointer (&r, json_object_unref);
  }
  /* reply_to must name a message of this conversation. */
  r = ssq_test_http (server, "POST", path, a->token,
                     "{\"client_id\":\"r1\",\"body\":\"re\",\"reply_to\":3}", &status);
  g_assert_cmpuint (status, ==, 201);
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (r, "message"), "reply_to"), ==, 3);
  g_clear_pointer (&r, json_object_unref);
  r = ssq_test_http (server, "POST", path, a->token,
                     "{\"client_id\":\"r2\",\"body\":\"re\",\"reply_to\":5000}", &status);
  g_assert_cmpuint (status, ==, 400);
  g_clear_pointer (&r, json_object_unref);

  /* The list shows unread counts per viewer. */
  r = ssq_test_http (server, "GET", "/api/v1/conversations", b->token, NULL, &status);
  g_assert_cmpuint (status, ==, 200);
  list = json_object_get_array_member (r, "conversations");
  g_assert_cmpuint (json_array_get_length (list), ==, 1);
  g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (list, 0), "last_seq"), ==, 122);
  /* b last wrote seq 121, a wrote 122 since: one unread. */
  g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (list, 0), "unread"), ==, 1);
}

static void
test_health_metrics (void)
{
  g_autoptr(JsonObject) r = NULL;
  guint status;
  g_autoptr(SoupSession) s = soup_session_new ();
  g_autofree char *uri = g_strconcat (server->url, "/metrics", NULL);
  g_autoptr(SoupMessage) msg = soup_message_new ("GET", uri);
  g_autoptr(GBytes) body = NULL;

  r = ssq_test_http (server, "GET", "/healthz", NULL, NULL, &status);
  g_assert_cmpuint (status, ==, 200);
  g_assert_cmpstr (json_object_get_string_member (r, "status"), ==, "ok");
  body = soup_session_send_and_read (s, msg, NULL, NULL);
  g_assert_cmpuint (soup_message_get_status (msg), ==, 200);
  g_assert_nonnull (g_strstr_len (g_bytes_get_data (body, NULL), g_bytes_get_size (body),
                                  "ssq_http_request_duration_seconds_bucket"));
  g_assert_nonnull (g_strstr_len (g_bytes_get_data (body, NULL), g_bytes_get_size (body),
                                  "ssq_messages_stored_total"));
  g_assert_nonnull (g_strstr_len (g_bytes_get_data (body, NULL), g_bytes_get_size (body),
                                  "ssq_loop_iteration_max_microseconds "));
  g_clear_pointer (&r, json_object_unref);
  r = ssq_test_http (server, "POST", "/api/v1/media?name=x.png", NULL, "x", &status);
  g_assert_cmpuint (status, ==, 401);
  g_clear_pointer (&r, json_object_unref);
  {
    g_autoptr(SsqTestUser) u = ssq_test_register (server, "media.user");
    r = ssq_test_http (server, "POST", "/api/v1/media?name=x.txt", u->token, "x", &status);
    g_assert_cmpuint (status, ==, 201);
  }
  /* The media series are there from the start. */
  g_clear_pointer (&body, g_bytes_unref);
  g_clear_object (&msg);
  msg = soup_message_new ("GET", uri);
  body = soup_session_send_and_read (s, msg, NULL, NULL);
  for (guint i = 0; i < 5; i++)
    {
      static const char *const series[] = {
        "\nssq_media_bytes_stored 1\n", "\nssq_media_uploads_total 1\n",
        "\nssq_thumbnails_made_total 0\n", "\nssq_thumbnails_failed_total 0\n",
        "\nssq_thumbnail_queue_length 0\n",
      };

      g_test_message ("%s", series[i]);
      g_assert_nonnull (g_strstr_len (g_bytes_get_data (body, NULL), g_bytes_get_size (body),
                                      series[i]));
    }
}

/* Issue 11: the hot path reads nothing it already knows. A conversation's
 * members are taken from the commit that created or changed it, so
 * messages right after a creation, an added member or a role change read
 * no membership from SQLite. */
static void
test_membership_in_memory (void)
{
  g_autoptr(SsqTestUser) a = ssq_test_register (server, "mem.a");
  g_autoptr(SsqTestUser) b = ssq_test_register (server, "mem.b");
  g_autoptr(SsqTestUser) c = ssq_test_register (server, "mem.c");
  g_autoptr(JsonObject) r = NULL;
  g_autofree char *id = NULL, *members = NULL, *messages = NULL;
  gint64 reads;
  guint status;

  reads = ssq_test_metric (server, "ssq_membership_reads_total");
  r = ssq_test_http (server, "POST", "/api/v1/conversations", a->token,
                     "{\"kind\":\"group\",\"title\":\"mem\",\"members\":[\"mem.b\"]}", &status);
  g_assert_cmpuint (status, ==, 201);
  id = g_strdup (json_object_get_string_member (conversation_of (r), "id"));
  g_clear_pointer (&r, json_object_unref);
  messages = g_strdup_printf ("/api/v1/conversations/%s/messages", id);
  r = ssq_test_http (server, "POST", messages, b->token,
                     "{\"client_id\":\"m1\",\"body\":\"first\"}", &status);
  g_assert_cmpuint (status, ==, 201);
  g_clear_pointer (&r, json_object_unref);

  members = g_strdup_printf ("/api/v1/conversations/%s/members", id);
  r = ssq_test_http (server, "POST", members, a->token, "{\"username\":\"mem.c\"}", &status);
  g_assert_cmpuint (status, ==, 201);
  g_clear_pointer (&r, json_object_unref);
  /* The new member may send at once, and is one of those it goes to. */
  r = ssq_test_http (server, "POST", messages, c->token,
                     "{\"client_id\":\"m2\",\"body\":\"hello\"}", &status);
  g_assert_cmpuint (status, ==, 201);
  g_clear_pointer (&r, json_object_unref);
  g_assert_cmpint (ssq_test_metric (server, "ssq_membership_reads_total"), ==, reads);
}

/* Issue 11: pages of history asked on 8 connections at once go to reader
 * threads while the main loop serves the others (a page asked alone is
 * read at once). Each page is the one asked, as one connection reading
 * them in turn gets it, whichever way it was read; clients that leave
 * before their page is read cost nothing; and the server serves on. */
#define HISTORY_CONNS 8
static void
test_history_many_at_once (void)
{
  /* A server of its own, stopped at the end: under valgrind
   * (server-api-history-valgrind), its exit code tells errors and leaks. */
  SsqTestServer *s = ssq_test_server_start (NULL, NULL);
  g_autoptr(SsqTestUser) u = ssq_test_register (s, "pages.reader");
  g_autofree char *id = ssq_test_create_conversation (s, u, "{\"kind\":\"group\",\"title\":\"Pages\"}");
  g_autofree char *messages = g_strdup_printf ("/api/v1/conversations/%s/messages", id);
  g_autoptr(GPtrArray) expected = g_ptr_array_new_with_free_func (g_free);
  SsqTestRaw *conns[HISTORY_CONNS];
  gint64 off_loop, reads = ssq_test_metric (s, "ssq_history_reads_total");
  const guint rounds = 20;

  for (guint i = 1; i <= 60; i++)
    {
      g_autofree char *body = g_strdup_printf ("{\"client_id\":\"p%u\",\"body\":\"page text %u\"}", i, i);
      guint status = 0;
      g_autoptr(JsonObject) r = ssq_test_http (s, "POST", messages, u->token, body, &status);

      g_assert_cmpuint (status, ==, 201);
    }
  /* What each page is, read one at a time: at once, on the main loop. */
  off_loop = ssq_test_metric (s, "ssq_history_reads_off_loop_total");
  {
    g_autoptr(SsqTestRaw) alone = ssq_test_raw_open (s);

    for (guint i = 0; i < HISTORY_CONNS; i++)
      {
        g_autofree char *path = g_strdup_printf ("%s?before=%u&limit=7", messages, 10 + 6 * i);
        g_auto(SsqTestRawResponse) r = { 0 };

        raw_request (alone, "GET", path, u->token);
        g_assert_true (ssq_test_raw_read_response (alone, 5000, &r));
        g_assert_cmpuint (r.status, ==, 200);
        g_assert_nonnull (strstr (r.body, "page text"));
        g_ptr_array_add (expected, g_strdup (r.body));
      }
  }
  g_assert_cmpint (ssq_test_metric (s, "ssq_history_reads_off_loop_total"), ==, off_loop);
  for (guint i = 0; i < HISTORY_CONNS; i++)
    conns[i] = ssq_test_raw_open (s);
  for (guint round = 0; round < rounds; round++)
    {
      /* Each connection asks for its page; a ninth leaves at once. */
      for (guint i = 0; i < HISTORY_CONNS; i++)
        {
          g_autofree char *path = g_strdup_printf ("%s?before=%u&limit=7", messages, 10 + 6 * i);

          raw_request (conns[i], "GET", path, u->token);
        }
      {
        g_autoptr(SsqTestRaw) leaver = ssq_test_raw_open (s);

        raw_request (leaver, "GET", messages, u->token);
      }
      for (guint i = 0; i < HISTORY_CONNS; i++)
        {
          g_auto(SsqTestRawResponse) r = { 0 };

          g_assert_true (ssq_test_raw_read_response (conns[i], 5000, &r));
          g_assert_cmpuint (r.status, ==, 200);
          g_assert_cmpstr (r.body, ==, expected->pdata[i]);
        }
    }
  for (guint i = 0; i < HISTORY_CONNS; i++)
    ssq_test_raw_close (conns[i]);
  ssq_test_assert_healthz (s);
  g_test_message ("%" G_GINT64_FORMAT " of %" G_GINT64_FORMAT " pages read off the main loop",
                  ssq_test_metric (s, "ssq_history_reads_off_loop_total") - off_loop,
                  ssq_test_metric (s, "ssq_history_reads_total") - reads);
  g_assert_cmpint (ssq_test_metric (s, "ssq_history_reads_total") - reads, >=, (gint64) (rounds * HISTORY_CONNS));
  g_assert_cmpint (ssq_test_metric (s, "ssq_history_reads_off_loop_total") - off_loop, >, 0);
  g_assert_cmpint (ssq_test_server_stop (s), ==, 0);
  ssq_test_server_free (s);
}

int
main (int    argc,
      char **argv)
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  server = ssq_test_server_start (NULL, NULL);
  g_test_add_func ("/server/api/accounts", test_accounts);
  g_test_add_func ("/server/api/membership-in-memory", test_membership_in_memory);
  g_test_add_func ("/server/api/user-search", test_user_search);
  g_test_add_func ("/server/api/direct", test_direct);
  g_test_add_func ("/server/api/group-roles", test_group_roles);
  g_test_add_func ("/server/api/owner-and-heir-leave", test_owner_and_heir_leave_together);
  g_test_add_func ("/server/api/adds-race-for-last-place", test_adds_race_for_last_place);
  g_test_add_func ("/server/api/double-remove", test_double_remove);
  g_test_add_func ("/server/api/messages", test_messages);
  g_test_add_func ("/server/api/health-metrics", test_health_metrics);
  g_test_add_func ("/server/api/history-many-at-once", test_history_many_at_once);
  ret = g_test_run ();
  ssq_test_server_free (server);
  return ret;
}
