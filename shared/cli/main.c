/* SPDX-License-Identifier: GPL-3.0-or-later */
/* main.c: supersoniq-cli entry point. */
#include <locale.h>

#include "ssq-cli.h"

int
main (int    argc,
      char **argv)
{
  setlocale (LC_ALL, "");
  return ssq_cli_run (argc, argv);
}
