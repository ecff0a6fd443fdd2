/* test-video.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * eider-video on real files made at test time with gst-launch-1.0
 * (videotestsrc; Motion JPEG in QuickTime MOV, VP8 in WebM with a single
 * key frame: Debian 12's avenc_mpeg4 ! mp4mux writes broken sample
 * durations, H.263 in qtmux gets no sync-sample table, and no H.264 encoder
 * is installed). The metadata atoms a
 * phone writes (the movie header's creation time, `©xyz`, the `mdta`
 * keys for com.apple.quicktime.creationdate / location.ISO6709) are added
 * to the muxed files by this test itself, and once more by exiftool as an
 * independent writer when it is installed.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include <glib/gstdio.h>

#include "eider-test-server-harness.h"
#include "eider-video.h"

#define TIMEOUT_MS 10000
#define SECONDS_1904_TO_1970 G_GINT64_CONSTANT (2082844800)

static char *tmp_dir;

static char *
tmp_path (const char *name)
{
  return g_build_filename (tmp_dir, name, NULL);
}

/* Runs gst-launch-1.0 with @pipeline, where "@OUT@" is replaced by @out. */
static void
gst_launch (const char *pipeline,
            const char *out)
{
  g_autofree char *quoted = g_shell_quote (out);
  g_autoptr(GString) line = g_string_new ("gst-launch-1.0 -q ");
  g_auto(GStrv) argv = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *err_text = NULL;
  int status = 0;

  g_string_append (line, pipeline);
  g_string_replace (line, "@OUT@", quoted, 0);
  g_assert_true (g_shell_parse_argv (line->str, NULL, &argv, &error));
  g_assert_no_error (error);
  g_assert_true (g_spawn_sync (NULL, argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL,
                               NULL, NULL, NULL, &err_text, &status, &error));
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("gst-launch-1.0 failed: %s\n%s", line->str, err_text);
  g_assert_true (g_file_test (out, G_FILE_TEST_IS_REGULAR));
}

/* A clip of solid colours, @n_frames[i] frames of @colours[i] each, at 25
 * frames per second. In WebM there is one key frame only, so a frame late
 * in the clip must really be decoded rather than taken from a nearby key
 * frame. */
static char *
make_clip (const char  *name,
           const char  *mux,
           int          width,
           int          height,
           const char **colours,
           const int   *n_frames)
{
  g_autofree char *path = tmp_path (name);
  g_autoptr(GString) p = g_string_new ("concat name=c ! videoconvert ! ");

  if (g_str_equal (mux, "webmmux"))
    g_string_append (p, "vp8enc keyframe-max-dist=250 ! webmmux");
  else
    g_string_append_printf (p, "jpegenc ! %s", mux);
  g_string_append (p, " ! filesink location=@OUT@");
  for (guint i = 0; colours[i] != NULL; i++)
    g_string_append_printf (p, " videotestsrc pattern=%s num-buffers=%d ! "
                            "video/x-raw,format=I420,width=%d,height=%d,framerate=25/1 ! c.",
                            colours[i], n_frames[i], width, height);
  gst_launch (p->str, path);
  return g_steal_pointer (&path);
}

static char *
make_solid (const char *name,
            int         width,
            int         height,
            int         n_frames)
{
  const char *colours[] = { "red", NULL };
  int frames[] = { n_frames };

  return make_clip (name, "qtmux", width, height, colours, frames);
}

/* QuickTime / MP4 atoms --------------------------------------------------------------- */

static guint32
get_be32 (const guint8 *p)
{
  return ((guint32) p[0] << 24) | ((guint32) p[1] << 16) | ((guint32) p[2] << 8) | p[3];
}

static void
put_be32 (guint8  *p,
          guint32  v)
{
  p[0] = v >> 24;
  p[1] = v >> 16;
  p[2] = v >> 8;
  p[3] = v;
}

static void
append_be32 (GByteArray *a,
             guint32     v)
{
  guint8 b[4];

  put_be32 (b, v);
  g_byte_array_append (a, b, 4);
}

static gsize
begin_box (GByteArray *a,
           const char *type)
{
  gsize at = a->len;

  append_be32 (a, 0);
  g_byte_array_append (a, (const guint8 *) type, 4);
  return at;
}

