/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-tui.c: the terminal client's object: curses set-up on the GLib main
 * loop (stdin watched with g_unix_fd_add, SIGWINCH with g_unix_signal_add,
 * redraws coalesced in one idle), conversation selection, notifications
 * and settings. Drawing is in ssq-tui-draw.c, keys in ssq-tui-input.c,
 * commands in ssq-tui-actions.c. */
#include "ssq-tui-private.h"

#include <glib-unix.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#ifdef HAVE_LIBNOTIFY
#include <libnotify/notify.h>
#endif

#include "ssq-credentials.h"
#include "ssq-display.h"
#include "ssq-invite-link.h"
#include "ssq-prompt.h"
#include "ssq-trust-prompt.h"
#include "ssq-tui-discover.h"
#include "ssq-proto.h"

G_DEFINE_FINAL_TYPE (SsqTui, ssq_tui, G_TYPE_OBJECT)

static void
ssq_tui_dispose (GObject *object)
{
  SsqTui *self = SSQ_TUI (object);

  g_clear_handle_id (&self->redraw_source, g_source_remove);
  g_clear_handle_id (&self->stdin_source, g_source_remove);
  g_clear_handle_id (&self->winch_source, g_source_remove);
  g_clear_handle_id (&self->status_source, g_source_remove);
  if (self->client != NULL)
    g_signal_handlers_disconnect_by_data (self->client, self);
  /* Before the client: pending callbacks find no media state then. */
  g_clear_pointer (&self->media, ssq_tui_media_free);
  g_clear_object (&self->messages);
  g_clear_object (&self->conversations);
  g_clear_object (&self->client);
  G_OBJECT_CLASS (ssq_tui_parent_class)->dispose (object);
}

static void
ssq_tui_finalize (GObject *object)
{
  SsqTui *self = SSQ_TUI (object);

  g_free (self->current_id);
  g_free (self->status);
  g_free (self->progress_label);
  g_free (self->overlay_title);
  g_clear_pointer (&self->pictures, ssq_tui_pictures_free);
  g_clear_pointer (&self->overlay, g_ptr_array_unref);
  g_clear_pointer (&self->overlay_attrs, g_array_unref);
  g_clear_pointer (&self->editor, ssq_tui_editor_free);
  g_clear_pointer (&self->loop, g_main_loop_unref);
  g_clear_pointer (&self->config, g_key_file_unref);
  g_free (self->config_path);
  G_OBJECT_CLASS (ssq_tui_parent_class)->finalize (object);
}

static void
ssq_tui_class_init (SsqTuiClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = ssq_tui_dispose;
  G_OBJECT_CLASS (klass)->finalize = ssq_tui_finalize;
}

static void
ssq_tui_init (SsqTui *self)
{
  self->editor = ssq_tui_editor_new ();
  self->loop = g_main_loop_new (NULL, FALSE);
  self->focused = TRUE;
  self->notify = TRUE;
  self->images = TRUE;
  self->media = ssq_tui_media_new (self);
}

/* Redraws. */

static gboolean
redraw_cb (gpointer user_data)
{
  SsqTui *self = user_data;

  self->redraw_source = 0;
  ssq_tui_draw (self);
  return G_SOURCE_REMOVE;
}

/* Every change asks for a redraw; they are drawn together once the loop is
 * idle, so a burst of events costs one screen update. */
void
ssq_tui_queue_redraw (SsqTui *self)
{
  if (self->redraw_source == 0 && self->curses_on)
    self->redraw_source = g_idle_add_full (G_PRIORITY_DEFAULT_IDLE, redraw_cb, self, NULL);
}

static gboolean
status_expired_cb (gpointer user_data)
{
  SsqTui *self = user_data;

  self->status_source = 0;
  g_clear_pointer (&self->status, g_free);
  ssq_tui_queue_redraw (self);
  return G_SOURCE_REMOVE;
}

