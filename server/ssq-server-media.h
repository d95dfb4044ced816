/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-media.h: the media store on disk: every file once, named by the
 * SHA-256 of its bytes (DATA_DIR/media/<first 2 hex>/<sha256>), uploads
 * arriving in DATA_DIR/media/tmp, and the thread pool that does the disk
 * work so that the main loop never waits on it.
 *
 * A file may be named by several media rows (equal uploads); it goes when
 * none names it any more. An upload whose file is in the store but whose
 * row is not committed yet holds a pin on the hash, so that a deletion
 * meanwhile does not take the file from under it. */
#pragma once

#include <gio/gio.h>

#include "ssq-server-store.h"

G_BEGIN_DECLS

typedef struct _SsqServerMedia SsqServerMedia;

/* Where the media store is under the data directory. */
#define SSQ_MEDIA_DIR     "media"
#define SSQ_MEDIA_TMP_DIR "tmp"

SsqServerMedia *ssq_server_media_new          (const char      *data_dir,
                                               SsqServerStore  *store,
                                               gboolean         durable,
                                               GError         **error);
SsqServerMedia *ssq_server_media_ref          (SsqServerMedia  *media);
void            ssq_server_media_unref        (SsqServerMedia  *media);
void            ssq_server_media_close        (SsqServerMedia  *media);
gboolean        ssq_server_media_is_closed    (SsqServerMedia  *media);

guint64         ssq_server_media_bytes_stored (SsqServerMedia  *media);
gboolean        ssq_server_media_durable      (SsqServerMedia  *media);
const char     *ssq_server_media_tmp_dir      (SsqServerMedia  *media);
char           *ssq_server_media_path         (SsqServerMedia  *media,
                                               const char      *sha256);
int             ssq_server_media_open         (SsqServerMedia  *media,
                                               const char      *sha256,
                                               goffset         *out_size,
                                               GError         **error);

/* Disk work off the main loop, and its results back on it. */
void            ssq_server_media_run          (SsqServerMedia  *media,
                                               GFunc            job,
                                               gpointer         data);
void            ssq_server_media_invoke       (SsqServerMedia  *media,
                                               GSourceFunc      func,
                                               gpointer         data,
                                               GDestroyNotify   data_free);

/* The file of a finished upload into the store (pool thread): the hash is
 * pinned until ssq_server_media_unpin (). */
gboolean        ssq_server_media_commit_file  (SsqServerMedia  *media,
                                               const char      *temp_path,
                                               const char      *sha256,
                                               goffset          size,
                                               GError         **error);
char           *ssq_server_media_store_bytes  (SsqServerMedia  *media,
                                               GBytes          *bytes,
                                               GError         **error);
void            ssq_server_media_unpin        (SsqServerMedia  *media,
                                               const char      *sha256,
                                               SsqServerStore  *store);
void            ssq_server_media_release      (SsqServerMedia  *media,
                                               GPtrArray       *hashes,
                                               SsqServerStore  *store);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsqServerMedia, ssq_server_media_unref)

G_END_DECLS
