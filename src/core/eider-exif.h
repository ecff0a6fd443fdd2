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
  /* The first valid date of web's parseCreationDate() (spec §4.2):
   * DateTimeOriginal (XMP exif:DateTimeOriginal, IPTC 2:55+2:60, Exif with
   * SubSecTimeOriginal/OffsetTimeOriginal, XMP DateCreated), then
   * DateTimeDigitized (XMP, IPTC 2:62+2:63, Exif, XMP xmp:CreateDate), XMP
   * xmp:MetadataDate, then DateTime (XMP tiff:DateTime, Exif, XMP
   * xmp:ModifyDate). */
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
  char    *description;   /* XMP dc:description, IPTC Caption/Abstract, else
                           * Exif ImageDescription; trimmed */
} EiderExif;

void     eider_exif_clear       (EiderExif    *exif);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (EiderExif, eider_exif_clear)

gboolean eider_exif_parse       (const guint8 *data,
                                 gsize         len,
                                 EiderExif    *exif);

/* Each block nullable: the Exif as for eider_exif_parse(), an XMP packet
 * (UTF-8 RDF/XML), the IPTC-IIM records (a JPEG APP13 Photoshop block
 * "Photoshop 3.0\0…", or bare 0x1C records). Returns TRUE when any block
 * was found. */
gboolean eider_exif_parse_all   (const guint8 *exif_data,
                                 gsize         exif_len,
                                 const char   *xmp,
                                 gsize         xmp_len,
                                 const guint8 *iptc,
                                 gsize         iptc_len,
                                 EiderExif    *exif);

/* Where an ISO 8601 date's offset starts, as web's parseMetadataDate()
 * splits it: the first "Z", else "±HH:MM" or "±HHMM" at the very end; -1
 * without one. */
gssize   eider_exif_iso_offset_start (const char *s);
gboolean eider_exif_parse_iso_date (const char  *text,
                                    GTimeZone   *tz,
                                    gint64      *us,
                                    char       **date_time,
                                    char       **offset_time);

gboolean eider_exif_parse_date  (const char   *date,
                                 const char   *subsec,
                                 const char   *offset,
                                 GTimeZone    *tz,
                                 gint64       *us,
                                 char        **date_time);

G_END_DECLS
