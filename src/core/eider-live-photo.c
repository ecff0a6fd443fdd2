/* eider-live-photo.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "eider-live-photo"
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <glib/gstdio.h>

#include "eider-live-photo.h"

G_DEFINE_QUARK (eider-live-photo-error-quark, eider_live_photo_error)

typedef struct archive Archive;
typedef struct archive_entry ArchiveEntry;

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ArchiveEntry, archive_entry_free)

/* Every entry carries the same fixed time, so that packing the same two
 * files always gives the same bytes, whenever and wherever it runs:
 * 2000-01-01T00:00:00Z. The "UT" extra field holds it as UTC; the DOS
 * date/time field is libarchive's local-time rendering of that same instant,
 * so it only changes if the machine's time-zone rules for 1 January 2000
 * change (not with the season, the current date or the file mtimes). */
#define LIVE_PHOTO_ENTRY_TIME G_GINT64_CONSTANT (946684800)

/* Largest entry eider_live_photo_unpack() inflates into memory. */
#define MAX_ENTRY_SIZE ((gint64) 1 << 30)

#define COPY_CHUNK (256 * 1024)

static void
read_archive_free (Archive *a)
{
  archive_read_free (a);
}

static void
archive_write_free_cb (Archive *a)
{
  archive_write_free (a);
}

/* The extension of @path's base name, case kept ("" when there is none). */
static char *
extension_of (const char *path)
{
  g_autofree char *base = g_path_get_basename (path);
  const char *dot = strrchr (base, '.');

  return g_strdup (dot != NULL && dot != base ? dot + 1 : "");
}

static char *
entry_name (const char *stem,
            const char *path)
{
  g_autofree char *ext = extension_of (path);

  return *ext != '\0' ? g_strdup_printf ("%s.%s", stem, ext) : g_strdup (stem);
}

static gboolean
write_entry (Archive     *a,
             const char  *name,
             const char  *path,
             GError     **error)
{
  g_autoptr(ArchiveEntry) entry = archive_entry_new ();
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GFileInputStream) in = NULL;
  g_autoptr(GFileInfo) info = NULL;
  g_autofree guint8 *buf = NULL;
  goffset size;
  goffset written = 0;

  in = g_file_read (file, NULL, error);
  if (in == NULL)
    return FALSE;
  info = g_file_input_stream_query_info (in, G_FILE_ATTRIBUTE_STANDARD_SIZE, NULL, error);
  if (info == NULL)
    return FALSE;
  size = g_file_info_get_size (info);

  archive_entry_set_pathname (entry, name);
  archive_entry_set_filetype (entry, AE_IFREG);
  archive_entry_set_perm (entry, 0644);
  archive_entry_set_size (entry, size);
  archive_entry_set_mtime (entry, LIVE_PHOTO_ENTRY_TIME, 0);
  archive_entry_set_uid (entry, 0);
  archive_entry_set_gid (entry, 0);
  if (archive_write_header (a, entry) != ARCHIVE_OK)
    {
      g_set_error (error, EIDER_LIVE_PHOTO_ERROR, EIDER_LIVE_PHOTO_ERROR_FAILED,
                   "%s: %s", name, archive_error_string (a));
      return FALSE;
    }

  buf = g_malloc (COPY_CHUNK);
  for (;;)
    {
      gssize n = g_input_stream_read (G_INPUT_STREAM (in), buf, COPY_CHUNK, NULL, error);

      if (n < 0)
        return FALSE;
      if (n == 0)
        break;
      if (written + n > size ||
          archive_write_data (a, buf, n) != n)
        {
          g_set_error (error, EIDER_LIVE_PHOTO_ERROR, EIDER_LIVE_PHOTO_ERROR_FAILED,
                       "%s: %s", path, written + n > size ? "the file grew while it was packed"
                       : archive_error_string (a));
          return FALSE;
        }
      written += n;
    }
  if (written != size)
    {
      g_set_error (error, EIDER_LIVE_PHOTO_ERROR, EIDER_LIVE_PHOTO_ERROR_FAILED,
                   "%s: the file shrank while it was packed", path);
      return FALSE;
    }
  if (archive_write_finish_entry (a) != ARCHIVE_OK)
    {
      g_set_error (error, EIDER_LIVE_PHOTO_ERROR, EIDER_LIVE_PHOTO_ERROR_FAILED,
                   "%s: %s", name, archive_error_string (a));
      return FALSE;
    }
  return TRUE;
}

