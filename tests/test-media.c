/* test-media.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>
#include <sys/stat.h>
#include <glib/gstdio.h>
#include <gdk-pixbuf/gdk-pixbuf.h>
#include <json-glib/json-glib.h>

#include "eider-crypto.h"
#include "eider-media.h"
#include "eider-test-server-harness.h"

static char *tmpdir;

static void
test_classify (void)
{
  static const struct { const char *head; gsize len; const char *name; EiderFileType type; } cases[] = {
    { "\xff\xd8\xff\xe0", 4, "x.bin", EIDER_FILE_TYPE_IMAGE },
    { "\x89PNG\r\n\x1a\n", 8, NULL, EIDER_FILE_TYPE_IMAGE },
    { "GIF89a", 6, NULL, EIDER_FILE_TYPE_IMAGE },
    { "RIFF\0\0\0\0WEBPVP8 ", 16, NULL, EIDER_FILE_TYPE_IMAGE },
    { "RIFF\0\0\0\0AVI LIST", 16, NULL, EIDER_FILE_TYPE_VIDEO },
    { "\0\0\0\x18" "ftypheic", 12, "a.HEIC", EIDER_FILE_TYPE_IMAGE },
    { "\0\0\0\x1c" "ftypavif", 12, NULL, EIDER_FILE_TYPE_IMAGE },
    { "\0\0\0\x18" "ftypcrx ", 12, "a.CR3", EIDER_FILE_TYPE_IMAGE },
    { "\0\0\0\x20" "ftypisom", 12, "clip.mp4", EIDER_FILE_TYPE_VIDEO },
    { "\0\0\0\x14" "ftypqt  ", 12, "clip.MOV", EIDER_FILE_TYPE_VIDEO },
    { "\x1a\x45\xdf\xa3", 4, "a.mkv", EIDER_FILE_TYPE_VIDEO },
    { "II*\0", 4, "a.NEF", EIDER_FILE_TYPE_IMAGE },
    { "FUJIFILMCCD-RAW ", 16, NULL, EIDER_FILE_TYPE_IMAGE },
    { "\x47\x40\x00\x10", 4, "a.MTS", EIDER_FILE_TYPE_VIDEO },
    { "\0\0\0\x08wide\0\0", 10, "old.mov", EIDER_FILE_TYPE_VIDEO },
    { "just some text\n", 15, "fake.jpg", EIDER_FILE_TYPE_UNKNOWN },
    { "garbage", 7, "x.CR2.bin", EIDER_FILE_TYPE_UNKNOWN },
    { "\x01\x02\x03", 3, "odd.rw2", EIDER_FILE_TYPE_IMAGE },
    { "hello world", 11, "notes.txt", EIDER_FILE_TYPE_UNKNOWN },
    { "<html><body>", 12, "fake.jpg", EIDER_FILE_TYPE_UNKNOWN },
    { "%PDF-1.7", 8, "doc.pdf", EIDER_FILE_TYPE_UNKNOWN },
    { "", 0, "nothing", EIDER_FILE_TYPE_UNKNOWN },
    { "\0\0\0\x0cJXL \r\n\x87\n", 12, NULL, EIDER_FILE_TYPE_IMAGE },
    { "\xff\x0a\xfa", 3, "a.jxl", EIDER_FILE_TYPE_IMAGE },
    { "\0\0\0\x18" "ftypmif1", 12, "a.heif", EIDER_FILE_TYPE_IMAGE },
    { "\0\0\0\x18" "ftyp3gp4", 12, "a.3gp", EIDER_FILE_TYPE_VIDEO },
    { "IIRO\x08\0\0\0", 8, "a.ORF", EIDER_FILE_TYPE_IMAGE },
    { "IIU\0\x08\0\0\0", 8, "a.RW2", EIDER_FILE_TYPE_IMAGE },
    { "MM\0*\0\0\0\x08", 8, "a.tif", EIDER_FILE_TYPE_IMAGE },
    { "II\x1a\0\0\0HEAPCCDR", 14, "a.CRW", EIDER_FILE_TYPE_IMAGE },
    { "BM", 2, "a.bmp", EIDER_FILE_TYPE_IMAGE },
    { "\x30\x26\xb2\x75\x8e\x66\xcf\x11", 8, "a.wmv", EIDER_FILE_TYPE_VIDEO },
    { "garbage", 7, "fake.jxl", EIDER_FILE_TYPE_UNKNOWN },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    g_assert_cmpint (eider_media_classify ((const guint8 *) cases[i].head, cases[i].len, cases[i].name),
                     ==, cases[i].type);
}

static void
test_metadata_json (void)
{
  g_auto(EiderMediaMetadata) md = { 0 };
  g_autofree char *json = NULL;

  md.file_type = EIDER_FILE_TYPE_IMAGE;
  md.title = g_strdup ("IMG_0001.JPG");
  md.creation_time = 1700000000000000;
  md.modification_time = 1700000000000000;
  md.hash = g_strdup ("x");

  json = eider_media_metadata_to_json (&md);
  /* The spec's §16.4 metadata plaintext, byte for byte. */
  g_assert_cmpstr (json, ==,
                   "{\"fileType\":0,\"title\":\"IMG_0001.JPG\",\"creationTime\":1700000000000000,"
                   "\"modificationTime\":1700000000000000,\"hash\":\"x\"}");

  md.has_static_thumbnail = TRUE;
  g_free (json);
  json = eider_media_metadata_to_json (&md);
  g_assert_true (g_str_has_suffix (json, ",\"hasStaticThumbnail\":true}"));
}

static GBytes *
make_jpeg (int width,
           int height)
{
  g_autoptr(GdkPixbuf) pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, width, height);
  guchar *pixels = gdk_pixbuf_get_pixels (pixbuf);
  int stride = gdk_pixbuf_get_rowstride (pixbuf);
  g_autofree char *buffer = NULL;
  gsize size = 0;

  /* Noise, so JPEG cannot compress it to nothing. */
  for (int y = 0; y < height; y++)
    for (int x = 0; x < width * 3; x++)
      pixels[y * stride + x] = (guchar) g_random_int ();

  g_assert_true (gdk_pixbuf_save_to_buffer (pixbuf, &buffer, &size, "jpeg", NULL, "quality", "95", NULL));

  return g_bytes_new_take (g_steal_pointer (&buffer), size);
}

static void
test_thumbnail (void)
{
  g_autoptr(GBytes) jpeg = make_jpeg (3000, 2000);
  g_autoptr(GBytes) thumb = NULL;
  g_autoptr(GdkPixbufLoader) loader = gdk_pixbuf_loader_new ();
  GdkPixbuf *pixbuf;
  gboolean placeholder = TRUE;

  thumb = eider_media_thumbnail (jpeg, NULL, EIDER_FILE_TYPE_IMAGE, &placeholder);
  g_assert_false (placeholder);
  g_assert_cmpuint (g_bytes_get_size (thumb), <=, 100 * 1024);
  g_assert_cmpmem (g_bytes_get_data (thumb, NULL), 3, "\xff\xd8\xff", 3);

  g_assert_true (gdk_pixbuf_loader_write_bytes (loader, thumb, NULL));
  g_assert_true (gdk_pixbuf_loader_close (loader, NULL));
  pixbuf = gdk_pixbuf_loader_get_pixbuf (loader);
  g_assert_cmpint (gdk_pixbuf_get_width (pixbuf), ==, 720);
  g_assert_cmpint (gdk_pixbuf_get_height (pixbuf), ==, 480);
}

