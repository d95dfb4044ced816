/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-tui-tmux.c: two real supersoniq-tui processes, each in its own tmux
 * server, against the real server: typed at with send-keys, read back
 * with capture-pane, as a person would use them. */
#include <glib/gstdio.h>
#include <string.h>

#include "ssq-test-server.h"
#include "ssq-test-images.h"
#include "ssq-test-media.h"
#include "ssq-test-tmux.h"
#include "ssq-trust.h"

#define WAIT_MS SSQ_TEST_TERM_WAIT_MS
#define POLL_MS SSQ_TEST_TERM_POLL_MS

/* supersoniq-tui --server @server_url, 100 x 30, its errors in its home. */
static SsqTestTerm *
term_start (const char *name,
            const char *server_url)
{
  g_autofree char *args = g_strdup_printf ("--server %s", server_url);

  return ssq_test_term_start (name, args, 100, 30, FALSE);
}

static void
term_restart (SsqTestTerm *term,
              const char  *server_url)
{
  g_autofree char *args = g_strdup_printf ("--server %s", server_url);

  ssq_test_term_restart (term, args);
}

/* The first start: the program asks at the terminal. */
static void
log_in (SsqTestTerm *term,
        const char  *username,
        gboolean     create)
{
  ssq_test_term_wait (term, "Log in or register?");
  ssq_test_term_type (term, create ? "r" : "l");
  ssq_test_term_key (term, "Enter");
  ssq_test_term_wait (term, "Username:");
  ssq_test_term_type (term, username);
  ssq_test_term_key (term, "Enter");
  /* The password ssq_test_register gives. */
  g_autofree char *password = g_strdup_printf ("password-%s", username);

  ssq_test_term_wait (term, "Password:");
  ssq_test_term_type (term, password);
  ssq_test_term_key (term, "Enter");
  if (create)
    {
      ssq_test_term_wait (term, "Password again:");
      ssq_test_term_type (term, password);
      ssq_test_term_key (term, "Enter");
    }
  ssq_test_term_wait (term, "[online]");
}

static void
test_two_people (void)
{
  if (!ssq_test_have_tmux ())
    return;

  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, NULL);
  g_autoptr(SsqTestUser) bob_account = ssq_test_register (server, "bob");
  g_autoptr(SsqTestTerm) alice = term_start ("alice", server->url);
  g_autoptr(SsqTestTerm) bob = term_start ("bob", server->url);
  g_autofree char *last = NULL;

  log_in (alice, "alice", TRUE);
  log_in (bob, "bob", FALSE);

  /* A direct conversation, a message with non-ASCII text, and its read
   * mark once bob has it on screen. */
  ssq_test_term_type (alice, "/dm bob");
  ssq_test_term_key (alice, "Enter");
  ssq_test_term_wait (alice, "bob (online)");
  ssq_test_term_type (alice, "Grüße aus München, 漢字 and 😀");
  ssq_test_term_key (alice, "Enter");
  ssq_test_term_wait (bob, "#1 alice: Grüße aus München, 漢字 and 😀");
  ssq_test_term_wait (alice, "😀 ✓✓");

  /* Typing shows on the other side, and ends with the message. */
  ssq_test_term_type (bob, "on my way");
  ssq_test_term_wait (alice, "bob is typing");
  ssq_test_term_key (bob, "Enter");
  ssq_test_term_wait (alice, "#2 bob: on my way");
  ssq_test_term_wait_gone (alice, "bob is typing");

  /* A group, seen by both. */
  ssq_test_term_type (alice, "/group team bob");
  ssq_test_term_key (alice, "Enter");
  ssq_test_term_wait (alice, "team — alice*, bob");
  ssq_test_term_type (alice, "hello team");
  ssq_test_term_key (alice, "Enter");
  ssq_test_term_wait (bob, "team");
  /* Alt-A: the next conversation with unread messages. The group may show
   * in bob's list (its conversation event) a moment before alice's message
   * makes it unread, so press again until it opens; each press waits a
   * while for the screen, longer as the attempts go (a loaded machine may
   * take seconds to draw), all within one generous deadline. */
  {
    gint64 end = g_get_monotonic_time () + WAIT_MS * 1000;
    gboolean opened = FALSE;
    guint patience = 1000;

    while (!opened && g_get_monotonic_time () < end)
      {
        ssq_test_term_key (bob, "M-a");
        opened = ssq_test_term_wait_full (bob, "#1 alice: hello team", TRUE, patience);
        patience = MIN (patience * 2, 8000);
      }
    g_assert_true (opened);
  }

  /* Narrow: the list goes, the messages stay; and back. */
  ssq_test_tmux (alice, "resize-window", "-x", "40", "-y", "12", NULL);
  ssq_test_term_wait_gone (alice, "│");
  ssq_test_term_wait (alice, "#1 alice: hello team");
  ssq_test_tmux (alice, "resize-window", "-x", "100", "-y", "30", NULL);
  ssq_test_term_wait (alice, "│");

  /* Help comes from the command table; Esc closes it. */
  ssq_test_term_type (alice, "/help");
  ssq_test_term_key (alice, "Enter");
  ssq_test_term_wait (alice, "/invite USER");
  ssq_test_term_key (alice, "Escape");
  ssq_test_term_wait_gone (alice, "/invite USER");

  /* A second group with the same title: /open by that title opens
   * neither and lists both with their ids; a username still works. */
  ssq_test_term_type (alice, "/group team");
  ssq_test_term_key (alice, "Enter");
  ssq_test_term_wait (alice, "team — alice*\n");
  ssq_test_term_type (alice, "/open team");
  ssq_test_term_key (alice, "Enter");
  ssq_test_term_wait (alice, "“team” names 2 conversations");
  ssq_test_term_wait (alice, "(2 members)");
  ssq_test_term_wait (alice, "(1 member)");
  ssq_test_term_key (alice, "Escape");
  ssq_test_term_wait_gone (alice, "names 2 conversations");
  ssq_test_term_type (alice, "/open bob");
  ssq_test_term_key (alice, "Enter");
  ssq_test_term_wait (alice, "bob (online)");
}

