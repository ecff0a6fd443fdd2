/* eider-application.h
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

/* The GSettings schema shared by both build profiles, the app and eiderctl. */
#define EIDER_SETTINGS_SCHEMA_ID "io.github.eiderapp.Eider"

/* Main-thread only. */
#define EIDER_TYPE_APPLICATION (eider_application_get_type ())

G_DECLARE_FINAL_TYPE (EiderApplication, eider_application, EIDER, APPLICATION, AdwApplication)

EiderApplication *eider_application_new            (void);
char             *eider_application_dup_config_dir (void);

G_END_DECLS
