/* test-exif.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <math.h>
#include <string.h>
#include <glib/gstdio.h>
#include <gdk-pixbuf/gdk-pixbuf.h>

#include "eider-exif.h"
#include "eider-test-server-harness.h"

static char *tmpdir;

static char *
make_jpeg (const char *name)
{
  g_autoptr(GdkPixbuf) pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, 64, 32);
  char *path = g_build_filename (tmpdir, name, NULL);

  gdk_pixbuf_fill (pixbuf, 0x336699ff);
  g_assert_true (gdk_pixbuf_save (pixbuf, path, "jpeg", NULL, NULL));

  return path;
}

static GBytes *
read_file (const char *path)
{
  g_autofree char *data = NULL;
  gsize len = 0;

  g_assert_true (g_file_get_contents (path, &data, &len, NULL));

  return g_bytes_new_take (g_steal_pointer (&data), len);
}

static void
test_date_offset (void)
{
  g_autofree char *text = NULL;
  gint64 us = 0;

  /* An offset gives the true instant, whatever the local zone. */
  g_assert_true (eider_exif_parse_date ("2023:08:23 18:03:00", "250", "+05:30", NULL, &us, &text));
  g_assert_cmpint (us, ==, (gint64) 1692793980 * 1000000 + 250000);
  g_assert_cmpstr (text, ==, "2023-08-23T18:03:00.250");
  g_clear_pointer (&text, g_free);

  g_assert_true (eider_exif_parse_date ("2023:08:23 18:03:00", NULL, "-0800", NULL, &us, &text));
  g_assert_cmpint (us, ==, (gint64) 1692842580 * 1000000);
  g_assert_cmpstr (text, ==, "2023-08-23T18:03:00.000");
  g_clear_pointer (&text, g_free);

  g_assert_true (eider_exif_parse_date ("2023:08:23 16:03:00", "5", "Z", NULL, &us, NULL));
  g_assert_cmpint (us, ==, (gint64) 1692806580 * 1000000 + 500000);

  /* Only milliseconds survive, as in a JavaScript Date. */
  g_assert_true (eider_exif_parse_date ("2023:08:23 16:03:00", "123456", "+00:00", NULL, &us, NULL));
  g_assert_cmpint (us, ==, (gint64) 1692806580 * 1000000 + 123000);
}

static void
test_date_local (void)
{
  g_autoptr(GTimeZone) berlin = g_time_zone_new_identifier ("Europe/Berlin");
  gint64 us = 0;

  g_assert_nonnull (berlin);

  /* Without an offset: the uploading machine's wall clock (summer: +02:00). */
  g_assert_true (eider_exif_parse_date ("2023:08:23 18:03:00", NULL, NULL, berlin, &us, NULL));
  g_assert_cmpint (us, ==, (gint64) 1692806580 * 1000000);
  /* A blank or broken OffsetTime tag is no offset. */
  g_assert_true (eider_exif_parse_date ("2023:08:23 18:03:00", NULL, "   ", berlin, &us, NULL));
  g_assert_cmpint (us, ==, (gint64) 1692806580 * 1000000);
  g_assert_true (eider_exif_parse_date ("2023:08:23 18:03:00", NULL, "+5h", berlin, &us, NULL));
  g_assert_cmpint (us, ==, (gint64) 1692806580 * 1000000);

  /* 02:30 does not exist on 2023-03-26 in Berlin: the offset before the gap. */
  g_assert_true (eider_exif_parse_date ("2023:03:26 02:30:00", NULL, NULL, berlin, &us, NULL));
  g_assert_cmpint (us, ==, (gint64) 1679794200 * 1000000);
  /* 02:30 occurs twice on 2023-10-29: the earlier one. */
  g_assert_true (eider_exif_parse_date ("2023:10:29 02:30:00", NULL, NULL, berlin, &us, NULL));
  g_assert_cmpint (us, ==, (gint64) 1698539400 * 1000000);

  /* NULL means the process's local zone (TZ is Europe/Berlin in this test). */
  g_assert_true (eider_exif_parse_date ("2023:08:23 18:03:00", NULL, NULL, NULL, &us, NULL));
  g_assert_cmpint (us, ==, (gint64) 1692806580 * 1000000);
}

