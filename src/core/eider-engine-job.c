/* eider-engine-job.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One file's life (or one live photo's: two files, one job), top to bottom
 * in this file. Every step ends in a state written to the store before
 * the next begins; any step may end the job as uploaded, skipped, failed
 * (retried later) or pending again (stopped, paused).
 *
 *   start ....... gone, not a regular file .................> skipped
 *     |    (a live photo's other half: paired in eider-engine-live.c)
 *     |  ........ an interrupted upload of this content .....> dedupe
 *     v
 *   album and key (an edit: the Ente file it replaces)
 *     v
 *   prepare: classify, hash, plan the encryption (worker)
 *     |  ........ not a photo or video .....................> skipped
 *     |  ........ an edit: new content for its Ente file ...> thumbnail
 *     v
 *   dedupe ...... in this album ............................> uploaded
 *     |  ........ in another album: add-files ..............> uploaded
 *     |  ........ its key held by another file: parked, then dedupe again
 *     v
 *   thumbnail and metadata (worker)   (a resumed upload goes straight on)
 *     v
 *   upload, POST /files
 *     v
 *   record ...... uploaded; the files parked on its key dedupe again
 */
#define G_LOG_DOMAIN "eider-engine"
#include "config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include <json-glib/json-glib.h>

#include "eider-engine-private.h"

static void album_cb        (GObject      *object,
                             GAsyncResult *result,
                             gpointer      user_data);
static void find_replaced   (Job          *job);
static void prepare_worker  (GTask        *task,
                             gpointer      source_object,
                             gpointer      task_data,
                             GCancellable *cancellable);
static void prepare_cb      (GObject      *object,
                             GAsyncResult *result,
                             gpointer      user_data);
static void job_dedupe      (Job          *job);
static void add_files_cb    (GObject      *object,
                             GAsyncResult *result,
                             gpointer      user_data);
static void job_describe    (Job          *job);
static void blobs_worker    (GTask        *task,
                             gpointer      source_object,
                             gpointer      task_data,
                             GCancellable *cancellable);
static void blobs_cb        (GObject      *object,
                             GAsyncResult *result,
                             gpointer      user_data);
static void job_upload      (Job          *job);
static void upload_cb       (GObject      *object,
                             GAsyncResult *result,
                             gpointer      user_data);
static void job_uploaded    (Job          *job,
                             gint64        remote_file_id,
                             EiderReason   how);
static void job_skip        (Job          *job,
                             EiderReason   reason);
static void job_fail        (Job          *job,
                             EiderReason   reason,
                             const char   *details);
static void job_fail_error  (Job          *job,
                             const GError *error);
static void job_requeue     (Job          *job);
static void job_done        (Job          *job,
                             EiderFileState state,
                             EiderReason   reason,
                             const char   *details);
static void job_free        (Job          *job);
static void job_dedupe_key  (Job          *job);

/* Ente's dedupe key (type, hash, title) is held by the one file that sends
 * those bytes, for as long as it may still send them: from its dedupe
 * step until it is recorded or skipped, or no upload of those bytes is
 * left in the store — through failures, back-off, pauses and requeues.
 * Every other file with the key waits, parked (it takes no job slot), and
 * then dedupes again against what the owner became. */
typedef struct
{
  gint64     owner;        /* the file record that sends the bytes */
  char      *owner_path;
  char      *hash;
  GPtrArray *waiting;      /* parked Jobs */
} Claim;

static Claim   *claim_key    (EiderEngine *self,
                              Job         *job);
static void     park_job     (Job         *job,
                              Claim       *claim);
static gboolean claim_stands (EiderEngine *self,
                              Claim       *claim);

/* Start: the file as it is now on disk */

static void
cancel_job_cb (GCancellable *run_cancellable,
               gpointer      job_cancellable)
{
  g_cancellable_cancel (job_cancellable);
}

