/* test-media.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>
#include <gdk-pixbuf/gdk-pixbuf.h>

#include "eider-crypto.h"
#include "eider-media.h"

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

int
main (int   argc,
      char *argv[])
{
  g_assert_true (eider_crypto_init (NULL));
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/media/classify", test_classify);
  g_test_add_func ("/media/metadata-json", test_metadata_json);
  g_test_add_func ("/media/thumbnail", test_thumbnail);
  g_test_add_func ("/media/thumbnail-fallbacks", test_thumbnail_fallbacks);

  return g_test_run ();
}
