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

/* One candidate date: its instant, wall clock and offset as written. */
typedef struct
{
  gboolean ok;
  gint64   us;
  char    *date_time;
  char    *offset_time;
} DateValue;

static void
date_value_clear (DateValue *v)
{
  g_clear_pointer (&v->date_time, g_free);
  g_clear_pointer (&v->offset_time, g_free);
  v->ok = FALSE;
}

/* The Exif dates, in web's order within Exif. */
enum { EXIF_DTO, EXIF_DTD, EXIF_DT, N_EXIF_DATES };

static void
read_date (ExifData   *ed,
           ExifIfd     ifd,
           ExifTag     date_tag,
           ExifTag     subsec_tag,
           ExifTag     offset_tag,
           DateValue  *value)
{
  g_autofree char *date = entry_string (ed, ifd, date_tag);
  g_autofree char *subsec = entry_string (ed, EXIF_IFD_EXIF, subsec_tag);
  g_autofree char *offset = entry_string (ed, EXIF_IFD_EXIF, offset_tag);
  g_autofree char *date_time = NULL;
  gint64 us;

  if (!eider_exif_parse_date (date, subsec, offset, NULL, &us, &date_time))
    return;

  value->ok = TRUE;
  value->us = us;
  value->date_time = g_steal_pointer (&date_time);
  if (offset != NULL)
    {
      int ignored;

      g_strstrip (offset);
      if (parse_offset (offset, &ignored))
        value->offset_time = g_steal_pointer (&offset);
    }
}