/* A line in the status bar for a few seconds. */
void
ssq_tui_set_status (SsqTui     *self,
                    gboolean    is_error,
                    const char *format,
                    ...)
{
  va_list ap;

  g_free (self->status);
  va_start (ap, format);
  self->status = g_strdup_vprintf (format, ap);
  va_end (ap);
  self->status_is_error = is_error;
  g_clear_handle_id (&self->status_source, g_source_remove);
  self->status_source = g_timeout_add_seconds (is_error ? 8 : 4, status_expired_cb, self);
  ssq_tui_queue_redraw (self);
}

/* Conversations. */

SsqConversation *
ssq_tui_get_current (SsqTui *self)
{
  if (self->current_id == NULL)
    return NULL;
  return ssq_cache_get_conversation (ssq_client_get_cache (self->client), self->current_id);
}

static void
messages_changed_cb (GListModel *model,
                     guint       position,
                     guint       removed,
                     guint       added,
                     SsqTui     *self)
{
  ssq_tui_queue_redraw (self);
}

void
ssq_tui_select (SsqTui     *self,
                const char *conversation_id)
{
  if (g_strcmp0 (self->current_id, conversation_id) == 0)
    return;
  g_free (self->current_id);
  self->current_id = g_strdup (conversation_id);
  self->scroll = 0;
  self->loading_older = FALSE;
  g_clear_object (&self->messages);
  if (conversation_id != NULL)
    {
      self->messages = ssq_message_list_new (self->client, conversation_id, 200);
      g_signal_connect (self->messages, "items-changed", G_CALLBACK (messages_changed_cb), self);
    }
  ssq_tui_close_overlay (self);
  ssq_tui_queue_redraw (self);
}

/* Alt-1..9: the Nth conversation of the list. */
void
ssq_tui_select_index (SsqTui *self,
                      int     index)
{
  g_autoptr(SsqConversation) conversation = g_list_model_get_item (G_LIST_MODEL (self->conversations), index);

  if (conversation != NULL)
    ssq_tui_select (self, ssq_conversation_get_id (conversation));
}

/* Ctrl-N / Ctrl-P. */
void
ssq_tui_select_step (SsqTui *self,
                     int     step)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->conversations));
  gint at = self->current_id ? ssq_conversation_list_find (self->conversations, self->current_id) : -1;

  if (n == 0)
    return;
  at = at < 0 ? 0 : (at + step + (gint) n) % (gint) n;
  ssq_tui_select_index (self, at);
}

/* Alt-A: the next conversation with unread messages. */
void
ssq_tui_select_unread (SsqTui *self)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->conversations));
  gint at = self->current_id ? ssq_conversation_list_find (self->conversations, self->current_id) : -1;

  for (guint i = 1; i <= n; i++)
    {
      g_autoptr(SsqConversation) c = g_list_model_get_item (G_LIST_MODEL (self->conversations),
                                                           (guint) (at + (gint) i) % n);

      if (ssq_conversation_get_unread (c) > 0)
        {
          ssq_tui_select (self, ssq_conversation_get_id (c));
          return;
        }
    }
  ssq_tui_set_status (self, FALSE, "%s", _("Nothing unread"));
}

static void
older_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  SsqTui *self = user_data;
  g_autoptr(GError) error = NULL;

  if (SSQ_MESSAGE_LIST (source) == self->messages)
    self->loading_older = FALSE;
  ssq_message_list_load_older_finish (SSQ_MESSAGE_LIST (source), result, &error);
  if (error != NULL)
    ssq_tui_set_status (self, TRUE, _("Cannot load older messages: %s"), error->message);
  ssq_tui_queue_redraw (self);
  g_object_unref (self);
}

/* PgUp at the top of what is loaded: fetch older history. */
void
ssq_tui_load_older (SsqTui *self)
{
  if (self->messages == NULL || self->loading_older || ssq_message_list_get_at_start (self->messages))
    return;
  self->loading_older = TRUE;
  ssq_message_list_load_older_async (self->messages, 100, NULL, older_cb, g_object_ref (self));
}

