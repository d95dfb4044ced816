/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-cli-export.c: `supersoniq-cli export [-o FILE] [--media DIR]`: all of
 * the user's own data as one JSON document: the account, every
 * conversation with its members, every message of it the user can see
 * (paged through the history routes, oldest first), and the media objects
 * those messages carry; with --media, the files too. */
#include "ssq-cli-private.h"
#include "ssq-cache.h"
#include "ssq-config.h"
#include "ssq-display.h"
#include "ssq-media.h"
#include "ssq-message.h"
#include "ssq-user.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>

/* Messages per history page: the server's largest. */
#define PAGE 200

typedef struct {
  Cli        *cli;
  GPtrArray  *conversations;   /* SsqConversation */
  guint       index;           /* the conversation being paged */
  GPtrArray  *pages;           /* JsonArray per page, newest page first */
  JsonArray  *exported;        /* one object per conversation */
  GPtrArray  *media;           /* media ids to download, in order */
  GHashTable *media_seen;
  JsonObject *files;           /* media id -> file written (--media) */
} Export;

static void
export_free (Export *e)
{
  g_clear_pointer (&e->conversations, g_ptr_array_unref);
  g_clear_pointer (&e->pages, g_ptr_array_unref);
  g_clear_pointer (&e->exported, json_array_unref);
  g_clear_pointer (&e->media, g_ptr_array_unref);
  g_clear_pointer (&e->media_seen, g_hash_table_unref);
  g_clear_pointer (&e->files, json_object_unref);
  g_free (e);
}

static void next_conversation (Export *e);
static void next_download (Export *e);

static void
fail (Export       *e,
      const GError *error)
{
  Cli *cli = e->cli;

  export_free (e);
  ssq_cli_fail (cli, error);
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

/* The document, to -o FILE (only its owner may read it: it holds every
 * message) or to standard output. */
static gboolean
write_document (Export  *e,
                GError **error)
{
  Cli *cli = e->cli;
  g_autoptr(JsonObject) root = json_object_new ();
  g_autoptr(JsonNode) node = json_node_alloc ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *text = NULL;
  g_autofree char *when = g_date_time_format (now, "%Y-%m-%dT%H:%M:%SZ");
  gsize length;

  json_object_set_string_member (root, "format", "supersoniq-export");
  json_object_set_int_member (root, "format_version", 1);
  json_object_set_string_member (root, "exported_at", when);
  json_object_set_string_member (root, "client_version", SSQ_VERSION);
  json_object_set_object_member (root, "account", account_json (cli));
  json_object_set_array_member (root, "conversations", json_array_ref (e->exported));
  if (e->files != NULL)
    json_object_set_object_member (root, "media_files", json_object_ref (e->files));
  json_node_init_object (node, root);
  json_generator_set_root (generator, node);
  json_generator_set_pretty (generator, TRUE);
  text = json_generator_to_data (generator, &length);
  if (cli->output == NULL || strcmp (cli->output, "-") == 0)
    {
      g_print ("%s\n", text);
      return TRUE;
    }
  if (!g_file_set_contents_full (cli->output, text, length, G_FILE_SET_CONTENTS_CONSISTENT, 0600, error))
    {
      g_prefix_error (error, _("Cannot write %s: "), cli->output);
      return FALSE;
    }
  return TRUE;
}

static void
finish (Export *e)
{
  g_autoptr(GError) error = NULL;
  Cli *cli = e->cli;

  if (!write_document (e, &error))
    {
      export_free (e);
      ssq_cli_fail_with (cli, error, SSQ_CLI_FAILED);
      return;
    }
  if (cli->output != NULL && strcmp (cli->output, "-") != 0)
    {
      g_autofree char *shown = ssq_display_sanitize_line (cli->output);

      guint n = json_array_get_length (e->exported);

      g_printerr (g_dngettext (GETTEXT_PACKAGE, "Exported %u conversation to %s\n",
                               "Exported %u conversations to %s\n", n), n, shown);
    }
  export_free (e);
  ssq_cli_quit (cli, SSQ_CLI_OK);
}

/* The conversation's pages, oldest message first, into its object. */
static void
close_conversation (Export *e)
{
  g_autoptr(GError) error = NULL;
  SsqConversation *conversation = e->conversations->pdata[e->index];
  JsonObject *object = ssq_cli_conversation_to_json (e->cli, conversation, &error);
  JsonArray *messages = json_array_new ();

  if (object == NULL)
    {
      json_array_unref (messages);
      return fail (e, error);
    }
  json_object_remove_member (object, "client");
  for (guint p = e->pages->len; p > 0; p--)
    {
      JsonArray *page = e->pages->pdata[p - 1];

      for (guint i = 0; i < json_array_get_length (page); i++)
        json_array_add_element (messages, json_node_copy (json_array_get_element (page, i)));
    }
  json_object_set_array_member (object, "messages", messages);
  json_array_add_object_element (e->exported, object);
  g_ptr_array_set_size (e->pages, 0);
  e->index++;
  next_conversation (e);
}

static void
note_media (Export     *e,
            SsqMessage *message)
{
  for (guint m = 0; m < ssq_message_get_n_media (message); m++)
    {
      const char *id = ssq_media_get_id (ssq_message_get_media (message, m));

      if (id != NULL && !g_hash_table_contains (e->media_seen, id))
        {
          g_hash_table_add (e->media_seen, g_strdup (id));
          g_ptr_array_add (e->media, g_strdup (id));
        }
    }
}

static void
page_done (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  Export *e = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) messages = ssq_client_load_older_finish (SSQ_CLIENT (source), result, &error);
  JsonArray *page;
  gint64 oldest = G_MAXINT64;

  if (messages == NULL)
    return fail (e, error);
  ssq_cli_rearm_timeout (e->cli);
  page = json_array_new ();
  for (guint i = 0; i < messages->len; i++)
    {
      SsqMessage *message = messages->pdata[i];

      /* Pages come oldest first. */
      json_array_add_object_element (page, ssq_message_to_json (message));
      note_media (e, message);
      oldest = MIN (oldest, ssq_message_get_seq (message));
    }
  g_ptr_array_add (e->pages, page);
  if (messages->len == 0 || oldest <= 1)
    return close_conversation (e);
  ssq_client_load_older_async (e->cli->client,
                               ssq_conversation_get_id (e->conversations->pdata[e->index]),
                               oldest, PAGE, NULL, page_done, e);
}