static void
test_scrollback_and_restart (void)
{
  if (!ssq_test_have_tmux ())
    return;

  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, NULL);
  g_autoptr(SsqTestUser) alice_account = ssq_test_register (server, "alice");
  g_autoptr(SsqTestUser) bob_account = ssq_test_register (server, "bob");
  g_autofree char *dm = ssq_test_create_conversation (server, alice_account,
                                                      "{\"kind\":\"direct\",\"members\":[\"bob\"]}");
  g_autofree char *path = g_strdup_printf ("/api/v1/conversations/%s/messages", dm);
  g_autoptr(SsqTestTerm) alice = NULL;
  g_autoptr(SsqTestTerm) bob = NULL;
  guint status;

  /* 500 messages of history before bob ever looks. */
  for (int i = 1; i <= 500; i++)
    {
      g_autofree char *body = g_strdup_printf ("{\"client_id\":\"s%d\",\"body\":\"line %d\"}", i, i);
      g_autoptr(JsonObject) reply = ssq_test_http (server, "POST", path, alice_account->token, body, &status);

      g_assert_cmpuint (status, ==, 201);
    }
  bob = term_start ("bob", server->url);
  log_in (bob, "bob", FALSE);
  ssq_test_term_wait (bob, "#500 alice: line 500");

  /* PgUp to the very first, fetching older history on the way: each press
   * waits for the screen to move (or for a fetch to end), not for a fixed
   * time. */
  {
    gint64 end = g_get_monotonic_time () + WAIT_MS * 1000;

    while (g_get_monotonic_time () < end)
      {
        g_autofree char *text = ssq_test_term_screen (bob);

        if (strstr (text, "#1 alice: line 1\n") != NULL || strstr (text, "#1 alice: line 1 ") != NULL)
          break;
        ssq_test_term_key (bob, "PPage");
        ssq_test_term_wait_changed (bob, text, 5000);
      }
  }
  ssq_test_term_wait (bob, "#1 alice: line 1");
  ssq_test_term_key (bob, "NPage");
  for (int i = 0; i < 40; i++)
    ssq_test_term_key (bob, "NPage");
  ssq_test_term_wait (bob, "#500 alice: line 500");

  /* The server goes away: a message waits, marked, and goes when it is
   * back; bob's client reconnects by itself too. */
  alice = term_start ("alice", server->url);
  log_in (alice, "alice", FALSE);
  ssq_test_term_wait (alice, "#500 alice: line 500");
  ssq_test_server_kill (server);
  ssq_test_term_wait (alice, "[reconnecting]");
  ssq_test_term_type (alice, "sent while the server was down");
  ssq_test_term_key (alice, "Enter");
  ssq_test_term_wait (alice, "(sending)");
  ssq_test_term_wait (alice, "1 message waiting to be sent");
  ssq_test_server_restart (server);
  ssq_test_term_wait (bob, "#501 alice: sent while the server was down");
  ssq_test_term_wait_gone (alice, "(sending)");
  ssq_test_term_wait_gone (alice, "waiting to be sent");
}

