/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-media.c: media snapshots. A media never changes on the server, but
 * what the client knows of it does (width and height arrive when the
 * thumbnailer has read the image; an outbox attachment gets its id once
 * uploaded): each change makes a new snapshot. */
#include <glib/gi18n.h>
#include "ssq-media-private.h"
#include "ssq-json.h"
#include "ssq-proto.h"
#include "ssq-wire.h"

#include <string.h>

struct _SsqMedia
{
  GObject  parent_instance;
  char    *id;          /* NULL while an outbox attachment waits for its upload */
  char    *name;
  char    *mime;
  gint64   size;
  gint64   width;       /* 0 while unknown */
  gint64   height;
  gboolean thumbnail;   /* the server has a thumbnail of it */
  GFile   *local_file;  /* the outbox's copy, for attachments not sent yet */
  guint    outbox_slot; /* its place in the outbox, which names the copy */
};

G_DEFINE_FINAL_TYPE (SsqMedia, ssq_media, G_TYPE_OBJECT)

static void
ssq_media_finalize (GObject *object)
{
  SsqMedia *self = SSQ_MEDIA (object);

  g_free (self->id);
  g_free (self->name);
  g_free (self->mime);
  g_clear_object (&self->local_file);
  G_OBJECT_CLASS (ssq_media_parent_class)->finalize (object);
}

static void
ssq_media_class_init (SsqMediaClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = ssq_media_finalize;
}

static void
ssq_media_init (SsqMedia *self)
{
}

/**
 * ssq_media_new:
 * @id: (nullable): the server's id, NULL for an attachment not uploaded yet
 * @width: in pixels, 0 when unknown
 *
 * Returns: (transfer full): a media snapshot, without a thumbnail
 */
SsqMedia *
ssq_media_new (const char *id,
               const char *name,
               const char *mime,
               gint64      size,
               gint64      width,
               gint64      height)
{
  SsqMedia *self = g_object_new (SSQ_TYPE_MEDIA, NULL);

  self->id = g_strdup (id);
  self->name = g_strdup (name ? name : "");
  self->mime = g_strdup (mime ? mime : "application/octet-stream");
  self->size = MAX (size, 0);
  self->width = MAX (width, 0);
  self->height = MAX (height, 0);
  return self;
}

/**
 * ssq_media_new_from_json:
 * Reads a protocol `media` object, checking every field's type.
 *
 * Returns: (transfer full): the media, or NULL with @error
 */
SsqMedia *
ssq_media_new_from_json (JsonObject  *object,
                         GError     **error)
{
  SsqWireMedia m;
  SsqMedia *self;

  if (!ssq_wire_media_decode (object, &m, error))
    return NULL;
  self = ssq_media_new (m.id, m.name, m.mime, m.size, m.width, m.height);
  self->thumbnail = m.thumbnail;
  return self;
}

/**
 * ssq_media_to_json:
 * The media as a protocol `media` object, as the server sent it. An
 * attachment still in the outbox has no id (null).
 *
 * Returns: (transfer full): the object
 */
JsonObject *
ssq_media_to_json (SsqMedia *self)
{
  SsqWireMedia m = {
    .id = self->id,
    .name = self->name,
    .mime = self->mime,
    .size = self->size,
    .width = self->width,
    .height = self->height,
    .thumbnail = self->thumbnail,
  };

  g_return_val_if_fail (SSQ_IS_MEDIA (self), NULL);
  return ssq_wire_media_encode (&m);
}

/* For the outbox: the snapshot names the copy it will upload, and the
 * copy's place among the message's attachments as the outbox stores it
 * (which stays when an attachment before it is taken out). */
void
ssq_media_set_local_file (SsqMedia *self,
                          GFile    *file,
                          guint     slot)
{
  g_set_object (&self->local_file, file);
  self->outbox_slot = slot;
}

guint
ssq_media_get_outbox_slot (SsqMedia *self)
{
  return self->outbox_slot;
}

#define GETTER(type, name, field, fallback)                      \
  type ssq_media_get_##name (SsqMedia *self)                     \
  {                                                              \
    g_return_val_if_fail (SSQ_IS_MEDIA (self), fallback);        \
    return self->field;                                          \
  }

/* ssq_media_get_id: NULL while an outbox attachment waits for its upload. */
GETTER (const char *, id, id, NULL)
/* ssq_media_get_name: as the uploader named it; show it sanitized. */
GETTER (const char *, name, name, NULL)
/* ssq_media_get_mime: the type the server read from the bytes. */
GETTER (const char *, mime, mime, NULL)
GETTER (gint64, size, size, 0)
/* ssq_media_get_width, _height: in pixels; 0 until the server knows them. */
GETTER (gint64, width, width, 0)
GETTER (gint64, height, height, 0)

/**
 * ssq_media_has_thumbnail:
 * Whether the server has a thumbnail of the media
 * (ssq_client_fetch_thumbnail_async()). A picture gets one shortly after
 * its upload: the messages carrying it then come again, changed, with
 * this set (and its width and height).
 */
gboolean
ssq_media_has_thumbnail (SsqMedia *self)
{
  g_return_val_if_fail (SSQ_IS_MEDIA (self), FALSE);
  return self->thumbnail;
}

