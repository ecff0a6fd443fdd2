/* eider-engine-live.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Live photos (spec/ente-upload.md §7.1): an image and a video of one
 * folder whose names pair, each at most 20 MiB, captured less than a day
 * apart, are one Ente file. The other half is found through the store (the
 * folder's records whose names start with the same stem), whichever half
 * the engine picks up first; the pair is then one job (eider-engine-job.c)
 * whose body is a zip of the two.
 */
#define G_LOG_DOMAIN "eider-engine"
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <gio/gunixinputstream.h>

#include "eider-crypto.h"
#include "eider-engine-private.h"
#include "eider-live-photo.h"
#include "eider-media-names.h"
#include "eider-video.h"

/* How long a video's container is read for a live photo's date. */
#define VIDEO_PROBE_TIMEOUT_MS (30 * 1000)

void
_eider_engine_live_md_free (EiderMediaMetadata *md)
{
  if (md == NULL)
    return;
  eider_media_metadata_clear (md);
  g_free (md);
}

static void
swap_halves (Job *job)
{
  EiderFileRecord *record = job->record;
  EiderStat stat = job->stat;

  job->record = job->partner;
  job->stat = job->partner_stat;
  job->partner = record;
  job->partner_stat = stat;
  job->swapped = !job->swapped;
  /* A live photo is named after its image. */
  g_free (job->title);
  job->title = g_filename_display_basename (job->record->path);
}

/* What every name that could pair with @name starts with, in its folder:
 * the stem without a trailing "_3", "_HVEC" or ".<ext>" (taking off more
 * than Ente does only widens the search). NULL without an extension. */
static char *
live_photo_name_prefix (const char *name)
{
  const char *dot = strrchr (name, '.');
  char *stem;
  char *inner;
  gsize len;

  if (dot == NULL || dot == name)
    return NULL;

  stem = g_strndup (name, dot - name);
  len = strlen (stem);
  if (g_str_has_suffix (stem, "_3"))
    stem[len - 2] = '\0';
  else if (g_str_has_suffix (stem, "_HVEC") || g_str_has_suffix (stem, "_hvec"))
    stem[len - 5] = '\0';
  else if ((inner = strrchr (stem, '.')) != NULL && inner != stem)
    *inner = '\0';

  if (stem[0] == '\0')
    g_clear_pointer (&stem, g_free);

  return stem;
}

/* Whether @other may be the other half of @record's live photo now. */
static gboolean
live_partner_usable (EiderEngine     *self,
                     EiderFileRecord *record,
                     EiderFileRecord *other)
{
  guint tries;

  if (other->watch_id != record->watch_id ||
      g_strcmp0 (other->album_name, record->album_name) != 0 ||
      g_hash_table_contains (self->busy_files, &other->id) ||
      g_hash_table_contains (self->held, other->path))
    return FALSE;

  switch (other->state)
    {
    case EIDER_FILE_PENDING:
    case EIDER_FILE_WORKING:
      return TRUE;

    case EIDER_FILE_FAILED:
      tries = GPOINTER_TO_UINT (g_hash_table_lookup (self->run_attempts, &other->id));
      return self->continuous || tries < self->max_attempts;

    case EIDER_FILE_UPLOADED:
      /* The unchanged half of a live photo whose other half was edited;
       * never a file uploaded on its own. */
      return other->file_type == EIDER_FILE_TYPE_LIVE_PHOTO && other->remote_file_id > 0 &&
             other->remote_file_id == record->remote_file_id;

    case EIDER_FILE_SKIPPED:
    default:
      return FALSE;
    }
}

/* Finds and reserves the other half of the job's file, cheaply: names,
 * states and stat() only. The dates are read by pair_worker. */
