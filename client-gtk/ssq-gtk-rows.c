/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-gtk-rows.c: conversation and message rows, built once by the list
 * factories and bound to a new snapshot whenever the model replaces one. */
#include "ssq-config.h"
#include "ssq-gtk-rows.h"

#include <glib/gi18n.h>
#include <string.h>

#include "ssq-gtk-message-media.h"

/* ---- Conversation row -------------------------------------------------- */

struct _SsqGtkConversationRow
{
  GtkWidget  parent_instance;
  GtkWidget *box;
  GtkWidget *avatar;
  GtkWidget *title;
  GtkWidget *preview;
  GtkWidget *time;
  GtkWidget *unread;
  GtkWidget *presence;
  GtkWidget *muted;
};

G_DEFINE_FINAL_TYPE (SsqGtkConversationRow, ssq_gtk_conversation_row, GTK_TYPE_WIDGET)

static void
conversation_row_dispose (GObject *object)
{
  SsqGtkConversationRow *self = SSQ_GTK_CONVERSATION_ROW (object);

  g_clear_pointer (&self->box, gtk_widget_unparent);
  G_OBJECT_CLASS (ssq_gtk_conversation_row_parent_class)->dispose (object);
}

static void
ssq_gtk_conversation_row_class_init (SsqGtkConversationRowClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = conversation_row_dispose;
  gtk_widget_class_set_layout_manager_type (GTK_WIDGET_CLASS (klass), GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_accessible_role (GTK_WIDGET_CLASS (klass), GTK_ACCESSIBLE_ROLE_GROUP);
}

static GtkWidget *
label (const char *css_class,
       gboolean    expand)
{
  GtkWidget *l = gtk_label_new (NULL);

  gtk_label_set_xalign (GTK_LABEL (l), 0);
  gtk_label_set_ellipsize (GTK_LABEL (l), PANGO_ELLIPSIZE_END);
  gtk_widget_set_hexpand (l, expand);
  if (css_class != NULL)
    gtk_widget_add_css_class (l, css_class);
  return l;
}

static void
ssq_gtk_conversation_row_init (SsqGtkConversationRow *self)
{
  GtkWidget *text = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  GtkWidget *top = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *bottom = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);

  self->box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 10);
  gtk_widget_set_margin_top (self->box, 6);
  gtk_widget_set_margin_bottom (self->box, 6);
  self->avatar = adw_avatar_new (36, NULL, TRUE);
  self->title = label ("heading", TRUE);
  self->time = label ("dim-label", FALSE);
  gtk_widget_add_css_class (self->time, "caption");
  self->preview = label ("dim-label", TRUE);
  self->presence = gtk_label_new ("●");
  gtk_widget_add_css_class (self->presence, "presence");
  self->muted = gtk_image_new_from_icon_name ("audio-volume-muted-symbolic");
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->muted), GTK_ACCESSIBLE_PROPERTY_LABEL, _("Muted"), -1);
  self->unread = gtk_label_new (NULL);
  gtk_widget_add_css_class (self->unread, "unread-badge");
  gtk_widget_set_valign (self->unread, GTK_ALIGN_CENTER);

  gtk_box_append (GTK_BOX (top), self->presence);
  gtk_box_append (GTK_BOX (top), self->title);
  gtk_box_append (GTK_BOX (top), self->muted);
  gtk_box_append (GTK_BOX (top), self->time);
  gtk_box_append (GTK_BOX (bottom), self->preview);
  gtk_box_append (GTK_BOX (bottom), self->unread);
  gtk_box_append (GTK_BOX (text), top);
  gtk_box_append (GTK_BOX (text), bottom);
  gtk_widget_set_hexpand (text, TRUE);
  gtk_box_append (GTK_BOX (self->box), self->avatar);
  gtk_box_append (GTK_BOX (self->box), text);
  gtk_widget_set_parent (self->box, GTK_WIDGET (self));
}

GtkWidget *
ssq_gtk_conversation_row_new (void)
{
  return g_object_new (SSQ_TYPE_GTK_CONVERSATION_ROW, NULL);
}

static char *
short_time (gint64 ms)
{
  g_autoptr(GDateTime) then = g_date_time_new_from_unix_local (ms / 1000);
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();

  if (then == NULL)
    return g_strdup ("");
  if (g_date_time_get_year (then) == g_date_time_get_year (now) &&
      g_date_time_get_day_of_year (then) == g_date_time_get_day_of_year (now))
    return g_date_time_format (then, "%H:%M");
  return g_date_time_format (then, "%e %b");
}

