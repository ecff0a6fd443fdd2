/* eider-exif.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "eider-exif"
#include "config.h"

#include <math.h>
#include <string.h>
#include <libexif/exif-data.h>

#include "eider-exif.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ExifData, exif_data_unref)

static const guint8 exif_header[6] = { 'E', 'x', 'i', 'f', 0, 0 };

void
eider_exif_clear (EiderExif *exif)
{
  g_clear_pointer (&exif->date_time, g_free);
  g_clear_pointer (&exif->offset_time, g_free);
  g_clear_pointer (&exif->make, g_free);
  g_clear_pointer (&exif->model, g_free);
  g_clear_pointer (&exif->description, g_free);
  memset (exif, 0, sizeof *exif);
}

/* ---- Dates ---------------------------------------------------------------- */

static gboolean
read_digits (const char **p,
             int          n,
             int         *value)
{
  int v = 0;

  for (int i = 0; i < n; i++)
    {
      if (!g_ascii_isdigit ((*p)[i]))
        return FALSE;
      v = v * 10 + ((*p)[i] - '0');
    }
  *p += n;
  *value = v;

  return TRUE;
}

/* "+05:30", "-0800", "+05", "Z" → seconds east of UTC. */
static gboolean
parse_offset (const char *offset,
              int        *seconds)
{
  const char *p = offset;
  int sign;
  int h;
  int m = 0;

  if (g_str_equal (p, "Z"))
    {
      *seconds = 0;
      return TRUE;
    }

  if (*p != '+' && *p != '-')
    return FALSE;
  sign = *p == '-' ? -1 : 1;
  p++;
  if (!read_digits (&p, 2, &h))
    return FALSE;
  if (*p == ':')
    p++;
  if (*p != '\0' && !read_digits (&p, 2, &m))
    return FALSE;
  if (*p != '\0' || h > 23 || m > 59)
    return FALSE;

  *seconds = sign * (h * 3600 + m * 60);

  return TRUE;
}

static gint32
offset_at (GTimeZone *tz,
           gint64     instant)
{
  int interval = g_time_zone_find_interval (tz, G_TIME_TYPE_UNIVERSAL, instant);

  return interval >= 0 ? g_time_zone_get_offset (tz, interval) : 0;
}

/* The instant a JavaScript Date gives a local wall clock (in seconds, as if
 * it were UTC): a wall clock that occurs twice is the earlier instant, one
 * that never occurs (in a gap) keeps the offset in force before the gap. */
static gint64
local_to_utc (GTimeZone *tz,
              gint64     wall)
{
  gint32 before = offset_at (tz, wall - 86400);
  gint32 after = offset_at (tz, wall + 86400);
  gint32 candidates[3] = { before, after, offset_at (tz, wall) };
  gboolean found = FALSE;
  gint64 best = 0;

  for (guint i = 0; i < G_N_ELEMENTS (candidates); i++)
    {
      gint64 t = wall - candidates[i];

      if (offset_at (tz, t) == candidates[i] && (!found || t < best))
        {
          best = t;
          found = TRUE;
        }
    }

  return found ? best : wall - before;
}

/**
 * eider_exif_parse_date:
 * @date: an Exif date, "YYYY:MM:DD HH:MM:SS"
 * @subsec: (nullable): its SubSecTime… tag
 * @offset: (nullable): its OffsetTime… tag
 * @tz: (nullable): the zone for a date without offset; %NULL for the local one
 * @us: (out): the instant, µs since the epoch
 * @date_time: (out) (optional) (transfer full): the wall clock, "YYYY-MM-DDTHH:MM:SS.sss"
 *
 * Ente's parseMetadataDate() (spec §4.2): the date is rewritten to ISO
 * form with the sub-seconds and the offset appended and read as a
 * JavaScript Date. With an offset that is the true UTC instant. Without one
 * JavaScript reads the wall clock in the uploading machine's time zone, and
 * so does Eider (@tz, the local zone by default): Ente's apps then show the
 * same creationTime for a file whichever client uploaded it from the same
 * machine. Only milliseconds survive, so the result is a multiple of 1000 µs.
 * A date that is not a real calendar date, the epoch itself, and Ente's
 * "no date" marker 4501-01-01T00:00:00.000 are rejected. An offset tag that
 * is not a valid offset is ignored (the wall clock is read as local time).
 *
 * Returns: %TRUE when @date is usable
 */
