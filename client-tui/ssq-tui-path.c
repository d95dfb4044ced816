/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-tui-path.c: file paths on the input line. They are typed as in a
 * shell (a space is "\ " or inside quotes) so that a caption can follow
 * them; completion writes them back the same way, and keeps "~/" as typed
 * rather than spelling out the home directory. */
#include "ssq-tui-path.h"

#include <pwd.h>
#include <string.h>

/* Characters that mean something to the command parser or a shell. */
#define SPECIAL " \t\\'\"$`&;|<>()*?[]{}#!"

/**
 * ssq_tui_path_expand:
 * Returns: @path with a leading ~ or ~USER made the home directory;
 * anything else as it is.
 */
char *
ssq_tui_path_expand (const char *path)
{
  const char *slash;
  g_autofree char *user = NULL;
  struct passwd *entry;

  if (path[0] != '~')
    return g_strdup (path);
  slash = strchr (path, '/');
  user = slash ? g_strndup (path + 1, slash - path - 1) : g_strdup (path + 1);
  if (user[0] == '\0')
    return g_strconcat (g_get_home_dir (), slash, NULL);
  entry = getpwnam (user);
  if (entry == NULL || entry->pw_dir == NULL)
    return g_strdup (path);
  return g_strconcat (entry->pw_dir, slash, NULL);
}

/**
 * ssq_tui_path_unescape:
 * @typed: a word as typed
 * @out_open_quote: (out) (optional): the quote still open at the end, or 0
 *
 * Returns: the word with the shell's quoting removed: \x is x; '…' is
 * literal; in "…" a backslash escapes only $ ` " and itself.
 */
char *
ssq_tui_path_unescape (const char *typed,
                       char       *out_open_quote)
{
  GString *out = g_string_new (NULL);
  char quote = 0;

  for (const char *p = typed; *p != '\0'; p++)
    {
      if (quote == '\'')
        {
          if (*p == '\'')
            quote = 0;
          else
            g_string_append_c (out, *p);
        }
      else if (quote == '"')
        {
          if (*p == '"')
            quote = 0;
          else if (*p == '\\' && p[1] != '\0' && strchr ("$`\"\\", p[1]) != NULL)
            g_string_append_c (out, *++p);
          else
            g_string_append_c (out, *p);
        }
      else if (*p == '\\' && p[1] != '\0')
        g_string_append_c (out, *++p);
      else if (*p == '\'' || *p == '"')
        quote = *p;
      else
        g_string_append_c (out, *p);
    }
  if (out_open_quote != NULL)
    *out_open_quote = quote;
  return g_string_free (out, FALSE);
}

/**
 * ssq_tui_path_escape:
 * @quote: 0 for backslashes, or the quote ' or " the word is in (opened,
 * not closed)
 *
 * Returns: @path as it would be typed, read back by
 * ssq_tui_path_unescape() and the command parser. A leading ~ stays
 * unescaped, to be expanded.
 */
char *
ssq_tui_path_escape (const char *path,
                     char        quote)
{
  GString *out = g_string_new (NULL);

  if (quote != 0)
    g_string_append_c (out, quote);
  for (const char *p = path; *p != '\0'; p++)
    {
      if (quote == '\'' && *p == '\'')
        g_string_append (out, "'\\''");
      else if (quote == '"' && strchr ("$`\"\\", *p) != NULL)
        g_string_append_c (out, '\\'), g_string_append_c (out, *p);
      else if (quote == 0 && strchr (SPECIAL, *p) != NULL)
        g_string_append_c (out, '\\'), g_string_append_c (out, *p);
      else if (quote == 0 && *p == '~' && p != path)
        g_string_append (out, "\\~");
      else
        g_string_append_c (out, *p);
    }
  return g_string_free (out, FALSE);
}

/* The longest prefix the names share, cut on a character boundary. */
static char *
common_prefix (GPtrArray *names)
{
  char *common = g_strdup (names->pdata[0]);
  const char *end;

  for (guint i = 1; i < names->len; i++)
    {
      const char *other = names->pdata[i];
      gsize n = 0;

      while (common[n] != '\0' && common[n] == other[n])
        n++;
      common[n] = '\0';
    }
  if (!g_utf8_validate (common, -1, &end))
    common[end - common] = '\0';
  return common;
}

static gint
compare_names (gconstpointer a,
               gconstpointer b)
{
  return g_strcmp0 (*(const char *const *) a, *(const char *const *) b);
}

/* The entries of @dir starting with @stem, sorted; hidden ones only when
 * @stem starts with a dot. Directories end in '/'. */
static GPtrArray *
matches_in (const char *dir,
            const char *stem)
{
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GDir) listing = g_dir_open (dir[0] != '\0' ? dir : ".", 0, NULL);
  const char *name;

  while (listing != NULL && (name = g_dir_read_name (listing)) != NULL)
    {
      g_autofree char *full = NULL;

      if (!g_str_has_prefix (name, stem) || (name[0] == '.' && stem[0] != '.'))
        continue;
      full = g_build_filename (dir[0] != '\0' ? dir : ".", name, NULL);
      g_ptr_array_add (names, g_file_test (full, G_FILE_TEST_IS_DIR) ? g_strconcat (name, "/", NULL)
                                                                     : g_strdup (name));
    }
  g_ptr_array_sort (names, compare_names);
  return names;
}

/**
 * ssq_tui_path_complete:
 * @typed: the path argument as typed so far (quoted or not, ~ or not)
 * @out_replacement: (out) (nullable): what to put in its place, or NULL
 * when nothing matches
 *
 * One match is completed whole: a directory with '/', to go on; a file
 * with its closing quote and a space. Several are completed as far as
 * they agree.
 *
 * Returns: (transfer full) (element-type utf8): the names that match,
 * directories with a trailing '/', for showing.
 */
GPtrArray *
ssq_tui_path_complete (const char  *typed,
                       char       **out_replacement)
{
  char quote = 0;
  g_autofree char *text = ssq_tui_path_unescape (typed, &quote);
  const char *slash = strrchr (text, '/');
  g_autofree char *typed_dir = slash ? g_strndup (text, slash - text + 1) : g_strdup ("");
  const char *stem = slash ? slash + 1 : text;
  g_autofree char *dir = ssq_tui_path_expand (typed_dir);
  g_autofree char *common = NULL;
  g_autofree char *whole = NULL;
  g_autoptr(GPtrArray) names = NULL;

  *out_replacement = NULL;
  if (strcmp (text, "~") == 0)
    {
      names = g_ptr_array_new_with_free_func (g_free);
      g_ptr_array_add (names, g_strdup ("~/"));
      *out_replacement = g_strdup ("~/");
      return g_steal_pointer (&names);
    }
  names = matches_in (dir, stem);
  if (names->len == 0)
    return g_steal_pointer (&names);
  common = common_prefix (names);
  whole = g_strconcat (typed_dir, common, NULL);
  *out_replacement = ssq_tui_path_escape (whole, quote);
  if (names->len == 1 && !g_str_has_suffix (common, "/"))
    {
      g_autofree char *open = *out_replacement;

      *out_replacement = quote ? g_strdup_printf ("%s%c ", open, quote) : g_strconcat (open, " ", NULL);
    }
  return g_steal_pointer (&names);
}
