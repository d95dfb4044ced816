/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-store-media.c: media rows, who may see them, and their links
 * to messages. The files themselves are the media store's
 * (ssq-server-media.c): these functions only say which hashes no row
 * needs any more. */
#include "ssq-server-store-private.h"
#include "ssq-proto.h"
#include "ssq-wire.h"

#include <string.h>

#define MEDIA_COLUMNS \
  "id, uploader, name, mime, size, sha256, width, height, thumbnail_hash, thumbnail_mime, " \
  "created_at, thumbnail_pending"

/* Who may see a media: its uploader, and the members of a conversation
 * where a message carrying it was sent (deleted messages carry nothing). */
#define MEDIA_VISIBLE \
  "(uploader = ?2 OR EXISTS (SELECT 1 FROM message_media mm JOIN members mb " \
  "  ON mb.conversation_id = mm.conversation_id AND mb.user_id = ?2 WHERE mm.media_id = ?1))"

static SsqMediaRow *
media_from_row (sqlite3_stmt *stmt)
{
  SsqMediaRow *m = g_new0 (SsqMediaRow, 1);

  m->id = ssq_server_store_column_dup (stmt, 0);
  m->uploader = ssq_server_store_column_dup (stmt, 1);
  m->name = ssq_server_store_column_dup (stmt, 2);
  m->mime = ssq_server_store_column_dup (stmt, 3);
  m->size = sqlite3_column_int64 (stmt, 4);
  m->sha256 = ssq_server_store_column_dup (stmt, 5);
  m->width = sqlite3_column_int64 (stmt, 6);
  m->height = sqlite3_column_int64 (stmt, 7);
  m->thumbnail_hash = ssq_server_store_column_dup (stmt, 8);
  m->thumbnail_mime = ssq_server_store_column_dup (stmt, 9);
  m->created_at = sqlite3_column_int64 (stmt, 10);
  m->thumbnail_pending = sqlite3_column_int (stmt, 11) != 0;
  return m;
}

/* NULL without an error when there is no such row. */
static SsqMediaRow *
media_query (SsqServerStore  *store,
             sqlite3_stmt    *stmt,
             GError         **error)
{
  SsqMediaRow *m = NULL;
  int rc = sqlite3_step (stmt);

  if (rc == SQLITE_ROW)
    m = media_from_row (stmt);
  else if (rc != SQLITE_DONE)
    ssq_server_store_fail (store, error);
  sqlite3_reset (stmt);
  return m;
}

/**
 * ssq_server_store_media_usage:
 * The bytes of every distinct file @user_id uploaded that still exists:
 * the same bytes uploaded twice are stored once (the store is content
 * addressed) and count once, whatever the number of their media ids.
 */
gboolean
ssq_server_store_media_usage (SsqServerStore  *store,
                              const char      *user_id,
                              guint64         *out_bytes,
                              GError         **error)
{
  /* Equal hashes have equal sizes: MAX picks that one size. */
  sqlite3_stmt *stmt = ssq_server_store_stmt (store,
    "SELECT COALESCE(SUM(size), 0) FROM "
    "  (SELECT MAX(size) AS size FROM media WHERE uploader = ? GROUP BY sha256)", error);
  int rc;

  if (stmt == NULL)
    return FALSE;
  ssq_server_store_bind_text (stmt, 1, user_id);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    *out_bytes = (guint64) sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  return rc == SQLITE_ROW || ssq_server_store_fail (store, error);
}

/**
 * ssq_server_store_media_holds_size:
 * Whether @user_id has an upload of exactly @size bytes: an upload of
 * that size may be the same bytes again, which cost nothing, so it is not
 * refused for the quota before its body is read (its hash decides once it
 * is whole).
 */
