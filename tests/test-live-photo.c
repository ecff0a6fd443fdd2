/* test-live-photo.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The live-photo zip (spec/ente-upload.md §7.2): what eider_live_photo_pack
 * writes is checked byte by byte against the zip format (local headers,
 * central directory), and eider_live_photo_unpack reads both its output and
 * zips made by other writers (libarchive deflating, Info-ZIP's `zip`).
 */
#include "config.h"

#include <string.h>

#include <archive.h>
#include <archive_entry.h>
#include <glib/gstdio.h>

#include "eider-live-photo.h"
#include "eider-test-server-harness.h"

static char *tmp_dir;

static char *
tmp_path (const char *name)
{
  return g_build_filename (tmp_dir, name, NULL);
}

static GBytes *
random_bytes (gsize   len,
              guint32 seed)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  guint8 *data = g_malloc (len);

  for (gsize i = 0; i < len; i++)
    data[i] = g_rand_int_range (rand, 0, 256);
  return g_bytes_new_take (data, len);
}

static char *
write_file (const char *name,
            GBytes     *content)
{
  g_autofree char *path = tmp_path (name);
  g_autoptr(GError) error = NULL;

  g_assert_true (g_file_set_contents (path, g_bytes_get_data (content, NULL),
                                      g_bytes_get_size (content), &error));
  g_assert_no_error (error);
  return g_steal_pointer (&path);
}

static GBytes *
read_file (const char *path)
{
  g_autoptr(GError) error = NULL;
  char *contents = NULL;
  gsize len = 0;

  g_assert_true (g_file_get_contents (path, &contents, &len, &error));
  g_assert_no_error (error);
  return g_bytes_new_take (contents, len);
}

static guint16
le16 (const guint8 *p)
{
  return p[0] | (p[1] << 8);
}

static guint32
le32 (const guint8 *p)
{
  return p[0] | (p[1] << 8) | (p[2] << 16) | ((guint32) p[3] << 24);
}

/* Walks the central directory: exactly @n entries named @names, all
 * STORED, each local header naming the same entry. */
static void
assert_zip_layout (GBytes      *zip,
                   const char **names,
                   guint        n)
{
  gsize len;
  const guint8 *d = g_bytes_get_data (zip, &len);
  const guint8 *eocd = NULL;
  guint32 cd_offset;
  gsize p;

  g_assert_cmpuint (len, >=, 22);
  for (gsize i = len - 22; i + 1 > 0 && eocd == NULL; i--)
    if (le32 (d + i) == 0x06054b50)
      eocd = d + i;
  g_assert_nonnull (eocd);
  g_assert_cmpuint (le16 (eocd + 10), ==, n);   /* total entries */
  cd_offset = le32 (eocd + 16);
  p = cd_offset;
  for (guint i = 0; i < n; i++)
    {
      guint16 name_len, extra_len, comment_len;
      guint32 local;

      g_assert_cmpuint (p + 46, <=, len);
      g_assert_cmpuint (le32 (d + p), ==, 0x02014b50);
      g_assert_cmpuint (le16 (d + p + 10), ==, 0);   /* method: stored */
      name_len = le16 (d + p + 28);
      extra_len = le16 (d + p + 30);
      comment_len = le16 (d + p + 32);
      g_assert_cmpuint (name_len, ==, strlen (names[i]));
      g_assert_true (memcmp (d + p + 46, names[i], name_len) == 0);
      local = le32 (d + p + 42);
      g_assert_cmpuint (le32 (d + local), ==, 0x04034b50);
      g_assert_cmpuint (le16 (d + local + 8), ==, 0);      /* stored here too */
      g_assert_cmpuint (le16 (d + local + 26), ==, name_len);
      g_assert_true (memcmp (d + local + 30, names[i], name_len) == 0);
      /* The entry's bytes are there uncompressed, right after the header. */
      g_assert_cmpuint (le32 (d + p + 20), ==, le32 (d + p + 24));
      p += 46 + name_len + extra_len + comment_len;
    }
}

