/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-tui-actions.c: what a typed line does: a message to the current
 * conversation, or one of the commands of the table; and Tab completion. */
#include "ssq-tui-private.h"
#include "ssq-lookup.h"
#include "ssq-proto.h"
#include "ssq-tui-path.h"
#include "ssq-tui-width.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

typedef void (*ActionFunc) (SsqTui *self, GStrv args);

static gboolean
need_conversation (SsqTui *self)
{
  if (self->current_id != NULL)
    return TRUE;
  ssq_tui_set_status (self, TRUE, "%s", _("No conversation: /dm USER or /group TITLE USER..."));
  return FALSE;
}

static gboolean
parse_seq (SsqTui     *self,
           const char *text,
           gint64     *out)
{
  guint64 value;

  if (!g_ascii_string_to_unsigned (text[0] == '#' ? text + 1 : text, 10, 1, G_MAXINT64, &value, NULL))
    {
      ssq_tui_set_status (self, TRUE, _("Not a message number: %s"), text);
      return FALSE;
    }
  *out = (gint64) value;
  return TRUE;
}

/* Replies to conversation calls: select the conversation, or report. */
static void
conversation_done (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(SsqTui) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(SsqConversation) conversation = ssq_client_conversation_finish (SSQ_CLIENT (source), result, &error);

  if (conversation == NULL)
    {
      ssq_tui_set_status (self, TRUE, "%s", error->message);
      return;
    }
  ssq_tui_select (self, ssq_conversation_get_id (conversation));
}

static void
removed_done (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(SsqTui) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!ssq_client_remove_member_finish (SSQ_CLIENT (source), result, &error))
    ssq_tui_set_status (self, TRUE, "%s", error->message);
}

static void
edited_done (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(SsqTui) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(SsqMessage) message = ssq_client_edit_message_finish (SSQ_CLIENT (source), result, &error);

  if (message == NULL)
    ssq_tui_set_status (self, TRUE, "%s", error->message);
}

static void
deleted_done (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(SsqTui) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!ssq_client_delete_message_finish (SSQ_CLIENT (source), result, &error))
    ssq_tui_set_status (self, TRUE, "%s", error->message);
}

static void
users_done (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(SsqTui) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) users = ssq_client_search_users_finish (SSQ_CLIENT (source), result, &error);
  g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);

  if (users == NULL)
    {
      ssq_tui_set_status (self, TRUE, "%s", error->message);
      return;
    }
  for (guint i = 0; i < users->len; i++)
    g_ptr_array_add (lines, g_strdup_printf ("%-20s %s (%s)", ssq_user_get_username (users->pdata[i]),
                                             ssq_user_get_display_name (users->pdata[i]),
                                             ssq_user_get_presence (users->pdata[i])));
  if (users->len == 0)
    g_ptr_array_add (lines, g_strdup (_("Nobody by that name")));
  ssq_tui_show_overlay (self, _("Users — /dm USER to talk, Esc to close"), lines);
}

static void
act_help (SsqTui *self,
          GStrv   args)
{
  g_autofree char *help = ssq_tui_command_help ();
  g_auto(GStrv) split = g_strsplit (help, "\n", -1);
  g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; split[i] != NULL; i++)
    if (split[i][0] != '\0')
      g_ptr_array_add (lines, g_strdup (split[i]));
  g_ptr_array_add (lines, g_strdup (""));
  g_ptr_array_add (lines, g_strdup (_("Alt-1..9 or Ctrl-N/Ctrl-P switch, Alt-A next unread, "
                                      "PgUp/PgDn scroll, Tab completes, Ctrl-L redraws, Ctrl-C quits")));
  ssq_tui_show_overlay (self, _("Commands — Esc to close"), lines);
}

static void
act_dm (SsqTui *self,
        GStrv   args)
{
  ssq_client_create_direct_async (self->client, args[0], NULL, conversation_done, g_object_ref (self));
}

static void
act_group (SsqTui *self,
           GStrv   args)
{
  ssq_client_create_group_async (self->client, args[0], (const char *const *) args + 1, NULL,
                                 conversation_done, g_object_ref (self));
}

/* A title several groups share opens none: the candidates are listed with
 * the ids that name them exactly. */