/* @attrs: (nullable): an attr_t for each of @lines (colours, say). */
void
ssq_tui_show_overlay_attrs (SsqTui     *self,
                            const char *title,
                            GPtrArray  *lines,
                            GArray     *attrs)
{
  g_free (self->overlay_title);
  self->overlay_title = g_strdup (title);
  g_clear_pointer (&self->overlay, g_ptr_array_unref);
  g_clear_pointer (&self->overlay_attrs, g_array_unref);
  self->overlay = g_ptr_array_ref (lines);
  self->overlay_attrs = attrs ? g_array_ref (attrs) : NULL;
  ssq_tui_queue_redraw (self);
}

void
ssq_tui_show_overlay (SsqTui     *self,
                      const char *title,
                      GPtrArray  *lines)
{
  ssq_tui_show_overlay_attrs (self, title, lines, NULL);
}

void
ssq_tui_close_overlay (SsqTui *self)
{
  g_clear_pointer (&self->overlay, g_ptr_array_unref);
  g_clear_pointer (&self->overlay_attrs, g_array_unref);
  g_clear_pointer (&self->overlay_title, g_free);
  ssq_tui_queue_redraw (self);
}

char *
ssq_tui_user_name (SsqTui     *self,
                   const char *user_id)
{
  g_autoptr(SsqUser) user = ssq_cache_get_user (ssq_client_get_cache (self->client), user_id);

  return g_strdup (user ? ssq_user_get_username (user) : "?");
}

void
ssq_tui_quit (SsqTui *self,
              int     exit_code)
{
  self->exit_code = exit_code;
  g_main_loop_quit (self->loop);
}

/* Notifications: the client library says when a message deserves one, by
 * the server's rule (it already leaves out muted conversations); we ring
 * when it is not in view. */
static void
notification_cb (SsqClient  *client,
                 const char *conversation_id,
                 gint64      seq,
                 const char *reason,
                 SsqTui     *self)
{
  g_autoptr(SsqMessage) message = NULL;
  g_autoptr(SsqConversation) conversation = NULL;

  if (!self->notify || (self->focused && g_strcmp0 (conversation_id, self->current_id) == 0))
    return;
  beep ();
#ifdef HAVE_LIBNOTIFY
  if ((g_getenv ("DISPLAY") != NULL || g_getenv ("WAYLAND_DISPLAY") != NULL) && notify_is_initted ())
    {
      NotifyNotification *note;
      g_autofree char *sender = NULL, *summary = NULL, *body = NULL;

      message = ssq_cache_get_message (ssq_client_get_cache (client), conversation_id, seq);
      conversation = ssq_cache_get_conversation (ssq_client_get_cache (client), conversation_id);
      if (message == NULL || conversation == NULL)
        return;
      sender = ssq_tui_user_name (self, ssq_message_get_sender (message));
      summary = ssq_conversation_is_direct (conversation)
                ? g_strdup (sender)
                : g_strdup_printf ("%s — %s", sender, ssq_conversation_get_display_title (conversation));
      /* The body is markup to the notification server: escaped. */
      body = ssq_display_notification_body (ssq_message_get_body (message));
      note = notify_notification_new (summary, body, "supersoniq");
      notify_notification_show (note, NULL);
      g_object_unref (note);
    }
#endif
}

static void
client_changed_cb (SsqTui *self)
{
  ssq_tui_queue_redraw (self);
}

static void
client_error_cb (SsqClient    *client,
                 const GError *error,
                 SsqTui       *self)
{
  ssq_tui_set_status (self, TRUE, "%s", error->message);
}

static void
conversations_changed_cb (GListModel *model,
                          guint       position,
                          guint       removed,
                          guint       added,
                          SsqTui     *self)
{
  /* The current conversation left (removed, or we left it): pick another. */
  if (self->current_id != NULL && ssq_conversation_list_find (self->conversations, self->current_id) < 0)
    {
      g_clear_pointer (&self->current_id, g_free);
      g_clear_object (&self->messages);
      ssq_tui_select_index (self, 0);
    }
  else if (self->current_id == NULL)
    ssq_tui_select_index (self, 0);
  ssq_tui_queue_redraw (self);
}

