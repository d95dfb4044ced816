/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-tui-draw.c: drawing the screen from the models: title bar,
 * conversation list, messages (wrapped, with date separators, replies,
 * marks), status bar and input line. Everything is drawn from state on
 * each redraw; curses sends only what changed. */
#include "ssq-tui-private.h"
#include "ssq-message-private.h"
#include "ssq-display.h"
#include "ssq-tui-width.h"

#include <stdio.h>
#include <string.h>

/* The list shows from this width on; narrower terminals get the messages
 * alone. */
#define LIST_MIN_COLS  60
#define LIST_WIDTH     22

/* A piece of a line: text in one attribute, or one row of a picture. */
typedef struct {
  char        *text;
  attr_t       attr;
  SsqTuiImage *image;     /* not owned: the pictures outlive the frame */
  int          image_row;
} Seg;

static void
seg_free (gpointer data)
{
  Seg *seg = data;

  g_free (seg->text);
  g_free (seg);
}

static GPtrArray *
line_new (void)
{
  return g_ptr_array_new_with_free_func (seg_free);
}

static void
line_add (GPtrArray  *line,
          const char *text,
          attr_t      attr)
{
  Seg *seg = g_new0 (Seg, 1);

  seg->text = g_strdup (text);
  seg->attr = attr;
  g_ptr_array_add (line, seg);
}

/* Draws sanitized @text at (@y, @x) in at most @width columns. Returns the
 * columns used. */
static int
put (int         y,
     int         x,
     int         width,
     const char *text,
     attr_t      attr)
{
  g_autofree char *clean = ssq_display_sanitize (text);
  int used = 0;
  const char *end;

  if (width <= 0)
    return 0;
  g_strdelimit (clean, "\n", ' ');
  end = ssq_tui_fit (clean, width, &used);
  attron (attr);
  mvaddnstr (y, x, clean, (int) (end - clean));
  attroff (attr);
  return used;
}

/* The rows of a picture (its symbol form, or room for its pixels), after
 * @indent columns. */
static void
add_picture_lines (GPtrArray   *lines,
                   SsqTuiImage *image,
                   int          indent)
{
  g_autofree char *pad = g_strnfill (indent, ' ');

  for (int row = 0; row < ssq_tui_image_get_rows (image); row++)
    {
      GPtrArray *line = line_new ();
      Seg *seg = g_new0 (Seg, 1);

      line_add (line, pad, 0);
      seg->image = image;
      seg->image_row = row;
      g_ptr_array_add (line, seg);
      g_ptr_array_add (lines, line);
    }
}

/* A picture's rows on screen, gathered while its lines are drawn. */
typedef struct {
  SsqTuiImage *image;
  int          y, x, width;
  int          first_row, n_rows;
} Shown;

static void
put_line (int        y,
          int        x,
          int        width,
          GPtrArray *line,
          GArray    *shown)
{
  for (guint i = 0; i < line->len && width > 0; i++)
    {
      Seg *seg = line->pdata[i];
      int used;

      if (seg->image != NULL)
        {
          Shown *last = shown->len ? &g_array_index (shown, Shown, shown->len - 1) : NULL;

          if (last != NULL && last->image == seg->image && last->y + last->n_rows == y)
            last->n_rows++;
          else
            {
              Shown add = { seg->image, y, x, width, seg->image_row, 1 };

              g_array_append_val (shown, add);
            }
          return;
        }
      used = put (y, x, width, seg->text, seg->attr);
      x += used;
      width -= used;
    }
}

static void
fill_bar (int y)
{
  attron (COLOR_PAIR (SSQ_TUI_PAIR_BAR));
  mvhline (y, 0, ' ', COLS);
  attroff (COLOR_PAIR (SSQ_TUI_PAIR_BAR));
}

/* One colour per user, the same everywhere and every time. */
int
ssq_tui_user_pair (const char *username)
{
  return SSQ_TUI_PAIR_USER0 + (int) (g_str_hash (username ? username : "") % SSQ_TUI_N_USER_COLORS);
}

static const char *
presence_mark (const char *presence)
{
  if (g_strcmp0 (presence, "online") == 0)
    return "●";
  if (g_strcmp0 (presence, "away") == 0)
    return "◐";
  if (g_strcmp0 (presence, "dnd") == 0)
    return "⊘";
  return "○";
}

/* The name a row shows for a message's sender, from the snapshot. */
static char *
sender_name (SsqMessage *message)
{
  SsqUser *user = ssq_message_get_sender_user (message);

  return g_strdup (user ? ssq_user_get_username (user) : "?");
}

