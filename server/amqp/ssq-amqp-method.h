/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-amqp-method.h: the methods of AMQP 0-9-1 (as RabbitMQ speaks it),
 * described by one table of argument signatures, decoded into a generic
 * argument list and encoded from a va_list in signature order. */
#pragma once

#include "ssq-amqp-table.h"

G_BEGIN_DECLS

#define SSQ_AMQP_METHOD_ID(class_id, method_id) (((guint32) (class_id) << 16) | (method_id))

/* Class and method numbers. */
enum {
  SSQ_AMQP_CLASS_CONNECTION = 10,
  SSQ_AMQP_CLASS_CHANNEL    = 20,
  SSQ_AMQP_CLASS_EXCHANGE   = 40,
  SSQ_AMQP_CLASS_QUEUE      = 50,
  SSQ_AMQP_CLASS_BASIC      = 60,
  SSQ_AMQP_CLASS_CONFIRM    = 85,
  SSQ_AMQP_CLASS_TX         = 90,
};

typedef enum {
  SSQ_AMQP_CONNECTION_START         = SSQ_AMQP_METHOD_ID (10, 10),
  SSQ_AMQP_CONNECTION_START_OK      = SSQ_AMQP_METHOD_ID (10, 11),
  SSQ_AMQP_CONNECTION_SECURE        = SSQ_AMQP_METHOD_ID (10, 20),
  SSQ_AMQP_CONNECTION_SECURE_OK     = SSQ_AMQP_METHOD_ID (10, 21),
  SSQ_AMQP_CONNECTION_TUNE          = SSQ_AMQP_METHOD_ID (10, 30),
  SSQ_AMQP_CONNECTION_TUNE_OK       = SSQ_AMQP_METHOD_ID (10, 31),
  SSQ_AMQP_CONNECTION_OPEN          = SSQ_AMQP_METHOD_ID (10, 40),
  SSQ_AMQP_CONNECTION_OPEN_OK       = SSQ_AMQP_METHOD_ID (10, 41),
  SSQ_AMQP_CONNECTION_CLOSE         = SSQ_AMQP_METHOD_ID (10, 50),
  SSQ_AMQP_CONNECTION_CLOSE_OK      = SSQ_AMQP_METHOD_ID (10, 51),
  SSQ_AMQP_CONNECTION_BLOCKED       = SSQ_AMQP_METHOD_ID (10, 60),
  SSQ_AMQP_CONNECTION_UNBLOCKED     = SSQ_AMQP_METHOD_ID (10, 61),
  SSQ_AMQP_CONNECTION_UPDATE_SECRET = SSQ_AMQP_METHOD_ID (10, 70),
  SSQ_AMQP_CONNECTION_UPDATE_SECRET_OK = SSQ_AMQP_METHOD_ID (10, 71),
  SSQ_AMQP_CHANNEL_OPEN             = SSQ_AMQP_METHOD_ID (20, 10),
  SSQ_AMQP_CHANNEL_OPEN_OK          = SSQ_AMQP_METHOD_ID (20, 11),
  SSQ_AMQP_CHANNEL_FLOW             = SSQ_AMQP_METHOD_ID (20, 20),
  SSQ_AMQP_CHANNEL_FLOW_OK          = SSQ_AMQP_METHOD_ID (20, 21),
  SSQ_AMQP_CHANNEL_CLOSE            = SSQ_AMQP_METHOD_ID (20, 40),
  SSQ_AMQP_CHANNEL_CLOSE_OK         = SSQ_AMQP_METHOD_ID (20, 41),
  SSQ_AMQP_EXCHANGE_DECLARE         = SSQ_AMQP_METHOD_ID (40, 10),
  SSQ_AMQP_EXCHANGE_DECLARE_OK      = SSQ_AMQP_METHOD_ID (40, 11),
  SSQ_AMQP_EXCHANGE_DELETE          = SSQ_AMQP_METHOD_ID (40, 20),
  SSQ_AMQP_EXCHANGE_DELETE_OK       = SSQ_AMQP_METHOD_ID (40, 21),
  SSQ_AMQP_EXCHANGE_BIND            = SSQ_AMQP_METHOD_ID (40, 30),
  SSQ_AMQP_EXCHANGE_BIND_OK         = SSQ_AMQP_METHOD_ID (40, 31),
  SSQ_AMQP_EXCHANGE_UNBIND          = SSQ_AMQP_METHOD_ID (40, 40),
  SSQ_AMQP_EXCHANGE_UNBIND_OK       = SSQ_AMQP_METHOD_ID (40, 51),
  SSQ_AMQP_QUEUE_DECLARE            = SSQ_AMQP_METHOD_ID (50, 10),
  SSQ_AMQP_QUEUE_DECLARE_OK         = SSQ_AMQP_METHOD_ID (50, 11),
  SSQ_AMQP_QUEUE_BIND               = SSQ_AMQP_METHOD_ID (50, 20),
  SSQ_AMQP_QUEUE_BIND_OK            = SSQ_AMQP_METHOD_ID (50, 21),
  SSQ_AMQP_QUEUE_PURGE              = SSQ_AMQP_METHOD_ID (50, 30),
  SSQ_AMQP_QUEUE_PURGE_OK           = SSQ_AMQP_METHOD_ID (50, 31),
  SSQ_AMQP_QUEUE_DELETE             = SSQ_AMQP_METHOD_ID (50, 40),
  SSQ_AMQP_QUEUE_DELETE_OK          = SSQ_AMQP_METHOD_ID (50, 41),
  SSQ_AMQP_QUEUE_UNBIND             = SSQ_AMQP_METHOD_ID (50, 50),
  SSQ_AMQP_QUEUE_UNBIND_OK          = SSQ_AMQP_METHOD_ID (50, 51),
  SSQ_AMQP_BASIC_QOS                = SSQ_AMQP_METHOD_ID (60, 10),
  SSQ_AMQP_BASIC_QOS_OK             = SSQ_AMQP_METHOD_ID (60, 11),
  SSQ_AMQP_BASIC_CONSUME            = SSQ_AMQP_METHOD_ID (60, 20),
  SSQ_AMQP_BASIC_CONSUME_OK         = SSQ_AMQP_METHOD_ID (60, 21),
  SSQ_AMQP_BASIC_CANCEL             = SSQ_AMQP_METHOD_ID (60, 30),
  SSQ_AMQP_BASIC_CANCEL_OK          = SSQ_AMQP_METHOD_ID (60, 31),
  SSQ_AMQP_BASIC_PUBLISH            = SSQ_AMQP_METHOD_ID (60, 40),
  SSQ_AMQP_BASIC_RETURN             = SSQ_AMQP_METHOD_ID (60, 50),
  SSQ_AMQP_BASIC_DELIVER            = SSQ_AMQP_METHOD_ID (60, 60),
  SSQ_AMQP_BASIC_GET                = SSQ_AMQP_METHOD_ID (60, 70),
  SSQ_AMQP_BASIC_GET_OK             = SSQ_AMQP_METHOD_ID (60, 71),
  SSQ_AMQP_BASIC_GET_EMPTY          = SSQ_AMQP_METHOD_ID (60, 72),
  SSQ_AMQP_BASIC_ACK                = SSQ_AMQP_METHOD_ID (60, 80),
  SSQ_AMQP_BASIC_REJECT             = SSQ_AMQP_METHOD_ID (60, 90),
  SSQ_AMQP_BASIC_RECOVER_ASYNC      = SSQ_AMQP_METHOD_ID (60, 100),
  SSQ_AMQP_BASIC_RECOVER            = SSQ_AMQP_METHOD_ID (60, 110),
  SSQ_AMQP_BASIC_RECOVER_OK         = SSQ_AMQP_METHOD_ID (60, 111),
  SSQ_AMQP_BASIC_NACK               = SSQ_AMQP_METHOD_ID (60, 120),
  SSQ_AMQP_CONFIRM_SELECT           = SSQ_AMQP_METHOD_ID (85, 10),
  SSQ_AMQP_CONFIRM_SELECT_OK        = SSQ_AMQP_METHOD_ID (85, 11),
  SSQ_AMQP_TX_SELECT                = SSQ_AMQP_METHOD_ID (90, 10),
  SSQ_AMQP_TX_SELECT_OK             = SSQ_AMQP_METHOD_ID (90, 11),
  SSQ_AMQP_TX_COMMIT                = SSQ_AMQP_METHOD_ID (90, 20),
  SSQ_AMQP_TX_COMMIT_OK             = SSQ_AMQP_METHOD_ID (90, 21),
  SSQ_AMQP_TX_ROLLBACK              = SSQ_AMQP_METHOD_ID (90, 30),
  SSQ_AMQP_TX_ROLLBACK_OK           = SSQ_AMQP_METHOD_ID (90, 31),
} SsqAmqpMethodId;