static void
test_date_rejected (void)
{
  static const char * const bad[] = {
    "0000:00:00 00:00:00", "    :  :     :  :  ", "", "2023:02:30 10:00:00",
    "2023:13:01 10:00:00", "2023:08:23 24:00:00", "2023:08:23", "2023:08:23 18:03:00 junk",
    "4501:01:01 00:00:00", "1970:01:01 00:00:00",
  };
  gint64 us = 42;

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    g_assert_false (eider_exif_parse_date (bad[i], NULL, "+00:00", NULL, &us, NULL));
  g_assert_false (eider_exif_parse_date (NULL, NULL, NULL, NULL, &us, NULL));
  g_assert_cmpint (us, ==, 42);
}

static void
test_parse_jpeg (void)
{
  g_autofree char *path = make_jpeg ("tags.jpg");
  const char *argv[] = {
    "exiftool", "-q", "-overwrite_original",
    "-DateTimeOriginal=0000:00:00 00:00:00",
    "-CreateDate=2021:12:31 23:59:59", "-SubSecTimeDigitized=07",
    "-OffsetTimeDigitized=-03:00", "-ModifyDate=2020:01:01 00:00:00",
    "-GPSLatitude=33.8568", "-GPSLatitudeRef=S", "-GPSLongitude=151.2153",
    "-GPSLongitudeRef=E", "-Orientation#=8", "-Make=  NIKON CORPORATION ",
    "-Model=NIKON D750   ", "-ImageDescription=  Opera House  ",
    "-ExifImageWidth=6016", "-ExifImageHeight=4016", path, NULL
  };
  g_autoptr(GBytes) bytes = NULL;
  g_auto(EiderExif) exif = { 0 };

  if (!test_run_tool (argv))
    return;
  bytes = read_file (path);

  g_assert_true (eider_exif_parse (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), &exif));
  /* DateTimeOriginal is invalid: DateTimeDigitized with its own sub-seconds and offset. */
  g_assert_true (exif.has_date);
  g_assert_cmpint (exif.date_us, ==, (gint64) 1640995199 * 1000000 + (gint64) 3 * 3600 * G_USEC_PER_SEC + 70000);
  g_assert_cmpstr (exif.date_time, ==, "2021-12-31T23:59:59.070");
  g_assert_cmpstr (exif.offset_time, ==, "-03:00");
  g_assert_true (exif.has_location);
  g_assert_cmpfloat_with_epsilon (exif.latitude, -33.8568, 1e-5);
  g_assert_cmpfloat_with_epsilon (exif.longitude, 151.2153, 1e-5);
  g_assert_cmpint (exif.orientation, ==, 8);
  g_assert_cmpint (exif.width, ==, 6016);
  g_assert_cmpint (exif.height, ==, 4016);
  g_assert_cmpstr (exif.make, ==, "NIKON CORPORATION");
  g_assert_cmpstr (exif.model, ==, "NIKON D750");
  g_assert_cmpstr (exif.description, ==, "Opera House");
}

static void
test_parse_fallbacks (void)
{
  g_autofree char *path = make_jpeg ("datetime.jpg");
  const char *argv[] = {
    "exiftool", "-q", "-overwrite_original", "-ModifyDate=2019:06:01 12:00:00",
    "-SubSecTime=9", "-OffsetTime=+01:00", "-GPSLatitude=0", "-GPSLatitudeRef=N",
    "-GPSLongitude=0", "-GPSLongitudeRef=E", path, NULL
  };
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GBytes) plain = NULL;
  g_autofree char *plain_path = make_jpeg ("plain.jpg");
  g_auto(EiderExif) exif = { 0 };

  if (!test_run_tool (argv))
    return;
  bytes = read_file (path);

  g_assert_true (eider_exif_parse (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), &exif));
  g_assert_true (exif.has_date);
  g_assert_cmpint (exif.date_us, ==, (gint64) 1559390400 * 1000000 - (gint64) 3600 * G_USEC_PER_SEC + 900000);
  g_assert_cmpstr (exif.offset_time, ==, "+01:00");
  /* (0, 0) is "no fix", not the Gulf of Guinea. */
  g_assert_false (exif.has_location);
  g_assert_cmpint (exif.orientation, ==, 0);
  g_assert_null (exif.make);
  eider_exif_clear (&exif);

  /* A JPEG without Exif, and things that are not Exif at all. */
  plain = read_file (plain_path);
  g_assert_false (eider_exif_parse (g_bytes_get_data (plain, NULL), g_bytes_get_size (plain), &exif));
  g_assert_false (eider_exif_parse ((const guint8 *) "hello, world", 12, &exif));
  g_assert_false (eider_exif_parse (NULL, 0, &exif));
  g_assert_false (exif.has_date);
}