static void
test_thumbnail_fallbacks (void)
{
  static const char not_jpeg[] = "\xff\xd8\xff\xe0 not really a jpeg";
  g_autoptr(GBytes) garbage = g_bytes_new_static (not_jpeg, sizeof not_jpeg - 1);
  g_autoptr(GBytes) thumb = NULL;
  g_autoptr(GBytes) video = NULL;
  g_autoptr(GBytes) placeholder_bytes = eider_media_placeholder_thumbnail ();
  g_autofree char *hash = NULL;
  gboolean placeholder = FALSE;

  /* Ente's black placeholder, byte for byte (its hash is in spec §16.2). */
  hash = eider_hash_data_base64 (g_bytes_get_data (placeholder_bytes, NULL),
                                 g_bytes_get_size (placeholder_bytes));
  g_assert_cmpstr (hash, ==, "OFOpXpMK1T5v6Fb+FHGx28ubUzLl2y1KNUZO4Cm6afdzXHufo6XCw7b4YDaG0JgGXrMu/pLef4rU2aFCDhg/PQ==");

  thumb = eider_media_thumbnail (garbage, NULL, EIDER_FILE_TYPE_IMAGE, &placeholder);
  g_assert_true (placeholder);
  g_assert_true (g_bytes_equal (thumb, placeholder_bytes));

  placeholder = FALSE;
  video = eider_media_thumbnail (garbage, NULL, EIDER_FILE_TYPE_VIDEO, &placeholder);
  g_assert_true (placeholder);
  g_assert_true (g_bytes_equal (video, placeholder_bytes));
}

/* ---- Real files ----------------------------------------------------------- */

/* Four flat quadrants, so a thumbnail's orientation shows in its colours:
 * red top left, green top right, blue bottom left, white bottom right. */
static GdkPixbuf *
make_quadrants (int width,
                int height)
{
  GdkPixbuf *pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, width, height);
  guchar *pixels = gdk_pixbuf_get_pixels (pixbuf);
  int stride = gdk_pixbuf_get_rowstride (pixbuf);

  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      {
        guchar *p = pixels + y * stride + x * 3;
        gboolean right = x >= width / 2;
        gboolean bottom = y >= height / 2;

        p[0] = (!bottom && !right) || (bottom && right) ? 255 : 0;
        p[1] = (!bottom && right) || (bottom && right) ? 255 : 0;
        p[2] = bottom ? 255 : 0;
      }

  return pixbuf;
}

static char *
tmp_path (const char *name)
{
  return g_build_filename (tmpdir, name, NULL);
}

