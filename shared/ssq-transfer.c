/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-transfer.c: the progress of an upload or download, for views to bind
 * (a progress bar to "fraction", a label to "name") or to follow through
 * the "progress" signal, and its cancellation. The client moves it; views
 * only read it and may cancel it. */
#include "ssq-transfer-private.h"

struct _SsqTransfer
{
  GObject          parent_instance;
  SsqTransferKind  kind;
  char            *name;
  guint64          done;
  guint64          total;
  guint64          resumed_from;
  gboolean         finished;
  GCancellable    *cancellable;
};

enum {
  PROP_0,
  PROP_KIND,
  PROP_NAME,
  PROP_DONE,
  PROP_TOTAL,
  PROP_FRACTION,
  PROP_RESUMED_FROM,
  PROP_FINISHED,
  N_PROPS
};

enum {
  SIGNAL_PROGRESS,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (SsqTransfer, ssq_transfer, G_TYPE_OBJECT)

G_DEFINE_ENUM_TYPE (SsqTransferKind, ssq_transfer_kind,
  G_DEFINE_ENUM_VALUE (SSQ_TRANSFER_UPLOAD, "upload"),
  G_DEFINE_ENUM_VALUE (SSQ_TRANSFER_DOWNLOAD, "download"))

static void
ssq_transfer_finalize (GObject *object)
{
  SsqTransfer *self = SSQ_TRANSFER (object);

  g_free (self->name);
  g_clear_object (&self->cancellable);
  G_OBJECT_CLASS (ssq_transfer_parent_class)->finalize (object);
}

static void
ssq_transfer_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  SsqTransfer *self = SSQ_TRANSFER (object);

