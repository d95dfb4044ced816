/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-cache-outbox.c: the outbox in the client cache: messages written but
 * not yet acknowledged, in order, and their attachments, whose copies wait
 * in the outbox area beside the cache file until the message is sent. */
#include <glib/gi18n.h>
#include "ssq-cache-private.h"
#include "ssq-media-private.h"
#include "ssq-message-private.h"
#include "ssq-proto.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

/* Copies no outbox message holds are left by a program that stopped
 * between copying the files and writing the message; they go at the next
 * start, unless this recent (another program on the same account may be
 * copying them right now). */
#define OUTBOX_SWEEP_AGE_S (60 * 60)

/**
 * ssq_cache_get_outbox_dir:
 * Where the copies of outbox attachments wait: beside the cache file, as
 * `NAME.outbox` for `NAME.db`. In the data directory, like the cache: what
 * the user sends must not vanish with a cleaned cache directory.
 *
 * Returns: (transfer full): the directory's path
 */
char *
ssq_cache_get_outbox_dir (SsqCache *self)
{
  const char *path;
  gsize len;

  g_return_val_if_fail (SSQ_IS_CACHE (self), NULL);
  path = self->path;
  len = g_str_has_suffix (path, ".db") ? strlen (path) - 3 : strlen (path);
  return g_strdup_printf ("%.*s.outbox", (int) len, path);
}

static char *
outbox_entry_dir (SsqCache   *self,
                  const char *client_id)
{
  g_autofree char *dir = ssq_cache_get_outbox_dir (self);

  return g_build_filename (dir, client_id, NULL);
}

/**
 * ssq_cache_outbox_file:
 * Returns: (transfer full): where the copy of attachment @position of the
 *   outbox message @client_id lives (or is to be written).
 */
GFile *
ssq_cache_outbox_file (SsqCache   *self,
                       const char *client_id,
                       guint       position)
{
  g_autofree char *dir = outbox_entry_dir (self, client_id);
  g_autofree char *name = g_strdup_printf ("%u", position);
  g_autofree char *path = g_build_filename (dir, name, NULL);

  return g_file_new_for_path (path);
}

/* Removes the copies of one message's attachments (file names are the
 * positions: nothing else is ever written there). */
static void
remove_entry_files (const char *dir)
{
  g_autoptr(GDir) listing = g_dir_open (dir, 0, NULL);
  const char *name;

  while (listing != NULL && (name = g_dir_read_name (listing)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);

      if (g_unlink (path) != 0 && errno != ENOENT)
        g_debug ("cache: cannot remove %s: %s", path, g_strerror (errno));
    }
  if (g_rmdir (dir) != 0 && errno != ENOENT)
    g_debug ("cache: cannot remove %s: %s", dir, g_strerror (errno));
}

/**
 * ssq_cache_outbox_drop_files:
 * Removes the copies of outbox messages that left the outbox in the batch
 * that has just committed (or forgets them when it rolled back: the
 * messages are back in the outbox, and need their files).
 */
void
ssq_cache_outbox_drop_files (SsqCache *self,
                             gboolean  committed)
{
  for (guint i = 0; committed && i < self->doomed_outbox->len; i++)
    {
      g_autofree char *dir = outbox_entry_dir (self, self->doomed_outbox->pdata[i]);

      remove_entry_files (dir);
    }
  g_ptr_array_set_size (self->doomed_outbox, 0);
}

/**
 * ssq_cache_outbox_sweep:
 * Removes copies in the outbox area that no outbox message holds and that
 * are older than an hour: what a program that stopped between copying a
 * message's files and writing the message left.
 */
void
ssq_cache_outbox_sweep (SsqCache *self)
{
  g_autofree char *root = ssq_cache_get_outbox_dir (self);
  g_autoptr(GDir) listing = g_dir_open (root, 0, NULL);
  gint64 now_s = g_get_real_time () / G_USEC_PER_SEC;
  const char *name;

  while (listing != NULL && (name = g_dir_read_name (listing)) != NULL)
    {
      g_autofree char *dir = g_build_filename (root, name, NULL);
      GStatBuf st;

      if (ssq_cache_outbox_has (self, name) || g_stat (dir, &st) != 0 ||
          now_s - (gint64) st.st_mtime < OUTBOX_SWEEP_AGE_S)
        continue;
      g_debug ("cache: removing the outbox copies of a message never written");
      remove_entry_files (dir);
    }
}

