/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-transfer.h: an upload or download under way, as a view shows it: how
 * many bytes of how many have gone, and a way to stop it. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef enum {
  SSQ_TRANSFER_UPLOAD,
  SSQ_TRANSFER_DOWNLOAD,
} SsqTransferKind;

#define SSQ_TYPE_TRANSFER_KIND (ssq_transfer_kind_get_type ())
GType ssq_transfer_kind_get_type (void);

#define SSQ_TYPE_TRANSFER (ssq_transfer_get_type ())
G_DECLARE_FINAL_TYPE (SsqTransfer, ssq_transfer, SSQ, TRANSFER, GObject)

SsqTransferKind  ssq_transfer_get_kind         (SsqTransfer *self);
const char      *ssq_transfer_get_name         (SsqTransfer *self);
guint64          ssq_transfer_get_done         (SsqTransfer *self);
guint64          ssq_transfer_get_total        (SsqTransfer *self);
double           ssq_transfer_get_fraction     (SsqTransfer *self);
guint64          ssq_transfer_get_resumed_from (SsqTransfer *self);
gboolean         ssq_transfer_get_finished     (SsqTransfer *self);
GCancellable    *ssq_transfer_get_cancellable  (SsqTransfer *self);
void             ssq_transfer_cancel           (SsqTransfer *self);

G_END_DECLS
