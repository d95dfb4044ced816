/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-gtk-dialogs.c: the dialogs, on AdwMessageDialog and
 * AdwPreferencesWindow (both in libadwaita 1.2). */
#include "ssq-config.h"
#include "ssq-gtk-dialogs.h"

#include <glib/gi18n.h>

#include "ssq-gtk-application.h"

typedef struct {
  SsqGtkWindow *window;
  GtkWidget    *entry;
  GtkWidget    *second;
  GtkWidget    *results;
} Dialog;

static void
dialog_free (gpointer data)
{
  Dialog *d = data;

  g_object_unref (d->window);
  g_free (d);
}

static void
conversation_done (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(SsqGtkWindow) window = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(SsqConversation) c = ssq_client_conversation_finish (SSQ_CLIENT (source), result, &error);

  if (c == NULL)
    ssq_gtk_window_toast (window, error->message);
  else
    ssq_gtk_window_select (window, ssq_conversation_get_id (c));
}

static void
users_found (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  Dialog *d = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) users = ssq_client_search_users_finish (SSQ_CLIENT (source), result, &error);
  g_autoptr(GString) text = g_string_new (NULL);

  if (users == NULL || d->results == NULL)
    return;
  for (guint i = 0; i < users->len && i < 8; i++)
    g_string_append_printf (text, "%s%s (%s)", i ? "\n" : "", ssq_user_get_username (users->pdata[i]),
                            ssq_user_get_display_name (users->pdata[i]));
  gtk_label_set_text (GTK_LABEL (d->results), text->len ? text->str : _("Nobody by that name"));
}

static void
user_search_changed_cb (GtkEditable *entry,
                        Dialog      *d)
{
  SsqClient *client = ssq_gtk_window_get_client (d->window);
  const char *text = gtk_editable_get_text (entry);

  if (client != NULL && *text != '\0')
    ssq_client_search_users_async (client, text, 8, NULL, users_found, d);
}

static GtkWidget *
entry_with (const char *placeholder,
            const char *accessible)
{
  GtkWidget *entry = gtk_entry_new ();

  gtk_entry_set_placeholder_text (GTK_ENTRY (entry), placeholder);
  gtk_entry_set_activates_default (GTK_ENTRY (entry), TRUE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (entry), GTK_ACCESSIBLE_PROPERTY_LABEL, accessible, -1);
  return entry;
}

static void
direct_response_cb (AdwMessageDialog *dialog,
                    const char       *response,
                    Dialog           *d)
{
  SsqClient *client = ssq_gtk_window_get_client (d->window);
  g_autofree char *name = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (d->entry))));

  d->results = NULL;
  if (g_strcmp0 (response, "open") == 0 && client != NULL && *name != '\0')
    ssq_client_create_direct_async (client, name, NULL, conversation_done, g_object_ref (d->window));
}