gboolean
eider_exif_parse_date (const char  *date,
                       const char  *subsec,
                       const char  *offset,
                       GTimeZone   *tz,
                       gint64      *us,
                       char       **date_time)
{
  g_autoptr(GTimeZone) local = NULL;
  g_autoptr(GDateTime) wall = NULL;
  const char *p = date;
  int y, mo, d, h, mi, s;
  int ms = 0;
  int offset_s = 0;
  gboolean has_offset = FALSE;
  gint64 seconds;
  g_autofree char *text = NULL;

  g_return_val_if_fail (us != NULL, FALSE);

  if (date == NULL)
    return FALSE;
  while (*p == ' ')
    p++;
  if (!read_digits (&p, 4, &y) || (*p != ':' && *p != '-') || !(p++, read_digits (&p, 2, &mo)) ||
      (*p != ':' && *p != '-') || !(p++, read_digits (&p, 2, &d)) ||
      (*p != ' ' && *p != 'T') || !(p++, read_digits (&p, 2, &h)) ||
      *p != ':' || !(p++, read_digits (&p, 2, &mi)) ||
      *p != ':' || !(p++, read_digits (&p, 2, &s)))
    return FALSE;
  while (*p == ' ')
    p++;
  if (*p != '\0')
    return FALSE;

  if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > g_date_get_days_in_month (mo, y) ||
      h > 23 || mi > 59 || s > 59)
    return FALSE;

  if (subsec != NULL)
    {
      const char *q = subsec;
      int scale = 100;

      while (*q == ' ')
        q++;
      /* JavaScript keeps the first three digits. */
      for (int i = 0; i < 3 && g_ascii_isdigit (q[i]); i++, scale /= 10)
        ms += (q[i] - '0') * scale;
    }

  if (offset != NULL)
    {
      g_autofree char *trimmed = g_strstrip (g_strdup (offset));

      if (trimmed[0] != '\0' && parse_offset (trimmed, &offset_s))
        has_offset = TRUE;
    }

  text = g_strdup_printf ("%04d-%02d-%02dT%02d:%02d:%02d.%03d", y, mo, d, h, mi, s, ms);
  if (g_str_equal (text, "4501-01-01T00:00:00.000"))
    return FALSE;

  wall = g_date_time_new_utc (y, mo, d, h, mi, s);
  if (wall == NULL)
    return FALSE;
  seconds = g_date_time_to_unix (wall);

  if (has_offset)
    seconds -= offset_s;
  else
    {
      if (tz == NULL)
        tz = local = g_time_zone_new_local ();
      seconds = local_to_utc (tz, seconds);
    }

  if (seconds == 0 && ms == 0)
    return FALSE;

  *us = (seconds * 1000 + ms) * 1000;
  if (date_time != NULL)
    *date_time = g_steal_pointer (&text);

  return TRUE;
}

/* ---- Entries -------------------------------------------------------------- */

static ExifEntry *
find_entry (ExifData *ed,
            ExifIfd   ifd,
            ExifTag   tag)
{
  return ed->ifd[ifd] != NULL ? exif_content_get_entry (ed->ifd[ifd], tag) : NULL;
}

/* An ASCII entry as valid, trimmed UTF-8; NULL when absent or blank. */
static char *
entry_string (ExifData *ed,
              ExifIfd   ifd,
              ExifTag   tag)
{
  ExifEntry *e = find_entry (ed, ifd, tag);
  g_autofree char *raw = NULL;
  g_autofree char *valid = NULL;

  if (e == NULL || e->data == NULL || e->size == 0 ||
      (e->format != EXIF_FORMAT_ASCII && e->format != EXIF_FORMAT_UNDEFINED))
    return NULL;

  raw = g_strndup ((const char *) e->data, e->size);
  valid = g_utf8_make_valid (raw, -1);
  g_strstrip (valid);
  if (valid[0] == '\0')
    return NULL;

  return g_steal_pointer (&valid);
}