SsqTui *
ssq_tui_new (SsqClient *client)
{
  SsqTui *self = g_object_new (SSQ_TYPE_TUI, NULL);

  self->client = g_object_ref (client);
  self->conversations = ssq_conversation_list_new (client);
  g_signal_connect (self->conversations, "items-changed", G_CALLBACK (conversations_changed_cb), self);
  g_signal_connect_swapped (client, "notify::state", G_CALLBACK (client_changed_cb), self);
  g_signal_connect_swapped (client, "typing", G_CALLBACK (client_changed_cb), self);
  g_signal_connect_swapped (client, "presence", G_CALLBACK (client_changed_cb), self);
  g_signal_connect_swapped (client, "outbox-changed", G_CALLBACK (client_changed_cb), self);
  g_signal_connect (client, "notification", G_CALLBACK (notification_cb), self);
  g_signal_connect (client, "error", G_CALLBACK (client_error_cb), self);
  ssq_tui_media_attach (self);
  ssq_tui_select_index (self, 0);
  return self;
}

/* Settings. */

/* tui.ini: the terminal client's own settings. */
static char *
settings_path (void)
{
  return g_build_filename (g_get_user_config_dir (), "supersoniq", "tui.ini", NULL);
}

/* A positive number from tui.ini, or @fallback. */
static int
config_int (GKeyFile   *config,
            const char *group,
            const char *key,
            int         fallback,
            int         max)
{
  g_autoptr(GError) error = NULL;
  int value = g_key_file_get_integer (config, group, key, &error);

  return error == NULL && value > 0 ? MIN (value, max) : fallback;
}

/* tui.ini: [notifications] enabled; [images] enabled, mode (auto, symbols,
 * sixel, kitty or none: what the terminal shows, when detection is wrong),
 * max-columns and max-rows (a picture's bounds). */
void
ssq_tui_load_config (SsqTui *self)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *mode = NULL;

  g_clear_pointer (&self->config, g_key_file_unref);
  g_clear_pointer (&self->config_path, g_free);
  self->config = g_key_file_new ();
  self->config_path = settings_path ();
  g_key_file_load_from_file (self->config, self->config_path, G_KEY_FILE_KEEP_COMMENTS, NULL);
  self->notify = g_key_file_get_boolean (self->config, "notifications", "enabled", &error);
  if (error != NULL)
    self->notify = TRUE;
  g_clear_error (&error);
  self->images = g_key_file_get_boolean (self->config, "images", "enabled", &error);
  if (error != NULL)
    self->images = TRUE;
  mode = g_key_file_get_string (self->config, "images", "mode", NULL);
  if (mode == NULL || !ssq_tui_image_mode_from_string (mode, &self->images_mode))
    self->images_mode = ssq_tui_image_detect (NULL);
  self->image_options.mode = self->images_mode;
  self->image_options.max_columns = config_int (self->config, "images", "max-columns",
                                                SSQ_TUI_IMAGE_MAX_COLUMNS, 200);
  self->image_options.max_rows = config_int (self->config, "images", "max-rows", SSQ_TUI_IMAGE_MAX_ROWS, 100);
  self->image_options.console_font = g_strcmp0 (g_getenv ("TERM"), "linux") == 0;
}

/* Returns: whether it was saved; else the status bar says why. */
gboolean
ssq_tui_save_config (SsqTui *self)
{
  g_autofree char *dir = g_path_get_dirname (self->config_path);
  g_autoptr(GError) error = NULL;

  g_key_file_set_boolean (self->config, "notifications", "enabled", self->notify);
  g_key_file_set_boolean (self->config, "images", "enabled", self->images);
  g_mkdir_with_parents (dir, 0700);
  if (!g_key_file_save_to_file (self->config, self->config_path, &error))
    {
      ssq_tui_set_status (self, TRUE, "%s", error->message);
      return FALSE;
    }
  return TRUE;
}

/* Curses. */