static void
act_open (SsqTui *self,
          GStrv   args)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SsqConversation) conversation = NULL;
  g_auto(GStrv) split = NULL;
  g_autoptr(GPtrArray) lines = NULL;
  guint64 seq;

  /* A number names a message with attachments here first (numbers are
   * not usernames; a group titled so is still found when there is none). */
  if (self->current_id != NULL && g_ascii_string_to_unsigned (args[0], 10, 1, G_MAXINT64, &seq, NULL))
    {
      if (ssq_tui_media_open (self, (gint64) seq, &error) ||
          !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
        {
          if (error != NULL)
            ssq_tui_set_status (self, TRUE, "%s", error->message);
          return;
        }
      g_clear_error (&error);
    }
  conversation = ssq_lookup_conversation (ssq_client_get_cache (self->client), args[0], &error);
  if (conversation != NULL)
    {
      ssq_tui_select (self, ssq_conversation_get_id (conversation));
      return;
    }
  if (!g_error_matches (error, SSQ_ERROR, SSQ_ERROR_CONFLICT))
    {
      ssq_tui_set_status (self, TRUE, "%s", error->message);
      return;
    }
  split = g_strsplit (error->message, "\n", -1);
  lines = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 1; split[i] != NULL; i++)
    g_ptr_array_add (lines, g_strdup (split[i]));
  g_ptr_array_add (lines, g_strdup (""));
  g_ptr_array_add (lines, g_strdup (_("/open ID opens one; Esc closes this list")));
  ssq_tui_show_overlay (self, split[0], lines);
}

static void
act_invite (SsqTui *self,
            GStrv   args)
{
  /* Without a user it is an invite to the server, not to this group. */
  if (args[0] == NULL || g_str_has_prefix (args[0], "--"))
    {
      ssq_tui_invite_create (self, args);
      return;
    }
  if (args[1] != NULL)
    {
      ssq_tui_set_status (self, TRUE, "%s", _("Usage: /invite [--uses N] [--expires 7d], or /invite USER"));
      return;
    }
  if (need_conversation (self))
    ssq_client_add_member_async (self->client, self->current_id, args[0], NULL, NULL,
                                 conversation_done, g_object_ref (self));
}

static void
act_kick (SsqTui *self,
          GStrv   args)
{
  if (need_conversation (self))
    ssq_client_remove_member_async (self->client, self->current_id, args[0], NULL,
                                    removed_done, g_object_ref (self));
}

static void
act_leave (SsqTui *self,
           GStrv   args)
{
  if (need_conversation (self))
    ssq_client_remove_member_async (self->client, self->current_id,
                                    ssq_client_get_username (self->client), NULL,
                                    removed_done, g_object_ref (self));
}

static void
update (SsqTui     *self,
        const char *title,
        int         muted)
{
  if (need_conversation (self))
    ssq_client_update_conversation_async (self->client, self->current_id, title, muted, NULL,
                                          conversation_done, g_object_ref (self));
}

static void
act_title (SsqTui *self,
           GStrv   args)
{
  update (self, args[0], -1);
}

static void
act_mute (SsqTui *self,
          GStrv   args)
{
  update (self, NULL, 1);
}

static void
act_unmute (SsqTui *self,
            GStrv   args)
{
  update (self, NULL, 0);
}

static void
send_text (SsqTui     *self,
           const char *text,
           gint64      reply_to)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SsqMessage) message = NULL;

  if (!need_conversation (self))
    return;
  message = ssq_client_send_message (self->client, self->current_id, text, reply_to, &error);
  if (message == NULL)
    ssq_tui_set_status (self, TRUE, "%s", error->message);
  self->scroll = 0;
}

static void
act_reply (SsqTui *self,
           GStrv   args)
{
  gint64 seq;

  if (parse_seq (self, args[0], &seq))
    send_text (self, args[1], seq);
}

static void
act_edit (SsqTui *self,
          GStrv   args)
{
  gint64 seq;

  if (need_conversation (self) && parse_seq (self, args[0], &seq))
    ssq_client_edit_message_async (self->client, self->current_id, seq, args[1], NULL,
                                   edited_done, g_object_ref (self));
}

static void
act_delete (SsqTui *self,
            GStrv   args)
{
  gint64 seq;

  if (need_conversation (self) && parse_seq (self, args[0], &seq))
    ssq_client_delete_message_async (self->client, self->current_id, seq, NULL,
                                     deleted_done, g_object_ref (self));
}

