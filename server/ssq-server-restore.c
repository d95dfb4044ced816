/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-restore.c: a backup back into an empty data directory.
 *
 * Nothing is trusted before it is checked: the manifest's format and
 * schema, the database file's SHA-256 against the manifest (before the
 * target is touched), PRAGMA integrity_check of the copy, each media file's
 * bytes against its name, and every file the database names. The database
 * is put in place last, by rename: until then the target holds no database
 * a server would start on, and a failure removes what was written. */
#include "ssq-server-backup-private.h"
#include "ssq-server-store.h"
#include "ssq-server-media.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
  int        schema_version;
  char      *db_sha256;
  GPtrArray *missing;
  gboolean   skip_damaged;   /* leave out media files that fail their check */
  GHashTable *left_out;      /* their names */
} Manifest;

static void
manifest_clear (Manifest *m)
{
  g_free (m->db_sha256);
  g_clear_pointer (&m->missing, g_ptr_array_unref);
  g_clear_pointer (&m->left_out, g_hash_table_unref);
}

/* With skip_damaged, a media file that cannot be restored is left out,
 * loudly: one rotten photo must not keep every message from coming back.
 * Without it, the failure stands, saying how to go on. */
static gboolean
media_failed (Manifest    *m,
              const char  *sha256,
              GError     **error,
              GError      *failure)
{
  if (m->skip_damaged)
    {
      g_warning ("Left out: %s", failure->message);
      g_error_free (failure);
      g_hash_table_add (m->left_out, g_strdup (sha256));
      return TRUE;
    }
  g_set_error (error, failure->domain, failure->code,
               _("%s (restore --skip-damaged-media restores everything else without it)"),
               failure->message);
  g_error_free (failure);
  return FALSE;
}

static gboolean
bad_manifest (const char  *path,
              const char  *why,
              GError     **error)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, _("%s is not a SupersoniQ backup manifest: %s"),
               path, why);
  return FALSE;
}

static gboolean
read_manifest (const char  *src,
               Manifest    *m,
               GError     **error)
{
  g_autofree char *path = g_build_filename (src, SSQ_BACKUP_MANIFEST_NAME, NULL);
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *root, *database;
  JsonArray *missing;
  JsonNode *node;
  const char *sha256;

  if (!json_parser_load_from_file (parser, path, error))
    {
      g_prefix_error (error, _("Cannot read %s: "), path);
      return FALSE;
    }
  if (!JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return bad_manifest (path, _("not a JSON object"), error);
  root = json_node_get_object (json_parser_get_root (parser));
  if (g_strcmp0 (json_object_get_string_member_with_default (root, "format", ""),
                 SSQ_BACKUP_FORMAT) != 0)
    {
      g_autofree char *why = g_strdup_printf (_("no \"format\": \"%s\""), SSQ_BACKUP_FORMAT);

      return bad_manifest (path, why, error);
    }
  if (json_object_get_int_member_with_default (root, "format_version", 0) != SSQ_BACKUP_FORMAT_VERSION)
    return bad_manifest (path, _("an unknown format_version (made by a newer server?)"), error);
  m->schema_version = json_object_get_int_member_with_default (root, "schema_version", -1);
  if (m->schema_version < 1 || m->schema_version > SSQ_STORE_SCHEMA_VERSION)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   _("The backup %s has schema version %d; this server knows 1 to %d"), src,
                   m->schema_version, SSQ_STORE_SCHEMA_VERSION);
      return FALSE;
    }
  node = json_object_get_member (root, "database");
  database = node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
  sha256 = database ? json_object_get_string_member_with_default (database, "sha256", NULL) : NULL;
  if (sha256 == NULL || !ssq_backup_is_hash (sha256))
    return bad_manifest (path, _("no database.sha256"), error);
  m->db_sha256 = g_strdup (sha256);
  m->missing = g_ptr_array_new_with_free_func (g_free);
  node = json_object_get_member (root, "missing_media");
  missing = node != NULL && JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
  for (guint i = 0; missing != NULL && i < json_array_get_length (missing); i++)
    {
      JsonNode *element = json_array_get_element (missing, i);
      const char *hash = JSON_NODE_HOLDS_VALUE (element) ? json_node_get_string (element) : NULL;

      if (hash != NULL)
        g_ptr_array_add (m->missing, g_strdup (hash));
    }
  return TRUE;
}