gboolean
ssq_server_store_media_holds_size (SsqServerStore  *store,
                                   const char      *user_id,
                                   guint64          size,
                                   gboolean        *out_held,
                                   GError         **error)
{
  sqlite3_stmt *stmt = ssq_server_store_stmt (store,
    "SELECT 1 FROM media WHERE uploader = ? AND size = ? LIMIT 1", error);
  int rc;

  *out_held = FALSE;
  if (stmt == NULL)
    return FALSE;
  ssq_server_store_bind_text (stmt, 1, user_id);
  sqlite3_bind_int64 (stmt, 2, (gint64) MIN (size, (guint64) G_MAXINT64));
  rc = sqlite3_step (stmt);
  *out_held = rc == SQLITE_ROW;
  sqlite3_reset (stmt);
  return rc == SQLITE_ROW || rc == SQLITE_DONE || ssq_server_store_fail (store, error);
}

/* Whether @user_id has an upload of the bytes @sha256 already: then
 * another one costs nothing of the quota. */
static gboolean
media_held_by (SsqServerStore  *store,
               const char      *user_id,
               const char      *sha256,
               gboolean        *out_held,
               GError         **error)
{
  sqlite3_stmt *stmt = ssq_server_store_stmt (store,
    "SELECT 1 FROM media WHERE sha256 = ? AND uploader = ? LIMIT 1", error);
  int rc;

  if (stmt == NULL)
    return FALSE;
  ssq_server_store_bind_text (stmt, 1, sha256);
  ssq_server_store_bind_text (stmt, 2, user_id);
  rc = sqlite3_step (stmt);
  *out_held = rc == SQLITE_ROW;
  sqlite3_reset (stmt);
  return rc == SQLITE_ROW || rc == SQLITE_DONE || ssq_server_store_fail (store, error);
}

/**
 * ssq_server_store_media_insert:
 * Stores the row of a finished upload, unless it takes its uploader past
 * @quota bytes (0: no quota): SSQ_ERROR_QUOTA_EXCEEDED then. Bytes the
 * uploader holds already add nothing (see ssq_server_store_media_usage).
 * On the writer thread, so that uploads finishing together are counted
 * one after the other.
 */
gboolean
ssq_server_store_media_insert (SsqServerStore     *store,
                               const SsqMediaRow  *media,
                               guint64             quota,
                               GError            **error)
{
  sqlite3_stmt *stmt;
  guint64 used = 0;
  gboolean held = FALSE;

  if (quota > 0)
    {
      if (!ssq_server_store_media_usage (store, media->uploader, &used, error) ||
          !media_held_by (store, media->uploader, media->sha256, &held, error))
        return FALSE;
      if (!held && used + (guint64) media->size > quota)
        {
          g_set_error (error, SSQ_ERROR, SSQ_ERROR_QUOTA_EXCEEDED,
                       "Storage quota exceeded: %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
                       " bytes used, this file has %" G_GINT64_FORMAT,
                       used, quota, media->size);
          return FALSE;
        }
    }
  stmt = ssq_server_store_stmt (store,
    "INSERT INTO media (" MEDIA_COLUMNS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", error);
  if (stmt == NULL)
    return FALSE;
  ssq_server_store_bind_text (stmt, 1, media->id);
  ssq_server_store_bind_text (stmt, 2, media->uploader);
  ssq_server_store_bind_text (stmt, 3, media->name);
  ssq_server_store_bind_text (stmt, 4, media->mime);
  sqlite3_bind_int64 (stmt, 5, media->size);
  ssq_server_store_bind_text (stmt, 6, media->sha256);
  if (media->width > 0 && media->height > 0)
    {
      sqlite3_bind_int64 (stmt, 7, media->width);
      sqlite3_bind_int64 (stmt, 8, media->height);
    }
  else
    {
      sqlite3_bind_null (stmt, 7);
      sqlite3_bind_null (stmt, 8);
    }
  ssq_server_store_bind_text (stmt, 9, media->thumbnail_hash);
  ssq_server_store_bind_text (stmt, 10, media->thumbnail_mime);
  sqlite3_bind_int64 (stmt, 11, media->created_at);
  sqlite3_bind_int (stmt, 12, media->thumbnail_pending ? 1 : 0);
  return ssq_server_store_step_done (store, stmt, error);
}

SsqMediaRow *
ssq_server_store_media_get (SsqServerStore  *store,
                            const char      *id,
                            GError         **error)
{
  sqlite3_stmt *stmt = ssq_server_store_stmt (store,
    "SELECT " MEDIA_COLUMNS " FROM media WHERE id = ?", error);

  if (stmt == NULL)
    return NULL;
  ssq_server_store_bind_text (stmt, 1, id);
  return media_query (store, stmt, error);
}

/**
 * ssq_server_store_media_get_for:
 * The media @id if @user_id may see it (see MEDIA_VISIBLE), else NULL
 * without an error: an unknown id and a hidden one look the same.
 */
SsqMediaRow *
ssq_server_store_media_get_for (SsqServerStore  *store,
                                const char      *id,
                                const char      *user_id,
                                GError         **error)
{
  sqlite3_stmt *stmt = ssq_server_store_stmt (store,
    "SELECT " MEDIA_COLUMNS " FROM media WHERE id = ?1 AND " MEDIA_VISIBLE, error);

  if (stmt == NULL)
    return NULL;
  ssq_server_store_bind_text (stmt, 1, id);
  ssq_server_store_bind_text (stmt, 2, user_id);
  return media_query (store, stmt, error);
}

static SsqMediaRow *
require_visible (SsqServerStore  *store,
                 const char      *id,
                 const char      *user_id,
                 GError         **error)
{
  g_autoptr(GError) local_error = NULL;
  SsqMediaRow *m = ssq_server_store_media_get_for (store, id, user_id, &local_error);

  if (m == NULL)
    {
      if (local_error != NULL)
        g_propagate_error (error, g_steal_pointer (&local_error));
      else
        g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_NOT_FOUND, "Unknown media id");
    }
  return m;
}