  switch (prop_id)
    {
    case PROP_KIND: g_value_set_enum (value, self->kind); break;
    case PROP_NAME: g_value_set_string (value, self->name); break;
    case PROP_DONE: g_value_set_uint64 (value, self->done); break;
    case PROP_TOTAL: g_value_set_uint64 (value, self->total); break;
    case PROP_FRACTION: g_value_set_double (value, ssq_transfer_get_fraction (self)); break;
    case PROP_RESUMED_FROM: g_value_set_uint64 (value, self->resumed_from); break;
    case PROP_FINISHED: g_value_set_boolean (value, self->finished); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ssq_transfer_class_init (SsqTransferClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;

  object_class->finalize = ssq_transfer_finalize;
  object_class->get_property = ssq_transfer_get_property;

  properties[PROP_KIND] =
    g_param_spec_enum ("kind", NULL, NULL, SSQ_TYPE_TRANSFER_KIND, SSQ_TRANSFER_UPLOAD, ro);
  /* The file's name: the upload's, or the one the server gives a download. */
  properties[PROP_NAME] = g_param_spec_string ("name", NULL, NULL, NULL, ro);
  /* Bytes gone so far, and of how many (0 while unknown). */
  properties[PROP_DONE] = g_param_spec_uint64 ("done", NULL, NULL, 0, G_MAXUINT64, 0, ro);
  properties[PROP_TOTAL] = g_param_spec_uint64 ("total", NULL, NULL, 0, G_MAXUINT64, 0, ro);
  properties[PROP_FRACTION] = g_param_spec_double ("fraction", NULL, NULL, 0.0, 1.0, 0.0, ro);
  /* A download that went on from a partial file: the bytes it already had. */
  properties[PROP_RESUMED_FROM] =
    g_param_spec_uint64 ("resumed-from", NULL, NULL, 0, G_MAXUINT64, 0, ro);
  /* The operation ended (done, failed or cancelled). */
  properties[PROP_FINISHED] = g_param_spec_boolean ("finished", NULL, NULL, FALSE, ro);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * SsqTransfer::progress:
   * @done: bytes gone so far
   * @total: of how many; 0 while unknown
   *
   * Emitted as bytes go. @done never goes back, except when the whole
   * operation starts over (an outbox upload retried after a lost
   * connection).
   */
  signals[SIGNAL_PROGRESS] =
    g_signal_new ("progress", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, G_TYPE_UINT64, G_TYPE_UINT64);
}

static void
ssq_transfer_init (SsqTransfer *self)
{
}

/**
 * ssq_transfer_new:
 * @cancellable: (nullable): the caller's, which then cancels the
 *   transfer; a new one when NULL
 */
SsqTransfer *
ssq_transfer_new (SsqTransferKind  kind,
                  const char      *name,
                  guint64          total,
                  GCancellable    *cancellable)
{
  SsqTransfer *self = g_object_new (SSQ_TYPE_TRANSFER, NULL);

  self->kind = kind;
  self->name = g_strdup (name);
  self->total = total;
  self->cancellable = cancellable ? g_object_ref (cancellable) : g_cancellable_new ();
  return self;
}

SsqTransferKind
ssq_transfer_get_kind (SsqTransfer *self)
{
  g_return_val_if_fail (SSQ_IS_TRANSFER (self), SSQ_TRANSFER_UPLOAD);
  return self->kind;
}

/**
 * ssq_transfer_get_name:
 * Returns: (nullable): the file's name as given (an upload's) or as the
 *   server sent it (a download's, once its answer came); show it sanitized
 */
const char *
ssq_transfer_get_name (SsqTransfer *self)
{
  g_return_val_if_fail (SSQ_IS_TRANSFER (self), NULL);
  return self->name;
}

guint64
ssq_transfer_get_done (SsqTransfer *self)
{
  g_return_val_if_fail (SSQ_IS_TRANSFER (self), 0);
  return self->done;
}

guint64
ssq_transfer_get_total (SsqTransfer *self)
{
  g_return_val_if_fail (SSQ_IS_TRANSFER (self), 0);
  return self->total;
}

/* From 0 to 1; 0 while the total is unknown. */
double
ssq_transfer_get_fraction (SsqTransfer *self)
{
  g_return_val_if_fail (SSQ_IS_TRANSFER (self), 0.0);
  if (self->total == 0)
    return self->finished ? 1.0 : 0.0;
  return MIN (1.0, (double) self->done / (double) self->total);
}

/* For a download: how many bytes a partial file from an earlier attempt
 * held, which the server confirmed and did not send again (0 when it
 * started from the beginning). */
guint64
ssq_transfer_get_resumed_from (SsqTransfer *self)
{
  g_return_val_if_fail (SSQ_IS_TRANSFER (self), 0);
  return self->resumed_from;
}

gboolean
ssq_transfer_get_finished (SsqTransfer *self)
{
  g_return_val_if_fail (SSQ_IS_TRANSFER (self), FALSE);
  return self->finished;
}

/**
 * ssq_transfer_get_cancellable:
 * Returns: (transfer none): what cancels the transfer
 */
GCancellable *
ssq_transfer_get_cancellable (SsqTransfer *self)
{
  g_return_val_if_fail (SSQ_IS_TRANSFER (self), NULL);
  return self->cancellable;
}

/* Stops the transfer: its operation ends with G_IO_ERROR_CANCELLED. */
void
ssq_transfer_cancel (SsqTransfer *self)
{
  g_return_if_fail (SSQ_IS_TRANSFER (self));
  g_cancellable_cancel (self->cancellable);
}

void
ssq_transfer_set_name (SsqTransfer *self,
                       const char  *name)
{
  if (g_strcmp0 (self->name, name) == 0)
    return;
  g_free (self->name);
  self->name = g_strdup (name);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_NAME]);
}

void
ssq_transfer_set_progress (SsqTransfer *self,
                           guint64      done,
                           guint64      total)
{
  gboolean total_changed = total != self->total;

  if (done == self->done && !total_changed)
    return;
  self->done = done;
  self->total = total;
  g_object_freeze_notify (G_OBJECT (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DONE]);
  if (total_changed)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TOTAL]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FRACTION]);
  g_object_thaw_notify (G_OBJECT (self));
  g_signal_emit (self, signals[SIGNAL_PROGRESS], 0, done, total);
}

void
ssq_transfer_set_resumed_from (SsqTransfer *self,
                               guint64      offset)
{
  if (self->resumed_from == offset)
    return;
  self->resumed_from = offset;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RESUMED_FROM]);
}

void
ssq_transfer_set_finished (SsqTransfer *self)
{
  if (self->finished)
    return;
  self->finished = TRUE;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FINISHED]);
}
