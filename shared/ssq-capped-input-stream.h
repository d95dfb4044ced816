/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-capped-input-stream.h: a pollable input stream that fails once more
 * than a set number of bytes has been read since its owner last said that
 * a whole unit (a WebSocket message) arrived. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define SSQ_TYPE_CAPPED_INPUT_STREAM (ssq_capped_input_stream_get_type ())
G_DECLARE_FINAL_TYPE (SsqCappedInputStream, ssq_capped_input_stream, SSQ, CAPPED_INPUT_STREAM,
                      GFilterInputStream)

SsqCappedInputStream *ssq_capped_input_stream_new   (GIOStream            *connection,
                                                     GBytes               *prefix,
                                                     guint64               cap);
void                  ssq_capped_input_stream_reset (SsqCappedInputStream *self);

G_END_DECLS
