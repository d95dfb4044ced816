/* SPDX-License-Identifier: GPL-3.0-or-later */
/* main.c: supersoniq, the desktop client. */
#include "ssq-config.h"

#include <glib/gi18n.h>
#include <locale.h>

#include "ssq-gtk-application.h"

int
main (int    argc,
      char **argv)
{
  g_autoptr(SsqGtkApplication) app = NULL;

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  app = ssq_gtk_application_new ();
  return g_application_run (G_APPLICATION (app), argc, argv);
}
