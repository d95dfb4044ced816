/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-lookup.c: the conversation a typed name means. Group titles need not
 * be unique, so a title can fit several groups: then nothing is chosen and
 * the error lists them with the ids that name each one exactly. */
#include "ssq-config.h"
#include "ssq-lookup.h"

#include <glib/gi18n.h>

#include "ssq-display.h"
#include "ssq-proto.h"

static gboolean
same_text (const char *a,
           const char *b)
{
  g_autofree char *fa = NULL, *fb = NULL;

  if (a == NULL || b == NULL)
    return FALSE;
  fa = g_utf8_casefold (a, -1);
  fb = g_utf8_casefold (b, -1);
  return g_strcmp0 (fa, fb) == 0;
}

/* Whether @name is the username of the other member of direct @c. */
static gboolean
is_peer (SsqCache        *cache,
         SsqConversation *c,
         const char      *name)
{
  g_autoptr(SsqUser) peer = NULL;

  if (!ssq_conversation_is_direct (c) || ssq_conversation_get_peer_id (c) == NULL)
    return FALSE;
  peer = ssq_cache_get_user (cache, ssq_conversation_get_peer_id (c));
  return peer != NULL && same_text (ssq_user_get_username (peer), name);
}

static void
set_ambiguous (GError     **error,
               const char  *name,
               GPtrArray   *matches)
{
  g_autoptr(GString) list = g_string_new (NULL);
  g_autofree char *clean = ssq_display_sanitize_line (name);

  for (guint i = 0; i < matches->len; i++)
    {
      SsqConversation *c = matches->pdata[i];
      g_autofree char *title = ssq_display_sanitize_line (ssq_conversation_get_display_title (c));
      guint n = g_list_model_get_n_items (ssq_conversation_get_members (c));

      g_string_append_printf (list, "\n  %s  %s  ", ssq_conversation_get_id (c), title);
      g_string_append_printf (list, g_dngettext (GETTEXT_PACKAGE, "(%u member)", "(%u members)", n), n);
    }
  g_set_error (error, SSQ_ERROR, SSQ_ERROR_CONFLICT,
               _("“%s” names %u conversations; name one by its id:%s"), clean, matches->len, list->str);
}

/**
 * ssq_lookup_conversation:
 * @cache: the account's cache
 * @name: a conversation id, a group title (case-insensitive), or the
 *   username of the other member of a direct conversation
 *
 * An id always wins. Otherwise every group titled @name and the direct
 * conversation with the user @name are candidates, and exactly one must
 * fit.
 *
 * Returns: (transfer full) (nullable): the conversation, or NULL with
 *   %SSQ_ERROR_NOT_FOUND (nothing fits) or %SSQ_ERROR_CONFLICT (several
 *   fit; the message lists them with their ids)
 */
SsqConversation *
ssq_lookup_conversation (SsqCache    *cache,
                         const char  *name,
                         GError     **error)
{
  g_autoptr(GPtrArray) all = NULL;
  g_autoptr(GPtrArray) matches = NULL;

  g_return_val_if_fail (SSQ_IS_CACHE (cache), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  all = ssq_cache_list_conversations (cache);
  matches = g_ptr_array_new ();
  for (guint i = 0; i < all->len; i++)
    {
      SsqConversation *c = all->pdata[i];

      if (g_strcmp0 (ssq_conversation_get_id (c), name) == 0)
        return g_object_ref (c);
      if ((!ssq_conversation_is_direct (c) && same_text (ssq_conversation_get_title (c), name)) ||
          is_peer (cache, c, name))
        g_ptr_array_add (matches, c);
    }
  if (matches->len == 1)
    return g_object_ref (matches->pdata[0]);
  if (matches->len == 0)
    g_set_error (error, SSQ_ERROR, SSQ_ERROR_NOT_FOUND, _("No such conversation"));
  else
    set_ambiguous (error, name, matches);
  return NULL;
}
