/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-gtk-composer.c: the composer under the message list. Enter sends
 * (Shift+Enter for a new line); Up in an empty composer takes the last
 * message of mine for editing, Enter saves it and Escape gives it up. It
 * knows the open conversation, not the window: errors go up as the
 * window's "win.toast" action, a send as the "sent" signal. Files chosen
 * with the attach button, dropped on the conversation (each checked to be
 * a file first) or pasted as a picture wait in a list of GFile, shown
 * above the text; Send hands them to the client library, which copies
 * them into its outbox and uploads them when the message's turn comes.
 * A pasted picture is a file of ours (see ssq-gtk-paste.c): taken out of
 * the list, or left in a draft a new session discards, it is deleted. */
#include "ssq-config.h"
#include "ssq-gtk-composer.h"

#include <glib/gi18n.h>

#include "ssq-gtk-attachment-strip.h"
#include "ssq-gtk-paste.h"

struct _SsqGtkComposer
{
  GtkBox                 parent_instance;

  /* Template children. */
  GtkTextView           *text_view;
  SsqGtkAttachmentStrip *attachment_strip;

  SsqClient             *client;
  char                  *conversation_id;
  GListModel            *messages;      /* of the open conversation: for Up */
  gint64                 editing_seq;   /* Up: the message being edited, or 0 */
  GListStore            *attachments;   /* GFile, in the order they were added */
  GtkFileChooserNative  *chooser;       /* while it is open */
  GCancellable          *draft_work;    /* pastes and checks for this draft */
};

G_DEFINE_FINAL_TYPE (SsqGtkComposer, ssq_gtk_composer, GTK_TYPE_BOX)

enum {
  SIGNAL_SENT,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
toast (SsqGtkComposer *self,
       const char     *text)
{
  gtk_widget_activate_action (GTK_WIDGET (self), "win.toast", "s", text);
}

static char *
composer_text (SsqGtkComposer *self)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->text_view);
  GtkTextIter start, end;

  gtk_text_buffer_get_bounds (buffer, &start, &end);
  return gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
}

static void
set_text (SsqGtkComposer *self,
          const char     *text)
{
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (self->text_view), text, -1);
}

/* A pasted picture is ours alone: once out of the draft, nobody needs it. */
static void
forget_file (GFile *file)
{
  if (ssq_gtk_paste_owns (file))
    g_file_delete_async (file, G_PRIORITY_LOW, NULL, NULL, NULL);
}

/* Empties the attachments of a draft given up, and stops the pastes and
 * checks still running for it. */
static void
discard_attachments (SsqGtkComposer *self)
{
  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (self->attachments)); i++)
    {
      g_autoptr(GFile) file = g_list_model_get_item (G_LIST_MODEL (self->attachments), i);

      forget_file (file);
    }
  g_list_store_remove_all (self->attachments);
  g_cancellable_cancel (self->draft_work);
  g_object_unref (self->draft_work);
  self->draft_work = g_cancellable_new ();
}

/**
 * ssq_gtk_composer_set_conversation:
 * @self: the composer
 * @client: (nullable): the client that sends
 * @conversation_id: (nullable): the open conversation, or %NULL for none
 * @messages: (nullable): the open conversation's messages, searched by Up
 *
 * Points the composer at another conversation. What is written and the
 * files attached stay (but not across sessions: another client empties
 * the composer); an edit in progress ends when the conversation changes.
 */
void
ssq_gtk_composer_set_conversation (SsqGtkComposer *self,
                                   SsqClient      *client,
                                   const char     *conversation_id,
                                   GListModel     *messages)
{
  g_return_if_fail (SSQ_IS_GTK_COMPOSER (self));

  if (client != self->client)
    {
      /* A draft belongs to the session that wrote it. Without a client
       * emptying it reports no typing. */
      g_clear_object (&self->client);
      self->editing_seq = 0;
      set_text (self, "");
      discard_attachments (self);
    }
  g_set_object (&self->client, client);
  g_set_object (&self->messages, messages);
  if (g_strcmp0 (self->conversation_id, conversation_id) != 0)
    {
      g_free (self->conversation_id);
      self->conversation_id = g_strdup (conversation_id);
      self->editing_seq = 0;
    }
}