void
_eider_engine_job_start (EiderEngine     *self,
                         EiderFileRecord *record)
{
  g_autoptr(GError) error = NULL;
  struct stat st;
  Job *job;

  job = g_new0 (Job, 1);
  job->engine = g_object_ref (self);
  job->record = record;
  job->title = g_filename_display_basename (record->path);
  job->cancellable = g_cancellable_new ();
  job->run_cancellable = g_object_ref (self->cancellable);
  job->cancel_handler = g_cancellable_connect (job->run_cancellable,
                                               G_CALLBACK (cancel_job_cb),
                                               job->cancellable, NULL);
  self->n_jobs++;
  g_hash_table_insert (self->busy_files, g_memdup2 (&record->id, sizeof record->id), job);

  if (lstat (record->path, &st) != 0)
    {
      /* Gone since the scan: nothing to back up, and nothing remote to
       * touch — deleting locally never deletes from Ente. */
      eider_store_delete_file (self->store, record->id, NULL);
      job_done (job, EIDER_FILE_SKIPPED, EIDER_REASON_GONE, NULL);
      return;
    }

  job->stat.dev = st.st_dev;
  job->stat.inode = st.st_ino;
  job->stat.size = st.st_size;
  job->stat.mtime_ns = (gint64) st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
  job->stat.ctime_ns = (gint64) st.st_ctim.tv_sec * 1000000000 + st.st_ctim.tv_nsec;

  if (!S_ISREG (st.st_mode))
    {
      job_skip (job, EIDER_REASON_NOT_REGULAR);
      return;
    }

  if (!_eider_engine_same_stat (&job->stat, &record->stat))
    {
      gboolean changed = FALSE;

      /* Edited since the scan: record the new stat, drop a stale upload. */
      eider_store_note_file (self->store, record->watch_id, record->path, record->album_name,
                             &job->stat, &changed, NULL);
      eider_store_delete_upload (self->store, record->id, NULL);
    }

  if (!eider_store_set_file_state (self->store, record->id, EIDER_FILE_WORKING, EIDER_REASON_NONE,
                                   NULL, &error))
    _eider_engine_log_store_error (error);
  _eider_engine_emit_file_started (self, record->id, record->path, job->stat.size);

  /* The other half of a live photo, if there is one: the pair is one job. */
  if (_eider_engine_claim_live_partner (job))
    {
      _eider_engine_start_pair_check (job);
      return;
    }

  _eider_engine_job_continue (job);
}

/* A single file: on to its album (or straight to an upload in flight). */
void
_eider_engine_job_continue (Job *job)
{
  EiderEngine *self = job->engine;
  EiderFileRecord *record = job->record;
  g_autoptr(GError) error = NULL;
  g_autoptr(EiderUploadRecord) upload = NULL;

  /* An upload interrupted earlier continues where it stopped, if it is of
   * this very content. */
  upload = eider_store_get_upload (self->store, record->id);
  if (upload != NULL && upload->mtime_ns == job->stat.mtime_ns &&
      upload->plain_size == job->stat.size && upload->hash != NULL &&
      upload->metadata_data != NULL)
    {
      job->collection_id = upload->collection_id;
      job->collection_key = eider_remote_get_collection_key (self->remote, upload->collection_id,
                                                             &error);
      if (upload->replaces_id > 0)
        job->replace = eider_store_get_remote_file (self->store, upload->replaces_id, 0);
      if (job->collection_key != NULL && (upload->replaces_id == 0 || job->replace != NULL))
        {
          job->hash = g_strdup (upload->hash);
          job->file_type = record->file_type;
          job->upload = g_steal_pointer (&upload);
          _eider_engine_job_resume (job);
          return;
        }
      g_clear_error (&error);
    }
  if (upload != NULL)
    eider_store_delete_upload (self->store, record->id, NULL);

  _eider_engine_job_find_album (job);
}

/* The album and its key; an edit: the Ente file whose content it replaces */

/* The album of the file (or the pair), and its key. */
void
_eider_engine_job_find_album (Job *job)
{
  eider_remote_ensure_album_async (job->engine->remote, job->record->album_name, job->cancellable,
                                   album_cb, job);
}

static void
album_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  Job *job = user_data;
  EiderEngine *self = job->engine;
  g_autoptr(GError) error = NULL;
  g_autoptr(GTask) task = NULL;

  job->collection_id = eider_remote_ensure_album_finish (EIDER_REMOTE (object), result, &error);
  g_debug ("%s: album %" G_GINT64_FORMAT, job->record->path, job->collection_id);
  if (job->collection_id == 0)
    {
      _eider_engine_job_error (job, error);
      return;
    }

  job->collection_key = eider_remote_get_collection_key (self->remote, job->collection_id, &error);
  if (job->collection_key == NULL)
    {
      job_fail_error (job, error);
      return;
    }

  find_replaced (job);

  task = g_task_new (NULL, job->cancellable, prepare_cb, job);
  g_task_set_task_data (task, job, NULL);
  g_task_run_in_thread (task, prepare_worker);
}

/* A file backed up before whose content may have changed: by default its
 * Ente file gets the new content in place, as Ente's mobile app does
 * (albums, name and shares kept); a folder may keep both instead. */
