/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-gtk-window.c: the main window. The sidebar and the message list are
 * GtkListViews over the client library's models; the composer sends with
 * Enter (Shift+Enter for a new line), and Up in an empty composer edits
 * the last message of mine. */
#include "ssq-config.h"
#include "ssq-gtk-window.h"

#include <glib/gi18n.h>

#include "ssq-conversation-list.h"
#include "ssq-gtk-application.h"
#include "ssq-gtk-dialogs.h"
#include "ssq-gtk-rows.h"
#include "ssq-message-list.h"
#include "ssq-proto.h"

struct _SsqGtkWindow
{
  AdwApplicationWindow parent_instance;

  /* Template children. */
  AdwToastOverlay *toasts;
  GtkStack        *stack;
  AdwEntryRow     *server_row;
  AdwEntryRow     *username_row;
  AdwPasswordEntryRow *password_row;
  GtkLabel        *login_error;
  GtkWidget       *login_button;
  GtkWidget       *register_button;
  AdwLeaflet      *leaflet;
  GtkWidget       *sidebar;
  GtkWidget       *content;
  AdwWindowTitle  *account_title;
  GtkSearchEntry  *search_entry;
  GtkListView     *conversation_view;
  AdwWindowTitle  *conversation_title;
  GtkRevealer     *offline_banner;
  GtkStack        *content_stack;
  GtkScrolledWindow *message_scroller;
  GtkListView     *message_view;
  GtkTextView     *composer;
  GtkWidget       *new_button;
  GtkWidget       *menu_button;

  SsqClient           *client;
  SsqConversationList *conversations;
  GtkFilterListModel  *filtered;
  GtkSingleSelection  *selection;
  SsqMessageList      *messages;
  char                *selected_id;
  gint64               editing_seq;   /* Up: the message being edited, or 0 */
  gboolean             stick_to_bottom;
  guint                list_check_source;
};

G_DEFINE_FINAL_TYPE (SsqGtkWindow, ssq_gtk_window, ADW_TYPE_APPLICATION_WINDOW)

/* GTK 4.8's GtkMenuButton keeps the label given in the .ui on itself, but
 * a screen reader lands on the toggle button inside, which would be read
 * as "GtkImage": it gets the same label. */
