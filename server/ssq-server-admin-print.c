/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-admin-print.c: what `supersoniq-server admin` prints: tables
 * for people (every string from the server sanitized, as the chat CLI
 * does), or the answer's JSON as it came. */
#include "ssq-server-admin-cli.h"
#include "ssq-display.h"

#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>

void
ssq_admin_cli_print_json (JsonNode *node)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autofree char *text = NULL;
  g_autofree char *safe = NULL;

  json_generator_set_root (generator, node);
  json_generator_set_pretty (generator, TRUE);
  text = json_generator_to_data (generator, NULL);
  /* UTF-8 whatever the locale, but no character a terminal acts on: names
   * and titles are the users' own, and this is often read on one. */
  safe = ssq_display_escape_json (text);
  fputs (safe, stdout);
  fputc ('\n', stdout);
  fflush (stdout);
}

/* ---- cells --------------------------------------------------------------- */

static char *
cell_text (JsonObject *row,
           const char *member)
{
  JsonNode *node = json_object_get_member (row, member);

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return g_strdup ("-");
  if (json_node_get_value_type (node) == G_TYPE_STRING)
    return ssq_display_sanitize_line (json_node_get_string (node));
  if (json_node_get_value_type (node) == G_TYPE_BOOLEAN)
    return g_strdup (json_node_get_boolean (node) ? _("yes") : _("no"));
  return g_strdup_printf ("%" G_GINT64_FORMAT, json_node_get_int (node));
}

static char *
cell_time (JsonObject *row,
           const char *member)
{
  JsonNode *node = json_object_get_member (row, member);
  g_autoptr(GDateTime) time = NULL;

  if (node == NULL || JSON_NODE_HOLDS_NULL (node) || json_node_get_int (node) <= 0)
    return g_strdup ("-");
  time = g_date_time_new_from_unix_local (json_node_get_int (node) / 1000);
  return time ? g_date_time_format (time, "%Y-%m-%d %H:%M") : g_strdup ("-");
}

static char *
cell_bytes (JsonObject *row,
            const char *member)
{
  return g_format_size ((guint64) json_object_get_int_member_with_default (row, member, 0));
}

/* A conversation's name: its title, or its members' usernames. */
static char *
cell_name (JsonObject *row)
{
  JsonNode *title = json_object_get_member (row, "title");

  return cell_text (row, title != NULL && !JSON_NODE_HOLDS_NULL (title) ? "title" : "names");
}

/* ---- tables ----------------------------------------------------------------- */

typedef char *(*CellFunc) (JsonObject *row, const char *member);

typedef struct {
  const char *heading;
  const char *member;
  CellFunc    func;
} Column;

static void
print_table (JsonArray    *rows,
             const Column *columns,
             guint         n_columns,
             const char   *empty)
{
  g_autoptr(GPtrArray) cells = g_ptr_array_new_with_free_func (g_free);
  g_autofree guint *widths = g_new0 (guint, n_columns);
  guint n_rows = json_array_get_length (rows);

  if (n_rows == 0)
    {
      g_print ("%s\n", _(empty));
      return;
    }
  for (guint c = 0; c < n_columns; c++)
    {
      const char *heading = _(columns[c].heading);

      g_ptr_array_add (cells, g_strdup (heading));
      widths[c] = g_utf8_strlen (heading, -1);
    }
  for (guint r = 0; r < n_rows; r++)
    for (guint c = 0; c < n_columns; c++)
      {
        JsonObject *row = json_array_get_object_element (rows, r);
        CellFunc func = columns[c].func ? columns[c].func : cell_text;
        char *text = columns[c].member ? func (row, columns[c].member) : cell_name (row);

        widths[c] = MAX (widths[c], (guint) g_utf8_strlen (text, -1));
        g_ptr_array_add (cells, text);
      }
  for (guint r = 0; r <= n_rows; r++)
    {
      g_autoptr(GString) line = g_string_new (NULL);

      for (guint c = 0; c < n_columns; c++)
        {
          const char *text = cells->pdata[r * n_columns + c];

          g_string_append (line, text);
          if (c + 1 < n_columns)
            for (guint pad = g_utf8_strlen (text, -1); pad < widths[c] + 2; pad++)
              g_string_append_c (line, ' ');
        }
      g_print ("%s\n", line->str);
    }
}

