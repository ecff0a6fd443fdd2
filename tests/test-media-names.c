/* test-media-names.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * What Ente reads from file names alone: dates (spec/ente-upload.md §16.6
 * "Filename dates"), sidecar names ("Sidecar-name matches") and live-photo
 * pairs and zip entries ("Live-photo pairing"). Local time is pinned to
 * Asia/Kolkata, or to POSIX rules for the daylight-saving cases, so the
 * results do not depend on the machine.
 */
#include "config.h"

#include <string.h>

#include "eider-media-names.h"

#define MIB ((gint64) 1024 * 1024)
#define HOUR_US ((gint64) 3600 * G_USEC_PER_SEC)

static void
assert_date (const char *name,
             int         year,
             int         month,
             int         day,
             int         hour,
             int         minute,
             int         second)
{
  g_autoptr(GDateTime) date = NULL;

  {
    g_autofree char *shown = g_strescape (name, NULL);

    g_test_message ("%s", shown);
  }
  g_assert_true (eider_media_date_from_filename (name, &date));
  g_assert_nonnull (date);
  g_assert_cmpint (g_date_time_get_year (date), ==, year);
  g_assert_cmpint (g_date_time_get_month (date), ==, month);
  g_assert_cmpint (g_date_time_get_day_of_month (date), ==, day);
  g_assert_cmpint (g_date_time_get_hour (date), ==, hour);
  g_assert_cmpint (g_date_time_get_minute (date), ==, minute);
  g_assert_cmpint (g_date_time_get_second (date), ==, second);
  g_assert_cmpint (g_date_time_get_microsecond (date), ==, 0);
}

static void
assert_no_date (const char *name)
{
  g_autoptr(GDateTime) date = NULL;

  {
    g_autofree char *shown = g_strescape (name, NULL);

    g_test_message ("%s", shown);
  }
  g_assert_false (eider_media_date_from_filename (name, &date));
  g_assert_null (date);
}

/* §16.6 "Filename dates" */
static const struct
{
  const char *name;
  int         ymdhms[6];
} spec_dates[] = {
  { "Screenshot_20220807-195908_Firefox", { 2022, 8, 7, 19, 59, 8 } },
  { "2022-02-18 16.00.12-DCMX.png", { 2022, 2, 18, 16, 0, 12 } },
  { "20221107_231730", { 2022, 11, 7, 23, 17, 30 } },
  { "IMG_20210921_144423_783", { 2021, 9, 21, 14, 44, 23 } },
  { "2019-10-31 155703", { 2019, 10, 31, 0, 0, 0 } },
  { "Screenshot_2022-06-21-16-51-29-164_newFormat.heic", { 2022, 6, 21, 16, 51, 29 } },
  { "signal-2022-12-17-15-16-04-718.jpg", { 2022, 12, 17, 15, 16, 4 } },
  { "20170923_220934000_iOS.jpg", { 2017, 9, 23, 22, 9, 34 } },
};

static const char * const spec_not_dates[] = {
  "Snapchat-431959199.mp4.",
  "Snapchat-400000000.mp4",
  "Snapchat-100-10-20-19-15-12",
};

static void
test_date_spec_table (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (spec_dates); i++)
    {
      const int *e = spec_dates[i].ymdhms;

      assert_date (spec_dates[i].name, e[0], e[1], e[2], e[3], e[4], e[5]);
    }

  for (guint i = 0; i < G_N_ELEMENTS (spec_not_dates); i++)
    assert_no_date (spec_not_dates[i]);
}

/* The same table from several threads at once; returns the mismatches. */
static gpointer
spec_table_worker (gpointer data)
{
  guint bad = 0;

  for (guint round = 0; round < 200; round++)
    {
      for (guint i = 0; i < G_N_ELEMENTS (spec_dates); i++)
        {
          g_autoptr(GDateTime) date = NULL;
          const int *e = spec_dates[i].ymdhms;

          if (!eider_media_date_from_filename (spec_dates[i].name, &date) ||
              g_date_time_get_year (date) != e[0] || g_date_time_get_month (date) != e[1] ||
              g_date_time_get_day_of_month (date) != e[2] || g_date_time_get_hour (date) != e[3] ||
              g_date_time_get_minute (date) != e[4] || g_date_time_get_second (date) != e[5])
            bad++;
        }
      for (guint i = 0; i < G_N_ELEMENTS (spec_not_dates); i++)
        if (eider_media_date_from_filename (spec_not_dates[i], NULL))
          bad++;
    }

  return GUINT_TO_POINTER (bad);
}