static void
label_menu_button (GtkWidget *menu_button)
{
  const char *label = gtk_widget_get_tooltip_text (menu_button);

  for (GtkWidget *child = gtk_widget_get_first_child (menu_button); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    if (GTK_IS_BUTTON (child))
      gtk_accessible_update_property (GTK_ACCESSIBLE (child), GTK_ACCESSIBLE_PROPERTY_LABEL, label, -1);
}

void
ssq_gtk_window_toast (SsqGtkWindow *self,
                      const char   *text)
{
  adw_toast_overlay_add_toast (self->toasts, adw_toast_new (text));
}

/* Log-in page. */

void
ssq_gtk_window_show_login (SsqGtkWindow *self,
                           const char   *server_url,
                           const char   *username,
                           const char   *error_text)
{
  if (server_url != NULL)
    gtk_editable_set_text (GTK_EDITABLE (self->server_row), server_url);
  if (username != NULL)
    gtk_editable_set_text (GTK_EDITABLE (self->username_row), username);
  gtk_label_set_text (self->login_error, error_text ? error_text : "");
  gtk_widget_set_visible (GTK_WIDGET (self->login_error), error_text != NULL);
  gtk_stack_set_visible_child_name (self->stack, "login");
  gtk_widget_grab_focus (GTK_WIDGET (username && *username ? (gpointer) self->password_row
                                                           : (gpointer) self->username_row));
}

static void
set_login_busy (SsqGtkWindow *self,
                gboolean      busy)
{
  gtk_widget_set_sensitive (self->login_button, !busy);
  gtk_widget_set_sensitive (self->register_button, !busy);
}

static void
session_done (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(SsqGtkWindow) self = user_data;
  g_autoptr(SsqClient) client = SSQ_CLIENT (source);
  g_autoptr(GError) error = NULL;
  gboolean ok = g_task_get_source_tag (G_TASK (result)) == ssq_client_register_async
                ? ssq_client_register_finish (client, result, &error)
                : ssq_client_login_finish (client, result, &error);

  set_login_busy (self, FALSE);
  if (!ok)
    {
      gtk_label_set_text (self->login_error, error->message);
      gtk_widget_set_visible (GTK_WIDGET (self->login_error), TRUE);
      return;
    }
  gtk_editable_set_text (GTK_EDITABLE (self->password_row), "");
  ssq_gtk_application_session_started (SSQ_GTK_APPLICATION (gtk_window_get_application (GTK_WINDOW (self))),
                                       client);
}

static void
start_session (SsqGtkWindow *self,
               gboolean      create)
{
  const char *server = gtk_editable_get_text (GTK_EDITABLE (self->server_row));
  const char *username = gtk_editable_get_text (GTK_EDITABLE (self->username_row));
  const char *password = gtk_editable_get_text (GTK_EDITABLE (self->password_row));
  SsqClient *client;

  if (*server == '\0' || *username == '\0' || *password == '\0')
    {
      gtk_label_set_text (self->login_error, _("Fill in the server, your name and your password"));
      gtk_widget_set_visible (GTK_WIDGET (self->login_error), TRUE);
      return;
    }
  gtk_widget_set_visible (GTK_WIDGET (self->login_error), FALSE);
  set_login_busy (self, TRUE);
  client = ssq_client_new (server, NULL);
  if (create)
    ssq_client_register_async (client, username, password, NULL, NULL, session_done, g_object_ref (self));
  else
    ssq_client_login_async (client, username, password, NULL, session_done, g_object_ref (self));
}

static void
login_clicked_cb (SsqGtkWindow *self)
{
  start_session (self, FALSE);
}

static void
register_clicked_cb (SsqGtkWindow *self)
{
  start_session (self, TRUE);
}

/* Header: title, members or who is typing, and the offline banner. */

static void
update_header (SsqGtkWindow *self)
{
  g_autoptr(SsqConversation) conversation = NULL;
  g_autoptr(GString) subtitle = g_string_new (NULL);
  g_auto(GStrv) typing = NULL;

  if (self->client == NULL)
    return;
  gtk_revealer_set_reveal_child (self->offline_banner,
                                 ssq_client_get_state (self->client) != SSQ_CLIENT_ONLINE);
  if (self->selected_id != NULL)
    conversation = ssq_cache_get_conversation (ssq_client_get_cache (self->client), self->selected_id);
  if (conversation == NULL)
    {
      adw_window_title_set_title (self->conversation_title, "");
      adw_window_title_set_subtitle (self->conversation_title, "");
      return;
    }
  typing = ssq_client_get_typing (self->client, self->selected_id);
  if (typing[0] != NULL)
    {
      g_autoptr(SsqUser) who = ssq_cache_get_user (ssq_client_get_cache (self->client), typing[0]);

      g_string_printf (subtitle, _("%s is typing…"), who ? ssq_user_get_display_name (who) : "?");
    }
  else if (ssq_conversation_is_direct (conversation))
    {
      g_autoptr(SsqUser) peer = ssq_cache_get_user (ssq_client_get_cache (self->client),
                                                    ssq_conversation_get_peer_id (conversation));

      g_string_assign (subtitle, peer ? ssq_user_get_presence (peer) : "");
    }
  else
    {
      GListModel *members = ssq_conversation_get_members (conversation);

      for (guint i = 0; i < g_list_model_get_n_items (members); i++)
        {
          g_autoptr(SsqMember) m = g_list_model_get_item (members, i);

          g_string_append_printf (subtitle, "%s%s", i ? ", " : "", ssq_member_get_display_name (m));
        }
    }
  adw_window_title_set_title (self->conversation_title, ssq_conversation_get_display_title (conversation));
  adw_window_title_set_subtitle (self->conversation_title, subtitle->str);
}

/* Messages. */

static void
scroll_to_bottom (SsqGtkWindow *self)
{
  GtkAdjustment *adj = gtk_scrolled_window_get_vadjustment (self->message_scroller);

  gtk_adjustment_set_value (adj, gtk_adjustment_get_upper (adj));
}

static gboolean
scroll_idle_cb (gpointer user_data)
{
  SsqGtkWindow *self = user_data;

  scroll_to_bottom (self);
  return G_SOURCE_REMOVE;
}

static void
mark_read (SsqGtkWindow *self)
{
  guint n;
  g_autoptr(SsqMessage) last = NULL;

  if (self->messages == NULL || !gtk_window_is_active (GTK_WINDOW (self)))
    return;
  n = g_list_model_get_n_items (G_LIST_MODEL (self->messages));
  for (guint i = n; i > 0 && last == NULL; i--)
    {
      g_autoptr(SsqMessage) m = g_list_model_get_item (G_LIST_MODEL (self->messages), i - 1);

      if (ssq_message_get_seq (m) > 0)
        last = g_steal_pointer (&m);
    }
  if (last != NULL)
    ssq_client_mark_read (self->client, self->selected_id, ssq_message_get_seq (last));
}

static void
messages_changed_cb (GListModel   *model,
                     guint         position,
                     guint         removed,
                     guint         added,
                     SsqGtkWindow *self)
{
  GtkAdjustment *adj = gtk_scrolled_window_get_vadjustment (self->message_scroller);

  /* Follow the conversation when the view was at its end. */
  if (added > 0 && position + added == g_list_model_get_n_items (model) &&
      gtk_adjustment_get_value (adj) + gtk_adjustment_get_page_size (adj) >= gtk_adjustment_get_upper (adj) - 40)
    g_idle_add_full (G_PRIORITY_LOW, scroll_idle_cb, g_object_ref (self), g_object_unref);
  mark_read (self);
}

static void
message_setup_cb (GtkSignalListItemFactory *factory,
                  GtkListItem              *item,
                  SsqGtkWindow             *self)
{
  gtk_list_item_set_child (item, ssq_gtk_message_row_new ());
  gtk_list_item_set_activatable (item, FALSE);
}

static void
message_bind_cb (GtkSignalListItemFactory *factory,
                 GtkListItem              *item,
                 SsqGtkWindow             *self)
{
  guint position = gtk_list_item_get_position (item);
  g_autoptr(SsqMessage) previous = NULL;

  if (position > 0 && self->messages != NULL)
    previous = g_list_model_get_item (G_LIST_MODEL (self->messages), position - 1);
  ssq_gtk_message_row_bind (SSQ_GTK_MESSAGE_ROW (gtk_list_item_get_child (item)), self->client,
                            gtk_list_item_get_item (item), previous);
}

static void
older_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(SsqGtkWindow) self = user_data;
  g_autoptr(GError) error = NULL;

  ssq_message_list_load_older_finish (SSQ_MESSAGE_LIST (source), result, &error);
  if (error != NULL)
    ssq_gtk_window_toast (self, error->message);
}

