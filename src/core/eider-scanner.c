/* eider-scanner.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "eider-scanner"
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "eider-scanner.h"

void
eider_scan_entry_free (EiderScanEntry *entry)
{
  if (entry == NULL)
    return;

  g_free (entry->path);
  g_free (entry->album_name);
  g_free (entry->skip_details);
  g_free (entry);
}

/* Ente desktop's ignored extensions, compared in lower case. */
static const char * const ignored_extensions[] = {
  "zip", "rar", "7z", "tar", "gz", "bz2", "txt", "ini", "sfv", "md5", "sha1", "sha256",
  "sha512", "sha", "html", "htm", "db",
};

/* Directories that only ever hold generated previews. */
static const char * const ignored_directories[] = {
  "@eaDir", ".thumbnails", ".Trash", "lost+found",
};

EiderReason
eider_scan_skip_reason_for_name (const char *basename)
{
  const char *dot;

  g_return_val_if_fail (basename != NULL, EIDER_REASON_NONE);

  if (basename[0] == '.')
    return EIDER_REASON_HIDDEN;

  dot = strrchr (basename, '.');
  if (dot != NULL)
    {
      g_autofree char *ext = g_ascii_strdown (dot + 1, -1);

      if (g_str_equal (ext, "xmp"))
        return EIDER_REASON_SIDECAR_XMP;
      if (g_str_equal (ext, "json"))
        return EIDER_REASON_SIDECAR_JSON;
      for (guint i = 0; i < G_N_ELEMENTS (ignored_extensions); i++)
        if (g_str_equal (ext, ignored_extensions[i]))
          return EIDER_REASON_NOT_MEDIA;
    }

  return EIDER_REASON_NONE;
}

EiderReason
eider_scan_skip_reason_for_stat (const char        *basename,
                                 const struct stat *st)
{
  EiderReason reason;

  g_return_val_if_fail (basename != NULL && st != NULL, EIDER_REASON_NONE);

  /* Never opened: links (unless followed), FIFOs, sockets, devices. */
  if (S_ISLNK (st->st_mode))
    return EIDER_REASON_SYMLINK;
  if (S_ISFIFO (st->st_mode))
    return EIDER_REASON_PIPE;
  if (S_ISSOCK (st->st_mode))
    return EIDER_REASON_SOCKET;
  if (!S_ISREG (st->st_mode))
    return EIDER_REASON_DEVICE;

  reason = eider_scan_skip_reason_for_name (basename);
  if (reason == EIDER_REASON_NONE && st->st_size == 0)
    return EIDER_REASON_EMPTY;
  if (reason == EIDER_REASON_NONE && st->st_size >= EIDER_MAX_FILE_SIZE)
    return EIDER_REASON_TOO_LARGE;

  return reason;
}

static gboolean
ignored_directory (const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (ignored_directories); i++)
    if (g_str_equal (name, ignored_directories[i]) ||
        (g_str_has_prefix (name, ".Trash-") && g_str_equal (ignored_directories[i], ".Trash")))
      return TRUE;

  return FALSE;
}

char *
eider_scan_album_for_path (const EiderWatch *watch,
                           const char       *path)
{
  g_autofree char *dir = NULL;
  g_autofree char *base = NULL;

  g_return_val_if_fail (watch != NULL && path != NULL, NULL);

  if (watch->mapping == EIDER_MAPPING_ONE_ALBUM)
    {
      if (watch->album_name != NULL && watch->album_name[0] != '\0')
        return g_strdup (watch->album_name);
      return g_filename_display_basename (watch->path);
    }

  /* One album per folder: named after the folder that holds the file. */
  dir = g_path_get_dirname (path);
  base = g_filename_display_basename (dir);

  return g_steal_pointer (&base);
}

static void
fill_stat (EiderStat         *out,
           const struct stat *st)
{
  out->dev = st->st_dev;
  out->inode = st->st_ino;
  out->size = st->st_size;
  out->mtime_ns = (gint64) st->st_mtim.tv_sec * G_GINT64_CONSTANT (1000000000) + st->st_mtim.tv_nsec;
  out->ctime_ns = (gint64) st->st_ctim.tv_sec * G_GINT64_CONSTANT (1000000000) + st->st_ctim.tv_nsec;
}

static void
add_entry (GPtrArray         *entries,
           const EiderWatch  *watch,
           const char        *path,
           const struct stat *st,
           EiderReason        reason,
           const char        *details)
{
  EiderScanEntry *entry = g_new0 (EiderScanEntry, 1);

  entry->path = g_strdup (path);
  entry->album_name = eider_scan_album_for_path (watch, path);
  entry->skip_reason = reason;
  entry->skip_details = g_strdup (details);
  if (st != NULL)
    fill_stat (&entry->stat, st);
  g_ptr_array_add (entries, entry);
}

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

typedef struct
{
  const EiderWatch *watch;
  EiderScanFlags    flags;
  GPtrArray        *entries;
  GHashTable       *visited;   /* "dev:inode" of directories walked */
  GCancellable     *cancellable;
} Walk;

