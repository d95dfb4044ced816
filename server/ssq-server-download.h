/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-download.h: the request and response headers of a download:
 * If-None-Match, Range (RFC 9110), and Content-Disposition with the file
 * name (RFC 6266, RFC 5987). Client input: every reader here takes any
 * bytes and at worst ignores them. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  SSQ_RANGE_WHOLE,          /* no Range, or one that is ignored (several, malformed) */
  SSQ_RANGE_PART,
  SSQ_RANGE_UNSATISFIABLE,  /* 416 */
} SsqRange;

gboolean ssq_server_download_etag_matches (const char *header,
                                           const char *etag);
SsqRange ssq_server_download_range        (const char *header,
                                           goffset     size,
                                           goffset    *out_start,
                                           goffset    *out_end);
gboolean ssq_server_download_inline       (const char *mime);
void     ssq_server_download_disposition  (GString    *headers,
                                           gboolean    show_inline,
                                           const char *name);

G_END_DECLS
