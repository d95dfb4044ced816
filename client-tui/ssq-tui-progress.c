/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-tui-progress.c: a transfer's progress in the status bar, and Esc to
 * cancel it. */
#include "ssq-tui-private.h"
#include "ssq-tui-progress.h"
#include "ssq-tui-width.h"

#define BAR_MIN_CELLS 4

/* A bar of @cells cells between ▕ and ▏, in eighths of a cell. */
static void
append_bar (GString *out,
            guint64  done,
            guint64  total,
            int      cells)
{
  static const char *const eighths[8] = { "", "▏", "▎", "▍", "▌", "▋", "▊", "▉" };
  guint64 filled = done * (guint64) cells * 8 / total;
  int full = (int) (filled / 8), used = full;

  g_string_append (out, "▕");
  for (int i = 0; i < full; i++)
    g_string_append (out, "█");
  if (full < cells && filled % 8 > 0)
    {
      g_string_append (out, eighths[filled % 8]);
      used++;
    }
  for (int i = used; i < cells; i++)
    g_string_append_c (out, ' ');
  g_string_append (out, "▏");
}

/* What follows the label: bar (@bar_cells 0: none), percentage, sizes
 * (@sizes), hint (@hint). */
static char *
build_tail (guint64  done,
            guint64  total,
            int      bar_cells,
            gboolean sizes,
            gboolean hint)
{
  GString *out = g_string_new (NULL);
  g_autofree char *done_text = g_format_size (done);

  if (total > 0)
    {
      g_autofree char *total_text = g_format_size (total);

      if (bar_cells > 0)
        {
          g_string_append_c (out, ' ');
          append_bar (out, done, total, bar_cells);
        }
      g_string_append_printf (out, " %d%%", (int) (done * 100 / total));
      if (sizes)
        g_string_append_printf (out, " %s/%s", done_text, total_text);
    }
  else
    g_string_append_printf (out, " %s", done_text);
  if (hint)
    g_string_append_printf (out, " — %s", _("Esc to cancel"));
  return g_string_free (out, FALSE);
}

/* @label and @tail in @width, the label cut to no less than @min_label
 * columns (with an ellipsis); NULL if they do not fit so. */
static char *
join_fitting (const char *label,
              const char *tail,
              int         width,
              int         min_label)
{
  int room = width - ssq_tui_text_width (tail, -1);
  const char *end;
  g_autofree char *cut = NULL;

  if (ssq_tui_text_width (label, -1) <= room)
    return g_strconcat (label, tail, NULL);
  if (room - 1 < min_label)
    return NULL;
  end = ssq_tui_fit (label, room - 1, NULL);
  cut = g_strndup (label, end - label);
  return g_strconcat (cut, "…", tail, NULL);
}

/**
 * ssq_tui_progress_format:
 * @label: what is going on, e.g. "Uploading photo.jpg"
 * @done: @total: bytes; @total 0 when unknown (no bar then)
 * @width: the columns there are
 *
 * Returns: the progress line in at most @width columns: the hint goes
 * first, then the bar narrows, then the label is cut, then the bar and the
 * sizes go, leaving the percentage.
 */
char *
ssq_tui_progress_format (const char *label,
                         guint64     done,
                         guint64     total,
                         int         width)
{
  static const struct { int bar; gboolean sizes; gboolean hint; int min_label; } steps[] = {
    { SSQ_TUI_PROGRESS_BAR_CELLS, TRUE, TRUE, G_MAXINT / 2 },
    { SSQ_TUI_PROGRESS_BAR_CELLS, TRUE, FALSE, G_MAXINT / 2 },
    { BAR_MIN_CELLS, TRUE, FALSE, G_MAXINT / 2 },
    { BAR_MIN_CELLS, TRUE, FALSE, 8 },
    { 0, TRUE, FALSE, 8 },
    { 0, FALSE, FALSE, 4 },
  };
  g_autofree char *last_tail = NULL;

  done = total > 0 ? MIN (done, total) : done;
  for (guint i = 0; i < G_N_ELEMENTS (steps); i++)
    {
      g_autofree char *tail = build_tail (done, total, steps[i].bar, steps[i].sizes, steps[i].hint);
      char *line = join_fitting (label, tail, width, steps[i].min_label);

      if (line != NULL)
        return line;
      g_free (last_tail);
      last_tail = g_steal_pointer (&tail);
    }
  /* Narrower still: what fits of the percentage. */
  {
    const char *tail = last_tail + 1;

    return g_strndup (tail, ssq_tui_fit (tail, MAX (width, 0), NULL) - tail);
  }
}

/* The transfer shown in the status bar: one at a time. */
void
ssq_tui_progress_begin (SsqTui           *self,
                        const char       *label,
                        SsqTuiCancelFunc  cancel,
                        gpointer          user_data)
{
  g_free (self->progress_label);
  self->progress_label = g_strdup (label);
  self->progress_done = self->progress_total = 0;
  self->progress_cancel = cancel;
  self->progress_data = user_data;
  ssq_tui_queue_redraw (self);
}

void
ssq_tui_progress_update (SsqTui  *self,
                         guint64  done,
                         guint64  total)
{
  self->progress_done = done;
  self->progress_total = total;
  ssq_tui_queue_redraw (self);
}

void
ssq_tui_progress_end (SsqTui *self)
{
  g_clear_pointer (&self->progress_label, g_free);
  self->progress_cancel = NULL;
  self->progress_data = NULL;
  ssq_tui_queue_redraw (self);
}

/* The progress line, for the status bar; NULL when nothing is going on. */
char *
ssq_tui_progress_line (SsqTui *self,
                       int     width)
{
  if (self->progress_label == NULL)
    return NULL;
  return ssq_tui_progress_format (self->progress_label, self->progress_done, self->progress_total, width);
}

/**
 * ssq_tui_escape:
 * A lone Esc: closes what covers the messages (help, search, users) first,
 * as its title says; else cancels the transfer in the status bar, whose
 * cancel function is called once (the transfer ends its progress when it
 * stops).
 */
void
ssq_tui_escape (SsqTui *self)
{
  SsqTuiCancelFunc cancel = self->progress_cancel;

  if (self->overlay != NULL || self->progress_label == NULL || cancel == NULL)
    {
      ssq_tui_close_overlay (self);
      return;
    }
  self->progress_cancel = NULL;
  cancel (self->progress_data);
  ssq_tui_queue_redraw (self);
}