/**
 * ssq_server_store_media_check_attachable:
 * Whether @user_id may attach each of @media_ids to a message: each must
 * exist and be the user's own upload or visible to the user (NOT_FOUND
 * otherwise).
 */
gboolean
ssq_server_store_media_check_attachable (SsqServerStore     *store,
                                         const char *const  *media_ids,
                                         const char         *user_id,
                                         GError            **error)
{
  for (guint i = 0; media_ids != NULL && media_ids[i] != NULL; i++)
    {
      g_autoptr(SsqMediaRow) m = require_visible (store, media_ids[i], user_id, error);

      if (m == NULL)
        return FALSE;
    }
  return TRUE;
}

static JsonObject *
media_object (const SsqMediaRow *m)
{
  SsqWireMedia wire = {
    .id = m->id, .name = m->name, .mime = m->mime, .size = m->size,
    .width = m->width, .height = m->height, .thumbnail = m->thumbnail_hash != NULL,
  };

  return ssq_wire_media_encode (&wire);
}

/* Stores @media as @message's media array and rewrites its wire form. */
static gboolean
message_set_media (SsqServerStore  *store,
                   SsqMessageRow   *message,
                   JsonArray       *media,
                   GError         **error)
{
  g_autoptr(GString) text = g_string_sized_new (256);
  sqlite3_stmt *stmt = ssq_server_store_stmt (store,
    "UPDATE messages SET media = ?3, "
    "  json = ssq_message_json(id, conversation_id, seq, sender, client_id, body, created_at, "
    "                          edited_at, deleted, reply_to, rev, ?3) "
    "WHERE conversation_id = ?1 AND seq = ?2 RETURNING json", error);

  if (stmt == NULL)
    return FALSE;
  ssq_wire_media_list_write (text, media);
  ssq_server_store_bind_text (stmt, 1, message->conversation_id);
  sqlite3_bind_int64 (stmt, 2, message->seq);
  sqlite3_bind_text (stmt, 3, text->str, text->len, SQLITE_TRANSIENT);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    {
      g_free (message->json);
      message->json = ssq_server_store_column_dup (stmt, 0);
    }
  if (!ssq_server_store_step_done (store, stmt, error))
    return FALSE;
  g_clear_pointer (&message->media, json_array_unref);
  message->media = json_array_ref (media);
  return TRUE;
}

