/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-gtk-conversation-view.c: the right-hand side of the window. The
 * header shows the conversation's title and who is in it (or typing); the
 * message list is a GtkListView over the client library's SsqMessageList,
 * follows new messages while the view is at its end, fetches older
 * history when scrolled to the top and marks what is shown read. Files
 * dropped on it go to the composer's attachments. */
#include "ssq-config.h"
#include "ssq-gtk-conversation-view.h"

#include <glib/gi18n.h>

#include "ssq-gtk-rows.h"
#include "ssq-message-list.h"

struct _SsqGtkConversationView
{
  GtkBox             parent_instance;

  /* Template children. */
  AdwWindowTitle    *title;
  GtkRevealer       *offline_banner;
  GtkStack          *stack;
  GtkScrolledWindow *message_scroller;
  GtkListView       *message_view;
  SsqGtkComposer    *composer;
  GtkDropTarget     *drop_target;

  SsqClient         *client;
  SsqMessageList    *messages;
  char              *conversation_id;
  gboolean           folded;
};

G_DEFINE_FINAL_TYPE (SsqGtkConversationView, ssq_gtk_conversation_view, GTK_TYPE_BOX)

enum {
  PROP_0,
  PROP_FOLDED,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  SIGNAL_GO_BACK,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* Header: title, members or who is typing, and the offline banner. */

static void
update_header (SsqGtkConversationView *self)
{
  g_autoptr(SsqConversation) conversation = NULL;
  g_autoptr(GString) subtitle = g_string_new (NULL);
  g_auto(GStrv) typing = NULL;

  if (self->client == NULL)
    return;
  gtk_revealer_set_reveal_child (self->offline_banner,
                                 ssq_client_get_state (self->client) != SSQ_CLIENT_ONLINE);
  if (self->conversation_id != NULL)
    conversation = ssq_cache_get_conversation (ssq_client_get_cache (self->client), self->conversation_id);
  if (conversation == NULL)
    {
      adw_window_title_set_title (self->title, "");
      adw_window_title_set_subtitle (self->title, "");
      return;
    }
  typing = ssq_client_get_typing (self->client, self->conversation_id);
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
  adw_window_title_set_title (self->title, ssq_conversation_get_display_title (conversation));
  adw_window_title_set_subtitle (self->title, subtitle->str);
}

static void
back_clicked_cb (SsqGtkConversationView *self)
{
  g_signal_emit (self, signals[SIGNAL_GO_BACK], 0);
}

/* Messages. */

static gboolean
scroll_idle_cb (gpointer user_data)
{
  SsqGtkConversationView *self = user_data;
  GtkAdjustment *adj = gtk_scrolled_window_get_vadjustment (self->message_scroller);

  gtk_adjustment_set_value (adj, gtk_adjustment_get_upper (adj));
  return G_SOURCE_REMOVE;
}

/* Once the list has its new rows laid out. */
static void
scroll_to_bottom_later (SsqGtkConversationView *self)
{
  g_idle_add_full (G_PRIORITY_LOW, scroll_idle_cb, g_object_ref (self), g_object_unref);
}

/**
 * ssq_gtk_conversation_view_mark_read:
 * @self: the view
 *
 * Marks the open conversation read up to its last message, if the window
 * is in front of the user.
 */
void
ssq_gtk_conversation_view_mark_read (SsqGtkConversationView *self)
{
  GtkRoot *root;
  guint n;
  g_autoptr(SsqMessage) last = NULL;

  g_return_if_fail (SSQ_IS_GTK_CONVERSATION_VIEW (self));

  root = gtk_widget_get_root (GTK_WIDGET (self));
  if (self->messages == NULL || !GTK_IS_WINDOW (root) || !gtk_window_is_active (GTK_WINDOW (root)))
    return;
  n = g_list_model_get_n_items (G_LIST_MODEL (self->messages));
  for (guint i = n; i > 0 && last == NULL; i--)
    {
      g_autoptr(SsqMessage) m = g_list_model_get_item (G_LIST_MODEL (self->messages), i - 1);

      if (ssq_message_get_seq (m) > 0)
        last = g_steal_pointer (&m);
    }
  if (last != NULL)
    ssq_client_mark_read (self->client, self->conversation_id, ssq_message_get_seq (last));
}

static void
messages_changed_cb (GListModel             *model,
                     guint                   position,
                     guint                   removed,
                     guint                   added,
                     SsqGtkConversationView *self)
{
  GtkAdjustment *adj = gtk_scrolled_window_get_vadjustment (self->message_scroller);

  /* Follow the conversation when the view was at its end. */
  if (added > 0 && position + added == g_list_model_get_n_items (model) &&
      gtk_adjustment_get_value (adj) + gtk_adjustment_get_page_size (adj) >= gtk_adjustment_get_upper (adj) - 40)
    scroll_to_bottom_later (self);
  ssq_gtk_conversation_view_mark_read (self);
}

static void
message_setup_cb (GtkSignalListItemFactory *factory,
                  GtkListItem              *item,
                  SsqGtkConversationView   *self)
{
  gtk_list_item_set_child (item, ssq_gtk_message_row_new ());
  gtk_list_item_set_activatable (item, FALSE);
}

static void
message_bind_cb (GtkSignalListItemFactory *factory,
                 GtkListItem              *item,
                 SsqGtkConversationView   *self)
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
  g_autoptr(SsqGtkConversationView) self = user_data;
  g_autoptr(GError) error = NULL;