/* Attachments. */

/* The attachments of outbox message @client_id: as uploaded (the server's
 * media object), or as copied (name, type and size, no id yet); each with
 * its copy. */
static GPtrArray *
outbox_media (SsqCache   *self,
              const char *client_id)
{
  sqlite3_stmt *stmt = ssq_db_stmt (&self->db,
                                    "SELECT position, name, mime, size, media FROM outbox_media "
                                    "WHERE client_id = ? ORDER BY position", NULL);
  GPtrArray *out = NULL;

  if (stmt == NULL)
    return NULL;
  ssq_db_bind_text (stmt, 1, client_id);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      g_autoptr(GPtrArray) uploaded = ssq_media_list_from_text ((const char *) sqlite3_column_text (stmt, 4),
                                                                NULL);
      g_autoptr(GFile) file = ssq_cache_outbox_file (self, client_id, sqlite3_column_int (stmt, 0));
      SsqMedia *media;

      if (uploaded != NULL && uploaded->len == 1)
        media = g_object_ref (uploaded->pdata[0]);
      else
        media = ssq_media_new (NULL, (const char *) sqlite3_column_text (stmt, 1),
                               (const char *) sqlite3_column_text (stmt, 2),
                               sqlite3_column_int64 (stmt, 3), 0, 0);
      ssq_media_set_local_file (media, file, sqlite3_column_int (stmt, 0));
      if (out == NULL)
        out = g_ptr_array_new_with_free_func (g_object_unref);
      g_ptr_array_add (out, media);
    }
  sqlite3_reset (stmt);
  return out;
}

static gboolean
add_attachment (SsqCache    *self,
                const char  *client_id,
                guint        position,
                SsqMedia    *media,
                GError     **error)
{
  sqlite3_stmt *stmt = ssq_db_stmt (&self->db,
                                    "INSERT INTO outbox_media (client_id, position, name, mime, size) "
                                    "VALUES (?, ?, ?, ?, ?)", error);

  if (stmt == NULL)
    return FALSE;
  ssq_db_bind_text (stmt, 1, client_id);
  sqlite3_bind_int (stmt, 2, position);
  ssq_db_bind_text (stmt, 3, ssq_media_get_name (media));
  ssq_db_bind_text (stmt, 4, ssq_media_get_mime (media));
  sqlite3_bind_int64 (stmt, 5, ssq_media_get_size (media));
  return ssq_db_step_done (&self->db, stmt, error);
}

/**
 * ssq_cache_outbox_remove_attachment:
 * @slot: the attachment's place, as ssq_media_get_outbox_slot() gives it
 *
 * Takes one attachment out of outbox message @client_id, and its copy
 * with it. The others keep their places (and their copies' names).
 *
 * Returns: whether it was there to take out
 */