#define SSQ_AMQP_METHOD_MAX_ARGS 10

/* One argument. Signature letters: o octet, s short, l long, L long long,
 * b bit (all in `u`); S short string (`str`, NUL-free, copied); T long
 * string (`bytes`); F field table (`table`, and `bytes` holds it as it
 * came, length first). */
typedef struct {
  guint64       u;
  char         *str;
  GBytes       *bytes;
  SsqAmqpTable *table;
} SsqAmqpArg;

typedef struct {
  guint32     id;
  const char *name;       /* "basic.publish" */
  const char *signature;
  gboolean    content;    /* followed by a content header and body */
} SsqAmqpMethodSpec;

typedef struct {
  const SsqAmqpMethodSpec *spec;
  SsqAmqpArg               args[SSQ_AMQP_METHOD_MAX_ARGS];
} SsqAmqpMethod;

/* NULL for a method this table does not know. */
const SsqAmqpMethodSpec *ssq_amqp_method_spec    (guint32 id);
/* "basic.publish", or "class.method" numbers for an unknown one. */
const char              *ssq_amqp_method_name    (guint32 id);

/* A method frame's payload (class, method, arguments). An unknown class or
 * method fails with SSQ_AMQP_REPLY_NOT_IMPLEMENTED (540) ... the error code
 * says what to answer; malformed arguments with SYNTAX_ERROR (502). */
SsqAmqpMethod *ssq_amqp_method_decode   (const guint8         *payload,
                                         gsize                 len,
                                         guint32              *out_id,
                                         GError              **error);
void           ssq_amqp_method_free     (SsqAmqpMethod        *method);
/* Appends a method frame's payload. The arguments follow @id's signature:
 * o s l as guint, L as guint64, b as gboolean, S as const char *, T as
 * GBytes * (NULL: empty), F as const SsqAmqpTable * (NULL: empty). */
void           ssq_amqp_method_write    (GByteArray           *out,
                                         guint32               id,
                                         ...);
void           ssq_amqp_method_write_valist (GByteArray       *out,
                                             guint32           id,
                                             va_list           args);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsqAmqpMethod, ssq_amqp_method_free)

G_END_DECLS