static char *
save_pixbuf (GdkPixbuf  *pixbuf,
             const char *name,
             const char *type)
{
  char *path = tmp_path (name);

  g_assert_true (gdk_pixbuf_save (pixbuf, path, type, NULL, NULL));
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

static GdkPixbuf *
decode_jpeg (GBytes *jpeg)
{
  g_autoptr(GdkPixbufLoader) loader = gdk_pixbuf_loader_new_with_type ("jpeg", NULL);

  g_assert_cmpmem (g_bytes_get_data (jpeg, NULL), 3, "\xff\xd8\xff", 3);
  g_assert_true (gdk_pixbuf_loader_write_bytes (loader, jpeg, NULL));
  g_assert_true (gdk_pixbuf_loader_close (loader, NULL));

  return g_object_ref (gdk_pixbuf_loader_get_pixbuf (loader));
}

/* The colour at a fraction of the width and height, within JPEG's error. */
static void
assert_colour (GdkPixbuf *pixbuf,
               double     fx,
               double     fy,
               guint32    rgb)
{
  int x = (int) (fx * gdk_pixbuf_get_width (pixbuf));
  int y = (int) (fy * gdk_pixbuf_get_height (pixbuf));
  const guchar *p = gdk_pixbuf_get_pixels (pixbuf) + y * gdk_pixbuf_get_rowstride (pixbuf) +
                    x * gdk_pixbuf_get_n_channels (pixbuf);

  g_assert_cmpint (ABS ((int) p[0] - (int) (rgb >> 16 & 0xff)), <, 48);
  g_assert_cmpint (ABS ((int) p[1] - (int) (rgb >> 8 & 0xff)), <, 48);
  g_assert_cmpint (ABS ((int) p[2] - (int) (rgb & 0xff)), <, 48);
}

#define RED   0xff0000
#define GREEN 0x00ff00
#define BLUE  0x0000ff
#define WHITE 0xffffff

static void
assert_quadrants (GdkPixbuf *pixbuf,
                  guint32    tl,
                  guint32    tr,
                  guint32    bl,
                  guint32    br)
{
  assert_colour (pixbuf, 0.25, 0.25, tl);
  assert_colour (pixbuf, 0.75, 0.25, tr);
  assert_colour (pixbuf, 0.25, 0.75, bl);
  assert_colour (pixbuf, 0.75, 0.75, br);
}

/* Describes @path twice, from the disk and from memory, and checks both
 * agree; returns the first. */
static GBytes *
describe (const char         *path,
          EiderFileType       type,
          gint64              mtime_us,
          EiderMediaMetadata *md)
{
  g_auto(EiderMediaMetadata) again = { 0 };
  g_autoptr(GBytes) content = read_file (path);
  g_autoptr(GBytes) thumb2 = NULL;
  GBytes *thumb = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (eider_media_describe (path, NULL, type, mtime_us, md, &thumb, NULL, &error));
  g_assert_no_error (error);
  g_assert_nonnull (thumb);
  g_assert_cmpuint (g_bytes_get_size (thumb), <=, EIDER_MEDIA_THUMBNAIL_MAX_BYTES);

  g_assert_true (eider_media_describe (path, content, type, mtime_us, &again, &thumb2, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (again.creation_time, ==, md->creation_time);
  g_assert_cmpint (again.modification_time, ==, md->modification_time);
  g_assert_cmpint (again.width, ==, md->width);
  g_assert_cmpint (again.height, ==, md->height);
  g_assert_cmpint (again.has_location, ==, md->has_location);
  g_assert_cmpstr (again.date_time, ==, md->date_time);
  g_assert_cmpstr (again.camera_make, ==, md->camera_make);
  g_assert_cmpint (again.has_static_thumbnail, ==, md->has_static_thumbnail);
  g_assert_true (g_bytes_equal (thumb, thumb2));

  return thumb;
}

static void
test_describe_jpeg (void)
{
  g_autoptr(GdkPixbuf) source = make_quadrants (400, 200);
  g_autofree char *path = save_pixbuf (source, "IMG_0001.JPG", "jpeg");
  const char *argv[] = {
    "exiftool", "-q", "-overwrite_original", "-DateTimeOriginal=2023:08:23 18:03:00",
    "-SubSecTimeOriginal=250", "-OffsetTimeOriginal=+05:30", "-GPSLatitude=12.9716",
    "-GPSLatitudeRef=N", "-GPSLongitude=77.5946", "-GPSLongitudeRef=W", "-Orientation#=6",
    "-Make= Canon ", "-Model=Canon EOS 5D Mark IV ", "-ImageDescription=Lalbagh", path, NULL
  };
  g_auto(EiderMediaMetadata) md = { 0 };
  g_autoptr(GBytes) thumb = NULL;
  g_autoptr(GdkPixbuf) pixbuf = NULL;
  g_autofree char *pub = NULL;
  g_autofree char *json = NULL;
  guint count = 0;

  if (!test_run_tool (argv))
    return;

  thumb = describe (path, EIDER_FILE_TYPE_IMAGE, 1700000000000000, &md);
  g_assert_cmpint (md.file_type, ==, EIDER_FILE_TYPE_IMAGE);
  g_assert_cmpint (md.creation_time, ==, (gint64) 1692793980250000);
  g_assert_cmpint (md.modification_time, ==, 1700000000000000);
  g_assert_true (md.has_location);
  g_assert_cmpfloat_with_epsilon (md.latitude, 12.9716, 1e-5);
  g_assert_cmpfloat_with_epsilon (md.longitude, -77.5946, 1e-5);
  g_assert_false (md.has_static_thumbnail);
  g_assert_cmpint (md.duration, ==, 0);

  /* Orientation 6: stored 400×200, shown 200×400. */
  g_assert_cmpint (md.width, ==, 200);
  g_assert_cmpint (md.height, ==, 400);
  pub = eider_media_public_magic_to_json (&md, &count);
  g_assert_cmpstr (pub, ==, "{\"dateTime\":\"2023-08-23T18:03:00.250\",\"offsetTime\":\"+05:30\","
                   "\"w\":200,\"h\":400,\"caption\":\"Lalbagh\",\"cameraMake\":\"Canon\","
                   "\"cameraModel\":\"Canon EOS 5D Mark IV\"}");
  g_assert_cmpuint (count, ==, 7);

  md.title = g_strdup ("IMG_0001.JPG");
  md.hash = g_strdup ("h");
  json = eider_media_metadata_to_json (&md);
  g_assert_true (g_str_has_prefix (json, "{\"fileType\":0,\"title\":\"IMG_0001.JPG\","
                                   "\"creationTime\":1692793980250000,"
                                   "\"modificationTime\":1700000000000000,\"hash\":\"h\","
                                   "\"latitude\":12.971"));
  g_assert_nonnull (strstr (json, ",\"longitude\":-77.594"));
  g_assert_null (strstr (json, "duration"));
  g_assert_null (strstr (json, "hasStaticThumbnail"));

  /* The thumbnail is upright: turned a quarter clockwise, blue is now top left. */
  pixbuf = decode_jpeg (thumb);
  g_assert_cmpint (gdk_pixbuf_get_width (pixbuf), ==, 200);
  g_assert_cmpint (gdk_pixbuf_get_height (pixbuf), ==, 400);
  assert_quadrants (pixbuf, BLUE, RED, WHITE, GREEN);
}

static void
test_describe_heic (void)
{
  g_autoptr(GdkPixbuf) source = make_quadrants (400, 200);
  g_autofree char *jpeg = save_pixbuf (source, "heic-source.jpg", "jpeg");
  g_autofree char *heic = tmp_path ("IMG_0002.HEIC");
  g_autofree char *avif = tmp_path ("photo.avif");
  const char *tag[] = {
    "exiftool", "-q", "-overwrite_original", "-DateTimeOriginal=2024:01:15 10:00:00",
    "-Make=Apple", "-Model=iPhone 15", "-GPSLatitude=51.5007", "-GPSLatitudeRef=N",
    "-GPSLongitude=0.1246", "-GPSLongitudeRef=W", jpeg, NULL
  };
  const char *enc[] = { "heif-enc", "-q", "90", "-t", "64", "-o", heic, jpeg, NULL };
  const char *enc_avif[] = { "heif-enc", "-A", "-q", "90", "-o", avif, jpeg, NULL };
  g_auto(EiderMediaMetadata) md = { 0 };
  g_auto(EiderMediaMetadata) md_avif = { 0 };
  g_autoptr(GBytes) thumb = NULL;
  g_autoptr(GBytes) thumb_avif = NULL;
  g_autoptr(GBytes) content = NULL;
  g_autoptr(GdkPixbuf) pixbuf = NULL;

  if (!test_run_tool (tag) || !test_run_tool (enc))
    return;

  content = read_file (heic);
  g_assert_cmpint (eider_media_classify (g_bytes_get_data (content, NULL), g_bytes_get_size (content),
                                         "IMG_0002.HEIC"), ==, EIDER_FILE_TYPE_IMAGE);

  thumb = describe (heic, EIDER_FILE_TYPE_IMAGE, 1800000000000000, &md);
  /* No offset: local time (Europe/Berlin, winter +01:00). */
  g_assert_cmpint (md.creation_time, ==, (gint64) 1705309200 * 1000000);
  g_assert_cmpstr (md.date_time, ==, "2024-01-15T10:00:00.000");
  g_assert_null (md.offset_time);
  g_assert_cmpstr (md.camera_make, ==, "Apple");
  g_assert_cmpstr (md.camera_model, ==, "iPhone 15");
  g_assert_true (md.has_location);
  g_assert_cmpfloat_with_epsilon (md.latitude, 51.5007, 1e-5);
  g_assert_cmpfloat_with_epsilon (md.longitude, -0.1246, 1e-5);
  g_assert_cmpint (md.width, ==, 400);
  g_assert_cmpint (md.height, ==, 200);
  g_assert_false (md.has_static_thumbnail);

  /* From the primary image (the embedded 64 px thumbnail is too small). */
  pixbuf = decode_jpeg (thumb);
  g_assert_cmpint (gdk_pixbuf_get_width (pixbuf), ==, 400);
  g_assert_cmpint (gdk_pixbuf_get_height (pixbuf), ==, 200);
  assert_quadrants (pixbuf, RED, GREEN, BLUE, WHITE);
  g_clear_object (&pixbuf);

  /* AVIF goes the same way. */
  if (!test_run_tool (enc_avif))
    return;
  thumb_avif = describe (avif, EIDER_FILE_TYPE_IMAGE, 1800000000000000, &md_avif);
  g_assert_false (md_avif.has_static_thumbnail);
  g_assert_cmpint (md_avif.width, ==, 400);
  pixbuf = decode_jpeg (thumb_avif);
  assert_quadrants (pixbuf, RED, GREEN, BLUE, WHITE);
}

/* WebP through gdk-pixbuf's WebP loader (webp-pixbuf-loader). */
static void
test_describe_webp (void)
{
  g_autoptr(GdkPixbuf) source = make_quadrants (400, 200);
  g_autofree char *png = save_pixbuf (source, "webp-source.png", "png");
  g_autofree char *webp = tmp_path ("photo.webp");
  const char *convert[] = { "convert", png, "-define", "webp:lossless=true", webp, NULL };
  g_auto(EiderMediaMetadata) md = { 0 };
  g_autoptr(GBytes) thumb = NULL;
  g_autoptr(GBytes) content = NULL;
  g_autoptr(GdkPixbuf) pixbuf = NULL;

  g_assert_true (test_run_tool (convert));
  content = read_file (webp);
  g_assert_cmpint (eider_media_classify (g_bytes_get_data (content, NULL), g_bytes_get_size (content),
                                         "photo.webp"), ==, EIDER_FILE_TYPE_IMAGE);

  thumb = describe (webp, EIDER_FILE_TYPE_IMAGE, 1800000000000000, &md);
  g_assert_false (md.has_static_thumbnail);
  g_assert_cmpint (md.width, ==, 400);
  g_assert_cmpint (md.height, ==, 200);
  pixbuf = decode_jpeg (thumb);
  g_assert_cmpint (gdk_pixbuf_get_width (pixbuf), ==, 400);
  assert_quadrants (pixbuf, RED, GREEN, BLUE, WHITE);
}

static void
test_describe_png_names (void)
{
  g_autoptr(GdkPixbuf) source = make_quadrants (300, 100);
  g_autofree char *named = save_pixbuf (source, "Screenshot_20230823-180300.png", "png");
  g_autofree char *plain = save_pixbuf (source, "plain.png", "png");
  g_auto(EiderMediaMetadata) md = { 0 };
  g_auto(EiderMediaMetadata) md_plain = { 0 };
  g_autoptr(GBytes) thumb = NULL;
  g_autoptr(GBytes) thumb_plain = NULL;
  g_autoptr(GdkPixbuf) pixbuf = NULL;
  g_autofree char *pub = NULL;
  guint count = 0;

  /* No Exif: the date in the name, in local time (Europe/Berlin, +02:00). */
  thumb = describe (named, EIDER_FILE_TYPE_IMAGE, 1700000000000000, &md);
  g_assert_cmpint (md.creation_time, ==, (gint64) 1692806580 * 1000000);
  g_assert_null (md.date_time);
  g_assert_false (md.has_location);
  pub = eider_media_public_magic_to_json (&md, &count);
  g_assert_cmpstr (pub, ==, "{\"w\":300,\"h\":100}");
  g_assert_cmpuint (count, ==, 2);
  pixbuf = decode_jpeg (thumb);
  assert_quadrants (pixbuf, RED, GREEN, BLUE, WHITE);

  /* No date anywhere: the modification time. */
  thumb_plain = describe (plain, EIDER_FILE_TYPE_IMAGE, 1600000000123000, &md_plain);
  g_assert_cmpint (md_plain.creation_time, ==, 1600000000123000);
  g_assert_cmpint (md_plain.modification_time, ==, 1600000000123000);
}

/* A minimal DNG as cameras write them: IFD0 is a JPEG preview (with the
 * Orientation, Make, Model and DateTime), its SubIFD the 16-bit CFA data. */
static void
put16 (GByteArray *b,
       guint       v)
{
  guint8 x[2] = { v & 0xff, v >> 8 };
  g_byte_array_append (b, x, 2);
}

static void
put32 (GByteArray *b,
       guint32     v)
{
  guint8 x[4] = { v & 0xff, v >> 8 & 0xff, v >> 16 & 0xff, v >> 24 };
  g_byte_array_append (b, x, 4);
}

typedef struct { guint16 tag, type; guint32 count; const guint8 *data; guint32 value; } Entry;

/* Writes an IFD at the end of @b; values longer than 4 bytes follow it. */
static void
put_ifd (GByteArray  *b,
         const Entry *entries,
         guint        n)
{
  static const guint sizes[] = { 0, 1, 1, 2, 4, 8 };
  guint32 extra = b->len + 2 + 12 * n + 4;
  g_autoptr(GByteArray) tail = g_byte_array_new ();

  put16 (b, n);
  for (guint i = 0; i < n; i++)
    {
      guint32 size = sizes[entries[i].type] * entries[i].count;

      put16 (b, entries[i].tag);
      put16 (b, entries[i].type);
      put32 (b, entries[i].count);
      if (entries[i].data == NULL)
        put32 (b, entries[i].value);
      else if (size <= 4)
        {
          guint8 v[4] = { 0 };
          memcpy (v, entries[i].data, size);
          g_byte_array_append (b, v, 4);
        }
      else
        {
          put32 (b, extra + tail->len);
          g_byte_array_append (tail, entries[i].data, size);
          if (tail->len & 1)
            g_byte_array_append (tail, (const guint8 *) "", 1);
        }
    }
  put32 (b, 0);
  g_byte_array_append (b, tail->data, tail->len);
}

static char *
make_dng (GBytes *preview)
{
  static const guint8 bps8[] = { 8, 0, 8, 0, 8, 0 };
  static const guint8 dng_version[] = { 1, 4, 0, 0 };
  static const guint8 cfa_dim[] = { 2, 0, 2, 0 };
  static const guint8 cfa[] = { 0, 1, 1, 2 };
  g_autoptr(GByteArray) b = g_byte_array_new ();
  guint32 preview_at = 4096;
  guint32 raw_at = 4096 + ((g_bytes_get_size (preview) + 1) & ~1u);
  guint32 raw_len = 64 * 64 * 2;
  Entry ifd0[] = {
    { 254, 4, 1, NULL, 1 },
    { 256, 4, 1, NULL, 400 },
    { 257, 4, 1, NULL, 200 },
    { 258, 3, 3, bps8, 0 },
    { 259, 3, 1, NULL, 7 },
    { 262, 3, 1, NULL, 6 },
    { 271, 2, 6, (const guint8 *) "Canon", 0 },
    { 272, 2, 7, (const guint8 *) "EOS R5", 0 },
    { 273, 4, 1, NULL, preview_at },
    { 274, 3, 1, NULL, 6 },
    { 277, 3, 1, NULL, 3 },
    { 278, 4, 1, NULL, 200 },
    { 279, 4, 1, NULL, g_bytes_get_size (preview) },
    { 306, 2, 20, (const guint8 *) "2022:05:01 10:20:30", 0 },
    { 330, 4, 1, NULL, 2048 },
    { 50706, 1, 4, dng_version, 0 },
    { 50707, 1, 4, dng_version, 0 },
    { 50708, 2, 13, (const guint8 *) "Canon EOS R5", 0 },
  };
  Entry raw[] = {
    { 254, 4, 1, NULL, 0 },
    { 256, 4, 1, NULL, 64 },
    { 257, 4, 1, NULL, 64 },
    { 258, 3, 1, NULL, 16 },
    { 259, 3, 1, NULL, 1 },
    { 262, 3, 1, NULL, 32803 },
    { 273, 4, 1, NULL, raw_at },
    { 277, 3, 1, NULL, 1 },
    { 278, 4, 1, NULL, 64 },
    { 279, 4, 1, NULL, raw_len },
    { 33421, 3, 2, cfa_dim, 0 },
    { 33422, 1, 4, cfa, 0 },
    { 50717, 4, 1, NULL, 4095 },
  };
  char *path = tmp_path ("IMG_0003.DNG");

  g_byte_array_append (b, (const guint8 *) "II*\0", 4);
  put32 (b, 8);
  put_ifd (b, ifd0, G_N_ELEMENTS (ifd0));
  g_assert_cmpuint (b->len, <=, 2048);
  g_byte_array_set_size (b, 2048);
  put_ifd (b, raw, G_N_ELEMENTS (raw));
  g_byte_array_set_size (b, preview_at);
  g_byte_array_append (b, g_bytes_get_data (preview, NULL), g_bytes_get_size (preview));
  g_byte_array_set_size (b, raw_at);
  for (guint i = 0; i < raw_len / 2; i++)
    put16 (b, (i * 37) % 4096);

  g_assert_true (g_file_set_contents (path, (const char *) b->data, b->len, NULL));
  return path;
}

static void
test_describe_dng (void)
{
  g_autoptr(GdkPixbuf) source = make_quadrants (400, 200);
  g_autofree char *preview_path = save_pixbuf (source, "preview.jpg", "jpeg");
  g_autoptr(GBytes) preview = read_file (preview_path);
  g_autofree char *path = make_dng (preview);
  g_auto(EiderMediaMetadata) md = { 0 };
  g_autoptr(GBytes) thumb = NULL;
  g_autoptr(GBytes) content = read_file (path);
  g_autoptr(GdkPixbuf) pixbuf = NULL;

  g_assert_cmpint (eider_media_classify (g_bytes_get_data (content, NULL), 64, "IMG_0003.DNG"),
                   ==, EIDER_FILE_TYPE_IMAGE);

  thumb = describe (path, EIDER_FILE_TYPE_IMAGE, 1700000000000000, &md);
  /* DateTime from IFD0 (no offset: Europe/Berlin, +02:00). */
  g_assert_cmpint (md.creation_time, ==, (gint64) 1651393230 * 1000000);
  g_assert_cmpstr (md.date_time, ==, "2022-05-01T10:20:30.000");
  g_assert_cmpstr (md.camera_make, ==, "Canon");
  g_assert_cmpstr (md.camera_model, ==, "EOS R5");
  /* The sensor's size as libraw reads it. */
  g_assert_cmpint (md.width, ==, 64);
  g_assert_cmpint (md.height, ==, 64);
  g_assert_false (md.has_static_thumbnail);

  /* The embedded preview, turned upright by the RAW's orientation. */
  pixbuf = decode_jpeg (thumb);
  g_assert_cmpint (gdk_pixbuf_get_width (pixbuf), ==, 200);
  g_assert_cmpint (gdk_pixbuf_get_height (pixbuf), ==, 400);
  assert_quadrants (pixbuf, BLUE, RED, WHITE, GREEN);
}

static void
test_describe_sidecar (void)
{
  g_autoptr(GdkPixbuf) source = make_quadrants (64, 64);
  g_autofree char *dir = tmp_path ("takeout");
  g_autofree char *meta = g_build_filename (dir, "metadata", NULL);
  g_autofree char *photo = NULL;
  g_autofree char *photo2 = NULL;
  g_autofree char *sidecar = g_build_filename (dir, "IMG_0004.jpg.supplemental-metadata.json", NULL);
  g_autofree char *sidecar2 = g_build_filename (meta, "IMG_0005.jpg.json", NULL);
  g_auto(EiderMediaMetadata) md = { 0 };
  g_auto(EiderMediaMetadata) md2 = { 0 };
  g_autoptr(GBytes) thumb = NULL;
  g_autoptr(GBytes) thumb2 = NULL;
  g_autofree char *pub = NULL;
  guint count = 0;

  g_assert_cmpint (g_mkdir_with_parents (meta, 0700), ==, 0);
  photo = g_build_filename (dir, "IMG_0004.jpg", NULL);
  photo2 = g_build_filename (dir, "IMG_0005.jpg", NULL);
  g_assert_true (gdk_pixbuf_save (source, photo, "jpeg", NULL, NULL));
  g_assert_true (gdk_pixbuf_save (source, photo2, "jpeg", NULL, NULL));
  {
    const char *argv[] = {
      "exiftool", "-q", "-overwrite_original", "-DateTimeOriginal=2023:08:23 18:03:00",
      "-OffsetTimeOriginal=+05:30", "-GPSLatitude=12.9716", "-GPSLatitudeRef=N",
      "-GPSLongitude=77.5946", "-GPSLongitudeRef=E", "-Make=Google", "-ImageDescription=Exif words",
      photo, photo2, NULL
    };
    if (!test_run_tool (argv))
      return;
  }

  g_assert_true (g_file_set_contents (sidecar,
    "{\"title\":\"IMG_0004.jpg\",\"description\":\"From Takeout\","
    "\"photoTakenTime\":{\"timestamp\":\"1600000000\",\"formatted\":\"x\"},"
    "\"creationTime\":{\"timestamp\":\"1500000000\"},"
    "\"modificationTime\":{\"timestamp\":1600000100},"
    "\"geoData\":{\"latitude\":48.8584,\"longitude\":2.2945,\"altitude\":0}}", -1, NULL));
  /* In a metadata/ folder; (0, 0) geoData is "none", geoDataExif is used;
   * no times: Exif keeps the date. */
  g_assert_true (g_file_set_contents (sidecar2,
    "{\"description\":\"\",\"geoData\":{\"latitude\":0.0,\"longitude\":0.0},"
    "\"geoDataExif\":{\"latitude\":-22.9519,\"longitude\":-43.2105}}", -1, NULL));

  thumb = describe (photo, EIDER_FILE_TYPE_IMAGE, 1700000000000000, &md);
  g_assert_cmpint (md.creation_time, ==, 1600000000000000);
  g_assert_cmpint (md.modification_time, ==, 1600000100000000);
  g_assert_true (md.has_location);
  g_assert_cmpfloat (md.latitude, ==, 48.8584);
  g_assert_cmpfloat (md.longitude, ==, 2.2945);
  g_assert_cmpstr (md.caption, ==, "From Takeout");
  g_assert_null (md.date_time);
  g_assert_null (md.offset_time);
  g_assert_cmpstr (md.camera_make, ==, "Google");
  pub = eider_media_public_magic_to_json (&md, &count);
  g_assert_cmpstr (pub, ==, "{\"w\":64,\"h\":64,\"caption\":\"From Takeout\",\"cameraMake\":\"Google\"}");
  g_assert_cmpuint (count, ==, 4);

  thumb2 = describe (photo2, EIDER_FILE_TYPE_IMAGE, 1700000000000000, &md2);
  g_assert_cmpint (md2.creation_time, ==, (gint64) 1692793980 * 1000000);
  g_assert_cmpint (md2.modification_time, ==, 1700000000000000);
  g_assert_cmpstr (md2.date_time, ==, "2023-08-23T18:03:00.000");
  g_assert_cmpfloat (md2.latitude, ==, -22.9519);
  g_assert_cmpfloat (md2.longitude, ==, -43.2105);
  g_assert_cmpstr (md2.caption, ==, "Exif words");
}

static void
test_public_magic_empty (void)
{
  g_auto(EiderMediaMetadata) md = { 0 };
  guint count = 99;
  char *json;

  json = eider_media_public_magic_to_json (&md, &count);
  g_assert_null (json);
  g_assert_cmpuint (count, ==, 0);

  /* An offset alone says nothing; a width without height neither. */
  md.offset_time = g_strdup ("+01:00");
  md.width = 10;
  md.camera_make = g_strdup ("");
  json = eider_media_public_magic_to_json (&md, &count);
  g_assert_null (json);
  g_assert_cmpuint (count, ==, 0);
}

static void
test_thumbnail_size_target (void)
{
  g_autoptr(GdkPixbuf) noise = gdk_pixbuf_new (GDK_COLORSPACE_RGB, TRUE, 8, 2000, 1500);
  g_autofree char *path = NULL;
  g_auto(EiderMediaMetadata) md = { 0 };
  g_autoptr(GBytes) thumb = NULL;
  g_autoptr(GdkPixbuf) pixbuf = NULL;
  guchar *pixels = gdk_pixbuf_get_pixels (noise);

  for (gsize i = 0; i < (gsize) gdk_pixbuf_get_rowstride (noise) * 1500; i++)
    pixels[i] = (guchar) g_random_int ();
  path = save_pixbuf (noise, "noise.png", "png");

  thumb = describe (path, EIDER_FILE_TYPE_IMAGE, 1700000000000000, &md);
  g_assert_false (md.has_static_thumbnail);
  g_assert_cmpint (md.width, ==, 2000);
  g_assert_cmpint (md.height, ==, 1500);
  g_assert_cmpuint (g_bytes_get_size (thumb), <=, 100 * 1024);
  pixbuf = decode_jpeg (thumb);
  g_assert_cmpint (MAX (gdk_pixbuf_get_width (pixbuf), gdk_pixbuf_get_height (pixbuf)), <=, 720);
  g_assert_cmpint (gdk_pixbuf_get_width (pixbuf) * 3, ==, gdk_pixbuf_get_height (pixbuf) * 4);
}

static void
test_motion_photo (void)
{
  g_autoptr(GdkPixbuf) source = make_quadrants (320, 240);
  g_autofree char *still = save_pixbuf (source, "still.jpg", "jpeg");
  g_autofree char *path = tmp_path ("PXL_20230823_123000000.MP.jpg");
  g_autoptr(GBytes) jpeg = read_file (still);
  g_autoptr(GByteArray) motion = g_byte_array_new ();
  g_autoptr(GBytes) before = NULL;
  g_autoptr(GBytes) after = NULL;
  g_autoptr(GBytes) thumb = NULL;
  g_autoptr(GdkPixbuf) pixbuf = NULL;
  g_auto(EiderMediaMetadata) md = { 0 };
  static const guint8 mp4[] = "\0\0\0\x18" "ftypmp42\0\0\0\0mp42isom\0\0\0\x08" "mdat";

  /* A Google motion photo: the JPEG, then an MP4 appended. */
  g_byte_array_append (motion, g_bytes_get_data (jpeg, NULL), g_bytes_get_size (jpeg));
  g_byte_array_append (motion, mp4, sizeof mp4 - 1);
  g_assert_true (g_file_set_contents (path, (const char *) motion->data, motion->len, NULL));
  before = read_file (path);

  g_assert_cmpint (eider_media_classify (motion->data, motion->len, path), ==, EIDER_FILE_TYPE_IMAGE);
  thumb = describe (path, EIDER_FILE_TYPE_IMAGE, 1700000000000000, &md);
  g_assert_false (md.has_static_thumbnail);
  g_assert_cmpint (md.width, ==, 320);
  pixbuf = decode_jpeg (thumb);
  assert_quadrants (pixbuf, RED, GREEN, BLUE, WHITE);

  /* The file is only read. */
  after = read_file (path);
  g_assert_true (g_bytes_equal (before, after));
}

static guint32
crc32 (const guint8 *data,
       gsize         len)
{
  guint32 crc = 0xffffffff;

  for (gsize i = 0; i < len; i++)
    {
      crc ^= data[i];
      for (int k = 0; k < 8; k++)
        crc = (crc >> 1) ^ (0xedb88320 & -(crc & 1));
    }

  return ~crc;
}

static guint8 *
find_bytes (guint8     *data,
            gsize       len,
            const char *needle,
            gsize       needle_len)
{
  for (gsize i = 0; i + needle_len <= len; i++)
    if (memcmp (data + i, needle, needle_len) == 0)
      return data + i;

  return NULL;
}

static char *
write_corpus_file (const char   *name,
                   const guint8 *data,
                   gsize         len)
{
  char *path = tmp_path (name);

  g_assert_true (g_file_set_contents (path, (const char *) data, len, NULL));
  return path;
}

static void
test_corrupt_corpus (void)
{
  g_autoptr(GdkPixbuf) source = make_quadrants (400, 200);
  g_autofree char *exif_jpeg = save_pixbuf (source, "corpus-base.jpg", "jpeg");
  const char *argv[] = {
    "exiftool", "-q", "-overwrite_original", "-DateTimeOriginal=2023:08:23 18:03:00",
    "-GPSLatitude=1", "-GPSLongitude=1", "-Orientation#=6", exif_jpeg, NULL
  };
  g_autoptr(GBytes) base = NULL;
  g_autoptr(GPtrArray) corpus = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GRand) rand = g_rand_new_with_seed (11);
  const guint8 *b;
  gsize n;
  gint64 start;

  if (!test_run_tool (argv))
    return;
  base = read_file (exif_jpeg);
  b = g_bytes_get_data (base, &n);

  g_ptr_array_add (corpus, write_corpus_file ("empty.jpg", (const guint8 *) "", 0));
  g_ptr_array_add (corpus, write_corpus_file ("truncated.jpg", b, n * 6 / 10));
  g_ptr_array_add (corpus, write_corpus_file ("header-only.jpg", b, 200));

  {
    /* Exif whose IFD offsets point far past the block. */
    g_autofree guint8 *copy = g_memdup2 (b, n);
    guint8 *tiff = find_bytes (copy, n, "Exif\0\0", 6);

    g_assert_nonnull (tiff);
    tiff += 6;
    tiff[4] = 0xf0; tiff[5] = 0xff; tiff[6] = 0xff; tiff[7] = 0x7f;
    g_ptr_array_add (corpus, write_corpus_file ("bad-ifd0.jpg", copy, n));
    memcpy (copy, b, n);
    /* IFD0 with 65535 entries */
    tiff[8] = 0xff; tiff[9] = 0xff;
    g_ptr_array_add (corpus, write_corpus_file ("bad-count.jpg", copy, n));
  }

  {
    /* A valid PNG header claiming 100000×100000, then nothing. */
    guint8 png[8 + 25 + 12] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n',
                                0, 0, 0, 13, 'I', 'H', 'D', 'R',
                                0, 1, 0x86, 0xa0, 0, 1, 0x86, 0xa0, 8, 2, 0, 0, 0 };
    guint32 crc = crc32 (png + 12, 17);

    png[29] = crc >> 24; png[30] = crc >> 16; png[31] = crc >> 8; png[32] = crc;
    memcpy (png + 33, "\0\0\0\0IEND\xae\x42\x60\x82", 12);
    g_ptr_array_add (corpus, write_corpus_file ("huge.png", png, sizeof png));
  }

  {
    /* A JPEG whose SOF claims 65000×65000. */
    g_autofree char *small = save_pixbuf (source, "corpus-small.jpg", "jpeg");
    g_autoptr(GBytes) s = read_file (small);
    gsize len;
    g_autofree guint8 *copy = g_memdup2 (g_bytes_get_data (s, &len), g_bytes_get_size (s));
    guint8 *sof = find_bytes (copy, len, "\xff\xc0", 2);

    g_assert_nonnull (sof);
    sof[5] = 0xfd; sof[6] = 0xe8; sof[7] = 0xfd; sof[8] = 0xe8;
    g_ptr_array_add (corpus, write_corpus_file ("huge-sof.jpg", copy, len));
  }

  {
    static const guint8 gif[] = "GIF89a\xff\xff\xff\xff\x00\x00\x00;";
    static const guint8 webp[] = "RIFF\x30\0\0\0WEBPVP8X\x0a\0\0\0\0\0\0\0\xff\xff\xff\xff\xff\xff";
    static const guint8 heic[] = "\0\0\0\x18" "ftypheic\0\0\0\0mif1heic\0\0\x10\0meta garbage";
    static const guint8 tiff_loop[] = "II*\0\x08\0\0\0\x01\0\x00\x01\x04\0\x01\0\0\0\xff\xff\0\0\x08\0\0\0";
    static const guint8 bmp[] = "BM\0\0\0\0\0\0\0\0\x36\0\0\0\x28\0\0\0\xff\xff\xff\x7f\xff\xff\xff\x7f\x01\0\x18\0";
    guint8 junk[4096];

    for (guint i = 0; i < sizeof junk; i++)
      junk[i] = (guint8) g_rand_int (rand);
    g_ptr_array_add (corpus, write_corpus_file ("huge.gif", gif, sizeof gif - 1));
    g_ptr_array_add (corpus, write_corpus_file ("huge.webp", webp, sizeof webp - 1));
    g_ptr_array_add (corpus, write_corpus_file ("broken.heic", heic, sizeof heic - 1));
    g_ptr_array_add (corpus, write_corpus_file ("loop.tif", tiff_loop, sizeof tiff_loop - 1));
    g_ptr_array_add (corpus, write_corpus_file ("loop.dng", tiff_loop, sizeof tiff_loop - 1));
    g_ptr_array_add (corpus, write_corpus_file ("huge.bmp", bmp, sizeof bmp - 1));
    g_ptr_array_add (corpus, write_corpus_file ("junk.nef", junk, sizeof junk));
    g_ptr_array_add (corpus, write_corpus_file ("junk.cr3", junk, 7));
  }

  start = g_get_monotonic_time ();
  for (guint i = 0; i < corpus->len; i++)
    {
      const char *path = g_ptr_array_index (corpus, i);
      g_autofree char *name = g_path_get_basename (path);
      g_auto(EiderMediaMetadata) md = { 0 };
      g_autoptr(GBytes) thumb = NULL;
      g_autoptr(GdkPixbuf) pixbuf = NULL;

      g_test_message ("corpus: %s", name);
      thumb = describe (path, EIDER_FILE_TYPE_IMAGE, 1700000000000000, &md);
      /* Always a decodable JPEG within the limits. */
      pixbuf = decode_jpeg (thumb);
      g_assert_cmpint (MAX (gdk_pixbuf_get_width (pixbuf), gdk_pixbuf_get_height (pixbuf)), <=, 720);
      if (!g_str_has_prefix (name, "truncated") && !g_str_has_prefix (name, "bad-"))
        g_assert_true (md.has_static_thumbnail);
      /* Damaged Exif costs (at most) the Exif, not the picture. */
      if (g_str_has_prefix (name, "bad-"))
        g_assert_false (md.has_static_thumbnail);
      if (g_str_equal (name, "bad-ifd0.jpg"))
        g_assert_cmpint (md.creation_time, ==, 1700000000000000);
      g_assert_cmpint (md.creation_time, >, 0);
    }
  /* Refused early: no huge allocations, no long decodes. */
  g_assert_cmpint (g_get_monotonic_time () - start, <, 20 * G_USEC_PER_SEC);
}

/* GStreamer's many quarks make GLib drop its first quark table on purpose;
 * tools/test's ASan options and tools/lsan.supp account for it. */
static void
test_describe_video (void)
{
  g_autofree char *path = tmp_path ("VID_20230823_180300.mov");
  g_autofree char *location = g_strdup_printf ("location=%s", path);
  const char *argv[] = {
    "gst-launch-1.0", "-q", "-e", "videotestsrc", "num-buffers=50", "!",
    "video/x-raw,width=320,height=240,framerate=25/1", "!", "jpegenc", "!", "qtmux", "!",
    "filesink", location, NULL
  };
  g_auto(EiderMediaMetadata) md = { 0 };
  g_autoptr(GBytes) thumb = NULL;
  g_autoptr(GBytes) head = NULL;
  g_autoptr(GdkPixbuf) pixbuf = NULL;
  g_autofree char *pub = NULL;
  g_autofree char *json = NULL;
  guint count = 0;

  if (!test_run_tool (argv))
    return;
  head = read_file (path);
  g_assert_cmpint (eider_media_classify (g_bytes_get_data (head, NULL), 64, path), ==,
                   EIDER_FILE_TYPE_VIDEO);

  thumb = describe (path, EIDER_FILE_TYPE_VIDEO, 1600000000000000, &md);
  g_assert_cmpint (md.file_type, ==, EIDER_FILE_TYPE_VIDEO);
  /* 2 s of video; a frame from it as the thumbnail. */
  g_assert_cmpint (md.duration, ==, 2);
  g_assert_false (md.has_static_thumbnail);
  pixbuf = decode_jpeg (thumb);
  g_assert_cmpint (gdk_pixbuf_get_width (pixbuf), ==, 320);
  g_assert_cmpint (gdk_pixbuf_get_height (pixbuf), ==, 240);
  /* The muxer wrote the time it ran (embedded date beats the name's). */
  g_assert_cmpint (ABS (md.creation_time - g_get_real_time ()), <, (gint64) 600 * G_USEC_PER_SEC);
  /* Web writes no w/h for videos; the movie header's UTC time gives
   * dateTime (its UTC wall clock) and offsetTime "Z". */
  {
    g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc (md.creation_time / G_USEC_PER_SEC);
    g_autofree char *wall = g_date_time_format (utc, "%Y-%m-%dT%H:%M:%S.000");
    g_autofree char *expected = g_strdup_printf ("{\"dateTime\":\"%s\",\"offsetTime\":\"Z\"}", wall);

    g_assert_cmpint (md.creation_time % G_USEC_PER_SEC, ==, 0);
    pub = eider_media_public_magic_to_json (&md, &count);
    g_assert_cmpstr (pub, ==, expected);
    g_assert_cmpuint (count, ==, 2);
  }

  md.title = g_strdup ("VID_20230823_180300.mov");
  md.hash = g_strdup ("h");
  json = eider_media_metadata_to_json (&md);
  g_assert_true (g_str_has_suffix (json, ",\"hash\":\"h\",\"duration\":2}"));

  /* Apple's creation-date key: the wall clock and the offset as written. */
  {
    const char *tool[] = { "exiftool", "-q", "-overwrite_original",
                           "-Keys:CreationDate=2023:08:23 18:03:00+05:30", path, NULL };
    g_auto(EiderMediaMetadata) md2 = { 0 };
    g_autoptr(GBytes) thumb2 = NULL;
    g_autofree char *pub2 = NULL;

    if (!test_run_tool (tool))
      return;
    thumb2 = describe (path, EIDER_FILE_TYPE_VIDEO, 1600000000000000, &md2);
    g_assert_cmpint (md2.creation_time, ==, G_GINT64_CONSTANT (1692793980000000));
    pub2 = eider_media_public_magic_to_json (&md2, &count);
    g_assert_cmpstr (pub2, ==, "{\"dateTime\":\"2023-08-23T18:03:00.000\",\"offsetTime\":\"+0530\"}");
    g_assert_cmpuint (count, ==, 2);
  }
}

/* Puts an APP1 XMP segment with @packet (its first @len bytes) right after
 * a JPEG's SOI. */
static void
insert_xmp_app1 (const char *path,
                 const char *packet,
                 gsize       len)
{
  static const char sig[] = "http://ns.adobe.com/xap/1.0/";
  g_autofree char *data = NULL;
  gsize size = 0;
  g_autoptr(GByteArray) out = g_byte_array_new ();
  gsize seg = 2 + sizeof sig + len;
  guint8 head[4] = { 0xff, 0xe1, (guint8) (seg >> 8), (guint8) seg };

  g_assert_cmpuint (seg, <, 65536);
  g_assert_true (g_file_get_contents (path, &data, &size, NULL));
  g_byte_array_append (out, (const guint8 *) data, 2);
  g_byte_array_append (out, head, 4);
  g_byte_array_append (out, (const guint8 *) sig, sizeof sig);
  g_byte_array_append (out, (const guint8 *) packet, len);
  g_byte_array_append (out, (const guint8 *) data + 2, size - 2);
  g_assert_true (g_file_set_contents (path, (const char *) out->data, out->len, NULL));
}

#define PACKET_HEAD \
  "<?xpacket begin=\"\xef\xbb\xbf\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>" \
  "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF " \
  "xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\"><rdf:Description " \
  "xmlns:exif=\"http://ns.adobe.com/exif/1.0/\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\">"
#define PACKET_TAIL "</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end=\"w\"?>"

/* One file per container, XMP written by exiftool: the date and caption
 * land in the metadata as web reads them (spec §4.2, §4.5, §5.2). */
static void
test_describe_xmp (void)
{
  g_autoptr(GdkPixbuf) source = make_quadrants (64, 48);
  const char *formats[][2] = {
    { "xmp.jpg", "jpeg" }, { "xmp.png", "png" }, { "xmp.tif", "tiff" },
    { "xmp.webp", NULL }, { "xmp.heic", NULL },
  };
  g_autofree char *base = save_pixbuf (source, "xmp-base.jpg", "jpeg");
  g_autofree char *base_png = save_pixbuf (source, "xmp-base.png", "png");

  for (guint i = 0; i < G_N_ELEMENTS (formats); i++)
    {
      g_autofree char *path = tmp_path (formats[i][0]);
      const char *tool[] = {
        "exiftool", "-q", "-overwrite_original", "-DateTimeOriginal=2021:01:02 03:04:05",
        "-ImageDescription=From Exif", "-XMP-exif:DateTimeOriginal=2023:08:23 18:03:00.5+05:30",
        "-XMP-dc:Description=From XMP", path, NULL
      };
      g_auto(EiderMediaMetadata) md = { 0 };
      g_autoptr(GBytes) thumb = NULL;

      g_test_message ("%s", formats[i][0]);
      if (formats[i][1] != NULL)
        g_assert_true (gdk_pixbuf_save (source, path, formats[i][1], NULL, NULL));
      else if (g_str_has_suffix (path, ".webp"))
        {
          const char *convert[] = { "convert", base_png, path, NULL };

          if (!test_run_tool (convert))
            return;
        }
      else
        {
          const char *enc[] = { "heif-enc", "-q", "90", "-o", path, base, NULL };

          if (!test_run_tool (enc))
            return;
        }
      if (!test_run_tool (tool))
        return;

      thumb = describe (path, EIDER_FILE_TYPE_IMAGE, 1700000000000000, &md);
      /* XMP's DateTimeOriginal beats Exif's; the offset gives the instant. */
      g_assert_cmpint (md.creation_time, ==, G_GINT64_CONSTANT (1692793980500000));
      g_assert_cmpstr (md.date_time, ==, "2023-08-23T18:03:00.500");
      g_assert_cmpstr (md.offset_time, ==, "+05:30");
      /* dc:description beats ImageDescription. */
      g_assert_cmpstr (md.caption, ==, "From XMP");
      g_assert_cmpint (md.width, ==, 64);
      g_assert_cmpint (md.height, ==, 48);
    }
}

/* JPEG cases: Exif beats XMP's CreateDate, IPTC beats Exif, a broken XMP
 * date falls through, a truncated packet is ignored. */
static void
test_describe_xmp_order (void)
{
  g_autoptr(GdkPixbuf) source = make_quadrants (64, 48);
  g_autofree char *create = save_pixbuf (source, "xmp-create.jpg", "jpeg");
  g_autofree char *iptc = save_pixbuf (source, "iptc.jpg", "jpeg");
  g_autofree char *broken = save_pixbuf (source, "xmp-broken.jpg", "jpeg");
  g_autofree char *truncated = save_pixbuf (source, "xmp-truncated.jpg", "jpeg");
  const char *tool_create[] = {
    "exiftool", "-q", "-overwrite_original", "-DateTimeOriginal=2021:01:02 03:04:05",
    "-XMP-xmp:CreateDate=2023:08:23 18:03:00+05:30", create, NULL
  };
  const char *tool_iptc[] = {
    "exiftool", "-q", "-overwrite_original", "-DateTimeOriginal=2021:01:02 03:04:05",
    "-ImageDescription=From Exif", "-IPTC:DateCreated=2022:07:04",
    "-IPTC:TimeCreated=09:30:15-04:00", "-IPTC:Caption-Abstract=From IPTC", iptc, NULL
  };
  const char *tool_exif[] = {
    "exiftool", "-q", "-overwrite_original", "-DateTimeOriginal=2021:01:02 03:04:05",
    "-OffsetTimeOriginal=+01:00", broken, truncated, NULL
  };
  const char *broken_packet =
    PACKET_HEAD "<exif:DateTimeOriginal>2023-02-30T18:03:00</exif:DateTimeOriginal>"
    "<dc:description><rdf:Alt><rdf:li xml:lang=\"x-default\">Still read</rdf:li></rdf:Alt>"
    "</dc:description>" PACKET_TAIL;
  const char *good_packet =
    PACKET_HEAD "<exif:DateTimeOriginal>2023-08-23T18:03:00+05:30</exif:DateTimeOriginal>"
    PACKET_TAIL;
  g_auto(EiderMediaMetadata) md = { 0 };
  g_auto(EiderMediaMetadata) md2 = { 0 };
  g_auto(EiderMediaMetadata) md3 = { 0 };
  g_auto(EiderMediaMetadata) md4 = { 0 };
  g_autoptr(GBytes) t1 = NULL;
  g_autoptr(GBytes) t2 = NULL;
  g_autoptr(GBytes) t3 = NULL;
  g_autoptr(GBytes) t4 = NULL;

  if (!test_run_tool (tool_create) || !test_run_tool (tool_iptc) || !test_run_tool (tool_exif))
    return;

  /* Exif DateTimeOriginal (local time, Berlin winter: UTC+1) beats XMP's
   * CreateDate. */
  t1 = describe (create, EIDER_FILE_TYPE_IMAGE, 1700000000000000, &md);
  g_assert_cmpint (md.creation_time, ==, G_GINT64_CONSTANT (1609553045000000));
  g_assert_cmpstr (md.date_time, ==, "2021-01-02T03:04:05.000");
  g_assert_null (md.offset_time);

  /* IPTC's Date Created + Time Created beat Exif; its caption beats
   * ImageDescription. */
  t2 = describe (iptc, EIDER_FILE_TYPE_IMAGE, 1700000000000000, &md2);
  g_assert_cmpint (md2.creation_time, ==, G_GINT64_CONSTANT (1656941415000000));
  g_assert_cmpstr (md2.date_time, ==, "2022-07-04T09:30:15.000");
  g_assert_cmpstr (md2.offset_time, ==, "-04:00");
  g_assert_cmpstr (md2.caption, ==, "From IPTC");

  /* An impossible XMP date falls through to Exif's; the packet's
   * description is still used. */
  insert_xmp_app1 (broken, broken_packet, strlen (broken_packet));
  t3 = describe (broken, EIDER_FILE_TYPE_IMAGE, 1700000000000000, &md3);
  g_assert_cmpint (md3.creation_time, ==, G_GINT64_CONSTANT (1609553045000000));
  g_assert_cmpstr (md3.date_time, ==, "2021-01-02T03:04:05.000");
  g_assert_cmpstr (md3.offset_time, ==, "+01:00");
  g_assert_cmpstr (md3.caption, ==, "Still read");

  /* A packet cut short is not XML: ignored, Exif's date is used. */
  insert_xmp_app1 (truncated, good_packet, strlen (good_packet) - 40);
  t4 = describe (truncated, EIDER_FILE_TYPE_IMAGE, 1700000000000000, &md4);
  g_assert_cmpint (md4.creation_time, ==, G_GINT64_CONSTANT (1609553045000000));
  g_assert_cmpstr (md4.offset_time, ==, "+01:00");
  g_assert_null (md4.caption);
  g_assert_false (md4.has_static_thumbnail);
}

static void
test_describe_cancelled (void)
{
  g_autoptr(GdkPixbuf) source = make_quadrants (64, 64);
  g_autofree char *path = save_pixbuf (source, "cancel.jpg", "jpeg");
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_auto(EiderMediaMetadata) md = { 0 };
  g_autoptr(GBytes) thumb = NULL;
  g_autoptr(GError) error = NULL;

  g_cancellable_cancel (cancellable);
  g_assert_false (eider_media_describe (path, NULL, EIDER_FILE_TYPE_IMAGE, 1, &md, &thumb,
                                        cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        remove_tree (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

int
main (int   argc,
      char *argv[])
{
  int ret;

  /* Dates without an offset are local time: make "local" known. */
  g_setenv ("TZ", "Europe/Berlin", TRUE);
  g_assert_true (eider_crypto_init (NULL));
  g_test_init (&argc, &argv, NULL);

  tmpdir = g_dir_make_tmp ("eider-test-media-XXXXXX", NULL);
  g_assert_nonnull (tmpdir);

  g_test_add_func ("/media/classify", test_classify);
  g_test_add_func ("/media/metadata-json", test_metadata_json);
  g_test_add_func ("/media/thumbnail", test_thumbnail);
  g_test_add_func ("/media/thumbnail-fallbacks", test_thumbnail_fallbacks);
  g_test_add_func ("/media/describe/jpeg-exif", test_describe_jpeg);
  g_test_add_func ("/media/describe/heic", test_describe_heic);
  g_test_add_func ("/media/describe/webp", test_describe_webp);
  g_test_add_func ("/media/describe/png-names", test_describe_png_names);
  g_test_add_func ("/media/describe/dng", test_describe_dng);
  g_test_add_func ("/media/describe/sidecar", test_describe_sidecar);
  g_test_add_func ("/media/describe/motion-photo", test_motion_photo);
  g_test_add_func ("/media/describe/corrupt", test_corrupt_corpus);
  g_test_add_func ("/media/describe/video", test_describe_video);
  g_test_add_func ("/media/describe/xmp", test_describe_xmp);
  g_test_add_func ("/media/describe/xmp-order", test_describe_xmp_order);
  g_test_add_func ("/media/describe/cancelled", test_describe_cancelled);
  g_test_add_func ("/media/public-magic-empty", test_public_magic_empty);
  g_test_add_func ("/media/thumbnail-size-target", test_thumbnail_size_target);

  ret = g_test_run ();

  remove_tree (tmpdir);
  g_free (tmpdir);

  return ret;
}
