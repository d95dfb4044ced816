/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-tui-media.c: the terminal client's media parts on their own:
 * pictures made with chafa from real image files, drawn into a real curses
 * screen, pixel pictures placed and cleared frame by frame; file path
 * completion in a real folder; the /upload and /save commands; the
 * progress line and Esc. */
#include <glib/gstdio.h>
#include <locale.h>
#include <string.h>

#include "ssq-tui-private.h"
#include "ssq-tui-path.h"
#include "ssq-tui-progress.h"
#include "ssq-tui-width.h"
#include "ssq-test-server.h"
#ifdef HAVE_CHAFA
#include "ssq-test-images.h"
#endif

/* Detection from the environment, whatever this build has. */
static void
test_detect (void)
{
  const char *kitty[] = { "TERM=xterm-kitty", NULL };
  const char *kitty_window[] = { "TERM=xterm-256color", "KITTY_WINDOW_ID=3", NULL };
  const char *foot[] = { "TERM=foot", NULL };
  const char *tmux[] = { "TERM=tmux-256color", "TMUX=/tmp/x,1,0", NULL };
  const char *kitty_in_tmux[] = { "TERM=xterm-kitty", "TMUX=/tmp/x,1,0", NULL };
  const char *xterm[] = { "TERM=xterm-256color", NULL };
  const char *dumb[] = { "TERM=dumb", NULL };
  const char *nothing[] = { NULL };
  SsqTuiImageMode mode;

  g_assert_cmpint (ssq_tui_image_detect (dumb), ==, SSQ_TUI_IMAGE_NONE);
  g_assert_cmpint (ssq_tui_image_detect (nothing), ==, SSQ_TUI_IMAGE_NONE);
  if (!ssq_tui_image_supported ())
    {
      g_assert_cmpint (ssq_tui_image_detect (kitty), ==, SSQ_TUI_IMAGE_NONE);
      return;
    }
  g_assert_cmpint (ssq_tui_image_detect (kitty), ==, SSQ_TUI_IMAGE_KITTY);
  g_assert_cmpint (ssq_tui_image_detect (kitty_window), ==, SSQ_TUI_IMAGE_KITTY);
  g_assert_cmpint (ssq_tui_image_detect (foot), ==, SSQ_TUI_IMAGE_SIXEL);
  g_assert_cmpint (ssq_tui_image_detect (tmux), ==, SSQ_TUI_IMAGE_SYMBOLS);
  g_assert_cmpint (ssq_tui_image_detect (kitty_in_tmux), ==, SSQ_TUI_IMAGE_SYMBOLS);
  g_assert_cmpint (ssq_tui_image_detect (xterm), ==, SSQ_TUI_IMAGE_SYMBOLS);

  g_assert_true (ssq_tui_image_mode_from_string ("Sixel", &mode));
  g_assert_cmpint (mode, ==, SSQ_TUI_IMAGE_SIXEL);
  g_assert_false (ssq_tui_image_mode_from_string ("auto", &mode));
  g_assert_cmpstr (ssq_tui_image_mode_to_string (SSQ_TUI_IMAGE_KITTY), ==, "kitty");
}

#ifdef HAVE_CHAFA

/* The colour a cell shows where its symbol is: the foreground of a full
 * block, the background of a space, in RGB. */
static guint32
shown_rgb (const SsqTuiImageCell *cell,
           int                    colors)
{
  int color = cell->c == ' ' ? cell->bg : cell->fg;

  g_assert_cmpint (color, !=, SSQ_TUI_IMAGE_DEFAULT_COLOR);
  return colors >= SSQ_TUI_IMAGE_TRUECOLOR ? (guint32) color : ssq_tui_image_palette_rgb (color);
}

static gboolean
is_red (guint32 rgb)
{
  return (rgb >> 16) > 0xc0 && ((rgb >> 8) & 0xff) < 0x40 && (rgb & 0xff) < 0x40;
}

static char *
red_png (const char *dir,
         int         width,
         int         height)
{
  g_autoptr(GdkPixbuf) pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, width, height);
  char *path = g_build_filename (dir, "red.png", NULL);

  gdk_pixbuf_fill (pixbuf, SSQ_TEST_RED);
  ssq_test_image_save (pixbuf, path, "png");
  return path;
}