/**
 * ssq_gtk_composer_get_text_view:
 * @self: the composer
 *
 * Returns: (transfer none): the text view the message is written in
 */
GtkTextView *
ssq_gtk_composer_get_text_view (SsqGtkComposer *self)
{
  g_return_val_if_fail (SSQ_IS_GTK_COMPOSER (self), NULL);

  return self->text_view;
}

static void
edit_done (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(SsqGtkComposer) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(SsqMessage) message = ssq_client_edit_message_finish (SSQ_CLIENT (source), result, &error);

  if (message == NULL)
    toast (self, error->message);
}

/* A message with attachments. The library copies the files into its
 * outbox before it answers; then the user's files are theirs again (only
 * our own pasted pictures are deleted, the outbox has its copies). If it
 * fails, the files go back into the composer, unless the session changed. */
typedef struct {
  SsqGtkComposer *self;
  SsqClient      *client;
  GPtrArray      *files;   /* of GFile */
} Sending;

static void
sending_free (Sending *s)
{
  g_object_unref (s->self);
  g_object_unref (s->client);
  g_ptr_array_unref (s->files);
  g_free (s);
}

static void
sent_with_media_cb (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  Sending *s = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(SsqMessage) message = ssq_client_send_message_with_media_finish (SSQ_CLIENT (source), result, &error);

  for (guint i = 0; i < s->files->len; i++)
    {
      if (message != NULL)
        forget_file (s->files->pdata[i]);
      else if (s->self->client == s->client)
        ssq_gtk_composer_add_file (s->self, s->files->pdata[i]);
      else
        forget_file (s->files->pdata[i]);
    }
  if (message == NULL)
    {
      g_autofree char *text = g_strdup_printf (_("Could not send the files: %s"), error->message);

      toast (s->self, text);
    }
  sending_free (s);
}

static void
send_with_attachments (SsqGtkComposer *self,
                       const char     *text)
{
  Sending *s = g_new0 (Sending, 1);
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->attachments));

  s->self = g_object_ref (self);
  s->client = g_object_ref (self->client);
  s->files = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < n; i++)
    g_ptr_array_add (s->files, g_list_model_get_item (G_LIST_MODEL (self->attachments), i));
  /* Out of the strip, not deleted: the send owns them now. */
  g_list_store_remove_all (self->attachments);
  ssq_client_send_message_with_media_async (self->client, self->conversation_id, text, 0,
                                            (GFile *const *) s->files->pdata, s->files->len, NULL,
                                            sent_with_media_cb, s);
}

/**
 * ssq_gtk_composer_send:
 * @self: the composer
 *
 * Sends (or, after Up, saves the edit of) what the composer holds, and
 * empties it. Attachments go with the text, which may then be empty; the
 * files are copied into the outbox asynchronously (a failure puts them
 * back and says why in a toast).
 *
 * Returns: %TRUE if something was sent or an edit saved
 */
gboolean
ssq_gtk_composer_send (SsqGtkComposer *self)
{
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(SsqMessage) message = NULL;

  g_return_val_if_fail (SSQ_IS_GTK_COMPOSER (self), FALSE);

  text = composer_text (self);
  if (self->conversation_id == NULL || self->client == NULL)
    return FALSE;
  if (self->editing_seq == 0 && g_list_model_get_n_items (G_LIST_MODEL (self->attachments)) > 0)
    send_with_attachments (self, g_strstrip (text));
  else if (*g_strstrip (text) == '\0')
    return FALSE;
  else if (self->editing_seq > 0)
    {
      ssq_client_edit_message_async (self->client, self->conversation_id, self->editing_seq, text, NULL,
                                     edit_done, g_object_ref (self));
      self->editing_seq = 0;
    }
  else
    {
      message = ssq_client_send_message (self->client, self->conversation_id, text, 0, &error);
      if (message == NULL)
        {
          toast (self, error->message);
          return FALSE;
        }
    }
  set_text (self, "");
  ssq_client_set_typing (self->client, self->conversation_id, FALSE);
  g_signal_emit (self, signals[SIGNAL_SENT], 0);
  return TRUE;
}

