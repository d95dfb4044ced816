/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-cli-export.c: `supersoniq-cli export [-o FILE] [--media DIR]`: all of
 * the user's own data as one JSON document: the account, every
 * conversation with its members, every message of it the user can see
 * (paged through the history routes, oldest first), and the media objects
 * those messages carry; with --media, the files too.
 *
 * The document is written as it is paged, never held whole: a user with
 * 100,000 messages took 330 MB as a JSON tree. History pages come newest
 * first, the document lists messages oldest first, so a conversation's
 * pages wait in a spool file (unlinked, one message a line) and are copied
 * out in reverse once its first message has come. With -o FILE the
 * document goes to a temporary file beside FILE (0600), renamed over it
 * only when complete: an export that fails or is interrupted leaves FILE
 * as it was and exits non-zero. */
#include "ssq-cli-private.h"
#include "ssq-cache.h"
#include "ssq-config.h"
#include "ssq-display.h"
#include "ssq-json.h"
#include "ssq-media.h"
#include "ssq-message.h"
#include "ssq-user.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Messages per history page: the server's largest. */
#define PAGE 200

typedef struct {
  Cli          *cli;
  GCancellable *cancellable;
  gboolean      abandoned;       /* the run ended first: free at the callback */
  GPtrArray    *conversations;   /* SsqConversation */
  guint         index;           /* the conversation being paged */
  guint         written;         /* conversations written */
  FILE         *out;             /* the temporary file, or stdout */
  char         *temp_path;       /* NULL for stdout */
  int           write_errno;     /* the first write that failed */
  FILE         *spool;           /* the conversation's pages, newest first */
  GArray       *page_ends;       /* goffset: where each page ends in it */
  GPtrArray    *media;           /* media ids to download, in order */
  GHashTable   *media_seen;
  guint         files;           /* media files written (--media) */
} Export;

static void
export_close_files (Export *e)
{
  if (e->spool != NULL)
    fclose (e->spool);
  e->spool = NULL;
  if (e->out != NULL && e->out != stdout)
    fclose (e->out);
  e->out = NULL;
  if (e->temp_path != NULL)
    g_unlink (e->temp_path);
  g_clear_pointer (&e->temp_path, g_free);
}

static void
export_free (Export *e)
{
  export_close_files (e);
  g_clear_object (&e->cancellable);
  g_clear_pointer (&e->conversations, g_ptr_array_unref);
  g_clear_pointer (&e->page_ends, g_array_unref);
  g_clear_pointer (&e->media, g_ptr_array_unref);
  g_clear_pointer (&e->media_seen, g_hash_table_unref);
  g_free (e);
}

static void next_conversation (Export *e);
static void next_download (Export *e);

/* Ends the export: what was written goes, FILE stays as it was. */
static void
fail (Export       *e,
      const GError *error)
{
  Cli *cli = e->cli;

  cli->export = NULL;
  export_free (e);
  ssq_cli_fail_with (cli, error, ssq_cli_exit_code_for (error));
}

/* A callback after the run ended (interrupted, timed out) frees it. */
static gboolean
abandoned (Export *e)
{
  if (!e->abandoned)
    return FALSE;
  export_free (e);
  return TRUE;
}

static void
emit (Export     *e,
      const char *text,
      gsize       length)
{
  if (e->write_errno == 0 && length > 0 && fwrite (text, 1, length, e->out) != length)
    e->write_errno = errno != 0 ? errno : EIO;
}

static void
emit_str (Export     *e,
          const char *text)
{
  emit (e, text, strlen (text));
}

/* @node as JSON text on one line. */
static void
emit_node (Export   *e,
           JsonNode *node)
{
  g_autofree char *text = ssq_json_node_to_string (node, NULL);

  emit_str (e, text);
}

static void
emit_string (Export     *e,
             const char *value)
{
  g_autoptr(JsonNode) node = json_node_init_string (json_node_alloc (), value);

  emit_node (e, node);
}

/* Fails the export if a write did: checked after each page, so that a
 * full disk stops it there rather than after the last page. */
