/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-limits.c: what one client can make the server do: login guessing
 * (throttled per account and address, per account, registrations per
 * address) and relayed events. Clients bind to 127.0.0.2, 127.0.0.3, … to
 * come from different addresses. */
#include "ssq-test-raw.h"

#include <string.h>

#define WAIT_MS SSQ_TEST_RAW_WAIT_MS

/* POSTs @json to @path from @source over a fresh connection; the status,
 * with retry_after_ms of a 429 in @out_retry (may be NULL). */
static guint
post_from (SsqTestServer *server,
           const char    *source,
           const char    *path,
           const char    *json,
           gint64        *out_retry)
{
  g_autoptr(SsqTestRaw) c = ssq_test_raw_open_full (server, source, 0, 0);
  g_autofree char *request = g_strdup_printf ("POST %s HTTP/1.1\r\nHost: test\r\n"
                                              "Content-Type: application/json\r\n"
                                              "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                                              path, strlen (json), json);
  g_auto(SsqTestRawResponse) r = { 0 };

  g_assert_true (ssq_test_raw_send_str (c, request));
  g_assert_true (ssq_test_raw_read_response (c, WAIT_MS, &r));
  if (out_retry != NULL)
    {
      g_autoptr(JsonParser) parser = json_parser_new ();
      JsonObject *error;

      *out_retry = 0;
      if (r.status == 429 && json_parser_load_from_data (parser, r.body, -1, NULL) &&
          (error = json_object_get_object_member (json_node_get_object (json_parser_get_root (parser)),
                                                  "error")) != NULL)
        *out_retry = json_object_get_int_member (error, "retry_after_ms");
    }
  return r.status;
}

static guint
login_from (SsqTestServer *server,
            const char    *source,
            const char    *username,
            const char    *password,
            gint64        *out_retry)
{
  g_autofree char *json = g_strdup_printf ("{\"username\":\"%s\",\"password\":\"%s\"}",
                                           username, password);

  return post_from (server, source, "/api/v1/login", json, out_retry);
}

static guint
login_right_from (SsqTestServer *server,
                  const char    *source,
                  const char    *username)
{
  g_autofree char *password = g_strconcat ("password-", username, NULL);

  return login_from (server, source, username, password, NULL);
}

/* An attacker behind one address guesses one account's password 40 times
 * (a per-address limit of 30 a minute then refused everyone there, the
 * owner everywhere). Now the guesser backs off on that account alone: the
 * owner logs in from elsewhere, another user from the same address. */
static void
test_login_pair_backoff (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, NULL);
  g_autoptr(SsqTestUser) alice = ssq_test_register (server, "pair.alice");
  g_autoptr(SsqTestUser) bob = ssq_test_register (server, "pair.bob");
  guint refused = 0, wrong = 0;
  gint64 retry = 0;

  for (int i = 0; i < 40; i++)
    {
      guint status = login_from (server, "127.0.0.2", "pair.alice", "not-the-password", &retry);

      g_assert_true (status == 401 || status == 429);
      wrong += status == 401;
      refused += status == 429;
    }
  g_test_message ("40 guesses: %u answered 401, %u refused 429 (last retry_after_ms %"
                  G_GINT64_FORMAT ")", wrong, refused, retry);
  g_assert_cmpuint (wrong, >=, 5);     /* the free failures (default 5) */
  g_assert_cmpuint (refused, >, 0);
  /* Everyone else is not. */
  g_assert_cmpuint (login_right_from (server, "127.0.0.3", "pair.alice"), ==, 200);
  g_assert_cmpuint (login_right_from (server, "127.0.0.2", "pair.bob"), ==, 200);
  g_assert_cmpuint (login_right_from (server, "127.0.0.1", "pair.bob"), ==, 200);
}

/* A guesser spread over many addresses meets the account's own backoff once
 * an address has failed there; an address that has not failed (the owner's)
 * still gets in with the right password. */
static void
test_login_account_backoff (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL,
    "login_free_failures=5\nlogin_account_free_failures=1\n");
  g_autoptr(SsqTestUser) alice = ssq_test_register (server, "acct.alice");
  gint64 retry = 0;

  /* 20 addresses fail once each: the account's lockout doubles every 4
   * failures past the first, to 16 s, long enough for a slow machine. */
  for (int i = 0; i < 20; i++)
    {
      g_autofree char *source = g_strdup_printf ("127.0.0.%d", 10 + i);

      g_assert_cmpuint (login_from (server, source, "acct.alice", "wrong-guess", NULL), ==, 401);
    }
  /* Each of these addresses has one failure, far from its own five. */
  g_assert_cmpuint (login_from (server, "127.0.0.10", "acct.alice", "wrong-guess", &retry), ==, 429);
  g_test_message ("account locked: retry_after_ms %" G_GINT64_FORMAT, retry);
  g_assert_cmpint (retry, >, 0);
  g_assert_cmpuint (login_from (server, "127.0.0.11", "acct.alice", "password-acct.alice", NULL),
                    ==, 429);
  /* The owner, from addresses without failures. */
  g_assert_cmpuint (login_right_from (server, "127.0.0.200", "acct.alice"), ==, 200);
  g_assert_cmpuint (login_right_from (server, "127.0.0.1", "acct.alice"), ==, 200);
}

/* Registrations are counted per address. */
static void
test_registration_per_address (void)
{
  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, "registrations_per_hour=2\n");
  gint64 retry = 0;

  for (int i = 0; i < 2; i++)
    {
      g_autofree char *json = g_strdup_printf ("{\"username\":\"reg.a%d\",\"password\":\"password-x\"}", i);

      g_assert_cmpuint (post_from (server, "127.0.0.2", "/api/v1/register", json, NULL), ==, 201);
    }
  g_assert_cmpuint (post_from (server, "127.0.0.2", "/api/v1/register",
                               "{\"username\":\"reg.a9\",\"password\":\"password-x\"}", &retry),
                    ==, 429);
  g_test_message ("third registration: retry_after_ms %" G_GINT64_FORMAT, retry);
  g_assert_cmpint (retry, >, 0);
  g_assert_cmpuint (post_from (server, "127.0.0.3", "/api/v1/register",
                               "{\"username\":\"reg.b0\",\"password\":\"password-x\"}", NULL),
                    ==, 201);
  /* Logins are not registrations: the address still logs in. */
  g_assert_cmpuint (login_from (server, "127.0.0.2", "reg.a0", "password-x", NULL), ==, 200);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/server/limits/login-pair-backoff", test_login_pair_backoff);
  g_test_add_func ("/server/limits/login-account-backoff", test_login_account_backoff);
  g_test_add_func ("/server/limits/registration-per-address", test_registration_per_address);
  return g_test_run ();
}
