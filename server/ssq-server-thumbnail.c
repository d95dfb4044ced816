/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-thumbnail.c: decodes a stored image with gdk-pixbuf, after
 * checking the size its header declares, and shrinks it to a thumbnail.
 *
 * The image is fed to a GdkPixbufLoader in chunks. The loader reports the
 * declared size ("size-prepared") before it allocates anything; there an
 * image too big is stopped (asked for 0x0, which makes every gdk-pixbuf
 * loader fail instead of allocating), and a JPEG is asked for at 1/2, 1/4
 * or 1/8 of its size, which libjpeg decodes directly. The other formats
 * decode at full size (their loaders cannot do better), then get scaled. */
#include "ssq-server-thumbnail.h"
#include "ssq-proto.h"

#include <gdk-pixbuf/gdk-pixbuf.h>

#define READ_CHUNK   (64 * 1024)
#define JPEG_QUALITY "85"

/* The types we decode. Others that gdk-pixbuf could load (SVG through
 * librsvg, TIFF, ICO, XPM...) are left out on purpose: each loader is attack
 * surface, and a chat needs previews of photos and screenshots. */
static const char *const wanted_types[] = {
  "image/jpeg", "image/png", "image/gif", "image/webp",
};

static gboolean
loader_exists (const char *mime)
{
  g_autoptr(GSList) formats = gdk_pixbuf_get_formats ();
  gboolean found = FALSE;

  for (GSList *l = formats; l != NULL && !found; l = l->next)
    {
      g_auto(GStrv) types = NULL;

      if (gdk_pixbuf_format_is_disabled (l->data))
        continue;
      types = gdk_pixbuf_format_get_mime_types (l->data);
      found = types != NULL && g_strv_contains ((const char *const *) types, mime);
    }
  return found;
}

/* Bit i set: wanted_types[i] has a loader here. Looked up once: loaders are
 * found at run time (WebP's is a separate package). */
static guint
available_types (void)
{
  static gsize once = 0;

  if (g_once_init_enter (&once))
    {
      gsize mask = 0;

      for (guint i = 0; i < G_N_ELEMENTS (wanted_types); i++)
        if (loader_exists (wanted_types[i]))
          mask |= 1u << i;
      /* Never 0 after initialisation, whatever is installed. */
      g_once_init_leave (&once, mask | (1u << G_N_ELEMENTS (wanted_types)));
    }
  return (guint) once;
}

/**
 * ssq_server_thumbnail_supported:
 * @mime: a sniffed content type
 *
 * Returns: whether images of type @mime get a thumbnail: JPEG, PNG, GIF, and
 * WebP if a gdk-pixbuf loader for it is installed.
 */
gboolean
ssq_server_thumbnail_supported (const char *mime)
{
  guint mask;

  g_return_val_if_fail (mime != NULL, FALSE);

  mask = available_types ();
  for (guint i = 0; i < G_N_ELEMENTS (wanted_types); i++)
    if (g_str_equal (mime, wanted_types[i]))
      return (mask & (1u << i)) != 0;
  return FALSE;
}

typedef struct {
  guint64  max_pixels;
  gboolean is_jpeg;
  gboolean check_rows;  /* the loader reports rows as it decodes them */
  int      width;       /* declared by the header, as stored (not upright) */
  int      height;
  gboolean too_large;
  int      rows_done;   /* rows decoded from the top, without a gap */
  int      rows_fed;    /* rows_done when the file ended */
} LoadState;

/* The thumbnail's size: the longest side brought down to
 * SSQ_THUMBNAIL_MAX_SIDE, the aspect kept; smaller images stay as they are. */
static void
fit_size (int  width,
          int  height,
          int *out_width,
          int *out_height)
{
  int longest = MAX (width, height);

  *out_width = width;
  *out_height = height;
  if (longest <= SSQ_THUMBNAIL_MAX_SIDE)
    return;
  *out_width = MAX (1, (int) ((gint64) width * SSQ_THUMBNAIL_MAX_SIDE / longest));
  *out_height = MAX (1, (int) ((gint64) height * SSQ_THUMBNAIL_MAX_SIDE / longest));
}