static gboolean
check_written (Export *e)
{
  g_autoptr(GError) error = NULL;
  const char *path = e->temp_path ? e->cli->output : _("standard output");

  if (e->write_errno == 0 && (e->spool == NULL || !ferror (e->spool)))
    return TRUE;
  error = g_error_new (SSQ_ERROR, SSQ_ERROR_INTERNAL, _("Cannot write %s: %s"), path,
                       g_strerror (e->write_errno != 0 ? e->write_errno : EIO));
  fail (e, error);
  return FALSE;
}

static JsonObject *
account_json (Cli *cli)
{
  JsonObject *account = json_object_new ();
  const char *user_id = ssq_client_get_user_id (cli->client);
  g_autoptr(SsqUser) user = ssq_cache_get_user (ssq_client_get_cache (cli->client), user_id);

  json_object_set_string_member (account, "id", user_id);
  json_object_set_string_member (account, "username", ssq_client_get_username (cli->client));
  if (user != NULL)
    json_object_set_string_member (account, "display_name", ssq_user_get_display_name (user));
  json_object_set_string_member (account, "server", ssq_client_get_server_url (cli->client));
  return account;
}

static void
emit_head (Export *e)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *when = g_date_time_format (now, "%Y-%m-%dT%H:%M:%SZ");
  g_autoptr(JsonNode) account = json_node_init_object (json_node_alloc (), account_json (e->cli));

  /* json_node_init_object took its own reference. */
  json_object_unref (json_node_get_object (account));
  emit_str (e, "{\n  \"format\": \"supersoniq-export\",\n  \"format_version\": 1,\n  \"exported_at\": ");
  emit_string (e, when);
  emit_str (e, ",\n  \"client_version\": ");
  emit_string (e, SSQ_VERSION);
  emit_str (e, ",\n  \"account\": ");
  emit_node (e, account);
  emit_str (e, ",\n  \"conversations\": [");
}

/* -o FILE: a temporary file beside it, 0600 (it holds every message). */
static gboolean
open_output (Export  *e,
             GError **error)
{
  Cli *cli = e->cli;
  int fd;

  if (cli->output == NULL || strcmp (cli->output, "-") == 0)
    {
      e->out = stdout;
      return TRUE;
    }
  if (g_file_test (cli->output, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, SSQ_ERROR, SSQ_ERROR_INVALID, _("Cannot write %s: %s"), cli->output,
                   g_strerror (EISDIR));
      return FALSE;
    }
  e->temp_path = g_strconcat (cli->output, ".XXXXXX", NULL);
  fd = g_mkstemp_full (e->temp_path, O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0 || (e->out = fdopen (fd, "w")) == NULL)
    {
      int errsv = errno;

      if (fd >= 0)
        close (fd);
      g_set_error (error, SSQ_ERROR, SSQ_ERROR_INVALID, _("Cannot write %s: %s"), cli->output,
                   g_strerror (errsv));
      g_clear_pointer (&e->temp_path, g_free);
      return FALSE;
    }
  return TRUE;
}

/* The spool: in the output's directory (/tmp may be a small tmpfs),
 * unlinked at once. */
static gboolean
open_spool (Export  *e,
            GError **error)
{
  g_autofree char *dir = e->temp_path ? g_path_get_dirname (e->temp_path) : g_strdup (g_get_tmp_dir ());
  g_autofree char *path = g_build_filename (dir, ".supersoniq-export-XXXXXX", NULL);
  int fd = g_mkstemp_full (path, O_RDWR | O_CLOEXEC, 0600);

  if (fd >= 0)
    g_unlink (path);
  if (fd < 0 || (e->spool = fdopen (fd, "w+")) == NULL)
    {
      int errsv = errno;

      if (fd >= 0)
        close (fd);
      g_set_error (error, SSQ_ERROR, SSQ_ERROR_INVALID, _("Cannot write %s: %s"), path,
                   g_strerror (errsv));
      return FALSE;
    }
  return TRUE;
}

