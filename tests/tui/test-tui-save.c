/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-tui-save.c: /save's copy of a downloaded file into a folder, on its
 * own: names that never overwrite, errors, and a copy that waits off the
 * main loop (from a file whose bytes come through a pipe). */
#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "ssq-tui-save.h"
#include "ssq-test-server.h"

/* Copies @source into @dir as @name, waiting for it: the path written,
 * or NULL with @error. */
static char *
save_copy (GFile       *source,
           const char  *dir,
           const char  *name,
           GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  ssq_tui_save_copy_async (source, dir, name, NULL, ssq_test_store_result, &result);
  return ssq_tui_save_copy_finish (ssq_test_wait_result (&result, 10000), error);
}

static void
assert_file (const char *path,
             const char *contents)
{
  g_autofree char *got = NULL;

  g_assert_true (g_file_get_contents (path, &got, NULL, NULL));
  g_assert_cmpstr (got, ==, contents);
}

/* A file whose bytes come through a pipe, as the test writes them: a copy
 * from it cannot end before they are written. (A FIFO on disk will not do:
 * GIO refuses to copy special files.) */
typedef struct {
  GFileInputStream parent_instance;
  int              fd;
} PipeStream;

typedef GFileInputStreamClass PipeStreamClass;

GType pipe_stream_get_type (void);
G_DEFINE_TYPE (PipeStream, pipe_stream, G_TYPE_FILE_INPUT_STREAM)

static gssize
pipe_stream_read (GInputStream  *stream,
                  void          *buffer,
                  gsize          count,
                  GCancellable  *cancellable,
                  GError       **error)
{
  gssize n;

  do
    n = read (((PipeStream *) stream)->fd, buffer, count);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    g_set_error_literal (error, G_IO_ERROR, g_io_error_from_errno (errno), g_strerror (errno));
  return n;
}

static gboolean
pipe_stream_close (GInputStream  *stream,
                   GCancellable  *cancellable,
                   GError       **error)
{
  return g_close (((PipeStream *) stream)->fd, error);
}

static void
pipe_stream_class_init (PipeStreamClass *klass)
{
  G_INPUT_STREAM_CLASS (klass)->read_fn = pipe_stream_read;
  G_INPUT_STREAM_CLASS (klass)->close_fn = pipe_stream_close;
}

static void
pipe_stream_init (PipeStream *self)
{
}

typedef struct {
  GObject parent_instance;
  int     fd;              /* the pipe's read end, until read */
} PipeFile;

typedef GObjectClass PipeFileClass;

static void pipe_file_iface_init (GFileIface *iface);

GType pipe_file_get_type (void);
G_DEFINE_TYPE_WITH_CODE (PipeFile, pipe_file, G_TYPE_OBJECT,
                         G_IMPLEMENT_INTERFACE (G_TYPE_FILE, pipe_file_iface_init))

static GFile *
pipe_file_dup (GFile *file)
{
  return g_object_ref (file);
}

static guint
pipe_file_hash (GFile *file)
{
  return g_direct_hash (file);
}

static gboolean
pipe_file_equal (GFile *a,
                 GFile *b)
{
  return a == b;
}

static gboolean
pipe_file_is_native (GFile *file)
{
  return FALSE;
}

static char *
pipe_file_get_uri (GFile *file)
{
  return g_strdup ("pipe:///download");
}

static char *
pipe_file_get_basename (GFile *file)
{
  return g_strdup ("download");
}

static GFileInfo *
pipe_file_query_info (GFile                *file,
                      const char           *attributes,
                      GFileQueryInfoFlags   flags,
                      GCancellable         *cancellable,
                      GError              **error)
{
  GFileInfo *info = g_file_info_new ();

  g_file_info_set_file_type (info, G_FILE_TYPE_REGULAR);
  g_file_info_set_name (info, "download");
  return info;
}

static GFileInputStream *
pipe_file_read (GFile         *file,
                GCancellable  *cancellable,
                GError       **error)
{
  PipeFile *self = (PipeFile *) file;
  PipeStream *stream = g_object_new (pipe_stream_get_type (), NULL);

  stream->fd = self->fd;
  self->fd = -1;
  return G_FILE_INPUT_STREAM (stream);
}

static void
pipe_file_iface_init (GFileIface *iface)
{
  iface->dup = pipe_file_dup;
  iface->hash = pipe_file_hash;
  iface->equal = pipe_file_equal;
  iface->is_native = pipe_file_is_native;
  iface->get_uri = pipe_file_get_uri;
  iface->get_parse_name = pipe_file_get_uri;
  iface->get_basename = pipe_file_get_basename;
  iface->query_info = pipe_file_query_info;
  iface->read_fn = pipe_file_read;
}

static void
pipe_file_finalize (GObject *object)
{
  PipeFile *self = (PipeFile *) object;

  if (self->fd >= 0)
    g_close (self->fd, NULL);
  G_OBJECT_CLASS (pipe_file_parent_class)->finalize (object);
}

static void
pipe_file_class_init (PipeFileClass *klass)
{
  klass->finalize = pipe_file_finalize;
}

static void
pipe_file_init (PipeFile *self)
{
  self->fd = -1;
}

/* What the test's watchdog does if the copy holds the main thread: it
 * writes the bytes itself after a long while, so that a copy made on the
 * main thread ends (and the test fails) instead of hanging. */
