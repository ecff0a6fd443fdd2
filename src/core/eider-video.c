/* eider-video.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "eider-video"
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <gst/gst.h>
#include <gst/app/gstappsink.h>
#include <gst/pbutils/pbutils.h>
#include <gst/video/video.h>

#include "eider-exif.h"
#include "eider-video.h"

/* How Ente's uploaders read a video (spec/ente-upload.md §4.2, §4.5): ffmpeg's
 * `com.apple.quicktime.creationdate`, else `creation_time` (the movie header's
 * time); `com.apple.quicktime.location.ISO6709`, else `location` (the `©xyz`
 * user-data atom, or a 3GPP `loci` box). GStreamer 1.22's qtdemux turns the
 * movie header time and `loci` into tags, but neither the `mdta` keys nor
 * `©xyz` (it hands them over as opaque "private-qt-tag" buffers), so for
 * ISO-BMFF/QuickTime files a small, bounded box walker below reads those
 * atoms itself. Other containers (Matroska, WebM, AVI, ...) use GStreamer's
 * tags only. Duration, picture size and the thumbnail frame always come from
 * GStreamer. */

G_DEFINE_QUARK (eider-video-error-quark, eider_video_error)

#define SECONDS_1904_TO_1970 G_GINT64_CONSTANT (2082844800)

/* Bounds for the box walker: a hostile file cannot make it loop for long. */
#define MAX_BOXES 4096
#define MAX_DEPTH 6
#define MAX_VALUE 4096

static gpointer
init_gstreamer_once (gpointer data)
{
  GError **error = data;

  return GINT_TO_POINTER (gst_init_check (NULL, NULL, error));
}

static gboolean
ensure_gstreamer (GError **error)
{
  static GOnce once = G_ONCE_INIT;
  static GError *init_error = NULL;

  g_once (&once, init_gstreamer_once, &init_error);
  if (!GPOINTER_TO_INT (once.retval))
    {
      g_set_error (error, EIDER_VIDEO_ERROR, EIDER_VIDEO_ERROR_FAILED,
                   "GStreamer could not start: %s",
                   init_error != NULL ? init_error->message : "unknown error");
      return FALSE;
    }
  return TRUE;
}

static char *
path_to_uri (const char  *path,
             GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  char *uri;

  uri = gst_filename_to_uri (path, &local_error);
  if (uri == NULL)
    g_set_error (error, EIDER_VIDEO_ERROR, EIDER_VIDEO_ERROR_FAILED,
                 "%s: %s", path, local_error != NULL ? local_error->message : "bad path");
  return uri;
}

static gboolean
check_regular_file (const char  *path,
                    GError     **error)
{
  GStatBuf st;

  if (g_stat (path, &st) != 0)
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   "%s: %s", path, g_strerror (saved));
      return FALSE;
    }
  if (!S_ISREG (st.st_mode))
    {
      g_set_error (error, EIDER_VIDEO_ERROR, EIDER_VIDEO_ERROR_FAILED,
                   "%s: not a regular file", path);
      return FALSE;
    }
  if (st.st_size == 0)
    {
      g_set_error (error, EIDER_VIDEO_ERROR, EIDER_VIDEO_ERROR_FAILED,
                   "%s: empty file", path);
      return FALSE;
    }
  return TRUE;
}

/* ISO 6709 ---------------------------------------------------------------- */

/* One signed decimal ("+12.97", "-077.5"): a sign, digits, an optional
 * fraction. */
static gboolean
read_signed_decimal (const char **cursor,
                     double      *value)
{
  const char *p = *cursor;
  const char *start;
  char *end = NULL;
  g_autofree char *copy = NULL;

  while (*p != '\0' && *p != '+' && *p != '-')
    p++;
  if (*p == '\0')
    return FALSE;
  start = p++;
  if (!g_ascii_isdigit (*p))
    {
      *cursor = p;
      return read_signed_decimal (cursor, value);
    }
  while (g_ascii_isdigit (*p))
    p++;
  if (*p == '.')
    {
      p++;
      while (g_ascii_isdigit (*p))
        p++;
    }
  copy = g_strndup (start, p - start);
  *value = g_ascii_strtod (copy, &end);
  *cursor = p;
  return end != NULL && *end == '\0';
}

gboolean
eider_video_parse_iso6709 (const char *text,
                           double     *latitude,
                           double     *longitude)
{
  const char *cursor = text;
  double lat, lon;

  g_return_val_if_fail (latitude != NULL, FALSE);
  g_return_val_if_fail (longitude != NULL, FALSE);

  if (text == NULL)
    return FALSE;
  if (!read_signed_decimal (&cursor, &lat) ||
      !read_signed_decimal (&cursor, &lon))
    return FALSE;
  if (!isfinite (lat) || !isfinite (lon) ||
      lat < -90.0 || lat > 90.0 || lon < -180.0 || lon > 180.0)
    return FALSE;
  *latitude = lat;
  *longitude = lon;
  return TRUE;
}

/* Dates ------------------------------------------------------------------- */