static void
end_box (GByteArray *a,
         gsize       at)
{
  put_be32 (a->data + at, a->len - at);
}

typedef struct
{
  gint64      mvhd_unix;        /* seconds; 0 leaves the muxer's value */
  const char *xyz;              /* ©xyz text, or NULL */
  const char *keys_date;        /* com.apple.quicktime.creationdate, or NULL */
  const char *keys_location;    /* com.apple.quicktime.location.ISO6709, or NULL */
  gboolean    iso_meta;         /* meta as an ISO full box (else QuickTime's form) */
} Atoms;

/* Rewrites the mvhd time and appends udta/©xyz and a meta box to the moov
 * of a file from qtmux (whose moov is the last top-level box, so nothing
 * after it moves). */
static void
add_atoms (const char  *path,
           const Atoms *atoms)
{
  g_autofree char *contents = NULL;
  gsize len = 0;
  g_autoptr(GError) error = NULL;
  g_autoptr(GByteArray) file = NULL;
  gsize offset = 0, moov = 0, moov_end = 0;

  g_assert_true (g_file_get_contents (path, &contents, &len, &error));
  g_assert_no_error (error);
  file = g_byte_array_new ();
  g_byte_array_append (file, (guint8 *) contents, len);

  while (offset + 8 <= file->len)
    {
      guint32 size = get_be32 (file->data + offset);

      g_assert_cmpuint (size, >=, 8);
      if (memcmp (file->data + offset + 4, "moov", 4) == 0)
        {
          moov = offset;
          moov_end = offset + size;
        }
      offset += size;
    }
  g_assert_cmpuint (moov_end, ==, file->len);

  if (atoms->mvhd_unix != 0)
    {
      gsize child = moov + 8;
      gboolean found = FALSE;

      while (child + 8 <= moov_end)
        {
          if (memcmp (file->data + child + 4, "mvhd", 4) == 0)
            {
              g_assert_cmpuint (file->data[child + 8], ==, 0);   /* version 0 */
              put_be32 (file->data + child + 12,
                        (guint32) (atoms->mvhd_unix + SECONDS_1904_TO_1970));
              found = TRUE;
              break;
            }
          child += get_be32 (file->data + child);
        }
      g_assert_true (found);
    }

  if (atoms->xyz != NULL)
    {
      gsize udta = begin_box (file, "udta");
      gsize xyz = begin_box (file, "\xa9xyz");
      guint8 head[4] = { 0, 0, 0x15, 0xc7 };   /* length, then language "eng" */

      head[0] = strlen (atoms->xyz) >> 8;
      head[1] = strlen (atoms->xyz) & 0xff;
      g_byte_array_append (file, head, 4);
      g_byte_array_append (file, (const guint8 *) atoms->xyz, strlen (atoms->xyz));
      end_box (file, xyz);
      end_box (file, udta);
    }

  if (atoms->keys_date != NULL || atoms->keys_location != NULL)
    {
      const char *names[2] = { "com.apple.quicktime.location.ISO6709",
                               "com.apple.quicktime.creationdate" };
      const char *values[2] = { atoms->keys_location, atoms->keys_date };
      gsize meta = begin_box (file, "meta");
      gsize box;
      guint32 n_keys = 0;
      static const guint8 zeros[12] = { 0 };

      if (atoms->iso_meta)
        append_be32 (file, 0);
      box = begin_box (file, "hdlr");
      append_be32 (file, 0);                       /* version, flags */
      append_be32 (file, 0);                       /* pre-defined */
      g_byte_array_append (file, (const guint8 *) "mdta", 4);
      g_byte_array_append (file, zeros, 12);
      g_byte_array_append (file, zeros, 1);        /* empty name */
      end_box (file, box);

      box = begin_box (file, "keys");
      append_be32 (file, 0);
      for (guint i = 0; i < 2; i++)
        n_keys += values[i] != NULL;
      append_be32 (file, n_keys);
      for (guint i = 0; i < 2; i++)
        if (values[i] != NULL)
          {
            append_be32 (file, 8 + strlen (names[i]));
            g_byte_array_append (file, (const guint8 *) "mdta", 4);
            g_byte_array_append (file, (const guint8 *) names[i], strlen (names[i]));
          }
      end_box (file, box);

      box = begin_box (file, "ilst");
      for (guint i = 0, index = 1; i < 2; i++)
        if (values[i] != NULL)
          {
            gsize item = file->len, data;

            append_be32 (file, 0);
            append_be32 (file, index++);
            data = begin_box (file, "data");
            append_be32 (file, 1);                 /* UTF-8 */
            append_be32 (file, 0);                 /* locale */
            g_byte_array_append (file, (const guint8 *) values[i], strlen (values[i]));
            end_box (file, data);
            end_box (file, item);
          }
      end_box (file, box);
      end_box (file, meta);
    }

  put_be32 (file->data + moov, file->len - moov);
  g_assert_true (g_file_set_contents (path, (const char *) file->data, file->len, &error));
  g_assert_no_error (error);
}

