/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-walbuf.h: an SQLite VFS that writes a commit's WAL frames at
 * once, for connections with synchronous=FULL. */
#pragma once

const char *ssq_server_walbuf_vfs (void);
