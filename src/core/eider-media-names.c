/* eider-media-names.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "eider-media-names"
#include "config.h"

#include <math.h>
#include <string.h>

#include "eider-media-names.h"

/* Ente's rules run in JavaScript, on UTF-16 strings. Names are first made
 * valid UTF-8 (a browser or Electron sees U+FFFD for undecodable bytes),
 * and wherever JavaScript counts characters, UTF-16 code units are counted
 * here too. */

/* ---- JavaScript string semantics ---------------------------------------- */

/* WhiteSpace and LineTerminator, as String.prototype.trim() and Number()
 * skip them. */
static gboolean
is_js_space (gunichar c)
{
  switch (c)
    {
    case 0x09: case 0x0a: case 0x0b: case 0x0c: case 0x0d: case 0x20:
    case 0xa0: case 0x1680: case 0x2028: case 0x2029: case 0x202f:
    case 0x205f: case 0x3000: case 0xfeff:
      return TRUE;
    default:
      return c >= 0x2000 && c <= 0x200a;
    }
}

static char *
js_trim (const char *s)
{
  const char *start = s;
  const char *end = s + strlen (s);

  while (*start != '\0' && is_js_space (g_utf8_get_char (start)))
    start = g_utf8_next_char (start);

  while (end > start)
    {
      const char *prev = g_utf8_prev_char (end);

      if (!is_js_space (g_utf8_get_char (prev)))
        break;
      end = prev;
    }

  return g_strndup (start, end - start);
}

/* Number(string) for the UTF-16 slice [start, end): surrounding white
 * space is ignored, an empty string is 0, anything that is not a numeric
 * literal is NaN. */
static double
js_number (const gunichar2 *units,
           glong            n_units,
           glong            start,
           glong            end)
{
  g_autofree char *buf = NULL;
  const char *p;
  const char *digits;
  gsize len;

  start = CLAMP (start, 0, n_units);
  end = CLAMP (end, start, n_units);

  while (start < end && is_js_space (units[start]))
    start++;
  while (end > start && is_js_space (units[end - 1]))
    end--;

  if (end <= start)
    return 0;

  len = (gsize) (end - start);
  buf = g_malloc (len + 1);
  for (gsize i = 0; i < len; i++)
    {
      if (units[start + i] > 0x7f)
        return NAN;
      buf[i] = (char) units[start + i];
    }
  buf[len] = '\0';

  /* 0x…, 0o…, 0b… (no sign allowed) */
  if (len > 2 && buf[0] == '0' && strchr ("xXoObB", buf[1]) != NULL)
    {
      int base = (buf[1] == 'x' || buf[1] == 'X') ? 16 : (buf[1] == 'o' || buf[1] == 'O') ? 8 : 2;
      double value = 0;

      for (p = buf + 2; *p != '\0'; p++)
        {
          int d = g_ascii_xdigit_value (*p);

          if (d < 0 || d >= base)
            return NAN;
          value = value * base + d;
        }
      return value;
    }

  p = buf;
  if (*p == '+' || *p == '-')
    p++;
  if (g_str_equal (p, "Infinity"))
    return buf[0] == '-' ? -INFINITY : INFINITY;

  digits = p;
  while (g_ascii_isdigit (*p))
    p++;
  if (*p == '.')
    {
      p++;
      while (g_ascii_isdigit (*p))
        p++;
    }
  if (p == digits || (p == digits + 1 && *digits == '.'))
    return NAN;
  if (*p == 'e' || *p == 'E')
    {
      const char *exponent;

      p++;
      if (*p == '+' || *p == '-')
        p++;
      exponent = p;
      while (g_ascii_isdigit (*p))
        p++;
      if (p == exponent)
        return NAN;
    }
  if (*p != '\0')
    return NAN;

  return g_ascii_strtod (buf, NULL);
}

/* Ente's nameAndExtension(): split at the last dot, unless there is none or
 * it is the first character. *ext is NULL without an extension. */
static void
split_name (const char  *name,
            char       **stem,
            char       **ext)
{
  const char *dot = strrchr (name, '.');

  if (dot == NULL || dot == name)
    {
      *stem = g_strdup (name);
      *ext = NULL;
    }
  else
    {
      *stem = g_strndup (name, dot - name);
      *ext = g_strdup (dot + 1);
    }
}

/* s.slice(0, n) in UTF-16 code units; NULL when the cut would fall inside a
 * surrogate pair (JavaScript keeps a lone surrogate, which no real file name
 * can equal). */
