/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-gtk-test-util.c: helpers the desktop client's tests share (see the
 * header). */
#include "ssq-gtk-test-util.h"

#include <glib/gstdio.h>

#define WAIT_MS 10000

/* The widget as it is drawn now, or NULL while it has nothing to draw
 * (between a resize and the next frame). */
static GskRenderNode *
draw_now (GtkWidget *widget,
          int        width,
          int        height)
{
  g_autoptr(GdkPaintable) paintable = gtk_widget_paintable_new (widget);
  GtkSnapshot *snapshot = gtk_snapshot_new ();

  gdk_paintable_snapshot (paintable, snapshot, width, height);
  return gtk_snapshot_free_to_node (snapshot);
}

/* @widget as drawn now, to a PNG at @path; FALSE when no frame came
 * (between a resize and the next frame, on a slow machine). */
gboolean
ssq_gtk_test_render_png (GtkWidget  *widget,
                         const char *path)
{
  g_autoptr(GdkTexture) texture = NULL;
  GskRenderNode *node = NULL;
  int width = 0, height = 0;

  ssq_test_wait_ms (400);   /* let transitions and layout settle */
  for (int attempt = 0; attempt < 30 && node == NULL; attempt++)
    {
      width = gtk_widget_get_width (widget);
      height = gtk_widget_get_height (widget);
      if (width > 0 && height > 0)
        node = draw_now (widget, width, height);
      if (node == NULL)
        ssq_test_wait_ms (100);
    }
  if (node == NULL)
    return FALSE;
  texture = gsk_renderer_render_texture (gtk_native_get_renderer (GTK_NATIVE (widget)), node,
                                         &GRAPHENE_RECT_INIT (0, 0, width, height));
  gsk_render_node_unref (node);
  return gdk_texture_save_to_png (texture, path);
}

/* Screenshots are for people to look at, not assertions: on a slow
 * machine a frame may not be ready, and then this one is skipped. */
void
ssq_gtk_test_screenshot (GtkWidget  *widget,
                         const char *name)
{
  const char *dir = g_getenv ("SSQ_SCREENSHOT_DIR");
  g_autofree char *path = NULL;

  if (dir == NULL)
    return;
  g_mkdir_with_parents (dir, 0755);
  path = g_build_filename (dir, name, NULL);
  if (!ssq_gtk_test_render_png (widget, path))
    g_test_message ("no frame for %s; screenshot skipped", name);
}

/* A key press as a key controller of @widget in the capture phase (the
 * composer's) receives it. Returns whether one handled it. */
gboolean
ssq_gtk_test_press (GtkWidget       *widget,
                    guint            keyval,
                    GdkModifierType  state)
{
  g_autoptr(GListModel) controllers = gtk_widget_observe_controllers (widget);
  gboolean handled = FALSE;

  for (guint i = 0; i < g_list_model_get_n_items (controllers) && !handled; i++)
    {
      g_autoptr(GtkEventController) controller = g_list_model_get_item (controllers, i);

      if (GTK_IS_EVENT_CONTROLLER_KEY (controller) &&
          gtk_event_controller_get_propagation_phase (controller) == GTK_PHASE_CAPTURE)
        g_signal_emit_by_name (controller, "key-pressed", keyval, 0, state, &handled);
    }
  return handled;
}

/* The first widget under @widget (itself included) of @type; a button
 * also with @label, unless that is NULL. */
GtkWidget *
ssq_gtk_test_find_by_type (GtkWidget *widget,
                           GType      type,
                           const char *label)
{
  if (G_TYPE_CHECK_INSTANCE_TYPE (widget, type) &&
      (label == NULL || (GTK_IS_BUTTON (widget) && g_strcmp0 (gtk_button_get_label (GTK_BUTTON (widget)), label) == 0)))
    return widget;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child; child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = ssq_gtk_test_find_by_type (child, type, label);

      if (found != NULL)
        return found;
    }
  return NULL;
}

/* Every icon-only button, and the search entry, has a name a screen
 * reader can say (without one it says "GtkImage"). Returns how many
 * lack one, each reported. */