/* Probe --------------------------------------------------------------------- */

static void
test_iso6709 (void)
{
  double lat = 0, lon = 0;

  g_assert_true (eider_video_parse_iso6709 ("+12.9700+077.5900/", &lat, &lon));
  g_assert_cmpfloat (lat, ==, 12.97);
  g_assert_cmpfloat (lon, ==, 77.59);
  g_assert_true (eider_video_parse_iso6709 ("-33.8568+151.2153+020.000/", &lat, &lon));
  g_assert_cmpfloat (lat, ==, -33.8568);
  g_assert_cmpfloat (lon, ==, 151.2153);
  g_assert_true (eider_video_parse_iso6709 ("+40-074/", &lat, &lon));
  g_assert_cmpfloat (lat, ==, 40);
  g_assert_cmpfloat (lon, ==, -74);
  g_assert_false (eider_video_parse_iso6709 ("+12.97/", &lat, &lon));
  g_assert_false (eider_video_parse_iso6709 ("", &lat, &lon));
  g_assert_false (eider_video_parse_iso6709 (NULL, &lat, &lon));
  /* Degrees-minutes-seconds form read as decimals is out of range: no place. */
  g_assert_false (eider_video_parse_iso6709 ("+125800+0773524/", &lat, &lon));
}

static void
probe_ok (const char     *path,
          EiderVideoInfo *info)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (eider_video_probe (path, TIMEOUT_MS, info, &error));
  g_assert_no_error (error);
}

static void
test_probe_udta (void)
{
  g_autofree char *path = make_solid ("udta.mov", 320, 240, 60);   /* 2.4 s */
  Atoms atoms = { .mvhd_unix = 1692794580,                        /* 2023-08-23T12:43:00Z */
                  .xyz = "+12.9700+077.5900/" };
  EiderVideoInfo info;

  add_atoms (path, &atoms);
  probe_ok (path, &info);
  g_assert_cmpint (info.creation_time, ==, G_GINT64_CONSTANT (1692794580000000));
  /* The movie header's time is UTC: its wall clock, offset "Z" (web). */
  g_assert_cmpstr (info.date_time, ==, "2023-08-23T12:43:00.000");
  g_assert_cmpstr (info.offset_time, ==, "Z");
  g_assert_true (info.has_location);
  g_assert_cmpfloat_with_epsilon (info.latitude, 12.97, 1e-9);
  g_assert_cmpfloat_with_epsilon (info.longitude, 77.59, 1e-9);
  g_assert_cmpint (info.duration, ==, 3);
  g_assert_cmpint (info.width, ==, 320);
  g_assert_cmpint (info.height, ==, 240);
}

static void
test_probe_keys (gconstpointer data)
{
  gboolean iso_meta = GPOINTER_TO_INT (data);
  g_autofree char *path = make_solid (iso_meta ? "keys-iso.mov" : "keys-qt.mov", 176, 144, 50);
  /* The keys win over the movie header and ©xyz, as in Ente's reader. */
  Atoms atoms = { .mvhd_unix = 1577836800,                        /* 2020-01-01T00:00:00Z */
                  .xyz = "+01.0000+002.0000/",
                  .keys_date = "2021-06-15T09:30:00-0400",        /* 13:30:00Z */
                  .keys_location = "-33.8568+151.2153+020.000/",
                  .iso_meta = iso_meta };
  EiderVideoInfo info;

  add_atoms (path, &atoms);
  probe_ok (path, &info);
  g_assert_cmpint (info.creation_time, ==, G_GINT64_CONSTANT (1623763800000000));
  /* The wall clock and the offset as Apple's key writes them. */
  g_assert_cmpstr (info.date_time, ==, "2021-06-15T09:30:00.000");
  g_assert_cmpstr (info.offset_time, ==, "-0400");
  g_assert_true (info.has_location);
  g_assert_cmpfloat_with_epsilon (info.latitude, -33.8568, 1e-9);
  g_assert_cmpfloat_with_epsilon (info.longitude, 151.2153, 1e-9);
  g_assert_cmpint (info.duration, ==, 2);   /* exactly 2.000 s */
  g_assert_cmpint (info.width, ==, 176);
  g_assert_cmpint (info.height, ==, 144);
}