static gint64
date_time_to_us (GDateTime *dt)
{
  return g_date_time_to_unix (dt) * G_USEC_PER_SEC + g_date_time_get_microsecond (dt);
}

/* The wall clock of @dt as Ente's web uploader writes dateTime. */
static void
format_wall_clock (GDateTime *dt,
                   char       out[24])
{
  g_snprintf (out, 24, "%04d-%02d-%02dT%02d:%02d:%02d.%03d",
              g_date_time_get_year (dt), g_date_time_get_month (dt),
              g_date_time_get_day_of_month (dt), g_date_time_get_hour (dt),
              g_date_time_get_minute (dt), g_date_time_get_second (dt),
              g_date_time_get_microsecond (dt) / 1000);
}

/* `com.apple.quicktime.creationdate` is ISO 8601, usually with an offset
 * ("2023-08-23T18:13:00+0530"); without one it is local time, as a
 * JavaScript Date reads it. Exif-style "YYYY:MM:DD HH:MM:SS" is accepted.
 * Fills @info's creation_time, and its dateTime and offsetTime the way web
 * does: the wall clock without the offset, and the offset as written. */
static void
parse_creation_date (const char     *text,
                     EiderVideoInfo *info)
{
  g_autofree char *copy = g_strstrip (g_strdup (text));
  g_autofree char *wall_text = NULL;
  g_autoptr(GDateTime) dt = NULL;
  g_autoptr(GDateTime) wall = NULL;
  g_autoptr(GTimeZone) local = g_time_zone_new_local ();
  g_autoptr(GTimeZone) utc = g_time_zone_new_utc ();
  gssize at;
  gint64 us;

  if (strlen (copy) >= 19 && copy[4] == ':' && copy[7] == ':' && copy[10] == ' ')
    {
      copy[4] = '-';
      copy[7] = '-';
      copy[10] = 'T';
    }
  dt = g_date_time_new_from_iso8601 (copy, local);
  if (dt == NULL)
    return;
  us = date_time_to_us (dt);
  if (us == 0)
    return;
  info->creation_time = us;

  at = eider_exif_iso_offset_start (copy);
  wall_text = at >= 0 ? g_strndup (copy, at) : g_strdup (copy);
  wall = g_date_time_new_from_iso8601 (wall_text, utc);
  if (wall == NULL)
    return;
  format_wall_clock (wall, info->date_time);
  if (at >= 0 && strlen (copy + at) < sizeof info->offset_time)
    g_strlcpy (info->offset_time, copy + at, sizeof info->offset_time);
}

/* A UTC instant (the movie header's, or a tag's): dateTime is its UTC wall
 * clock and offsetTime "Z", as web gets them from ffmpeg's creation_time. */
static void
set_utc_creation_time (gint64          us,
                       EiderVideoInfo *info)
{
  g_autoptr(GDateTime) whole = NULL;
  g_autoptr(GDateTime) dt = NULL;
  gint64 seconds = us / G_USEC_PER_SEC;
  gint64 rest = us % G_USEC_PER_SEC;

  if (us == 0)
    return;
  info->creation_time = us;
  if (rest < 0)
    {
      seconds--;
      rest += G_USEC_PER_SEC;
    }
  whole = g_date_time_new_from_unix_utc (seconds);
  if (whole == NULL || (dt = g_date_time_add (whole, rest)) == NULL)
    return;
  format_wall_clock (dt, info->date_time);
  g_strlcpy (info->offset_time, "Z", sizeof info->offset_time);
}

/* The ISO-BMFF / QuickTime box walker -------------------------------------- */

typedef struct
{
  int     fd;
  goffset size;
  guint   boxes;

  gboolean is_isobmff;
  gboolean has_moov;
  gboolean has_mvhd;
  gint64   mvhd_time;       /* µs, 0 when absent */
  char    *keys_location;   /* com.apple.quicktime.location.ISO6709 */
  char    *keys_date;       /* com.apple.quicktime.creationdate */
  char    *xyz_location;    /* ©xyz */
} BoxScan;

#define FOURCC(a, b, c, d) \
  (((guint32) (a) << 24) | ((guint32) (b) << 16) | ((guint32) (c) << 8) | (guint32) (d))

static gboolean
read_at (BoxScan *scan,
         goffset  offset,
         void    *buf,
         gsize    len)
{
  gsize done = 0;

  if (offset < 0 || offset > scan->size || (goffset) len > scan->size - offset)
    return FALSE;
  while (done < len)
    {
      ssize_t n = pread (scan->fd, (guint8 *) buf + done, len - done, offset + done);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
      done += n;
    }
  return TRUE;
}

static guint32
be32 (const guint8 *p)
{
  return ((guint32) p[0] << 24) | ((guint32) p[1] << 16) | ((guint32) p[2] << 8) | p[3];
}

static guint64
be64 (const guint8 *p)
{
  return ((guint64) be32 (p) << 32) | be32 (p + 4);
}

/* Reads the box header at @offset inside [.., @end); FALSE at the end or on
 * a malformed header. */