/* The complete document in place: synced, then renamed over FILE. */
static gboolean
close_output (Export  *e,
              GError **error)
{
  FILE *out = e->out;
  int errsv = 0;

  e->out = NULL;
  if (fflush (out) != 0)
    errsv = errno;
  else if (e->write_errno != 0)
    errsv = e->write_errno;
  if (out == stdout)
    {
      if (errsv == 0)
        return TRUE;
      g_set_error (error, SSQ_ERROR, SSQ_ERROR_INTERNAL, _("Cannot write %s: %s"),
                   _("standard output"), g_strerror (errsv));
      return FALSE;
    }
  if (errsv == 0 && fsync (fileno (out)) != 0)
    errsv = errno;
  if (fclose (out) != 0 && errsv == 0)
    errsv = errno;
  if (errsv == 0 && g_rename (e->temp_path, e->cli->output) != 0)
    errsv = errno;
  if (errsv != 0)
    {
      g_set_error (error, SSQ_ERROR, SSQ_ERROR_INTERNAL, _("Cannot write %s: %s"), e->cli->output,
                   g_strerror (errsv));
      return FALSE;
    }
  g_clear_pointer (&e->temp_path, g_free);
  return TRUE;
}

static void
finish (Export *e)
{
  g_autoptr(GError) error = NULL;
  Cli *cli = e->cli;

  if (cli->media_dir != NULL)
    emit_str (e, e->files > 0 ? "\n  }" : "}");
  emit_str (e, "\n}\n");
  if (!close_output (e, &error))
    {
      cli->export = NULL;
      export_free (e);
      ssq_cli_fail_with (cli, error, SSQ_CLI_FAILED);
      return;
    }
  if (cli->output != NULL && strcmp (cli->output, "-") != 0)
    {
      g_autofree char *shown = ssq_display_sanitize_line (cli->output);
      guint n = e->written;

      g_printerr (g_dngettext (GETTEXT_PACKAGE, "Exported %u conversation to %s\n",
                               "Exported %u conversations to %s\n", n), n, shown);
    }
  cli->export = NULL;
  export_free (e);
  ssq_cli_quit (cli, SSQ_CLI_OK);
}

/* The conversation's object without its closing brace, on one line. */
static gboolean
emit_conversation_head (Export  *e,
                        GError **error)
{
  SsqConversation *conversation = e->conversations->pdata[e->index];
  g_autoptr(JsonObject) object = ssq_cli_conversation_to_json (e->cli, conversation, error);
  g_autoptr(JsonNode) node = NULL;
  g_autofree char *text = NULL;
  gsize length;

  if (object == NULL)
    return FALSE;
  json_object_remove_member (object, "client");
  node = json_node_init_object (json_node_alloc (), object);
  text = ssq_json_node_to_string (node, NULL);
  length = strlen (text);
  g_assert (length >= 2 && text[length - 1] == '}');
  emit_str (e, e->written > 0 ? ",\n    " : "\n    ");
  emit (e, text, length - 1);
  emit_str (e, length > 2 ? ",\n     \"messages\": [" : "\n     \"messages\": [");
  return TRUE;
}

/* The spooled pages, oldest first (the last spooled first), a message a
 * line; then the spool is emptied for the next conversation. */
static void
emit_messages (Export *e)
{
  gboolean first = TRUE;

  for (guint p = e->page_ends->len; p > 0 && e->write_errno == 0; p--)
    {
      goffset start = p > 1 ? g_array_index (e->page_ends, goffset, p - 2) : 0;
      goffset end = g_array_index (e->page_ends, goffset, p - 1);
      g_autofree char *page = g_malloc (end - start + 1);
      g_auto(GStrv) lines = NULL;

      if (fseeko (e->spool, start, SEEK_SET) != 0 ||
          fread (page, 1, end - start, e->spool) != (gsize) (end - start))
        {
          e->write_errno = errno != 0 ? errno : EIO;
          break;
        }
      page[end - start] = '\0';
      lines = g_strsplit (page, "\n", -1);
      for (guint i = 0; lines[i] != NULL; i++)
        {
          if (lines[i][0] == '\0')
            continue;
          emit_str (e, first ? "\n      " : ",\n      ");
          emit_str (e, lines[i]);
          first = FALSE;
        }
    }
  emit_str (e, first ? "]}" : "\n    ]}");
  g_array_set_size (e->page_ends, 0);
  if (ftruncate (fileno (e->spool), 0) != 0 || fseeko (e->spool, 0, SEEK_SET) != 0)
    e->write_errno = errno != 0 ? errno : EIO;
}

