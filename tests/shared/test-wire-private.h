/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-wire-private.h: what the wire codec's test files share: the structs
 * the golden lines stand for, and the checks of decoded objects. */
#pragma once

#include "ssq-json.h"
#include "ssq-proto.h"
#include "ssq-wire.h"

extern const SsqWireUser    alice;
extern const SsqWireMessage message_plain;
extern const SsqWireMedia   media_photo;

JsonObject *encode_direct       (void);
void        assert_user         (JsonObject           *object,
                                 const SsqWireUser    *e);
void        assert_message      (JsonObject           *object,
                                 const SsqWireMessage *e);
void        assert_media        (JsonObject           *object,
                                 const SsqWireMedia   *e);
void        assert_conversation (JsonObject           *object,
                                 gboolean              group);

/* test-wire-rest.c: the golden REST bodies. */
JsonObject *rest_encode         (const char           *name);
void        rest_decode         (const char           *name,
                                 JsonObject           *object);

/* test-wire-queues.c: the golden lines of queues ("queue…"), and their
 * own tests. */
JsonObject *queue_encode        (const char           *name);
void        queue_decode        (const char           *name,
                                 JsonObject           *object);
void        queue_add_tests     (void);