/* Scrolled to the top: fetch older history. */
static void
edge_reached_cb (SsqGtkWindow    *self,
                 GtkPositionType  position)
{
  if (position == GTK_POS_TOP && self->messages != NULL)
    ssq_message_list_load_older_async (self->messages, 50, NULL, older_cb, g_object_ref (self));
}

/* The sidebar highlights the open conversation, wherever activity has
 * moved it in the list. */
static void
sync_sidebar_selection (SsqGtkWindow *self)
{
  if (self->selection == NULL)
    return;
  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (self->selection)); i++)
    {
      g_autoptr(SsqConversation) c = g_list_model_get_item (G_LIST_MODEL (self->selection), i);

      if (g_strcmp0 (ssq_conversation_get_id (c), self->selected_id) == 0 &&
          gtk_single_selection_get_selected (self->selection) != i)
        gtk_single_selection_set_selected (self->selection, i);
    }
}

const char *
ssq_gtk_window_get_selected (SsqGtkWindow *self)
{
  return self->selected_id;
}

void
ssq_gtk_window_select (SsqGtkWindow *self,
                       const char   *conversation_id)
{
  GtkSelectionModel *none;

  if (self->client == NULL)
    return;
  if (g_strcmp0 (self->selected_id, conversation_id) != 0)
    {
      g_free (self->selected_id);
      self->selected_id = g_strdup (conversation_id);
      self->editing_seq = 0;
      if (self->messages != NULL)
        g_signal_handlers_disconnect_by_data (self->messages, self);
      g_clear_object (&self->messages);
      if (conversation_id != NULL)
        {
          self->messages = ssq_message_list_new (self->client, conversation_id, 100);
          g_signal_connect (self->messages, "items-changed", G_CALLBACK (messages_changed_cb), self);
          none = GTK_SELECTION_MODEL (gtk_no_selection_new (g_object_ref (G_LIST_MODEL (self->messages))));
          gtk_list_view_set_model (self->message_view, none);
          g_object_unref (none);
          g_idle_add_full (G_PRIORITY_LOW, scroll_idle_cb, g_object_ref (self), g_object_unref);
        }
      else
        gtk_list_view_set_model (self->message_view, NULL);
    }
  gtk_stack_set_visible_child_name (self->content_stack, conversation_id ? "conversation" : "empty");
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.details", conversation_id != NULL);
  if (conversation_id != NULL)
    {
      adw_leaflet_set_visible_child (self->leaflet, self->content);
      gtk_widget_grab_focus (GTK_WIDGET (self->composer));
    }
  sync_sidebar_selection (self);
  update_header (self);
  mark_read (self);
}

