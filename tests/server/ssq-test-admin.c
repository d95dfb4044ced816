/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-test-admin.c: what the administration tests share: running
 * `supersoniq-server admin`, its --json answers, and the chat clients
 * that must go on being served. */
#include "ssq-test-admin.h"

#include <errno.h>
#include <signal.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

/* The server the test program runs against (its main starts it). */
SsqTestServer *server;

/* Runs `supersoniq-server admin --data-dir @data_dir ARGS...`; returns its
 * exit code, what it printed in @out and @err (may be NULL). */
int
run_admin_in (const char  *data_dir,
              char       **out,
              char       **err,
              ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *o = NULL, *e = NULL;
  int status = -1;
  va_list ap;

  g_ptr_array_add (argv, (gpointer) g_getenv ("SSQ_SERVER_BIN"));
  g_ptr_array_add (argv, (gpointer) "admin");
  g_ptr_array_add (argv, (gpointer) "--data-dir");
  g_ptr_array_add (argv, (gpointer) data_dir);
  va_start (ap, err);
  for (const char *a = va_arg (ap, const char *); a != NULL; a = va_arg (ap, const char *))
    g_ptr_array_add (argv, (gpointer) a);
  va_end (ap);
  g_ptr_array_add (argv, NULL);
  g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, &o, &e,
                &status, &error);
  g_assert_no_error (error);
  g_assert_true (WIFEXITED (status));
  if (e != NULL && *e != '\0')
    g_test_message ("admin stderr: %s", e);
  if (out != NULL)
    *out = g_steal_pointer (&o);
  if (err != NULL)
    *err = g_steal_pointer (&e);
  return WEXITSTATUS (status);
}


/* The --json answer of a command that must succeed. */
JsonNode *
admin_json (const char *first,
            ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  int status = -1;
  va_list ap;

  g_ptr_array_add (argv, (gpointer) g_getenv ("SSQ_SERVER_BIN"));
  g_ptr_array_add (argv, (gpointer) "admin");
  g_ptr_array_add (argv, (gpointer) "--data-dir");
  g_ptr_array_add (argv, server->data_dir);
  g_ptr_array_add (argv, (gpointer) "--json");
  va_start (ap, first);
  for (const char *a = first; a != NULL; a = va_arg (ap, const char *))
    g_ptr_array_add (argv, (gpointer) a);
  va_end (ap);
  g_ptr_array_add (argv, NULL);
  g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out,
                NULL, &status, &error);
  g_assert_no_error (error);
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 0);
  return json_from_string (out, &error);
}

/* The row of @username in `users list`. */
JsonObject *
user_row (JsonNode   *list,
          const char *username)
{
  JsonArray *rows = json_node_get_array (list);

  for (guint i = 0; i < json_array_get_length (rows); i++)
    {
      JsonObject *row = json_array_get_object_element (rows, i);

      if (g_str_equal (json_object_get_string_member (row, "username"), username))
        return row;
    }
  return NULL;
}

guint
http_status (const char *method,
             const char *path,
             const char *token,
             const char *body)
{
  guint status = 0;
  g_autoptr(JsonObject) reply = ssq_test_http (server, method, path, token, body, &status);

  return status;
}

SsqTestWs *
connect_ws (const char *token)
{
  SsqTestWs *ws = ssq_test_ws_connect (server, token, NULL);
  g_autoptr(JsonObject) welcome = ssq_test_ws_expect (ws, "welcome", WAIT);

  g_assert_nonnull (welcome);
  return ws;
}

char *
login (const char *username,
       const char *password,
       guint       expect_status,
       const char *expect_code)
{
  g_autofree char *body = g_strdup_printf ("{\"username\":\"%s\",\"password\":\"%s\"}",
                                           username, password);
  guint status = 0;
  g_autoptr(JsonObject) r = ssq_test_http (server, "POST", "/api/v1/login", NULL, body, &status);

  g_assert_cmpuint (status, ==, expect_status);
  if (expect_code != NULL)
    g_assert_cmpstr (ssq_test_error_code (r), ==, expect_code);
  return status == 200 ? g_strdup (json_object_get_string_member (r, "token")) : NULL;
}

/* The chat is still served: /healthz answers and @ws gets its send acknowledged. */
void
assert_chat_served (SsqTestWs  *ws,
                    const char *conv)
{
  g_autoptr(JsonObject) ack = NULL;
  g_autofree char *client_id = g_strdup_printf ("k%" G_GINT64_FORMAT, g_get_real_time ());

  ssq_test_assert_healthz (server);
  ack = ssq_test_ws_post (ws, conv, client_id, "still here");
  g_assert_nonnull (ack);
  g_assert_cmpstr (json_object_get_string_member (ack, "type"), ==, "ack");
}