static void
read_size (SsqTui *self)
{
  struct winsize ws;

  if (ioctl (STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0)
    {
      resizeterm (ws.ws_row, ws.ws_col);
      self->rows = ws.ws_row;
      self->cols = ws.ws_col;
      /* The cell's size in pixels, for pixel pictures; 0 when the
       * terminal does not tell (the picture code assumes one then). */
      self->image_options.cell_width = ws.ws_xpixel / ws.ws_col;
      self->image_options.cell_height = ws.ws_ypixel / ws.ws_row;
    }
  else
    getmaxyx (stdscr, self->rows, self->cols);
}

static gboolean
winch_cb (gpointer user_data)
{
  SsqTui *self = user_data;

  read_size (self);
  clear ();
  ssq_tui_pictures_invalidate (self->pictures);
  ssq_tui_draw (self);
  return G_SOURCE_CONTINUE;
}

/* Focus reports and bracketed paste: the terminal tells when it gains or
 * loses focus, and marks pasted text so that its newlines do not send. */
#define TERM_MODES_ON  "\033[?1004h\033[?2004h"
#define TERM_MODES_OFF "\033[?1004l\033[?2004l"

static void
curses_start (SsqTui *self)
{
  static const short user_colors[SSQ_TUI_N_USER_COLORS] = {
    COLOR_CYAN, COLOR_GREEN, COLOR_MAGENTA, COLOR_YELLOW, COLOR_BLUE, COLOR_RED
  };

  set_escdelay (25);
  initscr ();
  raw ();
  noecho ();
  nonl ();
  keypad (stdscr, TRUE);
  nodelay (stdscr, TRUE);
  if (has_colors ())
    {
      start_color ();
      use_default_colors ();
      init_pair (SSQ_TUI_PAIR_BAR, COLOR_WHITE, COLOR_BLUE);
      init_pair (SSQ_TUI_PAIR_DIM, COLOR_WHITE, -1);
      init_pair (SSQ_TUI_PAIR_ERROR, COLOR_RED, -1);
      init_pair (SSQ_TUI_PAIR_MENTION, COLOR_BLACK, COLOR_YELLOW);
      init_pair (SSQ_TUI_PAIR_GOOD, COLOR_GREEN, -1);
      /* Bright white where there are 16 colours: the most contrast. */
      init_pair (SSQ_TUI_PAIR_QR, COLORS >= 16 ? 15 : COLOR_WHITE, COLOR_BLACK);
      for (int i = 0; i < SSQ_TUI_N_USER_COLORS; i++)
        init_pair (SSQ_TUI_PAIR_USER0 + i, user_colors[i], -1);
    }
  self->image_options.colors = has_colors () ? COLORS : 2;
  self->pictures = ssq_tui_pictures_new (SSQ_TUI_PAIR_PICTURES);
  fputs (TERM_MODES_ON, stdout);
  fflush (stdout);
  self->curses_on = TRUE;
  read_size (self);
  self->stdin_source = g_unix_fd_add (STDIN_FILENO, G_IO_IN | G_IO_HUP | G_IO_ERR, ssq_tui_stdin_cb, self);
  self->winch_source = g_unix_signal_add (SIGWINCH, winch_cb, self);
  ssq_tui_draw (self);
}

static void
curses_stop (SsqTui *self)
{
  if (!self->curses_on)
    return;
  fputs (TERM_MODES_OFF, stdout);
  fflush (stdout);
  endwin ();
  self->curses_on = FALSE;
}

static gboolean
terminate_cb (gpointer user_data)
{
  ssq_tui_quit (user_data, 0);
  return G_SOURCE_CONTINUE;
}

/**
 * ssq_tui_run:
 * Takes over the terminal until the user quits. Returns the exit code.
 */
int
ssq_tui_run (SsqTui *self)
{
  guint term_source, hup_source;

  ssq_tui_load_config (self);
  curses_start (self);
  term_source = g_unix_signal_add (SIGTERM, terminate_cb, self);
  hup_source = g_unix_signal_add (SIGHUP, terminate_cb, self);
  ssq_client_connect (self->client);
  g_main_loop_run (self->loop);
  g_source_remove (term_source);
  g_source_remove (hup_source);
  curses_stop (self);
  return self->exit_code;
}

/* Start-up: the session, or a log-in at the terminal. */

typedef struct {
  GAsyncResult *result;
} Wait;

static void
wait_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  ((Wait *) user_data)->result = g_object_ref (result);
}