/* A little-endian TIFF block: IFD0 with Make and an Exif IFD pointer,
 * the Exif IFD with DateTimeOriginal. */
static GByteArray *
make_tiff_block (void)
{
  GByteArray *b = g_byte_array_new ();
  static const guint8 head[] = {
    'I', 'I', 42, 0, 8, 0, 0, 0,
    /* IFD0 at 8: 2 entries */
    2, 0,
    0x0f, 0x01, 2, 0, 6, 0, 0, 0, 38, 0, 0, 0,        /* Make, ASCII[6] at 38 */
    0x69, 0x87, 4, 0, 1, 0, 0, 0, 44, 0, 0, 0,        /* ExifIFD at 44 */
    0, 0, 0, 0,                                       /* next IFD */
    'S', 'o', 'n', 'y', ' ', 0,                       /* 38 */
    /* Exif IFD at 44: 1 entry */
    1, 0,
    0x03, 0x90, 2, 0, 20, 0, 0, 0, 62, 0, 0, 0,       /* DateTimeOriginal at 62 */
    0, 0, 0, 0,
    '2', '0', '1', '8', ':', '0', '7', ':', '0', '4', ' ',
    '0', '9', ':', '1', '5', ':', '0', '0', 0,
  };

  g_byte_array_append (b, head, sizeof head);
  return b;
}

static void
test_parse_tiff_block (void)
{
  g_autoptr(GByteArray) block = make_tiff_block ();
  g_autoptr(GByteArray) prefixed = g_byte_array_new ();
  g_auto(EiderExif) exif = { 0 };

  g_assert_true (eider_exif_parse (block->data, block->len, &exif));
  g_assert_cmpstr (exif.make, ==, "Sony");
  g_assert_true (exif.has_date);
  /* No offset: local time, Europe/Berlin in summer. */
  g_assert_cmpint (exif.date_us, ==, (gint64) (1530695700 - 2 * 3600) * 1000000);
  g_assert_cmpstr (exif.date_time, ==, "2018-07-04T09:15:00.000");
  g_assert_null (exif.offset_time);
  eider_exif_clear (&exif);

  /* The same behind an "Exif\0\0" header, as HEIF and WebP may carry it. */
  g_byte_array_append (prefixed, (const guint8 *) "Exif\0\0", 6);
  g_byte_array_append (prefixed, block->data, block->len);
  g_assert_true (eider_exif_parse (prefixed->data, prefixed->len, &exif));
  g_assert_cmpstr (exif.make, ==, "Sony");
}