typedef struct {
  int       fd;             /* the pipe's write end */
  GMutex    lock;
  GCond     cond;
  gboolean  released;       /* the test went on: no need */
  gboolean  fed;            /* the watchdog had to write */
} Watchdog;

static void
feed (int         fd,
      const char *text)
{
  g_assert_cmpint (write (fd, text, strlen (text)), ==, (gssize) strlen (text));
  g_close (fd, NULL);
}

static gpointer
watchdog_thread (gpointer data)
{
  Watchdog *dog = data;
  gint64 end = g_get_monotonic_time () + 20 * G_TIME_SPAN_SECOND;

  g_mutex_lock (&dog->lock);
  while (!dog->released && g_cond_wait_until (&dog->cond, &dog->lock, end))
    ;
  if (!dog->released)
    {
      dog->fed = TRUE;
      feed (dog->fd, "late");
    }
  g_mutex_unlock (&dog->lock);
  return NULL;
}

static void
saved_flag_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

/* /save copies off the main loop: while the file's bytes have not even
 * come, the call has returned and the main loop runs; once they come,
 * the copy ends with them. */
static void
test_save_copy_waits_off_loop (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("ssq-tui-save-XXXXXX", &error);
  g_autofree char *path = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GFile) source = NULL;
  Watchdog dog = { 0 };
  GThread *thread;
  int fds[2];

  g_assert_no_error (error);
  g_assert_cmpint (pipe (fds), ==, 0);
  source = g_object_new (pipe_file_get_type (), NULL);
  ((PipeFile *) source)->fd = fds[0];
  dog.fd = fds[1];
  g_mutex_init (&dog.lock);
  g_cond_init (&dog.cond);
  thread = g_thread_new ("watchdog", watchdog_thread, &dog);

  ssq_tui_save_copy_async (source, dir, "slow.bin", NULL, saved_flag_cb, &result);
  /* Back with no byte written: the copy waits elsewhere. */
  g_mutex_lock (&dog.lock);
  g_assert_false (dog.fed);
  dog.released = TRUE;
  g_cond_signal (&dog.cond);
  g_mutex_unlock (&dog.lock);
  g_thread_join (thread);
  /* The main loop turns meanwhile; the copy has not ended. */
  for (int i = 0; i < 100; i++)
    g_main_context_iteration (NULL, FALSE);
  g_assert_null (result);

  feed (fds[1], "the figures");
  path = ssq_tui_save_copy_finish (ssq_test_wait_result (&result, 10000), &error);
  g_assert_no_error (error);
  assert_file (path, "the figures");
  g_mutex_clear (&dog.lock);
  g_cond_clear (&dog.cond);
  ssq_test_remove_tree (dir);
}

/* /save's copy into a folder: the first free name of "report.pdf",
 * "report (1).pdf" … (also without an extension), what was there untouched;
 * a folder that is not there is an error and creates nothing. The names
 * of the server made fit for a file here. */
static void
test_save_copy (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("ssq-tui-save-XXXXXX", &error);
  g_autofree char *source_path = g_build_filename (dir, "download", NULL);
  g_autofree char *out = g_build_filename (dir, "out", NULL);
  g_autofree char *missing = g_build_filename (dir, "missing", NULL);
  g_autofree char *first = NULL, *second = NULL, *bare = NULL, *bare_again = NULL, *nowhere = NULL;
  g_autofree char *taken = g_build_filename (out, "report (1).pdf", NULL);
  g_autofree char *dotted = NULL, *traversal = NULL, *empty = NULL, *slashed = NULL;
  g_autoptr(GFile) source = g_file_new_for_path (source_path);

  g_assert_no_error (error);
  g_assert_true (g_file_set_contents (source_path, "the figures", -1, NULL));
  g_assert_cmpint (g_mkdir (out, 0700), ==, 0);
  g_assert_true (g_file_set_contents (taken, "someone else's", -1, NULL));

  first = save_copy (source, out, "report.pdf", &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_suffix (first, "/out/report.pdf"));
  second = save_copy (source, out, "report.pdf", &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_suffix (second, "/out/report (2).pdf"));
  assert_file (first, "the figures");
  assert_file (second, "the figures");
  assert_file (taken, "someone else's");
  bare = save_copy (source, out, "README", &error);
  bare_again = save_copy (source, out, "README", &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_suffix (bare_again, "/out/README (1)"));

  nowhere = save_copy (source, missing, "report.pdf", &error);
  g_assert_null (nowhere);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_false (g_file_test (missing, G_FILE_TEST_EXISTS));

  dotted = ssq_tui_save_name (".bashrc");
  traversal = ssq_tui_save_name ("../../etc/passwd");
  empty = ssq_tui_save_name ("");
  slashed = ssq_tui_save_name ("a\\b.txt");
  g_assert_cmpstr (dotted, ==, "attachment.bashrc");
  g_assert_cmpstr (traversal, ==, "passwd");
  g_assert_cmpstr (empty, ==, "attachment");
  g_assert_cmpstr (slashed, ==, "a_b.txt");
  ssq_test_remove_tree (dir);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/tui/save/copy", test_save_copy);
  g_test_add_func ("/tui/save/copy-off-loop", test_save_copy_waits_off_loop);
  return g_test_run ();
}