/* The failed messages of the current conversation, retried or dropped. */
static void
for_failed (SsqTui   *self,
            gboolean  retry)
{
  g_autoptr(GPtrArray) outbox = NULL;
  guint done = 0;

  if (!need_conversation (self))
    return;
  outbox = ssq_cache_outbox_list (ssq_client_get_cache (self->client), self->current_id);
  for (guint i = 0; i < outbox->len; i++)
    {
      SsqMessage *m = outbox->pdata[i];
      g_autoptr(GError) error = NULL;

      if (ssq_message_get_status (m) != SSQ_MESSAGE_FAILED)
        continue;
      if (retry ? ssq_client_retry_message (self->client, ssq_message_get_client_id (m), &error)
                : ssq_client_discard_message (self->client, ssq_message_get_client_id (m), &error))
        done++;
      else
        ssq_tui_set_status (self, TRUE, "%s", error->message);
    }
  if (done == 0)
    ssq_tui_set_status (self, FALSE, "%s", _("No message here is marked “not sent”"));
}

static void
act_retry (SsqTui *self,
           GStrv   args)
{
  for_failed (self, TRUE);
}

static void
act_discard (SsqTui *self,
             GStrv   args)
{
  for_failed (self, FALSE);
}

static void
act_search (SsqTui *self,
            GStrv   args)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) found = ssq_client_search (self->client, args[0], NULL, 100, &error);
  g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *title = NULL;

  if (found == NULL)
    {
      ssq_tui_set_status (self, TRUE, "%s", error->message);
      return;
    }
  for (guint i = 0; i < found->len; i++)
    {
      SsqMessage *m = found->pdata[i];
      g_autoptr(SsqConversation) c = ssq_cache_get_conversation (ssq_client_get_cache (self->client),
                                                                 ssq_message_get_conversation_id (m));
      g_autofree char *who = ssq_tui_user_name (self, ssq_message_get_sender (m));

      g_ptr_array_add (lines, g_strdup_printf ("%s #%" G_GINT64_FORMAT " %s: %s",
                                               c ? ssq_conversation_get_display_title (c) : "?",
                                               ssq_message_get_seq (m), who, ssq_message_get_body (m)));
    }
  title = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u message with “%s” — Esc to close",
                                        "%u messages with “%s” — Esc to close", found->len),
                           found->len, args[0]);
  ssq_tui_show_overlay (self, title, lines);
}

static void
act_away (SsqTui *self,
          GStrv   args)
{
  ssq_client_set_presence (self->client, "away");
}

static void
act_back (SsqTui *self,
          GStrv   args)
{
  ssq_client_set_presence (self->client, "online");
}

static void
act_users (SsqTui *self,
           GStrv   args)
{
  ssq_client_search_users_async (self->client, args[0] ? args[0] : "", 50, NULL, users_done,
                                 g_object_ref (self));
}

static void
act_notify (SsqTui *self,
            GStrv   args)
{
  if (g_ascii_strcasecmp (args[0], "on") != 0 && g_ascii_strcasecmp (args[0], "off") != 0)
    {
      ssq_tui_set_status (self, TRUE, "%s", _("Usage: /notify on|off"));
      return;
    }
  self->notify = g_ascii_strcasecmp (args[0], "on") == 0;
  ssq_tui_save_config (self);
  ssq_tui_set_status (self, FALSE, "%s", self->notify ? _("Notifications on") : _("Notifications off"));
}

/* A file to send: there, a regular file, readable; else a clear status. */
static gboolean
check_file (SsqTui     *self,
            const char *path)
{
  g_autofree char *name = g_filename_display_name (path);
  GStatBuf st;

  if (g_stat (path, &st) != 0)
    {
      int saved = errno;

      ssq_tui_set_status (self, TRUE, _("Cannot send %s: %s"), name, g_strerror (saved));
      return FALSE;
    }
  if (S_ISDIR (st.st_mode))
    {
      ssq_tui_set_status (self, TRUE, _("%s is a folder; send the files in it one by one"), name);
      return FALSE;
    }
  if (!S_ISREG (st.st_mode))
    {
      ssq_tui_set_status (self, TRUE, _("%s is not a regular file"), name);
      return FALSE;
    }
  if (g_access (path, R_OK) != 0)
    {
      int saved = errno;

      ssq_tui_set_status (self, TRUE, _("Cannot send %s: %s"), name, g_strerror (saved));
      return FALSE;
    }
  return TRUE;
}

static void
act_upload (SsqTui *self,
            GStrv   args)
{
  g_autofree char *path = ssq_tui_path_expand (args[0]);
  g_autoptr(GError) error = NULL;

  if (!need_conversation (self) || !check_file (self, path))
    return;
  if (!ssq_tui_media_upload (self, path, args[1], &error))
    ssq_tui_set_status (self, TRUE, "%s", error->message);
}