static void
find_replaced (Job *job)
{
  EiderEngine *self = job->engine;
  g_autoptr(EiderWatch) watch = NULL;
  g_autoptr(EiderRemoteFileRecord) entry = NULL;
  g_autoptr(GError) error = NULL;
  EiderFileRecord *halves[] = { job->record, job->paired ? job->partner : NULL };

  watch = _eider_engine_find_watch (self, job->record->watch_id);
  if (watch == NULL || watch->keep_edits)
    return;

  /* The same Ente file also stands for another local file (the same photo
   * in two folders, linked by the dedupe): replacing it would lose that
   * one's content. The edit becomes a file of its own. */
  if (eider_store_remote_file_in_use (self->store, job->record->remote_file_id, 0,
                                      job->record->id))
    return;

  /* A live photo replaces the live photo either half was part of; a
   * single file never replaces a live photo (nor a live photo a single
   * file): that one stays, and the new content is a new Ente file. */
  for (guint i = 0; i < G_N_ELEMENTS (halves) && entry == NULL; i++)
    {
      EiderFileRecord *half = halves[i];

      if (half == NULL || half->remote_file_id <= 0)
        continue;

      /* Gone from Ente (deleted there): it is backed up as a new file. */
      entry = eider_store_get_remote_file (self->store, half->remote_file_id, half->collection_id);
      if (entry == NULL)
        entry = eider_store_get_remote_file (self->store, half->remote_file_id, 0);
      if (entry != NULL && (entry->file_type == EIDER_FILE_TYPE_LIVE_PHOTO) != job->paired)
        g_clear_pointer (&entry, eider_remote_file_record_free);
    }
  if (entry == NULL)
    return;

  job->file_key = eider_remote_get_file_key (self->remote, entry->id, entry->collection_id, &error);
  if (job->file_key == NULL)
    {
      g_message ("%s is uploaded as a new file: %s", job->record->path, error->message);
      return;
    }

  job->replace = g_steal_pointer (&entry);
}

/* Prepare: classify, hash and plan the encryption (worker) */

typedef enum
{
  PREPARE_OK,
  PREPARE_NOT_MEDIA,
} PrepareResult;

