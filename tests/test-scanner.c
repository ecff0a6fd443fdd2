/* test-scanner.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The scanner over a real generated tree: what it keeps, what it skips and
 * why, album names under both mappings, FIFOs never opened, symlink loops.
 */
#include "config.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "eider-scanner.h"
#include "eider-test-server-harness.h"

static void
write_file (const char *root,
            const char *rel,
            const char *contents)
{
  g_autofree char *path = g_build_filename (root, rel, NULL);
  g_autofree char *dir = g_path_get_dirname (path);

  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  g_assert_true (g_file_set_contents (path, contents, -1, NULL));
}

static EiderScanEntry *
find (GPtrArray  *entries,
      const char *root,
      const char *rel)
{
  g_autofree char *path = g_build_filename (root, rel, NULL);

  for (guint i = 0; i < entries->len; i++)
    {
      EiderScanEntry *entry = g_ptr_array_index (entries, i);

      if (g_str_equal (entry->path, path))
        return entry;
    }

  return NULL;
}

static char *
make_tree (void)
{
  char *root = test_make_tmpdir ("Holiday 2024-XXXXXX");
  g_autofree char *fifo = g_build_filename (root, "pipe.jpg", NULL);
  g_autofree char *loop = g_build_filename (root, "Beach", "loop", NULL);
  g_autofree char *link = g_build_filename (root, "link.jpg", NULL);
  g_autofree char *latin1 = g_build_filename (root, "caf\xe9.jpg", NULL);

  write_file (root, "top.jpg", "\xff\xd8\xff photo");
  write_file (root, "Beach/IMG_1.JPG", "\xff\xd8\xff beach");
  write_file (root, "Beach/Sunset/clip.mp4", "....ftypisom");
  write_file (root, "Beach/notes.txt", "text");
  write_file (root, "Beach/IMG_1.xmp", "<x/>");
  write_file (root, "Beach/.DS_Store", "junk");
  write_file (root, ".hidden/inside.jpg", "\xff\xd8\xff hidden dir, visible file");
  write_file (root, "@eaDir/thumb.jpg", "\xff\xd8\xff synology preview");
  write_file (root, "empty.jpg", "");
  write_file (root, "emoji 🦆 photo.png", "\x89PNG");
  g_assert_true (g_file_set_contents (latin1, "\xff\xd8\xff", -1, NULL));
  g_assert_cmpint (mkfifo (fifo, 0644), ==, 0);
  g_assert_cmpint (symlink (root, loop), ==, 0);
  g_assert_cmpint (symlink ("top.jpg", link), ==, 0);

  return root;
}

static void
test_scan_rules (void)
{
  g_autofree char *root = make_tree ();
  g_autoptr(GPtrArray) entries = NULL;
  g_autoptr(GError) error = NULL;
  EiderWatch watch = { 1, root, EIDER_MAPPING_ALBUM_PER_FOLDER, NULL, FALSE };
  EiderScanEntry *e;
  g_autofree char *root_album = g_filename_display_basename (root);

  entries = eider_scan_tree (&watch, EIDER_SCAN_NONE, NULL, &error);
  g_assert_no_error (error);

  e = find (entries, root, "top.jpg");
  g_assert_nonnull (e);
  g_assert_cmpint (e->skip_reason, ==, EIDER_REASON_NONE);
  g_assert_cmpstr (e->album_name, ==, root_album);
  g_assert_cmpint (e->stat.size, ==, 9);
  g_assert_cmpint (e->stat.mtime_ns, >, 0);

  e = find (entries, root, "Beach/IMG_1.JPG");
  g_assert_cmpint (e->skip_reason, ==, EIDER_REASON_NONE);
  g_assert_cmpstr (e->album_name, ==, "Beach");

  e = find (entries, root, "Beach/Sunset/clip.mp4");
  g_assert_cmpstr (e->album_name, ==, "Sunset");

  g_assert_cmpint (find (entries, root, "Beach/notes.txt")->skip_reason, ==, EIDER_REASON_NOT_MEDIA);
  g_assert_cmpint (find (entries, root, "Beach/IMG_1.xmp")->skip_reason, ==, EIDER_REASON_SIDECAR_XMP);
  g_assert_cmpint (find (entries, root, "empty.jpg")->skip_reason, ==, EIDER_REASON_EMPTY);
  g_assert_cmpint (find (entries, root, "pipe.jpg")->skip_reason, ==, EIDER_REASON_PIPE);
  g_assert_cmpint (find (entries, root, "link.jpg")->skip_reason, ==, EIDER_REASON_SYMLINK);
  g_assert_null (find (entries, root, "link.jpg")->skip_details);

  /* Dot-files are ignored silently; hidden folders are walked (as Ente
   * desktop does); preview folders are not. */
  g_assert_null (find (entries, root, "Beach/.DS_Store"));
  g_assert_cmpint (find (entries, root, ".hidden/inside.jpg")->skip_reason, ==, EIDER_REASON_NONE);
  g_assert_null (find (entries, root, "@eaDir/thumb.jpg"));

  /* Names that are not UTF-8, or have emoji, are kept as they are. */
  g_assert_cmpint (find (entries, root, "caf\xe9.jpg")->skip_reason, ==, EIDER_REASON_NONE);
  g_assert_cmpint (find (entries, root, "emoji 🦆 photo.png")->skip_reason, ==, EIDER_REASON_NONE);
  g_assert_true (g_utf8_validate (find (entries, root, "caf\xe9.jpg")->album_name, -1, NULL));

  test_rm_rf (root);
}

