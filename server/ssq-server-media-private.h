/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-media-private.h: the media store's state, shared with the
 * uploads that stream into it (ssq-server-upload.c). */
#pragma once

#include "ssq-server-media.h"

G_BEGIN_DECLS

struct _SsqServerMedia {
  gint          ref_count;
  char         *dir;           /* DATA_DIR/media */
  char         *tmp_dir;       /* DATA_DIR/media/tmp */
  gboolean      durable;       /* fsync files and directories */
  GThreadPool  *pool;
  GMainContext *context;       /* where results are delivered */
  gboolean      closed;

  /* Under lock. */
  GMutex        lock;
  GHashTable   *pins;          /* sha256 -> count of uploads committing it */
  guint64       bytes_stored;  /* of the files in the store */
  guint64       trash_counter;
  gsize         queued;        /* upload bytes waiting to be written, all uploads */
  GQueue        waiting;       /* SsqServerUpload paused for room (a reference each) */
};

G_END_DECLS
