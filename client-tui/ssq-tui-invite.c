/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-tui-invite.c: `/invite [--uses N] [--expires 7d]`, a server admin's
 * invite link, shown with its QR code in Unicode half blocks in place of
 * the messages (Esc closes), for a phone's camera or a colleague's. */
#include "ssq-tui-private.h"
#include "ssq-client-invites.h"
#include "ssq-display.h"
#include "ssq-qr.h"

#include <string.h>

#define LINK_COLUMNS 64   /* characters of the link per line */

static void
created_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(SsqTui) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(SsqInvite) invite = ssq_client_create_invite_finish (SSQ_CLIENT (source), result, &error);
  g_autoptr(SsqQrBitmap) qr = NULL;
  g_autoptr(GDateTime) until = NULL;
  g_autofree char *link = NULL, *when = NULL, *title = NULL;
  g_autoptr(GPtrArray) lines = NULL;   /* the overlay takes its own reference */
  g_autoptr(GArray) attrs = g_array_new (FALSE, TRUE, sizeof (attr_t));

  if (invite == NULL || invite->link == NULL)
    {
      ssq_tui_set_status (self, TRUE, "%s", error ? error->message : _("The server sent no link for the invite"));
      return;
    }
  link = ssq_display_sanitize_line (invite->link);
  until = g_date_time_new_from_unix_local (invite->expires_at / 1000);
  when = until ? g_date_time_format (until, "%Y-%m-%d %H:%M") : g_strdup ("-");
  /* Uses are at most 1000 (the server's limit): an int. */
  title = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Invite: %d registration, until %s — Esc closes",
                                        "Invite: %d registrations, until %s — Esc closes",
                                        (gulong) invite->uses_left),
                           (int) invite->uses_left, when);
  lines = g_ptr_array_new_with_free_func (g_free);
  /* A link with its fingerprint is some 140 characters: cut into lines
   * that fit an 80-column terminal rather than cut off at its edge. The
   * link is ASCII (the parser refuses anything else), so bytes are
   * columns. */
  for (gsize at = 0, len = strlen (link); at < len; at += LINK_COLUMNS)
    g_ptr_array_add (lines, g_strndup (link + at, LINK_COLUMNS));
  g_ptr_array_add (lines, g_strdup (""));
  /* Ink is a light module: right on the usual dark terminal, and on a
   * light one too where colours are had: drawn white on black there, the
   * quiet zone included, not inverted (which some scanners refuse). */
  if ((qr = ssq_qr_encode (link, &error)) != NULL)
    {
      g_autofree char *blocks = ssq_qr_to_half_blocks (qr, FALSE);
      g_auto(GStrv) rows = g_strsplit (blocks, "\n", -1);
      attr_t qr_attr = has_colors () ? COLOR_PAIR (SSQ_TUI_PAIR_QR) : 0;

      g_array_set_size (attrs, lines->len);
      for (guint i = 0; rows[i] != NULL && rows[i][0] != '\0'; i++)
        {
          g_ptr_array_add (lines, g_strdup (rows[i]));
          g_array_append_val (attrs, qr_attr);
        }
    }
  else
    g_ptr_array_add (lines, g_strdup (error->message));
  g_ptr_array_add (lines, g_strdup (""));
  g_ptr_array_add (lines, g_strdup (_("Whoever has the link joins with: supersoniq-tui --invite LINK")));
  ssq_tui_show_overlay_attrs (self, title, lines, attrs);
}

/* Reads --uses N and --expires DURATION (also --uses=N); FALSE with the
 * status set on anything else. */
static gboolean
parse_options (SsqTui  *self,
               GStrv    args,
               guint   *uses,
               gint64  *expires)
{
  for (guint i = 0; args[i] != NULL; i++)
    {
      g_autoptr(GError) error = NULL;
      const char *eq = strchr (args[i], '=');
      g_autofree char *name = eq ? g_strndup (args[i], eq - args[i]) : g_strdup (args[i]);
      const char *value = eq ? eq + 1 : args[i + 1];
      guint64 n = 0;

      if (value == NULL || (!g_str_equal (name, "--uses") && !g_str_equal (name, "--expires")))
        {
          ssq_tui_set_status (self, TRUE, "%s", _("Usage: /invite [--uses N] [--expires 7d], or /invite USER"));
          return FALSE;
        }
      if (eq == NULL)
        i++;
      if (g_str_equal (name, "--uses"))
        {
          if (!g_ascii_string_to_unsigned (value, 10, 1, 1000, &n, NULL))
            {
              ssq_tui_set_status (self, TRUE, "%s", _("--uses takes a number from 1 to 1000"));
              return FALSE;
            }
          *uses = (guint) n;
        }
      else if (!ssq_parse_duration (value, expires, &error))
        {
          ssq_tui_set_status (self, TRUE, "%s", error->message);
          return FALSE;
        }
    }
  return TRUE;
}

/**
 * ssq_tui_invite_create:
 * `/invite` with no user: makes an invite (1 registration, 7 days unless
 * the options say otherwise) and shows its link and QR code. The server
 * refuses anyone but a server admin, which the status line then says.
 */
void
ssq_tui_invite_create (SsqTui *self,
                       GStrv   args)
{
  guint uses = 1;
  gint64 expires = 7 * 86400;

  if (!parse_options (self, args, &uses, &expires))
    return;
  ssq_tui_set_status (self, FALSE, "%s", _("Making an invite…"));
  ssq_client_create_invite_async (self->client, uses, expires, NULL, created_cb, g_object_ref (self));
}