static void
put_file (SsqTestTerm *term,
          const char  *name)
{
  g_autofree char *path = g_build_filename (term->home, name, NULL);
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, "not really a picture", -1, &error);
  g_assert_no_error (error);
}

/* The media commands: Tab completes a path for /upload, which sends it;
 * /images off is kept in tui.ini. */
static void
test_media_commands (void)
{
  if (!ssq_test_have_tmux ())
    return;

  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, NULL);
  g_autoptr(SsqTestUser) bob_account = ssq_test_register (server, "bob");
  g_autoptr(SsqTestTerm) alice = term_start ("alice", server->url);
  g_autofree char *ini_path = NULL, *ini = NULL;

  log_in (alice, "alice", TRUE);
  ssq_test_term_type (alice, "/dm bob");
  ssq_test_term_key (alice, "Enter");
  ssq_test_term_wait (alice, "bob (offline)");
  put_file (alice, "report.pdf");
  put_file (alice, "photo one.jpg");
  put_file (alice, "photo two.png");

  /* One match: the whole name; ~ stays as typed. */
  ssq_test_term_type (alice, "/upload ~/rep");
  ssq_test_term_key (alice, "Tab");
  ssq_test_term_wait (alice, "> /upload ~/report.pdf");
  ssq_test_term_type (alice, "quarterly figures");
  ssq_test_term_wait (alice, "> /upload ~/report.pdf quarterly figures");
  ssq_test_term_key (alice, "Enter");
  ssq_test_term_wait (alice, "[file report.pdf");
  ssq_test_term_wait_gone (alice, "> /upload");

  /* Two: as far as they agree, listed; then one, its space escaped. */
  ssq_test_term_type (alice, "/upload ~/ph");
  ssq_test_term_key (alice, "Tab");
  ssq_test_term_wait (alice, "photo one.jpg  photo two.png");
  /* (capture-pane drops the space at the end of the line.) */
  ssq_test_term_wait (alice, "> /upload ~/photo\\\n");
  ssq_test_term_type (alice, "t");
  ssq_test_term_key (alice, "Tab");
  ssq_test_term_wait (alice, "> /upload ~/photo\\ two.png");
  ssq_test_term_key (alice, "C-u");
  ssq_test_term_wait_gone (alice, "> /upload");

  /* A file that is not there is named as such. */
  ssq_test_term_type (alice, "/upload ~/nowhere.jpg");
  ssq_test_term_key (alice, "Enter");
  ssq_test_term_wait (alice, "Cannot send");
  ssq_test_term_wait (alice, "nowhere.jpg: No such file or directory");

  /* /images off: saved, and still off after a restart. */
  ssq_test_term_type (alice, "/images off");
  ssq_test_term_key (alice, "Enter");
  ssq_test_term_wait (alice, "Pictures off");
  ini_path = g_build_filename (alice->home, "supersoniq", "tui.ini", NULL);
  g_assert_true (g_file_get_contents (ini_path, &ini, NULL, NULL));
  g_assert_nonnull (strstr (ini, "[images]\nenabled=false"));
  /* A mark on the old screen, gone when the new program draws its own. */
  ssq_test_term_type (alice, "typed before the restart");
  ssq_test_term_wait (alice, "> typed before the restart");
  term_restart (alice, server->url);
  ssq_test_term_wait_gone (alice, "typed before the restart");
  ssq_test_term_wait (alice, "[online]");
  ssq_test_term_type (alice, "/images");
  ssq_test_term_key (alice, "Enter");
  ssq_test_term_wait (alice, "Pictures off (/images on shows them)");
  ssq_test_term_type (alice, "/images on");
  ssq_test_term_key (alice, "Enter");
  /* Inside tmux: blocks (tmux passes no pixel graphics on by itself). */
  ssq_test_term_wait (alice, "Pictures on (Unicode blocks)");
}

