/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-tui-command.h: the slash commands, one declarative table: names,
 * arguments and help, parsing of a typed line, completion and /help. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  SSQ_TUI_CMD_HELP,
  SSQ_TUI_CMD_DM,
  SSQ_TUI_CMD_GROUP,
  SSQ_TUI_CMD_OPEN,
  SSQ_TUI_CMD_INVITE,
  SSQ_TUI_CMD_KICK,
  SSQ_TUI_CMD_LEAVE,
  SSQ_TUI_CMD_TITLE,
  SSQ_TUI_CMD_MUTE,
  SSQ_TUI_CMD_UNMUTE,
  SSQ_TUI_CMD_REPLY,
  SSQ_TUI_CMD_EDIT,
  SSQ_TUI_CMD_DELETE,
  SSQ_TUI_CMD_RETRY,
  SSQ_TUI_CMD_DISCARD,
  SSQ_TUI_CMD_SEARCH,
  SSQ_TUI_CMD_AWAY,
  SSQ_TUI_CMD_BACK,
  SSQ_TUI_CMD_USERS,
  SSQ_TUI_CMD_NOTIFY,
  SSQ_TUI_CMD_UPLOAD,
  SSQ_TUI_CMD_SAVE,
  SSQ_TUI_CMD_IMAGES,
  SSQ_TUI_CMD_LOGOUT,
  SSQ_TUI_CMD_QUIT,
  SSQ_TUI_N_COMMANDS
} SsqTuiCommandId;

typedef struct {
  SsqTuiCommandId id;
  const char     *name;
  const char     *usage;      /* arguments, translatable */
  const char     *help;       /* translatable */
  int             min_args;
  int             max_args;   /* -1: any number */
  gboolean        rest_is_text; /* the last argument is the rest of the line */
  int             path_arg;   /* which argument (from 1) is a file path; 0: none */
} SsqTuiCommand;

const SsqTuiCommand *ssq_tui_command_parse    (const char  *line,
                                               GStrv       *out_args,
                                               GError     **error);
char                *ssq_tui_command_help     (void);
GPtrArray           *ssq_tui_command_complete (const char  *prefix);
const SsqTuiCommand *ssq_tui_command_get      (SsqTuiCommandId id);
gboolean             ssq_tui_command_path_at  (const char  *line,
                                               gsize        cursor,
                                               gsize       *out_start);

G_END_DECLS
