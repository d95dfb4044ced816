/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-test-store.h: what the store's unit tests share. */
#pragma once

#include "ssq-server-store.h"
#include "../common/ssq-test-limits.h"
#include "../common/ssq-test-tmp.h"

char          *ssq_test_store_temp_db (void);
SsqMessageRow *ssq_test_store_message (const char *conversation_id,
                                       const char *sender,
                                       const char *client_id);

/* Holds a thread (a writer's batch, a read) until another lets it go. */
typedef struct {
  GMutex   lock;
  GCond    cond;
  gboolean released;
} SsqTestGate;

void           ssq_test_gate_init    (SsqTestGate *gate);
void           ssq_test_gate_clear   (SsqTestGate *gate);
void           ssq_test_gate_wait    (SsqTestGate *gate);
void           ssq_test_gate_release (SsqTestGate *gate);