/* The colours that @line's escapes set, foreground or background alike,
 * the default not counted, added to @colours: "5;N" for a palette index
 * (the 16 first as 30–37, 90–97 and their backgrounds say them too),
 * "2;R;G;B" for a direct colour. */
static void
add_colours (const char *line,
             gsize       len,
             GHashTable *colours)
{
  const char *end = line + len;

  for (const char *p = g_strstr_len (line, len, "\033["); p != NULL;
       p = g_strstr_len (p, end - p, "\033["))
    {
      const char *m = p += 2;
      g_autofree char *params = NULL;
      g_auto(GStrv) fields = NULL;

      while (m < end && (g_ascii_isdigit (*m) || *m == ';'))
        m++;
      if (m >= end || *m != 'm')
        continue;
      params = g_strndup (p, m - p);
      fields = g_strsplit (params, ";", -1);
      for (guint i = 0; fields[i] != NULL; i++)
        {
          int code = atoi (fields[i]);
          int base = code % 10;

          if ((code == 38 || code == 48) && fields[i + 1] != NULL)
            {
              guint n = atoi (fields[i + 1]) == 5 ? 2 : 4;
              g_autofree char **colour = NULL;

              if (n > g_strv_length (fields + i + 1))
                break;
              /* The fields themselves, not copies: joined, not freed. */
              colour = g_new0 (char *, n + 1);
              memcpy (colour, fields + i + 1, n * sizeof (char *));
              g_hash_table_add (colours, g_strjoinv (";", colour));
              i += n;
            }
          else if (base <= 7 && ((code >= 30 && code <= 47) || (code >= 90 && code <= 107)))
            g_hash_table_add (colours, g_strdup_printf ("5;%d", base + (code >= 90 ? 8 : 0)));
        }
    }
}

/* How many colours the line after the one with @needle shows in the
 * message pane (past the conversation list's border), from a screen with
 * its escapes: a picture's row. */
static guint
colours_below (const char *text,
               const char *needle)
{
  g_autoptr(GHashTable) colours = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  const char *hit = strstr (text, needle);
  const char *next = hit ? strchr (hit, '\n') : NULL;
  const char *end;

  if (next == NULL)
    return 0;
  next++;
  end = strchr (next, '\n');
  if (end == NULL)
    end = next + strlen (next);
  if (g_strstr_len (next, end - next, "│") != NULL)
    next = g_strstr_len (next, end - next, "│") + strlen ("│");
  add_colours (next, end - next, colours);
  return g_hash_table_size (colours);
}

/* Two halves, yellow and dark blue, side by side: whatever size the cells
 * are, the picture's first row shows both colours (in flat cells or in
 * block symbols). */
static void
put_picture (const char *path)
{
  g_autoptr(GdkPixbuf) pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, 64, 48);
  guchar *pixels = gdk_pixbuf_get_pixels (pixbuf);
  int stride = gdk_pixbuf_get_rowstride (pixbuf);

  for (int y = 0; y < 48; y++)
    for (int x = 0; x < 64; x++)
      {
        guchar *p = pixels + y * stride + x * 3;
        gboolean on = x < 32;

        p[0] = on ? 0xff : 0x00;
        p[1] = on ? 0xff : 0x20;
        p[2] = on ? 0x00 : 0x80;
      }
  ssq_test_image_save (pixbuf, path, "png");
}

/* /upload with the server away: the progress waits in the status bar; back,
 * the file goes and its line shows; bob has it; /save 1 writes the same
 * bytes, again beside the first copy; a picture shows its size, and its
 * thumbnail drawn below in its colours. */
