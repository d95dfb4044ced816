/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-transport-http.c: the bounds of the server's HTTP transport,
 * black-box, against the real binary: descriptors, accept () under EMFILE,
 * request bodies refused unread, peers that never read, slow-loris headers,
 * header limits, connections per address. Memory and descriptors are read
 * from /proc/<pid> of the server.
 *
 * The clients here are the raw sockets of ssq-test-raw.h: libsoup's client
 * would read for us (hiding a server that never answers behind its own
 * timeouts) and cannot send what a hostile client sends. Every wait has a
 * deadline; deadlines are generous, so that a loaded machine makes these
 * tests slower, not red. */
#include "ssq-test-raw.h"

#include <poll.h>
#include <string.h>
#include <sys/socket.h>

#define KiB      1024
#define MiB      (1024 * 1024)
#define WAIT_MS  SSQ_TEST_RAW_WAIT_MS

/* ---- 1. Keep-alive connections and descriptors ------------------------ */

#define KEEPALIVE_TOTAL  20000
#define KEEPALIVE_BATCH  200

/* @n connections from @source, each one GET /healthz kept alive, then
 * closed by us (a FIN, as a browser closing an idle connection does).
 * Returns how many got their whole response within the deadline. */
static guint
keepalive_batch (SsqTestServer *s,
                 const char    *source,
                 guint          n)
{
  static const char request[] = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n";
  struct pollfd *p = g_new0 (struct pollfd, n);
  SsqTestRaw **c = g_new0 (SsqTestRaw *, n);
  guint8 *state = g_new0 (guint8, n);   /* 0 connecting, 1 sent, 2 answered, 3 failed */
  gint64 deadline = ssq_test_deadline_after (10000);
  guint answered = 0, finished = 0;

  for (guint i = 0; i < n; i++)
    c[i] = ssq_test_raw_wrap (ssq_test_raw_start_connect (s, source, 0, 0));
  while (finished < n && ssq_test_ms_until (deadline) > 0)
    {
      for (guint i = 0; i < n; i++)
        {
          p[i].fd = state[i] >= 2 ? -1 : c[i]->fd;
          p[i].events = state[i] == 0 ? POLLOUT : POLLIN;
          p[i].revents = 0;
        }
      if (poll (p, n, ssq_test_ms_until (deadline)) <= 0)
        continue;
      for (guint i = 0; i < n; i++)
        {
          g_auto(SsqTestRawResponse) r = { 0 };

          if (p[i].revents == 0)
            continue;
          if (state[i] == 0)
            {
              int err = 0;
              socklen_t len = sizeof err;

              getsockopt (c[i]->fd, SOL_SOCKET, SO_ERROR, &err, &len);
              state[i] = err == 0 &&
                         ssq_test_raw_send (c[i], request, sizeof request - 1, 1000) ==
                           sizeof request - 1
                           ? 1 : 3;
            }
          else
            {
              ssq_test_raw_pump (c[i], 0);
              if (ssq_test_raw_take_response (c[i], &r))
                state[i] = r.status == 200 ? 2 : 3;
              else if (c[i]->closed)
                state[i] = 3;
            }
          if (state[i] >= 2)
            {
              finished++;
              answered += state[i] == 2;
            }
        }
    }
  for (guint i = 0; i < n; i++)
    ssq_test_raw_close (c[i]);
  g_free (p);
  g_free (c);
  g_free (state);
  return answered;
}

/* Polls the descriptor count (ssq_test_wait_until () would sleep until
 * its deadline: nothing in our main loop wakes it up). */
static guint
wait_fds_at_most (SsqTestServer *s,
                  guint          limit,
                  guint          timeout_ms)
{
  gint64 deadline = ssq_test_deadline_after (timeout_ms);
  guint fds;

  while ((fds = ssq_test_server_fd_count (s)) > limit && ssq_test_ms_until (deadline) > 0)
    ssq_test_wait_ms (50);
  return fds;
}

/* libsoup 3.2 leaks the descriptor of every keep-alive connection its
 * client closes: 20,000 connections would leave 20,000 descriptors and then
 * an EMFILE. The transport must give each one back. */