static gboolean
next_box (BoxScan *scan,
          goffset  offset,
          goffset  end,
          guint32 *type,
          goffset *payload,
          goffset *box_end)
{
  guint8 hdr[16];
  guint64 size;
  goffset header = 8;

  if (++scan->boxes > MAX_BOXES)
    return FALSE;
  if (end - offset < 8 || !read_at (scan, offset, hdr, 8))
    return FALSE;
  size = be32 (hdr);
  *type = be32 (hdr + 4);
  if (size == 1)
    {
      if (end - offset < 16 || !read_at (scan, offset + 8, hdr + 8, 8))
        return FALSE;
      size = be64 (hdr + 8);
      header = 16;
    }
  else if (size == 0)
    size = end - offset;
  if (size < (guint64) header || size > (guint64) (end - offset))
    return FALSE;
  *payload = offset + header;
  *box_end = offset + (goffset) size;
  return TRUE;
}

static char *
read_string (BoxScan *scan,
             goffset  offset,
             goffset  len)
{
  g_autofree char *buf = NULL;

  if (len <= 0 || len > MAX_VALUE)
    return NULL;
  buf = g_malloc0 (len + 1);
  if (!read_at (scan, offset, buf, len))
    return NULL;
  if (!g_utf8_validate (buf, -1, NULL))
    return NULL;
  return g_steal_pointer (&buf);
}

static void
scan_mvhd (BoxScan *scan,
           goffset  payload,
           goffset  end)
{
  guint8 buf[12];
  guint64 t;

  if (end - payload < 12 || !read_at (scan, payload, buf, 12))
    return;
  scan->has_mvhd = TRUE;
  if (buf[0] == 1)
    t = be64 (buf + 4);
  else
    t = be32 (buf + 4);
  if (t == 0 || t > G_GUINT64_CONSTANT (1) << 40)
    return;
  /* Times are seconds since 1904; files from some writers hold Unix times,
   * which are told apart by being smaller than the 1904→1970 gap. */
  if ((gint64) t >= SECONDS_1904_TO_1970)
    t -= SECONDS_1904_TO_1970;
  scan->mvhd_time = (gint64) t * G_USEC_PER_SEC;
}

static void
scan_xyz (BoxScan *scan,
          goffset  payload,
          goffset  end)
{
  guint8 buf[4];
  guint16 len;

  if (scan->xyz_location != NULL || end - payload < 4 || !read_at (scan, payload, buf, 4))
    return;
  len = ((guint16) buf[0] << 8) | buf[1];
  if (len > end - payload - 4)
    len = end - payload - 4;
  scan->xyz_location = read_string (scan, payload + 4, len);
}

/* A `meta` box: `hdlr` must say `mdta`; `keys` names the entries of
 * `ilst`, whose children are numbered by their 1-based key index. */
static void
scan_meta (BoxScan *scan,
           goffset  payload,
           goffset  end)
{
  guint8 buf[16];
  goffset offset = payload;
  guint32 type;
  goffset child, child_end;
  g_autoptr(GPtrArray) keys = g_ptr_array_new_with_free_func (g_free);
  goffset ilst = -1, ilst_end = -1;
  gboolean mdta = FALSE;

  /* ISO's meta is a full box (4 bytes of version and flags); QuickTime's is
   * not: tell them apart by where a child box type appears. */
  if (end - payload >= 12 && read_at (scan, payload, buf, 12) &&
      be32 (buf + 4) != FOURCC ('h', 'd', 'l', 'r'))
    offset += 4;

  while (next_box (scan, offset, end, &type, &child, &child_end))
    {
      if (type == FOURCC ('h', 'd', 'l', 'r'))
        {
          if (child_end - child >= 12 && read_at (scan, child, buf, 12))
            mdta = be32 (buf + 8) == FOURCC ('m', 'd', 't', 'a');
        }
      else if (type == FOURCC ('k', 'e', 'y', 's') && keys->len == 0)
        {
          guint32 count;
          goffset k = child + 8;

          if (child_end - child < 8 || !read_at (scan, child, buf, 8))
            goto next;
          count = be32 (buf + 4);
          for (guint32 i = 0; i < count && i < MAX_BOXES; i++)
            {
              guint32 ksize;

              if (child_end - k < 8 || !read_at (scan, k, buf, 8))
                break;
              ksize = be32 (buf);
              if (ksize < 8 || ksize > child_end - k)
                break;
              g_ptr_array_add (keys, read_string (scan, k + 8, ksize - 8));
              k += ksize;
            }
        }
      else if (type == FOURCC ('i', 'l', 's', 't'))
        {
          ilst = child;
          ilst_end = child_end;
        }
    next:
      offset = child_end;
    }

  if (!mdta || ilst < 0)
    return;

  offset = ilst;
  while (next_box (scan, offset, ilst_end, &type, &child, &child_end))
    {
      const char *key = NULL;
      goffset d, d_end;
      guint32 dtype;

      if (type >= 1 && type <= keys->len)
        key = g_ptr_array_index (keys, type - 1);
      if (key != NULL &&
          (g_str_equal (key, "com.apple.quicktime.location.ISO6709") ||
           g_str_equal (key, "com.apple.quicktime.creationdate")) &&
          next_box (scan, child, child_end, &dtype, &d, &d_end) &&
          dtype == FOURCC ('d', 'a', 't', 'a') &&
          d_end - d > 8 && read_at (scan, d, buf, 8) &&
          be32 (buf) == 1 /* UTF-8 */)
        {
          char **slot = g_str_equal (key, "com.apple.quicktime.creationdate")
                        ? &scan->keys_date : &scan->keys_location;

          if (*slot == NULL)
            *slot = read_string (scan, d + 8, d_end - d - 8);
        }
      offset = child_end;
    }
}

