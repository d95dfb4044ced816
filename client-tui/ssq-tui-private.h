/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-tui-private.h: what the terminal client's files share. */
#pragma once

#include "ssq-config.h"

#include <glib/gi18n.h>
#include <ncursesw/curses.h>

#include "ssq-conversation-list.h"
#include "ssq-message-list.h"
#include "ssq-tui.h"
#include "ssq-tui-command.h"
#include "ssq-tui-editor.h"
#include "ssq-tui-image.h"
#include "ssq-tui-pictures.h"

G_BEGIN_DECLS

/* Colour pairs. */
enum {
  SSQ_TUI_PAIR_BAR = 1,
  SSQ_TUI_PAIR_DIM,
  SSQ_TUI_PAIR_ERROR,
  SSQ_TUI_PAIR_MENTION,
  SSQ_TUI_PAIR_GOOD,
  SSQ_TUI_PAIR_QR,        /* white on black: a QR code reads on any background */
  SSQ_TUI_PAIR_USER0,     /* SSQ_TUI_N_USER_COLORS pairs for senders */
};
#define SSQ_TUI_N_USER_COLORS 6
/* Pictures define pairs from here on. */
#define SSQ_TUI_PAIR_PICTURES (SSQ_TUI_PAIR_USER0 + SSQ_TUI_N_USER_COLORS)

typedef struct _SsqTuiMedia SsqTuiMedia;

/* Stops a transfer shown in the status bar (Esc). */
typedef void (*SsqTuiCancelFunc) (gpointer user_data);

struct _SsqTui
{
  GObject              parent_instance;

  SsqClient           *client;
  SsqConversationList *conversations;
  char                *current_id;
  SsqMessageList      *messages;
  SsqTuiEditor        *editor;
  GMainLoop           *loop;
  int                  exit_code;
  gboolean             logout;

  /* Screen. */
  gboolean             curses_on;
  int                  rows, cols;
  guint                redraw_source;
  guint                stdin_source;
  guint                winch_source;
  guint                status_source;
  int                  scroll;          /* lines scrolled up from the newest */
  int                  max_scroll;
  gboolean             loading_older;
  gboolean             focused;
  gboolean             pasting;         /* inside a bracketed paste */

  /* A transient line in the status bar. */
  char                *status;
  gboolean             status_is_error;

  /* Lines shown instead of the messages (help, search, users); Esc closes. */
  char                *overlay_title;
  GPtrArray           *overlay;
  GArray              *overlay_attrs;   /* attr_t per line; NULL: none */

  /* A transfer in the status bar; Esc cancels it. */
  char                *progress_label;
  guint64              progress_done;
  guint64              progress_total;
  SsqTuiCancelFunc     progress_cancel;
  gpointer             progress_data;

  /* Pictures: how this terminal shows them, and those on screen. */
  SsqTuiImageOptions   image_options;
  SsqTuiPictures      *pictures;
  SsqTuiMedia         *media;           /* uploads, downloads, thumbnails */

  /* Settings, from tui.ini. */
  GKeyFile            *config;
  char                *config_path;
  gboolean             notify;
  gboolean             images;
  SsqTuiImageMode      images_mode;     /* NONE: detect */
};

/* ssq-tui.c */
void      ssq_tui_queue_redraw   (SsqTui      *self);
void      ssq_tui_set_status     (SsqTui      *self,
                                  gboolean     is_error,
                                  const char  *format,
                                  ...) G_GNUC_PRINTF (3, 4);
void      ssq_tui_select         (SsqTui      *self,
                                  const char  *conversation_id);
void      ssq_tui_select_index   (SsqTui      *self,
                                  int          index);
void      ssq_tui_select_step    (SsqTui      *self,
                                  int          step);
void      ssq_tui_select_unread  (SsqTui      *self);
void      ssq_tui_load_older     (SsqTui      *self);
void      ssq_tui_show_overlay   (SsqTui      *self,
                                  const char  *title,
                                  GPtrArray   *lines);
void      ssq_tui_show_overlay_attrs (SsqTui  *self,
                                      const char *title,
                                      GPtrArray  *lines,
                                      GArray     *attrs);
void      ssq_tui_close_overlay  (SsqTui      *self);
void      ssq_tui_quit           (SsqTui      *self,
                                  int          exit_code);
gboolean  ssq_tui_save_config    (SsqTui      *self);
SsqConversation *ssq_tui_get_current (SsqTui *self);
char     *ssq_tui_user_name      (SsqTui      *self,
                                  const char  *user_id);

void      ssq_tui_load_config    (SsqTui      *self);

/* ssq-tui-invite.c */
void      ssq_tui_invite_create  (SsqTui      *self,
                                  GStrv        args);

/* ssq-tui-progress.c */
void      ssq_tui_progress_begin (SsqTui           *self,
                                  const char       *label,
                                  SsqTuiCancelFunc  cancel,
                                  gpointer          user_data);
void      ssq_tui_progress_update (SsqTui     *self,
                                   guint64     done,
                                   guint64     total);
void      ssq_tui_progress_end   (SsqTui      *self);
char     *ssq_tui_progress_line  (SsqTui      *self,
                                  int          width);
void      ssq_tui_escape         (SsqTui      *self);

/* ssq-tui-media.c: attachments. */
SsqTuiMedia *ssq_tui_media_new   (SsqTui      *self);
void      ssq_tui_media_free     (SsqTuiMedia *media);
void      ssq_tui_media_attach   (SsqTui      *self);
gboolean  ssq_tui_media_open     (SsqTui      *self,
                                  gint64       seq,
                                  GError     **error);
SsqTuiImage *ssq_tui_media_picture (SsqTui   *self,
                                    SsqMedia *media);
gboolean  ssq_tui_media_upload   (SsqTui      *self,
                                  const char  *path,
                                  const char  *caption,
                                  GError     **error);
gboolean  ssq_tui_media_save     (SsqTui      *self,
                                  gint64       seq,
                                  const char  *dir,
                                  GError     **error);

/* ssq-tui-draw.c */
void      ssq_tui_draw           (SsqTui      *self);
int       ssq_tui_user_pair      (const char  *username);

/* ssq-tui-input.c */
gboolean  ssq_tui_stdin_cb       (int          fd,
                                  GIOCondition condition,
                                  gpointer     user_data);

/* ssq-tui-actions.c */
void      ssq_tui_submit         (SsqTui      *self,
                                  const char  *line);
void      ssq_tui_complete       (SsqTui      *self);

G_END_DECLS
