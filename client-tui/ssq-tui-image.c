/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-tui-image.c: pictures for the terminal through libchafa. Every
 * picture gets its symbol form (cells with colours, what curses draws, and
 * the fallback when a pixel picture is only partly on screen); in kitty or
 * sixel mode also the escape sequence that paints the pixels over the same
 * cells, written after curses has drawn the screen. */
#include "ssq-config.h"
#include "ssq-tui-image.h"

#include <gio/gio.h>
#include <glib/gi18n.h>
#include <string.h>

#ifdef HAVE_CHAFA
#include <chafa.h>
#include <gdk-pixbuf/gdk-pixbuf.h>
#endif

/* What a cell is assumed to measure when the terminal does not say. */
#define DEFAULT_CELL_WIDTH  10
#define DEFAULT_CELL_HEIGHT 20
/* Files are decoded at most this big: the largest picture is 40 columns
 * of a few dozen pixels, and a scaled load keeps a photo's memory small. */
#define LOAD_MAX_SIDE 1024
/* chafa's palette entries past the 256 colours: transparent, the
 * terminal's foreground and its background. */
#define CHAFA_INDEX_SPECIAL 256

#ifdef HAVE_CHAFA
static int last_serial;
#endif

struct _SsqTuiImage
{
  SsqTuiImageMode  mode;
  guint64          serial;     /* tells pictures apart across frames */
  int              columns;
  int              rows;
  int              colors;
  SsqTuiImageCell *cells;      /* rows × columns */
  char            *sequence;   /* kitty or sixel; NULL in symbol mode */
};

/**
 * ssq_tui_image_supported:
 * Returns: whether this build can draw pictures (it has libchafa).
 */
gboolean
ssq_tui_image_supported (void)
{
#ifdef HAVE_CHAFA
  return TRUE;
#else
  return FALSE;
#endif
}

#ifdef HAVE_CHAFA
static const char *
env_get (const char *const *envp,
         const char        *name)
{
  return envp ? g_environ_getenv ((char **) envp, name) : g_getenv (name);
}
#endif

/**
 * ssq_tui_image_detect:
 * @envp: (nullable): an environment, or NULL for this process's
 *
 * Which kind of picture this terminal shows: kitty graphics in kitty
 * (TERM=xterm-kitty, or KITTY_WINDOW_ID when TERM was changed), sixel
 * where chafa's terminal database knows it (foot, mlterm, WezTerm, …),
 * Unicode symbols elsewhere. Inside tmux or screen always symbols: they
 * pass neither kitty nor sixel graphics on without configuration. A dumb
 * terminal, or a build without chafa, gets none.
 */
SsqTuiImageMode
ssq_tui_image_detect (const char *const *envp)
{
#ifdef HAVE_CHAFA
  g_auto(GStrv) env = envp ? g_strdupv ((char **) envp) : g_get_environ ();
  const char *term = env_get (envp, "TERM");
  ChafaTermInfo *info;
  SsqTuiImageMode mode = SSQ_TUI_IMAGE_SYMBOLS;

  if (term == NULL || *term == '\0' || g_strcmp0 (term, "dumb") == 0)
    return SSQ_TUI_IMAGE_NONE;
  if (env_get (envp, "TMUX") != NULL || g_str_has_prefix (term, "screen") || g_str_has_prefix (term, "tmux"))
    return SSQ_TUI_IMAGE_SYMBOLS;
  if (env_get (envp, "KITTY_WINDOW_ID") != NULL)
    return SSQ_TUI_IMAGE_KITTY;
  info = chafa_term_db_detect (chafa_term_db_get_default (), env);
  if (chafa_term_info_have_seq (info, CHAFA_TERM_SEQ_BEGIN_KITTY_IMMEDIATE_IMAGE_V1))
    mode = SSQ_TUI_IMAGE_KITTY;
  else if (chafa_term_info_have_seq (info, CHAFA_TERM_SEQ_BEGIN_SIXELS))
    mode = SSQ_TUI_IMAGE_SIXEL;
  chafa_term_info_unref (info);
  return mode;
#else
  return SSQ_TUI_IMAGE_NONE;
#endif
}