static void
test_scan_symlinks_followed (void)
{
  g_autofree char *root = make_tree ();
  g_autoptr(GPtrArray) entries = NULL;
  g_autoptr(GError) error = NULL;
  EiderWatch watch = { 1, root, EIDER_MAPPING_ONE_ALBUM, (char *) "Trip", FALSE };
  guint tops = 0;

  /* Following links: the loop back to the root is walked once, not forever. */
  entries = eider_scan_tree (&watch, EIDER_SCAN_FOLLOW_SYMLINKS, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (find (entries, root, "link.jpg")->skip_reason, ==, EIDER_REASON_NONE);
  g_assert_cmpstr (find (entries, root, "Beach/Sunset/clip.mp4")->album_name, ==, "Trip");

  for (guint i = 0; i < entries->len; i++)
    if (g_str_has_suffix (((EiderScanEntry *) g_ptr_array_index (entries, i))->path, "/top.jpg"))
      tops++;
  g_assert_cmpuint (tops, ==, 1);

  test_rm_rf (root);
}

static void
test_scan_async_and_errors (void)
{
  g_autofree char *root = make_tree ();
  EiderWatch watch = { 1, root, EIDER_MAPPING_ONE_ALBUM, NULL, FALSE };
  EiderWatch missing = { 2, (char *) "/nonexistent/eider-folder", EIDER_MAPPING_ONE_ALBUM, NULL, FALSE };
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GPtrArray) entries = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autofree char *album = NULL;

  eider_scanner_scan_async (&watch, EIDER_SCAN_NONE, NULL, test_result_cb, &result);
  entries = eider_scanner_scan_finish (test_wait (&result), &error);
  g_assert_no_error (error);
  album = g_filename_display_basename (root);
  g_assert_cmpstr (find (entries, root, "Beach/IMG_1.JPG")->album_name, ==, album);
  g_clear_pointer (&entries, g_ptr_array_unref);

  entries = eider_scan_tree (&missing, EIDER_SCAN_NONE, NULL, &error);
  g_assert_null (entries);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "/nonexistent/eider-folder"));
  g_clear_error (&error);

  g_cancellable_cancel (cancellable);
  entries = eider_scan_tree (&watch, EIDER_SCAN_NONE, cancellable, &error);
  g_assert_null (entries);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);

  test_rm_rf (root);
}

static void
test_skip_reason_names (void)
{
  struct stat st = { .st_mode = S_IFREG | 0644, .st_size = 10 };

  g_assert_cmpint (eider_scan_skip_reason_for_name ("IMG_0001.HEIC"), ==, EIDER_REASON_NONE);
  g_assert_cmpint (eider_scan_skip_reason_for_name ("Thumbs.db"), ==, EIDER_REASON_NOT_MEDIA);
  g_assert_cmpint (eider_scan_skip_reason_for_name ("desktop.ini"), ==, EIDER_REASON_NOT_MEDIA);
  g_assert_cmpint (eider_scan_skip_reason_for_name ("archive.TAR"), ==, EIDER_REASON_NOT_MEDIA);
  g_assert_cmpint (eider_scan_skip_reason_for_name ("._IMG.jpg"), ==, EIDER_REASON_HIDDEN);
  g_assert_cmpint (eider_scan_skip_reason_for_name ("IMG_1.JSON"), ==, EIDER_REASON_SIDECAR_JSON);
  g_assert_cmpint (eider_scan_skip_reason_for_name ("no-extension"), ==, EIDER_REASON_NONE);

  /* With what lstat() says: the kind of file first, then the name, then
   * the size. */
  g_assert_cmpint (eider_scan_skip_reason_for_stat ("IMG_1.jpg", &st), ==, EIDER_REASON_NONE);
  g_assert_cmpint (eider_scan_skip_reason_for_stat ("notes.txt", &st), ==, EIDER_REASON_NOT_MEDIA);
  st.st_size = 0;
  g_assert_cmpint (eider_scan_skip_reason_for_stat ("IMG_1.jpg", &st), ==, EIDER_REASON_EMPTY);
  g_assert_cmpint (eider_scan_skip_reason_for_stat ("notes.txt", &st), ==, EIDER_REASON_NOT_MEDIA);
  st.st_size = EIDER_MAX_FILE_SIZE;
  g_assert_cmpint (eider_scan_skip_reason_for_stat ("IMG_1.jpg", &st), ==, EIDER_REASON_TOO_LARGE);
  st.st_size = EIDER_MAX_FILE_SIZE - 1;
  g_assert_cmpint (eider_scan_skip_reason_for_stat ("IMG_1.jpg", &st), ==, EIDER_REASON_NONE);
  st.st_mode = S_IFLNK | 0777;
  g_assert_cmpint (eider_scan_skip_reason_for_stat ("IMG_1.jpg", &st), ==, EIDER_REASON_SYMLINK);
  st.st_mode = S_IFIFO | 0644;
  g_assert_cmpint (eider_scan_skip_reason_for_stat ("notes.txt", &st), ==, EIDER_REASON_PIPE);
  st.st_mode = S_IFSOCK | 0644;
  g_assert_cmpint (eider_scan_skip_reason_for_stat ("IMG_1.jpg", &st), ==, EIDER_REASON_SOCKET);
  st.st_mode = S_IFCHR | 0644;
  g_assert_cmpint (eider_scan_skip_reason_for_stat ("IMG_1.jpg", &st), ==, EIDER_REASON_DEVICE);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/scanner/rules", test_scan_rules);
  g_test_add_func ("/scanner/symlinks-followed", test_scan_symlinks_followed);
  g_test_add_func ("/scanner/async-and-errors", test_scan_async_and_errors);
  g_test_add_func ("/scanner/skip-reason-names", test_skip_reason_names);

  return g_test_run ();
}