/* A presence value as people read it. */
static const char *
presence_name (const char *presence)
{
  if (g_strcmp0 (presence, "online") == 0)
    return _("online");
  if (g_strcmp0 (presence, "away") == 0)
    return _("away");
  if (g_strcmp0 (presence, "busy") == 0)
    return _("busy");
  return _("offline");
}

void
ssq_gtk_conversation_row_bind (SsqGtkConversationRow *self,
                               SsqClient             *client,
                               SsqConversation       *conversation)
{
  /* Everything comes from the snapshot: binding a row reads no cache. */
  SsqMessage *last = ssq_conversation_get_last_message (conversation);
  gint64 unread = ssq_conversation_get_unread (conversation);
  g_autofree char *time = short_time (ssq_conversation_get_last_activity (conversation));
  g_autofree char *count = g_strdup_printf ("%" G_GINT64_FORMAT, unread);
  g_autofree char *accessible = NULL;
  const char *presence = ssq_conversation_get_peer_presence (conversation);

  adw_avatar_set_text (ADW_AVATAR (self->avatar), ssq_conversation_get_display_title (conversation));
  gtk_label_set_text (GTK_LABEL (self->title), ssq_conversation_get_display_title (conversation));
  gtk_label_set_text (GTK_LABEL (self->time), time);
  if (last == NULL)
    gtk_label_set_text (GTK_LABEL (self->preview), _("No messages yet"));
  else
    {
      SsqUser *sender = ssq_message_get_sender_user (last);
      g_autofree char *body = g_strdelimit (g_strdup (ssq_message_get_deleted (last) ? _("Message deleted")
                                                                                    : ssq_message_get_body (last)),
                                            "\n", ' ');
      g_autofree char *preview = ssq_conversation_is_direct (conversation) || sender == NULL
                                 ? g_strdup (body)
                                 : g_strdup_printf ("%s: %s", ssq_user_get_display_name (sender), body);

      gtk_label_set_text (GTK_LABEL (self->preview), preview);
    }
  gtk_label_set_text (GTK_LABEL (self->unread), count);
  gtk_widget_set_visible (self->unread, unread > 0);
  gtk_widget_set_visible (self->muted, ssq_conversation_get_muted (conversation));
  gtk_widget_set_visible (self->presence, presence != NULL);
  gtk_widget_remove_css_class (self->presence, "online");
  gtk_widget_remove_css_class (self->presence, "away");
  if (presence != NULL && g_strcmp0 (presence, "offline") != 0)
    gtk_widget_add_css_class (self->presence, g_strcmp0 (presence, "online") == 0 ? "online" : "away");
  if (presence != NULL)
    gtk_widget_set_tooltip_text (self->presence, presence_name (presence));
  /* The dot is colour only: its meaning goes into the row's name too. */
  accessible = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%s, %u unread message",
                                             "%s, %u unread messages", (gulong) unread),
                                ssq_conversation_get_display_title (conversation), (guint) MIN (unread, G_MAXUINT));
  if (presence != NULL)
    {
      g_autofree char *with_presence = g_strdup_printf (_("%s, %s"), accessible, presence_name (presence));

      g_free (accessible);
      accessible = g_steal_pointer (&with_presence);
    }
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL, accessible, -1);
}

/* ---- Message row ------------------------------------------------------- */

struct _SsqGtkMessageRow
{
  GtkWidget  parent_instance;
  GtkWidget *box;
  GtkWidget *day;
  GtkWidget *header;
  GtkWidget *sender;
  GtkWidget *time;
  GtkWidget *reply;
  GtkWidget *body;
  GtkWidget *media;
  GtkWidget *status;
};

G_DEFINE_FINAL_TYPE (SsqGtkMessageRow, ssq_gtk_message_row, GTK_TYPE_WIDGET)

static void
message_row_dispose (GObject *object)
{
  SsqGtkMessageRow *self = SSQ_GTK_MESSAGE_ROW (object);

  g_clear_pointer (&self->box, gtk_widget_unparent);
  G_OBJECT_CLASS (ssq_gtk_message_row_parent_class)->dispose (object);
}