static void
act_save (SsqTui *self,
          GStrv   args)
{
  g_autofree char *dir = args[1] ? ssq_tui_path_expand (args[1]) : NULL;
  g_autoptr(GError) error = NULL;
  gint64 seq;

  if (!need_conversation (self) || !parse_seq (self, args[0], &seq))
    return;
  if (dir != NULL && !g_file_test (dir, G_FILE_TEST_IS_DIR))
    {
      g_autofree char *name = g_filename_display_name (dir);

      ssq_tui_set_status (self, TRUE, _("No such folder: %s"), name);
      return;
    }
  if (!ssq_tui_media_save (self, seq, dir, &error))
    ssq_tui_set_status (self, TRUE, "%s", error->message);
}

/* What /images says: the setting, and what this terminal makes of it. */
static void
report_images (SsqTui *self)
{
  static const char *const kinds[] = {
    [SSQ_TUI_IMAGE_SYMBOLS] = N_("Unicode blocks"),
    [SSQ_TUI_IMAGE_SIXEL] = N_("sixel graphics"),
    [SSQ_TUI_IMAGE_KITTY] = N_("kitty graphics"),
  };

  if (!self->images)
    ssq_tui_set_status (self, FALSE, "%s", _("Pictures off (/images on shows them)"));
  else if (!ssq_tui_image_supported ())
    ssq_tui_set_status (self, FALSE, "%s", _("Pictures on, but this build cannot show any (it has no libchafa)"));
  else if (self->images_mode == SSQ_TUI_IMAGE_NONE)
    ssq_tui_set_status (self, FALSE, "%s", _("Pictures on, but this terminal cannot show any"));
  else
    ssq_tui_set_status (self, FALSE, _("Pictures on (%s)"), _(kinds[self->images_mode]));
}

static void
act_images (SsqTui *self,
            GStrv   args)
{
  if (args[0] == NULL)
    {
      report_images (self);
      return;
    }
  if (g_ascii_strcasecmp (args[0], "on") != 0 && g_ascii_strcasecmp (args[0], "off") != 0)
    {
      ssq_tui_set_status (self, TRUE, "%s", _("Usage: /images on|off"));
      return;
    }
  self->images = g_ascii_strcasecmp (args[0], "on") == 0;
  if (ssq_tui_save_config (self))
    report_images (self);
  ssq_tui_queue_redraw (self);
}

static void
act_logout (SsqTui *self,
            GStrv   args)
{
  self->logout = TRUE;
  ssq_tui_quit (self, 0);
}

static void
act_quit (SsqTui *self,
          GStrv   args)
{
  ssq_tui_quit (self, 0);
}

static const ActionFunc actions[] = {
  [SSQ_TUI_CMD_HELP] = act_help,
  [SSQ_TUI_CMD_DM] = act_dm,
  [SSQ_TUI_CMD_GROUP] = act_group,
  [SSQ_TUI_CMD_OPEN] = act_open,
  [SSQ_TUI_CMD_INVITE] = act_invite,
  [SSQ_TUI_CMD_KICK] = act_kick,
  [SSQ_TUI_CMD_LEAVE] = act_leave,
  [SSQ_TUI_CMD_TITLE] = act_title,
  [SSQ_TUI_CMD_MUTE] = act_mute,
  [SSQ_TUI_CMD_UNMUTE] = act_unmute,
  [SSQ_TUI_CMD_REPLY] = act_reply,
  [SSQ_TUI_CMD_EDIT] = act_edit,
  [SSQ_TUI_CMD_DELETE] = act_delete,
  [SSQ_TUI_CMD_RETRY] = act_retry,
  [SSQ_TUI_CMD_DISCARD] = act_discard,
  [SSQ_TUI_CMD_SEARCH] = act_search,
  [SSQ_TUI_CMD_AWAY] = act_away,
  [SSQ_TUI_CMD_BACK] = act_back,
  [SSQ_TUI_CMD_USERS] = act_users,
  [SSQ_TUI_CMD_NOTIFY] = act_notify,
  [SSQ_TUI_CMD_UPLOAD] = act_upload,
  [SSQ_TUI_CMD_SAVE] = act_save,
  [SSQ_TUI_CMD_IMAGES] = act_images,
  [SSQ_TUI_CMD_LOGOUT] = act_logout,
  [SSQ_TUI_CMD_QUIT] = act_quit,
};

G_STATIC_ASSERT (G_N_ELEMENTS (actions) == SSQ_TUI_N_COMMANDS);