static void
test_probe_plain (void)
{
  g_autofree char *path = make_solid ("plain.mov", 320, 240, 51);   /* 2.04 s */
  Atoms atoms = { .mvhd_unix = 0 };
  EiderVideoInfo info;

  /* A zero movie-header time means "none". */
  {
    g_autofree char *contents = NULL;
    gsize len;
    guint8 *mvhd;

    g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
    mvhd = NULL;
    for (gsize i = 0; i + 4 <= len && mvhd == NULL; i++)
      if (memcmp (contents + i, "mvhd", 4) == 0)
        mvhd = (guint8 *) contents + i;
    g_assert_nonnull (mvhd);
    memset (mvhd + 8, 0, 4);
    g_assert_true (g_file_set_contents (path, contents, len, NULL));
  }
  add_atoms (path, &atoms);
  probe_ok (path, &info);
  g_assert_cmpint (info.creation_time, ==, 0);
  g_assert_cmpstr (info.date_time, ==, "");
  g_assert_cmpstr (info.offset_time, ==, "");
  g_assert_false (info.has_location);
  g_assert_cmpint (info.duration, ==, 3);
  g_assert_cmpint (info.width, ==, 320);
  g_assert_cmpint (info.height, ==, 240);
}

static void
test_probe_exiftool (void)
{
  g_autofree char *exiftool = g_find_program_in_path ("exiftool");
  g_autofree char *path = NULL;
  g_autoptr(GError) error = NULL;
  int status = 0;
  EiderVideoInfo info;

  if (exiftool == NULL)
    {
      g_test_skip ("exiftool is not installed");
      return;
    }
  path = make_solid ("exiftool.mov", 160, 120, 20);   /* 0.8 s */
  {
    const char *argv[] = { exiftool, "-q", "-overwrite_original",
                           "-QuickTime:CreateDate=2019:03:04 05:06:07",
                           "-UserData:GPSCoordinates=48.8577 N, 2.2950 E",
                           path, NULL };

    g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL,
                                 NULL, NULL, NULL, NULL, &status, &error));
    g_assert_no_error (error);
    g_assert_true (g_spawn_check_wait_status (status, NULL));
  }
  probe_ok (path, &info);
  g_assert_cmpint (info.creation_time, ==, G_GINT64_CONSTANT (1551675967000000));
  g_assert_cmpstr (info.date_time, ==, "2019-03-04T05:06:07.000");
  g_assert_cmpstr (info.offset_time, ==, "Z");
  g_assert_true (info.has_location);
  g_assert_cmpfloat_with_epsilon (info.latitude, 48.8577, 1e-9);
  g_assert_cmpfloat_with_epsilon (info.longitude, 2.295, 1e-9);
  g_assert_cmpint (info.duration, ==, 1);

  /* Apple's keys on top: they take precedence. */
  {
    const char *argv[] = { exiftool, "-q", "-overwrite_original",
                           "-Keys:CreationDate=2022:12:31 23:59:58+01:00",
                           "-Keys:GPSCoordinates=35.6586 N, 139.7454 E",
                           path, NULL };

    g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL,
                                 NULL, NULL, NULL, NULL, &status, &error));
    g_assert_no_error (error);
    g_assert_true (g_spawn_check_wait_status (status, NULL));
  }
  probe_ok (path, &info);
  g_assert_cmpint (info.creation_time, ==, G_GINT64_CONSTANT (1672527598000000));
  g_assert_cmpstr (info.date_time, ==, "2022-12-31T23:59:58.000");
  g_assert_cmpstr (info.offset_time, ==, "+0100");   /* exiftool writes it so */
  g_assert_cmpfloat_with_epsilon (info.latitude, 35.6586, 1e-9);
  g_assert_cmpfloat_with_epsilon (info.longitude, 139.7454, 1e-9);
}

