/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-test-amqp.c: AMQP frames by hand, for tests. */
#include "ssq-test-amqp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

void
ssq_test_amqp_frame_clear (SsqTestAmqpFrame *frame)
{
  g_clear_pointer (&frame->payload, g_byte_array_unref);
  g_clear_pointer (&frame->reply_text, g_free);
  memset (frame, 0, sizeof *frame);
}

SsqTestRaw *
ssq_test_amqp_connect (SsqTestServer *server)
{
  struct sockaddr_in to = { .sin_family = AF_INET };
  g_autofree char *host = NULL;
  const char *colon;
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

  g_assert_nonnull (server->amqp_listen);
  colon = strrchr (server->amqp_listen, ':');
  host = g_strndup (server->amqp_listen, colon - server->amqp_listen);
  g_assert_cmpint (inet_pton (AF_INET, host, &to.sin_addr), ==, 1);
  to.sin_port = htons ((guint16) atoi (colon + 1));
  if (connect (fd, (struct sockaddr *) &to, sizeof to) != 0 && errno != EINPROGRESS)
    g_error ("connect: %s", g_strerror (errno));
  g_assert_true (ssq_test_raw_wait_connected (fd, SSQ_TEST_RAW_WAIT_MS));
  return ssq_test_raw_wrap (fd);
}

static void
put16 (GByteArray *out, guint16 v)
{
  guint8 b[2] = { v >> 8, v & 0xff };
  g_byte_array_append (out, b, 2);
}