static GAsyncResult *
wait_for (Wait *wait)
{
  while (wait->result == NULL)
    g_main_context_iteration (NULL, TRUE);
  return wait->result;
}

/* The invite link's server, and its fingerprint in groups to compare
 * with what the server printed. */
static void
print_invite (const SsqInviteLink *link,
              const char          *server_url)
{
  g_autofree char *groups = ssq_invite_link_fingerprint_groups (link->fingerprint);

  printf (_("Join %s with an invite\n"), server_url);
  if (groups != NULL)
    {
      g_auto(GStrv) lines = g_strsplit (groups, "\n", -1);

      printf ("%s\n", _("Server fingerprint:"));
      for (guint i = 0; lines[i] != NULL; i++)
        printf ("  %s\n", lines[i]);
    }
  else
    printf ("%s\n", _("The server does not encrypt the connection (no fingerprint in the link)."));
}

/* Asks whether to log in or register, the name and the password, until the
 * server accepts them (three tries). With @invite it registers with the
 * invite, and does not ask which. */
static gboolean
log_in_at_terminal (SsqClient           *client,
                    const char          *username,
                    const SsqInviteLink *invite,
                    GError             **error)
{
  for (int attempt = 0; attempt < 3; attempt++)
    {
      g_autofree char *choice = NULL, *name = NULL, *password = NULL, *again = NULL;
      g_autoptr(GError) local = NULL;
      Wait wait = { NULL };
      gboolean create, ok;

      if (invite != NULL)
        print_invite (invite, ssq_client_get_server_url (client));
      else
        {
          printf (_("SupersoniQ at %s\n"), ssq_client_get_server_url (client));
          choice = ssq_prompt_line (_("Log in or register? [L/r] "), error);
          if (choice == NULL)
            return FALSE;
        }
      create = invite != NULL || g_ascii_tolower (choice[0]) == 'r';
      name = username ? g_strdup (username) : ssq_prompt_line (_("Username: "), error);
      if (name == NULL || (password = ssq_prompt_password (_("Password: "), error)) == NULL)
        return FALSE;
      if (create)
        {
          again = ssq_prompt_password (_("Password again: "), error);
          if (again == NULL)
            return FALSE;
          if (strcmp (again, password) != 0)
            {
              printf ("%s\n", _("The passwords differ; try again."));
              continue;
            }
          ssq_client_register_with_invite_async (client, name, password, NULL,
                                                 invite ? invite->token : NULL, NULL, wait_cb, &wait);
          ok = ssq_client_register_finish (client, wait_for (&wait), &local);
        }
      else
        {
          ssq_client_login_async (client, name, password, NULL, wait_cb, &wait);
          ok = ssq_client_login_finish (client, wait_for (&wait), &local);
        }
      memset (password, 0, strlen (password));
      g_clear_object (&wait.result);
      if (ok)
        return TRUE;
      printf (_("Refused: %s\n"), local->message);
      /* An invite that is no good stays no good, and a key that is not
       * trusted stays so: asking again is no use. */
      if (g_error_matches (local, SSQ_ERROR, SSQ_ERROR_NETWORK) ||
          g_error_matches (local, SSQ_ERROR, SSQ_ERROR_UNTRUSTED) ||
          g_error_matches (local, SSQ_ERROR, SSQ_ERROR_KEY_CHANGED) ||
          g_error_matches (local, SSQ_ERROR, SSQ_ERROR_INVITE_INVALID) ||
          g_error_matches (local, SSQ_ERROR, SSQ_ERROR_INVITE_EXPIRED) ||
          g_error_matches (local, SSQ_ERROR, SSQ_ERROR_INVITE_USED_UP))
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
    }
  g_set_error (error, SSQ_ERROR, SSQ_ERROR_UNAUTHORIZED, _("Not logged in"));
  return FALSE;
}