static void
test_date_prefixes (void)
{
  g_autoptr(GDateTime) date = NULL;

  /* WhatsApp: no time in the name gives midnight */
  assert_date ("IMG-20171218-WA0028.jpg", 2017, 12, 18, 0, 0, 0);
  assert_date ("VID-20190101-WA0001.mp4", 2019, 1, 1, 0, 0, 0);
  /* An empty second field falls through to the digit groups. */
  assert_date ("IMG--2020-05-06.jpg", 2020, 5, 6, 0, 0, 0);

  /* Android screenshots, fused */
  assert_date ("Screenshot_20181227-152914.jpg", 2018, 12, 27, 15, 29, 14);

  /* Signal's older layout, YYYY-MM-DD-HHmmss */
  assert_date ("signal-2018-08-21-100217.jpg", 2018, 8, 21, 10, 2, 17);
  /* Six fields: Ente reads the absent seventh as "undefined", so the
   * seconds are unreadable and the time is dropped. */
  assert_date ("signal-2022-12-17-15-16", 2022, 12, 17, 0, 0, 0);
  assert_date ("signal-2022-12-17-15-1604", 2022, 12, 17, 15, 16, 4);

  /* _iOS needs exactly three '_' parts, else the digit groups decide. */
  assert_date ("20230427_145116000_iOS.HEIC", 2023, 4, 27, 14, 51, 16);
  assert_no_date ("x_20230427_145116000_iOS.HEIC");

  /* Leading and trailing white space is ignored, as String.trim() does. */
  assert_date ("  IMG-20171218-WA0028.jpg\t", 2017, 12, 18, 0, 0, 0);

  /* An invalid time is dropped, an invalid date is not a date. */
  assert_date ("20220101_256000.jpg", 2022, 1, 1, 0, 0, 0);
  assert_date ("2022-01-01 10-61-00.jpg", 2022, 1, 1, 0, 0, 0);
  assert_no_date ("20220230_120000.jpg");
  assert_no_date ("2022-13-01 10-00-00.jpg");
  assert_no_date ("IMG_1234.jpg");
  assert_no_date ("holiday.jpg");
  assert_no_date ("");

  /* Undecodable bytes do not upset the parser. */
  assert_date ("\xff\xfe" "20200202_020202.jpg", 2020, 2, 2, 2, 2, 2);

  /* out is optional */
  g_assert_true (eider_media_date_from_filename ("20221107_231730", NULL));
  g_assert_false (eider_media_date_from_filename ("holiday.jpg", &date));
}

static void
test_date_range (void)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autoptr(GDateTime) ahead = g_date_time_add_days (now, 2);
  g_autoptr(GDateTime) behind = g_date_time_add_days (now, -1);
  g_autofree char *future = g_date_time_format (ahead, "%Y%m%d_%H%M%S.jpg");
  g_autofree char *past = g_date_time_format (behind, "%Y%m%d_%H%M%S.jpg");
  g_autofree char *next_year = g_strdup_printf ("IMG-%d1231-WA0001.jpg",
                                                g_date_time_get_year (now) + 1);
  g_autofree char *too_far = g_strdup_printf ("%d-01-01 00.00.00.jpg",
                                              g_date_time_get_year (now) + 2);

  assert_no_date (future);
  assert_no_date (next_year);
  assert_no_date (too_far);
  assert_date (past, g_date_time_get_year (behind), g_date_time_get_month (behind),
               g_date_time_get_day_of_month (behind), g_date_time_get_hour (behind),
               g_date_time_get_minute (behind), g_date_time_get_second (behind));

  assert_no_date ("19891231_235959.jpg");
  assert_no_date ("IMG-19890615-WA0001.jpg");
  assert_date ("19900101_000000.jpg", 1990, 1, 1, 0, 0, 0);
}