gboolean
_eider_engine_claim_live_partner (Job *job)
{
  EiderEngine *self = job->engine;
  EiderFileRecord *record = job->record;
  g_autofree char *dir = g_path_get_dirname (record->path);
  g_autofree char *name = g_path_get_basename (record->path);
  g_autofree char *prefix = live_photo_name_prefix (name);
  g_autofree char *state_dir = NULL;
  g_autoptr(GPtrArray) candidates = NULL;
  g_autoptr(GError) error = NULL;
  gboolean record_is_image = FALSE;

  if (prefix == NULL || job->stat.size > EIDER_LIVE_PHOTO_MAX_ASSET_SIZE)
    return FALSE;

  candidates = eider_store_list_files_in_dir (self->store, dir, prefix, &error);
  if (candidates == NULL)
    {
      _eider_engine_log_store_error (error);
      return FALSE;
    }

  for (guint i = 0; i < candidates->len && job->partner == NULL; i++)
    {
      EiderFileRecord *other = g_ptr_array_index (candidates, i);
      g_autofree char *other_name = NULL;
      EiderStat now;
      struct stat st;

      if (other->id == record->id)
        continue;

      other_name = g_path_get_basename (other->path);
      if (eider_media_live_photo_names_pair (name, other_name))
        record_is_image = TRUE;
      else if (eider_media_live_photo_names_pair (other_name, name))
        record_is_image = FALSE;
      else
        continue;

      if (!live_partner_usable (self, record, other) ||
          lstat (other->path, &st) != 0 || !S_ISREG (st.st_mode) ||
          st.st_size > EIDER_LIVE_PHOTO_MAX_ASSET_SIZE)
        continue;

      now.dev = st.st_dev;
      now.inode = st.st_ino;
      now.size = st.st_size;
      now.mtime_ns = (gint64) st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
      now.ctime_ns = (gint64) st.st_ctim.tv_sec * 1000000000 + st.st_ctim.tv_nsec;
      if (!_eider_engine_same_stat (&now, &other->stat))
        {
          gboolean changed = FALSE;

          /* Edited since the scan: its new content is what pairs. */
          if (eider_store_note_file (self->store, other->watch_id, other->path, other->album_name,
                                     &now, &changed, NULL) <= 0)
            continue;
          eider_store_delete_upload (self->store, other->id, NULL);
          other->stat = now;
          other->state = EIDER_FILE_PENDING;
          other->file_type = EIDER_FILE_TYPE_UNKNOWN;
          g_clear_pointer (&other->hash, g_free);
        }

      job->partner = g_ptr_array_steal_index (candidates, i);
      job->partner_stat = now;
    }

  if (job->partner == NULL)
    return FALSE;

  g_hash_table_insert (self->busy_files, g_memdup2 (&job->partner->id, sizeof (gint64)), job);
  if (!record_is_image)
    swap_halves (job);

  /* The zip lives with the engine's state, named after the image's record. */
  state_dir = g_path_get_dirname (eider_store_get_path (self->store));
  job->zip_path = g_strdup_printf ("%s" G_DIR_SEPARATOR_S "live-photos" G_DIR_SEPARATOR_S
                                   "%" G_GINT64_FORMAT ".zip", state_dir, job->record->id);

  return TRUE;
}

/* The pairing did not hold: the other half gets its own job later. */
static void
release_partner (Job *job)
{
  EiderEngine *self = job->engine;

  if (job->swapped)
    swap_halves (job);
  g_hash_table_remove (self->busy_files, &job->partner->id);
  g_clear_pointer (&job->partner, eider_file_record_free);
  g_clear_pointer (&job->zip_path, g_free);
  g_clear_pointer (&job->resume, eider_upload_record_free);
  g_clear_pointer (&job->live_md, _eider_engine_live_md_free);
  g_clear_pointer (&job->live_thumb, g_bytes_unref);
  job->paired = FALSE;
}

/* Both halves are at work from now on. */
static void
confirm_pair (Job *job)
{
  EiderEngine *self = job->engine;
  EiderFileRecord *other = job->swapped ? job->record : job->partner;
  gint64 size = job->swapped ? job->stat.size : job->partner_stat.size;
  g_autoptr(GError) error = NULL;

  job->paired = TRUE;
  if (!eider_store_set_file_state (self->store, other->id, EIDER_FILE_WORKING, EIDER_REASON_NONE,
                                   NULL, &error))
    _eider_engine_log_store_error (error);
  _eider_engine_emit_file_started (self, other->id, other->path, size);

  /* An upload of the video on its own is not what goes to Ente now. */
  eider_store_delete_upload (self->store, job->partner->id, NULL);
}

