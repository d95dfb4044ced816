/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-gtk-attachment-strip.c: one line of chips over a list of GFile,
 * scrolled sideways when it is longer than the window is wide; a chip
 * per file: an icon for its type, its name and a remove button. It only
 * shows the list: a click on remove goes out as the "remove" signal, and
 * whoever owns the list takes the file out. Hidden while the list is
 * empty. Nothing here reads the files: the icon comes from the name.
 * (Not a GtkFlowBox: 4.8's stretched some chips and clipped others, and
 * gave a wrapped second line no height.) */
#include "ssq-config.h"
#include "ssq-gtk-attachment-strip.h"

#include <glib/gi18n.h>

struct _SsqGtkAttachmentStrip
{
  GtkWidget   parent_instance;
  GtkWidget  *scroller;
  GtkWidget  *chips;       /* a box, one chip per file, in the list's order */
  GListModel *files;
};

G_DEFINE_FINAL_TYPE (SsqGtkAttachmentStrip, ssq_gtk_attachment_strip, GTK_TYPE_WIDGET)

enum {
  SIGNAL_REMOVE,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/**
 * ssq_gtk_attachment_strip_display_name:
 * @file: a file
 *
 * The file's name as people read it: valid UTF-8 whatever bytes the
 * name has on disk.
 *
 * Returns: (transfer full): the name
 */
char *
ssq_gtk_attachment_strip_display_name (GFile *file)
{
  g_autofree char *base = NULL;

  g_return_val_if_fail (G_IS_FILE (file), NULL);

  base = g_file_get_basename (file);
  if (base == NULL)
    return g_file_get_parse_name (file);
  return g_filename_display_name (base);
}

static void
remove_clicked_cb (GtkButton             *button,
                   SsqGtkAttachmentStrip *self)
{
  GFile *file = g_object_get_data (G_OBJECT (button), "file");

  g_signal_emit (self, signals[SIGNAL_REMOVE], 0, file);
}

static GtkWidget *
chip_new (SsqGtkAttachmentStrip *self,
          GFile                 *file)
{
  g_autofree char *name = ssq_gtk_attachment_strip_display_name (file);
  g_autofree char *type = g_content_type_guess (name, NULL, 0, NULL);
  g_autoptr(GIcon) icon = g_content_type_get_symbolic_icon (type);
  /* Translators: the remove button of an attachment; %s is its file name. */
  g_autofree char *remove_label = g_strdup_printf (_("Remove %s"), name);
  GtkWidget *chip = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *label = gtk_label_new (name);
  GtkWidget *remove = gtk_button_new_from_icon_name ("window-close-symbolic");

  gtk_widget_add_css_class (chip, "attachment");
  gtk_box_append (GTK_BOX (chip), gtk_image_new_from_gicon (icon));
  gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_MIDDLE);
  gtk_label_set_max_width_chars (GTK_LABEL (label), 24);
  gtk_box_append (GTK_BOX (chip), label);
  gtk_widget_add_css_class (remove, "flat");
  gtk_widget_add_css_class (remove, "circular");
  gtk_widget_set_valign (remove, GTK_ALIGN_CENTER);
  gtk_widget_set_tooltip_text (remove, remove_label);
  gtk_accessible_update_property (GTK_ACCESSIBLE (remove), GTK_ACCESSIBLE_PROPERTY_LABEL, remove_label, -1);
  g_object_set_data_full (G_OBJECT (remove), "file", g_object_ref (file), g_object_unref);
  g_signal_connect_object (remove, "clicked", G_CALLBACK (remove_clicked_cb), self, 0);
  gtk_box_append (GTK_BOX (chip), remove);
  return chip;
}

static void
files_changed_cb (GListModel            *files,
                  guint                  position,
                  guint                  removed,
                  guint                  added,
                  SsqGtkAttachmentStrip *self)
{
  GtkWidget *before = NULL;
  GtkWidget *child = gtk_widget_get_first_child (self->chips);

  for (guint i = 0; i < position && child != NULL; i++)
    {
      before = child;
      child = gtk_widget_get_next_sibling (child);
    }
  for (guint i = 0; i < removed && child != NULL; i++)
    {
      GtkWidget *next = gtk_widget_get_next_sibling (child);

      gtk_box_remove (GTK_BOX (self->chips), child);
      child = next;
    }
  for (guint i = 0; i < added; i++)
    {
      g_autoptr(GFile) file = g_list_model_get_item (files, position + i);
      GtkWidget *chip = chip_new (self, file);

      gtk_box_insert_child_after (GTK_BOX (self->chips), chip, before);
      before = chip;
    }
  gtk_widget_set_visible (GTK_WIDGET (self), g_list_model_get_n_items (files) > 0);
}

/**
 * ssq_gtk_attachment_strip_set_model:
 * @self: the strip
 * @files: (nullable): a list of GFile
 *
 * Shows @files, and follows their changes.
 */
void
ssq_gtk_attachment_strip_set_model (SsqGtkAttachmentStrip *self,
                                    GListModel            *files)
{
  g_return_if_fail (SSQ_IS_GTK_ATTACHMENT_STRIP (self));
  g_return_if_fail (files == NULL || g_list_model_get_item_type (files) == G_TYPE_FILE ||
                    g_type_is_a (g_list_model_get_item_type (files), G_TYPE_FILE));

  if (self->files != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->files, self);
      files_changed_cb (self->files, 0, g_list_model_get_n_items (self->files), 0, self);
    }
  g_set_object (&self->files, files);
  if (files != NULL)
    {
      g_signal_connect (files, "items-changed", G_CALLBACK (files_changed_cb), self);
      files_changed_cb (files, 0, 0, g_list_model_get_n_items (files), self);
    }
}

GtkWidget *
ssq_gtk_attachment_strip_new (void)
{
  return g_object_new (SSQ_TYPE_GTK_ATTACHMENT_STRIP, NULL);
}

static void
ssq_gtk_attachment_strip_dispose (GObject *object)
{
  SsqGtkAttachmentStrip *self = SSQ_GTK_ATTACHMENT_STRIP (object);

  if (self->files != NULL)
    g_signal_handlers_disconnect_by_data (self->files, self);
  g_clear_object (&self->files);
  g_clear_pointer (&self->scroller, gtk_widget_unparent);
  G_OBJECT_CLASS (ssq_gtk_attachment_strip_parent_class)->dispose (object);
}

static void
ssq_gtk_attachment_strip_class_init (SsqGtkAttachmentStripClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = ssq_gtk_attachment_strip_dispose;
  gtk_widget_class_set_layout_manager_type (GTK_WIDGET_CLASS (klass), GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_accessible_role (GTK_WIDGET_CLASS (klass), GTK_ACCESSIBLE_ROLE_GROUP);

  /**
   * SsqGtkAttachmentStrip::remove:
   * @file: the file whose remove button was clicked
   */
  signals[SIGNAL_REMOVE] = g_signal_new ("remove", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                         0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_FILE);
}

static void
ssq_gtk_attachment_strip_init (SsqGtkAttachmentStrip *self)
{
  self->chips = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  self->scroller = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (self->scroller), GTK_POLICY_AUTOMATIC, GTK_POLICY_NEVER);
  gtk_scrolled_window_set_propagate_natural_height (GTK_SCROLLED_WINDOW (self->scroller), TRUE);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (self->scroller), self->chips);
  gtk_widget_set_parent (self->scroller, GTK_WIDGET (self));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Attachments"), -1);
  gtk_widget_set_visible (GTK_WIDGET (self), FALSE);
}
