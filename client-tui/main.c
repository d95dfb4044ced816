/* SPDX-License-Identifier: GPL-3.0-or-later */
/* main.c: supersoniq-tui entry point. */
#include "ssq-tui.h"

int
main (int    argc,
      char **argv)
{
  return ssq_tui_main (argc, argv);
}