static int
logout_now (SsqClient *client)
{
  g_autoptr(GError) error = NULL;
  Wait wait = { NULL };

  ssq_client_logout_async (client, NULL, wait_cb, &wait);
  if (!ssq_client_logout_finish (client, wait_for (&wait), &error))
    g_printerr (_("The server was not told (%s); the session is forgotten here.\n"), error->message);
  g_clear_object (&wait.result);
  ssq_credentials_remove (ssq_client_get_server_url (client), ssq_client_get_username (client), NULL);
  return 0;
}

/* --help's text after the options: the keys, and where settings and
 * sessions live (the paths as this user has them). */
static char *
help_description (void)
{
  g_autofree char *settings = settings_path ();
  g_autofree char *sessions = ssq_credentials_path ();

  return g_strdup_printf (_("Keys:\n"
                            "  Enter                     send; a line starting with / is a command (/help lists them)\n"
                            "  Alt-1..9, Ctrl-N/P        switch conversation\n"
                            "  Alt-A                     next conversation with unread messages\n"
                            "  PgUp, PgDn                scroll; older history is fetched at the top\n"
                            "  Up, Down                  input history\n"
                            "  Tab                       complete commands, usernames, titles and file names\n"
                            "  Ctrl-W/U/K/A/E, Alt-B/F   edit the line\n"
                            "  Esc                       close help, search or user lists; cancel an upload\n"
                            "  Ctrl-L                    redraw\n"
                            "  Ctrl-C                    quit\n"
                            "\n"
                            "Settings: %s\n"
                            "  [notifications] enabled=true|false\n"
                            "  [images] enabled=true|false, mode=symbols|sixel|kitty|none, max-columns, max-rows\n"
                            "Sessions: %s\n"),
                          settings, sessions);
}

/* The server's key, settled before the log-in form or the chat
 * (ssq-trust-prompt.h): on the terminal, or by --trust. FALSE with the
 * reason printed, the alarming one framed so that it is not missed. */
static gboolean
settle_trust (SsqClient  *client,
              const char *trust,
              gboolean    insecure)
{
  g_autoptr(GError) error = NULL;

  g_object_set (client, "insecure", insecure, NULL);
  if (ssq_trust_prompt_settle (client, trust, 15, &error))
    return TRUE;
  if (g_error_matches (error, SSQ_ERROR, SSQ_ERROR_KEY_CHANGED))
    g_printerr ("\n*** %s ***\n%s\n*** %s ***\n\n", _("WARNING: THE SERVER'S KEY HAS CHANGED"),
                error->message, _("Nothing was sent to the server"));
  else
    g_printerr ("supersoniq-tui: %s\n", error->message);
  return FALSE;
}