  ssq_message_list_load_older_finish (SSQ_MESSAGE_LIST (source), result, &error);
  if (error != NULL)
    gtk_widget_activate_action (GTK_WIDGET (self), "win.toast", "s", error->message);
}

/* Scrolled to the top: fetch older history. */
static void
edge_reached_cb (SsqGtkConversationView *self,
                 GtkPositionType         position)
{
  if (position == GTK_POS_TOP && self->messages != NULL)
    ssq_message_list_load_older_async (self->messages, 50, NULL, older_cb, g_object_ref (self));
}

static void
set_messages (SsqGtkConversationView *self,
              SsqMessageList         *messages)
{
  g_autoptr(GtkSelectionModel) none = NULL;

  if (self->messages != NULL)
    g_signal_handlers_disconnect_by_data (self->messages, self);
  g_clear_object (&self->messages);
  if (messages == NULL)
    {
      gtk_list_view_set_model (self->message_view, NULL);
      return;
    }
  self->messages = messages;
  g_signal_connect (self->messages, "items-changed", G_CALLBACK (messages_changed_cb), self);
  none = GTK_SELECTION_MODEL (gtk_no_selection_new (g_object_ref (G_LIST_MODEL (self->messages))));
  gtk_list_view_set_model (self->message_view, none);
  scroll_to_bottom_later (self);
}

/* Drag and drop. */

static gboolean
drop_cb (GtkDropTarget          *target,
         const GValue           *value,
         double                  x,
         double                  y,
         SsqGtkConversationView *self)
{
  GSList *files;
  g_autoptr(GPtrArray) array = g_ptr_array_new ();

  if (self->conversation_id == NULL || !G_VALUE_HOLDS (value, GDK_TYPE_FILE_LIST))
    return FALSE;
  files = gdk_file_list_get_files (g_value_get_boxed (value));
  for (GSList *l = files; l != NULL; l = l->next)
    g_ptr_array_add (array, l->data);
  g_slist_free (files);
  if (array->len == 0)
    return FALSE;
  ssq_gtk_composer_attach_files (self->composer, (GFile **) array->pdata, array->len);
  return TRUE;
}

/* Files may be dropped anywhere on an open conversation, the composer's
 * text included: the target listens in the capture phase, before the text
 * view's own target would take a file's path as text. With no
 * conversation open it is off, and the view shows no drop highlight. */
