/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-cli-media.c: supersoniq-cli's media: `download MEDIA_ID [-o FILE]`
 * (through the client's download cache, so it resumes and is checked), and
 * the progress of uploads and downloads on standard error when that is a
 * terminal. */
#include "ssq-config.h"
#include "ssq-cli-private.h"

#include <glib/gi18n.h>
#include <gio/gunixoutputstream.h>
#include <stdio.h>
#include <unistd.h>

#include "ssq-display.h"

/* Progress. */

/* cli->shown_percent once the line of a whole transfer is written. */
#define PROGRESS_ENDED 1000

static void
progress_cb (SsqTransfer *transfer,
             guint64      done,
             guint64      total,
             Cli         *cli)
{
  int percent = total > 0 ? (int) MIN (done * 100 / total, 100) : 0;
  g_autofree char *name = NULL, *done_text = NULL, *total_text = NULL;

  /* Bytes move: the command is not stuck. */
  ssq_cli_rearm_timeout (cli);
  if (!isatty (STDERR_FILENO) || percent == cli->shown_percent || cli->shown_percent == PROGRESS_ENDED)
    return;
  cli->shown_percent = percent;
  name = ssq_display_sanitize_line (ssq_transfer_get_name (transfer) ? ssq_transfer_get_name (transfer) : "");
  done_text = ssq_display_size (done);
  total_text = ssq_display_size (total);
  /* Translators: progress of an upload or download: the file's name, how
   * much is done in percent, and in bytes of how many */
  g_printerr ("\r");
  g_printerr (_("%s: %d%% (%s of %s)"), name, percent, done_text, total_text);
  g_printerr ("\033[K");
  /* Whole: the line stays, and what comes next goes below it. */
  if (total > 0 && done >= total)
    {
      g_printerr ("\n");
      cli->shown_percent = PROGRESS_ENDED;
    }
}

/* Shows @transfer's progress (one at a time), and counts its bytes as
 * progress for the command's timeout. */
void
ssq_cli_watch_transfer (Cli         *cli,
                        SsqTransfer *transfer)
{
  if (cli->watched == transfer)
    return;
  ssq_cli_unwatch_transfer (cli);
  cli->watched = g_object_ref (transfer);
  cli->shown_percent = -1;
  g_signal_connect (transfer, "progress", G_CALLBACK (progress_cb), cli);
}

void
ssq_cli_unwatch_transfer (Cli *cli)
{
  if (cli->watched == NULL)
    return;
  g_signal_handlers_disconnect_by_data (cli->watched, cli);
  g_clear_object (&cli->watched);
  if (cli->shown_percent >= 0 && cli->shown_percent != PROGRESS_ENDED && isatty (STDERR_FILENO))
    g_printerr ("\n");
  cli->shown_percent = -1;
}

/* download */

/* The bytes of @file on standard output. */
static gboolean
write_to_stdout (GFile   *file,
                 GError **error)
{
  g_autoptr(GFileInputStream) in = g_file_read (file, NULL, error);
  g_autoptr(GOutputStream) out = NULL;

  if (in == NULL)
    return FALSE;
  fflush (stdout);
  out = g_unix_output_stream_new (STDOUT_FILENO, FALSE);
  return g_output_stream_splice (out, G_INPUT_STREAM (in), G_OUTPUT_STREAM_SPLICE_CLOSE_SOURCE, NULL,
                                 error) >= 0;
}

/* Where the file goes: -o FILE, else its name (made safe: another member
 * chose it) in the current directory, which must not exist yet. */
static GFile *
destination (Cli         *cli,
             SsqTransfer *transfer,
             GError     **error)
{
  const char *given = ssq_transfer_get_name (transfer);
  g_autofree char *name = ssq_media_name_for_upload (given != NULL ? given : cli->args[0]);
  g_autoptr(GFile) file = NULL;

  if (cli->output != NULL)
    return g_file_new_for_commandline_arg (cli->output);
  /* A name that would be hidden is shown. */
  if (name[0] == '.')
    name[0] = '_';
  file = g_file_new_for_path (name);
  if (g_file_query_exists (file, NULL))
    {
      g_autofree char *shown = ssq_display_sanitize_line (name);

      g_set_error (error, SSQ_ERROR, SSQ_ERROR_CONFLICT, _("%s exists already; choose another name with -o FILE"),
                   shown);
      return NULL;
    }
  return g_steal_pointer (&file);
}

static void
print_saved (Cli         *cli,
             SsqTransfer *transfer,
             GFile       *saved,
             goffset      size)
{
  g_autofree char *path = g_file_get_path (saved);

  if (cli->json)
    {
      g_autoptr(JsonObject) object = json_object_new ();

      json_object_set_string_member (object, "id", cli->args[0]);
      json_object_set_string_member (object, "name", ssq_transfer_get_name (transfer));
      json_object_set_int_member (object, "size", size);
      json_object_set_string_member (object, "file", path);
      ssq_cli_print_json_object (object);
    }
  else
    {
      g_autofree char *shown = ssq_display_sanitize_line (path);
      g_autofree char *size_text = ssq_display_size ((guint64) size);

      g_print (_("Saved %s (%s)\n"), shown, size_text);
    }
}

static void
downloaded (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  Cli *cli = user_data;
  g_autoptr(SsqTransfer) transfer = cli->watched ? g_object_ref (cli->watched) : NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GFile) cached = ssq_client_download_finish (SSQ_CLIENT (source), result, &error);
  g_autoptr(GFile) saved = NULL;
  g_autoptr(GFileInfo) info = NULL;

  ssq_cli_unwatch_transfer (cli);
  if (cached == NULL)
    return ssq_cli_fail (cli, error);
  if (g_strcmp0 (cli->output, "-") == 0)
    {
      if (!write_to_stdout (cached, &error))
        return ssq_cli_fail_with (cli, error, SSQ_CLI_FAILED);
      ssq_cli_quit (cli, SSQ_CLI_OK);
      return;
    }
  if ((saved = destination (cli, transfer, &error)) == NULL)
    return ssq_cli_fail (cli, error);
  if (!g_file_copy (cached, saved, cli->output != NULL ? G_FILE_COPY_OVERWRITE : G_FILE_COPY_NONE,
                    NULL, NULL, NULL, &error) ||
      (info = g_file_query_info (saved, G_FILE_ATTRIBUTE_STANDARD_SIZE, G_FILE_QUERY_INFO_NONE, NULL,
                                 &error)) == NULL)
    {
      g_autofree char *shown = g_file_get_parse_name (saved);

      g_prefix_error (&error, _("Cannot write %s: "), shown);
      return ssq_cli_fail_with (cli, error, SSQ_CLI_FAILED);
    }
  print_saved (cli, transfer, saved, g_file_info_get_size (info));
  ssq_cli_quit (cli, SSQ_CLI_OK);
}

/* download MEDIA_ID [-o FILE]: over HTTP alone, without the WebSocket,
 * and from the cache when it holds the file. */
int
ssq_cli_download (Cli *cli)
{
  g_autoptr(SsqTransfer) transfer =
    ssq_client_download_async (cli->client, cli->args[0], NULL, downloaded, cli);

  ssq_cli_watch_transfer (cli, transfer);
  return -1;
}
