/* eider-exif.h
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The Exif fields Ente's web uploader reads from a photo
 * (spec/ente-upload.md §4.2, §4.5, §5.2), through libexif. The caller finds
 * the block: a JPEG's beginning (libexif finds APP1 itself), a PNG eXIf or
 * WebP EXIF chunk, a TIFF-based file's beginning, or a HEIF container's
 * Exif item (eider-heif.h).
 *
 * Thread contract: pure functions without shared state, safe to call from
 * any thread at the same time.
 */

typedef struct
{
  /* The first valid date among DateTimeOriginal, DateTimeDigitized and
   * DateTime, each with its own SubSecTime… and OffsetTime… tags. */
  gboolean has_date;
  gint64   date_us;       /* the instant, µs since the epoch (UTC), ms precision */
  char    *date_time;     /* the wall clock as written, "YYYY-MM-DDTHH:MM:SS.sss" */
  char    *offset_time;   /* the offset as written ("+05:30", "Z"), NULL without one */

  gboolean has_location;
  double   latitude;      /* signed decimal degrees */
  double   longitude;

  int      orientation;   /* 1–8, 0 when absent or invalid */
  int      width;         /* PixelXDimension, else ImageWidth, as stored (0 when absent) */
  int      height;

  char    *make;          /* trimmed, NULL when absent or empty */
  char    *model;
  char    *description;   /* ImageDescription, trimmed */
} EiderExif;

void     eider_exif_clear       (EiderExif    *exif);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (EiderExif, eider_exif_clear)

gboolean eider_exif_parse       (const guint8 *data,
                                 gsize         len,
                                 EiderExif    *exif);

gboolean eider_exif_parse_date  (const char   *date,
                                 const char   *subsec,
                                 const char   *offset,
                                 GTimeZone    *tz,
                                 gint64       *us,
                                 char        **date_time);

G_END_DECLS
