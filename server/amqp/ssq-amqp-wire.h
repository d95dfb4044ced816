/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-amqp-wire.h: AMQP 0-9-1 reply codes, the error domain whose codes
 * they are, and the bounded big-endian reader and writer every AMQP codec
 * of the server reads and writes with. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The reply codes of AMQP 0-9-1 (RabbitMQ's spelling). Errors in the
 * SSQ_AMQP_ERROR domain carry one of them as their code, so whoever
 * catches one knows what to answer on the wire. */
typedef enum {
  SSQ_AMQP_REPLY_SUCCESS             = 200,
  SSQ_AMQP_REPLY_CONTENT_TOO_LARGE   = 311,
  SSQ_AMQP_REPLY_NO_ROUTE            = 312,
  SSQ_AMQP_REPLY_NO_CONSUMERS        = 313,
  SSQ_AMQP_REPLY_CONNECTION_FORCED   = 320,
  SSQ_AMQP_REPLY_INVALID_PATH        = 402,
  SSQ_AMQP_REPLY_ACCESS_REFUSED      = 403,
  SSQ_AMQP_REPLY_NOT_FOUND           = 404,
  SSQ_AMQP_REPLY_RESOURCE_LOCKED     = 405,
  SSQ_AMQP_REPLY_PRECONDITION_FAILED = 406,
  SSQ_AMQP_REPLY_FRAME_ERROR         = 501,
  SSQ_AMQP_REPLY_SYNTAX_ERROR        = 502,
  SSQ_AMQP_REPLY_COMMAND_INVALID     = 503,
  SSQ_AMQP_REPLY_CHANNEL_ERROR       = 504,
  SSQ_AMQP_REPLY_UNEXPECTED_FRAME    = 505,
  SSQ_AMQP_REPLY_RESOURCE_ERROR      = 506,
  SSQ_AMQP_REPLY_NOT_ALLOWED         = 530,
  SSQ_AMQP_REPLY_NOT_IMPLEMENTED     = 540,
  SSQ_AMQP_REPLY_INTERNAL_ERROR      = 541,
} SsqAmqpReply;

#define SSQ_AMQP_ERROR (ssq_amqp_error_quark ())
GQuark      ssq_amqp_error_quark      (void);

/* RabbitMQ's name of a reply code ("NOT_FOUND"), for reply texts. */
const char *ssq_amqp_reply_name       (int code);
/* Sets @error to SSQ_AMQP_REPLY_SYNTAX_ERROR with the message; FALSE, for
 * the decoders' returns. */
gboolean    ssq_amqp_syntax_error     (GError    **error,
                                       const char *format,
                                       ...) G_GNUC_PRINTF (2, 3);
/* TRUE for the codes that close the whole connection (5xx but 311..406
 * close only the channel). */
gboolean    ssq_amqp_reply_is_hard    (int code);

/* A bounded view of bytes being decoded. Every read checks the bytes are
 * there and fails with SSQ_AMQP_REPLY_SYNTAX_ERROR otherwise. */
typedef struct {
  const guint8 *data;
  gsize         len;
  gsize         pos;
} SsqAmqpReader;

void     ssq_amqp_reader_init      (SsqAmqpReader *reader,
                                    const guint8  *data,
                                    gsize          len);
gsize    ssq_amqp_reader_left      (const SsqAmqpReader *reader);
gboolean ssq_amqp_reader_u8        (SsqAmqpReader *reader,
                                    guint8        *out,
                                    GError       **error);
gboolean ssq_amqp_reader_u16       (SsqAmqpReader *reader,
                                    guint16       *out,
                                    GError       **error);
gboolean ssq_amqp_reader_u32       (SsqAmqpReader *reader,
                                    guint32       *out,
                                    GError       **error);
gboolean ssq_amqp_reader_u64       (SsqAmqpReader *reader,
                                    guint64       *out,
                                    GError       **error);
/* n bytes in place (not copied). */
gboolean ssq_amqp_reader_bytes     (SsqAmqpReader *reader,
                                    gsize          n,
                                    const guint8 **out,
                                    GError       **error);
/* A short string (one length octet) in place. */
gboolean ssq_amqp_reader_shortstr  (SsqAmqpReader *reader,
                                    const guint8 **out,
                                    guint8        *out_len,
                                    GError       **error);
/* A short string copied and NUL-terminated; one holding a NUL byte is
 * refused (names, tags and texts are compared as C strings). */
gboolean ssq_amqp_reader_shortstr_dup (SsqAmqpReader *reader,
                                       char         **out,
                                       GError       **error);
/* A long string (four length octets) in place. */
gboolean ssq_amqp_reader_longstr   (SsqAmqpReader *reader,
                                    const guint8 **out,
                                    guint32       *out_len,
                                    GError       **error);

void     ssq_amqp_write_u8         (GByteArray *out,
                                    guint8      v);
void     ssq_amqp_write_u16        (GByteArray *out,
                                    guint16     v);
void     ssq_amqp_write_u32        (GByteArray *out,
                                    guint32     v);
void     ssq_amqp_write_u64        (GByteArray *out,
                                    guint64     v);
/* At most 255 bytes are written (the caller keeps short strings short:
 * they come from names the codec has already bounded). */
void     ssq_amqp_write_shortstr   (GByteArray *out,
                                    const char *s);
void     ssq_amqp_write_shortstr_len (GByteArray   *out,
                                      const guint8 *s,
                                      gsize         len);
void     ssq_amqp_write_longstr    (GByteArray   *out,
                                    const guint8 *s,
                                    gsize         len);
/* Overwrites four octets at pos with v (a length known only afterwards). */
void     ssq_amqp_patch_u32        (GByteArray *out,
                                    gsize       pos,
                                    guint32     v);

G_END_DECLS
