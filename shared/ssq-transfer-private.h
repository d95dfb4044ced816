/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-transfer-private.h: how the client makes and moves SsqTransfer. */
#pragma once

#include "ssq-transfer.h"

G_BEGIN_DECLS

SsqTransfer     *ssq_transfer_new              (SsqTransferKind  kind,
                                                const char      *name,
                                                guint64          total,
                                                GCancellable    *cancellable);
void             ssq_transfer_set_name         (SsqTransfer     *self,
                                                const char      *name);
void             ssq_transfer_set_progress     (SsqTransfer     *self,
                                                guint64          done,
                                                guint64          total);
void             ssq_transfer_set_resumed_from (SsqTransfer     *self,
                                                guint64          offset);
void             ssq_transfer_set_finished     (SsqTransfer     *self);

G_END_DECLS