static void
conversation_activated_cb (SsqGtkWindow *self,
                           guint         position)
{
  g_autoptr(SsqConversation) c = g_list_model_get_item (G_LIST_MODEL (self->selection), position);

  if (c != NULL)
    ssq_gtk_window_select (self, ssq_conversation_get_id (c));
}

static void
back_clicked_cb (SsqGtkWindow *self)
{
  adw_leaflet_navigate (self->leaflet, ADW_NAVIGATION_DIRECTION_BACK);
}

static void
search_changed_cb (SsqGtkWindow *self)
{
  GtkFilter *filter = gtk_filter_list_model_get_filter (self->filtered);

  gtk_string_filter_set_search (GTK_STRING_FILTER (filter),
                                gtk_editable_get_text (GTK_EDITABLE (self->search_entry)));
}

static void
conversation_setup_cb (GtkSignalListItemFactory *factory,
                       GtkListItem              *item,
                       SsqGtkWindow             *self)
{
  gtk_list_item_set_child (item, ssq_gtk_conversation_row_new ());
}

static void
conversation_bind_cb (GtkSignalListItemFactory *factory,
                      GtkListItem              *item,
                      SsqGtkWindow             *self)
{
  ssq_gtk_conversation_row_bind (SSQ_GTK_CONVERSATION_ROW (gtk_list_item_get_child (item)), self->client,
                                 gtk_list_item_get_item (item));
}

/* Composer. */

static char *
composer_text (SsqGtkWindow *self)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->composer);
  GtkTextIter start, end;

  gtk_text_buffer_get_bounds (buffer, &start, &end);
  return gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
}