static void
send_clicked_cb (SsqGtkComposer *self)
{
  ssq_gtk_composer_send (self);
}

static gboolean
edit_last_own (SsqGtkComposer *self)
{
  guint n = self->messages ? g_list_model_get_n_items (self->messages) : 0;

  for (guint i = n; i > 0; i--)
    {
      g_autoptr(SsqMessage) m = g_list_model_get_item (self->messages, i - 1);

      if (g_strcmp0 (ssq_message_get_sender (m), ssq_client_get_user_id (self->client)) == 0 &&
          ssq_message_get_seq (m) > 0 && !ssq_message_get_deleted (m))
        {
          self->editing_seq = ssq_message_get_seq (m);
          set_text (self, ssq_message_get_body (m));
          toast (self, _("Editing your last message — Enter saves, Escape cancels"));
          return TRUE;
        }
    }
  return FALSE;
}

static gboolean
key_pressed_cb (GtkEventControllerKey *controller,
                guint                  keyval,
                guint                  keycode,
                GdkModifierType        state,
                SsqGtkComposer        *self)
{
  g_autofree char *text = NULL;

  if ((keyval == GDK_KEY_Return || keyval == GDK_KEY_KP_Enter) && !(state & GDK_SHIFT_MASK))
    {
      ssq_gtk_composer_send (self);
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
      set_text (self, "");
      return TRUE;
    }
  return FALSE;
}

static void
text_changed_cb (GtkTextBuffer  *buffer,
                 SsqGtkComposer *self)
{
  if (self->conversation_id == NULL || self->client == NULL || self->editing_seq > 0)
    return;
  ssq_client_set_typing (self->client, self->conversation_id, gtk_text_buffer_get_char_count (buffer) > 0);
  ssq_client_report_activity (self->client);
}

/* Attachments. */

/**
 * ssq_gtk_composer_add_file:
 * @self: the composer
 * @file: a file to send with the next message
 *
 * Adds @file to the attachments, once: a file already there is not added
 * again. Nothing is read yet.
 */
void
ssq_gtk_composer_add_file (SsqGtkComposer *self,
                           GFile          *file)
{
  g_return_if_fail (SSQ_IS_GTK_COMPOSER (self));
  g_return_if_fail (G_IS_FILE (file));

  if (!g_list_store_find_with_equal_func (self->attachments, file, (GEqualFunc) g_file_equal, NULL))
    g_list_store_append (self->attachments, file);
}

/**
 * ssq_gtk_composer_get_attachments:
 * @self: the composer
 *
 * Returns: (transfer none): the files attached, a list of GFile
 */
GListModel *
ssq_gtk_composer_get_attachments (SsqGtkComposer *self)
{
  g_return_val_if_fail (SSQ_IS_GTK_COMPOSER (self), NULL);

  return G_LIST_MODEL (self->attachments);
}

static void
remove_attachment_cb (SsqGtkComposer *self,
                      GFile          *file)
{
  guint position;

  if (g_list_store_find_with_equal_func (self->attachments, file, (GEqualFunc) g_file_equal, &position))
    {
      g_list_store_remove (self->attachments, position);
      forget_file (file);
    }
}

/* Files from elsewhere (a drop): each is checked to be a file, one after
 * the other so that they keep their order; what cannot be attached is
 * told in one toast at the end. */
typedef struct {
  SsqGtkComposer *self;
  GPtrArray      *files;     /* of GFile */
  guint           next;
  GPtrArray      *problems;  /* of char *, one message each */
  GCancellable   *cancellable;
} Checking;

static void
checking_free (Checking *c)
{
  g_object_unref (c->self);
  g_ptr_array_unref (c->files);
  g_ptr_array_unref (c->problems);
  g_object_unref (c->cancellable);
  g_free (c);
}

static void check_next (Checking *c);

static void
report_problems (Checking *c)
{
  g_autofree char *names = NULL;
  g_autofree char *text = NULL;

  if (c->problems->len == 0)
    return;
  if (c->problems->len == 1)
    {
      toast (c->self, c->problems->pdata[0]);
      return;
    }
  g_ptr_array_add (c->problems, NULL);
  names = g_strjoinv ("; ", (char **) c->problems->pdata);
  text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u item was not attached: %s",
                                       "%u items were not attached: %s", c->problems->len - 1),
                          c->problems->len - 1, names);
  toast (c->self, text);
}

