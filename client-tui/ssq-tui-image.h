/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-tui-image.h: a picture made fit for the terminal with libchafa: a grid
 * of character cells with colours (which curses can draw anywhere), and,
 * where the terminal has pixel graphics (kitty, sixel), the escape sequence
 * that paints it over those cells. Built without chafa, every picture is
 * refused with a clear error and the TUI shows none. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Not the header: the TUI builds without gdk-pixbuf too. */
typedef struct _GdkPixbuf GdkPixbuf;

typedef enum {
  SSQ_TUI_IMAGE_NONE,       /* no pictures at all */
  SSQ_TUI_IMAGE_SYMBOLS,    /* Unicode blocks in colour, drawn through curses */
  SSQ_TUI_IMAGE_SIXEL,
  SSQ_TUI_IMAGE_KITTY,
} SsqTuiImageMode;

#define SSQ_TUI_IMAGE_MAX_COLUMNS 40
#define SSQ_TUI_IMAGE_MAX_ROWS    12
/* Beyond this a file is not decoded (a header can claim anything). */
#define SSQ_TUI_IMAGE_MAX_PIXELS  (50 * 1000 * 1000)
/* The terminal's colour value for "the default colour" (and transparent). */
#define SSQ_TUI_IMAGE_DEFAULT_COLOR (-1)
/* The colour count of a direct-colour (24-bit) rendering. */
#define SSQ_TUI_IMAGE_TRUECOLOR   (1 << 24)

typedef struct {
  SsqTuiImageMode mode;
  int             colors;       /* curses' COLORS: 2, 8, 16, 256, or SSQ_TUI_IMAGE_TRUECOLOR */
  int             max_columns;  /* 0: SSQ_TUI_IMAGE_MAX_COLUMNS */
  int             max_rows;     /* 0: SSQ_TUI_IMAGE_MAX_ROWS */
  int             cell_width;   /* a cell's size in pixels; 0: unknown (10 × 20 assumed) */
  int             cell_height;
  gboolean        console_font; /* the Linux console: half blocks only */
} SsqTuiImageOptions;

/* One character cell of the symbol form. Colours are palette indexes
 * (curses colour numbers) or, at SSQ_TUI_IMAGE_TRUECOLOR, 0xRRGGBB. */
typedef struct {
  gunichar c;
  int      fg;
  int      bg;
} SsqTuiImageCell;

typedef struct _SsqTuiImage SsqTuiImage;

gboolean         ssq_tui_image_supported      (void);
SsqTuiImageMode  ssq_tui_image_detect         (const char *const       *envp);
const char      *ssq_tui_image_mode_to_string (SsqTuiImageMode          mode);
gboolean         ssq_tui_image_mode_from_string (const char            *text,
                                                 SsqTuiImageMode       *out_mode);
SsqTuiImage     *ssq_tui_image_new_from_pixbuf (GdkPixbuf              *pixbuf,
                                                const SsqTuiImageOptions *options,
                                                GError                **error);
SsqTuiImage     *ssq_tui_image_new_from_file  (const char              *path,
                                               const SsqTuiImageOptions *options,
                                               GError                 **error);
void             ssq_tui_image_free           (SsqTuiImage             *self);
SsqTuiImageMode  ssq_tui_image_get_mode       (SsqTuiImage             *self);
guint64          ssq_tui_image_get_serial     (SsqTuiImage             *self);
int              ssq_tui_image_get_columns    (SsqTuiImage             *self);
int              ssq_tui_image_get_rows       (SsqTuiImage             *self);
int              ssq_tui_image_get_colors     (SsqTuiImage             *self);
const SsqTuiImageCell *ssq_tui_image_get_row  (SsqTuiImage             *self,
                                               int                      row);
const char      *ssq_tui_image_get_sequence   (SsqTuiImage             *self);
char            *ssq_tui_image_place          (SsqTuiImage             *self,
                                               int                      y,
                                               int                      x);
const char      *ssq_tui_image_clear_sequence (SsqTuiImageMode          mode);
guint32          ssq_tui_image_palette_rgb    (int                      index);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsqTuiImage, ssq_tui_image_free)

G_END_DECLS