void
ssq_gtk_dialog_new_direct (SsqGtkWindow *window)
{
  GtkWidget *dialog = adw_message_dialog_new (GTK_WINDOW (window), _("New Direct Conversation"),
                                              _("Whom do you want to write to?"));
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  Dialog *d = g_new0 (Dialog, 1);

  d->window = g_object_ref (window);
  d->entry = entry_with (_("Username"), _("Username"));
  d->results = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (d->results), 0);
  gtk_widget_add_css_class (d->results, "dim-label");
  gtk_box_append (GTK_BOX (box), d->entry);
  gtk_box_append (GTK_BOX (box), d->results);
  g_signal_connect (d->entry, "changed", G_CALLBACK (user_search_changed_cb), d);
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), box);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog), "cancel", _("_Cancel"), "open", _("_Open"), NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "open", ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "open");
  g_signal_connect_data (dialog, "response", G_CALLBACK (direct_response_cb), d,
                         (GClosureNotify) (void (*) (void)) dialog_free, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
group_response_cb (AdwMessageDialog *dialog,
                   const char       *response,
                   Dialog           *d)
{
  SsqClient *client = ssq_gtk_window_get_client (d->window);
  const char *title = gtk_editable_get_text (GTK_EDITABLE (d->entry));
  g_auto(GStrv) members = g_strsplit_set (gtk_editable_get_text (GTK_EDITABLE (d->second)), " ,;", -1);
  g_autoptr(GStrvBuilder) names = g_strv_builder_new ();
  g_auto(GStrv) list = NULL;

  if (g_strcmp0 (response, "create") != 0 || client == NULL || *title == '\0')
    return;
  for (guint i = 0; members[i] != NULL; i++)
    if (members[i][0] != '\0')
      g_strv_builder_add (names, members[i]);
  list = g_strv_builder_end (names);
  ssq_client_create_group_async (client, title, (const char *const *) list, NULL, conversation_done,
                                 g_object_ref (d->window));
}

void
ssq_gtk_dialog_new_group (SsqGtkWindow *window)
{
  GtkWidget *dialog = adw_message_dialog_new (GTK_WINDOW (window), _("New Group"),
                                              _("Name the group and who is in it."));
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  Dialog *d = g_new0 (Dialog, 1);

  d->window = g_object_ref (window);
  d->entry = entry_with (_("Title"), _("Title"));
  d->second = entry_with (_("Members, e.g. alice bob"), _("Members"));
  gtk_box_append (GTK_BOX (box), d->entry);
  gtk_box_append (GTK_BOX (box), d->second);
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), box);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog), "cancel", _("_Cancel"),
                                    "create", _("C_reate"), NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "create", ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "create");
  g_signal_connect_data (dialog, "response", G_CALLBACK (group_response_cb), d,
                         (GClosureNotify) (void (*) (void)) dialog_free, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* Details. */

typedef struct {
  SsqGtkWindow *window;
  char         *conversation_id;
  GtkWidget    *dialog;
} Details;

static void
details_free (gpointer data)
{
  Details *d = data;

  g_object_unref (d->window);
  g_free (d->conversation_id);
  g_free (d);
}

static void
changed_done (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(SsqGtkWindow) window = user_data;
  g_autoptr(GError) error = NULL;

  if (g_task_get_source_tag (G_TASK (result)) == ssq_client_conversation_finish)
    {
      g_autoptr(SsqConversation) c = ssq_client_conversation_finish (SSQ_CLIENT (source), result, &error);
    }
  else
    ssq_client_remove_member_finish (SSQ_CLIENT (source), result, &error);
  if (error != NULL)
    ssq_gtk_window_toast (window, error->message);
}

static void
rename_cb (AdwEntryRow *row,
           Details     *d)
{
  ssq_client_update_conversation_async (ssq_gtk_window_get_client (d->window), d->conversation_id,
                                        gtk_editable_get_text (GTK_EDITABLE (row)), -1, NULL,
                                        changed_done, g_object_ref (d->window));
}

static void
add_member_cb (AdwEntryRow *row,
               Details     *d)
{
  ssq_client_add_member_async (ssq_gtk_window_get_client (d->window), d->conversation_id,
                               gtk_editable_get_text (GTK_EDITABLE (row)), NULL, NULL,
                               changed_done, g_object_ref (d->window));
  gtk_window_close (GTK_WINDOW (d->dialog));
}

static void
mute_cb (GtkSwitch  *toggle,
         GParamSpec *pspec,
         Details    *d)
{
  ssq_client_update_conversation_async (ssq_gtk_window_get_client (d->window), d->conversation_id, NULL,
                                        gtk_switch_get_active (toggle) ? 1 : 0, NULL,
                                        changed_done, g_object_ref (d->window));
}

static void
remove_clicked_cb (GtkButton *button,
                   Details   *d)
{
  const char *username = g_object_get_data (G_OBJECT (button), "username");

  ssq_client_remove_member_async (ssq_gtk_window_get_client (d->window), d->conversation_id, username,
                                  NULL, changed_done, g_object_ref (d->window));
  gtk_window_close (GTK_WINDOW (d->dialog));
}

static const char *
role_name (const char *role)
{
  if (g_strcmp0 (role, "owner") == 0)
    return _("Owner");
  if (g_strcmp0 (role, "admin") == 0)
    return _("Admin");
  return _("Member");
}

void
ssq_gtk_dialog_details (SsqGtkWindow *window,
                        const char   *conversation_id)
{
  SsqClient *client = ssq_gtk_window_get_client (window);
  g_autoptr(SsqConversation) c = ssq_cache_get_conversation (ssq_client_get_cache (client), conversation_id);
  GtkWidget *dialog, *page, *general, *people, *row, *toggle;
  GListModel *members;
  const char *my_role;
  gboolean manage;
  Details *d;

  if (c == NULL)
    return;
  my_role = ssq_conversation_get_role (c);
  manage = !ssq_conversation_is_direct (c) &&
           (g_strcmp0 (my_role, "owner") == 0 || g_strcmp0 (my_role, "admin") == 0);
  dialog = adw_preferences_window_new ();
  gtk_window_set_transient_for (GTK_WINDOW (dialog), GTK_WINDOW (window));
  gtk_window_set_modal (GTK_WINDOW (dialog), TRUE);
  gtk_window_set_title (GTK_WINDOW (dialog), ssq_conversation_get_display_title (c));
  adw_preferences_window_set_search_enabled (ADW_PREFERENCES_WINDOW (dialog), FALSE);
  d = g_new0 (Details, 1);
  d->window = g_object_ref (window);
  d->conversation_id = g_strdup (conversation_id);
  d->dialog = dialog;
  g_object_set_data_full (G_OBJECT (dialog), "details", d, details_free);

  page = adw_preferences_page_new ();
  general = adw_preferences_group_new ();
  if (manage)
    {
      row = adw_entry_row_new ();
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), _("Title"));
      gtk_editable_set_text (GTK_EDITABLE (row), ssq_conversation_get_title (c));
      adw_entry_row_set_show_apply_button (ADW_ENTRY_ROW (row), TRUE);
      g_signal_connect (row, "apply", G_CALLBACK (rename_cb), d);
      adw_preferences_group_add (ADW_PREFERENCES_GROUP (general), row);
    }
  row = adw_action_row_new ();
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), _("Mute"));
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), _("No notifications from this conversation"));
  toggle = gtk_switch_new ();
  gtk_widget_set_valign (toggle, GTK_ALIGN_CENTER);
  gtk_switch_set_active (GTK_SWITCH (toggle), ssq_conversation_get_muted (c));
  g_signal_connect (toggle, "notify::active", G_CALLBACK (mute_cb), d);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), toggle);
  adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), toggle);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (general), row);
  adw_preferences_page_add (ADW_PREFERENCES_PAGE (page), ADW_PREFERENCES_GROUP (general));

  people = adw_preferences_group_new ();
  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (people), _("Members"));
  members = ssq_conversation_get_members (c);
  for (guint i = 0; i < g_list_model_get_n_items (members); i++)
    {
      g_autoptr(SsqMember) m = g_list_model_get_item (members, i);
      gboolean me = g_strcmp0 (ssq_member_get_user_id (m), ssq_client_get_user_id (client)) == 0;

      row = adw_action_row_new ();
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), ssq_member_get_display_name (m));
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), role_name (ssq_member_get_role (m)));
      if (!ssq_conversation_is_direct (c) && (me || manage))
        {
          GtkWidget *button = gtk_button_new_with_mnemonic (me ? _("_Leave") : _("_Remove"));

          gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
          gtk_widget_add_css_class (button, "destructive-action");
          g_object_set_data_full (G_OBJECT (button), "username", g_strdup (ssq_member_get_username (m)), g_free);
          g_signal_connect (button, "clicked", G_CALLBACK (remove_clicked_cb), d);
          adw_action_row_add_suffix (ADW_ACTION_ROW (row), button);
        }
      adw_preferences_group_add (ADW_PREFERENCES_GROUP (people), row);
    }
  if (manage)
    {
      row = adw_entry_row_new ();
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), _("Add a member by username"));
      adw_entry_row_set_show_apply_button (ADW_ENTRY_ROW (row), TRUE);
      g_signal_connect (row, "apply", G_CALLBACK (add_member_cb), d);
      adw_preferences_group_add (ADW_PREFERENCES_GROUP (people), row);
    }
  adw_preferences_page_add (ADW_PREFERENCES_PAGE (page), ADW_PREFERENCES_GROUP (people));
  adw_preferences_window_add (ADW_PREFERENCES_WINDOW (dialog), ADW_PREFERENCES_PAGE (page));
  gtk_window_present (GTK_WINDOW (dialog));
}