static void
assert_unpacks (GBytes     *zip,
                GBytes     *image,
                const char *image_ext,
                GBytes     *video,
                const char *video_ext)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) got_image = NULL;
  g_autoptr(GBytes) got_video = NULL;
  g_autofree char *got_image_ext = NULL;
  g_autofree char *got_video_ext = NULL;

  g_assert_true (eider_live_photo_unpack (zip, &got_image, &got_image_ext,
                                          &got_video, &got_video_ext, &error));
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (got_image, image));
  g_assert_true (g_bytes_equal (got_video, video));
  g_assert_cmpstr (got_image_ext, ==, image_ext);
  g_assert_cmpstr (got_video_ext, ==, video_ext);
}

static void
test_pack (void)
{
  g_autoptr(GBytes) image = random_bytes (300 * 1024 + 17, 1);
  g_autoptr(GBytes) video = random_bytes (1024 * 1024 + 3, 2);
  g_autofree char *image_path = write_file ("IMG_0001.HEIC", image);
  g_autofree char *video_path = write_file ("IMG_0001.MOV", video);
  g_autofree char *zip_path = tmp_path ("live.zip");
  g_autofree char *zip_again = tmp_path ("live-again.zip");
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) zip = NULL;
  g_autoptr(GBytes) zip2 = NULL;
  const char *names[] = { "image.HEIC", "video.MOV" };

  g_assert_true (eider_live_photo_pack (image_path, video_path, zip_path, &error));
  g_assert_no_error (error);
  zip = read_file (zip_path);
  assert_zip_layout (zip, names, 2);
  assert_unpacks (zip, image, "HEIC", video, "MOV");

  /* Different time, different file times, another target: the same bytes. */
  g_usleep (1100 * 1000);
  {
    g_autoptr(GFile) f = g_file_new_for_path (image_path);

    g_assert_true (g_file_set_attribute_uint64 (f, G_FILE_ATTRIBUTE_TIME_MODIFIED, 1234567890,
                                                G_FILE_QUERY_INFO_NONE, NULL, &error));
    g_assert_no_error (error);
  }
  g_assert_true (eider_live_photo_pack (image_path, video_path, zip_again, &error));
  g_assert_no_error (error);
  zip2 = read_file (zip_again);
  g_assert_true (g_bytes_equal (zip, zip2));

  /* Repacking over the old zip (a resumed upload) also gives the same bytes,
   * and leaves no temporary file behind. */
  g_assert_true (eider_live_photo_pack (image_path, video_path, zip_path, &error));
  g_assert_no_error (error);
  g_clear_pointer (&zip2, g_bytes_unref);
  zip2 = read_file (zip_path);
  g_assert_true (g_bytes_equal (zip, zip2));
  {
    g_autoptr(GDir) dir = g_dir_open (tmp_dir, 0, NULL);
    const char *name;

    while ((name = g_dir_read_name (dir)) != NULL)
      g_assert_false (g_str_has_prefix (name, "live.zip."));
  }
}

static void
test_pack_lowercase (void)
{
  g_autoptr(GBytes) image = random_bytes (5000, 3);
  g_autoptr(GBytes) video = g_bytes_new_static ("", 0);
  g_autofree char *image_path = write_file ("pic.jpg", image);
  g_autofree char *video_path = write_file ("pic.mp4", video);
  g_autofree char *zip_path = tmp_path ("lower.zip");
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) zip = NULL;
  const char *names[] = { "image.jpg", "video.mp4" };

  g_assert_true (eider_live_photo_pack (image_path, video_path, zip_path, &error));
  g_assert_no_error (error);
  zip = read_file (zip_path);
  assert_zip_layout (zip, names, 2);
  assert_unpacks (zip, image, "jpg", video, "mp4");
}

