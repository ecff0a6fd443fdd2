/* eider-format.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "eider-format"

#include "config.h"

#include <string.h>
#include <glib/gi18n.h>

#include "eider-format.h"

static guint
count_of (GVariant   *counts,
          const char *state)
{
  guint32 n = 0;

  if (counts != NULL)
    g_variant_lookup (counts, state, "u", &n);

  return n;
}

/**
 * eider_format_counts:
 * @counts: (nullable): an a{su} of files per file-state nick, as the
 *   host's Counts property
 *
 * Returns: (transfer full): "6 backed up · 2 left · 1 skipped · 0 failed"
 */
char *
eider_format_counts (GVariant *counts)
{
  guint uploaded = count_of (counts, "uploaded");
  guint skipped = count_of (counts, "skipped");
  guint failed = count_of (counts, "failed");
  guint left = count_of (counts, "pending") + count_of (counts, "working");
  g_autofree char *uploaded_text = NULL;
  g_autofree char *left_text = NULL;
  g_autofree char *skipped_text = NULL;
  g_autofree char *failed_text = NULL;

  uploaded_text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u backed up", "%u backed up", uploaded),
                                   uploaded);
  left_text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u left", "%u left", left), left);
  skipped_text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u skipped", "%u skipped", skipped),
                                  skipped);
  failed_text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u failed", "%u failed", failed), failed);

  /* Translators: the four counts of files, as "6 backed up", "2 left",
   * "1 skipped", "0 failed". */
  return g_strdup_printf (_("%s · %s · %s · %s"), uploaded_text, left_text, skipped_text, failed_text);
}

/**
 * eider_format_path:
 * @display_path: a path, as the host displays it (UTF-8)
 *
 * Returns: (transfer full): @display_path with the home folder as "~"
 */
char *
eider_format_path (const char *display_path)
{
  g_autofree char *home = g_filename_display_name (g_get_home_dir ());
  gsize n = strlen (home);

  g_return_val_if_fail (display_path != NULL, NULL);

  if (n > 1 && g_str_has_prefix (display_path, home) &&
      (display_path[n] == '/' || display_path[n] == '\0'))
    return g_strconcat ("~", display_path + n, NULL);

  return g_strdup (display_path);
}