/* libjpeg decodes at 1/2, 1/4 or 1/8 of the size for a fraction of the
 * time and memory. The size asked for is exactly what it makes at the
 * smallest of those still at least the thumbnail's size: the loader then
 * has nothing to scale itself, and so reports the rows it decodes. */
static void
jpeg_native_size (int  width,
                  int  height,
                  int *out_width,
                  int *out_height)
{
  int fit_width, fit_height;
  int denom = 8;

  fit_size (width, height, &fit_width, &fit_height);
  while (denom > 1 && ((width + denom - 1) / denom < fit_width
                       || (height + denom - 1) / denom < fit_height))
    denom /= 2;
  *out_width = (width + denom - 1) / denom;
  *out_height = (height + denom - 1) / denom;
}

static void
size_prepared_cb (GdkPixbufLoader *loader,
                  int              width,
                  int              height,
                  gpointer         user_data)
{
  LoadState *state = user_data;
  int decode_width;
  int decode_height;

  state->width = width;
  state->height = height;
  if (width <= 0 || height <= 0 || (guint64) width * (guint64) height > state->max_pixels)
    {
      /* A size of 0 makes every gdk-pixbuf loader stop here, before it
       * allocates the image. */
      state->too_large = TRUE;
      gdk_pixbuf_loader_set_size (loader, 0, 0);
      return;
    }
  if (state->is_jpeg)
    {
      jpeg_native_size (width, height, &decode_width, &decode_height);
      gdk_pixbuf_loader_set_size (loader, decode_width, decode_height);
    }
}

/* The PNG and JPEG loaders allocate the image without clearing it and fill
 * it as rows arrive: a file cut short would show whatever the heap held
 * before (another user's picture). Cleared here, and the rows counted. */
static void
area_prepared_cb (GdkPixbufLoader *loader,
                  gpointer         user_data)
{
  LoadState *state = user_data;
  GdkPixbuf *pixbuf;

  if (!state->check_rows)
    return;
  pixbuf = gdk_pixbuf_loader_get_pixbuf (loader);
  if (pixbuf != NULL)
    gdk_pixbuf_fill (pixbuf, 0);
}

static void
area_updated_cb (GdkPixbufLoader *loader,
                 int              x,
                 int              y,
                 int              width,
                 int              height,
                 gpointer         user_data)
{
  LoadState *state = user_data;

  if (y <= state->rows_done)
    state->rows_done = MAX (state->rows_done, y + height);
}

/* Feeds the file to @loader until it ends, the loader fails (@load_error
 * set) or the size check refuses it. Returns FALSE only for a read error
 * (cancellation included). */
static gboolean
feed_loader (GdkPixbufLoader  *loader,
             GInputStream     *stream,
             const LoadState  *state,
             GCancellable     *cancellable,
             GError          **load_error,
             GError          **error)
{
  g_autofree guint8 *buf = g_malloc (READ_CHUNK);

  for (;;)
    {
      gssize n = g_input_stream_read (stream, buf, READ_CHUNK, cancellable, error);

      if (n < 0)
        return FALSE;
      if (n == 0)
        return TRUE;
      if (!gdk_pixbuf_loader_write (loader, buf, (gsize) n, load_error) || state->too_large)
        return TRUE;
    }
}

/* How many rows may still be missing when the whole file has been read.
 * A file cut short is reported a success by the PNG loader (the rest of
 * the image left blank) and by the JPEG loader (libjpeg fills the rest
 * with grey at close): the rows decoded before the end of the data tell.
 * libjpeg holds back the last row of blocks (16 rows at most) until it
 * sees the end marker, which some writers leave out: that much is let go. */
static int
cut_slack (const LoadState *state,
           GdkPixbuf       *pixbuf)
{
  int height = gdk_pixbuf_get_height (pixbuf);

  if (!state->is_jpeg)
    return 0;
  return (int) (((gint64) 16 * height + state->height - 1) / state->height);
}

/* Checks the outcome of a load; returns its image (as stored, not yet
 * upright). */