static void
test_probe_webm (void)
{
  const char *colours[] = { "green", NULL };
  int frames[] = { 30 };   /* 1.2 s */
  gint64 before = g_get_real_time () / G_USEC_PER_SEC * G_USEC_PER_SEC;
  g_autofree char *path = make_clip ("clip.webm", "webmmux", 200, 100, colours, frames);
  gint64 after = g_get_real_time ();
  EiderVideoInfo info;

  probe_ok (path, &info);
  /* matroskamux writes the muxing time as DateUTC: read from GStreamer's tag. */
  g_assert_cmpint (info.creation_time, >=, before);
  g_assert_cmpint (info.creation_time, <=, after);
  g_assert_false (info.has_location);
  g_assert_cmpint (info.duration, ==, 2);
  g_assert_cmpint (info.width, ==, 200);
  g_assert_cmpint (info.height, ==, 100);
}

/* Thumbnails ---------------------------------------------------------------- */

typedef enum { RED, GREEN, BLUE } Colour;

static void
assert_colour (GdkPixbuf *pixbuf,
               Colour     colour)
{
  int w = gdk_pixbuf_get_width (pixbuf);
  int h = gdk_pixbuf_get_height (pixbuf);
  const guint8 *p = gdk_pixbuf_read_pixels (pixbuf) +
                    (gsize) (h / 2) * gdk_pixbuf_get_rowstride (pixbuf) +
                    (gsize) (w / 2) * gdk_pixbuf_get_n_channels (pixbuf);
  int want[3] = { colour == RED ? 255 : 0, colour == GREEN ? 255 : 0, colour == BLUE ? 255 : 0 };

  g_test_message ("centre pixel %d,%d,%d", p[0], p[1], p[2]);
  for (int i = 0; i < 3; i++)
    g_assert_cmpint (ABS (p[i] - want[i]), <, 48);
}

static GdkPixbuf *
thumbnail_ok (const char *path,
              int         max_side)
{
  g_autoptr(GError) error = NULL;
  GdkPixbuf *pixbuf = eider_video_thumbnail (path, max_side, TIMEOUT_MS, &error);

  g_assert_no_error (error);
  g_assert_nonnull (pixbuf);
  g_assert_false (gdk_pixbuf_get_has_alpha (pixbuf));
  return pixbuf;
}

static void
test_thumbnail_at_one_second (void)
{
  /* red until 0.48 s (the only key frame is the first), green until
   * 0.8 s, blue from 0.8 s to 2.0 s: the frame at 1 s is blue, while a seek
   * to the key frame before it would give red, and the frame at 0.5 s green. */
  const char *colours[] = { "red", "green", "blue", NULL };
  int frames[] = { 12, 8, 30 };
  g_autofree char *mp4 = make_clip ("steps.mov", "qtmux", 320, 240, colours, frames);
  g_autofree char *webm = make_clip ("steps.webm", "webmmux", 320, 240, colours, frames);
  g_autoptr(GdkPixbuf) a = thumbnail_ok (mp4, 720);
  g_autoptr(GdkPixbuf) b = thumbnail_ok (webm, 720);

  g_assert_cmpint (gdk_pixbuf_get_width (a), ==, 320);
  g_assert_cmpint (gdk_pixbuf_get_height (a), ==, 240);
  assert_colour (a, BLUE);
  assert_colour (b, BLUE);
}

static void
test_thumbnail_short (void)
{
  /* 0.5 s: red for 0.2 s, then blue; the first frame is wanted. */
  const char *colours[] = { "red", "blue", NULL };
  int short_frames[] = { 5, 7 };
  /* Exactly 1.0 s: there is no frame at 1 s, so the first one. */
  int second_frames[] = { 12, 13 };
  g_autofree char *short_clip = make_clip ("short.mov", "qtmux", 160, 120, colours, short_frames);
  g_autofree char *second = make_clip ("second.mov", "qtmux", 160, 120, colours, second_frames);
  g_autoptr(GdkPixbuf) a = thumbnail_ok (short_clip, 720);
  g_autoptr(GdkPixbuf) b = thumbnail_ok (second, 720);
  EiderVideoInfo info;

  probe_ok (short_clip, &info);
  g_assert_cmpint (info.duration, ==, 1);   /* ceil (0.48) */
  assert_colour (a, RED);
  assert_colour (b, RED);
}