static void
test_hostile_blocks (void)
{
  g_autoptr(GByteArray) block = make_tiff_block ();
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);
  g_auto(EiderExif) exif = { 0 };
  guint8 *copy = g_malloc (block->len);

  /* Offsets that point far outside the block, counts that overrun it. */
  memcpy (copy, block->data, block->len);
  copy[4] = 0xff; copy[5] = 0xff; copy[6] = 0xff; copy[7] = 0x7f;
  eider_exif_parse (copy, block->len, &exif);
  g_assert_false (exif.has_date);
  eider_exif_clear (&exif);

  memcpy (copy, block->data, block->len);
  copy[8] = 0xff; copy[9] = 0xff;
  eider_exif_parse (copy, block->len, &exif);
  eider_exif_clear (&exif);

  memcpy (copy, block->data, block->len);
  copy[30] = 0xf0; copy[31] = 0xff; copy[32] = 0xff; copy[33] = 0xff;   /* Exif IFD pointer */
  eider_exif_parse (copy, block->len, &exif);
  g_assert_cmpstr (exif.make, ==, "Sony");
  g_assert_false (exif.has_date);
  eider_exif_clear (&exif);

  /* An IFD that points back at itself. */
  memcpy (copy, block->data, block->len);
  copy[30] = 8; copy[31] = 0; copy[32] = 0; copy[33] = 0;
  eider_exif_parse (copy, block->len, &exif);
  eider_exif_clear (&exif);

  /* Every truncation, then random damage: never a crash (ASan checks reads). */
  for (guint len = 0; len <= block->len; len++)
    {
      eider_exif_parse (block->data, len, &exif);
      eider_exif_clear (&exif);
    }
  for (guint i = 0; i < 5000; i++)
    {
      memcpy (copy, block->data, block->len);
      for (guint k = 0; k < 1 + i % 6; k++)
        copy[g_rand_int_range (rand, 0, block->len)] = (guint8) g_rand_int (rand);
      eider_exif_parse (copy, block->len, &exif);
      eider_exif_clear (&exif);
    }

  g_free (copy);
}

/* ---- XMP and IPTC ------------------------------------------------------------ */

static void
check_iso (const char *text,
           gint64      seconds,
           int         ms,
           const char *wall,
           const char *offset)
{
  g_autofree char *date_time = NULL;
  g_autofree char *offset_time = NULL;
  gint64 us = 0;

  g_test_message ("%s", text);
  g_assert_true (eider_exif_parse_iso_date (text, NULL, &us, &date_time, &offset_time));
  g_assert_cmpint (us, ==, seconds * G_USEC_PER_SEC + ms * 1000);
  g_assert_cmpstr (date_time, ==, wall);
  g_assert_cmpstr (offset_time, ==, offset);
}

static void
test_iso_date (void)
{
  const char *rejected[] = {
    "", "not a date", "2023:08:23 18:03:00", "2023-02-30T10:00:00", "2023-08-23T18:03:00.2x",
    "2023-08-23T25:00:00", "2023-08-23T18:03:00+", "4501-01-01T00:00:00",
    "1970-01-01T00:00:00Z", "2023-08-23T18", "20230823T180300",
  };

  /* An offset gives the true instant; wall clock and offset as written. */
  check_iso ("2023-08-23T18:03:00.25+05:30", 1692793980, 250, "2023-08-23T18:03:00.250", "+05:30");
  check_iso ("2023-08-23T18:03:00-0800", 1692842580, 0, "2023-08-23T18:03:00.000", "-0800");
  check_iso ("2023-08-23T18:03:00Z", 1692813780, 0, "2023-08-23T18:03:00.000", "Z");
  check_iso (" 2023-08-23T18:03:00.123456+05:30 ", 1692793980, 123, "2023-08-23T18:03:00.123",
             "+05:30");
  /* Without one, a date-time is local (Berlin, summer time: UTC+2)… */
  check_iso ("2023-08-23T18:03:00", 1692806580, 0, "2023-08-23T18:03:00.000", NULL);
  check_iso ("2023-08-23T18:03", 1692806580, 0, "2023-08-23T18:03:00.000", NULL);
  check_iso ("2023-01-05T10:00:00.5", 1672909200, 500, "2023-01-05T10:00:00.500", NULL);
  /* …but a date alone is UTC midnight, as JavaScript reads it. */
  check_iso ("2023-08-23", 1692748800, 0, "2023-08-23T00:00:00.000", NULL);
  check_iso ("2023-08", 1690848000, 0, "2023-08-01T00:00:00.000", NULL);
  check_iso ("2023", 1672531200, 0, "2023-01-01T00:00:00.000", NULL);

  for (guint i = 0; i < G_N_ELEMENTS (rejected); i++)
    {
      gint64 us = 0;

      g_test_message ("rejected: %s", rejected[i]);
      g_assert_false (eider_exif_parse_iso_date (rejected[i], NULL, &us, NULL, NULL));
    }
}