/**
 * ssq_tui_submit:
 * A line from the input: a command when it starts with '/', a message
 * otherwise ("//text" sends "/text").
 */
void
ssq_tui_submit (SsqTui     *self,
                const char *line)
{
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) args = NULL;
  const SsqTuiCommand *command;

  if (g_strstrip ((char *) line)[0] == '\0')
    return;
  if (line[0] != '/' || line[1] == '/')
    {
      send_text (self, line[0] == '/' ? line + 1 : line, 0);
      return;
    }
  command = ssq_tui_command_parse (line, &args, &error);
  if (command == NULL)
    {
      ssq_tui_set_status (self, TRUE, "%s", error->message);
      return;
    }
  actions[command->id] (self, args);
}

/* Tab in the path argument of /upload or /save: file names. */
static void
complete_path (SsqTui *self,
               gsize   start)
{
  const char *text = ssq_tui_editor_get_text (self->editor);
  gsize cursor = ssq_tui_editor_get_cursor (self->editor);
  g_autofree char *typed = g_strndup (text + start, cursor - start);
  g_autofree char *replacement = NULL;
  g_autoptr(GPtrArray) names = ssq_tui_path_complete (typed, &replacement);

  if (names->len == 0)
    {
      ssq_tui_set_status (self, FALSE, "%s", _("No file name starts with that"));
      return;
    }
  ssq_tui_editor_replace_before_cursor (self->editor, start, replacement);
  if (names->len > 1)
    {
      g_autofree char *all = NULL;

      g_ptr_array_add (names, NULL);
      all = g_strjoinv ("  ", (char **) names->pdata);
      ssq_tui_set_status (self, FALSE, "%s", all);
    }
}

/* Tab: commands at the start of a line, file paths in /upload and /save,
 * else usernames (with or without '@') and conversation titles. One match
 * is completed; several are completed as far as they agree and listed in
 * the status bar. */
void
ssq_tui_complete (SsqTui *self)
{
  g_autofree char *word = ssq_tui_editor_word_before_cursor (self->editor);
  g_autoptr(GPtrArray) candidates = NULL;
  g_autoptr(SsqConversation) current = ssq_tui_get_current (self);
  gboolean at = word[0] == '@';
  const char *stem = at ? word + 1 : word;
  g_autofree char *common = NULL;
  GListModel *list = G_LIST_MODEL (self->conversations);
  gsize path_start;

  if (ssq_tui_command_path_at (ssq_tui_editor_get_text (self->editor),
                               ssq_tui_editor_get_cursor (self->editor), &path_start))
    {
      complete_path (self, path_start);
      return;
    }
  if (word[0] == '/' && strlen (word) == ssq_tui_editor_get_cursor (self->editor))
    candidates = ssq_tui_command_complete (word + 1);
  else
    {
      candidates = g_ptr_array_new_with_free_func (g_free);
      if (current != NULL)
        {
          GListModel *members = ssq_conversation_get_members (current);

          for (guint i = 0; i < g_list_model_get_n_items (members); i++)
            {
              g_autoptr(SsqMember) m = g_list_model_get_item (members, i);

              if (g_str_has_prefix (ssq_member_get_username (m), stem))
                g_ptr_array_add (candidates, g_strconcat (at ? "@" : "", ssq_member_get_username (m), NULL));
            }
        }
      for (guint i = 0; !at && i < g_list_model_get_n_items (list); i++)
        {
          g_autoptr(SsqConversation) c = g_list_model_get_item (list, i);
          const char *title = ssq_conversation_get_title (c);

          if (title != NULL && strchr (title, ' ') == NULL && g_str_has_prefix (title, stem))
            g_ptr_array_add (candidates, g_strdup (title));
        }
    }
  if (candidates->len == 0 || *word == '\0')
    return;
  common = g_strdup (candidates->pdata[0]);
  for (guint i = 1; i < candidates->len; i++)
    {
      const char *other = candidates->pdata[i];
      gsize n = 0;

      while (common[n] != '\0' && common[n] == other[n])
        n++;
      common[n] = '\0';
    }
  if (candidates->len == 1)
    {
      g_autofree char *done = g_strconcat (common, " ", NULL);

      ssq_tui_editor_replace_word_before_cursor (self->editor, done);
      return;
    }
  ssq_tui_editor_replace_word_before_cursor (self->editor, common);
  g_ptr_array_add (candidates, NULL);
  {
    g_autofree char *all = g_strjoinv ("  ", (char **) candidates->pdata);

    ssq_tui_set_status (self, FALSE, "%s", all);
  }
}