static void
test_media_transfer (void)
{
  if (!ssq_test_have_tmux ())
    return;

  g_autoptr(SsqTestServer) server = ssq_test_server_start (NULL, NULL);
  g_autoptr(SsqTestUser) alice_account = ssq_test_register (server, "alice");
  g_autoptr(SsqTestUser) bob_account = ssq_test_register (server, "bob");
  g_autofree char *dm = ssq_test_create_conversation (server, alice_account,
                                                      "{\"kind\":\"direct\",\"members\":[\"bob\"]}");
  g_autofree char *path = g_strdup_printf ("/api/v1/conversations/%s/messages", dm);
  g_autoptr(SsqTestTerm) alice = term_start ("alice", server->url);
  g_autofree char *data_path = g_build_filename (alice->home, "data.bin", NULL);
  g_autofree char *picture_path = g_build_filename (alice->home, "halves.png", NULL);
  g_autofree char *out_dir = g_build_filename (alice->home, "out", NULL);
  g_autofree char *saved_path = g_build_filename (out_dir, "data.bin", NULL);
  g_autofree char *again_path = g_build_filename (out_dir, "data (1).bin", NULL);
  g_autofree char *command = NULL, *saved = NULL, *again = NULL;
  /* Not bytes of a new seed each run: the server reads a file's type from
   * its first 4 KiB, and random ones look like a picture to it about once
   * in 6,500 (a TGA, PCX, JPEG XL or 3DS header by chance: 31 of 200,000
   * tried), which shows "[image data.bin …]", or like a JPEG, which is
   * refused as damaged. These always sniff as a plain file. */
  g_autoptr(GBytes) bytes = ssq_test_random_bytes (3 * 1024 * 1024, 20261129);
  gsize data_len = 0;
  const guint8 *data = g_bytes_get_data (bytes, &data_len);
  g_autofree char *sniffed = g_content_type_guess (NULL, data, 4096, NULL);
  g_autofree char *mime = g_content_type_get_mime_type (sniffed);
  gsize saved_len = 0, again_len = 0;
  guint status;

  g_assert_cmpstr (mime, ==, "application/octet-stream");
  ssq_test_write_file (data_path, data, data_len);
  put_picture (picture_path);
  g_assert_cmpint (g_mkdir (out_dir, 0700), ==, 0);

  log_in (alice, "alice", FALSE);
  ssq_test_term_wait (alice, "bob (offline)");

  /* Offline, the upload waits, shown. */
  ssq_test_server_kill (server);
  ssq_test_term_wait (alice, "[reconnecting]");
  ssq_test_term_type (alice, "/upload ~/data.bin the figures");
  ssq_test_term_key (alice, "Enter");
  ssq_test_term_wait (alice, "Uploading data.bin");
  ssq_test_term_wait (alice, "Esc to cancel");
  ssq_test_server_restart (server);
  ssq_test_term_wait (alice, "#1 alice: the figures");
  ssq_test_term_wait (alice, "[file data.bin 3.1 MB]");
  ssq_test_term_wait_gone (alice, "Uploading data.bin");

  /* The other side has the message with its file. */
  {
    g_autoptr(JsonObject) reply = ssq_test_http (server, "GET", path, bob_account->token, NULL, &status);
    JsonArray *messages = json_object_get_array_member (reply, "messages");
    JsonObject *message = json_array_get_object_element (messages, 0);
    JsonObject *media = json_array_get_object_element (json_object_get_array_member (message, "media"), 0);

    g_assert_cmpuint (status, ==, 200);
    g_assert_cmpstr (json_object_get_string_member (message, "body"), ==, "the figures");
    g_assert_cmpstr (json_object_get_string_member (media, "name"), ==, "data.bin");
    g_assert_cmpint (json_object_get_int_member (media, "size"), ==, data_len);
  }

  /* /save 1: the same bytes; a second time, beside the first. */
  command = g_strdup_printf ("/save 1 %s", out_dir);
  ssq_test_term_type (alice, command);
  ssq_test_term_key (alice, "Enter");
  ssq_test_term_wait (alice, "Saved");
  g_assert_true (g_file_get_contents (saved_path, &saved, &saved_len, NULL));
  g_assert_cmpmem (saved, saved_len, data, data_len);
  ssq_test_term_type (alice, command);
  ssq_test_term_key (alice, "Enter");
  ssq_test_term_wait (alice, "data (1).bin");
  g_assert_true (g_file_get_contents (again_path, &again, &again_len, NULL));
  g_assert_cmpmem (again, again_len, data, data_len);

  /* /open N without a graphical session says so. */
  ssq_test_term_type (alice, "/open 1");
  ssq_test_term_key (alice, "Enter");
  ssq_test_term_wait (alice, "No graphical session");

  /* A picture: its size on the line, its thumbnail below in colour. */
  ssq_test_term_type (alice, "/upload ~/halves.png");
  ssq_test_term_key (alice, "Enter");
  ssq_test_term_wait (alice, "#2 alice: [image 64×48 halves.png");
  {
    gint64 end = g_get_monotonic_time () + WAIT_MS * 1000;
    guint colours = 0;

    /* Its cells may be flat colours (spaces on a background): they are
     * told from blank ones by their escapes. */
    while (colours < 2 && g_get_monotonic_time () < end)
      {
        g_autofree char *text = ssq_test_term_screen_full (alice, TRUE);

        colours = colours_below (text, "[image 64×48 halves.png");
        if (colours < 2)
          g_usleep (POLL_MS * 1000);
        else
          g_test_message ("%s", text);
      }
    g_assert_cmpuint (colours, >=, 2);
  }
}