static void
put32 (GByteArray *out, guint32 v)
{
  guint8 b[4] = { v >> 24, (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff };
  g_byte_array_append (out, b, 4);
}

void
ssq_test_amqp_frame_append (GByteArray *out,
                            guint8      type,
                            guint16     channel,
                            const void *payload,
                            gsize       len,
                            guint8      end)
{
  g_byte_array_append (out, &type, 1);
  put16 (out, channel);
  put32 (out, (guint32) len);
  g_byte_array_append (out, payload, (guint) len);
  g_byte_array_append (out, &end, 1);
}

void
ssq_test_amqp_method_append (GByteArray *out,
                             guint16     channel,
                             guint32     method,
                             const char *signature,
                             ...)
{
  g_autoptr(GByteArray) p = g_byte_array_new ();
  va_list args;
  guint bit = 8;
  gsize bits_at = 0;

  put16 (p, method >> 16);
  put16 (p, method & 0xffff);
  va_start (args, signature);
  for (const char *s = signature; *s; s++)
    {
      if (*s == 'b')
        {
          gboolean v = va_arg (args, gboolean);

          if (bit == 8)
            {
              bits_at = p->len;
              g_byte_array_append (p, (const guint8 *) "", 1);
              bit = 0;
            }
          if (v)
            p->data[bits_at] |= 1 << bit;
          bit++;
          continue;
        }
      bit = 8;
      switch (*s)
        {
        case 'o': { guint8 v = (guint8) va_arg (args, guint); g_byte_array_append (p, &v, 1); break; }
        case 's': put16 (p, (guint16) va_arg (args, guint)); break;
        case 'l': put32 (p, va_arg (args, guint)); break;
        case 'L': { guint64 v = va_arg (args, guint64); put32 (p, v >> 32); put32 (p, (guint32) v); break; }
        case 'S':
          {
            const char *v = va_arg (args, const char *);
            guint8 n = (guint8) strlen (v);

            g_byte_array_append (p, &n, 1);
            g_byte_array_append (p, (const guint8 *) v, n);
            break;
          }
        case 'T':
          {
            const char *v = va_arg (args, const char *);
            gsize n = va_arg (args, gsize);

            put32 (p, (guint32) n);
            g_byte_array_append (p, (const guint8 *) v, (guint) n);
            break;
          }
        case 'F':
          (void) va_arg (args, gpointer);
          put32 (p, 0);
          break;
        default:
          g_assert_not_reached ();
        }
    }
  va_end (args);
  ssq_test_amqp_frame_append (out, 1, channel, p->data, p->len, 0xCE);
}

void
ssq_test_amqp_send (SsqTestRaw *conn,
                    GByteArray *bytes)
{
  g_assert_cmpuint (ssq_test_raw_send (conn, bytes->data, bytes->len, SSQ_TEST_RAW_WAIT_MS), ==,
                    bytes->len);
  g_byte_array_set_size (bytes, 0);
}

static guint32
get32 (const guint8 *p)
{
  return ((guint32) p[0] << 24) | ((guint32) p[1] << 16) | ((guint32) p[2] << 8) | p[3];
}

static gboolean
take_frame (SsqTestRaw       *conn,
            SsqTestAmqpFrame *out)
{
  const guint8 *d = conn->in->data;
  guint32 size;

  if (conn->in->len < 7)
    return FALSE;
  size = get32 (d + 3);
  if (conn->in->len < 8 + (gsize) size)
    return FALSE;
  g_assert_cmphex (d[7 + size], ==, 0xCE);
  ssq_test_amqp_frame_clear (out);
  out->type = d[0];
  out->channel = (guint16) (d[1] << 8 | d[2]);
  out->payload = g_byte_array_new ();
  g_byte_array_append (out->payload, d + 7, size);
  if (out->type == 1 && size >= 4)
    out->method = get32 (d + 7);
  /* connection.close and channel.close: code, then the text. */
  if (out->type == 1 && (out->method == SSQ_TEST_AMQP_ID (10, 50) ||
                         out->method == SSQ_TEST_AMQP_ID (20, 40)) && size >= 7)
    {
      out->reply_code = (guint16) (d[11] << 8 | d[12]);
      out->reply_text = g_strndup ((const char *) d + 14, MIN (d[13], size - 7));
    }
  g_byte_array_remove_range (conn->in, 0, 8 + size);
  return TRUE;
}

gboolean
ssq_test_amqp_read (SsqTestRaw       *conn,
                    guint             timeout_ms,
                    SsqTestAmqpFrame *out)
{
  gint64 deadline = ssq_test_deadline_after (timeout_ms);

  while (!take_frame (conn, out))
    {
      if (conn->closed || ssq_test_ms_until (deadline) == 0)
        return FALSE;
      ssq_test_raw_pump (conn, ssq_test_ms_until (deadline));
    }
  return TRUE;
}

void
ssq_test_amqp_expect (SsqTestRaw       *conn,
                      guint32           method,
                      SsqTestAmqpFrame *out)
{
  do
    {
      if (!ssq_test_amqp_read (conn, SSQ_TEST_RAW_WAIT_MS, out))
        g_error ("no frame came (waiting for %u.%u)", method >> 16, method & 0xffff);
    }
  while (out->type == 8);
  if (out->type != 1 || out->method != method)
    g_error ("expected method %u.%u, got frame type %u method %u.%u (%u %s)", method >> 16,
             method & 0xffff, out->type, out->method >> 16, out->method & 0xffff,
             out->reply_code, out->reply_text ? out->reply_text : "");
}

gboolean
ssq_test_amqp_login (SsqTestRaw       *conn,
                     const char       *username,
                     const char       *password,
                     SsqTestAmqpFrame *out_close)
{
  g_autoptr(GByteArray) out = g_byte_array_new ();
  g_auto(SsqTestAmqpFrame) frame = { 0 };
  g_autofree char *response = g_strdup_printf ("%c%s%c%s", 0, username, 0, password);
  gsize response_len = 2 + strlen (username) + strlen (password);

  g_byte_array_append (out, (const guint8 *) "AMQP\0\0\x09\x01", 8);
  ssq_test_amqp_send (conn, out);
  ssq_test_amqp_expect (conn, SSQ_TEST_AMQP_ID (10, 10), &frame);
  ssq_test_amqp_method_append (out, 0, SSQ_TEST_AMQP_ID (10, 11), "FSTS", NULL, "PLAIN",
                               response, response_len, "en_US");
  ssq_test_amqp_send (conn, out);
  if (!ssq_test_amqp_read (conn, SSQ_TEST_RAW_WAIT_MS, &frame))
    g_error ("no answer to start-ok");
  if (frame.method == SSQ_TEST_AMQP_ID (10, 30))
    return TRUE;
  g_assert_cmphex (frame.method, ==, SSQ_TEST_AMQP_ID (10, 50));
  if (out_close != NULL)
    {
      *out_close = frame;
      memset (&frame, 0, sizeof frame);
    }
  return FALSE;
}

void
ssq_test_amqp_tune_open (SsqTestRaw *conn,
                         guint16     channel_max,
                         guint32     frame_max,
                         guint16     heartbeat,
                         const char *vhost)
{
  g_autoptr(GByteArray) out = g_byte_array_new ();

  ssq_test_amqp_method_append (out, 0, SSQ_TEST_AMQP_ID (10, 31), "sls", (guint) channel_max,
                               frame_max, (guint) heartbeat);
  ssq_test_amqp_method_append (out, 0, SSQ_TEST_AMQP_ID (10, 40), "SSb", vhost, "", FALSE);
  ssq_test_amqp_send (conn, out);
}

SsqTestRaw *
ssq_test_amqp_open (SsqTestServer *server,
                    const char    *username,
                    const char    *password)
{
  SsqTestRaw *conn = ssq_test_amqp_connect (server);
  g_auto(SsqTestAmqpFrame) frame = { 0 };

  g_assert_true (ssq_test_amqp_login (conn, username, password, NULL));
  ssq_test_amqp_tune_open (conn, 0, 0, 0, "/");
  ssq_test_amqp_expect (conn, SSQ_TEST_AMQP_ID (10, 41), &frame);
  return conn;
}

void
ssq_test_amqp_expect_close (SsqTestRaw *conn,
                            guint16     code)
{
  g_auto(SsqTestAmqpFrame) frame = { 0 };
  g_autoptr(GByteArray) out = g_byte_array_new ();

  ssq_test_amqp_expect (conn, SSQ_TEST_AMQP_ID (10, 50), &frame);
  g_test_message ("connection.close %u %s", frame.reply_code, frame.reply_text);
  g_assert_cmpuint (frame.reply_code, ==, code);
  ssq_test_amqp_method_append (out, 0, SSQ_TEST_AMQP_ID (10, 51), "");
  ssq_test_raw_send (conn, out->data, out->len, SSQ_TEST_RAW_WAIT_MS);
}

void
ssq_test_amqp_open_channel (SsqTestRaw *conn,
                            guint16     channel)
{
  g_autoptr(GByteArray) out = g_byte_array_new ();
  g_auto(SsqTestAmqpFrame) frame = { 0 };

  ssq_test_amqp_method_append (out, channel, SSQ_TEST_AMQP_ID (20, 10), "S", "");
  ssq_test_amqp_send (conn, out);
  ssq_test_amqp_expect (conn, SSQ_TEST_AMQP_ID (20, 11), &frame);
}

guint32
ssq_test_amqp_declare (SsqTestRaw *conn,
                       const char *queue,
                       gboolean    passive)
{
  g_autoptr(GByteArray) out = g_byte_array_new ();
  g_auto(SsqTestAmqpFrame) frame = { 0 };
  const guint8 *count;

  ssq_test_amqp_method_append (out, 1, SSQ_TEST_AMQP_ID (50, 10), "sSbbbbbF", 0u, queue,
                               passive, FALSE, FALSE, FALSE, FALSE, NULL);
  ssq_test_amqp_send (conn, out);
  ssq_test_amqp_expect (conn, SSQ_TEST_AMQP_ID (50, 11), &frame);
  /* declare-ok: class, method, the queue's name (shortstr), then its count */
  count = frame.payload->data + 5 + frame.payload->data[4];
  return (guint32) count[0] << 24 | (guint32) count[1] << 16 | (guint32) count[2] << 8 | count[3];
}

void
ssq_test_amqp_put_u64 (guint8  *p,
                       guint64  v)
{
  for (int i = 7; i >= 0; i--, v >>= 8)
    p[i] = (guint8) v;
}

void
ssq_test_amqp_publish_header_append (GByteArray *out,
                                     guint16     channel,
                                     const char *queue,
                                     guint64     body_size)
{
  guint8 header[14] = { 0, 60, 0, 0 };

  ssq_test_amqp_put_u64 (header + 4, body_size);
  ssq_test_amqp_method_append (out, channel, SSQ_TEST_AMQP_ID (60, 40), "sSSbb", 0u, "", queue,
                               FALSE, FALSE);
  ssq_test_amqp_frame_append (out, 2, channel, header, sizeof header, 0xCE);
}

void
ssq_test_amqp_publish_append (GByteArray *out,
                              guint16     channel,
                              const char *queue,
                              const void *body,
                              gsize       size)
{
  ssq_test_amqp_publish_header_append (out, channel, queue, size);
  if (size > 0)
    ssq_test_amqp_frame_append (out, 3, channel, body, size, 0xCE);
}

void
ssq_test_amqp_fixture_setup (SsqTestAmqpFixture *f,
                             gconstpointer       config)
{
  f->server = ssq_test_server_start (NULL, config);
  f->alice = ssq_test_register (f->server, "alice");
  f->password = g_strdup ("password-alice");
}

void
ssq_test_amqp_fixture_teardown (SsqTestAmqpFixture *f,
                                gconstpointer       config)
{
  ssq_test_user_free (f->alice);
  g_free (f->password);
  g_assert_cmpint (ssq_test_server_stop (f->server), ==, 0);
  ssq_test_server_free (f->server);
}

SsqTestRaw *
ssq_test_amqp_fixture_open (SsqTestAmqpFixture *f)
{
  SsqTestRaw *conn = ssq_test_amqp_open (f->server, "alice", f->password);

  ssq_test_amqp_open_channel (conn, 1);
  return conn;
}
