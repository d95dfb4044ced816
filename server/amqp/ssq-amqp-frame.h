/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-amqp-frame.h: AMQP 0-9-1 frames: a reader that takes bytes as they
 * come and yields whole frames (the size checked against frame_max before
 * a byte of the payload is kept, the frame-end octet checked), and writers
 * of method, content and heartbeat frames. */
#pragma once

#include "ssq-amqp-method.h"

G_BEGIN_DECLS

#define SSQ_AMQP_FRAME_METHOD     1
#define SSQ_AMQP_FRAME_HEADER     2
#define SSQ_AMQP_FRAME_BODY       3
#define SSQ_AMQP_FRAME_HEARTBEAT  8
#define SSQ_AMQP_FRAME_END        0xCE
#define SSQ_AMQP_FRAME_OVERHEAD   8      /* type, channel, size, frame-end */
#define SSQ_AMQP_FRAME_MIN_SIZE   4096   /* frame_max before tune, and its floor */

typedef struct {
  guint8        type;
  guint16       channel;
  const guint8 *payload;   /* valid until the next call into the reader */
  guint32       size;
} SsqAmqpFrame;

typedef struct _SsqAmqpFrameReader SsqAmqpFrameReader;

SsqAmqpFrameReader *ssq_amqp_frame_reader_new  (guint32             frame_max);
void                ssq_amqp_frame_reader_free (SsqAmqpFrameReader *reader);
void                ssq_amqp_frame_reader_set_frame_max (SsqAmqpFrameReader *reader,
                                                         guint32             frame_max);
/* Takes bytes from @data towards the next frame. Returns how many it took
 * (all of them, unless a frame was completed before the end), and sets
 * *out->type to 0 when no frame is whole yet. Errors (code 501
 * FRAME_ERROR): a frame over frame_max, a wrong frame-end octet, an
 * unknown frame type. After an error the reader is unusable. */
gsize               ssq_amqp_frame_reader_feed (SsqAmqpFrameReader *reader,
                                                const guint8       *data,
                                                gsize               len,
                                                SsqAmqpFrame       *out,
                                                GError            **error);
/* Bytes of a frame begun and not complete, for the connection's memory. */
gsize               ssq_amqp_frame_reader_buffered (SsqAmqpFrameReader *reader);

/* Writers: whole frames appended to @out. */
void    ssq_amqp_frame_write_method     (GByteArray   *out,
                                         guint16       channel,
                                         guint32       id,
                                         ...);
void    ssq_amqp_frame_write_heartbeat  (GByteArray   *out);
/* A content header (class 60, @body_size, the encoded @properties, or none
 * when NULL) frame. */
void    ssq_amqp_frame_write_header     (GByteArray   *out,
                                         guint16       channel,
                                         guint64       body_size,
                                         GBytes       *properties);
/* One body frame holding @len bytes of @data. */
void    ssq_amqp_frame_write_body       (GByteArray   *out,
                                         guint16       channel,
                                         const guint8 *data,
                                         gsize         len);
/* A frame's header alone (type, channel, size), for a payload that is
 * queued separately; the frame-end octet must follow it. */
void    ssq_amqp_frame_write_head       (GByteArray   *out,
                                         guint8        type,
                                         guint16       channel,
                                         guint32       size);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsqAmqpFrameReader, ssq_amqp_frame_reader_free)

G_END_DECLS
