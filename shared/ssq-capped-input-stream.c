/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-capped-input-stream.c: the client's WebSocket reads go through this
 * stream, which counts the bytes since the last whole message and fails the
 * read past a cap. libsoup 3.2 bounds each frame but not the sum of a
 * fragmented message (max-total-message-size came in 3.8), so without it a
 * server could grow the client without end with continuation frames.
 *
 * It also serves first the bytes that came behind the handshake's response
 * head, and it keeps (and closes) the connection its base stream belongs to:
 * closing a GSocketConnection's input stream alone leaves the socket open. */
#include <glib/gi18n.h>
#include "ssq-capped-input-stream.h"
#include "ssq-proto.h"

#include <string.h>

struct _SsqCappedInputStream
{
  GFilterInputStream  parent_instance;

  GIOStream          *connection;   /* owns the base stream */
  GBytes             *prefix;       /* read past the response head; served first */
  gsize               prefix_at;
  guint64             count;        /* bytes since the last reset */
  guint64             cap;
};

static void ssq_capped_input_stream_pollable_init (GPollableInputStreamInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (SsqCappedInputStream, ssq_capped_input_stream,
                               G_TYPE_FILTER_INPUT_STREAM,
                               G_IMPLEMENT_INTERFACE (G_TYPE_POLLABLE_INPUT_STREAM,
                                                      ssq_capped_input_stream_pollable_init))

static GInputStream *
base_stream (SsqCappedInputStream *self)
{
  return g_filter_input_stream_get_base_stream (G_FILTER_INPUT_STREAM (self));
}

static gsize
prefix_left (SsqCappedInputStream *self)
{
  return self->prefix != NULL ? g_bytes_get_size (self->prefix) - self->prefix_at : 0;
}

static gsize
take_prefix (SsqCappedInputStream *self,
             void                 *buffer,
             gsize                 count)
{
  gsize n = MIN (count, prefix_left (self));

  memcpy (buffer, (const guint8 *) g_bytes_get_data (self->prefix, NULL) + self->prefix_at, n);
  self->prefix_at += n;
  return n;
}

/* Fails once more than the cap has come since the last reset. A stream
 * past it stays failed: its place among the frames is lost. */
static gboolean
within_cap (SsqCappedInputStream  *self,
            GError               **error)
{
  if (self->count <= self->cap)
    return TRUE;
  g_set_error (error, SSQ_ERROR, SSQ_ERROR_PROTOCOL,
               _("The server sent more than %u MiB without completing a message"),
               (guint) (self->cap / (1024 * 1024)));
  return FALSE;
}

/* Counts what a read returned: @n, or -1 if it passed the cap. */
static gssize
counted (SsqCappedInputStream  *self,
         gssize                 n,
         GError               **error)
{
  if (n > 0)
    self->count += (guint64) n;
  return n > 0 && !within_cap (self, error) ? -1 : n;
}

static gssize
ssq_capped_input_stream_read (GInputStream  *stream,
                              void          *buffer,
                              gsize          count,
                              GCancellable  *cancellable,
                              GError       **error)
{
  SsqCappedInputStream *self = SSQ_CAPPED_INPUT_STREAM (stream);

  if (!within_cap (self, error))
    return -1;
  if (prefix_left (self) > 0)
    return counted (self, (gssize) take_prefix (self, buffer, count), error);
  return counted (self, g_input_stream_read (base_stream (self), buffer, count, cancellable, error),
                  error);
}

static gssize
ssq_capped_input_stream_read_nonblocking (GPollableInputStream  *stream,
                                          void                  *buffer,
                                          gsize                  count,
                                          GError               **error)
{
  SsqCappedInputStream *self = SSQ_CAPPED_INPUT_STREAM (stream);
  GPollableInputStream *base = G_POLLABLE_INPUT_STREAM (base_stream (self));

  if (!within_cap (self, error))
    return -1;
  if (prefix_left (self) > 0)
    return counted (self, (gssize) take_prefix (self, buffer, count), error);
  return counted (self, g_pollable_input_stream_read_nonblocking (base, buffer, count, NULL, error),
                  error);
}

static gboolean
ssq_capped_input_stream_can_poll (GPollableInputStream *stream)
{
  GInputStream *base = base_stream (SSQ_CAPPED_INPUT_STREAM (stream));

  return G_IS_POLLABLE_INPUT_STREAM (base) &&
         g_pollable_input_stream_can_poll (G_POLLABLE_INPUT_STREAM (base));
}

static gboolean
ssq_capped_input_stream_is_readable (GPollableInputStream *stream)
{
  SsqCappedInputStream *self = SSQ_CAPPED_INPUT_STREAM (stream);

  return prefix_left (self) > 0 ||
         g_pollable_input_stream_is_readable (G_POLLABLE_INPUT_STREAM (base_stream (self)));
}

static GSource *
ssq_capped_input_stream_create_source (GPollableInputStream *stream,
                                       GCancellable         *cancellable)
{
  SsqCappedInputStream *self = SSQ_CAPPED_INPUT_STREAM (stream);
  g_autoptr(GSource) child = NULL;

  /* Bytes already here make the stream readable now, whatever the socket. */
  if (prefix_left (self) > 0)
    child = g_timeout_source_new (0);
  else
    child = g_pollable_input_stream_create_source (G_POLLABLE_INPUT_STREAM (base_stream (self)),
                                                   NULL);
  return g_pollable_source_new_full (stream, child, cancellable);
}

static gboolean
ssq_capped_input_stream_close (GInputStream  *stream,
                               GCancellable  *cancellable,
                               GError       **error)
{
  SsqCappedInputStream *self = SSQ_CAPPED_INPUT_STREAM (stream);
  gboolean ok;

  ok = G_INPUT_STREAM_CLASS (ssq_capped_input_stream_parent_class)->close_fn (stream, cancellable,
                                                                              error);
  if (self->connection != NULL && !g_io_stream_close (self->connection, cancellable,
                                                      ok ? error : NULL))
    ok = FALSE;
  return ok;
}

static void
ssq_capped_input_stream_finalize (GObject *object)
{
  SsqCappedInputStream *self = SSQ_CAPPED_INPUT_STREAM (object);

  g_clear_object (&self->connection);
  g_clear_pointer (&self->prefix, g_bytes_unref);
  G_OBJECT_CLASS (ssq_capped_input_stream_parent_class)->finalize (object);
}

static void
ssq_capped_input_stream_class_init (SsqCappedInputStreamClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GInputStreamClass *input_class = G_INPUT_STREAM_CLASS (klass);

  object_class->finalize = ssq_capped_input_stream_finalize;
  input_class->read_fn = ssq_capped_input_stream_read;
  input_class->close_fn = ssq_capped_input_stream_close;
}

static void
ssq_capped_input_stream_pollable_init (GPollableInputStreamInterface *iface)
{
  iface->can_poll = ssq_capped_input_stream_can_poll;
  iface->is_readable = ssq_capped_input_stream_is_readable;
  iface->create_source = ssq_capped_input_stream_create_source;
  iface->read_nonblocking = ssq_capped_input_stream_read_nonblocking;
}

static void
ssq_capped_input_stream_init (SsqCappedInputStream *self)
{
}

/**
 * ssq_capped_input_stream_new:
 * @connection: the stream whose input is read; kept, and closed with this one
 * @prefix: (nullable): bytes already read from it, served first
 * @cap: how many bytes may come between two resets
 */
SsqCappedInputStream *
ssq_capped_input_stream_new (GIOStream *connection,
                             GBytes    *prefix,
                             guint64    cap)
{
  SsqCappedInputStream *self;

  g_return_val_if_fail (G_IS_IO_STREAM (connection), NULL);

  self = g_object_new (SSQ_TYPE_CAPPED_INPUT_STREAM,
                       "base-stream", g_io_stream_get_input_stream (connection),
                       NULL);
  self->connection = g_object_ref (connection);
  self->prefix = prefix != NULL && g_bytes_get_size (prefix) > 0 ? g_bytes_ref (prefix) : NULL;
  self->cap = cap;
  return self;
}

/* A whole message arrived: the count starts again. */
void
ssq_capped_input_stream_reset (SsqCappedInputStream *self)
{
  g_return_if_fail (SSQ_IS_CAPPED_INPUT_STREAM (self));
  if (self->count <= self->cap)
    self->count = 0;
}