static gboolean
entry_uint (ExifData *ed,
            ExifIfd   ifd,
            ExifTag   tag,
            guint32  *value)
{
  ExifEntry *e = find_entry (ed, ifd, tag);
  ExifByteOrder order = exif_data_get_byte_order (ed);

  if (e == NULL || e->data == NULL || e->components < 1)
    return FALSE;

  if (e->format == EXIF_FORMAT_SHORT && e->size >= 2)
    *value = exif_get_short (e->data, order);
  else if (e->format == EXIF_FORMAT_LONG && e->size >= 4)
    *value = exif_get_long (e->data, order);
  else
    return FALSE;

  return TRUE;
}

/* Degrees, minutes, seconds as three RATIONALs. */
static gboolean
entry_degrees (ExifData *ed,
               ExifTag   tag,
               double   *value)
{
  ExifEntry *e = find_entry (ed, EXIF_IFD_GPS, tag);
  ExifByteOrder order = exif_data_get_byte_order (ed);
  double parts[3] = { 0, 0, 0 };

  if (e == NULL || e->data == NULL || e->format != EXIF_FORMAT_RATIONAL || e->components < 1)
    return FALSE;

  for (gulong i = 0; i < MIN (e->components, 3); i++)
    {
      ExifRational r;

      if ((i + 1) * 8 > e->size)
        return FALSE;
      r = exif_get_rational (e->data + i * 8, order);
      if (r.denominator == 0)
        return FALSE;
      parts[i] = (double) r.numerator / r.denominator;
    }

  *value = parts[0] + parts[1] / 60 + parts[2] / 3600;

  return isfinite (*value);
}

static gboolean
read_coordinate (ExifData *ed,
                 ExifTag   value_tag,
                 ExifTag   ref_tag,
                 char      negative,
                 double    limit,
                 double   *out)
{
  g_autofree char *ref = entry_string (ed, EXIF_IFD_GPS, ref_tag);
  double v;

  if (!entry_degrees (ed, value_tag, &v) || v > limit)
    return FALSE;
  if (ref != NULL && g_ascii_toupper (ref[0]) == negative)
    v = -v;
  *out = v;

  return TRUE;
}

static gboolean
read_date (ExifData   *ed,
           ExifIfd     ifd,
           ExifTag     date_tag,
           ExifTag     subsec_tag,
           ExifTag     offset_tag,
           EiderExif  *exif)
{
  g_autofree char *date = entry_string (ed, ifd, date_tag);
  g_autofree char *subsec = entry_string (ed, EXIF_IFD_EXIF, subsec_tag);
  g_autofree char *offset = entry_string (ed, EXIF_IFD_EXIF, offset_tag);
  g_autofree char *date_time = NULL;
  gint64 us;

  if (!eider_exif_parse_date (date, subsec, offset, NULL, &us, &date_time))
    return FALSE;

  exif->has_date = TRUE;
  exif->date_us = us;
  exif->date_time = g_steal_pointer (&date_time);
  if (offset != NULL)
    {
      int ignored;

      g_strstrip (offset);
      if (parse_offset (offset, &ignored))
        exif->offset_time = g_steal_pointer (&offset);
    }

  return TRUE;
}