static void
test_keepalive_descriptors (void)
{
  g_autoptr(SsqTestServer) s = ssq_test_server_start (NULL, NULL);
  guint baseline, fds, done = 0;

  /* One connection first, so that whatever the first request opens for
   * good (the database, a thread's descriptors) is in the baseline. */
  g_assert_cmpuint (keepalive_batch (s, NULL, 1), ==, 1);
  ssq_test_wait_ms (300);
  baseline = ssq_test_server_fd_count (s);
  g_test_message ("descriptors at start: %u", baseline);

  for (guint b = 0; done < KEEPALIVE_TOTAL; b++)
    {
      /* A source address per batch: the 4-tuples of our TIME_WAIT sockets
       * never repeat, however often the test runs. */
      g_autofree char *source = g_strdup_printf ("127.0.1.%u", 1 + b % 250);
      guint answered = keepalive_batch (s, source, KEEPALIVE_BATCH);

      if (answered != KEEPALIVE_BATCH)
        g_test_message ("batch %u: %u of %u answered; server holds %u descriptors", b, answered,
                        KEEPALIVE_BATCH, ssq_test_server_fd_count (s));
      g_assert_cmpuint (answered, ==, KEEPALIVE_BATCH);
      done += answered;
      /* A server that gives descriptors back never holds more than a few
       * batches' worth; fail early, not at EMFILE, when it keeps them. */
      if (done % 2000 == 0)
        {
          fds = ssq_test_server_fd_count (s);
          g_test_message ("after %u connections: %u descriptors", done, fds);
          g_assert_cmpuint (fds, <=, baseline + 1000);
        }
    }
  fds = wait_fds_at_most (s, baseline + 2, 5000);
  g_test_message ("descriptors at the end: %u (baseline %u)", fds, baseline);
  g_assert_cmpuint (fds, <=, baseline + 2);
  g_assert_cmpuint (ssq_test_raw_healthz (s, NULL, WAIT_MS), ==, 200);
}

/* ---- 2. EMFILE on accept () ------------------------------------------- */

#define EMFILE_BURST 400

/* With 256 descriptors, a burst of 400 connections runs accept () into
 * EMFILE. libsoup 3.2 then drops its listening source and never accepts
 * again; the transport must ride it out and serve once the burst is gone. */
static void
test_emfile_recovery (void)
{
  g_autofree char *prlimit = g_find_program_in_path ("prlimit");
  g_autoptr(SsqTestServer) s = NULL;
  SsqTestRaw *burst[EMFILE_BURST];
  guint status = 0;
  gint64 deadline;

  if (prlimit == NULL)
    {
      g_test_skip ("prlimit (util-linux) not found");
      return;
    }
  {
    const char *wrapper[] = { prlimit, "--nofile=256:256", "--", NULL };

    s = ssq_test_server_start_wrapped (NULL, NULL, wrapper);
  }
  g_assert_cmpuint (ssq_test_raw_healthz (s, NULL, WAIT_MS), ==, 200);

  /* From four addresses: the per-address limit (256 by default) is not
   * what this test is about. */
  for (guint i = 0; i < EMFILE_BURST; i++)
    {
      g_autofree char *source = g_strdup_printf ("127.0.2.%u", 1 + i % 4);

      burst[i] = ssq_test_raw_wrap (ssq_test_raw_start_connect (s, source, 0, 0));
    }
  for (guint i = 0; i < EMFILE_BURST; i++)
    g_assert_true (ssq_test_raw_wait_connected (burst[i]->fd, WAIT_MS));
  /* Time for the server to accept what it can and hit the limit. */
  ssq_test_wait_ms (1500);
  g_test_message ("during the burst: %u descriptors", ssq_test_server_fd_count (s));
  g_assert_true (ssq_test_server_alive (s));

  for (guint i = 0; i < EMFILE_BURST; i++)
    ssq_test_raw_close (burst[i]);

  /* Fresh connections until one is answered: one accepted while the server
   * still counts the burst may be turned away, which is fine. */
  deadline = ssq_test_deadline_after (15000);
  while (status != 200 && ssq_test_ms_until (deadline) > 0)
    status = ssq_test_raw_healthz (s, NULL, MIN (3000, (guint) ssq_test_ms_until (deadline)));
  g_test_message ("after the burst: %u descriptors", ssq_test_server_fd_count (s));
  g_assert_true (ssq_test_server_alive (s));
  g_assert_cmpuint (status, ==, 200);
}