/**
 * ssq_server_store_message_attach_media:
 * Links @media_ids, in order, to @message (just appended, in the same
 * transaction), each checked as ssq_server_store_media_check_attachable ()
 * does for the sender, and sets the message's media array and wire form.
 */
gboolean
ssq_server_store_message_attach_media (SsqServerStore     *store,
                                       SsqMessageRow      *message,
                                       const char *const  *media_ids,
                                       GError            **error)
{
  g_autoptr(JsonArray) media = json_array_new ();
  sqlite3_stmt *link, *mark;

  g_assert (!sqlite3_get_autocommit (store->base.db));
  if (media_ids == NULL || media_ids[0] == NULL)
    return TRUE;
  for (guint i = 0; media_ids[i] != NULL; i++)
    {
      g_autoptr(SsqMediaRow) m = require_visible (store, media_ids[i], message->sender, error);

      if (m == NULL)
        return FALSE;
      link = ssq_server_store_stmt (store,
        "INSERT INTO message_media (conversation_id, seq, position, media_id) "
        "VALUES (?, ?, ?, ?)", error);
      if (link == NULL)
        return FALSE;
      ssq_server_store_bind_text (link, 1, message->conversation_id);
      sqlite3_bind_int64 (link, 2, message->seq);
      sqlite3_bind_int (link, 3, (int) i);
      ssq_server_store_bind_text (link, 4, m->id);
      if (!ssq_server_store_step_done (store, link, error))
        return FALSE;
      /* Linked once: no longer an orphan, whatever happens to the link. */
      mark = ssq_server_store_stmt (store,
        "UPDATE media SET attached = 1 WHERE id = ? AND attached = 0", error);
      if (mark == NULL)
        return FALSE;
      ssq_server_store_bind_text (mark, 1, m->id);
      if (!ssq_server_store_step_done (store, mark, error))
        return FALSE;
      json_array_add_object_element (media, media_object (m));
    }
  return message_set_media (store, message, media, error);
}

/* The media objects of message (@conversation_id, @seq), in order. */
static JsonArray *
message_media_objects (SsqServerStore  *store,
                       const char      *conversation_id,
                       gint64           seq,
                       GError         **error)
{
  g_autoptr(JsonArray) media = json_array_new ();
  sqlite3_stmt *stmt = ssq_server_store_stmt (store,
    "SELECT m.id, m.uploader, m.name, m.mime, m.size, m.sha256, m.width, m.height, "
    "  m.thumbnail_hash, m.thumbnail_mime, m.created_at, m.thumbnail_pending "
    "FROM message_media mm JOIN media m ON m.id = mm.media_id "
    "WHERE mm.conversation_id = ? AND mm.seq = ? ORDER BY mm.position", error);
  int rc;

  if (stmt == NULL)
    return NULL;
  ssq_server_store_bind_text (stmt, 1, conversation_id);
  sqlite3_bind_int64 (stmt, 2, seq);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      g_autoptr(SsqMediaRow) m = media_from_row (stmt);

      json_array_add_object_element (media, media_object (m));
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      ssq_server_store_fail (store, error);
      return NULL;
    }
  return g_steal_pointer (&media);
}

/**
 * ssq_server_store_media_set_image:
 * What the thumbnailer learnt of image @id: its @width and @height, and its
 * thumbnail (a file of the media store, @thumbnail_hash of type
 * @thumbnail_mime; NULL: none); no thumbnail is owed it any more. Every
 * message carrying it is rewritten,
 * taking its conversation's next rev as an edit does (so that devices
 * syncing from their change cursor get it too), and added to
 * @out_messages (SsqMessageRow, for `message` events). A thumbnail it
 * replaces goes to @out_freed. In a transaction (the writer's).
 */
