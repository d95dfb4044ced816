/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-tui-media.c: where the terminal client meets the client library's
 * media calls. Until the library has them these say so, rather than
 * pretend: the commands, paths, progress bar and pictures around them are
 * ready. Wiring an upload: ssq_tui_progress_begin (self, _("Uploading
 * NAME"), cancel, cancellable) with g_cancellable_cancel as @cancel,
 * ssq_tui_progress_update () from the library's progress, and
 * ssq_tui_progress_end () when it ends, whichever way. */
#include "ssq-tui-private.h"

#include <gio/gio.h>

/**
 * ssq_tui_media_upload:
 * @path: a regular file the user can read, expanded
 * @caption: (nullable): the text to send with it
 *
 * Sends @path to the current conversation.
 *
 * Returns: whether the upload started; FALSE with @error otherwise.
 */
gboolean
ssq_tui_media_upload (SsqTui      *self,
                      const char  *path,
                      const char  *caption,
                      GError     **error)
{
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                       _("Uploading is not available yet in this version"));
  return FALSE;
}

/**
 * ssq_tui_media_save:
 * @seq: a message of the current conversation
 * @dir: (nullable): a directory, expanded; NULL for the downloads folder
 *
 * Saves the attachments of message @seq into @dir.
 *
 * Returns: whether saving started; FALSE with @error otherwise.
 */
gboolean
ssq_tui_media_save (SsqTui      *self,
                    gint64       seq,
                    const char  *dir,
                    GError     **error)
{
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                       _("Saving attachments is not available yet in this version"));
  return FALSE;
}
