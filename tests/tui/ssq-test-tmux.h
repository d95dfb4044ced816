/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-test-tmux.h: the real supersoniq-tui in a tmux server of its own,
 * typed at with send-keys and read back with capture-pane, as a person
 * would use it. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Deadlines, not delays: every wait ends as soon as its condition holds,
 * so generous ones cost nothing on a quiet machine and keep the tests
 * stable on a loaded one. */
#define SSQ_TEST_TERM_WAIT_MS 60000
#define SSQ_TEST_TERM_POLL_MS 50

typedef struct {
  char *socket;     /* tmux -L name */
  char *home;       /* HOME, XDG config and data; stderr goes to home/stderr */
  guint width;
  guint height;
  gboolean errors_on_screen;
} SsqTestTerm;

gboolean     ssq_test_have_tmux         (void);

/* supersoniq-tui with @args (shell words) in a @width x @height pane of a
 * tmux server named after @name, with a home of its own; its stderr goes
 * to home/stderr unless @errors_on_screen. The pane stays when the
 * program ends, so its last words can be read. */
SsqTestTerm *ssq_test_term_start        (const char  *name,
                                         const char  *args,
                                         guint        width,
                                         guint        height,
                                         gboolean     errors_on_screen);
/* Ends the program and starts it again with @args, same home and pane. */
void         ssq_test_term_restart      (SsqTestTerm *term,
                                         const char  *args);
void         ssq_test_term_free         (SsqTestTerm *term);

void         ssq_test_tmux              (SsqTestTerm *term,
                                         const char  *first,
                                         ...) G_GNUC_NULL_TERMINATED;
/* The pane's text; with @colours, its SGR escapes too (capture-pane -e). */
char        *ssq_test_term_screen_full  (SsqTestTerm *term,
                                         gboolean     colours);
char        *ssq_test_term_screen       (SsqTestTerm *term);
/* Polls the screen until @needle shows (or, with @present FALSE, is
 * gone); FALSE, with the screen logged, when @timeout_ms pass first. */
gboolean     ssq_test_term_wait_full    (SsqTestTerm *term,
                                         const char  *needle,
                                         gboolean     present,
                                         guint        timeout_ms);
/* Waits until the screen differs from @before, up to @timeout_ms. */
void         ssq_test_term_wait_changed (SsqTestTerm *term,
                                         const char  *before,
                                         guint        timeout_ms);
/* The program's stderr so far (home/stderr), "" when none. */
char        *ssq_test_term_stderr       (SsqTestTerm *term);
void         ssq_test_term_type         (SsqTestTerm *term,
                                         const char  *text);
void         ssq_test_term_key          (SsqTestTerm *term,
                                         const char  *name);

#define ssq_test_term_wait(term, needle) \
  g_assert_true (ssq_test_term_wait_full ((term), (needle), TRUE, SSQ_TEST_TERM_WAIT_MS))
#define ssq_test_term_wait_gone(term, needle) \
  g_assert_true (ssq_test_term_wait_full ((term), (needle), FALSE, SSQ_TEST_TERM_WAIT_MS))

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsqTestTerm, ssq_test_term_free)

G_END_DECLS