gboolean
ssq_server_store_media_set_image (SsqServerStore  *store,
                                  const char      *id,
                                  gint64           width,
                                  gint64           height,
                                  const char      *thumbnail_hash,
                                  const char      *thumbnail_mime,
                                  GPtrArray       *out_messages,
                                  GPtrArray       *out_freed,
                                  GError         **error)
{
  g_autoptr(SsqMediaRow) before = NULL;
  g_autoptr(GArray) seqs = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GPtrArray) conversations = g_ptr_array_new_with_free_func (g_free);
  sqlite3_stmt *stmt;
  int rc;

  g_assert (!sqlite3_get_autocommit (store->base.db));
  before = ssq_server_store_media_get (store, id, error);
  if (before == NULL)
    {
      if (error != NULL && *error == NULL)
        g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_NOT_FOUND, "No such media");
      return FALSE;
    }
  stmt = ssq_server_store_stmt (store,
    "UPDATE media SET width = ?2, height = ?3, thumbnail_hash = ?4, thumbnail_mime = ?5, "
    "  thumbnail_pending = 0 WHERE id = ?1", error);
  if (stmt == NULL)
    return FALSE;
  ssq_server_store_bind_text (stmt, 1, id);
  if (width > 0 && height > 0)
    {
      sqlite3_bind_int64 (stmt, 2, width);
      sqlite3_bind_int64 (stmt, 3, height);
    }
  else
    {
      sqlite3_bind_null (stmt, 2);
      sqlite3_bind_null (stmt, 3);
    }
  ssq_server_store_bind_text (stmt, 4, thumbnail_hash);
  ssq_server_store_bind_text (stmt, 5, thumbnail_mime);
  if (!ssq_server_store_step_done (store, stmt, error))
    return FALSE;
  if (before->thumbnail_hash != NULL && g_strcmp0 (before->thumbnail_hash, thumbnail_hash) != 0)
    g_ptr_array_add (out_freed, g_strdup (before->thumbnail_hash));

  stmt = ssq_server_store_stmt (store,
    "SELECT conversation_id, seq FROM message_media WHERE media_id = ?", error);
  if (stmt == NULL)
    return FALSE;
  ssq_server_store_bind_text (stmt, 1, id);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      gint64 seq = sqlite3_column_int64 (stmt, 1);

      g_ptr_array_add (conversations, ssq_server_store_column_dup (stmt, 0));
      g_array_append_val (seqs, seq);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    return ssq_server_store_fail (store, error);
  for (guint i = 0; i < seqs->len; i++)
    {
      g_autoptr(SsqMessageRow) message = NULL;
      g_autoptr(JsonArray) media = NULL;
      const char *conversation_id = conversations->pdata[i];
      gint64 seq = g_array_index (seqs, gint64, i);

      g_autoptr(GError) local_error = NULL;

      message = ssq_server_store_message_get (store, conversation_id, seq, &local_error);
      if (local_error != NULL)
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      if (message == NULL)
        continue;       /* a link outlives its message nowhere: no such row */
      media = message_media_objects (store, conversation_id, seq, error);
      if (media == NULL || !message_set_media (store, message, media, error) ||
          !ssq_server_store_message_update (store, message, error))
        return FALSE;
      g_ptr_array_add (out_messages, g_steal_pointer (&message));
    }
  return TRUE;
}

/**
 * ssq_server_store_media_share_image:
 * Before @media (an image owed a thumbnail, not inserted yet) is stored:
 * when another media has the same bytes and its thumbnail already, @media
 * takes its size and thumbnail and owes none. In a transaction (the
 * writer's), so that the other row cannot go meanwhile.
 */
gboolean
ssq_server_store_media_share_image (SsqServerStore  *store,
                                    SsqMediaRow     *media,
                                    GError         **error)
{
  sqlite3_stmt *stmt;
  int rc;

  g_assert (!sqlite3_get_autocommit (store->base.db));
  if (!media->thumbnail_pending)
    return TRUE;
  stmt = ssq_server_store_stmt (store,
    "SELECT width, height, thumbnail_hash, thumbnail_mime FROM media "
    "WHERE sha256 = ? AND thumbnail_hash IS NOT NULL AND thumbnail_mime IS NOT NULL LIMIT 1",
    error);
  if (stmt == NULL)
    return FALSE;
  ssq_server_store_bind_text (stmt, 1, media->sha256);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    {
      media->width = sqlite3_column_int64 (stmt, 0);
      media->height = sqlite3_column_int64 (stmt, 1);
      g_free (media->thumbnail_hash);
      media->thumbnail_hash = ssq_server_store_column_dup (stmt, 2);
      g_free (media->thumbnail_mime);
      media->thumbnail_mime = ssq_server_store_column_dup (stmt, 3);
      media->thumbnail_pending = FALSE;
    }
  sqlite3_reset (stmt);
  return rc == SQLITE_ROW || rc == SQLITE_DONE || ssq_server_store_fail (store, error);
}

