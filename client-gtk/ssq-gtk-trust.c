/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-gtk-trust.c: a server's key, shown in readable groups (four lines
 * of eight pairs) for the person to compare with the one the server
 * printed: "Trust and Connect" pins it, "Cancel" (the default) sends
 * nothing. A changed key gets a dialog with no way around it: only Close,
 * and what to do. */
#include "ssq-config.h"
#include "ssq-gtk-trust.h"

#include <glib/gi18n.h>

#include "ssq-client.h"
#include "ssq-proto.h"
#include "ssq-trust.h"

typedef struct {
  char            *url;
  char            *fingerprint;
  SsqGtkTrustDone  done;
  gpointer         user_data;
} Ask;

static void
ask_free (gpointer  data,
          GClosure *closure)
{
  Ask *ask = data;

  g_free (ask->url);
  g_free (ask->fingerprint);
  g_free (ask);
}

/* A fingerprint as a monospace block, selectable (to paste and compare). */
static GtkWidget *
fingerprint_label (const char *fingerprint)
{
  g_autofree char *lines = ssq_trust_fingerprint_lines (fingerprint, 8);
  GtkWidget *label = gtk_label_new (lines);

  gtk_label_set_selectable (GTK_LABEL (label), TRUE);
  gtk_label_set_justify (GTK_LABEL (label), GTK_JUSTIFY_CENTER);
  gtk_widget_add_css_class (label, "monospace");
  gtk_widget_add_css_class (label, "title-4");
  return label;
}

static void
ask_response_cb (AdwMessageDialog *dialog,
                 const char       *response,
                 Ask              *ask)
{
  gboolean trusted = g_strcmp0 (response, "trust") == 0;
  g_autoptr(GError) error = NULL;

  if (trusted && !ssq_trust_pin (NULL, ask->url, ask->fingerprint, &error))
    {
      g_warning ("%s", error->message);
      trusted = FALSE;
    }
  ask->done (trusted, ask->user_data);
}

/**
 * ssq_gtk_trust_ask:
 * @error: an SSQ_ERROR_UNTRUSTED error, with its fingerprint
 *
 * Shows the key of @url's server; @done hears the answer, after the key
 * was pinned if it was "Trust and Connect".
 *
 * Returns: (transfer none): the dialog
 */
GtkWidget *
ssq_gtk_trust_ask (GtkWindow       *parent,
                   const char      *url,
                   const GError    *error,
                   SsqGtkTrustDone  done,
                   gpointer         user_data)
{
  g_autofree char *where = ssq_trust_server_display (url);
  g_autofree char *body = NULL;
  AdwMessageDialog *dialog;
  Ask *ask = g_new0 (Ask, 1);

  ask->url = g_strdup (url);
  ask->fingerprint = g_strdup (ssq_error_get_fingerprint (error));
  ask->done = done;
  ask->user_data = user_data;
  body = g_strdup_printf (_("The server at %s presents the key below. Compare it with the "
                            "fingerprint the server printed when it started: trust it only if "
                            "they are the same. Later connections check that the key stays the "
                            "same."), where);
  dialog = ADW_MESSAGE_DIALOG (adw_message_dialog_new (parent, _("Trust This Server?"), body));
  adw_message_dialog_set_extra_child (dialog, fingerprint_label (ask->fingerprint));
  adw_message_dialog_add_responses (dialog, "cancel", _("_Cancel"),
                                    "trust", _("_Trust and Connect"), NULL);
  adw_message_dialog_set_response_appearance (dialog, "trust", ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (dialog, "cancel");
  adw_message_dialog_set_close_response (dialog, "cancel");
  g_signal_connect_data (dialog, "response", G_CALLBACK (ask_response_cb), ask,
                         ask_free, 0);
  gtk_window_present (GTK_WINDOW (dialog));
  return GTK_WIDGET (dialog);
}

/**
 * ssq_gtk_trust_show_changed:
 * @error: an SSQ_ERROR_KEY_CHANGED error, with both fingerprints
 *
 * Returns: (transfer none): the dialog; it only closes
 */
GtkWidget *
ssq_gtk_trust_show_changed (GtkWindow    *parent,
                            const char   *url,
                            const GError *error)
{
  g_autofree char *where = ssq_trust_server_display (url);
  g_autofree char *server = ssq_trust_server_url (url);
  g_autofree char *body = NULL;
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  AdwMessageDialog *dialog;
  const char *pinned = ssq_error_get_pinned_fingerprint (error);

  body = g_strdup_printf (_("The server at %s presents a different key than the one trusted "
                            "before. Someone may be intercepting the connection: nothing was "
                            "sent, and nothing will be.\n\nIf the server's administrator "
                            "confirms that the server has a new key, forget the old one with "
                            "“supersoniq-cli forget-server %s”, then connect again and "
                            "compare."), where, server);
  dialog = ADW_MESSAGE_DIALOG (adw_message_dialog_new (parent, _("The Server's Key Has Changed"),
                                                       body));
  if (pinned != NULL)
    {
      gtk_box_append (GTK_BOX (box), gtk_label_new (_("Trusted key")));
      gtk_box_append (GTK_BOX (box), fingerprint_label (pinned));
    }
  gtk_box_append (GTK_BOX (box), gtk_label_new (_("Key presented now")));
  gtk_box_append (GTK_BOX (box), fingerprint_label (ssq_error_get_fingerprint (error)));
  adw_message_dialog_set_extra_child (dialog, box);
  adw_message_dialog_add_response (dialog, "close", _("_Close"));
  adw_message_dialog_set_response_appearance (dialog, "close", ADW_RESPONSE_DESTRUCTIVE);
  gtk_window_present (GTK_WINDOW (dialog));
  return GTK_WIDGET (dialog);
}