static void
edit_done (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(SsqGtkWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(SsqMessage) message = ssq_client_edit_message_finish (SSQ_CLIENT (source), result, &error);

  if (message == NULL)
    ssq_gtk_window_toast (self, error->message);
}

/* Sends (or, after Up, saves the edit of) what the composer holds. */
gboolean
ssq_gtk_window_send_composer (SsqGtkWindow *self)
{
  g_autofree char *text = composer_text (self);
  g_autoptr(GError) error = NULL;
  g_autoptr(SsqMessage) message = NULL;

  if (self->selected_id == NULL || *g_strstrip (text) == '\0')
    return FALSE;
  if (self->editing_seq > 0)
    {
      ssq_client_edit_message_async (self->client, self->selected_id, self->editing_seq, text, NULL,
                                     edit_done, g_object_ref (self));
      self->editing_seq = 0;
    }
  else
    {
      message = ssq_client_send_message (self->client, self->selected_id, text, 0, &error);
      if (message == NULL)
        {
          ssq_gtk_window_toast (self, error->message);
          return FALSE;
        }
    }
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (self->composer), "", 0);
  ssq_client_set_typing (self->client, self->selected_id, FALSE);
  g_idle_add_full (G_PRIORITY_LOW, scroll_idle_cb, g_object_ref (self), g_object_unref);
  return TRUE;
}

static void
send_clicked_cb (SsqGtkWindow *self)
{
  ssq_gtk_window_send_composer (self);
}

static gboolean
edit_last_own (SsqGtkWindow *self)
{
  guint n = self->messages ? g_list_model_get_n_items (G_LIST_MODEL (self->messages)) : 0;

  for (guint i = n; i > 0; i--)
    {
      g_autoptr(SsqMessage) m = g_list_model_get_item (G_LIST_MODEL (self->messages), i - 1);

      if (g_strcmp0 (ssq_message_get_sender (m), ssq_client_get_user_id (self->client)) == 0 &&
          ssq_message_get_seq (m) > 0 && !ssq_message_get_deleted (m))
        {
          self->editing_seq = ssq_message_get_seq (m);
          gtk_text_buffer_set_text (gtk_text_view_get_buffer (self->composer), ssq_message_get_body (m), -1);
          ssq_gtk_window_toast (self, _("Editing your last message — Enter saves, Escape cancels"));
          return TRUE;
        }
    }
  return FALSE;
}

static gboolean
composer_key_cb (GtkEventControllerKey *controller,
                 guint                  keyval,
                 guint                  keycode,
                 GdkModifierType        state,
                 SsqGtkWindow          *self)
{
  g_autofree char *text = NULL;

  if ((keyval == GDK_KEY_Return || keyval == GDK_KEY_KP_Enter) && !(state & GDK_SHIFT_MASK))
    {
      ssq_gtk_window_send_composer (self);
      return TRUE;
    }
  if (keyval == GDK_KEY_Up && !(state & (GDK_ALT_MASK | GDK_CONTROL_MASK)))
    {
      text = composer_text (self);
      if (*text == '\0')
        return edit_last_own (self);
    }
  if (keyval == GDK_KEY_Escape && self->editing_seq > 0)
    {
      self->editing_seq = 0;
      gtk_text_buffer_set_text (gtk_text_view_get_buffer (self->composer), "", 0);
      return TRUE;
    }
  return FALSE;
}

static void
composer_changed_cb (GtkTextBuffer *buffer,
                     SsqGtkWindow  *self)
{
  if (self->selected_id == NULL || self->client == NULL || self->editing_seq > 0)
    return;
  ssq_client_set_typing (self->client, self->selected_id, gtk_text_buffer_get_char_count (buffer) > 0);
  ssq_client_report_activity (self->client);
}

GtkWidget *
ssq_gtk_window_get_composer (SsqGtkWindow *self)
{
  return GTK_WIDGET (self->composer);
}

/* The client. */

static void
client_changed_cb (SsqGtkWindow *self)
{
  update_header (self);
}

static void
client_error_cb (SsqClient    *client,
                 const GError *error,
                 SsqGtkWindow *self)
{
  if (g_error_matches (error, SSQ_ERROR, SSQ_ERROR_UNAUTHORIZED))
    {
      ssq_gtk_window_show_login (self, ssq_client_get_server_url (client), ssq_client_get_username (client),
                                 _("The server ended this session; log in again."));
      return;
    }
  ssq_gtk_window_toast (self, error->message);
}