int
ssq_tui_main (int    argc,
              char **argv)
{
  g_autofree char *server = NULL, *user = NULL, *data_dir = NULL, *invite_text = NULL;
  g_autofree char *trust = NULL;
  g_autoptr(SsqInviteLink) invite = NULL;
  g_autofree char *description = NULL;
  gboolean logout = FALSE, version = FALSE, insecure = FALSE;
  GOptionEntry entries[] = {
    { "server", 's', 0, G_OPTION_ARG_STRING, &server, N_("The server, e.g. https://chat.lan:8443"), N_("URL") },
    { "trust", 0, 0, G_OPTION_ARG_STRING, &trust, N_("Trust the server's key if it has this fingerprint (as the server printed it), without asking"), N_("FINGERPRINT") },
    { "insecure", 0, 0, G_OPTION_ARG_NONE, &insecure, N_("Allow plain http:// to a host that is not this machine (unencrypted)"), NULL },
    { "user", 'u', 0, G_OPTION_ARG_STRING, &user, N_("Which account"), N_("NAME") },
    { "invite", 0, 0, G_OPTION_ARG_STRING, &invite_text, N_("Join a server with an invite link: a new account"), N_("LINK") },
    { "logout", 0, 0, G_OPTION_ARG_NONE, &logout, N_("Log out and forget the session"), NULL },
    { "data-dir", 0, 0, G_OPTION_ARG_FILENAME, &data_dir, N_("Where the local cache lives"), N_("DIR") },
    { "version", 'V', 0, G_OPTION_ARG_NONE, &version, N_("Print the version and exit"), NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(SsqCredentials) saved = NULL;
  g_autoptr(SsqClient) client = NULL;
  g_autoptr(SsqTui) tui = NULL;
  SsqCredentials fresh = { 0 };
  int code;

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  g_option_context_set_summary (context, _("Chat on a SupersoniQ server in the terminal."));
  description = help_description ();
  g_option_context_set_description (context, description);
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("supersoniq-tui: %s\n", error->message);
      return 2;
    }
  if (version)
    {
      g_print ("supersoniq-tui %s\n", SSQ_VERSION);
      return 0;
    }
  if (invite_text != NULL)
    {
      if (server != NULL || logout)
        {
          g_printerr ("%s\n", _("supersoniq-tui: --invite names the server itself; it goes without --server and --logout"));
          return 2;
        }
      if ((invite = ssq_invite_link_parse (invite_text, &error)) == NULL)
        {
          g_printerr ("supersoniq-tui: %s\n", error->message);
          return 2;
        }
      server = ssq_invite_link_server_url (invite);
    }
  if (server != NULL)
    while (g_str_has_suffix (server, "/"))
      server[strlen (server) - 1] = '\0';

  /* An invite makes a new account: a saved session is not it. */
  saved = invite ? NULL : ssq_credentials_load (server, user, NULL);
  if (saved == NULL && server == NULL && !logout)
    {
      /* The first run: perhaps a server on the LAN, with its key, as
       * --trust gives it. */
      g_autofree char *fingerprint = NULL;

      server = ssq_tui_choose_discovered (&fingerprint);
      if (fingerprint != NULL && trust == NULL)
        trust = g_steal_pointer (&fingerprint);
    }
  if (saved != NULL)
    {
      client = ssq_client_new (saved->server_url, data_dir);
      if (!ssq_client_set_session (client, saved->username, saved->user_id, saved->token, &error))
        {
          g_printerr ("supersoniq-tui: %s\n", error->message);
          return 1;
        }
      if (logout)
        return logout_now (client);
      if (!settle_trust (client, trust, insecure))
        return 7;
    }
  else if (logout)
    return 0;
  else if (server == NULL)
    {
      g_printerr ("%s\n", _("supersoniq-tui: the first time, name the server: --server https://HOST:PORT"));
      return 2;
    }
  else
    {
      client = ssq_client_new (server, data_dir);
      /* The link names the key its server must have: as --trust does,
       * pinned before anything is sent, and any other key refused. */
      if (invite != NULL && invite->fingerprint != NULL && trust == NULL)
        trust = g_strdup (invite->fingerprint);
      if (!settle_trust (client, trust, insecure))
        return 7;
      if (!log_in_at_terminal (client, user, invite, &error))
        {
          g_printerr ("supersoniq-tui: %s\n", error->message);
          return g_error_matches (error, SSQ_ERROR, SSQ_ERROR_NETWORK) ? 4 : 3;
        }
      fresh.server_url = (char *) ssq_client_get_server_url (client);
      fresh.username = (char *) ssq_client_get_username (client);
      fresh.user_id = (char *) ssq_client_get_user_id (client);
      fresh.token = (char *) ssq_client_get_token (client);
      if (!ssq_credentials_save (&fresh, &error))
        g_printerr ("supersoniq-tui: %s\n", error->message);
    }

#ifdef HAVE_LIBNOTIFY
  if (g_getenv ("DISPLAY") != NULL || g_getenv ("WAYLAND_DISPLAY") != NULL)
    notify_init ("SupersoniQ");
#endif
  tui = ssq_tui_new (client);
  code = ssq_tui_run (tui);
  if (tui->logout)
    logout_now (client);
#ifdef HAVE_LIBNOTIFY
  if (notify_is_initted ())
    notify_uninit ();
#endif
  return code;
}
