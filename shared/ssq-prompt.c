/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-prompt.c: prompts on the controlling terminal (/dev/tty), so that
 * they work even when standard input or output is redirected. */
#include <glib/gi18n.h>
#include "ssq-prompt.h"
#include "ssq-proto.h"

#include <stdio.h>
#include <string.h>
#include <termios.h>

static char *
prompt (const char  *question,
        gboolean     echo,
        GError     **error)
{
  char line[SSQ_PASSWORD_MAX + 2];
  struct termios saved, quiet;
  gboolean ok;
  char *text;
  FILE *tty = fopen ("/dev/tty", "r+");

  if (tty == NULL)
    {
      g_set_error (error, SSQ_ERROR, SSQ_ERROR_INVALID, _("No terminal to ask on"));
      return NULL;
    }
  fputs (question, tty);
  fflush (tty);
  if (!echo)
    {
      tcgetattr (fileno (tty), &saved);
      quiet = saved;
      quiet.c_lflag &= ~(tcflag_t) ECHO;
      tcsetattr (fileno (tty), TCSAFLUSH, &quiet);
    }
  ok = fgets (line, sizeof line, tty) != NULL;
  if (!echo)
    {
      tcsetattr (fileno (tty), TCSAFLUSH, &saved);
      fputs ("\n", tty);
    }
  fclose (tty);
  if (!ok)
    {
      g_set_error (error, SSQ_ERROR, SSQ_ERROR_INVALID, _("Nothing was typed"));
      return NULL;
    }
  line[strcspn (line, "\r\n")] = '\0';
  text = g_strdup (line);
  memset (line, 0, sizeof line);
  return text;
}

char *
ssq_prompt_line (const char  *question,
                 GError     **error)
{
  return prompt (question, TRUE, error);
}

/* Asks with echo off; the answer is the caller's to wipe. */
char *
ssq_prompt_password (const char  *question,
                     GError     **error)
{
  return prompt (question, FALSE, error);
}

/* The first line of @path, for scripts that keep a password in a file. */
char *
ssq_read_password_file (const char  *path,
                        GError     **error)
{
  char *text = NULL;

  if (!g_file_get_contents (path, &text, NULL, error))
    return NULL;
  text[strcspn (text, "\r\n")] = '\0';
  return text;
}