static void
prepare_worker (GTask        *task,
                gpointer      source_object,
                gpointer      task_data,
                GCancellable *cancellable)
{
  Job *job = task_data;
  guint8 head[EIDER_MEDIA_SNIFF_BYTES];
  gssize n;
  int fd;
  GError *error = NULL;

  if (job->paired)
    {
      if (!_eider_engine_prepare_live_photo (job, cancellable, &error))
        g_task_return_error (task, error);
      else
        g_task_return_int (task, PREPARE_OK);
      return;
    }

  fd = open (job->record->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0)
    {
      int errsv = errno;

      g_task_return_new_error (task, G_IO_ERROR, g_io_error_from_errno (errsv),
                               "Could not read the file: %s", g_strerror (errsv));
      return;
    }
  n = read (fd, head, sizeof head);
  close (fd);
  if (n < 0)
    {
      int errsv = errno;

      g_task_return_new_error (task, G_IO_ERROR, g_io_error_from_errno (errsv),
                               "Could not read the file: %s", g_strerror (errsv));
      return;
    }

  job->file_type = eider_media_classify (head, n, job->record->path);
  if (job->file_type == EIDER_FILE_TYPE_UNKNOWN)
    {
      g_task_return_int (task, PREPARE_NOT_MEDIA);
      return;
    }

  if (!eider_upload_prepare_replacement (job->record->path, &job->stat, job->record->id,
                                         job->replace != NULL ? job->replace->id : 0,
                                         job->collection_id, job->collection_key, job->file_key,
                                         &job->upload, &job->hash, &job->content,
                                         &job->body, NULL, NULL, cancellable, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  g_task_return_int (task, PREPARE_OK);
}

static void
prepare_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  Job *job = user_data;
  EiderEngine *self = job->engine;
  g_autoptr(GError) error = NULL;
  gssize outcome;

  outcome = g_task_propagate_int (G_TASK (result), &error);
  g_debug ("%s: prepared (%d)", job->record->path, (int) outcome);
  if (error != NULL)
    {
      _eider_engine_job_error (job, error);
      return;
    }

  if (outcome == PREPARE_NOT_MEDIA)
    {
      job_skip (job, EIDER_REASON_NOT_MEDIA);
      return;
    }

  if (!eider_store_set_file_hash (self->store, job->record->id, job->hash, job->file_type, &error))
    _eider_engine_log_store_error (error);
  g_clear_error (&error);
  if (job->paired &&
      !eider_store_set_file_hash (self->store, job->partner->id, job->hash, job->file_type, &error))
    _eider_engine_log_store_error (error);

  if (job->replace != NULL)
    {
      /* Touched but not changed: Ente has this content already. */
      if (g_strcmp0 (job->replace->hash, job->hash) == 0)
        {
          job_uploaded (job, job->replace->id, EIDER_REASON_NONE);
          return;
        }
      /* Edited: new content for the same Ente file (no dedupe: it is
       * that file, whatever else holds the same bytes). */
      job_describe (job);
      return;
    }

  /* Any album: the same content in flight for another album is waited for
   * too, so it is linked with add-files instead of uploaded twice. */
  job_dedupe_key (job);
  job_dedupe (job);
}

/* Ente's dedupe (title + type + hash), on the main thread */

/* Ente's dedupe key of the job's content, once its hash is known. */
static void
job_dedupe_key (Job *job)
{
  g_free (job->dedupe_key);
  job->dedupe_key = g_strdup_printf ("%d|%s|%s", job->file_type, job->hash, job->title);
}

/* An upload planned before (an interrupted one, whose plan is in
 * job->upload): new content for an Ente file goes on at once; a new file
 * goes through the dedupe again first — the same bytes may have reached
 * Ente from another file meanwhile, or be on their way from it. */
void
_eider_engine_job_resume (Job *job)
{
  if (job->replace != NULL)
    {
      job_upload (job);
      return;
    }

  job->resuming = TRUE;
  job_dedupe_key (job);
  job_dedupe (job);
}

static void
job_dedupe (Job *job)
{
  EiderEngine *self = job->engine;
  g_autoptr(GPtrArray) dups = NULL;
  g_autoptr(GPtrArray) link = NULL;
  Claim *claim;

  dups = eider_remote_find_duplicates (self->remote, job->title, job->file_type, job->hash);
  for (guint i = 0; i < dups->len; i++)
    {
      EiderRemoteFileRecord *dup = g_ptr_array_index (dups, i);

      if (dup->collection_id == job->collection_id)
        {
          job_uploaded (job, dup->id, _eider_engine_moved_reason (self, job->record->path,
                                                                  EIDER_REASON_ALREADY_IN_ENTE));
          return;
        }
    }

  if (dups->len > 0)
    {
      link = g_ptr_array_new ();
      g_ptr_array_add (link, g_ptr_array_index (dups, 0));
      eider_remote_add_files_async (self->remote, job->collection_id, link, job->cancellable,
                                    add_files_cb, job);
      return;
    }

  /* Not in Ente yet. The same content may be on its way from another file
   * (the same photo in two folders), now or in a job that failed and waits
   * for its retry: wait for it, then dedupe against what it became. Only
   * the key's owner ever sends the bytes. */
  claim = g_hash_table_lookup (self->busy_keys, job->dedupe_key);
  if (claim == NULL)
    claim = claim_key (self, job);
  if (claim->owner != job->record->id)
    {
      park_job (job, claim);
      return;
    }

  if (job->resuming)
    job_upload (job);
  else
    job_describe (job);
}

static void
add_files_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  Job *job = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) dups = NULL;
  EiderRemoteFileRecord *dup;

  if (!eider_remote_add_files_finish (EIDER_REMOTE (object), result, &error))
    {
      _eider_engine_job_error (job, error);
      return;
    }

  dups = eider_remote_find_duplicates (job->engine->remote, job->title, job->file_type, job->hash);
  dup = dups->len > 0 ? g_ptr_array_index (dups, 0) : NULL;
  job_uploaded (job, dup != NULL ? dup->id : 0,
                _eider_engine_moved_reason (job->engine, job->record->path, EIDER_REASON_LINKED));
}

/* The dedupe key: held by the file that sends the bytes */

void
_eider_engine_claim_free (gpointer data)
{
  Claim *claim = data;

  g_free (claim->owner_path);
  g_free (claim->hash);
  g_ptr_array_unref (claim->waiting);
  g_free (claim);
}

/* A claim for the job's key: the job's own, unless another file began an
 * upload of the same bytes (in an earlier run, or before a crash) — that
 * one goes first: it may have sent them already. */
