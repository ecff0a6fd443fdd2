/* eider-heif.h
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>
#include <gdk-pixbuf/gdk-pixbuf.h>

G_BEGIN_DECLS

/* HEIF containers (HEIC, AVIF) through libheif: the primary image's size
 * with its transformations (irot, imir) applied, its Exif block, and an
 * upright thumbnail (spec/ente-upload.md §3, §4.5).
 *
 * Thread contract: an EiderHeif belongs to one thread at a time; separate
 * ones may be used in several threads at once.
 */

typedef struct _EiderHeif EiderHeif;

EiderHeif *eider_heif_open      (const char  *path,
                                 GBytes      *content,
                                 GError     **error);
void       eider_heif_free      (EiderHeif   *heif);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EiderHeif, eider_heif_free)

void       eider_heif_get_size  (EiderHeif   *heif,
                                 int         *width,
                                 int         *height);
GBytes    *eider_heif_get_exif  (EiderHeif   *heif);
GBytes    *eider_heif_get_xmp   (EiderHeif   *heif);
GdkPixbuf *eider_heif_thumbnail (EiderHeif   *heif,
                                 int          max_side,
                                 GError     **error);

G_END_DECLS