static void
checked_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  Checking *c = user_data;
  GFile *file = G_FILE (source);
  g_autoptr(GError) error = NULL;
  g_autoptr(GFileInfo) info = g_file_query_info_finish (file, result, &error);
  g_autofree char *name = NULL;

  if (g_cancellable_is_cancelled (c->cancellable))
    {
      checking_free (c);
      return;
    }
  name = ssq_gtk_attachment_strip_display_name (file);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
    g_ptr_array_add (c->problems, g_strdup_printf (_("%s is not there any more"), name));
  else if (info == NULL)
    /* Translators: %s is a file name, then why it cannot be read. */
    g_ptr_array_add (c->problems, g_strdup_printf (_("Cannot attach %s: %s"), name, error->message));
  else if (g_file_info_get_file_type (info) == G_FILE_TYPE_DIRECTORY)
    g_ptr_array_add (c->problems, g_strdup_printf (_("%s is a folder: only files can be attached"), name));
  else if (g_file_info_get_file_type (info) != G_FILE_TYPE_REGULAR)
    g_ptr_array_add (c->problems, g_strdup_printf (_("%s is not a file that can be attached"), name));
  else
    ssq_gtk_composer_add_file (c->self, file);
  check_next (c);
}

static void
check_next (Checking *c)
{
  if (c->next == c->files->len)
    {
      report_problems (c);
      checking_free (c);
      return;
    }
  g_file_query_info_async (c->files->pdata[c->next++], G_FILE_ATTRIBUTE_STANDARD_TYPE, G_FILE_QUERY_INFO_NONE,
                           G_PRIORITY_DEFAULT, c->cancellable, checked_cb, c);
}

/**
 * ssq_gtk_composer_attach_files:
 * @self: the composer
 * @files: (array length=n_files): files from elsewhere, as a drop
 * @n_files: how many
 *
 * Adds those of @files that are files (a symbolic link to one counts),
 * in their order, once each; a folder, a device or a file that cannot
 * be read is left out, and said so in a toast. The checks run
 * asynchronously; a new session given the composer meanwhile stops them.
 */
void
ssq_gtk_composer_attach_files (SsqGtkComposer  *self,
                               GFile          **files,
                               guint            n_files)
{
  Checking *c;

  g_return_if_fail (SSQ_IS_GTK_COMPOSER (self));
  g_return_if_fail (files != NULL || n_files == 0);

  c = g_new0 (Checking, 1);
  c->self = g_object_ref (self);
  c->files = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < n_files; i++)
    g_ptr_array_add (c->files, g_object_ref (files[i]));
  c->problems = g_ptr_array_new_with_free_func (g_free);
  c->cancellable = g_object_ref (self->draft_work);
  check_next (c);
}

/* Paste: a picture on the clipboard (and no text) becomes a file. */

static void
pasted_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(SsqGtkComposer) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GFile) file = ssq_gtk_paste_save_image_finish (result, &error);
  g_autofree char *text = NULL;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (file == NULL)
    {
      text = g_strdup_printf (_("Could not paste the picture: %s"), error->message);
      toast (self, text);
      return;
    }
  ssq_gtk_composer_add_file (self, file);
}

/* GtkTextView's Ctrl+V (and Shift+Insert, and Paste in its menu). */
static void
paste_clipboard_cb (GtkTextView    *text_view,
                    SsqGtkComposer *self)
{
  GdkClipboard *clipboard = gtk_widget_get_clipboard (GTK_WIDGET (text_view));

  if (!ssq_gtk_paste_has_image (clipboard))
    return;   /* text: the text view pastes it */
  g_signal_stop_emission_by_name (text_view, "paste-clipboard");
  ssq_gtk_paste_save_image_async (clipboard, self->draft_work, pasted_cb, g_object_ref (self));
}