static void
test_date_local_time (void)
{
  g_autoptr(GDateTime) date = NULL;
  g_autoptr(GTimeZone) tz = g_time_zone_new_local ();

  g_assert_true (eider_media_date_from_filename ("20221107_231730", &date));

  /* Local time, whatever the zone; Asia/Kolkata is +05:30 when installed. */
  if (g_str_equal (g_time_zone_get_identifier (tz), "Asia/Kolkata"))
    {
      g_assert_cmpint (g_date_time_get_utc_offset (date), ==, (5 * 3600 + 1800) * G_TIME_SPAN_SECOND);
      g_assert_cmpint (g_date_time_to_unix (date), ==, 1667843250);
    }
  else
    {
      g_test_message ("no Asia/Kolkata rules here; checked local components only");
    }
}

static void
test_date_daylight_saving (void)
{
  g_autoptr(GDateTime) date = NULL;

  /* Central European rules, without any tzdata file */
  g_setenv ("TZ", "CET-1CEST,M3.5.0,M10.5.0/3", TRUE);

  /* 02:30 happens twice on 2022-10-30: JavaScript takes the earlier one. */
  g_assert_true (eider_media_date_from_filename ("20221030_023000.jpg", &date));
  g_assert_cmpint (g_date_time_get_hour (date), ==, 2);
  g_assert_cmpint (g_date_time_get_minute (date), ==, 30);
  g_assert_cmpint (g_date_time_get_utc_offset (date), ==, 2 * G_TIME_SPAN_HOUR);
  g_assert_cmpint (g_date_time_to_unix (date), ==, 1667089800);
  g_clear_pointer (&date, g_date_time_unref);

  /* 02:30 never happens on 2022-03-27: the time does not round-trip. */
  assert_date ("20220327_023000.jpg", 2022, 3, 27, 0, 0, 0);
  assert_date ("20220327_013000.jpg", 2022, 3, 27, 1, 30, 0);

  /* A zone whose clocks jump from 00:00 to 01:00 on 2022-03-13: even
   * midnight does not exist, and the date lands at 01:00. */
  g_setenv ("TZ", "AAA5BBB,M3.2.0/0,M11.1.0/1", TRUE);
  assert_date ("20220313_003000.jpg", 2022, 3, 13, 1, 0, 0);
  assert_date ("IMG-20220313-WA0001.jpg", 2022, 3, 13, 1, 0, 0);
  assert_date ("IMG-20220314-WA0001.jpg", 2022, 3, 14, 0, 0, 0);

  g_setenv ("TZ", "Asia/Kolkata", TRUE);
}