static const char *const mode_names[] = { "none", "symbols", "sixel", "kitty" };

const char *
ssq_tui_image_mode_to_string (SsqTuiImageMode mode)
{
  g_return_val_if_fail (mode < G_N_ELEMENTS (mode_names), "none");
  return mode_names[mode];
}

/* For tui.ini's [images] mode, which overrides the detection. */
gboolean
ssq_tui_image_mode_from_string (const char      *text,
                                SsqTuiImageMode *out_mode)
{
  for (guint i = 0; i < G_N_ELEMENTS (mode_names); i++)
    if (text != NULL && g_ascii_strcasecmp (text, mode_names[i]) == 0)
      {
        *out_mode = (SsqTuiImageMode) i;
        return TRUE;
      }
  return FALSE;
}

void
ssq_tui_image_free (SsqTuiImage *self)
{
  if (self == NULL)
    return;
  g_free (self->cells);
  g_free (self->sequence);
  g_free (self);
}

SsqTuiImageMode
ssq_tui_image_get_mode (SsqTuiImage *self)
{
  return self->mode;
}

/* Unique for the process's life: a new picture at a freed one's address
 * is still a new picture to whoever placed the old one. */
guint64
ssq_tui_image_get_serial (SsqTuiImage *self)
{
  return self->serial;
}

int
ssq_tui_image_get_columns (SsqTuiImage *self)
{
  return self->columns;
}

int
ssq_tui_image_get_rows (SsqTuiImage *self)
{
  return self->rows;
}

int
ssq_tui_image_get_colors (SsqTuiImage *self)
{
  return self->colors;
}

/* The cells of one row of the symbol form, columns long. */
const SsqTuiImageCell *
ssq_tui_image_get_row (SsqTuiImage *self,
                       int          row)
{
  g_return_val_if_fail (row >= 0 && row < self->rows, NULL);
  return self->cells + (gsize) row * self->columns;
}

/* The pixel picture's escape sequence, drawn from the cursor; NULL in
 * symbol mode. */
const char *
ssq_tui_image_get_sequence (SsqTuiImage *self)
{
  return self->sequence;
}

/**
 * ssq_tui_image_place:
 * @y: @x: the screen cell of the picture's top left corner, from 0
 *
 * Returns: (nullable): what to write to the terminal, after curses has
 * drawn the screen, to paint the pixel picture there: the cursor saved,
 * moved, the picture, the cursor restored (curses keeps believing it where
 * it left it). NULL in symbol mode.
 */
char *
ssq_tui_image_place (SsqTuiImage *self,
                     int          y,
                     int          x)
{
  if (self->sequence == NULL)
    return NULL;
  return g_strdup_printf ("\0337\033[%d;%dH%s\0338", y + 1, x + 1, self->sequence);
}

/**
 * ssq_tui_image_clear_sequence:
 *
 * Returns: (nullable): what removes every picture of @mode from the screen
 * before they are placed anew (kitty keeps them in a layer of their own);
 * NULL where repainting the cells is what removes them (sixel paints into
 * the cells).
 */
const char *
ssq_tui_image_clear_sequence (SsqTuiImageMode mode)
{
  /* a=d: delete; d=A: every placement, and free the image data. */
  return mode == SSQ_TUI_IMAGE_KITTY ? "\033_Ga=d,d=A\033\\" : NULL;
}

