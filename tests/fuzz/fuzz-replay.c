/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz-replay.c: runs a fuzz target over every file of a corpus
 * directory, so the corpus (seeds and past finds) is an ordinary test
 * under gcc; with clang, -Dfuzzing=true builds real libFuzzer binaries. */
#include <glib.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
main (int    argc,
      char **argv)
{
  guint files = 0;

  for (int i = 1; i < argc; i++)
    {
      g_autoptr(GDir) dir = g_dir_open (argv[i], 0, NULL);
      const char *name;

      g_assert_nonnull (dir);
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *path = g_build_filename (argv[i], name, NULL);
          g_autofree char *data = NULL;
          gsize len;

          g_assert_true (g_file_get_contents (path, &data, &len, NULL));
          LLVMFuzzerTestOneInput ((const uint8_t *) data, len);
          files++;
        }
    }
  g_print ("replayed %u inputs\n", files);
  return files > 0 ? 0 : 1;
}