static void
chooser_response_cb (GtkNativeDialog *dialog,
                     int              response,
                     SsqGtkComposer  *self)
{
  g_autoptr(GListModel) files = NULL;

  if (response == GTK_RESPONSE_ACCEPT)
    {
      files = gtk_file_chooser_get_files (GTK_FILE_CHOOSER (dialog));
      for (guint i = 0; i < g_list_model_get_n_items (files); i++)
        {
          g_autoptr(GFile) file = g_list_model_get_item (files, i);

          ssq_gtk_composer_add_file (self, file);
        }
    }
  g_clear_object (&self->chooser);
  gtk_widget_grab_focus (GTK_WIDGET (self->text_view));
}

/* The native chooser: inside Flatpak it is the portal's, which hands over
 * the files picked without any file-system permission of our own. */
static void
attach_clicked_cb (SsqGtkComposer *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  if (self->chooser != NULL)
    return;
  self->chooser = gtk_file_chooser_native_new (_("Attach Files"), GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                               GTK_FILE_CHOOSER_ACTION_OPEN, _("_Attach"), NULL);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (self->chooser), TRUE);
  gtk_file_chooser_set_select_multiple (GTK_FILE_CHOOSER (self->chooser), TRUE);
  g_signal_connect (self->chooser, "response", G_CALLBACK (chooser_response_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

/* Focus on the composer is focus on its text. */
static gboolean
ssq_gtk_composer_grab_focus (GtkWidget *widget)
{
  return gtk_widget_grab_focus (GTK_WIDGET (SSQ_GTK_COMPOSER (widget)->text_view));
}

static void
ssq_gtk_composer_dispose (GObject *object)
{
  SsqGtkComposer *self = SSQ_GTK_COMPOSER (object);

  if (self->chooser != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->chooser, self);
      gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->chooser));
      g_clear_object (&self->chooser);
    }
  g_cancellable_cancel (self->draft_work);
  g_clear_object (&self->draft_work);
  g_clear_object (&self->attachments);
  g_clear_object (&self->messages);
  g_clear_object (&self->client);
  g_clear_pointer (&self->conversation_id, g_free);
  gtk_widget_dispose_template (GTK_WIDGET (self), SSQ_TYPE_GTK_COMPOSER);
  G_OBJECT_CLASS (ssq_gtk_composer_parent_class)->dispose (object);
}

static void
ssq_gtk_composer_class_init (SsqGtkComposerClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = ssq_gtk_composer_dispose;
  widget_class->grab_focus = ssq_gtk_composer_grab_focus;

  /**
   * SsqGtkComposer::sent:
   *
   * A message was sent or an edit saved, and the composer emptied.
   */
  signals[SIGNAL_SENT] = g_signal_new ("sent", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                       0, NULL, NULL, NULL, G_TYPE_NONE, 0);

  g_type_ensure (SSQ_TYPE_GTK_ATTACHMENT_STRIP);
  gtk_widget_class_set_template_from_resource (widget_class, "/org/supersoniq/Supersoniq/ssq-gtk-composer.ui");
  gtk_widget_class_bind_template_child (widget_class, SsqGtkComposer, text_view);
  gtk_widget_class_bind_template_child (widget_class, SsqGtkComposer, attachment_strip);
  gtk_widget_class_bind_template_callback (widget_class, send_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, attach_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, remove_attachment_cb);
}

static void
ssq_gtk_composer_init (SsqGtkComposer *self)
{
  GtkEventController *keys;

  gtk_widget_init_template (GTK_WIDGET (self));
  self->attachments = g_list_store_new (G_TYPE_FILE);
  self->draft_work = g_cancellable_new ();
  ssq_gtk_attachment_strip_set_model (self->attachment_strip, G_LIST_MODEL (self->attachments));
  keys = gtk_event_controller_key_new ();
  gtk_event_controller_set_propagation_phase (keys, GTK_PHASE_CAPTURE);
  g_signal_connect (keys, "key-pressed", G_CALLBACK (key_pressed_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self->text_view), keys);
  g_signal_connect (gtk_text_view_get_buffer (self->text_view), "changed", G_CALLBACK (text_changed_cb), self);
  g_signal_connect (self->text_view, "paste-clipboard", G_CALLBACK (paste_clipboard_cb), self);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->text_view), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Message"), -1);
}
