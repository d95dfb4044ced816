/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-tui-command.c: the command table and its parser. Arguments are words
 * (quotes group words, as in a shell), except that a command's last TEXT
 * argument takes the rest of the line as typed. */
#include "ssq-config.h"
#include "ssq-tui-command.h"
#include "ssq-tui-path.h"

#include <glib/gi18n.h>
#include <string.h>

static const SsqTuiCommand commands[] = {
  { SSQ_TUI_CMD_HELP, "help", "", N_("List the commands and keys"), 0, 0, FALSE },
  { SSQ_TUI_CMD_DM, "dm", N_("USER"), N_("Open the direct conversation with USER"), 1, 1, FALSE },
  { SSQ_TUI_CMD_GROUP, "group", N_("TITLE USER..."), N_("Create a group (quote a TITLE with spaces)"), 1, -1, FALSE },
  { SSQ_TUI_CMD_OPEN, "open", N_("NAME|N"), N_("Open a conversation by title, username or id; a number N opens the attachments of message #N"), 1, 1, TRUE },
  { SSQ_TUI_CMD_INVITE, "invite", N_("USER | [--uses N] [--expires 7d]"), N_("Add USER to this group; without USER, make an invite link with its QR code (server admins)"), 0, 4, FALSE },
  { SSQ_TUI_CMD_KICK, "kick", N_("USER"), N_("Remove USER from this group"), 1, 1, FALSE },
  { SSQ_TUI_CMD_LEAVE, "leave", "", N_("Leave this group"), 0, 0, FALSE },
  { SSQ_TUI_CMD_TITLE, "title", N_("TEXT"), N_("Rename this group"), 1, 1, TRUE },
  { SSQ_TUI_CMD_MUTE, "mute", "", N_("No notifications from this conversation"), 0, 0, FALSE },
  { SSQ_TUI_CMD_UNMUTE, "unmute", "", N_("Notifications from this conversation again"), 0, 0, FALSE },
  { SSQ_TUI_CMD_REPLY, "reply", N_("N TEXT"), N_("Answer message #N"), 2, 2, TRUE },
  { SSQ_TUI_CMD_EDIT, "edit", N_("N TEXT"), N_("Change your message #N"), 2, 2, TRUE },
  { SSQ_TUI_CMD_DELETE, "delete", N_("N"), N_("Delete message #N"), 1, 1, FALSE },
  { SSQ_TUI_CMD_RETRY, "retry", "", N_("Send again the messages marked “not sent”"), 0, 0, FALSE },
  { SSQ_TUI_CMD_DISCARD, "discard", "", N_("Drop the messages marked “not sent”"), 0, 0, FALSE },
  { SSQ_TUI_CMD_SEARCH, "search", N_("TEXT"), N_("Search the messages held here (Esc closes)"), 1, 1, TRUE },
  { SSQ_TUI_CMD_AWAY, "away", "", N_("Show yourself as away"), 0, 0, FALSE },
  { SSQ_TUI_CMD_BACK, "back", "", N_("Show yourself as online"), 0, 0, FALSE },
  { SSQ_TUI_CMD_USERS, "users", N_("PREFIX"), N_("Find users by name"), 0, 1, FALSE },
  { SSQ_TUI_CMD_NOTIFY, "notify", N_("on|off"), N_("Turn notifications on or off"), 1, 1, FALSE },
  { SSQ_TUI_CMD_UPLOAD, "upload", N_("PATH [CAPTION]"), N_("Send a file (Tab completes the path; quote spaces)"), 1, 2, TRUE, 1 },
  { SSQ_TUI_CMD_SAVE, "save", N_("N [DIR]"), N_("Save the attachments of message #N"), 1, 2, FALSE, 2 },
  { SSQ_TUI_CMD_IMAGES, "images", N_("[on|off]"), N_("Show pictures in the messages or not"), 0, 1, FALSE },
  { SSQ_TUI_CMD_LOGOUT, "logout", "", N_("Log out and quit"), 0, 0, FALSE },
  { SSQ_TUI_CMD_QUIT, "quit", "", N_("Quit"), 0, 0, FALSE },
};

G_STATIC_ASSERT (G_N_ELEMENTS (commands) == SSQ_TUI_N_COMMANDS);

const SsqTuiCommand *
ssq_tui_command_get (SsqTuiCommandId id)
{
  g_return_val_if_fail (id < SSQ_TUI_N_COMMANDS, NULL);
  return &commands[id];
}

static const SsqTuiCommand *
lookup (const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    if (g_ascii_strcasecmp (commands[i].name, name) == 0)
      return &commands[i];
  return NULL;
}

/* The end of the word at @p: the first space outside quotes and not
 * escaped, or the end of the text. */