static char *
js_clip (const char *s,
         glong       n)
{
  const char *p = s;
  glong units = 0;

  while (*p != '\0')
    {
      glong width = g_utf8_get_char (p) > 0xffff ? 2 : 1;

      if (units + width > n)
        {
          if (units + 1 == n)
            return NULL;
          break;
        }
      units += width;
      p = g_utf8_next_char (p);
    }

  return g_strndup (s, p - s);
}

/* ---- Dates in file names (§4.3) ----------------------------------------- */

typedef struct
{
  GTimeZone *tz;
  gint64     now_us;
  int        current_year;
} Clock;

/* new Date(y, mo - 1, d, h, mi, s) for a valid calendar date and in-range
 * time: a local time that occurs twice is the earlier instant, and one that
 * does not occur (a gap) takes the offset in force before the transition,
 * so it lands as far past the transition as it was past the gap's start. */
static GDateTime *
js_local_date_time (GTimeZone *tz,
                    int        y,
                    int        mo,
                    int        d,
                    int        h,
                    int        mi,
                    int        s)
{
  static const GTimeType types[] = { G_TIME_TYPE_STANDARD, G_TIME_TYPE_DAYLIGHT };
  g_autoptr(GDateTime) wall = g_date_time_new_utc (y, mo, d, h, mi, s);
  g_autoptr(GDateTime) utc = NULL;
  gint64 wall_s;
  gint32 offset = 0;
  gboolean found = FALSE;

  if (wall == NULL)
    return NULL;
  wall_s = g_date_time_to_unix (wall);

  for (guint i = 0; i < G_N_ELEMENTS (types); i++)
    {
      int interval = g_time_zone_find_interval (tz, types[i], wall_s);

      if (interval >= 0)
        {
          gint32 o = g_time_zone_get_offset (tz, interval);

          if (!found || o > offset)
            offset = o;
          found = TRUE;
        }
    }

  if (!found)
    {
      /* GLib moves a time in a gap to the start of the next interval. */
      gint64 next_start = wall_s;
      int next = g_time_zone_adjust_time (tz, G_TIME_TYPE_STANDARD, &next_start);
      gint64 transition = next_start - g_time_zone_get_offset (tz, next);
      int before = g_time_zone_find_interval (tz, G_TIME_TYPE_UNIVERSAL, transition - 1);

      if (before < 0)
        return NULL;
      offset = g_time_zone_get_offset (tz, before);
    }

  utc = g_date_time_new_from_unix_utc (wall_s - offset);
  if (utc == NULL)
    return NULL;

  return g_date_time_to_timezone (utc, tz);
}

static gboolean
is_int_in (double v,
           int    lo,
           int    hi)
{
  return v >= lo && v <= hi && v == floor (v);
}

/* The components as Ente validates them: a time that does not survive the
 * round trip is dropped (midnight), the date must survive it, and the year
 * must lie in [1990, this year + 1]. c[] is year, month (1-based), day,
 * hour, minute, second; NaN where JavaScript has NaN. */
static GDateTime *
date_from_components (const double  c[6],
                      const Clock  *clock)
{
  g_autoptr(GDateTime) date = NULL;
  gboolean has_time = !isnan (c[3]) && !isnan (c[4]) && !isnan (c[5]);

  if (!is_int_in (c[0], 1990, clock->current_year + 1) ||
      !is_int_in (c[1], 1, 12) || !is_int_in (c[2], 1, 31) ||
      !g_date_valid_dmy ((GDateDay) c[2], (GDateMonth) c[1], (GDateYear) c[0]))
    return NULL;

  if (has_time && is_int_in (c[3], 0, 23) && is_int_in (c[4], 0, 59) && is_int_in (c[5], 0, 59))
    {
      date = js_local_date_time (clock->tz, (int) c[0], (int) c[1], (int) c[2],
                                 (int) c[3], (int) c[4], (int) c[5]);
      if (date != NULL &&
          (g_date_time_get_hour (date) != (int) c[3] ||
           g_date_time_get_minute (date) != (int) c[4] ||
           g_date_time_get_second (date) != (int) c[5]))
        g_clear_pointer (&date, g_date_time_unref);
    }

  if (date == NULL)
    date = js_local_date_time (clock->tz, (int) c[0], (int) c[1], (int) c[2], 0, 0, 0);

  if (date == NULL ||
      g_date_time_get_year (date) != (int) c[0] ||
      g_date_time_get_month (date) != (int) c[1] ||
      g_date_time_get_day_of_month (date) != (int) c[2])
    return NULL;

  return g_steal_pointer (&date);
}