/* Once the list has settled: the open conversation is gone for good (left,
 * removed) or still there. A conversation that moves is removed and then
 * added again in two signals, so the first alone proves nothing. */
static gboolean
list_check_cb (gpointer user_data)
{
  SsqGtkWindow *self = user_data;

  self->list_check_source = 0;
  if (self->selected_id != NULL && self->conversations != NULL &&
      ssq_conversation_list_find (self->conversations, self->selected_id) < 0)
    ssq_gtk_window_select (self, NULL);
  else
    sync_sidebar_selection (self);
  return G_SOURCE_REMOVE;
}

static void
conversations_changed_cb (GListModel   *model,
                          guint         position,
                          guint         removed,
                          guint         added,
                          SsqGtkWindow *self)
{
  /* Only the highlight follows: re-selecting would take the focus and, on
   * a narrow window, the view away from wherever the user is. This runs
   * on the selection model's own signal, after the filter and the
   * selection have taken the change in: run earlier (on the list's
   * signal), it would find the old positions, and the selection would
   * then drop the item as it is replaced or moved. */
  sync_sidebar_selection (self);
  if (self->list_check_source == 0)
    self->list_check_source = g_idle_add (list_check_cb, self);
}

SsqClient *
ssq_gtk_window_get_client (SsqGtkWindow *self)
{
  return self->client;
}

void
ssq_gtk_window_set_client (SsqGtkWindow *self,
                           SsqClient    *client)
{
  GtkExpression *title;
  GtkStringFilter *filter;
  g_autofree char *account = NULL;

  if (self->client != NULL)
    g_signal_handlers_disconnect_by_data (self->client, self);
  g_clear_object (&self->client);
  ssq_gtk_window_select (self, NULL);
  self->client = g_object_ref (client);
  g_clear_object (&self->conversations);
  self->conversations = ssq_conversation_list_new (client);
  title = gtk_cclosure_expression_new (G_TYPE_STRING, NULL, 0, NULL,
                                       G_CALLBACK (ssq_conversation_get_display_title), NULL, NULL);
  filter = gtk_string_filter_new (title);
  self->filtered = gtk_filter_list_model_new (G_LIST_MODEL (g_object_ref (self->conversations)),
                                              GTK_FILTER (filter));
  self->selection = gtk_single_selection_new (G_LIST_MODEL (self->filtered));
  gtk_single_selection_set_autoselect (self->selection, FALSE);
  gtk_single_selection_set_can_unselect (self->selection, TRUE);
  gtk_single_selection_set_selected (self->selection, GTK_INVALID_LIST_POSITION);
  g_signal_connect_object (self->selection, "items-changed", G_CALLBACK (conversations_changed_cb), self, 0);
  gtk_list_view_set_model (self->conversation_view, GTK_SELECTION_MODEL (self->selection));
  g_object_unref (self->selection);

  g_signal_connect_swapped (client, "notify::state", G_CALLBACK (client_changed_cb), self);
  g_signal_connect_swapped (client, "typing", G_CALLBACK (client_changed_cb), self);
  g_signal_connect_swapped (client, "presence", G_CALLBACK (client_changed_cb), self);
  g_signal_connect_swapped (client, "conversation", G_CALLBACK (client_changed_cb), self);
  g_signal_connect (client, "error", G_CALLBACK (client_error_cb), self);
  account = g_strdup_printf ("%s — %s", ssq_client_get_username (client), ssq_client_get_server_url (client));
  adw_window_title_set_subtitle (self->account_title, account);
  gtk_stack_set_visible_child_name (self->stack, "main");
  update_header (self);
}

/* Actions. */

static void
new_direct_action (GtkWidget  *widget,
                   const char *name,
                   GVariant   *param)
{
  ssq_gtk_dialog_new_direct (SSQ_GTK_WINDOW (widget));
}