/* The xterm 256-colour palette, as chafa and curses number it. */
guint32
ssq_tui_image_palette_rgb (int index)
{
  static const guint32 base[16] = {
    0x000000, 0x800000, 0x008000, 0x808000, 0x000080, 0x800080, 0x008080, 0xc0c0c0,
    0x808080, 0xff0000, 0x00ff00, 0xffff00, 0x0000ff, 0xff00ff, 0x00ffff, 0xffffff,
  };
  static const int cube[6] = { 0, 95, 135, 175, 215, 255 };

  if (index < 0 || index > 255)
    return 0;
  if (index < 16)
    return base[index];
  if (index < 232)
    {
      int i = index - 16;

      return (guint32) (cube[i / 36] << 16 | cube[(i / 6) % 6] << 8 | cube[i % 6]);
    }
  {
    int level = 8 + (index - 232) * 10;

    return (guint32) (level << 16 | level << 8 | level);
  }
}

#ifdef HAVE_CHAFA

static ChafaCanvasMode
canvas_mode_for (int colors)
{
  if (colors >= SSQ_TUI_IMAGE_TRUECOLOR)
    return CHAFA_CANVAS_MODE_TRUECOLOR;
  if (colors >= 256)
    return CHAFA_CANVAS_MODE_INDEXED_240;   /* the 16 first are themable: not those */
  if (colors >= 16)
    return CHAFA_CANVAS_MODE_INDEXED_16;
  if (colors >= 8)
    return CHAFA_CANVAS_MODE_INDEXED_8;
  return CHAFA_CANVAS_MODE_FGBG;
}

/* Single-width symbols only: curses and the wrapping count one column a
 * cell, and ambiguous-width ones are two in some locales. */
static ChafaSymbolMap *
symbol_map_new (gboolean console_font)
{
  ChafaSymbolMap *map = chafa_symbol_map_new ();

  if (console_font)
    chafa_symbol_map_add_by_tags (map, CHAFA_SYMBOL_TAG_HALF | CHAFA_SYMBOL_TAG_SPACE | CHAFA_SYMBOL_TAG_SOLID);
  else
    chafa_symbol_map_add_by_tags (map, CHAFA_SYMBOL_TAG_BLOCK | CHAFA_SYMBOL_TAG_BORDER | CHAFA_SYMBOL_TAG_SPACE);
  chafa_symbol_map_remove_by_tags (map, CHAFA_SYMBOL_TAG_WIDE | CHAFA_SYMBOL_TAG_AMBIGUOUS |
                                        CHAFA_SYMBOL_TAG_INVERTED);
  return map;
}

static ChafaCanvas *
canvas_new (const SsqTuiImageOptions *options,
            ChafaPixelMode            pixel_mode,
            int                       columns,
            int                       rows,
            int                       cell_width,
            int                       cell_height)
{
  ChafaCanvasConfig *config = chafa_canvas_config_new ();
  ChafaSymbolMap *map = symbol_map_new (options->console_font);
  ChafaCanvas *canvas;

  chafa_canvas_config_set_geometry (config, columns, rows);
  chafa_canvas_config_set_cell_geometry (config, cell_width, cell_height);
  chafa_canvas_config_set_pixel_mode (config, pixel_mode);
  chafa_canvas_config_set_canvas_mode (config, pixel_mode == CHAFA_PIXEL_MODE_SYMBOLS
                                               ? canvas_mode_for (options->colors)
                                               : CHAFA_CANVAS_MODE_TRUECOLOR);
  chafa_canvas_config_set_symbol_map (config, map);
  canvas = chafa_canvas_new (config);
  chafa_symbol_map_unref (map);
  chafa_canvas_config_unref (config);
  return canvas;
}

static void
canvas_draw (ChafaCanvas *canvas,
             GdkPixbuf   *pixbuf)
{
  chafa_canvas_draw_all_pixels (canvas,
                                gdk_pixbuf_get_has_alpha (pixbuf) ? CHAFA_PIXEL_RGBA8_UNASSOCIATED
                                                                   : CHAFA_PIXEL_RGB8,
                                gdk_pixbuf_read_pixels (pixbuf),
                                gdk_pixbuf_get_width (pixbuf), gdk_pixbuf_get_height (pixbuf),
                                gdk_pixbuf_get_rowstride (pixbuf));
}