/* "YYYYMMDD-HHMMSS", sliced by UTF-16 position; the character at 8 is not
 * looked at, and missing time parts are empty strings, that is 0. */
static GDateTime *
date_from_fused (const char  *s,
                 const Clock *clock)
{
  g_autofree gunichar2 *units = NULL;
  glong n = 0;
  double c[6];

  units = g_utf8_to_utf16 (s, -1, NULL, &n, NULL);
  if (units == NULL)
    return NULL;

  c[0] = js_number (units, n, 0, 4);
  c[1] = js_number (units, n, 4, 6);
  c[2] = js_number (units, n, 6, 8);
  c[3] = js_number (units, n, 9, 11);
  c[4] = js_number (units, n, 11, 13);
  c[5] = js_number (units, n, 13, 15);

  return date_from_components (c, clock);
}

/* The first six runs of ASCII digits are year, month, day, hour, minute and
 * second; a run of 8 followed by a run of 6 is a fused date and time. */
static GDateTime *
date_from_digit_groups (const char  *s,
                        const Clock *clock)
{
  const char *start[6];
  const char *end[6];
  guint n = 0;
  double c[6];

  for (const char *p = s; *p != '\0' && n < G_N_ELEMENTS (start);)
    {
      if (!g_ascii_isdigit (*p))
        {
          p++;
          continue;
        }
      start[n] = p;
      while (g_ascii_isdigit (*p))
        p++;
      end[n++] = p;
    }

  if (n >= 2 && end[0] - start[0] == 8 && end[1] - start[1] == 6)
    {
      g_autofree char *fused = g_strdup_printf ("%.8s-%.6s", start[0], start[1]);

      return date_from_fused (fused, clock);
    }

  for (guint i = 0; i < G_N_ELEMENTS (c); i++)
    {
      g_autofree char *group = NULL;

      if (i >= n)
        {
          c[i] = NAN;
          continue;
        }
      group = g_strndup (start[i], end[i] - start[i]);
      c[i] = g_ascii_strtod (group, NULL);
    }

  return date_from_components (c, clock);
}

/**
 * eider_media_date_from_filename:
 * @basename: a file name, without directories
 * @out: (out) (optional) (transfer full): the date, in local time
 *
 * Reads a capture date from a file name the way Ente's web and desktop apps
 * do (spec/ente-upload.md §4.3): WhatsApp `IMG-`/`VID-` names, Android
 * `Screenshot_`, Signal's two layouts, `…_iOS` exports, and otherwise the
 * first six groups of digits, or a fused `YYYYMMDD` `HHMMSS` pair. Every
 * part is local time. An invalid time is dropped (midnight); the date must
 * exist, its year lie in [1990, this year + 1], and it must not be in the
 * future or at the epoch.
 *
 * Returns: %TRUE and sets @out when the name holds such a date
 */