gboolean
eider_live_photo_pack (const char  *image_path,
                       const char  *video_path,
                       const char  *zip_path,
                       GError     **error)
{
  g_autofree char *tmp_path = NULL;
  g_autofree char *image_name = NULL;
  g_autofree char *video_name = NULL;
  Archive *a = NULL;
  int fd;
  gboolean ok = FALSE;

  g_return_val_if_fail (image_path != NULL, FALSE);
  g_return_val_if_fail (video_path != NULL, FALSE);
  g_return_val_if_fail (zip_path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  image_name = entry_name ("image", image_path);
  video_name = entry_name ("video", video_path);

  tmp_path = g_strconcat (zip_path, ".XXXXXX", NULL);
  fd = g_mkstemp_full (tmp_path, O_RDWR | O_CLOEXEC, 0644);
  if (fd < 0)
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   "%s: %s", tmp_path, g_strerror (saved));
      return FALSE;
    }

  a = archive_write_new ();
  if (archive_write_set_format_zip (a) != ARCHIVE_OK ||
      archive_write_set_options (a, "zip:compression=store") != ARCHIVE_OK ||
      archive_write_set_bytes_in_last_block (a, 1) != ARCHIVE_OK ||
      archive_write_open_fd (a, fd) != ARCHIVE_OK)
    {
      g_set_error (error, EIDER_LIVE_PHOTO_ERROR, EIDER_LIVE_PHOTO_ERROR_FAILED,
                   "%s: %s", zip_path, archive_error_string (a));
      goto out;
    }
  if (!write_entry (a, image_name, image_path, error) ||
      !write_entry (a, video_name, video_path, error))
    goto out;
  if (archive_write_close (a) != ARCHIVE_OK)
    {
      g_set_error (error, EIDER_LIVE_PHOTO_ERROR, EIDER_LIVE_PHOTO_ERROR_FAILED,
                   "%s: %s", zip_path, archive_error_string (a));
      goto out;
    }
  if (fsync (fd) != 0)
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   "%s: %s", tmp_path, g_strerror (saved));
      goto out;
    }
  ok = TRUE;

out:
  g_clear_pointer (&a, archive_write_free_cb);
  if (!g_close (fd, ok ? error : NULL))
    ok = FALSE;
  if (ok && g_rename (tmp_path, zip_path) != 0)
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   "%s: %s", zip_path, g_strerror (saved));
      ok = FALSE;
    }
  if (!ok)
    g_unlink (tmp_path);
  return ok;
}

static GBytes *
read_entry_data (Archive       *a,
                 ArchiveEntry  *entry,
                 GError       **error)
{
  g_autoptr(GByteArray) data = g_byte_array_new ();
  g_autofree guint8 *buf = g_malloc (COPY_CHUNK);

  if (archive_entry_size_is_set (entry) && archive_entry_size (entry) > MAX_ENTRY_SIZE)
    {
      g_set_error (error, EIDER_LIVE_PHOTO_ERROR, EIDER_LIVE_PHOTO_ERROR_INVALID,
                   "%s: entry too large", archive_entry_pathname (entry));
      return NULL;
    }
  for (;;)
    {
      la_ssize_t n = archive_read_data (a, buf, COPY_CHUNK);

      if (n < 0)
        {
          g_set_error (error, EIDER_LIVE_PHOTO_ERROR, EIDER_LIVE_PHOTO_ERROR_FAILED,
                       "%s: %s", archive_entry_pathname (entry), archive_error_string (a));
          return NULL;
        }
      if (n == 0)
        break;
      if ((gint64) data->len + n > MAX_ENTRY_SIZE)
        {
          g_set_error (error, EIDER_LIVE_PHOTO_ERROR, EIDER_LIVE_PHOTO_ERROR_INVALID,
                       "%s: entry too large", archive_entry_pathname (entry));
          return NULL;
        }
      g_byte_array_append (data, buf, n);
    }
  return g_byte_array_free_to_bytes (g_steal_pointer (&data));
}

