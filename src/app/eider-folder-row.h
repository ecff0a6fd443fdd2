/* eider-folder-row.h
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "eider-dbus-generated.h"

G_BEGIN_DECLS

/* One watched folder on the Folders page, as the host's ListFolders
 * describes it, with its menu (pause, resume, back up now, open, stop).
 *
 * Thread contract: main-thread only. */

#define EIDER_TYPE_FOLDER_ROW (eider_folder_row_get_type ())

G_DECLARE_FINAL_TYPE (EiderFolderRow, eider_folder_row, EIDER, FOLDER_ROW, AdwActionRow)

GtkWidget  *eider_folder_row_new        (EiderDBusEngine1 *engine,
                                         GVariant         *folder);
void        eider_folder_row_update     (EiderFolderRow   *self,
                                         GVariant         *folder);
const char *eider_folder_row_get_name   (EiderFolderRow   *self);

G_END_DECLS