static Claim *
claim_key (EiderEngine *self,
           Job         *job)
{
  g_autoptr(GPtrArray) uploading = NULL;
  g_autoptr(GError) error = NULL;
  Claim *claim = g_new0 (Claim, 1);

  claim->owner = job->record->id;
  claim->owner_path = g_strdup (job->record->path);
  claim->hash = g_strdup (job->hash);
  claim->waiting = g_ptr_array_new ();

  uploading = eider_store_list_uploading_files (self->store, job->hash, &error);
  if (uploading == NULL)
    _eider_engine_log_store_error (error);
  for (guint i = 0; uploading != NULL && i < uploading->len; i++)
    {
      EiderFileRecord *other = g_ptr_array_index (uploading, i);
      g_autofree char *title = g_filename_display_basename (other->path);

      if (other->id == job->record->id || (job->partner != NULL && other->id == job->partner->id) ||
          other->state == EIDER_FILE_UPLOADED || other->state == EIDER_FILE_SKIPPED ||
          other->file_type != job->file_type || !g_str_equal (title, job->title))
        continue;

      claim->owner = other->id;
      g_free (claim->owner_path);
      claim->owner_path = g_strdup (other->path);
      break;
    }

  g_hash_table_insert (self->busy_keys, g_strdup (job->dedupe_key), claim);

  return claim;
}

/* The job waits for the claim's owner without a slot. */
static void
park_job (Job   *job,
          Claim *claim)
{
  EiderEngine *self = job->engine;

  g_debug ("%s: waits for %s", job->record->path, claim->owner_path);
  g_ptr_array_add (claim->waiting, job);
  self->n_jobs--;
  self->n_parked++;
  _eider_engine_pump (self);
  _eider_engine_update_busy (self);
}

/* Whether the claim's owner may still send its bytes: an upload of them
 * is in the store. */
static gboolean
claim_stands (EiderEngine *self,
              Claim       *claim)
{
  g_autoptr(EiderUploadRecord) upload = eider_store_get_upload (self->store, claim->owner);

  return upload != NULL && upload->replaces_id == 0 && g_strcmp0 (upload->hash, claim->hash) == 0;
}

/* After the file @file_id's job (or its removal): its claims that no
 * longer stand — @settled (it is in Ente, skipped or gone), or no upload
 * of the bytes is left — let their waiters go on. Each dedupes again,
 * against what the owner became; one may become the owner. */
void
_eider_engine_release_claims (EiderEngine *self,
                              gint64       file_id,
                              gboolean     settled)
{
  g_autoptr(GPtrArray) released = g_ptr_array_new_with_free_func (_eider_engine_claim_free);
  GHashTableIter iter;
  gpointer key, value;

  if (self->busy_keys == NULL)
    return;

  g_hash_table_iter_init (&iter, self->busy_keys);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      Claim *claim = value;

      if (claim->owner != file_id || (!settled && claim_stands (self, claim)))
        continue;
      /* The claim goes on to its waiters below; its key is done. */
      g_hash_table_iter_steal (&iter);
      g_free (key);
      g_ptr_array_add (released, claim);
    }

  for (guint i = 0; i < released->len; i++)
    {
      Claim *claim = g_ptr_array_index (released, i);

      for (guint j = 0; j < claim->waiting->len; j++)
        {
          Job *job = g_ptr_array_index (claim->waiting, j);

          self->n_parked--;
          self->n_jobs++;
          job_dedupe (job);
        }
      g_ptr_array_set_size (claim->waiting, 0);
    }
}

/* The run ends while jobs wait for a dedupe key: back to pending
 * (stopped, paused), or failed for this run when the key's owner will not
 * be tried again in it — never uploaded in its stead. Each job ends
 * through job_done, whose pump ends the run after the last one. */
void
_eider_engine_end_parked (EiderEngine *self,
                          gboolean     requeue)
{
  g_autoptr(GPtrArray) parked = g_ptr_array_new ();
  g_autoptr(GPtrArray) owners = g_ptr_array_new_with_free_func (g_free);
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->busy_keys);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Claim *claim = value;

      for (guint i = 0; i < claim->waiting->len; i++)
        {
          g_ptr_array_add (parked, g_ptr_array_index (claim->waiting, i));
          g_ptr_array_add (owners, g_filename_display_name (claim->owner_path));
        }
      g_ptr_array_set_size (claim->waiting, 0);
    }

  self->n_jobs += parked->len;
  self->n_parked = 0;
  for (guint i = 0; i < parked->len; i++)
    {
      Job *job = g_ptr_array_index (parked, i);

      if (requeue)
        {
          job_requeue (job);
          continue;
        }

      /* Its last attempt in this run: the next run tries again. */
      g_hash_table_insert (self->run_attempts, g_memdup2 (&job->record->id, sizeof (gint64)),
                           GUINT_TO_POINTER (self->max_attempts - 1));
      job_fail (job, EIDER_REASON_DUPLICATE_NOT_UPLOADED, g_ptr_array_index (owners, i));
    }
}

/* Thumbnail and metadata (worker) */

static void
job_describe (Job *job)
{
  g_autoptr(GTask) task = g_task_new (NULL, job->cancellable, blobs_cb, job);

  g_task_set_task_data (task, job, NULL);
  g_task_run_in_thread (task, blobs_worker);
}