/* ---- 3. A body refused unread ----------------------------------------- */

static void
assert_too_large (SsqTestRawResponse *r)
{
  g_autofree char *connection = ssq_test_raw_head_header (r->head, "Connection");
  g_autofree char *lower = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *root;

  g_assert_cmpuint (r->status, ==, 413);
  g_assert_nonnull (connection);
  lower = g_ascii_strdown (connection, -1);
  g_assert_nonnull (strstr (lower, "close"));
  g_assert_true (json_parser_load_from_data (parser, r->body, -1, NULL));
  root = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpstr (ssq_test_error_code (root), ==, "too_large");
}

/* Sends up to @total bytes of filler, stopping when the peer stops taking
 * them for 2 s or errors; returns what went out. */
static gsize
send_filler (SsqTestRaw *c,
             gsize       total)
{
  g_autofree char *filler = g_strnfill (64 * KiB, 'a');
  gsize sent = 0;

  while (sent < total && !c->send_failed)
    {
      gsize n = ssq_test_raw_send (c, filler, MIN (64 * KiB, total - sent), 2000);

      sent += n;
      if (n < MIN (64 * KiB, total - sent + n))
        break;
    }
  return sent;
}

/* libsoup 3.2 reads a whole body before the reply set at got-headers goes
 * out: a Content-Length of 2 GB is a connection held until 2 GB arrive.
 * The transport answers 413 from the headers and never reads the body. */
static void
test_body_413_unread (void)
{
  g_autoptr(SsqTestServer) s = ssq_test_server_start (NULL, "max_body_size=65536\n");
  const char *head = "POST /api/v1/register HTTP/1.1\r\nHost: x\r\n"
                     "Content-Type: application/json\r\nContent-Length: 2000000000\r\n\r\n";
  gsize baseline, sent;

  /* Headers alone: the answer must come with no body byte sent. */
  {
    g_autoptr(SsqTestRaw) c = ssq_test_raw_open (s);
    g_auto(SsqTestRawResponse) r = { 0 };

    baseline = ssq_test_rss_baseline (s);
    g_assert_true (ssq_test_raw_send_str (c, head));
    if (!ssq_test_raw_read_response (c, WAIT_MS, &r))
      g_test_message ("no response within %u ms to a 2 GB Content-Length (nothing sent)", WAIT_MS);
    g_assert_cmpuint (r.status, ==, 413);
    assert_too_large (&r);
    /* A client that sends its body anyway: the server does not take it
     * into memory (24 MB: well above the 8 MB allowed, so that a server
     * that buffers shows). */
    sent = send_filler (c, 24 * MiB);
    g_test_message ("body bytes sent after the 413: %" G_GSIZE_FORMAT ", RSS growth %" G_GSIZE_FORMAT " KiB",
                    sent, ssq_test_rss_growth_kb (s, baseline));
    g_assert_cmpuint (ssq_test_rss_growth_kb (s, baseline), <, 8 * 1024);
    g_assert_true (ssq_test_raw_wait_closed (c, WAIT_MS));
  }

  /* A client that does not wait for the answer, as curl without Expect
   * does: 24 MB pushed at once are not buffered either. */
  {
    g_autoptr(SsqTestRaw) c = ssq_test_raw_open (s);

    baseline = ssq_test_rss_baseline (s);
    g_assert_true (ssq_test_raw_send_str (c, head));
    sent = send_filler (c, 24 * MiB);
    ssq_test_wait_ms (500);
    g_test_message ("eager body bytes sent: %" G_GSIZE_FORMAT ", RSS growth %" G_GSIZE_FORMAT " KiB",
                    sent, ssq_test_rss_growth_kb (s, baseline));
    g_assert_cmpuint (ssq_test_rss_growth_kb (s, baseline), <, 8 * 1024);
    g_assert_true (ssq_test_raw_wait_closed (c, WAIT_MS));
  }

  /* Chunked, without the last chunk: stopped once past max_body_size, not
   * at an end that never comes. */
  {
    g_autoptr(SsqTestRaw) c = ssq_test_raw_open (s);
    g_auto(SsqTestRawResponse) r = { 0 };
    g_autofree char *data = g_strnfill (4 * KiB, 'b');
    g_autofree char *chunk = g_strdup_printf ("1000\r\n%s\r\n", data);
    gsize body = 0;

    g_assert_true (ssq_test_raw_send_str (c, "POST /api/v1/register HTTP/1.1\r\nHost: x\r\n"
                                             "Content-Type: application/json\r\n"
                                             "Transfer-Encoding: chunked\r\n\r\n"));
    while (body < 1 * MiB && !c->send_failed && !c->closed && c->in->len == 0)
      {
        if (ssq_test_raw_send (c, chunk, strlen (chunk), 2000) < strlen (chunk))
          break;
        body += 4 * KiB;
        ssq_test_raw_pump (c, 0);
      }
    g_test_message ("chunked body bytes sent: %" G_GSIZE_FORMAT, body);
    if (!ssq_test_raw_read_response (c, WAIT_MS, &r))
      g_test_message ("no response to a chunked body of %" G_GSIZE_FORMAT " bytes without its end",
                      body);
    g_assert_cmpuint (r.status, ==, 413);
    assert_too_large (&r);
    g_assert_true (ssq_test_raw_wait_closed (c, WAIT_MS));
  }
  ssq_test_assert_healthz (s);
}

