/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-tui-pictures.c: pictures on the curses screen. Symbol pictures are
 * cells like any text, so curses redraws and scrolls them. Pixel pictures
 * are not known to curses: their cells are left blank, and once curses has
 * drawn the frame the pictures are painted over them with escape
 * sequences. They are painted again only when the set of pictures on screen
 * or their places change (a scroll, a new message, a resize): kitty keeps
 * pictures in a layer of its own, so they are all deleted and placed anew;
 * sixel paints into the cells, so the whole screen is repainted by curses
 * first (clearok), which wipes the old pixels. A picture only partly on
 * screen is drawn in its symbol form, which curses can cut. */
#include "ssq-tui-pictures.h"

#include <string.h>

/* A pair is a short in curses' API (setcchar). */
#define PAIR_LIMIT 32767

typedef struct {
  guint64          serial;
  SsqTuiImage     *image;     /* valid within its frame only */
  SsqTuiImageMode  mode;
  int              y, x;
} Placement;

struct _SsqTuiPictures
{
  int         first_pair;
  int         next_pair;
  GHashTable *pairs;        /* (fg, bg) → pair */
  GArray     *frame;        /* this frame's pixel pictures */
  GArray     *placed;       /* those on the terminal now */
  gboolean    dirty;        /* the terminal was repainted: place again */
  gboolean    changed;      /* this frame's differ from those placed */
};

/**
 * ssq_tui_pictures_new:
 * @first_pair: the first colour pair number pictures may define; those
 * below are the TUI's own
 */
SsqTuiPictures *
ssq_tui_pictures_new (int first_pair)
{
  SsqTuiPictures *self = g_new0 (SsqTuiPictures, 1);

  self->first_pair = self->next_pair = first_pair;
  self->pairs = g_hash_table_new (NULL, NULL);
  self->frame = g_array_new (FALSE, TRUE, sizeof (Placement));
  self->placed = g_array_new (FALSE, TRUE, sizeof (Placement));
  return self;
}

void
ssq_tui_pictures_free (SsqTuiPictures *self)
{
  if (self == NULL)
    return;
  g_hash_table_unref (self->pairs);
  g_array_unref (self->frame);
  g_array_unref (self->placed);
  g_free (self);
}

static int
pair_limit (void)
{
  return MIN (COLOR_PAIRS, PAIR_LIMIT + 1);
}

/* A colour the terminal has, or its default. */
static int
usable (int color)
{
  return color >= 0 && color < COLORS ? color : -1;
}

/**
 * ssq_tui_pictures_pair:
 * Returns: a colour pair with @fg on @bg (curses colour numbers, -1 for
 * the default), defined on first use; 0 (the default colours) on a
 * terminal without colours or when every pair is taken.
 */
int
ssq_tui_pictures_pair (SsqTuiPictures *self,
                       int             fg,
                       int             bg)
{
  gpointer key, found;
  int pair;

  if (!has_colors () || COLORS < 8)
    return 0;
  fg = usable (fg);
  bg = usable (bg);
  /* Colours are below 2^15 here (COLORS is a short's worth at most). */
  key = GINT_TO_POINTER (((fg + 1) << 16) | (bg + 1));
  if (g_hash_table_lookup_extended (self->pairs, key, NULL, &found))
    return GPOINTER_TO_INT (found);
  if (self->next_pair >= pair_limit ())
    return 0;
  pair = self->next_pair++;
  if (init_pair ((short) pair, (short) fg, (short) bg) == ERR)
    return 0;
  g_hash_table_insert (self->pairs, key, GINT_TO_POINTER (pair));
  return pair;
}

/* Row @row of @image's symbol form at (@y, @x), at most @width cells. */
void
ssq_tui_pictures_draw_row (SsqTuiPictures *self,
                           WINDOW         *window,
                           SsqTuiImage    *image,
                           int             row,
                           int             y,
                           int             x,
                           int             width)
{
  const SsqTuiImageCell *cells = ssq_tui_image_get_row (image, row);
  int n = MIN (width, ssq_tui_image_get_columns (image));

  for (int i = 0; i < n; i++)
    {
      wchar_t text[2] = { (wchar_t) cells[i].c, 0 };
      cchar_t cell;

      setcchar (&cell, text, A_NORMAL, (short) ssq_tui_pictures_pair (self, cells[i].fg, cells[i].bg), NULL);
      mvwadd_wch (window, y, x + i, &cell);
    }
}

/* Before a frame is drawn. Pairs are recycled between frames, never within
 * one: a frame draws all its pictures again with the pairs it gets. */