static const char *
word_end (const char *p)
{
  char quote = 0;

  for (; *p != '\0'; p++)
    {
      if (quote == 0 && *p == ' ')
        break;
      if (*p == '\\' && quote != '\'' && p[1] != '\0')
        p++;
      else if (quote == 0 && (*p == '\'' || *p == '"'))
        quote = *p;
      else if (*p == quote)
        quote = 0;
    }
  return p;
}

/* Splits "a b rest of it" into max-1 words and the rest, as typed. The
 * words are read as a shell would ("a file.jpg", a\ file.jpg); an
 * unbalanced quote in them fails. */
static GStrv
split_with_rest (const char *args,
                 int         n)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  const char *p = args;

  for (int i = 0; i < n - 1; i++)
    {
      const char *start;
      char open = 0;

      while (*p == ' ')
        p++;
      start = p;
      p = word_end (p);
      if (p == start)
        break;
      {
        g_autofree char *typed = g_strndup (start, p - start);
        g_autofree char *word = ssq_tui_path_unescape (typed, &open);

        if (open != 0)
          return NULL;
        g_strv_builder_add (builder, word);
      }
    }
  while (*p == ' ')
    p++;
  if (*p != '\0')
    g_strv_builder_add (builder, p);
  return g_strv_builder_end (builder);
}

/**
 * ssq_tui_command_parse:
 * @line: a typed line starting with '/'
 * @out_args: (out): the arguments
 *
 * Returns: the command, or NULL with @error saying what is wrong (unknown
 * command, wrong number of arguments, unbalanced quotes) and how to use it.
 */
const SsqTuiCommand *
ssq_tui_command_parse (const char  *line,
                       GStrv       *out_args,
                       GError     **error)
{
  g_autofree char *name = NULL;
  const char *space, *args;
  const SsqTuiCommand *command;
  g_auto(GStrv) parsed = NULL;
  int n;

  g_return_val_if_fail (line != NULL && line[0] == '/', NULL);

  space = strchr (line, ' ');
  name = space ? g_strndup (line + 1, space - line - 1) : g_strdup (line + 1);
  args = space ? space + 1 : "";
  command = lookup (name);
  if (command == NULL)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_UNKNOWN_OPTION,
                   _("Unknown command /%s; /help lists them"), name);
      return NULL;
    }
  while (*args == ' ')
    args++;
  if (command->rest_is_text)
    parsed = split_with_rest (args, command->max_args);
  else if (*args == '\0')
    parsed = g_new0 (char *, 1);
  else if (!g_shell_parse_argv (args, NULL, &parsed, NULL))
    parsed = NULL;
  if (parsed == NULL)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _("Unbalanced quotes in /%s"), command->name);
      return NULL;
    }
  n = (int) g_strv_length (parsed);
  if (n < command->min_args || (command->max_args >= 0 && n > command->max_args))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, _("Usage: /%s %s"),
                   command->name, _(command->usage));
      return NULL;
    }
  *out_args = g_steal_pointer (&parsed);
  return command;
}

/* The command list for /help, generated from the table. */
char *
ssq_tui_command_help (void)
{
  GString *text = g_string_new (NULL);

  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      g_autofree char *head = g_strdup_printf ("/%s %s", commands[i].name, _(commands[i].usage));

      g_string_append_printf (text, "%-22s %s\n", head, _(commands[i].help));
    }
  return g_string_free (text, FALSE);
}

/* Command names starting with @prefix (without the slash), with a slash. */
GPtrArray *
ssq_tui_command_complete (const char *prefix)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    if (g_str_has_prefix (commands[i].name, prefix))
      g_ptr_array_add (out, g_strconcat ("/", commands[i].name, NULL));
  return out;
}

/**
 * ssq_tui_command_path_at:
 * @line: the input line
 * @cursor: a byte offset in it
 * @out_start: (out): where the path argument starts
 *
 * Returns: whether @cursor is in the argument of a command that is a file
 * path (/upload PATH, /save N DIR), for Tab to complete file names.
 */
gboolean
ssq_tui_command_path_at (const char *line,
                         gsize       cursor,
                         gsize      *out_start)
{
  g_autofree char *text = g_strndup (line, cursor);
  const char *space = strchr (text, ' ');
  g_autofree char *name = NULL;
  const SsqTuiCommand *command;
  const char *p;
  int index = 0;

  if (text[0] != '/' || space == NULL)
    return FALSE;
  name = g_strndup (text + 1, space - text - 1);
  command = lookup (name);
  if (command == NULL || command->path_arg == 0)
    return FALSE;
  for (p = space;;)
    {
      const char *start;

      while (*p == ' ')
        p++;
      start = p;
      index++;
      p = word_end (p);
      if (*p == '\0')
        {
          /* The word the cursor is in (or the empty one it begins). */
          *out_start = (gsize) (start - text);
          return index == command->path_arg;
        }
    }
}