/* The conversation is paged to its first message: out it goes. */
static void
close_conversation (Export *e)
{
  g_autoptr(GError) error = NULL;

  if (!emit_conversation_head (e, &error))
    return fail (e, error);
  emit_messages (e);
  if (!check_written (e))
    return;
  e->written++;
  e->index++;
  next_conversation (e);
}

static void
note_media (Export     *e,
            SsqMessage *message)
{
  for (guint m = 0; m < ssq_message_get_n_media (message); m++)
    {
      SsqMedia *media = ssq_message_get_media (message, m);
      const char *id = ssq_media_get_id (media);
      const char *name = ssq_media_get_name (media);

      if (id != NULL && !g_hash_table_contains (e->media_seen, id))
        {
          g_hash_table_insert (e->media_seen, g_strdup (id), g_strdup (name != NULL ? name : ""));
          g_ptr_array_add (e->media, g_strdup (id));
        }
    }
}

/* A page (oldest message first) into the spool, a message a line. */
static void
spool_page (Export    *e,
            GPtrArray *messages)
{
  goffset end;

  for (guint i = 0; i < messages->len; i++)
    {
      g_autoptr(JsonNode) node = json_node_init_object (json_node_alloc (),
                                                        ssq_message_to_json (messages->pdata[i]));
      g_autofree char *text = ssq_json_node_to_string (node, NULL);

      json_object_unref (json_node_get_object (node));
      if (fputs (text, e->spool) == EOF || fputc ('\n', e->spool) == EOF)
        e->write_errno = errno != 0 ? errno : EIO;
      note_media (e, messages->pdata[i]);
    }
  if (fflush (e->spool) != 0)
    e->write_errno = errno != 0 ? errno : EIO;
  end = ftello (e->spool);
  g_array_append_val (e->page_ends, end);
}

static void
page_done (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  Export *e = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) messages = ssq_client_load_older_finish (SSQ_CLIENT (source), result, &error);
  gint64 oldest = G_MAXINT64;

  if (abandoned (e))
    return;
  if (messages == NULL)
    return fail (e, error);
  ssq_cli_rearm_timeout (e->cli);
  spool_page (e, messages);
  if (!check_written (e))
    return;
  for (guint i = 0; i < messages->len; i++)
    oldest = MIN (oldest, ssq_message_get_seq (messages->pdata[i]));
  if (messages->len == 0 || oldest <= 1)
    return close_conversation (e);
  ssq_client_load_older_async (e->cli->client,
                               ssq_conversation_get_id (e->conversations->pdata[e->index]),
                               oldest, PAGE, e->cancellable, page_done, e);
}

static void
next_conversation (Export *e)
{
  SsqConversation *conversation;

  if (e->index == e->conversations->len)
    {
      emit_str (e, e->written > 0 ? "\n  ]" : "]");
      if (e->cli->media_dir != NULL)
        emit_str (e, ",\n  \"media_files\": {");
      next_download (e);
      return;
    }
  conversation = e->conversations->pdata[e->index];
  if (ssq_conversation_get_last_seq (conversation) <= 0)
    {
      close_conversation (e);
      return;
    }
  /* Below last_seq + 1: the newest page first, then older ones. */
  ssq_client_load_older_async (e->cli->client, ssq_conversation_get_id (conversation),
                               ssq_conversation_get_last_seq (conversation) + 1, PAGE,
                               e->cancellable, page_done, e);
}