static void
next_conversation (Export *e)
{
  SsqConversation *conversation;

  if (e->index == e->conversations->len)
    {
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
                               ssq_conversation_get_last_seq (conversation) + 1, PAGE, NULL,
                               page_done, e);
}

/* --media DIR: each file as DIR/ID-NAME (the name made safe: another
 * member chose it), from the client's download cache, which checks it
 * against the server's SHA-256. */
static void
downloaded (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  Export *e = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GFile) cached = ssq_client_download_finish (SSQ_CLIENT (source), result, &error);
  const char *id = e->media->pdata[0];
  g_autofree char *base = NULL, *name = NULL, *path = NULL;
  g_autoptr(GFile) saved = NULL;

  if (cached == NULL)
    return fail (e, error);
  base = g_file_get_basename (cached);
  name = g_strdup_printf ("%s-%s", id, base);
  path = g_build_filename (e->cli->media_dir, name, NULL);
  saved = g_file_new_for_path (path);
  if (!g_file_copy (cached, saved, G_FILE_COPY_OVERWRITE, NULL, NULL, NULL, &error))
    {
      g_prefix_error (&error, _("Cannot write %s: "), path);
      return fail (e, error);
    }
  json_object_set_string_member (e->files, id, path);
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
  ssq_client_download_async (e->cli->client, e->media->pdata[0], NULL, downloaded, e);
}

/* After the sync: needs the server, for the history the cache lacks. */
void
ssq_cli_export_step (Cli          *cli,
                     const GError *offline)
{
  Export *e;

  if (offline != NULL)
    return ssq_cli_fail (cli, offline);
  if (cli->media_dir != NULL && g_mkdir_with_parents (cli->media_dir, 0700) != 0)
    {
      int errsv = errno;
      g_autoptr(GError) error = g_error_new (SSQ_ERROR, SSQ_ERROR_INVALID, _("Cannot create %s: %s"),
                                             cli->media_dir, g_strerror (errsv));

      return ssq_cli_fail_with (cli, error, SSQ_CLI_FAILED);
    }
  e = g_new0 (Export, 1);
  e->cli = cli;
  e->conversations = ssq_cache_list_conversations (ssq_client_get_cache (cli->client));
  e->pages = g_ptr_array_new_with_free_func ((GDestroyNotify) json_array_unref);
  e->exported = json_array_new ();
  e->media = g_ptr_array_new_with_free_func (g_free);
  e->media_seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  if (cli->media_dir != NULL)
    e->files = json_object_new ();
  next_conversation (e);
}