static void
test_image_symbols (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("ssq-tui-media-XXXXXX", &error);
  g_autofree char *path = red_png (dir, 1600, 800);
  static const int colors[] = { SSQ_TUI_IMAGE_TRUECOLOR, 256, 16 };

  for (guint i = 0; i < G_N_ELEMENTS (colors); i++)
    {
      SsqTuiImageOptions options = { SSQ_TUI_IMAGE_SYMBOLS, colors[i], 0, 0, 10, 20, FALSE };
      g_autoptr(SsqTuiImage) image = ssq_tui_image_new_from_file (path, &options, &error);
      int columns, rows;

      g_assert_no_error (error);
      columns = ssq_tui_image_get_columns (image);
      rows = ssq_tui_image_get_rows (image);
      g_test_message ("%d colours: %d × %d cells", colors[i], columns, rows);
      /* Within the bounds, the bounds reached, the aspect kept: 2:1 in
       * pixels is 40 × 10 cells of 10 × 20. */
      g_assert_cmpint (columns, <=, SSQ_TUI_IMAGE_MAX_COLUMNS);
      g_assert_cmpint (rows, <=, SSQ_TUI_IMAGE_MAX_ROWS);
      g_assert_cmpint (columns, ==, 40);
      g_assert_cmpint (rows, ==, 10);
      g_assert_null (ssq_tui_image_get_sequence (image));
      for (int y = 0; y < rows; y++)
        {
          const SsqTuiImageCell *row = ssq_tui_image_get_row (image, y);

          for (int x = 0; x < columns; x++)
            {
              g_assert_cmpuint (row[x].c, !=, 0);
              g_assert_cmpint (ssq_tui_char_width (row[x].c), ==, 1);
              g_assert_true (is_red (shown_rgb (&row[x], colors[i])));
            }
        }
    }
  ssq_test_remove_tree (dir);
}