/* Title bar. */

static void
draw_title (SsqTui *self)
{
  g_autoptr(SsqConversation) conversation = ssq_tui_get_current (self);
  g_autoptr(GString) text = g_string_new (" ");

  fill_bar (0);
  if (conversation == NULL)
    g_string_append (text, _("SupersoniQ — no conversation yet: /dm USER or /group TITLE USER..."));
  else
    {
      GListModel *members = ssq_conversation_get_members (conversation);
      const char *presence = ssq_conversation_get_peer_presence (conversation);

      g_string_append (text, ssq_conversation_get_display_title (conversation));
      if (presence != NULL)
        g_string_append_printf (text, " (%s)", presence);
      else
        {
          g_string_append (text, " — ");
          for (guint i = 0; i < g_list_model_get_n_items (members); i++)
            {
              g_autoptr(SsqMember) member = g_list_model_get_item (members, i);

              g_string_append_printf (text, "%s%s%s", i ? ", " : "", ssq_member_get_username (member),
                                      g_strcmp0 (ssq_member_get_role (member), "member") == 0 ? ""
                                      : g_strcmp0 (ssq_member_get_role (member), "owner") == 0 ? "*" : "+");
            }
        }
      if (ssq_conversation_get_muted (conversation))
        g_string_append (text, _(" [muted]"));
    }
  put (0, 0, self->cols, text->str, COLOR_PAIR (SSQ_TUI_PAIR_BAR) | A_BOLD);
}

/* Conversation list. */

static void
draw_list (SsqTui *self,
           int     top,
           int     height,
           int     width)
{
  GListModel *list = G_LIST_MODEL (self->conversations);
  guint n = g_list_model_get_n_items (list);

  for (guint i = 0; i < n && (int) i < height; i++)
    {
      g_autoptr(SsqConversation) c = g_list_model_get_item (list, i);
      const char *presence = ssq_conversation_get_peer_presence (c);
      gint64 unread = ssq_conversation_get_unread (c);
      gboolean current = g_strcmp0 (ssq_conversation_get_id (c), self->current_id) == 0;
      attr_t attr = (current ? A_REVERSE : 0) | (unread > 0 ? A_BOLD : 0);
      g_autofree char *count = unread > 0 ? g_strdup_printf (" %" G_GINT64_FORMAT, unread) : g_strdup ("");
      g_autofree char *head = g_strdup_printf ("%c%s ", i < 9 ? (char) ('1' + i) : ' ',
                                               presence ? presence_mark (presence) : "#");
      int x = 0, count_w = ssq_tui_text_width (count, -1);

      if (current)
        {
          attron (A_REVERSE);
          mvhline (top + (int) i, 0, ' ', width);
          attroff (A_REVERSE);
        }
      x += put (top + (int) i, x, width, head, attr);
      x += put (top + (int) i, x, width - x - count_w, ssq_conversation_get_display_title (c), attr);
      if (ssq_conversation_get_muted (c))
        x += put (top + (int) i, x, width - x - count_w, "~", attr | A_DIM);
      if (count_w > 0)
        put (top + (int) i, width - count_w, count_w, count, attr | COLOR_PAIR (SSQ_TUI_PAIR_GOOD));
    }
  mvvline (top, width, ACS_VLINE, height);
}

/* Messages. */

static char *
day_of (gint64 ms)
{
  g_autoptr(GDateTime) time = g_date_time_new_from_unix_local (ms / 1000);

  return time ? g_date_time_format (time, "%A %e %B %Y") : g_strdup ("?");
}

static char *
clock_of (gint64 ms)
{
  g_autoptr(GDateTime) time = g_date_time_new_from_unix_local (ms / 1000);

  return time ? g_date_time_format (time, "%H:%M") : g_strdup ("--:--");
}

/* Splits one wrapped line into segments, highlighting @mention (my name
 * with an @, any case). */
static void
add_body (GPtrArray  *line,
          const char *text,
          const char *mention,
          attr_t      attr)
{
  g_autofree char *lower = g_utf8_strdown (text, -1);
  const char *p = text;

  /* Lower-casing ASCII names keeps byte offsets: usernames are ASCII. */
  while (mention != NULL && strlen (lower) == strlen (text))
    {
      const char *hit = strstr (lower + (p - text), mention);

      if (hit == NULL)
        break;
      {
        gsize at = hit - lower;
        g_autofree char *before = g_strndup (p, text + at - p);
        g_autofree char *name = g_strndup (text + at, strlen (mention));

        line_add (line, before, attr);
        line_add (line, name, COLOR_PAIR (SSQ_TUI_PAIR_MENTION) | A_BOLD);
        p = text + at + strlen (mention);
      }
    }
  line_add (line, p, attr);
}