static void
read_fields (ExifData  *ed,
             EiderExif *exif)
{
  guint32 v = 0;
  guint32 w = 0;
  guint32 h = 0;
  double lat = 0;
  double lon = 0;

  /* Exif's own order of preference (web's parseCreationDate, Exif part). */
  if (!read_date (ed, EXIF_IFD_EXIF, EXIF_TAG_DATE_TIME_ORIGINAL, EXIF_TAG_SUB_SEC_TIME_ORIGINAL,
                  EXIF_TAG_OFFSET_TIME_ORIGINAL, exif) &&
      !read_date (ed, EXIF_IFD_EXIF, EXIF_TAG_DATE_TIME_DIGITIZED, EXIF_TAG_SUB_SEC_TIME_DIGITIZED,
                  EXIF_TAG_OFFSET_TIME_DIGITIZED, exif))
    read_date (ed, EXIF_IFD_0, EXIF_TAG_DATE_TIME, EXIF_TAG_SUB_SEC_TIME, EXIF_TAG_OFFSET_TIME, exif);

  /* (0, 0) is what cameras without a fix write; Ente treats it as no place. */
  if (read_coordinate (ed, EXIF_TAG_GPS_LATITUDE, EXIF_TAG_GPS_LATITUDE_REF, 'S', 90, &lat) &&
      read_coordinate (ed, EXIF_TAG_GPS_LONGITUDE, EXIF_TAG_GPS_LONGITUDE_REF, 'W', 180, &lon) &&
      (lat != 0 || lon != 0))
    {
      exif->has_location = TRUE;
      exif->latitude = lat;
      exif->longitude = lon;
    }

  if (entry_uint (ed, EXIF_IFD_0, EXIF_TAG_ORIENTATION, &v) && v >= 1 && v <= 8)
    exif->orientation = (int) v;

  if ((entry_uint (ed, EXIF_IFD_EXIF, EXIF_TAG_PIXEL_X_DIMENSION, &w) &&
       entry_uint (ed, EXIF_IFD_EXIF, EXIF_TAG_PIXEL_Y_DIMENSION, &h) && w > 0 && h > 0) ||
      (entry_uint (ed, EXIF_IFD_0, EXIF_TAG_IMAGE_WIDTH, &w) &&
       entry_uint (ed, EXIF_IFD_0, EXIF_TAG_IMAGE_LENGTH, &h) && w > 0 && h > 0))
    {
      if (w <= G_MAXINT && h <= G_MAXINT)
        {
          exif->width = (int) w;
          exif->height = (int) h;
        }
    }

  exif->make = entry_string (ed, EXIF_IFD_0, EXIF_TAG_MAKE);
  exif->model = entry_string (ed, EXIF_IFD_0, EXIF_TAG_MODEL);
  exif->description = entry_string (ed, EXIF_IFD_0, EXIF_TAG_IMAGE_DESCRIPTION);
}

/**
 * eider_exif_parse:
 * @data: a JPEG file's beginning (its APP1 segment within), an Exif block
 *   starting "Exif\0\0", or a bare TIFF structure ("II*\0", "MM\0*")
 * @exif: (out caller-allocates): cleared, then filled
 *
 * Returns: %TRUE when an Exif block was found (its fields may still all be absent)
 */
gboolean
eider_exif_parse (const guint8 *data,
                  gsize         len,
                  EiderExif    *exif)
{
  g_autoptr(ExifData) ed = NULL;
  g_autofree guint8 *prefixed = NULL;
  gboolean found = FALSE;

  g_return_val_if_fail (exif != NULL, FALSE);

  memset (exif, 0, sizeof *exif);
  if (data == NULL || len < 8 || len > G_MAXUINT32 - sizeof exif_header)
    return FALSE;

  if (memcmp (data, "II*\0", 4) == 0 || memcmp (data, "MM\0*", 4) == 0 ||
      memcmp (data, "IIRO", 4) == 0 || memcmp (data, "IIU\0", 4) == 0)
    {
      /* TIFF-based files (and Olympus/Panasonic variants, whose IFDs are
       * plain TIFF): libexif wants the Exif header in front. */
      prefixed = g_malloc (len + sizeof exif_header);
      memcpy (prefixed, exif_header, sizeof exif_header);
      memcpy (prefixed + sizeof exif_header, data, len);
      if (memcmp (data, "II", 2) == 0)
        memcpy (prefixed + sizeof exif_header, "II*\0", 4);
      data = prefixed;
      len += sizeof exif_header;
    }
  else if (memcmp (data, exif_header, sizeof exif_header) != 0 &&
           !(data[0] == 0xff && data[1] == 0xd8))
    return FALSE;

  ed = exif_data_new ();
  if (ed == NULL)
    return FALSE;
  /* Never let libexif "fix" the data: it would invent mandatory tags, a
   * DateTime of now among them. */
  exif_data_unset_option (ed, EXIF_DATA_OPTION_FOLLOW_SPECIFICATION);
  exif_data_load_data (ed, data, (unsigned int) len);

  for (int i = 0; i < EXIF_IFD_COUNT; i++)
    if (ed->ifd[i] != NULL && ed->ifd[i]->count > 0)
      found = TRUE;
  if (!found)
    return FALSE;

  read_fields (ed, exif);

  return TRUE;
}
