/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-test-limits.h: a full disk for the tests, by the process's file size
 * limit. Shared by the store's unit tests and the client's. */
#pragma once

#include <glib.h>

void ssq_test_set_file_limit (guint64 limit);
