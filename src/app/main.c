/* main.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "eider"

#include "config.h"

#include <glib/gi18n.h>

#include "eider-application.h"

int
main (int   argc,
      char *argv[])
{
  g_autoptr(EiderApplication) app = NULL;

  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  app = eider_application_new ();

  return g_application_run (G_APPLICATION (app), argc, argv);
}