#define XMP_HEAD \
  "<?xpacket begin=\"\xef\xbb\xbf\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n" \
  "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\">\n" \
  " <rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\n"
#define XMP_TAIL \
  " </rdf:RDF>\n</x:xmpmeta>\n" \
  "                                                                    \n" \
  "<?xpacket end=\"w\"?>"

static void
parse_xmp_only (const char *packet,
                EiderExif  *exif)
{
  eider_exif_clear (exif);
  g_assert_true (eider_exif_parse_all (NULL, 0, packet, strlen (packet), NULL, 0, exif));
}

static void
test_xmp (void)
{
  g_auto(EiderExif) exif = { 0 };
  /* The attribute form, and the element form with an rdf:Alt description:
   * x-default wins over the first language. */
  const char *attributes =
    XMP_HEAD
    "  <rdf:Description rdf:about=\"\"\n"
    "    xmlns:exif=\"http://ns.adobe.com/exif/1.0/\"\n"
    "    xmlns:xmp=\"http://ns.adobe.com/xap/1.0/\"\n"
    "    xmlns:dc=\"http://purl.org/dc/elements/1.1/\"\n"
    "    xmp:CreateDate=\"2020-01-01T00:00:00Z\"\n"
    "    exif:DateTimeOriginal=\"2023-08-23T18:03:00.25+05:30\">\n"
    "   <dc:description><rdf:Alt>\n"
    "     <rdf:li xml:lang=\"de\">Hallo &amp; Tsch\xc3\xbc\xc3\x9f</rdf:li>\n"
    "     <rdf:li xml:lang=\"x-default\">  Hello &amp; goodbye </rdf:li>\n"
    "   </rdf:Alt></dc:description>\n"
    "  </rdf:Description>\n"
    XMP_TAIL;
  /* The element form; a broken DateTimeOriginal falls through to the
   * digitized time, CreateDate to the last. */
  const char *elements =
    XMP_HEAD
    "  <rdf:Description rdf:about=\"\" xmlns:exif=\"http://ns.adobe.com/exif/1.0/\"\n"
    "    xmlns:xmp=\"http://ns.adobe.com/xap/1.0/\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\">\n"
    "   <exif:DateTimeOriginal>2023-13-45T99:00:00</exif:DateTimeOriginal>\n"
    "   <xmp:CreateDate>2019-06-01T12:00:00Z</xmp:CreateDate>\n"
    "   <exif:DateTimeDigitized>2021-03-04T05:06:07-02:00</exif:DateTimeDigitized>\n"
    "   <dc:description><rdf:Alt><rdf:li xml:lang=\"fr\">Bonjour</rdf:li></rdf:Alt></dc:description>\n"
    "  </rdf:Description>\n"
    XMP_TAIL;
  /* Order among the rest: CreateDate, then MetadataDate, then tiff:DateTime,
   * then ModifyDate; a date alone (photoshop:DateCreated) as UTC. */
  const char *later =
    XMP_HEAD
    "  <rdf:Description rdf:about=\"\" xmlns:tiff=\"http://ns.adobe.com/tiff/1.0/\"\n"
    "    xmlns:xmp=\"http://ns.adobe.com/xap/1.0/\"\n"
    "    xmp:ModifyDate=\"2018-01-01T00:00:00Z\" xmp:MetadataDate=\"2017-02-02T02:02:02Z\">\n"
    "   <tiff:DateTime>2016-03-03T03:03:03Z</tiff:DateTime>\n"
    "  </rdf:Description>\n"
    XMP_TAIL;
  const char *created =
    XMP_HEAD
    "  <rdf:Description rdf:about=\"\" xmlns:photoshop=\"http://ns.adobe.com/photoshop/1.0/\"\n"
    "    xmlns:xmp=\"http://ns.adobe.com/xap/1.0/\" xmp:CreateDate=\"2019-06-01T12:00:00Z\"\n"
    "    photoshop:DateCreated=\"2015-07-08\"/>\n"
    XMP_TAIL;

  parse_xmp_only (attributes, &exif);
  g_assert_true (exif.has_date);
  g_assert_cmpint (exif.date_us, ==, G_GINT64_CONSTANT (1692793980250000));
  g_assert_cmpstr (exif.date_time, ==, "2023-08-23T18:03:00.250");
  g_assert_cmpstr (exif.offset_time, ==, "+05:30");
  g_assert_cmpstr (exif.description, ==, "Hello & goodbye");
  g_assert_null (exif.make);
  g_assert_cmpint (exif.width, ==, 0);

  parse_xmp_only (elements, &exif);
  g_assert_cmpint (exif.date_us, ==, G_GINT64_CONSTANT (1614841567000000));
  g_assert_cmpstr (exif.date_time, ==, "2021-03-04T05:06:07.000");
  g_assert_cmpstr (exif.offset_time, ==, "-02:00");
  g_assert_cmpstr (exif.description, ==, "Bonjour");

  parse_xmp_only (later, &exif);
  g_assert_cmpint (exif.date_us, ==, G_GINT64_CONSTANT (1486000922000000));
  g_assert_cmpstr (exif.offset_time, ==, "Z");
  g_assert_null (exif.description);

  parse_xmp_only (created, &exif);
  g_assert_cmpint (exif.date_us, ==, G_GINT64_CONSTANT (1436313600000000));
  g_assert_cmpstr (exif.date_time, ==, "2015-07-08T00:00:00.000");
  g_assert_null (exif.offset_time);
}

