/* eider-media-names.h
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* What Ente's web and desktop apps read from file names alone: a capture
 * date in the name (spec/ente-upload.md §4.3), which JSON sidecar belongs
 * to which photo (§4.4), and which image and video make one live photo and
 * how they are packed (§7.1–7.2). No file is opened.
 *
 * Thread contract: pure functions without shared state, safe to call from
 * any thread at the same time.
 */

/* Ente's cap on each half of a live photo, in bytes. */
#define EIDER_LIVE_PHOTO_MAX_ASSET_SIZE ((gint64) 20 * 1024 * 1024)

gboolean eider_media_date_from_filename     (const char  *basename,
                                             GDateTime  **out);

gboolean eider_media_sidecar_matches        (const char  *media_name,
                                             const char  *sidecar_name);

gboolean eider_media_live_photo_names_pair  (const char  *image_name,
                                             const char  *video_name);
gboolean eider_media_live_photo_pair        (const char  *image_path,
                                             gint64       image_size,
                                             gint64       image_time_us,
                                             const char  *video_path,
                                             gint64       video_size,
                                             gint64       video_time_us);
void     eider_media_live_photo_entry_names (const char  *image_name,
                                             const char  *video_name,
                                             char       **image_entry,
                                             char       **video_entry);

G_END_DECLS