static void
read_fields (ExifData  *ed,
             EiderExif *exif,
             DateValue *dates)
{
  guint32 v = 0;
  guint32 w = 0;
  guint32 h = 0;
  double lat = 0;
  double lon = 0;

  /* Each with its own sub-seconds and offset (web's parseExifDates). */
  read_date (ed, EXIF_IFD_EXIF, EXIF_TAG_DATE_TIME_ORIGINAL, EXIF_TAG_SUB_SEC_TIME_ORIGINAL,
             EXIF_TAG_OFFSET_TIME_ORIGINAL, &dates[EXIF_DTO]);
  read_date (ed, EXIF_IFD_EXIF, EXIF_TAG_DATE_TIME_DIGITIZED, EXIF_TAG_SUB_SEC_TIME_DIGITIZED,
             EXIF_TAG_OFFSET_TIME_DIGITIZED, &dates[EXIF_DTD]);
  read_date (ed, EXIF_IFD_0, EXIF_TAG_DATE_TIME, EXIF_TAG_SUB_SEC_TIME, EXIF_TAG_OFFSET_TIME,
             &dates[EXIF_DT]);

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

static gboolean
parse_exif_block (const guint8 *data,
                  gsize         len,
                  EiderExif    *exif,
                  DateValue    *dates)
{
  g_autoptr(ExifData) ed = NULL;
  g_autofree guint8 *prefixed = NULL;
  gboolean found = FALSE;

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

  read_fields (ed, exif, dates);

  return TRUE;
}

/* ---- ISO 8601 dates (XMP, IPTC) -------------------------------------------- */

/* Where web's parseMetadataDate() splits an offset off: the first "Z",
 * else "±HH:MM" or "±HHMM" at the very end; -1 without one. */
gssize
eider_exif_iso_offset_start (const char *s)
{
  const char *z = strchr (s, 'Z');
  gsize n = strlen (s);

  if (z != NULL)
    return z - s;
  for (gsize len = 6; len >= 5; len--)
    {
      const char *o;

      if (n < len)
        continue;
      o = s + n - len;
      if ((o[0] == '+' || o[0] == '-') && g_ascii_isdigit (o[1]) && g_ascii_isdigit (o[2]) &&
          (len == 5 || o[3] == ':') &&
          g_ascii_isdigit (o[len - 2]) && g_ascii_isdigit (o[len - 1]))
        return n - len;
    }

  return -1;
}

/**
 * eider_exif_parse_iso_date:
 * @text: an ISO 8601 date as XMP writes it ("2023-08-23T18:03:00.25+05:30",
 *   "2023-08-23T18:03", "2023-08-23", "2023")
 * @tz: (nullable): the zone for a date-time without offset; %NULL for the local one
 * @us: (out): the instant, µs since the epoch
 * @date_time: (out) (optional) (transfer full): the wall clock, "YYYY-MM-DDTHH:MM:SS.sss"
 * @offset_time: (out) (optional) (transfer full): the offset as written, %NULL without one
 *
 * Web's parseMetadataDate() on an XMP or IPTC value: a JavaScript Date reads
 * a date-time without offset in local time, but a date alone (year, month,
 * day) as UTC midnight; an offset gives the true instant. The wall clock and
 * the rules on rejected dates are eider_exif_parse_date()'s.
 *
 * Returns: %TRUE when @text is a usable date
 */
gboolean
eider_exif_parse_iso_date (const char  *text,
                           GTimeZone   *tz,
                           gint64      *us,
                           char       **date_time,
                           char       **offset_time)
{
  g_autoptr(GTimeZone) utc = NULL;
  g_autofree char *copy = NULL;
  g_autofree char *body = NULL;
  g_autofree char *offset = NULL;
  g_autofree char *base = NULL;
  const char *subsec = NULL;
  gssize at;
  gsize n;

  g_return_val_if_fail (us != NULL, FALSE);

  if (text == NULL)
    return FALSE;
  copy = g_strstrip (g_strdup (text));
  at = eider_exif_iso_offset_start (copy);
  if (at >= 0)
    {
      offset = g_strdup (copy + at);
      body = g_strndup (copy, at);
    }
  else
    body = g_strdup (copy);

  n = strlen (body);
  if (n == 4 || n == 7 || n == 10)
    {
      /* A date alone: UTC midnight of its first day (month, day). */
      const char *fill = "-01-01T00:00:00";

      if ((n >= 7 && body[4] != '-') || (n == 10 && body[7] != '-'))
        return FALSE;
      base = g_strconcat (body, fill + (n - 4), NULL);
      if (offset == NULL)
        tz = utc = g_time_zone_new_utc ();
    }
  else if (n == 16)
    base = g_strconcat (body, ":00", NULL);
  else if (n == 19)
    base = g_strdup (body);
  else if (n > 20 && body[19] == '.')
    {
      for (gsize i = 20; i < n; i++)
        if (!g_ascii_isdigit (body[i]))
          return FALSE;
      base = g_strndup (body, 19);
      subsec = body + 20;
    }
  else
    return FALSE;
  /* ISO's separators only: Exif's "YYYY:MM:DD" is no JavaScript date. */
  if (base[4] != '-' || base[7] != '-' || (base[10] != 'T' && base[10] != ' '))
    return FALSE;

  if (!eider_exif_parse_date (base, subsec, offset, tz, us, date_time))
    return FALSE;
  if (offset_time != NULL)
    *offset_time = g_steal_pointer (&offset);

  return TRUE;
}

static void
parse_iso_value (const char *text,
                 DateValue  *value)
{
  if (text != NULL)
    value->ok = eider_exif_parse_iso_date (text, NULL, &value->us, &value->date_time,
                                           &value->offset_time);
}

/* ---- XMP ------------------------------------------------------------------- */

/* The XMP properties web reads, by local name (ExifReader drops the
 * namespace prefix): exif:, tiff:, xmp:, photoshop: and dc: ones. */
enum
{
  XMP_DATE_TIME_ORIGINAL,
  XMP_DATE_TIME_DIGITIZED,
  XMP_DATE_TIME,
  XMP_CREATE_DATE,
  XMP_MODIFY_DATE,
  XMP_METADATA_DATE,
  XMP_DATE_CREATED,
  XMP_DESCRIPTION,
  N_XMP,
};

static const char * const xmp_names[N_XMP] = {
  "DateTimeOriginal", "DateTimeDigitized", "DateTime", "CreateDate", "ModifyDate",
  "MetadataDate", "DateCreated", "description",
};

/* A packet is parsed only up to these bounds. */
#define XMP_MAX_BYTES   (4 * 1024 * 1024)
#define XMP_MAX_DEPTH   64
#define XMP_MAX_VALUE   (64 * 1024)

typedef struct
{
  char    *values[N_XMP];
  int      depth;
  int      prop;            /* the property element being read, or -1 */
  int      prop_depth;
  GString *text;            /* its direct text */
  gboolean in_li;
  GString *li;              /* the rdf:li being read */
  char    *li_value;        /* the x-default (else first) rdf:li */
  gboolean li_default;
  gboolean too_long;        /* the value passed XMP_MAX_VALUE: dropped */
} XmpParse;

static const char *
local_name (const char *name)
{
  const char *colon = strrchr (name, ':');

  return colon != NULL ? colon + 1 : name;
}

static int
xmp_property (const char *name)
{
  const char *local = local_name (name);

  for (int i = 0; i < N_XMP; i++)
    if (g_str_equal (local, xmp_names[i]))
      return i;

  return -1;
}

static void
xmp_set (XmpParse   *x,
         int         prop,
         const char *value)
{
  g_autofree char *trimmed = NULL;

  if (x->values[prop] != NULL || value == NULL)
    return;
  trimmed = g_strstrip (g_strdup (value));
  if (trimmed[0] != '\0')
    x->values[prop] = g_steal_pointer (&trimmed);
}

static void
xmp_start (GMarkupParseContext  *context,
           const char           *element,
           const char          **names,
           const char          **values,
           gpointer              user_data,
           GError              **error)
{
  XmpParse *x = user_data;
  int prop;

  if (++x->depth > XMP_MAX_DEPTH)
    {
      g_set_error_literal (error, G_MARKUP_ERROR, G_MARKUP_ERROR_INVALID_CONTENT,
                           "XMP nested too deeply");
      return;
    }

  if (x->prop >= 0)
    {
      if (g_str_equal (local_name (element), "li") && !x->in_li)
        {
          x->in_li = TRUE;
          x->li_default = FALSE;
          g_string_truncate (x->li, 0);
          for (int i = 0; names[i] != NULL; i++)
            if (g_str_equal (names[i], "xml:lang") && g_str_equal (values[i], "x-default"))
              x->li_default = TRUE;
        }
      return;
    }

  /* The attribute form: <rdf:Description exif:DateTimeOriginal="…">. */
  for (int i = 0; names[i] != NULL; i++)
    {
      int p = xmp_property (names[i]);

      if (p >= 0 && p != XMP_DESCRIPTION)
        xmp_set (x, p, values[i]);
    }

  /* The element form: <exif:DateTimeOriginal>…</exif:DateTimeOriginal>. */
  prop = xmp_property (element);
  if (prop >= 0)
    {
      x->prop = prop;
      x->prop_depth = x->depth;
      g_string_truncate (x->text, 0);
      g_clear_pointer (&x->li_value, g_free);
      x->in_li = FALSE;
      x->too_long = FALSE;
    }
}

static void
xmp_end (GMarkupParseContext  *context,
         const char           *element,
         gpointer              user_data,
         GError              **error)
{
  XmpParse *x = user_data;

  if (x->prop >= 0 && x->in_li && g_str_equal (local_name (element), "li") &&
      x->depth > x->prop_depth)
    {
      x->in_li = FALSE;
      if (x->li_value == NULL || x->li_default)
        {
          g_free (x->li_value);
          x->li_value = g_strdup (x->li->str);
        }
    }
  else if (x->prop >= 0 && x->depth == x->prop_depth)
    {
      if (!x->too_long)
        xmp_set (x, x->prop, x->li_value != NULL ? x->li_value : x->text->str);
      g_clear_pointer (&x->li_value, g_free);
      x->prop = -1;
    }
  x->depth--;
}

static void
xmp_text (GMarkupParseContext  *context,
          const char           *text,
          gsize                 len,
          gpointer              user_data,
          GError              **error)
{
  XmpParse *x = user_data;
  GString *to = NULL;

  if (x->prop < 0)
    return;
  if (x->in_li)
    to = x->li;
  else if (x->depth == x->prop_depth)
    to = x->text;
  if (to != NULL && to->len + len > XMP_MAX_VALUE)
    x->too_long = TRUE;
  else if (to != NULL)
    g_string_append_len (to, text, len);
}

static const GMarkupParser xmp_parser = { xmp_start, xmp_end, xmp_text, NULL, NULL };

/* The properties of an XMP packet; FALSE (and nothing) when it is not
 * well-formed XML: a truncated or broken packet is ignored as a whole. */
static gboolean
parse_xmp (const char *xmp,
           gsize       len,
           char      **values)
{
  g_autoptr(GMarkupParseContext) context = NULL;
  XmpParse x = { .prop = -1 };
  const char *start;
  const char *nul;
  gboolean ok;

  if (xmp == NULL || len == 0 || len > XMP_MAX_BYTES)
    return FALSE;
  nul = memchr (xmp, '\0', len);
  if (nul != NULL)
    len = nul - xmp;
  start = memchr (xmp, '<', len);
  if (start == NULL)
    return FALSE;
  len -= start - xmp;

  x.text = g_string_new (NULL);
  x.li = g_string_new (NULL);
  context = g_markup_parse_context_new (&xmp_parser, G_MARKUP_PREFIX_ERROR_POSITION, &x, NULL);
  ok = g_markup_parse_context_parse (context, start, len, NULL) &&
       g_markup_parse_context_end_parse (context, NULL);

  g_string_free (x.text, TRUE);
  g_string_free (x.li, TRUE);
  g_free (x.li_value);
  for (int i = 0; i < N_XMP; i++)
    {
      if (ok)
        values[i] = x.values[i];
      else
        g_free (x.values[i]);
    }

  return ok;
}

/* ---- IPTC ------------------------------------------------------------------ */

enum { IPTC_DATE_CREATED, IPTC_TIME_CREATED, IPTC_DIGITAL_DATE, IPTC_DIGITAL_TIME,
       IPTC_CAPTION, N_IPTC };

/* Record 2 datasets 55, 60, 62, 63, 120 of IPTC-IIM records. */
static gboolean
parse_iim (const guint8 *p,
           gsize         len,
           char        **values)
{
  static const guint8 datasets[N_IPTC] = { 55, 60, 62, 63, 120 };
  gboolean found = FALSE;
  gsize pos = 0;

  while (pos + 5 <= len && p[pos] == 0x1c)
    {
      guint record = p[pos + 1];
      guint dataset = p[pos + 2];
      gsize size = (gsize) p[pos + 3] << 8 | p[pos + 4];

      /* Extended sizes only carry object data, never these fields. */
      if (size & 0x8000)
        break;
      pos += 5;
      if (size > len - pos)
        break;
      found = TRUE;
      for (int i = 0; i < N_IPTC && record == 2; i++)
        if (dataset == datasets[i] && values[i] == NULL)
          {
            g_autofree char *raw = g_strndup ((const char *) p + pos, size);

            values[i] = g_utf8_validate (raw, -1, NULL) ? g_steal_pointer (&raw)
                        : g_convert (raw, -1, "UTF-8", "WINDOWS-1252", NULL, NULL, NULL);
            if (values[i] != NULL)
              g_strstrip (values[i]);
          }
      pos += size;
    }

  return found;
}

/* A Photoshop image-resource block ("Photoshop 3.0\0", 8BIM resources),
 * its resource 0x0404 read; or bare IIM records. */
static gboolean
parse_iptc (const guint8 *p,
            gsize         len,
            char        **values)
{
  static const char photoshop[] = "Photoshop 3.0";
  gsize pos;

  if (p == NULL || len < 5)
    return FALSE;
  if (p[0] == 0x1c)
    return parse_iim (p, len, values);
  if (len < sizeof photoshop || memcmp (p, photoshop, sizeof photoshop) != 0)
    return FALSE;

  pos = sizeof photoshop;
  while (pos + 12 <= len && memcmp (p + pos, "8BIM", 4) == 0)
    {
      guint id = (guint) p[pos + 4] << 8 | p[pos + 5];
      gsize name_len = p[pos + 6];
      gsize size;

      /* The Pascal name with its length byte, padded to even. */
      pos += 6 + ((1 + name_len + 1) & ~(gsize) 1);
      if (pos + 4 > len)
        return FALSE;
      size = (gsize) p[pos] << 24 | (gsize) p[pos + 1] << 16 | (gsize) p[pos + 2] << 8 | p[pos + 3];
      pos += 4;
      if (size > len - pos)
        return FALSE;
      if (id == 0x0404)
        return parse_iim (p + pos, size, values);
      pos += size + (size & 1);
    }

  return FALSE;
}

/* IPTC's "Date Created" + "Time Created" as web builds them (ExifReader's
 * descriptions): "CCYYMMDD" → "CCYY-MM-DD", "HHMMSS±HHMM" → "HH:MM:SS±HH:MM",
 * joined by "T". */
static void
parse_iptc_date (const char *date,
                 const char *time,
                 DateValue  *value)
{
  g_autoptr(GString) s = NULL;
  gsize n;

  if (date == NULL)
    return;
  s = g_string_new (NULL);
  if (strlen (date) >= 8)
    g_string_append_printf (s, "%.4s-%.2s-%.2s", date, date + 4, date + 6);
  else
    g_string_append (s, date);
  if (time != NULL)
    {
      n = strlen (time);
      g_string_append_c (s, 'T');
      if (n >= 6)
        {
          g_string_append_printf (s, "%.2s:%.2s:%.2s", time, time + 2, time + 4);
          if (n == 11)
            g_string_append_printf (s, "%.3s:%.2s", time + 6, time + 9);
        }
      else
        g_string_append (s, time);
    }
  parse_iso_value (s->str, value);
}

/* ---- Everything together ------------------------------------------------------ */

/**
 * eider_exif_parse_all:
 * @exif_data: (nullable): as for eider_exif_parse()
 * @xmp: (nullable): an XMP packet
 * @iptc: (nullable): a Photoshop image-resource block (JPEG APP13 payload)
 *   or IPTC-IIM records
 * @exif: (out caller-allocates): cleared, then filled
 *
 * Web's parseExif() on the three sources (spec §4.2, §4.5): the first
 * valid date of its parseCreationDate() order, XMP beating IPTC beating Exif
 * for the original and digitized times, XMP's CreateDate, DateCreated and
 * ModifyDate after Exif; the description from XMP dc:description, else IPTC
 * Caption/Abstract, else Exif ImageDescription. The rest comes from Exif.
 *
 * Returns: %TRUE when any of the blocks was found
 */
gboolean
eider_exif_parse_all (const guint8 *exif_data,
                      gsize         exif_len,
                      const char   *xmp,
                      gsize         xmp_len,
                      const guint8 *iptc,
                      gsize         iptc_len,
                      EiderExif    *exif)
{
  DateValue exif_dates[N_EXIF_DATES] = { { 0 } };
  DateValue xmp_dates[N_XMP] = { { 0 } };
  DateValue iptc_dto = { 0 }, iptc_dtd = { 0 };
  char *xmp_values[N_XMP] = { NULL };
  char *iptc_values[N_IPTC] = { NULL };
  DateValue *order[] = {
    &xmp_dates[XMP_DATE_TIME_ORIGINAL], &iptc_dto, &exif_dates[EXIF_DTO],
    &xmp_dates[XMP_DATE_CREATED],
    &xmp_dates[XMP_DATE_TIME_DIGITIZED], &iptc_dtd, &exif_dates[EXIF_DTD],
    &xmp_dates[XMP_CREATE_DATE],
    &xmp_dates[XMP_METADATA_DATE],
    &xmp_dates[XMP_DATE_TIME], &exif_dates[EXIF_DT], &xmp_dates[XMP_MODIFY_DATE],
  };
  gboolean found = FALSE;

  g_return_val_if_fail (exif != NULL, FALSE);

  memset (exif, 0, sizeof *exif);

  if (parse_exif_block (exif_data, exif_len, exif, exif_dates))
    found = TRUE;
  if (parse_xmp (xmp, xmp_len, xmp_values))
    found = TRUE;
  if (parse_iptc (iptc, iptc_len, iptc_values))
    found = TRUE;

  for (int i = 0; i < N_XMP; i++)
    if (i != XMP_DESCRIPTION)
      parse_iso_value (xmp_values[i], &xmp_dates[i]);
  parse_iptc_date (iptc_values[IPTC_DATE_CREATED], iptc_values[IPTC_TIME_CREATED], &iptc_dto);
  parse_iptc_date (iptc_values[IPTC_DIGITAL_DATE], iptc_values[IPTC_DIGITAL_TIME], &iptc_dtd);

  for (guint i = 0; i < G_N_ELEMENTS (order); i++)
    if (order[i]->ok)
      {
        exif->has_date = TRUE;
        exif->date_us = order[i]->us;
        exif->date_time = g_steal_pointer (&order[i]->date_time);
        exif->offset_time = g_steal_pointer (&order[i]->offset_time);
        break;
      }

  if (xmp_values[XMP_DESCRIPTION] != NULL || iptc_values[IPTC_CAPTION] != NULL)
    {
      char **from = xmp_values[XMP_DESCRIPTION] != NULL ? &xmp_values[XMP_DESCRIPTION]
                                                        : &iptc_values[IPTC_CAPTION];

      if (**from != '\0')
        {
          g_free (exif->description);
          exif->description = g_utf8_make_valid (*from, -1);
        }
    }

  for (int i = 0; i < N_EXIF_DATES; i++)
    date_value_clear (&exif_dates[i]);
  for (int i = 0; i < N_XMP; i++)
    {
      date_value_clear (&xmp_dates[i]);
      g_free (xmp_values[i]);
    }
  for (int i = 0; i < N_IPTC; i++)
    g_free (iptc_values[i]);
  date_value_clear (&iptc_dto);
  date_value_clear (&iptc_dtd);

  return found;
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
  return eider_exif_parse_all (data, len, NULL, 0, NULL, 0, exif);
}