gboolean
eider_media_date_from_filename (const char  *basename,
                                GDateTime  **out)
{
  g_autofree char *valid = NULL;
  g_autofree char *name = NULL;
  g_autoptr(GTimeZone) tz = NULL;
  g_autoptr(GDateTime) now = NULL;
  g_autoptr(GDateTime) date = NULL;
  Clock clock;
  gint64 us;

  g_return_val_if_fail (basename != NULL, FALSE);

  valid = g_utf8_make_valid (basename, -1);
  name = js_trim (valid);

  tz = g_time_zone_new_local ();
  clock.tz = tz;
  clock.now_us = g_get_real_time ();
  now = g_date_time_new_from_unix_local (clock.now_us / G_USEC_PER_SEC);
  clock.current_year = g_date_time_get_year (now);

  if (g_str_has_prefix (name, "IMG-") || g_str_has_prefix (name, "VID-"))
    {
      /* WhatsApp: IMG-20171218-WA0028.jpg */
      g_auto(GStrv) p = g_strsplit (name, "-", 0);

      if (p[1] != NULL && p[1][0] != '\0')
        date = date_from_fused (p[1], &clock);
    }
  else if (g_str_has_prefix (name, "Screenshot_"))
    {
      date = date_from_fused (name + strlen ("Screenshot_"), &clock);
    }
  else if (g_str_has_prefix (name, "signal-"))
    {
      g_auto(GStrv) p = g_strsplit (name, "-", 0);
      guint n = g_strv_length (p);
      g_autofree char *fused = NULL;

      /* YYYY-MM-DD-HH-mm-ss-SSS, else YYYY-MM-DD-HHmmss. With exactly six
       * fields Ente pastes the absent seventh as the text "undefined",
       * which leaves the seconds unreadable and so drops the time. */
      if (n > 5)
        fused = g_strconcat (p[1], p[2], p[3], "-", p[4], p[5],
                             n > 6 ? p[6] : "undefined", NULL);
      else if (n > 1)
        fused = g_strconcat (p[1], n > 2 ? p[2] : "", n > 3 ? p[3] : "", "-",
                             n > 4 ? p[4] : "", NULL);
      if (fused != NULL)
        date = date_from_fused (fused, &clock);
    }

  if (date == NULL)
    {
      /* 20170923_220934000_iOS.jpg: date, then time with milliseconds */
      g_autofree char *stem = NULL;
      g_autofree char *ext = NULL;

      split_name (name, &stem, &ext);
      if (g_str_has_suffix (stem, "_iOS"))
        {
          g_auto(GStrv) p = g_strsplit (stem, "_", 0);

          if (g_strv_length (p) == 3)
            {
              g_autofree char *fused = g_strconcat (p[0], "-", p[1], NULL);

              date = date_from_fused (fused, &clock);
            }
        }
    }

  if (date == NULL)
    date = date_from_digit_groups (name, &clock);

  if (date == NULL)
    return FALSE;

  us = g_date_time_to_unix (date) * G_USEC_PER_SEC;
  if (us == 0 || us > clock.now_us)
    return FALSE;

  if (out != NULL)
    *out = g_steal_pointer (&date);
  return TRUE;
}

/* ---- JSON sidecars (§4.4) ----------------------------------------------- */

/* The length of a trailing "(N)", or 0. */
static gsize
numbered_suffix_length (const char *stem)
{
  gsize len = strlen (stem);
  const char *close;
  const char *open;

  if (len < 3 || stem[len - 1] != ')')
    return 0;
  close = stem + len - 1;
  open = close;
  while (open > stem && g_ascii_isdigit (open[-1]))
    open--;
  if (open == close || open == stem || open[-1] != '(')
    return 0;

  return close + 1 - (open - 1);
}

/**
 * eider_media_sidecar_matches:
 * @media_name: the photo or video's file name
 * @sidecar_name: a JSON sidecar's file name in the same directory
 *
 * Whether Ente would take @sidecar_name as the metadata of @media_name
 * (spec/ente-upload.md §4.4). The sidecar's name without `.json` must equal
 * one of: the media name with a `(N)` suffix moved behind the extension
 * and a `-edited` suffix removed; the same clipped to 46 characters before
 * `(N)`; that name plus `.supplemental-metadata`, clipped to 46, then
 * `(N)`; or, for a numbered name, the untouched name plus
 * `.supplemental-metadata`, clipped to 46. A media name without extension
 * is matched as having an empty one.
 *
 * Returns: %TRUE if they belong together
 */