static GdkPixbuf *
loaded_image (GdkPixbufLoader  *loader,
              gboolean          closed,
              const GError     *load_error,
              const LoadState  *state,
              GError          **error)
{
  GdkPixbuf *pixbuf = gdk_pixbuf_loader_get_pixbuf (loader);

  if (state->too_large)
    {
      g_set_error (error, SSQ_ERROR, SSQ_ERROR_TOO_LARGE,
                   "Image of %dx%d pixels: more than %" G_GUINT64_FORMAT " pixels are not decoded",
                   state->width, state->height, state->max_pixels);
      return NULL;
    }
  if (!closed || pixbuf == NULL || state->width <= 0)
    {
      g_set_error (error, SSQ_ERROR, SSQ_ERROR_INVALID, "Image could not be decoded: %s",
                   load_error != NULL ? load_error->message : "no image data");
      return NULL;
    }
  if (state->check_rows && state->rows_fed + cut_slack (state, pixbuf) < gdk_pixbuf_get_height (pixbuf))
    {
      g_set_error (error, SSQ_ERROR, SSQ_ERROR_INVALID,
                   "Image cut short: %d of %d rows", state->rows_fed,
                   gdk_pixbuf_get_height (pixbuf));
      return NULL;
    }
  return g_object_ref (pixbuf);
}

/* Decodes @path (JPEG at a reduced size, the others whole), and fills
 * @state with the declared size. */
static GdkPixbuf *
decode (const char    *path,
        const char    *mime,
        LoadState     *state,
        GCancellable  *cancellable,
        GError       **error)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GFileInputStream) stream = NULL;
  g_autoptr(GdkPixbufLoader) loader = NULL;
  g_autoptr(GError) read_error = NULL;
  g_autoptr(GError) load_error = NULL;
  gboolean read_ok;
  gboolean closed;

  stream = g_file_read (file, cancellable, error);
  if (stream == NULL)
    return NULL;
  loader = gdk_pixbuf_loader_new_with_mime_type (mime, error);
  if (loader == NULL)
    return NULL;
  g_signal_connect (loader, "size-prepared", G_CALLBACK (size_prepared_cb), state);
  g_signal_connect (loader, "area-prepared", G_CALLBACK (area_prepared_cb), state);
  g_signal_connect (loader, "area-updated", G_CALLBACK (area_updated_cb), state);

  read_ok = feed_loader (loader, G_INPUT_STREAM (stream), state, cancellable,
                         &load_error, &read_error);
  state->rows_fed = state->rows_done;
  /* Closed in every case (a failed write has closed it already): a loader
   * finalized open warns, and holds on to its partial image until then. */
  closed = gdk_pixbuf_loader_close (loader, load_error == NULL ? &load_error : NULL)
           && load_error == NULL;
  if (!read_ok)
    {
      g_propagate_error (error, g_steal_pointer (&read_error));
      return NULL;
    }
  return loaded_image (loader, closed, load_error, state, error);
}

/* The thumbnail of @pixbuf, upright. */
static GdkPixbuf *
shrink_upright (GdkPixbuf  *pixbuf,
                int         width,
                int         height,
                GError    **error)
{
  g_autoptr(GdkPixbuf) small = NULL;
  GdkPixbuf *upright;

  if (gdk_pixbuf_get_width (pixbuf) == width && gdk_pixbuf_get_height (pixbuf) == height)
    small = g_object_ref (pixbuf);
  else
    {
      small = gdk_pixbuf_scale_simple (pixbuf, width, height, GDK_INTERP_BILINEAR);
      /* The orientation travels as an option. */
      if (small != NULL)
        gdk_pixbuf_copy_options (pixbuf, small);
    }
  upright = small != NULL ? gdk_pixbuf_apply_embedded_orientation (small) : NULL;
  if (upright == NULL)
    g_set_error_literal (error, SSQ_ERROR, SSQ_ERROR_INTERNAL, "Out of memory for a thumbnail");
  return upright;
}