static EiderFileType
classify_file (const char *path)
{
  guint8 head[EIDER_MEDIA_SNIFF_BYTES];
  gssize n;
  int fd;

  fd = open (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0)
    return EIDER_FILE_TYPE_UNKNOWN;
  n = read (fd, head, sizeof head);
  close (fd);
  if (n < 0)
    return EIDER_FILE_TYPE_UNKNOWN;

  return eider_media_classify (head, n, path);
}

static gboolean
same_half (const struct stat *st,
           const EiderStat   *expected)
{
  return (gint64) st->st_size == expected->size &&
         (gint64) st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec == expected->mtime_ns &&
         (guint64) st->st_ino == expected->inode && (guint64) st->st_dev == expected->dev;
}

static void
set_half_changed (const char  *path,
                  GError     **error)
{
  g_autofree char *name = g_filename_display_name (path);

  g_set_error (error, EIDER_UPLOAD_ERROR, EIDER_UPLOAD_ERROR_CHANGED,
               "“%s” changed while reading", name);
}

/* BLAKE2b of one half of a live photo, which must still be what the job
 * saw when it started. (worker) */
static char *
hash_half (const char       *path,
           const EiderStat  *expected,
           GCancellable     *cancellable,
           GError          **error)
{
  g_autoptr(GInputStream) in = NULL;
  g_autofree char *hash = NULL;
  struct stat st;
  int fd;

  fd = open (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0)
    {
      set_half_changed (path, error);
      return NULL;
    }
  in = g_unix_input_stream_new (fd, TRUE);
  if (fstat (fd, &st) != 0 || !same_half (&st, expected))
    {
      set_half_changed (path, error);
      return NULL;
    }

  hash = eider_hash_stream_base64 (in, cancellable, error);
  if (hash == NULL)
    return NULL;

  if (fstat (fd, &st) != 0 || !same_half (&st, expected))
    {
      set_half_changed (path, error);
      return NULL;
    }

  return g_steal_pointer (&hash);
}

/* Packs the pair into the job's zip (deterministic: the same halves give
 * the same bytes) and returns Ente's hash of a live photo,
 * "<image hash>:<video hash>" of the two original files. (worker) */
static char *
pack_live_photo (Job           *job,
                 EiderStat     *zip_stat,
                 GCancellable  *cancellable,
                 GError       **error)
{
  g_autofree char *dir = g_path_get_dirname (job->zip_path);
  g_autofree char *image_hash = NULL;
  g_autofree char *video_hash = NULL;
  struct stat st;

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int errsv = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                   "Could not make a folder for live photos: %s", g_strerror (errsv));
      return NULL;
    }

  if (!eider_live_photo_pack (job->record->path, job->partner->path, job->zip_path, error))
    return NULL;

  image_hash = hash_half (job->record->path, &job->stat, cancellable, error);
  if (image_hash == NULL)
    return NULL;
  video_hash = hash_half (job->partner->path, &job->partner_stat, cancellable, error);
  if (video_hash == NULL)
    return NULL;

  if (stat (job->zip_path, &st) != 0)
    {
      int errsv = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                   "Could not read a live photo's zip: %s", g_strerror (errsv));
      return NULL;
    }
  zip_stat->dev = st.st_dev;
  zip_stat->inode = st.st_ino;
  zip_stat->size = st.st_size;
  zip_stat->mtime_ns = (gint64) st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
  zip_stat->ctime_ns = (gint64) st.st_ctim.tv_sec * 1000000000 + st.st_ctim.tv_nsec;

  return g_strconcat (image_hash, ":", video_hash, NULL);
}