gboolean
eider_media_sidecar_matches (const char *media_name,
                             const char *sidecar_name)
{
  static const char supplemental[] = ".supplemental-metadata";
  g_autofree char *media = NULL;
  g_autofree char *sidecar = NULL;
  g_autofree char *key = NULL;
  g_autofree char *stem = NULL;
  g_autofree char *ext = NULL;
  g_autofree char *dot_ext = NULL;
  g_autofree char *original_stem = NULL;
  g_autofree char *numbered = NULL;
  g_autofree char *base = NULL;
  g_autofree char *clipped = NULL;
  g_autofree char *supplemented = NULL;
  gsize sidecar_len;
  gsize suffix_len;

  g_return_val_if_fail (media_name != NULL, FALSE);
  g_return_val_if_fail (sidecar_name != NULL, FALSE);

  media = g_utf8_make_valid (media_name, -1);
  sidecar = g_utf8_make_valid (sidecar_name, -1);

  sidecar_len = strlen (sidecar);
  if (sidecar_len < strlen (".json") ||
      g_ascii_strcasecmp (sidecar + sidecar_len - strlen (".json"), ".json") != 0)
    return FALSE;
  key = g_strndup (sidecar, sidecar_len - strlen (".json"));

  split_name (media, &stem, &ext);
  original_stem = g_strdup (stem);
  dot_ext = ext != NULL ? g_strconcat (".", ext, NULL) : g_strdup ("");

  suffix_len = numbered_suffix_length (stem);
  numbered = g_strdup (stem + strlen (stem) - suffix_len);
  stem[strlen (stem) - suffix_len] = '\0';

  if (g_str_has_suffix (stem, "-edited"))
    stem[strlen (stem) - strlen ("-edited")] = '\0';

  base = g_strconcat (stem, dot_ext, NULL);
  {
    g_autofree char *candidate = g_strconcat (base, numbered, NULL);

    if (g_str_equal (candidate, key))
      return TRUE;
  }

  clipped = js_clip (base, 46);
  if (clipped != NULL)
    {
      g_autofree char *candidate = g_strconcat (clipped, numbered, NULL);

      if (g_str_equal (candidate, key))
        return TRUE;
    }

  supplemented = g_strconcat (base, supplemental, NULL);
  g_clear_pointer (&clipped, g_free);
  clipped = js_clip (supplemented, 46);
  if (clipped != NULL)
    {
      g_autofree char *candidate = g_strconcat (clipped, numbered, NULL);

      if (g_str_equal (candidate, key))
        return TRUE;
    }

  if (suffix_len > 0)
    {
      g_autofree char *untouched = g_strconcat (original_stem, dot_ext, supplemental, NULL);
      g_autofree char *candidate = js_clip (untouched, 46);

      if (candidate != NULL && g_str_equal (candidate, key))
        return TRUE;
    }

  return FALSE;
}

/* ---- Live photos (§7.1–7.2) --------------------------------------------- */

static const char * const live_image_extensions[] = {
  "heic", "heif", "jpeg", "jpg", "png", "gif", "bmp", "tiff", "webp",
};

static const char * const live_video_extensions[] = {
  "mov", "mp4", "m4v", "avi", "wmv", "flv", "mkv", "webm", "3gp", "3g2", "ogv", "mpg", "mp",
};

static gboolean
extension_in (const char         *ext,
              const char * const *list,
              gsize               n_list)
{
  g_autofree char *lower = NULL;

  if (ext == NULL)
    return FALSE;

  lower = g_utf8_strdown (ext, -1);
  for (gsize i = 0; i < n_list; i++)
    if (g_str_equal (lower, list[i]))
      return TRUE;

  return FALSE;
}

/* Removes at most one of: "_3"; "_HVEC" or "_hvec"; or, when given,
 * ".<video_ext>" as written or in lower case. */
static char *
strip_live_photo_suffix (const char *stem,
                         const char *video_ext)
{
  gsize len = strlen (stem);

  if (g_str_has_suffix (stem, "_3"))
    return g_strndup (stem, len - 2);

  if (g_str_has_suffix (stem, "_HVEC") || g_str_has_suffix (stem, "_hvec"))
    return g_strndup (stem, len - 5);

  if (video_ext != NULL)
    {
      g_autofree char *suffix = g_strconcat (".", video_ext, NULL);
      g_autofree char *lower = g_utf8_strdown (suffix, -1);

      if (g_str_has_suffix (stem, suffix))
        return g_strndup (stem, len - strlen (suffix));
      if (g_str_has_suffix (stem, lower))
        return g_strndup (stem, len - strlen (lower));
    }

  return g_strdup (stem);
}

/**
 * eider_media_live_photo_names_pair:
 * @image_name: the image's file name
 * @video_name: the video's file name
 *
 * The name half of Ente's live-photo test (spec/ente-upload.md §7.1): the
 * extensions (in any case) must make @image_name an image candidate and
 * @video_name a video candidate, and the names without extension must be
 * equal once a trailing `_3` or `_HVEC`/`_hvec` is removed from either, or,
 * from the image only, a trailing `.<video extension>`.
 *
 * Returns: %TRUE if the names fit together
 */