guint
ssq_gtk_test_count_unnamed (GtkWidget *widget)
{
  guint missing = 0;
  gboolean icon_only = GTK_IS_BUTTON (widget) && gtk_button_get_label (GTK_BUTTON (widget)) == NULL &&
                       GTK_IS_IMAGE (gtk_button_get_child (GTK_BUTTON (widget)));

  if ((icon_only || GTK_IS_MENU_BUTTON (widget) || GTK_IS_SEARCH_ENTRY (widget)) &&
      !gtk_test_accessible_has_property (GTK_ACCESSIBLE (widget), GTK_ACCESSIBLE_PROPERTY_LABEL))
    {
      g_test_message ("no accessible name: %s (tooltip %s)", G_OBJECT_TYPE_NAME (widget),
                      gtk_widget_get_tooltip_text (widget));
      missing++;
    }
  /* Not into libadwaita's entry rows: their inner buttons (apply, show
   * text) are the library's, not ours to name. */
  if (ADW_IS_ENTRY_ROW (widget))
    return missing;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child; child = gtk_widget_get_next_sibling (child))
    missing += ssq_gtk_test_count_unnamed (child);
  return missing;
}

/* Every label's text under @widget, one a line. */
void
ssq_gtk_test_collect_labels (GtkWidget *widget,
                             GString   *out)
{
  if (GTK_IS_LABEL (widget))
    g_string_append_printf (out, "%s\n", gtk_label_get_text (GTK_LABEL (widget)));
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child; child = gtk_widget_get_next_sibling (child))
    ssq_gtk_test_collect_labels (child, out);
}

/* The button under @widget whose tooltip is @tooltip. */
GtkWidget *
ssq_gtk_test_find_by_tooltip (GtkWidget  *widget,
                              const char *tooltip)
{
  if (GTK_IS_BUTTON (widget) && g_strcmp0 (gtk_widget_get_tooltip_text (widget), tooltip) == 0)
    return widget;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child; child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = ssq_gtk_test_find_by_tooltip (child, tooltip);

      if (found != NULL)
        return found;
    }
  return NULL;
}

/* A one-byte file @name in @dir. */
GFile *
ssq_gtk_test_make_file (const char *dir,
                        const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);

  g_assert_true (g_file_set_contents (path, "x", 1, NULL));
  return g_file_new_for_path (path);
}


/* A key press as @widget's shortcuts see it (class key bindings
 * included): the first shortcut triggered by @keyval with @state is
 * activated. Returns whether there was one. */
gboolean
ssq_gtk_test_shortcut (GtkWidget       *widget,
                       guint            keyval,
                       GdkModifierType  state)
{
  g_autoptr(GListModel) controllers = gtk_widget_observe_controllers (widget);

  for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
    {
      g_autoptr(GtkEventController) controller = g_list_model_get_item (controllers, i);

      if (!GTK_IS_SHORTCUT_CONTROLLER (controller))
        continue;
      for (guint k = 0; k < g_list_model_get_n_items (G_LIST_MODEL (controller)); k++)
        {
          g_autoptr(GtkShortcut) shortcut = g_list_model_get_item (G_LIST_MODEL (controller), k);
          GtkShortcutTrigger *trigger = gtk_shortcut_get_trigger (shortcut);

          if (GTK_IS_KEYVAL_TRIGGER (trigger) &&
              gtk_keyval_trigger_get_keyval (GTK_KEYVAL_TRIGGER (trigger)) == keyval &&
              gtk_keyval_trigger_get_modifiers (GTK_KEYVAL_TRIGGER (trigger)) == state)
            return gtk_shortcut_action_activate (gtk_shortcut_get_action (shortcut), 0, widget,
                                                 gtk_shortcut_get_arguments (shortcut));
        }
    }
  return FALSE;
}

void
ssq_gtk_test_assert_same_bytes (const char *a,
                                const char *b)
{
  g_autofree char *da = NULL, *db = NULL;
  gsize la = 0, lb = 0;

  g_assert_true (g_file_get_contents (a, &da, &la, NULL));
  g_assert_true (g_file_get_contents (b, &db, &lb, NULL));
  g_assert_cmpmem (da, la, db, lb);
}

char *
ssq_gtk_test_make_home (const char *tmpl)
{
  char *root = g_dir_make_tmp (tmpl, NULL);
  g_autofree char *data = g_build_filename (root, "data", NULL);
  g_autofree char *config = g_build_filename (root, "config", NULL);
  g_autofree char *keyring = g_build_filename (root, "keyring", NULL);

  g_assert_nonnull (root);
  g_setenv ("XDG_CACHE_HOME", root, TRUE);
  g_setenv ("XDG_DATA_HOME", data, TRUE);
  g_setenv ("XDG_CONFIG_HOME", config, TRUE);
  /* A keyring of its own: GTK tests run in parallel, and libsecret's file
   * backend rewrites its one file whole. Shared, two tests' sessions went
   * missing under each other (gtk-notify: the stored session not found,
   * 1 run in 2 with two at once). */
  g_setenv ("SECRET_FILE_TEST_PATH", keyring, TRUE);
  return root;
}