typedef enum
{
  PAIR_NO,
  PAIR_YES,
  PAIR_RESUME,
} PairResult;

/* Ente's test on what the two files hold (worker): an image and a video by
 * content, whose capture dates — the Takeout sidecar's, else the image's
 * Exif and the video's container time, never the modification time — are
 * less than a day apart; or, without both dates, exactly one with a
 * sidecar (Takeout has none for the video). An interrupted upload of the
 * pair is checked first: the zip packed again must be the same bytes. */
static void
pair_worker (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  Job *job = task_data;
  const char *image = job->record->path;
  const char *video = job->partner->path;
  g_auto(EiderMediaMetadata) md = { 0 };
  g_autoptr(GBytes) thumbnail = NULL;
  EiderVideoInfo info = { 0 };
  gint64 image_time = 0, video_time = 0;
  gboolean image_sidecar, video_sidecar, paired;
  GError *error = NULL;

  if (job->resume != NULL)
    {
      g_autofree char *joint = NULL;
      EiderStat zip_stat;

      joint = pack_live_photo (job, &zip_stat, cancellable, &error);
      if (joint != NULL && g_str_equal (joint, job->resume->hash) &&
          zip_stat.size == job->resume->plain_size)
        {
          struct timespec times[2] = {
            { .tv_sec = 0, .tv_nsec = UTIME_OMIT },
            { .tv_sec = job->resume->mtime_ns / 1000000000,
              .tv_nsec = job->resume->mtime_ns % 1000000000 },
          };

          /* The same bytes as before the interruption: the zip takes the
           * time the upload was planned with, so the uploader's checks
           * hold. */
          if (utimensat (AT_FDCWD, job->zip_path, times, 0) == 0)
            {
              g_task_return_int (task, PAIR_RESUME);
              return;
            }
        }
      if (error != NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_task_return_error (task, error);
          return;
        }
      g_clear_error (&error);
      g_clear_pointer (&job->resume, eider_upload_record_free);
      g_unlink (job->zip_path);
    }

  if (classify_file (image) != EIDER_FILE_TYPE_IMAGE ||
      classify_file (video) != EIDER_FILE_TYPE_VIDEO)
    {
      g_task_return_int (task, PAIR_NO);
      return;
    }

  image_sidecar = eider_media_sidecar_creation_time (image, &image_time);
  video_sidecar = eider_media_sidecar_creation_time (video, &video_time);

  /* The image is read once: its metadata and thumbnail are the pair's. */
  if (!eider_media_describe (image, NULL, EIDER_FILE_TYPE_LIVE_PHOTO, _eider_engine_mtime_ms_us (&job->stat),
                             &md, &thumbnail, cancellable, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  /* pubMagicMetadata's dateTime is there only when the Exif date was used. */
  if (image_time == 0 && md.date_time != NULL)
    image_time = md.creation_time;
  if (video_time == 0 && eider_video_probe (video, VIDEO_PROBE_TIMEOUT_MS, &info, NULL))
    video_time = info.creation_time;

  if (g_task_return_error_if_cancelled (task))
    return;

  paired = eider_media_live_photo_pair (image, job->stat.size, image_time,
                                        video, job->partner_stat.size, video_time) ||
           (image_sidecar != video_sidecar &&
            eider_media_live_photo_pair (image, job->stat.size, 1,
                                         video, job->partner_stat.size, 1));
  if (!paired)
    {
      g_task_return_int (task, PAIR_NO);
      return;
    }

  job->live_md = g_new0 (EiderMediaMetadata, 1);
  *job->live_md = md;
  memset (&md, 0, sizeof md);
  job->live_thumb = g_steal_pointer (&thumbnail);
  g_task_return_int (task, PAIR_YES);
}

static void
pair_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  Job *job = user_data;
  EiderEngine *self = job->engine;
  g_autoptr(GError) error = NULL;
  gssize outcome;

  outcome = g_task_propagate_int (G_TASK (result), &error);
  g_debug ("%s: live photo with %s: %d", job->record->path, job->partner->path, (int) outcome);
  if (error != NULL)
    {
      release_partner (job);
      _eider_engine_job_error (job, error);
      return;
    }

  if (outcome == PAIR_RESUME)
    {
      confirm_pair (job);
      job->upload = g_steal_pointer (&job->resume);
      job->hash = g_strdup (job->upload->hash);
      job->file_type = EIDER_FILE_TYPE_LIVE_PHOTO;
      _eider_engine_job_resume (job);
      return;
    }

  if (job->had_resume)
    {
      /* Not the same pair any more: everything starts again. */
      eider_store_delete_upload (self->store, job->record->id, NULL);
      g_clear_pointer (&job->collection_key, eider_secret_free);
      g_clear_pointer (&job->replace, eider_remote_file_record_free);
      job->collection_id = 0;
    }

  if (outcome == PAIR_NO)
    {
      release_partner (job);
      _eider_engine_job_continue (job);
      return;
    }

  confirm_pair (job);
  _eider_engine_job_find_album (job);
}

void
_eider_engine_start_pair_check (Job *job)
{
  EiderEngine *self = job->engine;
  g_autoptr(EiderUploadRecord) upload = NULL;
  g_autoptr(GTask) task = NULL;

  /* An upload of this pair interrupted earlier (its hash is the pair's). */
  upload = eider_store_get_upload (self->store, job->record->id);
  if (upload != NULL && upload->hash != NULL && strchr (upload->hash, ':') != NULL &&
      upload->metadata_data != NULL)
    {
      g_autoptr(EiderSecret) key = NULL;
      g_autoptr(EiderRemoteFileRecord) replace = NULL;

      job->had_resume = TRUE;
      key = eider_remote_get_collection_key (self->remote, upload->collection_id, NULL);
      if (upload->replaces_id > 0)
        replace = eider_store_get_remote_file (self->store, upload->replaces_id, 0);
      if (key != NULL && (upload->replaces_id == 0 || replace != NULL))
        {
          job->collection_id = upload->collection_id;
          job->collection_key = g_steal_pointer (&key);
          job->replace = g_steal_pointer (&replace);
          job->resume = g_steal_pointer (&upload);
        }
    }

  task = g_task_new (NULL, job->cancellable, pair_cb, job);
  g_task_set_task_data (task, job, NULL);
  g_task_run_in_thread (task, pair_worker);
}

/* The zip encrypted like any file body, with the pair's hash. (worker) */
gboolean
_eider_engine_prepare_live_photo (Job           *job,
                                  GCancellable  *cancellable,
                                  GError       **error)
{
  g_autofree char *joint = NULL;
  g_autofree char *zip_hash = NULL;
  EiderStat zip_stat;

  joint = pack_live_photo (job, &zip_stat, cancellable, error);
  if (joint == NULL)
    return FALSE;

  if (!eider_upload_prepare_replacement (job->zip_path, &zip_stat, job->record->id,
                                         job->replace != NULL ? job->replace->id : 0,
                                         job->collection_id, job->collection_key, job->file_key,
                                         &job->upload, &zip_hash, NULL, &job->body,
                                         NULL, NULL, cancellable, error))
    return FALSE;

  g_free (job->upload->hash);
  job->upload->hash = g_strdup (joint);
  job->hash = g_steal_pointer (&joint);
  job->file_type = EIDER_FILE_TYPE_LIVE_PHOTO;

  return TRUE;
}

/* What the video of a live photo says about itself: once uploaded, that it
 * is part of the live photo (named by its image); else what the pair says. */
EiderReason
_eider_engine_live_partner_reason (Job             *job,
                                   EiderFileState   state,
                                   EiderReason      reason,
                                   const char      *details,
                                   char           **partner_details)
{
  if (state != EIDER_FILE_UPLOADED)
    {
      *partner_details = g_strdup (details);
      return reason;
    }

  *partner_details = g_filename_display_basename (job->record->path);

  return EIDER_REASON_LIVE_PHOTO_PART;
}