gboolean
eider_media_live_photo_names_pair (const char *image_name,
                                   const char *video_name)
{
  g_autofree char *image = NULL;
  g_autofree char *video = NULL;
  g_autofree char *image_stem = NULL;
  g_autofree char *image_ext = NULL;
  g_autofree char *video_stem = NULL;
  g_autofree char *video_ext = NULL;
  g_autofree char *image_pruned = NULL;
  g_autofree char *video_pruned = NULL;

  g_return_val_if_fail (image_name != NULL, FALSE);
  g_return_val_if_fail (video_name != NULL, FALSE);

  image = g_utf8_make_valid (image_name, -1);
  video = g_utf8_make_valid (video_name, -1);
  split_name (image, &image_stem, &image_ext);
  split_name (video, &video_stem, &video_ext);

  if (!extension_in (image_ext, live_image_extensions, G_N_ELEMENTS (live_image_extensions)) ||
      !extension_in (video_ext, live_video_extensions, G_N_ELEMENTS (live_video_extensions)))
    return FALSE;

  image_pruned = strip_live_photo_suffix (image_stem, video_ext);
  video_pruned = strip_live_photo_suffix (video_stem, NULL);

  return g_str_equal (image_pruned, video_pruned);
}

/**
 * eider_media_live_photo_pair:
 * @image_path: the image file
 * @image_size: its size in bytes
 * @image_time_us: its creation time (µs since the epoch; 0 when unknown)
 * @video_path: the video file
 * @video_size: its size in bytes
 * @video_time_us: its creation time (µs since the epoch; 0 when unknown)
 *
 * Ente's whole live-photo test for two files of one batch and album
 * (spec/ente-upload.md §7.1): the same directory, names that pair
 * (eider_media_live_photo_names_pair()), each at most
 * %EIDER_LIVE_PHOTO_MAX_ASSET_SIZE, and known creation times less than a
 * day apart. The times are the capture dates (Exif or video metadata),
 * never the modification time.
 *
 * Returns: %TRUE if the two make one live photo
 */
gboolean
eider_media_live_photo_pair (const char *image_path,
                             gint64      image_size,
                             gint64      image_time_us,
                             const char *video_path,
                             gint64      video_size,
                             gint64      video_time_us)
{
  g_autofree char *image_dir = NULL;
  g_autofree char *video_dir = NULL;
  g_autofree char *image_name = NULL;
  g_autofree char *video_name = NULL;
  guint64 delta;

  g_return_val_if_fail (image_path != NULL, FALSE);
  g_return_val_if_fail (video_path != NULL, FALSE);

  if (image_size < 0 || image_size > EIDER_LIVE_PHOTO_MAX_ASSET_SIZE ||
      video_size < 0 || video_size > EIDER_LIVE_PHOTO_MAX_ASSET_SIZE)
    return FALSE;

  if (image_time_us == 0 || video_time_us == 0)
    return FALSE;
  delta = image_time_us > video_time_us
    ? (guint64) image_time_us - (guint64) video_time_us
    : (guint64) video_time_us - (guint64) image_time_us;
  if (delta >= (guint64) 24 * 60 * 60 * G_USEC_PER_SEC)
    return FALSE;

  image_dir = g_path_get_dirname (image_path);
  video_dir = g_path_get_dirname (video_path);
  if (!g_str_equal (image_dir, video_dir))
    return FALSE;

  image_name = g_path_get_basename (image_path);
  video_name = g_path_get_basename (video_path);

  return eider_media_live_photo_names_pair (image_name, video_name);
}

static char *
entry_name (const char *prefix,
            const char *file_name)
{
  g_autofree char *valid = g_utf8_make_valid (file_name, -1);
  g_autofree char *base = g_path_get_basename (valid);
  g_autofree char *stem = NULL;
  g_autofree char *ext = NULL;

  split_name (base, &stem, &ext);
  if (ext == NULL || ext[0] == '\0')
    return g_strdup (prefix);

  return g_strconcat (prefix, ".", ext, NULL);
}

/**
 * eider_media_live_photo_entry_names:
 * @image_name: the image's file name (or path)
 * @video_name: the video's file name (or path)
 * @image_entry: (out) (transfer full): the image's name in the zip
 * @video_entry: (out) (transfer full): the video's name in the zip
 *
 * The two top-level entry names of a live photo's zip (spec/ente-upload.md
 * §7.2): `image.` and `video.` followed by each file's own extension, its
 * case kept (`image.HEIC`, `video.MOV`); a file without extension gives a
 * bare `image` or `video`.
 */
void
eider_media_live_photo_entry_names (const char  *image_name,
                                    const char  *video_name,
                                    char       **image_entry,
                                    char       **video_entry)
{
  g_return_if_fail (image_name != NULL);
  g_return_if_fail (video_name != NULL);
  g_return_if_fail (image_entry != NULL);
  g_return_if_fail (video_entry != NULL);

  *image_entry = entry_name ("image", image_name);
  *video_entry = entry_name ("video", video_name);
}