/* XMP and IPTC against an Exif block written by exiftool. */
static void
test_xmp_iptc_over_exif (void)
{
  g_autofree char *path = make_jpeg ("over.jpg");
  const char *argv[] = {
    "exiftool", "-q", "-overwrite_original", "-DateTimeOriginal=2021:01:02 03:04:05",
    "-OffsetTimeOriginal=+01:00", "-ImageDescription=From Exif", path, NULL
  };
  g_autoptr(GBytes) jpeg = NULL;
  g_auto(EiderExif) exif = { 0 };
  const char *xmp_dto =
    XMP_HEAD
    "  <rdf:Description xmlns:exif=\"http://ns.adobe.com/exif/1.0/\"\n"
    "    exif:DateTimeOriginal=\"2023-08-23T18:03:00+05:30\"/>\n"
    XMP_TAIL;
  const char *xmp_create =
    XMP_HEAD
    "  <rdf:Description xmlns:xmp=\"http://ns.adobe.com/xap/1.0/\"\n"
    "    xmlns:photoshop=\"http://ns.adobe.com/photoshop/1.0/\"\n"
    "    xmp:CreateDate=\"2023-08-23T18:03:00+05:30\" photoshop:DateCreated=\"2022-01-01\"/>\n"
    XMP_TAIL;
  /* "Photoshop 3.0", 8BIM 0x0404 (empty name) with records 1:90 (UTF-8),
   * 2:55, 2:60, 2:120. */
  static const guint8 iptc[] = {
    'P', 'h', 'o', 't', 'o', 's', 'h', 'o', 'p', ' ', '3', '.', '0', 0,
    '8', 'B', 'I', 'M', 0x04, 0x04, 0, 0, 0, 0, 0, 52,
    0x1c, 1, 90, 0, 3, 0x1b, '%', 'G',
    0x1c, 2, 55, 0, 8, '2', '0', '2', '2', '0', '7', '0', '4',
    0x1c, 2, 60, 0, 11, '0', '9', '3', '0', '1', '5', '-', '0', '4', '0', '0',
    0x1c, 2, 120, 0, 10, 'F', 'r', 'o', 'm', ' ', 'I', 'P', 'T', 'C', ' ',
    0
  };

  if (!test_run_tool (argv))
    return;
  jpeg = read_file (path);

  g_assert_true (eider_exif_parse_all (g_bytes_get_data (jpeg, NULL), g_bytes_get_size (jpeg),
                                       NULL, 0, NULL, 0, &exif));
  g_assert_cmpstr (exif.date_time, ==, "2021-01-02T03:04:05.000");
  g_assert_cmpstr (exif.offset_time, ==, "+01:00");
  g_assert_cmpstr (exif.description, ==, "From Exif");
  eider_exif_clear (&exif);

  /* XMP's DateTimeOriginal beats Exif's. */
  eider_exif_parse_all (g_bytes_get_data (jpeg, NULL), g_bytes_get_size (jpeg),
                        xmp_dto, strlen (xmp_dto), NULL, 0, &exif);
  g_assert_cmpint (exif.date_us, ==, G_GINT64_CONSTANT (1692793980000000));
  g_assert_cmpstr (exif.offset_time, ==, "+05:30");
  g_assert_cmpstr (exif.description, ==, "From Exif");
  eider_exif_clear (&exif);

  /* Exif's DateTimeOriginal beats XMP's CreateDate and DateCreated. */
  eider_exif_parse_all (g_bytes_get_data (jpeg, NULL), g_bytes_get_size (jpeg),
                        xmp_create, strlen (xmp_create), NULL, 0, &exif);
  g_assert_cmpstr (exif.date_time, ==, "2021-01-02T03:04:05.000");
  g_assert_cmpint (exif.date_us, ==, G_GINT64_CONSTANT (1609553045000000));
  eider_exif_clear (&exif);

  /* IPTC's date and time beat Exif (the offset as ExifReader writes it),
   * its caption Exif's description; XMP beats IPTC. */
  g_assert_true (eider_exif_parse_all (g_bytes_get_data (jpeg, NULL), g_bytes_get_size (jpeg),
                                       NULL, 0, iptc, sizeof iptc, &exif));
  g_assert_cmpint (exif.date_us, ==, G_GINT64_CONSTANT (1656941415000000));
  g_assert_cmpstr (exif.date_time, ==, "2022-07-04T09:30:15.000");
  g_assert_cmpstr (exif.offset_time, ==, "-04:00");
  g_assert_cmpstr (exif.description, ==, "From IPTC");
  eider_exif_clear (&exif);

  eider_exif_parse_all (g_bytes_get_data (jpeg, NULL), g_bytes_get_size (jpeg),
                        xmp_dto, strlen (xmp_dto), iptc, sizeof iptc, &exif);
  g_assert_cmpint (exif.date_us, ==, G_GINT64_CONSTANT (1692793980000000));
  eider_exif_clear (&exif);

  /* Every truncation of the IPTC block: never a read past it. */
  for (gsize len = 0; len <= sizeof iptc; len++)
    {
      g_autofree guint8 *copy = g_memdup2 (iptc, len);

      eider_exif_parse_all (NULL, 0, NULL, 0, copy, len, &exif);
      eider_exif_clear (&exif);
    }
}