static void
scan_children (BoxScan *scan,
               goffset  offset,
               goffset  end,
               guint    depth)
{
  guint32 type;
  goffset payload, box_end;

  if (depth > MAX_DEPTH)
    return;
  while (next_box (scan, offset, end, &type, &payload, &box_end))
    {
      switch (type)
        {
        case FOURCC ('m', 'v', 'h', 'd'):
          if (depth == 1)
            scan_mvhd (scan, payload, box_end);
          break;
        case FOURCC ('u', 'd', 't', 'a'):
          scan_children (scan, payload, box_end, depth + 1);
          break;
        case FOURCC (0xa9, 'x', 'y', 'z'):
          scan_xyz (scan, payload, box_end);
          break;
        case FOURCC ('m', 'e', 't', 'a'):
          scan_meta (scan, payload, box_end);
          break;
        default:
          break;
        }
      offset = box_end;
    }
}

static void
box_scan (const char *path,
          BoxScan    *scan)
{
  guint32 type;
  goffset offset = 0, payload, box_end;
  GStatBuf st;

  scan->fd = g_open (path, O_RDONLY | O_CLOEXEC, 0);
  if (scan->fd < 0)
    return;
  if (fstat (scan->fd, &st) != 0)
    goto out;
  scan->size = st.st_size;

  while (next_box (scan, offset, scan->size, &type, &payload, &box_end))
    {
      if (type == FOURCC ('f', 't', 'y', 'p') || type == FOURCC ('m', 'o', 'o', 'v'))
        scan->is_isobmff = TRUE;
      if (type == FOURCC ('m', 'o', 'o', 'v'))
        {
          scan->has_moov = TRUE;
          scan_children (scan, payload, box_end, 1);
          break;
        }
      offset = box_end;
    }

out:
  g_close (scan->fd, NULL);
  scan->fd = -1;
}

static void
box_scan_clear (BoxScan *scan)
{
  g_clear_pointer (&scan->keys_location, g_free);
  g_clear_pointer (&scan->keys_date, g_free);
  g_clear_pointer (&scan->xyz_location, g_free);
}

/* A file that starts as ISO-BMFF/QuickTime (an ftyp box) but has no moov
 * box with a movie header at the top level is cut short or damaged: say so at once. GStreamer
 * would say it too, but decodebin2 can lose the demuxer's error when the
 * demuxer fails while decodebin is still bringing it up, and the call would
 * then only end at its timeout. */
static gboolean
check_movie_box (const char  *path,
                 GError     **error)
{
  BoxScan scan = { .fd = -1 };
  gboolean ok;

  box_scan (path, &scan);
  ok = !scan.is_isobmff || (scan.has_moov && scan.has_mvhd);
  box_scan_clear (&scan);
  if (!ok)
    g_set_error (error, EIDER_VIDEO_ERROR, EIDER_VIDEO_ERROR_FAILED,
                 "%s: no movie box (a truncated or damaged MP4/QuickTime file)", path);
  return ok;
}

/* Probe --------------------------------------------------------------------- */

static void
merge_tags (GstTagList       **into,
            const GstTagList  *tags)
{
  if (tags == NULL)
    return;
  if (*into == NULL)
    *into = gst_tag_list_copy (tags);
  else
    gst_tag_list_insert (*into, tags, GST_TAG_MERGE_KEEP);
}

static gint64
tag_date_time (const GstTagList *tags)
{
  GstDateTime *gdt = NULL;
  gint64 result = 0;

  if (tags == NULL || !gst_tag_list_get_date_time (tags, GST_TAG_DATE_TIME, &gdt))
    return 0;
  /* A date alone (year, or year-month-day) is not a capture time. */
  if (gst_date_time_has_time (gdt) && gst_date_time_has_second (gdt))
    {
      g_autoptr(GDateTime) dt = gst_date_time_to_g_date_time (gdt);

      if (dt != NULL)
        result = date_time_to_us (dt);
    }
  gst_date_time_unref (gdt);
  return result;
}

static gboolean
orientation_is_sideways (const GstTagList *tags)
{
  g_autofree char *orientation = NULL;

  if (tags == NULL || !gst_tag_list_get_string (tags, GST_TAG_IMAGE_ORIENTATION, &orientation))
    return FALSE;
  return g_str_equal (orientation, "rotate-90") || g_str_equal (orientation, "rotate-270") ||
         g_str_equal (orientation, "flip-rotate-90") || g_str_equal (orientation, "flip-rotate-270");
}