static void
new_group_action (GtkWidget  *widget,
                  const char *name,
                  GVariant   *param)
{
  ssq_gtk_dialog_new_group (SSQ_GTK_WINDOW (widget));
}

static void
details_action (GtkWidget  *widget,
                const char *name,
                GVariant   *param)
{
  SsqGtkWindow *self = SSQ_GTK_WINDOW (widget);

  if (self->selected_id != NULL)
    ssq_gtk_dialog_details (self, self->selected_id);
}

static void
find_action (GtkWidget  *widget,
             const char *name,
             GVariant   *param)
{
  SsqGtkWindow *self = SSQ_GTK_WINDOW (widget);

  adw_leaflet_set_visible_child (self->leaflet, self->sidebar);
  gtk_widget_grab_focus (GTK_WIDGET (self->search_entry));
}

static void
step_action (GtkWidget  *widget,
             const char *name,
             GVariant   *param)
{
  SsqGtkWindow *self = SSQ_GTK_WINDOW (widget);
  guint n = self->selection ? g_list_model_get_n_items (G_LIST_MODEL (self->selection)) : 0;
  guint at = self->selection ? gtk_single_selection_get_selected (self->selection) : GTK_INVALID_LIST_POSITION;
  int step = g_variant_get_int32 (param);
  g_autoptr(SsqConversation) next = NULL;

  if (n == 0)
    return;
  if (at == GTK_INVALID_LIST_POSITION)
    at = 0;
  else
    at = (at + n + (guint) (step < 0 ? -1 : 1)) % n;
  next = g_list_model_get_item (G_LIST_MODEL (self->selection), at);
  ssq_gtk_window_select (self, ssq_conversation_get_id (next));
}

static void
active_changed_cb (SsqGtkWindow *self)
{
  if (gtk_window_is_active (GTK_WINDOW (self)))
    {
      mark_read (self);
      if (self->client != NULL)
        ssq_client_report_activity (self->client);
    }
}

static void
ssq_gtk_window_dispose (GObject *object)
{
  SsqGtkWindow *self = SSQ_GTK_WINDOW (object);

  g_clear_handle_id (&self->list_check_source, g_source_remove);
  if (self->client != NULL)
    g_signal_handlers_disconnect_by_data (self->client, self);
  if (self->messages != NULL)
    g_signal_handlers_disconnect_by_data (self->messages, self);
  g_clear_object (&self->messages);
  if (self->conversations != NULL)
    g_signal_handlers_disconnect_by_data (self->conversations, self);
  g_clear_object (&self->conversations);
  g_clear_object (&self->client);
  g_clear_pointer (&self->selected_id, g_free);
  gtk_widget_dispose_template (GTK_WIDGET (self), SSQ_TYPE_GTK_WINDOW);
  G_OBJECT_CLASS (ssq_gtk_window_parent_class)->dispose (object);
}