gboolean
eider_live_photo_unpack (GBytes  *zip,
                         GBytes **image,
                         char   **image_ext,
                         GBytes **video,
                         char   **video_ext,
                         GError **error)
{
  g_autoptr(GBytes) image_data = NULL;
  g_autoptr(GBytes) video_data = NULL;
  g_autofree char *image_extension = NULL;
  g_autofree char *video_extension = NULL;
  Archive *a;
  ArchiveEntry *entry;
  gconstpointer data;
  gsize len;
  gboolean ok = FALSE;
  int r;

  g_return_val_if_fail (zip != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  data = g_bytes_get_data (zip, &len);
  a = archive_read_new ();
  /* The seekable reader trusts the central directory, so stored entries
   * with a data descriptor (as libarchive and JSZip write them) read back
   * exactly. */
  archive_read_support_format_zip_seekable (a);
  if (archive_read_open_memory (a, data, len) != ARCHIVE_OK)
    {
      g_set_error (error, EIDER_LIVE_PHOTO_ERROR, EIDER_LIVE_PHOTO_ERROR_FAILED,
                   "not a zip archive: %s", archive_error_string (a));
      goto out;
    }

  while ((r = archive_read_next_header (a, &entry)) == ARCHIVE_OK)
    {
      const char *name = archive_entry_pathname (entry);
      const char *dot;
      GBytes **slot;
      char **ext_slot;

      if (name == NULL || archive_entry_filetype (entry) != AE_IFREG || strchr (name, '/') != NULL)
        {
          g_set_error (error, EIDER_LIVE_PHOTO_ERROR, EIDER_LIVE_PHOTO_ERROR_INVALID,
                       "unexpected entry “%s” in a live photo", name != NULL ? name : "");
          goto out;
        }
      if (g_str_has_prefix (name, "image"))
        {
          slot = &image_data;
          ext_slot = &image_extension;
        }
      else if (g_str_has_prefix (name, "video"))
        {
          slot = &video_data;
          ext_slot = &video_extension;
        }
      else
        {
          g_set_error (error, EIDER_LIVE_PHOTO_ERROR, EIDER_LIVE_PHOTO_ERROR_INVALID,
                       "unexpected entry “%s” in a live photo", name);
          goto out;
        }
      if (*slot != NULL)
        {
          g_set_error (error, EIDER_LIVE_PHOTO_ERROR, EIDER_LIVE_PHOTO_ERROR_INVALID,
                       "a second “%.5s” entry (“%s”) in a live photo", name, name);
          goto out;
        }
      dot = strrchr (name, '.');
      *ext_slot = g_strdup (dot != NULL ? dot + 1 : "");
      *slot = read_entry_data (a, entry, error);
      if (*slot == NULL)
        goto out;
    }
  if (r != ARCHIVE_EOF)
    {
      g_set_error (error, EIDER_LIVE_PHOTO_ERROR, EIDER_LIVE_PHOTO_ERROR_FAILED,
                   "damaged zip archive: %s", archive_error_string (a));
      goto out;
    }
  if (image_data == NULL || video_data == NULL)
    {
      g_set_error (error, EIDER_LIVE_PHOTO_ERROR, EIDER_LIVE_PHOTO_ERROR_INVALID,
                   "a live photo needs an image and a video entry; the %s is missing",
                   image_data == NULL ? "image" : "video");
      goto out;
    }

  if (image != NULL)
    *image = g_steal_pointer (&image_data);
  if (image_ext != NULL)
    *image_ext = g_steal_pointer (&image_extension);
  if (video != NULL)
    *video = g_steal_pointer (&video_data);
  if (video_ext != NULL)
    *video_ext = g_steal_pointer (&video_extension);
  ok = TRUE;

out:
  read_archive_free (a);
  return ok;
}
