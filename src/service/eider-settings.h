/* eider-settings.h
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* The settings shared by the app and eiderctl: the GSettings schema
 * io.github.eiderapp.Eider.
 *
 * Where they live: in dconf when GLib has it (a desktop), so the app and
 * eiderctl see each other's changes at once. Without dconf (a headless
 * server), GLib would keep them in memory only and lose them at exit;
 * Eider then keeps them in <config_dir>/settings.ini, a GKeyfile with the
 * group [eider] and GVariant values, which a running daemon watches for
 * changes. GSETTINGS_BACKEND=keyfile chooses that file too; any other
 * GSETTINGS_BACKEND value (memory, dconf) is honoured as GLib does.
 *
 * Where the schema is found: a program that runs from its build tree uses
 * the schema compiled there (tests, tools/demo); an installed one uses the
 * installed schemas (GSETTINGS_SCHEMA_DIR and XDG_DATA_DIRS, as GLib does).
 *
 * Thread contract: call from the main thread.
 */

#define EIDER_SETTINGS_SCHEMA_ID "io.github.eiderapp.Eider"

/* @config_dir: eiderctl's (and the app's) configuration folder; created
 * when the keyfile is used. */
GSettings *eider_settings_new              (const char  *config_dir,
                                            GError     **error);
/* Where the settings of eider_settings_new() live, for people: "dconf",
 * or the path of the keyfile, or "memory". */
char      *eider_settings_describe_backend (const char  *config_dir);

/* "bandwidth-limit" (KB/s) → @object's "bandwidth-limit" (bytes/s). */
void       eider_settings_bind_bandwidth_limit (GSettings  *settings,
                                                gpointer    object);

G_END_DECLS