static void
ssq_gtk_window_class_init (SsqGtkWindowClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = ssq_gtk_window_dispose;
  gtk_widget_class_set_template_from_resource (widget_class, "/org/supersoniq/Supersoniq/ssq-gtk-window.ui");
  gtk_widget_class_bind_template_child (widget_class, SsqGtkWindow, toasts);
  gtk_widget_class_bind_template_child (widget_class, SsqGtkWindow, stack);
  gtk_widget_class_bind_template_child (widget_class, SsqGtkWindow, server_row);
  gtk_widget_class_bind_template_child (widget_class, SsqGtkWindow, username_row);
  gtk_widget_class_bind_template_child (widget_class, SsqGtkWindow, password_row);
  gtk_widget_class_bind_template_child (widget_class, SsqGtkWindow, login_error);
  gtk_widget_class_bind_template_child (widget_class, SsqGtkWindow, login_button);
  gtk_widget_class_bind_template_child (widget_class, SsqGtkWindow, register_button);
  gtk_widget_class_bind_template_child (widget_class, SsqGtkWindow, leaflet);
  gtk_widget_class_bind_template_child (widget_class, SsqGtkWindow, sidebar);
  gtk_widget_class_bind_template_child (widget_class, SsqGtkWindow, content);
  gtk_widget_class_bind_template_child (widget_class, SsqGtkWindow, account_title);
  gtk_widget_class_bind_template_child (widget_class, SsqGtkWindow, search_entry);
  gtk_widget_class_bind_template_child (widget_class, SsqGtkWindow, new_button);
  gtk_widget_class_bind_template_child (widget_class, SsqGtkWindow, menu_button);
  gtk_widget_class_bind_template_child (widget_class, SsqGtkWindow, conversation_view);
  gtk_widget_class_bind_template_child (widget_class, SsqGtkWindow, conversation_title);
  gtk_widget_class_bind_template_child (widget_class, SsqGtkWindow, offline_banner);
  gtk_widget_class_bind_template_child (widget_class, SsqGtkWindow, content_stack);
  gtk_widget_class_bind_template_child (widget_class, SsqGtkWindow, message_scroller);
  gtk_widget_class_bind_template_child (widget_class, SsqGtkWindow, message_view);
  gtk_widget_class_bind_template_child (widget_class, SsqGtkWindow, composer);
  gtk_widget_class_bind_template_callback (widget_class, login_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, register_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, search_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, conversation_activated_cb);
  gtk_widget_class_bind_template_callback (widget_class, back_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, edge_reached_cb);
  gtk_widget_class_bind_template_callback (widget_class, send_clicked_cb);

  gtk_widget_class_install_action (widget_class, "win.new-direct", NULL, new_direct_action);
  gtk_widget_class_install_action (widget_class, "win.new-group", NULL, new_group_action);
  gtk_widget_class_install_action (widget_class, "win.details", NULL, details_action);
  gtk_widget_class_install_action (widget_class, "win.find", NULL, find_action);
  gtk_widget_class_install_action (widget_class, "win.step", "i", step_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_k, GDK_CONTROL_MASK, "win.find", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_n, GDK_CONTROL_MASK, "win.new-direct", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Up, GDK_ALT_MASK, "win.step", "i", -1);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Down, GDK_ALT_MASK, "win.step", "i", 1);
}

static void
ssq_gtk_window_init (SsqGtkWindow *self)
{
  GtkListItemFactory *factory;
  GtkEventController *keys;

  gtk_widget_init_template (GTK_WIDGET (self));
  self->editing_seq = 0;
  label_menu_button (self->new_button);
  label_menu_button (self->menu_button);

  factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (conversation_setup_cb), self);
  g_signal_connect (factory, "bind", G_CALLBACK (conversation_bind_cb), self);
  gtk_list_view_set_factory (self->conversation_view, factory);
  g_object_unref (factory);

  factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (message_setup_cb), self);
  g_signal_connect (factory, "bind", G_CALLBACK (message_bind_cb), self);
  gtk_list_view_set_factory (self->message_view, factory);
  g_object_unref (factory);

  keys = gtk_event_controller_key_new ();
  gtk_event_controller_set_propagation_phase (keys, GTK_PHASE_CAPTURE);
  g_signal_connect (keys, "key-pressed", G_CALLBACK (composer_key_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self->composer), keys);
  g_signal_connect (gtk_text_view_get_buffer (self->composer), "changed", G_CALLBACK (composer_changed_cb), self);
  g_signal_connect_swapped (self, "notify::is-active", G_CALLBACK (active_changed_cb), self);

  gtk_accessible_update_property (GTK_ACCESSIBLE (self->composer), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Message"), -1);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->conversation_view), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Conversations"), -1);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->message_view), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Messages"), -1);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.details", FALSE);
}

SsqGtkWindow *
ssq_gtk_window_new (AdwApplication *application)
{
  return g_object_new (SSQ_TYPE_GTK_WINDOW, "application", application, NULL);
}
