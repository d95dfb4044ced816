/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-tui-pictures.h: pictures on the curses screen, frame by frame: the
 * symbol form drawn into cells (with colour pairs made as needed), pixel
 * pictures (kitty, sixel) placed after curses has drawn, and removed or
 * repainted when they move. */
#pragma once

#include <stdio.h>
#include <ncursesw/curses.h>

#include "ssq-tui-image.h"

G_BEGIN_DECLS

typedef struct _SsqTuiPictures SsqTuiPictures;

SsqTuiPictures *ssq_tui_pictures_new            (int              first_pair);
void            ssq_tui_pictures_free           (SsqTuiPictures  *self);
int             ssq_tui_pictures_pair           (SsqTuiPictures  *self,
                                                 int              fg,
                                                 int              bg);
void            ssq_tui_pictures_draw_row       (SsqTuiPictures  *self,
                                                 WINDOW          *window,
                                                 SsqTuiImage     *image,
                                                 int              row,
                                                 int              y,
                                                 int              x,
                                                 int              width);
void            ssq_tui_pictures_begin_frame    (SsqTuiPictures  *self);
void            ssq_tui_pictures_show           (SsqTuiPictures  *self,
                                                 WINDOW          *window,
                                                 SsqTuiImage     *image,
                                                 int              y,
                                                 int              x,
                                                 int              width,
                                                 int              first_row,
                                                 int              n_rows);
gboolean        ssq_tui_pictures_before_refresh (SsqTuiPictures  *self);
char           *ssq_tui_pictures_after_refresh  (SsqTuiPictures  *self);
void            ssq_tui_pictures_invalidate     (SsqTuiPictures  *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsqTuiPictures, ssq_tui_pictures_free)

G_END_DECLS