/* --media DIR: each file as DIR/ID-NAME, from the client's download
 * cache, which checks it against the server's SHA-256. */
static void
downloaded (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  Export *e = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GFile) cached = ssq_client_download_finish (SSQ_CLIENT (source), result, &error);
  g_autofree char *base = NULL, *name = NULL, *path = NULL;
  g_autoptr(GFile) saved = NULL;
  const char *id;

  if (abandoned (e))
    return;
  if (cached == NULL)
    return fail (e, error);
  id = e->media->pdata[0];
  /* The cached file is named by the id alone; the name is the sender's,
   * made a plain file name. */
  base = ssq_media_name_for_upload (g_hash_table_lookup (e->media_seen, id));
  name = g_strdup_printf ("%s-%s", id, base);
  path = g_build_filename (e->cli->media_dir, name, NULL);
  saved = g_file_new_for_path (path);
  if (!g_file_copy (cached, saved, G_FILE_COPY_OVERWRITE, NULL, NULL, NULL, &error))
    {
      g_prefix_error (&error, _("Cannot write %s: "), path);
      return fail (e, error);
    }
  emit_str (e, e->files > 0 ? ",\n    " : "\n    ");
  emit_string (e, id);
  emit_str (e, ": ");
  emit_string (e, path);
  e->files++;
  if (!check_written (e))
    return;
  g_ptr_array_remove_index (e->media, 0);
  ssq_cli_rearm_timeout (e->cli);
  next_download (e);
}

static void
next_download (Export *e)
{
  if (e->cli->media_dir == NULL || e->media->len == 0)
    {
      finish (e);
      return;
    }
  ssq_client_download_async (e->cli->client, e->media->pdata[0], e->cancellable, downloaded, e);
}

/* After the sync: needs the server, for the history the cache lacks. */
void
ssq_cli_export_step (Cli          *cli,
                     const GError *offline)
{
  g_autoptr(GError) error = NULL;
  Export *e;

  if (offline != NULL)
    return ssq_cli_fail (cli, offline);
  if (cli->media_dir != NULL && g_mkdir_with_parents (cli->media_dir, 0700) != 0)
    {
      int errsv = errno;

      error = g_error_new (SSQ_ERROR, SSQ_ERROR_INVALID, _("Cannot create %s: %s"),
                           cli->media_dir, g_strerror (errsv));
      return ssq_cli_fail_with (cli, error, SSQ_CLI_FAILED);
    }
  e = g_new0 (Export, 1);
  e->cli = cli;
  e->cancellable = g_cancellable_new ();
  e->conversations = ssq_cache_list_conversations (ssq_client_get_cache (cli->client));
  e->page_ends = g_array_new (FALSE, FALSE, sizeof (goffset));
  e->media = g_ptr_array_new_with_free_func (g_free);
  e->media_seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  cli->export = e;
  /* Before the first page: a FILE that cannot be written fails now. */
  if (!open_output (e, &error) || !open_spool (e, &error))
    return fail (e, error);
  emit_head (e);
  next_conversation (e);
}

/* The run ends before the export did (interrupted, timed out): the
 * temporary file goes now; the Export itself when its callback comes, if
 * it does. With @interrupted, the exit says the export failed. */
void
ssq_cli_export_abandon (Cli      *cli,
                        gboolean  interrupted)
{
  Export *e = cli->export;

  if (interrupted)
    {
      if (cli->output != NULL && strcmp (cli->output, "-") != 0)
        {
          g_autofree char *shown = ssq_display_sanitize_line (cli->output);

          g_printerr (_("supersoniq-cli: interrupted: %s not written\n"), shown);
        }
      else
        g_printerr (_("supersoniq-cli: interrupted: the export is incomplete\n"));
      ssq_cli_quit (cli, SSQ_CLI_FAILED);
    }
  if (e == NULL)
    return;
  cli->export = NULL;
  e->abandoned = TRUE;
  export_close_files (e);
  g_cancellable_cancel (e->cancellable);
}