static void
blobs_worker (GTask        *task,
              gpointer      source_object,
              gpointer      task_data,
              GCancellable *cancellable)
{
  Job *job = task_data;
  g_auto(EiderMediaMetadata) md = { 0 };
  g_autoptr(GBytes) thumbnail = NULL;
  g_autofree char *json = NULL;
  g_autofree char *pubmm = NULL;
  guint pubmm_count = 0;
  GError *error = NULL;

  /* Dates, place, camera and a thumbnail, as Ente's apps read them; a
   * live photo's come from its image (read already to pair it). */
  if (job->paired && job->live_md != NULL)
    {
      md = *job->live_md;
      g_clear_pointer (&job->live_md, g_free);
      thumbnail = g_steal_pointer (&job->live_thumb);
    }
  else if (!eider_media_describe (job->record->path, job->paired ? NULL : job->content,
                                  job->file_type, _eider_engine_mtime_ms_us (&job->stat), &md, &thumbnail,
                                  cancellable, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  md.file_type = job->file_type;
  md.title = g_strdup (job->title);
  md.hash = g_strdup (job->hash);
  job->placeholder = md.has_static_thumbnail;
  job->creation_time = md.creation_time;
  json = eider_media_metadata_to_json (&md);
  /* New content of an Ente file leaves its public metadata alone (the
   * update endpoint does not take it, and the user may have edited it). */
  if (job->replace == NULL)
    pubmm = eider_media_public_magic_to_json (&md, &pubmm_count);

  if (!eider_upload_record_set_blobs (job->upload, job->collection_key, json, pubmm, pubmm_count,
                                      thumbnail, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
blobs_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  Job *job = user_data;
  g_autoptr(GError) error = NULL;

  g_debug ("%s: thumbnail and metadata ready", job->record->path);
  /* The plaintext served the thumbnail; only its ciphertext is sent. */
  g_clear_pointer (&job->content, g_bytes_unref);
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      _eider_engine_job_error (job, error);
      return;
    }

  /* Persist everything needed to resume before any byte is sent. */
  if (!eider_store_save_upload (job->engine->store, job->upload, &error))
    {
      job_fail_error (job, error);
      return;
    }

  job_upload (job);
}

/* Upload and register */

static void
job_upload (Job *job)
{
  EiderEngine *self = job->engine;

  /* A live photo's body is its zip. */
  eider_uploader_upload_async (self->uploader, job->upload,
                               job->paired ? job->zip_path : job->record->path, job->body,
                               job->collection_key, job->cancellable, upload_cb, job);
}

static void
upload_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  Job *job = user_data;
  EiderEngine *self = job->engine;
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(GError) error = NULL;
  gint64 remote_id;

  node = eider_uploader_upload_finish (EIDER_UPLOADER (object), result, &error);
  g_debug ("%s: uploaded (%s)", job->record->path, error != NULL ? error->message : "ok");
  if (node == NULL)
    {
      _eider_engine_job_error (job, error);
      return;
    }

  remote_id = JSON_NODE_HOLDS_OBJECT (node)
              ? json_object_get_int_member_with_default (json_node_get_object (node), "id", 0) : 0;
  if (remote_id <= 0)
    {
      job_fail (job, EIDER_REASON_NO_FILE_ID, NULL);
      return;
    }

  if (job->replace != NULL)
    {
      EiderRemoteFileRecord *entry = job->replace;

      /* The same Ente file, in all its albums, with the new content. */
      g_free (entry->hash);
      entry->hash = g_strdup (job->upload->hash);
      g_free (entry->file_header);
      entry->file_header = g_strdup (job->upload->file_header);
      entry->file_size = job->upload->encrypted_size;
      entry->updation_time = json_object_get_int_member_with_default (json_node_get_object (node),
                                                                      "updationTime", 0);
      if (!eider_store_update_remote_file (self->store, entry, &error))
        g_warning ("Could not note a replaced file in the index: %s", error->message);
      job_uploaded (job, entry->id, EIDER_REASON_REPLACED);
      return;
    }

  if (!eider_remote_note_uploaded (self->remote, job->collection_id, node, job->title,
                                   job->file_type,
                                   job->upload->hash,
                                   job->creation_time != 0 ? job->creation_time
                                                           : job->stat.mtime_ns / 1000,
                                   &error))
    g_warning ("Could not add an uploaded file to the index: %s", error->message);

  job_uploaded (job, remote_id, EIDER_REASON_NONE);
}

/* Record: how a job ends */

static void
job_uploaded (Job         *job,
              gint64       remote_file_id,
              EiderReason  how)
{
  EiderEngine *self = job->engine;
  g_autoptr(GError) error = NULL;
  g_autofree char *partner_details = NULL;
  EiderReason partner_how = EIDER_REASON_NONE;

  /* Both halves of a live photo stand for the one Ente file. */
  if (job->partner != NULL)
    partner_how = _eider_engine_live_partner_reason (job, EIDER_FILE_UPLOADED, how, NULL,
                                                     &partner_details);

  if (!eider_store_begin (self->store, &error))
    _eider_engine_log_store_error (error);
  else if (!eider_store_set_file_uploaded (self->store, job->record->id, remote_file_id,
                                           job->collection_id, how, NULL, &error) ||
           !eider_store_delete_upload (self->store, job->record->id, &error) ||
           (job->partner != NULL &&
            (!eider_store_set_file_uploaded (self->store, job->partner->id, remote_file_id,
                                             job->collection_id, partner_how, partner_details,
                                             &error) ||
             !eider_store_delete_upload (self->store, job->partner->id, &error))) ||
           !eider_store_commit (self->store, &error))
    {
      eider_store_rollback (self->store);
      _eider_engine_log_store_error (error);
    }

  /* Recorded: the zip is not needed any more. */
  if (job->zip_path != NULL)
    g_unlink (job->zip_path);

  job_done (job, EIDER_FILE_UPLOADED, how, NULL);
}

static void
job_skip (Job         *job,
          EiderReason  reason)
{
  g_autoptr(GError) error = NULL;

  eider_store_delete_upload (job->engine->store, job->record->id, NULL);
  if (!eider_store_set_file_state (job->engine->store, job->record->id, EIDER_FILE_SKIPPED,
                                   reason, NULL, &error))
    _eider_engine_log_store_error (error);
  if (job->partner != NULL)
    {
      g_clear_error (&error);
      if (!eider_store_set_file_state (job->engine->store, job->partner->id, EIDER_FILE_SKIPPED,
                                       reason, NULL, &error))
        _eider_engine_log_store_error (error);
    }
  if (job->zip_path != NULL)
    g_unlink (job->zip_path);
  job_done (job, EIDER_FILE_SKIPPED, reason, NULL);
}

static void
job_fail (Job         *job,
          EiderReason  reason,
          const char  *details)
{
  EiderEngine *self = job->engine;
  g_autoptr(GError) error = NULL;
  gint64 next = g_get_real_time () + _eider_engine_retry_delay_us (self, job->record->attempts);
  gint64 file_id = job->record->id;
  guint run_attempts = GPOINTER_TO_UINT (g_hash_table_lookup (self->run_attempts, &file_id));

  g_hash_table_insert (self->run_attempts, g_memdup2 (&file_id, sizeof file_id),
                       GUINT_TO_POINTER (run_attempts + 1));
  if (!eider_store_set_file_failed (self->store, file_id, reason, details, next, &error))
    _eider_engine_log_store_error (error);
  if (job->partner != NULL)
    {
      /* The two halves are retried together: the same count, the same time. */
      g_hash_table_insert (self->run_attempts, g_memdup2 (&job->partner->id, sizeof (gint64)),
                           GUINT_TO_POINTER (run_attempts + 1));
      g_clear_error (&error);
      if (!eider_store_set_file_failed (self->store, job->partner->id, reason, details, next,
                                        &error))
        _eider_engine_log_store_error (error);
    }
  job_done (job, EIDER_FILE_FAILED, reason, details);
}

/* Failed by an error: its message says what happened. */
static void
job_fail_error (Job          *job,
                const GError *error)
{
  job_fail (job, eider_reason_for_error (error), error->message);
}

/* Back to pending, untouched: the engine stopped or paused under it. */
static void
job_requeue (Job *job)
{
  g_autoptr(GError) error = NULL;

  if (!eider_store_set_file_state (job->engine->store, job->record->id, EIDER_FILE_PENDING,
                                   EIDER_REASON_NONE, NULL, &error))
    _eider_engine_log_store_error (error);
  if (job->partner != NULL)
    {
      g_clear_error (&error);
      if (!eider_store_set_file_state (job->engine->store, job->partner->id, EIDER_FILE_PENDING,
                                       EIDER_REASON_NONE, NULL, &error))
        _eider_engine_log_store_error (error);
    }
  job_done (job, EIDER_FILE_PENDING, EIDER_REASON_NONE, NULL);
}

/* One place decides what an error means for the file and for the run. */
void
_eider_engine_job_error (Job    *job,
                         GError *error)
{
  EiderEngine *self = job->engine;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      /* Stopped: the file keeps its last persisted state. */
      job_done (job, EIDER_FILE_WORKING, EIDER_REASON_NONE, NULL);
      return;
    }

  if (error->domain == EIDER_API_ERROR)
    {
      switch (error->code)
        {
        case EIDER_API_ERROR_UNAUTHORIZED:
          _eider_engine_set_pause_reason (self, "The Ente session has ended: log in again");
          job_requeue (job);
          return;

        case EIDER_API_ERROR_STORAGE_FULL:
          _eider_engine_set_pause_reason (self, "Your Ente storage is full: free up space or upgrade your plan");
          job_requeue (job);
          return;

        case EIDER_API_ERROR_PAYMENT_REQUIRED:
          _eider_engine_set_pause_reason (self, "Your Ente subscription has expired");
          job_requeue (job);
          return;

        case EIDER_API_ERROR_TOO_LARGE:
          job_skip (job, EIDER_REASON_TOO_LARGE);
          return;

        default:
          break;
        }
    }

  if (error->domain == EIDER_UPLOAD_ERROR)
    {
      switch (error->code)
        {
        case EIDER_UPLOAD_ERROR_EMPTY:
          job_skip (job, EIDER_REASON_EMPTY);
          return;

        case EIDER_UPLOAD_ERROR_TOO_LARGE:
          job_skip (job, EIDER_REASON_TOO_LARGE);
          return;

        case EIDER_UPLOAD_ERROR_NOT_REGULAR:
          job_skip (job, EIDER_REASON_NOT_REGULAR);
          return;

        case EIDER_UPLOAD_ERROR_CHANGED:
          /* Not recorded against the old content: the next attempt reads
           * the new one. */
          eider_store_delete_upload (self->store, job->record->id, NULL);
          job_fail (job, EIDER_REASON_CHANGED, NULL);
          return;

        default:
          break;
        }
    }

  job_fail_error (job, error);
}

static void
job_done (Job             *job,
          EiderFileState   state,
          EiderReason      reason,
          const char      *details)
{
  EiderEngine *self = job->engine;
  gint64 file_id = job->record->id;
  g_autofree char *partner_details = NULL;
  EiderReason partner_reason;

  _eider_engine_emit_file_finished (self, file_id, job->record->path, state, reason, details,
                                    job->stat.size);
  if (job->partner != NULL)
    {
      partner_reason = _eider_engine_live_partner_reason (job, state, reason, details,
                                                          &partner_details);
      _eider_engine_emit_file_finished (self, job->partner->id, job->partner->path, state,
                                        partner_reason, partner_details, job->partner_stat.size);
    }

  /* A moved file is at its new place now: its old place can go. */
  if (state == EIDER_FILE_UPLOADED || state == EIDER_FILE_SKIPPED)
    {
      _eider_engine_finish_move (self, job->record->path);
      if (job->partner != NULL)
        _eider_engine_finish_move (self, job->partner->path);
    }

  _eider_engine_release_claims (self, file_id,
                                state == EIDER_FILE_UPLOADED || state == EIDER_FILE_SKIPPED);
  g_hash_table_remove (self->busy_files, &file_id);
  if (job->partner != NULL)
    g_hash_table_remove (self->busy_files, &job->partner->id);
  self->n_jobs--;
  job_free (job);
  _eider_engine_pump (self);
  _eider_engine_update_busy (self);
}

static void
job_free (Job *job)
{
  g_clear_pointer (&job->record, eider_file_record_free);
  g_free (job->title);
  g_clear_pointer (&job->collection_key, eider_secret_free);
  g_clear_pointer (&job->upload, eider_upload_record_free);
  g_clear_pointer (&job->content, g_bytes_unref);
  g_clear_pointer (&job->body, g_bytes_unref);
  g_free (job->hash);
  g_free (job->dedupe_key);
  g_clear_pointer (&job->replace, eider_remote_file_record_free);
  g_clear_pointer (&job->file_key, eider_secret_free);
  g_clear_pointer (&job->partner, eider_file_record_free);
  g_free (job->zip_path);
  g_clear_pointer (&job->resume, eider_upload_record_free);
  g_clear_pointer (&job->live_md, _eider_engine_live_md_free);
  g_clear_pointer (&job->live_thumb, g_bytes_unref);
  if (job->run_cancellable != NULL)
    g_cancellable_disconnect (job->run_cancellable, job->cancel_handler);
  g_clear_object (&job->run_cancellable);
  g_clear_object (&job->cancellable);
  g_clear_object (&job->engine);
  g_free (job);
}