typedef struct
{
  GstDiscovererInfo *info;
  GError            *error;
  gboolean           done;
  gboolean           timed_out;
} Discovery;

static void
discovered_cb (GstDiscoverer     *discoverer,
               GstDiscovererInfo *info,
               const GError      *error,
               gpointer           user_data)
{
  Discovery *d = user_data;

  if (d->info == NULL)
    d->info = g_object_ref (info);
  if (error != NULL && d->error == NULL)
    d->error = g_error_copy (error);
}

static void
finished_cb (GstDiscoverer *discoverer,
             gpointer       user_data)
{
  Discovery *d = user_data;

  d->done = TRUE;
}

static gboolean
discovery_timeout_cb (gpointer user_data)
{
  Discovery *d = user_data;

  d->timed_out = TRUE;
  return G_SOURCE_REMOVE;
}

/* GstDiscoverer in its asynchronous form, on a private main context pushed
 * for this call only: our own timeout source bounds the wait exactly
 * (GstDiscoverer's own timeout is at least a second, and its synchronous
 * form checks it only every half second), and gst_discoverer_stop() tears
 * the pipeline down when the time is up. NULL with no error: timed out. */
static GstDiscovererInfo *
discover (const char  *uri,
          guint        timeout_ms,
          GError     **error)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(GstDiscoverer) discoverer = NULL;
  g_autoptr(GSource) timeout = NULL;
  Discovery d = { 0 };
  guint64 gst_timeout = MAX ((guint64) timeout_ms * GST_MSECOND, GST_SECOND);

  discoverer = gst_discoverer_new (MIN (gst_timeout, 3600 * GST_SECOND), error);
  if (discoverer == NULL)
    return NULL;

  g_main_context_push_thread_default (context);
  g_signal_connect (discoverer, "discovered", G_CALLBACK (discovered_cb), &d);
  g_signal_connect (discoverer, "finished", G_CALLBACK (finished_cb), &d);
  timeout = g_timeout_source_new (MAX (timeout_ms, 1));
  g_source_set_callback (timeout, discovery_timeout_cb, &d, NULL);
  g_source_attach (timeout, context);

  gst_discoverer_start (discoverer);
  if (!gst_discoverer_discover_uri_async (discoverer, uri))
    g_set_error (&d.error, EIDER_VIDEO_ERROR, EIDER_VIDEO_ERROR_FAILED, "cannot start discovery");
  else
    while (!d.done && !d.timed_out)
      g_main_context_iteration (context, TRUE);

  gst_discoverer_stop (discoverer);
  g_signal_handlers_disconnect_by_data (discoverer, &d);
  g_source_destroy (timeout);
  g_main_context_pop_thread_default (context);

  if (!d.done || d.info == NULL)
    {
      g_clear_object (&d.info);
      if (d.done)
        g_propagate_error (error, g_steal_pointer (&d.error));
      g_clear_error (&d.error);
      return NULL;
    }
  if (d.error != NULL && gst_discoverer_info_get_result (d.info) != GST_DISCOVERER_OK)
    g_propagate_error (error, g_steal_pointer (&d.error));
  g_clear_error (&d.error);
  return d.info;
}