static int
cell_color (int value,
            int colors)
{
  if (value < 0)
    return SSQ_TUI_IMAGE_DEFAULT_COLOR;
  if (colors < SSQ_TUI_IMAGE_TRUECOLOR && value >= CHAFA_INDEX_SPECIAL)
    return SSQ_TUI_IMAGE_DEFAULT_COLOR;
  return value;
}

static void
read_cells (SsqTuiImage *self,
            ChafaCanvas *canvas)
{
  self->cells = g_new0 (SsqTuiImageCell, (gsize) self->columns * self->rows);
  for (int y = 0; y < self->rows; y++)
    for (int x = 0; x < self->columns; x++)
      {
        SsqTuiImageCell *cell = &self->cells[(gsize) y * self->columns + x];
        int fg = -1, bg = -1;

        cell->c = chafa_canvas_get_char_at (canvas, x, y);
        if (cell->c == 0 || !g_unichar_isprint (cell->c))
          cell->c = ' ';
        /* Raw: palette indexes in the indexed modes (get_colors_at gives
         * the RGB they stand for), RGB in truecolor; -1 unset. */
        if (self->colors > 2)
          chafa_canvas_get_raw_colors_at (canvas, x, y, &fg, &bg);
        cell->fg = cell_color (fg, self->colors);
        cell->bg = cell_color (bg, self->colors);
      }
}

/* The pixel form's sequence: chafa prints it with the escapes of a
 * terminal that has them, whatever this one was detected as (the mode may
 * come from tui.ini). */
static char *
print_pixels (ChafaCanvas     *canvas,
              SsqTuiImageMode  mode)
{
  const char *env[] = { mode == SSQ_TUI_IMAGE_KITTY ? "TERM=xterm-kitty" : "TERM=mlterm", NULL };
  ChafaTermInfo *info = chafa_term_db_detect (chafa_term_db_get_default (), (char **) env);
  GString *out = chafa_canvas_print (canvas, info);

  chafa_term_info_unref (info);
  return g_string_free (out, FALSE);
}

/* The picture's size in cells: its own size in cells at most (a small icon
 * stays small), within the bounds, aspect kept. */
static void
fit (GdkPixbuf                *pixbuf,
     const SsqTuiImageOptions *options,
     int                       cell_width,
     int                       cell_height,
     int                      *columns,
     int                      *rows)
{
  int width = gdk_pixbuf_get_width (pixbuf), height = gdk_pixbuf_get_height (pixbuf);
  int max_columns = options->max_columns > 0 ? options->max_columns : SSQ_TUI_IMAGE_MAX_COLUMNS;
  int max_rows = options->max_rows > 0 ? options->max_rows : SSQ_TUI_IMAGE_MAX_ROWS;

  *columns = CLAMP ((width + cell_width - 1) / cell_width, 1, max_columns);
  *rows = CLAMP ((height + cell_height - 1) / cell_height, 1, max_rows);
  chafa_calc_canvas_geometry (width, height, columns, rows,
                              (gfloat) cell_width / (gfloat) cell_height, TRUE, FALSE);
  *columns = CLAMP (*columns, 1, max_columns);
  *rows = CLAMP (*rows, 1, max_rows);
}

#endif

/**
 * ssq_tui_image_new_from_pixbuf:
 * @options: the mode, the terminal's colours and the size bounds
 *
 * Returns: (transfer full): the picture at most max_columns × max_rows
 * cells, aspect kept; or NULL with @error (no chafa in this build, mode
 * NONE).
 */