static void
test_xmp_hostile (void)
{
  const char *packet =
    XMP_HEAD
    "  <rdf:Description xmlns:exif=\"http://ns.adobe.com/exif/1.0/\"\n"
    "    xmlns:dc=\"http://purl.org/dc/elements/1.1/\">\n"
    "   <exif:DateTimeOriginal>2023-08-23T18:03:00+05:30</exif:DateTimeOriginal>\n"
    "   <dc:description><rdf:Alt><rdf:li xml:lang=\"x-default\">Words</rdf:li></rdf:Alt></dc:description>\n"
    "  </rdf:Description>\n"
    XMP_TAIL;
  gsize len = strlen (packet);
  g_autoptr(GString) deep = g_string_new (XMP_HEAD);
  g_autoptr(GString) entity = g_string_new (NULL);
  g_autoptr(GRand) rand = g_rand_new_with_seed (11);
  g_auto(EiderExif) exif = { 0 };
  g_autofree char *copy = g_malloc (len);

  g_assert_true (eider_exif_parse_all (NULL, 0, packet, len, NULL, 0, &exif));
  g_assert_cmpstr (exif.description, ==, "Words");
  eider_exif_clear (&exif);

  /* A truncated packet is not XML: ignored as a whole. Every truncation,
   * never a read past the end (ASan), never a crash. */
  g_assert_false (eider_exif_parse_all (NULL, 0, packet, len / 2, NULL, 0, &exif));
  g_assert_false (exif.has_date);
  g_assert_null (exif.description);
  for (gsize n = 0; n < len; n++)
    {
      memcpy (copy, packet, n);
      eider_exif_parse_all (NULL, 0, copy, n, NULL, 0, &exif);
      if (n < len - strlen (XMP_TAIL))
        g_assert_false (exif.has_date);
      eider_exif_clear (&exif);
    }

  /* A NUL inside ends the packet. */
  memcpy (copy, packet, len);
  copy[len / 2] = '\0';
  g_assert_false (eider_exif_parse_all (NULL, 0, copy, len, NULL, 0, &exif));

  /* Nesting 100000 deep: refused past a fixed depth, no recursion. */
  for (guint i = 0; i < 100000; i++)
    g_string_append (deep, "<a>");
  for (guint i = 0; i < 100000; i++)
    g_string_append (deep, "</a>");
  g_string_append (deep, XMP_TAIL);
  g_assert_false (eider_exif_parse_all (NULL, 0, deep->str, deep->len, NULL, 0, &exif));

  /* Undefined entities (no DTD expansion) and a huge value. */
  g_string_append (entity, "<!DOCTYPE x [<!ENTITY a \"aaaaaaaaaa\">]>" XMP_HEAD
                   "<rdf:Description xmlns:dc=\"http://purl.org/dc/elements/1.1/\">"
                   "<dc:description>&a;&a;</dc:description></rdf:Description>" XMP_TAIL);
  eider_exif_parse_all (NULL, 0, entity->str, entity->len, NULL, 0, &exif);
  g_assert_null (exif.description);
  eider_exif_clear (&exif);
  g_string_assign (entity, XMP_HEAD "<rdf:Description xmlns:dc=\"http://purl.org/dc/elements/1.1/\">"
                   "<dc:description>");
  for (guint i = 0; i < 200000; i++)
    g_string_append (entity, "word ");
  g_string_append (entity, "</dc:description></rdf:Description>" XMP_TAIL);
  /* (1 MB of text: a value that long is dropped.) */
  g_assert_true (eider_exif_parse_all (NULL, 0, entity->str, entity->len, NULL, 0, &exif));
  g_assert_null (exif.description);
  eider_exif_clear (&exif);

  /* Random damage. */
  for (guint i = 0; i < 3000; i++)
    {
      memcpy (copy, packet, len);
      for (guint k = 0; k < 1 + i % 5; k++)
        copy[g_rand_int_range (rand, 0, len)] = (char) g_rand_int (rand);
      eider_exif_parse_all (NULL, 0, copy, len, NULL, 0, &exif);
      eider_exif_clear (&exif);
    }
}

