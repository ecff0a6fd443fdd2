/* eiderctl.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "eiderctl"
#include "config.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <sodium.h>

#include "eider-crypto.h"

static const char summary[] =
  "Eider keeps photo and video folders backed up, end-to-end encrypted, to an\n"
  "Ente Photos account. eiderctl runs the same engine without a window.";

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  gboolean version = FALSE;
  GOptionEntry entries[] = {
    { "version", 'V', 0, G_OPTION_ARG_NONE, &version, "Show the version and exit", NULL },
    { NULL }
  };

  setlocale (LC_ALL, "");

  if (!eider_crypto_init (&error))
    {
      g_printerr ("eiderctl: %s\n", error->message);
      return EXIT_FAILURE;
    }

  context = g_option_context_new ("COMMAND [ARGS…]");
  g_option_context_set_summary (context, summary);
  g_option_context_add_main_entries (context, entries, NULL);

  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("eiderctl: %s\nTry “eiderctl --help”.\n", error->message);
      return 2;
    }

  if (version)
    {
      g_print ("eiderctl %s (libsodium %s)\n", PACKAGE_VERSION, sodium_version_string ());
      return EXIT_SUCCESS;
    }

  if (argc > 1)
    {
      g_printerr ("eiderctl: unknown command “%s”.\nTry “eiderctl --help”.\n", argv[1]);
      return 2;
    }

  {
    g_autofree char *help = g_option_context_get_help (context, TRUE, NULL);

    g_print ("%s", help);
  }

  return EXIT_SUCCESS;
}