/* Trust on first use at the terminal: the key shown, in halves, as the
 * server printed it; yes, and the log-in form follows. The server back
 * with a new key: refused with the alarming message, before anything is
 * sent. */
static void
test_trust (void)
{
  if (!ssq_test_have_tmux ())
    return;

  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("ssq-tui-trust-XXXXXX", &error);
  g_autofree char *log = g_build_filename (dir, "server.log", NULL);
  g_autoptr(SsqTestServer) server = ssq_test_server_start_logged (NULL, NULL, log, FALSE);
  g_autofree char *text = NULL;
  g_autofree char *compact = NULL;
  g_autofree char *lines = NULL;
  g_autofree char *cert = g_build_filename (server->data_dir, "tls-cert.pem", NULL);
  g_autofree char *key_file = g_build_filename (server->data_dir, "tls-key.pem", NULL);
  g_autofree char *stderr_path = NULL;
  g_autoptr(SsqTestTerm) term = NULL;
  g_auto(GStrv) halves = NULL;
  const char *at;
  gint64 end;

  g_assert_nonnull (server->https_url);
  end = g_get_monotonic_time () + WAIT_MS * 1000;
  while (!(g_file_get_contents (log, &text, NULL, NULL) && strstr (text, "fingerprint: sha256:")))
    {
      g_clear_pointer (&text, g_free);
      g_assert_cmpint (g_get_monotonic_time (), <, end);
      g_usleep (POLL_MS * 1000);
    }
  at = strstr (text, "fingerprint: ") + strlen ("fingerprint: ");
  compact = g_strndup (at, strcspn (at, " \n"));
  lines = ssq_trust_fingerprint_lines (compact, 16);
  halves = g_strsplit (lines, "\n", 2);

  term = term_start ("trust", server->https_url);
  ssq_test_term_wait (term, "Trust it? [y/N]");
  ssq_test_term_wait (term, halves[0]);
  ssq_test_term_wait (term, halves[1]);
  ssq_test_term_type (term, "y");
  ssq_test_term_key (term, "Enter");
  log_in (term, "alice", TRUE);

  /* A new key. */
  g_assert_cmpint (ssq_test_server_stop (server), ==, 0);
  g_assert_cmpint (g_unlink (cert), ==, 0);
  g_assert_cmpint (g_unlink (key_file), ==, 0);
  ssq_test_server_restart (server);
  term_restart (term, server->https_url);
  stderr_path = g_build_filename (term->home, "stderr", NULL);
  g_clear_pointer (&text, g_free);
  end = g_get_monotonic_time () + WAIT_MS * 1000;
  while (!(g_file_get_contents (stderr_path, &text, NULL, NULL) && strstr (text, "DIFFERENT key")))
    {
      g_clear_pointer (&text, g_free);
      g_assert_cmpint (g_get_monotonic_time (), <, end);
      g_usleep (POLL_MS * 1000);
    }
  g_test_message ("stderr: %s", text);
  g_assert_nonnull (strstr (text, "WARNING: THE SERVER'S KEY HAS CHANGED"));
  g_assert_nonnull (strstr (text, "forget-server"));
  g_assert_null (strstr (text, "Log in or register"));
  ssq_test_remove_tree (dir);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/tui/tmux/two-people", test_two_people);
  g_test_add_func ("/tui/tmux/trust", test_trust);
  g_test_add_func ("/tui/tmux/scrollback-and-restart", test_scrollback_and_restart);
  g_test_add_func ("/tui/tmux/media-commands", test_media_commands);
  g_test_add_func ("/tui/tmux/media-transfer", test_media_transfer);
  return g_test_run ();
}