static gboolean
damaged (const char  *path,
         const char  *got,
         const char  *expected,
         GError     **error)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
               _("%s is damaged: its SHA-256 is %s, the backup says %s"), path, got, expected);
  return FALSE;
}

/* Copies every media file of the backup, each checked against its name,
 * into @dest_media; their hashes into @restored. */
static gboolean
restore_media (const char  *src_media,
               const char  *dest_media,
               GHashTable  *restored,
               Manifest    *m,
               GError     **error)
{
  g_autoptr(GDir) dir = NULL;
  const char *prefix;

  if (!ssq_backup_mkdir (dest_media, error))
    return FALSE;
  if (!g_file_test (src_media, G_FILE_TEST_IS_DIR))
    return TRUE;
  dir = g_dir_open (src_media, 0, error);
  if (dir == NULL)
    return FALSE;
  while ((prefix = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *sub_path = g_build_filename (src_media, prefix, NULL);
      g_autofree char *dest_sub = g_build_filename (dest_media, prefix, NULL);
      g_autoptr(GDir) sub = g_dir_open (sub_path, 0, NULL);
      const char *name;

      if (sub == NULL || strlen (prefix) != 2)
        continue;
      if (!ssq_backup_mkdir (dest_sub, error))
        return FALSE;
      while ((name = g_dir_read_name (sub)) != NULL)
        {
          g_autofree char *from = g_build_filename (sub_path, name, NULL);
          g_autofree char *to = g_build_filename (dest_sub, name, NULL);
          g_autofree char *got = NULL;
          GError *failure = NULL;
          gboolean read_failed = FALSE;

          if (!ssq_backup_is_hash (name) || !g_str_has_prefix (name, prefix))
            continue;
          if (!ssq_backup_copy_file (from, to, &got, NULL, &read_failed, &failure))
            {
              /* The target's disk is no reason to leave files out. */
              if (!read_failed)
                {
                  g_propagate_error (error, failure);
                  return FALSE;
                }
              if (media_failed (m, name, error, failure))
                continue;
              return FALSE;
            }
          if (strcmp (got, name) != 0)
            {
              g_unlink (to);
              damaged (from, got, name, &failure);
              if (media_failed (m, name, error, failure))
                continue;
              return FALSE;
            }
          g_hash_table_add (restored, g_strdup (name));
        }
      if (!ssq_backup_sync_dir (dest_sub, error))
        return FALSE;
    }
  return ssq_backup_sync_dir (dest_media, error);
}

/* Every file the database names is there, or the backup said it lacked it. */
static gboolean
check_named (const char  *db_path,
             GHashTable  *restored,
             Manifest    *m,
             GError     **error)
{
  g_autoptr(GHashTable) named = ssq_backup_named_media (db_path, error);
  GHashTableIter iter;
  gpointer key;
  guint known_missing = 0;

  if (named == NULL)
    return FALSE;
  g_hash_table_iter_init (&iter, named);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      if (g_hash_table_contains (restored, key) || g_hash_table_contains (m->left_out, key))
        continue;
      if (g_ptr_array_find_with_equal_func (m->missing, key, g_str_equal, NULL))
        {
          known_missing++;
          continue;
        }
      if (!media_failed (m, key, error, g_error_new (G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                                                _("The backup lacks media file %s, which its "
                                                  "database names"), (char *) key)))
        return FALSE;
    }
  if (known_missing > 0)
    g_warning ("%u media file(s) were already missing when the backup was taken "
               "(missing_media in its manifest): their downloads will fail", known_missing);
  return TRUE;
}