static gboolean
walk_dir (Walk        *walk,
          const char  *dir_path,
          GError     **error)
{
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  DIR *dir;
  struct dirent *de;
  struct stat dst;
  int dfd;

  dfd = open (dir_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0 || fstat (dfd, &dst) != 0)
    {
      int errsv = errno;

      if (dfd >= 0)
        close (dfd);
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                   "Could not read the folder %s: %s", dir_path, g_strerror (errsv));
      return FALSE;
    }

  /* Never walk the same directory twice: that is what stops symlink loops
   * and bind-mount cycles. */
  {
    g_autofree char *key = g_strdup_printf ("%" G_GUINT64_FORMAT ":%" G_GUINT64_FORMAT,
                                            (guint64) dst.st_dev, (guint64) dst.st_ino);

    if (!g_hash_table_add (walk->visited, g_steal_pointer (&key)))
      {
        close (dfd);
        return TRUE;
      }
  }

  dir = fdopendir (dfd);
  if (dir == NULL)
    {
      int errsv = errno;

      close (dfd);
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                   "Could not read the folder %s: %s", dir_path, g_strerror (errsv));
      return FALSE;
    }

  while ((de = readdir (dir)) != NULL)
    if (!g_str_equal (de->d_name, ".") && !g_str_equal (de->d_name, ".."))
      g_ptr_array_add (names, g_strdup (de->d_name));
  closedir (dir);

  /* A stable order makes scans and tests reproducible. */
  g_ptr_array_sort (names, compare_names);

  for (guint i = 0; i < names->len; i++)
    {
      const char *name = g_ptr_array_index (names, i);
      g_autofree char *path = g_build_filename (dir_path, name, NULL);
      struct stat st;
      gboolean is_link;

      if (g_cancellable_set_error_if_cancelled (walk->cancellable, error))
        return FALSE;

      if (lstat (path, &st) != 0)
        continue;   /* gone since readdir */

      is_link = S_ISLNK (st.st_mode);
      if (is_link)
        {
          if ((walk->flags & EIDER_SCAN_FOLLOW_SYMLINKS) == 0)
            {
              if (name[0] != '.')
                add_entry (walk->entries, walk->watch, path, &st, EIDER_REASON_SYMLINK, NULL);
              continue;
            }
          if (stat (path, &st) != 0)
            {
              add_entry (walk->entries, walk->watch, path, NULL, EIDER_REASON_BROKEN_SYMLINK, NULL);
              continue;
            }
        }

      if (S_ISDIR (st.st_mode))
        {
          g_autoptr(GError) local_error = NULL;

          if (ignored_directory (name))
            continue;

          if (!walk_dir (walk, path, &local_error))
            {
              if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
                {
                  g_propagate_error (error, g_steal_pointer (&local_error));
                  return FALSE;
                }
              /* An unreadable subfolder is reported, not fatal. */
              add_entry (walk->entries, walk->watch, path, NULL, EIDER_REASON_FOLDER_UNREADABLE,
                         local_error->message);
            }
          continue;
        }

      {
        EiderReason reason = eider_scan_skip_reason_for_stat (name, &st);

        /* Dot-files are Ente's to ignore silently: .DS_Store, ._foo.jpg,
         * and a dot-named FIFO or device too. */
        if (reason != EIDER_REASON_NONE && name[0] == '.')
          continue;

        add_entry (walk->entries, walk->watch, path, &st, reason, NULL);
      }
    }

  return TRUE;
}

/**
 * eider_scan_tree:
 *
 * Returns: (transfer full) (element-type EiderScanEntry): every file under
 *   the watch that Eider keeps a record of, eligible or skipped
 */
GPtrArray *
eider_scan_tree (const EiderWatch  *watch,
                 EiderScanFlags     flags,
                 GCancellable      *cancellable,
                 GError           **error)
{
  g_autoptr(GPtrArray) entries = g_ptr_array_new_with_free_func ((GDestroyNotify) eider_scan_entry_free);
  g_autoptr(GHashTable) visited = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  Walk walk = { watch, flags, entries, visited, cancellable };

  g_return_val_if_fail (watch != NULL && watch->path != NULL, NULL);

  if (!walk_dir (&walk, watch->path, error))
    return NULL;

  return g_steal_pointer (&entries);
}

typedef struct
{
  EiderWatch     watch;
  EiderScanFlags flags;
} ScanData;

static void
scan_data_free (ScanData *data)
{
  g_free (data->watch.path);
  g_free (data->watch.album_name);
  g_free (data);
}

static void
scan_worker (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  ScanData *data = task_data;
  GError *error = NULL;
  GPtrArray *entries;

  entries = eider_scan_tree (&data->watch, data->flags, cancellable, &error);
  if (entries == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, entries, (GDestroyNotify) g_ptr_array_unref);
}

void
eider_scanner_scan_async (const EiderWatch    *watch,
                          EiderScanFlags       flags,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  ScanData *data;

  g_return_if_fail (watch != NULL);

  data = g_new0 (ScanData, 1);
  data->watch = *watch;
  data->watch.path = g_strdup (watch->path);
  data->watch.album_name = g_strdup (watch->album_name);
  data->flags = flags;

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, eider_scanner_scan_async);
  g_task_set_task_data (task, data, (GDestroyNotify) scan_data_free);
  g_task_run_in_thread (task, scan_worker);
}

GPtrArray *
eider_scanner_scan_finish (GAsyncResult  *result,
                           GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