/**
 * ssq_server_store_media_thumbnails_pending:
 * Up to @limit media still owed a thumbnail, the oldest first.
 *
 * Returns: (transfer full): SsqMediaRow, or NULL with @error
 */
GPtrArray *
ssq_server_store_media_thumbnails_pending (SsqServerStore  *store,
                                           guint            limit,
                                           GError         **error)
{
  g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify) ssq_media_row_free);
  sqlite3_stmt *stmt = ssq_server_store_stmt (store,
    "SELECT " MEDIA_COLUMNS " FROM media WHERE thumbnail_pending = 1 ORDER BY created_at LIMIT ?",
    error);
  int rc;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, limit);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (rows, media_from_row (stmt));
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      ssq_server_store_fail (store, error);
      return NULL;
    }
  return g_steal_pointer (&rows);
}

/**
 * ssq_server_store_media_thumbnails_owed:
 * How many media are owed a thumbnail (being made, or waiting).
 */
gboolean
ssq_server_store_media_thumbnails_owed (SsqServerStore  *store,
                                        guint64         *out_count,
                                        GError         **error)
{
  sqlite3_stmt *stmt = ssq_server_store_stmt (store,
    "SELECT count(*) FROM media WHERE thumbnail_pending = 1", error);
  int rc;

  if (stmt == NULL)
    return FALSE;
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    *out_count = (guint64) sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  return rc == SQLITE_ROW || ssq_server_store_fail (store, error);
}

/**
 * ssq_server_store_media_thumbnail_failed:
 * No thumbnail can be made of media @id (it does not decode, or is too
 * large): none is owed it any more. A media that is gone is no error.
 */
gboolean
ssq_server_store_media_thumbnail_failed (SsqServerStore  *store,
                                         const char      *id,
                                         GError         **error)
{
  sqlite3_stmt *stmt = ssq_server_store_stmt (store,
    "UPDATE media SET thumbnail_pending = 0 WHERE id = ?", error);

  if (stmt == NULL)
    return FALSE;
  ssq_server_store_bind_text (stmt, 1, id);
  return ssq_server_store_step_done (store, stmt, error);
}

/* Steps @stmt, a DELETE of media rows RETURNING sha256, thumbnail_hash,
 * adding the hashes of the files they named to @out_freed. */
static gboolean
collect_freed (SsqServerStore  *store,
               sqlite3_stmt    *stmt,
               GPtrArray       *out_freed,
               GError         **error)
{
  int rc;

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      g_ptr_array_add (out_freed, ssq_server_store_column_dup (stmt, 0));
      if (sqlite3_column_type (stmt, 1) != SQLITE_NULL)
        g_ptr_array_add (out_freed, ssq_server_store_column_dup (stmt, 1));
    }
  sqlite3_reset (stmt);
  return rc == SQLITE_DONE || ssq_server_store_fail (store, error);
}

/* Deletes media @id if no message links it any more, adding the hashes of
 * its files to @out_freed. */
static gboolean
delete_if_unlinked (SsqServerStore  *store,
                    const char      *id,
                    GPtrArray       *out_freed,
                    GError         **error)
{
  sqlite3_stmt *stmt = ssq_server_store_stmt (store,
    "DELETE FROM media WHERE id = ?1 AND NOT EXISTS "
    "  (SELECT 1 FROM message_media WHERE media_id = ?1) RETURNING sha256, thumbnail_hash", error);

  if (stmt == NULL)
    return FALSE;
  ssq_server_store_bind_text (stmt, 1, id);
  return collect_freed (store, stmt, out_freed, error);
}

