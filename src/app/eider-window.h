/* eider-window.h
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "eider-application.h"

G_BEGIN_DECLS

/* Main-thread only. */
#define EIDER_TYPE_WINDOW (eider_window_get_type ())

G_DECLARE_FINAL_TYPE (EiderWindow, eider_window, EIDER, WINDOW, AdwApplicationWindow)

EiderWindow *eider_window_new             (EiderApplication *application);
void         eider_window_add_folder_path (EiderWindow      *self,
                                           const char       *path);

G_END_DECLS