static void
test_image_bounds (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("ssq-tui-media-XXXXXX", &error);
  g_autofree char *icon = red_png (dir, 16, 16);
  g_autofree char *photo = g_build_filename (dir, "phone.jpg", NULL);
  g_autofree char *huge = g_build_filename (dir, "huge.png", NULL);
  g_autofree char *text = g_build_filename (dir, "notes.png", NULL);
  SsqTuiImageOptions options = { SSQ_TUI_IMAGE_SYMBOLS, 256, 0, 0, 10, 20, FALSE };
  SsqTuiImageOptions small = { SSQ_TUI_IMAGE_SYMBOLS, 256, 8, 3, 10, 20, FALSE };
  g_autoptr(SsqTuiImage) image = NULL;

  /* A small picture stays small: 16 × 16 pixels are 2 × 1 cells. */
  image = ssq_tui_image_new_from_file (icon, &options, &error);
  g_assert_no_error (error);
  g_assert_cmpint (ssq_tui_image_get_columns (image), ==, 2);
  g_assert_cmpint (ssq_tui_image_get_rows (image), ==, 1);
  g_clear_pointer (&image, ssq_tui_image_free);

  /* A phone's photo stored landscape with orientation 6 is shown upright:
   * taller than wide. And bounds of the caller's. */
  ssq_test_image_phone_photo (photo);
  image = ssq_tui_image_new_from_file (photo, &options, &error);
  g_assert_no_error (error);
  g_assert_cmpint (ssq_tui_image_get_rows (image), ==, SSQ_TUI_IMAGE_MAX_ROWS);
  g_assert_cmpint (ssq_tui_image_get_columns (image) * 10, <, ssq_tui_image_get_rows (image) * 20);
  g_clear_pointer (&image, ssq_tui_image_free);
  image = ssq_tui_image_new_from_file (photo, &small, &error);
  g_assert_no_error (error);
  g_assert_cmpint (ssq_tui_image_get_columns (image), <=, 8);
  g_assert_cmpint (ssq_tui_image_get_rows (image), <=, 3);
  g_clear_pointer (&image, ssq_tui_image_free);

  /* A header claiming 100,000 × 100,000 pixels is refused undecoded; text
   * is not a picture; neither crashes. */
  ssq_test_image_declared_png (huge, 100000, 100000, 1);
  g_assert_null (ssq_tui_image_new_from_file (huge, &options, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE);
  g_assert_nonnull (strstr (error->message, "100000 × 100000"));
  g_clear_error (&error);
  ssq_test_write_file (text, "just words\n", 11);
  g_assert_null (ssq_tui_image_new_from_file (text, &options, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_clear_error (&error);
  options.mode = SSQ_TUI_IMAGE_NONE;
  g_assert_null (ssq_tui_image_new_from_file (icon, &options, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
  ssq_test_remove_tree (dir);
}

static SsqTuiImage *
red_image (SsqTuiImageMode mode,
           int             width,
           int             height)
{
  g_autoptr(GdkPixbuf) pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, TRUE, 8, width, height);
  SsqTuiImageOptions options = { mode, 256, 0, 0, 10, 20, FALSE };
  g_autoptr(GError) error = NULL;
  SsqTuiImage *image;

  gdk_pixbuf_fill (pixbuf, SSQ_TEST_RED);
  image = ssq_tui_image_new_from_pixbuf (pixbuf, &options, &error);
  g_assert_no_error (error);
  return image;
}

static void
test_image_pixels (void)
{
  g_autoptr(SsqTuiImage) kitty = red_image (SSQ_TUI_IMAGE_KITTY, 100, 60);
  g_autoptr(SsqTuiImage) sixel = red_image (SSQ_TUI_IMAGE_SIXEL, 100, 60);
  g_autofree char *placed = ssq_tui_image_place (kitty, 4, 2);
  const char *seq;

  /* The cells it covers: 100 × 60 pixels in cells of 10 × 20. */
  g_assert_cmpint (ssq_tui_image_get_columns (kitty), ==, 10);
  g_assert_cmpint (ssq_tui_image_get_rows (kitty), ==, 3);
  seq = ssq_tui_image_get_sequence (kitty);
  g_assert_nonnull (seq);
  g_assert_true (g_str_has_prefix (seq, "\033_G"));
  g_assert_nonnull (strstr (seq, "c=10,r=3"));
  /* Cursor saved, moved (1-based), restored: curses is not disturbed. */
  g_assert_true (g_str_has_prefix (placed, "\0337\033[5;3H\033_G"));
  g_assert_true (g_str_has_suffix (placed, "\0338"));

  seq = ssq_tui_image_get_sequence (sixel);
  g_assert_nonnull (seq);
  g_assert_nonnull (strstr (seq, "\033P"));
  g_assert_true (g_str_has_suffix (seq, "\033\\"));
  /* The symbol form is there too, for a picture half on screen. */
  g_assert_true (is_red (ssq_tui_image_palette_rgb (ssq_tui_image_get_row (sixel, 0)[0].c == ' '
                                                     ? ssq_tui_image_get_row (sixel, 0)[0].bg
                                                     : ssq_tui_image_get_row (sixel, 0)[0].fg)));
  g_assert_cmpuint (ssq_tui_image_get_serial (kitty), !=, ssq_tui_image_get_serial (sixel));
}

/* A real curses screen writing to /dev/null: what the pictures draw is
 * read back from curses' own idea of the screen. */
static SCREEN *
screen_new (FILE **out,
            FILE **in)
{
  SCREEN *screen;

  *out = fopen ("/dev/null", "w");
  *in = fopen ("/dev/null", "r");
  screen = newterm ("xterm-256color", *out, *in);
  g_assert_nonnull (screen);
  set_term (screen);
  start_color ();
  use_default_colors ();
  return screen;
}

static void
screen_free (SCREEN *screen,
             FILE   *out,
             FILE   *in)
{
  endwin ();
  delscreen (screen);
  fclose (out);
  fclose (in);
}

static void
test_pictures_curses (void)
{
  FILE *out, *in;
  SCREEN *screen = screen_new (&out, &in);
  g_autoptr(SsqTuiPictures) pictures = ssq_tui_pictures_new (16);
  g_autoptr(SsqTuiImage) symbols = red_image (SSQ_TUI_IMAGE_SYMBOLS, 100, 60);
  g_autoptr(SsqTuiImage) kitty = red_image (SSQ_TUI_IMAGE_KITTY, 100, 60);
  g_autofree char *first = NULL, *again = NULL, *moved = NULL, *gone = NULL, *after_resize = NULL;
  short fg, bg;
  cchar_t cell;
  wchar_t text[CCHARW_MAX + 1];
  attr_t attrs;
  short pair;

  /* Symbols: cells in a red pair, cut to the width given. */
  ssq_tui_pictures_begin_frame (pictures);
  ssq_tui_pictures_show (pictures, stdscr, symbols, 2, 5, 4, 0, 3);
  for (int x = 5; x < 5 + 10; x++)
    {
      mvin_wch (2, x, &cell);
      getcchar (&cell, text, &attrs, &pair, NULL);
      if (x >= 9)
        {
          g_assert_cmpint (text[0], ==, ' ');
          g_assert_cmpint (pair, ==, 0);
          continue;
        }
      g_assert_cmpint (pair, >=, 16);
      pair_content (pair, &fg, &bg);
      g_assert_true (is_red (ssq_tui_image_palette_rgb (text[0] == ' ' ? bg : fg)));
    }
  /* The same colours, the same pair. */
  g_assert_cmpint (ssq_tui_pictures_pair (pictures, 196, -1), ==, ssq_tui_pictures_pair (pictures, 196, -1));
  g_assert_false (ssq_tui_pictures_before_refresh (pictures));
  g_assert_null (ssq_tui_pictures_after_refresh (pictures));

  /* Kitty: blank cells, placed after the refresh, not again while it
   * stays; moved: every kitty picture deleted, placed anew; gone: deleted. */
  ssq_tui_pictures_begin_frame (pictures);
  ssq_tui_pictures_show (pictures, stdscr, kitty, 1, 3, 40, 0, 3);
  mvin_wch (1, 3, &cell);
  getcchar (&cell, text, &attrs, &pair, NULL);
  g_assert_cmpint (text[0], ==, ' ');
  g_assert_false (ssq_tui_pictures_before_refresh (pictures));
  first = ssq_tui_pictures_after_refresh (pictures);
  g_assert_true (g_str_has_prefix (first, "\033_Ga=d,d=A\033\\\0337\033[2;4H\033_G"));

  ssq_tui_pictures_begin_frame (pictures);
  ssq_tui_pictures_show (pictures, stdscr, kitty, 1, 3, 40, 0, 3);
  ssq_tui_pictures_before_refresh (pictures);
  again = ssq_tui_pictures_after_refresh (pictures);
  g_assert_null (again);

  ssq_tui_pictures_begin_frame (pictures);
  ssq_tui_pictures_show (pictures, stdscr, kitty, 0, 3, 40, 0, 3);
  ssq_tui_pictures_before_refresh (pictures);
  moved = ssq_tui_pictures_after_refresh (pictures);
  g_assert_true (g_str_has_prefix (moved, "\033_Ga=d,d=A\033\\\0337\033[1;4H"));

  /* Scrolled half out: its symbol form, and the pixels go. */
  ssq_tui_pictures_begin_frame (pictures);
  ssq_tui_pictures_show (pictures, stdscr, kitty, 0, 3, 40, 1, 2);
  mvin_wch (0, 3, &cell);
  getcchar (&cell, text, &attrs, &pair, NULL);
  g_assert_cmpint (pair, >=, 16);
  ssq_tui_pictures_before_refresh (pictures);
  gone = ssq_tui_pictures_after_refresh (pictures);
  g_assert_cmpstr (gone, ==, "\033_Ga=d,d=A\033\\");

  /* A resize repaints: the same place is placed again. */
  ssq_tui_pictures_begin_frame (pictures);
  ssq_tui_pictures_show (pictures, stdscr, kitty, 0, 3, 40, 0, 3);
  ssq_tui_pictures_before_refresh (pictures);
  g_free (ssq_tui_pictures_after_refresh (pictures));
  ssq_tui_pictures_invalidate (pictures);
  ssq_tui_pictures_begin_frame (pictures);
  ssq_tui_pictures_show (pictures, stdscr, kitty, 0, 3, 40, 0, 3);
  ssq_tui_pictures_before_refresh (pictures);
  after_resize = ssq_tui_pictures_after_refresh (pictures);
  g_assert_nonnull (after_resize);
  g_assert_nonnull (strstr (after_resize, "\0337\033[1;4H"));

  screen_free (screen, out, in);
}

/* Fine stripes at tmux's cell size (16 × 32 pixels, what it reports with
 * no client attached): a 64 × 48 picture is 4 × 1 cells, each averaging
 * many stripes into one flat colour, so drawn as spaces on a background.
 * They are drawn, in colour: only a screen read without its colours shows
 * them blank (the tmux test's picture check once did). */
static void
test_pictures_flat_cells (void)
{
  FILE *out, *in;
  SCREEN *screen = screen_new (&out, &in);
  g_autoptr(SsqTuiPictures) pictures = ssq_tui_pictures_new (16);
  g_autoptr(GdkPixbuf) pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, 64, 48);
  SsqTuiImageOptions options = { SSQ_TUI_IMAGE_SYMBOLS, 256, 0, 0, 16, 32, FALSE };
  g_autoptr(SsqTuiImage) image = NULL;
  g_autoptr(GError) error = NULL;
  guchar *pixels = gdk_pixbuf_get_pixels (pixbuf);
  int stride = gdk_pixbuf_get_rowstride (pixbuf);

  for (int y = 0; y < 48; y++)
    for (int x = 0; x < 64; x++)
      {
        guchar *p = pixels + y * stride + x * 3;
        gboolean on = ((x + y) / 3) % 2 == 0;

        p[0] = on ? 0xff : 0x00;
        p[1] = on ? 0xff : 0x20;
        p[2] = on ? 0x00 : 0x80;
      }
  image = ssq_tui_image_new_from_pixbuf (pixbuf, &options, &error);
  g_assert_no_error (error);
  g_assert_cmpint (ssq_tui_image_get_columns (image), ==, 4);
  g_assert_cmpint (ssq_tui_image_get_rows (image), ==, 1);

  ssq_tui_pictures_begin_frame (pictures);
  ssq_tui_pictures_show (pictures, stdscr, image, 3, 2, 40, 0, 1);
  for (int x = 2; x < 2 + 4; x++)
    {
      cchar_t cell;
      wchar_t text[CCHARW_MAX + 1];
      attr_t attrs;
      short pair, fg, bg;

      mvin_wch (3, x, &cell);
      getcchar (&cell, text, &attrs, &pair, NULL);
      g_assert_cmpint (pair, >=, 16);
      pair_content (pair, &fg, &bg);
      g_test_message ("cell %d: U+%04X on %d", x, (guint) text[0], bg);
      g_assert_cmpint (text[0], ==, ' ');
      g_assert_cmpint (bg, !=, SSQ_TUI_IMAGE_DEFAULT_COLOR);
    }
  screen_free (screen, out, in);
}

static void
test_pictures_sixel (void)
{
  FILE *out, *in;
  SCREEN *screen = screen_new (&out, &in);
  g_autoptr(SsqTuiPictures) pictures = ssq_tui_pictures_new (16);
  g_autoptr(SsqTuiImage) sixel = red_image (SSQ_TUI_IMAGE_SIXEL, 100, 60);
  g_autofree char *first = NULL, *gone = NULL;

  /* Sixel paints into the cells: a picture that moves or goes has curses
   * repaint the whole screen first; no kitty escape is ever sent. */
  ssq_tui_pictures_begin_frame (pictures);
  ssq_tui_pictures_show (pictures, stdscr, sixel, 1, 3, 40, 0, 3);
  g_assert_true (ssq_tui_pictures_before_refresh (pictures));
  first = ssq_tui_pictures_after_refresh (pictures);
  g_assert_true (g_str_has_prefix (first, "\0337\033[2;4H"));
  g_assert_null (strstr (first, "\033_G"));
  ssq_tui_pictures_begin_frame (pictures);
  ssq_tui_pictures_show (pictures, stdscr, sixel, 1, 3, 40, 0, 3);
  g_assert_false (ssq_tui_pictures_before_refresh (pictures));
  g_assert_null (ssq_tui_pictures_after_refresh (pictures));
  ssq_tui_pictures_begin_frame (pictures);
  g_assert_true (ssq_tui_pictures_before_refresh (pictures));
  gone = ssq_tui_pictures_after_refresh (pictures);
  g_assert_null (gone);
  screen_free (screen, out, in);
}

#else

static void
test_no_chafa (void)
{
  SsqTuiImageOptions options = { SSQ_TUI_IMAGE_SYMBOLS, 256, 0, 0, 0, 0, FALSE };
  g_autoptr(GError) error = NULL;

  g_assert_false (ssq_tui_image_supported ());
  g_assert_null (ssq_tui_image_new_from_file ("/nonexistent.png", &options, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
}

#endif

static void
touch (const char *dir,
       const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, "x", 1, &error);
  g_assert_no_error (error);
}

/* Completes @typed: returns the replacement, @out_n the number of names. */
static char *
complete (const char *typed,
          guint      *out_n)
{
  char *replacement = NULL;
  g_autoptr(GPtrArray) names = ssq_tui_path_complete (typed, &replacement);

  *out_n = names->len;
  return replacement;
}

static void
test_path_complete (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("ssq-tui-path-XXXXXX", &error);
  g_autofree char *pics = g_build_filename (dir, "pics", NULL);
  g_autofree char *typed = NULL, *got = NULL, *expanded = NULL, *home_file = NULL, *text = NULL;
  g_autofree char *escaped = NULL;
  char quote = 0;
  guint n;

  g_assert_no_error (error);
  touch (dir, "photo one.jpg");
  touch (dir, "photo two.png");
  touch (dir, "report.pdf");
  touch (dir, ".hidden");
  touch (dir, "it's.txt");
  g_assert_cmpint (g_mkdir (pics, 0700), ==, 0);

  /* One file: whole, with a space to go on with the caption. */
  typed = g_strdup_printf ("%s/rep", dir);
  got = complete (typed, &n);
  g_assert_cmpuint (n, ==, 1);
  g_assert_true (g_str_has_suffix (got, "/report.pdf "));
  g_clear_pointer (&got, g_free);
  g_clear_pointer (&typed, g_free);

  /* Two: as far as they agree, the space escaped. */
  typed = g_strdup_printf ("%s/ph", dir);
  got = complete (typed, &n);
  g_assert_cmpuint (n, ==, 2);
  g_assert_true (g_str_has_suffix (got, "/photo\\ "));
  g_clear_pointer (&typed, g_free);
  /* Going on from there, escaped as typed. */
  typed = g_strconcat (got, "o", NULL);
  g_clear_pointer (&got, g_free);
  got = complete (typed, &n);
  g_assert_cmpuint (n, ==, 1);
  g_assert_true (g_str_has_suffix (got, "/photo\\ one.jpg "));
  g_clear_pointer (&got, g_free);
  g_clear_pointer (&typed, g_free);

  /* In quotes: the quote closed after the name. */
  typed = g_strdup_printf ("\"%s/photo t", dir);
  got = complete (typed, &n);
  g_assert_cmpuint (n, ==, 1);
  g_assert_true (g_str_has_prefix (got, "\""));
  g_assert_true (g_str_has_suffix (got, "/photo two.png\" "));
  g_clear_pointer (&got, g_free);
  g_clear_pointer (&typed, g_free);

  /* A folder: with a slash, no space. Hidden files only when asked for. */
  typed = g_strdup_printf ("%s/pi", dir);
  got = complete (typed, &n);
  g_assert_true (g_str_has_suffix (got, "/pics/"));
  g_clear_pointer (&got, g_free);
  g_clear_pointer (&typed, g_free);
  typed = g_strdup_printf ("%s/", dir);
  g_free (complete (typed, &n));
  g_assert_cmpuint (n, ==, 5);
  g_clear_pointer (&typed, g_free);
  typed = g_strdup_printf ("%s/.h", dir);
  got = complete (typed, &n);
  g_assert_true (g_str_has_suffix (got, "/.hidden "));
  g_clear_pointer (&got, g_free);
  g_clear_pointer (&typed, g_free);

  /* A quote in a name survives the round trip. */
  typed = g_strdup_printf ("%s/it", dir);
  got = complete (typed, &n);
  g_assert_true (g_str_has_suffix (got, "/it\\'s.txt "));
  g_strchomp (got);
  text = ssq_tui_path_unescape (got, &quote);
  g_assert_cmpint (quote, ==, 0);
  g_assert_true (g_str_has_suffix (text, "/it's.txt"));
  g_clear_pointer (&got, g_free);
  g_clear_pointer (&typed, g_free);
  escaped = ssq_tui_path_escape ("it's here", '\'');
  g_assert_cmpstr (escaped, ==, "'it'\\''s here");
  g_clear_pointer (&text, g_free);
  text = ssq_tui_path_unescape (escaped, &quote);
  g_assert_cmpstr (text, ==, "it's here");
  g_assert_cmpint (quote, ==, '\'');

  /* Nothing matches: nothing changes. */
  typed = g_strdup_printf ("%s/zzz", dir);
  got = complete (typed, &n);
  g_assert_cmpuint (n, ==, 0);
  g_assert_null (got);
  g_clear_pointer (&typed, g_free);

  /* ~ is the home folder, and stays ~ in the line. */
  expanded = ssq_tui_path_expand ("~/x y");
  home_file = g_build_filename (g_get_home_dir (), "x y", NULL);
  g_assert_cmpstr (expanded, ==, home_file);
  g_clear_pointer (&expanded, g_free);
  expanded = ssq_tui_path_expand ("/tmp/~");
  g_assert_cmpstr (expanded, ==, "/tmp/~");
  got = complete ("~", &n);
  g_assert_cmpstr (got, ==, "~/");
  g_clear_pointer (&got, g_free);

  ssq_test_remove_tree (dir);
}

static const SsqTuiCommand *
parse (const char *line,
       GStrv      *args,
       GError    **error)
{
  g_clear_pointer (args, g_strfreev);
  return ssq_tui_command_parse (line, args, error);
}

static void
test_commands (void)
{
  g_auto(GStrv) args = NULL;
  g_autoptr(GError) error = NULL;
  const SsqTuiCommand *c;
  gsize start = 0;

  /* /upload: a path as a shell reads it, then the caption as typed. */
  c = parse ("/upload ~/my\\ photo.jpg look at  this", &args, &error);
  g_assert_no_error (error);
  g_assert_cmpint (c->id, ==, SSQ_TUI_CMD_UPLOAD);
  g_assert_cmpstr (args[0], ==, "~/my photo.jpg");
  g_assert_cmpstr (args[1], ==, "look at  this");
  c = parse ("/upload \"a b.pdf\"", &args, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (args[0], ==, "a b.pdf");
  g_assert_null (args[1]);
  g_assert_null (parse ("/upload", &args, &error));
  g_assert_nonnull (strstr (error->message, "Usage: /upload PATH [CAPTION]"));
  g_clear_error (&error);
  g_assert_null (parse ("/upload 'open quote", &args, &error));
  g_assert_nonnull (strstr (error->message, "Unbalanced quotes"));
  g_clear_error (&error);
  /* Other commands with a text keep theirs as typed. */
  c = parse ("/reply 3 it's \"fine\"", &args, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (args[1], ==, "it's \"fine\"");

  c = parse ("/save 12 ~/Downloads", &args, &error);
  g_assert_no_error (error);
  g_assert_cmpint (c->id, ==, SSQ_TUI_CMD_SAVE);
  g_assert_cmpstr (args[1], ==, "~/Downloads");
  c = parse ("/images off", &args, &error);
  g_assert_cmpint (c->id, ==, SSQ_TUI_CMD_IMAGES);

  /* Where Tab completes a path. */
  g_assert_true (ssq_tui_command_path_at ("/upload ~/Pi", 12, &start));
  g_assert_cmpuint (start, ==, 8);
  g_assert_true (ssq_tui_command_path_at ("/upload ", 8, &start));
  g_assert_cmpuint (start, ==, 8);
  g_assert_true (ssq_tui_command_path_at ("/upload my\\ fi", 14, &start));
  g_assert_cmpuint (start, ==, 8);
  g_assert_true (ssq_tui_command_path_at ("/upload \"my fi", 14, &start));
  g_assert_cmpuint (start, ==, 8);
  g_assert_false (ssq_tui_command_path_at ("/upload a.jpg capt", 18, &start));
  g_assert_true (ssq_tui_command_path_at ("/save 3 /tm", 11, &start));
  g_assert_cmpuint (start, ==, 8);
  g_assert_false (ssq_tui_command_path_at ("/save 3", 7, &start));
  g_assert_false (ssq_tui_command_path_at ("/dm bo", 6, &start));
  g_assert_false (ssq_tui_command_path_at ("/upload", 7, &start));
  g_assert_false (ssq_tui_command_path_at ("hello /upload x", 15, &start));
}

static void
test_progress_line (void)
{
  guint64 total = 2600000;
  g_autofree char *line = ssq_tui_progress_format ("Uploading photo.jpg", total * 45 / 100, total, 200);
  g_autofree char *unknown = ssq_tui_progress_format ("Uploading photo.jpg", 1200000, 0, 200);
  g_autofree char *done = ssq_tui_progress_format ("x", 5000, 100, 200);
  g_autofree char *empty = ssq_tui_progress_format ("x", 0, 100, 200);

  /* 45% of ten cells: four and a half. GLib's sizes keep the number and
   * the unit together with a no-break space. */
  g_assert_cmpstr (line, ==, "Uploading photo.jpg ▕████▌     ▏ 45% 1.2\u00a0MB/2.6\u00a0MB — Esc to cancel");
  g_assert_cmpstr (unknown, ==, "Uploading photo.jpg 1.2\u00a0MB — Esc to cancel");
  g_assert_true (g_str_has_prefix (done, "x ▕██████████▏ 100% "));
  g_assert_true (g_str_has_prefix (empty, "x ▕          ▏ 0% "));

  /* Narrow: the hint goes, the bar narrows, the name is cut, the bar and
   * sizes go; the percentage stays as long as it can. */
  for (int width = 3; width <= 90; width++)
    {
      g_autofree char *fitted = ssq_tui_progress_format ("Uploading a-long-file-name-indeed.jpg",
                                                         total / 3, total, width);

      g_assert_cmpint (ssq_tui_text_width (fitted, -1), <=, width);
      g_assert_nonnull (strstr (fitted, "33%"));
      if (width >= 40)
        g_assert_nonnull (strstr (fitted, "▕"));
      if (width >= 90)
        g_assert_nonnull (strstr (fitted, "Esc to cancel"));
      g_test_message ("%2d: %s", width, fitted);
    }
}

static int cancelled;

static void
cancel_cb (gpointer user_data)
{
  cancelled++;
  g_assert_cmpstr (user_data, ==, "the upload");
}

/* Esc: what covers the messages closes first; else the transfer is
 * cancelled, once. */
static void
test_escape (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("ssq-tui-esc-XXXXXX", &error);
  g_autoptr(SsqClient) client = ssq_client_new ("http://127.0.0.1:9", dir);
  g_autoptr(SsqTui) tui = ssq_tui_new (client);
  g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *shown = NULL;

  ssq_tui_progress_begin (tui, "Uploading photo.jpg", cancel_cb, (gpointer) "the upload");
  ssq_tui_progress_update (tui, 50, 100);
  shown = ssq_tui_progress_line (tui, 80);
  g_assert_true (g_str_has_prefix (shown, "Uploading photo.jpg ▕█████     ▏ 50%"));
  ssq_tui_show_overlay (tui, "Help", lines);
  ssq_tui_escape (tui);
  g_assert_cmpint (cancelled, ==, 0);
  g_assert_null (tui->overlay);
  ssq_tui_escape (tui);
  g_assert_cmpint (cancelled, ==, 1);
  ssq_tui_escape (tui);
  g_assert_cmpint (cancelled, ==, 1);
  ssq_tui_progress_end (tui);
  g_assert_null (ssq_tui_progress_line (tui, 80));

  g_clear_object (&tui);
  g_clear_object (&client);
  ssq_test_remove_tree (dir);
}

int
main (int    argc,
      char **argv)
{
  setlocale (LC_ALL, "C.UTF-8");
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/tui/media/detect", test_detect);
#ifdef HAVE_CHAFA
  g_test_add_func ("/tui/media/image-symbols", test_image_symbols);
  g_test_add_func ("/tui/media/image-bounds", test_image_bounds);
  g_test_add_func ("/tui/media/image-pixels", test_image_pixels);
  g_test_add_func ("/tui/media/pictures-curses", test_pictures_curses);
  g_test_add_func ("/tui/media/pictures-flat-cells", test_pictures_flat_cells);
  g_test_add_func ("/tui/media/pictures-sixel", test_pictures_sixel);
#else
  g_test_add_func ("/tui/media/no-chafa", test_no_chafa);
#endif
  g_test_add_func ("/tui/media/path-complete", test_path_complete);
  g_test_add_func ("/tui/media/commands", test_commands);
  g_test_add_func ("/tui/media/progress-line", test_progress_line);
  g_test_add_func ("/tui/media/escape", test_escape);
  return g_test_run ();
}