static void
test_thumbnail_scaled (void)
{
  g_autofree char *wide = make_solid ("wide.mov", 640, 480, 30);
  g_autofree char *tall = make_solid ("tall.mov", 240, 320, 30);
  g_autoptr(GdkPixbuf) a = thumbnail_ok (wide, 160);
  g_autoptr(GdkPixbuf) b = thumbnail_ok (tall, 100);

  g_assert_cmpint (gdk_pixbuf_get_width (a), ==, 160);
  g_assert_cmpint (gdk_pixbuf_get_height (a), ==, 120);
  g_assert_cmpint (gdk_pixbuf_get_width (b), ==, 75);
  g_assert_cmpint (gdk_pixbuf_get_height (b), ==, 100);
  assert_colour (a, RED);
  assert_colour (b, RED);
}

/* Broken files ---------------------------------------------------------------- */

static void
assert_fails_quickly (const char *path,
                      GQuark      domain,
                      int         code)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GdkPixbuf) pixbuf = NULL;
  EiderVideoInfo info = { .width = 99 };
  gint64 start = g_get_monotonic_time ();

  g_assert_false (eider_video_probe (path, 3000, &info, &error));
  g_assert_error (error, domain, code);
  g_test_message ("probe: %s", error->message);
  g_assert_cmpint (info.width, ==, 0);
  g_clear_error (&error);
  pixbuf = eider_video_thumbnail (path, 720, 3000, &error);
  g_assert_null (pixbuf);
  g_assert_error (error, domain, code);
  g_test_message ("thumbnail: %s", error->message);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 2 * 3000 * 1000 + 500000);
}

static void
test_broken (void)
{
  g_autofree char *good = make_solid ("good.mov", 320, 240, 50);
  g_autofree char *truncated = tmp_path ("truncated.mp4");
  g_autofree char *garbage = tmp_path ("garbage.mp4");
  g_autofree char *empty = tmp_path ("empty.mp4");
  g_autofree char *text = tmp_path ("text.mov");
  g_autofree char *missing = tmp_path ("missing.mp4");
  g_autofree char *contents = NULL;
  g_autoptr(GByteArray) junk = g_byte_array_new ();
  g_autoptr(GRand) rand = g_rand_new_with_seed (6709);
  gsize len = 0;

  /* qtmux puts moov last: cut the file in the middle of mdat. */
  g_assert_true (g_file_get_contents (good, &contents, &len, NULL));
  g_assert_true (g_file_set_contents (truncated, contents, len / 2, NULL));

  /* A real ftyp, then atoms with random sizes and random bodies. */
  g_byte_array_append (junk, (const guint8 *) contents, get_be32 ((guint8 *) contents));
  for (int i = 0; i < 64; i++)
    {
      static const char *types[] = { "moov", "trak", "mdia", "mvhd", "udta", "meta", "mdat", "stbl" };
      guint32 size = g_rand_int_range (rand, 0, 4096);

      append_be32 (junk, size);
      g_byte_array_append (junk, (const guint8 *) types[i % G_N_ELEMENTS (types)], 4);
      for (guint32 k = 0; k < 200; k++)
        {
          guint8 b = g_rand_int_range (rand, 0, 256);

          g_byte_array_append (junk, &b, 1);
        }
    }
  g_assert_true (g_file_set_contents (garbage, (const char *) junk->data, junk->len, NULL));
  g_assert_true (g_file_set_contents (empty, "", 0, NULL));
  g_assert_true (g_file_set_contents (text, "this is not a movie\n", -1, NULL));

  assert_fails_quickly (truncated, EIDER_VIDEO_ERROR, EIDER_VIDEO_ERROR_FAILED);
  assert_fails_quickly (garbage, EIDER_VIDEO_ERROR, EIDER_VIDEO_ERROR_FAILED);
  assert_fails_quickly (empty, EIDER_VIDEO_ERROR, EIDER_VIDEO_ERROR_FAILED);
  assert_fails_quickly (text, EIDER_VIDEO_ERROR, EIDER_VIDEO_ERROR_FAILED);
  assert_fails_quickly (missing, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
}

static void
test_timeout (void)
{
  g_autofree char *path = make_solid ("timeout.mov", 320, 240, 50);
  g_autoptr(GError) error = NULL;
  g_autoptr(GdkPixbuf) pixbuf = NULL;
  EiderVideoInfo info;
  gint64 start = g_get_monotonic_time ();

  /* One millisecond is not enough to discover or preroll anything. */
  g_assert_false (eider_video_probe (path, 1, &info, &error));
  g_assert_error (error, EIDER_VIDEO_ERROR, EIDER_VIDEO_ERROR_TIMED_OUT);
  g_clear_error (&error);
  pixbuf = eider_video_thumbnail (path, 720, 1, &error);
  g_assert_null (pixbuf);
  g_assert_error (error, EIDER_VIDEO_ERROR, EIDER_VIDEO_ERROR_TIMED_OUT);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 1500000);
}

