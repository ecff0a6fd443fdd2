/* eider-preferences-window.h
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Main-thread only.
 */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define EIDER_TYPE_PREFERENCES_WINDOW (eider_preferences_window_get_type ())

G_DECLARE_FINAL_TYPE (EiderPreferencesWindow, eider_preferences_window, EIDER, PREFERENCES_WINDOW,
                      AdwPreferencesWindow)

EiderPreferencesWindow *eider_preferences_window_new (GtkWindow *transient_for,
                                                      GSettings *settings);

G_END_DECLS