/* ---- 4. HTTP clients that never read ---------------------------------- */

#define NONREADERS          30
#define PIPELINED_REQUESTS  50

/* Pipelined requests whose answers are never read: libsoup 3.2 keeps such
 * a connection "busy" writing its response forever. The transport must
 * neither queue all the answers nor keep the connections past idle_timeout
 * without progress. */
static void
test_http_nonreaders (void)
{
  /* Under AddressSanitizer freed memory stays in its quarantine (RSS says
   * nothing about our bounds) and building the 1,500 answers that fill the
   * kernel's buffers takes minutes: this test is for the plain build. */
  if (g_getenv ("ASAN_OPTIONS") != NULL)
    {
      g_test_skip ("RSS bounds are not measurable under AddressSanitizer");
      return;
    }

  g_autoptr(SsqTestServer) s = ssq_test_server_start (NULL, "idle_timeout=2\n");
  g_autoptr(SsqTestUser) owner = ssq_test_register (s, "reader.owner");
  g_autoptr(GString) members = g_string_new (NULL);
  g_autoptr(GString) pipeline = g_string_new (NULL);
  g_autofree char *title = g_strnfill (120, 't');
  SsqTestRaw *c[NONREADERS];
  gsize baseline, response_len;
  gint64 deadline, sends_done, last_progress;
  guint64 queued, last_queued = 0;
  guint held, still_open = 0;

  /* 20 groups of 25 make a list reply of about 100 KB: the 50 answers
   * asked for on each connection (5 MB) are far more than the kernel's
   * socket buffers take, so the server itself has to hold them or stop;
   * all the answers (1,500) would take 150 MB. */
  for (guint i = 0; i < 24; i++)
    {
      g_autofree char *name = g_strdup_printf ("reader.member%u", i);
      g_autoptr(SsqTestUser) m = ssq_test_register (s, name);

      g_string_append_printf (members, "%s\"%s\"", i ? "," : "", name);
    }
  for (guint i = 0; i < 20; i++)
    {
      g_autofree char *json = g_strdup_printf ("{\"kind\":\"group\",\"title\":\"%s\",\"members\":[%s]}",
                                               title, members->str);
      g_autofree char *id = ssq_test_create_conversation (s, owner, json);
    }
  {
    g_autoptr(SsqTestRaw) probe = ssq_test_raw_open (s);
    g_auto(SsqTestRawResponse) r = { 0 };
    g_autofree char *req = g_strdup_printf ("GET /api/v1/conversations HTTP/1.1\r\nHost: x\r\n"
                                            "Authorization: Bearer %s\r\n\r\n", owner->token);

    g_assert_true (ssq_test_raw_send_str (probe, req));
    g_assert_true (ssq_test_raw_read_response (probe, WAIT_MS, &r));
    g_assert_cmpuint (r.status, ==, 200);
    response_len = strlen (r.head) + strlen (r.body);
    g_test_message ("one conversation list: %" G_GSIZE_FORMAT " bytes", response_len);
  }
  for (guint i = 0; i < PIPELINED_REQUESTS; i++)
    g_string_append_printf (pipeline, "GET /api/v1/conversations HTTP/1.1\r\nHost: x\r\n"
                                      "Authorization: Bearer %s\r\n\r\n", owner->token);

  baseline = ssq_test_rss_baseline (s);
  for (guint i = 0; i < NONREADERS; i++)
    {
      c[i] = ssq_test_raw_open_full (s, NULL, 4096, 0);
      g_assert_cmpuint (ssq_test_raw_send (c[i], pipeline->str, pipeline->len, WAIT_MS), ==,
                        pipeline->len);
    }

  /* Someone else is served meanwhile. */
  ssq_test_assert_healthz (s);
  {
    guint status = 0;
    g_autoptr(JsonObject) list = ssq_test_http (s, "GET", "/api/v1/conversations", owner->token,
                                                NULL, &status);

    g_assert_cmpuint (status, ==, 200);
  }

  /* Watched from the server's side: from ours nothing may show yet, as a
   * close () queues the FIN behind the unsent replies, which cannot leave
   * while we do not read. The clock starts when the server's writes stop
   * moving (its socket queues stay put): building the replies that fill
   * the kernel's buffers is work a loaded machine may do slowly. */
  sends_done = g_get_monotonic_time ();
  last_progress = sends_done;
  deadline = ssq_test_deadline_after (30000);
  while ((held = ssq_test_raw_server_sockets (s, c, NONREADERS, &queued)) > 0 &&
         g_get_monotonic_time () < last_progress + (2 + 3) * G_USEC_PER_SEC &&
         ssq_test_ms_until (deadline) > 0)
    {
      if (queued != last_queued)
        {
          last_queued = queued;
          last_progress = g_get_monotonic_time ();
        }
      ssq_test_wait_ms (100);
    }
  g_test_message ("%u of %u non-reading connections still held by the server %.1f s after the "
                  "requests, %.1f s after its last progress writing (%" G_GUINT64_FORMAT " bytes in its "
                  "socket queues); RSS growth %" G_GSIZE_FORMAT " KiB",
                  held, NONREADERS, (g_get_monotonic_time () - sends_done) / 1e6,
                  (g_get_monotonic_time () - last_progress) / 1e6, last_queued,
                  ssq_test_rss_growth_kb (s, baseline));
  g_assert_cmpuint (ssq_test_rss_growth_kb (s, baseline), <, 16 * 1024);
  g_assert_cmpuint (held, ==, 0);

  /* When we finally read, what was in flight drains and the end shows. */
  for (guint i = 0; i < NONREADERS; i++)
    {
      int big = 1024 * 1024;

      setsockopt (c[i]->fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
      if (!ssq_test_raw_wait_closed (c[i], WAIT_MS))
        still_open++;
    }
  g_assert_cmpuint (still_open, ==, 0);

  for (guint i = 0; i < NONREADERS; i++)
    ssq_test_raw_close (c[i]);
  ssq_test_assert_healthz (s);
}

/* ---- 5. Slow loris ---------------------------------------------------- */

#define LORIS 50

/* Headers one byte every 500 ms: each byte is progress, so only a deadline
 * for the whole header block (header_timeout) ends such a connection;
 * libsoup 3.2 has none. */
static void
test_slow_loris (void)
{
  g_autoptr(SsqTestServer) s = ssq_test_server_start (NULL, "header_timeout=2\n");
  g_autoptr(SsqTestUser) u = ssq_test_register (s, "loris.calm");
  g_autofree char *conv = ssq_test_create_conversation (s, u, "{\"kind\":\"group\",\"title\":\"loris\"}");
  g_autoptr(SsqTestWs) ws = ssq_test_ws_connect (s, u->token, NULL);
  static const char trickle[] = "X-Trickle: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
  SsqTestRaw *c[LORIS];
  gboolean gone[LORIS] = { FALSE };
  guint n_gone = 0, tick = 0;
  gint64 deadline;

  g_assert_nonnull (ws);
  g_assert_nonnull (ssq_test_ws_expect (ws, "welcome", WAIT_MS));
  for (guint i = 0; i < LORIS; i++)
    {
      c[i] = ssq_test_raw_open (s);
      g_assert_true (ssq_test_raw_send_str (c[i], "GET /healthz HTTP/1.1\r\nHost: x\r\n"));
    }
  /* header_timeout is 2 s; the rest is room for a loaded machine (the
   * default idle_timeout, 60 s, is far away). */
  deadline = ssq_test_deadline_after (9000);
  while (n_gone < LORIS && ssq_test_ms_until (deadline) > 0)
    {
      ssq_test_wait_ms (500);
      for (guint i = 0; i < LORIS; i++)
        {
          if (gone[i])
            continue;
          if (!ssq_test_raw_peer_gone (c[i]))
            ssq_test_raw_send (c[i], &trickle[tick % (sizeof trickle - 1)], 1, 0);
          if (ssq_test_raw_peer_gone (c[i]))
            {
              gone[i] = TRUE;
              n_gone++;
            }
        }
      tick++;
      if (tick % 2 == 0)
        ssq_test_assert_send_acked (ws, conv);
    }
  g_test_message ("%u of %u trickling connections closed by the server after %u bytes each", n_gone,
                  LORIS, tick);
  g_assert_cmpuint (n_gone, ==, LORIS);
  for (guint i = 0; i < LORIS; i++)
    {
      /* Whatever came before the close is a 408. */
      ssq_test_raw_pump (c[i], 0);
      if (c[i]->in->len > 0)
        g_assert_true (g_str_has_prefix ((const char *) c[i]->in->data, "HTTP/1.1 408"));
      ssq_test_raw_close (c[i]);
    }
  ssq_test_assert_send_acked (ws, conv);
}

/* A body one byte every 500 ms, after whole headers: each byte is progress,
 * so only a deadline for the whole request (idle_timeout from its first
 * byte, for a body read into memory) ends it: 408, then the close. Each
 * byte kept it, and what its body held, for as long as the peer liked. */
static void
test_slow_loris_body (void)
{
  g_autoptr(SsqTestServer) s = ssq_test_server_start (NULL, "idle_timeout=2\n");
  g_autoptr(SsqTestRaw) c = ssq_test_raw_open (s);
  gint64 deadline;
  guint sent = 0;

  g_assert_true (ssq_test_raw_send_str (c, "POST /api/v1/login HTTP/1.1\r\nHost: x\r\n"
                                           "Content-Type: application/json\r\n"
                                           "Content-Length: 1000\r\n\r\n"));
  /* idle_timeout is 2 s; the rest is room for a loaded machine. */
  deadline = ssq_test_deadline_after (9000);
  while (!ssq_test_raw_peer_gone (c) && ssq_test_ms_until (deadline) > 0)
    {
      ssq_test_wait_ms (500);
      if (!ssq_test_raw_peer_gone (c))
        sent += ssq_test_raw_send (c, " ", 1, 0);
    }
  g_test_message ("closed after %u body bytes", sent);
  g_assert_true (ssq_test_raw_peer_gone (c));
  ssq_test_raw_pump (c, 0);
  g_assert_true (g_str_has_prefix ((const char *) c->in->data, "HTTP/1.1 408"));
  g_assert_cmpuint (sent, <, 1000);
}

/* ---- 6. Header limits ------------------------------------------------- */

static void
expect_431 (SsqTestServer *s,
            const char    *request)
{
  g_autoptr(SsqTestRaw) c = ssq_test_raw_open (s);
  g_auto(SsqTestRawResponse) r = { 0 };

  /* The server may stop reading (and reset) before taking it all. */
  ssq_test_raw_send (c, request, strlen (request), 2000);
  if (!ssq_test_raw_read_response (c, WAIT_MS, &r))
    g_test_message ("no response within %u ms", WAIT_MS);
  g_assert_cmpuint (r.status, ==, 431);
  g_assert_true (ssq_test_raw_wait_closed (c, WAIT_MS));
}

static void
test_header_limits (void)
{
  g_autoptr(SsqTestServer) s = ssq_test_server_start (NULL, NULL);
  g_autoptr(GString) many = g_string_new ("GET /healthz HTTP/1.1\r\nHost: x\r\n");
  g_autofree char *big = g_strnfill (40 * 1000, 'h');
  g_autofree char *one_big = g_strdup_printf ("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: %s\r\n\r\n", big);

  /* Defaults: max_headers 64, max_header_size 16384. */
  for (guint i = 0; i < 100; i++)
    g_string_append_printf (many, "X-Header-%u: %u\r\n", i, i);
  g_string_append (many, "\r\n");
  expect_431 (s, many->str);
  expect_431 (s, one_big);
  g_assert_cmpuint (ssq_test_raw_healthz (s, NULL, WAIT_MS), ==, 200);
}

/* ---- 7. Connections per address --------------------------------------- */

static void
test_per_address_limit (void)
{
  g_autoptr(SsqTestServer) s = ssq_test_server_start (NULL, "max_connections_per_address=20\n");
  SsqTestRaw *c[30];
  guint open = 0;
  gint64 deadline;

  for (guint i = 0; i < G_N_ELEMENTS (c); i++)
    c[i] = ssq_test_raw_open_full (s, "127.0.0.1", 0, 0);
  /* The ten beyond the limit are closed at once; give "at once" a few
   * seconds on a loaded machine. */
  deadline = ssq_test_deadline_after (3000);
  do
    {
      ssq_test_wait_ms (100);
      open = 0;
      for (guint i = 0; i < G_N_ELEMENTS (c); i++)
        open += !ssq_test_raw_peer_gone (c[i]);
    }
  while (open > 20 && ssq_test_ms_until (deadline) > 0);
  g_test_message ("%u of %zu connections from 127.0.0.1 left open", open, G_N_ELEMENTS (c));
  g_assert_cmpuint (open, <=, 20);

  /* Those kept are served... */
  for (guint i = 0; i < G_N_ELEMENTS (c); i++)
    if (!ssq_test_raw_peer_gone (c[i]))
      {
        g_auto(SsqTestRawResponse) r = { 0 };

        g_assert_true (ssq_test_raw_send_str (c[i], "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
        g_assert_true (ssq_test_raw_read_response (c[i], WAIT_MS, &r));
        g_assert_cmpuint (r.status, ==, 200);
      }
  /* ...and another address is not held to 127.0.0.1's count. */
  g_assert_cmpuint (ssq_test_raw_healthz (s, "127.0.0.2", WAIT_MS), ==, 200);
  for (guint i = 0; i < G_N_ELEMENTS (c); i++)
    ssq_test_raw_close (c[i]);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/server/transport/keepalive-descriptors", test_keepalive_descriptors);
  g_test_add_func ("/server/transport/emfile-recovery", test_emfile_recovery);
  g_test_add_func ("/server/transport/body-413-unread", test_body_413_unread);
  g_test_add_func ("/server/transport/http-nonreaders", test_http_nonreaders);
  g_test_add_func ("/server/transport/slow-loris", test_slow_loris);
  g_test_add_func ("/server/transport/slow-loris-body", test_slow_loris_body);
  g_test_add_func ("/server/transport/header-limits", test_header_limits);
  g_test_add_func ("/server/transport/per-address-limit", test_per_address_limit);
  return g_test_run ();
}
