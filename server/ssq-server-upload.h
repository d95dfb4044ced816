/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-upload.h: one upload streaming into the media store. Bytes
 * handed to it on the main loop are written to a temporary file and
 * hashed (SHA-256) on the store's threads; at the end the file is synced,
 * its type sniffed from its first bytes, and it enters the store under its
 * hash (pinned until its row is committed). Memory is bounded: past a
 * budget (per upload, and for all uploads together) the upload asks its
 * feeder to wait, and says when to go on. */
#pragma once

#include "ssq-server-media.h"

G_BEGIN_DECLS

typedef struct _SsqServerUpload SsqServerUpload;

/* Main-loop callbacks; none comes after ssq_server_upload_cancel (). */
typedef struct {
  /* ssq_server_upload_write () returned FALSE: there is room again. */
  void (*resume) (gpointer      user_data);
  /* Writing failed (a full disk, say): nothing will be stored. */
  void (*failed) (const GError *error,
                  gpointer      user_data);
  /* After ssq_server_upload_finish (): the file is in the store (pinned:
   * ssq_server_media_unpin () once its row is committed or refused), or
   * @error. */
  void (*stored) (const GError *error,
                  gpointer      user_data);
} SsqServerUploadCallbacks;

SsqServerUpload *ssq_server_upload_new     (SsqServerMedia                 *media,
                                            const SsqServerUploadCallbacks *callbacks,
                                            gpointer                        user_data);
gboolean         ssq_server_upload_write   (SsqServerUpload *upload,
                                            const guint8    *data,
                                            gsize            length);
void             ssq_server_upload_finish  (SsqServerUpload *upload);
void             ssq_server_upload_cancel  (SsqServerUpload *upload);
void             ssq_server_upload_unref   (SsqServerUpload *upload);

/* Once stored. */
const char      *ssq_server_upload_sha256  (SsqServerUpload *upload);
const char      *ssq_server_upload_mime    (SsqServerUpload *upload);
goffset          ssq_server_upload_size    (SsqServerUpload *upload);
/* An image's size as shown, from its header; 0 when unknown. */
gint64           ssq_server_upload_width   (SsqServerUpload *upload);
gint64           ssq_server_upload_height  (SsqServerUpload *upload);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsqServerUpload, ssq_server_upload_unref)

G_END_DECLS