int
main (int   argc,
      char *argv[])
{
  int ret;

  /* Dates without an offset are local time: make "local" known. */
  g_setenv ("TZ", "Europe/Berlin", TRUE);
  g_test_init (&argc, &argv, NULL);

  tmpdir = g_dir_make_tmp ("eider-test-exif-XXXXXX", NULL);
  g_assert_nonnull (tmpdir);

  g_test_add_func ("/exif/date/offset", test_date_offset);
  g_test_add_func ("/exif/date/local", test_date_local);
  g_test_add_func ("/exif/date/rejected", test_date_rejected);
  g_test_add_func ("/exif/parse/jpeg", test_parse_jpeg);
  g_test_add_func ("/exif/parse/fallbacks", test_parse_fallbacks);
  g_test_add_func ("/exif/parse/tiff-block", test_parse_tiff_block);
  g_test_add_func ("/exif/parse/hostile", test_hostile_blocks);
  g_test_add_func ("/exif/iso-date", test_iso_date);
  g_test_add_func ("/exif/xmp", test_xmp);
  g_test_add_func ("/exif/xmp-iptc-over-exif", test_xmp_iptc_over_exif);
  g_test_add_func ("/exif/xmp-hostile", test_xmp_hostile);

  ret = g_test_run ();

  {
    g_autoptr(GDir) dir = g_dir_open (tmpdir, 0, NULL);
    const char *name;

    while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
      {
        g_autofree char *p = g_build_filename (tmpdir, name, NULL);
        g_unlink (p);
      }
    g_rmdir (tmpdir);
    g_free (tmpdir);
  }

  return ret;
}