/* Threads ---------------------------------------------------------------------- */

typedef struct
{
  char   *path;
  int     width;
  int     height;
  Colour  colour;
} Job;

static gpointer
job_worker (gpointer data)
{
  Job *job = data;

  for (int round = 0; round < 3; round++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GdkPixbuf) pixbuf = NULL;
      EiderVideoInfo info;

      g_assert_true (eider_video_probe (job->path, TIMEOUT_MS, &info, &error));
      g_assert_no_error (error);
      g_assert_cmpint (info.width, ==, job->width);
      g_assert_cmpint (info.height, ==, job->height);
      g_assert_cmpint (info.duration, ==, 2);
      pixbuf = eider_video_thumbnail (job->path, 720, TIMEOUT_MS, &error);
      g_assert_no_error (error);
      g_assert_cmpint (gdk_pixbuf_get_width (pixbuf), ==, job->width);
      assert_colour (pixbuf, job->colour);
    }
  return NULL;
}

static void
test_threads (void)
{
  static const char *names[] = { "red", "green", "blue" };
  Job jobs[6];
  GThread *threads[G_N_ELEMENTS (jobs)];

  for (guint i = 0; i < G_N_ELEMENTS (jobs); i++)
    {
      g_autofree char *name = g_strdup_printf ("thread-%u.%s", i, i % 2 ? "webm" : "mov");
      const char *colours[] = { names[i % 3], NULL };
      int frames[] = { 40 };

      jobs[i].width = 64 + 16 * i;
      jobs[i].height = 48 + 8 * i;
      jobs[i].colour = i % 3;
      jobs[i].path = make_clip (name, i % 2 ? "webmmux" : "qtmux",
                                jobs[i].width, jobs[i].height, colours, frames);
    }
  for (guint i = 0; i < G_N_ELEMENTS (jobs); i++)
    threads[i] = g_thread_new ("video", job_worker, &jobs[i]);
  for (guint i = 0; i < G_N_ELEMENTS (jobs); i++)
    {
      g_thread_join (threads[i]);
      g_free (jobs[i].path);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  int ret;

  g_test_init (&argc, &argv, NULL);

  tmp_dir = g_dir_make_tmp ("eider-video-XXXXXX", &error);
  g_assert_no_error (error);

  g_test_add_func ("/video/iso6709", test_iso6709);
  g_test_add_func ("/video/probe/udta", test_probe_udta);
  g_test_add_data_func ("/video/probe/keys-quicktime-meta", GINT_TO_POINTER (FALSE), test_probe_keys);
  g_test_add_data_func ("/video/probe/keys-iso-meta", GINT_TO_POINTER (TRUE), test_probe_keys);
  g_test_add_func ("/video/probe/plain", test_probe_plain);
  g_test_add_func ("/video/probe/exiftool", test_probe_exiftool);
  g_test_add_func ("/video/probe/webm", test_probe_webm);
  g_test_add_func ("/video/thumbnail/one-second", test_thumbnail_at_one_second);
  g_test_add_func ("/video/thumbnail/short", test_thumbnail_short);
  g_test_add_func ("/video/thumbnail/scaled", test_thumbnail_scaled);
  g_test_add_func ("/video/broken", test_broken);
  g_test_add_func ("/video/timeout", test_timeout);
  g_test_add_func ("/video/threads", test_threads);

  ret = g_test_run ();
  test_rm_rf (tmp_dir);
  g_free (tmp_dir);
  return ret;
}
