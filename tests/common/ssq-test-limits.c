/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-test-limits.c: a full disk for the tests. */
#include "ssq-test-limits.h"

#include <signal.h>
#include <sys/resource.h>

/* Writes of this process past @limit bytes fail (EFBIG, or short), as on a
 * full disk, with SIGXFSZ ignored, which would kill the process;
 * G_MAXUINT64 lifts the limit (and SIGXFSZ counts again). The whole
 * process's: servers started before keep theirs. */
void
ssq_test_set_file_limit (guint64 limit)
{
  struct rlimit rl;

  signal (SIGXFSZ, limit == G_MAXUINT64 ? SIG_DFL : SIG_IGN);
  g_assert_cmpint (getrlimit (RLIMIT_FSIZE, &rl), ==, 0);
  rl.rlim_cur = limit == G_MAXUINT64 ? RLIM_INFINITY : (rlim_t) limit;
  g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &rl), ==, 0);
}