static void
test_date_threads (void)
{
  GThread *threads[4];

  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("names", spec_table_worker, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    g_assert_cmpuint (GPOINTER_TO_UINT (g_thread_join (threads[i])), ==, 0);
}

static void
test_sidecar_spec_table (void)
{
  g_assert_true (eider_media_sidecar_matches ("IMG20210211174722(1).jpg",
                                              "IMG20210211174722.jpg(1).json"));
  g_assert_true (eider_media_sidecar_matches ("IMG_1159.HEIC",
                                              "IMG_1159.HEIC.supplemental-metadata.json"));
  g_assert_true (eider_media_sidecar_matches ("IMG20210211125718-edited.jpg",
                                              "IMG20210211125718.jpg.json"));
  g_assert_true (eider_media_sidecar_matches ("skytree (2).jpg",
                                              "skytree (2).jpg.supplemental-metadata.json"));
}

static void
test_sidecar_more (void)
{
  /* plain */
  g_assert_true (eider_media_sidecar_matches ("IMG_1159.HEIC", "IMG_1159.HEIC.json"));
  /* numbered, in the newer layout */
  g_assert_true (eider_media_sidecar_matches ("IMG_1234(1).jpg",
                                              "IMG_1234.jpg.supplemental-metadata(1).json"));
  /* numbered and edited */
  g_assert_true (eider_media_sidecar_matches ("IMG_1234-edited(2).jpg", "IMG_1234.jpg(2).json"));
  /* clipped to 46 characters */
  g_assert_true (eider_media_sidecar_matches (
    "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOP.jpg",
    "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ.json"));
  g_assert_true (eider_media_sidecar_matches (
    "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOP(3).jpg",
    "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ(3).json"));
  /* .supplemental-metadata clipped to 46, down to its "." for a 45-character name */
  g_assert_cmpuint (strlen ("PXL_20230101_123456789.jpg"), ==, 26);
  g_assert_true (eider_media_sidecar_matches ("PXL_20230101_123456789.jpg",
                                              "PXL_20230101_123456789.jpg.supplemental-metada.json"));
  g_assert_true (eider_media_sidecar_matches ("PXL_20230101_123456789(4).jpg",
                                              "PXL_20230101_123456789.jpg.supplemental-metada(4).json"));
  g_assert_false (eider_media_sidecar_matches ("PXL_20230101_123456789.jpg",
                                               "PXL_20230101_123456789.jpg.supplemental-metada(4).json"));
  g_assert_cmpuint (strlen ("PXL_20230101_123456789_abcdefghijklmnopqr.jpg"), ==, 45);
  g_assert_true (eider_media_sidecar_matches ("PXL_20230101_123456789_abcdefghijklmnopqr.jpg",
                                              "PXL_20230101_123456789_abcdefghijklmnopqr.jpg..json"));
  /* the extension .json in any case */
  g_assert_true (eider_media_sidecar_matches ("IMG_1.jpg", "IMG_1.jpg.JSON"));
  /* no extension */
  g_assert_true (eider_media_sidecar_matches ("IMG_1", "IMG_1.json"));

  /* non-matches */
  g_assert_false (eider_media_sidecar_matches ("IMG_1234.jpg", "IMG_1235.jpg.json"));
  g_assert_false (eider_media_sidecar_matches ("IMG_1234.jpg", "IMG_1234.jpg"));
  g_assert_false (eider_media_sidecar_matches ("IMG_1234.jpg", "json"));
  g_assert_false (eider_media_sidecar_matches ("IMG_1234(1).jpg", "IMG_1234.jpg.json"));
  g_assert_false (eider_media_sidecar_matches ("IMG_1234.jpg", "IMG_1234.jpg(1).json"));
  g_assert_false (eider_media_sidecar_matches ("img_1234.jpg", "IMG_1234.jpg.json"));
  g_assert_false (eider_media_sidecar_matches ("IMG_1234.jpg", "IMG_1234.json"));
  g_assert_false (eider_media_sidecar_matches ("IMG_1234.jpg", "IMG_1234-edited.jpg.json"));
  /* (N) is moved behind the extension, so the media-side form is no key */
  g_assert_false (eider_media_sidecar_matches ("IMG_1234(1).jpg", "IMG_1234(1).jpg.json"));
  /* clipping counts UTF-16 units (an emoji is two): cutting through one
   * matches nothing, and bytes are not what is counted */
  {
    g_autofree char *a45 = g_strnfill (45, 'a');
    g_autofree char *a36 = g_strnfill (36, 'a');
    g_autofree char *media45 = g_strconcat (a45, "\xf0\x9f\x98\x80.jpg", NULL);
    g_autofree char *sidecar45 = g_strconcat (a45, ".json", NULL);
    g_autofree char *media36 = g_strconcat (a36, "\xf0\x9f\x98\x80.jpg", NULL);
    g_autofree char *sidecar36 = g_strconcat (a36, "\xf0\x9f\x98\x80.jpg.sup.json", NULL);
    g_autofree char *sidecar36_bytes = g_strconcat (a36, "\xf0\x9f\x98\x80.j.json", NULL);

    g_assert_false (eider_media_sidecar_matches (media45, sidecar45));
    g_assert_true (eider_media_sidecar_matches (media36, sidecar36));
    g_assert_false (eider_media_sidecar_matches (media36, sidecar36_bytes));
  }
}

static void
test_live_photo_names (void)
{
  /* §16.6 pairs */
  g_assert_true (eider_media_live_photo_names_pair ("IMG_0001.HEIC", "IMG_0001.MOV"));
  g_assert_true (eider_media_live_photo_names_pair ("IMG_0001_3.jpg", "IMG_0001.mov"));
  g_assert_true (eider_media_live_photo_names_pair ("PXL_1.mp4.jpg", "PXL_1.mp4"));
  g_assert_true (eider_media_live_photo_names_pair ("IMG_0001.HEIC", "IMG_0001_HVEC.MOV"));

  /* more of the stripping rules */
  g_assert_true (eider_media_live_photo_names_pair ("IMG_0001_hvec.heic", "IMG_0001.mov"));
  g_assert_true (eider_media_live_photo_names_pair ("IMG_0001.jpeg", "IMG_0001_3.mp4"));
  g_assert_true (eider_media_live_photo_names_pair ("PXL_1.MP4.jpg", "PXL_1.MP4"));
  g_assert_true (eider_media_live_photo_names_pair ("PXL_1.mp4.jpg", "PXL_1.MP4"));
  g_assert_true (eider_media_live_photo_names_pair ("a.WebP", "a.3G2"));
  g_assert_true (eider_media_live_photo_names_pair ("a.tiff", "a.mp"));

  /* not pairs */
  g_assert_false (eider_media_live_photo_names_pair ("IMG_0001.HEIC", "IMG_0002.MOV"));
  g_assert_false (eider_media_live_photo_names_pair ("IMG_0001.MOV", "IMG_0001.HEIC"));
  g_assert_false (eider_media_live_photo_names_pair ("IMG_0001.HEIC", "IMG_0001.HEIC"));
  g_assert_false (eider_media_live_photo_names_pair ("IMG_0001.txt", "IMG_0001.MOV"));
  g_assert_false (eider_media_live_photo_names_pair ("IMG_0001.HEIC", "IMG_0001.dng"));
  g_assert_false (eider_media_live_photo_names_pair ("IMG_0001", "IMG_0001.MOV"));
  g_assert_false (eider_media_live_photo_names_pair ("img_0001.HEIC", "IMG_0001.MOV"));
  g_assert_false (eider_media_live_photo_names_pair ("IMG_0001_Hvec.HEIC", "IMG_0001.MOV"));
  /* only one suffix is removed, and the video keeps its ".jpg" */
  g_assert_false (eider_media_live_photo_names_pair ("IMG_0001_3_HVEC.HEIC", "IMG_0001.MOV"));
  g_assert_false (eider_media_live_photo_names_pair ("PXL_1.jpg", "PXL_1.jpg.mp4"));
  g_assert_false (eider_media_live_photo_names_pair ("PXL_1.mov.jpg", "PXL_1.mp4"));
}

static void
test_live_photo_pair (void)
{
  gint64 t = (gint64) 1700000000 * G_USEC_PER_SEC;

  g_assert_true (eider_media_live_photo_pair ("/p/Trips/IMG_0001.HEIC", 3 * MIB, t,
                                              "/p/Trips/IMG_0001.MOV", 4 * MIB, t + 2 * G_USEC_PER_SEC));
  g_assert_true (eider_media_live_photo_pair ("/p/Trips/IMG_0001_3.jpg", 3 * MIB, t,
                                              "/p/Trips/IMG_0001.mov", 4 * MIB, t));
  g_assert_true (eider_media_live_photo_pair ("/p/Trips/PXL_1.mp4.jpg", 1 * MIB, t,
                                              "/p/Trips/PXL_1.mp4", 2 * MIB, t));
  g_assert_true (eider_media_live_photo_pair ("/p/Trips/IMG_0001.HEIC", 3 * MIB, t,
                                              "/p/Trips/IMG_0001_HVEC.MOV", 4 * MIB, t));
  /* relative paths, and names without a directory */
  g_assert_true (eider_media_live_photo_pair ("IMG_0001.HEIC", 1, t, "IMG_0001.MOV", 1, t));

  /* different directories */
  g_assert_false (eider_media_live_photo_pair ("/p/Trips/IMG_0001.HEIC", 3 * MIB, t,
                                               "/p/Trips/2019/IMG_0001.MOV", 4 * MIB, t));
  g_assert_false (eider_media_live_photo_pair ("/p/a/IMG_0001.HEIC", 3 * MIB, t,
                                               "/p/b/IMG_0001.MOV", 4 * MIB, t));
  /* a 25 MiB video, and the 20 MiB limit on each side */
  g_assert_false (eider_media_live_photo_pair ("/p/Trips/IMG_0001.HEIC", 3 * MIB, t,
                                               "/p/Trips/IMG_0001.MOV", 25 * MIB, t));
  g_assert_true (eider_media_live_photo_pair ("/p/Trips/IMG_0001.HEIC", 20 * MIB, t,
                                              "/p/Trips/IMG_0001.MOV", 20 * MIB, t));
  g_assert_false (eider_media_live_photo_pair ("/p/Trips/IMG_0001.HEIC", 20 * MIB + 1, t,
                                               "/p/Trips/IMG_0001.MOV", 1 * MIB, t));
  g_assert_false (eider_media_live_photo_pair ("/p/Trips/IMG_0001.HEIC", 1 * MIB, t,
                                               "/p/Trips/IMG_0001.MOV", 20 * MIB + 1, t));
  g_assert_false (eider_media_live_photo_pair ("/p/Trips/IMG_0001.HEIC", -1, t,
                                               "/p/Trips/IMG_0001.MOV", 1 * MIB, t));
  /* dates: within a day, in either order; unknown is never paired */
  g_assert_true (eider_media_live_photo_pair ("/p/IMG_0001.HEIC", MIB, t,
                                              "/p/IMG_0001.MOV", MIB, t + 24 * HOUR_US - 1));
  g_assert_true (eider_media_live_photo_pair ("/p/IMG_0001.HEIC", MIB, t + 23 * HOUR_US,
                                              "/p/IMG_0001.MOV", MIB, t));
  g_assert_false (eider_media_live_photo_pair ("/p/IMG_0001.HEIC", MIB, t,
                                               "/p/IMG_0001.MOV", MIB, t + 24 * HOUR_US));
  g_assert_false (eider_media_live_photo_pair ("/p/IMG_0001.HEIC", MIB, t + 25 * HOUR_US,
                                               "/p/IMG_0001.MOV", MIB, t));
  g_assert_false (eider_media_live_photo_pair ("/p/IMG_0001.HEIC", MIB, 0,
                                               "/p/IMG_0001.MOV", MIB, t));
  g_assert_false (eider_media_live_photo_pair ("/p/IMG_0001.HEIC", MIB, t,
                                               "/p/IMG_0001.MOV", MIB, 0));
  g_assert_false (eider_media_live_photo_pair ("/p/IMG_0001.HEIC", MIB, G_MININT64 + 1,
                                               "/p/IMG_0001.MOV", MIB, G_MAXINT64));
  /* the names still decide */
  g_assert_false (eider_media_live_photo_pair ("/p/IMG_0001.HEIC", MIB, t,
                                               "/p/IMG_0002.MOV", MIB, t));
}

static void
test_live_photo_entries (void)
{
  struct {
    const char *image;
    const char *video;
    const char *image_entry;
    const char *video_entry;
  } rows[] = {
    { "IMG_0001.HEIC", "IMG_0001.MOV", "image.HEIC", "video.MOV" },
    { "/p/Trips/IMG_0001_3.jpg", "/p/Trips/IMG_0001.mov", "image.jpg", "video.mov" },
    { "PXL_1.mp4.jpg", "PXL_1.mp4", "image.jpg", "video.mp4" },
    { "a.JpEg", "a.Mp4", "image.JpEg", "video.Mp4" },
    { "noext", "/dir.d/noext", "image", "video" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (rows); i++)
    {
      g_autofree char *image_entry = NULL;
      g_autofree char *video_entry = NULL;

      eider_media_live_photo_entry_names (rows[i].image, rows[i].video, &image_entry, &video_entry);
      g_assert_cmpstr (image_entry, ==, rows[i].image_entry);
      g_assert_cmpstr (video_entry, ==, rows[i].video_entry);
    }
}

int
main (int   argc,
      char *argv[])
{
  /* before any GDateTime exists */
  g_setenv ("TZ", "Asia/Kolkata", TRUE);

  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/media-names/date/spec-table", test_date_spec_table);
  g_test_add_func ("/media-names/date/prefixes", test_date_prefixes);
  g_test_add_func ("/media-names/date/range", test_date_range);
  g_test_add_func ("/media-names/date/local-time", test_date_local_time);
  g_test_add_func ("/media-names/date/daylight-saving", test_date_daylight_saving);
  g_test_add_func ("/media-names/date/threads", test_date_threads);
  g_test_add_func ("/media-names/sidecar/spec-table", test_sidecar_spec_table);
  g_test_add_func ("/media-names/sidecar/more", test_sidecar_more);
  g_test_add_func ("/media-names/live-photo/names", test_live_photo_names);
  g_test_add_func ("/media-names/live-photo/pair", test_live_photo_pair);
  g_test_add_func ("/media-names/live-photo/entries", test_live_photo_entries);

  return g_test_run ();
}
