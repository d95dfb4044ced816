/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-test-tmp.h: temporary directories of the tests, removed when the
 * test program exits. */
#pragma once

#include <glib.h>

char *ssq_test_temp_dir    (const char *tmpl);
void  ssq_test_remove_tree (const char *path);