static const Column user_columns[] = {
  { N_("USERNAME"), "username", NULL },
  { N_("DISPLAY NAME"), "display_name", NULL },
  { N_("ADMIN"), "server_admin", NULL },
  { N_("DISABLED"), "disabled", NULL },
  { N_("LOGINS"), "sessions", NULL },
  { N_("CONNECTED"), "connected", NULL },
  { N_("LAST SEEN"), "last_seen", cell_time },
  { N_("CREATED"), "created_at", cell_time },
  { N_("ID"), "id", NULL },
};

static const Column session_columns[] = {
  { N_("SESSION"), "id", NULL },
  { N_("USER"), "username", NULL },
  { N_("DEVICE"), "device", NULL },
  { N_("CONNECTED"), "connected", NULL },
  { N_("CREATED"), "created_at", cell_time },
  { N_("EXPIRES"), "expires_at", cell_time },
};

static const Column conversation_columns[] = {
  { N_("ID"), "id", NULL },
  { N_("KIND"), "kind", NULL },
  { N_("NAME"), NULL, NULL },
  { N_("MEMBERS"), "members", NULL },
  { N_("MESSAGES"), "messages", NULL },
  { N_("LAST ACTIVITY"), "last_activity", cell_time },
};

static const Column member_columns[] = {
  { N_("USERNAME"), "username", NULL },
  { N_("ROLE"), "role", NULL },
  { N_("READ UP TO"), "read_seq", NULL },
  { N_("JOINED"), "joined_at", cell_time },
};

/* ---- fields ------------------------------------------------------------------ */

/* "Label:  value", the values in one column: padded by characters, not
 * bytes, as translated labels have letters outside ASCII. */
static void
print_line (const char *label,
            const char *text)
{
  g_autoptr(GString) line = g_string_new (label);

  for (glong n = g_utf8_strlen (label, -1); n < 20; n++)
    g_string_append_c (line, ' ');
  g_print ("%s %s\n", line->str, text);
}

static void
print_field (JsonObject *object,
             const char *label,
             const char *member,
             CellFunc    func)
{
  g_autofree char *text = (func ? func : cell_text) (object, member);

  print_line (label, text);
}

static long long
count_of (JsonObject *object,
          const char *member)
{
  return (long long) json_object_get_int_member_with_default (object, member, 0);
}

static void
print_user (JsonObject *user)
{
  print_field (user, _("Username:"), "username", NULL);
  print_field (user, _("Display name:"), "display_name", NULL);
  print_field (user, _("Id:"), "id", NULL);
  print_field (user, _("Server admin:"), "server_admin", NULL);
  print_field (user, _("Disabled:"), "disabled", NULL);
  print_field (user, _("Presence:"), "presence", NULL);
  print_field (user, _("Created:"), "created_at", cell_time);
  print_field (user, _("Last seen:"), "last_seen", cell_time);
  print_field (user, _("Conversations:"), "conversations", NULL);
  print_field (user, _("Uploads:"), "media_bytes", cell_bytes);
  print_field (user, _("Reset code:"), "reset_pending", NULL);
  g_print ("\n");
  print_table (json_object_get_array_member (user, "session_list"), session_columns,
               G_N_ELEMENTS (session_columns), N_("No sessions."));
}

static void
print_conversation (JsonObject *conv)
{
  g_autofree char *name = cell_name (conv);

  print_line (_("Conversation:"), name);
  print_field (conv, _("Id:"), "id", NULL);
  print_field (conv, _("Kind:"), "kind", NULL);
  print_field (conv, _("Messages:"), "messages", NULL);
  print_field (conv, _("Created:"), "created_at", cell_time);
  print_field (conv, _("Last activity:"), "last_activity", cell_time);
  g_print ("\n");
  print_table (json_object_get_array_member (conv, "member_list"), member_columns,
               G_N_ELEMENTS (member_columns), N_("No members."));
}