gboolean
eider_video_probe (const char      *path,
                   guint            timeout_ms,
                   EiderVideoInfo  *info,
                   GError         **error)
{
  g_autoptr(GstDiscovererInfo) dinfo = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *uri = NULL;
  g_autoptr(GstTagList) tags = NULL;
  GList *videos, *streams;
  GstDiscovererResult result;
  GstClockTime duration;
  BoxScan scan = { .fd = -1 };
  double lat, lon;

  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (info != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  memset (info, 0, sizeof *info);

  if (!ensure_gstreamer (error) || !check_regular_file (path, error) ||
      !check_movie_box (path, error))
    return FALSE;
  uri = path_to_uri (path, error);
  if (uri == NULL)
    return FALSE;

  dinfo = discover (uri, timeout_ms, &local_error);
  if (dinfo == NULL)
    {
      if (local_error == NULL)
        g_set_error (error, EIDER_VIDEO_ERROR, EIDER_VIDEO_ERROR_TIMED_OUT,
                     "%s: no answer from GStreamer within %u ms", path, timeout_ms);
      else
        g_set_error (error, EIDER_VIDEO_ERROR, EIDER_VIDEO_ERROR_FAILED,
                     "%s: %s", path, local_error->message);
      return FALSE;
    }

  result = gst_discoverer_info_get_result (dinfo);
  if (result == GST_DISCOVERER_TIMEOUT)
    {
      g_set_error (error, EIDER_VIDEO_ERROR, EIDER_VIDEO_ERROR_TIMED_OUT,
                   "%s: no answer from GStreamer within %u ms", path, timeout_ms);
      return FALSE;
    }
  videos = gst_discoverer_info_get_video_streams (dinfo);
  if (result != GST_DISCOVERER_OK && (result != GST_DISCOVERER_MISSING_PLUGINS || videos == NULL))
    {
      gst_discoverer_stream_info_list_free (videos);
      g_set_error (error, EIDER_VIDEO_ERROR, EIDER_VIDEO_ERROR_FAILED,
                   "%s: %s", path,
                   local_error != NULL ? local_error->message
                   : result == GST_DISCOVERER_MISSING_PLUGINS ? "no GStreamer plugin reads it"
                   : "GStreamer cannot read it");
      return FALSE;
    }
  if (videos == NULL)
    {
      g_set_error (error, EIDER_VIDEO_ERROR, EIDER_VIDEO_ERROR_NO_VIDEO,
                   "%s: no video stream", path);
      return FALSE;
    }

  for (GList *l = videos; l != NULL; l = l->next)
    {
      GstDiscovererVideoInfo *v = l->data;

      if (gst_discoverer_video_info_is_image (v))
        continue;
      info->width = gst_discoverer_video_info_get_width (v);
      info->height = gst_discoverer_video_info_get_height (v);
      break;
    }
  if (info->width == 0)
    {
      GstDiscovererVideoInfo *v = videos->data;

      info->width = gst_discoverer_video_info_get_width (v);
      info->height = gst_discoverer_video_info_get_height (v);
    }
  gst_discoverer_stream_info_list_free (videos);

  merge_tags (&tags, gst_discoverer_info_get_tags (dinfo));
  streams = gst_discoverer_info_get_stream_list (dinfo);
  for (GList *l = streams; l != NULL; l = l->next)
    merge_tags (&tags, gst_discoverer_stream_info_get_tags (l->data));
  gst_discoverer_stream_info_list_free (streams);

  if (orientation_is_sideways (tags))
    {
      int w = info->width;

      info->width = info->height;
      info->height = w;
    }

  /* ceil (seconds), from the duration rounded to whole microseconds (the
   * precision ffprobe prints), so nanosecond noise does not add a second. */
  duration = gst_discoverer_info_get_duration (dinfo);
  if (GST_CLOCK_TIME_IS_VALID (duration) && duration > 0)
    {
      guint64 us = (duration + 500) / 1000;

      info->duration = (gint64) ((us + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC);
    }

  box_scan (path, &scan);

  if (scan.keys_date != NULL)
    parse_creation_date (scan.keys_date, info);
  if (info->creation_time == 0 && scan.is_isobmff)
    set_utc_creation_time (scan.mvhd_time, info);
  if (info->creation_time == 0 && !scan.is_isobmff)
    set_utc_creation_time (tag_date_time (tags), info);

  if (eider_video_parse_iso6709 (scan.keys_location, &lat, &lon) ||
      eider_video_parse_iso6709 (scan.xyz_location, &lat, &lon) ||
      (tags != NULL &&
       gst_tag_list_get_double (tags, GST_TAG_GEO_LOCATION_LATITUDE, &lat) &&
       gst_tag_list_get_double (tags, GST_TAG_GEO_LOCATION_LONGITUDE, &lon) &&
       isfinite (lat) && isfinite (lon) &&
       fabs (lat) <= 90.0 && fabs (lon) <= 180.0))
    {
      info->has_location = TRUE;
      info->latitude = lat;
      info->longitude = lon;
    }

  box_scan_clear (&scan);
  return TRUE;
}

/* Thumbnail ----------------------------------------------------------------- */

static void
pad_added_cb (GstElement *decodebin,
              GstPad     *pad,
              gpointer    user_data)
{
  GstElement *convert = user_data;
  g_autoptr(GstPad) sink = gst_element_get_static_pad (convert, "sink");
  g_autoptr(GstCaps) caps = gst_pad_get_current_caps (pad);
  GstStructure *s;

  if (caps == NULL)
    caps = gst_pad_query_caps (pad, NULL);
  if (caps == NULL || gst_caps_is_empty (caps))
    return;
  s = gst_caps_get_structure (caps, 0);
  if (!g_str_has_prefix (gst_structure_get_name (s), "video/x-raw"))
    return;
  if (gst_pad_is_linked (sink))
    return;
  gst_pad_link (pad, sink);
}

/* Waits on the pipeline's own bus (no main context) until the state change
 * in progress completes, an error or EOS arrives, or the deadline passes. */
static gboolean
wait_async_done (GstElement  *pipeline,
                 gint64       deadline,
                 gboolean    *eos,
                 const char  *path,
                 GError     **error)
{
  g_autoptr(GstBus) bus = gst_element_get_bus (pipeline);

  *eos = FALSE;
  for (;;)
    {
      gint64 now = g_get_monotonic_time ();
      g_autoptr(GstMessage) msg = NULL;

      if (now >= deadline)
        {
          g_set_error (error, EIDER_VIDEO_ERROR, EIDER_VIDEO_ERROR_TIMED_OUT,
                       "%s: no frame within the time allowed", path);
          return FALSE;
        }
      msg = gst_bus_timed_pop_filtered (bus, (deadline - now) * GST_USECOND,
                                        GST_MESSAGE_ASYNC_DONE | GST_MESSAGE_ERROR |
                                        GST_MESSAGE_EOS);
      if (msg == NULL)
        continue;
      switch (GST_MESSAGE_TYPE (msg))
        {
        case GST_MESSAGE_ASYNC_DONE:
          return TRUE;
        case GST_MESSAGE_EOS:
          *eos = TRUE;
          return TRUE;
        case GST_MESSAGE_ERROR:
          {
            g_autoptr(GError) gerror = NULL;
            g_autofree char *debug = NULL;

            gst_message_parse_error (msg, &gerror, &debug);
            g_set_error (error, EIDER_VIDEO_ERROR, EIDER_VIDEO_ERROR_FAILED, "%s: %s",
                         path, gerror != NULL ? gerror->message : "GStreamer error");
            return FALSE;
          }
        default:
          break;
        }
    }
}

static GdkPixbuf *
sample_to_pixbuf (GstSample   *sample,
                  int          max_side,
                  const char  *path,
                  GError     **error)
{
  GstCaps *caps = gst_sample_get_caps (sample);
  GstBuffer *buffer = gst_sample_get_buffer (sample);
  GstVideoInfo vinfo;
  GstVideoFrame frame;
  g_autoptr(GdkPixbuf) pixbuf = NULL;
  int width, height, scaled_w, scaled_h;

  if (caps == NULL || buffer == NULL || !gst_video_info_from_caps (&vinfo, caps) ||
      GST_VIDEO_INFO_FORMAT (&vinfo) != GST_VIDEO_FORMAT_RGB ||
      !gst_video_frame_map (&frame, &vinfo, buffer, GST_MAP_READ))
    {
      g_set_error (error, EIDER_VIDEO_ERROR, EIDER_VIDEO_ERROR_FAILED,
                   "%s: the decoded frame is unusable", path);
      return NULL;
    }
  width = GST_VIDEO_FRAME_WIDTH (&frame);
  height = GST_VIDEO_FRAME_HEIGHT (&frame);
  pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, width, height);
  if (pixbuf == NULL)
    {
      gst_video_frame_unmap (&frame);
      g_set_error (error, EIDER_VIDEO_ERROR, EIDER_VIDEO_ERROR_FAILED,
                   "%s: a %d×%d frame does not fit in memory", path, width, height);
      return NULL;
    }
  {
    const guint8 *src = GST_VIDEO_FRAME_PLANE_DATA (&frame, 0);
    int src_stride = GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0);
    guint8 *dst = gdk_pixbuf_get_pixels (pixbuf);
    int dst_stride = gdk_pixbuf_get_rowstride (pixbuf);

    for (int y = 0; y < height; y++)
      memcpy (dst + (gsize) y * dst_stride, src + (gsize) y * src_stride, (gsize) width * 3);
  }
  gst_video_frame_unmap (&frame);

  if (max_side <= 0 || (width <= max_side && height <= max_side))
    return g_steal_pointer (&pixbuf);
  if (width >= height)
    {
      scaled_w = max_side;
      scaled_h = MAX (1, (int) ((double) height * max_side / width + 0.5));
    }
  else
    {
      scaled_h = max_side;
      scaled_w = MAX (1, (int) ((double) width * max_side / height + 0.5));
    }
  return gdk_pixbuf_scale_simple (pixbuf, scaled_w, scaled_h, GDK_INTERP_BILINEAR);
}