static GBytes *
encode (GdkPixbuf   *pixbuf,
        const char **out_mime,
        GError     **error)
{
  char *buf = NULL;
  gsize len = 0;
  gboolean ok;

  /* PNG keeps transparency; everything else is a photo or close to one. */
  if (gdk_pixbuf_get_has_alpha (pixbuf))
    {
      *out_mime = "image/png";
      ok = gdk_pixbuf_save_to_buffer (pixbuf, &buf, &len, "png", error, NULL);
    }
  else
    {
      *out_mime = "image/jpeg";
      ok = gdk_pixbuf_save_to_buffer (pixbuf, &buf, &len, "jpeg", error,
                                      "quality", JPEG_QUALITY, NULL);
    }
  if (!ok)
    return NULL;
  return g_bytes_new_take (buf, len);
}

/**
 * ssq_server_thumbnail_make:
 * @path: a stored file
 * @mime: its sniffed type (the loader is chosen by it, never by guessing)
 * @max_pixels: images whose header declares more pixels are refused before
 *   anything is decoded; 0 for SSQ_THUMBNAIL_MAX_PIXELS_DEFAULT
 * @cancellable: (nullable): checked between chunks of the file
 * @error: SSQ_ERROR_INVALID for a type we do not thumbnail or an image that
 *   does not decode, SSQ_ERROR_TOO_LARGE past @max_pixels, a GIO error for
 *   a read error or cancellation
 *
 * Decodes @path to at most SSQ_THUMBNAIL_MAX_SIDE pixels on its longest
 * side, turns it upright by its EXIF orientation and encodes it. Blocks for
 * the read and decode (40 ms for a 12-megapixel JPEG, several times that
 * for a PNG, which decodes at full size): call it on a worker.
 * Thread-safe.
 *
 * Returns: (transfer full): the thumbnail and the original's upright size,
 *   or %NULL with @error set
 */
SsqServerThumbnail *
ssq_server_thumbnail_make (const char    *path,
                           const char    *mime,
                           guint64        max_pixels,
                           GCancellable  *cancellable,
                           GError       **error)
{
  g_autoptr(GdkPixbuf) pixbuf = NULL;
  g_autoptr(GdkPixbuf) upright = NULL;
  LoadState state = { 0 };
  SsqServerThumbnail *thumbnail;
  const char *out_mime = NULL;
  GBytes *data;
  gboolean turned;
  int width, height;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (mime != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!ssq_server_thumbnail_supported (mime))
    {
      g_set_error (error, SSQ_ERROR, SSQ_ERROR_INVALID, "No thumbnails for type %s", mime);
      return NULL;
    }
  state.max_pixels = max_pixels != 0 ? max_pixels : SSQ_THUMBNAIL_MAX_PIXELS_DEFAULT;
  state.is_jpeg = g_str_equal (mime, "image/jpeg");
  state.check_rows = state.is_jpeg || g_str_equal (mime, "image/png");
  pixbuf = decode (path, mime, &state, cancellable, error);
  if (pixbuf == NULL)
    return NULL;
  fit_size (state.width, state.height, &width, &height);
  upright = shrink_upright (pixbuf, width, height, error);
  if (upright == NULL)
    return NULL;
  data = encode (upright, &out_mime, error);
  if (data == NULL)
    return NULL;

  /* Orientations 5-8 turn the image a quarter: the original's upright size
   * is its stored size swapped too. */
  turned = gdk_pixbuf_get_width (upright) != width;
  thumbnail = g_new0 (SsqServerThumbnail, 1);
  thumbnail->data = data;
  thumbnail->mime = out_mime;
  thumbnail->width = gdk_pixbuf_get_width (upright);
  thumbnail->height = gdk_pixbuf_get_height (upright);
  thumbnail->source_width = turned ? state.height : state.width;
  thumbnail->source_height = turned ? state.width : state.height;
  return thumbnail;
}

void
ssq_server_thumbnail_free (SsqServerThumbnail *thumbnail)
{
  if (thumbnail == NULL)
    return;
  g_bytes_unref (thumbnail->data);
  g_free (thumbnail);
}
