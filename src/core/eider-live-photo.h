/* eider-live-photo.h
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* The zip Ente's apps use as the body of a live photo
 * (spec/ente-upload.md §7.2): "image.<ext>" and "video.<ext>", nothing else.
 *
 * Thread contract: pure functions, safe in worker threads.
 */

#define EIDER_LIVE_PHOTO_ERROR (eider_live_photo_error_quark ())

typedef enum
{
  EIDER_LIVE_PHOTO_ERROR_FAILED,     /* libarchive could not read or write the zip */
  EIDER_LIVE_PHOTO_ERROR_INVALID,    /* not the two entries a live photo has */
} EiderLivePhotoError;

GQuark   eider_live_photo_error_quark (void);

/* Writes the zip Ente's apps expect (spec/ente-upload.md §7.2) to @zip_path:
 * exactly two STORED entries, "image.<ext>" and "video.<ext>" (the
 * extension's case kept), nothing else. Deterministic: the same two inputs
 * always give byte-identical output (fixed entry times), because an upload
 * resumed after a crash re-packs and must re-encrypt to the same bytes.
 * Written atomically (temp file + rename). */
gboolean eider_live_photo_pack   (const char  *image_path,
                                  const char  *video_path,
                                  const char  *zip_path,
                                  GError     **error);

/* Reads such a zip back (stored or deflated entries, as Ente readers accept):
 * the entries whose names start with "image" / "video", with their extensions. */
gboolean eider_live_photo_unpack (GBytes      *zip,
                                  GBytes     **image,
                                  char       **image_ext,
                                  GBytes     **video,
                                  char       **video_ext,
                                  GError     **error);

G_END_DECLS
