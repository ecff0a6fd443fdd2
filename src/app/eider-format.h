/* eider-format.h
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* How the window says numbers the host sends. Pure functions, any thread. */

char *eider_format_counts (GVariant   *counts);
char *eider_format_path   (const char *display_path);

G_END_DECLS