/**
 * ssq_server_store_message_detach_media:
 * Unlinks the media of @message (being deleted, in the same transaction);
 * a media no other message links is deleted, and the hashes of its files
 * are added to @out_freed (they may still be shared by other rows: see
 * ssq_server_store_media_hash_used ()).
 */
gboolean
ssq_server_store_message_detach_media (SsqServerStore       *store,
                                       const SsqMessageRow  *message,
                                       GPtrArray            *out_freed,
                                       GError              **error)
{
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  sqlite3_stmt *stmt;
  int rc;

  g_assert (!sqlite3_get_autocommit (store->base.db));
  stmt = ssq_server_store_stmt (store,
    "DELETE FROM message_media WHERE conversation_id = ? AND seq = ? RETURNING media_id", error);
  if (stmt == NULL)
    return FALSE;
  ssq_server_store_bind_text (stmt, 1, message->conversation_id);
  sqlite3_bind_int64 (stmt, 2, message->seq);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (ids, ssq_server_store_column_dup (stmt, 0));
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    return ssq_server_store_fail (store, error);
  for (guint i = 0; i < ids->len; i++)
    if (!delete_if_unlinked (store, ids->pdata[i], out_freed, error))
      return FALSE;
  return TRUE;
}

/**
 * ssq_server_store_media_expire:
 * Deletes up to @limit uploads that no message ever linked and that were
 * made before @created_before; the hashes of their files go to @out_freed.
 */
gboolean
ssq_server_store_media_expire (SsqServerStore  *store,
                               gint64           created_before,
                               guint            limit,
                               GPtrArray       *out_freed,
                               GError         **error)
{
  sqlite3_stmt *stmt = ssq_server_store_stmt (store,
    "DELETE FROM media WHERE id IN (SELECT id FROM media WHERE attached = 0 AND created_at < ? "
    "  LIMIT ?) RETURNING sha256, thumbnail_hash", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, created_before);
  sqlite3_bind_int64 (stmt, 2, limit);
  return collect_freed (store, stmt, out_freed, error);
}

/**
 * ssq_server_store_media_hash_used:
 * Whether any media row still names the file @sha256 (as its bytes or its
 * thumbnail).
 */
gboolean
ssq_server_store_media_hash_used (SsqServerStore  *store,
                                  const char      *sha256,
                                  gboolean        *out_used,
                                  GError         **error)
{
  sqlite3_stmt *stmt = ssq_server_store_stmt (store,
    "SELECT EXISTS (SELECT 1 FROM media WHERE sha256 = ?1) OR "
    "       EXISTS (SELECT 1 FROM media WHERE thumbnail_hash = ?1)", error);
  int rc;

  if (stmt == NULL)
    return FALSE;
  ssq_server_store_bind_text (stmt, 1, sha256);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    *out_used = sqlite3_column_int (stmt, 0) != 0;
  sqlite3_reset (stmt);
  return rc == SQLITE_ROW || ssq_server_store_fail (store, error);
}

/**
 * ssq_server_store_media_hashes:
 * Every file hash a media row names, as a set: what the media store keeps
 * when it sweeps at start-up.
 *
 * Returns: (transfer full): a set of hex strings, or NULL with @error
 */
GHashTable *
ssq_server_store_media_hashes (SsqServerStore  *store,
                               GError         **error)
{
  g_autoptr(GHashTable) set = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  sqlite3_stmt *stmt = ssq_server_store_stmt (store,
    "SELECT sha256 FROM media UNION "
    "SELECT thumbnail_hash FROM media WHERE thumbnail_hash IS NOT NULL", error);
  int rc;

  if (stmt == NULL)
    return NULL;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_hash_table_add (set, ssq_server_store_column_dup (stmt, 0));
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      ssq_server_store_fail (store, error);
      return NULL;
    }
  return g_steal_pointer (&set);
}