static const char *
status_suffix (SsqMessage *message,
               attr_t     *attr)
{
  switch (ssq_message_get_status (message))
    {
    case SSQ_MESSAGE_PENDING:
      *attr = A_DIM;
      return _(" (sending)");
    case SSQ_MESSAGE_FAILED:
      *attr = COLOR_PAIR (SSQ_TUI_PAIR_ERROR);
      return _(" (not sent: /retry or /discard)");
    case SSQ_MESSAGE_DELIVERED:
      *attr = A_DIM;
      return " ✓";
    case SSQ_MESSAGE_READ:
      *attr = COLOR_PAIR (SSQ_TUI_PAIR_GOOD) | A_BOLD;
      return " ✓✓";
    case SSQ_MESSAGE_SENT:
    default:
      *attr = A_DIM;
      return "";
    }
}

static void
add_message_lines (SsqTui     *self,
                   SsqMessage *message,
                   int         width,
                   GPtrArray  *lines)
{
  g_autofree char *sender = sender_name (message);
  g_autofree char *clock = clock_of (ssq_message_get_created_at (message));
  g_autofree char *seq = ssq_message_get_seq (message) > 0
                         ? g_strdup_printf ("#%" G_GINT64_FORMAT " ", ssq_message_get_seq (message))
                         : g_strdup ("… ");
  g_autofree char *mention = g_strconcat ("@", ssq_client_get_username (self->client), NULL);
  g_autofree char *body = ssq_display_sanitize (ssq_message_get_deleted (message)
                                            ? _("(message deleted)") : ssq_message_get_body (message));
  g_autoptr(GPtrArray) wrapped = NULL;
  gboolean own = g_strcmp0 (ssq_message_get_sender (message), ssq_client_get_user_id (self->client)) == 0;
  attr_t body_attr = ssq_message_get_deleted (message) ? A_DIM | A_ITALIC : 0;
  attr_t mark_attr = 0;
  const char *mark = own ? status_suffix (message, &mark_attr) : "";
  guint n_media = ssq_message_get_deleted (message) ? 0 : ssq_message_get_n_media (message);
  guint n_text;
  int indent;

  if (ssq_message_get_reply_to (message) > 0)
    {
      SsqMessage *quoted = ssq_message_get_quoted (message);
      g_autofree char *quote = NULL;
      GPtrArray *line = line_new ();

      if (quoted != NULL)
        {
          g_autofree char *who = sender_name (quoted);

          quote = g_strdup_printf ("      ↳ #%" G_GINT64_FORMAT " %s: %s", ssq_message_get_reply_to (message),
                                   who, ssq_message_get_deleted (quoted) ? _("(message deleted)")
                                                                         : ssq_message_get_body (quoted));
        }
      else
        quote = g_strdup_printf ("      ↳ #%" G_GINT64_FORMAT, ssq_message_get_reply_to (message));
      line_add (line, quote, A_DIM);
      g_ptr_array_add (lines, line);
    }

  indent = ssq_tui_text_width (clock, -1) + 1 + ssq_tui_text_width (seq, -1) +
           ssq_tui_text_width (sender, -1) + 2;
  if (indent > width / 2)
    indent = 2;
  wrapped = ssq_tui_wrap (body, MAX (width - indent, 8));
  n_text = wrapped->len;
  if (n_media > 0)
    {
      /* Attachments after the text, a line each; a message of files alone
       * has its first beside the sender. */
      if (body[0] == '\0')
        {
          g_ptr_array_set_size (wrapped, 0);
          n_text = 0;
        }
      for (guint i = 0; i < n_media; i++)
        g_ptr_array_add (wrapped, ssq_display_media (ssq_message_get_media (message, i)));
    }
  for (guint i = 0; i < wrapped->len; i++)
    {
      GPtrArray *line = line_new ();

      if (i == 0)
        {
          g_autofree char *head = g_strdup_printf ("%s ", clock);

          line_add (line, head, A_DIM);
          line_add (line, seq, A_DIM);
          line_add (line, sender, COLOR_PAIR (ssq_tui_user_pair (sender)) | A_BOLD);
          line_add (line, ": ", 0);
          if (indent == 2)
            {
              g_ptr_array_add (lines, line);
              line = line_new ();
              line_add (line, "  ", 0);
            }
        }
      else
        {
          g_autofree char *pad = g_strnfill (indent, ' ');

          line_add (line, pad, 0);
        }
      if (i < n_text)
        add_body (line, wrapped->pdata[i], own ? NULL : mention, body_attr);
      else
        line_add (line, wrapped->pdata[i], COLOR_PAIR (SSQ_TUI_PAIR_GOOD));
      g_ptr_array_add (lines, line);
    }

  /* The marks go after the text, or on a line of their own when the last
   * line is full. */
  {
    const char *edited = ssq_message_get_edited_at (message) > 0 && !ssq_message_get_deleted (message)
                         ? _(" (edited)") : "";
    int used = ssq_tui_text_width (wrapped->pdata[wrapped->len - 1], -1);
    int need = ssq_tui_text_width (edited, -1) + ssq_tui_text_width (mark, -1);
    GPtrArray *line = lines->pdata[lines->len - 1];

    if (need > 0 && indent + used + need > width)
      {
        g_autofree char *pad = g_strnfill (indent, ' ');

        line = line_new ();
        line_add (line, pad, 0);
        g_ptr_array_add (lines, line);
      }
    if (need > 0)
      {
        line_add (line, edited, A_DIM);
        line_add (line, mark, mark_attr);
      }
  }

  /* Pictures below, from the thumbnails (fetched on first sight). */
  for (guint i = 0; self->images && self->images_mode != SSQ_TUI_IMAGE_NONE && i < n_media; i++)
    {
      SsqTuiImage *picture = ssq_tui_media_picture (self, ssq_message_get_media (message, i));

      if (picture != NULL)
        add_picture_lines (lines, picture, indent);
    }
}