/**
 * ssq_media_get_local_file:
 * Returns: (transfer none) (nullable): for an attachment of a message still
 *   in the outbox, the copy the outbox holds (it may be shown before it is
 *   sent); NULL otherwise.
 */
GFile *
ssq_media_get_local_file (SsqMedia *self)
{
  g_return_val_if_fail (SSQ_IS_MEDIA (self), NULL);
  return self->local_file;
}

/**
 * ssq_media_is_image:
 * Whether clients show the media as a picture: a raster image type (SVG,
 * which can hold scripts, is a file like any other).
 */
gboolean
ssq_media_is_image (SsqMedia *self)
{
  g_return_val_if_fail (SSQ_IS_MEDIA (self), FALSE);
  return g_str_has_prefix (self->mime, "image/") && strstr (self->mime, "svg") == NULL;
}

/**
 * ssq_media_list_to_text:
 * @media: (nullable) (element-type SsqMedia): a message's media
 *
 * Returns: (transfer full) (nullable): @media as a JSON array of media
 *   objects, NULL when there are none.
 */
char *
ssq_media_list_to_text (GPtrArray *media)
{
  g_autoptr(JsonArray) array = NULL;
  g_autoptr(JsonNode) node = NULL;

  if (media == NULL || media->len == 0)
    return NULL;
  array = json_array_new ();
  for (guint i = 0; i < media->len; i++)
    json_array_add_object_element (array, ssq_media_to_json (media->pdata[i]));
  node = json_node_init_array (json_node_alloc (), array);
  return ssq_json_node_to_string (node, NULL);
}

/**
 * ssq_media_list_from_json:
 * @array: (nullable): a message's `media` array
 *
 * Returns: (transfer full) (element-type SsqMedia) (nullable): the media,
 *   NULL when there are none or with @error when one is not a media object.
 */
GPtrArray *
ssq_media_list_from_json (JsonArray  *array,
                          GError    **error)
{
  g_autoptr(GPtrArray) out = NULL;
  guint n = array != NULL ? json_array_get_length (array) : 0;

  if (n == 0)
    return NULL;
  out = g_ptr_array_new_full (n, g_object_unref);
  for (guint i = 0; i < n; i++)
    {
      JsonNode *node = json_array_get_element (array, i);
      SsqMedia *media;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        {
          g_set_error (error, SSQ_ERROR, SSQ_ERROR_INVALID, _("A media must be an object"));
          return NULL;
        }
      if ((media = ssq_media_new_from_json (json_node_get_object (node), error)) == NULL)
        return NULL;
      g_ptr_array_add (out, media);
    }
  return g_steal_pointer (&out);
}

/**
 * ssq_media_list_from_text:
 * The inverse of ssq_media_list_to_text().
 *
 * Returns: (transfer full) (element-type SsqMedia) (nullable): the media,
 *   NULL when @text is NULL or empty, or with @error when it is unreadable.
 */
GPtrArray *
ssq_media_list_from_text (const char  *text,
                          GError     **error)
{
  g_autoptr(JsonParser) parser = NULL;
  JsonNode *root;

  if (text == NULL || *text == '\0')
    return NULL;
  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, text, -1, error))
    return NULL;
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_ARRAY (root))
    {
      g_set_error (error, SSQ_ERROR, SSQ_ERROR_INVALID, _("A media list must be an array"));
      return NULL;
    }
  return ssq_media_list_from_json (json_node_get_array (root), error);
}

/* Characters a media name may not hold (the server refuses control
 * characters, and keeps only what follows the last slash or backslash). */
static gboolean
bad_in_name (gunichar c)
{
  return g_unichar_iscntrl (c) || c == '/' || c == '\\' || c == 0x2028 || c == 0x2029;
}

/**
 * ssq_media_name_for_upload:
 * @name: a file's name as the file system has it (any bytes)
 *
 * The name an upload gives the server for @name: valid UTF-8, without
 * control characters or slashes, at most %SSQ_MEDIA_NAME_MAX bytes (cut
 * in its stem, so that the extension stays), never empty, "." or "..".
 *
 * Returns: (transfer full): the name
 */
char *
ssq_media_name_for_upload (const char *name)
{
  g_autofree char *valid = g_utf8_make_valid (name ? name : "", -1);
  g_autoptr(GString) out = g_string_new (NULL);
  g_autofree char *stem = NULL;
  const char *dot;
  gsize keep;

  for (const char *p = valid; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      g_string_append_unichar (out, bad_in_name (c) ? '_' : c);
    }
  if (out->len == 0 || strcmp (out->str, ".") == 0 || strcmp (out->str, "..") == 0)
    return g_strdup ("file");
  if (out->len <= SSQ_MEDIA_NAME_MAX)
    return g_string_free (g_steal_pointer (&out), FALSE);

  /* Too long: cut the stem at a character boundary, keep a short
   * extension. */
  dot = strrchr (out->str, '.');
  if (dot == NULL || strlen (dot) > 16)
    dot = out->str + out->len;
  keep = SSQ_MEDIA_NAME_MAX - strlen (dot);
  while (keep > 0 && (out->str[keep] & 0xC0) == 0x80)
    keep--;
  stem = g_strndup (out->str, keep);
  return g_strconcat (stem, dot, NULL);
}
