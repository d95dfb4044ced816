/* SPDX-License-Identifier: GPL-3.0-or-later */
/* main.c: supersoniq-cli entry point. */
#include "ssq-config.h"

#include <glib/gi18n.h>
#include <locale.h>

#include "ssq-cli.h"

int
main (int    argc,
      char **argv)
{
  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  return ssq_cli_run (argc, argv);
}
