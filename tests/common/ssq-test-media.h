/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-test-media.h: helpers of the media tests (test-media.c,
 * test-media-limits.c): uploads and downloads through libsoup, and what a
 * test server holds on disk (its media store) and in its database. */
#pragma once

#include "ssq-test-server.h"

G_BEGIN_DECLS

/* A whole response: its status, its message (for the headers), its body. */
typedef struct {
  guint        status;
  SoupMessage *msg;
  GBytes      *body;
} SsqTestDownload;

/* The server runs under valgrind or the like: its memory is the tool's. */
gboolean     ssq_test_under_wrapper        (void);
/* @length bytes from a generator seeded with @seed. */
GBytes      *ssq_test_random_bytes         (gsize               length,
                                            guint32             seed);
char        *ssq_test_sha256               (GBytes             *bytes);
/* Whether @needle is somewhere in @bytes. */
gboolean     ssq_test_bytes_contain        (GBytes             *bytes,
                                            const char         *needle);

/* POST /api/v1/media?name=@name with @data: the reply (the status in
 * @out_status). */
JsonObject  *ssq_test_media_upload         (SsqTestServer      *s,
                                            const char         *token,
                                            const char         *name,
                                            GBytes             *data,
                                            guint              *out_status);
/* An upload that must succeed: its media object's id. */
char        *ssq_test_media_upload_ok      (SsqTestServer      *s,
                                            const char         *token,
                                            const char         *name,
                                            GBytes             *data);
/* The head of an upload sent by hand: the body is the caller's to send. */
char        *ssq_test_media_upload_head    (const char         *token,
                                            const char         *name,
                                            const char         *framing);

/* @method @path with @token and the header pairs in @headers (NULL-ended). */
void         ssq_test_fetch                (SsqTestServer      *s,
                                            const char         *method,
                                            const char         *path,
                                            const char         *token,
                                            const char * const *headers,
                                            SsqTestDownload    *out);
/* GET /api/v1/media/@id. */
void         ssq_test_media_get            (SsqTestServer      *s,
                                            const char         *token,
                                            const char         *id,
                                            const char * const *headers,
                                            SsqTestDownload    *out);
guint        ssq_test_media_status         (SsqTestServer      *s,
                                            const char         *token,
                                            const char         *id);
const char  *ssq_test_download_header      (SsqTestDownload    *d,
                                            const char         *name);
void         ssq_test_download_clear       (SsqTestDownload    *d);

/* Posts a message carrying @media_json (an array of ids) in
 * @conversation_id through REST: the status, the reply in @out_reply. */
guint        ssq_test_post_with_media      (SsqTestServer      *s,
                                            const char         *token,
                                            const char         *conversation_id,
                                            const char         *client_id,
                                            const char         *media_json,
                                            JsonObject        **out_reply);

/* Files of the store (DATA_DIR/media/xx/<sha256>), or of its upload area;
 * the conditions for ssq_test_wait_until () (@data: the server). */
guint        ssq_test_media_files          (SsqTestServer      *s,
                                            gboolean            tmp);
gboolean     ssq_test_media_wait_files     (SsqTestServer      *s,
                                            gboolean            tmp,
                                            guint               n,
                                            guint               timeout_ms);
gboolean     ssq_test_media_tmp_empty_cb   (gpointer            data);
gboolean     ssq_test_media_store_empty_cb (gpointer            data);
gboolean     ssq_test_media_tmp_has_bytes_cb (gpointer          data);
/* The one integer @sql gives in the server's database (read beside it). */
gint64       ssq_test_db_count             (SsqTestServer      *s,
                                            const char         *sql);
/* The value of the series @name in /metrics. */
gint64       ssq_test_metric               (SsqTestServer      *s,
                                            const char         *name);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (SsqTestDownload, ssq_test_download_clear)

G_END_DECLS