/* Preferences. */

static void
scheme_changed_cb (AdwComboRow *row,
                   GParamSpec  *pspec,
                   GSettings   *settings)
{
  static const char *const schemes[] = { "default", "light", "dark" };
  guint i = adw_combo_row_get_selected (row);

  if (i < G_N_ELEMENTS (schemes))
    g_settings_set_string (settings, "color-scheme", schemes[i]);
}

void
ssq_gtk_dialog_preferences (GtkWindow *parent,
                            GSettings *settings)
{
  GtkWidget *dialog = adw_preferences_window_new ();
  GtkWidget *page = adw_preferences_page_new ();
  GtkWidget *group = adw_preferences_group_new ();
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *toggle = gtk_switch_new ();
  GtkWidget *scheme = adw_combo_row_new ();
  const char *const names[] = { _("Follow the System"), _("Light"), _("Dark"), NULL };
  g_autoptr(GtkStringList) list = gtk_string_list_new (names);
  g_autofree char *current = NULL;

  gtk_window_set_transient_for (GTK_WINDOW (dialog), parent);
  adw_preferences_window_set_search_enabled (ADW_PREFERENCES_WINDOW (dialog), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), _("Notifications"));
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), _("For messages in conversations you are not looking at"));
  gtk_widget_set_valign (toggle, GTK_ALIGN_CENTER);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), toggle);
  adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), toggle);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), row);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (scheme), _("Style"));
  adw_combo_row_set_model (ADW_COMBO_ROW (scheme), G_LIST_MODEL (list));
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), scheme);
  if (settings != NULL)
    {
      g_settings_bind (settings, "notifications", toggle, "active", G_SETTINGS_BIND_DEFAULT);
      current = g_settings_get_string (settings, "color-scheme");
      adw_combo_row_set_selected (ADW_COMBO_ROW (scheme),
                                  g_strcmp0 (current, "light") == 0 ? 1 : g_strcmp0 (current, "dark") == 0 ? 2 : 0);
      g_signal_connect_object (scheme, "notify::selected", G_CALLBACK (scheme_changed_cb), settings, 0);
    }
  adw_preferences_page_add (ADW_PREFERENCES_PAGE (page), ADW_PREFERENCES_GROUP (group));
  adw_preferences_window_add (ADW_PREFERENCES_WINDOW (dialog), ADW_PREFERENCES_PAGE (page));
  gtk_window_present (GTK_WINDOW (dialog));
}