SsqTuiImage *
ssq_tui_image_new_from_pixbuf (GdkPixbuf                *pixbuf,
                               const SsqTuiImageOptions *options,
                               GError                  **error)
{
#ifdef HAVE_CHAFA
  g_autoptr(SsqTuiImage) self = NULL;
  ChafaCanvas *canvas;
  int cell_width = options->cell_width > 0 ? options->cell_width : DEFAULT_CELL_WIDTH;
  int cell_height = options->cell_height > 0 ? options->cell_height : DEFAULT_CELL_HEIGHT;

  g_return_val_if_fail (GDK_IS_PIXBUF (pixbuf), NULL);
  g_return_val_if_fail (gdk_pixbuf_get_colorspace (pixbuf) == GDK_COLORSPACE_RGB &&
                        gdk_pixbuf_get_bits_per_sample (pixbuf) == 8, NULL);
  if (options->mode == SSQ_TUI_IMAGE_NONE)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                           _("This terminal shows no pictures"));
      return NULL;
    }
  self = g_new0 (SsqTuiImage, 1);
  self->serial = (guint64) g_atomic_int_add (&last_serial, 1) + 1;
  self->mode = options->mode;
  self->colors = options->colors;
  fit (pixbuf, options, cell_width, cell_height, &self->columns, &self->rows);

  canvas = canvas_new (options, CHAFA_PIXEL_MODE_SYMBOLS, self->columns, self->rows,
                       cell_width, cell_height);
  canvas_draw (canvas, pixbuf);
  read_cells (self, canvas);
  chafa_canvas_unref (canvas);

  if (options->mode == SSQ_TUI_IMAGE_KITTY || options->mode == SSQ_TUI_IMAGE_SIXEL)
    {
      canvas = canvas_new (options, options->mode == SSQ_TUI_IMAGE_KITTY ? CHAFA_PIXEL_MODE_KITTY
                                                                         : CHAFA_PIXEL_MODE_SIXELS,
                           self->columns, self->rows, cell_width, cell_height);
      canvas_draw (canvas, pixbuf);
      self->sequence = print_pixels (canvas, options->mode);
      chafa_canvas_unref (canvas);
    }
  return g_steal_pointer (&self);
#else
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                       _("This build shows no pictures (it was built without libchafa)"));
  return NULL;
#endif
}

/**
 * ssq_tui_image_new_from_file:
 *
 * Decodes an image file (gdk-pixbuf's formats), turned as its EXIF
 * orientation says, scaled while it loads, and refused without decoding
 * when its header claims more than SSQ_TUI_IMAGE_MAX_PIXELS.
 *
 * Returns: (transfer full): as ssq_tui_image_new_from_pixbuf(), or NULL
 * with @error saying why (not an image, too large, no chafa).
 */
SsqTuiImage *
ssq_tui_image_new_from_file (const char               *path,
                             const SsqTuiImageOptions *options,
                             GError                  **error)
{
#ifdef HAVE_CHAFA
  g_autoptr(GdkPixbuf) loaded = NULL;
  g_autoptr(GdkPixbuf) turned = NULL;
  g_autofree char *name = g_filename_display_basename (path);
  int width = 0, height = 0;

  if (gdk_pixbuf_get_file_info (path, &width, &height) == NULL || width <= 0 || height <= 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, _("%s is not a picture"), name);
      return NULL;
    }
  if ((gint64) width * height > SSQ_TUI_IMAGE_MAX_PIXELS)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
                   _("%s is too large to show (%d × %d pixels)"), name, width, height);
      return NULL;
    }
  loaded = gdk_pixbuf_new_from_file_at_scale (path, MIN (width, LOAD_MAX_SIDE),
                                              MIN (height, LOAD_MAX_SIDE), TRUE, error);
  if (loaded == NULL)
    return NULL;
  turned = gdk_pixbuf_apply_embedded_orientation (loaded);
  return ssq_tui_image_new_from_pixbuf (turned ? turned : loaded, options, error);
#else
  return ssq_tui_image_new_from_pixbuf (NULL, options, error);
#endif
}