static void
test_pack_errors (void)
{
  g_autoptr(GBytes) image = random_bytes (100, 4);
  g_autofree char *image_path = write_file ("e.jpg", image);
  g_autofree char *missing = tmp_path ("missing.mov");
  g_autofree char *zip_path = tmp_path ("error.zip");
  g_autofree char *bad_dir = tmp_path ("no-such-dir/x.zip");
  g_autoptr(GError) error = NULL;

  g_assert_false (eider_live_photo_pack (image_path, missing, zip_path, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_false (g_file_test (zip_path, G_FILE_TEST_EXISTS));
  g_clear_error (&error);
  g_assert_false (eider_live_photo_pack (image_path, image_path, bad_dir, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
}

/* A zip written by libarchive with the given entries, deflated. */
static GBytes *
make_zip (const char **names,
          GBytes     **contents,
          guint        n,
          gboolean     deflate)
{
  struct archive *a = archive_write_new ();
  gsize size = 4 * 1024 * 1024, used = 0;
  guint8 *buf = g_malloc (size);

  g_assert_cmpint (archive_write_set_format_zip (a), ==, ARCHIVE_OK);
  g_assert_cmpint (archive_write_set_options (a, deflate ? "zip:compression=deflate"
                                                         : "zip:compression=store"), ==, ARCHIVE_OK);
  g_assert_cmpint (archive_write_open_memory (a, buf, size, &used), ==, ARCHIVE_OK);
  for (guint i = 0; i < n; i++)
    {
      struct archive_entry *e = archive_entry_new ();
      gsize len;
      gconstpointer data = g_bytes_get_data (contents[i], &len);

      archive_entry_set_pathname (e, names[i]);
      archive_entry_set_filetype (e, AE_IFREG);
      archive_entry_set_perm (e, 0644);
      archive_entry_set_size (e, len);
      g_assert_cmpint (archive_write_header (a, e), ==, ARCHIVE_OK);
      g_assert_cmpint (archive_write_data (a, data, len), ==, (la_ssize_t) len);
      archive_entry_free (e);
    }
  g_assert_cmpint (archive_write_close (a), ==, ARCHIVE_OK);
  archive_write_free (a);
  return g_bytes_new_take (buf, used);
}

static void
test_unpack_deflated (void)
{
  /* Compressible content, so deflate really changes the bytes. */
  g_autofree char *text_a = g_strnfill (200000, 'a');
  g_autofree char *text_b = g_strnfill (150000, 'b');
  g_autoptr(GBytes) image = g_bytes_new (text_a, 200000);
  g_autoptr(GBytes) video = g_bytes_new (text_b, 150000);
  const char *names[] = { "video.mov", "image.jpeg" };
  GBytes *contents[] = { video, image };
  g_autoptr(GBytes) zip = make_zip (names, contents, 2, TRUE);

  g_assert_cmpuint (g_bytes_get_size (zip), <, 20000);
  assert_unpacks (zip, image, "jpeg", video, "mov");
}

static void
test_unpack_info_zip (void)
{
  g_autofree char *zip_tool = g_find_program_in_path ("zip");
  g_autofree char *dir = tmp_path ("info-zip");
  g_autofree char *image_path = NULL;
  g_autofree char *video_path = NULL;
  g_autofree char *zip_path = tmp_path ("info.zip");
  g_autofree char *text = g_strnfill (100000, 'x');
  g_autoptr(GBytes) image = g_bytes_new (text, 100000);
  g_autoptr(GBytes) video = random_bytes (40000, 5);
  g_autoptr(GBytes) zip = NULL;
  g_autoptr(GError) error = NULL;
  int status = 0;
  const char *argv[] = { NULL, "-q", "-9", zip_path, "image.PNG", "video.webm", NULL };

  if (zip_tool == NULL)
    {
      g_test_skip ("Info-ZIP's zip is not installed");
      return;
    }
  g_assert_cmpint (g_mkdir (dir, 0755), ==, 0);
  image_path = g_build_filename (dir, "image.PNG", NULL);
  video_path = g_build_filename (dir, "video.webm", NULL);
  g_assert_true (g_file_set_contents (image_path, g_bytes_get_data (image, NULL), 100000, NULL));
  g_assert_true (g_file_set_contents (video_path, g_bytes_get_data (video, NULL), 40000, NULL));
  argv[0] = zip_tool;
  g_assert_true (g_spawn_sync (dir, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL,
                               NULL, NULL, NULL, NULL, &status, &error));
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  zip = read_file (zip_path);
  assert_unpacks (zip, image, "PNG", video, "webm");
  g_unlink (image_path);
  g_unlink (video_path);
  g_rmdir (dir);
}

static void
assert_rejected (GBytes *zip,
                 int     code)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) image = NULL;
  g_autoptr(GBytes) video = NULL;
  g_autofree char *image_ext = NULL;
  g_autofree char *video_ext = NULL;

  g_assert_false (eider_live_photo_unpack (zip, &image, &image_ext, &video, &video_ext, &error));
  g_assert_error (error, EIDER_LIVE_PHOTO_ERROR, code);
  g_test_message ("%s", error->message);
  g_assert_null (image);
  g_assert_null (video);
  g_assert_null (image_ext);
  g_assert_null (video_ext);
}

static void
test_unpack_rejects (void)
{
  g_autoptr(GBytes) a = random_bytes (1000, 6);
  g_autoptr(GBytes) b = random_bytes (2000, 7);
  g_autoptr(GBytes) c = random_bytes (3000, 8);

  {
    const char *names[] = { "image.jpg", "video.mov", "notes.txt" };
    GBytes *contents[] = { a, b, c };
    g_autoptr(GBytes) zip = make_zip (names, contents, 3, FALSE);

    assert_rejected (zip, EIDER_LIVE_PHOTO_ERROR_INVALID);
  }
  {
    const char *names[] = { "image.jpg" };
    GBytes *contents[] = { a };
    g_autoptr(GBytes) zip = make_zip (names, contents, 1, FALSE);

    assert_rejected (zip, EIDER_LIVE_PHOTO_ERROR_INVALID);
  }
  {
    const char *names[] = { "video.mov" };
    GBytes *contents[] = { b };
    g_autoptr(GBytes) zip = make_zip (names, contents, 1, TRUE);

    assert_rejected (zip, EIDER_LIVE_PHOTO_ERROR_INVALID);
  }
  {
    const char *names[] = { "image.jpg", "image.heic", "video.mov" };
    GBytes *contents[] = { a, c, b };
    g_autoptr(GBytes) zip = make_zip (names, contents, 3, FALSE);

    assert_rejected (zip, EIDER_LIVE_PHOTO_ERROR_INVALID);
  }
  {
    const char *names[] = { "sub/image.jpg", "video.mov" };
    GBytes *contents[] = { a, b };
    g_autoptr(GBytes) zip = make_zip (names, contents, 2, FALSE);

    assert_rejected (zip, EIDER_LIVE_PHOTO_ERROR_INVALID);
  }
  {
    g_autoptr(GBytes) junk = g_bytes_new_static ("this is not a zip at all", 24);
    g_autoptr(GBytes) empty = g_bytes_new_static ("", 0);

    assert_rejected (junk, EIDER_LIVE_PHOTO_ERROR_FAILED);
    assert_rejected (empty, EIDER_LIVE_PHOTO_ERROR_FAILED);
  }
  {
    /* A real live photo cut short. */
    const char *names[] = { "image.jpg", "video.mov" };
    GBytes *contents[] = { a, b };
    g_autoptr(GBytes) zip = make_zip (names, contents, 2, FALSE);
    g_autoptr(GBytes) cut = g_bytes_new_from_bytes (zip, 0, g_bytes_get_size (zip) - 30);

    assert_rejected (cut, EIDER_LIVE_PHOTO_ERROR_FAILED);
  }
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  int ret;

  g_test_init (&argc, &argv, NULL);

  tmp_dir = g_dir_make_tmp ("eider-live-photo-XXXXXX", &error);
  g_assert_no_error (error);

  g_test_add_func ("/live-photo/pack", test_pack);
  g_test_add_func ("/live-photo/pack-lowercase", test_pack_lowercase);
  g_test_add_func ("/live-photo/pack-errors", test_pack_errors);
  g_test_add_func ("/live-photo/unpack-deflated", test_unpack_deflated);
  g_test_add_func ("/live-photo/unpack-info-zip", test_unpack_info_zip);
  g_test_add_func ("/live-photo/unpack-rejects", test_unpack_rejects);

  ret = g_test_run ();
  test_rm_rf (tmp_dir);
  g_free (tmp_dir);
  return ret;
}