void
ssq_tui_pictures_begin_frame (SsqTuiPictures *self)
{
  int capacity = pair_limit () - self->first_pair;

  g_array_set_size (self->frame, 0);
  if (self->next_pair - self->first_pair > capacity * 3 / 4)
    {
      g_hash_table_remove_all (self->pairs);
      self->next_pair = self->first_pair;
    }
}

/**
 * ssq_tui_pictures_show:
 * @y: @x: where row @first_row of the picture goes on the screen
 * @width: the columns there are
 * @first_row: @n_rows: which rows of the picture are on screen
 *
 * Draws the rows of @image that are on screen: a pixel picture wholly on
 * screen is left blank and placed after the refresh; anything else is drawn
 * in its symbol form.
 */
void
ssq_tui_pictures_show (SsqTuiPictures *self,
                       WINDOW         *window,
                       SsqTuiImage    *image,
                       int             y,
                       int             x,
                       int             width,
                       int             first_row,
                       int             n_rows)
{
  int rows = ssq_tui_image_get_rows (image), columns = ssq_tui_image_get_columns (image);

  if (ssq_tui_image_get_sequence (image) != NULL && first_row == 0 && n_rows == rows && width >= columns)
    {
      Placement placement = { ssq_tui_image_get_serial (image), image, ssq_tui_image_get_mode (image), y, x };

      for (int r = 0; r < rows; r++)
        mvwhline (window, y + r, x, ' ', columns);
      g_array_append_val (self->frame, placement);
      return;
    }
  for (int r = 0; r < n_rows && first_row + r < rows; r++)
    ssq_tui_pictures_draw_row (self, window, image, first_row + r, y + r, x, width);
}

static gboolean
has_mode (GArray          *placements,
          SsqTuiImageMode  mode)
{
  for (guint i = 0; i < placements->len; i++)
    if (g_array_index (placements, Placement, i).mode == mode)
      return TRUE;
  return FALSE;
}

static gboolean
same (GArray *a,
      GArray *b)
{
  if (a->len != b->len)
    return FALSE;
  for (guint i = 0; i < a->len; i++)
    {
      Placement *p = &g_array_index (a, Placement, i), *q = &g_array_index (b, Placement, i);

      if (p->serial != q->serial || p->y != q->y || p->x != q->x)
        return FALSE;
    }
  return TRUE;
}

/**
 * ssq_tui_pictures_before_refresh:
 * Call between drawing the frame and refresh(). Where sixel pictures move
 * or go, it has curses repaint the whole screen (which wipes their pixels).
 *
 * Returns: whether the screen will be repainted whole.
 */
gboolean
ssq_tui_pictures_before_refresh (SsqTuiPictures *self)
{
  self->changed = self->dirty || !same (self->frame, self->placed);
  if (self->changed && (has_mode (self->frame, SSQ_TUI_IMAGE_SIXEL) || has_mode (self->placed, SSQ_TUI_IMAGE_SIXEL)))
    {
      clearok (curscr, TRUE);
      return TRUE;
    }
  return FALSE;
}

/**
 * ssq_tui_pictures_after_refresh:
 * Call after refresh().
 *
 * Returns: (nullable): what to write to the terminal to bring its pixel
 * pictures up to date, or NULL when they are.
 */
char *
ssq_tui_pictures_after_refresh (SsqTuiPictures *self)
{
  GString *out;

  if (!self->changed)
    return NULL;
  out = g_string_new (NULL);
  /* Only to kitty: another terminal might print an escape it does not know. */
  if (has_mode (self->placed, SSQ_TUI_IMAGE_KITTY) || has_mode (self->frame, SSQ_TUI_IMAGE_KITTY))
    g_string_append (out, ssq_tui_image_clear_sequence (SSQ_TUI_IMAGE_KITTY));
  for (guint i = 0; i < self->frame->len; i++)
    {
      Placement *p = &g_array_index (self->frame, Placement, i);
      g_autofree char *placed = ssq_tui_image_place (p->image, p->y, p->x);

      g_string_append (out, placed);
      p->image = NULL;
    }
  g_array_set_size (self->placed, 0);
  g_array_append_vals (self->placed, self->frame->data, self->frame->len);
  self->changed = FALSE;
  self->dirty = FALSE;
  if (out->len == 0)
    {
      g_string_free (out, TRUE);
      return NULL;
    }
  return g_string_free (out, FALSE);
}

/* The terminal was cleared and repainted (a resize, Ctrl-L): every pixel
 * picture is placed again at the next frame. */
void
ssq_tui_pictures_invalidate (SsqTuiPictures *self)
{
  self->dirty = TRUE;
}