static GPtrArray *
build_lines (SsqTui *self,
             int     width)
{
  GPtrArray *lines = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);
  g_autofree char *last_day = NULL;
  GListModel *model = G_LIST_MODEL (self->messages);
  guint n = g_list_model_get_n_items (model);

  if (!ssq_message_list_get_at_start (self->messages))
    {
      GPtrArray *line = line_new ();

      line_add (line, self->loading_older ? _("  … loading older messages")
                                          : _("  … PgUp for older messages"), A_DIM);
      g_ptr_array_add (lines, line);
    }
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(SsqMessage) message = g_list_model_get_item (model, i);
      g_autofree char *day = day_of (ssq_message_get_created_at (message));

      if (g_strcmp0 (day, last_day) != 0)
        {
          GPtrArray *line = line_new ();
          g_autofree char *label = g_strdup_printf ("── %s ──", g_strstrip (day));
          int pad = MAX (0, (width - ssq_tui_text_width (label, -1)) / 2);
          g_autofree char *space = g_strnfill (pad, ' ');

          line_add (line, space, 0);
          line_add (line, label, A_DIM);
          g_ptr_array_add (lines, line);
          g_free (last_day);
          last_day = g_steal_pointer (&day);
        }
      add_message_lines (self, message, width, lines);
    }
  return lines;
}

static void
draw_messages (SsqTui *self,
               int     top,
               int     height,
               int     x,
               int     width)
{
  g_autoptr(GPtrArray) lines = NULL;
  g_autoptr(GArray) shown = g_array_new (FALSE, TRUE, sizeof (Shown));
  int first;

  if (self->messages == NULL)
    return;
  lines = build_lines (self, width);
  self->max_scroll = MAX (0, (int) lines->len - height);
  self->scroll = CLAMP (self->scroll, 0, self->max_scroll);
  first = MAX (0, (int) lines->len - height - self->scroll);
  for (int row = 0; row < height && first + row < (int) lines->len; row++)
    put_line (top + row, x, width, lines->pdata[first + row], shown);
  for (guint i = 0; i < shown->len; i++)
    {
      Shown *s = &g_array_index (shown, Shown, i);

      ssq_tui_pictures_show (self->pictures, stdscr, s->image, s->y, s->x, s->width, s->first_row, s->n_rows);
    }
  if (self->scroll > 0)
    put (top + height - 1, x + width - 12, 12, _(" -- more -- "), A_REVERSE);
}

static void
draw_overlay (SsqTui *self,
              int     top,
              int     height,
              int     x,
              int     width)
{
  put (top, x, width, self->overlay_title, A_BOLD);
  for (guint i = 0; i < self->overlay->len && (int) i + 1 < height; i++)
    put (top + 1 + (int) i, x, width, self->overlay->pdata[i],
         self->overlay_attrs && i < self->overlay_attrs->len ? g_array_index (self->overlay_attrs, attr_t, i) : 0);
}