static void
print_stats (JsonObject *stats)
{
  long long up = count_of (stats, "uptime_s");
  /* Translators: the server's uptime: days, then hours:minutes:seconds. */
  g_autofree char *uptime = g_strdup_printf (_("%lldd %02lld:%02lld:%02lld"), up / 86400,
                                             up / 3600 % 24, up / 60 % 60, up % 60);
  g_autofree char *users = g_strdup_printf (_("%lld (%lld disabled)"), count_of (stats, "users"),
                                            count_of (stats, "users_disabled"));
  g_autofree char *sessions = g_strdup_printf (_("%lld (%lld users online)"),
                                               count_of (stats, "connected_sessions"),
                                               count_of (stats, "users_online"));
  g_autofree char *media = cell_bytes (stats, "media_bytes");
  g_autofree char *db = cell_bytes (stats, "db_bytes");

  print_field (stats, _("Version:"), "version", NULL);
  print_line (_("Uptime:"), uptime);
  print_line (_("Users:"), users);
  print_field (stats, _("Conversations:"), "conversations", NULL);
  print_field (stats, _("Messages:"), "messages", NULL);
  print_field (stats, _("Logins:"), "logins", NULL);
  print_line (_("Connected sessions:"), sessions);
  print_line (_("Media:"), media);
  print_line (_("Database:"), db);
}

/* What a change did, in a sentence. */
static void
print_change (const char *op,
              JsonObject *request,
              JsonObject *result)
{
  g_autofree char *user = cell_text (result, "username");
  long long closed = count_of (result, "connections_closed");

  if (g_str_equal (op, "users.disable"))
    g_print (ngettext ("Disabled %s; %lld connection closed.\n",
                       "Disabled %s; %lld connections closed.\n", (unsigned long) closed),
             user, closed);
  else if (g_str_equal (op, "users.enable"))
    g_print (_("Enabled %s.\n"), user);
  else if (g_str_equal (op, "users.delete"))
    g_print (_("Deleted %s.\n"), user);
  else if (g_str_equal (op, "users.promote"))
    g_print (_("%s is a server admin now.\n"), user);
  else if (g_str_equal (op, "users.demote"))
    g_print (_("%s is no server admin now.\n"), user);
  else if (g_str_equal (op, "sessions.revoke") && json_object_has_member (request, "session"))
    g_print (ngettext ("Revoked the session of %s; %lld connection closed.\n",
                       "Revoked the session of %s; %lld connections closed.\n",
                       (unsigned long) closed), user, closed);
  else if (g_str_equal (op, "sessions.revoke"))
    g_print (ngettext ("Revoked every session of %s; %lld connection closed.\n",
                       "Revoked every session of %s; %lld connections closed.\n",
                       (unsigned long) closed), user, closed);
  else if (g_str_equal (op, "users.reset-password"))
    {
      g_autofree char *code = cell_text (result, "code");
      g_autofree char *until = cell_time (result, "expires_at");

      g_print (_("One-time code for %s: %s\n"
                 "Valid until %s, for one use. The user sets a new password with:\n"
                 "  supersoniq-cli --server URL reset-password %s %s\n"), user, code, until, user,
               code);
    }
}

/**
 * ssq_admin_cli_print:
 * Prints the @result of @op for people.
 */
void
ssq_admin_cli_print (const char *op,
                     JsonObject *request,
                     JsonNode   *result)
{
  JsonObject *object = JSON_NODE_HOLDS_OBJECT (result) ? json_node_get_object (result) : NULL;
  JsonArray *array = JSON_NODE_HOLDS_ARRAY (result) ? json_node_get_array (result) : NULL;

  if (g_str_equal (op, "users.list") && array)
    print_table (array, user_columns, G_N_ELEMENTS (user_columns), N_("No users."));
  else if (g_str_equal (op, "sessions.list") && array)
    print_table (array, session_columns, G_N_ELEMENTS (session_columns), N_("No sessions."));
  else if (g_str_equal (op, "conversations.list") && array)
    print_table (array, conversation_columns, G_N_ELEMENTS (conversation_columns),
                 N_("No conversations."));
  else if (g_str_equal (op, "users.show") && object)
    print_user (object);
  else if (g_str_has_prefix (op, "conversations.") && object)
    print_conversation (object);
  else if (g_str_equal (op, "stats") && object)
    print_stats (object);
  else if (object)
    print_change (op, request, object);
}