static GstElement *
make_element (const char  *factory,
              const char  *path,
              GError     **error)
{
  GstElement *element = gst_element_factory_make (factory, NULL);

  if (element == NULL)
    g_set_error (error, EIDER_VIDEO_ERROR, EIDER_VIDEO_ERROR_FAILED,
                 "%s: the GStreamer element “%s” is missing", path, factory);
  return element;
}

static gboolean
seek_and_wait (GstElement  *pipeline,
               GstClockTime position,
               gint64       deadline,
               gboolean    *eos,
               const char  *path,
               GError     **error)
{
  if (!gst_element_seek_simple (pipeline, GST_FORMAT_TIME,
                                GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_ACCURATE, position))
    {
      g_set_error (error, EIDER_VIDEO_ERROR, EIDER_VIDEO_ERROR_FAILED,
                   "%s: cannot seek", path);
      return FALSE;
    }
  return wait_async_done (pipeline, deadline, eos, path, error);
}

GdkPixbuf *
eider_video_thumbnail (const char  *path,
                       int          max_side,
                       guint        timeout_ms,
                       GError     **error)
{
  g_autoptr(GstElement) pipeline = NULL;
  g_autofree char *uri = NULL;
  GstElement *decode, *convert, *flip, *scale, *filter, *sink;
  g_autoptr(GstCaps) caps = NULL;
  g_autoptr(GstSample) sample = NULL;
  GdkPixbuf *pixbuf = NULL;
  GstStateChangeReturn ret;
  gint64 deadline;
  gint64 duration = -1;
  gboolean eos = FALSE;
  gboolean ok = FALSE;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  deadline = g_get_monotonic_time () + (gint64) MAX (timeout_ms, 1) * 1000;

  if (!ensure_gstreamer (error) || !check_regular_file (path, error) ||
      !check_movie_box (path, error))
    return NULL;
  uri = path_to_uri (path, error);
  if (uri == NULL)
    return NULL;

  pipeline = gst_object_ref_sink (gst_pipeline_new (NULL));
  if ((decode = make_element ("uridecodebin", path, error)) == NULL)
    return NULL;
  gst_bin_add (GST_BIN (pipeline), decode);
  if ((convert = make_element ("videoconvert", path, error)) == NULL)
    return NULL;
  gst_bin_add (GST_BIN (pipeline), convert);
  if ((flip = make_element ("videoflip", path, error)) == NULL)
    return NULL;
  gst_bin_add (GST_BIN (pipeline), flip);
  if ((scale = make_element ("videoscale", path, error)) == NULL)
    return NULL;
  gst_bin_add (GST_BIN (pipeline), scale);
  if ((filter = make_element ("capsfilter", path, error)) == NULL)
    return NULL;
  gst_bin_add (GST_BIN (pipeline), filter);
  if ((sink = make_element ("appsink", path, error)) == NULL)
    return NULL;
  gst_bin_add (GST_BIN (pipeline), sink);

  caps = gst_caps_new_simple ("video/x-raw",
                              "format", G_TYPE_STRING, "RGB",
                              "pixel-aspect-ratio", GST_TYPE_FRACTION, 1, 1,
                              NULL);
  g_object_set (decode, "uri", uri, "expose-all-streams", FALSE, NULL);
  /* Upright, as the camera meant it (the container's rotation tag). */
  g_object_set (flip, "video-direction", GST_VIDEO_ORIENTATION_AUTO, NULL);
  g_object_set (filter, "caps", caps, NULL);
  g_object_set (sink, "sync", FALSE, "max-buffers", 1, "drop", TRUE,
                "enable-last-sample", FALSE, NULL);
  if (!gst_element_link_many (convert, flip, scale, filter, sink, NULL))
    {
      g_set_error (error, EIDER_VIDEO_ERROR, EIDER_VIDEO_ERROR_FAILED,
                   "%s: cannot build the decoding pipeline", path);
      return NULL;
    }
  /* Only the raw video pad is linked; pad-added runs on a streaming thread
   * and touches nothing but the two pads. */
  g_signal_connect_object (decode, "pad-added", G_CALLBACK (pad_added_cb), convert, 0);

  ret = gst_element_set_state (pipeline, GST_STATE_PAUSED);
  if (ret == GST_STATE_CHANGE_FAILURE)
    {
      /* The error message on the bus says why. */
      if (wait_async_done (pipeline, deadline, &eos, path, error))
        g_set_error (error, EIDER_VIDEO_ERROR, EIDER_VIDEO_ERROR_FAILED,
                     "%s: GStreamer cannot read it", path);
      goto out;
    }
  if (!wait_async_done (pipeline, deadline, &eos, path, error))
    goto out;
  if (eos)
    {
      g_set_error (error, EIDER_VIDEO_ERROR, EIDER_VIDEO_ERROR_NO_VIDEO,
                   "%s: no video frame", path);
      goto out;
    }

  if (!gst_element_query_duration (pipeline, GST_FORMAT_TIME, &duration))
    duration = -1;

  /* Ente takes the frame at 1 s, and the first one when that fails
   * (spec §3.1); a clip shorter than a second has no frame at 1 s. */
  if (duration < 0 || duration >= (gint64) GST_SECOND)
    {
      g_autoptr(GError) seek_error = NULL;

      if (seek_and_wait (pipeline, GST_SECOND, deadline, &eos, path, &seek_error) && !eos)
        sample = gst_app_sink_try_pull_preroll (GST_APP_SINK (sink), 0);
      if (sample == NULL && g_error_matches (seek_error, EIDER_VIDEO_ERROR,
                                             EIDER_VIDEO_ERROR_TIMED_OUT))
        {
          g_propagate_error (error, g_steal_pointer (&seek_error));
          goto out;
        }
      if (sample == NULL &&
          !(seek_and_wait (pipeline, 0, deadline, &eos, path, error) && !eos))
        {
          if (error == NULL || *error == NULL)
            g_set_error (error, EIDER_VIDEO_ERROR, EIDER_VIDEO_ERROR_NO_VIDEO,
                         "%s: no video frame", path);
          goto out;
        }
    }
  if (sample == NULL)
    sample = gst_app_sink_try_pull_preroll (GST_APP_SINK (sink), 0);
  if (sample == NULL)
    {
      g_set_error (error, EIDER_VIDEO_ERROR, EIDER_VIDEO_ERROR_NO_VIDEO,
                   "%s: no video frame", path);
      goto out;
    }

  pixbuf = sample_to_pixbuf (sample, max_side, path, error);
  ok = pixbuf != NULL;

out:
  gst_element_set_state (pipeline, GST_STATE_NULL);
  g_assert (ok == (pixbuf != NULL));
  return pixbuf;
}