gboolean
ssq_cache_outbox_remove_attachment (SsqCache    *self,
                                    const char  *client_id,
                                    guint        slot,
                                    GError     **error)
{
  g_autoptr(GFile) copy = NULL;
  g_autoptr(GError) local = NULL;
  sqlite3_stmt *stmt;

  g_return_val_if_fail (SSQ_IS_CACHE (self), FALSE);

  stmt = ssq_db_stmt (&self->db, "DELETE FROM outbox_media WHERE client_id = ? AND position = ?", error);
  if (stmt == NULL)
    return FALSE;
  ssq_db_bind_text (stmt, 1, client_id);
  sqlite3_bind_int (stmt, 2, slot);
  if (!ssq_db_step_done (&self->db, stmt, error))
    return FALSE;
  if (sqlite3_changes (self->db.db) == 0)
    {
      g_set_error (error, SSQ_ERROR, SSQ_ERROR_NOT_FOUND, _("No such attachment in the outbox"));
      return FALSE;
    }
  /* Left behind, a copy would only wait for its message to go. */
  copy = ssq_cache_outbox_file (self, client_id, slot);
  if (!g_file_delete (copy, NULL, &local) && !g_error_matches (local, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
    g_debug ("cache: cannot remove an attachment's copy: %s", local->message);
  return TRUE;
}

/**
 * ssq_cache_outbox_set_media:
 * @position: the attachment's place (ssq_media_get_outbox_slot())
 * @uploaded: (nullable): the server's media object for attachment @position
 *   of outbox message @client_id, or NULL to forget it
 *
 * Records an upload, so that it is never repeated: the message is sent
 * with its id, even after a restart.
 */
gboolean
ssq_cache_outbox_set_media (SsqCache    *self,
                            const char  *client_id,
                            guint        position,
                            SsqMedia    *uploaded,
                            GError     **error)
{
  g_autoptr(GPtrArray) one = g_ptr_array_new ();
  g_autofree char *text = NULL;
  sqlite3_stmt *stmt;

  g_return_val_if_fail (SSQ_IS_CACHE (self), FALSE);

  if (uploaded != NULL)
    g_ptr_array_add (one, uploaded);
  text = ssq_media_list_to_text (one);
  stmt = ssq_db_stmt (&self->db,
                      "UPDATE outbox_media SET media = ? WHERE client_id = ? AND position = ?", error);
  if (stmt == NULL)
    return FALSE;
  ssq_db_bind_text (stmt, 1, text);
  ssq_db_bind_text (stmt, 2, client_id);
  sqlite3_bind_int (stmt, 3, position);
  return ssq_db_step_done (&self->db, stmt, error);
}

/**
 * ssq_cache_outbox_forget_media:
 * Forgets every upload of outbox message @client_id: the server no longer
 * knows them (an upload expires when no message carries it in time), so
 * they are uploaded again from the copies.
 */
gboolean
ssq_cache_outbox_forget_media (SsqCache    *self,
                               const char  *client_id,
                               GError     **error)
{
  sqlite3_stmt *stmt = ssq_db_stmt (&self->db,
                                    "UPDATE outbox_media SET media = NULL WHERE client_id = ?", error);

  if (stmt == NULL)
    return FALSE;
  ssq_db_bind_text (stmt, 1, client_id);
  return ssq_db_step_done (&self->db, stmt, error);
}

/* Messages. */

static SsqMessage *
outbox_from_row (SsqCache     *self,
                 sqlite3_stmt *stmt)
{
  SsqMessage *message = ssq_message_new ();

  message->outbox_position = sqlite3_column_int64 (stmt, 0);
  message->client_id = ssq_db_column_dup (stmt, 1);
  message->conversation_id = ssq_db_column_dup (stmt, 2);
  message->body = ssq_db_column_dup (stmt, 3);
  message->reply_to = sqlite3_column_int64 (stmt, 4);
  message->created_at = sqlite3_column_int64 (stmt, 5);
  message->error = ssq_db_column_dup (stmt, 6);
  message->sender = g_strdup (self->self_id);
  message->status = message->error ? SSQ_MESSAGE_FAILED : SSQ_MESSAGE_PENDING;
  /* Another statement, like the quote's. */
  message->media = outbox_media (self, message->client_id);
  /* The quote reads the messages table, not the outbox statement. */
  ssq_cache_decorate_message (self, message, TRUE);
  return message;
}

#define OUTBOX_COLUMNS "position, client_id, conversation_id, body, reply_to, created_at, error"

/**
 * ssq_cache_outbox_add:
 * Puts a new message in the outbox with a fresh `client_id`, fsynced: what
 * the user wrote survives even a power cut before it is sent.
 *
 * Returns: (transfer full): the pending message.
 */
SsqMessage *
ssq_cache_outbox_add (SsqCache    *self,
                      const char  *conversation_id,
                      const char  *body,
                      gint64       reply_to,
                      GError     **error)
{
  g_autofree char *client_id = g_uuid_string_random ();

  return ssq_cache_outbox_add_with_media (self, conversation_id, client_id, body, reply_to, NULL, error);
}

static gboolean
insert_entry (SsqCache    *self,
              const char  *conversation_id,
              const char  *client_id,
              const char  *body,
              gint64       reply_to,
              GPtrArray   *attachments,
              GError     **error)
{
  sqlite3_stmt *stmt = ssq_db_stmt (&self->db,
                                    "INSERT INTO outbox (client_id, conversation_id, body, reply_to, created_at) "
                                    "VALUES (?, ?, ?, ?, ?)", error);

  if (stmt == NULL)
    return FALSE;
  ssq_db_bind_text (stmt, 1, client_id);
  ssq_db_bind_text (stmt, 2, conversation_id);
  ssq_db_bind_text (stmt, 3, body);
  if (reply_to > 0)
    sqlite3_bind_int64 (stmt, 4, reply_to);
  else
    sqlite3_bind_null (stmt, 4);
  sqlite3_bind_int64 (stmt, 5, ssq_now_ms ());
  if (!ssq_db_step_done (&self->db, stmt, error))
    return FALSE;
  for (guint i = 0; attachments != NULL && i < attachments->len; i++)
    if (!add_attachment (self, client_id, i, attachments->pdata[i], error))
      return FALSE;
  return TRUE;
}

/**
 * ssq_cache_outbox_add_with_media:
 * @client_id: the new message's `client_id` (its attachments' copies are
 *   already in place: see ssq_cache_outbox_file())
 * @body: the text; may be empty when there are attachments
 * @attachments: (nullable) (element-type SsqMedia): name, type and size of
 *   each copy, in order; at most %SSQ_MESSAGE_MEDIA_MAX
 *
 * Like ssq_cache_outbox_add(), with attachments: the message and its
 * attachments are written in one transaction, fsynced.
 *
 * Returns: (transfer full): the pending message.
 */
SsqMessage *
ssq_cache_outbox_add_with_media (SsqCache    *self,
                                 const char  *conversation_id,
                                 const char  *client_id,
                                 const char  *body,
                                 gint64       reply_to,
                                 GPtrArray   *attachments,
                                 GError     **error)
{
  guint n = attachments != NULL ? attachments->len : 0;
  gboolean ok;

  g_return_val_if_fail (SSQ_IS_CACHE (self), NULL);
  g_return_val_if_fail (conversation_id != NULL && client_id != NULL, NULL);

  if (!ssq_check_text ("body", body, n > 0 ? 0 : 1, SSQ_BODY_MAX, error))
    return NULL;
  if (n > SSQ_MESSAGE_MEDIA_MAX)
    {
      g_set_error (error, SSQ_ERROR, SSQ_ERROR_INVALID, _("At most %d files go with one message"),
                   SSQ_MESSAGE_MEDIA_MAX);
      return NULL;
    }
  if (!ssq_db_exec (&self->db, "PRAGMA synchronous = FULL", error))
    return NULL;
  if (!ssq_db_run (&self->db, "SAVEPOINT outbox_add", error))
    ok = FALSE;
  else if (insert_entry (self, conversation_id, client_id, body, reply_to, attachments, error))
    ok = ssq_db_run (&self->db, "RELEASE outbox_add", error);
  else
    {
      ssq_db_run (&self->db, "ROLLBACK TO outbox_add", NULL);
      ssq_db_run (&self->db, "RELEASE outbox_add", NULL);
      ok = FALSE;
    }
  ssq_db_exec (&self->db, "PRAGMA synchronous = NORMAL", NULL);
  return ok ? ssq_cache_outbox_get (self, client_id) : NULL;
}

SsqMessage *
ssq_cache_outbox_get (SsqCache   *self,
                      const char *client_id)
{
  sqlite3_stmt *stmt = ssq_db_stmt (&self->db,
                                    "SELECT " OUTBOX_COLUMNS " FROM outbox WHERE client_id = ?", NULL);
  SsqMessage *message = NULL;

  if (stmt == NULL)
    return NULL;
  ssq_db_bind_text (stmt, 1, client_id);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    message = outbox_from_row (self, stmt);
  sqlite3_reset (stmt);
  return message;
}

static GPtrArray *
outbox_rows (SsqCache     *self,
             sqlite3_stmt *stmt)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (g_object_unref);

  if (stmt == NULL)
    return out;
  while (sqlite3_step (stmt) == SQLITE_ROW)
    g_ptr_array_add (out, outbox_from_row (self, stmt));
  sqlite3_reset (stmt);
  return out;
}

/**
 * ssq_cache_outbox_list:
 * @conversation_id: (nullable): one conversation's, or all
 *
 * Returns: (transfer full) (element-type SsqMessage): the outbox in the order
 * the messages were written.
 */
GPtrArray *
ssq_cache_outbox_list (SsqCache   *self,
                       const char *conversation_id)
{
  sqlite3_stmt *stmt = ssq_db_stmt (&self->db,
                                    "SELECT " OUTBOX_COLUMNS " FROM outbox "
                                    "WHERE ?1 IS NULL OR conversation_id = ?1 ORDER BY position", NULL);

  if (stmt != NULL)
    ssq_db_bind_text (stmt, 1, conversation_id);
  return outbox_rows (self, stmt);
}

/**
 * ssq_cache_outbox_list_after:
 * @position: an entry's place in the outbox (its `outbox_position`), or 0
 *
 * Returns: (transfer full) (element-type SsqMessage): the outbox entries
 * written after the one at @position, in order.
 */
GPtrArray *
ssq_cache_outbox_list_after (SsqCache *self,
                             gint64    position)
{
  sqlite3_stmt *stmt = ssq_db_stmt (&self->db,
                                    "SELECT " OUTBOX_COLUMNS " FROM outbox "
                                    "WHERE position > ? ORDER BY position", NULL);

  if (stmt != NULL)
    sqlite3_bind_int64 (stmt, 1, position);
  return outbox_rows (self, stmt);
}

/* Whether @client_id is still in the outbox, without making its snapshot. */
gboolean
ssq_cache_outbox_has (SsqCache   *self,
                      const char *client_id)
{
  sqlite3_stmt *stmt = ssq_db_stmt (&self->db, "SELECT 1 FROM outbox WHERE client_id = ?", NULL);
  gboolean found;

  if (stmt == NULL)
    return FALSE;
  ssq_db_bind_text (stmt, 1, client_id);
  found = sqlite3_step (stmt) == SQLITE_ROW;
  sqlite3_reset (stmt);
  return found;
}

/**
 * ssq_cache_outbox_remove:
 * Takes a message out of the outbox (sent, or given up), with its
 * attachments, whose copies are removed once that is committed.
 */
gboolean
ssq_cache_outbox_remove (SsqCache    *self,
                         const char  *client_id,
                         GError     **error)
{
  sqlite3_stmt *stmt = ssq_db_stmt (&self->db, "DELETE FROM outbox WHERE client_id = ?", error);

  if (stmt == NULL)
    return FALSE;
  /* Its attachments go with it (a trigger, in the same statement). */
  ssq_db_bind_text (stmt, 1, client_id);
  if (!ssq_db_step_done (&self->db, stmt, error))
    return FALSE;
  if (sqlite3_changes (self->db.db) == 0)
    return TRUE;   /* not in the outbox: someone else's, or acknowledged before */
  g_ptr_array_add (self->doomed_outbox, g_strdup (client_id));
  if (self->batch_depth == 0)
    ssq_cache_outbox_drop_files (self, TRUE);
  return TRUE;
}

/* A failed message stays in the outbox, marked with why, until the user
 * retries (error_text NULL) or discards it. */
gboolean
ssq_cache_outbox_set_error (SsqCache    *self,
                            const char  *client_id,
                            const char  *error_text,
                            GError     **error)
{
  sqlite3_stmt *stmt = ssq_db_stmt (&self->db,
                                    "UPDATE outbox SET error = ? WHERE client_id = ?", error);

  if (stmt == NULL)
    return FALSE;
  ssq_db_bind_text (stmt, 1, error_text);
  ssq_db_bind_text (stmt, 2, client_id);
  return ssq_db_step_done (&self->db, stmt, error);
}

guint
ssq_cache_outbox_count (SsqCache *self)
{
  sqlite3_stmt *stmt = ssq_db_stmt (&self->db, "SELECT COUNT(*) FROM outbox", NULL);
  guint count = 0;

  if (stmt == NULL)
    return 0;
  if (sqlite3_step (stmt) == SQLITE_ROW)
    count = sqlite3_column_int (stmt, 0);
  sqlite3_reset (stmt);
  return count;
}