static gboolean
restore_into (const char  *src,
              const char  *data_dir,
              Manifest    *m,
              GError     **error)
{
  g_autofree char *src_db = g_build_filename (src, SSQ_BACKUP_DB_NAME, NULL);
  g_autofree char *partial = g_build_filename (data_dir, SSQ_BACKUP_DB_NAME ".partial", NULL);
  g_autofree char *db_path = g_build_filename (data_dir, SSQ_BACKUP_DB_NAME, NULL);
  g_autofree char *src_media = g_build_filename (src, SSQ_MEDIA_DIR, NULL);
  g_autofree char *dest_media = g_build_filename (data_dir, SSQ_MEDIA_DIR, NULL);
  g_autoptr(GHashTable) restored = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autofree char *got = NULL;

  if (!ssq_backup_copy_file (src_db, partial, &got, NULL, NULL, error))
    return FALSE;
  if (strcmp (got, m->db_sha256) != 0)
    return damaged (src_db, got, m->db_sha256, error);
  return ssq_backup_check_integrity (partial, error) &&
         restore_media (src_media, dest_media, restored, m, error) &&
         check_named (partial, restored, m, error) &&
         (g_rename (partial, db_path) == 0 ||
          ssq_backup_errno (error, errno, _("Cannot rename to %s"), db_path)) &&
         ssq_backup_sync_dir (data_dir, error);
}

/* Undoes a restore cut short: only what it wrote. */
static void
remove_written (const char *data_dir,
                gboolean    made_dir)
{
  static const char *const names[] = {
    SSQ_BACKUP_DB_NAME ".partial", SSQ_BACKUP_DB_NAME ".partial-wal",
    SSQ_BACKUP_DB_NAME ".partial-shm", SSQ_MEDIA_DIR, "server.lock",
  };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *path = g_build_filename (data_dir, names[i], NULL);

      ssq_backup_remove_tree (path, NULL);
    }
  if (made_dir)
    g_rmdir (data_dir);
}

gboolean
ssq_server_backup_restore (const char  *src,
                           const char  *data_dir,
                           gboolean     skip_damaged,
                           guint       *out_left_out,
                           GError     **error)
{
  g_autofree char *src_db = g_build_filename (src, SSQ_BACKUP_DB_NAME, NULL);
  g_autofree char *got = NULL;
  Manifest m = { 0 };
  gboolean made_dir, ok;
  int lock_fd;

  if (!read_manifest (src, &m, error))
    goto fail;
  /* The whole file against the manifest before the target is touched. */
  got = ssq_backup_file_sha256 (src_db, NULL, error);
  if (got == NULL || (strcmp (got, m.db_sha256) != 0 && !damaged (src_db, got, m.db_sha256, error)))
    goto fail;
  /* A server that never got to open a database leaves its lock file. */
  if (!ssq_backup_check_empty (data_dir, _("Data directory"), "server.lock", error))
    goto fail;
  made_dir = !g_file_test (data_dir, G_FILE_TEST_EXISTS);
  if (g_mkdir_with_parents (data_dir, 0700) != 0)
    {
      ssq_backup_errno (error, errno, _("Cannot create the directory %s"), data_dir);
      goto fail;
    }
  /* No server starts on the directory while it is being filled. */
  lock_fd = ssq_backup_lock (data_dir, "server.lock", _("a server"), error);
  if (lock_fd < 0)
    goto fail;
  m.skip_damaged = skip_damaged;
  m.left_out = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  ok = restore_into (src, data_dir, &m, error);
  close (lock_fd);
  if (out_left_out != NULL)
    *out_left_out = g_hash_table_size (m.left_out);
  if (!ok)
    remove_written (data_dir, made_dir);
  manifest_clear (&m);
  return ok;
fail:
  manifest_clear (&m);
  return FALSE;
}