static void
ssq_gtk_message_row_class_init (SsqGtkMessageRowClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = message_row_dispose;
  gtk_widget_class_set_layout_manager_type (GTK_WIDGET_CLASS (klass), GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_accessible_role (GTK_WIDGET_CLASS (klass), GTK_ACCESSIBLE_ROLE_GROUP);
}

static void
ssq_gtk_message_row_init (SsqGtkMessageRow *self)
{
  GtkWidget *footer = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);

  self->box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  gtk_widget_set_margin_start (self->box, 12);
  gtk_widget_set_margin_end (self->box, 12);
  self->day = label ("day-separator", TRUE);
  gtk_label_set_xalign (GTK_LABEL (self->day), 0.5);
  gtk_widget_set_margin_top (self->day, 12);
  self->header = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 8);
  gtk_widget_set_margin_top (self->header, 8);
  self->sender = label ("heading", FALSE);
  self->time = label ("dim-label", FALSE);
  gtk_widget_add_css_class (self->time, "caption");
  gtk_box_append (GTK_BOX (self->header), self->sender);
  gtk_box_append (GTK_BOX (self->header), self->time);
  self->reply = label ("reply-quote", TRUE);
  self->body = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (self->body), 0);
  gtk_label_set_wrap (GTK_LABEL (self->body), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (self->body), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_selectable (GTK_LABEL (self->body), TRUE);
  gtk_label_set_use_markup (GTK_LABEL (self->body), TRUE);
  gtk_widget_set_focusable (self->body, FALSE);
  self->status = label ("dim-label", FALSE);
  gtk_widget_add_css_class (self->status, "caption");
  gtk_widget_set_halign (self->status, GTK_ALIGN_END);
  gtk_box_append (GTK_BOX (footer), self->status);
  gtk_widget_set_halign (footer, GTK_ALIGN_END);
  gtk_box_append (GTK_BOX (self->box), self->day);
  gtk_box_append (GTK_BOX (self->box), self->header);
  gtk_box_append (GTK_BOX (self->box), self->reply);
  gtk_box_append (GTK_BOX (self->box), self->body);
  self->media = ssq_gtk_message_media_new ();
  gtk_box_append (GTK_BOX (self->box), self->media);
  gtk_box_append (GTK_BOX (self->box), footer);
  gtk_widget_set_parent (self->box, GTK_WIDGET (self));
}

GtkWidget *
ssq_gtk_message_row_new (void)
{
  return g_object_new (SSQ_TYPE_GTK_MESSAGE_ROW, NULL);
}

/**
 * ssq_gtk_linkify:
 * Pango markup for @text with http(s) links made clickable.
 */
char *
ssq_gtk_linkify (const char *text)
{
  static GRegex *links;
  g_autoptr(GMatchInfo) match = NULL;
  GString *out = g_string_new (NULL);
  gint last = 0;

  if (g_once_init_enter (&links))
    g_once_init_leave (&links, g_regex_new ("https?://[^\\s<>\"]+[^\\s<>\".,;:!?)]", G_REGEX_OPTIMIZE, 0, NULL));
  g_regex_match (links, text, 0, &match);
  while (g_match_info_matches (match))
    {
      gint start, end;
      g_autofree char *before = NULL, *url = NULL, *escaped = NULL;

      g_match_info_fetch_pos (match, 0, &start, &end);
      before = g_markup_escape_text (text + last, start - last);
      url = g_strndup (text + start, end - start);
      escaped = g_markup_escape_text (url, -1);
      g_string_append_printf (out, "%s<a href=\"%s\">%s</a>", before, escaped, escaped);
      last = end;
      g_match_info_next (match, NULL);
    }
  {
    g_autofree char *rest = g_markup_escape_text (text + last, -1);

    g_string_append (out, rest);
  }
  return g_string_free (out, FALSE);
}

static const char *
status_text (SsqMessage *message)
{
  switch (ssq_message_get_status (message))
    {
    case SSQ_MESSAGE_PENDING: return _("Sending…");
    case SSQ_MESSAGE_FAILED: return _("Not sent");
    case SSQ_MESSAGE_DELIVERED: return _("Delivered");
    case SSQ_MESSAGE_READ: return _("Read");
    case SSQ_MESSAGE_SENT:
    default: return _("Sent");
    }
}

static char *
day_of (gint64 ms)
{
  g_autoptr(GDateTime) time = g_date_time_new_from_unix_local (ms / 1000);

  return time ? g_date_time_format (time, "%A, %e %B %Y") : g_strdup ("");
}