/* Status bar: connection, account, outbox, who is typing, and notes. */
static void
draw_status (SsqTui *self)
{
  g_autoptr(GString) text = g_string_new (" ");
  guint pending = ssq_cache_outbox_count (ssq_client_get_cache (self->client));
  int y = self->rows - 2;
  static const char *const states[] = { N_("offline"), N_("connecting"), N_("online"), N_("reconnecting") };

  fill_bar (y);
  g_string_append_printf (text, "[%s] %s", _(states[ssq_client_get_state (self->client)]),
                          ssq_client_get_username (self->client));
  if (g_strcmp0 (ssq_client_get_presence (self->client), "online") != 0)
    g_string_append_printf (text, " (%s)", ssq_client_get_presence (self->client));
  if (pending > 0)
    g_string_append_printf (text, g_dngettext (GETTEXT_PACKAGE, " | %u message waiting to be sent",
                                               " | %u messages waiting to be sent", pending), pending);
  if (self->current_id != NULL)
    {
      g_auto(GStrv) typing = ssq_client_get_typing (self->client, self->current_id);

      if (typing[0] != NULL)
        {
          g_autofree char *name = ssq_tui_user_name (self, typing[0]);

          if (typing[1] == NULL)
            g_string_append_printf (text, _(" | %s is typing…"), name);
          else
            g_string_append_printf (text, _(" | %s and others are typing…"), name);
        }
    }
  put (y, 0, self->cols, text->str, COLOR_PAIR (SSQ_TUI_PAIR_BAR));
  if (self->progress_label != NULL)
    {
      /* A transfer takes the place of the notes while it lasts. */
      int width = ssq_tui_text_width (text->str, -1) + 3;
      g_autofree char *progress = ssq_tui_progress_line (self, self->cols - width);

      put (y, width, self->cols - width, progress, COLOR_PAIR (SSQ_TUI_PAIR_BAR) | A_BOLD);
    }
  else if (self->status != NULL)
    {
      int width = ssq_tui_text_width (text->str, -1) + 3;

      put (y, width, self->cols - width, self->status,
           COLOR_PAIR (SSQ_TUI_PAIR_BAR) | (self->status_is_error ? A_BOLD : 0));
    }
}

/* The input line, scrolled sideways to keep the cursor in view. */
static void
draw_input (SsqTui *self)
{
  const char *text = ssq_tui_editor_get_text (self->editor);
  gsize cursor = ssq_tui_editor_get_cursor (self->editor);
  int y = self->rows - 1;
  const char *prompt = "> ";
  int avail = self->cols - 2 - 1;
  int before = ssq_tui_text_width (text, (gssize) cursor);
  const char *start = text;

  while (before > avail && *start != '\0')
    {
      before -= ssq_tui_char_width (g_utf8_get_char (start));
      start = g_utf8_next_char (start);
    }
  put (y, 0, 2, prompt, A_BOLD);
  put (y, 2, avail, start, 0);
  move (y, 2 + before);
}

/* What is on screen and at the bottom, in a focused terminal, is read. */
static void
mark_seen (SsqTui *self)
{
  g_autoptr(SsqConversation) conversation = NULL;

  if (!self->focused || self->scroll > 0 || self->overlay != NULL || self->current_id == NULL)
    return;
  conversation = ssq_tui_get_current (self);
  if (conversation != NULL && ssq_conversation_get_read_seq (conversation) < ssq_conversation_get_last_seq (conversation))
    ssq_client_mark_read (self->client, self->current_id, ssq_conversation_get_last_seq (conversation));
}

void
ssq_tui_draw (SsqTui *self)
{
  int list_w = self->cols >= LIST_MIN_COLS ? LIST_WIDTH : 0;
  int top = 1, height = self->rows - 3;
  int x = list_w > 0 ? list_w + 2 : 0;
  int width = self->cols - x;

  g_autofree char *pixels = NULL;

  if (!self->curses_on)
    return;
  erase ();
  ssq_tui_pictures_begin_frame (self->pictures);
  if (self->rows >= 4)
    {
      draw_title (self);
      if (list_w > 0)
        draw_list (self, top, height, list_w);
      if (self->overlay != NULL)
        draw_overlay (self, top, height, x, width);
      else
        draw_messages (self, top, height, x, width);
      draw_status (self);
    }
  draw_input (self);
  ssq_tui_pictures_before_refresh (self->pictures);
  refresh ();
  /* Pixel pictures go over what curses drew, on the same stdout (curses
   * has flushed its own buffer by now). */
  pixels = ssq_tui_pictures_after_refresh (self->pictures);
  if (pixels != NULL)
    {
      fputs (pixels, stdout);
      fflush (stdout);
    }
  mark_seen (self);
}