static void
drop_target_init (SsqGtkConversationView *self)
{
  self->drop_target = gtk_drop_target_new (GDK_TYPE_FILE_LIST, GDK_ACTION_COPY);
  gtk_event_controller_set_propagation_phase (GTK_EVENT_CONTROLLER (self->drop_target), GTK_PHASE_NONE);
  g_signal_connect (self->drop_target, "drop", G_CALLBACK (drop_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (self->drop_target));
}

/**
 * ssq_gtk_conversation_view_set_conversation:
 * @self: the view
 * @conversation_id: (nullable): the conversation to show, or %NULL for none
 *
 * Shows a conversation, or the page that asks to pick one. Showing the
 * one already open keeps its list where it is.
 */
void
ssq_gtk_conversation_view_set_conversation (SsqGtkConversationView *self,
                                            const char             *conversation_id)
{
  g_return_if_fail (SSQ_IS_GTK_CONVERSATION_VIEW (self));

  if (g_strcmp0 (self->conversation_id, conversation_id) != 0)
    {
      g_free (self->conversation_id);
      self->conversation_id = g_strdup (conversation_id);
      set_messages (self, conversation_id && self->client
                          ? ssq_message_list_new (self->client, conversation_id, 100) : NULL);
      ssq_gtk_composer_set_conversation (self->composer, self->client, conversation_id,
                                         G_LIST_MODEL (self->messages));
    }
  gtk_stack_set_visible_child_name (self->stack, conversation_id ? "conversation" : "empty");
  gtk_event_controller_set_propagation_phase (GTK_EVENT_CONTROLLER (self->drop_target),
                                              conversation_id ? GTK_PHASE_CAPTURE : GTK_PHASE_NONE);
  update_header (self);
  ssq_gtk_conversation_view_mark_read (self);
}

const char *
ssq_gtk_conversation_view_get_conversation (SsqGtkConversationView *self)
{
  g_return_val_if_fail (SSQ_IS_GTK_CONVERSATION_VIEW (self), NULL);

  return self->conversation_id;
}

/**
 * ssq_gtk_conversation_view_get_composer:
 * @self: the view
 *
 * Returns: (transfer none): the composer under the message list
 */
SsqGtkComposer *
ssq_gtk_conversation_view_get_composer (SsqGtkConversationView *self)
{
  g_return_val_if_fail (SSQ_IS_GTK_CONVERSATION_VIEW (self), NULL);

  return self->composer;
}

static void
client_changed_cb (SsqGtkConversationView *self)
{
  update_header (self);
}

/**
 * ssq_gtk_conversation_view_set_client:
 * @self: the view
 * @client: the session's client
 *
 * Follows another session's client: its state, typing and presence.
 */
void
ssq_gtk_conversation_view_set_client (SsqGtkConversationView *self,
                                      SsqClient              *client)
{
  g_return_if_fail (SSQ_IS_GTK_CONVERSATION_VIEW (self));
  g_return_if_fail (SSQ_IS_CLIENT (client));

  if (self->client != NULL)
    g_signal_handlers_disconnect_by_data (self->client, self);
  g_set_object (&self->client, client);
  ssq_gtk_composer_set_conversation (self->composer, client, self->conversation_id,
                                     G_LIST_MODEL (self->messages));
  g_signal_connect_swapped (client, "notify::state", G_CALLBACK (client_changed_cb), self);
  g_signal_connect_swapped (client, "typing", G_CALLBACK (client_changed_cb), self);
  g_signal_connect_swapped (client, "presence", G_CALLBACK (client_changed_cb), self);
  g_signal_connect_swapped (client, "conversation", G_CALLBACK (client_changed_cb), self);
  update_header (self);
}

/* Focus on the view, with a conversation open, is focus on its composer. */
static gboolean
ssq_gtk_conversation_view_grab_focus (GtkWidget *widget)
{
  SsqGtkConversationView *self = SSQ_GTK_CONVERSATION_VIEW (widget);

  if (self->conversation_id != NULL)
    return gtk_widget_grab_focus (GTK_WIDGET (self->composer));
  return GTK_WIDGET_CLASS (ssq_gtk_conversation_view_parent_class)->grab_focus (widget);
}

static void
ssq_gtk_conversation_view_get_property (GObject    *object,
                                        guint       prop_id,
                                        GValue     *value,
                                        GParamSpec *pspec)
{
  SsqGtkConversationView *self = SSQ_GTK_CONVERSATION_VIEW (object);

  switch (prop_id)
    {
    case PROP_FOLDED:
      g_value_set_boolean (value, self->folded);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ssq_gtk_conversation_view_set_property (GObject      *object,
                                        guint         prop_id,
                                        const GValue *value,
                                        GParamSpec   *pspec)
{
  SsqGtkConversationView *self = SSQ_GTK_CONVERSATION_VIEW (object);

  switch (prop_id)
    {
    case PROP_FOLDED:
      if (self->folded != g_value_get_boolean (value))
        {
          self->folded = g_value_get_boolean (value);
          g_object_notify_by_pspec (object, pspec);
        }
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ssq_gtk_conversation_view_dispose (GObject *object)
{
  SsqGtkConversationView *self = SSQ_GTK_CONVERSATION_VIEW (object);

  if (self->client != NULL)
    g_signal_handlers_disconnect_by_data (self->client, self);
  set_messages (self, NULL);
  g_clear_object (&self->client);
  g_clear_pointer (&self->conversation_id, g_free);
  gtk_widget_dispose_template (GTK_WIDGET (self), SSQ_TYPE_GTK_CONVERSATION_VIEW);
  G_OBJECT_CLASS (ssq_gtk_conversation_view_parent_class)->dispose (object);
}

static void
ssq_gtk_conversation_view_class_init (SsqGtkConversationViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = ssq_gtk_conversation_view_dispose;
  object_class->get_property = ssq_gtk_conversation_view_get_property;
  object_class->set_property = ssq_gtk_conversation_view_set_property;
  widget_class->grab_focus = ssq_gtk_conversation_view_grab_focus;

  /**
   * SsqGtkConversationView:folded:
   *
   * The window shows the conversation alone: the header then has a back
   * button and the window's controls on its left.
   */
  properties[PROP_FOLDED] = g_param_spec_boolean ("folded", NULL, NULL, FALSE,
                                                  G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                                  G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * SsqGtkConversationView::go-back:
   *
   * The back button of the folded view was clicked.
   */
  signals[SIGNAL_GO_BACK] = g_signal_new ("go-back", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                          0, NULL, NULL, NULL, G_TYPE_NONE, 0);

  g_type_ensure (SSQ_TYPE_GTK_COMPOSER);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/supersoniq/Supersoniq/ssq-gtk-conversation-view.ui");
  gtk_widget_class_bind_template_child (widget_class, SsqGtkConversationView, title);
  gtk_widget_class_bind_template_child (widget_class, SsqGtkConversationView, offline_banner);
  gtk_widget_class_bind_template_child (widget_class, SsqGtkConversationView, stack);
  gtk_widget_class_bind_template_child (widget_class, SsqGtkConversationView, message_scroller);
  gtk_widget_class_bind_template_child (widget_class, SsqGtkConversationView, message_view);
  gtk_widget_class_bind_template_child (widget_class, SsqGtkConversationView, composer);
  gtk_widget_class_bind_template_callback (widget_class, back_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, edge_reached_cb);
  gtk_widget_class_bind_template_callback (widget_class, scroll_to_bottom_later);
}

static void
ssq_gtk_conversation_view_init (SsqGtkConversationView *self)
{
  g_autoptr(GtkListItemFactory) factory = gtk_signal_list_item_factory_new ();

  gtk_widget_init_template (GTK_WIDGET (self));
  g_signal_connect (factory, "setup", G_CALLBACK (message_setup_cb), self);
  g_signal_connect (factory, "bind", G_CALLBACK (message_bind_cb), self);
  gtk_list_view_set_factory (self->message_view, factory);
  drop_target_init (self);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->message_view), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Messages"), -1);
}