int
ssq_gtk_test_main (int          *argc,
                   char       ***argv,
                   const char   *home_tmpl,
                   const char   *path,
                   GTestFunc     func)
{
  g_autofree char *home = ssq_gtk_test_make_home (home_tmpl);
  int code;

  gtk_test_init (argc, argv, NULL);
  adw_init ();
  g_test_add_func (path, func);
  code = g_test_run ();
  ssq_test_remove_tree (home);
  return code;
}

void
ssq_gtk_test_set_user_dir (const char *root,
                           const char *key,
                           const char *name)
{
  g_autofree char *dir = g_build_filename (root, name, NULL);
  g_autofree char *config = g_build_filename (root, "config", NULL);
  g_autofree char *dirs = g_build_filename (config, "user-dirs.dirs", NULL);
  g_autofree char *dirs_text = g_strdup_printf ("%s=\"%s\"\n", key, dir);

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (config, 0700), ==, 0);
  g_assert_true (g_file_set_contents (dirs, dirs_text, -1, NULL));
}

static gboolean
synced (gpointer data)
{
  return ssq_client_is_synced (data);
}

SsqClient *
ssq_gtk_test_client (SsqTestServer *server,
                     const char    *root,
                     const char    *username,
                     gboolean       connect)
{
  g_autofree char *dir = root != NULL ? g_build_filename (root, username, NULL) : NULL;
  SsqClient *client = ssq_client_new (server->url, dir);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  ssq_client_register_async (client, username, "password123", NULL, NULL, ssq_test_store_result, &result);
  g_assert_nonnull (ssq_test_wait_result (&result, WAIT_MS));
  g_assert_true (ssq_client_register_finish (client, result, &error));
  if (connect)
    {
      ssq_client_connect (client);
      g_assert_true (ssq_test_wait_until (synced, client, WAIT_MS));
    }
  return client;
}

SsqConversation *
ssq_gtk_test_direct (SsqClient  *from,
                     const char *to)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  SsqConversation *dm;

  ssq_client_create_direct_async (from, to, NULL, ssq_test_store_result, &result);
  g_assert_nonnull (ssq_test_wait_result (&result, WAIT_MS));
  dm = ssq_client_conversation_finish (from, result, &error);
  g_assert_no_error (error);
  return dm;
}

void
ssq_gtk_test_send_text (SsqClient  *from,
                        const char *conversation_id,
                        const char *body)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SsqMessage) pending = ssq_client_send_message (from, conversation_id, body, 0, &error);

  g_assert_no_error (error);
  g_assert_nonnull (pending);
}

SsqGtkWindow *
ssq_gtk_test_open_window (SsqGtkApplication *app,
                          SsqClient         *client,
                          const char        *conversation_id)
{
  SsqGtkWindow *window = ssq_gtk_window_new (ADW_APPLICATION (app));

  gtk_window_set_default_size (GTK_WINDOW (window), 1000, 700);
  gtk_window_present (GTK_WINDOW (window));
  ssq_gtk_window_set_client (window, client);
  ssq_test_wait_ms (300);
  ssq_gtk_window_select (window, conversation_id);
  ssq_test_wait_ms (300);
  return window;
}

typedef struct {
  GType      type;
  GtkWindow *found;
} Toplevel;

static gboolean
toplevel_open (gpointer data)
{
  Toplevel *t = data;
  GListModel *toplevels = gtk_window_get_toplevels ();

  for (guint i = 0; i < g_list_model_get_n_items (toplevels) && t->found == NULL; i++)
    {
      g_autoptr(GtkWidget) w = g_list_model_get_item (toplevels, i);

      if (G_TYPE_CHECK_INSTANCE_TYPE (w, t->type) && gtk_widget_get_visible (w))
        t->found = GTK_WINDOW (w);
    }
  return t->found != NULL;
}

/* Generous: a file chooser may take its time to come up. */
GtkWindow *
ssq_gtk_test_wait_toplevel (GType type)
{
  Toplevel t = { type, NULL };

  if (!ssq_test_wait_until (toplevel_open, &t, 3 * WAIT_MS))
    g_error ("no %s opened", g_type_name (type));
  return t.found;
}

typedef struct {
  GtkWindow *chooser;
  GFile     *file;
} ChooserFile;

static gboolean
chooser_names (gpointer data)
{
  ChooserFile *c = data;
  g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (c->chooser));

  return file != NULL && g_file_equal (file, c->file);
}

void
ssq_gtk_test_wait_chooser_file (GtkWindow *chooser,
                                GFile     *file)
{
  ChooserFile c = { chooser, file };

  if (!ssq_test_wait_until (chooser_names, &c, WAIT_MS))
    g_error ("the chooser does not name %s", g_file_peek_path (file));
}