/* Messages from one sender within five minutes share one header. */
static gboolean
same_group (SsqMessage *message,
            SsqMessage *previous)
{
  return previous != NULL &&
         g_strcmp0 (ssq_message_get_sender (previous), ssq_message_get_sender (message)) == 0 &&
         ssq_message_get_created_at (message) - ssq_message_get_created_at (previous) < 5 * 60 * 1000;
}

void
ssq_gtk_message_row_bind (SsqGtkMessageRow *self,
                          SsqClient        *client,
                          SsqMessage       *message,
                          SsqMessage       *previous)
{
  /* Everything comes from the snapshot: binding a row reads no cache. */
  SsqUser *sender = ssq_message_get_sender_user (message);
  g_autoptr(GDateTime) when = g_date_time_new_from_unix_local (ssq_message_get_created_at (message) / 1000);
  g_autofree char *time = when ? g_date_time_format (when, "%H:%M") : g_strdup ("");
  g_autofree char *day = day_of (ssq_message_get_created_at (message));
  g_autofree char *previous_day = previous ? day_of (ssq_message_get_created_at (previous)) : NULL;
  g_autofree char *markup = NULL;
  g_autoptr(GString) status = g_string_new (NULL);
  gboolean own = g_strcmp0 (ssq_message_get_sender (message), ssq_client_get_user_id (client)) == 0;
  const char *name = sender ? ssq_user_get_display_name (sender) : "?";

  gtk_label_set_text (GTK_LABEL (self->day), day);
  gtk_widget_set_visible (self->day, g_strcmp0 (day, previous_day) != 0);
  gtk_label_set_text (GTK_LABEL (self->sender), name);
  gtk_label_set_text (GTK_LABEL (self->time), time);
  gtk_widget_set_visible (self->header, !same_group (message, previous) || g_strcmp0 (day, previous_day) != 0);

  if (ssq_message_get_reply_to (message) > 0)
    {
      SsqMessage *quoted = ssq_message_get_quoted (message);
      g_autofree char *text = quoted
        ? g_strdup_printf ("↳ %s", ssq_message_get_deleted (quoted) ? _("Message deleted") : ssq_message_get_body (quoted))
        : g_strdup_printf (_("↳ message %u"), (guint) ssq_message_get_reply_to (message));

      gtk_label_set_text (GTK_LABEL (self->reply), text);
    }
  gtk_widget_set_visible (self->reply, ssq_message_get_reply_to (message) > 0);

  if (ssq_message_get_deleted (message))
    {
      g_autofree char *escaped = g_markup_escape_text (_("This message was deleted"), -1);

      markup = g_strdup_printf ("<i>%s</i>", escaped);
    }
  else
    markup = ssq_gtk_linkify (ssq_message_get_body (message));
  gtk_label_set_markup (GTK_LABEL (self->body), markup);
  /* Files alone: no empty line above them. */
  gtk_widget_set_visible (self->body, *markup != '\0' || ssq_message_get_n_media (message) == 0);
  ssq_gtk_message_media_bind (SSQ_GTK_MESSAGE_MEDIA (self->media), client, message);

  if (ssq_message_get_edited_at (message) > 0 && !ssq_message_get_deleted (message))
    g_string_append (status, _("Edited"));
  if (own || ssq_message_is_pending (message))
    g_string_append_printf (status, "%s%s", status->len ? " · " : "", status_text (message));
  gtk_label_set_text (GTK_LABEL (self->status), status->str);
  gtk_widget_set_visible (self->status, status->len > 0);
  gtk_widget_remove_css_class (self->status, "error");
  if (ssq_message_get_status (message) == SSQ_MESSAGE_FAILED)
    gtk_widget_add_css_class (self->status, "error");
  {
    g_autofree char *accessible = g_strdup_printf ("%s, %s: %s", name, time,
                                                   ssq_message_get_deleted (message) ? _("This message was deleted")
                                                                                     : ssq_message_get_body (message));

    gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL, accessible, -1);
  }
}

const char *
ssq_gtk_message_row_get_body_text (SsqGtkMessageRow *self)
{
  return gtk_label_get_text (GTK_LABEL (self->body));
}

/**
 * ssq_gtk_message_row_get_media:
 * Returns: (transfer none): the row's SsqGtkMessageMedia
 */
GtkWidget *
ssq_gtk_message_row_get_media (SsqGtkMessageRow *self)
{
  return self->media;
}

const char *
ssq_gtk_message_row_get_status_text (SsqGtkMessageRow *self)
{
  return gtk_label_get_text (GTK_LABEL (self->status));
}
