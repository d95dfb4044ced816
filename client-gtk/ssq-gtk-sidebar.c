/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-gtk-sidebar.c: the conversation list, a GtkListView over the client
 * library's SsqConversationList through a search filter. It highlights
 * the conversation the window has open, wherever activity moves it, and
 * says so when that conversation is gone for good. */
#include "ssq-config.h"
#include "ssq-gtk-sidebar.h"

#include <glib/gi18n.h>

#include "ssq-conversation-list.h"
#include "ssq-gtk-rows.h"

struct _SsqGtkSidebar
{
  GtkBox               parent_instance;

  /* Template children. */
  AdwWindowTitle      *account_title;
  GtkSearchEntry      *search_entry;
  GtkListView         *conversation_view;
  GtkWidget           *new_button;
  GtkWidget           *menu_button;

  SsqClient           *client;
  SsqConversationList *conversations;
  GtkFilterListModel  *filtered;
  GtkSingleSelection  *selection;
  char                *selected_id;
  gboolean             folded;
  guint                list_check_source;
};

G_DEFINE_FINAL_TYPE (SsqGtkSidebar, ssq_gtk_sidebar, GTK_TYPE_BOX)

enum {
  PROP_0,
  PROP_FOLDED,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  SIGNAL_CONVERSATION_ACTIVATED,
  SIGNAL_SELECTED_REMOVED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

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

/* The highlight follows the open conversation, wherever activity has
 * moved it in the list. */
static void
sync_selection (SsqGtkSidebar *self)
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

/**
 * ssq_gtk_sidebar_set_selected:
 * @self: the sidebar
 * @conversation_id: (nullable): the conversation the window has open
 *
 * Highlights the open conversation, now and as the list changes.
 */
void
ssq_gtk_sidebar_set_selected (SsqGtkSidebar *self,
                              const char    *conversation_id)
{
  g_return_if_fail (SSQ_IS_GTK_SIDEBAR (self));

  if (g_strcmp0 (self->selected_id, conversation_id) != 0)
    {
      g_free (self->selected_id);
      self->selected_id = g_strdup (conversation_id);
    }
  sync_selection (self);
}

/**
 * ssq_gtk_sidebar_get_neighbour:
 * @self: the sidebar
 * @step: -1 for the conversation above the highlighted one, 1 for the one below
 *
 * The list wraps around; with nothing highlighted, the first conversation.
 *
 * Returns: (transfer full) (nullable): its id, or %NULL if the list is empty
 */
char *
ssq_gtk_sidebar_get_neighbour (SsqGtkSidebar *self,
                               int            step)
{
  guint n, at;
  g_autoptr(SsqConversation) next = NULL;

  g_return_val_if_fail (SSQ_IS_GTK_SIDEBAR (self), NULL);

  n = self->selection ? g_list_model_get_n_items (G_LIST_MODEL (self->selection)) : 0;
  if (n == 0)
    return NULL;
  at = gtk_single_selection_get_selected (self->selection);
  if (at == GTK_INVALID_LIST_POSITION)
    at = 0;
  else
    at = (at + n + (guint) (step < 0 ? -1 : 1)) % n;
  next = g_list_model_get_item (G_LIST_MODEL (self->selection), at);
  return g_strdup (ssq_conversation_get_id (next));
}

void
ssq_gtk_sidebar_focus_search (SsqGtkSidebar *self)
{
  g_return_if_fail (SSQ_IS_GTK_SIDEBAR (self));

  gtk_widget_grab_focus (GTK_WIDGET (self->search_entry));
}

static void
conversation_activated_cb (SsqGtkSidebar *self,
                           guint          position)
{
  g_autoptr(SsqConversation) c = g_list_model_get_item (G_LIST_MODEL (self->selection), position);

  if (c != NULL)
    g_signal_emit (self, signals[SIGNAL_CONVERSATION_ACTIVATED], 0, ssq_conversation_get_id (c));
}

static void
search_changed_cb (SsqGtkSidebar *self)
{
  GtkFilter *filter;

  if (self->filtered == NULL)
    return;
  filter = gtk_filter_list_model_get_filter (self->filtered);
  gtk_string_filter_set_search (GTK_STRING_FILTER (filter),
                                gtk_editable_get_text (GTK_EDITABLE (self->search_entry)));
}

static void
conversation_setup_cb (GtkSignalListItemFactory *factory,
                       GtkListItem              *item,
                       SsqGtkSidebar            *self)
{
  gtk_list_item_set_child (item, ssq_gtk_conversation_row_new ());
}

static void
conversation_bind_cb (GtkSignalListItemFactory *factory,
                      GtkListItem              *item,
                      SsqGtkSidebar            *self)
{
  ssq_gtk_conversation_row_bind (SSQ_GTK_CONVERSATION_ROW (gtk_list_item_get_child (item)), self->client,
                                 gtk_list_item_get_item (item));
}

/* Once the list has settled: the open conversation is gone for good (left,
 * removed) or still there. A conversation that moves is removed and then
 * added again in two signals, so the first alone proves nothing. */
static gboolean
list_check_cb (gpointer user_data)
{
  SsqGtkSidebar *self = user_data;

  self->list_check_source = 0;
  if (self->selected_id != NULL && self->conversations != NULL &&
      ssq_conversation_list_find (self->conversations, self->selected_id) < 0)
    g_signal_emit (self, signals[SIGNAL_SELECTED_REMOVED], 0);
  else
    sync_selection (self);
  return G_SOURCE_REMOVE;
}

static void
conversations_changed_cb (GListModel    *model,
                          guint          position,
                          guint          removed,
                          guint          added,
                          SsqGtkSidebar *self)
{
  /* Only the highlight follows: re-selecting would take the focus and, on
   * a narrow window, the view away from wherever the user is. This runs
   * on the selection model's own signal, after the filter and the
   * selection have taken the change in: run earlier (on the list's
   * signal), it would find the old positions, and the selection would
   * then drop the item as it is replaced or moved. */
  sync_selection (self);
  if (self->list_check_source == 0)
    self->list_check_source = g_idle_add (list_check_cb, self);
}

/* What the search matches. The closure's marshaller takes the string it
 * returns (g_value_take_string) and frees it: handing it the snapshot's
 * own title freed that title under every row the search looked at. */
static char *
conversation_title (SsqConversation *conversation)
{
  return g_strdup (ssq_conversation_get_display_title (conversation));
}

/**
 * ssq_gtk_sidebar_set_client:
 * @self: the sidebar
 * @client: the session's client
 *
 * Lists the conversations of another session's client.
 */
void
ssq_gtk_sidebar_set_client (SsqGtkSidebar *self,
                            SsqClient     *client)
{
  GtkExpression *title;
  GtkStringFilter *filter;
  g_autofree char *account = NULL;

  g_return_if_fail (SSQ_IS_GTK_SIDEBAR (self));
  g_return_if_fail (SSQ_IS_CLIENT (client));

  g_set_object (&self->client, client);
  gtk_editable_set_text (GTK_EDITABLE (self->search_entry), "");
  g_clear_object (&self->conversations);
  self->conversations = ssq_conversation_list_new (client);
  title = gtk_cclosure_expression_new (G_TYPE_STRING, NULL, 0, NULL,
                                       G_CALLBACK (conversation_title), NULL, NULL);
  filter = gtk_string_filter_new (title);
  self->filtered = gtk_filter_list_model_new (G_LIST_MODEL (g_object_ref (self->conversations)),
                                              GTK_FILTER (filter));
  self->selection = gtk_single_selection_new (G_LIST_MODEL (self->filtered));
  gtk_single_selection_set_autoselect (self->selection, FALSE);
  gtk_single_selection_set_can_unselect (self->selection, TRUE);
  gtk_single_selection_set_selected (self->selection, GTK_INVALID_LIST_POSITION);
  /* After: the list view (connected below, by set_model) must have taken
   * the change in before the highlight moves. Run first, set_selected()
   * made the view handle selection-changed for rows it had not yet
   * updated, and GTK 4.8 crashed on a NULL row (gtk-notify, 1 run in 2
   * under ASan). */
  g_signal_connect_object (self->selection, "items-changed", G_CALLBACK (conversations_changed_cb), self,
                           G_CONNECT_AFTER);
  /* The list view holds the selection, which holds the filter model. */
  gtk_list_view_set_model (self->conversation_view, GTK_SELECTION_MODEL (self->selection));
  g_object_unref (self->selection);
  account = g_strdup_printf ("%s — %s", ssq_client_get_username (client), ssq_client_get_server_url (client));
  adw_window_title_set_subtitle (self->account_title, account);
}

static void
ssq_gtk_sidebar_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  SsqGtkSidebar *self = SSQ_GTK_SIDEBAR (object);

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
ssq_gtk_sidebar_set_property (GObject      *object,
                              guint         prop_id,
                              const GValue *value,
                              GParamSpec   *pspec)
{
  SsqGtkSidebar *self = SSQ_GTK_SIDEBAR (object);

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
ssq_gtk_sidebar_dispose (GObject *object)
{
  SsqGtkSidebar *self = SSQ_GTK_SIDEBAR (object);

  g_clear_handle_id (&self->list_check_source, g_source_remove);
  g_clear_object (&self->conversations);
  g_clear_object (&self->client);
  g_clear_pointer (&self->selected_id, g_free);
  gtk_widget_dispose_template (GTK_WIDGET (self), SSQ_TYPE_GTK_SIDEBAR);
  self->selection = NULL;
  self->filtered = NULL;
  G_OBJECT_CLASS (ssq_gtk_sidebar_parent_class)->dispose (object);
}

static void
ssq_gtk_sidebar_class_init (SsqGtkSidebarClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = ssq_gtk_sidebar_dispose;
  object_class->get_property = ssq_gtk_sidebar_get_property;
  object_class->set_property = ssq_gtk_sidebar_set_property;

  /**
   * SsqGtkSidebar:folded:
   *
   * The window shows the sidebar alone: its header then has the window's
   * controls on its right.
   */
  properties[PROP_FOLDED] = g_param_spec_boolean ("folded", NULL, NULL, FALSE,
                                                  G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                                  G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * SsqGtkSidebar::conversation-activated:
   * @conversation_id: the conversation the user picked
   */
  signals[SIGNAL_CONVERSATION_ACTIVATED] = g_signal_new ("conversation-activated", G_TYPE_FROM_CLASS (klass),
                                                         G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                                         G_TYPE_NONE, 1, G_TYPE_STRING);
  /**
   * SsqGtkSidebar::selected-removed:
   *
   * The highlighted conversation left the list for good (the user left
   * it, or was removed from it).
   */
  signals[SIGNAL_SELECTED_REMOVED] = g_signal_new ("selected-removed", G_TYPE_FROM_CLASS (klass),
                                                   G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);

  gtk_widget_class_set_template_from_resource (widget_class, "/org/supersoniq/Supersoniq/ssq-gtk-sidebar.ui");
  gtk_widget_class_bind_template_child (widget_class, SsqGtkSidebar, account_title);
  gtk_widget_class_bind_template_child (widget_class, SsqGtkSidebar, search_entry);
  gtk_widget_class_bind_template_child (widget_class, SsqGtkSidebar, conversation_view);
  gtk_widget_class_bind_template_child (widget_class, SsqGtkSidebar, new_button);
  gtk_widget_class_bind_template_child (widget_class, SsqGtkSidebar, menu_button);
  gtk_widget_class_bind_template_callback (widget_class, search_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, conversation_activated_cb);
}

static void
ssq_gtk_sidebar_init (SsqGtkSidebar *self)
{
  g_autoptr(GtkListItemFactory) factory = gtk_signal_list_item_factory_new ();

  gtk_widget_init_template (GTK_WIDGET (self));
  label_menu_button (self->new_button);
  label_menu_button (self->menu_button);
  g_signal_connect (factory, "setup", G_CALLBACK (conversation_setup_cb), self);
  g_signal_connect (factory, "bind", G_CALLBACK (conversation_bind_cb), self);
  gtk_list_view_set_factory (self->conversation_view, factory);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->conversation_view), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Conversations"), -1);
}
