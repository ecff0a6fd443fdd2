/* eider-raw.h
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>
#include <gdk-pixbuf/gdk-pixbuf.h>

G_BEGIN_DECLS

/* Camera RAW files (CR2, CR3, NEF, ARW, RAF, ORF, RW2, DNG, …) through
 * libraw: what libraw's parser finds (camera, capture time, place, size)
 * and the preview the camera embedded, which is what Eider uses as the
 * thumbnail (spec/ente-upload.md §3.3). The sensor data is never decoded.
 *
 * Thread contract: thread-safe when linked against libraw_r; each call
 * uses its own libraw instance.
 */

typedef struct
{
  char    *make;          /* trimmed, NULL when unknown */
  char    *model;
  gint64   timestamp_us;  /* capture time as libraw read it (local wall clock), 0 when unknown */
  gboolean has_location;
  double   latitude;
  double   longitude;
  int      width;         /* the image as shown (libraw's flip applied), 0 when unknown */
  int      height;
} EiderRawInfo;

void     eider_raw_info_clear (EiderRawInfo  *info);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (EiderRawInfo, eider_raw_info_clear)

gboolean eider_raw_read       (const char    *path,
                               GBytes        *content,
                               EiderRawInfo  *info,
                               GBytes       **preview_jpeg,
                               GdkPixbuf    **preview_bitmap,
                               int           *flip,
                               GError       **error);

GdkPixbuf *eider_raw_apply_flip (GdkPixbuf   *pixbuf,
                                 int          flip);

G_END_DECLS
