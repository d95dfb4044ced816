/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-tui-editor.h: the input line: UTF-8 text with a cursor, editing keys,
 * word deletion and a history of sent lines. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _SsqTuiEditor SsqTuiEditor;

SsqTuiEditor *ssq_tui_editor_new           (void);
void          ssq_tui_editor_free          (SsqTuiEditor *self);
const char   *ssq_tui_editor_get_text      (SsqTuiEditor *self);
gsize         ssq_tui_editor_get_cursor    (SsqTuiEditor *self);
void          ssq_tui_editor_set_text      (SsqTuiEditor *self,
                                            const char   *text);
void          ssq_tui_editor_insert        (SsqTuiEditor *self,
                                            const char   *text);
void          ssq_tui_editor_backspace     (SsqTuiEditor *self);
void          ssq_tui_editor_delete        (SsqTuiEditor *self);
void          ssq_tui_editor_left          (SsqTuiEditor *self);
void          ssq_tui_editor_right         (SsqTuiEditor *self);
void          ssq_tui_editor_home          (SsqTuiEditor *self);
void          ssq_tui_editor_end           (SsqTuiEditor *self);
void          ssq_tui_editor_word_left     (SsqTuiEditor *self);
void          ssq_tui_editor_word_right    (SsqTuiEditor *self);
void          ssq_tui_editor_delete_word   (SsqTuiEditor *self);
void          ssq_tui_editor_kill_to_end   (SsqTuiEditor *self);
void          ssq_tui_editor_kill_to_start (SsqTuiEditor *self);
void          ssq_tui_editor_history_prev  (SsqTuiEditor *self);
void          ssq_tui_editor_history_next  (SsqTuiEditor *self);
char         *ssq_tui_editor_take_line     (SsqTuiEditor *self);
char         *ssq_tui_editor_word_before_cursor (SsqTuiEditor *self);
void          ssq_tui_editor_replace_word_before_cursor (SsqTuiEditor *self,
                                                         const char   *word);
void          ssq_tui_editor_replace_before_cursor (SsqTuiEditor *self,
                                                    gsize         start,
                                                    const char   *text);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsqTuiEditor, ssq_tui_editor_free)

G_END_DECLS
